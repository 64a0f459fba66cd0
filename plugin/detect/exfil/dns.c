/* dns.c - DNS tunnels; see dns.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/finding.h>

#include "dns.h"

/* Bytes of a query's datagram that are not its name: the IP and UDP
 * headers, the DNS header (12), the question's type and class (4), the
 * EDNS OPT record (11) and the name's first length and root bytes (2),
 * about 30 of DNS message. */
#define DNS_FIXED 30.0
/* The longest query a name fills: 255 bytes of name plus the fixed part
 * and a few EDNS options. Datagrams to port 53 above this on average are
 * not DNS queries (a flood aimed at the port is the volumetric
 * detector's). */
#define DNS_MAX_QUERY 320.0
/* A tunnel is a session: its tools poll even when idle (dnscat2, iodine
 * about once a second), and each query waits for an answer that crosses
 * the resolvers, so it lasts minutes and asks at most a few hundred a
 * second. A burst of thousands a second for a few seconds is a flood at
 * the port (the volumetric detector's), whose answers an exporter that
 * shows one direction cannot disprove. */
#define DNS_MIN_SPAN_MS 60000ull
#define DNS_MAX_RATE 400.0

struct nfh__exf_dns {
  nfh__exf_dns_pair *pairs;
  uint32_t n, cap, max;
  nfh__exf_map map;
  /* A client asks one server over and over: the last pair first. */
  uint32_t last;
  int has_last;
  uint32_t prunes;
};

nfh__exf_dns *nfh__exf_dns_create(uint32_t max_pairs) {
  nfh__exf_dns *d = calloc(1, sizeof(*d));
  if (d)
    d->max = max_pairs < 2 ? 2 : max_pairs;
  return d;
}

void nfh__exf_dns_destroy(nfh__exf_dns *d) {
  if (!d)
    return;
  nfh__exf_map_free(&d->map);
  free(d->pairs);
  free(d);
}

nfh__exf_dns_pair *nfh__exf_dns_pairs(nfh__exf_dns *d, size_t *n) {
  *n = d->n;
  return d->pairs;
}

uint32_t nfh__exf_dns_prunes(const nfh__exf_dns *d) { return d->prunes; }

static uint64_t query_bytes(const void *record) {
  return ((const nfh__exf_dns_pair *)record)->query_bytes;
}

static int prune(nfh__exf_dns *d) {
  d->prunes++;
  d->has_last = 0; /* the pairs move */
  return nfh__exf_prune_table(&d->map, d->pairs, sizeof(*d->pairs), &d->n,
                              d->n / 2, query_bytes, NULL);
}

static nfh__exf_dns_pair *get(nfh__exf_dns *d, const nfh__exf_key *k) {
  if (d->has_last && nfh__exf_key_equal(&d->pairs[d->last].k, k))
    return &d->pairs[d->last];
  uint64_t h = nfh__exf_key_hash(k);
  int64_t idx = nfh__exf_map_find(&d->map, d->pairs, sizeof(*d->pairs), k, h);
  if (idx < 0) {
    if (d->n >= d->max && prune(d) != 0)
      return NULL;
    if (d->n == d->cap) {
      uint32_t cap = d->cap ? 2 * d->cap : 256;
      if (cap > d->max)
        cap = d->max;
      nfh__exf_dns_pair *g = realloc(d->pairs, (size_t)cap * sizeof(*g));
      if (!g)
        return NULL;
      d->pairs = g;
      d->cap = cap;
    }
    nfh__exf_dns_pair *p = &d->pairs[d->n];
    memset(p, 0, sizeof(*p));
    p->k = *k;
    if (nfh__exf_map_put(&d->map, d->pairs, sizeof(*d->pairs), h, d->n) != 0)
      return NULL;
    idx = d->n++;
  }
  d->last = (uint32_t)idx;
  d->has_last = 1;
  return &d->pairs[idx];
}

int nfh__exf_dns_add(nfh__exf_dns *d, const nfh_conn *c) {
  nfh__exf_key k;
  memset(&k, 0, sizeof(k));
  k.a = c->client;
  k.b = c->server;
  nfh__exf_dns_pair *p = get(d, &k);
  if (!p)
    return -1;
  p->queries += c->client_packets;
  p->query_bytes += c->client_bytes;
  p->answers += c->server_packets;
  p->answer_bytes += c->server_bytes;
  if (!p->conns || c->first_ms < p->first_ms)
    p->first_ms = c->first_ms;
  if (c->last_ms > p->last_ms)
    p->last_ms = c->last_ms;
  p->conns++;
  if (c->flags & NFH_CONN_SAMPLED)
    p->sampled++;
  if (c->sampling > p->max_sampling)
    p->max_sampling = c->sampling;
  return 0;
}

/* IP and UDP header bytes of one datagram of the pair's family. */
static double headers(const nfh__exf_dns_pair *p) {
  return p->k.a.family == 6 ? 48.0 : 28.0;
}

static double mean_message(uint64_t bytes, uint64_t packets, double hdr) {
  if (!packets)
    return 0;
  double m = (double)bytes / (double)packets - hdr;
  return m > 0 ? m : 0;
}

static uint64_t name_bytes(const nfh__exf_dns_pair *p) {
  double fixed = (double)p->queries * (headers(p) + DNS_FIXED);
  return nfh__exf_count((double)p->query_bytes - fixed);
}

/* The bytes of the client's DNS messages (datagrams less headers); below
 * 0 for damaged counters. */
static double payload_bytes(const nfh__exf_dns_pair *p) {
  return (double)p->query_bytes - (double)p->queries * headers(p);
}

/* Whether p's queries span a session, at a pace answers allow. */
static int session_like(const nfh__exf_dns_pair *p) {
  uint64_t span = p->last_ms > p->first_ms ? p->last_ms - p->first_ms : 0;
  return span >= DNS_MIN_SPAN_MS &&
         (double)p->queries / ((double)span / 1000.0) <= DNS_MAX_RATE;
}

int nfh__exf_dns_long_queries(const nfh__exf_params *P,
                              const nfh__exf_dns_pair *p) {
  double mean = mean_message(p->query_bytes, p->queries, headers(p));
  return mean >= P->dns_query_bytes && mean <= DNS_MAX_QUERY;
}

int nfh__exf_dns_tunnel_like(const nfh__exf_params *P,
                             const nfh__exf_dns_pair *p, int two_way) {
  /* A tunnel is a conversation: each query waits for its answer. */
  if (two_way && 2 * p->answers < p->queries)
    return 0;
  return (double)p->queries >= P->dns_min_queries && session_like(p) &&
         nfh__exf_dns_long_queries(P, p) &&
         (double)name_bytes(p) >= P->dns_min_bytes;
}

int nfh__exf_dns_not_dns(const nfh__exf_params *P, const nfh__exf_dns_pair *p,
                         int two_way) {
  double mean = mean_message(p->query_bytes, p->queries, headers(p));
  /* Answered, or it is a flood at the port (the volumetric detector's);
   * an exporter that shows no return traffic cannot tell them apart. */
  return two_way && session_like(p) && mean > DNS_MAX_QUERY &&
         2 * p->answers >= p->queries &&
         (double)p->queries >= P->dns_min_queries &&
         payload_bytes(p) >= P->dns_min_bytes;
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* How long a channel of half dns_medium_bytes of names must last to be
 * medium all the same. */
#define DNS_STEADY_MS (12 * 3600 * 1000ull)

static void why(nfh__exf_dns_verdict *v, const char *r) {
  if (v->nreasons < sizeof(v->reasons) / sizeof(v->reasons[0]))
    v->reasons[v->nreasons++] = r;
}

void nfh__exf_dns_judge(const nfh__exf_params *P,
                        const nfh__exf_dns_pair *p, int two_way,
                        unsigned alike, nfh__exf_dns_verdict *v) {
  memset(v, 0, sizeof(*v));
  v->severity = -1;
  double hdr = headers(p);
  v->header_bytes = hdr;
  v->mean_query = mean_message(p->query_bytes, p->queries, hdr);
  v->mean_answer = mean_message(p->answer_bytes, p->answers, hdr);
  v->name_bytes = name_bytes(p);
  static const double band[] = {5, 20, 45, 70, 85};
  if (nfh__exf_dns_not_dns(P, p, two_way)) {
    /* Another protocol on the DNS port (a VPN that passes the firewall
     * as DNS, a tunnel in raw datagrams): the port says what it is not. */
    double payload = payload_bytes(p);
    v->not_dns = 1;
    int s = payload >= P->dns_high_bytes ? NFH_SEV_HIGH : NFH_SEV_MEDIUM;
    why(v, "datagrams to port 53 too big for DNS queries: another protocol "
           "on the DNS port");
    v->severity = s;
    v->score = band[s] + 15.0 * clamp01(log10(payload / P->dns_min_bytes) /
                                        log10(P->dns_high_bytes * 10.0 /
                                              P->dns_min_bytes));
    v->confidence = p->sampled ? 0.8 * 0.85 : 0.8;
    if (p->sampled)
      why(v, "sampled exporter: counts are estimates");
    return;
  }
  if (!nfh__exf_dns_tunnel_like(P, p, two_way))
    return;
  int s = NFH_SEV_LOW;
  why(v, "long query names, many of them, to one server");
  if ((double)v->name_bytes >= P->dns_high_bytes) {
    s = NFH_SEV_HIGH;
    why(v, "megabytes of names: a data channel");
  } else if ((double)v->name_bytes >= P->dns_medium_bytes) {
    s = NFH_SEV_MEDIUM;
  } else if ((double)v->name_bytes >= P->dns_medium_bytes / 2 &&
             p->last_ms >= p->first_ms + DNS_STEADY_MS) {
    /* A slow tunnel is steady: hourly runs remember memory_hours of
     * it (a query every 20 s for 40 h was medium in one run, 1.1 MB of
     * names, and low hour by hour, 0.66 MB in the 24 h kept). */
    s = NFH_SEV_MEDIUM;
    why(v, "a steady channel: half the medium volume of names or more "
           "over 12 hours or more");
  }
  if (alike >= (unsigned)P->dns_shared_clients) {
    if (s > NFH_SEV_LOW)
      s = NFH_SEV_LOW;
    why(v, "other internal hosts ask the same server alike: a lookup "
           "service (anti-virus, reputation), most likely");
  }
  v->severity = s;
  /* Within the band: the volume of names, then how long they are. */
  double vol = clamp01(log10((double)v->name_bytes / P->dns_min_bytes) /
                       log10(P->dns_high_bytes * 10.0 / P->dns_min_bytes));
  double len = clamp01((v->mean_query - P->dns_query_bytes) / 120.0);
  v->score = band[s] + 15.0 * (0.6 * vol + 0.4 * len);
  double c = 0.8;
  if (v->mean_query < P->dns_query_bytes + 20)
    c *= 0.85; /* near the bar: long everyday names could reach it */
  if (p->sampled) {
    c *= 0.85;
    why(v, "sampled exporter: counts are estimates");
  }
  v->confidence = c;
}
