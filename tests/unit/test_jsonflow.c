/* test_jsonflow.c - JSON flow files: both layouts, the three field
 * vocabularies, relative and absolute times, long integers, gzip, and
 * every kind of malformed input with its byte offset. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/jsonflow.h>

#include "../../plugin/common/alloc.h"

#define FIXTURES NFH_TOP_SRCDIR "/tests/data/jsonflow/"

/* Everything a file yields: flows copied, the final status. */
typedef struct result {
  nfh_flow *flows;
  size_t n;
  nfh_status end;
  char error[512];
  char warning[512];
  nfh_json_info info;
  size_t batches;
} result;

static void drain(nfh_json_reader *r, result *out) {
  memset(out, 0, sizeof(*out));
  const nfh_flow *f;
  size_t n;
  nfh_status st;
  while ((st = nfh_json_reader_next(r, &f, &n)) == NFH_OK) {
    CU_ASSERT(n > 0);
    nfh_flow *grown = realloc(out->flows, (out->n + n) * sizeof(nfh_flow));
    CU_ASSERT_FATAL(grown != NULL);
    out->flows = grown;
    memcpy(out->flows + out->n, f, n * sizeof(nfh_flow));
    out->n += n;
    out->batches++;
  }
  out->end = st;
  snprintf(out->error, sizeof(out->error), "%s", nfh_json_reader_error(r));
  snprintf(out->warning, sizeof(out->warning), "%s",
           nfh_json_reader_warning(r));
  out->info = *nfh_json_reader_info(r);
}

static void read_text(const char *text, result *out) {
  nfh_json_reader *r;
  CU_ASSERT_FATAL(nfh_json_reader_create(&r) == NFH_OK);
  CU_ASSERT_EQUAL(nfh_json_reader_open_buffer(r, "t.json", text, strlen(text)),
                  NFH_OK);
  drain(r, out);
  nfh_json_reader_destroy(r);
}

/* read_text with the process's TZ set to 'tz' (nfdump's JSON times are
 * local), restored after. */
static void read_text_in_tz(const char *text, const char *tz, result *out) {
  const char *saved = getenv("TZ");
  char *old = saved ? strdup(saved) : NULL;
  setenv("TZ", tz, 1);
  tzset();
  read_text(text, out);
  if (old) {
    setenv("TZ", old, 1);
    free(old);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

static void read_path(const char *name, result *out) {
  nfh_json_reader *r;
  CU_ASSERT_FATAL(nfh_json_reader_create(&r) == NFH_OK);
  char path[512];
  snprintf(path, sizeof(path), FIXTURES "%s", name);
  CU_ASSERT_EQUAL_FATAL(nfh_json_reader_open(r, path), NFH_OK);
  drain(r, out);
  nfh_json_reader_destroy(r);
}

static const char *addr(const nfh_addr *a) {
  static char buf[4][NFH_ADDR_STRLEN];
  static int k;
  k = (k + 1) % 4;
  return nfh_addr_format(a, buf[k], sizeof(buf[k]));
}

static void test_seed_array(void) {
  result r;
  read_path("seed_v4.json", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL_FATAL(r.n, 4);
  CU_ASSERT_EQUAL(r.info.flows, 4);
  CU_ASSERT_EQUAL(r.info.gzip, 0);
  /* Seconds, made milliseconds. */
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].src), "10.0.0.1");
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].dst), "192.0.2.10");
  CU_ASSERT_EQUAL(r.flows[0].first_ms, 1709294400000ull);
  CU_ASSERT_EQUAL(r.flows[0].last_ms, 1709294410000ull);
  CU_ASSERT_EQUAL(r.flows[0].src_port, 40000);
  CU_ASSERT_EQUAL(r.flows[0].dst_port, 443);
  CU_ASSERT_EQUAL(r.flows[0].proto, 6);
  CU_ASSERT_EQUAL(r.flows[0].bytes, 1200);
  CU_ASSERT_EQUAL(r.flows[0].packets, 10);
  CU_ASSERT_EQUAL(r.flows[0].out_bytes, 5000);
  CU_ASSERT_EQUAL(r.flows[0].out_packets, 8);
  CU_ASSERT(r.flows[0].flags & NFH_FLOW_HAS_OUT);
  CU_ASSERT_EQUAL(r.flows[0].tcp_flags, 27);
  CU_ASSERT_EQUAL(r.flows[0].sampling, 1);
  CU_ASSERT_EQUAL(r.flows[0].aggr_flows, 1);
  /* An integer address; milliseconds (>= 10^11) kept. */
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[1].src), "10.0.0.2");
  CU_ASSERT_EQUAL(r.flows[1].first_ms, 1709294400500ull);
  /* ICMP: type*256+code in the destination port; fractional seconds;
   * an ISO 8601 end. */
  CU_ASSERT_EQUAL(r.flows[2].proto, 1);
  CU_ASSERT_EQUAL(r.flows[2].src_port, 0);
  CU_ASSERT_EQUAL(r.flows[2].dst_port, 8 * 256);
  CU_ASSERT_EQUAL(r.flows[2].icmp_type, 8);
  CU_ASSERT_EQUAL(r.flows[2].first_ms, 1709294401250ull);
  CU_ASSERT_EQUAL(r.flows[2].last_ms, 1709294402000ull);
  /* Sampled 1:10: counters scaled as nfcapd would have. */
  CU_ASSERT_EQUAL(r.flows[3].sampling, 10);
  CU_ASSERT(r.flows[3].flags & NFH_FLOW_SAMPLED);
  CU_ASSERT_EQUAL(r.flows[3].packets, 20);
  CU_ASSERT_EQUAL(r.flows[3].bytes, 1000);
  CU_ASSERT_EQUAL(r.flows[3].first_ms, 1709294403000ull);
  CU_ASSERT_EQUAL(r.flows[3].tos, 32);
  free(r.flows);
}

static void test_ipfix_lines(void) {
  result r;
  read_path("seed_v6_ipfix.json", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL_FATAL(r.n, 3);
  CU_ASSERT_EQUAL(r.info.nonflows, 1); /* the options record */
  CU_ASSERT_EQUAL(r.info.dropped, 1);  /* destination port 70000 */
  CU_ASSERT_PTR_NOT_NULL(strstr(r.warning, "byte 628"));
  CU_ASSERT_PTR_NOT_NULL(strstr(r.warning, "L4_DST_PORT"));
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].src), "2001:db8::1");
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].dst), "2001:db8:1::53");
  CU_ASSERT_EQUAL(r.flows[0].first_ms, 1709294400123ull);
  CU_ASSERT_EQUAL(r.flows[0].last_ms, 1709294400456ull);
  /* A 128-bit integer address. */
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[1].src), "2001:db8::1");
  CU_ASSERT_EQUAL(r.flows[1].proto, 58);
  CU_ASSERT_EQUAL(r.flows[1].dst_port, 128 * 256);
  CU_ASSERT_EQUAL(r.flows[1].first_ms, 1709294401000ull);
  CU_ASSERT_EQUAL(r.flows[1].last_ms, 1709294402000ull);
  /* IPv4 beats the all-zero IPv6 of the same record; an ISO 8601 time
   * with an offset. */
  CU_ASSERT_EQUAL(r.flows[2].src.family, 4);
  CU_ASSERT_EQUAL(r.flows[2].first_ms, 1709290805500ull);
  free(r.flows);
}

/* nfdump -o json (1.7): its own names, flags as text, local times
 * without a zone (read in this process's TZ), "sampled" counters that
 * nfcapd scaled already, ICMP type and code fields, the router. */
static void test_nfdump_json(void) {
  static const char text[] =
      "[\n{\n\t\"type\" : \"FLOW\",\n\t\"sampled\" : 0,\n"
      "\t\"export_sysid\" : 3,\n"
      "\t\"first\" : \"2024-03-04T09:00:00.750\",\n"
      "\t\"last\" : \"2024-03-04T09:00:01.156\",\n"
      "\t\"received\" : \"2024-03-04T09:00:02.000\",\n"
      "\t\"in_packets\" : 10,\n\t\"in_bytes\" : 9070,\n"
      "\t\"proto\" : 6,\n\t\"tcp_flags\" : \"...AP.SF\",\n"
      "\t\"src_port\" : 443,\n\t\"dst_port\" : 26048,\n"
      "\t\"src4_addr\" : \"198.51.100.7\",\n"
      "\t\"dst4_addr\" : \"147.32.80.37\",\n"
      "\t\"src_net\" : \"0.0.0.0\",\n\t\"label\" : \"<none>\",\n"
      "\t\"ip4_router\" : \"192.0.2.1\"\n},\n"
      "{\n\t\"type\" : \"FLOW\",\n\t\"sampled\" : 1,\n"
      "\t\"first\" : \"2024-07-01T12:00:00.000\",\n"
      "\t\"last\" : \"2024-07-01T12:00:00.000\",\n"
      "\t\"in_packets\" : 3000,\n\t\"in_bytes\" : 4500000,\n"
      "\t\"proto\" : 58,\n\t\"icmp_type\" : 128,\n"
      "\t\"icmp_code\" : 0,\n"
      "\t\"src6_addr\" : \"2001:718:1::5\",\n"
      "\t\"dst6_addr\" : \"2001:db8::9\"\n},\n"
      "{\n\t\"type\" : \"FLOW\",\n"
      "\t\"first\" : \"2024-03-04T09:00:00.000\",\n"
      "\t\"proto\" : 6,\n\t\"tcp_flags\" : \"...AX.SF\",\n"
      "\t\"src4_addr\" : \"10.0.0.1\",\n"
      "\t\"dst4_addr\" : \"10.0.0.2\"\n}\n]\n";
  /* Central European time as a POSIX rule (no tzdata needed): UTC+1
   * in March, UTC+2 in July. */
  result r;
  read_text_in_tz(text, "CET-1CEST,M3.5.0,M10.5.0/3", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL_FATAL(r.n, 2);
  CU_ASSERT_EQUAL(r.info.dropped, 1); /* "...AX.SF" is no flag text */
  CU_ASSERT_PTR_NOT_NULL(strstr(r.warning, "TCP_FLAGS"));
  /* 09:00:00.750 CET is 08:00:00.750 UTC. */
  CU_ASSERT_EQUAL(r.flows[0].first_ms, 1709539200750ull);
  CU_ASSERT_EQUAL(r.flows[0].last_ms, 1709539201156ull);
  CU_ASSERT_EQUAL(r.flows[0].received_ms, 1709539202000ull);
  CU_ASSERT_EQUAL(r.flows[0].tcp_flags, 0x1b);
  CU_ASSERT_EQUAL(r.flows[0].packets, 10);
  CU_ASSERT_EQUAL(r.flows[0].bytes, 9070);
  CU_ASSERT_EQUAL(r.flows[0].src_port, 443);
  CU_ASSERT_EQUAL(r.flows[0].dst_port, 26048);
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].src), "198.51.100.7");
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].router), "192.0.2.1");
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].exporter), "192.0.2.1");
  CU_ASSERT_EQUAL(r.flows[0].exporter_sysid, 3);
  CU_ASSERT_FALSE(r.flows[0].flags & NFH_FLOW_SAMPLED);
  /* July: UTC+2. Sampled, the counters as nfcapd scaled them. */
  CU_ASSERT_EQUAL(r.flows[1].first_ms, 1719828000000ull);
  CU_ASSERT(r.flows[1].flags & NFH_FLOW_SAMPLED);
  CU_ASSERT_EQUAL(r.flows[1].packets, 3000);
  CU_ASSERT_EQUAL(r.flows[1].bytes, 4500000);
  CU_ASSERT_EQUAL(r.flows[1].proto, 58);
  CU_ASSERT_EQUAL(r.flows[1].icmp_type, 128);
  CU_ASSERT_EQUAL(r.flows[1].dst_port, 128 * 256);
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[1].src), "2001:718:1::5");
  free(r.flows);
}

/* nfdump -o json of a firewall's events (NSEL): the event as a string
 * number, a teardown with no end (1970) ended at its event time, a
 * denial; a bad event id drops its object. */
/* "first" and "last" as numbers: absolute times as everywhere in flow
 * files (seconds below 10^11, fractions allowed; milliseconds above).
 * They were refused ("bad first") while FIRST_SWITCHED took them. */
static void test_numeric_first_last(void) {
  static const char text[] =
      "{\"first\": 1709542800, \"last\": 1709542801.25, \"proto\": 6,"
      " \"src4_addr\": \"10.0.0.1\", \"dst4_addr\": \"192.0.2.9\","
      " \"in_packets\": 3, \"in_bytes\": 180}\n"
      "{\"first\": 1709542800500, \"last\": 1709542802000, \"proto\": 17,"
      " \"src4_addr\": \"10.0.0.1\", \"dst4_addr\": \"192.0.2.9\","
      " \"in_packets\": 1, \"in_bytes\": 60}\n";
  result r;
  read_text(text, &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL(r.info.dropped, 0);
  CU_ASSERT_EQUAL_FATAL(r.n, 2);
  CU_ASSERT_EQUAL(r.flows[0].first_ms, 1709542800000ull);
  CU_ASSERT_EQUAL(r.flows[0].last_ms, 1709542801250ull);
  CU_ASSERT_EQUAL(r.flows[1].first_ms, 1709542800500ull);
  CU_ASSERT_EQUAL(r.flows[1].last_ms, 1709542802000ull);
  free(r.flows);
}

static void test_nfdump_json_nsel(void) {
  static const char text[] =
      "[\n{\n\t\"type\" : \"EVENT\",\n"
      "\t\"first\" : \"2024-03-05T10:03:00.000\",\n"
      "\t\"last\" : \"1970-01-01T00:00:00.000\",\n"
      "\t\"in_packets\" : 0,\n\t\"in_bytes\" : 2000000000,\n"
      "\t\"proto\" : 6,\n\t\"tcp_flags\" : \"........\",\n"
      "\t\"src_port\" : 49152,\n\t\"dst_port\" : 443,\n"
      "\t\"src4_addr\" : \"10.0.0.33\",\n"
      "\t\"dst4_addr\" : \"185.199.1.9\",\n"
      "\t\"out_packets\" : 0,\n\t\"out_bytes\" : 40000000,\n"
      "\t\"connect_id\" : \"1201\",\n\t\"event_id\" : \"2\",\n"
      "\t\"event\" : \"DELETE\",\n\t\"xevent_id\" : \"0\",\n"
      "\t\"t_event\" : \"2024-03-05T10:18:00.000\"\n},\n"
      "{\n\t\"type\" : \"EVENT\",\n"
      "\t\"first\" : \"2024-03-05T10:02:00.200\",\n"
      "\t\"last\" : \"1970-01-01T00:00:00.000\",\n"
      "\t\"proto\" : 6,\n\t\"src_port\" : 51000,\n"
      "\t\"dst_port\" : 1,\n\t\"src4_addr\" : \"203.0.113.5\",\n"
      "\t\"dst4_addr\" : \"10.0.0.20\",\n\t\"event_id\" : \"3\",\n"
      "\t\"t_event\" : \"2024-03-05T10:02:00.200\"\n},\n"
      "{\n\t\"type\" : \"EVENT\",\n"
      "\t\"first\" : \"2024-03-05T10:02:00.200\",\n"
      "\t\"proto\" : 6,\n\t\"src4_addr\" : \"203.0.113.5\",\n"
      "\t\"dst4_addr\" : \"10.0.0.21\",\n\t\"event_id\" : \"denied\"\n}\n]\n";
  result r;
  read_text_in_tz(text, "UTC0", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL_FATAL(r.n, 2);
  CU_ASSERT_EQUAL(r.info.dropped, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.warning, "event_id"));
  CU_ASSERT(r.flows[0].flags & NFH_FLOW_EVENT);
  CU_ASSERT_EQUAL(r.flows[0].fw_event, NFH_FW_DELETED);
  CU_ASSERT_EQUAL(r.flows[0].first_ms, 1709632980000ull);
  CU_ASSERT_EQUAL(r.flows[0].last_ms, 1709633880000ull);
  CU_ASSERT_EQUAL(r.flows[0].bytes, 2000000000ull);
  CU_ASSERT_EQUAL(r.flows[0].out_bytes, 40000000ull);
  CU_ASSERT_EQUAL(r.flows[1].fw_event, NFH_FW_DENIED);
  CU_ASSERT_EQUAL(r.flows[1].first_ms, 1709632920200ull);
  CU_ASSERT_EQUAL(r.flows[1].last_ms, 1709632920200ull);
  free(r.flows);
}

static void test_python_netflow(void) {
  result r;
  read_path("pynetflow_v9.json.gz", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL(r.info.gzip, 1);
  CU_ASSERT_EQUAL(r.n, 611);
  CU_ASSERT_FATAL(r.n > 0);
  /* timestamp 1709294625 s, uptime 224948 ms, FIRST_SWITCHED 30019:
   * 1709294625000 - (224948 - 30019). */
  CU_ASSERT_EQUAL(r.flows[0].first_ms, 1709294430071ull);
  CU_ASSERT_EQUAL(r.flows[0].nf_version, 9);
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].exporter), "127.0.0.1");
  CU_ASSERT_EQUAL(r.flows[0].received_ms, 1795911834563ull);
  free(r.flows);

  read_path("pynetflow_ipfix.json.gz", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL(r.n, 610);
  CU_ASSERT(r.info.nonflows > 0);
  size_t v6 = 0;
  for (size_t i = 0; i < r.n; i++)
    v6 += r.flows[i].src.family == 6;
  CU_ASSERT_EQUAL(v6, 60);
  /* flowStartSysUpTime 30019 after systemInitTimeMilliseconds
   * 1709294400053. */
  CU_ASSERT_EQUAL(r.flows[0].first_ms, 1709294430072ull);
  CU_ASSERT_EQUAL(r.flows[0].nf_version, 10);
  free(r.flows);

  read_path("pynetflow_v5.json", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL(r.info.gzip, 0);
  CU_ASSERT_EQUAL_FATAL(r.n, 60);
  /* v5: timestamp + timestamp_nano (2.5 ms) - (uptime - switched). */
  CU_ASSERT_EQUAL(r.flows[0].first_ms, 1709294430073ull);
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].src), "10.9.9.9");
  CU_ASSERT_EQUAL(r.flows[0].next_hop.family, 0);
  free(r.flows);
}

static void test_uptime_wrap_and_sampling(void) {
  /* The exporter's uptime wrapped after the flow started: uptime 1000,
   * FIRST_SWITCHED 2^32 - 296 is 1296 ms before the export. */
  result r;
  read_text("{\"1700000000.5\": {\"client\": [\"192.0.2.1\", 2055],"
            " \"header\": {\"version\": 9, \"uptime\": 1000,"
            " \"timestamp\": 1700000000, \"source_id\": 7},"
            " \"flows\": [{\"IPV4_SRC_ADDR\": \"10.0.0.1\","
            " \"IPV4_DST_ADDR\": \"10.0.0.2\", \"FIRST_SWITCHED\": 4294967000,"
            " \"LAST_SWITCHED\": 900, \"IN_PKTS\": 3, \"IN_BYTES\": 300}]}}\n"
            "{\"header\": {\"version\": 5, \"uptime\": 5000,"
            " \"timestamp\": 1700000001, \"timestamp_nano\": 0,"
            " \"sampling_interval\": 16484}, \"flows\": [{"
            "\"IPV4_SRC_ADDR\": 167772161, \"IPV4_DST_ADDR\": 167772162,"
            " \"FIRST_SWITCHED\": 4000, \"LAST_SWITCHED\": 5000,"
            " \"IN_PACKETS\": 2, \"IN_OCTETS\": 100, \"PROTO\": 17}]}\n",
            &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL_FATAL(r.n, 2);
  CU_ASSERT_EQUAL(r.flows[0].first_ms, 1700000000000ull - 1296);
  CU_ASSERT_EQUAL(r.flows[0].last_ms, 1700000000000ull - 100);
  CU_ASSERT_EQUAL(r.flows[0].exporter_id, 7);
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].exporter), "192.0.2.1");
  CU_ASSERT_EQUAL(r.flows[0].received_ms, 1700000000500ull);
  /* v5 header sampling: mode bits 01, interval 100. */
  CU_ASSERT_EQUAL(r.flows[1].sampling, 100);
  CU_ASSERT_EQUAL(r.flows[1].packets, 200);
  CU_ASSERT_EQUAL(r.flows[1].bytes, 10000);
  CU_ASSERT_EQUAL(r.flows[1].first_ms, 1700000000000ull);
  free(r.flows);
}

static void test_malformed(void) {
  result r;
  read_path("malformed.json", &r);
  /* The first flow comes out, then the error. */
  CU_ASSERT_EQUAL(r.n, 1);
  CU_ASSERT_EQUAL(r.end, NFH_ESYNTAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.error, "malformed.json: byte 136:"));
  free(r.flows);

  read_path("truncated.json.gz", &r);
  CU_ASSERT_EQUAL(r.end, NFH_EIO);
  CU_ASSERT_EQUAL(r.info.gzip, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.error, "(uncompressed)"));
  free(r.flows);

  static const struct {
    const char *text;
    nfh_status st;
    const char *where;
  } cases[] = {
      {"hello", NFH_ESYNTAX, "t.json: byte 0: expected '['"},
      {"  [{\"a\": 1},]", NFH_ESYNTAX, "byte 12: ']' after ','"},
      {"[{\"a\": 1}", NFH_ESYNTAX,
       "byte 9: unexpected end of input in "
       "the array opened at byte 0"},
      {"[{\"a\": 1} {\"b\": 2}]", NFH_ESYNTAX, "byte 10: expected ','"},
      {"[1, 2]", NFH_ESYNTAX, "byte 1: expected a flow object"},
      {"{\"a\": [1, 2}", NFH_ESYNTAX, "byte 0"},
      {"{\"a\": \"x", NFH_ESYNTAX,
       "byte 8: unexpected end of input in the "
       "value that starts at byte 0"},
      /* After a quoted long integer, the offset is still the file's. */
      {"{\"sourceIPv6Address\": 42540766411282592856903984951653826561, "
       "\"x\": tru}",
       NFH_ESYNTAX, "byte 70:"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    read_text(cases[i].text, &r);
    CU_ASSERT_EQUAL(r.end, cases[i].st);
    if (!strstr(r.error, cases[i].where)) {
      fprintf(stderr, "\ncase %zu: '%s', wanted '%s'\n", i, r.error,
              cases[i].where);
      CU_FAIL("error text");
    }
    free(r.flows);
  }
}

static void test_empty_and_nonflows(void) {
  result r;
  read_text("", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL(r.n, 0);
  read_text(" \n\t[]\n[ ]\n", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL(r.n, 0);
  read_text("[{\"foo\": 1}, {\"IPV4_SRC_ADDR\": \"10.0.0.1\"}]", &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL(r.n, 0);
  CU_ASSERT_EQUAL(r.info.nonflows, 2);
  /* A flow without any time and without a header: dropped. */
  read_text("{\"IPV4_SRC_ADDR\": \"10.0.0.1\", \"IPV4_DST_ADDR\": "
            "\"10.0.0.2\"}",
            &r);
  CU_ASSERT_EQUAL(r.n, 0);
  CU_ASSERT_EQUAL(r.info.dropped, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.warning, "no time"));
  /* Bad values: an address, a negative counter, a too large v4 int. */
  read_text("{\"IPV4_SRC_ADDR\": \"10.0.0\", \"IPV4_DST_ADDR\": \"1.2.3.4\","
            " \"FIRST_SWITCHED\": 1}\n"
            "{\"IPV4_SRC_ADDR\": \"10.0.0.1\", \"IPV4_DST_ADDR\": \"1.2.3.4\","
            " \"FIRST_SWITCHED\": 1, \"IN_BYTES\": -5}\n"
            "{\"IPV4_SRC_ADDR\": 4294967296, \"IPV4_DST_ADDR\": \"1.2.3.4\","
            " \"FIRST_SWITCHED\": 1}\n",
            &r);
  CU_ASSERT_EQUAL(r.n, 0);
  CU_ASSERT_EQUAL(r.info.dropped, 3);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.warning, "byte 0:"));
}

static void test_long_integers(void) {
  result r;
  read_text("{\"sourceIPv6Address\": 340282366920938463463374607431768211455,"
            " \"destinationIPv6Address\": 1, \"flowStartSeconds\": 1}\n"
            "{\"sourceIPv6Address\": 340282366920938463463374607431768211456,"
            " \"destinationIPv6Address\": 1, \"flowStartSeconds\": 1}\n"
            "{\"sourceIPv4Address\": 3232235777, \"destinationIPv4Address\":"
            " \"3232235778\", \"octetDeltaCount\": 18446744073709551615,"
            " \"flowStartSeconds\": 1}\n",
            &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL_FATAL(r.n, 2);
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].src),
                         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[0].dst), "::1");
  CU_ASSERT_EQUAL(r.info.dropped, 1); /* 2^128 */
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[1].src), "192.168.1.1");
  CU_ASSERT_STRING_EQUAL(addr(&r.flows[1].dst), "192.168.1.2");
  CU_ASSERT_EQUAL(r.flows[1].bytes, UINT64_MAX);
  free(r.flows);
}

static void test_batches(void) {
  /* 10000 flows in one array: several batches, none lost. */
  size_t n = 10000, cap = n * 120 + 16, len = 0;
  char *text = malloc(cap);
  CU_ASSERT_FATAL(text != NULL);
  len += (size_t)snprintf(text + len, cap - len, "[");
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(
        text + len, cap - len,
        "%s{\"IPV4_SRC_ADDR\": %zu, \"IPV4_DST_ADDR\": \"10.0.0.1\", "
        "\"FIRST_SWITCHED\": %zu}",
        i ? "," : "", 167772160 + i, 1700000000 + i);
  snprintf(text + len, cap - len, "]");
  result r;
  read_text(text, &r);
  CU_ASSERT_EQUAL(r.end, NFH_END);
  CU_ASSERT_EQUAL_FATAL(r.n, n);
  CU_ASSERT(r.batches >= 3);
  CU_ASSERT_EQUAL(r.flows[n - 1].first_ms, (1700000000ull + n - 1) * 1000);
  free(r.flows);
  free(text);
}

static void test_alloc_failures(void) {
  /* Every failing allocation gives NFH_ENOMEM (or succeeds once the
   * failure comes after the last allocation), never a crash or a leak
   * (valgrind/ASan check the latter). */
  const char *text = "[{\"IPV4_SRC_ADDR\": \"10.0.0.1\", \"IPV4_DST_ADDR\": "
                     "\"10.0.0.2\", \"FIRST_SWITCHED\": 1700000000, "
                     "\"sourceIPv6Address\": "
                     "42540766411282592856903984951653826561}]";
  for (long k = 0; k < 40; k++) {
    nfh__alloc_fail_after(k);
    nfh_json_reader *r = NULL;
    nfh_status st = nfh_json_reader_create(&r);
    if (st == NFH_OK)
      st = nfh_json_reader_open_buffer(r, "t", text, strlen(text));
    const nfh_flow *f;
    size_t n = 0;
    if (st == NFH_OK)
      while ((st = nfh_json_reader_next(r, &f, &n)) == NFH_OK)
        ;
    CU_ASSERT(st == NFH_END || st == NFH_ENOMEM);
    nfh__alloc_fail_after(-1);
    nfh_json_reader_destroy(r);
  }
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("jsonflow", NULL, NULL);
  CU_add_test(s, "seed array, v9 names", test_seed_array);
  CU_add_test(s, "JSON lines, IPFIX names, IPv6", test_ipfix_lines);
  CU_add_test(s, "python-netflow v9/IPFIX/v5", test_python_netflow);
  CU_add_test(s, "nfdump -o json", test_nfdump_json);
  CU_add_test(s, "nfdump -o json of NSEL events", test_nfdump_json_nsel);
  CU_add_test(s, "numeric first and last", test_numeric_first_last);
  CU_add_test(s, "uptime wrap, v5 sampling", test_uptime_wrap_and_sampling);
  CU_add_test(s, "malformed input, byte offsets", test_malformed);
  CU_add_test(s, "empty input, non-flows, bad values", test_empty_and_nonflows);
  CU_add_test(s, "integers beyond 64 bits", test_long_integers);
  CU_add_test(s, "batches", test_batches);
  CU_add_test(s, "allocation failures", test_alloc_failures);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
