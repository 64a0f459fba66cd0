/*
 * fuzz_state.c - libFuzzer harness for the detectors' saved-state blobs.
 *
 * The first byte of an input picks a detector (modulo the number of
 * detectors with a state); the rest is the blob its state_load gets, as
 * if the state database had handed it back damaged. The detector is
 * created with no settings through a host whose callbacks are harmless
 * stubs, loads the blob, finishes (so that what was loaded is used),
 * saves its state as the host would after a run, and is destroyed. What
 * it saved is loaded into a second context, which must take it without
 * a warning. The only acceptable outcomes are 0 or -1 from each
 * callback: no crash, no hang, no sanitizer report, no leak.
 *
 * The detectors are linked in statically. Each module exports the same
 * symbol, nfh_plugin_entry, so the build compiles each detector's entry
 * file with -Dnfh_plugin_entry=nfh_fuzz_entry_NAME (NAME its directory
 * under plugin/detect/).
 *
 * Built by `make fuzz-state` with clang -fsanitize=fuzzer,address,
 * undefined; tests/fuzz/replay.c runs the same entry point over
 * tests/fuzz/corpus-state in `make check`.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/plugin.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The entry points, renamed by the build (see above). */
const nfh_plugin_descriptor *nfh_fuzz_entry_beacon(void);
const nfh_plugin_descriptor *nfh_fuzz_entry_exfil(void);
const nfh_plugin_descriptor *nfh_fuzz_entry_portscan(void);
const nfh_plugin_descriptor *nfh_fuzz_entry_volumetric(void);

/* The selector byte's meaning; the seed corpus depends on this order, so
 * new detectors go at the end. */
static const nfh_plugin_entry_fn detectors[] = {
    nfh_fuzz_entry_beacon,
    nfh_fuzz_entry_exfil,
    nfh_fuzz_entry_portscan,
    nfh_fuzz_entry_volumetric,
};
#define NDETECTORS (sizeof(detectors) / sizeof(detectors[0]))

/* The run's window: one hour from 2024-03-01 12:00 UTC, a day of history
 * before it. */
#define WINDOW_START_MS 1709294400000ull
#define WINDOW_END_MS (WINDOW_START_MS + 3600000ull)
#define HISTORY_MS 86400000ull

/* ---------------------------------------------------------- host stubs */

/* Takes every well-formed finding, as the host would, reading each of
 * its strings so that a bad one shows. */
static int stub_emit(nfh_host *host, const nfh_finding *f) {
  (void)host;
  if (!f->type || !f->key || !f->summary)
    return -1;
  volatile size_t sink = strlen(f->type) + strlen(f->key) + strlen(f->summary) +
                         (f->mitre ? strlen(f->mitre) : 0) +
                         (f->evidence_json ? strlen(f->evidence_json) : 0);
  (void)sink;
  return 0;
}

/* Home is 10.0.0.0/8, 192.168.0.0/16 and fc00::/7, as nfhunt's default
 * (172.16/12 left out: the stub needs no more). */
static int stub_is_home(nfh_host *host, const nfh_addr *a) {
  (void)host;
  if (a->family == 4)
    return a->bytes[0] == 10 || (a->bytes[0] == 192 && a->bytes[1] == 168);
  return a->family == 6 && (a->bytes[0] & 0xfe) == 0xfc;
}

static int stub_is_allowed(nfh_host *host, const char *detector,
                           const nfh_addr *addr, int port) {
  (void)host;
  (void)detector;
  (void)addr;
  (void)port;
  return 0;
}

/* Warnings and errors logged so far: loading a blob the detector itself
 * saved must log none. */
static unsigned long warnings;

/* Formats the line (so that its arguments are read) and drops it. */
static void stub_log(nfh_host *host, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void stub_log(nfh_host *host, int level, const char *fmt, ...) {
  (void)host;
  if (level <= NFH_LOG_WARNING)
    warnings++;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
}

static uint64_t stub_window_start_ms(nfh_host *host) {
  (void)host;
  return WINDOW_START_MS;
}

static uint64_t stub_window_end_ms(nfh_host *host) {
  (void)host;
  return WINDOW_END_MS;
}

static uint64_t stub_history_ms(nfh_host *host) {
  (void)host;
  return HISTORY_MS;
}

static const nfh_host_api host_api = {
    .abi_version = NFH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nfh_host_api),
    .host = NULL,
    .emit = stub_emit,
    .is_home = stub_is_home,
    .is_allowed = stub_is_allowed,
    .log = stub_log,
    .window_start_ms = stub_window_start_ms,
    .window_end_ms = stub_window_end_ms,
    .history_ms = stub_history_ms,
};

/* ------------------------------------------------------------- harness */

/* A callback's result must be 0 or -1; anything else is a bug. */
static void check_rc(int rc) {
  if (rc != 0 && rc != -1)
    __builtin_trap();
}

/* Creates a context of 'd' with no settings and loads 'len' bytes into
 * it; NULL when create fails (only memory running out can do that). */
static void *load(const nfh_plugin_descriptor *d, const void *blob, size_t len,
                  int *rc) {
  const char *error = NULL;
  void *ctx = d->create(&host_api, NULL, 0, &error);
  if (!ctx)
    return NULL;
  *rc = d->state_load(ctx, blob, len);
  check_rc(*rc);
  return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const nfh_plugin_descriptor *d = detectors[data[0] % NDETECTORS]();
  if (!d->create || !d->state_load || !d->state_save || !d->destroy)
    __builtin_trap();
  int rc;
  void *ctx = load(d, data + 1, size - 1, &rc);
  if (!ctx)
    return 0;
  if (d->finish)
    check_rc(d->finish(ctx));
  void *saved = NULL;
  size_t saved_len = 0;
  rc = d->state_save(ctx, &saved, &saved_len);
  check_rc(rc);
  d->destroy(ctx);
  if (rc != 0)
    return 0;
  /* What a detector saved it must load again, as it is. */
  unsigned long before = warnings;
  void *again = load(d, saved, saved_len, &rc);
  if (again && (rc != 0 || warnings != before))
    __builtin_trap();
  d->destroy(again);
  free(saved);
  return 0;
}
