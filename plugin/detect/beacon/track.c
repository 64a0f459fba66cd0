/* track.c - candidates, destinations and internal hosts; see track.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/blob.h>
#include "track.h"

#define HOUR_MS 3600000ull
#define WEEK_MS (7 * 24 * HOUR_MS)
#define HLL_PRECISION 12
#define EVICT_SAMPLES 8
#define TCP 6
#define UDP 17
#define TH_SYN 0x02u

/* Blob format: magic, version, then the sections in order. A blob of
 * another version is ignored (the detector starts afresh). */
static const uint8_t MAGIC[8] = {'N', 'F', 'H', 'B', 'C', 'N', 0, 0};
/* 2: the candidate table's door follows the candidates (1: without). */
#define BLOB_VERSION 3u

/* ------------------------------------------------------------- keys */

typedef struct cand_key {
  const nfh_addr *client, *server;
  uint16_t port;
  uint8_t proto;
} cand_key;

typedef struct dest_key {
  const nfh_addr *server;
  uint16_t port;
  uint8_t proto;
} dest_key;

static uint64_t hash_cand(const nfh_addr *client, const nfh_addr *server,
                          uint16_t port, uint8_t proto) {
  uint8_t k[37];
  memcpy(k, client->bytes, 16);
  k[16] = client->family;
  memcpy(k + 17, server->bytes, 16);
  k[33] = server->family;
  k[34] = (uint8_t)(port >> 8);
  k[35] = (uint8_t)port;
  k[36] = proto;
  return nfh_hll_hash(k, sizeof(k));
}

static uint64_t hash_dest(const nfh_addr *server, uint16_t port,
                          uint8_t proto) {
  uint8_t k[20];
  memcpy(k, server->bytes, 16);
  k[16] = server->family;
  k[17] = (uint8_t)(port >> 8);
  k[18] = (uint8_t)port;
  k[19] = proto;
  return nfh_hll_hash(k, sizeof(k));
}

static uint32_t hash_client(const nfh_addr *client) {
  uint64_t h = nfh_hll_hash(client->bytes, 16);
  return (uint32_t)(h ^ (h >> 32));
}

uint32_t nfh__bcn_client_hash(const nfh_addr *client) {
  return hash_client(client);
}

static int cand_eq(const void *rec, const void *key) {
  const nfh__bcn_cand *c = rec;
  const cand_key *k = key;
  return c->port == k->port && c->proto == k->proto &&
         nfh_addr_equal(&c->client, k->client) &&
         nfh_addr_equal(&c->server, k->server);
}

static int dest_eq(const void *rec, const void *key) {
  const nfh__bcn_dest *d = rec;
  const dest_key *k = key;
  return d->port == k->port && d->proto == k->proto &&
         nfh_addr_equal(&d->server, k->server);
}

static nfh__bcn_cand *cand_at(const nfh__bcn_track *tk, uint32_t id) {
  return nfh__bcn_table_at(&tk->cands, id);
}

static nfh__bcn_dest *dest_at(const nfh__bcn_track *tk, uint32_t id) {
  return nfh__bcn_table_at(&tk->dests, id);
}

/* ------------------------------------------------------- life cycle */

int nfh__bcn_track_init(nfh__bcn_track *tk, const nfh__bcn_limits *lim) {
  memset(tk, 0, sizeof(*tk));
  tk->lim = *lim;
  tk->rng = 0x9e3779b97f4a7c15ull;
  if (nfh__bcn_table_init(&tk->cands, sizeof(nfh__bcn_cand),
                          lim->max_candidates) != 0 ||
      nfh__bcn_table_init(&tk->dests, sizeof(nfh__bcn_dest),
                          lim->max_destinations) != 0 ||
      nfh_hll_create(HLL_PRECISION, &tk->hosts) != NFH_OK) {
    nfh__bcn_track_free(tk);
    return -1;
  }
  return 0;
}

static void cand_remove(nfh__bcn_track *tk, uint32_t id) {
  nfh__bcn_cand *c = cand_at(tk, id);
  tk->total_events -= c->nev;
  free(c->ev);
  c->ev = NULL;
  nfh__bcn_table_remove(&tk->cands, id);
}

/* Empties the tracker but keeps its tables and limits. */
static void track_clear(nfh__bcn_track *tk) {
  for (uint32_t id = 0; id < tk->cands.used; id++)
    if (nfh__bcn_table_live(&tk->cands, id))
      cand_remove(tk, id);
  for (uint32_t id = 0; id < tk->dests.used; id++)
    if (nfh__bcn_table_live(&tk->dests, id))
      nfh__bcn_table_remove(&tk->dests, id);
  if (tk->hosts)
    nfh_hll_clear(tk->hosts);
  nfh_hll_destroy(tk->hosts_prev);
  tk->hosts_prev = NULL;
  tk->hosts_week = 0;
  tk->data_ms = 0;
  tk->total_events = 0;
  nfh_door_destroy(tk->cands.door);
  tk->cands.door = NULL;
}

void nfh__bcn_track_free(nfh__bcn_track *tk) {
  for (uint32_t id = 0; id < tk->cands.used; id++)
    if (nfh__bcn_table_live(&tk->cands, id))
      free(cand_at(tk, id)->ev);
  nfh__bcn_table_free(&tk->cands);
  nfh__bcn_table_free(&tk->dests);
  nfh_hll_destroy(tk->hosts);
  nfh_hll_destroy(tk->hosts_prev);
  memset(tk, 0, sizeof(*tk));
}

/* ----------------------------------------------------------- hosts */

void nfh__bcn_track_host(nfh__bcn_track *tk, const nfh_addr *client,
                         uint64_t t_ms) {
  uint64_t week = t_ms / WEEK_MS;
  if (week > tk->hosts_week) {
    /* A new week: last week's sketch becomes the reference, so that
     * hosts that left (DHCP churn) stop counting after two weeks. */
    nfh_hll *fresh = NULL;
    if (nfh_hll_create(HLL_PRECISION, &fresh) == NFH_OK) {
      nfh_hll_destroy(tk->hosts_prev);
      tk->hosts_prev = tk->hosts_week + 1 == week ? tk->hosts : NULL;
      if (!tk->hosts_prev)
        nfh_hll_destroy(tk->hosts);
      tk->hosts = fresh;
    }
    tk->hosts_week = week;
  }
  nfh_hll_add(tk->hosts, client->bytes, 16);
}

double nfh__bcn_track_hosts(const nfh__bcn_track *tk) {
  double now = tk->hosts ? nfh_hll_count(tk->hosts) : 0;
  double prev = tk->hosts_prev ? nfh_hll_count(tk->hosts_prev) : 0;
  return now > prev ? now : prev;
}

/* ---------------------------------------------------- destinations */

const nfh__bcn_dest *nfh__bcn_track_dest(const nfh__bcn_track *tk,
                                         const nfh_addr *server,
                                         uint16_t port, uint8_t proto) {
  dest_key k = {server, port, proto};
  uint32_t id = nfh__bcn_table_find(&tk->dests, hash_dest(server, port, proto),
                                    dest_eq, &k);
  return id == NFH__BCN_NIL ? NULL : dest_at(tk, id);
}

/* Value of keeping a destination: many clients and recent use. */
static double dest_value(const nfh__bcn_track *tk, const nfh__bcn_dest *d) {
  double idle_h = tk->data_ms > d->last_ms
                      ? (double)(tk->data_ms - d->last_ms) / HOUR_MS
                      : 0;
  return (d->nclients + 8.0 * d->saturated) / (1 + idle_h);
}

static void evict_dest(nfh__bcn_track *tk) {
  uint32_t worst = NFH__BCN_NIL;
  double worst_v = 0;
  for (int i = 0; i < EVICT_SAMPLES; i++) {
    uint32_t id = nfh__bcn_table_sample(&tk->dests, &tk->rng);
    if (id == NFH__BCN_NIL)
      return;
    double v = dest_value(tk, dest_at(tk, id));
    if (worst == NFH__BCN_NIL || v < worst_v) {
      worst = id;
      worst_v = v;
    }
  }
  nfh__bcn_table_remove(&tk->dests, worst);
}

void nfh__bcn_track_prefetch(const nfh__bcn_track *tk, const nfh_conn *c,
                             int stage, uint64_t *dest_hash,
                             uint64_t *cand_hash) {
  if (stage == 0) {
    *dest_hash = hash_dest(&c->server, c->server_port, c->proto);
    *cand_hash =
        hash_cand(&c->client, &c->server, c->server_port, c->proto);
  }
  if (stage == 2) {
    /* The candidate the first entry of its bucket names, when the hash
     * is its own: its record was fetched at stage 1. */
    const nfh__bcn_table *t = &tk->cands;
    if (!t->bucket)
      return;
    uint32_t id = t->bucket[*cand_hash & (t->nbuckets - 1)];
    if (id == NFH__BCN_NIL || id >= t->cap || t->slot[id].hash != *cand_hash)
      return;
    const nfh__bcn_cand *cand = cand_at(tk, id);
    if (cand->nev)
      __builtin_prefetch(&nfh__bcn_events_const(cand)[cand->nev - 1]);
    return;
  }
  nfh__bcn_table_prefetch(&tk->dests, *dest_hash, stage);
  nfh__bcn_table_prefetch(&tk->cands, *cand_hash, stage);
}

int nfh__bcn_track_contact(nfh__bcn_track *tk, const nfh_addr *server,
                           uint16_t port, uint8_t proto,
                           const nfh_addr *client, uint64_t t_ms,
                           uint64_t hash) {
  if (tk->dests.max == 0)
    return 0;
  dest_key k = {server, port, proto};
  uint64_t h = hash ? hash : hash_dest(server, port, proto);
  uint32_t id = nfh__bcn_table_find(&tk->dests, h, dest_eq, &k);
  if (id == NFH__BCN_NIL) {
    if (!nfh__bcn_table_admit(&tk->dests, h))
      return 0;
    if (tk->dests.count >= tk->dests.max)
      evict_dest(tk);
    id = nfh__bcn_table_add(&tk->dests, h);
    if (id == NFH__BCN_NIL)
      return -1;
    nfh__bcn_dest *d = dest_at(tk, id);
    d->server = *server;
    d->port = port;
    d->proto = proto;
  }
  nfh__bcn_dest *d = dest_at(tk, id);
  if (t_ms > d->last_ms)
    d->last_ms = t_ms;
  nfh__bcn_dest_add_client(d, hash_client(client));
  return 0;
}

void nfh__bcn_dest_add_client(nfh__bcn_dest *d, uint32_t client_hash) {
  for (unsigned i = 0; i < d->nclients; i++)
    if (d->clients[i] == client_hash)
      return;
  if (d->nclients < NFH__BCN_DEST_CLIENTS) {
    d->clients[d->nclients++] = client_hash;
    return;
  }
  d->saturated = 1;
  d->spill |= UINT64_C(1) << (client_hash >> 26);
}

unsigned nfh__bcn_dest_clients(const nfh__bcn_dest *d) {
  if (!d->saturated)
    return d->nclients ? d->nclients : 1;
  /* Linear counting: with b of m bits set, about -m ln(1 - b/m) clients
   * (a state of version 2 kept no spill: one more than the list). */
  int set = __builtin_popcountll(d->spill);
  if (set == 0)
    return NFH__BCN_DEST_CLIENTS + 1;
  if (set == 64)
    return NFH__BCN_DEST_COUNT_MAX;
  /* 63 bits set: 266 more */
  return NFH__BCN_DEST_CLIENTS +
         (unsigned)lround(-64.0 * log1p(-(double)set / 64.0));
}

/* ------------------------------------------------------ candidates */

/* Value of keeping a candidate: a long timeline, recently extended. */
static double cand_value(const nfh__bcn_track *tk, const nfh__bcn_cand *c) {
  double idle_h = tk->data_ms > c->last_ms
                      ? (double)(tk->data_ms - c->last_ms) / HOUR_MS
                      : 0;
  return (double)c->nev / (1 + idle_h);
}

static void evict_cand(nfh__bcn_track *tk) {
  uint32_t worst = NFH__BCN_NIL;
  double worst_v = 0;
  for (int i = 0; i < EVICT_SAMPLES; i++) {
    uint32_t id = nfh__bcn_table_sample(&tk->cands, &tk->rng);
    if (id == NFH__BCN_NIL)
      return;
    double v = cand_value(tk, cand_at(tk, id));
    if (worst == NFH__BCN_NIL || v < worst_v) {
      worst = id;
      worst_v = v;
    }
  }
  cand_remove(tk, worst);
  tk->evicted++;
}

/* Drops the oldest 'n' events of a timeline. */
static void drop_oldest(nfh__bcn_track *tk, nfh__bcn_cand *c, uint32_t n) {
  if (n > c->nev)
    n = c->nev;
  nfh__bcn_event *ev = nfh__bcn_events(c);
  memmove(ev, ev + n, (size_t)(c->nev - n) * sizeof(nfh__bcn_event));
  c->nev -= n;
  tk->total_events -= n;
}

static uint32_t add32(uint32_t a, uint64_t b) {
  uint64_t s = (uint64_t)a + b;
  return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* The index of the first of ev[0..n) that starts after t (n when
 * none): a binary search over the time-ordered timeline. */
static uint32_t first_after(const nfh__bcn_event *ev, uint32_t n, uint64_t t) {
  uint32_t lo = 0, hi = n; /* the answer is in [lo, hi] */
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (ev[mid].t_ms > t)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* Adds a later piece of a session to its beat, the latest that started
 * by t: a stalled hourly upload of 15.5 MB, cut into pieces, read "8
 * connections of ~4.5 MB", its first pieces' bytes. */
static void beat_add(nfh__bcn_cand *c, uint64_t t, uint64_t cb, uint64_t sb) {
  nfh__bcn_event *ev = nfh__bcn_events(c);
  uint32_t at = first_after(ev, c->nev, t);
  if (at == 0)
    return; /* its beat was dropped from the timeline */
  ev[at - 1].cbytes = add32(ev[at - 1].cbytes, cb);
  ev[at - 1].sbytes = add32(ev[at - 1].sbytes, sb);
}

/* Puts a start into the timeline in time order. Returns 1 when it was
 * an exact duplicate (the same connection read twice), else 0; -1 when
 * out of memory. */
static int timeline_add(nfh__bcn_track *tk, nfh__bcn_cand *c, uint64_t t,
                        uint64_t cb, uint64_t sb) {
  /* After the last event with a start at or before t. Connections come
   * in order of their end, so a long one lands far back in a full
   * timeline: a binary search, not a walk back from the end. */
  nfh__bcn_event *ev = nfh__bcn_events(c);
  uint32_t pos = c->nev;
  if (pos > 0 && ev[pos - 1].t_ms > t)
    pos = first_after(ev, pos - 1, t); /* the last one starts after t */
  uint64_t merge = tk->lim.merge_ms;
  if (pos > 0 && t - ev[pos - 1].t_ms < merge) {
    nfh__bcn_event *e = &ev[pos - 1];
    if (e->t_ms == t && e->cbytes == add32(0, cb) &&
        e->sbytes == add32(0, sb))
      return 1;
    e->cbytes = add32(e->cbytes, cb);
    e->sbytes = add32(e->sbytes, sb);
    return 0;
  }
  if (pos < c->nev && ev[pos].t_ms - t < merge) {
    /* Joins the beat that starts just after: the beat now starts here. */
    nfh__bcn_event *e = &ev[pos];
    e->t_ms = t;
    e->cbytes = add32(e->cbytes, cb);
    e->sbytes = add32(e->sbytes, sb);
    return 0;
  }
  if (c->nev >= tk->lim.max_events) {
    uint32_t q = tk->lim.max_events / 4;
    if (q == 0)
      q = 1;
    if (pos < q)
      return 0; /* older than what is kept */
    /* Dropping a quarter at once keeps the cost of a full timeline at
     * one memmove per max_events/4 connections. */
    drop_oldest(tk, c, q);
    pos -= q;
  }
  if (c->nev == nfh__bcn_events_room(c)) {
    uint32_t cap = 2 * nfh__bcn_events_room(c);
    if (cap > tk->lim.max_events)
      cap = tk->lim.max_events;
    nfh__bcn_event *grown = realloc(c->ev, (size_t)cap * sizeof(*grown));
    if (!grown)
      return -1;
    if (!c->ev) /* out of the record */
      memcpy(grown, c->inl, (size_t)c->nev * sizeof(*grown));
    c->ev = grown;
    c->cap_ev = cap;
    ev = grown;
  }
  memmove(ev + pos + 1, ev + pos,
          (size_t)(c->nev - pos) * sizeof(nfh__bcn_event));
  ev[pos].t_ms = t;
  ev[pos].cbytes = add32(0, cb);
  ev[pos].sbytes = add32(0, sb);
  c->nev++;
  tk->total_events++;
  return 0;
}

int nfh__bcn_track_conn(nfh__bcn_track *tk, const nfh_conn *conn,
                        uint64_t midstream_before, uint64_t hash) {
  if (conn->last_ms > tk->data_ms)
    tk->data_ms = conn->last_ms;
  cand_key k = {&conn->client, &conn->server, conn->server_port,
                conn->proto};
  uint64_t h = hash ? hash
                    : hash_cand(&conn->client, &conn->server,
                                conn->server_port, conn->proto);
  uint32_t id = nfh__bcn_table_find(&tk->cands, h, cand_eq, &k);
  if (id == NFH__BCN_NIL) {
    if (tk->cands.max == 0 || !nfh__bcn_table_admit(&tk->cands, h))
      return 0;
    if (tk->cands.count >= tk->cands.max)
      evict_cand(tk);
    id = nfh__bcn_table_add(&tk->cands, h);
    if (id == NFH__BCN_NIL)
      return -1;
    nfh__bcn_cand *c = cand_at(tk, id);
    c->client = conn->client;
    c->server = conn->server;
    c->port = conn->server_port;
    c->proto = conn->proto;
    c->first_ms = conn->first_ms;
    if (conn->flags & NFH_CONN_SERVER_HOME)
      c->flags |= NFH__BCN_SERVER_HOME;
  }
  nfh__bcn_cand *c = cand_at(tk, id);
  uint64_t cb = conn->client_bytes, sb = conn->server_bytes;

  /* The same session going on: its next piece after a run ended it, or
   * a keepalive after an idle spell that the exporter's inactive
   * timeout cut off. A new TCP connection needs a SYN: without one it
   * is the middle or the end of a session, whatever the gap and
   * whatever came in between (a long-poll's closing, an hour after its
   * opening, reaches us after the next session's opening). Not so under
   * sampling: a sampled exporter keeps one SYN in N, and most new
   * sessions come without one; there only the same 5-tuple (a new
   * session takes a new client port) continues. For UDP the same
   * 5-tuple within continuation_gap is the same session. ICMP has no
   * client port to tell. */
  /* A SYN from either side opens a session: the client's, or the
   * server's SYN-ACK where only the server's half is exported (an
   * exporter on the outside interface's ingress alone). */
  int syn = ((conn->client_flags | conn->server_flags) & TH_SYN) != 0;
  int same_tuple = c->nev && (conn->proto == TCP || conn->proto == UDP) &&
                   conn->client_port == c->last_client_port &&
                   conn->first_ms >= c->last_ms;
  int flags_known = (conn->client_flags | conn->server_flags) != 0;
  int continues = 0;
  int sampled = (conn->flags & NFH_CONN_SAMPLED) || conn->sampling > 1;
  if (c->nev && conn->proto == TCP && flags_known && !sampled)
    continues = !syn; /* a SYN: a new session */
  else if (same_tuple && conn->proto == TCP && flags_known)
    continues = !syn; /* a SYN: port reused */
  else if (same_tuple)
    continues =
        conn->first_ms <= c->last_end_ms + tk->lim.continuation_gap_ms;
  /* A TCP session already open when the run's data begins. Under
   * sampling only on the pair's latest 5-tuple: a piece without SYN on
   * another port is a session whose SYN the sampler dropped, and in
   * runs of one file each every piece starts near the run's start (two
   * pieces five hours apart, on two ports, were one persistent
   * session). */
  if (!continues && conn->proto == TCP && midstream_before &&
      (!sampled || same_tuple) &&
      conn->first_ms < midstream_before && !syn &&
      (conn->client_flags | conn->server_flags))
    continues = 1;
  if (continues) {
    /* A piece of an older session (out of order) leaves the latest
     * one's port and end as they are. */
    if (conn->first_ms >= c->last_ms) {
      if (conn->last_ms > c->last_end_ms)
        c->last_end_ms = conn->last_ms;
      c->last_client_port = conn->client_port;
    }
    c->bytes += cb + sb;
    beat_add(c, conn->first_ms, cb, sb);
    return 0;
  }

  int r = timeline_add(tk, c, conn->first_ms, cb, sb);
  if (r < 0)
    return -1;
  if (r == 1)
    return 0; /* read twice: count it once */
  c->conns++;
  c->bytes += cb + sb;
  if (conn->first_ms < c->first_ms)
    c->first_ms = conn->first_ms;
  if (conn->first_ms >= c->last_ms) {
    c->last_ms = conn->first_ms;
    c->last_client_port = conn->client_port;
    c->last_end_ms = conn->last_ms;
  }
  if (conn->flags & NFH_CONN_SAMPLED)
    c->sampled = add32(c->sampled, 1);
  if (conn->flags & NFH_CONN_REPLY)
    c->replied = add32(c->replied, 1);
  if (conn->flags & NFH_CONN_DIRECTION_GUESSED)
    c->guessed = add32(c->guessed, 1);
  if (conn->sampling > c->max_sampling)
    c->max_sampling = conn->sampling;
  if (!conn->client_packets && conn->client_bytes)
    c->flags |= NFH__BCN_BYTES_ONLY;
  return 0;
}

void nfh__bcn_track_enforce(nfh__bcn_track *tk) {
  while (tk->total_events > tk->lim.max_total_events &&
         tk->cands.count > 0) {
    uint32_t big = NFH__BCN_NIL;
    for (int i = 0; i < EVICT_SAMPLES; i++) {
      uint32_t id = nfh__bcn_table_sample(&tk->cands, &tk->rng);
      if (id != NFH__BCN_NIL &&
          (big == NFH__BCN_NIL || cand_at(tk, id)->nev > cand_at(tk, big)->nev))
        big = id;
    }
    if (big == NFH__BCN_NIL)
      return;
    nfh__bcn_cand *c = cand_at(tk, big);
    if (c->nev <= 16) {
      cand_remove(tk, big);
      tk->evicted++;
    } else {
      drop_oldest(tk, c, c->nev / 2);
    }
  }
}

void nfh__bcn_track_expire(nfh__bcn_track *tk, uint64_t now_ms,
                           uint64_t idle_ms, uint32_t sparse,
                           uint64_t sparse_idle_ms, uint64_t dest_idle_ms) {
  for (uint32_t id = 0; id < tk->cands.used; id++) {
    if (!nfh__bcn_table_live(&tk->cands, id))
      continue;
    const nfh__bcn_cand *c = cand_at(tk, id);
    uint64_t limit = c->nev < sparse ? sparse_idle_ms : idle_ms;
    /* A session still open keeps its pair: a persistent one's start
     * may be long past. */
    uint64_t seen = c->last_end_ms > c->last_ms ? c->last_end_ms : c->last_ms;
    if (now_ms > seen && now_ms - seen > limit)
      cand_remove(tk, id);
  }
  for (uint32_t id = 0; id < tk->dests.used; id++) {
    if (!nfh__bcn_table_live(&tk->dests, id))
      continue;
    const nfh__bcn_dest *d = dest_at(tk, id);
    if (now_ms > d->last_ms && now_ms - d->last_ms > dest_idle_ms)
      nfh__bcn_table_remove(&tk->dests, id);
  }
}

/* ------------------------------------------------------------ blob */

static void put_addr(nfh_blob_writer *w, const nfh_addr *a) {
  nfh_blob_put_u8(w, a->family);
  nfh_blob_put_bytes(w, a->bytes, 16);
}

static int get_addr(nfh_blob_reader *r, nfh_addr *a) {
  a->family = nfh_blob_get_u8(r);
  nfh_blob_get_bytes(r, a->bytes, 16);
  return !r->failed && (a->family == 4 || a->family == 6);
}

static void put_hll(nfh_blob_writer *w, const nfh_hll *h) {
  size_t n = h ? nfh_hll_serialized_size(h) : 0;
  uint8_t buf[(1u << HLL_PRECISION) + 64];
  size_t written = 0;
  if (n > sizeof(buf) ||
      (n && nfh_hll_serialize(h, buf, sizeof(buf), &written) != NFH_OK))
    written = 0;
  nfh_blob_put_u32(w, (uint32_t)written);
  nfh_blob_put_bytes(w, buf, written);
}

static int get_hll(nfh_blob_reader *r, nfh_hll **out) {
  *out = NULL;
  uint32_t n = nfh_blob_get_u32(r);
  const uint8_t *p = nfh_blob_get_span(r, n);
  if (!p)
    return -1;
  if (n == 0)
    return 0;
  return nfh_hll_deserialize(p, n, out) == NFH_OK ? 0 : -1;
}

int nfh__bcn_track_save(const nfh__bcn_track *tk, size_t limit,
                        void **data, size_t *len) {
  nfh_blob_writer w;
  memset(&w, 0, sizeof(w));
  w.limit = limit;
  *data = NULL;
  *len = 0;
  nfh_blob_put_bytes(&w, MAGIC, sizeof(MAGIC));
  nfh_blob_put_u32(&w, BLOB_VERSION);
  nfh_blob_put_u64(&w, tk->data_ms);
  nfh_blob_put_u64(&w, tk->hosts_week);
  put_hll(&w, tk->hosts);
  put_hll(&w, tk->hosts_prev);

  nfh_blob_put_u32(&w, tk->dests.count);
  for (uint32_t id = 0; id < tk->dests.used; id++) {
    if (!nfh__bcn_table_live(&tk->dests, id))
      continue;
    const nfh__bcn_dest *d = dest_at(tk, id);
    put_addr(&w, &d->server);
    nfh_blob_put_u16(&w, d->port);
    nfh_blob_put_u8(&w, d->proto);
    nfh_blob_put_u8(&w, d->saturated);
    nfh_blob_put_u64(&w, d->last_ms);
    nfh_blob_put_u8(&w, d->nclients);
    for (unsigned i = 0; i < d->nclients; i++)
      nfh_blob_put_u32(&w, d->clients[i]);
    nfh_blob_put_u64(&w, d->spill);
  }

  nfh_blob_put_u32(&w, tk->cands.count);
  for (uint32_t id = 0; id < tk->cands.used; id++) {
    if (!nfh__bcn_table_live(&tk->cands, id))
      continue;
    const nfh__bcn_cand *c = cand_at(tk, id);
    put_addr(&w, &c->client);
    put_addr(&w, &c->server);
    nfh_blob_put_u16(&w, c->port);
    nfh_blob_put_u8(&w, c->proto);
    nfh_blob_put_u8(&w, c->flags);
    nfh_blob_put_u16(&w, c->last_client_port);
    nfh_blob_put_u64(&w, c->first_ms);
    nfh_blob_put_u64(&w, c->last_ms);
    nfh_blob_put_u64(&w, c->last_end_ms);
    nfh_blob_put_u64(&w, c->conns);
    nfh_blob_put_u64(&w, c->bytes);
    nfh_blob_put_u32(&w, c->sampled);
    nfh_blob_put_u32(&w, c->replied);
    nfh_blob_put_u32(&w, c->guessed);
    nfh_blob_put_u32(&w, c->max_sampling);
    /* Events after a gap that does not fit 32 bits of milliseconds
     * (49 days, beyond any idle expiry) are not worth keeping: only the
     * events after the last such gap are written. */
    const nfh__bcn_event *ev = nfh__bcn_events_const(c);
    uint32_t from = 0;
    for (uint32_t i = 1; i < c->nev; i++)
      if (ev[i].t_ms - ev[i - 1].t_ms > UINT32_MAX)
        from = i;
    nfh_blob_put_u32(&w, c->nev - from);
    uint64_t prev = c->nev ? ev[from].t_ms : 0;
    nfh_blob_put_u64(&w, prev);
    for (uint32_t i = from; i < c->nev; i++) {
      nfh_blob_put_u32(&w, (uint32_t)(ev[i].t_ms - prev));
      prev = ev[i].t_ms;
      nfh_blob_put_u32(&w, ev[i].cbytes);
      nfh_blob_put_u32(&w, ev[i].sbytes);
    }
  }

  /* The door of the full candidate table: a pair seen once near the end
   * of this run passes when it comes back in the next one (see
   * nfhunt/door.h). */
  nfh_door_put(&w, tk->cands.door);
  if (w.failed) {
    free(w.data);
    return -1;
  }
  *data = w.data;
  *len = w.len;
  return 0;
}

int nfh__bcn_track_load(nfh__bcn_track *tk, const void *data, size_t len) {
  track_clear(tk);
  nfh_blob_reader r = {data, len, 0, 0};
  uint8_t magic[sizeof(MAGIC)];
  nfh_blob_get_bytes(&r, magic, sizeof(magic));
  if (r.failed || memcmp(magic, MAGIC, sizeof(MAGIC)) != 0)
    return -1;
  uint32_t version = nfh_blob_get_u32(&r);
  if (version < 1 || version > BLOB_VERSION)
    return 1;
  tk->data_ms = nfh_blob_get_u64(&r);
  tk->hosts_week = nfh_blob_get_u64(&r);
  nfh_hll *hosts = NULL, *prev = NULL;
  if (get_hll(&r, &hosts) != 0 || get_hll(&r, &prev) != 0) {
    nfh_hll_destroy(hosts);
    goto corrupt;
  }
  if (hosts) {
    nfh_hll_destroy(tk->hosts);
    tk->hosts = hosts;
  }
  tk->hosts_prev = prev;

  uint32_t ndest = nfh_blob_get_u32(&r);
  for (uint32_t i = 0; i < ndest && !r.failed; i++) {
    nfh__bcn_dest d;
    memset(&d, 0, sizeof(d));
    if (!get_addr(&r, &d.server))
      goto corrupt;
    d.port = nfh_blob_get_u16(&r);
    d.proto = nfh_blob_get_u8(&r);
    d.saturated = nfh_blob_get_u8(&r) != 0;
    d.last_ms = nfh_blob_get_u64(&r);
    d.nclients = nfh_blob_get_u8(&r);
    if (d.nclients > NFH__BCN_DEST_CLIENTS)
      goto corrupt;
    for (unsigned k = 0; k < d.nclients; k++)
      d.clients[k] = nfh_blob_get_u32(&r);
    if (version >= 3)
      d.spill = nfh_blob_get_u64(&r);
    if (r.failed)
      goto corrupt;
    if (tk->dests.count >= tk->dests.max)
      continue; /* the limit shrank: keep the first ones */
    uint32_t id = nfh__bcn_table_add(
        &tk->dests, hash_dest(&d.server, d.port, d.proto));
    if (id == NFH__BCN_NIL)
      goto corrupt;
    *dest_at(tk, id) = d;
  }

  uint32_t ncand = nfh_blob_get_u32(&r);
  for (uint32_t i = 0; i < ncand && !r.failed; i++) {
    nfh__bcn_cand c;
    memset(&c, 0, sizeof(c));
    if (!get_addr(&r, &c.client) || !get_addr(&r, &c.server))
      goto corrupt;
    c.port = nfh_blob_get_u16(&r);
    c.proto = nfh_blob_get_u8(&r);
    c.flags = nfh_blob_get_u8(&r);
    c.last_client_port = nfh_blob_get_u16(&r);
    c.first_ms = nfh_blob_get_u64(&r);
    c.last_ms = nfh_blob_get_u64(&r);
    c.last_end_ms = nfh_blob_get_u64(&r);
    c.conns = nfh_blob_get_u64(&r);
    c.bytes = nfh_blob_get_u64(&r);
    c.sampled = nfh_blob_get_u32(&r);
    c.replied = nfh_blob_get_u32(&r);
    c.guessed = nfh_blob_get_u32(&r);
    c.max_sampling = nfh_blob_get_u32(&r);
    uint32_t nev = nfh_blob_get_u32(&r);
    uint64_t t = nfh_blob_get_u64(&r);
    /* Each event takes 12 bytes: a count the blob cannot hold is
     * corruption, caught before allocating for it. */
    if (r.failed || nev > (r.len - r.off) / 12)
      goto corrupt;
    uint32_t skip = nev > tk->lim.max_events ? nev - tk->lim.max_events : 0;
    uint32_t keep = nev - skip;
    if (keep > NFH__BCN_INLINE_EV) {
      c.ev = malloc((size_t)keep * sizeof(nfh__bcn_event));
      if (!c.ev)
        goto corrupt;
      c.cap_ev = keep;
    }
    nfh__bcn_event *ev = nfh__bcn_events(&c);
    for (uint32_t k = 0; k < nev; k++) {
      t += nfh_blob_get_u32(&r);
      uint32_t cbytes = nfh_blob_get_u32(&r);
      uint32_t sbytes = nfh_blob_get_u32(&r);
      if (k >= skip) {
        nfh__bcn_event *e = &ev[c.nev++];
        e->t_ms = t;
        e->cbytes = cbytes;
        e->sbytes = sbytes;
      }
    }
    if (r.failed || tk->cands.count >= tk->cands.max) {
      free(c.ev);
      if (r.failed)
        goto corrupt;
      continue;
    }
    uint32_t id = nfh__bcn_table_add(
        &tk->cands, hash_cand(&c.client, &c.server, c.port, c.proto));
    if (id == NFH__BCN_NIL) {
      free(c.ev);
      goto corrupt;
    }
    *cand_at(tk, id) = c;
    tk->total_events += c.nev;
  }
  if (version >= 2) {
    nfh_door *door = NULL;
    if (nfh_door_get(&r, &door) != NFH_OK)
      goto corrupt;
    if (door) {
      nfh_door_destroy(tk->cands.door);
      tk->cands.door = door;
    }
  }
  if (r.failed || r.off != r.len)
    goto corrupt;
  nfh__bcn_track_enforce(tk);
  return 0;
corrupt:
  track_clear(tk);
  return -1;
}
