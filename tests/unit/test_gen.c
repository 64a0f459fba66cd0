/*
 * test_gen.c - CUnit tests of nfhunt-gen's modules (tools/gen/).
 *
 * The generator is only useful if its output is reproducible and its
 * ground truth is right, so the tests check: the same seed gives the
 * same records and another seed other records; every record is counted
 * for exactly one label; a long session is cut by the exporter's
 * timeouts into records with the same 5-tuple whose counters add up;
 * sampling keeps the expected share of records and its scaled counters
 * estimate the originals; and the small parsers and address functions
 * do what their headers say.
 */
#include "config.h"

#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tools/gen/background.h"
#include "../../tools/gen/engine.h"
#include "../../tools/gen/inject.h"
#include "../../tools/gen/labels.h"
#include "../../tools/gen/net.h"
#include "../../tools/gen/param.h"
#include "../../tools/gen/rng.h"
#include "../../tools/gen/sample.h"
#include "../../tools/gen/session.h"
#include "../../tools/gen/tree.h"

/* 2024-03-04 08:00 UTC, a Monday morning: traffic is busy. */
#define T0 1709539200000ULL

/* ------------------------------------------------------- a test sink */

typedef struct collect {
  uint64_t hash;       /* of every record, in order */
  uint64_t records;
  uint64_t *per_label; /* records per label */
  uint32_t nlabels;
  uint64_t packets;    /* scaled by 'scale' */
  uint32_t scale;
  int order_ok;        /* records in export order within each slot */
  size_t reordered;    /* records sent before one that ended earlier */
  int in_slot;         /* every record ends before its slot does */
} collect;

static uint64_t mix(uint64_t h, uint64_t v) {
  return gen_hash64(h ^ v) + 0x9E37;
}

static nfh_status collect_slot(void *ctx, uint64_t t0, uint64_t t1,
                               const gen_rec *r, size_t n) {
  collect *c = ctx;
  (void)t0;
  for (size_t i = 0; i < n; i++) {
    uint64_t h = c->hash;
    h = mix(h, r[i].first_ms);
    h = mix(h, r[i].last_ms);
    h = mix(h, r[i].packets);
    h = mix(h, r[i].bytes);
    h = mix(h, (uint64_t)r[i].src_port << 16 | r[i].dst_port);
    h = mix(h, (uint64_t)r[i].proto << 8 | r[i].tcp_flags);
    for (int k = 0; k < 16; k += 8) {
      uint64_t a, b;
      memcpy(&a, r[i].src.bytes + k, 8);
      memcpy(&b, r[i].dst.bytes + k, 8);
      h = mix(mix(h, a), b);
    }
    c->hash = h;
    c->records++;
    c->packets += r[i].packets * c->scale;
    if (r[i].activity < c->nlabels)
      c->per_label[r[i].activity]++;
    /* Export order: by end time, but a record without FIN or RST waits
     * out the inactive timeout (15 s) and up to 0.4 s of jitter. */
    if (i && r[i].last_ms + 15400 < r[i - 1].last_ms)
      c->order_ok = 0;
    if (i && r[i].last_ms < r[i - 1].last_ms)
      c->reordered++;
    if (r[i].last_ms >= t1)
      c->in_slot = 0;
  }
  return NFH_OK;
}

/* Whether run_scenario uses the engine's writer thread. */
static int use_thread;

typedef struct run_result {
  collect c;
  gen_labels *labels;
  size_t injected;
} run_result;

/* Generates 'minutes' of the default scenario (small organisation) and
 * collects it. The caller frees r->labels and r->c.per_label. */
static void run_scenario(uint64_t seed, int minutes, uint32_t sampling,
                         const char *const *specs, run_result *r) {
  memset(r, 0, sizeof(*r));
  gen_net net;
  gen_net_defaults(&net);
  net.n_users = 60;
  net.salt = gen_hash64(seed);
  CU_ASSERT_EQUAL_FATAL(gen_labels_create(&r->labels), NFH_OK);
  gen_engine_options eo;
  memset(&eo, 0, sizeof(eo));
  eo.start_ms = T0;
  eo.end_ms = T0 + (uint64_t)minutes * 60000;
  eo.slot_ms = 300000;
  eo.timeouts.active_ms = 60000;
  eo.timeouts.inactive_ms = 15000;
  eo.sampling = sampling;
  eo.seed = seed;
  eo.threaded = use_thread;
  gen_engine *e;
  CU_ASSERT_EQUAL_FATAL(gen_engine_create(&eo, r->labels, &e), NFH_OK);
  gen_world w = {&net, r->labels, e, eo.timeouts, seed, eo.start_ms,
                 eo.end_ms};
  gen_inject *inj;
  CU_ASSERT_EQUAL_FATAL(gen_inject_create(&w, &inj), NFH_OK);
  char why[256] = "";
  if (specs) {
    for (int i = 0; specs[i]; i++)
      CU_ASSERT_EQUAL(gen_inject_add(inj, specs[i], why, sizeof(why)),
                      NFH_OK);
  } else {
    CU_ASSERT_EQUAL(gen_inject_defaults(inj), NFH_OK);
  }
  r->injected = gen_inject_count(inj);
  gen_bg_params p;
  gen_bg_params_defaults(&p);
  gen_bg *bg;
  CU_ASSERT_EQUAL_FATAL(gen_bg_create(&w, &p, &bg), NFH_OK);
  r->c.nlabels = gen_labels_count(r->labels);
  r->c.per_label = calloc(r->c.nlabels, sizeof(uint64_t));
  r->c.scale = sampling ? sampling : 1;
  r->c.order_ok = r->c.in_slot = 1;
  gen_sink sink = {&r->c, collect_slot, NULL};
  for (uint64_t t = eo.start_ms; t < eo.end_ms; t += eo.slot_ms) {
    CU_ASSERT_EQUAL_FATAL(gen_engine_begin_slot(e, t, t + eo.slot_ms),
                          NFH_OK);
    CU_ASSERT_EQUAL_FATAL(gen_inject_slot(inj, t, t + eo.slot_ms), NFH_OK);
    CU_ASSERT_EQUAL_FATAL(gen_bg_slot(bg, t, t + eo.slot_ms), NFH_OK);
    CU_ASSERT_EQUAL_FATAL(gen_engine_end_slot(e, &sink), NFH_OK);
  }
  CU_ASSERT_EQUAL(gen_engine_flush(e), NFH_OK);
  gen_bg_destroy(bg);
  gen_inject_destroy(inj);
  gen_engine_destroy(e);
}

static void free_result(run_result *r) {
  gen_labels_destroy(r->labels);
  free(r->c.per_label);
}

/* ---------------------------------------------------------------- tests */

static void test_determinism(void) {
  run_result a, b, c;
  run_scenario(42, 60, 1, NULL, &a);
  run_scenario(42, 60, 1, NULL, &b);
  run_scenario(43, 60, 1, NULL, &c);
  /* The writer thread changes when the sink runs, not what it gets. */
  run_result d;
  use_thread = 1;
  run_scenario(42, 60, 1, NULL, &d);
  use_thread = 0;
  CU_ASSERT_EQUAL(a.c.hash, d.c.hash);
  CU_ASSERT_EQUAL(a.c.records, d.c.records);
  free_result(&d);
  CU_ASSERT(a.c.records > 1000);
  CU_ASSERT_EQUAL(a.c.records, b.c.records);
  CU_ASSERT_EQUAL(a.c.hash, b.c.hash);
  CU_ASSERT_NOT_EQUAL(a.c.hash, c.c.hash);
  CU_ASSERT(a.c.order_ok);
  CU_ASSERT(a.c.reordered > 0);
  CU_ASSERT(a.c.in_slot);
  free_result(&a);
  free_result(&b);
  free_result(&c);
}

/* Every record counts for its label, and every injected activity that
 * fits into the run contributes records. */
static void test_label_counts(void) {
  static const char *const specs[] = {
      "hscan:at=5m,targets=50,speed=fast,duration=3m",
      "vscan:at=10m,ports=100,duration=2m",
      "beacon:at=0,period=60,jitter=0,missed=0,duration=50m",
      "exfil:at=20m,size=1G,streams=2,duration=10m",
      "flood_in:at=30m,sources=20,conns=1,pps=1000,duration=2m",
      "dns_tunnel:at=40m,rate=2,bytes_out=200,bytes_in=300,duration=10m",
      "flood_in:at=50m,variant=http,sources=2,rate=50,duration=2m",
      "flood_in:at=54m,variant=slowloris,conns=100,duration=4m",
      "c2_session:at=1m,port=6667,bytes_out=1200,bytes_in=2400,duration=50m",
      NULL};
  run_result r;
  run_scenario(7, 60, 1, specs, &r);
  CU_ASSERT_EQUAL(r.injected, 9);
  gen_label_counts *lc = gen_labels_counts(r.labels);
  uint64_t total = 0;
  for (uint32_t i = 0; i < r.c.nlabels; i++) {
    CU_ASSERT_EQUAL(lc[i].flows, r.c.per_label[i]);
    total += lc[i].flows;
  }
  CU_ASSERT_EQUAL(total, r.c.records);
  for (uint32_t i = 0; i < 9; i++)
    CU_ASSERT(lc[i].flows > 0);
  /* hscan: one probe per target; every probe has a request record. */
  CU_ASSERT(lc[0].flows >= 50 && lc[0].flows <= 100);
  /* The beacon, 60 s period without jitter for 50 minutes: 50 beats
   * (the 51st ends at the cut), two records each. */
  CU_ASSERT(lc[2].flows >= 98 && lc[2].flows <= 102);
  /* The exfiltration: 2 streams of 10 minutes, cut every 60 s, both
   * directions: about 2 * 10 * 2 records. */
  CU_ASSERT(lc[3].flows >= 36 && lc[3].flows <= 44);
  /* Its bytes are the size asked for, plus headers. */
  CU_ASSERT(lc[3].bytes >= 1000000000ULL && lc[3].bytes < 1100000000ULL);
  /* The DNS tunnel: 2 queries a second for 10 minutes, each a query
   * record and an answer record; 200-byte queries and 300-byte answers,
   * each within 30% of that. */
  CU_ASSERT_EQUAL(lc[5].flows, 2400);
  CU_ASSERT(lc[5].bytes >= 1200 * 500 * 85 / 100 &&
            lc[5].bytes <= 1200 * 500 * 115 / 100);
  json_t *t = gen_labels_object(r.labels, 5);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "kind")),
                         "dns_tunnel");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(t, "detector")),
                         "exfiltration");
  /* The HTTP flood: 50 completed sessions a second for 2 minutes, a
   * record each way. */
  CU_ASSERT_EQUAL(lc[6].flows, 12000);
  json_t *h = gen_labels_object(r.labels, 6);
  CU_ASSERT_STRING_EQUAL(
      json_string_value(json_object_get(json_object_get(h, "params"),
                                        "variant")),
      "http");
  /* The slowloris: 100 sockets, each holding a connection for 20 s to
   * 2 min and then the next, for 4 minutes: at least two connections a
   * socket, a record each way; small, as header lines and ACKs are. */
  json_t *sl = json_object_get(gen_labels_object(r.labels, 7), "params");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(sl, "variant")),
                         "slowloris");
  CU_ASSERT_EQUAL(json_integer_value(json_object_get(sl, "sockets")), 100);
  double hold = json_number_value(json_object_get(sl, "hold_s"));
  CU_ASSERT(hold >= 20 && hold <= 120);
  uint64_t conns = 100 * (uint64_t)(240 / hold);
  CU_ASSERT(lc[7].flows >= 2 * conns && lc[7].flows <= 2 * 3 * conns);
  CU_ASSERT(lc[7].bytes < conns * 2000);
  /* The C2 session: 50 minutes of one connection to port 6667, cut
   * every 60 s, both ways: about 100 records; 1,200 and 2,400 bytes a
   * minute. */
  CU_ASSERT(lc[8].flows >= 98 && lc[8].flows <= 104);
  CU_ASSERT(lc[8].bytes >= 51 * 3600 * 95 / 100 &&
            lc[8].bytes <= 51 * 3600 * 105 / 100);
  CU_ASSERT_STRING_EQUAL(
      json_string_value(json_object_get(gen_labels_object(r.labels, 8),
                                        "detector")),
      "beaconing");
  json_t *o = gen_labels_object(r.labels, 2);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "kind")),
                         "beacon");
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "detector")),
                         "beaconing");
  free_result(&r);
}

/* A campaign: three bots (c2=shared) call one server with one implant's
 * configuration (period, port, sizes), each from its own host; two
 * beacons without it call servers of their own. */
static void test_campaign(void) {
  static const char *const specs[] = {
      "beacon:count=3,c2=shared,period=60-600,jitter=10,duration=50m",
      "beacon:count=2,period=60-600,duration=50m", NULL};
  run_result r;
  run_scenario(11, 60, 1, specs, &r);
  CU_ASSERT_EQUAL_FATAL(r.injected, 5);
  json_t *first = gen_labels_object(r.labels, 0);
  json_t *fp = json_object_get(first, "params");
  const char *c2 = json_string_value(
      json_array_get(json_object_get(first, "dst"), 0));
  CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(fp, "c2")),
                         "shared");
  for (size_t i = 1; i < 3; i++) {
    json_t *o = gen_labels_object(r.labels, i);
    json_t *op = json_object_get(o, "params");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_array_get(json_object_get(o, "dst"), 0)), c2);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(op, "period_s")),
                           json_number_value(json_object_get(fp, "period_s")),
                           1e-9);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(op, "port")),
                    json_integer_value(json_object_get(fp, "port")));
    CU_ASSERT_STRING_NOT_EQUAL(
        json_string_value(json_array_get(json_object_get(o, "src"), 0)),
        json_string_value(json_array_get(json_object_get(first, "src"), 0)));
  }
  for (size_t i = 3; i < 5; i++) {
    json_t *o = gen_labels_object(r.labels, i);
    CU_ASSERT_STRING_NOT_EQUAL(
        json_string_value(json_array_get(json_object_get(o, "dst"), 0)), c2);
    CU_ASSERT_PTR_NULL(json_object_get(json_object_get(o, "params"), "c2"));
  }
  free_result(&r);
}

/* A 10-minute interactive session without idle gaps: ten request and ten
 * response records, same 5-tuple, adding up to the session. */
static void test_timeout_split(void) {
  gen_session s;
  nfh_addr c, srv;
  nfh_addr_parse("10.0.0.5", &c);
  nfh_addr_parse("203.0.113.9", &srv);
  gen_session_init(&s, &c, 50123, &srv, 22, 6, GEN_TCP_OK, T0, 1);
  s.duration_ms = 600000;
  s.fwd_packets = 6000;
  s.fwd_bytes = 600000;
  s.rev_packets = 9000;
  s.rev_bytes = 4500000;
  s.rtt_ms = 30;
  gen_rng rng;
  gen_rng_seed(&rng, 1, 2);
  gen_session_start(&s, &rng);
  gen_timeouts t = {60000, 15000};
  gen_rec out[2];
  int steps = 0, n;
  uint64_t fp = 0, fb = 0, rp = 0, rb = 0, prev_last = 0;
  uint8_t first_flags = 0, last_flags = 0, rev_first = 0, rev_last = 0;
  while ((n = gen_session_next(&s, &t, out)) > 0) {
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(out[0].src_port, 50123);
    CU_ASSERT_EQUAL(out[0].dst_port, 22);
    CU_ASSERT_EQUAL(out[1].src_port, 22);
    CU_ASSERT_EQUAL(out[1].dst_port, 50123);
    CU_ASSERT(nfh_addr_compare(&out[0].src, &c) == 0);
    CU_ASSERT(nfh_addr_compare(&out[1].src, &srv) == 0);
    CU_ASSERT(out[0].last_ms - out[0].first_ms < 60000);
    CU_ASSERT(out[0].first_ms > prev_last || steps == 0);
    prev_last = out[0].last_ms;
    fp += out[0].packets;
    fb += out[0].bytes;
    rp += out[1].packets;
    rb += out[1].bytes;
    if (steps == 0) {
      first_flags = out[0].tcp_flags;
      rev_first = out[1].tcp_flags;
    }
    last_flags = out[0].tcp_flags;
    rev_last = out[1].tcp_flags;
    steps++;
  }
  CU_ASSERT_EQUAL(steps, 10);
  CU_ASSERT_EQUAL(fp, 6000);
  CU_ASSERT_EQUAL(fb, 600000);
  CU_ASSERT_EQUAL(rp, 9000);
  CU_ASSERT_EQUAL(rb, 4500000);
  CU_ASSERT(first_flags & 0x02);   /* SYN on the first */
  CU_ASSERT(!(first_flags & 0x01)); /* no FIN yet */
  CU_ASSERT(last_flags & 0x01);    /* FIN on the last */
  CU_ASSERT(!(last_flags & 0x02));
  CU_ASSERT_EQUAL(rev_first & 0x12, 0x12); /* SYN-ACK */
  CU_ASSERT(rev_last & 0x01);

  /* With idle gaps (an interactive session), more records, and the gaps
   * between consecutive records exceed the inactive timeout at least
   * once. */
  gen_session_init(&s, &c, 50124, &srv, 22, 6, GEN_TCP_OK, T0, 1);
  s.duration_ms = 600000;
  s.fwd_packets = 3000;
  s.rev_packets = 3000;
  s.idle_mean_ms = 30000;
  gen_session_start(&s, &rng);
  steps = 0;
  prev_last = 0;
  int long_gap = 0;
  while ((n = gen_session_next(&s, &t, out)) > 0) {
    if (steps && out[0].first_ms - prev_last > 15000)
      long_gap = 1;
    CU_ASSERT(out[0].last_ms <= T0 + 600000);
    prev_last = out[0].last_ms;
    steps++;
  }
  CU_ASSERT(steps > 10);
  CU_ASSERT(long_gap);

  /* Fewer packets than records: every record still has a packet and
   * at least a header's bytes per packet. */
  gen_session_init(&s, &c, 50125, &srv, 22, 6, GEN_TCP_OK, T0, 1);
  s.duration_ms = 600000;
  s.fwd_packets = 3;
  s.rev_packets = 2;
  gen_session_start(&s, &rng);
  steps = 0;
  while ((n = gen_session_next(&s, &t, out)) > 0) {
    for (int k = 0; k < n; k++) {
      CU_ASSERT(out[k].packets >= 1);
      CU_ASSERT(out[k].bytes >= out[k].packets * 40);
    }
    steps++;
  }
  CU_ASSERT_EQUAL(steps, 10);

  /* Failed connections: one record each way at most, the right flags. */
  static const struct {
    gen_outcome o;
    int n;
    uint8_t f0, f1;
  } cases[] = {{GEN_TCP_NOREPLY, 1, 0x02, 0},
               {GEN_TCP_REFUSED, 2, 0x02, 0x14},
               {GEN_TCP_OPEN_PROBE, 2, 0x06, 0x12},
               {GEN_TCP_UNREACH, 2, 0x02, 0}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    gen_session_init(&s, &c, 40000, &srv, 445, 6, cases[i].o, T0, 1);
    gen_session_start(&s, &rng);
    n = gen_session_next(&s, &t, out);
    CU_ASSERT_EQUAL(n, cases[i].n);
    CU_ASSERT_EQUAL(out[0].tcp_flags, cases[i].f0);
    if (n == 2 && cases[i].o != GEN_TCP_UNREACH)
      CU_ASSERT_EQUAL(out[1].tcp_flags, cases[i].f1);
    if (cases[i].o == GEN_TCP_UNREACH) {
      CU_ASSERT_EQUAL(out[1].proto, 1);
      CU_ASSERT_EQUAL(out[1].dst_port, 3 << 8 | 13);
    }
    CU_ASSERT_EQUAL(gen_session_next(&s, &t, out), 0);
  }
}

static void test_sampling(void) {
  gen_rng rng;
  gen_rng_seed(&rng, 99, 1);
  const uint32_t N = 10;
  /* One-packet records survive one time in N. */
  int kept = 0;
  const int trials = 20000;
  for (int i = 0; i < trials; i++) {
    gen_rec r;
    memset(&r, 0, sizeof(r));
    r.packets = 1;
    r.bytes = 60;
    r.tcp_flags = 0x02;
    if (gen_sample_rec(&rng, N, &r)) {
      kept++;
      CU_ASSERT_EQUAL(r.packets, 1);
      CU_ASSERT_EQUAL(r.bytes, 60);
      CU_ASSERT_EQUAL(r.tcp_flags, 0x02);
    }
  }
  double p = 1.0 / N, sd = sqrt(trials * p * (1 - p));
  CU_ASSERT(fabs(kept - trials * p) < 4 * sd);

  /* Big records always survive; k * N estimates the packets. */
  double sum = 0, sum_bytes = 0;
  for (int i = 0; i < 2000; i++) {
    gen_rec r;
    memset(&r, 0, sizeof(r));
    r.packets = 5000;
    r.bytes = 5000 * 1000;
    r.first_ms = T0;
    r.last_ms = T0 + 1000;
    r.tcp_flags = 0x1B;
    CU_ASSERT_EQUAL(gen_sample_rec(&rng, N, &r), 1);
    sum += (double)(r.packets * N);
    sum_bytes += (double)(r.bytes * N);
    CU_ASSERT(r.bytes == r.packets * 1000);
  }
  CU_ASSERT(fabs(sum / 2000 - 5000) < 50);
  CU_ASSERT(fabs(sum_bytes / 2000 - 5e6) < 5e4);
  /* A binomial of large n stays within its bounds. */
  for (int i = 0; i < 1000; i++) {
    uint64_t k = gen_rng_binomial(&rng, 1000000, 0.001);
    CU_ASSERT(k < 1300 && k > 700);
  }
  /* Rate 1 changes nothing. */
  gen_rec r = {.packets = 3, .bytes = 180, .tcp_flags = 0x1B};
  CU_ASSERT_EQUAL(gen_sample_rec(&rng, 1, &r), 1);
  CU_ASSERT_EQUAL(r.packets, 3);

  /* Through the engine: fewer records, about the same scaled packets
   * (big flows dominate the packet count). */
  run_result a, b;
  run_scenario(5, 30, 1, NULL, &a);
  run_scenario(5, 30, N, NULL, &b);
  CU_ASSERT(b.c.records < a.c.records);
  CU_ASSERT(b.c.records > 0);
  double ratio = (double)b.c.packets / (double)a.c.packets;
  CU_ASSERT(ratio > 0.97 && ratio < 1.03);
  free_result(&a);
  free_result(&b);
}

static void test_rng_and_params(void) {
  gen_rng r1, r2;
  gen_rng_seed(&r1, 5, 1);
  gen_rng_seed(&r2, 5, 2);
  CU_ASSERT_NOT_EQUAL(gen_rng_next(&r1), gen_rng_next(&r2));
  for (int i = 0; i < 10000; i++) {
    uint64_t v = gen_rng_range(&r1, 10, 20);
    CU_ASSERT(v >= 10 && v <= 20);
    uint64_t z = gen_rng_zipf(&r1, 100, 1.0);
    CU_ASSERT(z < 100);
    double u = gen_rng_uniform(&r1);
    CU_ASSERT(u >= 0 && u < 1);
  }
  gen_range g;
  CU_ASSERT_EQUAL(gen_range_parse("2G-5G", GEN_UNIT_SIZE, &g), NFH_OK);
  CU_ASSERT_DOUBLE_EQUAL(g.lo, 2e9, 1);
  CU_ASSERT_DOUBLE_EQUAL(g.hi, 5e9, 1);
  CU_ASSERT_EQUAL(gen_range_parse("64Ki", GEN_UNIT_SIZE, &g), NFH_OK);
  CU_ASSERT_DOUBLE_EQUAL(g.lo, 65536, 0.5);
  CU_ASSERT_EQUAL(gen_range_parse("1h30m", GEN_UNIT_TIME, &g), NFH_OK);
  CU_ASSERT_DOUBLE_EQUAL(g.lo, 5400000, 0.5);
  CU_ASSERT_EQUAL(gen_range_parse("90", GEN_UNIT_TIME, &g), NFH_OK);
  CU_ASSERT_DOUBLE_EQUAL(g.lo, 90000, 0.5);
  CU_ASSERT_EQUAL(gen_range_parse("500ms-2s", GEN_UNIT_TIME, &g), NFH_OK);
  CU_ASSERT_DOUBLE_EQUAL(g.hi, 2000, 0.5);
  CU_ASSERT_EQUAL(gen_range_parse("5-20%", GEN_UNIT_PERCENT, &g), NFH_OK);
  CU_ASSERT_EQUAL(gen_range_parse("20-5", GEN_UNIT_PLAIN, &g), NFH_ESYNTAX);
  CU_ASSERT_EQUAL(gen_range_parse("3x", GEN_UNIT_SIZE, &g), NFH_ESYNTAX);
  CU_ASSERT_EQUAL(gen_range_parse("120", GEN_UNIT_PERCENT, &g), NFH_ESYNTAX);

  /* Activity specs: unknown kinds and keys are errors. */
  gen_net net;
  gen_net_defaults(&net);
  gen_labels *l;
  gen_labels_create(&l);
  gen_world w = {&net, l, NULL, {60000, 15000}, 1, T0, T0 + 3600000};
  gen_inject *inj;
  gen_inject_create(&w, &inj);
  char why[256];
  CU_ASSERT_EQUAL(gen_inject_add(inj, "teleport", why, sizeof(why)),
                  NFH_ESYNTAX);
  CU_ASSERT_EQUAL(gen_inject_add(inj, "beacon:perod=60", why, sizeof(why)),
                  NFH_ESYNTAX);
  CU_ASSERT(strstr(why, "perod") != NULL);
  CU_ASSERT_EQUAL(gen_inject_add(inj, "beacon:period=60-30", why,
                                 sizeof(why)),
                  NFH_ESYNTAX);
  CU_ASSERT_EQUAL(gen_inject_add(inj, "flood-in:count=3", why, sizeof(why)),
                  NFH_OK);
  CU_ASSERT_EQUAL(gen_inject_count(inj), 3);
  CU_ASSERT_EQUAL(gen_inject_add(inj, "hscan:at=2h", why, sizeof(why)),
                  NFH_EINVAL);
  /* c2= is a beacon's. */
  CU_ASSERT_EQUAL(gen_inject_add(inj, "hscan:c2=shared", why, sizeof(why)),
                  NFH_ESYNTAX);
  CU_ASSERT(strstr(why, "c2=") != NULL);
  gen_inject_destroy(inj);
  gen_labels_destroy(l);

  gen_bg_params p;
  gen_bg_params_defaults(&p);
  CU_ASSERT_EQUAL(gen_bg_params_set(&p, "browse_rate=5,monitored=0", why,
                                    sizeof(why)),
                  NFH_OK);
  CU_ASSERT_DOUBLE_EQUAL(p.browse_rate, 5, 1e-9);
  CU_ASSERT_EQUAL(p.monitored, 0);
  CU_ASSERT_EQUAL(gen_bg_params_set(&p, "browse=5", why, sizeof(why)),
                  NFH_ESYNTAX);
}

static void test_net(void) {
  gen_net net;
  gen_net_defaults(&net);
  net.salt = 77;
  char why[128];
  CU_ASSERT_EQUAL(gen_net_check(&net, why, sizeof(why)), NFH_OK);
  net.n_users = 70000;
  CU_ASSERT_EQUAL(gen_net_check(&net, why, sizeof(why)), NFH_EINVAL);
  net.n_users = 500;
  char buf[NFH_ADDR_STRLEN];
  nfh_addr a = gen_net_user(&net, 0);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&a, buf, sizeof(buf)), "10.0.0.2");
  a = gen_net_user(&net, 250);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&a, buf, sizeof(buf)), "10.0.1.2");
  a = gen_net_rogue(&net, 0);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&a, buf, sizeof(buf)),
                         "10.0.0.252");
  CU_ASSERT(gen_net_internal(&net, &a));
  /* External addresses: in their role's octets, never internal, and
   * distinct for distinct (space, index) within a role. */
  uint32_t seen[4096];
  int n = 0, dup = 0;
  for (uint32_t space = 1; space <= 8; space++) {
    for (uint64_t i = 0; i < 500; i++) {
      nfh_addr x = gen_net_external(&net, GEN_EXT_ATTACKER, space, i, 0);
      uint32_t v = nfh_addr_v4(&x);
      uint32_t o = v >> 24;
      CU_ASSERT((o >= 130 && o <= 183 && o != 169 && o != 172) ||
                (o >= 193 && o <= 223 && o != 198 && o != 203));
      CU_ASSERT(!gen_net_internal(&net, &x));
      if (n < 4096) {
        for (int k = 0; k < n; k++)
          dup += seen[k] == v;
        seen[n++] = v;
      }
    }
  }
  CU_ASSERT_EQUAL(dup, 0);
  nfh_addr ibr = gen_net_external(&net, GEN_EXT_IBR, 1, 12345, 0);
  gen_prefix p;
  CU_ASSERT_EQUAL(gen_prefix_parse("184.0.0.0/5", &p), NFH_OK);
  CU_ASSERT(gen_prefix_contains(&p, &ibr));
  nfh_addr six = gen_net_external(&net, GEN_EXT_POOL, 1, 3, 1);
  CU_ASSERT_EQUAL(six.family, 6);
  char cidrs[64][52];
  size_t k = gen_range_cidrs(0x0A000002, 0x0A0000FF, cidrs, 64);
  CU_ASSERT_EQUAL(k, 7); /* .2/31 .4/30 .8/29 .16/28 .32/27 .64/26 .128/25 */
  CU_ASSERT_STRING_EQUAL(cidrs[0], "10.0.0.2/31");
  CU_ASSERT_STRING_EQUAL(cidrs[6], "10.0.0.128/25");
  CU_ASSERT_EQUAL(gen_prefix_parse("10.1.2.3/16", &p), NFH_OK);
  CU_ASSERT_STRING_EQUAL(gen_prefix_format(&p, buf, sizeof(buf)),
                         "10.1.0.0/16");
  CU_ASSERT_EQUAL(gen_prefix_parse("10.1.2.3", &p), NFH_EINVAL);
}

static void test_tree_names(void) {
  gen_tree_options o;
  memset(&o, 0, sizeof(o));
  char buf[256];
  /* 2024-03-04 08:05 UTC */
  uint64_t t = T0 + 300000;
  CU_ASSERT_STRING_EQUAL(gen_tree_path(&o, t, 300000, buf, sizeof(buf)),
                         "nfcapd.202403040805");
  o.subdir = 1;
  CU_ASSERT_STRING_EQUAL(gen_tree_path(&o, t, 300000, buf, sizeof(buf)),
                         "2024/03/04/nfcapd.202403040805");
  o.subdir = 8;
  CU_ASSERT_STRING_EQUAL(gen_tree_path(&o, t, 300000, buf, sizeof(buf)),
                         "2024-03-04/08/nfcapd.202403040805");
  o.subdir = 0;
  CU_ASSERT_STRING_EQUAL(gen_tree_path(&o, t, 30000, buf, sizeof(buf)),
                         "nfcapd.20240304080500");
  /* Record to flow: counters scaled, the sampling flag set. */
  gen_rec r;
  memset(&r, 0, sizeof(r));
  r.packets = 3;
  r.bytes = 300;
  r.proto = 1;
  r.dst_port = 3 << 8 | 3;
  r.last_ms = T0 + 1500;
  o.sampling = 100;
  nfh_flow f;
  gen_tree_flow(&o, &r, &f);
  CU_ASSERT_EQUAL(f.packets, 300);
  CU_ASSERT_EQUAL(f.bytes, 30000);
  CU_ASSERT_EQUAL(f.sampling, 100);
  CU_ASSERT(f.flags & NFH_FLOW_SAMPLED);
  CU_ASSERT_EQUAL(f.icmp_type, 3);
  CU_ASSERT_EQUAL(f.icmp_code, 3);
  CU_ASSERT_EQUAL(f.received_ms, T0 + 2000);
  /* The diurnal curve: quiet at night, busy late morning, weekends
   * damped. */
  CU_ASSERT(gen_diurnal(T0 - 6 * 3600000ULL, 0.3) < 0.1);
  CU_ASSERT(gen_diurnal(T0 + 3 * 3600000ULL, 0.3) > 0.9);
  CU_ASSERT(gen_diurnal(T0 - 2 * 86400000ULL + 3 * 3600000ULL, 0.3) < 0.31);
}

int main(void) {
  /* File names and the diurnal curve follow local time: pin it. */
  setenv("TZ", "UTC", 1);
  tzset();
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 2;
  CU_pSuite s = CU_add_suite("gen", NULL, NULL);
  CU_add_test(s, "determinism for a seed", test_determinism);
  CU_add_test(s, "label counts", test_label_counts);
  CU_add_test(s, "a campaign: bots calling one C2", test_campaign);
  CU_add_test(s, "timeout splitting", test_timeout_split);
  CU_add_test(s, "sampling math", test_sampling);
  CU_add_test(s, "rng and parameters", test_rng_and_params);
  CU_add_test(s, "address plan", test_net);
  CU_add_test(s, "tree names and flows", test_tree_names);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failures = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
