/* conf.c - the nfhunt.conf parser; see hunt/conf.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "conf.h"

/* A config file, or an allow_file, larger than this is refused. */
#define MAX_FILE (16u << 20)
#define MAX_LINE 4096

static const char *const global_keys[] = {
    "home_net", "allow",           "allow_file",  "plugin_dir", "plugins",
    "state",    "lock_wait",       "alert_level", "format",     "quiet",
    "syslog",   "syslog_facility", "threads"};
#define NGLOBAL (sizeof(global_keys) / sizeof(global_keys[0]))

static const struct {
  const char *name;
  int facility;
} facilities[] = {
    {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
    {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},           {"lpr", LOG_LPR},
    {"mail", LOG_MAIL},     {"news", LOG_NEWS},         {"syslog", LOG_SYSLOG},
    {"user", LOG_USER},     {"uucp", LOG_UUCP},         {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},     {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},     {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7}};

int hunt_syslog_facility(const char *name) {
  const char *n = strncasecmp(name, "LOG_", 4) == 0 ? name + 4 : name;
  for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
    if (strcasecmp(n, facilities[i].name) == 0)
      return facilities[i].facility;
  return -1;
}

int hunt_parse_bool(const char *t) {
  static const char *const yes[] = {"yes", "true", "on", "1"};
  static const char *const no[] = {"no", "false", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(t, yes[i]) == 0)
      return 1;
    if (strcasecmp(t, no[i]) == 0)
      return 0;
  }
  return -1;
}

const char *hunt_allow_split(const char *arg, char *det, size_t detlen) {
  size_t n = 0;
  while ((arg[n] >= 'a' && arg[n] <= 'z') ||
         (n && arg[n] >= '0' && arg[n] <= '9') || (n && arg[n] == '_'))
    n++;
  if (n && arg[n] == ':' && arg[n + 1]) {
    /* A bare IPv6 address ("fe80::1", "abcd:1::/48") also starts with
     * letters and a colon: it is one when the whole text parses as an
     * address. */
    char addr[64];
    snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(arg, "/"), arg);
    nfh_addr a;
    if (nfh_addr_parse(addr, &a) != 0) {
      snprintf(det, detlen, "%.*s", (int)n, arg);
      return arg + n + 1;
    }
  }
  snprintf(det, detlen, "*");
  return arg;
}

/* ------------------------------------------------------------- parsing */

typedef struct parser {
  hunt_conf *c;
  const char *file; /* the current file's name, owned by c->files */
  int line;
  hunt_conf_detector *section; /* NULL: global */
  char *err;
  size_t errlen;
  char *dir; /* directory of the config file, for relative paths */
} parser;

static nfh_status perr(parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static nfh_status perr(parser *p, const char *fmt, ...) {
  int n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, p->line);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < p->errlen)
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return NFH_ESYNTAX;
}

static nfh_status oom(parser *p) {
  snprintf(p->err, p->errlen, "%s:%d: out of memory", p->file, p->line);
  return NFH_ENOMEM;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

static int set_value(hunt_conf_value *v, const parser *p, const char *text) {
  char *copy = strdup(text);
  if (!copy)
    return -1;
  free(v->text);
  v->text = copy;
  v->file = p->file;
  v->line = p->line;
  return 0;
}

static int list_add(hunt_conf_list *l, const parser *p, const char *text) {
  hunt_conf_value *grown = realloc(l->v, (l->n + 1) * sizeof(*grown));
  if (!grown)
    return -1;
  l->v = grown;
  memset(&l->v[l->n], 0, sizeof(l->v[0]));
  if (set_value(&l->v[l->n], p, text) != 0)
    return -1;
  l->n++;
  return 0;
}

/* Adds each comma- or blank-separated item of 'text'. */
static int list_add_items(hunt_conf_list *l, const parser *p, char *text) {
  char *save = NULL;
  for (char *tok = strtok_r(text, ", \t", &save); tok;
       tok = strtok_r(NULL, ", \t", &save))
    if (list_add(l, p, tok) != 0)
      return -1;
  return 0;
}

static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 40 || lb > 40)
    return 99;
  int d[41][41];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
      d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
  return d[la][lb];
}

/* A path as written, or relative to the config file's directory. */
static char *resolve(const parser *p, const char *path) {
  if (path[0] == '/' || !p->dir)
    return strdup(path);
  size_t n = strlen(p->dir) + strlen(path) + 2;
  char *out = malloc(n);
  if (out)
    snprintf(out, n, "%s/%s", p->dir, path);
  return out;
}

static int valid_name(const char *s) {
  if (!(*s >= 'a' && *s <= 'z'))
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return 0;
  return 1;
}

static int valid_param_key(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-'))
      return 0;
  return 1;
}

static nfh_status read_file(const char *path, char **text, size_t *len,
                            int *err_no) {
  *text = NULL;
  *len = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    *err_no = errno;
    return NFH_EIO;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    fclose(f);
    return NFH_ENOMEM;
  }
  size_t got;
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      if (cap >= MAX_FILE) {
        free(buf);
        fclose(f);
        *err_no = EFBIG;
        return NFH_EIO;
      }
      char *grown = realloc(buf, 2 * cap + 1);
      if (!grown) {
        free(buf);
        fclose(f);
        return NFH_ENOMEM;
      }
      buf = grown;
      cap *= 2;
    }
  }
  int bad = ferror(f);
  *err_no = errno;
  fclose(f);
  if (bad) {
    free(buf);
    return NFH_EIO;
  }
  buf[n] = '\0';
  *text = buf;
  *len = n;
  return NFH_OK;
}

static const char *keep_file_name(hunt_conf *c, const char *name) {
  char **grown = realloc(c->files, (c->nfiles + 1) * sizeof(char *));
  if (!grown)
    return NULL;
  c->files = grown;
  if (!(c->files[c->nfiles] = strdup(name)))
    return NULL;
  return c->files[c->nfiles++];
}

/* allow_file: one or more specs per line, '#' comments. */
static nfh_status load_allow_file(parser *p, const char *value,
                                  hunt_conf_list *into) {
  char *path = resolve(p, value);
  if (!path)
    return oom(p);
  char *text;
  size_t len;
  int err_no = 0;
  nfh_status st = read_file(path, &text, &len, &err_no);
  if (st != NFH_OK) {
    st = st == NFH_ENOMEM
             ? oom(p)
             : perr(p, "allow_file %s: %s", path, strerror(err_no));
    free(path);
    return st;
  }
  parser sub = *p;
  sub.file = keep_file_name(p->c, path);
  free(path);
  if (!sub.file) {
    free(text);
    return oom(p);
  }
  sub.line = 0;
  /* Split by hand: strtok_r would merge empty lines and lose count. */
  char *line = text;
  while (line) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    sub.line++;
    char *hash = strchr(line, '#');
    if (hash)
      *hash = '\0';
    char *t = trim(line);
    if (*t && list_add_items(into, &sub, t) != 0) {
      free(text);
      return oom(p);
    }
    line = nl ? nl + 1 : NULL;
  }
  free(text);
  return NFH_OK;
}

static hunt_conf_detector *find_or_add_section(hunt_conf *c, const char *name,
                                               int line) {
  for (size_t i = 0; i < c->ndetectors; i++)
    if (strcmp(c->detectors[i].name, name) == 0)
      return &c->detectors[i];
  hunt_conf_detector *grown =
      realloc(c->detectors, (c->ndetectors + 1) * sizeof(*grown));
  if (!grown)
    return NULL;
  c->detectors = grown;
  hunt_conf_detector *d = &c->detectors[c->ndetectors];
  memset(d, 0, sizeof(*d));
  if (!(d->name = strdup(name)))
    return NULL;
  d->line = line;
  c->ndetectors++;
  return d;
}

static nfh_status parse_uint(parser *p, const char *key, const char *v,
                             unsigned max, unsigned *out) {
  char *end;
  errno = 0;
  unsigned long u = strtoul(v, &end, 10);
  if (end == v || *end || errno || u > max || v[0] == '-')
    return perr(p, "%s: '%s' is not a number from 0 to %u", key, v, max);
  *out = (unsigned)u;
  return NFH_OK;
}

static nfh_status parse_bool_key(parser *p, const char *key, const char *v,
                                 hunt_conf_value *slot, int *out) {
  int b = hunt_parse_bool(v);
  if (b < 0)
    return perr(p, "%s: '%s' is not yes or no", key, v);
  *out = b;
  return set_value(slot, p, v) == 0 ? NFH_OK : oom(p);
}

static nfh_status global_key(parser *p, const char *key, char *v) {
  hunt_conf *c = p->c;
  if (strcmp(key, "home_net") == 0)
    return list_add_items(&c->home_net, p, v) == 0 ? NFH_OK : oom(p);
  if (strcmp(key, "allow") == 0)
    return list_add_items(&c->allow, p, v) == 0 ? NFH_OK : oom(p);
  if (strcmp(key, "allow_file") == 0)
    return load_allow_file(p, v, &c->allow);
  if (strcmp(key, "plugin_dir") == 0 || strcmp(key, "state") == 0) {
    int is_state = key[0] == 's';
    if (is_state && strcmp(v, "none") == 0) {
      c->no_state = 1;
      return set_value(&c->state, p, v) == 0 ? NFH_OK : oom(p);
    }
    char *path = resolve(p, v);
    if (!path)
      return oom(p);
    int rc = set_value(is_state ? &c->state : &c->plugin_dir, p, path);
    free(path);
    if (is_state)
      c->no_state = 0;
    return rc == 0 ? NFH_OK : oom(p);
  }
  if (strcmp(key, "plugins") == 0) {
    /* Normalised to "a,b,c" as nfh_engine_only takes it. */
    char out[MAX_LINE] = "";
    char *save = NULL;
    for (char *tok = strtok_r(v, ", \t", &save); tok;
         tok = strtok_r(NULL, ", \t", &save)) {
      if (!valid_name(tok))
        return perr(p, "plugins: '%s' is not a detector name", tok);
      if (out[0])
        strcat(out, ",");
      strncat(out, tok, sizeof(out) - strlen(out) - 1);
    }
    return set_value(&c->plugins, p, out) == 0 ? NFH_OK : oom(p);
  }
  if (strcmp(key, "lock_wait") == 0) {
    nfh_status st = parse_uint(p, key, v, 86400, &c->lock_wait);
    if (st != NFH_OK)
      return st;
    return set_value(&c->lock_wait_v, p, v) == 0 ? NFH_OK : oom(p);
  }
  if (strcmp(key, "threads") == 0) {
    nfh_status st = parse_uint(p, key, v, 64, &c->threads);
    if (st != NFH_OK)
      return st;
    return set_value(&c->threads_v, p, v) == 0 ? NFH_OK : oom(p);
  }
  if (strcmp(key, "alert_level") == 0) {
    if (nfh_severity_parse(v, &c->alert) != 0)
      return perr(p,
                  "alert_level: '%s' is not one of info, low, medium, high, "
                  "critical",
                  v);
    return set_value(&c->alert_v, p, v) == 0 ? NFH_OK : oom(p);
  }
  if (strcmp(key, "format") == 0) {
    if (strcmp(v, "text") == 0)
      c->format = HUNT_FORMAT_TEXT;
    else if (strcmp(v, "json") == 0)
      c->format = HUNT_FORMAT_JSON;
    else if (strcmp(v, "ndjson") == 0)
      c->format = HUNT_FORMAT_NDJSON;
    else
      return perr(p, "format: '%s' is not one of text, json, ndjson", v);
    return set_value(&c->format_v, p, v) == 0 ? NFH_OK : oom(p);
  }
  if (strcmp(key, "quiet") == 0)
    return parse_bool_key(p, key, v, &c->quiet_v, &c->quiet);
  if (strcmp(key, "syslog") == 0)
    return parse_bool_key(p, key, v, &c->syslog_v, &c->syslog);
  if (strcmp(key, "syslog_facility") == 0) {
    int f = hunt_syslog_facility(v);
    if (f < 0)
      return perr(p,
                  "syslog_facility: '%s' is not a facility (daemon, user, "
                  "local0 ... local7, auth, authpriv, cron, ftp, lpr, mail, "
                  "news, syslog, uucp)",
                  v);
    c->facility = f;
    return set_value(&c->facility_v, p, v) == 0 ? NFH_OK : oom(p);
  }
  /* Unknown: suggest the nearest known key. */
  const char *best = NULL;
  int best_d = 3;
  for (size_t i = 0; i < NGLOBAL; i++) {
    int d = edit_distance(key, global_keys[i]);
    if (d < best_d) {
      best_d = d;
      best = global_keys[i];
    }
  }
  if (best)
    return perr(p, "unknown key '%s' (did you mean '%s'?)", key, best);
  return perr(p, "unknown key '%s'", key);
}

static nfh_status detector_key(parser *p, const char *key, char *v) {
  hunt_conf_detector *d = p->section;
  if (strcmp(key, "allow") == 0)
    return list_add_items(&d->allow, p, v) == 0 ? NFH_OK : oom(p);
  if (strcmp(key, "allow_file") == 0)
    return load_allow_file(p, v, &d->allow);
  if (strcmp(key, "enabled") == 0) {
    int b = hunt_parse_bool(v);
    if (b < 0)
      return perr(p, "enabled: '%s' is not yes or no", v);
    v = b ? "yes" : "no";
  }
  if (!valid_param_key(key))
    return perr(p, "'%s' is not a parameter name", key);
  hunt_conf_param *grown =
      realloc(d->params, (d->nparams + 1) * sizeof(*grown));
  if (!grown)
    return oom(p);
  d->params = grown;
  hunt_conf_param *pa = &d->params[d->nparams];
  memset(pa, 0, sizeof(*pa));
  if (!(pa->key = strdup(key)) || set_value(&pa->value, p, v) != 0) {
    free(pa->key);
    return oom(p);
  }
  d->nparams++;
  return NFH_OK;
}

/* A value: quoted ("..." with \" and \\) or bare up to a comment. */
static nfh_status parse_value_text(parser *p, char *v, char **out) {
  if (*v == '"') {
    char *w = v, *r = v + 1;
    for (;; r++) {
      if (!*r)
        return perr(p, "unterminated quoted value");
      if (*r == '\\' && (r[1] == '"' || r[1] == '\\')) {
        *w++ = *++r;
        continue;
      }
      if (*r == '"')
        break;
      *w++ = *r;
    }
    *w = '\0';
    char *rest = trim(r + 1);
    if (*rest && *rest != '#' && *rest != ';')
      return perr(p, "text after the quoted value: '%s'", rest);
    *out = v;
    return NFH_OK;
  }
  for (char *s = v; *s; s++)
    if ((*s == '#' || *s == ';') && (s == v || s[-1] == ' ' || s[-1] == '\t')) {
      *s = '\0';
      break;
    }
  *out = trim(v);
  if (!**out)
    return perr(p, "empty value");
  return NFH_OK;
}

static nfh_status parse_line(parser *p, char *line) {
  char *t = trim(line);
  if (!*t || *t == '#' || *t == ';')
    return NFH_OK;
  if (*t == '[') {
    char *close = strchr(t, ']');
    if (!close)
      return perr(p, "section without ']'");
    char *after = trim(close + 1);
    if (*after && *after != '#' && *after != ';')
      return perr(p, "text after the section header: '%s'", after);
    *close = '\0';
    char *in = trim(t + 1);
    if (strcmp(in, "global") == 0) {
      p->section = NULL;
      return NFH_OK;
    }
    if (strncmp(in, "detector", 8) != 0 || (in[8] != ' ' && in[8] != '\t'))
      return perr(p,
                  "unknown section '[%s]' (expected [detector NAME] or "
                  "[global])",
                  in);
    char *name = trim(in + 9);
    if (!valid_name(name))
      return perr(p,
                  "'%s' is not a detector name (lower case letters, digits, "
                  "'_')",
                  name);
    p->section = find_or_add_section(p->c, name, p->line);
    return p->section ? NFH_OK : oom(p);
  }
  char *eq = strchr(t, '=');
  if (!eq)
    return perr(p, "expected 'key = value', not '%s'", t);
  *eq = '\0';
  char *key = trim(t);
  if (!*key)
    return perr(p, "a value without a key");
  char *value = NULL;
  nfh_status st = parse_value_text(p, trim(eq + 1), &value);
  if (st != NFH_OK)
    return st;
  return p->section ? detector_key(p, key, value) : global_key(p, key, value);
}

nfh_status hunt_conf_parse(const char *name, const char *text, size_t len,
                           hunt_conf **out, char *err, size_t errlen) {
  *out = NULL;
  err[0] = '\0';
  hunt_conf *c = calloc(1, sizeof(*c));
  char *copy = malloc(len + 1);
  parser p;
  memset(&p, 0, sizeof(p));
  p.c = c;
  p.err = err;
  p.errlen = errlen;
  p.file = name;
  if (!c || !copy || !(c->path = strdup(name)) ||
      !(p.file = keep_file_name(c, name))) {
    free(copy);
    hunt_conf_free(c);
    snprintf(err, errlen, "%s: out of memory", name);
    return NFH_ENOMEM;
  }
  const char *slash = strrchr(name, '/');
  if (slash &&
      !(p.dir = strndup(name, slash > name ? (size_t)(slash - name) : 1))) {
    free(copy);
    hunt_conf_free(c);
    snprintf(err, errlen, "%s: out of memory", name);
    return NFH_ENOMEM;
  }
  memcpy(copy, text, len);
  copy[len] = '\0';
  nfh_status st = NFH_OK;
  char *line = copy;
  /* A UTF-8 byte order mark, as some editors write one: not part of the
   * first key ("unknown key 'alert_level'" showed it as nothing). */
  if (len >= 3 && memcmp(copy, "\xef\xbb\xbf", 3) == 0)
    line += 3;
  while (line && st == NFH_OK) {
    char *nl = memchr(line, '\n', (size_t)(copy + len - line));
    size_t seg = nl ? (size_t)(nl - line) : (size_t)(copy + len - line);
    if (nl)
      *nl = '\0';
    p.line++;
    if (seg > MAX_LINE)
      st = perr(&p, "line longer than %u bytes", MAX_LINE);
    else if (strlen(line) != seg)
      st = perr(&p, "NUL byte in the line");
    else
      st = parse_line(&p, line);
    line = nl ? nl + 1 : NULL;
  }
  free(copy);
  free(p.dir);
  if (st != NFH_OK) {
    hunt_conf_free(c);
    return st;
  }
  *out = c;
  return NFH_OK;
}

nfh_status hunt_conf_load(const char *path, hunt_conf **out, char *err,
                          size_t errlen) {
  *out = NULL;
  char *text;
  size_t len;
  int err_no = 0;
  nfh_status st = read_file(path, &text, &len, &err_no);
  if (st != NFH_OK) {
    snprintf(err, errlen, "%s: %s", path,
             st == NFH_ENOMEM ? "out of memory" : strerror(err_no));
    return st;
  }
  st = hunt_conf_parse(path, text, len, out, err, errlen);
  free(text);
  return st;
}

static void free_value(hunt_conf_value *v) { free(v->text); }

static void free_list(hunt_conf_list *l) {
  for (size_t i = 0; i < l->n; i++)
    free_value(&l->v[i]);
  free(l->v);
}

void hunt_conf_free(hunt_conf *c) {
  if (!c)
    return;
  free_list(&c->home_net);
  free_list(&c->allow);
  hunt_conf_value *scalars[] = {&c->plugin_dir,  &c->plugins,  &c->state,
                                &c->lock_wait_v, &c->alert_v,  &c->format_v,
                                &c->quiet_v,     &c->syslog_v, &c->facility_v,
                                &c->threads_v};
  for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
    free_value(scalars[i]);
  for (size_t i = 0; i < c->ndetectors; i++) {
    hunt_conf_detector *d = &c->detectors[i];
    for (size_t k = 0; k < d->nparams; k++) {
      free(d->params[k].key);
      free_value(&d->params[k].value);
    }
    free(d->params);
    free_list(&d->allow);
    free(d->name);
  }
  free(c->detectors);
  for (size_t i = 0; i < c->nfiles; i++)
    free(c->files[i]);
  free(c->files);
  free(c->path);
  free(c);
}

/* ------------------------------------------------------------- applying */

static nfh_status apply_error(const hunt_conf_value *v, char *err,
                              size_t errlen, const char *fmt, const char *a) {
  int n = snprintf(err, errlen, "%s:%d: ", v->file, v->line);
  if (n >= 0 && (size_t)n < errlen)
    snprintf(err + n, errlen - (size_t)n, fmt, a);
  return NFH_ESYNTAX;
}

static nfh_status apply_allow(nfh_engine *e, const char *section,
                              const hunt_conf_value *v, char *err,
                              size_t errlen) {
  char det[64];
  const char *spec = v->text;
  if (!section) {
    spec = hunt_allow_split(v->text, det, sizeof(det));
    section = det;
  }
  nfh_status st = nfh_engine_allow(e, section, spec);
  if (st == NFH_ENOMEM) {
    snprintf(err, errlen, "%s:%d: out of memory", v->file, v->line);
    return st;
  }
  if (st != NFH_OK)
    return apply_error(v, err, errlen,
                       "allow: '%s' is not CIDR, CIDR:PORT or [IPv6]:PORT "
                       "(optionally DETECTOR: first)",
                       v->text);
  return NFH_OK;
}

nfh_status hunt_conf_apply(const hunt_conf *c, nfh_engine *e, int skip_home,
                           char *err, size_t errlen) {
  for (size_t i = 0; !skip_home && i < c->home_net.n; i++) {
    nfh_status st = nfh_engine_add_home_net(e, c->home_net.v[i].text);
    if (st == NFH_ENOMEM)
      return st;
    if (st != NFH_OK)
      return apply_error(&c->home_net.v[i], err, errlen,
                         "home_net: '%s' is not a network (CIDR)",
                         c->home_net.v[i].text);
  }
  for (size_t i = 0; i < c->allow.n; i++) {
    nfh_status st = apply_allow(e, NULL, &c->allow.v[i], err, errlen);
    if (st != NFH_OK)
      return st;
  }
  for (size_t d = 0; d < c->ndetectors; d++)
    for (size_t i = 0; i < c->detectors[d].allow.n; i++) {
      nfh_status st = apply_allow(e, c->detectors[d].name,
                                  &c->detectors[d].allow.v[i], err, errlen);
      if (st != NFH_OK)
        return st;
    }
  return NFH_OK;
}
