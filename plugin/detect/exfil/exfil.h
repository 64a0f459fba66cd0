/*
 * exfil.h - the exfiltration detector module ("exfiltration").
 *
 * What it hunts. An internal host sending data out: GBs to one rare host
 * within minutes or hours (bulk), or tens of MB an hour for hours to a
 * destination few hosts use (low and slow: every hour unremarkable, the
 * sum not). MITRE ATT&CK T1041 (over a C2 channel: a dedicated server on
 * a web port), T1048 (over an alternative protocol: other ports, UDP),
 * T1567 (to a web service: a web port shared with other hosts), T1030
 * for the steady small chunks of a slow transfer.
 *
 * How it measures. Raw flow records give each hour its bytes (a record
 * carries its own time, so an upload of many hours that the engine hands
 * over as one connection at its end still shows its hourly shape); the
 * stitched connections say who opened them, so that only what an
 * internal host sent as client counts: a public server's responses to
 * outside clients are not its exfiltration, and records that the
 * exporter cut by its active timeout are one transfer. Per (internal,
 * external) pair: bytes out and in per clock hour and in all, the
 * producer/consumer ratio PCR = (out - in) / (out + in) (uploads are
 * near +1; downloads, negative, never count), the destination's
 * prevalence (internal hosts that use it, and that upload to it) and
 * age, the source's usual volume at that hour (its baseline per hour of
 * week and of day) and the pair's own habits (days and hours of day it
 * uploaded before).
 *
 * Against false alarms: popular destinations (cloud sync, SaaS, CDNs)
 * rank down to low or nothing; a transfer that recurs at the same hour
 * of day on earlier days (a nightly backup, learned in the state or seen
 * within a long run) is at most low; a destination several internal
 * hosts upload to is a shared target (one step down); allowlists
 * (api->is_allowed for the destination and port, or the source) skip a
 * pair; multicast, broadcast and other non-unicast destinations are
 * ignored. The rules are in judge.h.
 *
 * Sampling: byte totals of sampled exporters are estimates; findings are
 * kept (bulk volume survives sampling) with lower confidence and say so
 * in their evidence.
 *
 * Findings: one per (source, destination), key "SRC|DST", and one per
 * source that sent to many rare destinations none of which stands out,
 * key "SRC|*". Parameters: README.params. State: memory.h.
 */
#ifndef NFH_EXFIL_EXFIL_H
#define NFH_EXFIL_EXFIL_H

#include <nfhunt/plugin.h>

/* The module's one exported symbol: the detector's descriptor, a static
 * constant that lives as long as the module is loaded. */
const nfh_plugin_descriptor *nfh_plugin_entry(void);

#endif
