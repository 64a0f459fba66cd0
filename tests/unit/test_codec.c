/* test_codec.c - block codecs: round trips, caps, corrupt input. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugin/nfcapd/codec.h"

#define SIZE (256 * 1024)

/* Flow-like data: repetitive but not constant, as nfcapd blocks are. */
static void fill(uint8_t *p, size_t n) {
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    p[i] = (i % 64 < 40) ? (uint8_t)(i % 7) : (uint8_t)(x >> 24);
  }
}

static void test_roundtrip_all(void) {
  uint8_t *in = malloc(SIZE), *out = malloc(SIZE), *cmp;
  fill(in, SIZE);
  for (int c = NFH_CODEC_NONE; c <= NFH_CODEC_ZSTD; c++) {
    size_t bound = nfh__codec_bound((nfh_codec)c, SIZE);
    cmp = malloc(bound);
    size_t clen = 0, dlen = 0;
    CU_ASSERT_EQUAL(nfh__codec_compress((nfh_codec)c, 0, in, SIZE, cmp, bound,
                                        &clen),
                    NFH_OK);
    if (c != NFH_CODEC_NONE)
      CU_ASSERT(clen < SIZE);
    CU_ASSERT_EQUAL(nfh__codec_decompress((nfh_codec)c, cmp, clen, out, SIZE,
                                          &dlen),
                    NFH_OK);
    CU_ASSERT_EQUAL(dlen, SIZE);
    CU_ASSERT(memcmp(in, out, SIZE) == 0);
    /* One byte less room than needed: refused as too big, not overrun
     * and not called corrupt (LZ4's was, and the reader said a block
     * of a larger size was damaged). */
    nfh_status st = nfh__codec_decompress((nfh_codec)c, cmp, clen, out,
                                          SIZE - 1, &dlen);
    CU_ASSERT_EQUAL(st, NFH_ETOOBIG);
    free(cmp);
  }
  free(in);
  free(out);
}

static void test_corrupt_input(void) {
  uint8_t *in = malloc(SIZE), *out = malloc(SIZE);
  fill(in, SIZE);
  for (int c = NFH_CODEC_LZO; c <= NFH_CODEC_ZSTD; c++) {
    size_t bound = nfh__codec_bound((nfh_codec)c, SIZE);
    uint8_t *cmp = malloc(bound);
    size_t clen = 0, dlen = 0;
    nfh__codec_compress((nfh_codec)c, 0, in, SIZE, cmp, bound, &clen);
    /* Damage: truncation, and flipped bytes in the middle. Either must be
     * reported or at worst produce bounded output; never a crash. */
    nfh_status st = nfh__codec_decompress((nfh_codec)c, cmp, clen / 2, out,
                                          SIZE, &dlen);
    CU_ASSERT(st != NFH_OK || dlen < SIZE);
    for (size_t i = clen / 3; i < clen / 3 + 16 && i < clen; i++)
      cmp[i] ^= 0x5a;
    st = nfh__codec_decompress((nfh_codec)c, cmp, clen, out, SIZE, &dlen);
    CU_ASSERT(dlen <= SIZE);
    /* Garbage. */
    memset(cmp, 0xff, 64);
    st = nfh__codec_decompress((nfh_codec)c, cmp, 64, out, SIZE, &dlen);
    CU_ASSERT(st == NFH_EDECOMPRESS || st == NFH_ETOOBIG);
    free(cmp);
  }
  free(in);
  free(out);
}

static void test_names(void) {
  nfh_codec c;
  CU_ASSERT_STRING_EQUAL(nfh__codec_name(NFH_CODEC_LZ4), "lz4");
  CU_ASSERT_PTR_NULL(nfh__codec_name(5));
  CU_ASSERT_PTR_NULL(nfh__codec_name(-1));
  CU_ASSERT_EQUAL(nfh__codec_parse("ZSTD", &c), 0);
  CU_ASSERT_EQUAL(c, NFH_CODEC_ZSTD);
  CU_ASSERT_EQUAL(nfh__codec_parse("2", &c), 0);
  CU_ASSERT_EQUAL(c, NFH_CODEC_BZ2);
  CU_ASSERT_EQUAL(nfh__codec_parse("gzip", &c), -1);
  CU_ASSERT_EQUAL(nfh__codec_decompress((nfh_codec)7, (const uint8_t *)"x",
                                        1, (uint8_t *)&c, sizeof(c),
                                        &(size_t){0}),
                  NFH_ECODEC);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("codec", NULL, NULL);
  CU_add_test(s, "round trip, every codec", test_roundtrip_all);
  CU_add_test(s, "corrupt input", test_corrupt_input);
  CU_add_test(s, "names", test_names);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
