/* homeguess.c - home networks read from the traffic; see
 * nfhunt/homeguess.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/homeguess.h>

#include "../common/alloc.h"

/* Networks a guess may name, at most. */
#define MAX_NETS 8
/* A network joins the guess only if it covers this share of the flows
 * not covered yet: a few stray flows name no home. */
#define MIN_PICK_SHARE 0.02
/* The cover stops growing here ... */
#define ENOUGH_SHARE 0.95
/* ... and must reach this, or there is no guess. */
#define NEEDED_SHARE 0.90
/* A /16 (/48) is narrowed to the /24 (/64) inside it that holds this
 * share of the addresses seen in it. */
#define NARROW_SHARE 0.95

/* Prefix lengths over the address's top 64 bits (IPv4 addresses sit in
 * the top 32): the cover's and the narrowing's. */
#define COARSE_V4 16
#define COARSE_V6 48
#define FINE_V4 24
#define FINE_V6 64

/* An endpoint: the top 64 bits of the address (IPv4 shifted up) and its
 * family, 0 for an address that belongs to no network. */
typedef struct endpoint {
  uint64_t bits;
  uint8_t family;
} endpoint;

typedef struct held {
  uint64_t a, b;
  uint8_t fa, fb;
  uint8_t client; /* CLIENT_A, CLIENT_B or 0: which side opened it */
} held;

#define CLIENT_A 1
#define CLIENT_B 2

/* A network: a prefix of 'len' bits over an endpoint's bits. As a key
 * of the cover, 'client' says whether the endpoint it came from opened
 * the flow. */
typedef struct net {
  uint64_t bits;
  uint8_t family, len, client;
} net;

struct nfh_homeguess {
  held *flows;
  size_t n, max;
  net picks[MAX_NETS];
  size_t npicks;
  char text[MAX_NETS][NFH_ADDR_STRLEN + 8];
  const char *names[MAX_NETS];
};

nfh_status nfh_homeguess_create(size_t max_flows, nfh_homeguess **out) {
  *out = NULL;
  if (max_flows == 0 || max_flows > ((size_t)1 << 30))
    return NFH_EINVAL;
  nfh_homeguess *g = nfh__calloc(1, sizeof(*g));
  if (!g)
    return NFH_ENOMEM;
  g->flows = nfh__malloc(max_flows * sizeof(held));
  if (!g->flows) {
    nfh__free(g);
    return NFH_ENOMEM;
  }
  g->max = max_flows;
  *out = g;
  return NFH_OK;
}

void nfh_homeguess_destroy(nfh_homeguess *g) {
  if (!g)
    return;
  nfh__free(g->flows);
  nfh__free(g);
}

/* The endpoint of an address; family 0 for the unspecified, loopback,
 * link-local, multicast and broadcast ones, which no site numbers its
 * hosts in. */
static endpoint endpoint_of(const nfh_addr *a) {
  endpoint e = {0, 0};
  if (a->family == 4) {
    uint32_t v = nfh_addr_v4(a);
    uint8_t top = (uint8_t)(v >> 24);
    if (top == 0 || top == 127 || top >= 224 || (v >> 16) == 0xa9fe)
      return e;
    e.bits = (uint64_t)v << 32;
    e.family = 4;
  } else if (a->family == 6) {
    uint64_t hi = 0;
    for (int i = 0; i < 8; i++)
      hi = hi << 8 | a->bytes[i];
    /* ::/8 (unspecified, loopback, mapped), fe80::/10, ff00::/8. */
    if ((hi >> 56) == 0 || (hi >> 54) == 0x3fa || (hi >> 56) == 0xff)
      return e;
    e.bits = hi;
    e.family = 6;
  }
  return e;
}

/* Which side opened a flow, as far as one record tells: a bare SYN's
 * sender, an echo request's, else the higher (ephemeral) port's. */
static uint8_t client_of(const nfh_flow *f) {
  if (f->proto == 6 && (f->tcp_flags & 0x12) == 0x02)
    return CLIENT_A;
  if (f->proto == 1 || f->proto == 58) {
    uint8_t request = f->proto == 1 ? 8 : 128, reply = f->proto == 1 ? 0 : 129;
    return f->icmp_type == request ? CLIENT_A
           : f->icmp_type == reply ? CLIENT_B
                                   : 0;
  }
  if ((f->proto == 6 || f->proto == 17) && f->src_port != f->dst_port)
    return f->src_port > f->dst_port ? CLIENT_A : CLIENT_B;
  return 0;
}

size_t nfh_homeguess_add(nfh_homeguess *g, const nfh_flow *flows, size_t n) {
  for (size_t i = 0; i < n && g->n < g->max; i++) {
    endpoint s = endpoint_of(&flows[i].src), d = endpoint_of(&flows[i].dst);
    if (!s.family && !d.family)
      continue;
    held *h = &g->flows[g->n++];
    h->a = s.bits;
    h->fa = s.family;
    h->b = d.bits;
    h->fb = d.family;
    h->client = client_of(&flows[i]);
  }
  return g->max - g->n;
}

size_t nfh_homeguess_count(const nfh_homeguess *g) { return g->n; }

/* The address an endpoint stands for (IPv6: its top 64 bits, the rest
 * zero). */
static void addr_of(uint64_t bits, uint8_t family, nfh_addr *a) {
  if (family == 4) {
    nfh_addr_set_v4(a, (uint32_t)(bits >> 32));
    return;
  }
  uint8_t b[16] = {0};
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(bits >> (56 - 8 * i));
  nfh_addr_set_v6(a, b);
}

/* Whether a held flow has an endpoint for which in_home is nonzero. */
static int held_home(const held *h,
                     int (*in_home)(const nfh_addr *addr, void *user),
                     void *user) {
  nfh_addr a;
  if (h->fa) {
    addr_of(h->a, h->fa, &a);
    if (in_home(&a, user))
      return 1;
  }
  if (h->fb) {
    addr_of(h->b, h->fb, &a);
    if (in_home(&a, user))
      return 1;
  }
  return 0;
}

double nfh_homeguess_share(const nfh_homeguess *g,
                           int (*in_home)(const nfh_addr *addr, void *user),
                           void *user) {
  if (!g->n)
    return 0;
  size_t in = 0;
  for (size_t i = 0; i < g->n; i++)
    in += held_home(&g->flows[i], in_home, user);
  return (double)in / (double)g->n;
}

size_t nfh_homeguess_drop_home(nfh_homeguess *g,
                               int (*in_home)(const nfh_addr *addr,
                                              void *user),
                               void *user) {
  size_t kept = 0;
  for (size_t i = 0; i < g->n; i++)
    if (!held_home(&g->flows[i], in_home, user))
      g->flows[kept++] = g->flows[i];
  g->n = kept;
  return kept;
}

static uint64_t mask_of(unsigned len) {
  return len == 0 ? 0 : len >= 64 ? UINT64_MAX : ~(UINT64_MAX >> len);
}

static int net_has(const net *p, uint64_t bits, uint8_t family) {
  return family && family == p->family && (bits & mask_of(p->len)) == p->bits;
}

static int held_in(const held *h, const net *p) {
  return net_has(p, h->a, h->fa) || net_has(p, h->b, h->fb);
}

static int compare_net(const void *pa, const void *pb) {
  const net *a = pa, *b = pb;
  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  return a->bits < b->bits ? -1 : a->bits > b->bits;
}

/* The prefix of length by family (v4, v6) of an endpoint. */
static net prefix_of(uint64_t bits, uint8_t family, unsigned len4,
                     unsigned len6) {
  net p;
  p.client = 0;
  p.family = family;
  p.len = (uint8_t)(family == 4 ? len4 : len6);
  p.bits = bits & mask_of(p.len);
  return p;
}

/* A network counts as nearly as common as the most common one within
 * this share of its count. */
#define NEAR_TIE 0.9

/* The network in keys[0..n-1] (sorted) that occurs most often, and how
 * often. Among those nearly as common, the one whose hosts opened the
 * most flows: a capture of one pair (an infected host and its C2 server)
 * covers both sides alike, and at an edge the inside opens most
 * connections. */
static size_t most_common(const net *keys, size_t n, net *best) {
  size_t most = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && compare_net(&keys[i], &keys[j]) == 0)
      j++;
    if (j - i > most)
      most = j - i;
    i = j;
  }
  size_t best_run = 0, best_clients = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1, clients = keys[i].client;
    while (j < n && compare_net(&keys[i], &keys[j]) == 0)
      clients += keys[j++].client;
    if ((double)(j - i) >= NEAR_TIE * (double)most &&
        (clients > best_clients ||
         (clients == best_clients && j - i > best_run))) {
      best_run = j - i;
      best_clients = clients;
      *best = keys[i];
      best->client = 0;
    }
    i = j;
  }
  return best_run;
}

/* Appends the prefixes of h's endpoints (each once) that 'inside'
 * contains (any, when NULL). */
static size_t push_prefixes(const held *h, unsigned len4, unsigned len6,
                            const net *inside, net *keys, size_t n) {
  net pa = prefix_of(h->a, h->fa, len4, len6);
  net pb = prefix_of(h->b, h->fb, len4, len6);
  int use_a = h->fa && (!inside || net_has(inside, h->a, h->fa));
  int use_b = h->fb && (!inside || net_has(inside, h->b, h->fb));
  pa.client = h->client == CLIENT_A;
  pb.client = h->client == CLIENT_B;
  if (use_a && use_b && compare_net(&pa, &pb) == 0) {
    pa.client = h->client != 0; /* both ends inside: it opened it */
    use_b = 0;
  }
  if (use_a)
    keys[n++] = pa;
  if (use_b)
    keys[n++] = pb;
  return n;
}

/* Narrows p to the finer network inside it that holds NARROW_SHARE of
 * the addresses seen in it (each endpoint of each flow), if there is one:
 * a /16 whose flows all involve one /24 narrows to it, while a campus
 * whose hosts talk to each other across subnets stays whole. */
static nfh_status narrow(const nfh_homeguess *g, net *p, net *keys) {
  size_t nk = 0;
  for (size_t i = 0; i < g->n; i++) {
    const held *h = &g->flows[i];
    if (net_has(p, h->a, h->fa)) {
      keys[nk] = prefix_of(h->a, h->fa, FINE_V4, FINE_V6);
      keys[nk++].client = h->client == CLIENT_A;
    }
    if (net_has(p, h->b, h->fb)) {
      keys[nk] = prefix_of(h->b, h->fb, FINE_V4, FINE_V6);
      keys[nk++].client = h->client == CLIENT_B;
    }
  }
  if (!nk)
    return NFH_OK;
  qsort(keys, nk, sizeof(net), compare_net);
  net best;
  size_t count = most_common(keys, nk, &best);
  if ((double)count >= NARROW_SHARE * (double)nk)
    *p = best;
  return NFH_OK;
}

static void format_net(const net *p, char *buf, size_t len) {
  nfh_addr a;
  addr_of(p->bits, p->family, &a);
  char text[NFH_ADDR_STRLEN];
  nfh_addr_format(&a, text, sizeof(text));
  snprintf(buf, len, "%s/%u", text, p->len);
}

nfh_status nfh_homeguess_infer(nfh_homeguess *g, const char *const **nets,
                               size_t *count, double *share) {
  *nets = NULL;
  *count = 0;
  *share = 0;
  g->npicks = 0;
  if (g->n < NFH_HOMEGUESS_MIN_FLOWS)
    return NFH_ENOTFOUND;
  uint8_t *covered = nfh__calloc(g->n, 1);
  net *keys = nfh__malloc(2 * g->n * sizeof(net));
  if (!covered || !keys) {
    nfh__free(covered);
    nfh__free(keys);
    return NFH_ENOMEM;
  }
  /* A greedy cover at the coarse level: each step takes the network in
   * the most flows not covered yet. */
  size_t ncovered = 0;
  while (g->npicks < MAX_NETS &&
         (double)ncovered < ENOUGH_SHARE * (double)g->n) {
    size_t nk = 0;
    for (size_t i = 0; i < g->n; i++)
      if (!covered[i])
        nk = push_prefixes(&g->flows[i], COARSE_V4, COARSE_V6, NULL, keys,
                           nk);
    if (!nk)
      break;
    qsort(keys, nk, sizeof(net), compare_net);
    net best;
    size_t c = most_common(keys, nk, &best);
    if ((double)c < MIN_PICK_SHARE * (double)g->n)
      break;
    g->picks[g->npicks++] = best;
    for (size_t i = 0; i < g->n; i++)
      if (!covered[i] && held_in(&g->flows[i], &best)) {
        covered[i] = 1;
        ncovered++;
      }
  }
  nfh_status st = NFH_OK;
  if ((double)ncovered < NEEDED_SHARE * (double)g->n) {
    g->npicks = 0;
    st = NFH_ENOTFOUND;
  }
  for (size_t k = 0; st == NFH_OK && k < g->npicks; k++)
    st = narrow(g, &g->picks[k], keys);
  if (st == NFH_OK) {
    /* The share the narrowed networks cover. */
    size_t in = 0;
    for (size_t i = 0; i < g->n; i++)
      for (size_t k = 0; k < g->npicks; k++)
        if (held_in(&g->flows[i], &g->picks[k])) {
          in++;
          break;
        }
    for (size_t k = 0; k < g->npicks; k++) {
      format_net(&g->picks[k], g->text[k], sizeof(g->text[k]));
      g->names[k] = g->text[k];
    }
    *nets = g->names;
    *count = g->npicks;
    *share = (double)in / (double)g->n;
  }
  nfh__free(covered);
  nfh__free(keys);
  return st;
}
