/*
 * blob.h - byte-order independent encoding of the beaconing detector's
 * state blob.
 *
 * The blob outlives the build that wrote it and may come back damaged (a
 * disk error, a state copied from another machine), so every value is
 * written field by field, little-endian, and every read is bounds
 * checked: a short or corrupt blob makes the reader fail, never read
 * past its end.
 */
#ifndef NFH_BEACON_BLOB_H
#define NFH_BEACON_BLOB_H

#include <stddef.h>
#include <stdint.h>

/* A growing output buffer allocated with malloc(3) (the plugin ABI hands
 * it to the host, which frees it with free(3)). Zero it and set 'limit',
 * the hard cap in bytes. */
typedef struct nfh__bcn_wbuf {
  uint8_t *data;
  size_t len, cap, limit;
  int failed; /* memory ran out or the limit was hit: later writes are
                 ignored, the caller checks once at the end */
} nfh__bcn_wbuf;

void nfh__bcn_put_u8(nfh__bcn_wbuf *w, uint8_t v);
void nfh__bcn_put_u16(nfh__bcn_wbuf *w, uint16_t v);
void nfh__bcn_put_u32(nfh__bcn_wbuf *w, uint32_t v);
void nfh__bcn_put_u64(nfh__bcn_wbuf *w, uint64_t v);
void nfh__bcn_put_bytes(nfh__bcn_wbuf *w, const void *p, size_t n);

/* A reader over borrowed bytes. A read past the end returns 0 (or
 * zeroes) and sets 'failed'. */
typedef struct nfh__bcn_rbuf {
  const uint8_t *data;
  size_t len, off;
  int failed;
} nfh__bcn_rbuf;

uint8_t nfh__bcn_get_u8(nfh__bcn_rbuf *r);
uint16_t nfh__bcn_get_u16(nfh__bcn_rbuf *r);
uint32_t nfh__bcn_get_u32(nfh__bcn_rbuf *r);
uint64_t nfh__bcn_get_u64(nfh__bcn_rbuf *r);
void nfh__bcn_get_bytes(nfh__bcn_rbuf *r, void *p, size_t n);

/* Borrows the next n bytes (NULL and 'failed' set when fewer remain). */
const uint8_t *nfh__bcn_get_span(nfh__bcn_rbuf *r, size_t n);

#endif
