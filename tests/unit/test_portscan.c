/* test_portscan.c - the port_scan detector, driven through the engine as
 * nfhunt drives it: hand-made flows in, findings out.
 *
 * Each scenario builds flow records as an exporter would write them (one
 * record per direction), feeds them to an engine that has loaded the
 * built module, and checks the findings: scans found at the expected
 * severity, benign fan-out (resolvers, pollers, a busy server, NTP) left
 * alone, sampling lowering confidence, one-way exporters handled, and a
 * slow scan carried across two runs by the state. */
#include "config.h"

#include <CUnit/Basic.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nfhunt/engine.h>
#include <nfhunt/plugin.h>
#include <nfhunt/state.h>

#include "../../plugin/detect/portscan/track.h"
#include "testkit.h"

#define MODULE NFH_TOP_BUILDDIR "/plugin/detect/portscan/.libs/port_scan.so"

#define T0 1700000000000ull /* 2023-11-14T22:13:20Z */
#define MIN 60000ull
#define HOUR 3600000ull

#define S 0x02
#define R 0x04
#define P 0x08
#define A 0x10
#define F 0x01

/* ------------------------------------------------------------- flows */

/* The test's flow records (testkit.h); their sampling applies to every
 * record added. */
typedef tk_flows flows;

static nfh_flow *add(flows *fs, nfh_addr src, uint16_t sp, nfh_addr dst,
                     uint16_t dp, uint8_t proto, uint8_t flags,
                     uint64_t t_ms, uint64_t packets) {
  nfh_flow *f = tk_flows_push(fs);
  uint32_t samp = f->sampling;
  f->first_ms = t_ms;
  f->last_ms = t_ms + (packets > 1 ? 20 * packets : 0);
  f->src = src;
  f->dst = dst;
  f->src_port = sp;
  f->dst_port = dp;
  f->proto = proto;
  f->tcp_flags = flags;
  /* As nfcapd stores them: already scaled by the sampling interval. */
  f->packets = packets * samp;
  f->bytes = packets * samp * (proto == 6 ? 60 : 80);
  return f;
}

/* TCP probe outcomes, as the two directions' records show them. */
static void syn_silent(flows *fs, nfh_addr c, uint16_t cp, nfh_addr s,
                       uint16_t port, uint64_t t) {
  add(fs, c, cp, s, port, 6, S, t, 2); /* SYN and one retransmission */
}

static void syn_refused(flows *fs, nfh_addr c, uint16_t cp, nfh_addr s,
                        uint16_t port, uint64_t t) {
  add(fs, c, cp, s, port, 6, S, t, 1);
  add(fs, s, port, c, cp, 6, R | A, t + 1, 1);
}

static void syn_open(flows *fs, nfh_addr c, uint16_t cp, nfh_addr s,
                     uint16_t port, uint64_t t) {
  add(fs, c, cp, s, port, 6, S | R, t, 2); /* half-open scan */
  add(fs, s, port, c, cp, 6, S | A, t + 1, 1);
}

static void session(flows *fs, nfh_addr c, uint16_t cp, nfh_addr s,
                    uint16_t port, uint64_t t) {
  add(fs, c, cp, s, port, 6, S | A | P | F, t, 10);
  add(fs, s, port, c, cp, 6, S | A | P | F, t + 1, 12);
}

static void udp_answered(flows *fs, nfh_addr c, uint16_t cp, nfh_addr s,
                         uint16_t port, uint64_t t) {
  add(fs, c, cp, s, port, 17, 0, t, 1);
  add(fs, s, port, c, cp, 17, 0, t + 2, 1);
}

static void udp_silent(flows *fs, nfh_addr c, uint16_t cp, nfh_addr s,
                       uint16_t port, uint64_t t) {
  add(fs, c, cp, s, port, 17, 0, t, 1);
}

static void ping(flows *fs, nfh_addr c, nfh_addr s, uint64_t t, int reply) {
  nfh_flow *f = add(fs, c, 0, s, 8 * 256, 1, 0, t, 1);
  f->icmp_type = 8;
  if (reply) {
    f = add(fs, s, 0, c, 0, 1, 0, t + 1, 1);
    f->icmp_type = 0;
  }
}

static void port_unreachable(flows *fs, nfh_addr target, nfh_addr prober,
                             uint64_t t) {
  nfh_flow *f = add(fs, target, 0, prober, 3 * 256 + 3, 1, 0, t, 1);
  f->icmp_type = 3;
  f->icmp_code = 3;
}

static int by_time(const void *pa, const void *pb) {
  const nfh_flow *a = pa, *b = pb;
  return a->first_ms < b->first_ms ? -1 : a->first_ms > b->first_ms;
}

/* A deterministic pseudo-random sequence for the backgrounds. */
static uint32_t rnd(uint32_t *state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

/* ------------------------------------------------------------ engine */

static char log_lines[8192];

static void on_log(void *user, int level, const char *source,
                   const char *line) {
  (void)user;
  size_t n = strlen(log_lines);
  if (level <= NFH_LOG_INFO && n + strlen(line) + 40 < sizeof(log_lines))
    snprintf(log_lines + n, sizeof(log_lines) - n, "%s: %s\n", source, line);
}

/* Runs the detector over the flows (sorted here) with optional settings
 * ("key", "value", ..., NULL) and state. Returns the finished engine;
 * the caller destroys it. */
static nfh_engine *hunt_state(flows *fs, nfh_state *state, ...) {
  nfh_engine_options o;
  memset(&o, 0, sizeof(o));
  o.log = on_log;
  log_lines[0] = '\0';
  nfh_engine *e = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_engine_create(&o, &e), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, MODULE), NFH_OK);
  va_list ap;
  va_start(ap, state);
  for (;;) {
    const char *k = va_arg(ap, const char *);
    if (!k)
      break;
    const char *v = va_arg(ap, const char *);
    CU_ASSERT_EQUAL(nfh_engine_set(e, "port_scan", k, v), NFH_OK);
  }
  va_end(ap);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_start(e, state), NFH_OK);
  qsort(fs->v, fs->n, sizeof(nfh_flow), by_time);
  for (size_t off = 0; off < fs->n; off += 1000) {
    size_t k = fs->n - off < 1000 ? fs->n - off : 1000;
    CU_ASSERT_EQUAL_FATAL(nfh_engine_add_flows(e, fs->v + off, k), NFH_OK);
  }
  CU_ASSERT_EQUAL_FATAL(nfh_engine_finish(e, state), NFH_OK);
  return e;
}

#define hunt(fs, ...) hunt_state(fs, NULL, ##__VA_ARGS__, NULL)

/* Makes 'path' (a mkstemp(3) template) a name no file has yet, for a
 * state to be created at. */
static void fresh_path(char *path) {
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  close(fd);
  unlink(path);
}

static const nfh_finding *find(nfh_engine *e, const char *key) {
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(r[i].f.key, key) == 0)
      return &r[i].f;
  return NULL;
}

static size_t count(nfh_engine *e) {
  size_t n;
  nfh_engine_findings(e, &n);
  return n;
}

static nfh_severity max_severity(nfh_engine *e) {
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  nfh_severity m = NFH_SEV_INFO;
  for (size_t i = 0; i < n; i++)
    if (r[i].f.severity > m)
      m = r[i].f.severity;
  return m;
}

static void dump(nfh_engine *e) {
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, "  [%s %.1f %.2f] %s | %s\n",
            nfh_severity_name(r[i].f.severity), r[i].f.score,
            r[i].f.confidence, r[i].f.key, r[i].f.summary);
  if (log_lines[0])
    fprintf(stderr, "%s", log_lines);
}

/* A number in the evidence: the value after "\"name\": ". */
static double evidence_num(const nfh_finding *f, const char *name) {
  char pat[64];
  snprintf(pat, sizeof(pat), "\"%s\": ", name);
  const char *p = f && f->evidence_json ? strstr(f->evidence_json, pat) : 0;
  return p ? atof(p + strlen(pat)) : -1;
}

static void free_flows(flows *fs) {
  tk_flows_free(fs);
  memset(fs, 0, sizeof(*fs));
}

/* ------------------------------------------------------------- scans */

/* An outside IPv6 scanner that takes a new address of its /64 for every
 * probe (each a stranger that tried once) sweeps 300 of our hosts on
 * tcp/22, and another probes 400 ports of one host. Per address they
 * were nothing; the /64 is one source: medium, named as the /64. */
static void rotating_v6(flows *fs, int vertical, unsigned seed) {
  uint32_t st = seed;
  for (unsigned i = 0; i < (vertical ? 400u : 300u); i++) {
    char a[64];
    snprintf(a, sizeof(a), "2001:db8:bad:%x:%x:%x:%x:%x", vertical ? 2 : 1,
             rnd(&st) & 0xffff, rnd(&st) & 0xffff, rnd(&st) & 0xffff,
             rnd(&st) & 0xffff);
    char t[64];
    snprintf(t, sizeof(t), "2001:db8:100:%x::%x", vertical ? 9 : 1 + i / 200,
             vertical ? 5 : 1 + i % 200);
    uint16_t port = vertical ? (uint16_t)(1 + i * 3) : 22;
    if (i % 5)
      syn_silent(fs, tk_ip(a), (uint16_t)(40000 + i), tk_ip(t), port,
                 T0 + i * 1500);
    else
      syn_refused(fs, tk_ip(a), (uint16_t)(40000 + i), tk_ip(t), port,
                  T0 + i * 1500);
  }
}

/* nmap's host discovery before a port scan: a ping (answered) beside
 * 60 ports, 3 of them open. The ping is no port: "60 TCP ports ... 3
 * open, and a ping answered" (it read "61 TCP ports ... 4 open"). */
static void test_vertical_with_ping(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("203.0.113.45"), t = tk_ip("198.51.100.20");
  for (unsigned i = 0; i < 60; i++) {
    uint64_t when = T0 + 1000 + i * 300;
    if (i == 30) /* nmap pings as it goes, too */
      ping(&fs, c, t, when - 100, 1);
    if (i % 20 == 5)
      syn_open(&fs, c, (uint16_t)(40000 + i), t, (uint16_t)(20 + i), when);
    else
      syn_refused(&fs, c, (uint16_t)(40000 + i), t, (uint16_t)(20 + i), when);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "v|203.0.113.45|198.51.100.20");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    printf("\n    %s", f->summary);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "probed 60 TCP ports"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "3 open, and a ping answered"));
  } else {
    dump(e);
  }
  nfh_engine_destroy(e);
  free_flows(&fs);
}

static void test_v6_rotating_source(void) {
  for (int vertical = 0; vertical < 2; vertical++) {
    flows fs = {0};
    rotating_v6(&fs, vertical, 5u + (unsigned)vertical);
    nfh_engine *e = hunt(&fs);
    const nfh_finding *f =
        find(e, vertical ? "v|2001:db8:bad:2::/64|2001:db8:100:9::5"
                         : "h|2001:db8:bad:1::/64|tcp/22");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f) {
      printf("\n    %s (%s)", f->summary, nfh_severity_name(f->severity));
      CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
      CU_ASSERT_PTR_NOT_NULL(
          strstr(f->summary, vertical ? "2001:db8:bad:2::/64 probed 400 TCP "
                                        "ports"
                                      : "2001:db8:bad:1::/64 probed 300 "
                                        "hosts"));
      /* src is the network's address; the evidence names the network. */
      CU_ASSERT_PTR_NOT_NULL(
          strstr(f->evidence_json,
                 vertical ? "\"source_network\": \"2001:db8:bad:2::/64\""
                          : "\"source_network\": \"2001:db8:bad:1::/64\""));
    }
    CU_ASSERT_EQUAL(count(e), 1);
    if (!f || count(e) != 1)
      dump(e);
    nfh_engine_destroy(e);
    free_flows(&fs);
  }

  /* Not merged: 30 hosts of one of our /64s, each reaching 10 of our
   * hosts on tcp/22 with three of them silent (an admin subnet), and 40
   * outside addresses of one /64 (a household, a cloud subnet) each
   * fetching from our web server. */
  flows fs = {0};
  for (unsigned h = 0; h < 30; h++) {
    char a[64];
    snprintf(a, sizeof(a), "2001:db8:100:7::%x", 0x100 + h);
    for (unsigned i = 0; i < 10; i++) {
      char t[64];
      snprintf(t, sizeof(t), "2001:db8:100:3::%x", 1 + (h * 7 + i) % 60);
      uint64_t when = T0 + h * 20000 + i * 700;
      if (i < 3)
        syn_silent(&fs, tk_ip(a), (uint16_t)(41000 + i), tk_ip(t), 22, when);
      else
        session(&fs, tk_ip(a), (uint16_t)(41000 + i), tk_ip(t), 22, when);
    }
  }
  for (unsigned h = 0; h < 40; h++) {
    char a[64];
    snprintf(a, sizeof(a), "2001:db8:cafe:1:%x::1", 0x10 + h);
    for (unsigned i = 0; i < 5; i++)
      session(&fs, tk_ip(a), (uint16_t)(50000 + i), tk_ip("2001:db8:100::80"),
              443, T0 + h * 9000 + i * 1000);
  }
  nfh_engine *e = hunt(&fs);
  CU_ASSERT_EQUAL(count(e), 0);
  if (count(e))
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* An internal host sweeps 200 internal hosts on tcp/445 in 3 minutes:
 * most silent, some refusing, a few open. Lateral movement: medium or
 * above, one finding, with the numbers in the summary. */
static void build_horizontal(flows *fs, const char *src, unsigned nhosts) {
  nfh_addr c = tk_ip(src);
  for (unsigned i = 0; i < nhosts; i++) {
    nfh_addr s = tk_ip4(10, 2, (i >> 8) & 0xff, i & 0xff);
    uint64_t t = T0 + i * 900;
    uint16_t cp = (uint16_t)(40000 + i);
    if (i % 10 == 3)
      syn_open(fs, c, cp, s, 445, t);
    else if (i % 4 == 0)
      syn_refused(fs, c, cp, s, 445, t);
    else
      syn_silent(fs, c, cp, s, 445, t);
  }
}

static void test_horizontal_fast(void) {
  flows fs = {0};
  build_horizontal(&fs, "10.1.1.5", 200);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.1.1.5|tcp/445");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(f->dst_port, 445);
    CU_ASSERT_EQUAL(f->proto, 6);
    CU_ASSERT_STRING_EQUAL(f->mitre, "T1046");
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "10.1.1.5 probed 200 hosts "
                                              "on tcp/445 in 3 min, 90% "
                                              "failed"));
    CU_ASSERT_EQUAL(evidence_num(f, "hosts"), 200);
    CU_ASSERT_EQUAL(evidence_num(f, "answered"), 20);
    CU_ASSERT_EQUAL(evidence_num(f, "rst"), 50);
    CU_ASSERT_EQUAL(evidence_num(f, "no_reply"), 130);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->evidence_json, "\"scanner\": true"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f->evidence_json, "\"speed\": \"fast\""));
    CU_ASSERT(f->confidence >= 0.8);
  }
  CU_ASSERT_EQUAL(count(e), 1);
  if (!f || count(e) != 1)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* One outside source probing 48 of our hosts on tcp/22, or 48 ports of
 * one host, all refused or unanswered, is reconnaissance: medium (at the
 * old weight of outside scans it was low below about 75). Twenty of
 * either is the Internet's background: info at most. */
static void test_outside_scans_by_breadth(void) {
  static const unsigned widths[] = {20, 48};
  for (size_t w = 0; w < 2; w++) {
    for (int vertical = 0; vertical < 2; vertical++) {
      flows fs = {0};
      nfh_addr c = tk_ip("203.0.113.77"), one = tk_ip("10.4.2.9");
      for (unsigned i = 0; i < widths[w]; i++) {
        uint64_t t = T0 + i * 3000;
        uint16_t cp = (uint16_t)(40000 + i);
        nfh_addr s = vertical ? one : tk_ip4(10, 4, 1, (uint8_t)(1 + i));
        uint16_t port = vertical ? (uint16_t)(1000 + 7 * i) : 22;
        if (i % 3)
          syn_silent(&fs, c, cp, s, port, t);
        else
          syn_refused(&fs, c, cp, s, port, t);
      }
      nfh_engine *e = hunt(&fs);
      char key[64];
      snprintf(key, sizeof(key),
               vertical ? "v|203.0.113.77|10.4.2.9" : "h|203.0.113.77|tcp/22");
      const nfh_finding *f = find(e, key);
      if (widths[w] >= 48) {
        CU_ASSERT_PTR_NOT_NULL(f);
        if (f) {
          CU_ASSERT_EQUAL(f->severity, NFH_SEV_MEDIUM);
          printf("\n    %s (%s)", f->summary, nfh_severity_name(f->severity));
        }
      } else {
        CU_ASSERT(f == NULL || f->severity <= NFH_SEV_INFO);
      }
      if (widths[w] >= 48 && (!f || f->severity != NFH_SEV_MEDIUM))
        dump(e);
      nfh_engine_destroy(e);
      free_flows(&fs);
    }
  }
}

/* An outside scanner sweeps 130 of our hosts on tcp/22 in 10 minutes and
 * finds SSH open on every fourth: 75% failed. A targeted sweep that finds
 * live services is no less a scan than one that finds none: medium, as
 * the same sweep with nothing open is (it was low, its score held down
 * by the answers). */
static void test_sweep_finding_services(void) {
  for (int open_every = 4; open_every <= 1000; open_every *= 250) {
    flows fs = {0};
    nfh_addr c = tk_ip("203.0.113.99");
    for (unsigned i = 0; i < 130; i++) {
      nfh_addr s = tk_ip4(10, 4, 0, (uint8_t)(1 + i));
      uint64_t t = T0 + i * 4600;
      uint16_t cp = (uint16_t)(41000 + i);
      if (i % (unsigned)open_every == 2)
        syn_open(&fs, c, cp, s, 22, t);
      else
        syn_silent(&fs, c, cp, s, 22, t);
    }
    nfh_engine *e = hunt(&fs);
    const nfh_finding *f = find(e, "h|203.0.113.99|tcp/22");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f)
      CU_ASSERT_EQUAL(f->severity, NFH_SEV_MEDIUM);
    if (!f || f->severity != NFH_SEV_MEDIUM || getenv("DUMP"))
      dump(e);
    nfh_engine_destroy(e);
    free_flows(&fs);
  }
}

/* An internal host walks 300 ports of one server over six hours, one
 * probe every 72 s: closed ports refuse, 22 and 80 are open. Vertical and
 * slow, medium or above. */
static void build_vertical_slow(flows *fs, uint64_t from_ms, unsigned first,
                                unsigned last) {
  nfh_addr c = tk_ip("10.1.1.7"), s = tk_ip("10.3.0.9");
  for (unsigned p = first; p < last; p++) {
    uint64_t t = from_ms + (uint64_t)(p - first) * 72000;
    uint16_t cp = (uint16_t)(50000 + p);
    if (p == 22 || p == 80 || p == 443)
      syn_open(fs, c, cp, s, (uint16_t)p, t);
    else
      syn_refused(fs, c, cp, s, (uint16_t)p, t);
  }
}

static void test_vertical_slow(void) {
  flows fs = {0};
  build_vertical_slow(&fs, T0, 1, 301);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "v|10.1.1.7|10.3.0.9");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_num(f, "ports"), 300);
    CU_ASSERT_EQUAL(evidence_num(f, "open"), 2); /* 22, 80 */
    CU_ASSERT_PTR_NOT_NULL(strstr(f->evidence_json, "\"speed\": \"slow\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "6.0 h"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f->evidence_json, "\"tcp/22\""));
  }
  CU_ASSERT_EQUAL(count(e), 1);
  if (!f || count(e) != 1)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* Eight internal hosts each try five different hosts on tcp/445 within
 * 20 minutes: no single one reaches min_hosts, together they sweep 40. */
static void test_distributed(void) {
  flows fs = {0};
  for (unsigned k = 0; k < 8; k++) {
    nfh_addr c = tk_ip4(10, 9, 0, 10 + k);
    for (unsigned i = 0; i < 5; i++) {
      nfh_addr s = tk_ip4(10, 4, 1, k * 5 + i + 1);
      syn_silent(&fs, c, (uint16_t)(30000 + i), s, 445,
                 T0 + k * 2 * MIN + i * 1000);
    }
  }
  /* And an external botnet on our edge, tcp/23. */
  for (unsigned k = 0; k < 10; k++) {
    nfh_addr c = tk_ip4(198, 51, 100, 1 + k * 7);
    for (unsigned i = 0; i < 4; i++) {
      nfh_addr s = tk_ip4(192, 168, 7, k * 4 + i + 1);
      syn_silent(&fs, c, (uint16_t)(30000 + i), s, 23,
                 T0 + k * MIN + i * 500);
    }
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "d|tcp/445");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_num(f, "sources"), 8);
    CU_ASSERT_EQUAL(evidence_num(f, "hosts"), 40);
    CU_ASSERT_EQUAL(f->src.family, 0);
    CU_ASSERT_EQUAL(f->dst_port, 445);
  }
  const nfh_finding *g = find(e, "d|tcp/23");
  CU_ASSERT_PTR_NOT_NULL(g);
  if (g) {
    /* The Internet's background: kept low. */
    CU_ASSERT(g->severity <= NFH_SEV_LOW);
    CU_ASSERT_PTR_NOT_NULL(strstr(g->mitre, "T1595"));
  }
  CU_ASSERT_EQUAL(count(e), 2);
  if (!f || !g || count(e) != 2)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);

  /* The hosts of a sweep are counted exactly while they are few (a
   * sketch said 119 for 30 sources' 120), whatever the addresses. */
  int wrong = 0;
  for (unsigned n = 12; n < 52; n += 3) {
    flows ds = {0};
    for (unsigned k = 0; k < n; k++) {
      nfh_addr c = tk_ip4(10, 9, 1 + k / 200, 10 + k % 200);
      for (unsigned i = 0; i < 4; i++) {
        unsigned h = (k * 4 + i) * 37 + n;
        nfh_addr s = tk_ip4(10, 5, (h >> 8) & 0xff, h & 0xff);
        syn_silent(&ds, c, (uint16_t)(30000 + i), s, 3389,
                   T0 + k * 30000 + i * 500);
      }
    }
    e = hunt(&ds);
    const nfh_finding *d = find(e, "d|tcp/3389");
    if (!d || evidence_num(d, "hosts") != 4.0 * n) {
      fprintf(stderr, "  %u sources: %.0f hosts\n", n,
              d ? evidence_num(d, "hosts") : -1);
      wrong++;
    }
    nfh_engine_destroy(e);
    free_flows(&ds);
  }
  CU_ASSERT_EQUAL(wrong, 0);
}

/* An internal host sweeps 60 internal hosts on tcp/22, each silent, and
 * its one query each to an outside name server and time server goes
 * unanswered (replies lost to sampling nobody announced). The sweep is
 * one finding of tcp/22: the two ports of one host each are no part of
 * it. */
static void test_sweep_beside_lone_failures(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.99.0.25");
  for (unsigned i = 0; i < 60; i++)
    syn_silent(&fs, c, (uint16_t)(40000 + i), tk_ip4(10, 99, 1, (uint8_t)(10 + i)),
               22, T0 + i * 200);
  udp_silent(&fs, c, 50000, tk_ip("198.18.53.53"), 53, T0 + 5);
  udp_silent(&fs, c, 50001, tk_ip("198.18.123.123"), 123, T0 + 7);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.99.0.25|tcp/22");
  if (!f)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_num(f, "hosts"), 60);
  }
  CU_ASSERT_PTR_NULL(find(e, "h|10.99.0.25|*"));
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* IPFIX biflows as nfcapd keeps them (softflowd -b): one record for
 * both directions, its source the lower address, its one flags field the
 * destination side's. An outside prober's SYN scan of 200 ports is the
 * target's records: source the target, 1 packet each way, flags the
 * prober's bare SYN; the target's resets are known only as an answer
 * the prober never acknowledged. A SYN flood's records from spoofed
 * sources carry the victim's SYN-ACK. The scan is a vertical scan, and
 * the victim no scanner. */
static void test_biflow_records(void) {
  flows fs = {0};
  nfh_addr prober = tk_ip("198.18.66.41"), target = tk_ip("10.99.0.11");
  for (unsigned p = 1; p <= 200; p++) {
    nfh_flow *f = add(&fs, target, (uint16_t)p, prober, 48663, 6, S,
                      T0 + p * 5, 1);
    f->flags |= NFH_FLOW_HAS_OUT;
    f->out_packets = 1;
    f->out_bytes = 44;
  }
  nfh_addr victim = tk_ip("10.99.0.10");
  for (unsigned i = 0; i < 300; i++) {
    nfh_flow *f = add(&fs, tk_ip4(1, 2, (uint8_t)(i >> 8), (uint8_t)i),
                      (uint16_t)(2000 + i), victim, 80, 6, S | A,
                      T0 + MIN + i * 3, 1);
    f->flags |= NFH_FLOW_HAS_OUT;
    f->out_packets = 1;
    f->out_bytes = 44;
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "v|198.18.66.41|10.99.0.11");
  if (!f)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_num(f, "ports"), 200);
    CU_ASSERT_EQUAL(evidence_num(f, "open"), 0);
  }
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++)
    CU_ASSERT_PTR_NULL(strstr(r[i].f.key, "10.99.0.10"));
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* Probes that draw a bare reset: nmap's Null scan (no flag), ACK scan
 * and Maimon scan (FIN/ACK) of 300 ports of one host, each refused by
 * the host's RST. Each is a vertical scan. A client whose five stale
 * sessions (idle past a firewall's timeout) each meet one reset is
 * none. */
static void test_reset_only_probes(void) {
  flows fs = {0};
  static const struct {
    const char *src;
    uint8_t flags, reply;
  } scans[] = {{"198.18.66.50", 0, R | A},
               {"198.18.66.51", A, R},
               {"198.18.66.52", F | A, R}};
  nfh_addr target = tk_ip("10.99.0.10");
  for (unsigned k = 0; k < 3; k++) {
    nfh_addr c = tk_ip(scans[k].src);
    for (unsigned p = 1; p <= 300; p++) {
      uint64_t t = T0 + k * MIN + p * 5;
      add(&fs, c, 61000, target, (uint16_t)p, 6, scans[k].flags, t, 1);
      add(&fs, target, (uint16_t)p, c, 61000, 6, scans[k].reply, t + 1, 1);
    }
  }
  nfh_addr stale = tk_ip("10.99.0.20");
  for (unsigned i = 0; i < 5; i++) {
    nfh_addr srv = tk_ip4(198, 18, (uint8_t)(10 + i), 20);
    add(&fs, stale, (uint16_t)(40000 + i), srv, 443, 6, A | P, T0 + i * MIN, 1);
    add(&fs, srv, 443, stale, (uint16_t)(40000 + i), 6, R, T0 + i * MIN + 1, 1);
  }
  nfh_engine *e = hunt(&fs);
  for (unsigned k = 0; k < 3; k++) {
    char key[64];
    snprintf(key, sizeof(key), "v|%s|10.99.0.10", scans[k].src);
    const nfh_finding *f = find(e, key);
    if (!f)
      dump(e);
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f) {
      CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
      CU_ASSERT_EQUAL(evidence_num(f, "ports"), 300);
      CU_ASSERT_EQUAL(evidence_num(f, "rst"), 300);
    }
  }
  CU_ASSERT_EQUAL(count(e), 3);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* nmap -sn from outside: each host gets an echo request and a SYN to
 * tcp/443, and a host that answers the echo gets nothing more. The
 * sweep is one finding of both ports (key h|SRC|*), not one a port, and
 * the live hosts, which answered before the first failure and are kept
 * only in icmp/echo's count, are counted: 254 hosts, 32 answered. It
 * read "222 hosts, 100% failed" from the other port's hosts alone. */
static void test_ping_sweep_two_ports(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("198.18.66.43");
  unsigned live = 0;
  for (unsigned i = 1; i <= 254; i += 8, live++)
    ping(&fs, c, tk_ip4(10, 99, 0, (uint8_t)i), T0 + i * 10, 1);
  for (unsigned i = 1; i <= 254; i++) {
    if (i % 8 == 1)
      continue;
    uint64_t t = T0 + 3000 + i * 10;
    ping(&fs, c, tk_ip4(10, 99, 0, (uint8_t)i), t, 0);
    syn_silent(&fs, c, (uint16_t)(50000 + i), tk_ip4(10, 99, 0, (uint8_t)i),
               443, t + 1);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|198.18.66.43|*");
  if (!f)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "on 2 ports (icmp/echo, tcp/443)"));
    CU_ASSERT_EQUAL(evidence_num(f, "hosts"), 254);
    CU_ASSERT_EQUAL(evidence_num(f, "answered"), live);
    CU_ASSERT_EQUAL(evidence_num(f, "failed"), 254 - live);
  }
  CU_ASSERT_PTR_NULL(find(e, "h|198.18.66.43|tcp/443"));
  CU_ASSERT_PTR_NULL(find(e, "h|198.18.66.43|icmp/echo"));
  CU_ASSERT_EQUAL(count(e), 1);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* An internal host pings 1,024 addresses of a /22 of which about a
 * third answer (a monitor's or inventory tool's sweep looks the same
 * as an intruder's host discovery): medium, remote system discovery
 * (T1018), "a ping sweep". Another host's SYN sweep of the same hosts
 * on tcp/445, as many answered, probes services: high, T1046. The
 * ping sweep was high. A monitor pinging 300 hosts every 5 minutes for
 * an hour, 60% of them down, pings in rounds: low at most (it was
 * medium). */
static void test_ping_sweep_capped(void) {
  flows fs = {0};
  nfh_addr pinger = tk_ip("10.99.8.5"), sweeper = tk_ip("10.99.8.6");
  for (unsigned i = 0; i < 1024; i++) {
    nfh_addr t = tk_ip4(10, 99, (uint8_t)(12 + i / 256), (uint8_t)i);
    int live = i % 3 == 0;
    ping(&fs, pinger, t, T0 + i * 100, live);
    if (live)
      syn_open(&fs, sweeper, (uint16_t)(40000 + i), t, 445, T0 + MIN + i * 100);
    else
      syn_silent(&fs, sweeper, (uint16_t)(40000 + i), t, 445,
                 T0 + MIN + i * 100);
  }
  nfh_addr monitor = tk_ip("10.99.8.4");
  for (unsigned k = 0; k < 12; k++)
    for (unsigned i = 0; i < 300; i++)
      ping(&fs, monitor, tk_ip4(10, 99, 40 + (uint8_t)(i / 200), (uint8_t)i),
           T0 + k * 300000 + i * 200, i % 5 < 2);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *p = find(e, "h|10.99.8.5|icmp/echo");
  const nfh_finding *q = find(e, "h|10.99.8.6|tcp/445");
  const nfh_finding *m = find(e, "h|10.99.8.4|icmp/echo");
  if (m && m->severity > NFH_SEV_LOW)
    dump(e);
  CU_ASSERT(!m || m->severity <= NFH_SEV_LOW);
  if (m)
    CU_ASSERT_PTR_NOT_NULL(strstr(m->summary, "in rounds"));
  if (!p || !q)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(p);
  CU_ASSERT_PTR_NOT_NULL(q);
  if (p) {
    CU_ASSERT_EQUAL(p->severity, NFH_SEV_MEDIUM);
    CU_ASSERT_STRING_EQUAL(p->mitre, "T1018");
    CU_ASSERT_PTR_NOT_NULL(strstr(p->summary, "a ping sweep"));
    CU_ASSERT_EQUAL(evidence_num(p, "hosts"), 1024);
  }
  if (q) {
    CU_ASSERT(q->severity >= NFH_SEV_HIGH);
    CU_ASSERT_STRING_EQUAL(q->mitre, "T1046");
    CU_ASSERT_PTR_NULL(strstr(q->summary, "ping"));
  }
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* nmap -sS over a server /24 where 60% of the hosts run SSH: every open
 * port's SYN-ACK draws the scanner's reset (half-open). Those count as
 * failures (no connection was made) and are shown as answered: high,
 * "153 answered and dropped by the prober (a half-open scan)". It was
 * nothing: the open 60% read as connections. A load balancer's
 * half-open health checks of its 30 servers, every 20 min for an hour,
 * are health checks: info. A dual-stack laptop whose IPv4 handshakes
 * lose the Happy Eyeballs race to IPv6 and are reset, at 160 web sites
 * over 6 hours, is no scan (it was medium): out on the Internet such
 * handshakes are everyday. */
static void test_half_open_sweep(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.99.8.7"), lb = tk_ip("10.99.8.8");
  unsigned open = 0;
  for (unsigned i = 1; i <= 254; i++) {
    nfh_addr t = tk_ip4(10, 99, 20, (uint8_t)i);
    uint64_t when = T0 + i * 500;
    if (i % 5 < 3) {
      syn_open(&fs, c, (uint16_t)(40000 + i), t, 22, when);
      open++;
    } else {
      syn_silent(&fs, c, (uint16_t)(40000 + i), t, 22, when);
    }
  }
  for (unsigned k = 0; k < 3; k++)
    for (unsigned i = 1; i <= 30; i++)
      syn_open(&fs, lb, (uint16_t)(20000 + (k * 30 + i) % 40000),
               tk_ip4(10, 99, 30, (uint8_t)i), 80, T0 + k * 1200000 + i * 10);
  nfh_addr laptop = tk_ip("10.99.8.9");
  for (unsigned i = 0; i < 160; i++) {
    nfh_addr web = tk_ip4(151, 101, (uint8_t)(i / 8), (uint8_t)(1 + i * 7));
    uint64_t when = T0 + (uint64_t)i * 135000;
    if (i % 10 < 7)
      syn_open(&fs, laptop, (uint16_t)(50000 + i), web, 443, when);
    else
      session(&fs, laptop, (uint16_t)(50000 + i), web, 443, when);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.99.8.7|tcp/22");
  if (!f)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_HIGH);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "a half-open scan"));
    CU_ASSERT_EQUAL(evidence_num(f, "answered"), open);
    CU_ASSERT_EQUAL(evidence_num(f, "half_open"), open);
    CU_ASSERT_EQUAL(evidence_num(f, "failed"), 254 - open);
  }
  const nfh_finding *h = find(e, "h|10.99.8.8|tcp/80");
  if (h && h->severity > NFH_SEV_INFO)
    dump(e);
  CU_ASSERT(!h || h->severity == NFH_SEV_INFO);
  if (h)
    CU_ASSERT_PTR_NOT_NULL(strstr(h->summary, "health checks"));
  const nfh_finding *w = find(e, "h|10.99.8.9|tcp/443");
  if (w && w->severity >= NFH_SEV_MEDIUM)
    dump(e);
  CU_ASSERT(!w || w->severity < NFH_SEV_MEDIUM);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* Open ports are counted, never extrapolated, and no count exceeds what
 * there is (a real nmap and masscan, through softflowd and nfcapd):
 * - a half-open scan of 20,000 ports of one host, 7 open, some of them
 *   past the services kept exactly, read "96 open" (the exact part's
 *   share scaled up) and then, kept part only, "6 open";
 * - an outside SYN sweep of 200 hosts on three ports, 20 of them
 *   answering on SSH and dropped, read "100% failed" with no word of
 *   them (the several-ports summary did not show half-open answers);
 * - nmap -sT of 255 hosts on 20 ports, each unanswered probe tried
 *   twice, read "38 ports (~6017 host-ports)": past the exact services
 *   the retries counted as ports. */
static void test_open_counted_not_scaled(void) {
  flows fs = {0};
  nfh_addr v = tk_ip("10.99.8.20"), vt = tk_ip("10.99.21.1");
  static const uint16_t open_ports[] = {3,     5000,  9000, 12000,
                                        15000, 18000, 19999};
  for (unsigned p = 1; p <= 20000; p++) {
    int open = 0;
    for (size_t k = 0; k < sizeof(open_ports) / sizeof(open_ports[0]); k++)
      open |= open_ports[k] == p;
    uint64_t when = T0 + (uint64_t)p * 10;
    if (open)
      syn_open(&fs, v, 61000, vt, (uint16_t)p, when);
    else
      syn_refused(&fs, v, 61000, vt, (uint16_t)p, when);
  }
  nfh_addr x = tk_ip("198.18.5.5");
  for (unsigned i = 1; i <= 200; i++) {
    nfh_addr t = tk_ip4(10, 99, 22, (uint8_t)i);
    uint64_t when = T0 + i * 100;
    if (i % 10 == 0)
      syn_open(&fs, x, 50000, t, 22, when);
    else
      syn_silent(&fs, x, 50000, t, 22, when);
    syn_silent(&fs, x, 50000, t, 80, when + 30);
    syn_silent(&fs, x, 50000, t, 443, when + 60);
  }
  nfh_addr b = tk_ip("10.99.8.21");
  uint16_t cp = 30000;
  for (unsigned i = 1; i <= 255; i++)
    for (unsigned k = 0; k < 20; k++) {
      nfh_addr t = tk_ip4(10, 99, 23, (uint8_t)i);
      uint64_t when = T0 + (uint64_t)(i * 20 + k) * 70;
      syn_silent(&fs, b, cp++, t, (uint16_t)(100 + k * 7), when);
      syn_silent(&fs, b, cp++, t, (uint16_t)(100 + k * 7), when + 30);
    }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "v|10.99.8.20|10.99.21.1");
  const nfh_finding *h = find(e, "h|198.18.5.5|*");
  const nfh_finding *k = find(e, "b|10.99.8.21");
  if (!f || !h || !k)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT_EQUAL(evidence_num(f, "half_open"), 7);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, ", 7 open and dropped"));
  }
  CU_ASSERT_PTR_NOT_NULL(h);
  if (h) {
    CU_ASSERT_EQUAL(evidence_num(h, "half_open"), 20);
    CU_ASSERT_EQUAL(evidence_num(h, "answered"), 20);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        h->summary, "90% failed, 20 answered and dropped by the prober"));
  }
  CU_ASSERT_PTR_NOT_NULL(k);
  if (k) {
    CU_ASSERT_EQUAL(evidence_num(k, "distinct_ports"), 20);
    CU_ASSERT(evidence_num(k, "host_ports") <= 255 * 20);
    CU_ASSERT_PTR_NOT_NULL(strstr(k->summary, "255 hosts on 20 ports"));
  }
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A hosting provider's /22 (public in life) as the Internet sees it: 30 outside
 * scanners each sweep all 1,024 addresses on a port, some finding live
 * services (a SYN-ACK, reset). Sweeps of that size counted as intense,
 * and intense ones were never folded: 30 medium findings (68 in a
 * tester's day), edge_max_findings or not. Now ten stay, the rest are
 * one info summary; with edge_max_findings=0, none stays. */
static void test_background_folded(void) {
  flows fs = {0};
  char src[32];
  for (unsigned k = 0; k < 30; k++) {
    snprintf(src, sizeof(src), "198.19.%u.%u", k, 7 + k);
    nfh_addr x = tk_ip(src);
    for (unsigned i = 0; i < 1024; i++) {
      nfh_addr t = tk_ip4(10, 83, (uint8_t)(220 + i / 256), (uint8_t)(i % 256));
      uint64_t when = T0 + k * 20 * MIN + i * 200;
      uint16_t port = (uint16_t)(22 + k % 5);
      if (i % 100 == 3)
        syn_open(&fs, x, (uint16_t)(40000 + k), t, port, when);
      else
        syn_silent(&fs, x, (uint16_t)(40000 + k), t, port, when);
    }
  }
  for (int pass = 0; pass < 2; pass++) {
    nfh_engine *e = pass ? hunt(&fs, "edge_max_findings", "0") : hunt(&fs);
    size_t n, individual = 0;
    const nfh_report_finding *r = nfh_engine_findings(e, &n);
    for (size_t i = 0; i < n; i++)
      individual += strncmp(r[i].f.key, "h|198.19.", 9) == 0;
    const nfh_finding *bg = find(e, "bg|external");
    if (individual != (pass ? 0u : 10u))
      dump(e);
    CU_ASSERT_EQUAL(individual, pass ? 0 : 10);
    CU_ASSERT_PTR_NOT_NULL(bg);
    if (bg) {
      CU_ASSERT_EQUAL(bg->severity, NFH_SEV_INFO);
      CU_ASSERT_EQUAL(evidence_num(bg, "sources"), pass ? 30 : 20);
    }
    nfh_engine_destroy(e);
  }
  free_flows(&fs);
}

/* The Internet's background over hourly runs with one state: each hour
 * eight new scanners sweep a /22. A day of such runs held 94 of them at
 * medium, ten an hour (tester D): the ten one by one are the day's, so
 * the second hour adds two and the third none, while a scanner reported
 * before and still at it is reported again. */
static void background_hour(flows *fs, unsigned hour, unsigned first,
                            unsigned count) {
  char src[32];
  for (unsigned k = first; k < first + count; k++) {
    snprintf(src, sizeof(src), "198.19.%u.%u", k, 7 + k);
    nfh_addr x = tk_ip(src);
    for (unsigned i = 0; i < 300; i++) {
      nfh_addr t = tk_ip4(10, 83, (uint8_t)(220 + i / 256), (uint8_t)(i % 256));
      syn_silent(fs, x, (uint16_t)(40000 + k), t, (uint16_t)(22 + k % 5),
                 T0 + hour * HOUR + (k - first) * 5 * MIN + i * 500);
    }
  }
}

static void test_background_daily(void) {
  char path[] = "/tmp/nfh-test-portscan-XXXXXX";
  fresh_path(path);
  static const size_t want[3] = {8, 2, 1};
  for (unsigned hour = 0; hour < 3; hour++) {
    flows fs = {0};
    background_hour(&fs, hour, 8 * hour, 8);
    if (hour == 2)
      background_hour(&fs, hour, 0, 1); /* the first scanner, again */
    const char *err = NULL;
    nfh_state *st = NULL;
    CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
    nfh_engine *e = hunt_state(&fs, st, NULL);
    CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
    size_t n, individual = 0;
    const nfh_report_finding *r = nfh_engine_findings(e, &n);
    for (size_t i = 0; i < n; i++)
      individual += strncmp(r[i].f.key, "h|198.19.", 9) == 0;
    if (individual != want[hour])
      dump(e);
    CU_ASSERT_EQUAL(individual, want[hour]);
    if (hour == 2)
      CU_ASSERT_PTR_NOT_NULL(find(e, "h|198.19.0.7|tcp/22"));
    if (hour > 0)
      CU_ASSERT_PTR_NOT_NULL(find(e, "bg|external"));
    nfh_engine_destroy(e);
    nfh_state_close(st);
    free_flows(&fs);
  }
  unlink(path);
}

/* A vertical scan of 10,000 ports at 20 a second: 500 s. Past the
 * services kept exactly its contacts are counted, and its time stopped
 * at the first 4,000 (200 s, at a rate two and a half times the real). */
static void test_vertical_span_past_exact(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("198.18.66.60"), t = tk_ip("10.99.0.50");
  for (unsigned p = 1; p <= 10000; p++)
    syn_silent(&fs, c, 61000, t, (uint16_t)p, T0 + (uint64_t)p * 50);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "v|198.18.66.60|10.99.0.50");
  if (!f)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    double d = evidence_num(f, "duration_s");
    CU_ASSERT(d >= 495 && d <= 505);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "in 8 min"));
  }
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A connect sweep whose first 30 of 100 hosts answered, one a second,
 * lasted 100 s from its first probe (it read "in 70 s" from its 31st
 * second, a tester's). The same prober's SSH sessions with its own
 * server eight hours earlier stay out of the sweep's span. */
static void test_span_with_answered_first(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("203.0.113.77"), own = tk_ip("10.0.5.250");
  for (unsigned h = 0; h < 3; h++)
    session(&fs, c, (uint16_t)(50000 + h), own, 22,
            T0 - 8 * 3600000ull + h * 600000ull);
  for (unsigned i = 0; i < 100; i++) {
    nfh_addr s = tk_ip4(10, 0, 5, (uint8_t)(1 + i));
    uint64_t t = T0 + i * 1000ull;
    if (i < 30)
      session(&fs, c, (uint16_t)(40000 + i), s, 22, t);
    else
      syn_silent(&fs, c, (uint16_t)(40000 + i), s, 22, t);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *h = find(e, "h|203.0.113.77|tcp/22");
  if (!h)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(h);
  if (h) {
    double d = evidence_num(h, "duration_s");
    CU_ASSERT(d >= 99 && d <= 101);
    CU_ASSERT_EQUAL(h->first_ms, T0);
    CU_ASSERT_EQUAL(evidence_num(h, "answered"), 30);
  }
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* The site's resolver asks 40 outside servers on udp/53 and none
 * answer (a sampler that kept its queries and not the answers, or lame
 * servers): its recursion, no scan, since three internal hosts query
 * it (a tester's: medium, 100% failed). Another host that does the same
 * and serves no one is reported. */
static void test_resolver_recursion(void) {
  flows fs = {0};
  nfh_addr res = tk_ip("10.0.0.53"), other = tk_ip("10.0.0.99");
  for (unsigned c = 0; c < 3; c++)
    for (unsigned q = 0; q < 5; q++)
      udp_answered(&fs, tk_ip4(10, 0, 1, (uint8_t)(10 + c)),
                   (uint16_t)(40000 + q), res, 53, T0 + (c * 5 + q) * 7000ull);
  for (unsigned i = 0; i < 40; i++) {
    udp_silent(&fs, res, (uint16_t)(50000 + i), tk_ip4(198, 51, 7, (uint8_t)i),
               53, T0 + i * 20000ull);
    udp_silent(&fs, other, (uint16_t)(50000 + i),
               tk_ip4(198, 51, 8, (uint8_t)i), 53, T0 + i * 20000ull);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *o = find(e, "h|10.0.0.99|udp/53");
  if (!o || find(e, "h|10.0.0.53|udp/53"))
    dump(e);
  CU_ASSERT_PTR_NULL(find(e, "h|10.0.0.53|udp/53"));
  CU_ASSERT_PTR_NOT_NULL(o);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A diagonal sweep: 400 internal hosts, each probed on one of 80 ports
 * (five hosts a port, below min_hosts): one finding of all 400 hosts and
 * 80 ports, not a few ports' share or nothing. A peer-to-peer client
 * failing on 300 peers, each on its own random high port, stays no
 * scan. */
static void test_diagonal(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.1.1.52");
  for (unsigned i = 0; i < 400; i++)
    syn_silent(&fs, c, (uint16_t)(30000 + i),
               tk_ip4(10, 8, (uint8_t)(i >> 8), (uint8_t)(1 + (i & 0xff) % 250)),
               (uint16_t)(1 + (i * 37) % 80), T0 + i * 1500);
  nfh_addr p2p = tk_ip("10.1.1.40");
  uint32_t st = 9;
  for (unsigned i = 0; i < 300; i++)
    syn_silent(&fs, p2p, (uint16_t)(50000 + i),
               tk_ip4(198, 18, (uint8_t)(rnd(&st) & 0xff), (uint8_t)(1 + i % 250)),
               (uint16_t)(10000 + rnd(&st) % 50000), T0 + i * 2000);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.1.1.52|*");
  if (!f)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_HIGH);
    CU_ASSERT(evidence_num(f, "hosts") >= 390);
    CU_ASSERT_EQUAL(evidence_num(f, "port_count"), 80);
  }
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  for (size_t i = 0; i < n; i++)
    CU_ASSERT_PTR_NULL(strstr(r[i].f.key, "10.1.1.40"));
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A block scan past the exact tables (exact_targets 32: 128 services)
 * counts its host-ports all the same, as an estimate; they stopped at
 * the table's size with the evidence saying "exact". */
static void test_block_past_tables(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("198.51.100.23");
  for (unsigned i = 0; i < 20; i++)
    for (unsigned p = 0; p < 10; p++)
      syn_silent(&fs, c, (uint16_t)(30000 + i * 10 + p),
                 tk_ip4(10, 6, 0, 1 + i), (uint16_t)(20 + p * 5),
                 T0 + (i * 10 + p) * 300);
  nfh_engine *e = hunt(&fs, "exact_targets", "32");
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  const nfh_finding *f = NULL;
  for (size_t i = 0; i < n; i++)
    if (strncmp(r[i].f.key, "b|", 2) == 0 || strncmp(r[i].f.key, "v|", 2) == 0)
      f = &r[i].f;
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    double hp = evidence_num(f, "host_ports");
    CU_ASSERT(hp >= 180 && hp <= 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->evidence_json, "\"exact\": false"));
  }
  if (!f || evidence_num(f, "host_ports") < 180)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A block scan past the exact targets: 128 hosts on 20 ports, host after
 * host, with 16 targets kept exactly. Its ports' counts go on: "~128
 * hosts", its host-ports and its time all of it (a vulnerability
 * scanner's 4,096 hosts on 20 ports in 27 minutes read "1024 hosts ...
 * in 7 min"). */
static void test_block_past_targets(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.0.9.9");
  for (unsigned i = 0; i < 128; i++)
    for (unsigned p = 0; p < 20; p++)
      syn_silent(&fs, c, (uint16_t)(30000 + i * 20 + p),
                 tk_ip4(10, 7, 0, (uint8_t)i), (uint16_t)(20 + p * 5),
                 T0 + (i * 20 + p) * 1000);
  nfh_engine *e = hunt(&fs, "exact_targets", "16");
  const nfh_finding *f = find(e, "b|10.0.9.9");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    double hosts = evidence_num(f, "hosts");
    double hp = evidence_num(f, "host_ports");
    double d = evidence_num(f, "duration_s");
    CU_ASSERT(hosts >= 120 && hosts <= 136);
    CU_ASSERT(hp >= 2400 && hp <= 2720);
    CU_ASSERT(d >= 2540 && d <= 2570);
    printf("\n    %s", f->summary);
  } else {
    dump(e);
  }
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A compromised device flooding an outside host with full-size UDP
 * datagrams to random ports (DoS participation) is the volumetric
 * detector's: no vertical scan of thousands of ports. A real UDP scan of
 * another host, with empty probes, still is one. */
static void test_udp_flood_is_no_scan(void) {
  flows fs = {0};
  nfh_addr dev = tk_ip("10.20.7.77"), victim = tk_ip("198.51.100.7");
  for (unsigned i = 0; i < 3000; i++) {
    nfh_flow *f = add(&fs, dev, (uint16_t)(40000 + i % 20000), victim,
                      (uint16_t)(1 + (i * 7919) % 65000), 17, 0,
                      T0 + i * 40, 2);
    f->bytes = 2 * 540;
  }
  nfh_addr scanner = tk_ip("10.20.9.50"), server = tk_ip("10.20.5.10");
  for (unsigned i = 0; i < 300; i++)
    udp_silent(&fs, scanner, 50000, server, (uint16_t)(100 + i),
               T0 + i * 1000);
  nfh_engine *e = hunt(&fs);
  size_t n;
  const nfh_report_finding *r = nfh_engine_findings(e, &n);
  int flood_found = 0, scan_found = 0;
  char a[NFH_ADDR_STRLEN];
  for (size_t i = 0; i < n; i++) {
    nfh_addr_format(&r[i].f.src, a, sizeof(a));
    flood_found |= strcmp(a, "10.20.7.77") == 0;
    scan_found |= strcmp(a, "10.20.9.50") == 0 &&
                  r[i].f.severity >= NFH_SEV_MEDIUM;
  }
  CU_ASSERT(!flood_found);
  CU_ASSERT(scan_found);
  if (flood_found || !scan_found)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A UDP sweep answered by ICMP port unreachable from each host: the
 * failure breakdown names ICMP. */
static void test_udp_icmp(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.1.1.9");
  for (unsigned i = 0; i < 60; i++) {
    nfh_addr s = tk_ip4(10, 5, 0, i + 1);
    udp_silent(&fs, c, 41000, s, 161, T0 + i * 2000);
    if (i % 3)
      port_unreachable(&fs, s, c, T0 + i * 2000 + 1);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.1.1.9|udp/161");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_num(f, "icmp"), 40);
    CU_ASSERT_EQUAL(evidence_num(f, "no_reply"), 20);
  }
  if (!f)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* An IPv6 sweep of tcp/22 from outside; for a third of the targets (no
 * such host) the site's router answers "address unreachable" (ICMPv6
 * type 1, code 3). The router is no target and the sweep's failures stay
 * no-reply, but the evidence counts what it said (it was in no count). */
static void test_router_unreachables(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("2001:db8:77::5"), router = tk_ip("2001:db8:42::1");
  for (unsigned i = 0; i < 60; i++) {
    nfh_addr s = tk_ip("2001:db8:42:1::");
    s.bytes[15] = (uint8_t)(i + 1);
    syn_silent(&fs, c, (uint16_t)(40000 + i), s, 22, T0 + i * 2000);
    if (i % 3 == 0) {
      nfh_flow *f =
          add(&fs, router, 0, c, 1 * 256 + 3, 58, 0, T0 + i * 2000 + 1, 1);
      f->icmp_type = 1;
      f->icmp_code = 3;
    }
  }
  nfh_engine *e = hunt(&fs);
  /* An outside IPv6 source is its /64. */
  const nfh_finding *f = find(e, "h|2001:db8:77::/64|tcp/22");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT_EQUAL(evidence_num(f, "unreachables_from_routers"), 20);
    CU_ASSERT_EQUAL(evidence_num(f, "hosts"), 60);
  } else {
    dump(e);
  }
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* ------------------------------------------------------- benign traps */

static void build_benign(flows *fs) {
  uint32_t seed = 42;
  /* An internal resolver recursing to 600 Internet name servers; one in
   * twenty never answers (lame delegations). */
  nfh_addr resolver = tk_ip("10.0.0.53");
  for (unsigned i = 0; i < 600; i++) {
    nfh_addr ns = tk_ip4(100 + i % 90, (i * 7) & 0xff, (i * 13) & 0xff, 1 + i % 200);
    uint64_t t = T0 + (uint64_t)(rnd(&seed) % (4 * HOUR));
    uint16_t cp = (uint16_t)(1024 + rnd(&seed) % 60000);
    if (i % 20 == 0)
      udp_silent(fs, resolver, cp, ns, 53, t);
    else
      udp_answered(fs, resolver, cp, ns, 53, t);
  }
  /* Clients querying the resolver. */
  for (unsigned i = 0; i < 300; i++)
    udp_answered(fs, tk_ip4(10, 0, 1, 1 + i % 250), (uint16_t)(30000 + i),
                 resolver, 53, T0 + i * 40000);
  /* A monitoring poller: ping, SNMP and SSH to 250 devices every
   * 5 minutes for 4 hours; six devices are down. */
  nfh_addr poller = tk_ip("10.0.0.10");
  for (unsigned round = 0; round < 48; round++) {
    for (unsigned d = 0; d < 250; d++) {
      nfh_addr dev = tk_ip4(10, 20, d / 200, 1 + d % 200);
      int down = d % 42 == 5;
      uint64_t t = T0 + round * 5 * MIN + d * 100;
      ping(fs, poller, dev, t, !down);
      if (down) {
        udp_silent(fs, poller, (uint16_t)(20000 + round), dev, 161, t + 10);
        syn_silent(fs, poller, (uint16_t)(30000 + round * 250 + d), dev, 22,
                   t + 20);
      } else {
        udp_answered(fs, poller, (uint16_t)(20000 + round), dev, 161,
                     t + 10);
        session(fs, poller, (uint16_t)(30000 + round * 250 + d), dev, 22,
                t + 20);
      }
    }
  }
  /* A public web server with 2000 clients from the Internet. */
  nfh_addr web = tk_ip("192.168.50.80");
  for (unsigned i = 0; i < 2000; i++) {
    nfh_addr cl = tk_ip4(11 + i % 100, (i * 3) & 0xff, (i / 7) & 0xff, 1 + i % 250);
    session(fs, cl, (uint16_t)(1024 + rnd(&seed) % 60000), web, 443,
            T0 + (uint64_t)(rnd(&seed) % (4 * HOUR)));
  }
  /* NTP: 200 clients to 4 internal servers, and the internal server to
   * 12 pool servers (one dead). */
  nfh_addr ntp = tk_ip("10.0.0.123");
  for (unsigned i = 0; i < 200; i++)
    for (unsigned k = 0; k < 4; k++)
      udp_answered(fs, tk_ip4(10, 0, 2, 1 + i), 123, tk_ip4(10, 0, 0, 120 + k), 123,
                   T0 + i * 10000 + k * 1000);
  for (unsigned round = 0; round < 16; round++)
    for (unsigned k = 0; k < 12; k++) {
      nfh_addr pool = tk_ip4(162, 159, 200, 1 + k * 9);
      uint64_t t = T0 + round * 15 * MIN + k * 1000;
      if (k == 7)
        udp_silent(fs, ntp, 123, pool, 123, t);
      else
        udp_answered(fs, ntp, 123, pool, 123, t);
    }
  /* A workstation browsing: 150 sites, a few unreachable. */
  nfh_addr ws = tk_ip("10.0.3.44");
  for (unsigned i = 0; i < 150; i++) {
    nfh_addr site = tk_ip4(23 + i % 50, 10 + i, 5, 7);
    uint64_t t = T0 + (uint64_t)(rnd(&seed) % (4 * HOUR));
    if (i % 25 == 0)
      syn_silent(fs, ws, (uint16_t)(50000 + i), site, 443, t);
    else
      session(fs, ws, (uint16_t)(50000 + i), site, 443, t);
  }
}

static void test_benign_traps(void) {
  flows fs = {0};
  build_benign(&fs);
  nfh_engine *e = hunt(&fs);
  CU_ASSERT(max_severity(e) <= NFH_SEV_LOW);
  CU_ASSERT_EQUAL(count(e), 0);
  if (count(e))
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A scan hidden among the benign traffic is still found, and alone. */
static void test_scan_in_background(void) {
  flows fs = {0};
  build_benign(&fs);
  build_horizontal(&fs, "10.0.3.44", 60); /* the browsing workstation */
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.0.3.44|tcp/445");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f)
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
  CU_ASSERT_EQUAL(count(e), 1);
  if (!f || count(e) != 1)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* ------------------------------------------------------------ sampling */

/* The same sweep seen through 1-in-10 sampling: most single probes
 * vanish (here: all but every tenth), counters are scaled. Still found,
 * with lower confidence, and the finding says it was sampled. */
/* A dorm host seen by an unsampled router whole, and by the border
 * router sampled 1:100 for a few of its probes (5%): a sweep of 2,000
 * hosts read "probed ~2000 hosts ... (sampled 1:100: at most ~200000 in
 * all)", and then "~1075 hosts" when the count was held to the targets
 * kept. Judged unsampled, its count the sketch's. */
static void test_mostly_unsampled(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.1.1.6");
  for (unsigned i = 0; i < 2000; i++) {
    fs.sampling = i % 20 == 7 ? 100 : 1;
    syn_silent(&fs, c, (uint16_t)(30000 + i),
               tk_ip4(198, 18, (uint8_t)(i >> 8), (uint8_t)(i & 0xff)), 445,
               T0 + i * 900);
  }
  fs.sampling = 1;
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.1.1.6|tcp/445");
  if (!f)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT_PTR_NULL(strstr(f->summary, "sampled"));
    CU_ASSERT_EQUAL(evidence_num(f, "sampling"), 1);
    double hosts = evidence_num(f, "hosts");
    CU_ASSERT(hosts >= 1900 && hosts <= 2100);
  }
  nfh_engine_destroy(e);
  free_flows(&fs);
}

static void test_sampled(void) {
  flows full = {0}, sampled = {0};
  build_horizontal(&full, "10.1.1.5", 1000);
  sampled.sampling = 10;
  nfh_addr c = tk_ip("10.1.1.5");
  for (unsigned i = 0; i < 1000; i += 10) {
    nfh_addr s = tk_ip4(10, 2, (i >> 8) & 0xff, i & 0xff);
    syn_silent(&sampled, c, (uint16_t)(40000 + i), s, 445, T0 + i * 900);
  }
  /* Its sessions elsewhere show up sampled too. */
  for (unsigned i = 0; i < 20; i++)
    session(&sampled, c, (uint16_t)(20000 + i), tk_ip4(10, 0, 0, 200), 80,
            T0 + i * 5000);
  nfh_engine *e1 = hunt(&full);
  nfh_engine *e2 = hunt(&sampled);
  const nfh_finding *f1 = find(e1, "h|10.1.1.5|tcp/445");
  const nfh_finding *f2 = find(e2, "h|10.1.1.5|tcp/445");
  CU_ASSERT_PTR_NOT_NULL(f1);
  CU_ASSERT_PTR_NOT_NULL(f2);
  if (f1 && f2) {
    CU_ASSERT(f2->confidence < f1->confidence - 0.1);
    CU_ASSERT_PTR_NOT_NULL(strstr(f2->summary, "sampled 1:10"));
    CU_ASSERT_EQUAL(evidence_num(f2, "sampling"), 10);
    CU_ASSERT(f2->severity >= NFH_SEV_MEDIUM);
    /* Silence is not counted under sampling: the failures are SYNs
     * never acknowledged, and say so. */
    CU_ASSERT_EQUAL(evidence_num(f2, "no_reply"), 0);
    CU_ASSERT(evidence_num(f2, "syn_only") > 0);
  } else {
    dump(e2);
  }
  nfh_engine_destroy(e1);
  nfh_engine_destroy(e2);
  free_flows(&full);
  free_flows(&sampled);
}

/* A vertical scan of 500 ports through a 1-in-10 sampler whose period
 * lines up with the exchange (probe, refusal, probe, refusal...): every
 * packet kept is a refusal, 50 resets from the target's ports to the
 * prober, and no probe at all. They are the answers to probes sampled
 * away: found, and said to be sampled. A client's sampled sessions that
 * left a lone reset now and then (one in ten) are no scan, and the same
 * lone resets from an unsampled exporter are no contacts: nothing shows
 * that it misses the probes' direction (test_refusals_only). */
static void test_sampled_refusals(void) {
  flows fs = {0}, plain = {0};
  fs.sampling = 10;
  nfh_addr prober = tk_ip("198.18.66.41"), target = tk_ip("10.99.0.11");
  for (unsigned p = 10; p <= 500; p += 10) {
    add(&fs, target, (uint16_t)p, prober, 61000, 6, R | A, T0 + p * 5, 1);
    add(&plain, target, (uint16_t)p, prober, 61000, 6, R | A, T0 + p * 5, 1);
  }
  nfh_addr client = tk_ip("10.99.0.30");
  for (unsigned i = 0; i < 200; i++) {
    nfh_addr srv = tk_ip4(198, 19, (uint8_t)(i % 50), 80);
    uint16_t cp = (uint16_t)(30000 + i);
    uint64_t t = T0 + i * 3000;
    if (i % 10 == 7) {
      add(&fs, srv, 443, client, cp, 6, R | A, t + 900, 1);
      continue;
    }
    add(&fs, client, cp, srv, 443, 6, A | P, t, 1);
    add(&fs, srv, 443, client, cp, 6, A | P, t + 40, 1);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "v|198.18.66.41|10.99.0.11");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "sampled 1:10"));
    CU_ASSERT_EQUAL(evidence_num(f, "ports"), 50);
    CU_ASSERT_EQUAL(evidence_num(f, "rst"), 50);
  }
  CU_ASSERT_EQUAL(count(e), 1);
  if (!f || count(e) != 1)
    dump(e);
  nfh_engine_destroy(e);
  e = hunt(&plain);
  CU_ASSERT_EQUAL(count(e), 0);
  nfh_engine_destroy(e);
  free_flows(&fs);
  free_flows(&plain);
}

/* ------------------------------------------------------- one direction */

/* An exporter that sees only the client->server direction: no replies
 * anywhere. UDP silence is then no evidence (the resolver is fine), the
 * SYN sweep is still plain from its flags, and says so. */
static void test_one_way(void) {
  flows fs = {0};
  nfh_addr resolver = tk_ip("10.0.0.53");
  for (unsigned i = 0; i < 300; i++)
    udp_silent(&fs, resolver, (uint16_t)(2000 + i),
               tk_ip4(100 + i % 50, i & 0xff, 9, 9), 53, T0 + i * 1000);
  for (unsigned i = 0; i < 300; i++)
    add(&fs, tk_ip4(10, 0, 4, 1 + i % 200), (uint16_t)(40000 + i),
        tk_ip4(52, 1, i & 0xff, 1), 443, 6, S | A | P | F, T0 + i * 700, 9);
  nfh_addr c = tk_ip("10.1.1.6");
  for (unsigned i = 0; i < 80; i++)
    syn_silent(&fs, c, (uint16_t)(45000 + i), tk_ip4(10, 6, 0, 1 + i), 3389,
               T0 + i * 1500);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.1.1.6|tcp/3389");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "no replies visible"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f->evidence_json, "tcp_flags_only"));
    CU_ASSERT(f->confidence < 0.75);
  }
  CU_ASSERT_EQUAL(count(e), 1);
  if (!f || count(e) != 1)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(strstr(log_lines, "one direction only"));
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* Lone resets after 300 outbound sessions, with their replies or
 * without ('answered'): resets alone from 60 of our hosts' tcp/22 to one
 * outside address, from 200 ports of one host to it, from one web
 * server's tcp/443 to one office's NAT address (60 of its ports), and
 * from 40 hosts to 40 outside addresses. */
static void lone_resets(flows *fs, int answered) {
  for (unsigned i = 0; i < 300; i++) {
    nfh_addr c = tk_ip4(10, 0, 4, 1 + i % 200), s = tk_ip4(52, 1, i & 0xff, 1);
    if (answered)
      session(fs, c, (uint16_t)(40000 + i), s, 443, T0 + i * 700);
    else
      add(fs, c, (uint16_t)(40000 + i), s, 443, 6, S | A | P | F, T0 + i * 700,
          9);
  }
  uint64_t t1 = T0 + 15 * MIN;
  nfh_addr scanner = tk_ip("203.0.113.66");
  for (unsigned i = 0; i < 60; i++)
    add(fs, tk_ip4(10, 20, 0, (uint8_t)(1 + i)), 22, scanner,
        (uint16_t)(50000 + i), 6, R | A, t1 + i * 2000, 1);
  nfh_addr target = tk_ip("10.99.0.10");
  for (unsigned p = 1001; p <= 1200; p++)
    add(fs, target, (uint16_t)p, scanner, 61000, 6, R | A,
        t1 + 10 * MIN + (p - 1000) * 300, 1);
  nfh_addr web = tk_ip("10.99.0.80"), office = tk_ip("198.18.7.7");
  for (unsigned i = 0; i < 60; i++)
    add(fs, web, 443, office, (uint16_t)(30000 + 7 * i), 6, R | A,
        t1 + i * 30000, 1);
  for (unsigned i = 0; i < 40; i++)
    add(fs, tk_ip4(10, 30, 0, (uint8_t)(1 + i)), 443,
        tk_ip4(198, 18, 9, (uint8_t)(1 + i)), 50000, 6, R | A, t1 + i * 40000,
        1);
}

/* An exporter that exports only the inside's records (ingress on the
 * inside interface; its sessions show no reply): an outside scanner's
 * probes are never seen, only the resets our hosts send back. A sweep
 * of tcp/22 refused by 60 hosts and 200 refused ports of one host are
 * scans, counted by the resets (a lower bound, and said so); a web
 * server's late resets to one office's NAT address from 60 of its
 * client ports, and 40 hosts' stray resets to 40 outside addresses, are
 * none. Where the exporter shows replies, resets alone are sessions'
 * late resets (a load balancer's idle timeout): no contacts at all. */
static void test_refusals_only(void) {
  flows fs = {0};
  lone_resets(&fs, 0);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *h = find(e, "h|203.0.113.66|tcp/22");
  const nfh_finding *v = find(e, "v|203.0.113.66|10.99.0.10");
  CU_ASSERT_PTR_NOT_NULL(h);
  CU_ASSERT_PTR_NOT_NULL(v);
  if (h) {
    CU_ASSERT_EQUAL(evidence_num(h, "hosts"), 60);
    CU_ASSERT_PTR_NOT_NULL(strstr(h->summary, "probes not exported"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h->evidence_json, "\"refusal_only\": 60"));
  }
  if (v) {
    CU_ASSERT(v->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_num(v, "ports"), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(v->summary, "a lower bound"));
  }
  CU_ASSERT_EQUAL(count(e), 2);
  if (!h || !v || count(e) != 2)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
  flows both = {0};
  lone_resets(&both, 1);
  e = hunt(&both);
  CU_ASSERT_EQUAL(count(e), 0);
  if (count(e))
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&both);
}

/* An exporter that keeps the first packet's TCP flags, not the OR over
 * the flow, and sees one direction (a NAT's inside): every session reads
 * "SYN". A client's 200 connections to 120 web servers, two thirds of
 * the records with the SYN alone (the rest of the session came in other
 * records, or late), must not look like a sweep. */
static void test_flags_per_packet(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("192.168.0.137");
  uint32_t seed = 3;
  for (unsigned i = 0; i < 200; i++) {
    nfh_addr s = tk_ip4(142, 250, (i % 120) / 10, 1 + i % 120);
    uint64_t t = T0 + i * 300;
    if (i % 3 != 0) {
      add(&fs, c, (uint16_t)(30000 + i), s, 443, 6, S, t, 1);
    } else {
      nfh_flow *f = add(&fs, c, (uint16_t)(30000 + i), s, 443, 6, S, t,
                        6 + rnd(&seed) % 20);
      f->bytes = f->packets * 300;
    }
  }
  nfh_engine *e = hunt(&fs);
  CU_ASSERT_EQUAL(count(e), 0);
  if (count(e))
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(strstr(log_lines, "one packet's"));
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* --------------------------------------------------------------- state */

/* A slow sweep: 8 hosts in each of two runs, 3 hours apart, below
 * min_hosts per run. Without state the second run sees 8; with the
 * state it sees 16 and reports. */
static void slow_half(flows *fs, unsigned from) {
  nfh_addr c = tk_ip("10.1.1.8");
  for (unsigned i = from; i < from + 8; i++)
    syn_silent(fs, c, (uint16_t)(47000 + i), tk_ip4(10, 7, 0, 1 + i), 22,
               T0 + i * 22 * MIN);
}

/* A slow scan of three ports over two days, in daily runs with one
 * state: 8 hosts a day on each. The third day's run sees 24 hosts a
 * port (slow_window is 3 days; at 1 day a scan of 8 hosts a day never
 * reached min_hosts in hourly runs), and its finding keeps its key,
 * h|SRC|*, though that day's new failures fall on one port only (it
 * fell apart into one finding a port). */
static void test_slow_multiport_runs(void) {
  char path[] = "/tmp/nfh-test-portscan-XXXXXX";
  fresh_path(path);
  static const uint16_t ports[] = {22, 445, 3389};
  nfh_addr c = tk_ip("10.1.1.9");
  for (int day = 0; day < 3; day++) {
    flows fs = {0};
    for (int p = 0; p < 3; p++) {
      if (day == 2 && p != 0)
        continue; /* the last day: port 22 alone */
      for (unsigned k = 0; k < 8; k++)
        syn_silent(&fs, c, (uint16_t)(40000 + day * 100 + p * 10 + k),
                   tk_ip4(10, 8, (uint8_t)p, (uint8_t)(1 + day * 8 + k)),
                   ports[p],
                   T0 + (uint64_t)day * 86400000ull + (uint64_t)k * 3 * HOUR +
                       (uint64_t)p * 60000);
    }
    const char *err = NULL;
    nfh_state *st = NULL;
    CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
    nfh_engine *e = hunt_state(&fs, st, NULL);
    CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
    if (day == 2) {
      const nfh_finding *f = find(e, "h|10.1.1.9|*");
      if (!f || find(e, "h|10.1.1.9|tcp/22"))
        dump(e);
      CU_ASSERT_PTR_NOT_NULL(f);
      CU_ASSERT_PTR_NULL(find(e, "h|10.1.1.9|tcp/22"));
      if (f)
        CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    }
    nfh_engine_destroy(e);
    nfh_state_close(st);
    free_flows(&fs);
  }
  unlink(path);
}

/* A sweep of 150 hosts on tcp/23 in two minutes, and the same sweep in
 * a later run with one state: 16 hours later it is a new episode, "in 2
 * min" (it read "in 16.0 h", a slow scan); 2 hours later the sweep goes
 * on, and its time is both runs'. */
static void test_sweep_again(void) {
  static const struct {
    uint64_t later_ms;
    const char *want;
  } cases[] = {{16 * HOUR, "in 2 min, 100% failed (again, 16.0 h after"},
               {2 * HOUR, "in 2.0 h, 100% failed"}};
  nfh_addr c = tk_ip("203.0.113.77");
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    char path[] = "/tmp/nfh-test-portscan-XXXXXX";
    fresh_path(path);
    const nfh_finding *f = NULL;
    for (int run = 0; run < 2; run++) {
      flows fs = {0};
      uint64_t t0 = T0 + (run ? cases[k].later_ms : 0);
      for (unsigned i = 0; i < 150; i++)
        syn_silent(&fs, c, (uint16_t)(40000 + run * 200 + i),
                   tk_ip4(10, 7, 0, (uint8_t)(1 + i)), 23, t0 + i * 800);
      const char *err = NULL;
      nfh_state *st = NULL;
      CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
      nfh_engine *e = hunt_state(&fs, st, NULL);
      CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
      f = find(e, "h|203.0.113.77|tcp/23");
      CU_ASSERT_PTR_NOT_NULL(f);
      if (f && run == 1) {
        printf("\n    %s", f->summary);
        CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, cases[k].want));
        CU_ASSERT_EQUAL(f->first_ms,
                        (T0 + cases[k].later_ms * (k == 0)) / 1000 * 1000);
      }
      nfh_engine_destroy(e);
      nfh_state_close(st);
      free_flows(&fs);
    }
    unlink(path);
  }
}

/* test_distributed's eight internal sources, five hosts each on
 * tcp/445, spread over 40 runs of 5 minutes (nfcapd -x): each run saw
 * one source's one probe, and the sweep was only looked for among the
 * sources of the run: missed. The sources the state carries count, and
 * a run with one of them failing reports the sweep. */
static void test_distributed_per_rotation(void) {
  char path[] = "/tmp/nfh-test-portscan-XXXXXX";
  fresh_path(path);
  int found_at = -1;
  for (unsigned run = 0; run < 40; run++) {
    unsigned k = run % 8, i = run / 8;
    flows fs = {0};
    syn_silent(&fs, tk_ip4(10, 9, 0, (uint8_t)(10 + k)),
               (uint16_t)(30000 + i), tk_ip4(10, 4, 1, (uint8_t)(k * 5 + i + 1)),
               445, T0 + run * 5 * MIN + 1000);
    const char *err = NULL;
    nfh_state *st = NULL;
    CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
    nfh_engine *e = hunt_state(&fs, st, NULL);
    CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
    const nfh_finding *f = find(e, "d|tcp/445");
    if (f && found_at < 0) {
      found_at = (int)run;
      printf("\n    run %u: %s (%s)", run + 1, f->summary,
             nfh_severity_name(f->severity));
      CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    }
    nfh_engine_destroy(e);
    nfh_state_close(st);
    free_flows(&fs);
  }
  /* Each source has failed on three hosts after 24 runs. */
  CU_ASSERT(found_at >= 16 && found_at <= 39);
  unlink(path);
}

/* The Internet's background on our edge, hunted hourly from the state's
 * first run: 30 outside scanners, each probing tcp/22 of a few of our
 * hosts now and then for 8 hours, all of them first seen in the first
 * hour (they were at it before the data began). Their first probes
 * bunch up at the data's start, which read as a burst: medium
 * "distributed" sweeps over 4 to 8 hours in every run. Once their
 * probes span more than three windows none is medium; within the
 * first three hours they cannot be told from a sweep begun with the
 * data (which test_distributed and make eval's per-file runs keep). */
static void test_background_at_data_start(void) {
  char path[] = "/tmp/nfh-test-portscan-XXXXXX";
  fresh_path(path);
  uint32_t seed = 77;
  flows all = {0};
  for (unsigned k = 0; k < 30; k++) {
    nfh_addr c = tk_ip4(203, 0, 113, (uint8_t)(10 + k));
    for (unsigned i = 0; i < 6; i++) {
      uint64_t t = i == 0 ? T0 + (rnd(&seed) % 3600) * 1000
                          : T0 + (rnd(&seed) % (8 * 3600)) * 1000;
      syn_silent(&all, c, (uint16_t)(30000 + i),
                 tk_ip4(10, 4, 2, (uint8_t)(1 + rnd(&seed) % 200)), 22, t);
    }
  }
  int worst = -1;
  for (unsigned h = 0; h < 8; h++) {
    flows fs = {0};
    for (size_t i = 0; i < all.n; i++)
      if (all.v[i].first_ms >= T0 + h * HOUR &&
          all.v[i].first_ms < T0 + (h + 1) * HOUR)
        *tk_flows_push(&fs) = all.v[i];
    const char *err = NULL;
    nfh_state *st = NULL;
    CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
    nfh_engine *e = hunt_state(&fs, st, NULL);
    CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
    const nfh_finding *f = find(e, "d|tcp/22");
    if (f && h >= 3 && (int)f->severity > worst) {
      worst = (int)f->severity;
      printf("\n    run %u: %s (%s)", h + 1, f->summary,
             nfh_severity_name(f->severity));
    }
    nfh_engine_destroy(e);
    nfh_state_close(st);
    free_flows(&fs);
  }
  CU_ASSERT(worst < (int)NFH_SEV_MEDIUM);
  free_flows(&all);
  unlink(path);
}

static void test_state_round_trip(void) {
  char path[] = "/tmp/nfh-test-portscan-XXXXXX";
  fresh_path(path);
  const char *err = NULL;
  nfh_state *st = NULL;

  flows a = {0}, b = {0};
  slow_half(&a, 0);
  slow_half(&b, 8);
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
  nfh_engine *e = hunt_state(&a, st, NULL);
  CU_ASSERT_EQUAL(count(e), 0);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_engine_destroy(e);
  nfh_state_close(st);

  /* Without the state: nothing. */
  e = hunt(&b);
  CU_ASSERT_EQUAL(count(e), 0);
  nfh_engine_destroy(e);

  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
  e = hunt_state(&b, st, NULL);
  const nfh_finding *f = find(e, "h|10.1.1.8|tcp/22");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT_EQUAL(evidence_num(f, "hosts"), 16);
    CU_ASSERT_EQUAL(f->first_ms, T0 / 1000 * 1000);
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->evidence_json, "\"speed\": \"slow\""));
  } else {
    dump(e);
  }
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_engine_destroy(e);
  nfh_state_close(st);

  /* A third run with nothing new from the scanner: the old scan is not
   * raised again. */
  flows c = {0};
  udp_answered(&c, tk_ip("10.0.0.1"), 5000, tk_ip("10.0.0.2"), 53, T0 + 7 * HOUR);
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
  e = hunt_state(&c, st, NULL);
  CU_ASSERT_EQUAL(count(e), 0);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_engine_destroy(e);
  nfh_state_close(st);

  /* The scanner back to ordinary work, SSH sessions with two of the
   * hosts it probed: still no new failure, so the scan is not raised
   * again as "ongoing" (it was, at every run the scanner was busy). */
  flows d = {0};
  session(&d, tk_ip("10.1.1.8"), 51000, tk_ip4(10, 7, 0, 1), 22,
          T0 + 8 * HOUR);
  session(&d, tk_ip("10.1.1.8"), 51001, tk_ip4(10, 7, 0, 2), 22,
          T0 + 8 * HOUR + MIN);
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
  e = hunt_state(&d, st, NULL);
  CU_ASSERT_EQUAL(count(e), 0);
  if (count(e))
    dump(e);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_engine_destroy(e);
  nfh_state_close(st);

  /* New probes: reported again, with the whole scan's count. */
  flows g = {0};
  for (unsigned i = 16; i < 20; i++)
    syn_silent(&g, tk_ip("10.1.1.8"), (uint16_t)(47000 + i),
               tk_ip4(10, 7, 0, 1 + i), 22, T0 + 9 * HOUR + i * MIN);
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
  e = hunt_state(&g, st, NULL);
  f = find(e, "h|10.1.1.8|tcp/22");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f)
    CU_ASSERT_EQUAL(evidence_num(f, "hosts"), 20);
  size_t nr;
  const nfh_report_finding *rf = nfh_engine_findings(e, &nr);
  CU_ASSERT(nr == 1 && strcmp(rf[0].status, "ongoing") == 0);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_engine_destroy(e);
  nfh_state_close(st);

  /* The collector down for two days, then the scanner again: the
   * detector's memory joins it to the old scan, but after a gap in the
   * data it is news, "recurred" (it was "ongoing", no alert). */
  flows h = {0};
  for (unsigned i = 20; i < 24; i++)
    syn_silent(&h, tk_ip("10.1.1.8"), (uint16_t)(47000 + i),
               tk_ip4(10, 7, 0, 1 + i), 22, T0 + 60 * HOUR + i * MIN);
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
  e = hunt_state(&h, st, NULL);
  rf = nfh_engine_findings(e, &nr);
  CU_ASSERT_EQUAL(nr, 1);
  if (nr == 1)
    CU_ASSERT_STRING_EQUAL(rf[0].status, "recurred");
  nfh_engine_destroy(e);
  nfh_state_close(st);
  free_flows(&d);
  free_flows(&g);
  free_flows(&h);

  unlink(path);
  char lock[sizeof(path) + 8];
  snprintf(lock, sizeof(lock), "%s.lock", path);
  unlink(lock);
  free_flows(&a);
  free_flows(&b);
  free_flows(&c);
}

/* A slow vertical scan over three hourly runs whose target answers on a
 * few ports: the evidence must be kept although the target "answered"
 * (a regression: only sources with failed targets used to be kept). */
static void test_state_vertical(void) {
  char path[] = "/tmp/nfh-test-portscan-XXXXXX";
  fresh_path(path);
  const char *err = NULL;
  const nfh_finding *f = NULL;
  for (unsigned run = 0; run < 3; run++) {
    flows fs = {0};
    /* 50 ports an hour, one every 72 s; 22 and 80 open in the first. */
    build_vertical_slow(&fs, T0 + run * HOUR, 1 + run * 50, 51 + run * 50);
    nfh_state *st = NULL;
    CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 5, &st, &err), NFH_OK);
    nfh_engine *e = hunt_state(&fs, st, NULL);
    f = find(e, "v|10.1.1.7|10.3.0.9");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f) {
      CU_ASSERT_EQUAL(evidence_num(f, "ports"), 50 * (run + 1));
      CU_ASSERT_EQUAL(f->first_ms, T0 / 1000 * 1000);
    }
    CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
    nfh_engine_destroy(e);
    nfh_state_close(st);
    free_flows(&fs);
  }
  unlink(path);
  char lock[sizeof(path) + 8];
  snprintf(lock, sizeof(lock), "%s.lock", path);
  unlink(lock);
}

/* The state blob is untrusted input: every truncation and many damaged
 * bytes are refused or ignored, never a crash (run under valgrind or
 * ASan to see it). */
static void test_blob_damage(void) {
  ps_params p;
  memset(&p, 0, sizeof(p));
  p.step_succ = log(0.25);
  p.step_fail = log(4);
  p.log_eta0 = log(0.01 / 0.99);
  p.log_eta1 = log(99);
  p.max_targets = 16;
  p.max_services = 64;
  p.max_sketches = 4;
  p.hll_precision = 6;
  p.max_sources = 100;
  p.max_entries = 10000;
  ps_store *st = nfh__ps_store_create(&p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  for (unsigned i = 0; i < 200; i++) {
    ps_contact c;
    memset(&c, 0, sizeof(c));
    c.src = tk_ip4(10, 0, 0, 1 + i % 3);
    c.dst = tk_ip4(10, 1, 0, i % 40);
    c.proto = 6;
    c.port = (uint16_t)(20 + i % 7);
    c.cls = i % 5 ? PS_STRONG : PS_SUCC;
    c.reasons = PS_R_RST;
    c.first_s = c.last_s = 1000000 + i;
    c.sampling = 1;
    c.weight = 1;
    CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  }
  void *blob = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(nfh__ps_store_save(st, 0, 100, 100000, &blob, &len),
                        0);
  CU_ASSERT(len > 100);
  /* The intact blob loads back to the same sources. */
  ps_store *back = nfh__ps_store_create(&p);
  CU_ASSERT_EQUAL(nfh__ps_store_load(back, blob, len, 0), 0);
  size_t n1, n2;
  nfh__ps_store_sources(st, &n1);
  nfh__ps_store_sources(back, &n2);
  CU_ASSERT_EQUAL(n1, n2);
  CU_ASSERT_EQUAL(nfh__ps_store_entries(back), nfh__ps_store_entries(st));
  nfh__ps_store_destroy(back);
  /* Every truncation. */
  for (size_t cut = 0; cut < len; cut++) {
    back = nfh__ps_store_create(&p);
    CU_ASSERT(nfh__ps_store_load(back, blob, cut, 0) != 0);
    nfh__ps_store_destroy(back);
  }
  /* Damaged bytes: whatever they load, the store stays usable. */
  uint8_t *copy = malloc(len);
  uint32_t seed = 7;
  for (int round = 0; round < 2000; round++) {
    memcpy(copy, blob, len);
    for (int k = 0; k < 3; k++)
      copy[rnd(&seed) % len] ^= (uint8_t)(1u << (rnd(&seed) % 8));
    back = nfh__ps_store_create(&p);
    nfh__ps_store_load(back, copy, len, 0);
    ps_contact c;
    memset(&c, 0, sizeof(c));
    c.src = tk_ip4(10, 0, 0, 1);
    c.dst = tk_ip4(10, 1, 0, 99);
    c.proto = 6;
    c.port = 21;
    c.cls = PS_STRONG;
    c.first_s = c.last_s = 2000000;
    c.sampling = 1;
    c.weight = 1;
    CU_ASSERT_EQUAL(nfh__ps_store_contact(back, &c), 0);
    void *again = NULL;
    size_t again_len = 0;
    CU_ASSERT_EQUAL(nfh__ps_store_save(back, 0, 100, 100000, &again,
                                       &again_len),
                    0);
    free(again);
    nfh__ps_store_destroy(back);
  }
  free(copy);
  /* Another format version is ignored, not an error. */
  ((uint8_t *)blob)[4] = 99;
  back = nfh__ps_store_create(&p);
  CU_ASSERT_EQUAL(nfh__ps_store_load(back, blob, len, 0), 1);
  nfh__ps_store_destroy(back);
  free(blob);
  nfh__ps_store_destroy(st);
}

/* ---------------------------------------------------------- boundaries */

/* Past the exact cap the sketch counts: a sweep of 20000 hosts is
 * reported within a few percent, marked as estimated. Ten hours later
 * the source uses the port with its own server: the sweep's time is
 * still its 400 s (a workstation's 15-minute SMB sweep read "in 10.7 h"
 * for its session with its file server that night). */
static void test_large_sweep(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.1.1.11");
  for (unsigned i = 0; i < 20000; i++)
    syn_silent(&fs, c, (uint16_t)(1024 + i % 60000),
               tk_ip4(10, 100 + i / 65536, (i >> 8) & 0xff, i & 0xff), 23,
               T0 + i * 20);
  session(&fs, c, 50001, tk_ip("10.0.0.5"), 23, T0 + 10 * 3600000ull);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.1.1.11|tcp/23");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    double hosts = evidence_num(f, "hosts");
    CU_ASSERT(hosts > 18000 && hosts < 22000);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->evidence_json, "\"exact\": false"));
    CU_ASSERT(f->severity >= NFH_SEV_HIGH);
    /* Its 400 s, past the contacts kept exactly (they read as the time
     * of the first few thousand probes). */
    double span = evidence_num(f, "duration_s");
    CU_ASSERT(span >= 395 && span <= 402);
    CU_ASSERT(f->last_ms >= T0 + 399000);
    printf("\n    %s", f->summary);
  } else {
    dump(e);
  }
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A day of one run: the hourly sweep forgets one-off visitors, the
 * Internet's single probes and a browser's old sites, yet a vertical scan
 * of a server the host browsed hours before, and a sweep at the end of
 * the day, are found as in a short run. */
static void test_sweep_long_run(void) {
  flows fs = {0};
  uint32_t seed = 11;
  nfh_addr ws = tk_ip("10.0.3.50"), web = tk_ip("192.168.50.80");
  for (unsigned i = 0; i < 300; i++) /* hour 0: browsing */
    session(&fs, ws, (uint16_t)(40000 + i), tk_ip4(23, 1 + i % 200, 9, 9), 443,
            T0 + i * 10000);
  for (unsigned h = 0; h < 24; h++) {
    for (unsigned i = 0; i < 200; i++) { /* visitors and background */
      uint64_t t = T0 + h * HOUR + (uint64_t)(rnd(&seed) % HOUR);
      session(&fs, tk_ip4(11 + rnd(&seed) % 100, rnd(&seed) & 0xff, h, i),
              (uint16_t)(1024 + i), web, 443, t);
      syn_silent(&fs, tk_ip4(184, rnd(&seed) & 0xff, h, i), 40000,
                 tk_ip4(192, 168, 50, 1 + rnd(&seed) % 200),
                 (uint16_t)(1 + rnd(&seed) % 1024), t + 7);
    }
    session(&fs, ws, (uint16_t)(30000 + h), tk_ip4(23, 1, 9, 9), 443,
            T0 + h * HOUR + 60000); /* keeps the workstation around */
  }
  /* Hour 5: the workstation walks the ports of a site it browsed. */
  nfh_addr old_site = tk_ip4(23, 1, 9, 9);
  for (unsigned p = 1; p <= 100; p++)
    if (p != 443)
      syn_refused(&fs, ws, (uint16_t)(50000 + p), old_site, (uint16_t)p,
                  T0 + 5 * HOUR + p * 1000);
  /* Hour 23: and sweeps tcp/22 internally. */
  for (unsigned i = 0; i < 40; i++)
    syn_silent(&fs, ws, (uint16_t)(51000 + i), tk_ip4(10, 8, 0, 1 + i), 22,
               T0 + 23 * HOUR + i * 2000);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *v = find(e, "v|10.0.3.50|23.1.9.9");
  const nfh_finding *h = find(e, "h|10.0.3.50|tcp/22");
  CU_ASSERT_PTR_NOT_NULL(v);
  CU_ASSERT_PTR_NOT_NULL(h);
  if (v) {
    CU_ASSERT_EQUAL(evidence_num(v, "failed"), 100);
    CU_ASSERT_PTR_NOT_NULL(strstr(v->summary, "in 100 s"));
    CU_ASSERT_EQUAL(evidence_num(v, "open"), 1); /* 443, browsed */
  }
  if (h)
    CU_ASSERT(h->severity >= NFH_SEV_MEDIUM);
  CU_ASSERT(max_severity(e) >= NFH_SEV_MEDIUM);
  if (!v || !h || count(e) != 2)
    dump(e);
  CU_ASSERT_EQUAL(count(e), 2);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* Memory bounds: with room for only 500 sources, 5000 benign ones are
 * evicted and the scanner stays. */
static void test_bounded_sources(void) {
  flows fs = {0};
  for (unsigned i = 0; i < 5000; i++)
    session(&fs, tk_ip4(10, 30 + i / 250, 0, 1 + i % 250), 40000,
            tk_ip4(10, 0, 0, 80), 80, T0 + i * 30);
  build_horizontal(&fs, "10.1.1.5", 100);
  nfh_engine *e = hunt(&fs, "max_sources", "500");
  CU_ASSERT_PTR_NOT_NULL(find(e, "h|10.1.1.5|tcp/445"));
  CU_ASSERT_PTR_NOT_NULL(strstr(log_lines, "evicted"));
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* Settings: defaults can be changed; an unknown key or a bad value
 * fails create() with a message, and the detector is disabled. */
static void test_settings(void) {
  flows fs = {0};
  build_horizontal(&fs, "10.1.1.5", 30);
  nfh_engine *e = hunt(&fs, "min_hosts", "50");
  CU_ASSERT_EQUAL(count(e), 0);
  nfh_engine_destroy(e);

  static const char *const bad[][2] = {{"min_hostz", "5"},
                                       {"theta0", "0.1"},
                                       {"pd", "2"},
                                       {"slow_window", "forever"},
                                       {"edge_max_severity", "huge"}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    nfh_engine_options o;
    memset(&o, 0, sizeof(o));
    o.log = on_log;
    log_lines[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(nfh_engine_create(&o, &e), NFH_OK);
    CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, MODULE), NFH_OK);
    nfh_engine_set(e, "port_scan", bad[i][0], bad[i][1]);
    CU_ASSERT_EQUAL(nfh_engine_start(e, NULL), NFH_OK);
    const nfh_plugin_info *pi = nfh_engine_plugin(e, 0);
    CU_ASSERT_EQUAL(pi->enabled, 0);
    CU_ASSERT_PTR_NOT_NULL(pi->error);
    if (i == 0 && pi->error)
      CU_ASSERT_PTR_NOT_NULL(strstr(pi->error, "unknown parameter "
                                               "'min_hostz'"));
    nfh_engine_destroy(e);
  }
  e = hunt(&fs, "slow_window", "2d", "edge_max_severity", "info", "pd",
           "0.999");
  CU_ASSERT_PTR_NOT_NULL(find(e, "h|10.1.1.5|tcp/445"));
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* The detector over fs with one allow rule for port_scan; the finished
 * engine, for the caller to destroy. */
static nfh_engine *hunt_allowing(flows *fs, const char *rule) {
  nfh_engine_options o;
  memset(&o, 0, sizeof(o));
  o.log = on_log;
  nfh_engine *e = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_engine_create(&o, &e), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_load_module(e, MODULE), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_allow(e, "port_scan", rule), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_start(e, NULL), NFH_OK);
  qsort(fs->v, fs->n, sizeof(nfh_flow), by_time);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_add_flows(e, fs->v, fs->n), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_finish(e, NULL), NFH_OK);
  return e;
}

/* Allow rules name the scanner: as a whole, or with a port, its scans
 * of that port (a backup server sweeping tcp/445). A rule with a port
 * was taken and matched nothing. A rule for the targets hides nothing. */
static void test_allow_rules(void) {
  flows fs = {0};
  build_horizontal(&fs, "10.1.1.5", 200);
  static const struct {
    const char *rule;
    int reported;
  } cases[] = {{"10.1.1.5", 0},     {"10.1.1.0/24:445", 0},
               {"10.1.1.5:22", 1},  {"10.1.1.6", 1},
               {"10.2.0.0/16", 1}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    nfh_engine *e = hunt_allowing(&fs, cases[i].rule);
    int got = find(e, "h|10.1.1.5|tcp/445") != NULL;
    if (got != cases[i].reported)
      printf("\n    allow %s: %s", cases[i].rule,
             got ? "reported" : "not reported");
    CU_ASSERT_EQUAL(got, cases[i].reported);
    nfh_engine_destroy(e);
  }
  free_flows(&fs);
}

/* Hammering one closed service: one low finding, not a scan. */
static void test_repeated_refused(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.1.1.12"), s = tk_ip("10.3.3.3");
  for (unsigned i = 0; i < 1500; i++)
    syn_refused(&fs, c, (uint16_t)(20000 + i), s, 902, T0 + i * 15);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "r|10.1.1.12|10.3.3.3|tcp/902");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT_EQUAL(f->severity, NFH_SEV_LOW);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "not a sweep"));
  }
  CU_ASSERT_EQUAL(count(e), 1);
  if (!f || count(e) != 1)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* A firewall's events (Cisco ASA NSEL): no TCP flags, no packet counts;
 * a connection is created and torn down (with the initiator's and the
 * responder's bytes), or denied. */
static void nsel_denied(flows *fs, nfh_addr c, uint16_t cp, nfh_addr s,
                        uint16_t port, uint64_t t) {
  nfh_flow *f = add(fs, c, cp, s, port, 6, 0, t, 0);
  f->packets = f->bytes = 0;
  f->flags |= NFH_FLOW_EVENT;
  f->fw_event = NFH_FW_DENIED;
}

static void nsel_session(flows *fs, nfh_addr c, uint16_t cp, nfh_addr s,
                         uint16_t port, uint64_t t) {
  nfh_flow *f = add(fs, c, cp, s, port, 6, 0, t, 0);
  f->packets = f->bytes = 0;
  f->flags |= NFH_FLOW_EVENT;
  f->fw_event = NFH_FW_CREATED;
  f = add(fs, c, cp, s, port, 6, 0, t, 0);
  f->last_ms = t + 3000;
  f->packets = 0;
  f->bytes = 700;
  f->out_bytes = 9000;
  f->flags |= NFH_FLOW_EVENT | NFH_FLOW_HAS_OUT;
  f->fw_event = NFH_FW_DELETED;
}

/* Through a firewall that exports NSEL: a vertical scan whose probes it
 * denies, a sweep likewise, both found, with the denials as their
 * evidence; a busy client whose connections it permits (bytes both
 * ways, no packets) and ten of which, to other sites on the same port,
 * it denies is no scanner. Without the denials read, the scans were not
 * even contacts (no packets); without the permitted ones, the busy
 * client's ten denials were "10 hosts on tcp/443, 100% failed". */
static void test_nsel_denied(void) {
  flows fs = {0};
  nfh_addr scanner = tk_ip("203.0.113.5"), sweeper = tk_ip("198.51.100.7");
  nfh_addr host = tk_ip("10.0.0.20"), busy = tk_ip("10.0.0.7");
  for (unsigned p = 1; p <= 300; p++)
    nsel_denied(&fs, scanner, 50000, host, (uint16_t)p, T0 + p * 200);
  for (unsigned h = 1; h <= 200; h++)
    nsel_denied(&fs, sweeper, (uint16_t)(40000 + h), tk_ip4(10, 0, 1, h), 445,
                T0 + 10 * MIN + h * 300);
  for (unsigned i = 0; i < 400; i++) {
    nfh_addr site = tk_ip4(23 + i % 60, 10 + i % 200, 5, 7);
    uint64_t t = T0 + i * 9000;
    if (i % 40 == 0)
      nsel_denied(&fs, busy, (uint16_t)(20000 + i), site, 443, t);
    else
      nsel_session(&fs, busy, (uint16_t)(20000 + i), site, 443, t);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *v = find(e, "v|203.0.113.5|10.0.0.20");
  const nfh_finding *h = find(e, "h|198.51.100.7|tcp/445");
  CU_ASSERT_PTR_NOT_NULL(v);
  CU_ASSERT_PTR_NOT_NULL(h);
  if (v) {
    CU_ASSERT(v->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_num(v, "denied"), 300);
    CU_ASSERT_EQUAL(evidence_num(v, "no_reply"), 0);
  }
  if (h) {
    CU_ASSERT(h->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_num(h, "denied"), 200);
  }
  CU_ASSERT_EQUAL(count(e), 2);
  if (!v || !h || count(e) != 2)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* Records marked sampled with no interval (nfdump's JSON "sampled"; files
 * nfhunt finds packet-sampled without an announcement): a monitoring
 * poller whose answers the sampler mostly lost is no scanner: the same
 * records unmarked (silence taken for failure) are a sweep of 200 hosts
 * on udp/161, 75% failed. */
static void test_sampled_unknown_interval(void) {
  for (int marked = 0; marked < 2; marked++) {
    flows fs = {0};
    nfh_addr poller = tk_ip("10.1.0.10");
    for (unsigned round = 0; round < 12; round++)
      for (unsigned d = 0; d < 200; d++) {
        nfh_addr dev = tk_ip4(10, 20, 0, 1 + d);
        uint64_t t = T0 + round * 5 * MIN + d * 100;
        /* The sampler kept an answer of one device in four. */
        if (d % 4 == 0 && round % 3 == 0)
          udp_answered(&fs, poller, (uint16_t)(20000 + round), dev, 161, t);
        else
          udp_silent(&fs, poller, (uint16_t)(20000 + round), dev, 161, t);
      }
    if (marked)
      for (size_t i = 0; i < fs.n; i++)
        fs.v[i].flags |= NFH_FLOW_SAMPLED;
    nfh_engine *e = hunt(&fs);
    const nfh_finding *f = find(e, "h|10.1.0.10|udp/161");
    if (marked) {
      CU_ASSERT_EQUAL(count(e), 0);
      if (count(e))
        dump(e);
    } else {
      CU_ASSERT_PTR_NOT_NULL(f); /* silence read as failure */
      if (!f)
        dump(e);
    }
    nfh_engine_destroy(e);
    free_flows(&fs);
  }
}

/* A SYN sweep of 300 hosts seen through an exporter that sampled 1:100
 * without saying so (records marked sampled, interval unknown), and the
 * same through one that announced it: the unannounced one's confidence
 * was higher (0.68 against 0.44, no lost answer counted, flags alone);
 * the interval being unknown makes it no surer. */
static void test_sampled_unknown_confidence(void) {
  double conf[2] = {0, 0};
  for (int announced = 0; announced < 2; announced++) {
    flows fs = {0};
    if (announced)
      fs.sampling = 100;
    nfh_addr c = tk_ip("10.1.1.6");
    for (unsigned i = 0; i < 300; i++)
      syn_silent(&fs, c, (uint16_t)(40000 + i),
                 tk_ip4(10, 2, (i >> 8) & 0xff, 1 + (i & 0xff)), 445,
                 T0 + i * 900);
    for (unsigned i = 0; i < 20; i++)
      session(&fs, c, (uint16_t)(20000 + i), tk_ip4(10, 0, 0, 200), 80,
              T0 + i * 5000);
    if (!announced)
      for (size_t i = 0; i < fs.n; i++)
        fs.v[i].flags |= NFH_FLOW_SAMPLED;
    nfh_engine *e = hunt(&fs);
    const nfh_finding *f = find(e, "h|10.1.1.6|tcp/445");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f) {
      conf[announced] = f->confidence;
      CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
      if (!announced)
        CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "interval unknown"));
    } else {
      dump(e);
    }
    nfh_engine_destroy(e);
    free_flows(&fs);
  }
  printf("\n    confidence: unannounced %.2f, announced 1:100 %.2f", conf[0],
         conf[1]);
  CU_ASSERT(conf[0] > 0 && conf[0] <= conf[1] + 0.05);
}

/* Five hosts hammering one refusing service: one finding for all. */
static void test_repeated_many_sources(void) {
  flows fs = {0};
  nfh_addr s = tk_ip("10.3.3.4");
  for (unsigned k = 0; k < 5; k++)
    for (unsigned i = 0; i < 300; i++)
      syn_refused(&fs, tk_ip4(10, 1, 2, 10 + k), (uint16_t)(20000 + i), s, 8443,
                  T0 + k * 777 + i * 40);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "r|*|10.3.3.4|tcp/8443");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT_EQUAL(f->severity, NFH_SEV_LOW);
    CU_ASSERT_EQUAL(evidence_num(f, "sources"), 5);
    CU_ASSERT_EQUAL(evidence_num(f, "attempts"), 1500);
    CU_ASSERT_EQUAL(f->src.family, 0);
  }
  CU_ASSERT_EQUAL(count(e), 1);
  if (!f || count(e) != 1)
    dump(e);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* ---------------------------------------------------------- the store */

/* A host that browsed 60 sites on tcp/443 (a lite source: only answers)
 * then sweeps 100 more hosts on that port, 90 failing: the sites it
 * browsed still count as answered on the port. */
static void test_lite_then_scan(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.1.1.20");
  for (unsigned i = 0; i < 60; i++)
    for (unsigned r = 0; r < 3; r++)
      session(&fs, c, (uint16_t)(20000 + i * 3 + r), tk_ip4(23, 5, 0, 1 + i),
              443, T0 + i * 20000 + r * 5000);
  for (unsigned i = 0; i < 100; i++) {
    nfh_addr s = tk_ip4(10, 6, 0, 1 + i);
    uint64_t t = T0 + HOUR + i * 1000;
    if (i % 10 == 0)
      syn_open(&fs, c, (uint16_t)(30000 + i), s, 443, t);
    else
      syn_silent(&fs, c, (uint16_t)(30000 + i), s, 443, t);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.1.1.20|tcp/443");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT_EQUAL(evidence_num(f, "hosts"), 160);
    CU_ASSERT_EQUAL(evidence_num(f, "answered"), 70);
    CU_ASSERT_EQUAL(evidence_num(f, "failed"), 90);
  }
  if (!f || count(e) != 1)
    dump(e);
  CU_ASSERT_EQUAL(count(e), 1);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* Probes that set the ACK bit: a SYN, then one bare ACK on the same
 * connection, so that the record's flags read SYN|ACK. A sweep of 200
 * internal hosts that way was nothing, silent or refused; it is the
 * scan it is. A short real session (SYN, ACK, data, FIN) stays a
 * success. */
static void test_ack_probes(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.1.1.40"), r = tk_ip("10.1.1.41");
  for (unsigned i = 0; i < 200; i++) {
    nfh_addr t = tk_ip4(10, 9, (uint8_t)(i / 200), (uint8_t)(1 + i % 200));
    add(&fs, c, (uint16_t)(30000 + i), t, 445, 6, S | A, T0 + i * 900, 2);
  }
  for (unsigned i = 0; i < 200; i++) {
    nfh_addr t = tk_ip4(10, 9, 1, (uint8_t)(1 + i % 200));
    add(&fs, r, (uint16_t)(31000 + i), t, 3389, 6, S | A, T0 + i * 900, 2);
    add(&fs, t, 3389, r, (uint16_t)(31000 + i), 6, R | A, T0 + i * 900 + 1,
        1);
  }
  /* Someone's ordinary short sessions to a few servers. */
  nfh_addr u = tk_ip("10.1.1.42");
  for (unsigned i = 0; i < 30; i++)
    session(&fs, u, (uint16_t)(32000 + i), tk_ip4(10, 9, 2, (uint8_t)(1 + i)),
            443, T0 + i * 5000);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f1 = find(e, "h|10.1.1.40|tcp/445");
  const nfh_finding *f2 = find(e, "h|10.1.1.41|tcp/3389");
  if (!f1 || !f2)
    dump(e);
  CU_ASSERT(f1 && f1->severity >= NFH_SEV_MEDIUM);
  CU_ASSERT(f2 && f2->severity >= NFH_SEV_MEDIUM);
  if (f1)
    CU_ASSERT_EQUAL(evidence_num(f1, "failed"), 200);
  CU_ASSERT_PTR_NULL(find(e, "h|10.1.1.42|tcp/443"));
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* An internal host tries 60 internal hosts, each on a port of its own,
 * refused by each: a lateral scan, and nothing, since a peer-to-peer
 * client fails on as many ports as hosts too. Peers are out there; our
 * own hosts are not its peers. */
static void test_lateral_one_per_port(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.1.1.50");
  for (unsigned i = 0; i < 60; i++)
    syn_refused(&fs, c, (uint16_t)(42000 + i), tk_ip4(10, 21, 0, (uint8_t)(1 + i)),
                (uint16_t)(1000 + 37 * i), T0 + i * 50000);
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.1.1.50|*");
  if (!f)
    dump(e);
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f)
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

/* Desktops finding their update peers on tcp/7680 (Windows Delivery
 * Optimization): each tries 30 LAN peers, most refuse or stay silent.
 * Each was its own medium scan, 56 of them at one site; now one
 * finding names them all, as severe as the worst. Four such hosts stay
 * four findings. */
static void test_peers(void) {
  for (int round = 0; round < 2; round++) {
    unsigned hosts = round == 0 ? 12 : 4;
    flows fs = {0};
    for (unsigned h = 0; h < hosts; h++) {
      nfh_addr c = tk_ip4(10, 20, 0, (uint8_t)(1 + h));
      for (unsigned p = 0; p < 30; p++) {
        nfh_addr peer = tk_ip4(10, 20, 1, (uint8_t)(1 + (h * 7 + p) % 200));
        uint64_t t = T0 + h * 60000 + p * 1000;
        uint16_t cp = (uint16_t)(40000 + h * 100 + p);
        if (p % 10 < 5)
          syn_refused(&fs, c, cp, peer, 7680, t);
        else if (p % 10 < 9)
          syn_silent(&fs, c, cp, peer, 7680, t);
        else
          session(&fs, c, cp, peer, 7680, t);
      }
    }
    nfh_engine *e = hunt(&fs);
    const nfh_finding *f = find(e, "peers|tcp/7680");
    size_t singles = 0;
    for (unsigned h = 0; h < hosts; h++) {
      char key[64];
      snprintf(key, sizeof(key), "h|10.20.0.%u|tcp/7680", 1 + h);
      singles += find(e, key) != NULL;
    }
    if (round == 0) {
      if (!f || singles)
        dump(e);
      CU_ASSERT_PTR_NOT_NULL(f);
      CU_ASSERT_EQUAL(singles, 0);
      if (f) {
        CU_ASSERT_EQUAL(evidence_num(f, "sources"), 12);
        CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
      }
    } else {
      CU_ASSERT_PTR_NULL(f);
      CU_ASSERT_EQUAL(singles, 4);
    }
    nfh_engine_destroy(e);
    free_flows(&fs);
  }
}

/* A lateral scan by a host that also browses: 150 internal hosts
 * silent on tcp/443 beside 200 web sites that answered on the same
 * port. The port as a whole is 43% failed and passed for browsing; the
 * home hosts alone are a scan. Peers on the LAN that refuse 60% of the
 * time (Windows Delivery Optimization) stay no scan. */
static void test_lateral_among_browsing(void) {
  flows fs = {0};
  nfh_addr c = tk_ip("10.1.1.30");
  for (unsigned i = 0; i < 200; i++)
    session(&fs, c, (uint16_t)(20000 + i), tk_ip4(23, 5, (uint8_t)(i / 200),
                                                  (uint8_t)(1 + i % 200)),
            443, T0 + i * 15000);
  for (unsigned i = 0; i < 150; i++)
    syn_silent(&fs, c, (uint16_t)(40000 + i),
               tk_ip4(10, 6, (uint8_t)(i / 200), (uint8_t)(1 + i % 200)), 443,
               T0 + 600000 + i * 7000);
  /* The LAN peer client: 15 peers, 9 refuse. */
  nfh_addr p = tk_ip("10.1.1.31");
  for (unsigned i = 0; i < 200; i++)
    session(&fs, p, (uint16_t)(20000 + i), tk_ip4(23, 6, 0, (uint8_t)(1 + i)),
            443, T0 + i * 15000);
  for (unsigned i = 0; i < 15; i++) {
    nfh_addr peer = tk_ip4(10, 7, 0, (uint8_t)(1 + i));
    if (i < 9)
      syn_refused(&fs, p, (uint16_t)(41000 + i), peer, 7680,
                  T0 + 700000 + i * 9000);
    else
      session(&fs, p, (uint16_t)(41000 + i), peer, 7680,
              T0 + 700000 + i * 9000);
  }
  nfh_engine *e = hunt(&fs);
  const nfh_finding *f = find(e, "h|10.1.1.30|tcp/443");
  CU_ASSERT_PTR_NOT_NULL(f);
  if (f) {
    CU_ASSERT(f->severity >= NFH_SEV_MEDIUM);
    CU_ASSERT_EQUAL(evidence_num(f, "hosts"), 150);
    CU_ASSERT_EQUAL(evidence_num(f, "failed"), 150);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->summary, "150 internal hosts"));
  }
  if (!f || count(e) != 1)
    dump(e);
  CU_ASSERT_EQUAL(count(e), 1);
  nfh_engine_destroy(e);
  free_flows(&fs);
}

static ps_params store_params(void) {
  ps_params p;
  memset(&p, 0, sizeof(p));
  p.step_succ = log(0.25);
  p.step_fail = log(4);
  p.log_eta0 = log(0.01 / 0.99);
  p.log_eta1 = log(99);
  p.max_targets = 1024;
  p.max_services = 4096;
  p.max_sketches = 16;
  p.hll_precision = 10;
  p.max_sources = 100000;
  p.max_entries = 4000000;
  return p;
}

static ps_contact contact(nfh_addr src, nfh_addr dst, uint16_t port,
                          uint8_t cls, uint32_t when_s) {
  ps_contact c;
  memset(&c, 0, sizeof(c));
  c.src = src;
  c.dst = dst;
  c.proto = 6;
  c.port = port;
  c.cls = cls;
  c.reasons = cls == PS_SUCC ? 0 : PS_R_RST;
  c.first_s = c.last_s = when_s;
  c.sampling = 1;
  c.weight = 1;
  return c;
}

static const ps_source *source_of(const ps_store *st, nfh_addr a) {
  size_t n;
  ps_source *const *src = nfh__ps_store_sources(st, &n);
  for (size_t i = 0; i < n; i++)
    if (nfh_addr_compare(&src[i]->addr, &a) == 0)
      return src[i];
  return NULL;
}

static const ps_port *port_of(const ps_source *s, uint16_t port) {
  for (uint32_t i = 0; s && i < s->nports; i++)
    if (s->ports[i].port == port && s->ports[i].proto == 6)
      return &s->ports[i];
  return NULL;
}

/* A source that only ever succeeded keeps no targets or services, only
 * hashes; its ports count each distinct answering service once. Its
 * first failure makes it a full source, and what it met before stays
 * known: meeting it again is no first contact. */
static void test_store_lite(void) {
  ps_params p = store_params();
  ps_store *st = nfh__ps_store_create(&p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  nfh_addr a = tk_ip("10.1.2.3");
  for (unsigned r = 0; r < 2; r++)
    for (unsigned i = 0; i < 10; i++)
      for (uint16_t port = 80; port <= 81; port++) {
        ps_contact c = contact(a, tk_ip4(10, 7, 0, 1 + i), port, PS_SUCC,
                               1000000 + r * 100 + i);
        CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
      }
  const ps_source *s = source_of(st, a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT(s->lite);
  CU_ASSERT_EQUAL(s->ntargets, 0);
  CU_ASSERT_EQUAL(s->nservices, 0);
  CU_ASSERT_EQUAL(s->ngood, 10);
  CU_ASSERT_EQUAL(s->first_contacts, 10);
  CU_ASSERT_EQUAL(s->contacts, 40);
  CU_ASSERT_EQUAL(nfh__ps_store_entries(st), 0);
  const ps_port *q = port_of(s, 81);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT_EQUAL(q->n[PS_SUCC], 10);
  CU_ASSERT_EQUAL(q->folded, 10);
  CU_ASSERT_EQUAL(q->contacts, 20);
  /* Nothing of it is worth saving. */
  void *blob = NULL;
  size_t len = 0, n = 0;
  CU_ASSERT_EQUAL(nfh__ps_store_save(st, 0, 100, 100000, &blob, &len), 0);
  ps_store *back = nfh__ps_store_create(&p);
  CU_ASSERT_EQUAL(nfh__ps_store_load(back, blob, len, 0), 0);
  nfh__ps_store_sources(back, &n);
  CU_ASSERT_EQUAL(n, 0);
  nfh__ps_store_destroy(back);
  free(blob);
  /* A refused contact to a new host: full from now on, one target. */
  ps_contact c = contact(a, tk_ip4(10, 7, 1, 1), 22, PS_STRONG, 1000500);
  CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  s = source_of(st, a);
  CU_ASSERT_FALSE(s->lite);
  CU_ASSERT_EQUAL(s->ntargets, 1);
  CU_ASSERT_EQUAL(s->tn[PS_STRONG], 1);
  CU_ASSERT_EQUAL(s->first_contacts, 11);
  CU_ASSERT_EQUAL(port_of(s, 81)->n[PS_SUCC], 10);
  /* A refused contact to a host it met: an entry again, but its first
   * contact was long made. */
  c = contact(a, tk_ip4(10, 7, 0, 1), 23, PS_STRONG, 1000600);
  CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  s = source_of(st, a);
  CU_ASSERT_EQUAL(s->ntargets, 2);
  CU_ASSERT_EQUAL(s->first_contacts, 11);
  CU_ASSERT_EQUAL(s->targets[1].first_cls, PS_SUCC);
  /* An unreachable makes a lite source full too. */
  nfh_addr b = tk_ip("10.1.2.4");
  c = contact(b, tk_ip4(10, 7, 0, 1), 80, PS_SUCC, 1000700);
  CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  CU_ASSERT(source_of(st, b)->lite);
  CU_ASSERT_EQUAL(nfh__ps_store_unreachable(st, &b, 1, &c.dst, 1, 1, 1,
                                            1000701, 1.0),
                  0);
  CU_ASSERT_FALSE(source_of(st, b)->lite);
  nfh__ps_store_destroy(st);
}

/* Contacts prefetched in groups (nfh__ps_store_prefetch, as the module
 * records them) leave the store exactly as contacts recorded one by one
 * do: same state blob, through sweeps and unreachables. */
static void test_store_prefetch(void) {
  ps_params p = store_params();
  p.max_targets = 64; /* some sources past the exact cap */
  p.max_services = 256;
  ps_store *one = nfh__ps_store_create(&p), *grouped = nfh__ps_store_create(&p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(one);
  CU_ASSERT_PTR_NOT_NULL_FATAL(grouped);
  uint32_t seed = 5;
  ps_contact batch[PS_PREFETCH_MAX];
  for (unsigned round = 0; round < 400; round++) {
    uint32_t when = 1000000 + round * 40;
    size_t n = 1 + rnd(&seed) % PS_PREFETCH_MAX;
    for (size_t i = 0; i < n; i++) {
      uint32_t r = rnd(&seed);
      /* A few busy scanners, many light clients. */
      nfh_addr src = r % 4 ? tk_ip4(10, 9, (r >> 4) & 3, (r >> 8) & 0x3f)
                           : tk_ip4(10, 8, 0, (r >> 4) & 3);
      nfh_addr dst = tk_ip4(10, 10, (r >> 12) & 0xf, (r >> 16) & 0xff);
      uint32_t u = rnd(&seed) % 16; /* light clients fail now and then */
      uint8_t cls = u < (r % 4 ? 14u : 4u) ? PS_SUCC
                    : u % 2              ? PS_STRONG
                                         : PS_WEAK;
      batch[i] = contact(src, dst, (uint16_t)(20 + (r >> 24) % 40), cls,
                         when + (uint32_t)i);
    }
    for (size_t i = 0; i < n; i++)
      CU_ASSERT_EQUAL(nfh__ps_store_contact(one, &batch[i]), 0);
    nfh__ps_store_prefetch(grouped, batch, n);
    for (size_t i = 0; i < n; i++)
      CU_ASSERT_EQUAL(nfh__ps_store_contact(grouped, &batch[i]), 0);
    if (round % 50 == 7) {
      nfh_addr prober = tk_ip4(10, 8, 0, round & 3), sender = batch[0].dst;
      CU_ASSERT_EQUAL(nfh__ps_store_unreachable(one, &prober, 1, &sender, 1,
                                                1, 2, when, 1.0),
                      0);
      CU_ASSERT_EQUAL(nfh__ps_store_unreachable(grouped, &prober, 1, &sender,
                                                1, 1, 2, when, 1.0),
                      0);
    }
    if (round % 100 == 99) {
      nfh__ps_store_sweep(one, when, 1200, 3600);
      nfh__ps_store_sweep(grouped, when, 1200, 3600);
    }
  }
  CU_ASSERT_EQUAL(nfh__ps_store_entries(one), nfh__ps_store_entries(grouped));
  void *a = NULL, *b = NULL;
  size_t alen = 0, blen = 0;
  CU_ASSERT_EQUAL(nfh__ps_store_save(one, 0, 100000, 100000000, &a, &alen),
                  0);
  CU_ASSERT_EQUAL(
      nfh__ps_store_save(grouped, 0, 100000, 100000000, &b, &blen), 0);
  CU_ASSERT(alen > 1000);
  CU_ASSERT(alen == blen && memcmp(a, b, alen) == 0);
  free(a);
  free(b);
  nfh__ps_store_destroy(one);
  nfh__ps_store_destroy(grouped);
}

/* The sweep folds a source's quiet answered targets and gives their
 * memory back: the tables shrink to what is left, stay consistent, and
 * keep working. */
static void test_store_fold_shrink(void) {
  ps_params p = store_params();
  ps_store *st = nfh__ps_store_create(&p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  nfh_addr a = tk_ip("10.1.3.3");
  ps_contact c = contact(a, tk_ip4(10, 11, 9, 9), 25, PS_STRONG, 1000000);
  CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  for (unsigned i = 0; i < 900; i++) {
    c = contact(a, tk_ip4(10, 11, i >> 8, i & 0xff), (uint16_t)(80 + i % 3),
                PS_SUCC, 1000000 + i);
    CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  }
  const ps_source *s = source_of(st, a);
  CU_ASSERT_EQUAL_FATAL(s->ntargets, 901);
  CU_ASSERT_EQUAL(nfh__ps_store_entries(st), 901 + 901);
  /* Two hours on, the answered targets are folded; the failed one
   * stays. */
  nfh__ps_store_sweep(st, 1007200, 3600, 86400);
  s = source_of(st, a);
  CU_ASSERT_EQUAL(s->ntargets, 1);
  CU_ASSERT_EQUAL(s->nservices, 1);
  CU_ASSERT(s->cap_targets <= 4);
  CU_ASSERT(s->cap_services <= 4);
  CU_ASSERT_EQUAL(s->tindex.cap, 0);
  CU_ASSERT_EQUAL(s->ngood, 900);
  CU_ASSERT_EQUAL(nfh__ps_store_entries(st), 2);
  CU_ASSERT_EQUAL(port_of(s, 80)->n[PS_SUCC], 300);
  CU_ASSERT_EQUAL(port_of(s, 80)->folded, 300);
  /* Folded hosts are known; new ones are first contacts. */
  uint32_t fc = s->first_contacts;
  c = contact(a, tk_ip4(10, 11, 0, 5), 80, PS_WEAK, 1007300);
  CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  for (unsigned i = 0; i < 40; i++) {
    c = contact(a, tk_ip4(10, 12, 0, i), 80, PS_WEAK, 1007400 + i);
    CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  }
  s = source_of(st, a);
  CU_ASSERT_EQUAL(s->first_contacts, fc + 40);
  CU_ASSERT_EQUAL(s->ntargets, 42);
  CU_ASSERT_EQUAL(s->tn[PS_WEAK], 40);
  uint32_t(*tn)[4] = calloc(s->ntargets, sizeof(*tn));
  CU_ASSERT_PTR_NOT_NULL_FATAL(tn);
  nfh__ps_target_services(s, tn);
  CU_ASSERT_EQUAL(tn[0][PS_STRONG], 1);
  CU_ASSERT_EQUAL(tn[41][PS_WEAK], 1);
  free(tn);
  nfh__ps_store_destroy(st);
}

/* Over max_entries, sources that hold entries are evicted, the least
 * suspicious first; lite sources hold none and are not wiped out for
 * it. The scanner stays. */
static void test_store_entries_bound(void) {
  ps_params p = store_params();
  p.max_entries = 400;
  ps_store *st = nfh__ps_store_create(&p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  for (unsigned i = 0; i < 100; i++) {
    ps_contact c = contact(tk_ip4(10, 20, 0, i), tk_ip4(10, 0, 0, 80), 80, PS_SUCC,
                           1000000 + i);
    CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  }
  /* Light clients with a failure or two, then a scanner. */
  for (unsigned i = 0; i < 60; i++)
    for (unsigned k = 0; k < 3; k++) {
      ps_contact c = contact(tk_ip4(10, 21, 0, i), tk_ip4(10, 1, k, i), 80,
                             k ? PS_SUCC : PS_WEAK, 1000200 + i * 3 + k);
      CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
    }
  nfh_addr scanner = tk_ip("10.22.0.1");
  for (unsigned i = 0; i < 150; i++) {
    ps_contact c = contact(scanner, tk_ip4(10, 2, 0, i), 445, PS_STRONG,
                           1000500 + i);
    CU_ASSERT_EQUAL(nfh__ps_store_contact(st, &c), 0);
  }
  CU_ASSERT(nfh__ps_store_evictions(st) > 0);
  CU_ASSERT(nfh__ps_store_entries(st) <= 400);
  CU_ASSERT_PTR_NOT_NULL(source_of(st, scanner));
  size_t n, lite = 0;
  ps_source *const *src = nfh__ps_store_sources(st, &n);
  for (size_t i = 0; i < n; i++)
    lite += src[i]->lite;
  CU_ASSERT_EQUAL(lite, 100);
  nfh__ps_store_destroy(st);
}

int main(void) {
  if (access(MODULE, R_OK) != 0) {
    fprintf(stderr, "%s not built\n", MODULE);
    return 77;
  }
  if (CU_initialize_registry() != CUE_SUCCESS)
    return CU_get_error();
  CU_pSuite s = CU_add_suite("port_scan", NULL, NULL);
  if (!s || !CU_add_test(s, "horizontal fast", test_horizontal_fast) ||
      !CU_add_test(s, "an outside sweep finding SSH on every fourth host",
                   test_sweep_finding_services) ||
      !CU_add_test(s, "outside scans of 20 and 48 hosts or ports",
                   test_outside_scans_by_breadth) ||
      !CU_add_test(s, "vertical slow", test_vertical_slow) ||
      !CU_add_test(s, "distributed", test_distributed) ||
      !CU_add_test(s, "distributed, a run at every rotation",
                   test_distributed_per_rotation) ||
      !CU_add_test(s, "diagonal sweep; peer-to-peer is none", test_diagonal) ||
      !CU_add_test(s, "nmap -sn: one finding of two ports",
                   test_ping_sweep_two_ports) ||
      !CU_add_test(s, "ping sweep capped at medium", test_ping_sweep_capped) ||
      !CU_add_test(s, "a vertical scan's time past its exact ports",
                   test_vertical_span_past_exact) ||
      !CU_add_test(s, "a scan's span with its answered probes first",
                   test_span_with_answered_first) ||
      !CU_add_test(s, "a resolver's recursion is no scan",
                   test_resolver_recursion) ||
      !CU_add_test(s, "a half-open sweep of a dense network; health checks",
                   test_half_open_sweep) ||
      !CU_add_test(s, "open ports counted, counts no more than there are",
                   test_open_counted_not_scaled) ||
      !CU_add_test(s, "the Internet's background folded, sweeps of /22s too",
                   test_background_folded) ||
      !CU_add_test(s, "the Internet's background, hourly",
                   test_background_daily) ||
      !CU_add_test(s, "a few sampled probes of an unsampled sweep",
                   test_mostly_unsampled) ||
      !CU_add_test(s, "Null, ACK and Maimon scans: refused by resets",
                   test_reset_only_probes) ||
      !CU_add_test(s, "biflow records: the scan, not the flood's victim",
                   test_biflow_records) ||
      !CU_add_test(s, "a sweep beside lone failures on other ports",
                   test_sweep_beside_lone_failures) ||
      !CU_add_test(s, "block scan past the exact tables",
                   test_block_past_tables) ||
      !CU_add_test(s, "udp with icmp unreachable", test_udp_icmp) ||
      !CU_add_test(s, "a UDP flood to random ports is no scan",
                   test_udp_flood_is_no_scan) ||
      !CU_add_test(s, "benign traps", test_benign_traps) ||
      !CU_add_test(s, "scan in background", test_scan_in_background) ||
      !CU_add_test(s, "sampled", test_sampled) ||
      !CU_add_test(s, "sampled refusals alone", test_sampled_refusals) ||
      !CU_add_test(s, "one-way exporter", test_one_way) ||
      !CU_add_test(s, "inside-only exporter: scans by their resets",
                   test_refusals_only) ||
      !CU_add_test(s, "per-packet TCP flags", test_flags_per_packet) ||
      !CU_add_test(s, "state round trip", test_state_round_trip) ||
      !CU_add_test(s, "state: slow vertical", test_state_vertical) ||
      !CU_add_test(s, "state blob damage", test_blob_damage) ||
      !CU_add_test(s, "large sweep (sketch)", test_large_sweep) ||
      !CU_add_test(s, "a block past the exact targets",
                   test_block_past_targets) ||
      !CU_add_test(s, "bounded sources", test_bounded_sources) ||
      !CU_add_test(s, "hourly sweep, long run", test_sweep_long_run) ||
      !CU_add_test(s, "settings", test_settings) ||
      !CU_add_test(s, "a sweep again hours later", test_sweep_again) ||
      !CU_add_test(s, "a router's unreachables", test_router_unreachables) ||
      !CU_add_test(s, "allow rules: a scanner, or its scans of a port",
                   test_allow_rules) ||
      !CU_add_test(s, "repeated refused", test_repeated_refused) ||
      !CU_add_test(s, "repeated refused, many sources",
                   test_repeated_many_sources) ||
      !CU_add_test(s, "lite source, then a scan", test_lite_then_scan) ||
      !CU_add_test(s, "a lateral scan among browsing",
                   test_lateral_among_browsing) ||
      !CU_add_test(s, "probes with the ACK bit set", test_ack_probes) ||
      !CU_add_test(s, "peers on one port, or a worm", test_peers) ||
      !CU_add_test(s, "a lateral scan, one port a host",
                   test_lateral_one_per_port) ||
      !CU_add_test(s, "a slow scan of three ports in daily runs",
                   test_slow_multiport_runs) ||
      !CU_add_test(s, "firewall events: denied scans (NSEL)",
                   test_nsel_denied) ||
      !CU_add_test(s, "sampled at an unknown interval: no poller scan",
                   test_sampled_unknown_interval) ||
      !CU_add_test(s, "sampled at an unknown interval: no surer",
                   test_sampled_unknown_confidence) ||
      !CU_add_test(s, "a vertical scan after a ping",
                   test_vertical_with_ping) ||
      !CU_add_test(s, "the Internet's background at the data's start, hourly",
                   test_background_at_data_start) ||
      !CU_add_test(s, "IPv6 scanners rotating over their /64",
                   test_v6_rotating_source) ||
      !CU_add_test(s, "store: lite sources", test_store_lite) ||
      !CU_add_test(s, "store: grouped contacts", test_store_prefetch) ||
      !CU_add_test(s, "store: fold and shrink", test_store_fold_shrink) ||
      !CU_add_test(s, "store: entries bound", test_store_entries_bound)) {
    CU_cleanup_registry();
    return CU_get_error();
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failures = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
