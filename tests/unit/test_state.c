/* test_state.c - the run state: blobs, findings, files, atomicity, lock. */
#include "config.h"

#include <CUnit/Basic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nfhunt/state.h>

#include "testkit.h"

static char dir[] = "/tmp/nfh_test_state_XXXXXX";
static char path[256];

static nfh_state *open_state(void) {
  nfh_state *st = NULL;
  const char *err = "";
  nfh_status s = nfh_state_open(path, 0, &st, &err);
  CU_ASSERT_EQUAL(s, NFH_OK);
  if (s != NFH_OK)
    fprintf(stderr, "open: %s\n", err);
  return st;
}

static void test_commit_and_rollback(void) {
  nfh_state *st = open_state();
  CU_ASSERT_FATAL(st != NULL);
  CU_ASSERT_EQUAL(nfh_state_begin(st), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_blob(st, "det", "abc", 3), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_u64(st, "data_last_ms", 42), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_finding(st, "port_scan", "h|1", "id1", 100,
                                        200, 150, 3, 80.0, 1, "x"),
                  NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_mark_file(st, "/f/nfcapd.1", 200), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_state_close(st);

  /* A run that changes everything and then dies without commit. */
  st = open_state();
  CU_ASSERT_FATAL(st != NULL);
  nfh_state_begin(st);
  nfh_state_put_blob(st, "det", "XYZW", 4);
  nfh_state_put_u64(st, "data_last_ms", 99);
  nfh_state_put_finding(st, "port_scan", "h|2", "id2", 1, 2, 3, 1, 1, 1, "");
  nfh_state_close(st); /* no commit */

  st = open_state();
  CU_ASSERT_FATAL(st != NULL);
  void *blob;
  size_t len;
  CU_ASSERT_EQUAL(nfh_state_get_blob(st, "det", &blob, &len), NFH_OK);
  CU_ASSERT_EQUAL(len, 3);
  CU_ASSERT(blob && memcmp(blob, "abc", 3) == 0);
  free(blob);
  uint64_t v;
  nfh_state_get_u64(st, "data_last_ms", &v);
  CU_ASSERT_EQUAL(v, 42);
  char id[33];
  uint64_t first;
  uint32_t seen;
  CU_ASSERT_EQUAL(nfh_state_find_finding(st, "port_scan", "h|1", id, &first,
                                         &seen),
                  NFH_OK);
  CU_ASSERT_STRING_EQUAL(id, "id1");
  CU_ASSERT_EQUAL(first, 100);
  CU_ASSERT_EQUAL(seen, 1);
  CU_ASSERT_EQUAL(nfh_state_find_finding(st, "port_scan", "h|2", id, &first,
                                         &seen),
                  NFH_ENOTFOUND);
  int done;
  nfh_state_file_done(st, "/f/nfcapd.1", &done);
  CU_ASSERT_EQUAL(done, 1);
  nfh_state_file_done(st, "/f/nfcapd.2", &done);
  CU_ASSERT_EQUAL(done, 0);
  CU_ASSERT_EQUAL(nfh_state_get_blob(st, "none", &blob, &len), NFH_OK);
  CU_ASSERT_PTR_NULL(blob);
  nfh_state_close(st);
}

static void test_killed_mid_commit(void) {
  /* A child writes a large transaction and is killed at a random moment
   * (SIGKILL, no cleanup): the state must open with either the old or
   * the new content, never damaged. */
  for (int round = 0; round < 5; round++) {
    pid_t pid = fork();
    if (pid == 0) {
      nfh_state *st;
      const char *err;
      if (nfh_state_open(path, 5, &st, &err) != NFH_OK)
        _exit(3);
      nfh_state_begin(st);
      static char big[1 << 20];
      memset(big, 'a' + round, sizeof(big));
      for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof(name), "big%d", i);
        nfh_state_put_blob(st, name, big, sizeof(big));
      }
      nfh_state_put_u64(st, "round", (uint64_t)round + 1);
      nfh_state_commit(st);
      nfh_state_close(st);
      _exit(0);
    }
    usleep(2000 + (unsigned)(round * 7000));
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    nfh_state *st = open_state();
    CU_ASSERT_FATAL(st != NULL);
    uint64_t r;
    CU_ASSERT_EQUAL(nfh_state_get_u64(st, "round", &r), NFH_OK);
    CU_ASSERT(r <= (uint64_t)round + 1);
    void *blob;
    size_t len;
    CU_ASSERT_EQUAL(nfh_state_get_blob(st, "det", &blob, &len), NFH_OK);
    CU_ASSERT_EQUAL(len, 3); /* the earlier test's commit is intact */
    free(blob);
    nfh_state_close(st);
  }
}

static void test_lock(void) {
  nfh_state *a = open_state();
  CU_ASSERT_FATAL(a != NULL);
  nfh_state *b = NULL;
  const char *err = "";
  CU_ASSERT_EQUAL(nfh_state_open(path, 0, &b, &err), NFH_EBUSY);
  CU_ASSERT_PTR_NULL(b);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "lock"));
  nfh_state_close(a);
  CU_ASSERT_EQUAL(nfh_state_open(path, 0, &b, &err), NFH_OK);
  nfh_state_close(b);
}

/* An empty state file is found empty once, under the lock: while a
 * run that just created it holds the lock, another waits and then finds
 * its state (runs started together warned "the file is empty"). A state
 * whose directory cannot be written is refused at open. */
static void test_empty_and_unwritable(void) {
  char empty[300];
  snprintf(empty, sizeof(empty), "%s/empty.db", dir);
  FILE *f = fopen(empty, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fclose(f);
  nfh_state *st = NULL;
  const char *err = "";
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(empty, 0, &st, &err), NFH_OK);
  CU_ASSERT(nfh_state_found_empty(st));
  CU_ASSERT_EQUAL(nfh_state_begin(st), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_state_close(st);
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(empty, 0, &st, &err), NFH_OK);
  CU_ASSERT(!nfh_state_found_empty(st));
  nfh_state_close(st);
  CU_ASSERT(!nfh_state_found_empty(NULL));

  char nodir[300];
  snprintf(nodir, sizeof(nodir), "%s/no/such/dir.db", dir);
  CU_ASSERT_EQUAL(nfh_state_open(nodir, 0, &st, &err), NFH_EIO);
  CU_ASSERT_PTR_NULL(st);
  /* Said of the directory, not of the lock file beside the state. */
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "directory does not exist"));
  CU_ASSERT_PTR_NULL(strstr(err, ".lock"));

  /* A directory the user cannot write (root writes any). */
  if (geteuid() != 0) {
    char ro[300], rostate[320];
    snprintf(ro, sizeof(ro), "%s/ro", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(ro, 0755), 0);
    snprintf(rostate, sizeof(rostate), "%s/st.db", ro);
    CU_ASSERT_EQUAL_FATAL(nfh_state_open(rostate, 0, &st, &err), NFH_OK);
    nfh_state_close(st);
    CU_ASSERT_EQUAL(chmod(ro, 0555), 0);
    CU_ASSERT_EQUAL(nfh_state_open(rostate, 0, &st, &err), NFH_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "could not save"));
    CU_ASSERT_EQUAL(chmod(ro, 0755), 0);
  }
}

static void test_not_a_state(void) {
  char bad[300];
  snprintf(bad, sizeof(bad), "%s/garbage", dir);
  FILE *f = fopen(bad, "wb");
  fputs("this is not sqlite, just text that is long enough to matter......"
        "................................................................",
        f);
  fclose(f);
  nfh_state *st = NULL;
  const char *err = "";
  CU_ASSERT_EQUAL(nfh_state_open(bad, 0, &st, &err), NFH_ESTATE);
  CU_ASSERT_PTR_NULL(st);
  CU_ASSERT(strlen(err) > 0);
}

/* Runs SQL on a database file of its own, as another program would. */
static void run_sql(const char *file, const char *sql) {
  sqlite3 *db = NULL;
  CU_ASSERT_FATAL(sqlite3_open(file, &db) == SQLITE_OK);
  CU_ASSERT(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
}

static long count_tables(const char *file) {
  sqlite3 *db = NULL;
  sqlite3_stmt *q = NULL;
  long n = -1;
  if (sqlite3_open(file, &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE "
                             "type='table'", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    n = (long)sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

/* --state pointed at another program's SQLite file by mistake: refused
 * and left as it was, not given nfhunt's tables. */
static void test_other_program(void) {
  char other[300];
  snprintf(other, sizeof(other), "%s/places.sqlite", dir);
  run_sql(other, "CREATE TABLE bookmarks(id INTEGER, url TEXT);"
                 "INSERT INTO bookmarks VALUES(1, 'https://example.org');");
  nfh_state *st = NULL;
  const char *err = "";
  CU_ASSERT_EQUAL(nfh_state_open(other, 0, &st, &err), NFH_ESTATE);
  CU_ASSERT_PTR_NULL(st);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "another program"));
  CU_ASSERT_EQUAL(count_tables(other), 1);
  /* Marked by another application: refused too. */
  char marked[300];
  snprintf(marked, sizeof(marked), "%s/marked.db", dir);
  run_sql(marked, "PRAGMA application_id=1234;");
  CU_ASSERT_EQUAL(nfh_state_open(marked, 0, &st, &err), NFH_ESTATE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "another program"));
  /* A state written before states were marked: nfhunt's four tables
   * and a schema version. It is used, and keeps what it holds. */
  char old[300];
  snprintf(old, sizeof(old), "%s/old.state", dir);
  run_sql(old,
          "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER);"
          "CREATE TABLE blobs(name TEXT PRIMARY KEY, data BLOB);"
          "CREATE TABLE findings(type TEXT, key TEXT, id TEXT,"
          " first_reported INTEGER, last_run INTEGER, last_seen INTEGER,"
          " severity INTEGER, score REAL, times_seen INTEGER, json TEXT,"
          " PRIMARY KEY(type, key));"
          "CREATE TABLE files(path TEXT PRIMARY KEY, run INTEGER);"
          "INSERT INTO meta VALUES('schema_version', 1);"
          "INSERT INTO meta VALUES('data_last_ms', 77);");
  CU_ASSERT_EQUAL(nfh_state_open(old, 0, &st, &err), NFH_OK);
  uint64_t v = 0;
  if (st) {
    CU_ASSERT_EQUAL(nfh_state_get_u64(st, "data_last_ms", &v), NFH_OK);
    nfh_state_close(st);
  }
  CU_ASSERT_EQUAL(v, 77);
}

static void test_expire(void) {
  nfh_state *st = open_state();
  CU_ASSERT_FATAL(st != NULL);
  nfh_state_begin(st);
  nfh_state_put_finding(st, "t", "old", "i", 1, 1000, 1, 1, 1, 1, "");
  nfh_state_put_finding(st, "t", "new", "j", 1, 9000, 1, 1, 1, 1, "");
  CU_ASSERT_EQUAL(nfh_state_expire(st, 5000), NFH_OK);
  nfh_state_commit(st);
  char id[33];
  uint64_t first;
  uint32_t seen;
  CU_ASSERT_EQUAL(nfh_state_find_finding(st, "t", "old", id, &first, &seen),
                  NFH_ENOTFOUND);
  CU_ASSERT_EQUAL(nfh_state_find_finding(st, "t", "new", id, &first, &seen),
                  NFH_OK);
  nfh_state_close(st);
}

/* Counters named after files (nfhunt's unopened:PATH) must not pile up:
 * a counter set back to 0 leaves no row, and those of files that are
 * gone are dropped by prefix; others stay. */
static int keep_b(void *user, const char *rest) {
  (void)user;
  return strcmp(rest, "/gone") != 0;
}

static int meta_rows(void) {
  sqlite3 *db = NULL;
  int n = -1;
  sqlite3_stmt *q = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT count(*) FROM meta", -1, &q, NULL) ==
          SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    n = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

static void test_counters_forgotten(void) {
  nfh_state *st = open_state();
  CU_ASSERT_FATAL(st != NULL);
  int before = meta_rows();
  nfh_state_begin(st);
  CU_ASSERT_EQUAL(nfh_state_put_u64(st, "u:/kept", 1), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_u64(st, "u:/gone", 1), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_u64(st, "u:/opened", 1), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_u64(st, "u_/gone", 1), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_u64(st, "u:/opened", 0), NFH_OK);
  uint64_t gone = 9;
  CU_ASSERT_EQUAL(nfh_state_forget_counters(st, "u:", keep_b, NULL, &gone),
                  NFH_OK);
  CU_ASSERT_EQUAL(gone, 1);
  CU_ASSERT_EQUAL(nfh_state_forget_counters(st, "u'", keep_b, NULL, &gone),
                  NFH_EINVAL);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  uint64_t v = 9;
  nfh_state_get_u64(st, "u:/kept", &v);
  CU_ASSERT_EQUAL(v, 1);
  nfh_state_get_u64(st, "u:/gone", &v);
  CU_ASSERT_EQUAL(v, 0);
  nfh_state_get_u64(st, "u_/gone", &v); /* no LIKE wildcard */
  CU_ASSERT_EQUAL(v, 1);
  nfh_state_close(st);
  /* u:/kept and u_/gone: the zeroed and the forgotten left no row. */
  CU_ASSERT_EQUAL(meta_rows(), before + 2);
}

/* Runs rewrite their blobs: a state whose 8 MB blob shrank to a few
 * bytes is rewritten compact at the commit (it kept every freed page:
 * 13.8 MB of file for 7 MB of blobs after three weeks of hourly runs),
 * and keeps what it holds. */
static void test_compact(void) {
  char big_path[300];
  snprintf(big_path, sizeof(big_path), "%s/compact.db", dir);
  nfh_state *st = NULL;
  const char *err = "";
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(big_path, 0, &st, &err), NFH_OK);
  size_t n = 8u << 20;
  char *big = malloc(n);
  CU_ASSERT_FATAL(big != NULL);
  for (size_t i = 0; i < n; i++)
    big[i] = (char)(i * 2654435761u >> 13);
  nfh_state_begin(st);
  CU_ASSERT_EQUAL(nfh_state_put_blob(st, "det", big, n), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  free(big);
  struct stat sb;
  CU_ASSERT_EQUAL(stat(big_path, &sb), 0);
  CU_ASSERT(sb.st_size >= (off_t)n);
  nfh_state_begin(st);
  CU_ASSERT_EQUAL(nfh_state_put_blob(st, "det", "small", 5), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_put_u64(st, "data_last_ms", 7), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  CU_ASSERT_EQUAL(stat(big_path, &sb), 0);
  CU_ASSERT(sb.st_size < (off_t)(1u << 20));
  void *blob = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL(nfh_state_get_blob(st, "det", &blob, &len), NFH_OK);
  CU_ASSERT(len == 5 && blob && memcmp(blob, "small", 5) == 0);
  free(blob);
  uint64_t v = 0;
  nfh_state_get_u64(st, "data_last_ms", &v);
  CU_ASSERT_EQUAL(v, 7);
  nfh_state_close(st);
}

static int setup(void) {
  if (!mkdtemp(dir))
    return -1;
  snprintf(path, sizeof(path), "%s/state.db", dir);
  return 0;
}

static int teardown(void) { return tk_remove_tree(dir); }

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("state", setup, teardown);
  CU_add_test(s, "commit and rollback", test_commit_and_rollback);
  CU_add_test(s, "killed during a commit", test_killed_mid_commit);
  CU_add_test(s, "lock serializes runs", test_lock);
  CU_add_test(s, "not a state file", test_not_a_state);
  CU_add_test(s, "an empty state, an unwritable place",
              test_empty_and_unwritable);
  CU_add_test(s, "another program's database", test_other_program);
  CU_add_test(s, "expiry", test_expire);
  CU_add_test(s, "freed pages given back", test_compact);
  CU_add_test(s, "counters set to 0 or of gone files forgotten",
              test_counters_forgotten);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
