/* stitch.c - records into connections; see stitch.h. */
#include "config.h"

#include <string.h>

#include <nfhunt/hugemem.h>

#include "../common/alloc.h"
#include "stitch.h"

#define TCP 6
#define UDP 17
#define ICMP 1
#define ICMP6 58

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

#define OUT_BATCH 4096
#define NIL UINT32_MAX

/* The unordered 5-tuple: endpoint a is the smaller (address, port). */
typedef struct key {
  nfh_addr a, b;
  uint16_t port_a, port_b;
  uint8_t proto;
} key;

typedef struct entry {
  key k;
  uint64_t hash;
  nfh_conn conn;
  uint32_t next_free; /* free list link */
  int client_is_a;
  /* The first record's ports were equal (IPsec NAT-T 4500 to 4500, NTP
   * 123 to 123): they say nothing of who opened it, and the first record
   * from the other side that started earlier decides. */
  int port_tie;
  /* The direction rests on the ports, or on which side sent first (a
   * session begun before the run shows both sides start at once), both
   * ports 1024 or above: the endpoints' peers may still turn it at the
   * end (see endpoint). Cleared by a record that shows who opened it. */
  int weak_dir;
  /* Per direction (0: from endpoint a, 1: from b), the exporter whose
   * records of it count (observer_of; 0 none yet) and the span they
   * cover: another exporter's record within that span saw the same
   * packets (see seen_twice). */
  uint32_t observer[2];
  uint64_t observed_first[2], observed_last[2];
} entry;

/* The expiry queue, oldest first: a ring of entry indexes with the data
 * time each was (re)queued at. An array rather than a list through the
 * entries, so that the expiry reads it in order and can fetch the
 * entries and table slots it will remove a few steps ahead: each is a
 * cache miss, and they used to be taken one after the other. */
typedef struct aged {
  uint64_t queued_ms;
  uint32_t index;
} aged;

/* Open addressing with linear probing: each slot holds the entry index
 * plus one (0 = empty) and the key's whole hash, so that probing and
 * deletion read only the table and an entry is touched on a hit alone:
 * with hundreds of thousands of open connections every entry access is
 * a cache miss. */
typedef struct slot {
  uint64_t hash;
  uint32_t index1;
  uint32_t unused;
} slot;

/* Endpoints (address, port, protocol) of connections whose direction only
 * the ports told, between two ports of 1024 or above: neither is a
 * well-known service, and the lower is no surer the server's. Players of
 * a game server on udp/27015 whose home routers give them ports below it
 * were its servers: the server read as uploading 3 GB to 191 of them. A
 * service is the endpoint many peers talk to, a client's port talks to
 * one: each endpoint keeps the peer addresses it was seen with, as bits
 * of a 64-bit map (linear counting, enough to tell one peer from
 * several), and a connection is turned at its end when its client
 * endpoint has several peers and its server endpoint one. Open
 * addressing on the hash alone (a rare collision merges two endpoints'
 * maps); 0 is empty. Bounded: past ENDPOINTS_MAX new endpoints are not
 * kept, and the ports decide for them. */
typedef struct endpoint {
  uint64_t hash;
  uint64_t peers;
} endpoint;

#define ENDPOINTS_MIN 4096
#define ENDPOINTS_MAX (1u << 20)
/* An endpoint seen with this many peers (bits) serves; with one, it is
 * a client's. */
#define SERVICE_PEERS 3

struct nfh__stitcher {
  uint64_t gap_ms, hold_ms;
  endpoint *endpoints;
  uint32_t endpoints_mask; /* size - 1; 0 before the first */
  uint32_t nendpoints;
  nfh__conn_sink sink;
  void *user;
  entry *entries;
  uint32_t nentries, cap, free_head;
  slot *table;
  uint32_t table_mask; /* table size - 1, a power of two */
  aged *ring;
  uint32_t ring_mask; /* ring size - 1, a power of two; 0 before one */
  uint32_t ring_head, ring_count;
  size_t open;
  uint64_t data_time;
  nfh_conn out[OUT_BATCH];
  size_t nout;
  int sink_failed;
  uint64_t duplicates; /* records dropped by seen_twice */
};

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

static uint64_t hash_key(const key *k) {
  uint64_t h = k->proto;
  for (int i = 0; i < 16; i += 8) {
    uint64_t x, y;
    memcpy(&x, k->a.bytes + i, 8);
    memcpy(&y, k->b.bytes + i, 8);
    h = mix(h, x);
    h = mix(h, y);
  }
  h = mix(h, (uint64_t)k->port_a << 16 | k->port_b);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

static int key_equal(const key *x, const key *y) {
  return x->proto == y->proto && x->port_a == y->port_a &&
         x->port_b == y->port_b && nfh_addr_equal(&x->a, &y->a) &&
         nfh_addr_equal(&x->b, &y->b);
}

static int is_icmp(uint8_t proto) { return proto == ICMP || proto == ICMP6; }

/* ICMP echo request and reply are one exchange: key both with port 0.
 * Other ICMP messages (unreachable, time exceeded) stand alone. */
static int icmp_echo(const nfh_flow *f) {
  if (f->proto == ICMP)
    return f->icmp_type == 8 || f->icmp_type == 0;
  return f->icmp_type == 128 || f->icmp_type == 129;
}

static int icmp_request(const nfh_flow *f) {
  return f->proto == ICMP ? f->icmp_type == 8 : f->icmp_type == 128;
}

/* Builds the key; *src_is_a tells which endpoint the record's source is. */
static void make_key(const nfh_flow *f, key *k, int *src_is_a) {
  uint16_t sp = f->src_port, dp = f->dst_port;
  if (is_icmp(f->proto)) {
    sp = 0;
    dp = icmp_echo(f) ? 0 : f->dst_port;
  }
  int c = nfh_addr_compare(&f->src, &f->dst);
  int src_first = c < 0 || (c == 0 && sp <= dp);
  memset(k, 0, sizeof(*k));
  k->proto = f->proto;
  if (src_first) {
    k->a = f->src, k->b = f->dst, k->port_a = sp, k->port_b = dp;
  } else {
    k->a = f->dst, k->b = f->src, k->port_a = dp, k->port_b = sp;
  }
  *src_is_a = src_first;
}

/* Whether the record's source opened the connection. */
static int src_is_client(const nfh_flow *f, int *guessed) {
  *guessed = 0;
  /* A firewall's event record (NSEL) names the initiator as its source,
   * whatever the ports and flags (it exports no flags). */
  if ((f->flags & NFH_FLOW_EVENT) && f->fw_event >= NFH_FW_CREATED &&
      f->fw_event <= NFH_FW_UPDATED)
    return 1;
  if (f->proto == TCP && (f->tcp_flags & TH_SYN) && !(f->tcp_flags & TH_ACK))
    return 1; /* a bare SYN */
  /* FIN, PSH or URG without ACK: every segment of a session after its
   * SYN carries ACK, so only a prober sends these (nmap's FIN and Xmas
   * scans, from one source port for the whole scan: the ports below
   * would make it the server of every port above that one). */
  if (f->proto == TCP && f->tcp_flags &&
      !(f->tcp_flags & (TH_SYN | TH_ACK | TH_RST)))
    return 1;
  if (is_icmp(f->proto)) {
    if (icmp_echo(f))
      return icmp_request(f);
    return 0; /* an error message answers the destination's packet */
  }
  if (f->proto == TCP && (f->tcp_flags & (TH_SYN | TH_ACK)) ==
                             (TH_SYN | TH_ACK) &&
      !(f->tcp_flags & (TH_FIN | TH_RST)) && f->packets <= 2 &&
      f->src_port <= f->dst_port) {
    /* A lone SYN-ACK answers a SYN: from the service's port. From an
     * ephemeral port to a service it is a client's SYN and bare ACK (a
     * probe that sets the ACK bit to pass for a session), and the ports
     * below decide. */
    return 0;
  }
  *guessed = 1;
  /* The service side is the lower port: well-known and registered ports
   * sit below the ephemeral ranges of every common stack. */
  if (f->src_port != f->dst_port)
    return f->src_port > f->dst_port;
  return 1;
}

nfh_status nfh__stitcher_create(uint64_t gap_ms, uint64_t hold_ms,
                                nfh__conn_sink sink, void *user,
                                nfh__stitcher **out) {
  *out = NULL;
  nfh__stitcher *s = nfh__calloc(1, sizeof(*s));
  if (!s)
    return NFH_ENOMEM;
  s->gap_ms = gap_ms;
  s->hold_ms = hold_ms;
  s->sink = sink;
  s->user = user;
  s->table_mask = (1u << 16) - 1;
  s->table = nfh_hugemem_alloc(((size_t)s->table_mask + 1) * sizeof(slot));
  if (!s->table) {
    nfh__free(s);
    return NFH_ENOMEM;
  }
  s->free_head = NIL;
  *out = s;
  return NFH_OK;
}

void nfh__stitcher_destroy(nfh__stitcher *s) {
  if (!s)
    return;
  nfh__free(s->endpoints);
  nfh_hugemem_free(s->entries, (size_t)s->cap * sizeof(entry));
  nfh_hugemem_free(s->table, ((size_t)s->table_mask + 1) * sizeof(slot));
  nfh__free(s->ring);
  nfh__free(s);
}

size_t nfh__stitcher_open_count(const nfh__stitcher *s) { return s->open; }

uint64_t nfh__stitcher_duplicates(const nfh__stitcher *s) {
  return s->duplicates;
}

uint64_t nfh__stitcher_data_time(const nfh__stitcher *s) {
  return s->data_time;
}

static void drain(nfh__stitcher *s) {
  if (s->nout && !s->sink_failed &&
      s->sink(s->user, s->out, s->nout) != 0)
    s->sink_failed = 1;
  s->nout = 0;
}

static void emit(nfh__stitcher *s, const nfh_conn *c) {
  if (s->nout == OUT_BATCH)
    drain(s);
  s->out[s->nout++] = *c;
}

/* Removes entry i from the table (backward-shift deletion keeps every
 * probe sequence unbroken without tombstones) and frees it. The caller
 * has already unlinked it from the expiry queue. */
static void remove_entry(nfh__stitcher *s, uint32_t i) {
  uint32_t mask = s->table_mask;
  uint32_t pos = (uint32_t)s->entries[i].hash & mask;
  while (s->table[pos].index1 != i + 1)
    pos = (pos + 1) & mask;
  uint32_t hole = pos;
  for (uint32_t next = (hole + 1) & mask; s->table[next].index1;
       next = (next + 1) & mask) {
    uint32_t home = (uint32_t)s->table[next].hash & mask;
    /* Move next into the hole unless its home lies cyclically in
     * (hole, next]. */
    int stays = hole <= next ? (home > hole && home <= next)
                             : (home > hole || home <= next);
    if (!stays) {
      s->table[hole] = s->table[next];
      hole = next;
    }
  }
  s->table[hole].index1 = 0;
  s->table[hole].hash = 0;
  s->entries[i].next_free = s->free_head;
  s->free_head = i;
  s->open--;
}

static void table_put(slot *table, uint32_t mask, uint64_t hash,
                      uint32_t index) {
  uint32_t pos = (uint32_t)hash & mask;
  while (table[pos].index1)
    pos = (pos + 1) & mask;
  table[pos].hash = hash;
  table[pos].index1 = index + 1;
}

/* Doubles the table when it is half full. */
static nfh_status grow_table(nfh__stitcher *s) {
  uint32_t size = (s->table_mask + 1) * 2;
  slot *t = nfh_hugemem_alloc((size_t)size * sizeof(slot));
  if (!t)
    return NFH_ENOMEM;
  for (uint32_t k = 0; k < s->ring_count; k++) {
    uint32_t i = s->ring[(s->ring_head + k) & s->ring_mask].index;
    table_put(t, size - 1, s->entries[i].hash, i);
  }
  nfh_hugemem_free(s->table, ((size_t)s->table_mask + 1) * sizeof(slot));
  s->table = t;
  s->table_mask = size - 1;
  return NFH_OK;
}

static uint32_t alloc_entry(nfh__stitcher *s) {
  if (s->free_head != NIL) {
    uint32_t i = s->free_head;
    s->free_head = s->entries[i].next_free;
    return i;
  }
  if (s->nentries == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 4096;
    entry *grown = nfh_hugemem_resize(
        s->entries, (size_t)s->cap * sizeof(entry), (size_t)cap * sizeof(entry));
    if (!grown)
      return NIL;
    s->entries = grown;
    s->cap = cap;
  }
  return s->nentries++;
}

/* Makes room in the ring for one more entry: every open entry is in it
 * once, so it only grows when a new one opens. */
static nfh_status ring_reserve(nfh__stitcher *s) {
  uint32_t size = s->ring ? s->ring_mask + 1 : 0;
  if (s->ring_count < size)
    return NFH_OK;
  uint32_t grown_size = size ? 2 * size : 4096;
  aged *grown = nfh__malloc((size_t)grown_size * sizeof(*grown));
  if (!grown)
    return NFH_ENOMEM;
  for (uint32_t k = 0; k < s->ring_count; k++)
    grown[k] = s->ring[(s->ring_head + k) & s->ring_mask];
  nfh__free(s->ring);
  s->ring = grown;
  s->ring_mask = grown_size - 1;
  s->ring_head = 0;
  return NFH_OK;
}

/* Appends entry i; the caller made room (ring_reserve). */
static void queue_append(nfh__stitcher *s, uint32_t i) {
  aged *a = &s->ring[(s->ring_head + s->ring_count) & s->ring_mask];
  a->queued_ms = s->data_time;
  a->index = i;
  s->ring_count++;
}

static uint32_t queue_pop(nfh__stitcher *s) {
  uint32_t i = s->ring[s->ring_head].index;
  s->ring_head = (s->ring_head + 1) & s->ring_mask;
  s->ring_count--;
  return i;
}

/* The entry 'ahead' places behind the queue's head, or NIL. */
static uint32_t queue_peek(const nfh__stitcher *s, uint32_t ahead) {
  if (ahead >= s->ring_count)
    return NIL;
  return s->ring[(s->ring_head + ahead) & s->ring_mask].index;
}

static void conn_finish_flags(nfh_conn *c) {
  /* Bytes alone count: a firewall's event records (NSEL) carry byte
   * counters and no packet counts. */
  if (c->server_packets || c->server_bytes)
    c->flags |= NFH_CONN_REPLY;
  if ((c->client_flags | c->server_flags) & TH_RST)
    c->flags |= NFH_CONN_RST;
  if (c->proto == TCP && (c->server_flags & TH_ACK) &&
      (c->client_flags & TH_ACK) &&
      ((c->server_flags & TH_SYN) || c->server_packets > 2 ||
       (c->server_flags & ~(TH_RST | TH_ACK)) != 0))
    c->flags |= NFH_CONN_ESTABLISHED;
}

/* Adds record f to connection c (direction by src_is_client). */
static void conn_add(nfh_conn *c, const nfh_flow *f, int from_client) {
  if (f->first_ms < c->first_ms)
    c->first_ms = f->first_ms;
  if (f->last_ms > c->last_ms)
    c->last_ms = f->last_ms;
  if (from_client) {
    c->client_packets += f->packets;
    c->client_bytes += f->bytes;
    c->client_flags |= f->tcp_flags;
    /* A bidirectional record carries the reverse direction in its out
     * counters: the engine splits TCP and UDP ones before they come
     * here (nfh_engine_add_flows), ICMP ones come whole. */
    c->server_packets += f->out_packets;
    c->server_bytes += f->out_bytes;
  } else {
    c->server_packets += f->packets;
    c->server_bytes += f->bytes;
    c->server_flags |= f->tcp_flags;
    c->client_packets += f->out_packets;
    c->client_bytes += f->out_bytes;
  }
  c->records++;
  if (f->sampling > c->sampling)
    c->sampling = f->sampling;
  if (f->sampling > 1 || (f->flags & NFH_FLOW_SAMPLED))
    c->flags |= NFH_CONN_SAMPLED;
  if ((f->flags & NFH_FLOW_EVENT) && f->fw_event == NFH_FW_DENIED)
    c->flags |= NFH_CONN_DENIED;
}

static void conn_start(entry *e, const nfh_flow *f, int src_is_a) {
  int guessed;
  int client_is_src = src_is_client(f, &guessed);
  nfh_conn *c = &e->conn;
  memset(c, 0, sizeof(*c));
  c->first_ms = f->first_ms;
  c->last_ms = f->last_ms;
  c->proto = f->proto;
  c->sampling = 1;
  if (client_is_src) {
    c->client = f->src, c->server = f->dst;
    c->client_port = is_icmp(f->proto) ? 0 : f->src_port;
    c->server_port = f->dst_port;
  } else {
    c->client = f->dst, c->server = f->src;
    c->client_port = is_icmp(f->proto) ? 0 : f->dst_port;
    c->server_port = is_icmp(f->proto) ? f->dst_port : f->src_port;
  }
  if (is_icmp(f->proto) && icmp_echo(f))
    c->server_port = f->proto == ICMP ? 0x0800 : 0x8000; /* the request */
  if (guessed)
    c->flags |= NFH_CONN_DIRECTION_GUESSED;
  e->client_is_a = client_is_src ? src_is_a : !src_is_a;
  e->port_tie = guessed && !is_icmp(f->proto) && f->src_port == f->dst_port;
  e->weak_dir = guessed && !is_icmp(f->proto) && f->src_port >= 1024 &&
                f->dst_port >= 1024;
}

static uint64_t endpoint_hash(const nfh_addr *a, uint16_t port, uint8_t proto) {
  uint64_t w0, w1;
  memcpy(&w0, a->bytes, 8);
  memcpy(&w1, a->bytes + 8, 8);
  uint64_t h = ((uint64_t)a->family << 40 | (uint64_t)proto << 16 | port) *
               0x9e3779b97f4a7c15ull;
  h = (h ^ w0) * 0xff51afd7ed558ccdull;
  h = (h ^ (h >> 29) ^ w1) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 32;
  return h ? h : 1;
}

/* The endpoint's slot, or the empty one where it would go; NULL before
 * the table exists. */
static endpoint *endpoint_slot(const nfh__stitcher *s, uint64_t h) {
  if (!s->endpoints)
    return NULL;
  uint32_t i = (uint32_t)h & s->endpoints_mask;
  while (s->endpoints[i].hash && s->endpoints[i].hash != h)
    i = (i + 1) & s->endpoints_mask;
  return &s->endpoints[i];
}

/* Doubles the endpoint table (or makes the first); 0, or -1 at the
 * bound or without memory (then endpoints are no longer added). */
static int endpoints_grow(nfh__stitcher *s) {
  uint32_t size = s->endpoints ? 2 * (s->endpoints_mask + 1) : ENDPOINTS_MIN;
  if (size > ENDPOINTS_MAX)
    return -1;
  endpoint *old = s->endpoints;
  uint32_t old_size = old ? s->endpoints_mask + 1 : 0;
  s->endpoints = nfh__calloc(size, sizeof(endpoint));
  if (!s->endpoints) {
    s->endpoints = old;
    return -1;
  }
  s->endpoints_mask = size - 1;
  for (uint32_t i = 0; i < old_size; i++)
    if (old[i].hash)
      *endpoint_slot(s, old[i].hash) = old[i];
  nfh__free(old);
  return 0;
}

static uint64_t peer_bit(const nfh_addr *peer) {
  return 1ull << (endpoint_hash(peer, 0, 0) >> 58);
}

/* Notes that 'self' (address, port) talked to 'peer'. */
static void endpoint_note(nfh__stitcher *s, const nfh_addr *self, uint16_t port,
                          uint8_t proto, const nfh_addr *peer) {
  uint64_t h = endpoint_hash(self, port, proto);
  endpoint *ep = endpoint_slot(s, h);
  if (!ep || !ep->hash) {
    if (2 * (s->nendpoints + 1) > s->endpoints_mask + 1 &&
        endpoints_grow(s) != 0)
      return;
    ep = endpoint_slot(s, h);
    ep->hash = h;
    s->nendpoints++;
  }
  ep->peers |= peer_bit(peer);
}

static int endpoint_peers(const nfh__stitcher *s, const nfh_addr *self,
                          uint16_t port, uint8_t proto) {
  endpoint *ep = endpoint_slot(s, endpoint_hash(self, port, proto));
  return ep && ep->hash ? __builtin_popcountll(ep->peers) : 0;
}

/* Both endpoints of a new connection whose direction is a weak guess. */
static void endpoints_note_conn(nfh__stitcher *s, const entry *e) {
  if (!e->weak_dir)
    return;
  const nfh_conn *c = &e->conn;
  endpoint_note(s, &c->client, c->client_port, c->proto, &c->server);
  endpoint_note(s, &c->server, c->server_port, c->proto, &c->client);
}

static void conn_turn(entry *e);

/* At a connection's end: turns one whose weak guess made the service
 * the client (its endpoint seen with several peers, the other side's
 * with one), then settles its flags. */
static void conn_finish(nfh__stitcher *s, entry *e) {
  const nfh_conn *c = &e->conn;
  if (e->weak_dir &&
      endpoint_peers(s, &c->client, c->client_port, c->proto) >=
          SERVICE_PEERS &&
      endpoint_peers(s, &c->server, c->server_port, c->proto) <= 1)
    conn_turn(e);
  conn_finish_flags(&e->conn);
}

/* Whether TCP record f, after a pause longer than the inactive timeout,
 * goes on with session c, still held: c carried data both ways and was
 * not closed, and f opens nothing (TCP starts a new session with a
 * SYN). An upload that stalled for three minutes was three "connections"
 * of a third of its bytes each. */
static int tcp_goes_on(const nfh_conn *c, const nfh_flow *f) {
  uint8_t both = c->client_flags & c->server_flags;
  return c->proto == TCP && (both & TH_ACK) && !(f->tcp_flags & TH_SYN) &&
         !((c->client_flags | c->server_flags) & TH_RST) &&
         !((c->client_flags & TH_FIN) && (c->server_flags & TH_FIN));
}

/* How far a record's clock may be behind its answer's: NetFlow v9
 * headers carry whole seconds, so an exporter's times of one exchange
 * may be off by up to a second (a reset stamped 0.4 s before the SYN it
 * answered). */
#define ANSWER_SKEW_MS 2000

/* Whether the side that sent record f has sent nothing yet in c. */
static int sender_silent(const nfh_conn *c, const nfh_flow *f) {
  int from_client = nfh_addr_compare(&f->src, &c->client) == 0 &&
                    f->src_port == c->client_port;
  return from_client ? !c->client_packets && !c->client_bytes
                     : !c->server_packets && !c->server_bytes;
}

/* Whether record f starts a new session rather than continuing c. */
static int starts_new(const nfh__stitcher *s, const nfh_conn *c,
                      const nfh_flow *f) {
  if (f->first_ms > c->last_ms + s->gap_ms && !tcp_goes_on(c, f))
    return 1;
  if (f->last_ms + s->gap_ms < c->first_ms)
    return 1;
  /* A new SYN after the old session closed. Only one that starts after
   * everything seen of it: exporters write the two directions in either
   * order (softflowd: lower address first), so a prober's SYN often
   * comes after the RST it drew, and is its opening, not a new one;
   * also when stamped a little after the RST, its side having sent
   * nothing yet (482 of 1,017 refused probes of a vertical scan read
   * "no reply"). */
  if (c->proto == TCP && (f->tcp_flags & TH_SYN) && !(f->tcp_flags & TH_ACK) &&
      f->first_ms > c->last_ms &&
      (((c->client_flags & TH_FIN) && (c->server_flags & TH_FIN)) ||
       ((c->client_flags | c->server_flags) & TH_RST)) &&
      !(sender_silent(c, f) && f->first_ms <= c->last_ms + ANSWER_SKEW_MS))
    return 1;
  return 0;
}

/* Turns a connection around: its direction was guessed from the ports of
 * its first record, and a later one (a bare SYN, a lone SYN-ACK) shows
 * who opened it. A prober sending from port 53 or 80 (nmap -g) to high
 * ports whose answers come first would otherwise be the server of every
 * probe. */
static void conn_turn(entry *e) {
  nfh_conn *c = &e->conn;
  nfh_addr a = c->client;
  c->client = c->server, c->server = a;
  uint16_t p = c->client_port;
  c->client_port = c->server_port, c->server_port = p;
  uint8_t fl = c->client_flags;
  c->client_flags = c->server_flags, c->server_flags = fl;
  uint64_t v = c->client_packets;
  c->client_packets = c->server_packets, c->server_packets = v;
  v = c->client_bytes;
  c->client_bytes = c->server_bytes, c->server_bytes = v;
  c->flags &= (uint8_t)~NFH_CONN_DIRECTION_GUESSED;
  e->client_is_a = !e->client_is_a;
}

/* A record and the other side of its connection so far, when one is a
 * segment with no flags at all and the other a reset without SYN: nmap's
 * NULL scan, from one source port to every port, and a closed port's
 * answer. No session sends a flagless segment (everything after the SYN
 * carries ACK), and an exporter that exports no flags would not show the
 * reset either, so the flagless side opened it, whichever record came
 * first. Returns whether f's source is the client, clearing *guessed, or
 * else guess, src_is_client's answer from the ports. */
static int null_probe_side(const nfh_conn *c, const nfh_flow *f,
                           int from_client_side, int guess, int *guessed) {
  uint8_t other = from_client_side ? c->server_flags : c->client_flags;
  uint64_t other_packets =
      from_client_side ? c->server_packets : c->client_packets;
  if (!other_packets)
    return guess;
  if (f->tcp_flags == 0 && (other & TH_RST) && !(other & TH_SYN)) {
    *guessed = 0;
    return 1;
  }
  if (other == 0 && (f->tcp_flags & TH_RST) && !(f->tcp_flags & TH_SYN)) {
    *guessed = 0;
    return 0;
  }
  return guess;
}

/* How far ahead of the queue's head the expiry fetches entries, and
 * (half as far, once the entry is there) their table slots. */
#define EXPIRE_AHEAD 8

/* Emits the connections idle for hold_ms of data time. The queue is in
 * order of (re)queueing, not of last activity: an entry found still
 * active at the head is requeued at the tail, so that each update costs
 * nothing and each entry is looked at about once per hold period. */
static void expire(nfh__stitcher *s) {
  if (s->data_time < s->hold_ms)
    return;
  uint64_t cutoff = s->data_time - s->hold_ms;
  while (s->ring_count && s->ring[s->ring_head].queued_ms < cutoff) {
    uint32_t far = queue_peek(s, EXPIRE_AHEAD);
    if (far != NIL) {
      __builtin_prefetch(&s->entries[far].hash);
      __builtin_prefetch(&s->entries[far].conn.last_ms);
    }
    uint32_t near = queue_peek(s, EXPIRE_AHEAD / 2);
    if (near != NIL)
      __builtin_prefetch(
          &s->table[(uint32_t)s->entries[near].hash & s->table_mask]);
    uint32_t i = queue_pop(s);
    entry *e = &s->entries[i];
    if (e->conn.last_ms < cutoff) {
      conn_finish(s, e);
      emit(s, &e->conn);
      remove_entry(s, i);
    } else {
      queue_append(s, i);
    }
  }
}

/* Records are taken in groups of GROUP: each one's key is built and
 * hashed and its table slot fetched, then the entry the slot names, then
 * each record is handled in order. With hundreds of thousands of open
 * connections every table and entry access is a cache miss; a group
 * overlaps them. The prefetches are only hints: handling a record looks
 * it up afresh, so records of one group that open or close connections
 * are handled exactly as one by one. */
#define GROUP 16

/* Clock difference between two exporters' records of the same packets
 * that still counts as the same time: routers keep NTP time within
 * milliseconds, and NetFlow v9 headers carry seconds. */
#define DUP_SLACK_MS 2000

/* Who exported a record, as a tag that is never 0: its exporter's
 * address and id (engine, source id or observation domain), else the
 * address the collector heard it from, else nfcapd's per-file exporter
 * number (files without exporter records: distinct within a file). */
static uint32_t observer_of(const nfh_flow *f) {
  const nfh_addr *a = f->exporter.family ? &f->exporter : &f->router;
  uint64_t w0, w1;
  memcpy(&w0, a->bytes, 8);
  memcpy(&w1, a->bytes + 8, 8);
  uint64_t h = (uint64_t)a->family << 48 ^ (uint64_t)f->exporter_id << 16 ^
               (a->family ? 0 : f->exporter_sysid);
  h = (h ^ w0 * 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
  h = (h ^ w1 * 0xc4ceb9fe1a85ec53ull) * 0x9e3779b97f4a7c15ull;
  uint32_t tag = (uint32_t)(h >> 32);
  return tag ? tag : 1;
}

/* Whether record f, exported by 'tag', repeats what another exporter
 * already gave of the same direction: two routers on one path each
 * export every packet of it, and counting both doubled every byte count
 * (a 3.6 GB upload reported as 7.3 GB, a flood at twice its rate). It
 * does when it overlaps that exporter's span of the direction and lies
 * within it, starting before its end or ending by it, give or take
 * DUP_SLACK_MS. A record from another exporter that starts after the
 * span is the path moving (a route change): that exporter takes over. */
static int seen_twice(const entry *e, const nfh_flow *f, int dir,
                      uint32_t tag) {
  if (!e->observer[dir] || e->observer[dir] == tag)
    return 0;
  uint64_t first = e->observed_first[dir], last = e->observed_last[dir];
  if (f->last_ms + DUP_SLACK_MS < first)
    return 0;
  return f->first_ms + DUP_SLACK_MS < last || f->last_ms <= last + DUP_SLACK_MS;
}

/* Makes the record's exporter the direction's observer, or widens its
 * span. */
static void observe(entry *e, const nfh_flow *f, int dir, uint32_t tag) {
  if (e->observer[dir] != tag) {
    e->observer[dir] = tag;
    e->observed_first[dir] = f->first_ms;
    e->observed_last[dir] = f->last_ms;
    return;
  }
  if (f->first_ms < e->observed_first[dir])
    e->observed_first[dir] = f->first_ms;
  if (f->last_ms > e->observed_last[dir])
    e->observed_last[dir] = f->last_ms;
}

static void observers_reset(entry *e) { e->observer[0] = e->observer[1] = 0; }

/* Adds one record; returns 1 when it was dropped as seen_twice. */
static int add_one(nfh__stitcher *s, const nfh_flow *f, const key *k,
                   uint64_t h, int src_is_a, nfh_status *st) {
  uint32_t mask = s->table_mask;
  uint32_t pos = (uint32_t)h & mask;
  uint32_t idx = NIL;
  for (; s->table[pos].index1; pos = (pos + 1) & mask) {
    if (s->table[pos].hash == h) {
      uint32_t cand = s->table[pos].index1 - 1;
      if (key_equal(&s->entries[cand].k, k)) {
        idx = cand;
        break;
      }
    }
  }
  int dir = !src_is_a;
  uint32_t tag = observer_of(f);
  if (idx != NIL && seen_twice(&s->entries[idx], f, dir, tag)) {
    s->duplicates++;
    return 1;
  }
  if (idx != NIL && starts_new(s, &s->entries[idx].conn, f)) {
    conn_finish(s, &s->entries[idx]);
    emit(s, &s->entries[idx].conn);
    /* The observers stay: within a 5-minute file, one exporter's
     * records of the tuple's later sessions come before another's of
     * its earlier ones (an NTP client's polls from port 123 to 123). */
    conn_start(&s->entries[idx], f, src_is_a);
    endpoints_note_conn(s, &s->entries[idx]);
  } else if (idx == NIL) {
    if (s->open + 1 > (size_t)(s->table_mask + 1) / 2) {
      if (grow_table(s) != NFH_OK) {
        *st = NFH_ENOMEM;
        return 0;
      }
    }
    if (ring_reserve(s) != NFH_OK) {
      *st = NFH_ENOMEM;
      return 0;
    }
    idx = alloc_entry(s);
    if (idx == NIL) {
      *st = NFH_ENOMEM;
      return 0;
    }
    entry *e = &s->entries[idx];
    e->k = *k;
    e->hash = h;
    table_put(s->table, s->table_mask, h, idx);
    s->open++;
    queue_append(s, idx);
    conn_start(e, f, src_is_a);
    observers_reset(e);
    endpoints_note_conn(s, e);
  }
  entry *e = &s->entries[idx];
  if (e->port_tie && src_is_a != e->client_is_a) {
    /* The first record from the other side: whichever side sent first
     * opened it (a remote VPN user's IKE before the concentrator's
     * answer), when the times tell them apart. */
    if (e->conn.flags & NFH_CONN_DIRECTION_GUESSED) {
      if (f->first_ms < e->conn.first_ms)
        conn_turn(e);
      else if (f->first_ms > e->conn.first_ms)
        e->conn.flags &= (uint8_t)~NFH_CONN_DIRECTION_GUESSED;
    }
    e->port_tie = 0;
  }
  if ((e->conn.flags & NFH_CONN_DIRECTION_GUESSED) && !is_icmp(f->proto)) {
    int guessed;
    int client_is_src = src_is_client(f, &guessed);
    if (guessed && f->proto == TCP)
      client_is_src = null_probe_side(&e->conn, f, src_is_a == e->client_is_a,
                                      client_is_src, &guessed);
    if (!guessed) {
      if (client_is_src != (src_is_a == e->client_is_a))
        conn_turn(e);
      else
        e->conn.flags &= (uint8_t)~NFH_CONN_DIRECTION_GUESSED;
      e->weak_dir = 0;
    }
  }
  conn_add(&e->conn, f, src_is_a == e->client_is_a);
  observe(e, f, dir, tag);
  if (f->last_ms > s->data_time) {
    uint64_t before = s->data_time;
    s->data_time = f->last_ms;
    /* Expire in steps of a second of data time, not per record. */
    if (s->data_time / 1000 != before / 1000)
      expire(s);
  }
  return 0;
}

nfh_status nfh__stitcher_add(nfh__stitcher *s, const nfh_flow *flows, size_t n,
                             uint8_t *seen_twice_out) {
  key k[GROUP];
  uint64_t h[GROUP];
  int src_is_a[GROUP];
  nfh_status st = NFH_OK;
  for (size_t off = 0; off < n; off += GROUP) {
    size_t m = n - off < GROUP ? n - off : GROUP;
    for (size_t j = 0; j < m; j++) {
      make_key(&flows[off + j], &k[j], &src_is_a[j]);
      h[j] = hash_key(&k[j]);
      __builtin_prefetch(&s->table[(uint32_t)h[j] & s->table_mask]);
    }
    for (size_t j = 0; j < m; j++) {
      const slot *sl = &s->table[(uint32_t)h[j] & s->table_mask];
      if (sl->index1 && sl->hash == h[j]) {
        const entry *e = &s->entries[sl->index1 - 1];
        __builtin_prefetch(e);
        __builtin_prefetch(&e->conn);
      }
    }
    for (size_t j = 0; j < m && st == NFH_OK; j++) {
      int twice = add_one(s, &flows[off + j], &k[j], h[j], src_is_a[j], &st);
      if (seen_twice_out)
        seen_twice_out[off + j] = (uint8_t)twice;
    }
    if (st != NFH_OK)
      return st;
  }
  drain(s);
  return s->sink_failed ? NFH_EPLUGIN : NFH_OK;
}

nfh_status nfh__stitcher_flush(nfh__stitcher *s) {
  while (s->ring_count) {
    uint32_t i = queue_pop(s);
    conn_finish(s, &s->entries[i]);
    emit(s, &s->entries[i].conn);
    remove_entry(s, i);
  }
  drain(s);
  return s->sink_failed ? NFH_EPLUGIN : NFH_OK;
}
