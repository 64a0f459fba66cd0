/* judge.c - severity, score and confidence of a pair; see judge.h. */
#include <math.h>
#include <string.h>

#include "judge.h"

#define DAY_MS 86400000ull
/* Other days at the same hour that make a scheduled job a routine
 * (info) rather than a habit (low): a week's working days. */
#define ROUTINE_DAYS 4u

/* Internal hosts uploading to a destination's network (other addresses
 * of it) that make it a shared service: more than to one address, for
 * two hosts that each send to an address of one provider's /24 may be
 * two thefts. */
#define NET_SHARED_UPLOADERS 3u

int nfh__exf_net_shared(const nfh__exf_params *p,
                        const nfh__exf_features *f) {
  return f->net_known && f->net_uploaders >= NET_SHARED_UPLOADERS &&
         f->net_uploaders >= (unsigned)p->shared_uploaders;
}

/* A pool is a shared service when this many internal hosts besides the
 * source upload to it, to as many of its networks: a backup job's
 * servers each given an address of an object store's /16. Thefts from a
 * few hosts go to one drop (its address or network, above); hosts that
 * upload at random to a residential ISP's block are rarely three and
 * spread over as many networks in one window. Not "known before" as the
 * network must be: the addresses rotate nightly, and the spread over
 * networks is what a drop does not show. */
#define POOL_SHARED_OTHERS 3u
#define POOL_SHARED_NETS 3u

int nfh__exf_pool_shared(const nfh__exf_params *p, const nfh__exf_features *f) {
  unsigned others = f->pool_uploaders ? f->pool_uploaders - 1 : 0;
  return others >= POOL_SHARED_OTHERS &&
         others >= (unsigned)p->shared_uploaders &&
         f->pool_nets >= POOL_SHARED_NETS;
}

static void why(nfh__exf_verdict *v, const char *r) {
  if (v->nreasons < NFH_EXF_MAX_REASONS)
    v->reasons[v->nreasons++] = r;
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

static int bulk_severity(const nfh__exf_params *p,
                         const nfh__exf_features *f) {
  if ((double)f->peak2 < p->bulk_bytes)
    return -1;
  int s = NFH_SEV_MEDIUM;
  if ((double)f->out >= p->high_bytes)
    s = NFH_SEV_HIGH;
  if (f->prevalence <= 1 &&
      ((double)f->out >= p->critical_bytes ||
       ((double)f->out >= p->high_bytes && f->novel == 1 &&
        f->host_ratio >= p->high_ratio)))
    s = NFH_SEV_CRITICAL;
  return s;
}

static int slow_severity(const nfh__exf_params *p, const nfh__exf_features *f,
                         nfh__exf_verdict *v) {
  /* Ten minutes of slack: a two-hour transfer cut at clock hours lasts
   * 1 h 59 min 59 s. */
  double hours = (double)(f->span_ms + 600000) / 3600000.0;
  if (f->stretch_active < 2 || hours < p->slow_min_hours ||
      (double)f->stretch_bytes < p->slow_min_bytes ||
      (double)f->stretch_active <
          p->slow_steadiness * (double)f->stretch_hours)
    return -1;
  int s = NFH_SEV_LOW;
  if (f->prevalence <= 2 && !f->popular)
    s = NFH_SEV_MEDIUM;
  if (f->prevalence <= 1 && hours >= p->slow_high_hours &&
      (double)f->stretch_bytes >= p->slow_high_bytes)
    s = NFH_SEV_HIGH;
  if (f->novel == 1 && f->prevalence <= 1 && s < NFH_SEV_HIGH) {
    s++;
    why(v, "destination never seen before");
  }
  return s;
}

/* Uploads in bursts hours apart (90 MB every three hours), each below
 * the bulk bar and too sparse to be steady: their day's sum counts. */
static int bursts_severity(const nfh__exf_params *p,
                           const nfh__exf_features *f) {
  if (f->bursts < 3 || (double)f->out < p->spread_min_bytes)
    return -1;
  return (double)f->out >= p->high_bytes ? NFH_SEV_HIGH : NFH_SEV_MEDIUM;
}

/* Bytes a ping carries at most in everyday use (84 by default, 1,500
 * for a path MTU test, a few of them); a tunnel fills its packets. */
#define PING_PACKET_BYTES 300

int nfh__exf_first_night(const nfh__exf_verdict *v,
                         const nfh__exf_features *f) {
  return v->kind == NFH_EXF_BULK && (f->night || f->around_the_clock) &&
         !f->icmp && f->seen_before_ms + 3600000ull < DAY_MS;
}

void nfh__exf_judge(const nfh__exf_params *p, const nfh__exf_features *f,
                    nfh__exf_verdict *v) {
  memset(v, 0, sizeof(*v));
  v->severity = -1;
  /* Echo replies carry back what the requests brought (the kernel echoes
   * a ping's payload, a tunnel's server answers alike): in ICMP the
   * balance of bytes says nothing. Megabytes in full-sized pings are a
   * tunnel whatever comes back (a ptunnel session of 37 MB each way in
   * 30 minutes was balanced, and no finding). */
  int icmp_tunnel = f->icmp && f->packet_bytes >= PING_PACKET_BYTES &&
                    (double)f->out >= p->min_bytes;
  /* Downloads and balanced exchanges are never exfiltration. */
  if (!icmp_tunnel &&
      (f->pcr <= 0 || f->pcr < p->pcr_min || (double)f->out < p->min_bytes))
    return;
  nfh__exf_verdict sv = {0};
  int bulk = bulk_severity(p, f);
  int slow = slow_severity(p, f, &sv);
  int bursts = bursts_severity(p, f);
  if (bulk < 0 && slow < 0 && bursts < 0 && !icmp_tunnel)
    return;
  int s;
  if (bulk < 0 && slow < 0 && bursts < 0) {
    /* A tunnel below the bulk and slow bars: megabytes in pings are
     * what no service sends (one more step below, for ICMP). */
    v->kind = NFH_EXF_BULK;
    s = NFH_SEV_MEDIUM;
    why(v, "megabytes in full-sized pings");
  } else if (bursts > bulk && bursts > slow) {
    v->kind = NFH_EXF_BURSTS;
    s = bursts;
    why(v, "repeated uploads in bursts hours apart");
  } else if (slow > bulk) {
    v->kind = NFH_EXF_SLOW;
    s = slow;
    for (size_t i = 0; i < sv.nreasons; i++)
      why(v, sv.reasons[i]);
    why(v, "steady upload over hours");
  } else {
    v->kind = NFH_EXF_BULK;
    s = bulk;
    why(v, (double)f->out >= p->high_bytes ? "bulk upload of GBs"
                                           : "bulk upload");
  }
  if (f->icmp) {
    if (s < NFH_SEV_HIGH)
      s++;
    why(v, "data in ICMP messages: a tunnel");
  }
  if (f->prevalence <= 1)
    why(v, "no other internal host uses the destination");

  /* Ranked down, one step per reason. */
  if (f->popular) {
    int huge = v->kind == NFH_EXF_BULK && (double)f->out >= p->high_bytes &&
               f->host_ratio >= p->high_ratio;
    /* Many internal hosts use it, none but this one uploads to it: a
     * service they download from (a CDN, a storage bucket's public
     * data), used for an upload of GBs. Cloud sync has its many
     * uploaders. */
    int lone = huge && f->uploaders <= 1;
    s = lone ? NFH_SEV_MEDIUM : huge ? NFH_SEV_LOW : NFH_SEV_INFO;
    why(v, lone   ? "popular destination no other internal host uploads to, "
                    "far beyond the source's usual"
           : huge ? "popular destination, but far beyond the source's usual"
                  : "popular destination (a shared service)");
  } else if (f->novel == 1 && f->uploaders >= (unsigned)p->shared_uploaders &&
             f->prevalence <= f->uploaders) {
    /* A destination never seen in days of history, that every internal
     * host using it uploads to: several hosts emptied into one new drop
     * (or a new backup target's first night). Sharing it is no sign of a
     * known service here; three hosts sending 617 MB each were ranked
     * down twice for it, to info. Without that history (novel -1) a
     * target several hosts upload to may be the backup target of years:
     * ranked down as before. */
    why(v, "every internal host that uses this new destination uploads "
           "to it");
  } else {
    if (f->prevalence >= 2) {
      s--;
      why(v, "other internal hosts use the destination");
    }
    if (f->uploaders >= (unsigned)p->shared_uploaders) {
      s--;
      why(v, "other internal hosts upload to it too (shared target)");
    } else if (nfh__exf_net_shared(p, f)) {
      /* A new address of a network others upload to: a registry's or a
       * storage service's next front-end. Hourly runs met each one
       * before the other CI runners had, and alerted high. */
      s--;
      why(v, "other internal hosts upload to its network too (a shared "
             "service)");
    } else if (nfh__exf_pool_shared(p, f)) {
      s--;
      v->by_pool = 1;
      why(v, "other internal hosts upload to other networks of its /16 "
             "(a cloud service's rotating addresses)");
    }
    if (f->net_popular) {
      s--;
      why(v, "its network is popular with internal hosts");
    }
  }
  if (f->pcr < p->pcr_strong && !icmp_tunnel) {
    s--;
    why(v, "asymmetry weaker than a plain upload");
  }
  if (v->kind == NFH_EXF_BULK && f->baseline_level &&
      f->host_ratio < p->ratio_min) {
    s--;
    why(v, "the source usually sends as much at this hour");
  }
  if (f->seasonal_share >= 0.5) {
    if (s > NFH_SEV_LOW)
      s = NFH_SEV_LOW;
    why(v, "recurring at this hour of day (a scheduled job)");
    /* A routine: the job ran at this hour on ROUTINE_DAYS other days or
     * more, and the source sends no more than usual at this hour (its
     * mature baseline there includes the job). A nightly backup was a
     * low alert every night for three weeks; a theft hidden in the
     * backup's hour makes the hour exceed its usual and stays low. */
    if (f->habit_days_seen >= ROUTINE_DAYS && f->baseline_level &&
        f->host_ratio < p->ratio_min) {
      s = NFH_SEV_INFO;
      why(v, "a routine: as much as the source usually sends at this "
             "hour");
    }
  } else if (f->repeat_share >= 0.5) {
    /* Once at this hour before: a second night of a backup, or a second
     * night of an exfiltration that was reported the night before. */
    s--;
    if (s > NFH_SEV_MEDIUM)
      s = NFH_SEV_MEDIUM;
    why(v, "the pair uploaded at this hour on another day");
  } else if (f->days_before >= (unsigned)p->learn_days) {
    s--;
    why(v, "the source uploaded to it on earlier days");
  }
  /* An exporter that shows no return traffic (asymmetric routing, one
   * exported link) misses a UDP stream's other half whatever it is: a
   * call's media read "sent 154 MB ... (PCR 1.00)", medium, for every
   * Teams and Zoom call of such a site. Low at most, said so. */
  if (f->one_way && f->blind_exporter && f->datagrams && s > NFH_SEV_LOW) {
    s = NFH_SEV_LOW;
    why(v, "the exporter shows no return traffic: a UDP call or stream "
           "cannot be told from an upload");
  }
  /* The first night nfhunt sees: with less than a day of data before
   * the upload (earlier runs' and this run's) there is no earlier night
   * to show the site's nightly backup as a habit (above), and a backup
   * server's upload to its offsite target, which no other host uses,
   * looks like a theft of the same size (a site with one backup server
   * got a critical finding in a one-night hunt). At most medium, said
   * so; a state over the next nights makes the backup a habit and
   * leaves a theft as it is. */
  if (nfh__exf_first_night(v, f) && s > NFH_SEV_MEDIUM) {
    s = NFH_SEV_MEDIUM;
    v->first_night = 1;
    why(v, f->night ? "at night, with no earlier night to compare: a "
                      "nightly backup looks the same"
                    : "around the clock, with no earlier day to compare: "
                      "a replication looks the same");
  }
  if (s < NFH_SEV_INFO)
    s = NFH_SEV_INFO;
  v->severity = s;

  /* Score: the severity band, then within it volume, rarity and
   * asymmetry, so that equal severities rank by what matters most. */
  static const double band[] = {5, 20, 45, 70, 85};
  double vol = clamp01(log10((double)f->out / p->min_bytes) / 3.0);
  double rare = f->popular ? 0
                           : clamp01(1.0 - log((double)(f->prevalence ? f->prevalence : 1)) /
                                               log(p->popular_hosts));
  double asym = clamp01((f->pcr - p->pcr_min) / (1.0 - p->pcr_min));
  v->score = band[s] + 15.0 * (0.45 * vol + 0.35 * rare + 0.2 * asym);

  /* Confidence: how sure the measurement is, not how bad it is. */
  double c = v->kind == NFH_EXF_BULK ? 0.9 : 0.75;
  if (f->history_ms + 3600000ull < DAY_MS) {
    c *= 0.85; /* no baseline and no first-seen to go by */
    why(v, "little history: no baseline or first-seen yet");
  }
  if (f->sampled) {
    double e = f->rel_error > 0.3 ? 0.3 : f->rel_error;
    c *= 0.85 * (1.0 - e);
    why(v, "sampled exporter: byte totals are estimates");
  }
  if (f->guessed)
    c *= 0.9;
  if (f->one_way) {
    c *= 0.85;
    why(v, "no answer seen: a one-way stream, or a way back the exporter "
           "misses");
  }
  if (f->pcr < p->pcr_strong)
    c *= 0.9;
  v->confidence = c;
}
