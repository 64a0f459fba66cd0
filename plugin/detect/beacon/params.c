/* params.c - parsing the beaconing detector's settings; see params.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "params.h"

#define SEC 1000ull
#define MIN_MS (60 * SEC)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

void nfh__bcn_params_default(nfh__bcn_params *p) {
  memset(p, 0, sizeof(*p));
  p->min_conns = 8;
  p->min_span_ms = 30 * MIN_MS;
  p->min_periods = 6;
  /* 2 s: malware loops that open a new connection every two or three
   * seconds exist (a C2 test capture of Stratosphere's Slips beats every
   * 2.2 s); below that, merge (1 s) leaves no room for jitter. */
  p->min_period_ms = 2 * SEC;
  /* 12 h: at 6 h a 6.5 h beacon over three days was read at its half. */
  p->max_period_ms = 12 * HOUR_MS;
  p->max_missed = 3;
  p->merge_ms = 1 * SEC;
  p->min_regularity = 0.3;
  p->internal = 0;
  p->popular_hosts = 8;
  p->popular_share = 0.05;
  p->campaign_share = 0.05;
  p->campaign_max = 64;
  p->quiet[0].proto = 17; /* NTP: every host polls its servers */
  p->quiet[0].port = 123;
  p->nquiet = 1;
  /* An NTP poll is 76 bytes (96 over IPv6); with NTS fields some
   * hundreds. */
  p->quiet_max_bytes = 512;
  /* An NTP packet is at least 48 bytes of NTP above UDP and IP: 76 bytes
   * over IPv4, as flow records count them. */
  p->quiet_min_bytes = 76;
  /* A plain NTP poll, one or two packets over IPv4 or IPv6; NTS-sized
   * beats (some hundreds) to a server no other host uses are as much
   * C2 with 300-byte datagrams (a tester's, folded as NTP). */
  p->quiet_rare_bytes = 200;
  p->poller_servers = 4;
  p->high_span_ms = 6 * HOUR_MS;
  p->critical_span_ms = 24 * HOUR_MS;
  p->min_severity = NFH_SEV_LOW;
  p->max_findings = 500;
  p->continuation_gap_ms = 5 * MIN_MS;
  p->midstream_ms = 5 * MIN_MS;
  p->persistent_ms = 4 * HOUR_MS;
  p->persistent_max_rate = 1000;
  p->max_events = 512;
  p->max_candidates = 100000;
  p->max_destinations = 200000;
  p->max_total_events = 2000000;
  p->idle_ms = 48 * HOUR_MS;
  p->dest_idle_ms = 7 * DAY_MS;
}

typedef enum kind { K_UINT, K_DOUBLE, K_DURATION, K_BOOL, K_SEVERITY,
                    K_SERVICES } kind;

typedef struct spec {
  const char *key;
  kind kind;
  size_t offset;
  double min, max; /* for durations: in seconds */
} spec;

#define F(field) offsetof(nfh__bcn_params, field)

static const spec specs[] = {
    {"min_conns", K_UINT, F(min_conns), 4, 100000},
    {"min_span", K_DURATION, F(min_span_ms), 60, 30 * 86400.0},
    {"min_periods", K_DOUBLE, F(min_periods), 3, 1000},
    {"min_period", K_DURATION, F(min_period_ms), 1, 86400},
    {"max_period", K_DURATION, F(max_period_ms), 10, 7 * 86400.0},
    {"max_missed", K_UINT, F(max_missed), 0, 10},
    {"merge", K_DURATION, F(merge_ms), 0, 60},
    {"min_regularity", K_DOUBLE, F(min_regularity), 0, 1},
    {"internal", K_BOOL, F(internal), 0, 1},
    {"popular_hosts", K_UINT, F(popular_hosts), 2, 16},
    {"popular_share", K_DOUBLE, F(popular_share), 0, 1},
    {"campaign_share", K_DOUBLE, F(campaign_share), 0, 1},
    {"campaign_max", K_UINT, F(campaign_max), 0, 100000},
    {"quiet_services", K_SERVICES, F(quiet), 0, 0},
    {"quiet_max_bytes", K_UINT, F(quiet_max_bytes), 0, 1000000000},
    {"quiet_min_bytes", K_UINT, F(quiet_min_bytes), 0, 1000000000},
    {"quiet_rare_bytes", K_UINT, F(quiet_rare_bytes), 0, 1000000000},
    {"poller_servers", K_UINT, F(poller_servers), 2, 100000},
    {"high_span", K_DURATION, F(high_span_ms), 60, 30 * 86400.0},
    {"critical_span", K_DURATION, F(critical_span_ms), 60, 30 * 86400.0},
    {"min_severity", K_SEVERITY, F(min_severity), 0, 0},
    {"max_findings", K_UINT, F(max_findings), 1, 1000000},
    {"continuation_gap", K_DURATION, F(continuation_gap_ms), 0, 3600},
    {"midstream", K_DURATION, F(midstream_ms), 0, 7200},
    {"persistent", K_DURATION, F(persistent_ms), 0, 30 * 86400.0},
    {"persistent_max_rate", K_DOUBLE, F(persistent_max_rate), 0, 1e9},
    {"max_events", K_UINT, F(max_events), 16, 65536},
    {"max_candidates", K_UINT, F(max_candidates), 1, 50000000},
    {"max_destinations", K_UINT, F(max_destinations), 0, 50000000},
    {"max_total_events", K_UINT, F(max_total_events), 16, 4000000000.0},
    {"idle_expire", K_DURATION, F(idle_ms), 3600, 30 * 86400.0},
    {"dest_expire", K_DURATION, F(dest_idle_ms), 3600, 365 * 86400.0},
};

/* "30", "30s", "5m", "2h", "7d": milliseconds, or -1. Fractions are
 * allowed ("0.5"). */
static double parse_duration(const char *v) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || errno || !isfinite(x) || x < 0)
    return -1;
  double unit = 1;
  if (*end == 's')
    end++;
  else if (*end == 'm')
    unit = 60, end++;
  else if (*end == 'h')
    unit = 3600, end++;
  else if (*end == 'd')
    unit = 86400, end++;
  if (*end)
    return -1;
  return x * unit;
}

static int parse_proto(const char *s, size_t len, uint8_t *proto) {
  if (len == 3 && strncasecmp(s, "tcp", 3) == 0)
    *proto = 6;
  else if (len == 3 && strncasecmp(s, "udp", 3) == 0)
    *proto = 17;
  else
    return -1;
  return 0;
}

/* "udp/123,tcp/5222" or "" (none). */
static int parse_services(nfh__bcn_params *p, const char *v) {
  p->nquiet = 0;
  const char *s = v;
  while (*s == ' ')
    s++;
  while (*s) {
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    const char *slash = memchr(s, '/', len);
    if (!slash || p->nquiet == NFH__BCN_MAX_QUIET)
      return -1;
    uint8_t proto;
    if (parse_proto(s, (size_t)(slash - s), &proto) != 0)
      return -1;
    char num[8];
    size_t nl = len - (size_t)(slash - s) - 1;
    while (nl && slash[nl] == ' ')
      nl--;
    if (nl == 0 || nl >= sizeof(num))
      return -1;
    memcpy(num, slash + 1, nl);
    num[nl] = '\0';
    char *end;
    long port = strtol(num, &end, 10);
    if (*end || port < 0 || port > 65535)
      return -1;
    p->quiet[p->nquiet].proto = proto;
    p->quiet[p->nquiet].port = (uint16_t)port;
    p->nquiet++;
    s = comma ? comma + 1 : s + len;
    while (*s == ' ')
      s++;
  }
  return 0;
}

static int apply(nfh__bcn_params *p, const spec *sp, const char *v) {
  char *base = (char *)p + sp->offset;
  char *end;
  switch (sp->kind) {
  case K_UINT: {
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || x != floor(x) || x < sp->min ||
        x > sp->max)
      return -1;
    if (sp->offset == F(max_total_events))
      *(uint64_t *)base = (uint64_t)x;
    else
      *(uint32_t *)base = (uint32_t)x;
    return 0;
  }
  case K_DOUBLE: {
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x) || x < sp->min ||
        x > sp->max)
      return -1;
    *(double *)base = x;
    return 0;
  }
  case K_DURATION: {
    double s = parse_duration(v);
    if (s < sp->min || s > sp->max)
      return -1;
    *(uint64_t *)base = (uint64_t)(s * 1000.0 + 0.5);
    return 0;
  }
  case K_BOOL:
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
        !strcasecmp(v, "on") || !strcmp(v, "1"))
      *(int *)base = 1;
    else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
             !strcasecmp(v, "off") || !strcmp(v, "0"))
      *(int *)base = 0;
    else
      return -1;
    return 0;
  case K_SEVERITY:
    return nfh_severity_parse(v, (nfh_severity *)base);
  case K_SERVICES:
    return parse_services(p, v);
  }
  return -1;
}

int nfh__bcn_params_parse(nfh__bcn_params *p,
                          const nfh_plugin_setting *settings, size_t n,
                          char *err, size_t errlen) {
  nfh__bcn_params_default(p);
  size_t nspecs = sizeof(specs) / sizeof(specs[0]);
  for (size_t i = 0; i < n; i++) {
    const char *k = settings[i].key, *v = settings[i].value;
    const spec *sp = NULL;
    for (size_t j = 0; j < nspecs; j++)
      if (strcmp(k, specs[j].key) == 0)
        sp = &specs[j];
    if (!sp) {
      snprintf(err, errlen,
               "unknown parameter '%s' (see nfhunt-beaconing(7) for the "
               "list)",
               k);
      return -1;
    }
    if (apply(p, sp, v) != 0) {
      /* The valid values, so that the fix needs no page. */
      switch (sp->kind) {
      case K_UINT:
        snprintf(err, errlen, "bad value '%s' for %s: an integer from %.0f "
                 "to %.0f", v, k, sp->min, sp->max);
        break;
      case K_DOUBLE:
        snprintf(err, errlen, "bad value '%s' for %s: a number from %g to "
                 "%g", v, k, sp->min, sp->max);
        break;
      case K_DURATION:
        snprintf(err, errlen, "bad value '%s' for %s: a duration (300, 5m, "
                 "2h, 1d) from %gs to %gs", v, k, sp->min, sp->max);
        break;
      case K_BOOL:
        snprintf(err, errlen, "bad value '%s' for %s: yes or no", v, k);
        break;
      case K_SEVERITY:
        snprintf(err, errlen, "bad value '%s' for %s: info, low, medium, "
                 "high or critical", v, k);
        break;
      case K_SERVICES:
        snprintf(err, errlen,
                 "bad value '%s' for %s: a list of "
                 "proto/port (tcp, udp), at most %d",
                 v, k, NFH__BCN_MAX_QUIET);
        break;
      }
      return -1;
    }
  }
  /* Relations between settings. */
  if (p->min_period_ms >= p->max_period_ms) {
    snprintf(err, errlen, "min_period must be below max_period");
    return -1;
  }
  if (p->idle_ms < 2 * p->max_period_ms) {
    snprintf(err, errlen,
             "idle_expire must be at least twice max_period, or slow "
             "beacons are forgotten between beats");
    return -1;
  }
  if (p->min_conns > p->max_events) {
    snprintf(err, errlen, "min_conns must not exceed max_events");
    return -1;
  }
  if (p->merge_ms >= p->min_period_ms) {
    snprintf(err, errlen, "merge must be shorter than min_period");
    return -1;
  }
  return 0;
}

int nfh__bcn_params_quiet(const nfh__bcn_params *p, uint8_t proto,
                          uint16_t port) {
  for (size_t i = 0; i < p->nquiet; i++)
    if (p->quiet[i].proto == proto && p->quiet[i].port == port)
      return 1;
  return 0;
}
