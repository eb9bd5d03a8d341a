/* Cadenced tones from spandsp's tone_gen, optionally with spandsp awgn noise added.
 * Usage: spandsp_tone_gen NOISE_DBM0 SEGMENT...
 *   SEGMENT = f1,l1,f2,l2,d1,d2,d3,d4,total_ms : one tone_gen_descriptor_init() call
 *   (frequencies in Hz, levels in dBm0, on/off durations d1..d4 in ms, repeating) run for
 *   total_ms. f1 = 0 gives silence. NOISE_DBM0 <= -99 means no noise.
 * Output: raw signed 16-bit little-endian samples at 8 kHz on stdout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <spandsp.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s NOISE_DBM0 f1,l1,f2,l2,d1,d2,d3,d4,total_ms...\n", argv[0]);
        return 2;
    }
    float noise = (float) atof(argv[1]);
    awgn_state_t *g = noise > -99.0f ? awgn_init_dbm0(NULL, 7654321, noise) : NULL;
    int16_t buf[160];
    for (int a = 2; a < argc; a++) {
        int v[9];
        if (sscanf(argv[a], "%d,%d,%d,%d,%d,%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7], &v[8]) != 9) {
            fprintf(stderr, "bad segment %s\n", argv[a]);
            return 2;
        }
        tone_gen_descriptor_t *d = NULL;
        tone_gen_state_t *t = NULL;
        if (v[0] > 0) {
            d = tone_gen_descriptor_init(NULL, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], 1);
            t = tone_gen_init(NULL, d);
        }
        int left = v[8] * 8;
        while (left > 0) {
            int n = left > 160 ? 160 : left;
            for (int i = 0; i < n; i++) buf[i] = 0;
            if (t) tone_gen(t, buf, n);
            if (g)
                for (int i = 0; i < n; i++) buf[i] = saturate(buf[i] + awgn(g));
            fwrite(buf, sizeof(int16_t), (size_t) n, stdout);
            left -= n;
        }
        if (t) tone_gen_free(t);
        if (d) tone_gen_descriptor_free(d);
    }
    if (g) awgn_free(g);
    return 0;
}
