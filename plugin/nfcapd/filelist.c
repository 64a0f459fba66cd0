/* filelist.c - nfdump-style capture file selection; see nfhunt/filelist.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/filelist.h>

#include "../common/alloc.h"

#define MAX_SOURCES 256
/* Directory levels below a flow root read at most: deeper than any -S
 * hierarchy (at most 4 levels) and a generous margin, a mistake; refused
 * with a message (at 16, silently, nfdump's files at 17 were left
 * unread). */
#define MAX_DEPTH 64

typedef struct entry {
  char *path;
  char stamp[15]; /* YYYYMMDDhhmmss or "" */
  int known;      /* dev and ino hold the file's identity */
  dev_t dev;
  ino_t ino;
} entry;

/* The directories one walk has entered, by identity, and those above its
 * root: a directory met again (a link to an ancestor, the walk root's
 * parent included, is a cycle; links that lead to one directory by many
 * paths, d0 -> d1 three times, d1 -> d2 three times, made a walk of 3^16
 * paths, gigabytes and no end) is not walked again. Open addressing over
 * (dev, ino). */
typedef struct visited {
  struct {
    dev_t dev;
    ino_t ino;
    int used;
  } * v;
  size_t n, cap;
} visited;

static uint64_t visited_hash(dev_t dev, ino_t ino) {
  uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^ (uint64_t)ino;
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

/* Adds (dev, ino): 1 when new, 0 when seen already, -1 out of memory. */
static int visited_add(visited *s, dev_t dev, ino_t ino) {
  if (2 * (s->n + 1) > s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    visited grown = {nfh__calloc(cap, sizeof(*s->v)), 0, cap};
    if (!grown.v)
      return -1;
    for (size_t i = 0; i < s->cap; i++)
      if (s->v[i].used)
        visited_add(&grown, s->v[i].dev, s->v[i].ino);
    nfh__free(s->v);
    *s = grown;
  }
  size_t i = (size_t)visited_hash(dev, ino) & (s->cap - 1);
  for (; s->v[i].used; i = (i + 1) & (s->cap - 1))
    if (s->v[i].dev == dev && s->v[i].ino == ino)
      return 0;
  s->v[i].dev = dev;
  s->v[i].ino = ino;
  s->v[i].used = 1;
  s->n++;
  return 1;
}

struct nfh_filelist {
  entry *files;
  size_t count, cap;
  char *sources[MAX_SOURCES];
  size_t nsources;
  char errmsg[512];
  /* Files dropped as another entry's file under another name, and the
   * first such pair (owned copies, NULL when none). */
  size_t same_files;
  char *same_dropped, *same_kept;
  size_t named_twice; /* paths named more than once, read once */
  char *named_twice_first;
  /* Subdirectories that could not be read, and the first with why. */
  size_t unreadable;
  char *unreadable_first;
};

static void set_error(nfh_filelist *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(nfh_filelist *l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(l->errmsg, sizeof(l->errmsg), fmt, ap);
  va_end(ap);
}

nfh_status nfh_filelist_create(nfh_filelist **out) {
  *out = nfh__calloc(1, sizeof(nfh_filelist));
  return *out ? NFH_OK : NFH_ENOMEM;
}

void nfh_filelist_destroy(nfh_filelist *l) {
  if (!l)
    return;
  for (size_t i = 0; i < l->count; i++)
    nfh__free(l->files[i].path);
  for (size_t i = 0; i < l->nsources; i++)
    nfh__free(l->sources[i]);
  nfh__free(l->same_dropped);
  nfh__free(l->same_kept);
  nfh__free(l->named_twice_first);
  nfh__free(l->unreadable_first);
  nfh__free(l->files);
  nfh__free(l);
}

size_t nfh_filelist_same_files(const nfh_filelist *l, const char **dropped,
                               const char **kept) {
  if (dropped)
    *dropped = l->same_dropped;
  if (kept)
    *kept = l->same_kept;
  return l->same_files;
}

size_t nfh_filelist_named_twice(const nfh_filelist *l, const char **first) {
  if (first)
    *first = l->named_twice_first;
  return l->named_twice;
}

size_t nfh_filelist_unreadable_dirs(const nfh_filelist *l, const char **first) {
  if (first)
    *first = l->unreadable_first;
  return l->unreadable;
}

size_t nfh_filelist_count(const nfh_filelist *l) { return l->count; }

int nfh_filelist_was_there(const nfh_filelist *l, const char *path) {
  for (size_t i = 0; i < l->count; i++)
    if (strcmp(l->files[i].path, path) == 0)
      return l->files[i].known;
  return 0;
}

const char *nfh_filelist_path(const nfh_filelist *l, size_t i) {
  return i < l->count ? l->files[i].path : NULL;
}

const char *nfh_filelist_error(const nfh_filelist *l) { return l->errmsg; }

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The 12 or 14 digits after "nfcapd." (a -Z zone suffix may follow). */
static int name_stamp(const char *path, char stamp[15]) {
  const char *name = base_name(path);
  stamp[0] = '\0';
  if (strncmp(name, "nfcapd.", 7) != 0)
    return -1;
  const char *d = name + 7;
  size_t n = 0;
  while (d[n] >= '0' && d[n] <= '9')
    n++;
  if (n != 12 && n != 14)
    return -1;
  memcpy(stamp, d, n);
  if (n == 12)
    memcpy(stamp + 12, "00", 2);
  stamp[14] = '\0';
  return 0;
}

int64_t nfh_file_slot_time(const char *path) {
  char stamp[15];
  if (name_stamp(path, stamp) != 0)
    return -1;
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (sscanf(stamp, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon,
             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  return (int64_t)mktime(&tm);
}

/* sb: the file's stat, or NULL when not known (it is then read as
 * named, even if another name reaches the same file). */
static nfh_status push(nfh_filelist *l, const char *path,
                       const struct stat *sb) {
  if (l->count == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    entry *grown = nfh__realloc(l->files, cap * sizeof(*grown));
    if (!grown)
      return NFH_ENOMEM;
    l->files = grown;
    l->cap = cap;
  }
  entry *e = &l->files[l->count];
  e->path = nfh__strdup(path);
  if (!e->path)
    return NFH_ENOMEM;
  name_stamp(path, e->stamp);
  e->known = sb != NULL;
  e->dev = sb ? sb->st_dev : 0;
  e->ino = sb ? sb->st_ino : 0;
  l->count++;
  return NFH_OK;
}

/* Whether the name is one nfcapd gives its files, nfcapd.YYYYMMDDhhmm
 * or nfcapd.YYYYMMDDhhmmss and nothing after: such a file is meant to be
 * a capture file, and when it is not one (empty, zeroed, a dangling
 * link: a capture lost) the reader must say so, not the walk skip it. */
static int capture_name(const char *path) {
  char stamp[15];
  size_t n = strlen(base_name(path));
  return name_stamp(path, stamp) == 0 && (n == 7 + 12 || n == 7 + 14);
}

/* Whether the file's slot lies in [lo, hi] (14-digit stamps, either may
 * be NULL); a name without a stamp lies in no bounded range. */
static int slot_in_range(const char *path, const char *lo, const char *hi) {
  char stamp[15];
  if (name_stamp(path, stamp) != 0)
    return !lo && !hi;
  return (!lo || strcmp(stamp, lo) >= 0) && (!hi || strcmp(stamp, hi) <= 0);
}

/* Names that nfdump never reads from a directory. */
static int skipped_name(const char *name) {
  return name[0] == '.' || strncmp(name, "nfcapd.current", 14) == 0 ||
         strstr(name, "pcap") != NULL;
}

/* Whether a file starts with the nfcapd magic (either byte order, so
 * that the reader can report a foreign byte order rather than the walk
 * silently ignoring the file). */
static int has_magic(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 1; /* keep it: opening it later reports why it is unreadable */
  unsigned char m[2];
  ssize_t n = read(fd, m, 2);
  close(fd);
  return n == 2 && ((m[0] == 0x0c && m[1] == 0xa5) ||
                    (m[0] == 0xa5 && m[1] == 0x0c));
}

/* Collects the capture files below dir. With [lo, hi] (14-digit stamps,
 * either may be NULL) only files whose slot lies in the range. */
static nfh_status walk_below(nfh_filelist *l, const char *dir, const char *lo,
                             const char *hi, int depth, visited *seen) {
  if (depth > MAX_DEPTH) {
    set_error(l,
              "%s: more than %d directory levels below the flow root: "
              "not read",
              dir, MAX_DEPTH);
    return NFH_ESYNTAX;
  }
  DIR *d = opendir(dir);
  if (!d) {
    set_error(l, "%s: %s", dir, strerror(errno));
    return errno == ENOENT ? NFH_ENOTFOUND : NFH_EIO;
  }
  struct stat dsb;
  if (fstat(dirfd(d), &dsb) == 0) {
    int fresh = visited_add(seen, dsb.st_dev, dsb.st_ino);
    if (fresh <= 0) {
      closedir(d); /* a cycle, or walked already by another path */
      return fresh < 0 ? NFH_ENOMEM : NFH_OK;
    }
  }
  nfh_status st = NFH_OK;
  struct dirent *de;
  /* Two passes: links to directories last, so that a directory reached
   * both as itself and through a link is walked, and its files named,
   * as itself (the walk enters each directory once). */
  for (int pass = 0; pass < 2 && st == NFH_OK; pass++) {
    if (pass)
      rewinddir(d);
    while (st == NFH_OK && (de = readdir(d)) != NULL) {
      if (skipped_name(de->d_name))
        continue;
      /* The second pass is for links: the entry's type, where the file
       * system gives it, spares the others a system call. */
      if (pass && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
        continue;
      size_t len = strlen(dir) + strlen(de->d_name) + 2;
      char *path = nfh__malloc(len);
      if (!path) {
        st = NFH_ENOMEM;
        break;
      }
      snprintf(path, len, "%s/%s", dir, de->d_name);
      /* What the entry is, following a link (one call, two for links):
       * ok 0 for a dangling link, a link loop or a file gone meanwhile. */
      struct stat sb;
      int ok = lstat(path, &sb) == 0;
      int link = ok && S_ISLNK(sb.st_mode);
      if (link)
        ok = stat(path, &sb) == 0;
      int dir_link = link && ok && S_ISDIR(sb.st_mode);
      if (dir_link != pass) {
        nfh__free(path);
        continue;
      }
      if (!ok) {
        /* The reader reports a capture name; anything else is not ours. */
        if (capture_name(path) && slot_in_range(path, lo, hi))
          st = push(l, path, NULL);
      } else {
        if (S_ISDIR(sb.st_mode)) {
          st = walk_below(l, path, lo, hi, depth + 1, seen);
          /* An unreadable subdirectory is counted for the caller to
           * say (its files were passed over in silence); a vanished one
           * is nothing. */
          if (st == NFH_EIO) {
            if (!l->unreadable++)
              l->unreadable_first = nfh__strdup(l->errmsg);
            l->errmsg[0] = '\0';
          }
          if (st == NFH_ENOTFOUND || st == NFH_EIO)
            st = NFH_OK;
        } else if (S_ISREG(sb.st_mode)) {
          if (slot_in_range(path, lo, hi) &&
              (capture_name(path) || has_magic(path)))
            st = push(l, path, &sb);
        } else if (capture_name(path) && slot_in_range(path, lo, hi)) {
          /* A FIFO or a device under a capture name: the reader says it
           * is no regular file (it was passed over without a word). */
          st = push(l, path, NULL);
        }
      }
      nfh__free(path);
    }
  }
  closedir(d);
  return st;
}

/* Marks the directories above dir, up to "/", as walked: a link inside
 * the tree to any of them leads back into the tree ("loop -> .." read a
 * whole /tmp). 0, or -1 when out of memory. */
static int mark_above(const char *dir, visited *seen) {
  char *real = realpath(dir, NULL);
  if (!real)
    return 0;
  int rc = 0;
  /* From "/" down: each prefix of the real path that ends before a
   * '/' is a directory above dir. */
  for (size_t i = 0; real[i] && rc == 0; i++) {
    if (real[i] != '/')
      continue;
    char keep = real[i + 1];
    real[i + 1] = '\0';
    struct stat sb;
    if (stat(real, &sb) == 0 && visited_add(seen, sb.st_dev, sb.st_ino) < 0)
      rc = -1;
    real[i + 1] = keep;
  }
  free(real);
  return rc;
}

static nfh_status walk(nfh_filelist *l, const char *dir, const char *lo,
                       const char *hi, int depth) {
  visited seen = {NULL, 0, 0};
  nfh_status st = mark_above(dir, &seen) == 0
                      ? walk_below(l, dir, lo, hi, depth, &seen)
                      : NFH_ENOMEM;
  nfh__free(seen.v);
  return st;
}

/* Joins base and rel ("rel" alone when absolute or base is NULL). */
static char *join(const char *base, const char *rel) {
  if (!base || rel[0] == '/')
    return nfh__strdup(rel);
  size_t len = strlen(base) + strlen(rel) + 2;
  char *p = nfh__malloc(len);
  if (p)
    snprintf(p, len, "%s/%s", base, rel);
  return p;
}

static int is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

nfh_status nfh_filelist_set_sources(nfh_filelist *l, const char *spec) {
  char *copy = nfh__strdup(spec);
  if (!copy)
    return NFH_ENOMEM;
  nfh_status st = NFH_OK;
  char *base = NULL;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ":", &save); tok && st == NFH_OK;
       tok = strtok_r(NULL, ":", &save)) {
    char *path;
    if (!base) {
      /* The first source names the base directory of all others. */
      path = nfh__strdup(tok);
      char *slash = path ? strrchr(tok, '/') : NULL;
      base = slash ? nfh__malloc((size_t)(slash - tok) + 2) : NULL;
      if (base) {
        size_t n = slash == tok ? 1 : (size_t)(slash - tok);
        memcpy(base, tok, n);
        base[n] = '\0';
      } else if (path && !slash) {
        base = nfh__strdup(".");
      }
    } else {
      path = join(base, tok);
    }
    if (!path || !base) {
      nfh__free(path);
      st = NFH_ENOMEM;
      break;
    }
    if (!is_dir(path)) {
      set_error(l, "-M %s: %s is not a directory", spec, path);
      nfh__free(path);
      st = NFH_ENOTFOUND;
      break;
    }
    if (l->nsources == MAX_SOURCES) {
      set_error(l, "-M %s: more than %d sources", spec, MAX_SOURCES);
      nfh__free(path);
      st = NFH_ERANGE;
      break;
    }
    l->sources[l->nsources++] = path;
  }
  nfh__free(base);
  nfh__free(copy);
  return st;
}

/* Runs fn(l, resolved spec) for the spec as given, or once per -M source
 * with the spec relative to it. */
static nfh_status for_each_source(nfh_filelist *l, const char *spec,
                                  nfh_status (*fn)(nfh_filelist *,
                                                   const char *)) {
  if (l->nsources == 0)
    return fn(l, spec);
  for (size_t i = 0; i < l->nsources; i++) {
    char *path = join(l->sources[i], spec);
    if (!path)
      return NFH_ENOMEM;
    nfh_status st = fn(l, path);
    nfh__free(path);
    if (st != NFH_OK)
      return st;
  }
  return NFH_OK;
}

static nfh_status add_range_one(nfh_filelist *l, const char *spec);

static nfh_status add_file_one(nfh_filelist *l, const char *path) {
  if (is_dir(path))
    return add_range_one(l, path);
  struct stat sb;
  return push(l, path, stat(path, &sb) == 0 ? &sb : NULL);
}

nfh_status nfh_filelist_add_file(nfh_filelist *l, const char *spec) {
  return for_each_source(l, spec, add_file_one);
}

/* Number of '/'-separated directory levels in a relative path's
 * directory part ("a/b/f" -> 2). */
static int dir_levels(const char *rel) {
  int n = 0;
  for (const char *p = rel; *p; p++)
    if (*p == '/')
      n++;
  return n;
}

/* Whether path names an existing file (any kind but a directory). */
static int exists_not_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode);
}

static nfh_status add_range_one(nfh_filelist *l, const char *spec) {
  const char *colon = strchr(spec, ':');
  if (!colon) {
    if (is_dir(spec))
      return walk(l, spec, NULL, NULL, 0);
    /* DIR/FIRST: from FIRST to the end of DIR's tree. FIRST must exist,
     * as nfdump requires: a mistyped minute started silently at the next
     * file. Not with -M: a source may lack a slot another has (an
     * exporter added later). */
    char first_stamp[15];
    if (name_stamp(spec, first_stamp) != 0) {
      set_error(l, "-R %s: no such directory or capture file", spec);
      return NFH_ENOTFOUND;
    }
    if (l->nsources == 0 && !exists_not_dir(spec)) {
      set_error(l, "-R %s: no such capture file (the first file of the "
                   "range must exist, as for nfdump)",
                spec);
      return NFH_ENOTFOUND;
    }
    const char *name = base_name(spec);
    size_t dlen = (size_t)(name - spec);
    char *dir = nfh__strdup(dlen ? spec : ".");
    if (!dir)
      return NFH_ENOMEM;
    if (dlen)
      dir[dlen > 1 ? dlen - 1 : 1] = '\0';
    nfh_status st = walk(l, dir, first_stamp, NULL, 0);
    nfh__free(dir);
    return st;
  }

  /* A:B. B lives under the root that is A's directory minus B's levels. */
  size_t alen = (size_t)(colon - spec);
  char *a = nfh__malloc(alen + 1);
  if (!a)
    return NFH_ENOMEM;
  memcpy(a, spec, alen);
  a[alen] = '\0';
  const char *b = colon + 1;
  char lo[15], hi[15];
  if (name_stamp(a, lo) != 0 || name_stamp(b, hi) != 0) {
    set_error(l, "-R %s: both ends must be nfcapd.YYYYMMDDhhmm files", spec);
    nfh__free(a);
    return NFH_ESYNTAX;
  }
  if (strcmp(lo, hi) > 0) {
    set_error(l, "-R %s: the range ends before it starts", spec);
    nfh__free(a);
    return NFH_ESYNTAX;
  }
  if (l->nsources == 0 && !exists_not_dir(a)) {
    set_error(l, "-R %s: no such capture file %s (the first file of the "
                 "range must exist, as for nfdump)",
              spec, a);
    nfh__free(a);
    return NFH_ENOTFOUND;
  }
  char *root = a;
  char *slash = strrchr(root, '/');
  if (slash)
    *slash = '\0';
  else
    strcpy(root, ".");
  for (int up = dir_levels(b); up > 0; up--) {
    slash = strrchr(root, '/');
    if (!slash) {
      strcpy(root, ".");
      break;
    }
    if (slash == root)
      root[1] = '\0'; /* the file system root itself */
    else
      *slash = '\0';
  }
  if (!is_dir(root)) {
    set_error(l, "-R %s: no such directory %s", spec, root);
    nfh__free(a);
    return NFH_ENOTFOUND;
  }
  nfh_status st = walk(l, root, lo, hi, 0);
  nfh__free(a);
  return st;
}

nfh_status nfh_filelist_add_range(nfh_filelist *l, const char *spec) {
  return for_each_source(l, spec, add_range_one);
}

nfh_status nfh_filelist_add_sources(nfh_filelist *l) {
  for (size_t i = 0; i < l->nsources; i++) {
    nfh_status st = walk(l, l->sources[i], NULL, NULL, 0);
    if (st != NFH_OK)
      return st;
  }
  return NFH_OK;
}

static int compare_entries(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  int c = strcmp(a->stamp, b->stamp);
  return c ? c : strcmp(a->path, b->path);
}

static int compare_identity(const void *pa, const void *pb) {
  const entry *a = *(const entry *const *)pa, *b = *(const entry *const *)pb;
  if (a->known != b->known)
    return a->known < b->known ? -1 : 1;
  if (a->dev != b->dev)
    return a->dev < b->dev ? -1 : 1;
  if (a->ino != b->ino)
    return a->ino < b->ino ? -1 : 1;
  return a < b ? -1 : a > b; /* the earlier in the list first */
}

/* Drops every entry that names a file an earlier entry names under
 * another path (a symlinked directory, -M naming one directory twice):
 * reading a file twice would count its flows twice. Entries whose
 * identity is unknown stay. Without memory for the index it keeps them
 * all, as before. */
static void drop_same_files(nfh_filelist *l) {
  const entry **by_id = nfh__malloc(l->count * sizeof(*by_id));
  if (!by_id)
    return;
  for (size_t i = 0; i < l->count; i++)
    by_id[i] = &l->files[i];
  qsort(by_id, l->count, sizeof(*by_id), compare_identity);
  for (size_t i = 1; i < l->count; i++) {
    const entry *a = by_id[i - 1], *b = by_id[i];
    if (a->known && b->known && a->dev == b->dev && a->ino == b->ino) {
      entry *dup = &l->files[b - l->files];
      /* The first pair is kept to name in a message (700 hard links of
       * one file read as one, in silence). */
      if (!l->same_files++) {
        l->same_dropped = dup->path;
        l->same_kept = nfh__strdup(a->path);
      } else {
        nfh__free(dup->path);
      }
      dup->path = NULL;
    }
  }
  nfh__free(by_id);
  size_t kept = 0;
  for (size_t i = 0; i < l->count; i++)
    if (l->files[i].path)
      l->files[kept++] = l->files[i];
  l->count = kept;
}

void nfh_filelist_finish(nfh_filelist *l) {
  if (l->count < 2)
    return;
  qsort(l->files, l->count, sizeof(entry), compare_entries);
  size_t kept = 1;
  for (size_t i = 1; i < l->count; i++) {
    if (strcmp(l->files[i].path, l->files[kept - 1].path) == 0) {
      if (!l->named_twice++)
        l->named_twice_first = l->files[i].path;
      else
        nfh__free(l->files[i].path);
      continue;
    }
    l->files[kept++] = l->files[i];
  }
  l->count = kept;
  drop_same_files(l);
}

/* ----------------------------------------------------------- -t parsing */

/* Parses one end of a window: the instant it names, the fields left out
 * zero, as nfdump takes both ends (10:00-11:00 ends at 11:00:00, and a
 * record ending at 11:00:00.400 is outside it; 2024/03/01-2024/03/02 is
 * the first day). Ends that covered their unit (to 11:00:59.999) counted
 * 1,166 more flows than nfdump in an hour's window. */
static int parse_time(const char *text, uint64_t *ms) {
  int v[6] = {0, 1, 1, 0, 0, 0};
  int n = 0;
  const char *p = text;
  /* Separators allowed after each field: date '/' or '-', then '.' or
   * 'T', then ':'. */
  while (*p && n < 6) {
    char *endp;
    errno = 0;
    long x = strtol(p, &endp, 10);
    if (endp == p || errno || x < 0 || x > 9999)
      return -1;
    v[n++] = (int)x;
    p = endp;
    if (!*p)
      break;
    char sep = *p;
    int ok = (n < 3 && (sep == '/' || sep == '-')) ||
             (n == 3 && (sep == '.' || sep == 'T' || sep == ' ')) ||
             (n > 3 && n < 6 && sep == ':');
    if (!ok)
      return -1;
    p++;
  }
  if (*p || n < 3)
    return -1;
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
      v[4] > 59 || v[5] > 60)
    return -1;
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  tm.tm_isdst = -1;
  time_t t = mktime(&tm);
  if (t == (time_t)-1)
    return -1;
  /* mktime(3) moves a day that does not exist (2024/02/30) into the
   * next month: refused instead, as 2024/13/45 is. (An hour skipped by
   * the clock change may move; the day may not.) */
  if (tm.tm_mday != v[2] || tm.tm_mon != v[1] - 1 ||
      tm.tm_year != v[0] - 1900)
    return -1;
  *ms = (uint64_t)t * 1000;
  return 0;
}

nfh_status nfh_parse_time_window(const char *spec, uint64_t *start_ms,
                                 uint64_t *end_ms) {
  *start_ms = 0;
  *end_ms = UINT64_MAX;
  char buf[128];
  if (strlen(spec) >= sizeof(buf))
    return NFH_ESYNTAX;
  strcpy(buf, spec);
  /* The separating '-' is the one followed by a 4-digit year, so ISO
   * dates ('2024-01-01') stay whole. */
  char *second = NULL;
  for (char *p = buf; *p; p++) {
    if (*p == '-' && p > buf && strlen(p + 1) >= 4 &&
        (p[5] == '/' || p[5] == '-') && p - buf >= 8) {
      /* Only a '-' after a complete first date can separate. */
      int digits = 1;
      for (int k = 1; k <= 4; k++)
        if (p[k] < '0' || p[k] > '9')
          digits = 0;
      if (digits && (p[-1] >= '0' && p[-1] <= '9')) {
        /* Skip the '-' inside an ISO date: it follows 4 digits of the
         * year or 2 of the month, never a full date. */
        size_t before = (size_t)(p - buf);
        if (before >= 10) {
          *p = '\0';
          second = p + 1;
          break;
        }
      }
    }
  }
  if (parse_time(buf, start_ms) != 0)
    return NFH_ESYNTAX;
  if (second) {
    if (parse_time(second, end_ms) != 0)
      return NFH_ESYNTAX;
    if (*end_ms < *start_ms)
      return NFH_ESYNTAX;
  }
  return NFH_OK;
}
