/*
 * findings.h - turning the port-scan evidence into findings (private to
 * the port_scan module).
 *
 * At the end of a run the evidence store (track.h) is read once: for
 * every source, the ports on which it failed on many hosts (horizontal)
 * and the hosts on which it failed on many ports (vertical), gated by the
 * TRW verdict or an overwhelming failure share; then, across sources,
 * ports on which many sources each failed on a few hosts (distributed);
 * then single services hammered with refused attempts. Only activity
 * that reaches into this run is reported, so evidence carried over from
 * earlier runs adds to a finding but never raises an old one again.
 *
 * Findings are kept few: at most one per (source, kind, port or host),
 * several ports or hosts of one source fold into one finding, and past
 * edge_max_findings the external scanners of our hosts (the Internet's
 * constant background) are summed up in a single finding.
 */
#ifndef NFH_DETECT_PORTSCAN_FINDINGS_H
#define NFH_DETECT_PORTSCAN_FINDINGS_H

#include <stdint.h>

#include <nfhunt/plugin.h>

#include "../resolvers.h"
#include "portscan.h"
#include "track.h"

/* What the run as a whole says about the data. */
typedef struct ps_run {
  uint32_t run_start_s;  /* first data second of this run */
  uint64_t expect_reply; /* TCP connections whose client sent ACKs */
  uint64_t replied;      /* ... of which a reply was seen */
  int one_way;           /* the exporter shows no replies */
  uint64_t long_tcp;     /* TCP clients that sent over 4 data packets */
  uint64_t long_tcp_noack; /* ... of which without any ACK flag */
  int flags_per_packet;  /* TCP flags are one packet's, not the flow's */
  uint64_t unknown_sampled; /* connections sampled at an unknown interval */
  int sampled_unknown;   /* most were: silence is no evidence */
  uint32_t end_s;        /* last data second of the store */
  /* The site's resolvers, as the run showed them: internal hosts that
   * two internal clients or more sent DNS to. Their own DNS out is
   * recursion (an upstream server that never answers, or a sampler
   * that kept the query and not its answer, is no scan's failure): a
   * resolver "probed 28 hosts on udp/53, 100% failed" at medium under
   * a 1:10 sampler no one announced (a tester's). See resolvers.h. */
  nfh__resolvers resolvers;
} ps_run;

/* Emits the run's findings through api->emit. The store is only read.
 * The external scanners it reported one by one are set in *reported
 * (malloc(3)ed, the caller frees it; NULL when none), *nreported of
 * them, for the caller to note in the store. Returns 0, or -1 when the
 * host refused a finding or memory ran out (the reason logged through
 * api->log). */
int nfh__ps_report(const nfh_host_api *api, const ps_config *cfg,
                   const ps_store *store, const ps_run *run,
                   ps_edge_seen **reported, size_t *nreported);

#endif
