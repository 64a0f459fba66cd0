/*
 * fuzz_reader.c - libFuzzer harness for the nfcapd reader.
 *
 * Each input is a whole capture file. It is read through the public
 * reader API with decoding in the calling thread (deterministic), every
 * flow is touched, and the only acceptable outcomes are a status and a
 * message: no crash, no hang, no sanitizer report, no leak.
 *
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined;
 * tests/fuzz/replay.c runs the same entry point over the seed corpus in
 * `make check`, so the corpus cannot rot.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <nfhunt/reader.h>

#include "fuzzkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nfh_reader *reader;
  if (!reader) {
    nfh_reader_options opt = {0};
    if (nfh_reader_create(&opt, &reader) != NFH_OK)
      return 0;
  }
  char path[64];
  int fd = fuzz_memfile(data, size, path, sizeof(path));
  if (fd < 0)
    return 0;
  if (nfh_reader_open(reader, path) == NFH_OK) {
    const nfh_flow *flows;
    size_t count;
    volatile uint64_t sink = 0;
    while (nfh_reader_next(reader, &flows, &count) == NFH_OK)
      for (size_t i = 0; i < count; i++)
        sink += flows[i].bytes + flows[i].sampling + flows[i].src.bytes[15];
    (void)sink;
    size_t ne, ns;
    nfh_reader_exporters(reader, &ne);
    const nfh_exporter_stat *es = nfh_reader_exporter_stats(reader, &ns);
    for (size_t i = 0; i < ns; i++)
      sink += es[i].packets + es[i].flows + es[i].exporter.addr.bytes[15];
  }
  /* The message must always be a terminated string. */
  (void)strlen(nfh_reader_error(reader));
  nfh_reader_close(reader);
  close(fd);
  return 0;
}
