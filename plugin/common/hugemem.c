/* hugemem.c - memory for large tables probed at random; see
 * nfhunt/hugemem.h. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <nfhunt/hugemem.h>

#include "alloc.h"

#define HUGE_PAGE ((size_t)2 << 20)

/* AddressSanitizer checks only the blocks of its own allocator: under it
 * every block comes from malloc(3), so that the tables' overflows are
 * still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE) && !defined(UNDER_ASAN)
#define MAPPED 1
#endif

#ifdef MAPPED
/* Whether a block of this size is mapped (else from malloc). */
static int mapped(size_t bytes) { return bytes >= NFH_HUGEMEM_MIN; }

/* What a mapped block of 'bytes' occupies: whole huge pages. */
static size_t map_len(size_t bytes) {
  return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* A fresh, zero-filled mapping of len bytes (a multiple of HUGE_PAGE)
 * that starts on a huge page boundary, advised onto huge pages; NULL.
 * mmap(2) aligns to the base page only, so one huge page more is mapped
 * and the ends cut off. */
static void *map_aligned(size_t len) {
  size_t over = len + HUGE_PAGE;
  char *m = mmap(NULL, over, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return NULL;
  char *b = (char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
  if (b > m)
    munmap(m, (size_t)(b - m));
  if (b + len < m + over)
    munmap(b + len, (size_t)(m + over - (b + len)));
  /* Advice only: a kernel without transparent huge pages says EINVAL,
   * and the block works on small pages. */
  madvise(b, len, MADV_HUGEPAGE);
  return b;
}
#else
static int mapped(size_t bytes) {
  (void)bytes;
  return 0;
}
#endif

void *nfh_hugemem_alloc(size_t bytes) {
#ifdef MAPPED
  if (mapped(bytes))
    return map_aligned(map_len(bytes));
#endif
  return nfh__calloc(1, bytes);
}

void nfh_hugemem_free(void *block, size_t bytes) {
  if (!block)
    return;
#ifdef MAPPED
  if (mapped(bytes)) {
    munmap(block, map_len(bytes));
    return;
  }
#endif
  nfh__free(block);
}

void *nfh_hugemem_resize(void *block, size_t old_bytes, size_t new_bytes) {
  if (!block)
    return nfh_hugemem_alloc(new_bytes);
  if (!mapped(old_bytes) && !mapped(new_bytes)) {
    char *grown = nfh__realloc(block, new_bytes);
    if (grown && new_bytes > old_bytes)
      memset(grown + old_bytes, 0, new_bytes - old_bytes);
    return grown;
  }
#if defined(MAPPED) && defined(MREMAP_MAYMOVE)
  if (mapped(old_bytes) && mapped(new_bytes)) {
    size_t old_len = map_len(old_bytes), new_len = map_len(new_bytes);
    /* The mapping's bytes past old_bytes may hold what a larger size
     * left there; pages mremap adds are zero. */
    if (new_bytes > old_bytes)
      memset((char *)block + old_bytes, 0,
             (new_bytes < old_len ? new_bytes : old_len) - old_bytes);
    if (new_len == old_len)
      return block;
    void *moved = mremap(block, old_len, new_len, MREMAP_MAYMOVE);
    if (moved == MAP_FAILED)
      return NULL;
    /* The advice moves with the mapping; a grown one's new pages are
     * covered again all the same. */
    madvise(moved, new_len, MADV_HUGEPAGE);
    return moved;
  }
#endif
  /* Across the threshold (or without mremap): a new block and a copy. */
  void *fresh = nfh_hugemem_alloc(new_bytes);
  if (!fresh)
    return NULL;
  memcpy(fresh, block, old_bytes < new_bytes ? old_bytes : new_bytes);
  nfh_hugemem_free(block, old_bytes);
  return fresh;
}
