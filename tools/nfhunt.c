/*
 * nfhunt - threat hunting in nfdump capture files.
 *
 * This program selects capture files the way nfdump does (-r, -R, -M,
 * -t), reads them into nfhunt's flow model and, for now, either dumps
 * the model (--dump), counts it (--count), or summarises the input.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/engine.h>
#include <nfhunt/nfhunt.h>
#include <nfhunt/plugin.h>
#include <nfhunt/report.h>
#include <nfhunt/state.h>

#ifndef NFH_PLUGIN_DIR
#define NFH_PLUGIN_DIR "/usr/local/lib/nfhunt"
#endif
#define STATE_NAME ".nfhunt.state"

#define EXIT_FOUND 1 /* reserved: findings at or above the alert level */
#define EXIT_ERROR 2

typedef enum mode { MODE_HUNT, MODE_DUMP, MODE_COUNT, MODE_LIST } mode;

typedef enum out_format { OUT_TEXT, OUT_JSON, OUT_NDJSON } out_format;

typedef struct totals {
  uint64_t files, files_failed, flows, packets, bytes;
  uint64_t first_ms, last_ms;
  uint64_t sampled_flows;
  uint32_t max_sampling;
} totals;

static void usage(FILE *out) {
  fprintf(out,
          "usage: nfhunt [-r file] [-R dir|dir/first|first:last] "
          "[-M /base/src1:src2] [-t window]\n"
          "              [--output file] [-o text|json|ndjson] "
          "[--alert-level sev]\n"
          "              [--state path | --no-state] [--home-net cidr,...] "
          "[--allow [det:]spec]\n"
          "              [--plugin-dir dir] [--plugins a,b] [--set "
          "det.key=value]\n"
          "       nfhunt --dump | --count  [selection options]\n"
          "       nfhunt --list-plugins [--plugin-dir dir]\n"
          "Input (as nfdump):\n"
          "  -r FILE          one capture file (repeatable; a directory is "
          "-R)\n"
          "  -R SPEC          a directory tree, dir/first, or first:last\n"
          "  -M SOURCES       several source directories (/base/s1:s2)\n"
          "  -t WINDOW        yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss]\n"
          "Hunt:\n"
          "  --output FILE    write the JSON report to FILE (atomically)\n"
          "  -o FORMAT        stdout format: text (default), json, ndjson\n"
          "  --alert-level S  report findings at or above S (default low); "
          "exit 1 if any\n"
          "  --state PATH     state database (default: .nfhunt.state in the "
          "flow directory)\n"
          "  --no-state       keep nothing between runs\n"
          "  --home-net LIST  home networks, CIDR list (default RFC 1918 + "
          "fc00::/7)\n"
          "  --allow SPEC     allowlist CIDR[:port], optionally DETECTOR: "
          "first\n"
          "  --plugin-dir DIR detector modules (default %s)\n"
          "  --plugins LIST   load only these detectors\n"
          "  --set D.K=V      detector D's parameter K\n"
          "  --list-plugins   show the detectors and exit\n"
          "Flow model:\n"
          "  --dump           print every flow as CSV\n"
          "  --count          print files, flows, packets and bytes\n"
          "  --threads N      decode threads (default: one per CPU)\n"
          "  -h, --help       this help;  -V, --version  the version\n"
          "Exit status: 0 nothing at or above the alert level, 1 findings, "
          "2 error.\n",
          NFH_PLUGIN_DIR);
}

static const char csv_header[] =
    "first_ms,last_ms,proto,src_addr,src_port,dst_addr,dst_port,packets,"
    "bytes,tcp_flags,tos,sampling,exporter,exporter_id,sysid,out_packets,"
    "out_bytes,aggr_flows,input_if,output_if,src_as,dst_as,src_vlan,"
    "dst_vlan,src_mask,dst_mask,direction,dst_tos,fwd_status,next_hop,"
    "bgp_next_hop,router,received_ms,flags\n";

static void dump_flow(FILE *out, const nfh_flow *f) {
  char src[NFH_ADDR_STRLEN], dst[NFH_ADDR_STRLEN], exp[NFH_ADDR_STRLEN];
  char nh[NFH_ADDR_STRLEN], bgp[NFH_ADDR_STRLEN], rtr[NFH_ADDR_STRLEN];
  fprintf(out,
          "%" PRIu64 ",%" PRIu64 ",%u,%s,%u,%s,%u,%" PRIu64 ",%" PRIu64
          ",%u,%u,%u,%s,%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64
          ",%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%s,%s,%s,%" PRIu64 ",%u\n",
          f->first_ms, f->last_ms, f->proto,
          nfh_addr_format(&f->src, src, sizeof(src)), f->src_port,
          nfh_addr_format(&f->dst, dst, sizeof(dst)), f->dst_port,
          f->packets, f->bytes, f->tcp_flags, f->tos, f->sampling,
          nfh_addr_format(&f->exporter, exp, sizeof(exp)), f->exporter_id,
          f->exporter_sysid, f->out_packets, f->out_bytes, f->aggr_flows,
          f->input_if, f->output_if, f->src_as, f->dst_as, f->src_vlan,
          f->dst_vlan, f->src_mask, f->dst_mask, f->direction, f->dst_tos,
          f->fwd_status, nfh_addr_format(&f->next_hop, nh, sizeof(nh)),
          nfh_addr_format(&f->bgp_next_hop, bgp, sizeof(bgp)),
          nfh_addr_format(&f->router, rtr, sizeof(rtr)), f->received_ms,
          f->flags);
}

/* What a run needs while it reads. */
typedef struct run {
  mode m;
  uint64_t win_start, win_end;
  nfh_engine *engine; /* hunt mode only */
  totals t;
  uint64_t exporters;
  nfh_flow *batch; /* flows inside the time window, for the engine */
  size_t batch_cap;
} run;

static void count_flow(totals *t, const nfh_flow *f) {
  t->flows++;
  t->packets += f->packets;
  t->bytes += f->bytes;
  if (f->sampling > 1) {
    t->sampled_flows++;
    if (f->sampling > t->max_sampling)
      t->max_sampling = f->sampling;
  }
  if (!t->first_ms || f->first_ms < t->first_ms)
    t->first_ms = f->first_ms;
  if (f->last_ms > t->last_ms)
    t->last_ms = f->last_ms;
}

/* Reads one file; returns 0, or -1 after printing one error line. */
static int read_file(nfh_reader *reader, const char *path, run *r) {
  nfh_status st = nfh_reader_open(reader, path);
  if (st != NFH_OK) {
    warnx("%s: %s", path, nfh_reader_error(reader));
    return -1;
  }
  const nfh_file_info *info = nfh_reader_info(reader);
  /* As nfdump does: a file whose stat record lies outside the window
   * holds no flow of interest. */
  if (info->has_stat && info->stat_flows &&
      (info->stat_last_ms < r->win_start ||
       info->stat_first_ms > r->win_end)) {
    nfh_reader_close(reader);
    return 0;
  }
  r->t.files++;
  const nfh_flow *flows;
  size_t n;
  int windowed = r->win_start != 0 || r->win_end != UINT64_MAX;
  while ((st = nfh_reader_next(reader, &flows, &n)) == NFH_OK) {
    size_t kept = 0;
    if (windowed && r->engine && n > r->batch_cap) {
      nfh_flow *grown = realloc(r->batch, n * sizeof(nfh_flow));
      if (!grown)
        errx(EXIT_ERROR, "out of memory");
      r->batch = grown;
      r->batch_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
      const nfh_flow *f = &flows[i];
      if (f->first_ms < r->win_start || f->last_ms > r->win_end)
        continue;
      count_flow(&r->t, f);
      if (r->m == MODE_DUMP)
        dump_flow(stdout, f);
      else if (windowed && r->engine)
        r->batch[kept++] = *f;
    }
    if (r->engine) {
      st = windowed ? nfh_engine_add_flows(r->engine, r->batch, kept)
                    : nfh_engine_add_flows(r->engine, flows, n);
      if (st != NFH_OK)
        errx(EXIT_ERROR, "%s: %s", path, nfh_strerror(st));
    }
  }
  size_t ne;
  nfh_reader_exporters(reader, &ne);
  r->exporters += ne;
  int rc = 0;
  if (st != NFH_END) {
    warnx("%s: %s", path, nfh_reader_error(reader));
    rc = -1;
  }
  nfh_reader_close(reader);
  return rc;
}

static void log_line(void *user, int level, const char *source,
                     const char *line) {
  (void)user;
  if (level <= NFH_LOG_WARNING)
    fprintf(stderr, "nfhunt: %s: %s\n", source, line);
}

/* The default state path: in the first input's flow directory. */
static char *default_state_path(const char *sources, const char *first_input,
                                int first_is_range) {
  char buf[4096];
  if (sources) {
    snprintf(buf, sizeof(buf), "%s", sources);
    char *colon = strchr(buf, ':');
    if (colon)
      *colon = '\0';
    char *dir = dirname(buf); /* the -M base */
    snprintf(buf, sizeof(buf), "%s/" STATE_NAME, dir);
    return strdup(buf);
  }
  if (!first_input)
    return NULL;
  snprintf(buf, sizeof(buf), "%s", first_input);
  char *colon = strchr(buf, ':');
  if (colon)
    *colon = '\0';
  struct stat sb;
  const char *dir;
  char copy[4096];
  snprintf(copy, sizeof(copy), "%s", buf);
  if (stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode))
    dir = buf;
  else
    dir = dirname(copy);
  (void)first_is_range;
  char out[4200];
  snprintf(out, sizeof(out), "%s/" STATE_NAME, dir);
  return strdup(out);
}

static int parse_set(nfh_engine *e, const char *arg) {
  /* DETECTOR.KEY=VALUE */
  const char *dot = strchr(arg, '.');
  const char *eq = strchr(arg, '=');
  if (!dot || !eq || dot > eq || dot == arg || eq == dot + 1)
    return -1;
  char det[128], key[128];
  snprintf(det, sizeof(det), "%.*s", (int)(dot - arg), arg);
  snprintf(key, sizeof(key), "%.*s", (int)(eq - dot - 1), dot + 1);
  return nfh_engine_set(e, det, key, eq + 1) == NFH_OK ? 0 : -1;
}

static int parse_allow(nfh_engine *e, const char *arg) {
  /* [DETECTOR:]SPEC; a detector name has no dot, digit start or bracket */
  const char *colon = strchr(arg, ':');
  if (colon && arg[0] >= 'a' && arg[0] <= 'z' &&
      strcspn(arg, ".[") > (size_t)(colon - arg)) {
    char det[128];
    snprintf(det, sizeof(det), "%.*s", (int)(colon - arg), arg);
    return nfh_engine_allow(e, det, colon + 1) == NFH_OK ? 0 : -1;
  }
  return nfh_engine_allow(e, "*", arg) == NFH_OK ? 0 : -1;
}

int main(int argc, char **argv) {
  enum {
    OPT_DUMP = 256,
    OPT_COUNT,
    OPT_THREADS,
    OPT_OUTPUT,
    OPT_ALERT,
    OPT_STATE,
    OPT_NO_STATE,
    OPT_HOME,
    OPT_ALLOW,
    OPT_PLUGIN_DIR,
    OPT_PLUGINS,
    OPT_SET,
    OPT_LIST
  };
  static const struct option longopts[] = {
      {"dump", no_argument, NULL, OPT_DUMP},
      {"count", no_argument, NULL, OPT_COUNT},
      {"threads", required_argument, NULL, OPT_THREADS},
      {"output", required_argument, NULL, OPT_OUTPUT},
      {"alert-level", required_argument, NULL, OPT_ALERT},
      {"state", required_argument, NULL, OPT_STATE},
      {"no-state", no_argument, NULL, OPT_NO_STATE},
      {"home-net", required_argument, NULL, OPT_HOME},
      {"allow", required_argument, NULL, OPT_ALLOW},
      {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
      {"plugins", required_argument, NULL, OPT_PLUGINS},
      {"set", required_argument, NULL, OPT_SET},
      {"list-plugins", no_argument, NULL, OPT_LIST},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  run r;
  memset(&r, 0, sizeof(r));
  r.m = MODE_HUNT;
  r.win_end = UINT64_MAX;
  const char *sources = NULL, *window = NULL, *output = NULL;
  const char *state_path = NULL, *plugin_dir = NULL, *plugins = NULL;
  const char **reads = calloc((size_t)argc, sizeof(char *));
  int *is_range = calloc((size_t)argc, sizeof(int));
  const char **homes = calloc((size_t)argc, sizeof(char *));
  const char **allows = calloc((size_t)argc, sizeof(char *));
  const char **sets = calloc((size_t)argc, sizeof(char *));
  int nreads = 0, nhomes = 0, nallows = 0, nsets = 0, no_state = 0;
  out_format fmt = OUT_TEXT;
  nfh_severity alert = NFH_SEV_LOW;
  nfh_reader_options ropt = {NFH_READER_THREADS_AUTO};
  if (!reads || !is_range || !homes || !allows || !sets)
    errx(EXIT_ERROR, "out of memory");

  int c;
  while ((c = getopt_long(argc, argv, "hM:o:r:R:t:V", longopts, NULL)) !=
         -1) {
    switch (c) {
    case 'h':
      usage(stdout);
      return 0;
    case 'M':
      sources = optarg;
      break;
    case 'o':
      if (strcmp(optarg, "text") == 0)
        fmt = OUT_TEXT;
      else if (strcmp(optarg, "json") == 0)
        fmt = OUT_JSON;
      else if (strcmp(optarg, "ndjson") == 0)
        fmt = OUT_NDJSON;
      else
        errx(EXIT_ERROR, "-o %s: one of text, json, ndjson", optarg);
      break;
    case 'r':
    case 'R':
      is_range[nreads] = c == 'R';
      reads[nreads++] = optarg;
      break;
    case 't':
      window = optarg;
      break;
    case 'V':
      printf("nfhunt %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
             NFH_PLUGIN_ABI_MAJOR, NFH_PLUGIN_ABI_MINOR);
      return 0;
    case OPT_DUMP:
      r.m = MODE_DUMP;
      break;
    case OPT_COUNT:
      r.m = MODE_COUNT;
      break;
    case OPT_LIST:
      r.m = MODE_LIST;
      break;
    case OPT_THREADS: {
      char *end;
      unsigned long v = strtoul(optarg, &end, 10);
      if (*end || v > 64)
        errx(EXIT_ERROR, "--threads %s: a number from 0 to 64", optarg);
      ropt.threads = (unsigned)v;
      break;
    }
    case OPT_OUTPUT:
      output = optarg;
      break;
    case OPT_ALERT:
      if (nfh_severity_parse(optarg, &alert) != 0)
        errx(EXIT_ERROR,
             "--alert-level %s: one of info, low, medium, high, critical",
             optarg);
      break;
    case OPT_STATE:
      state_path = optarg;
      break;
    case OPT_NO_STATE:
      no_state = 1;
      break;
    case OPT_HOME:
      homes[nhomes++] = optarg;
      break;
    case OPT_ALLOW:
      allows[nallows++] = optarg;
      break;
    case OPT_PLUGIN_DIR:
      plugin_dir = optarg;
      break;
    case OPT_PLUGINS:
      plugins = optarg;
      break;
    case OPT_SET:
      sets[nsets++] = optarg;
      break;
    default:
      usage(stderr);
      return EXIT_ERROR;
    }
  }
  if (optind < argc) {
    warnx("unexpected argument '%s'", argv[optind]);
    usage(stderr);
    return EXIT_ERROR;
  }
  if (!plugin_dir)
    plugin_dir = getenv("NFHUNT_PLUGIN_DIR");
  if (!plugin_dir)
    plugin_dir = NFH_PLUGIN_DIR;

  if (r.m == MODE_HUNT || r.m == MODE_LIST) {
    nfh_engine_options eopt;
    memset(&eopt, 0, sizeof(eopt));
    eopt.plugin_dir = plugin_dir;
    eopt.log = log_line;
    if (nfh_engine_create(&eopt, &r.engine) != NFH_OK)
      errx(EXIT_ERROR, "cannot create the engine");
    for (int i = 0; i < nhomes; i++) {
      char *list = strdup(homes[i]), *save = NULL;
      for (char *tok = strtok_r(list, ",", &save); tok;
           tok = strtok_r(NULL, ",", &save))
        if (nfh_engine_add_home_net(r.engine, tok) != NFH_OK)
          errx(EXIT_ERROR, "--home-net: '%s' is not a network (CIDR)", tok);
      free(list);
    }
    for (int i = 0; i < nallows; i++)
      if (parse_allow(r.engine, allows[i]) != 0)
        errx(EXIT_ERROR,
             "--allow %s: expected [DETECTOR:]CIDR[:PORT] or [v6]:PORT",
             allows[i]);
    for (int i = 0; i < nsets; i++)
      if (parse_set(r.engine, sets[i]) != 0)
        errx(EXIT_ERROR, "--set %s: expected DETECTOR.KEY=VALUE", sets[i]);
    if (plugins && nfh_engine_only(r.engine, plugins) != NFH_OK)
      errx(EXIT_ERROR, "out of memory");
    if (nfh_engine_load_plugins(r.engine) != NFH_OK && r.m == MODE_LIST)
      errx(EXIT_ERROR, "--plugin-dir %s: cannot read the directory",
           plugin_dir);
  }
  if (r.m == MODE_LIST) {
    size_t n = nfh_engine_plugin_count(r.engine);
    printf("%zu detector%s in %s\n", n, n == 1 ? "" : "s", plugin_dir);
    for (size_t i = 0; i < n; i++) {
      const nfh_plugin_info *p = nfh_engine_plugin(r.engine, i);
      printf("  %-14s %-8s %s\n", p->name, p->version, p->description);
    }
    nfh_engine_destroy(r.engine);
    return 0;
  }
  if (nreads == 0 && !sources) {
    warnx("no input: give -r FILE, -R DIR or -M SOURCES");
    usage(stderr);
    return EXIT_ERROR;
  }

  if (window &&
      nfh_parse_time_window(window, &r.win_start, &r.win_end) != NFH_OK)
    errx(EXIT_ERROR,
         "-t %s: not a time window (yyyy/MM/dd.hh:mm:ss"
         "[-yyyy/MM/dd.hh:mm:ss])",
         window);

  nfh_filelist *list;
  if (nfh_filelist_create(&list) != NFH_OK)
    errx(EXIT_ERROR, "out of memory");
  nfh_status st = NFH_OK;
  if (sources)
    st = nfh_filelist_set_sources(list, sources);
  for (int i = 0; st == NFH_OK && i < nreads; i++)
    st = is_range[i] ? nfh_filelist_add_range(list, reads[i])
                     : nfh_filelist_add_file(list, reads[i]);
  if (st == NFH_OK && sources && nreads == 0)
    st = nfh_filelist_add_sources(list);
  if (st != NFH_OK)
    errx(EXIT_ERROR, "%s",
         nfh_filelist_error(list)[0] ? nfh_filelist_error(list)
                                     : nfh_strerror(st));
  nfh_filelist_finish(list);

  /* The state: opened (and locked) before reading, so that overlapping
   * runs queue up instead of interleaving. */
  nfh_state *state = NULL;
  char *state_alloc = NULL;
  if (r.m == MODE_HUNT && !no_state) {
    if (!state_path)
      state_path = state_alloc = default_state_path(
          sources, nreads ? reads[0] : NULL, nreads ? is_range[0] : 0);
    const char *err = "";
    st = nfh_state_open(state_path, 600, &state, &err);
    if (st != NFH_OK)
      errx(EXIT_ERROR, "state %s: %s", state_path, err);
  }
  if (r.engine && nfh_engine_start(r.engine, state) != NFH_OK)
    errx(EXIT_ERROR, "cannot start the detectors");

  nfh_reader *reader;
  if (nfh_reader_create(&ropt, &reader) != NFH_OK)
    errx(EXIT_ERROR, "cannot create a reader");
  static char outbuf[1 << 16];
  setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
  if (r.m == MODE_DUMP)
    fputs(csv_header, stdout);

  for (size_t i = 0; i < nfh_filelist_count(list); i++)
    if (read_file(reader, nfh_filelist_path(list, i), &r) != 0)
      r.t.files_failed++;

  int exit_code = r.t.files_failed ? EXIT_ERROR : 0;
  if (r.m == MODE_COUNT) {
    printf("files %" PRIu64 " failed %" PRIu64 " flows %" PRIu64
           " packets %" PRIu64 " bytes %" PRIu64 "\n",
           r.t.files, r.t.files_failed, r.t.flows, r.t.packets, r.t.bytes);
  } else if (r.m == MODE_HUNT) {
    st = nfh_engine_finish(r.engine, state);
    if (st != NFH_OK)
      errx(EXIT_ERROR, "finishing the hunt: %s%s%s", nfh_strerror(st),
           state ? ": " : "", state ? nfh_state_error(state) : "");
    size_t nf;
    const nfh_report_finding *findings = nfh_engine_findings(r.engine, &nf);
    const nfh_engine_stats *es = nfh_engine_get_stats(r.engine);
    nfh_report_inputs in;
    memset(&in, 0, sizeof(in));
    in.files = r.t.files;
    in.files_failed = r.t.files_failed;
    in.flows = r.t.flows;
    in.connections = es->conns;
    in.exporters = r.exporters;
    in.sampled_flows = r.t.sampled_flows;
    in.max_sampling = r.t.max_sampling;
    in.window_start_ms = r.t.first_ms;
    in.window_end_ms = r.t.last_ms;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    in.generated_ms = (uint64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    /* The report lists everything down to info; the alert level decides
     * what the terminal shows and the exit status. */
    if (output) {
      const char *err = "";
      if (nfh_report_write_json(output, findings, nf, NFH_SEV_INFO, &in,
                                &err) != NFH_OK)
        errx(EXIT_ERROR, "%s", err);
    }
    if (fmt == OUT_JSON)
      nfh_report_print_json(stdout, findings, nf, alert, &in);
    else if (fmt == OUT_NDJSON)
      nfh_report_print_ndjson(stdout, findings, nf, alert);
    else if (!output || isatty(STDOUT_FILENO))
      nfh_report_print_text(stdout, findings, nf, alert, &in, 50);
    /* Only now, with the report written, does the run's state count. */
    if (state && nfh_state_commit(state) != NFH_OK)
      errx(EXIT_ERROR, "state %s: %s", state_path, nfh_state_error(state));
    if (nfh_engine_plugin_count(r.engine) == 0)
      warnx("no detector loaded from %s (see --plugin-dir)", plugin_dir);
    if (exit_code == 0)
      for (size_t i = 0; i < nf; i++)
        if (findings[i].f.severity >= alert)
          exit_code = EXIT_FOUND;
  }
  if (fflush(stdout) != 0)
    warn("stdout");
  nfh_state_close(state);
  free(state_alloc);
  nfh_reader_destroy(reader);
  nfh_engine_destroy(r.engine);
  nfh_filelist_destroy(list);
  free(r.batch);
  free(reads);
  free(is_range);
  free(homes);
  free(allows);
  free(sets);
  return exit_code;
}
