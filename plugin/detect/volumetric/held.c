/* held.c - held-connection floods; see held.h. */
#include <stdlib.h>
#include <string.h>

#include "counting.h"
#include "held.h"

#define TCP 6
#define TH_SYN 0x02
#define TH_ACK 0x10
/* What a stalled connection may carry beyond max_rate each way: a
 * request line and a few headers from the client; from the server a 408
 * page over plain HTTP, a TLS handshake (the certificate chain)
 * elsewhere. */
#define CLIENT_ALLOWANCE 2048.0
#define SERVER_ALLOWANCE_HTTP 2048.0
#define SERVER_ALLOWANCE 8192.0
/* A TCP/IP header with the timestamp option, as Linux sends it: what a
 * bare acknowledgement weighs (IPv6: 20 more). */
#define ACK_BYTES_V4 52.0
#define ACK_BYTES_V6 72.0
/* A server that sent at most this much data a connection on average
 * answered nothing (a 408 page at most). */
#define QUIET_SERVER_BYTES 1024.0

/* Keys are looked up for every crossing TCP connection, almost none of
 * which belongs to a tracked key: a bitmap of the tracked keys' hashes
 * (128 KiB, mostly in cache) answers "not tracked" without touching the
 * table. */
#define FILTER_BITS (1u << 20)

typedef struct entry {
  nfh_addr client, server;
  uint16_t port;
  uint8_t client_home;
  uint64_t hash;
  nfh__vol_held_run cur, best;
} entry;

struct nfh__vol_held {
  entry *e;
  uint32_t n, cap, max;
  uint32_t *slot; /* index + 1; 0 = empty */
  uint32_t slot_mask;
  uint64_t *filter;
  double min_ms, max_rate;
  uint64_t gap_ms;
  uint32_t prunes;
};

nfh__vol_held *nfh__vol_held_create(uint32_t max_keys, double min_seconds,
                                    double max_rate, uint64_t gap_ms) {
  nfh__vol_held *h = calloc(1, sizeof(*h));
  if (!h)
    return NULL;
  h->filter = calloc(FILTER_BITS / 64, sizeof(uint64_t));
  if (!h->filter) {
    free(h);
    return NULL;
  }
  h->max = max_keys < 2 ? 2 : max_keys;
  h->min_ms = min_seconds * 1000.0;
  h->max_rate = max_rate;
  h->gap_ms = gap_ms;
  return h;
}

void nfh__vol_held_destroy(nfh__vol_held *h) {
  if (!h)
    return;
  free(h->e);
  free(h->slot);
  free(h->filter);
  free(h);
}

uint32_t nfh__vol_held_prunes(const nfh__vol_held *h) { return h->prunes; }

static uint64_t key_hash(const nfh_addr *client, const nfh_addr *server,
                         uint16_t port) {
  uint64_t h = nfh__vol_addr_hash(client) * 31 + nfh__vol_addr_hash(server);
  return nfh__vol_fmix64(h ^ port);
}

static int filter_has(const nfh__vol_held *h, uint64_t hash) {
  uint32_t bit = (uint32_t)(hash >> 40) & (FILTER_BITS - 1);
  return (h->filter[bit / 64] >> (bit % 64)) & 1;
}

static void filter_set(nfh__vol_held *h, uint64_t hash) {
  uint32_t bit = (uint32_t)(hash >> 40) & (FILTER_BITS - 1);
  h->filter[bit / 64] |= 1ull << (bit % 64);
}

/* Puts entry i in the first free slot from its hash on, and in the
 * filter. */
static void place(nfh__vol_held *h, uint32_t i) {
  uint32_t s = (uint32_t)h->e[i].hash & h->slot_mask;
  while (h->slot[s])
    s = (s + 1) & h->slot_mask;
  h->slot[s] = i + 1;
  filter_set(h, h->e[i].hash);
}

/* Rebuilds the slots (sized for cap entries at most half full) and the
 * filter from the entries. */
static int rebuild(nfh__vol_held *h) {
  uint32_t size = 16;
  while (size < 2 * h->cap)
    size *= 2;
  uint32_t *slot = calloc(size, sizeof(*slot));
  if (!slot)
    return -1;
  free(h->slot);
  h->slot = slot;
  h->slot_mask = size - 1;
  memset(h->filter, 0, FILTER_BITS / 8);
  for (uint32_t i = 0; i < h->n; i++)
    place(h, i);
  return 0;
}

static double concurrent(const nfh__vol_held_run *r) {
  if (!r->held)
    return 0;
  double span = (double)(r->last_ms - r->first_ms);
  return span > 0 ? r->held_ms / span : r->held;
}

static const nfh__vol_held_run *best_run(const entry *x) {
  return concurrent(&x->cur) >= concurrent(&x->best) ? &x->cur : &x->best;
}

static int by_held_ms(const void *pa, const void *pb) {
  double a = best_run(pa)->held_ms, b = best_run(pb)->held_ms;
  return a < b ? 1 : a > b ? -1 : 0;
}

/* Keeps the half of the keys that held the most connection time. */
static int prune(nfh__vol_held *h) {
  h->prunes++;
  qsort(h->e, h->n, sizeof(*h->e), by_held_ms);
  h->n /= 2;
  return rebuild(h);
}

static entry *find(nfh__vol_held *h, const nfh_addr *client,
                   const nfh_addr *server, uint16_t port, uint64_t hash) {
  if (!h->n || !filter_has(h, hash))
    return NULL;
  for (uint32_t s = (uint32_t)hash & h->slot_mask; h->slot[s];
       s = (s + 1) & h->slot_mask) {
    entry *x = &h->e[h->slot[s] - 1];
    if (x->hash == hash && x->port == port &&
        nfh_addr_equal(&x->client, client) &&
        nfh_addr_equal(&x->server, server))
      return x;
  }
  return NULL;
}

static entry *insert(nfh__vol_held *h, const nfh_conn *c, uint64_t hash) {
  if (h->n >= h->max && prune(h) != 0)
    return NULL;
  if (h->n == h->cap) {
    uint32_t cap = h->cap ? 2 * h->cap : 64;
    if (cap > h->max)
      cap = h->max;
    entry *e = realloc(h->e, (size_t)cap * sizeof(*e));
    if (!e)
      return NULL;
    h->e = e;
    h->cap = cap;
    if (rebuild(h) != 0)
      return NULL;
  }
  entry *x = &h->e[h->n];
  memset(x, 0, sizeof(*x));
  x->client = c->client;
  x->server = c->server;
  x->port = c->server_port;
  x->client_home = !!(c->flags & NFH_CONN_CLIENT_HOME);
  x->hash = hash;
  place(h, h->n++);
  return x;
}

/* The ports of plain (not TLS) HTTP. */
static int plain_http(uint16_t port) {
  return port == 80 || port == 8000 || port == 8008 || port == 8080 ||
         port == 8888;
}

/* The server's bytes beyond its segments' headers (at least 0). */
static double server_data(const nfh_conn *c) {
  double ack = c->server.family == 6 ? ACK_BYTES_V6 : ACK_BYTES_V4;
  double data = (double)c->server_bytes - ack * (double)c->server_packets;
  return data > 0 ? data : 0;
}

static int stalled(const nfh__vol_held *h, const nfh_conn *c) {
  double ms = (double)(c->last_ms - c->first_ms);
  if (ms < h->min_ms || c->client_packets < 3 ||
      (c->client_flags & (TH_SYN | TH_ACK)) != (TH_SYN | TH_ACK))
    return 0;
  double s = ms / 1000.0;
  double allowance = plain_http(c->server_port) ? SERVER_ALLOWANCE_HTTP
                                                : SERVER_ALLOWANCE;
  return (double)c->client_bytes <= CLIENT_ALLOWANCE + h->max_rate * s &&
         server_data(c) <= allowance + h->max_rate * s;
}

/* Adds run r into 'into': the span of both, the sums. */
static void merge_run(nfh__vol_held_run *into, const nfh__vol_held_run *r) {
  if (!into->held || r->first_ms < into->first_ms)
    into->first_ms = r->first_ms;
  if (r->last_ms > into->last_ms)
    into->last_ms = r->last_ms;
  into->held_ms += r->held_ms;
  into->held += r->held;
  into->other += r->other;
  into->client_bytes += r->client_bytes;
  into->client_packets += r->client_packets;
  into->server_bytes += r->server_bytes;
  into->server_packets += r->server_packets;
  into->server_data += r->server_data;
}

static void close_episode(entry *x) {
  if (concurrent(&x->cur) >= concurrent(&x->best))
    x->best = x->cur;
  memset(&x->cur, 0, sizeof(x->cur));
}

int nfh__vol_held_add(nfh__vol_held *h, const nfh_conn *c) {
  if (c->proto != TCP || (c->flags & NFH_CONN_SAMPLED) || c->sampling > 1)
    return 0;
  int ch = !!(c->flags & NFH_CONN_CLIENT_HOME);
  int sh = !!(c->flags & NFH_CONN_SERVER_HOME);
  if (ch == sh)
    return 0;
  int is_stalled = stalled(h, c);
  if (!is_stalled && !h->n)
    return 0; /* nothing tracked to count it against */
  uint64_t hash = key_hash(&c->client, &c->server, c->server_port);
  entry *x = find(h, &c->client, &c->server, c->server_port, hash);
  if (!is_stalled) {
    /* Counted against a tracked key's current episode only. */
    if (x && x->cur.held && c->first_ms <= x->cur.last_ms + h->gap_ms)
      x->cur.other++;
    return 0;
  }
  if (!x && !(x = insert(h, c, hash)))
    return -1;
  if (x->cur.held && c->first_ms > x->cur.last_ms + h->gap_ms)
    close_episode(x);
  nfh__vol_held_run one = {
      .first_ms = c->first_ms,
      .last_ms = c->last_ms,
      .held_ms = (double)(c->last_ms - c->first_ms),
      .held = 1,
      .client_bytes = c->client_bytes,
      .client_packets = c->client_packets,
      .server_bytes = c->server_bytes,
      .server_packets = c->server_packets,
      .server_data = server_data(c),
  };
  merge_run(&x->cur, &one);
  return 0;
}

static int by_concurrent(const void *pa, const void *pb) {
  double a = ((const nfh__vol_held_result *)pa)->concurrent;
  double b = ((const nfh__vol_held_result *)pb)->concurrent;
  return a < b ? 1 : a > b ? -1 : 0;
}

/* A growing array of results. */
typedef struct rlist {
  nfh__vol_held_result *v;
  size_t n, cap;
} rlist;

static nfh__vol_held_result *rlist_add(rlist *l) {
  if (l->n == l->cap) {
    size_t grown = l->cap ? 2 * l->cap : 8;
    nfh__vol_held_result *g = realloc(l->v, grown * sizeof(*g));
    if (!g)
      return NULL;
    l->v = g;
    l->cap = grown;
  }
  nfh__vol_held_result *o = &l->v[l->n++];
  memset(o, 0, sizeof(*o));
  return o;
}

/* Whether an episode is a held-connection flood's in all but its size:
 * long enough, its key's connections stalled, and each ended as a
 * request timeout ends them (or the server answered nothing at all). */
static int flood_shaped(const nfh__vol_held *h, uint16_t port,
                        const nfh__vol_held_run *r, double share_min,
                        double max_mean_seconds) {
  if (!r->held || (double)(r->last_ms - r->first_ms) < h->min_ms ||
      (double)r->held < share_min * (double)(r->held + r->other))
    return 0;
  return r->held_ms / r->held <= max_mean_seconds * 1000.0 ||
         (plain_http(port) && r->server_data / r->held <= QUIET_SERVER_BYTES);
}

static int by_service(const void *pa, const void *pb) {
  const nfh__vol_held_result *a = pa, *b = pb;
  int c = nfh_addr_compare(&a->server, &b->server);
  return c ? c : (a->port > b->port) - (a->port < b->port);
}

/* Adds to out the services that min_clients or more of the weak
 * results (sorted by service) held min_concurrent at once together. */
static int add_distributed(rlist *out, const rlist *weak,
                           double min_concurrent, unsigned min_clients) {
  for (size_t a = 0, b; a < weak->n; a = b) {
    nfh__vol_held_run sum;
    memset(&sum, 0, sizeof(sum));
    for (b = a; b < weak->n && by_service(&weak->v[a], &weak->v[b]) == 0; b++)
      merge_run(&sum, &weak->v[b].run);
    /* Over the span of all of them: clients that took turns did not
     * hold theirs at once. */
    double conc = concurrent(&sum);
    if (b - a < min_clients || conc < min_concurrent)
      continue;
    nfh__vol_held_result *o = rlist_add(out);
    if (!o)
      return -1;
    o->server = weak->v[a].server;
    o->port = weak->v[a].port;
    o->client_home = weak->v[a].client_home;
    o->clients = (uint32_t)(b - a);
    o->run = sum;
    o->concurrent = conc;
  }
  return 0;
}

nfh__vol_held_result *nfh__vol_held_results(const nfh__vol_held *h,
                                            double min_concurrent,
                                            double min_each,
                                            unsigned min_clients,
                                            double share_min,
                                            double max_mean_seconds,
                                            size_t *n, int *failed) {
  rlist out = {0}, weak = {0};
  *n = 0;
  *failed = 0;
  for (uint32_t i = 0; i < h->n; i++) {
    const entry *x = &h->e[i];
    const nfh__vol_held_run *r = best_run(x);
    double conc = concurrent(r);
    if (conc < min_each ||
        !flood_shaped(h, x->port, r, share_min, max_mean_seconds))
      continue;
    int alone = conc >= min_concurrent && r->held >= min_concurrent;
    nfh__vol_held_result *o = rlist_add(alone ? &out : &weak);
    if (!o)
      goto fail;
    if (alone)
      o->client = x->client;
    o->server = x->server;
    o->port = x->port;
    o->client_home = x->client_home;
    o->clients = 1;
    o->run = *r;
    o->concurrent = conc;
  }
  if (weak.n > 1)
    qsort(weak.v, weak.n, sizeof(*weak.v), by_service);
  if (add_distributed(&out, &weak, min_concurrent, min_clients) != 0)
    goto fail;
  free(weak.v);
  if (out.n > 1)
    qsort(out.v, out.n, sizeof(*out.v), by_concurrent);
  *n = out.n;
  return out.v;
fail:
  free(out.v);
  free(weak.v);
  *failed = 1;
  return NULL;
}
