/*
 * A line-oriented front end to libsrtp (Debian libsrtp2-dev), so the specs can check lib/srtp
 * against the reference implementation. spec/helpers/libsrtp.ts compiles it at test time:
 *
 *   cc -O2 -o libsrtp-harness libsrtp-harness.c -lsrtp2
 *
 * Commands on stdin, one per line; one answer line each on stdout:
 *
 *   session <protect|unprotect> <profile> <hex master key || master salt> [window] [repeat]
 *       -> "ok" | "err <srtp_err_status_t>"
 *       Replaces the current session. <profile> is a DTLS-SRTP name (RFC 5764, RFC 7714):
 *       AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM.
 *       The SSRC is a wildcard (any outbound for protect, any inbound for unprotect), so each
 *       new SSRC gets its own stream, as in a DTLS-SRTP session. [window] is the replay window
 *       (default 128), [repeat] 1 lets protect accept a sequence number twice (default 0).
 *   rtp <hex> | rtcp <hex>
 *       -> "ok <hex>" | "err <srtp_err_status_t>"
 *       Protects or unprotects one packet with the current session.
 *   bench <protect|unprotect> <rtp|rtcp> <profile> <hex key || salt> <count> <hex packet>
 *       -> "ok <nanoseconds>" | "err <srtp_err_status_t>"
 *       For the benchmark, in sessions of its own: times <count> protects of the packet (an
 *       RTP packet's sequence number set to 0, 1, 2...), or protects <count> such packets
 *       first and times only their unprotect.
 *
 * Error numbers are libsrtp's srtp_err_status_t: 2 bad_param, 7 auth_fail, 9 replay_fail,
 * 10 replay_old, 21 parse_err... and -1 for a harness-level problem (bad hex, no session).
 */
#define _POSIX_C_SOURCE 200809L
#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HARNESS_ERROR (-1)
/* Room past the packet for the tag, SRTCP's E-flag and index, and an MKI we never use. */
#define TRAILER_ROOM (SRTP_MAX_TRAILER_LEN + 4)

static srtp_t session = NULL;
static int session_protects = 0;

static int hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes hex into out (which has room for cap bytes); returns the byte count or -1. */
static long from_hex(const char *hex, size_t hex_len, uint8_t *out, size_t cap) {
  if (hex_len % 2 != 0 || hex_len / 2 > cap) return -1;
  for (size_t i = 0; i < hex_len / 2; i++) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return (long)(hex_len / 2);
}

static void answer_bytes(const uint8_t *bytes, int len) {
  static const char digits[] = "0123456789abcdef";
  fputs("ok ", stdout);
  for (int i = 0; i < len; i++) {
    putchar(digits[bytes[i] >> 4]);
    putchar(digits[bytes[i] & 15]);
  }
  putchar('\n');
}

static void answer_error(int status) { printf("err %d\n", status); }

/* Fills the RTP and RTCP crypto policies of a profile; returns its key||salt length or 0. */
static int set_profile(srtp_policy_t *policy, const char *profile) {
  if (strcmp(profile, "AES_CM_128_HMAC_SHA1_80") == 0) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
    return SRTP_AES_ICM_128_KEY_LEN_WSALT;
  }
  if (strcmp(profile, "AES_CM_128_HMAC_SHA1_32") == 0) {
    /* RFC 5764 §4.1.2: this profile's SRTCP tag stays 80 bits; only SRTP's is cut to 32. */
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
    return SRTP_AES_ICM_128_KEY_LEN_WSALT;
  }
  if (strcmp(profile, "AEAD_AES_128_GCM") == 0) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtcp);
    return SRTP_AES_GCM_128_KEY_LEN_WSALT;
  }
  if (strcmp(profile, "AEAD_AES_256_GCM") == 0) {
    srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy->rtp);
    srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy->rtcp);
    return SRTP_AES_GCM_256_KEY_LEN_WSALT;
  }
  return 0;
}

static int create_session(srtp_t *out, int protects, const char *profile, const char *key_hex,
                          unsigned long window, int repeat) {
  uint8_t key[SRTP_MAX_KEY_LEN];
  srtp_policy_t policy;
  memset(&policy, 0, sizeof policy);
  int key_len = set_profile(&policy, profile);
  if (key_len == 0) return srtp_err_status_bad_param;
  if (from_hex(key_hex, strlen(key_hex), key, sizeof key) != key_len) return HARNESS_ERROR;
  policy.ssrc.type = protects ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = key;
  policy.window_size = window;
  policy.allow_repeat_tx = repeat;
  policy.next = NULL;
  return srtp_create(out, &policy);
}

static int run_packet(srtp_t s, int protects, int rtcp, uint8_t *buf, int *len) {
  if (protects) return rtcp ? srtp_protect_rtcp(s, buf, len) : srtp_protect(s, buf, len);
  return rtcp ? srtp_unprotect_rtcp(s, buf, len) : srtp_unprotect(s, buf, len);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* bench: see the header comment. */
static int bench(int protects, int rtcp, const char *profile, const char *key_hex, long count,
                 const uint8_t *packet, int len, double *elapsed) {
  int stride = len + TRAILER_ROOM;
  size_t slots = protects ? 1 : (size_t)count;
  uint8_t *bufs = malloc((size_t)stride * slots);
  int *lens = malloc(sizeof(int) * slots);
  srtp_t sender = NULL, receiver = NULL;
  int status = bufs == NULL || lens == NULL ? srtp_err_status_alloc_fail : srtp_err_status_ok;
  if (status == srtp_err_status_ok) status = create_session(&sender, 1, profile, key_hex, 128, 0);
  if (status == srtp_err_status_ok && !protects) {
    status = create_session(&receiver, 0, profile, key_hex, 128, 0);
  }
  /* Unprotect needs its packets protected beforehand, outside the timed loop. */
  for (long i = 0; !protects && status == srtp_err_status_ok && i < count; i++) {
    uint8_t *b = bufs + (size_t)i * (size_t)stride;
    memcpy(b, packet, (size_t)len);
    if (!rtcp) b[2] = (uint8_t)(i >> 8), b[3] = (uint8_t)i;
    lens[i] = len;
    status = run_packet(sender, 1, rtcp, b, &lens[i]);
  }
  double start = now_ns();
  for (long i = 0; status == srtp_err_status_ok && i < count; i++) {
    if (protects) {
      int n = len;
      memcpy(bufs, packet, (size_t)len);
      if (!rtcp) bufs[2] = (uint8_t)(i >> 8), bufs[3] = (uint8_t)i;
      status = run_packet(sender, 1, rtcp, bufs, &n);
    } else {
      status = run_packet(receiver, 0, rtcp, bufs + (size_t)i * (size_t)stride, &lens[i]);
    }
  }
  *elapsed = now_ns() - start;
  if (sender != NULL) srtp_dealloc(sender);
  if (receiver != NULL) srtp_dealloc(receiver);
  free(bufs);
  free(lens);
  return status;
}

int main(void) {
  int status = srtp_init();
  if (status != srtp_err_status_ok) {
    fprintf(stderr, "srtp_init failed: %d\n", status);
    return 1;
  }
  char *line = NULL;
  size_t line_cap = 0;
  uint8_t *buf = NULL;
  size_t buf_cap = 0;
  ssize_t got;
  while ((got = getline(&line, &line_cap, stdin)) >= 0) {
    while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
    char *rest = strchr(line, ' ');
    if (rest != NULL) *rest++ = '\0';
    else rest = line + got;

    if (strcmp(line, "session") == 0) {
      char dir[16], profile[64], key_hex[2 * SRTP_MAX_KEY_LEN + 2];
      unsigned long window = 128;
      int repeat = 0;
      int fields = sscanf(rest, "%15s %63s %130s %lu %d", dir, profile, key_hex, &window, &repeat);
      if (session != NULL) srtp_dealloc(session);
      session = NULL;
      if (fields < 3 || (strcmp(dir, "protect") != 0 && strcmp(dir, "unprotect") != 0)) {
        answer_error(HARNESS_ERROR);
      } else {
        session_protects = strcmp(dir, "protect") == 0;
        status = create_session(&session, session_protects, profile, key_hex, window, repeat);
        if (status != srtp_err_status_ok) session = NULL;
        if (status == srtp_err_status_ok) puts("ok");
        else answer_error(status);
      }
    } else if (strcmp(line, "rtp") == 0 || strcmp(line, "rtcp") == 0 ||
               strcmp(line, "bench") == 0) {
      int is_bench = strcmp(line, "bench") == 0;
      int rtcp = strcmp(line, "rtcp") == 0;
      int protects = session_protects;
      long count = 1;
      char profile[64], key_hex[2 * SRTP_MAX_KEY_LEN + 2];
      if (is_bench) {
        char dir[16], kind[8];
        int used = 0;
        if (sscanf(rest, "%15s %7s %63s %130s %ld %n", dir, kind, profile, key_hex, &count,
                   &used) < 5 || used == 0 || count <= 0) {
          answer_error(HARNESS_ERROR);
          fflush(stdout);
          continue;
        }
        protects = strcmp(dir, "protect") == 0;
        rtcp = strcmp(kind, "rtcp") == 0;
        rest += used;
      }
      size_t hex_len = strlen(rest);
      size_t need = hex_len / 2 + TRAILER_ROOM;
      if (need > buf_cap) {
        uint8_t *grown = realloc(buf, need);
        if (grown == NULL) {
          answer_error(srtp_err_status_alloc_fail);
          fflush(stdout);
          continue;
        }
        buf = grown;
        buf_cap = need;
      }
      long len = from_hex(rest, hex_len, buf, buf_cap);
      double elapsed = 0;
      if (len < 0 || (session == NULL && !is_bench)) {
        answer_error(HARNESS_ERROR);
      } else if (is_bench) {
        status = bench(protects, rtcp, profile, key_hex, count, buf, (int)len, &elapsed);
        if (status == srtp_err_status_ok) printf("ok %.0f\n", elapsed);
        else answer_error(status);
      } else {
        int n = (int)len;
        status = run_packet(session, protects, rtcp, buf, &n);
        if (status == srtp_err_status_ok) answer_bytes(buf, n);
        else answer_error(status);
      }
    } else if (strcmp(line, "quit") == 0) {
      break;
    } else {
      answer_error(HARNESS_ERROR);
    }
    fflush(stdout);
  }
  if (session != NULL) srtp_dealloc(session);
  free(line);
  free(buf);
  srtp_shutdown();
  return 0;
}
