/* params.c - parameters and clock of the exfiltration detector; see
 * params.h and README.params. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "params.h"

typedef struct pdef {
  const char *key;
  size_t off;
  double def, min, max;
  int integer;
} pdef;

#define P(k, d, lo, hi, i) {#k, offsetof(nfh__exf_params, k), d, lo, hi, i}
static const pdef pdefs[] = {
    P(pcr_min, 0.2, 0, 0.95, 0),
    P(pcr_strong, 0.8, 0, 1, 0),
    P(min_bytes, 10e6, 1e3, 1e15, 0),
    P(bulk_bytes, 100e6, 1e3, 1e15, 0),
    P(high_bytes, 1e9, 1e3, 1e15, 0),
    P(critical_bytes, 10e9, 1e3, 1e16, 0),
    P(slow_hour_bytes, 1e6, 1e3, 1e15, 0),
    P(slow_min_hours, 2, 1, 168, 0),
    P(slow_min_bytes, 20e6, 1e3, 1e15, 0),
    P(slow_high_hours, 6, 1, 168, 0),
    P(slow_high_bytes, 100e6, 1e3, 1e15, 0),
    P(slow_steadiness, 0.5, 0.1, 1, 0),
    P(popular_hosts, 10, 2, 64, 1),
    P(shared_uploaders, 2, 2, 64, 1),
    P(ratio_min, 4, 1, 1e6, 0),
    P(high_ratio, 30, 1, 1e9, 0),
    P(host_floor, 10e6, 1e3, 1e15, 0),
    P(hod_min, 3, 1, 255, 1),
    P(how_min, 2, 1, 255, 1),
    P(learn_days, 3, 1, 60, 1),
    P(habit_days, 2, 1, 60, 1),
    P(season_tolerance, 1, 0, 3, 1),
    P(night_start, 20, 0, 23, 1),
    P(night_end, 6, 0, 23, 1),
    P(spread_min_dests, 3, 2, 1e6, 1),
    /* 1 MB: at 10 MB, 1.08 GB in 9 MB pieces to 120 addresses was
     * nothing; a thief now needs a thousand destinations for a GB. */
    P(spread_dest_bytes, 1e6, 1e3, 1e15, 0),
    P(spread_min_bytes, 300e6, 1e3, 1e16, 0),
    P(dns_min_queries, 300, 1, 1e12, 1),
    /* Everyday queries average 45 to 70 bytes of DNS message (names of
     * 20 to 50 characters); tunnels 120 to 250. */
    P(dns_query_bytes, 100, 40, 600, 0),
    P(dns_min_bytes, 256e3, 1e3, 1e15, 0),
    P(dns_medium_bytes, 1e6, 1e3, 1e15, 0),
    P(dns_high_bytes, 10e6, 1e3, 1e15, 0),
    P(dns_shared_clients, 5, 2, 1e6, 1),
    P(dns_max_pairs, 65536, 0, 10e6, 1),
    P(dns_memory_pairs, 4096, 0, 1e6, 1),
    P(memory_hours, 24, 1, 168, 1),
    P(max_pairs, 250000, 1000, 50e6, 1),
    P(max_dests, 200000, 1000, 50e6, 1),
    P(max_hosts, 10000, 0, 10e6, 1),
    P(max_memory_pairs, 50000, 0, 10e6, 1),
    P(max_findings, 100, 1, 1e6, 1),
    P(expire_days, 35, 1, 3650, 1),
};
#undef P
#define NPDEFS (sizeof(pdefs) / sizeof(pdefs[0]))

static double *field(nfh__exf_params *p, const pdef *d) {
  return (double *)((char *)p + d->off);
}

void nfh__exf_params_default(nfh__exf_params *p) {
  memset(p, 0, sizeof(*p));
  for (size_t i = 0; i < NPDEFS; i++)
    *field(p, &pdefs[i]) = pdefs[i].def;
  p->min_severity = NFH_SEV_LOW;
  p->utc = 0;
}

/* A number with an optional decimal suffix (k, M, G, T: powers of 1000)
 * so that byte settings read as people write them ("500M"). */
static int parse_number(const char *v, double *out) {
  char *end;
  double x = strtod(v, &end);
  if (end == v)
    return -1;
  switch (*end) {
  case 'k':
  case 'K':
    x *= 1e3, end++;
    break;
  case 'M':
    x *= 1e6, end++;
    break;
  case 'G':
    x *= 1e9, end++;
    break;
  case 'T':
    x *= 1e12, end++;
    break;
  }
  if (*end || !isfinite(x))
    return -1;
  *out = x;
  return 0;
}

int nfh__exf_params_parse(nfh__exf_params *p, const nfh_plugin_setting *s,
                          size_t n, char *msg, size_t len) {
  for (size_t i = 0; i < n; i++) {
    const char *k = s[i].key, *v = s[i].value;
    if (strcmp(k, "min_severity") == 0) {
      if (nfh_severity_parse(v, &p->min_severity) != 0) {
        snprintf(msg, len, "bad value '%s' for min_severity (info, low, "
                           "medium, high, critical)", v);
        return -1;
      }
      continue;
    }
    if (strcmp(k, "clock") == 0) {
      if (strcasecmp(v, "utc") == 0)
        p->utc = 1;
      else if (strcasecmp(v, "local") == 0)
        p->utc = 0;
      else {
        snprintf(msg, len, "bad value '%s' for clock (local, utc)", v);
        return -1;
      }
      continue;
    }
    const pdef *d = NULL;
    for (size_t j = 0; j < NPDEFS && !d; j++)
      if (strcmp(pdefs[j].key, k) == 0)
        d = &pdefs[j];
    if (!d) {
      snprintf(msg, len, "unknown parameter '%s' (see the exfiltration "
                         "section of nfhunt(1) for the list)", k);
      return -1;
    }
    double x;
    if (parse_number(v, &x) != 0 || x < d->min || x > d->max ||
        (d->integer && x != floor(x))) {
      snprintf(msg, len, "bad value '%s' for %s (%s from %g to %g)", v, k,
               d->integer ? "a whole number" : "a number", d->min, d->max);
      return -1;
    }
    *field(p, d) = x;
  }
  /* Orders that the rules rely on. */
  if (p->pcr_strong < p->pcr_min) {
    snprintf(msg, len, "pcr_strong (%g) is below pcr_min (%g)",
             p->pcr_strong, p->pcr_min);
    return -1;
  }
  if (!(p->bulk_bytes <= p->high_bytes && p->high_bytes <= p->critical_bytes)) {
    snprintf(msg, len, "need bulk_bytes <= high_bytes <= critical_bytes");
    return -1;
  }
  if (!(p->dns_min_bytes <= p->dns_medium_bytes &&
        p->dns_medium_bytes <= p->dns_high_bytes)) {
    snprintf(msg, len,
             "need dns_min_bytes <= dns_medium_bytes <= dns_high_bytes");
    return -1;
  }
  if (p->slow_high_hours < p->slow_min_hours) {
    snprintf(msg, len, "slow_high_hours is below slow_min_hours");
    return -1;
  }
  if (p->high_ratio < p->ratio_min) {
    snprintf(msg, len, "high_ratio is below ratio_min");
    return -1;
  }
  return 0;
}

nfh__exf_when nfh__exf_clock(const nfh__exf_params *p, uint32_t hour) {
  int64_t t = (int64_t)hour * 3600 + 1800;
  int64_t off = 0;
  if (!p->utc) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (localtime_r(&tt, &tm))
      off = tm.tm_gmtoff;
  }
  int64_t local = t + off;
  int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  nfh__exf_when w;
  w.day = day;
  w.hod = (unsigned)((local - day * 86400) / 3600);
  /* 1970-01-01 was a Thursday: Monday-based day of week is (day+3)%7. */
  unsigned dow = (unsigned)(((day % 7) + 7 + 3) % 7);
  w.how = dow * 24 + w.hod;
  return w;
}

int nfh__exf_night(const nfh__exf_params *p, unsigned hod) {
  unsigned from = (unsigned)p->night_start, to = (unsigned)p->night_end;
  if (from == to)
    return 0;
  return from < to ? hod >= from && hod < to : hod >= from || hod < to;
}
