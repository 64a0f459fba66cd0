/*
 * memory.h - what the exfiltration detector remembers between runs.
 *
 * Three tables, each bounded and expiring (entries not seen for
 * expire_days of data time are dropped when the state is saved):
 *
 * Destinations. Per external address, and per /24 (IPv4) or /48 (IPv6)
 * network: when internal hosts first and last opened a connection to
 * it, which internal hosts did (exactly, up to popular_hosts of them,
 * then "popular") and which of them uploaded to it. This is the
 * destination's prevalence and age: an address that no other internal
 * host ever used and that appeared today is what a drop server looks
 * like; one that forty hosts sync to is a cloud service. Updated from
 * the run's connections as they come, so prevalence within the run
 * counts too.
 *
 * Hosts. Per internal host that ever uploaded at least host_floor bytes
 * in an hour: its usual outbound volume (to external hosts, as client)
 * per hour of day and per hour of week, as a running mean and a slowly
 * decaying peak in the log domain. Learned only from hours the run
 * covered, zero hours included.
 *
 * Pairs. Per (internal, external) pair that carried an upload hour of
 * at least slow_hour_bytes: when it was first and last seen, on how
 * many distinct days it uploaded at each hour of the day (what makes a
 * nightly backup a habit), and its hourly bytes of the last
 * memory_hours hours (so that hourly runs add up a slow transfer that no
 * single run sees whole).
 *
 * DNS pairs. Per (internal client, DNS server) pair whose queries were
 * long (see dns.h): its queries and their bytes per clock hour of the
 * last memory_hours hours, so that a tunnel too slow for one run's
 * window adds up over hourly runs or nfcapd -x rotations. At most
 * dns_memory_pairs, the least recent dropped first.
 *
 * The blob is written field by field in little-endian order and every
 * read is bounds-checked: a damaged blob is refused as a whole.
 */
#ifndef NFH_EXFIL_MEMORY_H
#define NFH_EXFIL_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "map.h"
#include "params.h"
#include "track.h"

#define NFH_EXF_HOD 24
#define NFH_EXF_HOW 168
#define NFH_EXF_MAX_SET 64

/* A small exact set of 32-bit host hashes, holding up to popular_hosts
 * of them; 'sat' once one more was offered (the set is then "popular").
 * 'cap' is the allocated size of v. */
typedef struct nfh__exf_hset {
  uint32_t *v;
  uint8_t n, cap, sat;
} nfh__exf_hset;

/* b.family of a destination key: an address, its network (/24, IPv6
 * /48), or its provider's pool (/16, IPv6 /32). A pool is noted only
 * for uploads: its 'hosts' holds the networks uploaded to in it (their
 * hashes), its 'uploaders' the internal hosts. Object stores hand each
 * client the next address of a large pool: 14 servers' backups went to
 * 12 addresses of one /16, most alone on theirs. */
#define NFH_EXF_DEST_ADDR 0
#define NFH_EXF_DEST_NET 1
#define NFH_EXF_DEST_POOL 2

typedef struct nfh__exf_dest {
  nfh__exf_key k; /* a: address (or network, host bits zero) */
  uint64_t first_ms, last_ms;
  nfh__exf_hset hosts;     /* internal clients */
  nfh__exf_hset uploaders; /* internal clients that uploaded */
  uint8_t from_state;      /* known before this run */
} nfh__exf_dest;

/* One baseline cell: observations, peak and mean of q(bytes), where
 * q(x) = 4 log2(1 + x/1024) (peak rounded, mean in 1/256 steps). */
typedef struct nfh__exf_bcell {
  uint8_t n, peak;
  uint16_t mean;
} nfh__exf_bcell;

/* nfh__exf_host.part_mask: the partial hour was taught. */
#define NFH_EXF_PART_TAUGHT 0x8000u

typedef struct nfh__exf_host {
  nfh__exf_key k; /* a: the internal host */
  uint64_t last_ms;
  nfh__exf_bcell hod[NFH_EXF_HOD];
  nfh__exf_bcell how[NFH_EXF_HOW];
  /* The hour runs saw only parts of (nfcapd -x runs one per file): the
   * 5-minute slots seen so far (bits 0-11) and the bytes out in them. */
  uint32_t part_hour;
  uint16_t part_mask;
  uint64_t part_bytes;
} nfh__exf_host;

/* An hour of a pair's history, in KiB (saturating), and the seconds of
 * the hour its bytes out went in, plus one (nfh__exf_cell; 0: unknown,
 * as in states written before they were kept). */
typedef struct nfh__exf_hist {
  uint32_t hour, out_kb, in_kb;
  uint16_t first_s1, last_s1;
} nfh__exf_hist;

typedef struct nfh__exf_spair {
  nfh__exf_key k; /* a: internal, b: external */
  uint64_t first_ms, last_ms;
  int64_t mark_day;   /* the clock day of mark_mask */
  uint32_t mark_mask; /* hours of day already counted on mark_day */
  uint16_t days_seen; /* distinct days with an upload hour */
  uint8_t hod_days[NFH_EXF_HOD];
  uint16_t nhist, caphist; /* sorted by hour */
  nfh__exf_hist *hist;
} nfh__exf_spair;

/* An hour of a DNS pair's history: what the runs saw of it whose last
 * query of the pair fell in that clock hour. */
typedef struct nfh__exf_dhour {
  uint32_t hour;
  uint32_t unused;
  uint64_t queries, query_bytes, answers, answer_bytes;
  uint64_t first_ms, last_ms;
} nfh__exf_dhour;

typedef struct nfh__exf_dpair {
  nfh__exf_key k; /* a: internal client, b: DNS server */
  uint64_t last_ms;
  uint16_t nhours, caphours; /* sorted by hour */
  nfh__exf_dhour *hours;
} nfh__exf_dpair;

typedef struct nfh__exf_memory nfh__exf_memory;

/* Creates an empty memory with the bounds of 'p' (borrowed for its
 * life). NULL when out of memory. */
nfh__exf_memory *nfh__exf_memory_create(const nfh__exf_params *p);

/* Frees it. NULL is a no-op. */
void nfh__exf_memory_destroy(nfh__exf_memory *m);

/* Loads a blob written by nfh__exf_memory_save. Returns 0, 1 for a blob
 * of another format (ignored: the memory is left empty), or -1 when the
 * blob is damaged or memory runs out; the memory is then left empty. */
int nfh__exf_memory_load(nfh__exf_memory *m, const void *data, size_t len);

/* Drops entries last seen before 'cutoff_ms' and writes the blob into a
 * malloc(3) buffer (*data, *len) that the caller frees. Returns 0, or
 * -1 when memory runs out or the blob would pass its size limit. */
int nfh__exf_memory_save(nfh__exf_memory *m, uint64_t cutoff_ms,
                         void **data, size_t *len);

/* Notes that internal host 'host_hash' opened a connection to 'addr' at
 * 'ms' (address and network entries; 'hash' from
 * nfh__exf_dest_prefetch). Once the table has been full, a destination
 * not in it enters only when seen before at its door. 0 or -1 (out of
 * memory). */
int nfh__exf_dest_contact(nfh__exf_memory *m, const nfh_addr *addr,
                          const uint64_t hash[2], uint32_t host_hash,
                          uint64_t ms);

/* Stage 0: computes the hashes of addr's entries into hash[] and starts
 * fetching their index cells; stage 1 (some work later): their records.
 * See map.h. */
void nfh__exf_dest_prefetch(const nfh__exf_memory *m, const nfh_addr *addr,
                            int stage, uint64_t hash[2]);

/* Notes that the host uploaded to 'addr'. 0 or -1. */
int nfh__exf_dest_upload(nfh__exf_memory *m, const nfh_addr *addr,
                         uint32_t host_hash, uint64_t ms);

/* The pool of an address: its /16, or an IPv6 one's /32 (a provider's
 * block, where a cloud service's addresses rotate), host bits zero; the
 * prefix length into *prefix (may be NULL). */
nfh_addr nfh__exf_pool_of(const nfh_addr *addr, int *prefix);

/* The entry of an address (kind NFH_EXF_DEST_ADDR), of its network
 * (NFH_EXF_DEST_NET) or of its pool (NFH_EXF_DEST_POOL), or NULL.
 * Borrowed until the next update. */
const nfh__exf_dest *nfh__exf_dest_find(const nfh__exf_memory *m,
                                        const nfh_addr *addr, int kind);

/* The number of hosts of a set, as far as it counts: 'popular' (the
 * popular_hosts parameter) once saturated. */
unsigned nfh__exf_hset_count(const nfh__exf_hset *s, unsigned popular);

/* Whether the set holds hash h (0 also when it is saturated and does not
 * list it: it may hold it). */
int nfh__exf_hset_has(const nfh__exf_hset *s, uint32_t h);

/* 32-bit hash of an internal host for the sets. */
uint32_t nfh__exf_host_hash(const nfh_addr *addr);

/* A host's baseline, or NULL. */
const nfh__exf_host *nfh__exf_host_find(const nfh__exf_memory *m,
                                        const nfh_addr *addr);

/* The host's usual bytes in the hour at clock position w: the peak of
 * the mature hour-of-week cells within tolerance hours, else of the
 * mature hour-of-day cells, else none. 'learned' > 0: the host's bytes
 * of that very hour, which an earlier run already taught the cells at w
 * (an episode going on across runs): where that hour made a cell's
 * peak, the usual is the cell's mean with the hour taken out, and a cell
 * mature only with it is not. Returns the level (0 none, 1 hour of day,
 * 2 hour of week) and sets *bytes (0 for none) and *seen (the
 * observations of the cell used). */
int nfh__exf_host_usual(const nfh__exf_params *p, const nfh__exf_host *h,
                        nfh__exf_when w, double learned, double *bytes,
                        unsigned *seen);

/* Teaches the host's baseline one covered hour of 'bytes' at w and data
 * time 'ms'; creates the host when bytes reach host_floor (if there is
 * room). 0 or -1 (out of memory). */
int nfh__exf_host_learn(nfh__exf_memory *m, const nfh_addr *addr,
                        nfh__exf_when w, double bytes, uint64_t ms);

/* Adds what a run saw of part of an hour (mask: its 5-minute slots,
 * bytes: the host's bytes out in them) to the host's partial hour, and
 * teaches the baseline the hour once 'covered' of its slots are seen.
 * Creates the host when the bytes at the rate seen reach host_floor (if
 * there is room). 0 or -1 (out of memory). */
int nfh__exf_host_learn_part(nfh__exf_memory *m, const nfh_addr *addr,
                             nfh__exf_when w, uint32_t hour, uint16_t mask,
                             double bytes, unsigned covered);

/* Calls fn for each remembered host (to teach it the covered hours it
 * was silent in). */
void nfh__exf_host_each(nfh__exf_memory *m,
                        void (*fn)(void *user, const nfh__exf_host *h),
                        void *user);

/* A pair's history, or NULL. */
const nfh__exf_spair *nfh__exf_spair_find(const nfh__exf_memory *m,
                                          const nfh_addr *in,
                                          const nfh_addr *ex);

/* Adds an upload hour of the pair (out, in bytes) at absolute hour
 * 'hour' (clock position w): history, days, hours of day. Creates the
 * pair when 'significant' and there is room. 0 or -1. */
int nfh__exf_spair_learn(nfh__exf_memory *m, const nfh_addr *in,
                         const nfh_addr *ex, const nfh__exf_cell *cell,
                         nfh__exf_when w, int significant);

/* Every remembered pair (*n of them), borrowed until the memory next
 * changes: for a caller that indexes them. Pairs emptied by
 * nfh__exf_spair_adopt have no history and last_ms 0. */
const nfh__exf_spair *nfh__exf_spair_all(const nfh__exf_memory *m, size_t *n);

/* Hands the history of pair (from, ex) to pair (to, ex), created when
 * absent, as one host's under its newer address (an IPv6 temporary
 * address that changed between runs): hours added, days and hours of
 * day summed, spans widened. The pair (from, ex) is left empty, never
 * saved again. 0; 1 when there is no pair (from, ex); -1 out of memory
 * (the memory is as it was). */
int nfh__exf_spair_adopt(nfh__exf_memory *m, const nfh_addr *from,
                         const nfh_addr *to, const nfh_addr *ex);

/* A DNS pair's history, or NULL. Borrowed until the next update. */
const nfh__exf_dpair *nfh__exf_dpair_find(const nfh__exf_memory *m,
                                          const nfh_addr *client,
                                          const nfh_addr *server);

/* Adds what a run saw of a DNS pair (h: its totals, hour unused: the
 * hour of h->last_ms is taken) to its history, and drops hours older
 * than memory_hours before the newest. Creates the pair (pruning the
 * least recent quarter of a full table first) unless dns_memory_pairs
 * is 0. 0 or -1 (out of memory). */
int nfh__exf_dpair_learn(nfh__exf_memory *m, const nfh_addr *client,
                         const nfh_addr *server, const nfh__exf_dhour *h);

/* Remembered DNS pairs, for logs and tests. */
size_t nfh__exf_memory_dns_count(const nfh__exf_memory *m);

/* Counts of the tables, for logs and tests. */
void nfh__exf_memory_counts(const nfh__exf_memory *m, size_t *dests,
                            size_t *hosts, size_t *pairs);

#endif
