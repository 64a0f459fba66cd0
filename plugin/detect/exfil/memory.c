/* memory.c - the exfiltration detector's state; see memory.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/blob.h>
#include <nfhunt/door.h>
#include <nfhunt/hugemem.h>

#include "memory.h"

#define MAGIC "NFHEXF1"
/* 2: the destination table's door and whether the table was ever full
 * follow the pairs (1: without). 3: the DNS pairs follow the door. 4:
 * the hosts' partial hours follow the DNS pairs. 5: a pair's hour holds
 * the seconds its bytes out went in (16 bytes, 12 before). 6: pools
 * among the destinations (an older reader would call them damage). */
#define VERSION 6u
#define BLOB_LIMIT ((size_t)256 << 20)
#define HOUR_MS 3600000ull

struct nfh__exf_memory {
  const nfh__exf_params *p;
  nfh__exf_dest *dests;
  uint32_t ndests, capdests;
  nfh__exf_map dmap;
  nfh__exf_host *hosts;
  uint32_t nhosts, caphosts;
  nfh__exf_map hmap;
  nfh__exf_spair *pairs;
  uint32_t npairs, cappairs;
  nfh__exf_map pmap;
  nfh__exf_dpair *dpairs;
  uint32_t ndpairs, capdpairs;
  nfh__exf_map dpmap;
  /* Admission of new destinations to the full table on contact (see
   * nfh__exf_dest_contact); created when first full. */
  nfh_door *ddoor;
  int dests_pressed; /* the destination table was full once */
};

/* ------------------------------------------------------------- helpers */

static nfh__exf_key key1(const nfh_addr *a, uint8_t tag) {
  nfh__exf_key k;
  memset(&k, 0, sizeof(k));
  k.a = *a;
  k.b.family = tag;
  return k;
}

static nfh__exf_key key2(const nfh_addr *a, const nfh_addr *b) {
  nfh__exf_key k;
  memset(&k, 0, sizeof(k));
  k.a = *a;
  k.b = *b;
  return k;
}

/* The /24 of an IPv4 address, the /48 of an IPv6 one. */
/* NAT64 addresses (64:ff9b::/96) are IPv4 hosts: their /24 and /16, not
 * the prefix's /48, which holds all of IPv4 (a 2 GB theft through NAT64
 * was medium: "network prevalence 10"; tester F). */
static nfh_addr network_of(const nfh_addr *a) {
  nfh_addr n = *a;
  unsigned keep = a->family == 4 || nfh_addr_nat64(a, NULL)
                      ? 15
                      : 6; /* bytes kept of the 16 */
  memset(n.bytes + keep, 0, 16 - keep);
  return n;
}

nfh_addr nfh__exf_pool_of(const nfh_addr *a, int *prefix) {
  nfh_addr n = *a;
  int nat64 = nfh_addr_nat64(a, NULL);
  unsigned keep = a->family == 4 || nat64 ? 14 : 4; /* bytes of the 16 */
  memset(n.bytes + keep, 0, 16 - keep);
  if (prefix)
    *prefix = a->family == 4 ? 16 : nat64 ? 112 : 32;
  return n;
}

/* The address as a destination entry of kind 'kind' holds it. */
static nfh_addr dest_addr_of(const nfh_addr *a, int kind) {
  return kind == NFH_EXF_DEST_NET    ? network_of(a)
         : kind == NFH_EXF_DEST_POOL ? nfh__exf_pool_of(a, NULL)
                                     : *a;
}

uint32_t nfh__exf_host_hash(const nfh_addr *addr) {
  nfh__exf_key k = key1(addr, 0);
  uint64_t h = nfh__exf_key_hash(&k);
  uint32_t v = (uint32_t)(h ^ (h >> 32));
  return v ? v : 1;
}

unsigned nfh__exf_hset_count(const nfh__exf_hset *s, unsigned popular) {
  return s->sat ? popular : s->n;
}

int nfh__exf_hset_has(const nfh__exf_hset *s, uint32_t h) {
  for (unsigned i = 0; i < s->n; i++)
    if (s->v[i] == h)
      return 1;
  return 0;
}

/* Adds a hash; 0 or -1 (out of memory, set unchanged). */
static int hset_add(nfh__exf_hset *s, uint32_t h, unsigned cap) {
  if (s->sat)
    return 0;
  for (unsigned i = 0; i < s->n; i++)
    if (s->v[i] == h)
      return 0;
  if (s->n >= cap) {
    s->sat = 1;
    return 0;
  }
  if (s->n == s->cap) {
    unsigned c = s->cap ? 2u * s->cap : 2u;
    if (c > cap)
      c = cap;
    uint32_t *grown = realloc(s->v, c * sizeof(uint32_t));
    if (!grown)
      return -1;
    s->v = grown;
    s->cap = (uint8_t)c;
  }
  s->v[s->n++] = h;
  return 0;
}

/* Renames hash 'from' to 'to' in the set (dropped when 'to' is in it
 * already): one host under a new address. */
static void hset_rename(nfh__exf_hset *s, uint32_t from, uint32_t to) {
  for (unsigned i = 0; i < s->n; i++)
    if (s->v[i] == from) {
      if (nfh__exf_hset_has(s, to))
        s->v[i] = s->v[--s->n];
      else
        s->v[i] = to;
      return;
    }
}

static void dest_free(nfh__exf_dest *d) {
  free(d->hosts.v);
  free(d->uploaders.v);
}

/* ------------------------------------------------------ create/destroy */

nfh__exf_memory *nfh__exf_memory_create(const nfh__exf_params *p) {
  nfh__exf_memory *m = calloc(1, sizeof(*m));
  if (m)
    m->p = p;
  return m;
}

static void clear(nfh__exf_memory *m) {
  for (uint32_t i = 0; i < m->ndests; i++)
    dest_free(&m->dests[i]);
  for (uint32_t i = 0; i < m->npairs; i++)
    free(m->pairs[i].hist);
  for (uint32_t i = 0; i < m->ndpairs; i++)
    free(m->dpairs[i].hours);
  nfh_hugemem_free(m->dpairs, (size_t)m->capdpairs * sizeof(*m->dpairs));
  nfh__exf_map_free(&m->dpmap);
  nfh_hugemem_free(m->dests, (size_t)m->capdests * sizeof(*m->dests));
  nfh_hugemem_free(m->hosts, (size_t)m->caphosts * sizeof(*m->hosts));
  nfh_hugemem_free(m->pairs, (size_t)m->cappairs * sizeof(*m->pairs));
  nfh__exf_map_free(&m->dmap);
  nfh__exf_map_free(&m->hmap);
  nfh__exf_map_free(&m->pmap);
  nfh_door_destroy(m->ddoor);
  const nfh__exf_params *p = m->p;
  memset(m, 0, sizeof(*m));
  m->p = p;
}

void nfh__exf_memory_destroy(nfh__exf_memory *m) {
  if (!m)
    return;
  clear(m);
  free(m);
}

void nfh__exf_memory_counts(const nfh__exf_memory *m, size_t *dests,
                            size_t *hosts, size_t *pairs) {
  *dests = m->ndests;
  *hosts = m->nhosts;
  *pairs = m->npairs;
}

/* Makes room for one more record in a dense array. 0 or -1. */
static int reserve(void **arr, uint32_t *cap, uint32_t n, size_t size) {
  if (n < *cap)
    return 0;
  uint32_t c = *cap ? 2 * *cap : 256;
  void *grown = nfh_hugemem_resize(*arr, (size_t)*cap * size, (size_t)c * size);
  if (!grown)
    return -1;
  *arr = grown;
  *cap = c;
  return 0;
}

/* -------------------------------------------------------- destinations */

static int dest_rank(const nfh__exf_dest *d) {
  /* What to keep first when the table is full: destinations that were
   * uploaded to or are shared (they decide findings), then the rest. */
  return (d->uploaders.n ? 4 : 0) + (d->hosts.n > 1 || d->hosts.sat ? 2 : 0) +
         (d->k.b.family != NFH_EXF_DEST_ADDR ? 1 : 0);
}

/* What dests_prune keeps first: the rank, then the latest seen. */
static uint64_t dest_keep_key(const void *record) {
  const nfh__exf_dest *d = record;
  uint64_t ms = d->last_ms < (1ull << 60) ? d->last_ms : (1ull << 60) - 1;
  return (uint64_t)dest_rank(d) << 60 | ms;
}

static void dest_drop(void *d) { dest_free(d); }

/* Drops a quarter of the destinations: singletons seen longest ago
 * first. 0 or -1 (the map could not be rebuilt). */
static int dests_prune(nfh__exf_memory *m, uint32_t keep) {
  return nfh__exf_prune_table(&m->dmap, m->dests, sizeof(*m->dests),
                              &m->ndests, keep, dest_keep_key, dest_drop);
}

/* The destination with key k (hash h) added, or NULL when out of
 * memory; prunes a full table first. */
static nfh__exf_dest *dest_add(nfh__exf_memory *m, const nfh__exf_key *k,
                               uint64_t h, uint64_t ms) {
  if (m->ndests >= (uint32_t)m->p->max_dests) {
    m->dests_pressed = 1;
    if (dests_prune(m, (uint32_t)(m->p->max_dests * 3 / 4)) != 0)
      return NULL;
  }
  if (reserve((void **)&m->dests, &m->capdests, m->ndests,
              sizeof(*m->dests)) != 0)
    return NULL;
  nfh__exf_dest *d = &m->dests[m->ndests];
  memset(d, 0, sizeof(*d));
  d->k = *k;
  d->first_ms = d->last_ms = ms;
  if (nfh__exf_map_put(&m->dmap, m->dests, sizeof(*m->dests), h,
                       m->ndests) != 0)
    return NULL;
  m->ndests++;
  return d;
}

static nfh__exf_dest *dest_get(nfh__exf_memory *m, const nfh_addr *a,
                               uint8_t kind, uint64_t ms) {
  nfh__exf_key k = key1(a, kind);
  uint64_t h = nfh__exf_key_hash(&k);
  int64_t i = nfh__exf_map_find(&m->dmap, m->dests, sizeof(*m->dests), &k, h);
  return i >= 0 ? &m->dests[i] : dest_add(m, &k, h, ms);
}

static void touch(nfh__exf_dest *d, uint64_t ms) {
  if (ms && (!d->first_ms || ms < d->first_ms))
    d->first_ms = ms;
  if (ms > d->last_ms)
    d->last_ms = ms;
}

void nfh__exf_dest_prefetch(const nfh__exf_memory *m, const nfh_addr *addr,
                            int stage, uint64_t hash[2]) {
  if (stage == 0) {
    nfh__exf_key k = key1(addr, NFH_EXF_DEST_ADDR);
    hash[0] = nfh__exf_key_hash(&k);
    nfh_addr net = network_of(addr);
    k = key1(&net, NFH_EXF_DEST_NET);
    hash[1] = nfh__exf_key_hash(&k);
    nfh__exf_map_prefetch(&m->dmap, hash[0]);
    nfh__exf_map_prefetch(&m->dmap, hash[1]);
    return;
  }
  nfh__exf_map_prefetch_record(&m->dmap, m->dests, sizeof(*m->dests),
                               hash[0]);
  nfh__exf_map_prefetch_record(&m->dmap, m->dests, sizeof(*m->dests),
                               hash[1]);
  nfh_door_prefetch(m->ddoor, hash[0]);
}

/* The destination of key k (hash h), found, or added: while the table
 * has never been full, always; after that, only when seen before at the
 * door. Over traffic to ever new addresses, every contact used to evict
 * a quarter of the table every max_dests/4 contacts; a destination
 * contacted once stays unknown, and unknown is what the detector treats
 * as rare anyway. NULL with *stopped set when kept out, NULL alone when
 * out of memory. */
static nfh__exf_dest *dest_contacted(nfh__exf_memory *m,
                                     const nfh__exf_key *k, uint64_t h,
                                     uint64_t ms, int *stopped) {
  int64_t i = nfh__exf_map_find(&m->dmap, m->dests, sizeof(*m->dests), k, h);
  if (i >= 0)
    return &m->dests[i];
  if (m->dests_pressed) {
    if (!m->ddoor &&
        nfh_door_create((uint32_t)m->p->max_dests, &m->ddoor) != NFH_OK)
      return NULL;
    if (!nfh_door_pass(m->ddoor, h)) {
      *stopped = 1;
      return NULL;
    }
  }
  return dest_add(m, k, h, ms);
}

int nfh__exf_dest_contact(nfh__exf_memory *m, const nfh_addr *addr,
                          const uint64_t hash[2], uint32_t host_hash,
                          uint64_t ms) {
  unsigned cap = (unsigned)m->p->popular_hosts;
  nfh__exf_key k = key1(addr, NFH_EXF_DEST_ADDR);
  int stopped = 0;
  nfh__exf_dest *d = dest_contacted(m, &k, hash[0], ms, &stopped);
  if (!d)
    return stopped ? 0 : -1;
  touch(d, ms);
  if (hset_add(&d->hosts, host_hash, cap) != 0)
    return -1;
  nfh_addr net = network_of(addr);
  k = key1(&net, NFH_EXF_DEST_NET);
  d = dest_contacted(m, &k, hash[1], ms, &stopped);
  if (!d)
    return stopped ? 0 : -1;
  touch(d, ms);
  return hset_add(&d->hosts, host_hash, cap);
}

int nfh__exf_dest_upload(nfh__exf_memory *m, const nfh_addr *addr,
                         uint32_t host_hash, uint64_t ms) {
  nfh__exf_dest *d = dest_get(m, addr, NFH_EXF_DEST_ADDR, ms);
  if (!d)
    return -1;
  touch(d, ms);
  unsigned cap = (unsigned)m->p->popular_hosts;
  if (hset_add(&d->hosts, host_hash, cap) != 0 ||
      hset_add(&d->uploaders, host_hash, cap) != 0)
    return -1;
  /* Its network's uploaders too: a registry or a storage service spreads
   * its clients over addresses of its networks. */
  nfh_addr net = network_of(addr);
  d = dest_get(m, &net, NFH_EXF_DEST_NET, ms);
  if (!d)
    return -1;
  touch(d, ms);
  if (hset_add(&d->hosts, host_hash, cap) != 0 ||
      hset_add(&d->uploaders, host_hash, cap) != 0)
    return -1;
  /* And its pool's, with the networks in it uploaded to. */
  nfh_addr pool = nfh__exf_pool_of(addr, NULL);
  d = dest_get(m, &pool, NFH_EXF_DEST_POOL, ms);
  if (!d)
    return -1;
  touch(d, ms);
  if (hset_add(&d->hosts, nfh__exf_host_hash(&net), cap) != 0)
    return -1;
  return hset_add(&d->uploaders, host_hash, cap);
}

const nfh__exf_dest *nfh__exf_dest_find(const nfh__exf_memory *m,
                                        const nfh_addr *addr, int kind) {
  nfh_addr a = dest_addr_of(addr, kind);
  nfh__exf_key k = key1(&a, (uint8_t)kind);
  int64_t i = nfh__exf_map_find(&m->dmap, m->dests, sizeof(*m->dests), &k,
                                nfh__exf_key_hash(&k));
  return i >= 0 ? &m->dests[i] : NULL;
}

/* --------------------------------------------------------------- hosts */

static double q_of(double bytes) {
  return 4.0 * log2(1.0 + (bytes > 0 ? bytes : 0) / 1024.0);
}

static double bytes_of(double q) { return (exp2(q / 4.0) - 1.0) * 1024.0; }

/* The weight of a cell's n-th observation in its mean: the first ones
 * weigh equally, later ones 1/5: a cell sees one hour a day (or a
 * week), so it must settle within days. */
static double learn_rate(unsigned n) { return n < 5 ? 1.0 / n : 0.2; }

static void cell_learn(nfh__exf_bcell *c, double q) {
  if (c->n < 255)
    c->n++;
  double alpha = learn_rate(c->n);
  double mean = c->mean / 256.0;
  mean += alpha * (q - mean);
  if (mean < 0)
    mean = 0;
  c->mean = (uint16_t)(mean * 256.0 + 0.5);
  /* The peak follows a bigger hour at once and sinks by one step (about
   * 16%) per smaller one, so a habit that stops is forgotten in weeks. */
  double peak = c->peak;
  if (q >= peak)
    peak = q;
  else
    peak = peak - 1 > q ? peak - 1 : q;
  if (c->n == 1)
    peak = q;
  c->peak = (uint8_t)(peak > 255 ? 255 : peak + 0.5);
}

/* The host's index in m->hosts, or -1. */
static int64_t host_slot(const nfh__exf_memory *m, const nfh_addr *addr) {
  nfh__exf_key k = key1(addr, 0);
  return nfh__exf_map_find(&m->hmap, m->hosts, sizeof(*m->hosts), &k,
                           nfh__exf_key_hash(&k));
}

const nfh__exf_host *nfh__exf_host_find(const nfh__exf_memory *m,
                                        const nfh_addr *addr) {
  int64_t i = host_slot(m, addr);
  return i >= 0 ? &m->hosts[i] : NULL;
}

/* The usual of cell c before it learned one hour of q (its last): the
 * mean with that hour taken out (cell_learn's step undone), in bytes;
 * -1 when the cell was not mature without it. */
static double usual_without(const nfh__exf_bcell *c, double q, unsigned min) {
  if (c->n < 2 || (unsigned)c->n - 1 < min)
    return -1;
  double a = learn_rate(c->n);
  double prior = (c->mean / 256.0 - a * q) / (1 - a);
  return bytes_of(prior > 0 ? prior : 0);
}

int nfh__exf_host_usual(const nfh__exf_params *p, const nfh__exf_host *h,
                        nfh__exf_when w, double learned, double *bytes,
                        unsigned *seen) {
  *bytes = 0;
  *seen = 0;
  if (!h)
    return 0;
  int tol = (int)p->season_tolerance;
  for (int level = 2; level >= 1; level--) {
    const nfh__exf_bcell *cells = level == 2 ? h->how : h->hod;
    int period = level == 2 ? NFH_EXF_HOW : NFH_EXF_HOD;
    int at = level == 2 ? (int)w.how : (int)w.hod;
    unsigned min = (unsigned)(level == 2 ? p->how_min : p->hod_min);
    int found = 0;
    double best = 0;
    unsigned n = 0;
    for (int d = -tol; d <= tol; d++) {
      const nfh__exf_bcell *c = &cells[((at + d) % period + period) % period];
      if (c->n < min)
        continue;
      double b = bytes_of(c->peak);
      /* The episode's own hour, taught by an earlier run, made the peak:
       * a theft of 48 GB in a backup's hour became the usual it was
       * judged against an hour later ("a routine"). */
      double ql = learned > 0 ? q_of(learned) : 0;
      if (d == 0 && learned > 0 && c->peak <= ql + 1.0) {
        b = usual_without(c, ql, min);
        if (b < 0)
          continue;
      }
      if (!found || b > best) {
        best = b;
        n = c->n;
      }
      found = 1;
    }
    if (found) {
      *bytes = best;
      *seen = n;
      return level;
    }
  }
  return 0;
}

/* The host's index, created when 'rate' (bytes an hour) reaches
 * host_floor and there is room; -1 none, -2 out of memory. */
static int64_t host_index(nfh__exf_memory *m, const nfh_addr *addr,
                          double rate) {
  int64_t i = host_slot(m, addr);
  if (i >= 0)
    return i;
  if (rate < m->p->host_floor || m->nhosts >= (uint32_t)m->p->max_hosts)
    return -1;
  nfh__exf_key k = key1(addr, 0);
  uint64_t h = nfh__exf_key_hash(&k);
  if (reserve((void **)&m->hosts, &m->caphosts, m->nhosts,
              sizeof(*m->hosts)) != 0)
    return -2;
  memset(&m->hosts[m->nhosts], 0, sizeof(*m->hosts));
  m->hosts[m->nhosts].k = k;
  if (nfh__exf_map_put(&m->hmap, m->hosts, sizeof(*m->hosts), h,
                       m->nhosts) != 0)
    return -2;
  return m->nhosts++;
}

int nfh__exf_host_learn(nfh__exf_memory *m, const nfh_addr *addr,
                        nfh__exf_when w, double bytes, uint64_t ms) {
  int64_t i = host_index(m, addr, bytes);
  if (i < 0)
    return i == -1 ? 0 : -1;
  nfh__exf_host *host = &m->hosts[i];
  double q = q_of(bytes);
  cell_learn(&host->hod[w.hod], q);
  cell_learn(&host->how[w.how], q);
  if (ms > host->last_ms)
    host->last_ms = ms;
  return 0;
}

static uint64_t sat_add64(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The 5-minute slots of an hour set in mask (bits 0-11). */
static unsigned slots_in(uint16_t mask) {
  return (unsigned)__builtin_popcount(mask & 0xfffu);
}

int nfh__exf_host_learn_part(nfh__exf_memory *m, const nfh_addr *addr,
                             nfh__exf_when w, uint32_t hour, uint16_t mask,
                             double bytes, unsigned covered) {
  unsigned seen = slots_in(mask);
  if (!seen)
    return 0;
  int64_t i = host_index(m, addr, bytes * 12.0 / seen);
  if (i < 0)
    return i == -1 ? 0 : -1;
  nfh__exf_host *host = &m->hosts[i];
  if (host->part_hour != hour || !host->part_mask) {
    host->part_hour = hour;
    host->part_mask = 0;
    host->part_bytes = 0;
  }
  uint64_t ms = (uint64_t)hour * HOUR_MS;
  if (ms > host->last_ms)
    host->last_ms = ms;
  if (host->part_mask & NFH_EXF_PART_TAUGHT)
    return 0;
  host->part_mask |= mask & 0xfff;
  host->part_bytes = sat_add64(host->part_bytes, nfh__exf_count(bytes));
  if (slots_in(host->part_mask) >= covered) {
    double q = q_of((double)host->part_bytes);
    cell_learn(&host->hod[w.hod], q);
    cell_learn(&host->how[w.how], q);
    host->part_mask |= NFH_EXF_PART_TAUGHT;
  }
  return 0;
}

void nfh__exf_host_each(nfh__exf_memory *m,
                        void (*fn)(void *user, const nfh__exf_host *h),
                        void *user) {
  for (uint32_t i = 0; i < m->nhosts; i++)
    fn(user, &m->hosts[i]);
}

/* --------------------------------------------------------------- pairs */

const nfh__exf_spair *nfh__exf_spair_find(const nfh__exf_memory *m,
                                          const nfh_addr *in,
                                          const nfh_addr *ex) {
  nfh__exf_key k = key2(in, ex);
  int64_t i = nfh__exf_map_find(&m->pmap, m->pairs, sizeof(*m->pairs), &k,
                                nfh__exf_key_hash(&k));
  return i >= 0 ? &m->pairs[i] : NULL;
}

static void spair_drop(void *s) { free(((nfh__exf_spair *)s)->hist); }

static uint64_t spair_last(const void *s) {
  return ((const nfh__exf_spair *)s)->last_ms;
}

/* Keeps the 'keep' pairs seen most recently. 0 or -1. */
static int pairs_prune(nfh__exf_memory *m, uint32_t keep) {
  return nfh__exf_prune_table(&m->pmap, m->pairs, sizeof(*m->pairs),
                              &m->npairs, keep, spair_last, spair_drop);
}

static uint32_t kb(uint64_t bytes) {
  uint64_t v = (bytes + 1023) / 1024;
  return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint32_t sat_add(uint32_t a, uint32_t b) {
  return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* Drops the first entries of an array of n (at least one) sorted by
 * hour, each beginning with its uint32_t hour, that are keep_hours or
 * more older than the newest; returns how many are left. */
static uint16_t drop_old_hours(void *arr, size_t stride, uint16_t n,
                               uint32_t keep_hours) {
  char *base = arr;
  uint32_t newest, hour;
  memcpy(&newest, base + (size_t)(n - 1) * stride, sizeof(newest));
  uint16_t drop = 0;
  for (; drop < n; drop++) {
    memcpy(&hour, base + (size_t)drop * stride, sizeof(hour));
    if (hour + keep_hours > newest)
      break;
  }
  if (drop)
    memmove(base, base + (size_t)drop * stride, (size_t)(n - drop) * stride);
  return (uint16_t)(n - drop);
}

/* Adds an hour to the history and drops hours older than memory_hours
 * before the newest. 0 or -1. */
static int hist_add(nfh__exf_spair *s, const nfh__exf_hist *add,
                    uint32_t keep_hours) {
  uint16_t i = s->nhist;
  while (i > 0 && s->hist[i - 1].hour > add->hour)
    i--;
  if (i > 0 && s->hist[i - 1].hour == add->hour) {
    nfh__exf_hist *h = &s->hist[i - 1];
    h->out_kb = sat_add(h->out_kb, add->out_kb);
    h->in_kb = sat_add(h->in_kb, add->in_kb);
    nfh__exf_span_merge(&h->first_s1, &h->last_s1, add->first_s1, add->last_s1);
  } else {
    if (s->nhist == s->caphist) {
      uint16_t c = s->caphist ? (uint16_t)(2 * s->caphist) : 4;
      nfh__exf_hist *grown = realloc(s->hist, c * sizeof(*grown));
      if (!grown)
        return -1;
      s->hist = grown;
      s->caphist = c;
    }
    memmove(&s->hist[i + 1], &s->hist[i], (s->nhist - i) * sizeof(*s->hist));
    s->hist[i] = *add;
    s->nhist++;
  }
  s->nhist = drop_old_hours(s->hist, sizeof(*s->hist), s->nhist, keep_hours);
  return 0;
}

int nfh__exf_spair_learn(nfh__exf_memory *m, const nfh_addr *in,
                         const nfh_addr *ex, const nfh__exf_cell *cell,
                         nfh__exf_when w, int significant) {
  uint32_t hour = cell->hour;
  nfh__exf_key k = key2(in, ex);
  uint64_t h = nfh__exf_key_hash(&k);
  int64_t i = nfh__exf_map_find(&m->pmap, m->pairs, sizeof(*m->pairs), &k, h);
  uint64_t ms = (uint64_t)hour * HOUR_MS;
  if (i < 0) {
    if (!significant || m->p->max_memory_pairs < 1)
      return 0;
    if (m->npairs >= (uint32_t)m->p->max_memory_pairs &&
        pairs_prune(m, (uint32_t)(m->p->max_memory_pairs * 3 / 4)) != 0)
      return -1;
    if (reserve((void **)&m->pairs, &m->cappairs, m->npairs,
                sizeof(*m->pairs)) != 0)
      return -1;
    nfh__exf_spair *s = &m->pairs[m->npairs];
    memset(s, 0, sizeof(*s));
    s->k = k;
    s->first_ms = s->last_ms = ms;
    s->mark_day = INT64_MIN;
    if (nfh__exf_map_put(&m->pmap, m->pairs, sizeof(*m->pairs), h,
                         m->npairs) != 0)
      return -1;
    i = m->npairs++;
  }
  nfh__exf_spair *s = &m->pairs[i];
  if (ms < s->first_ms)
    s->first_ms = ms;
  if (ms > s->last_ms)
    s->last_ms = ms;
  nfh__exf_hist add = {hour, kb(cell->out), kb(cell->in), cell->first_s1,
                       cell->last_s1};
  if (hist_add(s, &add, (uint32_t)m->p->memory_hours) != 0)
    return -1;
  if (significant) {
    /* Hours are learned in time order, so one day's hours come
     * together: a day is counted once per hour of day. */
    if (w.day > s->mark_day) {
      s->mark_day = w.day;
      s->mark_mask = 0;
      if (s->days_seen < UINT16_MAX)
        s->days_seen++;
    }
    if (w.day == s->mark_day && !(s->mark_mask & (1u << w.hod))) {
      s->mark_mask |= 1u << w.hod;
      if (s->hod_days[w.hod] < 255)
        s->hod_days[w.hod]++;
    }
  }
  return 0;
}

const nfh__exf_spair *nfh__exf_spair_all(const nfh__exf_memory *m, size_t *n) {
  *n = m->npairs;
  return m->pairs;
}

static uint8_t sat_add8(uint8_t a, uint8_t b) {
  return a > 255 - b ? 255 : (uint8_t)(a + b);
}

int nfh__exf_spair_adopt(nfh__exf_memory *m, const nfh_addr *from,
                         const nfh_addr *to, const nfh_addr *ex) {
  nfh__exf_key kf = key2(from, ex), kt = key2(to, ex);
  int64_t fi = nfh__exf_map_find(&m->pmap, m->pairs, sizeof(*m->pairs), &kf,
                                 nfh__exf_key_hash(&kf));
  if (fi < 0)
    return 1;
  uint64_t ht = nfh__exf_key_hash(&kt);
  int64_t ti =
      nfh__exf_map_find(&m->pmap, m->pairs, sizeof(*m->pairs), &kt, ht);
  if (ti < 0) {
    /* The new address takes the old one's place: no pruning, one pair
     * in, one emptied. */
    if (reserve((void **)&m->pairs, &m->cappairs, m->npairs,
                sizeof(*m->pairs)) != 0 ||
        nfh__exf_map_put(&m->pmap, m->pairs, sizeof(*m->pairs), ht,
                         m->npairs) != 0)
      return -1;
    nfh__exf_spair *f = &m->pairs[fi], *t = &m->pairs[m->npairs++];
    *t = *f;
    t->k = kt;
    f->hist = NULL;
  } else {
    nfh__exf_spair *f = &m->pairs[fi], *t = &m->pairs[ti];
    /* Room first, so that a failure changes nothing. */
    uint32_t need = (uint32_t)t->nhist + f->nhist;
    if (need > t->caphist) {
      nfh__exf_hist *grown = realloc(t->hist, need * sizeof(*grown));
      if (!grown)
        return -1;
      t->hist = grown;
      t->caphist = (uint16_t)need;
    }
    for (uint16_t j = 0; j < f->nhist; j++)
      (void)hist_add(t, &f->hist[j], (uint32_t)m->p->memory_hours);
    if (f->first_ms < t->first_ms)
      t->first_ms = f->first_ms;
    if (f->last_ms > t->last_ms)
      t->last_ms = f->last_ms;
    /* Days and hours of day summed, less those both counted: the day
     * both last marked, in the hours both marked on it. */
    int same_day = f->mark_day == t->mark_day && f->days_seen && t->days_seen;
    uint32_t days = (uint32_t)t->days_seen + f->days_seen - (same_day ? 1 : 0);
    t->days_seen = (uint16_t)(days > UINT16_MAX ? UINT16_MAX : days);
    for (int c = 0; c < NFH_EXF_HOD; c++) {
      int both = same_day && (f->mark_mask & t->mark_mask & (1u << c)) &&
                 t->hod_days[c] && f->hod_days[c];
      t->hod_days[c] = sat_add8(t->hod_days[c], f->hod_days[c]);
      if (both && t->hod_days[c] < 255)
        t->hod_days[c]--;
    }
    if (f->mark_day > t->mark_day) {
      t->mark_day = f->mark_day;
      t->mark_mask = f->mark_mask;
    } else if (f->mark_day == t->mark_day) {
      t->mark_mask |= f->mark_mask;
    }
    free(f->hist);
    f->hist = NULL;
  }
  /* The destination's counts of hosts, which hold the old address. */
  uint32_t hf = nfh__exf_host_hash(from), hto = nfh__exf_host_hash(to);
  for (int kind = NFH_EXF_DEST_ADDR; kind <= NFH_EXF_DEST_POOL; kind++) {
    nfh__exf_dest *d = (nfh__exf_dest *)nfh__exf_dest_find(m, ex, kind);
    if (!d)
      continue;
    if (kind != NFH_EXF_DEST_POOL) /* a pool's 'hosts' are networks */
      hset_rename(&d->hosts, hf, hto);
    hset_rename(&d->uploaders, hf, hto);
  }
  nfh__exf_spair *f = &m->pairs[fi];
  f->nhist = f->caphist = 0;
  f->first_ms = f->last_ms = 0;
  f->days_seen = 0;
  memset(f->hod_days, 0, sizeof(f->hod_days));
  return 0;
}

/* ----------------------------------------------------------- DNS pairs */

const nfh__exf_dpair *nfh__exf_dpair_find(const nfh__exf_memory *m,
                                          const nfh_addr *client,
                                          const nfh_addr *server) {
  nfh__exf_key k = key2(client, server);
  int64_t i = nfh__exf_map_find(&m->dpmap, m->dpairs, sizeof(*m->dpairs), &k,
                                nfh__exf_key_hash(&k));
  return i >= 0 ? &m->dpairs[i] : NULL;
}

size_t nfh__exf_memory_dns_count(const nfh__exf_memory *m) {
  return m->ndpairs;
}

static void dpair_drop(void *d) { free(((nfh__exf_dpair *)d)->hours); }

static uint64_t dpair_last(const void *d) {
  return ((const nfh__exf_dpair *)d)->last_ms;
}

/* Keeps the 'keep' DNS pairs seen most recently. 0 or -1. */
static int dpairs_prune(nfh__exf_memory *m, uint32_t keep) {
  return nfh__exf_prune_table(&m->dpmap, m->dpairs, sizeof(*m->dpairs),
                              &m->ndpairs, keep, dpair_last, dpair_drop);
}

/* Adds h into the hour cell it belongs to and drops the hours older than
 * keep_hours before the newest. 0 or -1. */
static int dhour_add(nfh__exf_dpair *d, const nfh__exf_dhour *h,
                     uint32_t keep_hours) {
  uint16_t i = d->nhours;
  while (i > 0 && d->hours[i - 1].hour > h->hour)
    i--;
  if (i > 0 && d->hours[i - 1].hour == h->hour) {
    nfh__exf_dhour *c = &d->hours[i - 1];
    c->queries = sat_add64(c->queries, h->queries);
    c->query_bytes = sat_add64(c->query_bytes, h->query_bytes);
    c->answers = sat_add64(c->answers, h->answers);
    c->answer_bytes = sat_add64(c->answer_bytes, h->answer_bytes);
    if (h->first_ms < c->first_ms)
      c->first_ms = h->first_ms;
    if (h->last_ms > c->last_ms)
      c->last_ms = h->last_ms;
  } else {
    if (d->nhours == d->caphours) {
      if (d->caphours >= NFH_EXF_HOW + 1)
        return 0; /* cannot happen: older hours are dropped below */
      uint16_t c = d->caphours ? (uint16_t)(2 * d->caphours) : 4;
      nfh__exf_dhour *grown = realloc(d->hours, c * sizeof(*grown));
      if (!grown)
        return -1;
      d->hours = grown;
      d->caphours = c;
    }
    memmove(&d->hours[i + 1], &d->hours[i],
            (d->nhours - i) * sizeof(*d->hours));
    d->hours[i] = *h;
    d->nhours++;
  }
  d->nhours =
      drop_old_hours(d->hours, sizeof(*d->hours), d->nhours, keep_hours);
  return 0;
}

int nfh__exf_dpair_learn(nfh__exf_memory *m, const nfh_addr *client,
                         const nfh_addr *server, const nfh__exf_dhour *h) {
  if (m->p->dns_memory_pairs < 1)
    return 0;
  nfh__exf_key k = key2(client, server);
  uint64_t hash = nfh__exf_key_hash(&k);
  int64_t i = nfh__exf_map_find(&m->dpmap, m->dpairs, sizeof(*m->dpairs), &k,
                                hash);
  if (i < 0) {
    if (m->ndpairs >= (uint32_t)m->p->dns_memory_pairs &&
        dpairs_prune(m, (uint32_t)(m->p->dns_memory_pairs * 3 / 4)) != 0)
      return -1;
    if (reserve((void **)&m->dpairs, &m->capdpairs, m->ndpairs,
                sizeof(*m->dpairs)) != 0)
      return -1;
    nfh__exf_dpair *d = &m->dpairs[m->ndpairs];
    memset(d, 0, sizeof(*d));
    d->k = k;
    if (nfh__exf_map_put(&m->dpmap, m->dpairs, sizeof(*m->dpairs), hash,
                         m->ndpairs) != 0)
      return -1;
    i = m->ndpairs++;
  }
  nfh__exf_dpair *d = &m->dpairs[i];
  nfh__exf_dhour cell = *h;
  cell.hour = (uint32_t)(h->last_ms / HOUR_MS);
  cell.unused = 0;
  if (h->last_ms > d->last_ms)
    d->last_ms = h->last_ms;
  return dhour_add(d, &cell, (uint32_t)m->p->memory_hours);
}

/* ---------------------------------------------------------------- blob */

/* The encoding is the library's (nfhunt/blob.h); these name the field
 * widths this blob uses. */
typedef nfh_blob_writer wbuf;
typedef nfh_blob_reader rbuf;

static void put(wbuf *w, const void *p, size_t n) {
  nfh_blob_put_bytes(w, p, n);
}

static void put_uint(wbuf *w, uint64_t v, unsigned bytes) {
  switch (bytes) {
  case 1:
    nfh_blob_put_u8(w, (uint8_t)v);
    break;
  case 2:
    nfh_blob_put_u16(w, (uint16_t)v);
    break;
  case 4:
    nfh_blob_put_u32(w, (uint32_t)v);
    break;
  default:
    nfh_blob_put_u64(w, v);
  }
}

static void put_addr(wbuf *w, const nfh_addr *a) {
  put_uint(w, a->family, 1);
  put(w, a->bytes, 16);
}

static uint64_t get_uint(rbuf *r, unsigned bytes) {
  switch (bytes) {
  case 1:
    return nfh_blob_get_u8(r);
  case 2:
    return nfh_blob_get_u16(r);
  case 4:
    return nfh_blob_get_u32(r);
  default:
    return nfh_blob_get_u64(r);
  }
}

static void get_addr(rbuf *r, nfh_addr *a) {
  memset(a, 0, sizeof(*a));
  a->family = (uint8_t)get_uint(r, 1);
  nfh_blob_get_bytes(r, a->bytes, 16);
  if (a->family != 4 && a->family != 6)
    r->failed = 1;
}

static void put_set(wbuf *w, const nfh__exf_hset *s) {
  put_uint(w, s->n, 1);
  put_uint(w, s->sat, 1);
  for (unsigned i = 0; i < s->n; i++)
    put_uint(w, s->v[i], 4);
}

/* Reads a set, keeping at most 'cap' (the current popular_hosts). */
static int get_set(rbuf *r, nfh__exf_hset *s, unsigned cap) {
  unsigned n = (unsigned)get_uint(r, 1);
  unsigned sat = (unsigned)get_uint(r, 1);
  if (r->failed || n > NFH_EXF_MAX_SET || sat > 1) {
    r->failed = 1;
    return 0;
  }
  for (unsigned i = 0; i < n; i++) {
    uint32_t h = (uint32_t)get_uint(r, 4);
    if (r->failed)
      return 0;
    if (hset_add(s, h, cap) != 0)
      return -1;
  }
  if (sat)
    s->sat = 1;
  return 0;
}

int nfh__exf_memory_save(nfh__exf_memory *m, uint64_t cutoff_ms,
                         void **data, size_t *len) {
  *data = NULL;
  *len = 0;
  wbuf w = {0};
  w.limit = BLOB_LIMIT;
  put(&w, MAGIC, 8);
  put_uint(&w, VERSION, 4);

  uint32_t n = 0;
  for (uint32_t i = 0; i < m->ndests; i++)
    n += m->dests[i].last_ms >= cutoff_ms;
  put_uint(&w, n, 4);
  for (uint32_t i = 0; i < m->ndests; i++) {
    const nfh__exf_dest *d = &m->dests[i];
    if (d->last_ms < cutoff_ms)
      continue;
    put_uint(&w, d->k.b.family, 1);
    put_addr(&w, &d->k.a);
    put_uint(&w, d->first_ms, 8);
    put_uint(&w, d->last_ms, 8);
    put_set(&w, &d->hosts);
    put_set(&w, &d->uploaders);
  }

  n = 0;
  for (uint32_t i = 0; i < m->nhosts; i++)
    n += m->hosts[i].last_ms >= cutoff_ms;
  put_uint(&w, n, 4);
  for (uint32_t i = 0; i < m->nhosts; i++) {
    const nfh__exf_host *h = &m->hosts[i];
    if (h->last_ms < cutoff_ms)
      continue;
    put_addr(&w, &h->k.a);
    put_uint(&w, h->last_ms, 8);
    for (int c = 0; c < NFH_EXF_HOD + NFH_EXF_HOW; c++) {
      const nfh__exf_bcell *b =
          c < NFH_EXF_HOD ? &h->hod[c] : &h->how[c - NFH_EXF_HOD];
      put_uint(&w, b->n, 1);
      put_uint(&w, b->peak, 1);
      put_uint(&w, b->mean, 2);
    }
  }

  n = 0;
  for (uint32_t i = 0; i < m->npairs; i++)
    n += m->pairs[i].last_ms >= cutoff_ms;
  put_uint(&w, n, 4);
  for (uint32_t i = 0; i < m->npairs; i++) {
    const nfh__exf_spair *s = &m->pairs[i];
    if (s->last_ms < cutoff_ms)
      continue;
    put_addr(&w, &s->k.a);
    put_addr(&w, &s->k.b);
    put_uint(&w, s->first_ms, 8);
    put_uint(&w, s->last_ms, 8);
    put_uint(&w, (uint64_t)s->mark_day, 8);
    put_uint(&w, s->mark_mask, 4);
    put_uint(&w, s->days_seen, 2);
    put(&w, s->hod_days, NFH_EXF_HOD);
    put_uint(&w, s->nhist, 2);
    for (unsigned j = 0; j < s->nhist; j++) {
      put_uint(&w, s->hist[j].hour, 4);
      put_uint(&w, s->hist[j].out_kb, 4);
      put_uint(&w, s->hist[j].in_kb, 4);
      put_uint(&w, s->hist[j].first_s1, 2);
      put_uint(&w, s->hist[j].last_s1, 2);
    }
  }

  /* The door of the full destination table, so that a destination met
   * once near the end of this run enters on its next contact, in the next
   * run (see nfhunt/door.h). */
  put_uint(&w, (uint64_t)m->dests_pressed, 1);
  nfh_door_put(&w, m->ddoor);

  n = 0;
  for (uint32_t i = 0; i < m->ndpairs; i++)
    n += m->dpairs[i].last_ms >= cutoff_ms;
  put_uint(&w, n, 4);
  for (uint32_t i = 0; i < m->ndpairs; i++) {
    const nfh__exf_dpair *d = &m->dpairs[i];
    if (d->last_ms < cutoff_ms)
      continue;
    put_addr(&w, &d->k.a);
    put_addr(&w, &d->k.b);
    put_uint(&w, d->last_ms, 8);
    put_uint(&w, d->nhours, 2);
    for (unsigned j = 0; j < d->nhours; j++) {
      const nfh__exf_dhour *c = &d->hours[j];
      put_uint(&w, c->hour, 4);
      put_uint(&w, c->queries, 8);
      put_uint(&w, c->query_bytes, 8);
      put_uint(&w, c->answers, 8);
      put_uint(&w, c->answer_bytes, 8);
      put_uint(&w, c->first_ms, 8);
      put_uint(&w, c->last_ms, 8);
    }
  }

  n = 0;
  for (uint32_t i = 0; i < m->nhosts; i++)
    n += m->hosts[i].last_ms >= cutoff_ms && m->hosts[i].part_mask;
  put_uint(&w, n, 4);
  for (uint32_t i = 0; i < m->nhosts; i++) {
    const nfh__exf_host *h = &m->hosts[i];
    if (h->last_ms < cutoff_ms || !h->part_mask)
      continue;
    put_addr(&w, &h->k.a);
    put_uint(&w, h->part_hour, 4);
    put_uint(&w, h->part_mask, 2);
    put_uint(&w, h->part_bytes, 8);
  }
  if (w.failed) {
    free(w.data);
    return -1;
  }
  *data = w.data;
  *len = w.len;
  return 0;
}

/* Reads the blob into m (empty on entry). 0, 1 (not ours: ignored), -1
 * (damaged or out of memory). */
static int load(nfh__exf_memory *m, rbuf *r) {
  if (r->len < 12 || memcmp(r->data, MAGIC, 8) != 0)
    return 1;
  r->off = 8;
  uint32_t version = (uint32_t)get_uint(r, 4);
  if (version < 1 || version > VERSION)
    return 1;
  unsigned cap = (unsigned)m->p->popular_hosts;

  uint32_t n = (uint32_t)get_uint(r, 4);
  /* Each record takes at least 35 bytes: a count beyond what is left
   * is damage, not a reason to allocate. */
  if (r->failed || n > (r->len - r->off) / 35)
    return -1;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t kind = (uint8_t)get_uint(r, 1);
    nfh_addr a;
    get_addr(r, &a);
    uint64_t first = get_uint(r, 8), last = get_uint(r, 8);
    if (r->failed || kind > NFH_EXF_DEST_POOL)
      return -1;
    if (nfh__exf_dest_find(m, &a, kind))
      return -1; /* a key twice */
    nfh__exf_dest *d = dest_get(m, &a, kind, first);
    if (!d)
      return -1;
    d->first_ms = first;
    d->last_ms = last;
    d->from_state = 1;
    if (get_set(r, &d->hosts, cap) != 0 ||
        get_set(r, &d->uploaders, cap) != 0)
      return -1;
    if (r->failed)
      return -1;
  }

  n = (uint32_t)get_uint(r, 4);
  if (r->failed || n > (r->len - r->off) / 25)
    return -1;
  for (uint32_t i = 0; i < n; i++) {
    nfh_addr a;
    get_addr(r, &a);
    uint64_t last = get_uint(r, 8);
    if (r->failed || nfh__exf_host_find(m, &a))
      return -1;
    if (reserve((void **)&m->hosts, &m->caphosts, m->nhosts,
                sizeof(*m->hosts)) != 0)
      return -1;
    nfh__exf_host *h = &m->hosts[m->nhosts];
    memset(h, 0, sizeof(*h));
    h->k = key1(&a, 0);
    h->last_ms = last;
    for (int c = 0; c < NFH_EXF_HOD + NFH_EXF_HOW; c++) {
      nfh__exf_bcell *b = c < NFH_EXF_HOD ? &h->hod[c] : &h->how[c - NFH_EXF_HOD];
      b->n = (uint8_t)get_uint(r, 1);
      b->peak = (uint8_t)get_uint(r, 1);
      b->mean = (uint16_t)get_uint(r, 2);
    }
    if (r->failed)
      return -1;
    if (nfh__exf_map_put(&m->hmap, m->hosts, sizeof(*m->hosts),
                         nfh__exf_key_hash(&h->k), m->nhosts) != 0)
      return -1;
    m->nhosts++;
  }

  n = (uint32_t)get_uint(r, 4);
  if (r->failed || n > (r->len - r->off) / 60)
    return -1;
  for (uint32_t i = 0; i < n; i++) {
    nfh_addr a, b;
    get_addr(r, &a);
    get_addr(r, &b);
    if (r->failed || nfh__exf_spair_find(m, &a, &b))
      return -1;
    if (reserve((void **)&m->pairs, &m->cappairs, m->npairs,
                sizeof(*m->pairs)) != 0)
      return -1;
    nfh__exf_spair *s = &m->pairs[m->npairs];
    memset(s, 0, sizeof(*s));
    s->k = key2(&a, &b);
    s->first_ms = get_uint(r, 8);
    s->last_ms = get_uint(r, 8);
    s->mark_day = (int64_t)get_uint(r, 8);
    s->mark_mask = (uint32_t)get_uint(r, 4);
    s->days_seen = (uint16_t)get_uint(r, 2);
    for (int c = 0; c < NFH_EXF_HOD; c++)
      s->hod_days[c] = (uint8_t)get_uint(r, 1);
    unsigned nh = (unsigned)get_uint(r, 2);
    size_t hist_len = version >= 5 ? 16 : 12;
    if (r->failed || nh > NFH_EXF_HOW || nh > (r->len - r->off) / hist_len)
      return -1;
    /* Count the record before filling its history, so that a failure
     * below frees what was allocated. */
    if (nfh__exf_map_put(&m->pmap, m->pairs, sizeof(*m->pairs),
                         nfh__exf_key_hash(&s->k), m->npairs) != 0)
      return -1;
    m->npairs++;
    if (nh) {
      s->hist = calloc(nh, sizeof(*s->hist));
      if (!s->hist)
        return -1;
      s->caphist = (uint16_t)nh;
    }
    for (unsigned j = 0; j < nh; j++) {
      s->hist[j].hour = (uint32_t)get_uint(r, 4);
      s->hist[j].out_kb = (uint32_t)get_uint(r, 4);
      s->hist[j].in_kb = (uint32_t)get_uint(r, 4);
      if (version >= 5) {
        s->hist[j].first_s1 = (uint16_t)get_uint(r, 2);
        s->hist[j].last_s1 = (uint16_t)get_uint(r, 2);
      }
      if (j && s->hist[j].hour <= s->hist[j - 1].hour)
        r->failed = 1;
      /* Seconds of an hour, plus one: a damaged span is no span. */
      if (s->hist[j].first_s1 > 3600 || s->hist[j].last_s1 > 3600 ||
          s->hist[j].first_s1 > s->hist[j].last_s1 ||
          (!s->hist[j].first_s1 != !s->hist[j].last_s1))
        s->hist[j].first_s1 = s->hist[j].last_s1 = 0;
    }
    s->nhist = (uint16_t)nh;
    if (r->failed)
      return -1;
  }
  if (version >= 2) {
    unsigned pressed = (unsigned)get_uint(r, 1);
    if (r->failed || pressed > 1)
      return -1;
    m->dests_pressed = (int)pressed;
    nfh_door *door = NULL;
    if (nfh_door_get(r, &door) != NFH_OK)
      return -1;
    if (door) {
      nfh_door_destroy(m->ddoor);
      m->ddoor = door;
    }
  }
  if (version >= 3) {
    n = (uint32_t)get_uint(r, 4);
    /* 34 bytes of addresses, 8 of time and 2 of count at least. */
    if (r->failed || n > (r->len - r->off) / 44)
      return -1;
    for (uint32_t i = 0; i < n; i++) {
      nfh_addr a, b;
      get_addr(r, &a);
      get_addr(r, &b);
      uint64_t last = get_uint(r, 8);
      unsigned nh = (unsigned)get_uint(r, 2);
      if (r->failed || nfh__exf_dpair_find(m, &a, &b) ||
          nh > NFH_EXF_HOW + 1 || nh > (r->len - r->off) / 52)
        return -1;
      if (reserve((void **)&m->dpairs, &m->capdpairs, m->ndpairs,
                  sizeof(*m->dpairs)) != 0)
        return -1;
      nfh__exf_dpair *d = &m->dpairs[m->ndpairs];
      memset(d, 0, sizeof(*d));
      d->k = key2(&a, &b);
      d->last_ms = last;
      /* Counted before its hours are filled, so that a failure below
       * frees what was allocated. */
      if (nfh__exf_map_put(&m->dpmap, m->dpairs, sizeof(*m->dpairs),
                           nfh__exf_key_hash(&d->k), m->ndpairs) != 0)
        return -1;
      m->ndpairs++;
      if (nh) {
        d->hours = calloc(nh, sizeof(*d->hours));
        if (!d->hours)
          return -1;
        d->caphours = (uint16_t)nh;
      }
      for (unsigned j = 0; j < nh; j++) {
        nfh__exf_dhour *c = &d->hours[j];
        c->hour = (uint32_t)get_uint(r, 4);
        c->queries = get_uint(r, 8);
        c->query_bytes = get_uint(r, 8);
        c->answers = get_uint(r, 8);
        c->answer_bytes = get_uint(r, 8);
        c->first_ms = get_uint(r, 8);
        c->last_ms = get_uint(r, 8);
        if ((j && c->hour <= d->hours[j - 1].hour) || c->first_ms > c->last_ms)
          r->failed = 1;
      }
      d->nhours = (uint16_t)nh;
      if (r->failed)
        return -1;
    }
  }
  if (version >= 4) {
    n = (uint32_t)get_uint(r, 4);
    /* 17 bytes of address, 14 of the hour. */
    if (r->failed || n > (r->len - r->off) / 31)
      return -1;
    for (uint32_t i = 0; i < n; i++) {
      nfh_addr a;
      get_addr(r, &a);
      uint32_t hour = (uint32_t)get_uint(r, 4);
      uint16_t mask = (uint16_t)get_uint(r, 2);
      uint64_t bytes = get_uint(r, 8);
      int64_t x = host_slot(m, &a);
      /* Only the hosts saved above, each once. */
      if (r->failed || x < 0 || m->hosts[x].part_mask ||
          (mask & ~(0xfffu | NFH_EXF_PART_TAUGHT)) || !mask)
        return -1;
      m->hosts[x].part_hour = hour;
      m->hosts[x].part_mask = mask;
      m->hosts[x].part_bytes = bytes;
    }
  }
  return r->off == r->len ? 0 : -1;
}

int nfh__exf_memory_load(nfh__exf_memory *m, const void *data, size_t len) {
  clear(m);
  rbuf r = {data, len, 0, 0};
  int rc = load(m, &r);
  if (rc != 0)
    clear(m);
  return rc;
}
