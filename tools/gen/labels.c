/*
 * gen/labels.c - the labels file.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../plugin/common/path.h"
#include "labels.h"

struct gen_labels {
  json_t **objs; /* one object per label */
  gen_label_counts *counts;
  uint32_t n, cap;
};

nfh_status gen_labels_create(gen_labels **out) {
  *out = calloc(1, sizeof(**out));
  return *out ? NFH_OK : NFH_ENOMEM;
}

void gen_labels_destroy(gen_labels *l) {
  if (!l)
    return;
  for (uint32_t i = 0; i < l->n; i++)
    json_decref(l->objs[i]);
  free(l->objs);
  free(l->counts);
  free(l);
}

uint32_t gen_labels_count(const gen_labels *l) { return l->n; }

gen_label_counts *gen_labels_counts(gen_labels *l) { return l->counts; }

json_t *gen_labels_object(gen_labels *l, uint32_t id) {
  return id < l->n ? l->objs[id] : NULL;
}

nfh_status gen_labels_add(gen_labels *l, const char *kind, const char *name,
                          int injected, const char *detector,
                          const char *trap_for, uint32_t *id) {
  if (l->n == l->cap) {
    uint32_t cap = l->cap ? l->cap * 2 : 32;
    json_t **o = realloc(l->objs, cap * sizeof(*o));
    if (!o)
      return NFH_ENOMEM;
    l->objs = o;
    gen_label_counts *c = realloc(l->counts, cap * sizeof(*c));
    if (!c)
      return NFH_ENOMEM;
    l->counts = c;
    l->cap = cap;
  }
  json_t *obj = json_object();
  json_t *traps = json_array();
  if (!obj || !traps) {
    json_decref(obj);
    json_decref(traps);
    return NFH_ENOMEM;
  }
  if (trap_for) {
    const char *p = trap_for;
    while (*p) {
      const char *comma = strchr(p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen(p);
      json_array_append_new(traps, json_stringn(p, len));
      p += len + (comma ? 1 : 0);
    }
  }
  json_object_set_new(obj, "id", json_integer(l->n));
  json_object_set_new(obj, "name", json_string(name));
  json_object_set_new(obj, "kind", json_string(kind));
  json_object_set_new(obj, "class", json_string(injected ? "injected"
                                                          : "benign"));
  json_object_set_new(obj, "detector",
                      detector ? json_string(detector) : json_null());
  json_object_set_new(obj, "trap_for", traps);
  json_object_set_new(obj, "src", json_array());
  json_object_set_new(obj, "dst", json_array());
  json_object_set_new(obj, "dst_ports", json_array());
  json_object_set_new(obj, "protos", json_array());
  json_object_set_new(obj, "params", json_object());
  l->objs[l->n] = obj;
  memset(&l->counts[l->n], 0, sizeof(l->counts[0]));
  *id = l->n++;
  return NFH_OK;
}

/* The array named 'list' ("src", or "match.hosts"), created on demand. */
static json_t *list_of(gen_labels *l, uint32_t id, const char *list) {
  json_t *obj = gen_labels_object(l, id);
  if (!obj)
    return NULL;
  if (strncmp(list, "match.", 6) == 0) {
    json_t *m = json_object_get(obj, "match");
    if (!m) {
      m = json_object();
      json_object_set_new(obj, "match", m);
    }
    obj = m;
    list += 6;
  }
  json_t *a = json_object_get(obj, list);
  if (!a) {
    a = json_array();
    json_object_set_new(obj, list, a);
  }
  return a;
}

void gen_labels_list_add(gen_labels *l, uint32_t id, const char *list,
                         const char *text) {
  json_t *a = list_of(l, id, list);
  if (!a)
    return;
  size_t n = json_array_size(a);
  if (n && strcmp(json_string_value(json_array_get(a, n - 1)), text) == 0)
    return;
  json_array_append_new(a, json_string(text));
}

void gen_labels_list_addr(gen_labels *l, uint32_t id, const char *list,
                          const nfh_addr *addr) {
  char buf[NFH_ADDR_STRLEN];
  gen_labels_list_add(l, id, list, nfh_addr_format(addr, buf, sizeof(buf)));
}

void gen_labels_int_add(gen_labels *l, uint32_t id, const char *list,
                        int64_t value) {
  json_t *a = list_of(l, id, list);
  if (!a)
    return;
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    if (json_integer_value(v) == value)
      return;
  }
  json_array_append_new(a, json_integer(value));
}

static json_t *params(gen_labels *l, uint32_t id) {
  json_t *obj = gen_labels_object(l, id);
  return obj ? json_object_get(obj, "params") : NULL;
}

void gen_labels_param_int(gen_labels *l, uint32_t id, const char *key,
                          int64_t value) {
  json_t *p = params(l, id);
  if (p)
    json_object_set_new(p, key, json_integer(value));
}

void gen_labels_param_real(gen_labels *l, uint32_t id, const char *key,
                           double value) {
  json_t *p = params(l, id);
  if (p)
    json_object_set_new(p, key, json_real(value));
}

void gen_labels_param_str(gen_labels *l, uint32_t id, const char *key,
                          const char *value) {
  json_t *p = params(l, id);
  if (p)
    json_object_set_new(p, key, json_string(value));
}

char *gen_iso8601(uint64_t ms, char *buf, size_t len) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%03uZ", (unsigned)(ms % 1000));
  return buf;
}

nfh_status gen_labels_write(gen_labels *l, const char *path, json_t *run) {
  json_t *root = json_object();
  json_t *acts = json_array();
  if (!root || !acts) {
    json_decref(root);
    json_decref(acts);
    return NFH_ENOMEM;
  }
  json_object_set_new(root, "format", json_string("nfhunt-gen-labels/1"));
  if (run)
    json_object_update(root, run);
  for (uint32_t i = 0; i < l->n; i++) {
    json_t *o = l->objs[i];
    const gen_label_counts *c = &l->counts[i];
    char a[32], b[32];
    json_object_set_new(o, "flows", json_integer((json_int_t)c->flows));
    json_object_set_new(o, "packets", json_integer((json_int_t)c->packets));
    json_object_set_new(o, "bytes", json_integer((json_int_t)c->bytes));
    if (c->flows) {
      json_object_set_new(o, "first", json_string(gen_iso8601(c->first_ms, a,
                                                              sizeof(a))));
      json_object_set_new(o, "last", json_string(gen_iso8601(c->last_ms, b,
                                                             sizeof(b))));
      json_object_set_new(o, "first_ms", json_integer((json_int_t)c->first_ms));
      json_object_set_new(o, "last_ms", json_integer((json_int_t)c->last_ms));
    } else {
      json_object_set_new(o, "first", json_null());
      json_object_set_new(o, "last", json_null());
      json_object_set_new(o, "first_ms", json_null());
      json_object_set_new(o, "last_ms", json_null());
    }
    json_array_append(acts, o);
  }
  json_object_set_new(root, "activities", acts);

  /* The file is replaced by a rename: over a device or a FIFO that
   * would replace the node itself. */
  if (nfh__is_special_file(path)) {
    json_decref(root);
    errno = EEXIST;
    return NFH_EIO;
  }
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) {
    json_decref(root);
    return NFH_ENOMEM;
  }
  snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  nfh_status st = NFH_OK;
  if (fd >= 0) {
    /* mkstemp makes the file private; a labels file is for everyone
     * who may read the capture tree. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
  }
  if (fd < 0) {
    st = NFH_EIO;
  } else {
    FILE *f = fdopen(fd, "w");
    if (!f) {
      close(fd);
      st = NFH_EIO;
    } else {
      if (json_dumpf(root, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
          fputc('\n', f) == EOF)
        st = NFH_EIO;
      if (fclose(f) != 0)
        st = NFH_EIO;
    }
    if (st == NFH_OK && rename(tmp, path) != 0)
      st = NFH_EIO;
    if (st != NFH_OK) {
      int e = errno;
      unlink(tmp);
      errno = e;
    }
  }
  free(tmp);
  json_decref(root);
  return st;
}
