/* track.c - the run's pair table; see track.h. */
#include <stdlib.h>
#include <string.h>

#include <nfhunt/door.h>
#include <nfhunt/hugemem.h>

#include "track.h"

#define SLOT_MS 300000ull
/* A record longer than this is clipped to its last part: no exporter
 * keeps a record open for two days, so its start is a broken clock. */
#define MAX_SPAN_MS (48 * NFH_EXF_HOUR_MS)

typedef struct hour_cov {
  uint32_t hour;
  uint16_t slots; /* bit i: slot i of the hour held a flow */
} hour_cov;

struct nfh__exf_track {
  nfh__exf_pair *pairs;
  uint32_t n, cap, max;
  nfh__exf_map map;
  uint64_t big_bytes;
  uint32_t prunes;
  /* Coverage, sorted by hour; the last slot marked, to skip repeats. */
  hour_cov *cov;
  uint32_t *cov_hours;
  uint8_t *cov_slots;
  size_t ncov, capcov;
  uint64_t last_slot;
  /* The pair of the last record: both directions and the successive
   * records of one session often come together. */
  uint32_t last_pair;
  int has_last;
  uint64_t last_hash; /* the last pair's hash, when has_last */
  /* Admission to the full table (see get); created when first full. */
  nfh_door *door;
  uint64_t skipped_bytes; /* bytes of records kept out by it */
};

nfh__exf_track *nfh__exf_track_create(uint32_t max_pairs,
                                      uint64_t big_bytes) {
  nfh__exf_track *t = calloc(1, sizeof(*t));
  if (!t)
    return NULL;
  t->max = max_pairs;
  t->big_bytes = big_bytes;
  t->last_slot = UINT64_MAX;
  return t;
}

static void free_cells(nfh__exf_pair *p) {
  free(p->more);
  p->more = NULL;
  p->ncells = p->capcells = 0;
}

void nfh__exf_track_destroy(nfh__exf_track *t) {
  if (!t)
    return;
  for (uint32_t i = 0; i < t->n; i++)
    free_cells(&t->pairs[i]);
  nfh_hugemem_free(t->pairs, (size_t)t->cap * sizeof(*t->pairs));
  nfh__exf_map_free(&t->map);
  free(t->cov);
  free(t->cov_hours);
  free(t->cov_slots);
  nfh_door_destroy(t->door);
  free(t);
}

static uint64_t weight(const void *record) {
  const nfh__exf_pair *p = record;
  return p->f_out + p->f_in + p->c_out + p->c_in;
}

static void drop_pair(void *p) { free_cells(p); }

/* Drops the lighter half of the pairs: those that moved the fewest bytes
 * cannot be the transfers this detector looks for, and if one grows
 * later its first bytes are a rounding error. 0 or -1 (out of memory:
 * the map could not be rebuilt). */
static int prune(nfh__exf_track *t) {
  t->prunes++;
  return nfh__exf_prune_table(&t->map, t->pairs, sizeof(*t->pairs), &t->n,
                              t->n / 2, weight, drop_pair);
}

/* How get() treats a pair that is not in the table. */
enum get_mode {
  FIND_ONLY,
  CREATE,       /* always */
  CREATE_SEEN,  /* when the table has room, or the pair was seen before
                   at the door of the full table */
  CREATE_ROOM,  /* when the table has room */
};

/* The pair (in, ex). NULL when it is absent and not created (FIND_ONLY,
 * or CREATE_SEEN stopped at the door: *stopped is then set), or when
 * memory ran out (*stopped stays 0).
 *
 * The door: over high-cardinality traffic (every flow to another
 * address) the full table used to prune half of itself every max/2
 * flows, each prune and rebuild costing more than the flows themselves.
 * A pair seen once after the table was first full moved one record's bytes,
 * below big_bytes/8 (callers pass bigger ones with CREATE): it waits
 * for its second record. A transfer of many records loses the bytes of
 * its first, which the connection totals still carry. */
static nfh__exf_key pair_key(const nfh_addr *in, const nfh_addr *ex) {
  nfh__exf_key k;
  memset(&k, 0, sizeof(k));
  k.a = *in;
  k.b = *ex;
  return k;
}

uint64_t nfh__exf_track_hash(const nfh_addr *in, const nfh_addr *ex) {
  nfh__exf_key k = pair_key(in, ex);
  return nfh__exf_key_hash(&k);
}

void nfh__exf_track_prefetch(const nfh__exf_track *t, uint64_t hash,
                             int stage) {
  if (stage == 0)
    nfh__exf_map_prefetch(&t->map, hash);
  else {
    nfh__exf_map_prefetch_record(&t->map, t->pairs, sizeof(*t->pairs),
                                 hash);
    nfh_door_prefetch(t->door, hash);
  }
}

/* 'hash' is the key's hash, or 0 to compute it here when needed. */
static nfh__exf_pair *get_hashed(nfh__exf_track *t, const nfh_addr *in,
                                 const nfh_addr *ex, uint64_t hash,
                                 enum get_mode mode, int back_only,
                                 int *stopped) {
  nfh__exf_key k = pair_key(in, ex);
  uint64_t h = hash ? hash : nfh__exf_key_hash(&k);
  if (t->has_last && t->last_hash == h && t->last_pair < t->n &&
      nfh__exf_key_equal(&t->pairs[t->last_pair].k, &k))
    return &t->pairs[t->last_pair];
  int64_t idx = nfh__exf_map_find(&t->map, t->pairs, sizeof(*t->pairs), &k,
                                  h);
  if (idx >= 0) {
    t->last_pair = (uint32_t)idx;
    t->last_hash = h;
    t->has_last = 1;
    return &t->pairs[idx];
  }
  if (mode == FIND_ONLY)
    return NULL;
  /* Once the table has been full, the traffic has more pairs than it
   * holds: the door stays in use, or every prune would make room for
   * another max/2 pairs seen once, and the next prune would follow. */
  int pressed = t->n >= t->max || t->prunes > 0;
  if (mode == CREATE_ROOM && pressed) {
    *stopped = 1;
    return NULL;
  }
  if (mode == CREATE_SEEN && pressed) {
    if (!t->door && nfh_door_create(t->max, &t->door) != NFH_OK)
      return NULL;
    /* The two directions of one exchange are one sighting: a short
     * session sends a record each way. Seen again means a second record
     * the same way: a session cut by the active timeout, or another
     * connection. */
    uint64_t door_key = back_only ? h ^ 0x5bd1e9955bd1e995ull : h;
    if (!nfh_door_pass(t->door, door_key)) {
      *stopped = 1;
      return NULL;
    }
  }
  t->has_last = 0; /* a prune below reorders the pairs */
  if (t->n >= t->max && prune(t) != 0)
    return NULL;
  if (t->n == t->cap) {
    uint32_t cap = t->cap ? 2 * t->cap : 1024;
    if (cap > t->max)
      cap = t->max;
    nfh__exf_pair *grown =
        nfh_hugemem_resize(t->pairs, (size_t)t->cap * sizeof(*grown),
                           (size_t)cap * sizeof(*grown));
    if (!grown)
      return NULL;
    t->pairs = grown;
    t->cap = cap;
  }
  nfh__exf_pair *p = &t->pairs[t->n];
  memset(p, 0, sizeof(*p));
  p->k = k;
  if (nfh__exf_map_put(&t->map, t->pairs, sizeof(*t->pairs), h, t->n) != 0)
    return NULL;
  t->last_pair = t->n;
  t->last_hash = h;
  t->has_last = 1;
  t->n++;
  return p;
}

/* The cell of 'hour', inserted in hour order when missing; NULL when
 * out of memory. Records arrive nearly in time order, so the search
 * starts from the latest cell. */
static nfh__exf_cell *cell_for(nfh__exf_pair *p, uint32_t hour) {
  uint32_t i = p->ncells;
  while (i > 0 && nfh__exf_pair_cell(p, i - 1)->hour > hour)
    i--;
  if (i > 0 && nfh__exf_pair_cell(p, i - 1)->hour == hour)
    return nfh__exf_pair_cell(p, i - 1);
  if (p->ncells >= 1 && p->ncells - 1 == p->capcells) {
    uint32_t cap = p->capcells ? 2 * p->capcells : 2;
    nfh__exf_cell *grown = realloc(p->more, (size_t)cap * sizeof(*grown));
    if (!grown)
      return NULL;
    p->more = grown;
    p->capcells = cap;
  }
  /* Shift cells i.. one up (across 'one' and 'more'). */
  for (uint32_t j = p->ncells; j > i; j--)
    *nfh__exf_pair_cell(p, j) = *nfh__exf_pair_cell(p, j - 1);
  nfh__exf_cell *c = nfh__exf_pair_cell(p, i);
  memset(c, 0, sizeof(*c));
  c->hour = hour;
  p->ncells++;
  return c;
}

/* v * f, plus 'round' (0.5 rounds, 0 truncates), for a share f in
 * [0, 1], saturating (nfh__exf_count). */
static uint64_t scaled(uint64_t v, double f, double round) {
  return nfh__exf_count((double)v * f + round);
}

/* The second of hour h (plus one) that ms falls in, clamped to the
 * hour. */
static uint16_t second_of_hour(uint32_t h, uint64_t ms) {
  uint64_t start = (uint64_t)h * NFH_EXF_HOUR_MS;
  uint64_t s = ms > start ? (ms - start) / 1000 : 0;
  return (uint16_t)(s > 3599 ? 3600 : s + 1);
}

/* Adds out/back to the cell of hour h, out seen in [a, b]. */
static void cell_add(nfh__exf_cell *c, uint64_t out, uint64_t back, uint64_t a,
                     uint64_t b) {
  c->out += out;
  c->in += back;
  if (out)
    nfh__exf_span_merge(&c->first_s1, &c->last_s1, second_of_hour(c->hour, a),
                        second_of_hour(c->hour, b));
}

/* Spreads out/back over the hours of [first, last] by time share. */
static int spread(nfh__exf_pair *p, uint64_t out, uint64_t back,
                  uint64_t first, uint64_t last) {
  if (last < first)
    last = first;
  if (last - first > MAX_SPAN_MS)
    first = last - MAX_SPAN_MS;
  uint32_t h0 = (uint32_t)(first / NFH_EXF_HOUR_MS);
  uint32_t h1 = (uint32_t)(last / NFH_EXF_HOUR_MS);
  if (h0 == h1) {
    nfh__exf_cell *c = cell_for(p, h0);
    if (!c)
      return -1;
    cell_add(c, out, back, first, last);
    return 0;
  }
  double span = (double)(last - first);
  uint64_t done_out = 0, done_back = 0;
  for (uint32_t h = h0; h <= h1; h++) {
    uint64_t a = (uint64_t)h * NFH_EXF_HOUR_MS, b = a + NFH_EXF_HOUR_MS;
    if (a < first)
      a = first;
    if (b > last)
      b = last;
    uint64_t o, i;
    if (h == h1) { /* the remainder, so that the sums stay exact */
      o = out - done_out;
      i = back - done_back;
    } else {
      double share = (double)(b - a) / span;
      o = scaled(out, share, 0);
      i = scaled(back, share, 0);
      if (o > out - done_out)
        o = out - done_out;
      if (i > back - done_back)
        i = back - done_back;
    }
    done_out += o;
    done_back += i;
    if (!o && !i)
      continue;
    nfh__exf_cell *c = cell_for(p, h);
    if (!c)
      return -1;
    cell_add(c, o, i, a, b);
  }
  return 0;
}

int nfh__exf_track_flow_hashed(nfh__exf_track *t, const nfh_addr *in,
                               const nfh_addr *ex, uint64_t hash,
                               uint64_t out, uint64_t back,
                               uint64_t first_ms, uint64_t last_ms) {
  int stopped = 0;
  nfh__exf_pair *p =
      get_hashed(t, in, ex, hash,
                 out + back >= t->big_bytes / 8 ? CREATE : CREATE_SEEN,
                 out == 0, &stopped);
  if (!p) {
    if (!stopped)
      return -1;
    t->skipped_bytes += out + back;
    return 0;
  }
  p->f_out += out;
  p->f_in += back;
  return spread(p, out, back, first_ms, last_ms);
}

int nfh__exf_track_conn(nfh__exf_track *t, const nfh_conn *c,
                        int internal_client, uint64_t hash) {
  if (!internal_client) {
    nfh__exf_pair *p =
        get_hashed(t, &c->server, &c->client, hash, FIND_ONLY, 0, NULL);
    if (p) {
      p->s_out += c->server_bytes;
      p->s_in += c->client_bytes;
    }
    return 0;
  }
  /* A connection of a pair kept out at the door is counted only when it
   * is big: its records were stopped at the door, so they were small and
   * so is it, unless they were. It is not a second sighting of the pair:
   * it is the same record again. */
  int stopped = 0;
  nfh__exf_pair *p =
      get_hashed(t, &c->client, &c->server, hash,
                 c->client_bytes >= t->big_bytes / 8 ? CREATE : CREATE_ROOM,
                 0, &stopped);
  if (!p)
    return stopped ? 0 : -1;
  p->c_out += c->client_bytes;
  p->c_in += c->server_bytes;
  p->c_pkts += c->client_packets;
  if (!p->conns || c->first_ms < p->first_ms)
    p->first_ms = c->first_ms;
  if (c->last_ms > p->last_ms)
    p->last_ms = c->last_ms;
  if (c->client_bytes >= t->big_bytes) {
    if (!p->b_first || c->first_ms < p->b_first)
      p->b_first = c->first_ms;
    if (c->last_ms > p->b_last)
      p->b_last = c->last_ms;
  }
  if (!p->conns || c->client_bytes > p->port_bytes) {
    p->port_bytes = c->client_bytes;
    p->port = c->server_port;
    p->proto = c->proto;
  }
  p->conns++;
  if (c->flags & NFH_CONN_DIRECTION_GUESSED)
    p->guessed++;
  if (c->flags & NFH_CONN_SAMPLED)
    p->sampled++;
  if (c->sampling > p->max_sampling)
    p->max_sampling = c->sampling;
  return 0;
}

void nfh__exf_track_seen(nfh__exf_track *t, uint64_t ms) {
  uint64_t slot = ms / SLOT_MS;
  if (slot == t->last_slot)
    return;
  t->last_slot = slot;
  uint32_t hour = (uint32_t)(slot / 12);
  size_t lo = 0, hi = t->ncov;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (t->cov[mid].hour < hour)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == t->ncov || t->cov[lo].hour != hour) {
    if (t->ncov == t->capcov) {
      size_t cap = t->capcov ? 2 * t->capcov : 64;
      hour_cov *grown = realloc(t->cov, cap * sizeof(*grown));
      if (!grown)
        return; /* coverage is advisory: a lost hour is not learned */
      t->cov = grown;
      t->capcov = cap;
    }
    memmove(&t->cov[lo + 1], &t->cov[lo], (t->ncov - lo) * sizeof(*t->cov));
    t->cov[lo].hour = hour;
    t->cov[lo].slots = 0;
    t->ncov++;
  }
  t->cov[lo].slots |= (uint16_t)(1u << (slot % 12));
}

static unsigned popcount12(uint16_t v) {
  return (unsigned)__builtin_popcount(v & 0xfffu);
}

unsigned nfh__exf_track_coverage(const nfh__exf_track *t, uint32_t hour) {
  return popcount12(nfh__exf_track_slots(t, hour));
}

uint16_t nfh__exf_track_slots(const nfh__exf_track *t, uint32_t hour) {
  size_t lo = 0, hi = t->ncov;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (t->cov[mid].hour < hour)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < t->ncov && t->cov[lo].hour == hour ? t->cov[lo].slots : 0;
}

const uint32_t *nfh__exf_track_hours(nfh__exf_track *t, size_t *n,
                                     const uint8_t **slots) {
  nfh__exf_track *w = t;
  *n = 0;
  *slots = NULL;
  uint32_t *h = realloc(w->cov_hours, (t->ncov ? t->ncov : 1) * 4);
  if (!h)
    return NULL;
  w->cov_hours = h;
  uint8_t *s = realloc(w->cov_slots, t->ncov ? t->ncov : 1);
  if (!s)
    return NULL;
  w->cov_slots = s;
  for (size_t i = 0; i < t->ncov; i++) {
    h[i] = t->cov[i].hour;
    s[i] = (uint8_t)popcount12(t->cov[i].slots);
  }
  *n = t->ncov;
  *slots = s;
  return h;
}

nfh__exf_pair *nfh__exf_track_pairs(nfh__exf_track *t, size_t *n) {
  *n = t->n;
  return t->pairs;
}

nfh__exf_pair *nfh__exf_track_find(nfh__exf_track *t, const nfh_addr *in,
                                   const nfh_addr *ex) {
  return get_hashed(t, in, ex, 0, FIND_ONLY, 0, NULL);
}

uint32_t nfh__exf_track_prunes(const nfh__exf_track *t) { return t->prunes; }

uint64_t nfh__exf_track_stopped_bytes(const nfh__exf_track *t) {
  return t->skipped_bytes;
}

uint64_t nfh__exf_track_stopped(const nfh__exf_track *t) {
  return t->door ? nfh_door_stopped(t->door) : 0;
}

int nfh__exf_pair_attribute(nfh__exf_pair *p) {
  uint64_t cell_out = 0;
  for (uint32_t i = 0; i < p->ncells; i++)
    cell_out += nfh__exf_pair_cell(p, i)->out;
  double fo = p->c_out + p->s_out
                  ? (double)p->c_out / (double)(p->c_out + p->s_out)
                  : 0;
  double fi = p->c_in + p->s_in
                  ? (double)p->c_in / (double)(p->c_in + p->s_in)
                  : 0;
  if (p->c_out && (double)cell_out * fo < 0.5 * (double)p->c_out) {
    /* The flow records of this pair were pruned or skipped: fall back
     * on its connections, spread evenly over their span. */
    free_cells(p);
    return spread(p, p->c_out, p->c_in, p->first_ms, p->last_ms);
  }
  for (uint32_t i = 0; i < p->ncells; i++) {
    nfh__exf_cell *c = nfh__exf_pair_cell(p, i);
    c->out = scaled(c->out, fo, 0.5);
    c->in = scaled(c->in, fi, 0.5);
  }
  return 0;
}

int nfh__exf_pair_absorb(nfh__exf_pair *into, nfh__exf_pair *from) {
  for (uint32_t i = 0; i < from->ncells; i++) {
    const nfh__exf_cell *f = nfh__exf_pair_cell(from, i);
    nfh__exf_cell *c = cell_for(into, f->hour);
    if (!c)
      return -1;
    c->out += f->out;
    c->in += f->in;
    nfh__exf_span_merge(&c->first_s1, &c->last_s1, f->first_s1, f->last_s1);
  }
  into->f_out += from->f_out;
  into->f_in += from->f_in;
  into->c_out += from->c_out;
  into->c_in += from->c_in;
  into->s_out += from->s_out;
  into->s_in += from->s_in;
  into->c_pkts += from->c_pkts;
  into->conns += from->conns;
  into->guessed += from->guessed;
  into->sampled += from->sampled;
  if (from->max_sampling > into->max_sampling)
    into->max_sampling = from->max_sampling;
  if (from->first_ms && (!into->first_ms || from->first_ms < into->first_ms))
    into->first_ms = from->first_ms;
  if (from->last_ms > into->last_ms)
    into->last_ms = from->last_ms;
  if (from->b_first && (!into->b_first || from->b_first < into->b_first))
    into->b_first = from->b_first;
  if (from->b_last > into->b_last)
    into->b_last = from->b_last;
  if (from->port_bytes > into->port_bytes) {
    into->port_bytes = from->port_bytes;
    into->port = from->port;
  }
  free_cells(from);
  nfh__exf_key k = from->k;
  memset(from, 0, sizeof(*from));
  from->k = k;
  return 0;
}
