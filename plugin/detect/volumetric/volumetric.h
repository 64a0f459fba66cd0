/*
 * volumetric.h - the volumetric anomaly detector module ("volumetric").
 *
 * What it does. Per 5-minute slot (a flow that spans slots is shared out
 * by duration) it counts bytes, packets, flow records and SYN-only
 * packets (TCP flows with SYN and without ACK), in and out, for the home
 * network as a whole and for every internal host, plus the number of
 * distinct external peers of each host (sources of its inbound traffic,
 * destinations of its outbound traffic). Only traffic that crosses the
 * home boundary counts: internal-to-internal and transit flows are
 * skipped, because a denial of service to or from the Internet is what
 * it hunts.
 *
 * Each count is judged against a robust baseline of the same entity
 * (baseline.h): the most specific one that is mature, i.e. the hour of
 * week, else the hour of day (each +/- season_tolerance hours), else the
 * host's overall baseline, else, for a host never seen, zero traffic. On
 * a first run the baselines are learned from the first learn_slots slots
 * of the window and those slots are then judged against them, with
 * lower confidence. A slot is anomalous when a count is at least z_min
 * robust deviations and ratio_min times above its baseline (both after
 * adding the count's absolute floor, so small hosts stay quiet).
 *
 * Whether an anomaly is a flood is decided by its shape, not its size:
 * SYN-only packets dominating, unanswered non-TCP traffic (small packets,
 * many sources or many flows), randomised-port floods (most packets in
 * flows of one or two packets) from many sources or at one target. A
 * big transfer that is answered, with full-size packets over few flows
 * (a backup, a cloud upload, a CDN download) is a bulk surge: reported
 * at low severity at most, medium only when extreme against a mature
 * baseline; an answered surge from many clients is a flash crowd (low,
 * medium when extreme).
 *
 * Findings: one per (kind, host) and run, spanning its anomalous slots,
 * with keys stable across runs: "in|ADDR" (an inbound flood against an
 * internal victim), "out|ADDR" (an internal host sending far beyond its
 * baseline: possible DoS participation), "net|in" and "net|out"
 * (network-wide anomalies that no host finding explains). MITRE: T1498
 * (T1498.001 direct floods, T1498.002 reflection), T1499 when one
 * service port is the target (T1499.001 for SYN floods).
 *
 * Parameters: README.params beside this file (folded into the man page).
 * State: per tracked host and for the network, the overall baselines and,
 * for the busiest hosts seen repeatedly, the hour-of-day and hour-of-week
 * cells; bounded by max_hosts and max_seasonal_hosts, hosts unseen for
 * expire_days are dropped.
 */
#ifndef NFH_VOLUMETRIC_VOLUMETRIC_H
#define NFH_VOLUMETRIC_VOLUMETRIC_H

#include <nfhunt/plugin.h>

/* The module's one exported symbol: the detector's descriptor, a static
 * constant that lives as long as the module is loaded. */
const nfh_plugin_descriptor *nfh_plugin_entry(void);

#endif
