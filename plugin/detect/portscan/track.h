/*
 * track.h - the port-scan detector's evidence store (private to the
 * port_scan module).
 *
 * A scan is a source touching many destinations and mostly failing. The
 * store keeps, per source address, what it touched and how each attempt
 * ended, in a form that answers the detector's questions at the end of a
 * run and survives into the next one:
 *
 *   source ─┬─ targets   destination hosts it contacted (exact up to a
 *           │            cap, then a HyperLogLog sketch of the rest);
 *           │            the outcome of the FIRST contact to each drives
 *           │            the sequential hypothesis test (TRW, below)
 *           ├─ services  (target, protocol, port) pairs: distinct ports
 *           │            per target (vertical) and distinct targets per
 *           │            port (horizontal) are counted from these
 *           └─ ports     per (protocol, port) totals derived from the
 *                        services, plus a sketch once services overflow
 *
 * Each contact ends in one of three classes. "Success" means the far end
 * answered as a live service would (SYN-ACK, data both ways, a UDP
 * answer, an echo reply). "Strong failure" is failure shown by what was
 * seen: a reset or an ICMP unreachable came back, or the client's own TCP
 * flags show it never completed a handshake (SYN without ACK), or it sent
 * flag combinations no real session sends (FIN/Xmas probes). "Weak
 * failure" is failure known only from a missing reply (UDP, ping, TCP
 * records without flags); it means nothing where the exporter does not
 * see replies, so the detector can set it aside.
 *
 * TRW (threshold random walk; Jung, Paxson, Berger, Balakrishnan, "Fast
 * portscan detection using sequential hypothesis testing", IEEE S&P 2004,
 * as in SiLK's rwscan): each first contact to a new target multiplies a
 * likelihood ratio by theta1/theta0 on success, (1-theta1)/(1-theta0) on
 * failure; crossing eta1 = PD/PF declares a scanner. The store keeps the
 * ratio's logarithm, clamped below at log(eta0) = log((1-PD)/(1-PF)):
 * reaching it means "benign so far", and the clamp lets a host that was
 * benign for hours still be caught the minute it starts scanning, which
 * the original one-shot test cannot. Two walks run side by side: "a"
 * counts every failure, "b" skips weak ones, for exporters without
 * replies and for sampled data. A step is weighted by the contact's
 * sampling weight (1 unsampled, less when sampled).
 *
 * A source that has never failed (most of them) is "lite": its targets
 * and services are kept as 4-byte hashes only, as if the sweep had
 * folded them, until its first failure (see ps_source).
 *
 * Memory is bounded three ways: per source (caps on exact targets,
 * services and ports, a few sketches), in total (targets + services over
 * all sources), and in the number of sources; beyond a bound the least
 * suspicious sources are evicted.
 *
 * Times are whole seconds since the epoch (uint32_t, good to 2106).
 */
#ifndef NFH_DETECT_PORTSCAN_TRACK_H
#define NFH_DETECT_PORTSCAN_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/hll.h>

/* Contact classes. The numeric order matters: a target's or service's
 * class is the "best" seen, success over strong over weak. */
#define PS_NONE 0
#define PS_WEAK 1    /* failed, known only by a missing reply */
#define PS_STRONG 2  /* failed, shown by what was seen */
#define PS_SUCC 3    /* the far end answered */
/* o_contacts[PS_O_HALFOPEN] (a class no contact has): of the strong
 * contacts not kept exactly, the half-open probes (PS_R_HALFOPEN): open
 * ports, which a scan's findings name whether kept or not. */
#define PS_O_HALFOPEN PS_NONE

/* Failure reasons (bits), for the evidence breakdown. */
#define PS_R_NOREPLY 0x01u /* nothing came back */
#define PS_R_RST 0x02u     /* TCP reset from the target */
#define PS_R_ICMP 0x04u    /* ICMP unreachable came back */
#define PS_R_ODD 0x08u     /* FIN/Xmas-style probe flags */
#define PS_R_SYNONLY 0x10u /* client sent SYN and never ACK */
#define PS_R_DENIED 0x20u  /* a firewall denied it (NSEL event) */
#define PS_R_UNSEEN 0x40u  /* only the refusal was exported, not the probe */
#define PS_R_HALFOPEN 0x80u /* SYN-ACK answered by the prober's reset */

/* Pseudo-ports: ICMP echo is counted as one "service". */
#define PS_PORT_ECHO 0x0800u

typedef struct ps_params {
  double step_succ;  /* log(theta1/theta0) < 0 */
  double step_fail;  /* log((1-theta1)/(1-theta0)) > 0 */
  double log_eta0;   /* floor */
  double log_eta1;   /* scanner threshold */
  uint32_t max_targets;   /* exact targets per source */
  uint32_t max_services;  /* exact services per source */
  uint32_t max_sketches;  /* HyperLogLog sketches per source */
  unsigned hll_precision;
  uint32_t max_sources;   /* sources in memory */
  uint64_t max_entries;   /* targets + services in memory, all sources */
} ps_params;

/* A target is one cache line (64 bytes; the arrays start on a line):
 * its services by class are not kept here but counted from the services
 * when needed (nfh__ps_target_services). */
typedef struct ps_target {
  nfh_addr addr;
  uint8_t cls;         /* best class seen (PS_*) */
  uint8_t first_cls;   /* class of the first contact (TRW) */
  uint8_t weight;      /* TRW step weight of the first contact, x255 */
  uint8_t reasons;     /* PS_R_* of its failures */
  uint8_t home;        /* in the home networks */
  uint8_t b_counted;   /* walk b has taken its step for it */
  uint8_t first_reasons; /* PS_R_* of the first contact */
  uint8_t failed_now;  /* a contact failed in this run (not saved) */
  int16_t sketch;      /* index in the source's sketches or -1 */
  uint32_t hash;
  uint32_t first_s, last_s;
  uint32_t contacts;     /* connections, repeats included */
  uint32_t icmp_pending; /* unreachables not yet tied to a service */
  uint32_t o_contacts[4]; /* contacts to services not kept exactly */
} ps_target;

typedef struct ps_service {
  uint32_t target; /* index in targets */
  uint32_t hash;   /* of the target's address, protocol and port */
  uint16_t port;
  uint8_t proto;
  uint8_t cls;
  uint8_t reasons;
  uint8_t failed_now; /* a contact failed in this run (not saved) */
  uint32_t first_s, last_s;
  uint32_t contacts; /* connections */
  uint32_t fails;    /* of which failed */
  uint32_t refused;  /* of which refused by reset or unreachable */
  uint32_t port_ix;  /* index in ports, UINT32_MAX when it has none */
} ps_service;

typedef struct ps_port {
  uint16_t port;
  uint8_t proto;
  uint8_t failed_now; /* a contact failed in this run (not saved) */
  int16_t sketch; /* index in the source's sketches or -1 */
  uint32_t hash;
  uint32_t n[4]; /* its services (distinct targets) by class */
  uint32_t o_contacts[4]; /* contacts not kept exactly, by class */
  uint32_t first_s, last_s;
  uint32_t contacts;
  uint32_t folded; /* answered services folded by the sweep, still in
                      n[PS_SUCC] */
  uint32_t folded_home; /* of them, services of home hosts */
  /* Not saved: its last contact in earlier runs (as loaded; 0 none) and
   * its first contact in this run (0 none), to tell a sweep that came
   * back hours later from one that went on (a slow scan). */
  uint32_t prior_last_s, run_first_s;
  /* Not saved: the last failed contact of this run past the exact
   * services (0 none), where the sweep past them ended: its last contact
   * of any kind may be the source's own server hours later. */
  uint32_t o_last_fail_s;
} ps_port;

/* Contacts not kept exactly before a port or target gets its sketch:
 * the sketch never sees them. */
#define NFH__PS_SKETCH_AFTER 8

typedef struct ps_sketch {
  nfh_hll *hll;
  uint32_t created_s; /* a sketch cannot forget: it expires as a whole */
} ps_sketch;

/* A growable open-addressing index. A slot holds the entry's hash in
 * its high half and the entry's index + 1 in its low half (0: empty),
 * so that a probe rejects other keys without touching their entries. */
typedef struct ps_index {
  uint64_t *slots;
  uint32_t cap; /* power of two or 0 */
} ps_index;

/* The fields are ordered by cache line (the struct starts on one): a
 * repeated contact reads the first two lines, a new target or service
 * the next two as well. */
typedef struct ps_source {
  /* Line 0: every contact. */
  nfh_addr addr;
  uint8_t home;
  uint8_t crossed_a, crossed_b; /* TRW declared it a scanner */
  uint32_t hash;
  uint32_t first_s, last_s;
  /* Data up to here was counted by an earlier run (the state): a run
   * over the same files again must not count its contacts twice. Not
   * saved: set when the source is loaded. */
  uint32_t replay_until_s;
  uint32_t sampling;               /* largest 1-in-N seen */
  uint32_t ack_conns, ack_replied; /* to judge reply visibility */
  /* Past the exact caps: all targets' sketch (-1 until needed). */
  int16_t target_sketch;
  uint8_t lite; /* never failed: no targets or services, see below */
  /* A port had no room in 'ports' (not saved; set again when a loaded
   * source's table is full): its distinct ports are no longer known. */
  uint8_t ports_full;
  /* This run's contacts, and of them those of sampled records (not
   * saved): see nfh__ps_sampling. */
  uint32_t contacts_now, sampled_now;
  /* A contact failed in this run (not saved): a scan is reported only
   * while it goes on, not whenever its source makes ordinary
   * connections again. The same flag on targets, services, ports. */
  uint8_t failed_now;
  uint64_t contacts;

  /* Line 1: the tables. */
  ps_target *targets;
  ps_service *services;
  ps_port *ports;
  ps_index sindex;
  uint32_t ntargets, nservices, nports;
  uint32_t cap_targets, cap_services, cap_ports;

  /* Line 2: finding and adding targets and ports. */
  ps_index tindex;
  ps_index pindex;
  /* Targets that only ever answered and then went quiet are folded into
   * this set of their hashes (open addressing, 0 = empty) by the sweep:
   * 4 bytes instead of an entry, and a contact to one is still no first
   * contact. A failure there brings the target back as an entry. */
  uint32_t *good;
  uint32_t ngood, cap_good;
  uint32_t tn[4]; /* its targets by class (PS_WEAK..PS_SUCC) */

  /* Line 3: the walk, and the lite source's services. */
  uint32_t sn[4]; /* its services by class: a vertical scan fails on
                     many services of a target that answers on one */
  double llr_a, llr_b;     /* log likelihood ratios */
  uint32_t first_contacts; /* TRW steps */
  uint32_t icmp_other; /* unreachables from hosts that were no target */
  /* A source is "lite" until its first failure: a web site's visitors,
   * a client of the usual services, most sources by far and no finding
   * can come from them. Its targets are kept in the known-good set from
   * the start, as if the sweep had folded them, and its services as
   * hashes in this set, so that its ports still count their distinct
   * answering targets (n[PS_SUCC], all of them 'folded'). A failure
   * makes it a full source: what it had folded stays folded. */
  uint32_t *seen;
  uint32_t nseen, cap_seen;
  uint32_t crossed_a_s, crossed_b_s; /* when */

  /* Contacts to targets not kept (past the exact caps), by class. */
  uint32_t o_contacts[4];
  ps_sketch *sketches;
  uint32_t nsketches;
} ps_source;

/* One contact as the detector classified it. */
typedef struct ps_contact {
  nfh_addr src, dst;
  uint8_t src_home, dst_home;
  uint8_t proto;
  uint16_t port;
  uint8_t cls;       /* PS_WEAK, PS_STRONG or PS_SUCC */
  uint8_t reasons;   /* PS_R_* when failed */
  uint8_t ack_conn;  /* a client that sent ACKs: should see a reply */
  uint8_t replied;
  uint32_t first_s, last_s;
  uint32_t sampling; /* 1 = unsampled */
  double weight;     /* TRW weight, (0, 1] */
  /* The addresses' hashes, set by nfh__ps_store_prefetch (hashed 1);
   * with hashed 0 nfh__ps_store_contact computes them. */
  uint8_t hashed;
  uint64_t src_hash, dst_hash;
} ps_contact;

typedef struct ps_store ps_store;

/* Creates an empty store with the given parameters (copied). Returns
 * NULL when out of memory. */
ps_store *nfh__ps_store_create(const ps_params *params);

/* Frees the store and everything in it. NULL is a no-op. */
void nfh__ps_store_destroy(ps_store *store);

/* Contacts handed to nfh__ps_store_prefetch at a time, at most. */
#define PS_PREFETCH_MAX 64

/* Readies n contacts that are about to be recorded, in this order: sets
 * their hashes and starts loading what recording them will touch
 * (source, service, target and port entries) into the cache, so that
 * the memory latency of many contacts overlaps instead of adding up.
 * Contacts past PS_PREFETCH_MAX are left as they are. Only reads the
 * store and cannot fail; whatever is recorded in between, the contacts
 * are recorded correctly, only more slowly. */
void nfh__ps_store_prefetch(const ps_store *store, ps_contact *c, size_t n);

/* Records one contact. May evict the least suspicious sources to stay
 * within the bounds. Returns 0, or -1 when out of memory (the store
 * stays consistent; the contact may be partly recorded). */
int nfh__ps_store_contact(ps_store *store, const ps_contact *c);

/* Records an ICMP unreachable 'sender' sent back to 'prober'. When the
 * code says the sender is the probed host itself (port or protocol
 * unreachable), 'from_target' is 1. 'count' is the number of messages
 * (packets of the ICMP connection). Returns 0 or -1 (out of memory). */
int nfh__ps_store_unreachable(ps_store *store, const nfh_addr *prober,
                              uint8_t prober_home, const nfh_addr *sender,
                              uint8_t sender_home, int from_target,
                              uint32_t count, uint32_t when_s,
                              double weight);

/* Forgets what no finding can come from, once an hour of data time:
 * sources quiet for 'idle_s' that never failed (a web site's visitors),
 * sources quiet for 'lone_idle_s' that failed once (the Internet's
 * background: one probe each), and, of the other sources, the targets
 * quiet for 'idle_s' that only ever answered (folded into the source's
 * known-good set). Memory then follows the hour's working set and the
 * suspicious sources, not the days a run covers. Never fails: where
 * memory is short, it folds less. */
void nfh__ps_store_sweep(ps_store *store, uint32_t now_s, uint32_t idle_s,
                         uint32_t lone_idle_s);

/* Re-judges every failure shown by nothing but the client's own SYN
 * without ACK as weak, and walks the TRW again: for exporters whose TCP
 * flags are those of one packet rather than of the whole flow, where a
 * session's record says SYN and nothing more. */
void nfh__ps_store_demote_synonly(ps_store *store);

/* The sources, for reading (the array is the store's; valid until the
 * next call that changes the store). */
ps_source *const *nfh__ps_store_sources(const ps_store *store, size_t *n);

/* Counts each target's services by class: n[i][k] is the number of
 * target i's services of class k (PS_WEAK..PS_SUCC). n has s->ntargets
 * rows; they are overwritten. */
void nfh__ps_target_services(const ps_source *s, uint32_t (*n)[4]);

/* Estimated distinct count of what a sketch holds, or 0 for index -1. */
double nfh__ps_sketch_count(const ps_source *s, int16_t sketch);

/* The sampling interval s's counts are judged at: its largest (1 none),
 * unless most of this run's contacts came unsampled (a quarter or less
 * sampled): a host an unsampled router sees whole, whose records a
 * sampled border router exported too, read "sampled 1:100: at most
 * ~200000 in all" for an exact sweep of 2,000 hosts. */
uint32_t nfh__ps_sampling(const ps_source *s);

/* An external scanner of home hosts that a run reported one by one: its
 * source's hash and the end of its finding. The store keeps them for a
 * day (and saves them), so that hourly runs report edge_max_findings of
 * the Internet's background a day, not an hour (a day of hourly runs
 * held 94 of them at medium). */
typedef struct ps_edge_seen {
  uint32_t hash, at_s;
} ps_edge_seen;

/* Edge sources kept at most: the oldest go first. */
#define PS_EDGE_SEEN_MAX 4096

/* The edge sources noted, in no order; borrowed until the next change. */
const ps_edge_seen *nfh__ps_store_edges(const ps_store *store, size_t *n);

/* Notes (or renews) an edge source reported at at_s. 0, or -1 when out
 * of memory. */
int nfh__ps_store_note_edge(ps_store *store, uint32_t hash, uint32_t at_s);

/* Targets and services held, all sources together. */
uint64_t nfh__ps_store_entries(const ps_store *store);

/* Sources evicted to stay within the bounds, since creation. */
uint64_t nfh__ps_store_evictions(const ps_store *store);

/* Serializes the sources whose activity reaches back to 'horizon_s' or
 * later, most suspicious first, dropping targets and services last seen
 * before it, up to max_sources sources and max_entries targets +
 * services. *data is malloc(3)ed (the caller frees it). Returns 0 or -1
 * (out of memory; *data NULL). */
int nfh__ps_store_save(const ps_store *store, uint32_t horizon_s,
                       uint32_t max_sources, uint64_t max_entries,
                       void **data, size_t *len);

/* Loads what nfh__ps_store_save wrote into an empty store, dropping what
 * lies before 'horizon_s' and what exceeds the store's caps. Returns 0;
 * 1 when the blob is of an unknown format version (nothing loaded); -1
 * when it is damaged or memory ran out (the store is emptied again). */
int nfh__ps_store_load(ps_store *store, const void *data, size_t len,
                       uint32_t horizon_s);

/* Suspicion of a source, the eviction order (lowest goes first). */
double nfh__ps_suspicion(const ps_source *s);

#endif
