/* state.c - SQLite-backed run state; see nfhunt/state.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/state.h>

#include "../common/alloc.h"

/* Bumped when the tables change incompatibly; an older file is then
 * refused with a message rather than misread. */
#define SCHEMA_VERSION 1

struct nfh_state {
  sqlite3 *db;
  int lock_fd;
  int in_txn;
  int found_empty; /* the file was there, 0 bytes, under the lock */
  char errmsg[256];
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER);"
    "CREATE TABLE IF NOT EXISTS blobs(name TEXT PRIMARY KEY, data BLOB);"
    "CREATE TABLE IF NOT EXISTS findings("
    "  type TEXT, key TEXT, id TEXT, first_reported INTEGER,"
    "  last_run INTEGER, last_seen INTEGER, severity INTEGER,"
    "  score REAL, times_seen INTEGER, json TEXT,"
    "  PRIMARY KEY(type, key));"
    "CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, run INTEGER);";

static void set_error(nfh_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(nfh_state *st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
  va_end(ap);
}

static nfh_status db_fail(nfh_state *st, const char *what) {
  set_error(st, "%s: %s", what, sqlite3_errmsg(st->db));
  return NFH_ESTATE;
}

/* Takes an exclusive flock, polling so that the wait is bounded. */
static int lock_wait(int fd, unsigned wait_s) {
  struct timespec nap = {0, 100 * 1000 * 1000};
  unsigned long tries = (unsigned long)wait_s * 10;
  for (unsigned long i = 0;; i++) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
      return 0;
    if (errno != EWOULDBLOCK && errno != EINTR)
      return -1;
    if (i >= tries)
      return 1;
    nanosleep(&nap, NULL);
  }
}

/* SQLite's application_id of an nfhunt state: "nfhs". */
#define APPLICATION_ID 0x6e666873

/* One integer a query returns (0 when it returns no row), or -1. */
static int64_t query_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
    return -1;
  int rc = sqlite3_step(q);
  int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0)
                               : rc == SQLITE_DONE ? 0 : -1;
  sqlite3_finalize(q);
  return v;
}

/* The message for a file that is no usable state ('why': SQLite's
 * word), with what to do about it. */
static void unusable(char *message, size_t len, const char *path,
                     const char *why) {
  snprintf(message, len,
           "%s: not a usable nfhunt state (%s): move it aside to begin a "
           "new one",
           path, why);
}

/* Whether every page of the database reads as a b-tree page (PRAGMA
 * quick_check: linear in its size, tens of milliseconds for a state of
 * megabytes). Damage inside a table passed the open's other checks and
 * failed the run at its end, after every file was read, each hour
 * again (a tester's dd of five pages into a state). 0, or -1 with
 * 'message' set. */
static int check_pages(sqlite3 *db, const char *path, char *message,
                       size_t len) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1);", -1, &q, NULL) !=
      SQLITE_OK) {
    unusable(message, len, path, sqlite3_errmsg(db));
    return -1;
  }
  int rc = sqlite3_step(q);
  const unsigned char *text =
      rc == SQLITE_ROW ? sqlite3_column_text(q, 0) : NULL;
  int ok = text && strcmp((const char *)text, "ok") == 0;
  if (!ok)
    unusable(message, len, path,
             text ? (const char *)text : sqlite3_errmsg(db));
  sqlite3_finalize(q);
  return ok ? 0 : -1;
}

/* Whether the database is an nfhunt state, or empty (then it is marked
 * as one). Another program's SQLite file named by mistake (--state
 * ~/.mozilla/.../places.sqlite) would otherwise get nfhunt's tables
 * written into it and be used without a word. A state written before
 * the mark existed has exactly nfhunt's tables, with a schema version:
 * it is marked and used. 0, or -1 with 'message' set. */
static int check_owner(nfh_state *st, const char *path, char *message,
                       size_t len) {
  int64_t id = query_int(st->db, "PRAGMA application_id;");
  if (id == APPLICATION_ID)
    return 0;
  if (id < 0) {
    unusable(message, len, path, sqlite3_errmsg(st->db));
    return -1;
  }
  if (id != 0) {
    snprintf(message, len,
             "%s: an SQLite database of another program (application id "
             "0x%08llx), not an nfhunt state",
             path, (unsigned long long)(uint32_t)id);
    return -1;
  }
  int64_t all = query_int(st->db, "SELECT count(*) FROM sqlite_master "
                                  "WHERE type='table';");
  int64_t ours = query_int(
      st->db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
              "name IN ('meta','blobs','findings','files');");
  int64_t version =
      ours == 4 ? query_int(st->db, "SELECT value FROM meta WHERE "
                                    "name='schema_version';")
                : 0;
  if (all < 0 || ours < 0) {
    unusable(message, len, path, sqlite3_errmsg(st->db));
    return -1;
  }
  if (all != 0 && !(all == 4 && ours == 4 && version > 0)) {
    snprintf(message, len,
             "%s: an SQLite database of another program (%lld table%s), "
             "not an nfhunt state",
             path, (long long)all, all == 1 ? "" : "s");
    return -1;
  }
  char sql[64];
  snprintf(sql, sizeof(sql), "PRAGMA application_id=%d;", APPLICATION_ID);
  if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(message, len, "%s: cannot write (%s)", path,
             sqlite3_errmsg(st->db));
    return -1;
  }
  return 0;
}

/* Whether the state at 'path' (there or not) and its directory can be
 * written; errno tells why not. */
static int writable_place(const char *path, int exists) {
  if (exists && access(path, W_OK) != 0)
    return 0;
  const char *slash = strrchr(path, '/');
  if (!slash)
    return access(".", W_OK) == 0;
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  char *dir = nfh__malloc(n + 1);
  if (!dir)
    return 1; /* let SQLite tell */
  memcpy(dir, path, n);
  dir[n] = '\0';
  int ok = access(dir, W_OK) == 0;
  int saved = errno;
  nfh__free(dir);
  errno = saved;
  return ok;
}

int nfh_state_found_empty(const nfh_state *state) {
  return state && state->found_empty;
}

nfh_status nfh_state_open(const char *path, unsigned wait_s, nfh_state **out,
                          const char **error) {
  static __thread char message[300];
  *out = NULL;
  *error = message;
  message[0] = '\0';
  nfh_state *st = nfh__calloc(1, sizeof(*st));
  if (!st)
    return NFH_ENOMEM;
  st->lock_fd = -1;
  size_t len = strlen(path) + 6;
  char *lock_path = nfh__malloc(len);
  if (!lock_path) {
    nfh__free(st);
    return NFH_ENOMEM;
  }
  snprintf(lock_path, len, "%s.lock", path);
  st->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (st->lock_fd < 0) {
    /* A missing directory is the state's, not its lock file's: "x.lock:
     * No such file or directory" sent an operator looking for a lock. */
    struct stat lsb;
    if (errno == ENOENT && lstat(lock_path, &lsb) == 0 && S_ISLNK(lsb.st_mode))
      snprintf(message, sizeof(message),
               "%s: a symbolic link to nothing (remove it: the next run "
               "makes the lock file)",
               lock_path);
    else if (errno == ENOENT)
      snprintf(message, sizeof(message),
               "its directory does not exist (make it, or give --state "
               "another path)");
    else
      snprintf(message, sizeof(message), "%s: %s", lock_path, strerror(errno));
    nfh__free(lock_path);
    nfh__free(st);
    return NFH_EIO;
  }
  int rc = lock_wait(st->lock_fd, wait_s);
  if (rc != 0) {
    snprintf(message, sizeof(message),
             rc > 0 ? "%s: another nfhunt run holds the lock (waited %u s)"
                    : "%s: cannot lock (%u s)",
             lock_path, wait_s);
    nfh__free(lock_path);
    close(st->lock_fd);
    nfh__free(st);
    return rc > 0 ? NFH_EBUSY : NFH_EIO;
  }
  nfh__free(lock_path);
  /* SQLite writes its journal beside the state: a directory it cannot
   * write failed the run at its end, after every file was read, with no
   * report. */
  struct stat sb;
  int exists = stat(path, &sb) == 0;
  st->found_empty = exists && S_ISREG(sb.st_mode) && sb.st_size == 0;
  /* SQLite says "unable to open database file" of both. */
  const char *not_file = NULL;
  if (exists && S_ISDIR(sb.st_mode))
    not_file = "a directory, not a state file (give --state a file's path)";
  else if (!exists && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
    not_file = "a symbolic link to nothing (mend it, or remove it to begin "
               "a new state)";
  if (not_file) {
    snprintf(message, sizeof(message), "%s: %s", path, not_file);
    close(st->lock_fd);
    nfh__free(st);
    return NFH_EIO;
  }
  if (exists && access(path, W_OK) != 0) {
    snprintf(message, sizeof(message), "%s: %s: the run could not save it",
             path, strerror(errno));
    close(st->lock_fd);
    nfh__free(st);
    return NFH_EIO;
  }
  if (!writable_place(path, 0)) {
    snprintf(message, sizeof(message),
             "%s: its directory: %s: SQLite writes its journal beside the "
             "state, so the run could not save it",
             path, strerror(errno));
    close(st->lock_fd);
    nfh__free(st);
    return NFH_EIO;
  }
  if (sqlite3_open_v2(path, &st->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                          SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    snprintf(message, sizeof(message), "%s: %s", path,
             st->db ? sqlite3_errmsg(st->db) : "cannot open");
    nfh_state_close(st);
    return NFH_ESTATE;
  }
  sqlite3_busy_timeout(st->db, 5000);
  if (check_owner(st, path, message, sizeof(message)) != 0 ||
      check_pages(st->db, path, message, sizeof(message)) != 0) {
    nfh_state_close(st);
    return NFH_ESTATE;
  }
  /* Rollback journal with full sync: a commit is atomic and durable, and
   * no -wal file needs to travel with the state. */
  char *err = NULL;
  if (sqlite3_exec(st->db, "PRAGMA synchronous=FULL;", NULL, NULL, &err) !=
          SQLITE_OK ||
      sqlite3_exec(st->db, schema, NULL, NULL, &err) != SQLITE_OK) {
    unusable(message, sizeof(message), path, err ? err : "?");
    sqlite3_free(err);
    nfh_state_close(st);
    return NFH_ESTATE;
  }
  uint64_t version = 0;
  if (nfh_state_get_u64(st, "schema_version", &version) != NFH_OK) {
    snprintf(message, sizeof(message), "%s: %s", path, st->errmsg);
    nfh_state_close(st);
    return NFH_ESTATE;
  }
  if (version == 0) {
    if (nfh_state_put_u64(st, "schema_version", SCHEMA_VERSION) != NFH_OK) {
      snprintf(message, sizeof(message), "%s: %s", path, st->errmsg);
      nfh_state_close(st);
      return NFH_ESTATE;
    }
  } else if (version != SCHEMA_VERSION) {
    snprintf(message, sizeof(message),
             "%s: state schema %llu, this nfhunt reads %d", path,
             (unsigned long long)version, SCHEMA_VERSION);
    nfh_state_close(st);
    return NFH_ESTATE;
  }
  *out = st;
  return NFH_OK;
}

void nfh_state_close(nfh_state *st) {
  if (!st)
    return;
  if (st->db) {
    if (st->in_txn)
      sqlite3_exec(st->db, "ROLLBACK;", NULL, NULL, NULL);
    sqlite3_close(st->db);
  }
  if (st->lock_fd >= 0)
    close(st->lock_fd); /* releases the flock */
  nfh__free(st);
}

const char *nfh_state_error(const nfh_state *st) { return st->errmsg; }

nfh_status nfh_state_begin(nfh_state *st) {
  if (st->in_txn)
    return NFH_OK;
  if (sqlite3_exec(st->db, "BEGIN IMMEDIATE;", NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(st, "begin");
  st->in_txn = 1;
  return NFH_OK;
}

/* Pages a state has before compact() looks at it: 4 MiB of 4 KiB. */
#define COMPACT_MIN_PAGES 1024

/* Every run rewrites the detectors' blobs, megabytes of them, and SQLite
 * keeps the pages they left as free pages: a state of 7 MB of blobs
 * filled 13.8 MB after three weeks of hourly runs, and each run read
 * past the holes. Once more than half the file is free, it is rewritten
 * whole (VACUUM, itself a transaction: a kill leaves the state as
 * committed). A failure changes nothing and is no error: the commit is
 * done. */
static void compact(nfh_state *st) {
  int64_t pages = query_int(st->db, "PRAGMA page_count;");
  int64_t free_pages = query_int(st->db, "PRAGMA freelist_count;");
  if (pages >= COMPACT_MIN_PAGES && free_pages * 2 > pages)
    sqlite3_exec(st->db, "VACUUM;", NULL, NULL, NULL);
}

nfh_status nfh_state_commit(nfh_state *st) {
  if (!st->in_txn)
    return NFH_OK;
  if (sqlite3_exec(st->db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
    nfh_status s = db_fail(st, "commit");
    sqlite3_exec(st->db, "ROLLBACK;", NULL, NULL, NULL);
    st->in_txn = 0;
    return s;
  }
  st->in_txn = 0;
  compact(st);
  return NFH_OK;
}

static nfh_status prepare(nfh_state *st, const char *sql,
                          sqlite3_stmt **stmt) {
  if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK)
    return db_fail(st, "prepare");
  return NFH_OK;
}

nfh_status nfh_state_get_blob(nfh_state *st, const char *name, void **data,
                              size_t *len) {
  *data = NULL;
  *len = 0;
  sqlite3_stmt *q;
  if (prepare(st, "SELECT data FROM blobs WHERE name=?1", &q) != NFH_OK)
    return NFH_ESTATE;
  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  nfh_status result = NFH_OK;
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    int n = sqlite3_column_bytes(q, 0);
    const void *p = sqlite3_column_blob(q, 0);
    if (n > 0 && p) {
      *data = malloc((size_t)n);
      if (!*data)
        result = NFH_ENOMEM;
      else {
        memcpy(*data, p, (size_t)n);
        *len = (size_t)n;
      }
    }
  } else if (rc != SQLITE_DONE) {
    result = db_fail(st, "read blob");
  }
  sqlite3_finalize(q);
  return result;
}

nfh_status nfh_state_put_blob(nfh_state *st, const char *name,
                              const void *data, size_t len) {
  sqlite3_stmt *q;
  if (prepare(st, "INSERT OR REPLACE INTO blobs(name, data) VALUES(?1, ?2)",
              &q) != NFH_OK)
    return NFH_ESTATE;
  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_blob64(q, 2, data, len, SQLITE_STATIC);
  nfh_status result =
      sqlite3_step(q) == SQLITE_DONE ? NFH_OK : db_fail(st, "write blob");
  sqlite3_finalize(q);
  return result;
}

nfh_status nfh_state_get_u64(nfh_state *st, const char *name,
                             uint64_t *value) {
  *value = 0;
  sqlite3_stmt *q;
  if (prepare(st, "SELECT value FROM meta WHERE name=?1", &q) != NFH_OK)
    return NFH_ESTATE;
  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(q);
  nfh_status result = NFH_OK;
  if (rc == SQLITE_ROW)
    *value = (uint64_t)sqlite3_column_int64(q, 0);
  else if (rc != SQLITE_DONE)
    result = db_fail(st, "read counter");
  sqlite3_finalize(q);
  return result;
}

nfh_status nfh_state_put_u64(nfh_state *st, const char *name,
                             uint64_t value) {
  /* A missing counter reads as 0, so 0 is kept as no row: counters named
   * after files (nfhunt's unopened:PATH) would otherwise pile up. */
  sqlite3_stmt *q;
  if (prepare(st,
              value ? "INSERT OR REPLACE INTO meta(name, value) VALUES(?1, ?2)"
                    : "DELETE FROM meta WHERE name=?1",
              &q) != NFH_OK)
    return NFH_ESTATE;
  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  if (value)
    sqlite3_bind_int64(q, 2, (sqlite3_int64)value);
  nfh_status result =
      sqlite3_step(q) == SQLITE_DONE ? NFH_OK : db_fail(st, "write counter");
  sqlite3_finalize(q);
  return result;
}

nfh_status nfh_state_get_finding(nfh_state *st, const char *type,
                                 const char *key, nfh_state_finding *out) {
  memset(out, 0, sizeof(*out));
  sqlite3_stmt *q;
  if (prepare(st,
              "SELECT id, first_reported, times_seen, last_seen, severity "
              "FROM findings WHERE type=?1 AND key=?2",
              &q) != NFH_OK)
    return NFH_ESTATE;
  sqlite3_bind_text(q, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(q);
  nfh_status result = NFH_ENOTFOUND;
  if (rc == SQLITE_ROW) {
    const unsigned char *text = sqlite3_column_text(q, 0);
    snprintf(out->id, sizeof(out->id), "%s", text ? (const char *)text : "");
    out->first_reported_ms = (uint64_t)sqlite3_column_int64(q, 1);
    out->times_seen = (uint32_t)sqlite3_column_int64(q, 2);
    out->last_seen_ms = (uint64_t)sqlite3_column_int64(q, 3);
    out->severity = sqlite3_column_int(q, 4);
    result = NFH_OK;
  } else if (rc != SQLITE_DONE) {
    result = db_fail(st, "read finding");
  }
  sqlite3_finalize(q);
  return result;
}

nfh_status nfh_state_find_finding(nfh_state *st, const char *type,
                                  const char *key, char id[33],
                                  uint64_t *first_reported_ms,
                                  uint32_t *times_seen) {
  nfh_state_finding f;
  nfh_status result = nfh_state_get_finding(st, type, key, &f);
  if (result == NFH_OK) {
    memcpy(id, f.id, sizeof(f.id));
    *first_reported_ms = f.first_reported_ms;
    *times_seen = f.times_seen;
  }
  return result;
}

nfh_status nfh_state_put_finding(nfh_state *st, const char *type,
                                 const char *key, const char *id,
                                 uint64_t first_reported_ms, uint64_t run_ms,
                                 uint64_t last_seen_ms, int severity,
                                 double score, uint32_t times_seen,
                                 const char *json) {
  sqlite3_stmt *q;
  if (prepare(st,
              "INSERT OR REPLACE INTO findings(type, key, id, first_reported,"
              " last_run, last_seen, severity, score, times_seen, json) "
              "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
              &q) != NFH_OK)
    return NFH_ESTATE;
  sqlite3_bind_text(q, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 4, (sqlite3_int64)first_reported_ms);
  sqlite3_bind_int64(q, 5, (sqlite3_int64)run_ms);
  sqlite3_bind_int64(q, 6, (sqlite3_int64)last_seen_ms);
  sqlite3_bind_int(q, 7, severity);
  sqlite3_bind_double(q, 8, score);
  sqlite3_bind_int64(q, 9, times_seen);
  sqlite3_bind_text(q, 10, json ? json : "", -1, SQLITE_STATIC);
  nfh_status result =
      sqlite3_step(q) == SQLITE_DONE ? NFH_OK : db_fail(st, "write finding");
  sqlite3_finalize(q);
  return result;
}

nfh_status nfh_state_file_done(nfh_state *st, const char *path, int *done) {
  *done = 0;
  sqlite3_stmt *q;
  if (prepare(st, "SELECT 1 FROM files WHERE path=?1", &q) != NFH_OK)
    return NFH_ESTATE;
  sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
  int rc = sqlite3_step(q);
  nfh_status result = NFH_OK;
  if (rc == SQLITE_ROW)
    *done = 1;
  else if (rc != SQLITE_DONE)
    result = db_fail(st, "read files");
  sqlite3_finalize(q);
  return result;
}

nfh_status nfh_state_mark_file(nfh_state *st, const char *path,
                               uint64_t run_ms) {
  sqlite3_stmt *q;
  if (prepare(st, "INSERT OR REPLACE INTO files(path, run) VALUES(?1, ?2)",
              &q) != NFH_OK)
    return NFH_ESTATE;
  sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 2, (sqlite3_int64)run_ms);
  nfh_status result =
      sqlite3_step(q) == SQLITE_DONE ? NFH_OK : db_fail(st, "write files");
  sqlite3_finalize(q);
  return result;
}

nfh_status nfh_state_expire(nfh_state *st, uint64_t before_ms) {
  /* File records are not expired by age: a file analysed a year ago and
   * still in the flow directory must not be analysed again by the next
   * --since last run. nfh_state_forget_files drops them once the files
   * are gone. */
  sqlite3_stmt *q;
  if (prepare(st, "DELETE FROM findings WHERE last_run < ?1", &q) != NFH_OK)
    return NFH_ESTATE;
  sqlite3_bind_int64(q, 1, (sqlite3_int64)before_ms);
  int rc = sqlite3_step(q);
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE)
    return db_fail(st, "expire");
  return NFH_OK;
}

/* Deletes the rows that 'select' lists (one text column) and keep()
 * rejects, by 'delete' (its ?1 the text); keep() sees each text past its
 * first 'skip' bytes. Collects first, deletes after: no statement may
 * step over the table another one changes. */
static nfh_status forget_rows(nfh_state *st, const char *select,
                              const char *delete, size_t skip,
                              int (*keep)(void *user, const char *name),
                              void *user, uint64_t *forgotten) {
  if (forgotten)
    *forgotten = 0;
  sqlite3_stmt *q;
  if (prepare(st, select, &q) != NFH_OK)
    return NFH_ESTATE;
  char **gone = NULL;
  size_t n = 0, cap = 0;
  nfh_status result = NFH_OK;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(q, 0);
    if (!name || strlen(name) < skip || keep(user, name + skip))
      continue;
    if (n == cap) {
      size_t ncap = cap ? 2 * cap : 64;
      char **grown = nfh__realloc(gone, ncap * sizeof(char *));
      if (!grown) {
        result = NFH_ENOMEM;
        break;
      }
      gone = grown;
      cap = ncap;
    }
    if (!(gone[n] = nfh__strdup(name))) {
      result = NFH_ENOMEM;
      break;
    }
    n++;
  }
  if (result == NFH_OK && rc != SQLITE_DONE)
    result = db_fail(st, "read rows to forget");
  sqlite3_finalize(q);
  if (result == NFH_OK && n && prepare(st, delete, &q) == NFH_OK) {
    for (size_t i = 0; i < n && result == NFH_OK; i++) {
      sqlite3_bind_text(q, 1, gone[i], -1, SQLITE_STATIC);
      if (sqlite3_step(q) != SQLITE_DONE)
        result = db_fail(st, "forget rows");
      sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    if (result == NFH_OK && forgotten)
      *forgotten = n;
  } else if (result == NFH_OK && n) {
    result = NFH_ESTATE;
  }
  for (size_t i = 0; i < n; i++)
    nfh__free(gone[i]);
  nfh__free(gone);
  return result;
}

nfh_status nfh_state_forget_files(nfh_state *st,
                                  int (*keep)(void *user, const char *path),
                                  void *user, uint64_t *forgotten) {
  return forget_rows(st, "SELECT path FROM files",
                     "DELETE FROM files WHERE path=?1", 0, keep, user,
                     forgotten);
}

nfh_status nfh_state_forget_counters(nfh_state *st, const char *prefix,
                                     int (*keep)(void *user, const char *rest),
                                     void *user, uint64_t *forgotten) {
  /* Counter names are plain text of the caller's: a prefix match by
   * substr, not LIKE, whose % and _ a path may hold. */
  char select[160];
  size_t len = strlen(prefix);
  if (len > 64 || strchr(prefix, '\'') != NULL) {
    snprintf(st->errmsg, sizeof(st->errmsg), "bad counter prefix");
    return NFH_EINVAL;
  }
  snprintf(select, sizeof(select),
           "SELECT name FROM meta WHERE substr(name, 1, %zu) = '%s'", len,
           prefix);
  return forget_rows(st, select, "DELETE FROM meta WHERE name=?1", len, keep,
                     user, forgotten);
}
