/* codec.c - block compression for nfcapd files; see codec.h. */
#include "config.h"

#include <bzlib.h>
#include <limits.h>
#include <lz4.h>
#include <lz4hc.h>
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "../common/alloc.h"
#include "codec.h"

static const char *const codec_names[] = {"none", "lzo", "bz2", "lz4", "zstd"};

const char *nfh__codec_name(int codec) {
  if (codec < 0 || codec > NFH_CODEC_ZSTD)
    return NULL;
  return codec_names[codec];
}

int nfh__codec_parse(const char *name, nfh_codec *codec) {
  for (int i = 0; i <= NFH_CODEC_ZSTD; i++) {
    char digit[2] = {(char)('0' + i), '\0'};
    if (strcasecmp(name, codec_names[i]) == 0 || strcmp(name, digit) == 0) {
      *codec = (nfh_codec)i;
      return 0;
    }
  }
  if (strcasecmp(name, "bzip2") == 0) {
    *codec = NFH_CODEC_BZ2;
    return 0;
  }
  return -1;
}

/* lzo_init() checks the library's build against this program once; it is
 * idempotent, but run it under pthread_once because blocks are
 * decompressed by several threads. */
static pthread_once_t lzo_once = PTHREAD_ONCE_INIT;
static int lzo_ready;

static void lzo_setup(void) { lzo_ready = (lzo_init() == LZO_E_OK); }

nfh_status nfh__codec_decompress(nfh_codec codec, const uint8_t *in,
                                 size_t in_len, uint8_t *out, size_t out_cap,
                                 size_t *out_len) {
  *out_len = 0;
  switch (codec) {
  case NFH_CODEC_NONE:
    if (in_len > out_cap)
      return NFH_ETOOBIG;
    if (in_len) /* an empty block may come with no buffer at all */
      memcpy(out, in, in_len);
    *out_len = in_len;
    return NFH_OK;
  case NFH_CODEC_LZO: {
    pthread_once(&lzo_once, lzo_setup);
    if (!lzo_ready)
      return NFH_ECODEC;
    lzo_uint produced = out_cap;
    int rc = lzo1x_decompress_safe(in, in_len, out, &produced, NULL);
    if (rc == LZO_E_OUTPUT_OVERRUN)
      return NFH_ETOOBIG;
    if (rc != LZO_E_OK)
      return NFH_EDECOMPRESS;
    *out_len = produced;
    return NFH_OK;
  }
  case NFH_CODEC_BZ2: {
    if (in_len > UINT_MAX || out_cap > UINT_MAX)
      return NFH_ETOOBIG;
    unsigned int produced = (unsigned int)out_cap;
    /* The one-shot call stops at the output cap and at the end of input,
     * so a corrupt size cannot make it loop. */
    int rc = BZ2_bzBuffToBuffDecompress((char *)out, &produced, (char *)in,
                                        (unsigned int)in_len, 0, 0);
    if (rc == BZ_OUTBUFF_FULL)
      return NFH_ETOOBIG;
    if (rc == BZ_MEM_ERROR)
      return NFH_ENOMEM;
    if (rc != BZ_OK)
      return NFH_EDECOMPRESS;
    *out_len = produced;
    return NFH_OK;
  }
  case NFH_CODEC_LZ4: {
    if (in_len > INT_MAX || out_cap > INT_MAX)
      return NFH_ETOOBIG;
    int produced = LZ4_decompress_safe((const char *)in, (char *)out,
                                       (int)in_len, (int)out_cap);
    if (produced < 0) {
      /* LZ4 tells no overflow from damage. A stream that decodes
       * cleanly up to the cap, which a partial decode stops at, is
       * larger than the buffer (a block of another tool's bigger
       * size), not corrupt: that is what the reader must say. */
      int head =
          LZ4_decompress_safe_partial((const char *)in, (char *)out,
                                      (int)in_len, (int)out_cap, (int)out_cap);
      return head == (int)out_cap ? NFH_ETOOBIG : NFH_EDECOMPRESS;
    }
    *out_len = (size_t)produced;
    return NFH_OK;
  }
  case NFH_CODEC_ZSTD: {
    unsigned long long size = ZSTD_getFrameContentSize(in, in_len);
    if (size == ZSTD_CONTENTSIZE_ERROR)
      return NFH_EDECOMPRESS;
    if (size != ZSTD_CONTENTSIZE_UNKNOWN && size > out_cap)
      return NFH_ETOOBIG;
    size_t rc = ZSTD_decompress(out, out_cap, in, in_len);
    if (ZSTD_isError(rc)) {
      if (ZSTD_getErrorCode(rc) == ZSTD_error_dstSize_tooSmall)
        return NFH_ETOOBIG;
      return NFH_EDECOMPRESS;
    }
    *out_len = rc;
    return NFH_OK;
  }
  }
  return NFH_ECODEC;
}

size_t nfh__codec_bound(nfh_codec codec, size_t in_len) {
  switch (codec) {
  case NFH_CODEC_NONE:
    return in_len;
  case NFH_CODEC_LZO:
    /* The bound documented with lzo1x_1_compress. */
    return in_len + in_len / 16 + 64 + 3;
  case NFH_CODEC_BZ2:
    return in_len + in_len / 100 + 600;
  case NFH_CODEC_LZ4:
    return (size_t)LZ4_compressBound((int)in_len);
  case NFH_CODEC_ZSTD:
    return ZSTD_compressBound(in_len);
  }
  return in_len;
}

nfh_status nfh__codec_compress(nfh_codec codec, int level, const uint8_t *in,
                               size_t in_len, uint8_t *out, size_t out_cap,
                               size_t *out_len) {
  *out_len = 0;
  if (out_cap < nfh__codec_bound(codec, in_len))
    return NFH_ETOOBIG;
  switch (codec) {
  case NFH_CODEC_NONE:
    memcpy(out, in, in_len);
    *out_len = in_len;
    return NFH_OK;
  case NFH_CODEC_LZO: {
    pthread_once(&lzo_once, lzo_setup);
    if (!lzo_ready)
      return NFH_ECODEC;
    void *work = nfh__malloc(LZO1X_1_MEM_COMPRESS);
    if (!work)
      return NFH_ENOMEM;
    lzo_uint produced = out_cap;
    int rc = lzo1x_1_compress(in, in_len, out, &produced, work);
    nfh__free(work);
    if (rc != LZO_E_OK)
      return NFH_ECODEC;
    *out_len = produced;
    return NFH_OK;
  }
  case NFH_CODEC_BZ2: {
    unsigned int produced = (unsigned int)out_cap;
    int rc = BZ2_bzBuffToBuffCompress((char *)out, &produced, (char *)in,
                                      (unsigned int)in_len,
                                      level > 0 && level <= 9 ? level : 9, 0, 0);
    if (rc == BZ_MEM_ERROR)
      return NFH_ENOMEM;
    if (rc != BZ_OK)
      return NFH_ETOOBIG;
    *out_len = produced;
    return NFH_OK;
  }
  case NFH_CODEC_LZ4: {
    int produced;
    if (level > 2)
      produced = LZ4_compress_HC((const char *)in, (char *)out, (int)in_len,
                                 (int)out_cap, level);
    else
      produced = LZ4_compress_default((const char *)in, (char *)out,
                                      (int)in_len, (int)out_cap);
    if (produced <= 0)
      return NFH_ETOOBIG;
    *out_len = (size_t)produced;
    return NFH_OK;
  }
  case NFH_CODEC_ZSTD: {
    size_t rc = ZSTD_compress(out, out_cap, in, in_len, level > 0 ? level : 3);
    if (ZSTD_isError(rc))
      return NFH_ETOOBIG;
    *out_len = rc;
    return NFH_OK;
  }
  }
  return NFH_ECODEC;
}
