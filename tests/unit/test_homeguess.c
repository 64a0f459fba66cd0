/* test_homeguess.c - home networks read from the traffic
 * (nfhunt/homeguess.h), and the engine's list of home networks. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/engine.h>
#include <nfhunt/homeguess.h>

static uint64_t rng_state = 88172645463325252ull;

static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}

/* A public IPv4 address anywhere (1.0.0.0 to 223.255.255.255, not in
 * 10/8, 127/8 or 172.16/12 or 192.168/16, not 147.32/16). */
static uint32_t anywhere(void) {
  for (;;) {
    uint32_t v = rnd();
    uint8_t top = (uint8_t)(v >> 24);
    if (top == 0 || top == 10 || top == 127 || top >= 224)
      continue;
    if ((v >> 20) == 0xac1 || (v >> 16) == 0xc0a8 || (v >> 16) == 0x9320 ||
        (v >> 16) == 0xa9fe)
      continue;
    return v;
  }
}

static uint32_t v4(const char *text) {
  nfh_addr a;
  if (nfh_addr_parse(text, &a) != 0 || a.family != 4)
    abort();
  return nfh_addr_v4(&a);
}

static void set_flow(nfh_flow *f, uint32_t src, uint32_t dst) {
  memset(f, 0, sizeof(*f));
  nfh_addr_set_v4(&f->src, src);
  nfh_addr_set_v4(&f->dst, dst);
}

/* Flows between the hosts of 'home' (a /24 given by its first address,
 * 'hosts' of them) and the Internet, each direction as often; every
 * 'service_every'-th flow goes to one outside /24 instead (0: none). */
static void fill_edge(nfh_flow *flows, size_t n, const uint32_t *homes,
                      size_t nhomes, uint32_t service, size_t service_every) {
  for (size_t i = 0; i < n; i++) {
    uint32_t inside = homes[i % nhomes] + 1 + rnd() % 200;
    uint32_t outside = anywhere();
    if (service_every && i % service_every == 0)
      outside = service + 1 + rnd() % 50;
    if (i % 2)
      set_flow(&flows[i], inside, outside);
    else
      set_flow(&flows[i], outside, inside);
  }
}

static void expect_nets(nfh_homeguess *g, const char *const *want,
                        size_t nwant, double min_share) {
  const char *const *nets = NULL;
  size_t count = 0;
  double share = 0;
  CU_ASSERT_EQUAL_FATAL(nfh_homeguess_infer(g, &nets, &count, &share),
                        NFH_OK);
  CU_ASSERT_EQUAL(count, nwant);
  for (size_t i = 0; i < nwant && i < count; i++) {
    int found = 0;
    for (size_t k = 0; k < count; k++)
      found |= strcmp(nets[k], want[i]) == 0;
    if (!found)
      fprintf(stderr, "\n  wanted %s, got %s%s", want[i], nets[0],
              count > 1 ? " ..." : "");
    CU_ASSERT_TRUE(found);
  }
  CU_ASSERT_TRUE(share >= min_share && share <= 1.0);
}

/* Guesses from flows[0..n-1] and expects the networks 'want' covering
 * nearly all of them. */
static void guess_expect(const nfh_flow *flows, size_t n,
                         const char *const *want, size_t nwant) {
  nfh_homeguess *g = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_homeguess_create(n, &g), NFH_OK);
  CU_ASSERT_EQUAL(nfh_homeguess_add(g, flows, n), 0);
  expect_nets(g, want, nwant, 0.999);
  nfh_homeguess_destroy(g);
}

/* A capture at the edge of a public /24: that /24, not the busy outside
 * service that a fifth of the flows go to. */
static void test_public_edge(void) {
  enum { N = 20000 };
  nfh_flow *flows = calloc(N, sizeof(nfh_flow));
  CU_ASSERT_PTR_NOT_NULL_FATAL(flows);
  uint32_t home = v4("147.32.84.0");
  fill_edge(flows, N, &home, 1, v4("8.8.8.0"), 5);
  nfh_homeguess *g = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_homeguess_create(100000, &g), NFH_OK);
  CU_ASSERT_EQUAL(nfh_homeguess_add(g, flows, N), 100000 - N);
  CU_ASSERT_EQUAL(nfh_homeguess_count(g), N);
  const char *want[] = {"147.32.84.0/24"};
  expect_nets(g, want, 1, 0.999);
  nfh_homeguess_destroy(g);
  free(flows);
}

/* A home of three subnets of one /16, and an outside /24 with more flows
 * than any one of them: the /16, whole, and nothing outside. */
static void test_subnets(void) {
  enum { N = 30000 };
  nfh_flow *flows = calloc(N, sizeof(nfh_flow));
  CU_ASSERT_PTR_NOT_NULL_FATAL(flows);
  uint32_t homes[] = {v4("147.32.1.0"), v4("147.32.77.0"),
                      v4("147.32.200.0")};
  fill_edge(flows, N, homes, 3, v4("52.112.100.0"), 2);
  const char *want[] = {"147.32.0.0/16"};
  guess_expect(flows, N, want, 1);
  free(flows);
}

/* Two sites in different /16s (a campus and its data centre): both. */
static void test_two_sites(void) {
  enum { N = 20000 };
  nfh_flow *flows = calloc(N, sizeof(nfh_flow));
  CU_ASSERT_PTR_NOT_NULL_FATAL(flows);
  uint32_t homes[] = {v4("147.32.84.0"), v4("195.113.5.0")};
  fill_edge(flows, N, homes, 2, 0, 0);
  const char *want[] = {"147.32.84.0/24", "195.113.5.0/24"};
  guess_expect(flows, N, want, 2);
  free(flows);
}

/* A capture of one pair, an inside host and its C2 server: both sides
 * are in every flow, and the side that opens the connections is home,
 * whichever address sorts first. */
static void test_one_pair(void) {
  const char *servers[] = {"141.193.213.21", "200.1.2.3"};
  for (size_t k = 0; k < 2; k++) {
    enum { N = 600 };
    nfh_flow flows[N];
    uint32_t client = v4("147.32.80.37"), server = v4(servers[k]);
    for (size_t i = 0; i < N; i++) {
      uint16_t eph = (uint16_t)(32768 + i / 2);
      if (i % 2) {
        set_flow(&flows[i], client, server);
        flows[i].src_port = eph, flows[i].dst_port = 443;
      } else {
        set_flow(&flows[i], server, client);
        flows[i].src_port = 443, flows[i].dst_port = eph;
      }
      flows[i].proto = 6;
      flows[i].tcp_flags = 0x1b; /* whole sessions: SYN, ACK, PSH, FIN */
    }
    const char *want[] = {"147.32.80.0/24"};
    guess_expect(flows, N, want, 1);
  }
}

/* One host of a campus hammering another in a different subnet (the
 * Slips capture): the campus /16 stays whole, not narrowed to either
 * side's /24. */
static void test_campus_pair(void) {
  enum { N = 400 };
  nfh_flow flows[N];
  for (size_t i = 0; i < N; i++) {
    set_flow(&flows[i], v4("147.32.80.119"), v4("147.32.82.62"));
    flows[i].proto = 6;
    flows[i].src_port = (uint16_t)(40000 + i);
    flows[i].dst_port = 902;
    flows[i].tcp_flags = 0x02;
  }
  const char *want[] = {"147.32.0.0/16"};
  guess_expect(flows, N, want, 1);
}

/* Traffic in transit (an ISP's core): no few networks cover it, so no
 * guess. Nor from too few flows. */
static void test_no_guess(void) {
  enum { N = 20000 };
  nfh_flow *flows = calloc(N, sizeof(nfh_flow));
  CU_ASSERT_PTR_NOT_NULL_FATAL(flows);
  for (size_t i = 0; i < N; i++)
    set_flow(&flows[i], anywhere(), anywhere());
  nfh_homeguess *g = NULL;
  const char *const *nets = (const char *const *)flows;
  size_t count = 7;
  double share = 1;
  CU_ASSERT_EQUAL_FATAL(nfh_homeguess_create(N, &g), NFH_OK);
  nfh_homeguess_add(g, flows, N);
  CU_ASSERT_EQUAL(nfh_homeguess_infer(g, &nets, &count, &share),
                  NFH_ENOTFOUND);
  CU_ASSERT_PTR_NULL(nets);
  CU_ASSERT_EQUAL(count, 0);
  nfh_homeguess_destroy(g);

  uint32_t home = v4("147.32.84.0");
  fill_edge(flows, NFH_HOMEGUESS_MIN_FLOWS - 1, &home, 1, 0, 0);
  CU_ASSERT_EQUAL_FATAL(nfh_homeguess_create(N, &g), NFH_OK);
  nfh_homeguess_add(g, flows, NFH_HOMEGUESS_MIN_FLOWS - 1);
  CU_ASSERT_EQUAL(nfh_homeguess_infer(g, &nets, &count, &share),
                  NFH_ENOTFOUND);
  nfh_homeguess_add(g, flows, 1);
  CU_ASSERT_EQUAL(nfh_homeguess_infer(g, &nets, &count, &share), NFH_OK);
  nfh_homeguess_destroy(g);
  nfh_homeguess_destroy(NULL);
  CU_ASSERT_EQUAL(nfh_homeguess_create(0, &g), NFH_EINVAL);
  CU_ASSERT_PTR_NULL(g);
  free(flows);
}

/* Multicast, broadcast and link-local addresses name no home: a LAN
 * segment's mDNS and SSDP chatter goes to 224.0.0.251 and
 * 239.255.255.250 from every host; flows with no usable endpoint are not
 * held at all. */
static void test_unusable(void) {
  enum { N = 3000 };
  nfh_flow *flows = calloc(N, sizeof(nfh_flow));
  CU_ASSERT_PTR_NOT_NULL_FATAL(flows);
  uint32_t home = v4("147.32.84.0");
  fill_edge(flows, N, &home, 1, 0, 0);
  for (size_t i = 0; i < N; i += 2) /* half to multicast */
    set_flow(&flows[i], home + 1 + rnd() % 200,
             i % 4 ? v4("224.0.0.251") : v4("239.255.255.250"));
  nfh_homeguess *g = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_homeguess_create(N, &g), NFH_OK);
  nfh_homeguess_add(g, flows, N);
  nfh_flow junk[4];
  set_flow(&junk[0], v4("169.254.3.4"), v4("255.255.255.255"));
  set_flow(&junk[1], 0, v4("224.0.0.1"));
  set_flow(&junk[2], v4("127.0.0.1"), v4("127.0.0.1"));
  memset(&junk[3], 0, sizeof(junk[3]));
  nfh_addr_parse("fe80::1", &junk[3].src);
  nfh_addr_parse("ff02::fb", &junk[3].dst);
  nfh_homeguess_add(g, junk, 4);
  CU_ASSERT_EQUAL(nfh_homeguess_count(g), N);
  const char *want[] = {"147.32.84.0/24"};
  expect_nets(g, want, 1, 0.999);
  nfh_homeguess_destroy(g);
  free(flows);
}

/* An IPv6 site: its /64 (one subnet) or /48. */
static void test_ipv6(void) {
  enum { N = 5000 };
  nfh_flow *flows = calloc(N, sizeof(nfh_flow));
  CU_ASSERT_PTR_NOT_NULL_FATAL(flows);
  for (size_t i = 0; i < N; i++) {
    char in[64], out[64];
    snprintf(in, sizeof(in), "2001:db8:5:%x::%x", i % 3 ? 1u : 2u,
             1 + rnd() % 300);
    snprintf(out, sizeof(out), "2a0%x:%x:%x::%x", rnd() % 10,
             rnd() % 65536, rnd() % 65536, 1 + rnd() % 65535);
    nfh_flow *f = &flows[i];
    memset(f, 0, sizeof(*f));
    CU_ASSERT_EQUAL_FATAL(nfh_addr_parse(in, i % 2 ? &f->src : &f->dst), 0);
    CU_ASSERT_EQUAL_FATAL(nfh_addr_parse(out, i % 2 ? &f->dst : &f->src), 0);
  }
  const char *want[] = {"2001:db8:5::/48"};
  guess_expect(flows, N, want, 1);
  /* One subnet only: narrowed to its /64. */
  for (size_t i = 0; i < N; i++) {
    nfh_addr *a = i % 2 ? &flows[i].src : &flows[i].dst;
    a->bytes[7] = 1;
  }
  const char *want64[] = {"2001:db8:5:1::/64"};
  guess_expect(flows, N, want64, 1);
  free(flows);
}

static int in_ten(const nfh_addr *a, void *user) {
  ++*(unsigned *)user;
  return a->family == 4 && (nfh_addr_v4(a) >> 24) == 10;
}

/* The share of flows an outside test (here: 10/8) covers, and a guesser
 * that stops taking flows once full. */
static void test_share_and_limit(void) {
  enum { N = 1000 };
  nfh_flow *flows = calloc(N, sizeof(nfh_flow));
  CU_ASSERT_PTR_NOT_NULL_FATAL(flows);
  for (size_t i = 0; i < N; i++)
    set_flow(&flows[i], i % 4 == 0 ? v4("10.1.2.3") : anywhere(),
             anywhere());
  nfh_homeguess *g = NULL;
  unsigned calls = 0;
  CU_ASSERT_EQUAL_FATAL(nfh_homeguess_create(N / 2, &g), NFH_OK);
  CU_ASSERT_DOUBLE_EQUAL(nfh_homeguess_share(g, in_ten, &calls), 0, 1e-12);
  CU_ASSERT_EQUAL(nfh_homeguess_add(g, flows, N / 4), N / 4);
  CU_ASSERT_EQUAL(nfh_homeguess_add(g, flows + N / 4, N), 0);
  CU_ASSERT_EQUAL(nfh_homeguess_count(g), N / 2);
  CU_ASSERT_DOUBLE_EQUAL(nfh_homeguess_share(g, in_ten, &calls), 0.25, 1e-12);
  CU_ASSERT_TRUE(calls > 0);
  nfh_homeguess_destroy(g);
  free(flows);
}

/* A privately numbered site whose edge shows its public side: four flows
 * in five between 10/8 and the Internet, the rest between the site's DMZ
 * (a public /24) and the Internet. The guess over all the flows is no
 * help (10/8 dominates); with the flows in 10/8 dropped it names the
 * DMZ, and the guesser takes flows again after the drop. */
static void test_public_side(void) {
  enum { N = 10000 };
  nfh_flow *flows = calloc(N, sizeof(nfh_flow));
  CU_ASSERT_PTR_NOT_NULL_FATAL(flows);
  uint32_t users = v4("10.1.0.0"), dmz = v4("198.51.100.0");
  for (size_t i = 0; i < N; i++) {
    uint32_t inside = (i % 5 ? users + rnd() % 4000 : dmz + 1 + rnd() % 200);
    set_flow(&flows[i], inside, anywhere());
  }
  nfh_homeguess *g = NULL;
  unsigned calls = 0;
  CU_ASSERT_EQUAL_FATAL(nfh_homeguess_create(2 * N, &g), NFH_OK);
  CU_ASSERT_EQUAL(nfh_homeguess_add(g, flows, N), N);
  CU_ASSERT_DOUBLE_EQUAL(nfh_homeguess_share(g, in_ten, &calls), 0.8, 1e-12);
  CU_ASSERT_EQUAL(nfh_homeguess_drop_home(g, in_ten, &calls), N / 5);
  CU_ASSERT_EQUAL(nfh_homeguess_count(g), N / 5);
  CU_ASSERT_DOUBLE_EQUAL(nfh_homeguess_share(g, in_ten, &calls), 0, 1e-12);
  const char *want[] = {"198.51.100.0/24"};
  expect_nets(g, want, 1, 0.999);
  CU_ASSERT_EQUAL(nfh_homeguess_add(g, flows, N), N - N / 5);
  CU_ASSERT_EQUAL(nfh_homeguess_count(g), N + N / 5);
  nfh_homeguess_destroy(g);
  free(flows);
}

/* The engine lists its home networks: the defaults, then those given. */
static void test_engine_list(void) {
  nfh_engine *e = NULL;
  CU_ASSERT_EQUAL_FATAL(nfh_engine_create(NULL, &e), NFH_OK);
  char buf[NFH_ADDR_STRLEN + 4];
  CU_ASSERT_TRUE(nfh_engine_home_is_default(e));
  CU_ASSERT_EQUAL(nfh_engine_home_net_count(e), 4);
  CU_ASSERT_STRING_EQUAL(nfh_engine_home_net_text(e, 0, buf, sizeof(buf)),
                         "10.0.0.0/8");
  CU_ASSERT_STRING_EQUAL(nfh_engine_home_net_text(e, 3, buf, sizeof(buf)),
                         "fc00::/7");
  CU_ASSERT_STRING_EQUAL(nfh_engine_home_net_text(e, 4, buf, sizeof(buf)),
                         "");
  /* Extended: the defaults stay, the network follows them. */
  CU_ASSERT_EQUAL(nfh_engine_extend_home_net(e, "147.32.0.0/16"), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_extend_home_net(e, "147.32/16"), NFH_ESYNTAX);
  CU_ASSERT_FALSE(nfh_engine_home_is_default(e));
  CU_ASSERT_EQUAL(nfh_engine_home_net_count(e), 5);
  CU_ASSERT_STRING_EQUAL(nfh_engine_home_net_text(e, 0, buf, sizeof(buf)),
                         "10.0.0.0/8");
  CU_ASSERT_STRING_EQUAL(nfh_engine_home_net_text(e, 4, buf, sizeof(buf)),
                         "147.32.0.0/16");
  nfh_engine_destroy(e);
  CU_ASSERT_EQUAL_FATAL(nfh_engine_create(NULL, &e), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_add_home_net(e, "147.32.84.7/24"), NFH_OK);
  CU_ASSERT_EQUAL(nfh_engine_add_home_net(e, "2001:db8:5::/48"), NFH_OK);
  CU_ASSERT_FALSE(nfh_engine_home_is_default(e));
  CU_ASSERT_EQUAL(nfh_engine_home_net_count(e), 2);
  CU_ASSERT_STRING_EQUAL(nfh_engine_home_net_text(e, 0, buf, sizeof(buf)),
                         "147.32.84.0/24");
  CU_ASSERT_STRING_EQUAL(nfh_engine_home_net_text(e, 1, buf, sizeof(buf)),
                         "2001:db8:5::/48");
  nfh_engine_destroy(e);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("homeguess", NULL, NULL);
  CU_add_test(s, "edge of a public /24", test_public_edge);
  CU_add_test(s, "subnets of one /16", test_subnets);
  CU_add_test(s, "two sites", test_two_sites);
  CU_add_test(s, "one pair", test_one_pair);
  CU_add_test(s, "a campus pair", test_campus_pair);
  CU_add_test(s, "no guess", test_no_guess);
  CU_add_test(s, "multicast and broadcast", test_unusable);
  CU_add_test(s, "IPv6", test_ipv6);
  CU_add_test(s, "share and limit", test_share_and_limit);
  CU_add_test(s, "a private site's public side", test_public_side);
  CU_add_test(s, "engine's home networks", test_engine_list);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
