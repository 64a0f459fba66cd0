/* clock.c - a module that watches the engine's clock for test_engine:
 * it counts the slot boundaries passed, the times of the flows it
 * got, their count and bytes, and those that started in a slot already
 * ended, and reports them in one finding's evidence at the end. */
#include <stdio.h>
#include <stdlib.h>

#include <nfhunt/plugin.h>

typedef struct clock_ctx {
  const nfh_host_api *api;
  unsigned long long slot_ends, first_ms, last_ms, flows, bytes;
  unsigned long long last_slot_end, late; /* flows starting in an ended slot */
} clock_ctx;

static void *clock_create(const nfh_host_api *api,
                          const nfh_plugin_setting *s, size_t n,
                          const char **error) {
  (void)s, (void)n, (void)error;
  clock_ctx *x = calloc(1, sizeof(*x));
  if (x)
    x->api = api;
  return x;
}

static int clock_on_flows(void *ctx, const nfh_flow *f, size_t n) {
  clock_ctx *x = ctx;
  for (size_t i = 0; i < n; i++, x->flows++) {
    if (!x->flows || f[i].first_ms < x->first_ms)
      x->first_ms = f[i].first_ms;
    if (f[i].last_ms > x->last_ms)
      x->last_ms = f[i].last_ms;
    x->late += f[i].first_ms < x->last_slot_end;
    x->bytes += f[i].bytes;
  }
  return 0;
}

static int clock_on_slot_end(void *ctx, uint64_t slot_end_ms) {
  clock_ctx *x = ctx;
  x->slot_ends++;
  x->last_slot_end = slot_end_ms;
  return 0;
}

static int clock_finish(void *ctx) {
  clock_ctx *x = ctx;
  char evidence[320];
  snprintf(
      evidence, sizeof(evidence),
      "{\"slot_ends\":%llu,\"late\":%llu,\"first_ms\":%llu,\"last_ms\":%llu,"
      "\"flows\":%llu,\"bytes\":%llu,"
      "\"window_start_ms\":%llu,\"window_end_ms\":%llu}",
      x->slot_ends, x->late, x->first_ms, x->last_ms, x->flows, x->bytes,
      (unsigned long long)x->api->window_start_ms(x->api->host),
      (unsigned long long)x->api->window_end_ms(x->api->host));
  nfh_finding f = {0};
  f.type = "clock";
  f.key = "clock";
  f.summary = "what the clock did";
  f.severity = NFH_SEV_INFO;
  f.evidence_json = evidence;
  return x->api->emit(x->api->host, &f);
}

static void clock_destroy(void *ctx) { free(ctx); }

static const nfh_plugin_descriptor descriptor = {
    .abi_version = NFH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nfh_plugin_descriptor),
    .name = "clock",
    .version = "0",
    .description = "watches the engine's clock",
    .wants = NFH_WANTS_FLOWS,
    .create = clock_create,
    .on_flows = clock_on_flows,
    .on_slot_end = clock_on_slot_end,
    .finish = clock_finish,
    .destroy = clock_destroy,
};

const nfh_plugin_descriptor *nfh_plugin_entry(void);

const nfh_plugin_descriptor *nfh_plugin_entry(void) { return &descriptor; }
