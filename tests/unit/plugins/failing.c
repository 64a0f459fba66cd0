/* failing.c - a module whose input callback fails: the host must disable
 * it, say so, and go on with the other detectors. */
#include <stdlib.h>

#include <nfhunt/plugin.h>

typedef struct failing {
  const nfh_host_api *api;
} failing;

static void *failing_create(const nfh_host_api *api,
                            const nfh_plugin_setting *s, size_t n,
                            const char **error) {
  (void)s, (void)n, (void)error;
  failing *x = calloc(1, sizeof(*x));
  if (x)
    x->api = api;
  return x;
}

static int failing_on_conns(void *ctx, const nfh_conn *c, size_t n) {
  failing *x = ctx;
  (void)c, (void)n;
  x->api->log(x->api->host, NFH_LOG_ERROR, "refusing input on purpose");
  return -1;
}

static int failing_finish(void *ctx) {
  (void)ctx;
  abort(); /* never reached: a disabled detector is not finished */
}

static void failing_destroy(void *ctx) { free(ctx); }

static const nfh_plugin_descriptor descriptor = {
    .abi_version = NFH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nfh_plugin_descriptor),
    .name = "failing",
    .version = "0",
    .description = "fails on purpose",
    .wants = NFH_WANTS_CONNS,
    .create = failing_create,
    .on_conns = failing_on_conns,
    .finish = failing_finish,
    .destroy = failing_destroy,
};

const nfh_plugin_descriptor *nfh_plugin_entry(void);

const nfh_plugin_descriptor *nfh_plugin_entry(void) { return &descriptor; }
