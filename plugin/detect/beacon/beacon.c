/* beacon.c - the beaconing detector's plugin glue; see beacon.h. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/hll.h>
#include <nfhunt/plugin.h>

#include "../resolvers.h"
#include "beacon.h"
#include "judge.h"
#include "params.h"
#include "score.h"
#include "track.h"

#define NAME "beaconing"
#define TCP 6
#define UDP 17
#define ICMP 1
#define ICMP6 58
/* The state blob's hard cap: far above what the default limits fill
 * (about 40 MB at worst), so only absurd settings reach it. */
#define BLOB_LIMIT (512u << 20)

/* A scored timeline. Its candidate's identity is copied in, so that the
 * list sorts with qsort(3), which passes its comparator no context. */
typedef struct pending {
  uint32_t id;
  nfh_addr client, server;
  uint16_t port;
  uint8_t proto;
  int pass;   /* regular enough to report (else only counted) */
  int folded; /* reported as part of a group (shared, poller) */
  nfh__bcn_score score;
  nfh__bcn_verdict verdict;
} pending;

/* The site's proxies, learnt from the run's traffic as the resolvers
 * are: internal servers that internal clients reach on a proxy port. A
 * beacon through one leaves as the proxy's own connections: the finding
 * names the proxy (the site's flows show nothing else of it outside),
 * and says what it is, so that the analyst looks for its client (a
 * tester's analyst would have isolated the proxy and missed the
 * desktop). */
#define MAX_PROXIES 64
#define PROXY_CLIENTS 64 /* distinct clients counted exactly */

typedef struct proxy {
  nfh_addr addr;
  uint16_t port;
  uint16_t nclients;
  uint32_t clients[PROXY_CLIENTS]; /* hashes */
} proxy;

typedef struct beacon {
  const nfh_host_api *api;
  nfh__bcn_params p;
  nfh__bcn_track tk;
  nfh__bcn_scratch scratch;
  /* One timeline copied out for scoring. */
  uint64_t *t;
  uint32_t *cb, *sb;
  /* The site's resolvers (resolvers.h), per run: a resolver is busy in
   * every run. */
  nfh__resolvers resolvers;
  proxy *proxies; /* MAX_PROXIES, allocated when the first is seen */
  size_t nproxies;
  int oom_logged;
  /* Internal hosts the run's exporters showed sending, in any role
   * (see answers_to_nothing): open addressing on a 64-bit fold of the
   * address, 0 empty; grown to at most SENDERS_MAX. */
  uint64_t *senders;
  size_t senders_cap, nsenders;
  /* Internal clients' connections that showed the client sending
   * (asked) and that showed answers alone (unasked). */
  uint64_t asked, unasked;
} beacon;

#define SENDERS_MIN 1024
#define SENDERS_MAX ((size_t)1 << 22)

static void beacon_destroy(void *ctx) {
  beacon *b = ctx;
  if (!b)
    return;
  nfh__bcn_track_free(&b->tk);
  nfh__bcn_scratch_free(&b->scratch);
  free(b->proxies);
  free(b->senders);
  free(b->t);
  free(b->cb);
  free(b->sb);
  free(b);
}

static void *beacon_create(const nfh_host_api *api,
                           const nfh_plugin_setting *settings, size_t n,
                           const char **error) {
  /* create() has no context to keep a message in when it fails: the text
   * lives in thread-local storage until the next failed create. */
  static __thread char message[200];
  beacon *b = calloc(1, sizeof(*b));
  if (!b) {
    *error = "out of memory";
    return NULL;
  }
  b->api = api;
  if (nfh__bcn_params_parse(&b->p, settings, n, message, sizeof(message)) !=
      0) {
    *error = message;
    free(b);
    return NULL;
  }
  nfh__bcn_limits lim = {
      .max_candidates = b->p.max_candidates,
      .max_destinations = b->p.max_destinations,
      .max_events = b->p.max_events,
      .max_total_events = b->p.max_total_events,
      .merge_ms = b->p.merge_ms,
      .continuation_gap_ms = b->p.continuation_gap_ms,
  };
  size_t cap = b->p.max_events;
  if (nfh__bcn_track_init(&b->tk, &lim) != 0 ||
      nfh__bcn_scratch_init(&b->scratch, cap) != 0 ||
      !(b->t = malloc(cap * sizeof(uint64_t))) ||
      !(b->cb = malloc(cap * sizeof(uint32_t))) ||
      !(b->sb = malloc(cap * sizeof(uint32_t)))) {
    beacon_destroy(b);
    *error = "out of memory";
    return NULL;
  }
  return b;
}

/* Whether a connection can carry a beacon we score: TCP, UDP, or ICMP
 * echo (ICMP errors answer someone else's packet). */
static int watched_proto(const nfh_conn *c) {
  if (c->proto == TCP || c->proto == UDP)
    return 1;
  if (c->proto == ICMP)
    return c->server_port == 0x0800;
  if (c->proto == ICMP6)
    return c->server_port == 0x8000;
  return 0;
}

static int allowed(const beacon *b, const nfh_addr *client,
                   const nfh_addr *server, uint16_t port) {
  const nfh_host_api *api = b->api;
  return api->is_allowed(api->host, NAME, server, port) ||
         api->is_allowed(api->host, NAME, client, -1);
}

/* The ports of web and SOCKS proxies (Squid, the usual alternates,
 * Privoxy, SOCKS). */
static int proxy_port(uint16_t port) {
  return port == 3128 || port == 3129 || port == 8080 || port == 8000 ||
         port == 8888 || port == 8118 || port == 1080;
}

/* Notes that 'client' reached the internal server 'server' on TCP proxy
 * port 'port' and was answered. */
static void saw_proxy(beacon *b, const nfh_addr *server, uint16_t port,
                      const nfh_addr *client) {
  proxy *x = NULL;
  for (size_t i = 0; i < b->nproxies && !x; i++)
    if (b->proxies[i].port == port &&
        nfh_addr_equal(&b->proxies[i].addr, server))
      x = &b->proxies[i];
  if (!x) {
    if (!b->proxies && !(b->proxies = calloc(MAX_PROXIES, sizeof(proxy))))
      return;
    if (b->nproxies == MAX_PROXIES)
      return;
    x = &b->proxies[b->nproxies++];
    x->addr = *server;
    x->port = port;
  }
  uint32_t h = (uint32_t)nfh_hll_hash(client->bytes, 16);
  for (uint16_t i = 0; i < x->nclients; i++)
    if (x->clients[i] == h)
      return;
  if (x->nclients < PROXY_CLIENTS)
    x->clients[x->nclients++] = h;
}

/* The proxy port on which a serves the most internal clients, two at
 * least; NULL when it serves none. */
static const proxy *proxy_of(const beacon *b, const nfh_addr *a) {
  const proxy *best = NULL;
  for (size_t i = 0; i < b->nproxies; i++)
    if (b->proxies[i].nclients >= 2 && nfh_addr_equal(&b->proxies[i].addr, a) &&
        (!best || b->proxies[i].nclients > best->nclients))
      best = &b->proxies[i];
  return best;
}

/* Connections are handled in groups: first both table entries of each
 * are prefetched (see nfh__bcn_track_prefetch), then each is tracked.
 * Over traffic with many more pairs than the caches hold, each lookup
 * is a few cache misses, which a group overlaps. */
#define GROUP 16

/* The 64-bit fold of an address the sender set keys on; never 0. */
static uint64_t sender_key(const nfh_addr *a) {
  uint64_t lo, hi;
  memcpy(&lo, a->bytes, 8);
  memcpy(&hi, a->bytes + 8, 8);
  uint64_t h = (lo * 0x9e3779b97f4a7c15ull) ^ (hi + a->family);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h | 1;
}

static int senders_has(const beacon *b, uint64_t k) {
  if (!b->senders_cap)
    return 0;
  size_t mask = b->senders_cap - 1;
  for (size_t i = k & mask;; i = (i + 1) & mask) {
    if (b->senders[i] == k)
      return 1;
    if (!b->senders[i])
      return 0;
  }
}

/* Notes k; past SENDERS_MAX hosts (or without memory) the set keeps
 * what it has: their answers alone stay beats, as before. */
static void senders_add(beacon *b, uint64_t k) {
  if (2 * (b->nsenders + 1) > b->senders_cap) {
    size_t cap = b->senders_cap ? 2 * b->senders_cap : SENDERS_MIN;
    if (cap > SENDERS_MAX)
      return;
    uint64_t *t = calloc(cap, sizeof(*t));
    if (!t)
      return;
    for (size_t i = 0; i < b->senders_cap; i++)
      if (b->senders[i])
        for (size_t j = b->senders[i] & (cap - 1);; j = (j + 1) & (cap - 1))
          if (!t[j]) {
            t[j] = b->senders[i];
            break;
          }
    free(b->senders);
    b->senders = t;
    b->senders_cap = cap;
  }
  size_t mask = b->senders_cap - 1;
  for (size_t i = k & mask;; i = (i + 1) & mask) {
    if (b->senders[i] == k)
      return;
    if (!b->senders[i]) {
      b->senders[i] = k;
      b->nsenders++;
      return;
    }
  }
}

/* Answers alone: the server sent, the client nothing the exporter saw,
 * and the exporter did not sample (a sampler drops a poll's one packet
 * and keeps its answer: a 1:100 beacon lost a third of its beats). */
static int answers_alone(const nfh_conn *c) {
  return !c->client_packets && !c->client_bytes &&
         (c->server_packets || c->server_bytes) &&
         !(c->flags & NFH_CONN_SAMPLED);
}

/* Whether c is answers alone to an internal client that the exporters
 * do show sending: elsewhere in this run, or as they show four in five
 * internal clients' connections (64 at least). Those are answers to
 * nothing: a reflection flood's replies from 99 NTP servers made its
 * victim "poll 99 servers on udp/123"; backscatter would too. An
 * exporter that sees the inbound direction only shows neither, and its
 * beacons stay; so does a firewall's flow-creation event, which counts
 * nothing either way. */
static int answers_to_nothing(const beacon *b, const nfh_conn *c) {
  return answers_alone(c) && ((b->asked >= 4 * b->unasked && b->asked >= 64) ||
                              senders_has(b, sender_key(&c->client)));
}

static int beacon_on_conns(void *ctx, const nfh_conn *conns, size_t n) {
  beacon *b = ctx;
  /* The batch's senders first: a flood's answers and its victim's own
   * traffic come in the same batches. */
  for (size_t i = 0; i < n; i++) {
    const nfh_conn *c = &conns[i];
    if (c->flags & NFH_CONN_CLIENT_HOME)
      b->unasked += answers_alone(c);
    if ((c->flags & NFH_CONN_CLIENT_HOME) &&
        (c->client_packets || c->client_bytes)) {
      b->asked++;
      senders_add(b, sender_key(&c->client));
    }
    if ((c->flags & NFH_CONN_SERVER_HOME) &&
        (c->server_packets || c->server_bytes))
      senders_add(b, sender_key(&c->server));
  }
  uint64_t wstart = b->api->window_start_ms(b->api->host);
  uint64_t midstream = wstart && b->p.midstream_ms ? wstart + b->p.midstream_ms
                                                   : 0;
  const nfh_conn *g[GROUP];
  uint64_t dh[GROUP], ch[GROUP];
  size_t ng = 0;
  for (size_t i = 0; i <= n; i++) {
    if (ng == GROUP || (i == n && ng)) {
      for (size_t j = 0; j < ng; j++)
        nfh__bcn_track_prefetch(&b->tk, g[j], 1, &dh[j], &ch[j]);
      for (size_t j = 0; j < ng; j++)
        nfh__bcn_track_prefetch(&b->tk, g[j], 2, &dh[j], &ch[j]);
      for (size_t j = 0; j < ng; j++) {
        const nfh_conn *c = g[j];
        int st =
            nfh__bcn_track_contact(&b->tk, &c->server, c->server_port,
                                   c->proto, &c->client, c->first_ms, dh[j]);
        if (st == 0 && !allowed(b, &c->client, &c->server, c->server_port))
          st = nfh__bcn_track_conn(&b->tk, c, midstream, ch[j]);
        if (st != 0 && !b->oom_logged) {
          /* Memory ran short: the detector goes on with what it has. */
          b->api->log(b->api->host, NFH_LOG_WARNING,
                      "out of memory: some connections were not tracked");
          b->oom_logged = 1;
        }
      }
      ng = 0;
    }
    if (i == n)
      break;
    const nfh_conn *c = &conns[i];
    if (!(c->flags & NFH_CONN_CLIENT_HOME) || !watched_proto(c))
      continue;
    /* mDNS, SSDP and other multicast: a printer's announcements every
     * two minutes read as a persistent C2 channel (medium). */
    if (!nfh_addr_is_unicast(&c->server))
      continue;
    if (answers_to_nothing(b, c))
      continue;
    nfh__bcn_track_host(&b->tk, &c->client, c->first_ms);
    if (c->flags & NFH_CONN_SERVER_HOME) {
      /* The site's own resolvers answer every host all day: never a
       * beacon. Other internal servers only on request. */
      if (c->server_port == 53) {
        nfh__resolvers_saw(&b->resolvers, &c->server, &c->client);
        continue;
      }
      if (c->proto == TCP && proxy_port(c->server_port) &&
          (c->flags & NFH_CONN_REPLY))
        saw_proxy(b, &c->server, c->server_port, &c->client);
      if (!b->p.internal)
        continue;
    }
    g[ng] = c;
    nfh__bcn_track_prefetch(&b->tk, c, 0, &dh[ng], &ch[ng]);
    ng++;
  }
  nfh__bcn_track_enforce(&b->tk);
  return 0;
}

/* Scores candidate c; returns 1 with *s and *sampled_reading set when
 * its timeline is at least half as regular as min_regularity asks, or
 * its intervals are too even for chance, else 0. */
static int score_cand(beacon *b, const nfh__bcn_cand *c, nfh__bcn_score *s,
                      int *sampled_reading) {
  const nfh__bcn_event *ev = nfh__bcn_events_const(c);
  for (uint32_t i = 0; i < c->nev; i++) {
    b->t[i] = ev[i].t_ms;
    b->cb[i] = ev[i].cbytes;
    b->sb[i] = ev[i].sbytes;
  }
  nfh__bcn_score_params sp = {
      .min_beats = b->p.min_conns,
      .min_span_ms = b->p.min_span_ms,
      .min_periods = b->p.min_periods,
      .min_period_ms = b->p.min_period_ms,
      .max_period_ms = b->p.max_period_ms,
      .max_missed = b->p.max_missed,
      .merge_ms = b->p.merge_ms,
      .sampled = 0,
  };
  /* A timeline that dropped its oldest beats is analysed over what it
   * keeps, however short: a fast beacon fills max_events in minutes
   * (512 beats of a 3 s loop are 26 of them) and would never reach
   * min_span. nfh__bcn_judge measures the span over the pair's whole
   * life when its connections fill it, and holds that to min_span. */
  if (c->nev >= b->p.max_events / 2 && ev[0].t_ms > c->first_ms + b->p.merge_ms)
    sp.min_span_ms = 0;
  nfh__bcn_analyse(b->t, b->cb, b->sb, c->nev, &sp, &b->scratch, s);
  *sampled_reading = 0;
  /* With sampled exporters, small connections vanish: also read the
   * timeline as one with many missed beats, against its own (higher)
   * chance level, and keep the better reading. */
  if (c->sampled * 4 >= c->conns && c->sampled) {
    nfh__bcn_score alt;
    sp.sampled = 1;
    nfh__bcn_analyse(b->t, b->cb, b->sb, c->nev, &sp, &b->scratch, &alt);
    if (alt.analysed && (!s->analysed || alt.regularity > s->regularity)) {
      *s = alt;
      *sampled_reading = 1;
    }
  }
  /* Half the bar: timelines this regular are not reported themselves,
   * but count as clients beaconing like the reported ones (shared).
   * Jittered timelines too dispersed for any comb but too even for
   * chance go on to the judge (judge.h). */
  return s->analysed && (s->regularity >= b->p.min_regularity / 2 ||
                         (s->dispersion_chance > 0 &&
                          s->dispersion <= s->dispersion_chance));
}

static int same_dest(const pending *x, const pending *y) {
  return x->port == y->port && x->proto == y->proto &&
         nfh_addr_compare(&x->server, &y->server) == 0;
}

static int same_client_port(const pending *x, const pending *y) {
  return x->port == y->port && x->proto == y->proto &&
         nfh_addr_compare(&x->client, &y->client) == 0;
}

/* By destination, then score (descending). */
static int by_dest(const void *pa, const void *pb) {
  const pending *a = pa, *b = pb;
  int c = nfh_addr_compare(&a->server, &b->server);
  if (c)
    return c;
  if (a->port != b->port)
    return a->port < b->port ? -1 : 1;
  if (a->proto != b->proto)
    return a->proto < b->proto ? -1 : 1;
  if (a->verdict.score != b->verdict.score)
    return a->verdict.score > b->verdict.score ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

/* By client, protocol, port, then period. */
static int by_client(const void *pa, const void *pb) {
  const pending *a = pa, *b = pb;
  int c = nfh_addr_compare(&a->client, &b->client);
  if (c)
    return c;
  if (a->proto != b->proto)
    return a->proto < b->proto ? -1 : 1;
  if (a->port != b->port)
    return a->port < b->port ? -1 : 1;
  if (a->score.period_s != b->score.period_s)
    return a->score.period_s < b->score.period_s ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

/* Emits the finding of timeline c as described; 'one_server' names its
 * server as the destination (a rotation has none: its network is in the
 * key and the summary). */
/* Hands the host a finding of pair c over [first_ms, last_ms]; its
 * server as dst unless the finding spans several ('one_server' 0). */
static int emit_pair(beacon *b, const nfh__bcn_cand *c, nfh_severity sev,
                     double score, double confidence, int one_server,
                     uint64_t first_ms, uint64_t last_ms, const char *key,
                     const char *summary, const char *evidence) {
  /* From a proxy: said in the summary and the evidence. */
  char note_summary[768], note_evidence[2304];
  const proxy *x = proxy_of(b, &c->client);
  size_t elen = strlen(evidence);
  if (x && elen && evidence[elen - 1] == '}' &&
      elen + 96 < sizeof(note_evidence)) {
    char addr[NFH_ADDR_STRLEN];
    nfh_addr_format(&c->client, addr, sizeof(addr));
    snprintf(note_summary, sizeof(note_summary),
             "%s; %s is a proxy to %u%s internal hosts on tcp/%u: the "
             "beacon may come from one of them, through it",
             summary, addr, x->nclients,
             x->nclients == PROXY_CLIENTS ? "+" : "", x->port);
    snprintf(note_evidence, sizeof(note_evidence),
             "%.*s, \"source_proxy\": {\"port\": %u, "
             "\"internal_clients\": %u}}",
             (int)(elen - 1), evidence, x->port, x->nclients);
    summary = note_summary;
    evidence = note_evidence;
  }
  nfh_finding f;
  memset(&f, 0, sizeof(f));
  f.type = "beaconing";
  f.key = key;
  f.severity = sev;
  f.score = score;
  f.confidence = confidence;
  f.src = c->client;
  if (one_server)
    f.dst = c->server;
  f.dst_port = c->port;
  f.proto = c->proto;
  f.first_ms = first_ms;
  f.last_ms = last_ms;
  f.mitre = nfh__bcn_mitre(c->proto, c->port);
  f.summary = summary;
  f.evidence_json = evidence;
  return b->api->emit(b->api->host, &f);
}

static int emit_timeline(beacon *b, const nfh__bcn_cand *c,
                         const nfh__bcn_verdict *v, int one_server,
                         const char *key, const char *summary,
                         const char *evidence) {
  return emit_pair(b, c, v->severity, v->score, v->confidence, one_server,
                   c->first_ms,
                   c->last_end_ms > c->last_ms ? c->last_end_ms : c->last_ms,
                   key, summary, evidence);
}

static int emit(beacon *b, const nfh__bcn_cand *c, const pending *pd) {
  char key[160], summary[512], evidence[2048];
  nfh__bcn_describe(c, &pd->score, &pd->verdict, key, sizeof(key), summary,
                    sizeof(summary), evidence, sizeof(evidence));
  return emit_timeline(b, c, &pd->verdict, 1, key, summary, evidence);
}

/* Reports the persistent sessions among the live candidates (see
 * nfh__bcn_persistent); they have no timeline to judge. Returns how many
 * were reported, or -1 when the host refused one. */
static long persistent_findings(beacon *b, uint64_t wstart) {
  long reported = 0;
  for (uint32_t id = 0; id < b->tk.cands.used; id++) {
    if (!nfh__bcn_table_live(&b->tk.cands, id))
      continue;
    const nfh__bcn_cand *c = nfh__bcn_table_at(&b->tk.cands, id);
    nfh__bcn_persist v;
    /* Still open in this run, and not allowlisted since tracked. */
    if (c->last_end_ms < wstart ||
        !nfh__bcn_persistent(&b->p, c,
                             nfh__bcn_track_dest(&b->tk, &c->server, c->port,
                                                 c->proto),
                             &v) ||
        v.severity < b->p.min_severity ||
        allowed(b, &c->client, &c->server, c->port))
      continue;
    char key[160], summary[512], evidence[1024];
    nfh__bcn_describe_persistent(c, &v, &b->p, key, sizeof(key), summary,
                                 sizeof(summary), evidence, sizeof(evidence));
    if (emit_pair(b, c, v.severity, v.score, v.confidence, 1, v.start_ms,
                  v.end_ms, key, summary, evidence) != 0)
      return -1;
    reported++;
  }
  return reported;
}

static int emit_group(beacon *b, const nfh__bcn_group *g) {
  char key[160], summary[512], evidence[1024];
  nfh__bcn_describe_group(g, key, sizeof(key), summary, sizeof(summary),
                          evidence, sizeof(evidence));
  nfh_finding f;
  memset(&f, 0, sizeof(f));
  f.type = "beaconing";
  f.key = key;
  f.severity = g->severity;
  f.score = g->score;
  f.confidence = g->confidence;
  /* The side with many hosts stays family 0, as does a network. */
  if (g->kind == NFH__BCN_GROUP_POLLER)
    f.src = g->addr;
  else if (!g->net_prefix)
    f.dst = g->addr;
  f.dst_port = g->port;
  f.proto = g->proto;
  f.first_ms = g->first_ms;
  f.last_ms = g->last_ms;
  f.mitre = nfh__bcn_mitre(g->proto, g->port);
  f.summary = summary;
  f.evidence_json = evidence;
  return b->api->emit(b->api->host, &f);
}

typedef struct groups {
  nfh__bcn_group *v;
  size_t n, cap;
  int failed; /* out of memory: nothing more is folded */
} groups;

/* Whether gs has room for one more group (grown if need be); 0 once out
 * of memory. */
static int grow_groups(groups *gs) {
  if (gs->failed)
    return 0;
  if (gs->n == gs->cap) {
    size_t cap = gs->cap ? 2 * gs->cap : 8;
    nfh__bcn_group *grown = realloc(gs->v, cap * sizeof(*grown));
    if (!grown) {
      gs->failed = 1;
      return 0;
    }
    gs->v = grown;
    gs->cap = cap;
  }
  return 1;
}

/* A group being filled: its members' periods (the first 64) and the
 * sums its averages come from. */
typedef struct group_acc {
  double periods[64];
  size_t np, k;
  double best, conf, reg;
} group_acc;

/* Starts a group of 'kind' for addr (a destination, a network of
 * 'net_prefix' bits, or a poller's client) in gs; NULL when out of
 * memory. */
static nfh__bcn_group *group_begin(groups *gs, nfh__bcn_group_kind kind,
                                   const nfh_addr *addr, unsigned net_prefix,
                                   uint16_t port, uint8_t proto,
                                   unsigned members, double hosts,
                                   group_acc *acc) {
  if (!grow_groups(gs))
    return NULL;
  nfh__bcn_group *g = &gs->v[gs->n++];
  memset(g, 0, sizeof(*g));
  memset(acc, 0, sizeof(*acc));
  g->kind = kind;
  g->addr = *addr;
  g->net_prefix = net_prefix;
  g->port = port;
  g->proto = proto;
  g->members = members;
  g->hosts = hosts;
  g->first_ms = UINT64_MAX;
  g->severity = NFH_SEV_INFO;
  return g;
}

/* Adds one member: timeline c (its merged one for a rotation), the
 * address it shows in the sample, its severity and score as the group
 * counts them, its period, regularity and confidence. */
static void group_take(nfh__bcn_group *g, group_acc *acc,
                       const nfh__bcn_cand *c, const nfh_addr *sample,
                       nfh_severity sev, double score, double period,
                       double regularity, double confidence) {
  acc->k++;
  if (g->nsample < NFH__BCN_GROUP_SAMPLE)
    g->sample[g->nsample++] = *sample;
  if (acc->np < 64)
    acc->periods[acc->np++] = period;
  g->conns += c->conns;
  if (c->first_ms < g->first_ms)
    g->first_ms = c->first_ms;
  uint64_t last = c->last_end_ms > c->last_ms ? c->last_end_ms : c->last_ms;
  if (last > g->last_ms)
    g->last_ms = last;
  if (sev > g->severity)
    g->severity = sev;
  if (score > acc->best)
    acc->best = score;
  acc->conf += confidence;
  acc->reg += regularity;
}

/* Closes the group: its periods and averages, and the severity and
 * score of its kind. */
static void group_end(nfh__bcn_group *g, group_acc *acc) {
  nfh__bcn_sort(acc->periods, acc->np);
  g->period_min = acc->periods[0];
  g->period_max = acc->periods[acc->np - 1];
  g->period_median = acc->periods[acc->np / 2];
  g->regularity_median = acc->k ? acc->reg / acc->k : 0;
  g->confidence = acc->k ? acc->conf / acc->k : 0;
  if (g->kind == NFH__BCN_GROUP_POLLER) {
    if (g->severity > NFH_SEV_LOW)
      g->severity = NFH_SEV_LOW;
    g->score = 0.5 * acc->best;
  } else if (g->kind == NFH__BCN_GROUP_FEW ||
             g->kind == NFH__BCN_GROUP_CAMPAIGN) {
    /* Bots of one campaign beat alike too (several infected hosts calling
     * one C2): one finding for them all, at most medium. */
    if (g->severity > NFH_SEV_MEDIUM)
      g->severity = NFH_SEV_MEDIUM;
    g->score = 0.8 * acc->best;
  } else {
    g->severity = NFH_SEV_INFO;
    g->score = 0.3 * acc->best;
  }
}

/* Folds the passing entries of list[from..to) into a new group (judge.h)
 * of 'members' hosts and marks them. */
/* A monitor's poll is small: a request of some KB at most a beat. A
 * client that sends a megabyte to each of five servers every hour
 * uploads on a timer (a tester's 216 MB drip read "a monitor, most
 * likely"): its beacons are judged one by one. Sampled byte counts are
 * estimates, and do not tell. */
#define POLL_MAX_BYTES 65536.0

static int poll_sized(const pending *p) {
  return p->verdict.sampled_reading || p->score.client_median <= POLL_MAX_BYTES;
}

static void fold(beacon *b, groups *gs, pending *list, size_t from, size_t to,
                 unsigned members, nfh__bcn_group_kind kind, double hosts) {
  int poller = kind == NFH__BCN_GROUP_POLLER;
  group_acc acc;
  nfh__bcn_group *g =
      group_begin(gs, kind, poller ? &list[from].client : &list[from].server, 0,
                  list[from].port, list[from].proto, members, hosts, &acc);
  if (!g)
    return;
  for (size_t x = from; x < to; x++) {
    if (!list[x].pass || list[x].folded || (poller && !poll_sized(&list[x])))
      continue;
    const nfh__bcn_cand *c = nfh__bcn_table_at(&b->tk.cands, list[x].id);
    list[x].folded = 1;
    nfh_severity sev = kind == NFH__BCN_GROUP_CAMPAIGN
                           ? list[x].verdict.severity_alone
                           : list[x].verdict.severity;
    /* A campaign's members are ranked as one client's beacon would be
     * (judge.h: x 0.5 for a popular destination). */
    double score = list[x].verdict.score;
    if (kind == NFH__BCN_GROUP_CAMPAIGN && list[x].verdict.popular)
      score = 2 * score > 100 ? 100 : 2 * score;
    group_take(g, &acc, c, poller ? &c->server : &c->client, sev, score,
               list[x].score.period_s, list[x].score.regularity,
               list[x].verdict.confidence);
    g->taken++;
    g->silent += list[x].score.client_median <= 0;
  }
  group_end(g, &acc);
}

static const nfh__bcn_cand *cand_of(const beacon *b, const pending *pd) {
  return nfh__bcn_table_at(&b->tk.cands, pd->id);
}

/* Whether 'similar' clients beating with one period to the destination
 * of verdict v are a campaign (judge.h): nearly all its internal clients
 * by contacts (at most a quarter more; past NFH__BCN_DEST_CLIENTS an
 * estimate, whose error of a few clients the quarter covers), fewer than
 * campaign_max, below campaign_share of the internal hosts. A keepalive
 * whose other clients stopped (machines switched off for the night) has
 * more contacts than beating clients. */
static int is_campaign(const nfh__bcn_params *p, unsigned similar,
                       const nfh__bcn_verdict *v, double hosts) {
  if (similar < NFH__BCN_FEW_CLIENTS || similar >= p->campaign_max ||
      hosts <= 0 || (double)similar >= p->campaign_share * hosts ||
      v->clients >= NFH__BCN_DEST_COUNT_MAX)
    return 0;
  return 4 * v->clients <= 5 * similar;
}

/* Client comparisons the suite test (one_suite) may make in a run: some
 * milliseconds of work. */
#define SUITE_COMPARISONS 20000000u

/* One destination's run list[from..to) of the list sorted by
 * destination, and what its clients beating with one period make it. */
typedef struct dest_run {
  size_t from, to;
  double period;    /* the median of the reported ones' periods */
  unsigned similar; /* clients beating within 15% of it */
  size_t npass;     /* clients reported */
  int campaign;     /* is_campaign, until a suite says otherwise */
} dest_run;

static int similar_period(const pending *p, double period) {
  return fabs(p->score.period_s - period) <= 0.15 * period;
}

/* P(X >= k) for X binomial (n, p). */
static double binomial_tail(unsigned n, double p, unsigned k) {
  if (k == 0)
    return 1;
  if (k > n || p <= 0)
    return 0;
  if (p >= 1)
    return 1;
  double term = pow(1 - p, n); /* P(X = 0), then P(X = i) */
  double below = 0;
  for (unsigned i = 0; i < k; i++) {
    below += term;
    term *= (double)(n - i) / (double)(i + 1) * p / (1 - p);
  }
  double tail = 1 - below;
  return tail < 0 ? 0 : tail;
}

/* How unlikely it is by chance that the clients beating alike to x and
 * to y have as many hosts in common as they have: P(X >= common) for the
 * smaller set drawn at random among the internal hosts, each in the
 * larger with its share of them. 1 when fewer than three are common. */
static double overlap_chance(const pending *list, const dest_run *x,
                             const dest_run *y, double hosts,
                             uint64_t *budget) {
  unsigned common = 0;
  for (size_t a = x->from; a < x->to; a++) {
    if (!similar_period(&list[a], x->period))
      continue;
    uint64_t cost = y->to - y->from;
    if (*budget < cost)
      return 1;
    *budget -= cost;
    for (size_t c = y->from; c < y->to; c++)
      if (similar_period(&list[c], y->period) &&
          nfh_addr_equal(&list[a].client, &list[c].client)) {
        common++;
        break;
      }
  }
  if (common < 3 || hosts <= 0)
    return 1;
  unsigned smaller = x->similar < y->similar ? x->similar : y->similar;
  unsigned larger = x->similar < y->similar ? y->similar : x->similar;
  double share = (double)larger / hosts;
  return binomial_tail(smaller, share > 1 ? 1 : share, common);
}

/* Whether campaign-like run x is one suite's keepalive: its clients beat
 * alike to other destinations too, each with a period of its own, with
 * far more hosts in common than chance allows. Hosts that keep several
 * keepalives run one suite of software (the SaaS a desk uses, its sync,
 * its chat; at night, the machines left on); the bots of a campaign may
 * run a keepalive as other hosts do, no more of them than its share of
 * the network makes likely. The overlaps with every such destination
 * (three hosts in common or more) are combined (Fisher's method: -2 sum
 * ln p is chi-squared with 2k degrees of freedom); under 1e-3 is a
 * suite. Few destinations have three clients beating alike, so pairs
 * are cheap; comparisons beyond *budget (a run's, against hostile
 * input) are not made, and the overlaps not measured count as chance. */
static int one_suite(const pending *list, const dest_run *runs, size_t n,
                     size_t x, double hosts, uint64_t *budget) {
  double half_stat = 0; /* -sum ln p */
  unsigned k = 0;
  for (size_t y = 0; y < n; y++) {
    if (y == x || runs[y].similar < 3)
      continue;
    double p = overlap_chance(list, &runs[x], &runs[y], hosts, budget);
    if (p < 1) {
      half_stat -= log(p > 1e-300 ? p : 1e-300);
      k++;
    }
  }
  if (k == 0)
    return 0;
  /* P(chi2 with 2k df >= 2 half_stat) = exp(-h) sum_{i<k} h^i / i! */
  double term = 1, sum = 0;
  for (unsigned i = 0; i < k; i++) {
    sum += term;
    term *= half_stat / (double)(i + 1);
  }
  return exp(-half_stat) * sum < 1e-3;
}

/* Folds shared destinations (and campaigns, and a few clients beating
 * alike), then pollers among what is left. */
static void fold_groups(beacon *b, pending *list, size_t n, double hosts,
                        groups *gs) {
  if (n < 2)
    return; /* no group of one; qsort(3) must not see a NULL list */
  qsort(list, n, sizeof(*list), by_dest);
  dest_run *runs = NULL;
  size_t nruns = 0, cap = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && same_dest(&list[i], &list[j]))
      j++;
    /* The period of the reported ones (their median), and the clients
     * beaconing with it: reported, or regular at half the bar. With
     * sampled exporters or early in a run, few clients of a keepalive
     * are regular enough on their own; those beside them at the same
     * period show it is one piece of software. */
    double periods[64];
    size_t npass = 0;
    /* A rotation's members (folded already) are its own: two temporary
     * addresses of one host made an empty "2 internal hosts" group. */
    for (size_t x = i; x < j && npass < 64; x++)
      if (list[x].pass && !list[x].folded)
        periods[npass++] = list[x].score.period_s;
    if (npass) {
      if (nruns == cap) {
        size_t ncap = cap ? 2 * cap : 16;
        dest_run *grown = realloc(runs, ncap * sizeof(*grown));
        if (!grown) {
          gs->failed = 1;
          break;
        }
        runs = grown;
        cap = ncap;
      }
      dest_run *r = &runs[nruns++];
      nfh__bcn_sort(periods, npass);
      r->from = i;
      r->to = j;
      r->period = periods[npass / 2];
      r->npass = npass;
      r->similar = 0;
      for (size_t x = i; x < j; x++)
        if (!list[x].folded && similar_period(&list[x], r->period))
          r->similar++;
      r->campaign =
          npass >= 2 && is_campaign(&b->p, r->similar, &list[i].verdict, hosts);
    }
    i = j;
  }
  /* A campaign-like destination whose clients keep other keepalives of
   * one suite is not a campaign. */
  uint64_t budget = SUITE_COMPARISONS;
  for (size_t x = 0; x < nruns; x++)
    if (runs[x].campaign > 0 && one_suite(list, runs, nruns, x, hosts, &budget))
      runs[x].campaign = -1;
  for (size_t k = 0; k < nruns; k++) {
    const dest_run *r = &runs[k];
    size_t i = r->from, j = r->to;
    /* A popular destination (many internal clients) that three of
     * them or more beat to is software they share, even when each
     * polls at its own period (a sync client's 53 to 290 s): hourly
     * runs see too few at one period to group them otherwise. */
    int busy = list[i].verdict.popular && (r->similar >= 3 || r->npass >= 3);
    if (r->campaign > 0)
      fold(b, gs, list, i, j, r->similar, NFH__BCN_GROUP_CAMPAIGN, hosts);
    else if (busy || r->campaign < 0 ||
             nfh__bcn_is_popular(&b->p, r->similar, hosts))
      fold(b, gs, list, i, j, r->similar, NFH__BCN_GROUP_SHARED, hosts);
    else if (r->similar >= NFH__BCN_FEW_CLIENTS && r->npass >= 2)
      fold(b, gs, list, i, j, r->similar, NFH__BCN_GROUP_FEW, hosts);
  }
  free(runs);
  /* Pollers: one client's beacons on one port, by period; a run of
   * poller_servers or more within 20% (end to end) of each other, or
   * within four times the shortest when sampled. A member of a shared
   * destination is not counted again. */
  qsort(list, n, sizeof(*list), by_client);
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && same_client_port(&list[i], &list[j]))
      j++;
    for (size_t a = i; a < j;) {
      if (list[a].folded || !list[a].pass || !poll_sized(&list[a])) {
        a++;
        continue;
      }
      /* Servers polled at the period but not regular enough alone
       * count too when two pass: with sampling, three of an SNMP
       * poller's four hosts passed, and were three medium beacons. */
      size_t z = a + 1, k = 1, near = 1;
      /* Sampling hides beats: a server polled every 300 s read every
       * 10 min. Periods up to four times the shortest are one poll. */
      double span = list[a].verdict.sampled_reading ? 4.8 : 1.2;
      while (z < j && list[z].score.period_s <= list[a].score.period_s * span) {
        if (list[z].pass && !list[z].folded && poll_sized(&list[z]))
          k++;
        if (!list[z].folded && list[z].score.period_s > 0 &&
            poll_sized(&list[z]))
          near++;
        z++;
      }
      if (k >= b->p.poller_servers ||
          (k >= 2 && near >= b->p.poller_servers)) {
        fold(b, gs, list, a, z, (unsigned)(near > k ? near : k),
             NFH__BCN_GROUP_POLLER, hosts);
        a = z;
      } else {
        a++;
      }
    }
    i = j;
  }
}

/* ---------------------------------------------------------- rotation */

/* An implant that calls one of several addresses of its operator's
 * network at each beat (a pool behind one /24) splits its beacon into
 * pairs that each see a third of the beats, irregularly: three low
 * findings at most. Its pairs are merged per client, network, port and
 * protocol, and judged as one timeline. */
#define ROT_MAX_MEMBERS 64
/* Addresses in many networks: at least this many (two or three rare
 * destinations of one client beating together can be chance). */
#define ROT_SPREAD_MIN 4

typedef struct rotkey {
  nfh_addr client, net;
  uint16_t port;
  uint8_t proto;
  uint32_t id;
} rotkey;

typedef struct rotation {
  nfh__bcn_cand c; /* the merged timeline; its ev owned */
  nfh__bcn_score score;
  nfh__bcn_verdict verdict;
  char net[NFH_ADDR_STRLEN + 8];
  nfh_addr net_addr; /* the network of net (ROT_NET) */
  unsigned prefix;   /* its length; 0 over ports or many networks */
  unsigned naddr;
  int ports;  /* over one server's ports (naddr of them), not addresses */
  int folded; /* one of several clients' (fold_rotations) */
  /* ROT_CLIENT: naddr addresses of this client network, one after
   * another; empty otherwise. */
  char client_net[NFH_ADDR_STRLEN + 8];
} rotation;

typedef struct rotations {
  rotation *v;
  size_t n, cap;
} rotations;

/* The network an address belongs to for rotation: its /24, or /64. */
static nfh_addr net_of(const nfh_addr *a, int *prefix) {
  /* A NAT64 address is an IPv4 host: its /24, not all of IPv4. */
  *prefix = a->family == 4 ? 24 : nfh_addr_nat64(a, NULL) ? 120 : 64;
  return nfh_addr_network(a, (unsigned)*prefix);
}

static int by_rotkey(const void *pa, const void *pb) {
  const rotkey *a = pa, *b = pb;
  int c = nfh_addr_compare(&a->client, &b->client);
  if (!c)
    c = a->proto != b->proto ? (a->proto < b->proto ? -1 : 1) : 0;
  if (!c)
    c = a->port != b->port ? (a->port < b->port ? -1 : 1) : 0;
  if (!c)
    c = nfh_addr_compare(&a->net, &b->net);
  if (!c)
    c = a->id < b->id ? -1 : a->id > b->id;
  return c;
}

static int same_rotation(const rotkey *a, const rotkey *b) {
  return a->proto == b->proto && a->port == b->port &&
         nfh_addr_compare(&a->client, &b->client) == 0 &&
         nfh_addr_compare(&a->net, &b->net) == 0;
}

static int by_event_time(const void *pa, const void *pb) {
  const nfh__bcn_event *a = pa, *b = pb;
  return a->t_ms < b->t_ms ? -1 : a->t_ms > b->t_ms;
}

static void rotations_free(rotations *rs) {
  for (size_t i = 0; i < rs->n; i++)
    free(rs->v[i].c.ev);
  free(rs->v);
  memset(rs, 0, sizeof(*rs));
}

static const nfh__bcn_cand *cand_by_id(const beacon *b, uint32_t id) {
  return nfh__bcn_table_at(&b->tk.cands, id);
}

/* Merges the members [k0, k1) of one client's network into one
 * candidate m (m->ev allocated, newest max_events events), and their
 * destinations' clients into d. 0, or -1 out of memory. */
static int merge_members(const beacon *b, const rotkey *k, size_t k0,
                         size_t k1, nfh__bcn_cand *m, nfh__bcn_dest *d) {
  size_t total = 0;
  for (size_t x = k0; x < k1; x++)
    total += cand_by_id(b, k[x].id)->nev;
  nfh__bcn_event *ev = malloc((total ? total : 1) * sizeof(*ev));
  if (!ev)
    return -1;
  *m = *cand_by_id(b, k[k0].id);
  m->conns = m->bytes = 0;
  m->sampled = m->replied = m->guessed = 0;
  memset(d, 0, sizeof(*d));
  size_t n = 0;
  for (size_t x = k0; x < k1; x++) {
    const nfh__bcn_cand *c = cand_by_id(b, k[x].id);
    memcpy(ev + n, nfh__bcn_events_const(c), c->nev * sizeof(*ev));
    n += c->nev;
    m->conns += c->conns;
    m->bytes += c->bytes;
    m->sampled += c->sampled;
    m->replied += c->replied;
    m->guessed += c->guessed;
    if (c->max_sampling > m->max_sampling)
      m->max_sampling = c->max_sampling;
    if (c->first_ms < m->first_ms)
      m->first_ms = c->first_ms;
    if (c->last_ms > m->last_ms) {
      m->last_ms = c->last_ms;
      m->server = c->server;
    }
    if (c->last_end_ms > m->last_end_ms)
      m->last_end_ms = c->last_end_ms;
    /* The network's internal clients: the union of its addresses'. */
    const nfh__bcn_dest *cd =
        nfh__bcn_track_dest(&b->tk, &c->server, c->port, c->proto);
    if (!cd)
      continue;
    d->saturated |= cd->saturated;
    d->spill |= cd->spill;
    for (unsigned i = 0; i < cd->nclients; i++)
      nfh__bcn_dest_add_client(d, cd->clients[i]);
  }
  qsort(ev, n, sizeof(*ev), by_event_time);
  size_t keep = n > b->p.max_events ? b->p.max_events : n;
  memmove(ev, ev + (n - keep), keep * sizeof(*ev));
  m->ev = ev;
  m->nev = (uint32_t)keep;
  m->cap_ev = (uint32_t)keep;
  return 0;
}

/* Beats a timeline needs to take part in a rotation (below min_conns
 * it is not judged alone). */
#define ROT_MEMBER_MIN_BEATS 3u
/* Beats of a rotation's members closer than this are one poll of many. */
#define POLL_BURST_MS 2000

/* Finds rotations among the live candidates 'live' (ids), judges each
 * merged timeline, and keeps those that pass and beat every member on
 * its own; their members in 'list' are marked folded.
 * Three passes ('mode'): ROT_NET, over one network's addresses on one
 * port; then, of what is left, ROT_PORTS, over one server's ports (an
 * implant that calls 443, 8443, 2053... of one address in turn was
 * nothing, each port a tenth of its beats); then ROT_SPREAD, over the
 * addresses of any networks on one port that no other internal host
 * uses (an implant calling 30 addresses in 30 networks in turn).
 * 'taken' marks the ids of kept rotations' members (cands.used bytes). */
enum { ROT_NET, ROT_PORTS, ROT_SPREAD, ROT_CLIENT };

/* ROT_CLIENT: a host's IPv6 temporary addresses (RFC 8981, the default
 * of every desktop and phone system) change every few hours or at each
 * reconnect, within its /64. An implant's beacon then splits into one
 * pair per address, each an hour or two of beats: nothing in one run,
 * a new low finding from "another host" each hour (a tester's IPv6
 * site; the same beacon from a fixed address was high). The addresses
 * of one /64 that called one server (address, port) one after another,
 * none beating while another did, are one host's: merged, judged as one
 * timeline. Two hosts of a LAN running the same agent beat at the same
 * time, and are not merged. This much overlap is allowed between one
 * address's last beat and the next one's first (the old address still
 * carries a connection it opened). */
#define ROT_CLIENT_OVERLAP_MS (5 * 60 * 1000ull)

typedef struct span {
  uint64_t first_ms, last_ms;
} span;

static int by_span_start(const void *pa, const void *pb) {
  const span *a = pa, *b = pb;
  return a->first_ms < b->first_ms ? -1 : a->first_ms > b->first_ms;
}

/* Whether the members [k0, k1) beat one after another (ROT_CLIENT). */
static int one_after_another(const beacon *b, const rotkey *k, size_t k0,
                             size_t k1) {
  span v[ROT_MAX_MEMBERS];
  size_t n = 0;
  for (size_t x = k0; x < k1 && n < ROT_MAX_MEMBERS; x++) {
    const nfh__bcn_cand *c = cand_by_id(b, k[x].id);
    v[n++] = (span){c->first_ms, c->last_ms};
  }
  qsort(v, n, sizeof(*v), by_span_start);
  for (size_t x = 1; x < n; x++)
    if (v[x].first_ms + ROT_CLIENT_OVERLAP_MS < v[x - 1].last_ms)
      return 0;
  return 1;
}

/* The destination's clients as ROT_CLIENT's merged timeline sees them:
 * the members' addresses one client (the newest's). */
static void count_as_one(const beacon *b, const rotkey *k, size_t k0, size_t k1,
                         const nfh_addr *newest, nfh__bcn_dest *d) {
  nfh__bcn_dest one = *d;
  one.nclients = 0;
  for (unsigned i = 0; i < d->nclients; i++) {
    int member = 0;
    for (size_t x = k0; x < k1 && !member; x++)
      member = d->clients[i] ==
               nfh__bcn_client_hash(&cand_by_id(b, k[x].id)->client);
    if (!member)
      nfh__bcn_dest_add_client(&one, d->clients[i]);
  }
  nfh__bcn_dest_add_client(&one, nfh__bcn_client_hash(newest));
  *d = one;
}

static void find_rotations(beacon *b, const uint32_t *live, size_t nlive,
                           pending *list, size_t np, double hosts,
                           rotations *rs, int mode, uint8_t *taken) {
  int ports = mode == ROT_PORTS;
  if (nlive < 2)
    return;
  rotkey *k = malloc(nlive * sizeof(*k));
  uint32_t *where = malloc((size_t)b->tk.cands.used * sizeof(uint32_t));
  if (!k || !where) {
    free(k);
    free(where);
    return;
  }
  for (uint32_t i = 0; i < b->tk.cands.used; i++)
    where[i] = UINT32_MAX;
  for (size_t i = 0; i < np; i++)
    where[list[i].id] = (uint32_t)i;
  size_t nk = 0;
  for (size_t i = 0; i < nlive; i++) {
    if (taken[live[i]])
      continue;
    const nfh__bcn_cand *c = cand_by_id(b, live[i]);
    if (mode == ROT_SPREAD) {
      /* Only a destination of this client alone, called a few times:
       * the many sites of its browsing would drown any period. */
      const nfh__bcn_dest *dd =
          nfh__bcn_track_dest(&b->tk, &c->server, c->port, c->proto);
      if (c->nev < 3 || (dd && (dd->nclients > 1 || dd->saturated)))
        continue;
    }
    int prefix;
    if (mode == ROT_CLIENT && c->client.family != 6)
      continue;
    k[nk].client = mode == ROT_CLIENT ? net_of(&c->client, &prefix) : c->client;
    if (mode == ROT_SPREAD)
      memset(&k[nk].net, 0, sizeof(k[nk].net));
    else
      k[nk].net =
          ports || mode == ROT_CLIENT ? c->server : net_of(&c->server, &prefix);
    k[nk].port = ports ? 0 : c->port;
    k[nk].proto = c->proto;
    k[nk].id = live[i];
    nk++;
  }
  nlive = nk;
  qsort(k, nlive, sizeof(*k), by_rotkey);
  for (size_t i = 0; i < nlive;) {
    size_t j = i + 1;
    while (j < nlive && same_rotation(&k[i], &k[j]))
      j++;
    if (j - i < (mode == ROT_SPREAD ? ROT_SPREAD_MIN : 2) ||
        j - i > ROT_MAX_MEMBERS || (k[i].proto != TCP && k[i].proto != UDP) ||
        (mode == ROT_CLIENT && !one_after_another(b, k, i, j))) {
      i = j;
      continue;
    }
    rotation r;
    memset(&r, 0, sizeof(r));
    nfh__bcn_dest d;
    if (merge_members(b, k, i, j, &r.c, &d) != 0)
      break;
    if (mode == ROT_CLIENT) {
      /* The host by its newest address. */
      uint64_t newest = 0;
      for (size_t x = i; x < j; x++) {
        const nfh__bcn_cand *c = cand_by_id(b, k[x].id);
        if (c->last_ms >= newest) {
          newest = c->last_ms;
          r.c.client = c->client;
        }
      }
      count_as_one(b, k, i, j, &r.c.client, &d);
    }
    /* A poller calls all of its servers at each beat; a rotation calls
     * one. Beats of several members within seconds of each other are a
     * poller's. Under sampling those bursts are sampled away, and a
     * poller of poller_servers or more addresses cannot be told from a
     * rotation: the SNMP poller of four DMZ hosts read "beacons to 4
     * addresses", high, at 1:100. */
    size_t together = 0;
    const nfh__bcn_event *rev = nfh__bcn_events_const(&r.c);
    for (uint32_t x = 1; x < r.c.nev; x++)
      together += rev[x].t_ms - rev[x - 1].t_ms < POLL_BURST_MS;
    int poller_like = 4 * together >= r.c.nev;
    int sampled_reading = 0, keep = 0;
    /* A service many internal hosts use (a SaaS keepalive over its
     * front-ends) is the shared groups' business, and a merged timeline
     * below medium says no more than its members. */
    if (score_cand(b, &r.c, &r.score, &sampled_reading) &&
        nfh__bcn_judge(&b->p, &r.c, &r.score, &d, hosts, sampled_reading,
                       &r.verdict) &&
        !r.verdict.popular && r.verdict.severity >= NFH_SEV_MEDIUM &&
        r.verdict.severity >= b->p.min_severity && !poller_like &&
        !(sampled_reading && j - i >= b->p.poller_servers)) {
      /* Worth it only when the whole says more than its best part. */
      keep = 1;
      for (size_t x = i; x < j && keep; x++) {
        uint32_t at = where[k[x].id];
        if (at != UINT32_MAX && list[at].pass &&
            (list[at].verdict.severity > r.verdict.severity ||
             (list[at].verdict.severity == r.verdict.severity &&
              list[at].verdict.score >= r.verdict.score)))
          keep = 0;
      }
    }
    if (keep && rs->n == rs->cap) {
      size_t ncap = rs->cap ? 2 * rs->cap : 8;
      rotation *grown = realloc(rs->v, ncap * sizeof(*grown));
      if (!grown)
        keep = 0;
      else
        rs->v = grown, rs->cap = ncap;
    }
    if (!keep) {
      free(r.c.ev);
      i = j;
      continue;
    }
    int prefix;
    nfh_addr net = net_of(&r.c.server, &prefix);
    char a[NFH_ADDR_STRLEN];
    nfh_addr_format(&net, a, sizeof(a));
    if (mode == ROT_CLIENT) {
      char ca[NFH_ADDR_STRLEN];
      nfh_addr_format(&k[i].client, ca, sizeof(ca));
      snprintf(r.client_net, sizeof(r.client_net), "%s/64", ca);
    }
    if (mode == ROT_SPREAD)
      snprintf(r.net, sizeof(r.net), "*");
    else
      snprintf(r.net, sizeof(r.net), "%s/%d", a, prefix);
    if (mode == ROT_NET) {
      r.net_addr = net;
      r.prefix = (unsigned)prefix;
    }
    r.naddr = (unsigned)(j - i);
    r.ports = ports;
    rs->v[rs->n++] = r;
    for (size_t x = i; x < j; x++) {
      taken[k[x].id] = 1;
      if (where[k[x].id] != UINT32_MAX)
        list[where[k[x].id]].folded = 1;
    }
    i = j;
  }
  free(k);
  free(where);
}

/* Rotations by network, protocol and port. */
static int by_rotation_net(const void *pa, const void *pb) {
  const rotation *a = *(const rotation *const *)pa;
  const rotation *b = *(const rotation *const *)pb;
  int c = nfh_addr_compare(&a->net_addr, &b->net_addr);
  if (!c && a->prefix != b->prefix)
    c = a->prefix < b->prefix ? -1 : 1;
  if (!c && a->c.proto != b->c.proto)
    c = a->c.proto < b->c.proto ? -1 : 1;
  if (!c && a->c.port != b->c.port)
    c = a->c.port < b->c.port ? -1 : 1;
  return c;
}

/* Folds rotations of several clients over one network and port with one
 * period into one group each, as fold_groups does for one server: CI
 * runners that poll their forge's front-ends, each over two addresses of
 * its /24, were six medium findings for one thing to decide on (and
 * bots of one campaign over their operator's pool are as many). A group
 * is FEW (at most medium), or SHARED (info) when its clients are
 * popular by number. Each client's rotation is its own (find_rotations
 * keys by client), so members are distinct clients. */
static void fold_rotations(beacon *b, rotations *rs, double hosts, groups *gs) {
  if (rs->n < 2)
    return;
  rotation **v = malloc(rs->n * sizeof(*v));
  if (!v)
    return;
  size_t nv = 0;
  for (size_t i = 0; i < rs->n; i++)
    if (rs->v[i].prefix)
      v[nv++] = &rs->v[i];
  if (nv > 1)
    qsort(v, nv, sizeof(*v), by_rotation_net);
  for (size_t i = 0; i < nv && !gs->failed;) {
    size_t j = i + 1;
    while (j < nv && by_rotation_net(&v[i], &v[j]) == 0)
      j++;
    double periods[64];
    size_t np = 0;
    for (size_t x = i; x < j && np < 64; x++)
      periods[np++] = v[x]->score.period_s;
    nfh__bcn_sort(periods, np);
    double median = periods[np / 2];
    unsigned members = 0;
    for (size_t x = i; x < j; x++)
      members += fabs(v[x]->score.period_s - median) <= 0.15 * median;
    if (j - i < NFH__BCN_FEW_CLIENTS || members < NFH__BCN_FEW_CLIENTS) {
      i = j;
      continue;
    }
    int shared = nfh__bcn_is_popular(&b->p, members, hosts);
    group_acc acc;
    nfh__bcn_group *g =
        group_begin(gs, shared ? NFH__BCN_GROUP_SHARED : NFH__BCN_GROUP_FEW,
                    &v[i]->net_addr, v[i]->prefix, v[i]->c.port, v[i]->c.proto,
                    members, hosts, &acc);
    for (size_t x = i; x < j && g; x++) {
      rotation *r = v[x];
      if (fabs(r->score.period_s - median) > 0.15 * median)
        continue;
      r->folded = 1;
      group_take(g, &acc, &r->c, &r->c.client, r->verdict.severity,
                 r->verdict.score, r->score.period_s, r->score.regularity,
                 r->verdict.confidence);
    }
    if (g) {
      group_end(g, &acc);
      /* The network's median period, the one that chose the members. */
      g->period_median = median;
    }
    i = j;
  }
  free(v);
}

static int emit_rotation(beacon *b, const rotation *r) {
  char key[160], summary[512], evidence[2048];
  if (r->client_net[0])
    nfh__bcn_describe_client_rotation(
        &r->c, &r->score, &r->verdict, r->client_net, r->naddr, key,
        sizeof(key), summary, sizeof(summary), evidence, sizeof(evidence));
  else if (r->ports)
    nfh__bcn_describe_port_rotation(&r->c, &r->score, &r->verdict, r->naddr,
                                    key, sizeof(key), summary,
                                    sizeof(summary), evidence,
                                    sizeof(evidence));
  else
    nfh__bcn_describe_rotation(&r->c, &r->score, &r->verdict, r->net,
                               r->naddr, key, sizeof(key), summary,
                               sizeof(summary), evidence, sizeof(evidence));
  /* A host's temporary addresses called one server: it is the dst. */
  return emit_timeline(b, &r->c, &r->verdict, r->client_net[0] != 0, key,
                       summary, evidence);
}

/* One output finding: a pending beacon, a group or a rotation (its
 * index). */
typedef struct output {
  double score;
  size_t pending;
  long group;    /* -1 for a pending beacon */
  long rotation; /* -1 but for a rotation */
} output;

static int by_output_score(const void *pa, const void *pb) {
  const output *a = pa, *b = pb;
  if (a->score != b->score)
    return a->score > b->score ? -1 : 1;
  if (a->group != b->group)
    return a->group < b->group ? -1 : 1;
  if (a->rotation != b->rotation)
    return a->rotation < b->rotation ? -1 : 1;
  return a->pending < b->pending ? -1 : a->pending > b->pending;
}

static int beacon_finish(void *ctx) {
  beacon *b = ctx;
  uint64_t wstart = b->api->window_start_ms(b->api->host);
  uint64_t now = b->api->window_end_ms(b->api->host);
  if (now == 0)
    return 0; /* no data in this run: nothing is live, nothing expires */
  double hosts = nfh__bcn_track_hosts(&b->tk);

  /* Every live, regular timeline, judged; every live one listed for the
   * rotation check (ids). */
  pending *list = NULL;
  size_t np = 0, cap = 0;
  uint32_t *live = NULL;
  size_t nlive = 0, live_cap = 0;
  for (uint32_t id = 0; id < b->tk.cands.used; id++) {
    if (!nfh__bcn_table_live(&b->tk.cands, id))
      continue;
    const nfh__bcn_cand *c = nfh__bcn_table_at(&b->tk.cands, id);
    if (c->nev < ROT_MEMBER_MIN_BEATS)
      continue;
    /* Live: a beat in this run, or not yet three periods overdue (a
     * quick bound with the longest period first). */
    int in_run = c->last_ms >= wstart;
    if (!in_run && now - c->last_ms > 3 * b->p.max_period_ms)
      continue;
    if (allowed(b, &c->client, &c->server, c->port))
      continue; /* allowlisted since it was tracked */
    if ((c->proto == UDP || c->proto == TCP) && c->port == 53 &&
        nfh__resolvers_has(&b->resolvers, &c->client))
      continue; /* the site's resolver forwarding: not its own beacon */
    if (nlive == live_cap) {
      size_t ncap = live_cap ? 2 * live_cap : 256;
      uint32_t *grown = realloc(live, ncap * sizeof(*grown));
      if (grown)
        live = grown, live_cap = ncap;
    }
    if (nlive < live_cap)
      live[nlive++] = id; /* else no rotation check for it */
    /* Too few beats to be judged alone; a rotation's member still: a
     * beacon over five addresses of a /24 read "3 addresses, 36
     * connections" of its 48, the two with 5 and 7 beats left out. */
    if (c->nev < b->p.min_conns)
      continue;
    pending pd;
    int sampled_reading;
    if (!score_cand(b, c, &pd.score, &sampled_reading))
      continue;
    if (!in_run && (double)(now - c->last_ms) > 3000.0 * pd.score.period_s)
      continue;
    pd.pass = nfh__bcn_judge(&b->p, c, &pd.score,
                             nfh__bcn_track_dest(&b->tk, &c->server, c->port,
                                                 c->proto),
                             hosts, sampled_reading, &pd.verdict);
    pd.id = id;
    pd.client = c->client;
    pd.server = c->server;
    pd.port = c->port;
    pd.proto = c->proto;
    pd.folded = 0;
    if (np == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      pending *grown = realloc(list, ncap * sizeof(*grown));
      if (!grown) {
        b->api->log(b->api->host, NFH_LOG_ERROR,
                    "out of memory while ranking findings");
        free(list);
        free(live);
        return -1;
      }
      list = grown;
      cap = ncap;
    }
    list[np++] = pd;
  }

  /* Rotations over one network's addresses, before the groups: their
   * members are one client's, not a shared service's. */
  rotations rs = {NULL, 0, 0};
  uint8_t *taken = calloc((size_t)b->tk.cands.used + 1, 1);
  if (taken) {
    find_rotations(b, live, nlive, list, np, hosts, &rs, ROT_CLIENT, taken);
    find_rotations(b, live, nlive, list, np, hosts, &rs, ROT_NET, taken);
    find_rotations(b, live, nlive, list, np, hosts, &rs, ROT_PORTS, taken);
    find_rotations(b, live, nlive, list, np, hosts, &rs, ROT_SPREAD, taken);
  }
  free(taken);
  free(live);

  /* Groups (shared destinations, pollers) fold into one finding each. */
  groups gs = {NULL, 0, 0, 0};
  fold_groups(b, list, np, hosts, &gs);
  fold_rotations(b, &rs, hosts, &gs);
  if (gs.failed)
    b->api->log(b->api->host, NFH_LOG_WARNING,
                "out of memory while grouping: some beacons are reported "
                "one by one");

  output *out = malloc((np + gs.n + rs.n + 1) * sizeof(*out));
  if (!out) {
    b->api->log(b->api->host, NFH_LOG_ERROR,
                "out of memory while ranking findings");
    free(list);
    free(gs.v);
    rotations_free(&rs);
    return -1;
  }
  size_t no = 0;
  for (size_t i = 0; i < np; i++)
    if (list[i].pass && !list[i].folded &&
        list[i].verdict.severity >= b->p.min_severity)
      out[no++] = (output){list[i].verdict.score, i, -1, -1};
  for (size_t i = 0; i < gs.n; i++)
    if (gs.v[i].severity >= b->p.min_severity)
      out[no++] = (output){gs.v[i].score, 0, (long)i, -1};
  for (size_t i = 0; i < rs.n; i++)
    if (!rs.v[i].folded)
      out[no++] = (output){rs.v[i].verdict.score, 0, -1, (long)i};
  if (no > 1)
    qsort(out, no, sizeof(*out), by_output_score);
  if (no > b->p.max_findings) {
    b->api->log(b->api->host, NFH_LOG_INFO,
                "%zu beacons found, the %u strongest reported (max_findings)",
                no, b->p.max_findings);
    no = b->p.max_findings;
  }
  int rc = 0;
  for (size_t i = 0; i < no && rc == 0; i++) {
    if (out[i].rotation >= 0)
      rc = emit_rotation(b, &rs.v[out[i].rotation]);
    else if (out[i].group >= 0)
      rc = emit_group(b, &gs.v[out[i].group]);
    else
      rc = emit(b, cand_of(b, &list[out[i].pending]), &list[out[i].pending]);
  }
  long persistent = rc == 0 ? persistent_findings(b, wstart) : 0;
  if (persistent < 0)
    rc = -1;
  b->api->log(b->api->host, NFH_LOG_INFO,
              "%u pairs (%" PRIu64 " beats), %u destinations, %.0f internal "
              "hosts; %zu regular (at half the bar), %zu groups, %zu "
              "rotations, %zu reported; %ld persistent sessions",
              b->tk.cands.count, b->tk.total_events, b->tk.dests.count, hosts,
              np, gs.n, rs.n, no, persistent < 0 ? 0 : persistent);
  free(out);
  free(list);
  free(gs.v);
  rotations_free(&rs);
  /* Idle pairs leave the state only now, after judging: a run over days
   * judges a beacon that stopped two days before the run's end as well
   * as one that is still calling. A pair with too few beats to score is
   * kept for two longest periods: long enough for the slowest beacon's
   * next beat. */
  nfh__bcn_track_expire(&b->tk, now, b->p.idle_ms, b->p.min_conns,
                        2 * b->p.max_period_ms, b->p.dest_idle_ms);
  if (b->tk.evicted || nfh__bcn_table_stopped(&b->tk.cands))
    b->api->log(b->api->host, NFH_LOG_INFO,
                "%" PRIu64 " candidates evicted for room (max_candidates, "
                "max_total_events); %" PRIu64 " first sightings of a pair "
                "and %" PRIu64 " of a destination waited at a full table",
                b->tk.evicted, nfh__bcn_table_stopped(&b->tk.cands),
                nfh__bcn_table_stopped(&b->tk.dests));
  return rc;
}

static int beacon_state_load(void *ctx, const void *data, size_t len) {
  beacon *b = ctx;
  int rc = nfh__bcn_track_load(&b->tk, data, len);
  if (rc < 0)
    b->api->log(b->api->host, NFH_LOG_WARNING,
                "saved state is damaged or memory ran out; timelines start "
                "afresh");
  else if (rc > 0)
    b->api->log(b->api->host, NFH_LOG_INFO,
                "saved state has another format; timelines start afresh");
  return 0;
}

static int beacon_state_save(void *ctx, void **data, size_t *len) {
  beacon *b = ctx;
  if (nfh__bcn_track_save(&b->tk, BLOB_LIMIT, data, len) != 0) {
    b->api->log(b->api->host, NFH_LOG_ERROR,
                "cannot save the state (out of memory or over %u MB)",
                BLOB_LIMIT >> 20);
    return -1;
  }
  return 0;
}

static const nfh_plugin_descriptor descriptor = {
    .abi_version = NFH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nfh_plugin_descriptor),
    .name = NAME,
    .version = "1.0",
    .description = "beaconing: regular call-backs from internal hosts "
                   "(C2), across runs; C2 sessions held open for hours",
    .wants = NFH_WANTS_CONNS,
    .create = beacon_create,
    .on_conns = beacon_on_conns,
    .finish = beacon_finish,
    .state_load = beacon_state_load,
    .state_save = beacon_state_save,
    .destroy = beacon_destroy,
};

const nfh_plugin_descriptor *nfh_plugin_entry(void) { return &descriptor; }
