/*
 * gen/param.c - ranges with units and key=value lists.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"

/* One value with its unit suffix; returns 0 or -1. */
static int parse_value(const char *text, size_t len, gen_unit unit,
                       double *out) {
  char buf[64];
  if (len == 0 || len >= sizeof(buf))
    return -1;
  memcpy(buf, text, len);
  buf[len] = '\0';
  const char *p = buf;
  double total = 0;
  int parts = 0;
  while (*p) {
    char *end;
    double v = strtod(p, &end);
    if (end == p || v < 0 || !isfinite(v))
      return -1;
    p = end;
    double mul = 1;
    switch (unit) {
    case GEN_UNIT_TIME:
      mul = 1000; /* a plain number is seconds */
      if (strncmp(p, "ms", 2) == 0)
        mul = 1, p += 2;
      else if (*p == 's')
        mul = 1000, p++;
      else if (*p == 'm')
        mul = 60000, p++;
      else if (*p == 'h')
        mul = 3600000, p++;
      else if (*p == 'd')
        mul = 86400000, p++;
      else if (*p)
        return -1;
      break;
    case GEN_UNIT_SIZE: {
      static const char units[] = "kMGT";
      const char *u = *p ? strchr(units, *p == 'K' ? 'k' : *p) : NULL;
      if (u) {
        int exp = (int)(u - units) + 1;
        p++;
        if (*p == 'i')
          mul = pow(1024, exp), p++;
        else
          mul = pow(1000, exp);
      }
      if (*p == 'B')
        p++;
      if (*p)
        return -1;
      break;
    }
    case GEN_UNIT_PERCENT:
      if (*p == '%')
        p++;
      if (*p || v > 100)
        return -1;
      break;
    case GEN_UNIT_PLAIN:
      if (*p)
        return -1;
      break;
    }
    total += v * mul;
    parts++;
    if (unit != GEN_UNIT_TIME && *p)
      return -1;
  }
  if (parts == 0)
    return -1;
  *out = total;
  return 0;
}

nfh_status gen_range_parse(const char *text, gen_unit unit, gen_range *out) {
  const char *dash = strchr(text, '-');
  double lo, hi;
  if (dash) {
    if (parse_value(text, (size_t)(dash - text), unit, &lo) != 0 ||
        parse_value(dash + 1, strlen(dash + 1), unit, &hi) != 0 || lo > hi)
      return NFH_ESYNTAX;
  } else {
    if (parse_value(text, strlen(text), unit, &lo) != 0)
      return NFH_ESYNTAX;
    hi = lo;
  }
  out->lo = lo;
  out->hi = hi;
  return NFH_OK;
}

double gen_range_draw(const gen_range *r, gen_rng *rng) {
  if (r->hi <= r->lo)
    return r->lo;
  return r->lo + (r->hi - r->lo) * gen_rng_uniform(rng);
}

uint64_t gen_range_draw_int(const gen_range *r, gen_rng *rng) {
  double v = gen_range_draw(r, rng);
  return v <= 0 ? 0 : (uint64_t)(v + 0.5);
}

void gen_kv_free(gen_kv *kv) {
  for (size_t i = 0; i < kv->n; i++) {
    free(kv->keys[i]);
    free(kv->values[i]);
  }
  free(kv->keys);
  free(kv->values);
  free(kv->used);
  memset(kv, 0, sizeof(*kv));
}

nfh_status gen_kv_parse(const char *text, gen_kv *kv) {
  memset(kv, 0, sizeof(*kv));
  const char *p = text;
  while (*p) {
    while (*p == ',' || isspace((unsigned char)*p))
      p++;
    if (!*p)
      break;
    size_t len = strcspn(p, ", \t\r\n");
    const char *eq = memchr(p, '=', len);
    if (!eq || eq == p) {
      gen_kv_free(kv);
      return NFH_ESYNTAX;
    }
    char **k = realloc(kv->keys, (kv->n + 1) * sizeof(*k));
    if (k)
      kv->keys = k;
    char **v = realloc(kv->values, (kv->n + 1) * sizeof(*v));
    if (v)
      kv->values = v;
    unsigned char *u = realloc(kv->used, kv->n + 1);
    if (u)
      kv->used = u;
    if (!k || !v || !u) {
      gen_kv_free(kv);
      return NFH_ENOMEM;
    }
    kv->keys[kv->n] = strndup(p, (size_t)(eq - p));
    kv->values[kv->n] = strndup(eq + 1, len - (size_t)(eq - p) - 1);
    kv->used[kv->n] = 0;
    kv->n++;
    if (!kv->keys[kv->n - 1] || !kv->values[kv->n - 1]) {
      gen_kv_free(kv);
      return NFH_ENOMEM;
    }
    p += len;
  }
  return NFH_OK;
}

const char *gen_kv_get(gen_kv *kv, const char *key) {
  const char *found = NULL;
  for (size_t i = 0; i < kv->n; i++) {
    if (strcmp(kv->keys[i], key) == 0) {
      kv->used[i] = 1;
      found = kv->values[i];
    }
  }
  return found;
}

const char *gen_kv_unused(const gen_kv *kv) {
  for (size_t i = 0; i < kv->n; i++)
    if (!kv->used[i])
      return kv->keys[i];
  return NULL;
}

nfh_status gen_kv_range(gen_kv *kv, const char *key, gen_unit unit,
                        gen_range *r, char *why, size_t len) {
  const char *v = gen_kv_get(kv, key);
  if (!v)
    return NFH_OK;
  if (gen_range_parse(v, unit, r) != NFH_OK) {
    static const char *const hint[] = {
        "a number or lo-hi", "a duration or lo-hi (90s, 15m, 2h, 1d)",
        "a size or lo-hi (200, 2k, 10M, 2G)", "a percentage or lo-hi (0-100)"};
    snprintf(why, len, "%s=%s: expected %s", key, v, hint[unit]);
    return NFH_ESYNTAX;
  }
  return NFH_OK;
}
