/*
 * nfhunt-gen - labelled traffic scenarios as nfcapd capture trees or as
 * NetFlow v9 / IPFIX export.
 *
 * The program wires the generator's modules together (tools/gen/): the
 * address plan, the injected activities and the benign background feed
 * sessions into the engine slot by slot; the engine hands each slot's
 * records to a sink, the capture-tree writer or the UDP exporter; the
 * labels collect the ground truth and are written at the end. See
 * nfhunt-gen(1).
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nfhunt/writer.h>

#include "gen/background.h"
#include "gen/engine.h"
#include "gen/export.h"
#include "gen/inject.h"
#include "gen/labels.h"
#include "gen/net.h"
#include "gen/param.h"
#include "gen/tree.h"

#define EXIT_USAGE 2
#define MAX_SPECS 256

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: nfhunt-gen -w DIR | --export HOST:PORT [-b START] [-d DURATION]\n"
      "                  [-s SEED] [-S N] [-Z] [-t SLOT] [-c CODECS] "
      "[-l LABELS]\n"
      "                  [-u USERS] [-i SPEC]... [-f SCENARIO] [--no-inject]\n"
      "                  [--bg KEY=VALUE]... [--no-background] "
      "[--sampling N [--unannounced]]\n"
      "                  [--active S] [--inactive S] [--proto v9|ipfix]\n"
      "                  [--rate N | --speedup F] [-q]\n"
      "  -w, --dir DIR        write a capture tree into DIR\n"
      "      --export H:P     send NetFlow v9/IPFIX to a collector instead\n"
      "  -b, --start TIME     first slot, local time: YYYY-MM-DD[THH:MM[:SS]]"
      "\n"
      "                       (Z suffix: UTC; @EPOCH); default "
      "2024-03-04T00:00\n"
      "  -d, --duration DUR   length: 90m, 6h, 3d (default 1h)\n"
      "  -s, --seed N         seed (default 1): same seed, same output\n"
      "  -S, --subdir N       nfcapd -S sub-hierarchy 1-8 (default none)\n"
      "  -Z, --zone           time zone offset in file names (nfcapd -Z)\n"
      "  -t, --slot SECONDS   file interval (default 300)\n"
      "  -c, --codec LIST     none, lzo, bz2, lz4, zstd; a comma list "
      "rotates\n"
      "                       per file (default lz4)\n"
      "      --level N        codec level (default: the codec's)\n"
      "  -l, --labels FILE    labels file (default DIR.labels.json, or\n"
      "                       nfhunt-gen.labels.json with --export)\n"
      "  -u, --users N        user hosts (default 500)\n"
      "      --users-net P, --servers-net P, --dmz-net P, --v6-net P\n"
      "                       address plan (10.0.0.0/16, 10.1.0.0/24,\n"
      "                       198.51.100.0/24, 2001:db8:100::/48)\n"
      "  -i, --inject SPEC    add an activity: KIND[:key=value,...]\n"
      "  -f, --scenario FILE  activities and background settings from a "
      "file\n"
      "      --no-inject      no injected activity (clean background)\n"
      "      --bg KEY=VALUE   background setting (browse_rate=20, ...)\n"
      "      --no-background  injected activities only\n"
      "      --sampling N     1-in-N packet sampling, announced to the "
      "collector\n"
      "      --sampler-id N   the sampler's id (default 1)\n"
      "      --unannounced    sample, but do not say so: raw counts, no\n"
      "                       sampler (an exporter nfcapd -s would fix)\n"
      "      --active S       exporter active timeout (default 60)\n"
      "      --inactive S     exporter inactive timeout (default 15)\n"
      "      --proto v9|ipfix export protocol (also stamped in files)\n"
      "      --exporter IP    exporter address in files (default "
      "10.255.255.1)\n"
      "      --exporter-id N  source id / observation domain (default 1)\n"
      "      --rate N         export: flow records per second (default "
      "20000;\n"
      "                       0 no limit)\n"
      "      --speedup F      export: F times the scenario's own pace\n"
      "      --template-every N  export: datagrams between templates "
      "(20)\n"
      "      --mtu N          export: datagram size (1400)\n"
      "      --ident TEXT     file ident (default nfhunt-gen)\n"
      "  -q, --quiet          no progress and no summary\n"
      "      --progress       progress even when stderr is no terminal\n"
      "  -h, --help           this help;  -V, --version  the version\n"
      "Kinds for -i: horizontal_scan vertical_scan distributed_scan beacon\n"
      "  bulk_exfiltration slow_exfiltration inbound_flood outbound_flood\n"
      "  dns_tunnel c2_session;\n"
      "  see nfhunt-gen(1) for their parameters.\n");
}

static unsigned long long number(const char *opt, const char *text,
                                 unsigned long long max) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (*text == '\0' || *end != '\0' || errno || v > max)
    errx(EXIT_USAGE, "%s %s: a number from 0 to %llu", opt, text, max);
  return v;
}

/* "2024-03-04", "2024-03-04T10:00[:00][Z]", "2024/03/04.10:00:00",
 * "@1709510400". Local time unless Z. Returns -1 on bad text. */
static int64_t parse_time(const char *text) {
  if (text[0] == '@') {
    char *end;
    long long v = strtoll(text + 1, &end, 10);
    return *end || v < 0 ? -1 : v;
  }
  static const char *const fmts[] = {
      "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S",
      "%Y-%m-%d %H:%M",    "%Y/%m/%d.%H:%M:%S", "%Y/%m/%d.%H:%M",
      "%Y-%m-%d",          "%Y/%m/%d"};
  for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(text, fmts[i], &tm);
    if (!rest)
      continue;
    if (*rest == 'Z' && rest[1] == '\0')
      return (int64_t)timegm(&tm);
    if (*rest)
      continue;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
  }
  return -1;
}

static double parse_dur(const char *opt, const char *text) {
  gen_range r;
  if (gen_range_parse(text, GEN_UNIT_TIME, &r) != NFH_OK || r.lo != r.hi)
    errx(EXIT_USAGE, "%s %s: a duration (90s, 15m, 6h, 3d)", opt, text);
  return r.lo;
}

static void parse_prefix(const char *opt, const char *text, gen_prefix *p) {
  if (gen_prefix_parse(text, p) != NFH_OK)
    errx(EXIT_USAGE, "%s %s: a prefix (a.b.c.d/len or x:y::/len)", opt, text);
}

static long rss_kib(void) {
  /* The current resident set, from /proc (ru_maxrss is the peak). */
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
      resident = 0;
    fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *human(double v, char *buf, size_t len) {
  if (v >= 1e9)
    snprintf(buf, len, "%.2fG", v / 1e9);
  else if (v >= 1e6)
    snprintf(buf, len, "%.2fM", v / 1e6);
  else if (v >= 1e3)
    snprintf(buf, len, "%.1fk", v / 1e3);
  else
    snprintf(buf, len, "%.0f", v);
  return buf;
}

/* Reads a scenario file: "inject KIND k=v ...", "KIND k=v ...",
 * "bg k=v ...", blank lines and # comments. */
static void read_scenario(const char *path, char **specs, int *nspecs,
                          char **bgs, int *nbgs) {
  FILE *f = fopen(path, "r");
  if (!f)
    err(EXIT_USAGE, "%s", path);
  char line[4096];
  int lineno = 0;
  while (fgets(line, sizeof(line), f)) {
    lineno++;
    char *p = line;
    char *hash = strchr(p, '#');
    if (hash)
      *hash = '\0';
    p += strspn(p, " \t\r\n");
    size_t n = strlen(p);
    while (n && strchr(" \t\r\n", p[n - 1]))
      p[--n] = '\0';
    if (!*p)
      continue;
    if (strncmp(p, "bg", 2) == 0 && (p[2] == ' ' || p[2] == '\t')) {
      if (*nbgs >= MAX_SPECS)
        errx(EXIT_USAGE, "%s:%d: too many bg lines", path, lineno);
      bgs[(*nbgs)++] = strdup(p + 3);
      continue;
    }
    if (strncmp(p, "inject", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
      p += 7;
    if (*nspecs >= MAX_SPECS)
      errx(EXIT_USAGE, "%s:%d: too many activities", path, lineno);
    specs[(*nspecs)++] = strdup(p);
  }
  fclose(f);
}

int main(int argc, char **argv) {
  enum {
    OPT_LEVEL = 256,
    OPT_USERS_NET,
    OPT_SERVERS_NET,
    OPT_DMZ_NET,
    OPT_V6_NET,
    OPT_NO_INJECT,
    OPT_BG,
    OPT_NO_BG,
    OPT_SAMPLING,
    OPT_SAMPLER_ID,
    OPT_UNANNOUNCED,
    OPT_ACTIVE,
    OPT_INACTIVE,
    OPT_PROTO,
    OPT_EXPORTER,
    OPT_EXPORTER_ID,
    OPT_EXPORT,
    OPT_RATE,
    OPT_SPEEDUP,
    OPT_TEMPLATE_EVERY,
    OPT_MTU,
    OPT_IDENT,
    OPT_PROGRESS,
  };
  static const struct option longopts[] = {
      {"dir", required_argument, NULL, 'w'},
      {"start", required_argument, NULL, 'b'},
      {"duration", required_argument, NULL, 'd'},
      {"seed", required_argument, NULL, 's'},
      {"subdir", required_argument, NULL, 'S'},
      {"zone", no_argument, NULL, 'Z'},
      {"slot", required_argument, NULL, 't'},
      {"codec", required_argument, NULL, 'c'},
      {"level", required_argument, NULL, OPT_LEVEL},
      {"labels", required_argument, NULL, 'l'},
      {"users", required_argument, NULL, 'u'},
      {"users-net", required_argument, NULL, OPT_USERS_NET},
      {"servers-net", required_argument, NULL, OPT_SERVERS_NET},
      {"dmz-net", required_argument, NULL, OPT_DMZ_NET},
      {"v6-net", required_argument, NULL, OPT_V6_NET},
      {"inject", required_argument, NULL, 'i'},
      {"scenario", required_argument, NULL, 'f'},
      {"no-inject", no_argument, NULL, OPT_NO_INJECT},
      {"bg", required_argument, NULL, OPT_BG},
      {"no-background", no_argument, NULL, OPT_NO_BG},
      {"sampling", required_argument, NULL, OPT_SAMPLING},
      {"sampler-id", required_argument, NULL, OPT_SAMPLER_ID},
      {"unannounced", no_argument, NULL, OPT_UNANNOUNCED},
      {"active", required_argument, NULL, OPT_ACTIVE},
      {"inactive", required_argument, NULL, OPT_INACTIVE},
      {"proto", required_argument, NULL, OPT_PROTO},
      {"exporter", required_argument, NULL, OPT_EXPORTER},
      {"exporter-id", required_argument, NULL, OPT_EXPORTER_ID},
      {"export", required_argument, NULL, OPT_EXPORT},
      {"rate", required_argument, NULL, OPT_RATE},
      {"speedup", required_argument, NULL, OPT_SPEEDUP},
      {"template-every", required_argument, NULL, OPT_TEMPLATE_EVERY},
      {"mtu", required_argument, NULL, OPT_MTU},
      {"ident", required_argument, NULL, OPT_IDENT},
      {"quiet", no_argument, NULL, 'q'},
      {"progress", no_argument, NULL, OPT_PROGRESS},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};

  const char *dir = NULL, *labels_path = NULL, *scenario = NULL;
  const char *export_to = NULL, *ident = "nfhunt-gen";
  const char *start_text = "2024-03-04T00:00";
  double duration_ms = 3600e3, active_ms = 60e3, inactive_ms = 15e3;
  double rate = 20000, speedup = 0;
  uint64_t seed = 1, sampling = 1, sampler_id = 1, exporter_id = 1;
  /* --unannounced: sampled, but neither said nor scaled (see usage). */
  int unannounced = 0;
  uint64_t slot_s = 300, template_every = 20, mtu = 1400;
  int subdir = 0, zone = 0, level = 0, no_inject = 0, no_bg = 0, quiet = 0;
  int progress = isatty(STDERR_FILENO), proto = 9;
  int codecs[16] = {NFH_WRITER_CODEC_LZ4}, n_codecs = 1;
  const char *codec_text = "lz4";
  char *specs[MAX_SPECS], *bgs[MAX_SPECS];
  int nspecs = 0, nbgs = 0;
  gen_net net;
  gen_net_defaults(&net);
  nfh_addr exporter;
  nfh_addr_parse("10.255.255.1", &exporter);

  int c;
  while ((c = getopt_long(argc, argv, "b:c:d:f:hi:l:qs:S:t:u:Vw:Z", longopts,
                          NULL)) != -1) {
    switch (c) {
    case 'b':
      start_text = optarg;
      break;
    case 'c': {
      codec_text = optarg;
      n_codecs = 0;
      char *copy = strdup(optarg), *save = NULL;
      for (char *tok = strtok_r(copy, ",", &save); tok;
           tok = strtok_r(NULL, ",", &save)) {
        if (n_codecs == 16 ||
            nfh_writer_codec_parse(tok, &codecs[n_codecs]) != NFH_OK)
          errx(EXIT_USAGE, "-c %s: none, lzo, bz2, lz4 or zstd (a comma "
                           "list rotates)", optarg);
        n_codecs++;
      }
      free(copy);
      if (n_codecs == 0)
        errx(EXIT_USAGE, "-c: give at least one codec");
      break;
    }
    case 'd':
      duration_ms = parse_dur("-d", optarg);
      /* 0 wrote a whole slot of traffic with every attack in it. */
      if (duration_ms <= 0)
        errx(EXIT_USAGE, "-d %s: a duration above 0", optarg);
      break;
    case 'f':
      scenario = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'i':
      if (nspecs >= MAX_SPECS)
        errx(EXIT_USAGE, "too many -i");
      specs[nspecs++] = strdup(optarg);
      break;
    case 'l':
      labels_path = optarg;
      break;
    case 'q':
      quiet = 1;
      progress = 0;
      break;
    case 's':
      seed = number("-s", optarg, UINT64_MAX);
      break;
    case 'S':
      subdir = (int)number("-S", optarg, 8);
      break;
    case 't':
      slot_s = number("-t", optarg, 86400);
      if (slot_s < 2)
        errx(EXIT_USAGE, "-t %s: at least 2 seconds, as nfcapd", optarg);
      break;
    case 'u':
      net.n_users = (uint32_t)number("-u", optarg, 4000000);
      break;
    case 'V':
      printf("nfhunt-gen %s\n", PACKAGE_VERSION);
      return 0;
    case 'w':
      dir = optarg;
      break;
    case 'Z':
      zone = 1;
      break;
    case OPT_LEVEL:
      level = (int)number("--level", optarg, 22);
      break;
    case OPT_USERS_NET:
      parse_prefix("--users-net", optarg, &net.users);
      break;
    case OPT_SERVERS_NET:
      parse_prefix("--servers-net", optarg, &net.servers);
      break;
    case OPT_DMZ_NET:
      parse_prefix("--dmz-net", optarg, &net.dmz);
      break;
    case OPT_V6_NET:
      parse_prefix("--v6-net", optarg, &net.v6);
      break;
    case OPT_NO_INJECT:
      no_inject = 1;
      break;
    case OPT_BG:
      if (nbgs >= MAX_SPECS)
        errx(EXIT_USAGE, "too many --bg");
      bgs[nbgs++] = strdup(optarg);
      break;
    case OPT_NO_BG:
      no_bg = 1;
      break;
    case OPT_SAMPLING:
      sampling = number("--sampling", optarg, 1000000);
      if (sampling < 1) /* not silently unsampled */
        errx(EXIT_USAGE, "--sampling %s: 1 (unsampled) to 1000000",
             optarg);
      break;
    case OPT_UNANNOUNCED:
      unannounced = 1;
      break;
    case OPT_SAMPLER_ID:
      sampler_id = number("--sampler-id", optarg, 255);
      if (sampler_id < 1)
        errx(EXIT_USAGE, "--sampler-id: 1 to 255");
      break;
    case OPT_ACTIVE:
      active_ms = parse_dur("--active", optarg);
      break;
    case OPT_INACTIVE:
      inactive_ms = parse_dur("--inactive", optarg);
      break;
    case OPT_PROTO:
      if (strcmp(optarg, "v9") == 0 || strcmp(optarg, "9") == 0)
        proto = 9;
      else if (strcmp(optarg, "ipfix") == 0 || strcmp(optarg, "10") == 0)
        proto = 10;
      else
        errx(EXIT_USAGE, "--proto %s: v9 or ipfix", optarg);
      break;
    case OPT_EXPORTER:
      if (nfh_addr_parse(optarg, &exporter) != 0)
        errx(EXIT_USAGE, "--exporter %s: an IP address", optarg);
      break;
    case OPT_EXPORTER_ID:
      exporter_id = number("--exporter-id", optarg, UINT32_MAX);
      break;
    case OPT_EXPORT:
      export_to = optarg;
      break;
    case OPT_RATE:
      rate = (double)number("--rate", optarg, 100000000);
      break;
    case OPT_SPEEDUP: {
      char *end;
      speedup = strtod(optarg, &end);
      if (*end || speedup <= 0)
        errx(EXIT_USAGE, "--speedup %s: a positive factor", optarg);
      break;
    }
    case OPT_TEMPLATE_EVERY:
      template_every = number("--template-every", optarg, 1000000);
      break;
    case OPT_MTU:
      mtu = number("--mtu", optarg, 65000);
      break;
    case OPT_IDENT:
      ident = optarg;
      break;
    case OPT_PROGRESS:
      progress = 1;
      break;
    default:
      usage(stderr);
      return EXIT_USAGE;
    }
  }
  if (optind < argc) {
    warnx("unexpected argument '%s'", argv[optind]);
    usage(stderr);
    return EXIT_USAGE;
  }
  if (!dir == !export_to) {
    warnx(dir ? "give -w DIR or --export HOST:PORT, not both"
              : "give -w DIR or --export HOST:PORT");
    usage(stderr);
    return EXIT_USAGE;
  }
  if (scenario)
    read_scenario(scenario, specs, &nspecs, bgs, &nbgs);
  if (no_inject && nspecs)
    errx(EXIT_USAGE, "--no-inject with activities given (-i or -f)");
  if (unannounced && sampling < 2)
    errx(EXIT_USAGE, "--unannounced needs --sampling N above 1");

  /* Times: slots aligned like nfcapd's (start - start % slot). */
  int64_t start_s = parse_time(start_text);
  if (start_s < 0)
    errx(EXIT_USAGE, "-b %s: YYYY-MM-DD[THH:MM[:SS]][Z] or @EPOCH",
         start_text);
  uint64_t slot_ms = slot_s * 1000;
  uint64_t start_ms = (uint64_t)start_s * 1000;
  start_ms -= start_ms % slot_ms;
  uint64_t dur = (uint64_t)duration_ms;
  if (dur < slot_ms)
    dur = slot_ms;
  uint64_t nslots = (dur + slot_ms - 1) / slot_ms;
  uint64_t end_ms = start_ms + nslots * slot_ms;
  if (export_to && proto == 9 &&
      end_ms - start_ms + 3600000 >= 0xFFFFFFFFULL)
    errx(EXIT_USAGE, "-d: NetFlow v9's uptime counter wraps after 49 days;"
                     " export shorter runs");
  if (active_ms < 1000 || inactive_ms < 1000)
    errx(EXIT_USAGE, "--active and --inactive: at least 1 second");

  net.salt = gen_hash64(seed ^ 0x4E4554ULL);
  char why[512];
  if (gen_net_check(&net, why, sizeof(why)) != NFH_OK)
    errx(EXIT_USAGE, "address plan: %s", why);

  char labels_buf[4096];
  if (!labels_path) {
    if (dir) {
      size_t n = strlen(dir);
      while (n > 1 && dir[n - 1] == '/')
        n--;
      snprintf(labels_buf, sizeof(labels_buf), "%.*s.labels.json", (int)n,
               dir);
    } else {
      snprintf(labels_buf, sizeof(labels_buf), "nfhunt-gen.labels.json");
    }
    labels_path = labels_buf;
  }

  gen_labels *labels;
  if (gen_labels_create(&labels) != NFH_OK)
    errx(1, "out of memory");
  gen_engine_options eo;
  memset(&eo, 0, sizeof(eo));
  eo.start_ms = start_ms;
  eo.end_ms = end_ms;
  eo.slot_ms = (uint32_t)slot_ms;
  eo.timeouts.active_ms = (uint32_t)active_ms;
  eo.timeouts.inactive_ms = (uint32_t)inactive_ms;
  eo.sampling = (uint32_t)sampling;
  eo.seed = seed;
  /* Writing (compression above all) costs about as much as making the
   * records: a writer thread overlaps the two. */
  eo.threaded = 1;
  gen_engine *engine;
  if (gen_engine_create(&eo, labels, &engine) != NFH_OK)
    errx(1, "cannot create the engine");
  gen_world world = {&net,        labels,   engine, eo.timeouts,
                     seed,        start_ms, end_ms};

  /* Injected activities first: their labels come first, and a record
   * a benign label could also claim belongs to the first that does. */
  gen_inject *inj;
  if (gen_inject_create(&world, &inj) != NFH_OK)
    errx(1, "out of memory");
  for (int i = 0; i < nspecs; i++)
    if (gen_inject_add(inj, specs[i], why, sizeof(why)) != NFH_OK)
      errx(EXIT_USAGE, "-i %s: %s", specs[i], why);
  if (!no_inject && nspecs == 0 && gen_inject_defaults(inj) != NFH_OK)
    errx(1, "cannot set up the default activities");

  gen_bg_params bgp;
  gen_bg_params_defaults(&bgp);
  for (int i = 0; i < nbgs; i++)
    if (gen_bg_params_set(&bgp, bgs[i], why, sizeof(why)) != NFH_OK)
      errx(EXIT_USAGE, "--bg %s: %s", bgs[i], why);
  gen_bg *bg = NULL;
  if (!no_bg && gen_bg_create(&world, &bgp, &bg) != NFH_OK)
    errx(1, "out of memory");

  gen_tree_options to;
  memset(&to, 0, sizeof(to));
  gen_tree *tree = NULL;
  gen_export *exp = NULL;
  gen_sink sink;
  char host[256] = "", port[16] = "";
  if (dir) {
    to.dir = dir;
    to.subdir = subdir;
    to.zone = zone;
    to.codecs = codecs;
    to.n_codecs = (size_t)n_codecs;
    to.level = level;
    to.ident = ident;
    to.exporter = exporter;
    to.exporter_id = (uint32_t)exporter_id;
    to.nf_version = (uint8_t)proto;
    to.sampling = unannounced ? 1 : (uint32_t)sampling;
    to.sampler_id = proto == 9 ? (int64_t)sampler_id : 0;
    to.sampler_algorithm = proto == 9 ? 2 : 0;
    if (gen_tree_create(&to, &tree) != NFH_OK)
      err(1, "%s", dir);
    sink = gen_tree_sink(tree);
  } else {
    /* HOST:PORT, or [v6]:PORT */
    const char *colon = strrchr(export_to, ':');
    if (!colon || colon == export_to || !colon[1])
      errx(EXIT_USAGE, "--export %s: HOST:PORT", export_to);
    const char *h = export_to;
    size_t hl = (size_t)(colon - export_to);
    if (h[0] == '[' && hl > 2 && h[hl - 1] == ']')
      h++, hl -= 2;
    snprintf(host, sizeof(host), "%.*s", (int)hl, h);
    snprintf(port, sizeof(port), "%s", colon + 1);
    gen_export_options xo;
    memset(&xo, 0, sizeof(xo));
    xo.host = host;
    xo.port = port;
    xo.version = proto;
    xo.rate = rate;
    xo.speedup = speedup;
    xo.template_every = (uint32_t)template_every;
    xo.sampling = unannounced ? 1 : (uint32_t)sampling;
    xo.sampler_id = (uint8_t)sampler_id;
    xo.source_id = (uint32_t)exporter_id;
    xo.start_ms = start_ms;
    xo.mtu = (size_t)mtu;
    if (gen_export_create(&xo, &exp, why, sizeof(why)) != NFH_OK)
      errx(1, "--export: %s", why);
    sink = gen_export_sink(exp);
  }

  double t_begin = now_s(), t_shown = 0;
  nfh_status st = NFH_OK;
  uint64_t slot = 0;
  for (uint64_t t0 = start_ms; t0 < end_ms && st == NFH_OK;
       t0 += slot_ms, slot++) {
    uint64_t t1 = t0 + slot_ms;
    st = gen_engine_begin_slot(engine, t0, t1);
    if (st == NFH_OK)
      st = gen_inject_slot(inj, t0, t1);
    if (st == NFH_OK && bg)
      st = gen_bg_slot(bg, t0, t1);
    if (st == NFH_OK)
      st = gen_engine_end_slot(engine, &sink);
    double now = now_s();
    if (progress && (now - t_shown >= 0.5 || slot + 1 == nslots)) {
      gen_engine_stats es;
      gen_engine_stats_get(engine, &es);
      char when[32], a[16], b[16];
      time_t tt = (time_t)(t0 / 1000);
      struct tm tm;
      localtime_r(&tt, &tm);
      strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
      double el = now - t_begin;
      fprintf(stderr,
              "\r[%5" PRIu64 "/%" PRIu64 "] %s  %s flows  %s/s  %zu "
              "sessions  RSS %ld MiB   ",
              slot + 1, nslots, when, human((double)es.records, a, sizeof(a)),
              human(el > 0 ? (double)es.records / el : 0, b, sizeof(b)),
              es.active_sessions, rss_kib() / 1024);
      t_shown = now;
    }
  }
  if (progress)
    fputc('\n', stderr);
  nfh_status fst = gen_engine_flush(engine);
  if (st == NFH_OK)
    st = fst;
  if (st == NFH_OK && sink.finish)
    st = sink.finish(sink.ctx);
  if (st != NFH_OK) {
    const char *detail = tree ? gen_tree_error(tree)
                         : exp ? gen_export_error(exp)
                               : "";
    if (st == NFH_ETOOBIG)
      detail = "too many records in one slot (over 16 million): use fewer "
               "users or a shorter slot";
    errx(1, "generation failed: %s%s%s", nfh_strerror(st), *detail ? ": " : "",
         detail);
  }

  /* The labels' run description. */
  gen_engine_stats es;
  gen_engine_stats_get(engine, &es);
  uint64_t flows = 0, packets = 0, bytes = 0;
  gen_label_counts *cnt = gen_labels_counts(labels);
  for (uint32_t i = 0; i < gen_labels_count(labels); i++) {
    flows += cnt[i].flows;
    packets += cnt[i].packets;
    bytes += cnt[i].bytes;
  }
  json_t *run = json_object();
  char buf[128], tb[32];
  json_object_set_new(run, "generator",
                      json_string("nfhunt-gen " PACKAGE_VERSION));
  json_object_set_new(run, "seed", json_integer((json_int_t)seed));
  json_object_set_new(run, "start", json_string(gen_iso8601(start_ms, tb,
                                                            sizeof(tb))));
  json_object_set_new(run, "end", json_string(gen_iso8601(end_ms, tb,
                                                          sizeof(tb))));
  json_object_set_new(run, "start_ms", json_integer((json_int_t)start_ms));
  json_object_set_new(run, "end_ms", json_integer((json_int_t)end_ms));
  json_object_set_new(run, "slot_seconds", json_integer((json_int_t)slot_s));
  json_t *tmo = json_object();
  json_object_set_new(tmo, "active_s", json_real(active_ms / 1000));
  json_object_set_new(tmo, "inactive_s", json_real(inactive_ms / 1000));
  json_object_set_new(run, "timeouts", tmo);
  json_object_set_new(run, "sampling", json_integer((json_int_t)sampling));
  json_object_set_new(run, "sampling_announced",
                      json_boolean(sampling > 1 && !unannounced));
  json_t *jn = json_object();
  json_object_set_new(jn, "users", json_string(gen_prefix_format(
                                       &net.users, buf, sizeof(buf))));
  json_object_set_new(jn, "servers", json_string(gen_prefix_format(
                                         &net.servers, buf, sizeof(buf))));
  json_object_set_new(jn, "dmz", json_string(gen_prefix_format(
                                     &net.dmz, buf, sizeof(buf))));
  json_object_set_new(jn, "v6", json_string(gen_prefix_format(
                                    &net.v6, buf, sizeof(buf))));
  json_object_set_new(jn, "user_hosts", json_integer(net.n_users));
  json_object_set_new(run, "network", jn);
  json_t *jo = json_object();
  if (dir) {
    json_object_set_new(jo, "mode", json_string("tree"));
    json_object_set_new(jo, "dir", json_string(dir));
    json_object_set_new(jo, "codecs", json_string(codec_text));
    json_object_set_new(jo, "subdir", json_integer(subdir));
    json_object_set_new(jo, "files",
                        json_integer((json_int_t)gen_tree_files(tree)));
  } else {
    json_object_set_new(jo, "mode", json_string("export"));
    json_object_set_new(jo, "collector", json_string(export_to));
    json_object_set_new(jo, "proto", json_string(proto == 9 ? "v9"
                                                            : "ipfix"));
  }
  json_object_set_new(jo, "exporter", json_string(nfh_addr_format(
                                          &exporter, buf, sizeof(buf))));
  json_object_set_new(jo, "exporter_id", json_integer((json_int_t)exporter_id));
  json_object_set_new(run, "output", jo);
  json_t *jt = json_object();
  json_object_set_new(jt, "flows", json_integer((json_int_t)flows));
  json_object_set_new(jt, "packets", json_integer((json_int_t)packets));
  json_object_set_new(jt, "bytes", json_integer((json_int_t)bytes));
  json_object_set_new(jt, "sampled_out", json_integer((json_int_t)
                                                          es.sampled_out));
  json_object_set_new(jt, "injected_activities",
                      json_integer((json_int_t)gen_inject_count(inj)));
  json_object_set_new(run, "totals", jt);
  json_t *cmd = json_array();
  for (int i = 0; i < argc; i++)
    json_array_append_new(cmd, json_string(argv[i]));
  json_object_set_new(run, "command", cmd);
  st = gen_labels_write(labels, labels_path, run);
  json_decref(run);
  if (st == NFH_EIO)
    err(1, "%s", labels_path);
  if (st != NFH_OK)
    errx(1, "%s: %s", labels_path, nfh_strerror(st));

  if (!quiet) {
    double el = now_s() - t_begin;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char a[16], b[16];
    fprintf(stderr,
            "nfhunt-gen: %s flow records in %" PRIu64 " slots, %.1f s "
            "(%s records/s), peak RSS %ld MiB, at most %zu sessions "
            "carried\n",
            human((double)es.records, a, sizeof(a)), nslots, el,
            human(el > 0 ? (double)es.records / el : 0, b, sizeof(b)),
            ru.ru_maxrss / 1024, es.max_active);
    if (tree)
      fprintf(stderr, "nfhunt-gen: %" PRIu64 " files under %s%s\n",
              gen_tree_files(tree), dir,
              gen_tree_renamed(tree) ? " (some renamed: repeated local hour)"
                                     : "");
    if (exp) {
      gen_export_stats xs;
      gen_export_stats_get(exp, &xs);
      fprintf(stderr,
              "nfhunt-gen: sent %" PRIu64 " datagrams, %" PRIu64
              " records to %s%s\n",
              xs.datagrams, xs.records, export_to,
              xs.refused ? " (some refused: is the collector running?)"
                         : "");
    }
    fprintf(stderr, "nfhunt-gen: labels in %s\n", labels_path);
  }

  gen_tree_destroy(tree);
  gen_export_destroy(exp);
  gen_bg_destroy(bg);
  gen_inject_destroy(inj);
  gen_engine_destroy(engine);
  gen_labels_destroy(labels);
  for (int i = 0; i < nspecs; i++)
    free(specs[i]);
  for (int i = 0; i < nbgs; i++)
    free(bgs[i]);
  return 0;
}
