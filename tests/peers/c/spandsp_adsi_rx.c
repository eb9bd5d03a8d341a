/* Decodes caller ID audio with spandsp's ADSI receiver.
 * Usage: spandsp_adsi_rx <class|clip>  < raw little-endian int16 samples at 8 kHz
 * For every message received prints
 *   msg <hex bytes as delivered>
 *   field <code hex> <value hex>      (one line per field, from adsi_next_field)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <spandsp.h>

static adsi_rx_state_t *rx;

static void hex(const uint8_t *p, int n)
{
    int i;
    for (i = 0; i < n; i++) printf("%02x", p[i]);
}

static void put_msg(void *user_data, const uint8_t *msg, int len)
{
    int pos = -1, field_len;
    uint8_t field_type;
    const uint8_t *body;

    (void) user_data;
    printf("msg ");
    hex(msg, len);
    printf("\n");
    for (;;) {
        pos = adsi_next_field(rx, msg, len, pos, &field_type, &body, &field_len);
        if (field_len < 0) break;
        printf("field %02x ", field_type);
        if (body != NULL) hex(body, field_len);
        printf("\n");
        if (pos <= 0 || pos >= len) break;
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int16_t amp[160];
    size_t n;
    int standard;

    if (argc < 2) {
        fprintf(stderr, "usage: %s <class|clip>\n", argv[0]);
        return 2;
    }
    standard = strcmp(argv[1], "class") == 0 ? ADSI_STANDARD_CLASS : ADSI_STANDARD_CLIP;
    rx = adsi_rx_init(NULL, standard, put_msg, NULL);
    if (rx == NULL) return 1;
    while ((n = fread(amp, sizeof(int16_t), 160, stdin)) > 0) adsi_rx(rx, amp, (int) n);
    adsi_rx_free(rx);
    return 0;
}
