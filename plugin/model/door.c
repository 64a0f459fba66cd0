/* door.c - admission filter for bounded tables; see nfhunt/door.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <nfhunt/door.h>

#include "../common/alloc.h"

#define MIN_CELLS 1024u
#define MAX_CELLS (1u << 24)

struct nfh_door {
  uint64_t *cell; /* hash | 1 of a key seen once; 0 = empty */
  uint32_t mask;
  uint64_t stopped;
};

nfh_status nfh_door_create(uint32_t cells, nfh_door **out) {
  *out = NULL;
  uint32_t n = MIN_CELLS;
  while (n < cells && n < MAX_CELLS)
    n *= 2;
  nfh_door *d = nfh__calloc(1, sizeof(*d));
  if (!d)
    return NFH_ENOMEM;
  d->cell = nfh__calloc(n, sizeof(*d->cell));
  if (!d->cell) {
    nfh__free(d);
    return NFH_ENOMEM;
  }
  d->mask = n - 1;
  *out = d;
  return NFH_OK;
}

void nfh_door_destroy(nfh_door *door) {
  if (!door)
    return;
  nfh__free(door->cell);
  nfh__free(door);
}

static uint32_t cell_index(const nfh_door *door, uint64_t hash) {
  /* Mixes high bits in: callers' hashes may have used their low bits
   * for their own buckets. */
  return (uint32_t)((hash ^ hash >> 29) & door->mask);
}

void nfh_door_prefetch(const nfh_door *door, uint64_t hash) {
  if (door)
    __builtin_prefetch(&door->cell[cell_index(door, hash)]);
}

int nfh_door_pass(nfh_door *door, uint64_t hash) {
  /* Stored with the lowest bit set so that 0 can mean empty; two hashes
   * that differ in that bit only would pass for one key, if they also met
   * in one cell. */
  uint64_t *c = &door->cell[cell_index(door, hash)];
  uint64_t v = hash | 1;
  if (*c == v) {
    *c = 0;
    return 1;
  }
  *c = v;
  door->stopped++;
  return 0;
}

uint64_t nfh_door_stopped(const nfh_door *door) { return door->stopped; }

#define FORMAT 1u

static void put_le(uint8_t *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

size_t nfh_door_serialized_size(const nfh_door *door) {
  return 8 + 8 * ((size_t)door->mask + 1);
}

nfh_status nfh_door_serialize(const nfh_door *door, void *buf, size_t len,
                              size_t *written) {
  size_t need = nfh_door_serialized_size(door);
  *written = 0;
  if (len < need)
    return NFH_ERANGE;
  uint8_t *p = buf;
  put_le(p, FORMAT, 4);
  put_le(p + 4, (uint64_t)door->mask + 1, 4);
  for (size_t i = 0; i <= door->mask; i++)
    put_le(p + 8 + 8 * i, door->cell[i], 8);
  *written = need;
  return NFH_OK;
}

nfh_status nfh_door_deserialize(const void *data, size_t len,
                                nfh_door **out) {
  *out = NULL;
  const uint8_t *p = data;
  if (len < 8 || get_le(p, 4) != FORMAT)
    return NFH_ECORRUPT;
  uint64_t cells = get_le(p + 4, 4);
  if (cells < MIN_CELLS || cells > MAX_CELLS || (cells & (cells - 1)) ||
      len != 8 + 8 * cells)
    return NFH_ECORRUPT;
  nfh_door *d;
  nfh_status st = nfh_door_create((uint32_t)cells, &d);
  if (st != NFH_OK)
    return st;
  for (uint64_t i = 0; i < cells; i++)
    d->cell[i] = get_le(p + 8 + 8 * i, 8);
  *out = d;
  return NFH_OK;
}

void nfh_door_put(nfh_blob_writer *w, const nfh_door *door) {
  size_t len = door ? nfh_door_serialized_size(door) : 0;
  nfh_blob_put_u32(w, (uint32_t)len);
  if (!len || w->failed)
    return;
  uint8_t *buf = nfh__malloc(len);
  size_t written = 0;
  if (!buf || nfh_door_serialize(door, buf, len, &written) != NFH_OK)
    w->failed = 1;
  else
    nfh_blob_put_bytes(w, buf, written);
  nfh__free(buf);
}

nfh_status nfh_door_get(nfh_blob_reader *r, nfh_door **out) {
  *out = NULL;
  uint32_t len = nfh_blob_get_u32(r);
  const uint8_t *bytes = len ? nfh_blob_get_span(r, len) : NULL;
  if (r->failed)
    return NFH_ECORRUPT;
  if (!bytes)
    return NFH_OK;
  nfh_status st = nfh_door_deserialize(bytes, len, out);
  if (st == NFH_ECORRUPT)
    r->failed = 1;
  return st;
}
