/* findings.c - port-scan evidence into findings; see findings.h. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"

#define TCP 6
#define UDP 17
#define ICMP 1
#define ICMP6 58

#define SAMPLE_TARGETS 5
#define SAMPLE_PORTS 10
#define LIST_PORTS 4 /* named in a summary */
/* Fewer targets than two dozen from outside: Internet background. */
#define EDGE_MIN_TARGETS 24
/* A distributed sweep's best window holds at least this many times the
 * port's average of qualifying sources per window. */
#define DIST_BURST 3.0
/* ... and its sources' targets together are at least this share of
 * the sum of each one's (little overlap: the work was split). */
#define DIST_MIN_SPLIT 0.5
/* Up to this many failed services in a sweep's window, its hosts are
 * counted exactly; past it by the sketch (estimated). */
#define DIST_EXACT_HOSTS 65536
/* Connections per host from which a horizontal pattern looks like a
 * client retrying rather than a scanner, and the score it then loses. */
#define RETRY_HEAVY 2.5
/* Tries per host from which half-open probes of the same hosts are a
 * monitor's health checks (emit_horizontal). */
#define HEALTH_CHECK_TRIES 3
#define RETRY_DISCOUNT 12
/* Sources hammering one service from which they are one finding. */
#define REPEAT_GROUP 3

typedef enum kind {
  K_HORIZONTAL,
  K_VERTICAL,
  K_HORIZONTAL_MULTI,
  K_VERTICAL_MULTI,
  K_BLOCK,
  K_DISTRIBUTED,
  K_REPEAT,
  K_BACKGROUND,
  K_PEERS
} kind;

/* A source as text: its address, or "NET/64" for an outside IPv6 /64,
 * which the detector counts as one source (source_of, portscan.c). A
 * state written before kept outside addresses whole. */
static void format_source(const ps_source *s, char *buf, size_t len) {
  nfh_addr_format(&s->addr, buf, len);
  if (s->addr.family != 6 || s->home)
    return;
  for (int i = 8; i < 16; i++)
    if (s->addr.bytes[i])
      return;
  size_t n = strlen(buf);
  snprintf(buf + n, len > n ? len - n : 0, "/64");
}

/* The share of failed probes as a whole percentage, rounded down: 199
 * failures of 200 read "99% failed", never "100% failed" beside
 * "1 answered". */
static double pct_failed(double ratio) {
  return floor(100.0 * ratio + 1e-9);
}

static const char *kind_name(kind k) {
  switch (k) {
  case K_HORIZONTAL:
    return "horizontal";
  case K_VERTICAL:
    return "vertical";
  case K_HORIZONTAL_MULTI:
    return "horizontal_multi_port";
  case K_VERTICAL_MULTI:
    return "vertical_multi_host";
  case K_BLOCK:
    return "block";
  case K_DISTRIBUTED:
    return "distributed";
  case K_REPEAT:
    return "repeated_refused";
  case K_BACKGROUND:
    return "external_background";
  case K_PEERS:
    return "internal_peers";
  }
  return "?";
}

/* ------------------------------------------------------------- buffers */

/* A growing text buffer; on failure it stays usable and reports it. */
typedef struct buf {
  char *b;
  size_t n, cap;
  int failed;
} buf;

static void bprintf(buf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bprintf(buf *o, const char *fmt, ...) {
  if (o->failed)
    return;
  for (;;) {
    size_t room = o->cap - o->n;
    va_list ap;
    va_start(ap, fmt);
    int k = o->b ? vsnprintf(o->b + o->n, room, fmt, ap) : -1;
    va_end(ap);
    if (o->b && k >= 0 && (size_t)k < room) {
      o->n += (size_t)k;
      return;
    }
    size_t cap = o->cap ? o->cap * 2 : 1024;
    while (k >= 0 && cap < o->n + (size_t)k + 1)
      cap *= 2;
    char *grown = realloc(o->b, cap);
    if (!grown) {
      o->failed = 1;
      return;
    }
    o->b = grown;
    o->cap = cap;
  }
}

/* A finding waiting to be emitted; owns its strings. */
typedef struct out {
  nfh_finding f;
  kind k;
  char *key, *summary, *evidence;
  const ps_source *s; /* NULL when not one source */
  int edge;           /* an external scanner of our hosts */
  int lateral;        /* horizontal, internal source to internal hosts */
  double hosts, failed, answered; /* its counts (horizontal) */
  int folded;         /* taken into another finding: not emitted */
  char port_label[24];
  double attempts;    /* repeated refused: the source's attempts */
} out;

typedef struct outs {
  out *v;
  size_t n, cap;
} outs;

/* Marks of (source, port) already reported by one source's finding.
 * A firm mark keeps the distributed finding from counting that source
 * on that port again. A soft mark (a single-port finding below medium)
 * names the finding instead: if the source turns out to be one of many
 * in a distributed sweep, its finding is folded into the sweep's. */
typedef struct mark_entry {
  uint64_t key;
  long out; /* index in outs for a soft mark, -1 for a firm one */
} mark_entry;

typedef struct marks {
  mark_entry *v;
  size_t n, cap;
  int sorted;
} marks;

static uint64_t mark_key(const ps_source *s, uint8_t proto, uint16_t port) {
  uint64_t h = (uint64_t)s->hash << 32 ^ (uint64_t)proto << 16 ^ port;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

static int mark_as(marks *m, const ps_source *s, uint8_t proto,
                   uint16_t port, long index) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    mark_entry *grown = realloc(m->v, cap * sizeof(mark_entry));
    if (!grown)
      return -1;
    m->v = grown;
    m->cap = cap;
  }
  m->v[m->n].key = mark_key(s, proto, port);
  m->v[m->n].out = index;
  m->n++;
  m->sorted = 0;
  return 0;
}

static int mark(marks *m, const ps_source *s, uint8_t proto, uint16_t port) {
  return mark_as(m, s, proto, port, -1);
}

static int cmp_mark(const void *a, const void *b) {
  uint64_t x = ((const mark_entry *)a)->key, y = ((const mark_entry *)b)->key;
  return x < y ? -1 : x > y;
}

/* The mark of (source, port), or NULL. */
static const mark_entry *find_mark(marks *m, const ps_source *s,
                                   uint8_t proto, uint16_t port) {
  if (!m->n)
    return NULL;
  if (!m->sorted) {
    qsort(m->v, m->n, sizeof(mark_entry), cmp_mark);
    m->sorted = 1;
  }
  mark_entry k = {mark_key(s, proto, port), 0};
  return bsearch(&k, m->v, m->n, sizeof(mark_entry), cmp_mark);
}

static int marked(marks *m, const ps_source *s, uint8_t proto,
                  uint16_t port) {
  const mark_entry *e = find_mark(m, s, proto, port);
  return e && e->out < 0;
}

/* ------------------------------------------------------------ wording */

static int is_echo(uint8_t proto, uint16_t port) {
  return (proto == ICMP || proto == ICMP6) && port == PS_PORT_ECHO;
}

static void fmt_port(uint8_t proto, uint16_t port, char *b, size_t len) {
  if (is_echo(proto, port))
    snprintf(b, len, "%s/echo", proto == ICMP ? "icmp" : "icmp6");
  else if (proto == TCP)
    snprintf(b, len, "tcp/%u", port);
  else if (proto == UDP)
    snprintf(b, len, "udp/%u", port);
  else
    snprintf(b, len, "proto%u/%u", proto, port);
}

static void fmt_span(double s, char *b, size_t len) {
  if (s < 120)
    snprintf(b, len, "%.0f s", s < 1 ? 1 : s);
  else if (s < 7200)
    snprintf(b, len, "%.0f min", s / 60);
  else if (s < 172800)
    snprintf(b, len, "%.1f h", s / 3600);
  else
    snprintf(b, len, "%.1f d", s / 86400);
}

static const char *speed_name(double span_s, double targets) {
  double rate = targets / (span_s < 1 ? 1 : span_s);
  if (span_s >= 3600)
    return "slow";
  return rate >= 1 ? "fast" : "moderate";
}

static const char *direction(int src_home, int dst_home) {
  if (src_home)
    return dst_home ? "internal->internal" : "internal->external";
  return dst_home ? "external->internal" : "external->external";
}

static const char *mitre_of(int src_home, int dst_home) {
  return !src_home && dst_home ? "T1046,T1595" : "T1046";
}

/* A ping sweep asks which addresses are in use, not what they run:
 * remote system discovery (T1018), where a port sweep is service
 * discovery (T1046). */
static const char *sweep_mitre(const ps_port *q, int src_home, int dst_home) {
  if (!is_echo(q->proto, q->port))
    return mitre_of(src_home, dst_home);
  return !src_home && dst_home ? "T1018,T1595" : "T1018";
}

/* ------------------------------------------------------------ counting */

/* Distinct targets (hosts or ports) by class, estimated. */
typedef struct tally {
  double c[4]; /* PS_WEAK, PS_STRONG, PS_SUCC */
  int estimated;
} tally;

/* Exact tallies plus, when a sketch holds more than the exact part, the
 * rest split in the proportion of the contacts not kept exactly. */
static tally tally_of(const uint32_t n[4], const uint32_t o[4], double sketch,
                      double most) {
  tally t;
  memset(&t, 0, sizeof(t));
  double exact = 0, other = 0;
  for (int k = PS_WEAK; k <= PS_SUCC; k++) {
    t.c[k] = n[k];
    exact += n[k];
    other += o[k];
  }
  if (other <= 0)
    return t;
  /* Contacts past the exact tables. With a sketch: what it saw beyond
   * the exact entries, plus the contacts made before it existed. Without
   * one (too few of them, or no sketch left): the contacts themselves, a
   * bound, since a repeat counts again. They were left out, and a block
   * scan of 254 hosts on 20 ports read "4096 host-ports" (the table's
   * size) with its evidence "exact". */
  double extra = other;
  if (sketch > 0) {
    extra = (sketch > exact ? sketch - exact : 0) + (NFH__PS_SKETCH_AFTER - 1);
    if (extra > other)
      extra = other;
  }
  /* No more than there are: a port's hosts are at most the source's
   * targets, a target's ports at most the source's ports. Retries past
   * the exact tables made nmap -sT's 20 ports "38 ports (~6017
   * host-ports)" and a /24's sweep "~384 hosts". */
  if (exact + extra > most)
    extra = most - exact;
  if (extra <= 0)
    return t;
  for (int k = PS_WEAK; k <= PS_SUCC; k++)
    t.c[k] += extra * o[k] / other;
  t.estimated = 1;
  return t;
}

/* The most hosts one of s's ports can have probed: its targets, kept
 * and folded, while every target it met has an entry (no contact went
 * past the targets' cap: s->o_contacts counts those); else its targets'
 * sketch. Below the cap now, the table may have been full before a
 * sweep folded some (a 2,000-host sweep read "~1075 hosts"). */
static double most_hosts(const ps_source *s) {
  if (!s->o_contacts[PS_WEAK] && !s->o_contacts[PS_STRONG] &&
      !s->o_contacts[PS_SUCC])
    return (double)s->ntargets + s->ngood;
  double sketched = nfh__ps_sketch_count(s, s->target_sketch);
  return sketched > 0 ? sketched : HUGE_VAL;
}

/* The most ports one of s's targets can have been probed on: its
 * ports, while the ports table holds them all. */
static double most_ports(const ps_source *s) {
  return s->ports_full ? HUGE_VAL : (double)s->nports;
}

static tally port_tally(const ps_source *s, const ps_port *q) {
  return tally_of(q->n, q->o_contacts, nfh__ps_sketch_count(s, q->sketch),
                  most_hosts(s));
}

/* A tally as the evidence mode sees it: where replies are not visible
 * (one-way exporter, sampling), silence is no failure and is left out. */
typedef struct view {
  double failed, succ, considered, ratio;
} view;

static view view_of(const tally *t, int flags_only) {
  view v;
  v.succ = t->c[PS_SUCC];
  v.failed = t->c[PS_STRONG] + (flags_only ? 0 : t->c[PS_WEAK]);
  v.considered = v.failed + v.succ;
  v.ratio = v.considered > 0 ? v.failed / v.considered : 0;
  return v;
}

/* Replies are invisible for this source: most of its established TCP
 * sessions show none (asymmetric routing, one exported link). */
static int blind(const ps_source *s) {
  return s->ack_conns >= 5 && (uint64_t)s->ack_replied * 5 < s->ack_conns;
}

static int flags_only(const ps_run *r, const ps_source *s) {
  return r->one_way || r->sampled_unknown || nfh__ps_sampling(s) > 1 ||
         blind(s);
}

static int crossed(const ps_run *r, const ps_source *s) {
  return flags_only(r, s) ? s->crossed_b : s->crossed_a;
}

static double weight_of(uint32_t sampling) {
  return sampling > 1 ? 1.0 / (1.0 + log((double)sampling)) : 1.0;
}

/* The observed count that stands for 'min' when 1-in-sq^2 sampling
 * hides most probes, never below 'floor': a single sampled probe is no
 * evidence of several. */
static double observed_min(double min, double sq, double floor) {
  double m = ceil(min / sq);
  if (m > min)
    m = min;
  return m > floor ? m : (floor < min ? floor : min);
}

/* Failure reasons over a set of exact services, scaled to 'total'. */
typedef struct reasons {
  double noreply, rst, icmp, odd, synonly, denied;
  double halfopen; /* open, and dropped by the prober's reset */
  double unseen; /* of the failures, those seen by the refusal alone */
} reasons;

/* The failed share a summary shows: the half-open probes (reasons
 * halfopen) were answered, though they count as failures. */
static double shown_ratio(double ratio, double considered, double halfopen) {
  if (considered <= 0 || halfopen <= 0)
    return ratio;
  double r = ratio - halfopen / considered;
  return r < 0 ? 0 : r;
}

/* Where silence is no evidence (fo: flags only), a SYN never followed
 * by an ACK is counted by that flag, not as "no reply": the evidence
 * said "silence is not counted" beside "no_reply": 11. */
static void add_reason(reasons *r, const ps_service *v, int fo) {
  if (v->reasons & PS_R_UNSEEN)
    r->unseen++;
  if (v->reasons & PS_R_DENIED)
    r->denied++;
  else if (v->reasons & PS_R_HALFOPEN)
    r->halfopen++;
  else if (v->reasons & PS_R_ICMP)
    r->icmp++;
  else if (v->reasons & PS_R_RST)
    r->rst++;
  else if (v->reasons & PS_R_ODD)
    r->odd++;
  else if (fo && (v->reasons & PS_R_SYNONLY))
    r->synonly++;
  else
    r->noreply++;
}

/* The failures counted, whatever their reason (unseen is among them). */
static double reasons_total(const reasons *r) {
  return r->noreply + r->rst + r->icmp + r->odd + r->synonly + r->denied +
         r->halfopen;
}

/* Adds to r the half-open probes past the exact services ('over': an
 * o_contacts[PS_O_HALFOPEN]), as many as the 'failed' beyond r's hold:
 * masscan's 28 open services of 51,200 probes read "3 open", those of
 * its first 4,000. */
static void add_halfopen_past_exact(reasons *r, uint32_t over, double failed) {
  double room = failed - reasons_total(r);
  if (room > 0)
    r->halfopen += over < room ? over : room;
}

/* Scales the reasons to 'total' failures, the half-open ones aside: they
 * are open ports, few, and counted where they were kept; scaled with
 * the rest, a scan of 65,535 ports with 7 open read "96 open". */
static void scale_reasons(reasons *r, double total) {
  double sum = reasons_total(r) - r->halfopen;
  if (sum <= 0 || total <= sum + r->halfopen)
    return;
  double f = (total - r->halfopen) / sum;
  r->unseen *= f;
  r->denied *= f;
  r->noreply *= f;
  r->rst *= f;
  r->icmp *= f;
  r->odd *= f;
  r->synonly *= f;
}

static int counts_as_failed(const ps_service *v, int fo) {
  return v->cls == PS_STRONG || (v->cls == PS_WEAK && !fo);
}

/* A service that answered, half-open probes included (they count as
 * failures, yet the port is open); 0 for a failed one, -1 neither. */
static int answered_service(const ps_service *v, int fo) {
  if (v->cls == PS_SUCC || (v->reasons & PS_R_HALFOPEN))
    return 1;
  return counts_as_failed(v, fo) ? 0 : -1;
}

/* Past a sweep's exact services its contacts are counted, not kept
 * ('o_contacts' by class): when they mostly failed they are the sweep
 * going on, and its last contact 'last_s' ends it (masscan's 65,536
 * probes in 6.5 s read "in 1 s", the time of the first 4,000; a vertical
 * scan of 65,535 ports in 655 s "in 42 s"). */
static void extend_past_exact(const uint32_t o_contacts[4], uint32_t last_s,
                              uint32_t *last) {
  uint32_t over_failed = o_contacts[PS_WEAK] + o_contacts[PS_STRONG];
  if (over_failed > o_contacts[PS_SUCC] && last_s > *last)
    *last = last_s;
}

/* Answered probes of a scan belong to its span: a connect sweep whose
 * first 30 of 100 hosts answered, one a second, read "in 70 s" from its
 * 31st second (a tester's). A service that answered joins the failed
 * probes' span [*first, *last] when it was contacted at most three
 * times (a probe, not a session) within that span's length (a minute at
 * least) of it; a server used all day stays out. For the services of
 * port/proto (target UINT32_MAX) or of one target. Before its first
 * failure a source keeps no services (lite): its answered probes then
 * show only in the first contact of the port or target, any_first_s,
 * which starts the span when it is as near. */
#define ANSWERED_NEAR_MIN_S 60u
#define ANSWERED_MAX_CONTACTS 3u

static void widen_with_answered(const ps_source *s, uint16_t port,
                                uint8_t proto, uint32_t target,
                                uint32_t any_first_s, int fo, uint32_t *first,
                                uint32_t *last) {
  uint32_t near = *last - *first;
  if (near < ANSWERED_NEAR_MIN_S)
    near = ANSWERED_NEAR_MIN_S;
  uint32_t lo = *first > near ? *first - near : 0;
  uint32_t hi = *last > UINT32_MAX - near ? UINT32_MAX : *last + near;
  uint32_t new_first = *first, new_last = *last;
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    if (target == UINT32_MAX ? v->port != port || v->proto != proto
                             : v->target != target)
      continue;
    if (answered_service(v, fo) != 1 || counts_as_failed(v, fo) ||
        v->contacts > ANSWERED_MAX_CONTACTS || v->first_s < lo ||
        v->last_s > hi)
      continue;
    new_first = v->first_s < new_first ? v->first_s : new_first;
    new_last = v->last_s > new_last ? v->last_s : new_last;
  }
  if (any_first_s >= lo && any_first_s < new_first)
    new_first = any_first_s;
  *first = new_first;
  *last = new_last;
}

/* The time span of the failed probes on a port (a host that used the
 * port all day and swept it for ten minutes swept for ten minutes), or
 * of all its activity there when none is kept exactly. */
static void port_span(const ps_source *s, const ps_port *q, int fo,
                      uint32_t *first, uint32_t *last) {
  *first = UINT32_MAX;
  *last = 0;
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    if (v->port != q->port || v->proto != q->proto ||
        !counts_as_failed(v, fo))
      continue;
    *first = v->first_s < *first ? v->first_s : *first;
    *last = v->last_s > *last ? v->last_s : *last;
  }
  if (*first > *last) {
    *first = q->first_s;
    *last = q->last_s;
    return;
  }
  widen_with_answered(s, q->port, q->proto, UINT32_MAX, q->first_s, fo, first,
                      last);
  /* A workstation's sweep of 2,000 hosts on tcp/445 in 15 minutes read
   * "in 10.7 h", slow: its session with its own file server that night
   * was the port's last contact. */
  extend_past_exact(q->o_contacts,
                    q->o_last_fail_s ? q->o_last_fail_s : q->last_s, last);
}

/* A sweep of a port that came back after this long without a contact
 * there is a new episode: its time is this run's (a fast sweep repeated
 * 16 hours later read "in 16.0 h", slow). A slow scan probes at least
 * every few hours. */
#define RECUR_GAP_S (6 * 3600u)

/* Narrows [*first, *last] (port_span's) to this run's part when the
 * sweep of q came back after RECUR_GAP_S of silence; returns the end of
 * the earlier part then (0 otherwise). */
static uint32_t recurred_span(const ps_port *q, uint32_t *first,
                              uint32_t last) {
  if (!q->prior_last_s || !q->run_first_s ||
      q->run_first_s <= q->prior_last_s + RECUR_GAP_S ||
      q->run_first_s <= *first || q->run_first_s > last)
    return 0;
  *first = q->run_first_s;
  return q->prior_last_s;
}

/* The same for the failed probes on one target. */
static void target_span(const ps_source *s, uint32_t ti, int fo,
                        uint32_t *first, uint32_t *last) {
  *first = UINT32_MAX;
  *last = 0;
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    if (v->target != ti || !counts_as_failed(v, fo))
      continue;
    *first = v->first_s < *first ? v->first_s : *first;
    *last = v->last_s > *last ? v->last_s : *last;
  }
  if (*first > *last) {
    *first = s->targets[ti].first_s;
    *last = s->targets[ti].last_s;
    return;
  }
  widen_with_answered(s, 0, 0, ti, s->targets[ti].first_s, fo, first, last);
  extend_past_exact(s->targets[ti].o_contacts, s->targets[ti].last_s, last);
}

/* ------------------------------------------------------------- grading */

typedef struct grade_in {
  double targets; /* distinct targets considered, sampling-adjusted */
  double ratio;   /* failed share */
  double succ;    /* targets that answered */
  double span_s;
  double min_targets;
  int src_home, dst_home;
  int crossed, flags_only, estimated;
  int sampled_unknown; /* sampled at an interval no exporter announced */
  uint32_t sampling;
  double bonus; /* added before the severity is set */
  int distributed; /* many sources, each a few targets */
} grade_in;

/* Highest severity for a finding whose seen count is below the
 * threshold it passed only by scaling up for sampling. */
#define SAMPLED_MAX_SEVERITY NFH_SEV_MEDIUM
/* Highest severity of a sweep of ICMP echo alone (emit_horizontal). */
#define PING_SWEEP_MAX_SEVERITY NFH_SEV_MEDIUM

typedef struct grade_out {
  double score, confidence;
  nfh_severity sev;
  int edge; /* external scanner of our hosts (fold_edge) */
} grade_out;

static double top_of(nfh_severity s) {
  switch (s) {
  case NFH_SEV_INFO:
    return 19;
  case NFH_SEV_LOW:
    return 44;
  case NFH_SEV_MEDIUM:
    return 74;
  case NFH_SEV_HIGH:
    return 89;
  case NFH_SEV_CRITICAL:
    return 100;
  }
  return 100;
}

static nfh_severity severity_of(double score) {
  if (score >= 75)
    return NFH_SEV_HIGH;
  if (score >= 45)
    return NFH_SEV_MEDIUM;
  if (score >= 20)
    return NFH_SEV_LOW;
  return NFH_SEV_INFO;
}

/* Lowers *sev to 'cap' at most, and *score to the top of cap's range. */
static void cap_at(nfh_severity *sev, double *score, nfh_severity cap) {
  if (*sev <= cap)
    return;
  *sev = cap;
  if (*score > top_of(cap))
    *score = top_of(cap);
}

static double clamp(double x, double lo, double hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

/* The score grows with the logarithm of the targets (a dozen is a
 * start, hundreds is a sweep), with the failure share, with speed, and
 * with where it happens: inside the network a scan is lateral movement,
 * from inside out an infected or misused host; from the Internet at our
 * edge it is the constant background, low unless it is intense or found
 * live services. */
static grade_out grade(const ps_config *cfg, const grade_in *g) {
  grade_out o;
  memset(&o, 0, sizeof(o));
  double n = g->targets < 1 ? 1 : g->targets;
  double breadth = clamp(12.0 * (log2(n) - 2.0), 0, 60);
  /* The failed share counts up to three in four: a scan that found a
   * live service on every fifth host it tried (a targeted sweep of a
   * server network) is no less a scan than one that found nothing. */
  double rf = clamp((g->ratio - 0.5) / 0.25, 0, 1);
  double score = breadth * (0.6 + 0.4 * rf);
  double rate = n / (g->span_s < 1 ? 1 : g->span_s);
  if (rate >= 5)
    score += 5;
  /* Four dozen of our hosts (or ports) probed from one outside source,
   * all failing, reach medium: a sweep of 50 SSH servers or 50 ports of
   * one host is reconnaissance worth a look, where one source of the
   * Internet's background touches a handful (below EDGE_MIN_TARGETS:
   * info). Many outside sources each touching a few of our hosts are
   * that background itself (a botnet's telnet scanning): a hundred
   * hosts before medium. */
  if (g->src_home)
    score += g->dst_home ? 22 : 15;
  else if (g->dst_home)
    score += g->distributed ? -5 : 3;
  score = clamp(score + g->bonus, 0, 100);
  nfh_severity sev = severity_of(score);
  if (!g->src_home && g->dst_home) {
    /* A handful of our addresses probed from outside is what every
     * Internet-facing network sees all day: info. A sweep of dozens or
     * more is a real scan, up to the edge cap; one that found live
     * services or is intense may go one above. */
    int intense = n >= 1000 || rate >= 100 || (g->succ >= 2 && n >= 50);
    nfh_severity cap = cfg->edge_max_severity;
    if (n < EDGE_MIN_TARGETS)
      cap = NFH_SEV_INFO;
    else if (intense && cap < NFH_SEV_CRITICAL)
      cap = (nfh_severity)(cap + 1);
    cap_at(&sev, &score, cap);
    /* Intense or not, one of many: sweeps of a whole public /22 are what
     * Internet-wide scanners do all day, and a hosting provider's run
     * held 68 medium findings of them, the ten kept apart "intense" all
     * the same. The fold keeps the highest scores (fold_edge). */
    o.edge = 1;
  }
  double seen = g->targets / (g->sampling > 1 ? g->sampling : 1);
  if (g->sampling > 1 && seen < g->min_targets)
    cap_at(&sev, &score, SAMPLED_MAX_SEVERITY);
  double conf = g->crossed ? 0.9 : 0.75;
  if (n < 2 * g->min_targets)
    conf *= 0.9;
  if (g->flags_only && g->sampling <= 1)
    conf *= 0.75;
  if (g->sampling > 1)
    conf *= 0.5 + 0.5 * weight_of(g->sampling);
  else if (g->sampled_unknown)
    conf *= 0.6; /* no less uncertain than an announced interval */
  if (g->estimated)
    conf *= 0.95;
  o.score = score;
  o.sev = sev;
  o.confidence = clamp(conf, 0.05, 0.99);
  return o;
}

/* ------------------------------------------------------------ emitting */

static int add_out(outs *os, kind k, const ps_source *s, const char *key,
                   const buf *summary, const buf *evidence,
                   const nfh_finding *f) {
  if (summary->failed || evidence->failed)
    return -1;
  if (os->n == os->cap) {
    size_t cap = os->cap ? os->cap * 2 : 32;
    out *grown = realloc(os->v, cap * sizeof(out));
    if (!grown)
      return -1;
    os->v = grown;
    os->cap = cap;
  }
  out *o = &os->v[os->n];
  memset(o, 0, sizeof(*o));
  o->k = k;
  o->s = s;
  o->f = *f;
  o->key = strdup(key);
  o->summary = summary->b;
  o->evidence = evidence->b;
  if (!o->key) {
    return -1;
  }
  os->n++;
  return 0;
}

static void free_outs(outs *os) {
  for (size_t i = 0; i < os->n; i++) {
    free(os->v[i].key);
    free(os->v[i].summary);
    free(os->v[i].evidence);
  }
  free(os->v);
}

/* Common evidence fields: the test's verdict and how it was judged. */
static void evidence_trw(buf *e, const ps_config *cfg, const ps_run *r,
                         const ps_source *s) {
  int fo = flags_only(r, s);
  double llr = fo ? s->llr_b : s->llr_a;
  /* Unreachables routers and firewalls sent the source (no target
   * answered; an IPv6 router's "address unreachable" for hosts that do
   * not exist): they explain failures, and were in no count shown. */
  if (s->icmp_other)
    bprintf(e, ", \"unreachables_from_routers\": %u", s->icmp_other);
  double eta1 = cfg->pd / cfg->pf;
  bprintf(e,
          ", \"trw\": {\"log_ratio\": %.2f, \"ratio\": %.3g, "
          "\"threshold\": %.3g, \"scanner\": %s, \"first_contacts\": %u, "
          "\"walk\": \"%s\"}",
          llr, exp(clamp(llr, -700, 700)), eta1,
          crossed(r, s) ? "true" : "false", s->first_contacts,
          fo ? "flags_only" : "all_failures");
  const char *basis =
      r->one_way && r->flags_per_packet
          ? "refusals_only: no replies visible and TCP "
            "flags are per packet"
      : r->one_way              ? "tcp_flags_only: the exporter shows no "
                                  "replies, silence is not counted"
      : nfh__ps_sampling(s) > 1 ? "sampled: silence is not counted, single "
                                  "probes are often missed"
      : r->sampled_unknown      ? "sampled at an unknown interval: silence is "
                                  "not counted, single probes are often missed"
      : blind(s)                ? "tcp_flags_only: no replies visible for "
                                  "this source"
                                : "replies_and_flags";
  bprintf(e, ", \"sampling\": %u, \"basis\": \"%s\"", nfh__ps_sampling(s),
          basis);
}

static void evidence_reasons(buf *e, const reasons *r) {
  bprintf(e,
          ", \"failures\": {\"no_reply\": %.0f, \"rst\": %.0f, \"icmp\": "
          "%.0f, \"odd_flags\": %.0f, \"syn_only\": %.0f, \"denied\": %.0f, "
          "\"half_open\": %.0f, \"refusal_only\": %.0f}",
          r->noreply, r->rst, r->icmp, r->odd, r->synonly, r->denied,
          r->halfopen, r->unseen);
}

/* The half-open probes of a finding's evidence, and the failed share
 * they make part of ('probe_ratio', its "fail_ratio" before they were
 * shown as answered). */
static void evidence_halfopen(buf *e, double halfopen, double probe_ratio) {
  if (halfopen >= 0.5)
    bprintf(e, ", \"half_open\": %.0f, \"probe_ratio\": %.3f", halfopen,
            probe_ratio);
}

/* ", N answered" (or "open": 'word') in a summary, saying how many of
 * them were half-open probes: answered, then dropped by the prober. */
static void say_answered(buf *b, const char *word, double answered,
                         double halfopen) {
  if (answered < 0.5)
    return;
  if (halfopen < 0.5)
    bprintf(b, ", %.0f %s", answered, word);
  else if (halfopen + 0.5 >= answered)
    bprintf(b, ", %.0f %s and dropped by the prober (a half-open scan)",
            answered, word);
  else
    bprintf(b, ", %.0f %s (%.0f dropped by the prober: a half-open scan)",
            answered, word, halfopen);
}

/* Suffix of a summary: how sure the counts are. 'seen' is the count
 * the summary gave, scaled up for sampled data when >= 0. */
static void summary_notes(buf *b, const ps_run *r, const ps_source *s,
                          double seen, const reasons *rs) {
  if (rs && rs->unseen > 0 && 2 * rs->unseen >= reasons_total(rs)) {
    /* The exporter misses the scanner's direction (refused_unseen):
     * the count is of the targets that refused, a floor. */
    bprintf(b, " (probes not exported: counted by the resets sent back, "
               "a lower bound)");
  } else if (s && nfh__ps_sampling(s) > 1) {
    /* Seen times N is right when each target got one packet; retries
     * and refusals that the sampler kept without their probes (each
     * exchange has two chances to be seen) make it an overestimate, so
     * it is a bound, not a count. */
    if (seen >= 0)
      bprintf(b, " (sampled 1:%u: at most ~%.0f in all)", nfh__ps_sampling(s),
              seen * nfh__ps_sampling(s));
    else
      bprintf(b, " (sampled 1:%u)", nfh__ps_sampling(s));
  } else if (r->sampled_unknown) {
    bprintf(b, " (sampled, interval unknown)");
  } else if (r->one_way || (s && blind(s))) {
    bprintf(b, " (no replies visible: judged by TCP flags)");
  }
}

static void fill(nfh_finding *f, const grade_out *g, const ps_source *s,
                 const char *mitre) {
  memset(f, 0, sizeof(*f));
  f->type = "port_scan";
  f->severity = g->sev;
  f->score = g->score;
  f->confidence = g->confidence;
  if (s)
    f->src = s->addr;
  f->dst_port = -1;
  f->proto = -1;
  f->mitre = mitre;
}

/* ---------------------------------------------------------- horizontal */

typedef struct hcand {
  uint32_t port; /* index in s->ports */
  view v;
  tally t;
  int home_only; /* v and t count the home hosts on the port alone */
} hcand;

typedef struct vcand {
  uint32_t target; /* index in s->targets */
  view v;
  tally t;
} vcand;

static int by_failed_h(const void *pa, const void *pb) {
  const hcand *a = pa, *b = pb;
  return a->v.failed > b->v.failed ? -1 : a->v.failed < b->v.failed;
}

static int by_failed_v(const void *pa, const void *pb) {
  const vcand *a = pa, *b = pb;
  return a->v.failed > b->v.failed ? -1 : a->v.failed < b->v.failed;
}

/* Sample targets of one port: failed ones and answering ones. */
static void sample_hosts(buf *e, const ps_source *s, const ps_port *q,
                         int fo, int answered, int home_only) {
  char a[NFH_ADDR_STRLEN];
  int k = 0;
  bprintf(e, "[");
  for (uint32_t i = 0; i < s->nservices && k < SAMPLE_TARGETS; i++) {
    const ps_service *v = &s->services[i];
    if (v->port != q->port || v->proto != q->proto)
      continue;
    if (answered != answered_service(v, fo))
      continue;
    if (home_only && !s->targets[v->target].home)
      continue;
    nfh_addr_format(&s->targets[v->target].addr, a, sizeof(a));
    bprintf(e, "%s\"%s\"", k++ ? ", " : "", a);
  }
  bprintf(e, "]");
}

static int dst_home_majority_port(const ps_source *s, const ps_port *q) {
  uint32_t home = 0, all = 0;
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    if (v->port == q->port && v->proto == q->proto) {
      all++;
      home += s->targets[v->target].home;
    }
  }
  return all && home * 2 >= all;
}

static int emit_horizontal(outs *os, marks *ms, const ps_config *cfg,
                           const ps_run *r, const ps_source *s,
                           const hcand *h) {
  const ps_port *q = &s->ports[h->port];
  int fo = flags_only(r, s);
  char src[NFH_ADDR_STRLEN], port[24], span[24], key[128];
  format_source(s, src, sizeof(src));
  fmt_port(q->proto, q->port, port, sizeof(port));
  uint32_t first, last;
  port_span(s, q, fo, &first, &last);
  uint32_t earlier_end = recurred_span(q, &first, last);
  double span_s = (double)last - first + 1;
  fmt_span(span_s, span, sizeof(span));
  double est = nfh__ps_sampling(s);
  int dst_home = h->home_only || dst_home_majority_port(s, q);
  grade_in g = {.targets = h->v.considered * est,
                .ratio = h->v.ratio,
                .succ = h->v.succ,
                .span_s = span_s,
                .min_targets = cfg->min_hosts,
                .src_home = s->home,
                .dst_home = dst_home,
                .crossed = crossed(r, s),
                .flags_only = fo,
                .sampled_unknown = r->sampled_unknown,
                .estimated = h->t.estimated,
                .sampling = nfh__ps_sampling(s)};
  /* A scanner tries each host about once; a client that cannot get
   * through (a broken IPv6 path, a dead proxy) opens connection after
   * connection to the same few popular hosts. */
  double attempts = q->contacts;
  if (h->home_only) {
    attempts = 0;
    for (uint32_t i = 0; i < s->nservices; i++) {
      const ps_service *v = &s->services[i];
      if (v->port == q->port && v->proto == q->proto &&
          s->targets[v->target].home)
        attempts += v->contacts;
    }
    attempts += q->folded_home;
  }
  double tries = attempts / (h->v.considered > 1 ? h->v.considered : 1);
  if (tries >= RETRY_HEAVY)
    g.bonus = -RETRY_DISCOUNT;
  grade_out go = grade(cfg, &g);
  if (tries >= RETRY_HEAVY)
    go.confidence *= 0.8;
  /* A ping sweep alone is medium at most: monitoring, inventory and
   * address management tools sweep whole networks for the hosts that
   * answer (half a /22 empty is most of a sweep failed), and one sweep
   * of a first run cannot be told from theirs. Probing services (a port
   * sweep) stays the scan of the scale above. */
  int ping_sweep = is_echo(q->proto, q->port);
  /* The same hosts pinged round after round (a monitor polling every 5
   * minutes, hosts that are down failing each time): low at most. */
  int ping_rounds = ping_sweep && tries >= HEALTH_CHECK_TRIES;
  if (ping_sweep)
    cap_at(&go.sev, &go.score,
           ping_rounds ? NFH_SEV_LOW : PING_SWEEP_MAX_SEVERITY);
  reasons rs;
  memset(&rs, 0, sizeof(rs));
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    if (v->port == q->port && v->proto == q->proto && counts_as_failed(v, fo) &&
        (!h->home_only || s->targets[v->target].home))
      add_reason(&rs, v, fo);
  }
  add_halfopen_past_exact(&rs, q->o_contacts[PS_O_HALFOPEN], h->v.failed);
  scale_reasons(&rs, h->v.failed);
  /* Half-open probes of the same hosts again and again: a load
   * balancer's or a monitor's health checks (a half-open TCP monitor),
   * not a scanner, which probes a host's port once or twice. Info. */
  int health_checks =
      rs.halfopen * 2 >= h->v.considered && tries >= HEALTH_CHECK_TRIES;
  if (health_checks)
    cap_at(&go.sev, &go.score, NFH_SEV_INFO);

  snprintf(key, sizeof(key), "h|%s|%s", src, port);
  buf sm = {0}, ev = {0};
  /* Half-open probes count as failures (TRW, the grade) but are shown as
   * what they were: answered, and dropped by the prober. */
  double halfopen = rs.halfopen;
  bprintf(&sm, "%s probed %s%.0f %shosts on %s in %s, %.0f%% failed", src,
          h->t.estimated ? "~" : "", h->v.considered,
          h->home_only ? "internal " : "", port, span,
          pct_failed(shown_ratio(h->v.ratio, h->v.considered, halfopen)));
  double answered = h->v.succ + halfopen;
  say_answered(&sm, "answered", answered, halfopen);
  if (tries >= RETRY_HEAVY)
    bprintf(&sm, ", %.1f tries per host%s", tries,
            health_checks ? ": health checks" : "");
  if (ping_sweep)
    bprintf(&sm, ping_rounds ? ": a ping sweep in rounds (a monitor, most "
                               "likely)"
                             : ": a ping sweep (host discovery)");
  if (earlier_end) {
    char gap[24];
    fmt_span((double)first - earlier_end, gap, sizeof(gap));
    bprintf(&sm,
            " (again, %s after its last sweep of the port; hosts "
            "counted over both)",
            gap);
  }
  summary_notes(&sm, r, s, h->v.considered, &rs);
  bprintf(&ev,
          "{\"kind\": \"%s\", \"port\": \"%s\", \"hosts\": %.0f, "
          "\"failed\": %.0f, \"answered\": %.0f, \"fail_ratio\": %.3f",
          kind_name(K_HORIZONTAL), port, h->v.considered,
          h->v.failed - halfopen, answered,
          shown_ratio(h->v.ratio, h->v.considered, halfopen));
  evidence_halfopen(&ev, halfopen, h->v.ratio);
  if (earlier_end)
    bprintf(&ev, ", \"earlier_sweep_end_ms\": %" PRIu64,
            (uint64_t)earlier_end * 1000);
  if (nfh__ps_sampling(s) > 1)
    bprintf(&ev, ", \"hosts_estimated\": %.0f", h->v.considered * est);
  evidence_reasons(&ev, &rs);
  bprintf(&ev,
          ", \"attempts\": %u, \"duration_s\": %.0f, \"rate_per_min\": %.2f, "
          "\"tries_per_host\": %.2f, \"speed\": \"%s\", \"direction\": "
          "\"%s\", \"exact\": %s, \"sample_failed\": ",
          (unsigned)attempts, span_s, 60 * h->v.considered / span_s, tries,
          speed_name(span_s, h->v.considered), direction(s->home, dst_home),
          h->t.estimated ? "false" : "true");
  sample_hosts(&ev, s, q, fo, 0, h->home_only);
  bprintf(&ev, ", \"sample_answered\": ");
  sample_hosts(&ev, s, q, fo, 1, h->home_only);
  if (h->home_only)
    bprintf(&ev, ", \"home_only\": true");
  evidence_trw(&ev, cfg, r, s);
  bprintf(&ev, "}");
  nfh_finding f;
  fill(&f, &go, s, sweep_mitre(q, s->home, dst_home));
  f.dst_port = q->proto == TCP || q->proto == UDP ? q->port : -1;
  f.proto = q->proto;
  f.first_ms = (uint64_t)first * 1000;
  f.last_ms = (uint64_t)last * 1000;
  if (add_out(os, K_HORIZONTAL, s, key, &sm, &ev, &f) != 0) {
    free(sm.b);
    free(ev.b);
    return -1;
  }
  out *o = &os->v[os->n - 1];
  o->edge = go.edge;
  o->lateral = s->home && dst_home;
  o->hosts = h->v.considered;
  o->failed = h->v.failed;
  o->answered = h->v.succ;
  snprintf(o->port_label, sizeof(o->port_label), "%s", port);
  return mark_as(ms, s, q->proto, q->port,
                 go.sev >= NFH_SEV_MEDIUM ? -1 : (long)os->n - 1);
}

/* Several ports with horizontal scans from one source: one finding. */
static int emit_horizontal_multi(outs *os, marks *ms, const ps_config *cfg,
                                 const ps_run *r, const ps_source *s,
                                 const hcand *h, size_t nh) {
  int fo = flags_only(r, s);
  char src[NFH_ADDR_STRLEN], span[24], key[128], port[24];
  format_source(s, src, sizeof(src));
  /* Distinct hosts over these ports: exact marks over the services,
   * or the merged sketches when some port has one. */
  uint8_t *hit = calloc(s->ntargets + 1, 1);
  if (!hit)
    return -1;
  double failed = 0, succ = 0, attempts = 0, sketched = 0;
  uint32_t first = UINT32_MAX, last = 0;
  int estimated = 0;
  reasons rs;
  memset(&rs, 0, sizeof(rs));
  for (size_t k = 0; k < nh; k++) {
    const ps_port *q = &s->ports[h[k].port];
    attempts += q->contacts;
    uint32_t f0, l0;
    port_span(s, q, fo, &f0, &l0);
    first = f0 < first ? f0 : first;
    last = l0 > last ? l0 : last;
    if (h[k].t.estimated) {
      estimated = 1;
      double extra = h[k].v.considered -
                     (q->n[PS_SUCC] + q->n[PS_STRONG] + (fo ? 0 : q->n[PS_WEAK]));
      sketched = extra > sketched ? extra : sketched;
    }
  }
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    int in = 0;
    for (size_t k = 0; k < nh && !in; k++)
      in = s->ports[h[k].port].port == v->port &&
           s->ports[h[k].port].proto == v->proto;
    if (!in)
      continue;
    if (v->cls == PS_SUCC)
      hit[v->target] |= 2;
    else if (counts_as_failed(v, fo)) {
      hit[v->target] |= v->reasons & PS_R_HALFOPEN ? 5 : 1;
      add_reason(&rs, v, fo);
    }
  }
  /* Hosts that answered a probe the prober then dropped (half-open)
   * failed for the grade, and are shown as answered; past the exact
   * services, each such probe is taken for a host. */
  double halfopen = 0, halfopen_over = 0;
  for (size_t k = 0; k < nh; k++)
    halfopen_over += s->ports[h[k].port].o_contacts[PS_O_HALFOPEN];
  uint32_t home = 0, all = 0;
  for (uint32_t i = 0; i < s->ntargets; i++) {
    if (!hit[i])
      continue;
    all++;
    home += s->targets[i].home;
    if (hit[i] & 2)
      succ++;
    else
      failed++;
    halfopen += (hit[i] & 6) == 4;
  }
  free(hit);
  /* The sketched part: the largest port's extra as a lower bound. */
  failed += sketched;
  /* Hosts that answered and went quiet are folded out of the services
   * into their port's count: no union of services sees them. Each
   * port's own answered count is a lower bound. nmap -sn stops probing
   * a host once its echo is answered: 31 live hosts of a /24 were only
   * in icmp/echo's count, and "226 hosts, 99% failed" was 256, 88%. */
  for (size_t k = 0; k < nh; k++)
    if (h[k].v.succ > succ)
      succ = h[k].v.succ;
  double hosts = failed + succ, ratio = hosts > 0 ? failed / hosts : 0;
  halfopen += halfopen_over;
  if (halfopen > failed)
    halfopen = failed;
  int dst_home = all && home * 2 >= all;
  double span_s = (double)last - first + 1;
  fmt_span(span_s, span, sizeof(span));
  double est = nfh__ps_sampling(s); /* probes are single packets: seen 1 in N */
  grade_in g = {.targets = hosts * est,
                .ratio = ratio,
                .succ = succ,
                .span_s = span_s,
                .min_targets = cfg->min_hosts,
                .src_home = s->home,
                .dst_home = dst_home,
                .crossed = crossed(r, s),
                .flags_only = fo,
                .sampled_unknown = r->sampled_unknown,
                .estimated = estimated,
                .sampling = nfh__ps_sampling(s)};
  grade_out go = grade(cfg, &g);
  scale_reasons(&rs, failed);

  snprintf(key, sizeof(key), "h|%s|*", src);
  buf sm = {0}, ev = {0};
  bprintf(&sm, "%s probed %s%.0f hosts on %zu ports (", src,
          estimated ? "~" : "", hosts, nh);
  for (size_t k = 0; k < nh && k < LIST_PORTS; k++) {
    const ps_port *q = &s->ports[h[k].port];
    fmt_port(q->proto, q->port, port, sizeof(port));
    bprintf(&sm, "%s%s", k ? ", " : "", port);
  }
  bprintf(&sm, "%s) in %s, %.0f%% failed", nh > LIST_PORTS ? ", ..." : "", span,
          pct_failed(shown_ratio(ratio, hosts, halfopen)));
  say_answered(&sm, "answered", succ + halfopen, halfopen);
  summary_notes(&sm, r, s, hosts, &rs);
  bprintf(&ev,
          "{\"kind\": \"%s\", \"hosts\": %.0f, \"failed\": %.0f, "
          "\"answered\": %.0f, \"fail_ratio\": %.3f",
          kind_name(K_HORIZONTAL_MULTI), hosts, failed - halfopen,
          succ + halfopen, shown_ratio(ratio, hosts, halfopen));
  evidence_halfopen(&ev, halfopen, ratio);
  bprintf(&ev, ", \"ports\": {");
  /* A port's count may hold a host twice: hosts that answered before
   * the source first failed are folded into its ports' counts, and
   * come back as entries when they fail on another port (an inventory
   * scanner's second sweep read 560 hosts of 507 on tcp/22). No port
   * has more hosts than the finding; where one would, it is a bound. */
  int bounded = 0;
  for (size_t k = 0; k < nh && k < 32; k++) {
    const ps_port *q = &s->ports[h[k].port];
    fmt_port(q->proto, q->port, port, sizeof(port));
    double ph = h[k].v.considered, pf = h[k].v.failed;
    if (ph > hosts) {
      ph = hosts;
      bounded = 1;
    }
    if (pf > ph)
      pf = ph;
    bprintf(&ev, "%s\"%s\": {\"hosts\": %.0f, \"failed\": %.0f}",
            k ? ", " : "", port, ph, pf);
  }
  bprintf(&ev, "}, \"port_count\": %zu", nh);
  evidence_reasons(&ev, &rs);
  bprintf(&ev,
          ", \"attempts\": %.0f, \"duration_s\": %.0f, \"rate_per_min\": "
          "%.2f, \"speed\": \"%s\", \"direction\": \"%s\", \"exact\": %s",
          attempts, span_s, 60 * hosts / span_s, speed_name(span_s, hosts),
          direction(s->home, dst_home),
          estimated || bounded ? "false" : "true");
  evidence_trw(&ev, cfg, r, s);
  bprintf(&ev, "}");
  nfh_finding f;
  fill(&f, &go, s, mitre_of(s->home, dst_home));
  f.first_ms = (uint64_t)first * 1000;
  f.last_ms = (uint64_t)last * 1000;
  if (add_out(os, K_HORIZONTAL_MULTI, s, key, &sm, &ev, &f) != 0) {
    free(sm.b);
    free(ev.b);
    return -1;
  }
  os->v[os->n - 1].edge = go.edge;
  const ps_port *q0 = &s->ports[h[0].port];
  fmt_port(q0->proto, q0->port, os->v[os->n - 1].port_label,
           sizeof(os->v[0].port_label));
  for (size_t k = 0; k < nh; k++)
    if (mark(ms, s, s->ports[h[k].port].proto, s->ports[h[k].port].port) !=
        0)
      return -1;
  return 0;
}

/* ------------------------------------------------------------ vertical */

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sample ports of one target, ascending: failed or answering ones. */
static void sample_ports(buf *e, const ps_source *s, uint32_t ti, int fo,
                         int answered) {
  uint32_t keys[64];
  size_t n = 0;
  for (uint32_t i = 0; i < s->nservices && n < 64; i++) {
    const ps_service *v = &s->services[i];
    if (v->target != ti)
      continue;
    if (answered != answered_service(v, fo))
      continue;
    keys[n++] = (uint32_t)v->proto << 16 | v->port;
  }
  qsort(keys, n, sizeof(uint32_t), cmp_u32);
  bprintf(e, "[");
  for (size_t k = 0; k < n && k < SAMPLE_PORTS; k++) {
    char port[24];
    fmt_port((uint8_t)(keys[k] >> 16), (uint16_t)keys[k], port, sizeof(port));
    bprintf(e, "%s\"%s\"", k ? ", " : "", port);
  }
  bprintf(e, "]");
}

static int emit_vertical(outs *os, marks *ms, const ps_config *cfg,
                         const ps_run *r, const ps_source *s,
                         const vcand *vc) {
  const ps_target *t = &s->targets[vc->target];
  int fo = flags_only(r, s);
  char src[NFH_ADDR_STRLEN], dst[NFH_ADDR_STRLEN], span[24], key[160];
  format_source(s, src, sizeof(src));
  nfh_addr_format(&t->addr, dst, sizeof(dst));
  uint32_t first, last;
  target_span(s, vc->target, fo, &first, &last);
  double span_s = (double)last - first + 1;
  fmt_span(span_s, span, sizeof(span));
  double est = nfh__ps_sampling(s); /* probes are single packets: seen 1 in N */
  /* TRW counts hosts, not ports: one host is one step, no verdict. */
  grade_in g = {.targets = vc->v.considered * est,
                .ratio = vc->v.ratio,
                .succ = vc->v.succ,
                .span_s = span_s,
                .min_targets = cfg->min_ports,
                .src_home = s->home,
                .dst_home = t->home,
                .flags_only = fo,
                .sampled_unknown = r->sampled_unknown,
                .estimated = vc->t.estimated,
                .sampling = nfh__ps_sampling(s)};
  grade_out go = grade(cfg, &g);
  reasons rs;
  memset(&rs, 0, sizeof(rs));
  uint32_t protos = 0; /* bit 0 TCP, bit 1 UDP */
  /* A ping among the probes (nmap's host discovery) is no port: "1001
   * TCP ports, 4 open" for nmap's 1,000 ports and 3 open. */
  int echo = 0, echo_answered = 0;
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    if (v->target != vc->target)
      continue;
    protos |= v->proto == TCP ? 1u : v->proto == UDP ? 2u : 0u;
    if (is_echo(v->proto, v->port)) {
      echo = 1;
      echo_answered = v->cls == PS_SUCC;
    }
    if (counts_as_failed(v, fo))
      add_reason(&rs, v, fo);
  }
  add_halfopen_past_exact(&rs, s->targets[vc->target].o_contacts[PS_O_HALFOPEN],
                          vc->v.failed);
  scale_reasons(&rs, vc->v.failed);
  int echo_apart = echo && protos && !vc->t.estimated;
  double ports_shown = vc->v.considered - (echo_apart ? 1 : 0);
  double halfopen = rs.halfopen;
  double open_shown =
      vc->v.succ + halfopen - (echo_apart && echo_answered ? 1 : 0);

  snprintf(key, sizeof(key), "v|%s|%s", src, dst);
  buf sm = {0}, ev = {0};
  bprintf(&sm, "%s probed %s%.0f %sports on %s in %s, %.0f%% failed", src,
          vc->t.estimated ? "~" : "", ports_shown,
          protos == 1   ? "TCP "
          : protos == 2 ? "UDP "
                        : "",
          dst, span,
          pct_failed(shown_ratio(vc->v.ratio, vc->v.considered, halfopen)));
  say_answered(&sm, "open", open_shown, halfopen);
  if (echo_apart)
    bprintf(&sm, echo_answered ? ", and a ping answered" : ", and a ping");
  summary_notes(&sm, r, s, vc->v.considered, &rs);
  bprintf(&ev,
          "{\"kind\": \"%s\", \"ports\": %.0f, \"failed\": %.0f, "
          "\"open\": %.0f, \"fail_ratio\": %.3f",
          kind_name(K_VERTICAL), vc->v.considered, vc->v.failed - halfopen,
          vc->v.succ + halfopen,
          shown_ratio(vc->v.ratio, vc->v.considered, halfopen));
  evidence_halfopen(&ev, halfopen, vc->v.ratio);
  if (nfh__ps_sampling(s) > 1)
    bprintf(&ev, ", \"ports_estimated\": %.0f", vc->v.considered * est);
  evidence_reasons(&ev, &rs);
  bprintf(&ev,
          ", \"attempts\": %u, \"duration_s\": %.0f, \"rate_per_min\": %.2f, "
          "\"speed\": \"%s\", \"direction\": \"%s\", \"exact\": %s, "
          "\"sample_failed\": ",
          t->contacts, span_s, 60 * vc->v.considered / span_s,
          speed_name(span_s, vc->v.considered), direction(s->home, t->home),
          vc->t.estimated ? "false" : "true");
  sample_ports(&ev, s, vc->target, fo, 0);
  bprintf(&ev, ", \"sample_open\": ");
  sample_ports(&ev, s, vc->target, fo, 1);
  evidence_trw(&ev, cfg, r, s);
  bprintf(&ev, "}");
  nfh_finding f;
  fill(&f, &go, s, mitre_of(s->home, t->home));
  f.dst = t->addr;
  f.proto = protos == 1 ? TCP : protos == 2 ? UDP : -1;
  f.first_ms = (uint64_t)first * 1000;
  f.last_ms = (uint64_t)last * 1000;
  if (add_out(os, K_VERTICAL, s, key, &sm, &ev, &f) != 0) {
    free(sm.b);
    free(ev.b);
    return -1;
  }
  os->v[os->n - 1].edge = go.edge;
  snprintf(os->v[os->n - 1].port_label, sizeof(os->v[0].port_label),
           "vertical");
  (void)ms;
  return 0;
}

/* Several hosts each scanned on many ports by one source; a block (hc,
 * nh: its ports that pass on their own) when 'block'. */
static int emit_vertical_multi(outs *os, const ps_config *cfg, const ps_run *r,
                               const ps_source *s, const vcand *vc, size_t nv,
                               int block, const hcand *hc, size_t nh,
                               marks *ms) {
  int fo = flags_only(r, s);
  char src[NFH_ADDR_STRLEN], span[24], key[128], a[NFH_ADDR_STRLEN];
  format_source(s, src, sizeof(src));
  double failed = 0, considered = 0, succ = 0, maxports = 0, attempts = 0;
  uint32_t first = UINT32_MAX, last = 0, home = 0;
  int estimated = 0;
  for (size_t k = 0; k < nv; k++) {
    const ps_target *t = &s->targets[vc[k].target];
    failed += vc[k].v.failed;
    succ += vc[k].v.succ;
    considered += vc[k].v.considered;
    if (vc[k].v.considered > maxports)
      maxports = vc[k].v.considered;
    attempts += t->contacts;
    uint32_t f0, l0;
    target_span(s, vc[k].target, fo, &f0, &l0);
    first = f0 < first ? f0 : first;
    last = l0 > last ? l0 : last;
    home += t->home;
    estimated |= vc[k].t.estimated;
  }
  int dst_home = home * 2 >= nv;
  /* A block past the exact targets: its ports' counts go on (a sweep of
   * 4,096 hosts on 20 ports read "1024 hosts ... in 7 min", the hosts
   * kept exactly and their time). It is as wide as its widest port,
   * its host-ports their sum. */
  double hosts = (double)nv;
  int widened = 0;
  if (block) {
    double port_hosts = 0, port_failed = 0, port_succ = 0, widest = 0;
    int port_estimated = 0;
    for (size_t k = 0; k < nh; k++) {
      port_hosts += hc[k].v.considered;
      port_failed += hc[k].v.failed;
      port_succ += hc[k].v.succ;
      widest = hc[k].v.considered > widest ? hc[k].v.considered : widest;
      port_estimated |= hc[k].t.estimated;
    }
    if (port_hosts > considered) {
      considered = port_hosts;
      failed = port_failed;
      succ = port_succ;
      estimated |= port_estimated;
      widened = 1;
      double port_attempts = 0;
      for (size_t k = 0; k < nh; k++)
        port_attempts += s->ports[hc[k].port].contacts;
      if (port_attempts > attempts)
        attempts = port_attempts;
      for (size_t k = 0; k < nh; k++) {
        uint32_t f0, l0;
        port_span(s, &s->ports[hc[k].port], fo, &f0, &l0);
        first = f0 < first ? f0 : first;
        last = l0 > last ? l0 : last;
      }
    }
    if (widest > hosts)
      hosts = widest;
  }
  double ratio = considered > 0 ? failed / considered : 0;
  /* Distinct ports over all of them. */
  uint32_t *keys = malloc(((size_t)s->nservices + 1) * sizeof(uint32_t));
  if (!keys)
    return -1;
  size_t nk = 0;
  reasons rs;
  memset(&rs, 0, sizeof(rs));
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    int in = 0;
    for (size_t k = 0; k < nv && !in; k++)
      in = vc[k].target == v->target;
    if (!in)
      continue;
    keys[nk++] = (uint32_t)v->proto << 16 | v->port;
    if (counts_as_failed(v, fo))
      add_reason(&rs, v, fo);
  }
  qsort(keys, nk, sizeof(uint32_t), cmp_u32);
  size_t ports = 0;
  for (size_t i = 0; i < nk; i++)
    ports += i == 0 || keys[i] != keys[i - 1];
  if ((double)ports < maxports)
    ports = (size_t)maxports;
  uint32_t halfopen_over = 0, port_halfopen_over = 0;
  for (size_t k = 0; k < nv; k++)
    halfopen_over += s->targets[vc[k].target].o_contacts[PS_O_HALFOPEN];
  for (size_t k = 0; widened && k < nh; k++)
    port_halfopen_over += s->ports[hc[k].port].o_contacts[PS_O_HALFOPEN];
  if (port_halfopen_over > halfopen_over)
    halfopen_over = port_halfopen_over;
  add_halfopen_past_exact(&rs, halfopen_over, failed);
  scale_reasons(&rs, failed);
  double span_s = (double)last - first + 1;
  fmt_span(span_s, span, sizeof(span));
  double est = nfh__ps_sampling(s); /* probes are single packets: seen 1 in N */
  /* The breadth of a grid is hosts times ports probed. */
  grade_in g = {.targets = considered * est,
                .ratio = ratio,
                .succ = succ,
                .span_s = span_s,
                .min_targets = cfg->min_ports,
                .src_home = s->home,
                .dst_home = dst_home,
                .crossed = crossed(r, s),
                .flags_only = fo,
                .sampled_unknown = r->sampled_unknown,
                .estimated = estimated,
                .sampling = nfh__ps_sampling(s)};
  grade_out go = grade(cfg, &g);

  /* Services that answered a probe the prober then dropped (half-open)
   * failed for the grade, and are shown as open. */
  double halfopen = rs.halfopen;
  double shown = shown_ratio(ratio, considered, halfopen);
  buf sm = {0}, ev = {0};
  if (block) {
    snprintf(key, sizeof(key), "b|%s", src);
    bprintf(&sm,
            "%s probed %s%.0f hosts on %zu ports (%s%.0f host-ports) in "
            "%s, %.0f%% failed",
            src, hosts > (double)nv ? "~" : "", hosts, ports,
            estimated ? "~" : "", considered, span, pct_failed(shown));
  } else {
    snprintf(key, sizeof(key), "v|%s|*", src);
    bprintf(&sm,
            "%s probed %zu hosts on up to %s%.0f ports each in %s, "
            "%.0f%% failed",
            src, nv, estimated ? "~" : "", maxports, span, pct_failed(shown));
  }
  say_answered(&sm, "open", succ + halfopen, halfopen);
  summary_notes(&sm, r, s, considered, &rs);
  bprintf(&ev,
          "{\"kind\": \"%s\", \"hosts\": %.0f, \"distinct_ports\": %zu, "
          "\"host_ports\": %.0f, \"failed\": %.0f, \"open\": %.0f, "
          "\"fail_ratio\": %.3f",
          kind_name(block ? K_BLOCK : K_VERTICAL_MULTI), hosts, ports,
          considered, failed - halfopen, succ + halfopen, shown);
  evidence_halfopen(&ev, halfopen, ratio);
  evidence_reasons(&ev, &rs);
  bprintf(&ev,
          ", \"attempts\": %.0f, \"duration_s\": %.0f, \"rate_per_min\": "
          "%.2f, \"speed\": \"%s\", \"direction\": \"%s\", \"exact\": %s, "
          "\"sample_hosts\": [",
          attempts, span_s, 60 * considered / span_s,
          speed_name(span_s, considered), direction(s->home, dst_home),
          estimated ? "false" : "true");
  for (size_t k = 0; k < nv && k < SAMPLE_TARGETS; k++) {
    nfh_addr_format(&s->targets[vc[k].target].addr, a, sizeof(a));
    bprintf(&ev, "%s\"%s\"", k ? ", " : "", a);
  }
  bprintf(&ev, "]");
  evidence_trw(&ev, cfg, r, s);
  bprintf(&ev, "}");
  free(keys);
  nfh_finding f;
  fill(&f, &go, s, mitre_of(s->home, dst_home));
  f.first_ms = (uint64_t)first * 1000;
  f.last_ms = (uint64_t)last * 1000;
  if (add_out(os, block ? K_BLOCK : K_VERTICAL_MULTI, s, key, &sm, &ev, &f) !=
      0) {
    free(sm.b);
    free(ev.b);
    return -1;
  }
  os->v[os->n - 1].edge = go.edge;
  snprintf(os->v[os->n - 1].port_label, sizeof(os->v[0].port_label),
           block ? "block" : "vertical");
  if (block)
    for (uint32_t i = 0; i < s->nports; i++)
      if (mark(ms, s, s->ports[i].proto, s->ports[i].port) != 0)
        return -1;
  return 0;
}

/* ------------------------------------------------------------- repeats */

/* One service hammered with refused attempts. Not reconnaissance (one
 * target), but worth a line: a client in a tight reconnect loop, a
 * brute-force tool aimed at a service that is not listening, or a
 * connection flood. Kept low: nothing was reached. */
static int emit_repeat(outs *os, const ps_config *cfg, const ps_run *r,
                       const ps_source *s, const ps_service *v) {
  const ps_target *t = &s->targets[v->target];
  char src[NFH_ADDR_STRLEN], dst[NFH_ADDR_STRLEN], port[24], span[24];
  char key[200];
  format_source(s, src, sizeof(src));
  nfh_addr_format(&t->addr, dst, sizeof(dst));
  fmt_port(v->proto, v->port, port, sizeof(port));
  double span_s = (double)v->last_s - v->first_s + 1;
  fmt_span(span_s, span, sizeof(span));
  double ratio = (double)v->fails / v->contacts;
  const char *by = (v->reasons & PS_R_RST) && (v->reasons & PS_R_ICMP)
                       ? "RST and ICMP unreachable"
                   : v->reasons & PS_R_RST    ? "RST"
                   : v->reasons & PS_R_DENIED ? "a firewall"
                                              : "ICMP unreachable";
  char how[96];
  if (v->refused * 2 >= v->contacts)
    snprintf(how, sizeof(how), "%.0f%% refused by %s",
             100.0 * v->refused / v->contacts, by);
  else
    snprintf(how, sizeof(how), "%.0f%% failed",
             pct_failed((double)v->fails / v->contacts));
  grade_out go;
  memset(&go, 0, sizeof(go));
  go.score = clamp(22 + 6 * log10((double)v->contacts /
                                  cfg->repeat_min_attempts) +
                       (s->home && t->home ? 5 : 0),
                   20, top_of(NFH_SEV_LOW));
  go.sev = NFH_SEV_LOW;
  go.confidence = nfh__ps_sampling(s) > 1 ? 0.6 : 0.85;
  snprintf(key, sizeof(key), "r|%s|%s|%s", src, dst, port);
  buf sm = {0}, ev = {0};
  bprintf(&sm,
          "%s made %u connection attempts to %s %s in %s, %s: a "
          "reconnect loop, brute force or flood against one service, not a "
          "sweep",
          src, v->contacts, dst, port, span, how);
  summary_notes(&sm, r, s, -1, NULL);
  bprintf(&ev,
          "{\"kind\": \"%s\", \"attempts\": %u, \"failed\": %u, "
          "\"fail_ratio\": %.3f, \"duration_s\": %.0f, \"rate_per_s\": %.2f, "
          "\"failures\": {\"refused\": %u, \"no_reply\": %u, "
          "\"by\": \"%s\"}, "
          "\"succeeded\": %u, \"direction\": \"%s\", \"sampling\": %u, "
          "\"note\": \"one target service: not reconnaissance\"}",
          kind_name(K_REPEAT), v->contacts, v->fails, ratio, span_s,
          v->contacts / span_s, v->refused, v->fails - v->refused,
          (v->reasons & PS_R_RST) && (v->reasons & PS_R_ICMP) ? "rst+icmp"
          : v->reasons & PS_R_RST                             ? "rst"
          : v->reasons & PS_R_ICMP                            ? "icmp"
          : v->reasons & PS_R_DENIED                          ? "firewall"
                                                              : "none",
          v->contacts - v->fails, direction(s->home, t->home),
          nfh__ps_sampling(s));
  nfh_finding f;
  fill(&f, &go, s, NULL);
  f.dst = t->addr;
  f.dst_port = v->proto == TCP || v->proto == UDP ? v->port : -1;
  f.proto = v->proto;
  f.first_ms = (uint64_t)v->first_s * 1000;
  f.last_ms = (uint64_t)v->last_s * 1000;
  if (add_out(os, K_REPEAT, s, key, &sm, &ev, &f) != 0) {
    free(sm.b);
    free(ev.b);
    return -1;
  }
  os->v[os->n - 1].attempts = v->contacts;
  fmt_port(v->proto, v->port, os->v[os->n - 1].port_label,
           sizeof(os->v[0].port_label));
  return 0;
}

static int by_service(const void *pa, const void *pb) {
  const out *a = *(const out *const *)pa, *b = *(const out *const *)pb;
  int c = nfh_addr_compare(&a->f.dst, &b->f.dst);
  if (c)
    return c;
  if (a->f.proto != b->f.proto)
    return a->f.proto < b->f.proto ? -1 : 1;
  if (a->f.dst_port != b->f.dst_port)
    return a->f.dst_port < b->f.dst_port ? -1 : 1;
  return strcmp(a->key, b->key);
}

static int same_service(const out *a, const out *b) {
  return nfh_addr_compare(&a->f.dst, &b->f.dst) == 0 &&
         a->f.proto == b->f.proto && a->f.dst_port == b->f.dst_port;
}

/* Many sources hammering the same service is a connection flood (or a
 * fleet of clients misconfigured alike): one finding, not one per
 * source; the volumetric detector judges its size. */
static int fold_repeats(outs *os) {
  size_t n = 0;
  for (size_t i = 0; i < os->n; i++)
    n += os->v[i].k == K_REPEAT;
  if (n < REPEAT_GROUP)
    return 0;
  out **r = malloc(n * sizeof(out *));
  if (!r)
    return -1;
  n = 0;
  for (size_t i = 0; i < os->n; i++)
    if (os->v[i].k == K_REPEAT)
      r[n++] = &os->v[i];
  qsort(r, n, sizeof(out *), by_service);
  /* Summaries go to a side list: appending to os would move r's
   * targets. */
  outs add = {0};
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n;) {
    size_t j = i;
    while (j < n && same_service(r[i], r[j]))
      j++;
    if (j - i >= REPEAT_GROUP) {
      char dst[NFH_ADDR_STRLEN], a[NFH_ADDR_STRLEN], span[24], key[160];
      nfh_addr_format(&r[i]->f.dst, dst, sizeof(dst));
      double attempts = 0, top = 0;
      uint64_t first = UINT64_MAX, last = 0;
      buf sm = {0}, ev = {0};
      bprintf(&ev, "{\"kind\": \"%s\", \"sources\": %zu, \"sample_sources\": [",
              kind_name(K_REPEAT), j - i);
      for (size_t k = i; k < j; k++) {
        attempts += r[k]->attempts;
        top = r[k]->f.score > top ? r[k]->f.score : top;
        first = r[k]->f.first_ms < first ? r[k]->f.first_ms : first;
        last = r[k]->f.last_ms > last ? r[k]->f.last_ms : last;
        if (k - i < 10 && r[k]->s) {
          format_source(r[k]->s, a, sizeof(a));
          bprintf(&ev, "%s\"%s\"", k > i ? ", " : "", a);
        }
        r[k]->folded = 1;
      }
      fmt_span((double)(last - first) / 1000 + 1, span, sizeof(span));
      bprintf(&ev,
              "], \"attempts\": %.0f, \"duration_s\": %.0f, \"note\": "
              "\"many sources, one service: a connection flood or clients "
              "misconfigured alike, not a scan\"}",
              attempts, (double)(last - first) / 1000 + 1);
      bprintf(&sm,
              "%zu sources made %.0f mostly refused connection attempts to "
              "%s %s in %s: a connection flood or clients misconfigured "
              "alike, not a scan",
              j - i, attempts, dst, r[i]->port_label, span);
      snprintf(key, sizeof(key), "r|*|%s|%s", dst, r[i]->port_label);
      grade_out go = {top, 0.8, NFH_SEV_LOW, 0};
      nfh_finding f;
      fill(&f, &go, NULL, NULL);
      f.dst = r[i]->f.dst;
      f.dst_port = r[i]->f.dst_port;
      f.proto = r[i]->f.proto;
      f.first_ms = first;
      f.last_ms = last;
      if (add_out(&add, K_REPEAT, NULL, key, &sm, &ev, &f) != 0) {
        free(sm.b);
        free(ev.b);
        rc = -1;
      }
    }
    i = j;
  }
  free(r);
  for (size_t i = 0; rc == 0 && i < add.n; i++) {
    if (os->n == os->cap) {
      size_t cap = os->cap * 2;
      out *grown = realloc(os->v, cap * sizeof(out));
      if (!grown) {
        rc = -1;
        break;
      }
      os->v = grown;
      os->cap = cap;
    }
    os->v[os->n++] = add.v[i];
    add.v[i].key = add.v[i].summary = add.v[i].evidence = NULL;
  }
  free_outs(&add);
  return rc;
}

/* ------------------------------------------------------------ a source */

static int report_source(outs *os, marks *ms, const ps_config *cfg,
                         const ps_run *r, const ps_source *s) {
  int fo = flags_only(r, s);
  int verdict = crossed(r, s);
  double sq = sqrt((double)nfh__ps_sampling(s));
  hcand *h = malloc(((size_t)s->nports + 1) * sizeof(hcand));
  hcand *hh = malloc(((size_t)s->nports + 1) * sizeof(hcand));
  hcand *dg = malloc(((size_t)s->nports + 1) * sizeof(hcand)); /* diagonal */
  vcand *v = malloc(((size_t)s->ntargets + 1) * sizeof(vcand));
  uint32_t(*tn)[4] = malloc(((size_t)s->ntargets + 1) * sizeof(*tn));
  uint32_t(*pn)[4] =
      s->home ? calloc((size_t)s->nports + 1, sizeof(*pn)) : NULL;
  if (!h || !hh || !dg || !v || !tn || (s->home && !pn)) {
    free(h);
    free(hh);
    free(dg);
    free(v);
    free(tn);
    free(pn);
    return -1;
  }
  nfh__ps_target_services(s, tn);
  /* An internal source's services on home hosts, by port: its lateral
   * scan is judged apart from its browsing. 150 internal hosts failing
   * on tcp/443 were 43% of the port's hosts beside 200 web sites that
   * answered, and nothing was reported. */
  for (uint32_t i = 0; pn && i < s->nservices; i++) {
    const ps_service *sv = &s->services[i];
    if (sv->port_ix != UINT32_MAX && s->targets[sv->target].home)
      pn[sv->port_ix][sv->cls]++;
  }
  for (uint32_t i = 0; pn && i < s->nports; i++)
    pn[i][PS_SUCC] += s->ports[i].folded_home;
  size_t nh = 0, nhh = 0, nv = 0;
  /* Ports with no new failure in this run count only beside one that
   * has: a slow scan of three ports fails on one of them in an hourly
   * run, and its finding (h|SRC|*) must not fall apart into one finding
   * a port. */
  int any_now = 0;
  for (uint32_t i = 0; i < s->nports; i++) {
    const ps_port *q = &s->ports[i];
    tally t = port_tally(s, q);
    view w = view_of(&t, fo);
    if (w.failed >= observed_min(cfg->min_hosts, sq, 3) &&
        w.ratio >= cfg->min_fail_ratio &&
        (verdict || w.ratio >= cfg->strong_fail_ratio)) {
      h[nh++] = (hcand){.port = i, .v = w, .t = t, .home_only = 0};
      any_now |= q->failed_now;
    } else if (pn && !t.estimated && q->failed_now) {
      /* The home hosts alone, where the whole port does not pass: the
       * TRW verdict mixes in the outside, so the failed share must be
       * strong by itself. */
      static const uint32_t none[4];
      tally th = tally_of(pn[i], none, 0, HUGE_VAL);
      view wh = view_of(&th, fo);
      if (wh.failed >= observed_min(cfg->min_hosts, sq, 3) &&
          wh.ratio >= cfg->strong_fail_ratio) {
        hh[nhh++] = (hcand){.port = i, .v = wh, .t = th, .home_only = 1};
      }
    }
  }
  for (uint32_t i = 0; i < s->ntargets; i++) {
    const ps_target *t = &s->targets[i];
    if (!t->failed_now)
      continue;
    tally y = tally_of(tn[i], t->o_contacts, nfh__ps_sketch_count(s, t->sketch),
                       most_ports(s));
    view w = view_of(&y, fo);
    /* One host is one TRW step: a vertical scan has to show its failure
     * share by itself. */
    if (w.failed >= observed_min(cfg->min_ports, sq, 3) &&
        w.ratio >= cfg->strong_fail_ratio) {
      v[nv].target = i;
      v[nv].t = y;
      v[nv].v = w;
      nv++;
    }
  }
  if (!any_now)
    nh = 0; /* nothing new on any port that passes */
  /* A scanner (TRW crossed) that spreads its probes thin, each host on
   * another of a list of ports (a diagonal sweep), leaves most or all of
   * its ports below min_hosts: "80 hosts on 7 ports" for 594 hosts on
   * 100. Its finding takes in every port it failed on. */
  if (verdict && nv < 3) {
    size_t nall = 0; /* the ports it failed on, in dg */
    double failed_all = 0, failed_home = 0;
    for (uint32_t i = 0; i < s->nports; i++) {
      const ps_port *q = &s->ports[i];
      if (!q->failed_now)
        continue;
      tally t = port_tally(s, q);
      view w = view_of(&t, fo);
      if (w.failed >= 1 && w.ratio >= cfg->strong_fail_ratio) {
        dg[nall++] = (hcand){.port = i, .v = w, .t = t, .home_only = 0};
        failed_all += w.failed;
        if (pn)
          failed_home += pn[i][PS_STRONG] + (fo ? 0 : pn[i][PS_WEAK]);
      }
    }
    /* Only when the ports are shared by hosts (two failed hosts a port
     * or more): a peer-to-peer client failing on peers' random ports
     * fails on about as many ports as hosts, and is no scan. Unless the
     * hosts are our own: peers are out there, and an internal host
     * trying 60 internal hosts on 60 ports, refused by each, is a
     * lateral scan that was nothing. */
    double per_port = failed_home >= 0.8 * failed_all ? 1.0 : 2.0;
    /* Beside ports that pass on their own, the others must hold a scan's
     * worth of failures together: a lateral sweep on two ports took in
     * its host's one unanswered name server and time server (replies
     * lost to an exporter's unannounced sampling), "88 hosts on 4 ports
     * (tcp/3389, tcp/22, udp/53, udp/123)". */
    double failed_passing = 0;
    for (size_t k = 0; k < nh; k++)
      failed_passing += h[k].v.failed;
    double min_failed = observed_min(cfg->min_hosts, sq, 3);
    if (nall >= 3 && nall > nh && failed_all >= per_port * (double)nall &&
        failed_all >= min_failed &&
        (nh == 0 || failed_all - failed_passing >= min_failed)) {
      memcpy(h, dg, nall * sizeof(hcand));
      nh = nall;
    }
  }
  qsort(h, nh, sizeof(hcand), by_failed_h);
  qsort(v, nv, sizeof(vcand), by_failed_v);
  int rc = 0;
  if (nh >= 3 && nv >= 3) {
    rc = emit_vertical_multi(os, cfg, r, s, v, nv, 1, h, nh, ms);
  } else {
    if (nh >= 2)
      rc = emit_horizontal_multi(os, ms, cfg, r, s, h, nh);
    else
      for (size_t k = 0; rc == 0 && k < nh; k++)
        rc = emit_horizontal(os, ms, cfg, r, s, &h[k]);
    if (rc == 0 && nv >= 3)
      rc = emit_vertical_multi(os, cfg, r, s, v, nv, 0, NULL, 0, ms);
    else
      for (size_t k = 0; rc == 0 && k < nv; k++)
        rc = emit_vertical(os, ms, cfg, r, s, &v[k]);
  }
  /* Lateral scans hidden in the port's outside traffic, unless a
   * finding above took in their port. */
  qsort(hh, nhh, sizeof(hcand), by_failed_h);
  for (size_t k = 0; rc == 0 && k < nhh; k++)
    if (!marked(ms, s, s->ports[hh[k].port].proto, s->ports[hh[k].port].port))
      rc = emit_horizontal(os, ms, cfg, r, s, &hh[k]);
  /* Hammered single services not covered by a scan finding. */
  int repeats = 0;
  for (uint32_t i = 0; rc == 0 && i < s->nservices && repeats < 2; i++) {
    const ps_service *sv = &s->services[i];
    /* Where silence is no evidence, only refusals count. */
    if (!sv->failed_now || sv->contacts < cfg->repeat_min_attempts ||
        sv->fails < 0.9 * sv->contacts || (fo && sv->cls != PS_STRONG))
      continue;
    double span_s = (double)sv->last_s - sv->first_s + 1;
    if (sv->contacts / span_s < cfg->repeat_min_rate)
      continue;
    int covered = 0;
    for (size_t k = 0; k < nv && !covered; k++)
      covered = v[k].target == sv->target;
    covered |= marked(ms, s, sv->proto, sv->port);
    if (!covered) {
      rc = emit_repeat(os, cfg, r, s, sv);
      repeats++;
    }
  }
  free(h);
  free(hh);
  free(dg);
  free(v);
  free(tn);
  free(pn);
  return rc;
}

/* ---------------------------------------------------------- distributed */

typedef struct dentry {
  uint8_t proto;
  uint16_t port;
  uint32_t first_s, last_s;
  const ps_source *s;
  const ps_port *q;
  double failed;
  long fold; /* the source's own finding to fold in, or -1 */
  int now;   /* the source failed on the port in this run */
} dentry;

/* Windows a group of sources first seen with the data may take (see
 * report_distributed). */
#define DIST_CENSORED_SPAN 3

static int by_port_time(const void *pa, const void *pb) {
  const dentry *a = pa, *b = pb;
  if (a->proto != b->proto)
    return a->proto < b->proto ? -1 : 1;
  if (a->port != b->port)
    return a->port < b->port ? -1 : 1;
  if (a->first_s != b->first_s)
    return a->first_s < b->first_s ? -1 : 1;
  return nfh_addr_compare(&a->s->addr, &b->s->addr);
}

static int emit_distributed(outs *os, const ps_config *cfg, const ps_run *r,
                            const dentry *d, size_t n, size_t on_port,
                            double union_hosts, double sum, int estimated) {
  char port[24], span[24], key[64], a[NFH_ADDR_STRLEN];
  fmt_port(d[0].proto, d[0].port, port, sizeof(port));
  uint32_t first = UINT32_MAX, last = 0, home_src = 0, sampling = 1;
  uint64_t home_dst = 0, all_dst = 0;
  double attempts = 0, failed_sum = 0, answered = 0;
  reasons rs;
  memset(&rs, 0, sizeof(rs));
  for (size_t i = 0; i < n; i++) {
    first = d[i].first_s < first ? d[i].first_s : first;
    last = d[i].last_s > last ? d[i].last_s : last;
    home_src += d[i].s->home;
    attempts += d[i].q->contacts;
    failed_sum += d[i].failed;
    answered += d[i].q->n[PS_SUCC];
    if (nfh__ps_sampling(d[i].s) > sampling)
      sampling = nfh__ps_sampling(d[i].s);
    const ps_source *s = d[i].s;
    int fo = flags_only(r, s);
    for (uint32_t k = 0; k < s->nservices; k++) {
      const ps_service *v = &s->services[k];
      if (v->port == d[i].port && v->proto == d[i].proto &&
          counts_as_failed(v, fo)) {
        add_reason(&rs, v, fo);
        all_dst++;
        home_dst += s->targets[v->target].home;
      }
    }
  }
  int src_home = home_src * 2 >= n;
  int dst_home = all_dst && home_dst * 2 >= all_dst;
  double span_s = (double)last - first + 1;
  fmt_span(span_s, span, sizeof(span));
  scale_reasons(&rs, union_hosts);
  double est = sampling;
  /* Coordination adds to the breadth: more sources in the window, more
   * weight. */
  double bonus =
      clamp(5 * log2((double)n / cfg->dist_min_sources) + 5, 0, 15);
  grade_in g = {.targets = union_hosts * est,
                .ratio = 0.9,
                .succ = answered,
                .span_s = span_s,
                .min_targets = cfg->dist_min_hosts,
                .src_home = src_home,
                .dst_home = dst_home,
                .flags_only = r->one_way || r->sampled_unknown,
                .sampled_unknown = r->sampled_unknown,
                .estimated = estimated,
                .sampling = sampling,
                .bonus = bonus,
                .distributed = 1};
  grade_out go = grade(cfg, &g);
  go.confidence = clamp(go.confidence * 0.85, 0.05, 0.99);
  snprintf(key, sizeof(key), "d|%s", port);
  buf sm = {0}, ev = {0};
  bprintf(&sm,
          "%zu sources probed %s%.0f hosts on %s within %s, splitting them "
          "up, each failing on %u or more",
          n, estimated ? "~" : "", union_hosts, port, span,
          cfg->dist_min_src_hosts);
  if (sampling > 1)
    bprintf(&sm, " (sampled 1:%u: at most ~%.0f in all)", sampling,
            union_hosts * sampling);
  bprintf(&ev,
          "{\"kind\": \"%s\", \"port\": \"%s\", \"sources\": %zu, "
          "\"window_s\": %u, \"sources_on_port_in_run\": %zu, "
          "\"hosts\": %.0f, \"failed_per_source_sum\": %.0f, "
          "\"split\": %.2f",
          kind_name(K_DISTRIBUTED), port, n, cfg->dist_window_s, on_port,
          union_hosts, failed_sum, sum > 0 ? union_hosts / sum : 0);
  evidence_reasons(&ev, &rs);
  bprintf(&ev,
          ", \"attempts\": %.0f, \"duration_s\": %.0f, \"direction\": "
          "\"%s\", \"sampling\": %u, \"exact\": %s, \"sample_sources\": [",
          attempts, span_s, direction(src_home, dst_home), sampling,
          estimated ? "false" : "true");
  for (size_t i = 0; i < n && i < 10; i++) {
    format_source(d[i].s, a, sizeof(a));
    bprintf(&ev, "%s\"%s\"", i ? ", " : "", a);
  }
  bprintf(&ev, "]}");
  nfh_finding f;
  fill(&f, &go, NULL, mitre_of(src_home, dst_home));
  f.dst_port = d[0].proto == TCP || d[0].proto == UDP ? d[0].port : -1;
  f.proto = d[0].proto;
  f.first_ms = (uint64_t)first * 1000;
  f.last_ms = (uint64_t)last * 1000;
  if (add_out(os, K_DISTRIBUTED, NULL, key, &sm, &ev, &f) != 0) {
    free(sm.b);
    free(ev.b);
    return -1;
  }
  return 0;
}

/* Many sources, one port, each failing on a few hosts there, together
 * on many: a botnet or a split-up sweep. Sources already reported for
 * that port by themselves are not counted again. */
static int report_distributed(outs *os, marks *ms, const nfh_host_api *api,
                              const ps_config *cfg, const ps_run *r,
                              const ps_store *st) {
  size_t nsrc;
  ps_source *const *src = nfh__ps_store_sources(st, &nsrc);
  dentry *d = NULL;
  size_t n = 0, cap = 0;
  for (size_t i = 0; i < nsrc; i++) {
    const ps_source *s = src[i];
    if (s->lite || api->is_allowed(api->host, "port_scan", &s->addr, -1))
      continue;
    int fo = flags_only(r, s);
    double sq = sqrt((double)nfh__ps_sampling(s));
    for (uint32_t k = 0; k < s->nports; k++) {
      const ps_port *q = &s->ports[k];
      /* Sources the state carries count as well: run at every nfcapd
       * rotation, each run sees one or two of a slow sweep's sources. A
       * window is reported only with one that failed in this run. */
      tally t = port_tally(s, q);
      view w = view_of(&t, fo);
      if (w.failed < observed_min(cfg->dist_min_src_hosts, sq, 2) ||
          w.ratio < cfg->strong_fail_ratio)
        continue;
      const mark_entry *me = find_mark(ms, s, q->proto, q->port);
      if (me && me->out < 0)
        continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 256;
        dentry *grown = realloc(d, cap * sizeof(dentry));
        if (!grown) {
          free(d);
          return -1;
        }
        d = grown;
      }
      d[n].proto = q->proto;
      d[n].port = q->port;
      port_span(s, q, fo, &d[n].first_s, &d[n].last_s);
      d[n].s = s;
      d[n].q = q;
      d[n].failed = w.failed;
      d[n].fold = me ? me->out : -1;
      d[n].now = q->failed_now;
      n++;
    }
  }
  if (n)
    qsort(d, n, sizeof(dentry), by_port_time);
  /* The data's start: this run's, less what earlier runs saw. */
  uint64_t run_ms = api->window_start_ms(api->host);
  uint64_t hist_ms = api->history_ms(api->host);
  uint32_t data_start_s =
      (uint32_t)((run_ms > hist_ms ? run_ms - hist_ms : 0) / 1000);
  int rc = 0;
  nfh_hll *u = NULL;
  if (n && nfh_hll_create(cfg->hll_precision, &u) != NFH_OK) {
    free(d);
    return -1;
  }
  /* Without memory for the exact set the sketch counts, as estimated. */
  uint64_t *keys = n ? malloc(DIST_EXACT_HOSTS * sizeof(uint64_t)) : NULL;
  int keys_full = 0;
  for (size_t i = 0; rc == 0 && i < n;) {
    size_t j = i;
    while (j < n && d[j].proto == d[i].proto && d[j].port == d[i].port)
      j++;
    /* The window holding the most sources starting in it, of those
     * with a source that failed in this run. */
    size_t peak = 0, best = i, now = 0;
    for (size_t a = i, b = i; b < j; b++) {
      now += d[b].now;
      while (d[b].first_s - d[a].first_s > cfg->dist_window_s)
        now -= d[a++].now;
      if (now && b - a + 1 > peak) {
        peak = b - a + 1;
        best = a;
      }
    }
    /* A sweep is a burst: over a long run the port's background of
     * unrelated scanners arrives at an even pace, and the best window
     * must stand well above it. */
    double windows =
        (double)(d[j - 1].first_s - d[i].first_s) / cfg->dist_window_s + 1;
    int burst = windows < 4 || peak >= DIST_BURST * (j - i) / windows;
    /* Sources first seen in the data's first window started no burst
     * there: the data began (a state's first run), and the Internet's
     * scanners that were at it already all appear at once. Hourly runs
     * of a DMZ made their random probes, hours of them, into medium
     * sweeps. A sweep begun with the data ends within hours; the
     * background goes on. */
    if (burst && d[best].first_s <= data_start_s + cfg->dist_window_s) {
      uint32_t lo = UINT32_MAX, hi = 0;
      for (size_t k = best; k < best + peak; k++) {
        lo = d[k].first_s < lo ? d[k].first_s : lo;
        hi = d[k].last_s > hi ? d[k].last_s : hi;
      }
      if (hi > lo && hi - lo > DIST_CENSORED_SPAN * cfg->dist_window_s)
        burst = 0;
    }
    if (peak < cfg->dist_min_sources || !burst) {
      i = j;
      continue;
    }
    nfh_hll_clear(u);
    int estimated = 0;
    double sum = 0;
    size_t nkeys = 0;
    for (size_t k = best; k < best + peak; k++) {
      const ps_source *s = d[k].s;
      int fo = flags_only(r, s);
      sum += d[k].failed;
      for (uint32_t x = 0; x < s->nservices; x++) {
        const ps_service *v = &s->services[x];
        if (v->port == d[k].port && v->proto == d[k].proto &&
            counts_as_failed(v, fo)) {
          const nfh_addr *ta = &s->targets[v->target].addr;
          uint8_t b17[17];
          memcpy(b17, ta->bytes, 16);
          b17[16] = ta->family;
          uint64_t h = nfh_hll_hash(b17, sizeof(b17));
          nfh_hll_add_hash(u, h);
          /* The hosts themselves while they are few: the union is
           * exact then (the sketch said 119 for 120). */
          if (keys && nkeys < DIST_EXACT_HOSTS)
            keys[nkeys++] = h;
          else
            keys_full = 1;
        }
      }
      /* A port sketch counts answered hosts too: an upper bound that
       * is close for sources that mostly fail. */
      if (d[k].q->sketch >= 0 && s->sketches[d[k].q->sketch].hll &&
          nfh_hll_precision(s->sketches[d[k].q->sketch].hll) ==
              nfh_hll_precision(u)) {
        nfh_hll_merge(u, s->sketches[d[k].q->sketch].hll);
        estimated = 1;
      }
    }
    double hosts = nfh_hll_count(u);
    if (!estimated && !keys_full && keys) {
      qsort(keys, nkeys, sizeof(uint64_t), cmp_u64);
      size_t distinct = 0;
      for (size_t x = 0; x < nkeys; x++)
        distinct += x == 0 || keys[x] != keys[x - 1];
      hosts = (double)distinct;
    } else {
      estimated = 1;
    }
    keys_full = 0;
    /* Never claim more than the sources' own counts add up to. */
    if (hosts > sum)
      hosts = sum;
    /* Coordinated sources split the targets between them; independent
     * scanners each sweep the same hosts again. */
    if (hosts >= cfg->dist_min_hosts && hosts >= DIST_MIN_SPLIT * sum) {
      rc = emit_distributed(os, cfg, r, d + best, peak, j - i, round(hosts),
                            sum, estimated);
      for (size_t k = best; rc == 0 && k < best + peak; k++)
        if (d[k].fold >= 0)
          os->v[d[k].fold].folded = 1;
    }
    i = j;
  }
  nfh_hll_destroy(u);
  free(keys);
  free(d);
  return rc;
}

/* ------------------------------------------------------------ the edge */

typedef struct portcount {
  char label[24];
  uint32_t n;
} portcount;

static int by_score_desc(const void *pa, const void *pb) {
  const out *a = pa, *b = pb;
  if (a->f.score != b->f.score)
    return a->f.score > b->f.score ? -1 : 1;
  return strcmp(a->key, b->key);
}

static int by_count_desc(const void *pa, const void *pb) {
  const portcount *a = pa, *b = pb;
  if (a->n != b->n)
    return a->n > b->n ? -1 : 1;
  return strcmp(a->label, b->label);
}

/* Whether an external scanner with this hash was reported one by one
 * within the day before the run's end. */
static int edge_seen_today(const ps_edge_seen *seen, size_t n,
                           uint32_t day_start, uint32_t hash) {
  for (size_t i = 0; i < n; i++)
    if (seen[i].hash == hash && seen[i].at_s >= day_start)
      return 1;
  return 0;
}

#define DAY_S 86400u

/* Past edge_max_findings, external scanners of our hosts are summed up
 * in one info finding, all but the highest scores (the intense and the
 * successful reach higher): they are the Internet's background and
 * would drown everything else. The limit is a day's: scanners reported
 * one by one in the day before (earlier runs', from the state) leave
 * fewer to new ones, and are reported again when they go on; high and
 * critical ones never wait for the next day. */
static int fold_edge(outs *os, const ps_config *cfg, const ps_run *r,
                     const ps_store *st) {
  size_t nedge = 0, nseen;
  const ps_edge_seen *seen = nfh__ps_store_edges(st, &nseen);
  uint32_t day_start = r->end_s > DAY_S ? r->end_s - DAY_S : 0;
  size_t today = 0;
  for (size_t i = 0; i < nseen; i++)
    today += seen[i].at_s >= day_start;
  for (size_t i = 0; i < os->n; i++)
    nedge += os->v[i].edge;
  if (nedge <= cfg->edge_max_findings && !today)
    return 0;
  size_t new_budget =
      today < cfg->edge_max_findings ? cfg->edge_max_findings - today : 0;
  qsort(os->v, os->n, sizeof(out), by_score_desc);
  portcount *pc = calloc(nedge + 1, sizeof(portcount));
  if (!pc)
    return -1;
  size_t npc = 0, kept = 0, folded = 0, k = 0;
  uint64_t first = UINT64_MAX, last = 0;
  double top = 0;
  buf samples = {0};
  char a[NFH_ADDR_STRLEN];
  size_t new_kept = 0;
  for (size_t i = 0; i < os->n; i++) {
    out *o = &os->v[i];
    int known =
        o->edge && o->s && edge_seen_today(seen, nseen, day_start, o->s->hash);
    if (!o->edge ||
        (kept < cfg->edge_max_findings &&
         (known || o->f.severity >= NFH_SEV_HIGH || new_kept < new_budget))) {
      if (o->edge) {
        kept++;
        new_kept += !known;
      }
      os->v[k++] = *o;
      continue;
    }
    folded++;
    first = o->f.first_ms < first ? o->f.first_ms : first;
    last = o->f.last_ms > last ? o->f.last_ms : last;
    top = o->f.score > top ? o->f.score : top;
    if (folded <= 10 && o->s) {
      format_source(o->s, a, sizeof(a));
      bprintf(&samples, "%s\"%s\"", folded > 1 ? ", " : "", a);
    }
    size_t j = 0;
    while (j < npc && strcmp(pc[j].label, o->port_label) != 0)
      j++;
    if (j == npc)
      snprintf(pc[npc++].label, sizeof(pc[0].label), "%s", o->port_label);
    pc[j].n++;
    free(o->key);
    free(o->summary);
    free(o->evidence);
  }
  os->n = k;
  if (!folded) {
    free(pc);
    free(samples.b);
    return 0;
  }
  qsort(pc, npc, sizeof(portcount), by_count_desc);
  buf sm = {0}, ev = {0};
  bprintf(&sm,
          "%zu more external sources scanned our hosts (Internet "
          "background), most on ",
          folded);
  for (size_t j = 0; j < npc && j < 3; j++)
    bprintf(&sm, "%s%s (%u)", j ? ", " : "", pc[j].label, pc[j].n);
  bprintf(&ev,
          "{\"kind\": \"%s\", \"sources\": %zu, \"kept_individually\": %u, "
          "\"by_port\": {",
          kind_name(K_BACKGROUND), folded, cfg->edge_max_findings);
  for (size_t j = 0; j < npc && j < 32; j++)
    bprintf(&ev, "%s\"%s\": %u", j ? ", " : "", pc[j].label, pc[j].n);
  bprintf(&ev, "}, \"sample_sources\": [%s]}", samples.b ? samples.b : "");
  free(samples.b);
  free(pc);
  grade_out go = {top < 19 ? top : 19, 0.7, NFH_SEV_INFO, 0};
  nfh_finding f;
  fill(&f, &go, NULL, "T1595");
  f.first_ms = first == UINT64_MAX ? 0 : first;
  f.last_ms = last;
  (void)r;
  if (add_out(os, K_BACKGROUND, NULL, "bg|external", &sm, &ev, &f) != 0) {
    free(sm.b);
    free(ev.b);
    return -1;
  }
  return 0;
}

/* Internal hosts that each probe internal hosts on one port, by the
 * dozen: peer-to-peer software finding its peers (Windows Delivery
 * Optimization on tcp/7680, 56 desktops, 56 medium findings), or a
 * worm spreading. Either is one activity: one finding, as severe as the
 * worst of them, naming how many. */
#define PEER_FOLD_MIN 5

static int by_port_label(const void *pa, const void *pb) {
  const out *a = pa, *b = pb;
  if (a->lateral != b->lateral)
    return a->lateral ? -1 : 1;
  return strcmp(a->port_label, b->port_label);
}

static int fold_peers(outs *os) {
  size_t nl = 0;
  for (size_t i = 0; i < os->n; i++)
    nl += os->v[i].lateral && os->v[i].k == K_HORIZONTAL && !os->v[i].folded;
  if (nl < PEER_FOLD_MIN)
    return 0;
  out *l = malloc(nl * sizeof(out));
  if (!l)
    return -1;
  size_t k = 0;
  for (size_t i = 0; i < os->n; i++)
    if (os->v[i].lateral && os->v[i].k == K_HORIZONTAL && !os->v[i].folded)
      l[k++] = os->v[i];
  qsort(l, nl, sizeof(out), by_port_label);
  int rc = 0;
  for (size_t i = 0; i < nl && rc == 0;) {
    size_t j = i + 1;
    while (j < nl && strcmp(l[j].port_label, l[i].port_label) == 0)
      j++;
    if (j - i < PEER_FOLD_MIN) {
      i = j;
      continue;
    }
    double hosts_max = 0, failed = 0, answered = 0, top = 0;
    nfh_severity sev = NFH_SEV_INFO;
    uint64_t first = UINT64_MAX, last = 0;
    double conf = 0;
    buf samples = {0};
    char a[NFH_ADDR_STRLEN];
    for (size_t x = i; x < j; x++) {
      hosts_max = l[x].hosts > hosts_max ? l[x].hosts : hosts_max;
      failed += l[x].failed;
      answered += l[x].answered;
      top = l[x].f.score > top ? l[x].f.score : top;
      sev = l[x].f.severity > sev ? l[x].f.severity : sev;
      conf += l[x].f.confidence;
      first = l[x].f.first_ms < first ? l[x].f.first_ms : first;
      last = l[x].f.last_ms > last ? l[x].f.last_ms : last;
      if (x - i < 10 && l[x].s) {
        format_source(l[x].s, a, sizeof(a));
        bprintf(&samples, "%s\"%s\"", x > i ? ", " : "", a);
      }
    }
    double ratio = failed + answered > 0 ? failed / (failed + answered) : 0;
    buf sm = {0}, ev = {0};
    bprintf(&sm,
            "%zu internal hosts each probed internal hosts on %s (up to %.0f "
            "each, %.0f%% failed): peer-to-peer software finding its "
            "peers, or a worm spreading",
            j - i, l[i].port_label, hosts_max, 100 * ratio);
    bprintf(&ev,
            "{\"kind\": \"%s\", \"port\": \"%s\", \"sources\": %zu, "
            "\"hosts_max\": %.0f, \"failed\": %.0f, \"answered\": %.0f, "
            "\"fail_ratio\": %.3f, \"direction\": "
            "\"internal->internal\", \"sample_sources\": [%s]}",
            kind_name(K_PEERS), l[i].port_label, j - i, hosts_max, failed,
            answered, ratio, samples.b ? samples.b : "");
    free(samples.b);
    grade_out go = {top, conf / (double)(j - i), sev, 0};
    nfh_finding f;
    fill(&f, &go, NULL, "T1046,T1210");
    f.dst_port = l[i].f.dst_port;
    f.proto = l[i].f.proto;
    f.first_ms = first == UINT64_MAX ? 0 : first;
    f.last_ms = last;
    char key[64];
    snprintf(key, sizeof(key), "peers|%s", l[i].port_label);
    /* The members go: marked in the list itself (l holds copies). */
    for (size_t x = i; x < j; x++)
      for (size_t y = 0; y < os->n; y++)
        if (os->v[y].key == l[x].key)
          os->v[y].folded = 1;
    if (add_out(os, K_PEERS, NULL, key, &sm, &ev, &f) != 0) {
      free(sm.b);
      free(ev.b);
      rc = -1;
    }
    i = j;
  }
  free(l);
  return rc;
}

/* -------------------------------------------------------------- report */

int nfh__ps_report(const nfh_host_api *api, const ps_config *cfg,
                   const ps_store *st, const ps_run *r, ps_edge_seen **reported,
                   size_t *nreported) {
  *reported = NULL;
  *nreported = 0;
  outs os = {0};
  marks ms = {0};
  size_t n;
  ps_source *const *src = nfh__ps_store_sources(st, &n);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const ps_source *s = src[i];
    /* A lite source never failed: nothing to report. */
    if (s->lite || !s->failed_now ||
        api->is_allowed(api->host, "port_scan", &s->addr, -1))
      continue;
    rc = report_source(&os, &ms, cfg, r, s);
  }
  if (rc == 0)
    rc = report_distributed(&os, &ms, api, cfg, r, st);
  if (rc == 0)
    rc = fold_repeats(&os);
  if (rc == 0)
    rc = fold_peers(&os);
  /* Drop the findings a distributed or peer finding took in. */
  size_t kept = 0;
  for (size_t i = 0; i < os.n; i++) {
    if (os.v[i].folded) {
      free(os.v[i].key);
      free(os.v[i].summary);
      free(os.v[i].evidence);
    } else {
      os.v[kept++] = os.v[i];
    }
  }
  os.n = kept;
  if (rc == 0)
    rc = fold_edge(&os, cfg, r, st);
  size_t nedge = 0;
  for (size_t i = 0; rc == 0 && i < os.n; i++)
    nedge += os.v[i].edge && os.v[i].s;
  if (rc == 0 && nedge && !(*reported = malloc(nedge * sizeof(**reported))))
    rc = -1;
  if (rc != 0)
    api->log(api->host, NFH_LOG_ERROR, "out of memory writing findings");
  for (size_t i = 0; rc == 0 && i < os.n; i++) {
    out *o = &os.v[i];
    if (o->f.severity < cfg->min_severity)
      continue;
    /* A rule with a port allows one source's scans of that port (a
     * backup server sweeping tcp/445): its single-port findings. Sources
     * are allowed as a whole above; --allow port_scan:ADDR:445 was taken
     * and matched nothing. */
    if (o->s && o->f.dst_port > 0 &&
        api->is_allowed(api->host, "port_scan", &o->s->addr, o->f.dst_port))
      continue;
    /* A resolver's DNS to many servers is its recursion (see ps_run). */
    if (o->s && o->f.dst_port == 53 && o->key[0] == 'h' &&
        nfh__resolvers_has(&r->resolvers, &o->s->addr))
      continue;
    o->f.key = o->key;
    o->f.summary = o->summary;
    /* An outside IPv6 /64 counted as one source: src holds its address
     * (2a03:b0c0:3:d0::), a valid host's, which a SIEM would block or
     * look up; the evidence names the network. */
    char net[NFH_ADDR_STRLEN + 8];
    if (o->s && o->evidence && o->f.src.family == 6 &&
        nfh_addr_equal(&o->f.src, &o->s->addr)) {
      format_source(o->s, net, sizeof(net));
      size_t len = strlen(o->evidence);
      char *grown;
      if (strchr(net, '/') && len > 1 && o->evidence[len - 1] == '}' &&
          (grown = realloc(o->evidence, len + sizeof(net) + 32)) != NULL) {
        o->evidence = grown;
        snprintf(grown + len - 1, sizeof(net) + 33,
                 "%s\"source_network\": \"%s\"}", len > 2 ? ", " : "", net);
      }
    }
    o->f.evidence_json = o->evidence;
    if (api->emit(api->host, &o->f) != 0) {
      api->log(api->host, NFH_LOG_ERROR, "finding %s refused by the host",
               o->key);
      rc = -1;
    } else if (o->edge && o->s) {
      (*reported)[(*nreported)++] =
          (ps_edge_seen){o->s->hash, (uint32_t)(o->f.last_ms / 1000)};
    }
  }
  free_outs(&os);
  free(ms.v);
  return rc;
}
