/*
 * nfhunt/engine.h - the detection engine: the host side of the plugin
 * ABI (nfhunt/plugin.h).
 *
 * The engine loads detector modules, stitches the flows it is given into
 * connections, feeds both to the detectors, collects their findings and
 * ranks them. Persistent state (nfhunt/state.h) is optional: with it,
 * detectors resume their baselines and timelines, and a finding seen in
 * an earlier run keeps its id and is marked ongoing.
 *
 * Typical use:
 *   nfh_engine_create(&opts, &e);
 *   nfh_engine_add_home_net(e, "10.0.0.0/8");    (or keep the defaults)
 *   nfh_engine_load_plugins(e);
 *   nfh_engine_start(e, state);                   (state may be NULL)
 *   nfh_engine_add_flows(e, flows, n);            (for every batch)
 *   nfh_engine_finish(e, state);
 *   nfh_engine_findings(e, &count);
 *   nfh_engine_destroy(e);
 */
#ifndef NFHUNT_ENGINE_H
#define NFHUNT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/finding.h>
#include <nfhunt/flow.h>
#include <nfhunt/state.h>
#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nfh_engine nfh_engine;

/* A finding reported before whose new activity starts more than this
 * long (data time) after the last it was reported for is a new episode:
 * status "recurred", a new id, an alert again. Shorter pauses (a slow
 * beacon's, a scan's night) continue it. */
#define NFH_ENGINE_RECUR_MS (12 * 3600 * 1000ull)

/* Receives the engine's and the detectors' log lines (one line, no
 * newline). 'source' is "engine" or a detector's name. */
typedef void (*nfh_log_fn)(void *user, int level, const char *source,
                           const char *line);

typedef struct nfh_engine_options {
  /* Directory of detector modules (*.so); copied. NULL: no directory
   * (modules can still be added with nfh_engine_load_module). */
  const char *plugin_dir;
  /* Records of one 5-tuple whose gap is at most this many ms belong to
   * one connection: the exporter's inactive timeout plus slack. 0 means
   * the default, 16000 (nfcapd-side exporters default to 15 s). */
  uint32_t stitch_gap_ms;
  /* How long a connection is held open after its last record before it
   * goes to the detectors: covers the exporter's active timeout and its
   * export delay. 0 means the default, 300000. */
  uint32_t stitch_hold_ms;
  nfh_log_fn log; /* NULL: log lines are dropped */
  void *log_user;
  /* Non-zero: call the detectors in the caller's thread. By default each
   * detector runs on a thread of its own; the results are the same. */
  int serial;
  uint32_t reserved[4]; /* zero */
} nfh_engine_options;

/* A loaded detector, as --list-plugins shows it. Borrowed from the
 * engine until it is destroyed. */
typedef struct nfh_plugin_info {
  const char *name;
  const char *version;
  const char *description;
  const char *path;
  int enabled; /* 0 once disabled by configuration or by a failure */
  const char *error; /* why it was disabled, or NULL */
} nfh_plugin_info;

/* A finding as the engine keeps it: the detector's fields, owned copies
 * of its strings, and what the state said about it. */
typedef struct nfh_report_finding {
  char id[33];   /* stable across runs (state) or new for this run */
  const char *detector;
  /* "new"; "ongoing" (reported before, as bad); "escalated" (reported
   * before, at a lower severity); "recurred" (reported before, then
   * quiet for NFH_ENGINE_RECUR_MS of data time, or back after a gap that
   * long in the data itself: a new episode, with a new
   * id). Alerts (syslog, --quiet) are for all but "ongoing". */
  const char *status;
  uint64_t first_reported_ms; /* run time it was first reported */
  uint32_t times_seen;        /* runs that reported it, this one included */
  nfh_finding f;              /* strings owned by the engine */
  /* The score as the detector gave it, before it was moved into its
   * severity's range (f.score): it orders findings whose moved scores
   * tie. */
  double detector_score;
  /* The severity the detector gave this run. f.severity is never below
   * what an ongoing finding was reported at before (its episode's
   * highest): a borderline beacon re-judged every hour read low,
   * medium, low, high, low, and came and went from reports filtered by
   * severity. Unless the detector rates it info now: it found what
   * explains it. */
  nfh_severity detector_severity;
} nfh_report_finding;

/* Creates an engine with the default home networks (RFC 1918 and
 * RFC 4193, replaced by the first nfh_engine_add_home_net). 'options'
 * may be NULL. NFH_OK, NFH_ENOMEM, NFH_EINVAL (reserved fields). */
nfh_status nfh_engine_create(const nfh_engine_options *options,
                             nfh_engine **out);

/* Frees the engine, its detectors and modules. NULL is a no-op. */
void nfh_engine_destroy(nfh_engine *engine);

/* Adds a home network in CIDR notation ("10.0.0.0/8", "2001:db8::/32",
 * a bare address means /32 or /128). The first call replaces the
 * defaults. NFH_OK, NFH_ESYNTAX, NFH_ENOMEM. */
nfh_status nfh_engine_add_home_net(nfh_engine *engine, const char *cidr);

/* The same, but the defaults stay beside it (networks read from the
 * traffic join them). NFH_OK, NFH_ESYNTAX, NFH_ENOMEM. */
nfh_status nfh_engine_extend_home_net(nfh_engine *engine, const char *cidr);

/* Whether addr is in the home networks. */
int nfh_engine_is_home(const nfh_engine *engine, const nfh_addr *addr);

/* The home networks in force: how many, whether they are still the
 * defaults alone (nothing added or extended yet), and network i in CIDR
 * notation written into buf (at least NFH_ADDR_STRLEN + 4 bytes; buf is
 * returned, "" when i is out of range). */
size_t nfh_engine_home_net_count(const nfh_engine *engine);
int nfh_engine_home_is_default(const nfh_engine *engine);
char *nfh_engine_home_net_text(const nfh_engine *engine, size_t i, char *buf,
                               size_t len);

/* Allowlists "CIDR", "CIDR:port" or "[v6-CIDR]:port" for one detector
 * (by name) or for all ("*"). NFH_OK, NFH_ESYNTAX, NFH_ENOMEM. */
nfh_status nfh_engine_allow(nfh_engine *engine, const char *detector,
                            const char *spec);

/* Sets a detector setting, passed to its create(). Strings are copied.
 * The key "enabled" with "no"/"false"/"0" disables the detector.
 * NFH_OK or NFH_ENOMEM. */
nfh_status nfh_engine_set(nfh_engine *engine, const char *detector,
                          const char *key, const char *value);

/* Restricts loading to these detector names (comma separated); NULL or
 * "" loads every module of the plugin directory. Copied. */
nfh_status nfh_engine_only(nfh_engine *engine, const char *names);

/* Loads every *.so of the plugin directory (in name order). A module
 * that fails to load is logged and skipped: the call still returns
 * NFH_OK. Returns NFH_ENOTFOUND if the directory cannot be read. */
nfh_status nfh_engine_load_plugins(nfh_engine *engine);

/* Loads one module by path. NFH_OK; NFH_EPLUGIN (dlopen or symbol
 * failed), NFH_EABI (version or size refused) with a log line; the
 * engine stays usable. */
nfh_status nfh_engine_load_module(nfh_engine *engine, const char *path);

/* The loaded detectors. */
size_t nfh_engine_plugin_count(const nfh_engine *engine);
const nfh_plugin_info *nfh_engine_plugin(const nfh_engine *engine, size_t i);

/* Detectors disabled after they started (a callback, finish or
 * state_save failed: memory ran out, a bug): the run's findings lack
 * theirs, and a state saved now would count the files as analysed by
 * them. */
size_t nfh_engine_failed_count(const nfh_engine *engine);

/* The i-th module of the plugin directory that nfh_engine_load_plugins
 * tried and could not load (cut short, not a detector, a refused ABI),
 * by its file's name less ".so"; NULL past the last. Borrowed until the
 * engine is destroyed. Modules --plugins left out are not tried. */
const char *nfh_engine_unloaded(const nfh_engine *engine, size_t i);

/* Tries every enabled detector's settings: creates it and destroys it
 * again. One that refuses them is disabled, with "create failed: WHY"
 * in its nfh_plugin_info error, and nothing logged: the caller says
 * where the setting was written. A program calls this before it opens
 * the state, so that a typing error leaves no state behind. NFH_OK or
 * NFH_ENOMEM. Optional: nfh_engine_start does the same, logging. */
nfh_status nfh_engine_check_settings(nfh_engine *engine);

/* Creates every enabled detector with its settings and gives it its
 * state blob. A detector whose create fails is disabled (logged). The
 * state is borrowed until nfh_engine_finish. NFH_OK or NFH_ENOMEM. */
nfh_status nfh_engine_start(nfh_engine *engine, nfh_state *state);

/* Feeds flows (borrowed for the call). NFH_OK or NFH_ENOMEM. */
nfh_status nfh_engine_add_flows(nfh_engine *engine, const nfh_flow *flows,
                                size_t n);

/* Ends the input: flushes the open connections and slots, asks every
 * detector for its findings, ranks them (score, descending) and, with a
 * state, matches them against earlier findings and stores every
 * detector's new state blob and the findings in the state (not yet
 * committed: see nfh_state_commit). NFH_OK, NFH_ENOMEM, NFH_ESTATE.
 * With NFH_ESTATE (the state could not be read or written) the findings
 * are still ranked and there (those not matched taken as new), and the
 * state's open transaction holds part of the run: do not commit it. */
nfh_status nfh_engine_finish(nfh_engine *engine, nfh_state *state);

/* The ranked findings; borrowed until the engine is destroyed. */
const nfh_report_finding *nfh_engine_findings(const nfh_engine *engine,
                                              size_t *count);

/* Counters of the run, for the report's "inputs". */
typedef struct nfh_engine_stats {
  uint64_t flows;
  uint64_t conns;
  uint64_t sampled_flows;
  uint32_t max_sampling;
  uint64_t first_ms, last_ms; /* data time span */
  /* Records whose times were set right: ending more than a day from the
   * others of their batch (an exporter's lost clock: 1970, years ahead),
   * counted at the batch's time; or lasting longer than 8 days, or
   * starting more than a day after they end, counted without a
   * duration. */
  uint64_t misdated_flows;
  uint64_t misdated_latest_ms; /* the latest one's end, as it came */
  /* Records left out for counters no traffic has: more than 65535 bytes
   * a packet (an IP packet's most) or less than one, in either
   * direction (a damaged record: a flipped high bit made "72 PB sent").
   * Counted in flows too; a count of packets without bytes, or bytes
   * without packets (NSEL's byte-only counters), is kept. */
  uint64_t implausible_flows;
  /* Records left out because another exporter had already reported the
   * same packets (the same direction of a connection at the same time:
   * two routers on one path). Counted in flows too; every count and
   * detector sees such traffic once. */
  uint64_t duplicate_flows;
} nfh_engine_stats;

const nfh_engine_stats *nfh_engine_get_stats(const nfh_engine *engine);

#ifdef __cplusplus
}
#endif
#endif
