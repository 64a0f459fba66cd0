/*
 * text.h - how the volumetric detector writes numbers for people and
 * evidence for machines.
 *
 * Summaries are read by a person at a glance ("SYN flood against
 * 10.0.3.5:80 from about 4,210 sources, 38x baseline"), so counts get
 * thousands separators and sizes and rates their units. Evidence is a
 * JSON object built into a fixed buffer: it stays bounded whatever the
 * traffic, and since every key and value comes from this detector (no
 * text from the wire), escaping is the only defence it needs. A value
 * that does not fit is dropped, never half-written, so the object stays
 * well-formed up to its closing braces.
 */
#ifndef NFH_VOLUMETRIC_TEXT_H
#define NFH_VOLUMETRIC_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>

/* Each writes a NUL-terminated text of at most len bytes into buf:
 * "4,210" (rounded, negative as 0); "8.2 GB" (decimal units); "1.2
 * Gbit/s"; "38x" or "4.5x"; "45 min" or "2.5 h"; "2024-01-01T02:05:00Z"
 * (UTC). */
void nfh__vol_fmt_count(char *buf, size_t len, double x);
void nfh__vol_fmt_bytes(char *buf, size_t len, double bytes);
void nfh__vol_fmt_bits(char *buf, size_t len, double bits_per_second);
void nfh__vol_fmt_ratio(char *buf, size_t len, double ratio);
void nfh__vol_fmt_duration(char *buf, size_t len, uint64_t seconds);
void nfh__vol_fmt_time(char *buf, size_t len, uint64_t epoch_ms);

/* A JSON object under construction. Zero-initialise it, then call
 * nfh__vol_json_open(j, NULL) first and nfh__vol_json_close() last; the
 * text is in 'b'. Objects nest up to 7 deep. */
typedef struct nfh__vol_json {
  char b[4096];
  size_t n;
  int first[8];
  int depth;
} nfh__vol_json;

/* Opens an object, as the value of 'key' (NULL for the outermost). */
void nfh__vol_json_open(nfh__vol_json *j, const char *key);
void nfh__vol_json_close(nfh__vol_json *j);
/* A number; NaN and infinities are written as null, integers without a
 * fraction. */
void nfh__vol_json_num(nfh__vol_json *j, const char *key, double x);
void nfh__vol_json_bool(nfh__vol_json *j, const char *key, int b);
/* A string, escaped. */
void nfh__vol_json_str(nfh__vol_json *j, const char *key, const char *s);
/* An address in its text form. */
void nfh__vol_json_addr(nfh__vol_json *j, const char *key,
                        const nfh_addr *a);

#endif
