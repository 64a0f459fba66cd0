/*
 * params.h - the exfiltration detector's parameters and its clock.
 *
 * Every tunable of the detector is one field here, with its default,
 * bounds and meaning documented in README.params beside this file. The
 * settings come from create() as "key = value" strings; an unknown key
 * or a value out of range is refused with a message that says why.
 */
#ifndef NFH_EXFIL_PARAMS_H
#define NFH_EXFIL_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/finding.h>
#include <nfhunt/plugin.h>

typedef struct nfh__exf_params {
  /* Asymmetry. */
  double pcr_min, pcr_strong;
  /* Volumes (bytes). */
  double min_bytes, bulk_bytes, high_bytes, critical_bytes;
  /* Low and slow. */
  double slow_hour_bytes, slow_min_hours, slow_min_bytes, slow_high_hours,
      slow_high_bytes, slow_steadiness;
  /* Destinations. */
  double popular_hosts, shared_uploaders;
  /* The source's own baseline. */
  double ratio_min, high_ratio, host_floor, hod_min, how_min;
  double learn_days, habit_days, season_tolerance;
  /* Local hours of the night [night_start, night_end), when sites run
   * their backups; equal values: no night. */
  double night_start, night_end;
  /* Many rare destinations from one source. */
  double spread_min_dests, spread_dest_bytes, spread_min_bytes;
  /* DNS tunnels (see dns.h). */
  double dns_min_queries, dns_query_bytes, dns_min_bytes, dns_medium_bytes,
      dns_high_bytes, dns_shared_clients, dns_max_pairs, dns_memory_pairs;
  /* Bounds and memory. */
  double memory_hours, max_pairs, max_dests, max_hosts, max_memory_pairs,
      max_findings, expire_days;
  nfh_severity min_severity;
  int utc; /* clock = utc: hours of day and week in UTC, not local time */
} nfh__exf_params;

/* Whether hour of day 'hod' (0-23, of nfh__exf_clock) is in the night
 * of the parameters. */
int nfh__exf_night(const nfh__exf_params *p, unsigned hod);

/* Sets the defaults. */
void nfh__exf_params_default(nfh__exf_params *p);

/* Applies the settings (borrowed) over the current values. Returns 0,
 * or -1 with a one-line reason in msg (the parameters are then partly
 * applied: the caller discards them). */
int nfh__exf_params_parse(nfh__exf_params *p, const nfh_plugin_setting *s,
                          size_t n, char *msg, size_t len);

/* Where an hour falls on the detector's clock. */
typedef struct nfh__exf_when {
  int64_t day;      /* days since 1970-01-01 on the clock */
  unsigned hod;     /* hour of day, 0-23 */
  unsigned how;     /* hour of week, 0-167, Monday 00:00 = 0 */
} nfh__exf_when;

/* The clock position of the middle of the absolute (UTC epoch) hour
 * 'hour': local time (the TZ of the process, daylight saving included)
 * unless p->utc. Cannot fail; a time the C library cannot convert is
 * taken as UTC. */
nfh__exf_when nfh__exf_clock(const nfh__exf_params *p, uint32_t hour);

#endif
