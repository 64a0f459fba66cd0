/*
 * alloc.h - the library's single allocation hook.
 *
 * Every allocation of the library goes through these functions so that a
 * test can make the Nth allocation fail (nfh__alloc_fail_after) and check
 * that each failure path returns NFH_ENOMEM and leaks nothing.
 */
#ifndef NFH_COMMON_ALLOC_H
#define NFH_COMMON_ALLOC_H

#include <stddef.h>

void *nfh__malloc(size_t size);
void *nfh__calloc(size_t count, size_t size);
/* Like realloc(3); on failure the old block stays valid and NULL is
 * returned. */
void *nfh__realloc(void *ptr, size_t size);
void nfh__free(void *ptr);
/* A copy of the string, owned by the caller (nfh__free), or NULL. */
char *nfh__strdup(const char *s);

/* Test hook: after 'count' more successful allocations every allocation
 * fails; a negative count switches failures off again. Not thread-safe:
 * for single-threaded tests only. */
void nfh__alloc_fail_after(long count);

#endif
