/* test_stitch.c - records into connections. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "../../plugin/model/stitch.h"

#define MAXC 1024
static nfh_conn got[MAXC];
static size_t ngot;

static int sink(void *user, const nfh_conn *c, size_t n) {
  (void)user;
  for (size_t i = 0; i < n && ngot < MAXC; i++)
    got[ngot++] = c[i];
  return 0;
}

static nfh_flow flow(const char *src, uint16_t sp, const char *dst,
                     uint16_t dp, uint8_t proto, uint64_t first,
                     uint64_t last, uint64_t bytes, uint8_t flags) {
  nfh_flow f;
  memset(&f, 0, sizeof(f));
  nfh_addr_parse(src, &f.src);
  nfh_addr_parse(dst, &f.dst);
  f.src_port = sp, f.dst_port = dp, f.proto = proto;
  f.first_ms = first, f.last_ms = last;
  f.packets = bytes / 100 + 1, f.bytes = bytes, f.tcp_flags = flags;
  f.sampling = 1, f.aggr_flows = 1;
  if (proto == 1) {
    f.icmp_type = (uint8_t)(dp >> 8), f.icmp_code = (uint8_t)dp;
    f.src_port = 0;
  }
  return f;
}

static nfh__stitcher *make(void) {
  nfh__stitcher *s;
  ngot = 0;
  CU_ASSERT_FATAL(nfh__stitcher_create(16000, 300000, sink, NULL, &s) ==
                  NFH_OK);
  return s;
}

/* Connection i's client as text (a static buffer). */
static const char *client_of(size_t i) {
  static char a[NFH_ADDR_STRLEN];
  return nfh_addr_format(&got[i].client, a, sizeof(a));
}

/* Stitches the n records and flushes: the connections are in got[]. */
static void stitch(const nfh_flow *f, size_t n) {
  nfh__stitcher *s = make();
  CU_ASSERT(nfh__stitcher_add(s, f, n, NULL) == NFH_OK);
  CU_ASSERT(nfh__stitcher_flush(s) == NFH_OK);
  nfh__stitcher_destroy(s);
}

static void test_active_timeout_split(void) {
  /* A 10-minute SSH session exported every 60 s, both directions: 20
   * records, one connection. */
  nfh__stitcher *s = make();
  uint64_t t0 = 1700000000000ull;
  for (int i = 0; i < 10; i++) {
    nfh_flow f[2] = {
        flow("10.0.0.5", 50000, "198.51.100.7", 22, 6, t0 + i * 60000ull,
             t0 + i * 60000ull + 59000, 4000, i ? 0x18 : 0x1a),
        flow("198.51.100.7", 22, "10.0.0.5", 50000, 6, t0 + i * 60000ull,
             t0 + i * 60000ull + 59000, 9000, i ? 0x18 : 0x12)};
    CU_ASSERT(nfh__stitcher_add(s, f, 2, NULL) == NFH_OK);
  }
  CU_ASSERT(nfh__stitcher_flush(s) == NFH_OK);
  CU_ASSERT_EQUAL_FATAL(ngot, 1);
  CU_ASSERT_STRING_EQUAL(client_of(0), "10.0.0.5");
  CU_ASSERT_EQUAL(got[0].server_port, 22);
  CU_ASSERT_EQUAL(got[0].records, 20);
  CU_ASSERT_EQUAL(got[0].client_bytes, 40000);
  CU_ASSERT_EQUAL(got[0].server_bytes, 90000);
  CU_ASSERT(got[0].flags & NFH_CONN_REPLY);
  CU_ASSERT(got[0].flags & NFH_CONN_ESTABLISHED);
  CU_ASSERT_EQUAL(got[0].last_ms - got[0].first_ms, 9 * 60000 + 59000);
  nfh__stitcher_destroy(s);
}

static void test_gap_splits(void) {
  /* The same 5-tuple after a long pause is a new connection. */
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[2] = {
      flow("10.0.0.5", 40000, "203.0.113.9", 53, 17, t0, t0 + 10, 60, 0),
      flow("10.0.0.5", 40000, "203.0.113.9", 53, 17, t0 + 120000,
           t0 + 120010, 60, 0)};
  stitch(f, 2);
  CU_ASSERT_EQUAL(ngot, 2);
  CU_ASSERT(!(got[0].flags & NFH_CONN_REPLY));
}

static void test_scan_direction(void) {
  /* SYN and a RST/ACK back: the prober is the client, no session. */
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[3] = {
      flow("10.0.0.66", 61000, "10.0.1.2", 445, 6, t0, t0, 40, 0x02),
      flow("10.0.1.2", 445, "10.0.0.66", 61000, 6, t0 + 1, t0 + 1, 40, 0x14),
      /* Only the SYN-ACK seen (asymmetric exporter): still the answer. */
      flow("10.0.1.3", 80, "10.0.0.66", 61001, 6, t0 + 2, t0 + 2, 44, 0x12)};
  stitch(f, 3);
  CU_ASSERT_EQUAL_FATAL(ngot, 2);
  for (size_t i = 0; i < ngot; i++) {
    CU_ASSERT_STRING_EQUAL(client_of(i), "10.0.0.66");
    CU_ASSERT(!(got[i].flags & NFH_CONN_ESTABLISHED));
  }
  size_t rst = got[0].server_port == 445 ? 0 : 1;
  CU_ASSERT(got[rst].flags & NFH_CONN_RST);
  CU_ASSERT(got[rst].flags & NFH_CONN_REPLY);
}

static void test_icmp(void) {
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[3] = {
      flow("10.0.0.1", 0, "10.0.0.2", 0x0800, 1, t0, t0 + 3000, 252, 0),
      flow("10.0.0.2", 0, "10.0.0.1", 0x0000, 1, t0, t0 + 3000, 252, 0),
      /* Port unreachable from .3 to the prober .1 */
      flow("10.0.0.3", 0, "10.0.0.1", 0x0303, 1, t0 + 5, t0 + 5, 56, 0)};
  stitch(f, 3);
  CU_ASSERT_EQUAL_FATAL(ngot, 2);
  const nfh_conn *echo = got[0].server_port == 0x0800 ? &got[0] : &got[1];
  const nfh_conn *unreach = echo == &got[0] ? &got[1] : &got[0];
  CU_ASSERT_EQUAL(echo->records, 2);
  CU_ASSERT(echo->flags & NFH_CONN_REPLY);
  CU_ASSERT_EQUAL(unreach->server_port, 0x0303);
  char a[NFH_ADDR_STRLEN];
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&unreach->client, a, sizeof(a)),
                         "10.0.0.1");
}

static void test_expiry_bounded(void) {
  /* A day of short connections: the open table stays small. */
  nfh__stitcher *s = make();
  uint64_t t0 = 1700000000000ull;
  size_t max_open = 0;
  ngot = 0;
  for (int i = 0; i < 20000; i++) {
    nfh_flow f = flow("10.0.0.5", (uint16_t)(1024 + i % 60000),
                      "192.0.2.1", 443, 6, t0 + i * 4000ull,
                      t0 + i * 4000ull + 100, 500, 0x1b);
    nfh__stitcher_add(s, &f, 1, NULL);
    if (nfh__stitcher_open_count(s) > max_open)
      max_open = nfh__stitcher_open_count(s);
    if (ngot > MAXC - 10)
      ngot = 0; /* only the bound matters here */
  }
  /* 300 s hold at one connection per 4 s: about 75 open. */
  CU_ASSERT(max_open < 200);
  nfh__stitcher_destroy(s);
}

static void test_new_syn_after_close(void) {
  /* Same 5-tuple reused right after a closed session: two connections. */
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[4] = {
      flow("10.0.0.5", 40000, "192.0.2.1", 80, 6, t0, t0 + 100, 500, 0x1b),
      flow("192.0.2.1", 80, "10.0.0.5", 40000, 6, t0, t0 + 100, 900, 0x1b),
      flow("10.0.0.5", 40000, "192.0.2.1", 80, 6, t0 + 1000, t0 + 1000, 60,
           0x02),
      flow("192.0.2.1", 80, "10.0.0.5", 40000, 6, t0 + 1000, t0 + 1000, 60,
           0x14)};
  stitch(f, 4);
  CU_ASSERT_EQUAL(ngot, 2);
}

static void test_reply_first(void) {
  /* Exporters write the two directions of a probe in either order
   * (softflowd writes the lower address first): the RST/ACK that a
   * closed port sent, then the SYN that drew it, in the same millisecond
   * or one earlier, or stamped up to two seconds later (NetFlow v9
   * headers carry whole seconds: 482 of 1,017 refused probes of a
   * vertical scan had their RST stamped 0.4 s before the SYN, and read
   * "no reply"). One refused probe each time, never a SYN without
   * answer beside an answer without a question. */
  static const int64_t gaps[] = {0, 1, -440, -1900};
  for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
    uint64_t t0 = 1700000000000ull;
    uint64_t rst = (uint64_t)((int64_t)t0 + gaps[g]);
    nfh_flow f[2] = {
        flow("10.0.1.2", 445, "10.0.9.66", 61000, 6, rst, rst, 40, 0x14),
        flow("10.0.9.66", 61000, "10.0.1.2", 445, 6, t0, t0, 44, 0x02)};
    stitch(f, 2);
    CU_ASSERT_EQUAL_FATAL(ngot, 1);
    CU_ASSERT_STRING_EQUAL(client_of(0), "10.0.9.66");
    CU_ASSERT_EQUAL(got[0].server_port, 445);
    CU_ASSERT_EQUAL(got[0].records, 2);
    CU_ASSERT(got[0].flags & NFH_CONN_RST);
    CU_ASSERT(got[0].flags & NFH_CONN_REPLY);
    CU_ASSERT(!(got[0].flags & NFH_CONN_DIRECTION_GUESSED));
    CU_ASSERT(!(got[0].flags & NFH_CONN_ESTABLISHED));
  }
}

static void test_syn_after_lone_reset(void) {
  /* A SYN three seconds after a reset it cannot have drawn: two. */
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[2] = {
      flow("10.0.1.2", 445, "10.0.9.66", 61000, 6, t0, t0, 40, 0x14),
      flow("10.0.9.66", 61000, "10.0.1.2", 445, 6, t0 + 3000, t0 + 3000, 44,
           0x02)};
  stitch(f, 2);
  CU_ASSERT_EQUAL(ngot, 2);
}

static void test_direction_settled(void) {
  /* A prober sending from port 53 (nmap -g 53) to port 8080: the answer
   * comes first, and by its ports the target looks like the client. The
   * SYN that follows settles who opened the connection. */
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[2] = {
      flow("10.0.1.2", 8080, "10.0.9.66", 53, 6, t0, t0, 40, 0x14),
      flow("10.0.9.66", 53, "10.0.1.2", 8080, 6, t0, t0, 44, 0x02)};
  stitch(f, 2);
  CU_ASSERT_EQUAL_FATAL(ngot, 1);
  CU_ASSERT_STRING_EQUAL(client_of(0), "10.0.9.66");
  CU_ASSERT_EQUAL(got[0].client_port, 53);
  CU_ASSERT_EQUAL(got[0].server_port, 8080);
  CU_ASSERT_EQUAL(got[0].client_flags, 0x02);
  CU_ASSERT_EQUAL(got[0].server_flags, 0x14);
  CU_ASSERT_EQUAL(got[0].client_bytes, 44);
  CU_ASSERT_EQUAL(got[0].server_bytes, 40);
  CU_ASSERT(got[0].flags & NFH_CONN_RST);
  CU_ASSERT(!(got[0].flags & NFH_CONN_DIRECTION_GUESSED));

  /* Data records guessed by ports stay as guessed while nothing says
   * otherwise. */
  nfh_flow g[2] = {
      flow("10.0.0.5", 50000, "192.0.2.1", 443, 6, t0, t0 + 100, 500, 0x18),
      flow("192.0.2.1", 443, "10.0.0.5", 50000, 6, t0, t0 + 100, 900, 0x18)};
  stitch(g, 2);
  CU_ASSERT_EQUAL_FATAL(ngot, 1);
  CU_ASSERT_STRING_EQUAL(client_of(0), "10.0.0.5");
  CU_ASSERT(got[0].flags & NFH_CONN_DIRECTION_GUESSED);
}

static void test_probe_without_ack(void) {
  /* nmap's FIN and Xmas scans send from one source port (here 51000) to
   * every port, with no SYN for the ports to be overruled by; closed
   * ports answer RST/ACK. Above 51000 the ports named the target the
   * client. A segment with FIN, PSH or URG and no ACK is a probe, in
   * either order of the two records. */
  static const uint8_t probes[] = {0x01, 0x29};
  for (int order = 0; order < 2; order++) {
    for (size_t k = 0; k < sizeof(probes); k++) {
      uint64_t t0 = 1700000000000ull;
      nfh_flow probe = flow("203.0.113.69", 51000, "198.51.100.12", 60001, 6,
                            t0, t0, 40, probes[k]);
      nfh_flow answer = flow("198.51.100.12", 60001, "203.0.113.69", 51000,
                             6, t0 + 1, t0 + 1, 40, 0x14);
      nfh_flow f[2] = {order ? answer : probe, order ? probe : answer};
      stitch(f, 2);
      CU_ASSERT_EQUAL_FATAL(ngot, 1);
      CU_ASSERT_STRING_EQUAL(client_of(0), "203.0.113.69");
      CU_ASSERT_EQUAL(got[0].server_port, 60001);
      CU_ASSERT_EQUAL(got[0].client_flags, probes[k]);
      CU_ASSERT(got[0].flags & NFH_CONN_RST);
      CU_ASSERT(!(got[0].flags & NFH_CONN_DIRECTION_GUESSED));
    }
  }
}

static void test_null_probe(void) {
  /* nmap's NULL scan: segments with no flags at all from source port
   * 51000, a closed port's RST/ACK back. Above 51000 the ports name the
   * target the client; the flagless segment and the reset tell, in either
   * order. A flagless record alone (an exporter without flags) stays a
   * guess from the ports. */
  for (int order = 0; order < 2; order++) {
    uint64_t t0 = 1700000000000ull;
    nfh_flow probe = flow("203.0.113.67", 51000, "198.51.100.10", 60001, 6,
                          t0, t0, 40, 0);
    nfh_flow answer = flow("198.51.100.10", 60001, "203.0.113.67", 51000, 6,
                           t0 + 1, t0 + 1, 40, 0x14);
    nfh_flow f[2] = {order ? answer : probe, order ? probe : answer};
    stitch(f, 2);
    CU_ASSERT_EQUAL_FATAL(ngot, 1);
    CU_ASSERT_STRING_EQUAL(client_of(0), "203.0.113.67");
    CU_ASSERT_EQUAL(got[0].server_port, 60001);
    CU_ASSERT(!(got[0].flags & NFH_CONN_DIRECTION_GUESSED));
  }
  uint64_t t0 = 1700000000000ull;
  nfh_flow both[2] = {
      flow("10.0.0.5", 51000, "198.51.100.10", 60001, 6, t0, t0 + 10, 400, 0),
      flow("198.51.100.10", 60001, "10.0.0.5", 51000, 6, t0, t0 + 10, 900,
           0)};
  stitch(both, 2);
  CU_ASSERT_EQUAL_FATAL(ngot, 1);
  CU_ASSERT_STRING_EQUAL(client_of(0), "198.51.100.10");
  CU_ASSERT(got[0].flags & NFH_CONN_DIRECTION_GUESSED);
}

static void test_equal_ports(void) {
  /* IPsec NAT-T, 4500 to 4500 both ways: the ports say nothing. The
   * concentrator's record comes first in the file, the remote user's
   * started earlier (its IKE): the user opened it. */
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[2] = {
      flow("10.0.0.50", 4500, "198.51.100.9", 4500, 17, t0 + 40, t0 + 60000,
           900000, 0),
      flow("198.51.100.9", 4500, "10.0.0.50", 4500, 17, t0, t0 + 60000,
           20000, 0)};
  stitch(f, 2);
  CU_ASSERT_EQUAL_FATAL(ngot, 1);
  CU_ASSERT_STRING_EQUAL(client_of(0), "198.51.100.9");
  CU_ASSERT_EQUAL(got[0].server_bytes, 900000);
  CU_ASSERT(!(got[0].flags & NFH_CONN_DIRECTION_GUESSED));

  /* Started in the same millisecond (a session cut by the active
   * timeout before this run): still a guess, and marked so. */
  f[0].first_ms = t0;
  stitch(f, 2);
  CU_ASSERT_EQUAL_FATAL(ngot, 1);
  CU_ASSERT(got[0].flags & NFH_CONN_DIRECTION_GUESSED);
}

/* A TCP upload that stalls for 166 s (longer than the inactive timeout,
 * shorter than the stitcher holds a connection): one connection, its
 * bytes whole; it was two. After FIN both ways, or a reset, the next
 * record after such a pause is another session; so is a SYN. */
static void test_stalled_session(void) {
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[4] = {flow("10.0.0.5", 50000, "198.51.100.7", 443, 6, t0,
                        t0 + 300000, 1800000, 0x1a /* SYN ACK PSH */),
                   flow("198.51.100.7", 443, "10.0.0.5", 50000, 6, t0 + 20,
                        t0 + 300000, 40000, 0x12 /* SYN ACK */),
                   flow("10.0.0.5", 50000, "198.51.100.7", 443, 6, t0 + 466000,
                        t0 + 600000, 1700000, 0x18 /* ACK PSH */),
                   flow("198.51.100.7", 443, "10.0.0.5", 50000, 6, t0 + 466020,
                        t0 + 600000, 38000, 0x10)};
  stitch(f, 4);
  CU_ASSERT_EQUAL_FATAL(ngot, 1);
  CU_ASSERT_EQUAL(got[0].client_bytes, 3500000);
  CU_ASSERT_EQUAL(got[0].records, 4);

  f[0].tcp_flags |= 0x01; /* FIN both ways: closed */
  f[1].tcp_flags |= 0x01;
  stitch(f, 4);
  CU_ASSERT_EQUAL(ngot, 2);
  f[0].tcp_flags = 0x1e; /* a reset */
  f[1].tcp_flags = 0x12;
  stitch(f, 4);
  CU_ASSERT_EQUAL(ngot, 2);
}

/* A game server on udp/27015 whose players' home routers give them
 * ports below 27015 (1024-20000): by the ports, every player was the
 * server and the game server uploaded 3 GB to 191 of them. The server's
 * endpoint talks to many peers, each player's to one: the players open
 * them. Peer-to-peer nodes whose endpoints all talk to several peers,
 * and a lone pair of high ports, keep the ports' guess. */
static void test_service_by_peers(void) {
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[48];
  size_t n = 0;
  char player[32];
  for (int i = 0; i < 12; i++) {
    snprintf(player, sizeof(player), "198.51.100.%d", 10 + i);
    uint16_t port = (uint16_t)(1100 + 1500 * i); /* all below 27015 */
    uint64_t t = t0 + (uint64_t)i * 1000;
    f[n++] =
        flow(player, port, "10.0.0.7", 27015, 17, t, t + 600000, 400000, 0);
    f[n++] = flow("10.0.0.7", 27015, player, port, 17, t + 30, t + 600000,
                  900000, 0);
  }
  /* P2P: three of our nodes and three outside peers, every one talking
   * to the three of the other side. */
  static const char *ours[] = {"10.0.0.8", "10.0.0.11", "10.0.0.12"};
  static const char *peers[] = {"203.0.113.1", "203.0.113.2", "203.0.113.3"};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      f[n++] = flow(ours[i], (uint16_t)(30000 + 1000 * i), peers[j], 20000, 17,
                    t0 + 50000 + (uint64_t)(3 * i + j), t0 + 60000, 5000, 0);
  /* A VPN concentrator's NAT-T sessions, 4500 to 4500, begun before
   * the run: its own records come first, which made it the client of
   * each ("sent 152 MB to ...:4500", hourly). Its endpoint has several
   * peers, each user's one: the users opened them. */
  char user[32];
  for (int i = 0; i < 4; i++) {
    snprintf(user, sizeof(user), "198.51.100.%d", 60 + i);
    uint64_t t = t0 + 70000 + (uint64_t)i;
    f[n++] = flow("10.0.0.50", 4500, user, 4500, 17, t, t + 60000, 9000000, 0);
    f[n++] =
        flow(user, 4500, "10.0.0.50", 4500, 17, t + 10, t + 60000, 3000000, 0);
  }
  /* A lone pair of high ports. */
  f[n++] =
      flow("10.0.0.10", 40000, "203.0.113.9", 9000, 17, t0, t0 + 9000, 5000, 0);
  stitch(f, n);
  int players = 0, p2p = 0, lone = 0, vpn = 0;
  char a[NFH_ADDR_STRLEN];
  for (size_t i = 0; i < ngot; i++) {
    nfh_addr_format(&got[i].server, a, sizeof(a));
    if (got[i].server_port == 27015 || got[i].client_port == 27015) {
      players++;
      CU_ASSERT_STRING_EQUAL(a, "10.0.0.7");
      CU_ASSERT_EQUAL(got[i].server_port, 27015);
      CU_ASSERT_EQUAL(got[i].server_bytes, 900000);
    } else if (got[i].server_port == 20000 || got[i].client_port == 20000) {
      p2p++; /* the ports' guess: 20000 serves */
      CU_ASSERT_EQUAL(got[i].server_port, 20000);
    } else if (got[i].server_port == 4500) {
      vpn++;
      CU_ASSERT_STRING_EQUAL(a, "10.0.0.50");
      CU_ASSERT_EQUAL(got[i].server_bytes, 9000000);
    } else if (got[i].server_port == 9000) {
      lone++;
      CU_ASSERT_STRING_EQUAL(client_of(i), "10.0.0.10");
    }
  }
  CU_ASSERT_EQUAL(players, 12);
  CU_ASSERT_EQUAL(p2p, 9);
  CU_ASSERT_EQUAL(lone, 1);
  CU_ASSERT_EQUAL(vpn, 4);
}

/* Stitches n records, marking those seen twice; returns how many. */
static size_t stitch_marked(const nfh_flow *f, size_t n, uint8_t *twice) {
  nfh__stitcher *s = make();
  CU_ASSERT(nfh__stitcher_add(s, f, n, twice) == NFH_OK);
  CU_ASSERT(nfh__stitcher_flush(s) == NFH_OK);
  size_t dups = (size_t)nfh__stitcher_duplicates(s);
  nfh__stitcher_destroy(s);
  return dups;
}

static nfh_flow from(nfh_flow f, const char *exporter, int64_t skew_ms) {
  nfh_addr_parse(exporter, &f.exporter);
  f.first_ms = (uint64_t)((int64_t)f.first_ms + skew_ms);
  f.last_ms = (uint64_t)((int64_t)f.last_ms + skew_ms);
  return f;
}

/* Two routers on one path export the same packets: each direction counts
 * once, from the exporter that gave it first, within 2 s of clock
 * difference; a record from another exporter after the first one's
 * span is the path moving, and counts. */
static void test_two_exporters(void) {
  const uint64_t t0 = 1700000000000ull;
  uint8_t twice[16];
  /* A 2-minute session, two records a direction from router A (all of
   * its file first), then the same from router B, whose clock is 1.2 s
   * behind. */
  nfh_flow s[4] = {flow("10.0.0.5", 50000, "198.51.100.7", 443, 6, t0,
                        t0 + 60000, 4000, 0x1a),
                   flow("198.51.100.7", 443, "10.0.0.5", 50000, 6, t0 + 5,
                        t0 + 60000, 90000, 0x12),
                   flow("10.0.0.5", 50000, "198.51.100.7", 443, 6, t0 + 60000,
                        t0 + 120000, 3000, 0x19),
                   flow("198.51.100.7", 443, "10.0.0.5", 50000, 6, t0 + 60000,
                        t0 + 120000, 80000, 0x19)};
  nfh_flow f[16];
  for (int i = 0; i < 4; i++) {
    f[i] = from(s[i], "192.0.2.1", 0);
    f[4 + i] = from(s[i], "192.0.2.2", -1200);
  }
  CU_ASSERT_EQUAL(stitch_marked(f, 8, twice), 4);
  CU_ASSERT_EQUAL_FATAL(ngot, 1);
  CU_ASSERT_EQUAL(got[0].client_bytes, 7000);
  CU_ASSERT_EQUAL(got[0].server_bytes, 170000);
  CU_ASSERT_EQUAL(got[0].records, 4);
  for (int i = 0; i < 8; i++)
    CU_ASSERT_EQUAL(twice[i], i >= 4);

  /* NTP polls from port 123 to 123, a single packet each way, 256 s
   * apart: two sessions. Router A's file holds both before router B's
   * (clock 1.5 s ahead) gives the first. */
  nfh_flow p[2] = {flow("10.0.0.9", 123, "192.0.2.123", 123, 17, t0, t0, 76, 0),
                   flow("10.0.0.9", 123, "192.0.2.123", 123, 17, t0 + 256000,
                        t0 + 256000, 76, 0)};
  f[0] = from(p[0], "192.0.2.1", 0);
  f[1] = from(p[1], "192.0.2.1", 0);
  f[2] = from(p[0], "192.0.2.2", 1500);
  f[3] = from(p[1], "192.0.2.2", 1500);
  CU_ASSERT_EQUAL(stitch_marked(f, 4, twice), 2);
  CU_ASSERT_EQUAL_FATAL(ngot, 2);
  CU_ASSERT_EQUAL(got[0].client_bytes + got[1].client_bytes, 152);
  CU_ASSERT(!twice[0] && !twice[1] && twice[2] && twice[3]);

  /* The path moves: router A saw the first two minutes of an upload,
   * router B the third. Every byte counts. */
  f[0] = from(s[0], "192.0.2.1", 0);
  f[1] = from(s[2], "192.0.2.1", 0);
  f[2] = flow("10.0.0.5", 50000, "198.51.100.7", 443, 6, t0 + 123000,
              t0 + 180000, 5000, 0x18);
  nfh_addr_parse("192.0.2.2", &f[2].exporter);
  CU_ASSERT_EQUAL(stitch_marked(f, 3, twice), 0);
  CU_ASSERT_EQUAL_FATAL(ngot, 1);
  CU_ASSERT_EQUAL(got[0].client_bytes, 12000);

  /* Without exporter records: the address the collector heard them
   * from tells the routers apart, else nfcapd's exporter number; with
   * neither, the records are one exporter's, all kept. */
  for (int k = 0; k < 3; k++) {
    f[0] = s[0], f[1] = s[0];
    if (k == 0) {
      nfh_addr_parse("192.0.2.1", &f[0].router);
      nfh_addr_parse("192.0.2.2", &f[1].router);
    } else if (k == 1) {
      f[0].exporter_sysid = 1, f[1].exporter_sysid = 2;
    }
    CU_ASSERT_EQUAL(stitch_marked(f, 2, twice), k < 2 ? 1 : 0);
    CU_ASSERT_EQUAL_FATAL(ngot, 1);
    CU_ASSERT_EQUAL(got[0].client_bytes, k < 2 ? 4000 : 8000);
  }
}

static void test_nsel_events(void) {
  /* A firewall's events (NSEL): the source is the initiator even from a
   * port above the far one's, an answer may be bytes without packets,
   * and a denied attempt marks its connection. */
  nfh__stitcher *s = make();
  uint64_t t0 = 1700000000000ull;
  nfh_flow f[3] = {
      flow("203.0.113.5", 53, "10.0.0.20", 40000, 6, t0, t0, 0, 0),
      flow("10.0.0.7", 50000, "192.0.2.80", 443, 6, t0, t0, 0, 0),
      flow("10.0.0.7", 50000, "192.0.2.80", 443, 6, t0, t0 + 4000, 900, 0)};
  for (int i = 0; i < 3; i++) {
    f[i].flags |= NFH_FLOW_EVENT;
    f[i].packets = 0;
  }
  f[0].fw_event = NFH_FW_DENIED, f[0].bytes = 0;
  f[1].fw_event = NFH_FW_CREATED;
  f[2].fw_event = NFH_FW_DELETED;
  /* The teardown's responder bytes, as the engine splits them off. */
  nfh_flow back = flow("192.0.2.80", 443, "10.0.0.7", 50000, 6, t0,
                       t0 + 4000, 5000, 0);
  back.packets = 0;
  nfh__stitcher_add(s, f, 3, NULL);
  nfh__stitcher_add(s, &back, 1, NULL);
  nfh__stitcher_flush(s);
  CU_ASSERT_EQUAL_FATAL(ngot, 2);
  char a[NFH_ADDR_STRLEN];
  for (size_t i = 0; i < ngot; i++) {
    nfh_addr_format(&got[i].client, a, sizeof(a));
    if (strcmp(a, "203.0.113.5") == 0) {
      CU_ASSERT(got[i].flags & NFH_CONN_DENIED);
      CU_ASSERT(!(got[i].flags & NFH_CONN_REPLY));
      CU_ASSERT(!(got[i].flags & NFH_CONN_DIRECTION_GUESSED));
      CU_ASSERT_EQUAL(got[i].server_port, 40000);
    } else {
      CU_ASSERT_STRING_EQUAL(a, "10.0.0.7");
      CU_ASSERT(!(got[i].flags & NFH_CONN_DENIED));
      CU_ASSERT(got[i].flags & NFH_CONN_REPLY);
      CU_ASSERT_EQUAL(got[i].client_bytes, 900);
      CU_ASSERT_EQUAL(got[i].server_bytes, 5000);
      CU_ASSERT_EQUAL(got[i].records, 3);
    }
  }
  nfh__stitcher_destroy(s);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("stitch", NULL, NULL);
  CU_add_test(s, "active-timeout split session", test_active_timeout_split);
  CU_add_test(s, "gap splits", test_gap_splits);
  CU_add_test(s, "scan direction", test_scan_direction);
  CU_add_test(s, "icmp echo and unreachable", test_icmp);
  CU_add_test(s, "memory bounded by hold time", test_expiry_bounded);
  CU_add_test(s, "new SYN after close", test_new_syn_after_close);
  CU_add_test(s, "answer before the probe", test_reply_first);
  CU_add_test(s, "a SYN well after a lone reset", test_syn_after_lone_reset);
  CU_add_test(s, "direction settled by a later SYN", test_direction_settled);
  CU_add_test(s, "FIN and Xmas probes from one high port",
              test_probe_without_ack);
  CU_add_test(s, "NULL probe: the flagless side opened it",
              test_null_probe);
  CU_add_test(s, "equal ports: the earlier sender opened it",
              test_equal_ports);
  CU_add_test(s, "firewall events (NSEL)", test_nsel_events);
  CU_add_test(s, "a high-port service told by its many peers",
              test_service_by_peers);
  CU_add_test(s, "a stalled TCP session is one connection",
              test_stalled_session);
  CU_add_test(s, "two exporters on one path", test_two_exporters);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
