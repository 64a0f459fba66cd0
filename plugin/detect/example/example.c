/*
 * example.c - a complete, small detector module: the model for a site's
 * own detectors (see nfhunt-plugin(3)).
 *
 * It reports internal hosts that speak a cleartext remote-login protocol
 * (telnet, rlogin, rsh, by default) with an established session: old
 * habits that leak credentials, and a favourite of intruders and IoT
 * botnets. One finding per (client, server, port), with the number of
 * sessions and bytes. Parameters:
 *   ports = 23,513,514    destination ports to watch
 *   min_sessions = 1      sessions before a pair is reported
 *   severity = low        how bad the site rates it (info..critical)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/plugin.h>

#define MAX_PORTS 32
#define MAX_PAIRS 4096

typedef struct pair {
  nfh_addr client, server;
  uint16_t port;
  uint32_t sessions;
  uint64_t bytes;
  uint64_t first_ms, last_ms;
} pair;

typedef struct example {
  const nfh_host_api *api;
  uint16_t ports[MAX_PORTS];
  size_t nports;
  uint32_t min_sessions;
  nfh_severity severity;
  pair *pairs;
  size_t npairs;
} example;

static int parse_ports(example *x, const char *list) {
  x->nports = 0;
  const char *p = list;
  while (*p) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 1 || v > 65535 || x->nports == MAX_PORTS)
      return -1;
    x->ports[x->nports++] = (uint16_t)v;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return -1;
  }
  return x->nports ? 0 : -1;
}

static void *example_create(const nfh_host_api *api,
                            const nfh_plugin_setting *settings, size_t n,
                            const char **error) {
  /* create() has no context to keep a message in when it fails: the
   * text lives in thread-local storage until the next failed create. */
  static __thread char message[160];
  example *x = calloc(1, sizeof(*x));
  if (!x) {
    *error = "out of memory";
    return NULL;
  }
  x->api = api;
  x->min_sessions = 1;
  x->severity = NFH_SEV_LOW;
  parse_ports(x, "23,513,514");
  for (size_t i = 0; i < n; i++) {
    const char *k = settings[i].key, *v = settings[i].value;
    int bad;
    if (strcmp(k, "ports") == 0) {
      bad = parse_ports(x, v) != 0;
    } else if (strcmp(k, "min_sessions") == 0) {
      char *end;
      unsigned long m = strtoul(v, &end, 10);
      bad = *end || m < 1 || m > 1000000;
      x->min_sessions = (uint32_t)m;
    } else if (strcmp(k, "severity") == 0) {
      bad = nfh_severity_parse(v, &x->severity) != 0;
    } else {
      snprintf(message, sizeof(message),
               "unknown parameter '%s' (known: ports, min_sessions, "
               "severity)",
               k);
      *error = message;
      free(x);
      return NULL;
    }
    if (bad) {
      snprintf(message, sizeof(message), "bad value '%s' for %s", v, k);
      *error = message;
      free(x);
      return NULL;
    }
  }
  x->pairs = calloc(MAX_PAIRS, sizeof(pair));
  if (!x->pairs) {
    free(x);
    *error = "out of memory";
    return NULL;
  }
  return x;
}

static int watched(const example *x, uint16_t port) {
  for (size_t i = 0; i < x->nports; i++)
    if (x->ports[i] == port)
      return 1;
  return 0;
}

static int example_on_conns(void *ctx, const nfh_conn *conns, size_t n) {
  example *x = ctx;
  for (size_t i = 0; i < n; i++) {
    const nfh_conn *c = &conns[i];
    if (c->proto != 6 || !(c->flags & NFH_CONN_ESTABLISHED) ||
        !watched(x, c->server_port) || !(c->flags & NFH_CONN_CLIENT_HOME))
      continue;
    if (x->api->is_allowed(x->api->host, "example", &c->server,
                           c->server_port))
      continue;
    pair *p = NULL;
    for (size_t k = 0; k < x->npairs; k++) {
      pair *q = &x->pairs[k];
      if (q->port == c->server_port &&
          nfh_addr_compare(&q->client, &c->client) == 0 &&
          nfh_addr_compare(&q->server, &c->server) == 0) {
        p = q;
        break;
      }
    }
    if (!p) {
      if (x->npairs == MAX_PAIRS)
        continue; /* bounded: later pairs are dropped */
      p = &x->pairs[x->npairs++];
      p->client = c->client;
      p->server = c->server;
      p->port = c->server_port;
      p->first_ms = c->first_ms;
    }
    p->sessions++;
    p->bytes += c->client_bytes + c->server_bytes;
    if (c->first_ms < p->first_ms)
      p->first_ms = c->first_ms;
    if (c->last_ms > p->last_ms)
      p->last_ms = c->last_ms;
  }
  return 0;
}

static int example_finish(void *ctx) {
  example *x = ctx;
  for (size_t i = 0; i < x->npairs; i++) {
    const pair *p = &x->pairs[i];
    if (p->sessions < x->min_sessions)
      continue;
    char client[NFH_ADDR_STRLEN], server[NFH_ADDR_STRLEN];
    nfh_addr_format(&p->client, client, sizeof(client));
    nfh_addr_format(&p->server, server, sizeof(server));
    char key[160], summary[256], evidence[160];
    snprintf(key, sizeof(key), "%s|%s|tcp/%u", client, server, p->port);
    snprintf(summary, sizeof(summary),
             "%s logged in to %s over cleartext tcp/%u (%u sessions)",
             client, server, p->port, p->sessions);
    snprintf(evidence, sizeof(evidence),
             "{\"sessions\": %u, \"bytes\": %" PRIu64 "}", p->sessions,
             p->bytes);
    nfh_finding f;
    memset(&f, 0, sizeof(f));
    f.type = "cleartext_login";
    f.key = key;
    f.severity = x->severity;
    /* Low: 20, critical: 80; the host moves a score outside its
     * severity's range to the range's nearest end (medium 45, high 75,
     * critical 90). */
    f.score = 20.0 * (double)x->severity;
    f.confidence = 0.9;
    f.src = p->client;
    f.dst = p->server;
    f.dst_port = p->port;
    f.proto = 6;
    f.first_ms = p->first_ms;
    f.last_ms = p->last_ms;
    f.mitre = "T1021,T1040";
    f.summary = summary;
    f.evidence_json = evidence;
    if (x->api->emit(x->api->host, &f) != 0)
      return -1;
  }
  return 0;
}

static void example_destroy(void *ctx) {
  example *x = ctx;
  if (!x)
    return;
  free(x->pairs);
  free(x);
}

static const nfh_plugin_descriptor descriptor = {
    .abi_version = NFH_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nfh_plugin_descriptor),
    .name = "example",
    .version = "1.0",
    .description = "cleartext remote logins (telnet, rlogin, rsh)",
    .wants = NFH_WANTS_CONNS,
    .create = example_create,
    .on_conns = example_on_conns,
    .finish = example_finish,
    .destroy = example_destroy,
};

const nfh_plugin_descriptor *nfh_plugin_entry(void);

const nfh_plugin_descriptor *nfh_plugin_entry(void) { return &descriptor; }
