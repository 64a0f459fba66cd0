/*
 * gen/export.c - NetFlow v9 and IPFIX datagrams over UDP.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "export.h"

/* Template ids. */
enum { T_V4 = 256, T_V6, T_V4_ICMP, T_V6_ICMP, T_OPT_OLD, T_OPT_NEW };

typedef struct field {
  uint16_t ie, len;
} field;

/* One data template per (version, family, icmp). The sampler field (IE
 * 48, v9 only) is appended when sampling. */
typedef struct tmpl {
  uint16_t id;
  field f[16];
  int n;
  int size; /* bytes per record */
} tmpl;

struct gen_export {
  gen_export_options o;
  int fd;
  tmpl t[4];
  uint8_t buf[65536];
  size_t pos;
  size_t set_start; /* offset of the open set, 0 if none */
  uint16_t set_id;
  uint32_t nrec;       /* records (data + templates) in the datagram */
  uint32_t ndata;      /* flow records in the datagram */
  uint64_t max_last;   /* latest end time in the datagram */
  uint64_t boot_ms;    /* the exporter's boot time (v9) */
  uint32_t last_secs;  /* the last header time */
  uint32_t seq;        /* v9: datagrams; IPFIX: data records */
  uint64_t dgrams;
  struct timespec wall0;
  gen_export_stats st;
  char error[256];
};

static void put8(gen_export *e, uint64_t v) { e->buf[e->pos++] = (uint8_t)v; }
static void put16(gen_export *e, uint64_t v) {
  put8(e, v >> 8);
  put8(e, v);
}
static void put32(gen_export *e, uint64_t v) {
  put16(e, v >> 16);
  put16(e, v);
}
static void putn(gen_export *e, uint64_t v, int len) {
  for (int i = len - 1; i >= 0; i--)
    put8(e, v >> (8 * i));
}
static void set16(gen_export *e, size_t at, uint16_t v) {
  e->buf[at] = (uint8_t)(v >> 8);
  e->buf[at + 1] = (uint8_t)v;
}

static void add_field(tmpl *t, uint16_t ie, uint16_t len) {
  t->f[t->n].ie = ie;
  t->f[t->n].len = len;
  t->n++;
  t->size += len;
}

static void build_templates(gen_export *e) {
  int v9 = e->o.version == 9;
  for (int k = 0; k < 4; k++) {
    tmpl *t = &e->t[k];
    memset(t, 0, sizeof(*t));
    t->id = (uint16_t)(T_V4 + k);
    int v6 = k == 1 || k == 3, icmp = k >= 2;
    add_field(t, v6 ? 27 : 8, v6 ? 16 : 4);  /* source address */
    add_field(t, v6 ? 28 : 12, v6 ? 16 : 4); /* destination address */
    if (!icmp) {
      add_field(t, 7, 2);  /* source port */
      add_field(t, 11, 2); /* destination port */
    }
    add_field(t, 4, 1); /* protocol */
    if (!icmp)
      add_field(t, 6, 1); /* TCP flags */
    add_field(t, 5, 1);   /* ToS */
    add_field(t, 10, 2);  /* input interface */
    add_field(t, 14, 2);  /* output interface */
    if (icmp)
      add_field(t, v9 || !v6 ? 32 : 139, 2); /* ICMP type * 256 + code */
    add_field(t, 2, 8);                      /* packets */
    add_field(t, 1, 8);                      /* bytes */
    if (v9) {
      add_field(t, 22, 4); /* FIRST_SWITCHED */
      add_field(t, 21, 4); /* LAST_SWITCHED */
      if (e->o.sampling > 1)
        add_field(t, 48, 1); /* FLOW_SAMPLER_ID */
    } else {
      add_field(t, 152, 8); /* flowStartMilliseconds */
      add_field(t, 153, 8); /* flowEndMilliseconds */
    }
  }
}

nfh_status gen_export_create(const gen_export_options *o, gen_export **out,
                             char *why, size_t len) {
  *out = NULL;
  if (o->version != 9 && o->version != 10) {
    snprintf(why, len, "protocol version %d: 9 (v9) or 10 (ipfix)",
             o->version);
    return NFH_EINVAL;
  }
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  int rc = getaddrinfo(o->host, o->port, &hints, &res);
  if (rc != 0) {
    snprintf(why, len, "%s port %s: %s", o->host, o->port, gai_strerror(rc));
    return NFH_EINVAL;
  }
  int fd = socket(res->ai_family, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    snprintf(why, len, "%s port %s: %s", o->host, o->port, strerror(errno));
    if (fd >= 0)
      close(fd);
    freeaddrinfo(res);
    return NFH_EIO;
  }
  freeaddrinfo(res);
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  gen_export *e = calloc(1, sizeof(*e));
  if (!e) {
    close(fd);
    return NFH_ENOMEM;
  }
  e->o = *o;
  if (e->o.mtu == 0 || e->o.mtu > 65000)
    e->o.mtu = 1400;
  if (e->o.mtu < 256)
    e->o.mtu = 256;
  if (e->o.template_every == 0)
    e->o.template_every = 20;
  if (e->o.sampler_id == 0)
    e->o.sampler_id = 1;
  e->fd = fd;
  /* Up one hour before the scenario, on a whole second. */
  e->boot_ms = (o->start_ms / 1000) * 1000 - 3600000;
  build_templates(e);
  clock_gettime(CLOCK_MONOTONIC, &e->wall0);
  *out = e;
  return NFH_OK;
}

void gen_export_destroy(gen_export *e) {
  if (!e)
    return;
  close(e->fd);
  free(e);
}

const char *gen_export_error(const gen_export *e) { return e->error; }

void gen_export_stats_get(const gen_export *e, gen_export_stats *st) {
  *st = e->st;
}

/* ------------------------------------------------------------ framing */

static size_t header_len(const gen_export *e) {
  return e->o.version == 9 ? 20 : 16;
}

static void close_set(gen_export *e) {
  if (!e->set_start)
    return;
  while ((e->pos - e->set_start) % 4)
    put8(e, 0);
  set16(e, e->set_start + 2, (uint16_t)(e->pos - e->set_start));
  e->set_start = 0;
}

static void open_set(gen_export *e, uint16_t id) {
  close_set(e);
  e->set_start = e->pos;
  e->set_id = id;
  put16(e, id);
  put16(e, 0); /* length, set by close_set */
}

/* Templates, options templates and the sampler's options data. */
static void put_templates(gen_export *e) {
  int v9 = e->o.version == 9;
  open_set(e, v9 ? 0 : 2);
  for (int k = 0; k < 4; k++) {
    const tmpl *t = &e->t[k];
    put16(e, t->id);
    put16(e, (uint64_t)t->n);
    for (int i = 0; i < t->n; i++) {
      put16(e, t->f[i].ie);
      put16(e, t->f[i].len);
    }
    e->nrec++;
  }
  close_set(e);
  if (e->o.sampling <= 1)
    return;
  uint32_t n = e->o.sampling;
  if (v9) {
    /* {id, scope length, option length} in bytes; scope: system. */
    open_set(e, 1);
    put16(e, T_OPT_OLD);
    put16(e, 4);
    put16(e, 12);
    put16(e, 1), put16(e, 4);  /* scope: system */
    put16(e, 48), put16(e, 1); /* sampler id */
    put16(e, 49), put16(e, 1); /* sampler mode (as algorithm) */
    put16(e, 34), put16(e, 4); /* sampling interval */
    close_set(e);
    open_set(e, 1);
    put16(e, T_OPT_NEW);
    put16(e, 4);
    put16(e, 8);
    put16(e, 1), put16(e, 4);
    put16(e, 34), put16(e, 4);
    put16(e, 35), put16(e, 1);
    close_set(e);
    e->nrec += 2;
    open_set(e, T_OPT_OLD);
    put32(e, 0);
    put8(e, e->o.sampler_id);
    put8(e, 2); /* random */
    put32(e, n);
    close_set(e);
    open_set(e, T_OPT_NEW);
    put32(e, 0);
    put32(e, n);
    put8(e, 2);
    close_set(e);
    e->nrec += 2;
  } else {
    /* {id, field count, scope field count}; scope: observation domain. */
    open_set(e, 3);
    put16(e, T_OPT_OLD);
    put16(e, 3);
    put16(e, 1);
    put16(e, 149), put16(e, 4);
    put16(e, 305), put16(e, 4);
    put16(e, 306), put16(e, 4);
    put16(e, T_OPT_NEW);
    put16(e, 5);
    put16(e, 1);
    put16(e, 149), put16(e, 4);
    put16(e, 302), put16(e, 4);
    put16(e, 304), put16(e, 2);
    put16(e, 305), put16(e, 4);
    put16(e, 306), put16(e, 4);
    close_set(e);
    e->nrec += 2;
    open_set(e, T_OPT_OLD);
    put32(e, e->o.source_id);
    put32(e, 1);
    put32(e, n - 1);
    close_set(e);
    open_set(e, T_OPT_NEW);
    put32(e, e->o.source_id);
    put32(e, 0);
    put16(e, 3); /* random n-out-of-N */
    put32(e, 1);
    put32(e, n - 1);
    close_set(e);
    e->nrec += 2;
  }
}

static void start_datagram(gen_export *e) {
  e->pos = header_len(e);
  e->set_start = 0;
  e->nrec = e->ndata = 0;
  if (e->dgrams % e->o.template_every == 0)
    put_templates(e);
}

static void pace(gen_export *e) {
  double target;
  if (e->o.speedup > 0) {
    double scen = (double)e->last_secs * 1000.0 - (double)e->o.start_ms;
    target = scen / 1000.0 / e->o.speedup;
  } else if (e->o.rate > 0) {
    target = (double)e->st.records / e->o.rate;
  } else {
    return;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double elapsed = (double)(now.tv_sec - e->wall0.tv_sec) +
                   (double)(now.tv_nsec - e->wall0.tv_nsec) / 1e9;
  if (target > elapsed) {
    double d = target - elapsed;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
      ;
  }
}

static nfh_status flush(gen_export *e) {
  if (e->ndata == 0 && e->nrec == 0)
    return NFH_OK;
  close_set(e);
  /* Sent at the next whole second after the latest record ended. */
  uint32_t secs = (uint32_t)(e->max_last / 1000 + 1);
  if (secs < e->last_secs)
    secs = e->last_secs;
  e->last_secs = secs;
  size_t save = e->pos;
  e->pos = 0;
  if (e->o.version == 9) {
    put16(e, 9);
    put16(e, e->nrec + e->ndata);
    put32(e, (uint64_t)secs * 1000 - e->boot_ms); /* sysUptime */
    put32(e, secs);
    put32(e, e->seq++);
    put32(e, e->o.source_id);
  } else {
    put16(e, 10);
    put16(e, save);
    put32(e, secs);
    put32(e, e->seq);
    put32(e, e->o.source_id);
    /* RFC 7011 counts options data records too; nfcapd (ipfix.c,
     * 1.7.1 to 1.7.8) counts flow records only and would report a
     * sequence failure at every template refresh. The collector wins. */
    e->seq += e->ndata;
  }
  e->pos = save;
  ssize_t r = send(e->fd, e->buf, e->pos, 0);
  if (r < 0) {
    if (errno == ECONNREFUSED) {
      e->st.refused++;
    } else {
      snprintf(e->error, sizeof(e->error), "send: %s", strerror(errno));
      return NFH_EIO;
    }
  }
  e->st.datagrams++;
  e->st.records += e->ndata;
  e->dgrams++;
  pace(e);
  start_datagram(e);
  return NFH_OK;
}

static nfh_status put_record(gen_export *e, const gen_rec *r) {
  int v6 = r->src.family == 6, icmp = r->proto == 1 || r->proto == 58;
  const tmpl *t = &e->t[(icmp ? 2 : 0) + v6];
  size_t need = (size_t)t->size + (e->set_id == t->id && e->set_start ? 0 : 4);
  if (e->pos + need + 3 > e->o.mtu) {
    nfh_status st = flush(e);
    if (st != NFH_OK)
      return st;
  }
  if (!e->set_start || e->set_id != t->id)
    open_set(e, t->id);
  for (int i = 0; i < t->n; i++) {
    const field *f = &t->f[i];
    switch (f->ie) {
    case 8:
    case 12: {
      const nfh_addr *a = f->ie == 8 ? &r->src : &r->dst;
      memcpy(e->buf + e->pos, a->bytes + 12, 4);
      e->pos += 4;
      break;
    }
    case 27:
    case 28: {
      const nfh_addr *a = f->ie == 27 ? &r->src : &r->dst;
      memcpy(e->buf + e->pos, a->bytes, 16);
      e->pos += 16;
      break;
    }
    case 7:
      put16(e, r->src_port);
      break;
    case 11:
      put16(e, r->dst_port);
      break;
    case 32:
    case 139:
      put16(e, r->dst_port);
      break;
    case 4:
      put8(e, r->proto);
      break;
    case 6:
      put8(e, r->tcp_flags);
      break;
    case 5:
      put8(e, r->tos);
      break;
    case 10:
      put16(e, r->in_if);
      break;
    case 14:
      put16(e, r->out_if);
      break;
    case 2:
      putn(e, r->packets, 8);
      break;
    case 1:
      putn(e, r->bytes, 8);
      break;
    case 22:
      put32(e, r->first_ms - e->boot_ms);
      break;
    case 21:
      put32(e, r->last_ms - e->boot_ms);
      break;
    case 152:
      putn(e, r->first_ms, 8);
      break;
    case 153:
      putn(e, r->last_ms, 8);
      break;
    case 48:
      put8(e, e->o.sampler_id);
      break;
    default:
      putn(e, 0, f->len);
    }
  }
  e->ndata++;
  if (r->last_ms > e->max_last)
    e->max_last = r->last_ms;
  return NFH_OK;
}

static nfh_status export_slot(void *ctx, uint64_t t0, uint64_t t1,
                              const gen_rec *recs, size_t n) {
  gen_export *e = ctx;
  (void)t0;
  (void)t1;
  if (e->pos == 0)
    start_datagram(e);
  for (size_t i = 0; i < n; i++) {
    nfh_status st = put_record(e, &recs[i]);
    if (st != NFH_OK)
      return st;
  }
  return NFH_OK;
}

static nfh_status export_finish(void *ctx) {
  gen_export *e = ctx;
  if (e->pos == 0)
    return NFH_OK;
  return flush(e);
}

gen_sink gen_export_sink(gen_export *e) {
  gen_sink s = {e, export_slot, export_finish};
  return s;
}
