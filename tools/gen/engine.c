/*
 * gen/engine.c - slots, carried sessions, sampling and ordering.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "sample.h"

/* A session carried over to a later slot, with the records of its next
 * step already made (they end in a later slot). */
typedef struct carried {
  gen_session s;
  gen_rec pending[2];
  int npending;
} carried;

struct gen_engine {
  gen_engine_options o;
  gen_labels *labels;
  gen_rng sample_rng;
  uint64_t t0, t1;
  uint64_t seq;
  gen_rec *recs; /* the open slot's records, in the order made */
  size_t n, cap;
  gen_rec *out; /* a closed slot's records, sorted, for the sink */
  size_t out_cap;
  uint64_t *keys, *keys2; /* radix sort scratch, cap entries each */
  size_t key_cap;
  carried *active;
  size_t nactive, capactive;
  gen_engine_stats st;
  /* The writer thread (options.threaded): it runs the sink on 'out'
   * while the generators fill 'recs' with the next slot. */
  int threaded, thread_up;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int busy, stop;          /* a job is posted / the thread must end */
  gen_sink sink;           /* the job: sink, slot and size */
  uint64_t job_t0, job_t1;
  size_t job_n;
  nfh_status job_status;   /* the first failure of a job */
};

static void *writer_main(void *arg) {
  gen_engine *e = arg;
  pthread_mutex_lock(&e->mu);
  for (;;) {
    while (!e->busy && !e->stop)
      pthread_cond_wait(&e->cv, &e->mu);
    if (!e->busy && e->stop)
      break;
    pthread_mutex_unlock(&e->mu);
    nfh_status st = e->sink.slot(e->sink.ctx, e->job_t0, e->job_t1, e->out,
                                 e->job_n);
    pthread_mutex_lock(&e->mu);
    if (st != NFH_OK && e->job_status == NFH_OK)
      e->job_status = st;
    e->busy = 0;
    pthread_cond_broadcast(&e->cv);
  }
  pthread_mutex_unlock(&e->mu);
  return NULL;
}

/* Waits until the writer has no job; returns the first job failure. */
static nfh_status wait_writer(gen_engine *e) {
  if (!e->thread_up)
    return e->job_status;
  pthread_mutex_lock(&e->mu);
  while (e->busy)
    pthread_cond_wait(&e->cv, &e->mu);
  nfh_status st = e->job_status;
  pthread_mutex_unlock(&e->mu);
  return st;
}

nfh_status gen_engine_create(const gen_engine_options *o, gen_labels *labels,
                             gen_engine **out) {
  *out = NULL;
  if (o->slot_ms == 0 || o->start_ms >= o->end_ms)
    return NFH_EINVAL;
  gen_engine *e = calloc(1, sizeof(*e));
  if (!e)
    return NFH_ENOMEM;
  e->o = *o;
  if (e->o.sampling == 0)
    e->o.sampling = 1;
  if (e->o.max_slot_records == 0)
    e->o.max_slot_records = 16u << 20;
  if (e->o.timeouts.active_ms == 0)
    e->o.timeouts.active_ms = 60000;
  if (e->o.timeouts.inactive_ms == 0)
    e->o.timeouts.inactive_ms = 15000;
  e->labels = labels;
  gen_rng_seed(&e->sample_rng, o->seed, 0x53414D50ULL);
  e->threaded = o->threaded;
  if (e->threaded) {
    if (pthread_mutex_init(&e->mu, NULL) != 0) {
      free(e);
      return NFH_ENOMEM;
    }
    if (pthread_cond_init(&e->cv, NULL) != 0) {
      pthread_mutex_destroy(&e->mu);
      free(e);
      return NFH_ENOMEM;
    }
    /* The thread starts with the first slot, once the sink is known. */
  }
  *out = e;
  return NFH_OK;
}

void gen_engine_destroy(gen_engine *e) {
  if (!e)
    return;
  if (e->thread_up) {
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
  }
  if (e->threaded) {
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
  }
  free(e->recs);
  free(e->out);
  free(e->keys);
  free(e->keys2);
  free(e->active);
  free(e);
}

/* Appends one record to the open slot, after sampling. */
static nfh_status push(gen_engine *e, const gen_rec *r) {
  if (e->n == e->cap) {
    if (e->cap >= e->o.max_slot_records)
      return NFH_ETOOBIG;
    size_t cap = e->cap ? e->cap * 2 : 65536;
    if (cap > e->o.max_slot_records)
      cap = e->o.max_slot_records;
    gen_rec *p = realloc(e->recs, cap * sizeof(*p));
    if (!p)
      return NFH_ENOMEM;
    e->recs = p;
    e->cap = cap;
  }
  gen_rec *d = &e->recs[e->n];
  *d = *r;
  if (!gen_sample_rec(&e->sample_rng, e->o.sampling, d)) {
    e->st.sampled_out++;
    return NFH_OK;
  }
  d->seq = e->seq++;
  e->n++;
  return NFH_OK;
}

static uint64_t step_end(const gen_rec *r, int n) {
  uint64_t end = r[0].last_ms;
  if (n > 1 && r[1].last_ms > end)
    end = r[1].last_ms;
  return end;
}

/* Runs 'c' through the open slot: pushes every step that ends in it.
 * Returns 1 when the session must be carried on, 0 when it is finished
 * (or runs past the end of the run and is dropped), -1 on error with
 * *st set. */
static int run(gen_engine *e, carried *c, nfh_status *st) {
  for (;;) {
    if (c->npending == 0) {
      c->npending = gen_session_next(&c->s, &e->o.timeouts, c->pending);
      if (c->npending == 0)
        return 0;
    }
    uint64_t end = step_end(c->pending, c->npending);
    if (end >= e->o.end_ms) {
      e->st.cut_at_end++;
      return 0;
    }
    if (end >= e->t1)
      return 1;
    for (int i = 0; i < c->npending; i++) {
      *st = push(e, &c->pending[i]);
      if (*st != NFH_OK)
        return -1;
    }
    c->npending = 0;
  }
}

static nfh_status carry(gen_engine *e, const carried *c) {
  if (e->nactive == e->capactive) {
    size_t cap = e->capactive ? e->capactive * 2 : 1024;
    carried *p = realloc(e->active, cap * sizeof(*p));
    if (!p)
      return NFH_ENOMEM;
    e->active = p;
    e->capactive = cap;
  }
  e->active[e->nactive++] = *c;
  if (e->nactive > e->st.max_active)
    e->st.max_active = e->nactive;
  return NFH_OK;
}

nfh_status gen_engine_begin_slot(gen_engine *e, uint64_t t0, uint64_t t1) {
  e->t0 = t0;
  e->t1 = t1;
  e->n = 0;
  /* Carried sessions first, in a fixed order: the output must not
   * depend on anything but the seed and the options. */
  size_t keep = 0;
  for (size_t i = 0; i < e->nactive; i++) {
    nfh_status st = NFH_OK;
    int r = run(e, &e->active[i], &st);
    if (r < 0)
      return st;
    if (r == 1) {
      if (keep != i)
        e->active[keep] = e->active[i];
      keep++;
    }
  }
  e->nactive = keep;
  return NFH_OK;
}

nfh_status gen_engine_add(gen_engine *e, const gen_session *s, gen_rng *rng) {
  carried c;
  c.s = *s;
  c.npending = 0;
  gen_session_start(&c.s, rng);
  nfh_status st = NFH_OK;
  int r = run(e, &c, &st);
  if (r < 0)
    return st;
  return r == 1 ? carry(e, &c) : NFH_OK;
}

static uint8_t iface(const gen_net *net, const nfh_addr *a) {
  if (gen_prefix_contains(&net->dmz, a))
    return 3;
  if (gen_net_internal(net, a)) {
    if (a->family == 6) {
      /* The DMZ's IPv6 /64. */
      nfh_addr d = gen_net_dmz6(net, 0);
      if (memcmp(a->bytes, d.bytes, 8) == 0)
        return 3;
    }
    return 1;
  }
  return 2;
}

nfh_status gen_world_add(const gen_world *w, gen_session *s, gen_rng *rng) {
  s->in_if = iface(w->net, &s->client);
  s->out_if = iface(w->net, &s->server);
  return gen_engine_add(w->engine, s, rng);
}

/* When the exporter sends a record, as an offset from its end: a TCP
 * entry that saw FIN or RST, and one cut by the active timeout, leave the
 * cache at once; any other waits out the inactive timeout. A few hundred
 * milliseconds of jitter (from the record's creation number, so the
 * order depends on the seed only) stand for the cache's scan. So the
 * RST/ACK of a refused probe is sent before the SYN that drew it, and the
 * two directions of a connection come in either order, as from real
 * exporters; consumers must not rely on a request preceding its answer. */
static uint64_t export_delay(const gen_engine *e, const gen_rec *r) {
  uint64_t jitter = gen_hash64(r->seq ^ 0x4558504FULL) % 400;
  if (r->proto == 6 && (r->tcp_flags & 0x05))
    return jitter;
  if (r->last_ms - r->first_ms + 1000 >= e->o.timeouts.active_ms)
    return jitter;
  return e->o.timeouts.inactive_ms + jitter;
}

/* Sorts the open slot into e->out by export time (export_delay), stably
 * (records sent in the same millisecond keep the order they were made
 * in, which is their seq order). A least-significant-digit radix sort of
 * 64-bit keys "export offset << 32 | index", 8 bits at a time over the
 * offset, skipping digits all keys share; then one gather. Much cheaper
 * than qsort on 96-byte records, which spent a third of the run moving
 * them. */
static nfh_status sort_slot(gen_engine *e) {
  size_t n = e->n;
  if (e->key_cap < n) {
    uint64_t *k = realloc(e->keys, e->cap * sizeof(*k));
    if (!k)
      return NFH_ENOMEM;
    e->keys = k;
    k = realloc(e->keys2, e->cap * sizeof(*k));
    if (!k)
      return NFH_ENOMEM;
    e->keys2 = k;
    e->key_cap = e->cap;
  }
  if (e->out_cap < n) {
    gen_rec *o = realloc(e->out, e->cap * sizeof(*o));
    if (!o)
      return NFH_ENOMEM;
    e->out = o;
    e->out_cap = e->cap;
  }
  uint64_t base = UINT64_MAX, top = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t sent = e->recs[i].last_ms + export_delay(e, &e->recs[i]);
    e->keys[i] = sent;
    if (sent < base)
      base = sent;
    if (sent > top)
      top = sent;
  }
  /* Offsets beyond 32 bits (49 days in one slot) cannot happen: slots
   * are at most a day and records at most an active timeout long. */
  for (size_t i = 0; i < n; i++)
    e->keys[i] = (e->keys[i] - base) << 32 | (uint64_t)i;
  uint64_t span = n ? top - base : 0;
  uint64_t *src = e->keys, *dst = e->keys2;
  for (int shift = 32; shift < 64 && (span >> (shift - 32)) != 0;
       shift += 8) {
    size_t count[256] = {0};
    for (size_t i = 0; i < n; i++)
      count[(src[i] >> shift) & 0xFF]++;
    size_t pos = 0;
    for (int d = 0; d < 256; d++) {
      size_t c = count[d];
      count[d] = pos;
      pos += c;
    }
    for (size_t i = 0; i < n; i++)
      dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
    uint64_t *t = src;
    src = dst;
    dst = t;
  }
  for (size_t i = 0; i < n; i++)
    e->out[i] = e->recs[src[i] & 0xFFFFFFFFu];
  return NFH_OK;
}

nfh_status gen_engine_end_slot(gen_engine *e, const gen_sink *sink) {
  /* The writer must be done with 'out' before it is refilled. */
  nfh_status st = wait_writer(e);
  if (st != NFH_OK)
    return st;
  st = sort_slot(e);
  if (st != NFH_OK)
    return st;
  uint64_t n = e->o.sampling;
  for (size_t i = 0; i < e->n; i++)
    gen_labels_tally(e->labels, &e->out[i], e->out[i].packets * n,
                     e->out[i].bytes * n);
  e->st.records += e->n;
  if (e->n > e->st.max_slot_records)
    e->st.max_slot_records = e->n;
  size_t count = e->n;
  e->n = 0;
  if (!e->threaded)
    return sink->slot(sink->ctx, e->t0, e->t1, e->out, count);
  if (!e->thread_up) {
    e->sink = *sink;
    if (pthread_create(&e->thread, NULL, writer_main, e) != 0) {
      e->threaded = 0; /* no thread: write here, as unthreaded */
      return sink->slot(sink->ctx, e->t0, e->t1, e->out, count);
    }
    e->thread_up = 1;
  }
  pthread_mutex_lock(&e->mu);
  e->sink = *sink;
  e->job_t0 = e->t0;
  e->job_t1 = e->t1;
  e->job_n = count;
  e->busy = 1;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
  return NFH_OK;
}

nfh_status gen_engine_flush(gen_engine *e) { return wait_writer(e); }

void gen_engine_stats_get(const gen_engine *e, gen_engine_stats *st) {
  *st = e->st;
  st->active_sessions = e->nactive;
}

size_t gen_engine_slot_records(const gen_engine *e) { return e->n; }
