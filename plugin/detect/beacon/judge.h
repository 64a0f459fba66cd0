/*
 * judge.h - from a regular timeline to a finding: rank, severity,
 * confidence and the words a person reads.
 *
 * Score (0..100): 100 x (0.55 regularity + 0.15 bytes + 0.10 coverage +
 * 0.20 duration) x (0.6 + 0.4 rarity), x 0.6 for an internal server,
 * x 0.5 for a popular destination, x 0.3 for a quiet service. Duration
 * grows with the logarithm of the span (30 min .. 48 h) and of the
 * beats (min_conns .. 32x). Rarity is 1 for a destination one internal
 * host uses, 1/(1 + (n-1)/4) for n.
 *
 * Severity:
 *   low       regular above chance (min_regularity); or jittered:
 *             intervals below the dispersion Poisson arrivals reach
 *             once in a thousand (score.h, item 7), bytes regular
 *             (>= 0.7), span >= 2 h, coverage >= 0.6 in bins of the
 *             mean interval (dispersion_coverage), one client,
 *             unsampled
 *   medium    regularity >= 0.45, span >= 1 h, >= 12 beats; or
 *             jittered with dispersion <= 0.7 of that level, >= 16
 *             beats, span >= 4 h, coverage >= 0.8; or jittered whatever
 *             the sizes (bytes >= 0.2): dispersion <= 0.5 of that
 *             level, >= 24 beats, span >= 4 h, coverage >= 0.8, one
 *             client, unsampled
 *   high      regularity >= 0.6, span >= high_span, at most 2 internal
 *             clients, coverage >= 0.6, bytes regular (>= 0.5) unless
 *             sampled, score >= 60
 *   critical  regularity >= 0.75, span >= critical_span, one client,
 *             coverage >= 0.8, bytes >= 0.7, unsampled, score >= 75
 * Groups (below): a destination many clients beacon to is one finding at
 * info; a client polling many servers with one period one at low.
 * Caps: a destination popular by contacts (popular_hosts internal
 * clients, or at least 3 and popular_share of the internal hosts) is at
 * most low: one host beaconing to a busy address (a CDN front) is worth
 * a look, not an alarm. A quiet service (NTP by default) is info; an
 * internal server at most medium.
 *
 * Confidence: 0.5 + 0.4 regularity + 0.1 (beats / 50, at most 1), lowered
 * by up to 35% in proportion to the connections from sampled exporters
 * (beats go missing, bytes are estimates), by 10% when most directions
 * were guessed from ports towards a server port above 1023, and by 10%
 * for a span under two hours.
 */
#ifndef NFH_BEACON_JUDGE_H
#define NFH_BEACON_JUDGE_H

#include <stddef.h>

#include <nfhunt/finding.h>

#include "params.h"
#include "score.h"
#include "track.h"

typedef struct nfh__bcn_verdict {
  nfh_severity severity;
  double score;       /* 0..100 */
  double confidence;  /* 0..1 */
  double duration;    /* 0..1 */
  double rarity;      /* 0..1 */
  double bytes;       /* the bytes score used (0.5 when sampled) */
  unsigned clients;   /* internal clients of the destination */
  int saturated;      /* clients past the exact count: estimated */
  double hosts;       /* internal hosts seen (estimate) */
  int popular;        /* popular by contacts */
  nfh_severity severity_alone; /* the severity but for popularity: what
                                  a bot of a campaign is worth */
  int quiet;          /* a quiet service */
  int internal;       /* internal server */
  double sampled_share;
  int sampled_reading; /* the sampled reading of the timeline won */
  double required;     /* regularity this destination needs */
  int bulk;            /* each beat carries BULK_BEAT_BYTES or more out:
                          a scheduled transfer (at most low) */
  int jittered;        /* reported, or made medium, for its bounded
                          intervals (score.h, item 7), not for its
                          regularity */
  double span_s;       /* the beacon's span: the timeline's, or since the
                          pair was first seen when the timeline was
                          trimmed to max_events and the connections
                          since then fill that time at the period */
} nfh__bcn_verdict;

/* Judges candidate c whose timeline scored s; d is its destination's
 * prevalence record (NULL: unknown, counted as one client) and hosts the
 * internal hosts seen. Fills *v. Returns 1 when the timeline is regular
 * enough for its destination: min_regularity, plus up to 0.25 more as
 * the destination's internal clients grow to 16 (among many visitors of
 * a busy site, one is regular by chance more often, and a busy site is
 * less often C2) and, for a destination popular by contacts, twice
 * min_conns beats; else 0. */
int nfh__bcn_judge(const nfh__bcn_params *p, const nfh__bcn_cand *c,
                   const nfh__bcn_score *s, const nfh__bcn_dest *d,
                   double hosts, int sampled_reading, nfh__bcn_verdict *v);

/* Groups of beacons that are one thing, reported as one finding.
 *
 * Shared: a destination many internal clients beacon to. Software every
 * installation runs (SaaS keepalives, agents, update checks, NTP pools)
 * beacons from many hosts; an implant, from one or a few. Contact
 * prevalence alone cannot tell a CDN address that hosts both a popular
 * site and fronted C2, so the count is of clients that BEACON to it.
 * Reported at info.
 *
 * Few: fewer clients than that, NFH__BCN_FEW_CLIENTS or more, two of them
 * reported, beating with one period: software a few hosts share, or one
 * campaign (several bots calling one C2); which of the two, a person
 * decides once, not once per host. In a small site at night the
 * keepalive of a SaaS every host uses by day shows from the two to six
 * hosts that are on: each was a medium beacon. Reported at the members'
 * severity, at most medium (a campaign must not fall below its bots),
 * under the shared key (it becomes the info finding when more clients
 * show).
 *
 * Campaign: NFH__BCN_FEW_CLIENTS or more clients beating with one period
 * to a destination that hardly any other internal host contacts (they
 * are most of its clients), fewer than campaign_max and below
 * campaign_share of the internal hosts. A keepalive of software many
 * hosts run reaches a share of the network (the SaaS every desk uses),
 * a campaign a handful of infected hosts in it, however many clients
 * that makes: ten bots are popular by count alone, and would be folded
 * into a shared destination at info. Reported at the severity its
 * members would have but for their number of clients, at most medium:
 * one finding for a person to decide on.
 *
 * Poller: one client that beacons to poller_servers or more servers on
 * one port with one period (within 10%): a monitor checking its
 * targets. An implant talks to one or two servers. Reported at low at
 * most, so that a monitor of a hundred targets is one line. */
#define NFH__BCN_GROUP_SAMPLE 8
#define NFH__BCN_FEW_CLIENTS 2

typedef enum nfh__bcn_group_kind {
  NFH__BCN_GROUP_SHARED,   /* a destination many clients beat to (info) */
  NFH__BCN_GROUP_CAMPAIGN, /* clients beating alike to a destination
                              no other internal host uses, a small share
                              of the network (at most medium) */
  NFH__BCN_GROUP_FEW,      /* one NFH__BCN_FEW_CLIENTS or more, fewer than
                              make it shared, beat to (at most medium) */
  NFH__BCN_GROUP_POLLER    /* a client polling many servers (at most low) */
} nfh__bcn_group_kind;

typedef struct nfh__bcn_group {
  nfh__bcn_group_kind kind;
  nfh_addr addr; /* the destination (shared, few) or the client (poller) */
  unsigned net_prefix; /* 0, or addr is a network of rotations (/24, /64) */
  uint16_t port;
  uint8_t proto;
  unsigned members; /* clients (shared) or servers (poller) */
  /* Of a poller's members folded in, those whose client sent nothing
   * the exporters showed (answers alone: a reflection's, or an exporter
   * that sees one direction). */
  unsigned taken, silent;
  nfh_addr sample[NFH__BCN_GROUP_SAMPLE]; /* the other side, a sample */
  unsigned nsample;
  double period_median, period_min, period_max; /* seconds */
  double regularity_median;
  uint64_t conns, first_ms, last_ms;
  double hosts;
  nfh_severity severity;
  double score, confidence;
} nfh__bcn_group;

/* Whether k internal clients make a destination popular: popular_hosts,
 * or popular_share of the internal hosts with at least 3 (so that a lab
 * of ten hosts does not make every pair popular). The judge counts the
 * destination's clients by contact; the groups count those beaconing to
 * it (shared). */
int nfh__bcn_is_popular(const nfh__bcn_params *p, unsigned k, double hosts);

/* Writes key ("shared|SERVER|tcp/443", "shared|NET/24|tcp/443" or
 * "CLIENT|poller|tcp/443"), summary and evidence for a group, as
 * nfh__bcn_describe does. */
void nfh__bcn_describe_group(const nfh__bcn_group *g, char *key,
                             size_t keylen, char *summary, size_t sumlen,
                             char *evidence, size_t evlen);

/* The MITRE ATT&CK techniques for (proto, port): T1071 (application
 * layer protocol), T1071.004 for DNS, plus T1573 (encrypted channel) on
 * the usual TLS ports. A static string. */
const char *nfh__bcn_mitre(uint8_t proto, uint16_t port);

/* Writes the finding's key ("CLIENT|SERVER|tcp/443"), summary and
 * evidence (a JSON object) into the buffers; text that does not fit is
 * cut (the evidence buffer must be large enough for a complete object:
 * 2048 bytes are). */
void nfh__bcn_describe(const nfh__bcn_cand *c, const nfh__bcn_score *s,
                       const nfh__bcn_verdict *v, char *key, size_t keylen,
                       char *summary, size_t sumlen, char *evidence,
                       size_t evlen);

/* A beacon that rotates over addresses of one network: c holds the
 * merged timeline (its server one of them), 'net' the network
 * ("185.100.87.0/24"), 'naddr' how many of its addresses were called.
 * The key is "CLIENT|NET|tcp/443"; the evidence adds "rotation". */
void nfh__bcn_describe_rotation(const nfh__bcn_cand *c,
                                const nfh__bcn_score *s,
                                const nfh__bcn_verdict *v, const char *net,
                                unsigned naddr, char *key, size_t keylen,
                                char *summary, size_t sumlen, char *evidence,
                                size_t evlen);

/* A beacon that rotates over ports of one server: c holds the merged
 * timeline (its port one of them), 'nports' how many ports were called.
 * The key is "CLIENT|SERVER|tcp/" and a star; the evidence adds
 * "rotation". */
void nfh__bcn_describe_port_rotation(const nfh__bcn_cand *c,
                                     const nfh__bcn_score *s,
                                     const nfh__bcn_verdict *v,
                                     unsigned nports, char *key,
                                     size_t keylen, char *summary,
                                     size_t sumlen, char *evidence,
                                     size_t evlen);

/* A beacon from one host whose IPv6 address changes (RFC 8981 temporary
 * addresses): c holds the merged timeline of the addresses of one /64
 * that called one server one after another (its client the newest),
 * 'client_net' the /64, 'naddr' how many addresses. The key is
 * "NET/64|SERVER|tcp/443", so that the finding keeps its id while the
 * host's address keeps changing; the evidence adds "client_rotation". */
void nfh__bcn_describe_client_rotation(
    const nfh__bcn_cand *c, const nfh__bcn_score *s, const nfh__bcn_verdict *v,
    const char *client_net, unsigned naddr, char *key, size_t keylen,
    char *summary, size_t sumlen, char *evidence, size_t evlen);

/* A persistent session: C2 that keeps one connection open (IRC bots,
 * reverse shells, implants on a long-lived TLS or websocket channel, or
 * beating over one UDP socket) shows no timeline of check-ins, only one
 * connection that lasts for hours with a trickle of bytes. The
 * candidate's latest session (its pieces joined across records and
 * runs) is one when it is TCP or UDP to an outside server, lasted
 * persistent_ms or more, the candidate started at most 3 sessions, it
 * carried at most persistent_max_rate bytes a second both ways on
 * average since first seen, and no other internal host uses the
 * destination; not on the ports of sessions people keep open on
 * purpose (SSH, telnet, RDP, VNC; VPNs: IKE, NAT-T, L2TP, PPTP, OpenVPN,
 * WireGuard) nor a quiet service's (NTP). Medium, score 40..64 with the
 * session's length from persistent_ms to six times it. It is no beacon
 * (no timeline); the finding says what it is. */
typedef struct nfh__bcn_persist {
  uint64_t start_ms, end_ms; /* the session */
  int opened_before; /* no SYN seen: open since before start_ms */
  double rate;       /* bytes a second, both ways, since first seen */
  unsigned clients;  /* internal hosts that use the destination */
  nfh_severity severity;
  double score, confidence;
} nfh__bcn_persist;

/* Whether c (d: its destination, or NULL) is a persistent session; out
 * filled when it is. */
int nfh__bcn_persistent(const nfh__bcn_params *p, const nfh__bcn_cand *c,
                        const nfh__bcn_dest *d, nfh__bcn_persist *out);

/* Key "persist|CLIENT|SERVER|tcp/PORT" (or udp/), summary and evidence
 * (JSON) of a persistent session. */
void nfh__bcn_describe_persistent(const nfh__bcn_cand *c,
                                  const nfh__bcn_persist *v,
                                  const nfh__bcn_params *p, char *key,
                                  size_t keylen, char *summary,
                                  size_t sumlen, char *evidence,
                                  size_t evlen);

#endif
