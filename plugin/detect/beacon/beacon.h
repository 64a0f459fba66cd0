/*
 * beacon.h - the beaconing detector module ("beaconing").
 *
 * What it hunts. An implant on an internal host calls home: it sleeps a
 * period, connects to its command-and-control server, sleeps again. The
 * period ranges from seconds (interactive) to hours (slow and quiet),
 * with jitter added on purpose, beats lost to sleep, failures and
 * sampling, and payloads that may be tiny. MITRE ATT&CK T1071
 * (application layer protocol; T1071.004 over DNS), plus T1573 on TLS
 * ports.
 *
 * How. For each (internal client, server, server port, protocol) it
 * keeps the start times and bytes of the stitched connections (the
 * engine merges the records of one session, so a long session cut by
 * the exporter's active timeout is one connection) in a timeline that
 * the state carries across runs (track.h): hourly runs and five-minute
 * nfcapd -x runs add up to the hours and days a slow beacon needs. At
 * the end of each run every timeline long enough is scored (score.h):
 * a period searched among the intervals, robust to jitter, missed beats
 * and follow-up connections; its regularity above what random arrivals
 * reach by chance; the regularity of bytes per beat; the coverage of
 * the span. Then judged (judge.h): duration and the destination's rarity
 * raise the rank; a destination many internal hosts beacon to (NTP
 * pools, SaaS keepalives) is one finding at info, a client polling many
 * servers with one period (a monitor) one at low; a busy destination
 * (many contacts) caps a beacon at low, quiet services (NTP) at info;
 * internal servers are watched only with internal = yes, and DNS to the
 * site's own resolvers never. The allowlist (api->is_allowed for
 * "beaconing": the server with its port, or the client as a whole)
 * silences a pair.
 *
 * Watched: TCP and UDP, ICMP echo. Only connections opened by an
 * internal client count.
 *
 * Findings. One per (client, server, port, proto) that is live in the
 * run (a beat in the run's window, or the next beat not yet overdue by
 * three periods), key "CLIENT|SERVER|tcp/443", stable across runs so
 * that the report marks it ongoing; groups as "shared|SERVER|tcp/443"
 * and "CLIENT|poller|tcp/443". Parameters: README.params.
 */
#ifndef NFH_BEACON_BEACON_H
#define NFH_BEACON_BEACON_H

#include <nfhunt/plugin.h>

/* The module's one exported symbol: the detector's descriptor, a static
 * constant that lives as long as the module is loaded. */
const nfh_plugin_descriptor *nfh_plugin_entry(void);

#endif
