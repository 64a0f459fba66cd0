/*
 * fuzz_jsonflow.c - libFuzzer harness for the JSON flow reader.
 *
 * Each input is a whole flow file: a JSON array of flow objects, JSON
 * lines, or python-netflow's records, plain or gzip-compressed. It is
 * read by path, as nfhunt --flow-file reads it (so that the gzip
 * detection runs), and, when it is not gzip data, once more from memory
 * through nfh_json_reader_open_buffer. Every flow is touched; the only
 * acceptable outcomes are a status and a message: no crash, no hang, no
 * sanitizer report, no leak.
 *
 * Built by `make fuzz-jsonflow` with clang -fsanitize=fuzzer,address,
 * undefined; tests/fuzz/replay.c runs the same entry point over
 * tests/fuzz/corpus-jsonflow in `make check`.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <nfhunt/jsonflow.h>

#include "fuzzkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the open file to its end and checks what the reader says
 * about it: messages are terminated strings, and the counters agree
 * with the flows handed out. */
static void drain(nfh_json_reader *reader) {
  const nfh_flow *flows;
  size_t n;
  uint64_t total = 0;
  volatile uint64_t sink = 0;
  nfh_status st;
  while ((st = nfh_json_reader_next(reader, &flows, &n)) == NFH_OK) {
    for (size_t i = 0; i < n; i++)
      sink += flows[i].bytes + flows[i].packets + flows[i].first_ms +
              flows[i].last_ms + flows[i].src.bytes[15] +
              flows[i].dst.bytes[15] + flows[i].dst_port;
    total += n;
  }
  (void)sink;
  /* An error ends the file for good: asking again gives nothing. */
  if (st != NFH_END && nfh_json_reader_next(reader, &flows, &n) == NFH_OK)
    __builtin_trap();
  const nfh_json_info *info = nfh_json_reader_info(reader);
  if (info->flows != total)
    __builtin_trap();
  (void)strlen(nfh_json_reader_error(reader));
  (void)strlen(nfh_json_reader_warning(reader));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nfh_json_reader *reader;
  if (!reader && nfh_json_reader_create(&reader) != NFH_OK)
    return 0;
  char path[64];
  int fd = fuzz_memfile(data, size, path, sizeof(path));
  if (fd < 0)
    return 0;
  if (nfh_json_reader_open(reader, path) == NFH_OK)
    drain(reader);
  (void)strlen(nfh_json_reader_error(reader));
  nfh_json_reader_close(reader);
  close(fd);

  /* The same bytes from memory (gzip is recognised only by path). */
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
    return 0;
  if (nfh_json_reader_open_buffer(reader, "fuzz", data, size) == NFH_OK)
    drain(reader);
  nfh_json_reader_close(reader);
  return 0;
}
