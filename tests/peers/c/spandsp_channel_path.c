/* One telephone line's real-time receive/transmit DSP path built from spandsp, timed per
 * channel-frame, as the reference for firmware/dsp/benches/channel_path.rs.
 *
 * Usage: spandsp_channel_path <line.alaw> <prompt.s16> <channels> <stride> <clean0.s16>
 *   line.alaw:  A-law bytes received from the line (caller + echo of the prompt)
 *   prompt.s16: little-endian int16, the prompt we send (the echo canceller's reference),
 *               the same number of samples
 *   channels:   channel states kept; frame f of channel c is frame (c*stride + f) mod frames
 *   clean0.s16: written with channel 0's echo-cancelled signal from the full-path pass
 *
 * Per 20 ms frame (160 samples) and channel: alaw_to_linear, echo_can_update (128 taps,
 * adaption + NLP, see EC_FLAGS), dtmf_rx, super_tone_rx (China 450 Hz dial, busy, congestion,
 * ringback) on the cleaned signal, and linear_to_alaw of the outgoing prompt frame. Then
 * every block alone over the same channels: decode, echo (pre-decoded input), dtmf and tone
 * (on the cleaned signal of one canceller run over the whole audio, like the Rust side)
 * and encode. Each pass is timed with clock_gettime(CLOCK_MONOTONIC).
 *
 * Debian's libspandsp2 0.0.6 echo_can_update() prints a debugging line per sample to
 * stdout. stdout is pointed at /dev/null while the passes run and restored afterwards, but
 * formatting those lines is inside the measured time of every pass that runs the canceller.
 *
 * Prints on stdout, one per line:
 *   frames <frames per channel>
 *   ns <block> <ns per channel-frame>     for full, decode, echo, dtmf, tone, encode
 *   digits <channel 0's digits, or ->
 *   tones <channel 0's tone reports: code per report, -1 = ended, or ->
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <spandsp.h>

#define FRAME 160
#define TAPS 128
/* Adaption and NLP. Not CNG: with ECHO_CAN_USE_CNG, 0.0.6's output on this audio jumps to
 * about -5 dBm0 of noise once the caller talks and never recovers (also with the high-pass
 * filters on), so the NLP mutes instead of inserting comfort noise. */
#define EC_FLAGS (ECHO_CAN_USE_ADAPTION | ECHO_CAN_USE_NLP)

enum { DIAL, BUSY, CONGESTION, RINGBACK, GUARD, TONE_KINDS };

static char digits0[1024];
static size_t ndigits0;
static char tones0[1024];
static size_t ntones0;
static long events;
static int recording = 1; /* channel 0's events are kept from the full-path pass only */

static void digits_cb(void *user, const char *d, int len)
{
    events += len;
    if ((intptr_t) user != 0 || !recording) return;
    for (int i = 0; i < len && ndigits0 + 1 < sizeof(digits0); i++) digits0[ndigits0++] = d[i];
    digits0[ndigits0] = 0;
}

static void tone_cb(void *user, int code, int level, int delay)
{
    (void) level;
    (void) delay;
    events++;
    if ((intptr_t) user != 0 || !recording) return;
    if (ntones0 + 8 < sizeof(tones0))
        ntones0 += (size_t) snprintf(tones0 + ntones0, sizeof(tones0) - ntones0, "%s%d",
                                     ntones0 ? "," : "", code);
}

static void *read_file(const char *path, long *bytes)
{
    FILE *f = fopen(path, "rb");
    void *b;
    if (f == NULL) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    *bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc(*bytes > 0 ? *bytes : 1);
    if (b == NULL || fread(b, 1, *bytes, f) != (size_t) *bytes) { perror(path); exit(1); }
    fclose(f);
    return b;
}

/* China call-progress tones, durations in ms with the same 20 % tolerance plus one 20 ms
 * block as the Rust detector. super_tone_rx only classifies a block when it monitors at
 * least two frequencies (with one, every loud block counts as "both bins"), so a never
 * sent 950 Hz tone is added as a guard bin: two Goertzel filters against our three. */
static super_tone_rx_descriptor_t *china_tones(void)
{
    super_tone_rx_descriptor_t *d = super_tone_rx_make_descriptor(NULL);
    int t;
    t = super_tone_rx_add_tone(d); /* DIAL: continuous 450 Hz for 1.5 s */
    super_tone_rx_add_element(d, t, 450, 0, 1500, 0);
    t = super_tone_rx_add_tone(d); /* BUSY: 350/350 ms, two cycles */
    for (int i = 0; i < 2; i++) {
        super_tone_rx_add_element(d, t, 450, 0, 260, 440);
        super_tone_rx_add_element(d, t, 0, 0, 260, 440);
    }
    t = super_tone_rx_add_tone(d); /* CONGESTION: 700/700 ms */
    super_tone_rx_add_element(d, t, 450, 0, 540, 860);
    super_tone_rx_add_element(d, t, 0, 0, 540, 860);
    t = super_tone_rx_add_tone(d); /* RINGBACK: 1 s on, 4 s off */
    super_tone_rx_add_element(d, t, 450, 0, 780, 1220);
    super_tone_rx_add_element(d, t, 0, 0, 3180, 4820);
    t = super_tone_rx_add_tone(d); /* GUARD: 950 Hz, never present */
    super_tone_rx_add_element(d, t, 950, 0, 1000, 0);
    return d;
}

struct channel {
    echo_can_state_t *ec;
    dtmf_rx_state_t *dtmf;
    super_tone_rx_state_t *tone;
};

static struct channel *make_channels(int n, super_tone_rx_descriptor_t *desc)
{
    struct channel *ch = calloc(n, sizeof(*ch));
    if (ch == NULL) exit(1);
    for (int c = 0; c < n; c++) {
        ch[c].ec = echo_can_init(TAPS, EC_FLAGS);
        ch[c].dtmf = dtmf_rx_init(NULL, digits_cb, (void *) (intptr_t) c);
        ch[c].tone = super_tone_rx_init(NULL, desc, tone_cb, (void *) (intptr_t) c);
        if (ch[c].ec == NULL || ch[c].dtmf == NULL || ch[c].tone == NULL) exit(1);
    }
    return ch;
}

static void free_channels(struct channel *ch, int n)
{
    for (int c = 0; c < n; c++) {
        echo_can_free(ch[c].ec);
        dtmf_rx_free(ch[c].dtmf);
        super_tone_rx_free(ch[c].tone);
    }
    free(ch);
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

enum { FULL, DECODE, ECHO, DTMF, TONE, ENCODE, BLOCKS };
static const char *const block_name[BLOCKS] = {"full", "decode", "echo", "dtmf", "tone", "encode"};

int main(int argc, char **argv)
{
    long line_bytes, prompt_bytes;
    uint8_t *line;
    int16_t *prompt, *rx_lin, *clean_all, *clean0;
    int channels, stride;
    long frames, n;
    super_tone_rx_descriptor_t *desc;
    struct channel *ch;
    double ns[BLOCKS], t0;
    int16_t rx[FRAME], clean[FRAME];
    uint8_t tx[FRAME];
    unsigned sink = 0;
    int saved_stdout, devnull;
    FILE *f;

    if (argc < 6) {
        fprintf(stderr, "usage: %s line.alaw prompt.s16 channels stride clean0.s16\n", argv[0]);
        return 2;
    }
    line = read_file(argv[1], &line_bytes);
    prompt = read_file(argv[2], &prompt_bytes);
    channels = atoi(argv[3]);
    stride = atoi(argv[4]);
    n = line_bytes;
    frames = n / FRAME;
    if (prompt_bytes != 2 * n || frames == 0 || channels <= 0 || stride < 0) {
        fprintf(stderr, "bad input sizes or arguments\n");
        return 2;
    }
    rx_lin = malloc(n * sizeof(int16_t));
    clean_all = malloc(n * sizeof(int16_t));
    clean0 = malloc(n * sizeof(int16_t));
    if (rx_lin == NULL || clean_all == NULL || clean0 == NULL) return 1;
    desc = china_tones();

    /* spandsp's canceller writes to stdout on every sample: send it to /dev/null. */
    fflush(stdout);
    saved_stdout = dup(1);
    devnull = open("/dev/null", O_WRONLY);
    if (saved_stdout < 0 || devnull < 0 || dup2(devnull, 1) < 0) return 1;

    /* Untimed: the decoded line and one canceller's output, inputs of the blocks alone. */
    for (long i = 0; i < n; i++) rx_lin[i] = alaw_to_linear(line[i]);
    {
        echo_can_state_t *ec = echo_can_init(TAPS, EC_FLAGS);
        for (long i = 0; i < n; i++) clean_all[i] = echo_can_update(ec, prompt[i], rx_lin[i]);
        echo_can_free(ec);
    }

    /* Full path. */
    ch = make_channels(channels, desc);
    t0 = now_ns();
    for (long fr = 0; fr < frames; fr++) {
        for (int c = 0; c < channels; c++) {
            long at = (((long) c * stride + fr) % frames) * FRAME;
            struct channel *k = &ch[c];
            for (int i = 0; i < FRAME; i++) rx[i] = alaw_to_linear(line[at + i]);
            for (int i = 0; i < FRAME; i++) clean[i] = echo_can_update(k->ec, prompt[at + i], rx[i]);
            dtmf_rx(k->dtmf, clean, FRAME);
            super_tone_rx(k->tone, clean, FRAME);
            for (int i = 0; i < FRAME; i++) tx[i] = linear_to_alaw(prompt[at + i]);
            sink += tx[fr % FRAME] + (uint16_t) clean[c % FRAME];
            if (c == 0) memcpy(clean0 + at, clean, sizeof(clean));
        }
    }
    ns[FULL] = now_ns() - t0;
    recording = 0;
    free_channels(ch, channels);

    /* Each block alone over the same round robin. */
    t0 = now_ns();
    for (long fr = 0; fr < frames; fr++)
        for (int c = 0; c < channels; c++) {
            long at = (((long) c * stride + fr) % frames) * FRAME;
            for (int i = 0; i < FRAME; i++) rx[i] = alaw_to_linear(line[at + i]);
            sink += (uint16_t) rx[c % FRAME];
        }
    ns[DECODE] = now_ns() - t0;

    ch = make_channels(channels, desc);
    t0 = now_ns();
    for (long fr = 0; fr < frames; fr++)
        for (int c = 0; c < channels; c++) {
            long at = (((long) c * stride + fr) % frames) * FRAME;
            for (int i = 0; i < FRAME; i++) clean[i] = echo_can_update(ch[c].ec, prompt[at + i], rx_lin[at + i]);
            sink += (uint16_t) clean[c % FRAME];
        }
    ns[ECHO] = now_ns() - t0;

    t0 = now_ns();
    for (long fr = 0; fr < frames; fr++)
        for (int c = 0; c < channels; c++) {
            long at = (((long) c * stride + fr) % frames) * FRAME;
            dtmf_rx(ch[c].dtmf, clean_all + at, FRAME);
        }
    ns[DTMF] = now_ns() - t0;

    t0 = now_ns();
    for (long fr = 0; fr < frames; fr++)
        for (int c = 0; c < channels; c++) {
            long at = (((long) c * stride + fr) % frames) * FRAME;
            super_tone_rx(ch[c].tone, clean_all + at, FRAME);
        }
    ns[TONE] = now_ns() - t0;
    free_channels(ch, channels);

    t0 = now_ns();
    for (long fr = 0; fr < frames; fr++)
        for (int c = 0; c < channels; c++) {
            long at = (((long) c * stride + fr) % frames) * FRAME;
            for (int i = 0; i < FRAME; i++) tx[i] = linear_to_alaw(prompt[at + i]);
            sink += tx[c % FRAME];
        }
    ns[ENCODE] = now_ns() - t0;

    fflush(stdout);
    if (dup2(saved_stdout, 1) < 0) return 1;
    close(saved_stdout);
    close(devnull);

    f = fopen(argv[5], "wb");
    if (f == NULL || fwrite(clean0, sizeof(int16_t), n, f) != (size_t) n) return 1;
    fclose(f);

    printf("frames %ld\n", frames);
    for (int b = 0; b < BLOCKS; b++)
        printf("ns %s %.3f\n", block_name[b], ns[b] / ((double) frames * channels));
    printf("digits %s\n", ndigits0 ? digits0 : "-");
    printf("tones %s\n", ntones0 ? tones0 : "-");
    printf("sink %u %ld\n", sink, events);
    super_tone_rx_free_descriptor(desc);
    free(line);
    free(prompt);
    free(rx_lin);
    free(clean_all);
    free(clean0);
    return 0;
}
