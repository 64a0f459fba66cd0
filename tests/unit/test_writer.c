/*
 * test_writer.c - CUnit tests of the nfcapd writer (nfhunt/writer.h).
 *
 * Flows of every kind go through the writer and come back through the
 * library's reader with every codec; each field must survive, and the
 * file's header and stat record must describe what was written. The
 * failure paths (abort, bad arguments, out of memory) must leave no file
 * behind.
 */
#include "config.h"

#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nfhunt/reader.h>
#include <nfhunt/writer.h>

#include "../../plugin/common/alloc.h"

static char tmpdir[] = "/tmp/nfh_test_writer_XXXXXX";

/* A path inside the test's scratch directory. */
static const char *scratch(const char *name) {
  static char path[256];
  snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
  return path;
}

static int file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* Entries in the scratch directory other than . and .. */
static int dir_entries(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  if (!d)
    return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

static void empty_dir(void) {
  DIR *d = opendir(tmpdir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
    unlink(path);
  }
  closedir(d);
}

static int suite_init(void) { return mkdtemp(tmpdir) ? 0 : -1; }

static int suite_clean(void) {
  empty_dir();
  return rmdir(tmpdir);
}

/* ------------------------------------------------------------ fixtures */

static nfh_addr addr(const char *text) {
  nfh_addr a;
  if (nfh_addr_parse(text, &a) != 0)
    abort();
  return a;
}

/* The exporters and the sampler the fixture flows refer to. */
static nfh_exporter exporter_v4(void) {
  nfh_exporter e = {
      .addr = addr("192.0.2.1"), .version = 9, .id = 7, .sysid = 1};
  return e;
}
static nfh_exporter exporter_v6(void) {
  nfh_exporter e = {
      .addr = addr("2001:db8::1"), .version = 10, .id = 300, .sysid = 2};
  return e;
}

/* A plain IPv4 TCP flow from exporter 1, in the form the reader hands it
 * back (aggr_flows 1, sampling 1, exporter resolved). */
static nfh_flow base_flow(uint64_t i) {
  nfh_flow f;
  memset(&f, 0, sizeof(f));
  f.first_ms = 1700000000000ULL + i * 7;
  f.last_ms = f.first_ms + 1000 + i % 5000;
  f.received_ms = f.last_ms + 20;
  f.packets = 1 + i % 97;
  f.bytes = 40 * f.packets + i % 1500;
  f.aggr_flows = 1;
  f.src = addr("10.1.2.3");
  f.dst = addr("198.51.100.77");
  f.src.bytes[15] = (uint8_t)i;
  f.dst.bytes[14] = (uint8_t)(i >> 8);
  f.exporter = addr("192.0.2.1");
  f.exporter_id = 7;
  f.exporter_sysid = 1;
  f.sampling = 1;
  f.src_port = (uint16_t)(1024 + i % 60000);
  f.dst_port = 443;
  f.proto = 6;
  f.tcp_flags = 0x1b;
  f.tos = (uint8_t)(i % 4);
  f.nf_version = 9;
  return f;
}

/* Flow number i of the fixture: every kind the writer encodes, in
 * turn. */
static nfh_flow fixture_flow(uint64_t i) {
  nfh_flow f = base_flow(i);
  switch (i % 12) {
  case 0: /* plain IPv4 TCP */
    break;
  case 1: /* IPv6 UDP from the IPv6 exporter */
    f.src = addr("2001:db8:10::5");
    f.dst = addr("2a00:1450:4001::200e");
    f.src.bytes[15] = (uint8_t)i;
    f.proto = 17;
    f.tcp_flags = 0;
    f.dst_port = 53;
    f.exporter = addr("2001:db8::1");
    f.exporter_id = 300;
    f.exporter_sysid = 2;
    f.nf_version = 10;
    break;
  case 2: /* ICMP echo request */
    f.proto = 1;
    f.tcp_flags = 0;
    f.src_port = 0;
    f.icmp_type = 8;
    f.icmp_code = 0;
    f.dst_port = 8 << 8;
    break;
  case 3: /* ICMPv6 destination unreachable, code 4 */
    f.src = addr("fe80::1");
    f.dst = addr("2001:db8::99");
    f.proto = 58;
    f.tcp_flags = 0;
    f.src_port = 0;
    f.icmp_type = 1;
    f.icmp_code = 4;
    f.dst_port = 1 << 8 | 4;
    break;
  case 4: /* sampled 1:64 */
    f.sampling = 64;
    f.flags = NFH_FLOW_SAMPLED;
    f.packets *= 64;
    f.bytes *= 64;
    break;
  case 5: /* bidirectional counters, aggregated */
    f.out_packets = 5 + i % 11;
    f.out_bytes = 777 + i;
    f.aggr_flows = 3;
    f.flags = NFH_FLOW_HAS_OUT;
    break;
  case 6: /* AS, VLAN, interfaces, masks, direction */
    f.src_as = 64512 + (uint32_t)i % 100;
    f.dst_as = 15169;
    f.src_vlan = 10;
    f.dst_vlan = 4094;
    f.input_if = 3;
    f.output_if = 100000 + (uint32_t)i;
    f.src_mask = 24;
    f.dst_mask = 16;
    f.direction = 1;
    f.dst_tos = 46;
    f.biflow_dir = 2;
    f.end_reason = 3;
    f.fwd_status = 64;
    break;
  case 7: /* IPv4 next hops and router */
    f.next_hop = addr("10.255.0.1");
    f.bgp_next_hop = addr("203.0.113.1");
    f.router = addr("192.0.2.1");
    break;
  case 8: /* IPv6 next hops and router on an IPv6 flow */
    f.src = addr("2001:db8:aaaa::1");
    f.dst = addr("2001:db8:bbbb::2");
    f.next_hop = addr("2001:db8::fe");
    f.bgp_next_hop = addr("2001:db8:ffff::1");
    f.router = addr("2001:db8::1");
    f.exporter = addr("2001:db8::1");
    f.exporter_id = 300;
    f.exporter_sysid = 2;
    f.nf_version = 10;
    break;
  case 9: /* latency, an event record, anonymised */
    f.client_latency_us = 1500;
    f.server_latency_us = 250 + i;
    f.app_latency_us = 99999;
    f.flags = NFH_FLOW_EVENT | NFH_FLOW_ANON;
    break;
  case 10: /* NAT (IPv4) */
    f.flags = NFH_FLOW_HAS_NAT | NFH_FLOW_EVENT;
    f.nat_src = addr("100.64.0.1");
    f.nat_dst = addr("198.51.100.200");
    f.nat_src_port = 40000;
    f.nat_dst_port = 8443;
    f.fw_event = 1;
    f.nat_event = 2;
    break;
  case 11: /* sampled IPv6 flow, 1:1000, with everything else too */
    f.src = addr("2001:db8:1::1");
    f.dst = addr("2001:db8:2::2");
    f.exporter = addr("2001:db8::1");
    f.exporter_id = 300;
    f.exporter_sysid = 2;
    f.nf_version = 10;
    f.sampling = 1000;
    f.flags = NFH_FLOW_SAMPLED | NFH_FLOW_HAS_OUT | NFH_FLOW_HAS_NAT;
    f.out_packets = 1000;
    f.out_bytes = 64000;
    f.src_as = 1;
    f.dst_as = 4200000000u;
    f.src_vlan = 1;
    f.next_hop = addr("2001:db8::fe");
    f.router = addr("2001:db8::1");
    f.client_latency_us = 1;
    f.nat_src = addr("2001:db8:100::1");
    f.nat_dst = addr("2001:db8:200::1");
    f.nat_src_port = 1;
    f.nat_dst_port = 2;
    break;
  }
  return f;
}

/* ----------------------------------------------------------- compare */

static int addr_eq(const nfh_addr *a, const nfh_addr *b) {
  return nfh_addr_compare(a, b) == 0;
}

/* Compares every field; reports the first difference of a flow once. */
static int flow_eq(const nfh_flow *a, const nfh_flow *b, size_t index) {
#define SAME(field)                                                           \
  do {                                                                        \
    if (a->field != b->field) {                                               \
      fprintf(stderr, "flow %zu: %s %llu != %llu\n", index, #field,           \
              (unsigned long long)a->field, (unsigned long long)b->field);    \
      return 0;                                                               \
    }                                                                         \
  } while (0)
#define SAME_ADDR(field)                                                      \
  do {                                                                        \
    if (!addr_eq(&a->field, &b->field)) {                                     \
      char x[NFH_ADDR_STRLEN], y[NFH_ADDR_STRLEN];                            \
      fprintf(stderr, "flow %zu: %s %s/%u != %s/%u\n", index, #field,         \
              nfh_addr_format(&a->field, x, sizeof(x)), a->field.family,      \
              nfh_addr_format(&b->field, y, sizeof(y)), b->field.family);     \
      return 0;                                                               \
    }                                                                         \
  } while (0)
  SAME(first_ms);
  SAME(last_ms);
  SAME(received_ms);
  SAME(packets);
  SAME(bytes);
  SAME(out_packets);
  SAME(out_bytes);
  SAME(aggr_flows);
  SAME_ADDR(src);
  SAME_ADDR(dst);
  SAME_ADDR(exporter);
  SAME_ADDR(router);
  SAME_ADDR(next_hop);
  SAME_ADDR(bgp_next_hop);
  SAME(exporter_id);
  SAME(sampling);
  SAME(input_if);
  SAME(output_if);
  SAME(src_as);
  SAME(dst_as);
  SAME(src_vlan);
  SAME(dst_vlan);
  SAME(exporter_sysid);
  SAME(src_port);
  SAME(dst_port);
  SAME(proto);
  SAME(tcp_flags);
  SAME(tos);
  SAME(dst_tos);
  SAME(icmp_type);
  SAME(icmp_code);
  SAME(src_mask);
  SAME(dst_mask);
  SAME(direction);
  SAME(biflow_dir);
  SAME(end_reason);
  SAME(fwd_status);
  SAME(nf_version);
  SAME(flags);
  SAME(client_latency_us);
  SAME(server_latency_us);
  SAME(app_latency_us);
  SAME_ADDR(nat_src);
  SAME_ADDR(nat_dst);
  SAME(nat_src_port);
  SAME(nat_dst_port);
  SAME(nat_event);
  SAME(fw_event);
  return 1;
#undef SAME
#undef SAME_ADDR
}

/* ------------------------------------------------------------ helpers */

static nfh_status write_fixture(const char *path, int codec, size_t n,
                                const char *ident) {
  nfh_writer_options o = {.codec = codec,
                          .ident = ident,
                          .creator = NFH_WRITER_CREATOR_NFDUMP,
                          .created = 1700000000};
  nfh_writer *w = NULL;
  nfh_status st = nfh_writer_open(path, &o, &w);
  if (st != NFH_OK)
    return st;
  nfh_exporter e4 = exporter_v4(), e6 = exporter_v6();
  st = nfh_writer_add_exporter(w, &e4);
  if (st == NFH_OK)
    st = nfh_writer_add_exporter(w, &e6);
  /* Write in uneven batches so batch edges fall anywhere. */
  nfh_flow batch[37];
  size_t done = 0;
  while (st == NFH_OK && done < n) {
    size_t k = n - done < 37 ? n - done : 37;
    for (size_t j = 0; j < k; j++)
      batch[j] = fixture_flow(done + j);
    st = nfh_writer_write(w, batch, k);
    done += k;
  }
  if (st != NFH_OK) {
    nfh_writer_abort(w);
    return st;
  }
  return nfh_writer_close(w);
}

/* Reads every flow of 'path'; *out is malloc'd. */
static nfh_status read_all(const char *path, unsigned threads, nfh_flow **out,
                           size_t *n, nfh_file_info *info) {
  nfh_reader_options ro = {.threads = threads};
  nfh_reader *r = NULL;
  nfh_status st = nfh_reader_create(&ro, &r);
  *out = NULL;
  *n = 0;
  if (st != NFH_OK)
    return st;
  st = nfh_reader_open(r, path);
  if (st != NFH_OK) {
    fprintf(stderr, "open %s: %s\n", path, nfh_reader_error(r));
    nfh_reader_destroy(r);
    return st;
  }
  if (info)
    *info = *nfh_reader_info(r);
  size_t cap = 0;
  const nfh_flow *batch;
  size_t count;
  while ((st = nfh_reader_next(r, &batch, &count)) == NFH_OK) {
    if (*n + count > cap) {
      cap = (*n + count) * 2;
      *out = realloc(*out, cap * sizeof(**out));
      if (!*out)
        abort();
    }
    memcpy(*out + *n, batch, count * sizeof(*batch));
    *n += count;
  }
  if (st == NFH_END)
    st = NFH_OK;
  else
    fprintf(stderr, "read %s: %s\n", path, nfh_reader_error(r));
  nfh_reader_destroy(r);
  return st;
}

/* What the stat record must say about fixture flows 0..n-1. */
static void fixture_stat(size_t n, uint64_t *flows, uint64_t *packets,
                         uint64_t *bytes, uint64_t *first, uint64_t *last) {
  *flows = *packets = *bytes = 0;
  *first = UINT64_MAX;
  *last = 0;
  for (size_t i = 0; i < n; i++) {
    nfh_flow f = fixture_flow(i);
    *flows += f.aggr_flows;
    *packets += f.packets + f.out_packets;
    *bytes += f.bytes + f.out_bytes;
    if (f.first_ms < *first)
      *first = f.first_ms;
    if (f.last_ms > *last)
      *last = f.last_ms;
  }
}

static void round_trip(int codec, size_t n, unsigned threads) {
  char name[64];
  snprintf(name, sizeof(name), "rt-%d-%zu.nf", codec, n);
  const char *path = scratch(name);
  CU_ASSERT_EQUAL_FATAL(write_fixture(path, codec, n, "round trip"), NFH_OK);
  CU_ASSERT_EQUAL(dir_entries(), 1); /* no temporary file left */

  nfh_flow *got;
  size_t count;
  nfh_file_info info;
  CU_ASSERT_EQUAL_FATAL(read_all(path, threads, &got, &count, &info), NFH_OK);
  CU_ASSERT_EQUAL(count, n);
  size_t bad = 0;
  for (size_t i = 0; i < count && i < n; i++) {
    nfh_flow want = fixture_flow(i);
    if (!flow_eq(&want, &got[i], i) && ++bad >= 5)
      break;
  }
  CU_ASSERT_EQUAL(bad, 0);
  free(got);

  uint64_t flows, packets, bytes, first, last;
  fixture_stat(n, &flows, &packets, &bytes, &first, &last);
  CU_ASSERT_EQUAL(info.layout, 2);
  CU_ASSERT_EQUAL(info.codec, codec);
  CU_ASSERT_EQUAL(info.nfd_version, NFH_WRITER_NFDVERSION_DEFAULT);
  CU_ASSERT_EQUAL(info.created, 1700000000);
  CU_ASSERT_EQUAL(info.creator, NFH_WRITER_CREATOR_NFDUMP);
  CU_ASSERT(info.complete);
  CU_ASSERT_STRING_EQUAL(info.ident, "round trip");
  CU_ASSERT(info.has_stat);
  CU_ASSERT_EQUAL(info.stat_flows, flows);
  CU_ASSERT_EQUAL(info.stat_packets, packets);
  CU_ASSERT_EQUAL(info.stat_bytes, bytes);
  CU_ASSERT_EQUAL(info.stat_first_ms, n ? first : 0);
  CU_ASSERT_EQUAL(info.stat_last_ms, n ? last : 0);
  CU_ASSERT_EQUAL(info.stat_sequence_failures, 0);
  /* Records average ~120 bytes: 50000 flows fill three 2 MiB blocks. */
  if (n > 40000)
    CU_ASSERT(info.num_blocks >= 2);
  unlink(path);
}

/* -------------------------------------------------------------- tests */

static void test_roundtrip_none(void) {
  round_trip(NFH_WRITER_CODEC_NONE, 600, 0);
}
static void test_roundtrip_lzo(void) {
  round_trip(NFH_WRITER_CODEC_LZO, 600, 0);
}
static void test_roundtrip_bz2(void) {
  round_trip(NFH_WRITER_CODEC_BZ2, 600, 0);
}
static void test_roundtrip_lz4(void) {
  round_trip(NFH_WRITER_CODEC_LZ4, 600, 0);
}
static void test_roundtrip_zstd(void) {
  round_trip(NFH_WRITER_CODEC_ZSTD, 600, 0);
}

/* Enough flows for several 2 MiB blocks, every codec, threaded reader. */
static void test_roundtrip_blocks(void) {
  for (int codec = NFH_WRITER_CODEC_NONE; codec <= NFH_WRITER_CODEC_ZSTD;
       codec++)
    round_trip(codec, 50000, 2);
}

static void test_empty_file(void) {
  const char *path = scratch("empty.nf");
  CU_ASSERT_EQUAL_FATAL(write_fixture(path, NFH_WRITER_CODEC_LZ4, 0, NULL),
                        NFH_OK);
  nfh_flow *got;
  size_t n;
  nfh_file_info info;
  CU_ASSERT_EQUAL_FATAL(read_all(path, 0, &got, &n, &info), NFH_OK);
  CU_ASSERT_EQUAL(n, 0);
  CU_ASSERT_EQUAL(info.num_blocks, 1); /* the exporter records */
  CU_ASSERT_STRING_EQUAL(info.ident, "none");
  CU_ASSERT_EQUAL(info.stat_flows, 0);
  CU_ASSERT_EQUAL(info.stat_first_ms, 0);
  free(got);
  unlink(path);

  /* Nothing at all: no data block. */
  nfh_writer *w;
  CU_ASSERT_EQUAL_FATAL(nfh_writer_open(path, NULL, &w), NFH_OK);
  CU_ASSERT_EQUAL(nfh_writer_close(w), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(read_all(path, 0, &got, &n, &info), NFH_OK);
  CU_ASSERT_EQUAL(n, 0);
  CU_ASSERT_EQUAL(info.num_blocks, 0);
  CU_ASSERT_EQUAL(info.codec, NFH_WRITER_CODEC_NONE);
  free(got);
  unlink(path);
}

/* What the writer fills in or normalises on its own. */
static void test_normalisation(void) {
  const char *path = scratch("norm.nf");
  nfh_writer *w;
  nfh_writer_options o = {.codec = NFH_WRITER_CODEC_LZO};
  CU_ASSERT_EQUAL_FATAL(nfh_writer_open(path, &o, &w), NFH_OK);
  nfh_flow in[5];
  for (int i = 0; i < 5; i++) {
    in[i] = base_flow((uint64_t)i);
    in[i].exporter_sysid = 0; /* let the writer assign exporters */
    in[i].exporter = addr(i % 2 ? "192.0.2.9" : "2001:db8::9");
    in[i].exporter_id = (uint32_t)(i % 2);
  }
  in[0].aggr_flows = 0; /* read back as 1 */
  in[1].proto = 1;      /* ICMP from icmp_type/code, src_port dropped */
  in[1].icmp_type = 3;
  in[1].icmp_code = 13;
  in[1].dst_port = 0;
  in[2].sampling = 10;  /* SAMPLED flag and a sampler made up */
  in[3].aggr_flows = 2; /* EXcntFlow: HAS_OUT on reading */
  in[4].sampling = 10;
  CU_ASSERT_EQUAL(nfh_writer_write(w, in, 5), NFH_OK);
  CU_ASSERT_EQUAL(nfh_writer_flows(w), 5);
  CU_ASSERT_EQUAL(nfh_writer_close(w), NFH_OK);

  nfh_flow *got;
  size_t n;
  CU_ASSERT_EQUAL_FATAL(read_all(path, 0, &got, &n, NULL), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(n, 5);
  CU_ASSERT_EQUAL(got[0].aggr_flows, 1);
  CU_ASSERT_EQUAL(got[1].dst_port, 3 << 8 | 13);
  CU_ASSERT_EQUAL(got[1].src_port, 0);
  CU_ASSERT_EQUAL(got[1].icmp_type, 3);
  CU_ASSERT_EQUAL(got[1].icmp_code, 13);
  CU_ASSERT_EQUAL(got[2].sampling, 10);
  CU_ASSERT(got[2].flags & NFH_FLOW_SAMPLED);
  CU_ASSERT_EQUAL(got[4].sampling, 10);
  CU_ASSERT_EQUAL(got[3].aggr_flows, 2);
  CU_ASSERT(got[3].flags & NFH_FLOW_HAS_OUT);
  /* Two distinct exporters, given sysids 1 and 2 in order of use. */
  for (int i = 0; i < 5; i++) {
    CU_ASSERT(addr_eq(&got[i].exporter, &in[i].exporter));
    CU_ASSERT_EQUAL(got[i].exporter_id, in[i].exporter_id);
    CU_ASSERT_EQUAL(got[i].exporter_sysid, i % 2 ? 2 : 1);
  }
  free(got);
  unlink(path);
}

static void test_exporters_samplers(void) {
  const char *path = scratch("exp.nf");
  nfh_writer *w;
  CU_ASSERT_EQUAL_FATAL(nfh_writer_open(path, NULL, &w), NFH_OK);
  nfh_exporter e = exporter_v4();
  CU_ASSERT_EQUAL(nfh_writer_add_exporter(w, &e), NFH_OK);
  CU_ASSERT_EQUAL(nfh_writer_add_exporter(w, &e), NFH_OK); /* duplicate */
  nfh_exporter other = exporter_v6();
  other.sysid = 1;
  CU_ASSERT_EQUAL(nfh_writer_add_exporter(w, &other), NFH_EINVAL);
  CU_ASSERT(strlen(nfh_writer_error(w)) > 0);
  other.sysid = 0;
  CU_ASSERT_EQUAL(nfh_writer_add_exporter(w, &other), NFH_EINVAL);
  other = exporter_v6();
  CU_ASSERT_EQUAL(nfh_writer_add_exporter(w, &other), NFH_OK);

  /* An exporter's own sampler, 2 in 10 packets = 1:5, is used for a
   * flow sampled 1:5 instead of a made-up one. */
  nfh_sampler s = {.id = 42,
                   .packet_interval = 2,
                   .space_interval = 8,
                   .exporter_sysid = 1,
                   .algorithm = 2};
  CU_ASSERT_EQUAL(nfh_writer_add_sampler(w, &s), NFH_OK);
  CU_ASSERT_EQUAL(nfh_writer_add_sampler(w, &s), NFH_OK);
  nfh_sampler bad = s;
  bad.space_interval = 9;
  CU_ASSERT_EQUAL(nfh_writer_add_sampler(w, &bad), NFH_EINVAL);
  bad.packet_interval = 0;
  bad.id = 43;
  CU_ASSERT_EQUAL(nfh_writer_add_sampler(w, &bad), NFH_EINVAL);

  nfh_flow f = base_flow(1);
  f.sampling = 5;
  f.flags = NFH_FLOW_SAMPLED;
  CU_ASSERT_EQUAL(nfh_writer_write(w, &f, 1), NFH_OK);
  /* Mixed families cannot be encoded; the writer stays usable. */
  nfh_flow mixed = base_flow(2);
  mixed.dst = addr("2001:db8::2");
  CU_ASSERT_EQUAL(nfh_writer_write(w, &mixed, 1), NFH_EINVAL);
  CU_ASSERT_EQUAL(nfh_writer_write(w, &f, 1), NFH_OK);
  CU_ASSERT_EQUAL(nfh_writer_close(w), NFH_OK);

  nfh_reader *r;
  nfh_reader_options ro = {.threads = 0};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&ro, &r), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_reader_open(r, path), NFH_OK);
  const nfh_flow *flows;
  size_t n;
  CU_ASSERT_EQUAL_FATAL(nfh_reader_next(r, &flows, &n), NFH_OK);
  CU_ASSERT_EQUAL(n, 2);
  CU_ASSERT(flow_eq(&f, &flows[0], 0));
  size_t ne, ns;
  const nfh_exporter *ex = nfh_reader_exporters(r, &ne);
  const nfh_sampler *sa = nfh_reader_samplers(r, &ns);
  CU_ASSERT_EQUAL(ne, 2);
  CU_ASSERT_EQUAL(ns, 1);
  if (ne == 2) {
    e = exporter_v4();
    other = exporter_v6();
    CU_ASSERT(addr_eq(&ex[0].addr, &e.addr));
    CU_ASSERT_EQUAL(ex[0].version, 9);
    CU_ASSERT_EQUAL(ex[0].id, 7);
    CU_ASSERT_EQUAL(ex[0].sysid, 1);
    CU_ASSERT(addr_eq(&ex[1].addr, &other.addr));
    CU_ASSERT_EQUAL(ex[1].version, 10);
    CU_ASSERT_EQUAL(ex[1].id, 300);
    CU_ASSERT_EQUAL(ex[1].sysid, 2);
  }
  if (ns == 1) {
    CU_ASSERT_EQUAL(sa[0].id, 42);
    CU_ASSERT_EQUAL(sa[0].packet_interval, 2);
    CU_ASSERT_EQUAL(sa[0].space_interval, 8);
    CU_ASSERT_EQUAL(sa[0].algorithm, 2);
    CU_ASSERT_EQUAL(sa[0].exporter_sysid, 1);
  }
  CU_ASSERT_EQUAL(nfh_reader_next(r, &flows, &n), NFH_END);
  nfh_reader_destroy(r);
  unlink(path);
}

/* Thousands of samplers (two exporters, 3000 each, intervals 2 to 3001)
 * and flows sampled at many of those intervals: each flow reads back
 * with its interval, and the samplers are all listed. The reader looked
 * samplers up in a list, a file of 320,000 of them took 30 s. */
static void test_many_samplers(void) {
  const char *path = scratch("many-samplers.nf");
  nfh_writer *w;
  CU_ASSERT_EQUAL_FATAL(nfh_writer_open(path, NULL, &w), NFH_OK);
  nfh_exporter e = exporter_v4(), other = exporter_v6();
  CU_ASSERT_EQUAL(nfh_writer_add_exporter(w, &e), NFH_OK);
  CU_ASSERT_EQUAL(nfh_writer_add_exporter(w, &other), NFH_OK);
  for (uint16_t sysid = 1; sysid <= 2; sysid++)
    for (uint32_t k = 1; k <= 3000; k++) {
      nfh_sampler s = {.id = k,
                       .packet_interval = 1,
                       .space_interval = k,
                       .exporter_sysid = sysid,
                       .algorithm = 2};
      CU_ASSERT_EQUAL_FATAL(nfh_writer_add_sampler(w, &s), NFH_OK);
    }
  enum { NFLOWS = 4000 };
  for (uint64_t i = 0; i < NFLOWS; i++) {
    nfh_flow f = base_flow(i);
    f.sampling = (uint32_t)(2 + (i * 7919) % 3000);
    f.flags = NFH_FLOW_SAMPLED;
    CU_ASSERT_EQUAL_FATAL(nfh_writer_write(w, &f, 1), NFH_OK);
  }
  CU_ASSERT_EQUAL(nfh_writer_close(w), NFH_OK);

  nfh_reader *r;
  nfh_reader_options ro = {.threads = 0};
  CU_ASSERT_EQUAL_FATAL(nfh_reader_create(&ro, &r), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_reader_open(r, path), NFH_OK);
  const nfh_flow *flows;
  size_t n, seen = 0, right = 0;
  while (nfh_reader_next(r, &flows, &n) == NFH_OK)
    for (size_t i = 0; i < n; i++, seen++)
      right += flows[i].sampling == 2 + (seen * 7919) % 3000;
  CU_ASSERT_EQUAL(seen, NFLOWS);
  CU_ASSERT_EQUAL(right, NFLOWS);
  size_t ns;
  nfh_reader_samplers(r, &ns);
  CU_ASSERT_EQUAL(ns, 6000);
  nfh_reader_destroy(r);
  unlink(path);
}

static void test_abort_leaves_nothing(void) {
  empty_dir();
  const char *path = scratch("aborted.nf");
  nfh_writer *w;
  nfh_writer_options o = {.codec = NFH_WRITER_CODEC_LZ4};
  CU_ASSERT_EQUAL_FATAL(nfh_writer_open(path, &o, &w), NFH_OK);
  /* The target appears only at close; the temporary file is hidden. */
  CU_ASSERT(!file_exists(path));
  CU_ASSERT_EQUAL(dir_entries(), 1);
  nfh_flow f = base_flow(0);
  CU_ASSERT_EQUAL(nfh_writer_write(w, &f, 1), NFH_OK);
  nfh_writer_abort(w);
  CU_ASSERT(!file_exists(path));
  CU_ASSERT_EQUAL(dir_entries(), 0);
  nfh_writer_abort(NULL);
  CU_ASSERT_EQUAL(nfh_writer_close(NULL), NFH_OK);
}

/* Closing over an existing file replaces it whole. */
static void test_replace(void) {
  const char *path = scratch("replace.nf");
  CU_ASSERT_EQUAL_FATAL(write_fixture(path, NFH_WRITER_CODEC_LZ4, 100, "a"),
                        NFH_OK);
  CU_ASSERT_EQUAL_FATAL(write_fixture(path, NFH_WRITER_CODEC_LZO, 7, "b"),
                        NFH_OK);
  nfh_flow *got;
  size_t n;
  nfh_file_info info;
  CU_ASSERT_EQUAL_FATAL(read_all(path, 0, &got, &n, &info), NFH_OK);
  CU_ASSERT_EQUAL(n, 7);
  CU_ASSERT_STRING_EQUAL(info.ident, "b");
  CU_ASSERT_EQUAL(info.codec, NFH_WRITER_CODEC_LZO);
  CU_ASSERT_EQUAL(dir_entries(), 1);
  free(got);
  unlink(path);
}

static void test_open_failures(void) {
  nfh_writer *w = (nfh_writer *)&w;
  CU_ASSERT_EQUAL(nfh_writer_open(scratch("no/such/dir.nf"), NULL, &w),
                  NFH_EIO);
  CU_ASSERT_PTR_NULL(w);
  nfh_writer_options o = {.codec = 5};
  CU_ASSERT_EQUAL(nfh_writer_open(scratch("x.nf"), &o, &w), NFH_EINVAL);
  CU_ASSERT_PTR_NULL(w);
  o.codec = -1;
  CU_ASSERT_EQUAL(nfh_writer_open(scratch("x.nf"), &o, &w), NFH_EINVAL);
  char ident[NFH_WRITER_IDENT_MAX + 2];
  memset(ident, 'x', sizeof(ident) - 1);
  ident[sizeof(ident) - 1] = '\0';
  o.codec = 0;
  o.ident = ident;
  CU_ASSERT_EQUAL(nfh_writer_open(scratch("x.nf"), &o, &w), NFH_EINVAL);
  ident[NFH_WRITER_IDENT_MAX] = '\0'; /* the longest allowed */
  CU_ASSERT_EQUAL_FATAL(nfh_writer_open(scratch("x.nf"), &o, &w), NFH_OK);
  CU_ASSERT_EQUAL(nfh_writer_close(w), NFH_OK);
  nfh_flow *got;
  size_t n;
  nfh_file_info info;
  CU_ASSERT_EQUAL(read_all(scratch("x.nf"), 0, &got, &n, &info), NFH_OK);
  CU_ASSERT_STRING_EQUAL(info.ident, ident);
  free(got);
  unlink(scratch("x.nf"));
  o.ident = NULL;
  o.reserved[0] = 1;
  CU_ASSERT_EQUAL(nfh_writer_open(scratch("x.nf"), &o, &w), NFH_EINVAL);
  CU_ASSERT_EQUAL(nfh_writer_open(NULL, NULL, &w), NFH_EINVAL);
  CU_ASSERT_EQUAL(dir_entries(), 0);

  int codec = -1;
  CU_ASSERT_EQUAL(nfh_writer_codec_parse("LZ4", &codec), NFH_OK);
  CU_ASSERT_EQUAL(codec, NFH_WRITER_CODEC_LZ4);
  CU_ASSERT_EQUAL(nfh_writer_codec_parse("zstd", &codec), NFH_OK);
  CU_ASSERT_EQUAL(codec, NFH_WRITER_CODEC_ZSTD);
  CU_ASSERT_EQUAL(nfh_writer_codec_parse("gzip", &codec), NFH_EINVAL);
  CU_ASSERT_EQUAL(codec, NFH_WRITER_CODEC_ZSTD);
}

/* Every allocation of open/write/close failing in turn: each failure is
 * NFH_ENOMEM, leaves no file and leaks nothing (valgrind/ASan check the
 * last part). */
static void test_out_of_memory(void) {
  const char *path = scratch("oom.nf");
  int completed = 0;
  for (long budget = 0; budget < 64 && !completed; budget++) {
    nfh__alloc_fail_after(budget);
    nfh_writer *w = NULL;
    nfh_writer_options o = {.codec = NFH_WRITER_CODEC_LZO};
    nfh_status st = nfh_writer_open(path, &o, &w);
    if (st == NFH_OK) {
      nfh_flow f[12];
      for (int i = 0; i < 12; i++)
        f[i] = fixture_flow((uint64_t)i);
      f[4].exporter_sysid = 9; /* announced from the flow */
      st = nfh_writer_write(w, f, 12);
      if (st == NFH_OK)
        st = nfh_writer_close(w);
      else
        nfh_writer_abort(w);
    }
    nfh__alloc_fail_after(-1);
    if (st == NFH_OK) {
      completed = 1;
    } else {
      CU_ASSERT_EQUAL(st, NFH_ENOMEM);
      CU_ASSERT_EQUAL(dir_entries(), 0);
    }
  }
  CU_ASSERT(completed);
  unlink(path);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 2;
  CU_pSuite s = CU_add_suite("writer", suite_init, suite_clean);
  if (!s ||
      !CU_add_test(s, "round trip, no compression", test_roundtrip_none) ||
      !CU_add_test(s, "round trip, LZO", test_roundtrip_lzo) ||
      !CU_add_test(s, "round trip, BZ2", test_roundtrip_bz2) ||
      !CU_add_test(s, "round trip, LZ4", test_roundtrip_lz4) ||
      !CU_add_test(s, "round trip, ZSTD", test_roundtrip_zstd) ||
      !CU_add_test(s, "round trip over several blocks",
                   test_roundtrip_blocks) ||
      !CU_add_test(s, "empty files", test_empty_file) ||
      !CU_add_test(s, "normalisation", test_normalisation) ||
      !CU_add_test(s, "exporters and samplers", test_exporters_samplers) ||
      !CU_add_test(s, "thousands of samplers", test_many_samplers) ||
      !CU_add_test(s, "abort leaves nothing", test_abort_leaves_nothing) ||
      !CU_add_test(s, "close replaces", test_replace) ||
      !CU_add_test(s, "open failures", test_open_failures) ||
      !CU_add_test(s, "out of memory", test_out_of_memory)) {
    CU_cleanup_registry();
    return 2;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failed = CU_get_number_of_failures() != 0;
  CU_cleanup_registry();
  return failed;
}
