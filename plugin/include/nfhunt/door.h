/*
 * nfhunt/door.h - an admission filter for bounded tables ("doorkeeper").
 *
 * Detectors keep bounded tables of things they track (candidate beacon
 * pairs, upload pairs, destinations). When such a table is full, every
 * new key costs an eviction: several cache misses, a free, and the loss
 * of a record that may have been growing. Over high-cardinality traffic
 * almost every new key is seen once and never again, so a full table
 * spends most of its time throwing away useful records for keys that
 * never return.
 *
 * A door remembers the hashes of keys seen once, in a direct-mapped array
 * (later keys may overwrite earlier ones), and lets a key through on its
 * second sighting: the doorkeeper of TinyLFU (Einziger et al., 2017),
 * without the frequency sketch. A caller asks the door only when its
 * table is full, so a table with room behaves exactly as without a door;
 * the price is the first sighting of keys that arrive while the table is
 * full.
 *
 * A door is not thread-safe; one used from one thread at a time needs no
 * locking.
 */
#ifndef NFHUNT_DOOR_H
#define NFHUNT_DOOR_H

#include <stdint.h>

#include <nfhunt/blob.h>
#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nfh_door nfh_door;

/* Creates a door remembering about 'cells' hashes (rounded up to a power
 * of two, between 1024 and 2^24; 8 bytes each). Returns NFH_OK or
 * NFH_ENOMEM (*out is then NULL). */
nfh_status nfh_door_create(uint32_t cells, nfh_door **out);

/* Frees the door. NULL is a no-op. */
void nfh_door_destroy(nfh_door *door);

/* Whether the key with this 64-bit hash was seen at the door before (and
 * not overwritten since): 1, and the door forgets it; else 0, and the
 * door remembers it. Any well-mixed 64-bit hash will do. */
int nfh_door_pass(nfh_door *door, uint64_t hash);

/* Starts fetching the cell that nfh_door_pass(door, hash) will read:
 * callers that handle keys in groups overlap the cache misses. NULL is a
 * no-op. */
void nfh_door_prefetch(const nfh_door *door, uint64_t hash);

/* Keys stopped so far (calls that returned 0). */
uint64_t nfh_door_stopped(const nfh_door *door);

/* A door can be kept between runs (in a detector's state), so that a key
 * seen once near the end of one run passes when it comes back in the
 * next: a detector run hourly otherwise never admits what comes less
 * often than hourly while its table is full.
 *
 * Bytes nfh_door_serialize() writes: 8 + 8 per cell. */
size_t nfh_door_serialized_size(const nfh_door *door);

/* Writes the door into buf (at most 'len' bytes): a header (format 1,
 * cell count) and the cells, little-endian. *written gets the size.
 * Returns NFH_OK, or NFH_ERANGE when buf is too small (*written 0). */
nfh_status nfh_door_serialize(const nfh_door *door, void *buf, size_t len,
                              size_t *written);

/* Rebuilds a door from nfh_door_serialize() output ('data' borrowed).
 * Returns NFH_OK; NFH_ECORRUPT when the bytes are not a door of a known
 * format (size, header, or a cell count that is not a power of two within
 * the bounds); NFH_ENOMEM. On failure *out is NULL. */
nfh_status nfh_door_deserialize(const void *data, size_t len,
                                nfh_door **out);

/* Writes a door into a detector's state blob (nfhunt/blob.h): the size of
 * its nfh_door_serialize() bytes as a u32, then those bytes; NULL (no
 * door yet) as size 0. Memory running out fails the writer. */
void nfh_door_put(nfh_blob_writer *w, const nfh_door *door);

/* Reads what nfh_door_put() wrote: *out gets the door (the caller's), or
 * NULL when none was written. Returns NFH_OK; NFH_ECORRUPT when the
 * reader runs out or the bytes are not a door (the reader is failed
 * then); NFH_ENOMEM. */
nfh_status nfh_door_get(nfh_blob_reader *r, nfh_door **out);

#ifdef __cplusplus
}
#endif
#endif
