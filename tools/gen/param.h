/*
 * gen/param.h - parameters of activities: key=value lists and ranges.
 *
 * Every numeric parameter is a range "lo-hi" or a single value, drawn
 * uniformly from the activity's own stream when the activity is set up,
 * so that a scenario describes families of attacks rather than one
 * magic constant. Values take units:
 *   durations  500ms 90s 15m 2h 1d, or combined 1h30m (plain: seconds)
 *   sizes      200 2k 10M 2G 1T (powers of 1000), 64Ki 10Mi 2Gi (1024)
 *   rates      as sizes (plain numbers per second or per hour)
 *   percents   5 or 5%
 * Examples: "period=60-600", "bytes=200-2k", "duration=2h-6h",
 * "size=2G-8G", "jitter=0-20%".
 */
#ifndef NFH_GEN_PARAM_H
#define NFH_GEN_PARAM_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/status.h>

#include "rng.h"

typedef enum gen_unit {
  GEN_UNIT_PLAIN,   /* a plain number */
  GEN_UNIT_TIME,    /* parsed into milliseconds; plain numbers: seconds */
  GEN_UNIT_SIZE,    /* bytes (or any count), k/M/G/T suffixes */
  GEN_UNIT_PERCENT, /* 0-100, optional '%' */
} gen_unit;

typedef struct gen_range {
  double lo, hi;
} gen_range;

/* Parses "v" or "lo-hi" in a unit. Returns NFH_OK, or NFH_ESYNTAX for
 * bad text, a negative value or lo > hi (*out untouched). */
nfh_status gen_range_parse(const char *text, gen_unit unit, gen_range *out);

/* A value drawn uniformly from the range (lo when lo == hi). */
double gen_range_draw(const gen_range *r, gen_rng *rng);

/* The same, rounded to an integer. */
uint64_t gen_range_draw_int(const gen_range *r, gen_rng *rng);

/* A parsed "key=value,key=value" (or blank-separated) list. The strings
 * are owned by the list. */
typedef struct gen_kv {
  char **keys, **values;
  unsigned char *used;
  size_t n;
} gen_kv;

/* Parses 'text' into kv (which must be zeroed or freed first): pairs are
 * separated by commas or blanks. Returns NFH_OK, NFH_ESYNTAX (a pair
 * without '=') or NFH_ENOMEM; on failure kv is left empty. */
nfh_status gen_kv_parse(const char *text, gen_kv *kv);

/* Frees the strings; kv is empty afterwards. */
void gen_kv_free(gen_kv *kv);

/* The value of 'key' (the last one when repeated), marking it used, or
 * NULL. */
const char *gen_kv_get(gen_kv *kv, const char *key);

/* The first key never asked for with gen_kv_get, or NULL: a typo in a
 * scenario must not pass silently. */
const char *gen_kv_unused(const gen_kv *kv);

/* Looks 'key' up and parses it into *r; keeps *r (the default) when the
 * key is absent. Returns NFH_OK or NFH_ESYNTAX, and then writes a
 * message naming the key into why. */
nfh_status gen_kv_range(gen_kv *kv, const char *key, gen_unit unit,
                        gen_range *r, char *why, size_t len);

#endif
