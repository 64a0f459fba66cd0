/*
 * nfhunt/reader.h - reading nfcapd capture files into nfh_flow records.
 *
 * A reader is created once and then opens files one after the other; it
 * keeps its decode threads and buffers between files. Layout 2 (nfdump
 * 1.7) and layout 1 (nfdump 1.6) are read, with any of nfcapd's codecs.
 * Layout 3 (nfdump 1.8) is refused with NFH_ELAYOUT.
 *
 * Input files are untrusted: every size is checked before use and no
 * block may decompress to more than NFH_BLOCK_LIMIT bytes. A failure is
 * reported as a status plus a one-line detail (nfh_reader_error) and
 * leaves the reader usable for the next file.
 */
#ifndef NFHUNT_READER_H
#define NFHUNT_READER_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nfh_reader nfh_reader;

typedef struct nfh_reader_options {
  /* Threads that decompress and decode blocks ahead of the caller.
   * 0 decodes in the caller's thread (deterministic; what fuzzing
   * uses); NFH_READER_THREADS_AUTO uses one per online CPU. */
  unsigned threads;
} nfh_reader_options;

#define NFH_READER_THREADS_AUTO 0xffffffffu

/* What the file header and stat record say about a file. */
typedef struct nfh_file_info {
  int layout;           /* 1 (nfdump 1.6) or 2 (nfdump 1.7) */
  int codec;            /* 0 none, 1 lzo, 2 bz2, 3 lz4, 4 zstd */
  uint32_t nfd_version; /* writer's nfdump version (layout 2), else 0 */
  int64_t created;      /* epoch seconds (layout 2), else 0 */
  uint32_t creator;     /* 1 nfcapd, 4 nfdump, ... (layout 2), else 0 */
  uint32_t num_blocks;  /* data blocks the header announces */
  int complete;         /* 0 for a file still being written */
  char ident[128];
  int has_stat; /* the stat fields below are valid */
  uint64_t stat_flows;
  uint64_t stat_bytes;
  uint64_t stat_packets;
  uint64_t stat_first_ms;
  uint64_t stat_last_ms;
  uint64_t stat_sequence_failures;
  /* Bytes no listed block covers, which a reader does not read (nfdump
   * does not either): after the header of a file nfcapd has not closed
   * (complete 0, no block announced), or between the header and the
   * appendix of a closed file whose header lists no block; else 0. */
  uint64_t unlisted_bytes;
  /* With unlisted_bytes after an unclosed header: they do not start with
   * a data block's header, as a file nfcapd writes does (a damaged
   * header: an nfdump 1.6 file whose version byte reads 2). */
  int unlisted_no_block;
} nfh_file_info;

/* One exporter's counters from the file's ExporterStat record (type 8),
 * which nfcapd writes once per file just before it rotates the file. */
typedef struct nfh_exporter_stat {
  uint32_t sysid;             /* the exporter's per-file number */
  uint32_t sequence_failures; /* sequence number gaps nfcapd counted */
  uint64_t packets; /* export packets (NetFlow/IPFIX datagrams) received,
                     * not the packets of the flows */
  uint64_t flows;   /* flow records received */
  int known;        /* 1: the file has an exporter record with this sysid,
                     * copied to 'exporter'; 0: 'exporter' is all zero */
  nfh_exporter exporter;
} nfh_exporter_stat;

/* Creates a reader. 'options' may be NULL (threads: auto). On success
 * *out owns a reader to free with nfh_reader_destroy. Returns NFH_OK,
 * NFH_ENOMEM or NFH_EINVAL; *out is NULL on failure. */
nfh_status nfh_reader_create(const nfh_reader_options *options,
                             nfh_reader **out);

/* Frees the reader and everything it handed out. NULL is a no-op. */
void nfh_reader_destroy(nfh_reader *reader);

/* Opens a capture file, closing any file open before, and reads its
 * header (and layout 2's appendix). 'path' is copied. On failure the
 * reader holds no file and nfh_reader_error() says why. */
nfh_status nfh_reader_open(nfh_reader *reader, const char *path);

/* Hands out the next batch of flows of the open file (normally one data
 * block). *flows stays valid, and owned by the reader, until the next
 * call of nfh_reader_next, nfh_reader_open, nfh_reader_close or
 * nfh_reader_destroy. Returns NFH_OK with *count >= 1, NFH_END after the
 * last batch, or an error status; after an error the rest of the file is
 * not read and later calls return NFH_END. */
nfh_status nfh_reader_next(nfh_reader *reader, const nfh_flow **flows,
                           size_t *count);

/* Closes the open file, if any. */
void nfh_reader_close(nfh_reader *reader);

/* Header facts of the open file; NULL when no file is open. Borrowed
 * until the file is closed. */
const nfh_file_info *nfh_reader_info(const nfh_reader *reader);

/* Exporters and samplers seen so far in the open file (records are read
 * as blocks are handed out). Borrowed until the next call on the reader. */
const nfh_exporter *nfh_reader_exporters(const nfh_reader *reader,
                                         size_t *count);
const nfh_sampler *nfh_reader_samplers(const nfh_reader *reader,
                                       size_t *count);

/* Exporter statistics of the open file: one entry per exporter sysid,
 * in order of first appearance, each the sum of the file's ExporterStat
 * entries for that sysid (as nfdump -E sums them; nfcapd writes one
 * record per file, so normally these are that record's values). Entries
 * name their exporter by the file's exporter record of the same sysid,
 * wherever in the file it is. The record sits at the end of the file, so
 * the list is complete once nfh_reader_next has returned NFH_END; a file
 * without one (such as one nfcapd still writes) gives none.
 *
 * Sets *count and returns the entries, or NULL with *count 0 when there
 * are none. Borrowed: the array belongs to the reader and stays valid
 * until the next nfh_reader_next, nfh_reader_open, nfh_reader_close or
 * nfh_reader_destroy (after NFH_END, nfh_reader_next no longer changes
 * it). A malformed record (count beyond the record's size, or a sysid
 * above 65535) makes nfh_reader_next fail with NFH_ECORRUPT like any
 * other damaged record. */
const nfh_exporter_stat *nfh_reader_exporter_stats(const nfh_reader *reader,
                                                   size_t *count);

/* One line, without the file name, saying what went wrong in the last
 * failed call ("block 3 at offset 1048628: size 9999999 beyond end of
 * file"); "" if nothing failed. Borrowed until the next call. */
const char *nfh_reader_error(const nfh_reader *reader);

#ifdef __cplusplus
}
#endif
#endif /* NFHUNT_READER_H */
