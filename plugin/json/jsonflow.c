/* jsonflow.c - flows from JSON files; see nfhunt/jsonflow.h.
 *
 * The file is read in chunks (through zlib, which passes plain files
 * through unchanged). A small scanner finds where each top-level value,
 * or each element of a top-level array, ends; jansson then parses that
 * one value. So memory holds one value at a time, whatever the file's
 * size, and an error's byte offset is exact: the scanner's own for the
 * structure between values, jansson's (json_error_t.position) plus the
 * value's start inside it.
 *
 * Python writes integers of any size; jansson refuses those beyond 64
 * bits (IPFIX IPv6 addresses as python-netflow writes them). The scanner
 * notes integer tokens of 19 digits or more, and such a value is parsed
 * from a copy in which they are quoted; the field conversion reads
 * digit strings as numbers.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include <nfhunt/jsonflow.h>

#include "../common/alloc.h"

#define CHUNK (256u * 1024)
#define BATCH 4096
#define MAX_BIGS 4096    /* long integer tokens noted per value */
#define MAX_EXPORTERS 64 /* IPFIX systemInitTimeMilliseconds remembered */

/* Epoch seconds between 1900 (NTP) and 1970. */
#define NTP_OFFSET 2208988800ull

typedef enum top_state {
  TOP_VALUES,      /* between top-level values */
  TOP_ARRAY_FIRST, /* after '[' */
  TOP_ARRAY_NEXT,  /* after an element */
  TOP_DONE
} top_state;

typedef enum field {
  F_SRC4,
  F_DST4,
  F_SRC6,
  F_DST6,
  F_SPORT,
  F_DPORT,
  F_PROTO,
  F_BYTES,
  F_PKTS,
  F_OUT_BYTES,
  F_OUT_PKTS,
  F_FLOWS,
  F_FIRST_SW,
  F_LAST_SW,
  F_START_UP,
  F_END_UP,
  F_START_S,
  F_END_S,
  F_START_MS,
  F_END_MS,
  F_START_US,
  F_END_US,
  F_START_NS,
  F_END_NS,
  F_START_DELTA,
  F_END_DELTA,
  F_DURATION,
  F_TCP_FLAGS,
  F_TOS,
  F_DST_TOS,
  F_ICMP_TYPECODE,
  F_ICMP_TYPE,
  F_ICMP_CODE,
  F_IN_IF,
  F_OUT_IF,
  F_SRC_AS,
  F_DST_AS,
  F_SRC_MASK,
  F_DST_MASK,
  F_SRC_VLAN,
  F_DST_VLAN,
  F_DIRECTION,
  F_HOP4,
  F_HOP6,
  F_BGP4,
  F_BGP6,
  F_SAMPLING,
  F_FWD_STATUS,
  F_END_REASON,
  F_BIFLOW_DIR,
  F_SYS_INIT,
  F_FIRST_LOCAL, /* nfdump -o json: local time, no zone */
  F_LAST_LOCAL,
  F_RECEIVED_LOCAL,
  F_ROUTER4,
  F_ROUTER6,
  F_SYSID,
  F_SAMPLED, /* nfdump -o json: 1 when nfcapd scaled the counters */
  F_FW_EVENT, /* nfdump -o json, NSEL: "event_id" (1 created ... 3 denied) */
  F_EVENT_TIME_LOCAL, /* nfdump -o json, NSEL/NEL: "t_event" */
  F_COUNT
} field;

typedef struct field_name {
  const char *name;
  field id;
} field_name;

/* NetFlow v9 names (as python-netflow spells them, its typo
 * BPG_IPV6_NEXT_HOP included), v5/v1 names, IPFIX names. Sorted by
 * nfh_json_reader_create into the reader's own copy. */
static const field_name field_names[] = {
    {"IPV4_SRC_ADDR", F_SRC4},
    {"sourceIPv4Address", F_SRC4},
    {"IPV4_DST_ADDR", F_DST4},
    {"destinationIPv4Address", F_DST4},
    {"IPV6_SRC_ADDR", F_SRC6},
    {"sourceIPv6Address", F_SRC6},
    {"IPV6_DST_ADDR", F_DST6},
    {"destinationIPv6Address", F_DST6},
    {"L4_SRC_PORT", F_SPORT},
    {"SRC_PORT", F_SPORT},
    {"sourceTransportPort", F_SPORT},
    {"L4_DST_PORT", F_DPORT},
    {"DST_PORT", F_DPORT},
    {"destinationTransportPort", F_DPORT},
    {"PROTOCOL", F_PROTO},
    {"PROTO", F_PROTO},
    {"protocolIdentifier", F_PROTO},
    {"IN_BYTES", F_BYTES},
    {"IN_OCTETS", F_BYTES},
    {"octetDeltaCount", F_BYTES},
    {"octetTotalCount", F_BYTES},
    {"IN_PKTS", F_PKTS},
    {"IN_PACKETS", F_PKTS},
    {"packetDeltaCount", F_PKTS},
    {"packetTotalCount", F_PKTS},
    {"OUT_BYTES", F_OUT_BYTES},
    {"postOctetDeltaCount", F_OUT_BYTES},
    {"OUT_PKTS", F_OUT_PKTS},
    {"postPacketDeltaCount", F_OUT_PKTS},
    {"FLOWS", F_FLOWS},
    {"deltaFlowCount", F_FLOWS},
    {"FIRST_SWITCHED", F_FIRST_SW},
    {"LAST_SWITCHED", F_LAST_SW},
    {"flowStartSysUpTime", F_START_UP},
    {"flowEndSysUpTime", F_END_UP},
    {"flowStartSeconds", F_START_S},
    {"flowEndSeconds", F_END_S},
    {"flowStartMilliseconds", F_START_MS},
    {"flowEndMilliseconds", F_END_MS},
    {"flowStartMicroseconds", F_START_US},
    {"flowEndMicroseconds", F_END_US},
    {"flowStartNanoseconds", F_START_NS},
    {"flowEndNanoseconds", F_END_NS},
    {"flowStartDeltaMicroseconds", F_START_DELTA},
    {"flowEndDeltaMicroseconds", F_END_DELTA},
    {"flowDurationMilliseconds", F_DURATION},
    {"TCP_FLAGS", F_TCP_FLAGS},
    {"tcpControlBits", F_TCP_FLAGS},
    {"SRC_TOS", F_TOS},
    {"TOS", F_TOS},
    {"ipClassOfService", F_TOS},
    {"DST_TOS", F_DST_TOS},
    {"postIpClassOfService", F_DST_TOS},
    {"ICMP_TYPE", F_ICMP_TYPECODE},
    {"icmpTypeCodeIPv4", F_ICMP_TYPECODE},
    {"icmpTypeCodeIPv6", F_ICMP_TYPECODE},
    {"NF_F_ICMP_TYPE", F_ICMP_TYPE},
    {"NF_F_ICMP_TYPE_IPV6", F_ICMP_TYPE},
    {"icmpTypeIPv4", F_ICMP_TYPE},
    {"icmpTypeIPv6", F_ICMP_TYPE},
    {"NF_F_ICMP_CODE", F_ICMP_CODE},
    {"NF_F_ICMP_CODE_IPV6", F_ICMP_CODE},
    {"icmpCodeIPv4", F_ICMP_CODE},
    {"icmpCodeIPv6", F_ICMP_CODE},
    {"INPUT_SNMP", F_IN_IF},
    {"INPUT", F_IN_IF},
    {"ingressInterface", F_IN_IF},
    {"OUTPUT_SNMP", F_OUT_IF},
    {"OUTPUT", F_OUT_IF},
    {"egressInterface", F_OUT_IF},
    {"SRC_AS", F_SRC_AS},
    {"bgpSourceAsNumber", F_SRC_AS},
    {"DST_AS", F_DST_AS},
    {"bgpDestinationAsNumber", F_DST_AS},
    {"SRC_MASK", F_SRC_MASK},
    {"IPV6_SRC_MASK", F_SRC_MASK},
    {"sourceIPv4PrefixLength", F_SRC_MASK},
    {"sourceIPv6PrefixLength", F_SRC_MASK},
    {"DST_MASK", F_DST_MASK},
    {"IPV6_DST_MASK", F_DST_MASK},
    {"destinationIPv4PrefixLength", F_DST_MASK},
    {"destinationIPv6PrefixLength", F_DST_MASK},
    {"SRC_VLAN", F_SRC_VLAN},
    {"vlanId", F_SRC_VLAN},
    {"DST_VLAN", F_DST_VLAN},
    {"postVlanId", F_DST_VLAN},
    {"DIRECTION", F_DIRECTION},
    {"flowDirection", F_DIRECTION},
    {"IPV4_NEXT_HOP", F_HOP4},
    {"NEXT_HOP", F_HOP4},
    {"ipNextHopIPv4Address", F_HOP4},
    {"IPV6_NEXT_HOP", F_HOP6},
    {"ipNextHopIPv6Address", F_HOP6},
    {"BGP_IPV4_NEXT_HOP", F_BGP4},
    {"bgpNextHopIPv4Address", F_BGP4},
    {"BGP_IPV6_NEXT_HOP", F_BGP6},
    {"BPG_IPV6_NEXT_HOP", F_BGP6},
    {"bgpNextHopIPv6Address", F_BGP6},
    {"SAMPLING_INTERVAL", F_SAMPLING},
    {"samplingInterval", F_SAMPLING},
    {"FORWARDING_STATUS", F_FWD_STATUS},
    {"forwardingStatus", F_FWD_STATUS},
    {"flowEndReason", F_END_REASON},
    {"biflowDirection", F_BIFLOW_DIR},
    {"systemInitTimeMilliseconds", F_SYS_INIT},
    /* nfdump -o json (1.7): its own names, flags as text ("...AP.SF"),
     * times as local time without a zone. */
    {"src4_addr", F_SRC4},
    {"dst4_addr", F_DST4},
    {"src6_addr", F_SRC6},
    {"dst6_addr", F_DST6},
    {"src_port", F_SPORT},
    {"dst_port", F_DPORT},
    {"proto", F_PROTO},
    {"in_bytes", F_BYTES},
    {"in_packets", F_PKTS},
    {"out_bytes", F_OUT_BYTES},
    {"out_packets", F_OUT_PKTS},
    {"tcp_flags", F_TCP_FLAGS},
    {"src_tos", F_TOS},
    {"dst_tos", F_DST_TOS},
    {"icmp_type", F_ICMP_TYPE},
    {"icmp_code", F_ICMP_CODE},
    {"input_snmp", F_IN_IF},
    {"output_snmp", F_OUT_IF},
    {"src_as", F_SRC_AS},
    {"dst_as", F_DST_AS},
    {"src_mask", F_SRC_MASK},
    {"dst_mask", F_DST_MASK},
    {"src_vlan", F_SRC_VLAN},
    {"dst_vlan", F_DST_VLAN},
    {"direction", F_DIRECTION},
    {"ip4_next_hop", F_HOP4},
    {"ip6_next_hop", F_HOP6},
    {"bgp4_next_hop", F_BGP4},
    {"bgp6_next_hop", F_BGP6},
    {"fwd_status", F_FWD_STATUS},
    {"first", F_FIRST_LOCAL},
    {"last", F_LAST_LOCAL},
    {"received", F_RECEIVED_LOCAL},
    {"ip4_router", F_ROUTER4},
    {"ip6_router", F_ROUTER6},
    {"export_sysid", F_SYSID},
    {"sampled", F_SAMPLED},
    {"event_id", F_FW_EVENT},
    {"t_event", F_EVENT_TIME_LOCAL},
};
#define NFIELD_NAMES (sizeof(field_names) / sizeof(field_names[0]))

/* What a python-netflow export line says about its flows. */
typedef struct export_ctx {
  int version;        /* header.version; 0 without a header */
  int has_uptime;     /* v1/v5/v9: FIRST/LAST_SWITCHED are relative */
  uint32_t uptime;    /* header.uptime, ms */
  uint64_t export_ms; /* header time, epoch ms; 0 unknown */
  uint32_t sampling;  /* v5 header sampling interval; 0/1 none */
  uint32_t domain;    /* source id / observation domain / engine id */
  nfh_addr client;    /* the exporter (UDP source); family 0 unknown */
  uint64_t received_ms;
} export_ctx;

typedef struct sys_init {
  nfh_addr client;
  uint32_t domain;
  uint64_t init_ms;
} sys_init;

struct nfh_json_reader {
  char *name;
  gzFile gz;
  const uint8_t *mem;
  size_t mem_len, mem_pos;
  int open, failed, eof;

  uint8_t *buf;
  size_t cap, start, end; /* unconsumed bytes: buf[start, end) */
  uint64_t base;          /* file offset of buf[0] */

  top_state top;
  uint64_t array_at; /* offset of the open top-level '[' */

  size_t *bigs; /* long integer tokens of the current value */
  size_t nbigs, bigs_cap;
  char *rewrite;
  size_t rewrite_cap;

  field_name names[NFIELD_NAMES];

  sys_init inits[MAX_EXPORTERS];
  size_t ninits;

  nfh_flow *out;
  size_t nout, out_cap;

  nfh_json_info info;
  nfh_status status; /* of the failure that ended the file */
  char error[512];
  char warning[512];
};

/* ---------------------------------------------------------------- util */

static int compare_names(const void *a, const void *b) {
  return strcmp(((const field_name *)a)->name, ((const field_name *)b)->name);
}

static field lookup(const nfh_json_reader *r, const char *key) {
  size_t lo = 0, hi = NFIELD_NAMES;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(key, r->names[mid].name);
    if (c == 0)
      return r->names[mid].id;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return F_COUNT;
}

static nfh_status fail(nfh_json_reader *r, nfh_status st, uint64_t at,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static nfh_status fail(nfh_json_reader *r, nfh_status st, uint64_t at,
                       const char *fmt, ...) {
  char what[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  snprintf(r->error, sizeof(r->error), "%s: byte %llu%s: %s", r->name,
           (unsigned long long)at, r->info.gzip ? " (uncompressed)" : "", what);
  r->failed = 1;
  r->status = st;
  return st;
}

/* ------------------------------------------------------------- reading */

/* Reads more input after buf[end]. Returns 1 if bytes were added, 0 at
 * the end of the input, -1 on error (r->error set). Compacts the buffer
 * (keeping buf[start, end)) and grows it up to the value limit. */
static int refill(nfh_json_reader *r) {
  if (r->eof)
    return 0;
  if (r->start > 0 && (r->end == r->cap || r->start >= r->cap / 2)) {
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->base += r->start;
    r->end -= r->start;
    r->start = 0;
  }
  if (r->end == r->cap) {
    if (r->end - r->start >= NFH_JSON_MAX_VALUE) {
      fail(r, NFH_ETOOBIG, r->base + r->start,
           "a JSON value larger than %u MiB", NFH_JSON_MAX_VALUE >> 20);
      return -1;
    }
    size_t ncap = r->cap ? 2 * r->cap : CHUNK;
    if (ncap > NFH_JSON_MAX_VALUE + CHUNK)
      ncap = NFH_JSON_MAX_VALUE + CHUNK;
    uint8_t *grown = nfh__realloc(r->buf, ncap);
    if (!grown) {
      fail(r, NFH_ENOMEM, r->base + r->start, "out of memory");
      return -1;
    }
    r->buf = grown;
    r->cap = ncap;
  }
  size_t room = r->cap - r->end;
  if (room > CHUNK)
    room = CHUNK;
  long got;
  if (r->gz) {
    int n = gzread(r->gz, r->buf + r->end, (unsigned)room);
    if (n < 0) {
      int errnum;
      const char *msg = gzerror(r->gz, &errnum);
      fail(r, NFH_EIO, r->base + r->end, "read error: %s",
           errnum == Z_ERRNO ? strerror(errno) : msg);
      return -1;
    }
    if (n == 0) {
      int errnum;
      const char *msg = gzerror(r->gz, &errnum);
      if (errnum != Z_OK && errnum != Z_STREAM_END) {
        /* zlib prefixes the path: keep only its own words. */
        size_t nl = strlen(r->name);
        if (strncmp(msg, r->name, nl) == 0 && strncmp(msg + nl, ": ", 2) == 0)
          msg += nl + 2;
        fail(r, NFH_EIO, r->base + r->end, "gzip data: %s", msg);
        return -1;
      }
    }
    if (!gzdirect(r->gz))
      r->info.gzip = 1;
    got = n;
  } else {
    size_t left = r->mem_len - r->mem_pos;
    got = (long)(left < room ? left : room);
    memcpy(r->buf + r->end, r->mem + r->mem_pos, (size_t)got);
    r->mem_pos += (size_t)got;
  }
  if (got == 0) {
    r->eof = 1;
    return 0;
  }
  r->end += (size_t)got;
  return 1;
}

/* The next byte after white space, or -1 at the end (-2 on error). */
static int peek(nfh_json_reader *r) {
  for (;;) {
    while (r->start < r->end) {
      uint8_t c = r->buf[r->start];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        return c;
      r->start++;
    }
    int rc = refill(r);
    if (rc <= 0)
      return rc < 0 ? -2 : -1;
  }
}

static uint64_t offset(const nfh_json_reader *r) { return r->base + r->start; }

static int number_char(uint8_t c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
         c == 'e' || c == 'E';
}

/* Finds the end of the object or array starting at buf[start]; sets *len
 * to its length (brackets included) and notes long integer tokens in
 * r->bigs (offsets from the value's start). NFH_OK, or an error. */
static nfh_status scan_value(nfh_json_reader *r, size_t *len) {
  size_t pos = 0; /* relative to r->start: refill may move the buffer */
  int depth = 0, in_str = 0, esc = 0, in_num = 0, pure = 0;
  size_t num_at = 0;
  r->nbigs = 0;
  for (;;) {
    if (r->start + pos == r->end) {
      int rc = refill(r);
      if (rc < 0)
        return r->status;
      if (rc == 0)
        return fail(r, NFH_ESYNTAX, offset(r) + pos,
                    "unexpected end of input in the value that starts at "
                    "byte %llu",
                    (unsigned long long)offset(r));
      continue;
    }
    uint8_t c = r->buf[r->start + pos];
    if (in_str) {
      if (esc)
        esc = 0;
      else if (c == '\\')
        esc = 1;
      else if (c == '"')
        in_str = 0;
      pos++;
      continue;
    }
    if (number_char(c)) {
      if (!in_num) {
        in_num = 1;
        num_at = pos;
        pure = c >= '0' && c <= '9';
      } else if (c < '0' || c > '9') {
        pure = 0;
      }
      pos++;
      continue;
    }
    if (in_num) {
      in_num = 0;
      if (pure && pos - num_at >= 19) {
        if (r->nbigs == r->bigs_cap) {
          if (r->bigs_cap >= MAX_BIGS)
            return fail(r, NFH_ETOOBIG, offset(r) + num_at,
                        "more than %u integers beyond 64 bits in one value",
                        MAX_BIGS);
          size_t ncap = r->bigs_cap ? 2 * r->bigs_cap : 16;
          size_t *grown = nfh__realloc(r->bigs, ncap * sizeof(size_t));
          if (!grown)
            return fail(r, NFH_ENOMEM, offset(r), "out of memory");
          r->bigs = grown;
          r->bigs_cap = ncap;
        }
        r->bigs[r->nbigs++] = num_at;
      }
    }
    if (c == '"') {
      in_str = 1;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        *len = pos + 1;
        return NFH_OK;
      }
      if (depth < 0)
        return fail(r, NFH_ESYNTAX, offset(r) + pos, "unbalanced '%c'", c);
    }
    pos++;
  }
}

/* Length of the digit run at p (at most n bytes). */
static size_t digits_at(const uint8_t *p, size_t n) {
  size_t k = 0;
  while (k < n && p[k] >= '0' && p[k] <= '9')
    k++;
  return k;
}

/* Parses buf[start, start+len) with jansson, quoting long integers
 * first. Returns the value, or NULL with r->error set. */
static json_t *parse_value(nfh_json_reader *r, size_t len) {
  const char *text = (const char *)r->buf + r->start;
  size_t text_len = len;
  if (r->nbigs) {
    size_t need = len + 2 * r->nbigs;
    if (need > r->rewrite_cap) {
      char *grown = nfh__realloc(r->rewrite, need);
      if (!grown) {
        fail(r, NFH_ENOMEM, offset(r), "out of memory");
        return NULL;
      }
      r->rewrite = grown;
      r->rewrite_cap = need;
    }
    size_t in = 0, o = 0;
    for (size_t i = 0; i < r->nbigs; i++) {
      size_t at = r->bigs[i];
      size_t n = digits_at((const uint8_t *)text + at, len - at);
      memcpy(r->rewrite + o, text + in, at - in);
      o += at - in;
      r->rewrite[o++] = '"';
      memcpy(r->rewrite + o, text + at, n);
      o += n;
      r->rewrite[o++] = '"';
      in = at + n;
    }
    memcpy(r->rewrite + o, text + in, len - in);
    o += len - in;
    text = r->rewrite;
    text_len = o;
  }
  json_error_t err;
  json_t *v = json_loadb(text, text_len, JSON_ALLOW_NUL, &err);
  if (!v) {
    size_t pos = (size_t)err.position;
    /* Back to the file's coordinates: two quotes per token before. */
    size_t shift = 0;
    for (size_t i = 0; i < r->nbigs; i++) {
      size_t at = r->bigs[i] + 2 * i; /* opening quote in the copy */
      if (pos > at)
        shift++;
      if (pos >
          at + 1 + digits_at(r->buf + r->start + r->bigs[i], len - r->bigs[i]))
        shift++;
    }
    pos = pos > shift ? pos - shift : 0;
    if (pos > len)
      pos = len;
    fail(r, NFH_ESYNTAX, offset(r) + pos, "%s", err.text);
  }
  return v;
}

/* ------------------------------------------------------------- values */

/* Reads an unsigned integer: a JSON integer, a non-negative real
 * (truncated) or a string of digits. 0 and *out, or -1. */
static int get_uint(const json_t *v, uint64_t max, uint64_t *out) {
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < 0 || (uint64_t)i > max)
      return -1;
    *out = (uint64_t)i;
    return 0;
  }
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (!(d >= 0) || d > (double)max)
      return -1;
    *out = (uint64_t)d;
    return 0;
  }
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    if (!*s || strspn(s, "0123456789") != strlen(s))
      return -1;
    errno = 0;
    unsigned long long u = strtoull(s, NULL, 10);
    if (errno == ERANGE || u > max)
      return -1;
    *out = u;
    return 0;
  }
  return -1;
}

/* A decimal digit string into 128 bits (big-endian bytes); -1 when it
 * has more. Four 32-bit limbs keep it portable (no __int128). */
static int decimal128(const char *s, uint8_t out[16]) {
  uint32_t limb[4] = {0, 0, 0, 0}; /* most significant first */
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    uint64_t carry = (uint64_t)(*s - '0');
    for (int i = 3; i >= 0; i--) {
      uint64_t v = (uint64_t)limb[i] * 10 + carry;
      limb[i] = (uint32_t)v;
      carry = v >> 32;
    }
    if (carry)
      return -1;
  }
  for (int i = 0; i < 16; i++)
    out[i] = (uint8_t)(limb[i / 4] >> (24 - 8 * (i % 4)));
  return 0;
}

/* An address as text, or as an integer (v4 fields: 32 bits; v6 fields:
 * up to 128 bits, a long one given as a digit string). 0 or -1. */
static int get_addr(const json_t *v, int v6, nfh_addr *out) {
  uint8_t raw[16];
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    if (nfh_addr_parse(s, out) == 0)
      return 0;
    if (!*s || decimal128(s, raw) != 0)
      return -1;
  } else if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < 0)
      return -1;
    memset(raw, 0, 8);
    for (int k = 0; k < 8; k++)
      raw[8 + k] = (uint8_t)((uint64_t)i >> (56 - 8 * k));
  } else {
    return -1;
  }
  if (v6) {
    nfh_addr_set_v6(out, raw);
    return 0;
  }
  for (int k = 0; k < 12; k++)
    if (raw[k])
      return -1;
  nfh_addr_set_v4(out, (uint32_t)raw[12] << 24 | (uint32_t)raw[13] << 16 |
                           (uint32_t)raw[14] << 8 | raw[15]);
  return 0;
}

static int addr_is_zero(const nfh_addr *a) {
  if (a->family == 4)
    return nfh_addr_v4(a) == 0;
  for (int i = 0; i < 16; i++)
    if (a->bytes[i])
      return 0;
  return 1;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

/* ISO 8601 "YYYY-MM-DD[T ]hh:mm[:ss[.fff]][Z|+hh:mm|-hhmm]", UTC unless
 * an offset is given. 0 and *ms, or -1. */
static int parse_iso8601(const char *s, uint64_t *ms) {
  int y, mo, d, h, mi, n = 0;
  if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
    return -1;
  s += n;
  if (*s != 'T' && *s != ' ')
    return -1;
  s++;
  if (sscanf(s, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
    return -1;
  s += n;
  double sec = 0;
  if (*s == ':') {
    char *end;
    sec = strtod(s + 1, &end);
    if (end == s + 1 || sec < 0 || sec >= 61)
      return -1;
    s = end;
  }
  int64_t off_s = 0;
  if (*s == 'Z') {
    s++;
  } else if (*s == '+' || *s == '-') {
    int oh, om = 0;
    int sign = *s == '-' ? -1 : 1;
    s++;
    if (sscanf(s, "%2d%n", &oh, &n) != 1 || n != 2)
      return -1;
    s += 2;
    if (*s == ':')
      s++;
    if (*s && (sscanf(s, "%2d%n", &om, &n) != 1 || n != 2))
      return -1;
    if (*s)
      s += 2;
    off_s = sign * (oh * 3600 + om * 60);
  }
  if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
    return -1;
  int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
              mi * 60 - off_s;
  double total = (double)t * 1000 + sec * 1000;
  if (total < 0)
    return -1;
  *ms = (uint64_t)(total + 0.5);
  return 0;
}

/* An absolute time: below 10^11 epoch seconds, from there on epoch ms;
 * a string is a number or ISO 8601. */
static int get_abs_time(const json_t *v, uint64_t *ms) {
  double d;
  if (json_is_integer(v)) {
    d = (double)json_integer_value(v);
  } else if (json_is_real(v)) {
    d = json_real_value(v);
  } else if (json_is_string(v)) {
    const char *s = json_string_value(v);
    char *end;
    d = strtod(s, &end);
    if (end == s || *end)
      return parse_iso8601(s, ms);
  } else {
    return -1;
  }
  if (!(d >= 0) || d > 1e17)
    return -1;
  *ms = d < 1e11 ? (uint64_t)(d * 1000 + 0.5) : (uint64_t)d;
  return 0;
}

/* Whether ISO 8601 text names its zone (Z or an offset after the
 * date). */
static int names_zone(const char *s) {
  size_t n = strlen(s);
  return n > 10 && strpbrk(s + 10, "Z+-") != NULL;
}

/* nfdump's time text, "2024-03-04T08:00:00.750": local time, as nfdump
 * printed it in its time zone; read in this process's (the same TZ, for
 * both, gives the same instant). Text with a zone is read as it says.
 * 0 and *ms, or -1. */
static int get_local_time(const json_t *v, uint64_t *ms) {
  /* A number is an absolute time, as everywhere in flow files (nfhunt(1):
   * epoch seconds below 10^11, milliseconds above); it was refused. */
  if (json_is_number(v))
    return get_abs_time(v, ms);
  if (!json_is_string(v))
    return -1;
  const char *s = json_string_value(v);
  uint64_t as_utc;
  if (parse_iso8601(s, &as_utc) != 0)
    return -1;
  if (names_zone(s)) {
    *ms = as_utc;
    return 0;
  }
  time_t t = (time_t)(as_utc / 1000);
  struct tm tm;
  if (!gmtime_r(&t, &tm))
    return -1;
  tm.tm_isdst = -1; /* the zone's rules say whether DST applies */
  time_t local = mktime(&tm);
  if (local == (time_t)-1 || local < 0)
    return -1;
  *ms = (uint64_t)local * 1000 + as_utc % 1000;
  return 0;
}

/* TCP flags as nfdump prints them: eight characters, CEUAPRSF from the
 * highest bit down, '.' for a flag not set. 0 or -1. */
static int get_flag_text(const json_t *v, uint64_t *flags) {
  static const char names[] = "CEUAPRSF";
  if (!json_is_string(v))
    return -1;
  const char *s = json_string_value(v);
  if (strlen(s) != 8)
    return -1;
  uint64_t f = 0;
  for (int i = 0; i < 8; i++) {
    if (s[i] == names[i])
      f |= 0x80u >> i;
    else if (s[i] != '.')
      return -1;
  }
  *flags = f;
  return 0;
}

/* A time in a field of known unit (1 ms, 1000 s): a number, a digit
 * string, or ISO 8601 text. */
static int get_time_field(const json_t *v, uint64_t unit, uint64_t *ms) {
  uint64_t t;
  if (get_uint(v, UINT64_MAX / 2 / unit, &t) == 0) {
    *ms = t * unit;
    return 0;
  }
  if (json_is_string(v))
    return parse_iso8601(json_string_value(v), ms);
  return -1;
}

/* An NTP timestamp: [seconds since 1900, fraction of 2^32] as
 * python-netflow writes dateTimeMicro/Nanoseconds, or one 64-bit
 * number. */
static int get_ntp_time(const json_t *v, uint64_t *ms) {
  uint64_t sec, frac;
  if (json_is_array(v) && json_array_size(v) == 2) {
    if (get_uint(json_array_get(v, 0), UINT32_MAX, &sec) != 0 ||
        get_uint(json_array_get(v, 1), UINT32_MAX, &frac) != 0)
      return -1;
  } else {
    uint64_t raw;
    if (get_uint(v, UINT64_MAX, &raw) != 0)
      return -1;
    sec = raw >> 32;
    frac = raw & 0xffffffffu;
  }
  if (sec < NTP_OFFSET)
    return -1;
  *ms = (sec - NTP_OFFSET) * 1000 + (frac * 1000 >> 32);
  return 0;
}

static uint64_t sys_init_of(const nfh_json_reader *r, const export_ctx *x) {
  for (size_t i = 0; i < r->ninits; i++)
    if (r->inits[i].domain == x->domain &&
        nfh_addr_compare(&r->inits[i].client, &x->client) == 0)
      return r->inits[i].init_ms;
  return 0;
}

static void remember_sys_init(nfh_json_reader *r, const export_ctx *x,
                              uint64_t init_ms) {
  size_t i;
  for (i = 0; i < r->ninits; i++)
    if (r->inits[i].domain == x->domain &&
        nfh_addr_compare(&r->inits[i].client, &x->client) == 0)
      break;
  if (i == MAX_EXPORTERS)
    i = MAX_EXPORTERS - 1; /* many exporters: reuse the last slot */
  else if (i == r->ninits)
    r->ninits++;
  r->inits[i].client = x->client;
  r->inits[i].domain = x->domain;
  r->inits[i].init_ms = init_ms;
}

/* One end of the flow's time span from the fields present, in the order
 * of precision. 1 found, 0 none, -1 bad value (*why set). */
static int flow_time(const nfh_json_reader *r, const export_ctx *x,
                     json_t *const *val, int end, uint64_t *ms,
                     const char **why) {
  const json_t *v;
  if ((v = val[end ? F_LAST_LOCAL : F_FIRST_LOCAL])) {
    if (get_local_time(v, ms) != 0)
      return *why = end ? "last" : "first", -1;
    return 1;
  }
  if ((v = val[end ? F_END_MS : F_START_MS])) {
    if (get_time_field(v, 1, ms) != 0)
      return *why = end ? "flowEndMilliseconds" : "flowStartMilliseconds", -1;
    return 1;
  }
  if ((v = val[end ? F_END_NS : F_START_NS]) ||
      (v = val[end ? F_END_US : F_START_US])) {
    if (get_ntp_time(v, ms) != 0)
      return *why = "flowStart/EndMicro/Nanoseconds", -1;
    return 1;
  }
  if ((v = val[end ? F_END_S : F_START_S])) {
    if (get_time_field(v, 1000, ms) != 0)
      return *why = end ? "flowEndSeconds" : "flowStartSeconds", -1;
    return 1;
  }
  if ((v = val[end ? F_END_DELTA : F_START_DELTA])) {
    uint64_t us;
    if (get_uint(v, UINT32_MAX, &us) != 0 || !x->export_ms ||
        us / 1000 > x->export_ms)
      return *why = "flowStart/EndDeltaMicroseconds", -1;
    *ms = x->export_ms - us / 1000;
    return 1;
  }
  if ((v = val[end ? F_END_UP : F_START_UP])) {
    uint64_t up;
    if (get_uint(v, UINT32_MAX, &up) != 0)
      return *why = "flowStart/EndSysUpTime", -1;
    uint64_t init = sys_init_of(r, x);
    if (init) {
      *ms = init + up;
      return 1;
    }
    if (x->has_uptime && x->export_ms) {
      uint32_t delta = (uint32_t)(x->uptime - (uint32_t)up);
      if (delta > x->export_ms)
        return *why = "flowStart/EndSysUpTime", -1;
      *ms = x->export_ms - delta;
      return 1;
    }
    return 0; /* no reference: left to the export time */
  }
  if ((v = val[end ? F_LAST_SW : F_FIRST_SW])) {
    uint64_t sw;
    if (x->has_uptime && x->export_ms && get_uint(v, UINT32_MAX, &sw) == 0) {
      /* Uptime arithmetic wraps at 2^32 ms, as on the exporter. */
      uint32_t delta = (uint32_t)(x->uptime - (uint32_t)sw);
      if (delta > x->export_ms)
        return *why = end ? "LAST_SWITCHED" : "FIRST_SWITCHED", -1;
      *ms = x->export_ms - delta;
      return 1;
    }
    if (get_abs_time(v, ms) != 0)
      return *why = end ? "LAST_SWITCHED" : "FIRST_SWITCHED", -1;
    return 1;
  }
  return 0;
}

/* Converts one flow object. 1 a flow was added, 0 not a flow, -1 bad
 * value (*why names the field), -2 out of memory. */
static int convert_flow(nfh_json_reader *r, const export_ctx *x, json_t *obj,
                        const char **why) {
  json_t *val[F_COUNT];
  memset(val, 0, sizeof(val));
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    field f = lookup(r, key);
    if (f != F_COUNT)
      val[f] = v;
  }
  if (val[F_SYS_INIT] && !val[F_SRC4] && !val[F_SRC6]) {
    uint64_t init;
    if (get_uint(val[F_SYS_INIT], UINT64_MAX / 2, &init) == 0)
      remember_sys_init(r, x, init);
    return 0;
  }
  nfh_flow f;
  memset(&f, 0, sizeof(f));
  nfh_addr a4, a6;
  memset(&a4, 0, sizeof(a4));
  memset(&a6, 0, sizeof(a6));
  for (int dst = 0; dst < 2; dst++) {
    json_t *v4 = val[dst ? F_DST4 : F_SRC4], *v6 = val[dst ? F_DST6 : F_SRC6];
    if (v4 && get_addr(v4, 0, &a4) != 0)
      return *why = dst ? "IPV4_DST_ADDR" : "IPV4_SRC_ADDR", -1;
    if (v6 && get_addr(v6, 1, &a6) != 0)
      return *why = dst ? "IPV6_DST_ADDR" : "IPV6_SRC_ADDR", -1;
    /* Both present: the IPv4 one unless it is all zero (as nfdump). */
    nfh_addr *pick = v4 && (!v6 || !addr_is_zero(&a4)) ? &a4 : v6 ? &a6 : NULL;
    if (!pick)
      return 0; /* no address: options data or another record */
    if (dst)
      f.dst = *pick;
    else
      f.src = *pick;
  }
  uint64_t u;
#define UINT_FIELD(id, max, target, name)                                      \
  do {                                                                         \
    if (val[id]) {                                                             \
      if (get_uint(val[id], (max), &u) != 0)                                   \
        return *why = (name), -1;                                              \
      (target) = u;                                                            \
    }                                                                          \
  } while (0)
  UINT_FIELD(F_SPORT, 65535, f.src_port, "L4_SRC_PORT");
  UINT_FIELD(F_DPORT, 65535, f.dst_port, "L4_DST_PORT");
  UINT_FIELD(F_PROTO, 255, f.proto, "PROTOCOL");
  UINT_FIELD(F_BYTES, UINT64_MAX, f.bytes, "IN_BYTES");
  UINT_FIELD(F_PKTS, UINT64_MAX, f.packets, "IN_PKTS");
  UINT_FIELD(F_OUT_BYTES, UINT64_MAX, f.out_bytes, "OUT_BYTES");
  UINT_FIELD(F_OUT_PKTS, UINT64_MAX, f.out_packets, "OUT_PKTS");
  UINT_FIELD(F_FLOWS, UINT64_MAX, f.aggr_flows, "FLOWS");
  UINT_FIELD(F_TOS, 255, f.tos, "SRC_TOS");
  UINT_FIELD(F_DST_TOS, 255, f.dst_tos, "DST_TOS");
  UINT_FIELD(F_IN_IF, UINT32_MAX, f.input_if, "INPUT_SNMP");
  UINT_FIELD(F_OUT_IF, UINT32_MAX, f.output_if, "OUTPUT_SNMP");
  UINT_FIELD(F_SRC_AS, UINT32_MAX, f.src_as, "SRC_AS");
  UINT_FIELD(F_DST_AS, UINT32_MAX, f.dst_as, "DST_AS");
  UINT_FIELD(F_SRC_MASK, 128, f.src_mask, "SRC_MASK");
  UINT_FIELD(F_DST_MASK, 128, f.dst_mask, "DST_MASK");
  UINT_FIELD(F_SRC_VLAN, UINT32_MAX, f.src_vlan, "SRC_VLAN");
  UINT_FIELD(F_DST_VLAN, UINT32_MAX, f.dst_vlan, "DST_VLAN");
  UINT_FIELD(F_DIRECTION, 255, f.direction, "DIRECTION");
  UINT_FIELD(F_FWD_STATUS, 255, f.fwd_status, "FORWARDING_STATUS");
  UINT_FIELD(F_END_REASON, 255, f.end_reason, "flowEndReason");
  UINT_FIELD(F_BIFLOW_DIR, 255, f.biflow_dir, "biflowDirection");
#undef UINT_FIELD
  if (val[F_TCP_FLAGS]) {
    /* IPFIX tcpControlBits is 16 bits wide; the flags are the low 8. */
    if (get_uint(val[F_TCP_FLAGS], 65535, &u) != 0 &&
        get_flag_text(val[F_TCP_FLAGS], &u) != 0)
      return *why = "TCP_FLAGS", -1;
    f.tcp_flags = (uint8_t)u;
  }
  if (val[F_OUT_BYTES] || val[F_OUT_PKTS])
    f.flags |= NFH_FLOW_HAS_OUT;
  if (!f.aggr_flows)
    f.aggr_flows = 1;
  if (val[F_HOP4] && get_addr(val[F_HOP4], 0, &f.next_hop) != 0)
    return *why = "IPV4_NEXT_HOP", -1;
  if (val[F_HOP6] && get_addr(val[F_HOP6], 1, &f.next_hop) != 0)
    return *why = "IPV6_NEXT_HOP", -1;
  if (val[F_BGP4] && get_addr(val[F_BGP4], 0, &f.bgp_next_hop) != 0)
    return *why = "BGP_IPV4_NEXT_HOP", -1;
  if (val[F_BGP6] && get_addr(val[F_BGP6], 1, &f.bgp_next_hop) != 0)
    return *why = "BGP_IPV6_NEXT_HOP", -1;
  /* An all-zero next hop means none (v5 always carries the field). */
  if (f.next_hop.family && addr_is_zero(&f.next_hop))
    memset(&f.next_hop, 0, sizeof(f.next_hop));
  if (f.bgp_next_hop.family && addr_is_zero(&f.bgp_next_hop))
    memset(&f.bgp_next_hop, 0, sizeof(f.bgp_next_hop));

  /* ICMP: source port 0, destination port type*256+code, as nfdump. */
  if (f.proto == 1 || f.proto == 58) {
    uint64_t type = 0, code = 0;
    int have = 0;
    if (val[F_ICMP_TYPECODE]) {
      if (get_uint(val[F_ICMP_TYPECODE], 65535, &u) != 0)
        return *why = "ICMP_TYPE", -1;
      type = u >> 8;
      code = u & 0xff;
      have = 1;
    } else if (val[F_ICMP_TYPE]) {
      if (get_uint(val[F_ICMP_TYPE], 255, &type) != 0 ||
          (val[F_ICMP_CODE] && get_uint(val[F_ICMP_CODE], 255, &code) != 0))
        return *why = "ICMP type/code", -1;
      have = 1;
    }
    if (!have) {
      /* Exporters without an ICMP field put type/code in the port. */
      type = f.dst_port >> 8;
      code = f.dst_port & 0xff;
    }
    f.icmp_type = (uint8_t)type;
    f.icmp_code = (uint8_t)code;
    f.src_port = 0;
    f.dst_port = (uint16_t)(type << 8 | code);
  }

  /* Sampling: counters as nfcapd would store them, already scaled. */
  uint64_t interval = x->sampling;
  if (val[F_SAMPLING]) {
    if (get_uint(val[F_SAMPLING], UINT32_MAX, &u) != 0)
      return *why = "SAMPLING_INTERVAL", -1;
    interval = u;
  }
  f.sampling = 1;
  /* nfdump's "sampled": nfcapd scaled the counters already; the
   * interval is not in its JSON. */
  if (val[F_SAMPLED]) {
    if (get_uint(val[F_SAMPLED], 1, &u) != 0)
      return *why = "sampled", -1;
    if (u)
      f.flags |= NFH_FLOW_SAMPLED;
  }
  if (interval > 1) {
    f.sampling = (uint32_t)interval;
    f.flags |= NFH_FLOW_SAMPLED;
    f.packets *= interval;
    f.bytes *= interval;
    f.out_packets *= interval;
    f.out_bytes *= interval;
  }

  uint64_t first = 0, last = 0;
  int hf = flow_time(r, x, val, 0, &first, why);
  if (hf < 0)
    return -1;
  int hl = flow_time(r, x, val, 1, &last, why);
  if (hl < 0)
    return -1;
  if (hf && !hl && val[F_DURATION]) {
    if (get_uint(val[F_DURATION], UINT32_MAX, &u) != 0)
      return *why = "flowDurationMilliseconds", -1;
    last = first + u;
    hl = 1;
  }
  if (!hf && !hl) {
    first = last = x->export_ms ? x->export_ms : x->received_ms;
    if (!first)
      return *why = "no time (FIRST_SWITCHED, flowStartMilliseconds...)", -1;
  } else if (!hf) {
    first = last;
  } else if (!hl) {
    last = first;
  }
  /* A firewall's event (NSEL): its kind, and its time, which ends a
   * teardown (nfdump prints its missing end as 1970). */
  if (val[F_FW_EVENT]) {
    if (get_uint(val[F_FW_EVENT], 255, &u) != 0)
      return *why = "event_id", -1;
    f.fw_event = (uint8_t)u;
    f.flags |= NFH_FLOW_EVENT;
  }
  if (val[F_EVENT_TIME_LOCAL]) {
    uint64_t event_ms;
    if (get_local_time(val[F_EVENT_TIME_LOCAL], &event_ms) != 0)
      return *why = "t_event", -1;
    if (event_ms > first && last < event_ms)
      last = event_ms;
  }
  if (last < first)
    last = first;
  f.first_ms = first;
  f.last_ms = last;
  f.received_ms = x->received_ms;
  f.exporter = x->client;
  f.router = x->client;
  f.exporter_id = x->domain;
  if (val[F_ROUTER4] || val[F_ROUTER6]) {
    nfh_addr router;
    if (get_addr(val[F_ROUTER4] ? val[F_ROUTER4] : val[F_ROUTER6],
                 !val[F_ROUTER4], &router) != 0)
      return *why = val[F_ROUTER4] ? "ip4_router" : "ip6_router", -1;
    f.exporter = f.router = router;
  }
  if (val[F_SYSID]) {
    if (get_uint(val[F_SYSID], 65535, &u) != 0)
      return *why = "export_sysid", -1;
    f.exporter_sysid = (uint16_t)u;
  }
  if (val[F_RECEIVED_LOCAL] &&
      get_local_time(val[F_RECEIVED_LOCAL], &f.received_ms) != 0)
    return *why = "received", -1;
  f.nf_version = (uint8_t)(x->version > 0 && x->version < 256 ? x->version : 0);
  if (r->nout == r->out_cap) {
    size_t ncap = r->out_cap ? 2 * r->out_cap : BATCH;
    nfh_flow *grown = nfh__realloc(r->out, ncap * sizeof(nfh_flow));
    if (!grown)
      return -2;
    r->out = grown;
    r->out_cap = ncap;
  }
  r->out[r->nout++] = f;
  return 1;
}

static nfh_status add_flow(nfh_json_reader *r, const export_ctx *x, json_t *obj,
                           uint64_t at) {
  if (!json_is_object(obj)) {
    r->info.nonflows++;
    return NFH_OK;
  }
  const char *why = NULL;
  int rc = convert_flow(r, x, obj, &why);
  if (rc == -2)
    return fail(r, NFH_ENOMEM, at, "out of memory");
  if (rc == 1) {
    r->info.flows++;
  } else if (rc == 0) {
    r->info.nonflows++;
  } else {
    if (!r->info.dropped)
      snprintf(r->warning, sizeof(r->warning),
               "%s: byte %llu%s: flow dropped: bad %s", r->name,
               (unsigned long long)at, r->info.gzip ? " (uncompressed)" : "",
               why);
    r->info.dropped++;
  }
  return NFH_OK;
}

/* The header of an export: times, sampling, exporter. */
static void read_header(const json_t *hdr, export_ctx *x) {
  uint64_t u;
  const json_t *v;
  if (!json_is_object(hdr))
    return;
  if (get_uint(json_object_get(hdr, "version"), 65535, &u) == 0)
    x->version = (int)u;
  if (get_uint(json_object_get(hdr, "uptime"), UINT32_MAX, &u) == 0) {
    x->uptime = (uint32_t)u;
    x->has_uptime = 1;
  }
  if ((v = json_object_get(hdr, "timestamp")) &&
      get_uint(v, UINT32_MAX, &u) == 0) {
    x->export_ms = u * 1000;
    uint64_t ns;
    if (get_uint(json_object_get(hdr, "timestamp_nano"), 999999999, &ns) == 0)
      x->export_ms += ns / 1000000;
  }
  /* IPFIX: python-netflow names the export time "export_uptime". */
  static const char *const export_names[] = {"export_uptime", "export_time",
                                             "exportTime"};
  for (size_t i = 0; i < 3 && !x->export_ms; i++)
    if (get_uint(json_object_get(hdr, export_names[i]), UINT32_MAX, &u) == 0)
      x->export_ms = u * 1000;
  if (x->version == 10)
    x->has_uptime = 0; /* IPFIX has no uptime in its header */
  if (get_uint(json_object_get(hdr, "sampling_interval"), 65535, &u) == 0 &&
      (u & 0x3fff) > 1)
    x->sampling = (uint32_t)(u & 0x3fff);
  static const char *const domain_names[] = {
      "source_id", "obervation_domain_id", "observation_domain_id",
      "obs_domain_id", "engine_id"};
  for (size_t i = 0; i < 5; i++)
    if (get_uint(json_object_get(hdr, domain_names[i]), UINT32_MAX, &u) == 0) {
      x->domain = (uint32_t)u;
      break;
    }
}

/* {"header": ..., "client": [...], "flows": [...]} */
static nfh_status add_export(nfh_json_reader *r, json_t *exp,
                             uint64_t received_ms, uint64_t at) {
  export_ctx x;
  memset(&x, 0, sizeof(x));
  x.received_ms = received_ms;
  read_header(json_object_get(exp, "header"), &x);
  json_t *client = json_object_get(exp, "client");
  if (json_is_array(client))
    client = json_array_get(client, 0);
  if (json_is_string(client))
    nfh_addr_parse(json_string_value(client), &x.client);
  json_t *flows = json_object_get(exp, "flows");
  size_t i;
  json_t *f;
  /* Options data first: the flows of this export may need its
   * systemInitTimeMilliseconds. */
  json_array_foreach(flows, i, f) {
    json_t *init = json_object_get(f, "systemInitTimeMilliseconds");
    uint64_t ms;
    if (init && get_uint(init, UINT64_MAX / 2, &ms) == 0)
      remember_sys_init(r, &x, ms);
  }
  json_array_foreach(flows, i, f) {
    nfh_status st = add_flow(r, &x, f, at);
    if (st != NFH_OK)
      return st;
  }
  return NFH_OK;
}

static int is_export(const json_t *v) {
  return json_is_object(v) && json_is_array(json_object_get(v, "flows"));
}

/* One top-level object or array element. */
static nfh_status add_value(nfh_json_reader *r, json_t *v, uint64_t at) {
  if (!json_is_object(v)) {
    r->info.nonflows++;
    return NFH_OK;
  }
  if (is_export(v))
    return add_export(r, v, 0, at);
  /* python-netflow: {"<unix time>": {"client", "header", "flows"}}. */
  const char *key;
  json_t *member;
  int wrapped = json_object_size(v) > 0;
  json_object_foreach(v, key, member) {
    if (!is_export(member)) {
      wrapped = 0;
      break;
    }
  }
  if (wrapped) {
    json_object_foreach(v, key, member) {
      char *end;
      double ts = strtod(key, &end);
      uint64_t received = end != key && !*end && ts > 0 && ts < 1e11
                              ? (uint64_t)(ts * 1000 + 0.5)
                              : 0;
      nfh_status st = add_export(r, member, received, at);
      if (st != NFH_OK)
        return st;
    }
    return NFH_OK;
  }
  export_ctx none;
  memset(&none, 0, sizeof(none));
  return add_flow(r, &none, v, at);
}

/* Parses the value at buf[start] and consumes it. */
static nfh_status take_value(nfh_json_reader *r) {
  size_t len = 0;
  nfh_status st = scan_value(r, &len);
  if (st != NFH_OK)
    return st;
  uint64_t at = offset(r);
  json_t *v = parse_value(r, len);
  if (!v)
    return r->status;
  r->start += len;
  st = add_value(r, v, at);
  json_decref(v);
  return st;
}

/* Advances the top-level state by one value (or to the end). NFH_OK,
 * NFH_END, or an error. */
static nfh_status step(nfh_json_reader *r) {
  int c = peek(r);
  if (c == -2)
    return r->status;
  switch (r->top) {
  case TOP_DONE:
    return NFH_END;
  case TOP_VALUES:
    if (c == -1) {
      r->top = TOP_DONE;
      return NFH_END;
    }
    if (c == '[') {
      r->array_at = offset(r);
      r->start++;
      r->top = TOP_ARRAY_FIRST;
      return NFH_OK;
    }
    if (c == '{')
      return take_value(r);
    return fail(r, NFH_ESYNTAX, offset(r),
                "expected '[' or '{' (a JSON array or object), not '%c'",
                isprint(c) ? c : '?');
  case TOP_ARRAY_FIRST:
  case TOP_ARRAY_NEXT:
    if (c == -1)
      return fail(r, NFH_ESYNTAX, offset(r),
                  "unexpected end of input in the array opened at byte %llu",
                  (unsigned long long)r->array_at);
    if (c == ']') {
      r->start++;
      r->top = TOP_VALUES;
      return NFH_OK;
    }
    if (r->top == TOP_ARRAY_NEXT) {
      if (c != ',')
        return fail(r, NFH_ESYNTAX, offset(r),
                    "expected ',' or ']' after an array element");
      r->start++;
      c = peek(r);
      if (c == -2)
        return r->status;
      if (c == ']' || c == -1)
        return fail(r, NFH_ESYNTAX, offset(r),
                    c == ']' ? "']' after ','" : "unexpected end of input");
    }
    if (c != '{' && c != '[')
      return fail(r, NFH_ESYNTAX, offset(r),
                  "expected a flow object in the array, not '%c'",
                  isprint(c) ? c : '?');
    r->top = TOP_ARRAY_NEXT;
    return take_value(r);
  }
  return NFH_END;
}

/* ----------------------------------------------------------------- API */

nfh_status nfh_json_reader_create(nfh_json_reader **out) {
  *out = NULL;
  nfh_json_reader *r = nfh__calloc(1, sizeof(*r));
  if (!r)
    return NFH_ENOMEM;
  memcpy(r->names, field_names, sizeof(field_names));
  qsort(r->names, NFIELD_NAMES, sizeof(field_name), compare_names);
  *out = r;
  return NFH_OK;
}

void nfh_json_reader_close(nfh_json_reader *r) {
  if (!r)
    return;
  if (r->gz)
    gzclose(r->gz);
  r->gz = NULL;
  r->mem = NULL;
  r->mem_len = r->mem_pos = 0;
  r->open = 0;
}

void nfh_json_reader_destroy(nfh_json_reader *r) {
  if (!r)
    return;
  nfh_json_reader_close(r);
  nfh__free(r->name);
  nfh__free(r->buf);
  nfh__free(r->bigs);
  nfh__free(r->rewrite);
  nfh__free(r->out);
  nfh__free(r);
}

static nfh_status reset(nfh_json_reader *r, const char *name) {
  nfh_json_reader_close(r);
  nfh__free(r->name);
  r->name = nfh__strdup(name);
  if (!r->name)
    return NFH_ENOMEM;
  r->failed = r->eof = 0;
  r->status = NFH_OK;
  r->start = r->end = 0;
  r->base = 0;
  r->top = TOP_VALUES;
  r->ninits = 0;
  r->nout = 0;
  memset(&r->info, 0, sizeof(r->info));
  r->error[0] = r->warning[0] = '\0';
  return NFH_OK;
}

nfh_status nfh_json_reader_open(nfh_json_reader *r, const char *path) {
  if (reset(r, path) != NFH_OK)
    return NFH_ENOMEM;
  errno = 0;
  r->gz = gzopen(path, "rb");
  if (!r->gz) {
    snprintf(r->error, sizeof(r->error), "%s: %s", path,
             errno ? strerror(errno) : "cannot open");
    return NFH_EIO;
  }
  gzbuffer(r->gz, 128 * 1024);
  r->open = 1;
  return NFH_OK;
}

nfh_status nfh_json_reader_open_buffer(nfh_json_reader *r, const char *name,
                                       const void *data, size_t len) {
  if (reset(r, name) != NFH_OK)
    return NFH_ENOMEM;
  r->mem = data;
  r->mem_len = len;
  r->open = 1;
  return NFH_OK;
}

nfh_status nfh_json_reader_next(nfh_json_reader *r, const nfh_flow **flows,
                                size_t *n) {
  *flows = NULL;
  *n = 0;
  if (r->failed)
    return r->status;
  if (!r->open)
    return NFH_END;
  r->nout = 0;
  nfh_status st = NFH_OK;
  while (r->nout < BATCH && (st = step(r)) == NFH_OK)
    ;
  r->info.bytes = offset(r);
  /* After a failure the flows converted before it are returned first;
   * the next call reports the failure (r->failed is set). */
  if (st != NFH_OK && st != NFH_END && !r->nout)
    return st;
  if (r->nout) {
    *flows = r->out;
    *n = r->nout;
    return NFH_OK;
  }
  return NFH_END;
}

const char *nfh_json_reader_error(const nfh_json_reader *r) { return r->error; }

const char *nfh_json_reader_warning(const nfh_json_reader *r) {
  return r->warning;
}

const nfh_json_info *nfh_json_reader_info(const nfh_json_reader *r) {
  return &r->info;
}
