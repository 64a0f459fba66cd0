/*
 * codec.h - the block compressions of nfcapd files.
 *
 * nfcapd compresses each data block's payload on its own (the 12-byte
 * block header stays clear), so every function here works on one block
 * held in memory. Output never exceeds the capacity the caller gives:
 * that capacity is the decompression-bomb cap.
 */
#ifndef NFH_NFCAPD_CODEC_H
#define NFH_NFCAPD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/status.h>

/* Codec numbers as stored in a layout-2 file header. */
typedef enum nfh_codec {
  NFH_CODEC_NONE = 0,
  NFH_CODEC_LZO = 1,
  NFH_CODEC_BZ2 = 2,
  NFH_CODEC_LZ4 = 3,
  NFH_CODEC_ZSTD = 4
} nfh_codec;

/* Largest uncompressed block payload nfhunt accepts. nfdump's own buffer
 * is 5 MiB and its writers flush at 2 MiB, so nothing real is larger. */
#define NFH_BLOCK_PAYLOAD_MAX ((size_t)5 * 1024 * 1024 - 12)

/* "none", "lzo", "bz2", "lz4", "zstd"; NULL for a number nfhunt does not
 * know. */
const char *nfh__codec_name(int codec);

/* Parses a codec name (as above, case-insensitive; also "0".."4").
 * Returns 0 and sets *codec, or -1. */
int nfh__codec_parse(const char *name, nfh_codec *codec);

/* Decompresses 'in' (in_len bytes) into 'out' (out_cap bytes) and sets
 * *out_len. NFH_CODEC_NONE copies. Returns NFH_OK; NFH_EDECOMPRESS for
 * corrupt input; NFH_ETOOBIG when the result would exceed out_cap;
 * NFH_ECODEC for an unknown codec. 'out' holds garbage on failure. */
nfh_status nfh__codec_decompress(nfh_codec codec, const uint8_t *in,
                                 size_t in_len, uint8_t *out, size_t out_cap,
                                 size_t *out_len);

/* Worst-case compressed size of in_len bytes, for sizing the buffer given
 * to nfh__codec_compress. */
size_t nfh__codec_bound(nfh_codec codec, size_t in_len);

/* Compresses in_len bytes into 'out' (out_cap bytes, at least
 * nfh__codec_bound) and sets *out_len. 'level' 0 means the codec's
 * default. Returns NFH_OK, NFH_ETOOBIG, NFH_ENOMEM or NFH_ECODEC. */
nfh_status nfh__codec_compress(nfh_codec codec, int level, const uint8_t *in,
                               size_t in_len, uint8_t *out, size_t out_cap,
                               size_t *out_len);

#endif
