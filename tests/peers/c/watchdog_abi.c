/* Prints the Linux watchdog ioctl numbers hal/rpi mirrors, as "NAME VALUE" lines, from the
 * kernel header <linux/watchdog.h>. Used by hal/rpi/tests/watchdog_abi.rs. */
#include <stdio.h>
#include <linux/watchdog.h>

#define C(name) printf("%s %lld\n", #name, (long long)(name))
#define R(name) printf("%s %lld\n", #name, (long long)(unsigned int)(name))

int main(void)
{
	C(WATCHDOG_IOCTL_BASE);
	R(WDIOC_KEEPALIVE);
	R(WDIOC_SETTIMEOUT);
	R(WDIOC_GETTIMEOUT);
	return 0;
}
