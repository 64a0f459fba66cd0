/* portscan.c - the port_scan detector: settings, classifying each
 * connection's outcome, state; see portscan.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nfhunt/plugin.h>

#include "findings.h"
#include "portscan.h"
#include "track.h"

#define TCP 6
#define UDP 17
#define ICMP 1
#define ICMP6 58

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_ECE 0x40
#define TH_CWR 0x80

/* A failed handshake is SYN retransmissions only, each without payload:
 * 20 bytes of IPv4 or 40 of IPv6, 20 of TCP, up to 40 of options. Two
 * or more packets averaging more carried data. */
#define SYN_BYTES_MAX 100

/* A UDP probe: IP and UDP headers and at most nmap's largest protocol
 * payload. Unanswered datagrams averaging more carry data. */
#define UDP_PROBE_BYTES_MAX 400

/* Sources and targets quiet this long that never failed are forgotten
 * by the hourly sweep. */
#define SWEEP_IDLE_S 3600

/* The traceroute(8) default UDP port range (base 33434, up to 30 hops of
 * 3 probes plus some): its probes go unanswered by design. */
#define TRACEROUTE_FIRST 33434
#define TRACEROUTE_LAST 33534

typedef struct ctx {
  const nfh_host_api *api;
  ps_config cfg;
  ps_store *store;
  ps_run run;
  uint64_t conns, contacts, unreachables;
  uint64_t swept_hour; /* data hour of the last sweep */
  int failed_memory; /* logged once */
} ctx;

/* ------------------------------------------------------------ settings */

void nfh__ps_config_default(ps_config *c) {
  memset(c, 0, sizeof(*c));
  c->theta0 = 0.8;
  c->theta1 = 0.2;
  c->pd = 0.99;
  c->pf = 0.01;
  c->min_hosts = 10;
  c->min_ports = 10;
  c->min_fail_ratio = 0.5;
  c->strong_fail_ratio = 0.8;
  c->dist_min_sources = 5;
  c->dist_min_hosts = 20;
  c->dist_min_src_hosts = 3;
  c->dist_window_s = 3600;
  c->repeat_min_attempts = 100;
  c->repeat_min_rate = 1.0;
  /* Three days: at one, a scan of 8 hosts a day was found by a run
   * over the three days and never by hourly runs. */
  c->slow_window_s = 3 * 86400;
  c->max_sources = 200000;
  c->max_entries = 1000000;
  c->exact_targets = 1024;
  c->state_max_sources = 20000;
  c->state_max_entries = 1000000;
  c->hll_precision = 10;
  c->oneway_reply_share = 0.1;
  c->oneway_min_conns = 20;
  c->edge_max_severity = NFH_SEV_MEDIUM;
  c->min_severity = NFH_SEV_INFO;
  c->edge_max_findings = 10;
}

/* A duration: seconds, or with a suffix s, m, h, d. */
static int parse_duration(const char *v, uint32_t *out) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (end == v || errno || d < 0)
    return -1;
  double unit = 1;
  if (*end == 's')
    end++;
  else if (*end == 'm')
    unit = 60, end++;
  else if (*end == 'h')
    unit = 3600, end++;
  else if (*end == 'd')
    unit = 86400, end++;
  if (*end || d * unit > 366.0 * 86400)
    return -1;
  *out = (uint32_t)llround(d * unit);
  return 0;
}

static int parse_u64(const char *v, uint64_t lo, uint64_t hi, uint64_t *out) {
  char *end;
  errno = 0;
  if (*v == '-')
    return -1;
  unsigned long long x = strtoull(v, &end, 10);
  if (end == v || *end || errno || x < lo || x > hi)
    return -1;
  *out = x;
  return 0;
}

static int parse_double(const char *v, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || *end || errno || !(x >= lo && x <= hi))
    return -1;
  *out = x;
  return 0;
}

typedef enum kind { K_U32, K_U64, K_RATIO, K_RATE, K_DURATION } kind;

typedef struct param {
  const char *key;
  kind k;
  size_t offset;
  uint64_t lo, hi; /* integers */
} param;

#define P(key, k, field, lo, hi) {key, k, offsetof(ps_config, field), lo, hi}

static const param params[] = {
    P("theta0", K_RATIO, theta0, 0, 0),
    P("theta1", K_RATIO, theta1, 0, 0),
    P("pd", K_RATIO, pd, 0, 0),
    P("pf", K_RATIO, pf, 0, 0),
    P("min_hosts", K_U32, min_hosts, 2, 1000000),
    P("min_ports", K_U32, min_ports, 2, 131072),
    P("min_fail_ratio", K_RATIO, min_fail_ratio, 0, 0),
    P("strong_fail_ratio", K_RATIO, strong_fail_ratio, 0, 0),
    P("dist_min_sources", K_U32, dist_min_sources, 2, 1000000),
    P("dist_min_hosts", K_U32, dist_min_hosts, 2, 100000000),
    P("dist_min_src_hosts", K_U32, dist_min_src_hosts, 1, 1000000),
    P("dist_window", K_DURATION, dist_window_s, 0, 0),
    P("repeat_min_attempts", K_U32, repeat_min_attempts, 2, 1000000000),
    P("repeat_min_rate", K_RATE, repeat_min_rate, 0, 0),
    P("slow_window", K_DURATION, slow_window_s, 0, 0),
    P("max_sources", K_U32, max_sources, 16, 100000000),
    P("max_entries", K_U64, max_entries, 1024, 4000000000ull),
    P("exact_targets", K_U32, exact_targets, 16, 1000000),
    P("state_max_sources", K_U32, state_max_sources, 0, 100000000),
    P("state_max_entries", K_U64, state_max_entries, 0, 4000000000ull),
    P("hll_precision", K_U32, hll_precision, NFH_HLL_MIN_PRECISION,
      NFH_HLL_MAX_PRECISION),
    P("oneway_reply_share", K_RATIO, oneway_reply_share, 0, 0),
    P("oneway_min_conns", K_U32, oneway_min_conns, 1, 100000000),
    P("edge_max_findings", K_U32, edge_max_findings, 0, 100000),
};

int nfh__ps_config_parse(ps_config *cfg, const nfh_plugin_setting *settings,
                         size_t n, char *err, size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    const char *k = settings[i].key, *v = settings[i].value;
    if (!k || !v) {
      snprintf(err, errlen, "a setting without key or value");
      return -1;
    }
    if (strcmp(k, "edge_max_severity") == 0 ||
        strcmp(k, "min_severity") == 0) {
      if (nfh_severity_parse(v, k[0] == 'e' ? &cfg->edge_max_severity
                                            : &cfg->min_severity) != 0) {
        snprintf(err, errlen,
                 "%s: '%s' is not info, low, medium, high or critical", k,
                 v);
        return -1;
      }
      continue;
    }
    const param *p = NULL;
    for (size_t j = 0; j < sizeof(params) / sizeof(params[0]); j++)
      if (strcmp(params[j].key, k) == 0)
        p = &params[j];
    if (!p) {
      snprintf(err, errlen,
               "unknown parameter '%s' (see nfhunt-portscan(7) for the "
               "list)",
               k);
      return -1;
    }
    void *field = (char *)cfg + p->offset;
    int bad = 0;
    uint64_t u;
    switch (p->k) {
    case K_U32:
      bad = parse_u64(v, p->lo, p->hi, &u) != 0;
      if (!bad)
        *(uint32_t *)field = (uint32_t)u;
      break;
    case K_U64:
      bad = parse_u64(v, p->lo, p->hi, &u) != 0;
      if (!bad)
        *(uint64_t *)field = u;
      break;
    case K_RATIO:
      bad = parse_double(v, 0, 1, (double *)field) != 0;
      break;
    case K_RATE:
      bad = parse_double(v, 0, 1e9, (double *)field) != 0;
      break;
    case K_DURATION:
      bad = parse_duration(v, (uint32_t *)field) != 0;
      break;
    }
    if (bad) {
      /* The valid values, so that the fix needs no page. */
      switch (p->k) {
      case K_U32:
      case K_U64:
        snprintf(err, errlen, "bad value '%s' for %s: an integer from "
                 "%llu to %llu", v, k, (unsigned long long)p->lo,
                 (unsigned long long)p->hi);
        break;
      case K_RATIO:
        snprintf(err, errlen, "bad value '%s' for %s: a number from 0 to 1",
                 v, k);
        break;
      case K_RATE:
        snprintf(err, errlen, "bad value '%s' for %s: a number from 0 to "
                 "1e9", v, k);
        break;
      case K_DURATION:
        snprintf(err, errlen, "bad value '%s' for %s: a duration (300, 5m, "
                 "2h, 1d) up to 366 days", v, k);
        break;
      }
      return -1;
    }
  }
  /* The test needs a scanner to succeed less often than a benign host,
   * and a detection target above the false positive target. */
  if (!(cfg->theta1 > 0 && cfg->theta1 < cfg->theta0 && cfg->theta0 < 1)) {
    snprintf(err, errlen, "need 0 < theta1 < theta0 < 1 (have %g, %g)",
             cfg->theta1, cfg->theta0);
    return -1;
  }
  if (!(cfg->pf > 0 && cfg->pf < cfg->pd && cfg->pd < 1)) {
    snprintf(err, errlen, "need 0 < pf < pd < 1 (have %g, %g)", cfg->pf,
             cfg->pd);
    return -1;
  }
  if (cfg->min_fail_ratio > cfg->strong_fail_ratio) {
    snprintf(err, errlen, "min_fail_ratio %g exceeds strong_fail_ratio %g",
             cfg->min_fail_ratio, cfg->strong_fail_ratio);
    return -1;
  }
  if (cfg->dist_window_s == 0 || cfg->slow_window_s == 0) {
    snprintf(err, errlen, "dist_window and slow_window must be positive");
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------ classification */

static int is_multicast_or_broadcast(const nfh_addr *a) {
  if (a->family == 4) {
    uint32_t v = nfh_addr_v4(a);
    return (v >> 28) == 0xe || v == 0xffffffffu || v == 0 ||
           (v >> 24) == 127;
  }
  static const uint8_t loopback6[16] = {[15] = 1};
  return a->bytes[0] == 0xff || memcmp(a->bytes, loopback6, 16) == 0;
}

/* The weight of a sampled contact's TRW step. 1-in-N packet sampling
 * drops most single-packet probes and most replies, and a lone sampled
 * SYN may belong to a session whose other packets went unsampled: each
 * contact says less, so more are needed for the same verdict. */
static double sampling_weight(uint32_t n) {
  return n > 1 ? 1.0 / (1.0 + log((double)n)) : 1.0;
}

/* Whether a TCP client evidently had a session, which the far end must
 * have answered: it ACKed and sent more, or sent several payload-sized
 * packets (for exporters whose flags are one packet's). */
static int is_session(const nfh_conn *c) {
  uint64_t samp = c->sampling > 1 ? c->sampling : 1;
  /* Three packets at least: a SYN and one bare ACK is a probe's trick
   * (classify_tcp), not a session. */
  return ((c->client_flags & TH_ACK) &&
          (c->client_packets >= 3 || samp > 1)) ||
         (c->client_packets / samp >= 3 &&
          c->client_bytes > SYN_BYTES_MAX * c->client_packets);
}

/* The outcome of a contact that only the answer tells: answered, denied
 * by a firewall (its event says so: strong), or silent (weak evidence). */
static void by_answer(const nfh_conn *c, ps_contact *o) {
  if (c->flags & NFH_CONN_REPLY) {
    o->cls = PS_SUCC;
    o->reasons = 0;
  } else if (c->flags & NFH_CONN_DENIED) {
    o->cls = PS_STRONG;
    o->reasons = PS_R_DENIED;
  } else {
    o->cls = PS_WEAK;
    o->reasons = PS_R_NOREPLY;
  }
}

/* Classifies a TCP connection. Returns 0 and fills cls and reasons, or
 * -1 when the record says nothing about a contact's outcome. */
static int classify_tcp(const nfh_conn *c, ps_contact *o) {
  uint8_t cf = c->client_flags, sf = c->server_flags;
  int reply = (c->flags & NFH_CONN_REPLY) != 0;
  /* No flags exported (some v9/IPFIX templates, sFlow, a firewall's
   * events), or a firewall denied it unanswered: only the answer tells. */
  if ((cf | sf) == 0 || ((c->flags & NFH_CONN_DENIED) && !reply)) {
    by_answer(c, o);
    return 0;
  }
  uint64_t samp = c->sampling > 1 ? c->sampling : 1;
  /* A SYN-ACK answered by the client's reset alone, without an ACK or
   * data: the half-open (SYN) scan of nmap -sS and masscan, which learns
   * that the port is open and drops it. A client connects (it ACKs) or
   * never sees the answer; this one probed. Counted against it as a
   * failure is in TRW: a workstation sweeping SSH over a /24 where half
   * the hosts listen was nothing (the open half read as connections).
   * Towards home hosts only: out on the Internet, browsers leave such
   * handshakes by the hundred (Happy Eyeballs resets the address family
   * that lost the race, preconnects are cancelled, a client gives up
   * before a slow answer), and a dual-stack laptop read as a scan of
   * 160 web sites. */
  if ((c->flags & NFH_CONN_SERVER_HOME) &&
      (sf & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && (cf & TH_SYN) &&
      (cf & TH_RST) && !(cf & TH_ACK) && samp == 1 && c->client_packets <= 3 &&
      c->client_bytes <= SYN_BYTES_MAX * c->client_packets) {
    o->cls = PS_STRONG;
    o->reasons = PS_R_HALFOPEN;
    return 0;
  }
  if ((sf & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) ||
      (c->flags & NFH_CONN_ESTABLISHED)) {
    o->cls = PS_SUCC; /* SYN-ACK: the port is open */
    return 0;
  }
  if (cf & TH_SYN) {
    /* A SYN and one bare ACK, no data, no answer: a probe that sets the
     * ACK bit to pass for a session. Every probe of a sweep of 200
     * hosts did, silent or refused, and the sweep was nothing. A real
     * client that ACKs goes on: it sends data or a FIN. (Sampled
     * records are one packet in N: there the ACK still counts.) */
    int bare = samp == 1 && c->client_packets <= 2 &&
               c->client_bytes <= SYN_BYTES_MAX * c->client_packets;
    if ((cf & TH_ACK) && !bare) {
      /* The client acknowledged something after its SYN: a SYN-ACK
       * came back even if this exporter did not see it. */
      o->cls = PS_SUCC;
    } else if (sf & TH_RST) {
      o->cls = PS_STRONG;
      o->reasons = PS_R_RST;
    } else if (reply && sf == 0 && samp == 1 &&
               (cf & ~(TH_ECE | TH_CWR)) == TH_SYN) {
      /* An answer whose flags were not kept (nfcapd keeps one side's of
       * a biflow record), to a client that sent nothing after its SYN:
       * a SYN-ACK draws an ACK from a client or a RST from a scanner's
       * kernel. It was refused. */
      o->cls = PS_STRONG;
      o->reasons = PS_R_RST;
    } else if (reply) {
      o->cls = PS_SUCC; /* answered, by something other than a reset */
    } else if (cf & TH_ACK) {
      o->cls = PS_STRONG; /* the bare probe above, unanswered */
      o->reasons = PS_R_NOREPLY | PS_R_ODD;
    } else if (c->client_packets / samp >= 2 &&
               c->client_bytes > SYN_BYTES_MAX * c->client_packets) {
      /* SYNs carry no data: data flowed, and the record's flags are
       * one packet's. */
      o->cls = PS_SUCC;
    } else {
      o->cls = PS_STRONG;
      o->reasons = PS_R_NOREPLY | PS_R_SYNONLY;
    }
    return 0;
  }
  /* A probe of a packet or two, answered by nothing but a reset: the far
   * end had no such session. nmap's ACK, window and FIN/ACK (Maimon)
   * scans probe every port so, its Null scan with no flag at all; a
   * stale session's client meets it once. Read as the client's data
   * answered, 500 ports of one host refused this way were nothing. */
  if (!(cf & TH_SYN) && (sf & TH_RST) && !(sf & ~(TH_RST | TH_ACK)) &&
      samp == 1 && c->client_packets <= 2 &&
      c->client_bytes <= SYN_BYTES_MAX * c->client_packets) {
    o->cls = PS_STRONG;
    o->reasons = PS_R_RST | PS_R_ODD;
    return 0;
  }
  if (cf & TH_ACK) {
    /* No SYN: a session whose start lies in another record or run. Its
     * data flowing is a success; a lone ACK says nothing. */
    if (c->client_packets >= 2 || (cf & TH_PSH) || reply) {
      o->cls = PS_SUCC;
      return 0;
    }
    return -1;
  }
  if ((cf & ~TH_RST) && c->client_packets <= 3) {
    /* FIN, FIN-PSH-URG (Xmas) and the like without SYN or ACK: no
     * stack sends these, scanners do (nmap -sF/-sX). */
    o->cls = PS_STRONG;
    o->reasons = PS_R_ODD;
    return 0;
  }
  return -1;
}

/* Whether c is a reset alone: from the server's port, a packet or two
 * with RST (and ACK) only, no data, and nothing of the client. Through a
 * sampling exporter: a sampler keeps one packet in N of each
 * direction, not both halves of one exchange: a vertical scan of 500
 * ports at 1:10 leaves some 50 probes without their refusals and some
 * 50 refusals without their probes. Read as the answer to a probe that
 * was sampled away, the refusals are the other half of the evidence
 * (nmap's Null and ACK scans, whose probes a sampler makes look like
 * sessions, have only them). Unsampled, they count where the exporter
 * shows no replies (answers_only): one that exports only the inside's
 * records (ingress on the inside interface) shows an outside scanner by
 * the resets our hosts send back, nothing else, and left out they hid a
 * vertical scan of 913 ports and a sweep of 132 SSH hosts entirely.
 * Where it shows both directions, a reset alone is a session's late
 * reset (a load balancer's idle timeout, after the session's records
 * were done): a proxy's pooled connections reset by 300 servers in the
 * run after they were opened read as a high sweep of tcp/443. */
static int refused_unseen(const nfh_conn *c, int unsampled_too) {
  uint64_t samp = c->sampling > 1 ? c->sampling : 1;
  uint8_t sf = c->server_flags;
  return c->proto == TCP && c->client_packets == 0 && (sf & TH_RST) &&
         (samp > 1 || (c->flags & NFH_CONN_SAMPLED) || unsampled_too) &&
         !(sf & ~(TH_RST | TH_ACK)) && c->server_packets <= 2 * samp &&
         c->server_bytes <= SYN_BYTES_MAX * c->server_packets;
}

/* The source a contact counts for: its address, or an outside IPv6
 * client's /64. A scanner that takes a new address of its /64 for every
 * probe (the prefix routed to it is its to use) was, address by address,
 * hundreds of strangers that each tried once: nothing. A site's own /64s
 * hold many hosts, and are not merged. */
static nfh_addr source_of(const nfh_conn *c) {
  /* NAT64 clients (64:ff9b::/96) are IPv4 hosts, each its own. */
  if (c->client.family == 6 && !(c->flags & NFH_CONN_CLIENT_HOME) &&
      !nfh_addr_nat64(&c->client, NULL))
    return nfh_addr_network(&c->client, 64);
  return c->client;
}

/* Fills a contact from a connection. Returns 0, or -1 for connections
 * that are no contact by a client (only the answer seen, unless a
 * refusal alone counts: refused_unseen; multicast, traceroute, other
 * ICMP). */
static int classify(const nfh_conn *c, ps_contact *o, int answers_only) {
  memset(o, 0, sizeof(*o));
  int lone_refusal = refused_unseen(c, answers_only);
  /* A firewall's event records (NSEL) count bytes, not packets, and a
   * denied attempt neither: each is a contact all the same. */
  int client_sent = c->client_packets || c->client_bytes ||
                    (c->flags & NFH_CONN_DENIED);
  if ((!client_sent && !lone_refusal) ||
      is_multicast_or_broadcast(&c->server) ||
      nfh_addr_compare(&c->client, &c->server) == 0)
    return -1;
  int reply = (c->flags & NFH_CONN_REPLY) != 0;
  switch (c->proto) {
  case TCP:
    if (lone_refusal) {
      o->cls = PS_STRONG;
      o->reasons = PS_R_RST;
      if (c->sampling <= 1 && !(c->flags & NFH_CONN_SAMPLED))
        o->reasons |= PS_R_UNSEEN;
    } else if (classify_tcp(c, o) != 0) {
      return -1;
    }
    o->ack_conn = is_session(c);
    o->replied = reply;
    break;
  case UDP:
    if (c->server_port >= TRACEROUTE_FIRST &&
        c->server_port <= TRACEROUTE_LAST)
      return -1;
    /* Probes are small (nmap's UDP payloads stay well under 400 bytes, most
     * are empty); an unanswered datagram of full size carries data: a
     * flood to random ports, not a vertical scan. */
    if (!reply && c->client_packets &&
        c->client_bytes > UDP_PROBE_BYTES_MAX * c->client_packets)
      return -1;
    by_answer(c, o);
    break;
  case ICMP:
  case ICMP6:
    /* Echo requests: a ping sweep is a horizontal scan. */
    if (c->server_port != (c->proto == ICMP ? 0x0800 : 0x8000))
      return -1;
    by_answer(c, o);
    break;
  default:
    return -1;
  }
  o->src = source_of(c);
  o->dst = c->server;
  o->src_home = (c->flags & NFH_CONN_CLIENT_HOME) != 0;
  o->dst_home = (c->flags & NFH_CONN_SERVER_HOME) != 0;
  o->proto = c->proto;
  o->port = c->proto == ICMP || c->proto == ICMP6 ? PS_PORT_ECHO
                                                   : c->server_port;
  o->first_s = (uint32_t)(c->first_ms / 1000);
  o->last_s = (uint32_t)(c->last_ms / 1000);
  if (o->last_s < o->first_s)
    o->last_s = o->first_s;
  o->sampling = c->sampling > 1 ? c->sampling : 1;
  o->weight = sampling_weight(o->sampling);
  return 0;
}

/* An ICMP destination unreachable addressed to a prober (the engine
 * makes it a connection of its own: client = prober, server = sender). */
static int is_unreachable(const nfh_conn *c) {
  unsigned type = c->server_port >> 8;
  return c->client_packets == 0 && c->server_packets > 0 &&
         ((c->proto == ICMP && type == 3) || (c->proto == ICMP6 && type == 1));
}

/* Whether the code says the probed host itself answered: port or
 * protocol unreachable. Routers and firewalls send the others. */
static int unreachable_from_target(const nfh_conn *c) {
  unsigned code = c->server_port & 0xff;
  return c->proto == ICMP ? code == 2 || code == 3 : code == 4;
}

/* ------------------------------------------------------------ callbacks */

static void *ps_create(const nfh_host_api *api,
                       const nfh_plugin_setting *settings, size_t n,
                       const char **error) {
  /* The message must outlive this call and ctx, which is freed on
   * failure: a per-thread buffer is the only place the ABI leaves. */
  static _Thread_local char message[256];
  ps_config cfg;
  nfh__ps_config_default(&cfg);
  if (nfh__ps_config_parse(&cfg, settings, n, message, sizeof(message)) !=
      0) {
    *error = message;
    return NULL;
  }
  ctx *x = calloc(1, sizeof(*x));
  if (!x) {
    *error = "out of memory";
    return NULL;
  }
  x->api = api;
  x->cfg = cfg;
  ps_params p;
  memset(&p, 0, sizeof(p));
  p.step_succ = log(cfg.theta1 / cfg.theta0);
  p.step_fail = log((1 - cfg.theta1) / (1 - cfg.theta0));
  p.log_eta1 = log(cfg.pd / cfg.pf);
  p.log_eta0 = log((1 - cfg.pd) / (1 - cfg.pf));
  p.max_targets = cfg.exact_targets;
  p.max_services = cfg.exact_targets * 4;
  p.max_sketches = 16;
  p.hll_precision = cfg.hll_precision;
  p.max_sources = cfg.max_sources;
  p.max_entries = cfg.max_entries;
  x->store = nfh__ps_store_create(&p);
  if (!x->store) {
    free(x);
    *error = "out of memory";
    return NULL;
  }
  return x;
}

static void out_of_memory(ctx *x) {
  if (!x->failed_memory)
    x->api->log(x->api->host, NFH_LOG_WARNING,
                "out of memory: some contacts were not recorded");
  x->failed_memory = 1;
}

/* Starts loading the first and the last line of the len bytes at p
 * (all of them for a connection). */
static inline void prefetch_span(const void *p, size_t len) {
  __builtin_prefetch(p, 0, 3);
  __builtin_prefetch((const char *)p + len - 1, 0, 3);
}

/* The run's tallies of one connection (their order does not matter). */
static void tally(ctx *x, const nfh_conn *c) {
  x->conns++;
  if (c->server_port == 53 && (c->proto == UDP || c->proto == TCP) &&
      (c->flags & NFH_CONN_CLIENT_HOME) && (c->flags & NFH_CONN_SERVER_HOME))
    nfh__resolvers_saw(&x->run.resolvers, &c->server, &c->client);
  /* Marked sampled with no interval (nfdump's JSON; files nfhunt found
   * packet-sampled without an announcement): most answers are lost. */
  if ((c->flags & NFH_CONN_SAMPLED) && c->sampling <= 1)
    x->run.unknown_sampled++;
  uint32_t first_s = (uint32_t)(c->first_ms / 1000);
  if (!x->run.run_start_s || first_s < x->run.run_start_s)
    x->run.run_start_s = first_s;
  if (c->proto != TCP)
    return;
  if (is_session(c)) {
    x->run.expect_reply++;
    x->run.replied += (c->flags & NFH_CONN_REPLY) != 0;
  }
  if (c->client_flags &&
      c->client_packets / (c->sampling > 1 ? c->sampling : 1) > 4 &&
      c->client_bytes > SYN_BYTES_MAX * c->client_packets) {
    /* A client that sent this much data has ACKed: without any ACK
     * flag, the exporter keeps one packet's flags, not the flow's.
     * (Payload-sized only: a SYN flood sends many bare SYNs.) */
    x->run.long_tcp++;
    x->run.long_tcp_noack += !(c->client_flags & TH_ACK);
  }
}

/* Whether the exporter shows no replies, as far as the run has shown
 * (ps_finish applies it to the whole run): established sessions enough
 * to tell, and almost none with a reply. */
static int answers_only(const ctx *x) {
  return x->run.expect_reply >= x->cfg.oneway_min_conns &&
         (double)x->run.replied <
             x->cfg.oneway_reply_share * (double)x->run.expect_reply;
}

static void record_unreachable(ctx *x, const nfh_conn *c) {
  x->unreachables++;
  uint32_t samp = c->sampling > 1 ? c->sampling : 1;
  /* Counters of sampled records are already scaled up. */
  uint64_t count = c->server_packets / samp;
  if (!count)
    count = 1;
  nfh_addr prober = source_of(c);
  if (nfh__ps_store_unreachable(
          x->store, &prober, (c->flags & NFH_CONN_CLIENT_HOME) != 0, &c->server,
          (c->flags & NFH_CONN_SERVER_HOME) != 0, unreachable_from_target(c),
          count > UINT32_MAX ? UINT32_MAX : (uint32_t)count,
          (uint32_t)(c->first_ms / 1000), sampling_weight(samp)) != 0)
    out_of_memory(x);
}

/* Connections go to the store in groups: classified first, then the
 * group's contacts prefetched together (nfh__ps_store_prefetch), then
 * recorded in their order, unreachables in their place among them. */
static int ps_on_conns(void *arg, const nfh_conn *conns, size_t n) {
  ctx *x = arg;
  ps_contact cs[PS_PREFETCH_MAX];
  const nfh_conn *unreach[PS_PREFETCH_MAX];
  uint16_t at[PS_PREFETCH_MAX]; /* contacts recorded before unreach[k] */
  for (size_t base = 0; base < n;) {
    size_t m = n - base < PS_PREFETCH_MAX ? n - base : PS_PREFETCH_MAX;
    size_t nc = 0, nu = 0;
    for (size_t i = base; i < base + m; i++) {
      const nfh_conn *c = &conns[i];
      if (i + 24 < n)
        prefetch_span(&conns[i + 24], sizeof(nfh_conn));
      tally(x, c);
      if ((c->proto == ICMP || c->proto == ICMP6) && is_unreachable(c)) {
        at[nu] = (uint16_t)nc;
        unreach[nu++] = c;
      } else if (classify(c, &cs[nc], answers_only(x)) == 0) {
        nc++;
      }
    }
    base += m;
    nfh__ps_store_prefetch(x->store, cs, nc);
    size_t k = 0;
    for (size_t j = 0; j <= nc; j++) {
      while (k < nu && at[k] == j)
        record_unreachable(x, unreach[k++]);
      if (j == nc)
        break;
      x->contacts++;
      if (nfh__ps_store_contact(x->store, &cs[j]) != 0)
        out_of_memory(x);
    }
  }
  return 0;
}

#define ONE_FAIL_IDLE_S (6 * 3600u)

/* Once an hour of data time, forget what can no longer matter (see
 * nfh__ps_store_sweep). */
static int ps_on_slot_end(void *arg, uint64_t slot_end_ms) {
  ctx *x = arg;
  uint64_t hour = slot_end_ms / 3600000;
  if (hour != x->swept_hour) {
    /* Sources that failed once: gone after a quarter of slow_window,
     * at most ONE_FAIL_IDLE_S: the Internet's background is millions
     * of them, and a longer window must not keep them all. */
    uint32_t once = x->cfg.slow_window_s / 4;
    if (once > ONE_FAIL_IDLE_S)
      once = ONE_FAIL_IDLE_S;
    if (x->swept_hour)
      nfh__ps_store_sweep(x->store, (uint32_t)(slot_end_ms / 1000),
                          SWEEP_IDLE_S, once);
    x->swept_hour = hour;
  }
  return 0;
}

/* The latest data second in the store: the state's clock. */
static uint32_t data_end_s(const ctx *x) {
  uint64_t end = x->api->window_end_ms(x->api->host) / 1000;
  size_t n;
  ps_source *const *src = nfh__ps_store_sources(x->store, &n);
  for (size_t i = 0; i < n; i++)
    if (src[i]->last_s > end)
      end = src[i]->last_s;
  return end > UINT32_MAX ? UINT32_MAX : (uint32_t)end;
}

static int ps_finish(void *arg) {
  ctx *x = arg;
  ps_run *r = &x->run;
  r->one_way = answers_only(x);
  r->sampled_unknown = 2 * r->unknown_sampled > x->conns;
  if (r->sampled_unknown)
    x->api->log(x->api->host, NFH_LOG_INFO,
                "%llu of %llu connections are sampled at an unknown "
                "interval: silence is not counted as failure",
                (unsigned long long)r->unknown_sampled,
                (unsigned long long)x->conns);
  if (r->one_way)
    x->api->log(x->api->host, NFH_LOG_INFO,
                "%llu of %llu established TCP connections show a reply: "
                "the exporter sees one direction only; judging by TCP "
                "flags, with lower confidence",
                (unsigned long long)r->replied,
                (unsigned long long)r->expect_reply);
  size_t nsrc;
  nfh__ps_store_sources(x->store, &nsrc);
  x->api->log(x->api->host, NFH_LOG_INFO,
              "%llu connections, %llu contacts, %llu unreachables; %zu "
              "sources, %llu targets and services tracked",
              (unsigned long long)x->conns, (unsigned long long)x->contacts,
              (unsigned long long)x->unreachables, nsrc,
              (unsigned long long)nfh__ps_store_entries(x->store));
  r->flags_per_packet =
      r->long_tcp >= 20 && r->long_tcp_noack * 5 >= r->long_tcp;
  if (r->flags_per_packet) {
    x->api->log(x->api->host, NFH_LOG_INFO,
                "%llu of %llu TCP clients that sent more than 4 packets "
                "show no ACK: the exporter's TCP flags are one packet's, "
                "not the flow's; a SYN alone is no evidence of failure",
                (unsigned long long)r->long_tcp_noack,
                (unsigned long long)r->long_tcp);
    nfh__ps_store_demote_synonly(x->store);
  }
  uint64_t ev = nfh__ps_store_evictions(x->store);
  if (ev)
    x->api->log(x->api->host, NFH_LOG_INFO,
                "%llu least suspicious sources evicted to stay within "
                "max_sources/max_entries",
                (unsigned long long)ev);
  r->end_s = data_end_s(x);
  ps_edge_seen *reported;
  size_t nreported;
  int rc = nfh__ps_report(x->api, &x->cfg, x->store, r, &reported, &nreported);
  for (size_t i = 0; rc == 0 && i < nreported; i++)
    if (nfh__ps_store_note_edge(x->store, reported[i].hash, reported[i].at_s) !=
        0) {
      x->api->log(x->api->host, NFH_LOG_ERROR,
                  "out of memory noting reported scanners");
      rc = -1;
    }
  free(reported);
  return rc;
}

static int ps_state_save(void *arg, void **data, size_t *len) {
  ctx *x = arg;
  uint32_t end = data_end_s(x);
  uint32_t horizon = end > x->cfg.slow_window_s ? end - x->cfg.slow_window_s
                                                : 0;
  if (nfh__ps_store_save(x->store, horizon, x->cfg.state_max_sources,
                         x->cfg.state_max_entries, data, len) != 0) {
    x->api->log(x->api->host, NFH_LOG_ERROR,
                "out of memory while saving the state");
    return -1;
  }
  return 0;
}

static int ps_state_load(void *arg, const void *data, size_t len) {
  ctx *x = arg;
  /* The horizon is applied again at save time against the new data;
   * here everything younger than the window before "now" (the newest
   * evidence in the blob decides) is worth loading. */
  int rc = nfh__ps_store_load(x->store, data, len, 0);
  if (rc == 1) {
    x->api->log(x->api->host, NFH_LOG_INFO,
                "saved state of another format version ignored");
    return 0;
  }
  if (rc != 0) {
    x->api->log(x->api->host, NFH_LOG_WARNING,
                "saved state damaged or too large; starting afresh");
    /* Said here in its own words: the host's line would be a second. */
    return 0;
  }
  return 0;
}

static void ps_destroy(void *arg) {
  ctx *x = arg;
  if (!x)
    return;
  nfh__ps_store_destroy(x->store);
  free(x);
}

static const nfh_plugin_descriptor descriptor = {
    .abi_version = NFH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nfh_plugin_descriptor),
    .name = "port_scan",
    .version = "1.0",
    .description = "horizontal, vertical, slow and distributed port scans "
                   "(failed contacts, TRW)",
    .wants = NFH_WANTS_CONNS,
    .create = ps_create,
    .on_conns = ps_on_conns,
    .on_slot_end = ps_on_slot_end,
    .finish = ps_finish,
    .state_load = ps_state_load,
    .state_save = ps_state_save,
    .destroy = ps_destroy,
};

const nfh_plugin_descriptor *nfh_plugin_entry(void) { return &descriptor; }
