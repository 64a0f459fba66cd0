/*
 * blob.h - byte-order independent encoding of the volumetric detector's
 * state blob.
 *
 * The blob outlives the build that wrote it and may come back damaged
 * (a disk error, a hand edit, a state from another machine), so every
 * value is written field by field in little-endian order and every read
 * is bounds-checked: a short or corrupt blob makes the reader fail,
 * never read past its end.
 */
#ifndef NFH_VOLUMETRIC_BLOB_H
#define NFH_VOLUMETRIC_BLOB_H

#include <stddef.h>
#include <stdint.h>

/* A growing output buffer allocated with malloc(3), so that its data can
 * be handed to the host as the plugin ABI asks. Zero-initialise it, set
 * 'limit' (bytes, the hard cap). */
typedef struct nfh__vol_wbuf {
  uint8_t *data;
  size_t len, cap, limit;
  int failed; /* set once memory ran out or the limit was reached; later
                 writes are then ignored */
} nfh__vol_wbuf;

void nfh__vol_put_u8(nfh__vol_wbuf *w, uint8_t v);
void nfh__vol_put_u16(nfh__vol_wbuf *w, uint16_t v);
void nfh__vol_put_u32(nfh__vol_wbuf *w, uint32_t v);
void nfh__vol_put_u64(nfh__vol_wbuf *w, uint64_t v);
void nfh__vol_put_f32(nfh__vol_wbuf *w, float v);
void nfh__vol_put_bytes(nfh__vol_wbuf *w, const void *p, size_t n);

/* A reader over borrowed bytes. Reads past the end return 0 and set
 * 'failed'; the caller checks it once at the end of a record. */
typedef struct nfh__vol_rbuf {
  const uint8_t *data;
  size_t len, off;
  int failed;
} nfh__vol_rbuf;

uint8_t nfh__vol_get_u8(nfh__vol_rbuf *r);
uint16_t nfh__vol_get_u16(nfh__vol_rbuf *r);
uint32_t nfh__vol_get_u32(nfh__vol_rbuf *r);
uint64_t nfh__vol_get_u64(nfh__vol_rbuf *r);
/* A float; NaN and infinities read as failures (a baseline is finite). */
float nfh__vol_get_f32(nfh__vol_rbuf *r);
void nfh__vol_get_bytes(nfh__vol_rbuf *r, void *p, size_t n);

#endif
