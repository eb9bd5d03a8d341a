/* DTMF from spandsp's dtmf_tx, optionally with spandsp awgn noise added.
 * Usage: spandsp_dtmf_tx DIGITS LEVEL_DBM0 TWIST_DB ON_MS OFF_MS NOISE_DBM0 [LEAD_MS]
 *   LEVEL is the low-group level; TWIST is passed to dtmf_tx_set_level unchanged.
 *   NOISE_DBM0 <= -99 means no noise. LEAD_MS of silence (default 100) precedes the
 *   digits and 200 ms follow them.
 * Output: raw signed 16-bit little-endian samples at 8 kHz on stdout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: %s DIGITS LEVEL TWIST ON_MS OFF_MS NOISE_DBM0 [LEAD_MS]\n", argv[0]);
        return 2;
    }
    const char *digits = argv[1];
    int level = atoi(argv[2]);
    int twist = atoi(argv[3]);
    int on = atoi(argv[4]);
    int off = atoi(argv[5]);
    float noise = (float) atof(argv[6]);
    int lead = argc > 7 ? atoi(argv[7]) : 100;
    int total = lead * 8 + (int) strlen(digits) * (on + off) * 8 + 1600;
    int16_t *buf = calloc((size_t) total, sizeof(int16_t));
    dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
    dtmf_tx_set_level(tx, level, twist);
    dtmf_tx_set_timing(tx, on, off);
    dtmf_tx_put(tx, digits, -1);
    int pos = lead * 8;
    while (pos < total) {
        int n = dtmf_tx(tx, buf + pos, total - pos > 160 ? 160 : total - pos);
        if (n <= 0) break;
        pos += n;
    }
    if (noise > -99.0f) {
        awgn_state_t *g = awgn_init_dbm0(NULL, 1234567, noise);
        for (int i = 0; i < total; i++) buf[i] = saturate(buf[i] + awgn(g));
        awgn_free(g);
    }
    fwrite(buf, sizeof(int16_t), (size_t) total, stdout);
    dtmf_tx_free(tx);
    free(buf);
    return 0;
}
