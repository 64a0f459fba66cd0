/* engine.c - the detection engine and plugin host; see nfhunt/engine.h. */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <pthread.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/engine.h>
#include <nfhunt/plugin.h>

#include "../common/alloc.h"
#include "../model/stitch.h"
#include "../report/evidence.h"
#include "builtin.h"

#define SLOT_MS 300000u
/* The stitcher's defaults (engine.h): records of one 5-tuple this close
 * are one connection (exporters' inactive timeout, 15 s by default,
 * plus slack), and a connection is held this long after its last record
 * (an active timeout and the export delay). */
#define STITCH_GAP_MS 16000u
#define STITCH_HOLD_MS 300000u
/* A slot is declared over once data time is this far past its end, so
 * that records exported late still land in it. */
#define SLOT_GRACE_MS 60000u
/* A record's end this far from the others of its batch is a broken
 * clock (see set_misdated_right); so is a record open longer than
 * MAX_RECORD_MS (exporters end long sessions' records far sooner: an
 * active timeout of minutes, softflowd's longest lifetime a week). */
#define MISDATED_MS (24ull * 3600 * 1000)
#define MAX_RECORD_MS (8 * MISDATED_MS)

typedef struct netblock {
  uint8_t bytes[16]; /* IPv4 as mapped */
  unsigned bits;     /* prefix length in the 128-bit space */
  uint8_t family;
} netblock;

typedef struct allow_rule {
  char *detector; /* "*" for all */
  netblock net;
  int port; /* -1: any */
} allow_rule;

typedef struct setting {
  char *detector, *key, *value;
} setting;

struct nfh_host {
  nfh_engine *engine;
  size_t module;
};

/* A unit of detector input, shared by every detector that wants it and
 * freed by the last one done with it. */
typedef enum job_kind { JOB_FLOWS, JOB_CONNS, JOB_SLOT_END } job_kind;

typedef struct job {
  job_kind kind;
  int refs; /* guarded by the engine's job_lock */
  size_t n;
  uint64_t slot_end_ms;
  void *items; /* nfh_flow[] or nfh_conn[], owned by the job */
  size_t capacity; /* bytes allocated at items */
} job;

/* Each detector runs on a thread of its own fed by a bounded queue: the
 * detectors then use the cores that reading leaves, and one slow
 * detector does not hold up the others beyond the queue's depth. */
#define QUEUE_DEPTH 16

typedef struct worker {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t ready; /* a job arrived, or stop */
  pthread_cond_t space; /* a job was taken */
  job *queue[QUEUE_DEPTH];
  size_t head, count;
  int stop;
  int finish; /* with stop: run the detector's finish, then exit */
  int finish_rc;
  int finished; /* finish ran on the worker (finish_rc holds its result) */
  int started;
} worker;

typedef struct module {
  void *handle;
  const nfh_plugin_descriptor *desc;
  nfh_plugin_info info;
  char *path;
  char *error;
  nfh_host host;
  nfh_host_api api;
  void *ctx;
  int started;
  /* Set by the module's worker, read by the main thread while it
   * dispatches as well as after the join: only through module_failed()
   * and mark_failed(). */
  int failed;
  worker w;
} module;

struct nfh_engine {
  char *plugin_dir;
  size_t failed; /* detectors disabled after they started */
  /* Modules of the plugin directory that did not load, by name (the
   * file's, less ".so"): nfh_engine_unloaded. */
  char **unloaded;
  size_t nunloaded;
  uint32_t gap_ms, hold_ms;
  nfh_log_fn log;
  void *log_user;

  netblock *home;
  size_t nhome;
  int home_is_default;
  allow_rule *allow;
  size_t nallow;
  setting *settings;
  size_t nsettings;
  char *only;

  module *modules;
  size_t nmodules;

  nfh__stitcher *stitcher;
  nfh_flow *redated; /* a batch with its misdated records set right */
  size_t redated_cap;
  nfh_flow *halves; /* a batch with its two-way records split in two */
  size_t halves_cap;
  uint64_t *ends; /* scratch: a batch's end times, sorted */
  size_t ends_cap;
  uint8_t *twice; /* scratch: the stitcher's seen_twice marks of a batch */
  size_t twice_cap;
  /* Connection jobs the stitcher completed while a batch was added, kept
   * until the batch's flows are dispatched: detectors get a batch's
   * flows before the connections it completed, as they did when the
   * flows were dispatched first (the stitcher now decides which flows
   * are duplicates, so it runs first). */
  job **held;
  size_t nheld, held_cap;
  int holding;
  uint64_t start_ms; /* this host's clock at nfh_engine_start */
  uint64_t clock_ms; /* the data's clock: the latest record start seen */
  uint64_t next_slot_end; /* 0 until the first flow */
  uint64_t history_ms;
  uint64_t state_last_ms; /* the data time the state ends at, or 0 */
  nfh_engine_stats stats;

  nfh_report_finding *findings;
  size_t nfindings, findings_cap;

  int threaded;
  pthread_mutex_t job_lock;     /* job reference counts and the pool */
  job *pool[64]; /* finished jobs kept for reuse (JOB_POOL) */
  size_t pool_count;
  pthread_mutex_t finding_lock; /* findings from detector threads */
  pthread_mutex_t log_lock;     /* one log line at a time */
};

/* ---------------------------------------------------------------- util */

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void engine_log(nfh_engine *e, int level, const char *source,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void engine_log(nfh_engine *e, int level, const char *source,
                       const char *fmt, ...) {
  if (!e->log)
    return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  /* Detectors log from their threads: the callback gets one line at a
   * time, so that it needs no locking of its own. */
  pthread_mutex_lock(&e->log_lock);
  e->log(e->log_user, level, source, line);
  pthread_mutex_unlock(&e->log_lock);
}

/* A netblock from a network and its prefix length: the address in the
 * 16-byte form, the prefix counted there (an IPv4 /8 is 104 bits). */
static void netblock_set(netblock *out, const nfh_addr *net, unsigned bits) {
  memset(out, 0, sizeof(*out));
  out->family = net->family;
  out->bits = bits + (net->family == 4 ? 96 : 0);
  memcpy(out->bytes, net->bytes, sizeof(out->bytes));
}

static int parse_net(const char *text, netblock *out) {
  nfh_addr net;
  unsigned bits;
  if (nfh_cidr_parse(text, &net, &bits, NULL) != 0)
    return -1;
  netblock_set(out, &net, bits);
  return 0;
}

static int net_contains(const netblock *n, const nfh_addr *a) {
  if (a->family != n->family)
    return 0;
  unsigned full = n->bits / 8, rest = n->bits % 8;
  if (memcmp(a->bytes, n->bytes, full) != 0)
    return 0;
  if (rest) {
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    if ((a->bytes[full] & mask) != n->bytes[full])
      return 0;
  }
  return 1;
}

static const char *const default_home[] = {"10.0.0.0/8", "172.16.0.0/12",
                                            "192.168.0.0/16", "fc00::/7"};

/* ------------------------------------------------------- create/destroy */

nfh_status nfh_engine_create(const nfh_engine_options *options,
                             nfh_engine **out) {
  *out = NULL;
  if (options)
    for (size_t i = 0; i < 4; i++)
      if (options->reserved[i])
        return NFH_EINVAL;
  nfh_engine *e = nfh__calloc(1, sizeof(*e));
  if (!e)
    return NFH_ENOMEM;
  e->gap_ms = options && options->stitch_gap_ms ? options->stitch_gap_ms
                                                : STITCH_GAP_MS;
  e->threaded = !(options && options->serial);
  pthread_mutex_init(&e->job_lock, NULL);
  pthread_mutex_init(&e->finding_lock, NULL);
  pthread_mutex_init(&e->log_lock, NULL);
  e->hold_ms = options && options->stitch_hold_ms ? options->stitch_hold_ms
                                                  : STITCH_HOLD_MS;
  if (options) {
    e->log = options->log;
    e->log_user = options->log_user;
  }
  if (options && options->plugin_dir) {
    e->plugin_dir = nfh__strdup(options->plugin_dir);
    if (!e->plugin_dir) {
      nfh__free(e);
      return NFH_ENOMEM;
    }
  }
  for (size_t i = 0; i < sizeof(default_home) / sizeof(default_home[0]);
       i++) {
    if (nfh_engine_add_home_net(e, default_home[i]) != NFH_OK) {
      nfh_engine_destroy(e);
      return NFH_ENOMEM;
    }
  }
  e->home_is_default = 1;
  *out = e;
  return NFH_OK;
}

static void free_findings(nfh_engine *e) {
  for (size_t i = 0; i < e->nfindings; i++) {
    nfh_finding *f = &e->findings[i].f;
    nfh__free((char *)f->type);
    nfh__free((char *)f->key);
    nfh__free((char *)f->mitre);
    nfh__free((char *)f->summary);
    nfh__free((char *)f->evidence_json);
  }
  nfh__free(e->findings);
  e->findings = NULL;
  e->nfindings = e->findings_cap = 0;
}

static void stop_workers_finishing(nfh_engine *e, int finish);
static void start_workers(nfh_engine *e);

static void stop_workers(nfh_engine *e) { stop_workers_finishing(e, 0); }

void nfh_engine_destroy(nfh_engine *e) {
  if (!e)
    return;
  stop_workers(e);
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    if (m->ctx && m->desc->destroy)
      m->desc->destroy(m->ctx);
    if (m->handle)
      dlclose(m->handle);
    nfh__free(m->path);
    nfh__free(m->error);
  }
  nfh__free(e->modules);
  for (size_t i = 0; i < e->nunloaded; i++)
    nfh__free(e->unloaded[i]);
  nfh__free(e->unloaded);
  nfh__free(e->redated);
  nfh__free(e->halves);
  nfh__free(e->twice);
  nfh__free(e->held);
  nfh__free(e->ends);
  for (size_t i = 0; i < e->nallow; i++)
    nfh__free(e->allow[i].detector);
  nfh__free(e->allow);
  for (size_t i = 0; i < e->nsettings; i++) {
    nfh__free(e->settings[i].detector);
    nfh__free(e->settings[i].key);
    nfh__free(e->settings[i].value);
  }
  nfh__free(e->settings);
  nfh__free(e->home);
  nfh__free(e->only);
  nfh__free(e->plugin_dir);
  nfh__stitcher_destroy(e->stitcher);
  free_findings(e);
  for (size_t i = 0; i < e->pool_count; i++) {
    nfh__free(e->pool[i]->items);
    nfh__free(e->pool[i]);
  }
  pthread_mutex_destroy(&e->job_lock);
  pthread_mutex_destroy(&e->finding_lock);
  pthread_mutex_destroy(&e->log_lock);
  nfh__free(e);
}

/* -------------------------------------------------------- configuration */

/* Appends network 'cidr'; 'keep' keeps the defaults beside it, else the
 * first one added replaces them. */
static nfh_status add_home(nfh_engine *e, const char *cidr, int keep) {
  netblock n;
  if (parse_net(cidr, &n) != 0)
    return NFH_ESYNTAX;
  if (e->home_is_default && !keep)
    e->nhome = 0;
  e->home_is_default = 0;
  netblock *grown = nfh__realloc(e->home, (e->nhome + 1) * sizeof(n));
  if (!grown)
    return NFH_ENOMEM;
  e->home = grown;
  e->home[e->nhome++] = n;
  return NFH_OK;
}

nfh_status nfh_engine_add_home_net(nfh_engine *e, const char *cidr) {
  return add_home(e, cidr, 0);
}

nfh_status nfh_engine_extend_home_net(nfh_engine *e, const char *cidr) {
  return add_home(e, cidr, 1);
}

int nfh_engine_is_home(const nfh_engine *e, const nfh_addr *a) {
  for (size_t i = 0; i < e->nhome; i++)
    if (net_contains(&e->home[i], a))
      return 1;
  return 0;
}

size_t nfh_engine_home_net_count(const nfh_engine *e) { return e->nhome; }

int nfh_engine_home_is_default(const nfh_engine *e) {
  return e->home_is_default;
}

char *nfh_engine_home_net_text(const nfh_engine *e, size_t i, char *buf,
                               size_t len) {
  if (len == 0)
    return buf;
  buf[0] = '\0';
  if (i >= e->nhome)
    return buf;
  /* A netblock keeps IPv4 as mapped, the layout of an nfh_addr. */
  const netblock *n = &e->home[i];
  nfh_addr a;
  memcpy(a.bytes, n->bytes, sizeof(a.bytes));
  a.family = n->family;
  char text[NFH_ADDR_STRLEN];
  nfh_addr_format(&a, text, sizeof(text));
  snprintf(buf, len, "%s/%u", text, n->bits - (n->family == 4 ? 96 : 0));
  return buf;
}

nfh_status nfh_engine_allow(nfh_engine *e, const char *detector,
                            const char *spec) {
  allow_rule r;
  memset(&r, 0, sizeof(r));
  nfh_addr net;
  unsigned bits;
  if (nfh_cidr_port_parse(spec, &net, &bits, &r.port, NULL) != 0)
    return NFH_ESYNTAX;
  netblock_set(&r.net, &net, bits);
  r.detector = nfh__strdup(detector ? detector : "*");
  if (!r.detector)
    return NFH_ENOMEM;
  allow_rule *grown = nfh__realloc(e->allow, (e->nallow + 1) * sizeof(r));
  if (!grown) {
    nfh__free(r.detector);
    return NFH_ENOMEM;
  }
  e->allow = grown;
  e->allow[e->nallow++] = r;
  return NFH_OK;
}

nfh_status nfh_engine_set(nfh_engine *e, const char *detector,
                          const char *key, const char *value) {
  setting s = {nfh__strdup(detector), nfh__strdup(key), nfh__strdup(value)};
  setting *grown = s.detector && s.key && s.value
                       ? nfh__realloc(e->settings,
                                      (e->nsettings + 1) * sizeof(s))
                       : NULL;
  if (!grown) {
    nfh__free(s.detector);
    nfh__free(s.key);
    nfh__free(s.value);
    return NFH_ENOMEM;
  }
  e->settings = grown;
  e->settings[e->nsettings++] = s;
  return NFH_OK;
}

nfh_status nfh_engine_only(nfh_engine *e, const char *names) {
  nfh__free(e->only);
  e->only = NULL;
  if (names && *names) {
    e->only = nfh__strdup(names);
    if (!e->only)
      return NFH_ENOMEM;
  }
  return NFH_OK;
}

static int name_listed(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0)
      return 1;
    p = comma ? comma + 1 : NULL;
  }
  return 0;
}

/* ------------------------------------------------------------ host API */

static const char *module_name(const nfh_host *h) {
  return h->engine->modules[h->module].desc->name;
}

static nfh_status keep_finding(nfh_engine *e, const char *detector,
                               const nfh_finding *f);

static int api_emit(nfh_host *h, const nfh_finding *f) {
  nfh_engine *e = h->engine;
  if (!f || !f->type || !*f->type || !f->key || !*f->key || !f->summary ||
      !*f->summary) {
    engine_log(e, NFH_LOG_WARNING, module_name(h),
               "finding refused: type, key and summary are required");
    return -1;
  }
  if (f->evidence_json) {
    json_error_t err;
    json_t *j = nfh__evidence_parse(f->evidence_json, &err);
    int ok = j && json_is_object(j);
    json_decref(j);
    if (!ok) {
      engine_log(e, NFH_LOG_WARNING, module_name(h),
                 "finding refused: evidence is not a JSON object (%s)",
                 err.text);
      return -1;
    }
  }
  pthread_mutex_lock(&e->finding_lock);
  nfh_status st = keep_finding(e, module_name(h), f);
  pthread_mutex_unlock(&e->finding_lock);
  return st == NFH_OK ? 0 : -1;
}

static int api_is_home(nfh_host *h, const nfh_addr *a) {
  return nfh_engine_is_home(h->engine, a);
}

static int api_is_allowed(nfh_host *h, const char *detector,
                          const nfh_addr *a, int port) {
  const nfh_engine *e = h->engine;
  for (size_t i = 0; i < e->nallow; i++) {
    const allow_rule *r = &e->allow[i];
    if (strcmp(r->detector, "*") != 0 &&
        (!detector || strcmp(r->detector, detector) != 0))
      continue;
    if (r->port >= 0 && r->port != port)
      continue;
    if (net_contains(&r->net, a))
      return 1;
  }
  return 0;
}

static void api_log(nfh_host *h, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void api_log(nfh_host *h, int level, const char *fmt, ...) {
  nfh_engine *e = h->engine;
  if (!e->log)
    return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&e->log_lock);
  e->log(e->log_user, level, module_name(h), line);
  pthread_mutex_unlock(&e->log_lock);
}

static uint64_t api_window_start(nfh_host *h) {
  return h->engine->stats.first_ms;
}

static uint64_t api_window_end(nfh_host *h) {
  return h->engine->stats.last_ms;
}

static uint64_t api_history(nfh_host *h) { return h->engine->history_ms; }

/* ------------------------------------------------------------- modules */

static void disable(nfh_engine *e, module *m, const char *why) {
  if (m->started && m->info.enabled)
    e->failed++;
  m->info.enabled = 0;
  if (!m->error) {
    m->error = nfh__strdup(why);
    m->info.error = m->error;
  }
  engine_log(e, NFH_LOG_ERROR, m->desc ? m->desc->name : m->path,
             "disabled: %s", why);
}

/* Whether the ELF file at 'path' holds all that its headers say it
 * does. The dynamic loader maps a shared object's segments as the
 * program headers describe them; a file cut short (a copy interrupted,
 * a disk that filled up during an upgrade) maps pages past its end, and
 * reading them kills the process with SIGBUS inside dlopen(3). A file
 * that is not ELF at all is left to dlopen, which refuses it cleanly.
 * 0, or -1 with 'why' set. */
static int elf_is_whole(const char *path, char *why, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0; /* dlopen says why */
  struct stat sb;
  ElfW(Ehdr) eh;
  int rc = 0;
  if (fstat(fd, &sb) != 0 || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
    close(fd);
    return 0;
  }
  uint64_t size = (uint64_t)sb.st_size;
  if (eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
      eh.e_phentsize != sizeof(ElfW(Phdr)) ||
      (uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(ElfW(Phdr)) >
          size) {
    snprintf(why, len, "not a shared object of this machine, or cut short "
                       "(%" PRIu64 " bytes)", size);
    close(fd);
    return -1;
  }
  for (unsigned i = 0; i < eh.e_phnum && rc == 0; i++) {
    ElfW(Phdr) ph;
    if (pread(fd, &ph, sizeof(ph),
              (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) != sizeof(ph)) {
      snprintf(why, len, "its program headers cannot be read");
      rc = -1;
    } else if (ph.p_type == PT_LOAD &&
               (uint64_t)ph.p_offset + (uint64_t)ph.p_filesz > size) {
      snprintf(why, len,
               "cut short: a segment ends at byte %" PRIu64 " of %" PRIu64,
               (uint64_t)ph.p_offset + (uint64_t)ph.p_filesz, size);
      rc = -1;
    }
  }
  close(fd);
  return rc;
}

/* Checks descriptor d (of the module at 'path') and adds it, with
 * 'handle' (dlopen's, or NULL for one linked in) given to the engine.
 * On failure the handle is closed. */
static nfh_status add_detector(nfh_engine *e, const nfh_plugin_descriptor *d,
                               const char *path, void *handle) {
  nfh_status st = NFH_EPLUGIN;
  if (d->abi_version >> 16 != NFH_PLUGIN_ABI_MAJOR ||
      d->struct_size < offsetof(nfh_plugin_descriptor, destroy) +
                           sizeof(d->destroy)) {
    engine_log(e, NFH_LOG_ERROR, "engine",
               "%s: plugin ABI %u.%u (descriptor %u bytes), this nfhunt "
               "speaks ABI %u.%u: rebuild the plugin against this "
               "nfhunt/plugin.h",
               path, d->abi_version >> 16, d->abi_version & 0xffff,
               d->struct_size, NFH_PLUGIN_ABI_MAJOR, NFH_PLUGIN_ABI_MINOR);
    st = NFH_EABI;
    goto refused;
  }
  if (!d->name || !*d->name || !d->create || !d->finish || !d->destroy) {
    engine_log(e, NFH_LOG_ERROR, "engine",
               "%s: descriptor lacks name, create, finish or destroy", path);
    goto refused;
  }
  for (size_t i = 0; i < e->nmodules; i++) {
    if (strcmp(e->modules[i].desc->name, d->name) == 0) {
      engine_log(e, NFH_LOG_WARNING, "engine",
                 "%s: a detector named %s is loaded already (%s); skipped",
                 path, d->name, e->modules[i].path);
      goto refused;
    }
  }
  module *grown =
      nfh__realloc(e->modules, (e->nmodules + 1) * sizeof(module));
  if (!grown) {
    st = NFH_ENOMEM;
    goto refused;
  }
  e->modules = grown;
  module *m = &e->modules[e->nmodules];
  memset(m, 0, sizeof(*m));
  m->path = nfh__strdup(path);
  if (!m->path) {
    st = NFH_ENOMEM;
    goto refused;
  }
  m->handle = handle;
  m->desc = d;
  m->info.name = d->name;
  m->info.version = d->version ? d->version : "?";
  m->info.description = d->description ? d->description : "";
  m->info.path = m->path;
  m->info.enabled = 1;
  e->nmodules++;
  return NFH_OK;
refused:
  if (handle)
    dlclose(handle);
  return st;
}

nfh_status nfh__engine_add_builtin(nfh_engine *e,
                                   const nfh_plugin_descriptor *d,
                                   const char *origin) {
  if (!d)
    return NFH_EINVAL;
  return add_detector(e, d, origin, NULL);
}

nfh_status nfh_engine_load_module(nfh_engine *e, const char *path) {
  char why[160];
  if (elf_is_whole(path, why, sizeof(why)) != 0) {
    engine_log(e, NFH_LOG_ERROR, "engine", "%s: cannot load: %s", path, why);
    return NFH_EPLUGIN;
  }
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    /* The hint only where a library the module needs is missing
     * ("PATH: libx.so.1: cannot open shared object file"), not for a
     * file too short or a directory named *.so. */
    const char *failure = dlerror();
    const char *missing =
        failure ? strstr(failure, ": cannot open shared object file") : NULL;
    int library = missing && (size_t)(missing - failure) > strlen(path) + 2;
    engine_log(e, NFH_LOG_ERROR, "engine", "%s: cannot load: %s%s", path,
               failure ? failure : "?",
               library ? " (ldd(1) shows missing libraries)" : "");
    return NFH_EPLUGIN;
  }
  nfh_plugin_entry_fn entry;
  *(void **)&entry = dlsym(handle, NFH_PLUGIN_ENTRY_SYMBOL);
  const nfh_plugin_descriptor *d = entry ? entry() : NULL;
  if (!d) {
    engine_log(e, NFH_LOG_ERROR, "engine",
               "%s: no %s() or it returned NULL: not an nfhunt detector",
               path, NFH_PLUGIN_ENTRY_SYMBOL);
    dlclose(handle);
    return NFH_EPLUGIN;
  }
  return add_detector(e, d, path, handle);
}

/* Remembers that the module 'name' did not load. NFH_OK or NFH_ENOMEM. */
static nfh_status note_unloaded(nfh_engine *e, const char *name) {
  char **grown = nfh__realloc(e->unloaded, (e->nunloaded + 1) * sizeof(char *));
  if (!grown)
    return NFH_ENOMEM;
  e->unloaded = grown;
  if (!(e->unloaded[e->nunloaded] = nfh__strdup(name)))
    return NFH_ENOMEM;
  e->nunloaded++;
  return NFH_OK;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

nfh_status nfh_engine_load_plugins(nfh_engine *e) {
  if (!e->plugin_dir)
    return NFH_OK;
  DIR *d = opendir(e->plugin_dir);
  if (!d) {
    engine_log(e, NFH_LOG_ERROR, "engine", "plugin directory %s: cannot read",
               e->plugin_dir);
    return NFH_ENOTFOUND;
  }
  char **names = NULL;
  size_t n = 0;
  struct dirent *de;
  nfh_status st = NFH_OK;
  while ((de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name);
    /* Exactly "*.so": not "x.so.bak", not "x.so.1". */
    if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0 ||
        de->d_name[0] == '.')
      continue;
    char **grown = nfh__realloc(names, (n + 1) * sizeof(char *));
    if (!grown || !(grown[n] = nfh__strdup(de->d_name))) {
      names = grown ? grown : names;
      st = NFH_ENOMEM;
      break;
    }
    names = grown;
    n++;
  }
  closedir(d);
  if (st == NFH_OK && n > 1)
    qsort(names, n, sizeof(char *), compare_names);
  for (size_t i = 0; st == NFH_OK && i < n; i++) {
    char base[256];
    snprintf(base, sizeof(base), "%s", names[i]);
    base[strlen(base) - 3] = '\0';
    if (e->only && !name_listed(e->only, base))
      continue;
    size_t len = strlen(e->plugin_dir) + strlen(names[i]) + 2;
    char *path = nfh__malloc(len);
    if (!path) {
      st = NFH_ENOMEM;
      break;
    }
    snprintf(path, len, "%s/%s", e->plugin_dir, names[i]);
    nfh_status ls = nfh_engine_load_module(e, path);
    if (ls == NFH_ENOMEM)
      st = ls;
    else if (ls != NFH_OK)
      st = note_unloaded(e, base);
    nfh__free(path);
  }
  for (size_t i = 0; i < n; i++)
    nfh__free(names[i]);
  nfh__free(names);
  return st;
}

size_t nfh_engine_plugin_count(const nfh_engine *e) { return e->nmodules; }

size_t nfh_engine_failed_count(const nfh_engine *e) { return e->failed; }

const char *nfh_engine_unloaded(const nfh_engine *e, size_t i) {
  return i < e->nunloaded ? e->unloaded[i] : NULL;
}

const nfh_plugin_info *nfh_engine_plugin(const nfh_engine *e, size_t i) {
  return i < e->nmodules ? &e->modules[i].info : NULL;
}

/* ------------------------------------------------------------- running */

static int setting_is_false(const char *v) {
  return strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
         strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0;
}

static int conn_sink(void *user, const nfh_conn *conns, size_t n);

/* Binds module i's host API, and gathers the detector's settings into
 * *out (allocated, owned by the caller; *n of them). "enabled" is the
 * engine's: a false one disables the module here. NFH_OK or NFH_ENOMEM. */
static nfh_status prepare_module(nfh_engine *e, size_t i,
                                 nfh_plugin_setting **out, size_t *n) {
  module *m = &e->modules[i];
  const nfh_plugin_descriptor *d = m->desc;
  m->host.engine = e;
  m->host.module = i;
  m->api.abi_version = NFH_PLUGIN_ABI_VERSION;
  m->api.struct_size = sizeof(nfh_host_api);
  m->api.host = &m->host;
  m->api.emit = api_emit;
  m->api.is_home = api_is_home;
  m->api.is_allowed = api_is_allowed;
  m->api.log = api_log;
  m->api.window_start_ms = api_window_start;
  m->api.window_end_ms = api_window_end;
  m->api.history_ms = api_history;
  size_t ns = 0;
  nfh_plugin_setting *set =
      nfh__calloc(e->nsettings ? e->nsettings : 1, sizeof(*set));
  if (!set)
    return NFH_ENOMEM;
  for (size_t k = 0; k < e->nsettings; k++) {
    if (strcmp(e->settings[k].detector, d->name) != 0)
      continue;
    if (strcmp(e->settings[k].key, "enabled") == 0) {
      if (setting_is_false(e->settings[k].value)) {
        m->info.enabled = 0;
        if (!m->error) {
          m->error = nfh__strdup("disabled in the configuration");
          m->info.error = m->error;
        }
      }
      continue;
    }
    set[ns].key = e->settings[k].key;
    set[ns].value = e->settings[k].value;
    ns++;
  }
  *out = set;
  *n = ns;
  return NFH_OK;
}

nfh_status nfh_engine_check_settings(nfh_engine *e) {
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    int usable = m->info.enabled; /* loaded, and not left out */
    nfh_plugin_setting *set;
    size_t ns;
    if (prepare_module(e, i, &set, &ns) != NFH_OK)
      return NFH_ENOMEM;
    /* A detector disabled in the configuration is tried too: its
     * mistakes would otherwise wait for the day it is enabled again. */
    if (usable && !m->ctx) {
      const char *error = NULL;
      void *ctx = m->desc->create(&m->api, set, ns, &error);
      if (ctx)
        m->desc->destroy(ctx);
      else {
        /* Not logged: the caller reports it, where it was set. */
        char why[300];
        snprintf(why, sizeof(why), "create failed: %s",
                 error ? error : "no reason given");
        m->info.enabled = 0;
        nfh__free(m->error);
        m->error = nfh__strdup(why);
        m->info.error = m->error;
      }
    }
    nfh__free(set);
  }
  return NFH_OK;
}

nfh_status nfh_engine_start(nfh_engine *e, nfh_state *state) {
  e->start_ms = now_ms();
  if (!e->stitcher &&
      nfh__stitcher_create(e->gap_ms, e->hold_ms, conn_sink, e,
                           &e->stitcher) != NFH_OK)
    return NFH_ENOMEM;
  if (state) {
    uint64_t first = 0, last = 0;
    nfh_state_get_u64(state, "data_first_ms", &first);
    nfh_state_get_u64(state, "data_last_ms", &last);
    e->history_ms = last > first ? last - first : 0;
    e->state_last_ms = last;
  }
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    const nfh_plugin_descriptor *d = m->desc;
    nfh_plugin_setting *set;
    size_t ns;
    if (prepare_module(e, i, &set, &ns) != NFH_OK)
      return NFH_ENOMEM;
    if (m->info.enabled) {
      const char *error = NULL;
      m->ctx = d->create(&m->api, set, ns, &error);
      if (!m->ctx) {
        char why[300];
        snprintf(why, sizeof(why), "create failed: %s",
                 error ? error : "no reason given");
        disable(e, m, why);
      }
    }
    nfh__free(set);
    if (m->ctx && state && d->state_load) {
      void *blob = NULL;
      size_t len = 0;
      if (nfh_state_get_blob(state, d->name, &blob, &len) == NFH_OK && blob) {
        if (d->state_load(m->ctx, blob, len) != 0)
          engine_log(e, NFH_LOG_WARNING, d->name,
                     "its saved state was not usable; starting afresh");
      }
      free(blob);
    }
    m->started = 1;
  }
  start_workers(e);
  return NFH_OK;
}

/* Whether a callback of m failed. The main thread reads it while m's
 * worker may set it: atomically, and a 0 read just before costs one job
 * that the worker then skips. */
static int module_failed(const module *m) {
  return __atomic_load_n(&m->failed, __ATOMIC_ACQUIRE);
}

/* Marks m failed; its error text is set before, so that whoever reads
 * the mark reads the text. */
static void mark_failed(module *m) {
  __atomic_store_n(&m->failed, 1, __ATOMIC_RELEASE);
}

static int module_live(const module *m) {
  return m->ctx && m->info.enabled && !module_failed(m);
}

/* ------------------------------------------------------------- dispatch */

/* Finished jobs are kept for reuse (up to JOB_POOL): a batch of flows is
 * megabytes, and allocating and faulting in fresh pages for each one
 * cost more than the detectors' work. */
#define JOB_POOL 64
#define FLOW_JOB_MAX 2048

static job *job_new(nfh_engine *e, job_kind kind, size_t n,
                    size_t item_size) {
  size_t bytes = n * item_size;
  job *j = NULL;
  pthread_mutex_lock(&e->job_lock);
  if (e->pool_count)
    j = e->pool[--e->pool_count];
  pthread_mutex_unlock(&e->job_lock);
  if (!j) {
    j = nfh__calloc(1, sizeof(*j));
    if (!j)
      return NULL;
  }
  if (bytes > j->capacity) {
    void *grown = nfh__realloc(j->items, bytes);
    if (!grown) {
      nfh__free(j->items);
      nfh__free(j);
      return NULL;
    }
    j->items = grown;
    j->capacity = bytes;
  }
  j->kind = kind;
  j->n = n;
  j->slot_end_ms = 0;
  j->refs = 1; /* the dispatcher's, dropped once the job is queued */
  return j;
}

static void job_release(nfh_engine *e, job *j) {
  pthread_mutex_lock(&e->job_lock);
  int left = --j->refs;
  if (left == 0 && e->pool_count < JOB_POOL) {
    e->pool[e->pool_count++] = j;
    j = NULL;
  }
  pthread_mutex_unlock(&e->job_lock);
  if (left == 0 && j) {
    nfh__free(j->items);
    nfh__free(j);
  }
}

static int module_wants(const module *m, job_kind kind) {
  switch (kind) {
  case JOB_FLOWS:
    return (m->desc->wants & NFH_WANTS_FLOWS) && m->desc->on_flows;
  case JOB_CONNS:
    return (m->desc->wants & NFH_WANTS_CONNS) && m->desc->on_conns;
  case JOB_SLOT_END:
    return m->desc->on_slot_end != NULL;
  }
  return 0;
}

/* Runs one job in module m; a failure marks the module failed, which the
 * main thread turns into "disabled" once the worker has stopped. */
static void run_job(module *m, const job *j) {
  if (module_failed(m))
    return;
  int rc = 0;
  const char *what = "";
  switch (j->kind) {
  case JOB_FLOWS:
    rc = m->desc->on_flows(m->ctx, j->items, j->n);
    what = "on_flows failed";
    break;
  case JOB_CONNS:
    rc = m->desc->on_conns(m->ctx, j->items, j->n);
    what = "on_conns failed";
    break;
  case JOB_SLOT_END:
    rc = m->desc->on_slot_end(m->ctx, j->slot_end_ms);
    what = "on_slot_end failed";
    break;
  }
  if (rc != 0) {
    if (!m->error) {
      m->error = nfh__strdup(what);
      m->info.error = m->error;
    }
    mark_failed(m);
  }
}

static void *worker_main(void *arg) {
  module *m = arg;
  nfh_engine *e = m->host.engine;
  worker *w = &m->w;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->count && !w->stop)
      pthread_cond_wait(&w->ready, &w->lock);
    if (!w->count)
      break; /* stopped and drained */
    job *j = w->queue[w->head];
    w->head = (w->head + 1) % QUEUE_DEPTH;
    w->count--;
    pthread_cond_signal(&w->space);
    pthread_mutex_unlock(&w->lock);
    run_job(m, j);
    job_release(e, j);
    pthread_mutex_lock(&w->lock);
  }
  int finish = w->finish;
  pthread_mutex_unlock(&w->lock);
  /* The end of the run: each detector judges on its own thread, so that
   * the detectors' final passes (sorting, scoring, writing findings) run
   * side by side. Its last queued jobs ran first, in order. */
  if (finish && !module_failed(m) && m->info.enabled) {
    w->finish_rc = m->desc->finish(m->ctx);
    w->finished = 1;
  }
  return NULL;
}

static void start_workers(nfh_engine *e) {
  if (!e->threaded)
    return;
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    if (!module_live(m) || m->w.started)
      continue;
    pthread_mutex_init(&m->w.lock, NULL);
    pthread_cond_init(&m->w.ready, NULL);
    pthread_cond_init(&m->w.space, NULL);
    m->w.head = m->w.count = 0;
    m->w.stop = 0;
    if (pthread_create(&m->w.thread, NULL, worker_main, m) == 0) {
      m->w.started = 1;
      /* Named after its detector, so that top -H and perf tell which
       * one is busy (15 characters at most; the name is cut). */
      char name[16];
      snprintf(name, sizeof(name), "nfh-%s", m->info.name);
      pthread_setname_np(m->w.thread, name);
    } else {
      pthread_mutex_destroy(&m->w.lock);
      pthread_cond_destroy(&m->w.ready);
      pthread_cond_destroy(&m->w.space);
      /* Without a thread the module runs inline. */
    }
  }
}

/* Lets every worker finish its queue, then joins it and reports the
 * detectors that failed on the way. With 'finish', each worker runs its
 * detector's finish callback last (see worker_main): all are told first
 * and joined after, so that the detectors finish side by side. */
static void stop_workers_finishing(nfh_engine *e, int finish) {
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    if (!m->w.started)
      continue;
    pthread_mutex_lock(&m->w.lock);
    m->w.stop = 1;
    m->w.finish = finish;
    m->w.finished = 0;
    pthread_cond_signal(&m->w.ready);
    pthread_mutex_unlock(&m->w.lock);
  }
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    if (!m->w.started)
      continue;
    pthread_join(m->w.thread, NULL);
    pthread_mutex_destroy(&m->w.lock);
    pthread_cond_destroy(&m->w.ready);
    pthread_cond_destroy(&m->w.space);
    m->w.started = 0;
  }
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    if (module_failed(m) && m->info.enabled)
      disable(e, m, m->error ? m->error : "a callback failed");
  }
}

/* Hands a job to every live detector that wants it: queued for threaded
 * detectors, run at once for the others. Drops the caller's reference. */
static void dispatch(nfh_engine *e, job *j) {
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    if (!module_live(m) || !module_wants(m, j->kind))
      continue;
    if (!m->w.started) {
      run_job(m, j);
      if (module_failed(m) && m->info.enabled)
        disable(e, m, m->error ? m->error : "a callback failed");
      continue;
    }
    pthread_mutex_lock(&e->job_lock);
    j->refs++;
    pthread_mutex_unlock(&e->job_lock);
    worker *w = &m->w;
    pthread_mutex_lock(&w->lock);
    while (w->count == QUEUE_DEPTH)
      pthread_cond_wait(&w->space, &w->lock);
    w->queue[(w->head + w->count) % QUEUE_DEPTH] = j;
    w->count++;
    pthread_cond_signal(&w->ready);
    pthread_mutex_unlock(&w->lock);
  }
  job_release(e, j);
}

static int any_wants(const nfh_engine *e, job_kind kind) {
  for (size_t i = 0; i < e->nmodules; i++)
    if (module_live(&e->modules[i]) && module_wants(&e->modules[i], kind))
      return 1;
  return 0;
}

static int reserve(void **buf, size_t *cap, size_t n, size_t item);

static int conn_sink(void *user, const nfh_conn *conns, size_t n) {
  nfh_engine *e = user;
  e->stats.conns += n;
  if (!any_wants(e, JOB_CONNS))
    return 0;
  job *j = job_new(e, JOB_CONNS, n, sizeof(nfh_conn));
  if (!j)
    return -1;
  nfh_conn *batch = j->items;
  memcpy(batch, conns, n * sizeof(nfh_conn));
  /* The home flags need the engine's networks. */
  for (size_t i = 0; i < n; i++) {
    if (nfh_engine_is_home(e, &batch[i].client))
      batch[i].flags |= NFH_CONN_CLIENT_HOME;
    if (nfh_engine_is_home(e, &batch[i].server))
      batch[i].flags |= NFH_CONN_SERVER_HOME;
  }
  if (e->holding) {
    if (e->nheld == e->held_cap &&
        reserve((void **)&e->held, &e->held_cap, 2 * e->held_cap + 16,
                sizeof(job *)) != 0) {
      job_release(e, j);
      return -1;
    }
    e->held[e->nheld++] = j;
    return 0;
  }
  dispatch(e, j);
  return 0;
}

/* Dispatches the held connection jobs, in order. */
static void release_held(nfh_engine *e) {
  for (size_t i = 0; i < e->nheld; i++)
    dispatch(e, e->held[i]);
  e->nheld = 0;
}

static void slot_ends(nfh_engine *e, uint64_t upto_ms) {
  /* Over a gap in the data longer than a day (a collector down for
   * days) only the last boundary is passed: one job per empty slot
   * would be thousands of jobs for nothing. */
  if (e->next_slot_end && upto_ms >= e->next_slot_end &&
      upto_ms - e->next_slot_end > MISDATED_MS)
    e->next_slot_end = upto_ms / SLOT_MS * SLOT_MS;
  while (e->next_slot_end && e->next_slot_end <= upto_ms) {
    if (any_wants(e, JOB_SLOT_END)) {
      job *j = job_new(e, JOB_SLOT_END, 0, 0);
      if (j) {
        j->slot_end_ms = e->next_slot_end;
        dispatch(e, j);
      }
    }
    e->next_slot_end += SLOT_MS;
  }
}

/* Grows *buf to hold n items of 'item' bytes (*cap counts items). 0, or
 * -1 with the buffer as it was. */
static int reserve(void **buf, size_t *cap, size_t n, size_t item) {
  if (n <= *cap)
    return 0;
  void *grown = nfh__realloc(*buf, n * item);
  if (!grown)
    return -1;
  *buf = grown;
  *cap = n;
  return 0;
}

static int compare_u64(const void *pa, const void *pb) {
  uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
  return a < b ? -1 : a > b;
}

/* Whether a time can be a flow's: from 2000 (NetFlow v9 and every
 * nfcapd file are younger) to a day past this host's clock. */
static int plausible_ms(const nfh_engine *e, uint64_t ms) {
  return ms >= 946684800000ull && ms <= e->start_ms + MISDATED_MS;
}

/* The batch's main run of end times. Sorted, the ends form runs without
 * a gap over MISDATED_MS: a batch of sparse traffic may span days and is
 * one run; a lost clock's records lie years away. The main run is the
 * largest whose median time is plausible (a broken exporter may send
 * most of the records, all of 1970), else the one holding the median;
 * it spans [*lo, *hi], its median is *mid. */
static nfh_status main_run(nfh_engine *e, const nfh_flow *flows, size_t n,
                           uint64_t *lo, uint64_t *hi, uint64_t *mid) {
  if (reserve((void **)&e->ends, &e->ends_cap, n, sizeof(uint64_t)) != 0)
    return NFH_ENOMEM;
  for (size_t i = 0; i < n; i++)
    e->ends[i] = flows[i].last_ms;
  qsort(e->ends, n, sizeof(uint64_t), compare_u64);
  size_t best_a = 0, best_b = 0, best_len = 0;
  int best_plausible = 0;
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b + 1 < n && e->ends[b + 1] - e->ends[b] <= MISDATED_MS)
      b++;
    size_t len = b - a + 1, m = a + len / 2;
    int plausible = plausible_ms(e, e->ends[m]);
    int holds_median = a <= n / 2 && n / 2 <= b;
    /* A plausible run beats an implausible one, then the larger wins;
     * among implausible ones only the median's counts. */
    if ((plausible && (!best_plausible || len > best_len)) ||
        (!best_plausible && !plausible && holds_median)) {
      best_a = a;
      best_b = b;
      best_len = len;
      best_plausible = plausible;
    }
    a = b + 1;
  }
  *lo = e->ends[best_a];
  *hi = e->ends[best_b];
  *mid = e->ends[best_a + best_len / 2];
  return NFH_OK;
}

/* A start far from its end: a record open longer than any exporter
 * keeps one, or starting a day after it ends. (Some exporters put the
 * start a few milliseconds after the end; that is left as it is.) */
static int has_wild_start(const nfh_flow *f) {
  return f->first_ms <= f->last_ms ? f->last_ms - f->first_ms > MAX_RECORD_MS
                                   : f->first_ms - f->last_ms > MISDATED_MS;
}

static int has_wild_end(const nfh_flow *f, uint64_t lo, uint64_t hi) {
  return f->last_ms < lo || f->last_ms > hi;
}

/* Exporters lose their clocks: records dated 1970 (an uptime taken for
 * the time) or years ahead arrive among the others. Taken as they are,
 * they stretch the run's window over decades, pass every time slot in
 * between and end every open connection. A batch's records lie within
 * minutes of each other (an active timeout), or spread thinly over days
 * (sparse traffic); a record ending more than a day away from the
 * batch's main run of end times (see main_run) is misdated: it is
 * counted at the batch's median time, keeping its duration when that is
 * believable. A record
 * whose start is wild (see has_wild_start) keeps its end and loses its
 * duration. *flows points at the corrected copy when one was needed. */
static nfh_status set_misdated_right(nfh_engine *e, const nfh_flow **flows,
                                     size_t n) {
  const nfh_flow *in = *flows;
  if (n == 0)
    return NFH_OK;
  uint64_t lo = in[0].last_ms, hi = lo;
  int odd = 0;
  for (size_t i = 0; i < n; i++) {
    const nfh_flow *f = &in[i];
    if (f->last_ms < lo)
      lo = f->last_ms;
    if (f->last_ms > hi)
      hi = f->last_ms;
    odd |= has_wild_start(f);
  }
  int wild = !plausible_ms(e, lo) || !plausible_ms(e, hi);
  if (hi - lo <= MISDATED_MS && !odd && !wild)
    return NFH_OK;
  uint64_t lo_end = lo, hi_end = hi, at = lo;
  if (hi - lo > MISDATED_MS) {
    nfh_status st = main_run(e, in, n, &lo_end, &hi_end, &at);
    if (st != NFH_OK)
      return st;
  }
  /* A batch that the broken exporter sent alone (a quiet minute for the
   * others): counted at the run's data time, once there is one; before
   * the run has any (its first file), at the time the state's data ends:
   * an hourly run whose first file came from a clock-less exporter had
   * its window, and findings, begin in 1970. */
  uint64_t known = plausible_ms(e, e->stats.last_ms) ? e->stats.last_ms
                   : plausible_ms(e, e->state_last_ms) ? e->state_last_ms
                                                       : 0;
  if (!plausible_ms(e, at) && known)
    lo_end = hi_end = at = known;
  else if (hi - lo <= MISDATED_MS && !odd)
    return NFH_OK; /* all of it implausible, and nothing better known */
  if (reserve((void **)&e->redated, &e->redated_cap, n, sizeof(nfh_flow)) !=
      0)
    return NFH_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    nfh_flow *f = &e->redated[i];
    *f = in[i];
    int wild_start = has_wild_start(f);
    int wild_end = has_wild_end(f, lo_end, hi_end);
    if (!wild_start && !wild_end)
      continue;
    e->stats.misdated_latest_ms = f->last_ms;
    e->stats.misdated_flows++;
    uint64_t span = wild_start || f->first_ms > f->last_ms
                        ? 0
                        : f->last_ms - f->first_ms;
    if (wild_end)
      f->last_ms = at;
    f->first_ms = f->last_ms >= span ? f->last_ms - span : 0;
  }
  *flows = e->redated;
  return NFH_OK;
}

#define TCP 6
#define UDP 17
#define TH_SYN 0x02
#define TH_ACK 0x10

/* Whether a record counts both directions of a TCP or UDP exchange
 * (IPFIX biflow, NSEL). ICMP's two directions are different messages and
 * stay as they are. */
static int two_way(const nfh_flow *f) {
  return (f->proto == TCP || f->proto == UDP) &&
         (f->out_packets || f->out_bytes);
}

/* Largest IP packet (IPv4's total length; IPv6 jumbograms do not cross
 * flow exporters). */
#define MAX_PACKET_BYTES 65535u

/* Whether 'bytes' in 'packets' can be: between one byte and an IP
 * packet's most, each; a side that counted only one of them cannot be
 * judged. Runs for every record: no division (bytes / packets <= MAX
 * is bytes < (MAX + 1) * packets, always true where that product would
 * not fit 64 bits). */
static int plausible_counts(uint64_t packets, uint64_t bytes) {
  const uint64_t per = (uint64_t)MAX_PACKET_BYTES + 1;
  if (!packets || !bytes)
    return 1;
  return bytes >= packets &&
         (packets > UINT64_MAX / per || bytes < per * packets);
}

static int plausible_record(const nfh_flow *f) {
  return plausible_counts(f->packets, f->bytes) &&
         plausible_counts(f->out_packets, f->out_bytes);
}

/* Leaves out records with impossible counters, sets right the times of
 * records that end before they start, and
 * splits every two-way record into its two directions, so that the
 * stitcher and the detectors see what one-way exporters give them.
 * nfcapd keeps one TCP flags field for a biflow: written from softflowd's
 * IPFIX biflows (softflowd -b) it holds the flags of the record's
 * destination side (a prober's bare SYN on the record of the target's
 * reset; the target's RST/ACK on the record of the prober's SYN), and
 * the source's flags are lost. The flags go to the side that sent
 * packets, to the destination's where both did (a SYN flood from
 * spoofed addresses read as a "TCP flood", the answers of its victim
 * as its own SYNs to 14,866 hosts). *flows and *n name the new batch
 * when one was needed. */
static nfh_status normalise_batch(nfh_engine *e, const nfh_flow **flows,
                                size_t *n) {
  const nfh_flow *in = *flows;
  size_t count = *n, k = 0;
  while (k < count && !two_way(&in[k]) && in[k].first_ms <= in[k].last_ms &&
         plausible_record(&in[k]))
    k++;
  if (k == count)
    return NFH_OK;
  if (reserve((void **)&e->halves, &e->halves_cap, 2 * count,
              sizeof(nfh_flow)) != 0)
    return NFH_ENOMEM;
  size_t out = 0;
  for (size_t i = 0; i < count; i++) {
    if (!plausible_record(&in[i])) {
      e->stats.implausible_flows++;
      continue;
    }
    nfh_flow *f = &e->halves[out];
    *f = in[i];
    if (f->first_ms > f->last_ms) {
      /* Ended before it started: softflowd's IPFIX biflows end tens of
       * milliseconds before their start. Read as an end before the
       * start, a beacon's 140 connections were each a session lasting
       * for ever, and no beat. */
      uint64_t t = f->first_ms;
      f->first_ms = f->last_ms;
      f->last_ms = t;
    }
    if (!two_way(f)) {
      out++;
      continue;
    }
    nfh_flow fwd = *f, rev = *f;
    fwd.out_packets = fwd.out_bytes = 0;
    fwd.flags &= (uint8_t)~NFH_FLOW_HAS_OUT;
    rev.flags = fwd.flags;
    rev.src = f->dst, rev.dst = f->src;
    rev.src_port = f->dst_port, rev.dst_port = f->src_port;
    rev.src_mask = f->dst_mask, rev.dst_mask = f->src_mask;
    rev.src_as = f->dst_as, rev.dst_as = f->src_as;
    rev.input_if = f->output_if, rev.output_if = f->input_if;
    rev.packets = f->out_packets;
    rev.bytes = f->out_bytes;
    rev.out_packets = rev.out_bytes = 0;
    /* The responder's half is no event of its own: an NSEL record's
     * source is its initiator (see the stitcher's src_is_client). */
    rev.flags &= (uint8_t)~NFH_FLOW_EVENT;
    rev.fw_event = 0;
    int flags_to_rev = f->packets == 0 || f->out_packets != 0;
    fwd.tcp_flags = flags_to_rev ? 0 : f->tcp_flags;
    rev.tcp_flags = flags_to_rev ? f->tcp_flags : 0;
    /* The destination's SYN and ACK tell the source's part in the
     * handshake: a server's SYN-ACK answered the source's SYN (and its
     * ACK, when it sent more); a client's SYN and ACK drew the source's
     * SYN-ACK. Which one it was, the ports tell: the service's is the
     * lower. Without it a session's start was a continuation (no SYN)
     * and a beacon's 140 connections no beats. */
    if (f->proto == TCP && flags_to_rev &&
        (rev.tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
      if (rev.src_port > rev.dst_port)
        fwd.tcp_flags = TH_SYN | TH_ACK; /* the source is the server */
      else
        fwd.tcp_flags = fwd.packets > 1 ? TH_SYN | TH_ACK : TH_SYN;
    }
    if (fwd.packets || fwd.bytes)
      e->halves[out++] = fwd;
    if (rev.packets || rev.bytes)
      e->halves[out++] = rev;
  }
  *flows = e->halves;
  *n = out;
  return NFH_OK;
}

nfh_status nfh_engine_add_flows(nfh_engine *e, const nfh_flow *flows,
                                size_t n) {
  if (!e->stitcher)
    return NFH_EINVAL;
  nfh_status fixed = set_misdated_right(e, &flows, n);
  if (fixed != NFH_OK)
    return fixed;
  for (size_t i = 0; i < n; i++) {
    const nfh_flow *f = &flows[i];
    e->stats.flows++;
    if (f->sampling > 1) {
      e->stats.sampled_flows++;
      if (f->sampling > e->stats.max_sampling)
        e->stats.max_sampling = f->sampling;
    }
    if (!e->stats.first_ms || f->first_ms < e->stats.first_ms)
      e->stats.first_ms = f->first_ms;
    if (f->last_ms > e->stats.last_ms)
      e->stats.last_ms = f->last_ms;
    if (f->first_ms > e->clock_ms)
      e->clock_ms = f->first_ms;
  }
  if (!e->next_slot_end && n)
    e->next_slot_end = (e->stats.first_ms / SLOT_MS + 1) * SLOT_MS;
  fixed = normalise_batch(e, &flows, &n);
  if (fixed != NFH_OK)
    return fixed;
  if (reserve((void **)&e->twice, &e->twice_cap, n ? n : 1, 1) != 0)
    return NFH_ENOMEM;
  uint64_t twice_before = nfh__stitcher_duplicates(e->stitcher);
  e->holding = 1;
  nfh_status st = nfh__stitcher_add(e->stitcher, flows, n, e->twice);
  e->holding = 0;
  uint64_t twice = nfh__stitcher_duplicates(e->stitcher) - twice_before;
  e->stats.duplicate_flows += twice;
  /* In jobs of at most FLOW_JOB_MAX flows: a reader's block is often
   * tens of thousands of flows, megabytes; smaller jobs keep what is in
   * flight between this thread and the detectors' within the caches (the
   * copy is read back hot) and keep the pool's memory small. Records
   * another exporter already gave are left out. */
  for (size_t off = 0; off < n && any_wants(e, JOB_FLOWS);
       off += FLOW_JOB_MAX) {
    size_t k = n - off < FLOW_JOB_MAX ? n - off : FLOW_JOB_MAX;
    job *j = job_new(e, JOB_FLOWS, k, sizeof(nfh_flow));
    if (!j) {
      st = NFH_ENOMEM;
      break;
    }
    if (!twice) {
      memcpy(j->items, flows + off, k * sizeof(nfh_flow));
    } else {
      nfh_flow *items = j->items;
      size_t kept = 0;
      for (size_t i = off; i < off + k; i++)
        if (!e->twice[i])
          items[kept++] = flows[i];
      j->n = kept;
      if (!kept) {
        job_release(e, j);
        continue;
      }
    }
    dispatch(e, j);
  }
  release_held(e);
  if (st != NFH_OK)
    return st;
  /* Slots end by the latest start seen, not the latest end: in files
   * sorted by start time (nfdump -O tstart -w) one 58-minute record near
   * a file's top ended the hour's slots before the rest of the file came,
   * and a flood in them arrived late (14,780 of 600,263 packets counted).
   * In export order (by end) the two clocks differ by the duration of the
   * shortest records: seconds. */
  uint64_t now = e->clock_ms;
  if (now > SLOT_GRACE_MS)
    slot_ends(e, now - SLOT_GRACE_MS);
  return NFH_OK;
}

/* ------------------------------------------------------------ findings */

static char *dup_or_null(const char *s) { return s ? nfh__strdup(s) : NULL; }

/* A score within its severity's range: info 0-19.9, low 20-44.9,
 * medium 45-74.9, high 75-89.9, critical 90-100. Detectors set the two
 * by separate rules (a beacon over UDP held at medium keeps the score of
 * its regularity), and the report, sorted by score, listed a medium at
 * 78.8 above a high at 70.8: one finding in nine of a day's hunts. A
 * score out of its range is moved to the range's nearest end, so that
 * the order by score is the order by severity first. */
static double score_in_band(double score, nfh_severity sev) {
  static const double lo[] = {0, 20, 45, 75, 90};
  static const double hi[] = {19.9, 44.9, 74.9, 89.9, 100};
  if (!(score >= lo[sev])) /* NaN too */
    return lo[sev];
  return score > hi[sev] ? hi[sev] : score;
}

static nfh_status keep_finding(nfh_engine *e, const char *detector,
                               const nfh_finding *f) {
  if (e->nfindings == e->findings_cap) {
    size_t cap = e->findings_cap ? 2 * e->findings_cap : 64;
    nfh_report_finding *grown =
        nfh__realloc(e->findings, cap * sizeof(*grown));
    if (!grown)
      return NFH_ENOMEM;
    e->findings = grown;
    e->findings_cap = cap;
  }
  nfh_report_finding *r = &e->findings[e->nfindings];
  memset(r, 0, sizeof(*r));
  r->f = *f;
  r->detector = detector; /* the descriptor's string outlives findings */
  r->f.type = nfh__strdup(f->type);
  r->f.key = nfh__strdup(f->key);
  r->f.mitre = dup_or_null(f->mitre);
  r->f.summary = nfh__strdup(f->summary);
  r->f.evidence_json = dup_or_null(f->evidence_json);
  if (!r->f.type || !r->f.key || !r->f.summary ||
      (f->mitre && !r->f.mitre) || (f->evidence_json && !r->f.evidence_json)) {
    nfh__free((char *)r->f.type);
    nfh__free((char *)r->f.key);
    nfh__free((char *)r->f.mitre);
    nfh__free((char *)r->f.summary);
    nfh__free((char *)r->f.evidence_json);
    return NFH_ENOMEM;
  }
  if ((unsigned)r->f.severity > NFH_SEV_CRITICAL) /* any out of range */
    r->f.severity = NFH_SEV_CRITICAL;
  r->detector_score = r->f.score == r->f.score ? r->f.score : 0;
  r->detector_severity = r->f.severity;
  r->f.score = score_in_band(r->f.score, r->f.severity);
  if (r->f.confidence < 0)
    r->f.confidence = 0;
  if (r->f.confidence > 1)
    r->f.confidence = 1;
  r->status = "new";
  r->times_seen = 1;
  e->nfindings++;
  return NFH_OK;
}

static int by_score(const void *pa, const void *pb) {
  const nfh_report_finding *a = pa, *b = pb;
  if (a->f.score != b->f.score)
    return a->f.score > b->f.score ? -1 : 1;
  if (a->f.severity != b->f.severity)
    return a->f.severity > b->f.severity ? -1 : 1;
  if (a->detector_score != b->detector_score)
    return a->detector_score > b->detector_score ? -1 : 1;
  if (a->f.first_ms != b->f.first_ms)
    return a->f.first_ms < b->f.first_ms ? -1 : 1;
  int c = strcmp(a->f.type, b->f.type);
  return c ? c : strcmp(a->f.key, b->f.key);
}

/* A new finding's id: 128 bits from its identity and 'salt': the run
 * time with a state, so that it differs from any earlier finding of the
 * same key that expired from it; without one, the finding's first
 * time, so that runs over the same files give the same ids (a SIEM
 * joins them; they differed from run to run). */
static void make_id(const nfh_report_finding *r, uint64_t run_ms,
                    char id[33]) {
  uint64_t h1 = 1469598103934665603ull ^ run_ms, h2 = 0x9e3779b97f4a7c15ull;
  for (const char *s = r->f.type; *s; s++)
    h1 = (h1 ^ (uint8_t)*s) * 1099511628211ull;
  h1 = (h1 ^ '|') * 1099511628211ull;
  for (const char *s = r->f.key; *s; s++) {
    h1 = (h1 ^ (uint8_t)*s) * 1099511628211ull;
    h2 = (h2 ^ h1) * 0xff51afd7ed558ccdull;
    h2 ^= h2 >> 29;
  }
  snprintf(id, 33, "%016llx%016llx", (unsigned long long)h1,
           (unsigned long long)(h2 ^ run_ms));
}

nfh_status nfh_engine_finish(nfh_engine *e, nfh_state *state) {
  if (!e->stitcher)
    return NFH_EINVAL;
  nfh_status st = nfh__stitcher_flush(e->stitcher);
  if (st != NFH_OK && st != NFH_EPLUGIN)
    return st;
  /* Close every slot that holds data. */
  if (e->stats.last_ms)
    slot_ends(e, (e->stats.last_ms / SLOT_MS + 1) * SLOT_MS);
  stop_workers_finishing(e, 1);
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    if (!module_live(m))
      continue;
    int rc = m->w.finished ? m->w.finish_rc : m->desc->finish(m->ctx);
    m->w.finished = 0;
    if (rc != 0)
      disable(e, m, "finish failed");
  }
  uint64_t run = now_ms();
  /* A gap in the data itself (a collector down for a day, cron off)
   * ends every episode: what a finding shows after it is news, though
   * the detector's memory joins it to the activity before (a scan of the
   * same port by the same host two days later). */
  int data_gap = state && e->state_last_ms && e->stats.flows &&
                 e->stats.first_ms > e->state_last_ms + NFH_ENGINE_RECUR_MS;
  nfh_status unread = NFH_OK;
  for (size_t i = 0; i < e->nfindings; i++) {
    nfh_report_finding *r = &e->findings[i];
    nfh_state_finding before;
    nfh_status fs = state ? nfh_state_get_finding(state, r->f.type, r->f.key,
                                                  &before)
                          : NFH_ENOTFOUND;
    /* A state that cannot be read is not written either (below), but
     * the findings are the run's all the same: taken as new, so that the
     * host can still report them. */
    if (fs != NFH_OK && fs != NFH_ENOTFOUND) {
      unread = NFH_ESTATE;
      fs = NFH_ENOTFOUND;
    }
    int after_gap = data_gap && r->f.last_ms >= e->stats.first_ms;
    if (fs == NFH_OK && !after_gap &&
        r->f.first_ms <= before.last_seen_ms + NFH_ENGINE_RECUR_MS) {
      memcpy(r->id, before.id, sizeof(r->id));
      r->first_reported_ms = before.first_reported_ms;
      r->times_seen = before.times_seen + 1;
      if ((int)r->f.severity > before.severity) {
        r->status = "escalated";
      } else {
        /* An episode keeps the highest severity it was reported at, so
         * that the state keeps it and only a rise alerts again; unless
         * the detector now rates it info: it found what explains it (a
         * load balancer's health checks, a routine, a service every
         * host uses), and a first run's false alarm must not stay. */
        r->status = "ongoing";
        if ((int)r->f.severity < before.severity &&
            r->f.severity > NFH_SEV_INFO &&
            before.severity <= NFH_SEV_CRITICAL) {
          r->f.severity = (nfh_severity)before.severity;
          r->f.score = score_in_band(r->f.score, r->f.severity);
        }
      }
    } else {
      /* New, or back after a long quiet: a new episode of an old key
       * (a second exfiltration to the same host a day later) alerts
       * like a new finding. */
      make_id(r, state ? run : r->f.first_ms, r->id);
      r->first_reported_ms = run;
      r->times_seen = fs == NFH_OK ? before.times_seen + 1 : 1;
      if (fs == NFH_OK)
        r->status = "recurred";
    }
  }
  if (e->nfindings > 1)
    qsort(e->findings, e->nfindings, sizeof(*e->findings), by_score);
  if (!state || unread != NFH_OK)
    return unread;
  if (nfh_state_begin(state) != NFH_OK)
    return NFH_ESTATE;
  for (size_t i = 0; i < e->nfindings; i++) {
    nfh_report_finding *r = &e->findings[i];
    if (nfh_state_put_finding(state, r->f.type, r->f.key, r->id,
                              r->first_reported_ms, run, r->f.last_ms,
                              (int)r->f.severity, r->f.score, r->times_seen,
                              r->f.summary) != NFH_OK)
      return NFH_ESTATE;
  }
  for (size_t i = 0; i < e->nmodules; i++) {
    module *m = &e->modules[i];
    /* A detector that failed keeps its previous state. */
    if (!module_live(m) || !m->desc->state_save)
      continue;
    void *blob = NULL;
    size_t len = 0;
    if (m->desc->state_save(m->ctx, &blob, &len) != 0) {
      disable(e, m, "state_save failed");
      free(blob);
      continue;
    }
    nfh_status ps = nfh_state_put_blob(state, m->desc->name, blob, len);
    free(blob);
    if (ps != NFH_OK)
      return NFH_ESTATE;
  }
  uint64_t first = 0, last = 0;
  nfh_state_get_u64(state, "data_first_ms", &first);
  nfh_state_get_u64(state, "data_last_ms", &last);
  if (e->stats.flows) {
    if (!first || e->stats.first_ms < first)
      first = e->stats.first_ms;
    if (e->stats.last_ms > last)
      last = e->stats.last_ms;
  }
  if (nfh_state_put_u64(state, "data_first_ms", first) != NFH_OK ||
      nfh_state_put_u64(state, "data_last_ms", last) != NFH_OK)
    return NFH_ESTATE;
  /* Findings not reported for 30 days are forgotten: the state stays
   * bounded, and an activity back after a month is news again. */
  if (run > 30ull * 86400000 &&
      nfh_state_expire(state, run - 30ull * 86400000) != NFH_OK)
    return NFH_ESTATE;
  return NFH_OK;
}

const nfh_report_finding *nfh_engine_findings(const nfh_engine *e,
                                              size_t *count) {
  *count = e->nfindings;
  return e->findings;
}

const nfh_engine_stats *nfh_engine_get_stats(const nfh_engine *e) {
  return &e->stats;
}

const char *nfh_severity_name(nfh_severity s) {
  switch (s) {
  case NFH_SEV_INFO:
    return "info";
  case NFH_SEV_LOW:
    return "low";
  case NFH_SEV_MEDIUM:
    return "medium";
  case NFH_SEV_HIGH:
    return "high";
  case NFH_SEV_CRITICAL:
    return "critical";
  }
  return "?";
}

int nfh_severity_parse(const char *name, nfh_severity *out) {
  for (int s = NFH_SEV_INFO; s <= NFH_SEV_CRITICAL; s++) {
    if (strcasecmp(name, nfh_severity_name((nfh_severity)s)) == 0) {
      *out = (nfh_severity)s;
      return 0;
    }
  }
  return -1;
}
