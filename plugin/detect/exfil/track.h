/*
 * track.h - what one run of the exfiltration detector accumulates.
 *
 * Per (internal host, external host) pair: the bytes of the raw flow
 * records in each direction, spread over clock hours by each record's
 * own start and end (a multi-hour upload that the stitcher hands over
 * only when it ends still shows how much left in which hour), and, from
 * the stitched connections, how those bytes split by role: sent while
 * the internal host was the client (uploads, requests) or while it was
 * the server (responses to outside clients, never exfiltration by it).
 * At the end of the run a pair's hourly bytes are scaled by its client
 * share (nfh__exf_pair_attribute).
 *
 * The table is bounded by max_pairs: when it is full, the pairs with the
 * fewest bytes are dropped (their totals were small, so a later record
 * starts them again from zero and little is lost). Each table also keeps
 * which 5-minute slots of which hours held any flow, so that baselines
 * learn only from hours the run really covered.
 */
#ifndef NFH_EXFIL_TRACK_H
#define NFH_EXFIL_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/conn.h>

#include "map.h"

#define NFH_EXF_HOUR_MS 3600000ull

/* Bytes of one pair in one clock hour (hours since the epoch, UTC), and
 * the seconds of the hour its bytes out were first and last seen in,
 * plus one (0: none), so that runs that see parts of an hour, and the
 * state that carries it, keep the upload's times and not the hour's. */
typedef struct nfh__exf_cell {
  uint32_t hour;
  uint16_t first_s1, last_s1;
  uint64_t out, in;
} nfh__exf_cell;

/* Widens the seconds-plus-one span [*first_s1, *last_s1] (0 0: none) by
 * [from_s1, to_s1] (0 0: none). */
static inline void nfh__exf_span_merge(uint16_t *first_s1, uint16_t *last_s1,
                                       uint16_t from_s1, uint16_t to_s1) {
  if (!from_s1)
    return;
  if (!*first_s1 || from_s1 < *first_s1)
    *first_s1 = from_s1;
  if (to_s1 > *last_s1)
    *last_s1 = to_s1;
}

typedef struct nfh__exf_pair {
  nfh__exf_key k; /* a: the internal host, b: the external host */
  uint64_t f_out, f_in; /* flow records: internal->external and back */
  uint64_t c_out, c_in; /* connections the internal host opened */
  uint64_t s_out, s_in; /* connections the external host opened */
  uint64_t c_pkts;      /* packets sent in the internal host's conns */
  uint64_t first_ms, last_ms; /* span of its connections as client */
  uint64_t b_first, b_last;   /* span of those carrying big_bytes or more
                                 (0 when none): the transfer itself */
  uint64_t port_bytes; /* client bytes of the largest connection */
  uint32_t conns;      /* connections as client */
  uint32_t guessed;    /* of them, with the direction guessed by ports */
  uint32_t sampled;    /* of them, from sampled exporters */
  uint32_t max_sampling;
  uint16_t port;       /* server port of the largest connection */
  uint8_t proto;
  uint8_t unused;
  uint32_t ncells, capcells; /* cells sorted by hour; the first lives in
                                'one', the rest in 'more' */
  nfh__exf_cell one;
  nfh__exf_cell *more;
} nfh__exf_pair;

typedef struct nfh__exf_track nfh__exf_track;

/* Creates an empty table holding at most max_pairs pairs; connections of
 * big_bytes or more mark the span of a transfer. NULL when out of
 * memory. */
nfh__exf_track *nfh__exf_track_create(uint32_t max_pairs,
                                      uint64_t big_bytes);

/* Frees the table. NULL is a no-op. */
void nfh__exf_track_destroy(nfh__exf_track *t);

/* Adds one flow record's bytes between internal host 'in' and external
 * host 'ex' ('out' sent by the internal host, 'back' received), spread
 * over the hours of [first_ms, last_ms]; 'hash' is the pair's
 * nfh__exf_track_hash(in, ex), or 0 to compute it here. A new pair may
 * wait at the door of a full table (see track.c); that is no failure.
 * Returns 0, or -1 when memory runs out (the table keeps what it had). */
int nfh__exf_track_flow_hashed(nfh__exf_track *t, const nfh_addr *in,
                               const nfh_addr *ex, uint64_t hash,
                               uint64_t out, uint64_t back,
                               uint64_t first_ms, uint64_t last_ms);

/* The hash of the pair (in, ex). */
uint64_t nfh__exf_track_hash(const nfh_addr *in, const nfh_addr *ex);

/* Prefetching for a batch of records (see map.h): stage 0 starts
 * fetching the pair's index cell, stage 1 (later) its record. */
void nfh__exf_track_prefetch(const nfh__exf_track *t, uint64_t hash,
                             int stage);

/* Adds a stitched connection that crosses the home boundary. The
 * internal side opened it when 'internal_client'. A connection the
 * external side opened only adds to a pair that exists already (its
 * bytes matter only to scale that pair's flow bytes). 'hash' is the
 * pair's nfh__exf_track_hash (internal side first), or 0 to compute it
 * here. 0 or -1. */
int nfh__exf_track_conn(nfh__exf_track *t, const nfh_conn *c,
                        int internal_client, uint64_t hash);

/* Notes that some flow ended at 'ms' (for coverage). */
void nfh__exf_track_seen(nfh__exf_track *t, uint64_t ms);

/* How many 5-minute slots of the hour held a flow, 0-12. */
unsigned nfh__exf_track_coverage(const nfh__exf_track *t, uint32_t hour);

/* Which 5-minute slots of the hour held a flow: bit k for slot k. */
uint16_t nfh__exf_track_slots(const nfh__exf_track *t, uint32_t hour);

/* The hours with any coverage, ascending, and the number of covered
 * slots of each; *n set. Borrowed until the next call that adds to the
 * table. NULL when out of memory. */
const uint32_t *nfh__exf_track_hours(nfh__exf_track *t, size_t *n,
                                     const uint8_t **slots);

/* The pairs (borrowed; valid until the next call that adds). */
nfh__exf_pair *nfh__exf_track_pairs(nfh__exf_track *t, size_t *n);

/* Finds a pair, or NULL. */
nfh__exf_pair *nfh__exf_track_find(nfh__exf_track *t, const nfh_addr *in,
                                   const nfh_addr *ex);

/* Times the table was full and dropped its smallest pairs. */
uint32_t nfh__exf_track_prunes(const nfh__exf_track *t);

/* Records and connections of new pairs kept out of the full table
 * (seen once, and small), and their bytes. */
uint64_t nfh__exf_track_stopped(const nfh__exf_track *t);
uint64_t nfh__exf_track_stopped_bytes(const nfh__exf_track *t);

/* A pair's i-th cell. */
static inline nfh__exf_cell *nfh__exf_pair_cell(nfh__exf_pair *p,
                                                uint32_t i) {
  return i == 0 ? &p->one : &p->more[i - 1];
}

/* Scales the pair's cells to what the internal host sent and received
 * as client, in place: the flow bytes times its client share, or, when
 * the flow records were lost (pruned, or the flows skipped as a
 * server's), the client bytes of its connections spread evenly over
 * their span. Returns 0, or -1 when memory runs out. */
int nfh__exf_pair_attribute(nfh__exf_pair *p);

/* Adds pair 'from' (its cells, counters and spans) into 'into' and
 * empties it (its key stays): one host's uploads under two addresses
 * (IPv6 temporary addresses, exfil.c). 0, or -1 when memory runs out
 * (then part of 'from's cells may be in 'into' as well). */
int nfh__exf_pair_absorb(nfh__exf_pair *into, nfh__exf_pair *from);

#endif
