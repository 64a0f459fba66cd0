/* test_filelist.c - nfdump-style file selection and -t parsing. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/filelist.h>

#include "testkit.h"

static char root[] = "/tmp/nfh_test_filelist_XXXXXX";

/* Creates root/rel with the nfcapd magic (or other bytes). */
static void touch(const char *rel, int magic) {
  char path[512], dir[512];
  snprintf(path, sizeof(path), "%s/%s", root, rel);
  strcpy(dir, path);
  for (char *p = dir + strlen(root) + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(dir, 0755);
      *p = '/';
    }
  FILE *f = fopen(path, "wb");
  if (magic)
    fwrite("\x0c\xa5\x02\x00", 1, 4, f);
  else
    fwrite("{}\n", 1, 3, f);
  fclose(f);
}

static int setup(void) {
  if (!mkdtemp(root))
    return -1;
  /* Two sources in an -S 1 hierarchy (%Y/%m/%d), with the clutter that
   * real flow directories hold. */
  touch("a/2024/03/01/nfcapd.202403012350", 1);
  touch("a/2024/03/01/nfcapd.202403012355", 1);
  touch("a/2024/03/02/nfcapd.202403020000", 1);
  touch("a/2024/03/02/nfcapd.202403020005", 1);
  touch("a/2024/03/02/nfhunt.202403020005.json", 0);
  touch("a/nfcapd.current.1a2b3c", 1);
  touch("a/.nfstat", 0);
  touch("a/2024/03/02/nfcapd.202403020010.pcap", 1);
  touch("b/2024/03/01/nfcapd.202403012355", 1);
  touch("b/2024/03/02/nfcapd.202403020000", 1);
  return 0;
}

static int teardown(void) { return tk_remove_tree(root); }

static const char *tail(const nfh_filelist *l, size_t i) {
  return nfh_filelist_path(l, i) + strlen(root) + 1;
}

static void test_recursive(void) {
  nfh_filelist *l;
  char spec[512];
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(spec, sizeof(spec), "%s/a", root);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, spec), NFH_OK);
  nfh_filelist_finish(l);
  /* current, dot files, pcap names and non-nfcapd files are skipped. */
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_count(l), 4);
  CU_ASSERT_STRING_EQUAL(tail(l, 0), "a/2024/03/01/nfcapd.202403012350");
  CU_ASSERT_STRING_EQUAL(tail(l, 3), "a/2024/03/02/nfcapd.202403020005");
  nfh_filelist_destroy(l);
}

static void test_ranges(void) {
  nfh_filelist *l;
  char spec[512];
  /* dir/first: from first to the end. */
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(spec, sizeof(spec), "%s/a/2024/03/01/nfcapd.202403012355", root);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, spec), NFH_OK);
  nfh_filelist_finish(l);
  CU_ASSERT_EQUAL(nfh_filelist_count(l), 1);
  nfh_filelist_destroy(l);

  /* first:last across days; last relative to the flow root. */
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(spec, sizeof(spec),
           "%s/a/2024/03/01/nfcapd.202403012355:2024/03/02/"
           "nfcapd.202403020000",
           root);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, spec), NFH_OK);
  nfh_filelist_finish(l);
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_count(l), 2);
  CU_ASSERT_STRING_EQUAL(tail(l, 0), "a/2024/03/01/nfcapd.202403012355");
  CU_ASSERT_STRING_EQUAL(tail(l, 1), "a/2024/03/02/nfcapd.202403020000");
  nfh_filelist_destroy(l);

  /* A reversed range is an error with a message. */
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(spec, sizeof(spec),
           "%s/a/2024/03/02/nfcapd.202403020000:nfcapd.202403010000", root);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, spec), NFH_ESYNTAX);
  CU_ASSERT(strlen(nfh_filelist_error(l)) > 0);
  snprintf(spec, sizeof(spec), "%s/nope", root);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, spec), NFH_ENOTFOUND);
  /* The first file must exist, as nfdump requires: a mistyped minute
   * began silently at the next file. */
  snprintf(spec, sizeof(spec), "%s/a/2024/03/01/nfcapd.202403012351", root);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, spec), NFH_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_filelist_error(l), "must exist"));
  snprintf(spec, sizeof(spec),
           "%s/a/2024/03/01/nfcapd.202403012351:2024/03/02/"
           "nfcapd.202403020000",
           root);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, spec), NFH_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_filelist_error(l), "must exist"));
  nfh_filelist_destroy(l);
}

static void test_sources(void) {
  nfh_filelist *l;
  char spec[512];
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(spec, sizeof(spec), "%s/a:b", root);
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_set_sources(l, spec), NFH_OK);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, "2024/03/01/nfcapd.202403012355:"
                                            "2024/03/02/nfcapd.202403020000"),
                  NFH_OK);
  nfh_filelist_finish(l);
  /* Both sources, interleaved by time slot. */
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_count(l), 4);
  CU_ASSERT_STRING_EQUAL(tail(l, 0), "a/2024/03/01/nfcapd.202403012355");
  CU_ASSERT_STRING_EQUAL(tail(l, 1), "b/2024/03/01/nfcapd.202403012355");
  CU_ASSERT_STRING_EQUAL(tail(l, 2), "a/2024/03/02/nfcapd.202403020000");
  nfh_filelist_destroy(l);

  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_set_sources(l, spec), NFH_OK);
  CU_ASSERT_EQUAL(nfh_filelist_add_sources(l), NFH_OK);
  nfh_filelist_finish(l);
  CU_ASSERT_EQUAL(nfh_filelist_count(l), 6);
  nfh_filelist_destroy(l);

  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(spec, sizeof(spec), "%s/a:zzz", root);
  CU_ASSERT_EQUAL(nfh_filelist_set_sources(l, spec), NFH_ENOTFOUND);
  nfh_filelist_destroy(l);
}

static void test_explicit_files(void) {
  nfh_filelist *l;
  char spec[512];
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  /* An explicit file is taken as named, even a non-nfcapd one: the
   * reader then reports it. */
  snprintf(spec, sizeof(spec), "%s/a/2024/03/02/nfhunt.202403020005.json",
           root);
  CU_ASSERT_EQUAL(nfh_filelist_add_file(l, spec), NFH_OK);
  snprintf(spec, sizeof(spec), "%s/b", root); /* a directory: as -R */
  CU_ASSERT_EQUAL(nfh_filelist_add_file(l, spec), NFH_OK);
  nfh_filelist_finish(l);
  CU_ASSERT_EQUAL(nfh_filelist_count(l), 3);
  nfh_filelist_destroy(l);
}

static void test_symlinks(void) {
  /* c/2024/03: one file; c/2024/03/up: a symlink to c/2024 (a cycle);
   * c/alias: a symlink to c/2024 (the same files under other names). */
  touch("c/2024/03/nfcapd.202403020100", 1);
  char link[512], spec[512];
  snprintf(link, sizeof(link), "%s/c/2024/03/up", root);
  CU_ASSERT_EQUAL_FATAL(symlink("..", link), 0);
  snprintf(link, sizeof(link), "%s/c/alias", root);
  CU_ASSERT_EQUAL_FATAL(symlink("2024", link), 0);

  nfh_filelist *l;
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(spec, sizeof(spec), "%s/c", root);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, spec), NFH_OK);
  nfh_filelist_finish(l);
  /* Read once: not once per way to it, nor once per turn of the cycle. */
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_count(l), 1);
  CU_ASSERT_STRING_EQUAL(tail(l, 0), "c/2024/03/nfcapd.202403020100");
  nfh_filelist_destroy(l);

  /* A link from the read tree to a directory above its root leads out
   * of it and back in: not followed (-R c/2024 read all of the test
   * root, a and b too). */
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(spec, sizeof(spec), "%s/c/2024", root);
  snprintf(link, sizeof(link), "%s/c/2024/out", root);
  CU_ASSERT_EQUAL_FATAL(symlink("../..", link), 0);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, spec), NFH_OK);
  nfh_filelist_finish(l);
  CU_ASSERT_EQUAL(nfh_filelist_count(l), 1);
  nfh_filelist_destroy(l);
  unlink(link);

  /* Two names of one file given with -r: one file. */
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(spec, sizeof(spec), "%s/c/alias/03/nfcapd.202403020100", root);
  CU_ASSERT_EQUAL(nfh_filelist_add_file(l, spec), NFH_OK);
  snprintf(spec, sizeof(spec), "%s/c/2024/03/nfcapd.202403020100", root);
  CU_ASSERT_EQUAL(nfh_filelist_add_file(l, spec), NFH_OK);
  nfh_filelist_finish(l);
  CU_ASSERT_EQUAL(nfh_filelist_count(l), 1);
  /* Said, for a message: which name was dropped as which (700 hard
   * links of one file were read once in silence). */
  const char *dropped = NULL, *kept = NULL;
  CU_ASSERT_EQUAL(nfh_filelist_same_files(l, &dropped, &kept), 1);
  CU_ASSERT(dropped && kept && strcmp(dropped, kept) != 0 &&
            strstr(dropped, "nfcapd.202403020100") &&
            strstr(kept, "nfcapd.202403020100"));
  nfh_filelist_destroy(l);
}

static uint64_t local_ms(int y, int mo, int d, int h, int mi, int s) {
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
  tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s, tm.tm_isdst = -1;
  return (uint64_t)mktime(&tm) * 1000;
}

/* Links that reach one directory by many paths (each of d0..d11 links
 * three times to the next: 3^11 paths) are walked once per directory;
 * the walk took minutes and gigabytes. A FIFO and a link loop under
 * capture names are listed, for the reader to name them (they were
 * passed over without a word). A tree deeper than the walk goes is
 * refused with a message (it was cut silently at 16 levels). */
static void test_odd_trees(void) {
  char base[512], path[600], target[64];
  snprintf(base, sizeof(base), "%s/dag", root);
  mkdir(base, 0755);
  for (int i = 0; i <= 12; i++) {
    snprintf(path, sizeof(path), "%s/d%d", base, i);
    mkdir(path, 0755);
  }
  for (int i = 0; i < 12; i++)
    for (int k = 0; k < 3; k++) {
      snprintf(path, sizeof(path), "%s/d%d/to%d", base, i, k);
      snprintf(target, sizeof(target), "../d%d", i + 1);
      CU_ASSERT_EQUAL(symlink(target, path), 0);
    }
  touch("dag/d12/nfcapd.202403040000", 1);
  snprintf(path, sizeof(path), "%s/d0/nfcapd.202403040005", base);
  CU_ASSERT_EQUAL(mkfifo(path, 0644), 0);
  snprintf(path, sizeof(path), "%s/d0/nfcapd.202403040010", base);
  CU_ASSERT_EQUAL(symlink("nfcapd.202403040010", path), 0);

  nfh_filelist *l;
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(path, sizeof(path), "%s/d0", base);
  time_t t0 = time(NULL);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, path), NFH_OK);
  CU_ASSERT(time(NULL) - t0 < 5);
  nfh_filelist_finish(l);
  CU_ASSERT_EQUAL(nfh_filelist_count(l), 3);
  nfh_filelist_destroy(l);

  /* 70 levels. */
  char deep[4096];
  snprintf(deep, sizeof(deep), "%s/deep", root);
  mkdir(deep, 0755);
  for (int i = 0; i < 70; i++) {
    strcat(deep, "/x");
    CU_ASSERT_EQUAL_FATAL(mkdir(deep, 0755), 0);
  }
  CU_ASSERT_EQUAL_FATAL(nfh_filelist_create(&l), NFH_OK);
  snprintf(path, sizeof(path), "%s/deep", root);
  CU_ASSERT_EQUAL(nfh_filelist_add_range(l, path), NFH_ESYNTAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(nfh_filelist_error(l), "directory levels"));
  nfh_filelist_destroy(l);
}

static void test_time_window(void) {
  uint64_t a, b;
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024/03/01.10:15:00-2024/03/01."
                                        "11:00:00",
                                        &a, &b),
                  NFH_OK);
  CU_ASSERT_EQUAL(a, local_ms(2024, 3, 1, 10, 15, 0));
  /* An end to the second is that instant, as in nfdump. */
  CU_ASSERT_EQUAL(b, local_ms(2024, 3, 1, 11, 0, 0));
  /* Partial ends are the instant they name, the rest zero, as nfdump
   * 1.7 takes them (they covered their unit: 1,166 flows more than
   * nfdump in an hour's window). */
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024/03/01-2024/03/02", &a, &b),
                  NFH_OK);
  CU_ASSERT_EQUAL(a, local_ms(2024, 3, 1, 0, 0, 0));
  CU_ASSERT_EQUAL(b, local_ms(2024, 3, 2, 0, 0, 0));
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024/03/01.10:00-2024/03/01.11:00",
                                        &a, &b),
                  NFH_OK);
  CU_ASSERT_EQUAL(b, local_ms(2024, 3, 1, 11, 0, 0));
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024/03/01.10", &a, &b), NFH_OK);
  CU_ASSERT_EQUAL(a, local_ms(2024, 3, 1, 10, 0, 0));
  CU_ASSERT_EQUAL(b, UINT64_MAX);
  /* ISO 8601 on both ends. */
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024-03-01T10:00-2024-03-01T10:30",
                                        &a, &b),
                  NFH_OK);
  CU_ASSERT_EQUAL(a, local_ms(2024, 3, 1, 10, 0, 0));
  CU_ASSERT_EQUAL(b, local_ms(2024, 3, 1, 10, 30, 0));
  CU_ASSERT_EQUAL(nfh_parse_time_window("yesterday", &a, &b), NFH_ESYNTAX);
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024/13/01", &a, &b), NFH_ESYNTAX);
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024/02/30", &a, &b), NFH_ESYNTAX);
  CU_ASSERT_EQUAL(nfh_parse_time_window("2023/02/29", &a, &b), NFH_ESYNTAX);
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024/02/29", &a, &b), NFH_OK);
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024/03/02-2024/03/01", &a, &b),
                  NFH_ESYNTAX);
  CU_ASSERT_EQUAL(nfh_parse_time_window("2024/03/01.10:00:00x", &a, &b),
                  NFH_ESYNTAX);
}

static void test_slot_time(void) {
  CU_ASSERT_EQUAL(nfh_file_slot_time("/x/nfcapd.202403011005"),
                  (int64_t)(local_ms(2024, 3, 1, 10, 5, 0) / 1000));
  CU_ASSERT_EQUAL(nfh_file_slot_time("nfcapd.20240301100530"),
                  (int64_t)(local_ms(2024, 3, 1, 10, 5, 30) / 1000));
  CU_ASSERT_EQUAL(nfh_file_slot_time("nfcapd.current.1234"), -1);
  CU_ASSERT_EQUAL(nfh_file_slot_time("nfcapd.2024"), -1);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("filelist", setup, teardown);
  CU_add_test(s, "recursive -R", test_recursive);
  CU_add_test(s, "ranges", test_ranges);
  CU_add_test(s, "-M sources", test_sources);
  CU_add_test(s, "explicit files", test_explicit_files);
  CU_add_test(s, "symlinked directories", test_symlinks);
  CU_add_test(s, "-t windows", test_time_window);
  CU_add_test(s, "links by many paths, FIFOs, deep trees", test_odd_trees);
  CU_add_test(s, "slot time from name", test_slot_time);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
