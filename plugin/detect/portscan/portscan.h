/*
 * portscan.h - the port_scan detector module (private header).
 *
 * The module reports sources that probe many destinations and mostly
 * fail: horizontal scans (many hosts, one port), vertical scans (many
 * ports, one host), both at once (block scans), distributed sweeps
 * (many sources, one port, many hosts) and, as a separate low finding,
 * floods of refused connection attempts to one service. Evidence is
 * failed contact, judged per stitched connection (nfhunt/conn.h); see
 * track.h for the classes and the sequential test, and
 * nfhunt-portscan(7) for the parameters.
 *
 * The module exports one symbol, nfh_plugin_entry (nfhunt/plugin.h).
 */
#ifndef NFH_DETECT_PORTSCAN_H
#define NFH_DETECT_PORTSCAN_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/finding.h>
#include <nfhunt/plugin.h>

/* The detector's parameters: "key = value" settings over defaults. */
typedef struct ps_config {
  double theta0, theta1; /* P(success | benign), P(success | scanner) */
  double pd, pf;         /* detection and false positive targets */
  uint32_t min_hosts;    /* horizontal: failed hosts on one port */
  uint32_t min_ports;    /* vertical: failed ports on one host */
  double min_fail_ratio;    /* failed share of the targets */
  double strong_fail_ratio; /* enough without the TRW verdict */
  uint32_t dist_min_sources;   /* distributed: sources in the window */
  uint32_t dist_min_hosts;     /* distributed: their hosts together */
  uint32_t dist_min_src_hosts; /* each source failed on this many */
  uint32_t dist_window_s;
  uint32_t repeat_min_attempts; /* refused attempts on one service */
  double repeat_min_rate;       /* attempts per second */
  uint32_t slow_window_s; /* evidence carried across runs */
  uint32_t max_sources;   /* in memory */
  uint64_t max_entries;   /* targets + services in memory */
  uint32_t exact_targets; /* per source, before the sketch */
  uint32_t state_max_sources;
  uint64_t state_max_entries;
  unsigned hll_precision;
  double oneway_reply_share; /* below: the exporter shows no replies */
  uint32_t oneway_min_conns;
  nfh_severity edge_max_severity; /* external scanners of our hosts */
  nfh_severity min_severity;      /* weaker findings are not reported */
  uint32_t edge_max_findings;     /* of them individually, the rest
                                     summed up in one finding */
} ps_config;

/* Sets the defaults. */
void nfh__ps_config_default(ps_config *cfg);

/* Applies settings (borrowed) over the current values. Returns 0, or -1
 * with a message in err (at most errlen bytes) for an unknown key, a
 * malformed value or values that contradict each other; cfg may then be
 * partly changed. */
int nfh__ps_config_parse(ps_config *cfg, const nfh_plugin_setting *settings,
                         size_t n, char *err, size_t errlen);

/* The module's entry point (the one exported symbol). */
const nfh_plugin_descriptor *nfh_plugin_entry(void);

#endif
