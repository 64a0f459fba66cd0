/*
 * hunt/conf.h - nfhunt.conf, the configuration file of nfhunt(1).
 *
 * The format (nfhunt.conf(5)) is lines of "key = value"; '#' or ';'
 * starts a comment (at the start of a line, or after white space); a
 * value may be double-quoted ("a # b", with \" and \\). Keys before any
 * section are global; "[detector NAME]" starts the settings of one
 * detector. Global keys:
 *
 *   home_net, allow, allow_file       (repeatable: each adds)
 *   plugin_dir, plugins, state, lock_wait, alert_level, format, quiet,
 *   syslog, syslog_facility, threads (each once; a later line wins)
 *
 * In a detector section: enabled, allow, allow_file, and any other key,
 * which becomes a parameter of the detector (nfh_engine_set): the
 * detector itself judges those when it is created.
 *
 * Every error names the file and line: "nfhunt.conf:12: unknown key
 * 'hme_net' (did you mean 'home_net'?)". What the parser can check it
 * checks at once (keys, severities, numbers, yes/no, facilities, that an
 * allow_file can be read); addresses and allow rules are checked by the
 * engine in hunt_conf_apply, which reports them with the same prefix.
 */
#ifndef NFH_HUNT_CONF_H
#define NFH_HUNT_CONF_H

#include <stddef.h>

#include <nfhunt/engine.h>
#include <nfhunt/finding.h>
#include <nfhunt/status.h>

/* One value and where it was written. 'file' points into the conf's
 * own strings (the config file or an allow_file). */
typedef struct hunt_conf_value {
  char *text;
  const char *file;
  int line;
} hunt_conf_value;

typedef struct hunt_conf_list {
  hunt_conf_value *v;
  size_t n;
} hunt_conf_list;

/* A detector parameter of a [detector NAME] section. */
typedef struct hunt_conf_param {
  char *key;
  hunt_conf_value value;
} hunt_conf_param;

typedef struct hunt_conf_detector {
  char *name;
  int line; /* of the [detector NAME] line */
  hunt_conf_param *params;
  size_t nparams;
  hunt_conf_list allow; /* specs without a detector prefix */
} hunt_conf_detector;

/* Output formats of -o / format. */
typedef enum hunt_format {
  HUNT_FORMAT_TEXT,
  HUNT_FORMAT_JSON,
  HUNT_FORMAT_NDJSON
} hunt_format;

/* The parsed file. Scalars: 'set' says whether the file gave them
 * (value.line is then their line). Everything is owned by the conf. */
typedef struct hunt_conf {
  char *path;
  char **files; /* the config file and every allow_file, for messages */
  size_t nfiles;

  hunt_conf_list home_net; /* one CIDR per value */
  hunt_conf_list allow;    /* "[DETECTOR:]SPEC" per value */

  hunt_conf_value plugin_dir, plugins, state;
  int no_state; /* state = none */
  hunt_conf_value lock_wait_v, alert_v, format_v, quiet_v, syslog_v;
  hunt_conf_value facility_v, threads_v;
  unsigned lock_wait; /* valid when lock_wait_v.line */
  nfh_severity alert; /* valid when alert_v.line */
  hunt_format format; /* valid when format_v.line */
  int quiet, syslog;  /* valid when their _v.line */
  int facility;       /* LOG_DAEMON...; valid when facility_v.line */
  unsigned threads;   /* valid when threads_v.line */

  hunt_conf_detector *detectors;
  size_t ndetectors;
} hunt_conf;

/* Reads and parses 'path'. NFH_OK and *out; NFH_EIO (cannot read the
 * file), NFH_ESYNTAX (err holds "FILE:LINE: what"), NFH_ENOMEM. On
 * failure *out is NULL. err: at least 256 bytes. */
nfh_status hunt_conf_load(const char *path, hunt_conf **out, char *err,
                          size_t errlen);

/* The same for text in memory ('text' borrowed for the call; 'name'
 * copied, used in messages and to resolve relative allow_file paths). */
nfh_status hunt_conf_parse(const char *name, const char *text, size_t len,
                           hunt_conf **out, char *err, size_t errlen);

/* Frees the conf; NULL is a no-op. */
void hunt_conf_free(hunt_conf *conf);

/* Gives the engine the file's home networks (unless skip_home: the
 * command line gave its own) and its allow rules, global and per
 * detector. Detector parameters are left to the caller, which merges
 * them with --set (the command line wins) before nfh_engine_set.
 * NFH_OK, or NFH_ESYNTAX with err "FILE:LINE: what", or NFH_ENOMEM. */
nfh_status hunt_conf_apply(const hunt_conf *conf, nfh_engine *engine,
                           int skip_home, char *err, size_t errlen);

/* Splits "[DETECTOR:]SPEC" as --allow and allow take it: a detector name
 * is [a-z0-9_] starting with a letter, so "10.0.0.1:53" and "[::1]:53"
 * have none. Copies the name into det (detlen bytes; "*" if none) and
 * returns the spec (a pointer into 'arg'). */
const char *hunt_allow_split(const char *arg, char *det, size_t detlen);

/* The syslog facility for a name ("daemon", "local0"...), or -1. */
int hunt_syslog_facility(const char *name);

/* Parses yes/no, true/false, on/off, 1/0: 1, 0, or -1. */
int hunt_parse_bool(const char *text);

#endif
