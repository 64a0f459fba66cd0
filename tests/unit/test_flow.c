/* test_flow.c - the flow model's address helpers. */
#include "config.h"

#include <CUnit/Basic.h>
#include <string.h>

#include <nfhunt/flow.h>
#include <nfhunt/status.h>

static void check_roundtrip(const char *text, const char *expect, int family) {
  nfh_addr a;
  char buf[NFH_ADDR_STRLEN];
  CU_ASSERT_EQUAL_FATAL(nfh_addr_parse(text, &a), 0);
  CU_ASSERT_EQUAL(a.family, family);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&a, buf, sizeof(buf)), expect);
}

static void test_format_v4_v6(void) {
  check_roundtrip("10.1.2.3", "10.1.2.3", 4);
  check_roundtrip("255.255.255.255", "255.255.255.255", 4);
  /* RFC 5952: lower case, longest zero run compressed, no leading 0s. */
  check_roundtrip("2001:DB8:0:0:0:0:0:1", "2001:db8::1", 6);
  check_roundtrip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", 6);
  check_roundtrip("fe80::0001", "fe80::1", 6);
  check_roundtrip("::", "::", 6);
}

static void test_v4_mapping(void) {
  nfh_addr a, b;
  nfh_addr_set_v4(&a, 0xC0A80101u);
  CU_ASSERT_EQUAL(nfh_addr_v4(&a), 0xC0A80101u);
  CU_ASSERT_EQUAL(a.bytes[10], 0xff);
  CU_ASSERT_EQUAL(a.bytes[15], 0x01);
  nfh_addr_parse("192.168.1.1", &b);
  CU_ASSERT_EQUAL(nfh_addr_compare(&a, &b), 0);
  nfh_addr_parse("192.168.1.2", &b);
  CU_ASSERT(nfh_addr_compare(&a, &b) < 0);
  /* The same 16 bytes as IPv6 are a different address. */
  nfh_addr_set_v6(&b, a.bytes);
  CU_ASSERT(nfh_addr_compare(&a, &b) != 0);
  CU_ASSERT_EQUAL(nfh_addr_v4(&b), 0);
}

/* A network keeps its family's first bits: an IPv4 /24 keeps the
 * v4-mapped prefix, /20 cuts within a byte, /64 and /0 of IPv6. */
static void check_network(const char *addr, unsigned bits,
                          const char *expect) {
  nfh_addr a;
  char buf[NFH_ADDR_STRLEN];
  CU_ASSERT_EQUAL_FATAL(nfh_addr_parse(addr, &a), 0);
  nfh_addr n = nfh_addr_network(&a, bits);
  CU_ASSERT_EQUAL(n.family, a.family);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&n, buf, sizeof(buf)), expect);
}

static void test_network(void) {
  check_network("192.168.17.200", 24, "192.168.17.0");
  check_network("192.168.17.200", 20, "192.168.16.0");
  check_network("192.168.17.200", 0, "0.0.0.0");
  check_network("192.168.17.200", 40, "192.168.17.200");
  check_network("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::");
  check_network("2001:db8:1:2:3:4:5:6", 52, "2001:db8:1::");
  check_network("2001:db8:1:2:3:4:5:6", 0, "::");
  nfh_addr none;
  memset(&none, 0xab, sizeof(none));
  none.family = 0;
  nfh_addr n = nfh_addr_network(&none, 8);
  CU_ASSERT_EQUAL(memcmp(&n, &none, sizeof(n)), 0);
}

/* NAT64's well-known prefix: the IPv4 host behind the address; nothing
 * else (another /96, IPv4, IPv4-mapped) is one. */
static void test_nat64(void) {
  nfh_addr a, v4;
  char buf[NFH_ADDR_STRLEN];
  CU_ASSERT_EQUAL(nfh_addr_parse("64:ff9b::cb00:714d", &a), 0);
  CU_ASSERT_EQUAL(nfh_addr_nat64(&a, &v4), 1);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&v4, buf, sizeof(buf)),
                         "203.0.113.77");
  CU_ASSERT_EQUAL(nfh_addr_nat64(&a, NULL), 1);
  const char * not [] = {"64:ff9b:1::cb00:714d", "2001:db8::cb00:714d",
                         "203.0.113.77", "::ffff:203.0.113.77", "64:ff9a::1"};
  for (size_t i = 0; i < sizeof(not ) / sizeof(not [0]); i++) {
    CU_ASSERT_EQUAL(nfh_addr_parse(not [i], &a), 0);
    CU_ASSERT_EQUAL(nfh_addr_nat64(&a, &v4), 0);
  }
}

static int sign(int v) { return (v > 0) - (v < 0); }

/* The order is the family, then the bytes as memcmp(3) orders them:
 * checked on pairs that differ in one byte anywhere, high bits set. */
static void test_compare_order(void) {
  uint32_t bad = 0;
  for (int pos = 0; pos < 16; pos++)
    for (int v = 0; v < 256; v += 15) {
      uint8_t x[16], y[16];
      for (int i = 0; i < 16; i++)
        x[i] = y[i] = (uint8_t)(0x80 + i * 7);
      y[pos] = (uint8_t)v;
      nfh_addr a, b;
      nfh_addr_set_v6(&a, x);
      nfh_addr_set_v6(&b, y);
      bad += sign(nfh_addr_compare(&a, &b)) != sign(memcmp(x, y, 16));
      bad += sign(nfh_addr_compare(&b, &a)) != sign(memcmp(y, x, 16));
    }
  CU_ASSERT_EQUAL(bad, 0);
  nfh_addr a, b;
  nfh_addr_parse("255.255.255.255", &a);
  nfh_addr_parse("::1", &b);
  CU_ASSERT(nfh_addr_compare(&a, &b) < 0); /* IPv4 first, whatever bytes */
  nfh_addr_parse("10.0.0.1", &a);
  nfh_addr_parse("9.255.255.255", &b);
  CU_ASSERT(nfh_addr_compare(&a, &b) > 0);
}

static void test_parse_errors(void) {
  nfh_addr a;
  CU_ASSERT_EQUAL(nfh_addr_parse("300.1.1.1", &a), -1);
  CU_ASSERT_EQUAL(a.family, 0);
  CU_ASSERT_EQUAL(nfh_addr_parse("", &a), -1);
  CU_ASSERT_EQUAL(nfh_addr_parse("1::2::3", &a), -1);
  char buf[NFH_ADDR_STRLEN] = "x";
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&a, buf, sizeof(buf)), "");
}

/* One host's address or not: multicast (mDNS, SSDP), broadcast,
 * link-local, loopback and unspecified are no server to call. */
static void test_unicast(void) {
  static const struct {
    const char *text;
    int unicast;
  } cases[] = {
      {"192.0.2.9", 1},       {"10.1.2.3", 1},    {"2001:db8::1", 1},
      {"fd00::9", 1},         {"224.0.0.251", 0}, {"239.255.255.250", 0},
      {"255.255.255.255", 0}, {"127.0.0.1", 0},   {"0.0.0.0", 0},
      {"169.254.1.1", 0},     {"ff02::fb", 0},    {"ff0e::1:3", 0},
      {"fe80::1", 0},         {"::1", 0},         {"::", 0}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    nfh_addr a;
    CU_ASSERT_EQUAL_FATAL(nfh_addr_parse(cases[i].text, &a), 0);
    if (nfh_addr_is_unicast(&a) != cases[i].unicast)
      printf("\n    %s", cases[i].text);
    CU_ASSERT_EQUAL(nfh_addr_is_unicast(&a), cases[i].unicast);
  }
  nfh_addr none;
  memset(&none, 0, sizeof(none));
  CU_ASSERT_EQUAL(nfh_addr_is_unicast(&none), 0);
}

/* An address and a port: IPv6 in brackets, whose colons would run into
 * the port's; the longest fits NFH_ENDPOINT_STRLEN. */
static void test_format_port(void) {
  char buf[NFH_ENDPOINT_STRLEN];
  nfh_addr a;
  CU_ASSERT_EQUAL_FATAL(nfh_addr_parse("192.0.2.9", &a), 0);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format_port(&a, 443, buf, sizeof(buf)),
                         "192.0.2.9:443");
  CU_ASSERT_EQUAL_FATAL(nfh_addr_parse("2001:db8:42:1::80", &a), 0);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format_port(&a, 80, buf, sizeof(buf)),
                         "[2001:db8:42:1::80]:80");
  CU_ASSERT_EQUAL_FATAL(
      nfh_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &a), 0);
  nfh_addr_format_port(&a, 65535, buf, sizeof(buf));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "]:65535"));
}

/* Networks as --home-net, home_net and --allow write them: one parser
 * for the engine and the tool (they each had their own). */
static void test_cidr(void) {
  nfh_addr net;
  unsigned bits;
  int host = -1, port = 0;
  char t[NFH_ADDR_STRLEN];
  CU_ASSERT_EQUAL(nfh_cidr_parse("10.0.0.5/16", &net, &bits, &host), NFH_OK);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&net, t, sizeof(t)), "10.0.0.0");
  CU_ASSERT_EQUAL(bits, 16);
  CU_ASSERT_EQUAL(host, 1);
  CU_ASSERT_EQUAL(nfh_cidr_parse("10.0.0.0/16", &net, &bits, &host), NFH_OK);
  CU_ASSERT_EQUAL(host, 0);
  CU_ASSERT_EQUAL(nfh_cidr_parse("192.0.2.7", &net, &bits, &host), NFH_OK);
  CU_ASSERT_EQUAL(bits, 32);
  CU_ASSERT_EQUAL(host, 0);
  CU_ASSERT_EQUAL(nfh_cidr_parse("2001:db8::1/48", &net, &bits, NULL), NFH_OK);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&net, t, sizeof(t)), "2001:db8::");
  CU_ASSERT_EQUAL(bits, 48);
  CU_ASSERT_EQUAL(nfh_cidr_parse("0.0.0.0/0", &net, &bits, &host), NFH_OK);
  CU_ASSERT_EQUAL(bits, 0);
  /* Refused: no prefix digits, signs and blanks (strtol took "/-1" as
   * no prefix at all, a single host), too long a prefix, no address. */
  const char *bad[] = {"10.0.0.0/",    "10.0.0.0/-1", "10.0.0.0/+8",
                       "10.0.0.0/ 8",  "10.0.0.0/33", "::/129",
                       "10.0.0.0/8x",  "host/8",      "",
                       "10.0.0.0/0008"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CU_ASSERT_EQUAL(nfh_cidr_parse(bad[i], &net, &bits, &host), NFH_ESYNTAX);

  CU_ASSERT_EQUAL(
      nfh_cidr_port_parse("10.1.2.3/24:443", &net, &bits, &port, &host),
      NFH_OK);
  CU_ASSERT_STRING_EQUAL(nfh_addr_format(&net, t, sizeof(t)), "10.1.2.0");
  CU_ASSERT_EQUAL(port, 443);
  CU_ASSERT_EQUAL(host, 1);
  CU_ASSERT_EQUAL(nfh_cidr_port_parse("10.1.2.0/24", &net, &bits, &port, NULL),
                  NFH_OK);
  CU_ASSERT_EQUAL(port, -1);
  CU_ASSERT_EQUAL(
      nfh_cidr_port_parse("2001:db8::/32", &net, &bits, &port, NULL), NFH_OK);
  CU_ASSERT_EQUAL(port, -1);
  CU_ASSERT_EQUAL(bits, 32);
  CU_ASSERT_EQUAL(
      nfh_cidr_port_parse("[2001:db8::9/64]:53", &net, &bits, &port, &host),
      NFH_OK);
  CU_ASSERT_EQUAL(port, 53);
  CU_ASSERT_EQUAL(host, 1);
  const char *badp[] = {"10.0.0.0/8:",   "10.0.0.0/8:65536", "10.0.0.0/8:-1",
                        "[2001:db8::]x", "[2001:db8::",      "10.0.0.0/8:8x"};
  for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++)
    CU_ASSERT_EQUAL(nfh_cidr_port_parse(badp[i], &net, &bits, &port, &host),
                    NFH_ESYNTAX);
}

static void test_status_strings(void) {
  CU_ASSERT_STRING_EQUAL(nfh_strerror(NFH_OK), "success");
  CU_ASSERT_STRING_EQUAL(nfh_status_name(NFH_ECORRUPT), "ECORRUPT");
  CU_ASSERT_EQUAL(NFH_ECORRUPT, 11);
  CU_ASSERT_STRING_EQUAL(nfh_strerror((nfh_status)9999), "unknown status");
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("flow", NULL, NULL);
  CU_add_test(s, "format v4 and v6", test_format_v4_v6);
  CU_add_test(s, "v4 mapping and compare", test_v4_mapping);
  CU_add_test(s, "compare order", test_compare_order);
  CU_add_test(s, "networks", test_network);
  CU_add_test(s, "NAT64 addresses", test_nat64);
  CU_add_test(s, "parse errors", test_parse_errors);
  CU_add_test(s, "status strings", test_status_strings);
  CU_add_test(s, "unicast or not", test_unicast);
  CU_add_test(s, "address and port", test_format_port);
  CU_add_test(s, "networks as written (CIDR, CIDR:PORT)", test_cidr);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
