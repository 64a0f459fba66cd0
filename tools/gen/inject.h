/*
 * gen/inject.h - injected (malicious) activities with ground truth.
 *
 * An activity is given as "KIND" or "KIND:key=value,key=value..." (on
 * the command line) or "KIND key=value ..." (a scenario file line).
 * Numeric values are ranges (see param.h); each activity draws its own
 * values from them, with its own stream, when it is added, and writes the
 * values it drew into its label. Kinds (aliases in brackets) and their
 * detector:
 *
 *   horizontal_scan [hscan]    port_scan    one source, one port, many
 *       hosts. src=external|internal, net=dmz|users|servers, port=,
 *       proto=tcp|udp, targets=, speed=fast|slow (fast 2m-10m, slow
 *       2h-6h), duration=, open=%, refused=%, unreach=% (the rest goes
 *       unanswered), order=random|seq
 *   vertical_scan [vscan]      port_scan    one source, many ports of one
 *       host. src=, net=, ports= (how many), range=lo-hi (which),
 *       speed=, duration=, open=, refused=, unreach=
 *   distributed_scan [dscan]   port_scan    many sources, one port, many
 *       hosts. sources=, net=, port=, targets=, duration=, open=,
 *       refused=, unreach=
 *   beacon                     beaconing    one inside host calling a C2
 *       server. period=, jitter=% (of the period), bytes_out=,
 *       bytes_in=, duration=, missed=% (beats skipped), port=,
 *       proto=tcp|udp
 *   bulk_exfiltration [exfil]  exfiltration GBs to one rare host, fast.
 *       size=, duration=, streams=, port=
 *   slow_exfiltration [slowexfil] exfiltration tens of MB per hour for
 *       hours, one long connection. rate= (bytes per hour), duration=,
 *       port=
 *   inbound_flood [flood_in]   volumetric   many sources to one DMZ host.
 *       variant=syn|udp|icmp|http|slowloris, sources=, pps=, duration=,
 *       conns= (source ports per source; slowloris: sockets), answered=%
 *       (SYNs the victim answers), port=; http: completed sessions from a
 *       few sources, rate= (sessions a second)
 *   outbound_flood [flood_out] volumetric   one inside host flooding an
 *       outside one. variant=udp|syn|icmp|slowloris, pps=, duration=, conns=,
 *       port=
 *   dns_tunnel [dnstunnel]     exfiltration an inside host asking the
 *       attacker's name server for names full of data. rate= (queries a
 *       second), bytes_out= (a query's datagram), bytes_in= (an answer's),
 *       duration=
 *   c2_session [c2session]     beaconing    an inside host holding one
 *       connection to its C2 server for hours. bytes_out=, bytes_in=
 *       (a minute's, each way), duration=, port=
 *
 * Every kind also takes at= (start, as an offset from the run's start;
 * default: anywhere the activity fits) and count= (that many independent
 * activities from the same ranges).
 */
#ifndef NFH_GEN_INJECT_H
#define NFH_GEN_INJECT_H

#include <stddef.h>

#include <nfhunt/status.h>

#include "engine.h"

typedef struct gen_inject gen_inject;

/* Creates an empty set of activities; 'w' is borrowed for its life.
 * Returns NFH_OK or NFH_ENOMEM. */
nfh_status gen_inject_create(const gen_world *w, gen_inject **out);

void gen_inject_destroy(gen_inject *inj);

/* Adds the activities of one spec (see above), with their labels.
 * Returns NFH_OK; NFH_ESYNTAX or NFH_EINVAL with a message in why (no
 * activity of this spec added); NFH_ENOMEM. */
nfh_status gen_inject_add(gen_inject *inj, const char *spec, char *why,
                          size_t len);

/* Adds the default mix, scaled to the run's length: a fast and (on runs
 * of 3 h or more) a slow horizontal scan, a fast and (4 h or more) a
 * slow vertical scan, a distributed scan, three beacons, a bulk and (3 h
 * or more) a slow exfiltration, an inbound SYN flood and an outbound UDP
 * flood. Returns NFH_OK or NFH_ENOMEM. */
nfh_status gen_inject_defaults(gen_inject *inj);

/* Number of activities. */
size_t gen_inject_count(const gen_inject *inj);

/* Adds the sessions the activities start in [t0, t1). */
nfh_status gen_inject_slot(gen_inject *inj, uint64_t t0, uint64_t t1);

#endif
