/* counting.c - distinct counters and heavy hitters; see counting.h. */
#include <stdlib.h>
#include <string.h>

#include "counting.h"

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

int nfh__vol_dscratch_init(nfh__vol_dscratch *d, uint32_t exact_cap,
                           unsigned precision) {
  memset(d, 0, sizeof(*d));
  uint32_t cap = 2;
  while (cap < 2 * (exact_cap + 1))
    cap *= 2;
  d->t = calloc(cap, sizeof(*d->t));
  if (!d->t || nfh_hll_create(precision, &d->hll) != NFH_OK) {
    free(d->t);
    memset(d, 0, sizeof(*d));
    return -1;
  }
  d->cap = cap;
  d->exact_cap = exact_cap;
  return 0;
}

void nfh__vol_dscratch_begin(nfh__vol_dscratch *d) {
  if (d->sketch)
    nfh_hll_clear(d->hll);
  d->sketch = 0;
  d->n = 0;
  if (++d->gen == 0) {
    /* Wrapped: the stamps of four billion sets ago look current. */
    memset(d->t, 0, sizeof(*d->t) * d->cap);
    d->gen = 1;
  }
}

void nfh__vol_dscratch_add(nfh__vol_dscratch *d, uint64_t hash) {
  if (!hash)
    hash = 1;
  if (d->sketch) {
    nfh_hll_add_hash(d->hll, hash);
    return;
  }
  uint32_t mask = d->cap - 1, i = (uint32_t)hash & mask;
  for (; d->t[i].gen == d->gen; i = (i + 1) & mask)
    if (d->t[i].hash == hash)
      return;
  if (d->n >= d->exact_cap) {
    /* As nfh__vol_distinct: the first new item beyond the cap moves the
     * set to the sketch, seeded with what the set held. */
    for (uint32_t k = 0; k < d->cap; k++)
      if (d->t[k].gen == d->gen)
        nfh_hll_add_hash(d->hll, d->t[k].hash);
    nfh_hll_add_hash(d->hll, hash);
    d->sketch = 1;
    return;
  }
  d->t[i].hash = hash;
  d->t[i].gen = d->gen;
  d->n++;
}

double nfh__vol_dscratch_count(const nfh__vol_dscratch *d) {
  return d->sketch ? nfh_hll_count(d->hll) : d->n;
}

int nfh__vol_dscratch_exact(const nfh__vol_dscratch *d) { return !d->sketch; }

void nfh__vol_dscratch_free(nfh__vol_dscratch *d) {
  free(d->t);
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
