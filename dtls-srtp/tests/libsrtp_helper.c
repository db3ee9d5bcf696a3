/*
 * libsrtp2 as a peer for dtls-srtp/tests/libsrtp.rs: compiled by the test with gcc and
 * driven over stdin/stdout, one command per line, one answer per line.
 *
 *   init PROFILE TX_HEX RX_HEX (re)creates a sending session (ssrc_any_outbound) with
 *                              master key||salt TX_HEX and a receiving one
 *                              (ssrc_any_inbound) with RX_HEX
 *   protect_rtp HEX            -> "ok HEX" (SRTP) or "err CODE" (libsrtp's srtp_err_status_t)
 *   unprotect_rtp HEX          -> "ok HEX" (RTP) or "err CODE"
 *   protect_rtcp HEX           -> likewise for SRTCP
 *   unprotect_rtcp HEX
 *   roc tx|rx SSRC             -> "ok ROC" (srtp_get_stream_roc) or "err CODE"
 *
 * PROFILE: aes128cm_sha1_80, aes128cm_sha1_32, aead_aes128_gcm, aead_aes256_gcm.
 * Replay window 128, allow_repeat_tx 0: the settings a WebRTC stack uses.
 */
#include <srtp2/srtp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PACKET 8192

static srtp_t tx, rx;

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int b;
        if (sscanf(s + 2 * i, "%2x", &b) != 1)
            return -1;
        out[i] = (uint8_t)b;
    }
    *len = n / 2;
    return 0;
}

static void print_ok_hex(const uint8_t *p, int len)
{
    fputs("ok ", stdout);
    for (int i = 0; i < len; i++)
        printf("%02x", p[i]);
    putchar('\n');
}

static int set_profile(srtp_policy_t *p, const char *name)
{
    if (strcmp(name, "aes128cm_sha1_80") == 0) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    } else if (strcmp(name, "aes128cm_sha1_32") == 0) {
        /* RFC 5764 §4.1.2: SRTCP keeps the 80-bit tag. */
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
    return 0;
}

static int init(const char *profile, const char *tx_hex, const char *rx_hex)
{
    static uint8_t tx_key[64], rx_key[64];
    size_t key_len;
    if (unhex(tx_hex, tx_key, sizeof tx_key, &key_len) != 0 ||
        unhex(rx_hex, rx_key, sizeof rx_key, &key_len) != 0)
        return srtp_err_status_bad_param;
    if (tx) {
        srtp_dealloc(tx);
        tx = NULL;
    }
    if (rx) {
        srtp_dealloc(rx);
        rx = NULL;
    }
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    if (set_profile(&p, profile) != 0)
        return srtp_err_status_bad_param;
    p.key = tx_key;
    p.window_size = 128;
    p.allow_repeat_tx = 0;
    p.next = NULL;
    p.ssrc.type = ssrc_any_outbound;
    srtp_err_status_t st = srtp_create(&tx, &p);
    if (st != srtp_err_status_ok)
        return st;
    p.ssrc.type = ssrc_any_inbound;
    p.key = rx_key;
    return srtp_create(&rx, &p);
}

int main(void)
{
    static char line[4 * MAX_PACKET];
    static uint8_t buf[MAX_PACKET + SRTP_MAX_TRAILER_LEN + 4];
    srtp_err_status_t st = srtp_init();
    if (st != srtp_err_status_ok) {
        printf("err %d\n", st);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        char *cmd = strtok(line, " ");
        char *a = strtok(NULL, " ");
        char *b = strtok(NULL, " ");
        char *c = strtok(NULL, " ");
        if (!cmd)
            continue;
        if (strcmp(cmd, "quit") == 0)
            break;
        if (strcmp(cmd, "init") == 0) {
            int e = (a && b && c) ? init(a, b, c) : srtp_err_status_bad_param;
            if (e == 0)
                puts("ok");
            else
                printf("err %d\n", e);
            continue;
        }
        if (strcmp(cmd, "roc") == 0) {
            uint32_t roc = 0;
            srtp_t s = (a && strcmp(a, "tx") == 0) ? tx : rx;
            st = b ? srtp_get_stream_roc(s, (uint32_t)strtoul(b, NULL, 10), &roc)
                   : srtp_err_status_bad_param;
            if (st == srtp_err_status_ok)
                printf("ok %u\n", roc);
            else
                printf("err %d\n", st);
            continue;
        }
        size_t n;
        if (!a || unhex(a, buf, MAX_PACKET, &n) != 0 || !tx) {
            printf("err %d\n", srtp_err_status_bad_param);
            continue;
        }
        int len = (int)n;
        if (strcmp(cmd, "protect_rtp") == 0)
            st = srtp_protect(tx, buf, &len);
        else if (strcmp(cmd, "unprotect_rtp") == 0)
            st = srtp_unprotect(rx, buf, &len);
        else if (strcmp(cmd, "protect_rtcp") == 0)
            st = srtp_protect_rtcp(tx, buf, &len);
        else if (strcmp(cmd, "unprotect_rtcp") == 0)
            st = srtp_unprotect_rtcp(rx, buf, &len);
        else
            st = srtp_err_status_no_such_op;
        if (st == srtp_err_status_ok)
            print_ok_hex(buf, len);
        else
            printf("err %d\n", st);
    }
    if (tx)
        srtp_dealloc(tx);
    if (rx)
        srtp_dealloc(rx);
    srtp_shutdown();
    return 0;
}
