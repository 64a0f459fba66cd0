/*
 * gen/inject.c - scans, beacons, exfiltration and floods.
 *
 * Each activity is a sequence of events (a probe, a beat, a stream) whose
 * times are a pure function of the event's number, so the activity keeps
 * only a cursor: per slot it starts the events that fall into it. The
 * other randomness (outcomes, sizes, ports) comes from the activity's own
 * stream in event order.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject.h"
#include "param.h"

typedef enum kind {
  K_HSCAN,
  K_VSCAN,
  K_DSCAN,
  K_BEACON,
  K_EXFIL,
  K_SLOWEXFIL,
  K_FLOOD_IN,
  K_FLOOD_OUT,
  K_DNSTUNNEL,
  K_C2SESSION,
} kind;

static const struct {
  const char *name, *alias, *detector;
} kinds[] = {
    [K_HSCAN] = {"horizontal_scan", "hscan", "port_scan"},
    [K_VSCAN] = {"vertical_scan", "vscan", "port_scan"},
    [K_DSCAN] = {"distributed_scan", "dscan", "port_scan"},
    [K_BEACON] = {"beacon", "beaconing", "beaconing"},
    [K_EXFIL] = {"bulk_exfiltration", "exfil", "exfiltration"},
    [K_SLOWEXFIL] = {"slow_exfiltration", "slowexfil", "exfiltration"},
    [K_FLOOD_IN] = {"inbound_flood", "flood_in", "volumetric"},
    [K_FLOOD_OUT] = {"outbound_flood", "flood_out", "volumetric"},
    [K_DNSTUNNEL] = {"dns_tunnel", "dnstunnel", "exfiltration"},
    [K_C2SESSION] = {"c2_session", "c2session", "beaconing"},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

enum { NET_DMZ, NET_USERS, NET_SERVERS };
enum { V_SYN, V_UDP, V_ICMP, V_HTTP, V_SLOW };

/* The ranges of one spec; each copy draws from them. */
typedef struct spec {
  kind k;
  int count;
  int internal;   /* -1 default */
  int net;        /* -1 default */
  int proto;      /* 0 default, 6 or 17 */
  int variant;    /* -1 default */
  int slow;       /* speed=slow */
  int seq;        /* order=seq */
  int shared_c2;  /* beacon c2=shared: the copies call one server */
  uint32_t group; /* index of the spec's first copy (set when added) */
  int has_at, has_port, has_duration, has_prange, has_sources, has_rate;
  int has_conns;
  gen_range at, duration, port, targets, ports, prange;
  gen_range open, refused, unreach, sources;
  gen_range period, jitter, bytes_out, bytes_in, missed;
  gen_range size, streams, rate, pps, conns, answered;
} spec;

/* One running activity. */
typedef struct act {
  kind k;
  uint32_t label, index;
  gen_rng rng;
  uint64_t key;            /* hashes event times */
  uint64_t at_ms, dur_ms;  /* absolute start, length */
  uint64_t n_events, next; /* events and cursor */
  nfh_addr src, dst;       /* single source / destination */
  uint32_t n_src;          /* many sources (dscan, flood_in) */
  const gen_prefix *tgt_net;
  int net;
  uint32_t tgt_first, n_tgt; /* target block, host numbers */
  uint64_t perm_a, perm_b;   /* affine permutation of the targets/ports */
  uint16_t port, port_lo, sport;
  uint32_t port_span;
  uint8_t proto, variant;
  double p_open, p_refused, p_unreach;
  double period_ms, jitter, missed;
  uint64_t bytes_out, bytes_in;
  uint64_t size, pkt_size;
  uint32_t streams, conns;
  double pps, answered;
} act;

struct gen_inject {
  const gen_world *w;
  act *acts;
  size_t n, cap;
};

nfh_status gen_inject_create(const gen_world *w, gen_inject **out) {
  gen_inject *inj = calloc(1, sizeof(*inj));
  if (!inj)
    return NFH_ENOMEM;
  inj->w = w;
  *out = inj;
  return NFH_OK;
}

void gen_inject_destroy(gen_inject *inj) {
  if (!inj)
    return;
  free(inj->acts);
  free(inj);
}

size_t gen_inject_count(const gen_inject *inj) { return inj->n; }

/* ------------------------------------------------------------ helpers */

static double hash_unit(uint64_t key, uint64_t i) {
  return (double)(gen_hash64(key ^ (i * 0x9E3779B97F4A7C15ULL)) >> 11) *
         0x1.0p-53;
}

static uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* A random affine permutation i -> (a * i + b) mod n: visits every
 * element once without storing the order. */
static void make_perm(act *a, uint64_t n, int seq) {
  a->perm_a = 1;
  a->perm_b = 0;
  if (seq || n < 3)
    return;
  do {
    a->perm_a = gen_rng_range(&a->rng, 1, n - 1);
  } while (gcd(a->perm_a, n) != 1);
  a->perm_b = gen_rng_range(&a->rng, 0, n - 1);
}

static uint64_t perm(const act *a, uint64_t i, uint64_t n) {
  return (uint64_t)(((unsigned __int128)a->perm_a * i + a->perm_b) % n);
}

static const gen_prefix *net_prefix(const gen_net *net, int which) {
  return which == NET_USERS ? &net->users
         : which == NET_SERVERS ? &net->servers
                                : &net->dmz;
}

/* Hosts a scan can reach in a prefix: user slots in the users prefix,
 * .1-.254 of each /24 elsewhere. */
static uint32_t net_capacity(const gen_net *net, int which) {
  if (which == NET_USERS)
    return gen_net_max_users(net);
  unsigned len = net_prefix(net, which)->len;
  return (1u << (24 - len)) * 254;
}

static nfh_addr net_host(const gen_net *net, int which, uint32_t i) {
  if (which == NET_USERS)
    return gen_net_user(net, i);
  nfh_addr a;
  const gen_prefix *p = net_prefix(net, which);
  nfh_addr_set_v4(&a, nfh_addr_v4(&p->addr) + (i / 254) * 256 + i % 254 + 1);
  return a;
}

/* ------------------------------------------------------------ parsing */

static int find_kind(const char *name, size_t len) {
  for (size_t i = 0; i < N_KINDS; i++) {
    if ((strlen(kinds[i].name) == len &&
         strncmp(kinds[i].name, name, len) == 0) ||
        (strlen(kinds[i].alias) == len &&
         strncmp(kinds[i].alias, name, len) == 0))
      return (int)i;
  }
  /* A dash for an underscore reads the same (flood-in). */
  char buf[32];
  if (len >= sizeof(buf))
    return -1;
  for (size_t i = 0; i < len; i++)
    buf[i] = name[i] == '-' ? '_' : name[i];
  buf[len] = '\0';
  if (memchr(name, '-', len))
    return find_kind(buf, len);
  return -1;
}

static void spec_defaults(spec *s, kind k) {
  memset(s, 0, sizeof(*s));
  s->k = k;
  s->count = 1;
  s->internal = s->net = s->variant = -1;
  s->open = (gen_range){1, 3};
  s->refused = (gen_range){10, 30};
  s->unreach = (gen_range){0, 10};
  switch (k) {
  case K_HSCAN:
    s->targets = (gen_range){100, 254};
    break;
  case K_VSCAN:
    s->ports = (gen_range){100, 1000};
    s->refused = (gen_range){70, 95};
    s->unreach = (gen_range){0, 5};
    break;
  case K_DSCAN:
    s->sources = (gen_range){10, 50};
    s->targets = (gen_range){100, 254};
    s->duration = (gen_range){600e3, 3600e3};
    break;
  case K_BEACON:
    s->period = (gen_range){30e3, 600e3};
    s->jitter = (gen_range){0, 20};
    s->bytes_out = (gen_range){200, 2000};
    s->bytes_in = (gen_range){200, 5000};
    s->missed = (gen_range){0, 5};
    s->duration = (gen_range){2 * 3600e3, 12 * 3600e3};
    break;
  case K_EXFIL:
    s->size = (gen_range){1e9, 8e9};
    s->duration = (gen_range){300e3, 1800e3};
    s->streams = (gen_range){1, 4};
    break;
  case K_SLOWEXFIL:
    s->rate = (gen_range){10e6, 50e6};
    s->duration = (gen_range){2 * 3600e3, 8 * 3600e3};
    break;
  case K_FLOOD_IN:
    s->sources = (gen_range){100, 1000};
    s->pps = (gen_range){2000, 20000};
    s->duration = (gen_range){120e3, 600e3};
    s->conns = (gen_range){1, 2};
    s->answered = (gen_range){0, 30};
    break;
  case K_FLOOD_OUT:
    s->pps = (gen_range){5000, 50000};
    s->duration = (gen_range){60e3, 600e3};
    s->conns = (gen_range){1, 8};
    break;
  case K_DNSTUNNEL:
    s->rate = (gen_range){3, 8};          /* queries a second */
    s->bytes_out = (gen_range){170, 260}; /* a query's datagram */
    s->bytes_in = (gen_range){120, 400};  /* an answer's */
    s->duration = (gen_range){3600e3, 3 * 3600e3};
    break;
  case K_C2SESSION:
    s->bytes_out = (gen_range){600, 3000}; /* a minute's, each way */
    s->bytes_in = (gen_range){600, 6000};
    s->duration = (gen_range){5 * 3600e3, 8 * 3600e3};
    break;
  }
}

static int word(gen_kv *kv, const char *key, const char *const *words,
                int *out, char *why, size_t len) {
  const char *v = gen_kv_get(kv, key);
  if (!v)
    return 0;
  for (int i = 0; words[i]; i++) {
    if (strcmp(v, words[i]) == 0) {
      *out = i;
      return 0;
    }
  }
  snprintf(why, len, "%s=%s: expected one of", key, v);
  for (int i = 0; words[i]; i++) {
    size_t n = strlen(why);
    snprintf(why + n, len - n, "%s%s", i ? ", " : " ", words[i]);
  }
  return -1;
}

static nfh_status parse_spec(const char *text, spec *s, char *why,
                             size_t len) {
  size_t klen = strcspn(text, ": \t");
  int k = find_kind(text, klen);
  if (k < 0) {
    snprintf(why, len, "unknown activity '%.*s' (kinds: ", (int)klen, text);
    for (size_t i = 0; i < N_KINDS; i++) {
      size_t n = strlen(why);
      snprintf(why + n, len - n, "%s%s", kinds[i].name,
               i + 1 < N_KINDS ? ", " : ")");
    }
    return NFH_ESYNTAX;
  }
  spec_defaults(s, (kind)k);
  const char *rest = text + klen;
  if (*rest == ':')
    rest++;
  gen_kv kv;
  nfh_status st = gen_kv_parse(rest, &kv);
  if (st != NFH_OK) {
    snprintf(why, len, "%s: parameters must be key=value", kinds[k].name);
    return st;
  }
  static const char *const srcw[] = {"external", "internal", NULL};
  static const char *const netw[] = {"dmz", "users", "servers", NULL};
  static const char *const protow[] = {"tcp", "udp", NULL};
  static const char *const speedw[] = {"fast", "slow", NULL};
  static const char *const orderw[] = {"random", "seq", NULL};
  static const char *const varw[] = {"syn", "udp", "icmp", "http",
                                     "slowloris", NULL};
  static const char *const c2w[] = {"own", "shared", NULL};
  int proto = -1, slow = 0, seq = 0;
  char sub[200];
  if (word(&kv, "src", srcw, &s->internal, why, len) ||
      word(&kv, "net", netw, &s->net, why, len) ||
      word(&kv, "proto", protow, &proto, why, len) ||
      word(&kv, "speed", speedw, &slow, why, len) ||
      word(&kv, "order", orderw, &seq, why, len) ||
      word(&kv, "variant", varw, &s->variant, why, len) ||
      word(&kv, "c2", c2w, &s->shared_c2, why, len))
    st = NFH_ESYNTAX;
  s->proto = proto < 0 ? 0 : proto == 0 ? 6 : 17;
  s->slow = slow;
  s->seq = seq;
  s->has_at = gen_kv_get(&kv, "at") != NULL;
  s->has_port = gen_kv_get(&kv, "port") != NULL;
  s->has_duration = gen_kv_get(&kv, "duration") != NULL;
  s->has_prange = gen_kv_get(&kv, "range") != NULL;
  s->has_sources = gen_kv_get(&kv, "sources") != NULL;
  s->has_conns = gen_kv_get(&kv, "conns") != NULL;
  s->has_rate = gen_kv_get(&kv, "rate") != NULL;
  gen_range count = {1, 1};
  struct {
    const char *key;
    gen_range *r;
    gen_unit unit;
  } nums[] = {
      {"count", &count, GEN_UNIT_PLAIN},
      {"at", &s->at, GEN_UNIT_TIME},
      {"duration", &s->duration, GEN_UNIT_TIME},
      {"port", &s->port, GEN_UNIT_PLAIN},
      {"targets", &s->targets, GEN_UNIT_SIZE},
      {"ports", &s->ports, GEN_UNIT_SIZE},
      {"range", &s->prange, GEN_UNIT_PLAIN},
      {"open", &s->open, GEN_UNIT_PERCENT},
      {"refused", &s->refused, GEN_UNIT_PERCENT},
      {"unreach", &s->unreach, GEN_UNIT_PERCENT},
      {"sources", &s->sources, GEN_UNIT_SIZE},
      {"period", &s->period, GEN_UNIT_TIME},
      {"jitter", &s->jitter, GEN_UNIT_PERCENT},
      {"bytes_out", &s->bytes_out, GEN_UNIT_SIZE},
      {"bytes_in", &s->bytes_in, GEN_UNIT_SIZE},
      {"missed", &s->missed, GEN_UNIT_PERCENT},
      {"size", &s->size, GEN_UNIT_SIZE},
      {"streams", &s->streams, GEN_UNIT_PLAIN},
      {"rate", &s->rate, GEN_UNIT_SIZE},
      {"pps", &s->pps, GEN_UNIT_SIZE},
      {"conns", &s->conns, GEN_UNIT_PLAIN},
      {"answered", &s->answered, GEN_UNIT_PERCENT},
  };
  for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]) && st == NFH_OK; i++)
    if (gen_kv_range(&kv, nums[i].key, nums[i].unit, nums[i].r, sub,
                     sizeof(sub)) != NFH_OK) {
      snprintf(why, len, "%s: %s", kinds[k].name, sub);
      st = NFH_ESYNTAX;
    }
  const char *unused = gen_kv_unused(&kv);
  if (st == NFH_OK && unused) {
    snprintf(why, len, "%s: unknown parameter '%s'", kinds[k].name, unused);
    st = NFH_ESYNTAX;
  }
  if (st == NFH_OK && (count.lo != count.hi || count.lo < 1 ||
                       count.lo > 1000)) {
    snprintf(why, len, "%s: count must be one number from 1 to 1000",
             kinds[k].name);
    st = NFH_ESYNTAX;
  }
  if (st == NFH_OK && s->has_port && (s->port.lo < 1 || s->port.hi > 65535)) {
    snprintf(why, len, "%s: port must be within 1-65535", kinds[k].name);
    st = NFH_ESYNTAX;
  }
  if (st == NFH_OK && s->has_prange &&
      (s->prange.lo < 1 || s->prange.hi > 65535)) {
    snprintf(why, len, "%s: range must be within 1-65535", kinds[k].name);
    st = NFH_ESYNTAX;
  }
  if (st == NFH_OK && k == K_FLOOD_OUT && s->variant == V_HTTP) {
    snprintf(why, len, "%s: variant=http is an inbound flood's",
             kinds[k].name);
    st = NFH_ESYNTAX;
  }
  if (st == NFH_OK && s->shared_c2 > 0 && k != K_BEACON) {
    snprintf(why, len, "%s: c2= is a beacon's", kinds[k].name);
    st = NFH_ESYNTAX;
  }
  if (st == NFH_OK && s->jitter.hi > 45) {
    snprintf(why, len, "%s: jitter above 45%% would reorder beats",
             kinds[k].name);
    st = NFH_ESYNTAX;
  }
  s->count = (int)count.lo;
  gen_kv_free(&kv);
  return st;
}

/* -------------------------------------------------------- instantiate */

static const uint16_t scan_ports[] = {22,   23,   445,  3389, 5900,
                                      8080, 1433, 3306, 6379, 9200};

static void label_common(gen_labels *l, const gen_world *w, const act *a) {
  char buf[32];
  gen_labels_param_str(l, a->label, "start", gen_iso8601(a->at_ms, buf,
                                                          sizeof(buf)));
  gen_labels_param_int(l, a->label, "start_offset_s",
                       (int64_t)((a->at_ms - w->start_ms) / 1000));
  gen_labels_param_int(l, a->label, "duration_s", (int64_t)(a->dur_ms / 1000));
}

/* Fills the target block and the outcome mix of a scan. */
static void scan_targets(const gen_world *w, act *a, const spec *s,
                         int which, uint32_t wanted) {
  uint32_t cap = net_capacity(w->net, which);
  if (which == NET_USERS && cap > w->net->n_users * 2 + 254)
    cap = w->net->n_users * 2 + 254; /* sweep where the users are */
  if (wanted > cap)
    wanted = cap;
  if (wanted < 1)
    wanted = 1;
  a->net = which;
  a->tgt_net = net_prefix(w->net, which);
  a->n_tgt = wanted;
  a->tgt_first = (uint32_t)gen_rng_range(&a->rng, 0, cap - wanted);
  a->p_open = gen_range_draw(&s->open, &a->rng) / 100;
  a->p_refused = gen_range_draw(&s->refused, &a->rng) / 100;
  a->p_unreach = gen_range_draw(&s->unreach, &a->rng) / 100;
}

static void label_targets(gen_labels *l, const gen_world *w, const act *a) {
  nfh_addr first = net_host(w->net, a->net, a->tgt_first);
  nfh_addr last = net_host(w->net, a->net, a->tgt_first + a->n_tgt - 1);
  char cidrs[64][52];
  size_t n = gen_range_cidrs(nfh_addr_v4(&first), nfh_addr_v4(&last), cidrs,
                             64);
  for (size_t i = 0; i < n; i++)
    gen_labels_list_add(l, a->label, "dst", cidrs[i]);
  gen_labels_param_int(l, a->label, "targets", a->n_tgt);
  gen_labels_param_real(l, a->label, "open_pct", a->p_open * 100);
  gen_labels_param_real(l, a->label, "refused_pct", a->p_refused * 100);
  gen_labels_param_real(l, a->label, "unreach_pct", a->p_unreach * 100);
}

static void match_all_protos(gen_labels *l, uint32_t id) {
  static const int protos[] = {6, 17, 1, 58};
  for (size_t i = 0; i < 4; i++)
    gen_labels_int_add(l, id, "match.protos", protos[i]);
}

/* An inside user talking to an attacker's server over TCP, on the spec's
 * port or one of 'ports' (five): exfiltrations and C2 sessions. Sets
 * src, dst, port and proto, and labels them. */
static void user_to_attacker(act *a, const spec *s, const gen_net *net,
                             uint32_t space, const uint16_t ports[5],
                             gen_labels *l, uint32_t id) {
  uint32_t user = (uint32_t)gen_rng_range(&a->rng, 0, net->n_users - 1);
  a->src = gen_net_user(net, user);
  a->dst = gen_net_external(net, GEN_EXT_ATTACKER, space, 0, 0);
  a->port = s->has_port ? (uint16_t)gen_range_draw_int(&s->port, &a->rng)
                        : ports[gen_rng_range(&a->rng, 0, 4)];
  a->proto = 6;
  gen_labels_list_addr(l, id, "src", &a->src);
  gen_labels_list_addr(l, id, "dst", &a->dst);
  gen_labels_list_addr(l, id, "match.hosts", &a->dst);
  gen_labels_int_add(l, id, "dst_ports", a->port);
  gen_labels_int_add(l, id, "protos", 6);
  gen_labels_int_add(l, id, "match.protos", 6);
  gen_labels_param_int(l, id, "port", a->port);
}

static nfh_status instantiate(gen_inject *inj, const spec *s, char *why,
                              size_t len) {
  const gen_world *w = inj->w;
  const gen_net *net = w->net;
  gen_labels *l = w->labels;
  if (inj->n == inj->cap) {
    size_t cap = inj->cap ? inj->cap * 2 : 16;
    act *p = realloc(inj->acts, cap * sizeof(*p));
    if (!p)
      return NFH_ENOMEM;
    inj->acts = p;
    inj->cap = cap;
  }
  if (inj->n >= 4000) {
    snprintf(why, len, "too many activities (at most 4000)");
    return NFH_EINVAL;
  }
  act *a = &inj->acts[inj->n];
  memset(a, 0, sizeof(*a));
  a->k = s->k;
  a->index = (uint32_t)inj->n;
  gen_rng_seed(&a->rng, w->seed, 0x1000 + a->index);
  a->key = gen_rng_next(&a->rng);
  uint32_t space = a->index + 1; /* this activity's external addresses */

  /* Duration and placement. */
  uint64_t run = w->end_ms - w->start_ms;
  gen_range dur = s->duration;
  if ((s->k == K_HSCAN || s->k == K_VSCAN) && !s->has_duration)
    dur = s->slow ? (gen_range){2 * 3600e3, (s->k == K_HSCAN ? 6 : 8) *
                                                3600e3}
                  : (s->k == K_HSCAN ? (gen_range){120e3, 600e3}
                                     : (gen_range){60e3, 300e3});
  a->dur_ms = gen_range_draw_int(&dur, &a->rng);
  if (a->dur_ms < 1000)
    a->dur_ms = 1000;
  if (a->dur_ms > run * 95 / 100)
    a->dur_ms = run * 95 / 100;
  uint64_t off;
  if (s->has_at) {
    off = gen_range_draw_int(&s->at, &a->rng);
    if (off >= run) {
      snprintf(why, len, "%s: at= lies beyond the end of the run",
               kinds[s->k].name);
      return NFH_EINVAL;
    }
    if (off + a->dur_ms > run)
      a->dur_ms = run - off;
  } else {
    off = gen_rng_range(&a->rng, 0, run - a->dur_ms);
  }
  a->at_ms = w->start_ms + off;

  char name[64];
  snprintf(name, sizeof(name), "%s-%u", kinds[s->k].alias, a->index + 1);
  nfh_status st = gen_labels_add(l, kinds[s->k].name, name, 1,
                                 kinds[s->k].detector, NULL, &a->label);
  if (st != NFH_OK)
    return st;
  uint32_t id = a->label;
  int internal = s->internal == 1;

  switch (s->k) {
  case K_HSCAN:
  case K_DSCAN: {
    int which = s->net >= 0 ? s->net : internal ? NET_USERS : NET_DMZ;
    gen_range tg = s->targets;
    if (which == NET_USERS && tg.lo == 100 && tg.hi == 254)
      tg = (gen_range){200, 1000}; /* the default, on a bigger net */
    scan_targets(w, a, s, which, (uint32_t)gen_range_draw_int(&tg, &a->rng));
    a->proto = s->proto ? (uint8_t)s->proto : 6;
    a->port = s->has_port ? (uint16_t)gen_range_draw_int(&s->port, &a->rng)
                          : scan_ports[gen_rng_range(
                                &a->rng, 0,
                                sizeof(scan_ports) / sizeof(scan_ports[0]) -
                                    1)];
    make_perm(a, a->n_tgt, s->seq);
    a->n_events = a->n_tgt;
    a->sport = (uint16_t)gen_rng_range(&a->rng, 32768, 65000);
    if (s->k == K_HSCAN) {
      a->src = internal ? gen_net_rogue(net, a->index)
                        : gen_net_external(net, GEN_EXT_ATTACKER, space, 0, 0);
      gen_labels_list_addr(l, id, "src", &a->src);
      gen_labels_list_addr(l, id, "match.hosts", &a->src);
      gen_labels_param_str(l, id, "speed", s->slow ? "slow" : "fast");
    } else {
      a->n_src = (uint32_t)gen_range_draw_int(&s->sources, &a->rng);
      if (a->n_src < 2)
        a->n_src = 2;
      for (uint32_t k = 0; k < a->n_src; k++) {
        nfh_addr src = gen_net_external(net, GEN_EXT_ATTACKER, space, k, 0);
        gen_labels_list_addr(l, id, "src", &src);
        gen_labels_list_addr(l, id, "match.hosts", &src);
      }
      gen_labels_param_int(l, id, "sources", a->n_src);
    }
    label_targets(l, w, a);
    gen_labels_int_add(l, id, "dst_ports", a->port);
    gen_labels_int_add(l, id, "protos", a->proto);
    gen_labels_param_int(l, id, "port", a->port);
    gen_labels_param_str(l, id, "proto", a->proto == 6 ? "tcp" : "udp");
    gen_labels_param_str(l, id, "net", which == NET_USERS     ? "users"
                                       : which == NET_SERVERS ? "servers"
                                                              : "dmz");
    gen_labels_param_str(l, id, "src_side",
                         internal && s->k == K_HSCAN ? "internal"
                                                     : "external");
    match_all_protos(l, id);
    break;
  }
  case K_VSCAN: {
    int which = s->net >= 0 ? s->net : internal ? NET_USERS : NET_DMZ;
    a->net = which;
    if (which == NET_DMZ) {
      static const uint32_t live[] = {22, 25, 30};
      a->dst = gen_net_dmz(net, live[gen_rng_range(&a->rng, 0, 2)]);
    } else if (which == NET_SERVERS) {
      a->dst = gen_net_server(net, (uint32_t)gen_rng_range(&a->rng, 30, 39));
    } else {
      a->dst = gen_net_user(net, (uint32_t)gen_rng_range(&a->rng, 0,
                                                         net->n_users - 1));
    }
    a->src = internal ? gen_net_rogue(net, a->index)
                      : gen_net_external(net, GEN_EXT_ATTACKER, space, 0, 0);
    uint64_t count = gen_range_draw_int(&s->ports, &a->rng);
    gen_range pr = s->has_prange ? s->prange
                   : count <= 1024 ? (gen_range){1, 1024}
                                   : (gen_range){1, 65535};
    a->port_lo = (uint16_t)pr.lo;
    a->port_span = (uint32_t)(pr.hi - pr.lo + 1);
    if (count > a->port_span)
      count = a->port_span;
    if (count < 1)
      count = 1;
    a->n_events = count;
    a->proto = s->proto ? (uint8_t)s->proto : 6;
    a->sport = (uint16_t)gen_rng_range(&a->rng, 32768, 65000);
    a->p_open = gen_range_draw(&s->open, &a->rng) / 100;
    a->p_refused = gen_range_draw(&s->refused, &a->rng) / 100;
    a->p_unreach = gen_range_draw(&s->unreach, &a->rng) / 100;
    make_perm(a, a->port_span, s->seq);
    gen_labels_list_addr(l, id, "src", &a->src);
    gen_labels_list_addr(l, id, "dst", &a->dst);
    gen_labels_list_addr(l, id, "match.hosts", &a->src);
    if (count <= 1024)
      for (uint64_t i = 0; i < count; i++)
        gen_labels_int_add(l, id, "dst_ports",
                           a->port_lo + (int64_t)perm(a, i, a->port_span));
    gen_labels_int_add(l, id, "protos", a->proto);
    gen_labels_param_int(l, id, "ports", (int64_t)count);
    gen_labels_param_int(l, id, "port_lo", a->port_lo);
    gen_labels_param_int(l, id, "port_hi", a->port_lo + a->port_span - 1);
    gen_labels_param_str(l, id, "speed", s->slow ? "slow" : "fast");
    gen_labels_param_str(l, id, "src_side", internal ? "internal"
                                                     : "external");
    gen_labels_param_real(l, id, "open_pct", a->p_open * 100);
    gen_labels_param_real(l, id, "refused_pct", a->p_refused * 100);
    gen_labels_param_real(l, id, "unreach_pct", a->p_unreach * 100);
    match_all_protos(l, id);
    break;
  }
  case K_BEACON: {
    uint32_t user = (uint32_t)gen_rng_range(&a->rng, 0, net->n_users - 1);
    a->src = gen_net_user(net, user);
    /* c2=shared: the bots of one campaign, each copy another host calling
     * the first copy's server. */
    a->dst = gen_net_external(net, GEN_EXT_ATTACKER,
                              s->shared_c2 > 0 ? s->group + 1 : space, 0, 0);
    a->proto = s->proto ? (uint8_t)s->proto : 6;
    /* One implant's configuration for all of a campaign's bots: drawn
     * from the group's stream, the same for every copy. */
    gen_rng group_rng;
    gen_rng *cfg = &a->rng;
    if (s->shared_c2 > 0) {
      gen_rng_seed(&group_rng, w->seed, 0x5000 + s->group);
      cfg = &group_rng;
    }
    static const uint16_t bports[] = {443, 443, 443, 80, 8443, 8080};
    a->port = s->has_port ? (uint16_t)gen_range_draw_int(&s->port, cfg)
              : a->proto == 17
                  ? 53
                  : bports[gen_rng_range(cfg, 0, 5)];
    a->period_ms = gen_range_draw(&s->period, cfg);
    if (a->period_ms < 1000)
      a->period_ms = 1000;
    a->jitter = gen_range_draw(&s->jitter, cfg) / 100;
    a->missed = gen_range_draw(&s->missed, cfg) / 100;
    a->bytes_out = gen_range_draw_int(&s->bytes_out, cfg);
    a->bytes_in = gen_range_draw_int(&s->bytes_in, cfg);
    a->n_events = (uint64_t)((double)a->dur_ms / a->period_ms) + 1;
    gen_labels_list_addr(l, id, "src", &a->src);
    gen_labels_list_addr(l, id, "dst", &a->dst);
    gen_labels_list_addr(l, id, "match.hosts", &a->dst);
    gen_labels_int_add(l, id, "dst_ports", a->port);
    gen_labels_int_add(l, id, "protos", a->proto);
    gen_labels_int_add(l, id, "match.protos", a->proto);
    gen_labels_param_real(l, id, "period_s", a->period_ms / 1000);
    gen_labels_param_real(l, id, "jitter_pct", a->jitter * 100);
    gen_labels_param_real(l, id, "missed_pct", a->missed * 100);
    gen_labels_param_int(l, id, "bytes_out", (int64_t)a->bytes_out);
    gen_labels_param_int(l, id, "bytes_in", (int64_t)a->bytes_in);
    if (s->shared_c2 > 0)
      gen_labels_param_str(l, id, "c2", "shared");
    gen_labels_param_int(l, id, "beats_planned", (int64_t)a->n_events);
    gen_labels_param_int(l, id, "port", a->port);
    gen_labels_param_str(l, id, "proto", a->proto == 6 ? "tcp" : "udp");
    break;
  }
  case K_EXFIL:
  case K_SLOWEXFIL: {
    static const uint16_t eports[] = {443, 443, 443, 22, 8443};
    user_to_attacker(a, s, net, space, eports, l, id);
    if (s->k == K_EXFIL) {
      a->size = gen_range_draw_int(&s->size, &a->rng);
      a->streams = (uint32_t)gen_range_draw_int(&s->streams, &a->rng);
      if (a->streams < 1)
        a->streams = 1;
    } else {
      double per_hour = gen_range_draw(&s->rate, &a->rng);
      a->size = (uint64_t)(per_hour * (double)a->dur_ms / 3600e3);
      a->streams = 1;
      gen_labels_param_real(l, id, "bytes_per_hour", per_hour);
    }
    a->n_events = a->streams;
    gen_labels_param_int(l, id, "size", (int64_t)a->size);
    gen_labels_param_int(l, id, "streams", a->streams);
    break;
  }
  case K_FLOOD_IN:
  case K_FLOOD_OUT: {
    int v = s->variant >= 0 ? s->variant
            : s->k == K_FLOOD_IN ? V_SYN
                                 : V_UDP;
    a->variant = (uint8_t)v;
    a->proto = v == V_SYN || v == V_HTTP || v == V_SLOW ? 6
               : v == V_UDP                           ? 17
                                                      : 1;
    a->pps = gen_range_draw(&s->pps, &a->rng);
    a->conns = (uint32_t)gen_range_draw_int(&s->conns, &a->rng);
    if (a->conns < 1)
      a->conns = 1;
    a->pkt_size = v == V_SYN ? 60
                  : v == V_UDP ? gen_rng_range(&a->rng, 64, 1400)
                               : gen_rng_range(&a->rng, 84, 1028);
    if (s->k == K_FLOOD_IN) {
      a->dst = gen_net_dmz(net, 30);
      /* An HTTP flood comes from a DoS tool on a few hosts unless the
       * spec says how many. */
      gen_range few = {1, 5};
      gen_range one = {1, 1};
      int by_tool = v == V_HTTP || v == V_SLOW;
      a->n_src = (uint32_t)gen_range_draw_int(
          !by_tool || s->has_sources ? &s->sources
          : v == V_HTTP              ? &few
                                     : &one,
          &a->rng);
      if (a->n_src < (by_tool ? 1u : 2u))
        a->n_src = by_tool ? 1 : 2;
      a->answered = v == V_SYN ? gen_range_draw(&s->answered, &a->rng) / 100
                               : 0;
      for (uint32_t k = 0; k < a->n_src; k++) {
        nfh_addr src = gen_net_external(net, GEN_EXT_ATTACKER, space, k, 0);
        gen_labels_list_addr(l, id, "src", &src);
        gen_labels_list_addr(l, id, "match.hosts", &src);
      }
      gen_labels_list_addr(l, id, "dst", &a->dst);
      gen_labels_param_int(l, id, "sources", a->n_src);
      if (v != V_HTTP && v != V_SLOW)
        gen_labels_param_real(l, id, "answered_pct", a->answered * 100);
    } else {
      uint32_t user = (uint32_t)gen_rng_range(&a->rng, 0, net->n_users - 1);
      a->src = gen_net_user(net, user);
      a->dst = gen_net_external(net, GEN_EXT_ATTACKER, space, 0, 0);
      a->n_src = 1;
      gen_labels_list_addr(l, id, "src", &a->src);
      gen_labels_list_addr(l, id, "dst", &a->dst);
      gen_labels_list_addr(l, id, "match.hosts", &a->dst);
    }
    a->port = s->has_port ? (uint16_t)gen_range_draw_int(&s->port, &a->rng)
              : v == V_SLOW               ? 80
              : v == V_SYN || v == V_HTTP ? 443
              : v == V_UDP ? (s->k == K_FLOOD_IN ? 53 : 0)
                           : 0;
    a->n_events = (uint64_t)a->n_src * a->conns;
    if (v == V_HTTP) {
      /* Completed sessions: a request, a page back. */
      gen_range rate = {100, 400};
      a->pps = gen_range_draw(s->has_rate ? &s->rate : &rate, &a->rng);
      if (a->pps < 1)
        a->pps = 1;
      a->n_events = (uint64_t)((double)a->dur_ms / 1000.0 * a->pps);
      if (a->n_events < 1)
        a->n_events = 1;
      gen_labels_param_real(l, id, "sessions_per_s", a->pps);
      gen_labels_param_int(l, id, "sessions", (int64_t)a->n_events);
    }
    if (v == V_SLOW) {
      /* Each socket holds its connection until the server's request
       * timeout (20 s to 2 min), then opens the next: 'conns' sockets
       * per source (150 to 600 unless given). */
      gen_range sockets = {150, 600};
      a->conns = (uint32_t)gen_range_draw_int(
          s->has_conns ? &s->conns : &sockets, &a->rng);
      if (a->conns < 1)
        a->conns = 1;
      a->period_ms = (double)gen_rng_range(&a->rng, 20000, 120000);
      uint64_t cycles = a->dur_ms / (uint64_t)a->period_ms;
      a->n_events = (uint64_t)a->conns * a->n_src * (cycles ? cycles : 1);
      gen_labels_param_int(l, id, "sockets", (int64_t)a->conns * a->n_src);
      gen_labels_param_real(l, id, "hold_s", a->period_ms / 1000);
    }
    /* Port 0 of a UDP flood means a random port per connection. */
    if (a->proto != 1 && a->port != 0)
      gen_labels_int_add(l, id, "dst_ports", a->port);
    gen_labels_int_add(l, id, "protos", a->proto);
    match_all_protos(l, id);
    gen_labels_param_str(l, id, "variant", v == V_SYN    ? "syn"
                                           : v == V_UDP  ? "udp"
                                           : v == V_HTTP ? "http"
                                           : v == V_SLOW ? "slowloris"
                                                         : "icmp");
    if (a->port || a->proto == 1)
      gen_labels_param_int(l, id, "port", a->port);
    else
      gen_labels_param_str(l, id, "port", "random");
    if (v == V_HTTP || v == V_SLOW) /* sessions: labelled above */
      break;
    gen_labels_param_real(l, id, "pps", a->pps);
    gen_labels_param_int(l, id, "conns", a->conns);
    gen_labels_param_int(l, id, "packet_size", (int64_t)a->pkt_size);
    break;
  }
  case K_C2SESSION: {
    /* An implant holding one connection to its server for hours (an
     * IRC bot, a reverse shell, a websocket C2 channel): a trickle of
     * commands and keepalives each way. */
    static const uint16_t cports[] = {443, 443, 8443, 6667, 4444};
    user_to_attacker(a, s, net, space, cports, l, id);
    a->bytes_out = gen_range_draw_int(&s->bytes_out, &a->rng);
    a->bytes_in = gen_range_draw_int(&s->bytes_in, &a->rng);
    a->n_events = 1;
    gen_labels_param_int(l, id, "bytes_out_per_min", (int64_t)a->bytes_out);
    gen_labels_param_int(l, id, "bytes_in_per_min", (int64_t)a->bytes_in);
    break;
  }
  case K_DNSTUNNEL: {
    /* An implant asking the attacker's name server directly (iodine,
     * dnscat2 with a server address): names full of encoded data. */
    uint32_t user = (uint32_t)gen_rng_range(&a->rng, 0, net->n_users - 1);
    a->src = gen_net_user(net, user);
    a->dst = gen_net_external(net, GEN_EXT_ATTACKER, space, 0, 0);
    a->proto = 17;
    a->port = 53;
    a->pps = gen_range_draw(&s->rate, &a->rng);
    if (a->pps < 0.01)
      a->pps = 0.01;
    a->bytes_out = gen_range_draw_int(&s->bytes_out, &a->rng);
    a->bytes_in = gen_range_draw_int(&s->bytes_in, &a->rng);
    a->n_events = (uint64_t)((double)a->dur_ms / 1000.0 * a->pps);
    if (a->n_events < 1)
      a->n_events = 1;
    gen_labels_list_addr(l, id, "src", &a->src);
    gen_labels_list_addr(l, id, "dst", &a->dst);
    gen_labels_list_addr(l, id, "match.hosts", &a->dst);
    gen_labels_int_add(l, id, "dst_ports", 53);
    gen_labels_int_add(l, id, "protos", 17);
    gen_labels_int_add(l, id, "match.protos", 17);
    gen_labels_param_real(l, id, "queries_per_s", a->pps);
    gen_labels_param_int(l, id, "queries", (int64_t)a->n_events);
    gen_labels_param_int(l, id, "query_bytes", (int64_t)a->bytes_out);
    gen_labels_param_int(l, id, "answer_bytes", (int64_t)a->bytes_in);
    break;
  }
  }
  label_common(l, w, a);
  inj->n++;
  return NFH_OK;
}

nfh_status gen_inject_add(gen_inject *inj, const char *text, char *why,
                          size_t len) {
  spec s;
  while (isspace((unsigned char)*text))
    text++;
  nfh_status st = parse_spec(text, &s, why, len);
  s.group = (uint32_t)inj->n;
  for (int c = 0; c < s.count && st == NFH_OK; c++)
    st = instantiate(inj, &s, why, len);
  return st;
}

nfh_status gen_inject_defaults(gen_inject *inj) {
  uint64_t run = inj->w->end_ms - inj->w->start_ms;
  const uint64_t hour = 3600000;
  const char *mix[] = {
      "horizontal_scan:src=external,net=dmz,speed=fast",
      run >= 3 * hour ? "horizontal_scan:src=internal,net=users,speed=slow,"
                        "targets=100-400"
                      : NULL,
      "vertical_scan:src=external,speed=fast",
      run >= 4 * hour ? "vertical_scan:src=internal,net=servers,speed=slow,"
                        "ports=200-600"
                      : NULL,
      "distributed_scan",
      "beacon:period=45s-90s,jitter=0-5,missed=0-2",
      "beacon:period=4m-6m,jitter=10-20,missed=0-5",
      "beacon:period=10m-20m,jitter=0-10,proto=udp,bytes_in=100-400",
      "bulk_exfiltration",
      run >= 3 * hour ? "slow_exfiltration" : NULL,
      "inbound_flood:variant=syn",
      "outbound_flood:variant=udp",
  };
  char why[256];
  for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
    if (!mix[i])
      continue;
    nfh_status st = gen_inject_add(inj, mix[i], why, sizeof(why));
    if (st != NFH_OK)
      return st;
  }
  return NFH_OK;
}

/* -------------------------------------------------------------- events */

static uint64_t event_time(const act *a, uint64_t i) {
  switch (a->k) {
  case K_HSCAN:
  case K_VSCAN:
  case K_DSCAN: {
    double step = (double)a->dur_ms / (double)a->n_events;
    return a->at_ms + (uint64_t)(step * ((double)i + 0.5 * hash_unit(a->key,
                                                                    i)));
  }
  case K_BEACON: {
    double j = a->jitter * a->period_ms;
    double t = j + (double)i * a->period_ms +
               (2 * hash_unit(a->key, i) - 1) * j;
    return a->at_ms + (uint64_t)t;
  }
  case K_EXFIL:
  case K_SLOWEXFIL:
    return a->at_ms + i * 250;
  case K_C2SESSION: /* one session */
    return a->at_ms;
  case K_DNSTUNNEL: /* as fast as answers come, around the mean rate */
    return a->at_ms + (uint64_t)(((double)i + hash_unit(a->key, i)) * 1000.0 /
                                 a->pps);
  case K_FLOOD_IN:
  case K_FLOOD_OUT: {
    if (a->variant == V_HTTP) /* sessions one after the other */
      return a->at_ms + (uint64_t)(((double)i + hash_unit(a->key, i)) *
                                   1000.0 / a->pps);
    if (a->variant == V_SLOW) {
      /* Cycle after cycle, the sockets (re)connect over its first half. */
      uint64_t sockets = (uint64_t)a->conns * a->n_src;
      uint64_t cycle = i / sockets, k = i % sockets;
      return a->at_ms + (uint64_t)((double)cycle * a->period_ms +
                                   (double)k * a->period_ms / 2 /
                                       (double)sockets);
    }
    /* Sources join within the first few seconds. */
    uint64_t ramp = a->dur_ms / 10 < 5000 ? a->dur_ms / 10 : 5000;
    return a->at_ms + ramp * i / (a->n_events ? a->n_events : 1);
  }
  }
  return a->at_ms;
}

static nfh_status probe(const gen_world *w, act *a, const nfh_addr *src,
                        uint16_t sport, const nfh_addr *dst, uint16_t dport,
                        uint64_t t) {
  double o = gen_rng_uniform(&a->rng);
  gen_outcome out;
  if (a->proto == 17)
    out = o < a->p_open              ? GEN_UDP_OK
          : o < a->p_open + a->p_refused + a->p_unreach ? GEN_UDP_UNREACH
                                                        : GEN_UDP_NOREPLY;
  else
    out = o < a->p_open                              ? GEN_TCP_OPEN_PROBE
          : o < a->p_open + a->p_refused             ? GEN_TCP_REFUSED
          : o < a->p_open + a->p_refused + a->p_unreach ? GEN_TCP_UNREACH
                                                        : GEN_TCP_NOREPLY;
  gen_session s;
  gen_session_init(&s, src, sport, dst, dport, a->proto, out, t, a->label);
  s.rtt_ms = (uint16_t)gen_rng_range(&a->rng, 2, 80);
  switch (out) {
  case GEN_TCP_NOREPLY:
    /* Scanners mostly do not retransmit; some send one retry. */
    s.fwd_packets = gen_rng_chance(&a->rng, 0.2) ? 2 : 1;
    s.duration_ms = (s.fwd_packets - 1) * 1000;
    break;
  case GEN_TCP_OPEN_PROBE:
    s.duration_ms = s.rtt_ms + 1u;
    break;
  case GEN_UDP_OK:
    s.fwd_packets = s.rev_packets = 1;
    s.fwd_bytes = 60;
    s.rev_bytes = gen_rng_range(&a->rng, 60, 300);
    s.duration_ms = s.rtt_ms;
    break;
  case GEN_UDP_NOREPLY:
  case GEN_UDP_UNREACH:
    s.fwd_packets = 1;
    s.fwd_bytes = 60;
    break;
  case GEN_TCP_OK:
  case GEN_TCP_RESET:
  case GEN_TCP_REFUSED:
  case GEN_TCP_UNREACH:
  case GEN_TCP_SYNFLOOD:
  case GEN_ICMP_ECHO:
  case GEN_ICMP_NOREPLY:
    break;
  }
  return gen_world_add(w, &s, &a->rng);
}

static nfh_status emit(const gen_world *w, act *a, uint64_t i, uint64_t t) {
  const gen_net *net = w->net;
  switch (a->k) {
  case K_HSCAN: {
    nfh_addr dst = net_host(net, a->net,
                            a->tgt_first + (uint32_t)perm(a, i, a->n_tgt));
    return probe(w, a, &a->src, a->sport, &dst, a->port, t);
  }
  case K_DSCAN: {
    uint32_t k = (uint32_t)gen_rng_range(&a->rng, 0, a->n_src - 1);
    nfh_addr src = gen_net_external(net, GEN_EXT_ATTACKER, a->index + 1, k, 0);
    uint16_t sport = (uint16_t)(32768 + gen_hash64(a->key ^ k) % 30000);
    nfh_addr dst = net_host(net, a->net,
                            a->tgt_first + (uint32_t)perm(a, i, a->n_tgt));
    return probe(w, a, &src, sport, &dst, a->port, t);
  }
  case K_VSCAN: {
    uint16_t port = (uint16_t)(a->port_lo + perm(a, i, a->port_span));
    return probe(w, a, &a->src, a->sport, &a->dst, port, t);
  }
  case K_BEACON: {
    if (hash_unit(a->key ^ 0x4D495353ULL, i) < a->missed)
      return NFH_OK; /* a missed beat: the implant slept through it */
    gen_session s;
    uint16_t sport = (uint16_t)gen_rng_range(&a->rng, 49152, 65535);
    gen_session_init(&s, &a->src, sport, &a->dst, a->port, a->proto,
                     a->proto == 6 ? GEN_TCP_OK : GEN_UDP_OK, t, a->label);
    s.rtt_ms = (uint16_t)gen_rng_range(&a->rng, 20, 150);
    /* Sizes vary a little from beat to beat (task results, padding). */
    uint64_t out = a->bytes_out * gen_rng_range(&a->rng, 90, 110) / 100;
    uint64_t in = a->bytes_in * gen_rng_range(&a->rng, 90, 110) / 100;
    if (a->proto == 6) {
      s.duration_ms = gen_rng_range(&a->rng, 50, 800);
      s.fwd_packets = out / 500 + 3;
      s.fwd_bytes = out + s.fwd_packets * 52;
      s.rev_packets = in / 1200 + 2;
      s.rev_bytes = in + s.rev_packets * 52;
    } else {
      s.duration_ms = s.rtt_ms;
      s.fwd_packets = s.rev_packets = 1;
      s.fwd_bytes = out < 1400 ? out + 28 : 1428;
      s.rev_bytes = in < 1400 ? in + 28 : 1428;
    }
    return gen_world_add(w, &s, &a->rng);
  }
  case K_EXFIL:
  case K_SLOWEXFIL: {
    gen_session s;
    uint16_t sport = (uint16_t)gen_rng_range(&a->rng, 49152, 65535);
    gen_session_init(&s, &a->src, sport, &a->dst, a->port, 6, GEN_TCP_OK, t,
                     a->label);
    s.rtt_ms = (uint16_t)gen_rng_range(&a->rng, 20, 200);
    s.duration_ms = a->dur_ms > i * 250 ? a->dur_ms - i * 250 : 1000;
    uint64_t part = a->size / a->streams;
    uint64_t segs = part / 1448 + 1;
    s.fwd_packets = segs + 2;
    s.fwd_bytes = part + s.fwd_packets * 52;
    s.rev_packets = segs / 2 + 2;
    s.rev_bytes = s.rev_packets * 52;
    return gen_world_add(w, &s, &a->rng);
  }
  case K_C2SESSION: {
    gen_session s;
    gen_session_init(&s, &a->src, (uint16_t)gen_rng_range(&a->rng, 1024, 65535),
                     &a->dst, a->port, 6, GEN_TCP_OK, t, a->label);
    s.rtt_ms = (uint16_t)gen_rng_range(&a->rng, 20, 150);
    s.duration_ms = a->dur_ms;
    uint64_t minutes = a->dur_ms / 60000 + 1;
    s.fwd_packets = minutes * gen_rng_range(&a->rng, 2, 6);
    s.fwd_bytes = minutes * a->bytes_out;
    s.rev_packets = minutes * gen_rng_range(&a->rng, 2, 6);
    s.rev_bytes = minutes * a->bytes_in;
    return gen_world_add(w, &s, &a->rng);
  }
  case K_DNSTUNNEL: {
    gen_session s;
    uint16_t sport = (uint16_t)gen_rng_range(&a->rng, 1024, 65535);
    gen_session_init(&s, &a->src, sport, &a->dst, 53, 17, GEN_UDP_OK, t,
                     a->label);
    s.rtt_ms = (uint16_t)gen_rng_range(&a->rng, 20, 120);
    s.duration_ms = s.rtt_ms;
    s.fwd_packets = s.rev_packets = 1;
    /* Names vary in length with the data they carry. */
    s.fwd_bytes = a->bytes_out * gen_rng_range(&a->rng, 85, 115) / 100;
    s.rev_bytes = a->bytes_in * gen_rng_range(&a->rng, 70, 130) / 100;
    return gen_world_add(w, &s, &a->rng);
  }
  case K_FLOOD_IN:
  case K_FLOOD_OUT: {
    if (a->variant == V_SLOW) {
      nfh_addr src = a->k == K_FLOOD_IN
                         ? gen_net_external(net, GEN_EXT_ATTACKER,
                                            a->index + 1,
                                            (uint32_t)(i % a->n_src), 0)
                         : a->src;
      gen_session s;
      gen_session_init(&s, &src, (uint16_t)gen_rng_range(&a->rng, 1024, 65535),
                       &a->dst, a->port, 6, GEN_TCP_OK, t, a->label);
      s.rtt_ms = (uint16_t)gen_rng_range(&a->rng, 5, 120);
      /* Held until the timeout, a little before the socket's next. */
      s.duration_ms = (uint64_t)a->period_ms - gen_rng_range(&a->rng, 1000, 3000);
      /* A partial request, then a header line every 10 to 15 s; the
       * server acknowledges each and answers nothing. */
      uint64_t lines = s.duration_ms / gen_rng_range(&a->rng, 10000, 15000);
      s.fwd_packets = 3 + lines;
      s.fwd_bytes = s.fwd_packets * 52 + gen_rng_range(&a->rng, 150, 300) +
                    lines * gen_rng_range(&a->rng, 10, 40);
      s.rev_packets = 2 + lines;
      s.rev_bytes = s.rev_packets * 52;
      return gen_world_add(w, &s, &a->rng);
    }
    if (a->variant == V_HTTP) {
      nfh_addr src = gen_net_external(net, GEN_EXT_ATTACKER, a->index + 1,
                                      (uint32_t)(i % a->n_src), 0);
      gen_session s;
      gen_session_init(&s, &src, (uint16_t)gen_rng_range(&a->rng, 1024, 65535),
                       &a->dst, a->port, 6, GEN_TCP_OK, t, a->label);
      s.rtt_ms = (uint16_t)gen_rng_range(&a->rng, 5, 60);
      s.duration_ms = gen_rng_range(&a->rng, 50, 400);
      s.fwd_packets = 5;
      s.fwd_bytes = 5 * 52 + gen_rng_range(&a->rng, 300, 900);
      uint64_t page = gen_rng_range(&a->rng, 2000, 30000);
      s.rev_packets = page / 1400 + 4;
      s.rev_bytes = page + s.rev_packets * 52;
      return gen_world_add(w, &s, &a->rng);
    }
    uint32_t k = (uint32_t)(i / a->conns);
    nfh_addr src = a->k == K_FLOOD_IN
                       ? gen_net_external(net, GEN_EXT_ATTACKER, a->index + 1,
                                          k, 0)
                       : a->src;
    uint64_t ramp = event_time(a, a->n_events) - a->at_ms;
    uint64_t dur = a->dur_ms > ramp ? a->dur_ms - ramp : 1000;
    uint64_t pkts = (uint64_t)(a->pps * (double)dur / 1000.0 /
                               (double)a->n_events);
    if (pkts < 1)
      pkts = 1;
    gen_outcome out = a->variant == V_SYN   ? GEN_TCP_SYNFLOOD
                      : a->variant == V_UDP ? GEN_UDP_NOREPLY
                                            : GEN_ICMP_NOREPLY;
    uint16_t dport = a->port;
    if (a->variant == V_UDP && dport == 0)
      dport = (uint16_t)gen_rng_range(&a->rng, 1, 65535);
    gen_session s;
    gen_session_init(&s, &src, (uint16_t)gen_rng_range(&a->rng, 1024, 65535),
                     &a->dst, dport, a->proto, out, t, a->label);
    s.duration_ms = dur;
    s.fwd_packets = pkts;
    s.fwd_bytes = pkts * a->pkt_size;
    if (a->variant == V_SYN) {
      s.rev_packets = (uint64_t)((double)pkts * a->answered);
      s.rev_bytes = s.rev_packets * 60;
    }
    s.rtt_ms = 1;
    return gen_world_add(w, &s, &a->rng);
  }
  }
  return NFH_OK;
}

nfh_status gen_inject_slot(gen_inject *inj, uint64_t t0, uint64_t t1) {
  nfh_status st = NFH_OK;
  for (size_t k = 0; k < inj->n && st == NFH_OK; k++) {
    act *a = &inj->acts[k];
    while (a->next < a->n_events && st == NFH_OK) {
      uint64_t t = event_time(a, a->next);
      if (t >= t1)
        break;
      if (t < t0)
        t = t0; /* cannot happen with monotonic times; stay in the slot */
      st = emit(inj->w, a, a->next, t);
      a->next++;
    }
  }
  return st;
}
