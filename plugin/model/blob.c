/* blob.c - state blob encoding; see nfhunt/blob.h. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/blob.h>

/* The writer's buffer is malloc(3)'d, not nfh__malloc'd: the host frees
 * the blobs it is handed with free(3) (nfhunt-plugin(3)). */
static uint8_t *reserve(nfh_blob_writer *w, size_t n) {
  if (w->failed)
    return NULL;
  if (n > w->limit || w->len > w->limit - n) {
    w->failed = 1;
    return NULL;
  }
  if (w->len + n > w->cap) {
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + n)
      cap *= 2;
    uint8_t *grown = realloc(w->data, cap);
    if (!grown) {
      w->failed = 1;
      return NULL;
    }
    w->data = grown;
    w->cap = cap;
  }
  uint8_t *p = w->data + w->len;
  w->len += n;
  return p;
}

static void put_le(nfh_blob_writer *w, uint64_t v, size_t n) {
  uint8_t *p = reserve(w, n);
  if (p)
    for (size_t i = 0; i < n; i++)
      p[i] = (uint8_t)(v >> (8 * i));
}

void nfh_blob_put_u8(nfh_blob_writer *w, uint8_t v) { put_le(w, v, 1); }
void nfh_blob_put_u16(nfh_blob_writer *w, uint16_t v) { put_le(w, v, 2); }
void nfh_blob_put_u32(nfh_blob_writer *w, uint32_t v) { put_le(w, v, 4); }
void nfh_blob_put_u64(nfh_blob_writer *w, uint64_t v) { put_le(w, v, 8); }

void nfh_blob_put_f32(nfh_blob_writer *w, float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof(u)); /* IEEE 754 binary32 on every target */
  put_le(w, u, 4);
}

void nfh_blob_put_bytes(nfh_blob_writer *w, const void *src, size_t n) {
  uint8_t *p = reserve(w, n);
  if (p && n)
    memcpy(p, src, n);
}

const uint8_t *nfh_blob_get_span(nfh_blob_reader *r, size_t n) {
  if (r->failed || r->len - r->off < n) {
    r->failed = 1;
    return NULL;
  }
  const uint8_t *p = r->data + r->off;
  r->off += n;
  return p;
}

static uint64_t get_le(nfh_blob_reader *r, size_t n) {
  const uint8_t *p = nfh_blob_get_span(r, n);
  uint64_t v = 0;
  if (p)
    for (size_t i = 0; i < n; i++)
      v |= (uint64_t)p[i] << (8 * i);
  return v;
}

uint8_t nfh_blob_get_u8(nfh_blob_reader *r) { return (uint8_t)get_le(r, 1); }
uint16_t nfh_blob_get_u16(nfh_blob_reader *r) {
  return (uint16_t)get_le(r, 2);
}
uint32_t nfh_blob_get_u32(nfh_blob_reader *r) {
  return (uint32_t)get_le(r, 4);
}
uint64_t nfh_blob_get_u64(nfh_blob_reader *r) { return get_le(r, 8); }

float nfh_blob_get_f32(nfh_blob_reader *r) {
  uint32_t u = (uint32_t)get_le(r, 4);
  float v;
  memcpy(&v, &u, sizeof(v));
  if (!isfinite(v)) {
    r->failed = 1;
    return 0;
  }
  return v;
}

void nfh_blob_get_bytes(nfh_blob_reader *r, void *dst, size_t n) {
  const uint8_t *p = nfh_blob_get_span(r, n);
  if (p && n)
    memcpy(dst, p, n);
  else if (!p)
    memset(dst, 0, n);
}
