/* test_engine.c - the plugin host: loading, ABI checks, failures, home
 * networks, allowlists, findings through the state, the JSON report. */
#include "config.h"

#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nfhunt/engine.h>
#include <nfhunt/report.h>

#include "../../plugin/report/evidence.h"
#include "testkit.h"

#define EXAMPLE NFH_TOP_BUILDDIR "/plugin/detect/example/.libs/example.so"
#define BADABI NFH_TOP_BUILDDIR "/tests/unit/plugins/.libs/badabi.so"
#define FAILING NFH_TOP_BUILDDIR "/tests/unit/plugins/.libs/failing.so"
#define CLOCK NFH_TOP_BUILDDIR "/tests/unit/plugins/.libs/clock.so"

static char dir[] = "/tmp/nfh_test_engine_XXXXXX";
static tk_log logs; /* the engine's log lines (tk_log_line) */

static nfh_engine *make(void) {
  nfh_engine_options o;
  memset(&o, 0, sizeof(o));
  o.log = tk_log_line;
  o.log_user = &logs;
  nfh_engine *e = NULL;
  logs.text[0] = '\0';
  CU_ASSERT_EQUAL(nfh_engine_create(&o, &e), NFH_OK);
  return e;
}

/* A telnet session from 10.0.0.5 to 10.9.9.9, both directions, and a
 * few web connections. */
static void feed(nfh_engine *e, uint64_t t0) {
  nfh_flow f[4];
  memset(f, 0, sizeof(f));
  for (int i = 0; i < 4; i++) {
    f[i].first_ms = t0 + (uint64_t)i * 10;
    f[i].last_ms = t0 + 30000;
    f[i].proto = 6;
    f[i].packets = 20;
    f[i].bytes = 2000;
    f[i].sampling = 1;
    f[i].aggr_flows = 1;
  }
  nfh_addr_parse("10.0.0.5", &f[0].src);
  nfh_addr_parse("10.9.9.9", &f[0].dst);
  f[0].src_port = 51000, f[0].dst_port = 23, f[0].tcp_flags = 0x1b;
  f[1].src = f[0].dst, f[1].dst = f[0].src;
  f[1].src_port = 23, f[1].dst_port = 51000, f[1].tcp_flags = 0x1b;
  nfh_addr_parse("10.0.0.6", &f[2].src);
  nfh_addr_parse("192.0.2.80", &f[2].dst);
  f[2].src_port = 51001, f[2].dst_port = 443, f[2].tcp_flags = 0x1b;
  f[3].src = f[2].dst, f[3].dst = f[2].src;
  f[3].src_port = 443, f[3].dst_port = 51001, f[3].tcp_flags = 0x1b;
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, 4), NFH_OK);
}

/* One flow record of 10.0.0.7 to 192.0.2.1 over [first, last]. */
static nfh_flow clock_flow(uint64_t first, uint64_t last) {
  nfh_flow f;
  memset(&f, 0, sizeof(f));
  f.first_ms = first;
  f.last_ms = last;
  f.proto = 17;
  f.packets = 1;
  f.bytes = 100;
  f.sampling = 1;
  f.aggr_flows = 1;
  f.src_port = 40000;
  f.dst_port = 53;
  nfh_addr_parse("10.0.0.7", &f.src);
  nfh_addr_parse("192.0.2.1", &f.dst);
  return f;
}

/* A started engine with the clock module alone. */
static nfh_engine *clock_engine(void) {
  nfh_engine *e = make();
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, CLOCK), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_start(e, NULL), NFH_OK);
  return e;
}

/* The clock module's evidence, a number by name. */
static uint64_t clock_says(nfh_engine *e, const char *name) {
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  json_t *ev = json_loads(r[0].f.evidence_json, 0, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
  uint64_t v = (uint64_t)json_integer_value(json_object_get(ev, name));
  json_decref(ev);
  return v;
}

/* Records whose counters no traffic has (a flipped high bit of a
 * damaged file: "72 PB" in two packets, or 2^56 packets of 1000 bytes,
 * in either direction of a two-way record) are left out and counted;
 * a side that counts bytes alone (NSEL) or packets alone, and the
 * largest packet, are kept. */
static void test_implausible_counters(void) {
  const uint64_t t0 = 1709294400000ull;
  nfh_engine *e = clock_engine();
  struct {
    uint64_t packets, bytes, out_packets, out_bytes;
    int kept;
  } cases[] = {
      {10, 5000, 0, 0, 1},          {2, 1ull << 57, 0, 0, 0},
      {1ull << 56, 1000, 0, 0, 0},  {3, 300, 1, 1000000000000ull, 0},
      {0, 5000, 0, 0, 1},           {5, 0, 0, 0, 1},
      {1, 65535, 0, 0, 1},          {3, 300, 2, 200, 1},
  };
  size_t n = sizeof(cases) / sizeof(cases[0]), kept = 0;
  nfh_flow f[8];
  for (size_t i = 0; i < n; i++) {
    f[i] = clock_flow(t0 + 1000 * i, t0 + 1000 * i + 500);
    f[i].src_port = (uint16_t)(41000 + i); /* a session each */
    f[i].packets = cases[i].packets;
    f[i].bytes = cases[i].bytes;
    f[i].out_packets = cases[i].out_packets;
    f[i].out_bytes = cases[i].out_bytes;
    if (f[i].out_packets)
      f[i].flags |= NFH_FLOW_HAS_OUT;
    kept += (size_t)cases[i].kept;
  }
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, n), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  const nfh_engine_stats *st = nfh_engine_get_stats(e);
  CU_ASSERT_EQUAL(st->flows, n);
  CU_ASSERT_EQUAL(st->implausible_flows, n - kept);
  CU_ASSERT_EQUAL(st->conns, kept);
  nfh_engine_destroy(e);
}

/* Two routers on one path export the same sessions: the detectors get
 * each record once, from whichever exporter gave it first, and the
 * duplicates are counted. One router's records of its own sessions are
 * all kept. */
static void test_two_exporters(void) {
  const uint64_t t0 = 1709294400000ull;
  nfh_engine *e = clock_engine();
  nfh_flow f[40];
  size_t n = 0;
  for (int r = 0; r < 2; r++) /* router A's file, then router B's */
    for (int i = 0; i < 10; i++) {
      nfh_flow g =
          clock_flow(t0 + 20000 * (uint64_t)i, t0 + 20000 * (uint64_t)i + 900);
      g.src_port = (uint16_t)(40000 + i);
      g.bytes = 100 + (uint64_t)i;
      nfh_addr_parse(r ? "192.0.2.254" : "192.0.2.253", &g.exporter);
      /* B's clock is 700 ms ahead of A's. */
      g.first_ms += r ? 700 : 0;
      g.last_ms += r ? 700 : 0;
      f[n++] = g;
      nfh_flow back = g;
      back.src = g.dst, back.dst = g.src;
      back.src_port = g.dst_port, back.dst_port = g.src_port;
      back.bytes = 300;
      f[n++] = back;
    }
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, n), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  const nfh_engine_stats *st = nfh_engine_get_stats(e);
  CU_ASSERT_EQUAL(st->flows, 40);
  CU_ASSERT_EQUAL(st->duplicate_flows, 20);
  CU_ASSERT_EQUAL(st->conns, 10);
  CU_ASSERT_EQUAL(clock_says(e, "flows"), 20);
  CU_ASSERT_EQUAL(clock_says(e, "bytes"), 1045 + 3000);
  nfh_engine_destroy(e);

  /* One exporter: the same records twice are two reports of its own
   * (nothing to tell them from a retransmitted export), all kept. */
  e = clock_engine();
  for (size_t i = 20; i < 40; i++)
    nfh_addr_parse("192.0.2.253", &f[i].exporter);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, n), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->duplicate_flows, 0);
  CU_ASSERT_EQUAL(clock_says(e, "flows"), 40);
  nfh_engine_destroy(e);
}

static void test_misdated_records(void) {
  const uint64_t t0 = 1709294400000ull; /* 2024-03-01 12:00 */
  nfh_engine *e = clock_engine();
  /* An exporter that lost its clock among good ones: a record of 1970,
   * one of 2100, one that ends before it starts, one open 54 years. */
  nfh_flow f[8];
  for (int i = 0; i < 8; i++)
    f[i] = clock_flow(t0 + 1000 * (uint64_t)i, t0 + 1000 * (uint64_t)i + 500);
  f[1] = clock_flow(1000, 2000);
  f[3] = clock_flow(4102444800000ull, 4102444800001ull);
  f[5] = clock_flow(t0 + 9000 + 2 * 86400000ull, t0 + 8000);
  f[7] = clock_flow(t0 + 7600, t0 + 7500); /* 100 ms: left as it is */
  f[6] = clock_flow(1000, t0 + 6500);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, 8), NFH_OK);
  /* The engine's input stays as it was given. */
  CU_ASSERT_EQUAL(f[1].last_ms, 2000);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  const nfh_engine_stats *st = nfh_engine_get_stats(e);
  CU_ASSERT_EQUAL(st->misdated_flows, 4);
  CU_ASSERT(st->first_ms >= t0 - 60000 && st->last_ms <= t0 + 60000);
  CU_ASSERT(clock_says(e, "first_ms") >= t0 - 60000);
  CU_ASSERT(clock_says(e, "last_ms") <= t0 + 60000);
  CU_ASSERT(clock_says(e, "window_start_ms") >= t0 - 60000);
  /* Only the slots of the minutes the data spans are passed. */
  CU_ASSERT(clock_says(e, "slot_ends") <= 3);
  nfh_engine_destroy(e);

  /* Good records of one batch are left as they are. */
  e = clock_engine();
  f[0] = clock_flow(t0 - 3600000, t0); /* an hour-long record */
  f[1] = clock_flow(t0 + 1000, t0 + 2000);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, 2), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->misdated_flows, 0);
  CU_ASSERT_EQUAL(clock_says(e, "first_ms"), t0 - 3600000);
  CU_ASSERT_EQUAL(clock_says(e, "last_ms"), t0 + 2000);
  nfh_engine_destroy(e);

  /* The broken exporter sends most of the batch: the good records keep
   * their times, the 1970 ones join them. */
  e = clock_engine();
  for (int i = 0; i < 8; i++) {
    uint64_t at = (i < 3 ? t0 : 0) + 1000 * (uint64_t)i;
    f[i] = clock_flow(at, at + 500);
  }
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, 8), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->misdated_flows, 5);
  CU_ASSERT_EQUAL(clock_says(e, "first_ms"), t0);
  CU_ASSERT_EQUAL(clock_says(e, "last_ms"), t0 + 2500);
  nfh_engine_destroy(e);

  /* A batch the broken exporter sent alone, after good ones: at the
   * run's data time. Before any good one it could not be told. */
  e = clock_engine();
  f[0] = clock_flow(t0, t0 + 500);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, 1), NFH_OK);
  for (int i = 0; i < 4; i++)
    f[i] = clock_flow(1000 * (uint64_t)i, 1000 * (uint64_t)i + 500);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, 4), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->misdated_flows, 4);
  CU_ASSERT_EQUAL(clock_says(e, "first_ms"), t0);
  CU_ASSERT_EQUAL(clock_says(e, "last_ms"), t0 + 500);
  nfh_engine_destroy(e);

  /* The same batch first in a run with a state (an hourly run whose
   * first file came from the clock-less exporter): at the time the
   * state's data ends, not 1970. */
  char spath[300];
  snprintf(spath, sizeof(spath), "%s/clock.state", dir);
  nfh_state *sst = NULL;
  const char *serr = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(spath, 5, &sst, &serr), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_begin(sst), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_u64(sst, "data_first_ms", t0 - 3600000),
                  NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_u64(sst, "data_last_ms", t0), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_commit(sst), NFH_OK);
  e = make();
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, CLOCK), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_start(e, sst), NFH_OK);
  for (int i = 0; i < 4; i++)
    f[i] = clock_flow(1000 * (uint64_t)i, 1000 * (uint64_t)i + 500);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, 4), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->misdated_flows, 4);
  /* Each keeps its length (500 ms), ending then. */
  CU_ASSERT_EQUAL(clock_says(e, "first_ms"), t0 - 500);
  CU_ASSERT_EQUAL(clock_says(e, "last_ms"), t0);
  nfh_engine_destroy(e);
  nfh_state_close(sst);

  /* Sparse traffic, a record every 12 hours for three days, in one
   * batch (a JSON flow file): one run of times; only the 1970 record
   * is misdated. */
  e = clock_engine();
  const uint64_t half_day = 12ull * 3600 * 1000;
  for (int i = 0; i < 7; i++)
    f[i] = clock_flow(t0 + (uint64_t)i * half_day,
                      t0 + (uint64_t)i * half_day + 500);
  f[7] = clock_flow(1000, 2000);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, 8), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->misdated_flows, 1);
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->misdated_latest_ms, 2000);
  CU_ASSERT_EQUAL(clock_says(e, "first_ms"), t0);
  CU_ASSERT_EQUAL(clock_says(e, "last_ms"), t0 + 6 * half_day + 500);
  nfh_engine_destroy(e);
}

/* A month without data (a collector down) between two batches: the
 * slots of the gap are not passed one by one. */
/* Records in start order (nfdump -O tstart -w): an hour-long record at
 * the top of the file must not end the slots the records after it start
 * in. In export order (by end) the slots end as the data goes. */
static void test_start_ordered_records(void) {
  uint64_t t0 = 1709510400000ull; /* 2024-03-04 00:00 UTC */
  nfh_flow f[121];
  f[0] = clock_flow(t0 + 60000, t0 + 58 * 60000);
  for (int i = 1; i <= 120; i++) {
    uint64_t at = t0 + 30000 * (uint64_t)i;
    f[i] = clock_flow(at, at + 1000);
  }
  nfh_engine *e = clock_engine();
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f, 1), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f + 1, 120), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(clock_says(e, "late"), 0);
  CU_ASSERT(clock_says(e, "slot_ends") >= 11);
  nfh_engine_destroy(e);

  /* By end time, one a batch: each slot ends about a minute after its
   * last record, before the next ones come; none late. */
  e = clock_engine();
  for (int i = 1; i <= 120; i++)
    CU_ASSERT_EQUAL(nfh_engine_add_flows(e, f + i, 1), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT(clock_says(e, "slot_ends") >= 12);
  CU_ASSERT_EQUAL(clock_says(e, "late"), 0);
  nfh_engine_destroy(e);
}

static void test_gap_in_data(void) {
  const uint64_t t0 = 1709294400000ull;
  const uint64_t month = 30ull * 24 * 3600 * 1000;
  nfh_engine *e = clock_engine();
  nfh_flow f = clock_flow(t0, t0 + 500);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, &f, 1), NFH_OK);
  f = clock_flow(t0 + 600000, t0 + 600500); /* ten minutes on: 2 slots */
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, &f, 1), NFH_OK);
  f = clock_flow(t0 + month, t0 + month + 500);
  CU_ASSERT_EQUAL(nfh_engine_add_flows(e, &f, 1), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->misdated_flows, 0);
  CU_ASSERT_EQUAL(clock_says(e, "last_ms"), t0 + month + 500);
  uint64_t ends = clock_says(e, "slot_ends");
  CU_ASSERT(ends >= 3 && ends <= 8);
  nfh_engine_destroy(e);
}

static void test_load_and_find(void) {
  nfh_engine *e = make();
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, EXAMPLE), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_plugin_count(e), 1);
  CU_ASSERT_STRING_EQUAL(nfh_engine_plugin(e, 0)->name, "example");
  /* Loading the same detector twice is refused. */
  CU_ASSERT_EQUAL(nfh_engine_load_module(e, EXAMPLE), NFH_EPLUGIN);
  CU_ASSERT_EQUAL(nfh_engine_start(e, NULL), NFH_OK);
  feed(e, 1700000000000ull);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_STRING_EQUAL(r[0].f.type, "cleartext_login");
  CU_ASSERT_EQUAL(r[0].f.dst_port, 23);
  CU_ASSERT_STRING_EQUAL(r[0].status, "new");
  CU_ASSERT_EQUAL(strlen(r[0].id), 32);
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->conns, 2);
  /* Without a state, the same flows give the same id in a later run
   * (they differed run to run: a SIEM saw a new finding each time). */
  char id[33];
  memcpy(id, r[0].id, sizeof(id));
  nfh_engine_destroy(e);
  usleep(2000);
  e = make();
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, EXAMPLE), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_start(e, NULL), NFH_OK);
  feed(e, 1700000000000ull);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  r = nfh_engine_findings(e, &n);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_STRING_EQUAL(r[0].id, id);
  nfh_engine_destroy(e);
}

static void test_bad_modules(void) {
  nfh_engine *e = make();
  CU_ASSERT_EQUAL(nfh_engine_load_module(e, BADABI), NFH_EABI);
  /* The message names both versions. */
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "ABI 99.0"));
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "speaks ABI 1."));
  CU_ASSERT_EQUAL(nfh_engine_load_module(e, "/nonexistent/x.so"),
                  NFH_EPLUGIN);
  CU_ASSERT_EQUAL(nfh_engine_plugin_count(e), 0);
  /* A failing detector is disabled; the others go on, and the engine
   * counts it (the host then keeps the state as it was). */
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, FAILING), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, EXAMPLE), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_start(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_failed_count(e), 0);
  feed(e, 1700000000000ull);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_failed_count(e), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "refusing input on purpose"));
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "disabled"));
  const nfh_plugin_info *fi = nfh_engine_plugin(e, 0);
  CU_ASSERT_EQUAL(fi->enabled, 0);
  size_t n;
  nfh_engine_findings(e, &n);
  CU_ASSERT_EQUAL(n, 1);
  nfh_engine_destroy(e);
}

/* A detector cut short (a copy interrupted, a disk full during an
 * upgrade) is refused with a reason; dlopen(3) of it would die of
 * SIGBUS mapping pages past the file's end. */
static void test_truncated_module(void) {
  FILE *in = fopen(EXAMPLE, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(in);
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof(buf), in);
  fclose(in);
  CU_ASSERT_FATAL(n > 8192);
  char path[512];
  snprintf(path, sizeof(path), "%s/cut.so", dir);
  size_t cuts[] = {64, 2000, n / 3};
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    FILE *out = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL(fwrite(buf, 1, cuts[i], out), cuts[i]);
    fclose(out);
    nfh_engine *e = make();
    CU_ASSERT_EQUAL(nfh_engine_load_module(e, path), NFH_EPLUGIN);
    CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "cannot load"));
    CU_ASSERT_EQUAL(nfh_engine_plugin_count(e), 0);
    nfh_engine_destroy(e);
  }
  /* From the plugin directory: named among the modules that did not
   * load (the host refuses a state that holds its memory). */
  nfh_engine_options o;
  memset(&o, 0, sizeof(o));
  o.log = tk_log_line;
  o.log_user = &logs;
  o.plugin_dir = dir;
  nfh_engine *e = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_engine_create(&o, &e), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_load_plugins(e), NFH_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(nfh_engine_unloaded(e, 0));
  CU_ASSERT_STRING_EQUAL(nfh_engine_unloaded(e, 0), "cut");
  CU_ASSERT_PTR_NULL(nfh_engine_unloaded(e, 1));
  nfh_engine_destroy(e);
  remove(path);
}

static void test_settings(void) {
  nfh_engine *e = make();
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, EXAMPLE), NFH_OK);
  nfh_engine_set(e, "example", "colour", "blue");
  nfh_engine_start(e, NULL);
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "unknown parameter 'colour'"));
  nfh_engine_destroy(e);

  /* Checked before the run: the same verdict, told by the caller (so
   * once), and a good setting leaves the detector to be started. */
  e = make();
  nfh_engine_load_module(e, EXAMPLE);
  nfh_engine_set(e, "example", "colour", "blue");
  logs.text[0] = '\0';
  CU_ASSERT_EQUAL(nfh_engine_check_settings(e), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 0);
  CU_ASSERT_PTR_NOT_NULL(nfh_engine_plugin(e, 0)->error);
  if (nfh_engine_plugin(e, 0)->error)
    CU_ASSERT_PTR_NOT_NULL(
        strstr(nfh_engine_plugin(e, 0)->error, "unknown parameter 'colour'"));
  CU_ASSERT_STRING_EQUAL(logs.text, "");
  nfh_engine_destroy(e);
  /* A disabled detector's mistake is found now, not the day it is
   * enabled again. */
  e = make();
  nfh_engine_load_module(e, EXAMPLE);
  nfh_engine_set(e, "example", "enabled", "no");
  nfh_engine_set(e, "example", "colour", "blue");
  CU_ASSERT_EQUAL(nfh_engine_check_settings(e), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 0);
  CU_ASSERT(nfh_engine_plugin(e, 0)->error &&
            strstr(nfh_engine_plugin(e, 0)->error, "create failed"));
  nfh_engine_destroy(e);
  e = make();
  nfh_engine_load_module(e, EXAMPLE);
  nfh_engine_set(e, "example", "severity", "high");
  CU_ASSERT_EQUAL(nfh_engine_check_settings(e), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 1);
  nfh_engine_start(e, NULL);
  feed(e, 1700000000000ull);
  nfh_engine_finish(e, NULL);
  size_t found;
  nfh_engine_findings(e, &found);
  CU_ASSERT(found > 0);
  nfh_engine_destroy(e);

  e = make();
  nfh_engine_load_module(e, EXAMPLE);
  nfh_engine_set(e, "example", "enabled", "no");
  nfh_engine_start(e, NULL);
  feed(e, 1700000000000ull);
  nfh_engine_finish(e, NULL);
  size_t n;
  nfh_engine_findings(e, &n);
  CU_ASSERT_EQUAL(n, 0);
  nfh_engine_destroy(e);
}

static void test_home_and_allow(void) {
  nfh_engine *e = make();
  nfh_addr a;
  nfh_addr_parse("172.20.1.1", &a);
  CU_ASSERT(nfh_engine_is_home(e, &a)); /* RFC 1918 default */
  nfh_addr_parse("fd12::1", &a);
  CU_ASSERT(nfh_engine_is_home(e, &a)); /* RFC 4193 default */
  CU_ASSERT_EQUAL(nfh_engine_add_home_net(e, "198.51.100.0/24"), NFH_OK);
  CU_ASSERT(nfh_engine_is_home(e, &(nfh_addr){0}) == 0);
  nfh_addr_parse("172.20.1.1", &a);
  CU_ASSERT(!nfh_engine_is_home(e, &a)); /* defaults replaced */
  nfh_addr_parse("198.51.100.77", &a);
  CU_ASSERT(nfh_engine_is_home(e, &a));
  CU_ASSERT_EQUAL(nfh_engine_add_home_net(e, "10.0.0.0/33"), NFH_ESYNTAX);
  CU_ASSERT_EQUAL(nfh_engine_add_home_net(e, "banana"), NFH_ESYNTAX);
  CU_ASSERT_EQUAL(nfh_engine_allow(e, "*", "10.0.0.0/8:99999"), NFH_ESYNTAX);
  CU_ASSERT_EQUAL(nfh_engine_allow(e, "*", "[2001:db8::/32]:443"), NFH_OK);
  nfh_engine_destroy(e);

  /* An allowlisted server silences the example detector. */
  e = make();
  nfh_engine_load_module(e, EXAMPLE);
  CU_ASSERT_EQUAL(nfh_engine_allow(e, "example", "10.9.9.0/24:23"), NFH_OK);
  nfh_engine_start(e, NULL);
  feed(e, 1700000000000ull);
  nfh_engine_finish(e, NULL);
  size_t n;
  nfh_engine_findings(e, &n);
  CU_ASSERT_EQUAL(n, 0);
  nfh_engine_destroy(e);
}

/* One run of the example detector over feed(t0) with the state at
 * 'path', the finding rated 'severity'; copies its report out. */
static void example_run(const char *path, uint64_t t0, const char *severity,
                        nfh_report_finding *out) {
  nfh_state *st;
  const char *err;
  memset(out, 0, sizeof(*out));
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 0, &st, &err), NFH_OK);
  nfh_engine *e = make();
  CU_ASSERT_EQUAL(nfh_engine_set(e, "example", "severity", severity), NFH_OK);
  nfh_engine_load_module(e, EXAMPLE);
  nfh_engine_start(e, st);
  feed(e, t0);
  CU_ASSERT_EQUAL(nfh_engine_finish(e, st), NFH_OK);
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  /* id, status (a static string) and times_seen outlive the engine; the
   * finding's own strings do not, and the callers leave them alone. */
  *out = r[0];
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_state_close(st);
  nfh_engine_destroy(e);
}

static void test_ongoing_across_runs(void) {
  char path[300];
  snprintf(path, sizeof(path), "%s/state", dir);
  nfh_report_finding r;
  example_run(path, 1700000000000ull, "low", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "new");
  char first_id[33];
  memcpy(first_id, r.id, sizeof(first_id));
  example_run(path, 1700000000000ull + 3600000, "low", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "ongoing");
  CU_ASSERT_STRING_EQUAL(r.id, first_id);
  CU_ASSERT_EQUAL(r.times_seen, 2);
}

static void test_escalated_and_recurred(void) {
  /* A finding that rises alerts again (cron with --syslog at medium must
   * hear of a beacon first reported low); one that stays or falls is
   * ongoing; one quiet for more than NFH_ENGINE_RECUR_MS of data time
   * that comes back is a new episode with a new id. */
  char path[300];
  snprintf(path, sizeof(path), "%s/state-escalate", dir);
  uint64_t t0 = 1700000000000ull, hour = 3600000ull;
  nfh_report_finding r;
  example_run(path, t0, "low", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "new");
  CU_ASSERT_EQUAL(r.f.score, 20); /* the example's 20 x severity */
  char id[33];
  memcpy(id, r.id, sizeof(id));
  example_run(path, t0 + hour, "high", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "escalated");
  /* Its 60, below high's range, moved to the range's start: the report
   * sorted by score lists every high above every medium. */
  CU_ASSERT_EQUAL(r.f.score, 75);
  CU_ASSERT_STRING_EQUAL(r.id, id);
  CU_ASSERT_EQUAL(r.times_seen, 2);
  /* Judged medium now: the episode keeps high, the severity it was
   * reported at (a borderline beacon re-judged every hour came and went
   * from reports filtered by severity); the detector's own is kept. */
  example_run(path, t0 + 2 * hour, "medium", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "ongoing");
  CU_ASSERT_EQUAL(r.f.severity, NFH_SEV_HIGH);
  CU_ASSERT_EQUAL(r.detector_severity, NFH_SEV_MEDIUM);
  CU_ASSERT_EQUAL(r.f.score, 75);
  /* Back to high: not higher than it was reported at before. */
  example_run(path, t0 + 3 * hour, "high", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "ongoing");
  CU_ASSERT_STRING_EQUAL(r.id, id);
  example_run(path, t0 + 3 * hour + NFH_ENGINE_RECUR_MS - 60000, "high", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "ongoing");
  /* Judged info now: the detector found what explains it (a load
   * balancer's health checks); that drop is kept (a first run's false
   * alarm stayed medium for good). */
  example_run(path, t0 + 3 * hour + NFH_ENGINE_RECUR_MS - 30000, "info", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "ongoing");
  CU_ASSERT_EQUAL(r.f.severity, NFH_SEV_INFO);
  example_run(path, t0 + 4 * hour + 2 * NFH_ENGINE_RECUR_MS, "medium", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "recurred");
  CU_ASSERT_EQUAL(r.f.severity, NFH_SEV_MEDIUM); /* a new episode */
  CU_ASSERT_STRING_NOT_EQUAL(r.id, id);
  CU_ASSERT_EQUAL(r.times_seen, 7);
  memcpy(id, r.id, sizeof(id));
  example_run(path, t0 + 5 * hour + 2 * NFH_ENGINE_RECUR_MS, "medium", &r);
  CU_ASSERT_STRING_EQUAL(r.status, "ongoing");
  CU_ASSERT_STRING_EQUAL(r.id, id);
}

static void test_report_json(void) {
  nfh_engine *e = make();
  nfh_engine_load_module(e, EXAMPLE);
  nfh_engine_start(e, NULL);
  feed(e, 1700000000000ull);
  nfh_engine_finish(e, NULL);
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  nfh_report_inputs in;
  memset(&in, 0, sizeof(in));
  in.files = 1, in.flows = 4, in.generated_ms = 1700000100000ull;
  in.window_start_ms = 1700000000000ull, in.window_end_ms = 1700000030000ull;
  char path[300];
  snprintf(path, sizeof(path), "%s/report.json", dir);
  const char *err;
  CU_ASSERT_EQUAL_FATAL(
      nfh_report_write_json(path, r, n, NFH_SEV_INFO, &in, &err), NFH_OK);
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);
  CU_ASSERT_PTR_NOT_NULL_FATAL(root);
  static const char *const top[] = {"tool",    "version", "generated",
                                    "window",  "inputs",  "summary",
                                    "findings"};
  for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
    CU_ASSERT_PTR_NOT_NULL(json_object_get(root, top[i]));
  CU_ASSERT_STRING_EQUAL(
      json_string_value(json_object_get(root, "generated")),
      "2023-11-14T22:15:00.000Z");
  json_t *f = json_array_get(json_object_get(root, "findings"), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  static const char *const keys[] = {
      "id",        "type",      "severity",   "score", "src",
      "dst",       "dst_port",  "proto",      "first_seen",
      "last_seen", "confidence", "mitre",     "summary", "evidence",
      "related"};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
    CU_ASSERT_PTR_NOT_NULL(json_object_get(f, keys[i]));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "src")),
                         "10.0.0.5");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "proto")),
                         "tcp");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "severity")),
                         "low");
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(
                      json_object_get(f, "evidence"), "sessions")),
                  1);
  CU_ASSERT(json_is_array(json_object_get(f, "mitre")));
  json_decref(root);
  /* An unwritable target leaves nothing behind and says why. */
  CU_ASSERT_EQUAL(nfh_report_write_json("/nonexistent/dir/r.json", r, n,
                                        NFH_SEV_INFO, &in, &err),
                  NFH_EIO);
  CU_ASSERT(strlen(err) > 0);

  /* A FIFO (as a device such as /dev/null) is written through: a rename
   * over it would replace the node. */
  snprintf(path, sizeof(path), "%s/report.fifo", dir);
  CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
  int rd = open(path, O_RDONLY | O_NONBLOCK);
  CU_ASSERT_FATAL(rd >= 0);
  CU_ASSERT_EQUAL(nfh_report_write_json(path, r, n, NFH_SEV_INFO, &in, &err),
                  NFH_OK);
  struct stat sb;
  CU_ASSERT(lstat(path, &sb) == 0 && S_ISFIFO(sb.st_mode));
  static char text[65536];
  ssize_t got = read(rd, text, sizeof(text) - 1);
  CU_ASSERT(got > 0 && text[0] == '{');
  close(rd);

  /* A pipe reached through a link (/dev/stdout of a cron job or a
   * systemd unit is /proc/self/fd/1, a link to "pipe:[N]"): written
   * through by its name; resolving the link found no file. */
  int pfd[2];
  CU_ASSERT_FATAL(pipe(pfd) == 0);
  char via[64];
  snprintf(via, sizeof(via), "/proc/self/fd/%d", pfd[1]);
  CU_ASSERT_EQUAL(nfh_report_write_json(via, r, n, NFH_SEV_INFO, &in, &err),
                  NFH_OK);
  close(pfd[1]);
  got = read(pfd[0], text, sizeof(text) - 1);
  CU_ASSERT(got > 0 && text[0] == '{');
  close(pfd[0]);

  /* A symbolic link stays; its target gets the report, created if need
   * be. */
  char target[512];
  snprintf(target, sizeof(target), "%s/target.json", dir);
  snprintf(path, sizeof(path), "%s/link.json", dir);
  CU_ASSERT_EQUAL_FATAL(symlink("target.json", path), 0);
  CU_ASSERT_EQUAL(nfh_report_write_json(path, r, n, NFH_SEV_INFO, &in, &err),
                  NFH_OK);
  CU_ASSERT(lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode));
  CU_ASSERT(stat(target, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0);
  nfh_engine_destroy(e);
}

/* A hand-made finding for the report tests. */
static nfh_report_finding report_finding(const char *id, const char *type,
                                         const char *src, const char *dst,
                                         nfh_severity sev) {
  nfh_report_finding r;
  memset(&r, 0, sizeof(r));
  snprintf(r.id, sizeof(r.id), "%s", id);
  r.status = "new";
  r.times_seen = 1;
  r.f.type = type;
  r.f.key = id;
  r.f.summary = type;
  r.f.severity = sev;
  r.f.dst_port = -1;
  r.f.proto = -1;
  if (src)
    r.f.src = tk_ip(src);
  if (dst)
    r.f.dst = tk_ip(dst);
  return r;
}

/* The ids of the "related" list of each line of an NDJSON report, as
 * "id:id,id;id:;" in report order. */
static void related_ids(const char *ndjson, char *out, size_t len) {
  out[0] = 0;
  const char *line = ndjson;
  while (*line) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    json_t *o = json_loadb(line, n, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    size_t used = strlen(out);
    used += (size_t)snprintf(out + used, len - used, "%s:",
                             json_string_value(json_object_get(o, "id")));
    json_t *rel = json_object_get(o, "related");
    CU_ASSERT_FATAL(json_is_array(rel));
    for (size_t i = 0; i < json_array_size(rel); i++)
      used += (size_t)snprintf(
          out + used, len - used, "%s%s", i ? "," : "",
          json_string_value(json_object_get(json_array_get(rel, i), "id")));
    snprintf(out + used, len - used, ";");
    json_decref(o);
    line += n + (end ? 1 : 0);
  }
}

/* Findings about the same source and destination (a beacon and an
 * exfiltration of one chunked upload) name each other; among those
 * without a destination, the same source does. Only findings the
 * report shows take part. */
static void test_report_related(void) {
  nfh_report_finding fs[5] = {
      report_finding("b", "beaconing", "10.0.0.5", "203.0.113.9",
                     NFH_SEV_HIGH),
      report_finding("x", "exfiltration", "10.0.0.5", "203.0.113.9",
                     NFH_SEV_MEDIUM),
      report_finding("s", "port_scan", "10.0.0.5", NULL, NFH_SEV_LOW),
      report_finding("v", "volumetric", "10.0.0.5", "203.0.113.8",
                     NFH_SEV_MEDIUM),
      report_finding("t", "port_scan", "10.0.0.5", NULL, NFH_SEV_INFO)};
  char *buf = NULL, ids[256];
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  CU_ASSERT_FATAL(mem != NULL);
  CU_ASSERT_EQUAL(nfh_report_print_ndjson(mem, fs, 5, NFH_SEV_INFO), NFH_OK);
  fclose(mem);
  related_ids(buf, ids, sizeof(ids));
  CU_ASSERT_STRING_EQUAL(ids, "b:x;x:b;s:t;v:;t:s;");
  free(buf);

  mem = open_memstream(&buf, &len);
  CU_ASSERT_EQUAL(nfh_report_print_ndjson(mem, fs, 5, NFH_SEV_LOW), NFH_OK);
  fclose(mem);
  related_ids(buf, ids, sizeof(ids));
  CU_ASSERT_STRING_EQUAL(ids, "b:x;x:b;s:;v:;");
  free(buf);

  nfh_report_inputs in;
  memset(&in, 0, sizeof(in));
  mem = open_memstream(&buf, &len);
  CU_ASSERT_EQUAL(nfh_report_print_text(mem, fs, 5, NFH_SEV_LOW, &in, 0),
                  NFH_OK);
  fclose(mem);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "same hosts: 2 (exfiltration, medium)"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "same hosts: 1 (beaconing, high)"));
  /* Four shown findings, two of them related. */
  char *p = buf;
  int lines = 0;
  while ((p = strstr(p, "same hosts:")) != NULL)
    lines++, p++;
  CU_ASSERT_EQUAL(lines, 2);
  free(buf);

  /* Files that failed: those read in part are among the files read, and
   * said apart ("6 files (6 files unreadable)" was read as 12 files). */
  static const struct {
    uint64_t files, failed, partly;
    const char *want;
  } cases[] = {{6, 6, 1,
                ": 6 files, 0 flows, 0 connections (1 of them read in "
                "part; 5 more files unreadable)\n"},
               {6, 5, 0,
                ": 6 files, 0 flows, 0 connections (5 more files "
                "unreadable)\n"},
               {6, 1, 1,
                ": 6 files, 0 flows, 0 connections (1 of them read in "
                "part)\n"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    in.files = cases[i].files;
    in.files_failed = cases[i].failed;
    in.files_partly = cases[i].partly;
    mem = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(nfh_report_print_text(mem, fs, 5, NFH_SEV_LOW, &in, 0),
                    NFH_OK);
    fclose(mem);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, cases[i].want));
    free(buf);
  }
}

/* Evidence with a counter beyond 64 bits signed (a u64 a detector
 * printed, grown so by a corrupt file) is still evidence: read with its
 * integers as reals, where jansson alone refuses the text. */
static void test_evidence_big_integer(void) {
  json_error_t err;
  json_t *j = nfh__evidence_parse(
      "{\"bytes\": 18446744073709551615, \"n\": 3}", &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  CU_ASSERT(json_is_object(j));
  CU_ASSERT(json_real_value(json_object_get(j, "bytes")) > 1.8e19);
  CU_ASSERT(json_number_value(json_object_get(j, "n")) == 3);
  json_decref(j);
  /* Ordinary evidence keeps its integers. */
  j = nfh__evidence_parse("{\"n\": 3}", &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  CU_ASSERT(json_is_integer(json_object_get(j, "n")));
  json_decref(j);
  /* What is not JSON stays refused. */
  CU_ASSERT_PTR_NULL(nfh__evidence_parse("{\"n\": }", &err));
}

static int setup(void) { return mkdtemp(dir) ? 0 : -1; }

static int teardown(void) { return tk_remove_tree(dir); }

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("engine", setup, teardown);
  CU_add_test(s, "load a module and find", test_load_and_find);
  CU_add_test(s, "evidence with a 64-bit counter", test_evidence_big_integer);
  CU_add_test(s, "bad and failing modules", test_bad_modules);
  CU_add_test(s, "records in start order", test_start_ordered_records);
  CU_add_test(s, "a module cut short", test_truncated_module);
  CU_add_test(s, "settings", test_settings);
  CU_add_test(s, "home networks and allowlist", test_home_and_allow);
  CU_add_test(s, "ongoing across runs", test_ongoing_across_runs);
  CU_add_test(s, "escalated and recurred", test_escalated_and_recurred);
  CU_add_test(s, "JSON report", test_report_json);
  CU_add_test(s, "related findings in the report", test_report_related);
  CU_add_test(s, "misdated records", test_misdated_records);
  CU_add_test(s, "two exporters on one path", test_two_exporters);
  CU_add_test(s, "implausible counters", test_implausible_counters);
  CU_add_test(s, "a month without data", test_gap_in_data);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
