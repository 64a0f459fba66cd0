/* exfil.c - the exfiltration detector; see exfil.h. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfhunt/plugin.h>

#include "dns.h"
#include "exfil.h"
#include "judge.h"
#include "memory.h"
#include "params.h"
#include "track.h"

#define EXF_VERSION "1.0"
#define DETECTOR "exfiltration"
#define HOUR_MS ((uint64_t)NFH_EXF_HOUR_MS)
#define DAY_MS 86400000ull
/* An hour teaches the baselines only when flows ended in at least this
 * many of its twelve 5-minute slots: a run that saw part of an hour
 * would teach a part as the whole. */
#define COVERED_SLOTS 10u
#define TCP 6
#define UDP 17
/* A data transfer fills its packets: floods (SYN, small UDP), scans and
 * keepalives do not. Mean bytes per packet sent below this is not one. */
#define MIN_PACKET_BYTES 150.0
/* Bytes per packet of an unanswered stream that still counts as a
 * transfer (see is_transfer): full segments or datagrams, as bulk data
 * leaves; the random-port UDP floods of a bot (500-odd bytes) stay
 * below. */
#define ONE_WAY_PACKET_BYTES 1000.0
/* Packets a second above which an unanswered stream is a flood (the
 * volumetric detector's), not an upload: 2000 full packets a second are
 * 10 GB an hour, more than a one-way channel that wants to go unseen
 * sends, while a single DoS source sends tens of thousands. */
#define ONE_WAY_MAX_PPS 2000.0
/* With fewer connections than this the run cannot tell whether the
 * exporter shows return traffic at all. */
#define REPLY_SAMPLE 50u
/* Episodes of one pair judged per run: a month in one run holds a
 * nightly job's thirty. */
#define MAX_EPISODES 64
/* Bursts of upload (episodes) starting within this many hours of the
 * last one are taken together as well (see nfh__exf_judge). */
#define BURST_WINDOW_H 24u

typedef struct exfil {
  const nfh_host_api *api;
  nfh__exf_params p;
  nfh__exf_track *track;
  nfh__exf_memory *mem;
  nfh__exf_dns *dns;    /* NULL with dns_max_pairs = 0 */
  uint64_t data_end_ms; /* latest flow end seen */
  uint64_t out_conns;   /* connections opened by internal hosts outward */
  uint64_t out_replied; /* of them, answered */
  /* While finishing (join_temporary): this run's pairs, and for each the
   * pair it was joined into (SIZE_MAX: none) and how many joined it. */
  nfh__exf_pair *pairs;
  size_t npairs;
  size_t *joined_into;
  uint16_t *joined;
  /* Earlier runs' addresses whose memory a pair took (adopt_rotated):
   * the pair's index and the address's host hash. */
  struct adopted {
    size_t pair;
    uint32_t host;
  } * adopted;
  size_t nadopted;
} exfil;

/* ------------------------------------------------------------ helpers */

static int allowed(const exfil *x, const nfh_addr *a, int port) {
  return x->api->is_allowed(x->api->host, DETECTOR, a, port);
}

/* "3.2 GB" (decimal units, as transfer volumes are quoted). */
static const char *human_bytes(double b, char *buf, size_t len) {
  static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (b >= 1000 && u < 5)
    b /= 1000, u++;
  snprintf(buf, len, u ? (b < 10 ? "%.1f %s" : "%.0f %s") : "%.0f %s", b,
           unit[u]);
  return buf;
}

static const char *human_span(uint64_t ms, char *buf, size_t len) {
  double min = (double)ms / 60000.0;
  if (min < 1)
    snprintf(buf, len, "%.0f s", (double)ms / 1000.0);
  else if (min < 90)
    snprintf(buf, len, "%.0f min", min);
  else
    snprintf(buf, len, "%.1f h", min / 60.0);
  return buf;
}

static void day_text(uint64_t ms, char *buf, size_t len) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    snprintf(buf, len, "?");
    return;
  }
  strftime(buf, len, "%Y-%m-%d", &tm);
}

/* A JSON object built with snprintf; fixed size, truncation is caught
 * (the evidence is then dropped rather than emitted broken). */
typedef struct jbuf {
  char s[6144];
  size_t len;
  int overflow;
} jbuf;

static void jadd(jbuf *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void jadd(jbuf *j, const char *fmt, ...) {
  if (j->overflow)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(j->s + j->len, sizeof(j->s) - j->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(j->s) - j->len)
    j->overflow = 1;
  else
    j->len += (size_t)n;
}

/* ------------------------------------------------------- create/destroy */

static void exfil_destroy(void *ctx) {
  exfil *x = ctx;
  if (!x)
    return;
  nfh__exf_track_destroy(x->track);
  nfh__exf_memory_destroy(x->mem);
  nfh__exf_dns_destroy(x->dns);
  free(x);
}

static void *exfil_create(const nfh_host_api *api,
                          const nfh_plugin_setting *settings, size_t n,
                          const char **error) {
  /* create() has no context to keep a message in when it fails: the
   * text lives in thread-local storage until the next failed create. */
  static __thread char message[200];
  exfil *x = calloc(1, sizeof(*x));
  if (!x) {
    *error = "out of memory";
    return NULL;
  }
  x->api = api;
  nfh__exf_params_default(&x->p);
  if (nfh__exf_params_parse(&x->p, settings, n, message, sizeof(message)) !=
      0) {
    *error = message;
    free(x);
    return NULL;
  }
  x->track = nfh__exf_track_create((uint32_t)x->p.max_pairs,
                                   (uint64_t)x->p.slow_hour_bytes);
  x->mem = nfh__exf_memory_create(&x->p);
  if (x->p.dns_max_pairs > 0)
    x->dns = nfh__exf_dns_create((uint32_t)x->p.dns_max_pairs);
  if (!x->track || !x->mem || (x->p.dns_max_pairs > 0 && !x->dns)) {
    exfil_destroy(x);
    *error = "out of memory";
    return NULL;
  }
  return x;
}

/* --------------------------------------------------------------- input */

/* Records and connections go through a software pipeline: each one's
 * pair (and destinations) are hashed and their index cells fetched when
 * it is taken in; STAGE records later, the records those cells name are
 * fetched; STAGE records after that, it is added. Over tables far bigger
 * than the caches every lookup is a cache miss or two; the pipeline has
 * them all under way at once, each well before it is needed. */
#define STAGE 6
#define RING 16 /* a power of two above 2 * STAGE */

/* A flow record that counts, on its way through the pipeline. */
typedef struct pending {
  const nfh_addr *in, *ex;
  uint64_t hash, out, back, first_ms, last_ms;
} pending;

static int add_pending(exfil *x, const pending *p) {
  if (nfh__exf_track_flow_hashed(x->track, p->in, p->ex, p->hash, p->out,
                                 p->back, p->first_ms, p->last_ms) != 0) {
    x->api->log(x->api->host, NFH_LOG_ERROR, "out of memory (flow table)");
    return -1;
  }
  return 0;
}

static int exfil_on_flows(void *ctx, const nfh_flow *flows, size_t n) {
  exfil *x = ctx;
  const nfh_host_api *api = x->api;
  pending ring[RING];
  size_t taken = 0, added = 0;
  for (size_t i = 0; i < n; i++) {
    const nfh_flow *f = &flows[i];
    nfh__exf_track_seen(x->track, f->last_ms);
    if (f->last_ms > x->data_end_ms)
      x->data_end_ms = f->last_ms;
    int sh = api->is_home(api->host, &f->src);
    int dh = api->is_home(api->host, &f->dst);
    if (sh == dh)
      continue; /* internal or transit traffic */
    const nfh_addr *in = sh ? &f->src : &f->dst;
    const nfh_addr *ex = sh ? &f->dst : &f->src;
    if (!nfh_addr_is_unicast(ex))
      continue; /* streaming to a multicast group sends data to no one */
    if (f->proto == TCP || f->proto == UDP) {
      uint16_t iport = sh ? f->src_port : f->dst_port;
      uint16_t eport = sh ? f->dst_port : f->src_port;
      /* An internal service port talking to an outside ephemeral port
       * is a server answering: its bytes are responses. Skipping them
       * here keeps busy public servers out of the table; the
       * connections still settle roles exactly at the end. */
      if (iport < 1024 && eport >= 1024)
        continue;
    }
    uint64_t out = sh ? f->bytes : f->out_bytes;
    uint64_t back = sh ? f->out_bytes : f->bytes;
    if (!out && !back)
      continue;
    pending *p = &ring[taken % RING];
    p->in = in;
    p->ex = ex;
    p->hash = nfh__exf_track_hash(in, ex);
    p->out = out;
    p->back = back;
    p->first_ms = f->first_ms;
    p->last_ms = f->last_ms;
    nfh__exf_track_prefetch(x->track, p->hash, 0);
    taken++;
    if (taken > STAGE)
      nfh__exf_track_prefetch(x->track, ring[(taken - 1 - STAGE) % RING].hash,
                              1);
    if (taken > 2 * STAGE && add_pending(x, &ring[added++ % RING]) != 0)
      return -1;
  }
  /* The tail: the records that did not reach the second fetch get it,
   * then all are added. */
  for (size_t k = taken > STAGE ? taken - STAGE : 0; k < taken; k++)
    nfh__exf_track_prefetch(x->track, ring[k % RING].hash, 1);
  while (added < taken)
    if (add_pending(x, &ring[added++ % RING]) != 0)
      return -1;
  return 0;
}

/* A connection on its way through the pipeline. */
typedef struct pending_conn {
  const nfh_conn *c;
  uint64_t dest_hash[2], pair_hash;
} pending_conn;

static void conn_prefetch(exfil *x, pending_conn *q, int stage) {
  if (q->c->flags & NFH_CONN_CLIENT_HOME)
    nfh__exf_dest_prefetch(x->mem, &q->c->server, stage, q->dest_hash);
  nfh__exf_track_prefetch(x->track, q->pair_hash, stage);
}

static int add_conn(exfil *x, const pending_conn *q) {
  const nfh_conn *c = q->c;
  int ch = !!(c->flags & NFH_CONN_CLIENT_HOME);
  /* Whether the exporter shows return traffic, judged on TCP sessions
   * that carried data (three packets or more): those are always
   * acknowledged. Unanswered UDP or SYN floods (a compromised device
   * taking part in a DoS) must not tip it, or every pair would pass
   * is_transfer without an answer. */
  uint64_t samp = c->sampling > 1 ? c->sampling : 1;
  if (ch && c->proto == TCP && c->client_packets >= 3 * samp) {
    x->out_conns++;
    x->out_replied += !!(c->flags & NFH_CONN_REPLY);
  }
  if (ch && nfh__exf_dest_contact(x->mem, &c->server, q->dest_hash,
                                  nfh__exf_host_hash(&c->client),
                                  c->first_ms) != 0) {
    x->api->log(x->api->host, NFH_LOG_ERROR, "out of memory (destinations)");
    return -1;
  }
  /* Equal ports (IPsec NAT-T 4500 to 4500) with nothing to tell who
   * opened it (the engine decides by the first records' times when a
   * run sees the session start): the internal host is not taken for the
   * uploader, or a VPN concentrator's downloads to its remote users
   * would be its uploads to them. */
  int tie = (c->flags & NFH_CONN_DIRECTION_GUESSED) &&
            c->client_port == c->server_port;
  if (nfh__exf_track_conn(x->track, c, ch && !tie, q->pair_hash) != 0) {
    x->api->log(x->api->host, NFH_LOG_ERROR, "out of memory (pairs)");
    return -1;
  }
  return 0;
}

static int exfil_on_conns(void *ctx, const nfh_conn *conns, size_t n) {
  exfil *x = ctx;
  pending_conn ring[RING];
  size_t taken = 0, added = 0;
  for (size_t i = 0; i < n; i++) {
    const nfh_conn *c = &conns[i];
    int ch = !!(c->flags & NFH_CONN_CLIENT_HOME);
    int sh = !!(c->flags & NFH_CONN_SERVER_HOME);
    /* DNS from an internal client, to any server: a tunnel through the
     * site's own resolver shows between the client and it. */
    if (ch && c->proto == UDP && c->server_port == 53 && x->dns &&
        nfh__exf_dns_add(x->dns, c) != 0) {
      x->api->log(x->api->host, NFH_LOG_ERROR, "out of memory (DNS pairs)");
      return -1;
    }
    if (ch == sh)
      continue;
    const nfh_addr *ex = ch ? &c->server : &c->client;
    if (!nfh_addr_is_unicast(ex))
      continue;
    pending_conn *q = &ring[taken % RING];
    q->c = c;
    q->pair_hash = ch ? nfh__exf_track_hash(&c->client, &c->server)
                      : nfh__exf_track_hash(&c->server, &c->client);
    conn_prefetch(x, q, 0);
    taken++;
    if (taken > STAGE)
      conn_prefetch(x, &ring[(taken - 1 - STAGE) % RING], 1);
    if (taken > 2 * STAGE && add_conn(x, &ring[added++ % RING]) != 0)
      return -1;
  }
  for (size_t k = taken > STAGE ? taken - STAGE : 0; k < taken; k++)
    conn_prefetch(x, &ring[k % RING], 1);
  while (added < taken)
    if (add_conn(x, &ring[added++ % RING]) != 0)
      return -1;
  return 0;
}

/* Whether the pair's client traffic is a data transfer: full packets,
 * and answered (TCP acknowledges, every reliable UDP protocol replies) as
 * long as the exporter shows return traffic at all: an exporter that
 * sees one direction only would otherwise hide every upload. Floods and
 * scans fail this, and are the volumetric and port_scan detectors'.
 * One exception: an unanswered stream of full packets that mostly rides
 * one connection (one socket to one port) is a one-way upload (UDP
 * fire-and-forget, or a path whose way back this exporter misses);
 * requiring an answer let 800 MB leave unseen while one stray reply
 * datagram made the same stream a finding. A flood spreads over ports,
 * or sends smaller packets, or more of them a second. */
/* Whether the exporter shows return traffic: a fifth or more of the
 * internal hosts' data-carrying TCP sessions answered, or too few of
 * them to tell. */
static int exporter_two_way(const exfil *x) {
  return x->out_conns < REPLY_SAMPLE || 5 * x->out_replied >= x->out_conns;
}

static int is_transfer(const exfil *x, const nfh__exf_pair *p) {
  if (!p->c_out)
    return 0;
  /* Byte counters without packet counts (a firewall's NSEL events): the
   * size of its packets is unknown, an answer must do. */
  if (!p->c_pkts)
    return p->c_in > 0;
  double per_packet = (double)p->c_out / (double)p->c_pkts;
  if (per_packet < MIN_PACKET_BYTES)
    return 0;
  if (p->c_in > 0)
    return 1;
  /* An exporter that shows no return traffic: TCP carries data only in
   * sessions, but datagrams spread over several sockets (a bot's flood
   * of random ports) are no upload there either. */
  if (!exporter_two_way(x))
    return p->proto == TCP || 2 * p->port_bytes >= p->c_out;
  double span_s = p->last_ms > p->first_ms
                      ? (double)(p->last_ms - p->first_ms) / 1000.0
                      : 0;
  if (span_s < 1)
    span_s = 1;
  return per_packet >= ONE_WAY_PACKET_BYTES &&
         2 * p->port_bytes >= p->c_out &&
         (double)p->c_pkts / span_s <= ONE_WAY_MAX_PPS;
}

/* ------------------------------------------------- hourly host totals */

/* What each internal host sent as client in each hour, over all its
 * external destinations: the quantity its baseline describes. */
typedef struct hostsum {
  nfh_addr host;
  uint32_t hour;
  uint64_t bytes;
} hostsum;

typedef struct sums {
  hostsum *v;
  size_t n;
} sums;

static int hostsum_order(const void *pa, const void *pb) {
  const hostsum *a = pa, *b = pb;
  int c = nfh_addr_compare(&a->host, &b->host);
  if (c)
    return c;
  return a->hour < b->hour ? -1 : a->hour > b->hour;
}

static int build_sums(const exfil *x, nfh__exf_pair *pairs, size_t np,
                      sums *s) {
  size_t total = 0;
  for (size_t i = 0; i < np; i++)
    if (is_transfer(x, &pairs[i]))
      total += pairs[i].ncells;
  s->v = malloc((total ? total : 1) * sizeof(hostsum));
  s->n = 0;
  if (!s->v)
    return -1;
  for (size_t i = 0; i < np; i++) {
    nfh__exf_pair *p = &pairs[i];
    if (!is_transfer(x, p))
      continue;
    for (uint32_t c = 0; c < p->ncells; c++) {
      const nfh__exf_cell *cell = nfh__exf_pair_cell(p, c);
      if (!cell->out)
        continue;
      hostsum *h = &s->v[s->n++];
      h->host = p->k.a;
      h->hour = cell->hour;
      h->bytes = cell->out;
    }
  }
  qsort(s->v, s->n, sizeof(hostsum), hostsum_order);
  /* Merge equal (host, hour). */
  size_t w = 0;
  for (size_t r = 0; r < s->n; r++) {
    if (w && hostsum_order(&s->v[w - 1], &s->v[r]) == 0)
      s->v[w - 1].bytes += s->v[r].bytes;
    else
      s->v[w++] = s->v[r];
  }
  s->n = w;
  return 0;
}

static uint64_t sum_at(const sums *s, const nfh_addr *host, uint32_t hour) {
  hostsum key;
  memset(&key, 0, sizeof(key));
  key.host = *host;
  key.hour = hour;
  const hostsum *h = bsearch(&key, s->v, s->n, sizeof(hostsum),
                             hostsum_order);
  return h ? h->bytes : 0;
}

/* -------------------------------------------------------------- series */

/* One hour of a pair: this run's attributed bytes plus the remembered
 * ones of earlier runs. */
typedef struct hour_pt {
  uint32_t hour;
  uint16_t first_s1, last_s1; /* seconds of bytes out, + 1 (0: unknown) */
  uint64_t out, in;
  int from_run;
  int from_state; /* earlier runs' bytes in it too */
  nfh__exf_when w; /* its clock position, set once the series is built */
} hour_pt;

typedef struct series {
  hour_pt *v;
  size_t n, cap;
} series;

static int series_add(series *s, uint32_t hour, uint64_t out, uint64_t in,
                      uint16_t first_s1, uint16_t last_s1, int from_run) {
  size_t i = s->n;
  while (i > 0 && s->v[i - 1].hour > hour)
    i--;
  if (i > 0 && s->v[i - 1].hour == hour) {
    s->v[i - 1].out += out;
    s->v[i - 1].in += in;
    nfh__exf_span_merge(&s->v[i - 1].first_s1, &s->v[i - 1].last_s1, first_s1,
                        last_s1);
    s->v[i - 1].from_run |= from_run;
    s->v[i - 1].from_state |= !from_run;
    return 0;
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    hour_pt *g = realloc(s->v, cap * sizeof(*g));
    if (!g)
      return -1;
    s->v = g;
    s->cap = cap;
  }
  memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
  s->v[i].hour = hour;
  s->v[i].first_s1 = first_s1;
  s->v[i].last_s1 = last_s1;
  s->v[i].out = out;
  s->v[i].in = in;
  s->v[i].from_run = from_run;
  s->v[i].from_state = !from_run;
  s->n++;
  return 0;
}

static int build_series(const exfil *x, nfh__exf_pair *p,
                        const nfh__exf_spair *sp, series *s) {
  s->n = 0;
  for (uint32_t c = 0; c < p->ncells; c++) {
    const nfh__exf_cell *cell = nfh__exf_pair_cell(p, c);
    if (series_add(s, cell->hour, cell->out, cell->in, cell->first_s1,
                   cell->last_s1, 1) != 0)
      return -1;
  }
  if (sp) {
    for (unsigned h = 0; h < sp->nhist; h++)
      if (series_add(s, sp->hist[h].hour, (uint64_t)sp->hist[h].out_kb * 1024,
                     (uint64_t)sp->hist[h].in_kb * 1024, sp->hist[h].first_s1,
                     sp->hist[h].last_s1, 0) != 0)
        return -1;
  }
  /* The clock once per hour: the habit counts below compare every hour
   * with every other, and localtime_r is not free. */
  for (size_t i = 0; i < s->n; i++)
    s->v[i].w = nfh__exf_clock(&x->p, s->v[i].hour);
  return 0;
}

/* An episode: active hours (at least slow_hour_bytes out) of which no
 * two consecutive ones are more than one idle hour apart, with the idle
 * hours between them. A transfer, bulk or slow, is one episode; the
 * same pair's upload of the night before is another. */
typedef struct episode {
  size_t from, to;       /* series indexes of its first and last active hour */
  unsigned hours, active;
  uint64_t out, in;
  int in_run;            /* some hour of it is this run's */
} episode;

/* Splits the series into episodes; returns how many (at most max: the
 * latest ones, when a long run holds more). */
static size_t find_episodes(const series *s, double active_bytes,
                            episode *ep, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++) {
    if ((double)s->v[i].out < active_bytes)
      continue;
    if (n && s->v[i].hour <= s->v[ep[n - 1].to].hour + 2) {
      ep[n - 1].to = i;
      ep[n - 1].active++;
      continue;
    }
    if (n == max) {
      memmove(ep, ep + 1, (max - 1) * sizeof(*ep));
      n--;
    }
    memset(&ep[n], 0, sizeof(ep[n]));
    ep[n].from = ep[n].to = i;
    ep[n].active = 1;
    n++;
  }
  for (size_t k = 0; k < n; k++) {
    episode *e = &ep[k];
    for (size_t i = e->from; i <= e->to; i++) {
      e->out += s->v[i].out;
      e->in += s->v[i].in;
      e->in_run |= s->v[i].from_run;
    }
    e->hours = s->v[e->to].hour - s->v[e->from].hour + 1;
  }
  return n;
}

/* ------------------------------------------------------------ findings */

typedef struct verdict {
  size_t pair; /* index into the pairs; SIZE_MAX for a spread finding */
  episode episode; /* the pair's episode judged */
  nfh__exf_features f;
  nfh__exf_verdict v;
  /* Context for the text. */
  uint64_t first_ms, last_ms, span_ms;
  uint64_t dest_first_ms;
  unsigned net_prevalence;
  double usual_bytes, host_hour_bytes;
  unsigned usual_seen;
  uint32_t peak_hour;
  /* Spread findings; with 'net' set, of one network's addresses. */
  nfh_addr src;
  unsigned spread_dests;
  uint64_t spread_bytes;
  size_t spread_top;         /* the pair that sent most */
  uint64_t spread_top_bytes; /* what it sent, counted as spread_bytes */
  int net_prefix; /* 0: rare destinations anywhere */
  nfh_addr net;
  int port; /* the members' one server port, or -1 */
} verdict;

typedef struct vlist {
  verdict *v;
  size_t n, cap;
} vlist;

static verdict *vlist_add(vlist *l) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    verdict *g = realloc(l->v, cap * sizeof(*g));
    if (!g)
      return NULL;
    l->v = g;
    l->cap = cap;
  }
  verdict *v = &l->v[l->n++];
  memset(v, 0, sizeof(*v));
  return v;
}

static int by_score(const void *pa, const void *pb) {
  const verdict *a = pa, *b = pb;
  if (a->v.score != b->v.score)
    return a->v.score > b->v.score ? -1 : 1;
  return a->first_ms < b->first_ms ? -1 : a->first_ms > b->first_ms;
}

static int is_icmp(uint8_t proto) { return proto == 1 || proto == 58; }

static const char *mitre_for(const verdict *d, const nfh__exf_pair *p) {
  if (is_icmp(p->proto)) /* a tunnel in ICMP payloads */
    return "T1048,T1095";
  int web = p->proto == TCP && (p->port == 80 || p->port == 443 ||
                                p->port == 8080 || p->port == 8443);
  int shared = d->f.prevalence >= 2 || d->f.popular;
  if (d->v.kind == NFH_EXF_SLOW)
    return web ? (shared ? "T1567,T1030" : "T1041,T1030") : "T1048,T1030";
  if (d->v.kind == NFH_EXF_BURSTS) /* scheduled transfer */
    return web ? (shared ? "T1567,T1029" : "T1041,T1029") : "T1048,T1029";
  return web ? (shared ? "T1567" : "T1041") : "T1048";
}

/* The summary's word on an upload held at medium for its first night
 * (nfh__exf_first_night). */
static const char *first_time_text(const nfh__exf_features *f) {
  return f->night ? "; at night with no earlier night seen (a backup's "
                    "first night looks the same)"
                  : "; around the clock with no earlier day seen (a "
                    "replication looks the same)";
}

static void rarity_text(const verdict *d, char *buf, size_t len) {
  if (d->f.popular)
    snprintf(buf, len, "a popular destination (%u+ internal hosts)",
             d->f.prevalence);
  else if (d->f.prevalence <= 1)
    snprintf(buf, len, "a destination no other internal host uses");
  else if (d->f.prevalence == 2)
    snprintf(buf, len, "a destination 1 other internal host uses");
  else
    snprintf(buf, len, "a destination %u internal hosts use",
             d->f.prevalence);
}

static const char *sev_word(int s) {
  return nfh_severity_name((nfh_severity)s);
}

/* The evidence's sampling interval: 1 unsampled, 0 sampled at an interval
 * the exporter did not announce (nfhunt judged its records sampled). */
static unsigned sampling_interval(int sampled, uint32_t max_sampling) {
  if (max_sampling > 1)
    return max_sampling;
  return sampled ? 0 : 1;
}

/* The summary's word on sampling, into buf: "" unsampled, else the
 * interval (counts scaled by it: estimates) or that no one announced it
 * (counts of the packets the sampler kept: too low, by an unknown
 * factor). */
static void sampled_note(int sampled, uint32_t max_sampling, char *buf,
                         size_t len) {
  if (!sampled) {
    if (len)
      buf[0] = '\0';
  } else if (max_sampling <= 1)
    snprintf(buf, len, " [sampled, interval unknown: raw samples, too low]");
  else
    snprintf(buf, len, " [sampled 1:%u, estimated]", max_sampling);
}

static int emit_pair(exfil *x, const verdict *d, const nfh__exf_pair *p,
                     const series *s) {
  char src[NFH_ADDR_STRLEN], dst[NFH_ADDR_STRLEN];
  nfh_addr_format(&p->k.a, src, sizeof(src));
  nfh_addr_format(&p->k.b, dst, sizeof(dst));
  char key[2 * NFH_ADDR_STRLEN + 8];
  snprintf(key, sizeof(key), "%s|%s", src, dst);
  /* A host under its temporary addresses is its /64 to the reader of
   * keys: the next hourly run's newer address continues this finding
   * (as beaconing keys such a client). */
  if (x->joined && d->pair < x->npairs && x->joined[d->pair]) {
    char net[NFH_ADDR_STRLEN];
    nfh_addr block = nfh_addr_network(&p->k.a, 64);
    snprintf(key, sizeof(key), "%s/64|%s",
             nfh_addr_format(&block, net, sizeof(net)), dst);
  }
  char vol[32], span[32], rate[32], rare[96], first[16];
  rarity_text(d, rare, sizeof(rare));
  human_bytes((double)d->f.out, vol, sizeof(vol));
  char dstport[NFH_ADDR_STRLEN + 32];
  unsigned icmp_type = (unsigned)p->port >> 8; /* port: type * 256 + code */
  if (is_icmp(p->proto) && icmp_type == (p->proto == 1 ? 8u : 128u))
    snprintf(dstport, sizeof(dstport), "%s (%s echo requests)", dst,
             p->proto == 1 ? "ICMP" : "ICMPv6");
  else if (is_icmp(p->proto))
    snprintf(dstport, sizeof(dstport), "%s (%s type %u)", dst,
             p->proto == 1 ? "ICMP" : "ICMPv6", icmp_type);
  else
    nfh_addr_format_port(&p->k.b, p->port, dstport, sizeof(dstport));
  char extra[320] = "";
  size_t el = 0;
  if (d->f.novel == 1)
    el += (size_t)snprintf(extra + el, sizeof(extra) - el,
                           ", never seen before");
  else if (d->f.novel == -1)
    el += (size_t)snprintf(extra + el, sizeof(extra) - el,
                           ", first seen with this transfer");
  else if (d->f.novel == 0 && d->dest_first_ms &&
           d->dest_first_ms + 2 * DAY_MS > d->first_ms) {
    char ago[32];
    human_span(d->first_ms > d->dest_first_ms
                   ? d->first_ms - d->dest_first_ms
                   : 0,
               ago, sizeof(ago));
    el += (size_t)snprintf(extra + el, sizeof(extra) - el,
                           ", first seen %s before this upload", ago);
  } else if (d->f.novel == 0 && d->dest_first_ms) {
    day_text(d->dest_first_ms, first, sizeof(first));
    el += (size_t)snprintf(extra + el, sizeof(extra) - el,
                           ", known since %s", first);
  }
  if (d->f.habit_days_seen && d->f.repeat_share >= 0.5 && el < sizeof(extra))
    el += (size_t)snprintf(extra + el, sizeof(extra) - el,
                           "; recurring at this hour on %u other day%s",
                           d->f.habit_days_seen,
                           d->f.habit_days_seen == 1 ? "" : "s");
  if (d->v.by_pool && el < sizeof(extra)) {
    char pool[NFH_ADDR_STRLEN];
    int prefix;
    nfh_addr block = nfh__exf_pool_of(&p->k.b, &prefix);
    nfh_addr_format(&block, pool, sizeof(pool));
    unsigned many = (unsigned)x->p.popular_hosts; /* the sets' cap */
    el += (size_t)snprintf(
        extra + el, sizeof(extra) - el,
        "; %u%s other internal hosts upload to %u%s "
        "networks of %s/%d (a cloud service's pool)",
        d->f.pool_uploaders - 1, d->f.pool_uploaders >= many ? "+" : "",
        d->f.pool_nets, d->f.pool_nets >= many ? "+" : "", pool, prefix);
  }
  if (d->v.first_night && el < sizeof(extra))
    el += (size_t)snprintf(extra + el, sizeof(extra) - el, "%s",
                           first_time_text(&d->f));
  size_t at = d->pair;
  if (x->joined && at < x->npairs && x->joined[at] && el < sizeof(extra)) {
    char net[NFH_ADDR_STRLEN];
    nfh_addr block = nfh_addr_network(&p->k.a, 64);
    nfh_addr_format(&block, net, sizeof(net));
    unsigned earlier = 0; /* addresses of earlier runs */
    for (size_t j = 0; j < x->nadopted; j++)
      earlier += x->adopted[j].pair == at;
    if (earlier)
      el += (size_t)snprintf(extra + el, sizeof(extra) - el,
                             "; from this and earlier runs' addresses of "
                             "%s/64 one after another (one host's temporary "
                             "IPv6 addresses)",
                             net);
    else
      el += (size_t)snprintf(extra + el, sizeof(extra) - el,
                             "; from %u addresses of %s/64 one after another "
                             "(one host's temporary IPv6 addresses)",
                             x->joined[at] + 1u, net);
  }
  if (el < sizeof(extra))
    sampled_note(d->f.sampled, p->max_sampling, extra + el,
                 sizeof(extra) - el);
  char summary[512];
  human_span(d->span_ms, span, sizeof(span));
  if (d->v.kind == NFH_EXF_BURSTS) {
    snprintf(summary, sizeof(summary),
             "%s sent %s to %s in %u bursts over %s (PCR %.2f), %s%s", src,
             vol, dstport, d->f.bursts, span, d->f.pcr, rare, extra);
  } else if (d->v.kind == NFH_EXF_SLOW) {
    double hours = (double)d->span_ms / (double)HOUR_MS;
    human_bytes((double)d->f.out / (hours > 1 ? hours : 1), rate,
                sizeof(rate));
    snprintf(summary, sizeof(summary),
             "%s sent %s to %s over %s (about %s/h, in %u clock hours, PCR "
             "%.2f), %s%s",
             src, vol, dstport, span, rate, d->f.stretch_active, d->f.pcr, rare,
             extra);
  } else {
    snprintf(summary, sizeof(summary), "%s sent %s to %s in %s (PCR %.2f), %s%s",
             src, vol, dstport, span, d->f.pcr, rare, extra);
  }

  jbuf j = {{0}, 0, 0};
  jadd(&j, "{\"kind\": \"%s\", \"bytes_out\": %" PRIu64
           ", \"bytes_in\": %" PRIu64 ", \"pcr\": %.3f",
       d->v.kind == NFH_EXF_SLOW     ? "low_and_slow"
       : d->v.kind == NFH_EXF_BURSTS ? "bursts"
                                     : "bulk",
       d->f.out,
       d->f.in, d->f.pcr);
  jadd(&j, ", \"duration_s\": %.0f, \"connections\": %u, \"dst_port\": %u"
           ", \"proto\": %u",
       (double)d->span_ms / 1000.0, p->conns, p->port, p->proto);
  /* The episode's hours: summary numbers and the MB of each hour (the
   * latest 48 at most). */
  const episode *e = &d->episode;
  uint64_t maxh = 0;
  for (size_t i = e->from; i <= e->to; i++)
    if (s->v[i].out > maxh)
      maxh = s->v[i].out;
  size_t from = e->to + 1 - e->from > 48 ? e->to + 1 - 48 : e->from;
  jadd(&j, ", \"hourly\": {\"hours\": %u, \"active_hours\": %u"
           ", \"max_bytes\": %" PRIu64 ", \"peak2_bytes\": %" PRIu64
           ", \"peak_hour_ms\": %" PRIu64 ", \"first_hour_ms\": %" PRIu64
           ", \"mb\": [",
       e->hours, e->active, maxh, d->f.peak2,
       (uint64_t)d->peak_hour * HOUR_MS, (uint64_t)s->v[from].hour * HOUR_MS);
  /* One value per clock hour, idle hours as 0. */
  for (uint32_t h = s->v[from].hour, k = (uint32_t)from; h <= s->v[e->to].hour;
       h++) {
    double mb = 0;
    if (k <= e->to && s->v[k].hour == h)
      mb = (double)s->v[k++].out / 1e6;
    jadd(&j, "%s%.1f", h == s->v[from].hour ? "" : ", ", mb);
  }
  int earlier = 0;
  for (size_t k = e->from; k <= e->to && !earlier; k++)
    earlier = s->v[k].from_state;
  /* The state keeps an hour's bytes in KiB, rounded up, and its times
   * to the second: totals with earlier runs' hours are a few KB above
   * nfdump's (a tester's analyst pasted them into a ticket as exact). */
  jadd(&j, "], \"from_earlier_runs\": %s, \"bytes_exact\": %s}",
       earlier ? "true" : "false", earlier ? "false" : "true");
  jadd(&j,
       ", \"destination\": {\"prevalence\": %u, \"uploaders\": %u"
       ", \"popular\": %s, \"popular_at\": %u, \"network_prevalence\": %u"
       ", \"network_uploaders\": %u, \"pool_uploaders\": %u"
       ", \"pool_networks\": %u, \"novel\": %s",
       /* The source included: an ICMP tunnel's echoes come back at its
        * size, and its own upload was never noted as one ("uploaders:
        * 0" for the uploader, a tester's). */
       d->f.prevalence, d->f.uploaders ? d->f.uploaders : 1,
       d->f.popular ? "true" : "false", (unsigned)x->p.popular_hosts,
       d->net_prevalence, d->f.net_uploaders ? d->f.net_uploaders : 1,
       d->f.pool_uploaders, d->f.pool_nets,
       d->f.novel == 1   ? "true"
       : d->f.novel == 0 ? "false"
                         : "null");
  if (d->dest_first_ms)
    jadd(&j, ", \"first_seen_ms\": %" PRIu64, d->dest_first_ms);
  jadd(&j, "}");
  static const char *const level[] = {"none", "hour_of_day", "hour_of_week"};
  jadd(&j, ", \"baseline\": {\"level\": \"%s\", \"usual_bytes_per_hour\": "
           "%.0f, \"observations\": %u, \"host_bytes_at_peak_hour\": %.0f"
           ", \"ratio\": %.2f, \"floor_bytes\": %.0f}",
       level[d->f.baseline_level], d->usual_bytes, d->usual_seen,
       d->host_hour_bytes, d->f.host_ratio, x->p.host_floor);
  jadd(&j,
       ", \"pair_history\": {\"days_before\": %u, \"seasonal_share\": "
       "%.2f, \"repeat_share\": %.2f, \"habitual_days\": %u}",
       d->f.days_before, d->f.seasonal_share, d->f.repeat_share,
       d->f.habit_days_seen);
  jadd(&j, ", \"sampling\": {\"sampled\": %s, \"interval\": %u"
           ", \"relative_error\": %.3f%s}",
       d->f.sampled ? "true" : "false", sampling_interval(d->f.sampled,
                                                         p->max_sampling),
       d->f.sampled ? d->f.rel_error : 0.0,
       !d->f.sampled ? ""
       : p->max_sampling > 1
           ? ", \"note\": \"byte totals are estimates scaled by the "
             "sampling interval\""
           : ", \"note\": \"the exporter samples without announcing its "
             "interval: byte totals are raw samples\"");
  jadd(&j,
       ", \"direction_guessed\": %s, \"history_s\": %" PRIu64 ", \"night\": %s",
       d->f.guessed ? "true" : "false", d->f.history_ms / 1000,
       d->f.night ? "true" : "false");
  jadd(&j, ", \"reasons\": [");
  for (size_t i = 0; i < d->v.nreasons; i++)
    jadd(&j, "%s\"%s\"", i ? ", " : "", d->v.reasons[i]);
  jadd(&j, "]}");

  nfh_finding f;
  memset(&f, 0, sizeof(f));
  f.type = DETECTOR;
  f.key = key;
  f.severity = (nfh_severity)d->v.severity;
  f.score = d->v.score;
  f.confidence = d->v.confidence;
  f.src = p->k.a;
  f.dst = p->k.b;
  f.dst_port = p->port;
  f.proto = p->proto;
  f.first_ms = d->first_ms;
  f.last_ms = d->last_ms;
  f.mitre = mitre_for(d, p);
  f.summary = summary;
  f.evidence_json = j.overflow ? NULL : j.s;
  return x->api->emit(x->api->host, &f);
}

static int emit_spread(exfil *x, const verdict *d, const nfh__exf_pair *top) {
  char src[NFH_ADDR_STRLEN], dst[NFH_ADDR_STRLEN], vol[32], big[32];
  nfh_addr_format(&d->src, src, sizeof(src));
  nfh_addr_format(&top->k.b, dst, sizeof(dst));
  char net[NFH_ADDR_STRLEN + 8] = "";
  if (d->net_prefix) {
    char a[NFH_ADDR_STRLEN];
    nfh_addr_format(&d->net, a, sizeof(a));
    snprintf(net, sizeof(net), "%s/%d", a, d->net_prefix);
  }
  char key[2 * NFH_ADDR_STRLEN + 16];
  snprintf(key, sizeof(key), "%s|%s", src, d->net_prefix ? net : "*");
  char summary[400], where[96];
  if (d->net_prefix)
    snprintf(where, sizeof(where), "%u addresses of %s", d->spread_dests,
             net);
  else
    snprintf(where, sizeof(where), "%u rare external destinations",
             d->spread_dests);
  const char *held = d->v.first_night ? first_time_text(&d->f)
                     : d->f.repeat_share >= 0.5
                         ? "; at an hour it uploaded at on another day"
                         : "";
  snprintf(summary, sizeof(summary), "%s sent %s to %s (largest %s to %s)%s%s",
           src, human_bytes((double)d->spread_bytes, vol, sizeof(vol)), where,
           human_bytes((double)d->spread_top_bytes, big, sizeof(big)), dst,
           held, d->f.sampled ? " [sampled, estimated]" : "");
  jbuf j = {{0}, 0, 0};
  jadd(&j,
       "{\"kind\": \"%s\", \"bytes_out\": %" PRIu64
       ", \"destinations\": %u, \"largest_destination\": \"%s\""
       ", \"largest_bytes\": %" PRIu64 ", \"sampling\": {\"sampled\": %s}"
       ", \"severity_rule\": \"%s\"",
       d->net_prefix ? "network" : "spread", d->spread_bytes, d->spread_dests,
       dst, d->spread_top_bytes, d->f.sampled ? "true" : "false",
       sev_word(d->v.severity));
  if (d->net_prefix)
    jadd(&j, ", \"network\": \"%s\"", net);
  jadd(&j, "}");
  nfh_finding f;
  memset(&f, 0, sizeof(f));
  f.type = DETECTOR;
  f.key = key;
  f.severity = (nfh_severity)d->v.severity;
  f.score = d->v.score;
  f.confidence = d->v.confidence;
  f.src = d->src;
  f.dst_port = d->net_prefix ? d->port : -1;
  f.proto = d->net_prefix && d->port >= 0 ? top->proto : -1;
  f.first_ms = d->first_ms;
  f.last_ms = d->last_ms;
  f.mitre = "T1048";
  f.summary = summary;
  f.evidence_json = j.overflow ? NULL : j.s;
  return x->api->emit(x->api->host, &f);
}

/* ------------------------------------------------------------- judging */

/* The series' entry for clock hour 'hour', or NULL. */
static const hour_pt *hour_at(const series *s, int64_t hour) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if ((int64_t)s->v[mid].hour < hour)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < s->n && (int64_t)s->v[lo].hour == hour ? &s->v[lo] : NULL;
}

/* Whether an hour of a pair's series holds an upload. */
static int uploaded_in(const exfil *x, const hour_pt *h) {
  return (double)h->out >= x->p.slow_hour_bytes && h->out > h->in;
}

/* Days, other than 'day', on which this run's hours of the pair hold an
 * upload at hour of day 'hod' (earlier days of a long run, and later
 * ones: a job that recurs is one either way; remembered hours are in the
 * state's counts already), the hour 'skip_hour' aside. */
static unsigned run_days_at(const exfil *x, const series *s, unsigned hod,
                            int64_t day, uint32_t skip_hour) {
  int64_t seen[64];
  unsigned n = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (!s->v[i].from_run || !uploaded_in(x, &s->v[i]) ||
        s->v[i].hour == skip_hour)
      continue;
    const nfh__exf_when *w = &s->v[i].w;
    if (w->hod != hod || w->day == day)
      continue;
    int dup = 0;
    for (unsigned k = 0; k < n && !dup; k++)
      dup = seen[k] == w->day;
    if (!dup && n < 64)
      seen[n++] = w->day;
  }
  return n;
}

/* Other days on which the pair uploaded at hour of day 'hod' (+/- the
 * tolerance), seen from 'day': the state's count without 'day' itself,
 * plus the run's other days. The most over the tolerance window. */
static unsigned habitual(const exfil *x, const nfh__exf_spair *sp,
                         const series *s, size_t at) {
  int tol = (int)x->p.season_tolerance;
  nfh__exf_when w = s->v[at].w;
  unsigned best = 0;
  for (int d = -tol; d <= tol; d++) {
    unsigned h = (unsigned)(((int)w.hod + d + 24) % 24);
    unsigned n = 0;
    if (sp) {
      n = sp->hod_days[h];
      if (n && sp->mark_day == w.day && (sp->mark_mask >> h & 1u))
        n--;
    }
    /* The hour d hours away in time, past midnight, is the same upload
     * going on, not another day at this hour: one from 23:30 to 00:30
     * read "recurring at this hour on 1 other day". */
    uint32_t skip = UINT32_MAX;
    const hour_pt *next = d ? hour_at(s, (int64_t)s->v[at].hour + d) : NULL;
    if (next && next->w.day != w.day && uploaded_in(x, next)) {
      if (next->from_state && n)
        n--;
      skip = next->hour;
    }
    n += run_days_at(x, s, h, w.day, skip);
    if (n > best)
      best = n;
  }
  return best;
}

/* Hours of the day at which the pair ever uploaded (state and run). A
 * pair busy around the clock is a continuous transfer, not a scheduled
 * job, however many days it has been going on. */
static unsigned hours_of_day_used(const exfil *x, const nfh__exf_spair *sp,
                                  const series *s) {
  uint32_t mask = 0;
  for (unsigned h = 0; sp && h < 24; h++)
    if (sp->hod_days[h])
      mask |= 1u << h;
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].from_run && (double)s->v[i].out >= x->p.slow_hour_bytes)
      mask |= 1u << s->v[i].w.hod;
  unsigned n = 0;
  for (; mask; mask &= mask - 1)
    n++;
  return n;
}

/* ------------------------------------------- temporary IPv6 addresses */

/* A host's IPv6 temporary addresses (RFC 8981) change every few hours
 * within its /64: its upload to one destination under two addresses was
 * two uploads, and the destination "1 other internal host uses" (the
 * host itself): a 2 GB theft read as 1.3 GB at low (a tester's IPv6
 * site; high from a fixed address). The pairs of one /64's addresses to
 * one destination whose connections came one after another (this much
 * overlap at a change: the old address may still finish a transfer) are
 * joined into the newest address's pair. */
#define JOIN_OVERLAP_MS (5 * 60 * 1000ull)

typedef struct joinref {
  nfh_addr net, dst;
  uint64_t first_ms, last_ms;
  size_t i;
} joinref;

static int joinref_order(const void *pa, const void *pb) {
  const joinref *a = pa, *b = pb;
  int c = nfh_addr_compare(&a->net, &b->net);
  if (!c)
    c = nfh_addr_compare(&a->dst, &b->dst);
  if (!c && a->first_ms != b->first_ms)
    c = a->first_ms < b->first_ms ? -1 : 1;
  return c;
}

static int same_join(const joinref *a, const joinref *b) {
  return nfh_addr_equal(&a->net, &b->net) && nfh_addr_equal(&a->dst, &b->dst);
}

/* Joins this run's pairs as said above; sets x->joined_into and
 * x->joined. 0, or -1 out of memory. */
static int join_temporary(exfil *x, nfh__exf_pair *pairs, size_t np) {
  x->pairs = pairs;
  x->npairs = np;
  x->joined_into = malloc((np ? np : 1) * sizeof(size_t));
  x->joined = calloc(np ? np : 1, sizeof(uint16_t));
  joinref *r = malloc((np ? np : 1) * sizeof(*r));
  if (!x->joined_into || !x->joined || !r) {
    free(r);
    return -1;
  }
  size_t n = 0;
  for (size_t i = 0; i < np; i++) {
    x->joined_into[i] = SIZE_MAX;
    const nfh__exf_pair *p = &pairs[i];
    if (p->k.a.family != 6 || !p->conns || !p->first_ms)
      continue;
    r[n].net = nfh_addr_network(&p->k.a, 64);
    r[n].dst = p->k.b;
    r[n].first_ms = p->first_ms;
    r[n].last_ms = p->last_ms;
    r[n].i = i;
    n++;
  }
  if (n > 1)
    qsort(r, n, sizeof(*r), joinref_order);
  int rc = 0;
  for (size_t a = 0; a < n && rc == 0;) {
    size_t b = a + 1;
    while (b < n && same_join(&r[a], &r[b]))
      b++;
    /* One after another (sorted by first connection), else two hosts. */
    int sequential = b - a >= 2;
    uint64_t until = r[a].last_ms;
    size_t newest = a;
    for (size_t k = a + 1; k < b && sequential; k++) {
      if (r[k].first_ms + JOIN_OVERLAP_MS < until)
        sequential = 0;
      if (r[k].last_ms > until)
        until = r[k].last_ms;
      if (r[k].last_ms >= r[newest].last_ms)
        newest = k;
    }
    for (size_t k = a; k < b && sequential && rc == 0; k++) {
      if (k == newest)
        continue;
      size_t into = r[newest].i, from = r[k].i;
      if (nfh__exf_pair_absorb(&pairs[into], &pairs[from]) != 0) {
        rc = -1;
        break;
      }
      x->joined_into[from] = into;
      x->joined[into]++;
      /* What earlier runs remember of the older address is the newer's
       * too (1: nothing remembered). */
      if (nfh__exf_spair_adopt(x->mem, &pairs[from].k.a, &pairs[into].k.a,
                               &pairs[into].k.b) < 0)
        rc = -1;
    }
    a = b;
  }
  free(r);
  return rc;
}

/* Across runs: a host whose temporary address changes every hour showed
 * each hourly run a new address's first hour of a slow upload, and the
 * memory kept each address's hour apart (30 MB an hour for eight hours
 * was never found). A remembered pair of the same /64 to the same
 * destination, whose last bytes went at most this long before this
 * run's pair began (and not after it began, but for JOIN_OVERLAP_MS),
 * is the same host's earlier address: its memory becomes the newer
 * address's. Longer apart, two hosts of one network that used one
 * server on other occasions stay two. */
#define ADOPT_GAP_MS (2 * 3600 * 1000ull)

typedef struct memref {
  nfh_addr net, dst, addr;
  uint64_t end_ms;
} memref;

static int memref_order(const void *pa, const void *pb) {
  const memref *a = pa, *b = pb;
  int c = nfh_addr_compare(&a->net, &b->net);
  return c ? c : nfh_addr_compare(&a->dst, &b->dst);
}

/* Whether this run has a pair (a, b) that is no one's part. */
static int run_has_pair(const exfil *x, const nfh_addr *a, const nfh_addr *b) {
  for (size_t j = 0; j < x->npairs; j++)
    if (nfh_addr_equal(&x->pairs[j].k.b, b) &&
        nfh_addr_equal(&x->pairs[j].k.a, a))
      return 1;
  return 0;
}

/* Gives this run's IPv6 pairs the memory of their host's earlier
 * addresses, as said above; records them in x->adopted. 0 or -1. */
static int adopt_rotated(exfil *x, nfh__exf_pair *pairs, size_t np) {
  size_t nmem;
  const nfh__exf_spair *mem = nfh__exf_spair_all(x->mem, &nmem);
  memref *r = NULL;
  size_t n = 0;
  for (size_t k = 0; k < nmem; k++) {
    const nfh__exf_spair *sp = &mem[k];
    if (sp->k.a.family != 6 || !sp->nhist)
      continue;
    if (!r && !(r = malloc(nmem * sizeof(*r))))
      return -1;
    const nfh__exf_hist *h = &sp->hist[sp->nhist - 1];
    r[n].net = nfh_addr_network(&sp->k.a, 64);
    r[n].dst = sp->k.b;
    r[n].addr = sp->k.a;
    r[n].end_ms = (uint64_t)h->hour * 3600000ull +
                  (h->last_s1 ? (uint64_t)(h->last_s1 - 1) * 1000 : 3599999);
    n++;
  }
  if (!n)
    return 0;
  qsort(r, n, sizeof(*r), memref_order);
  int rc = 0;
  for (size_t i = 0; i < np && rc == 0; i++) {
    const nfh__exf_pair *p = &pairs[i];
    if (p->k.a.family != 6 || !p->conns || !p->first_ms ||
        x->joined_into[i] != SIZE_MAX)
      continue;
    memref want;
    want.net = nfh_addr_network(&p->k.a, 64);
    want.dst = p->k.b;
    /* The first of the run of equal (net, dst). */
    size_t lo = 0, hi = n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (memref_order(&r[mid], &want) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    for (size_t k = lo; k < n && memref_order(&r[k], &want) == 0; k++) {
      const memref *m = &r[k];
      if (nfh_addr_equal(&m->addr, &p->k.a) ||
          m->end_ms > p->first_ms + JOIN_OVERLAP_MS ||
          m->end_ms + ADOPT_GAP_MS < p->first_ms ||
          run_has_pair(x, &m->addr, &p->k.b))
        continue;
      struct adopted *grown =
          realloc(x->adopted, (x->nadopted + 1) * sizeof(*grown));
      if (!grown ||
          nfh__exf_spair_adopt(x->mem, &m->addr, &p->k.a, &p->k.b) < 0) {
        if (grown)
          x->adopted = grown;
        rc = -1;
        break;
      }
      x->adopted = grown;
      x->adopted[x->nadopted].pair = i;
      x->adopted[x->nadopted].host = nfh__exf_host_hash(&m->addr);
      x->nadopted++;
      if (x->joined[i] < UINT16_MAX)
        x->joined[i]++;
    }
  }
  free(r);
  return rc;
}

/* 'count' of set 'set' less the addresses joined into pair i that it
 * holds (at least 1; a saturated set as it is). */
static unsigned less_joined(const exfil *x, size_t i, const nfh__exf_hset *set,
                            unsigned count) {
  if (set->sat)
    return count;
  unsigned in = 0;
  for (size_t j = 0; j < x->npairs; j++)
    if (x->joined_into[j] == i)
      in += (unsigned)nfh__exf_hset_has(set,
                                        nfh__exf_host_hash(&x->pairs[j].k.a));
  for (size_t j = 0; j < x->nadopted; j++)
    if (x->adopted[j].pair == i)
      in += (unsigned)nfh__exf_hset_has(set, x->adopted[j].host);
  return count > in + 1 ? count - in : 1;
}

/* The prevalence and uploaders of pair i's destination da with the
 * addresses joined into it counted as the one host they are. A set that
 * overflowed (popular: the addresses may have filled it) is recounted
 * from this run's pairs when the destination is this run's news. */
static void joined_prevalence(const exfil *x, size_t i, const nfh__exf_dest *da,
                              unsigned *prevalence, unsigned *uploaders) {
  if (!da->hosts.sat) {
    *prevalence = less_joined(x, i, &da->hosts, *prevalence);
  } else if (da->first_ms >= x->api->window_start_ms(x->api->host)) {
    unsigned others = 0;
    for (size_t j = 0; j < x->npairs; j++)
      others += j != i && x->joined_into[j] == SIZE_MAX &&
                nfh_addr_equal(&x->pairs[j].k.b, &x->pairs[i].k.b) &&
                (x->pairs[j].f_out || x->pairs[j].f_in);
    if (others + 1 < *prevalence)
      *prevalence = others + 1;
  }
  *uploaders = less_joined(x, i, &da->uploaders, *uploaders);
}

static void features(exfil *x, nfh__exf_pair *p, const nfh__exf_spair *sp,
                     const series *s, const episode *ep, const sums *hs,
                     verdict *d) {
  nfh__exf_features *f = &d->f;
  const nfh__exf_params *P = &x->p;
  uint64_t peak = 0, peak2 = 0;
  uint32_t peak_hour = s->v[ep->from].hour;
  int peak_remembered = 0; /* from the state: taught by an earlier run */
  for (size_t i = ep->from; i <= ep->to; i++) {
    if (s->v[i].out > peak) {
      peak = s->v[i].out;
      peak_hour = s->v[i].hour;
      peak_remembered = !s->v[i].from_run;
    }
    uint64_t two = s->v[i].out;
    if (i + 1 <= ep->to && s->v[i + 1].hour == s->v[i].hour + 1)
      two += s->v[i + 1].out;
    if (two > peak2)
      peak2 = two;
  }
  f->out = ep->out;
  f->in = ep->in;
  f->pcr = ep->out + ep->in ? ((double)ep->out - (double)ep->in) /
                                  ((double)ep->out + (double)ep->in)
                            : 0;
  f->peak2 = peak2;
  d->peak_hour = peak_hour;
  f->stretch_hours = ep->hours;
  f->stretch_active = ep->active;
  f->stretch_bytes = ep->out;

  unsigned popular = (unsigned)P->popular_hosts;
  const nfh__exf_dest *da = nfh__exf_dest_find(x->mem, &p->k.b,
                                               NFH_EXF_DEST_ADDR);
  const nfh__exf_dest *dn = nfh__exf_dest_find(x->mem, &p->k.b,
                                               NFH_EXF_DEST_NET);
  f->prevalence = da ? nfh__exf_hset_count(&da->hosts, popular) : 1;
  if (!f->prevalence)
    f->prevalence = 1;
  f->uploaders = da ? nfh__exf_hset_count(&da->uploaders, popular) : 1;
  int joined = x->joined && d->pair < x->npairs && x->joined[d->pair];
  if (da && joined)
    joined_prevalence(x, d->pair, da, &f->prevalence, &f->uploaders);
  f->popular = f->prevalence >= popular;
  d->net_prevalence = dn ? nfh__exf_hset_count(&dn->hosts, popular) : 0;
  f->net_uploaders = dn ? nfh__exf_hset_count(&dn->uploaders, popular) : 0;
  if (dn && joined) {
    d->net_prevalence = less_joined(x, d->pair, &dn->hosts, d->net_prevalence);
    f->net_uploaders =
        less_joined(x, d->pair, &dn->uploaders, f->net_uploaders);
  }
  f->net_popular = d->net_prevalence >= popular;
  const nfh__exf_dest *dp =
      nfh__exf_dest_find(x->mem, &p->k.b, NFH_EXF_DEST_POOL);
  f->pool_uploaders = dp ? nfh__exf_hset_count(&dp->uploaders, popular) : 0;
  if (dp && joined)
    f->pool_uploaders =
        less_joined(x, d->pair, &dp->uploaders, f->pool_uploaders);
  f->pool_nets = dp ? nfh__exf_hset_count(&dp->hosts, popular) : 0;
  f->history_ms = x->api->history_ms(x->api->host);
  d->dest_first_ms = da ? da->first_ms : 0;

  /* The source's baseline at the peak hour. */
  nfh__exf_when pw = nfh__exf_clock(P, peak_hour); /* once per episode */
  /* At night: its peak hour, or a third of its bytes. Three Kafka brokers
   * replicating around the clock at one rate were medium or critical by
   * which hour their bytes happened to peak at. */
  uint64_t night_out = 0;
  for (size_t i = ep->from; i <= ep->to; i++)
    if (nfh__exf_night(P, s->v[i].w.hod))
      night_out += s->v[i].out;
  f->night = nfh__exf_night(P, pw.hod) || (ep->out && 3 * night_out >= ep->out);
  const nfh__exf_host *host = nfh__exf_host_find(x->mem, &p->k.a);
  uint64_t hx = sum_at(hs, &p->k.a, peak_hour);
  if (hx < peak)
    hx = peak; /* the peak may be a remembered hour */
  f->baseline_level =
      nfh__exf_host_usual(P, host, pw, peak_remembered ? (double)hx : 0,
                          &d->usual_bytes, &d->usual_seen);
  d->host_hour_bytes = (double)hx;
  f->host_ratio =
      ((double)hx + P->host_floor) / (d->usual_bytes + P->host_floor);

  /* The pair's habits: bytes at habitual hours of day, earlier days. */
  uint64_t sig = 0, hab = 0, rep = 0;
  unsigned hab_days = 0;
  int around_the_clock = hours_of_day_used(x, sp, s) > 12;
  f->around_the_clock = around_the_clock;
  for (size_t i = ep->from; i <= ep->to && !around_the_clock; i++) {
    if ((double)s->v[i].out < P->slow_hour_bytes)
      continue;
    sig += s->v[i].out;
    unsigned n = habitual(x, sp, s, i);
    if (n >= 1)
      rep += s->v[i].out;
    if (n > hab_days)
      hab_days = n;
    if (n >= (unsigned)P->habit_days)
      hab += s->v[i].out;
  }
  f->seasonal_share = sig ? (double)hab / (double)sig : 0;
  f->repeat_share = sig ? (double)rep / (double)sig : 0;
  f->habit_days_seen = hab_days;
  /* Distinct days with an upload before the day of the episode's start:
   * the state's (without that day) and the run's. */
  int64_t ep_day = s->v[ep->from].w.day;
  unsigned before = 0;
  if (sp) {
    before = sp->days_seen;
    if (before && sp->mark_day >= ep_day)
      before--;
  }
  int64_t days[64];
  unsigned nd = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (!s->v[i].from_run || (double)s->v[i].out < P->slow_hour_bytes)
      continue;
    int64_t day = s->v[i].w.day;
    if (day >= ep_day || (sp && day <= sp->mark_day))
      continue;
    int dup = 0;
    for (unsigned k = 0; k < nd && !dup; k++)
      dup = days[k] == day;
    if (!dup && nd < 64)
      days[nd++] = day;
  }
  f->days_before = before + nd;

  f->sampled = p->sampled > 0;
  double sampled_pkts = (double)p->c_pkts /
                        (double)(p->max_sampling > 1 ? p->max_sampling : 1);
  f->rel_error = f->sampled ? 1.0 / sqrt(sampled_pkts > 1 ? sampled_pkts : 1)
                            : 0;
  f->guessed = p->conns && 2 * p->guessed > p->conns;
  f->one_way = p->c_in == 0;
  f->blind_exporter = !exporter_two_way(x);
  f->datagrams = p->proto == UDP;
  f->icmp = is_icmp(p->proto);
  f->packet_bytes = p->c_pkts ? (double)p->c_out / (double)p->c_pkts : 0;

  /* The episode's span: from the second its first hour's bytes out
   * began to the second its last hour's ended (kept by the state for
   * hours of earlier runs; their clock hours where a state written
   * before that says nothing), narrowed to this run's connections (the
   * big ones when there are) at the ends that are this run's alone. An
   * hour that earlier runs had bytes in too is not narrowed to this
   * run's: an upload from 15:10 to 16:00 over two hourly runs read "3.0
   * GB in 5 min" from 15:54, the second run's piece. With the hours
   * alone, runs of one file each read a 9-minute upload as one of 60
   * minutes, and a slow one as an hour longer, high for it. */
  const hour_pt *first_hour = &s->v[ep->from], *last_hour = &s->v[ep->to];
  uint64_t ep_first = (uint64_t)first_hour->hour * HOUR_MS;
  uint64_t ep_last = (uint64_t)(last_hour->hour + 1) * HOUR_MS - 1;
  uint64_t c_first = p->b_first ? p->b_first : p->first_ms;
  uint64_t c_last = p->b_first ? p->b_last : p->last_ms;
  d->first_ms = ep_first;
  d->last_ms = ep_last;
  if (first_hour->first_s1)
    d->first_ms += (uint64_t)(first_hour->first_s1 - 1) * 1000;
  if (last_hour->last_s1)
    d->last_ms = (uint64_t)last_hour->hour * HOUR_MS +
                 (uint64_t)last_hour->last_s1 * 1000 - 1;
  if (s->v[ep->from].from_run && !s->v[ep->from].from_state &&
      c_first > ep_first && c_first < ep_last)
    d->first_ms = c_first;
  if (s->v[ep->to].from_run && !s->v[ep->to].from_state &&
      c_last < ep_last && c_last > d->first_ms)
    d->last_ms = c_last;
  d->span_ms = d->last_ms > d->first_ms ? d->last_ms - d->first_ms : 0;
  f->span_ms = d->span_ms;
  /* The data before the episode: from the state's first (this run's
   * start less the earlier runs' span) to the episode's first hour. An
   * episode that began in an earlier run had the whole history counted
   * before it: a backup server's uploads every four hours, one episode
   * since its first night, lost the first night's cap in the evening
   * run and was high (medium in one run over the same files). */
  uint64_t run_start = x->api->window_start_ms(x->api->host);
  if (run_start) {
    uint64_t data_from =
        run_start > f->history_ms ? run_start - f->history_ms : 0;
    f->seen_before_ms = ep_first > data_from ? ep_first - data_from : 0;
  } else {
    f->seen_before_ms = f->history_ms;
  }

  /* A destination first seen within an hour of this episode's start was
   * brought by this transfer (an hourly run saw its beginning): it was
   * new then. Whether "new" means "never seen" depends on how much
   * history there was to see it in. */
  f->net_known = dn && dn->first_ms + HOUR_MS < ep_first;
  int new_here = !da || da->first_ms + HOUR_MS >= ep_first;
  if (!new_here)
    f->novel = 0;
  else
    /* An hour of slack: three daily runs make a history of 2 d 23 h
     * 59 min from the first flow to the last. */
    f->novel = f->history_ms + HOUR_MS >= (uint64_t)P->learn_days * DAY_MS
                   ? 1
                   : -1;
}

/* Many rare destinations from one source, none of which stood out. */
typedef struct cand {
  nfh_addr src;
  size_t pair;
  uint64_t bytes;
} cand;

static int cand_order(const void *pa, const void *pb) {
  const cand *a = pa, *b = pb;
  return nfh_addr_compare(&a->src, &b->src);
}

static int spread_findings(exfil *x, nfh__exf_pair *pairs, cand *c, size_t nc,
                           const vlist *found, vlist *out) {
  const nfh__exf_params *P = &x->p;
  qsort(c, nc, sizeof(*c), cand_order);
  for (size_t i = 0; i < nc;) {
    size_t j = i;
    uint64_t sum = 0;
    size_t top = c[i].pair;
    uint64_t top_bytes = 0;
    int sampled = 0;
    uint64_t first = UINT64_MAX, last = 0;
    while (j < nc && nfh_addr_compare(&c[j].src, &c[i].src) == 0) {
      sum += c[j].bytes;
      if (c[j].bytes > top_bytes) {
        top = c[j].pair;
        top_bytes = c[j].bytes;
      }
      sampled |= pairs[c[j].pair].sampled > 0;
      if (pairs[c[j].pair].first_ms < first)
        first = pairs[c[j].pair].first_ms;
      if (pairs[c[j].pair].last_ms > last)
        last = pairs[c[j].pair].last_ms;
      j++;
    }
    size_t count = j - i;
    int covered = 0;
    for (size_t k = 0; k < found->n && !covered; k++)
      covered = found->v[k].pair != SIZE_MAX &&
                found->v[k].v.severity >= NFH_SEV_MEDIUM &&
                nfh_addr_compare(&pairs[found->v[k].pair].k.a, &c[i].src) == 0;
    if (!covered && (double)count >= P->spread_min_dests &&
        (double)sum >= P->spread_min_bytes) {
      verdict *d = vlist_add(out);
      if (!d)
        return -1;
      d->pair = SIZE_MAX;
      d->src = c[i].src;
      d->spread_dests = (unsigned)count;
      d->spread_bytes = sum;
      d->spread_top = top;
      d->spread_top_bytes = top_bytes;
      d->v.kind = NFH_EXF_BULK;
      d->v.severity = (double)sum >= P->high_bytes ? NFH_SEV_HIGH
                                                   : NFH_SEV_MEDIUM;
      d->v.score = (d->v.severity == NFH_SEV_HIGH ? 70 : 45) +
                   15.0 * fmin(1.0, log10((double)sum / P->spread_min_bytes + 1));
      d->v.confidence = sampled ? 0.5 : 0.6;
      d->f.sampled = sampled;
      d->first_ms = first;
      d->last_ms = last;
    }
    i = j;
  }
  return 0;
}

/* The network of a that findings fold into: its /24 (a /64), or with
 * 'wide' its /16 (a /48), where a storage service's front-ends lie in
 * many /24s (rclone's 900 MB over 20 addresses of 52.216.0.0/16 were 20
 * medium findings of 41-52 MB and no total). */
static nfh_addr net_of(const nfh_addr *a, int wide, int *prefix) {
  /* A NAT64 address is an IPv4 host: its /24 (/16). */
  if (a->family == 4)
    *prefix = wide ? 16 : 24;
  else if (nfh_addr_nat64(a, NULL))
    *prefix = wide ? 112 : 120;
  else
    *prefix = wide ? 48 : 64;
  return nfh_addr_network(a, (unsigned)*prefix);
}

typedef struct netref {
  nfh_addr src, net;
  int prefix; /* of net */
  size_t at;  /* index in the found list */
} netref;

static int netref_order(const void *pa, const void *pb) {
  const netref *a = pa, *b = pb;
  int c = nfh_addr_compare(&a->src, &b->src);
  if (!c)
    c = nfh_addr_compare(&a->net, &b->net);
  return c ? c : (a->at < b->at ? -1 : a->at > b->at);
}

/* One upload split over many addresses of one network (a cloud bucket's
 * front-ends): spread_min_dests or more of a source's findings there are
 * one finding, at least as severe as the worst of them, and high from
 * high_bytes in all (12 medium findings of 125 MB each were 1.5 GB).
 * Run for /24s (/64s), then with 'wide' for /16s (/48s) over the
 * findings left. */
/* Whether src has a spread finding in found (its rare destinations
 * told as one already). */
static int has_spread(const vlist *found, const nfh_addr *src) {
  for (size_t i = 0; i < found->n; i++)
    if (found->v[i].pair == SIZE_MAX && !found->v[i].net_prefix &&
        nfh_addr_equal(&found->v[i].src, src))
      return 1;
  return 0;
}

static int fold_networks(exfil *x, nfh__exf_pair *pairs, vlist *found,
                         int wide) {
  const nfh__exf_params *P = &x->p;
  size_t n0 = found->n;
  netref *r = malloc((n0 ? n0 : 1) * sizeof(*r));
  if (!r)
    return -1;
  size_t nr = 0;
  for (size_t i = 0; i < n0; i++) {
    const verdict *d = &found->v[i];
    if (d->pair == SIZE_MAX || d->v.severity < NFH_SEV_INFO || d->f.popular)
      continue;
    /* A /16 holds many services: its fold is for a source whose
     * findings no spread finding sums already. */
    if (wide && has_spread(found, &pairs[d->pair].k.a))
      continue;
    r[nr].src = pairs[d->pair].k.a;
    r[nr].net = net_of(&pairs[d->pair].k.b, wide, &r[nr].prefix);
    r[nr].at = i;
    nr++;
  }
  if (nr > 1)
    qsort(r, nr, sizeof(*r), netref_order);
  int rc = 0;
  for (size_t i = 0; i < nr && rc == 0;) {
    size_t j = i + 1;
    while (j < nr && nfh_addr_compare(&r[j].src, &r[i].src) == 0 &&
           nfh_addr_compare(&r[j].net, &r[i].net) == 0)
      j++;
    if ((double)(j - i) < P->spread_min_dests) {
      i = j;
      continue;
    }
    uint64_t sum = 0;
    int worst = NFH_SEV_INFO, sampled = 0, port = -2;
    double top_score = 0;
    size_t top = found->v[r[i].at].pair;
    uint64_t top_bytes = 0;
    uint64_t first = UINT64_MAX, last = 0;
    /* Bytes of members the judge held down for their time: a first
     * night, or an hour they uploaded at on another day. */
    uint64_t night_bytes = 0, habit_bytes = 0, dark_bytes = 0;
    for (size_t k = i; k < j; k++) {
      const verdict *d = &found->v[r[k].at];
      const nfh__exf_pair *p = &pairs[d->pair];
      sum += d->f.out;
      if (nfh__exf_first_night(&d->v, &d->f)) {
        night_bytes += d->f.out;
        dark_bytes += d->f.night ? d->f.out : 0;
      } else if (d->f.seasonal_share >= 0.5 || d->f.repeat_share >= 0.5)
        habit_bytes += d->f.out;
      worst = d->v.severity > worst ? d->v.severity : worst;
      top_score = d->v.score > top_score ? d->v.score : top_score;
      sampled |= d->f.sampled;
      /* By the bytes the sum counts (a pair's whole upload, earlier
       * runs' hours included), not this run's connections: hourly runs
       * read "largest 9.1 MB" beside 119 MB to that address. */
      if (d->f.out > top_bytes) {
        top = d->pair;
        top_bytes = d->f.out;
      }
      port = port == -2 ? p->port : (port == p->port ? port : -1);
      if (d->first_ms < first)
        first = d->first_ms;
      if (d->last_ms > last)
        last = d->last_ms;
    }
    /* Other internal sources with findings into the same network: a
     * shared target (three CI runners pushing images to a registry's
     * front-ends), whose sum is no one host's theft: not raised. */
    unsigned others = 0;
    for (size_t k = 0; k < nr && others + 1 < (unsigned)P->shared_uploaders;
         k++)
      if (nfh_addr_compare(&r[k].net, &r[i].net) == 0 &&
          nfh_addr_compare(&r[k].src, &r[i].src) != 0 &&
          (k == 0 || nfh_addr_compare(&r[k].src, &r[k - 1].src) != 0 ||
           nfh_addr_compare(&r[k].net, &r[k - 1].net) != 0))
        others++;
    int shared = others + 1 >= (unsigned)P->shared_uploaders;
    /* What held the members down holds their sum: a PACS's nightly
     * replication of 52 GB to four addresses of its archive's /24 was
     * high on its first night and again on the next (each address
     * medium: a first night, then a repeat), above the night's 3 GB
     * theft. */
    int first_night = 2 * night_bytes >= sum;
    int habit = !first_night && 2 * (night_bytes + habit_bytes) >= sum;
    int sev = worst;
    if ((double)sum >= P->high_bytes && sev < NFH_SEV_HIGH && !shared &&
        !first_night && !habit)
      sev = NFH_SEV_HIGH;
    if (first_night && sev > NFH_SEV_MEDIUM)
      sev = NFH_SEV_MEDIUM;
    /* The list may move: take what is needed first. */
    nfh_addr src = r[i].src, net = r[i].net;
    int prefix = r[i].prefix;
    verdict *f = vlist_add(found);
    if (!f) {
      rc = -1;
      break;
    }
    for (size_t k = i; k < j; k++)
      found->v[r[k].at].v.severity = -1; /* told by the network's */
    f->pair = SIZE_MAX;
    f->src = src;
    f->net = net;
    f->net_prefix = prefix;
    f->port = port >= 0 ? port : -1;
    f->spread_dests = (unsigned)(j - i);
    f->spread_bytes = sum;
    f->spread_top = top;
    f->spread_top_bytes = top_bytes;
    f->v.kind = NFH_EXF_BULK;
    f->v.severity = sev;
    f->v.first_night = first_night;
    f->f.night = 2 * dark_bytes >= night_bytes;
    f->f.repeat_share = habit ? 1.0 : 0.0;
    f->v.score = fmin(100.0, top_score + 5.0 * (sev - worst) +
                                 3.0 * log2((double)(j - i)));
    f->v.confidence = sampled ? 0.5 : 0.75;
    f->f.sampled = sampled;
    f->first_ms = first;
    f->last_ms = last;
    i = j;
  }
  free(r);
  return rc;
}

/* ------------------------------------------------------------ learning */

typedef struct addr_list {
  nfh_addr *v;
  size_t n, cap;
} addr_list;

static void collect_host(void *user, const nfh__exf_host *h) {
  addr_list *l = user;
  if (l->n < l->cap)
    l->v[l->n++] = h->k.a;
}

static int addr_order(const void *a, const void *b) {
  return nfh_addr_compare(a, b);
}

/* Teaches the baselines of every remembered host and of every host that
 * uploaded in this run the hours the run covered, silence included, and
 * the pairs their hours. */
static int learn(exfil *x, nfh__exf_pair *pairs, size_t np, const sums *hs) {
  const nfh__exf_params *P = &x->p;
  size_t nh;
  const uint8_t *slots;
  const uint32_t *hours = nfh__exf_track_hours(x->track, &nh, &slots);
  if (!hours)
    return -1;
  size_t nd, nhost, npair;
  nfh__exf_memory_counts(x->mem, &nd, &nhost, &npair);
  /* Hosts: the remembered ones and those of this run's sums, once. */
  addr_list l = {NULL, 0, nhost + hs->n + 1};
  l.v = malloc(l.cap * sizeof(nfh_addr));
  if (!l.v)
    return -1;
  nfh__exf_host_each(x->mem, collect_host, &l);
  for (size_t i = 0; i < hs->n; i++)
    if (!i || nfh_addr_compare(&hs->v[i].host, &hs->v[i - 1].host) != 0)
      l.v[l.n++] = hs->v[i].host;
  qsort(l.v, l.n, sizeof(nfh_addr), addr_order);
  size_t w = 0;
  for (size_t r = 0; r < l.n; r++)
    if (!w || nfh_addr_compare(&l.v[w - 1], &l.v[r]) != 0)
      l.v[w++] = l.v[r];
  l.n = w;
  int rc = 0;
  for (size_t h = 0; h < nh && rc == 0; h++) {
    nfh__exf_when wh = nfh__exf_clock(P, hours[h]);
    uint64_t ms = (uint64_t)hours[h] * HOUR_MS;
    /* An hour this run saw only part of (nfcapd -x: a run per file) is
     * added up in the memory across runs, and taught once they have
     * covered it. */
    uint16_t seen = slots[h] < COVERED_SLOTS
                        ? nfh__exf_track_slots(x->track, hours[h])
                        : 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
      double bytes = (double)sum_at(hs, &l.v[i], hours[h]);
      rc = seen ? nfh__exf_host_learn_part(x->mem, &l.v[i], wh, hours[h],
                                           seen, bytes, COVERED_SLOTS)
                : nfh__exf_host_learn(x->mem, &l.v[i], wh, bytes, ms);
    }
  }
  free(l.v);
  for (size_t i = 0; i < np && rc == 0; i++) {
    nfh__exf_pair *p = &pairs[i];
    if (!is_transfer(x, p))
      continue;
    for (uint32_t c = 0; c < p->ncells && rc == 0; c++) {
      const nfh__exf_cell *cell = nfh__exf_pair_cell(p, c);
      /* An hour this run saw only part of (nfcapd -x runs one per
       * file) counts at the rate it saw: a pair sending 6 MB an hour
       * shows 0.5 MB to each 5-minute run and was never remembered, so
       * no run saw its hours add up. The memory sums the parts. */
      unsigned covered = nfh__exf_track_coverage(x->track, cell->hour);
      double hour_out = (double)cell->out * 12.0 /
                        (double)(covered >= 1 && covered < 12 ? covered : 12);
      int significant = hour_out >= P->slow_hour_bytes &&
                        cell->out > cell->in;
      rc = nfh__exf_spair_learn(x->mem, &p->k.a, &p->k.b, cell,
                                nfh__exf_clock(P, cell->hour), significant);
    }
  }
  return rc;
}

/* -------------------------------------------------------------- finish */

/* ------------------------------------------------------------- DNS tunnels */

/* "54,012": counts people read. */
static const char *grouped(uint64_t v, char *buf, size_t len) {
  char digits[24];
  int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
  size_t o = 0;
  for (int i = 0; i < n && o + 2 < len; i++) {
    if (i && (n - i) % 3 == 0)
      buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

static int emit_dns(exfil *x, const nfh__exf_dns_pair *p,
                    const nfh__exf_dns_verdict *v, unsigned alike) {
  char src[NFH_ADDR_STRLEN], dst[NFH_ADDR_STRLEN], key[2 * NFH_ADDR_STRLEN + 8];
  nfh_addr_format(&p->k.a, src, sizeof(src));
  nfh_addr_format(&p->k.b, dst, sizeof(dst));
  snprintf(key, sizeof(key), "dns|%s|%s", src, dst);
  char queries[32], names[32], span[32], rate[32], extra[64];
  uint64_t span_ms = p->last_ms > p->first_ms ? p->last_ms - p->first_ms : 0;
  double hours = (double)span_ms / (double)HOUR_MS;
  grouped(p->queries, queries, sizeof(queries));
  /* The rate over ten minutes at least: a few seconds of queries say
   * nothing of an hour. */
  grouped((uint64_t)((double)p->queries / (hours > 1.0 / 6 ? hours : 1.0 / 6) +
                     0.5),
          rate, sizeof(rate));
  human_bytes((double)v->name_bytes, names, sizeof(names));
  human_span(span_ms, span, sizeof(span));
  int internal = x->api->is_home(x->api->host, &p->k.b);
  sampled_note(p->sampled != 0, p->max_sampling, extra, sizeof(extra));
  char summary[512];
  if (v->not_dns) {
    char vol[32];
    human_bytes((double)p->query_bytes, vol, sizeof(vol));
    snprintf(summary, sizeof(summary),
             "%s sent %s to %s%s on UDP port 53 in %s datagrams of %.0f "
             "bytes on average, answered, in %s: not DNS (queries are "
             "shorter), another protocol on the DNS port%s",
             src, vol, internal ? "internal server " : "", dst, queries,
             v->mean_query, span, extra);
  } else {
    snprintf(summary, sizeof(summary),
             "%s sent %s DNS queries of %.0f bytes on average (%s of names) "
             "to %s%s in %s, about %s an hour: a DNS tunnel, most likely%s%s",
             src, queries, v->mean_query, names,
             internal ? "internal server " : "", dst, span, rate,
             alike >= (unsigned)x->p.dns_shared_clients
                 ? ", or a lookup service other hosts use alike"
                 : "",
             extra);
  }
  jbuf j = {{0}, 0, 0};
  jadd(&j, "{\"kind\": \"%s\", \"queries\": %" PRIu64
           ", \"query_bytes\": %" PRIu64 ", \"mean_query_bytes\": %.1f"
           ", \"name_bytes\": %" PRIu64 ", \"answers\": %" PRIu64
           ", \"answer_bytes\": %" PRIu64 ", \"mean_answer_bytes\": %.1f",
       v->not_dns ? "not_dns" : "dns_tunnel", p->queries, p->query_bytes,
       v->mean_query, v->name_bytes, p->answers,
       p->answer_bytes, v->mean_answer);
  /* The totals are the datagrams', the means the DNS messages' (a
   * tester divided 1,664,000 by 8,000 queries and got 208, not 180). */
  jadd(&j, ", \"header_bytes_per_datagram\": %.0f", v->header_bytes);
  jadd(&j, ", \"connections\": %u, \"duration_s\": %.0f, \"server_internal\": "
           "%s, \"clients_alike\": %u, \"query_bytes_bar\": %.0f",
       p->conns, (double)span_ms / 1000.0, internal ? "true" : "false", alike,
       x->p.dns_query_bytes);
  jadd(&j, ", \"sampling\": {\"sampled\": %s, \"interval\": %u}",
       p->sampled ? "true" : "false",
       sampling_interval(p->sampled != 0, p->max_sampling));
  jadd(&j, ", \"reasons\": [");
  for (size_t i = 0; i < v->nreasons; i++)
    jadd(&j, "%s\"%s\"", i ? ", " : "", v->reasons[i]);
  jadd(&j, "]}");

  nfh_finding f;
  memset(&f, 0, sizeof(f));
  f.type = DETECTOR;
  f.key = key;
  f.severity = (nfh_severity)v->severity;
  f.score = v->score;
  f.confidence = v->confidence;
  f.src = p->k.a;
  f.dst = p->k.b;
  f.dst_port = 53;
  f.proto = UDP;
  f.first_ms = p->first_ms;
  f.last_ms = p->last_ms;
  f.mitre = v->not_dns ? "T1572,T1048" : "T1071.004,T1048.003";
  f.summary = summary;
  f.evidence_json = j.overflow ? NULL : j.s;
  return x->api->emit(x->api->host, &f);
}

static int by_server(const void *pa, const void *pb) {
  const nfh__exf_dns_pair *a = *(nfh__exf_dns_pair *const *)pa;
  const nfh__exf_dns_pair *b = *(nfh__exf_dns_pair *const *)pb;
  return nfh_addr_compare(&a->k.b, &b->k.b);
}

/* A run's pair with at least this many queries and long ones on average
 * is remembered for later runs. */
#define DNS_REMEMBER_QUERIES 10

/* Adds to p what earlier runs saw of its pair within memory_hours of
 * its last query. */
static void add_remembered(const exfil *x, nfh__exf_dns_pair *p) {
  const nfh__exf_dpair *d = nfh__exf_dpair_find(x->mem, &p->k.a, &p->k.b);
  if (!d)
    return;
  uint32_t now = (uint32_t)(p->last_ms / HOUR_MS);
  for (uint16_t i = 0; i < d->nhours; i++) {
    const nfh__exf_dhour *h = &d->hours[i];
    if ((double)h->hour + x->p.memory_hours <= (double)now)
      continue;
    p->queries += h->queries;
    p->query_bytes += h->query_bytes;
    p->answers += h->answers;
    p->answer_bytes += h->answer_bytes;
    if (h->first_ms < p->first_ms)
      p->first_ms = h->first_ms;
    if (h->last_ms > p->last_ms)
      p->last_ms = h->last_ms;
  }
}

/* Remembers the run's pairs of long queries. 0 or -1. */
static int remember_dns(exfil *x, const nfh__exf_dns_pair *run, size_t np) {
  for (size_t i = 0; i < np; i++) {
    const nfh__exf_dns_pair *p = &run[i];
    if (p->queries < DNS_REMEMBER_QUERIES ||
        !nfh__exf_dns_long_queries(&x->p, p))
      continue;
    nfh__exf_dhour h;
    memset(&h, 0, sizeof(h));
    h.queries = p->queries;
    h.query_bytes = p->query_bytes;
    h.answers = p->answers;
    h.answer_bytes = p->answer_bytes;
    h.first_ms = p->first_ms;
    h.last_ms = p->last_ms;
    if (nfh__exf_dpair_learn(x->mem, &p->k.a, &p->k.b, &h) != 0)
      return -1;
  }
  return 0;
}

/* Judges pair p, with 'alike' clients asking its server alike, and emits
 * it when it is a finding at min_severity or above and max_findings
 * leaves room; *emitted counts the findings emitted. */
static void judge_dns(exfil *x, const nfh__exf_dns_pair *p, int two_way,
                      unsigned alike, size_t *emitted) {
  if (allowed(x, &p->k.b, 53) || allowed(x, &p->k.a, -1))
    return;
  nfh__exf_dns_verdict v;
  nfh__exf_dns_judge(&x->p, p, two_way, alike, &v);
  if (v.severity < (int)x->p.min_severity ||
      *emitted >= (size_t)x->p.max_findings)
    return;
  if (emit_dns(x, p, &v, alike) != 0)
    x->api->log(x->api->host, NFH_LOG_WARNING, "a finding was refused");
  else
    (*emitted)++;
}

/* Judges the DNS pairs and emits the tunnels; *emitted counts them. 0,
 * or -1 when memory runs out. */
static int dns_findings(exfil *x, size_t *emitted) {
  *emitted = 0;
  if (!x->dns)
    return 0;
  size_t np;
  nfh__exf_dns_pair *run = nfh__exf_dns_pairs(x->dns, &np);
  /* Each pair with what earlier runs saw of it in the last memory_hours
   * hours: a tunnel too slow for one run adds up over hourly runs. */
  nfh__exf_dns_pair *pairs = malloc((np ? np : 1) * sizeof(*pairs));
  nfh__exf_dns_pair **like = malloc((np ? np : 1) * sizeof(*like));
  unsigned *alike = malloc((np ? np : 1) * sizeof(*alike));
  /* Servers that dns_shared_clients clients or more ask alike: lookup
   * services, or the site's resolver relaying one. */
  nfh_addr *services = malloc((np ? np : 1) * sizeof(*services));
  if (!pairs || !like || !alike || !services) {
    free(pairs), free(like), free(alike), free(services);
    return -1;
  }
  for (size_t i = 0; i < np; i++) {
    pairs[i] = run[i];
    add_remembered(x, &pairs[i]);
  }
  size_t nl = 0, ns = 0;
  int two_way = exporter_two_way(x);
  for (size_t i = 0; i < np; i++)
    if (nfh__exf_dns_tunnel_like(&x->p, &pairs[i], two_way))
      like[nl++] = &pairs[i];
  /* Clients alike per server: the tunnel-like pairs of one server are
   * neighbours once sorted, and the services come out in order. */
  qsort(like, nl, sizeof(*like), by_server);
  for (size_t a = 0; a < nl;) {
    size_t b = a + 1;
    while (b < nl && nfh_addr_equal(&like[b]->k.b, &like[a]->k.b))
      b++;
    for (size_t i = a; i < b; i++)
      alike[i] = (unsigned)(b - a);
    if (b - a >= (size_t)x->p.dns_shared_clients)
      services[ns++] = like[a]->k.b;
    a = b;
  }
  for (size_t i = 0; i < np; i++)
    if (nfh__exf_dns_not_dns(&x->p, &pairs[i], two_way))
      judge_dns(x, &pairs[i], two_way, 1, emitted);
  for (size_t i = 0; i < nl; i++) {
    /* A resolver passing on its clients' lookups of a service asks the
     * service's server alike: as many clients as those it serves. */
    unsigned n = alike[i];
    if (bsearch(&like[i]->k.a, services, ns, sizeof(*services), addr_order) &&
        n < (unsigned)x->p.dns_shared_clients)
      n = (unsigned)x->p.dns_shared_clients;
    judge_dns(x, like[i], two_way, n, emitted);
  }
  free(like);
  free(alike);
  free(services);
  free(pairs);
  return remember_dns(x, run, np);
}

static int exfil_finish(void *ctx) {
  exfil *x = ctx;
  const nfh__exf_params *P = &x->p;
  const nfh_host_api *api = x->api;
  size_t np;
  nfh__exf_pair *pairs = nfh__exf_track_pairs(x->track, &np);
  int rc = -1;
  sums hs = {NULL, 0};
  series s = {NULL, 0, 0};
  vlist found = {NULL, 0, 0};
  cand *cands = NULL;
  size_t ncand = 0;

  for (size_t i = 0; i < np; i++)
    if (nfh__exf_pair_attribute(&pairs[i]) != 0)
      goto out;
  if (join_temporary(x, pairs, np) != 0 || adopt_rotated(x, pairs, np) != 0)
    goto out;
  if (build_sums(x, pairs, np, &hs) != 0)
    goto out;
  /* Uploaders per destination, before any pair is judged. */
  for (size_t i = 0; i < np; i++) {
    const nfh__exf_pair *p = &pairs[i];
    if ((double)p->c_out >= P->slow_hour_bytes && p->c_out > p->c_in &&
        is_transfer(x, p) &&
        nfh__exf_dest_upload(x->mem, &p->k.b, nfh__exf_host_hash(&p->k.a),
                             p->first_ms) != 0)
      goto out;
  }
  cands = malloc((np ? np : 1) * sizeof(*cands));
  if (!cands)
    goto out;
  size_t judged = 0;
  for (size_t i = 0; i < np; i++) {
    nfh__exf_pair *p = &pairs[i];
    if (!is_transfer(x, p) || allowed(x, &p->k.b, p->port) ||
        allowed(x, &p->k.a, -1))
      continue;
    const nfh__exf_spair *sp = nfh__exf_spair_find(x->mem, &p->k.a, &p->k.b);
    if (build_series(x, p, sp, &s) != 0)
      goto out;
    episode eps[MAX_EPISODES];
    size_t ne = find_episodes(&s, P->slow_hour_bytes, eps, MAX_EPISODES);
    verdict best;
    int have = 0;
    for (size_t k = 0; k < ne; k++) {
      if (!eps[k].in_run || ((double)eps[k].out < P->min_bytes &&
                             (double)eps[k].out < P->spread_dest_bytes))
        continue;
      verdict d;
      memset(&d, 0, sizeof(d));
      d.pair = i;
      features(x, p, sp, &s, &eps[k], &hs, &d);
      judged++;
      nfh__exf_judge(P, &d.f, &d.v);
      if (!have || d.v.severity > best.v.severity ||
          (d.v.severity == best.v.severity && d.v.score > best.v.score) ||
          (best.v.severity < 0 && d.f.out > best.f.out)) {
        best = d;
        best.episode = eps[k];
        have = 1;
      }
    }
    /* Bursts: three episodes or more within a day, the last in this
     * run, judged together as well. */
    if (ne >= 3 && eps[ne - 1].in_run) {
      size_t a = ne - 1;
      uint32_t last_hour = s.v[eps[ne - 1].to].hour;
      while (a > 0 && s.v[eps[a - 1].from].hour + BURST_WINDOW_H > last_hour)
        a--;
      if (ne - a >= 3) {
        episode all = eps[a];
        all.to = eps[ne - 1].to;
        all.active = 0, all.out = 0, all.in = 0, all.in_run = 0;
        for (size_t k = a; k < ne; k++) {
          all.active += eps[k].active;
          all.out += eps[k].out;
          all.in += eps[k].in;
          all.in_run |= eps[k].in_run;
        }
        all.hours = s.v[all.to].hour - s.v[all.from].hour + 1;
        verdict d;
        memset(&d, 0, sizeof(d));
        d.pair = i;
        features(x, p, sp, &s, &all, &hs, &d);
        d.f.bursts = (unsigned)(ne - a);
        judged++;
        nfh__exf_judge(P, &d.f, &d.v);
        if (!have || d.v.severity > best.v.severity ||
            (d.v.severity == best.v.severity && d.v.score > best.v.score)) {
          best = d;
          best.episode = all;
          have = 1;
        }
      }
    }
    if (!have && ne == 0 && s.n > 0) {
      /* No hour reached slow_hour_bytes: a drip. Alone it is nothing;
       * to many rare destinations it is a spread (0.95 MB an hour to
       * each of ten addresses for three days, 684 MB, was unseen). The
       * pair's whole series, as one stretch, is its candidate. */
      episode all;
      memset(&all, 0, sizeof(all));
      all.from = 0;
      all.to = s.n - 1;
      for (size_t h = 0; h < s.n; h++) {
        all.out += s.v[h].out;
        all.in += s.v[h].in;
        all.in_run |= s.v[h].from_run;
        all.active += s.v[h].out > 0;
      }
      all.hours = s.v[all.to].hour - s.v[all.from].hour + 1;
      if (all.in_run && (double)all.out >= P->spread_dest_bytes) {
        verdict d;
        memset(&d, 0, sizeof(d));
        d.pair = i;
        features(x, p, sp, &s, &all, &hs, &d);
        d.v.severity = -1;
        best = d;
        best.episode = all;
        have = 1;
      }
    }
    if (!have)
      continue;
    if (best.v.severity >= (int)P->min_severity) {
      verdict *v = vlist_add(&found);
      if (!v)
        goto out;
      *v = best;
    } else if (!best.f.popular && best.f.prevalence <= 2 &&
               !nfh__exf_net_shared(P, &best.f) &&
               !nfh__exf_pool_shared(P, &best.f) && best.f.pcr >= P->pcr_min &&
               (double)best.f.out >= P->spread_dest_bytes) {
      cands[ncand].src = p->k.a;
      cands[ncand].pair = i;
      cands[ncand].bytes = best.f.out;
      ncand++;
    }
  }
  if (spread_findings(x, pairs, cands, ncand, &found, &found) != 0)
    goto out;
  if (fold_networks(x, pairs, &found, 0) != 0 ||
      fold_networks(x, pairs, &found, 1) != 0)
    goto out;
  if (found.n > 1)
    qsort(found.v, found.n, sizeof(*found.v), by_score);
  size_t emitted = 0;
  for (size_t i = 0; i < found.n && emitted < (size_t)P->max_findings; i++) {
    const verdict *d = &found.v[i];
    if (d->v.severity < (int)P->min_severity)
      continue;
    int erc;
    if (d->pair == SIZE_MAX) {
      erc = emit_spread(x, d, &pairs[d->spread_top]);
    } else {
      nfh__exf_pair *p = &pairs[d->pair];
      if (build_series(x, p,
                       nfh__exf_spair_find(x->mem, &p->k.a, &p->k.b),
                       &s) != 0)
        goto out;
      erc = emit_pair(x, d, p, &s);
    }
    if (erc != 0)
      api->log(api->host, NFH_LOG_WARNING, "a finding was refused");
    else
      emitted++;
  }
  size_t dns_emitted = 0;
  if (dns_findings(x, &dns_emitted) != 0)
    goto out;
  emitted += dns_emitted;
  if (learn(x, pairs, np, &hs) != 0)
    goto out;
  size_t nd, nhost, npair;
  nfh__exf_memory_counts(x->mem, &nd, &nhost, &npair);
  char door[160] = "";
  if (nfh__exf_track_stopped(x->track))
    snprintf(door, sizeof(door),
             "; %" PRIu64 " first records of new pairs (%" PRIu64
             " bytes) waited at the full table",
             nfh__exf_track_stopped(x->track),
             nfh__exf_track_stopped_bytes(x->track));
  api->log(api->host, NFH_LOG_INFO,
           "%zu pairs (%u prunes%s), %zu judged, %zu findings; remembers "
           "%zu destinations, %zu hosts, %zu pairs",
           np, nfh__exf_track_prunes(x->track), door, judged, emitted, nd,
           nhost, npair);
  rc = 0;
out:
  if (rc != 0)
    api->log(api->host, NFH_LOG_ERROR, "out of memory while judging");
  free(hs.v);
  free(s.v);
  free(found.v);
  free(cands);
  free(x->joined_into);
  free(x->joined);
  free(x->adopted);
  x->joined_into = NULL;
  x->joined = NULL;
  x->adopted = NULL;
  x->nadopted = 0;
  x->pairs = NULL;
  x->npairs = 0;
  return rc;
}

/* --------------------------------------------------------------- state */

static int exfil_state_load(void *ctx, const void *data, size_t len) {
  exfil *x = ctx;
  int rc = nfh__exf_memory_load(x->mem, data, len);
  /* Said as the other detectors say it: a blob overwritten by something
   * else lost the earlier hours of a slow upload without a word. */
  if (rc > 0)
    x->api->log(x->api->host, NFH_LOG_WARNING,
                "state blob of another format ignored: destinations' and "
                "hosts' memory starts afresh");
  if (rc < 0) {
    x->api->log(x->api->host, NFH_LOG_WARNING,
                "saved state damaged or too big for memory; starting afresh");
    /* Said here in its own words: the host's line would be a second. */
    return 0;
  }
  return 0;
}

static int exfil_state_save(void *ctx, void **data, size_t *len) {
  exfil *x = ctx;
  uint64_t keep = (uint64_t)x->p.expire_days * DAY_MS;
  uint64_t cutoff = x->data_end_ms > keep ? x->data_end_ms - keep : 0;
  if (nfh__exf_memory_save(x->mem, cutoff, data, len) != 0) {
    x->api->log(x->api->host, NFH_LOG_ERROR,
                "cannot save state (out of memory or over its size limit)");
    return -1;
  }
  return 0;
}

static const nfh_plugin_descriptor descriptor = {
    .abi_version = NFH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nfh_plugin_descriptor),
    .name = DETECTOR,
    .version = EXF_VERSION,
    .description = "data exfiltration: bulk and low-and-slow uploads to "
                   "rare destinations",
    .wants = NFH_WANTS_FLOWS | NFH_WANTS_CONNS,
    .create = exfil_create,
    .on_flows = exfil_on_flows,
    .on_conns = exfil_on_conns,
    .finish = exfil_finish,
    .state_load = exfil_state_load,
    .state_save = exfil_state_save,
    .destroy = exfil_destroy,
};

const nfh_plugin_descriptor *nfh_plugin_entry(void) { return &descriptor; }
