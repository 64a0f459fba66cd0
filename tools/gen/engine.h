/*
 * gen/engine.h - the generator's streaming core.
 *
 * Time is cut into slots (nfcapd's 5-minute intervals). For each slot
 * the generators hand the engine the sessions that start in it; the
 * engine walks each session through the exporter's timeouts and keeps a
 * record for this slot when the record (with its partner of the other
 * direction) ends before the slot does, which is when nfcapd would have
 * received it. Sessions still running at the end of the slot stay in the
 * engine, holding only their next records; everything else is gone once
 * the slot has been handed to the sink. Memory therefore depends on the
 * traffic of one slot and the number of concurrent long sessions, never
 * on the duration of the run.
 *
 * Records are sampled as they are made (when a sampling rate is set),
 * then sorted by end time, as an exporter would send them, and given to
 * the sink slot by slot, optionally in a writer thread that writes one
 * slot while the generators make the next (the output is the same). Records that would end after the run are
 * dropped with their sessions: the output covers [start, end) exactly.
 */
#ifndef NFH_GEN_ENGINE_H
#define NFH_GEN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/status.h>

#include "labels.h"
#include "net.h"
#include "rng.h"
#include "session.h"

typedef struct gen_engine gen_engine;

/* Where the records of a slot go: the capture tree writer or the UDP
 * exporter. 'slot' receives the records sorted by (last_ms, seq);
 * they are borrowed for the call. A status other than NFH_OK stops the
 * run. 'finish' (may be NULL) is called once after the last slot. */
typedef struct gen_sink {
  void *ctx;
  nfh_status (*slot)(void *ctx, uint64_t slot_start_ms, uint64_t slot_end_ms,
                     const gen_rec *recs, size_t n);
  nfh_status (*finish)(void *ctx);
} gen_sink;

typedef struct gen_engine_options {
  uint64_t start_ms;      /* first slot start (a multiple of slot_ms) */
  uint64_t end_ms;        /* end of the run (a multiple of slot_ms) */
  uint32_t slot_ms;       /* slot length; 300000 like nfcapd */
  gen_timeouts timeouts;  /* the exporter's cache timeouts */
  uint32_t sampling;      /* 1-in-N packet sampling; 0 or 1: none */
  uint64_t seed;          /* seeds the sampling stream */
  size_t max_slot_records; /* refuse a slot with more; 0: 16 million */
  int threaded;           /* non-zero: the sink runs in a writer thread,
                             one slot behind the generators */
} gen_engine_options;

/* What the generators see: the plan, the labels and the engine. Public
 * and read-only for the generators. */
typedef struct gen_world {
  const gen_net *net;
  gen_labels *labels;
  gen_engine *engine;
  gen_timeouts timeouts;
  uint64_t seed;
  uint64_t start_ms, end_ms;
} gen_world;

/* Creates an engine; 'options' is copied, 'labels' borrowed for the
 * engine's life (every record written is tallied there). Returns NFH_OK,
 * NFH_EINVAL (slot_ms 0, start not before end) or NFH_ENOMEM. */
nfh_status gen_engine_create(const gen_engine_options *options,
                             gen_labels *labels, gen_engine **out);

/* Frees the engine and any sessions still running. NULL is a no-op. */
void gen_engine_destroy(gen_engine *engine);

/* Opens the slot [t0, t1): first continues the sessions carried over
 * from earlier slots. Returns NFH_OK or NFH_ETOOBIG / NFH_ENOMEM. */
nfh_status gen_engine_begin_slot(gen_engine *engine, uint64_t t0,
                                 uint64_t t1);

/* Runs a session that starts in the open slot: 's' (public fields set) is
 * copied and started with a stream forked from 'rng'. Returns NFH_OK,
 * NFH_ENOMEM, or NFH_ETOOBIG when the slot holds more records than
 * allowed. */
nfh_status gen_engine_add(gen_engine *engine, const gen_session *s,
                          gen_rng *rng);

/* gen_engine_add for a generator: sets the session's interfaces from
 * the plan (1 inside, 2 outside, 3 DMZ, as an edge router numbers
 * them) and adds it to w->engine. Same returns. */
nfh_status gen_world_add(const gen_world *w, gen_session *s, gen_rng *rng);

/* Closes the slot: sorts its records, tallies them in the labels and
 * hands them to the sink. Returns the sink's status; with a writer
 * thread, the status of the slot before (this slot's comes with the next
 * call or gen_engine_flush). The sink's callbacks run in one thread at a
 * time and in slot order either way. */
nfh_status gen_engine_end_slot(gen_engine *engine, const gen_sink *sink);

/* Waits until the sink has taken every closed slot. Returns the first
 * sink failure, or NFH_OK. Call it before the sink's finish. */
nfh_status gen_engine_flush(gen_engine *engine);

/* Run statistics. */
typedef struct gen_engine_stats {
  uint64_t records;         /* records given to the sink */
  uint64_t sampled_out;     /* records dropped by sampling */
  uint64_t cut_at_end;      /* sessions still running at the end */
  size_t active_sessions;   /* sessions carried into the next slot */
  size_t max_active;        /* the most carried at once */
  size_t max_slot_records;  /* the largest slot */
} gen_engine_stats;

void gen_engine_stats_get(const gen_engine *engine, gen_engine_stats *st);

/* Number of records in the open slot so far. */
size_t gen_engine_slot_records(const gen_engine *engine);

#endif
