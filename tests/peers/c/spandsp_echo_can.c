/* Runs spandsp's G.168 line echo canceller over a recorded signal and times it.
 * Usage: spandsp_echo_can <taps> <in.raw> <out.raw> <seconds.txt>
 *   in.raw:  little-endian int16 pairs (tx = reference sent to the line, rx = returned)
 *   out.raw: the cleaned rx, int16
 * Adaptation only (no NLP, CNG, clipping or high-pass filters), so the output shows the
 * linear canceller's ERLE. Writes the processing time in seconds to seconds.txt.
 * Debian's libspandsp2 0.0.6 prints debugging lines from echo_can_update() to stdout for
 * every sample; stdout goes to /dev/null, but that formatting is part of the time measured. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <spandsp.h>

int main(int argc, char **argv)
{
    FILE *f;
    long n, i;
    int16_t *in, *out;
    echo_can_state_t *ec;
    struct timespec t0, t1;

    if (argc < 5) return 2;
    if (freopen("/dev/null", "w", stdout) == NULL) return 1;
    f = fopen(argv[2], "rb");
    if (f == NULL) return 1;
    fseek(f, 0, SEEK_END);
    n = ftell(f) / 4;
    fseek(f, 0, SEEK_SET);
    in = malloc(n * 4);
    out = malloc(n * 2);
    if (in == NULL || out == NULL || fread(in, 4, n, f) != (size_t) n) return 1;
    fclose(f);
    ec = echo_can_init(atoi(argv[1]), ECHO_CAN_USE_ADAPTION);
    if (ec == NULL) return 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < n; i++) out[i] = echo_can_update(ec, in[2 * i], in[2 * i + 1]);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    f = fopen(argv[4], "w");
    if (f == NULL) return 1;
    fprintf(f, "%.9f\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
    fclose(f);
    f = fopen(argv[3], "wb");
    if (f == NULL) return 1;
    fwrite(out, 2, n, f);
    fclose(f);
    echo_can_free(ec);
    free(in);
    free(out);
    return 0;
}
