/*
 * nfhunt/hll.h - HyperLogLog: counting distinct items in fixed memory.
 *
 * Detectors count distinct things per host (destinations a source
 * touched, ports probed on one target, sources hitting one victim). Exact
 * sets cost memory in proportion to the count, and an attacker controls
 * the count. A HyperLogLog sketch (Flajolet et al., 2007) answers "how
 * many distinct?" within a known relative error, 1.04 / sqrt(2^precision),
 * in 2^precision bytes, however many items are added: precision 10 gives
 * about 3% in 1 KiB. Sketches of the same precision merge into the
 * sketch of the union, so per-host sketches can be combined afterwards
 * (the distinct targets of several sources together).
 *
 * The usual pattern is to count exactly up to a cap and switch to a
 * sketch seeded with the exact set beyond it.
 *
 * Items are hashed with a 64-bit hash; nfh_hll_hash() exposes that hash
 * so a caller that keeps its own hashed keys adds them with
 * nfh_hll_add_hash() without hashing twice. nfh_hll_add_hash() mixes the
 * value again, so any 64-bit value with distinct values for distinct
 * items will do.
 *
 * A sketch is not thread-safe; a sketch used from one thread at a time
 * needs no locking.
 */
#ifndef NFHUNT_HLL_H
#define NFHUNT_HLL_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nfh_hll nfh_hll;

/* Precision bounds: 2^4 = 16 registers (26% error) up to 2^16 = 65536
 * registers (0.4% error, 64 KiB). */
#define NFH_HLL_MIN_PRECISION 4
#define NFH_HLL_MAX_PRECISION 16

/* Creates an empty sketch with 2^precision one-byte registers. Returns
 * NFH_OK; NFH_ERANGE for a precision outside the bounds; NFH_ENOMEM. On
 * failure *out is NULL. */
nfh_status nfh_hll_create(unsigned precision, nfh_hll **out);

/* Frees the sketch. NULL is a no-op. */
void nfh_hll_destroy(nfh_hll *hll);

/* Empties the sketch (keeps its precision and memory). */
void nfh_hll_clear(nfh_hll *hll);

/* The sketch's precision. */
unsigned nfh_hll_precision(const nfh_hll *hll);

/* The 64-bit hash nfh_hll_add() applies to 'len' bytes at 'data'. */
uint64_t nfh_hll_hash(const void *data, size_t len);

/* Adds an item: its bytes are hashed (borrowed for the call only).
 * Returns 1 when a register grew (the item was certainly new), 0 when
 * not (it may have been seen before). Cannot fail. */
int nfh_hll_add(nfh_hll *hll, const void *data, size_t len);

/* Adds an item given by a 64-bit key, such as nfh_hll_hash() of it.
 * Same return as nfh_hll_add(). */
int nfh_hll_add_hash(nfh_hll *hll, uint64_t hash);

/* Estimated number of distinct items added: linear counting while many
 * registers are empty, the HyperLogLog estimate beyond. 0 for an empty
 * sketch. */
double nfh_hll_count(const nfh_hll *hll);

/* Merges 'src' into 'dst': afterwards dst estimates the union. 'src'
 * is borrowed for the call. Returns NFH_OK, or NFH_EINVAL when the
 * precisions differ (dst is then unchanged). */
nfh_status nfh_hll_merge(nfh_hll *dst, const nfh_hll *src);

/* Bytes nfh_hll_serialize() writes for this sketch. */
size_t nfh_hll_serialized_size(const nfh_hll *hll);

/* Writes the sketch into buf (at most 'len' bytes): a 4-byte header
 * (format 1, precision) and the registers, independent of byte order.
 * *written gets the size. Returns NFH_OK, or NFH_ERANGE when buf is too
 * small (nothing useful written, *written 0). */
nfh_status nfh_hll_serialize(const nfh_hll *hll, void *buf, size_t len,
                             size_t *written);

/* Rebuilds a sketch from nfh_hll_serialize() output ('data' borrowed).
 * Returns NFH_OK; NFH_ECORRUPT when the bytes are not a sketch of a
 * known format (wrong size, header, or register beyond its range);
 * NFH_ENOMEM. On failure *out is NULL. */
nfh_status nfh_hll_deserialize(const void *data, size_t len, nfh_hll **out);

#ifdef __cplusplus
}
#endif
#endif
