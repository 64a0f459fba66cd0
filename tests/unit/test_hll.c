/* test_hll.c - the HyperLogLog sketch (nfhunt/hll.h). */
#include "config.h"

#include <CUnit/Basic.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/hll.h>

#include "../../plugin/common/alloc.h"

static double rel_error(double estimate, double truth) {
  return fabs(estimate - truth) / truth;
}

static void add_range(nfh_hll *h, uint32_t from, uint32_t to) {
  for (uint32_t i = from; i < to; i++)
    nfh_hll_add(h, &i, sizeof(i));
}

static void test_create_bounds(void) {
  nfh_hll *h = (nfh_hll *)1;
  CU_ASSERT_EQUAL(nfh_hll_create(3, &h), NFH_ERANGE);
  CU_ASSERT_PTR_NULL(h);
  CU_ASSERT_EQUAL(nfh_hll_create(17, &h), NFH_ERANGE);
  CU_ASSERT_EQUAL_FATAL(nfh_hll_create(10, &h), NFH_OK);
  CU_ASSERT_EQUAL(nfh_hll_precision(h), 10);
  CU_ASSERT_EQUAL(nfh_hll_count(h), 0);
  nfh_hll_destroy(h);
  nfh_hll_destroy(NULL);
}

/* Small counts are almost exact (linear counting), large ones within
 * a few standard errors (1.04/sqrt(1024) = 3.25% at precision 10). */
static void test_accuracy(void) {
  static const uint32_t sizes[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  nfh_hll *h;
  CU_ASSERT_EQUAL_FATAL(nfh_hll_create(10, &h), NFH_OK);
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    nfh_hll_clear(h);
    add_range(h, 0, sizes[s]);
    double e = nfh_hll_count(h);
    double tolerance = sizes[s] <= 100 ? 0.03 : 0.10;
    CU_ASSERT(rel_error(e, sizes[s]) <= tolerance);
  }
  nfh_hll_destroy(h);
}

/* Adding the same items again changes nothing. */
static void test_duplicates(void) {
  nfh_hll *h;
  CU_ASSERT_EQUAL_FATAL(nfh_hll_create(12, &h), NFH_OK);
  add_range(h, 0, 5000);
  double once = nfh_hll_count(h);
  int grew = 0;
  for (int round = 0; round < 3; round++)
    for (uint32_t i = 0; i < 5000; i++)
      grew += nfh_hll_add(h, &i, sizeof(i));
  CU_ASSERT_EQUAL(grew, 0);
  CU_ASSERT_EQUAL(nfh_hll_count(h), once);
  CU_ASSERT(rel_error(once, 5000) < 0.05);
  nfh_hll_destroy(h);
}

/* The merge of two sketches estimates the union, not the sum. */
static void test_merge(void) {
  nfh_hll *a, *b, *c;
  CU_ASSERT_EQUAL_FATAL(nfh_hll_create(10, &a), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_hll_create(10, &b), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_hll_create(11, &c), NFH_OK);
  add_range(a, 0, 3000);
  add_range(b, 2000, 5000); /* 1000 in common */
  CU_ASSERT_EQUAL(nfh_hll_merge(a, b), NFH_OK);
  CU_ASSERT(rel_error(nfh_hll_count(a), 5000) < 0.10);
  double before = nfh_hll_count(a);
  CU_ASSERT_EQUAL(nfh_hll_merge(a, c), NFH_EINVAL);
  CU_ASSERT_EQUAL(nfh_hll_count(a), before);
  nfh_hll_destroy(a);
  nfh_hll_destroy(b);
  nfh_hll_destroy(c);
}

/* Pre-hashed keys: nfh_hll_add_hash(nfh_hll_hash(x)) is nfh_hll_add(x). */
static void test_add_hash(void) {
  nfh_hll *a, *b;
  CU_ASSERT_EQUAL_FATAL(nfh_hll_create(8, &a), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_hll_create(8, &b), NFH_OK);
  for (uint32_t i = 0; i < 700; i++) {
    nfh_hll_add(a, &i, sizeof(i));
    nfh_hll_add_hash(b, nfh_hll_hash(&i, sizeof(i)));
  }
  CU_ASSERT_EQUAL(nfh_hll_count(a), nfh_hll_count(b));
  /* Sequential integers as keys are mixed well enough too. */
  nfh_hll_clear(b);
  for (uint64_t i = 0; i < 700; i++)
    nfh_hll_add_hash(b, i);
  CU_ASSERT(rel_error(nfh_hll_count(b), 700) < 0.2);
  nfh_hll_destroy(a);
  nfh_hll_destroy(b);
}

static void test_serialize(void) {
  nfh_hll *h, *back = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_hll_create(9, &h), NFH_OK);
  add_range(h, 100, 2100);
  size_t size = nfh_hll_serialized_size(h), written;
  CU_ASSERT_EQUAL(size, 4 + 512);
  uint8_t *buf = malloc(size);
  CU_ASSERT_EQUAL(nfh_hll_serialize(h, buf, size - 1, &written), NFH_ERANGE);
  CU_ASSERT_EQUAL(written, 0);
  CU_ASSERT_EQUAL_FATAL(nfh_hll_serialize(h, buf, size, &written), NFH_OK);
  CU_ASSERT_EQUAL(written, size);
  CU_ASSERT_EQUAL_FATAL(nfh_hll_deserialize(buf, size, &back), NFH_OK);
  CU_ASSERT_EQUAL(nfh_hll_count(back), nfh_hll_count(h));
  nfh_hll_destroy(back);
  /* Damaged input is refused, never trusted. */
  CU_ASSERT_EQUAL(nfh_hll_deserialize(buf, size - 1, &back), NFH_ECORRUPT);
  CU_ASSERT_PTR_NULL(back);
  CU_ASSERT_EQUAL(nfh_hll_deserialize(buf, 2, &back), NFH_ECORRUPT);
  buf[2] = 30;
  CU_ASSERT_EQUAL(nfh_hll_deserialize(buf, size, &back), NFH_ECORRUPT);
  buf[2] = 9;
  buf[10] = 200;
  CU_ASSERT_EQUAL(nfh_hll_deserialize(buf, size, &back), NFH_ECORRUPT);
  buf[0] = 'X';
  CU_ASSERT_EQUAL(nfh_hll_deserialize(buf, size, &back), NFH_ECORRUPT);
  free(buf);
  nfh_hll_destroy(h);
}

/* Every allocation failure is reported, and leaves nothing behind. */
static void test_out_of_memory(void) {
  for (long n = 0; n < 2; n++) {
    nfh_hll *h = (nfh_hll *)1;
    nfh__alloc_fail_after(n);
    CU_ASSERT_EQUAL(nfh_hll_create(10, &h), NFH_ENOMEM);
    CU_ASSERT_PTR_NULL(h);
    nfh__alloc_fail_after(-1);
  }
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return CU_get_error();
  CU_pSuite s = CU_add_suite("hll", NULL, NULL);
  if (!s || !CU_add_test(s, "create bounds", test_create_bounds) ||
      !CU_add_test(s, "accuracy", test_accuracy) ||
      !CU_add_test(s, "duplicates", test_duplicates) ||
      !CU_add_test(s, "merge", test_merge) ||
      !CU_add_test(s, "add_hash", test_add_hash) ||
      !CU_add_test(s, "serialize", test_serialize) ||
      !CU_add_test(s, "out of memory", test_out_of_memory)) {
    CU_cleanup_registry();
    return CU_get_error();
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failures = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
