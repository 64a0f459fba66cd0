/*
 * reader.c - nfcapd files into nfh_flow batches; see nfhunt/reader.h.
 *
 * File layout 2:  | header 40 | data block 0 | ... | block n-1 | appendix |
 * File layout 1:  | header 140 | stat 136 | data block 0 | ... |
 * Every data block: | u32 records | u32 size | u16 type | u16 flags | data |
 *
 * The caller's thread reads raw blocks (cheap: one pread each) into a
 * ring of slots; worker threads decompress and, for layout 2, decode them
 * in any order; the caller's thread then hands them out strictly in file
 * order, applying the exporter, sampler and exporter stat records and
 * resolving each flow's exporter and sampling interval on the way,
 * because those records may sit in any earlier block. Layout-1 blocks
 * are decoded in order too, since their extension maps carry across
 * blocks.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nfhunt/reader.h>

#include "../common/alloc.h"
#include "block.h"
#include "codec.h"
#include "format.h"
#include "layout1.h"
#include "records.h"
#include "v3record.h"

#define L1_HEADER_SIZE 140
#define L1_STAT_SIZE 136


/* Layout-1 header compression flags. */
#define L1_FLAG_LZO 0x01
#define L1_FLAG_BZ2 0x08
#define L1_FLAG_LZ4 0x10

#define MAX_THREADS 64

typedef enum slot_state {
  SLOT_FREE,
  SLOT_QUEUED, /* raw bytes read, waiting for a worker */
  SLOT_BUSY,   /* a worker decodes it */
  SLOT_DONE    /* ready to be handed out in order */
} slot_state;

typedef struct slot {
  nfh__block block;
  slot_state state;
  int codec;
  int layout;
} slot;

/* A map from a 64-bit key to a sampler's index: open addressing at a
 * load of at most one half; a slot with val 0 is empty (val: index + 1). */
typedef struct sampler_map {
  struct sampler_slot {
    uint64_t key;
    uint32_t val;
  } * slots;
  size_t cap, used;
} sampler_map;

struct nfh_reader {
  /* Threads and the slot ring; slot of block i is slots[i % nslots]. */
  unsigned nthreads;
  pthread_t threads[MAX_THREADS];
  pthread_mutex_t lock;
  pthread_cond_t work_ready; /* a slot became QUEUED, or shutdown */
  pthread_cond_t work_done;  /* a slot became DONE */
  int shutdown;
  slot *slots;
  unsigned nslots;

  /* The open file. */
  int fd;
  char *path;
  nfh_file_info info;
  uint64_t file_size;
  uint64_t data_end;       /* data blocks must end here */
  int appendix_read;       /* data_end is a good appendix's offset */
  uint64_t read_offset;    /* next block header */
  uint64_t blocks_read;    /* blocks put into slots */
  uint64_t blocks_empty;   /* blocks of size 0 passed over (no slot) */
  uint64_t blocks_handed;  /* blocks handed out in order */
  int read_failed;         /* reading block 'blocks_read' failed */
  nfh_status read_status;
  char read_errmsg[192];
  int finished;            /* no more batches from this file */
  nfh_status late_status;  /* a fault to report after the last block */
  char late_errmsg[256];
  uint64_t late_faults;    /* damaged records and skipped blocks */
  int after_damage;        /* a block's payload was damaged */
  long handed_slot;        /* slot lent to the caller, or -1 */
  nfh__l1_maps *maps;

  /* Exporters and samplers seen in the open file. */
  nfh_exporter *exporters;
  size_t nexporters, exporters_cap;
  /* A sysid's index in 'exporters' plus 1 (0: none), its 65536 slots
   * allocated with the first exporter: with the list searched, a file
   * of thousands of exporters whose records alternate cost each flow a
   * search. */
  uint32_t *exporter_slot;
  nfh_sampler *samplers;
  size_t nsamplers, samplers_cap;
  /* The samplers by (sysid, id), and each exporter's latest by sysid
   * (sampler_map): a file of 320,000 samplers took 30 s with the list
   * searched from the start for each, and each sampled flow searched it
   * up to four times. */
  sampler_map by_id, latest;

  /* Exporter stats of the open file, one per sysid. stat_slot maps a
   * sysid to its index in 'stats' plus 1 (0: none yet), so that summing
   * a stat entry costs the same however many exporters a file has; its
   * 65536 slots are allocated with the first stat, so a reader that never
   * meets one never pays for them. */
  nfh_exporter_stat *stats;
  size_t nstats, stats_cap;
  uint32_t *stat_slot;

  char errmsg[256];
};

static void forget_samplers(nfh_reader *r);

static void set_error(nfh_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(nfh_reader *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------ decoding */

/* Puts "block N at offset X: " before a decoder's message, so the one
 * error line locates the fault in the file. */
static void prefix_block_error(nfh__block *b) {
  char full[sizeof(b->errmsg) + 64];
  int n = snprintf(full, sizeof(full), "block %llu at offset %llu: ",
                   (unsigned long long)b->index,
                   (unsigned long long)b->offset);
  size_t used = n > 0 ? (size_t)n : 0;
  size_t msg = strlen(b->errmsg);
  if (used + msg >= sizeof(full))
    msg = sizeof(full) - used - 1;
  memcpy(full + used, b->errmsg, msg);
  used += msg;
  if (used >= sizeof(b->errmsg))
    used = sizeof(b->errmsg) - 1;
  memcpy(b->errmsg, full, used);
  b->errmsg[used] = '\0';
}

/* Whether a layout-2 block's records are nfdump 1.6's: its first flow or
 * map record (past exporter, sampler and stat records, which both kinds
 * share) is an extension map or a 1.6 flow, not a V3 record. */
static int holds_v1_records(const nfh__block *b) {
  const uint8_t *p = b->data;
  size_t left = b->data_len;
  for (uint32_t n = 0; n < b->num_records && left >= 4; n++) {
    unsigned type = nfh__ld16(p);
    size_t size = nfh__ld16(p + 2);
    if (type == NFH__REC_EXTENSION_MAP || type == NFH__REC_COMMON_V1)
      return 1;
    if (type == NFH__REC_V3 || size < 4 || size > left)
      return 0;
    p += size;
    left -= size;
  }
  return 0;
}

/* Decompresses a slot's raw payload and, for layout 2, decodes it. Runs
 * in a worker thread, or inline without workers; touches only the slot. */
static void process_slot(slot *s) {
  nfh__block *b = &s->block;
  nfh__block_reset(b);
  if (!b->data) {
    b->data = nfh__malloc(NFH_BLOCK_PAYLOAD_MAX);
    if (!b->data) {
      nfh__block_fail(b, NFH_ENOMEM, "out of memory");
      return;
    }
    b->data_cap = NFH_BLOCK_PAYLOAD_MAX;
  }
  nfh_status st = nfh__codec_decompress((nfh_codec)s->codec, b->raw,
                                        b->raw_len, b->data, b->data_cap,
                                        &b->data_len);
  /* A payload that does not decompress loses its block; its header
   * still says where the next one starts (nfdump stops the file). */
  if (st == NFH_ETOOBIG) {
    nfh__block_fault(b, "decompresses beyond %zu bytes: its %u records lost",
                     b->data_cap, b->num_records);
    b->damaged = 1;
    return;
  }
  if (st != NFH_OK) {
    nfh__block_fault(b, "%s data corrupt: its %u records lost",
                     nfh__codec_name(s->codec), b->num_records);
    b->damaged = 1;
    return;
  }
  if (b->num_records == 0 && b->data_len > 0) {
    nfh__block_fault(b, "0 records in %zu bytes: skipped", b->data_len);
    return;
  }
  /* nfdump 1.7 reads the records of a type 2 block in a layout-2 file by
   * their own record types, as of a type 3 block. One that starts with an
   * nfdump 1.6 record (a 1.6 file recompressed by nfdump -J: a layout-2
   * header over 1.6 blocks) is decoded by the reader, in file order, with
   * the file's extension maps: it read 0 of 4,593 flows. */
  if (s->layout == 2 && b->type == BLOCK_TYPE_2 && holds_v1_records(b)) {
    b->v1_records = 1;
  } else if (s->layout == 2 &&
             (b->type == BLOCK_TYPE_3 || b->type == BLOCK_TYPE_2)) {
    if (nfh__v3_decode_block(b) != NFH_OK)
      prefix_block_error(b);
  } else if (s->layout == 2) {
    nfh__block_fault(b, "unknown block type %u: skipped", b->type);
  }
}

/* Records a fault the rest of the file survives, told after its last
 * flow: the first one's message is kept. */
static void late_fault(nfh_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void late_fault(nfh_reader *r, const char *fmt, ...) {
  if (r->late_status != NFH_OK)
    return;
  r->late_status = NFH_ECORRUPT;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->late_errmsg, sizeof(r->late_errmsg), fmt, ap);
  va_end(ap);
}

/* Carries a block's survivable faults into the file's late fault: the
 * first one is told (located), the count of all of them follows. */
static void take_block_faults(nfh_reader *r, const nfh__block *b) {
  if (!b->faults)
    return;
  late_fault(r, "block %llu at offset %llu: %s", (unsigned long long)b->index,
             (unsigned long long)b->offset, b->fault);
  r->late_faults += b->faults;
}

static void *worker_main(void *arg) {
  nfh_reader *r = arg;
  pthread_mutex_lock(&r->lock);
  for (;;) {
    /* Take the queued slot of the lowest block number, so the block the
     * caller waits for is never starved by blocks read ahead. */
    slot *job = NULL;
    for (uint64_t i = r->blocks_handed; i < r->blocks_read; i++) {
      slot *s = &r->slots[i % r->nslots];
      if (s->state == SLOT_QUEUED) {
        job = s;
        break;
      }
    }
    if (!job) {
      if (r->shutdown)
        break;
      pthread_cond_wait(&r->work_ready, &r->lock);
      continue;
    }
    job->state = SLOT_BUSY;
    pthread_mutex_unlock(&r->lock);
    process_slot(job);
    pthread_mutex_lock(&r->lock);
    job->state = SLOT_DONE;
    pthread_cond_broadcast(&r->work_done);
  }
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

/* ------------------------------------------------------ create/destroy */

static unsigned online_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (unsigned)n;
}

nfh_status nfh_reader_create(const nfh_reader_options *options,
                             nfh_reader **out) {
  *out = NULL;
  unsigned threads = options ? options->threads : NFH_READER_THREADS_AUTO;
  if (threads == NFH_READER_THREADS_AUTO)
    threads = online_cpus();
  if (threads > MAX_THREADS)
    return NFH_EINVAL;
  nfh_reader *r = nfh__calloc(1, sizeof(*r));
  if (!r)
    return NFH_ENOMEM;
  r->fd = -1;
  r->handed_slot = -1;
  /* Enough slots that every worker has a block while the caller holds
   * one and another waits to be handed out. */
  r->nslots = threads ? 2 * threads + 2 : 1;
  r->slots = nfh__calloc(r->nslots, sizeof(slot));
  if (!r->slots || nfh__l1_maps_create(&r->maps) != NFH_OK) {
    nfh__free(r->slots);
    nfh__free(r);
    return NFH_ENOMEM;
  }
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->work_ready, NULL);
  pthread_cond_init(&r->work_done, NULL);
  for (unsigned i = 0; i < threads; i++) {
    if (pthread_create(&r->threads[i], NULL, worker_main, r) != 0)
      break;
    pthread_setname_np(r->threads[i], "nfh-decode"); /* for top -H, perf */
    r->nthreads++;
  }
  if (threads && !r->nthreads) {
    nfh_reader_destroy(r);
    return NFH_ENOMEM;
  }
  *out = r;
  return NFH_OK;
}

void nfh_reader_destroy(nfh_reader *r) {
  if (!r)
    return;
  nfh_reader_close(r);
  pthread_mutex_lock(&r->lock);
  r->shutdown = 1;
  pthread_cond_broadcast(&r->work_ready);
  pthread_mutex_unlock(&r->lock);
  for (unsigned i = 0; i < r->nthreads; i++)
    pthread_join(r->threads[i], NULL);
  pthread_mutex_destroy(&r->lock);
  pthread_cond_destroy(&r->work_ready);
  pthread_cond_destroy(&r->work_done);
  for (unsigned i = 0; i < r->nslots; i++)
    nfh__block_free(&r->slots[i].block);
  nfh__free(r->slots);
  nfh__l1_maps_destroy(r->maps);
  nfh__free(r->exporters);
  nfh__free(r->samplers);
  nfh__free(r->by_id.slots);
  nfh__free(r->latest.slots);
  nfh__free(r->stats);
  nfh__free(r->stat_slot);
  nfh__free(r->exporter_slot);
  nfh__free(r);
}

/* ------------------------------------------------------------ file I/O */

/* Reads exactly len bytes at off. NFH_OK, NFH_ETRUNC or NFH_EIO. */
static nfh_status read_at(nfh_reader *r, void *buf, size_t len,
                          uint64_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(r->fd, (uint8_t *)buf + done, len - done,
                      (off_t)(off + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return NFH_EIO;
    }
    if (n == 0)
      return NFH_ETRUNC;
    done += (size_t)n;
  }
  return NFH_OK;
}

/* Empties the exporters, clearing only the slots in use. */
static void forget_exporters(nfh_reader *r) {
  for (size_t i = 0; i < r->nexporters; i++)
    r->exporter_slot[r->exporters[i].sysid] = 0;
  r->nexporters = 0;
}

/* The open file's exporter of that sysid, or NULL. */
static const nfh_exporter *exporter_of(const nfh_reader *r, uint16_t sysid) {
  uint32_t at = r->exporter_slot ? r->exporter_slot[sysid] : 0;
  return at ? &r->exporters[at - 1] : NULL;
}

/* Empties the exporter stats, clearing only the slots in use. */
static void forget_stats(nfh_reader *r) {
  for (size_t i = 0; i < r->nstats; i++)
    r->stat_slot[r->stats[i].sysid] = 0;
  r->nstats = 0;
}

/* Waits until no worker holds a slot, then marks all slots free. */
static void drain_slots(nfh_reader *r) {
  pthread_mutex_lock(&r->lock);
  for (;;) {
    int busy = 0;
    for (unsigned i = 0; i < r->nslots; i++)
      if (r->slots[i].state == SLOT_QUEUED || r->slots[i].state == SLOT_BUSY)
        busy = 1;
    if (!busy)
      break;
    pthread_cond_wait(&r->work_done, &r->lock);
  }
  for (unsigned i = 0; i < r->nslots; i++)
    r->slots[i].state = SLOT_FREE;
  pthread_mutex_unlock(&r->lock);
}

void nfh_reader_close(nfh_reader *r) {
  if (!r || r->fd < 0)
    return;
  drain_slots(r);
  close(r->fd);
  r->fd = -1;
  nfh__free(r->path);
  r->path = NULL;
  r->handed_slot = -1;
  forget_exporters(r);
  forget_samplers(r);
  forget_stats(r);
  memset(&r->info, 0, sizeof(r->info));
}

static uint64_t l1_counter(const uint8_t *stat, int i) {
  return nfh__ld64(stat + 8 * i);
}

static nfh_status open_layout1(nfh_reader *r, const uint8_t *head) {
  uint8_t stat[L1_STAT_SIZE];
  if (r->file_size < L1_HEADER_SIZE + L1_STAT_SIZE) {
    set_error(r, "layout 1 header truncated (%llu bytes)",
              (unsigned long long)r->file_size);
    return NFH_ETRUNC;
  }
  /* The codec as every nfdump reads it (1.6 through 1.7): LZO before
   * BZ2 before LZ4 when several bits are set, and no other bit names
   * one (layout 1 never had ZSTD). A file whose blocks used another
   * codec then fails block by block, as under nfdump, rather than the
   * whole file being refused for bits nfdump passes over. */
  uint32_t flags = nfh__ld32(head + 4);
  if (flags & L1_FLAG_LZO)
    r->info.codec = NFH_CODEC_LZO;
  else if (flags & L1_FLAG_BZ2)
    r->info.codec = NFH_CODEC_BZ2;
  else if (flags & L1_FLAG_LZ4)
    r->info.codec = NFH_CODEC_LZ4;
  else
    r->info.codec = NFH_CODEC_NONE;
  r->info.layout = 1;
  r->info.num_blocks = nfh__ld32(head + 8);
  memcpy(r->info.ident, head + 12, sizeof(r->info.ident));
  r->info.ident[sizeof(r->info.ident) - 1] = '\0';
  r->info.complete = 1;
  nfh_status st = read_at(r, stat, sizeof(stat), L1_HEADER_SIZE);
  if (st != NFH_OK) {
    set_error(r, "cannot read the stat record");
    return st;
  }
  r->info.has_stat = 1;
  r->info.stat_flows = l1_counter(stat, 0);
  r->info.stat_bytes = l1_counter(stat, 1);
  r->info.stat_packets = l1_counter(stat, 2);
  r->info.stat_first_ms =
      (uint64_t)nfh__ld32(stat + 120) * 1000 + nfh__ld16(stat + 128);
  r->info.stat_last_ms =
      (uint64_t)nfh__ld32(stat + 124) * 1000 + nfh__ld16(stat + 130);
  r->info.stat_sequence_failures = nfh__ld32(stat + 132);
  r->read_offset = L1_HEADER_SIZE + L1_STAT_SIZE;
  r->data_end = r->file_size;
  return NFH_OK;
}

/* Reads layout 2's appendix: the ident and the stat record. */
static nfh_status read_appendix(nfh_reader *r, uint64_t off) {
  uint8_t hdr[BLOCK_HEADER_SIZE];
  if (off > r->file_size || r->file_size - off < BLOCK_HEADER_SIZE) {
    set_error(r, "appendix offset %llu beyond end of file (%llu bytes)",
              (unsigned long long)off, (unsigned long long)r->file_size);
    return NFH_ETRUNC;
  }
  nfh_status st = read_at(r, hdr, sizeof(hdr), off);
  if (st != NFH_OK) {
    set_error(r, "cannot read the appendix");
    return st;
  }
  uint32_t nrec = nfh__ld32(hdr);
  uint32_t size = nfh__ld32(hdr + 4);
  if (size > r->file_size - off - BLOCK_HEADER_SIZE) {
    set_error(r, "appendix of %u bytes runs past end of file", size);
    return NFH_ETRUNC;
  }
  if (size > nfh__codec_bound((nfh_codec)r->info.codec,
                              NFH_BLOCK_PAYLOAD_MAX)) {
    set_error(r, "appendix size %u beyond limit", size);
    return NFH_ETOOBIG;
  }
  /* Borrow slot 0's buffers; no block is in flight at open. */
  nfh__block *b = &r->slots[0].block;
  if (b->raw_cap < size) {
    uint8_t *grown = nfh__realloc(b->raw, size ? size : 1);
    if (!grown)
      return NFH_ENOMEM;
    b->raw = grown;
    b->raw_cap = size;
  }
  st = read_at(r, b->raw, size, off + BLOCK_HEADER_SIZE);
  if (st != NFH_OK) {
    set_error(r, "cannot read the appendix");
    return st;
  }
  uint8_t small[4096];
  size_t len = 0;
  st = nfh__codec_decompress((nfh_codec)r->info.codec, b->raw, size, small,
                             sizeof(small), &len);
  if (st != NFH_OK) {
    set_error(r, "appendix: %s", st == NFH_ETOOBIG
                                     ? "decompresses beyond limit"
                                     : "corrupt compressed data");
    return st;
  }
  const uint8_t *p = small;
  size_t left = len;
  uint32_t found = 0;
  for (uint32_t i = 0; i < nrec && left >= 4; i++, found++) {
    unsigned type = nfh__ld16(p);
    size_t rsize = nfh__ld16(p + 2);
    if (rsize < 4 || rsize > left) {
      set_error(r, "appendix record %u has bad size %zu", i + 1, rsize);
      return NFH_ECORRUPT;
    }
    if (type != NFH__REC_IDENT && type != NFH__REC_STAT) {
      /* An appendix holds the ident and the stat record only: this
       * offset points elsewhere (at the first data block, which made
       * every block look truncated). */
      set_error(r, "no appendix at offset %llu (a record of type %u)",
                (unsigned long long)off, type);
      return NFH_ECORRUPT;
    }
    if (type == NFH__REC_IDENT) {
      size_t n = rsize - 4;
      if (n >= sizeof(r->info.ident))
        n = sizeof(r->info.ident) - 1;
      memcpy(r->info.ident, p + 4, n);
      r->info.ident[n] = '\0';
    } else if (type == NFH__REC_STAT && rsize >= STAT_RECORD_SIZE) {
      const uint8_t *s = p + 4;
      r->info.has_stat = 1;
      r->info.stat_flows = nfh__ld64(s);
      r->info.stat_bytes = nfh__ld64(s + 8);
      r->info.stat_packets = nfh__ld64(s + 16);
      r->info.stat_first_ms = nfh__ld64(s + 15 * 8);
      r->info.stat_last_ms = nfh__ld64(s + 16 * 8);
      r->info.stat_sequence_failures = nfh__ld64(s + 17 * 8);
    }
    p += rsize;
    left -= rsize;
  }
  /* nfcapd writes the appendix last: bytes after it were put there by
   * something else (a copy appended to, a disk's garbage), and were
   * passed over without a word. */
  uint64_t end = off + BLOCK_HEADER_SIZE + size;
  if (end < r->file_size)
    late_fault(r,
               "%llu bytes follow its appendix (appended to the file?): "
               "not read",
               (unsigned long long)(r->file_size - end));
  /* Its count against its records: 0 hid the ident and the stat record,
   * more than it holds passed in silence (a tester's). */
  if (nrec == 0 && len >= 4)
    late_fault(r,
               "its appendix lists no record, yet holds %zu bytes (a damaged "
               "count?): its ident and stat record not read",
               len);
  else if (found != nrec)
    late_fault(r,
               "its appendix lists %u records and holds %u (a damaged "
               "count?)",
               nrec, found);
  return NFH_OK;
}

static nfh_status open_layout2(nfh_reader *r, const uint8_t *head) {
  if (r->file_size < L2_HEADER_SIZE) {
    set_error(r, "header truncated (%llu bytes)",
              (unsigned long long)r->file_size);
    return NFH_ETRUNC;
  }
  r->info.layout = 2;
  r->info.nfd_version = nfh__ld32(head + 4);
  r->info.created = (int64_t)nfh__ld64(head + 8);
  int codec = head[16];
  int encryption = head[17];
  unsigned appendix_blocks = nfh__ld16(head + 18);
  r->info.creator = nfh__ld32(head + 20);
  uint64_t off_appendix = nfh__ld64(head + 24);
  r->info.num_blocks = nfh__ld32(head + 36);
  if (!nfh__codec_name(codec)) {
    set_error(r, "unknown compression %d", codec);
    return NFH_ECODEC;
  }
  r->info.codec = codec;
  if (encryption != 0) {
    set_error(r, "encrypted (method %d); not supported", encryption);
    return NFH_EENCRYPTED;
  }
  r->read_offset = L2_HEADER_SIZE;
  r->data_end = r->file_size;
  if (appendix_blocks == 0) {
    /* A file nfcapd still writes: its header says no blocks yet. */
    r->info.complete = 0;
    if (r->info.num_blocks == 0 && r->file_size > L2_HEADER_SIZE) {
      r->info.unlisted_bytes = r->file_size - L2_HEADER_SIZE;
      /* nfcapd writes its blocks right after the header: a first block
       * header of another type, of no records or of a size past the
       * file or the cap is no file nfcapd was writing. */
      uint8_t bh[BLOCK_HEADER_SIZE];
      uint64_t left = r->file_size - L2_HEADER_SIZE;
      if (left < BLOCK_HEADER_SIZE ||
          read_at(r, bh, sizeof(bh), L2_HEADER_SIZE) != NFH_OK) {
        r->info.unlisted_no_block = 1;
      } else {
        uint32_t nrec = nfh__ld32(bh), size = nfh__ld32(bh + 4);
        unsigned type = nfh__ld16(bh + 8);
        r->info.unlisted_no_block = (type != 2 && type != 3) || nrec == 0 ||
                                    size > NFH_BLOCK_PAYLOAD_MAX ||
                                    size > left - BLOCK_HEADER_SIZE;
      }
    }
    return NFH_OK;
  }
  r->info.complete = 1;
  /* nfcapd writes one appendix block: a count of 2 or 65535 is damage
   * (said once the blocks are read). */
  if (appendix_blocks > 1)
    late_fault(r,
               "its header lists %u appendix blocks, nfcapd writes 1 (a "
               "damaged count?)",
               appendix_blocks);
  if (off_appendix < L2_HEADER_SIZE) {
    /* The blocks the header counts are read without it, as nfdump reads
     * them; the fault is told after the last flow (the file was refused
     * with its data intact). */
    late_fault(r, "appendix offset %llu inside the header: appendix not read",
               (unsigned long long)off_appendix);
    return NFH_OK;
  }
  if (off_appendix < r->file_size)
    r->data_end = off_appendix;
  /* Closed, yet its header lists no block while data lies before the
   * appendix: a damaged count, read as nfdump reads it (nothing). */
  if (r->info.num_blocks == 0 && r->data_end > L2_HEADER_SIZE &&
      off_appendix < r->file_size)
    r->info.unlisted_bytes = r->data_end - L2_HEADER_SIZE;
  nfh_status st = off_appendix >= r->file_size
                      ? (set_error(r,
                                   "appendix offset %llu beyond end of file "
                                   "(%llu bytes): truncated",
                                   (unsigned long long)off_appendix,
                                   (unsigned long long)r->file_size),
                         NFH_ETRUNC)
                      : read_appendix(r, off_appendix);
  if (st == NFH_OK) {
    r->appendix_read = 1;
    return st;
  }
  if (st == NFH_ENOMEM)
    return st;
  /* Like nfdump, still read the data blocks of a file whose appendix is
   * damaged or cut off; the fault is reported after the last flow. Its
   * offset is no bound then: one pointing at the first data block made
   * the blocks look truncated. */
  r->late_status = st;
  memcpy(r->late_errmsg, r->errmsg, sizeof(r->late_errmsg));
  r->errmsg[0] = '\0';
  r->info.has_stat = 0;
  r->data_end = r->file_size;
  return NFH_OK;
}

nfh_status nfh_reader_open(nfh_reader *r, const char *path) {
  nfh_reader_close(r);
  r->errmsg[0] = '\0';
  memset(&r->info, 0, sizeof(r->info));
  r->read_failed = 0;
  r->late_status = NFH_OK;
  r->late_faults = 0;
  r->after_damage = 0;
  r->finished = 0;
  r->appendix_read = 0;
  /* The workers read the block counters under the lock (they scan for
   * queued slots whenever they wake): every writer takes it. */
  if (r->nthreads)
    pthread_mutex_lock(&r->lock);
  r->blocks_read = 0;
  r->blocks_empty = 0;
  r->blocks_handed = 0;
  if (r->nthreads)
    pthread_mutex_unlock(&r->lock);
  forget_exporters(r);
  forget_samplers(r);
  forget_stats(r);
  nfh__l1_maps_clear(r->maps);

  r->path = nfh__strdup(path);
  if (!r->path)
    return NFH_ENOMEM;
  /* O_NONBLOCK: opening a FIFO would otherwise wait for a writer
   * forever; it is refused below, and regular files ignore the flag. */
  r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (r->fd < 0) {
    int saved = errno;
    struct stat ls;
    /* A socket cannot be opened (ENXIO): what it is says more. */
    if (saved == ENXIO && stat(path, &ls) == 0 && !S_ISREG(ls.st_mode)) {
      set_error(r, "not a regular file (%s)",
                S_ISSOCK(ls.st_mode) ? "a socket" : "a device");
      nfh__free(r->path);
      r->path = NULL;
      return NFH_EINVAL;
    }
    set_error(r, "cannot open: %s", strerror(saved));
    nfh__free(r->path);
    r->path = NULL;
    return saved == ENOENT ? NFH_ENOTFOUND : NFH_EIO;
  }
  struct stat sb;
  if (fstat(r->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    set_error(r, "not a regular file");
    nfh_reader_close(r);
    return NFH_EINVAL;
  }
  r->file_size = (uint64_t)sb.st_size;
  uint8_t head[L1_HEADER_SIZE];
  size_t head_len =
      r->file_size < sizeof(head) ? (size_t)r->file_size : sizeof(head);
  nfh_status st = read_at(r, head, head_len, 0);
  if (st == NFH_OK && head_len < 4) {
    set_error(r, "file of %zu bytes is too short for an nfcapd header",
              head_len);
    st = NFH_ETRUNC;
  } else if (st == NFH_OK) {
    unsigned magic = nfh__ld16(head);
    unsigned layout = nfh__ld16(head + 2);
    if (magic == NFCAPD_MAGIC_SWAPPED) {
      set_error(r, "written on a host of the other byte order");
      st = NFH_EMAGIC;
    } else if (magic != NFCAPD_MAGIC) {
      set_error(r, "not an nfcapd file (magic 0x%04x)", magic);
      st = NFH_EMAGIC;
    } else if (layout == 1) {
      st = open_layout1(r, head);
    } else if (layout == 2) {
      st = open_layout2(r, head);
    } else if (layout == 3) {
      set_error(r, "layout 3 (nfdump 1.8) is not supported");
      st = NFH_ELAYOUT;
    } else {
      set_error(r, "unknown layout version %u", layout);
      st = NFH_ELAYOUT;
    }
  } else {
    set_error(r, "cannot read the header");
  }
  if (st != NFH_OK) {
    char keep[sizeof(r->errmsg)];
    memcpy(keep, r->errmsg, sizeof(keep));
    nfh_reader_close(r);
    memcpy(r->errmsg, keep, sizeof(keep));
    return st;
  }
  return NFH_OK;
}

/* ------------------------------------------------------ reading blocks */

static void fail_read(nfh_reader *r, nfh_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_read(nfh_reader *r, nfh_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->read_errmsg, sizeof(r->read_errmsg), fmt, ap);
  va_end(ap);
  r->read_failed = 1;
  r->read_status = st;
}

/* Reads the next block's raw bytes into slot s. Returns 0; 1 for an
 * empty block, passed over (no slot used); or -1 after
 * recording the failure with fail_read. */
static int read_block(nfh_reader *r, slot *s) {
  nfh__block *b = &s->block;
  uint64_t off = r->read_offset;
  uint64_t index = r->blocks_read + r->blocks_empty;
  uint8_t hdr[BLOCK_HEADER_SIZE];
  if (off > r->data_end || r->data_end - off < BLOCK_HEADER_SIZE) {
    /* At its appendix, read whole, a closed file is not short: its
     * header counted too many blocks ("truncated" sent a tester looking
     * for a lost end). */
    if (r->appendix_read && off == r->data_end)
      fail_read(r, NFH_ECORRUPT,
                "its header lists %u data blocks, yet only %llu lie before "
                "its appendix (a damaged count?)",
                r->info.num_blocks, (unsigned long long)index);
    else
      fail_read(r, NFH_ETRUNC,
                "block %llu of %u at offset %llu: file ends (truncated)",
                (unsigned long long)index, r->info.num_blocks,
                (unsigned long long)off);
    return -1;
  }
  nfh_status st = read_at(r, hdr, sizeof(hdr), off);
  if (st != NFH_OK) {
    fail_read(r, st, "block %llu at offset %llu: cannot read header",
              (unsigned long long)index, (unsigned long long)off);
    return -1;
  }
  uint32_t nrec = nfh__ld32(hdr);
  uint32_t size = nfh__ld32(hdr + 4);
  uint16_t type = nfh__ld16(hdr + 8);
  uint64_t room = r->data_end - off - BLOCK_HEADER_SIZE;
  if (size == 0 && nrec == 0) {
    /* An empty block holds nothing to lose: passed over here, without a
     * worker (3 million of them took 22 s of hand-offs). nfdump stops
     * at one; the blocks after it are read here. */
    r->read_offset = off + BLOCK_HEADER_SIZE;
    r->blocks_empty++;
    return 1;
  }
  if (size > room && r->appendix_read &&
      size <= r->file_size - off - BLOCK_HEADER_SIZE) {
    /* Into the appendix but inside the file: nfdump reads such a block
     * by its size and gets its flows; it was dropped whole, "past end of
     * data" of a file that was not short (a tester's). Read, and said. */
    late_fault(r,
               "block %llu at offset %llu: size %u runs %llu bytes into the "
               "appendix (a damaged size?): read as its size says, as "
               "nfdump does",
               (unsigned long long)index, (unsigned long long)off, size,
               (unsigned long long)(size - room));
  } else if (size > room) {
    fail_read(r, NFH_ETRUNC,
              "block %llu at offset %llu: size %u runs past end of data "
              "(%llu bytes left)",
              (unsigned long long)index, (unsigned long long)off, size,
              (unsigned long long)room);
    return -1;
  }
  if (size > nfh__codec_bound((nfh_codec)r->info.codec,
                              NFH_BLOCK_PAYLOAD_MAX)) {
    fail_read(r, NFH_ETOOBIG,
              "block %llu at offset %llu: size %u beyond the %zu byte limit",
              (unsigned long long)index, (unsigned long long)off, size,
              NFH_BLOCK_PAYLOAD_MAX);
    return -1;
  }
  if (type == BLOCK_TYPE_1) {
    /* Passed over, as nfdump does, and as an unknown type costs its
     * block only: the blocks after it were lost (0 of 30,116 flows of a
     * file whose first block's type read 1). */
    late_fault(r,
               "block %llu at offset %llu: block type 1 (nfdump 1.5) is not "
               "supported: skipped",
               (unsigned long long)index, (unsigned long long)off);
    r->late_faults++;
    r->read_offset = off + BLOCK_HEADER_SIZE + size;
    r->blocks_empty++;
    return 1;
  }
  if (b->raw_cap < size) {
    uint8_t *grown = nfh__realloc(b->raw, size);
    if (!grown) {
      fail_read(r, NFH_ENOMEM, "out of memory");
      return -1;
    }
    b->raw = grown;
    b->raw_cap = size;
  }
  st = read_at(r, b->raw, size, off + BLOCK_HEADER_SIZE);
  if (st != NFH_OK) {
    fail_read(r, st, "block %llu at offset %llu: cannot read %u bytes",
              (unsigned long long)index, (unsigned long long)off, size);
    return -1;
  }
  b->raw_len = size;
  b->index = index;
  b->offset = off;
  b->num_records = nrec;
  b->type = type;
  s->codec = r->info.codec;
  s->layout = r->info.layout;
  r->read_offset = off + BLOCK_HEADER_SIZE + size;
  return 0;
}

/* Reads ahead into every free slot. */
static void fill_slots(nfh_reader *r) {
  while (!r->read_failed &&
         r->blocks_read + r->blocks_empty < r->info.num_blocks &&
         r->blocks_read - r->blocks_handed < r->nslots) {
    slot *s = &r->slots[r->blocks_read % r->nslots];
    int got = read_block(r, s);
    if (got > 0)
      continue; /* an empty block, passed over */
    if (got != 0)
      break;
    if (r->nthreads == 0) {
      process_slot(s);
      s->state = SLOT_DONE;
      r->blocks_read++;
      continue;
    }
    pthread_mutex_lock(&r->lock);
    s->state = SLOT_QUEUED;
    r->blocks_read++;
    pthread_cond_signal(&r->work_ready);
    pthread_mutex_unlock(&r->lock);
  }
}

/* Changes a slot's state under the lock that workers read it under. */
static void set_slot_state(nfh_reader *r, slot *s, slot_state state) {
  if (r->nthreads)
    pthread_mutex_lock(&r->lock);
  s->state = state;
  if (r->nthreads)
    pthread_mutex_unlock(&r->lock);
}

/* ------------------------------------------------- in-order resolution */

/* Names the stat of e's sysid, if any, by e: an exporter stat names the
 * file's exporter of its sysid wherever that record sits. */
static void name_stat(nfh_reader *r, const nfh_exporter *e) {
  uint32_t at = r->stat_slot ? r->stat_slot[e->sysid] : 0;
  if (at) {
    r->stats[at - 1].known = 1;
    r->stats[at - 1].exporter = *e;
  }
}

/* A table of one slot per sysid (65536), allocated on first use so that
 * a reader that never meets an exporter never pays for it; NULL when out
 * of memory. */
static uint32_t *sysid_slots(uint32_t **table) {
  if (!*table)
    *table = nfh__calloc((size_t)UINT16_MAX + 1, sizeof(uint32_t));
  return *table;
}

static nfh_status remember_exporter(nfh_reader *r, const nfh_exporter *e) {
  name_stat(r, e);
  if (!sysid_slots(&r->exporter_slot))
    return NFH_ENOMEM;
  uint32_t at = r->exporter_slot[e->sysid];
  if (at) {
    r->exporters[at - 1] = *e;
    return NFH_OK;
  }
  if (r->nexporters == r->exporters_cap) {
    size_t cap = r->exporters_cap ? 2 * r->exporters_cap : 8;
    nfh_exporter *grown = nfh__realloc(r->exporters, cap * sizeof(*grown));
    if (!grown)
      return NFH_ENOMEM;
    r->exporters = grown;
    r->exporters_cap = cap;
  }
  r->exporters[r->nexporters++] = *e;
  r->exporter_slot[e->sysid] = (uint32_t)r->nexporters;
  return NFH_OK;
}

/* Adds an ExporterStat entry to its sysid's sums, as nfdump -E does. The
 * decoder refused sysids above 65535, so every sysid has a slot. */
static nfh_status remember_stat(nfh_reader *r, const nfh_exporter_stat *s) {
  if (!sysid_slots(&r->stat_slot))
    return NFH_ENOMEM;
  uint32_t at = r->stat_slot[s->sysid];
  if (at) {
    /* Sums wrap like nfdump's; only a crafted file gets near them. */
    nfh_exporter_stat *sum = &r->stats[at - 1];
    sum->sequence_failures += s->sequence_failures;
    sum->packets += s->packets;
    sum->flows += s->flows;
    return NFH_OK;
  }
  if (r->nstats == r->stats_cap) {
    /* At most 65536 entries: one per sysid. */
    size_t cap = r->stats_cap ? 2 * r->stats_cap : 8;
    nfh_exporter_stat *grown = nfh__realloc(r->stats, cap * sizeof(*grown));
    if (!grown)
      return NFH_ENOMEM;
    r->stats = grown;
    r->stats_cap = cap;
  }
  nfh_exporter_stat *sum = &r->stats[r->nstats];
  *sum = *s;
  sum->known = 0;
  memset(&sum->exporter, 0, sizeof(sum->exporter));
  const nfh_exporter *known = exporter_of(r, s->sysid);
  if (known) {
    sum->known = 1;
    sum->exporter = *known;
  }
  r->stat_slot[s->sysid] = (uint32_t)++r->nstats;
  return NFH_OK;
}

static uint64_t sampler_key(uint16_t sysid, int64_t id) {
  /* ids are -3 (nfcapd -s -N) up to UINT32_MAX: 48 bits with the +3 */
  return (uint64_t)sysid << 48 | ((uint64_t)(id + 3) & 0xffffffffffffull);
}

/* The slot of key in m (m->cap > m->used). */
static struct sampler_slot *map_slot(const sampler_map *m, uint64_t key) {
  uint64_t h = key * 0x9e3779b97f4a7c15ull;
  size_t mask = m->cap - 1;
  for (size_t i = (size_t)(h >> 32) & mask;; i = (i + 1) & mask)
    if (!m->slots[i].val || m->slots[i].key == key)
      return &m->slots[i];
}

/* The index + 1 that m holds for key, 0 when none. */
static uint32_t map_get(const sampler_map *m, uint64_t key) {
  return m->cap ? map_slot(m, key)->val : 0;
}

static nfh_status map_put(sampler_map *m, uint64_t key, uint32_t val) {
  if (2 * (m->used + 1) > m->cap) {
    sampler_map grown = {NULL, m->cap ? 2 * m->cap : 64, 0};
    grown.slots = nfh__calloc(grown.cap, sizeof(*grown.slots));
    if (!grown.slots)
      return NFH_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i].val) {
        *map_slot(&grown, m->slots[i].key) = m->slots[i];
        grown.used++;
      }
    nfh__free(m->slots);
    *m = grown;
  }
  struct sampler_slot *s = map_slot(m, key);
  m->used += !s->val;
  s->key = key;
  s->val = val;
  return NFH_OK;
}

static void map_clear(sampler_map *m) {
  if (m->used)
    memset(m->slots, 0, m->cap * sizeof(*m->slots));
  m->used = 0;
}

static void forget_samplers(nfh_reader *r) {
  r->nsamplers = 0;
  map_clear(&r->by_id);
  map_clear(&r->latest);
}

static nfh_status remember_sampler(nfh_reader *r, const nfh_sampler *s) {
  /* nfcapd writes a new record when a sampler's values change: the
   * latest one wins, and becomes the exporter's latest. */
  uint32_t at = map_get(&r->by_id, sampler_key(s->exporter_sysid, s->id));
  if (at) {
    r->samplers[at - 1] = *s;
    return s->id >= 0 ? map_put(&r->latest, s->exporter_sysid, at) : NFH_OK;
  }
  if (r->nsamplers >= UINT32_MAX - 1)
    return NFH_ENOMEM;
  if (r->nsamplers == r->samplers_cap) {
    size_t cap = r->samplers_cap ? 2 * r->samplers_cap : 8;
    nfh_sampler *grown = nfh__realloc(r->samplers, cap * sizeof(*grown));
    if (!grown)
      return NFH_ENOMEM;
    r->samplers = grown;
    r->samplers_cap = cap;
  }
  r->samplers[r->nsamplers++] = *s;
  at = (uint32_t)r->nsamplers;
  if (map_put(&r->by_id, sampler_key(s->exporter_sysid, s->id), at) != NFH_OK)
    return NFH_ENOMEM;
  return s->id >= 0 ? map_put(&r->latest, s->exporter_sysid, at) : NFH_OK;
}

static const nfh_sampler *find_sampler(const nfh_reader *r, uint16_t sysid,
                                       int64_t id) {
  uint32_t at = map_get(&r->by_id, sampler_key(sysid, id));
  return at ? &r->samplers[at - 1] : NULL;
}

/* The exporter's sampler announced last (with an id of its own). */
static const nfh_sampler *latest_sampler(const nfh_reader *r,
                                         uint16_t sysid) {
  uint32_t at = map_get(&r->latest, sysid);
  return at ? &r->samplers[at - 1] : NULL;
}

static uint32_t sampler_interval(const nfh_sampler *s) {
  uint64_t pi = s->packet_interval ? s->packet_interval : 1;
  uint64_t n = (pi + s->space_interval) / pi;
  if (n < 1)
    n = 1;
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* The interval nfcapd used for a flow, in nfcapd's order of precedence:
 * an overwrite (-s -N), the record's own sampler, the exporter's generic
 * sampler, the default (-s N). nfcapd 1.7.1 applies a sampler that a
 * data record names but stores no EXsamplerInfo: a sampled flow with
 * neither its own nor a generic sampler took the exporter's sampler
 * announced last. */
static uint32_t flow_sampling(const nfh_reader *r, const nfh_flow *f,
                              int64_t selector) {
  const nfh_sampler *s = find_sampler(r, f->exporter_sysid, -3);
  if (!s && selector != NFH__NO_SELECTOR)
    s = find_sampler(r, f->exporter_sysid, selector);
  if (!s && !(f->flags & NFH_FLOW_SAMPLED))
    return 1;
  if (!s)
    s = find_sampler(r, f->exporter_sysid, -1);
  if (!s)
    s = latest_sampler(r, f->exporter_sysid);
  if (!s)
    s = find_sampler(r, f->exporter_sysid, -2);
  return s ? sampler_interval(s) : 1;
}

/* Applies the block's exporter, sampler and exporter stat records and
 * resolves every flow, in record order: a record counts from the flow
 * after it on. */
static nfh_status resolve_block(nfh_reader *r, nfh__block *b) {
  size_t next_exporter = 0, next_sampler = 0, next_stat = 0;
  const nfh_exporter *last = NULL;
  for (size_t i = 0; i <= b->nflows; i++) {
    while (next_exporter < b->nexporters &&
           b->exporter_at[next_exporter] <= i) {
      if (remember_exporter(r, &b->exporters[next_exporter++]) != NFH_OK)
        return NFH_ENOMEM;
      last = NULL; /* the table may have moved */
    }
    while (next_sampler < b->nsamplers && b->sampler_at[next_sampler] <= i)
      if (remember_sampler(r, &b->samplers[next_sampler++]) != NFH_OK)
        return NFH_ENOMEM;
    while (next_stat < b->nstats && b->stat_at[next_stat] <= i)
      if (remember_stat(r, &b->stats[next_stat++]) != NFH_OK)
        return NFH_ENOMEM;
    if (i == b->nflows)
      break;
    nfh_flow *f = &b->flows[i];
    if (f->exporter_sysid) {
      if (!last || last->sysid != f->exporter_sysid)
        last = exporter_of(r, f->exporter_sysid);
      if (last) {
        f->exporter = last->addr;
        f->exporter_id = last->id;
      }
    }
    if (r->nsamplers)
      f->sampling = flow_sampling(r, f,
                                  b->selectors ? b->selectors[i]
                                               : NFH__NO_SELECTOR);
  }
  return NFH_OK;
}

nfh_status nfh_reader_next(nfh_reader *r, const nfh_flow **flows,
                           size_t *count) {
  *flows = NULL;
  *count = 0;
  if (r->handed_slot >= 0) {
    set_slot_state(r, &r->slots[r->handed_slot], SLOT_FREE);
    r->handed_slot = -1;
  }
  if (r->fd < 0 || r->finished)
    return NFH_END;
  for (;;) {
    fill_slots(r);
    if (r->blocks_handed == r->blocks_read) {
      r->finished = 1;
      if (r->read_failed) {
        /* Damage met before is told too: it may explain the failure (a
         * damaged block size). */
        if (r->late_status != NFH_OK)
          set_error(r, "%s; %s", r->late_errmsg, r->read_errmsg);
        else
          set_error(r, "%s", r->read_errmsg);
        return r->read_status;
      }
      /* A closed file whose header counts fewer blocks than lie before
       * its appendix: read as the header says, as nfdump reads it, and
       * said (a count of 1 of 3 blocks lost 200 of 300 flows without a
       * word). A count of 0 the caller tells from unlisted_bytes. */
      if (((r->appendix_read && r->info.num_blocks > 0) ||
           r->info.layout == 1) &&
          r->read_offset < r->data_end)
        late_fault(r,
                   "its header lists %u data blocks, yet %llu bytes follow "
                   "them%s (a damaged count?): not read, as nfdump does",
                   r->info.num_blocks,
                   (unsigned long long)(r->data_end - r->read_offset),
                   r->info.layout == 1 ? "" : " before the appendix");
      if (r->late_status != NFH_OK) {
        if (r->late_faults > 1)
          set_error(r, "%s (%llu such faults in the file)", r->late_errmsg,
                    (unsigned long long)r->late_faults);
        else
          set_error(r, "%s", r->late_errmsg);
        return r->late_status;
      }
      return NFH_END;
    }
    long idx = (long)(r->blocks_handed % r->nslots);
    slot *s = &r->slots[idx];
    if (r->nthreads) {
      pthread_mutex_lock(&r->lock);
      while (s->state != SLOT_DONE)
        pthread_cond_wait(&r->work_done, &r->lock);
      r->blocks_handed++;
      pthread_mutex_unlock(&r->lock);
    } else {
      r->blocks_handed++;
    }
    nfh__block *b = &s->block;
    /* After a damaged payload, a block whose header is no data block's
     * says the damage reached the block sizes: what follows would be
     * read at the wrong places. */
    if (r->after_damage && b->type != BLOCK_TYPE_2 && b->type != BLOCK_TYPE_3) {
      set_error(r,
                "%s; block %llu at offset %llu after it is no data block "
                "(type %u): the rest of the file not read",
                r->late_errmsg, (unsigned long long)b->index,
                (unsigned long long)b->offset, b->type);
      set_slot_state(r, s, SLOT_FREE);
      r->finished = 1;
      return NFH_ECORRUPT;
    }
    if (b->status == NFH_OK && (s->layout == 1 || b->v1_records) &&
        !b->faults && (b->type == BLOCK_TYPE_2 || b->type == BLOCK_TYPE_3)) {
      if (nfh__l1_decode_block(r->maps, b) != NFH_OK)
        prefix_block_error(b);
    } else if (b->status == NFH_OK && s->layout == 1 && !b->faults) {
      nfh__block_fault(b, "unknown block type %u: skipped", b->type);
    }
    if (b->status == NFH_OK)
      take_block_faults(r, b);
    r->after_damage |= b->damaged;
    if (b->status != NFH_OK) {
      /* The rest of a damaged file is not trusted: stop here. */
      set_error(r, "%s: the rest of the file not read", b->errmsg);
      set_slot_state(r, s, SLOT_FREE);
      r->finished = 1;
      return b->status;
    }
    if (resolve_block(r, b) != NFH_OK) {
      set_error(r, "out of memory");
      set_slot_state(r, s, SLOT_FREE);
      r->finished = 1;
      return NFH_ENOMEM;
    }
    if (b->nflows == 0) {
      set_slot_state(r, s, SLOT_FREE);
      continue;
    }
    r->handed_slot = idx;
    *flows = b->flows;
    *count = b->nflows;
    return NFH_OK;
  }
}

const nfh_file_info *nfh_reader_info(const nfh_reader *r) {
  return r->fd >= 0 ? &r->info : NULL;
}

const nfh_exporter *nfh_reader_exporters(const nfh_reader *r, size_t *count) {
  *count = r->nexporters;
  return r->exporters;
}

const nfh_sampler *nfh_reader_samplers(const nfh_reader *r, size_t *count) {
  *count = r->nsamplers;
  return r->samplers;
}

const nfh_exporter_stat *nfh_reader_exporter_stats(const nfh_reader *r,
                                                   size_t *count) {
  *count = r->nstats;
  return r->nstats ? r->stats : NULL;
}

const char *nfh_reader_error(const nfh_reader *r) { return r->errmsg; }
