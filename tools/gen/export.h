/*
 * gen/export.h - sending the generated records as NetFlow v9 or IPFIX.
 *
 * The records go to a collector (normally nfcapd) in UDP datagrams of at
 * most 'mtu' bytes, in the order the engine gives them (by end time), so
 * the data takes the path production data takes. Wire facts, checked
 * against nfdump 1.7.1 (src/netflow/netflow_v9.c, ipfix.c):
 *
 * - Data templates: one per address family and per ICMP/non-ICMP, so an
 *   ICMP record carries type and code in IE 32 (IPFIX: 32 or 139) and no
 *   ports. nfdump's IPFIX path copies IE 32/139 into the destination port
 *   and would clobber a TCP port were both in one template.
 * - Times: v9 carries FIRST/LAST_SWITCHED (IEs 22/21) in sysUptime
 *   milliseconds; nfcapd adds the boot time it derives from the header
 *   (unix_secs * 1000 - sysUptime). The exporter chooses a boot time on
 *   a whole second and stamps each datagram at a whole second, so the
 *   times arrive to the millisecond. IPFIX carries absolute
 *   flowStart/EndMilliseconds (IEs 152/153).
 * - Sampling (sampling > 1): options templates announce the sampler and
 *   the data records of v9 name it in IE 48. nfdump 1.7.1 only takes an
 *   options template as a sampler when its flags (one bit per IE)
 *   match exactly: in v9, IE 34 without IE 35 (the sampler id may come
 *   from IE 48, the algorithm from IE 49); in IPFIX, IE 306 with
 *   neither 302 nor 304, or 34 without 35. Later versions want 34 with
 *   35 (v9) or 302+304+305+306 (IPFIX) instead. So two options templates
 *   go out, one for each reading, with the same interval:
 *     v9    48 + 49 + 34   (1.7.1: sampler <id>)
 *           34 + 35        (later: the exporter's generic sampler)
 *     IPFIX 305 + 306      (1.7.1: sampler 0, which data records without
 *                           IE 302 select)
 *           302 + 304 + 305 + 306 (later; selector id 0)
 *   The data records carry the sampled counts; the collector multiplies
 *   them by (305 + 306) / 305, or the #34 interval.
 * - Templates and options go out first and again every 'template_every'
 *   datagrams (RFC 7011 §8.4: over UDP, templates are refreshed).
 * - Sequence numbers: v9 counts datagrams; IPFIX counts flow data
 *   records only, as nfcapd expects (RFC 7011 would count the options
 *   data records too, and nfcapd would then see a sequence failure at
 *   every refresh).
 * - Pacing: 'rate' records per second, or 'speedup' times the scenario's
 *   own pace (then a 5-minute slot takes 300 / speedup seconds).
 */
#ifndef NFH_GEN_EXPORT_H
#define NFH_GEN_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/status.h>

#include "engine.h"

typedef struct gen_export_options {
  const char *host;         /* collector address or name */
  const char *port;         /* UDP port */
  int version;              /* 9 or 10 */
  double rate;              /* records per second; 0: no limit */
  double speedup;           /* > 0: pace by scenario time instead */
  uint32_t template_every;  /* datagrams between template refreshes */
  uint32_t sampling;        /* 1-in-N; 0 or 1 unsampled */
  uint8_t sampler_id;       /* v9 IE 48 value */
  uint32_t source_id;       /* v9 source id / IPFIX observation domain */
  uint64_t start_ms;        /* scenario start (pacing by speedup) */
  size_t mtu;               /* datagram size limit; 0: 1400 */
} gen_export_options;

typedef struct gen_export gen_export;

/* Resolves the collector and opens a connected UDP socket. Returns
 * NFH_OK, NFH_EINVAL (bad version, unresolvable address; why in
 * gen_export_error of a NULL exporter is not available, so the message
 * goes to 'why') or NFH_EIO / NFH_ENOMEM. */
nfh_status gen_export_create(const gen_export_options *o, gen_export **out,
                             char *why, size_t len);

/* Closes the socket and frees the exporter; NULL is a no-op. */
void gen_export_destroy(gen_export *e);

/* The sink to give the engine; its 'finish' sends the last datagram. */
gen_sink gen_export_sink(gen_export *e);

/* Statistics: datagrams and records sent, sends refused (a connected UDP
 * socket reports ICMP port unreachable as ECONNREFUSED: no collector). */
typedef struct gen_export_stats {
  uint64_t datagrams, records, refused;
} gen_export_stats;

void gen_export_stats_get(const gen_export *e, gen_export_stats *st);

const char *gen_export_error(const gen_export *e);

#endif
