/*
 * nfhunt - threat hunting in nfdump capture files.
 *
 * This program selects capture files the way nfdump does (-r, -R, -M,
 * -t), reads them into nfhunt's flow model and, for now, either dumps
 * the model (--dump), counts it (--count), or summarises the input.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nfhunt/nfhunt.h>

#define EXIT_FOUND 1 /* reserved: findings at or above the alert level */
#define EXIT_ERROR 2

typedef enum mode { MODE_SUMMARY, MODE_DUMP, MODE_COUNT } mode;

typedef struct totals {
  uint64_t files, files_failed, flows, packets, bytes;
  uint64_t first_ms, last_ms;
  uint64_t sampled_flows;
  uint32_t max_sampling;
} totals;

static void usage(FILE *out) {
  fprintf(out,
          "usage: nfhunt [-r file] [-R dir|dir/first|first:last] "
          "[-M /base/src1:src2]\n"
          "              [-t window] [--dump | --count] [--threads N]\n"
          "  -r FILE     read one capture file (repeatable; a directory is "
          "-R)\n"
          "  -R SPEC     read a directory tree or a range of files\n"
          "  -M SOURCES  several source directories (/base/s1:s2)\n"
          "  -t WINDOW   time window yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd."
          "hh:mm:ss]\n"
          "  --dump      print every flow of the flow model as CSV\n"
          "  --count     print files, flows, packets and bytes read\n"
          "  --threads N decode threads (default: one per CPU)\n"
          "  -h, --help  this help;  -V, --version  the version\n");
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

static void format_ms(uint64_t ms, char *buf, size_t len) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%03uZ", (unsigned)(ms % 1000));
}

/* Reads one file; returns 0, or -1 after printing one error line. */
static int read_file(nfh_reader *reader, const char *path, mode m,
                     uint64_t win_start, uint64_t win_end, totals *t) {
  nfh_status st = nfh_reader_open(reader, path);
  if (st != NFH_OK) {
    warnx("%s: %s", path, nfh_reader_error(reader));
    return -1;
  }
  const nfh_file_info *info = nfh_reader_info(reader);
  /* As nfdump does: a file whose stat record lies outside the window
   * holds no flow of interest. */
  if (info->has_stat && info->stat_flows &&
      (info->stat_last_ms < win_start || info->stat_first_ms > win_end)) {
    nfh_reader_close(reader);
    return 0;
  }
  t->files++;
  const nfh_flow *flows;
  size_t n;
  while ((st = nfh_reader_next(reader, &flows, &n)) == NFH_OK) {
    for (size_t i = 0; i < n; i++) {
      const nfh_flow *f = &flows[i];
      if (f->first_ms < win_start || f->last_ms > win_end)
        continue;
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
      if (m == MODE_DUMP)
        dump_flow(stdout, f);
    }
  }
  int rc = 0;
  if (st != NFH_END) {
    warnx("%s: %s", path, nfh_reader_error(reader));
    rc = -1;
  }
  nfh_reader_close(reader);
  return rc;
}

int main(int argc, char **argv) {
  enum { OPT_DUMP = 256, OPT_COUNT, OPT_THREADS };
  static const struct option longopts[] = {
      {"dump", no_argument, NULL, OPT_DUMP},
      {"count", no_argument, NULL, OPT_COUNT},
      {"threads", required_argument, NULL, OPT_THREADS},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  mode m = MODE_SUMMARY;
  const char *sources = NULL, *window = NULL;
  const char **reads = calloc((size_t)argc, sizeof(char *));
  int *is_range = calloc((size_t)argc, sizeof(int));
  int nreads = 0;
  nfh_reader_options ropt = {NFH_READER_THREADS_AUTO};
  if (!reads || !is_range)
    errx(EXIT_ERROR, "out of memory");

  int c;
  while ((c = getopt_long(argc, argv, "hM:r:R:t:V", longopts, NULL)) != -1) {
    switch (c) {
    case 'h':
      usage(stdout);
      return 0;
    case 'M':
      sources = optarg;
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
      printf("nfhunt %s\n", PACKAGE_VERSION);
      return 0;
    case OPT_DUMP:
      m = MODE_DUMP;
      break;
    case OPT_COUNT:
      m = MODE_COUNT;
      break;
    case OPT_THREADS: {
      char *end;
      unsigned long v = strtoul(optarg, &end, 10);
      if (*end || v > 64)
        errx(EXIT_ERROR, "--threads %s: a number from 0 to 64", optarg);
      ropt.threads = (unsigned)v;
      break;
    }
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
  if (nreads == 0 && !sources) {
    warnx("no input: give -r FILE, -R DIR or -M SOURCES");
    usage(stderr);
    return EXIT_ERROR;
  }

  uint64_t win_start = 0, win_end = UINT64_MAX;
  if (window && nfh_parse_time_window(window, &win_start, &win_end) != NFH_OK)
    errx(EXIT_ERROR, "-t %s: not a time window (yyyy/MM/dd.hh:mm:ss"
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
    errx(EXIT_ERROR, "%s", nfh_filelist_error(list)[0]
                               ? nfh_filelist_error(list)
                               : nfh_strerror(st));
  nfh_filelist_finish(list);

  nfh_reader *reader;
  if (nfh_reader_create(&ropt, &reader) != NFH_OK)
    errx(EXIT_ERROR, "cannot create a reader");
  static char outbuf[1 << 16];
  setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
  if (m == MODE_DUMP)
    fputs(csv_header, stdout);

  totals t;
  memset(&t, 0, sizeof(t));
  for (size_t i = 0; i < nfh_filelist_count(list); i++)
    if (read_file(reader, nfh_filelist_path(list, i), m, win_start, win_end,
                  &t) != 0)
      t.files_failed++;

  if (m == MODE_COUNT) {
    printf("files %" PRIu64 " failed %" PRIu64 " flows %" PRIu64
           " packets %" PRIu64 " bytes %" PRIu64 "\n",
           t.files, t.files_failed, t.flows, t.packets, t.bytes);
  } else if (m == MODE_SUMMARY) {
    char first[40] = "-", last[40] = "-";
    if (t.flows) {
      format_ms(t.first_ms, first, sizeof(first));
      format_ms(t.last_ms, last, sizeof(last));
    }
    printf("nfhunt %s\n", PACKAGE_VERSION);
    printf("  files read      %" PRIu64 " (%" PRIu64 " failed)\n", t.files,
           t.files_failed);
    printf("  flows           %" PRIu64 "\n", t.flows);
    printf("  packets         %" PRIu64 "\n", t.packets);
    printf("  bytes           %" PRIu64 "\n", t.bytes);
    printf("  time span       %s .. %s\n", first, last);
    if (t.sampled_flows)
      printf("  sampled flows   %" PRIu64 " (intervals up to 1:%u; counts "
             "are estimates)\n",
             t.sampled_flows, t.max_sampling);
    printf("  detectors       none loaded yet: findings need the detection "
           "engine\n");
  }
  if (fflush(stdout) != 0)
    warn("stdout");
  nfh_reader_destroy(reader);
  nfh_filelist_destroy(list);
  free(reads);
  free(is_range);
  return t.files_failed ? EXIT_ERROR : 0;
}
