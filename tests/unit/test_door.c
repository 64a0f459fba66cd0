/* test_door.c - the admission filter (nfhunt/door.h). */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* A door written and read back remembers what it remembered; damaged
 * bytes are refused, never read past. */
static void test_serialize(void) {
  nfh_door *d;
  CU_ASSERT_EQUAL_FATAL(nfh_door_create(2000, &d), NFH_OK);
  for (uint64_t k = 1; k <= 100; k++)
    nfh_door_pass(d, mix(k));
  size_t len = nfh_door_serialized_size(d);
  CU_ASSERT_EQUAL(len, 8 + 8 * 2048);
  uint8_t *buf = malloc(len);
  size_t written = 1;
  CU_ASSERT_EQUAL(nfh_door_serialize(d, buf, len - 1, &written), NFH_ERANGE);
  CU_ASSERT_EQUAL(written, 0);
  CU_ASSERT_EQUAL_FATAL(nfh_door_serialize(d, buf, len, &written), NFH_OK);
  CU_ASSERT_EQUAL(written, len);
  nfh_door *back = (nfh_door *)1;
  CU_ASSERT_EQUAL_FATAL(nfh_door_deserialize(buf, len, &back), NFH_OK);
  unsigned passed = 0;
  for (uint64_t k = 1; k <= 100; k++)
    passed += (unsigned)nfh_door_pass(back, mix(k));
  CU_ASSERT(passed >= 95); /* all but the few that shared a cell */
  CU_ASSERT_EQUAL(nfh_door_stopped(back), 0);
  nfh_door_destroy(back);
  /* Damage: short, another format, a cell count that is not a power of
   * two or out of bounds, a length that does not match. */
  CU_ASSERT_EQUAL(nfh_door_deserialize(buf, 7, &back), NFH_ECORRUPT);
  CU_ASSERT_PTR_NULL(back);
  CU_ASSERT_EQUAL(nfh_door_deserialize(buf, len - 8, &back), NFH_ECORRUPT);
  uint8_t saved = buf[0];
  buf[0] = 9;
  CU_ASSERT_EQUAL(nfh_door_deserialize(buf, len, &back), NFH_ECORRUPT);
  buf[0] = saved;
  buf[4] = 1; /* 2049 cells */
  CU_ASSERT_EQUAL(nfh_door_deserialize(buf, len, &back), NFH_ECORRUPT);
  buf[4] = 0;
  buf[5] = 0; /* 0 cells */
  CU_ASSERT_EQUAL(nfh_door_deserialize(buf, 8, &back), NFH_ECORRUPT);
  buf[7] = 0xff; /* beyond the bound */
  CU_ASSERT_EQUAL(nfh_door_deserialize(buf, len, &back), NFH_ECORRUPT);
  free(buf);
  nfh_door_destroy(d);
}

/* In a state blob: the size, then the bytes, exactly what a detector's
 * state held before nfh_door_put existed; no door is size 0; a blob cut
 * short or holding no door fails the reader. */
static void test_blob(void) {
  nfh_door *d;
  CU_ASSERT_EQUAL_FATAL(nfh_door_create(1024, &d), NFH_OK);
  for (uint64_t k = 1; k <= 50; k++)
    nfh_door_pass(d, mix(k));
  nfh_blob_writer w = {NULL, 0, 0, 1 << 20, 0};
  nfh_blob_put_u8(&w, 7);
  nfh_door_put(&w, d);
  nfh_door_put(&w, NULL);
  nfh_blob_put_u8(&w, 9);
  CU_ASSERT_FATAL(!w.failed);
  size_t len = nfh_door_serialized_size(d);
  CU_ASSERT_EQUAL_FATAL(w.len, 1 + 4 + len + 4 + 1);
  uint8_t *plain = malloc(len);
  size_t written = 0;
  CU_ASSERT_EQUAL_FATAL(nfh_door_serialize(d, plain, len, &written), NFH_OK);
  CU_ASSERT(w.data[1] == (uint8_t)len && w.data[2] == (uint8_t)(len >> 8));
  CU_ASSERT(memcmp(w.data + 5, plain, len) == 0);
  free(plain);

  nfh_blob_reader r = {w.data, w.len, 0, 0};
  nfh_door *back = NULL, *none = (nfh_door *)1;
  CU_ASSERT_EQUAL(nfh_blob_get_u8(&r), 7);
  CU_ASSERT_EQUAL_FATAL(nfh_door_get(&r, &back), NFH_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(back);
  CU_ASSERT_EQUAL(nfh_door_get(&r, &none), NFH_OK);
  CU_ASSERT_PTR_NULL(none);
  CU_ASSERT_EQUAL(nfh_blob_get_u8(&r), 9);
  CU_ASSERT(!r.failed && r.off == r.len);
  unsigned passed = 0;
  for (uint64_t k = 1; k <= 50; k++)
    passed += (unsigned)nfh_door_pass(back, mix(k));
  CU_ASSERT(passed >= 45);
  nfh_door_destroy(back);

  /* Cut inside the door's bytes. */
  nfh_blob_reader cut = {w.data, 1 + 4 + len / 2, 1, 0};
  CU_ASSERT_EQUAL(nfh_door_get(&cut, &back), NFH_ECORRUPT);
  CU_ASSERT_PTR_NULL(back);
  CU_ASSERT(cut.failed);
  /* A size that holds no door. */
  w.data[5] = 9; /* the format */
  nfh_blob_reader bad = {w.data, w.len, 1, 0};
  CU_ASSERT_EQUAL(nfh_door_get(&bad, &back), NFH_ECORRUPT);
  CU_ASSERT_PTR_NULL(back);
  CU_ASSERT(bad.failed);
  free(w.data);
  nfh_door_destroy(d);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("door", NULL, NULL);
  CU_add_test(s, "second sighting", test_second_sighting);
  CU_add_test(s, "a crowd of strangers", test_crowd);
  CU_add_test(s, "sizes", test_sizes);
  CU_add_test(s, "kept between runs", test_serialize);
  CU_add_test(s, "in a state blob", test_blob);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
