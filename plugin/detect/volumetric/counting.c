/* counting.c - distinct counters and heavy hitters; see counting.h. */
#include <stdlib.h>
#include <string.h>

#include "counting.h"

/* The finaliser of MurmurHash3: spreads every input bit over the word,
 * so that the low bits index a table and the high bits a bitmap. */
static uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

uint64_t nfh__vol_addr_hash(const nfh_addr *a) {
  uint64_t hi, lo;
  memcpy(&hi, a->bytes, 8);
  memcpy(&lo, a->bytes + 8, 8);
  uint64_t h = fmix64(hi ^ 0x9e3779b97f4a7c15ull) ^ lo;
  h = fmix64(h + a->family);
  return h ? h : 1; /* 0 marks an empty slot */
}

static int set_insert(uint64_t *set, uint32_t cap, uint64_t hash) {
  for (uint32_t i = (uint32_t)hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
    if (set[i] == hash)
      return 0;
    if (!set[i]) {
      set[i] = hash;
      return 1;
    }
  }
}

static int set_grow(nfh__vol_distinct *d, uint32_t cap) {
  uint64_t *set = calloc(cap, sizeof(uint64_t));
  if (!set)
    return -1;
  for (uint32_t i = 0; i < d->set_cap; i++)
    if (d->set[i])
      set_insert(set, cap, d->set[i]);
  free(d->set);
  d->set = set;
  d->set_cap = cap;
  return 0;
}

static int set_contains(const nfh__vol_distinct *d, uint64_t hash) {
  if (!d->set_cap)
    return 0;
  for (uint32_t i = (uint32_t)hash & (d->set_cap - 1); d->set[i];
       i = (i + 1) & (d->set_cap - 1))
    if (d->set[i] == hash)
      return 1;
  return 0;
}

static int to_sketch(nfh__vol_distinct *d, unsigned precision) {
  if (nfh_hll_create(precision, &d->hll) != NFH_OK)
    return -1;
  for (uint32_t i = 0; i < d->set_cap; i++)
    if (d->set[i])
      nfh_hll_add_hash(d->hll, d->set[i]);
  free(d->set);
  d->set = NULL;
  d->set_cap = 0;
  return 0;
}

int nfh__vol_distinct_add(nfh__vol_distinct *d, uint64_t hash,
                          uint32_t exact_cap, unsigned precision) {
  if (!hash)
    hash = 1;
  if (d->hll) {
    nfh_hll_add_hash(d->hll, hash);
    return 0;
  }
  if (set_contains(d, hash))
    return 0;
  if (d->n >= exact_cap) {
    /* Only a new item beyond the cap moves the counter to the sketch. */
    if (to_sketch(d, precision) != 0)
      return -1;
    nfh_hll_add_hash(d->hll, hash);
    return 0;
  }
  /* Keep the set at most half full so that probes stay short (and an
   * empty slot always ends them). */
  if (2 * (d->n + 1) > d->set_cap &&
      set_grow(d, d->set_cap ? 2 * d->set_cap : 8) != 0)
    return -1;
  d->n += (uint32_t)set_insert(d->set, d->set_cap, hash);
  return 0;
}

double nfh__vol_distinct_count(const nfh__vol_distinct *d) {
  return d->hll ? nfh_hll_count(d->hll) : d->n;
}

int nfh__vol_distinct_exact(const nfh__vol_distinct *d) { return !d->hll; }

void nfh__vol_distinct_free(nfh__vol_distinct *d) {
  free(d->set);
  nfh_hll_destroy(d->hll);
  memset(d, 0, sizeof(*d));
}

void nfh__vol_top_add(nfh__vol_top *t, uint64_t key, const nfh_addr *addr,
                      double weight) {
  nfh__vol_top_entry *min = &t->e[0];
  for (int i = 0; i < NFH_VOL_TOP_K; i++) {
    nfh__vol_top_entry *e = &t->e[i];
    if (e->key == key) {
      e->weight += weight;
      return;
    }
    if (!e->key) {
      e->key = key;
      e->weight = weight;
      e->error = 0;
      if (addr)
        e->addr = *addr;
      return;
    }
    if (e->weight < min->weight)
      min = e;
  }
  /* Space-Saving: the lightest entry gives way and its weight becomes
   * the newcomer's possible overcount. */
  min->key = key;
  min->error = min->weight;
  min->weight += weight;
  if (addr)
    min->addr = *addr;
  else
    memset(&min->addr, 0, sizeof(min->addr));
}

const nfh__vol_top_entry *nfh__vol_top_best(const nfh__vol_top *t,
                                            double *lower) {
  const nfh__vol_top_entry *best = NULL;
  double best_low = 0;
  for (int i = 0; i < NFH_VOL_TOP_K; i++) {
    const nfh__vol_top_entry *e = &t->e[i];
    double low = e->weight - e->error;
    if (e->key && (!best || low > best_low)) {
      best = e;
      best_low = low;
    }
  }
  if (lower)
    *lower = best ? best_low : 0;
  return best;
}
