/*
 * gen/background.c - the benign classes of the traffic model.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "background.h"

/* Hosts of the servers prefix. */
#define HOST_POLLER 10
#define HOST_BACKUP 20 /* .20, .21, ... */
#define HOST_RESOLVER 53 /* .53 and .54 */
#define HOST_NTP 100   /* .100, .101, ... */
#define HOST_APP 30    /* .30-.39: application servers, polled over HTTP */
#define N_APP 10
/* Hosts of the DMZ. */
#define DMZ_WEB 10
#define DMZ_BASTION 22
#define DMZ_MAIL 25
#define DMZ_VPN 30

/* Spaces of external addresses, one per pool. */
enum {
  SP_WEB = 1,
  SP_AUTH,
  SP_CLIENTS,
  SP_SAAS,
  SP_CDN,
  SP_CLOUD,
  SP_NTP,
  SP_BACKUP,
  SP_SSH,
  SP_IBR,
};

#define N_SAAS 3
#define N_CDN 8
#define N_CLOUD 3
#define N_SSH 3
#define N_CLIENTS 50000
#define IBR_SPACE (1u << 20)

static const double saas_period[N_SAAS] = {60, 120, 300};

enum {
  L_BROWSING,
  L_DNS,
  L_NTP,
  L_SAAS,
  L_CDN,
  L_CLOUD,
  L_BACKUP,
  L_MONITOR,
  L_PUBLIC,
  L_SSH,
  L_IBR,
  L_COUNT
};

struct gen_bg {
  const gen_world *w;
  gen_bg_params p;
  uint32_t label[L_COUNT];
  gen_rng rng;
  uint32_t n_monitor; /* poller targets */
};

void gen_bg_params_defaults(gen_bg_params *p) {
  memset(p, 0, sizeof(*p));
  p->browse_rate = 20;
  p->web_hosts = 20000;
  p->dns_miss = 0.3;
  p->auth_hosts = 5000;
  p->ntp_clients = 6;
  p->ntp_servers = 4;
  p->saas_share = 0.4;
  p->cdn_rate = 0.3;
  p->sync_rate = 0.2;
  p->backup_hosts = 2;
  p->backup_hour = 1.0;
  p->backup_size = (gen_range){5e9, 40e9};
  p->backup_rate = (gen_range){30e6, 100e6};
  p->monitored = 256;
  p->poll_interval = 300;
  p->public_rate = 2;
  p->admins = 4;
  p->ssh_rate = 0.3;
  p->ibr_rate = 20;
  p->weekend = 0.3;
}

nfh_status gen_bg_params_set(gen_bg_params *p, const char *text, char *why,
                             size_t len) {
  gen_kv kv;
  nfh_status st = gen_kv_parse(text, &kv);
  if (st != NFH_OK) {
    snprintf(why, len, "'%s': expected key=value", text);
    return st;
  }
  struct {
    const char *key;
    double *d;
    uint32_t *u;
    gen_range *r;
    gen_unit unit;
  } knobs[] = {
      {"browse_rate", &p->browse_rate, NULL, NULL, GEN_UNIT_PLAIN},
      {"web_hosts", NULL, &p->web_hosts, NULL, GEN_UNIT_SIZE},
      {"dns_miss", &p->dns_miss, NULL, NULL, GEN_UNIT_PLAIN},
      {"auth_hosts", NULL, &p->auth_hosts, NULL, GEN_UNIT_SIZE},
      {"ntp_clients", NULL, &p->ntp_clients, NULL, GEN_UNIT_PLAIN},
      {"ntp_servers", NULL, &p->ntp_servers, NULL, GEN_UNIT_PLAIN},
      {"saas_share", &p->saas_share, NULL, NULL, GEN_UNIT_PLAIN},
      {"cdn_rate", &p->cdn_rate, NULL, NULL, GEN_UNIT_PLAIN},
      {"sync_rate", &p->sync_rate, NULL, NULL, GEN_UNIT_PLAIN},
      {"backup_hosts", NULL, &p->backup_hosts, NULL, GEN_UNIT_PLAIN},
      {"backup_hour", &p->backup_hour, NULL, NULL, GEN_UNIT_PLAIN},
      {"backup_size", NULL, NULL, &p->backup_size, GEN_UNIT_SIZE},
      {"backup_rate", NULL, NULL, &p->backup_rate, GEN_UNIT_SIZE},
      {"monitored", NULL, &p->monitored, NULL, GEN_UNIT_PLAIN},
      {"poll_interval", &p->poll_interval, NULL, NULL, GEN_UNIT_TIME},
      {"public_rate", &p->public_rate, NULL, NULL, GEN_UNIT_PLAIN},
      {"admins", NULL, &p->admins, NULL, GEN_UNIT_PLAIN},
      {"ssh_rate", &p->ssh_rate, NULL, NULL, GEN_UNIT_PLAIN},
      {"ibr_rate", &p->ibr_rate, NULL, NULL, GEN_UNIT_PLAIN},
      {"weekend", &p->weekend, NULL, NULL, GEN_UNIT_PLAIN},
  };
  for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]) && st == NFH_OK;
       i++) {
    gen_range r = {0, 0};
    const char *v = gen_kv_get(&kv, knobs[i].key);
    if (!v)
      continue;
    if (knobs[i].r) {
      st = gen_kv_range(&kv, knobs[i].key, knobs[i].unit, knobs[i].r, why,
                        len);
      continue;
    }
    if (gen_range_parse(v, knobs[i].unit, &r) != NFH_OK || r.lo != r.hi) {
      snprintf(why, len, "%s=%s: expected one number", knobs[i].key, v);
      st = NFH_ESYNTAX;
      continue;
    }
    double val = knobs[i].unit == GEN_UNIT_TIME ? r.lo / 1000 : r.lo;
    if (knobs[i].d)
      *knobs[i].d = val;
    else
      *knobs[i].u = (uint32_t)val;
  }
  const char *unused = gen_kv_unused(&kv);
  if (st == NFH_OK && unused) {
    snprintf(why, len, "unknown background setting '%s'", unused);
    st = NFH_ESYNTAX;
  }
  gen_kv_free(&kv);
  return st;
}

/* The curve: (hour, activity) points, linear in between. */
static const double curve[][2] = {
    {0, 0.08},    {5, 0.05},  {7, 0.2},   {9, 0.9},  {11, 1.0},
    {12, 0.75},   {13.5, 0.95}, {16, 1.0}, {18, 0.55}, {20, 0.3},
    {22, 0.18},   {24, 0.08}};

static double local_hour(uint64_t ms, int *wday) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  if (wday)
    *wday = tm.tm_wday;
  return tm.tm_hour + tm.tm_min / 60.0 + tm.tm_sec / 3600.0;
}

double gen_diurnal(uint64_t ms, double weekend) {
  int wday;
  double h = local_hour(ms, &wday);
  double v = curve[0][1];
  for (size_t i = 1; i < sizeof(curve) / sizeof(curve[0]); i++) {
    if (h <= curve[i][0]) {
      double x0 = curve[i - 1][0], x1 = curve[i][0];
      double f = (h - x0) / (x1 - x0);
      v = curve[i - 1][1] + f * (curve[i][1] - curve[i - 1][1]);
      break;
    }
  }
  if (wday == 0 || wday == 6)
    v *= weekend;
  return v;
}

/* ----------------------------------------------------------- helpers */

/* A user's ephemeral port: Linux-like or Windows-like range, a trait. */
static uint16_t eport(gen_bg *bg, uint32_t user) {
  int windows = gen_hash64(bg->w->net->salt ^ 0x77ULL << 48 ^ user) % 3 != 0;
  return windows ? (uint16_t)gen_rng_range(&bg->rng, 49152, 65535)
                 : (uint16_t)gen_rng_range(&bg->rng, 32768, 60999);
}

static uint64_t when(gen_bg *bg, uint64_t t0, uint64_t t1) {
  return gen_rng_range(&bg->rng, t0, t1 - 1);
}

static uint64_t clip(double v, double lo, double hi) {
  if (v < lo)
    v = lo;
  if (v > hi)
    v = hi;
  return (uint64_t)v;
}

static nfh_addr resolver(const gen_bg *bg, uint32_t k) {
  return gen_net_server(bg->w->net, HOST_RESOLVER + k % 2);
}

/* TCP bulk transfer: data one way, ACKs (one per two segments) back. */
static void bulk(gen_session *s, uint64_t up, uint64_t down) {
  uint64_t dseg = down / 1448 + 1, useg = up / 1448 + 1;
  s->fwd_packets = useg + dseg / 2 + 2;
  s->fwd_bytes = up + (dseg / 2 + 2) * 52;
  s->rev_packets = dseg + useg / 2 + 2;
  s->rev_bytes = down + (useg / 2 + 2) * 52;
}

/* ----------------------------------------------------------- classes */

static nfh_status dns_lookup(gen_bg *bg, uint32_t user, const nfh_addr *client,
                             uint64_t t, uint16_t cport) {
  const gen_net *net = bg->w->net;
  gen_session s;
  nfh_addr res = resolver(bg, user);
  gen_session_init(&s, client, cport, &res, 53, 17, GEN_UDP_OK, t,
                   bg->label[L_DNS]);
  s.fwd_packets = 1;
  s.fwd_bytes = gen_rng_range(&bg->rng, 60, 90);
  s.rev_packets = 1;
  s.rev_bytes = gen_rng_range(&bg->rng, 90, 400);
  s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 1, 4);
  int miss = gen_rng_chance(&bg->rng, bg->p.dns_miss);
  if (miss)
    s.rtt_ms = (uint16_t)(s.rtt_ms + gen_rng_range(&bg->rng, 15, 120));
  s.duration_ms = s.rtt_ms;
  nfh_status st = gen_world_add(bg->w, &s, &bg->rng);
  if (st != NFH_OK || !miss)
    return st;
  /* Recursion: the resolver asks an authoritative server. */
  uint64_t k = gen_rng_zipf(&bg->rng, bg->p.auth_hosts, 0.9);
  nfh_addr auth = gen_net_external(net, GEN_EXT_POOL, SP_AUTH, k, 0);
  gen_session_init(&s, &res, (uint16_t)gen_rng_range(&bg->rng, 1024, 65535),
                   &auth, 53, 17, GEN_UDP_OK, t + 1, bg->label[L_DNS]);
  s.fwd_packets = 1;
  s.fwd_bytes = gen_rng_range(&bg->rng, 70, 110);
  s.rev_packets = 1;
  s.rev_bytes = gen_rng_range(&bg->rng, 100, 1200);
  s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 10, 100);
  s.duration_ms = s.rtt_ms;
  return gen_world_add(bg->w, &s, &bg->rng);
}

static nfh_status browse(gen_bg *bg, uint64_t t0, uint64_t t1, double d) {
  const gen_net *net = bg->w->net;
  double hours = (double)(t1 - t0) / 3600000.0;
  uint64_t visits = gen_rng_poisson(&bg->rng, net->n_users *
                                                  bg->p.browse_rate * d *
                                                  hours);
  nfh_status st = NFH_OK;
  for (uint64_t v = 0; v < visits && st == NFH_OK; v++) {
    uint32_t user = (uint32_t)gen_rng_range(&bg->rng, 0, net->n_users - 1);
    nfh_addr client4 = gen_net_user(net, user);
    uint64_t t = when(bg, t0, t1);
    int lookups = (int)gen_rng_range(&bg->rng, 1, 3);
    for (int q = 0; q < lookups && st == NFH_OK; q++)
      st = dns_lookup(bg, user, &client4, t + (uint64_t)q * 3,
                      eport(bg, user));
    t += 5;
    int dests = 1 + (int)gen_rng_zipf(&bg->rng, 3, 1.5);
    for (int k = 0; k < dests && st == NFH_OK; k++) {
      uint64_t idx = gen_rng_zipf(&bg->rng, bg->p.web_hosts, 1.0);
      int v6 = gen_net_dual_stack(net, user) &&
               gen_hash64(net->salt ^ idx ^ 0x6600) % 100 < 35 &&
               gen_rng_chance(&bg->rng, 0.8);
      nfh_addr client = v6 ? gen_net_user6(net, user) : client4;
      nfh_addr server = gen_net_external(net, GEN_EXT_POOL, SP_WEB, idx, v6);
      double u = gen_rng_uniform(&bg->rng);
      uint16_t port = u < 0.85 ? 443 : u < 0.97 ? 80 : u < 0.985 ? 8443 : 8080;
      int conns = (int)gen_rng_range(&bg->rng, 1, 3);
      for (int c = 0; c < conns && st == NFH_OK; c++) {
        double o = gen_rng_uniform(&bg->rng);
        gen_outcome out = o < 0.97 ? GEN_TCP_OK
                          : o < 0.99 ? GEN_TCP_RESET
                                     : GEN_TCP_NOREPLY;
        gen_session s;
        gen_session_init(&s, &client, eport(bg, user), &server, port, 6, out,
                         t + (uint64_t)(k * 40 + c * 15),
                         bg->label[L_BROWSING]);
        s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 5, 150);
        s.duration_ms =
            clip(gen_rng_lognormal(&bg->rng, 1500, 1.6), 30, 1200000);
        if (out == GEN_TCP_NOREPLY) {
          s.fwd_packets = gen_rng_range(&bg->rng, 1, 3);
          s.duration_ms = (s.fwd_packets - 1) * 1000;
        } else {
          uint64_t up = clip(gen_rng_lognormal(&bg->rng, 1200, 1.0), 200,
                             5e7);
          uint64_t down = clip(gen_rng_pareto(&bg->rng, 3000, 1.15), 300,
                               1.5e9);
          bulk(&s, up, down);
        }
        st = gen_world_add(bg->w, &s, &bg->rng);
      }
    }
  }
  return st;
}

static nfh_status ntp(gen_bg *bg, uint64_t t0, uint64_t t1) {
  const gen_net *net = bg->w->net;
  nfh_status st = NFH_OK;
  for (uint32_t c = 0; c < bg->p.ntp_clients && st == NFH_OK; c++) {
    nfh_addr client = gen_net_server(net, HOST_NTP + c);
    for (uint32_t k = 0; k < bg->p.ntp_servers && st == NFH_OK; k++) {
      uint64_t h = gen_hash64(net->salt ^ (uint64_t)c << 20 ^ k ^ 0x4E54);
      uint64_t period = 64000ULL << (h % 4);
      uint64_t phase = (h >> 8) % period;
      nfh_addr server = gen_net_external(net, GEN_EXT_SERVICE, SP_NTP, k, 0);
      uint64_t first = t0 - (t0 - phase) % period;
      if (first < t0)
        first += period;
      for (uint64_t t = first; t < t1 && st == NFH_OK; t += period) {
        gen_session s;
        uint64_t at = t + gen_rng_range(&bg->rng, 0, 200);
        if (at >= t1)
          at = t1 - 1;
        gen_session_init(&s, &client, 123, &server, 123, 17, GEN_UDP_OK, at,
                         bg->label[L_NTP]);
        s.fwd_packets = s.rev_packets = 1;
        s.fwd_bytes = s.rev_bytes = 76;
        s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 5, 40);
        s.duration_ms = s.rtt_ms;
        st = gen_world_add(bg->w, &s, &bg->rng);
      }
    }
  }
  return st;
}

/* Whether a user's machine is on at a time: office hours drawn per user,
 * a few desktops always on; weekends only those. */
static int machine_on(const gen_bg *bg, uint32_t user, double hour, int wday) {
  uint64_t h = gen_hash64(bg->w->net->salt ^ 0x0AULL << 40 ^ user);
  if (h % 100 < 15)
    return 1;
  if (wday == 0 || wday == 6)
    return 0;
  double on = 7 + (double)(h >> 8 & 0xFF) / 255.0 * 3;
  double off = 16 + (double)(h >> 16 & 0xFF) / 255.0 * 4;
  return hour >= on && hour < off;
}

static nfh_status saas(gen_bg *bg, uint64_t t0, uint64_t t1) {
  const gen_net *net = bg->w->net;
  int wday;
  double hour = local_hour(t0, &wday);
  nfh_status st = NFH_OK;
  for (uint32_t u = 0; u < net->n_users && st == NFH_OK; u++) {
    if (!machine_on(bg, u, hour, wday))
      continue;
    for (int e = 0; e < N_SAAS && st == NFH_OK; e++) {
      uint64_t h = gen_hash64(net->salt ^ (uint64_t)u << 8 ^ (uint64_t)e ^
                              0x5AA5ULL << 40);
      if ((double)(h % 10000) >= bg->p.saas_share * 10000)
        continue;
      uint64_t period = (uint64_t)(saas_period[e] * 1000);
      uint64_t phase = (h >> 16) % period;
      uint64_t first = t0 - (t0 - phase) % period;
      if (first < t0)
        first += period;
      nfh_addr client = gen_net_user(net, u);
      nfh_addr server = gen_net_external(net, GEN_EXT_SERVICE, SP_SAAS,
                                         (uint64_t)e, 0);
      for (uint64_t t = first; t < t1 && st == NFH_OK; t += period) {
        /* A little jitter: timers drift, networks queue. */
        uint64_t j = gen_rng_range(&bg->rng, 0, period / 50);
        uint64_t at = t + j < t1 ? t + j : t1 - 1;
        gen_session s;
        gen_session_init(&s, &client, eport(bg, u), &server, 443, 6,
                         GEN_TCP_OK, at, bg->label[L_SAAS]);
        s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 10, 60);
        s.duration_ms = gen_rng_range(&bg->rng, 100, 400);
        s.fwd_packets = gen_rng_range(&bg->rng, 6, 10);
        s.fwd_bytes = gen_rng_range(&bg->rng, 600, 1500);
        s.rev_packets = gen_rng_range(&bg->rng, 5, 9);
        s.rev_bytes = gen_rng_range(&bg->rng, 500, 4000);
        st = gen_world_add(bg->w, &s, &bg->rng);
      }
    }
  }
  return st;
}

/* Big transfers to or from a few popular endpoints. */
static nfh_status transfers(gen_bg *bg, uint64_t t0, uint64_t t1, double d,
                            int upload) {
  const gen_net *net = bg->w->net;
  double rate = upload ? bg->p.sync_rate : bg->p.cdn_rate;
  double hours = (double)(t1 - t0) / 3600000.0;
  uint64_t n = gen_rng_poisson(&bg->rng, net->n_users * rate * d * hours);
  nfh_status st = NFH_OK;
  for (uint64_t i = 0; i < n && st == NFH_OK; i++) {
    uint32_t user = (uint32_t)gen_rng_range(&bg->rng, 0, net->n_users - 1);
    uint64_t e = gen_rng_range(&bg->rng, 0, upload ? N_CLOUD - 1 : N_CDN - 1);
    int v6 = !upload && gen_net_dual_stack(net, user) && e % 2 == 0;
    nfh_addr client = v6 ? gen_net_user6(net, user) : gen_net_user(net, user);
    nfh_addr server = gen_net_external(net, GEN_EXT_SERVICE,
                                       upload ? SP_CLOUD : SP_CDN, e, v6);
    double size = upload ? clip(gen_rng_lognormal(&bg->rng, 2e6, 1.8), 1e4,
                                2e9)
                         : clip(gen_rng_pareto(&bg->rng, 5e6, 1.1), 5e6, 4e9);
    double bps = upload ? gen_rng_range(&bg->rng, 1, 10) * 1e6
                        : gen_rng_range(&bg->rng, 2, 40) * 1e6;
    gen_session s;
    gen_session_init(&s, &client, eport(bg, user), &server, 443, 6,
                     GEN_TCP_OK, when(bg, t0, t1),
                     bg->label[upload ? L_CLOUD : L_CDN]);
    s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 5, 40);
    s.duration_ms = clip(size / bps * 1000, 500, 6 * 3600e3);
    if (upload)
      bulk(&s, (uint64_t)size, 4000);
    else
      bulk(&s, 1500, (uint64_t)size);
    st = gen_world_add(bg->w, &s, &bg->rng);
  }
  return st;
}

static nfh_status backup(gen_bg *bg, uint64_t t0, uint64_t t1) {
  const gen_net *net = bg->w->net;
  /* Tonight's start in local time, for the slot's local date. */
  time_t t = (time_t)(t0 / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  tm.tm_hour = (int)bg->p.backup_hour;
  tm.tm_min = (int)((bg->p.backup_hour - tm.tm_hour) * 60);
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  time_t start = mktime(&tm);
  if (start == (time_t)-1)
    return NFH_OK;
  nfh_addr dest = gen_net_external(net, GEN_EXT_SERVICE, SP_BACKUP, 0, 0);
  nfh_status st = NFH_OK;
  for (uint32_t h = 0; h < bg->p.backup_hosts && st == NFH_OK; h++) {
    /* A fixed offset per host plus a daily jitter, both from hashes
     * so the start does not depend on which slot looks first. */
    uint64_t day = (uint64_t)start / 86400;
    uint64_t hh = gen_hash64(net->salt ^ 0xBAC0ULL << 32 ^ h);
    uint64_t off = (hh % 1200 + gen_hash64(hh ^ day) % 300) * 1000;
    uint64_t at = (uint64_t)start * 1000 + off;
    if (at < t0 || at >= t1)
      continue;
    gen_rng night;
    gen_rng_seed(&night, bg->w->seed ^ hh, day);
    double size = gen_range_draw(&bg->p.backup_size, &night);
    int streams = (int)gen_rng_range(&night, 1, 4);
    nfh_addr src = gen_net_server(net, HOST_BACKUP + h);
    for (int k = 0; k < streams && st == NFH_OK; k++) {
      double part = size / streams;
      double bps = gen_range_draw(&bg->p.backup_rate, &night);
      gen_session s;
      gen_session_init(&s, &src, (uint16_t)gen_rng_range(&night, 40000, 60000),
                       &dest, 22, 6, GEN_TCP_OK, at + (uint64_t)k * 250,
                       bg->label[L_BACKUP]);
      s.rtt_ms = (uint16_t)gen_rng_range(&night, 8, 30);
      s.duration_ms = clip(part / bps * 1000, 1000, 12 * 3600e3);
      bulk(&s, (uint64_t)part, 20000);
      st = gen_world_add(bg->w, &s, &night);
    }
  }
  return st;
}

/* Poller target i: monitored users first, then servers, then the DMZ. */
static nfh_addr monitor_target(const gen_bg *bg, uint32_t i, int *kind) {
  const gen_net *net = bg->w->net;
  uint32_t users = bg->p.monitored < net->n_users ? bg->p.monitored
                                                  : net->n_users;
  static const uint32_t servers[] = {HOST_RESOLVER, HOST_RESOLVER + 1};
  static const uint32_t dmz[] = {DMZ_WEB, DMZ_BASTION, DMZ_MAIL, DMZ_VPN};
  *kind = 0;
  if (i < users)
    return gen_net_user(net, i);
  i -= users;
  if (i < 2)
    return gen_net_server(net, servers[i]);
  i -= 2;
  if (i < N_APP) {
    *kind = 1; /* application servers also get an HTTP check */
    return gen_net_server(net, HOST_APP + i);
  }
  i -= N_APP;
  if (i < bg->p.backup_hosts)
    return gen_net_server(net, HOST_BACKUP + i);
  i -= bg->p.backup_hosts;
  if (i < bg->p.ntp_clients)
    return gen_net_server(net, HOST_NTP + i);
  i -= bg->p.ntp_clients;
  return gen_net_dmz(net, dmz[i % 4]);
}

static nfh_status monitoring(gen_bg *bg, uint64_t t0, uint64_t t1) {
  const gen_net *net = bg->w->net;
  nfh_addr poller = gen_net_server(net, HOST_POLLER);
  uint64_t period = (uint64_t)(bg->p.poll_interval * 1000);
  if (period < 1000)
    period = 1000;
  nfh_status st = NFH_OK;
  for (uint32_t i = 0; i < bg->n_monitor && st == NFH_OK; i++) {
    int kind;
    nfh_addr target = monitor_target(bg, i, &kind);
    uint64_t phase = period * i / bg->n_monitor;
    uint64_t first = t0 - (t0 - phase) % period;
    if (first < t0)
      first += period;
    for (uint64_t t = first; t < t1 && st == NFH_OK; t += period) {
      gen_session s;
      gen_session_init(&s, &poller, 0, &target, 0, 1, GEN_ICMP_ECHO, t,
                       bg->label[L_MONITOR]);
      s.fwd_packets = s.rev_packets = 1;
      s.fwd_bytes = s.rev_bytes = 84;
      s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 1, 3);
      s.duration_ms = 0;
      st = gen_world_add(bg->w, &s, &bg->rng);
      if (st != NFH_OK)
        break;
      gen_session_init(&s, &poller, (uint16_t)(40000 + i % 20000), &target,
                       161, 17, GEN_UDP_OK, t + 50, bg->label[L_MONITOR]);
      s.fwd_packets = s.rev_packets = gen_rng_range(&bg->rng, 1, 4);
      s.fwd_bytes = s.fwd_packets * gen_rng_range(&bg->rng, 80, 120);
      s.rev_bytes = s.rev_packets * gen_rng_range(&bg->rng, 150, 600);
      s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 1, 10);
      s.duration_ms = s.fwd_packets * 20;
      st = gen_world_add(bg->w, &s, &bg->rng);
      if (st != NFH_OK || kind != 1)
        continue;
      gen_session_init(&s, &poller,
                       (uint16_t)gen_rng_range(&bg->rng, 32768, 60999),
                       &target, 80, 6, GEN_TCP_OK, t + 100,
                       bg->label[L_MONITOR]);
      s.rtt_ms = 1;
      s.duration_ms = gen_rng_range(&bg->rng, 5, 60);
      s.fwd_packets = 5;
      s.fwd_bytes = 420;
      s.rev_packets = 5;
      s.rev_bytes = gen_rng_range(&bg->rng, 600, 3000);
      st = gen_world_add(bg->w, &s, &bg->rng);
    }
  }
  return st;
}

static nfh_status public_web(gen_bg *bg, uint64_t t0, uint64_t t1) {
  const gen_net *net = bg->w->net;
  /* Visitors from elsewhere keep other hours: the curve two hours later,
   * weekends busier than the office. */
  double d = gen_diurnal(t0 + 7200000, 0.8);
  double secs = (double)(t1 - t0) / 1000.0;
  uint64_t n = gen_rng_poisson(&bg->rng, bg->p.public_rate * d * secs);
  nfh_addr web4 = gen_net_dmz(net, DMZ_WEB), web6 = gen_net_dmz6(net, DMZ_WEB);
  nfh_status st = NFH_OK;
  for (uint64_t i = 0; i < n && st == NFH_OK; i++) {
    int v6 = gen_rng_chance(&bg->rng, 0.1);
    uint64_t c = gen_rng_zipf(&bg->rng, N_CLIENTS, 0.8);
    nfh_addr client = gen_net_external(net, GEN_EXT_POOL, SP_CLIENTS, c, v6);
    uint16_t port = gen_rng_chance(&bg->rng, 0.9) ? 443 : 80;
    gen_session s;
    gen_session_init(&s, &client,
                     (uint16_t)gen_rng_range(&bg->rng, 1024, 65535),
                     v6 ? &web6 : &web4, port, 6, GEN_TCP_OK,
                     when(bg, t0, t1), bg->label[L_PUBLIC]);
    s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 10, 250);
    s.duration_ms = clip(gen_rng_lognormal(&bg->rng, 800, 1.2), 50, 600000);
    bulk(&s, clip(gen_rng_lognormal(&bg->rng, 900, 0.8), 200, 1e6),
         clip(gen_rng_pareto(&bg->rng, 8000, 1.2), 1000, 5e7));
    st = gen_world_add(bg->w, &s, &bg->rng);
  }
  return st;
}

static nfh_status ssh(gen_bg *bg, uint64_t t0, uint64_t t1, double d) {
  const gen_net *net = bg->w->net;
  uint32_t admins = bg->p.admins < net->n_users ? bg->p.admins : net->n_users;
  double hours = (double)(t1 - t0) / 3600000.0;
  uint64_t n = gen_rng_poisson(&bg->rng, admins * bg->p.ssh_rate * d * hours);
  nfh_status st = NFH_OK;
  for (uint64_t i = 0; i < n && st == NFH_OK; i++) {
    uint32_t a = (uint32_t)gen_rng_range(&bg->rng, 0, admins - 1);
    nfh_addr client = gen_net_user(net, a);
    nfh_addr server = gen_net_external(
        net, GEN_EXT_SERVICE, SP_SSH, gen_rng_range(&bg->rng, 0, N_SSH - 1),
        0);
    gen_session s;
    gen_session_init(&s, &client, eport(bg, a), &server, 22, 6, GEN_TCP_OK,
                     when(bg, t0, t1), bg->label[L_SSH]);
    s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 10, 80);
    s.duration_ms = clip(gen_rng_lognormal(&bg->rng, 20 * 60e3, 0.8), 60e3,
                         8 * 3600e3);
    double minutes = (double)s.duration_ms / 60000.0;
    s.fwd_packets = (uint64_t)(minutes * gen_rng_range(&bg->rng, 40, 200));
    s.fwd_bytes = s.fwd_packets * gen_rng_range(&bg->rng, 70, 110);
    s.rev_packets = (uint64_t)(minutes * gen_rng_range(&bg->rng, 40, 300));
    s.rev_bytes = s.rev_packets * gen_rng_range(&bg->rng, 100, 900);
    s.idle_mean_ms = 90000;
    st = gen_world_add(bg->w, &s, &bg->rng);
  }
  return st;
}

static nfh_status ibr(gen_bg *bg, uint64_t t0, uint64_t t1) {
  static const uint16_t ports[] = {23,   22,   80,   443,  445, 3389, 8080,
                                   5060, 1433, 3306, 6379, 8443, 21,  25,
                                   53,   123,  161,  5900, 7547, 37215};
  const gen_net *net = bg->w->net;
  double minutes = (double)(t1 - t0) / 60000.0;
  uint64_t n = gen_rng_poisson(&bg->rng, bg->p.ibr_rate * minutes);
  nfh_status st = NFH_OK;
  for (uint64_t i = 0; i < n && st == NFH_OK; i++) {
    nfh_addr src = gen_net_external(
        net, GEN_EXT_IBR, SP_IBR, gen_rng_range(&bg->rng, 0, IBR_SPACE - 1),
        0);
    uint32_t host = (uint32_t)gen_rng_range(&bg->rng, 1, 254);
    nfh_addr dst = gen_net_dmz(net, host);
    uint16_t port = gen_rng_chance(&bg->rng, 0.8)
                        ? ports[gen_rng_range(&bg->rng, 0,
                                              sizeof(ports) / sizeof(ports[0]) -
                                                  1)]
                        : (uint16_t)gen_rng_range(&bg->rng, 1, 65535);
    /* The web server's own ports belong to its visitors (and to the
     * benign_public_web label); probes there are counted as visits in
     * reality, so background radiation takes the next port. */
    if (host == DMZ_WEB && (port == 80 || port == 443))
      port = 8080;
    int udp = port == 53 || port == 123 || port == 161 || port == 5060;
    int live = host == DMZ_WEB || host == DMZ_BASTION || host == DMZ_MAIL ||
               host == DMZ_VPN;
    double o = gen_rng_uniform(&bg->rng);
    gen_outcome out;
    if (udp)
      out = live && o < 0.3 ? GEN_UDP_UNREACH : GEN_UDP_NOREPLY;
    else
      out = live && o < 0.6 ? GEN_TCP_REFUSED
            : o < 0.05      ? GEN_TCP_UNREACH
                            : GEN_TCP_NOREPLY;
    gen_session s;
    gen_session_init(&s, &src, (uint16_t)gen_rng_range(&bg->rng, 1024, 65535),
                     &dst, port, udp ? 17 : 6, out, when(bg, t0, t1),
                     bg->label[L_IBR]);
    s.fwd_packets = 1;
    s.fwd_bytes = udp ? gen_rng_range(&bg->rng, 40, 120) : 0;
    s.rtt_ms = (uint16_t)gen_rng_range(&bg->rng, 20, 200);
    st = gen_world_add(bg->w, &s, &bg->rng);
  }
  return st;
}

/* ------------------------------------------------------------- labels */

static nfh_status add_label(gen_bg *bg, int which, const char *kind,
                            const char *traps) {
  return gen_labels_add(bg->w->labels, kind, kind, 0, NULL, traps,
                        &bg->label[which]);
}

static nfh_status make_labels(gen_bg *bg) {
  gen_labels *l = bg->w->labels;
  const gen_net *net = bg->w->net;
  char buf[64];
  nfh_status st = NFH_OK;
  static const struct {
    int which;
    const char *kind, *traps;
  } defs[] = {
      {L_BROWSING, "benign_browsing", "exfiltration,volumetric"},
      {L_DNS, "benign_dns", "port_scan,beaconing"},
      {L_NTP, "benign_ntp", "beaconing"},
      {L_SAAS, "benign_saas", "beaconing"},
      {L_CDN, "benign_cdn", "volumetric"},
      {L_CLOUD, "benign_cloudsync", "exfiltration"},
      {L_BACKUP, "benign_backup", "exfiltration,volumetric"},
      {L_MONITOR, "benign_monitoring", "port_scan,beaconing"},
      {L_PUBLIC, "benign_public_web", "volumetric,port_scan"},
      {L_SSH, "benign_ssh", "beaconing,exfiltration"},
      {L_IBR, "benign_ibr", "port_scan"},
  };
  for (size_t i = 0; i < L_COUNT && st == NFH_OK; i++)
    st = add_label(bg, defs[i].which, defs[i].kind, defs[i].traps);
  if (st != NFH_OK)
    return st;
  uint32_t id;
  nfh_addr a;

  id = bg->label[L_BROWSING];
  gen_labels_list_add(l, id, "src", gen_prefix_format(&net->users, buf,
                                                      sizeof(buf)));
  gen_labels_list_add(l, id, "src", gen_prefix_format(&net->v6, buf,
                                                      sizeof(buf)));
  gen_labels_int_add(l, id, "protos", 6);
  gen_labels_param_real(l, id, "browse_rate", bg->p.browse_rate);
  gen_labels_param_int(l, id, "web_hosts", bg->p.web_hosts);

  id = bg->label[L_DNS];
  for (uint32_t k = 0; k < 2; k++) {
    a = resolver(bg, k);
    gen_labels_list_addr(l, id, "dst", &a);
    gen_labels_list_addr(l, id, "match.hosts", &a);
  }
  gen_labels_list_add(l, id, "src", gen_prefix_format(&net->users, buf,
                                                      sizeof(buf)));
  gen_labels_int_add(l, id, "dst_ports", 53);
  gen_labels_int_add(l, id, "protos", 17);
  gen_labels_int_add(l, id, "match.protos", 17);
  gen_labels_int_add(l, id, "match.ports", 53);
  gen_labels_param_real(l, id, "cache_miss", bg->p.dns_miss);
  gen_labels_param_int(l, id, "auth_hosts", bg->p.auth_hosts);

  id = bg->label[L_NTP];
  for (uint32_t c = 0; c < bg->p.ntp_clients; c++) {
    a = gen_net_server(net, HOST_NTP + c);
    gen_labels_list_addr(l, id, "src", &a);
  }
  for (uint32_t k = 0; k < bg->p.ntp_servers; k++) {
    a = gen_net_external(net, GEN_EXT_SERVICE, SP_NTP, k, 0);
    gen_labels_list_addr(l, id, "dst", &a);
    gen_labels_list_addr(l, id, "match.hosts", &a);
  }
  gen_labels_int_add(l, id, "dst_ports", 123);
  gen_labels_int_add(l, id, "protos", 17);
  gen_labels_int_add(l, id, "match.protos", 17);
  gen_labels_param_str(l, id, "periods", "64s, 128s, 256s or 512s per pair");

  id = bg->label[L_SAAS];
  gen_labels_list_add(l, id, "src", gen_prefix_format(&net->users, buf,
                                                      sizeof(buf)));
  for (int e = 0; e < N_SAAS; e++) {
    a = gen_net_external(net, GEN_EXT_SERVICE, SP_SAAS, (uint64_t)e, 0);
    gen_labels_list_addr(l, id, "dst", &a);
    gen_labels_list_addr(l, id, "match.hosts", &a);
  }
  gen_labels_int_add(l, id, "dst_ports", 443);
  gen_labels_int_add(l, id, "protos", 6);
  gen_labels_int_add(l, id, "match.protos", 6);
  gen_labels_param_real(l, id, "share", bg->p.saas_share);
  gen_labels_param_str(l, id, "periods", "60s, 120s, 300s");

  for (int up = 0; up < 2; up++) {
    id = bg->label[up ? L_CLOUD : L_CDN];
    gen_labels_list_add(l, id, "src", gen_prefix_format(&net->users, buf,
                                                        sizeof(buf)));
    int n = up ? N_CLOUD : N_CDN;
    for (int e = 0; e < n; e++) {
      for (int v6 = 0; v6 < 2; v6++) {
        if (v6 && (up || e % 2))
          continue;
        a = gen_net_external(net, GEN_EXT_SERVICE, up ? SP_CLOUD : SP_CDN,
                             (uint64_t)e, v6);
        gen_labels_list_addr(l, id, "dst", &a);
        gen_labels_list_addr(l, id, "match.hosts", &a);
      }
    }
    gen_labels_int_add(l, id, "dst_ports", 443);
    gen_labels_int_add(l, id, "protos", 6);
    gen_labels_int_add(l, id, "match.protos", 6);
    gen_labels_param_real(l, id, "per_user_hour", up ? bg->p.sync_rate
                                                     : bg->p.cdn_rate);
  }

  id = bg->label[L_BACKUP];
  a = gen_net_external(net, GEN_EXT_SERVICE, SP_BACKUP, 0, 0);
  gen_labels_list_addr(l, id, "dst", &a);
  gen_labels_list_addr(l, id, "match.hosts", &a);
  for (uint32_t h = 0; h < bg->p.backup_hosts; h++) {
    a = gen_net_server(net, HOST_BACKUP + h);
    gen_labels_list_addr(l, id, "src", &a);
  }
  gen_labels_int_add(l, id, "dst_ports", 22);
  gen_labels_int_add(l, id, "protos", 6);
  gen_labels_int_add(l, id, "match.protos", 6);
  gen_labels_param_real(l, id, "hour", bg->p.backup_hour);
  gen_labels_param_real(l, id, "size_min", bg->p.backup_size.lo);
  gen_labels_param_real(l, id, "size_max", bg->p.backup_size.hi);

  id = bg->label[L_MONITOR];
  a = gen_net_server(net, HOST_POLLER);
  gen_labels_list_addr(l, id, "src", &a);
  gen_labels_list_addr(l, id, "match.hosts", &a);
  gen_labels_list_add(l, id, "dst", gen_prefix_format(&net->users, buf,
                                                      sizeof(buf)));
  gen_labels_list_add(l, id, "dst", gen_prefix_format(&net->servers, buf,
                                                      sizeof(buf)));
  gen_labels_list_add(l, id, "dst", gen_prefix_format(&net->dmz, buf,
                                                      sizeof(buf)));
  gen_labels_int_add(l, id, "dst_ports", 161);
  gen_labels_int_add(l, id, "dst_ports", 80);
  gen_labels_int_add(l, id, "protos", 1);
  gen_labels_int_add(l, id, "protos", 17);
  gen_labels_int_add(l, id, "protos", 6);
  gen_labels_int_add(l, id, "match.protos", 1);
  gen_labels_int_add(l, id, "match.protos", 17);
  gen_labels_int_add(l, id, "match.protos", 6);
  gen_labels_param_int(l, id, "targets", bg->n_monitor);
  gen_labels_param_real(l, id, "interval_s", bg->p.poll_interval);

  id = bg->label[L_PUBLIC];
  a = gen_net_dmz(net, DMZ_WEB);
  gen_labels_list_addr(l, id, "dst", &a);
  gen_labels_list_addr(l, id, "match.hosts", &a);
  a = gen_net_dmz6(net, DMZ_WEB);
  gen_labels_list_addr(l, id, "dst", &a);
  gen_labels_list_addr(l, id, "match.hosts", &a);
  gen_labels_int_add(l, id, "dst_ports", 443);
  gen_labels_int_add(l, id, "dst_ports", 80);
  gen_labels_int_add(l, id, "protos", 6);
  gen_labels_int_add(l, id, "match.protos", 6);
  gen_labels_int_add(l, id, "match.ports", 443);
  gen_labels_int_add(l, id, "match.ports", 80);
  gen_labels_param_real(l, id, "peak_per_s", bg->p.public_rate);

  id = bg->label[L_SSH];
  for (uint32_t k = 0; k < bg->p.admins && k < net->n_users; k++) {
    a = gen_net_user(net, k);
    gen_labels_list_addr(l, id, "src", &a);
  }
  for (int k = 0; k < N_SSH; k++) {
    a = gen_net_external(net, GEN_EXT_SERVICE, SP_SSH, (uint64_t)k, 0);
    gen_labels_list_addr(l, id, "dst", &a);
    gen_labels_list_addr(l, id, "match.hosts", &a);
  }
  gen_labels_int_add(l, id, "dst_ports", 22);
  gen_labels_int_add(l, id, "protos", 6);
  gen_labels_int_add(l, id, "match.protos", 6);
  gen_labels_param_real(l, id, "per_admin_hour", bg->p.ssh_rate);

  id = bg->label[L_IBR];
  gen_labels_list_add(l, id, "src", "184.0.0.0/5");
  gen_labels_list_add(l, id, "match.hosts", "184.0.0.0/5");
  gen_labels_list_add(l, id, "dst", gen_prefix_format(&net->dmz, buf,
                                                      sizeof(buf)));
  gen_labels_int_add(l, id, "protos", 6);
  gen_labels_int_add(l, id, "protos", 17);
  gen_labels_int_add(l, id, "protos", 1);
  gen_labels_int_add(l, id, "match.protos", 6);
  gen_labels_int_add(l, id, "match.protos", 17);
  gen_labels_int_add(l, id, "match.protos", 1);
  gen_labels_param_real(l, id, "per_minute", bg->p.ibr_rate);
  return NFH_OK;
}

nfh_status gen_bg_create(const gen_world *w, const gen_bg_params *p,
                         gen_bg **out) {
  gen_bg *bg = calloc(1, sizeof(*bg));
  if (!bg)
    return NFH_ENOMEM;
  bg->w = w;
  bg->p = *p;
  if (bg->p.web_hosts == 0)
    bg->p.web_hosts = 1;
  if (bg->p.auth_hosts == 0)
    bg->p.auth_hosts = 1;
  if (bg->p.ntp_clients > 100)
    bg->p.ntp_clients = 100;
  if (bg->p.backup_hosts > 9)
    bg->p.backup_hosts = 9;
  gen_rng_seed(&bg->rng, w->seed, 0xB6ULL);
  uint32_t users = p->monitored < w->net->n_users ? p->monitored
                                                  : w->net->n_users;
  bg->n_monitor = users + 2 + N_APP + bg->p.backup_hosts + bg->p.ntp_clients +
                  4;
  if (p->monitored == 0)
    bg->n_monitor = 0;
  nfh_status st = make_labels(bg);
  if (st != NFH_OK) {
    free(bg);
    return st;
  }
  *out = bg;
  return NFH_OK;
}

void gen_bg_destroy(gen_bg *bg) { free(bg); }

nfh_status gen_bg_slot(gen_bg *bg, uint64_t t0, uint64_t t1) {
  double d = gen_diurnal(t0 + (t1 - t0) / 2, bg->p.weekend);
  nfh_status st = NFH_OK;
  if (bg->p.browse_rate > 0)
    st = browse(bg, t0, t1, d);
  if (st == NFH_OK && bg->p.ntp_clients && bg->p.ntp_servers)
    st = ntp(bg, t0, t1);
  if (st == NFH_OK && bg->p.saas_share > 0)
    st = saas(bg, t0, t1);
  if (st == NFH_OK && bg->p.cdn_rate > 0)
    st = transfers(bg, t0, t1, d, 0);
  if (st == NFH_OK && bg->p.sync_rate > 0)
    st = transfers(bg, t0, t1, d, 1);
  if (st == NFH_OK && bg->p.backup_hosts)
    st = backup(bg, t0, t1);
  if (st == NFH_OK && bg->n_monitor)
    st = monitoring(bg, t0, t1);
  if (st == NFH_OK && bg->p.public_rate > 0)
    st = public_web(bg, t0, t1);
  if (st == NFH_OK && bg->p.ssh_rate > 0 && bg->p.admins)
    st = ssh(bg, t0, t1, d);
  if (st == NFH_OK && bg->p.ibr_rate > 0)
    st = ibr(bg, t0, t1);
  return st;
}
