/*
 * libsrtp2's side of benches/benches/srtp.rs: the bench compiles this with gcc at run time
 * (no build script: building weft never needs libsrtp) and runs it once per case. Timing is
 * done here, in C, because loading libsrtp into the Rust bench would need `unsafe`.
 *
 *   srtp_libsrtp PROFILE KEYSALT_HEX OP PACKET_HEX SAMPLES BATCHES
 *
 * PROFILE: aes128cm_sha1_80, aes128cm_sha1_32, aead_aes128_gcm, aead_aes256_gcm.
 * OP: protect_rtp, unprotect_rtp, protect_rtcp, unprotect_rtcp.
 * Prints "median_ns MEDIAN min_ns MIN max_ns MAX iters_per_sample N" (ns per packet) or
 * "err CODE" (libsrtp's srtp_err_status_t).
 *
 * The scheme is the Rust bench's, for weft and webrtc-srtp alike: packets go through in
 * rings of RING. Before each ring, untimed: the plaintext (protect) or the ring of packets
 * protected once up front (unprotect) is copied into RING work buffers, a protect ring gets
 * fresh increasing sequence numbers (allow_repeat_tx is 0, so libsrtp refuses a repeated
 * one), and an unprotect ring gets a fresh receiving session, so every timed unprotect is of
 * a new, valid packet. Only the RING srtp_protect/srtp_unprotect calls are timed
 * (clock_gettime(CLOCK_MONOTONIC) around the ring). A sample is BATCHES rings; the median
 * of SAMPLES samples is reported.
 */
#include <srtp2/srtp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 128
#define MAX_PACKET 2048
#define SLOT (MAX_PACKET + SRTP_MAX_TRAILER_LEN + 4)

static uint8_t work[RING][SLOT];
static int work_len[RING];
static uint8_t sealed[RING][SLOT];
static int sealed_len[RING];

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    if (n > cap)
        exit(2);
    for (size_t i = 0; i < n; i++) {
        unsigned int b;
        if (sscanf(s + 2 * i, "%2x", &b) != 1)
            exit(2);
        out[i] = (uint8_t)b;
    }
    return n;
}

static int policy(srtp_policy_t *p, const char *name, uint8_t *key, int inbound)
{
    memset(p, 0, sizeof *p);
    if (strcmp(name, "aes128cm_sha1_80") == 0) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    } else if (strcmp(name, "aes128cm_sha1_32") == 0) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    } else if (strcmp(name, "aead_aes128_gcm") == 0) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
    } else if (strcmp(name, "aead_aes256_gcm") == 0) {
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
    } else {
        return -1;
    }
    p->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    p->key = key;
    p->window_size = 128;
    p->allow_repeat_tx = 0;
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define CHECK(expr)                                                                \
    do {                                                                           \
        srtp_err_status_t st_ = (expr);                                            \
        if (st_ != srtp_err_status_ok) {                                           \
            printf("err %d\n", st_);                                               \
            return 1;                                                              \
        }                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s PROFILE KEYSALT_HEX OP PACKET_HEX SAMPLES BATCHES\n",
                argv[0]);
        return 2;
    }
    static uint8_t key[64], plain[MAX_PACKET];
    unhex(argv[2], key, sizeof key);
    const char *op = argv[3];
    int plain_len = (int)unhex(argv[4], plain, sizeof plain);
    int samples = atoi(argv[5]), batches = atoi(argv[6]);
    int rtp = strstr(op, "_rtp") != NULL, protect = strncmp(op, "protect", 7) == 0;
    if (samples < 1 || batches < 1 || plain_len < 12)
        return 2;

    CHECK(srtp_init());
    srtp_policy_t tx_policy, rx_policy;
    if (policy(&tx_policy, argv[1], key, 0) != 0 || policy(&rx_policy, argv[1], key, 1) != 0)
        return 2;
    srtp_t tx;
    CHECK(srtp_create(&tx, &tx_policy));
    uint32_t seq = 0;

    if (!protect) {
        /* The ring of protected packets, sequence numbers (or SRTCP indices) 0..RING-1. */
        for (int i = 0; i < RING; i++) {
            memcpy(sealed[i], plain, plain_len);
            sealed_len[i] = plain_len;
            if (rtp) {
                sealed[i][2] = (uint8_t)(i >> 8);
                sealed[i][3] = (uint8_t)i;
                CHECK(srtp_protect(tx, sealed[i], &sealed_len[i]));
            } else {
                CHECK(srtp_protect_rtcp(tx, sealed[i], &sealed_len[i]));
            }
        }
    }

    double *per_op = calloc((size_t)samples, sizeof *per_op);
    for (int s = 0; s < samples; s++) {
        uint64_t total = 0;
        for (int b = 0; b < batches; b++) {
            srtp_t rx = NULL;
            if (protect) {
                for (int i = 0; i < RING; i++) {
                    memcpy(work[i], plain, plain_len);
                    work_len[i] = plain_len;
                    if (rtp) {
                        work[i][2] = (uint8_t)(seq >> 8);
                        work[i][3] = (uint8_t)seq;
                        seq++;
                    }
                }
            } else {
                CHECK(srtp_create(&rx, &rx_policy));
                for (int i = 0; i < RING; i++) {
                    memcpy(work[i], sealed[i], sealed_len[i]);
                    work_len[i] = sealed_len[i];
                }
            }
            uint64_t t0 = now_ns();
            srtp_err_status_t st = srtp_err_status_ok;
            if (protect && rtp)
                for (int i = 0; i < RING; i++)
                    st |= srtp_protect(tx, work[i], &work_len[i]);
            else if (protect)
                for (int i = 0; i < RING; i++)
                    st |= srtp_protect_rtcp(tx, work[i], &work_len[i]);
            else if (rtp)
                for (int i = 0; i < RING; i++)
                    st |= srtp_unprotect(rx, work[i], &work_len[i]);
            else
                for (int i = 0; i < RING; i++)
                    st |= srtp_unprotect_rtcp(rx, work[i], &work_len[i]);
            total += now_ns() - t0;
            CHECK(st);
            if (!protect && work_len[RING - 1] != plain_len) {
                printf("err unprotected length %d, expected %d\n", work_len[RING - 1], plain_len);
                return 1;
            }
            if (rx)
                srtp_dealloc(rx);
        }
        per_op[s] = (double)total / ((double)batches * RING);
    }
    qsort(per_op, (size_t)samples, sizeof *per_op, cmp_double);
    printf("median_ns %.1f min_ns %.1f max_ns %.1f iters_per_sample %d\n", per_op[samples / 2],
           per_op[0], per_op[samples - 1], batches * RING);
    free(per_op);
    srtp_dealloc(tx);
    srtp_shutdown();
    return 0;
}
