/* test_state.c - the run state: blobs, findings, files, atomicity, lock. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
  CU_add_test(s, "expiry", test_expire);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
