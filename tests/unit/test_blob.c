/* test_blob.c - the state blob encoding (nfhunt/blob.h). */
#include "config.h"

#include <CUnit/Basic.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/blob.h>

/* Values come back as written, little-endian whatever the host. */
static void test_round_trip(void) {
  nfh_blob_writer w;
  memset(&w, 0, sizeof(w));
  w.limit = 1 << 20;
  nfh_blob_put_u8(&w, 0xab);
  nfh_blob_put_u16(&w, 0x1234);
  nfh_blob_put_u32(&w, 0xdeadbeef);
  nfh_blob_put_u64(&w, 0x0102030405060708ull);
  nfh_blob_put_f32(&w, 2.5f);
  nfh_blob_put_bytes(&w, "nfhunt", 6);
  CU_ASSERT_FALSE_FATAL(w.failed);
  CU_ASSERT_EQUAL(w.len, 1 + 2 + 4 + 8 + 4 + 6);
  CU_ASSERT_EQUAL(w.data[1], 0x34); /* little-endian on the wire */
  CU_ASSERT_EQUAL(w.data[2], 0x12);
  CU_ASSERT_EQUAL(w.data[7], 0x08);
  nfh_blob_reader r = {w.data, w.len, 0, 0};
  CU_ASSERT_EQUAL(nfh_blob_get_u8(&r), 0xab);
  CU_ASSERT_EQUAL(nfh_blob_get_u16(&r), 0x1234);
  CU_ASSERT_EQUAL(nfh_blob_get_u32(&r), 0xdeadbeef);
  CU_ASSERT_EQUAL(nfh_blob_get_u64(&r), 0x0102030405060708ull);
  CU_ASSERT_EQUAL(nfh_blob_get_f32(&r), 2.5f);
  char text[6];
  nfh_blob_get_bytes(&r, text, sizeof(text));
  CU_ASSERT_EQUAL(memcmp(text, "nfhunt", 6), 0);
  CU_ASSERT_FALSE(r.failed);
  CU_ASSERT_EQUAL(r.off, r.len);
  free(w.data);
}

/* Reading past the end fails and keeps failing, with zeroes, never
 * reading beyond the bytes. */
static void test_short_read(void) {
  const uint8_t bytes[3] = {1, 2, 3};
  nfh_blob_reader r = {bytes, sizeof(bytes), 0, 0};
  CU_ASSERT_EQUAL(nfh_blob_get_u16(&r), 0x0201);
  CU_ASSERT_EQUAL(nfh_blob_get_u32(&r), 0);
  CU_ASSERT_TRUE(r.failed);
  CU_ASSERT_EQUAL(nfh_blob_get_u8(&r), 0); /* sticky, though one remains */
  CU_ASSERT_PTR_NULL(nfh_blob_get_span(&r, 1));
  uint8_t out[4] = {9, 9, 9, 9};
  nfh_blob_get_bytes(&r, out, sizeof(out));
  CU_ASSERT_EQUAL(out[0] | out[1] | out[2] | out[3], 0);
  /* A span of exactly what remains is fine. */
  nfh_blob_reader s = {bytes, sizeof(bytes), 1, 0};
  const uint8_t *p = nfh_blob_get_span(&s, 2);
  CU_ASSERT_PTR_EQUAL(p, bytes + 1);
  CU_ASSERT_FALSE(s.failed);
}

/* A float that is not finite is damage. */
static void test_non_finite(void) {
  nfh_blob_writer w;
  memset(&w, 0, sizeof(w));
  w.limit = 64;
  nfh_blob_put_f32(&w, NAN);
  nfh_blob_put_f32(&w, INFINITY);
  nfh_blob_reader r = {w.data, w.len, 0, 0};
  CU_ASSERT_EQUAL(nfh_blob_get_f32(&r), 0);
  CU_ASSERT_TRUE(r.failed);
  free(w.data);
}

/* The limit is hard: a write beyond it fails the writer, and later
 * writes add nothing. */
static void test_limit(void) {
  nfh_blob_writer w;
  memset(&w, 0, sizeof(w));
  w.limit = 10;
  nfh_blob_put_u64(&w, 1);
  CU_ASSERT_FALSE(w.failed);
  nfh_blob_put_u32(&w, 2);
  CU_ASSERT_TRUE(w.failed);
  nfh_blob_put_u8(&w, 3);
  CU_ASSERT_EQUAL(w.len, 8);
  free(w.data);
  /* Growth past the first 4 KiB keeps the bytes. */
  memset(&w, 0, sizeof(w));
  w.limit = 1 << 20;
  for (uint32_t i = 0; i < 5000; i++)
    nfh_blob_put_u32(&w, i);
  CU_ASSERT_FALSE(w.failed);
  nfh_blob_reader r = {w.data, w.len, 0, 0};
  uint32_t bad = 0;
  for (uint32_t i = 0; i < 5000; i++)
    bad += nfh_blob_get_u32(&r) != i;
  CU_ASSERT_EQUAL(bad, 0);
  free(w.data);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("blob", NULL, NULL);
  CU_add_test(s, "round trip", test_round_trip);
  CU_add_test(s, "short read", test_short_read);
  CU_add_test(s, "non-finite float", test_non_finite);
  CU_add_test(s, "limit and growth", test_limit);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
