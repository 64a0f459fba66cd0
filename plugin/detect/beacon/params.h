/*
 * params.h - the beaconing detector's settings (README.params beside
 * this file documents each one for the man page).
 *
 * Settings come as "key = value" strings from nfhunt.conf's [detector
 * beaconing] section or --set beaconing.KEY=VALUE. Durations take an
 * optional unit suffix (s, m, h, d; seconds without one). An unknown key
 * or a value out of range refuses the whole configuration with a
 * message naming the key: a typo must not silently run the defaults.
 */
#ifndef NFH_BEACON_PARAMS_H
#define NFH_BEACON_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/finding.h>
#include <nfhunt/plugin.h>

#define NFH__BCN_MAX_QUIET 32

/* A (protocol, port) pair: a "quiet service", reported at info only. */
typedef struct nfh__bcn_service {
  uint8_t proto;
  uint16_t port;
} nfh__bcn_service;

typedef struct nfh__bcn_params {
  /* What a beacon needs. */
  uint32_t min_conns;     /* beats in the timeline */
  uint64_t min_span_ms;   /* first to last beat */
  double min_periods;     /* the span holds this many periods */
  uint64_t min_period_ms; /* periods searched */
  uint64_t max_period_ms;
  uint32_t max_missed;    /* consecutive missed beats still one interval */
  uint64_t merge_ms;      /* starts closer are one beat */
  double min_regularity;  /* regularity above chance to report */
  /* Whom to watch. */
  int internal;           /* internal servers too (lower weight) */
  uint32_t popular_hosts; /* internal clients that make a destination
                             popular */
  double popular_share;   /* ... or this share of the internal hosts */
  double campaign_share;  /* clients beating alike to a destination no
                             other host uses, below this share of the
                             internal hosts: a campaign, not a shared
                             keepalive */
  uint32_t campaign_max;  /* ... and fewer than this many */
  nfh__bcn_service quiet[NFH__BCN_MAX_QUIET];
  size_t nquiet;
  uint32_t quiet_max_bytes; /* a quiet service's beats carry at most this
                               many client bytes (median); larger ones
                               on its port are something else */
  uint32_t quiet_min_bytes; /* ... and at least this many: smaller ones
                               are no packet of that service */
  uint32_t quiet_rare_bytes; /* beats above this many (median) are the
                                service's only when another internal
                                host polls that server too */
  uint32_t poller_servers; /* servers one client polls with one period
                              on one port that make it a poller */
  /* Severity. */
  uint64_t high_span_ms;     /* span needed for high */
  uint64_t critical_span_ms; /* span needed for critical */
  nfh_severity min_severity; /* weaker findings are not reported */
  uint32_t max_findings;     /* per run, the strongest */
  /* Sessions. */
  uint64_t continuation_gap_ms;
  uint64_t midstream_ms;
  uint64_t persistent_ms;     /* a persistent session lasts this (0: off) */
  double persistent_max_rate; /* bytes a second both ways, at most */
  /* Memory and state. */
  uint32_t max_events;
  uint32_t max_candidates;
  uint32_t max_destinations;
  uint64_t max_total_events;
  uint64_t idle_ms;      /* candidates idle this long are forgotten */
  uint64_t dest_idle_ms; /* destinations idle this long are forgotten */
} nfh__bcn_params;

/* Fills in the defaults. */
void nfh__bcn_params_default(nfh__bcn_params *p);

/* Applies the settings (borrowed for the call) over the defaults.
 * Returns 0; or -1 with a message in err (at most errlen bytes) naming
 * the bad key or value, *p then partly set and not to be used. */
int nfh__bcn_params_parse(nfh__bcn_params *p,
                          const nfh_plugin_setting *settings, size_t n,
                          char *err, size_t errlen);

/* Whether (proto, port) is one of the quiet services. */
int nfh__bcn_params_quiet(const nfh__bcn_params *p, uint8_t proto,
                          uint16_t port);

#endif
