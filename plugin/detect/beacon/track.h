/*
 * track.h - what the beaconing detector remembers, within a run and
 * across runs (through the state blob).
 *
 * Candidates. One per (internal client, server, server port, protocol):
 * the start times and bytes of its recent connections (the timeline,
 * oldest first, at most max_events: the oldest quarter is dropped when
 * it is full), and totals since it was first seen. Hourly cron runs see
 * one hour each and nfcapd -x runs five minutes: a 30-minute beacon
 * shows two connections per hourly run, so only a timeline carried
 * across runs ever shows the period.
 *
 * Continuations are not starts. The engine stitches the records of one
 * session within a run, but not across runs, and not across an idle
 * spell longer than its gap (the exporter's inactive timeout cuts an
 * idle session into its keepalives). So a TCP or UDP connection on the
 * same 5-tuple as the candidate's latest one (same client port) is that
 * session going on when it starts within continuation_gap of its end,
 * or, for TCP with flags exported, whenever the client sent no SYN. A
 * TCP connection whose client sent no SYN starting within 'midstream'
 * of the run's first data is a session open before the run. Otherwise
 * a long SSH session cut by hourly runs would be a one-hour beacon, and
 * an idle one's keepalives a 60 s beacon. (The price: an implant that
 * keeps one UDP socket open looks like a VPN keepalive.)
 *
 * Destinations. One per (server, port, protocol) that internal clients
 * contact: up to NFH__BCN_DEST_CLIENTS distinct clients (as 32-bit
 * hashes); beyond, the destination is marked saturated and the further
 * clients are one bit each of 64 (linear counting: an estimate within a
 * few clients up to about a hundred). A campaign of 40 bots must still
 * be told from a keepalive of 400 desks. Prevalence is
 * what separates an NTP pool or a SaaS keepalive that every host
 * reaches from one implant's C2.
 *
 * Internal hosts. A HyperLogLog sketch of the internal clients seen,
 * rotated weekly (the larger of this and the last week's counts), so
 * that "popular" can also mean a share of the network.
 *
 * Bounds. max_candidates, max_destinations (the least valuable of a few
 * random ones is evicted: few connections and long idle first),
 * max_events per candidate and max_total_events overall (the longest
 * timelines among a few random ones lose their older half). Idle
 * candidates and destinations expire.
 */
#ifndef NFH_BEACON_TRACK_H
#define NFH_BEACON_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/conn.h>
#include <nfhunt/flow.h>
#include <nfhunt/hll.h>

#include "table.h"

#define NFH__BCN_DEST_CLIENTS 16

/* One beat of a timeline: parallel connections that start within
 * merge_ms of the first are folded into it. */
typedef struct nfh__bcn_event {
  uint64_t t_ms;
  uint32_t cbytes; /* client -> server bytes (saturating) */
  uint32_t sbytes; /* server -> client bytes (saturating) */
} nfh__bcn_event;

/* Beats a candidate holds in its own record (nfh__bcn_cand.inl). */
#define NFH__BCN_INLINE_EV 4

/* nfh__bcn_cand.flags */
#define NFH__BCN_SERVER_HOME 0x01u /* the server is internal */
/* A connection counted bytes without packets (a firewall's NSEL events,
 * whose byte counters may leave the headers out). */
#define NFH__BCN_BYTES_ONLY 0x02u

typedef struct nfh__bcn_cand {
  nfh_addr client, server;
  uint16_t port;
  uint8_t proto;
  uint8_t flags;
  uint16_t last_client_port; /* of the latest connection */
  uint64_t first_ms;         /* first start ever seen */
  uint64_t last_ms;          /* latest start */
  uint64_t last_end_ms;      /* end of the latest connection */
  uint64_t conns, bytes;     /* since first seen */
  uint32_t sampled;          /* connections from sampled exporters */
  uint32_t replied;          /* connections the server answered */
  uint32_t guessed;          /* connections whose direction was guessed */
  uint32_t max_sampling;     /* largest 1-in-N */
  uint32_t nev, cap_ev; /* cap_ev: of ev */
  /* The timeline, oldest first: in 'inl' while it fits, then in ev
   * (owned; NULL before). Most pairs of a busy network are seen a few
   * times and evicted: inline beats cost them no allocation, and their
   * first lookups no second cache miss. Read through
   * nfh__bcn_events(). */
  nfh__bcn_event *ev;
  nfh__bcn_event inl[NFH__BCN_INLINE_EV];
} nfh__bcn_cand;

/* A candidate's timeline (nev beats) and the beats it has room for. */
static inline nfh__bcn_event *nfh__bcn_events(nfh__bcn_cand *c) {
  return c->ev ? c->ev : c->inl;
}
static inline const nfh__bcn_event *
nfh__bcn_events_const(const nfh__bcn_cand *c) {
  return c->ev ? c->ev : c->inl;
}
static inline uint32_t nfh__bcn_events_room(const nfh__bcn_cand *c) {
  return c->ev ? c->cap_ev : NFH__BCN_INLINE_EV;
}

typedef struct nfh__bcn_dest {
  nfh_addr server;
  uint16_t port;
  uint8_t proto;
  uint8_t nclients;
  uint8_t saturated; /* more than NFH__BCN_DEST_CLIENTS clients */
  uint64_t last_ms;
  uint64_t spill; /* clients beyond 'clients', one bit each (by hash) */
  uint32_t clients[NFH__BCN_DEST_CLIENTS];
} nfh__bcn_dest;

/* The 32-bit hash a destination counts its client 'client' by. */
uint32_t nfh__bcn_client_hash(const nfh_addr *client);

/* Counts the client of 32-bit hash 'client_hash' (once, however often
 * it comes) in d. */
void nfh__bcn_dest_add_client(nfh__bcn_dest *d, uint32_t client_hash);

/* The internal clients d counts: exact up to NFH__BCN_DEST_CLIENTS, then
 * estimated; at least 1. NFH__BCN_DEST_COUNT_MAX means at least that
 * many (the sketch is full). */
#define NFH__BCN_DEST_COUNT_MAX (NFH__BCN_DEST_CLIENTS + 320)
unsigned nfh__bcn_dest_clients(const nfh__bcn_dest *d);

typedef struct nfh__bcn_limits {
  uint32_t max_candidates;
  uint32_t max_destinations;
  uint32_t max_events;        /* per candidate, >= 16 */
  uint64_t max_total_events;  /* all candidates */
  uint64_t merge_ms;          /* starts closer are one beat */
  uint64_t continuation_gap_ms;
} nfh__bcn_limits;

typedef struct nfh__bcn_track {
  nfh__bcn_limits lim;
  nfh__bcn_table cands; /* of nfh__bcn_cand */
  nfh__bcn_table dests; /* of nfh__bcn_dest */
  uint64_t total_events;
  uint64_t rng;
  nfh_hll *hosts, *hosts_prev;
  uint64_t hosts_week; /* data week of 'hosts' */
  uint64_t data_ms;    /* latest connection end seen, this run or before */
  uint64_t evicted;    /* candidates evicted for room (this process) */
} nfh__bcn_track;

/* Sets up an empty tracker with these limits (copied). Returns 0, or -1
 * when out of memory (then freed: nfh__bcn_track_free is still safe). */
int nfh__bcn_track_init(nfh__bcn_track *tk, const nfh__bcn_limits *lim);

/* Frees everything the tracker holds. A zeroed tracker is fine. */
void nfh__bcn_track_free(nfh__bcn_track *tk);

/* Counts an internal client seen at data time t_ms. */
void nfh__bcn_track_host(nfh__bcn_track *tk, const nfh_addr *client,
                         uint64_t t_ms);

/* Estimated internal hosts seen (this week or the last, the larger). */
double nfh__bcn_track_hosts(const nfh__bcn_track *tk);

/* Records that 'client' contacted (server, port, proto) at t_ms. 'hash'
 * is the destination's hash from nfh__bcn_track_prefetch, or 0 to
 * compute it here. When the table is full the least valuable destination
 * gives way; returns -1 only when out of memory (nothing recorded). */
int nfh__bcn_track_contact(nfh__bcn_track *tk, const nfh_addr *server,
                           uint16_t port, uint8_t proto,
                           const nfh_addr *client, uint64_t t_ms,
                           uint64_t hash);

/* The hashes of connection c's destination and candidate keys, and the
 * prefetch of both tables' entries for them (stage 0, then 1 later; see
 * nfh__bcn_table_prefetch), then (stage 2, once the candidate is in the
 * cache) of the end of its timeline, where a connection goes in: for
 * callers that handle connections in groups. nfh__bcn_track_contact and
 * nfh__bcn_track_conn then find the entries in cache. */
void nfh__bcn_track_prefetch(const nfh__bcn_track *tk, const nfh_conn *c,
                             int stage, uint64_t *dest_hash,
                             uint64_t *cand_hash);

/* The destination (server, port, proto), or NULL when not tracked. The
 * pointer is valid until the next nfh__bcn_track_contact. */
const nfh__bcn_dest *nfh__bcn_track_dest(const nfh__bcn_track *tk,
                                         const nfh_addr *server,
                                         uint16_t port, uint8_t proto);

/* Adds connection c to the candidate of its (client, server, server
 * port, proto), creating it (evicting another when full). 'midstream_
 * before': a TCP connection without a client SYN starting before this
 * data time continues a session from before the run (0: no such rule).
 * Returns 0 (the connection was counted, merged, or recognised as a
 * continuation or a duplicate), or -1 when out of memory (the tracker is
 * consistent, the connection lost). 'hash' is the candidate's hash
 * from nfh__bcn_track_prefetch, or 0 to compute it here. */
int nfh__bcn_track_conn(nfh__bcn_track *tk, const nfh_conn *c,
                        uint64_t midstream_before, uint64_t hash);

/* Trims timelines until the total of events is within max_total_events
 * (call after a batch: it may remove candidates). */
void nfh__bcn_track_enforce(nfh__bcn_track *tk);

/* Removes candidates whose latest start is more than idle_ms before
 * now_ms, or sparse_idle_ms when they hold fewer than 'sparse' beats (a
 * pair visited once or twice: a later beat would be a gap, not a
 * period), and destinations not contacted for dest_idle_ms. */
void nfh__bcn_track_expire(nfh__bcn_track *tk, uint64_t now_ms,
                           uint64_t idle_ms, uint32_t sparse,
                           uint64_t sparse_idle_ms, uint64_t dest_idle_ms);

/* Serialises everything into a malloc(3) buffer (*data, *len), at most
 * 'limit' bytes. Returns 0, or -1 when out of memory or over the limit
 * (*data NULL). */
int nfh__bcn_track_save(const nfh__bcn_track *tk, size_t limit,
                        void **data, size_t *len);

/* Replaces the tracker's content with a saved one ('data' borrowed).
 * Records beyond the current limits are dropped (oldest events first).
 * Returns 0; 1 when the blob is of another format (ignored, tracker
 * emptied); -1 when it is corrupt or memory ran out (tracker emptied). */
int nfh__bcn_track_load(nfh__bcn_track *tk, const void *data, size_t len);

#endif
