/*
 * nfhunt/plugin.h - the detector plugin ABI.
 *
 * A detector is a shared object in the plugin directory exporting one
 * symbol, NFH_PLUGIN_ENTRY_SYMBOL ("nfh_plugin_entry"), a function
 * returning a pointer to a constant nfh_plugin_descriptor. The host
 * checks abi_version and struct_size before it touches anything else,
 * then calls, for each run:
 *
 *   create(host, config)           once, with this detector's settings
 *   state_load(ctx, blob)          once, if the state holds a blob for it
 *   on_flows(ctx, flows, n)        for every batch of raw flow records
 *   on_conns(ctx, conns, n)        for every batch of stitched connections
 *   on_slot_end(ctx, slot_end_ms)  each time the data's clock (the
 *                                  latest record start seen) passes a
 *                                  5-minute slot boundary (in time
 *                                  order); over a
 *                                  gap in the data longer than a day,
 *                                  only the gap's last boundary
 *   finish(ctx)                    at the end: emit findings via the host
 *   state_save(ctx, &blob)         to keep state for the next run
 *   destroy(ctx)
 *
 * Callbacks are called from one thread, never concurrently for one
 * context. A callback that returns non-zero is reported (the plugin
 * says why through api->log first) and the detector is disabled for the
 * rest of the run; the run itself goes on. Its state is then not saved,
 * so the next run starts from the state it had before.
 *
 * Compatibility: fields are only ever appended to the structs here. A
 * descriptor built against a newer minor version (larger struct_size)
 * loads; the host reads only the fields it knows. A different major
 * version is refused with a message naming both versions. The structs
 * handed over in arrays or by value (nfh_flow, nfh_conn, nfh_finding)
 * have no size field of their own: any change of their layout bumps the
 * major version.
 */
#ifndef NFHUNT_PLUGIN_H
#define NFHUNT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/conn.h>
#include <nfhunt/finding.h>
#include <nfhunt/flow.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: major in the high 16 bits, minor in the low 16. */
#define NFH_PLUGIN_ABI_MAJOR 1
#define NFH_PLUGIN_ABI_MINOR 0
#define NFH_PLUGIN_ABI_VERSION                                                \
  ((uint32_t)NFH_PLUGIN_ABI_MAJOR << 16 | NFH_PLUGIN_ABI_MINOR)

#define NFH_PLUGIN_ENTRY_SYMBOL "nfh_plugin_entry"

/* Log levels of nfh_host_api.log. */
#define NFH_LOG_ERROR 0
#define NFH_LOG_WARNING 1
#define NFH_LOG_INFO 2
#define NFH_LOG_DEBUG 3

/* Capability bits of nfh_plugin_descriptor.wants. */
#define NFH_WANTS_FLOWS 0x01u /* call on_flows with raw records */
#define NFH_WANTS_CONNS 0x02u /* call on_conns with stitched connections */

typedef struct nfh_host nfh_host; /* opaque to plugins */

/* One "key = value" setting of this detector, from nfhunt.conf's
 * [detector NAME] section or --set NAME.key=value. */
typedef struct nfh_plugin_setting {
  const char *key;
  const char *value;
} nfh_plugin_setting;

/* What the host offers a detector. Valid from create to destroy. */
typedef struct nfh_host_api {
  uint32_t abi_version; /* NFH_PLUGIN_ABI_VERSION of the host */
  uint32_t struct_size; /* sizeof(nfh_host_api) of the host */
  nfh_host *host;       /* pass back to every call below */

  /* Reports a finding; the host copies it. Returns 0, or -1 when the
   * finding is malformed (missing type/key/summary, bad evidence JSON). */
  int (*emit)(nfh_host *host, const nfh_finding *finding);

  /* Whether addr lies in the configured home networks. */
  int (*is_home)(nfh_host *host, const nfh_addr *addr);

  /* Whether (addr, port, proto) is allowlisted for this detector; port
   * -1 asks about the host as a whole. A rule for the host as a whole
   * answers for every port too. */
  int (*is_allowed)(nfh_host *host, const char *detector,
                    const nfh_addr *addr, int port);

  /* Logs one line, prefixed with the detector's name by the host. */
  void (*log)(nfh_host *host, int level, const char *fmt, ...)
      __attribute__((format(printf, 3, 4)));

  /* Data time of the run: the window [start, end] in epoch ms, as far as
   * known at the time of the call (end grows while flows arrive). */
  uint64_t (*window_start_ms)(nfh_host *host);
  uint64_t (*window_end_ms)(nfh_host *host);

  /* Milliseconds of data the state has seen before this run (0 on a
   * first run): detectors lower their confidence while this is short. */
  uint64_t (*history_ms)(nfh_host *host);
} nfh_host_api;

typedef struct nfh_plugin_descriptor {
  uint32_t abi_version; /* NFH_PLUGIN_ABI_VERSION the plugin was built with */
  uint32_t struct_size; /* sizeof(nfh_plugin_descriptor) */
  const char *name;     /* short, [a-z0-9_]; names config sections */
  const char *version;  /* the plugin's own version */
  const char *description; /* one line */
  uint32_t wants;          /* NFH_WANTS_* */

  /* Creates a context; settings are borrowed for the call only. An
   * unknown key or a bad value should fail with *error set to a message
   * that stays valid until the plugin's next call on this thread (a
   * static string, or a thread-local buffer of the plugin's): the host
   * copies it at once. Returns the context or NULL on failure. */
  void *(*create)(const nfh_host_api *api, const nfh_plugin_setting *settings,
                  size_t nsettings, const char **error);

  /* Input. Arrays are borrowed for the call only. Return 0 or -1. */
  int (*on_flows)(void *ctx, const nfh_flow *flows, size_t n);
  int (*on_conns)(void *ctx, const nfh_conn *conns, size_t n);
  int (*on_slot_end)(void *ctx, uint64_t slot_end_ms);

  /* Emits the run's findings through api->emit. Return 0 or -1. */
  int (*finish)(void *ctx);

  /* Persistent state, optional (both NULL for a stateless detector).
   * state_load gets the blob the last state_save produced (borrowed for
   * the call); a blob it does not understand (older format) it should
   * ignore and return 0. state_save sets *data to a buffer allocated
   * with malloc(3), and *len; the host owns *data from then on and frees
   * it whatever the return (on -1 it keeps the state of the last good
   * save). Return 0 or -1. */
  int (*state_load)(void *ctx, const void *data, size_t len);
  int (*state_save)(void *ctx, void **data, size_t *len);

  /* Frees the context. NULL is a no-op. */
  void (*destroy)(void *ctx);
} nfh_plugin_descriptor;

/* The one symbol a detector module exports. */
typedef const nfh_plugin_descriptor *(*nfh_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
