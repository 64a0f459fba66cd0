/*
 * nfhunt/hugemem.h - memory for large tables probed at random.
 *
 * A detector's hash table over hundreds of thousands of keys is tens of
 * megabytes, and every probe lands on a page of its own. With 4 KiB
 * pages nearly every probe also misses the TLB, a page walk on top of
 * the cache miss. Where the kernel leaves transparent huge pages to the
 * program's advice (the default, "madvise"), a table allocated here is
 * advised onto 2 MiB pages: one TLB entry covers 512 times as much. With
 * the stitcher's and the beaconing and exfiltration detectors' tables
 * here, the full hunt of the bench's realistic day took about 10% less
 * CPU time.
 *
 * Blocks below NFH_HUGEMEM_MIN come from malloc(3) as usual, and so does
 * every block under AddressSanitizer, which checks only its own heap.
 * The caller keeps the size: resize and free take it.
 *
 * Thread-safe, as malloc(3) is.
 */
#ifndef NFHUNT_HUGEMEM_H
#define NFHUNT_HUGEMEM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Blocks from this size up are mapped and advised onto huge pages. */
#define NFH_HUGEMEM_MIN ((size_t)2 << 20)

/* A zero-filled block of 'bytes' (0 gives a valid, empty block), owned
 * by the caller until nfh_hugemem_free(block, bytes); NULL when memory
 * runs out. */
void *nfh_hugemem_alloc(size_t bytes);

/* Like realloc(3) for a block of 'old_bytes' from this module: the
 * contents up to the smaller size stay, and bytes beyond 'old_bytes' are
 * zero. NULL when memory runs out, and the old block is then as it was.
 * A NULL block with old_bytes 0 allocates. */
void *nfh_hugemem_resize(void *block, size_t old_bytes, size_t new_bytes);

/* Frees a block of 'bytes' from this module (its size as allocated or
 * last resized). NULL is a no-op. */
void nfh_hugemem_free(void *block, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
