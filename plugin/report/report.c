/* report.c - JSON, NDJSON and text reports; see nfhunt/report.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfhunt/report.h>

#include "../common/alloc.h"
#include "evidence.h"

char *nfh_format_iso8601(uint64_t ms, char *buf, size_t len) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%03uZ", (unsigned)(ms % 1000));
  return buf;
}

static json_t *time_value(uint64_t ms) {
  char buf[40];
  return ms ? json_string(nfh_format_iso8601(ms, buf, sizeof(buf)))
            : json_null();
}

/* A non-negative number rounded to 1/scale (10: one decimal), as the
 * report gives it. */
static json_t *rounded(double v, double scale) {
  return json_real((double)(long)(v * scale + 0.5) / scale);
}

static json_t *addr_value(const nfh_addr *a) {
  char buf[NFH_ADDR_STRLEN];
  return a->family ? json_string(nfh_addr_format(a, buf, sizeof(buf)))
                   : json_null();
}

static const char *proto_name(int proto) {
  switch (proto) {
  case 1:
    return "icmp";
  case 6:
    return "tcp";
  case 17:
    return "udp";
  case 58:
    return "ipv6-icmp";
  default:
    return NULL;
  }
}

static json_t *proto_value(int proto) {
  if (proto < 0)
    return json_null();
  const char *name = proto_name(proto);
  return name ? json_string(name) : json_integer(proto);
}

/* The mitre string "T1046,T1595" as an array. */
static json_t *mitre_value(const char *mitre) {
  json_t *a = json_array();
  if (!mitre)
    return a;
  const char *p = mitre;
  while (*p) {
    while (*p == ',' || *p == ' ')
      p++;
    const char *end = p;
    while (*end && *end != ',' && *end != ' ')
      end++;
    if (end > p)
      json_array_append_new(a, json_stringn(p, (size_t)(end - p)));
    p = end;
  }
  return a;
}

/* Findings about the same hosts: the same source and the same
 * destination (or both without one destination). Detectors see one
 * activity each their own way (a chunked upload is a beacon and an
 * exfiltration, a scanning host may also flood), and the analyst should
 * see that they are one. Only findings shown (at or above the report's
 * severity) take part. */
typedef struct relations {
  size_t *order; /* shown findings with a source, grouped by hosts */
  size_t *lo;    /* per finding: its group is order[lo[i] .. hi[i]) */
  size_t *hi;
  size_t *number; /* per finding: its place in the report, from 1 */
} relations;

/* A finding and its place in the report, sorted by hosts: the entry
 * carries what the comparison needs, so no global stands in for the
 * user pointer qsort(3) lacks (the library may write reports from
 * several threads). */
typedef struct hostref {
  const nfh_report_finding *r;
  size_t i;
} hostref;

/* Addresses in order; every "no address" (family 0) is the same. */
static int host_compare(const nfh_addr *a, const nfh_addr *b) {
  if (!a->family || !b->family)
    return (a->family != 0) - (b->family != 0);
  return nfh_addr_compare(a, b);
}

static int by_hosts(const void *pa, const void *pb) {
  const hostref *a = pa, *b = pb;
  int c = host_compare(&a->r->f.src, &b->r->f.src);
  if (!c)
    c = host_compare(&a->r->f.dst, &b->r->f.dst);
  if (c)
    return c;
  /* Within a group, in report order. */
  return a->i < b->i ? -1 : a->i > b->i;
}

static int same_hosts(const nfh_report_finding *a,
                      const nfh_report_finding *b) {
  return host_compare(&a->f.src, &b->f.src) == 0 &&
         host_compare(&a->f.dst, &b->f.dst) == 0;
}

static void relations_free(relations *rel) {
  nfh__free(rel->order);
  nfh__free(rel->lo);
  nfh__free(rel->hi);
  nfh__free(rel->number);
  memset(rel, 0, sizeof(*rel));
}

/* 0, or -1 when memory runs out (*rel then empty). */
static int relations_make(relations *rel, const nfh_report_finding *fs,
                          size_t count, nfh_severity min) {
  memset(rel, 0, sizeof(*rel));
  if (!count)
    return 0;
  rel->order = nfh__calloc(count, sizeof(size_t));
  rel->lo = nfh__calloc(count, sizeof(size_t));
  rel->hi = nfh__calloc(count, sizeof(size_t));
  rel->number = nfh__calloc(count, sizeof(size_t));
  if (!rel->order || !rel->lo || !rel->hi || !rel->number) {
    relations_free(rel);
    return -1;
  }
  hostref *refs = nfh__calloc(count, sizeof(*refs));
  if (!refs) {
    relations_free(rel);
    return -1;
  }
  size_t n = 0, shown = 0;
  for (size_t i = 0; i < count; i++) {
    if (fs[i].f.severity < min)
      continue;
    rel->number[i] = ++shown;
    if (fs[i].f.src.family)
      refs[n++] = (hostref){&fs[i], i};
  }
  qsort(refs, n, sizeof(*refs), by_hosts);
  for (size_t k = 0; k < n; k++)
    rel->order[k] = refs[k].i;
  nfh__free(refs);
  for (size_t a = 0; a < n;) {
    size_t b = a + 1;
    while (b < n && same_hosts(&fs[rel->order[a]], &fs[rel->order[b]]))
      b++;
    for (size_t k = a; k < b; k++) {
      rel->lo[rel->order[k]] = a;
      rel->hi[rel->order[k]] = b;
    }
    a = b;
  }
  return 0;
}

/* The findings related to finding i, as [{"id", "type", "severity"}]. */
static json_t *related_value(const relations *rel,
                             const nfh_report_finding *fs, size_t i) {
  json_t *a = json_array();
  if (!rel || !rel->order || !a)
    return a;
  for (size_t k = rel->lo[i]; k < rel->hi[i]; k++) {
    size_t j = rel->order[k];
    if (j == i)
      continue;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(fs[j].id));
    json_object_set_new(o, "type", json_string(fs[j].f.type));
    json_object_set_new(o, "severity",
                        json_string(nfh_severity_name(fs[j].f.severity)));
    json_array_append_new(a, o);
  }
  return a;
}

static json_t *finding_json(const nfh_report_finding *r) {
  const nfh_finding *f = &r->f;
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(r->id));
  json_object_set_new(o, "type", json_string(f->type));
  json_object_set_new(o, "severity",
                      json_string(nfh_severity_name(f->severity)));
  json_object_set_new(o, "score", rounded(f->score, 10));
  json_object_set_new(o, "src", addr_value(&f->src));
  json_object_set_new(o, "dst", addr_value(&f->dst));
  /* A NAT64 address (64:ff9b::/96) stands for an IPv4 host, the one
   * threat intelligence, firewall logs and blocklists know it by. */
  nfh_addr v4;
  if (nfh_addr_nat64(&f->src, &v4))
    json_object_set_new(o, "src_ipv4", addr_value(&v4));
  if (nfh_addr_nat64(&f->dst, &v4))
    json_object_set_new(o, "dst_ipv4", addr_value(&v4));
  json_object_set_new(o, "dst_port", f->dst_port >= 0
                                         ? json_integer(f->dst_port)
                                         : json_null());
  json_object_set_new(o, "proto", proto_value(f->proto));
  json_object_set_new(o, "first_seen", time_value(f->first_ms));
  json_object_set_new(o, "last_seen", time_value(f->last_ms));
  json_object_set_new(o, "confidence", rounded(f->confidence, 100));
  json_object_set_new(o, "mitre", mitre_value(f->mitre));
  json_object_set_new(o, "summary", json_string(f->summary));
  json_t *ev = NULL;
  if (f->evidence_json)
    ev = nfh__evidence_parse(f->evidence_json, NULL);
  json_object_set_new(o, "evidence", ev ? ev : json_object());
  json_object_set_new(o, "status", json_string(r->status));
  if (r->detector_severity != f->severity)
    json_object_set_new(o, "severity_this_run",
                        json_string(nfh_severity_name(r->detector_severity)));
  json_object_set_new(o, "detector",
                      json_string(r->detector ? r->detector : ""));
  json_object_set_new(o, "times_seen", json_integer(r->times_seen));
  json_object_set_new(o, "first_reported", time_value(r->first_reported_ms));
  json_object_set_new(o, "key", json_string(f->key));
  return o;
}

/* finding_json with the findings related to findings[i]. */
static json_t *finding_json_related(const nfh_report_finding *findings,
                                    size_t i, const relations *rel) {
  json_t *o = finding_json(&findings[i]);
  if (o)
    json_object_set_new(o, "related", related_value(rel, findings, i));
  return o;
}

static json_t *report_json(const nfh_report_finding *findings, size_t count,
                           nfh_severity min, const nfh_report_inputs *in) {
  json_t *root = json_object();
  json_object_set_new(root, "tool", json_string("nfhunt"));
  json_object_set_new(root, "version", json_string(PACKAGE_VERSION));
  json_object_set_new(root, "generated", time_value(in->generated_ms));
  json_t *window = json_object();
  json_object_set_new(window, "start", time_value(in->window_start_ms));
  json_object_set_new(window, "end", time_value(in->window_end_ms));
  json_object_set_new(root, "window", window);
  json_t *inputs = json_object();
  json_object_set_new(inputs, "files", json_integer((json_int_t)in->files));
  json_object_set_new(inputs, "files_failed",
                      json_integer((json_int_t)in->files_failed));
  json_object_set_new(inputs, "files_partly",
                      json_integer((json_int_t)in->files_partly));
  json_object_set_new(inputs, "flows", json_integer((json_int_t)in->flows));
  json_object_set_new(inputs, "connections",
                      json_integer((json_int_t)in->connections));
  json_object_set_new(inputs, "exporters",
                      json_integer((json_int_t)in->exporters));
  json_object_set_new(inputs, "duplicate_flows",
                      json_integer((json_int_t)in->duplicate_flows));
  json_t *sampling = json_object();
  json_object_set_new(sampling, "sampled_flows",
                      json_integer((json_int_t)in->sampled_flows));
  json_object_set_new(sampling, "max_interval",
                      json_integer(in->max_sampling ? in->max_sampling : 1));
  const char *note = in->sampled_flows ? "counts of sampled exporters are "
                                         "estimates scaled by nfcapd"
                                       : "no sampled exporter";
  if (in->unannounced_files) {
    note = "records look packet-sampled with no interval announced: "
           "their counts are raw samples, not estimates";
    json_t *u = json_object();
    json_object_set_new(u, "files",
                        json_integer((json_int_t)in->unannounced_files));
    json_object_set_new(u, "checked_files",
                        json_integer((json_int_t)in->checked_files));
    json_object_set_new(u, "single_packet_tcp_share",
                        rounded(in->unannounced_share, 1000));
    json_object_set_new(sampling, "unannounced", u);
  }
  json_object_set_new(sampling, "note", json_string(note));
  json_object_set_new(inputs, "sampling", sampling);
  if (in->nhome_nets) {
    json_t *home = json_object();
    json_t *nets = json_array();
    for (size_t i = 0; i < in->nhome_nets; i++)
      json_array_append_new(nets, json_string(in->home_nets[i]));
    json_object_set_new(home, "networks", nets);
    json_object_set_new(home, "from",
                        json_string(in->home_nets_from ? in->home_nets_from
                                                       : "given"));
    json_object_set_new(inputs, "home_networks", home);
  }
  json_object_set_new(root, "inputs", inputs);

  json_t *list = json_array();
  json_t *by_type = json_object();
  json_t *by_sev = json_object();
  for (int s = NFH_SEV_CRITICAL; s >= NFH_SEV_INFO; s--)
    json_object_set_new(by_sev, nfh_severity_name((nfh_severity)s),
                        json_integer(0));
  size_t shown = 0;
  relations rel;
  if (relations_make(&rel, findings, count, min) != 0) {
    json_decref(list);
    json_decref(by_type);
    json_decref(by_sev);
    json_decref(root);
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    const nfh_report_finding *r = &findings[i];
    if (r->f.severity < min)
      continue;
    shown++;
    json_array_append_new(list, finding_json_related(findings, i, &rel));
    json_t *t = json_object_get(by_type, r->f.type);
    json_object_set_new(by_type, r->f.type,
                        json_integer(t ? json_integer_value(t) + 1 : 1));
    const char *sn = nfh_severity_name(r->f.severity);
    json_object_set_new(
        by_sev, sn,
        json_integer(json_integer_value(json_object_get(by_sev, sn)) + 1));
  }
  relations_free(&rel);
  json_t *summary = json_object();
  json_object_set_new(summary, "findings", json_integer((json_int_t)shown));
  json_object_set_new(summary, "by_type", by_type);
  json_object_set_new(summary, "by_severity", by_sev);
  json_object_set_new(root, "summary", summary);
  json_object_set_new(root, "findings", list);
  return root;
}

nfh_status nfh_report_print_json(FILE *out, const nfh_report_finding *findings,
                                 size_t count, nfh_severity min,
                                 const nfh_report_inputs *in) {
  json_t *root = report_json(findings, count, min, in);
  if (!root)
    return NFH_ENOMEM;
  int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
  json_decref(root);
  fputc('\n', out);
  return rc == 0 && !ferror(out) ? NFH_OK : NFH_EIO;
}

static nfh_status write_replacing(const char *path,
                                  const nfh_report_finding *findings,
                                  size_t count, nfh_severity min,
                                  const nfh_report_inputs *in, char *message,
                                  size_t msglen);

/* Where the symbolic link 'path' points, after at most 8 links, even
 * when the target does not exist yet; NULL when 'path' is no link (or
 * memory runs out, or the links loop). Free the result. */
static char *link_target(const char *path) {
  char *cur = NULL;
  const char *p = path;
  for (int hops = 0; hops < 8; hops++) {
    struct stat sb;
    if (lstat(p, &sb) != 0 || !S_ISLNK(sb.st_mode))
      return cur;
    char target[4096];
    ssize_t n = readlink(p, target, sizeof(target) - 1);
    if (n <= 0)
      break;
    target[n] = '\0';
    const char *slash = strrchr(p, '/');
    size_t dirlen = target[0] != '/' && slash ? (size_t)(slash - p) + 1 : 0;
    char *next = nfh__malloc(dirlen + (size_t)n + 1);
    if (!next)
      break;
    memcpy(next, p, dirlen);
    memcpy(next + dirlen, target, (size_t)n + 1);
    nfh__free(cur);
    cur = next;
    p = cur;
  }
  nfh__free(cur);
  return NULL;
}

/* Prints the report into fd and closes it, fsyncing it first with
 * 'sync'. NFH_OK, or NFH_EIO with errno telling why (0 when the JSON
 * itself could not be made). */
static nfh_status print_to_fd(int fd, int sync,
                              const nfh_report_finding *findings,
                              size_t count, nfh_severity min,
                              const nfh_report_inputs *in) {
  FILE *f = fdopen(fd, "w");
  if (!f) {
    int saved = errno;
    close(fd);
    errno = saved;
    return NFH_EIO;
  }
  errno = 0;
  nfh_status st = nfh_report_print_json(f, findings, count, min, in);
  if (fflush(f) != 0)
    st = NFH_EIO;
  if (st == NFH_OK && sync && fsync(fd) != 0)
    st = NFH_EIO;
  int saved = errno;
  if (fclose(f) != 0 && st == NFH_OK) {
    st = NFH_EIO;
    saved = errno;
  }
  errno = saved;
  return st;
}

/* Writes the report straight into 'path', which is no regular file (a
 * device such as /dev/null or /dev/stdout's terminal, a FIFO): renaming
 * a file over it would replace the device node itself. */
static nfh_status write_through(const char *path,
                                const nfh_report_finding *findings,
                                size_t count, nfh_severity min,
                                const nfh_report_inputs *in, char *message,
                                size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  nfh_status st = fd < 0 ? NFH_EIO
                         : print_to_fd(fd, 0, findings, count, min, in);
  if (st != NFH_OK)
    snprintf(message, len, "%s: %s", path,
             errno ? strerror(errno) : "write failed");
  return st;
}

nfh_status nfh_report_write_json(const char *path,
                                 const nfh_report_finding *findings,
                                 size_t count, nfh_severity min,
                                 const nfh_report_inputs *in,
                                 const char **error) {
  static __thread char message[512];
  *error = message;
  message[0] = '\0';
  /* A device, FIFO or socket, reached by any links, is written through
   * by the name given: /dev/stdout of a pipe links to "pipe:[123]",
   * which no path resolution can open. */
  struct stat sb;
  nfh_status st;
  if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
    return write_through(path, findings, count, min, in, message,
                         sizeof(message));
  /* A symbolic link is followed: its target gets the new report, and
   * the link stays. */
  char *resolved = link_target(path);
  if (resolved)
    path = resolved;
  if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode)) {
    st = write_replacing(path, findings, count, min, in, message,
                         sizeof(message));
  } else if (S_ISDIR(sb.st_mode)) {
    snprintf(message, sizeof(message), "%s: is a directory", path);
    st = NFH_EIO;
  } else {
    st = write_through(path, findings, count, min, in, message,
                       sizeof(message));
  }
  nfh__free(resolved);
  return st;
}

/* The atomic way: a temporary file in the same directory, fsync,
 * rename over 'path'. */
static nfh_status write_replacing(const char *path,
                                  const nfh_report_finding *findings,
                                  size_t count, nfh_severity min,
                                  const nfh_report_inputs *in, char *message,
                                  size_t msglen) {
  size_t len = strlen(path) + 16;
  char *tmp = nfh__malloc(len);
  if (!tmp)
    return NFH_ENOMEM;
  /* The temporary name starts with '.', which nfdump's directory walks
   * skip, and sits in the target's directory so rename is atomic. */
  const char *slash = strrchr(path, '/');
  if (slash)
    snprintf(tmp, len, "%.*s/.%s.XXXXXX", (int)(slash - path), path,
             slash + 1);
  else
    snprintf(tmp, len, ".%s.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    snprintf(message, msglen, "%s: %s", path, strerror(errno));
    nfh__free(tmp);
    return NFH_EIO;
  }
  fchmod(fd, 0644);
  nfh_status st = print_to_fd(fd, 1, findings, count, min, in);
  if (st == NFH_OK && rename(tmp, path) != 0)
    st = NFH_EIO;
  if (st != NFH_OK) {
    snprintf(message, msglen, "%s: %s", path,
             errno ? strerror(errno) : "write failed");
    unlink(tmp);
  }
  nfh__free(tmp);
  return st;
}

nfh_status nfh_report_print_ndjson(FILE *out,
                                   const nfh_report_finding *findings,
                                   size_t count, nfh_severity min) {
  relations rel;
  if (relations_make(&rel, findings, count, min) != 0)
    return NFH_ENOMEM;
  for (size_t i = 0; i < count; i++) {
    if (findings[i].f.severity < min)
      continue;
    json_t *o = finding_json_related(findings, i, &rel);
    if (!o) {
      relations_free(&rel);
      return NFH_ENOMEM;
    }
    json_object_set_new(o, "tool", json_string("nfhunt"));
    int rc = json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(o);
    fputc('\n', out);
    if (rc != 0) {
      relations_free(&rel);
      return NFH_EIO;
    }
  }
  relations_free(&rel);
  return ferror(out) ? NFH_EIO : NFH_OK;
}

static const char *sev_label(nfh_severity s) {
  switch (s) {
  case NFH_SEV_CRITICAL:
    return "CRITICAL";
  case NFH_SEV_HIGH:
    return "HIGH";
  case NFH_SEV_MEDIUM:
    return "MEDIUM";
  case NFH_SEV_LOW:
    return "LOW";
  case NFH_SEV_INFO:
    return "INFO";
  }
  return "?";
}

nfh_status nfh_report_print_text(FILE *out,
                                 const nfh_report_finding *findings,
                                 size_t count, nfh_severity min,
                                 const nfh_report_inputs *in, size_t limit) {
  char a[40], b[40];
  size_t shown = 0, counts[5] = {0};
  for (size_t i = 0; i < count; i++)
    if (findings[i].f.severity >= min)
      counts[findings[i].f.severity]++, shown++;
  fprintf(out, "nfhunt %s: %llu files, %llu flows, %llu connections",
          PACKAGE_VERSION, (unsigned long long)in->files,
          (unsigned long long)in->flows, (unsigned long long)in->connections);
  /* A file read in part is one of 'files' and a failed one too: said
   * apart, so that "6 files (6 unreadable)" does not read as 12. */
  uint64_t partly =
      in->files_partly < in->files_failed ? in->files_partly : in->files_failed;
  if (partly)
    fprintf(out, " (%llu of them read in part%s", (unsigned long long)partly,
            in->files_failed > partly ? ";" : ")");
  if (in->files_failed > partly)
    fprintf(out, "%s%llu more files unreadable)", partly ? " " : " (",
            (unsigned long long)(in->files_failed - partly));
  fputc('\n', out);
  if (in->window_start_ms)
    fprintf(out, "data %s .. %s\n",
            nfh_format_iso8601(in->window_start_ms, a, sizeof(a)),
            nfh_format_iso8601(in->window_end_ms, b, sizeof(b)));
  if (in->duplicate_flows)
    fprintf(out,
            "seen twice: %llu flows came from two exporters on one path; "
            "counted once\n",
            (unsigned long long)in->duplicate_flows);
  if (in->sampled_flows)
    fprintf(out, "sampled: %llu flows at up to 1:%u; counts are estimates\n",
            (unsigned long long)in->sampled_flows, in->max_sampling);
  if (in->unannounced_files)
    fprintf(out,
            "sampled, unannounced: %llu of %llu files look packet-sampled; "
            "counts are raw samples\n",
            (unsigned long long)in->unannounced_files,
            (unsigned long long)in->checked_files);
  /* Networks read from the traffic are a guess the reader should see;
   * given or default ones are what was asked for. */
  if (in->nhome_nets && in->home_nets_from &&
      strcmp(in->home_nets_from, "inferred") == 0) {
    fputs("home networks (read from the traffic):", out);
    for (size_t i = 0; i < in->nhome_nets; i++)
      fprintf(out, "%s %s", i ? "," : "", in->home_nets[i]);
    fputc('\n', out);
  }
  fprintf(out,
          "%zu findings: %zu critical, %zu high, %zu medium, %zu low, %zu "
          "info\n",
          shown, counts[4], counts[3], counts[2], counts[1], counts[0]);
  /* Without memory for them the report goes without "see also" lines. */
  relations rel;
  int related = relations_make(&rel, findings, count, min) == 0;
  size_t printed = 0;
  for (size_t i = 0; i < count; i++) {
    const nfh_report_finding *r = &findings[i];
    if (r->f.severity < min)
      continue;
    if (limit && printed == limit) {
      fprintf(out, "\n... %zu more (use --output FILE or -o json)\n",
              shown - printed);
      break;
    }
    printed++;
    char src[NFH_ADDR_STRLEN], dst[NFH_ADDR_STRLEN];
    /* "(ongoing)", "(ongoing; low this run)" after all but new ones. */
    char status[64] = "";
    if (strcmp(r->status, "new") && r->detector_severity < r->f.severity)
      snprintf(status, sizeof(status), "  (%s; %s this run)", r->status,
               nfh_severity_name(r->detector_severity));
    else if (strcmp(r->status, "new"))
      snprintf(status, sizeof(status), "  (%s)", r->status);
    fprintf(out, "\n%2zu. [%-8s] %5.1f  %s%s\n", printed,
            sev_label(r->f.severity), r->f.score, r->f.summary, status);
    fprintf(out, "    %s  %s -> %s", r->f.type,
            r->f.src.family ? nfh_addr_format(&r->f.src, src, sizeof(src))
                            : "*",
            r->f.dst.family ? nfh_addr_format(&r->f.dst, dst, sizeof(dst))
                            : "*");
    const char *pn = r->f.proto >= 0 ? proto_name(r->f.proto) : NULL;
    /* ICMP's "port" is type * 256 + code: "port 32768/ipv6-icmp" said
     * nothing of an echo request. */
    int icmp = r->f.proto == 1 || r->f.proto == 58;
    if (icmp && r->f.dst_port >= 0)
      fprintf(out, " %s type %d code %d", r->f.proto == 1 ? "icmp" : "icmp6",
              r->f.dst_port >> 8, r->f.dst_port & 0xff);
    else if (r->f.dst_port >= 0)
      fprintf(out, " port %d", r->f.dst_port);
    if (pn && !(icmp && r->f.dst_port >= 0))
      fprintf(out, "/%s", pn);
    nfh_addr v4;
    char v4text[NFH_ADDR_STRLEN];
    if (nfh_addr_nat64(&r->f.dst, &v4))
      fprintf(out, "  (NAT64 %s)",
              nfh_addr_format(&v4, v4text, sizeof(v4text)));
    else if (nfh_addr_nat64(&r->f.src, &v4))
      fprintf(out, "  (NAT64 %s)",
              nfh_addr_format(&v4, v4text, sizeof(v4text)));
    fprintf(out, "  %s .. %s  confidence %.2f",
            nfh_format_iso8601(r->f.first_ms, a, sizeof(a)),
            nfh_format_iso8601(r->f.last_ms, b, sizeof(b)), r->f.confidence);
    if (r->f.mitre)
      fprintf(out, "  ATT&CK %s", r->f.mitre);
    fputc('\n', out);
    if (related && rel.hi[i] - rel.lo[i] > 1) {
      fputs("    same hosts:", out);
      const char *sep = " ";
      for (size_t k = rel.lo[i]; k < rel.hi[i]; k++) {
        size_t j = rel.order[k];
        if (j == i)
          continue;
        fprintf(out, "%s%zu (%s, %s)", sep, rel.number[j], findings[j].f.type,
                nfh_severity_name(findings[j].f.severity));
        sep = ", ";
      }
      fputc('\n', out);
    }
  }
  if (related)
    relations_free(&rel);
  return ferror(out) ? NFH_EIO : NFH_OK;
}
