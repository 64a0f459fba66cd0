/* test_reader.c - the nfcapd reader on real files and on hand-built bad
 * ones. Real files come from ../shared/data (nfdump is the oracle for the
 * values checked here; see tests/e2e for the flow-by-flow comparison). */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nfhunt/reader.h>
#include <nfhunt/writer.h>

#include "../../plugin/common/alloc.h"
#include "../../plugin/nfcapd/codec.h"
#include "testkit.h"

static char tmpdir[] = "/tmp/nfh_test_reader_XXXXXX";
static const char *sample = NFH_SHARED_DATA "/chrispassas-nfcapd.sample";
static const char *slips = NFH_SHARED_DATA "/slips-test1-malicious.nfcapd";
static const char *empty_l1 = NFH_SHARED_DATA "/chrispassas-nfcapd-empty";

/* ---------------------------------------------------- file construction */

typedef struct buf {
  uint8_t data[1 << 16];
  size_t len;
} buf;

static void put16(buf *b, uint16_t v) {
  b->data[b->len++] = (uint8_t)v;
  b->data[b->len++] = (uint8_t)(v >> 8);
}
static void put32(buf *b, uint32_t v) {
  put16(b, (uint16_t)v);
  put16(b, (uint16_t)(v >> 16));
}
static void put64(buf *b, uint64_t v) {
  put32(b, (uint32_t)v);
  put32(b, (uint32_t)(v >> 32));
}
static void put8(buf *b, uint8_t v) { b->data[b->len++] = v; }

/* One V3 record: generic flow + IPv4, exporter sysid 1. */
static void v3_record(buf *b, uint64_t first, uint32_t src, uint16_t dport,
                      uint8_t proto) {
  put16(b, 11);
  put16(b, 12 + 52 + 12);
  put16(b, 2);   /* elements */
  put8(b, 0);    /* engine type */
  put8(b, 0);    /* engine id */
  put16(b, 1);   /* exporter sysid */
  put8(b, 0);    /* flags */
  put8(b, 9);    /* netflow v9 */
  put16(b, 1);   /* EXgenericFlow */
  put16(b, 52);
  put64(b, first);
  put64(b, first + 1500);
  put64(b, first + 60000);
  put64(b, 3);   /* packets */
  put64(b, 180); /* bytes */
  put16(b, 40000);
  put16(b, dport);
  put8(b, proto);
  put8(b, 0x02);
  put8(b, 0);
  put8(b, 0);
  put16(b, 2); /* EXipv4Flow */
  put16(b, 12);
  put32(b, src);
  put32(b, 0x0a000001);
}

/* An exporter record (type 7) in nfdump <= 1.7.7's form: IPv4 as a
 * host-order u32 at ip + 8, family AF_INET. */
static void exporter_record(buf *b, uint16_t sysid, uint32_t ip,
                            uint32_t version, uint32_t id) {
  put16(b, 7);
  put16(b, 32);
  put32(b, version);
  put64(b, 0);
  put32(b, ip);
  put32(b, 0);
  put16(b, 2);
  put16(b, sysid);
  put32(b, id);
}

/* An ExporterStat record (type 8) of 'size' bytes (0: the size its
 * entries need) announcing 'count' entries, of which the first 'n' are
 * written from 'e' ({sysid, sequence failures, packets, flows} each);
 * the rest of the record is zero. */
static void stat_record(buf *b, size_t size, uint32_t count,
                        const uint64_t (*e)[4], size_t n) {
  size_t start = b->len;
  if (!size)
    size = 8 + 24 * n;
  put16(b, 8);
  put16(b, (uint16_t)size);
  if (size >= 8)
    put32(b, count);
  for (size_t i = 0; i < n && b->len - start + 24 <= size; i++) {
    put32(b, (uint32_t)e[i][0]);
    put32(b, (uint32_t)e[i][1]);
    put64(b, e[i][2]);
    put64(b, e[i][3]);
  }
  while (b->len - start < size)
    put8(b, 0);
}

/* The type write_l2 gives its data blocks (nfdump 1.7 writes 3). */
static uint16_t l2_block_type = 3;

/* Writes a layout-2 file: header, the given data block payloads (codec
 * none) and an appendix unless 'open_file'. Returns its path (static). */
static const char *write_l2(const char *name, const buf *blocks, int nblocks,
                            const uint32_t *nrecs, int open_file,
                            int codec, int version) {
  static char path[256];
  snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
  buf *f = calloc(1, sizeof(buf) * 4);
  put16(f, 0xA50C);
  put16(f, (uint16_t)version);
  put32(f, 0xF1070800);
  put64(f, 1700000000);
  put8(f, (uint8_t)codec);
  put8(f, 0);
  put16(f, open_file ? 0 : 1);
  put32(f, 1);
  size_t off_pos = f->len;
  put64(f, 0);
  put32(f, 0);
  put32(f, open_file ? 0 : (uint32_t)nblocks);
  for (int i = 0; i < nblocks; i++) {
    put32(f, nrecs[i]);
    put32(f, (uint32_t)blocks[i].len);
    put16(f, l2_block_type);
    put16(f, 0);
    memcpy(f->data + f->len, blocks[i].data, blocks[i].len);
    f->len += blocks[i].len;
  }
  if (!open_file) {
    uint64_t off = f->len;
    memcpy(f->data + off_pos, &off, 8);
    put32(f, 2);
    put32(f, 8 + 148);
    put16(f, 3);
    put16(f, 0);
    put16(f, 0x8001);
    put16(f, 8);
    memcpy(f->data + f->len, "abc", 4);
    f->len += 4;
    put16(f, 0x8002);
    put16(f, 148);
    for (int i = 0; i < 18; i++)
      put64(f, i == 0 ? 2 : 0);
  }
  FILE *fp = fopen(path, "wb");
  fwrite(f->data, 1, f->len, fp);
  fclose(fp);
  free(f);
  return path;
}

static void write_bytes(const char *name, const void *p, size_t n,
                        char *path, size_t len) {
  snprintf(path, len, "%s/%s", tmpdir, name);
  FILE *fp = fopen(path, "wb");
  fwrite(p, 1, n, fp);
  fclose(fp);
}

/* Overwrites n bytes of the file at path at offset off (damage). */
static void patch_file(const char *path, long off, const void *bytes,
                       size_t n) {
  FILE *fp = fopen(path, "r+b");
  CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
  CU_ASSERT_EQUAL(fseek(fp, off, SEEK_SET), 0);
  CU_ASSERT_EQUAL(fwrite(bytes, 1, n, fp), n);
  fclose(fp);
}

static int have_sample(void) { return access(sample, R_OK) == 0; }

/* Opens path and reads it to the end; returns the first failure. */
static nfh_status read_all(nfh_reader *r, const char *path, size_t *flows) {
  *flows = 0;
  nfh_status st = nfh_reader_open(r, path);
  if (st != NFH_OK)
    return st;
  const nfh_flow *f;
  size_t n;
  while ((st = nfh_reader_next(r, &f, &n)) == NFH_OK)
    *flows += n;
  return st == NFH_END ? NFH_OK : st;
}

/* ---------------------------------------------------------------- tests */

static void test_sample_file(void) {
  if (!have_sample())
    return;
  nfh_reader *r;
  nfh_reader_options opt = {2};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_reader_open(r, sample), NFH_OK);
  const nfh_file_info *info = nfh_reader_info(r);
  CU_ASSERT_EQUAL(info->layout, 2);
  CU_ASSERT_EQUAL(info->codec, 0);
  CU_ASSERT_STRING_EQUAL(info->ident, "RB-QG-MW-SOLUCOES");
  CU_ASSERT_EQUAL(info->stat_flows, 3018);
  const nfh_flow *flows;
  size_t n, total = 0;
  int first = 1;
  nfh_status st;
  while ((st = nfh_reader_next(r, &flows, &n)) == NFH_OK) {
    if (first) {
      /* Values as `nfdump -r FILE -o json` prints the first flow. */
      char a[NFH_ADDR_STRLEN];
      const nfh_flow *f = &flows[0];
      CU_ASSERT_EQUAL(f->first_ms, 1674671743884ull);
      CU_ASSERT_EQUAL(f->last_ms, 1674671733254ull);
      CU_ASSERT_EQUAL(f->received_ms, 1674671760039ull);
      CU_ASSERT_STRING_EQUAL(nfh_addr_format(&f->src, a, sizeof(a)),
                             "52.5.7.161");
      CU_ASSERT_STRING_EQUAL(nfh_addr_format(&f->dst, a, sizeof(a)),
                             "170.80.156.33");
      CU_ASSERT_EQUAL(f->src_port, 443);
      CU_ASSERT_EQUAL(f->dst_port, 57358);
      CU_ASSERT_EQUAL(f->packets, 9);
      CU_ASSERT_EQUAL(f->bytes, 930);
      CU_ASSERT_EQUAL(f->tcp_flags, 0x18);
      CU_ASSERT_EQUAL(f->input_if, 9);
      CU_ASSERT_EQUAL(f->output_if, 10);
      CU_ASSERT_STRING_EQUAL(nfh_addr_format(&f->next_hop, a, sizeof(a)),
                             "192.168.0.99");
      CU_ASSERT_STRING_EQUAL(nfh_addr_format(&f->router, a, sizeof(a)),
                             "170.80.156.33");
      CU_ASSERT_STRING_EQUAL(nfh_addr_format(&f->exporter, a, sizeof(a)),
                             "170.80.156.33");
      CU_ASSERT_EQUAL(f->exporter_sysid, 1);
      CU_ASSERT_EQUAL(f->sampling, 1);
      first = 0;
    }
    total += n;
  }
  CU_ASSERT_EQUAL(st, NFH_END);
  CU_ASSERT_EQUAL(total, 3018);
  size_t ne;
  const nfh_exporter *e = nfh_reader_exporters(r, &ne);
  CU_ASSERT_EQUAL(ne, 1);
  if (ne)
    CU_ASSERT_EQUAL(e[0].version, 10);
  nfh_reader_destroy(r);
}

/* Checks the one exporter stat a real file holds against what
 * `nfdump -E FILE` (nfdump 1.7.1) prints for it. */
static void expect_one_stat(nfh_reader *r, const char *ip, uint32_t version,
                            uint32_t id, uint32_t seq, uint64_t packets,
                            uint64_t flows) {
  size_t ns;
  const nfh_exporter_stat *es = nfh_reader_exporter_stats(r, &ns);
  CU_ASSERT_EQUAL(ns, 1);
  if (ns != 1)
    return;
  char a[NFH_ADDR_STRLEN];
  CU_ASSERT_EQUAL(es[0].sysid, 1);
  CU_ASSERT_EQUAL(es[0].known, 1);
  CU_ASSERT_EQUAL(es[0].exporter.sysid, 1);
  CU_ASSERT_STRING_EQUAL(
      nfh_addr_format(&es[0].exporter.addr, a, sizeof(a)), ip);
  CU_ASSERT_EQUAL(es[0].exporter.version, version);
  CU_ASSERT_EQUAL(es[0].exporter.id, id);
  CU_ASSERT_EQUAL(es[0].sequence_failures, seq);
  CU_ASSERT_EQUAL(es[0].packets, packets);
  CU_ASSERT_EQUAL(es[0].flows, flows);
}

/* The ExporterStat records of the real files, read through the reader
 * in both layouts and with and without decode threads. */
static void test_real_exporter_stats(void) {
  if (!have_sample())
    return;
  static const unsigned threads[] = {0, 1, 4};
  for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
    nfh_reader *r;
    nfh_reader_options opt = {threads[t]};
    CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
    size_t n, ns = 99;
    CU_ASSERT_PTR_NULL(nfh_reader_exporter_stats(r, &ns));
    CU_ASSERT_EQUAL(ns, 0);

    /* Layout 2, nfdump 1.7.1: "SysID: 1, IP: 170.80.156.33, version: 10,
     * ID: 0, Sequence failures: 53, packets: 344, flows: 3018". The flow
     * count is the file's: packets are export datagrams. */
    CU_ASSERT_EQUAL(read_all(r, sample, &n), NFH_OK);
    CU_ASSERT_EQUAL(n, 3018);
    expect_one_stat(r, "170.80.156.33", 10, 0, 53, 344, 3018);

    /* Layout 1: "SysID: 1, IP: 147.32.82.62, version: 9, ID: 58,
     * Sequence failures: 443, packets: 9306, flows: 4593". */
    CU_ASSERT_EQUAL(read_all(r, slips, &n), NFH_OK);
    CU_ASSERT_EQUAL(n, 4593);
    expect_one_stat(r, "147.32.82.62", 9, 58, 443, 9306, 4593);

    /* Layout 1, no flows: an all-zero stat for its v5 exporter (nfdump
     * -E prints "SysID: 1, IP: 127.0.0.1, version: 5, ID: 0 - no flows
     * sent", its form for zero packets). */
    CU_ASSERT_EQUAL(read_all(r, empty_l1, &n), NFH_OK);
    CU_ASSERT_EQUAL(n, 0);
    expect_one_stat(r, "127.0.0.1", 5, 0, 0, 0, 0);

    /* Closing forgets them. */
    nfh_reader_close(r);
    CU_ASSERT_PTR_NULL(nfh_reader_exporter_stats(r, &ns));
    CU_ASSERT_EQUAL(ns, 0);
    nfh_reader_destroy(r);
  }
}

/* A checksum over every field the model holds, to compare two reads. */
static uint64_t hash_file(const char *path, unsigned threads, size_t *count) {
  nfh_reader *r;
  nfh_reader_options opt = {threads};
  uint64_t h = 1469598103934665603ull;
  *count = 0;
  if (nfh_reader_create(&opt, &r) != NFH_OK)
    return 0;
  if (nfh_reader_open(r, path) == NFH_OK) {
    const nfh_flow *flows;
    size_t n;
    while (nfh_reader_next(r, &flows, &n) == NFH_OK) {
      const uint8_t *p = (const uint8_t *)flows;
      for (size_t i = 0; i < n * sizeof(nfh_flow); i++)
        h = (h ^ p[i]) * 1099511628211ull;
      *count += n;
    }
  }
  nfh_reader_destroy(r);
  return h;
}

static void test_threads_agree(void) {
  if (!have_sample())
    return;
  size_t n0, n1, n4;
  uint64_t h0 = hash_file(sample, 0, &n0);
  uint64_t h1 = hash_file(sample, 1, &n1);
  uint64_t h4 = hash_file(sample, 4, &n4);
  CU_ASSERT_EQUAL(n0, 3018);
  CU_ASSERT_EQUAL(n0, n1);
  CU_ASSERT_EQUAL(n0, n4);
  CU_ASSERT_EQUAL(h0, h1);
  CU_ASSERT_EQUAL(h0, h4);
}

static void test_built_file(void) {
  buf blocks[3];
  memset(blocks, 0, sizeof(blocks));
  v3_record(&blocks[0], 1700000000000ull, 0xc0a80001, 80, 6);
  v3_record(&blocks[0], 1700000001000ull, 0xc0a80002, 0x0303, 1);
  v3_record(&blocks[2], 1700000002000ull, 0xc0a80003, 53, 17);
  uint32_t nrecs[3] = {2, 0, 1};
  /* Block 1 is empty: it must be skipped, not end the file. */
  const char *path = write_l2("built", blocks, 3, nrecs, 0, 0, 2);
  nfh_reader *r;
  nfh_reader_options opt = {0};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_reader_open(r, path), NFH_OK);
  CU_ASSERT_STRING_EQUAL(nfh_reader_info(r)->ident, "abc");
  const nfh_flow *f;
  size_t n;
  CU_ASSERT_EQUAL_FATAL(nfh_reader_next(r, &f, &n), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(n, 2);
  CU_ASSERT_EQUAL(f[0].dst_port, 80);
  CU_ASSERT_EQUAL(f[0].src_port, 40000);
  CU_ASSERT_EQUAL(f[0].last_ms - f[0].first_ms, 1500);
  /* ICMP: source port zeroed, type/code from the destination port. */
  CU_ASSERT_EQUAL(f[1].proto, 1);
  CU_ASSERT_EQUAL(f[1].src_port, 0);
  CU_ASSERT_EQUAL(f[1].dst_port, 0x0303);
  CU_ASSERT_EQUAL(f[1].icmp_type, 3);
  CU_ASSERT_EQUAL(f[1].icmp_code, 3);
  CU_ASSERT_EQUAL(nfh_addr_v4(&f[1].src), 0xc0a80002);
  CU_ASSERT_EQUAL(nfh_reader_next(r, &f, &n), NFH_OK);
  CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT_EQUAL(nfh_reader_next(r, &f, &n), NFH_END);
  CU_ASSERT_EQUAL(nfh_reader_next(r, &f, &n), NFH_END);
  nfh_reader_destroy(r);
}

/* Hand-built ExporterStat records: entries summed per sysid across
 * records and blocks, a record longer than its entries, an exporter
 * record that comes after the stat naming it. */
static void test_built_exporter_stats(void) {
  static const uint64_t first[][4] = {{1, 2, 100, 50}, {3, 0, 5, 5}};
  static const uint64_t second[][4] = {{1, 1, 10, 5}};
  buf blocks[3];
  memset(blocks, 0, sizeof(blocks));
  exporter_record(&blocks[0], 1, 0x0a000001, 9, 7);
  v3_record(&blocks[0], 1700000000000ull, 0xc0a80001, 80, 6);
  v3_record(&blocks[1], 1700000001000ull, 0xc0a80002, 443, 6);
  stat_record(&blocks[1], 8 + 2 * 24 + 16, 2, first, 2);
  stat_record(&blocks[2], 0, 1, second, 1);
  exporter_record(&blocks[2], 3, 0x0a000003, 10, 99);
  uint32_t nrecs[3] = {2, 2, 2};
  /* A copy: write_l2's buffer is reused by the files written below. */
  char path[256];
  snprintf(path, sizeof(path), "%s",
           write_l2("stats", blocks, 3, nrecs, 0, 0, 2));

  static const unsigned threads[] = {0, 2};
  for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
    nfh_reader *r;
    nfh_reader_options opt = {threads[t]};
    CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
    size_t n, ns;
    CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_OK);
    CU_ASSERT_EQUAL(n, 2);
    const nfh_exporter_stat *es = nfh_reader_exporter_stats(r, &ns);
    CU_ASSERT_EQUAL(ns, 2);
    if (ns == 2) {
      CU_ASSERT_EQUAL(es[0].sysid, 1);
      CU_ASSERT_EQUAL(es[0].known, 1);
      CU_ASSERT_EQUAL(nfh_addr_v4(&es[0].exporter.addr), 0x0a000001);
      CU_ASSERT_EQUAL(es[0].exporter.version, 9);
      CU_ASSERT_EQUAL(es[0].exporter.id, 7);
      CU_ASSERT_EQUAL(es[0].sequence_failures, 3);
      CU_ASSERT_EQUAL(es[0].packets, 110);
      CU_ASSERT_EQUAL(es[0].flows, 55);
      CU_ASSERT_EQUAL(es[1].sysid, 3);
      CU_ASSERT_EQUAL(es[1].known, 1);
      CU_ASSERT_EQUAL(nfh_addr_v4(&es[1].exporter.addr), 0x0a000003);
      CU_ASSERT_EQUAL(es[1].exporter.id, 99);
      CU_ASSERT_EQUAL(es[1].sequence_failures, 0);
      CU_ASSERT_EQUAL(es[1].packets, 5);
      CU_ASSERT_EQUAL(es[1].flows, 5);
    }

    /* A stat whose sysid no exporter record names: kept, not known. */
    static const uint64_t orphan[][4] = {{42, 0, 1, 1}};
    buf one;
    memset(&one, 0, sizeof(one));
    stat_record(&one, 0, 1, orphan, 1);
    uint32_t nrec = 1;
    CU_ASSERT_EQUAL(read_all(r, write_l2("orphan", &one, 1, &nrec, 0, 0, 2),
                             &n),
                    NFH_OK);
    es = nfh_reader_exporter_stats(r, &ns);
    CU_ASSERT_EQUAL(ns, 1);
    if (ns == 1) {
      CU_ASSERT_EQUAL(es[0].sysid, 42);
      CU_ASSERT_EQUAL(es[0].known, 0);
      CU_ASSERT_EQUAL(es[0].exporter.version, 0);
      CU_ASSERT_EQUAL(es[0].packets, 1);
    }

    /* A count of 0 is a record with nothing in it. */
    memset(&one, 0, sizeof(one));
    stat_record(&one, 0, 0, NULL, 0);
    CU_ASSERT_EQUAL(read_all(r, write_l2("zero", &one, 1, &nrec, 0, 0, 2),
                             &n),
                    NFH_OK);
    CU_ASSERT_PTR_NULL(nfh_reader_exporter_stats(r, &ns));
    CU_ASSERT_EQUAL(ns, 0);
    nfh_reader_destroy(r);
  }
}

/* Malformed ExporterStat records end the file with the one-line fault
 * (block and record named), never a crash or a read past the record. */
static void test_bad_exporter_stats(void) {
  static const uint64_t entry[][4] = {{1, 0, 10, 10}};
  static const uint64_t big_sysid[][4] = {{70000, 0, 10, 10}};
  static const struct {
    const char *name;
    size_t size; /* 0: what the written entries need */
    uint32_t count;
    const uint64_t (*entries)[4];
    size_t n;
    const char *msg;
  } cases[] = {
      {"count3", 0, 3, entry, 1,
       "block 0 at offset 40: record 2: exporter stat record of 32 bytes "
       "has room for 1 of its 3 entries"},
      {"countmax", 0, 0xffffffffu, entry, 1,
       "room for 1 of its 4294967295 entries"},
      {"count1size8", 8, 1, NULL, 0,
       "exporter stat record of 8 bytes has room for 0 of its 1 entries"},
      {"size6", 6, 0, NULL, 0, "record 2: exporter stat record of 6 bytes"},
      {"size4", 4, 0, NULL, 0, "record 2: exporter stat record of 4 bytes"},
      {"sysid", 0, 1, big_sysid, 1, "sysid 70000 (above 65535)"},
  };
  nfh_reader *r;
  nfh_reader_options opt = {2};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    buf blk;
    memset(&blk, 0, sizeof(blk));
    v3_record(&blk, 1700000000000ull, 1, 2, 6);
    stat_record(&blk, cases[i].size, cases[i].count, cases[i].entries,
                cases[i].n);
    uint32_t nrec = 2;
    size_t n;
    CU_ASSERT_EQUAL(read_all(r, write_l2(cases[i].name, &blk, 1, &nrec, 0, 0,
                                         2),
                             &n),
                    NFH_ECORRUPT);
    /* The flow before the damaged record is kept (the block was lost). */
    CU_ASSERT_EQUAL(n, 1);
    if (!strstr(nfh_reader_error(r), cases[i].msg)) {
      fprintf(stderr, "\n  %s: message \"%s\" lacks \"%s\"\n",
              cases[i].name, nfh_reader_error(r), cases[i].msg);
      CU_FAIL("error message");
    }
    CU_ASSERT_PTR_NULL(strchr(nfh_reader_error(r), '\n'));
    /* The reader stays usable. */
    buf good;
    memset(&good, 0, sizeof(good));
    stat_record(&good, 0, 1, entry, 1);
    nrec = 1;
    CU_ASSERT_EQUAL(read_all(r, write_l2("good", &good, 1, &nrec, 0, 0, 2),
                             &n),
                    NFH_OK);
    size_t ns;
    nfh_reader_exporter_stats(r, &ns);
    CU_ASSERT_EQUAL(ns, 1);
  }
  nfh_reader_destroy(r);
}

static void test_bad_headers(void) {
  nfh_reader *r;
  nfh_reader_options opt = {0};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
  char path[256];
  size_t n;
  uint8_t bytes[64];

  write_bytes("empty", bytes, 0, path, sizeof(path));
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ETRUNC);
  CU_ASSERT(strlen(nfh_reader_error(r)) > 0);

  memset(bytes, 0, sizeof(bytes));
  memcpy(bytes, "GARBAGE!", 8);
  write_bytes("magic", bytes, sizeof(bytes), path, sizeof(path));
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_EMAGIC);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "magic"));

  bytes[0] = 0xA5, bytes[1] = 0x0C; /* big-endian writer */
  write_bytes("swapped", bytes, sizeof(bytes), path, sizeof(path));
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_EMAGIC);

  buf none;
  memset(&none, 0, sizeof(none));
  uint32_t zero = 0;
  CU_ASSERT_EQUAL(read_all(r, write_l2("l3", &none, 0, &zero, 0, 0, 3), &n),
                  NFH_ELAYOUT);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "layout 3"));
  CU_ASSERT_EQUAL(read_all(r, write_l2("l9", &none, 0, &zero, 0, 0, 9), &n),
                  NFH_ELAYOUT);
  CU_ASSERT_EQUAL(read_all(r, write_l2("codec", &none, 0, &zero, 0, 7, 2),
                           &n),
                  NFH_ECODEC);

  /* A file nfcapd still writes: no blocks, no appendix, no error. */
  CU_ASSERT_EQUAL(read_all(r, write_l2("current", &none, 0, &zero, 1, 0, 2),
                           &n),
                  NFH_OK);
  CU_ASSERT_EQUAL(n, 0);
  CU_ASSERT_EQUAL(nfh_reader_info(r)->unlisted_bytes, 0);
  /* One nfcapd never closed: a block after the header, none announced.
   * Read as empty, as nfdump does; the bytes it holds are told. */
  buf blk;
  memset(&blk, 0, sizeof(blk));
  v3_record(&blk, 1700000000000ull, 1, 2, 6);
  uint32_t one = 1;
  CU_ASSERT_EQUAL(read_all(r, write_l2("died", &blk, 1, &one, 1, 0, 2), &n),
                  NFH_OK);
  CU_ASSERT_EQUAL(n, 0);
  CU_ASSERT_EQUAL(nfh_reader_info(r)->unlisted_bytes, 12 + blk.len);
  CU_ASSERT_EQUAL(nfh_reader_info(r)->unlisted_no_block, 0);
  /* Unclosed, but what follows the header is no data block: no file
   * nfcapd writes (a 1.6 file whose version byte reads 2), said so. */
  {
    char junk_path[512];
    uint8_t junk[40 + 300];
    memset(junk, 0, sizeof(junk));
    junk[0] = 0x0c, junk[1] = 0xa5, junk[2] = 2; /* magic, version 2 */
    write_bytes("v2over16", junk, sizeof(junk), junk_path, sizeof(junk_path));
    CU_ASSERT_EQUAL(read_all(r, junk_path, &n), NFH_OK);
    CU_ASSERT_EQUAL(nfh_reader_info(r)->unlisted_bytes, 300);
    CU_ASSERT_EQUAL(nfh_reader_info(r)->unlisted_no_block, 1);
  }
  /* A layout-1 file whose header counts fewer blocks than it holds: the
   * rest is not read, as nfdump does, and said (0 of 4,593 flows of a
   * tester's file, in silence). Blocks of one extension map each. */
  {
    char l1_path[512];
    uint8_t l1[140 + 136 + 2 * 24];
    memset(l1, 0, sizeof(l1));
    l1[0] = 0x0c, l1[1] = 0xa5, l1[2] = 1; /* magic, version 1 */
    l1[8] = 1;                             /* NumBlocks 1 of 2 */
    for (int b = 0; b < 2; b++) {
      uint8_t *h = l1 + 276 + 24 * b;
      h[0] = 1;              /* one record */
      h[4] = 12;             /* of 12 bytes */
      h[8] = 2;              /* a data block */
      h[12] = 2, h[14] = 12; /* ExtensionMap record, size 12, map 0 */
    }
    write_bytes("l1short", l1, sizeof(l1), l1_path, sizeof(l1_path));
    CU_ASSERT_EQUAL(read_all(r, l1_path, &n), NFH_ECORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r),
                                  "its header lists 1 data blocks, yet 24 "
                                  "bytes follow them (a damaged count?)"));
    l1[8] = 2;
    write_bytes("l1whole", l1, sizeof(l1), l1_path, sizeof(l1_path));
    CU_ASSERT_EQUAL(read_all(r, l1_path, &n), NFH_OK);
    /* Header flags as nfdump reads them: 0x20 names no codec (it was
     * taken for ZSTD, and every block failed to decompress), and of
     * several codec bits LZO wins, then BZ2, then LZ4 (the file was
     * refused). */
    l1[4] = 0x20;
    write_bytes("l1flag20", l1, sizeof(l1), l1_path, sizeof(l1_path));
    CU_ASSERT_EQUAL(read_all(r, l1_path, &n), NFH_OK);
    l1[4] = 0x19;
    write_bytes("l1codecs", l1, sizeof(l1), l1_path, sizeof(l1_path));
    CU_ASSERT_EQUAL_FATAL(nfh_reader_open(r, l1_path), NFH_OK);
    CU_ASSERT_EQUAL(nfh_reader_info(r)->codec, 1);
    nfh_reader_close(r);
    l1[4] = 0x18;
    write_bytes("l1codecs", l1, sizeof(l1), l1_path, sizeof(l1_path));
    CU_ASSERT_EQUAL_FATAL(nfh_reader_open(r, l1_path), NFH_OK);
    CU_ASSERT_EQUAL(nfh_reader_info(r)->codec, 2);
    nfh_reader_close(r);
  }

  CU_ASSERT_EQUAL(read_all(r, "/nonexistent/nfcapd.x", &n), NFH_ENOTFOUND);
  /* A socket under a capture's name: what it is ("No such device or
   * address" before). */
  {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/nfcapd.sock", tmpdir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(fd >= 0);
    unlink(sa.sun_path);
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CU_ASSERT_EQUAL(read_all(r, sa.sun_path, &n), NFH_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(nfh_reader_error(r), "not a regular file (a socket)"));
    close(fd);
    unlink(sa.sun_path);
  }
  nfh_reader_destroy(r);
}

static void test_bad_blocks(void) {
  nfh_reader *r;
  nfh_reader_options opt = {2};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
  size_t n;
  buf blk;
  memset(&blk, 0, sizeof(blk));
  v3_record(&blk, 1700000000000ull, 1, 2, 6);
  uint32_t one = 1, five = 5;

  /* A block whose size runs a byte into the appendix, inside the file:
   * read by its size as nfdump reads it, and said (it was dropped whole,
   * "past end of data" of a file that was not short). */
  {
    const char *into = write_l2("intoappendix", &blk, 1, &one, 0, 0, 2);
    uint32_t size = (uint32_t)blk.len + 1;
    patch_file(into, 40 + 4, &size, 4); /* block 0's size */
    CU_ASSERT_EQUAL(read_all(r, into, &n), NFH_ECORRUPT);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(nfh_reader_error(r), "runs 1 bytes into the appendix"));
  }

  /* A closed file whose header counts 3 blocks of its 1: read whole,
   * and its count blamed, not a truncation ("file ends"). */
  {
    const char *three = write_l2("threeofone", &blk, 1, &one, 0, 0, 2);
    patch_file(three, 36, (uint8_t[]){3}, 1); /* the header's count */
    CU_ASSERT_EQUAL(read_all(r, three, &n), NFH_ECORRUPT);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r),
                                  "its header lists 3 data blocks, yet only "
                                  "1 lie before its appendix"));
  }

  /* A flow record whose type byte turned into 7 (an exporter record of
   * its 40 bytes) or 0: each told, the block's other flow kept (both
   * vanished without a word, a tester's). */
  {
    buf odd = blk;
    size_t at = odd.len;
    v3_record(&odd, 1700000001000ull, 5, 6, 6);
    odd.data[at] = 7;
    size_t at0 = odd.len;
    v3_record(&odd, 1700000002000ull, 7, 8, 6);
    odd.data[at0] = 0;
    uint32_t three = 3;
    CU_ASSERT_EQUAL(
        read_all(r, write_l2("retyped", &odd, 1, &three, 0, 0, 2), &n),
        NFH_ECORRUPT);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(nfh_reader_error(r), "record 2: exporter record of"));
    CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "2 such faults"));
  }

  /* Counts of the appendix damaged: its records (0, 3 of 2) and the
   * header's appendix blocks (2): the flows read, each said (they
   * passed in silence, a tester's). */
  {
    struct {
      long at; /* from the appendix's start; -1: header byte 18 */
      uint8_t value;
      const char *want;
    } cases[] = {
        {0, 0, "its appendix lists no record, yet holds"},
        {0, 3, "its appendix lists 3 records and holds 2"},
        {-1, 2, "its header lists 2 appendix blocks"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
      const char *path = write_l2("appcount", &blk, 1, &one, 0, 0, 2);
      long appendix = 40 + 12 + (long)blk.len; /* after the one block */
      patch_file(path, cases[k].at < 0 ? 18 : appendix + cases[k].at,
                 &cases[k].value, 1);
      CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ECORRUPT);
      CU_ASSERT_EQUAL(n, 1);
      CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), cases[k].want));
    }
  }

  /* More records announced than the block holds. */
  CU_ASSERT_EQUAL(read_all(r, write_l2("short", &blk, 1, &five, 0, 0, 2), &n),
                  NFH_ECORRUPT);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "block 0"));

  /* A record whose size overruns the block. */
  buf bad = blk;
  bad.data[2] = 0xff, bad.data[3] = 0x7f;
  CU_ASSERT_EQUAL(read_all(r, write_l2("overrun", &bad, 1, &one, 0, 0, 2),
                           &n),
                  NFH_ECORRUPT);

  /* An element of length 0 (nfdump: corrupt). */
  bad = blk;
  bad.data[12 + 2] = 0, bad.data[12 + 3] = 0;
  CU_ASSERT_EQUAL(read_all(r, write_l2("elem0", &bad, 1, &one, 0, 0, 2), &n),
                  NFH_ECORRUPT);

  /* An unknown element type is skipped by its length; where it stands
   * in the address element's place, no address is left: the record is
   * dropped, told (it was kept without addresses, silently). */
  bad = blk;
  bad.data[12 + 52] = 99;
  CU_ASSERT_EQUAL(read_all(r, write_l2("elem99", &bad, 1, &one, 0, 0, 2), &n),
                  NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, 0);

  /* The flow element's id overwritten: the record is no flow (it was
   * one of time 0, protocol 0, no packets, read in silence). It is
   * dropped, the next record read, and the file's fault told after its
   * last flow. */
  buf two = blk;
  v3_record(&two, 1700000005000ull, 3, 4, 17);
  two.data[12] = 0xe5, two.data[13] = 0x03; /* element type 997 */
  uint32_t two_recs = 2;
  CU_ASSERT_EQUAL(read_all(r, write_l2("elem997", &two, 1, &two_recs, 0, 0, 2),
                           &n),
                  NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r),
                                "record 1: no flow element (element type "
                                "997 unknown): dropped"));

  /* Block types: 2 in a layout-2 file is read by its records, as nfdump
   * 1.7 reads it; an unknown one is skipped and told, the blocks after
   * it read; a block of 0 records holding data is damage, told. */
  buf blocks2[2] = {blk, blk};
  uint32_t ones[2] = {1, 1};
  l2_block_type = 2;
  CU_ASSERT_EQUAL(read_all(r, write_l2("type2", blocks2, 2, ones, 0, 0, 2),
                           &n),
                  NFH_OK);
  CU_ASSERT_EQUAL(n, 2);
  l2_block_type = 9;
  CU_ASSERT_EQUAL(read_all(r, write_l2("type9", blocks2, 2, ones, 0, 0, 2),
                           &n),
                  NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r),
                                "unknown block type 9: skipped (2 such"));
  l2_block_type = 3;
  uint32_t zero_one[2] = {0, 1};
  CU_ASSERT_EQUAL(read_all(r, write_l2("rec0", blocks2, 2, zero_one, 0, 0, 2),
                           &n),
                  NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "block 0 at offset 40: "
                                                     "0 records in 76 bytes"));
  /* A block whose type reads 1 (nfdump 1.5's) is passed over as nfdump
   * does, the blocks after it read: it ended the file (0 of 30,116 flows
   * of a tester's file). */
  {
    const char *t1 = write_l2("type1", blocks2, 2, ones, 0, 0, 2);
    patch_file(t1, 40 + 8, (uint8_t[]){1}, 1); /* block 0's type */
    CU_ASSERT_EQUAL(read_all(r, t1, &n), NFH_ECORRUPT);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r),
                                  "block 0 at offset 40: block type 1 "
                                  "(nfdump 1.5) is not supported: skipped"));
  }
  /* An address element whose type was damaged (unknown): the record is
   * dropped and told; it was kept with no addresses, silently. */
  {
    buf noaddr = blk;
    v3_record(&noaddr, 1700000005000ull, 3, 4, 17);
    noaddr.data[64] = 0xfd, noaddr.data[65] = 0x00; /* element type 253 */
    uint32_t nrec2 = 2;
    CU_ASSERT_EQUAL(
        read_all(r, write_l2("noaddr", &noaddr, 1, &nrec2, 0, 0, 2), &n),
        NFH_ECORRUPT);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r),
                                  "record 1: no address element (element "
                                  "type 253 unknown): dropped"));
    /* Retyped to a known type, or to EXnull, the same (a tester's 12,500
     * records hunted without addresses, in silence). */
    static const uint8_t retyped[] = {43, 0};
    for (size_t k = 0; k < sizeof(retyped); k++) {
      noaddr.data[64] = retyped[k];
      char name[32], want[96];
      snprintf(name, sizeof(name), "noaddr%u", retyped[k]);
      CU_ASSERT_EQUAL(
          read_all(r, write_l2(name, &noaddr, 1, &nrec2, 0, 0, 2), &n),
          NFH_ECORRUPT);
      CU_ASSERT_EQUAL(n, 1);
      snprintf(want, sizeof(want),
               "record 1: no address element (element type %u in its "
               "place?): dropped",
               retyped[k]);
      CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), want));
    }
  }

  /* Corrupt LZ4 payload. */
  memset(&bad, 0xee, sizeof(bad));
  bad.len = 200;
  CU_ASSERT_EQUAL(read_all(r, write_l2("lz4bad", &bad, 1, &one, 0, 3, 2), &n),
                  NFH_EDECOMPRESS);

  /* Truncated: the good file cut inside its block. */
  const char *good = write_l2("good", &blk, 1, &one, 0, 0, 2);
  CU_ASSERT_EQUAL(read_all(r, good, &n), NFH_OK);
  CU_ASSERT_EQUAL(n, 1);
  char cut[256];
  snprintf(cut, sizeof(cut), "%s/cut", tmpdir);
  FILE *in = fopen(good, "rb"), *out = fopen(cut, "wb");
  uint8_t data[256];
  size_t got = fread(data, 1, sizeof(data), in);
  fwrite(data, 1, got > 80 ? 80 : got, out);
  fclose(in);
  fclose(out);
  nfh_status st = read_all(r, cut, &n);
  CU_ASSERT(st == NFH_ETRUNC || st == NFH_ECORRUPT);

  /* The reader stays usable after every failure. */
  CU_ASSERT_EQUAL(read_all(r, good, &n), NFH_OK);
  CU_ASSERT_EQUAL(n, 1);
  nfh_reader_destroy(r);
}

/* Writes 'nflows' flows with the project's writer (codec 'codec') to
 * tmpdir/name; fills off[] with the offsets of its first 'max' block
 * headers and returns how many blocks it has (static path in *path). */
static int write_blocks(const char *name, int codec, size_t nflows,
                        uint64_t *off, int max, const char **path) {
  static char p[256];
  snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
  *path = p;
  nfh_writer_options o;
  memset(&o, 0, sizeof(o));
  o.codec = codec;
  o.created = 1700000000;
  nfh_writer *w = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_writer_open(p, &o, &w), NFH_OK);
  nfh_flow *v = calloc(nflows, sizeof(*v));
  CU_ASSERT_PTR_NOT_NULL_FATAL(v);
  for (size_t i = 0; i < nflows; i++) {
    v[i].src = tk_ip("10.0.0.1");
    v[i].dst = tk_ip("203.0.113.9");
    v[i].src_port = (uint16_t)(1024 + i % 60000);
    v[i].dst_port = 443;
    v[i].proto = 6;
    v[i].first_ms = 1700000000000ull + i;
    v[i].last_ms = v[i].first_ms + 100;
    v[i].packets = 1 + i % 7;
    v[i].bytes = 60 * v[i].packets + i % 1000;
    v[i].sampling = 1;
    v[i].aggr_flows = 1;
  }
  CU_ASSERT_EQUAL(nfh_writer_write(w, v, nflows), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_writer_close(w), NFH_OK);
  free(v);
  /* The data blocks (the header's count, at 36): 12-byte headers
   * (records, size, type, flags) from 40 on. */
  FILE *fp = fopen(p, "rb");
  uint8_t hdr[12];
  uint32_t blocks = 0;
  if (fseek(fp, 36, SEEK_SET) != 0 || fread(&blocks, 1, 4, fp) != 4)
    blocks = 0;
  uint64_t at = 40;
  int n = 0;
  while (n < max && (uint32_t)n < blocks &&
         fseek(fp, (long)at, SEEK_SET) == 0 && fread(hdr, 1, 12, fp) == 12) {
    off[n++] = at;
    uint32_t size;
    memcpy(&size, hdr + 4, 4);
    at += 12 + size;
  }
  fclose(fp);
  return n;
}

/* Damage inside one block's payload costs that block (or its records
 * from the damaged one on), not the file: a block's header says where
 * the next starts. One record of impossible size lost the rest of the
 * file, where nfdump keeps the records before it (15,082 flows of
 * 28,179 for nfdump, 10,082 read); a count larger than the block's
 * records lost them all (nfdump reads them); a payload that did not
 * decompress lost the blocks after it. Once a payload was damaged, a
 * block header that is no data block's ends the file, said. */
static void test_damage_costs_its_block(void) {
  nfh_reader *r;
  nfh_reader_options opt = {2};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
  const size_t total = 70000; /* three blocks and a part */
  uint64_t off[8];
  const char *path;
  size_t n, whole;
  int nb = write_blocks("good3", NFH_WRITER_CODEC_NONE, total, off, 8, &path);
  CU_ASSERT_FATAL(nb >= 3);
  CU_ASSERT_EQUAL(read_all(r, path, &whole), NFH_OK);
  CU_ASSERT_EQUAL(whole, total);

  /* Record 1 of block 1 with size 0: block 1's records lost, 0 and 2 on
   * read. */
  nb = write_blocks("size0", NFH_WRITER_CODEC_NONE, total, off, 8, &path);
  uint8_t zero2[2] = {0, 0};
  patch_file(path, off[1] + 12 + 2, zero2, 2);
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ECORRUPT);
  CU_ASSERT(n > 0 && n < total);
  CU_ASSERT(n >= total - 30000);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "block 1 at offset"));
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "records lost"));
  size_t lost_block1 = total - n;

  /* Block 1's count far above its records: all of them read. */
  nb = write_blocks("count", NFH_WRITER_CODEC_NONE, total, off, 8, &path);
  uint8_t big[4] = {0x62, 0x27, 0x00, 0x40};
  patch_file(path, off[1], big, 4);
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, total);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "a damaged count?"));

  /* LZ4: block 1's payload garbled: its flows lost, block 2 on read. */
  nb = write_blocks("lz4", NFH_WRITER_CODEC_LZ4, total, off, 8, &path);
  CU_ASSERT_FATAL(nb >= 3);
  uint8_t junk[64];
  memset(junk, 0xff, sizeof(junk));
  patch_file(path, off[1] + 12, junk, sizeof(junk));
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, total - lost_block1);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "lz4 data corrupt"));

  /* Bytes after the appendix (nfcapd writes it last): every flow read,
   * the file's fault told (they passed without a word). */
  nb = write_blocks("tail", NFH_WRITER_CODEC_LZ4, total, off, 8, &path);
  FILE *fp = fopen(path, "ab");
  CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
  fwrite(junk, 1, sizeof(junk), fp);
  fclose(fp);
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, total);
  CU_ASSERT_PTR_NOT_NULL(
      strstr(nfh_reader_error(r), "64 bytes follow its appendix"));

  /* ... and block 2's header no data block's after it: the file ends
   * there, said. */
  nb = write_blocks("lz4", NFH_WRITER_CODEC_LZ4, total, off, 8, &path);
  patch_file(path, off[1] + 12, junk, sizeof(junk));
  uint8_t type9[2] = {9, 0};
  patch_file(path, off[2] + 8, type9, 2);
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ECORRUPT);
  CU_ASSERT(n < total - lost_block1);
  CU_ASSERT_PTR_NOT_NULL(
      strstr(nfh_reader_error(r), "the rest of the file not read"));
  nfh_reader_destroy(r);
}

static void test_huge_block(void) {
  /* A block header claiming more than the cap, in a file big enough
   * that the size is not simply beyond its end. */
  char path[256];
  snprintf(path, sizeof(path), "%s/huge", tmpdir);
  size_t size = NFH_BLOCK_PAYLOAD_MAX + 4096;
  uint8_t *f = calloc(1, size + 100);
  buf h;
  memset(&h, 0, sizeof(h));
  put16(&h, 0xA50C);
  put16(&h, 2);
  put32(&h, 0);
  put64(&h, 0);
  put8(&h, 0);
  put8(&h, 0);
  put16(&h, 0); /* no appendix: data runs to end of file */
  put32(&h, 0);
  put64(&h, 0);
  put32(&h, 0);
  put32(&h, 1);
  put32(&h, 1);
  put32(&h, (uint32_t)(size - 100));
  put16(&h, 3);
  put16(&h, 0);
  memcpy(f, h.data, h.len);
  FILE *fp = fopen(path, "wb");
  fwrite(f, 1, size + 100, fp);
  fclose(fp);
  free(f);
  nfh_reader *r;
  nfh_reader_options opt = {1};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
  size_t n;
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ETOOBIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "limit"));
  nfh_reader_destroy(r);
}

static void test_alloc_failures(void) {
  if (!have_sample())
    return;
  /* Every allocation in turn fails, up to the first run that needs no
   * more: each run ends in NFH_ENOMEM or success, never a crash (and,
   * under ASan/valgrind, never a leak). The exporter stat, at the end of
   * the file, takes the last allocations. */
  int succeeded = 0;
  for (long k = 0; k < 200 && !succeeded; k++) {
    nfh_reader *r = NULL;
    nfh_reader_options opt = {0};
    nfh__alloc_fail_after(k);
    nfh_status st = nfh_reader_create(&opt, &r);
    if (st == NFH_OK) {
      size_t n, ns;
      st = read_all(r, sample, &n);
      CU_ASSERT(st == NFH_OK || st == NFH_ENOMEM);
      if (st == NFH_OK) {
        CU_ASSERT_EQUAL(n, 3018);
        nfh_reader_exporter_stats(r, &ns);
        CU_ASSERT_EQUAL(ns, 1);
        succeeded = 1;
      }
    } else {
      CU_ASSERT_EQUAL(st, NFH_ENOMEM);
    }
    nfh__alloc_fail_after(-1);
    nfh_reader_destroy(r);
  }
  CU_ASSERT(succeeded);
}

static int setup(void) { return mkdtemp(tmpdir) ? 0 : -1; }

static int teardown(void) { return tk_remove_tree(tmpdir); }

/* Counts and offsets a header or block gets wrong, and records no 1.7
 * file holds: the flows that can be read are read, and the run is told
 * (each was lost, or read short, without a word). */
static void test_damaged_counts(void) {
  nfh_reader *r;
  nfh_reader_options opt = {0};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&opt, &r), NFH_OK);
  buf blk[3];
  uint32_t nrec[3] = {1, 1, 1};
  for (int i = 0; i < 3; i++) {
    memset(&blk[i], 0, sizeof(blk[i]));
    v3_record(&blk[i], 1700000000000ull + (uint64_t)i, 1 + (uint32_t)i, 80, 6);
  }
  size_t n;
  /* Intact: three flows. */
  CU_ASSERT_EQUAL(read_all(r, write_l2("counts-ok", blk, 3, nrec, 0, 0, 2), &n),
                  NFH_OK);
  CU_ASSERT_EQUAL(n, 3);

  /* The header counts 1 of 3 blocks: one flow, and a fault. */
  const char *path = write_l2("counts-blocks", blk, 3, nrec, 0, 0, 2);
  uint32_t one = 1;
  patch_file(path, 36, &one, 4);
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "lists 1 data blocks"));

  /* A block of two records that counts one. */
  buf two;
  memset(&two, 0, sizeof(two));
  v3_record(&two, 1700000000000ull, 1, 80, 6);
  v3_record(&two, 1700000000001ull, 2, 80, 6);
  uint32_t one_rec = 1;
  CU_ASSERT_EQUAL(
      read_all(r, write_l2("counts-records", &two, 1, &one_rec, 0, 0, 2), &n),
      NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "follow its 1 records"));

  /* An appendix offset of 0: the blocks are read all the same. */
  path = write_l2("counts-appendix", blk, 3, nrec, 0, 0, 2);
  uint64_t zero = 0;
  patch_file(path, 24, &zero, 8);
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, 3);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "appendix offset 0"));

  /* An appendix offset at the first data block (no appendix there). */
  path = write_l2("counts-appendix40", blk, 3, nrec, 0, 0, 2);
  uint64_t forty = 40;
  patch_file(path, 24, &forty, 8);
  CU_ASSERT_EQUAL(read_all(r, path, &n), NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, 3);

  /* A record type no 1.7 file holds (a V4 record of nfdump 1.8). */
  buf odd;
  memset(&odd, 0, sizeof(odd));
  put16(&odd, 16);
  put16(&odd, 8);
  put16(&odd, 0);
  put16(&odd, 0);
  v3_record(&odd, 1700000000000ull, 1, 80, 6);
  uint32_t two_rec = 2;
  CU_ASSERT_EQUAL(
      read_all(r, write_l2("counts-type16", &odd, 1, &two_rec, 0, 0, 2), &n),
      NFH_ECORRUPT);
  CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_reader_error(r), "unknown record type 16"));
  nfh_reader_destroy(r);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("reader", setup, teardown);
  CU_add_test(s, "real nfcapd 1.7.1 file", test_sample_file);
  CU_add_test(s, "threads give identical flows", test_threads_agree);
  CU_add_test(s, "exporter stats of real files", test_real_exporter_stats);
  CU_add_test(s, "hand-built exporter stats", test_built_exporter_stats);
  CU_add_test(s, "malformed exporter stats", test_bad_exporter_stats);
  CU_add_test(s, "hand-built file", test_built_file);
  CU_add_test(s, "bad headers", test_bad_headers);
  CU_add_test(s, "bad blocks", test_bad_blocks);
  CU_add_test(s, "block beyond the size cap", test_huge_block);
  CU_add_test(s, "damage costs its block, not the file",
              test_damage_costs_its_block);
  CU_add_test(s, "allocation failures", test_alloc_failures);
  CU_add_test(s, "damaged counts and offsets, odd records",
              test_damaged_counts);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
