/* text.c - numbers for people, evidence for machines; see text.h. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "text.h"

void nfh__vol_fmt_count(char *buf, size_t len, double x) {
  char digits[32];
  snprintf(digits, sizeof(digits), "%.0f", x < 0 || !isfinite(x) ? 0 : x);
  size_t n = strlen(digits), o = 0;
  for (size_t i = 0; i < n && o + 2 < len; i++) {
    if (i && (n - i) % 3 == 0)
      buf[o++] = ',';
    buf[o++] = digits[i];
  }
  if (len)
    buf[o] = '\0';
}

void nfh__vol_fmt_bytes(char *buf, size_t len, double b) {
  static const char *const unit[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (b >= 1000 && u < 5)
    b /= 1000, u++;
  snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

void nfh__vol_fmt_bits(char *buf, size_t len, double b) {
  static const char *const unit[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s",
                                     "Tbit/s"};
  int u = 0;
  while (b >= 1000 && u < 4)
    b /= 1000, u++;
  snprintf(buf, len, "%.1f %s", b, unit[u]);
}

void nfh__vol_fmt_ratio(char *buf, size_t len, double r) {
  snprintf(buf, len, r >= 10 ? "%.0fx" : "%.1fx", r);
}

void nfh__vol_fmt_duration(char *buf, size_t len, uint64_t seconds) {
  uint64_t min = seconds / 60;
  if (min < 120)
    snprintf(buf, len, "%" PRIu64 " min", min);
  else
    snprintf(buf, len, "%.1f h", (double)min / 60);
}

void nfh__vol_fmt_time(char *buf, size_t len, uint64_t ms) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Appends s whole or not at all; two bytes stay in reserve per open
 * object so that the closing braces always fit. */
static void put(nfh__vol_json *j, const char *s) {
  size_t k = strlen(s);
  if (j->n + k + 1 + 2 * (size_t)j->depth < sizeof(j->b)) {
    memcpy(j->b + j->n, s, k);
    j->n += k;
    j->b[j->n] = '\0';
  }
}

static void key(nfh__vol_json *j, const char *k) {
  char t[96];
  snprintf(t, sizeof(t), "%s\"%s\":", j->first[j->depth] ? "" : ",", k);
  j->first[j->depth] = 0;
  put(j, t);
}

void nfh__vol_json_open(nfh__vol_json *j, const char *k) {
  if (k)
    key(j, k);
  put(j, "{");
  if (j->depth < 7)
    j->depth++;
  j->first[j->depth] = 1;
}

void nfh__vol_json_close(nfh__vol_json *j) {
  if (j->depth > 0)
    j->depth--;
  /* The reserve kept for this brace makes room for it. */
  if (j->n + 2 < sizeof(j->b)) {
    j->b[j->n++] = '}';
    j->b[j->n] = '\0';
  }
}

void nfh__vol_json_num(nfh__vol_json *j, const char *k, double x) {
  char t[128];
  int at = snprintf(t, sizeof(t), "%s\"%s\":", j->first[j->depth] ? "" : ",",
                    k);
  if (at < 0 || (size_t)at >= sizeof(t))
    return;
  if (!isfinite(x))
    snprintf(t + at, sizeof(t) - (size_t)at, "null");
  else if (fabs(x) < 1e15 && x == floor(x))
    snprintf(t + at, sizeof(t) - (size_t)at, "%.0f", x);
  else
    snprintf(t + at, sizeof(t) - (size_t)at, "%.4g", x);
  j->first[j->depth] = 0;
  put(j, t);
}

void nfh__vol_json_bool(nfh__vol_json *j, const char *k, int b) {
  char t[96];
  snprintf(t, sizeof(t), "%s\"%s\":%s", j->first[j->depth] ? "" : ",", k,
           b ? "true" : "false");
  j->first[j->depth] = 0;
  put(j, t);
}

void nfh__vol_json_str(nfh__vol_json *j, const char *k, const char *s) {
  char t[1024];
  size_t o = (size_t)snprintf(t, sizeof(t), "%s\"%s\":\"",
                              j->first[j->depth] ? "" : ",", k);
  for (; *s && o + 8 < sizeof(t); s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      t[o++] = '\\';
      t[o++] = (char)ch;
    } else if (ch < 0x20) {
      o += (size_t)snprintf(t + o, sizeof(t) - o, "\\u%04x", ch);
    } else {
      t[o++] = (char)ch;
    }
  }
  t[o++] = '"';
  t[o] = '\0';
  j->first[j->depth] = 0;
  put(j, t);
}

void nfh__vol_json_addr(nfh__vol_json *j, const char *k, const nfh_addr *a) {
  char t[NFH_ADDR_STRLEN];
  nfh__vol_json_str(j, k, nfh_addr_format(a, t, sizeof(t)));
}
