/* libpri (Debian libpri-dev) as the NETWORK side of a EuroISDN E1 PRI, driven over
 * stdin/stdout so a Rust test can be the user side.
 *
 * Lines in (stdin):
 *   F <hex>                  a frame from the user side (address..info, no FCS)
 *   CALL <chan> <from> <to>  network places a call to the user (SETUP)
 *   ANSWER                   network answers the last incoming call (CONNECT)
 *   HANGUP <cause>           network clears the current call
 *   RESTART <chan>           network restarts a B channel
 *   MUTE / UNMUTE            drop every frame in both directions (a dead D channel) / stop
 *   AUTOANSWER               answer every incoming call at once (CONNECT after CALL PROCEEDING)
 *   QUIT
 * Lines out (stdout, flushed):
 *   F <hex>                  a frame libpri sent (its 2 trailing FCS bytes removed)
 *   E <NAME> key=value...    a libpri event
 *
 * libpri reads and writes one frame per call of its I/O callbacks and expects two trailing
 * FCS bytes, which it ignores on receive and writes as 00 00. Timers run in real time via
 * pri_schedule_next/pri_schedule_run.
 */
#include <libpri.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static unsigned char inbuf[1024];
static int inlen = 0;
static q931_call *current = NULL;
static int muted = 0;
static int autoanswer = 0;

static int io_read(struct pri *pri, void *buf, int buflen) {
    (void)pri;
    if (inlen == 0 || inlen + 2 > buflen) return 0;
    memcpy(buf, inbuf, inlen);
    ((unsigned char *)buf)[inlen] = 0;
    ((unsigned char *)buf)[inlen + 1] = 0;
    int n = inlen + 2;
    inlen = 0;
    return n;
}

static int io_write(struct pri *pri, void *buf, int buflen) {
    (void)pri;
    if (muted) return buflen;
    printf("F ");
    for (int i = 0; i < buflen - 2; i++) printf("%02x", ((unsigned char *)buf)[i]);
    printf("\n");
    fflush(stdout);
    return buflen;
}

static void quiet(struct pri *pri, char *s) { (void)pri; fprintf(stderr, "libpri: %s", s); }

static void report(struct pri *pri, pri_event *e) {
    if (!e) return;
    switch (e->e) {
    case PRI_EVENT_DCHAN_UP: printf("E DCHAN_UP\n"); break;
    case PRI_EVENT_DCHAN_DOWN: printf("E DCHAN_DOWN\n"); break;
    case PRI_EVENT_RING:
        current = e->ring.call;
        printf("E RING channel=%d calling=%s called=%s\n", e->ring.channel, e->ring.callingnum,
               e->ring.callednum);
        pri_proceeding(pri, current, e->ring.channel, 0);
        if (autoanswer) pri_answer(pri, current, e->ring.channel, 1);
        break;
    case PRI_EVENT_PROCEEDING: printf("E PROCEEDING channel=%d\n", e->proceeding.channel); break;
    case PRI_EVENT_RINGING: printf("E RINGING channel=%d\n", e->ringing.channel); break;
    case PRI_EVENT_ANSWER: printf("E ANSWER channel=%d\n", e->answer.channel); break;
    case PRI_EVENT_HANGUP_REQ:
        printf("E HANGUP_REQ cause=%d\n", e->hangup.cause);
        pri_hangup(pri, e->hangup.call, e->hangup.cause);
        break;
    case PRI_EVENT_HANGUP:
        printf("E HANGUP cause=%d\n", e->hangup.cause);
        /* As chan_dahdi does: finish the call (libpri then sends RELEASE COMPLETE if due). */
        pri_hangup(pri, e->hangup.call, e->hangup.cause);
        if (e->hangup.call == current) current = NULL;
        break;
    case PRI_EVENT_HANGUP_ACK: printf("E HANGUP_ACK cause=%d\n", e->hangup.cause); break;
    case PRI_EVENT_RESTART_ACK: printf("E RESTART_ACK channel=%d\n", e->restartack.channel); break;
    case PRI_EVENT_RESTART: printf("E RESTART channel=%d\n", e->restart.channel); break;
    default: printf("E OTHER e=%d\n", e->e); break;
    }
    fflush(stdout);
}

static int unhex(const char *s, unsigned char *out, int max) {
    int n = 0;
    while (s[0] && s[1] && s[0] != '\n' && n < max) {
        unsigned int v;
        if (sscanf(s, "%2x", &v) != 1) break;
        out[n++] = (unsigned char)v;
        s += 2;
    }
    return n;
}

int main(void) {
    pri_set_error(quiet);
    pri_set_message(quiet);
    struct pri *pri = pri_new_cb(0, PRI_NETWORK, PRI_SWITCH_EUROISDN_E1, io_read, io_write, NULL);
    if (!pri) { fprintf(stderr, "pri_new_cb failed\n"); return 1; }
    if (getenv("LIBPRI_DEBUG"))
        pri_set_debug(pri, PRI_DEBUG_Q921_STATE | PRI_DEBUG_Q931_DUMP | PRI_DEBUG_Q931_STATE);
    /* Lines are read with read(2) into our own buffer: stdio would hold a second line where
     * poll(2) cannot see it. */
    static char buf[65536];
    size_t have = 0;
    char line[4096];
    for (;;) {
        char *nl = memchr(buf, '\n', have);
        if (nl) {
            size_t n = (size_t)(nl - buf) + 1;
            size_t keep = n < sizeof line ? n : sizeof line - 1;
            memcpy(line, buf, keep);
            line[keep] = 0;
            memmove(buf, buf + n, have - n);
            have -= n;
            goto handle;
        }
        int timeout = -1;
        struct timeval *next = pri_schedule_next(pri);
        if (next) {
            struct timeval now;
            gettimeofday(&now, NULL);
            long ms = (next->tv_sec - now.tv_sec) * 1000 + (next->tv_usec - now.tv_usec) / 1000;
            timeout = ms < 0 ? 0 : (int)ms;
        }
        struct pollfd p = {.fd = 0, .events = POLLIN};
        int r = poll(&p, 1, timeout);
        if (r == 0) { report(pri, pri_schedule_run(pri)); continue; }
        ssize_t got = read(0, buf + have, sizeof buf - have);
        if (got <= 0) break;
        have += (size_t)got;
        continue;
    handle:
        if (!strncmp(line, "AUTOANSWER", 10)) {
            autoanswer = 1;
        } else if (!strncmp(line, "MUTE", 4)) {
            muted = 1;
        } else if (!strncmp(line, "UNMUTE", 6)) {
            muted = 0;
        } else if (!strncmp(line, "F ", 2)) {
            if (muted) continue;
            inlen = unhex(line + 2, inbuf, sizeof inbuf - 2);
            report(pri, pri_check_event(pri));
        } else if (!strncmp(line, "CALL ", 5)) {
            int chan;
            char from[64], to[64];
            if (sscanf(line + 5, "%d %63s %63s", &chan, from, to) != 3) continue;
            current = pri_new_call(pri);
            struct pri_sr *sr = pri_sr_new();
            pri_sr_set_channel(sr, chan, 1, 0);
            pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
            pri_sr_set_called(sr, to, PRI_UNKNOWN, 1);
            pri_sr_set_caller(sr, from, NULL, PRI_NATIONAL_ISDN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
            pri_setup(pri, current, sr);
            pri_sr_free(sr);
        } else if (!strncmp(line, "ANSWER", 6)) {
            if (current) pri_answer(pri, current, 0, 1);
        } else if (!strncmp(line, "HANGUP ", 7)) {
            if (current) pri_hangup(pri, current, atoi(line + 7));
        } else if (!strncmp(line, "RESTART ", 8)) {
            pri_reset(pri, atoi(line + 8));
        } else if (!strncmp(line, "QUIT", 4)) {
            break;
        }
    }
    return 0;
}
