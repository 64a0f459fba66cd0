/*
 * writer.c - nfcapd layout-2 file writer; see nfhunt/writer.h.
 *
 * The on-disk layout follows nfdump 1.7 (NFCAPD-FORMAT.md sections 1 and
 * 2): every integer little-endian, a 40-byte header, 12-byte block
 * headers in clear text with the payload compressed per block, and an
 * appendix block with the IDENT and STAT records. All stores go through
 * the byte helpers below, so the output does not depend on the host's
 * byte order or on struct padding.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/writer.h>

#include "../common/alloc.h"
#include "../common/path.h"
#include "codec.h"
#include "format.h"
#include "records.h"

_Static_assert(NFH_WRITER_CODEC_NONE == NFH_CODEC_NONE, "codec numbers");
_Static_assert(NFH_WRITER_CODEC_LZO == NFH_CODEC_LZO, "codec numbers");
_Static_assert(NFH_WRITER_CODEC_BZ2 == NFH_CODEC_BZ2, "codec numbers");
_Static_assert(NFH_WRITER_CODEC_LZ4 == NFH_CODEC_LZ4, "codec numbers");
_Static_assert(NFH_WRITER_CODEC_ZSTD == NFH_CODEC_ZSTD, "codec numbers");

/* nfcapd 1.7.8 flushes a block when the next record would take its
 * payload past 2 MiB (nffile.h WRITE_BUFFSIZE). */
#define WRITE_BUFFSIZE ((size_t)2 * 1024 * 1024)

/* The largest V3 record this writer produces: every element at once. */
#define MAX_V3_RECORD                                                         \
  (V3_HEADER_SIZE + LEN_GENERIC_FLOW + LEN_IPV6_FLOW + LEN_FLOW_MISC +        \
   LEN_CNT_FLOW + LEN_VLAN + LEN_AS_ROUTING + 3 * LEN_ADDR_V6 + LEN_LATENCY + \
   LEN_SAMPLER_INFO + LEN_NSEL_COMMON + LEN_NAT_XLATE_IPV6 +                  \
   LEN_NAT_XLATE_PORT + LEN_NAT_COMMON)
_Static_assert(MAX_V3_RECORD <= 0xffff, "V3 size is a u16");

#define EXPORTER_RECORD_SIZE 32
#define SAMPLER_RECORD_SIZE 24

/* The sysids an exporter may have: a u16, 0 meaning "none". */
#define SYSID_SLOTS 65536

/* Indices of the stat words. */
enum {
  ST_FLOWS,
  ST_BYTES,
  ST_PACKETS,
  ST_FLOWS_TCP,
  ST_FLOWS_UDP,
  ST_FLOWS_ICMP,
  ST_FLOWS_OTHER,
  ST_BYTES_TCP,
  ST_BYTES_UDP,
  ST_BYTES_ICMP,
  ST_BYTES_OTHER,
  ST_PACKETS_TCP,
  ST_PACKETS_UDP,
  ST_PACKETS_ICMP,
  ST_PACKETS_OTHER,
  ST_FIRST,
  ST_LAST,
  ST_SEQ_FAILURES
};

struct nfh_writer {
  char *path;     /* target name, renamed to at close */
  char *tmp_path; /* hidden temporary file in the same directory */
  int fd;
  nfh_codec codec;
  int level;
  char ident[NFH_WRITER_IDENT_MAX + 1];
  uint32_t creator;
  uint32_t nfd_version;
  int64_t created;
  int sync;

  /* A failure that ends the writer (I/O, memory, codec); NFH_OK while
   * the writer is usable. */
  nfh_status failed;
  char errmsg[192];

  uint64_t offset;     /* bytes written to the file so far */
  uint32_t num_blocks; /* data blocks written */

  /* The block being filled: header room, then up to WRITE_BUFFSIZE
   * payload bytes. 'zbuf' receives the compressed copy. */
  uint8_t *block;
  size_t block_len;
  uint32_t block_records;
  uint8_t *zbuf;
  size_t zcap;

  uint64_t stat[STAT_WORDS];
  uint64_t flows;

  nfh_exporter *exporters;
  size_t nexporters, exporters_cap;
  size_t exporter_hint; /* index of the last exporter matched */
  uint8_t sysid_used[SYSID_SLOTS / 8];

  nfh_sampler *samplers;
  size_t nsamplers, samplers_cap;
  size_t sampler_hint;
};

/* ------------------------------------------------------ byte helpers */

/* Little-endian stores, byte by byte: records are packed without
 * alignment and the format is little-endian whatever the host is. */
static inline void st8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void st16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void st32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static inline void st64(uint8_t *p, uint64_t v) {
  st32(p, (uint32_t)v);
  st32(p + 4, (uint32_t)(v >> 32));
}

/* Big-endian (network order) loads from an nfh_addr's bytes. */
static inline uint32_t ld_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}
static inline uint64_t ld_be64(const uint8_t *p) {
  return (uint64_t)ld_be32(p) << 32 | ld_be32(p + 4);
}

/* An IPv4 address as nfdump stores it: a host-order u32. */
static inline void st_v4(uint8_t *p, const nfh_addr *a) {
  st32(p, a->family == 4 ? ld_be32(a->bytes + 12) : 0);
}

/* An IPv6 address as nfdump stores it: two u64 halves in host order,
 * each the big-endian value of its 8 network bytes. */
static inline void st_v6(uint8_t *p, const nfh_addr *a) {
  if (a->family == 6) {
    st64(p, ld_be64(a->bytes));
    st64(p + 8, ld_be64(a->bytes + 8));
  } else {
    memset(p, 0, 16);
  }
}

/* Writes an element header and returns the payload pointer. */
static inline uint8_t *element(uint8_t *p, unsigned type, unsigned len) {
  st16(p, (uint16_t)type);
  st16(p + 2, (uint16_t)len);
  memset(p + 4, 0, len - 4);
  return p + 4;
}

/* --------------------------------------------------------- failures */

static nfh_status fail(nfh_writer *w, nfh_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a detail message; a status other than NFH_EINVAL also marks
 * the writer failed. Returns the status. */
static nfh_status fail(nfh_writer *w, nfh_status status, const char *fmt,
                       ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
  va_end(ap);
  if (status != NFH_EINVAL)
    w->failed = status;
  return status;
}

/* ------------------------------------------------------- file output */

static nfh_status write_all(nfh_writer *w, const uint8_t *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(w->fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail(w, NFH_EIO, "write %s: %s", w->tmp_path, strerror(errno));
    }
    buf += n;
    len -= (size_t)n;
    w->offset += (uint64_t)n;
  }
  return NFH_OK;
}

/* Encodes the 40-byte file header into 'h'. */
static void encode_header(const nfh_writer *w, uint8_t *h, int closed,
                          uint64_t off_appendix) {
  memset(h, 0, L2_HEADER_SIZE);
  st16(h, NFCAPD_MAGIC);
  st16(h + 2, LAYOUT_VERSION_2);
  st32(h + 4, w->nfd_version);
  st64(h + 8, (uint64_t)w->created);
  st8(h + 16, (uint8_t)w->codec);
  st8(h + 17, 0); /* not encrypted */
  st16(h + 18, closed ? 1 : 0);
  st32(h + 20, w->creator);
  st64(h + 24, closed ? off_appendix : 0);
  st32(h + 32, 0); /* BlockSize: never written by nfdump either */
  st32(h + 36, closed ? w->num_blocks : 0);
}

/* Compresses and writes the current block, if it holds any record. */
static nfh_status flush_block(nfh_writer *w) {
  if (w->block_records == 0)
    return NFH_OK;
  const uint8_t *out = w->block;
  size_t payload = w->block_len;
  if (w->codec != NFH_CODEC_NONE) {
    size_t zlen;
    nfh_status st = nfh__codec_compress(
        w->codec, w->level, w->block + BLOCK_HEADER_SIZE, w->block_len,
        w->zbuf + BLOCK_HEADER_SIZE, w->zcap - BLOCK_HEADER_SIZE, &zlen);
    if (st != NFH_OK)
      return fail(w, st, "%s compression of block %u failed: %s",
                  nfh__codec_name(w->codec), w->num_blocks, nfh_strerror(st));
    out = w->zbuf;
    payload = zlen;
  }
  uint8_t *h = (uint8_t *)out;
  st32(h, w->block_records);
  st32(h + 4, (uint32_t)payload);
  st16(h + 8, BLOCK_TYPE_3);
  st16(h + 10, 0);
  nfh_status st = write_all(w, out, BLOCK_HEADER_SIZE + payload);
  if (st != NFH_OK)
    return st;
  w->block_len = 0;
  w->block_records = 0;
  return NFH_OK;
}

/* Room for one record of 'size' bytes in the current block, flushing it
 * first when the record would take the payload past WRITE_BUFFSIZE.
 * Returns the record's place, or NULL when the flush failed. */
static uint8_t *reserve(nfh_writer *w, size_t size) {
  if (w->block_len + size > WRITE_BUFFSIZE) {
    if (flush_block(w) != NFH_OK)
      return NULL;
    w->num_blocks++;
  }
  uint8_t *p = w->block + BLOCK_HEADER_SIZE + w->block_len;
  w->block_len += size;
  w->block_records++;
  return p;
}

/* -------------------------------------------------------- open/close */

/* splitmix64: spreads a seed over 64 bits for temporary-name suffixes. */
static uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* Builds "<dir>/.<base>.XXXXXXXXXXXX" and creates it exclusively with
 * mode 0666 less the umask, like any file the user creates. */
static nfh_status create_temp(nfh_writer *w) {
  const char *slash = strrchr(w->path, '/');
  size_t dirlen = slash ? (size_t)(slash - w->path) + 1 : 0;
  const char *base = w->path + dirlen;
  size_t len = dirlen + 1 + strlen(base) + 1 + 12 + 1;
  w->tmp_path = nfh__malloc(len);
  if (!w->tmp_path)
    return NFH_ENOMEM;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t seed = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
  seed ^= (uint64_t)getpid() << 40 ^ (uint64_t)(uintptr_t)w;
  for (int attempt = 0; attempt < 100; attempt++) {
    seed = mix64(seed);
    snprintf(w->tmp_path, len, "%.*s.%s.%012llx", (int)dirlen, w->path, base,
             (unsigned long long)(seed & 0xffffffffffffULL));
    w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (w->fd >= 0)
      return NFH_OK;
    if (errno != EEXIST)
      break;
  }
  int saved = errno;
  nfh__free(w->tmp_path);
  w->tmp_path = NULL;
  errno = saved;
  return NFH_EIO;
}

static void writer_free(nfh_writer *w) {
  if (w->fd >= 0)
    close(w->fd);
  nfh__free(w->path);
  nfh__free(w->tmp_path);
  nfh__free(w->block);
  nfh__free(w->zbuf);
  nfh__free(w->exporters);
  nfh__free(w->samplers);
  nfh__free(w);
}

/* Removes the temporary file (keeping errno) and frees the writer. */
static void writer_discard(nfh_writer *w) {
  int saved = errno;
  if (w->fd >= 0) {
    close(w->fd);
    w->fd = -1;
  }
  if (w->tmp_path)
    unlink(w->tmp_path);
  writer_free(w);
  errno = saved;
}

nfh_status nfh_writer_codec_parse(const char *name, int *codec) {
  nfh_codec c;
  if (!name || !codec || nfh__codec_parse(name, &c) != 0)
    return NFH_EINVAL;
  *codec = (int)c;
  return NFH_OK;
}

nfh_status nfh_writer_open(const char *path, const nfh_writer_options *options,
                           nfh_writer **out) {
  static const nfh_writer_options defaults;
  if (!out)
    return NFH_EINVAL;
  *out = NULL;
  const nfh_writer_options *o = options ? options : &defaults;
  if (!path || !*path || o->codec < NFH_WRITER_CODEC_NONE ||
      o->codec > NFH_WRITER_CODEC_ZSTD)
    return NFH_EINVAL;
  for (size_t i = 0; i < sizeof(o->reserved) / sizeof(o->reserved[0]); i++)
    if (o->reserved[i] != 0)
      return NFH_EINVAL;
  const char *ident = o->ident ? o->ident : "none";
  if (strlen(ident) > NFH_WRITER_IDENT_MAX)
    return NFH_EINVAL;
  /* A capture file is finished by a rename over its path: over a device
   * or a FIFO that would replace the node itself. */
  if (nfh__is_special_file(path)) {
    errno = EEXIST;
    return NFH_EIO;
  }

  nfh_writer *w = nfh__calloc(1, sizeof(*w));
  if (!w)
    return NFH_ENOMEM;
  w->fd = -1;
  w->codec = (nfh_codec)o->codec;
  w->level = o->level;
  memcpy(w->ident, ident, strlen(ident) + 1);
  w->creator = o->creator;
  w->nfd_version =
      o->nfd_version ? o->nfd_version : NFH_WRITER_NFDVERSION_DEFAULT;
  w->created = o->created ? o->created : (int64_t)time(NULL);
  w->sync = o->sync;
  w->stat[ST_FIRST] = UINT64_MAX;
  w->path = nfh__strdup(path);
  w->block = nfh__malloc(BLOCK_HEADER_SIZE + WRITE_BUFFSIZE);
  if (w->codec != NFH_CODEC_NONE) {
    w->zcap = BLOCK_HEADER_SIZE + nfh__codec_bound(w->codec, WRITE_BUFFSIZE);
    w->zbuf = nfh__malloc(w->zcap);
  }
  if (!w->path || !w->block || (w->codec != NFH_CODEC_NONE && !w->zbuf)) {
    writer_free(w);
    return NFH_ENOMEM;
  }
  nfh_status st = create_temp(w);
  if (st != NFH_OK) {
    writer_discard(w); /* keeps errno for the caller */
    return st;
  }
  /* A provisional header: NumBlocks 0 and no appendix, so that a reader
   * of the unfinished file sees an empty file being written. */
  uint8_t h[L2_HEADER_SIZE];
  encode_header(w, h, 0, 0);
  st = write_all(w, h, sizeof(h));
  if (st != NFH_OK) {
    writer_discard(w);
    return st;
  }
  *out = w;
  return NFH_OK;
}

/* Writes the appendix block: IDENT and STAT, compressed like the data
 * blocks (nfdump since 2023; 1.7.1 reads it through the same path). */
static nfh_status write_appendix(nfh_writer *w) {
  size_t ident_size = 4 + strlen(w->ident) + 1;
  ident_size += ident_size & 1; /* rounded up to even, as 1.7.8 does */
  uint8_t *p = w->block + BLOCK_HEADER_SIZE;
  memset(p, 0, ident_size);
  st16(p, NFH__REC_IDENT);
  st16(p + 2, (uint16_t)ident_size);
  memcpy(p + 4, w->ident, strlen(w->ident));
  p += ident_size;

  uint64_t stat[STAT_WORDS];
  memcpy(stat, w->stat, sizeof(stat));
  if (w->flows == 0)
    stat[ST_FIRST] = stat[ST_LAST] = 0;
  st16(p, NFH__REC_STAT);
  st16(p + 2, STAT_RECORD_SIZE);
  for (int i = 0; i < STAT_WORDS; i++)
    st64(p + 4 + 8 * i, stat[i]);

  w->block_len = ident_size + STAT_RECORD_SIZE;
  w->block_records = 2;
  return flush_block(w);
}

nfh_status nfh_writer_close(nfh_writer *w) {
  if (!w)
    return NFH_OK;
  nfh_status st = w->failed;
  if (st == NFH_OK && w->block_records > 0) {
    st = flush_block(w);
    if (st == NFH_OK)
      w->num_blocks++;
  }
  uint64_t off_appendix = w->offset;
  if (st == NFH_OK)
    st = write_appendix(w);
  if (st == NFH_OK) {
    uint8_t h[L2_HEADER_SIZE];
    encode_header(w, h, 1, off_appendix);
    if (pwrite(w->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
      st = fail(w, NFH_EIO, "rewrite header of %s: %s", w->tmp_path,
                strerror(errno));
  }
  if (st == NFH_OK && w->sync && fsync(w->fd) != 0)
    st = fail(w, NFH_EIO, "fsync %s: %s", w->tmp_path, strerror(errno));
  if (st == NFH_OK) {
    int rc = close(w->fd);
    w->fd = -1;
    if (rc != 0)
      st = fail(w, NFH_EIO, "close %s: %s", w->tmp_path, strerror(errno));
  }
  if (st == NFH_OK && rename(w->tmp_path, w->path) != 0)
    st = fail(w, NFH_EIO, "rename %s to %s: %s", w->tmp_path, w->path,
              strerror(errno));
  if (st != NFH_OK) {
    writer_discard(w);
    return st;
  }
  writer_free(w);
  return NFH_OK;
}

void nfh_writer_abort(nfh_writer *w) {
  if (w)
    writer_discard(w);
}

const char *nfh_writer_error(const nfh_writer *w) {
  return w ? w->errmsg : "";
}

uint64_t nfh_writer_flows(const nfh_writer *w) { return w ? w->flows : 0; }

/* ------------------------------------------------ exporters, samplers */

static int sysid_known(const nfh_writer *w, uint16_t sysid) {
  return w->sysid_used[sysid >> 3] >> (sysid & 7) & 1;
}

static int same_exporter(const nfh_exporter *a, const nfh_exporter *b) {
  return a->sysid == b->sysid && a->version == b->version && a->id == b->id &&
         nfh_addr_compare(&a->addr, &b->addr) == 0;
}

/* Appends the ExporterInfo record and remembers the exporter. */
static nfh_status put_exporter(nfh_writer *w, const nfh_exporter *e) {
  if (w->nexporters == w->exporters_cap) {
    size_t cap = w->exporters_cap ? 2 * w->exporters_cap : 8;
    nfh_exporter *grown =
        nfh__realloc(w->exporters, cap * sizeof(*w->exporters));
    if (!grown)
      return fail(w, NFH_ENOMEM, "out of memory");
    w->exporters = grown;
    w->exporters_cap = cap;
  }
  uint8_t *p = reserve(w, EXPORTER_RECORD_SIZE);
  if (!p)
    return w->failed;
  memset(p, 0, EXPORTER_RECORD_SIZE);
  st16(p, NFH__REC_EXPORTER_INFO);
  st16(p + 2, EXPORTER_RECORD_SIZE);
  st32(p + 4, e->version);
  /* ip_addr_t in host order: IPv4 in the third u32, IPv6 as two u64
   * halves; then the address family, which tells nfdump 1.7.8 that this
   * is the old encoding. */
  if (e->addr.family == 4) {
    st_v4(p + 16, &e->addr);
    st16(p + 24, OLD_FAMILY_INET);
  } else {
    st_v6(p + 8, &e->addr);
    st16(p + 24, OLD_FAMILY_INET6);
  }
  st16(p + 26, e->sysid);
  st32(p + 28, e->id);
  w->exporters[w->nexporters++] = *e;
  w->sysid_used[e->sysid >> 3] |= (uint8_t)(1u << (e->sysid & 7));
  return NFH_OK;
}

nfh_status nfh_writer_add_exporter(nfh_writer *w, const nfh_exporter *e) {
  if (!w || !e)
    return NFH_EINVAL;
  if (w->failed != NFH_OK)
    return w->failed;
  if (e->sysid == 0 || (e->addr.family != 4 && e->addr.family != 6))
    return fail(w, NFH_EINVAL, "exporter needs a sysid and an address");
  if (sysid_known(w, e->sysid)) {
    for (size_t i = 0; i < w->nexporters; i++)
      if (w->exporters[i].sysid == e->sysid)
        return same_exporter(&w->exporters[i], e)
                   ? NFH_OK
                   : fail(w, NFH_EINVAL, "exporter sysid %u already used",
                          e->sysid);
  }
  return put_exporter(w, e);
}

static int same_sampler(const nfh_sampler *a, const nfh_sampler *b) {
  return a->id == b->id && a->exporter_sysid == b->exporter_sysid &&
         a->packet_interval == b->packet_interval &&
         a->space_interval == b->space_interval &&
         a->algorithm == b->algorithm;
}

static nfh_status put_sampler(nfh_writer *w, const nfh_sampler *s) {
  if (w->nsamplers == w->samplers_cap) {
    size_t cap = w->samplers_cap ? 2 * w->samplers_cap : 8;
    nfh_sampler *grown = nfh__realloc(w->samplers, cap * sizeof(*w->samplers));
    if (!grown)
      return fail(w, NFH_ENOMEM, "out of memory");
    w->samplers = grown;
    w->samplers_cap = cap;
  }
  uint8_t *p = reserve(w, SAMPLER_RECORD_SIZE);
  if (!p)
    return w->failed;
  st16(p, NFH__REC_SAMPLER);
  st16(p + 2, SAMPLER_RECORD_SIZE);
  st16(p + 4, s->exporter_sysid);
  st16(p + 6, s->algorithm);
  st64(p + 8, (uint64_t)s->id);
  st32(p + 16, s->packet_interval);
  st32(p + 20, s->space_interval);
  w->samplers[w->nsamplers++] = *s;
  return NFH_OK;
}

nfh_status nfh_writer_add_sampler(nfh_writer *w, const nfh_sampler *s) {
  if (!w || !s)
    return NFH_EINVAL;
  if (w->failed != NFH_OK)
    return w->failed;
  if (s->packet_interval == 0)
    return fail(w, NFH_EINVAL, "sampler with packet interval 0");
  for (size_t i = 0; i < w->nsamplers; i++) {
    const nfh_sampler *o = &w->samplers[i];
    if (o->exporter_sysid == s->exporter_sysid && o->id == s->id)
      return same_sampler(o, s) ? NFH_OK
                                : fail(w, NFH_EINVAL,
                                       "sampler %lld of exporter %u already "
                                       "used",
                                       (long long)s->id, s->exporter_sysid);
  }
  return put_sampler(w, s);
}

/* The sysid a flow's V3 record carries; announces its exporter first if
 * the writer has not seen it (see nfh_writer_write). */
static nfh_status flow_sysid(nfh_writer *w, const nfh_flow *f,
                             uint16_t *sysid) {
  int has_addr = f->exporter.family == 4 || f->exporter.family == 6;
  *sysid = f->exporter_sysid;
  if (f->exporter_sysid != 0) {
    if (!has_addr || sysid_known(w, f->exporter_sysid))
      return NFH_OK;
  } else {
    if (!has_addr)
      return NFH_OK;
    nfh_exporter want = {
        .addr = f->exporter, .version = f->nf_version, .id = f->exporter_id};
    if (w->exporter_hint < w->nexporters) {
      const nfh_exporter *e = &w->exporters[w->exporter_hint];
      want.sysid = e->sysid;
      if (same_exporter(e, &want)) {
        *sysid = e->sysid;
        return NFH_OK;
      }
    }
    for (size_t i = 0; i < w->nexporters; i++) {
      want.sysid = w->exporters[i].sysid;
      if (same_exporter(&w->exporters[i], &want)) {
        w->exporter_hint = i;
        *sysid = want.sysid;
        return NFH_OK;
      }
    }
    uint32_t s = 1;
    while (s < SYSID_SLOTS && sysid_known(w, (uint16_t)s))
      s++;
    if (s == SYSID_SLOTS)
      return fail(w, NFH_EINVAL, "more than 65535 exporters");
    *sysid = (uint16_t)s;
  }
  nfh_exporter e = {.addr = f->exporter,
                    .version = f->nf_version,
                    .id = f->exporter_id,
                    .sysid = *sysid};
  w->exporter_hint = w->nexporters;
  return put_exporter(w, &e);
}

static int sampler_matches(const nfh_sampler *s, uint16_t sysid,
                           uint32_t sampling) {
  if (s->exporter_sysid != sysid || s->packet_interval == 0)
    return 0;
  uint64_t total = (uint64_t)s->packet_interval + s->space_interval;
  return total % s->packet_interval == 0 &&
         total / s->packet_interval == sampling;
}

/* The selector id for a flow of exporter 'sysid' sampled 1 in
 * 'sampling'; announces a sampler {1, sampling-1} when none fits. */
static nfh_status flow_selector(nfh_writer *w, uint16_t sysid,
                                uint32_t sampling, int64_t *id) {
  if (w->sampler_hint < w->nsamplers &&
      sampler_matches(&w->samplers[w->sampler_hint], sysid, sampling)) {
    *id = w->samplers[w->sampler_hint].id;
    return NFH_OK;
  }
  int64_t max_id = 0;
  for (size_t i = 0; i < w->nsamplers; i++) {
    const nfh_sampler *s = &w->samplers[i];
    if (sampler_matches(s, sysid, sampling)) {
      w->sampler_hint = i;
      *id = s->id;
      return NFH_OK;
    }
    if (s->exporter_sysid == sysid && s->id > max_id)
      max_id = s->id;
  }
  nfh_sampler s = {.id = max_id + 1,
                   .packet_interval = 1,
                   .space_interval = sampling - 1,
                   .exporter_sysid = sysid};
  w->sampler_hint = w->nsamplers;
  *id = s.id;
  return put_sampler(w, &s);
}

/* Whether a reader finds the sampler 'id' of exporter 'sysid' without
 * the flow naming it: it is the exporter's sampler announced last, and
 * the exporter has no generic (-1) or overwriting (-3) one, which a
 * reader takes first (nfcapd 1.7.1 writes no EXsamplerInfo either, and
 * nfdump 1.7.1 calls the element unknown on every record). */
static int sampler_implied(const nfh_writer *w, uint16_t sysid, int64_t id) {
  int64_t last = -1;
  for (size_t i = 0; i < w->nsamplers; i++) {
    const nfh_sampler *s = &w->samplers[i];
    if (s->exporter_sysid != sysid)
      continue;
    if (s->id < 0)
      return 0;
    last = s->id;
  }
  return last == id;
}

/* ------------------------------------------------------------- flows */

/* Which optional elements a flow needs, as bits of its element ids;
 * EXsamplerInfo when 'name_sampler'. */
static uint32_t flow_elements(const nfh_flow *f, int name_sampler,
                              size_t *size) {
  uint32_t ex = 1u << EX_GENERIC_FLOW;
  size_t n = V3_HEADER_SIZE + LEN_GENERIC_FLOW;
  int fam = f->src.family ? f->src.family : f->dst.family;
  /* Two addresses of no family: 0.0.0.0 both, as nfdump shows them (a
   * record with no address element is damage to a reader). */
  if (fam == 4 || fam == 0) {
    ex |= 1u << EX_IPV4_FLOW;
    n += LEN_IPV4_FLOW;
  } else if (fam == 6) {
    ex |= 1u << EX_IPV6_FLOW;
    n += LEN_IPV6_FLOW;
  }
  if (f->input_if || f->output_if || f->src_mask || f->dst_mask ||
      f->direction || f->dst_tos || f->biflow_dir || f->end_reason) {
    ex |= 1u << EX_FLOW_MISC;
    n += LEN_FLOW_MISC;
  }
  if (f->out_packets || f->out_bytes || f->aggr_flows > 1 ||
      (f->flags & NFH_FLOW_HAS_OUT)) {
    ex |= 1u << EX_CNT_FLOW;
    n += LEN_CNT_FLOW;
  }
  if (f->src_vlan || f->dst_vlan) {
    ex |= 1u << EX_VLAN;
    n += LEN_VLAN;
  }
  if (f->src_as || f->dst_as) {
    ex |= 1u << EX_AS_ROUTING;
    n += LEN_AS_ROUTING;
  }
  if (f->bgp_next_hop.family == 4) {
    ex |= 1u << EX_BGP_NEXT_HOP_V4;
    n += LEN_ADDR_V4;
  } else if (f->bgp_next_hop.family == 6) {
    ex |= 1u << EX_BGP_NEXT_HOP_V6;
    n += LEN_ADDR_V6;
  }
  if (f->next_hop.family == 4) {
    ex |= 1u << EX_IP_NEXT_HOP_V4;
    n += LEN_ADDR_V4;
  } else if (f->next_hop.family == 6) {
    ex |= 1u << EX_IP_NEXT_HOP_V6;
    n += LEN_ADDR_V6;
  }
  if (f->router.family == 4) {
    ex |= 1u << EX_IP_RECEIVED_V4;
    n += LEN_ADDR_V4;
  } else if (f->router.family == 6) {
    ex |= 1u << EX_IP_RECEIVED_V6;
    n += LEN_ADDR_V6;
  }
  if (f->client_latency_us || f->server_latency_us || f->app_latency_us) {
    ex |= 1u << EX_LATENCY;
    n += LEN_LATENCY;
  }
  if (f->sampling > 1 && name_sampler) {
    ex |= 1u << EX_SAMPLER_INFO;
    n += LEN_SAMPLER_INFO;
  }
  /* A firewall event (NSEL) with or without a translation: an ASA's
   * denied and created flows carry none. */
  if (f->fw_event) {
    ex |= 1u << EX_NSEL_COMMON;
    n += LEN_NSEL_COMMON;
  }
  if (f->flags & NFH_FLOW_HAS_NAT) {
    int nat_fam = f->nat_src.family ? f->nat_src.family : f->nat_dst.family;
    if (nat_fam == 4) {
      ex |= 1u << EX_NAT_XLATE_IPV4;
      n += LEN_NAT_XLATE_IPV4;
    } else if (nat_fam == 6) {
      ex |= 1u << EX_NAT_XLATE_IPV6;
      n += LEN_NAT_XLATE_IPV6;
    }
    ex |= 1u << EX_NAT_XLATE_PORT;
    n += LEN_NAT_XLATE_PORT;
    if (f->nat_event) {
      ex |= 1u << EX_NAT_COMMON;
      n += LEN_NAT_COMMON;
    }
  }
  *size = n;
  return ex;
}

static int families_ok(const nfh_addr *a, const nfh_addr *b) {
  if (a->family > 6 || b->family > 6)
    return 0;
  return a->family == 0 || b->family == 0 || a->family == b->family;
}

static int is_icmp(uint8_t proto) { return proto == 1 || proto == 58; }

static void update_stat(nfh_writer *w, const nfh_flow *f) {
  uint64_t flows = f->aggr_flows ? f->aggr_flows : 1;
  uint64_t packets = f->packets + f->out_packets;
  uint64_t bytes = f->bytes + f->out_bytes;
  int slot;
  switch (f->proto) {
  case 6:
    slot = 0;
    break;
  case 17:
    slot = 1;
    break;
  case 1:
  case 58:
    slot = 2;
    break;
  default:
    slot = 3;
    break;
  }
  w->stat[ST_FLOWS] += flows;
  w->stat[ST_BYTES] += bytes;
  w->stat[ST_PACKETS] += packets;
  w->stat[ST_FLOWS_TCP + slot] += flows;
  w->stat[ST_BYTES_TCP + slot] += bytes;
  w->stat[ST_PACKETS_TCP + slot] += packets;
  if (f->first_ms < w->stat[ST_FIRST])
    w->stat[ST_FIRST] = f->first_ms;
  if (f->last_ms > w->stat[ST_LAST])
    w->stat[ST_LAST] = f->last_ms;
}

/* Encodes one flow. Elements go in ascending id order, as nfcapd
 * writes them. */
static nfh_status write_flow(nfh_writer *w, const nfh_flow *f) {
  if (!families_ok(&f->src, &f->dst) ||
      ((f->flags & NFH_FLOW_HAS_NAT) &&
       !families_ok(&f->nat_src, &f->nat_dst)))
    return fail(w, NFH_EINVAL, "flow %llu: mixed address families",
                (unsigned long long)w->flows);

  uint16_t sysid;
  nfh_status st = flow_sysid(w, f, &sysid);
  if (st != NFH_OK)
    return st;
  int64_t selector = 0;
  int name_sampler = 0;
  if (f->sampling > 1) {
    st = flow_selector(w, sysid, f->sampling, &selector);
    if (st != NFH_OK)
      return st;
    name_sampler = !sampler_implied(w, sysid, selector);
  }

  size_t size;
  uint32_t ex = flow_elements(f, name_sampler, &size);
  uint8_t *r = reserve(w, size);
  if (!r)
    return w->failed;

  uint8_t flags = 0;
  if (f->sampling > 1 || (f->flags & NFH_FLOW_SAMPLED))
    flags |= V3_FLAG_SAMPLED;
  if (f->flags & NFH_FLOW_EVENT)
    flags |= V3_FLAG_EVENT;
  if (f->flags & NFH_FLOW_ANON)
    flags |= V3_FLAG_ANON;
  st16(r, NFH__REC_V3);
  st16(r + 2, (uint16_t)size);
  st16(r + 4, (uint16_t)__builtin_popcount(ex));
  st8(r + 6, 0); /* engine type */
  st8(r + 7, 0); /* engine id */
  st16(r + 8, sysid);
  st8(r + 10, flags);
  st8(r + 11, f->nf_version);
  uint8_t *p = r + V3_HEADER_SIZE;

  uint8_t *e = element(p, EX_GENERIC_FLOW, LEN_GENERIC_FLOW);
  uint16_t dst_port = f->dst_port;
  if (is_icmp(f->proto) && dst_port == 0)
    dst_port = (uint16_t)(f->icmp_type << 8 | f->icmp_code);
  st64(e, f->first_ms);
  st64(e + 8, f->last_ms);
  st64(e + 16, f->received_ms);
  st64(e + 24, f->packets);
  st64(e + 32, f->bytes);
  st16(e + 40, is_icmp(f->proto) ? 0 : f->src_port);
  st16(e + 42, dst_port);
  st8(e + 44, f->proto);
  st8(e + 45, f->tcp_flags);
  st8(e + 46, f->fwd_status);
  st8(e + 47, f->tos);
  p += LEN_GENERIC_FLOW;

  if (ex & 1u << EX_IPV4_FLOW) {
    e = element(p, EX_IPV4_FLOW, LEN_IPV4_FLOW);
    st_v4(e, &f->src);
    st_v4(e + 4, &f->dst);
    p += LEN_IPV4_FLOW;
  } else if (ex & 1u << EX_IPV6_FLOW) {
    e = element(p, EX_IPV6_FLOW, LEN_IPV6_FLOW);
    st_v6(e, &f->src);
    st_v6(e + 16, &f->dst);
    p += LEN_IPV6_FLOW;
  }
  if (ex & 1u << EX_FLOW_MISC) {
    e = element(p, EX_FLOW_MISC, LEN_FLOW_MISC);
    st32(e, f->input_if);
    st32(e + 4, f->output_if);
    st8(e + 8, f->src_mask);
    st8(e + 9, f->dst_mask);
    st8(e + 10, f->direction);
    st8(e + 11, f->dst_tos);
    st8(e + 12, f->biflow_dir);
    st8(e + 13, f->end_reason);
    p += LEN_FLOW_MISC;
  }
  if (ex & 1u << EX_CNT_FLOW) {
    e = element(p, EX_CNT_FLOW, LEN_CNT_FLOW);
    st64(e, f->aggr_flows ? f->aggr_flows : 1);
    st64(e + 8, f->out_packets);
    st64(e + 16, f->out_bytes);
    p += LEN_CNT_FLOW;
  }
  if (ex & 1u << EX_VLAN) {
    e = element(p, EX_VLAN, LEN_VLAN);
    st32(e, f->src_vlan);
    st32(e + 4, f->dst_vlan);
    p += LEN_VLAN;
  }
  if (ex & 1u << EX_AS_ROUTING) {
    e = element(p, EX_AS_ROUTING, LEN_AS_ROUTING);
    st32(e, f->src_as);
    st32(e + 4, f->dst_as);
    p += LEN_AS_ROUTING;
  }
  /* Next hops and router: ids 8..13 alternate v4/v6 per address. */
  static const struct {
    unsigned v4, v6;
    size_t off;
  } hops[] = {
      {EX_BGP_NEXT_HOP_V4, EX_BGP_NEXT_HOP_V6,
       offsetof(nfh_flow, bgp_next_hop)},
      {EX_IP_NEXT_HOP_V4, EX_IP_NEXT_HOP_V6, offsetof(nfh_flow, next_hop)},
      {EX_IP_RECEIVED_V4, EX_IP_RECEIVED_V6, offsetof(nfh_flow, router)},
  };
  for (size_t i = 0; i < sizeof(hops) / sizeof(hops[0]); i++) {
    const nfh_addr *a = (const nfh_addr *)((const char *)f + hops[i].off);
    if (ex & 1u << hops[i].v4) {
      e = element(p, hops[i].v4, LEN_ADDR_V4);
      st_v4(e, a);
      p += LEN_ADDR_V4;
    } else if (ex & 1u << hops[i].v6) {
      e = element(p, hops[i].v6, LEN_ADDR_V6);
      st_v6(e, a);
      p += LEN_ADDR_V6;
    }
  }
  if (ex & 1u << EX_LATENCY) {
    e = element(p, EX_LATENCY, LEN_LATENCY);
    st64(e, f->client_latency_us);
    st64(e + 8, f->server_latency_us);
    st64(e + 16, f->app_latency_us);
    p += LEN_LATENCY;
  }
  if (ex & 1u << EX_SAMPLER_INFO) {
    /* The 1.7.2+ layout {u64 selectorID, u16 sysid, u16 align}. */
    e = element(p, EX_SAMPLER_INFO, LEN_SAMPLER_INFO);
    st64(e, (uint64_t)selector);
    st16(e + 8, sysid);
    p += LEN_SAMPLER_INFO;
  }
  if (ex & 1u << EX_NSEL_COMMON) {
    e = element(p, EX_NSEL_COMMON, LEN_NSEL_COMMON);
    st64(e, f->first_ms);
    st8(e + 14, f->fw_event);
    p += LEN_NSEL_COMMON;
  }
  if (ex & 1u << EX_NAT_XLATE_IPV4) {
    e = element(p, EX_NAT_XLATE_IPV4, LEN_NAT_XLATE_IPV4);
    st_v4(e, &f->nat_src);
    st_v4(e + 4, &f->nat_dst);
    p += LEN_NAT_XLATE_IPV4;
  } else if (ex & 1u << EX_NAT_XLATE_IPV6) {
    e = element(p, EX_NAT_XLATE_IPV6, LEN_NAT_XLATE_IPV6);
    st_v6(e, &f->nat_src);
    st_v6(e + 16, &f->nat_dst);
    p += LEN_NAT_XLATE_IPV6;
  }
  if (ex & 1u << EX_NAT_XLATE_PORT) {
    e = element(p, EX_NAT_XLATE_PORT, LEN_NAT_XLATE_PORT);
    st16(e, f->nat_src_port);
    st16(e + 2, f->nat_dst_port);
    p += LEN_NAT_XLATE_PORT;
  }
  if (ex & 1u << EX_NAT_COMMON) {
    e = element(p, EX_NAT_COMMON, LEN_NAT_COMMON);
    st64(e, f->first_ms);
    st8(e + 12, f->nat_event);
    p += LEN_NAT_COMMON;
  }

  update_stat(w, f);
  w->flows++;
  return NFH_OK;
}

nfh_status nfh_writer_write(nfh_writer *w, const nfh_flow *flows, size_t n) {
  if (!w || (!flows && n > 0))
    return NFH_EINVAL;
  if (w->failed != NFH_OK)
    return w->failed;
  for (size_t i = 0; i < n; i++) {
    nfh_status st = write_flow(w, &flows[i]);
    if (st != NFH_OK)
      return st;
  }
  return NFH_OK;
}
