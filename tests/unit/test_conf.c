/* test_conf.c - the nfhunt.conf parser: every key, sections, quoting,
 * allow files, and an error with file and line for every mistake. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "../../tools/hunt/conf.h"
#include "testkit.h"

static char dir[] = "/tmp/nfh_test_conf_XXXXXX";
static char err[512];

static hunt_conf *parse(const char *text) {
  hunt_conf *c = NULL;
  char name[300];
  snprintf(name, sizeof(name), "%s/nfhunt.conf", dir);
  nfh_status st =
      hunt_conf_parse(name, text, strlen(text), &c, err, sizeof(err));
  if (st != NFH_OK)
    CU_ASSERT_PTR_NULL(c);
  return c;
}

/* Parsing 'text' fails with a message ending in 'want' (after the
 * directory part of the file name). */
static void fails(const char *text, const char *want) {
  hunt_conf *c = parse(text);
  CU_ASSERT_PTR_NULL(c);
  const char *msg = strstr(err, "nfhunt.conf:");
  if (want && (!msg || strcmp(msg, want) != 0)) {
    fprintf(stderr, "\n  got  '%s'\n  want '%s'\n", msg ? msg : err, want);
    CU_FAIL("error message");
  }
  hunt_conf_free(c);
}

static void write_file(const char *name, const char *text) {
  char path[300];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs(text, f);
  fclose(f);
}

static void test_everything(void) {
  write_file("allow.txt", "# servers that may talk to anyone\n"
                          "192.0.2.53:53\n"
                          "\n"
                          "198.51.100.0/24  # backup\n");
  hunt_conf *c = parse("# nfhunt.conf\n"
                       "home_net = 10.0.0.0/8, 192.168.0.0/16\n"
                       "home_net = 2001:db8::/32\n"
                       "allow = 192.0.2.1, port_scan:10.1.2.3 ; scanner\n"
                       "allow_file = allow.txt\n"
                       "plugin_dir = /opt/nfhunt/plugins\n"
                       "plugins = port_scan, volumetric\n"
                       "state = state.db\n"
                       "lock_wait = 30\n"
                       "alert_level = MEDIUM\n"
                       "format = ndjson\n"
                       "quiet = yes\n"
                       "syslog = on\n"
                       "syslog_facility = local3\n"
                       "threads = 2\n"
                       "  \n"
                       "[detector port_scan]\n"
                       "enabled = true\n"
                       "min_hosts = \"20\"   # quoted\n"
                       "note = \"a # inside \\\"quotes\\\"\"\n"
                       "allow = 10.9.9.9\n"
                       "[detector volumetric]\n"
                       "enabled = off\n"
                       "[detector port_scan]\n"
                       "window = 3600\n"
                       "[global]\n"
                       "threads = 4\n");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_EQUAL(c->home_net.n, 3);
  CU_ASSERT_STRING_EQUAL(c->home_net.v[2].text, "2001:db8::/32");
  CU_ASSERT_EQUAL(c->home_net.v[2].line, 3);
  /* Two from the line, two from the allow file with its own lines. */
  CU_ASSERT_EQUAL_FATAL(c->allow.n, 4);
  CU_ASSERT_STRING_EQUAL(c->allow.v[1].text, "port_scan:10.1.2.3");
  CU_ASSERT_STRING_EQUAL(c->allow.v[2].text, "192.0.2.53:53");
  CU_ASSERT_EQUAL(c->allow.v[2].line, 2);
  CU_ASSERT_PTR_NOT_NULL(strstr(c->allow.v[2].file, "allow.txt"));
  CU_ASSERT_EQUAL(c->allow.v[3].line, 4);
  CU_ASSERT_STRING_EQUAL(c->allow.v[3].text, "198.51.100.0/24");
  CU_ASSERT_STRING_EQUAL(c->plugin_dir.text, "/opt/nfhunt/plugins");
  CU_ASSERT_STRING_EQUAL(c->plugins.text, "port_scan,volumetric");
  /* A relative path is relative to the file's directory. */
  char want[300];
  snprintf(want, sizeof(want), "%s/state.db", dir);
  CU_ASSERT_STRING_EQUAL(c->state.text, want);
  CU_ASSERT_EQUAL(c->no_state, 0);
  CU_ASSERT_EQUAL(c->lock_wait, 30);
  CU_ASSERT_EQUAL(c->alert, NFH_SEV_MEDIUM);
  CU_ASSERT_EQUAL(c->format, HUNT_FORMAT_NDJSON);
  CU_ASSERT_EQUAL(c->quiet, 1);
  CU_ASSERT_EQUAL(c->syslog, 1);
  CU_ASSERT_EQUAL(c->facility, LOG_LOCAL3);
  CU_ASSERT_EQUAL(c->threads, 4); /* the later line wins */
  CU_ASSERT_EQUAL(c->threads_v.line, 27);
  /* Sections: port_scan twice, merged; volumetric off. */
  CU_ASSERT_EQUAL_FATAL(c->ndetectors, 2);
  hunt_conf_detector *ps = &c->detectors[0];
  CU_ASSERT_STRING_EQUAL(ps->name, "port_scan");
  CU_ASSERT_EQUAL(ps->line, 17);
  CU_ASSERT_EQUAL_FATAL(ps->nparams, 4);
  CU_ASSERT_STRING_EQUAL(ps->params[0].key, "enabled");
  CU_ASSERT_STRING_EQUAL(ps->params[0].value.text, "yes");
  CU_ASSERT_STRING_EQUAL(ps->params[1].value.text, "20");
  CU_ASSERT_STRING_EQUAL(ps->params[2].value.text, "a # inside \"quotes\"");
  CU_ASSERT_STRING_EQUAL(ps->params[3].key, "window");
  CU_ASSERT_EQUAL(ps->params[3].value.line, 25);
  CU_ASSERT_EQUAL(ps->allow.n, 1);
  CU_ASSERT_STRING_EQUAL(c->detectors[1].params[0].value.text, "no");

  /* Applying: the engine takes the networks and the rules. */
  nfh_engine *e = NULL;
  CU_ASSERT_FATAL(nfh_engine_create(NULL, &e) == NFH_OK);
  CU_ASSERT_EQUAL(hunt_conf_apply(c, e, 0, err, sizeof(err)), NFH_OK);
  nfh_addr a;
  nfh_addr_parse("172.16.0.1", &a); /* a default, replaced */
  CU_ASSERT_FALSE(nfh_engine_is_home(e, &a));
  nfh_addr_parse("2001:db8::5", &a);
  CU_ASSERT_TRUE(nfh_engine_is_home(e, &a));
  nfh_engine_destroy(e);
  /* skip_home: the command line's --home-net replaces the file's. */
  CU_ASSERT_FATAL(nfh_engine_create(NULL, &e) == NFH_OK);
  CU_ASSERT_EQUAL(hunt_conf_apply(c, e, 1, err, sizeof(err)), NFH_OK);
  nfh_addr_parse("172.16.0.1", &a);
  CU_ASSERT_TRUE(nfh_engine_is_home(e, &a));
  nfh_engine_destroy(e);
  hunt_conf_free(c);
}

static void test_state_none_and_empty(void) {
  hunt_conf *c = parse("state = /x/y\nstate = none\n");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_EQUAL(c->no_state, 1);
  hunt_conf_free(c);
  c = parse("");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_EQUAL(c->home_net.n, 0);
  CU_ASSERT_EQUAL(c->alert_v.line, 0);
  CU_ASSERT_EQUAL(c->ndetectors, 0);
  hunt_conf_free(c);
  /* A byte order mark before the first key, as some editors write. */
  c = parse("\xef\xbb\xbf" "state = none\n");
  CU_ASSERT_PTR_NOT_NULL(c);
  if (c)
    CU_ASSERT_EQUAL(c->no_state, 1);
  hunt_conf_free(c);
  c = parse("# only comments\n; and these\n\r\n");
  CU_ASSERT_PTR_NOT_NULL(c);
  hunt_conf_free(c);
}

static void test_errors(void) {
  fails("alert_level = high\n\nhme_net = 10.0.0.0/8\n",
        "nfhunt.conf:3: unknown key 'hme_net' (did you mean 'home_net'?)");
  fails("frobnicate = 1\n", "nfhunt.conf:1: unknown key 'frobnicate'");
  fails("alert_level = hgh\n",
        "nfhunt.conf:1: alert_level: 'hgh' is not one of info, low, "
        "medium, high, critical");
  fails("lock_wait = -1\n",
        "nfhunt.conf:1: lock_wait: '-1' is not a number from 0 to 86400");
  fails("lock_wait = 86401\n",
        "nfhunt.conf:1: lock_wait: '86401' is not a number from 0 to 86400");
  fails("threads = many\n",
        "nfhunt.conf:1: threads: 'many' is not a number from 0 to 64");
  fails("format = xml\n",
        "nfhunt.conf:1: format: 'xml' is not one of text, json, ndjson");
  fails("quiet = perhaps\n", "nfhunt.conf:1: quiet: 'perhaps' is not yes "
                             "or no");
  fails("syslog_facility = local9\n",
        "nfhunt.conf:1: syslog_facility: 'local9' is not a facility "
        "(daemon, user, local0 ... local7, auth, authpriv, cron, ftp, lpr, "
        "mail, news, syslog, uucp)");
  fails("plugins = port_scan, Bad-Name\n",
        "nfhunt.conf:1: plugins: 'Bad-Name' is not a detector name");
  fails("home_net\n", "nfhunt.conf:1: expected 'key = value', not "
                      "'home_net'");
  fails("home_net =\n", "nfhunt.conf:1: empty value");
  fails("home_net = # nothing\n", "nfhunt.conf:1: empty value");
  fails(" = 5\n", "nfhunt.conf:1: a value without a key");
  fails("state = \"/var/x\n", "nfhunt.conf:1: unterminated quoted value");
  fails("state = \"/var/x\" y\n",
        "nfhunt.conf:1: text after the quoted value: 'y'");
  fails("[detector port_scan\n", "nfhunt.conf:1: section without ']'");
  fails("[detectors port_scan]\n",
        "nfhunt.conf:1: unknown section '[detectors port_scan]' (expected "
        "[detector NAME] or [global])");
  fails("[detector Port-Scan]\n",
        "nfhunt.conf:1: 'Port-Scan' is not a detector name (lower case "
        "letters, digits, '_')");
  fails("[detector x] extra\n",
        "nfhunt.conf:1: text after the section header: 'extra'");
  fails("[detector x]\nenabled = maybe\n",
        "nfhunt.conf:2: enabled: 'maybe' is not yes or no");
  fails("[detector x]\nmin hosts = 3\n",
        "nfhunt.conf:2: 'min hosts' is not a parameter name");
  fails("allow_file = missing.txt\n", NULL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing.txt: No such file"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "nfhunt.conf:1: allow_file "));
  /* A NUL byte, a very long line. */
  hunt_conf *c = NULL;
  CU_ASSERT_EQUAL(
      hunt_conf_parse("n.conf", "a = 1\0b", 7, &c, err, sizeof(err)),
      NFH_ESYNTAX);
  CU_ASSERT_STRING_EQUAL(err, "n.conf:1: NUL byte in the line");
  char *big = malloc(5000);
  CU_ASSERT_FATAL(big != NULL);
  memset(big, 'x', 4999);
  big[4999] = '\0';
  CU_ASSERT_EQUAL(hunt_conf_parse("n.conf", big, 4999, &c, err, sizeof(err)),
                  NFH_ESYNTAX);
  CU_ASSERT_STRING_EQUAL(err, "n.conf:1: line longer than 4096 bytes");
  free(big);
}

static void test_apply_errors(void) {
  nfh_engine *e = NULL;
  hunt_conf *c = parse("home_net = 10.0.0.0/8\nhome_net = 10.0.0.0/33\n");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_FATAL(nfh_engine_create(NULL, &e) == NFH_OK);
  CU_ASSERT_EQUAL(hunt_conf_apply(c, e, 0, err, sizeof(err)), NFH_ESYNTAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "nfhunt.conf:2: home_net: "
                                     "'10.0.0.0/33' is not a network"));
  nfh_engine_destroy(e);
  hunt_conf_free(c);

  write_file("bad_allow.txt", "10.0.0.1\n10.0.0.300\n");
  c = parse("allow = 10.0.0.0/8:53\n[detector x]\nallow_file = "
            "bad_allow.txt\n");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_FATAL(nfh_engine_create(NULL, &e) == NFH_OK);
  CU_ASSERT_EQUAL(hunt_conf_apply(c, e, 0, err, sizeof(err)), NFH_ESYNTAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad_allow.txt:2: allow: '10.0.0.300'"));
  nfh_engine_destroy(e);
  hunt_conf_free(c);
}

static void test_allow_split(void) {
  static const struct {
    const char *arg, *det, *spec;
  } cases[] = {
      {"port_scan:10.0.0.1", "port_scan", "10.0.0.1"},
      {"10.0.0.1:53", "*", "10.0.0.1:53"},
      {"fe80::1", "*", "fe80::1"},
      {"abcd:1::/48", "*", "abcd:1::/48"},
      {"[2001:db8::1]:53", "*", "[2001:db8::1]:53"},
      {"c2:10.0.0.0/8", "c2", "10.0.0.0/8"},
      {"dns:10.0.0.1:53", "dns", "10.0.0.1:53"},
      {"beaconing:[2001:db8::1]:443", "beaconing", "[2001:db8::1]:443"},
      {"192.0.2.0/24", "*", "192.0.2.0/24"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char det[64];
    const char *spec = hunt_allow_split(cases[i].arg, det, sizeof(det));
    CU_ASSERT_STRING_EQUAL(det, cases[i].det);
    CU_ASSERT_STRING_EQUAL(spec, cases[i].spec);
  }
}

static void test_words(void) {
  CU_ASSERT_EQUAL(hunt_parse_bool("Yes"), 1);
  CU_ASSERT_EQUAL(hunt_parse_bool("0"), 0);
  CU_ASSERT_EQUAL(hunt_parse_bool("nope"), -1);
  CU_ASSERT_EQUAL(hunt_syslog_facility("daemon"), LOG_DAEMON);
  CU_ASSERT_EQUAL(hunt_syslog_facility("LOG_LOCAL0"), LOG_LOCAL0);
  CU_ASSERT_EQUAL(hunt_syslog_facility("local8"), -1);
}

static void test_load(void) {
  hunt_conf *c = NULL;
  char path[300];
  snprintf(path, sizeof(path), "%s/none.conf", dir);
  CU_ASSERT_EQUAL(hunt_conf_load(path, &c, err, sizeof(err)), NFH_EIO);
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "none.conf: No such file"));
  write_file("ok.conf", "alert_level = high\n");
  snprintf(path, sizeof(path), "%s/ok.conf", dir);
  CU_ASSERT_EQUAL(hunt_conf_load(path, &c, err, sizeof(err)), NFH_OK);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_EQUAL(c->alert, NFH_SEV_HIGH);
  CU_ASSERT_STRING_EQUAL(c->alert_v.file, path);
  hunt_conf_free(c);
  /* The installed example parses. */
  CU_ASSERT_EQUAL(hunt_conf_load(NFH_TOP_SRCDIR "/tools/examples/nfhunt.conf",
                                 &c, err, sizeof(err)),
                  NFH_OK);
  if (!c)
    fprintf(stderr, "\n%s\n", err);
  hunt_conf_free(c);
}

static int setup(void) { return mkdtemp(dir) ? 0 : -1; }

static int teardown(void) { return tk_remove_tree(dir); }

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("conf", setup, teardown);
  CU_add_test(s, "every key, sections, quoting, allow files", test_everything);
  CU_add_test(s, "state none, empty files", test_state_none_and_empty);
  CU_add_test(s, "errors with file and line", test_errors);
  CU_add_test(s, "errors found when applying", test_apply_errors);
  CU_add_test(s, "detector prefixes of allow rules", test_allow_split);
  CU_add_test(s, "yes/no, facilities", test_words);
  CU_add_test(s, "loading files, the example", test_load);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failures = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failures != 0;
}
