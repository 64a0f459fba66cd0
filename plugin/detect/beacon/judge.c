/* judge.c - scoring a beacon and writing its finding; see judge.h. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "judge.h"

/* Beats a jittered beacon needs before its timing above chance alone
 * makes it medium (see nfh__bcn_judge). */
#define JITTERED_BEATS 64
/* Beats a jittered beacon read by its bounded intervals (score.h, item
 * 7) needs before it can be medium. */
#define JITTERED_MEDIUM_BEATS 16
/* Beats, dispersion (share of its 0.1% chance level) and the byte
 * regularity at least with which bounded intervals make a beacon medium
 * whatever its sizes (see nfh__bcn_judge). */
#define VARIED_BEATS 24
#define VARIED_DISPERSION 0.5
#define VARIED_BYTES 0.2
/* Bytes out at a beat (the median) from which a timeline is a scheduled
 * transfer, not a check-in. */
#define BULK_BEAT_BYTES 10e6
/* Beats a regular beacon needs to be medium, and to rise above it. */
#define REGULAR_BEATS 12
/* Beats, and dispersion as a share of its chance level, that make a
 * beacon with fewer beats than REGULAR_BEATS medium. */
#define SLOW_MEDIUM_BEATS 8
#define SLOW_MEDIUM_DISPERSION 0.35
#define HOUR_MS 3600000.0
/* The share of a pair's connections sampled from which it is judged, and
 * said to be, sampled. */
#define SAMPLED_SHARE 0.25
/* Beats and span that make a regular beacon of under an hour medium. */
#define SHORT_BEATS 20
#define SHORT_SPAN_MS (0.5 * HOUR_MS)
/* Sessions a candidate may have started and still be one persistent
 * channel (a bot reconnecting after a drop); more is a timeline's. */
#define PERSIST_MAX_SESSIONS 3

static double clamp01(double x) {
  return !(x > 0) ? 0 : x > 1 ? 1 : x;
}

/* The internal clients a destination counts (NULL: the one asking). */
static unsigned dest_clients(const nfh__bcn_dest *d) {
  return d ? nfh__bcn_dest_clients(d) : 1;
}

int nfh__bcn_judge(const nfh__bcn_params *p, const nfh__bcn_cand *c,
                   const nfh__bcn_score *s, const nfh__bcn_dest *d,
                   double hosts, int sampled_reading, nfh__bcn_verdict *v) {
  memset(v, 0, sizeof(*v));
  v->hosts = hosts;
  v->clients = dest_clients(d);
  v->saturated = d ? d->saturated : 0;
  v->internal = (c->flags & NFH__BCN_SERVER_HOME) != 0;
  v->sampled_share = c->conns ? (double)c->sampled / (double)c->conns : 0;
  v->sampled_reading = sampled_reading;
  int sampled = v->sampled_share >= SAMPLED_SHARE;
  /* A quiet service's port with beats far larger than its polls (C2
   * hiding on UDP/123), or smaller than any packet of it (48-byte
   * datagrams: an NTP packet alone is 76), is not that service; sampled
   * byte counts (packets times N) cannot tell, nor byte counters without
   * packets (a firewall's NSEL events may count the payload alone: an
   * NTP poll's 48 bytes). */
  int packet_bytes = !(c->flags & NFH__BCN_BYTES_ONLY);
  /* Beats larger than a plain poll (NTS-sized) are the service's only
   * at a server other internal hosts poll too: one host's 300-byte
   * datagrams every 5 minutes to a server no one else uses were folded
   * as time keeping. */
  v->quiet =
      nfh__bcn_params_quiet(p, c->proto, c->port) &&
      (sampled ||
       (s->client_median <= (double)p->quiet_max_bytes &&
        (!packet_bytes || s->client_median >= (double)p->quiet_min_bytes) &&
        (s->client_median <= (double)p->quiet_rare_bytes || v->clients >= 2)));

  /* Popularity by contacts: an absolute count or a share of the
   * network. */
  unsigned clients = dest_clients(d);
  double n = clients;
  int popular = nfh__bcn_is_popular(p, clients, hosts);
  v->popular = popular;
  v->required = p->min_regularity +
                0.25 * clamp01(log(n) / log((double)NFH__BCN_DEST_CLIENTS));

  double span_ms = s->span_s * 1000.0;
  /* A fast beacon's timeline holds its latest max_events beats only (a
   * 30 s beacon: about four hours of 512): over a longer life, a pair
   * whose connections since it was first seen fill that time at the
   * period (60% of the beats or more) has been beaconing all along. */
  if (c->conns > s->beats && c->last_ms > c->first_ms && s->period_s > 0) {
    double life = (double)(c->last_ms - c->first_ms);
    double expected = life / (s->period_s * 1000.0);
    if (life > span_ms && (double)c->conns >= 0.6 * expected)
      span_ms = life;
  }
  v->span_s = span_ms / 1000.0;
  /* A truncated timeline was analysed whatever its kept span (see
   * score_cand); its life must still be long enough. */
  if (span_ms < (double)p->min_span_ms)
    return 0;
  double span_f = log(span_ms / (0.5 * HOUR_MS)) / log(96.0);
  double beats_f =
      log((double)s->beats / (double)(p->min_conns ? p->min_conns : 1)) /
      log(32.0);
  v->duration = 0.5 * clamp01(span_f) + 0.5 * clamp01(beats_f);
  v->rarity = 1.0 / (1.0 + (n - 1) / 4.0);
  /* Sampled byte counts are packet counts times N: their spread says
   * nothing, so they neither help nor hurt. */
  v->bytes = sampled ? 0.5 : s->bytes_score;
  double r = s->regularity;
  /* Jittered but bounded (score.h, item 7): intervals no comb fits
   * tightly, yet too even for random arrivals (below their 0.1% level),
   * check-ins of one size, over two hours or more, to a server no other
   * internal host uses, from an unsampled exporter. Ranked as if it had
   * just cleared the regularity bar. */
  int bounded = !sampled && s->dispersion_chance > 0 &&
                s->dispersion <= s->dispersion_chance && n <= 1 &&
                span_ms >= 2 * HOUR_MS && s->dispersion_coverage >= 0.6 &&
                v->bytes >= 0.7;
  /* Bounded whatever the sizes: intervals below half that level over
   * VARIED_BEATS or more and four hours, covering the window, to a server
   * no other host uses. An implant's check-ins vary with its tasks and
   * padding (an hourly sleep at 40% jitter, 700 to 1100 bytes up: bytes
   * 0.42); timing that far from chance over so many beats decides. */
  int varied = !sampled && s->dispersion_chance > 0 &&
               s->dispersion <= VARIED_DISPERSION * s->dispersion_chance &&
               n <= 1 && s->beats >= VARIED_BEATS &&
               span_ms >= 4 * HOUR_MS && s->dispersion_coverage >= 0.8 &&
               v->bytes >= VARIED_BYTES;
  v->jittered = (bounded || varied) && r < v->required;
  double r_rank = v->jittered ? v->required : r;
  double base = 0.55 * r_rank + 0.15 * v->bytes + 0.10 * s->coverage +
                0.20 * v->duration;
  double score = 100 * base * (0.6 + 0.4 * v->rarity);
  if (v->internal)
    score *= 0.6;
  if (v->popular)
    score *= 0.5;
  if (v->quiet)
    score *= 0.3; /* ranked with the info it is reported as */
  v->score = score > 100 ? 100 : score;

  nfh_severity sev = NFH_SEV_LOW;
  if (r >= 0.45 && span_ms >= HOUR_MS && s->beats >= REGULAR_BEATS)
    sev = NFH_SEV_MEDIUM;
  /* Intervals far more even than chance (a third of the dispersion's
   * 0.1% level: under 1 in 10^6 for Poisson arrivals of as few as seven
   * intervals), covering the time: the slow and the short rules below. */
  int tight_spread =
      s->dispersion_chance > 0 &&
      s->dispersion <= SLOW_MEDIUM_DISPERSION * s->dispersion_chance &&
      s->dispersion_coverage >= 0.8;
  /* A capture of under an hour (a pcap an analyst exports, a first run
   * started late): a fast beacon shows its beats there too. Many of them
   * (SHORT_BEATS), regular, their timing or their intervals' spread far
   * from chance, check-ins of one size, covering the time, to a server
   * no other host uses. */
  int beyond_chance = s->timing >= 3 * s->chance || tight_spread;
  if (sev == NFH_SEV_LOW && r >= 0.5 && span_ms >= SHORT_SPAN_MS &&
      s->beats >= SHORT_BEATS && beyond_chance && s->coverage >= 0.8 &&
      !sampled && v->bytes >= 0.7 && n <= 1)
    sev = NFH_SEV_MEDIUM;
  /* A heavily jittered beacon (40%: a C2 framework's jitter setting)
   * never looks tight, but over many beats its timing still stands far
   * above what random arrivals reach (chance falls with the square root
   * of the intervals): three times chance over 64 beats or more, for two
   * hours, covering the window, with check-ins of one size to a server
   * no other host uses. Browsing is near chance; jittered pollers of
   * common services have other clients. */
  if (sev == NFH_SEV_LOW && s->beats >= JITTERED_BEATS &&
      s->timing >= 3 * s->chance && span_ms >= 2 * HOUR_MS &&
      s->coverage >= 0.8 && !sampled && v->bytes >= 0.7 && n <= 1 &&
      r >= v->required)
    sev = NFH_SEV_MEDIUM;
  /* Bounded intervals alone are low; medium once they stay far below
   * chance (0.7 of the 0.1% level: under 1 in 10^5 for Poisson
   * arrivals) over 16 beats or more, four hours, covering the window. */
  if (bounded && sev == NFH_SEV_LOW && s->beats >= JITTERED_MEDIUM_BEATS &&
      s->dispersion <= 0.7 * s->dispersion_chance &&
      span_ms >= 4 * HOUR_MS && s->dispersion_coverage >= 0.8) {
    sev = NFH_SEV_MEDIUM;
    v->jittered = 1;
  }
  /* Bounded whatever the sizes (above): medium. */
  if (varied && sev == NFH_SEV_LOW)
    sev = NFH_SEV_MEDIUM;
  /* A slow beacon (every 20 minutes to hours) shows few beats in a run
   * of hours: 12 beats of an hourly one take half a day. Timing that
   * tight (a third of the 0.1% level: under 1 in 10^6 for Poisson
   * arrivals of as few intervals) over eight beats or more and two hours
   * is no chance; a destination no other host uses makes it worth a
   * look. */
  if (bounded && sev == NFH_SEV_LOW && s->beats >= SLOW_MEDIUM_BEATS &&
      tight_spread)
    sev = NFH_SEV_MEDIUM;
  /* High (and critical) only over the regular rule's beats: eight
   * even beats are worth a look, not an alarm. */
  if (sev == NFH_SEV_MEDIUM && r >= 0.6 && s->beats >= REGULAR_BEATS &&
      span_ms >= (double)p->high_span_ms && n <= 2 && s->coverage >= 0.6 &&
      (sampled || v->bytes >= 0.5) && v->score >= 60)
    sev = NFH_SEV_HIGH;
  if (sev == NFH_SEV_HIGH && r >= 0.75 &&
      span_ms >= (double)p->critical_span_ms && n <= 1 &&
      s->coverage >= 0.8 && !sampled && v->bytes >= 0.7 && v->score >= 75)
    sev = NFH_SEV_CRITICAL;
  if (v->internal && sev > NFH_SEV_MEDIUM)
    sev = NFH_SEV_MEDIUM;
  /* Tens of megabytes out at every beat are a scheduled transfer (an
   * hourly backup of 500 MB read "beacons ... 12 connections of ~509 MB",
   * high, beside the exfiltration finding of the same uploads), not a
   * check-in: the exfiltration detector judges its volume. */
  v->bulk = !sampled && s->client_median >= BULK_BEAT_BYTES;
  if (v->bulk && sev > NFH_SEV_LOW)
    sev = NFH_SEV_LOW;
  v->severity_alone = v->quiet ? NFH_SEV_INFO : sev;
  if (v->popular && sev > NFH_SEV_LOW)
    sev = NFH_SEV_LOW;
  /* Quiet services (NTP) are polled by every host, each from its own
   * handful of pool addresses, so prevalence does not see how common
   * they are: a fleet would raise one finding per host and server. */
  if (v->quiet)
    sev = NFH_SEV_INFO;
  v->severity = sev;

  double conf =
      0.5 + 0.4 * r_rank + 0.1 * clamp01((double)s->beats / 50.0);
  conf *= 1 - 0.35 * v->sampled_share;
  /* The engine guesses the client from the ports when no lone SYN tells
   * (most short connections fit in one record): reliable towards a
   * well-known port, less so between two high ports. */
  if (c->conns && c->guessed * 2 > c->conns && c->port >= 1024)
    conf *= 0.9;
  if (span_ms < 2 * HOUR_MS)
    conf *= 0.9;
  v->confidence = conf < 0.05 ? 0.05 : conf > 0.99 ? 0.99 : conf;
  /* A busy destination also needs twice the beats: its other clients
   * have often not yet shown whether they beat alike (shared). */
  if (popular && s->beats < 2 * (size_t)p->min_conns)
    return 0;
  return r >= v->required || v->jittered;
}

int nfh__bcn_is_popular(const nfh__bcn_params *p, unsigned k, double hosts) {
  return k >= p->popular_hosts ||
         (k >= 3 && hosts > 0 && k >= p->popular_share * hosts);
}

const char *nfh__bcn_mitre(uint8_t proto, uint16_t port) {
  if (port == 53 && (proto == 17 || proto == 6))
    return "T1071.004";
  if (port == 853 && proto == 6)
    return "T1071.004,T1573";
  if (proto == 6 || proto == 17) {
    static const uint16_t tls[] = {443, 8443, 465, 587, 636, 989, 990,
                                   992, 993, 994, 995, 5061, 6697, 9443};
    for (size_t i = 0; i < sizeof(tls) / sizeof(tls[0]); i++)
      if (tls[i] == port)
        return "T1071,T1573";
  }
  return "T1071";
}

static const char *proto_name(uint8_t proto, char *buf, size_t len) {
  switch (proto) {
  case 6:
    return "tcp";
  case 17:
    return "udp";
  case 1:
    return "icmp";
  case 58:
    return "icmp6";
  default:
    snprintf(buf, len, "ip%u", proto);
    return buf;
  }
}

/* "2.2 s", "300 s", "15 min", "2.5 h" */
static void fmt_period(double s, char *buf, size_t len) {
  if (s < 9.95)
    snprintf(buf, len, "%.1f s", s);
  else if (s < 600)
    snprintf(buf, len, "%.0f s", s);
  else if (s < 7200)
    snprintf(buf, len, "%.0f min", s / 60);
  else
    snprintf(buf, len, "%.1f h", s / 3600);
}

static void fmt_span(double s, char *buf, size_t len) {
  if (s < 3600)
    snprintf(buf, len, "%.0f min", s / 60);
  else if (s < 48 * 3600)
    snprintf(buf, len, "%.1f h", s / 3600);
  else
    snprintf(buf, len, "%.1f days", s / 86400);
}

static void fmt_bytes(double b, char *buf, size_t len) {
  if (b < 1000)
    snprintf(buf, len, "%.0f B", b);
  else if (b < 1e6)
    snprintf(buf, len, "%.1f KB", b / 1e3);
  else if (b < 1e9)
    snprintf(buf, len, "%.1f MB", b / 1e6);
  else
    snprintf(buf, len, "%.1f GB", b / 1e9);
}

/* JSON numbers must be finite. */
static double fin(double x) { return isfinite(x) ? x : 0; }

/* "203.0.113.5:443", "[2001:db8::5]:443", "203.0.113.5:53/udp",
 * "203.0.113.5 (icmp type 8)". */
static void fmt_dest(const nfh_addr *server, uint8_t proto, uint16_t port,
                     char *buf, size_t len) {
  char addr[NFH_ADDR_STRLEN], pbuf[8];
  nfh_addr_format(server, addr, sizeof(addr));
  const char *name = proto_name(proto, pbuf, sizeof(pbuf));
  if (proto == 1 || proto == 58) {
    snprintf(buf, len, "%s (%s type %u)", addr, name, (unsigned)(port >> 8));
    return;
  }
  nfh_addr_format_port(server, port, buf, len);
  size_t n = strlen(buf);
  if (proto != 6 && n < len)
    snprintf(buf + n, len - n, "/%s", name);
}

/* nfh__bcn_describe, or with 'net' the rotation over naddr addresses
 * of that network. */
/* 'net': a rotation over a network's addresses; 'nports': one over a
 * server's ports (net NULL then). */
static void describe(const nfh__bcn_cand *c, const nfh__bcn_score *s,
                     const nfh__bcn_verdict *v, const char *net,
                     unsigned naddr, unsigned nports, char *key,
                     size_t keylen, char *summary, size_t sumlen,
                     char *evidence, size_t evlen) {
  char client[NFH_ADDR_STRLEN], server[NFH_ADDR_STRLEN], pbuf[8];
  nfh_addr_format(&c->client, client, sizeof(client));
  nfh_addr_format(&c->server, server, sizeof(server));
  const char *proto = proto_name(c->proto, pbuf, sizeof(pbuf));
  if (nports)
    snprintf(key, keylen, "%s|%s|%s/*", client, server, proto);
  else
    snprintf(key, keylen, "%s|%s|%s/%u", client, net ? net : server, proto,
             c->port);

  char dest[2 * NFH_ADDR_STRLEN + 96];
  if (nports) {
    char one[NFH_ADDR_STRLEN + 32];
    fmt_dest(&c->server, c->proto, c->port, one, sizeof(one));
    /* "185.100.87.9 on 10 ports (185.100.87.9:8443, ...)" */
    snprintf(dest, sizeof(dest), "%s on %u ports (%s, ...)", server, nports,
             one);
  } else if (net && strcmp(net, "*") == 0) {
    char one[NFH_ADDR_STRLEN + 32];
    fmt_dest(&c->server, c->proto, c->port, one, sizeof(one));
    /* "30 addresses no other host uses (104.21.7.9:443 ...)" */
    snprintf(dest, sizeof(dest), "%u addresses no other host uses (%s, ...)",
             naddr, one);
  } else if (net) {
    char one[NFH_ADDR_STRLEN + 32];
    fmt_dest(&c->server, c->proto, c->port, one, sizeof(one));
    /* "3 addresses of 185.100.87.0/24 (185.100.87.9:443 ...)" */
    snprintf(dest, sizeof(dest), "%u addresses of %s (%s, ...)", naddr, net,
             one);
  } else {
    fmt_dest(&c->server, c->proto, c->port, dest, sizeof(dest));
  }

  char period[32], span[32], bytes[32];
  /* Read by its dispersion, a beacon's period is the mean interval and
   * its jitter their spread: the comb's best fit may be a fraction. */
  double period_s = v->jittered ? s->dispersion_period_s : s->period_s;
  double jitter = v->jittered ? s->dispersion : s->jitter;
  fmt_period(period_s, period, sizeof(period));
  fmt_span(v->span_s, span, sizeof(span));
  fmt_bytes(s->bytes_median, bytes, sizeof(bytes));
  double jitter_pct = 100 * jitter;
  char notes[200] = "";
  size_t nl = 0;
  if (v->internal)
    nl += (size_t)snprintf(notes + nl, sizeof(notes) - nl,
                           "; internal server");
  if (v->popular && nl < sizeof(notes))
    nl += (size_t)snprintf(notes + nl, sizeof(notes) - nl,
                           "; popular destination (%s%u internal hosts)",
                           v->saturated ? "about " : "", v->clients);
  if (v->quiet && nl < sizeof(notes))
    nl += (size_t)snprintf(notes + nl, sizeof(notes) - nl,
                           "; polls of a service every host uses "
                           "(%s/%u)",
                           c->proto == 6 ? "tcp" : "udp", c->port);
  if (v->jittered && nl < sizeof(notes))
    nl += (size_t)snprintf(notes + nl, sizeof(notes) - nl,
                           "; jittered, intervals too even for chance");
  if (v->bulk && nl < sizeof(notes))
    nl += (size_t)snprintf(notes + nl, sizeof(notes) - nl,
                           "; a scheduled transfer, not a check-in (its "
                           "volume is the exfiltration detector's)");
  if (c->conns && c->replied * 5 < c->conns && nl < sizeof(notes))
    nl += (size_t)snprintf(notes + nl, sizeof(notes) - nl, "; unanswered");
  /* A beacon that stopped and came back: its span is not its activity
   * ("for 17.9 h" of two 2-hour stretches read as continuous). */
  if (s->coverage < 0.5 && nl < sizeof(notes))
    nl +=
        (size_t)snprintf(notes + nl, sizeof(notes) - nl,
                         "; beating in %.0f%% of that time", 100 * s->coverage);
  /* Marked sampled with no interval (nfdump's JSON; files that look
   * packet-sampled without an announcement): the interval is unknown.
   * Only where sampled connections are a share that counts: a beacon an
   * unsampled exporter saw whole, 3% of whose connections a sampled one
   * saw too, read "sampled 1:100, beats and bytes estimated". */
  int say_sampled = v->sampled_share >= SAMPLED_SHARE;
  if (say_sampled && nl < sizeof(notes) && c->max_sampling > 1)
    nl += (size_t)snprintf(notes + nl, sizeof(notes) - nl,
                           "; sampled 1:%u, beats and bytes estimated",
                           c->max_sampling);
  else if (say_sampled && nl < sizeof(notes))
    nl += (size_t)snprintf(notes + nl, sizeof(notes) - nl,
                           "; sampled (interval unknown), beats missed, bytes "
                           "raw samples");
  snprintf(summary, sumlen,
           "%s beacons to %s every %s (\xc2\xb1%.0f%%) for %s, %" PRIu64
           " connections of ~%s%s",
           client, dest, period, jitter_pct, span, c->conns, bytes, notes);

  char sampling[64] = "";
  if (v->sampled_share > 0 && c->max_sampling > 1)
    snprintf(sampling, sizeof(sampling), "\"sampling\": \"1:%u\", ",
             c->max_sampling);
  else if (v->sampled_share > 0)
    snprintf(sampling, sizeof(sampling), "\"sampling\": \"unknown\", ");
  snprintf(evidence, evlen,
           "{\"period_s\": %.1f, \"jitter\": %.3f, \"skew\": %.3f, "
           "\"connections\": %" PRIu64 ", \"beats\": %zu, "
           "\"missed_beats\": %.0f, \"extra_share\": %.3f, "
           "\"bytes_per_conn\": {\"median\": %.0f, \"mad\": %.0f, "
           "\"client_median\": %.0f}, \"bytes_total\": %" PRIu64 ", "
           "\"span_s\": %.0f, \"timeline_span_s\": %.0f, "
           "\"first_seen_ms\": %" PRIu64 ", "
           "\"coverage\": %.3f, \"presence\": %.3f, "
           "\"answered_share\": %.3f, %s\"sampled_share\": %.3f, "
           "\"reading\": \"%s\", "
           "\"prevalence\": {\"internal_clients\": %u, \"estimated\": %s, "
           "\"internal_hosts\": %.0f, \"popular\": %s}, "
           "\"server_internal\": %s, \"quiet_service\": %s, "
           "\"scores\": {\"regularity\": %.3f, \"timing\": %.3f, "
           "\"chance\": %.3f, \"tightness\": %.3f, \"bytes\": %.3f, "
           "\"coverage\": %.3f, \"duration\": %.3f, \"rarity\": %.3f, "
           "\"dispersion\": %.3f, \"dispersion_chance\": %.3f, "
           "\"dispersion_coverage\": %.3f}}",
           fin(period_s), fin(jitter), fin(s->skew), c->conns, s->beats,
           fin(s->missed), fin(s->extra_share), fin(s->bytes_median),
           fin(s->bytes_mad), fin(s->client_median), c->bytes, fin(v->span_s),
           fin(s->span_s), c->first_ms, fin(s->coverage), fin(s->presence),
           c->conns ? (double)c->replied / (double)c->conns : 0, sampling,
           fin(v->sampled_share),
           v->sampled_reading ? "sampled"
           : v->jittered      ? "dispersion"
                              : (s->clustered ? "clustered" : "comb"),
           v->clients, v->saturated ? "true" : "false", fin(v->hosts),
           v->popular ? "true" : "false", v->internal ? "true" : "false",
           v->quiet ? "true" : "false", fin(s->regularity), fin(s->timing),
           fin(s->chance), fin(s->tightness), fin(v->bytes), fin(s->coverage),
           fin(v->duration), fin(v->rarity), fin(s->dispersion),
           fin(s->dispersion_chance), fin(s->dispersion_coverage));
  size_t used = strlen(evidence);
  if (net && used > 0 && used + 80 < evlen && evidence[used - 1] == '}')
    snprintf(evidence + used - 1, evlen - used + 1,
             ", \"rotation\": {\"network\": \"%s\", \"addresses\": %u}}",
             net, naddr);
  else if (nports && used > 0 && used + 40 < evlen &&
           evidence[used - 1] == '}')
    snprintf(evidence + used - 1, evlen - used + 1,
             ", \"rotation\": {\"ports\": %u}}", nports);
}

void nfh__bcn_describe(const nfh__bcn_cand *c, const nfh__bcn_score *s,
                       const nfh__bcn_verdict *v, char *key, size_t keylen,
                       char *summary, size_t sumlen, char *evidence,
                       size_t evlen) {
  describe(c, s, v, NULL, 0, 0, key, keylen, summary, sumlen, evidence,
           evlen);
}

void nfh__bcn_describe_rotation(const nfh__bcn_cand *c,
                                const nfh__bcn_score *s,
                                const nfh__bcn_verdict *v, const char *net,
                                unsigned naddr, char *key, size_t keylen,
                                char *summary, size_t sumlen, char *evidence,
                                size_t evlen) {
  describe(c, s, v, net, naddr, 0, key, keylen, summary, sumlen, evidence,
           evlen);
}

void nfh__bcn_describe_port_rotation(const nfh__bcn_cand *c,
                                     const nfh__bcn_score *s,
                                     const nfh__bcn_verdict *v,
                                     unsigned nports, char *key,
                                     size_t keylen, char *summary,
                                     size_t sumlen, char *evidence,
                                     size_t evlen) {
  describe(c, s, v, NULL, 0, nports, key, keylen, summary, sumlen, evidence,
           evlen);
}

void nfh__bcn_describe_client_rotation(
    const nfh__bcn_cand *c, const nfh__bcn_score *s, const nfh__bcn_verdict *v,
    const char *client_net, unsigned naddr, char *key, size_t keylen,
    char *summary, size_t sumlen, char *evidence, size_t evlen) {
  describe(c, s, v, NULL, 0, 0, key, keylen, summary, sumlen, evidence, evlen);
  char server[NFH_ADDR_STRLEN], pbuf[8];
  nfh_addr_format(&c->server, server, sizeof(server));
  snprintf(key, keylen, "%s|%s|%s/%u", client_net, server,
           proto_name(c->proto, pbuf, sizeof(pbuf)), c->port);
  size_t used = strlen(summary);
  if (used < sumlen)
    snprintf(summary + used, sumlen - used,
             "; from %u addresses of %s one after another (one host's "
             "temporary IPv6 addresses)",
             naddr, client_net);
  used = strlen(evidence);
  if (used > 0 && used + 100 < evlen && evidence[used - 1] == '}')
    snprintf(evidence + used - 1, evlen - used + 1,
             ", \"client_rotation\": {\"network\": \"%s\", "
             "\"addresses\": %u}}",
             client_net, naddr);
}

void nfh__bcn_describe_group(const nfh__bcn_group *g, char *key,
                             size_t keylen, char *summary, size_t sumlen,
                             char *evidence, size_t evlen) {
  char addr[NFH_ADDR_STRLEN + 8], pbuf[8];
  nfh_addr_format(&g->addr, addr, sizeof(addr));
  if (g->net_prefix) {
    size_t al = strlen(addr);
    snprintf(addr + al, sizeof(addr) - al, "/%u", g->net_prefix);
  }
  const char *proto = proto_name(g->proto, pbuf, sizeof(pbuf));
  int poller = g->kind == NFH__BCN_GROUP_POLLER;
  int few = g->kind == NFH__BCN_GROUP_FEW;
  int campaign = g->kind == NFH__BCN_GROUP_CAMPAIGN;
  if (poller)
    snprintf(key, keylen, "%s|poller|%s/%u", addr, proto, g->port);
  else
    snprintf(key, keylen, "shared|%s|%s/%u", addr, proto, g->port);
  char period[32], lo[32], hi[32], range[80] = "";
  fmt_period(g->period_median, period, sizeof(period));
  fmt_period(g->period_min, lo, sizeof(lo));
  fmt_period(g->period_max, hi, sizeof(hi));
  if (strcmp(lo, hi) != 0)
    snprintf(range, sizeof(range), " (%s to %s)", lo, hi);
  if (poller) {
    char what[48];
    if (g->proto == 1 || g->proto == 58)
      snprintf(what, sizeof(what), "%s type %u", proto,
               (unsigned)(g->port >> 8));
    else
      snprintf(what, sizeof(what), "%s/%u", proto, g->port);
    if (g->taken && g->silent == g->taken)
      snprintf(summary, sumlen,
               "%s gets answers from %u servers on %s every %s%s, sending "
               "nothing the exporters show: a reflection flood's answers, "
               "or an exporter that sees one direction",
               addr, g->members, what, period, range);
    else
      snprintf(summary, sumlen,
               "%s polls %u servers on %s every %s%s: a monitor, most "
               "likely",
               addr, g->members, what, period, range);
  } else {
    char dest[NFH_ADDR_STRLEN + 48];
    if (g->net_prefix)
      snprintf(dest, sizeof(dest), "addresses of %s on %s/%u", addr, proto,
               g->port);
    else
      fmt_dest(&g->addr, g->proto, g->port, dest, sizeof(dest));
    if (campaign)
      snprintf(summary, sumlen,
               "%u internal hosts beacon to %s every %s%s, and hardly any "
               "other internal host uses it: one campaign (infected hosts "
               "calling one C2), or software only they run",
               g->members, dest, period, range);
    else if (few)
      snprintf(summary, sumlen,
               "%u internal hosts beacon to %s every %s%s: software a few "
               "hosts share (a keepalive), or one campaign",
               g->members, dest, period, range);
    else
      snprintf(summary, sumlen,
               "%u internal hosts beacon to %s every %s%s: a keepalive many "
               "hosts share, most likely software",
               g->members, dest, period, range);
  }
  char sample[NFH__BCN_GROUP_SAMPLE * (NFH_ADDR_STRLEN + 4) + 4] = "";
  size_t sl = 0;
  for (unsigned i = 0; i < g->nsample && sl < sizeof(sample); i++) {
    char a[NFH_ADDR_STRLEN];
    nfh_addr_format(&g->sample[i], a, sizeof(a));
    sl += (size_t)snprintf(sample + sl, sizeof(sample) - sl, "%s\"%s\"",
                           i ? ", " : "", a);
  }
  snprintf(evidence, evlen,
           "{\"%s\": true, \"%s\": %u, \"%s\": [%s], "
           "\"period_s\": %.1f, \"period_min_s\": %.1f, "
           "\"period_max_s\": %.1f, \"regularity_median\": %.3f, "
           "\"connections\": %" PRIu64 ", \"internal_hosts\": %.0f%s%s}",
           poller ? "poller" : "shared", poller ? "servers" : "clients",
           g->members, poller ? "sample_destinations" : "sample_sources",
           sample, fin(g->period_median), fin(g->period_min),
           fin(g->period_max), fin(g->regularity_median), g->conns,
           fin(g->hosts),
           campaign ? ", \"campaign\": true"
           : few    ? ", \"few_clients\": true"
                    : "",
           g->net_prefix ? ", \"rotation\": true" : "");
}

/* Ports of sessions kept open for hours on purpose: interactive ones
 * (SSH, telnet, RDP, VNC), VPNs (IKE, IPsec NAT-T, L2TP, PPTP, OpenVPN,
 * WireGuard), SIP trunks (a PBX's registration to its provider: a
 * "persistent C2 channel" for 36 hours on udp/5060) and IoT messaging
 * (an MQTT device's session to its cloud broker, CoAP's observe
 * socket: a sensor's link of days, one device per site). */
static int long_session_port(uint8_t proto, uint16_t port) {
  if (port == 5060 || port == 5061)
    return proto == 6 || proto == 17;
  if (proto == 6)
    return port == 22 || port == 23 || port == 3389 || port == 5900 ||
           port == 5901 || port == 1723 || port == 1194 || port == 1883 ||
           port == 8883;
  return port == 500 || port == 4500 || port == 1701 || port == 1194 ||
         port == 51820 || port == 5683 || port == 5684;
}

int nfh__bcn_persistent(const nfh__bcn_params *p, const nfh__bcn_cand *c,
                        const nfh__bcn_dest *d, nfh__bcn_persist *out) {
  memset(out, 0, sizeof(*out));
  if (!p->persistent_ms || (c->proto != 6 && c->proto != 17) ||
      (c->flags & NFH__BCN_SERVER_HOME) || c->conns > PERSIST_MAX_SESSIONS ||
      long_session_port(c->proto, c->port))
    return 0;
  /* The latest session's start; a session open before the run began
   * (no SYN seen, no timeline) has been open since its first piece at
   * least. A UDP session is one socket's datagrams, each within
   * continuation_gap of the last. */
  out->opened_before = c->conns == 0;
  out->start_ms = c->conns ? c->last_ms : c->first_ms;
  out->end_ms = c->last_end_ms;
  if (out->end_ms < out->start_ms ||
      out->end_ms - out->start_ms < p->persistent_ms)
    return 0;
  out->clients = dest_clients(d);
  if (out->clients > 1)
    return 0;
  double life_s = (double)(out->end_ms - c->first_ms) / 1000.0;
  out->rate = life_s > 0 ? (double)c->bytes / life_s : 0;
  if (out->rate > p->persistent_max_rate)
    return 0;
  /* A quiet service's socket (NTP from port 123 to 123) is one long
   * session of polls, at most one a minute of quiet_max_bytes each way;
   * more on its port is something else (C2 on udp/123). */
  if (nfh__bcn_params_quiet(p, c->proto, c->port) &&
      out->rate <= 2.0 * p->quiet_max_bytes / 60.0)
    return 0;
  double len = (double)(out->end_ms - out->start_ms);
  double t = clamp01(log(len / (double)p->persistent_ms) / log(6.0));
  out->severity = NFH_SEV_MEDIUM;
  out->score = 40 + 24 * t;
  /* One long connection is weaker evidence than a timeline of beats:
   * many benign services hold one too. */
  out->confidence = out->opened_before ? 0.45 : 0.55;
  return 1;
}

void nfh__bcn_describe_persistent(const nfh__bcn_cand *c,
                                  const nfh__bcn_persist *v,
                                  const nfh__bcn_params *p, char *key,
                                  size_t keylen, char *summary,
                                  size_t sumlen, char *evidence,
                                  size_t evlen) {
  char client[NFH_ADDR_STRLEN], dest[NFH_ADDR_STRLEN + 32], span[32],
      rate[32], total[32];
  nfh_addr_format(&c->client, client, sizeof(client));
  fmt_dest(&c->server, c->proto, c->port, dest, sizeof(dest));
  char server[NFH_ADDR_STRLEN];
  nfh_addr_format(&c->server, server, sizeof(server));
  char pbuf[8];
  snprintf(key, keylen, "persist|%s|%s|%s/%u", client, server,
           proto_name(c->proto, pbuf, sizeof(pbuf)), c->port);
  double len_s = (double)(v->end_ms - v->start_ms) / 1000.0;
  fmt_span(len_s, span, sizeof(span));
  fmt_bytes(v->rate, rate, sizeof(rate));
  fmt_bytes((double)c->bytes, total, sizeof(total));
  snprintf(summary, sumlen,
           "%s kept one connection to %s open for %s%s at ~%s/s, a server "
           "no other internal host uses: a persistent C2 channel, or a "
           "long session worth a look",
           client, dest, v->opened_before ? "at least " : "", span, rate);
  snprintf(evidence, evlen,
           "{\"kind\": \"persistent_session\", \"session_s\": %.0f, "
           "\"session_start_ms\": %" PRIu64 ", \"session_end_ms\": %" PRIu64
           ", \"opened_before_run\": %s, \"sessions\": %" PRIu64
           ", \"bytes\": %" PRIu64 ", \"bytes_per_second\": %.1f, "
           "\"total\": \"%s\", \"internal_clients\": %u, "
           "\"thresholds\": {\"persistent_s\": %.0f, "
           "\"persistent_max_rate\": %.0f}}",
           fin(len_s), v->start_ms, v->end_ms,
           v->opened_before ? "true" : "false", c->conns, c->bytes,
           fin(v->rate), total, v->clients,
           (double)p->persistent_ms / 1000.0, p->persistent_max_rate);
}
