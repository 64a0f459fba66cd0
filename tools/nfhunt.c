/*
 * nfhunt - threat hunting in nfdump capture files.
 *
 * This program selects capture files the way nfdump does (-r, -R, -M,
 * -t), or takes the file nfcapd -x hands over (--rotated), or JSON flow
 * files (--flow-file); reads them into nfhunt's flow model; runs the
 * detector modules over them with the state of earlier runs; and writes
 * the findings (terminal, JSON, NDJSON, a report beside the capture
 * file, syslog). --since last reads only files no run has analysed yet.
 * --dump and --count show the flow model instead.
 *
 * Settings come from nfhunt.conf (hunt/conf.h), overridden by the
 * command line.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/engine.h>
#include <nfhunt/filelist.h>
#include <nfhunt/homeguess.h>
#include <nfhunt/jsonflow.h>
#include <nfhunt/nfhunt.h>
#include <nfhunt/plugin.h>
#include <nfhunt/report.h>
#include <nfhunt/state.h>

#include "hunt/conf.h"
#include "hunt/files.h"

#ifndef NFH_PLUGIN_DIR
#define NFH_PLUGIN_DIR "/usr/local/lib/nfhunt"
#endif
#ifndef NFH_CONFIG_FILE
#define NFH_CONFIG_FILE "/usr/local/etc/nfhunt.conf"
#endif
#define STATE_NAME ".nfhunt.state"
#define DEFAULT_LOCK_WAIT 600

#define EXIT_FOUND 1 /* findings at or above the alert level */
#define EXIT_ERROR 2

typedef enum mode { MODE_HUNT, MODE_DUMP, MODE_COUNT, MODE_LIST } mode;

/* TCP records without a sampling interval (none announced, none set by
 * nfcapd -s), by what a packet sampler makes of sessions (see
 * sampling_check). Lone SYN, FIN and RST packets and flagless ones are
 * none of them: probes and their answers are single packets, sampled
 * or not. */
typedef struct tcp_tally {
  uint64_t multi;       /* several packets (or a biflow record's answer) */
  uint64_t single_data; /* one packet, ACK and data: a session's middle */
  uint64_t single_ack;  /* one bare ACK: a session's middle, or a probe */
} tcp_tally;

typedef struct totals {
  uint64_t files, files_failed, flows, packets, bytes;
  uint64_t files_partly; /* of files_failed: read in part */
  uint64_t files_gone;   /* removed between selection and opening */
  uint64_t first_ms, last_ms;
  uint64_t sampled_flows;
  uint32_t max_sampling;
  tcp_tally tcp;
} totals;

/* Whether files look packet-sampled with no interval said (an exporter
 * that samples without announcing it, and no nfcapd -s for it): its
 * counts are raw samples, volumes N times too low, and scans and small
 * beacons thin out. Unsampled, a TCP session's record holds several
 * packets; sampled, most records are one middle packet: data, or the
 * bare ACK of the other side. Bare ACKs are also what ACK scans and
 * nmap -sn send, a record each, to every address of a network: they
 * count only as far as single data packets stand beside them (a
 * sampler sees about one bare ACK for every two data packets of a
 * transfer; a prober sends no data). Single middle packets are then
 * none of a real unsampled day of softflowd from lab captures, 4% of
 * the busiest real capture at hand; 44% to 89% of real captures
 * sampled 1:10 and 1:100 (where they tell: a few web pages sampled 1:10
 * hold too few sampled sessions). Judged per file, so that a few
 * minutes of a flood do not pass for it. */
#define SAMPLING_CHECK_MIN_TCP 500 /* TCP records a file needs to tell */
#define SAMPLING_CHECK_SHARE 0.3
typedef struct sampling_check {
  uint64_t checked_files; /* files with enough unscaled TCP records */
  uint64_t sampled_files; /* of them, those that look sampled */
  uint64_t tcp, single_mid; /* the records of the sampled-looking files */
  /* The file being read: the totals before it, whether its records so
   * far tell (and what), and what the last file that told said. Its
   * flows are marked sampled (interval unknown) for the detectors as
   * soon as it tells, and from its start when the file before looked
   * sampled: the port scan detector then does not take lost answers
   * for failures. */
  tcp_tally file0;
  int file_told, file_sampled, last_sampled;
} sampling_check;

/* ------------------------------------------------------------ messages */

/* Where errors go besides stderr: syslog once --syslog is known. The
 * program is single-threaded; these are its only globals. */
static int log_to_syslog;
/* -v: detectors' and the engine's info lines on stderr; -vv: debug. */
static int verbosity;

/* Control characters in 'line' (a file name's newline or terminal
 * escapes) as \xNN, in place and cut to 'size': a name holding
 * "\nnfhunt: ...: ok" printed a second, forged line. */
static void escape_controls(char *line, size_t size) {
  char out[4096];
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)line;
       *p && o + 5 < sizeof(out); p++) {
    if (*p < 0x20 || *p == 0x7f)
      o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", *p);
    else
      out[o++] = (char)*p;
  }
  size_t n = o < size - 1 ? o : size - 1;
  memcpy(line, out, n);
  line[n] = '\0';
}

static void vsay(int prio, const char *fmt, va_list ap) {
  char line[1024];
  vsnprintf(line, sizeof(line), fmt, ap);
  escape_controls(line, sizeof(line));
  fprintf(stderr, "nfhunt: %s\n", line);
  if (log_to_syslog)
    syslog(prio, "%s", line);
}

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void complain(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Prints (and syslogs) one line and exits with status 2. The state, if
 * open, is rolled back by SQLite and its lock released by the exit. */
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(LOG_ERR, fmt, ap);
  va_end(ap);
  exit(EXIT_ERROR);
}

static void complain(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(LOG_ERR, fmt, ap);
  va_end(ap);
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(LOG_WARNING, fmt, ap);
  va_end(ap);
}

/* A home network written with a host address (10.0.0.5/16, a copy of
 * an interface's setting) is taken as its network, as ip(8) does; said,
 * since the writer may have meant the one host. */
static void warn_host_bits(const char *what, const char *spec, int with_port) {
  nfh_addr net;
  unsigned bits;
  int port, host_bits = 0;
  int bad = with_port
                ? nfh_cidr_port_parse(spec, &net, &bits, &port, &host_bits)
                : nfh_cidr_parse(spec, &net, &bits, &host_bits);
  char text[NFH_ADDR_STRLEN];
  if (!bad && host_bits)
    warn("%s %s: bits set beyond the prefix; taken as the network %s/%u "
         "(a /32 or /128 names one host)",
         what, spec, nfh_addr_format(&net, text, sizeof(text)), bits);
}

/* More files than this (an hour of nfcapd's) not analysed yet, whose
 * slots lie an hour or more inside the data a state has analysed, make
 * warn_moved_tree speak: a few late files (a collector's backlog, a file
 * given up once) are no news. */
#define MOVED_TREE_FILES 12

/* The state knows files by their real path: a flow tree moved or copied
 * elsewhere and hunted with the same state is read again, its traffic
 * counted a second time into the baselines and its old findings shown
 * as ongoing, without a word (a tester's "cp -al" of three weeks). Says
 * so, once, when many files to read (keys[i] with todo[i]) lie within
 * the state's data. */
static void warn_moved_tree(nfh_state *state, const char *state_path,
                            char *const *keys, const unsigned char *todo,
                            size_t n) {
  uint64_t first = 0, last = 0;
  if (!state || nfh_state_get_u64(state, "data_first_ms", &first) != NFH_OK ||
      nfh_state_get_u64(state, "data_last_ms", &last) != NFH_OK || !last)
    return;
  size_t inside = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t t = todo[i] ? nfh_file_slot_time(keys[i]) : -1;
    if (t > 0 && (uint64_t)t * 1000 >= first &&
        (uint64_t)t * 1000 + 3600000 <= last)
      inside++;
  }
  if (inside <= MOVED_TREE_FILES)
    return;
  char a[32], b[32];
  warn("%zu files to read lie within the data the state %s has analysed "
       "(%s to %s), yet it has not analysed them: a tree moved or copied "
       "to another path is read again and its traffic counted twice (the "
       "state knows files by their real path)",
       inside, state_path, nfh_format_iso8601(first, a, sizeof(a)),
       nfh_format_iso8601(last, b, sizeof(b)));
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: nfhunt [-r file] [-R dir|dir/first|first:last] "
          "[-M /base/src1:src2] [-t window]\n"
          "              [--since last] [--output file] [--beside] "
          "[-o text|json|ndjson] [-q] [-v]\n"
          "              [--alert-level sev] [--syslog[=facility]] "
          "[--state path | --no-state]\n"
          "              [--lock-wait s] [--home-net cidr,...] "
          "[--allow [det:]spec] [--plugin-dir dir]\n"
          "              [--plugins a,b] [--set det.key=value] "
          "[--config file | --no-config]\n"
          "       nfhunt --rotated FLOWDIR FILE [hunt options]   "
          "(nfcapd -x '... --rotated %%d %%f')\n"
          "       nfhunt --flow-file FILE [--output file] [hunt options]\n"
          "       nfhunt --dump | --count  [selection options]\n"
          "       nfhunt --list-plugins [--plugin-dir dir]\n"
          "Input (as nfdump):\n"
          "  -r FILE          one capture file (repeatable; a directory is "
          "-R)\n"
          "  -R SPEC          a directory tree, dir/first, or first:last\n"
          "  -M SOURCES       several source directories (/base/s1:s2)\n"
          "  -t WINDOW        yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss]\n"
          "  --since last     only files no run with this state analysed\n"
          "  --rotated DIR FILE  the file nfcapd -x just closed (%%d %%f)\n"
          "  --flow-file FILE JSON flows (array, JSON lines, python-netflow "
          ".gz)\n"
          "Hunt:\n"
          "  --output FILE    write the JSON report to FILE (atomically)\n"
          "  --beside         write it beside the last capture file read, "
          "as\n"
          "                   .nfhunt.STAMP.stat.json (default with "
          "--rotated)\n"
          "  -o FORMAT        stdout format: text (default), json, ndjson\n"
          "  -q, --quiet      print only when a new finding reaches the "
          "alert level\n"
          "  -v, --verbose    detectors' statistics on stderr (-vv: debug "
          "lines too)\n"
          "  --alert-level S  report findings at or above S (default low); "
          "exit 1 if any\n"
          "  --syslog[=FAC]   one syslog line per new finding (facility "
          "default daemon)\n"
          "  --no-syslog      none (overrides the configuration)\n"
          "  --state PATH     state database (default: .nfhunt.state in the "
          "flow directory)\n"
          "  --no-state       keep nothing between runs\n"
          "  --lock-wait S    wait at most S seconds for another run's lock "
          "(default %d)\n"
          "  --home-net LIST  home networks, CIDR list (default RFC 1918 + "
          "fc00::/7)\n"
          "  --allow SPEC     allowlist CIDR[:port], optionally DETECTOR: "
          "first\n"
          "  --plugin-dir DIR detector modules (default %s)\n"
          "  --plugins LIST   load only these detectors\n"
          "  --set D.K=V      detector D's parameter K\n"
          "  --config FILE    configuration (default %s)\n"
          "  --no-config      read no configuration file\n"
          "  --list-plugins   show the detectors and exit\n"
          "Flow model:\n"
          "  --dump           print every flow as CSV\n"
          "  --count          print files, flows, packets and bytes\n"
          "  --threads N      decode threads (default: one per CPU)\n"
          "  -h, --help       this help;  -V, --version  the version\n"
          "Exit status: 0 nothing at or above the alert level, 1 findings, "
          "2 error.\n",
          DEFAULT_LOCK_WAIT, NFH_PLUGIN_DIR, NFH_CONFIG_FILE);
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
          nfh_addr_format(&f->dst, dst, sizeof(dst)), f->dst_port, f->packets,
          f->bytes, f->tcp_flags, f->tos, f->sampling,
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
  /* Distinct exporters (address, version, id) of the files read: every
   * file lists its own, so a sum over files counts one router per file. */
  nfh_exporter *exporters;
  size_t nexporters, cap_exporters;
  int told_twice;  /* one exporter in two -M directories: said once */
  nfh_flow *batch; /* flows inside the time window, for the engine */
  const nfh_filelist *list; /* the selection, for files gone meanwhile */
  size_t batch_cap;
  sampling_check sc;
} run;

/* The records of 't' that tell whether an exporter samples (*tcp), and
 * the single middle packets among them (*mid). */
static void tally_evidence(const tcp_tally *t, uint64_t *tcp, uint64_t *mid) {
  uint64_t acks =
      t->single_ack < t->single_data ? t->single_ack : t->single_data;
  *mid = t->single_data + acks;
  *tcp = t->multi + *mid;
}

/* a - b, field by field (the records since b was taken). */
static tcp_tally tally_since(const tcp_tally *a, const tcp_tally *b) {
  tcp_tally d = {a->multi - b->multi, a->single_data - b->single_data,
                 a->single_ack - b->single_ack};
  return d;
}

/* Whether 'tcp' such records (enough to tell: the callers check), 'mid'
 * of them single middle packets, look sampled. */
static int looks_sampled(uint64_t tcp, uint64_t mid) {
  return (double)mid >= SAMPLING_CHECK_SHARE * (double)tcp;
}

/* The share of single middle packets in the sampled-looking files. */
static double sampled_share(const run *r) {
  return r->sc.tcp ? (double)r->sc.single_mid / (double)r->sc.tcp : 0;
}

/* Before a file is read. */
static void sampling_file_begin(run *r) {
  r->sc.file0 = r->t.tcp;
  r->sc.file_told = 0;
}

/* tally_evidence of the file being read, its records so far. */
static void file_evidence(const run *r, uint64_t *tcp, uint64_t *mid) {
  tcp_tally file = tally_since(&r->t.tcp, &r->sc.file0);
  tally_evidence(&file, tcp, mid);
}

/* Whether the file's records so far tell, and then whether they look
 * sampled. */
static int sampling_file_tells(run *r) {
  uint64_t tcp, mid;
  file_evidence(r, &tcp, &mid);
  if (tcp < SAMPLING_CHECK_MIN_TCP)
    return 0;
  r->sc.file_told = 1;
  r->sc.file_sampled = looks_sampled(tcp, mid);
  return 1;
}

/* Judges one file's TCP records, after it was read. */
static void sampling_check_file(run *r) {
  if (!sampling_file_tells(r))
    return;
  uint64_t tcp, mid;
  file_evidence(r, &tcp, &mid);
  r->sc.checked_files++;
  r->sc.last_sampled = r->sc.file_sampled;
  if (!r->sc.file_sampled)
    return;
  r->sc.sampled_files++;
  r->sc.tcp += tcp;
  r->sc.single_mid += mid;
}

/* After the last file: files too small to tell alone (a small site
 * sampled 1:1000 sends a few hundred TCP records in five minutes) are
 * judged together, as one. */
static void sampling_check_pool(run *r) {
  uint64_t tcp, mid;
  tally_evidence(&r->t.tcp, &tcp, &mid);
  if (r->sc.checked_files || tcp < SAMPLING_CHECK_MIN_TCP)
    return;
  r->sc.checked_files = r->t.files;
  if (!looks_sampled(tcp, mid))
    return;
  r->sc.sampled_files = r->t.files;
  r->sc.tcp = tcp;
  r->sc.single_mid = mid;
}

/* Whether files that could tell look sampled without saying so: their
 * flows went to the detectors as sampled, and the report says so
 * however few they are (findings read "sampled" under a report that
 * said no exporter sampled). */
static int sampling_unannounced(const run *r) {
  return r->sc.sampled_files > 0;
}

static void note_exporter(run *r, const nfh_exporter *x) {
  for (size_t i = 0; i < r->nexporters; i++) {
    const nfh_exporter *k = &r->exporters[i];
    if (k->version == x->version && k->id == x->id &&
        nfh_addr_compare(&k->addr, &x->addr) == 0)
      return;
  }
  if (r->nexporters == r->cap_exporters) {
    if (r->cap_exporters >= 65536)
      return; /* a count, not worth unbounded memory */
    size_t cap = r->cap_exporters ? 2 * r->cap_exporters : 16;
    nfh_exporter *grown = realloc(r->exporters, cap * sizeof(*grown));
    if (!grown)
      return;
    r->exporters = grown;
    r->cap_exporters = cap;
  }
  r->exporters[r->nexporters++] = *x;
}

/* a + b, at most UINT64_MAX: a corrupt record's 2^64 - 1 packets made
 * the totals wrap to small numbers. */
static uint64_t add_saturating(uint64_t a, uint64_t b) {
  return a + b < a ? UINT64_MAX : a + b;
}

/* The most a TCP packet of f's family holds without data: IP and TCP
 * headers with their options at the most (IPv4 20 + 20 + 40; IPv6 40 +
 * 20 + 40; NetFlow counts IP bytes). */
static uint64_t header_bytes(const nfh_flow *f) {
  return f->src.family == 4 ? 80 : 100;
}

static void count_flow(totals *t, const nfh_flow *f) {
  t->flows++;
  t->packets = add_saturating(t->packets, f->packets);
  t->bytes = add_saturating(t->bytes, f->bytes);
  if (f->sampling > 1) {
    t->sampled_flows++;
    if (f->sampling > t->max_sampling)
      t->max_sampling = f->sampling;
  } else if (f->proto == 6 && !(f->flags & NFH_FLOW_SAMPLED)) {
    /* 0x07: FIN, SYN, RST. Lone probes and their answers (a scan's
     * SYNs, the RSTs back) are single packets sampled or not, and a scan
     * would dilute the share: they are left out. A biflow record's
     * answer is a second packet. Records of SYNs without an ACK stay
     * out too (a sampled SYN flood's sources dilute the share), or a
     * real unsampled capture of nmap sweeps and SYN retries looked
     * sampled. */
    if (f->packets != 1 || f->out_packets != 0)
      t->tcp.multi++;
    else if ((f->tcp_flags & 0x17) == 0x10) /* ACK, no FIN/SYN/RST */
      f->bytes > header_bytes(f) ? t->tcp.single_data++ : t->tcp.single_ack++;
  }
  if (!t->first_ms || f->first_ms < t->first_ms)
    t->first_ms = f->first_ms;
  if (f->last_ms > t->last_ms)
    t->last_ms = f->last_ms;
}

/* Grows the run's batch to hold n flows. */
static void batch_reserve(run *r, size_t n) {
  if (n <= r->batch_cap)
    return;
  nfh_flow *grown = realloc(r->batch, n * sizeof(nfh_flow));
  if (!grown)
    die("out of memory");
  r->batch = grown;
  r->batch_cap = n;
}

/* Passes one batch on: counts it, dumps it, or feeds the engine (only
 * the flows inside the window). */
static void take_flows(run *r, const char *path, const nfh_flow *flows,
                       size_t n) {
  /* What the engine gets: the reader's flows as they are, or a copy in
   * r->batch (only the window's flows, or flows marked sampled). */
  const nfh_flow *feed = flows;
  size_t nfeed = n;
  int windowed = r->win_start != 0 || r->win_end != UINT64_MAX;
  if (windowed && r->engine) {
    batch_reserve(r, n);
    feed = r->batch;
    nfeed = 0;
  }
  for (size_t i = 0; i < n; i++) {
    const nfh_flow *f = &flows[i];
    if (f->first_ms < r->win_start || f->last_ms > r->win_end)
      continue;
    count_flow(&r->t, f);
    if (r->m == MODE_DUMP)
      dump_flow(stdout, f);
    else if (windowed && r->engine)
      r->batch[nfeed++] = *f;
  }
  if (!r->engine)
    return;
  if (!r->sc.file_told)
    sampling_file_tells(r);
  if (r->sc.file_told ? r->sc.file_sampled : r->sc.last_sampled) {
    /* Packet-sampled without a word (see sampling_check): sampled, the
     * interval unknown. */
    if (feed != r->batch) {
      batch_reserve(r, n);
      memcpy(r->batch, flows, n * sizeof(nfh_flow));
      feed = r->batch;
    }
    for (size_t i = 0; i < nfeed; i++)
      if (r->batch[i].sampling <= 1)
        r->batch[i].flags |= NFH_FLOW_SAMPLED;
  }
  nfh_status st = nfh_engine_add_flows(r->engine, feed, nfeed);
  if (st != NFH_OK)
    die("%s: %s", path, nfh_strerror(st));
}

/* The engine's counters before a file is read (zero without an
 * engine), for report_fixes() after it. */
static nfh_engine_stats stats_so_far(const run *r) {
  nfh_engine_stats none;
  memset(&none, 0, sizeof(none));
  return r->engine ? *nfh_engine_get_stats(r->engine) : none;
}

/* Names the file whose records the engine set right in time (see
 * nfh_engine_stats.misdated_flows: the operator's lead to the exporter
 * with the broken clock) or left out for impossible counters
 * (implausible_flows), one line each. 'before' is stats_so_far() from
 * before the file. With 'tail' (tail_len bytes), the notes go there
 * instead, "; " before each, for the file's one line about its damage:
 * one line per bad file. */
static void report_fixes(const run *r, const char *path,
                         const nfh_engine_stats *before, char *tail,
                         size_t tail_len) {
  if (tail)
    tail[0] = '\0';
  if (!r->engine)
    return;
  const nfh_engine_stats *es = nfh_engine_get_stats(r->engine);
  char times[200] = "", counters[160] = "";
  uint64_t n = es->misdated_flows - before->misdated_flows;
  if (n) {
    char when[40];
    snprintf(times, sizeof(times),
             "%" PRIu64 " flow record%s with impossible times (e.g. ending "
             "%s; an exporter's clock?): set to the time of the records "
             "around %s",
             n, n == 1 ? "" : "s",
             nfh_format_iso8601(es->misdated_latest_ms, when, sizeof(when)),
             n == 1 ? "it" : "them");
  }
  n = es->implausible_flows - before->implausible_flows;
  if (n)
    snprintf(counters, sizeof(counters),
             "%" PRIu64 " flow record%s with impossible counters (more "
             "than 65535 bytes a packet, or less than one; damaged?): left "
             "out",
             n, n == 1 ? "" : "s");
  if (tail) {
    snprintf(tail, tail_len, "%s%s%s%s", times[0] ? "; " : "", times,
             counters[0] ? "; " : "", counters);
    return;
  }
  if (times[0])
    warn("%s: %s", path, times);
  if (counters[0])
    warn("%s: %s", path, counters);
}

/* How reading a file went. */
typedef enum read_result {
  READ_OK,      /* read to its end */
  READ_PARTLY,  /* opened, failed later: what was read counts */
  READ_NOT,     /* not opened: nothing read */
  READ_SKIPPED, /* outside the -t window */
  /* Gone between the selection and its turn: nfexpire at work during a
   * long catch-up run. No failure (one line tells how many), and the
   * state forgets it as it forgets every removed file. */
  READ_GONE
} read_result;

/* Counts a file's read result among the failures: not read, or read in
 * part (which is among the files read too). */
static void count_result(totals *t, read_result rc) {
  t->files_failed += rc == READ_NOT || rc == READ_PARTLY;
  t->files_partly += rc == READ_PARTLY;
}

/* Opens a capture file for reading and says what its header tells:
 * READ_OK (flows to read), READ_NOT (complained), READ_SKIPPED
 * (outside the -t window; closed) or READ_GONE (no longer there). */
static read_result file_open(nfh_reader *reader, const char *path, run *r) {
  nfh_status st = nfh_reader_open(reader, path);
  if (st != NFH_OK) {
    struct stat sb;
    if (r->list && lstat(path, &sb) != 0 && errno == ENOENT &&
        nfh_filelist_was_there(r->list, path)) {
      r->t.files_gone++;
      return READ_GONE;
    }
    complain("%s: %s", path, nfh_reader_error(reader));
    return READ_NOT;
  }
  const nfh_file_info *info = nfh_reader_info(reader);
  /* As nfdump does: a file whose stat record lies outside the window
   * holds no flow of interest. */
  if (info->has_stat && info->stat_flows &&
      (info->stat_last_ms < r->win_start || info->stat_first_ms > r->win_end)) {
    nfh_reader_close(reader);
    return READ_SKIPPED;
  }
  /* Closed, yet its header lists no block while data lies before its
   * appendix: a damaged count. Nothing is read, as nfdump reads nothing;
   * a file not read is an error (it was a warning and exit status 0). */
  if (info->complete && info->unlisted_bytes) {
    complain("%s: its header lists no data block, yet %" PRIu64 " bytes "
             "lie between it and the appendix (a damaged header?): not "
             "read, as nfdump does",
             path, info->unlisted_bytes);
    nfh_reader_close(reader);
    return READ_NOT;
  }
  /* Unclosed, and no block follows its header: not a file nfcapd was
   * writing but a damaged header (a 1.6 file whose version byte read 2
   * was "still written", read as empty, exit 0, and marked analysed). */
  if (!info->complete && info->unlisted_bytes && info->unlisted_no_block) {
    complain("%s: its header lists no data block and no appendix, and the "
             "%" PRIu64 " bytes after it do not start with a data block (a "
             "damaged header?): not read",
             path, info->unlisted_bytes);
    nfh_reader_close(reader);
    return READ_NOT;
  }
  r->t.files++;
  /* A file nfcapd never closed (it died, and someone renamed the
   * .current file) lists no blocks in its header: nfdump reads nothing
   * from it, nor do we, but silence would pass for a quiet slot. */
  if (!info->complete && info->unlisted_bytes)
    warn("%s: not closed by nfcapd (still written, or nfcapd died): its "
         "header lists no data block, %" PRIu64 " bytes follow; read as "
         "empty, as nfdump does",
         path, info->unlisted_bytes);
  else if (!info->complete && info->num_blocks == 0)
    warn("%s: not closed by nfcapd (still written): no data block yet; "
         "read as empty",
         path);
  else if (!info->complete)
    warn("%s: not closed by nfcapd (still written, or nfcapd died): no "
         "appendix; its %u listed blocks read",
         path, info->num_blocks);
  return READ_OK;
}

/* After a file's last block (st: how reading ended): the lines about its
 * records and exporters, and whether it was read whole. Closes it. */
static read_result file_close(nfh_reader *reader, const char *path, run *r,
                              nfh_status st, const nfh_engine_stats *before) {
  char notes[400];
  report_fixes(r, path, before, st != NFH_END ? notes : NULL, sizeof(notes));
  sampling_check_file(r);
  size_t ne;
  const nfh_exporter *ex = nfh_reader_exporters(reader, &ne);
  for (size_t i = 0; i < ne; i++)
    note_exporter(r, &ex[i]);
  if (verbosity > 0 && st == NFH_END) {
    /* nfcapd's own counters per exporter (nfdump -E): sequence failures
     * are export packets lost on the way, so flows missing here. */
    size_t ns;
    const nfh_exporter_stat *es = nfh_reader_exporter_stats(reader, &ns);
    for (size_t i = 0; i < ns; i++) {
      char a[NFH_ADDR_STRLEN] = "unknown exporter";
      if (es[i].known)
        nfh_addr_format(&es[i].exporter.addr, a, sizeof(a));
      fprintf(stderr,
              "nfhunt: %s: exporter %s (sysid %u): %" PRIu64
              " flows in %" PRIu64 " export packets, %u sequence "
              "failures\n",
              path, a, es[i].sysid, es[i].flows, es[i].packets,
              es[i].sequence_failures);
    }
  }
  read_result rc = READ_OK;
  if (st != NFH_END) {
    complain("%s: %s%s", path, nfh_reader_error(reader), notes);
    rc = READ_PARTLY;
  }
  nfh_reader_close(reader);
  return rc;
}

static read_result read_file(nfh_reader *reader, const char *path, run *r) {
  read_result rc = file_open(reader, path, r);
  if (rc != READ_OK)
    return rc;
  const nfh_flow *flows;
  size_t n;
  nfh_status st;
  nfh_engine_stats before = stats_so_far(r);
  sampling_file_begin(r);
  while ((st = nfh_reader_next(reader, &flows, &n)) == NFH_OK)
    take_flows(r, path, flows, n);
  return file_close(reader, path, r, st, &before);
}

/* ------------------------------------------------ files of one slot */

/* The files of one time slot from several directories (-M, a directory
 * per exporter or collector) are read together, their records in turns
 * of about MERGE_QUANTUM_MS, the file whose next record ends first next.
 * Read one after the other, an hourly file's records came an hour after
 * the other exporter's of the same minutes, so connections were stitched
 * apart, the copies two exporters make of one flow were not found
 * (198,703 of 921,938), and the volumetric detector judged 40% of the
 * bytes after their slot. Turns of whole blocks (minutes of records)
 * still left 357,000 copies unfound. */
#define MERGE_MAX 16
#define MERGE_QUANTUM_MS 30000

typedef struct merge_file {
  const char *path;
  nfh_reader *reader;
  read_result rc;
  int reading;
  nfh_status st;         /* how its last nfh_reader_next ended */
  const nfh_flow *flows; /* the pending block (the reader's) */
  size_t n, off;         /* its records, and those taken already */
  /* What read_file keeps for one file at a time, kept apart while the
   * files take turns: the sampling check's counts and verdict, and the
   * records the engine set right or left out. */
  tcp_tally tcp;
  int told, sampled;
  uint64_t misdated, implausible;
} merge_file;

/* The end of m's next record: files hold records in export order, which
 * is end order give or take an inactive timeout. */
static uint64_t head_time(const merge_file *m) {
  return m->flows[m->off].last_ms;
}

/* Reads m's next non-empty block, or ends it (m->reading 0). */
static void merge_next(merge_file *m) {
  m->off = 0;
  while ((m->st = nfh_reader_next(m->reader, &m->flows, &m->n)) == NFH_OK)
    if (m->n)
      return;
  m->reading = 0;
  m->n = 0;
}

/* Puts m's own sampling-check counts and verdict where the per-file
 * code (take_flows, sampling_check_file) keeps those of the file being
 * read. */
static void merge_enter(run *r, const merge_file *m) {
  r->sc.file0 = tally_since(&r->t.tcp, &m->tcp);
  r->sc.file_told = m->told;
  r->sc.file_sampled = m->sampled;
}

/* Feeds m's records from m->off on that end by 'limit' (one at least),
 * with m's own per-file counts in place. */
static void merge_take(run *r, merge_file *m, uint64_t limit) {
  size_t end = m->off + 1;
  while (end < m->n && m->flows[end].last_ms <= limit)
    end++;
  merge_enter(r, m);
  nfh_engine_stats before = stats_so_far(r);
  take_flows(r, m->path, m->flows + m->off, end - m->off);
  m->off = end;
  nfh_engine_stats after = stats_so_far(r);
  m->misdated += after.misdated_flows - before.misdated_flows;
  m->implausible += after.implausible_flows - before.implausible_flows;
  m->tcp = tally_since(&r->t.tcp, &r->sc.file0);
  m->told = r->sc.file_told;
  m->sampled = r->sc.file_sampled;
}

/* Closes m as read_file would: its lines, with its own counts. */
static read_result merge_close(run *r, merge_file *m) {
  merge_enter(r, m);
  nfh_engine_stats before = stats_so_far(r);
  before.misdated_flows -= m->misdated;
  before.implausible_flows -= m->implausible;
  return file_close(m->reader, m->path, r, m->st, &before);
}

/* One exporter (address, version, id) in two files of a slot: two
 * collectors of one exporter (an HA pair, nfcapd -R repeating to a
 * second one), whose records then count twice, in nfdump -M too. Said
 * once a run; 'm' are the slot's n files, read to their ends. */
static void warn_exporter_twice(run *r, const merge_file *m, size_t n) {
  for (size_t i = 0; i < n && !r->told_twice; i++) {
    if (m[i].rc != READ_OK)
      continue;
    size_t na;
    const nfh_exporter *a = nfh_reader_exporters(m[i].reader, &na);
    for (size_t j = i + 1; j < n && !r->told_twice; j++) {
      if (m[j].rc != READ_OK)
        continue;
      size_t nb;
      const nfh_exporter *b = nfh_reader_exporters(m[j].reader, &nb);
      for (size_t x = 0; x < na && !r->told_twice; x++)
        for (size_t y = 0; y < nb && !r->told_twice; y++) {
          if (a[x].version != b[y].version || a[x].id != b[y].id ||
              nfh_addr_compare(&a[x].addr, &b[y].addr) != 0)
            continue;
          char addr[NFH_ADDR_STRLEN];
          nfh_addr_format(&a[x].addr, addr, sizeof(addr));
          warn("exporter %s (v%u id %u) is in %s and in %s: two "
               "collectors of one exporter? Its records count twice, as "
               "in nfdump -M; give -M one of them",
               addr, a[x].version, a[x].id, m[i].path, m[j].path);
          r->told_twice = 1;
        }
    }
  }
}

/* Reads the n files (n <= MERGE_MAX) together with the readers given
 * (one each); res[i] gets file i's result. */
static void read_merged(nfh_reader **readers, const char **paths, size_t n,
                        run *r, read_result *res) {
  merge_file m[MERGE_MAX];
  memset(m, 0, sizeof(m));
  for (size_t i = 0; i < n; i++) {
    m[i].path = paths[i];
    m[i].reader = readers[i];
    m[i].rc = res[i] = file_open(readers[i], paths[i], r);
    if (m[i].rc != READ_OK)
      continue;
    m[i].reading = 1;
    merge_next(&m[i]);
  }
  for (;;) {
    merge_file *next = NULL;
    uint64_t best = UINT64_MAX, second = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
      if (!m[i].reading)
        continue;
      uint64_t t = head_time(&m[i]);
      if (!next || t < best) {
        second = best;
        next = &m[i], best = t;
      } else if (t < second) {
        second = t;
      }
    }
    if (!next)
      break;
    merge_take(r, next,
               second == UINT64_MAX ? UINT64_MAX : second + MERGE_QUANTUM_MS);
    if (next->off == next->n)
      merge_next(next);
  }
  warn_exporter_twice(r, m, n);
  for (size_t i = 0; i < n; i++)
    if (m[i].rc == READ_OK)
      res[i] = merge_close(r, &m[i]);
}

static read_result read_json_file(nfh_json_reader *reader, const char *path,
                                  run *r) {
  if (nfh_json_reader_open(reader, path) != NFH_OK) {
    complain("%s", nfh_json_reader_error(reader));
    return READ_NOT;
  }
  r->t.files++;
  const nfh_flow *flows;
  size_t n;
  nfh_status st;
  nfh_engine_stats before = stats_so_far(r);
  sampling_file_begin(r);
  while ((st = nfh_json_reader_next(reader, &flows, &n)) == NFH_OK)
    take_flows(r, path, flows, n);
  report_fixes(r, path, &before, NULL, 0);
  sampling_check_file(r);
  const nfh_json_info *info = nfh_json_reader_info(reader);
  /* The warning names the file already: "FILE: byte N: why". */
  const char *first = nfh_json_reader_warning(reader);
  size_t plen = strlen(path);
  if (strncmp(first, path, plen) == 0 && strncmp(first + plen, ": ", 2) == 0)
    first += plen + 2;
  read_result rc = READ_OK;
  /* Damaged flow objects are a file read in part, as damaged records of
   * a capture file are: exit status 2, not 0. */
  if (info->dropped) {
    complain("%s: %" PRIu64 " flow object%s dropped; the first at %s", path,
             info->dropped, info->dropped == 1 ? "" : "s", first);
    rc = READ_PARTLY;
  }
  if (st != NFH_END) {
    complain("%s", nfh_json_reader_error(reader));
    rc = READ_PARTLY;
  } else if (info->flows == 0 && r->m == MODE_HUNT) {
    complain("%s: no flow records (%" PRIu64 " other objects)", path,
             info->nonflows);
  }
  nfh_json_reader_close(reader);
  return rc;
}

/* Flows read ahead for the guess of the home networks, at most: enough
 * for the networks of an organisation's edge, a fraction of a second. */
#define HOME_SAMPLE_FLOWS 100000
/* The default home networks stay alone while they are in this share of
 * the flows read ahead ... */
#define HOME_DEFAULT_ENOUGH 0.5
/* ... and below this one, with no guess to make, the hunt says so. */
#define HOME_DEFAULT_SCARCE 0.1
/* When the defaults hold the rest, flows between two public addresses
 * from this share on are the site's public side at an edge (a DMZ, NAT
 * addresses, a global IPv6 prefix): the guess reads them alone. Below
 * it they are strays. */
#define HOME_PUBLIC_SHARE 0.05

static int engine_home(const nfh_addr *a, void *user) {
  return nfh_engine_is_home(user, a);
}

/* The state's record of the networks guessed last (a CIDR list): a
 * cron job's runs warn when the guess changes, not every hour. */
#define HOME_GUESS_BLOB "nfhunt.home_guessed"
/* Networks a state's guess keeps, at most. */
#define MAX_GUESSED 16

/* Appends network 'net' to the comma-separated 'list' (of 'size'
 * bytes) unless it is there already or the list holds MAX_GUESSED. */
static void guess_list_add(char *list, size_t size, const char *net) {
  size_t count = 0, len = strlen(net);
  for (const char *p = list; *p;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (n == len && memcmp(p, net, len) == 0)
      return;
    count++;
    p += n + (comma != NULL);
  }
  size_t used = strlen(list);
  if (count < MAX_GUESSED && used + 1 + len < size)
    snprintf(list + used, size - used, "%s%s", used ? "," : "", net);
}

/* Adds the networks g guesses to 'list' (guess_list_add), their share
 * of the flows held into *share. 1, or 0 when g makes no guess. */
static int guess_into(nfh_homeguess *g, char *list, size_t size,
                      double *share) {
  const char *const *nets;
  size_t count;
  if (nfh_homeguess_infer(g, &nets, &count, share) != NFH_OK)
    return 0;
  for (size_t i = 0; i < count; i++)
    guess_list_add(list, size, nets[i]);
  return 1;
}

/* A guesser fed with the first HOME_SAMPLE_FLOWS flows of the files
 * the run will read (those marked in 'todo', then the flow files not
 * skipped), or NULL without memory. Files that fail are left to the
 * hunt to report. The caller destroys it. */
static nfh_homeguess *read_ahead(nfh_reader *reader, nfh_json_reader *jreader,
                                 const nfh_filelist *list,
                                 const unsigned char *todo, size_t nlist,
                                 const char *const *flow_files,
                                 const read_result *fres, size_t nflow) {
  nfh_homeguess *g = NULL;
  if (nfh_homeguess_create(HOME_SAMPLE_FLOWS, &g) != NFH_OK)
    return NULL;
  size_t room = HOME_SAMPLE_FLOWS;
  const nfh_flow *flows;
  size_t n;
  for (size_t i = 0; i < nlist && room; i++) {
    if (!todo[i] ||
        nfh_reader_open(reader, nfh_filelist_path(list, i)) != NFH_OK)
      continue;
    while (room && nfh_reader_next(reader, &flows, &n) == NFH_OK)
      room = nfh_homeguess_add(g, flows, n);
    nfh_reader_close(reader);
  }
  for (size_t i = 0; i < nflow && room; i++) {
    if (fres[i] == READ_SKIPPED ||
        nfh_json_reader_open(jreader, flow_files[i]) != NFH_OK)
      continue;
    while (room && nfh_json_reader_next(jreader, &flows, &n) == NFH_OK)
      room = nfh_homeguess_add(g, flows, n);
    nfh_json_reader_close(jreader);
  }
  return g;
}

/* Given home networks (--home-net, home_net) that leave out part of the
 * site draw no guess, but a warning: flows between two addresses
 * outside them from this share of the flows read ahead on, most of them
 * in a few networks, are most likely the site's public side that the
 * list forgot (a DMZ, NAT addresses, a global IPv6 prefix). Floods
 * against those hosts, and their beacons and uploads, would be outside
 * traffic to the detectors without a word (a tester's edge exporter). */
#define HOME_GIVEN_MISSED 0.05
/* The networks check_given_home named last: a cron job's runs warn when
 * they change, not every hour. */
#define HOME_UNLISTED_BLOB "nfhunt.home_unlisted"

/* Warns when the given home networks seem to leave out a network of the
 * site (HOME_GIVEN_MISSED), once per state until a network not named
 * before comes up; never changes the home networks. The networks named,
 * this run's and earlier runs', go into 'unlisted' for the state. */
static void check_given_home(run *r, nfh_reader *reader,
                             nfh_json_reader *jreader, const nfh_filelist *list,
                             const unsigned char *todo, size_t nlist,
                             const char *const *flow_files,
                             const read_result *fres, size_t nflow,
                             nfh_state *state, char *unlisted,
                             size_t unlisted_len) {
  char before[512] = "";
  void *blob = NULL;
  size_t blob_len = 0;
  if (state &&
      nfh_state_get_blob(state, HOME_UNLISTED_BLOB, &blob, &blob_len) ==
          NFH_OK &&
      blob && blob_len < sizeof(before))
    memcpy(before, blob, blob_len);
  free(blob);
  snprintf(unlisted, unlisted_len, "%s", before);
  nfh_homeguess *g =
      read_ahead(reader, jreader, list, todo, nlist, flow_files, fres, nflow);
  if (!g)
    return;
  size_t held = nfh_homeguess_count(g);
  double outside = 1 - nfh_homeguess_share(g, engine_home, r->engine);
  char named[sizeof(before)] = "";
  double share = 0;
  if (held >= NFH_HOMEGUESS_MIN_FLOWS && outside >= HOME_GIVEN_MISSED &&
      nfh_homeguess_drop_home(g, engine_home, r->engine) >=
          NFH_HOMEGUESS_MIN_FLOWS &&
      guess_into(g, named, sizeof(named), &share) && named[0]) {
    /* A network named once stays named: an hour with little IPv6 names
     * the site's /48 no more, and the next would warn again. */
    char merged[sizeof(before)], copy[sizeof(named)], *save = NULL;
    memcpy(merged, before, sizeof(merged));
    memcpy(copy, named, sizeof(copy));
    for (char *net = strtok_r(copy, ",", &save); net;
         net = strtok_r(NULL, ",", &save))
      guess_list_add(merged, sizeof(merged), net);
    if (strcmp(merged, before) != 0)
      warn("%.1f%% of the first %zu flows touch none of the home networks "
           "given (--home-net or home_net), and %.1f%% of those touch %s: "
           "if that is the site's (a DMZ, NAT addresses, a global IPv6 "
           "prefix), name it as home as well, or floods against its hosts "
           "and their beacons and uploads are outside traffic to the "
           "detectors",
           100 * outside, held, 100 * share, named);
    snprintf(unlisted, unlisted_len, "%s", merged);
  }
  nfh_homeguess_destroy(g);
}

/* The home networks when neither --home-net nor the configuration gave
 * any. The defaults (RFC 1918, RFC 4193) fit most sites; at a site
 * numbered in public space (a university, a research capture) no flow
 * touches them, and beaconing and exfiltration, which watch internal
 * hosts talking out, would be silent without a word. So the first flows
 * to read are read ahead, and when the defaults are in fewer than half
 * of them and a few networks cover nearly all (nfhunt/homeguess.h),
 * those networks join the defaults, with a warning naming them. With a
 * state the guess adds to the last run's (a network once guessed stays),
 * and the warning comes only when it grows. The guess goes into
 * 'guessed' for the state. Returns "inferred" or "default". The
 * hunt's readers read ahead; files that fail are left to the hunt to
 * report. */
static const char *guess_home(run *r, nfh_reader *reader,
                              nfh_json_reader *jreader,
                              const nfh_filelist *list,
                              const unsigned char *todo,
                              size_t nlist, const char *const *flow_files,
                              const read_result *fres, size_t nflow,
                              nfh_state *state, char *guessed,
                              size_t guessed_len) {
  nfh_homeguess *g = NULL;
  const char *from = "default";
  /* The last run's guess, if a state keeps one. */
  char before[512] = "";
  void *blob = NULL;
  size_t blob_len = 0;
  if (state &&
      nfh_state_get_blob(state, HOME_GUESS_BLOB, &blob, &blob_len) == NFH_OK &&
      blob && blob_len < sizeof(before))
    memcpy(before, blob, blob_len);
  free(blob);
  g = read_ahead(reader, jreader, list, todo, nlist, flow_files, fres, nflow);
  if (!g)
    goto done; /* no memory: the defaults, as before */
  size_t held = nfh_homeguess_count(g);
  double dshare = nfh_homeguess_share(g, engine_home, r->engine);
  /* A network guessed before stays: an hour with little IPv6 would
   * otherwise drop the site's /48 and take it back the next, and a
   * host's baselines and timelines would change sides from run to run.
   * This run's follow the last run's, up to MAX_GUESSED. With too little
   * to guess from (a quiet hour, nothing new), the last run's hold. */
  char list_text[sizeof(before)];
  memcpy(list_text, before, sizeof(list_text));
  double share = 0;
  /* Whether the guess was read from the flows between two public
   * addresses alone (the warning says so). */
  int public_side = 0;
  if (held >= NFH_HOMEGUESS_MIN_FLOWS && dshare >= HOME_DEFAULT_ENOUGH &&
      1 - dshare >= HOME_PUBLIC_SHARE &&
      nfh_homeguess_drop_home(g, engine_home, r->engine) >=
          NFH_HOMEGUESS_MIN_FLOWS) {
    /* A privately numbered site whose edge also shows its public side:
     * without it, a DMZ's floods and a global IPv6 prefix's beacons are
     * outside traffic. */
    public_side = guess_into(g, list_text, sizeof(list_text), &share);
  } else if (held >= NFH_HOMEGUESS_MIN_FLOWS && dshare < HOME_DEFAULT_ENOUGH) {
    if (!guess_into(g, list_text, sizeof(list_text), &share) &&
        dshare < HOME_DEFAULT_SCARCE) {
      warn("the home networks (RFC 1918 and RFC 4193, the defaults) are in "
           "%.1f%% of the first %zu flows, and no few networks cover most "
           "of them (traffic in transit?): beaconing and exfiltration, "
           "which watch internal hosts, will see little; --home-net (or "
           "home_net in nfhunt.conf) names the internal networks",
           100 * dshare, held);
    }
  }
  /* The networks the engine takes; one a damaged state holds is left
   * out, said, and not saved again. */
  char applied[sizeof(list_text)] = "", *save = NULL;
  for (char *net = strtok_r(list_text, ",", &save); net;
       net = strtok_r(NULL, ",", &save)) {
    if (nfh_engine_extend_home_net(r->engine, net) == NFH_OK)
      guess_list_add(applied, sizeof(applied), net);
    else
      warn("the state's guessed home networks hold '%s', not a network: "
           "left out",
           net);
  }
  snprintf(guessed, guessed_len, "%s", applied);
  if (!applied[0])
    goto done;
  from = "inferred";
  /* Told once: with a state, again only when the guess grows (or a
   * damaged entry went). */
  if (strcmp(applied, before) == 0)
    goto done;
  if (held < NFH_HOMEGUESS_MIN_FLOWS)
    warn("taking %s as home as well, as earlier runs guessed from the "
         "traffic: --home-net (or home_net in nfhunt.conf) says which "
         "networks are internal",
         applied);
  else if (public_side)
    warn("the default home networks (RFC 1918, RFC 4193) are in %.1f%% of "
         "the first %zu flows; %.1f%% of the others, between two public "
         "addresses, touch %s: taking those as home as well (the site's "
         "public side: a DMZ, NAT addresses, a global IPv6 prefix; read "
         "from the traffic): --home-net (or home_net in nfhunt.conf) says "
         "which networks are internal",
         100 * dshare, held, 100 * share, applied);
  else
    warn("the default home networks (RFC 1918, RFC 4193) are in %.1f%% of "
         "the first %zu flows; taking %s as home as well (in %.1f%% of "
         "them, read from the traffic): --home-net (or home_net in "
         "nfhunt.conf) says which networks are internal",
         100 * dshare, held, applied, 100 * share);
done:
  nfh_homeguess_destroy(g);
  return from;
}

static void log_line(void *user, int level, const char *source,
                     const char *line) {
  (void)user;
  if (level > NFH_LOG_WARNING) {
    if (level <= NFH_LOG_WARNING + verbosity)
      fprintf(stderr, "nfhunt: %s: %s\n", source, line);
    return;
  }
  {
    fprintf(stderr, "nfhunt: %s: %s\n", source, line);
    if (log_to_syslog)
      syslog(level == NFH_LOG_ERROR ? LOG_ERR : LOG_WARNING, "%s: %s", source,
             line);
  }
}

/* The default state path: in the first input's flow directory. */
static char *default_state_path(const char *sources, const char *first_input) {
  char buf[4096], out[4200];
  if (sources) {
    snprintf(buf, sizeof(buf), "%s", sources);
    char *colon = strchr(buf, ':');
    if (colon)
      *colon = '\0';
    /* dirname may return a pointer into buf: print into another one. */
    snprintf(out, sizeof(out), "%s/" STATE_NAME, dirname(buf)); /* -M base */
    return strdup(out);
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
  snprintf(out, sizeof(out), "%s/" STATE_NAME, dir);
  return strdup(out);
}

/* ---------------------------------------------------------- settings */

/* A detector parameter with its origin, for messages. */
typedef struct param {
  char detector[128], key[128];
  const char *value;
  const char *file; /* NULL: from --set */
  int line;
  const char *arg; /* the --set argument */
} param;

typedef struct params {
  param *p;
  size_t n;
} params;

/* Adds or replaces (same detector and key): the command line comes after
 * the file and wins. */
static void params_put(params *ps, const param *p) {
  for (size_t i = 0; i < ps->n; i++)
    if (strcmp(ps->p[i].detector, p->detector) == 0 &&
        strcmp(ps->p[i].key, p->key) == 0) {
      ps->p[i] = *p;
      return;
    }
  param *grown = realloc(ps->p, (ps->n + 1) * sizeof(param));
  if (!grown)
    die("out of memory");
  ps->p = grown;
  ps->p[ps->n++] = *p;
}

static int parse_set(const char *arg, param *out) {
  /* DETECTOR.KEY=VALUE */
  const char *dot = strchr(arg, '.');
  const char *eq = strchr(arg, '=');
  if (!dot || !eq || dot > eq || dot == arg || eq == dot + 1 ||
      (size_t)(dot - arg) >= sizeof(out->detector) ||
      (size_t)(eq - dot - 1) >= sizeof(out->key))
    return -1;
  memset(out, 0, sizeof(*out));
  snprintf(out->detector, sizeof(out->detector), "%.*s", (int)(dot - arg), arg);
  snprintf(out->key, sizeof(out->key), "%.*s", (int)(eq - dot - 1), dot + 1);
  out->value = eq + 1;
  out->arg = arg;
  return 0;
}

/* After nfh_engine_start: a detector that refused its settings is a
 * configuration error, reported where the setting was written. */
static void check_detectors(nfh_engine *e, const params *ps,
                            const hunt_conf *conf) {
  for (size_t i = 0; i < nfh_engine_plugin_count(e); i++) {
    const nfh_plugin_info *p = nfh_engine_plugin(e, i);
    if (p->enabled || !p->error || strncmp(p->error, "create failed", 13))
      continue;
    const char *why = p->error + 13;
    if (*why == ':')
      why += 2;
    /* The setting the message names ('key' or "for key"); else the
     * detector's last setting; else its section. */
    const param *blame = NULL;
    for (size_t k = 0; k < ps->n; k++) {
      const param *q = &ps->p[k];
      if (strcmp(q->detector, p->name) != 0)
        continue;
      char quoted[140];
      snprintf(quoted, sizeof(quoted), "'%s'", q->key);
      if (strstr(why, quoted) || strstr(why, q->key))
        blame = q;
    }
    if (blame && blame->file)
      die("%s:%d: [detector %s] %s: %s", blame->file, blame->line, p->name,
          blame->key, why);
    if (blame)
      die("--set %s: %s", blame->arg, why);
    for (size_t d = 0; conf && d < conf->ndetectors; d++)
      if (strcmp(conf->detectors[d].name, p->name) == 0)
        die("%s:%d: [detector %s]: %s", conf->path, conf->detectors[d].line,
            p->name, why);
    die("detector %s: %s", p->name, why);
  }
}

/* Whether 'name' is a detector: loaded, or a module of the directory
 * that --plugins left out. */
static int detector_exists(nfh_engine *e, const char *plugin_dir,
                           const char *name) {
  for (size_t i = 0; i < nfh_engine_plugin_count(e); i++)
    if (strcmp(nfh_engine_plugin(e, i)->name, name) == 0)
      return 1;
  char so[PATH_MAX];
  snprintf(so, sizeof(so), "%s/%s.so", plugin_dir, name);
  return access(so, F_OK) == 0;
}

/* Whether the detector an allow rule "[DETECTOR:]SPEC" names exists (a
 * rule for all detectors always does); the name goes to det. */
static int allow_detector_exists(nfh_engine *e, const char *plugin_dir,
                                 const char *rule, char *det, size_t len) {
  hunt_allow_split(rule, det, len);
  return strcmp(det, "*") == 0 || detector_exists(e, plugin_dir, det);
}

/* A hunt without detectors would read every file, find nothing, exit 0
 * and, with --since last, count the files as analysed for good: a typo in
 * --plugins or --plugin-dir under cron or nfcapd -x would silently end
 * the hunting. Every name of --plugins (or the configuration's plugins)
 * must be a module of the directory, every allow rule's detector too,
 * and one detector at least must be loaded. */
static void check_selection(nfh_engine *e, const char *plugin_dir,
                            const char *plugins, const char *const *allow_v,
                            size_t allow_n, const hunt_conf *conf) {
  for (const char *p = plugins; p && *p;) {
    size_t len = strcspn(p, ",");
    char name[128];
    snprintf(name, sizeof(name), "%.*s", (int)len, p);
    if (*name && !detector_exists(e, plugin_dir, name)) {
      if (conf && conf->plugins.line && plugins == conf->plugins.text)
        die("%s:%d: plugins: no detector named '%s' in %s (see "
            "--list-plugins)",
            conf->plugins.file, conf->plugins.line, name, plugin_dir);
      die("--plugins: no detector named '%s' in %s (see --list-plugins)",
          name, plugin_dir);
    }

    p += len;
    if (*p == ',')
      p++;
  }
  /* Named, there, and not loaded (a module cut short by an upgrade,
   * said above; the engine tries only the modules --plugins names): the
   * caller asked for it, and a run without it would count the files as
   * analysed. */
  const char *unloaded = nfh_engine_unloaded(e, 0);
  if (plugins && unloaded)
    die("--plugins: %s/%s.so did not load (see above); nothing read",
        plugin_dir, unloaded);
  char det[64];
  for (size_t i = 0; i < allow_n; i++)
    if (!allow_detector_exists(e, plugin_dir, allow_v[i], det, sizeof(det)))
      die("--allow %s: no detector named '%s' in %s", allow_v[i], det,
          plugin_dir);
  for (size_t i = 0; conf && i < conf->allow.n; i++) {
    const hunt_conf_value *a = &conf->allow.v[i];
    if (!allow_detector_exists(e, plugin_dir, a->text, det, sizeof(det)))
      die("%s:%d: allow %s: no detector named '%s' in %s", a->file, a->line,
          a->text, det, plugin_dir);
  }
  size_t live = 0;
  for (size_t i = 0; i < nfh_engine_plugin_count(e); i++)
    live += nfh_engine_plugin(e, i)->enabled != 0;
  if (live == 0)
    die("no detector loaded from %s (see --plugin-dir, --plugins and "
        "--list-plugins); nothing read",
        plugin_dir);
}

/* A module of the plugin directory that did not load (a package upgrade
 * half done, a truncated file) while the state holds its detector's
 * saved state: the run would count the files as analysed without that
 * detector, and what it would have found in them would be lost for good
 * (a tester's critical SYN flood, never reported). Refused before
 * anything is read. Without a state, or for a module the state never
 * knew, the run goes on without it, as said when loading; --plugins
 * leaving it out is a choice (the engine does not try it). */
static void check_state_modules(nfh_engine *e, const char *plugin_dir,
                                nfh_state *state, const char *state_path) {
  const char *name;
  for (size_t i = 0; (name = nfh_engine_unloaded(e, i)) != NULL; i++) {
    void *blob = NULL;
    size_t blob_len = 0;
    int known = nfh_state_get_blob(state, name, &blob, &blob_len) == NFH_OK &&
                blob != NULL;
    free(blob);
    if (known)
      die("%s/%s.so did not load, and the state %s holds detector %s's "
          "memory: nothing read, or these files would count as analysed "
          "without it (mend the module, or leave it out with --plugins)",
          plugin_dir, name, state_path, name);
  }
}

/* A [detector NAME] section or --set for a detector that does not exist
 * is a typo; one for a module that exists but was not loaded (--plugins)
 * is fine. */
static void check_names(nfh_engine *e, const char *plugin_dir, const params *ps,
                        const hunt_conf *conf) {
  size_t nsections = conf ? conf->ndetectors : 0;
  for (size_t k = 0; k < nsections + ps->n; k++) {
    /* Sections first (their line is the better one), then --set. */
    if (k >= nsections && ps->p[k - nsections].file)
      continue;
    const char *name =
        k < nsections ? conf->detectors[k].name : ps->p[k - nsections].detector;
    if (detector_exists(e, plugin_dir, name))
      continue;
    if (k < nsections)
      die("%s:%d: [detector %s]: no such detector in %s", conf->path,
          conf->detectors[k].line, name, plugin_dir);
    die("--set %s: no detector named '%s' in %s", ps->p[k - nsections].arg,
        name, plugin_dir);
  }
}

/* --------------------------------------------------------------- output */

/* Escapes '"' and '\\' for the quoted summary of a syslog line. */
static void quote(const char *in, char *out, size_t len) {
  size_t o = 0;
  for (; *in && o + 3 < len; in++) {
    if (*in == '"' || *in == '\\')
      out[o++] = '\\';
    out[o++] = (*in == '\n' || *in == '\r') ? ' ' : *in;
  }
  out[o] = '\0';
}

static int syslog_priority(nfh_severity s) {
  switch (s) {
  case NFH_SEV_INFO:
    return LOG_INFO;
  case NFH_SEV_LOW:
    return LOG_NOTICE;
  case NFH_SEV_MEDIUM:
    return LOG_WARNING;
  case NFH_SEV_HIGH:
    return LOG_ERR;
  case NFH_SEV_CRITICAL:
    return LOG_CRIT;
  }
  return LOG_NOTICE;
}

/* One line per finding at or above the alert level that is new, rose
 * to a higher severity or came back after a long quiet (all but
 * "ongoing"). */
static void syslog_findings(const nfh_report_finding *fs, size_t n,
                            nfh_severity alert) {
  for (size_t i = 0; i < n; i++) {
    const nfh_report_finding *f = &fs[i];
    if (f->f.severity < alert || strcmp(f->status, "ongoing") == 0)
      continue;
    char src[NFH_ADDR_STRLEN], dst[NFH_ADDR_STRLEN], summary[600];
    nfh_addr_format(&f->f.src, src, sizeof(src));
    nfh_addr_format(&f->f.dst, dst, sizeof(dst));
    quote(f->f.summary, summary, sizeof(summary));
    syslog(syslog_priority(f->f.severity),
           "severity=%s type=%s src=%s dst=%s summary=\"%s\" id=%s status=%s",
           nfh_severity_name(f->f.severity), f->f.type, src[0] ? src : "-",
           dst[0] ? dst : "-", summary, f->id, f->status);
  }
}

/* Whether a file the state knows is still there. lstat: a dangling link
 * (a capture lost) is there until removed; with stat its count of
 * failed opens was forgotten at every run, so it was never given up and
 * failed every hourly run for ever (keys are real paths, so for every
 * other file the two agree). */
static int file_exists(void *user, const char *path) {
  (void)user;
  struct stat sb;
  return lstat(path, &sb) == 0 || errno != ENOENT;
}

typedef struct ptrs {
  const char **v;
  size_t n;
} ptrs;

/* Removes the findings files of expired captures below each -R
 * directory, or each -M source directory. */
static void sweep_root(const char *root) {
  struct stat sb;
  uint64_t removed;
  if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return;
  if (hunt_sweep_reports(root, &removed) != 0)
    complain("%s: cannot walk it for old findings files: %s", root,
             strerror(errno));
}

/* Calls fn with each flow directory of the run: each -M source
 * directory, or each -R directory (its part before ':'). Stops at the
 * first nonzero return and returns it. */
static int for_each_root(const char *sources, const ptrs *reads,
                         int (*fn)(const char *root, void *user),
                         void *user) {
  char buf[PATH_MAX];
  int rc = 0;
  if (sources) {
    /* "/base/s1:s2": /base/s1 and /base/s2. */
    snprintf(buf, sizeof(buf), "%s", sources);
    buf[strcspn(buf, ":")] = '\0';
    char *slash = strrchr(buf, '/');
    size_t baselen = slash ? (size_t)(slash - buf) + 1 : 0;
    char path[PATH_MAX];
    rc = fn(buf, user);
    for (const char *p = strchr(sources, ':'); p && !rc;
         p = strchr(p + 1, ':')) {
      size_t n = strcspn(p + 1, ":");
      snprintf(path, sizeof(path), "%.*s%.*s", (int)baselen, buf, (int)n,
               p + 1);
      rc = fn(path, user);
    }
    return rc;
  }
  for (size_t i = 0; i < reads->n && !rc; i++) {
    snprintf(buf, sizeof(buf), "%s", reads->v[i]);
    char *colon = strchr(buf, ':');
    if (colon)
      *colon = '\0';
    rc = fn(buf, user);
  }
  return rc;
}

static int sweep_one(const char *root, void *user) {
  (void)user;
  sweep_root(root);
  return 0;
}

static void sweep_roots(const char *sources, const ptrs *reads) {
  for_each_root(sources, reads, sweep_one, NULL);
}

/* Whether an -R selection names its first file ("dir/nfcapd.X",
 * "dir/nfcapd.X:nfcapd.Y"), not only a directory. */
static int start_named(const ptrs *reads) {
  for (size_t i = 0; i < reads->n; i++) {
    const char *r = reads->v[i];
    size_t end = strcspn(r, ":");
    size_t slash = end;
    while (slash > 0 && r[slash - 1] != '/')
      slash--;
    if (end - slash > 7 && strncmp(r + slash, "nfcapd.", 7) == 0)
      return 1;
  }
  return 0;
}

/* 'path' as the file it names: its directory's real path and its own
 * name (the file itself need not exist); NULL when the directory has
 * none. The caller frees it. */
static char *canonical_path(const char *path) {
  char *copy = strdup(path), *copy2 = strdup(path);
  char *dir = copy ? realpath(dirname(copy), NULL) : NULL;
  char *out = NULL;
  if (dir && copy2) {
    const char *base = basename(copy2);
    size_t n = strlen(dir) + strlen(base) + 2;
    if ((out = malloc(n)) != NULL)
      snprintf(out, n, "%s/%s", dir, base);
  }
  free(dir);
  free(copy);
  free(copy2);
  return out;
}

typedef struct own_state {
  const char *state_path; /* the run's */
  int told;
} own_state;

/* Warns, once, when the -M source directory 'root' holds a state of its
 * own beside the run's (user: own_state). 0. */
static int source_has_state(const char *root, void *user) {
  own_state *os = user;
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", root, STATE_NAME);
  struct stat sb;
  if (os->told || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
    return 0;
  char *mine = canonical_path(os->state_path), *theirs = canonical_path(path);
  if (mine && theirs && strcmp(mine, theirs) != 0) {
    warn("%s holds a state of its own (nfcapd -x runs with --rotated keep "
         "theirs there), and this run keeps %s: each hunts the same files, "
         "and findings are told twice; give both the same --state (state "
         "= in nfhunt.conf)",
         path, os->state_path);
    os->told = 1;
  }
  free(mine);
  free(theirs);
  return 0;
}

/* for_each_root callback: 1 (stop) when the flow directory 'root'
 * holds an entry other than nfhunt's own (.nfhunt.*). */
static int root_holds_something(const char *root, void *user) {
  (void)user;
  DIR *d = opendir(root);
  if (!d)
    return 0;
  struct dirent *de;
  int found = 0;
  while (!found && (de = readdir(d)) != NULL)
    found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            strncmp(de->d_name, ".nfhunt.", 8) != 0;
  closedir(d);
  return found;
}

/* Whether every flow directory of the run is missing or empty but for
 * nfhunt's own files: a file system not mounted, not files expired. */
static int roots_bare(const char *sources, const ptrs *reads) {
  return for_each_root(sources, reads, root_holds_something, NULL) == 0;
}

/* Whether the directory of the state file (real path in 'user') is a
 * flow directory of the run or below one. */
static int holds_dir(const char *root, void *user) {
  const char *dir = user;
  char *r = realpath(root, NULL);
  if (!r)
    return 0;
  size_t n = strlen(r);
  int in = strncmp(dir, r, n) == 0 &&
           (dir[n] == '\0' || dir[n] == '/' || r[n - 1] == '/');
  free(r);
  return in;
}

/* The option getopt stopped at, for its message: the short one
 * ('optopt'), or the long one as given (argv[optind - 1]). A static
 * buffer. */
static const char *bad_option(char *const *argv, int opt) {
  static char text[64];
  if (opt > 0 && opt < 256)
    snprintf(text, sizeof(text), "'-%c'", opt);
  else
    snprintf(text, sizeof(text), "'%.60s'", argv[optind - 1]);
  return text;
}

/* Exits 2 unless the report at 'path' can be written: its directory
 * exists and takes a new file (the report is written beside, then
 * renamed), and the file itself, when there, can be replaced. A missing
 * directory was said after every file was read. */
static void check_output_place(const char *path) {
  struct stat sb;
  /* A device or a FIFO (/dev/stdout) is written into, not replaced: its
   * directory need not take files. A link's target is what is
   * replaced, in its own directory. */
  char target[PATH_MAX];
  if (stat(path, &sb) == 0) {
    if (S_ISDIR(sb.st_mode))
      die("--output %s: a directory", path);
    if (!S_ISREG(sb.st_mode))
      return;
    if (realpath(path, target))
      path = target;
  }
  const char *slash = strrchr(path, '/');
  char dir[PATH_MAX];
  if (!slash)
    snprintf(dir, sizeof(dir), ".");
  else
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path),
             path);
  if (stat(dir, &sb) != 0)
    die("--output %s: %s: %s", path, dir, strerror(errno));
  if (!S_ISDIR(sb.st_mode))
    die("--output %s: %s: not a directory", path, dir);
  if (access(dir, W_OK | X_OK) != 0)
    die("--output %s: %s: %s", path, dir, strerror(errno));
}

/* --output naming the state or its lock would replace the one with the
 * report (the state wiped, exit 1, no word; a tester), or let two runs
 * hunt at once. */
static void check_output_not_state(const char *output, const char *state_path) {
  char lock[PATH_MAX];
  snprintf(lock, sizeof(lock), "%s.lock", state_path);
  char *out = canonical_path(output);
  char *st = canonical_path(state_path);
  char *lk = canonical_path(lock);
  int clash =
      out && ((st && strcmp(out, st) == 0) || (lk && strcmp(out, lk) == 0));
  struct stat a, b;
  if (!clash && stat(output, &a) == 0 && stat(state_path, &b) == 0)
    clash = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  free(out);
  free(st);
  free(lk);
  if (clash)
    die("--output %s: that is the state (%s) or its lock; nothing read", output,
        state_path);
}

/* A file nfhunt writes among the capture files (the state, the report)
 * needs a name nfdump's -R skips (a leading '.' from nfdump 1.7.8,
 * ".stat" in it before): nfdump stops, without a word, at the first
 * file of a flow directory it cannot read. Exits 2 for one that has no
 * such name; 'what' names it ("state"), 'example' is a good name. */
static void check_name_in_flow_dir(const char *what, const char *path,
                                   const char *example, const char *sources,
                                   const ptrs *reads) {
  char copy[PATH_MAX];
  snprintf(copy, sizeof(copy), "%s", path);
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (base[0] == '.' && strstr(base, ".stat"))
    return;
  char *dir = realpath(dirname(copy), NULL);
  if (!dir)
    return;
  int inside = for_each_root(sources, reads, holds_dir, dir);
  free(dir);
  if (inside)
    die("%s %s: inside a flow directory its name must start with '.' "
        "and contain '.stat' (as %s does): nfdump -R stops at the first "
        "file there it cannot read",
        what, path, example);
}

/* A file that could not be opened is counted under this name in the
 * state's values, its key after it: 1 after one such run. */
#define UNOPENED_PREFIX "unopened:"

/* A file analysed is also recorded by what it was then, its size and
 * modification time (file_signature), under this name: nfcapd restarted
 * within a slot writes nfcapd.X again after its first version was
 * analysed, and the new one was never read, without a word (a tester's
 * systemctl restart; a medium scan lost). */
#define FILESIG_PREFIX "filesig:"
/* Files changed since analysed are read again when their slot lies
 * within this many seconds of the newest analysed: older ones were
 * rewritten with the same flows (nfdump -J recompressing a day). */
#define CHANGED_RECENT_S 3600

/* The state value's name PREFIX + key (malloc'd; exits on no memory). */
static char *value_name(const char *prefix, const char *key) {
  size_t len = strlen(prefix) + strlen(key) + 1;
  char *name = malloc(len);
  if (!name)
    die("out of memory");
  snprintf(name, len, "%s%s", prefix, key);
  return name;
}

static char *unopened_name(const char *key) {
  return value_name(UNOPENED_PREFIX, key);
}

/* What the file at 'path' is now: its size and modification time mixed
 * into one nonzero number; 0 when it cannot be stat(2)ed. */
static uint64_t file_signature(const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0)
    return 0;
  uint64_t h = (uint64_t)sb.st_size * 0x9e3779b97f4a7c15ull;
  h ^= ((uint64_t)sb.st_mtim.tv_sec * 1000000000ull +
        (uint64_t)sb.st_mtim.tv_nsec) +
       0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h ? h : 1;
}

/* Whether the file of 'key', analysed before, changed since (0 when the
 * state has no signature of it: one written before signatures). */
static int changed_since(nfh_state *state, const char *key) {
  uint64_t then = 0;
  char *name = value_name(FILESIG_PREFIX, key);
  nfh_state_get_u64(state, name, &then);
  free(name);
  uint64_t now = then ? file_signature(key) : 0;
  return then && now && now != then;
}

/* Whether the run before could not open the file of 'key'. */
static int unopened_before(nfh_state *state, const char *key) {
  uint64_t tries = 0;
  char *name = unopened_name(key);
  nfh_state_get_u64(state, name, &tries);
  free(name);
  return tries > 0;
}

/* A state write that failed after the reports went out: the findings
 * are out, the state is left as it was (closing it rolls the run back),
 * and the next run reads the files again. */
static void state_not_saved(const char *state_path, nfh_state *state)
    __attribute__((noreturn));

#define STATE_NOT_SAVED                                                        \
  ": the findings are reported, the state is left as it was (the next run "    \
  "reads these files again)"

static void state_not_saved(const char *state_path, nfh_state *state) {
  die("state %s: %s" STATE_NOT_SAVED, state_path, nfh_state_error(state));
}

/* Records what the file of 'key' is now (file_signature), as analysed;
 * exits when the state cannot be written. */
static void put_signature(nfh_state *state, const char *state_path,
                          const char *key) {
  uint64_t sig = file_signature(key);
  if (!sig)
    return;
  char *name = value_name(FILESIG_PREFIX, key);
  if (nfh_state_put_u64(state, name, sig) != NFH_OK)
    state_not_saved(state_path, state);
  free(name);
}

/* Records whether this run could not open the file of 'key' (1) or
 * could (0); exits when the state cannot be written. */
static void put_unopened(nfh_state *state, const char *state_path,
                         const char *key, uint64_t value) {
  char *name = unopened_name(key);
  if (nfh_state_put_u64(state, name, value) != NFH_OK)
    state_not_saved(state_path, state);
  free(name);
}

/* A file's key in the state: its real path, so that "%d/%f", "-R DIR"
 * and a symlinked flow directory all name it the same way. */
static char *file_key(const char *path) {
  char *real = realpath(path, NULL);
  return real ? real : strdup(path);
}

/* ----------------------------------------------------------------- main */

static void ptrs_add(ptrs *p, const char *s) {
  const char **grown = realloc(p->v, (p->n + 1) * sizeof(char *));
  if (!grown)
    die("out of memory");
  p->v = grown;
  p->v[p->n++] = s;
}

/* The detectors grow many tables on threads of their own, and glibc
 * grows a thread's heap by the page: thousands of mprotect(2) calls in
 * a day's hunt, each a system call and fresh page faults. A wider step
 * costs address space, not memory (pages are touched when used), and
 * made an hourly-sized hunt about 8% faster. */
#define HEAP_GROWTH_STEP (16 << 20)
/* Blocks up to this size come from the heap, and freed memory stays
 * there: the detectors allocate and free a time slot's arrays (megabytes)
 * every slot, and glibc mapped each afresh and returned it at free, so
 * the kernel zeroed the same amount of new pages again and again (a
 * tenth of the CPU time over the bench's random tree). 32 MiB is the
 * most glibc takes; the tables beyond it are nfhunt/hugemem.h's. */
#define HEAP_BLOCK_MAX (32 << 20)
#define HEAP_KEEP (1 << 30)

static void tune_malloc(void) {
#if defined(HAVE_MALLOPT) && defined(M_TOP_PAD)
  mallopt(M_TOP_PAD, HEAP_GROWTH_STEP);
#endif
#if defined(HAVE_MALLOPT) && defined(M_MMAP_THRESHOLD) && \
    defined(M_TRIM_THRESHOLD)
  mallopt(M_MMAP_THRESHOLD, HEAP_BLOCK_MAX);
  mallopt(M_TRIM_THRESHOLD, HEAP_KEEP);
#endif
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
    OPT_LIST,
    OPT_ROTATED,
    OPT_SINCE,
    OPT_BESIDE,
    OPT_SYSLOG,
    OPT_LOCK_WAIT,
    OPT_CONFIG,
    OPT_NO_CONFIG,
    OPT_FLOW_FILE,
    OPT_NO_SYSLOG
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
      {"rotated", required_argument, NULL, OPT_ROTATED},
      {"since", required_argument, NULL, OPT_SINCE},
      {"beside", no_argument, NULL, OPT_BESIDE},
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {"syslog", optional_argument, NULL, OPT_SYSLOG},
      {"no-syslog", no_argument, NULL, OPT_NO_SYSLOG},
      {"lock-wait", required_argument, NULL, OPT_LOCK_WAIT},
      {"config", required_argument, NULL, OPT_CONFIG},
      {"no-config", no_argument, NULL, OPT_NO_CONFIG},
      {"flow-file", required_argument, NULL, OPT_FLOW_FILE},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  run r;
  memset(&r, 0, sizeof(r));
  r.m = MODE_HUNT;
  r.win_end = UINT64_MAX;
  const char *sources = NULL, *window = NULL, *output = NULL;
  const char *state_path = NULL, *plugin_dir = NULL, *plugins = NULL;
  /* Where plugin_dir came from, for its messages. */
  char plugin_from[PATH_MAX + 32] = "--plugin-dir";
  const char *rotated_dir = NULL, *config_path = NULL;
  ptrs reads = {0}, homes = {0}, allows = {0}, sets = {0}, flow_files = {0};
  int *is_range = calloc((size_t)argc + 1, sizeof(int));
  int no_state = 0, since_last = 0, beside = 0, quiet = -1, use_syslog = -1;
  int state_from_conf = 0; /* state_path is the configuration's */
  int facility = -1, no_config = 0, fmt = -1, alert_set = 0, threads = -1;
  long lock_wait = -1;
  nfh_severity alert = NFH_SEV_LOW;
  nfh_reader_options ropt = {NFH_READER_THREADS_AUTO};
  tune_malloc();
  /* A reader that closed its end of the pipe (-o json | head) is a
   * failed write, reported and exit status 2 with the state left as it
   * was, not a silent death by SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  if (!is_range)
    die("out of memory");

  int c;
  /* getopt's own messages begin with argv[0] (the path it was run by),
   * every other one with "nfhunt:". */
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":hM:o:qr:R:t:vV", longopts, NULL)) !=
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
        fmt = HUNT_FORMAT_TEXT;
      else if (strcmp(optarg, "json") == 0)
        fmt = HUNT_FORMAT_JSON;
      else if (strcmp(optarg, "ndjson") == 0)
        fmt = HUNT_FORMAT_NDJSON;
      else
        die("-o %s: one of text, json, ndjson", optarg);
      break;
    case 'q':
      quiet = 1;
      break;
    case 'v':
      verbosity++;
      break;
    case 'r':
    case 'R':
      is_range[reads.n] = c == 'R';
      ptrs_add(&reads, optarg);
      break;
    case 't':
      window = optarg;
      break;
    case 'V':
      printf("nfhunt %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
             NFH_PLUGIN_ABI_MAJOR, NFH_PLUGIN_ABI_MINOR);
      return 0;
    case OPT_DUMP:
      if (r.m == MODE_COUNT)
        die("--dump and --count: one or the other");
      r.m = MODE_DUMP;
      break;
    case OPT_COUNT:
      if (r.m == MODE_DUMP)
        die("--dump and --count: one or the other");
      r.m = MODE_COUNT;
      break;
    case OPT_LIST:
      r.m = MODE_LIST;
      break;
    case OPT_THREADS: {
      char *end;
      unsigned long v = strtoul(optarg, &end, 10);
      if (*end || v > 64 || !*optarg)
        die("--threads %s: a number from 0 to 64", optarg);
      threads = (int)v;
      break;
    }
    case OPT_OUTPUT:
      output = optarg;
      break;
    case OPT_ALERT:
      if (nfh_severity_parse(optarg, &alert) != 0)
        die("--alert-level %s: one of info, low, medium, high, critical",
            optarg);
      alert_set = 1;
      break;
    case OPT_STATE:
      if (no_state)
        die("--state and --no-state: one or the other");
      state_path = optarg;
      break;
    case OPT_NO_STATE:
      if (state_path)
        die("--state and --no-state: one or the other");
      no_state = 1;
      break;
    case OPT_HOME:
      ptrs_add(&homes, optarg);
      break;
    case OPT_ALLOW:
      ptrs_add(&allows, optarg);
      break;
    case OPT_PLUGIN_DIR:
      plugin_dir = optarg;
      break;
    case OPT_PLUGINS:
      plugins = optarg;
      break;
    case OPT_SET:
      ptrs_add(&sets, optarg);
      break;
    case OPT_ROTATED:
      rotated_dir = optarg;
      break;
    case OPT_SINCE:
      if (strcmp(optarg, "last") != 0)
        die("--since %s: only 'last' (files no run has analysed yet)", optarg);
      since_last = 1;
      break;
    case OPT_BESIDE:
      beside = 1;
      break;
    case OPT_SYSLOG:
      use_syslog = 1;
      if (optarg && (facility = hunt_syslog_facility(optarg)) < 0)
        die("--syslog=%s: not a syslog facility (daemon, user, local0 ... "
            "local7, ...)",
            optarg);
      break;
    case OPT_NO_SYSLOG:
      use_syslog = 0;
      break;
    case OPT_LOCK_WAIT: {
      char *end;
      unsigned long v = strtoul(optarg, &end, 10);
      if (*end || !*optarg || v > 86400)
        die("--lock-wait %s: seconds, 0 to 86400", optarg);
      lock_wait = (long)v;
      break;
    }
    case OPT_CONFIG:
      config_path = optarg;
      no_config = 0;
      break;
    case OPT_NO_CONFIG:
      no_config = 1;
      config_path = NULL;
      break;
    case OPT_FLOW_FILE:
      ptrs_add(&flow_files, optarg);
      break;
    case ':':
      fprintf(stderr, "nfhunt: option %s needs a value\n",
              bad_option(argv, optopt));
      usage(stderr);
      return EXIT_ERROR;
    default:
      fprintf(stderr, "nfhunt: unknown option %s\n", bad_option(argv, optopt));
      usage(stderr);
      return EXIT_ERROR;
    }
  }

  /* --rotated FLOWDIR FILE, or --rotated FLOWDIR/FILE (nfcapd's "%d/%f"). */
  char *rot_dir = NULL, *rot_file = NULL;
  if (rotated_dir) {
    const char *file = optind < argc ? argv[optind++] : NULL;
    int rc = file ? hunt_rotated(rotated_dir, file, &rot_dir, &rot_file)
                  : hunt_rotated(NULL, rotated_dir, &rot_dir, &rot_file);
    if (rc != 0)
      die("--rotated: expected FLOWDIR FILE (nfcapd -x '... --rotated %%d "
          "%%f')");
    /* nfcapd names the file it just closed: a directory here (a -x
     * without %%f) would hunt the whole tree at every rotation, and a
     * file elsewhere would put its report and state in the wrong place. */
    struct stat sd, sf;
    char *real_dir = realpath(rot_dir, NULL), *real_file = NULL;
    if (!real_dir || stat(real_dir, &sd) != 0 || !S_ISDIR(sd.st_mode))
      die("--rotated %s: not a flow directory", rot_dir);
    if (stat(rot_file, &sf) != 0)
      die("--rotated %s: %s", rot_file, strerror(errno));
    if (!S_ISREG(sf.st_mode))
      die("--rotated %s: not a capture file (nfcapd -x names the file it "
          "closed: '... --rotated %%d %%f')",
          rot_file);
    real_file = realpath(rot_file, NULL);
    size_t dl = strlen(real_dir);
    if (!real_file || strncmp(real_file, real_dir, dl) != 0 ||
        (dl > 1 && real_file[dl] != '/'))
      die("--rotated %s: not below the flow directory %s", rot_file,
          rot_dir);
    free(real_dir);
    free(real_file);
    if (reads.n || sources || flow_files.n)
      die("--rotated takes the one file nfcapd names: no -r, -R, -M or "
          "--flow-file with it");
    is_range[0] = 0;
    ptrs_add(&reads, rot_file);
    beside = 1;
  }
  if (optind < argc) {
    complain("unexpected argument '%s'", argv[optind]);
    usage(stderr);
    return EXIT_ERROR;
  }
  if (flow_files.n && (reads.n || sources))
    die("--flow-file cannot be combined with -r, -R or -M");
  if (since_last && flow_files.n)
    die("--since last works on capture files, not on --flow-file");

  /* The configuration file: its values come first, the command line's
   * override them. */
  hunt_conf *conf = NULL;
  if (!no_config && !config_path)
    config_path = getenv("NFHUNT_CONFIG");
  int explicit_config = config_path != NULL;
  if (!no_config && !config_path)
    config_path = NFH_CONFIG_FILE;
  struct stat csb;
  if (!no_config && config_path && *config_path &&
      (explicit_config || stat(config_path, &csb) == 0 || errno != ENOENT)) {
    /* (A missing default file means the built-in defaults.) */
    char err[512];
    if (hunt_conf_load(config_path, &conf, err, sizeof(err)) != NFH_OK)
      die("%s", err);
  }
  if (conf) {
    if (use_syslog < 0 && conf->syslog_v.line)
      use_syslog = conf->syslog;
    if (facility < 0 && conf->facility_v.line)
      facility = conf->facility;
    /* -q on the command line over the file's format: a cron line's -q
     * beside "format = ndjson" printed every hour, so cron mailed every
     * hour (a tester). An -o on the command line still prints. */
    int quiet_given = quiet > 0;
    if (quiet < 0 && conf->quiet_v.line)
      quiet = conf->quiet;
    if (fmt < 0 && conf->format_v.line && !quiet_given)
      fmt = (int)conf->format;
    if (!alert_set && conf->alert_v.line)
      alert = conf->alert;
    if (lock_wait < 0 && conf->lock_wait_v.line)
      lock_wait = conf->lock_wait;
    if (threads < 0 && conf->threads_v.line)
      threads = (int)conf->threads;
    if (!plugin_dir && conf->plugin_dir.line) {
      plugin_dir = conf->plugin_dir.text;
      snprintf(plugin_from, sizeof(plugin_from), "%s:%d: plugin_dir",
               conf->plugin_dir.file, conf->plugin_dir.line);
    }
    if (!plugins && conf->plugins.line)
      plugins = conf->plugins.text;
    if (!state_path && !no_state && conf->state.line) {
      if (conf->no_state)
        no_state = 1;
      else {
        state_path = conf->state.text;
        state_from_conf = 1;
      }
    }
  }
  if (use_syslog > 0) {
    int flags = LOG_PID;
    const char *perror_env = getenv("NFHUNT_SYSLOG_STDERR");
    if (perror_env && *perror_env && strcmp(perror_env, "0") != 0)
      flags |= LOG_PERROR;
    openlog("nfhunt", flags, facility >= 0 ? facility : LOG_DAEMON);
    log_to_syslog = 1;
  }
  if (threads >= 0)
    ropt.threads = (unsigned)threads;
  if (lock_wait < 0)
    lock_wait = DEFAULT_LOCK_WAIT;
  if (!plugin_dir && (plugin_dir = getenv("NFHUNT_PLUGIN_DIR")) != NULL)
    snprintf(plugin_from, sizeof(plugin_from), "NFHUNT_PLUGIN_DIR");
  if (!plugin_dir) {
    plugin_dir = NFH_PLUGIN_DIR;
    snprintf(plugin_from, sizeof(plugin_from), "the plugin directory");
  }

  /* Detector parameters: the file's, then --set's (which win). */
  params ps = {0};
  for (size_t d = 0; conf && d < conf->ndetectors; d++)
    for (size_t k = 0; k < conf->detectors[d].nparams; k++) {
      const hunt_conf_param *cp = &conf->detectors[d].params[k];
      param p;
      memset(&p, 0, sizeof(p));
      snprintf(p.detector, sizeof(p.detector), "%s", conf->detectors[d].name);
      snprintf(p.key, sizeof(p.key), "%s", cp->key);
      p.value = cp->value.text;
      p.file = cp->value.file;
      p.line = cp->value.line;
      params_put(&ps, &p);
    }
  for (size_t i = 0; i < sets.n; i++) {
    param p;
    if (parse_set(sets.v[i], &p) != 0)
      die("--set %s: expected DETECTOR.KEY=VALUE", sets.v[i]);
    /* As in the configuration file: "enabled=nah" left the detector on
     * without a word. */
    if (strcmp(p.key, "enabled") == 0) {
      int b = hunt_parse_bool(p.value);
      if (b < 0)
        die("--set %s: enabled: '%s' is not yes or no", sets.v[i], p.value);
      p.value = b ? "yes" : "no";
    }
    params_put(&ps, &p);
  }

  if (r.m == MODE_HUNT || r.m == MODE_LIST) {
    nfh_engine_options eopt;
    memset(&eopt, 0, sizeof(eopt));
    eopt.plugin_dir = plugin_dir;
    eopt.log = log_line;
    if (nfh_engine_create(&eopt, &r.engine) != NFH_OK)
      die("cannot create the engine");
    for (size_t i = 0; i < homes.n; i++) {
      char *list = strdup(homes.v[i]), *save = NULL;
      if (!list)
        die("out of memory");
      size_t nets = 0;
      for (char *tok = strtok_r(list, ", ", &save); tok;
           tok = strtok_r(NULL, ", ", &save), nets++)
        if (nfh_engine_add_home_net(r.engine, tok) != NFH_OK)
          die("--home-net: '%s' is not a network (CIDR)", tok);
        else
          warn_host_bits("--home-net", tok, 0);
      /* An empty list (an unset shell variable) would leave the
       * defaults in force, not the networks the caller meant. */
      if (!nets)
        die("--home-net '%s': no network given", homes.v[i]);
      free(list);
    }
    if (conf) {
      char err[512];
      if (hunt_conf_apply(conf, r.engine, homes.n > 0, err, sizeof(err)) !=
          NFH_OK)
        die("%s", err);
      for (size_t i = 0; !homes.n && i < conf->home_net.n; i++) {
        char where[512];
        snprintf(where, sizeof(where), "%s:%d: home_net",
                 conf->home_net.v[i].file, conf->home_net.v[i].line);
        warn_host_bits(where, conf->home_net.v[i].text, 0);
      }
    }
    for (size_t i = 0; i < allows.n; i++) {
      char det[64];
      const char *spec = hunt_allow_split(allows.v[i], det, sizeof(det));
      if (nfh_engine_allow(r.engine, det, spec) != NFH_OK)
        die("--allow %s: expected [DETECTOR:]CIDR[:PORT] or [v6]:PORT",
            allows.v[i]);
      /* An allowed 10.0.0.5/16 silences a whole /16: said. */
      warn_host_bits("--allow", spec, 1);
    }
    for (size_t i = 0; i < ps.n; i++)
      if (nfh_engine_set(r.engine, ps.p[i].detector, ps.p[i].key,
                         ps.p[i].value) != NFH_OK)
        die("out of memory");
    /* An empty list (an unset variable) would load them all. */
    if (plugins && !plugins[strspn(plugins, ", \t")])
      die("--plugins '%s': names no detector (see --list-plugins)", plugins);
    if (plugins && nfh_engine_only(r.engine, plugins) != NFH_OK)
      die("out of memory");
    /* One line naming where the directory came from (a configuration
     * file's line, like every other mistake in it), not the engine's
     * line and then "no detector loaded" beside it. */
    DIR *pd = opendir(plugin_dir);
    if (!pd)
      die("%s %s: cannot read the directory: %s", plugin_from, plugin_dir,
          strerror(errno));
    closedir(pd);
    if (nfh_engine_load_plugins(r.engine) != NFH_OK && r.m == MODE_LIST)
      die("%s %s: cannot read the directory", plugin_from, plugin_dir);
    check_names(r.engine, plugin_dir, &ps, conf);
    if (r.m != MODE_LIST) {
      check_selection(r.engine, plugin_dir, plugins, allows.v, allows.n,
                      conf);
      /* A bad value is told now, once, before a state file is made. */
      if (nfh_engine_check_settings(r.engine) != NFH_OK)
        die("out of memory");
      check_detectors(r.engine, &ps, conf);
      /* enabled = no on every detector: a hunt by nobody would record
       * every file as analysed. */
      size_t live = 0;
      for (size_t i = 0; i < nfh_engine_plugin_count(r.engine); i++)
        live += nfh_engine_plugin(r.engine, i)->enabled != 0;
      if (live == 0)
        die("every detector is disabled (enabled = no): nothing to hunt");
    }
  }
  if (r.m == MODE_LIST) {
    size_t n = nfh_engine_plugin_count(r.engine);
    printf("%zu detector%s in %s\n", n, n == 1 ? "" : "s", plugin_dir);
    for (size_t i = 0; i < n; i++) {
      const nfh_plugin_info *p = nfh_engine_plugin(r.engine, i);
      printf("  %-14s %-8s %s\n", p->name, p->version, p->description);
    }
    nfh_engine_destroy(r.engine);
    hunt_conf_free(conf);
    return 0;
  }
  if (reads.n == 0 && !sources && flow_files.n == 0) {
    complain("no input: give -r FILE, -R DIR, -M SOURCES, --rotated or "
             "--flow-file");
    usage(stderr);
    return EXIT_ERROR;
  }

  if (window &&
      nfh_parse_time_window(window, &r.win_start, &r.win_end) != NFH_OK) {
    /* Two good times the wrong way round deserve their own words. */
    for (const char *dash = strchr(window, '-'); dash;
         dash = strchr(dash + 1, '-')) {
      char first[64];
      uint64_t a0, a1, b0, b1;
      if ((size_t)(dash - window) >= sizeof(first))
        break;
      snprintf(first, sizeof(first), "%.*s", (int)(dash - window), window);
      if (nfh_parse_time_window(first, &a0, &a1) == NFH_OK &&
          nfh_parse_time_window(dash + 1, &b0, &b1) == NFH_OK && b0 < a0)
        die("-t %s: the window ends before it starts", window);
    }
    die("-t %s: not a time window (yyyy/MM/dd.hh:mm:ss"
        "[-yyyy/MM/dd.hh:mm:ss])",
        window);
  }

  nfh_filelist *list;
  if (nfh_filelist_create(&list) != NFH_OK)
    die("out of memory");
  nfh_status st = NFH_OK;
  if (sources)
    st = nfh_filelist_set_sources(list, sources);
  for (size_t i = 0; st == NFH_OK && i < reads.n; i++)
    st = is_range[i] ? nfh_filelist_add_range(list, reads.v[i])
                     : nfh_filelist_add_file(list, reads.v[i]);
  if (st == NFH_OK && sources && reads.n == 0)
    st = nfh_filelist_add_sources(list);
  if (st != NFH_OK)
    die("%s", nfh_filelist_error(list)[0] ? nfh_filelist_error(list)
                                          : nfh_strerror(st));
  nfh_filelist_finish(list);
  r.list = list;
  /* nfdump reads a file under each of its names; nfhunt once (its flows
   * counted twice otherwise): said, not done in silence. */
  const char *twice_first;
  size_t twice = nfh_filelist_named_twice(list, &twice_first);
  if (twice)
    warn("%zu selected files are named more than once, read once: %s%s", twice,
         twice_first ? twice_first : "?", twice > 1 ? ", ..." : "");
  const char *same_dropped, *same_kept;
  size_t same = nfh_filelist_same_files(list, &same_dropped, &same_kept);
  if (same && same_dropped && same_kept)
    warn("%zu selected files are files already selected under another "
         "name (hard or symbolic links), read once: %s is %s%s",
         same, same_dropped, same_kept, same > 1 ? ", ..." : "");
  /* A directory of the tree that cannot be read hid its files without a
   * word (a tester's chmod 000 of a day). */
  const char *unreadable_first;
  size_t unreadable = nfh_filelist_unreadable_dirs(list, &unreadable_first);
  if (unreadable)
    complain("%zu director%s below the flow root could not be read, "
             "%s files not selected: %s",
             unreadable, unreadable == 1 ? "y" : "ies",
             unreadable == 1 ? "its" : "their",
             unreadable_first ? unreadable_first : "?");
  /* As nfdump says "Empty file list": a cron job pointed at the wrong
   * directory should say so, not report a quiet hour. */
  if (nfh_filelist_count(list) == 0 && (reads.n || sources))
    warn("no capture files selected (%s%s)",
         reads.n ? reads.v[0] : sources, reads.n > 1 ? " ..." : "");

  /* The state: opened (and locked) before anything is read, so that
   * overlapping runs queue up instead of interleaving. nfcapd -x: at the
   * top of the flow directory (%d), not in a -S subdirectory. JSON flow
   * files have no flow directory: no state unless one is named. */
  nfh_state *state = NULL;
  char *state_alloc = NULL;
  if (since_last && no_state)
    die("--since last needs a state (it remembers what was analysed)");
  if (since_last && r.m != MODE_HUNT)
    die("--since last selects files for the hunt: not with --count or "
        "--dump");
  /* A window reads part of files: a state would count that part's
   * traffic again when a later run reads the whole files. */
  if (window && since_last)
    die("-t reads part of files and keeps no state: not with --since last");
  if (window && rot_dir)
    die("-t reads part of files and keeps no state: not with --rotated");
  if (output && r.m != MODE_HUNT)
    die("--output writes the hunt's report: not with --dump or --count");
  /* The file's state is for the hunts; a -t run (--count too) keeps
   * none: it was refused, blaming a --state nobody gave (a tester). */
  if (window && state_path && !state_from_conf)
    die("-t reads part of files and keeps no state: not with --state");
  if (window) {
    no_state = 1;
    if (state_from_conf)
      state_path = NULL;
  }
  /* The report too: a report in a flow directory under a name nfdump
   * reads stopped nfdump -R there, reading nothing past it. */
  if (r.m == MODE_HUNT && output) {
    check_output_place(output);
    check_name_in_flow_dir("--output", output,
                           ".nfhunt.report.stat.json",
                           sources, &reads);
  }
  if (r.m == MODE_HUNT && !no_state && (state_path || !flow_files.n)) {
    if (!state_path && rot_dir) {
      size_t len = strlen(rot_dir) + sizeof(STATE_NAME) + 1;
      state_alloc = malloc(len);
      if (!state_alloc)
        die("out of memory");
      snprintf(state_alloc, len, "%s/" STATE_NAME, rot_dir);
      state_path = state_alloc;
    }
    int state_default = !state_path;
    if (!state_path)
      state_path = state_alloc =
          default_state_path(sources, reads.n ? reads.v[0] : NULL);
    /* nfcapd -n sources, each with its -x runs (--rotated: a state in
     * each source's directory), and an hourly -M run (its state at the
     * -M base): three states, every file hunted twice and every finding
     * alerted as often (a tester). Said while it is so. */
    if (state_default && sources && since_last) {
      own_state os = {state_path, 0};
      for_each_root(sources, &reads, source_has_state, &os);
    }
    check_name_in_flow_dir("state", state_path, STATE_NAME, sources, &reads);
    if (output)
      check_output_not_state(output, state_path);
    const char *err = "";
    st = nfh_state_open(state_path, (unsigned)lock_wait, &state, &err);
    if (st == NFH_OK && nfh_state_found_empty(state))
      warn("state %s: the file is empty: a new state begins in it, and "
           "files analysed before are read again",
           state_path);
    /* The library's message may begin with the path already. */
    size_t plen = strlen(state_path);
    if (strncmp(err, state_path, plen) == 0 && strncmp(err + plen, ": ", 2) == 0)
      err += plen + 2;
    if (st != NFH_OK)
      die("state %s: %s%s", state_path, err,
          rot_dir ? "; the file is left for the next --since last run" : "");
    if (r.engine)
      check_state_modules(r.engine, plugin_dir, state, state_path);
  }

  /* What to read: with a state, the files no run recorded in it. A file
   * analysed before is in the detectors' baselines and timelines already:
   * read again, its traffic would count twice (a 2.5 GB upload read as
   * 5 GB). --since last and --rotated rely on this; a run by hand over
   * files already analysed says so. */
  size_t nlist = nfh_filelist_count(list);
  char **keys = calloc(nlist + 1, sizeof(char *));
  unsigned char *todo = calloc(nlist + 1, 1);
  if (!keys || !todo)
    die("out of memory");
  /* Where --since last began: a first run over -R dir/nfcapd.X starts
   * the state there, and the hourly -R dir after it must not hunt the
   * years of files before X. Kept in the state; 0 while unknown. */
  uint64_t since_from = 0, since_from_new = 0;
  if (state && since_last) {
    uint64_t last_slot = 0;
    nfh_state_get_u64(state, "since_from_slot", &since_from);
    nfh_state_get_u64(state, "last_file_slot", &last_slot);
    /* Only a start named as a file (-R dir/nfcapd.X, a range): after a
     * plain -R dir, a late file older than the first one was skipped
     * for good, without a word (a tester). */
    if (!since_from && !last_slot && start_named(&reads))
      for (size_t i = 0; i < nlist; i++) {
        int64_t t = nfh_file_slot_time(nfh_filelist_path(list, i));
        if (t > 0 && (!since_from_new || (uint64_t)t < since_from_new))
          since_from_new = (uint64_t)t;
      }
  }
  size_t ntodo = 0;
  size_t changed = 0, changed_first = 0; /* analysed, and changed since */
  unsigned char *resign = calloc(nlist + 1, 1); /* changed, not read */
  uint64_t newest_slot = 0; /* the newest file slot the state analysed */
  if (!resign)
    die("out of memory");
  if (state)
    nfh_state_get_u64(state, "last_file_slot", &newest_slot);
  /* Files that could not be opened in the run before (see
   * UNOPENED_PREFIX). */
  unsigned char *unopened = calloc(nlist + 1, 1);
  if (!unopened)
    die("out of memory");
  for (size_t i = 0; i < nlist; i++) {
    keys[i] = file_key(nfh_filelist_path(list, i));
    if (!keys[i])
      die("out of memory");
    int done = 0;
    if (state && nfh_state_file_done(state, keys[i], &done) != NFH_OK)
      die("state %s: %s", state_path, nfh_state_error(state));
    if (state && done && changed_since(state, keys[i])) {
      /* Rewritten within the hour of the newest data (a restart, a
       * copy finishing): read again. Older (recompressed by nfdump -J,
       * say): the same flows; its new signature is kept, unread. */
      int64_t slot = nfh_file_slot_time(keys[i]);
      if (slot > 0 && (uint64_t)slot + CHANGED_RECENT_S >= newest_slot) {
        done = 0;
        if (!changed++)
          changed_first = i;
      } else {
        resign[i] = 1;
      }
    }
    if (state && !done)
      unopened[i] = unopened_before(state, keys[i]);
    int64_t t = since_from ? nfh_file_slot_time(keys[i]) : 0;
    if (t > 0 && (uint64_t)t < since_from)
      done = 1; /* before the state's start: not for --since last */
    todo[i] = !done;
    ntodo += !done;
  }
  warn_moved_tree(state, state_path, keys, todo, nlist);
  /* --beside writes beside the last file read: a directory that takes
   * no file failed the run after the whole hunt (--output is checked
   * before reading; a tester's chattr +i day). */
  if (beside && r.m == MODE_HUNT) {
    size_t last = nlist;
    for (size_t i = 0; i < nlist; i++)
      if (todo[i])
        last = i;
    if (last < nlist) {
      char *copy = strdup(nfh_filelist_path(list, last));
      if (!copy)
        die("out of memory");
      const char *dir = dirname(copy);
      if (access(dir, W_OK | X_OK) != 0)
        die("--beside: %s: %s: the findings file goes there; nothing read", dir,
            strerror(errno));
      free(copy);
    }
  }
  if (changed)
    warn("%zu file%s changed since a run analysed %s (nfcapd restarted "
         "within the slot, or a copy finished): read again, as new: %s%s",
         changed, changed == 1 ? "" : "s", changed == 1 ? "it" : "them",
         keys[changed_first], changed > 1 ? ", ..." : "");
  /* JSON flow files the same way: a state named for them counted a
   * file's bytes again on every run (84 MB read as 246 MB). */
  size_t nflow = flow_files.n;
  char **fkeys = calloc(nflow + 1, sizeof(char *));
  read_result *fres = calloc(nflow + 1, sizeof(read_result));
  if (!fkeys || !fres)
    die("out of memory");
  size_t fdone = 0;
  for (size_t i = 0; i < nflow; i++) {
    fres[i] = READ_SKIPPED;
    if (!(fkeys[i] = file_key(flow_files.v[i])))
      die("out of memory");
    int done = 0;
    if (state && nfh_state_file_done(state, fkeys[i], &done) != NFH_OK)
      die("state %s: %s", state_path, nfh_state_error(state));
    fres[i] = done ? READ_SKIPPED : READ_NOT; /* READ_NOT: to read */
    fdone += done;
  }
  if (state && !since_last && !rot_dir && (ntodo < nlist || fdone))
    warn("%zu of %zu selected files were analysed before with the "
         "state %s: skipped, their traffic is in it already "
         "(--no-state hunts them again)",
         nlist - ntodo + fdone, nlist + nflow, state_path);
  if (rot_dir && ntodo == 0) {
    /* Analysed already (a --since last run was quicker): nothing to do. */
    nfh_state_close(state);
    free(state_alloc);
    nfh_engine_destroy(r.engine);
    nfh_filelist_destroy(list);
    hunt_conf_free(conf);
    return 0;
  }

  nfh_reader *reader = NULL;
  nfh_json_reader *jreader = NULL;
  if (nfh_reader_create(&ropt, &reader) != NFH_OK ||
      nfh_json_reader_create(&jreader) != NFH_OK)
    die("cannot create a reader");

  /* Where the home networks come from, for the report. */
  const char *home_from = r.engine && !nfh_engine_home_is_default(r.engine)
                              ? "given"
                              : "default";
  char home_guessed[512] = ""; /* the guess, for the state */
  char home_unlisted[512] = ""; /* networks the given ones leave out */
  if (r.engine && r.m == MODE_HUNT && !strcmp(home_from, "default"))
    home_from = guess_home(&r, reader, jreader, list, todo, nlist,
                           flow_files.v, fres, nflow, state, home_guessed,
                           sizeof(home_guessed));
  else if (r.engine && r.m == MODE_HUNT)
    check_given_home(&r, reader, jreader, list, todo, nlist, flow_files.v, fres,
                     nflow, state, home_unlisted, sizeof(home_unlisted));
  if (r.engine) {
    if (nfh_engine_start(r.engine, state) != NFH_OK)
      die("cannot start the detectors");
    check_detectors(r.engine, &ps, conf);
  }

  static char outbuf[1 << 16];
  setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
  if (r.m == MODE_DUMP)
    fputs(csv_header, stdout);

  read_result *res = calloc(nlist + 1, sizeof(read_result));
  if (!res)
    die("out of memory");
  const char *last_read = NULL; /* the last capture file read (--beside) */
  /* The readers of read_merged beside 'reader', made when first needed. */
  nfh_reader *merge_readers[MERGE_MAX];
  size_t nmerge = 0;
  unsigned char *taken = calloc(nlist + 1, 1); /* read with an earlier one */
  if (!taken)
    die("out of memory");
  int listing_cut = 0;          /* --dump's reader closed the pipe */
  for (size_t i = 0; i < nlist; i++) {
    if (taken[i])
      continue; /* read with an earlier file of its slot: res[i] is set */
    res[i] = READ_SKIPPED;
    if (!todo[i])
      continue;
    /* --dump into head(1): the reader has what it wanted. */
    if (r.m == MODE_DUMP && ferror(stdout)) {
      listing_cut = errno == EPIPE;
      break;
    }
    /* Files of this one's time slot from other directories are read
     * with it (read_merged), in a hunt: a listing keeps file order. */
    int64_t slot =
        r.m == MODE_HUNT ? nfh_file_slot_time(nfh_filelist_path(list, i)) : -1;
    size_t group = 1;
    const char *paths[MERGE_MAX];
    size_t at[MERGE_MAX];
    paths[0] = nfh_filelist_path(list, i);
    at[0] = i;
    for (size_t k = i + 1;
         slot > 0 && k < nlist && group < MERGE_MAX &&
         nfh_file_slot_time(nfh_filelist_path(list, k)) == slot;
         k++) {
      if (!todo[k])
        continue;
      paths[group] = nfh_filelist_path(list, k);
      at[group++] = k;
    }
    read_result got[MERGE_MAX];
    if (group == 1) {
      got[0] = read_file(reader, paths[0], &r);
    } else {
      for (size_t g = nmerge; g + 1 < group; g++, nmerge++)
        if (nfh_reader_create(&ropt, &merge_readers[g]) != NFH_OK)
          die("cannot create a reader");
      nfh_reader *readers[MERGE_MAX];
      readers[0] = reader;
      for (size_t g = 1; g < group; g++)
        readers[g] = merge_readers[g - 1];
      read_merged(readers, paths, group, &r, got);
    }
    for (size_t g = 0; g < group; g++) {
      res[at[g]] = got[g];
      count_result(&r.t, got[g]);
      if (got[g] == READ_OK || got[g] == READ_PARTLY)
        last_read = paths[g];
      taken[at[g]] = 1;
    }
  }
  for (size_t i = 0; i < flow_files.n; i++) {
    if (fres[i] == READ_SKIPPED)
      continue;
    read_result rr = read_json_file(jreader, flow_files.v[i], &r);
    fres[i] = rr;
    count_result(&r.t, rr);
  }

  if (r.t.files_gone)
    warn("%" PRIu64 " selected file%s went before %s turn came (removed "
         "meanwhile: nfexpire, most likely): not read",
         r.t.files_gone, r.t.files_gone == 1 ? "" : "s",
         r.t.files_gone == 1 ? "its" : "their");
  sampling_check_pool(&r);
  if (r.m != MODE_DUMP && sampling_unannounced(&r))
    warn("%" PRIu64 " of %" PRIu64 " files (those with %d TCP records or "
         "more to tell) look packet-sampled, yet announce "
         "no sampling interval: %.0f%% of their %" PRIu64 " TCP records "
         "(probes aside: lone SYN, FIN and RST packets, bare ACKs beyond "
         "the data packets) are a single packet "
         "(unsampled: a few percent); "
         "their counts are raw samples, so volumes read low and scans and "
         "beacons thin out (nfcapd -s N scales such an exporter's records)",
         r.sc.sampled_files, r.sc.checked_files, SAMPLING_CHECK_MIN_TCP,
         100.0 * sampled_share(&r), r.sc.tcp);
  /* As for an empty directory: a window that misses the files (a typo
   * in its year) must not pass for a quiet hour. */
  if (window && r.t.flows == 0 && ntodo > r.t.files_failed)
    warn("-t %s: none of the %zu selected files holds a flow in that "
         "window",
         window, ntodo);
  int exit_code = r.t.files_failed || unreadable ? EXIT_ERROR : 0;
  if (r.m == MODE_COUNT) {
    printf("files %" PRIu64 " failed %" PRIu64 " flows %" PRIu64
           " packets %" PRIu64 " bytes %" PRIu64 "\n",
           r.t.files, r.t.files_failed, r.t.flows, r.t.packets, r.t.bytes);
  } else if (r.m == MODE_HUNT) {
    /* --since last with nothing new: the detectors and their state are
     * left as they are. */
    /* Nothing new to read (--since last, or every file analysed
     * before): the findings of earlier runs are not repeated. */
    int idle = (since_last || (state && ntodo < nlist)) && ntodo == 0;
    st = idle ? NFH_OK : nfh_engine_finish(r.engine, state);
    /* A state that cannot take the run (its disk full, a page damaged)
     * costs the state's update, not the findings: they are reported,
     * the state is left as it was, and the next run reads the files and
     * reports them again. A full disk withheld every hourly run's
     * findings, a critical flood among them (a tester). */
    int state_failed = 0;
    if (st == NFH_ESTATE && state) {
      complain("state %s: %s" STATE_NOT_SAVED, state_path,
               nfh_state_error(state));
      state_failed = 1;
      exit_code = EXIT_ERROR;
    } else if (st != NFH_OK) {
      die("finishing the hunt: %s%s%s%s%s", nfh_strerror(st),
          state ? " (state " : "", state ? state_path : "",
          state ? "): " : "", state ? nfh_state_error(state) : "");
    }
    /* A detector that failed during the run (memory ran out: said
     * above) leaves the others' findings, but not a run to count: the
     * files would be analysed for good without it (a tester's ulimit
     * -v: exit 0, an empty report, the files recorded). */
    size_t failed = nfh_engine_failed_count(r.engine);
    if (failed && state && !state_failed) {
      complain("state %s: %zu detector%s failed during the run" STATE_NOT_SAVED,
               state_path, failed, failed == 1 ? "" : "s");
      state_failed = 1;
    }
    if (failed)
      exit_code = EXIT_ERROR;
    size_t nf = 0;
    const nfh_report_finding *findings =
        idle ? NULL : nfh_engine_findings(r.engine, &nf);
    const nfh_engine_stats *es = nfh_engine_get_stats(r.engine);
    nfh_report_inputs in;
    memset(&in, 0, sizeof(in));
    in.files = r.t.files;
    in.files_failed = r.t.files_failed;
    in.files_partly = r.t.files_partly;
    in.flows = r.t.flows;
    in.connections = es->conns;
    in.exporters = r.nexporters;
    in.duplicate_flows = es->duplicate_flows;
    in.sampled_flows = r.t.sampled_flows;
    in.max_sampling = r.t.max_sampling;
    in.checked_files = r.sc.checked_files;
    if (sampling_unannounced(&r)) {
      in.unannounced_files = r.sc.sampled_files;
      in.unannounced_share = sampled_share(&r);
    }
    /* The engine's span: its records' times set right (misdated ones
     * would stretch the window over decades). */
    in.window_start_ms = es->flows ? es->first_ms : r.t.first_ms;
    in.window_end_ms = es->flows ? es->last_ms : r.t.last_ms;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    in.generated_ms = (uint64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    size_t nhome = nfh_engine_home_net_count(r.engine);
    char(*home_text)[NFH_ADDR_STRLEN + 8] =
        calloc(nhome + 1, sizeof(*home_text));
    const char **home_names = calloc(nhome + 1, sizeof(char *));
    if (!home_text || !home_names)
      die("out of memory");
    for (size_t i = 0; i < nhome; i++)
      home_names[i] = nfh_engine_home_net_text(r.engine, i, home_text[i],
                                               sizeof(home_text[i]));
    in.home_nets = home_names;
    in.nhome_nets = nhome;
    in.home_nets_from = home_from;
    int alerting = 0, new_alerting = 0;
    for (size_t i = 0; i < nf; i++)
      if (findings[i].f.severity >= alert) {
        alerting = 1;
        if (strcmp(findings[i].status, "ongoing") != 0)
          new_alerting = 1;
      }
    /* The reports list everything down to info; the alert level decides
     * what the terminal shows, syslog gets and the exit status. */
    const char *err = "";
    if (output && nfh_report_write_json(output, findings, nf, NFH_SEV_INFO, &in,
                                        &err) != NFH_OK)
      die("%s", err);
    if (beside && last_read) {
      char *path = hunt_report_path(last_read);
      if (!path)
        die("out of memory");
      if (nfh_report_write_json(path, findings, nf, NFH_SEV_INFO, &in, &err) !=
          NFH_OK)
        die("%s", err);
      free(path);
    }
    if (fmt == HUNT_FORMAT_JSON)
      nfh_report_print_json(stdout, findings, nf, alert, &in);
    else if (fmt == HUNT_FORMAT_NDJSON)
      nfh_report_print_ndjson(stdout, findings, nf, alert);
    else if (fmt == HUNT_FORMAT_TEXT ||
             (!rot_dir &&
              (quiet > 0 ? new_alerting
                         : ((!output && !beside) || isatty(STDOUT_FILENO)))))
      nfh_report_print_text(stdout, findings, nf, alert, &in, 50);
    /* The report on stdout (a SIEM's pipe, perhaps) must be out before
     * the state counts this run: a full disk or a closed pipe leaves the
     * previous state, and the next run reports the same findings anew. */
    if (fflush(stdout) != 0)
      die("stdout: %s", strerror(errno));
    /* Syslog is a report too: out before the state counts the run. */
    if (log_to_syslog)
      syslog_findings(findings, nf, alert);

    /* The files now count as analysed, in the same transaction as the
     * detectors' state: both are kept, or neither. (A -t run keeps no
     * state: it reads only part of files.) */
    if (state && !state_failed) {
      if (nfh_state_begin(state) != NFH_OK ||
          nfh_state_put_blob(state, HOME_GUESS_BLOB, home_guessed,
                             strlen(home_guessed)) != NFH_OK ||
          nfh_state_put_blob(state, HOME_UNLISTED_BLOB, home_unlisted,
                             strlen(home_unlisted)) != NFH_OK)
        state_not_saved(state_path, state);
      uint64_t last_slot = 0;
      nfh_state_get_u64(state, "last_file_slot", &last_slot);
      size_t given_up = 0;
      for (size_t i = 0; i < nlist; i++) {
        /* A file that could not be opened is tried again by the next
         * run, in case it was still being copied; not opened twice, it
         * is given up (counted as analysed): a renamed gzip or a
         * zero-length file failed every hourly run, exit status 2, for
         * ever. */
        if (res[i] == READ_NOT && todo[i]) {
          put_unopened(state, state_path, keys[i], unopened[i] ? 0 : 1);
          if (unopened[i] &&
              nfh_state_mark_file(state, keys[i], in.generated_ms) != NFH_OK)
            state_not_saved(state_path, state);
          /* Given up as it is: should it change (a zero-length file that
           * a copy fills), it is read then. */
          if (unopened[i])
            put_signature(state, state_path, keys[i]);
          given_up += unopened[i];
          continue;
        }
        if (resign[i])
          put_signature(state, state_path, keys[i]);
        if (res[i] != READ_OK && res[i] != READ_PARTLY)
          continue;
        if (unopened[i])
          put_unopened(state, state_path, keys[i], 0);
        if (nfh_state_mark_file(state, keys[i], in.generated_ms) != NFH_OK)
          state_not_saved(state_path, state);
        put_signature(state, state_path, keys[i]);
        int64_t slot = nfh_file_slot_time(keys[i]);
        if (slot > 0 && (uint64_t)slot > last_slot)
          last_slot = (uint64_t)slot;
      }
      if (given_up)
        warn("files not opened in this run nor in the one before are given "
             "up (%zu): not tried again with this state",
             given_up);
      for (size_t i = 0; i < nflow; i++)
        if ((fres[i] == READ_OK || fres[i] == READ_PARTLY) &&
            nfh_state_mark_file(state, fkeys[i], in.generated_ms) != NFH_OK)
          state_not_saved(state_path, state);
      if (nfh_state_put_u64(state, "last_file_slot", last_slot) != NFH_OK ||
          (since_from_new &&
           nfh_state_put_u64(state, "since_from_slot", since_from_new) !=
               NFH_OK))
        state_not_saved(state_path, state);
      /* Files nfexpire removed are forgotten (and their findings files
       * go, so that nfexpire can remove the emptied directories). Not
       * when the flow directories hold nothing at all but nfhunt's own
       * files: a flow file system not mounted looked like every file
       * removed, and when it came back the whole tree was read again,
       * its traffic counted twice (a tester). nfexpire leaves the day
       * directories and findings files. */
      if (since_last && !roots_bare(sources, &reads)) {
        if (nfh_state_forget_files(state, file_exists, NULL, NULL) != NFH_OK ||
            nfh_state_forget_counters(state, UNOPENED_PREFIX, file_exists, NULL,
                                      NULL) != NFH_OK ||
            nfh_state_forget_counters(state, FILESIG_PREFIX, file_exists, NULL,
                                      NULL) != NFH_OK)
          state_not_saved(state_path, state);
        sweep_roots(sources, &reads);
      }
    }
    /* Only now, with the reports written, does the run's state count. */
    if (state && !state_failed && nfh_state_commit(state) != NFH_OK)
      state_not_saved(state_path, state);
    if (nfh_engine_plugin_count(r.engine) == 0)
      complain("no detector loaded from %s (see --plugin-dir)", plugin_dir);
    if (exit_code == 0 && alerting)
      exit_code = EXIT_FOUND;
    free(home_names);
    free(home_text);
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    /* A listing cut short by its reader (--dump | head) is what the
     * reader asked for; a hunt's report cut short is an error (its
     * state was not committed). */
    if ((listing_cut || errno == EPIPE) && r.m != MODE_HUNT)
      exit_code = exit_code == EXIT_ERROR ? EXIT_ERROR : 0;
    else {
      complain("stdout: %s", strerror(errno));
      exit_code = EXIT_ERROR;
    }
  }
  nfh_state_close(state);
  free(state_alloc);
  nfh_reader_destroy(reader);
  for (size_t g = 0; g < nmerge; g++)
    nfh_reader_destroy(merge_readers[g]);
  nfh_json_reader_destroy(jreader);
  nfh_engine_destroy(r.engine);
  for (size_t i = 0; i < nlist; i++)
    free(keys[i]);
  free(keys);
  for (size_t i = 0; i < nflow; i++)
    free(fkeys[i]);
  free(fkeys);
  free(fres);
  free(todo);
  free(unopened);
  free(resign);
  free(taken);
  free(res);
  nfh_filelist_destroy(list);
  free(r.batch);
  free(r.exporters);
  free(reads.v);
  free(is_range);
  free(homes.v);
  free(allows.v);
  free(sets.v);
  free(flow_files.v);
  free(ps.p);
  free(rot_dir);
  free(rot_file);
  hunt_conf_free(conf);
  if (log_to_syslog)
    closelog();
  return exit_code;
}
