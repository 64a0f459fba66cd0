/*
 * nfhunt/writer.h - writing nfcapd capture files (layout 2, nfdump 1.7).
 *
 * A writer turns nfh_flow records into one nfcapd file that nfdump 1.7
 * and nfhunt's reader both read:
 *
 *   | file header | data block 0 | ... | data block n | appendix block |
 *
 * Each flow becomes a V3 record (type 11) carrying only the elements its
 * fields need; exporters and samplers become ExporterInfo (type 7) and
 * Sampler (type 15) records. Blocks are flushed at 2 MiB of payload, as
 * nfcapd 1.7.8 does, and compressed with the file's codec. The appendix
 * holds the ident and a stat record over everything written.
 *
 * The file appears atomically: the writer fills a hidden temporary file
 * ".<name>.XXXXXX" in the target's directory and renames it to the target
 * only when nfh_writer_close() succeeds. Until then, and after any
 * failure, the target path is untouched.
 *
 * The library never prints. A failed call returns a status and leaves a
 * one-line detail in nfh_writer_error(). A writer is not thread-safe;
 * use one per thread.
 */
#ifndef NFHUNT_WRITER_H
#define NFHUNT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nfh_writer nfh_writer;

/* Block codecs, numbered as in the layout-2 file header (and as
 * nfh_file_info.codec reports them). nfdump reads ZSTD files only from
 * version 1.7.3 on. */
#define NFH_WRITER_CODEC_NONE 0
#define NFH_WRITER_CODEC_LZO 1
#define NFH_WRITER_CODEC_BZ2 2
#define NFH_WRITER_CODEC_LZ4 3
#define NFH_WRITER_CODEC_ZSTD 4

/* nfdump version stamped in the header when the options give none:
 * 1.7.8, whose layout (2 MiB blocks, even-sized ident) the writer
 * follows. The field is informational; no reader acts on it. */
#define NFH_WRITER_NFDVERSION_DEFAULT 0xF1070800u

/* Creator numbers of the header (nfdump 1.7.2 and later). */
#define NFH_WRITER_CREATOR_UNKNOWN 0
#define NFH_WRITER_CREATOR_NFCAPD 1
#define NFH_WRITER_CREATOR_NFDUMP 4

/* Longest ident nfdump accepts back: the IDENT record (4-byte header,
 * text, NUL, rounded up to an even size) must stay below 128 bytes. */
#define NFH_WRITER_IDENT_MAX 121

/* Options of nfh_writer_open. Zero-initialise the struct and set what
 * you need: every zero field means its default. */
typedef struct nfh_writer_options {
  int codec; /* NFH_WRITER_CODEC_*; default NONE */
  /* Codec level (lz4 1-12, above 2 = LZ4_HC; zstd 1-22; bz2 1-9); 0 =
   * the codec's default, as nfcapd uses. Not stored in the file. */
  int level;
  const char *ident;    /* copied; NULL = "none", like nfcapd */
  uint32_t creator;     /* NFH_WRITER_CREATOR_*; default UNKNOWN */
  uint32_t nfd_version; /* 0 = NFH_WRITER_NFDVERSION_DEFAULT */
  int64_t created;      /* header time, epoch seconds; 0 = now */
  int sync;             /* non-zero: fsync(2) the file before the rename */
  uint32_t reserved[4]; /* must be zero */
} nfh_writer_options;

/* Creates the temporary file for 'path' and writes a provisional header
 * (one that nfdump reads as an empty file still being written).
 * 'path' and 'options' (may be NULL: all defaults) are copied. On success
 * *out owns a writer to end with nfh_writer_close or nfh_writer_abort.
 * Returns NFH_OK; NFH_EINVAL for a bad codec, an ident longer than
 * NFH_WRITER_IDENT_MAX or non-zero reserved fields; NFH_ENOMEM; NFH_EIO
 * when the temporary file cannot be created or written (errno tells
 * which system error), or with errno EEXIST when 'path' names something
 * other than a regular file (a device, a FIFO), which the final rename
 * would replace. On failure *out is NULL and no file is left. */
nfh_status nfh_writer_open(const char *path, const nfh_writer_options *options,
                           nfh_writer **out);

/* Announces an exporter: writes an ExporterInfo record (in the host-order
 * address encoding every nfdump 1.7 reads) into the current block. Flows
 * refer to it by e->sysid. The record is copied. Adding the same record
 * twice is a no-op.
 * Returns NFH_OK; NFH_EINVAL when sysid is 0, the address family is not
 * 4 or 6, or another exporter already has this sysid; NFH_ENOMEM;
 * NFH_EIO. After NFH_EINVAL the writer is unchanged; after any other
 * error the writer is failed (see nfh_writer_write). */
nfh_status nfh_writer_add_exporter(nfh_writer *writer, const nfh_exporter *e);

/* Announces a sampler (Sampler record, type 15), copied. A sampled flow
 * whose exporter has a sampler of the same interval refers to it.
 * Returns NFH_OK (also for an exact duplicate); NFH_EINVAL for
 * packet_interval 0 or an (exporter_sysid, id) pair already used with
 * other values; NFH_ENOMEM; NFH_EIO. Failure effects as above. */
nfh_status nfh_writer_add_sampler(nfh_writer *writer, const nfh_sampler *s);

/* Appends 'n' flows, copied, in order. Each flow is encoded as a V3
 * record with EXgenericFlow plus the elements its non-zero fields need
 * (addresses, misc, counters, VLAN, AS, next hops, router, latency,
 * NAT). Particulars:
 * - src and dst must have the same family; a family-0 address beside a
 *   v4/v6 one is written as that family's zero address; two family-0
 *   addresses are written as 0.0.0.0 (a record needs an address
 *   element).
 * - exporter_sysid 0 with an exporter address set: the writer finds or
 *   announces an exporter with that (addr, nf_version, exporter_id) and
 *   uses its sysid. A sysid not announced yet, with an exporter address
 *   on the flow, is announced from the flow's fields.
 * - sampling > 1: the V3 SAMPLED flag is set and the flow refers to a
 *   sampler of that exporter whose (pI + sI) / pI equals 'sampling'; if
 *   none was added, one {pI 1, sI sampling-1} is announced. The
 *   reference is an EXsamplerInfo only where a reader could not tell the
 *   sampler otherwise (the exporter's latest, with no generic one, is
 *   implied, as in nfcapd 1.7.1's files, whose nfdump knows no
 *   EXsamplerInfo). Counters are written as given (already scaled, as
 *   nfcapd stores them).
 * - ICMP with dst_port 0 takes dst_port from icmp_type/icmp_code.
 * Returns NFH_OK; NFH_EINVAL if a flow cannot be encoded (mixed address
 *   families), in which case the flows before it were written and the
 *   writer stays usable; NFH_ENOMEM or NFH_EIO (or a codec failure),
 *   after which the writer is failed: every later call but close/abort
 *   returns the same status, and close removes the temporary file. */
nfh_status nfh_writer_write(nfh_writer *writer, const nfh_flow *flows,
                            size_t n);

/* Flushes the last block, appends the appendix (IDENT and STAT records,
 * compressed with the file codec), rewrites the header with the number
 * of data blocks and renames the file to its path, replacing any file
 * there. The stat record counts like nfdump -w: aggr_flows (at least 1)
 * flows, and in plus out packets and bytes, per TCP/UDP/ICMP/other.
 * The writer is freed in every case; NULL is a no-op returning NFH_OK.
 * Returns NFH_OK, or the writer's earlier failure, NFH_EIO or a codec
 * error; on failure the temporary file is removed and 'path' is left
 * as it was. As the writer (and its nfh_writer_error text) is gone,
 * errno tells the system error behind an NFH_EIO. */
nfh_status nfh_writer_close(nfh_writer *writer);

/* Discards everything: removes the temporary file and frees the writer.
 * The target path is never touched. NULL is a no-op. */
void nfh_writer_abort(nfh_writer *writer);

/* One line about the last failure ("write: No space left on device"),
 * "" if nothing failed. Borrowed until the next call on the writer. */
const char *nfh_writer_error(const nfh_writer *writer);

/* Flows written so far. */
uint64_t nfh_writer_flows(const nfh_writer *writer);

/* Parses a codec name: "none", "lzo", "bz2" (or "bzip2"), "lz4", "zstd",
 * case-insensitive, or a digit 0-4. Returns NFH_OK and sets *codec, or
 * NFH_EINVAL leaving *codec unchanged. */
nfh_status nfh_writer_codec_parse(const char *name, int *codec);

#ifdef __cplusplus
}
#endif
#endif /* NFHUNT_WRITER_H */
