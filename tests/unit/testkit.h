/*
 * testkit.h - what the unit tests share: removing a scratch directory,
 * an engine's log kept in memory, a growing list of flow records,
 * addresses from text.
 *
 * Header only, every function static inline: a test program includes it
 * once and uses what it needs. The helpers abort on what only a broken
 * test can cause (no memory, an address literal that does not parse):
 * there is no test left to run after that.
 */
#ifndef NFH_TESTS_TESTKIT_H
#define NFH_TESTS_TESTKIT_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/flow.h>

static inline int tk_remove_entry(const char *path, const struct stat *sb,
                                  int type, struct FTW *ftw) {
  (void)sb, (void)type, (void)ftw;
  return remove(path);
}

/* Removes the directory tree at path (depth first, links not followed).
 * Returns 0, or -1 when something could not be removed. */
static inline int tk_remove_tree(const char *path) {
  return nftw(path, tk_remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0
                                                                    : -1;
}

/* An engine's log lines, kept for a test to search. */
typedef struct tk_log {
  char text[16384];
} tk_log;

/* An nfh_log_fn: appends "source: line" and a newline to the tk_log
 * that 'user' points to, cut at its end. */
static inline void tk_log_line(void *user, int level, const char *source,
                               const char *line) {
  (void)level;
  tk_log *log = user;
  size_t used = strlen(log->text);
  snprintf(log->text + used, sizeof(log->text) - used, "%s: %s\n", source,
           line);
}

/* Flow records in the order a test writes them. */
typedef struct tk_flows {
  nfh_flow *v;
  size_t n, cap;
  uint32_t sampling; /* given to every record pushed; 0 or 1: none */
} tk_flows;

/* A new record at the end, zeroed but for one aggregated flow and the
 * list's sampling (with NFH_FLOW_SAMPLED when it samples). The pointer is
 * valid until the next push. */
static inline nfh_flow *tk_flows_push(tk_flows *fs) {
  if (fs->n == fs->cap) {
    size_t cap = fs->cap ? 2 * fs->cap : 4096;
    nfh_flow *grown = realloc(fs->v, cap * sizeof(*grown));
    if (!grown)
      abort();
    fs->v = grown;
    fs->cap = cap;
  }
  nfh_flow *f = &fs->v[fs->n++];
  memset(f, 0, sizeof(*f));
  f->aggr_flows = 1;
  f->sampling = fs->sampling > 1 ? fs->sampling : 1;
  if (f->sampling > 1)
    f->flags |= NFH_FLOW_SAMPLED;
  return f;
}

/* Frees the records; the list is empty again (its sampling stays). */
static inline void tk_flows_free(tk_flows *fs) {
  free(fs->v);
  fs->v = NULL;
  fs->n = fs->cap = 0;
}

/* The address written in text (IPv4 or IPv6). */
static inline nfh_addr tk_ip(const char *text) {
  nfh_addr a;
  if (nfh_addr_parse(text, &a) != 0) {
    fprintf(stderr, "testkit: '%s' is no address\n", text);
    abort();
  }
  return a;
}

/* The IPv4 address a.b.c.d. */
static inline nfh_addr tk_ip4(unsigned a, unsigned b, unsigned c,
                              unsigned d) {
  nfh_addr x;
  nfh_addr_set_v4(&x, a << 24 | b << 16 | c << 8 | d);
  return x;
}

#endif
