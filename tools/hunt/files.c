/* files.c - nfcapd -x arguments and findings files; see hunt/files.h. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/filelist.h>

#include "files.h"

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *out = malloc(n);
  if (out)
    snprintf(out, n, "%s/%s", dir, name);
  return out;
}

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

/* The flow directory of a capture file: its directory, less the nfcapd
 * -S subdirectories (%Y/%m/%d and the seven others) that the file's own
 * time slot produces. */
static char *flow_root(const char *path) {
  static const char *const subdir_formats[] = {
      "%Y/%m/%d/%H", "%Y/%W/%u/%H", "%Y/%m/%d", "%Y/%W/%u",
      "%Y/%j/%H",    "%Y-%m-%d/%H", "%Y/%j",    "%Y-%m-%d"};
  char *dir = dir_of(path);
  int64_t slot = nfh_file_slot_time(path);
  if (!dir || slot < 0)
    return dir;
  time_t t = (time_t)slot;
  struct tm tm;
  if (!localtime_r(&t, &tm))
    return dir;
  size_t dl = strlen(dir);
  for (size_t i = 0; i < sizeof(subdir_formats) / sizeof(subdir_formats[0]);
       i++) {
    char sub[64];
    size_t n = strftime(sub, sizeof(sub), subdir_formats[i], &tm);
    if (n && dl > n && dir[dl - n - 1] == '/' &&
        strcmp(dir + dl - n, sub) == 0) {
      dir[dl - n - 1 ? dl - n - 1 : 1] = '\0';
      break;
    }
  }
  return dir;
}

int hunt_rotated(const char *flowdir, const char *file, char **dir_out,
                 char **file_out) {
  *dir_out = *file_out = NULL;
  if (!file || !*file || (flowdir && !*flowdir))
    return -1;
  if (flowdir) {
    *dir_out = strdup(flowdir);
    *file_out = file[0] == '/' ? strdup(file) : join(flowdir, file);
  } else {
    const char *dbl = strstr(file, "//");
    if (dbl && dbl > file) {
      /* "%d/%f" with an absolute %f (1.7.8), or "%d/" + "/%f". The run
       * of slashes may be longer; its last one starts the rest. */
      const char *rest = dbl;
      while (rest[1] == '/')
        rest++;
      *dir_out = strndup(file, (size_t)(dbl - file));
      size_t dl = *dir_out ? strlen(*dir_out) : 0;
      if (*dir_out && strncmp(rest, *dir_out, dl) == 0 && rest[dl] == '/')
        *file_out = strdup(rest);
      else if (*dir_out)
        /* Not below the part before: a relative %f after a %d that
         * ended in '/'. */
        *file_out = join(*dir_out, rest + 1);
    } else {
      *file_out = strdup(file);
      *dir_out = *file_out ? flow_root(*file_out) : NULL;
    }
  }
  if (!*dir_out || !*file_out) {
    free(*dir_out);
    free(*file_out);
    *dir_out = *file_out = NULL;
    return -1;
  }
  return 0;
}

char *hunt_report_path(const char *capture) {
  const char *slash = strrchr(capture, '/');
  const char *base = slash ? slash + 1 : capture;
  const char *stamp = strncmp(base, "nfcapd.", 7) == 0 ? base + 7 : base;
  size_t dirlen = slash ? (size_t)(slash - capture) + 1 : 0;
  size_t n = dirlen + strlen(HUNT_REPORT_PREFIX) + strlen(stamp) +
             strlen(HUNT_REPORT_SUFFIX) + 1;
  char *out = malloc(n);
  if (out)
    snprintf(out, n, "%.*s" HUNT_REPORT_PREFIX "%s" HUNT_REPORT_SUFFIX,
             (int)dirlen, capture, stamp);
  return out;
}

/* nftw has no user pointer: the walk's counters live here for the
 * duration of one hunt_sweep_reports call (the program is one thread). */
static uint64_t sweep_removed;
static time_t sweep_now;

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Whether nfcapd.STAMP is gone from the directory of 'path' (whose
 * name, from 'base' on, holds STAMP at 'stamp' for 'stamp_len'). */
static int capture_gone(const char *path, const char *base, const char *stamp,
                        size_t stamp_len) {
  size_t dirlen = (size_t)(base - path);
  size_t n = dirlen + 7 + stamp_len + 1;
  char *capture = malloc(n);
  if (!capture)
    return 0;
  snprintf(capture, n, "%.*snfcapd.%.*s", (int)dirlen, path, (int)stamp_len,
           stamp);
  struct stat cs;
  int gone = stat(capture, &cs) != 0 && errno == ENOENT;
  free(capture);
  return gone;
}

static int sweep_one(const char *path, const struct stat *sb, int type,
                     struct FTW *ftw) {
  (void)ftw;
  if (type != FTW_F)
    return 0;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t plen = strlen(HUNT_REPORT_PREFIX);
  if (strncmp(base, HUNT_REPORT_PREFIX, plen) == 0 &&
      ends_with(base, HUNT_REPORT_SUFFIX)) {
    /* .nfhunt.STAMP.stat.json: is nfcapd.STAMP still there? */
    size_t stamp_len = strlen(base) - plen - strlen(HUNT_REPORT_SUFFIX);
    if (capture_gone(path, base, base + plen, stamp_len) && unlink(path) == 0)
      sweep_removed++;
  } else if (base[0] == '.' &&
             strncmp(base + 1, HUNT_REPORT_PREFIX, plen) == 0 &&
             strstr(base, HUNT_REPORT_SUFFIX ".")) {
    /* A report writer's temporary file, left by a killed run: an hour
     * old (a writer at work now is younger), or its capture file gone
     * (nothing writes its report any more, and the leftover kept the
     * day's directory from nfexpire for good). */
    const char *stamp = base + 1 + plen;
    const char *end = strstr(stamp, HUNT_REPORT_SUFFIX ".");
    if ((sb->st_mtime + 3600 < sweep_now ||
         capture_gone(path, base, stamp, (size_t)(end - stamp))) &&
        unlink(path) == 0)
      sweep_removed++;
  }
  return 0;
}

int hunt_sweep_reports(const char *root, uint64_t *removed) {
  sweep_removed = 0;
  sweep_now = time(NULL);
  int rc = nftw(root, sweep_one, 16, FTW_PHYS);
  *removed = sweep_removed;
  return rc == 0 ? 0 : -1;
}
