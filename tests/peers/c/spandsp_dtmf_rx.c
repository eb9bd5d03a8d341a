/* spandsp's dtmf_rx as a reference receiver.
 * Usage: spandsp_dtmf_rx            read raw s16le 8 kHz samples from stdin, print digits.
 *        spandsp_dtmf_rx FILE REPS  benchmark: run the whole file through a fresh receiver
 *                                   REPS times in 160-sample chunks, timing with
 *                                   clock_gettime(CLOCK_MONOTONIC); prints
 *                                   "<ns> <samples> <digits>" (digits of the last pass). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spandsp.h>

static char got[4096];
static size_t ngot;

static void digits_cb(void *user, const char *d, int len)
{
    (void) user;
    for (int i = 0; i < len && ngot + 1 < sizeof(got); i++) got[ngot++] = d[i];
    got[ngot] = 0;
}

static int16_t *read_all(FILE *f, size_t *n)
{
    size_t cap = 1 << 16, len = 0;
    int16_t *b = malloc(cap * sizeof(int16_t));
    size_t r;
    while ((r = fread(b + len, sizeof(int16_t), cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            cap *= 2;
            b = realloc(b, cap * sizeof(int16_t));
        }
    }
    *n = len;
    return b;
}

static void run(const int16_t *x, size_t n)
{
    dtmf_rx_state_t *rx = dtmf_rx_init(NULL, digits_cb, NULL);
    ngot = 0;
    got[0] = 0;
    for (size_t i = 0; i < n; i += 160) {
        size_t k = n - i < 160 ? n - i : 160;
        dtmf_rx(rx, x + i, (int) k);
    }
    dtmf_rx_free(rx);
}

int main(int argc, char **argv)
{
    size_t n;
    if (argc >= 3) {
        FILE *f = fopen(argv[1], "rb");
        if (!f) { perror(argv[1]); return 1; }
        int16_t *x = read_all(f, &n);
        fclose(f);
        int reps = atoi(argv[2]);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int r = 0; r < reps; r++) run(x, n);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long long ns = (long long) (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
        printf("%lld %llu %s\n", ns, (unsigned long long) n * (unsigned long long) reps, got);
        free(x);
        return 0;
    }
    int16_t *x = read_all(stdin, &n);
    run(x, n);
    printf("%s\n", got);
    free(x);
    return 0;
}
