/* volumetric.c - the volumetric anomaly detector; see volumetric.h. */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <nfhunt/plugin.h>

#include "baseline.h"
#include "blob.h"
#include "counting.h"
#include "text.h"
#include "volumetric.h"

#define VOL_VERSION "1.0"
#define SLOT_MS 300000ull
#define SLOT_S 300.0
#define SLOTS_PER_DAY 288u
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
#define STATE_VERSION 1u
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
  NCOUNT
};

enum kind { K_IN, K_OUT, K_NET_IN, K_NET_OUT };

enum base_src { B_NONE, B_LEARNED, B_HISTORY, B_HOD, B_HOW };
static const char *const base_name[] = {"none", "learned_in_window",
                                        "host_history", "hour_of_day",
                                        "hour_of_week"};

enum ftype { FT_SYN, FT_UDP, FT_ICMP, FT_TCP, FT_REFLECT, FT_OTHER };
static const char *const ftype_name[] = {"SYN", "UDP", "ICMP",
                                         "TCP", "reflection", "traffic"};

/* ------------------------------------------------------------ params */

typedef struct params {
  double z_min, ratio_min, high_z, high_ratio, critical_ratio, peak_ratio;
  double floor[M_PER_DIR];
  double net_floor_factor, min_sources, syn_share, s_min;
  double alpha, season_alpha, peak_decay;
  double learn_slots, hod_min, how_min, season_tolerance, season_min_seen;
  double max_hosts, max_seasonal_hosts, max_slot_hosts, max_findings;
  double late_slots, expire_days, exact_distinct, episode_gap;
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

static int addr_eq(const nfh_addr *a, const nfh_addr *b) {
  uint64_t a0, a1, b0, b1;
  memcpy(&a0, a->bytes, 8), memcpy(&a1, a->bytes + 8, 8);
  memcpy(&b0, b->bytes, 8), memcpy(&b1, b->bytes + 8, 8);
  return a->family == b->family && a0 == b0 && a1 == b1;
}

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
    if (m->t[i].tag == tag && addr_eq(&m->t[i].addr, a)) {
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
  while (m->t[i].used && !(m->t[i].tag == tag && addr_eq(&m->t[i].addr, a)))
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

/* ----------------------------------------------------- slot counting */

typedef struct hacc {
  nfh_addr addr; /* family 0: the whole home network */
  double c[2][NCOUNT];
  nfh__vol_distinct peers[2];
  nfh__vol_top src_in;   /* heaviest external sources */
  nfh__vol_top port_in;  /* heaviest service ports hit (proto<<16|port)+1 */
  nfh__vol_top amp_in;   /* heaviest amplifier source ports */
  nfh__vol_top dst_out;  /* heaviest external targets */
  nfh__vol_top port_out; /* heaviest target ports */
  uint64_t t0[2], t1[2];  /* span of the direction's records in the slot */
  uint32_t max_sampling;
} hacc;

typedef struct slotacc {
  uint64_t slot;
  hacc net;
  hacc *h;
  uint32_t nh, caph;
  amap map;
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
  int32_t top_port_out;
  double top_port_out_share;
  double net_pkts[2], net_bytes[2];
  double active_s[2]; /* seconds between the first and last record */
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

typedef struct entity {
  nfh_addr addr;
  uint8_t is_net, alive, from_state, learned_in_run;
  uint32_t n;     /* slots in the baseline, saturating */
  uint32_t seen;  /* slots with traffic, saturating */
  uint64_t last_seen, last_obs, mark;
  float vol;      /* EWMA of ln(1 + bytes both ways): for ranking */
  nfh__vol_stat g[NMET];
  season *season;        /* or NULL */
  learnbuf *learn;       /* while the baseline is being learned */
} entity;

/* ---------------------------------------------------------- findings */

typedef struct verdict {
  uint64_t slot;
  int dir, is_net;
  double x[M_PER_DIR], expect[M_PER_DIR], mratio[M_PER_DIR];
  int primary;
  double z, ratio;
  int base, q, seasonal_only, by_signature;
  double f, syn_share, bpp, pps, reply, tiny_share, amp_share, conc;
  double sampled_share;
  int ftype, many, strong, extreme;
  nfh_severity sev;
  double score, conf;
  ssum s;
} verdict;

typedef struct fnd {
  uint8_t kind, suppressed;
  nfh_addr addr;
  uint64_t first_slot, last_slot, prev_slot;
  uint32_t slots, episodes;
  double sum_bytes, sum_pkts, max_peers;
  uint32_t max_sampling;
  verdict peak;
} fnd;

/* ---------------------------------------------------------- context */

typedef struct vol {
  const nfh_host_api *api;
  params p;
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
  /* The slot being closed, and the excess (bytes, packets) over their
   * baselines of its anomalous hosts, whatever their severity: what a
   * network-wide anomaly of the same slot is measured against. */
  uint64_t cur_slot;
  double host_excess[2][2];
  uint32_t max_sampling;
  uint32_t untracked_hosts;
} vol;

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* ======================================================== entities */

static void learn_free(learnbuf *l) {
  if (l) {
    free(l->y);
    free(l->pend);
    free(l);
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

static void entity_delete(vol *v, uint32_t idx) {
  entity *e = &v->ent[idx];
  amap_del(&v->emap, &e->addr, 0);
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
  learnbuf *l = calloc(1, sizeof(*l));
  if (!l || !(l->y = malloc(sizeof(float) * L * NMET))) {
    free(l);
    return -1;
  }
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
      entity *grown = realloc(v->ent, sizeof(entity) * cap);
      if (!grown)
        return -1;
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
    int old = e->from_state || e->n >= SLOTS_PER_DAY;
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

  /* A SYN flood needs no baseline: SYN-only packets (handshakes nobody
   * completes) dominating a host's inbound traffic, from many sources,
   * far above the floor, are never normal. This catches a flood that
   * filled most of a first run's learning slots. */
  if (!any && dir == DIR_IN && syn_dom >= p->syn_share &&
      c[C_SYN] >= 10 * Fsyn && peers >= p->min_sources) {
    any = 1;
    vd->by_signature = 1;
    j[M_SYN].anom = 1;
  }
  if (!any)
    return 0;

  /* Acknowledgements: a big transfer one way makes a stream of small TCP
   * packets the other way (one for every two or more segments). That
   * stream grows with the transfer, and is no anomaly of its own: the
   * transfer is judged in its own direction. A SYN or non-TCP flood is
   * never mistaken for it. */
  double other_bytes = s->c[!dir][C_BYTES];
  if (pkts > 0 && c[C_TCP] >= 0.8 * pkts && syn_dom < p->syn_share &&
      bytes * 4 <= other_bytes)
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
  vd->primary = prim;
  vd->z = j[prim].z;
  vd->ratio = j[prim].ratio;
  vd->base = j[prim].base;
  vd->q = j[prim].q;
  vd->seasonal_only = j[prim].seasonal_only;

  /* The shape of the traffic: is it a flood? */
  vd->bpp = pkts > 0 ? bytes / pkts : 0;
  vd->pps = pkts / SLOT_S;
  /* Replies in kind: UDP answered by UDP, ICMP by ICMP. An ICMP
   * unreachable is the network refusing a flood, not an answer. */
  int kp = c[C_UDP] >= c[C_ICMP] ? C_UDP : C_ICMP;
  if (c[C_UDP] + c[C_ICMP] < 0.5 * pkts)
    kp = C_PKTS;
  vd->reply = c[kp] > 0 ? s->c[!dir][kp] / c[kp] : 0;
  vd->tiny_share = pkts > 0 ? c[C_TINY] / pkts : 0;
  vd->sampled_share = bytes > 0 ? clamp01(c[C_SAMPLED] / bytes) : 0;
  vd->amp_share = pkts > 0 ? c[C_AMP] / pkts : 0;
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
  else if (dir == DIR_IN && vd->amp_share >= 0.5)
    vd->ftype = FT_REFLECT;
  else if (pkts > 0 && c[C_UDP] / pkts >= 0.5)
    vd->ftype = FT_UDP;
  else if (pkts > 0 && c[C_ICMP] / pkts >= 0.5)
    vd->ftype = FT_ICMP;
  else if (pkts > 0 && c[C_TCP] / pkts >= 0.5)
    vd->ftype = FT_TCP;
  else
    vd->ftype = FT_OTHER;

  const double *F = v->F[e->is_net];
  vd->strong = vd->ratio >= p->high_ratio && vd->z >= p->high_z;
  int big = vd->x[M_PKTS] >= 10 * F[MET(dir, M_PKTS)] ||
            vd->x[M_BYTES] >= 10 * F[MET(dir, M_BYTES)];
  vd->extreme = vd->strong && vd->ratio >= p->critical_ratio && big;
  int flood = vd->f >= 0.5;
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
    else /* bulk: a backup, an upload, or data leaving; only an extreme
          * one (tens of times the host's norm, hundreds of MB a slot) is
          * worth a person's time here */
      sev = !vd->extreme ? NFH_SEV_INFO
            : vd->q >= 2 ? NFH_SEV_MEDIUM
                         : NFH_SEV_LOW;
  }
  if (vd->seasonal_only && sev > NFH_SEV_LOW)
    sev = NFH_SEV_LOW;
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

/* Adds an anomalous slot to its finding: one finding per (kind, host)
 * and run, its span covering every anomalous slot, its severity and
 * text those of the worst slot. */
static void record(vol *v, const entity *e, const verdict *vd) {
  if (vd->sev < v->p.min_severity)
    return;
  uint8_t kind = e->is_net ? (vd->dir == DIR_IN ? K_NET_IN : K_NET_OUT)
                           : (vd->dir == DIR_IN ? K_IN : K_OUT);
  uint32_t idx;
  fnd *f;
  if (amap_find(&v->fmap, &e->addr, kind, &idx)) {
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
      if (amap_put(&v->fmap, &e->addr, kind, idx) != 0)
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
      amap_del(&v->fmap, &v->fnd[w].addr, v->fnd[w].kind);
      if (amap_put(&v->fmap, &e->addr, kind, w) != 0)
        return;
      idx = w;
    }
    f = &v->fnd[idx];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->addr = e->addr;
  }
  if (!f->slots) {
    f->first_slot = f->last_slot = f->prev_slot = vd->slot;
    f->episodes = 1;
    f->peak = *vd;
  } else {
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
  for (int m = 0; m < NMET; m++)
    y[m] = (float)log(s->x[m] + v->F[e->is_net][m]);
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
  return 0;
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
  e->last_obs = slot;
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
    s->x[MET(dir, M_PEERS)] = nfh__vol_distinct_count(&h->peers[dir]);
    s->peers_estimated[dir] = !nfh__vol_distinct_exact(&h->peers[dir]);
    s->net_pkts[dir] = acc->net.c[dir][C_PKTS];
    double span = (double)(h->t1[dir] - h->t0[dir]) / 1000;
    s->active_s[dir] = span < 1 ? 1 : span > SLOT_S ? SLOT_S : span;
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
  top_share(&h->port_out, out, &key, NULL, &s->top_port_out_share);
  s->top_port_out = key ? (int32_t)(key - 1) : -1;
}

static void hacc_free(hacc *h) {
  nfh__vol_distinct_free(&h->peers[0]);
  nfh__vol_distinct_free(&h->peers[1]);
}

static void slotacc_free(slotacc *a) {
  if (!a)
    return;
  for (uint32_t i = 0; i < a->nh; i++)
    hacc_free(&a->h[i]);
  hacc_free(&a->net);
  free(a->h);
  amap_free(&a->map);
  free(a);
}

static void close_slot(vol *v, slotacc *acc) {
  uint64_t slot = acc->slot;
  double in = acc->net.c[DIR_IN][C_PKTS], out = acc->net.c[DIR_OUT][C_PKTS];
  v->untracked_bytes += acc->untracked_bytes;
  if (in + out <= 0) /* no data: a gap in the capture, not silence */
    return;
  v->cur_slot = slot;
  memset(v->host_excess, 0, sizeof(v->host_excess));
  /* Whether the exporters show both directions: without that, "no
   * reply" means nothing. Judged by flow records over the whole run so
   * far, so that a flood's own packets cannot tip it. */
  v->vis_records[DIR_IN] += acc->net.c[DIR_IN][C_FLOWS];
  v->vis_records[DIR_OUT] += acc->net.c[DIR_OUT][C_FLOWS];
  double ri = v->vis_records[DIR_IN], ro = v->vis_records[DIR_OUT];
  double lo = ri < ro ? ri : ro, hi = ri < ro ? ro : ri;
  int bidir_ok = lo >= 0.05 * hi;

  /* Mark this slot's hosts first, so that making room for a new one
   * never evicts another host of the same slot. */
  for (uint32_t i = 0; i < acc->nh; i++) {
    uint32_t idx;
    if (amap_find(&v->emap, &acc->h[i].addr, 0, &idx))
      v->ent[idx].mark = slot + 1;
  }
  for (uint32_t i = 0; i < acc->nh; i++) {
    ssum s;
    summarize(acc, &acc->h[i], bidir_ok, &s);
    uint32_t idx;
    int64_t ni = amap_find(&v->emap, &acc->h[i].addr, 0, &idx)
                     ? (int64_t)idx
                     : entity_new(v, &acc->h[i].addr, slot);
    if (ni < 0) {
      /* Not tracked (table full of this slot's hosts, or no memory):
       * judged against zero traffic, so that a flood is not missed. */
      entity tmp;
      memset(&tmp, 0, sizeof(tmp));
      tmp.addr = acc->h[i].addr;
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
    slotacc_free(v->open[k]);
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
  slotacc *a = calloc(1, sizeof(*a));
  if (!a)
    return NULL;
  a->slot = s;
  memmove(v->open + k + 1, v->open + k, sizeof(slotacc *) * (v->nopen - k));
  v->open[k] = a;
  v->nopen++;
  return a;
}

static hacc *hacc_get(vol *v, slotacc *a, const nfh_addr *addr) {
  uint32_t idx;
  if (amap_find(&a->map, addr, 0, &idx))
    return &a->h[idx];
  if (a->nh >= (uint32_t)v->p.max_slot_hosts)
    return NULL;
  if (a->nh == a->caph) {
    uint32_t cap = a->caph ? 2 * a->caph : 64;
    hacc *grown = realloc(a->h, sizeof(hacc) * cap);
    if (!grown)
      return NULL;
    a->h = grown;
    a->caph = cap;
  }
  if (amap_put(&a->map, addr, 0, a->nh) != 0)
    return NULL;
  hacc *h = &a->h[a->nh++];
  memset(h, 0, sizeof(*h));
  h->addr = *addr;
  return h;
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

/* One direction of one record, before it is shared out over slots. */
typedef struct part {
  int dir;
  double c[NCOUNT];
  uint64_t port_key;  /* (proto << 16 | port) + 1 of the service/target */
  uint64_t amp_key;
} part;

static void add_part(vol *v, hacc *h, int is_net, const part *pt, double w,
                     uint64_t t0, uint64_t t1, const nfh_addr *peer,
                     uint64_t peer_hash, uint32_t sampling) {
  int dir = pt->dir;
  if (!h->t0[dir] || t0 < h->t0[dir])
    h->t0[dir] = t0;
  if (t1 > h->t1[dir])
    h->t1[dir] = t1;
  for (int i = 0; i < NCOUNT; i++)
    h->c[dir][i] += pt->c[i] * w;
  if (sampling > h->max_sampling)
    h->max_sampling = sampling;
  nfh__vol_distinct_add(&h->peers[dir], peer_hash,
                        (uint32_t)v->p.exact_distinct,
                        is_net ? NET_HLL_PRECISION : HOST_HLL_PRECISION);
  if (is_net)
    return;
  double pk = pt->c[C_PKTS] * w;
  if (pk <= 0)
    return;
  if (dir == DIR_IN) {
    nfh__vol_top_add(&h->src_in, peer_hash, peer, pk);
    nfh__vol_top_add(&h->port_in, pt->port_key, NULL, pk);
    if (pt->amp_key)
      nfh__vol_top_add(&h->amp_in, pt->amp_key, NULL, pk);
  } else {
    nfh__vol_top_add(&h->dst_out, peer_hash, peer, pk);
    nfh__vol_top_add(&h->port_out, pt->port_key, NULL, pk);
  }
}

static void make_part(part *pt, int dir, uint64_t pkts, uint64_t bytes,
                      uint8_t proto, uint8_t flags, int forward,
                      uint32_t sampling, uint16_t sport, uint16_t dport) {
  memset(pt, 0, sizeof(*pt));
  pt->dir = dir;
  double p = (double)pkts;
  pt->c[C_BYTES] = (double)bytes;
  pt->c[C_PKTS] = p;
  pt->c[C_FLOWS] = 1;
  if (proto == 6) {
    pt->c[C_TCP] = p;
    /* A SYN without ACK in the record: a handshake nobody completed in
     * this direction (for a biflow record the flags are shared, so only
     * its forward half is judged). */
    if (forward && (flags & 0x02) && !(flags & 0x10))
      pt->c[C_SYN] = p;
  } else if (proto == 17) {
    pt->c[C_UDP] = p;
  } else if (proto == 1 || proto == 58) {
    pt->c[C_ICMP] = p;
  }
  if ((double)pkts / (sampling ? sampling : 1) <= 2)
    pt->c[C_TINY] = p;
  if (sampling > 1)
    pt->c[C_SAMPLED] = (double)bytes;
  pt->port_key = ((uint64_t)proto << 16 | dport) + 1;
  if (dir == DIR_IN && proto == 17 && amp_service(sport))
    pt->amp_key = (uint64_t)sport + 1;
  if (pt->amp_key)
    pt->c[C_AMP] = p;
}

static int add_flow(vol *v, const nfh_flow *f) {
  const nfh_host_api *api = v->api;
  int src_home = api->is_home(api->host, &f->src) != 0;
  int dst_home = api->is_home(api->host, &f->dst) != 0;
  if (src_home == dst_home)
    return 0; /* internal-to-internal or transit */
  const nfh_addr *inner = dst_home ? &f->dst : &f->src;
  const nfh_addr *peer = dst_home ? &f->src : &f->dst;
  int dir = dst_home ? DIR_IN : DIR_OUT;
  uint32_t sampling = f->sampling ? f->sampling : 1;
  if ((f->flags & NFH_FLOW_SAMPLED) && sampling < 2)
    sampling = 2; /* sampled, interval unknown: still an estimate */
  part parts[2];
  int nparts = 0;
  if (f->packets || f->bytes)
    make_part(&parts[nparts++], dir, f->packets, f->bytes, f->proto,
              f->tcp_flags, 1, sampling, f->src_port, f->dst_port);
  if ((f->flags & NFH_FLOW_HAS_OUT) && (f->out_packets || f->out_bytes))
    make_part(&parts[nparts++], !dir, f->out_packets, f->out_bytes,
              f->proto, f->tcp_flags, 0, sampling, f->dst_port, f->src_port);
  if (!nparts)
    return 0;
  if (sampling > v->max_sampling)
    v->max_sampling = sampling;
  double bytes = (double)f->bytes + (double)f->out_bytes;
  v->total_bytes += bytes;

  uint64_t first = f->first_ms, last = f->last_ms;
  if (last < first)
    last = first;
  uint64_t s0 = first / SLOT_MS, s1 = last / SLOT_MS;
  if (s1 - s0 >= MAX_SPAN_SLOTS) {
    s0 = s1 - MAX_SPAN_SLOTS + 1;
    first = s0 * SLOT_MS;
  }
  double dur = (double)(last - first);
  uint64_t peer_hash = nfh__vol_addr_hash(peer);
  for (uint64_t s = s0; s <= s1; s++) {
    double w = 1;
    uint64_t a = first > s * SLOT_MS ? first : s * SLOT_MS;
    uint64_t b = last < (s + 1) * SLOT_MS ? last : (s + 1) * SLOT_MS;
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
    hacc *h = hacc_get(v, acc, inner);
    for (int i = 0; i < nparts; i++) {
      add_part(v, &acc->net, 1, &parts[i], w, a, b, peer, peer_hash,
               sampling);
      if (h)
        add_part(v, h, 0, &parts[i], w, a, b, peer, peer_hash, sampling);
      else
        acc->untracked_bytes += parts[i].c[C_BYTES] * w;
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

static const char *dir_word(int dir) {
  return dir == DIR_IN ? "inbound" : "outbound";
}

static void peers_text(char *buf, size_t len, const verdict *p,
                       const char *noun) {
  char n[32];
  nfh__vol_fmt_count(n, sizeof(n), p->x[M_PEERS]);
  if (p->x[M_PEERS] < 1.5 && p->s.top_src.family) {
    char a[NFH_ADDR_STRLEN];
    snprintf(buf, len, "from %s",
             nfh_addr_format(&p->s.top_src, a, sizeof(a)));
  } else {
    snprintf(buf, len, "from %s %s", n, noun);
  }
}

static int emit_one(vol *v, const fnd *f) {
  const nfh_host_api *api = v->api;
  const verdict *p = &f->peak;
  const ssum *s = &p->s;
  char host[NFH_ADDR_STRLEN] = "", target[NFH_ADDR_STRLEN + 8] = "";
  char mult[32], rate[32], pps[32], size[32], dur[32], from[96];
  char summary[320], mitre[64] = "T1498";
  nfh_finding out;
  memset(&out, 0, sizeof(out));
  out.dst_port = -1;
  out.proto = -1;
  int is_net = f->kind == K_NET_IN || f->kind == K_NET_OUT;
  if (!is_net)
    nfh_addr_format(&f->addr, host, sizeof(host));
  nfh__vol_fmt_ratio(mult, sizeof(mult), p->ratio);
  nfh__vol_fmt_bits(rate, sizeof(rate), p->x[M_BYTES] * 8 / SLOT_S);
  /* The rate while it lasted: a one-minute flood is not 1/5 of itself. */
  nfh__vol_fmt_count(pps, sizeof(pps), p->x[M_PKTS] / p->s.active_s[p->dir]);
  nfh__vol_fmt_bytes(size, sizeof(size), f->sum_bytes);
  nfh__vol_fmt_duration(dur, sizeof(dur),
                        (f->last_slot - f->first_slot + 1) * 300);
  int flood = p->f >= 0.5;
  const char *ft = ftype_name[p->ftype];
  int port = -1, proto = -1;

  if (f->kind == K_IN) {
    if (s->top_port_in >= 0 && s->top_port_in_share >= 0.5 &&
        p->ftype != FT_REFLECT) {
      port = s->top_port_in & 0xffff;
      proto = (s->top_port_in >> 16) & 0xff;
      /* ICMP "ports" are type/code: not a service. */
      if (proto == 1 || proto == 58)
        port = -1;
    }
    if (port >= 0)
      snprintf(target, sizeof(target), "%s:%d", host, port);
    else
      snprintf(target, sizeof(target), "%s", host);
    if (api->is_allowed(api->host, "volumetric", &f->addr, port) ||
        (port >= 0 && api->is_allowed(api->host, "volumetric", &f->addr, -1)))
      return 0;
    out.dst = f->addr;
    if (s->top_src_share >= 0.8)
      out.src = s->top_src;
    if (p->ftype == FT_REFLECT) {
      const char *svc = s->top_amp_port >= 0
                            ? amp_service((unsigned)s->top_amp_port & 0xffff)
                            : NULL;
      peers_text(from, sizeof(from), p, "reflectors");
      snprintf(summary, sizeof(summary),
               "%s reflection flood against %s %s, %s baseline (%s)",
               svc ? svc : "UDP", target, from, mult, rate);
      snprintf(mitre, sizeof(mitre), "T1498.002");
    } else if (flood) {
      peers_text(from, sizeof(from), p, "sources");
      snprintf(summary, sizeof(summary), "%s flood against %s %s, %s baseline",
               p->ftype == FT_OTHER ? "Traffic" : ft, target, from, mult);
      if (p->ftype == FT_SYN)
        snprintf(mitre, sizeof(mitre),
                 port >= 0 ? "T1498.001,T1499.001" : "T1498.001");
      else
        snprintf(mitre, sizeof(mitre),
                 port >= 0 ? "T1498.001,T1499" : "T1498.001");
    } else if (p->many) {
      peers_text(from, sizeof(from), p, "sources");
      snprintf(summary, sizeof(summary),
               "Inbound traffic surge to %s %s, %s baseline (answered: a "
               "flash crowd or an application-layer flood)",
               target, from, mult);
      snprintf(mitre, sizeof(mitre), port >= 0 ? "T1499.002" : "T1498");
    } else {
      peers_text(from, sizeof(from), p, "sources");
      snprintf(summary, sizeof(summary),
               "Inbound volume to %s %s baseline (%s, %s)", target, mult,
               rate, from);
    }
  } else if (f->kind == K_OUT) {
    char dst[NFH_ADDR_STRLEN] = "";
    if (api->is_allowed(api->host, "volumetric", &f->addr, -1))
      return 0;
    out.src = f->addr;
    if (p->many && s->top_dst.family) {
      out.dst = s->top_dst;
      nfh_addr_format(&s->top_dst, dst, sizeof(dst));
      if (s->top_port_out >= 0 && s->top_port_out_share >= 0.5) {
        proto = (s->top_port_out >> 16) & 0xff;
        if (proto != 1 && proto != 58)
          port = s->top_port_out & 0xffff;
      }
      if (api->is_allowed(api->host, "volumetric", &s->top_dst, port))
        return 0;
    }
    if (port >= 0)
      snprintf(target, sizeof(target), "%s:%d", dst, port);
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
      snprintf(summary, sizeof(summary),
               "Unusual outbound volume from %s: %s in %s %s, %s its "
               "baseline (not flood-shaped: likely a bulk transfer)",
               host, size, dur, to, mult);
      snprintf(mitre, sizeof(mitre), "T1498");
    }
  } else {
    snprintf(summary, sizeof(summary),
             "Network-wide %s volume %s baseline at peak (%s, %s pps)%s",
             dir_word(p->dir), mult, rate, pps,
             p->ftype == FT_SYN ? ", mostly SYN-only" : "");
  }
  if (port >= 0) {
    out.dst_port = port;
    out.proto = (int16_t)proto;
  } else if (p->ftype == FT_SYN || p->ftype == FT_TCP) {
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
  if (f->kind == K_IN && s->top_src_share >= 0.5)
    nfh__vol_json_addr(&j, "top_source", &s->top_src);
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
  nfh__vol_json_num(&j, "active_seconds", round(s->active_s[p->dir]));
  nfh__vol_json_num(&j, "packets_per_active_second",
       round(p->x[M_PKTS] / s->active_s[p->dir]));
  nfh__vol_json_num(&j, "bits_per_second", round(p->x[M_BYTES] * 8 / SLOT_S));
  nfh__vol_json_num(&j, "avg_packet_bytes", round(p->bpp));
  nfh__vol_json_num(&j, "syn_only_share", p->syn_share);
  nfh__vol_json_num(&j, "tiny_record_share", p->tiny_share);
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
  nfh__vol_json_num(&j, "robust_deviations", p->z);
  if (p->seasonal_only)
    nfh__vol_json_str(&j, "note", "unusual for this hour, usual for this host overall");
  else if (p->by_signature)
    nfh__vol_json_str(&j, "note", "SYN-only packets dominate far above the floor: a SYN "
                     "flood whatever the baseline");
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
    nfh__vol_json_open(&j, "sampling");
    nfh__vol_json_num(&j, "max_interval", f->max_sampling);
    nfh__vol_json_num(&j, "sampled_byte_share", p->sampled_share);
    nfh__vol_json_str(&j, "note", "counts are estimates scaled up from sampled packets; "
                     "distinct peers and small records are undercounted");
    nfh__vol_json_close(&j);
  }
  nfh__vol_json_close(&j);

  char key[80];
  if (is_net)
    snprintf(key, sizeof(key), "net|%s", f->kind == K_NET_IN ? "in" : "out");
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
  out.first_ms = f->first_slot * SLOT_MS;
  out.last_ms = (f->last_slot + 1) * SLOT_MS;
  out.mitre = mitre;
  out.summary = summary;
  out.evidence_json = j.b;
  return api->emit(api->host, &out);
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
      if (h->kind != hk || h->last_slot < n->first_slot ||
          h->first_slot > n->last_slot)
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
  v->net.is_net = 1;
  v->net.alive = 1;
  v->net.season = calloc(1, sizeof(season));
  if (!v->scratch || !v->net.season || learn_start(v, &v->net, 0) != 0) {
    snprintf(message, sizeof(message), "out of memory");
    goto fail;
  }
  return v;
fail:
  *error = message;
  vol_destroy(v);
  return NULL;
}

static int vol_on_flows(void *ctx, const nfh_flow *flows, size_t n) {
  vol *v = ctx;
  for (size_t i = 0; i < n; i++) {
    if (add_flow(v, &flows[i]) != 0) {
      v->api->log(v->api->host, NFH_LOG_ERROR,
                  "out of memory counting slot %" PRIu64,
                  (uint64_t)(flows[i].first_ms / SLOT_MS));
      return -1;
    }
  }
  return 0;
}

static int vol_on_slot_end(void *ctx, uint64_t slot_end_ms) {
  vol *v = ctx;
  /* Slots stay open late_slots more slots, for records exported late
   * (an active timeout longer than the slot). */
  uint64_t end = slot_end_ms / SLOT_MS;
  if (end > (uint64_t)v->p.late_slots)
    close_before(v, end - (uint64_t)v->p.late_slots);
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
  int rc = 0;
  for (uint32_t i = 0; i < v->nfnd; i++)
    if (!v->fnd[i].suppressed && emit_one(v, &v->fnd[i]) != 0)
      rc = -1;
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

static void put_entity(nfh__vol_wbuf *w, const entity *e) {
  nfh__vol_put_u8(w, e->is_net);
  nfh__vol_put_u8(w, e->addr.family);
  nfh__vol_put_bytes(w, e->addr.bytes, 16);
  nfh__vol_put_u32(w, e->n);
  nfh__vol_put_u32(w, e->seen);
  nfh__vol_put_u64(w, e->last_seen);
  nfh__vol_put_f32(w, e->vol);
  for (int m = 0; m < NMET; m++) {
    nfh__vol_put_f32(w, e->g[m].c);
    nfh__vol_put_f32(w, e->g[m].s);
  }
  uint16_t cells = 0;
  if (e->season)
    for (int i = 0; i < NFH_VOL_CELLS; i++)
      cells += e->season->cell[i].n > 0;
  nfh__vol_put_u16(w, cells);
  for (int i = 0; e->season && i < NFH_VOL_CELLS; i++) {
    const nfh__vol_cell *c = &e->season->cell[i];
    if (!c->n)
      continue;
    nfh__vol_put_u8(w, (uint8_t)i);
    nfh__vol_put_u16(w, c->n);
    for (int m = 0; m < NFH_VOL_SEASONAL; m++) {
      nfh__vol_put_f32(w, c->c[m]);
      nfh__vol_put_f32(w, c->s[m]);
      nfh__vol_put_f32(w, c->p[m]);
    }
  }
}

static int vol_state_save(void *ctx, void **data, size_t *len) {
  vol *v = ctx;
  nfh__vol_wbuf w;
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
  nfh__vol_put_bytes(&w, STATE_MAGIC, 8);
  nfh__vol_put_u32(&w, STATE_VERSION);
  nfh__vol_put_u64(&w, v->slots_total);
  nfh__vol_put_u64(&w, v->last_slot);
  for (int k = 0; k < 2; k++)
    for (int m = 0; m < NMET; m++)
      nfh__vol_put_f32(&w, (float)v->lnF[k][m]);
  int net = !v->net.learn && v->net.n;
  nfh__vol_put_u32(&w, n + (uint32_t)net);
  if (net)
    put_entity(&w, &v->net);
  for (uint32_t i = 0; i < n; i++)
    put_entity(&w, &v->ent[idx[i]]);
  free(idx);
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

/* Re-expresses a log-domain value made with floor Fo in floor Fn, so a
 * changed floor parameter keeps the baselines' meaning. */
static float refloor(float y, double lnFo, double lnFn) {
  if (lnFo == lnFn)
    return y;
  double x = exp((double)y) - exp(lnFo);
  return (float)log((x > 0 ? x : 0) + exp(lnFn));
}

static int read_entity(vol *v, nfh__vol_rbuf *r, const double lnFo[2][NMET],
                       entity *e) {
  memset(e, 0, sizeof(*e));
  e->is_net = nfh__vol_get_u8(r) != 0;
  e->addr.family = nfh__vol_get_u8(r);
  nfh__vol_get_bytes(r, e->addr.bytes, 16);
  e->n = nfh__vol_get_u32(r);
  e->seen = nfh__vol_get_u32(r);
  e->last_seen = nfh__vol_get_u64(r);
  e->vol = nfh__vol_get_f32(r);
  int k = e->is_net;
  for (int m = 0; m < NMET; m++) {
    e->g[m].c = refloor(nfh__vol_get_f32(r), lnFo[k][m], v->lnF[k][m]);
    e->g[m].s = nfh__vol_get_f32(r);
  }
  uint16_t cells = nfh__vol_get_u16(r);
  if (r->failed || cells > NFH_VOL_CELLS ||
      (e->addr.family != 4 && e->addr.family != 6 && !e->is_net))
    return -1;
  if (cells && !(e->season = calloc(1, sizeof(season))))
    return -1;
  for (uint16_t i = 0; i < cells; i++) {
    uint8_t ci = nfh__vol_get_u8(r);
    if (ci >= NFH_VOL_CELLS) {
      r->failed = 1;
      break;
    }
    nfh__vol_cell *c = &e->season->cell[ci];
    c->n = nfh__vol_get_u16(r);
    for (int m = 0; m < NFH_VOL_SEASONAL; m++) {
      int met = (int[]){MET(DIR_IN, M_BYTES), MET(DIR_IN, M_PKTS),
                        MET(DIR_OUT, M_BYTES), MET(DIR_OUT, M_PKTS)}[m];
      c->c[m] = refloor(nfh__vol_get_f32(r), lnFo[k][met], v->lnF[k][met]);
      c->s[m] = nfh__vol_get_f32(r);
      c->p[m] = refloor(nfh__vol_get_f32(r), lnFo[k][met], v->lnF[k][met]);
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
  nfh__vol_rbuf r = {data, len, 0, 0};
  char magic[8];
  nfh__vol_get_bytes(&r, magic, 8);
  uint32_t version = nfh__vol_get_u32(&r);
  if (r.failed || memcmp(magic, STATE_MAGIC, 8) != 0 ||
      version != STATE_VERSION) {
    v->api->log(v->api->host, NFH_LOG_WARNING,
                "state blob of another format ignored: baselines start "
                "afresh");
    return 0;
  }
  uint64_t slots_total = nfh__vol_get_u64(&r);
  uint64_t last_slot = nfh__vol_get_u64(&r);
  double lnFo[2][NMET];
  for (int k = 0; k < 2; k++)
    for (int m = 0; m < NMET; m++)
      lnFo[k][m] = nfh__vol_get_f32(&r);
  uint32_t count = nfh__vol_get_u32(&r);
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
  free(v);
}

static const nfh_plugin_descriptor descriptor = {
    .abi_version = NFH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nfh_plugin_descriptor),
    .name = "volumetric",
    .version = VOL_VERSION,
    .description = "volumetric anomalies: inbound floods (SYN, UDP, "
                   "reflection), outbound DoS participation, network-wide "
                   "surges, against robust seasonal baselines",
    .wants = NFH_WANTS_FLOWS,
    .create = vol_create,
    .on_flows = vol_on_flows,
    .on_slot_end = vol_on_slot_end,
    .finish = vol_finish,
    .state_load = vol_state_load,
    .state_save = vol_state_save,
    .destroy = vol_destroy,
};

const nfh_plugin_descriptor *nfh_plugin_entry(void) { return &descriptor; }
