/* alloc.c - allocation hook; see alloc.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* The fail-after counter is the one piece of mutable global state in the
 * library; it exists only for tests and is off (-1) otherwise. */
static long alloc_budget = -1;

static int alloc_allowed(void) {
  if (alloc_budget < 0)
    return 1;
  if (alloc_budget == 0)
    return 0;
  alloc_budget--;
  return 1;
}

void nfh__alloc_fail_after(long count) { alloc_budget = count; }

void *nfh__malloc(size_t size) {
  return alloc_allowed() ? malloc(size ? size : 1) : NULL;
}

void *nfh__calloc(size_t count, size_t size) {
  return alloc_allowed() ? calloc(count ? count : 1, size ? size : 1) : NULL;
}

void *nfh__realloc(void *ptr, size_t size) {
  return alloc_allowed() ? realloc(ptr, size ? size : 1) : NULL;
}

void nfh__free(void *ptr) { free(ptr); }

char *nfh__strdup(const char *s) {
  size_t len = strlen(s) + 1;
  char *copy = nfh__malloc(len);
  if (copy)
    memcpy(copy, s, len);
  return copy;
}
