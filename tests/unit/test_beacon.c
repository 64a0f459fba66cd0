/* test_beacon.c - the beaconing detector, driven through the engine as
 * nfhunt drives it: hand-made flow records in (one per direction, as an
 * exporter writes them), findings out.
 *
 * Beacons: a 60 s beacon with 10% jitter over 3 h (medium or above); a
 * 15-minute beacon with 20% jitter and 20% missed beats over 12 h; a
 * 30-minute beacon seen as 12 hourly runs through the state; periodic
 * DNS to an outside resolver; a sampled beacon (found, lower
 * confidence); one host beaconing to an address many hosts browse (its
 * own finding, low); a monitor polling ten targets (one poller finding).
 * Not beacons: NTP to a pool server from 50 hosts (one shared finding at
 * info), a long SSH session cut into 60 s active-timeout records (in one
 * run and across runs), idle sessions' keepalives cut apart by the
 * inactive timeout, random browsing, DNS to the site's resolver, an
 * allowlisted pair. Also: settings, a damaged state blob, the memory
 * bounds, and the timeline scoring on its own. */
#include "config.h"

#include <CUnit/Basic.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nfhunt/engine.h>
#include <nfhunt/plugin.h>
#include <nfhunt/state.h>

#include "../../plugin/detect/beacon/score.h"
#include "testkit.h"

#define MODULE NFH_TOP_BUILDDIR "/plugin/detect/beacon/.libs/beaconing.so"

#define T0 1700000000000ull /* 2023-11-14T22:13:20Z */
#define SEC 1000ull
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

#define FIN 0x01
#define SYN 0x02
#define PSH 0x08
#define ACK 0x10

static char dir[] = "/tmp/nfh_test_beacon_XXXXXX";
static tk_log logs; /* the engine's log lines (tk_log_line) */

/* ------------------------------------------------------------ random */

static uint64_t rng_state;

static void seed(uint64_t s) { rng_state = s * 2654435761u + 1; }

static double urand(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  rng_state = x;
  return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

static double expo(double mean) { return -mean * log(1 - urand()); }

/* ------------------------------------------------------------- flows */

/* The test's flow records (testkit.h). */
typedef tk_flows flows;

static nfh_flow *add_record(flows *fs, nfh_addr src, uint16_t sp,
                            nfh_addr dst, uint16_t dp, uint8_t proto,
                            uint8_t tcp_flags, uint64_t first,
                            uint64_t last, uint64_t bytes,
                            uint32_t sampling) {
  nfh_flow *f = tk_flows_push(fs);
  f->first_ms = first;
  f->last_ms = last;
  f->src = src;
  f->dst = dst;
  f->src_port = sp;
  f->dst_port = dp;
  f->proto = proto;
  f->tcp_flags = tcp_flags;
  f->bytes = bytes;
  f->packets = bytes / 500 + 2;
  f->sampling = sampling ? sampling : 1;
  if (sampling > 1) {
    f->flags |= NFH_FLOW_SAMPLED;
    /* nfcapd scales sampled counters by N: whole multiples. */
    f->packets = (f->packets / sampling + 1) * sampling;
    f->bytes = (bytes / (60ull * sampling) + 1) * 60ull * sampling;
  }
  return f;
}

/* A short connection as an exporter writes it: one record each way. */
static void conn(flows *fs, nfh_addr client, uint16_t cport, nfh_addr server,
                 uint16_t sport, uint8_t proto, uint64_t t, uint64_t dur,
                 uint64_t cbytes, uint64_t sbytes, uint32_t sampling) {
  uint8_t fl = proto == 6 ? FIN | SYN | PSH | ACK : 0;
  add_record(fs, client, cport, server, sport, proto, fl, t, t + dur, cbytes,
             sampling);
  if (sbytes)
    add_record(fs, server, sport, client, cport, proto, fl, t + 20,
               t + dur, sbytes, sampling);
}

static void push(flows *fs, const nfh_flow *f) {
  *add_record(fs, f->src, 0, f->dst, 0, 0, 0, 0, 0, 0, 1) = *f;
}

/* The flows of 'all' that start in [from, to). */
static void slice(flows *out, const flows *all, uint64_t from, uint64_t to) {
  for (size_t i = 0; i < all->n; i++)
    if (all->v[i].first_ms >= from && all->v[i].first_ms < to)
      push(out, &all->v[i]);
}

static int by_time(const void *a, const void *b) {
  const nfh_flow *x = a, *y = b;
  return x->first_ms < y->first_ms ? -1 : x->first_ms > y->first_ms;
}

/* A beacon: 'period' ms, each sleep drawn uniformly from period * (1 +-
 * jitter), a beat lost with probability 'missed'. Check-ins of about
 * cbytes, answers of about sbytes, a fresh client port each time. */
static void beacon(flows *fs, nfh_addr client, nfh_addr server,
                   uint16_t port, uint8_t proto, uint64_t start,
                   uint64_t span, double period, double jitter,
                   double missed, uint64_t cbytes, uint64_t sbytes,
                   uint32_t sampling) {
  uint16_t cport = 40000;
  for (double t = (double)start; t < (double)(start + span);
       t += period * (1 + jitter * (2 * urand() - 1))) {
    cport = (uint16_t)(cport + 1 + (uint16_t)(urand() * 7));
    if (cport < 40000)
      cport = 40000;
    if (urand() < missed)
      continue;
    conn(fs, client, cport, server, port, proto, (uint64_t)t,
         200 + (uint64_t)(urand() * 300), cbytes + (uint64_t)(urand() * 40),
         sbytes + (uint64_t)(urand() * 80), sampling);
  }
}

/* Users browsing: sessions at random times to servers of skewed
 * popularity, a few connections each. */
static void browsing(flows *fs, unsigned hosts, uint64_t start,
                     uint64_t span) {
  for (unsigned h = 0; h < hosts; h++) {
    /* 10.0.2.1 on, 250 to a /24 (tk_ip4 ORs its bytes together). */
    nfh_addr client = tk_ip4(10, 0, 2 + h / 250, 1 + h % 250);
    uint16_t cport = 50000;
    for (double t = (double)start + expo(600000);
         t < (double)(start + span); t += expo(600000)) {
      /* Server popularity falls off steeply: a user's favourite sites
       * come back again and again, at random times. */
      unsigned s = (unsigned)(200 * pow(urand(), 3));
      nfh_addr server = tk_ip4(198, 18, s / 100, 1 + s % 100);
      uint16_t port = urand() < 0.8 ? 443 : 80;
      int n = 1 + (int)expo(3);
      double u = t;
      for (int i = 0; i < n; i++) {
        cport = (uint16_t)(cport + 1);
        if (cport < 50000)
          cport = 50000;
        conn(fs, client, cport, server, port, 6, (uint64_t)u,
             300 + (uint64_t)(urand() * 20000),
             600 + (uint64_t)(urand() * 3000),
             2000 + (uint64_t)(urand() * 500000), 1);
        u += expo(15000);
      }
    }
  }
}

/* ------------------------------------------------------------ engine */

/* An engine with the module loaded and the settings applied ("key",
 * "value", ..., NULL). */
static nfh_engine *make(const char *const *settings) {
  nfh_engine_options o;
  memset(&o, 0, sizeof(o));
  o.log = tk_log_line;
  o.log_user = &logs;
  nfh_engine *e = NULL;
  logs.text[0] = '\0';
  CU_ASSERT_EQUAL_FATAL(nfh_engine_create(&o, &e), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, MODULE), NFH_OK);
  for (size_t i = 0; settings && settings[i]; i += 2)
    CU_ASSERT_EQUAL(nfh_engine_set(e, "beaconing", settings[i],
                                   settings[i + 1]),
                    NFH_OK);
  return e;
}

/* Runs the flows (sorted here) through e with the state (may be NULL). */
static void run(nfh_engine *e, flows *fs, nfh_state *st) {
  CU_ASSERT_EQUAL_FATAL(nfh_engine_start(e, st), NFH_OK);
  if (fs->n > 1)
    qsort(fs->v, fs->n, sizeof(nfh_flow), by_time);
  for (size_t off = 0; off < fs->n; off += 4096) {
    size_t k = fs->n - off < 4096 ? fs->n - off : 4096;
    CU_ASSERT_EQUAL(nfh_engine_add_flows(e, fs->v + off, k), NFH_OK);
  }
  CU_ASSERT_EQUAL(nfh_engine_finish(e, st), NFH_OK);
}

/* One cron run: the state at path opened, the flows run through e,
 * committed and closed; e keeps the findings. */
static void run_stateful(nfh_engine *e, flows *fs, const char *path) {
  nfh_state *st = NULL;
  const char *err;
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
  run(e, fs, st);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_state_close(st);
}

static const nfh_report_finding *find(nfh_engine *e, const char *key) {
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(r[i].f.type, "beaconing") == 0 && strcmp(r[i].f.key, key) == 0)
      return &r[i];
  return NULL;
}

static size_t count_at_least(nfh_engine *e, nfh_severity sev) {
  size_t n, k = 0;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(r[i].f.type, "beaconing") == 0 && r[i].f.severity >= sev)
      k++;
  return k;
}

static void dump(nfh_engine *e) {
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++)
    printf("\n    [%s %.0f %.2f] %s", nfh_severity_name(r[i].f.severity),
           r[i].f.score, r[i].f.confidence, r[i].f.summary);
}

static double evidence_number(const nfh_report_finding *r, const char *path) {
  json_error_t err;
  json_t *root = json_loads(r->f.evidence_json, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(root);
  char buf[64];
  snprintf(buf, sizeof(buf), "%s", path);
  json_t *j = root;
  for (char *part = strtok(buf, "."); part && j; part = strtok(NULL, "."))
    j = json_object_get(j, part);
  double v = j ? json_number_value(j) : NAN;
  json_decref(root);
  return v;
}

static void state_path(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/%s", dir, name);
}

/* ------------------------------------------------------------- tests */

static void test_beacon_60s(void) {
  seed(1);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.23"), s = tk_ip("203.0.113.50");
  beacon(&fs, c, s, 443, 6, T0, 3 * HOUR, 60000, 0.10, 0, 1200, 3400, 1);
  browsing(&fs, 10, T0, 3 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.23|203.0.113.50|tcp/443");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  printf("\n    %s (%s, score %.0f, confidence %.2f)", r->f.summary,
         nfh_severity_name(r->f.severity), r->f.score, r->f.confidence);
  CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
  double period = evidence_number(r, "period_s");
  CU_ASSERT(period > 57 && period < 63);
  CU_ASSERT(evidence_number(r, "connections") > 170);
  CU_ASSERT(evidence_number(r, "span_s") > 2.9 * 3600);
  CU_ASSERT_PTR_NOT_NULL(strstr(r->f.mitre, "T1071"));
  CU_ASSERT_PTR_NOT_NULL(strstr(r->f.mitre, "T1573"));
  CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "every 60 s"));
  CU_ASSERT_EQUAL(r->f.dst_port, 443);
  CU_ASSERT_EQUAL(r->f.proto, 6);
  /* The browsing around it raised nothing. */
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_LOW), 1);
  if (count_at_least(e, NFH_SEV_LOW) != 1)
    dump(e);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A beacon through the site's web proxy leaves as the proxy's own
 * connections: the finding names the proxy, and says that it is one
 * (five hosts use it on tcp/3128), so that the analyst looks for its
 * client instead of isolating the proxy (a tester's). A host that
 * serves no one gets no such note. */
static void test_beacon_from_proxy(void) {
  seed(41);
  flows fs = {0};
  nfh_addr proxy = tk_ip("10.1.0.3"), other = tk_ip("10.1.2.9");
  nfh_addr c2 = tk_ip("203.0.113.77"), c2b = tk_ip("203.0.113.78");
  beacon(&fs, proxy, c2, 443, 6, T0, 3 * HOUR, 180000, 0.05, 0, 900, 1100, 1);
  beacon(&fs, other, c2b, 443, 6, T0, 3 * HOUR, 180000, 0.05, 0, 900, 1100, 1);
  for (unsigned u = 0; u < 5; u++) {
    nfh_addr user = tk_ip4(10, 1, 3, (uint8_t)(10 + u));
    for (unsigned k = 0; k < 20; k++)
      conn(&fs, user, (uint16_t)(50000 + 20 * u + k), proxy, 3128, 6,
           T0 + (uint64_t)(urand() * 3 * HOUR), 3000, 800, 20000, 1);
  }
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.1.0.3|203.0.113.77|tcp/443");
  const nfh_report_finding *o = find(e, "10.1.2.9|203.0.113.78|tcp/443");
  if (!r || !o)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  CU_ASSERT_PTR_NOT_NULL(o);
  if (r) {
    printf("\n    %s", r->f.summary);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        r->f.summary, "10.1.0.3 is a proxy to 5 internal hosts on tcp/3128"));
    CU_ASSERT_EQUAL(evidence_number(r, "source_proxy.internal_clients"), 5);
    CU_ASSERT_EQUAL(evidence_number(r, "source_proxy.port"), 3128);
  }
  if (o)
    CU_ASSERT_PTR_NULL(strstr(o->f.summary, "proxy"));
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* One run over four days, the beacon only in the first six hours: it
 * is judged like one still calling (idle pairs leave the state after
 * judging, not before). */
static void test_beacon_long_ago_in_run(void) {
  seed(3);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.24"), s = tk_ip("203.0.113.51");
  beacon(&fs, c, s, 443, 6, T0, 6 * HOUR, 60000, 0.10, 0, 1200, 3400, 1);
  browsing(&fs, 4, T0, 96 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.24|203.0.113.51|tcp/443");
  CU_ASSERT_PTR_NOT_NULL(r);
  CU_ASSERT(r && r->f.severity >= NFH_SEV_MEDIUM);
  if (!r)
    dump(e);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A malware loop opening a connection every 2.5 s (10% jitter) for 3
 * hours: 512 beats are 21 minutes, short of min_span, yet it has beaten
 * the whole 3 h. Found at medium, "every 2.5 s" over 3 h; periods under
 * 5 s were never searched. A client that called its server once at
 * the start and then in the same loop for the last 25 minutes only
 * (600 beats: the oldest dropped) spans less than min_span: none. */
static void test_fast_loop(void) {
  seed(5);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.26"), s = tk_ip("203.0.113.53");
  beacon(&fs, c, s, 443, 6, T0, 3 * HOUR, 2500, 0.10, 0, 1500, 4400, 1);
  nfh_addr c2 = tk_ip("10.0.0.27"), s2 = tk_ip("203.0.113.54");
  conn(&fs, c2, 39000, s2, 443, 6, T0, 300, 900, 2000, 1);
  beacon(&fs, c2, s2, 443, 6, T0 + 3 * HOUR - 25 * 60000, 25 * 60000, 2500,
         0.10, 0, 900, 2000, 1);
  browsing(&fs, 4, T0, 3 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.26|203.0.113.53|tcp/443");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "every 2.5 s"));
    CU_ASSERT(evidence_number(r, "span_s") > 2.9 * 3600);
  }
  if (find(e, "10.0.0.27|203.0.113.54|tcp/443"))
    dump(e);
  CU_ASSERT_PTR_NULL(find(e, "10.0.0.27|203.0.113.54|tcp/443"));
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A 30 s beacon for 12 hours: the timeline keeps its latest max_events
 * (512) beats, about 4 h; the span reported is the 12 h it has been
 * calling since first seen. */
static void test_fast_beacon_span(void) {
  seed(4);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.25"), s = tk_ip("203.0.113.52");
  beacon(&fs, c, s, 443, 6, T0, 12 * HOUR, 30000, 0.10, 0, 800, 1200, 1);
  browsing(&fs, 4, T0, 12 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.25|203.0.113.52|tcp/443");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  double span = evidence_number(r, "span_s");
  double timeline = evidence_number(r, "timeline_span_s");
  CU_ASSERT(span > 11.5 * 3600);
  CU_ASSERT(timeline < 6 * 3600);
  CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "for 12."));
  if (!strstr(r->f.summary, "for 12."))
    dump(e);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

static void test_beacon_jitter_missed(void) {
  seed(2);
  flows fs = {0};
  beacon(&fs, tk_ip("10.0.0.31"), tk_ip("198.51.100.77"), 8080, 6, T0, 12 * HOUR,
         900000, 0.20, 0.20, 300, 150, 1);
  browsing(&fs, 10, T0, 12 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r =
      find(e, "10.0.0.31|198.51.100.77|tcp/8080");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  printf("\n    %s (%s, score %.0f)", r->f.summary,
         nfh_severity_name(r->f.severity), r->f.score);
  CU_ASSERT(r->f.severity >= NFH_SEV_LOW);
  double period = evidence_number(r, "period_s");
  CU_ASSERT(period > 800 && period < 1000);
  CU_ASSERT(evidence_number(r, "missed_beats") >= 1);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_LOW), 1);
  if (count_at_least(e, NFH_SEV_LOW) != 1)
    dump(e);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A C2 framework's 45% jitter on a 110 s sleep, for 6 hours: about 190
 * beats whose timing never looks tight (regularity about 0.4, below the
 * 0.45 that makes medium), yet stands far above chance over so many:
 * medium. The same for 90 minutes (about 50 beats) is low at
 * most; a client calling the same server at random (exponential
 * intervals of the same mean, the same check-ins) is nothing above
 * low. */
static void test_jittered_beacon(void) {
  static const struct {
    uint64_t span;
    int poisson;
    nfh_severity least, most;
  } cases[] = {
      {6 * HOUR, 0, NFH_SEV_MEDIUM, NFH_SEV_MEDIUM},
      {HOUR + HOUR / 2, 0, NFH_SEV_INFO, NFH_SEV_LOW},
      {6 * HOUR, 1, NFH_SEV_INFO, NFH_SEV_LOW},
  };
  const char *key = "10.0.0.41|203.0.113.61|tcp/443";
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    seed(11);
    flows fs = {0};
    nfh_addr c = tk_ip("10.0.0.41"), s = tk_ip("203.0.113.61");
    if (cases[k].poisson) {
      uint16_t cport = 40000;
      for (double t = (double)T0; t < (double)(T0 + cases[k].span);
           t += -110000.0 * log(1 - urand())) {
        cport = (uint16_t)(cport + 1);
        conn(&fs, c, cport, s, 443, 6, (uint64_t)t,
             200 + (uint64_t)(urand() * 300), 900 + (uint64_t)(urand() * 40),
             2600 + (uint64_t)(urand() * 80), 1);
      }
    } else {
      beacon(&fs, c, s, 443, 6, T0, cases[k].span, 110000, 0.45, 0, 900,
             2600, 1);
    }
    browsing(&fs, 10, T0, cases[k].span);
    nfh_engine *e = make((const char *const[]){"min_severity", "info", NULL});
    run(e, &fs, NULL);
    const nfh_report_finding *r = find(e, key);
    nfh_severity sev = r ? r->f.severity : NFH_SEV_INFO;
    CU_ASSERT(sev >= cases[k].least && sev <= cases[k].most);
    if (sev < cases[k].least || sev > cases[k].most)
      dump(e);
    if (k == 0 && r)
      printf("\n    %s (%s, score %.0f)", r->f.summary,
             nfh_severity_name(r->f.severity), r->f.score);
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
}

/* An implant whose check-ins vary in size: a DNS query every 20 minutes
 * (+-40%) for 32 hours (about 96 beats), 90 to 200 bytes up and 100 to
 * 300 down, and one on tcp/443 every 10 minutes (+-50%) for 30 hours
 * (about 180 beats), 600 to 2000 bytes up, and one every hour (+-40%)
 * for 29 hours (29 beats), 700 to 1100 bytes up. Their intervals stay
 * far below chance, but their sizes are not one (bytes 0.2 to 0.6), and
 * every jittered rule wanted one size: low, the hourly one not reported.
 * Now medium. A client calling the
 * server at random times (exponential intervals of the same mean, the
 * same sizes) stays low at most. */
static void test_jittered_varied_sizes(void) {
  static const struct {
    uint16_t port;
    uint8_t proto;
    double period, jitter;
    uint64_t span, up_lo, up_hi;
    int poisson;
    nfh_severity least, most;
  } cases[] = {
      {53, 17, 1200000, 0.4, 32 * HOUR, 90, 200, 0, NFH_SEV_MEDIUM,
       NFH_SEV_MEDIUM},
      {443, 6, 600000, 0.5, 30 * HOUR, 600, 2000, 0, NFH_SEV_MEDIUM,
       NFH_SEV_MEDIUM},
      {8080, 6, 3600000, 0.4, 29 * HOUR, 700, 1100, 0, NFH_SEV_MEDIUM,
       NFH_SEV_MEDIUM},
      {53, 17, 1200000, 0, 32 * HOUR, 90, 200, 1, NFH_SEV_INFO, NFH_SEV_LOW},
      {8080, 6, 3600000, 0, 29 * HOUR, 700, 1100, 1, NFH_SEV_INFO, NFH_SEV_LOW},
      {443, 6, 600000, 0, 30 * HOUR, 600, 2000, 1, NFH_SEV_INFO, NFH_SEV_LOW},
  };
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    seed(81 + (unsigned)k);
    flows fs = {0};
    nfh_addr c = tk_ip("10.0.0.42"), s = tk_ip("203.0.113.62");
    uint16_t cport = 40000;
    for (double t = (double)T0; t < (double)(T0 + cases[k].span);) {
      cport = (uint16_t)(cport + 1 + (uint16_t)(urand() * 7));
      if (cport < 40000)
        cport = 40000;
      uint64_t up =
          cases[k].up_lo +
          (uint64_t)(urand() * (double)(cases[k].up_hi - cases[k].up_lo));
      conn(&fs, c, cport, s, cases[k].port, cases[k].proto, (uint64_t)t,
           200 + (uint64_t)(urand() * 300), up,
           100 + (uint64_t)(urand() * 200 * (cases[k].proto == 6 ? 10 : 1)), 1);
      if (cases[k].poisson)
        t += -cases[k].period * log(1 - urand());
      else
        t += cases[k].period * (1 + cases[k].jitter * (2 * urand() - 1));
    }
    browsing(&fs, 10, T0, cases[k].span);
    nfh_engine *e = make((const char *const[]){"min_severity", "info", NULL});
    run(e, &fs, NULL);
    char key[80];
    snprintf(key, sizeof(key), "10.0.0.42|203.0.113.62|%s/%u",
             cases[k].proto == 6 ? "tcp" : "udp", cases[k].port);
    const nfh_report_finding *r = find(e, key);
    nfh_severity sev = r ? r->f.severity : NFH_SEV_INFO;
    CU_ASSERT(sev >= cases[k].least && sev <= cases[k].most);
    if (sev < cases[k].least || sev > cases[k].most)
      dump(e);
    if (r)
      printf("\n    %s (%s, score %.0f, bytes %.2f)", r->f.summary,
             nfh_severity_name(r->f.severity), r->f.score,
             evidence_number(r, "scores.bytes"));
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
}

/* Beats at a jittered schedule: beat k at start + k * period, moved by
 * up to +-jitter periods (a timer with random delays; the intervals
 * then spread twice as far as the jitter). */
static void scheduled(flows *fs, nfh_addr client, nfh_addr server,
                      uint16_t port, uint64_t start, unsigned beats,
                      double period, double jitter) {
  for (unsigned k = 0; k < beats; k++) {
    double t = (double)start + period * (k + jitter * (2 * urand() - 1));
    conn(fs, client, (uint16_t)(41000 + k), server, port, 6, (uint64_t)t,
         200 + (uint64_t)(urand() * 300), 1100 + (uint64_t)(urand() * 200),
         4000 + (uint64_t)(urand() * 200), 1);
  }
}

/* A printer's mDNS announcements, every 120 s for six hours from one
 * socket to ff02::fb and 224.0.0.251 (port 5353), and SSDP every 300 s
 * to 239.255.255.250: multicast, no server to call. They were a medium
 * "persistent C2 channel". Nothing is reported, at any severity. */
static void test_multicast_announcements(void) {
  nfh_addr printer6 = tk_ip("fd00::9"), printer4 = tk_ip("10.0.0.9");
  nfh_addr mdns6 = tk_ip("ff02::fb"), mdns4 = tk_ip("224.0.0.251");
  nfh_addr ssdp = tk_ip("239.255.255.250");
  seed(45);
  flows fs = {0};
  for (uint64_t t = T0; t < T0 + 6 * HOUR; t += 120000) {
    conn(&fs, printer6, 5353, mdns6, 5353, 17, t, 5, 180, 0, 1);
    conn(&fs, printer4, 5353, mdns4, 5353, 17, t + 7, 5, 160, 0, 1);
  }
  for (uint64_t t = T0; t < T0 + 6 * HOUR; t += 300000)
    conn(&fs, printer4, 1900, ssdp, 1900, 17, t + 11, 5, 300, 0, 1);
  browsing(&fs, 10, T0, 6 * HOUR);
  nfh_engine *e = make((const char *const[]){"min_severity", "info", NULL});
  run(e, &fs, NULL);
  size_t n;
  const nfh_report_finding *all = nfh_engine_findings(e, &n);
  size_t multicast = 0;
  for (size_t i = 0; i < n; i++)
    multicast += strstr(all[i].f.key, "ff02::fb") != NULL ||
                 strstr(all[i].f.key, "224.0.0.251") != NULL ||
                 strstr(all[i].f.key, "239.255.255.250") != NULL;
  if (multicast)
    dump(e);
  CU_ASSERT_EQUAL(multicast, 0);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A beacon that stopped and came back: two hours of a 60 s beacon, 14
 * hours of silence, two hours more. Its span is 18 hours; the summary
 * says it beat in a quarter of them (it read as continuous). */
static void test_beacon_with_gap(void) {
  nfh_addr c = tk_ip("10.0.0.44"), srv = tk_ip("203.0.113.64");
  seed(44);
  flows fs = {0};
  beacon(&fs, c, srv, 443, 6, T0, 2 * HOUR, 60000, 0.01, 0, 600, 3000, 1);
  beacon(&fs, c, srv, 443, 6, T0 + 16 * HOUR, 2 * HOUR, 60000, 0.01, 0, 600,
         3000, 1);
  browsing(&fs, 10, T0, 18 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.44|203.0.113.64|tcp/443");
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    printf("\n    %s", r->f.summary);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "; beating in 2"));
  }
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A jittered beacon with few beats: 16 check-ins half an hour apart,
 * each moved by up to +-30% (intervals of 12 to 48 min: a C2 framework's
 * 30-minute sleep at 30% jitter), fits no comb above chance, but its
 * intervals are too even for random arrivals, far below the 0.1% level,
 * over 7.5 h: medium, read by dispersion (it was low below 24 beats, and
 * a 20-minute sleep at 30% over 8 h, 22 and 23 beats, stayed low). 12
 * such check-ins: low. 36 beats with a +-40% sleep over 9 h: medium. The
 * 16 beats to a server two other hosts also use, and the same number of
 * calls at random times (same sizes), are not reported. */
static void test_jittered_few_beats(void) {
  const char *key = "10.0.0.42|203.0.113.62|tcp/443";
  nfh_addr c = tk_ip("10.0.0.42"), srv = tk_ip("203.0.113.62");
  for (int k = 0; k < 5; k++) {
    seed(31 + (uint64_t)k);
    flows fs = {0};
    if (k == 0 || k == 2)
      scheduled(&fs, c, srv, 443, T0, 16, 1800000, 0.3);
    else if (k == 4)
      scheduled(&fs, c, srv, 443, T0, 12, 1800000, 0.3);
    else if (k == 1)
      beacon(&fs, c, srv, 443, 6, T0, 9 * HOUR, 900000, 0.4, 0, 1100, 4000,
             1);
    else
      for (unsigned i = 0; i < 16; i++)
        conn(&fs, c, (uint16_t)(41000 + i), srv, 443, 6,
             T0 + (uint64_t)(urand() * 7.5 * HOUR), 300,
             1100 + (uint64_t)(urand() * 200),
             4000 + (uint64_t)(urand() * 200), 1);
    if (k == 2)
      for (unsigned h = 0; h < 2; h++)
        for (int i = 0; i < 3; i++)
          conn(&fs, tk_ip4(10, 0, 3, 1 + h), (uint16_t)(52000 + i), srv,
               443, 6, T0 + (uint64_t)(urand() * 7 * HOUR), 400, 900,
               30000, 1);
    browsing(&fs, 10, T0, 9 * HOUR);
    nfh_engine *e = make((const char *const[]){"min_severity", "info", NULL});
    run(e, &fs, NULL);
    const nfh_report_finding *r = find(e, key);
    if (k == 0 || k == 1 || k == 4) {
      CU_ASSERT_PTR_NOT_NULL(r);
      if (!r) {
        dump(e);
      } else {
        printf("\n    %s (%s, score %.0f)", r->f.summary,
               nfh_severity_name(r->f.severity), r->f.score);
        CU_ASSERT_EQUAL(r->f.severity, k == 4 ? NFH_SEV_LOW : NFH_SEV_MEDIUM);
        CU_ASSERT(evidence_number(r, "scores.dispersion") <=
                  evidence_number(r, "scores.dispersion_chance"));
        CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "jittered"));
      }
    } else {
      CU_ASSERT(r == NULL || r->f.severity < NFH_SEV_LOW);
      if (r && r->f.severity >= NFH_SEV_LOW)
        dump(e);
    }
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
}

/* A scheduled beacon's case: beats, period (ms) and jitter, and the
 * severity wanted: medium, or at most low. */
typedef struct sched_case {
  unsigned beats;
  double period, jitter;
  nfh_severity want;
} sched_case;

/* Runs each case: the beacon from 10.0.0.43 to 203.0.113.63:443 from
 * 'offset' into the data, browsing for 'span', and checks its finding's
 * severity; with 'low_found', a low case must be found too (at low). */
static void check_scheduled(const sched_case *cases, size_t n,
                            uint64_t seed0, uint64_t offset, uint64_t span,
                            int low_found) {
  const char *key = "10.0.0.43|203.0.113.63|tcp/443";
  nfh_addr c = tk_ip("10.0.0.43"), srv = tk_ip("203.0.113.63");
  for (size_t k = 0; k < n; k++) {
    seed(seed0 + (uint64_t)k);
    flows fs = {0};
    scheduled(&fs, c, srv, 443, T0 + offset, cases[k].beats, cases[k].period,
              cases[k].jitter);
    browsing(&fs, 10, T0, span);
    nfh_engine *e = make((const char *const[]){"min_severity", "info", NULL});
    run(e, &fs, NULL);
    const nfh_report_finding *r = find(e, key);
    if (cases[k].want == NFH_SEV_MEDIUM || low_found)
      CU_ASSERT_PTR_NOT_NULL(r);
    if (r && cases[k].want == NFH_SEV_MEDIUM)
      CU_ASSERT_EQUAL(r->f.severity, NFH_SEV_MEDIUM);
    if (r && cases[k].want != NFH_SEV_MEDIUM)
      CU_ASSERT(r->f.severity <= NFH_SEV_LOW);
    if (r)
      printf("\n    %s (%s, score %.0f)", r->f.summary,
             nfh_severity_name(r->f.severity), r->f.score);
    else
      printf("\n    %u beats every %.0f s (+-%.0f%%): none", cases[k].beats,
             cases[k].period / 1000, 100 * cases[k].jitter);
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
}

/* Slow beacons show few beats in a run of hours. Eight check-ins an
 * hour apart (+-3%) and ten 20 minutes apart (+-2%), one size each, to a
 * server no other host uses: too even for chance by far, medium. The
 * same eight hours at +-25% (even, but not that even), and seven hourly
 * beats: low at most. Eight beats never rise above medium. */
static void test_slow_few_beats(void) {
  static const sched_case cases[] = {
      {8, 3600000, 0.03, NFH_SEV_MEDIUM},
      {10, 1200000, 0.02, NFH_SEV_MEDIUM},
      {8, 3600000, 0.25, NFH_SEV_LOW},
      {7, 3600000, 0.03, NFH_SEV_LOW},
  };
  check_scheduled(cases, sizeof(cases) / sizeof(cases[0]), 71, 600000,
                  9 * HOUR, 0);
}

/* A capture of under an hour (a pcap an analyst exports): 25 check-ins
 * 90 s apart (+-5%) and 40 a minute apart (+-15%), one size each, to a
 * server no other host uses: medium. Eighteen beats 2 min apart, and
 * 25 at +-25%: low at most (and found: the test sees the boundary). */
static void test_short_capture(void) {
  static const sched_case cases[] = {
      {25, 90000, 0.05, NFH_SEV_MEDIUM},
      {40, 60000, 0.15, NFH_SEV_MEDIUM},
      {18, 120000, 0.03, NFH_SEV_LOW},
      {25, 90000, 0.25, NFH_SEV_LOW},
  };
  check_scheduled(cases, sizeof(cases) / sizeof(cases[0]), 81, 120000, HOUR,
                  1);
}

/* Beats +-45% around a 15-minute schedule, a tenth missing, over 7.6 h:
 * the intervals (in seconds) of such a beacon nfhunt-gen made. The comb's
 * best period is about half the true one (448 s), and coverage in bins of
 * it stayed below 0.6 (29 beats in 48 bins): missed. Coverage in bins of
 * the mean interval, the period the dispersion implies, is near 1: low,
 * read by dispersion. */
static void test_jittered_half_period(void) {
  static const unsigned gaps[] = {1522, 892, 470,  1050, 684, 848,  983,
                                  882,  1385, 568, 2142, 1284, 1425, 455,
                                  934,  1076, 900, 790,  898, 893,  532,
                                  1548, 615,  1224, 402, 1283, 419,  1201};
  seed(61);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.43"), srv = tk_ip("203.0.113.63");
  uint64_t t = T0;
  for (unsigned k = 0; k <= sizeof(gaps) / sizeof(gaps[0]); k++) {
    conn(&fs, c, (uint16_t)(41000 + k), srv, 80, 6, t,
         200 + (uint64_t)(urand() * 300), 1400 + (uint64_t)(urand() * 100),
         4400 + (uint64_t)(urand() * 100), 1);
    if (k < sizeof(gaps) / sizeof(gaps[0]))
      t += gaps[k] * SEC;
  }
  browsing(&fs, 10, T0, 8 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.43|203.0.113.63|tcp/80");
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    printf("\n    %s (%s)", r->f.summary, nfh_severity_name(r->f.severity));
    CU_ASSERT(r->f.severity >= NFH_SEV_LOW);
    CU_ASSERT(evidence_number(r, "scores.dispersion_coverage") >= 0.6);
    CU_ASSERT(evidence_number(r, "scores.dispersion") <=
              evidence_number(r, "scores.dispersion_chance"));
  } else {
    dump(e);
  }
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A 30-minute beacon, each hourly run seeing one hour: the state carries
 * the timeline until its period shows. */
static void test_slow_across_runs(void) {
  seed(3);
  char path[300];
  state_path(path, sizeof(path), "slow.state");
  flows all = {0};
  nfh_addr c = tk_ip("10.0.0.44"), s = tk_ip("203.0.113.9");
  beacon(&all, c, s, 443, 6, T0 + 7 * MIN, 12 * HOUR, 1800000, 0.10, 0,
         900, 2500, 1);
  browsing(&all, 5, T0, 12 * HOUR);
  qsort(all.v, all.n, sizeof(nfh_flow), by_time);
  int first_found = -1;
  char first_id[33] = "";
  for (int hour = 0; hour < 12; hour++) {
    flows fs = {0};
    slice(&fs, &all, T0 + (uint64_t)hour * HOUR,
          T0 + (uint64_t)(hour + 1) * HOUR);
    nfh_engine *e = make(NULL);
    run_stateful(e, &fs, path);
    const nfh_report_finding *r = find(e, "10.0.0.44|203.0.113.9|tcp/443");
    if (r && first_found < 0) {
      first_found = hour;
      strcpy(first_id, r->id);
      printf("\n    run %d: %s", hour + 1, r->f.summary);
    }
    if (hour < 2)
      CU_ASSERT_PTR_NULL(r); /* one hour holds two beats: not yet */
    if (hour == 11) {
      CU_ASSERT_PTR_NOT_NULL(r);
      if (r) {
        printf("\n    run 12: %s (%s)", r->f.summary,
               nfh_severity_name(r->f.severity));
        CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
        CU_ASSERT_STRING_EQUAL(r->status, "ongoing");
        CU_ASSERT_STRING_EQUAL(r->id, first_id);
        /* The span covers the earlier runs. */
        CU_ASSERT(evidence_number(r, "span_s") > 10 * 3600);
        CU_ASSERT(r->f.first_ms < T0 + HOUR);
      }
    }
    CU_ASSERT(count_at_least(e, NFH_SEV_LOW) <= (r ? 1u : 0u));
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
  CU_ASSERT(first_found >= 2 && first_found <= 8);
  tk_flows_free(&all);
}

/* The candidate table is full in every hourly run (the first 300 of
 * 500 one-off pairs of each hour fill it) when an hourly beacon calls,
 * once per run, after them. A newcomer to a full table needs a second
 * sighting at its door; the door is kept in the state, so the beacon's
 * call in one run lets the next one in, and it is found. */
static void test_full_table_across_runs(void) {
  seed(12);
  char path[300];
  state_path(path, sizeof(path), "full.state");
  nfh_addr c = tk_ip("10.0.0.77"), s = tk_ip("203.0.113.99");
  int found = 0, door_used = 0;
  for (int hour = 0; hour < 16; hour++) {
    flows fs = {0};
    uint64_t h0 = T0 + (uint64_t)hour * HOUR;
    for (unsigned i = 0; i < 500; i++)
      conn(&fs, tk_ip4(10, 0, 5, 1 + i % 200), (uint16_t)(20000 + i),
           tk_ip4(100, 64 + hour, i / 256, i % 256), 443, 6,
           h0 + (uint64_t)i * (30 * MIN / 500), 300, 700, 2000, 1);
    conn(&fs, c, (uint16_t)(40000 + hour), s, 8443, 6,
         h0 + 40 * MIN + (uint64_t)(urand() * 4 * MIN), 400, 900, 1500, 1);
    nfh_engine *e = make((const char *const[]){"max_candidates", "300",
                                               NULL});
    run_stateful(e, &fs, path);
    door_used |= strstr(logs.text, "waited at a full table") != NULL;
    const nfh_report_finding *r = find(e, "10.0.0.77|203.0.113.99|tcp/8443");
    if (r && !found) {
      found = 1;
      printf("\n    run %d: %s (%s)", hour + 1, r->f.summary,
             nfh_severity_name(r->f.severity));
    }
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
  CU_ASSERT(door_used);
  CU_ASSERT(found);
}

/* 50 hosts poll the same pool server every 1024 s: a service every host
 * uses, never above low. One internal NTP server polling a pool on its
 * own is the quiet service rule's case. */
static void test_ntp_pool(void) {
  seed(4);
  flows fs = {0};
  nfh_addr pool = tk_ip("198.51.100.123");
  for (unsigned h = 0; h < 50; h++) {
    nfh_addr c = tk_ip4(10, 0, 1, 1 + h);
    double phase = urand() * 1024000;
    for (double t = (double)T0 + phase; t < (double)(T0 + 12 * HOUR);
         t += 1024000 + urand() * 200)
      conn(&fs, c, 123, pool, 123, 17, (uint64_t)t, 30, 76, 76, 1);
  }
  /* The site's time server on its own, to four pool servers. */
  for (unsigned k = 0; k < 4; k++)
    for (double t = (double)T0 + k * 7000; t < (double)(T0 + 12 * HOUR);
         t += 1024000 + urand() * 100)
      conn(&fs, tk_ip("10.0.0.2"), 123, tk_ip4(192, 0, 2, 10 + k), 123, 17,
           (uint64_t)t, 30, 76, 76, 1);
  browsing(&fs, 5, T0, 12 * HOUR);
  nfh_engine *e = make((const char *const[]){"min_severity", "info", NULL});
  run(e, &fs, NULL);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_MEDIUM), 0);
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  size_t ntp = 0;
  for (size_t i = 0; i < n; i++) {
    if (r[i].f.dst_port == 123) {
      ntp++;
      CU_ASSERT(r[i].f.severity <= NFH_SEV_LOW);
      /* The pool's 50 clients are one shared finding, no host's own. */
      if (nfh_addr_compare(&r[i].f.dst, &pool) == 0) {
        CU_ASSERT_STRING_EQUAL(r[i].f.key, "shared|198.51.100.123|udp/123");
        CU_ASSERT_EQUAL(r[i].f.severity, NFH_SEV_INFO);
        CU_ASSERT_EQUAL(r[i].f.src.family, 0);
        CU_ASSERT_EQUAL(evidence_number(&r[i], "clients"), 50);
        printf("\n    %s", r[i].f.summary);
      }
    }
  }
  /* The pool's shared finding, and the time server's four pool servers
   * as one poller finding (info: NTP is a quiet service). */
  CU_ASSERT_EQUAL(ntp, 2);
  const nfh_report_finding *tp = find(e, "10.0.0.2|poller|udp/123");
  CU_ASSERT_PTR_NOT_NULL(tp);
  if (tp) {
    CU_ASSERT_EQUAL(tp->f.severity, NFH_SEV_INFO);
    CU_ASSERT_EQUAL(evidence_number(tp, "servers"), 4);
  }
  nfh_engine_destroy(e);
  /* With the default min_severity (low), NTP reports nothing at all. */
  e = make(NULL);
  run(e, &fs, NULL);
  r = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++)
    CU_ASSERT(r[i].f.dst_port != 123);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_MEDIUM), 0);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A beacon from 'client' to 'server' on udp/123 with beats of cbytes
 * (plus up to 40) out and sbytes back, every 'period' ms +- jitter over
 * 'span': no NTP poll, so medium, its evidence saying it is no quiet
 * service; with the settings (key, value, ..., NULL: they make its beats
 * pass for NTP) left at info. */
static void check_on_ntp_port(const char *client, const char *server,
                              uint64_t span, double period, double jitter,
                              uint64_t cbytes, uint64_t sbytes,
                              const char *const *settings) {
  char finding[96];
  snprintf(finding, sizeof(finding), "%s|%s|udp/123", client, server);
  for (int k = 0; k < 2; k++) {
    seed(41);
    flows fs = {0};
    beacon(&fs, tk_ip(client), tk_ip(server), 123, 17, T0, span, period, jitter,
           0, cbytes, sbytes, 1);
    browsing(&fs, 5, T0, span);
    nfh_engine *e = make(k ? settings : NULL);
    run(e, &fs, NULL);
    const nfh_report_finding *r = find(e, finding);
    if (k == 0) {
      CU_ASSERT_PTR_NOT_NULL(r);
      if (r) {
        printf("\n    %s (%s)", r->f.summary,
               nfh_severity_name(r->f.severity));
        CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
        CU_ASSERT_PTR_NOT_NULL(
            strstr(r->f.evidence_json, "\"quiet_service\": false"));
      }
    } else {
      CU_ASSERT_PTR_NULL(r); /* info, below the default min_severity */
    }
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
}

/* An implant calling its server every minute on udp/123 with 1.4 KB a
 * beat: NTP's port, not NTP's 76-byte polls, so not a quiet service:
 * medium. With quiet_max_bytes and quiet_rare_bytes above its beats it
 * is taken for NTP. */
static void test_c2_on_ntp_port(void) {
  check_on_ntp_port("10.0.0.77", "203.0.113.123", 4 * HOUR, 60000, 0.05, 1400,
                    3500,
                    (const char *const[]){"quiet_max_bytes", "4000",
                                          "quiet_rare_bytes", "4000", NULL});
}

/* An NTP reflection flood seen by an exporter that shows both sides:
 * 40 servers' answers from udp/123 to one internal host in pulses every
 * 15 minutes, the host asking nothing. The victim was "polling 40
 * servers on udp/123: a monitor, most likely". Answers to nothing are
 * no beats: with many hosts' traffic beside them (k = 0), and beside a
 * few hosts' (k = 1: the flood's answers outnumber the site's
 * connections), where the victim is seen sending a name lookup an
 * hour. A silent victim beside few hosts (k = 2) is told no monitor:
 * "gets answers from 40 servers ..., sending nothing". */
static void reflection_case(unsigned browsers, int victim_talks);

static void test_reflection_answers(void) {
  for (int k = 0; k < 3; k++)
    reflection_case(k ? 3 : 30, k);
}

static void reflection_case(unsigned browsers, int k) {
  int victim_talks = k == 1;
  seed(57);
  flows fs = {0};
  browsing(&fs, browsers, T0, 6 * HOUR);
  nfh_addr victim = tk_ip("10.0.0.90");
  for (uint64_t t = T0; victim_talks && t < T0 + 6 * HOUR; t += HOUR)
    conn(&fs, victim, (uint16_t)(40000 + t / HOUR % 1000), tk_ip("10.0.0.53"),
         53, 17, t + 1234, 10, 70, 130, 1);
  for (uint64_t t = T0; t < T0 + 6 * HOUR; t += 15 * 60000)
    for (unsigned s = 0; s < 40; s++)
      add_record(&fs, tk_ip4(198, 51, 100 + s / 200, 1 + s % 200), 123, victim,
                 (uint16_t)(30000 + s), 17, 0, t + s * 50, t + 30000 + s * 50,
                 40 * 468, 1);
  nfh_engine *e = make((const char *const[]){"min_severity", "info", NULL});
  run(e, &fs, NULL);
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++) {
    if (k < 2)
      CU_ASSERT_PTR_NULL(strstr(r[i].f.summary, "10.0.0.90"));
    if (strstr(r[i].f.summary, "10.0.0.90")) {
      printf("\n    %s", r[i].f.summary);
      CU_ASSERT_PTR_NULL(strstr(r[i].f.summary, "a monitor"));
    }
  }
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A drip of a megabyte an hour to each of five addresses of one /24 for
 * two days: a poller's period, an uploader's beats. It was one low
 * finding, "polls 5 servers on tcp/443 every 61 min: a monitor, most
 * likely"; a monitor's polls are small. */
static void test_timed_uploads_no_monitor(void) {
  seed(63);
  flows fs = {0};
  browsing(&fs, 20, T0, 48 * HOUR);
  nfh_addr c = tk_ip("10.0.0.91");
  for (unsigned s = 0; s < 5; s++)
    beacon(&fs, c, tk_ip4(203, 0, 113, 10 + 7 * s), 443, 6, T0, 48 * HOUR,
           3600000, 0.3, 0, 950000, 20000, 1);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  int seen = 0;
  for (size_t i = 0; i < n; i++)
    if (strstr(r[i].f.summary, "10.0.0.91")) {
      CU_ASSERT_PTR_NULL(strstr(r[i].f.summary, "a monitor"));
      seen += r[i].f.severity >= NFH_SEV_MEDIUM;
      printf("\n    %s (%s)", r[i].f.summary,
             nfh_severity_name(r[i].f.severity));
    }
  CU_ASSERT(seen >= 1);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A tester's implant on udp/123: 300-byte datagrams every 5 minutes
 * (NTS-sized, under quiet_max_bytes) to a server no other internal host
 * polls: not folded as time keeping (it was info, "a service every host
 * polls"). With quiet_rare_bytes above its beats it is. */
static void test_nts_sized_beats_rare_server(void) {
  check_on_ntp_port("10.0.0.79", "203.0.113.125", 8 * HOUR, 300000, 0.2, 300,
                    300,
                    (const char *const[]){"quiet_rare_bytes", "400", NULL});
}

/* An implant calling its server every 8 minutes on udp/123 with 20 to 60
 * bytes a beat: NTP's port and a poll's size class, but smaller than any
 * NTP packet (76 bytes over IPv4), so not a quiet service: medium. With
 * quiet_min_bytes 0 it is taken for NTP. */
static void test_small_beats_on_ntp_port(void) {
  check_on_ntp_port("10.0.0.78", "203.0.113.124", 5 * HOUR, 480000, 0.07, 20,
                    20, (const char *const[]){"quiet_min_bytes", "0", NULL});
  /* The same beats as a firewall's NSEL events count them, bytes without
   * packets (maybe the payload alone: an NTP poll's 48): held to no
   * floor, NTP at info. */
  seed(41);
  flows fs = {0};
  beacon(&fs, tk_ip("10.0.0.78"), tk_ip("203.0.113.124"), 123, 17, T0,
         5 * HOUR, 480000, 0.07, 0, 20, 20, 1);
  for (size_t i = 0; i < fs.n; i++)
    fs.v[i].packets = 0;
  browsing(&fs, 5, T0, 5 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  CU_ASSERT_PTR_NULL(find(e, "10.0.0.78|203.0.113.124|udp/123"));
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A monitor pinging ten outside targets every minute is one poller
 * finding at low; the same host's beacon elsewhere stays its own. */
static void test_poller(void) {
  seed(13);
  flows fs = {0};
  nfh_addr mon = tk_ip("10.0.0.5");
  for (unsigned k = 0; k < 10; k++)
    for (double t = (double)T0 + k * 1000; t < (double)(T0 + 4 * HOUR);
         t += 60000 + urand() * 300)
      conn(&fs, mon, 0, tk_ip4(192, 0, 2, 100 + k), 0x0800, 1, (uint64_t)t,
           10, 84, 84, 1);
  for (size_t i = 0; i < fs.n; i++)
    if (fs.v[i].proto == 1) {
      /* Echo request out, reply back. */
      int out = nfh_addr_compare(&fs.v[i].src, &mon) == 0;
      fs.v[i].icmp_type = out ? 8 : 0;
      fs.v[i].dst_port = out ? 0x0800 : 0;
      fs.v[i].src_port = 0;
    }
  beacon(&fs, mon, tk_ip("203.0.113.66"), 443, 6, T0, 4 * HOUR, 120000, 0.1, 0,
         600, 900, 1);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.5|poller|icmp/2048");
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    printf("\n    %s (%s)", r->f.summary, nfh_severity_name(r->f.severity));
    CU_ASSERT_EQUAL(r->f.severity, NFH_SEV_LOW);
    CU_ASSERT_EQUAL(evidence_number(r, "servers"), 10);
    CU_ASSERT_EQUAL(r->f.dst.family, 0);
  }
  const nfh_report_finding *c2 = find(e, "10.0.0.5|203.0.113.66|tcp/443");
  CU_ASSERT_PTR_NOT_NULL(c2);
  if (c2)
    CU_ASSERT(c2->f.severity >= NFH_SEV_MEDIUM);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_INFO), 2);
  if (count_at_least(e, NFH_SEV_INFO) != 2)
    dump(e);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* Periods at the edges: a beacon every 608 s with max_period at 5 min
 * was reported "every 297 s", half its beats missed (a period no two
 * beats are apart); now it is not reported. A beacon every 6.5 hours
 * over three days was read at its half, 3.2 h, above the old max_period
 * of 6 h; it is found at its own period. */
static void test_period_edges(void) {
  seed(31);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.31"), s = tk_ip("203.0.113.31");
  beacon(&fs, c, s, 443, 6, T0, 8 * HOUR, 608000, 0.02, 0, 800, 2400, 1);
  nfh_engine *e = make((const char *const[]){"max_period", "5m", NULL});
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.31|203.0.113.31|tcp/443");
  if (r)
    dump(e);
  CU_ASSERT_PTR_NULL(r);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);

  seed(32);
  flows slow = {0};
  nfh_addr c2 = tk_ip("10.0.0.32"), s2 = tk_ip("203.0.113.32");
  beacon(&slow, c2, s2, 443, 6, T0, 78 * HOUR, 6.5 * HOUR, 0.01, 0, 800,
         2400, 1);
  e = make(NULL);
  run(e, &slow, NULL);
  r = find(e, "10.0.0.32|203.0.113.32|tcp/443");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    double period = evidence_number(r, "period_s");
    CU_ASSERT(period > 6.2 * 3600 && period < 6.8 * 3600);
  }
  nfh_engine_destroy(e);
  tk_flows_free(&slow);
}

/* An SNMP poller of four DMZ hosts behind a 1:100 sampling exporter:
 * each poll is seen now and then, each host's own timeline is thin,
 * and their merged timeline is as regular as a beacon rotating over the
 * four addresses. It read "beacons to 4 addresses of 198.51.100.0/24",
 * high; it is a poller, at most low. */
static void test_sampled_poller(void) {
  seed(29);
  flows fs = {0};
  nfh_addr mon = tk_ip("10.1.0.10");
  uint16_t cport = 30000;
  for (uint64_t t = T0; t < T0 + 48 * HOUR; t += 300000)
    for (unsigned k = 0; k < 4; k++) {
      cport = (uint16_t)(cport + 1 < 30000 ? 30000 : cport + 1);
      if (urand() < 0.12)
        conn(&fs, mon, cport, tk_ip4(198, 51, 100, (uint8_t)(10 + 5 * k)),
             161, 17, t + k * 40 + (uint64_t)(urand() * 200), 30,
             9000, 12000, 100);
    }
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  if (count_at_least(e, NFH_SEV_MEDIUM) != 0)
    dump(e);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_MEDIUM), 0);
  CU_ASSERT_PTR_NULL(find(e, "10.1.0.10|198.51.100.0/24|udp/161"));
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* C2 fronted on a busy address: 30 hosts browse it now and then, one
 * beacons to it. Popular by contacts, so at most low, but still its own
 * finding: only one client beacons. */
static void test_popular_fronted(void) {
  seed(12);
  flows fs = {0};
  nfh_addr cdn = tk_ip("203.0.113.200");
  for (unsigned h = 0; h < 30; h++) {
    uint16_t cport = 50000;
    for (double t = (double)T0 + expo(1800000); t < (double)(T0 + 8 * HOUR);
         t += expo(1800000))
      conn(&fs, tk_ip4(10, 0, 4, 1 + h), cport++, cdn, 443, 6, (uint64_t)t,
           2000, 800, 90000, 1);
  }
  beacon(&fs, tk_ip("10.0.0.99"), cdn, 443, 6, T0, 8 * HOUR, 300000, 0.1, 0.05,
         700, 1500, 1);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.99|203.0.113.200|tcp/443");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  printf("\n    %s (%s)", r->f.summary, nfh_severity_name(r->f.severity));
  CU_ASSERT_EQUAL(r->f.severity, NFH_SEV_LOW);
  CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "popular destination"));
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_LOW), 1);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A small site at night: a SaaS keepalive every 300 s from the two or
 * four hosts that are on (of 120 seen), to an address no other host uses
 * yet; or as many bots of one campaign. Below popular_hosts and
 * popular_share, so not shared; two or four medium beacons before. Now
 * one finding for the destination, medium as its members (a campaign
 * must not fall below its bots), "software a few hosts share, or one
 * campaign", under the shared key. A lone beacon elsewhere stays its
 * own. */
static void test_few_hosts_keepalive(void) {
  for (unsigned hosts = 2; hosts <= 4; hosts += 2) {
    seed(51);
    flows fs = {0};
    nfh_addr saas = tk_ip("203.0.113.150");
    for (unsigned h = 0; h < hosts; h++)
      beacon(&fs, tk_ip4(10, 0, 4, 1 + h), saas, 443, 6,
             T0 + (uint64_t)(urand() * 300000), 6 * HOUR, 300000, 0.01, 0,
             900, 2500, 1);
    beacon(&fs, tk_ip("10.0.0.99"), tk_ip("203.0.113.151"), 443, 6, T0,
           6 * HOUR, 240000, 0.05, 0, 700, 1800, 1);
    browsing(&fs, 120, T0, 6 * HOUR);
    nfh_engine *e = make(NULL);
    run(e, &fs, NULL);
    const nfh_report_finding *g = find(e, "shared|203.0.113.150|tcp/443");
    const nfh_report_finding *one = find(e, "10.0.4.1|203.0.113.150|tcp/443");
    const nfh_report_finding *c2 = find(e, "10.0.0.99|203.0.113.151|tcp/443");
    CU_ASSERT_PTR_NOT_NULL(c2);
    if (c2)
      CU_ASSERT(c2->f.severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NOT_NULL(g);
    CU_ASSERT_PTR_NULL(one);
    if (g) {
      printf("\n    %s (%s)", g->f.summary, nfh_severity_name(g->f.severity));
      CU_ASSERT_EQUAL(g->f.severity, NFH_SEV_MEDIUM);
      CU_ASSERT_EQUAL(evidence_number(g, "clients"), hosts);
      CU_ASSERT_PTR_NOT_NULL(strstr(g->f.summary, "one campaign"));
    }
    CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_LOW), 2);
    CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_MEDIUM), 2);
    if (count_at_least(e, NFH_SEV_LOW) != 2)
      dump(e);
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
}

static int evidence_flag(const nfh_report_finding *r, const char *key) {
  json_error_t err;
  json_t *root = json_loads(r->f.evidence_json, 0, &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(root);
  int v = json_is_true(json_object_get(root, key));
  json_decref(root);
  return v;
}

/* Bots of one campaign: 'bots' infected hosts of 250 (1,000 for 30
 * bots and more) call one C2 every 120 s (5% jitter, one implant's
 * configuration) for 6 h, and no other host contacts it. Ten of them are
 * popular by count (popular_hosts), and were one shared finding at info,
 * the campaign missed; more than 16 were counted as "more than 16
 * clients", never a campaign. They are under 5% of the network, nearly
 * all the destination's clients: one campaign finding at medium
 * (evidence "campaign"), none per bot. */
static void test_campaign(void) {
  const unsigned sizes[] = {3, 10, 12, 30, 45};
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    unsigned bots = sizes[k];
    seed(61 + k);
    flows fs = {0};
    nfh_addr c2 = tk_ip("203.0.113.160");
    for (unsigned h = 0; h < bots; h++)
      beacon(&fs, tk_ip4(10, 1, 4, 1 + h), c2, 443, 6,
             T0 + (uint64_t)(urand() * 120000), 6 * HOUR, 120000, 0.05, 0, 800,
             2000, 1);
    browsing(&fs, bots >= 20 ? 1000 : 250, T0, 6 * HOUR);
    nfh_engine *e = make(NULL);
    run(e, &fs, NULL);
    const nfh_report_finding *g = find(e, "shared|203.0.113.160|tcp/443");
    CU_ASSERT_PTR_NOT_NULL(g);
    if (g) {
      printf("\n    %s (%s)", g->f.summary, nfh_severity_name(g->f.severity));
      CU_ASSERT_EQUAL(g->f.severity, NFH_SEV_MEDIUM);
      CU_ASSERT_EQUAL(evidence_number(g, "clients"), bots);
      CU_ASSERT(evidence_flag(g, "campaign"));
      CU_ASSERT_PTR_NOT_NULL(strstr(g->f.summary, "one campaign"));
    }
    CU_ASSERT_PTR_NULL(find(e, "10.1.4.1|203.0.113.160|tcp/443"));
    CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_MEDIUM), 1);
    if (count_at_least(e, NFH_SEV_MEDIUM) != 1)
      dump(e);
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
}

/* The group finding of 'key' is below medium and no campaign, and no
 * finding is medium or above. */
static void expect_not_campaign(nfh_engine *e, const char *key) {
  const nfh_report_finding *g = find(e, key);
  CU_ASSERT_PTR_NOT_NULL(g);
  if (g) {
    printf("\n    %s (%s)", g->f.summary, nfh_severity_name(g->f.severity));
    CU_ASSERT(g->f.severity < NFH_SEV_MEDIUM);
    CU_ASSERT(!evidence_flag(g, "campaign"));
  }
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_MEDIUM), 0);
  if (count_at_least(e, NFH_SEV_MEDIUM) != 0)
    dump(e);
}

/* Not campaigns, with as many hosts beating alike:
 * - a suite: the same 10 hosts (of 250) keep two keepalives, every 60 s
 *   to one address and every 300 s to another: far more hosts in common
 *   than chance, one piece of software's;
 * - a keepalive whose other clients stopped: 10 hosts beat to it, 3
 *   more contacted it in the first hour and went quiet (machines
 *   switched off): more clients than beat, a count the destination
 *   keeps exactly up to 16;
 * - a quarter of the network: 30 of 120 hosts.
 * None is a medium finding. */
static void test_campaign_not(void) {
  for (int variant = 0; variant < 3; variant++) {
    seed(71 + (unsigned)variant);
    flows fs = {0};
    nfh_addr saas = tk_ip("203.0.113.170"), chat = tk_ip("203.0.113.171");
    unsigned beating = variant == 2 ? 30 : 10;
    for (unsigned h = 0; h < beating; h++) {
      beacon(&fs, tk_ip4(10, 0, 4, 1 + h), saas, 443, 6,
             T0 + (uint64_t)(urand() * 60000), 6 * HOUR, 60000, 0.02, 0, 900,
             2500, 1);
      if (variant == 0)
        beacon(&fs, tk_ip4(10, 0, 4, 1 + h), chat, 443, 6,
               T0 + (uint64_t)(urand() * 300000), 6 * HOUR, 300000, 0.02, 0,
               700, 1500, 1);
    }
    if (variant == 1)
      for (unsigned h = 0; h < 3; h++)
        for (unsigned k = 0; k < 3; k++)
          conn(&fs, tk_ip4(10, 0, 5, 1 + h), (uint16_t)(41000 + k), saas, 443,
               6, T0 + (uint64_t)(urand() * HOUR), 300, 900, 2500, 1);
    browsing(&fs, variant == 2 ? 90 : 240, T0, 6 * HOUR);
    const char *info[] = {"min_severity", "info", NULL};
    nfh_engine *e = make(info);
    run(e, &fs, NULL);
    expect_not_campaign(e, "shared|203.0.113.170|tcp/443");
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
}

/* A keepalive of 24 hosts (of 1,000) whose 12 other clients contacted it
 * in the first hour and went quiet, hunted in two runs of 3 h with one
 * state: the second run sees only the 24 beating. The destination's
 * clients past 16 are kept in the state (estimated), so it is still 36
 * clients, more than beat, and no campaign; a state that kept "more
 * than 16" alone made it one in the second run. */
static void test_campaign_not_across_runs(void) {
  seed(75);
  char path[300];
  state_path(path, sizeof(path), "keepalive36.state");
  flows all = {0};
  nfh_addr saas = tk_ip("203.0.113.172");
  for (unsigned h = 0; h < 24; h++)
    beacon(&all, tk_ip4(10, 1, 4, 1 + h), saas, 443, 6,
           T0 + (uint64_t)(urand() * 60000), 6 * HOUR, 60000, 0.02, 0, 900,
           2500, 1);
  for (unsigned h = 0; h < 12; h++)
    for (unsigned k = 0; k < 3; k++)
      conn(&all, tk_ip4(10, 1, 5, 1 + h), (uint16_t)(41000 + k), saas, 443, 6,
           T0 + (uint64_t)(urand() * HOUR), 300, 900, 2500, 1);
  browsing(&all, 1000, T0, 6 * HOUR);
  qsort(all.v, all.n, sizeof(nfh_flow), by_time);
  const char *info[] = {"min_severity", "info", NULL};
  for (int part = 0; part < 2; part++) {
    flows fs = {0};
    slice(&fs, &all, T0 + (uint64_t)part * 3 * HOUR,
          T0 + (uint64_t)(part + 1) * 3 * HOUR);
    nfh_engine *e = make(info);
    run_stateful(e, &fs, path);
    expect_not_campaign(e, "shared|203.0.113.172|tcp/443");
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
  tk_flows_free(&all);
}

/* A sync client polling one shared address: six hosts where it runs
 * steadily, each at its own period (60 s to 270 s, each 35% from the
 * next), and fourteen where it polls at random: a popular destination
 * that several hosts beat to is software they share, in hourly runs with
 * one state too (those used to bring one low finding per steady host:
 * no three of them shared a period). */
static void test_shared_sync_hourly(void) {
  char path[300];
  state_path(path, sizeof(path), "sync.db");
  nfh_addr sync = tk_ip("203.0.113.210");
  size_t alarms = 0;
  for (int h = 0; h < 6; h++) {
    flows fs = {0};
    uint64_t t0 = T0 + (uint64_t)h * HOUR;
    double period = 60000;
    for (unsigned k = 0; k < 6; k++, period *= 1.35) {
      seed(4000 + (uint64_t)h * 100 + k);
      beacon(&fs, tk_ip4(10, 0, 6, 1 + k), sync, 443, 6, t0, HOUR, period,
             0.03, 0, 600, 1400, 1);
    }
    seed(50 + (uint64_t)h);
    for (unsigned k = 0; k < 14; k++) {
      uint16_t cport = (uint16_t)(41000 + 100 * k);
      for (double t = (double)t0 + expo(600000); t < (double)(t0 + HOUR);
           t += expo(600000))
        conn(&fs, tk_ip4(10, 0, 7, 1 + k), cport++, sync, 443, 6,
             (uint64_t)t, 2000, 900, 3000, 1);
    }
    browsing(&fs, 5, t0, HOUR);
    nfh_engine *e = make(NULL);
    run_stateful(e, &fs, path);
    size_t n = count_at_least(e, NFH_SEV_LOW);
    if (n)
      dump(e);
    alarms += n;
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
  CU_ASSERT_EQUAL(alarms, 0);
}

/* One SSH session of 3 hours, exported as 60 s active-timeout records
 * both ways. */
static void ssh_session(flows *fs, uint64_t start, uint64_t span) {
  nfh_addr c = tk_ip("10.0.0.7"), s = tk_ip("198.51.100.22");
  for (uint64_t t = start; t < start + span; t += MIN) {
    int first = t == start, last = t + MIN >= start + span;
    uint8_t fl = (uint8_t)(PSH | ACK | (first ? SYN : 0) | (last ? FIN : 0));
    add_record(fs, c, 52222, s, 22, 6, fl, t, t + MIN, 4000, 1);
    add_record(fs, s, 22, c, 52222, 6, fl, t + 5, t + MIN, 9000, 1);
  }
}

/* Runs 'hours' hourly slices of 'all' from T0, one state (file 'name'),
 * and checks that none reports anything, at info even. */
static void hourly_runs_quiet(const flows *all, const char *name,
                              int hours) {
  char path[300];
  state_path(path, sizeof(path), name);
  for (int hour = 0; hour < hours; hour++) {
    flows keep = {0};
    slice(&keep, all, T0 + (uint64_t)hour * HOUR,
          T0 + (uint64_t)(hour + 1) * HOUR);
    nfh_engine *e =
        make((const char *const[]){"min_severity", "info", NULL});
    run_stateful(e, &keep, path);
    CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_INFO), 0);
    if (count_at_least(e, NFH_SEV_INFO))
      dump(e);
    nfh_engine_destroy(e);
    tk_flows_free(&keep);
  }
}

static void test_ssh_session(void) {
  flows fs = {0};
  ssh_session(&fs, T0, 3 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  /* The engine stitched 360 records into one connection. */
  CU_ASSERT_EQUAL(nfh_engine_get_stats(e)->conns, 1);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_INFO), 0);
  nfh_engine_destroy(e);

  /* Cut by hourly runs: each run sees a piece of the same session; the
   * pieces continue the earlier one, they are not new starts. */
  flows whole = {0};
  ssh_session(&whole, T0, 8 * HOUR);
  hourly_runs_quiet(&whole, "ssh.state", 8);
  tk_flows_free(&whole);
  tk_flows_free(&fs);
}

/* The records of 'all' whose source is not 'who'. */
static void drop_source(flows *out, const flows *all, nfh_addr who) {
  for (size_t i = 0; i < all->n; i++)
    if (!nfh_addr_equal(&all->v[i].src, &who))
      push(out, &all->v[i]);
}

/* An exporter that shows one direction only (ingress on the outside
 * interface): the server's half of each connection, its SYN-ACK first.
 * A beacon every minute for 3 h is found from its answers alone (it was
 * one session: no client SYN, so every beat continued the first). A
 * long SSH session seen so, in hourly runs, stays one session. */
static void test_server_half(void) {
  nfh_addr c = tk_ip("10.0.0.45"), srv = tk_ip("203.0.113.65");
  seed(91);
  flows both = {0}, half = {0};
  beacon(&both, c, srv, 443, 6, T0, 3 * HOUR, 60000, 0.05, 0, 1100, 4000,
         1);
  browsing(&both, 10, T0, 3 * HOUR);
  drop_source(&half, &both, c);
  nfh_engine *e = make(NULL);
  run(e, &half, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.45|203.0.113.65|tcp/443");
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    printf("\n    %s (%s)", r->f.summary, nfh_severity_name(r->f.severity));
    CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
  }
  nfh_engine_destroy(e);
  tk_flows_free(&both);
  tk_flows_free(&half);

  flows whole = {0}, server = {0};
  ssh_session(&whole, T0, 8 * HOUR);
  drop_source(&server, &whole, tk_ip("10.0.0.7"));
  hourly_runs_quiet(&server, "sshhalf.state", 8);
  tk_flows_free(&whole);
  tk_flows_free(&server);
}

/* One TCP session from 10.0.0.9:51515 to 'server':'port' from 'start'
 * for 'span', exported as 60 s active-timeout records both ways of
 * 'up' and 'down' bytes each; 'syn': its first record carries the SYN
 * (else it was open before). */
static void long_session(flows *fs, nfh_addr server, uint16_t port,
                         uint64_t start, uint64_t span, uint64_t up,
                         uint64_t down, int syn) {
  nfh_addr c = tk_ip("10.0.0.9");
  for (uint64_t t = start; t < start + span; t += MIN) {
    uint8_t fl = (uint8_t)(PSH | ACK | (syn && t == start ? SYN : 0));
    add_record(fs, c, 51515, server, port, 6, fl, t, t + MIN - 500, up, 1);
    add_record(fs, server, port, c, 51515, 6, fl, t + 5, t + MIN - 500, down,
               1);
  }
}

/* A 1:100 sampler keeps two packets of a SaaS agent's connections five
 * hours apart, on two client ports, without SYN; runs of one file each
 * (nfcapd -x) with one state. Each piece starts near its run's first
 * data, but under sampling only the latest 5-tuple continues: two
 * sessions, not one held for 5 h (it was a medium persistent session). */
static void test_sampled_pieces_per_rotation(void) {
  nfh_addr c = tk_ip("10.0.0.46"), srv = tk_ip("203.0.113.66");
  seed(93);
  flows all = {0};
  add_record(&all, srv, 443, c, 50001, 6, PSH | ACK, T0 + 10 * MIN + 2000,
             T0 + 10 * MIN + 2000, 129300, 100);
  add_record(&all, c, 50002, srv, 443, 6, PSH | ACK, T0 + 5 * HOUR + 2000,
             T0 + 5 * HOUR + 2000, 31700, 100);
  browsing(&all, 10, T0, 5 * HOUR + 10 * MIN);
  qsort(all.v, all.n, sizeof(*all.v), by_time);
  char path[300];
  state_path(path, sizeof(path), "sampledpieces.state");
  int reported = 0;
  for (uint64_t t = T0; t < T0 + 5 * HOUR + 10 * MIN; t += 5 * MIN) {
    flows keep = {0};
    slice(&keep, &all, t, t + 5 * MIN);
    nfh_engine *e = make((const char *const[]){"min_severity", "info", NULL});
    run_stateful(e, &keep, path);
    if (find(e, "persist|10.0.0.46|203.0.113.66|tcp/443")) {
      reported = 1;
      dump(e);
    }
    nfh_engine_destroy(e);
    tk_flows_free(&keep);
  }
  CU_ASSERT(!reported);
  tk_flows_free(&all);
}

/* A persistent C2 channel: one TLS connection held 5 h with a trickle
 * each way (no timeline, no beat) is medium, from its start to its end
 * (over UDP too, but not to a VPN's port);
 * reported as held at least so long when the run began amid it; found
 * too by hourly runs with one state, once it has lasted 4 h. None: the
 * same for 3 h, a 5 h download (50 KB/s), a destination three internal
 * hosts use, persistent=0. */
static void test_persistent_session(void) {
  nfh_addr s = tk_ip("185.100.87.4");
  const char *key = "persist|10.0.0.9|185.100.87.4|tcp/443";
  static const struct {
    uint64_t span, down;
    int syn, others;
    const char *setting;
    int found;
  } cases[] = {
      {5 * HOUR, 2400, 1, 0, NULL, 1},  {5 * HOUR, 2400, 0, 0, NULL, 1},
      {3 * HOUR, 2400, 1, 0, NULL, 0},  {5 * HOUR, 3000000, 1, 0, NULL, 0},
      {5 * HOUR, 2400, 1, 2, NULL, 0},  {5 * HOUR, 2400, 1, 0, "0", 0},
  };
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    seed(21);
    flows fs = {0};
    long_session(&fs, s, 443, T0, cases[k].span, 1500, cases[k].down,
                 cases[k].syn);
    for (int o = 0; o < cases[k].others; o++) {
      char a[32];
      snprintf(a, sizeof(a), "10.0.0.%d", 100 + o);
      conn(&fs, tk_ip(a), 40000, s, 443, 6, T0 + HOUR, 2000, 800, 4000, 1);
    }
    browsing(&fs, 10, T0, cases[k].span);
    nfh_engine *e =
        make(cases[k].setting
                 ? (const char *const[]){"persistent", cases[k].setting, NULL}
                 : NULL);
    run(e, &fs, NULL);
    const nfh_report_finding *r = find(e, key);
    if (!cases[k].found) {
      CU_ASSERT_PTR_NULL(r);
    } else {
      CU_ASSERT_PTR_NOT_NULL(r);
      if (r) {
        CU_ASSERT_EQUAL(r->f.severity, NFH_SEV_MEDIUM);
        CU_ASSERT_EQUAL(r->f.first_ms, T0);
        CU_ASSERT(r->f.last_ms > T0 + 5 * HOUR - MIN);
        CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "kept one connection"));
        CU_ASSERT_PTR_NOT_NULL(
            strstr(r->f.summary, cases[k].syn ? "open for 5.0 h"
                                              : "open for at least 5.0 h"));
        CU_ASSERT(evidence_number(r, "session_s") > 5 * 3600 - 120);
      }
    }
    /* The browsing around it raised nothing. */
    CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_LOW), (size_t)cases[k].found);
    if (count_at_least(e, NFH_SEV_LOW) != (size_t)cases[k].found)
      dump(e);
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }

  /* An implant beating over one UDP socket (a datagram each way a
   * minute, 5 h) is one continued session: persistent; the same to a
   * WireGuard port is a VPN's keepalive, to SIP's a PBX's trunk, to
   * CoAP's a sensor's observe socket. On NTP's port, 1.4 KB up and
   * 2.9 KB back a minute is no NTP (found); an NTP client's socket, 76
   * bytes each way every 64 s, is (nothing). */
  static const struct {
    uint16_t port;
    uint64_t up, down, every;
    int found;
  } udp[] = {
      {3478, 148, 92, MIN, 1},   {51820, 148, 92, MIN, 0},
      {5060, 148, 92, MIN, 0},   {5683, 148, 92, MIN, 0},
      {123, 1428, 2944, MIN, 1}, {123, 76, 76, 64 * SEC, 0},
  };
  for (size_t k = 0; k < sizeof(udp) / sizeof(udp[0]); k++) {
    seed(22);
    flows fs = {0};
    nfh_addr c = tk_ip("10.0.0.9");
    uint16_t cport = udp[k].port == 123 ? 123 : 40404;
    for (uint64_t t = T0; t < T0 + 5 * HOUR; t += udp[k].every) {
      add_record(&fs, c, cport, s, udp[k].port, 17, 0, t, t, udp[k].up, 1);
      add_record(&fs, s, udp[k].port, c, cport, 17, 0, t + 40, t + 40,
                 udp[k].down, 1);
    }
    browsing(&fs, 10, T0, 5 * HOUR);
    nfh_engine *e = make(NULL);
    run(e, &fs, NULL);
    char ukey[80];
    snprintf(ukey, sizeof(ukey), "persist|10.0.0.9|185.100.87.4|udp/%u",
             udp[k].port);
    const nfh_report_finding *r = find(e, ukey);
    if (udp[k].found) {
      CU_ASSERT(r && r->f.severity == NFH_SEV_MEDIUM && r->f.proto == 17);
    } else {
      CU_ASSERT_PTR_NULL(r);
    }
    CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_LOW), (size_t)udp[k].found);
    if (count_at_least(e, NFH_SEV_LOW) != (size_t)udp[k].found)
      dump(e);
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }

  /* Hourly runs with one state: the pieces continue the session; the
   * run that takes it past 4 h reports it. */
  char path[300];
  state_path(path, sizeof(path), "persist.state");
  unlink(path);
  flows whole = {0};
  long_session(&whole, s, 443, T0, 6 * HOUR, 1500, 2400, 1);
  for (int hour = 0; hour < 6; hour++) {
    flows keep = {0};
    slice(&keep, &whole, T0 + (uint64_t)hour * HOUR,
          T0 + (uint64_t)(hour + 1) * HOUR);
    nfh_engine *e = make(NULL);
    run_stateful(e, &keep, path);
    const nfh_report_finding *r = find(e, key);
    if (hour < 4) { /* 4 h less half a second at the end of hour 3 */
      CU_ASSERT_PTR_NULL(r);
    } else {
      CU_ASSERT(r && r->f.first_ms == T0 && r->f.severity == NFH_SEV_MEDIUM);
    }
    nfh_engine_destroy(e);
    tk_flows_free(&keep);
  }
  tk_flows_free(&whole);
}

/* An implant that calls one address on one of ten ports at each beat
 * (443, 8443, 2053, ...): every port sees a tenth of the beats and none
 * was found. Merged over the server's ports it is one beacon; a client
 * that browses one web server on 80 and 443 is no such rotation. */
static void test_port_rotation(void) {
  seed(23);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.17"), srv = tk_ip("203.0.113.77");
  static const uint16_t ports[] = {443, 8443, 8080, 80, 2053,
                                   2083, 2087, 2096, 8880, 2052};
  uint16_t cport = 41000;
  for (double t = (double)T0; t < (double)(T0 + 24 * HOUR);
       t += 300000 * (1 + 0.05 * (2 * urand() - 1))) {
    cport = (uint16_t)(cport + 1);
    conn(&fs, c, cport, srv, ports[(unsigned)(urand() * 10) % 10], 6,
         (uint64_t)t, 300, 700 + (uint64_t)(urand() * 40),
         2500 + (uint64_t)(urand() * 80), 1);
  }
  browsing(&fs, 10, T0, 24 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.17|203.0.113.77|tcp/*");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "on 10 ports"));
    double period = evidence_number(r, "period_s");
    CU_ASSERT(period > 280 && period < 320);
  }
  /* The browsers: nothing. */
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_LOW), r ? 1 : 0);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* An implant that calls one of 30 addresses in 30 networks at each beat
 * (fronting-like): no network holds two, each address a thirtieth of
 * the beats, and nothing was found. Merged over the addresses no other
 * host uses, on one port, it is one beacon. A client with six rare
 * services at six periods of their own is no such beacon. */
static void test_spread_rotation(void) {
  seed(25);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.18");
  uint16_t cport = 41000;
  for (double t = (double)T0; t < (double)(T0 + 24 * HOUR);
       t += 300000 * (1 + 0.05 * (2 * urand() - 1))) {
    cport = (uint16_t)(cport + 1);
    unsigned k = (unsigned)(urand() * 30) % 30;
    conn(&fs, c, cport, tk_ip4((uint8_t)(104 + k % 8), (uint8_t)(16 + k), 7,
                               (uint8_t)(9 + k)),
         443, 6, (uint64_t)t, 300, 700 + (uint64_t)(urand() * 40),
         2500 + (uint64_t)(urand() * 80), 1);
  }
  nfh_addr d = tk_ip("10.0.0.19");
  static const double periods[] = {170e3, 410e3, 900e3, 1300e3, 2100e3,
                                   2900e3};
  for (unsigned k = 0; k < 6; k++)
    beacon(&fs, d, tk_ip4(198, 18, (uint8_t)(40 + k), 5), 443, 6,
           T0 + k * 7000, 24 * HOUR, periods[k], 0.3, 0.2, 900, 3000, 1);
  browsing(&fs, 10, T0, 24 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.18|*|tcp/443");
  if (!r || find(e, "10.0.0.19|*|tcp/443"))
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
    double period = evidence_number(r, "period_s");
    CU_ASSERT(period > 280 && period < 320);
  }
  CU_ASSERT_PTR_NULL(find(e, "10.0.0.19|*|tcp/443"));
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* An implant that calls one of three addresses of its operator's /24 at
 * each beat: every pair sees a third of the beats, irregularly, and was
 * at most low. Merged, it is one beacon at the true period. A keepalive
 * of 20 hosts over a SaaS /24's front-ends is no rotation of any one of
 * them (popular). */
static void test_rotation(void) {
  seed(21);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.16");
  nfh_addr pool[3] = {tk_ip("198.51.100.10"), tk_ip("198.51.100.11"),
                      tk_ip("198.51.100.12")};
  uint16_t cport = 41000;
  for (double t = (double)T0; t < (double)(T0 + 12 * HOUR);
       t += 360000 * (1 + 0.1 * (2 * urand() - 1))) {
    cport = (uint16_t)(cport + 1);
    conn(&fs, c, cport, pool[(unsigned)(urand() * 3) % 3], 443, 6,
         (uint64_t)t, 300, 1200 + (uint64_t)(urand() * 40),
         3400 + (uint64_t)(urand() * 80), 1);
  }
  for (unsigned h = 0; h < 20; h++) {
    nfh_addr host = tk_ip4(10, 0, 3, 1 + h);
    uint16_t port = 42000;
    for (double t = (double)T0 + urand() * 45000;
         t < (double)(T0 + 12 * HOUR); t += 45000 * (1 + 0.1 * (2 * urand() - 1))) {
      port = (uint16_t)(port + 1);
      conn(&fs, host, port, tk_ip4(203, 0, 113, 130 + (unsigned)(urand() * 4)),
           443, 6, (uint64_t)t, 200, 900, 1500, 1);
    }
  }
  browsing(&fs, 10, T0, 12 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.16|198.51.100.0/24|tcp/443");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "3 addresses of "
                                                "198.51.100.0/24"));
    double period = evidence_number(r, "period_s");
    CU_ASSERT(period > 330 && period < 390);
    CU_ASSERT_EQUAL(evidence_number(r, "rotation.addresses"), 3);
  }
  /* Its pairs are not reported besides, and no keepalive host is. */
  size_t n;
  const nfh_report_finding *all = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++) {
    CU_ASSERT_PTR_NULL(strstr(all[i].f.key, "|198.51.100.1"));
    CU_ASSERT_PTR_NULL(strstr(all[i].f.key, "203.0.113.0/24"));
  }
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* An hourly backup of 200 MB for 12 h: as regular as a timer, but each
 * beat carries 200 MB out: a scheduled transfer (low, said so), whose
 * volume the exfiltration detector judges; it was high beside the
 * exfiltration finding of the same uploads. A check-in of 3 KB at the
 * same pace stays medium or above. */
static void test_bulk_beats(void) {
  seed(23);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.18"), s = tk_ip("203.0.113.71");
  nfh_addr c2 = tk_ip("10.0.0.19"), s2 = tk_ip("203.0.113.72");
  beacon(&fs, c, s, 443, 6, T0, 12 * HOUR, 3600000, 0.01, 0, 200000000, 2000000,
         1);
  beacon(&fs, c2, s2, 443, 6, T0, 12 * HOUR, 3600000, 0.01, 0, 3000, 900, 1);
  browsing(&fs, 10, T0, 12 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.18|203.0.113.71|tcp/443");
  const nfh_report_finding *r2 = find(e, "10.0.0.19|203.0.113.72|tcp/443");
  if (!r || !r2 || r->f.severity != NFH_SEV_LOW)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  CU_ASSERT_PTR_NOT_NULL(r2);
  if (r) {
    CU_ASSERT_EQUAL(r->f.severity, NFH_SEV_LOW);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "a scheduled transfer"));
  }
  if (r2) {
    CU_ASSERT(r2->f.severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NULL(strstr(r2->f.summary, "a scheduled transfer"));
  }
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* An hourly upload of 15 MB that stalls twice for 7 minutes: three
 * pieces a session, apart by more than the stitcher holds a quiet
 * connection, the later two without SYN. The beacon's beats carry the
 * whole session's bytes: "8 connections of ~4.5 MB" was its first
 * pieces' (a tester's scp through softflowd, stretched). */
static void test_stalled_pieces_in_beat(void) {
  seed(24);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.20"), s = tk_ip("203.0.113.73");
  for (unsigned h = 0; h < 8; h++) {
    uint64_t t = T0 + h * HOUR + (uint64_t)(urand() * 2000);
    uint16_t cport = (uint16_t)(41000 + h);
    for (unsigned k = 0; k < 3; k++) {
      uint64_t from = t + k * 700000ull;
      uint8_t fl = ACK | PSH | (k == 0 ? SYN : 0) | (k == 2 ? FIN : 0);
      add_record(&fs, c, cport, s, 443, 6, fl, from, from + 280000, 5000000, 1);
      add_record(&fs, s, 443, c, cport, 6, fl, from + 20, from + 280000, 150000,
                 1);
    }
  }
  browsing(&fs, 10, T0, 8 * HOUR);
  qsort(fs.v, fs.n, sizeof(nfh_flow), by_time);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.20|203.0.113.73|tcp/443");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    CU_ASSERT(evidence_number(r, "bytes_per_conn.median") >= 15e6);
    CU_ASSERT_EQUAL(evidence_number(r, "connections"), 8);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "8 connections of ~15"));
  }
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* Two exporters, one unsampled that sees a beacon whole, one sampled
 * 1:100 that sees a few of its connections too (a campus's dorm router
 * and its border): 1 in 20 of its connections carry a sampled record.
 * It read "sampled 1:100, beats and bytes estimated". Said only where
 * sampled connections are a share that counts (a quarter). */
static void test_few_sampled_not_said(void) {
  for (int pass = 0; pass < 2; pass++) {
    seed(25);
    flows fs = {0};
    nfh_addr c = tk_ip("10.0.0.21"), s = tk_ip("203.0.113.74");
    beacon(&fs, c, s, 443, 6, T0, 6 * HOUR, 300000, 0.05, 0, 2000, 900, 1);
    size_t k = 0;
    for (size_t i = 0; i < fs.n; i++)
      if (fs.v[i].dst_port == 443 && k++ % (pass ? 2 : 20) == 0)
        fs.v[i].sampling = 100;
    nfh_engine *e = make(NULL);
    run(e, &fs, NULL);
    const nfh_report_finding *r = find(e, "10.0.0.21|203.0.113.74|tcp/443");
    if (!r)
      dump(e);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r) {
      const char *said = strstr(r->f.summary, "sampled");
      CU_ASSERT(pass ? said && strstr(said, "sampled 1:100") == said
                     : said == NULL);
    }
    nfh_engine_destroy(e);
    tk_flows_free(&fs);
  }
}

/* A beacon every 300 s for 4 h over five addresses of a /24, unevenly:
 * 13, 13, 10, 7 and 5 of its 48 beats. The two addresses with fewer
 * beats than min_conns are members too: "5 addresses", 48 connections
 * (it read "3 addresses, 36 connections"). */
static void test_rotation_small_members(void) {
  seed(22);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.17");
  static const unsigned share[5] = {13, 13, 10, 7, 5};
  unsigned left[5];
  memcpy(left, share, sizeof(left));
  uint16_t cport = 43000;
  for (unsigned k = 0; k < 48; k++) {
    unsigned a;
    do
      a = (unsigned)(urand() * 5) % 5;
    while (!left[a]);
    left[a]--;
    uint64_t t = T0 + (uint64_t)k * 300000 + (uint64_t)(urand() * 6000);
    conn(&fs, c, ++cport, tk_ip4(198, 51, 100, 20 + a), 443, 6, t, 300, 600,
         400, 1);
  }
  browsing(&fs, 10, T0, 4 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.17|198.51.100.0/24|tcp/443");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "5 addresses of "
                                                "198.51.100.0/24"));
    CU_ASSERT_EQUAL(evidence_number(r, "connections"), 48);
  }
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* Six CI runners poll their forge every 50 s (3% jitter) for 12 h, each
 * over two front-end addresses of one /24 at random (its own two, as DNS
 * hands them out): each runner's pairs are one rotation, and the six
 * rotations (of 200 hosts) one thing to decide on. They
 * were six medium findings; they are one, "6 internal hosts beacon to
 * addresses of 203.0.113.0/24", medium (software a few hosts share, or
 * one campaign), with the network as its key and no destination host. */
static void test_rotations_of_several_clients(void) {
  seed(22);
  flows fs = {0};
  for (unsigned h = 0; h < 6; h++) {
    nfh_addr runner = tk_ip4(10, 0, 6, 1 + h);
    uint16_t cport = 43000;
    for (double t = (double)T0 + urand() * 50000; t < (double)(T0 + 12 * HOUR);
         t += 50000 * (1 + 0.03 * (2 * urand() - 1))) {
      cport = (uint16_t)(cport + 1);
      unsigned frontend = 21 + 2 * h + (urand() < 0.5);
      conn(&fs, runner, cport, tk_ip4(203, 0, 113, frontend), 443, 6,
           (uint64_t)t, 400, 1800 + (uint64_t)(urand() * 60),
           4400 + (uint64_t)(urand() * 90), 1);
    }
  }
  browsing(&fs, 200, T0, 12 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *g = find(e, "shared|203.0.113.0/24|tcp/443");
  CU_ASSERT_PTR_NOT_NULL(g);
  if (g) {
    printf("\n    %s (%s)", g->f.summary, nfh_severity_name(g->f.severity));
    CU_ASSERT_EQUAL(g->f.severity, NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_number(g, "clients"), 6);
    CU_ASSERT(evidence_flag(g, "rotation"));
    CU_ASSERT_EQUAL(g->f.dst.family, 0);
    double period = evidence_number(g, "period_s");
    CU_ASSERT(period > 45 && period < 55);
    CU_ASSERT_PTR_NOT_NULL(strstr(g->f.summary, "addresses of 203.0.113.0/24"));
  }
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_MEDIUM), 1);
  if (count_at_least(e, NFH_SEV_MEDIUM) != 1)
    dump(e);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A long-poll implant: one HTTPS connection an hour, held open until the
 * server answers, then a new one. The exporter writes the opening
 * (SYN) and the closing (FIN) an hour apart, and between them nothing:
 * the engine sees two connections per session, and the closing one
 * reaches the detector after the next session's opening. Each session
 * is one check-in: 24, not 47. */
static void test_long_poll(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.17"), s = tk_ip("203.0.113.77");
  uint64_t t = T0 + 100 * SEC;
  for (int k = 0; k < 24; k++) {
    uint16_t port = (uint16_t)(46000 + 7 * k);
    add_record(&fs, c, port, s, 443, 6, SYN | ACK | PSH, t, t + 3 * MIN,
               900, 1);
    add_record(&fs, s, 443, c, port, 6, SYN | ACK | PSH, t + 10,
               t + 3 * MIN, 700, 1);
    uint64_t end = t + 59 * MIN + (uint64_t)(urand() * 60000);
    add_record(&fs, c, port, s, 443, 6, ACK | FIN, end, end + 110 * SEC,
               300, 1);
    add_record(&fs, s, 443, c, port, 6, ACK | PSH | FIN, end,
               end + 110 * SEC, 400, 1);
    t = end + 118 * SEC;
  }
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.17|203.0.113.77|tcp/443");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    CU_ASSERT_EQUAL(evidence_number(r, "connections"), 24);
    CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
  }
  nfh_engine_destroy(e);
  tk_flows_free(&fs);

  /* Under sampling most sessions show no SYN (one packet in 100 is
   * kept): a beacon's fresh connections, each on a new port, are still
   * starts. */
  flows sf = {0};
  nfh_addr sc = tk_ip("10.0.0.18"), ss = tk_ip("203.0.113.78");
  for (int k = 0; k < 180; k++) {
    uint64_t at = T0 + (uint64_t)k * MIN + (uint64_t)(urand() * 3000);
    uint16_t port = (uint16_t)(47000 + k);
    add_record(&sf, sc, port, ss, 443, 6, ACK | PSH, at, at + 400, 6000, 100);
    add_record(&sf, ss, 443, sc, port, 6, ACK | PSH, at + 20, at + 400, 12000,
               100);
  }
  e = make(NULL);
  run(e, &sf, NULL);
  r = find(e, "10.0.0.18|203.0.113.78|tcp/443");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r)
    CU_ASSERT(evidence_number(r, "connections") >= 170);
  nfh_engine_destroy(e);
  tk_flows_free(&sf);
}

/* Idle sessions whose keepalives the exporter's inactive timeout cut
 * into records of their own, one every 60 s (SSH) or 25 s (a VPN over
 * UDP): the same 5-tuple each time, so one session, not a beacon. */
static void test_keepalives(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.8"), ssh = tk_ip("198.51.100.23");
  nfh_addr vpn = tk_ip("198.51.100.24");
  add_record(&fs, c, 52223, ssh, 22, 6, SYN | ACK | PSH, T0, T0 + 5000,
             3000, 1);
  add_record(&fs, ssh, 22, c, 52223, 6, SYN | ACK | PSH, T0 + 10, T0 + 5000,
             4000, 1);
  for (uint64_t t = T0 + MIN; t < T0 + 6 * HOUR; t += MIN) {
    add_record(&fs, c, 52223, ssh, 22, 6, ACK | PSH, t, t + 40, 104, 1);
    add_record(&fs, ssh, 22, c, 52223, 6, ACK | PSH, t + 20, t + 40, 104, 1);
  }
  for (uint64_t t = T0; t < T0 + 6 * HOUR; t += 25 * SEC) {
    add_record(&fs, c, 51820, vpn, 51820, 17, 0, t, t, 60, 1);
    add_record(&fs, vpn, 51820, c, 51820, 17, 0, t + 30, t + 30, 60, 1);
  }
  nfh_engine *e = make((const char *const[]){"min_severity", "info", NULL});
  run(e, &fs, NULL);
  /* The engine sees hundreds of connections: the gaps exceed its own. */
  CU_ASSERT(nfh_engine_get_stats(e)->conns > 300);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_INFO), 0);
  if (count_at_least(e, NFH_SEV_INFO))
    dump(e);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

static void test_browsing(void) {
  seed(6);
  flows fs = {0};
  browsing(&fs, 40, T0, 10 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_LOW), 0);
  if (count_at_least(e, NFH_SEV_LOW))
    dump(e);
  nfh_engine_destroy(e);
  /* Nothing at info either: randomness is not regular above chance. */
  e = make((const char *const[]){"min_severity", "info", NULL});
  run(e, &fs, NULL);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_INFO), 0);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* The same beacon through a 1:100 sampling exporter, a third of its
 * beats never seen: still found, with less confidence, and said so. */
static void test_sampled(void) {
  nfh_addr c = tk_ip("10.0.0.23"), s = tk_ip("203.0.113.50");
  const char *key = "10.0.0.23|203.0.113.50|tcp/443";
  seed(7);
  flows plain = {0};
  beacon(&plain, c, s, 443, 6, T0, 4 * HOUR, 120000, 0.05, 0, 1200, 3400, 1);
  nfh_engine *e = make(NULL);
  run(e, &plain, NULL);
  const nfh_report_finding *r = find(e, key);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  double conf_plain = r->f.confidence;
  CU_ASSERT_PTR_NULL(strstr(r->f.summary, "sampled"));
  nfh_engine_destroy(e);

  seed(7);
  flows sampled = {0};
  beacon(&sampled, c, s, 443, 6, T0, 4 * HOUR, 120000, 0.05, 0.33, 1200,
         3400, 100);
  e = make(NULL);
  run(e, &sampled, NULL);
  r = find(e, key);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  printf("\n    %s (confidence %.2f, unsampled %.2f)", r->f.summary,
         r->f.confidence, conf_plain);
  CU_ASSERT(r->f.confidence < conf_plain - 0.1);
  CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "sampled 1:100"));
  CU_ASSERT_PTR_NOT_NULL(strstr(r->f.evidence_json, "\"sampling\": \"1:100\""));
  double period = evidence_number(r, "period_s");
  CU_ASSERT(period > 110 && period < 130);
  nfh_engine_destroy(e);
  tk_flows_free(&plain);
  tk_flows_free(&sampled);
}

/* DNS: to the site's resolver never; to an outside resolver, small and
 * regular, it is a beacon (T1071.004). An allowlisted pair is silent. */
static void test_dns_and_allowlist(void) {
  seed(8);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.61");
  beacon(&fs, c, tk_ip("10.0.0.53"), 53, 17, T0, 6 * HOUR, 300000, 0.05, 0, 60,
         120, 1);
  beacon(&fs, c, tk_ip("192.0.2.53"), 53, 17, T0, 6 * HOUR, 300000, 0.05, 0, 62,
         130, 1);
  beacon(&fs, tk_ip("10.0.0.62"), tk_ip("203.0.113.80"), 443, 6, T0, 6 * HOUR,
         60000, 0.05, 0, 700, 900, 1);
  nfh_engine *e = make((const char *const[]){"internal", "yes", NULL});
  CU_ASSERT_EQUAL(nfh_engine_allow(e, "beaconing", "203.0.113.80:443"),
                  NFH_OK);
  run(e, &fs, NULL);
  CU_ASSERT_PTR_NULL(find(e, "10.0.0.61|10.0.0.53|udp/53"));
  CU_ASSERT_PTR_NULL(find(e, "10.0.0.62|203.0.113.80|tcp/443"));
  const nfh_report_finding *r = find(e, "10.0.0.61|192.0.2.53|udp/53");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  printf("\n    %s", r->f.summary);
  CU_ASSERT_STRING_EQUAL(r->f.mitre, "T1071.004");
  CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
  CU_ASSERT_EQUAL(count_at_least(e, NFH_SEV_INFO), 1);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* IPv6: the key names the addresses as text, the summary brackets the
 * server's. */
static void test_ipv6(void) {
  seed(14);
  flows fs = {0};
  beacon(&fs, tk_ip("fd00::23"), tk_ip("2001:db8:99::50"), 443, 6, T0, 3 * HOUR,
         90000, 0.05, 0, 800, 1600, 1);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "fd00::23|2001:db8:99::50|tcp/443");
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  printf("\n    %s", r->f.summary);
  CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "[2001:db8:99::50]:443"));
  CU_ASSERT_EQUAL(r->f.src.family, 6);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* A host whose IPv6 temporary address (RFC 8981) changes every hour
 * beacons every 300 s for 10 h: ten pairs of an hour each, no finding at
 * all (the same beacon from one address is high). The addresses of one
 * /64 that call one server one after another are one host's: merged,
 * one finding keyed by the /64 and named by the newest address. Two
 * hosts of the same /64 with one agent's keepalive to one server beat
 * at the same time: no such merge. */
static void test_temporary_addresses(void) {
  seed(31);
  flows fs = {0};
  nfh_addr c2 = tk_ip("2001:db8:99::50");
  for (unsigned h = 0; h < 10; h++) {
    char a[64];
    snprintf(a, sizeof(a), "fd00:1::%x:%x", 0xa000 + h * 7, 0x51 + h * 13);
    beacon(&fs, tk_ip(a), c2, 443, 6, T0 + h * HOUR, HOUR, 300000, 0.15, 0,
           1200, 3000, 1);
  }
  nfh_addr agent = tk_ip("2001:db8:77::5");
  beacon(&fs, tk_ip("fd00:1::100"), agent, 443, 6, T0, 10 * HOUR, 300000, 0.02,
         0, 900, 1500, 1);
  beacon(&fs, tk_ip("fd00:1::101"), agent, 443, 6, T0 + 40000, 10 * HOUR,
         300000, 0.02, 0, 900, 1500, 1);
  browsing(&fs, 10, T0, 10 * HOUR);
  nfh_engine *e = make(NULL);
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "fd00:1::/64|2001:db8:99::50|tcp/443");
  if (!r)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r) {
    printf("\n    %s (%s)", r->f.summary, nfh_severity_name(r->f.severity));
    CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->f.summary, "fd00:1::a03f:c6 beacons to "));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r->f.summary, "from 10 addresses of fd00:1::/64"));
    CU_ASSERT_EQUAL(evidence_number(r, "client_rotation.addresses"), 10);
    char dst[NFH_ADDR_STRLEN];
    CU_ASSERT_STRING_EQUAL(nfh_addr_format(&r->f.dst, dst, sizeof(dst)),
                           "2001:db8:99::50");
  }
  size_t n;
  const nfh_report_finding *all = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++) {
    CU_ASSERT_PTR_NULL(strstr(all[i].f.key, "fd00:1::/64|2001:db8:77::5"));
    /* The pieces are not reported besides. */
    CU_ASSERT(!strstr(all[i].f.key, "|2001:db8:99::50|") ||
              strncmp(all[i].f.key, "fd00:1::/64|", 12) == 0);
  }
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

static void test_settings(void) {
  nfh_engine *e = make((const char *const[]){"colour", "blue", NULL});
  CU_ASSERT_EQUAL(nfh_engine_start(e, NULL), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "unknown parameter 'colour'"));
  nfh_engine_destroy(e);

  e = make((const char *const[]){"max_period", "banana", NULL});
  nfh_engine_start(e, NULL);
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "bad value 'banana' for max_period"));
  nfh_engine_destroy(e);

  e = make((const char *const[]){"min_period", "2h", "max_period", "1h",
                                 NULL});
  nfh_engine_start(e, NULL);
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 0);
  nfh_engine_destroy(e);

  e = make((const char *const[]){"min_conns", "10", "max_period", "2h",
                                 "quiet_services", "udp/123, tcp/5222",
                                 "min_severity", "medium", "internal", "no",
                                 "idle_expire", "2d", NULL});
  nfh_engine_start(e, NULL);
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 1);
  if (!nfh_engine_plugin(e, 0)->enabled)
    printf("\n    %s", logs.text);
  nfh_engine_destroy(e);

  e = make((const char *const[]){"quiet_services", "sctp/1", NULL});
  nfh_engine_start(e, NULL);
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 0);
  nfh_engine_destroy(e);
}

/* A damaged blob is ignored with a warning; the run goes on. */
static void test_damaged_state(void) {
  char path[300];
  state_path(path, sizeof(path), "damaged.state");
  nfh_state *st = NULL;
  const char *err;
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_begin(st), NFH_OK);
  static const char junk[] = "NFHBCN\0\0\1\0\0\0garbage that is not a state";
  CU_ASSERT_EQUAL(nfh_state_put_blob(st, "beaconing", junk, sizeof(junk)),
                  NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_state_close(st);

  seed(9);
  flows fs = {0};
  beacon(&fs, tk_ip("10.0.0.23"), tk_ip("203.0.113.50"), 443, 6, T0, 2 * HOUR,
         60000, 0.05, 0, 1200, 3400, 1);
  nfh_engine *e = make(NULL);
  run_stateful(e, &fs, path);
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "damaged"));
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 1);
  CU_ASSERT_PTR_NOT_NULL(find(e, "10.0.0.23|203.0.113.50|tcp/443"));
  nfh_engine_destroy(e);

  /* The blob it saved reads back: the next run of one more hour extends
   * the same timeline. */
  flows more = {0};
  beacon(&more, tk_ip("10.0.0.23"), tk_ip("203.0.113.50"), 443, 6,
         T0 + 2 * HOUR, HOUR, 60000, 0.05, 0, 1200, 3400, 1);
  e = make(NULL);
  run_stateful(e, &more, path);
  CU_ASSERT_PTR_NULL(strstr(logs.text, "damaged"));
  const nfh_report_finding *r = find(e, "10.0.0.23|203.0.113.50|tcp/443");
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r)
    CU_ASSERT(evidence_number(r, "span_s") > 2.9 * 3600);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
  tk_flows_free(&more);
}

/* Tight limits: candidates and events stay within them, the strongest
 * beacons survive eviction, nothing breaks. */
static void test_bounds(void) {
  seed(10);
  flows fs = {0};
  for (unsigned h = 0; h < 200; h++)
    beacon(&fs, tk_ip4(10, 0, 3, h), tk_ip4(203, 0, 113, 1 + h % 50), 443, 6, T0,
           3 * HOUR, 60000 + h * 100, 0.05, 0, 500, 500, 1);
  browsing(&fs, 20, T0, 3 * HOUR);
  nfh_engine *e = make((const char *const[]){"max_candidates", "50",
                                             "max_total_events", "5000",
                                             "max_events", "64",
                                             "max_destinations", "100",
                                             NULL});
  run(e, &fs, NULL);
  size_t n;
  nfh_engine_findings(e, &n);
  CU_ASSERT(n <= 50);
  CU_ASSERT(n >= 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "evicted"));
  CU_ASSERT_EQUAL(nfh_engine_plugin(e, 0)->enabled, 1);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* High-cardinality traffic: 60,000 connections to addresses seen once
 * each, through tables of 500 candidates and 500 destinations, around a
 * 2-minute beacon. Newcomers wait at the door of the full tables instead
 * of evicting the timelines that grow, and the beacon is found. */
static void test_crowd_of_strangers(void) {
  seed(11);
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.0.31"), s = tk_ip("203.0.113.77");
  beacon(&fs, c, s, 8443, 6, T0, 3 * HOUR, 120000, 0.10, 0, 700, 900, 1);
  for (unsigned i = 0; i < 60000; i++)
    conn(&fs, tk_ip4(10, 0, 4, 1 + i % 200), (uint16_t)(30000 + i % 30000),
         tk_ip4(100, 64 + i / 65536, i / 256 % 256, i % 256), 443, 6,
         T0 + (uint64_t)i * (3 * HOUR / 60000), 500, 800, 4000, 1);
  nfh_engine *e = make((const char *const[]){"max_candidates", "500",
                                             "max_destinations", "500",
                                             NULL});
  run(e, &fs, NULL);
  const nfh_report_finding *r = find(e, "10.0.0.31|203.0.113.77|tcp/8443");
  CU_ASSERT_PTR_NOT_NULL(r);
  if (r)
    CU_ASSERT(r->f.severity >= NFH_SEV_MEDIUM);
  CU_ASSERT_PTR_NOT_NULL(strstr(logs.text, "waited at a full table"));
  if (!r)
    dump(e);
  nfh_engine_destroy(e);
  tk_flows_free(&fs);
}

/* -------------------------------------------------- scoring directly */

static nfh__bcn_score_params score_params(void) {
  nfh__bcn_score_params p = {.min_beats = 8,
                             .min_span_ms = 30 * MIN,
                             .min_periods = 6,
                             .min_period_ms = 5 * SEC,
                             .max_period_ms = 6 * HOUR,
                             .max_missed = 3,
                             .merge_ms = SEC,
                             .sampled = 0};
  return p;
}

static void test_score_quantiles(void) {
  double v[] = {1, 2, 3, 4, 5};
  CU_ASSERT_DOUBLE_EQUAL(nfh__bcn_quantile(v, 5, 0.5), 3, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(nfh__bcn_quantile(v, 5, 0.25), 2, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(nfh__bcn_bowley(v, 5), 0, 1e-9);
  double skewed[] = {1, 1, 1, 2, 10};
  CU_ASSERT(nfh__bcn_bowley(skewed, 5) > 0.5);
  double flat[] = {7, 7, 7, 7};
  CU_ASSERT_DOUBLE_EQUAL(nfh__bcn_bowley(flat, 4), 0, 1e-9);
}

/* What the scoring tests hand nfh__bcn_analyse: scratch, start times,
 * bytes of 100 per beat, the detector's default parameters. */
typedef struct score_kit {
  nfh__bcn_scratch sc;
  uint64_t t[512];
  uint32_t b[512];
  nfh__bcn_score_params p;
} score_kit;

static void kit_init(score_kit *k) {
  CU_ASSERT_EQUAL_FATAL(nfh__bcn_scratch_init(&k->sc, 512), 0);
  for (int i = 0; i < 512; i++)
    k->b[i] = 100;
  k->p = score_params();
}

static void test_score_periods(void) {
  static score_kit kit;
  kit_init(&kit);
  nfh__bcn_scratch sc = kit.sc;
  uint64_t *t = kit.t;
  uint32_t *b = kit.b;
  nfh__bcn_score_params p = kit.p;
  nfh__bcn_score s;

  /* Every other beat missing, no jitter: the period, not twice it. */
  size_t n = 0;
  for (int k = 0; k < 60; k++)
    if (k % 2 == 0 || k % 3 == 0)
      t[n++] = T0 + (uint64_t)k * 300000;
  CU_ASSERT(nfh__bcn_analyse(t, b, b, n, &p, &sc, &s));
  CU_ASSERT_DOUBLE_EQUAL(s.period_s, 300, 1);
  CU_ASSERT(s.regularity > 0.6);
  CU_ASSERT(s.missed >= 15);

  /* A check-in and a follow-up 10 s later each beat: the period is the
   * beat's, not the follow-up gap. */
  n = 0;
  for (int k = 0; k < 40; k++) {
    t[n++] = T0 + (uint64_t)k * 600000;
    t[n++] = T0 + (uint64_t)k * 600000 + 10000;
  }
  CU_ASSERT(nfh__bcn_analyse(t, b, b, n, &p, &sc, &s));
  CU_ASSERT_DOUBLE_EQUAL(s.period_s, 600, 5);
  CU_ASSERT(s.clustered);
  CU_ASSERT(s.regularity > 0.6);

  /* Parallel connections within merge_ms are one beat. */
  n = 0;
  for (int k = 0; k < 30; k++)
    for (int j = 0; j < 3; j++)
      t[n++] = T0 + (uint64_t)k * 120000 + (uint64_t)j * 100;
  CU_ASSERT(nfh__bcn_analyse(t, b, b, n, &p, &sc, &s));
  CU_ASSERT_EQUAL(s.beats, 30);
  CU_ASSERT_DOUBLE_EQUAL(s.period_s, 120, 1);

  /* Poisson arrivals: not regular above chance. */
  seed(11);
  for (int trial = 0; trial < 20; trial++) {
    double x = (double)T0;
    for (int i = 0; i < 100; i++) {
      t[i] = (uint64_t)x;
      x += expo(300000);
    }
    nfh__bcn_analyse(t, b, b, 100, &p, &sc, &s);
    CU_ASSERT(s.regularity < 0.2);
  }

  /* Too few beats or too short a span: not analysed. */
  for (int i = 0; i < 7; i++)
    t[i] = T0 + (uint64_t)i * 600000;
  CU_ASSERT_FALSE(nfh__bcn_analyse(t, b, b, 7, &p, &sc, &s));
  for (int i = 0; i < 20; i++)
    t[i] = T0 + (uint64_t)i * 60000;
  CU_ASSERT_FALSE(nfh__bcn_analyse(t, b, b, 20, &p, &sc, &s));

  /* Tiny check-ins differing by a few bytes are regular in size; sizes
   * all over the place are not. */
  for (int i = 0; i < 50; i++) {
    t[i] = T0 + (uint64_t)i * 60000;
    b[i] = 40 + (uint32_t)(i % 7) * 4;
  }
  CU_ASSERT(nfh__bcn_analyse(t, b, b, 50, &p, &sc, &s));
  double tiny = s.bytes_score;
  for (int i = 0; i < 50; i++)
    b[i] = 100 + (uint32_t)(urand() * 20000);
  CU_ASSERT(nfh__bcn_analyse(t, b, b, 50, &p, &sc, &s));
  printf("\n    bytes score: tiny %.2f, random %.2f", tiny, s.bytes_score);
  CU_ASSERT(tiny > 0.6);
  CU_ASSERT(s.bytes_score < 0.3);
  /* The timing does not depend on the sizes. */
  CU_ASSERT(s.regularity > 0.8);
  nfh__bcn_scratch_free(&sc);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The dispersion test (score.h, item 7) on its own. Poisson arrivals
 * pass it about once in a thousand, for any number of intervals (a
 * table with a wrong row lets more through); bursty sessions (a few
 * connections seconds apart) never; jittered beacons nearly always from
 * 14 beats on: a sleep drawn from +-30%, or beats +-30% around a
 * schedule (intervals +-60%) with a beat in 14 missing. */
static void test_score_dispersion(void) {
  static score_kit kit;
  kit_init(&kit);
  uint64_t *t = kit.t;
  nfh__bcn_score s;
  seed(21);
  unsigned trials = 0, passed = 0;
  for (int trial = 0; trial < 4000; trial++) {
    size_t n = 8 + (size_t)trial % 120;
    double x = (double)T0;
    for (size_t i = 0; i < n; i++) {
      t[i] = (uint64_t)x;
      x += expo(600000);
    }
    if (!nfh__bcn_analyse(t, kit.b, kit.b, n, &kit.p, &kit.sc, &s))
      continue;
    trials++;
    passed += s.dispersion <= s.dispersion_chance;
  }
  printf("\n    Poisson: %u of %u pass", passed, trials);
  CU_ASSERT(trials >= 3500);
  /* About 4 expected; 12 or more has a chance under 1 in 3000. */
  CU_ASSERT(passed < 12);

  unsigned bursty = 0;
  for (int trial = 0; trial < 500; trial++) {
    size_t n = 0;
    double x = (double)T0;
    while (n < 40) {
      x += expo(1200000);
      for (int j = 1 + (int)(urand() * 4); j > 0 && n < 40; j--)
        t[n++] = (uint64_t)(x + (double)j * 5000 * (1 + urand()));
    }
    qsort(t, n, sizeof(*t), cmp_u64);
    if (nfh__bcn_analyse(t, kit.b, kit.b, n, &kit.p, &kit.sc, &s))
      bursty += s.dispersion <= s.dispersion_chance;
  }
  CU_ASSERT_EQUAL(bursty, 0);

  for (int style = 0; style < 2; style++) {
    unsigned found = 0;
    for (int trial = 0; trial < 200; trial++) {
      size_t n = 0;
      double x = (double)T0;
      for (int k = 0; n < 14; k++) {
        if (style == 0) {
          x += 1200000 * (1 + 0.3 * (2 * urand() - 1));
          t[n++] = (uint64_t)x;
        } else if (k != 5) {
          t[n++] = T0 + (uint64_t)(1200000 * (k + 0.3 * (2 * urand() - 1)) +
                                   600000);
        }
      }
      qsort(t, n, sizeof(*t), cmp_u64);
      found += nfh__bcn_analyse(t, kit.b, kit.b, n, &kit.p, &kit.sc, &s) &&
               s.dispersion <= s.dispersion_chance;
    }
    printf("; %s: %u of 200", style ? "scheduled" : "sleep", found);
    CU_ASSERT(found >= (style ? 160u : 190u));
  }
  nfh__bcn_scratch_free(&kit.sc);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The scoring's own sort orders like qsort(3): lengths around its
 * cut-over to insertion sort and far above, many equal values, sorted
 * and reversed input. */
static void test_sort(void) {
  seed(7);
  double a[3000], b[3000];
  size_t lens[] = {0, 1, 2, 3, 15, 16, 17, 33, 100, 511, 512, 3000};
  for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
    size_t n = lens[li];
    for (int kind = 0; kind < 4; kind++) {
      for (size_t i = 0; i < n; i++) {
        if (kind == 0)
          a[i] = urand() * 1000;
        else if (kind == 1)
          a[i] = (double)(int)(urand() * 4); /* few distinct values */
        else if (kind == 2)
          a[i] = (double)i;
        else
          a[i] = (double)(n - i);
      }
      memcpy(b, a, n * sizeof(double));
      nfh__bcn_sort(a, n);
      qsort(b, n, sizeof(double), cmp_double);
      CU_ASSERT(memcmp(a, b, n * sizeof(double)) == 0);
    }
  }
}

static int setup(void) { return mkdtemp(dir) ? 0 : -1; }

static int teardown(void) { return tk_remove_tree(dir); }

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("beaconing", setup, teardown);
  CU_add_test(s, "scoring: the sort", test_sort);
  CU_add_test(s, "scoring: quantiles and skew", test_score_quantiles);
  CU_add_test(s, "scoring: periods, missed beats, follow-ups",
              test_score_periods);
  CU_add_test(s, "scoring: dispersion of random and jittered timelines",
              test_score_dispersion);
  CU_add_test(s, "60 s beacon, 10% jitter, 3 h", test_beacon_60s);
  CU_add_test(s, "a beacon from the site's proxy", test_beacon_from_proxy);
  CU_add_test(s, "a beacon that stopped days before the run's end",
              test_beacon_long_ago_in_run);
  CU_add_test(s, "30 s beacon for 12 h: its whole span", test_fast_beacon_span);
  CU_add_test(s, "2.5 s loop for 3 h: found", test_fast_loop);
  CU_add_test(s, "15 min beacon, 20% jitter, 20% missed, 12 h",
              test_beacon_jitter_missed);
  CU_add_test(s, "110 s beacon, 45% jitter: medium over 6 h; random calls are none",
              test_jittered_beacon);
  CU_add_test(s, "a beacon that stopped and came back", test_beacon_with_gap);
  CU_add_test(s, "multicast announcements (mDNS, SSDP)",
              test_multicast_announcements);
  CU_add_test(s,
              "jittered beacons of 12, 16 and 36 beats; random calls are none",
              test_jittered_few_beats);
  CU_add_test(s, "slow beacons of 7 to 10 beats", test_slow_few_beats);
  CU_add_test(s, "beacons in a capture of under an hour",
              test_short_capture);
  CU_add_test(s, "beats +-45% around a 15 min schedule, a tenth missing",
              test_jittered_half_period);
  CU_add_test(s, "30 min beacon over 12 hourly runs", test_slow_across_runs);
  CU_add_test(s, "hourly beacon, full table, 16 hourly runs",
              test_full_table_across_runs);
  CU_add_test(s, "NTP pool from 50 hosts", test_ntp_pool);
  CU_add_test(s, "C2 on udp/123 with beats no NTP poll has",
              test_c2_on_ntp_port);
  CU_add_test(s, "C2 on udp/123 with beats smaller than an NTP packet",
              test_small_beats_on_ntp_port);
  CU_add_test(s, "C2 on udp/123 with NTS-sized beats to a rare server",
              test_nts_sized_beats_rare_server);
  CU_add_test(s, "a reflection flood's answers to nothing",
              test_reflection_answers);
  CU_add_test(s, "uploads on a timer to five servers are no monitor",
              test_timed_uploads_no_monitor);
  CU_add_test(s, "one beacon to a popular address", test_popular_fronted);
  CU_add_test(s, "a sync client on 20 hosts, hourly runs",
              test_shared_sync_hourly);
  CU_add_test(s, "a keepalive of two or four hosts at night",
              test_few_hosts_keepalive);
  CU_add_test(s, "jittered beacons whose check-ins vary in size",
              test_jittered_varied_sizes);
  CU_add_test(s, "bots of one campaign: one medium finding", test_campaign);
  CU_add_test(s, "six clients rotating over one /24: one finding",
              test_rotations_of_several_clients);
  CU_add_test(s, "not campaigns: a suite, stopped keepalives, a share",
              test_campaign_not);
  CU_add_test(s, "not a campaign: a keepalive's quiet clients, across runs",
              test_campaign_not_across_runs);
  CU_add_test(s, "a monitor polling many targets", test_poller);
  CU_add_test(s, "a sampled monitor polling four hosts", test_sampled_poller);
  CU_add_test(s, "periods at the edges", test_period_edges);
  CU_add_test(s, "a beacon rotating over ten ports of one server",
              test_port_rotation);
  CU_add_test(s, "a beacon rotating over 30 networks", test_spread_rotation);
  CU_add_test(s, "a beacon rotating over three addresses of a /24",
              test_rotation);
  CU_add_test(s, "a rotation's members with few beats",
              test_rotation_small_members);
  CU_add_test(s, "hourly 200 MB uploads: a scheduled transfer",
              test_bulk_beats);
  CU_add_test(s, "a stalled session's pieces in its beat",
              test_stalled_pieces_in_beat);
  CU_add_test(s, "a few sampled connections: not said sampled",
              test_few_sampled_not_said);
  CU_add_test(s, "long-poll sessions, opening and closing an hour apart",
              test_long_poll);
  CU_add_test(s, "long SSH session in active-timeout records",
              test_ssh_session);
  CU_add_test(s, "idle sessions' keepalives", test_keepalives);
  CU_add_test(s, "the server's half only (a one-way exporter)",
              test_server_half);
  CU_add_test(s, "a persistent session (one connection for hours)",
              test_persistent_session);
  CU_add_test(s, "sampled pieces on two ports, a run per file",
              test_sampled_pieces_per_rotation);
  CU_add_test(s, "random browsing", test_browsing);
  CU_add_test(s, "sampled beacon", test_sampled);
  CU_add_test(s, "DNS and allowlist", test_dns_and_allowlist);
  CU_add_test(s, "IPv6", test_ipv6);
  CU_add_test(s, "IPv6 temporary addresses, one after another",
              test_temporary_addresses);
  CU_add_test(s, "settings", test_settings);
  CU_add_test(s, "damaged state", test_damaged_state);
  CU_add_test(s, "a crowd of strangers", test_crowd_of_strangers);
  CU_add_test(s, "memory bounds", test_bounds);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
