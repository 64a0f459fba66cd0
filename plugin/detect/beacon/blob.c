/* blob.c - the state blob's encoding; see blob.h. */
#include <stdlib.h>
#include <string.h>

#include "blob.h"

static uint8_t *reserve(nfh__bcn_wbuf *w, size_t n) {
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

static void put_le(nfh__bcn_wbuf *w, uint64_t v, size_t n) {
  uint8_t *p = reserve(w, n);
  if (p)
    for (size_t i = 0; i < n; i++)
      p[i] = (uint8_t)(v >> (8 * i));
}

void nfh__bcn_put_u8(nfh__bcn_wbuf *w, uint8_t v) { put_le(w, v, 1); }
void nfh__bcn_put_u16(nfh__bcn_wbuf *w, uint16_t v) { put_le(w, v, 2); }
void nfh__bcn_put_u32(nfh__bcn_wbuf *w, uint32_t v) { put_le(w, v, 4); }
void nfh__bcn_put_u64(nfh__bcn_wbuf *w, uint64_t v) { put_le(w, v, 8); }

void nfh__bcn_put_bytes(nfh__bcn_wbuf *w, const void *src, size_t n) {
  uint8_t *p = reserve(w, n);
  if (p && n)
    memcpy(p, src, n);
}

const uint8_t *nfh__bcn_get_span(nfh__bcn_rbuf *r, size_t n) {
  if (r->failed || r->len - r->off < n) {
    r->failed = 1;
    return NULL;
  }
  const uint8_t *p = r->data + r->off;
  r->off += n;
  return p;
}

static uint64_t get_le(nfh__bcn_rbuf *r, size_t n) {
  const uint8_t *p = nfh__bcn_get_span(r, n);
  uint64_t v = 0;
  if (p)
    for (size_t i = 0; i < n; i++)
      v |= (uint64_t)p[i] << (8 * i);
  return v;
}

uint8_t nfh__bcn_get_u8(nfh__bcn_rbuf *r) { return (uint8_t)get_le(r, 1); }
uint16_t nfh__bcn_get_u16(nfh__bcn_rbuf *r) {
  return (uint16_t)get_le(r, 2);
}
uint32_t nfh__bcn_get_u32(nfh__bcn_rbuf *r) {
  return (uint32_t)get_le(r, 4);
}
uint64_t nfh__bcn_get_u64(nfh__bcn_rbuf *r) { return get_le(r, 8); }

void nfh__bcn_get_bytes(nfh__bcn_rbuf *r, void *dst, size_t n) {
  const uint8_t *p = nfh__bcn_get_span(r, n);
  if (p)
    memcpy(dst, p, n);
  else
    memset(dst, 0, n);
}
