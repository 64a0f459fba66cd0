/*
 * nfhunt/state.h - what nfhunt keeps between runs.
 *
 * One SQLite database holds the detectors' state blobs (baselines,
 * timelines), the findings already reported, the capture files already
 * analysed and a few counters. A run holds an exclusive lock on
 * PATH.lock from open to close, so runs that overlap (cron and nfcapd -x)
 * are serialized. Everything a run changes is written in one transaction
 * at nfh_state_commit: a run that fails or is killed before leaves the
 * previous state as it was (SQLite's journal makes the commit atomic).
 */
#ifndef NFHUNT_STATE_H
#define NFHUNT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nfh_state nfh_state;

/* Opens or creates the state at 'path' (copied). Takes the lock first,
 * waiting up to wait_s seconds for another run to finish. Returns NFH_OK;
 * NFH_EBUSY when the lock stays taken; NFH_ESTATE when the file is not a
 * usable state (message in *error, a static or thread-local string);
 * NFH_EIO when the lock cannot be taken, or the state or its directory
 * cannot be written (a run would hunt every file and then fail to save:
 * told before it reads); NFH_ENOMEM. On failure *out is NULL. */
nfh_status nfh_state_open(const char *path, unsigned wait_s, nfh_state **out,
                          const char **error);

/* Whether the state file was there but empty when it was opened (under
 * the lock: a run that created it moments before, and holds the lock,
 * is waited for, not taken for an emptied state). A new state begins in
 * it, and the files analysed before are read again. */
int nfh_state_found_empty(const nfh_state *state);

/* Rolls back anything not committed, releases the lock, frees. NULL is a
 * no-op. */
void nfh_state_close(nfh_state *state);

/* One line about the last failure; "" if none. */
const char *nfh_state_error(const nfh_state *state);

/* Starts the run's write transaction (idempotent). NFH_OK, NFH_ESTATE. */
nfh_status nfh_state_begin(nfh_state *state);

/* Commits the run's changes. NFH_OK or NFH_ESTATE (then nothing of the
 * run is kept). */
nfh_status nfh_state_commit(nfh_state *state);

/* A detector's blob: *data is a malloc(3) copy the caller frees, NULL
 * with *len 0 when there is none. NFH_OK, NFH_ESTATE, NFH_ENOMEM. */
nfh_status nfh_state_get_blob(nfh_state *state, const char *name,
                              void **data, size_t *len);

/* Stores a detector's blob (copied), in the run's transaction. */
nfh_status nfh_state_put_blob(nfh_state *state, const char *name,
                              const void *data, size_t len);

/* Named counters ("data_first_ms", ...). A missing one reads as 0, and
 * storing 0 removes it. */
nfh_status nfh_state_get_u64(nfh_state *state, const char *name,
                             uint64_t *value);
nfh_status nfh_state_put_u64(nfh_state *state, const char *name,
                             uint64_t value);

/* Looks up the finding (type, key). If known, copies its id into id[33],
 * sets *first_reported_ms and *times_seen (previous runs) and returns
 * NFH_OK; NFH_ENOTFOUND if new. */
nfh_status nfh_state_find_finding(nfh_state *state, const char *type,
                                  const char *key, char id[33],
                                  uint64_t *first_reported_ms,
                                  uint32_t *times_seen);

/* What the state remembers of a finding reported before. */
typedef struct nfh_state_finding {
  char id[33];
  uint64_t first_reported_ms; /* run time of its first report */
  uint64_t last_seen_ms;      /* data time of its latest activity */
  uint32_t times_seen;        /* runs that reported it */
  int severity;               /* the highest severity it was reported at */
} nfh_state_finding;

/* Looks up the finding (type, key) into *out: NFH_OK, or NFH_ENOTFOUND
 * if new (*out is then zeroed). */
nfh_status nfh_state_get_finding(nfh_state *state, const char *type,
                                 const char *key, nfh_state_finding *out);

/* Records a finding seen in this run (insert or update), with the text
 * (its summary) as last reported. 'severity' is kept as given: callers
 * that want the highest so far pass the maximum. */
nfh_status nfh_state_put_finding(nfh_state *state, const char *type,
                                 const char *key, const char *id,
                                 uint64_t first_reported_ms,
                                 uint64_t run_ms, uint64_t last_seen_ms,
                                 int severity, double score,
                                 uint32_t times_seen, const char *json);

/* Capture files already analysed (for --since last). */
nfh_status nfh_state_file_done(nfh_state *state, const char *path,
                               int *done);
nfh_status nfh_state_mark_file(nfh_state *state, const char *path,
                               uint64_t run_ms);

/* Drops the record of every analysed file for which keep(user, path)
 * returns 0 (nfhunt: the file no longer exists). Call it inside the
 * run's transaction (after nfh_state_begin). *forgotten (may be NULL)
 * gets the number dropped. NFH_OK; NFH_ESTATE or NFH_ENOMEM, and then
 * the records may be partly dropped: roll back (do not commit). */
nfh_status nfh_state_forget_files(nfh_state *state,
                                  int (*keep)(void *user, const char *path),
                                  void *user, uint64_t *forgotten);

/* Drops every counter whose name starts with 'prefix' (at most 64
 * bytes, no quote) and for which keep(user, rest of the name) returns 0,
 * as nfh_state_forget_files does with files. NFH_EINVAL for a bad
 * prefix. */
nfh_status nfh_state_forget_counters(nfh_state *state, const char *prefix,
                                     int (*keep)(void *user, const char *rest),
                                     void *user, uint64_t *forgotten);

/* Deletes findings not reported since before_ms. File records are kept
 * (see nfh_state_forget_files): age says nothing about whether a file
 * may come up again in a --since last run. */
nfh_status nfh_state_expire(nfh_state *state, uint64_t before_ms);

#ifdef __cplusplus
}
#endif
#endif
