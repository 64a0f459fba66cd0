/* volumetric.c - the volumetric anomaly detector; see volumetric.h. */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <nfhunt/blob.h>
#include <nfhunt/plugin.h>

#include "baseline.h"
#include "counting.h"
#include "held.h"
#include "text.h"
#include "volumetric.h"

#define VOL_VERSION "1.0"
#define SLOT_MS 300000ull
#define SLOT_S 300.0
#define SLOTS_PER_DAY 288u
/* Slots a baseline kept in the state must have seen to count as the
 * host's history (three hours); see judge(). */
#define STATE_HISTORY_SLOTS 36u
/* A record longer than a day is clipped to its last day: no exporter
 * keeps a record open that long, so its start is a broken clock. */
#define MAX_SPAN_SLOTS SLOTS_PER_DAY
/* How far past the oldest open slot data may reach before the oldest is
 * closed early: one batch may hold data far ahead when the capture has
 * gaps, and open slots cost memory. */
#define OPEN_AHEAD 16u
/* Distinct-peer sketches: 1 KiB per host (about 3% error), 16 KiB for
 * the whole network (about 0.8%). */
#define HOST_HLL_PRECISION 10u
#define NET_HLL_PRECISION 14u
/* A learning host judged at the end of a run with fewer slots than this
 * is judged against zero traffic: a median of one or two slots that
 * include the slot itself says nothing. */
#define LEARN_MIN 4u
#define STATE_MAGIC "NFHVOLB1"
/* The flow records in and out that a state keeps, at most (scaled). */
#define VIS_KEEP 100000.0
/* TCP session records that judge the exporters' visibility alone. */
#define SESSIONS_TO_JUDGE 20.0
/* The interval records sampled at an unknown one count as: sampled (>
 * 1), and as few as scaling goes. */
#define UNKNOWN_SAMPLING 2u
/* Average bytes a packet below which (by 40 more, fading) TCP is bare
 * headers: 40 to 60 bytes with options, no payload. */
#define BARE_TCP_BYTES 120.0
#define STATE_VERSION 2u /* 1 lacks the record visibility at the end */
#define STATE_LIMIT ((size_t)512 << 20)

enum { DIR_IN = 0, DIR_OUT = 1 };

/* Baselined metrics, per direction. */
enum { M_BYTES, M_PKTS, M_FLOWS, M_PEERS, M_SYN, M_PER_DIR };
#define NMET (2 * M_PER_DIR)
#define MET(dir, m) ((dir) * M_PER_DIR + (m))
/* The metrics that can make a slot anomalous: distinct peers alone are a
 * scan detector's business, not a volume. */
static const int trigger_metrics[] = {M_BYTES, M_PKTS, M_FLOWS, M_SYN};
#define NTRIGGER (sizeof(trigger_metrics) / sizeof(trigger_metrics[0]))

/* Counters of one direction of one host in one slot. */
enum {
  C_BYTES,
  C_PKTS,
  C_FLOWS,
  C_SYN,     /* packets of TCP records with SYN and without ACK */
  C_TCP,     /* packets by protocol */
  C_UDP,
  C_ICMP,
  C_TINY,    /* packets of records of at most 2 (unsampled) packets */
  C_SAMPLED, /* bytes of records from sampling exporters */
  C_AMP,     /* inbound UDP packets from amplifier source ports */
  C_FRAG,    /* inbound UDP packets of records without ports: the IP
              * fragments after the first, which carry no UDP header */
  C_ACK,     /* packets of TCP records of bare, small ACKs (no SYN, FIN,
              * RST), which only an ACK flood sends by the thousand */
  C_EST,     /* (the network's) TCP records of sessions: neither SYN-only
              * nor tiny nor bare ACKs; both directions show them when the
              * exporters see both */
  NCOUNT
};

enum kind { K_IN, K_OUT, K_NET_IN, K_NET_OUT };

enum base_src { B_NONE, B_LEARNED, B_HISTORY, B_HOD, B_HOW };
/* Shapes that are floods whatever the baseline (verdict.by_signature). */
enum { SIG_NONE, SIG_SYN, SIG_UNANSWERED, SIG_SESSIONS, SIG_ICMP_RATE };
static const char *const base_name[] = {"none", "learned_in_window",
                                        "host_history", "hour_of_day",
                                        "hour_of_week"};

enum ftype {
  FT_SYN,
  FT_UDP,
  FT_ICMP,
  FT_TCP,
  FT_REFLECT,
  FT_OTHER,
  FT_APP,
  FT_ACK,
  NFT
};

/* Where a slot's records of each flood type fell (ms after the slot's
 * start; 'have' bit t when type t had one): a flood's first_seen and
 * last_seen are its own records', not those of the victim's web clients
 * around it (a SYN flood of 11:00:00-11:00:59 read "until 11:05:00",
 * the slot's end; a reflection ended at a web session 4 minutes later:
 * a tester's). FT_OTHER has none: it is all the records. */
typedef struct kspan {
  uint32_t t0[NFT], t1[NFT];
  /* The packets and bytes of those records (weighted by sampling): a
   * flood's rate is its own over its own span, not the victim's web
   * traffic's too (a 3,000 pps SYN pulse read 4,047). */
  float pk[NFT], by[NFT];
  uint8_t have;
} kspan;
static const char *const ftype_name[] = {
    "SYN", "UDP", "ICMP", "TCP", "reflection", "traffic", "application",
    "ACK"};
/* Sessions per client in a slot from which an inbound surge of
 * completed sessions is an application-layer flood (an HTTP flood: a
 * bot's loop), not a crowd: a browser opens a handful of connections
 * for a page. A large NAT of many users can reach it; that is why such a
 * finding is medium, high only when extreme. */
#define APP_SESSIONS 20.0
/* Sessions per client in a slot, on average over all of a server's
 * clients, from which a surge of them needs no crowd: one or a few
 * clients opening several connections a second for minutes (HULK,
 * GoldenEye and the like run from one host), even among the server's
 * regular visitors. The surge must also be far above the server's
 * baseline (half the strong ratio, over floor_flows: some 12,000 more
 * sessions in the slot), which one busy client does not reach. */
#define FEW_SOURCE_SESSIONS 200.0
/* Sessions per client in a slot (about 3 a second for 5 minutes) from
 * which a few clients' surge of completed sessions to a host that has
 * few is a flood whatever the floor (SIG_SESSIONS): a DoS tool run
 * slowly, under floor_flows times the ratio. */
#define STORM_SESSIONS 1000.0
/* The share of floor_flows the storm is measured over: ten times the
 * host's usual sessions plus this. */
#define STORM_FLOOR_SHARE 0.1
/* ICMP packets a second (while they last) to one host from which they
 * are a flood whatever its baseline and whether it answers: ping sends
 * one a second, a monitor a few, ping -f and hping3 thousands (a tester's
 * 150,000 echo requests in 17 s at a busy server read 6x its volume,
 * "not flood-shaped" since it answered, info; 50,000 nothing). */
#define ICMP_FLOOD_PPS 1000.0
/* Multiples of the usual above this are said as "over 1000x": over a
 * host that usually sends a handful of packets, the exact figure says
 * nothing more. */
#define SHOWN_RATIO_MAX 1000.0
/* The share of a victim's packets from its top source from which a
 * flood is said to come from that source alone. */
#define ONE_SOURCE_SHARE 0.95
/* Held-connection floods (held.h): a new stalled connection more than
 * this after the last one ended starts another episode; this multiple of
 * held_min_concurrent held at once is high. */
#define HELD_GAP_MS (10 * 60 * 1000ull)
#define HELD_HIGH_MULTIPLE 5.0

/* ------------------------------------------------------------ params */

typedef struct params {
  double z_min, ratio_min, high_z, high_ratio, critical_ratio, peak_ratio;
  double floor[M_PER_DIR];
  double net_floor_factor, min_sources, syn_share, s_min;
  double alpha, season_alpha, peak_decay;
  double learn_slots, hod_min, how_min, season_tolerance, season_min_seen;
  double max_hosts, max_seasonal_hosts, max_slot_hosts, max_findings;
  double late_slots, expire_days, exact_distinct, episode_gap;
  double held_min_concurrent, held_min_seconds, held_max_rate, held_share;
  double held_max_seconds, held_min_each, held_min_clients;
  double held_max_keys;
  nfh_severity min_severity;
} params;

typedef struct pdef {
  const char *key;
  size_t off;
  double def, min, max;
  int integer;
} pdef;

#define P(k, field, d, lo, hi, i) {k, offsetof(params, field), d, lo, hi, i}
static const pdef pdefs[] = {
    P("z_min", z_min, 4, 1, 100, 0),
    P("ratio_min", ratio_min, 4, 1.5, 1e6, 0),
    P("high_z", high_z, 6, 1, 100, 0),
    P("high_ratio", high_ratio, 10, 1.5, 1e6, 0),
    P("critical_ratio", critical_ratio, 50, 2, 1e7, 0),
    P("peak_ratio", peak_ratio, 4, 1, 1e3, 0),
    P("floor_bytes", floor[M_BYTES], 30e6, 1, 1e15, 0),
    P("floor_packets", floor[M_PKTS], 30000, 1, 1e13, 0),
    P("floor_flows", floor[M_FLOWS], 3000, 1, 1e12, 0),
    P("floor_peers", floor[M_PEERS], 100, 1, 1e9, 0),
    P("floor_syn", floor[M_SYN], 15000, 1, 1e13, 0),
    P("net_floor_factor", net_floor_factor, 10, 1, 1e6, 0),
    P("min_sources", min_sources, 50, 2, 1e9, 1),
    P("syn_share", syn_share, 0.5, 0.3, 1, 0),
    P("min_deviation", s_min, 0.25, 0.01, 10, 0),
    P("alpha", alpha, 0.01, 0.0001, 1, 0),
    P("season_alpha", season_alpha, 0.05, 0.001, 1, 0),
    P("peak_decay", peak_decay, 0.02, 0, 10, 0),
    P("learn_slots", learn_slots, 12, 4, 288, 1),
    P("hod_min", hod_min, 6, 1, 65535, 1),
    P("how_min", how_min, 12, 1, 65535, 1),
    P("season_tolerance", season_tolerance, 1, 0, 3, 1),
    P("season_min_seen", season_min_seen, 12, 1, 1e6, 1),
    P("max_hosts", max_hosts, 20000, 16, 10e6, 1),
    P("max_seasonal_hosts", max_seasonal_hosts, 1000, 0, 1e6, 1),
    P("max_slot_hosts", max_slot_hosts, 20000, 16, 10e6, 1),
    P("max_findings", max_findings, 500, 1, 1e6, 1),
    P("late_slots", late_slots, 2, 0, 12, 1),
    P("expire_days", expire_days, 35, 1, 3650, 1),
    P("exact_distinct", exact_distinct, 64, 0, 4096, 1),
    P("episode_gap", episode_gap, 1, 0, 288, 1),
    P("held_min_concurrent", held_min_concurrent, 40, 2, 1e7, 0),
    P("held_min_seconds", held_min_seconds, 10, 1, 86400, 0),
    P("held_max_seconds", held_max_seconds, 900, 1, 1e7, 0),
    P("held_min_each", held_min_each, 16, 1, 1e7, 0),
    P("held_min_clients", held_min_clients, 3, 2, 1e6, 1),
    P("held_max_rate", held_max_rate, 64, 0, 1e9, 0),
    P("held_share", held_share, 0.8, 0, 1, 0),
    P("held_max_keys", held_max_keys, 16384, 0, 10e6, 1),
};
#undef P
#define NPDEFS (sizeof(pdefs) / sizeof(pdefs[0]))

static double *pfield(params *p, const pdef *d) {
  return (double *)((char *)p + d->off);
}

/* ------------------------------------------------------ address map */

/* An open-addressing map from (address, tag) to an index: slot hosts,
 * tracked hosts and findings are all keyed by address. */
typedef struct aslot {
  nfh_addr addr;
  uint8_t tag;
  uint8_t used;
  uint32_t idx;
} aslot;

typedef struct amap {
  aslot *t;
  uint32_t cap, n;
} amap;

static uint32_t akey(const nfh_addr *a, uint8_t tag, uint32_t mask) {
  uint64_t h = nfh__vol_addr_hash(a) ^ (tag * 0x9e3779b97f4a7c15ull);
  return (uint32_t)(h ^ (h >> 32)) & mask;
}

static int amap_find(const amap *m, const nfh_addr *a, uint8_t tag,
                     uint32_t *idx) {
  if (!m->cap)
    return 0;
  uint32_t mask = m->cap - 1;
  for (uint32_t i = akey(a, tag, mask); m->t[i].used; i = (i + 1) & mask) {
    if (m->t[i].tag == tag && nfh_addr_equal(&m->t[i].addr, a)) {
      *idx = m->t[i].idx;
      return 1;
    }
  }
  return 0;
}

static void amap_insert(aslot *t, uint32_t cap, const aslot *s) {
  uint32_t mask = cap - 1;
  uint32_t i = akey(&s->addr, s->tag, mask);
  while (t[i].used)
    i = (i + 1) & mask;
  t[i] = *s;
}

/* Adds a key known to be absent. 0, or -1 when memory runs out (the map
 * is unchanged). */
static int amap_put(amap *m, const nfh_addr *a, uint8_t tag, uint32_t idx) {
  if (2 * (m->n + 1) > m->cap) {
    uint32_t cap = m->cap ? 2 * m->cap : 64;
    aslot *t = calloc(cap, sizeof(aslot));
    if (!t)
      return -1;
    for (uint32_t i = 0; i < m->cap; i++)
      if (m->t[i].used)
        amap_insert(t, cap, &m->t[i]);
    free(m->t);
    m->t = t;
    m->cap = cap;
  }
  aslot s;
  memset(&s, 0, sizeof(s));
  s.addr = *a;
  s.tag = tag;
  s.used = 1;
  s.idx = idx;
  amap_insert(m->t, m->cap, &s);
  m->n++;
  return 0;
}

/* Removes a key by shifting its probe chain back (no tombstones, so the
 * map never degrades however many hosts come and go). */
static void amap_del(amap *m, const nfh_addr *a, uint8_t tag) {
  if (!m->cap)
    return;
  uint32_t mask = m->cap - 1, i = akey(a, tag, mask);
  while (m->t[i].used &&
         !(m->t[i].tag == tag && nfh_addr_equal(&m->t[i].addr, a)))
    i = (i + 1) & mask;
  if (!m->t[i].used)
    return;
  uint32_t j = i;
  for (;;) {
    m->t[i].used = 0;
    for (;;) {
      j = (j + 1) & mask;
      if (!m->t[j].used) {
        m->n--;
        return;
      }
      uint32_t k = akey(&m->t[j].addr, m->t[j].tag, mask);
      /* t[j] may stay unless its home k lies cyclically in (i, j]. */
      int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays)
        break;
    }
    m->t[i] = m->t[j];
    i = j;
  }
}

static void amap_free(amap *m) {
  free(m->t);
  memset(m, 0, sizeof(*m));
}

/* ---------------------------------------------------- host directory */

/* Every internal host that has traffic in an open slot has a small id
 * here. A flow costs one probe of this table per address: finding an
 * address says it is internal without asking the host (is_home), and
 * gives the index into the open slots' per-host tables, so the 16-byte
 * address is hashed and compared once per flow, not once per slot.
 * Ids no open slot uses any more are recycled (dir_purge), so the table
 * holds the hosts of the last few slots, not of the whole run. */
#define NO_ID UINT32_MAX

typedef struct hinfo {
  nfh_addr addr;
  uint8_t live;
  uint8_t in_use; /* dir_purge's mark: an open slot counts it */
} hinfo;

typedef struct hdir {
  uint64_t *t;   /* see dir_key; 0 = empty */
  uint32_t cap;  /* entries of t, a power of two (dir_fits) */
  uint32_t nlive;
  hinfo *h;      /* by id */
  uint32_t *ent; /* by id: the index of its entity, or NO_ID; kept
                  * exact by entity_new and entity_delete */
  uint32_t nh, caph;
  uint32_t *free_ids;
  uint32_t nfree;
  uint32_t purge_at; /* nlive that makes the next dir_purge worth it */
} hdir;

/* ----------------------------------------------------- slot counting */

/* One direction of one flow record in one slot, as counted. The
 * network's counters take it at once (they are few and stay in the
 * cache); a host's records are only appended to the slot's buckets and
 * folded into the host's counters when the slot closes (or when the
 * slot holds LOG_FOLD records). Appending is sequential, and folding
 * visits the records of each host together, in the order they came, so
 * every sum, sketch and heavy-hitter list comes out exactly as if each
 * record had been added to the host as it came. */
enum {
  R_OUT = 0x01,     /* outbound (else inbound) */
  R_SYN = 0x02,     /* counts as SYN-only packets */
  R_TCP = 0x04,
  R_UDP = 0x08,
  R_ICMP = 0x10,
  R_TINY = 0x20,    /* at most 2 unsampled packets */
  R_SAMPLED = 0x40, /* from a sampling exporter */
  R_AMP = 0x80      /* inbound UDP from an amplifier port (sport), or
                     * with sport 0 a fragment (see make_rec) */
};

typedef struct rec {
  uint64_t pkts, bytes; /* of the whole record */
  double w;             /* the share of it in this slot */
  nfh_addr peer;
  uint32_t port_key; /* (proto << 16 | service or target port) + 1 */
  uint32_t sampling; /* 1-in-N */
  uint32_t t0, t1;   /* its part of the slot, ms after the slot's start */
  uint16_t sport;    /* the peer's port, for R_AMP; 0: a fragment; for
                      * TCP, REC_BARE_ACKS or 0 */
  uint8_t flags;     /* R_* */
  uint8_t j;         /* its host's place in its bucket */
} rec;
/* rec.sport of a TCP record of bare, small ACKs (flags has no bit left:
 * TCP records use sport for nothing else). */
#define REC_BARE_ACKS 1u

/* One cache line: a slot writes one line per record. */
_Static_assert(sizeof(rec) == 64, "rec is one cache line");

#define NO_LOCAL UINT32_MAX
/* The records of local hosts [b << BUCKET_SHIFT, (b + 1) << BUCKET_SHIFT)
 * share bucket b, a chain of chunks: appending writes to a few dozen
 * chunk tails, and closing reads a bucket's chunks from end to end and
 * regroups its records by host in a buffer that fits the cache. */
#define BUCKET_SHIFT 8
#define BUCKET_HOSTS (1u << BUCKET_SHIFT)
#define CHUNK_RECS 64 /* a page */
#define NO_CHUNK UINT32_MAX
/* Records a slot holds before it folds them into per-host counters (64
 * bytes each): a slot of a busy network still costs bounded memory,
 * about 1 KB per host once folded. */
#define LOG_FOLD (1u << 18)
/* Slots closed keep their buffers for the next ones: a slot's records
 * take megabytes, and fresh memory costs a page fault per 4 KB. */
#define SPARE_SLOTS 1

typedef struct chunk {
  rec r[CHUNK_RECS];
} chunk;
_Static_assert(sizeof(chunk) == 4096, "a chunk is a page");

/* A bucket's chunks are full but the last (its tail). */
typedef struct bucket {
  uint32_t head, tail; /* chunks, or NO_CHUNK */
  uint32_t n;          /* records */
  uint32_t tail_n;     /* records in the tail */
} bucket;

typedef struct hacc {
  nfh_addr addr; /* family 0: the whole home network */
  double c[2][NCOUNT];
  double npeers[2]; /* distinct peers, once counted */
  int peers_estimated[2];
  nfh__vol_distinct peers[2]; /* the network's, and folded hosts' */
  nfh__vol_top src_in;   /* heaviest external sources */
  nfh__vol_top port_in;  /* heaviest service ports hit (proto<<16|port)+1 */
  nfh__vol_top amp_in;   /* heaviest amplifier source ports */
  nfh__vol_top dst_out;  /* heaviest external targets */
  nfh__vol_top port_out; /* heaviest target ports */
  uint64_t t0[2], t1[2];  /* span of the direction's records in the slot */
  /* Packet-weighted moments of the records' midpoints (s after the
   * slot's start), their mean length and mean squared length: where the
   * packets fell, so that a flood's rate is over its own minute, not
   * over the host's other records around it (see active_seconds). */
  double pw[2], pwt[2], pwt2[2], pwd[2], pwd2[2];
  kspan kinds[2];
  uint32_t max_sampling;
} hacc;

typedef struct slotacc {
  uint64_t slot;
  hacc net;    /* counted as records come */
  chunk *ch;   /* records not folded yet */
  uint32_t *cnext; /* by chunk: the bucket's next chunk, or NO_CHUNK */
  uint32_t nch, capch;
  bucket *b;
  uint32_t nb, capb;
  uint32_t nrec;   /* records in the chunks */
  uint32_t *local; /* directory id -> local index, NO_LOCAL: none yet */
  uint32_t nlocal;
  uint32_t *hid;   /* local index -> directory id, in order of arrival */
  uint32_t nh, caphid;
  hacc *h;         /* per local host once the records were folded */
  uint32_t caph, nfolded; /* hosts [0, nfolded) have their hacc */
  double untracked_bytes; /* of hosts beyond max_slot_hosts */
} slotacc;

/* One slot of one entity, as judged: the counts and their shape. */
typedef struct ssum {
  uint64_t slot;
  double x[NMET];
  double c[2][NCOUNT];
  int peers_estimated[2];
  uint32_t max_sampling;
  int bidir_ok;
  nfh_addr top_src;
  double top_src_share;
  int32_t top_port_in; /* (proto << 16 | port), -1 none */
  double top_port_in_share;
  int32_t top_amp_port;
  nfh_addr top_dst;
  double top_dst_share;
  /* The heaviest external targets and their shares of the packets out
   * (at most: with more targets than counters the lower bounds of four
   * equal ones read 5% each): for allow rules on destinations
   * (allowed_out_share). */
  nfh_addr dsts[NFH_VOL_TOP_K];
  double dst_shares[NFH_VOL_TOP_K];
  int32_t top_port_out;
  double top_port_out_share;
  double net_pkts[2], net_bytes[2];
  double active_s[2]; /* seconds the packets took (active_seconds) */
  uint64_t t0[2], t1[2]; /* epoch ms of the first start, the last end */
  kspan kinds[2];        /* the same by flood type, in the slot */
} ssum;

/* --------------------------------------------------------- entities */

typedef struct learnbuf {
  uint32_t k;     /* samples in y */
  float *y;       /* [learn_slots][NMET] */
  ssum *pend;     /* slots that may prove anomalous, judged at the end */
  uint32_t npend;
} learnbuf;

/* Seasonal cells of one host, and the samples of the hour in progress:
 * they reach the cells only once the hour is over, so that every slot of
 * an hour is judged by earlier days alone (a two-hour upload must not
 * become normal for its own second half). */
#define SLOTS_PER_HOUR 12
typedef struct season {
  nfh__vol_cell cell[NFH_VOL_CELLS];
  float pend[SLOTS_PER_HOUR][NFH_VOL_SEASONAL];
  uint8_t pend_skip[SLOTS_PER_HOUR];
  uint8_t npend;
  uint64_t pend_hour; /* hours since the epoch */
} season;

/* Laid out for the slot closer, which visits thousands of entities a
 * slot in no useful order: what it reads and writes fills the first two
 * cache lines of an entity (v->ent is 64-byte aligned), the address the
 * third. */
typedef struct entity {
  uint8_t is_net, alive, from_state, learned_in_run;
  uint32_t n;     /* slots in the baseline, saturating */
  uint32_t seen;  /* slots with traffic, saturating */
  float vol;      /* EWMA of ln(1 + bytes both ways): for ranking */
  nfh__vol_stat g[NMET];
  uint64_t last_seen, mark;
  season *season;        /* or NULL */
  learnbuf *learn;       /* while the baseline is being learned */
  nfh_addr addr;
  uint8_t pad[64 - sizeof(nfh_addr)];
} entity;
_Static_assert(offsetof(entity, addr) == 128 && sizeof(entity) == 192,
               "an entity is two hot cache lines and a cold one");

/* ---------------------------------------------------------- findings */

typedef struct verdict {
  uint64_t slot;
  int dir, is_net;
  double x[M_PER_DIR], expect[M_PER_DIR], mratio[M_PER_DIR];
  int primary;
  double z, ratio;
  int base, q, seasonal_only;
  int by_signature; /* SIG_*: a flood whatever the baseline */
  double f, syn_share, bpp, pps, reply, tiny_share, amp_share, conc;
  double frag_share; /* inbound UDP fragments without ports */
  double sampled_share;
  int ftype, many, strong, extreme;
  nfh_severity sev;
  double score, conf;
  ssum s;
} verdict;

/* Flood findings of one kind, direction and time on this many home hosts
 * are one attack spread over them (carpet bombing, a reflection sprayed
 * over a prefix, many hosts of a botnet): one finding, not one per host. */
#define CARPET_HOSTS 10
/* The hosts a carpet finding names. */
#define CARPET_NAMED 8

typedef struct fnd {
  uint8_t kind, suppressed;
  /* 0: anomalies that are no flood; else 1 + the flood type (FT_*):
   * a SYN flood and a GRE flood on one server days apart are two
   * attacks, not one finding named after the worst. */
  uint8_t cls;
  uint32_t carpet; /* hosts this finding stands for (0: itself only) */
  uint32_t ncarpet_named;
  nfh_addr carpet_named[CARPET_NAMED]; /* the worst hit first */
  nfh_addr addr;
  uint64_t first_slot, last_slot, prev_slot;
  uint64_t first_ms, last_ms; /* the records' own times, within the slots */
  uint32_t slots, episodes;
  double sum_bytes, sum_pkts, max_peers;
  uint32_t max_sampling;
  verdict peak;
} fnd;

/* ---------------------------------------------------------- context */

typedef struct vol {
  const nfh_host_api *api;
  params p;
  /* Records came sampled at an interval no exporter announced (counted
   * as UNKNOWN_SAMPLING): a finding's interval of that value is that. */
  int unknown_sampled;
  double F[2][NMET];   /* floors: [0] hosts, [1] the network */
  double lnF[2][NMET];

  slotacc **open; /* sorted by slot */
  uint32_t nopen, capopen;
  uint64_t frontier; /* lowest slot not closed yet */
  int frontier_set, closed_any;

  entity *ent;
  uint32_t nent, capent, nalive, nseason;
  uint32_t *freelist;
  uint32_t nfree;
  amap emap;
  entity net;

  fnd *fnd;
  uint32_t nfnd, capfnd;
  amap fmap;

  float *scratch; /* learn_slots floats */
  uint64_t slots_total; /* data slots closed, all runs */
  uint64_t slots_run;
  uint64_t last_slot;    /* newest slot closed, all runs */
  uint64_t learned_upto; /* slots up to this one taught an earlier run */
  int have_state;
  double late_bytes, total_bytes, untracked_bytes;
  double vis_records[2]; /* flow records in and out, all closed slots */
  double vis_sessions[2]; /* of them, TCP session records (C_EST) */
  /* The slot being closed, and the excess (bytes, packets) over their
   * baselines of its anomalous hosts, whatever their severity: what a
   * network-wide anomaly of the same slot is measured against. */
  uint64_t cur_slot;
  double host_excess[2][2];
  uint32_t max_sampling;
  uint32_t untracked_hosts;
  nfh__vol_held *held; /* NULL with held_max_keys = 0 */

  hdir dir;
  nfh_addr *outside; /* OUTSIDE_CACHE external addresses, by hash */
  slotacc *spare[SPARE_SLOTS]; /* closed slots, kept for their buffers */
  uint32_t nspare;
  /* Folding a bucket: its records grouped by host, host j's (of the
   * bucket) at gbuf[gstart[j] .. gstart[j + 1]); a host's counters, and
   * its distinct peers. */
  rec *gbuf;
  uint32_t capgbuf;
  uint32_t gstart[BUCKET_HOSTS + 1];
  hacc scratch_h;
  nfh__vol_dscratch dset[2];
} vol;

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* ======================================================== entities */

static void learn_free(learnbuf *l) {
  if (l) {
    free(l->pend);
    free(l); /* y lives in the same allocation */
  }
}

static void entity_release(vol *v, entity *e) {
  if (e->season)
    v->nseason--;
  free(e->season);
  e->season = NULL;
  learn_free(e->learn);
  e->learn = NULL;
}

static void dir_note_entity(vol *v, const nfh_addr *a, uint32_t idx);

static void entity_delete(vol *v, uint32_t idx) {
  entity *e = &v->ent[idx];
  amap_del(&v->emap, &e->addr, 0);
  dir_note_entity(v, &e->addr, NO_ID);
  entity_release(v, e);
  e->alive = 0;
  v->freelist[v->nfree++] = idx;
  v->nalive--;
}

static int by_rank(const void *a, const void *b, const vol *v) {
  const entity *x = &v->ent[*(const uint32_t *)a];
  const entity *y = &v->ent[*(const uint32_t *)b];
  /* Hosts seen once go first, then the quietest. */
  int rx = x->seen > 1, ry = y->seen > 1;
  if (rx != ry)
    return rx - ry;
  return x->vol < y->vol ? -1 : x->vol > y->vol;
}

/* qsort has no context argument in C99: the comparison reads it from
 * here for the duration of one sort (the detector is single-threaded
 * per context, and sorts never nest). */
static __thread const vol *sort_ctx;
static int cmp_rank_asc(const void *a, const void *b) {
  return by_rank(a, b, sort_ctx);
}
static int cmp_rank_desc(const void *a, const void *b) {
  return by_rank(b, a, sort_ctx);
}

/* Makes room in the host table by forgetting the least useful sixteenth
 * of it; hosts marked in the current slot stay. Returns the number
 * evicted. */
static uint32_t evict_some(vol *v, uint64_t slot) {
  uint32_t *idx = malloc(sizeof(uint32_t) * (v->nent ? v->nent : 1));
  if (!idx)
    return 0;
  uint32_t n = 0;
  for (uint32_t i = 0; i < v->nent; i++)
    if (v->ent[i].alive && v->ent[i].mark != slot + 1)
      idx[n++] = i;
  sort_ctx = v;
  qsort(idx, n, sizeof(uint32_t), cmp_rank_asc);
  uint32_t want = v->nalive / 16 ? v->nalive / 16 : 1;
  if (want > n)
    want = n;
  for (uint32_t i = 0; i < want; i++)
    entity_delete(v, idx[i]);
  free(idx);
  return want;
}

static int learn_start(vol *v, entity *e, uint32_t zeros) {
  uint32_t L = (uint32_t)v->p.learn_slots;
  learnbuf *l = calloc(1, sizeof(*l) + sizeof(float) * L * NMET);
  if (!l)
    return -1;
  l->y = (float *)(l + 1);
  for (uint32_t i = 0; i < zeros && i < L; i++) {
    for (int m = 0; m < NMET; m++)
      l->y[i * NMET + m] = (float)v->lnF[e->is_net][m];
    l->k++;
  }
  e->learn = l;
  return 0;
}

/* A new tracked host. What came before it: if the detector has already
 * seen learn_slots slots of data (in this run or earlier ones) and this
 * host had no traffic crossing the boundary in them, its baseline is
 * zero traffic, known at once; otherwise it learns from its first slots,
 * the slots without it counting as zeros. Returns its index, or -1 when
 * the table is full of hosts of this slot or memory runs out. */
static int64_t entity_new(vol *v, const nfh_addr *a, uint64_t slot) {
  if (v->nalive >= (uint32_t)v->p.max_hosts && !evict_some(v, slot))
    return -1;
  uint32_t idx;
  if (v->nfree) {
    idx = v->freelist[--v->nfree];
  } else {
    if (v->nent == v->capent) {
      uint32_t cap = v->capent ? 2 * v->capent : 256;
      void *grown;
      if (posix_memalign(&grown, 64, sizeof(entity) * cap) != 0)
        return -1;
      if (v->nent)
        memcpy(grown, v->ent, sizeof(entity) * v->nent);
      free(v->ent);
      v->ent = grown;
      uint32_t *fl = realloc(v->freelist, sizeof(uint32_t) * cap);
      if (!fl)
        return -1;
      v->freelist = fl;
      v->capent = cap;
    }
    idx = v->nent++;
  }
  entity *e = &v->ent[idx];
  memset(e, 0, sizeof(*e));
  e->addr = *a;
  e->alive = 1;
  uint32_t L = (uint32_t)v->p.learn_slots;
  if (v->slots_total >= L) {
    for (int m = 0; m < NMET; m++) {
      e->g[m].c = (float)v->lnF[0][m];
      e->g[m].s = 0;
    }
    e->n = (uint32_t)(v->slots_total < UINT32_MAX ? v->slots_total
                                                  : UINT32_MAX);
  } else if (learn_start(v, e, (uint32_t)v->slots_total) != 0) {
    v->freelist[v->nfree++] = idx;
    e->alive = 0;
    return -1;
  }
  if (amap_put(&v->emap, a, 0, idx) != 0) {
    learn_free(e->learn);
    e->learn = NULL;
    e->alive = 0;
    v->freelist[v->nfree++] = idx;
    return -1;
  }
  dir_note_entity(v, a, idx);
  v->nalive++;
  return idx;
}

/* Gives seasonal cells to the busiest hosts seen repeatedly, at most
 * max_seasonal_hosts of them; hosts that dropped out of that set lose
 * theirs. */
static void season_rebalance(vol *v) {
  uint32_t max = (uint32_t)v->p.max_seasonal_hosts;
  uint32_t *idx = malloc(sizeof(uint32_t) * (v->nent ? v->nent : 1));
  if (!idx)
    return;
  uint32_t n = 0;
  for (uint32_t i = 0; i < v->nent; i++) {
    entity *e = &v->ent[i];
    if (!e->alive)
      continue;
    if (e->seen >= (uint32_t)v->p.season_min_seen || e->season)
      idx[n++] = i;
  }
  if (n > max) {
    sort_ctx = v;
    qsort(idx, n, sizeof(uint32_t), cmp_rank_desc);
    for (uint32_t i = max; i < n; i++) {
      entity *e = &v->ent[idx[i]];
      if (e->season) {
        free(e->season);
        e->season = NULL;
        v->nseason--;
      }
    }
    n = max;
  }
  for (uint32_t i = 0; i < n; i++) {
    entity *e = &v->ent[idx[i]];
    if (!e->season && e->seen >= (uint32_t)v->p.season_min_seen &&
        (e->season = calloc(1, sizeof(season))))
      v->nseason++;
  }
  free(idx);
}

/* ======================================================= judging */

typedef struct mjudge {
  double z, ratio, expect;
  int anom, base, q, seasonal_only;
} mjudge;

static int seasonal_index(int m) {
  switch (m) {
  case MET(DIR_IN, M_BYTES):
    return 0;
  case MET(DIR_IN, M_PKTS):
    return 1;
  case MET(DIR_OUT, M_BYTES):
    return 2;
  case MET(DIR_OUT, M_PKTS):
    return 3;
  }
  return -1;
}

/* Judges count x of metric m against the entity's most specific mature
 * baseline. With no baseline at all (use_prior), the baseline is zero
 * traffic. */
static void judge(const vol *v, const entity *e, int m, double x,
                  uint64_t slot, int use_prior, mjudge *j) {
  const params *p = &v->p;
  double F = v->F[e->is_net][m], lnF = v->lnF[e->is_net][m];
  double y = log(x + F);
  memset(j, 0, sizeof(*j));

  int g_avail = !use_prior && e->n > 0;
  double gc = g_avail ? e->g[m].c : lnF;
  double gs = g_avail && e->g[m].s > p->s_min ? e->g[m].s : p->s_min;
  double zg = (y - gc) / gs, rg = exp(y - gc);
  int g_anom = zg >= p->z_min && rg >= p->ratio_min;

  /* Seasonal: the hour of week, and the hours of day around this one.
   * The slot is unusual for the season only if every mature cell finds
   * it so: a backup that starts at 02:50 one night and 03:10 the next
   * is normal for both hours. */
  int si = seasonal_index(m), s_avail = 0, s_anom = 1, s_base = B_HOD;
  double zs = 0, rs = 0, cs = 0;
  if (!use_prior && e->season && si >= 0) {
    uint64_t ms = slot * SLOT_MS;
    unsigned hod = nfh__vol_hour_of_day(ms), how = nfh__vol_hour_of_week(ms);
    int tol = (int)p->season_tolerance;
    for (int k = -1 - tol; k <= tol; k++) {
      const nfh__vol_cell *cell;
      int is_how = k < -tol;
      if (is_how) {
        cell = &e->season->cell[NFH_VOL_HOD_CELLS + how];
        if (cell->n < p->how_min)
          continue;
      } else {
        cell = &e->season->cell[((int)hod + k + 24) % 24];
        if (cell->n < p->hod_min)
          continue;
      }
      /* Only the hour's own cells (hour of week, hour of day) make a
       * seasonal baseline; mature neighbours may only call it normal. */
      if (is_how || k == 0)
        s_avail = 1;
      double s = cell->s[si] > p->s_min ? cell->s[si] : p->s_min;
      double z = (y - cell->c[si]) / s, r = exp(y - cell->c[si]);
      double rp = exp(y - cell->p[si]);
      if (!(z >= p->z_min && r >= p->ratio_min && rp >= p->peak_ratio)) {
        s_anom = 0;
        if (is_how)
          s_base = B_HOW;
      } else if (rs == 0 || r < rs) {
        rs = r, zs = z, cs = cell->c[si];
        s_base = is_how ? B_HOW : B_HOD;
      }
    }
  }
  if (!s_avail)
    s_anom = 0;
  if (s_avail && s_anom) {
    j->anom = 1;
    j->z = zs, j->ratio = rs, j->expect = exp(cs) - F;
    j->base = s_base, j->q = 3;
    /* Unusual for the hour, usual for the host: a weaker signal. */
    j->seasonal_only = g_avail && !g_anom;
    return;
  }
  j->z = zg, j->ratio = rg, j->expect = exp(gc) - F;
  if (s_avail) {
    j->base = s_base, j->q = 3;
  } else if (g_avail) {
    /* History: a day of slots, or a baseline kept from earlier runs
     * over a few hours of them; runs of one file each (nfcapd -x) carry
     * a host into the state after one slot. */
    int old = e->n >= SLOTS_PER_DAY ||
              (e->from_state && e->n >= STATE_HISTORY_SLOTS);
    j->base = old ? B_HISTORY : B_LEARNED;
    j->q = old ? 2 : 1;
    j->anom = g_anom;
  } else {
    j->base = B_NONE, j->q = 0;
    j->anom = g_anom;
  }
  if (j->expect < 0)
    j->expect = 0;
}

static const double base_conf[] = {0.35, 0.55, 0.75, 0.8, 0.9};

static void sev_band(nfh_severity s, double *lo, double *hi) {
  switch (s) {
  case NFH_SEV_INFO:
    *lo = 5, *hi = 19;
    return;
  case NFH_SEV_LOW:
    *lo = 20, *hi = 39;
    return;
  case NFH_SEV_MEDIUM:
    *lo = 40, *hi = 64;
    return;
  case NFH_SEV_HIGH:
    *lo = 65, *hi = 84;
    return;
  case NFH_SEV_CRITICAL:
    *lo = 85, *hi = 100;
    return;
  }
  *lo = 0, *hi = 0;
}

/* Judges one direction of one slot of an entity. Returns 1 and fills
 * vd when the slot is anomalous, else 0. */
static int evaluate(const vol *v, const entity *e, const ssum *s, int dir,
                    int use_prior, verdict *vd) {
  const params *p = &v->p;
  memset(vd, 0, sizeof(*vd));
  vd->slot = s->slot;
  vd->dir = dir;
  vd->is_net = e->is_net;
  mjudge j[M_PER_DIR];
  int any = 0;
  for (int m = 0; m < M_PER_DIR; m++) {
    double x = s->x[MET(dir, m)];
    judge(v, e, MET(dir, m), x, s->slot, use_prior, &j[m]);
    vd->x[m] = x;
    vd->expect[m] = j[m].expect;
    vd->mratio[m] = j[m].ratio;
  }
  for (size_t t = 0; t < NTRIGGER; t++)
    any |= j[trigger_metrics[t]].anom;

  const double *c = s->c[dir];
  double pkts = c[C_PKTS], bytes = c[C_BYTES];
  double Fsyn = v->F[e->is_net][MET(dir, M_SYN)];
  vd->syn_share = pkts > 0 ? c[C_SYN] / pkts : 0;
  double excess_pkts = vd->x[M_PKTS] - vd->expect[M_PKTS];
  double excess_syn = vd->x[M_SYN] - vd->expect[M_SYN];
  double syn_ex = excess_pkts > 0 ? clamp01(excess_syn / excess_pkts) : 0;
  double syn_dom = vd->syn_share > syn_ex ? vd->syn_share : syn_ex;
  double peers = vd->x[M_PEERS];

  /* Replies in kind: UDP answered by UDP, ICMP by ICMP. An ICMP
   * unreachable is the network refusing a flood, not an answer. */
  int kp = c[C_UDP] >= c[C_ICMP] ? C_UDP : C_ICMP;
  if (c[C_UDP] + c[C_ICMP] < 0.5 * pkts)
    kp = C_PKTS;
  vd->reply = c[kp] > 0 ? s->c[!dir][kp] / c[kp] : 0;
  /* Another protocol (GRE, ESP) is answered by itself: the host's web
   * replies are no answer to a GRE flood (they read as 10% replies, an
   * answered flash crowd). */
  double other = pkts - c[C_TCP] - c[C_UDP] - c[C_ICMP];
  if (other >= 0.5 * pkts) {
    const double *b = s->c[!dir];
    double back = b[C_PKTS] - b[C_TCP] - b[C_UDP] - b[C_ICMP];
    vd->reply = back > 0 ? back / other : 0;
  }

  /* The shape of a flood whatever the baseline (below): many sources
   * to a host, or a host sending mostly to one target. */
  int crowd = dir == DIR_IN ? peers >= p->min_sources
                            : !e->is_net && s->top_dst_share >= 0.5;
  /* A SYN flood needs no baseline: SYN-only packets (handshakes nobody
   * completes) dominating a host's inbound traffic from many sources,
   * or its outbound traffic mostly to one target, far above the floor,
   * are never normal. This catches a flood that filled most of a first
   * run's learning slots. */
  if (!any && syn_dom >= p->syn_share && c[C_SYN] >= 10 * Fsyn && crowd) {
    any = 1;
    vd->by_signature = SIG_SYN;
    j[M_SYN].anom = 1;
  }
  /* Nor does ICMP at a rate no one pings, answered or not, above the
   * packet floor (half a minute of it): ICMP most of the host's inbound
   * packets. */
  int icmp_rate = !e->is_net && dir == DIR_IN && pkts > 0 &&
                  c[C_ICMP] >= 0.5 * pkts &&
                  c[C_ICMP] / s->active_s[dir] >= ICMP_FLOOD_PPS &&
                  pkts >= v->F[0][MET(dir, M_PKTS)];
  if (!any && icmp_rate) {
    any = 1;
    vd->by_signature = SIG_ICMP_RATE;
    j[M_PKTS].anom = 1;
  }
  /* Nor does a UDP or ICMP flood that this run's own records taught the
   * baseline (one that ramped up or raged through a first run's
   * learning slots): non-TCP packets, ten times the packet floor, that
   * are never answered in kind, where the exporters show replies, from
   * many sources to a host, or from a host mostly to one target. Over a
   * baseline from the state, however young, such a stream (a collector
   * of one-way telemetry, an exporter feeding one) is the host's usual. */
  if (!any && !e->is_net && crowd && s->bidir_ok &&
      j[M_PKTS].base <= B_LEARNED && !e->from_state && pkts > 0 &&
      c[C_TCP] <= 0.2 * pkts && vd->reply < 0.01 &&
      pkts >= 10 * v->F[0][MET(dir, M_PKTS)]) {
    any = 1;
    vd->by_signature = SIG_UNANSWERED;
    j[M_PKTS].anom = 1;
  }
  /* Nor does an application-layer flood of a few clients under the
   * floor: thousands of completed sessions in a slot from each of them,
   * ten times what the host usually gets (measured over a tenth of the
   * floor), above the floor itself. Sessions and clients beyond the
   * usual, so that the host's regular visitors do not dilute the few. A
   * browser opens a handful; a crawler or a batch client that fast is
   * worth a look too. */
  double surplus_peers = peers - vd->expect[M_PEERS];
  double storm_each = (vd->x[M_FLOWS] - vd->expect[M_FLOWS]) /
                      (surplus_peers > 1 ? surplus_peers : 1);
  if (!any && !e->is_net && dir == DIR_IN && pkts > 0 &&
      c[C_TCP] >= 0.8 * pkts && syn_dom < p->syn_share &&
      storm_each >= STORM_SESSIONS &&
      vd->x[M_FLOWS] >= v->F[0][MET(dir, M_FLOWS)] &&
      vd->x[M_FLOWS] >=
          p->high_ratio * (vd->expect[M_FLOWS] +
                           STORM_FLOOR_SHARE * v->F[0][MET(dir, M_FLOWS)])) {
    any = 1;
    vd->by_signature = SIG_SESSIONS;
    j[M_FLOWS].anom = 1;
  }
  if (!any)
    return 0;

  /* Acknowledgements: a big transfer one way makes a stream of small TCP
   * packets the other way (one for every two or more segments). That
   * stream grows with the transfer, and is no anomaly of its own: the
   * transfer is judged in its own direction. A SYN or non-TCP flood is
   * never mistaken for it. */
  double other_bytes = s->c[!dir][C_BYTES];
  /* Unless the sessions themselves are the anomaly: an HTTP flood's
   * small requests also draw bigger answers, but over a flood of
   * sessions from each client, where a transfer's acknowledgements ride
   * its few connections. */
  double per_peer = peers > 0 ? vd->x[M_FLOWS] / peers : 0;
  /* Half the strong ratio: multiples count over floor_flows (3,000 a
   * slot), which a flood of 25,000 sessions only passes fivefold. */
  int session_flood = vd->by_signature == SIG_SESSIONS ||
                      (!e->is_net && dir == DIR_IN && j[M_FLOWS].anom &&
                       j[M_FLOWS].ratio >= p->high_ratio / 2 &&
                       per_peer >= APP_SESSIONS &&
                       (peers >= p->min_sources ||
                        per_peer >= FEW_SOURCE_SESSIONS));
  if (pkts > 0 && c[C_TCP] >= 0.8 * pkts && syn_dom < p->syn_share &&
      bytes * 4 <= other_bytes && !session_flood)
    return 0;
  /* Echo replies: a host that answers a ping flood sends back as many
   * ICMP packets as it got; they are the flood's, judged inbound (they
   * read "79 MB ... likely a bulk transfer", an exfiltration technique). */
  if (dir == DIR_OUT && pkts > 0 && c[C_ICMP] >= 0.5 * pkts &&
      s->c[!dir][C_ICMP] >= 0.8 * c[C_ICMP])
    return 0;

  /* The primary metric: the volume (bytes or packets) that grew most,
   * else SYN-only packets or flows. */
  int prim = -1;
  static const int order[] = {M_BYTES, M_PKTS, M_SYN, M_FLOWS};
  for (int pass = 0; pass < 2 && prim < 0; pass++)
    for (int k = pass * 2; k < pass * 2 + 2; k++) {
      int m = order[k];
      if (j[m].anom && (prim < 0 || j[m].ratio > j[prim].ratio))
        prim = m;
    }
  /* A SYN flood is measured in handshakes nobody completes: a spoofed
   * one of 1,250 packets a second at a busy web server (90,000 sources)
   * grew its packets 8x over the floor, its SYN-only packets 90x. */
  if (syn_dom >= p->syn_share && j[M_SYN].anom &&
      j[M_SYN].ratio > j[prim].ratio)
    prim = M_SYN;
  vd->primary = prim;
  vd->z = j[prim].z;
  vd->ratio = j[prim].ratio;
  vd->base = j[prim].base;
  vd->q = j[prim].q;
  vd->seasonal_only = j[prim].seasonal_only;

  /* The shape of the traffic: is it a flood? */
  vd->bpp = pkts > 0 ? bytes / pkts : 0;
  vd->pps = pkts / SLOT_S;
  vd->tiny_share = pkts > 0 ? c[C_TINY] / pkts : 0;
  vd->sampled_share = bytes > 0 ? clamp01(c[C_SAMPLED] / bytes) : 0;
  /* Of the packets that show their ports: fragments of an amplifier's
   * answers would otherwise outweigh the answers' first packets that
   * name the amplifier (two fragments each and the flood looks like
   * plain UDP). */
  double ported = pkts - c[C_FRAG];
  vd->amp_share = ported > 0 ? clamp01(c[C_AMP] / ported) : 0;
  vd->frag_share = pkts > 0 ? clamp01(c[C_FRAG] / pkts) : 0;
  double syn_c = clamp01((syn_dom - 0.2) / (p->syn_share - 0.2));
  double non_tcp = pkts > 0 ? clamp01(1 - c[C_TCP] / pkts) : 0;
  /* Unanswered: the victim (or the target) sends almost nothing back in
   * kind. Only meaningful when the exporters see both directions at
   * all. TCP is left out: a fast TCP receiver acknowledges rarely (GRO,
   * stretch ACKs), so a bulk download would look unanswered; and media
   * or QUIC streams get a little feedback (a few percent), which a
   * flood never does. */
  double unans = s->bidir_ok ? clamp01((0.03 - vd->reply) / 0.025) : 0;
  double small = clamp01((1000 - vd->bpp) / 800);
  /* Records of one or two packets carry randomised-port floods; with
   * sampling every record looks like that, so the sign fades with it. */
  double tiny = clamp01((vd->tiny_share - 0.3) / 0.4) *
                (1 - vd->sampled_share);
  if (e->is_net) {
    /* The network's own replies dilute any one victim's silence: judge
     * its shape by SYN-only dominance, tiny records and amplifier
     * source ports (a reflection flood spread over many victims). */
    double reflect = dir == DIR_IN ? clamp01((vd->amp_share - 0.2) / 0.3) : 0;
    vd->f = syn_c > tiny ? syn_c : tiny;
    if (reflect > vd->f)
      vd->f = reflect;
    vd->many = 1;
  } else if (dir == DIR_IN) {
    double many_c = clamp01(log((peers > 1 ? peers : 1) / 5.0) /
                            log(4 * p->min_sources / 5.0));
    double a = small > many_c ? small : many_c;
    double f = syn_c;
    if (non_tcp * unans * a > f)
      f = non_tcp * unans * a;
    if (tiny * many_c > f)
      f = tiny * many_c;
    /* ICMP from many sources is a flood whether the victim answers or
     * not (a live host echoes requests); no crowd of users pings. From
     * one source, its rate tells. */
    if (pkts > 0 && c[C_ICMP] >= 0.5 * pkts && many_c > f)
      f = many_c;
    if (icmp_rate)
      f = 1;
    /* Answers from amplifier ports (NTP, DNS, memcached, ...) that
     * many sources send one host unasked: a reflection, also where the
     * exporters do not show whether it asked. Where they do, a host that
     * asks (a resolver hearing from name servers) is answered in kind
     * and unans keeps it out. */
    double reflect_c = clamp01((vd->amp_share - 0.2) / 0.3) *
                       (s->bidir_ok ? unans : 1.0);
    if (reflect_c * many_c > f)
      f = reflect_c * many_c;
    /* Bare ACKs from many sources with nothing sent the other way to be
     * acknowledged (that case left above, as acknowledgements): an ACK
     * flood, which its victim answers with a few resets. */
    double ack_c = pkts > 0 ? clamp01((c[C_ACK] / pkts - 0.3) / 0.4) : 0;
    /* Not while the host sends as many TCP packets as it gets ACKs (one
     * for every two segments): they acknowledge its upload, whoever else
     * it talks to. At a NAT address a 2 GB upload's ACK stream beside
     * its users' browsing read "ACK flood from about 544 sources". */
    if (c[C_ACK] <= s->c[!dir][C_TCP])
      ack_c = 0;
    if (ack_c * many_c > f)
      f = ack_c * many_c;
    /* TCP of bare headers (60 bytes a packet) from many sources, never
     * answered (under 1% of the packets back), where the exporters show
     * replies: a flood whose flags the records lost (nfcapd keeps none
     * for a biflow whose other side sent nothing: a SYN flood read "an
     * answered flash crowd") or that sets none. A download's packets are
     * full, and its ACKs come back. */
    double tcp_share = pkts > 0 ? c[C_TCP] / pkts : 0;
    double bare = clamp01((BARE_TCP_BYTES - vd->bpp) / 40.0);
    double silent = s->bidir_ok ? clamp01((0.01 - vd->reply) / 0.008) : 0;
    if (tcp_share >= 0.8 && bare * silent * many_c > f)
      f = bare * silent * many_c;
    vd->f = f;
    vd->many = peers >= p->min_sources;
  } else {
    vd->conc = s->top_dst_share;
    double conc_c = clamp01((vd->conc - 0.3) / 0.4);
    double flows = vd->x[M_FLOWS];
    double many_flows = clamp01(log((flows > 1 ? flows : 1) / 50.0) /
                                log(2000.0 / 50.0));
    double a = small > many_flows ? small : many_flows;
    if (conc_c > a)
      a = conc_c;
    double f = syn_c;
    if (non_tcp * unans * a > f)
      f = non_tcp * unans * a;
    double b = conc_c > unans ? conc_c : unans;
    if (tiny * b > f)
      f = tiny * b;
    vd->f = f;
    vd->many = vd->conc >= 0.5;
  }
  if (syn_dom >= p->syn_share)
    vd->ftype = FT_SYN;
  else if (dir == DIR_IN && pkts > 0 && c[C_ACK] >= 0.5 * pkts &&
           vd->f >= 0.5)
    vd->ftype = FT_ACK;
  else if (dir == DIR_IN && vd->amp_share >= 0.5)
    vd->ftype = FT_REFLECT;
  else if (pkts > 0 && c[C_UDP] / pkts >= 0.5)
    vd->ftype = FT_UDP;
  else if (pkts > 0 && c[C_ICMP] / pkts >= 0.5)
    vd->ftype = FT_ICMP;
  else if (pkts > 0 && c[C_TCP] / pkts >= 0.5)
    vd->ftype = session_flood && vd->f < 0.5 ? FT_APP : FT_TCP;
  else
    vd->ftype = FT_OTHER;

  const double *F = v->F[e->is_net];
  vd->strong = vd->ratio >= p->high_ratio && vd->z >= p->high_z;
  int big = vd->x[M_PKTS] >= 10 * F[MET(dir, M_PKTS)] ||
            vd->x[M_BYTES] >= 10 * F[MET(dir, M_BYTES)];
  vd->extreme = vd->strong && vd->ratio >= p->critical_ratio && big;
  int flood = vd->f >= 0.5;
  /* UDP or ICMP from many sources to a host, or from a host mostly to
   * one target, far above its usual, and no replies exported to tell a
   * flood from a crowd or a transfer: worth a look, either way. */
  int unseen_surge = vd->many && !s->bidir_ok && non_tcp >= 0.8 && vd->strong;
  nfh_severity sev;
  if (vd->by_signature) {
    sev = NFH_SEV_MEDIUM;
  } else if (e->is_net) {
    /* Not flood-shaped and no host to blame: many hosts downloading at
     * once (patch day). Worth a line only when extreme. */
    sev = flood ? (vd->extreme ? NFH_SEV_HIGH
                               : vd->strong ? NFH_SEV_MEDIUM : NFH_SEV_LOW)
                : (vd->extreme ? NFH_SEV_LOW : NFH_SEV_INFO);
  } else if (dir == DIR_IN) {
    if (flood && vd->many)
      sev = vd->extreme ? (vd->q >= 1 ? NFH_SEV_CRITICAL : NFH_SEV_HIGH)
            : vd->strong ? NFH_SEV_HIGH
                         : NFH_SEV_MEDIUM;
    else if (flood) /* one or few sources */
      sev = vd->extreme && vd->q >= 2 ? NFH_SEV_HIGH
            : vd->strong              ? NFH_SEV_MEDIUM
                                      : NFH_SEV_LOW;
    else if (vd->ftype == FT_APP) /* sessions by the dozen from each */
      sev = vd->extreme && vd->q >= 2 ? NFH_SEV_HIGH : NFH_SEV_MEDIUM;
    else if (unseen_surge)
      sev = NFH_SEV_MEDIUM;
    else if (vd->many) /* answered: a flash crowd, or a layer-7 flood */
      sev = vd->extreme && vd->q >= 2 ? NFH_SEV_MEDIUM
            : vd->strong              ? NFH_SEV_LOW
                                      : NFH_SEV_INFO;
    else /* a download */
      sev = NFH_SEV_INFO;
  } else {
    if (flood && vd->many) /* at one target */
      sev = vd->extreme ? (vd->q >= 1 ? NFH_SEV_CRITICAL : NFH_SEV_HIGH)
            : vd->strong ? NFH_SEV_HIGH
                         : NFH_SEV_MEDIUM;
    else if (flood) /* sprayed over many targets */
      sev = vd->extreme ? NFH_SEV_HIGH
            : vd->strong ? NFH_SEV_MEDIUM
                         : NFH_SEV_LOW;
    else if (unseen_surge) /* at one target */
      sev = NFH_SEV_MEDIUM;
    else /* bulk: a backup, an upload, or data leaving; only an extreme
          * one (tens of times the host's norm, hundreds of MB a slot) is
          * worth a person's time here */
      sev = !vd->extreme ? NFH_SEV_INFO
            : vd->q >= 2 ? NFH_SEV_MEDIUM
                         : NFH_SEV_LOW;
  }
  if (vd->seasonal_only && sev > NFH_SEV_LOW)
    sev = NFH_SEV_LOW;
  if (icmp_rate && sev < NFH_SEV_MEDIUM)
    sev = NFH_SEV_MEDIUM; /* as by the signature, over a baseline too */
  vd->sev = sev;

  double conf = base_conf[vd->base] + 0.1 * vd->f;
  conf *= 1 - 0.3 * vd->sampled_share;
  vd->conf = conf < 0.05 ? 0.05 : conf > 0.99 ? 0.99 : conf;
  double lo, hi;
  sev_band(sev, &lo, &hi);
  double t = 0.6 * clamp01(log10(vd->ratio) / log10(2 * p->critical_ratio)) +
             0.2 * vd->f + 0.2 * vd->conf;
  vd->score = lo + (hi - lo) * clamp01(t);
  vd->s = *s;
  return 1;
}

/* ====================================================== findings */

static int fnd_better(const verdict *a, const verdict *b) {
  if (a->sev != b->sev)
    return a->sev > b->sev;
  return a->score > b->score;
}

/* The finding map's tag: the kind and the class (see fnd.cls). */
static uint8_t fnd_tag(uint8_t kind, uint8_t cls) {
  return (uint8_t)(kind | cls << 2);
}

/* The span of verdict vd's flood type's records in its slot (ms after
 * the slot's start), when that type keeps one: 1, else 0. */
static int flood_span(const verdict *vd, uint32_t *t0, uint32_t *t1) {
  const kspan *ks = &vd->s.kinds[vd->dir];
  if (vd->ftype >= NFT || !(ks->have & (1u << vd->ftype)))
    return 0;
  *t0 = ks->t0[vd->ftype];
  *t1 = ks->t1[vd->ftype];
  return 1;
}

/* Adds an anomalous slot to its finding: one finding per (kind, host,
 * flood type) and run, its span covering every anomalous slot of it,
 * its severity and text those of the worst slot. */
static void record(vol *v, const entity *e, const verdict *vd) {
  if (vd->sev < v->p.min_severity)
    return;
  uint8_t kind = e->is_net ? (vd->dir == DIR_IN ? K_NET_IN : K_NET_OUT)
                           : (vd->dir == DIR_IN ? K_IN : K_OUT);
  uint8_t cls = !e->is_net && (vd->f >= 0.5 || vd->by_signature ||
                                vd->ftype == FT_APP)
                    ? (uint8_t)(1 + vd->ftype)
                    : 0;
  uint8_t tag = fnd_tag(kind, cls);
  uint32_t idx;
  fnd *f;
  if (amap_find(&v->fmap, &e->addr, tag, &idx)) {
    f = &v->fnd[idx];
  } else {
    if (v->nfnd < (uint32_t)v->p.max_findings) {
      if (v->nfnd == v->capfnd) {
        uint32_t cap = v->capfnd ? 2 * v->capfnd : 16;
        fnd *grown = realloc(v->fnd, sizeof(fnd) * cap);
        if (!grown)
          return;
        v->fnd = grown;
        v->capfnd = cap;
      }
      idx = v->nfnd;
      if (amap_put(&v->fmap, &e->addr, tag, idx) != 0)
        return;
      v->nfnd++;
    } else {
      /* Full: the weakest finding gives way to a stronger one. */
      uint32_t w = 0;
      for (uint32_t i = 1; i < v->nfnd; i++)
        if (fnd_better(&v->fnd[w].peak, &v->fnd[i].peak))
          w = i;
      if (!fnd_better(vd, &v->fnd[w].peak))
        return;
      amap_del(&v->fmap, &v->fnd[w].addr,
               fnd_tag(v->fnd[w].kind, v->fnd[w].cls));
      if (amap_put(&v->fmap, &e->addr, tag, w) != 0)
        return;
      idx = w;
    }
    f = &v->fnd[idx];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->cls = cls;
    f->addr = e->addr;
  }
  /* The span of the direction's records in the slot, kept inside the
   * slot: a long record that ends in it does not move the start back. */
  uint64_t s0 = vd->slot * SLOT_MS, s1 = s0 + SLOT_MS;
  uint64_t t0 = vd->s.t0[vd->dir], t1 = vd->s.t1[vd->dir];
  uint32_t own0, own1;
  if (cls && flood_span(vd, &own0, &own1)) {
    t0 = s0 + own0;
    t1 = s0 + own1;
  }
  t0 = t0 > s0 && t0 < s1 ? t0 : s0;
  t1 = t1 > t0 && t1 < s1 ? t1 : s1;
  if (!f->slots) {
    f->first_slot = f->last_slot = f->prev_slot = vd->slot;
    f->first_ms = t0;
    f->last_ms = t1;
    f->episodes = 1;
    f->peak = *vd;
  } else {
    if (t0 < f->first_ms)
      f->first_ms = t0;
    if (t1 > f->last_ms)
      f->last_ms = t1;
    if (vd->slot > f->prev_slot + 1 + (uint64_t)v->p.episode_gap)
      f->episodes++;
    if (vd->slot < f->first_slot)
      f->first_slot = vd->slot;
    if (vd->slot > f->last_slot)
      f->last_slot = vd->slot;
    f->prev_slot = vd->slot;
    if (fnd_better(vd, &f->peak))
      f->peak = *vd;
  }
  f->slots++;
  f->sum_bytes += vd->x[M_BYTES];
  f->sum_pkts += vd->x[M_PKTS];
  if (vd->x[M_PEERS] > f->max_peers)
    f->max_peers = vd->x[M_PEERS];
  if (vd->s.max_sampling > f->max_sampling)
    f->max_sampling = vd->s.max_sampling;
}

/* ======================================================= observing */

static void y_of(const vol *v, const entity *e, const ssum *s, float *y) {
  /* log(0 + F) is lnF, computed once by the same log(). */
  for (int m = 0; m < NMET; m++)
    y[m] = s->x[m] == 0 ? (float)v->lnF[e->is_net][m]
                        : (float)log(s->x[m] + v->F[e->is_net][m]);
}

/* Applies the samples of the finished hour to its hour-of-day and
 * hour-of-week cells. */
static void season_flush(const vol *v, season *se) {
  uint64_t ms = se->pend_hour * 3600000u;
  nfh__vol_cell *hod = &se->cell[nfh__vol_hour_of_day(ms)];
  nfh__vol_cell *how =
      &se->cell[NFH_VOL_HOD_CELLS + nfh__vol_hour_of_week(ms)];
  for (uint8_t i = 0; i < se->npend; i++) {
    nfh__vol_cell_update(hod, se->pend[i], se->pend_skip[i],
                         (float)v->p.season_alpha, (float)v->p.s_min,
                         (float)v->p.peak_decay);
    nfh__vol_cell_update(how, se->pend[i], se->pend_skip[i],
                         (float)v->p.season_alpha, (float)v->p.s_min,
                         (float)v->p.peak_decay);
  }
  se->npend = 0;
}

/* Teaches the slot to the entity's baselines. A slot found anomalous
 * teaches at a quarter of the weight, so that a flood does not become
 * the norm within the hour but a lasting change is learned in a day or
 * two; a slot judged a flood never enters the seasonal profile, while a
 * benign surge (a backup) does, so that it is normal at that hour on the
 * following days. */
static void teach(vol *v, entity *e, const float *y, uint64_t slot,
                  const int *anom, const int *flood) {
  if (slot <= v->learned_upto)
    return; /* an earlier run learned this slot already */
  for (int dir = 0; dir < 2; dir++) {
    float a = (float)v->p.alpha;
    if (anom[dir])
      a /= 4;
    for (int m = 0; m < M_PER_DIR; m++)
      nfh__vol_stat_update(&e->g[MET(dir, m)], y[MET(dir, m)], a,
                           (float)v->p.s_min);
  }
  if (e->n < UINT32_MAX)
    e->n++;
  if (e->season) {
    float ys[NFH_VOL_SEASONAL];
    for (int m = 0; m < NMET; m++) {
      int si = seasonal_index(m);
      if (si >= 0)
        ys[si] = y[m];
    }
    unsigned skip = (flood[DIR_IN] ? 3u : 0) | (flood[DIR_OUT] ? 12u : 0);
    season *se = e->season;
    uint64_t hour = slot * SLOT_MS / 3600000u;
    if (se->npend && (se->pend_hour != hour || se->npend == SLOTS_PER_HOUR))
      season_flush(v, se);
    se->pend_hour = hour;
    memcpy(se->pend[se->npend], ys, sizeof(ys));
    se->pend_skip[se->npend++] = (uint8_t)skip;
  }
}

static int is_candidate(const vol *v, const entity *e, const ssum *s) {
  for (int dir = 0; dir < 2; dir++)
    for (size_t t = 0; t < NTRIGGER; t++) {
      int m = MET(dir, trigger_metrics[t]);
      /* Below (ratio_min - 1) floors no baseline can find it anomalous:
       * (x + F) / (b + F) < ratio_min for any b >= 0; nor below 10
       * floors can the SYN-flood signature. */
      double k = v->p.ratio_min - 1 < 10 ? v->p.ratio_min - 1 : 10;
      if (s->x[m] >= k * v->F[e->is_net][m])
        return 1;
    }
  /* Nor below one floor of inbound sessions the session-storm
   * signature (SIG_SESSIONS), nor below one of inbound packets the ICMP
   * rate (SIG_ICMP_RATE). */
  return !e->is_net &&
         (s->x[MET(DIR_IN, M_FLOWS)] >= v->F[0][MET(DIR_IN, M_FLOWS)] ||
          s->x[MET(DIR_IN, M_PKTS)] >= v->F[0][MET(DIR_IN, M_PKTS)]);
}

/* Judges both directions of a slot and records what is anomalous. */
static void judge_slot(vol *v, entity *e, const ssum *s, int use_prior,
                       int *anom, int *flood) {
  verdict vd[2];
  anom[0] = anom[1] = flood[0] = flood[1] = 0;
  if (!is_candidate(v, e, s))
    return; /* the common case: far too small to be anomalous */
  for (int dir = 0; dir < 2; dir++) {
    anom[dir] = evaluate(v, e, s, dir, use_prior, &vd[dir]);
    flood[dir] = anom[dir] && vd[dir].f >= 0.5;
    if (!anom[dir] || s->slot != v->cur_slot)
      continue;
    double xb = vd[dir].x[M_BYTES] - vd[dir].expect[M_BYTES];
    double xp = vd[dir].x[M_PKTS] - vd[dir].expect[M_PKTS];
    if (!e->is_net) {
      v->host_excess[dir][0] += xb > 0 ? xb : 0;
      v->host_excess[dir][1] += xp > 0 ? xp : 0;
    } else if ((xb > 0 && v->host_excess[dir][0] >= 0.5 * xb) ||
               (xp > 0 && v->host_excess[dir][1] >= 0.5 * xp)) {
      /* The network's surge is its hosts' surges: they say it better. */
      anom[dir] = flood[dir] = 0;
    }
  }
  for (int dir = 0; dir < 2; dir++) {
    /* A flood's victim answers (SYN-ACKs, resets, echo replies) and a
     * flooding host gets refusals back: an anomaly that is not itself
     * flood-shaped, opposite a flood, is that response. */
    if (anom[dir] && !(flood[!dir] && !flood[dir]))
      record(v, e, &vd[dir]);
  }
  /* An anomalous host earns seasonal cells at once if there is room, so
   * that a surge that recurs (tomorrow's backup) is learned from its
   * first night. */
  if ((anom[0] || anom[1]) && !e->season && !e->is_net &&
      v->nseason < (uint32_t)v->p.max_seasonal_hosts &&
      (e->season = calloc(1, sizeof(season))))
    v->nseason++;
}

/* Ends an entity's learning: its baseline becomes the median and MAD of
 * the learned slots, and the slots held back are judged against it. */
static void learn_end(vol *v, entity *e) {
  learnbuf *l = e->learn;
  e->learn = NULL;
  int prior = l->k < LEARN_MIN;
  for (int m = 0; m < NMET; m++) {
    for (uint32_t i = 0; i < l->k; i++)
      v->scratch[i] = l->y[i * NMET + m];
    if (l->k)
      nfh__vol_stat_from_sample(&e->g[m], v->scratch, l->k);
  }
  e->n = l->k;
  e->learned_in_run = 1;
  for (uint32_t i = 0; i < l->npend; i++) {
    int anom[2], flood[2];
    judge_slot(v, e, &l->pend[i], prior, anom, flood);
  }
  learn_free(l);
}

static void learn_add(vol *v, entity *e, const float *y, const ssum *s) {
  learnbuf *l = e->learn;
  uint32_t L = (uint32_t)v->p.learn_slots;
  if (l->k < L) {
    memcpy(l->y + (size_t)l->k * NMET, y, sizeof(float) * NMET);
    l->k++;
  }
  if (s && is_candidate(v, e, s)) {
    if (!l->pend)
      l->pend = malloc(sizeof(ssum) * L);
    if (l->pend && l->npend < L)
      l->pend[l->npend++] = *s;
  }
  if (l->k >= L)
    learn_end(v, e);
}

/* One slot of one entity (s NULL: the entity had no traffic in it). */
static void observe(vol *v, entity *e, const ssum *s, uint64_t slot) {
  float y[NMET];
  double volume = 0;
  if (s) {
    y_of(v, e, s, y);
    volume = s->x[MET(DIR_IN, M_BYTES)] + s->x[MET(DIR_OUT, M_BYTES)];
  } else {
    for (int m = 0; m < NMET; m++)
      y[m] = (float)v->lnF[e->is_net][m];
  }
  if (volume > 0) {
    if (e->seen < UINT32_MAX)
      e->seen++;
    e->last_seen = slot;
  }
  e->vol += 0.01f * ((float)log1p(volume) - e->vol);
  if (e->learn) {
    learn_add(v, e, y, s);
    return;
  }
  int anom[2] = {0, 0}, flood[2] = {0, 0};
  if (s)
    judge_slot(v, e, s, e->n == 0, anom, flood);
  teach(v, e, y, slot, anom, flood);
}

/* ===================================================== host directory */

/* A table entry: the low 31 bits hold the id + 1, and the high 32 bits
 * the IPv4 address itself (with DIR_V4 set: finding it needs nothing
 * else) or the high half of the address's hash (then the address in
 * hinfo is compared too). */
#define DIR_V4 0x80000000u
#define DIR_ID 0x7fffffffu

static inline uint64_t dir_key(const nfh_addr *a, uint64_t hash) {
  uint64_t hi, lo;
  memcpy(&hi, a->bytes, 8);
  memcpy(&lo, a->bytes + 8, 8);
  /* ::ffff:a.b.c.d, the only form of an IPv4 address (as read on a
   * little-endian host; elsewhere it takes the general way). */
  if (a->family == 4 && !hi && (uint32_t)lo == 0xffff0000u)
    return lo >> 32 << 32 | DIR_V4;
  return hash >> 32 << 32;
}

/* The id of address a (hash: nfh__vol_addr_hash(a)), or NO_ID when it
 * has none: an external address, or an internal host without traffic
 * in the open slots. */
static inline uint32_t dir_find(const hdir *d, const nfh_addr *a,
                                uint64_t hash) {
  if (!d->cap)
    return NO_ID;
  uint32_t mask = d->cap - 1;
  uint64_t key = dir_key(a, hash);
  for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask) {
    uint64_t e = d->t[i];
    if (!e)
      return NO_ID;
    if ((e & ~(uint64_t)DIR_ID) == key) {
      uint32_t id = (uint32_t)(e & DIR_ID) - 1;
      if ((key & DIR_V4) || nfh_addr_equal(&d->h[id].addr, a))
        return id;
    }
  }
}

static void dir_insert(uint64_t *t, uint32_t cap, const nfh_addr *a,
                       uint64_t hash, uint32_t id) {
  uint32_t mask = cap - 1, i = (uint32_t)hash & mask;
  while (t[i])
    i = (i + 1) & mask;
  t[i] = dir_key(a, hash) | ((uint64_t)id + 1);
}

/* Whether a table of 'cap' entries has room for n ids: at most 70% full
 * keeps the probes of an absent address (every flow has one) within a
 * cache line or two of 8-byte entries, and the table small. */
static int dir_fits(uint32_t n, uint32_t cap) {
  return (uint64_t)n * 10 <= (uint64_t)cap * 7;
}

/* Rebuilds the table at 'cap' entries from the live ids (only those an
 * open slot uses, with in_use_only). Returns 0, or -1 when memory runs
 * out (the table is then unchanged). */
static int dir_rebuild(hdir *d, uint32_t cap, int in_use_only) {
  uint64_t *t = calloc(cap, sizeof(uint64_t));
  if (!t)
    return -1;
  for (uint32_t id = 0; id < d->nh; id++)
    if (d->h[id].live && (!in_use_only || d->h[id].in_use))
      dir_insert(t, cap, &d->h[id].addr, nfh__vol_addr_hash(&d->h[id].addr),
                 id);
  free(d->t);
  d->t = t;
  d->cap = cap;
  return 0;
}

/* Gives address a (internal, absent) an id; ent is the index of its
 * entity or NO_ID. Returns the id, or NO_ID when memory runs out (the
 * directory is then unchanged). */
static uint32_t dir_add(hdir *d, const nfh_addr *a, uint64_t hash,
                        uint32_t ent) {
  if (!dir_fits(d->nlive + 1, d->cap) &&
      dir_rebuild(d, d->cap ? 2 * d->cap : 1024, 0) != 0)
    return NO_ID;
  uint32_t id;
  if (d->nfree) {
    id = d->free_ids[--d->nfree];
  } else {
    if (d->nh == DIR_ID - 1)
      return NO_ID; /* ids must fit the entries' 31 bits */
    if (d->nh == d->caph) {
      uint32_t cap = d->caph ? 2 * d->caph : 1024;
      hinfo *h = realloc(d->h, sizeof(hinfo) * cap);
      if (!h)
        return NO_ID;
      d->h = h;
      uint32_t *fr = realloc(d->free_ids, sizeof(uint32_t) * cap);
      if (!fr)
        return NO_ID;
      d->free_ids = fr;
      uint32_t *en = realloc(d->ent, sizeof(uint32_t) * cap);
      if (!en)
        return NO_ID;
      d->ent = en;
      d->caph = cap;
    }
    id = d->nh++;
  }
  hinfo *hi = &d->h[id];
  memset(hi, 0, sizeof(*hi));
  hi->addr = *a;
  hi->live = 1;
  d->ent[id] = ent;
  dir_insert(d->t, d->cap, a, hash, id);
  d->nlive++;
  return id;
}

/* Recycles the ids that no open slot counts, once there are twice as
 * many as after the last purge. Must not run while a flow is being
 * counted: add_flow holds an id across slot_get, which may close slots.
 * Failing (out of memory) only leaves the directory as it was. */
static void dir_purge(vol *v) {
  hdir *d = &v->dir;
  if (d->nlive < d->purge_at)
    return;
  for (uint32_t id = 0; id < d->nh; id++)
    d->h[id].in_use = 0;
  for (uint32_t k = 0; k < v->nopen; k++) {
    const slotacc *a = v->open[k];
    for (uint32_t i = 0; i < a->nh; i++)
      d->h[a->hid[i]].in_use = 1;
  }
  uint32_t keep = 0;
  for (uint32_t id = 0; id < d->nh; id++)
    keep += d->h[id].live && d->h[id].in_use;
  uint32_t cap = 1024;
  while (!dir_fits(keep + keep / 4, cap))
    cap *= 2;
  if (dir_rebuild(d, cap, 1) != 0)
    return;
  for (uint32_t id = 0; id < d->nh; id++) {
    hinfo *h = &d->h[id];
    if (h->live && !h->in_use) {
      h->live = 0;
      d->free_ids[d->nfree++] = id;
    }
  }
  d->nlive = keep;
  d->purge_at = 2 * keep > 4096 ? 2 * keep : 4096;
}

static void dir_free(hdir *d) {
  free(d->t);
  free(d->h);
  free(d->free_ids);
  free(d->ent);
  memset(d, 0, sizeof(*d));
}

static void dir_note_entity(vol *v, const nfh_addr *a, uint32_t idx) {
  uint32_t id = dir_find(&v->dir, a, nfh__vol_addr_hash(a));
  if (id != NO_ID)
    v->dir.ent[id] = idx;
}

/* ===================================================== slot closing */

static void top_share(const nfh__vol_top *t, double total, uint64_t *key,
                      nfh_addr *addr, double *share) {
  double low;
  const nfh__vol_top_entry *b = nfh__vol_top_best(t, &low);
  *key = b ? b->key : 0;
  if (addr) {
    if (b)
      *addr = b->addr;
    else
      memset(addr, 0, sizeof(*addr));
  }
  *share = b && total > 0 ? clamp01(low / total) : 0;
}

/* The seconds a direction's packets took: uniform arrivals over D
 * seconds have a spread of D / sqrt(12) around their mean, and records
 * that ran side by side at least their mean length. A record's packets
 * are spread over its own length too (len^2 / 12 of variance): a 5-minute
 * flood in a record of 240 s and one of 60 s read as 208 s (28,868 pps
 * for 20,000) from the midpoints alone. Never more than the span of the
 * records (first start to last end), never under 1 s. */
static double active_seconds(const hacc *h, int dir) {
  double span = (double)(h->t1[dir] - h->t0[dir]) / 1000;
  if (span > SLOT_S)
    span = SLOT_S;
  double est = span;
  if (h->pw[dir] > 0) {
    double mean = h->pwt[dir] / h->pw[dir];
    double var = h->pwt2[dir] / h->pw[dir] - mean * mean +
                 h->pwd2[dir] / h->pw[dir] / 12;
    double spread = var > 0 ? sqrt(12 * var) : 0;
    double len = h->pwd[dir] / h->pw[dir];
    est = spread > len ? spread : len;
    if (est > span)
      est = span;
  }
  return est < 1 ? 1 : est;
}

static void summarize(const slotacc *acc, const hacc *h, int bidir_ok,
                      ssum *s) {
  memset(s, 0, sizeof(*s));
  s->slot = acc->slot;
  for (int dir = 0; dir < 2; dir++) {
    memcpy(s->c[dir], h->c[dir], sizeof(s->c[dir]));
    s->x[MET(dir, M_BYTES)] = h->c[dir][C_BYTES];
    s->x[MET(dir, M_PKTS)] = h->c[dir][C_PKTS];
    s->x[MET(dir, M_FLOWS)] = h->c[dir][C_FLOWS];
    s->x[MET(dir, M_SYN)] = h->c[dir][C_SYN];
    s->x[MET(dir, M_PEERS)] = h->npeers[dir];
    s->peers_estimated[dir] = h->peers_estimated[dir];
    s->net_pkts[dir] = acc->net.c[dir][C_PKTS];
    s->active_s[dir] = active_seconds(h, dir);
    s->t0[dir] = h->t0[dir];
    s->t1[dir] = h->t1[dir];
    s->kinds[dir] = h->kinds[dir];
    s->net_bytes[dir] = acc->net.c[dir][C_BYTES];
  }
  s->max_sampling = h->max_sampling;
  s->bidir_ok = bidir_ok;
  uint64_t key;
  double in = h->c[DIR_IN][C_PKTS], out = h->c[DIR_OUT][C_PKTS];
  top_share(&h->src_in, in, &key, &s->top_src, &s->top_src_share);
  top_share(&h->port_in, in, &key, NULL, &s->top_port_in_share);
  s->top_port_in = key ? (int32_t)(key - 1) : -1;
  double amp_share;
  top_share(&h->amp_in, in, &key, NULL, &amp_share);
  s->top_amp_port = key ? (int32_t)(key - 1) : -1;
  top_share(&h->dst_out, out, &key, &s->top_dst, &s->top_dst_share);
  for (int i = 0; i < NFH_VOL_TOP_K; i++) {
    const nfh__vol_top_entry *t = &h->dst_out.e[i];
    if (t->key && out > 0) {
      s->dsts[i] = t->addr;
      s->dst_shares[i] = clamp01(t->weight / out);
    }
  }
  top_share(&h->port_out, out, &key, NULL, &s->top_port_out_share);
  s->top_port_out = key ? (int32_t)(key - 1) : -1;
}

/* Takes the distinct-peer counts of counters whose peers went to their
 * own nfh__vol_distinct (the network, folded hosts). */
static void hacc_count_peers(hacc *h) {
  for (int dir = 0; dir < 2; dir++) {
    h->npeers[dir] = nfh__vol_distinct_count(&h->peers[dir]);
    h->peers_estimated[dir] = !nfh__vol_distinct_exact(&h->peers[dir]);
  }
}

static void hacc_free(hacc *h) {
  nfh__vol_distinct_free(&h->peers[0]);
  nfh__vol_distinct_free(&h->peers[1]);
}

static void slotacc_free(slotacc *a) {
  if (!a)
    return;
  for (uint32_t i = 0; i < a->nfolded; i++)
    hacc_free(&a->h[i]);
  hacc_free(&a->net);
  free(a->h);
  free(a->ch);
  free(a->cnext);
  free(a->b);
  free(a->local);
  free(a->hid);
  free(a);
}

static void slotacc_release(vol *v, slotacc *a) {
  if (v->nspare == SPARE_SLOTS) {
    slotacc_free(a);
    return;
  }
  for (uint32_t i = 0; i < a->nfolded; i++)
    hacc_free(&a->h[i]);
  hacc_free(&a->net);
  free(a->h);
  a->h = NULL;
  a->caph = a->nfolded = 0;
  v->spare[v->nspare++] = a;
}

/* An empty slot counter, from the spares if there is one; NULL when
 * memory runs out. */
static slotacc *slotacc_new(vol *v, uint64_t slot) {
  slotacc *a;
  if (v->nspare) {
    slotacc keep = *v->spare[--v->nspare];
    a = v->spare[v->nspare];
    memset(a, 0, sizeof(*a));
    a->ch = keep.ch, a->cnext = keep.cnext, a->capch = keep.capch;
    a->b = keep.b, a->capb = keep.capb;
    a->local = keep.local, a->nlocal = keep.nlocal;
    a->hid = keep.hid, a->caphid = keep.caphid;
    if (a->nlocal)
      memset(a->local, 0xff, sizeof(uint32_t) * a->nlocal);
  } else if (!(a = calloc(1, sizeof(*a)))) {
    return NULL;
  }
  a->slot = slot;
  return a;
}

/* Widens type's span in k to [t0, t1] and counts a record of pk
 * packets and by bytes into it. */
static inline void kspan_add(kspan *k, int type, uint32_t t0, uint32_t t1,
                             double pk, double by) {
  if (!(k->have & (1u << type))) {
    k->have |= (uint8_t)(1u << type);
    k->t0[type] = t0, k->t1[type] = t1;
    k->pk[type] = (float)pk, k->by[type] = (float)by;
    return;
  }
  k->pk[type] += (float)pk;
  k->by[type] += (float)by;
  if (t0 < k->t0[type])
    k->t0[type] = t0;
  if (t1 > k->t1[type])
    k->t1[type] = t1;
}

/* Adds one record to the counters of a host or of the network, exactly
 * as the record would have been added when it came. Distinct peers go
 * to h->peers, or to ds[direction] when ds is given. */
static inline void rec_add(const vol *v, hacc *h, int is_net, const rec *r,
                           uint64_t peer_hash, uint64_t slot_ms,
                           nfh__vol_dscratch *ds) {
  int dir = r->flags & R_OUT ? DIR_OUT : DIR_IN;
  uint64_t t0 = slot_ms + r->t0, t1 = slot_ms + r->t1;
  if (!h->t0[dir] || t0 < h->t0[dir])
    h->t0[dir] = t0;
  if (t1 > h->t1[dir])
    h->t1[dir] = t1;
  double w = r->w, pk = (double)r->pkts * w, by = (double)r->bytes * w;
  double mid = (double)(r->t0 + r->t1) / 2000.0;
  h->pw[dir] += pk;
  h->pwt[dir] += pk * mid;
  h->pwt2[dir] += pk * mid * mid;
  double len = (double)(r->t1 - r->t0) / 1000.0;
  h->pwd[dir] += pk * len;
  h->pwd2[dir] += pk * len * len;
  double *c = h->c[dir];
  uint8_t fl = r->flags;
  if (!is_net) {
    kspan *k = &h->kinds[dir];
    if (fl & R_SYN)
      kspan_add(k, FT_SYN, r->t0, r->t1, pk, by);
    if (fl & R_TCP) {
      kspan_add(k, FT_TCP, r->t0, r->t1, pk, by);
      kspan_add(k, FT_APP, r->t0, r->t1, pk, by);
      if (!(fl & R_AMP) && r->sport == REC_BARE_ACKS)
        kspan_add(k, FT_ACK, r->t0, r->t1, pk, by);
    } else if (fl & R_UDP) {
      kspan_add(k, FT_UDP, r->t0, r->t1, pk, by);
    } else if (fl & R_ICMP) {
      kspan_add(k, FT_ICMP, r->t0, r->t1, pk, by);
    }
    if (fl & R_AMP)
      kspan_add(k, FT_REFLECT, r->t0, r->t1, pk, by);
  }
  c[C_BYTES] += by;
  c[C_PKTS] += pk;
  c[C_FLOWS] += w;
  if (fl & R_SYN)
    c[C_SYN] += pk;
  if (fl & R_TCP)
    c[C_TCP] += pk;
  else if (fl & R_UDP)
    c[C_UDP] += pk;
  else if (fl & R_ICMP)
    c[C_ICMP] += pk;
  if (fl & R_TINY)
    c[C_TINY] += pk;
  if (fl & R_SAMPLED)
    c[C_SAMPLED] += by;
  if (fl & R_AMP)
    c[r->sport ? C_AMP : C_FRAG] += pk;
  else if ((fl & R_TCP) && r->sport == REC_BARE_ACKS)
    c[C_ACK] += pk;
  /* A session's side (C_EST, for visible_both): TCP without a SYN, more
   * than two packets, not bare ACKs. Sampled, a side shows one or two of
   * its packets, and the side that acknowledges (a download's requests
   * and ACKs) mostly bare ACKs: any such record is one. Left out, a
   * 1:100 sampled network's outbound sessions were 3% of its inbound
   * ones, and both directions read as one (a UDP flood out: "replies not
   * exported"). */
  if (is_net && (fl & R_TCP) && !(fl & R_SYN) &&
      ((fl & R_SAMPLED) || (!(fl & R_TINY) && r->sport != REC_BARE_ACKS)))
    c[C_EST] += w;
  if (r->sampling > h->max_sampling)
    h->max_sampling = r->sampling;
  if (ds)
    nfh__vol_dscratch_add(&ds[dir], peer_hash);
  else
    nfh__vol_distinct_add(&h->peers[dir], peer_hash,
                          (uint32_t)v->p.exact_distinct,
                          is_net ? NET_HLL_PRECISION : HOST_HLL_PRECISION);
  if (is_net || pk <= 0)
    return;
  if (dir == DIR_IN) {
    /* An outside IPv6 source counts as its /64 for the top sender: a
     * host with a routed /64 sends from a new address of it at will (an
     * ICMPv6 flood from one /64 read "from about 6,038 sources";
     * port_scan merges such a /64 too). The distinct count stays by
     * address. */
    if (r->peer.family == 6 && !nfh_addr_nat64(&r->peer, NULL)) {
      nfh_addr net = nfh_addr_network(&r->peer, 64);
      nfh__vol_top_add(&h->src_in, nfh__vol_addr_hash(&net), &net, pk);
    } else {
      nfh__vol_top_add(&h->src_in, peer_hash, &r->peer, pk);
    }
    if (r->port_key)
      nfh__vol_top_add(&h->port_in, r->port_key, NULL, pk);
    if ((fl & R_AMP) && r->sport)
      nfh__vol_top_add(&h->amp_in, (uint64_t)r->sport + 1, NULL, pk);
  } else {
    nfh__vol_top_add(&h->dst_out, peer_hash, &r->peer, pk);
    nfh__vol_top_add(&h->port_out, r->port_key, NULL, pk);
  }
}

/* Copies the records of bucket bi to v->gbuf grouped by host, each
 * host's in the order they came: afterwards those of local host
 * (bi << BUCKET_SHIFT) + j are gbuf[gstart[j] .. gstart[j + 1]). gbuf
 * grew with the buckets (slot_append), so this cannot fail. */
static void bucket_group(vol *v, const slotacc *a, uint32_t bi) {
  const bucket *bk = &a->b[bi];
  uint32_t *st = v->gstart;
  memset(st, 0, sizeof(v->gstart));
  for (uint32_t c = bk->head; c != NO_CHUNK; c = a->cnext[c]) {
    const chunk *ck = &a->ch[c];
    uint32_t n = c == bk->tail ? bk->tail_n : CHUNK_RECS;
    if (a->cnext[c] != NO_CHUNK)
      __builtin_prefetch(&a->ch[a->cnext[c]]);
    for (uint32_t k = 0; k < n; k++)
      st[ck->r[k].j + 1]++;
  }
  for (uint32_t j = 0; j < BUCKET_HOSTS; j++)
    st[j + 1] += st[j];
  for (uint32_t c = bk->head; c != NO_CHUNK; c = a->cnext[c]) {
    const chunk *ck = &a->ch[c];
    uint32_t n = c == bk->tail ? bk->tail_n : CHUNK_RECS;
    for (uint32_t k = 0; k < n; k++)
      v->gbuf[st[ck->r[k].j]++] = ck->r[k];
  }
  /* st[j] now ends host j: shift it back to where host j begins. */
  for (uint32_t j = BUCKET_HOSTS; j > 0; j--)
    st[j] = st[j - 1];
  st[0] = 0;
}

/* Adds the grouped records of host j of the current bucket to h. */
static void fold_host(const vol *v, const slotacc *a, uint32_t j, hacc *h,
                      nfh__vol_dscratch *ds) {
  uint64_t slot_ms = a->slot * SLOT_MS;
  for (uint32_t k = v->gstart[j]; k < v->gstart[j + 1]; k++) {
    const rec *r = &v->gbuf[k];
    rec_add(v, h, 0, r, nfh__vol_addr_hash(&r->peer), slot_ms, ds);
  }
}

static void chunks_clear(slotacc *a) {
  a->nch = 0;
  a->nrec = 0;
  for (uint32_t i = 0; i < a->nb; i++) {
    a->b[i].head = a->b[i].tail = NO_CHUNK;
    a->b[i].n = a->b[i].tail_n = 0;
  }
}

/* Folds the slot's records into per-host counters that stay with the
 * slot, and empties its chunks. Returns 0, or -1 when memory runs out
 * (nothing is lost, but the slot cannot take more). */
static int fold_log(vol *v, slotacc *a) {
  if (a->nh > a->caph) {
    uint32_t cap = a->caph ? a->caph : 256;
    while (cap < a->nh)
      cap *= 2;
    hacc *h = realloc(a->h, sizeof(hacc) * cap);
    if (!h)
      return -1;
    a->h = h;
    a->caph = cap;
  }
  memset(a->h + a->nfolded, 0, sizeof(hacc) * (a->nh - a->nfolded));
  a->nfolded = a->nh;
  for (uint32_t bi = 0; bi < a->nb; bi++) {
    bucket_group(v, a, bi);
    uint32_t base = bi << BUCKET_SHIFT;
    for (uint32_t j = 0; j < BUCKET_HOSTS && base + j < a->nh; j++)
      fold_host(v, a, j, &a->h[base + j], NULL);
  }
  chunks_clear(a);
  return 0;
}

/* Hosts ahead whose directory entry, entity, then learning buffer or
 * seasonal cells are fetched while a slot's hosts are visited in order
 * of arrival (which decides the order in which new hosts are tracked,
 * so it stays). */
#define HOST_AHEAD 8

/* Inlined by force: GCC finds a function that only reads and prefetches
 * free of side effects, and drops the call. */
#define PREFETCHER static inline __attribute__((always_inline)) void

PREFETCHER prefetch_entity(const vol *v, const slotacc *a, uint32_t i) {
  if (i + 3 * HOST_AHEAD < a->nh)
    __builtin_prefetch(&v->dir.ent[a->hid[i + 3 * HOST_AHEAD]]);
  if (i + 2 * HOST_AHEAD < a->nh) {
    uint32_t e = v->dir.ent[a->hid[i + 2 * HOST_AHEAD]];
    if (e != NO_ID) {
      __builtin_prefetch(&v->ent[e]);
      __builtin_prefetch((const char *)&v->ent[e] + 64);
    }
  }
  if (i + HOST_AHEAD < a->nh) {
    uint32_t e = v->dir.ent[a->hid[i + HOST_AHEAD]];
    if (e != NO_ID) {
      const entity *en = &v->ent[e];
      if (en->learn)
        __builtin_prefetch(en->learn);
      else if (en->season)
        __builtin_prefetch(&en->season->npend);
    }
  }
  if (i + HOST_AHEAD / 2 < a->nh) {
    uint32_t e = v->dir.ent[a->hid[i + HOST_AHEAD / 2]];
    if (e != NO_ID) {
      const entity *en = &v->ent[e];
      if (en->learn)
        __builtin_prefetch(en->learn->y + en->learn->k * NMET);
      else if (en->season)
        __builtin_prefetch(
            en->season->pend[en->season->npend % SLOTS_PER_HOUR]);
    }
  }
}

/* Marks the tracked hosts of the slot being closed, so that making room
 * for a new one never evicts another host of the same slot. */
static void mark_slot(vol *v, const slotacc *acc) {
  for (uint32_t i = 0; i < acc->nh; i++) {
    uint32_t idx = v->dir.ent[acc->hid[i]];
    if (idx != NO_ID)
      v->ent[idx].mark = acc->slot + 1;
  }
}

/* Whether flow records in (ri) and out (ro) show both directions: the
 * fewer at least 5% of the more. */
static int both_directions(double ri, double ro) {
  double lo = ri < ro ? ri : ro, hi = ri < ro ? ro : ri;
  return lo >= 0.05 * hi;
}

/* Whether the records seen show both directions. By TCP sessions when
 * there are enough of them: floods of single records (50,000 SYNs, a
 * UDP flood in a run of its own) outweigh a network's records either
 * way and made a 1:100 sampled hour look one-way; sessions are answered
 * whatever floods come. Else by all records. */
static int visible_both(const double vis[2], const double ses[2]) {
  if (ses[DIR_IN] + ses[DIR_OUT] >= SESSIONS_TO_JUDGE)
    return both_directions(ses[DIR_IN], ses[DIR_OUT]);
  return vis[DIR_IN] + vis[DIR_OUT] > 0 &&
         both_directions(vis[DIR_IN], vis[DIR_OUT]);
}

static void close_slot(vol *v, slotacc *acc) {
  uint64_t slot = acc->slot;
  hacc_count_peers(&acc->net);
  double in = acc->net.c[DIR_IN][C_PKTS], out = acc->net.c[DIR_OUT][C_PKTS];
  v->untracked_bytes += acc->untracked_bytes;
  if (in + out <= 0) /* no data: a gap in the capture, not silence */
    return;
  v->cur_slot = slot;
  memset(v->host_excess, 0, sizeof(v->host_excess));
  /* Whether the exporters show both directions: without that, "no
   * reply" means nothing. Judged by flow records over the whole run so
   * far, before this slot as well as with it: a flood of 170,000 records
   * from fixed ports (an NTP reflection) outweighs an hour of the
   * network's records in both directions, and must not make its own
   * victim's silence meaningless. */
  double *vis = v->vis_records, *ses = v->vis_sessions;
  int bidir_before = visible_both(vis, ses);
  vis[DIR_IN] += acc->net.c[DIR_IN][C_FLOWS];
  vis[DIR_OUT] += acc->net.c[DIR_OUT][C_FLOWS];
  ses[DIR_IN] += acc->net.c[DIR_IN][C_EST];
  ses[DIR_OUT] += acc->net.c[DIR_OUT][C_EST];
  int bidir_ok = bidir_before || visible_both(vis, ses);

  /* This slot's hosts are marked (mark_slot) before the first of them
   * that is new may evict others. */
  int marked = 0;
  for (uint32_t i = 0; i < acc->nh; i++) {
    uint32_t j = i & (BUCKET_HOSTS - 1);
    if (!j)
      bucket_group(v, acc, i >> BUCKET_SHIFT);
    prefetch_entity(v, acc, i);
    hacc *h;
    if (i < acc->nfolded) {
      h = &acc->h[i];
      fold_host(v, acc, j, h, NULL);
      hacc_count_peers(h);
    } else {
      /* The common case: all of the host's records are in the chunks. */
      h = &v->scratch_h;
      memset(h, 0, sizeof(*h));
      nfh__vol_dscratch_begin(&v->dset[0]);
      nfh__vol_dscratch_begin(&v->dset[1]);
      fold_host(v, acc, j, h, v->dset);
      for (int dir = 0; dir < 2; dir++) {
        h->npeers[dir] = nfh__vol_dscratch_count(&v->dset[dir]);
        h->peers_estimated[dir] = !nfh__vol_dscratch_exact(&v->dset[dir]);
      }
    }
    ssum s;
    summarize(acc, h, bidir_ok, &s);
    uint32_t idx = v->dir.ent[acc->hid[i]];
    if (idx == NO_ID && !marked && v->nalive >= (uint32_t)v->p.max_hosts) {
      mark_slot(v, acc);
      marked = 1;
    }
    const nfh_addr *addr = &v->dir.h[acc->hid[i]].addr;
    int64_t ni = idx != NO_ID ? (int64_t)idx : entity_new(v, addr, slot);
    if (ni < 0) {
      /* Not tracked (table full of this slot's hosts, or no memory):
       * judged against zero traffic, so that a flood is not missed. */
      entity tmp;
      memset(&tmp, 0, sizeof(tmp));
      tmp.addr = *addr;
      int anom[2], flood[2];
      judge_slot(v, &tmp, &s, 1, anom, flood);
      free(tmp.season);
      if (tmp.season)
        v->nseason--;
      v->untracked_hosts++;
      continue;
    }
    v->ent[ni].mark = slot + 1;
    observe(v, &v->ent[ni], &s, slot);
  }
  /* Every other tracked host had no traffic in this slot: that is part
   * of its baseline too. Hosts silent for expire_days are forgotten. */
  uint64_t expire = (uint64_t)v->p.expire_days * SLOTS_PER_DAY;
  for (uint32_t i = 0; i < v->nent; i++) {
    entity *e = &v->ent[i];
    if (!e->alive || e->mark == slot + 1)
      continue;
    if (slot > e->last_seen + expire) {
      entity_delete(v, i);
      continue;
    }
    observe(v, e, NULL, slot);
  }
  ssum ns;
  summarize(acc, &acc->net, bidir_ok, &ns);
  observe(v, &v->net, &ns, slot);
  v->slots_total++;
  v->slots_run++;
  if (slot > v->last_slot)
    v->last_slot = slot;
  if (v->slots_run % 12 == 0)
    season_rebalance(v);
}

/* Closes every open slot before 'limit', oldest first. */
static void close_before(vol *v, uint64_t limit) {
  uint32_t k = 0;
  while (k < v->nopen && v->open[k]->slot < limit) {
    close_slot(v, v->open[k]);
    slotacc_release(v, v->open[k]);
    k++;
  }
  if (k) {
    memmove(v->open, v->open + k, sizeof(slotacc *) * (v->nopen - k));
    v->nopen -= k;
    v->closed_any = 1;
  }
  if (!v->frontier_set || limit > v->frontier) {
    v->frontier = limit;
    v->frontier_set = 1;
  }
}

/* The open slot 's', created if needed; NULL when s is already closed
 * (late data) or memory runs out. */
static slotacc *slot_get(vol *v, uint64_t s) {
  if (!v->frontier_set) {
    v->frontier = s;
    v->frontier_set = 1;
  }
  if (s < v->frontier) {
    if (v->closed_any)
      return NULL;
    v->frontier = s; /* nothing judged yet: an earlier record is fine */
  }
  uint32_t k = v->nopen;
  while (k > 0 && v->open[k - 1]->slot >= s) {
    if (v->open[k - 1]->slot == s)
      return v->open[k - 1];
    k--;
  }
  uint64_t reach = (uint64_t)v->p.late_slots + OPEN_AHEAD;
  if (s >= v->frontier + reach) {
    close_before(v, s - reach + 1);
    k = v->nopen;
    while (k > 0 && v->open[k - 1]->slot > s)
      k--;
  }
  if (v->nopen == v->capopen) {
    uint32_t cap = v->capopen ? 2 * v->capopen : 8;
    slotacc **grown = realloc(v->open, sizeof(slotacc *) * cap);
    if (!grown)
      return NULL;
    v->open = grown;
    v->capopen = cap;
  }
  slotacc *a = slotacc_new(v, s);
  if (!a)
    return NULL;
  memmove(v->open + k + 1, v->open + k, sizeof(slotacc *) * (v->nopen - k));
  v->open[k] = a;
  v->nopen++;
  return a;
}

/* The local index in slot a of the host with directory id 'id', added
 * when new; NO_LOCAL when the slot already counts max_slot_hosts hosts
 * (its records then count for the network only). Returns 0, or -1 when
 * memory runs out. */
static int slot_local(vol *v, slotacc *a, uint32_t id, uint32_t *li) {
  if (id >= a->nlocal) {
    uint32_t n = v->dir.caph;
    uint32_t *l = realloc(a->local, sizeof(uint32_t) * n);
    if (!l)
      return -1;
    memset(l + a->nlocal, 0xff, sizeof(uint32_t) * (n - a->nlocal));
    a->local = l;
    a->nlocal = n;
  }
  uint32_t x = a->local[id];
  if (x != NO_LOCAL || a->nh >= (uint32_t)v->p.max_slot_hosts) {
    *li = x;
    return 0;
  }
  if (a->nh == a->caphid) {
    uint32_t cap = a->caphid ? 2 * a->caphid : 256;
    uint32_t *h = realloc(a->hid, sizeof(uint32_t) * cap);
    if (!h)
      return -1;
    a->hid = h;
    a->caphid = cap;
  }
  uint32_t bi = a->nh >> BUCKET_SHIFT;
  if (bi >= a->nb) {
    if (bi >= a->capb) {
      uint32_t cap = a->capb ? 2 * a->capb : 64;
      bucket *b = realloc(a->b, sizeof(bucket) * cap);
      if (!b)
        return -1;
      a->b = b;
      a->capb = cap;
    }
    a->b[bi].head = a->b[bi].tail = NO_CHUNK;
    a->b[bi].n = a->b[bi].tail_n = 0;
    a->nb = bi + 1;
  }
  a->hid[a->nh] = id;
  a->local[id] = a->nh;
  *li = a->nh++;
  return 0;
}

/* A new record of local host li at the end of its bucket, folding the
 * slot's records first when it holds LOG_FOLD; NULL when memory runs
 * out. */
static rec *slot_append(vol *v, slotacc *a, uint32_t li) {
  bucket *bk = &a->b[li >> BUCKET_SHIFT];
  if (bk->tail == NO_CHUNK || bk->tail_n == CHUNK_RECS) {
    if (a->nrec >= LOG_FOLD && fold_log(v, a) != 0)
      return NULL;
    if (a->nch == a->capch) {
      uint32_t cap = a->capch ? 2 * a->capch : 64;
      void *ch;
      uint32_t *next = realloc(a->cnext, sizeof(uint32_t) * cap);
      if (!next)
        return NULL;
      a->cnext = next;
      if (posix_memalign(&ch, sizeof(chunk), sizeof(chunk) * cap) != 0)
        return NULL;
      if (a->nch)
        memcpy(ch, a->ch, sizeof(chunk) * a->nch);
      free(a->ch);
      a->ch = ch;
      a->capch = cap;
    }
    uint32_t c = a->nch++;
    a->cnext[c] = NO_CHUNK;
    if (bk->tail != NO_CHUNK)
      a->cnext[bk->tail] = c;
    else
      bk->head = c;
    bk->tail = c;
    bk->tail_n = 0;
  }
  if (bk->n + 1 > v->capgbuf) {
    uint32_t cap = v->capgbuf ? 2 * v->capgbuf : 4096;
    rec *g = realloc(v->gbuf, sizeof(rec) * cap);
    if (!g)
      return NULL;
    v->gbuf = g;
    v->capgbuf = cap;
  }
  bk->n++;
  a->nrec++;
  rec *r = &a->ch[bk->tail].r[bk->tail_n++];
  /* The line this bucket writes next, a few dozen flows from now: in
   * its tail, or else in the chunk it will most likely take. */
  if (bk->tail_n < CHUNK_RECS)
    __builtin_prefetch(r + 1, 1);
  else if (a->nch < a->capch)
    __builtin_prefetch(&a->ch[a->nch], 1);
  return r;
}

/* ======================================================== flow input */

/* UDP source ports of the usual amplifiers (reflection floods). */
static const char *amp_service(unsigned port) {
  switch (port) {
  case 17:
    return "QOTD";
  case 19:
    return "chargen";
  case 53:
    return "DNS";
  case 111:
    return "portmap";
  case 123:
    return "NTP";
  case 137:
    return "NetBIOS";
  case 161:
    return "SNMP";
  case 389:
    return "CLDAP";
  case 520:
    return "RIP";
  case 1900:
    return "SSDP";
  case 3283:
    return "ARD";
  case 3702:
    return "WS-Discovery";
  case 5353:
    return "mDNS";
  case 10001:
    return "Ubiquiti";
  case 11211:
    return "memcached";
  case 37810:
    return "DVR";
  }
  return NULL;
}

/* One direction of one record, before it is shared out over slots:
 * everything but its slot, its share and its host's local index. */
static void make_rec(rec *r, int dir, uint64_t pkts, uint64_t bytes,
                     uint8_t proto, uint8_t flags, int forward,
                     uint32_t sampling, uint16_t sport, uint16_t dport,
                     const nfh_addr *peer) {
  memset(r, 0, sizeof(*r));
  r->pkts = pkts;
  r->bytes = bytes;
  r->sampling = sampling;
  r->peer = *peer;
  unsigned fl = dir == DIR_OUT ? R_OUT : 0;
  if (proto == 6) {
    fl |= R_TCP;
    /* A SYN without ACK in the record: a handshake nobody completed in
     * this direction (for a biflow record the flags are shared, so only
     * its forward half is judged). */
    if (forward && (flags & 0x02) && !(flags & 0x10))
      fl |= R_SYN;
    /* Only ACKs (PSH at most), and small: no session's handshake, data or
     * end, what an ACK flood sends (its victim resets a few). */
    if (forward && (flags & 0x10) && !(flags & 0x07) && pkts > 0 &&
        bytes <= 80 * pkts)
      r->sport = REC_BARE_ACKS;
  } else if (proto == 17) {
    fl |= R_UDP;
  } else if (proto == 1 || proto == 58) {
    fl |= R_ICMP;
  }
  /* At most two packets before sampling (sampling >= 1). Bytes without
   * packets (a firewall's NSEL counters) say nothing of it. */
  if (pkts <= 2 * (uint64_t)sampling && !(pkts == 0 && bytes > 0))
    fl |= R_TINY;
  if (sampling > 1)
    fl |= R_SAMPLED;
  r->port_key = ((uint32_t)proto << 16 | dport) + 1;
  /* From a service's port to a high one: the answer to the host's own
   * request (a download), no service of the host's: "Inbound volume to
   * 10.10.2.10:50136" named a client's ephemeral port. */
  if (dir == DIR_IN && (proto == 6 || proto == 17) && sport < 1024 &&
      dport >= 1024)
    r->port_key = 0;
  if (dir == DIR_IN && proto == 17 && amp_service(sport)) {
    fl |= R_AMP;
    r->sport = sport;
  } else if (dir == DIR_IN && proto == 17 && !sport && !dport) {
    /* An amplifier's answers of more than one MTU (DNS ANY, memcached,
     * CLDAP) arrive as IP fragments; exporters give the fragments after
     * the first no ports. They are marked so that the reflection share
     * is judged without them (R_AMP with sport 0; flags has no bit
     * left, rec being one cache line). */
    fl |= R_AMP;
    r->sport = 0;
  }
  r->flags = (uint8_t)fl;
}

/* External addresses remembered, so that the busy ones (a popular
 * service, a flood's sources) cost the host's is_home once. */
#define OUTSIDE_CACHE 4096

static inline uint32_t outside_index(uint64_t hash) {
  return (uint32_t)(hash >> 40) & (OUTSIDE_CACHE - 1);
}

/* Whether address a (hash: nfh__vol_addr_hash(a)), which has no
 * directory id, is internal: asks the host, unless a is remembered as
 * external. */
static int is_home(vol *v, const nfh_addr *a, uint64_t hash) {
  nfh_addr *c = &v->outside[outside_index(hash)];
  if (nfh_addr_equal(c, a))
    return 0;
  if (v->api->is_home(v->api->host, a))
    return 1;
  *c = *a;
  return 0;
}

/* A flow on its way through vol_on_flows' pipeline. */
typedef struct pipe_slot {
  uint64_t hs, hd;   /* the hashes of its source and destination */
  uint32_t ids, idd; /* their directory ids, or NO_ID */
} pipe_slot;

/* Counts one flow record; q holds the hashes of its addresses and their
 * directory ids as looked up a few flows ago. Returns 0, or -1 when
 * memory runs out. */
static int add_flow(vol *v, const nfh_flow *f, const pipe_slot *q) {
  uint64_t hs = q->hs, hd = q->hd;
  uint32_t ids = q->ids, idd = q->idd;
  /* An address with a directory id is internal: only the others need
   * the host's answer. */
  int src_home = ids != NO_ID || is_home(v, &f->src, hs);
  int dst_home = idd != NO_ID || is_home(v, &f->dst, hd);
  if (src_home == dst_home)
    return 0; /* internal-to-internal or transit */
  const nfh_addr *inner = dst_home ? &f->dst : &f->src;
  const nfh_addr *peer = dst_home ? &f->src : &f->dst;
  uint32_t id = dst_home ? idd : ids;
  uint64_t inner_hash = dst_home ? hd : hs, peer_hash = dst_home ? hs : hd;
  int dir = dst_home ? DIR_IN : DIR_OUT;
  uint32_t sampling = f->sampling ? f->sampling : 1;
  if ((f->flags & NFH_FLOW_SAMPLED) && sampling < UNKNOWN_SAMPLING) {
    sampling = UNKNOWN_SAMPLING; /* sampled, interval unknown */
    v->unknown_sampled = 1;
  }
  rec parts[2];
  int nparts = 0;
  if (f->packets || f->bytes)
    make_rec(&parts[nparts++], dir, f->packets, f->bytes, f->proto,
             f->tcp_flags, 1, sampling, f->src_port, f->dst_port, peer);
  else if ((f->flags & NFH_FLOW_EVENT) && f->fw_event == NFH_FW_DENIED)
    /* A firewall's denied attempt (NSEL: no counters, no flags) was at
     * least one packet, and for TCP a connection's first, its SYN: a
     * flood it stops is still a flood at it. Its bytes are unknown. */
    make_rec(&parts[nparts++], dir, 1, 0, f->proto,
             f->proto == 6 ? 0x02 : 0, 1, sampling, f->src_port, f->dst_port,
             peer);
  if ((f->flags & NFH_FLOW_HAS_OUT) && (f->out_packets || f->out_bytes))
    make_rec(&parts[nparts++], !dir, f->out_packets, f->out_bytes, f->proto,
             f->tcp_flags, 0, sampling, f->dst_port, f->src_port, peer);
  if (!nparts)
    return 0;
  if (sampling > v->max_sampling)
    v->max_sampling = sampling;
  double bytes = (double)f->bytes + (double)f->out_bytes;
  v->total_bytes += bytes;
  /* A flow counted since the lookup may have added the host. */
  if (id == NO_ID)
    id = dir_find(&v->dir, inner, inner_hash);
  if (id == NO_ID) {
    uint32_t e;
    if (!amap_find(&v->emap, inner, 0, &e))
      e = NO_ID;
    if ((id = dir_add(&v->dir, inner, inner_hash, e)) == NO_ID)
      return -1;
  }

  uint64_t first = f->first_ms, last = f->last_ms;
  if (last < first)
    last = first;
  uint64_t s0 = first / SLOT_MS, s1 = last / SLOT_MS;
  if (s1 - s0 >= MAX_SPAN_SLOTS) {
    s0 = s1 - MAX_SPAN_SLOTS + 1;
    first = s0 * SLOT_MS;
  }
  double dur = (double)(last - first);
  for (uint64_t s = s0; s <= s1; s++) {
    double w = 1;
    uint64_t base = s * SLOT_MS;
    uint64_t a = first > base ? first : base;
    uint64_t b = last < base + SLOT_MS ? last : base + SLOT_MS;
    if (dur > 0) {
      if (b <= a)
        continue;
      w = (double)(b - a) / dur;
    }
    slotacc *acc = slot_get(v, s);
    if (!acc) {
      if (s < v->frontier) {
        v->late_bytes += bytes * w;
        continue;
      }
      return -1; /* out of memory */
    }
    uint32_t li;
    if (slot_local(v, acc, id, &li) != 0)
      return -1;
    for (int i = 0; i < nparts; i++) {
      rec *r = &parts[i];
      r->w = w;
      r->t0 = (uint32_t)(a - base);
      r->t1 = (uint32_t)(b - base);
      r->j = (uint8_t)(li & (BUCKET_HOSTS - 1));
      rec_add(v, &acc->net, 1, r, peer_hash, base, NULL);
      if (li == NO_LOCAL) {
        acc->untracked_bytes += (double)r->bytes * w;
      } else {
        rec *d = slot_append(v, acc, li);
        if (!d)
          return -1;
        *d = *r;
      }
    }
  }
  return 0;
}

/* ====================================================== text output */

/* ======================================================= emitting */

static const char *proto_name(int proto) {
  switch (proto) {
  case 6:
    return "tcp";
  case 17:
    return "udp";
  case 1:
    return "icmp";
  case 58:
    return "icmp6";
  }
  return NULL;
}

/* The port that took half a slot's packets out, or -1 (none, or ICMP,
 * whose "ports" are type and code); its protocol into *proto when one
 * took half, ICMP too (proto may be NULL). */
static int main_out_port(const ssum *s, int *proto) {
  if (s->top_port_out < 0 || s->top_port_out_share < 0.5)
    return -1;
  int pr = (s->top_port_out >> 16) & 0xff;
  if (proto)
    *proto = pr;
  return pr != 1 && pr != 58 ? s->top_port_out & 0xffff : -1;
}

/* The share of a slot's packets out that went to destinations allowed
 * for volumetric, among its heaviest ones (with the slot's main port,
 * when one took half the packets). Allowing an archive's /24 left a
 * nightly replication over four of its addresses reported: only the
 * top one was asked, and only where it took half. */
static double allowed_out_share(const nfh_host_api *api, const ssum *s) {
  int port = main_out_port(s, NULL);
  double share = 0;
  for (int i = 0; i < NFH_VOL_TOP_K; i++)
    if (s->dst_shares[i] > 0 &&
        api->is_allowed(api->host, "volumetric", &s->dsts[i], port))
      share += s->dst_shares[i];
  return share;
}

static const char *dir_word(int dir) {
  return dir == DIR_IN ? "inbound" : "outbound";
}

/* "from N sources". The count is of the host's peers in the slot, by
 * any protocol: for a flood of one kind ('of_kind': ICMP, SYN, a
 * reflection) it holds the host's other peers too (a mail server's SMTP
 * clients beside 50 ICMP flooders read "from 64 sources"), so it is "up
 * to" N. It is the peak slot's: a flood of several slots ('slots')
 * says so (a 20-minute SYN flood of random sources read "from about
 * 93,939 sources" of its 360,124). */
/* The top source as text: its address, or "NET/64" for an outside IPv6
 * network counted as one (rec_add). */
static char *source_text(const nfh_addr *a, char *buf, size_t len) {
  nfh_addr_format(a, buf, len);
  if (a->family != 6 || nfh_addr_nat64(a, NULL))
    return buf;
  for (int i = 8; i < 16; i++)
    if (a->bytes[i])
      return buf;
  size_t n = strlen(buf);
  snprintf(buf + n, len > n ? len - n : 0, "/64");
  return buf;
}

static void peers_text(char *buf, size_t len, const verdict *p,
                       const char *noun, int of_kind, uint64_t slots) {
  char n[32];
  nfh__vol_fmt_count(n, sizeof(n), p->x[M_PEERS]);
  if (p->x[M_PEERS] < 1.5 && p->s.top_src.family) {
    char a[NFH_ADDR_STRLEN + 8];
    snprintf(buf, len, "from %s", source_text(&p->s.top_src, a, sizeof(a)));
  } else if (p->dir == DIR_IN && p->s.top_src.family &&
             p->s.top_src_share >= ONE_SOURCE_SHARE) {
    /* One source sent nearly all of it: the victim's usual clients are
     * not the flood's sources ("from up to 36 sources" for one). */
    char a[NFH_ADDR_STRLEN + 8];
    snprintf(buf, len, "from %s (%.1f%% of its packets)",
             source_text(&p->s.top_src, a, sizeof(a)),
             floor(1000 * p->s.top_src_share) / 10);
  } else if (p->s.max_sampling > 1 && p->sampled_share >= 0.5) {
    /* Sampled, most sources of few packets are never seen: a count is
     * a floor ("from about 10,782 sources" for 50,000 at 1:1000), but
     * for a flood of one kind it holds the host's other peers too ("at
     * least 209" for 200 at 1:10, a tester's): what was seen, said so. */
    snprintf(buf, len, "from %s%s %s%s (sampled 1:%u)%s",
             of_kind ? "about " : "at least ", n, noun, of_kind ? " seen" : "",
             p->s.max_sampling, slots > 1 ? " in its peak 5 minutes" : "");
  } else {
    /* Counted by a sketch past its exact cap: "about", or 2,947 read as
     * an exact count of 3,000 sources; for a flood of one kind an upper
     * bound either way ("about 210" for 200 beside the victim's web
     * clients read as the flood's). */
    snprintf(buf, len, "from %s%s%s %s%s", of_kind ? "up to " : "",
             p->s.peers_estimated[p->dir] ? "about " : "", n, noun,
             slots > 1 ? " in its peak 5 minutes" : "");
  }
}

/* The seconds a finding's peak slot's packets took, for its rate, and
 * the packets and bytes that took them: of a flood, its own records
 * over their own span when that is shorter (the victim's other records
 * spread the packets' moments: 1,914 pps for a flood of 2,000 over its
 * minute; and counted with them, a 3,000 pps SYN pulse beside a web
 * server's sessions read 4,047 pps), else all of the slot's. */
static double rate_seconds(const fnd *f, double *pkts, double *bytes) {
  const verdict *p = &f->peak;
  double sec = p->s.active_s[p->dir];
  *pkts = p->x[M_PKTS];
  *bytes = p->x[M_BYTES];
  uint32_t own0, own1;
  if (f->cls && flood_span(p, &own0, &own1)) {
    double own = (double)(own1 - own0) / 1000;
    if (own < 1)
      own = 1;
    const kspan *ks = &p->s.kinds[p->dir];
    if (own < sec && ks->pk[p->ftype] > 0) {
      sec = own;
      *pkts = ks->pk[p->ftype];
      *bytes = ks->by[p->ftype];
    }
  }
  return sec;
}

static int emit_one(vol *v, const fnd *f) {
  const nfh_host_api *api = v->api;
  const verdict *p = &f->peak;
  const ssum *s = &p->s;
  double rate_pkts, rate_bytes;
  double active_s = rate_seconds(f, &rate_pkts, &rate_bytes);
  char host[NFH_ADDR_STRLEN] = "", target[NFH_ENDPOINT_STRLEN] = "";
  char mult[32], rate[32], pps[32], size[32], dur[64], from[160];
  char summary[512], mitre[64] = "T1498";
  nfh_finding out;
  memset(&out, 0, sizeof(out));
  out.dst_port = -1;
  out.proto = -1;
  int is_net = f->kind == K_NET_IN || f->kind == K_NET_OUT;
  if (!is_net)
    nfh_addr_format(&f->addr, host, sizeof(host));
  /* The multiple a person reads: the primary count over its usual. The
   * judgement's multiple adds the floor to both (small hosts stay
   * quiet), and said of a victim that usually sees 469 packets in 5
   * minutes it read "17x baseline" for 480,420 (1,024x). */
  int shown_metric = p->primary;
  /* SYN-only packets a server usually sees are next to none: its packets
   * then. */
  if (p->expect[shown_metric] < 1)
    shown_metric = M_PKTS;
  double usual = p->expect[shown_metric], shown = p->ratio;
  if (usual >= 1 && p->x[shown_metric] / usual > shown)
    shown = p->x[shown_metric] / usual;
  if (shown >= SHOWN_RATIO_MAX)
    snprintf(mult, sizeof(mult), "over %.0fx", SHOWN_RATIO_MAX);
  else
    nfh__vol_fmt_ratio(mult, sizeof(mult), shown);
  /* A flood by its shape alone that taught the baseline itself: "1.8x
   * baseline" would understate it. */
  if (p->by_signature && shown < v->p.ratio_min)
    snprintf(mult, sizeof(mult), "whatever its");
  /* The rates while it lasted: a one-minute flood is not 1/5 of itself
   * (the evidence keeps the slot's averages too). */
  nfh__vol_fmt_bits(rate, sizeof(rate), rate_bytes * 8 / active_s);
  nfh__vol_fmt_count(pps, sizeof(pps), rate_pkts / active_s);
  nfh__vol_fmt_bytes(size, sizeof(size), f->sum_bytes);
  /* The volume is the slots' (all the host's traffic in them), so its
   * time is said in slots: "in 10 min" beside a transfer of 3 min read
   * as a contradiction of the exfiltration finding on it. */
  uint64_t nslots = f->last_slot - f->first_slot + 1;
  if (nslots == 1)
    snprintf(dur, sizeof(dur), "one 5-minute slot");
  else if (nslots == 2)
    snprintf(dur, sizeof(dur), "two 5-minute slots");
  else if (f->slots >= nslots) {
    char span[24];
    nfh__vol_fmt_duration(span, sizeof(span), nslots * SLOT_MS / 1000);
    snprintf(dur, sizeof(dur), "%" PRIu64 " 5-minute slots (%s)", nslots, span);
  } else {
    /* Slots apart (two nights' uploads, a flood that came back): the
     * volume is the anomalous slots' alone, so their count is said,
     * not the span's ("315 slots (26.2 h)" for 20 of them). */
    char span[24], times[24] = "";
    nfh__vol_fmt_duration(span, sizeof(span), nslots * SLOT_MS / 1000);
    if (f->episodes > 1)
      snprintf(times, sizeof(times), "%" PRIu32 " episodes ", f->episodes);
    snprintf(dur, sizeof(dur), "%" PRIu32 " 5-minute slots (%sover %s)",
             f->slots, times, span);
  }
  int flood = p->f >= 0.5;
  const char *ft = ftype_name[p->ftype];
  int port = -1, proto = -1;

  if (f->kind == K_IN) {
    if (s->top_port_in >= 0 && s->top_port_in_share >= 0.5 &&
        p->ftype != FT_REFLECT) {
      port = s->top_port_in & 0xffff;
      proto = (s->top_port_in >> 16) & 0xff;
      /* ICMP "ports" are type/code, and GRE or ESP have none: not a
       * service. */
      if (proto != 6 && proto != 17 && proto != 132)
        port = -1;
    }
    if (port >= 0)
      nfh_addr_format_port(&f->addr, (unsigned)port, target, sizeof(target));
    else
      snprintf(target, sizeof(target), "%s", host);
    if (api->is_allowed(api->host, "volumetric", &f->addr, port))
      return 0;
    /* One allowed sender that took half the packets in (a restore from
     * the archive): the rule's other end. */
    if (s->top_src_share >= 0.5 && s->top_src.family &&
        api->is_allowed(api->host, "volumetric", &s->top_src, -1))
      return 0;
    out.dst = f->addr;
    if (s->top_src_share >= 0.8)
      out.src = s->top_src;
    if (p->ftype == FT_REFLECT) {
      const char *svc = s->top_amp_port >= 0
                            ? amp_service((unsigned)s->top_amp_port & 0xffff)
                            : NULL;
      peers_text(from, sizeof(from), p, "reflectors", 1, nslots);
      snprintf(summary, sizeof(summary),
               "%s reflection flood against %s %s, %s baseline (%s)",
               svc ? svc : "UDP", target, from, mult, rate);
      snprintf(mitre, sizeof(mitre), "T1498.002");
    } else if (p->ftype == FT_APP) {
      char n[32], each[32];
      nfh__vol_fmt_count(n, sizeof(n), p->x[M_FLOWS]);
      nfh__vol_fmt_count(each, sizeof(each),
                         p->x[M_PEERS] > 0 ? p->x[M_FLOWS] / p->x[M_PEERS]
                                           : 0);
      peers_text(from, sizeof(from), p, "clients", 0, nslots);
      snprintf(summary, sizeof(summary),
               "Application-layer flood against %s: %s sessions in 5 min "
               "%s (%s each), %s baseline",
               target, n, from, each, mult);
      snprintf(mitre, sizeof(mitre), "T1499.002");
    } else if (flood) {
      peers_text(from, sizeof(from), p, "sources", p->ftype != FT_OTHER,
                 nslots);
      /* Its rate while it lasted, as outbound floods and reflections
       * say theirs: "SYN flood ... over 1000x baseline" said nothing of
       * its size. */
      snprintf(summary, sizeof(summary),
               "%s flood against %s %s, %s baseline (%s pps, %s)",
               p->ftype == FT_OTHER ? "Traffic" : ft, target, from, mult, pps,
               rate);
      if (p->ftype == FT_SYN)
        snprintf(mitre, sizeof(mitre),
                 port >= 0 ? "T1498.001,T1499.001" : "T1498.001");
      else
        snprintf(mitre, sizeof(mitre),
                 port >= 0 ? "T1498.001,T1499" : "T1498.001");
    } else if (p->many) {
      peers_text(from, sizeof(from), p, "sources", 0, nslots);
      /* Without both directions exported nothing says it was
       * answered: a UDP flood from 2,009 sources read "answered". Nor
       * does a reply ratio of 1%: "answered" must be true. */
      snprintf(summary, sizeof(summary),
               !s->bidir_ok ? "Inbound traffic surge to %s %s, %s baseline "
                              "(replies not exported: a flash crowd or a "
                              "flood)"
               : p->reply < 0.01
                   ? "Inbound traffic surge to %s %s, %s baseline "
                     "(hardly answered: a flood, or a crowd whose "
                     "replies the exporters miss)"
                   : "Inbound traffic surge to %s %s, %s baseline "
                     "(answered: a flash crowd or an "
                     "application-layer flood)",
               target, from, mult);
      snprintf(mitre, sizeof(mitre), port >= 0 ? "T1499.002" : "T1498");
    } else {
      peers_text(from, sizeof(from), p, "sources", 0, nslots);
      snprintf(summary, sizeof(summary),
               "Inbound volume to %s %s baseline (%s, %s)", target, mult,
               rate, from);
    }
  } else if (f->kind == K_OUT) {
    char dst[NFH_ADDR_STRLEN] = "";
    if (api->is_allowed(api->host, "volumetric", &f->addr, -1) ||
        allowed_out_share(api, s) >= 0.5)
      return 0;
    out.src = f->addr;
    if (p->many && s->top_dst.family) {
      out.dst = s->top_dst;
      nfh_addr_format(&s->top_dst, dst, sizeof(dst));
      port = main_out_port(s, &proto);
      if (api->is_allowed(api->host, "volumetric", &s->top_dst, port))
        return 0;
    }
    if (port >= 0)
      nfh_addr_format_port(&s->top_dst, (unsigned)port, target, sizeof(target));
    else
      snprintf(target, sizeof(target), "%s", dst);
    char npeers[32];
    nfh__vol_fmt_count(npeers, sizeof(npeers), p->x[M_PEERS]);
    if (flood && p->many) {
      snprintf(summary, sizeof(summary),
               "Outbound %s flood from %s to %s at %s pps, %s baseline: "
               "possible DoS participation",
               p->ftype == FT_OTHER ? "traffic" : ft, host, target, pps, mult);
      snprintf(mitre, sizeof(mitre), "T1498.001");
    } else if (flood) {
      snprintf(summary, sizeof(summary),
               "High-rate %s%straffic from %s to %s destinations at %s pps, "
               "%s baseline",
               p->ftype == FT_OTHER ? "" : ft, p->ftype == FT_OTHER ? "" : " ",
               host, npeers, pps, mult);
      snprintf(mitre, sizeof(mitre), "T1498");
    } else {
      char to[96];
      if (p->many)
        snprintf(to, sizeof(to), "to %s", target);
      else
        snprintf(to, sizeof(to), "to %s destinations", npeers);
      const double *c = p->s.c[p->dir];
      int datagrams = c[C_PKTS] > 0 && c[C_TCP] <= 0.2 * c[C_PKTS];
      int flood_or_transfer = !s->bidir_ok && datagrams;
      const char *reading =
          flood_or_transfer
              ? "not TCP, replies not exported: a flood or a transfer"
              : "not flood-shaped: likely a bulk transfer";
      snprintf(summary, sizeof(summary),
               "Unusual outbound volume from %s: %s in %s %s, %s its "
               "baseline (%s)",
               host, size, dur, to, mult, reading);
      /* A bulk transfer out is no denial of service: exfiltration over
       * some protocol, if anything (the exfiltration detector judges
       * it); a flood-or-transfer reading keeps T1498. */
      snprintf(mitre, sizeof(mitre), flood_or_transfer ? "T1498" : "T1048");
    }
  } else {
    snprintf(summary, sizeof(summary),
             "Network-wide %s volume %s baseline at peak (%s, %s pps)%s",
             dir_word(p->dir), mult, rate, pps,
             p->ftype == FT_SYN ? ", mostly SYN-only" : "");
  }
  if (f->carpet) {
    /* One attack on many home hosts: the summary counts them and names
     * the worst hit, whose numbers it gives; not one host's finding. */
    const char *what = p->ftype == FT_OTHER ? "Traffic" : ft;
    if (f->kind == K_IN) {
      peers_text(from, sizeof(from), p, "sources", p->ftype != FT_OTHER,
                 nslots);
      snprintf(summary, sizeof(summary),
               "%s flood against %u home hosts at once (carpet bombing); "
               "the worst hit, %s, %s, %s baseline",
               what, f->carpet, host, from, mult);
      memset(&out.dst, 0, sizeof(out.dst));
    } else {
      snprintf(summary, sizeof(summary),
               "Outbound %s flood from %u home hosts at once (a botnet's "
               "DoS?); the worst, %s, at %s pps, %s baseline",
               what, f->carpet, host, pps, mult);
      memset(&out.src, 0, sizeof(out.src));
    }
  }
  if (port >= 0) {
    out.dst_port = port;
    out.proto = (int16_t)proto;
  } else if (p->ftype == FT_SYN || p->ftype == FT_TCP || p->ftype == FT_ACK ||
             p->ftype == FT_APP) {
    out.proto = 6;
  } else if (p->ftype == FT_UDP || p->ftype == FT_REFLECT) {
    out.proto = 17;
  }

  /* Evidence. */
  nfh__vol_json j;
  memset(&j, 0, sizeof(j));
  nfh__vol_json_open(&j, NULL);
  static const char *const kinds[] = {"in", "out", "net_in", "net_out"};
  nfh__vol_json_str(&j, "kind", kinds[f->kind]);
  if (!is_net)
    nfh__vol_json_addr(&j, f->kind == K_IN ? "victim" : "host", &f->addr);
  if (f->kind == K_IN && s->top_src_share >= 0.5) {
    nfh__vol_json_addr(&j, "top_source", &s->top_src);
    char net[NFH_ADDR_STRLEN + 8];
    if (strchr(source_text(&s->top_src, net, sizeof(net)), '/'))
      nfh__vol_json_str(&j, "source_network", net);
  }
  if (f->kind == K_OUT && s->top_dst.family && s->top_dst_share >= 0.3)
    nfh__vol_json_addr(&j, "top_target", &s->top_dst);
  if (port >= 0)
    nfh__vol_json_num(&j, "port", port);
  if (out.proto >= 0 && proto_name(out.proto))
    nfh__vol_json_str(&j, "proto", proto_name(out.proto));
  nfh__vol_json_str(&j, "flood_type", flood ? (p->ftype == FT_OTHER ? "other" : ft)
                               : "none (not flood-shaped)");
  nfh__vol_json_num(&j, "anomalous_slots", f->slots);
  nfh__vol_json_num(&j, "episodes", f->episodes);
  if (f->carpet) {
    char list[CARPET_NAMED * (NFH_ADDR_STRLEN + 2)] = "";
    size_t len = 0;
    for (uint32_t k = 0; k < f->ncarpet_named && len < sizeof(list); k++) {
      char a[NFH_ADDR_STRLEN];
      nfh_addr_format(&f->carpet_named[k], a, sizeof(a));
      len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                              k ? ", " : "", a);
    }
    nfh__vol_json_num(&j, "hosts_hit", f->carpet);
    nfh__vol_json_str(&j, "hosts_worst_first", list);
  }
  nfh__vol_json_num(&j, "slot_seconds", SLOT_S);
  char t[32];
  nfh__vol_fmt_time(t, sizeof(t), p->slot * SLOT_MS);
  nfh__vol_json_str(&j, "peak_slot", t);
  nfh__vol_json_open(&j, "peak");
  nfh__vol_json_num(&j, "bytes", round(p->x[M_BYTES]));
  nfh__vol_json_num(&j, "packets", round(p->x[M_PKTS]));
  nfh__vol_json_num(&j, "flows", round(p->x[M_FLOWS]));
  nfh__vol_json_num(&j, "syn_only_packets", round(p->x[M_SYN]));
  nfh__vol_json_num(&j, p->dir == DIR_IN ? "distinct_sources" : "distinct_destinations",
       round(p->x[M_PEERS]));
  nfh__vol_json_bool(&j, "distinct_estimated", s->peers_estimated[p->dir]);
  nfh__vol_json_num(&j, "packets_per_second", round(p->pps));
  nfh__vol_json_num(&j, "active_seconds", round(active_s));
  nfh__vol_json_num(&j, "packets_per_active_second",
                    round(rate_pkts / active_s));
  nfh__vol_json_num(&j, "bits_per_second", round(p->x[M_BYTES] * 8 / SLOT_S));
  nfh__vol_json_num(&j, "avg_packet_bytes", round(p->bpp));
  nfh__vol_json_num(&j, "syn_only_share", p->syn_share);
  nfh__vol_json_num(&j, "tiny_record_share", p->tiny_share);
  if (p->frag_share > 0)
    nfh__vol_json_num(&j, "fragment_packet_share", p->frag_share);
  if (s->bidir_ok)
    nfh__vol_json_num(&j, "reply_packet_ratio", p->reply);
  else
    nfh__vol_json_str(&j, "reply_packet_ratio", "unknown: one direction exported");
  if (!is_net) {
    nfh__vol_json_num(&j, p->dir == DIR_IN ? "top_source_share" : "top_target_share",
         p->dir == DIR_IN ? s->top_src_share : s->top_dst_share);
    double net_b = s->net_bytes[p->dir];
    if (net_b > 0)
      nfh__vol_json_num(&j, "share_of_network_bytes", clamp01(p->x[M_BYTES] / net_b));
  }
  nfh__vol_json_close(&j);
  nfh__vol_json_open(&j, "baseline");
  nfh__vol_json_str(&j, "source", base_name[p->base]);
  nfh__vol_json_num(&j, "bytes", round(p->expect[M_BYTES]));
  nfh__vol_json_num(&j, "packets", round(p->expect[M_PKTS]));
  nfh__vol_json_num(&j, "flows", round(p->expect[M_FLOWS]));
  nfh__vol_json_num(&j, "syn_only_packets", round(p->expect[M_SYN]));
  nfh__vol_json_num(&j, p->dir == DIR_IN ? "distinct_sources" : "distinct_destinations",
       round(p->expect[M_PEERS]));
  static const char *const mname[] = {"bytes", "packets", "flows", "peers",
                                      "syn_only_packets"};
  nfh__vol_json_str(&j, "primary_metric", mname[p->primary]);
  nfh__vol_json_num(&j, "multiple", p->ratio);
  nfh__vol_json_num(&j, "multiple_of_usual", shown);
  nfh__vol_json_num(&j, "robust_deviations", p->z);
  if (p->seasonal_only)
    nfh__vol_json_str(&j, "note", "unusual for this hour, usual for this host overall");
  else if (p->by_signature == SIG_SYN)
    nfh__vol_json_str(&j, "note", "SYN-only packets dominate far above the floor: a SYN "
                     "flood whatever the baseline");
  else if (p->by_signature == SIG_UNANSWERED)
    nfh__vol_json_str(&j, "note", "non-TCP packets, unanswered, far above the floor, "
                     "over a baseline learned in this window: a flood whatever "
                     "that baseline");
  else if (p->by_signature == SIG_ICMP_RATE)
    nfh__vol_json_str(&j, "note",
                      "ICMP at over 1,000 packets a second, far above "
                      "the floor: a flood whatever the baseline and whether "
                      "the host answers");
  else if (p->by_signature == SIG_SESSIONS)
    nfh__vol_json_str(&j, "note", "thousands of sessions in a slot from each of few "
                     "clients, ten times the host's usual sessions: an "
                     "application-layer flood below the floor");
  else if (p->base == B_LEARNED && !v->have_state)
    nfh__vol_json_str(&j, "note", "first run: baseline learned from the earlier part of "
                     "this window; lower confidence");
  else if (p->base == B_LEARNED)
    nfh__vol_json_str(&j, "note", "host new to the state: baseline learned in this "
                     "window; lower confidence");
  else if (p->base == B_NONE)
    nfh__vol_json_str(&j, "note", "no earlier traffic of this host in the window or the "
                     "state: judged against zero traffic");
  nfh__vol_json_str(&j, "multiples_are", "(count + floor) / (baseline + floor)");
  nfh__vol_json_close(&j);
  nfh__vol_json_open(&j, "totals");
  nfh__vol_json_num(&j, "bytes", round(f->sum_bytes));
  nfh__vol_json_num(&j, "packets", round(f->sum_pkts));
  nfh__vol_json_num(&j, "max_distinct_peers", round(f->max_peers));
  nfh__vol_json_close(&j);
  nfh__vol_json_num(&j, "flood_likeness", p->f);
  if (f->max_sampling > 1 || p->sampled_share > 0) {
    /* Interval 0: sampled, no exporter said at what interval. */
    int unknown = f->max_sampling == UNKNOWN_SAMPLING && v->unknown_sampled;
    nfh__vol_json_open(&j, "sampling");
    nfh__vol_json_num(&j, "max_interval", unknown ? 0 : f->max_sampling);
    nfh__vol_json_num(&j, "sampled_byte_share", p->sampled_share);
    nfh__vol_json_str(
        &j, "note",
        unknown ? "sampled at an interval no exporter announced: counts are "
                  "raw samples, too low by that factor; distinct peers and "
                  "small records are undercounted"
                : "counts are estimates scaled up from sampled packets; "
                  "distinct peers and small records are undercounted");
    nfh__vol_json_close(&j);
  }
  nfh__vol_json_close(&j);

  char key[80];
  if (is_net)
    snprintf(key, sizeof(key), "net|%s", f->kind == K_NET_IN ? "in" : "out");
  else if (f->carpet)
    snprintf(key, sizeof(key), "%s|carpet|%s", f->kind == K_IN ? "in" : "out",
             ftype_name[p->ftype]);
  else if (f->cls)
    snprintf(key, sizeof(key), "%s|%s|%s", f->kind == K_IN ? "in" : "out",
             host, ftype_name[f->cls - 1]);
  else
    snprintf(key, sizeof(key), "%s|%s", f->kind == K_IN ? "in" : "out", host);
  out.type = "volumetric";
  out.key = key;
  out.severity = p->sev;
  /* A flood held for many slots is worth a little more than a blip. */
  double bonus = f->slots > 1 ? log2((double)f->slots) : 0;
  double lo, hi;
  sev_band(p->sev, &lo, &hi);
  out.score = p->score + bonus > hi ? hi : p->score + bonus;
  out.confidence = p->conf;
  out.first_ms = f->first_ms;
  out.last_ms = f->last_ms;
  out.mitre = mitre;
  out.summary = summary;
  out.evidence_json = j.b;
  return api->emit(api->host, &out);
}

static int overlaps(const fnd *a, const fnd *b) {
  return a->last_slot >= b->first_slot && a->first_slot <= b->last_slot;
}

/* Whether h, not yet folded, floods like the carpet's representative r:
 * the same kind and flood type, in overlapping slots. */
static int carpet_mate(const fnd *h, const uint8_t *taken, uint32_t k,
                       const fnd *r) {
  return !taken[k] && !h->suppressed && h->kind == r->kind &&
         h->peak.f >= 0.5 && h->peak.ftype == r->peak.ftype && overlaps(h, r);
}

/* Folds flood findings of one kind and flood type whose slots overlap,
 * CARPET_HOSTS of them or more, into the best scored: it reports them
 * all (the worst severity among them, their span and bytes), the others
 * are suppressed. Greedy from the best score down. */
static void fold_carpets(vol *v) {
  uint8_t *taken = calloc(v->nfnd ? v->nfnd : 1, 1);
  if (!taken)
    return; /* reported one by one: more to read, nothing lost */
  for (;;) {
    int64_t rep = -1;
    for (uint32_t k = 0; k < v->nfnd; k++) {
      const fnd *h = &v->fnd[k];
      if (!taken[k] && !h->suppressed && (h->kind == K_IN || h->kind == K_OUT) &&
          h->peak.f >= 0.5 &&
          (rep < 0 || h->peak.score > v->fnd[rep].peak.score))
        rep = k;
    }
    if (rep < 0)
      break;
    taken[rep] = 1;
    fnd *r = &v->fnd[rep];
    uint32_t members = 1;
    for (uint32_t k = 0; k < v->nfnd; k++)
      members += carpet_mate(&v->fnd[k], taken, k, r);
    if (members < CARPET_HOSTS)
      continue;
    r->carpet = members;
    r->carpet_named[r->ncarpet_named++] = r->addr;
    /* The others, best first, into the representative. */
    for (;;) {
      int64_t best = -1;
      for (uint32_t k = 0; k < v->nfnd; k++)
        if (carpet_mate(&v->fnd[k], taken, k, r) &&
            (best < 0 || v->fnd[k].peak.score > v->fnd[best].peak.score))
          best = k;
      if (best < 0)
        break;
      fnd *h = &v->fnd[best];
      taken[best] = 1;
      h->suppressed = 1;
      if (r->ncarpet_named < CARPET_NAMED)
        r->carpet_named[r->ncarpet_named++] = h->addr;
      if (h->peak.sev > r->peak.sev)
        r->peak.sev = h->peak.sev;
      if (h->first_ms < r->first_ms)
        r->first_ms = h->first_ms;
      if (h->last_ms > r->last_ms)
        r->last_ms = h->last_ms;
      r->sum_bytes += h->sum_bytes;
      r->sum_pkts += h->sum_pkts;
    }
  }
  free(taken);
}

/* A network-wide anomaly that host findings of the same direction and
 * time explain (their excess makes up half of the network's) adds
 * nothing a person needs to read. */
static void suppress_explained(vol *v) {
  for (uint32_t i = 0; i < v->nfnd; i++) {
    fnd *n = &v->fnd[i];
    if (n->kind != K_NET_IN && n->kind != K_NET_OUT)
      continue;
    uint8_t hk = n->kind == K_NET_IN ? K_IN : K_OUT;
    double nb = n->peak.x[M_BYTES] - n->peak.expect[M_BYTES];
    double np = n->peak.x[M_PKTS] - n->peak.expect[M_PKTS];
    double hb = 0, hp = 0;
    for (uint32_t k = 0; k < v->nfnd; k++) {
      const fnd *h = &v->fnd[k];
      if (h->kind != hk || !overlaps(h, n))
        continue;
      hb += h->peak.x[M_BYTES] - h->peak.expect[M_BYTES];
      hp += h->peak.x[M_PKTS] - h->peak.expect[M_PKTS];
    }
    if ((nb > 0 && hb >= 0.5 * nb) || (np > 0 && hp >= 0.5 * np))
      n->suppressed = 1;
  }
}

/* ===================================================== plugin ABI */

static void vol_destroy(void *ctx);

static void *vol_create(const nfh_host_api *api,
                        const nfh_plugin_setting *settings, size_t n,
                        const char **error) {
  /* create() has no context to keep a message in when it fails: the text
   * lives in thread-local storage until the next failed create, and the
   * host copies it at once. */
  static __thread char message[200];
  vol *v = calloc(1, sizeof(*v));
  if (!v) {
    *error = "out of memory";
    return NULL;
  }
  v->api = api;
  for (size_t i = 0; i < NPDEFS; i++)
    *pfield(&v->p, &pdefs[i]) = pdefs[i].def;
  v->p.min_severity = NFH_SEV_LOW;
  for (size_t i = 0; i < n; i++) {
    const char *k = settings[i].key, *val = settings[i].value;
    if (strcmp(k, "min_severity") == 0) {
      if (nfh_severity_parse(val, &v->p.min_severity) != 0) {
        snprintf(message, sizeof(message),
                 "min_severity=%s: expected info, low, medium, high or "
                 "critical",
                 val);
        goto fail;
      }
      continue;
    }
    if (strcmp(k, "slot") == 0 || strcmp(k, "slot_minutes") == 0 ||
        strcmp(k, "slot_seconds") == 0) {
      snprintf(message, sizeof(message),
               "%s: the slot is fixed at 5 minutes (the engine's slot)", k);
      goto fail;
    }
    const pdef *d = NULL;
    for (size_t q = 0; q < NPDEFS; q++)
      if (strcmp(pdefs[q].key, k) == 0)
        d = &pdefs[q];
    if (!d) {
      snprintf(message, sizeof(message),
               "unknown parameter '%s' (see the volumetric parameters in "
               "nfhunt's manual)",
               k);
      goto fail;
    }
    char *end;
    double x = strtod(val, &end);
    if (end == val || *end || !isfinite(x) || x < d->min || x > d->max ||
        (d->integer && x != floor(x))) {
      snprintf(message, sizeof(message),
               "%s=%s: expected %s from %g to %g", k, val,
               d->integer ? "an integer" : "a number", d->min, d->max);
      goto fail;
    }
    *pfield(&v->p, d) = x;
  }
  if (v->p.held_max_seconds < v->p.held_min_seconds) {
    snprintf(message, sizeof(message),
             "need held_min_seconds <= held_max_seconds");
    goto fail;
  }
  if (v->p.high_ratio < v->p.ratio_min || v->p.critical_ratio < v->p.high_ratio) {
    snprintf(message, sizeof(message),
             "need ratio_min <= high_ratio <= critical_ratio");
    goto fail;
  }
  for (int dir = 0; dir < 2; dir++)
    for (int m = 0; m < M_PER_DIR; m++) {
      v->F[0][MET(dir, m)] = v->p.floor[m];
      v->F[1][MET(dir, m)] = v->p.floor[m] * v->p.net_floor_factor;
    }
  for (int k = 0; k < 2; k++)
    for (int m = 0; m < NMET; m++)
      v->lnF[k][m] = log(v->F[k][m]);
  v->scratch = malloc(sizeof(float) * (size_t)v->p.learn_slots);
  /* Family 0xff: no address is remembered yet. */
  if ((v->outside = malloc(sizeof(nfh_addr) * OUTSIDE_CACHE)))
    memset(v->outside, 0xff, sizeof(nfh_addr) * OUTSIDE_CACHE);
  v->net.is_net = 1;
  v->net.alive = 1;
  v->net.season = calloc(1, sizeof(season));
  if (v->p.held_max_keys > 0)
    v->held = nfh__vol_held_create((uint32_t)v->p.held_max_keys,
                                   v->p.held_min_seconds, v->p.held_max_rate,
                                   HELD_GAP_MS);
  if (!v->scratch || !v->outside || !v->net.season ||
      (v->p.held_max_keys > 0 && !v->held) ||
      learn_start(v, &v->net, 0) != 0 ||
      nfh__vol_dscratch_init(&v->dset[0], (uint32_t)v->p.exact_distinct,
                             HOST_HLL_PRECISION) != 0 ||
      nfh__vol_dscratch_init(&v->dset[1], (uint32_t)v->p.exact_distinct,
                             HOST_HLL_PRECISION) != 0) {
    snprintf(message, sizeof(message), "out of memory");
    goto fail;
  }
  return v;
fail:
  *error = message;
  vol_destroy(v);
  return NULL;
}

/* Counting a batch is a pipeline, so that the flow being counted does
 * not wait for memory: PIPE flows ahead its addresses are hashed and
 * their directory entries fetched; PIPE flows later they are looked up,
 * and the internal host's entries in the open slots fetched; PIPE flows
 * later still the flow is counted. */
#define PIPE 8

PREFETCHER prefetch_local(const vol *v, const nfh_flow *f, uint32_t id) {
  uint64_t s0 = f->first_ms / SLOT_MS, s1 = f->last_ms / SLOT_MS;
  for (uint32_t k = v->nopen, seen = 0; k > 0 && seen < 3; k--, seen++) {
    const slotacc *a = v->open[k - 1];
    if ((a->slot == s0 || a->slot == s1) && id < a->nlocal)
      __builtin_prefetch(&a->local[id]);
  }
}

static int vol_on_flows(void *ctx, const nfh_flow *flows, size_t n) {
  vol *v = ctx;
  pipe_slot p[2 * PIPE]; /* flow k's is p[k % (2 * PIPE)] */
  dir_purge(v);
  for (size_t i = 0; i < n + 2 * PIPE; i++) {
    /* Last stage first: flow i - 2 * PIPE frees the place of flow i. */
    if (i >= 2 * PIPE) {
      const nfh_flow *f = &flows[i - 2 * PIPE];
      if (add_flow(v, f, &p[i % (2 * PIPE)]) != 0) {
        v->api->log(v->api->host, NFH_LOG_ERROR,
                    "out of memory counting slot %" PRIu64,
                    (uint64_t)(f->first_ms / SLOT_MS));
        return -1;
      }
    }
    if (i >= PIPE && i - PIPE < n) {
      const nfh_flow *f = &flows[i - PIPE];
      pipe_slot *q = &p[(i - PIPE) % (2 * PIPE)];
      q->ids = dir_find(&v->dir, &f->src, q->hs);
      q->idd = dir_find(&v->dir, &f->dst, q->hd);
      /* The internal host's slot entries; the other address's place in
       * the cache of external addresses. */
      if (q->ids != NO_ID)
        prefetch_local(v, f, q->ids);
      else
        __builtin_prefetch(&v->outside[outside_index(q->hs)]);
      if (q->idd != NO_ID)
        prefetch_local(v, f, q->idd);
      else
        __builtin_prefetch(&v->outside[outside_index(q->hd)]);
    }
    if (i < n) {
      pipe_slot *q = &p[i % (2 * PIPE)];
      q->hs = nfh__vol_addr_hash(&flows[i].src);
      q->hd = nfh__vol_addr_hash(&flows[i].dst);
      if (v->dir.cap) {
        __builtin_prefetch(&v->dir.t[(uint32_t)q->hs & (v->dir.cap - 1)]);
        __builtin_prefetch(&v->dir.t[(uint32_t)q->hd & (v->dir.cap - 1)]);
      }
    }
  }
  return 0;
}

/* Connections feed one thing: the held-connection table (held.h); the
 * counts per slot come from the flow records. */
static int vol_on_conns(void *ctx, const nfh_conn *conns, size_t n) {
  vol *v = ctx;
  if (!v->held)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (nfh__vol_held_add(v->held, &conns[i]) != 0) {
      v->api->log(v->api->host, NFH_LOG_ERROR,
                  "out of memory (held connections)");
      return -1;
    }
  return 0;
}

static int emit_held(vol *v, const nfh__vol_held_result *r) {
  const nfh_host_api *api = v->api;
  /* A rule without a port matches any port: one question covers both. */
  if (api->is_allowed(api->host, "volumetric", &r->server, r->port) ||
      (r->clients == 1 &&
       api->is_allowed(api->host, "volumetric", &r->client, -1)))
    return 0;
  const nfh__vol_held_run *u = &r->run;
  char client[NFH_ADDR_STRLEN], server[NFH_ADDR_STRLEN], at_once[32],
      span[32], each[32], summary[320], key[160];
  if (r->clients == 1)
    nfh_addr_format(&r->client, client, sizeof(client));
  else
    snprintf(client, sizeof(client), "%" PRIu32 " clients", r->clients);
  nfh_addr_format(&r->server, server, sizeof(server)); /* for its key */
  char service[NFH_ENDPOINT_STRLEN];
  nfh_addr_format_port(&r->server, r->port, service, sizeof(service));
  double span_s = (double)(u->last_ms - u->first_ms) / 1000.0;
  double mean_s = u->held_ms / 1000.0 / u->held;
  double rate = (double)u->client_bytes / (u->held_ms / 1000.0);
  nfh__vol_fmt_count(at_once, sizeof(at_once), r->concurrent);
  nfh__vol_fmt_duration(span, sizeof(span), (uint64_t)span_s);
  nfh__vol_fmt_count(each, sizeof(each), rate);
  double multiple = r->concurrent / v->p.held_min_concurrent;
  nfh_severity sev = multiple >= HELD_HIGH_MULTIPLE ? NFH_SEV_HIGH
                                                    : NFH_SEV_MEDIUM;
  if (sev < v->p.min_severity)
    return 0;
  if (r->client_home)
    snprintf(summary, sizeof(summary),
             "Held-connection flood (slowloris-style) from %s%s "
             "against %s: about %s connections held open at once for "
             "%s, %s B/s each",
             r->clients == 1 ? "internal " : "", client, service, at_once, span,
             each);
  else
    snprintf(summary, sizeof(summary),
             "Held-connection flood (slowloris-style) against %s from "
             "%s: about %s connections held open at once for %s, %s B/s "
             "each",
             service, client, at_once, span, each);
  nfh__vol_json j;
  memset(&j, 0, sizeof(j));
  nfh__vol_json_open(&j, NULL);
  nfh__vol_json_str(&j, "kind", "held_connections");
  nfh__vol_json_str(&j, "direction", r->client_home ? "out" : "in");
  if (r->clients == 1)
    nfh__vol_json_addr(&j, "client", &r->client);
  nfh__vol_json_num(&j, "clients", r->clients);
  nfh__vol_json_addr(&j, "server", &r->server);
  nfh__vol_json_num(&j, "port", r->port);
  nfh__vol_json_num(&j, "held_at_once", round(r->concurrent));
  nfh__vol_json_num(&j, "stalled_connections", u->held);
  nfh__vol_json_num(&j, "other_connections", u->other);
  nfh__vol_json_num(&j, "span_seconds", round(span_s));
  nfh__vol_json_num(&j, "mean_duration_seconds", round(mean_s * 10) / 10);
  nfh__vol_json_num(&j, "client_bytes_per_second", round(rate * 10) / 10);
  nfh__vol_json_num(&j, "client_bytes", (double)u->client_bytes);
  nfh__vol_json_num(&j, "client_packets", (double)u->client_packets);
  nfh__vol_json_num(&j, "server_bytes", (double)u->server_bytes);
  nfh__vol_json_num(&j, "server_packets", (double)u->server_packets);
  nfh__vol_json_open(&j, "thresholds");
  nfh__vol_json_num(&j, "held_min_concurrent", v->p.held_min_concurrent);
  nfh__vol_json_num(&j, "held_min_each", v->p.held_min_each);
  nfh__vol_json_num(&j, "held_min_clients", v->p.held_min_clients);
  nfh__vol_json_num(&j, "held_min_seconds", v->p.held_min_seconds);
  nfh__vol_json_num(&j, "held_max_seconds", v->p.held_max_seconds);
  nfh__vol_json_num(&j, "held_max_rate", v->p.held_max_rate);
  nfh__vol_json_num(&j, "held_share", v->p.held_share);
  nfh__vol_json_close(&j);
  nfh__vol_json_str(&j, "note",
                    "every connection stalled: long, a trickle of small "
                    "packets, no answer but acknowledgements");
  nfh__vol_json_close(&j);
  /* A distributed one is the service's, whichever clients it had. */
  snprintf(key, sizeof(key), "held|%s|%s|%s|%u", r->client_home ? "out" : "in",
           r->clients == 1 ? client : "*", server, r->port);
  nfh_finding out;
  memset(&out, 0, sizeof(out));
  out.type = "volumetric";
  out.key = key;
  out.severity = sev;
  double lo, hi;
  sev_band(sev, &lo, &hi);
  /* Up the band with the multiple: 1x at its floor, the next severity's
   * multiple (or 4x that, for high) at its top. */
  double top = sev == NFH_SEV_HIGH ? 4 * HELD_HIGH_MULTIPLE : HELD_HIGH_MULTIPLE;
  double from = sev == NFH_SEV_HIGH ? HELD_HIGH_MULTIPLE : 1;
  out.score = lo + (hi - lo) * clamp01(log(multiple / from) / log(top / from));
  out.confidence = 0.7;
  if (r->clients == 1)
    out.src = r->client;
  out.dst = r->server;
  out.dst_port = r->port;
  out.proto = 6;
  out.first_ms = u->first_ms;
  out.last_ms = u->last_ms;
  out.mitre = "T1499.002";
  out.summary = summary;
  out.evidence_json = j.b;
  return api->emit(api->host, &out);
}

/* The held-connection floods of the run (held.h), for the caller to
 * free; NULL with *n 0 when there are none or no table, NULL with
 * *failed set when memory ran out. */
static nfh__vol_held_result *held_results(vol *v, size_t *n, int *failed) {
  *n = 0;
  *failed = 0;
  if (!v->held)
    return NULL;
  nfh__vol_held_result *r = nfh__vol_held_results(
      v->held, v->p.held_min_concurrent, v->p.held_min_each,
      (unsigned)v->p.held_min_clients, v->p.held_share, v->p.held_max_seconds,
      n, failed);
  if (*failed)
    v->api->log(v->api->host, NFH_LOG_ERROR,
                "out of memory (held connections)");
  return r;
}

/* A slowloris tool reconnects as the server times its sockets out:
 * thousands of short sessions a slot from its few clients, which the
 * session-storm signature reads as an application-layer flood. A held
 * flood at the same server and time says it better. */
static void suppress_held_storms(vol *v, const nfh__vol_held_result *r,
                                 size_t n) {
  for (uint32_t i = 0; i < v->nfnd; i++) {
    fnd *f = &v->fnd[i];
    if (f->kind != K_IN || f->peak.by_signature != SIG_SESSIONS)
      continue;
    for (size_t k = 0; k < n; k++)
      if (!r[k].client_home && nfh_addr_equal(&r[k].server, &f->addr) &&
          r[k].run.first_ms <= f->last_ms && f->first_ms <= r[k].run.last_ms)
        f->suppressed = 1;
  }
}

static int vol_on_slot_end(void *ctx, uint64_t slot_end_ms) {
  vol *v = ctx;
  /* Slots stay open late_slots more slots, for records exported late
   * (an active timeout longer than the slot). */
  uint64_t end = slot_end_ms / SLOT_MS;
  if (end > (uint64_t)v->p.late_slots)
    close_before(v, end - (uint64_t)v->p.late_slots);
  dir_purge(v);
  return 0;
}

static int vol_finish(void *ctx) {
  vol *v = ctx;
  close_before(v, UINT64_MAX);
  if (v->net.learn)
    learn_end(v, &v->net);
  for (uint32_t i = 0; i < v->nent; i++)
    if (v->ent[i].alive && v->ent[i].learn)
      learn_end(v, &v->ent[i]);
  suppress_explained(v);
  fold_carpets(v);
  size_t nheld;
  int rc = 0;
  nfh__vol_held_result *held = held_results(v, &nheld, &rc);
  rc = rc ? -1 : 0;
  suppress_held_storms(v, held, nheld);
  for (uint32_t i = 0; i < v->nfnd; i++)
    if (!v->fnd[i].suppressed && emit_one(v, &v->fnd[i]) != 0)
      rc = -1;
  for (size_t i = 0; i < nheld && i < (size_t)v->p.max_findings; i++)
    if (emit_held(v, &held[i]) != 0)
      rc = -1;
  free(held);
  const nfh_host_api *api = v->api;
  api->log(api->host, NFH_LOG_INFO,
           "%" PRIu64 " slots judged; %" PRIu32 " hosts tracked, %" PRIu32
           " with seasonal profiles; %" PRIu32 " findings",
           v->slots_run, v->nalive, v->nseason, v->nfnd);
  if (v->total_bytes > 0 && v->late_bytes > 0.01 * v->total_bytes)
    api->log(api->host, NFH_LOG_WARNING,
             "%.1f%% of the bytes arrived after their slot was judged: "
             "raise late_slots to the exporters' active timeout",
             100 * v->late_bytes / v->total_bytes);
  if (v->held && nfh__vol_held_prunes(v->held))
    api->log(api->host, NFH_LOG_INFO,
             "held connections: the key table was full %" PRIu32
             " times (held_max_keys=%.0f); the keys that held the least "
             "were dropped",
             nfh__vol_held_prunes(v->held), v->p.held_max_keys);
  if (v->untracked_hosts)
    api->log(api->host, NFH_LOG_INFO,
             "%" PRIu32 " host-slots were judged without a baseline (host "
             "table full: max_hosts=%.0f)",
             v->untracked_hosts, v->p.max_hosts);
  if (v->total_bytes > 0 && v->untracked_bytes > 0.01 * v->total_bytes)
    api->log(api->host, NFH_LOG_INFO,
             "%.1f%% of the bytes belonged to hosts beyond max_slot_hosts",
             100 * v->untracked_bytes / v->total_bytes);
  return rc;
}

/* ----------------------------------------------------------- state */

/* Blob layout, version 1 (little-endian, see blob.h):
 *   "NFHVOLB1" u32 version  u64 slots_total  u64 last_slot
 *   f32 lnF[2][NMET] (the floors the baselines were made with)
 *   u32 entities, each:
 *     u8 is_net  u8 family  16 bytes address
 *     u32 n  u32 seen  u64 last_seen  f32 vol
 *     NMET x (f32 c, f32 s)
 *     u16 cells, each: u8 cell index  u16 n  4 x (f32 c, f32 s, f32 p)
 * Hosts are written busiest first, so that a smaller max_hosts keeps
 * the ones that matter. */

static void put_entity(nfh_blob_writer *w, const entity *e) {
  nfh_blob_put_u8(w, e->is_net);
  nfh_blob_put_u8(w, e->addr.family);
  nfh_blob_put_bytes(w, e->addr.bytes, 16);
  nfh_blob_put_u32(w, e->n);
  nfh_blob_put_u32(w, e->seen);
  nfh_blob_put_u64(w, e->last_seen);
  nfh_blob_put_f32(w, e->vol);
  for (int m = 0; m < NMET; m++) {
    nfh_blob_put_f32(w, e->g[m].c);
    nfh_blob_put_f32(w, e->g[m].s);
  }
  uint16_t cells = 0;
  if (e->season)
    for (int i = 0; i < NFH_VOL_CELLS; i++)
      cells += e->season->cell[i].n > 0;
  nfh_blob_put_u16(w, cells);
  for (int i = 0; e->season && i < NFH_VOL_CELLS; i++) {
    const nfh__vol_cell *c = &e->season->cell[i];
    if (!c->n)
      continue;
    nfh_blob_put_u8(w, (uint8_t)i);
    nfh_blob_put_u16(w, c->n);
    for (int m = 0; m < NFH_VOL_SEASONAL; m++) {
      nfh_blob_put_f32(w, c->c[m]);
      nfh_blob_put_f32(w, c->s[m]);
      nfh_blob_put_f32(w, c->p[m]);
    }
  }
}

static int vol_state_save(void *ctx, void **data, size_t *len) {
  vol *v = ctx;
  nfh_blob_writer w;
  memset(&w, 0, sizeof(w));
  w.limit = STATE_LIMIT;
  uint32_t *idx = malloc(sizeof(uint32_t) * (v->nent ? v->nent : 1));
  if (!idx)
    return -1;
  uint64_t expire = (uint64_t)v->p.expire_days * SLOTS_PER_DAY;
  uint32_t n = 0;
  /* The hour in progress is over as far as this run knows. */
  if (v->net.season && v->net.season->npend)
    season_flush(v, v->net.season);
  for (uint32_t i = 0; i < v->nent; i++)
    if (v->ent[i].alive && v->ent[i].season && v->ent[i].season->npend)
      season_flush(v, v->ent[i].season);
  for (uint32_t i = 0; i < v->nent; i++) {
    const entity *e = &v->ent[i];
    if (e->alive && !e->learn && e->n && v->last_slot <= e->last_seen + expire)
      idx[n++] = i;
  }
  sort_ctx = v;
  qsort(idx, n, sizeof(uint32_t), cmp_rank_desc);
  nfh_blob_put_bytes(&w, STATE_MAGIC, 8);
  nfh_blob_put_u32(&w, STATE_VERSION);
  nfh_blob_put_u64(&w, v->slots_total);
  nfh_blob_put_u64(&w, v->last_slot);
  for (int k = 0; k < 2; k++)
    for (int m = 0; m < NMET; m++)
      nfh_blob_put_f32(&w, (float)v->lnF[k][m]);
  int net = !v->net.learn && v->net.n;
  nfh_blob_put_u32(&w, n + (uint32_t)net);
  if (net)
    put_entity(&w, &v->net);
  for (uint32_t i = 0; i < n; i++)
    put_entity(&w, &v->ent[idx[i]]);
  free(idx);
  /* Whether the exporters show both directions, for the next run: an
   * hourly run that begins with a flood outweighing its own hour saw
   * one direction only, and its victim's silence meant nothing. Kept
   * to a bounded count, so that a changed exporter changes it. */
  for (int k = 0; k < 2; k++) {
    const double *c = k ? v->vis_sessions : v->vis_records;
    double most = c[DIR_IN] > c[DIR_OUT] ? c[DIR_IN] : c[DIR_OUT];
    double scale = most > VIS_KEEP ? VIS_KEEP / most : 1;
    nfh_blob_put_u64(&w, (uint64_t)(c[DIR_IN] * scale));
    nfh_blob_put_u64(&w, (uint64_t)(c[DIR_OUT] * scale));
  }
  if (w.failed) {
    free(w.data);
    v->api->log(v->api->host, NFH_LOG_ERROR,
                "cannot write the state (out of memory or over %zu bytes)",
                (size_t)STATE_LIMIT);
    return -1;
  }
  *data = w.data;
  *len = w.len;
  return 0;
}

/* Log-domain values are logarithms of counts below 2^64 (under 45);
 * beyond this bound a saved one is damage, and exp() of it infinite. */
#define LOG_VALUE_LIMIT 64.0f

/* Reads a log-domain value made with floor Fo and re-expresses it in
 * floor Fn, so a changed floor parameter keeps the baselines' meaning.
 * The floors are saved as floats: compared at float precision, an
 * unchanged floor leaves the value as it was saved (the exp/log round
 * trip would move it a little on every load). A value out of range
 * marks the blob damaged. */
static float get_log_value(nfh_blob_reader *r, double lnFo, double lnFn) {
  float y = nfh_blob_get_f32(r);
  if (y > LOG_VALUE_LIMIT || y < -LOG_VALUE_LIMIT) {
    r->failed = 1;
    return 0;
  }
  if ((float)lnFo == (float)lnFn)
    return y;
  double x = exp((double)y) - exp(lnFo);
  return (float)log((x > 0 ? x : 0) + exp(lnFn));
}

static int read_entity(vol *v, nfh_blob_reader *r, const double lnFo[2][NMET],
                       entity *e) {
  memset(e, 0, sizeof(*e));
  e->is_net = nfh_blob_get_u8(r) != 0;
  e->addr.family = nfh_blob_get_u8(r);
  nfh_blob_get_bytes(r, e->addr.bytes, 16);
  e->n = nfh_blob_get_u32(r);
  e->seen = nfh_blob_get_u32(r);
  e->last_seen = nfh_blob_get_u64(r);
  e->vol = nfh_blob_get_f32(r);
  int k = e->is_net;
  for (int m = 0; m < NMET; m++) {
    e->g[m].c = get_log_value(r, lnFo[k][m], v->lnF[k][m]);
    e->g[m].s = nfh_blob_get_f32(r);
  }
  uint16_t cells = nfh_blob_get_u16(r);
  if (r->failed || cells > NFH_VOL_CELLS ||
      (e->addr.family != 4 && e->addr.family != 6 && !e->is_net))
    return -1;
  if (cells && !(e->season = calloc(1, sizeof(season))))
    return -1;
  for (uint16_t i = 0; i < cells; i++) {
    uint8_t ci = nfh_blob_get_u8(r);
    if (ci >= NFH_VOL_CELLS) {
      r->failed = 1;
      break;
    }
    nfh__vol_cell *c = &e->season->cell[ci];
    c->n = nfh_blob_get_u16(r);
    for (int m = 0; m < NFH_VOL_SEASONAL; m++) {
      int met = (int[]){MET(DIR_IN, M_BYTES), MET(DIR_IN, M_PKTS),
                        MET(DIR_OUT, M_BYTES), MET(DIR_OUT, M_PKTS)}[m];
      c->c[m] = get_log_value(r, lnFo[k][met], v->lnF[k][met]);
      c->s[m] = nfh_blob_get_f32(r);
      c->p[m] = get_log_value(r, lnFo[k][met], v->lnF[k][met]);
    }
  }
  if (r->failed) {
    free(e->season);
    e->season = NULL;
    return -1;
  }
  e->alive = 1;
  e->from_state = 1;
  return 0;
}

static int vol_state_load(void *ctx, const void *data, size_t len) {
  vol *v = ctx;
  nfh_blob_reader r = {data, len, 0, 0};
  char magic[8];
  nfh_blob_get_bytes(&r, magic, 8);
  uint32_t version = nfh_blob_get_u32(&r);
  if (r.failed || memcmp(magic, STATE_MAGIC, 8) != 0 || version < 1 ||
      version > STATE_VERSION) {
    v->api->log(v->api->host, NFH_LOG_WARNING,
                "state blob of another format ignored: baselines start "
                "afresh");
    return 0;
  }
  uint64_t slots_total = nfh_blob_get_u64(&r);
  uint64_t last_slot = nfh_blob_get_u64(&r);
  double lnFo[2][NMET];
  for (int k = 0; k < 2; k++)
    for (int m = 0; m < NMET; m++)
      lnFo[k][m] = nfh_blob_get_f32(&r);
  uint32_t count = nfh_blob_get_u32(&r);
  if (r.failed)
    goto corrupt;
  for (uint32_t i = 0; i < count; i++) {
    entity e;
    if (read_entity(v, &r, lnFo, &e) != 0)
      goto corrupt;
    if (e.is_net) {
      learn_free(v->net.learn);
      free(v->net.season);
      v->net = e;
      if (!v->net.season &&
          !(v->net.season = calloc(1, sizeof(season))))
        goto corrupt;
      continue;
    }
    uint32_t idx;
    if (v->nalive >= (uint32_t)v->p.max_hosts ||
        amap_find(&v->emap, &e.addr, 0, &idx)) {
      free(e.season);
      continue;
    }
    int64_t ni = entity_new(v, &e.addr, UINT64_MAX - 1);
    if (ni < 0) {
      free(e.season);
      goto corrupt;
    }
    learn_free(v->ent[ni].learn);
    v->ent[ni] = e;
    if (e.season)
      v->nseason++;
  }
  for (int k = 0; version >= 2 && k < 2; k++) {
    double vin = (double)nfh_blob_get_u64(&r);
    double vout = (double)nfh_blob_get_u64(&r);
    if (r.failed || vin > VIS_KEEP || vout > VIS_KEEP)
      goto corrupt;
    double *c = k ? v->vis_sessions : v->vis_records;
    c[DIR_IN] = vin;
    c[DIR_OUT] = vout;
  }
  if (r.off != r.len)
    goto corrupt;
  v->slots_total = slots_total;
  v->last_slot = v->learned_upto = last_slot;
  v->have_state = 1;
  season_rebalance(v);
  return 0;
corrupt:
  v->api->log(v->api->host, NFH_LOG_WARNING,
              "state blob damaged at byte %zu of %zu: baselines start afresh",
              r.off, r.len);
  /* Drop whatever was read: half a state is worse than none. */
  for (uint32_t i = 0; i < v->nent; i++)
    if (v->ent[i].alive)
      entity_delete(v, i);
  learn_free(v->net.learn);
  v->net.learn = NULL;
  season *net_season = v->net.season;
  memset(&v->net, 0, sizeof(v->net));
  v->net.is_net = v->net.alive = 1;
  v->net.season = net_season ? net_season : calloc(1, sizeof(season));
  if (net_season)
    memset(net_season, 0, sizeof(*net_season));
  if (!v->net.season || learn_start(v, &v->net, 0) != 0)
    return -1;
  v->nseason = 0;
  return 0;
}

static void vol_destroy(void *ctx) {
  vol *v = ctx;
  if (!v)
    return;
  for (uint32_t i = 0; i < v->nopen; i++)
    slotacc_free(v->open[i]);
  free(v->open);
  for (uint32_t i = 0; i < v->nspare; i++)
    slotacc_free(v->spare[i]);
  for (uint32_t i = 0; i < v->nent; i++)
    if (v->ent[i].alive) {
      free(v->ent[i].season);
      learn_free(v->ent[i].learn);
    }
  free(v->ent);
  free(v->freelist);
  amap_free(&v->emap);
  free(v->net.season);
  learn_free(v->net.learn);
  free(v->fnd);
  amap_free(&v->fmap);
  free(v->scratch);
  dir_free(&v->dir);
  free(v->outside);
  free(v->gbuf);
  nfh__vol_dscratch_free(&v->dset[0]);
  nfh__vol_dscratch_free(&v->dset[1]);
  nfh__vol_held_destroy(v->held);
  free(v);
}

static const nfh_plugin_descriptor descriptor = {
    .abi_version = NFH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nfh_plugin_descriptor),
    .name = "volumetric",
    .version = VOL_VERSION,
    .description = "volumetric anomalies: inbound floods (SYN, UDP, "
                   "reflection, application-layer, held connections), "
                   "outbound DoS participation, network-wide surges, "
                   "against robust seasonal baselines",
    .wants = NFH_WANTS_FLOWS | NFH_WANTS_CONNS,
    .create = vol_create,
    .on_flows = vol_on_flows,
    .on_conns = vol_on_conns,
    .on_slot_end = vol_on_slot_end,
    .finish = vol_finish,
    .state_load = vol_state_load,
    .state_save = vol_state_save,
    .destroy = vol_destroy,
};

const nfh_plugin_descriptor *nfh_plugin_entry(void) { return &descriptor; }
