/*
 * nfhunt/blob.h - byte-order independent encoding of detectors' state
 * blobs.
 *
 * A detector's state blob (nfhunt-plugin(3): state_save, state_load)
 * outlives the build that wrote it and may come back damaged (a disk
 * error, a state copied from another machine). So every value is written
 * field by field, little-endian, and every read is bounds-checked: a
 * short or corrupt blob makes the reader fail, never read past its end.
 *
 * Writer and reader are plain structs that live on the caller's stack:
 * zero a writer and set its limit, or initialise a reader over borrowed
 * bytes; errors are sticky ('failed'), so a caller writes or reads a
 * whole record and checks once at the end. Not thread-safe; one writer
 * or reader per thread.
 */
#ifndef NFHUNT_BLOB_H
#define NFHUNT_BLOB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A growing output buffer allocated with malloc(3): the plugin ABI hands
 * it to the host, which frees it with free(3); on failure the caller
 * frees 'data'. Zero it and set 'limit', the hard cap in bytes. */
typedef struct nfh_blob_writer {
  uint8_t *data;
  size_t len, cap, limit;
  int failed; /* memory ran out or the limit was hit: later writes are
                 ignored */
} nfh_blob_writer;

void nfh_blob_put_u8(nfh_blob_writer *w, uint8_t v);
void nfh_blob_put_u16(nfh_blob_writer *w, uint16_t v);
void nfh_blob_put_u32(nfh_blob_writer *w, uint32_t v);
void nfh_blob_put_u64(nfh_blob_writer *w, uint64_t v);
/* IEEE 754 binary32, as its bits. */
void nfh_blob_put_f32(nfh_blob_writer *w, float v);
/* n bytes copied from p (borrowed for the call). */
void nfh_blob_put_bytes(nfh_blob_writer *w, const void *p, size_t n);

/* A reader over borrowed bytes: { data, len, 0, 0 }. A read past the end
 * returns 0 (or zeroes) and sets 'failed'. */
typedef struct nfh_blob_reader {
  const uint8_t *data;
  size_t len, off;
  int failed;
} nfh_blob_reader;

uint8_t nfh_blob_get_u8(nfh_blob_reader *r);
uint16_t nfh_blob_get_u16(nfh_blob_reader *r);
uint32_t nfh_blob_get_u32(nfh_blob_reader *r);
uint64_t nfh_blob_get_u64(nfh_blob_reader *r);
/* A float that is not finite (NaN, infinity) sets 'failed' and reads as
 * 0: no state of a detector holds one, so it is damage. */
float nfh_blob_get_f32(nfh_blob_reader *r);
/* n bytes into p (zeroes when fewer remain). */
void nfh_blob_get_bytes(nfh_blob_reader *r, void *p, size_t n);
/* Borrows the next n bytes (NULL and 'failed' set when fewer remain). */
const uint8_t *nfh_blob_get_span(nfh_blob_reader *r, size_t n);

#ifdef __cplusplus
}
#endif
#endif
