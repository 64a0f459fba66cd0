/* test_door.c - the admission filter (nfhunt/door.h). */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdlib.h>

#include <nfhunt/door.h>

static uint64_t mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0x9e3779b97f4a7c15ull;
  x ^= x >> 29;
  return x;
}

/* A key passes on its second sighting, and the door then forgets it. */
static void test_second_sighting(void) {
  nfh_door *d = (nfh_door *)1;
  CU_ASSERT_EQUAL_FATAL(nfh_door_create(100, &d), NFH_OK);
  CU_ASSERT_EQUAL(nfh_door_pass(d, mix(1)), 0);
  CU_ASSERT_EQUAL(nfh_door_pass(d, mix(2)), 0);
  CU_ASSERT_EQUAL(nfh_door_pass(d, mix(1)), 1);
  CU_ASSERT_EQUAL(nfh_door_pass(d, mix(1)), 0); /* forgotten: again */
  CU_ASSERT_EQUAL(nfh_door_pass(d, mix(2)), 1);
  CU_ASSERT_EQUAL(nfh_door_stopped(d), 3);
  /* Zero and all-ones hashes are keys like others. */
  CU_ASSERT_EQUAL(nfh_door_pass(d, 0), 0);
  CU_ASSERT_EQUAL(nfh_door_pass(d, 0), 1);
  CU_ASSERT_EQUAL(nfh_door_pass(d, UINT64_MAX), 0);
  CU_ASSERT_EQUAL(nfh_door_pass(d, UINT64_MAX), 1);
  nfh_door_destroy(d);
  nfh_door_destroy(NULL);
}

/* A stream of keys seen once is stopped whole, and a key that comes back
 * among them passes as long as the door remembers it: with a door of
 * 2^16 cells, a key seen again 10,000 keys later passes almost always
 * (the chance of being overwritten is about 14%), one seen again a
 * million keys later almost never. */
static void test_crowd(void) {
  nfh_door *d;
  CU_ASSERT_EQUAL_FATAL(nfh_door_create(65536, &d), NFH_OK);
  unsigned passed_near = 0, passed_far = 0, stranger_passed = 0;
  uint64_t next = 1000000;
  for (unsigned k = 0; k < 200; k++) {
    uint64_t key = mix(k + 1);
    nfh_door_pass(d, key);
    for (unsigned i = 0; i < 10000; i++)
      stranger_passed += (unsigned)nfh_door_pass(d, mix(next++));
    passed_near += (unsigned)nfh_door_pass(d, key);
  }
  for (unsigned k = 0; k < 20; k++) {
    uint64_t key = mix(k + 5000);
    nfh_door_pass(d, key);
    for (unsigned i = 0; i < 1000000; i++)
      stranger_passed += (unsigned)nfh_door_pass(d, mix(next++));
    passed_far += (unsigned)nfh_door_pass(d, key);
  }
  CU_ASSERT_EQUAL(stranger_passed, 0);
  CU_ASSERT(passed_near >= 150);
  CU_ASSERT(passed_far <= 2);
  nfh_door_destroy(d);
}

/* Sizes are rounded to powers of two within bounds; huge asks are capped
 * rather than failing. */
static void test_sizes(void) {
  nfh_door *d;
  CU_ASSERT_EQUAL_FATAL(nfh_door_create(0, &d), NFH_OK);
  CU_ASSERT_EQUAL(nfh_door_pass(d, 42), 0);
  CU_ASSERT_EQUAL(nfh_door_pass(d, 42), 1);
  nfh_door_destroy(d);
  CU_ASSERT_EQUAL_FATAL(nfh_door_create(UINT32_MAX, &d), NFH_OK);
  nfh_door_destroy(d);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("door", NULL, NULL);
  CU_add_test(s, "second sighting", test_second_sighting);
  CU_add_test(s, "a crowd of strangers", test_crowd);
  CU_add_test(s, "sizes", test_sizes);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
