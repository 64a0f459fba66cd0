/*
 * replay.c - runs a fuzz harness over every file of its seed corpus
 * (and any crash reproducers kept there) without libFuzzer, so that
 * `make check` under ASan/UBSan replays them on every build.
 *
 * Linked with one harness (its LLVMFuzzerTestOneInput); the corpus is
 * the directory given as the argument, else NFH_FUZZ_CORPUS, which the
 * build sets per harness (the reader's tests/fuzz/corpus by default).
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NFH_FUZZ_CORPUS
#define NFH_FUZZ_CORPUS NFH_TOP_SRCDIR "/tests/fuzz/corpus"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
  size_t got = buf ? fread(buf, 1, (size_t)(len > 0 ? len : 0), f) : 0;
  fclose(f);
  if (!buf)
    return -1;
  LLVMFuzzerTestOneInput(buf, got);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : NFH_FUZZ_CORPUS;
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: cannot open %s\n", dir);
    return 1;
  }
  int files = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    if (replay_file(path) == 0)
      files++;
  }
  closedir(d);
  printf("replayed %d corpus files without a fault\n", files);
  return files > 0 ? 0 : 1;
}
