/* map.c - index over keyed records; see map.h. */
#include <stdlib.h>
#include <string.h>

#include <nfhunt/hugemem.h>

#include "map.h"

static uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

uint64_t nfh__exf_key_hash(const nfh__exf_key *k) {
  uint64_t w[4];
  memcpy(&w[0], k->a.bytes, 8);
  memcpy(&w[1], k->a.bytes + 8, 8);
  memcpy(&w[2], k->b.bytes, 8);
  memcpy(&w[3], k->b.bytes + 8, 8);
  /* One multiply per word and one final mix: this runs for every flow
   * record, and the addresses differ mostly in their last bytes. */
  uint64_t h = ((uint64_t)k->a.family << 8 | k->b.family) *
               0x9e3779b97f4a7c15ull;
  h ^= w[0] * 0xc2b2ae3d27d4eb4full;
  h ^= (w[1] ^ (w[1] >> 29)) * 0x165667b19e3779f9ull;
  h = (h << 27 | h >> 37) ^ w[2] * 0xd6e8feb86659fd93ull;
  h ^= (w[3] ^ (w[3] >> 31)) * 0x9fb21c651e98df25ull;
  return mix64(h);
}

int nfh__exf_key_equal(const nfh__exf_key *x, const nfh__exf_key *y) {
  return nfh_addr_equal(&x->a, &y->a) && nfh_addr_equal(&x->b, &y->b);
}

static const nfh__exf_key *key_at(const void *base, size_t stride,
                                  uint32_t i) {
  return (const nfh__exf_key *)((const char *)base + (size_t)i * stride);
}

/* A cell holds the high 32 hash bits above the record index + 1; 0 is
 * empty. One 8-byte cell per probe: one cache line to fetch. */
static uint64_t cell_of(uint64_t hash, uint32_t idx) {
  return (hash & 0xffffffff00000000ull) | ((uint64_t)idx + 1);
}

int64_t nfh__exf_map_find(const nfh__exf_map *m, const void *base,
                          size_t stride, const nfh__exf_key *k,
                          uint64_t hash) {
  if (!m->cap)
    return -1;
  uint32_t mask = m->cap - 1;
  uint64_t tag = hash & 0xffffffff00000000ull;
  for (uint32_t i = (uint32_t)hash & mask; m->cell[i]; i = (i + 1) & mask) {
    uint64_t c = m->cell[i];
    uint32_t idx = (uint32_t)c - 1;
    if ((c & 0xffffffff00000000ull) == tag &&
        nfh__exf_key_equal(key_at(base, stride, idx), k))
      return idx;
  }
  return -1;
}

void nfh__exf_map_prefetch(const nfh__exf_map *m, uint64_t hash) {
  if (m->cap)
    __builtin_prefetch(&m->cell[(uint32_t)hash & (m->cap - 1)]);
}

void nfh__exf_map_prefetch_record(const nfh__exf_map *m, const void *base,
                                  size_t stride, uint64_t hash) {
  if (!m->cap)
    return;
  uint64_t c = m->cell[(uint32_t)hash & (m->cap - 1)];
  if (c && (c & 0xffffffff00000000ull) == (hash & 0xffffffff00000000ull))
    __builtin_prefetch(key_at(base, stride, (uint32_t)c - 1));
}

static void insert(uint64_t *cell, uint32_t cap, uint64_t hash,
                   uint32_t idx) {
  uint32_t mask = cap - 1;
  uint32_t i = (uint32_t)hash & mask;
  while (cell[i])
    i = (i + 1) & mask;
  cell[i] = cell_of(hash, idx);
}

/* Fresh tables for 'need' keys at a load of at most one half, filled
 * with the first n records. 0 or -1 (nothing changed). */
static int build(nfh__exf_map *m, const void *base, size_t stride,
                 uint32_t n, uint32_t need) {
  uint32_t cap = 64;
  while ((uint64_t)cap < 2 * (uint64_t)need)
    cap *= 2;
  uint64_t *cell = nfh_hugemem_alloc((size_t)cap * sizeof(uint64_t));
  if (!cell)
    return -1;
  for (uint32_t i = 0; i < n; i++)
    insert(cell, cap, nfh__exf_key_hash(key_at(base, stride, i)), i);
  nfh_hugemem_free(m->cell, (size_t)m->cap * sizeof(uint64_t));
  m->cell = cell;
  m->cap = cap;
  m->n = n;
  return 0;
}

int nfh__exf_map_put(nfh__exf_map *m, const void *base, size_t stride,
                     uint64_t hash, uint32_t idx) {
  if (2 * ((uint64_t)m->n + 1) > m->cap) {
    /* The map indexes records 0..idx-1 (records are appended), so a
     * rebuild over them followed by the insert below is exact. */
    if (build(m, base, stride, idx, 2 * (m->n + 1)) != 0)
      return -1;
  }
  insert(m->cell, m->cap, hash, idx);
  m->n++;
  return 0;
}

int nfh__exf_map_rebuild(nfh__exf_map *m, const void *base, size_t stride,
                         uint32_t n) {
  if (build(m, base, stride, n, n ? n : 1) != 0) {
    nfh__exf_map_free(m);
    return -1;
  }
  return 0;
}

void nfh__exf_map_free(nfh__exf_map *m) {
  nfh_hugemem_free(m->cell, (size_t)m->cap * sizeof(uint64_t));
  memset(m, 0, sizeof(*m));
}

/* The k-th largest value of v[0..n-1] (k counted from 0, k < n); v is
 * reordered. Quickselect with a median-of-three pivot and a three-way
 * partition, so that many equal values (pairs that moved the same few
 * bytes) cannot make it quadratic. */
static uint64_t kth_largest(uint64_t *v, uint32_t n, uint32_t k) {
  int64_t lo = 0, hi = (int64_t)n - 1;
  while (lo < hi) {
    uint64_t a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
    uint64_t pivot = a > b ? (b > c ? b : (a > c ? c : a))
                           : (a > c ? a : (b > c ? c : b));
    /* Descending: [lo, lt) > pivot, [lt, i) == pivot, (gt, hi] < pivot. */
    int64_t lt = lo, i = lo, gt = hi;
    while (i <= gt) {
      uint64_t x = v[i];
      if (x > pivot) {
        v[i++] = v[lt];
        v[lt++] = x;
      } else if (x < pivot) {
        v[i] = v[gt];
        v[gt--] = x;
      } else {
        i++;
      }
    }
    if ((int64_t)k < lt)
      hi = lt - 1;
    else if ((int64_t)k > gt)
      lo = gt + 1;
    else
      return pivot;
  }
  return v[k];
}

uint32_t nfh__exf_keep_top(void *base, size_t stride, uint32_t n,
                           uint32_t keep, const uint64_t *rank,
                           void (*drop)(void *record)) {
  if (keep >= n)
    return n;
  uint64_t cut = 0;
  uint32_t above = 0; /* records strictly above the cut all stay */
  if (keep > 0) {
    uint64_t *v = malloc((size_t)n * sizeof(*v));
    if (!v)
      return UINT32_MAX;
    memcpy(v, rank, (size_t)n * sizeof(*v));
    cut = kth_largest(v, n, keep - 1);
    free(v);
    for (uint32_t i = 0; i < n; i++)
      above += rank[i] > cut;
  }
  uint32_t ties = keep - above, out = 0;
  char *b = base;
  for (uint32_t i = 0; i < n; i++) {
    int stay = keep > 0 && (rank[i] > cut || (rank[i] == cut && ties > 0));
    if (stay && rank[i] == cut)
      ties--;
    if (!stay) {
      if (drop)
        drop(b + (size_t)i * stride);
      continue;
    }
    if (out != i)
      memcpy(b + (size_t)out * stride, b + (size_t)i * stride, stride);
    out++;
  }
  return out;
}

int nfh__exf_prune_table(nfh__exf_map *m, void *base, size_t stride,
                         uint32_t *n, uint32_t keep,
                         uint64_t (*rank)(const void *record),
                         void (*drop)(void *record)) {
  uint64_t *r = malloc((size_t)*n * sizeof(*r) + 1);
  if (!r)
    return -1;
  for (uint32_t i = 0; i < *n; i++)
    r[i] = rank((const char *)base + (size_t)i * stride);
  uint32_t kept = nfh__exf_keep_top(base, stride, *n, keep, r, drop);
  free(r);
  if (kept == UINT32_MAX)
    return -1;
  *n = kept;
  return nfh__exf_map_rebuild(m, base, stride, *n);
}
