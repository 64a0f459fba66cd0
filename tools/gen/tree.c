/*
 * gen/tree.c - one nfcapd file per slot.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <nfhunt/writer.h>

#include "tree.h"

#define BATCH 1024
#define RECENT 64 /* names remembered to detect a repeated local hour */

struct gen_tree {
  gen_tree_options o;
  uint64_t files, renamed;
  char error[4400];
  char recent[RECENT][256];
  size_t nrecent;
  nfh_flow batch[BATCH];
};

static const char *const subdir_fmt[] = {
    NULL,          "%Y/%m/%d", "%Y/%m/%d/%H", "%Y/%W/%u", "%Y/%W/%u/%H",
    "%Y/%j",       "%Y/%j/%H", "%Y-%m-%d",    "%Y-%m-%d/%H"};

/* mkdir -p: creates each missing component of 'path'. */
static int make_dirs(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof(buf))
    return -1;
  memcpy(buf, path, n + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return -1;
    *p = '/';
  }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST)
    return -1;
  return 0;
}

nfh_status gen_tree_create(const gen_tree_options *o, gen_tree **out) {
  *out = NULL;
  if (make_dirs(o->dir) != 0)
    return NFH_EIO;
  gen_tree *t = calloc(1, sizeof(*t));
  if (!t)
    return NFH_ENOMEM;
  t->o = *o;
  if (t->o.subdir < 0 || t->o.subdir > 8)
    t->o.subdir = 0;
  *out = t;
  return NFH_OK;
}

void gen_tree_destroy(gen_tree *t) { free(t); }

const char *gen_tree_error(const gen_tree *t) { return t->error; }
uint64_t gen_tree_files(const gen_tree *t) { return t->files; }
uint64_t gen_tree_renamed(const gen_tree *t) { return t->renamed; }

char *gen_tree_path(const gen_tree_options *o, uint64_t slot_ms,
                    uint32_t slot_len_ms, char *buf, size_t len) {
  time_t when = (time_t)(slot_ms / 1000);
  struct tm tm;
  localtime_r(&when, &tm);
  size_t n = 0;
  buf[0] = '\0';
  if (o->subdir > 0 && o->subdir <= 8) {
    n = strftime(buf, len, subdir_fmt[o->subdir], &tm);
    if (n + 1 < len)
      buf[n++] = '/';
    buf[n] = '\0';
  }
  const char *fmt = slot_len_ms < 60000
                        ? (o->zone ? "nfcapd.%Y%m%d%H%M%S%z"
                                   : "nfcapd.%Y%m%d%H%M%S")
                        : (o->zone ? "nfcapd.%Y%m%d%H%M%z"
                                   : "nfcapd.%Y%m%d%H%M");
  strftime(buf + n, len - n, fmt, &tm);
  return buf;
}

void gen_tree_flow(const gen_tree_options *o, const gen_rec *r, nfh_flow *f) {
  uint64_t n = o->sampling > 1 ? o->sampling : 1;
  memset(f, 0, sizeof(*f));
  f->first_ms = r->first_ms;
  f->last_ms = r->last_ms;
  /* nfcapd stamps a record when its datagram arrives: the exporter
   * sends at the next whole second after the record ends. */
  f->received_ms = (r->last_ms / 1000 + 1) * 1000;
  f->packets = r->packets * n;
  f->bytes = r->bytes * n;
  f->aggr_flows = 1;
  f->src = r->src;
  f->dst = r->dst;
  f->exporter = o->exporter;
  f->router = o->exporter;
  f->exporter_id = o->exporter_id;
  f->exporter_sysid = 1;
  f->sampling = (uint32_t)n;
  f->src_port = r->src_port;
  f->dst_port = r->dst_port;
  f->proto = r->proto;
  f->tcp_flags = r->tcp_flags;
  f->tos = r->tos;
  if (r->proto == 1 || r->proto == 58) {
    f->icmp_type = (uint8_t)(r->dst_port >> 8);
    f->icmp_code = (uint8_t)r->dst_port;
  }
  f->input_if = r->in_if;
  f->output_if = r->out_if;
  f->nf_version = o->nf_version;
  if (n > 1)
    f->flags |= NFH_FLOW_SAMPLED;
}

/* The file's name, made unique within the run (see tree.h). */
static void slot_path(gen_tree *t, uint64_t t0, uint32_t len, char *path,
                      size_t size) {
  char rel[256];
  gen_tree_path(&t->o, t0, len, rel, sizeof(rel));
  for (size_t i = 0; i < t->nrecent && i < RECENT; i++) {
    if (strcmp(t->recent[i], rel) == 0) {
      /* A repeated local hour: the 14-digit form of the name. */
      gen_tree_path(&t->o, t0, 1000, rel, sizeof(rel));
      t->renamed++;
      break;
    }
  }
  snprintf(t->recent[t->nrecent++ % RECENT], sizeof(t->recent[0]), "%s", rel);
  snprintf(path, size, "%s/%s", t->o.dir, rel);
}

static nfh_status tree_slot(void *ctx, uint64_t t0, uint64_t t1,
                            const gen_rec *recs, size_t n) {
  gen_tree *t = ctx;
  char path[4096];
  slot_path(t, t0, (uint32_t)(t1 - t0), path, sizeof(path));
  char *slash = strrchr(path, '/');
  if (slash) {
    *slash = '\0';
    if (make_dirs(path) != 0) {
      snprintf(t->error, sizeof(t->error), "mkdir %s: %s", path,
               strerror(errno));
      return NFH_EIO;
    }
    *slash = '/';
  }
  nfh_writer_options wo;
  memset(&wo, 0, sizeof(wo));
  wo.codec = t->o.n_codecs ? t->o.codecs[t->files % t->o.n_codecs]
                           : NFH_WRITER_CODEC_NONE;
  wo.level = t->o.level;
  wo.ident = t->o.ident;
  wo.creator = NFH_WRITER_CREATOR_NFCAPD;
  wo.created = (int64_t)(t1 / 1000);
  nfh_writer *w;
  nfh_status st = nfh_writer_open(path, &wo, &w);
  if (st != NFH_OK) {
    snprintf(t->error, sizeof(t->error), "%s: %s%s%s", path,
             nfh_strerror(st), st == NFH_EIO ? ": " : "",
             st == NFH_EIO ? strerror(errno) : "");
    return st;
  }
  nfh_exporter e;
  memset(&e, 0, sizeof(e));
  e.addr = t->o.exporter;
  e.version = t->o.nf_version;
  e.id = t->o.exporter_id;
  e.sysid = 1;
  st = nfh_writer_add_exporter(w, &e);
  if (st == NFH_OK && t->o.sampling > 1) {
    nfh_sampler s;
    memset(&s, 0, sizeof(s));
    s.id = t->o.sampler_id;
    s.packet_interval = 1;
    s.space_interval = t->o.sampling - 1;
    s.exporter_sysid = 1;
    s.algorithm = t->o.sampler_algorithm;
    st = nfh_writer_add_sampler(w, &s);
  }
  for (size_t i = 0; i < n && st == NFH_OK;) {
    size_t k = 0;
    for (; k < BATCH && i < n; k++, i++)
      gen_tree_flow(&t->o, &recs[i], &t->batch[k]);
    st = nfh_writer_write(w, t->batch, k);
  }
  if (st != NFH_OK) {
    snprintf(t->error, sizeof(t->error), "%s: %s", path,
             nfh_writer_error(w));
    nfh_writer_abort(w);
    return st;
  }
  st = nfh_writer_close(w);
  if (st != NFH_OK) {
    snprintf(t->error, sizeof(t->error), "%s: %s%s%s", path,
             nfh_strerror(st), st == NFH_EIO ? ": " : "",
             st == NFH_EIO ? strerror(errno) : "");
    return st;
  }
  t->files++;
  return NFH_OK;
}

gen_sink gen_tree_sink(gen_tree *t) {
  gen_sink s = {t, tree_slot, NULL};
  return s;
}
