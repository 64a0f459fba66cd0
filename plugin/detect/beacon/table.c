/* table.c - bounded chained hash table over a slab; see table.h. */
#include <stdlib.h>
#include <string.h>

#include <nfhunt/hugemem.h>

#include "table.h"

#define INITIAL_SLOTS 256u

int nfh__bcn_table_init(nfh__bcn_table *t, size_t elem, uint32_t max) {
  memset(t, 0, sizeof(*t));
  t->elem = elem;
  t->max = max;
  t->free_head = NFH__BCN_NIL;
  t->nbuckets = INITIAL_SLOTS;
  t->bucket = nfh_hugemem_alloc(t->nbuckets * sizeof(uint32_t));
  if (!t->bucket)
    return -1;
  memset(t->bucket, 0xff, t->nbuckets * sizeof(uint32_t));
  return 0;
}

void nfh__bcn_table_free(nfh__bcn_table *t) {
  nfh_door_destroy(t->door);
  nfh_hugemem_free(t->slab, (size_t)t->slab_cap * t->elem);
  nfh_hugemem_free(t->slot, (size_t)t->cap * sizeof(*t->slot));
  nfh_hugemem_free(t->bucket, (size_t)t->nbuckets * sizeof(uint32_t));
  memset(t, 0, sizeof(*t));
}

uint32_t nfh__bcn_table_find(const nfh__bcn_table *t, uint64_t hash,
                             nfh__bcn_eq_fn eq, const void *key) {
  if (!t->bucket)
    return NFH__BCN_NIL;
  uint32_t id = t->bucket[hash & (t->nbuckets - 1)];
  while (id != NFH__BCN_NIL) {
    const nfh__bcn_slot *sl = &t->slot[id];
    if (sl->hash == hash && eq(nfh__bcn_table_at(t, id), key))
      return id;
    id = sl->next;
  }
  return NFH__BCN_NIL;
}

/* Grows the slot arrays to hold at least one more slot. */
static int grow_slots(nfh__bcn_table *t) {
  uint32_t cap = t->cap ? t->cap * 2 : INITIAL_SLOTS;
  if (cap > t->max && t->max >= t->used + 1)
    cap = t->max;
  if (t->slab_cap < cap) {
    uint8_t *slab = nfh_hugemem_resize(
        t->slab, (size_t)t->slab_cap * t->elem, (size_t)cap * t->elem);
    if (!slab)
      return -1;
    t->slab = slab;
    t->slab_cap = cap;
  }
  nfh__bcn_slot *slot = nfh_hugemem_resize(
      t->slot, (size_t)t->cap * sizeof(*slot), (size_t)cap * sizeof(*slot));
  if (!slot)
    return -1; /* the slab keeps its larger size for the next try */
  t->slot = slot;
  t->cap = cap;
  return 0;
}

/* Doubles the buckets and rechains the live records, so that chains stay
 * short (one record per bucket on average at most). */
static int grow_buckets(nfh__bcn_table *t) {
  uint32_t n = t->nbuckets * 2;
  uint32_t *b = nfh_hugemem_alloc((size_t)n * sizeof(uint32_t));
  if (!b)
    return -1;
  memset(b, 0xff, (size_t)n * sizeof(uint32_t));
  for (uint32_t id = 0; id < t->used; id++) {
    if (!t->slot[id].live)
      continue;
    uint32_t k = (uint32_t)(t->slot[id].hash & (n - 1));
    t->slot[id].next = b[k];
    b[k] = id;
  }
  nfh_hugemem_free(t->bucket, (size_t)t->nbuckets * sizeof(uint32_t));
  t->bucket = b;
  t->nbuckets = n;
  return 0;
}

uint32_t nfh__bcn_table_add(nfh__bcn_table *t, uint64_t hash) {
  if (!t->bucket || t->count >= t->max)
    return NFH__BCN_NIL;
  if (t->count >= t->nbuckets && t->nbuckets < (1u << 30) &&
      grow_buckets(t) != 0)
    return NFH__BCN_NIL;
  uint32_t id;
  if (t->free_head != NFH__BCN_NIL) {
    id = t->free_head;
    t->free_head = t->slot[id].next;
  } else {
    if (t->used == t->cap && grow_slots(t) != 0)
      return NFH__BCN_NIL;
    id = t->used++;
  }
  memset(nfh__bcn_table_at(t, id), 0, t->elem);
  uint32_t k = (uint32_t)(hash & (t->nbuckets - 1));
  t->slot[id].hash = hash;
  t->slot[id].live = 1;
  t->slot[id].next = t->bucket[k];
  t->bucket[k] = id;
  t->count++;
  return id;
}

void nfh__bcn_table_remove(nfh__bcn_table *t, uint32_t id) {
  if (!nfh__bcn_table_live(t, id))
    return;
  uint32_t *link = &t->bucket[t->slot[id].hash & (t->nbuckets - 1)];
  while (*link != id && *link != NFH__BCN_NIL)
    link = &t->slot[*link].next;
  if (*link == id)
    *link = t->slot[id].next;
  t->slot[id].live = 0;
  t->slot[id].next = t->free_head;
  t->free_head = id;
  t->count--;
}

uint32_t nfh__bcn_table_sample(const nfh__bcn_table *t, uint64_t *rng) {
  if (t->count == 0)
    return NFH__BCN_NIL;
  /* Random probes; the table is dense (freed slots are reused first), so
   * a few probes find a live slot. A scan from the last probe makes the
   * call always succeed. */
  uint32_t id = 0;
  for (int tries = 0; tries < 16; tries++) {
    uint64_t x = *rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    id = (uint32_t)(x % t->used);
    if (t->slot[id].live)
      return id;
  }
  for (uint32_t k = 0; k < t->used; k++) {
    uint32_t j = (id + k) % t->used;
    if (t->slot[j].live)
      return j;
  }
  return NFH__BCN_NIL;
}

int nfh__bcn_table_admit(nfh__bcn_table *t, uint64_t hash) {
  if (t->count < t->max)
    return 1;
  if (!t->door && nfh_door_create(t->max, &t->door) != NFH_OK)
    return 1;
  return nfh_door_pass(t->door, hash);
}

uint64_t nfh__bcn_table_stopped(const nfh__bcn_table *t) {
  return t->door ? nfh_door_stopped(t->door) : 0;
}
