/*
 * nfh-writefile - writes one nfcapd file of deterministic, varied flows
 * with nfhunt's writer, for the e2e check against the real nfdump
 * (tests/e2e/writer_nfdump.sh).
 *
 * usage: nfh-writefile [-c codec] [-n count] [-s seed] [-i ident] FILE
 */
#include "config.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <nfhunt/writer.h>

#include "flowgen.h"

#define BATCH 256

static void usage(void) {
  fprintf(stderr, "usage: nfh-writefile [-c codec] [-n count] [-s seed] "
                  "[-i ident] FILE\n");
  exit(2);
}

static unsigned long long number(const char *opt, const char *text) {
  char *end;
  unsigned long long v = strtoull(text, &end, 0);
  if (*text == '\0' || *end != '\0')
    errx(2, "-%s %s: not a number", opt, text);
  return v;
}

int main(int argc, char **argv) {
  nfh_writer_options o = {.codec = NFH_WRITER_CODEC_LZ4,
                          .creator = NFH_WRITER_CREATOR_NFDUMP,
                          .ident = "nfh-writefile"};
  unsigned long long count = 1000, seed = 1;
  int c;
  while ((c = getopt(argc, argv, "c:i:n:s:")) != -1) {
    switch (c) {
    case 'c':
      if (nfh_writer_codec_parse(optarg, &o.codec) != NFH_OK)
        errx(2, "-c %s: none, lzo, bz2, lz4 or zstd", optarg);
      break;
    case 'i':
      o.ident = optarg;
      break;
    case 'n':
      count = number("n", optarg);
      break;
    case 's':
      seed = number("s", optarg);
      break;
    default:
      usage();
    }
  }
  if (optind != argc - 1)
    usage();
  const char *path = argv[optind];

  nfh_writer *w;
  nfh_status st = nfh_writer_open(path, &o, &w);
  if (st != NFH_OK)
    errx(1, "%s: %s", path, nfh_strerror(st));
  for (int i = 0; i < 2 && st == NFH_OK; i++) {
    nfh_exporter e = fg_varied_exporter(i);
    st = nfh_writer_add_exporter(w, &e);
  }
  fg_state g = {seed};
  nfh_flow flows[BATCH];
  for (unsigned long long i = 0; i < count && st == NFH_OK;) {
    size_t n = 0;
    for (; n < BATCH && i < count; n++, i++)
      fg_varied(&g, &flows[n], i, 1709229600000ULL);
    st = nfh_writer_write(w, flows, n);
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
  return 0;
}
