/* map.c - index over keyed records; see map.h. */
#include <stdlib.h>
#include <string.h>

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
  uint64_t a[4], b[4];
  memcpy(&a[0], x->a.bytes, 8);
  memcpy(&a[1], x->a.bytes + 8, 8);
  memcpy(&a[2], x->b.bytes, 8);
  memcpy(&a[3], x->b.bytes + 8, 8);
  memcpy(&b[0], y->a.bytes, 8);
  memcpy(&b[1], y->a.bytes + 8, 8);
  memcpy(&b[2], y->b.bytes, 8);
  memcpy(&b[3], y->b.bytes + 8, 8);
  return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) ==
             0 &&
         x->a.family == y->a.family && x->b.family == y->b.family;
}

static const nfh__exf_key *key_at(const void *base, size_t stride,
                                  uint32_t i) {
  return (const nfh__exf_key *)((const char *)base + (size_t)i * stride);
}

int64_t nfh__exf_map_find(const nfh__exf_map *m, const void *base,
                          size_t stride, const nfh__exf_key *k,
                          uint64_t hash) {
  if (!m->cap)
    return -1;
  uint32_t mask = m->cap - 1, tag = (uint32_t)(hash >> 32);
  for (uint32_t i = (uint32_t)hash & mask; m->slot[i]; i = (i + 1) & mask) {
    uint32_t idx = m->slot[i] - 1;
    if (m->tag[i] == tag && nfh__exf_key_equal(key_at(base, stride, idx), k))
      return idx;
  }
  return -1;
}

static void insert(uint32_t *slot, uint32_t *tag, uint32_t cap,
                   uint64_t hash, uint32_t idx) {
  uint32_t mask = cap - 1;
  uint32_t i = (uint32_t)hash & mask;
  while (slot[i])
    i = (i + 1) & mask;
  slot[i] = idx + 1;
  tag[i] = (uint32_t)(hash >> 32);
}

/* Fresh tables for 'need' keys at a load of at most one half, filled
 * with the first n records. 0 or -1 (nothing changed). */
static int build(nfh__exf_map *m, const void *base, size_t stride,
                 uint32_t n, uint32_t need) {
  uint32_t cap = 64;
  while ((uint64_t)cap < 2 * (uint64_t)need)
    cap *= 2;
  uint32_t *slot = calloc(cap, sizeof(uint32_t));
  uint32_t *tag = calloc(cap, sizeof(uint32_t));
  if (!slot || !tag) {
    free(slot);
    free(tag);
    return -1;
  }
  for (uint32_t i = 0; i < n; i++)
    insert(slot, tag, cap, nfh__exf_key_hash(key_at(base, stride, i)), i);
  free(m->slot);
  free(m->tag);
  m->slot = slot;
  m->tag = tag;
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
  insert(m->slot, m->tag, m->cap, hash, idx);
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
  free(m->slot);
  free(m->tag);
  memset(m, 0, sizeof(*m));
}
