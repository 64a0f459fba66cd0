/*
 * nfh-mktree - builds the benchmark's capture tree with nfhunt's writer:
 * 5-minute files DIR/YYYY/MM/DD/nfcapd.YYYYMMDDhhmm (nfcapd -S 1 layout,
 * UTC), alternately LZ4 and LZO compressed, filled with deterministic
 * realistic traffic (tests/tools/flowgen.h).
 *
 * usage: nfh-mktree [-n flows] [-f files] [-s seed] [-t start] DIR
 *   -n  total flows (default 10000000), spread evenly over the files
 *   -f  number of 5-minute files (default 144: 12 hours)
 *   -t  epoch seconds of the first slot (default 2024-02-29 18:00 UTC,
 *       so the tree crosses a day and a month boundary)
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/writer.h>

#include "../tools/flowgen.h"

#define SLOT_SECONDS 300
#define BATCH 512

static void usage(void) {
  fprintf(
      stderr,
      "usage: nfh-mktree [-n flows] [-f files] [-s seed] [-t start] DIR\n");
  exit(2);
}

static unsigned long long number(const char *opt, const char *text) {
  char *end;
  unsigned long long v = strtoull(text, &end, 0);
  if (*text == '\0' || *end != '\0')
    errx(2, "-%s %s: not a number", opt, text);
  return v;
}

static void make_dir(const char *path) {
  if (mkdir(path, 0777) != 0 && errno != EEXIST)
    err(1, "mkdir %s", path);
}

int main(int argc, char **argv) {
  unsigned long long total = 10000000, files = 144, seed = 42;
  long long start = 1709229600; /* 2024-02-29 18:00:00 UTC */
  int c;
  while ((c = getopt(argc, argv, "f:n:s:t:")) != -1) {
    switch (c) {
    case 'f':
      files = number("f", optarg);
      break;
    case 'n':
      total = number("n", optarg);
      break;
    case 's':
      seed = number("s", optarg);
      break;
    case 't':
      start = (long long)number("t", optarg);
      break;
    default:
      usage();
    }
  }
  if (optind != argc - 1 || files == 0)
    usage();
  const char *root = argv[optind];
  make_dir(root);

  fg_state g = {seed};
  nfh_flow flows[BATCH];
  unsigned long long written = 0;
  for (unsigned long long fi = 0; fi < files; fi++) {
    time_t slot = (time_t)(start + (long long)fi * SLOT_SECONDS);
    struct tm tm;
    gmtime_r(&slot, &tm);
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/%04d", root, tm.tm_year + 1900);
    make_dir(dir);
    snprintf(dir, sizeof(dir), "%s/%04d/%02d", root, tm.tm_year + 1900,
             tm.tm_mon + 1);
    make_dir(dir);
    snprintf(dir, sizeof(dir), "%s/%04d/%02d/%02d", root, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday);
    make_dir(dir);
    snprintf(path, sizeof(path), "%s/nfcapd.%04d%02d%02d%02d%02d", dir,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min);

    nfh_writer_options o = {.codec = fi % 2 ? NFH_WRITER_CODEC_LZO
                                            : NFH_WRITER_CODEC_LZ4,
                            .creator = NFH_WRITER_CREATOR_NFCAPD,
                            .created = (int64_t)slot,
                            .ident = "bench"};
    nfh_writer *w;
    nfh_status st = nfh_writer_open(path, &o, &w);
    if (st != NFH_OK)
      errx(1, "%s: %s", path, nfh_strerror(st));
    for (int i = 0; i < 2 && st == NFH_OK; i++) {
      nfh_exporter e = fg_traffic_exporter(i);
      st = nfh_writer_add_exporter(w, &e);
    }
    /* The first (total % files) files take one flow more. */
    unsigned long long n = total / files + (fi < total % files);
    uint64_t slot_ms = (uint64_t)slot * 1000;
    for (unsigned long long i = 0; i < n && st == NFH_OK;) {
      size_t k = 0;
      for (; k < BATCH && i < n; k++, i++)
        fg_traffic(&g, &flows[k], slot_ms, SLOT_SECONDS * 1000);
      st = nfh_writer_write(w, flows, k);
    }
    if (st != NFH_OK) {
      warnx("%s: %s", path, nfh_writer_error(w));
      nfh_writer_abort(w);
      return 1;
    }
    st = nfh_writer_close(w);
    if (st == NFH_EIO)
      err(1, "%s", path);
    if (st != NFH_OK)
      errx(1, "%s: %s", path, nfh_strerror(st));
    written += n;
  }
  printf("nfh-mktree: %llu flows in %llu files under %s\n", written, files,
         root);
  return 0;
}
