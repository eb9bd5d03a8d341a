/* Caller ID audio from spandsp's ADSI transmitter.
 * Usage: spandsp_adsi_tx <class|clip> <sdmf|mdmf> [field=value ...]
 *   fields: dt=MMDDHHMM num=DIGITS numabs=O|P name=TEXT nameabs=O|P
 *   (SDMF takes dt and num or numabs, in that order.)
 * Writes 100 ms of silence, the FSK burst (seizure, mark, message), 100 ms of silence as
 * raw little-endian int16 samples at 8 kHz on stdout. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <spandsp.h>

static int field_code(const char *key)
{
    if (strcmp(key, "dt") == 0) return CLIP_DATETIME;
    if (strcmp(key, "num") == 0) return CLIP_CALLER_NUMBER;
    if (strcmp(key, "numabs") == 0) return CLIP_ABSENCE1;
    if (strcmp(key, "name") == 0) return CLIP_CALLER_NAME;
    if (strcmp(key, "nameabs") == 0) return CLIP_ABSENCE2;
    return -1;
}

int main(int argc, char **argv)
{
    int16_t amp[160];
    uint8_t msg[256];
    int len, i, n, standard, sdmf;
    adsi_tx_state_t *tx;

    if (argc < 3) {
        fprintf(stderr, "usage: %s <class|clip> <sdmf|mdmf> [field=value ...]\n", argv[0]);
        return 2;
    }
    standard = strcmp(argv[1], "class") == 0 ? ADSI_STANDARD_CLASS : ADSI_STANDARD_CLIP;
    sdmf = strcmp(argv[2], "sdmf") == 0;
    tx = adsi_tx_init(NULL, standard);
    if (tx == NULL) return 1;
    len = adsi_add_field(tx, msg, 0, sdmf ? CLASS_SDMF_CALLERID : CLASS_MDMF_CALLERID, NULL, 0);
    for (i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        int code;
        if (eq == NULL) return 2;
        *eq = '\0';
        code = field_code(argv[i]);
        if (code < 0) {
            fprintf(stderr, "unknown field %s\n", argv[i]);
            return 2;
        }
        /* SDMF bodies are bare values: spandsp appends them without code and length when
           the field type is 0. */
        len = adsi_add_field(tx, msg, len, sdmf ? 0 : (uint8_t) code, (const uint8_t *) eq + 1,
                             (int) strlen(eq + 1));
        if (len < 0) return 1;
    }
    if (adsi_tx_put_message(tx, msg, len) <= 0) {
        fprintf(stderr, "adsi_tx_put_message failed\n");
        return 1;
    }
    memset(amp, 0, sizeof(amp));
    for (i = 0; i < 5; i++) fwrite(amp, sizeof(int16_t), 160, stdout);
    while ((n = adsi_tx(tx, amp, 160)) > 0) {
        fwrite(amp, sizeof(int16_t), n, stdout);
        if (n < 160) break;
    }
    memset(amp, 0, sizeof(amp));
    for (i = 0; i < 5; i++) fwrite(amp, sizeof(int16_t), 160, stdout);
    adsi_tx_free(tx);
    return 0;
}
