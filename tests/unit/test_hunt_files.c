/* test_hunt_files.c - nfcapd -x's %d/%f in both nfcapd generations, the
 * findings file beside a capture file, sweeping stale findings, and the
 * state's file records (kept by age, forgotten when the file is gone). */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <nfhunt/state.h>

#include "../../tools/hunt/files.h"
#include "testkit.h"

static char dir[] = "/tmp/nfh_test_hunt_files_XXXXXX";

static void rotated(const char *d, const char *f, const char *want_dir,
                    const char *want_file) {
  char *od, *of;
  CU_ASSERT_EQUAL_FATAL(hunt_rotated(d, f, &od, &of), 0);
  if (strcmp(od, want_dir) != 0 || strcmp(of, want_file) != 0) {
    fprintf(stderr, "\n(%s, %s) -> (%s, %s), want (%s, %s)\n", d ? d : "NULL",
            f, od, of, want_dir, want_file);
    CU_FAIL("hunt_rotated");
  }
  free(od);
  free(of);
}

static void test_rotated(void) {
  /* Two arguments, %d %f: 1.7.7 and older (relative), 1.7.8 (absolute). */
  rotated("/flows", "2024/03/01/nfcapd.202403011005", "/flows",
          "/flows/2024/03/01/nfcapd.202403011005");
  rotated("/flows", "/flows/2024/03/01/nfcapd.202403011005", "/flows",
          "/flows/2024/03/01/nfcapd.202403011005");
  rotated("/flows", "nfcapd.202403011005", "/flows",
          "/flows/nfcapd.202403011005");
  /* One argument, "%d/%f". */
  rotated(NULL, "/flows//flows/2024/03/01/nfcapd.202403011005", "/flows",
          "/flows/2024/03/01/nfcapd.202403011005");
  rotated(NULL, "/flows/nfcapd.202403011005", "/flows",
          "/flows/nfcapd.202403011005");
  /* With -S and an old nfcapd: the subdirectories the file's slot gives
   * (-S 1, 2, 7, 5) are not part of the flow directory; others are. */
  rotated(NULL, "/flows/2024/03/01/nfcapd.202403011005", "/flows",
          "/flows/2024/03/01/nfcapd.202403011005");
  rotated(NULL, "/flows/2024/03/01/10/nfcapd.202403011005", "/flows",
          "/flows/2024/03/01/10/nfcapd.202403011005");
  rotated(NULL, "/f/2024-03-01/nfcapd.20240301100510", "/f",
          "/f/2024-03-01/nfcapd.20240301100510");
  rotated(NULL, "/f/2024/061/nfcapd.202403011005", "/f",
          "/f/2024/061/nfcapd.202403011005");
  rotated(NULL, "/flows/2024/03/02/nfcapd.202403011005", "/flows/2024/03/02",
          "/flows/2024/03/02/nfcapd.202403011005");
  rotated(NULL, "/2024/03/01/nfcapd.202403011005", "/",
          "/2024/03/01/nfcapd.202403011005");
  /* "/a/" + "b/nfcapd.x": a doubled slash that is not an absolute %f. */
  rotated(NULL, "/a//b/nfcapd.x", "/a", "/a/b/nfcapd.x");
  rotated(NULL, "/fl//flows/x/nfcapd.1", "/fl", "/fl/flows/x/nfcapd.1");
  rotated(NULL, "/flows///flows/x/nfcapd.1", "/flows", "/flows/x/nfcapd.1");
  char *od, *of;
  CU_ASSERT_EQUAL(hunt_rotated(NULL, "", &od, &of), -1);
  CU_ASSERT_EQUAL(hunt_rotated("", "x", &od, &of), -1);
}

static void test_report_path(void) {
  char *p = hunt_report_path("/flows/2024/nfcapd.202403011005");
  CU_ASSERT_STRING_EQUAL(p, "/flows/2024/.nfhunt.202403011005.stat.json");
  free(p);
  p = hunt_report_path("nfcapd.20240301100510");
  CU_ASSERT_STRING_EQUAL(p, ".nfhunt.20240301100510.stat.json");
  free(p);
  p = hunt_report_path("/x/capture.bin");
  CU_ASSERT_STRING_EQUAL(p, "/x/.nfhunt.capture.bin.stat.json");
  free(p);
}

static void touch(const char *rel, int age_s) {
  char path[400];
  snprintf(path, sizeof(path), "%s/%s", dir, rel);
  FILE *f = fopen(path, "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs("x", f);
  fclose(f);
  if (age_s) {
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    utimes(path, tv);
  }
}

static int exists(const char *rel) {
  char path[400];
  snprintf(path, sizeof(path), "%s/%s", dir, rel);
  return access(path, F_OK) == 0;
}

static void test_sweep(void) {
  char sub[400];
  snprintf(sub, sizeof(sub), "%s/2024", dir);
  mkdir(sub, 0755);
  touch("2024/nfcapd.202403011000", 0);
  touch("2024/.nfhunt.202403011000.stat.json", 0);            /* kept */
  touch("2024/.nfhunt.202403010955.stat.json", 0);            /* capture gone */
  touch("2024/..nfhunt.202403011005.stat.json.AbC123", 7200); /* stale */
  touch("2024/nfcapd.202403011010", 0);
  touch("2024/..nfhunt.202403011010.stat.json.XyZ789", 0); /* in use */
  /* Young, but its capture is gone (nfexpire): nothing writes it any
   * more, and it kept the directory. */
  touch("2024/..nfhunt.202403010950.stat.json.QrS456", 0);
  touch("2024/notes.txt", 0);
  uint64_t removed = 99;
  CU_ASSERT_EQUAL(hunt_sweep_reports(dir, &removed), 0);
  CU_ASSERT_EQUAL(removed, 3);
  CU_ASSERT_FALSE(exists("2024/..nfhunt.202403010950.stat.json.QrS456"));
  CU_ASSERT_TRUE(exists("2024/.nfhunt.202403011000.stat.json"));
  CU_ASSERT_FALSE(exists("2024/.nfhunt.202403010955.stat.json"));
  CU_ASSERT_FALSE(exists("2024/..nfhunt.202403011005.stat.json.AbC123"));
  CU_ASSERT_TRUE(exists("2024/..nfhunt.202403011010.stat.json.XyZ789"));
  CU_ASSERT_TRUE(exists("2024/notes.txt"));
  CU_ASSERT_EQUAL(hunt_sweep_reports("/nonexistent/nfh", &removed), -1);
}

static int keep_odd(void *user, const char *path) {
  (*(int *)user)++;
  return path[strlen(path) - 1] % 2;
}

static void test_state_files(void) {
  char path[400];
  snprintf(path, sizeof(path), "%s/state", dir);
  nfh_state *st = NULL;
  const char *err = "";
  CU_ASSERT_EQUAL_FATAL(nfh_state_open(path, 0, &st, &err), NFH_OK);
  CU_ASSERT_EQUAL(nfh_state_begin(st), NFH_OK);
  for (int i = 0; i < 4; i++) {
    char f[32];
    snprintf(f, sizeof(f), "/f/nfcapd.%d", i);
    CU_ASSERT_EQUAL(nfh_state_mark_file(st, f, 1000), NFH_OK);
  }
  /* Age does not expire file records (a --since last run must not
   * analyse an old file again); only findings go. */
  CU_ASSERT_EQUAL(nfh_state_expire(st, 5000), NFH_OK);
  int done = 0;
  CU_ASSERT_EQUAL(nfh_state_file_done(st, "/f/nfcapd.0", &done), NFH_OK);
  CU_ASSERT_EQUAL(done, 1);
  int calls = 0;
  uint64_t forgotten = 0;
  CU_ASSERT_EQUAL(nfh_state_forget_files(st, keep_odd, &calls, &forgotten),
                  NFH_OK);
  CU_ASSERT_EQUAL(calls, 4);
  CU_ASSERT_EQUAL(forgotten, 2);
  CU_ASSERT_EQUAL(nfh_state_commit(st), NFH_OK);
  nfh_state_file_done(st, "/f/nfcapd.0", &done);
  CU_ASSERT_EQUAL(done, 0);
  nfh_state_file_done(st, "/f/nfcapd.1", &done);
  CU_ASSERT_EQUAL(done, 1);
  nfh_state_file_done(st, "/f/nfcapd.3", &done);
  CU_ASSERT_EQUAL(done, 1);
  nfh_state_close(st);
}

static int setup(void) { return mkdtemp(dir) ? 0 : -1; }

static int teardown(void) { return tk_remove_tree(dir); }

int main(void) {
  setenv("TZ", "UTC", 1); /* file names are local time */
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("hunt files", setup, teardown);
  CU_add_test(s, "nfcapd -x %d and %f", test_rotated);
  CU_add_test(s, "findings file names", test_report_path);
  CU_add_test(s, "sweeping stale findings", test_sweep);
  CU_add_test(s, "state: analysed files", test_state_files);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
