/* Prints the DAHDI ioctl numbers, constants and struct layouts that hal/dahdi mirrors, as
 * "NAME VALUE" lines, straight from the kernel header <dahdi/user.h>.
 * Used by hal/dahdi/tests/dahdi_abi.rs; build with -I<dahdi include dir>. */
#include <stddef.h>
#include <stdio.h>
#include <dahdi/user.h>

#define C(name) printf("%s %lld\n", #name, (long long)(name))
#define R(name) printf("%s %lld\n", #name, (long long)(unsigned int)(name))
#define SIZE(s) printf("sizeof(%s) %zu\n", #s, sizeof(struct s))
#define OFF(s, f) printf("offsetof(%s.%s) %zu\n", #s, #f, offsetof(struct s, f))

int main(void)
{
	C(DAHDI_CODE);
	R(DAHDI_SET_BLOCKSIZE);
	R(DAHDI_FLUSH);
	R(DAHDI_GET_PARAMS);
	R(DAHDI_HOOK);
	R(DAHDI_GETEVENT);
	R(DAHDI_SETGAINS);
	R(DAHDI_SPECIFY);
	R(DAHDI_SETLAW);
	C(ELAST);
	C(DAHDI_LAW_DEFAULT);
	C(DAHDI_LAW_MULAW);
	C(DAHDI_LAW_ALAW);
	C(DAHDI_ONHOOK);
	C(DAHDI_OFFHOOK);
	C(DAHDI_FLASH);
	C(DAHDI_FLUSH_READ);
	C(DAHDI_FLUSH_WRITE);
	C(DAHDI_FLUSH_EVENT);
	C(DAHDI_FLUSH_ALL);
	C(DAHDI_EVENT_NONE);
	C(DAHDI_EVENT_ONHOOK);
	C(DAHDI_EVENT_RINGOFFHOOK);
	C(DAHDI_EVENT_ALARM);
	C(DAHDI_EVENT_NOALARM);
	C(DAHDI_EVENT_OVERRUN);
	C(DAHDI_EVENT_RINGEROFF);
	C(DAHDI_EVENT_HOOKCOMPLETE);
	C(DAHDI_EVENT_POLARITY);
	C(DAHDI_EVENT_RINGBEGIN);
	C(DAHDI_EVENT_REMOVED);
	C(DAHDI_EVENT_READ_OVERRUN);
	C(DAHDI_EVENT_WRITE_UNDERRUN);
	C(DAHDI_SIG_FXSLS);
	C(DAHDI_SIG_FXSKS);
	R(DAHDI_SPANCONFIG);
	R(DAHDI_CHANCONFIG);
	R(DAHDI_CHANNO);
	R(DAHDI_GETRXBITS);
	R(DAHDI_SETTXBITS);
	R(DAHDI_STARTUP);
	R(DAHDI_SHUTDOWN);
	C(DAHDI_CONFIG_AMI);
	C(DAHDI_CONFIG_B8ZS);
	C(DAHDI_CONFIG_CCS);
	C(DAHDI_CONFIG_HDB3);
	C(DAHDI_CONFIG_CRC4);
	C(DAHDI_SIG_CLEAR);
	C(DAHDI_SIG_HDLCRAW);
	C(DAHDI_SIG_HDLCFCS);
	C(DAHDI_SIG_CAS);
	C(DAHDI_ABIT);
	C(DAHDI_BBIT);
	C(DAHDI_CBIT);
	C(DAHDI_DBIT);
	C(DAHDI_EVENT_ABORT);
	C(DAHDI_EVENT_BADFCS);
	C(DAHDI_EVENT_BITSCHANGED);

	SIZE(dahdi_lineconfig);
	OFF(dahdi_lineconfig, span);
	OFF(dahdi_lineconfig, name);
	OFF(dahdi_lineconfig, lbo);
	OFF(dahdi_lineconfig, lineconfig);
	OFF(dahdi_lineconfig, sync);
	SIZE(dahdi_chanconfig);
	OFF(dahdi_chanconfig, chan);
	OFF(dahdi_chanconfig, name);
	OFF(dahdi_chanconfig, sigtype);
	OFF(dahdi_chanconfig, deflaw);
	OFF(dahdi_chanconfig, master);
	OFF(dahdi_chanconfig, idlebits);
	OFF(dahdi_chanconfig, netdev_name);

	SIZE(dahdi_params);
	OFF(dahdi_params, channo);
	OFF(dahdi_params, spanno);
	OFF(dahdi_params, chanpos);
	OFF(dahdi_params, sigtype);
	OFF(dahdi_params, sigcap);
	OFF(dahdi_params, rxisoffhook);
	OFF(dahdi_params, rxbits);
	OFF(dahdi_params, txbits);
	OFF(dahdi_params, txhooksig);
	OFF(dahdi_params, rxhooksig);
	OFF(dahdi_params, curlaw);
	OFF(dahdi_params, idlebits);
	OFF(dahdi_params, name);
	OFF(dahdi_params, prewinktime);
	OFF(dahdi_params, preflashtime);
	OFF(dahdi_params, winktime);
	OFF(dahdi_params, flashtime);
	OFF(dahdi_params, starttime);
	OFF(dahdi_params, rxwinktime);
	OFF(dahdi_params, rxflashtime);
	OFF(dahdi_params, debouncetime);
	OFF(dahdi_params, pulsebreaktime);
	OFF(dahdi_params, pulsemaketime);
	OFF(dahdi_params, pulseaftertime);
	OFF(dahdi_params, chan_alarms);

	SIZE(dahdi_gains);
	OFF(dahdi_gains, chan);
	OFF(dahdi_gains, rxgain);
	OFF(dahdi_gains, txgain);
	return 0;
}
