/* stitch.c - records into connections; see stitch.h. */
#include "config.h"

#include <string.h>

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
  int client_is_a;
  uint32_t next;       /* hash chain */
  uint32_t prev_age;   /* age list: oldest update first */
  uint32_t next_age;
} entry;

struct nfh__stitcher {
  uint64_t gap_ms, hold_ms;
  nfh__conn_sink sink;
  void *user;
  entry *entries;
  uint32_t nentries, cap, free_head;
  uint32_t *buckets;
  uint32_t nbuckets; /* power of two */
  uint32_t age_head, age_tail;
  size_t open;
  uint64_t data_time;
  nfh_conn out[OUT_BATCH];
  size_t nout;
  int sink_failed;
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
         x->port_b == y->port_b && x->a.family == y->a.family &&
         x->b.family == y->b.family &&
         memcmp(x->a.bytes, y->a.bytes, 16) == 0 &&
         memcmp(x->b.bytes, y->b.bytes, 16) == 0;
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
  if (f->proto == TCP && (f->tcp_flags & TH_SYN) && !(f->tcp_flags & TH_ACK))
    return 1; /* a bare SYN */
  if (is_icmp(f->proto)) {
    if (icmp_echo(f))
      return icmp_request(f);
    return 0; /* an error message answers the destination's packet */
  }
  if (f->proto == TCP && (f->tcp_flags & (TH_SYN | TH_ACK)) ==
                             (TH_SYN | TH_ACK) &&
      !(f->tcp_flags & (TH_FIN | TH_RST)) && f->packets <= 2) {
    /* A lone SYN-ACK answers a SYN. */
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
  s->nbuckets = 1u << 16;
  s->buckets = nfh__malloc(s->nbuckets * sizeof(uint32_t));
  if (!s->buckets) {
    nfh__free(s);
    return NFH_ENOMEM;
  }
  memset(s->buckets, 0xff, s->nbuckets * sizeof(uint32_t));
  s->free_head = NIL;
  s->age_head = s->age_tail = NIL;
  *out = s;
  return NFH_OK;
}

void nfh__stitcher_destroy(nfh__stitcher *s) {
  if (!s)
    return;
  nfh__free(s->entries);
  nfh__free(s->buckets);
  nfh__free(s);
}

size_t nfh__stitcher_open_count(const nfh__stitcher *s) { return s->open; }

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

static void age_unlink(nfh__stitcher *s, uint32_t i) {
  entry *e = &s->entries[i];
  if (e->prev_age != NIL)
    s->entries[e->prev_age].next_age = e->next_age;
  else
    s->age_head = e->next_age;
  if (e->next_age != NIL)
    s->entries[e->next_age].prev_age = e->prev_age;
  else
    s->age_tail = e->prev_age;
}

static void age_append(nfh__stitcher *s, uint32_t i) {
  entry *e = &s->entries[i];
  e->next_age = NIL;
  e->prev_age = s->age_tail;
  if (s->age_tail != NIL)
    s->entries[s->age_tail].next_age = i;
  else
    s->age_head = i;
  s->age_tail = i;
}

/* Removes entry i from its chain and the age list, returns it to the
 * free list. */
static void remove_entry(nfh__stitcher *s, uint32_t i) {
  entry *e = &s->entries[i];
  uint32_t *link = &s->buckets[e->hash & (s->nbuckets - 1)];
  while (*link != i)
    link = &s->entries[*link].next;
  *link = e->next;
  age_unlink(s, i);
  e->next = s->free_head;
  s->free_head = i;
  s->open--;
}

static nfh_status grow_buckets(nfh__stitcher *s) {
  uint32_t n = s->nbuckets * 2;
  uint32_t *b = nfh__malloc((size_t)n * sizeof(uint32_t));
  if (!b)
    return NFH_ENOMEM;
  memset(b, 0xff, (size_t)n * sizeof(uint32_t));
  /* Rehash the live entries (those on the age list). */
  for (uint32_t i = s->age_head; i != NIL; i = s->entries[i].next_age) {
    uint32_t slot = (uint32_t)(s->entries[i].hash & (n - 1));
    s->entries[i].next = b[slot];
    b[slot] = i;
  }
  nfh__free(s->buckets);
  s->buckets = b;
  s->nbuckets = n;
  return NFH_OK;
}

static uint32_t alloc_entry(nfh__stitcher *s) {
  if (s->free_head != NIL) {
    uint32_t i = s->free_head;
    s->free_head = s->entries[i].next;
    return i;
  }
  if (s->nentries == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 4096;
    entry *grown = nfh__realloc(s->entries, (size_t)cap * sizeof(entry));
    if (!grown)
      return NIL;
    s->entries = grown;
    s->cap = cap;
  }
  return s->nentries++;
}

static void conn_finish_flags(nfh_conn *c) {
  if (c->server_packets)
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
    /* A bidirectional record (IPFIX biflow, NSEL) carries the reverse
     * direction in its out counters. */
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
}

/* Whether record f starts a new session rather than continuing c. */
static int starts_new(const nfh__stitcher *s, const nfh_conn *c,
                      const nfh_flow *f) {
  if (f->first_ms > c->last_ms + s->gap_ms)
    return 1;
  if (f->last_ms + s->gap_ms < c->first_ms)
    return 1;
  if (c->proto == TCP && (f->tcp_flags & TH_SYN) &&
      !(f->tcp_flags & TH_ACK) &&
      (((c->client_flags & TH_FIN) && (c->server_flags & TH_FIN)) ||
       ((c->client_flags | c->server_flags) & TH_RST)))
    return 1; /* a new SYN after the old session closed */
  return 0;
}

static void expire(nfh__stitcher *s) {
  if (s->data_time < s->hold_ms)
    return;
  uint64_t cutoff = s->data_time - s->hold_ms;
  while (s->age_head != NIL) {
    entry *e = &s->entries[s->age_head];
    if (e->conn.last_ms >= cutoff)
      break;
    conn_finish_flags(&e->conn);
    emit(s, &e->conn);
    remove_entry(s, s->age_head);
  }
}

nfh_status nfh__stitcher_add(nfh__stitcher *s, const nfh_flow *flows,
                             size_t n) {
  for (size_t i = 0; i < n; i++) {
    const nfh_flow *f = &flows[i];
    key k;
    int src_is_a;
    make_key(f, &k, &src_is_a);
    uint64_t h = hash_key(&k);
    uint32_t idx = s->buckets[h & (s->nbuckets - 1)];
    while (idx != NIL &&
           !(s->entries[idx].hash == h && key_equal(&s->entries[idx].k, &k)))
      idx = s->entries[idx].next;
    if (idx != NIL && starts_new(s, &s->entries[idx].conn, f)) {
      conn_finish_flags(&s->entries[idx].conn);
      emit(s, &s->entries[idx].conn);
      conn_start(&s->entries[idx], f, src_is_a);
    } else if (idx == NIL) {
      if (s->open >= (size_t)s->nbuckets && grow_buckets(s) != NFH_OK)
        return NFH_ENOMEM;
      idx = alloc_entry(s);
      if (idx == NIL)
        return NFH_ENOMEM;
      entry *e = &s->entries[idx];
      e->k = k;
      e->hash = h;
      uint32_t slot = (uint32_t)(h & (s->nbuckets - 1));
      e->next = s->buckets[slot];
      s->buckets[slot] = idx;
      s->open++;
      age_append(s, idx);
      conn_start(e, f, src_is_a);
    }
    entry *e = &s->entries[idx];
    conn_add(&e->conn, f, src_is_a == e->client_is_a);
    /* Most recently updated last: the age list stays close to end-time
     * order, so expiry only looks at its head. */
    if (s->age_tail != idx) {
      age_unlink(s, idx);
      age_append(s, idx);
    }
    if (f->last_ms > s->data_time) {
      uint64_t before = s->data_time;
      s->data_time = f->last_ms;
      /* Expire in steps of a second of data time, not per record. */
      if (s->data_time / 1000 != before / 1000)
        expire(s);
    }
  }
  drain(s);
  return s->sink_failed ? NFH_EPLUGIN : NFH_OK;
}

nfh_status nfh__stitcher_flush(nfh__stitcher *s) {
  while (s->age_head != NIL) {
    entry *e = &s->entries[s->age_head];
    conn_finish_flags(&e->conn);
    emit(s, &e->conn);
    remove_entry(s, s->age_head);
  }
  drain(s);
  return s->sink_failed ? NFH_EPLUGIN : NFH_OK;
}
