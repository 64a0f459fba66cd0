/*
 * fuzzkit.h - what the fuzz harnesses share: an input handed to a reader
 * as a file, the way nfhunt opens its inputs (by path), without touching
 * the disk.
 */
#ifndef NFH_FUZZKIT_H
#define NFH_FUZZKIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data into a new memory file; its path goes to 'path' (at least
 * 64 bytes). Returns the descriptor, which the caller closes, or -1. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path,
                               size_t len) {
  int fd = memfd_create("nfh_fuzz", MFD_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0)
      break;
    done += (size_t)n;
  }
  snprintf(path, len, "/proc/self/fd/%d", fd);
  return fd;
}

#endif
