/* test_hugemem.c - memory for large tables (nfhunt/hugemem.h). */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/hugemem.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define MIB ((size_t)1 << 20)

static int all_zero(const unsigned char *p, size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    if (p[i])
      return 0;
  return 1;
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (unsigned char)(i * 31 + seed) | 1;
}

static int filled(const unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != ((unsigned char)(i * 31 + seed) | 1))
      return 0;
  return 1;
}

/* Blocks of every size start zeroed, and the empty block is valid. */
static void test_alloc_zeroed(void) {
  size_t sizes[] = {0, 1, 4096, NFH_HUGEMEM_MIN - 1, NFH_HUGEMEM_MIN,
                    5 * MIB + 123};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    unsigned char *p = nfh_hugemem_alloc(sizes[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT(all_zero(p, 0, sizes[i]));
    fill(p, sizes[i], 7);
    nfh_hugemem_free(p, sizes[i]);
  }
  nfh_hugemem_free(NULL, 0);
  nfh_hugemem_free(NULL, 8 * MIB);
}

/* Growing keeps the contents and zeroes the rest, below the threshold,
 * across it, and within and between mappings; shrinking keeps the
 * front. A mapping shrunk and grown again does not show what the larger
 * size left in it. */
static void test_resize(void) {
  size_t steps[] = {100,      MIB,      3 * MIB,  3 * MIB + 5000,
                    12 * MIB, 2 * MIB + 1, 4 * MIB, MIB / 2,
                    6 * MIB,  0,        3 * MIB};
  size_t n = 0;
  unsigned char *p = nfh_hugemem_resize(NULL, 0, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    size_t m = steps[i];
    fill(p, n, (unsigned)i);
    unsigned char *q = nfh_hugemem_resize(p, n, m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    size_t kept = n < m ? n : m;
    CU_ASSERT(filled(q, kept, (unsigned)i));
    CU_ASSERT(all_zero(q, kept, m));
    p = q;
    n = m;
  }
  nfh_hugemem_free(p, n);
}

/* The size of a block's mapping holding 'addr' and whether the kernel
 * may back it with huge pages, from /proc/self/smaps; 0 if not found. */
static int thp_eligible(const void *addr, int *eligible) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f)
    return 0;
  char line[512];
  int inside = 0, found = 0;
  uintptr_t a = (uintptr_t)addr;
  while (fgets(line, sizeof(line), f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') &&
        line[0] != ' ') {
      inside = a >= lo && a < hi;
      continue;
    }
    int v;
    if (inside && sscanf(line, "THPeligible: %d", &v) == 1) {
      *eligible = v;
      found = 1;
      break;
    }
  }
  fclose(f);
  return found;
}

/* A large block starts on a huge page and, where the kernel takes the
 * advice (transparent huge pages "madvise" or "always"), may be backed
 * by huge pages; a small one is an ordinary heap block. */
static void test_huge_pages(void) {
#ifdef UNDER_ASAN
  CU_PASS("AddressSanitizer: blocks come from malloc");
  return;
#else
  unsigned char *big = nfh_hugemem_alloc(8 * MIB);
  CU_ASSERT_PTR_NOT_NULL_FATAL(big);
  CU_ASSERT_EQUAL((uintptr_t)big & (2 * MIB - 1), 0);
  char mode[128] = "";
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (f) {
    if (!fgets(mode, sizeof(mode), f))
      mode[0] = 0;
    fclose(f);
  }
  int eligible = -1;
  if ((strstr(mode, "[madvise]") || strstr(mode, "[always]")) &&
      thp_eligible(big, &eligible))
    CU_ASSERT_EQUAL(eligible, 1);
  unsigned char *grown = nfh_hugemem_resize(big, 8 * MIB, 20 * MIB);
  CU_ASSERT_PTR_NOT_NULL_FATAL(grown);
  eligible = -1;
  if ((strstr(mode, "[madvise]") || strstr(mode, "[always]")) &&
      thp_eligible(grown + 19 * MIB, &eligible))
    CU_ASSERT_EQUAL(eligible, 1);
  nfh_hugemem_free(grown, 20 * MIB);
#endif
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("hugemem", NULL, NULL);
  CU_add_test(s, "blocks start zeroed", test_alloc_zeroed);
  CU_add_test(s, "resize keeps and zeroes", test_resize);
  CU_add_test(s, "large blocks on huge pages", test_huge_pages);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
