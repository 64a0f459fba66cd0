/*
 * judge.h - from what was measured about one (source, destination) pair
 * to a severity, a score, a confidence and the reasons for them.
 *
 * Pure functions of their inputs, so that the rules read in one place
 * (README.params describes them for the operator):
 *
 * A pair is a BULK transfer when two consecutive clock hours hold at
 * least bulk_bytes: medium; high from high_bytes; critical when no other
 * internal host uses the destination and the volume passes
 * critical_bytes, or passes high_bytes to a destination never seen in a
 * history of at least learn_days days, far (high_ratio) beyond what the
 * source usually sends at that hour.
 *
 * Carried in ICMP messages (no service moves megabytes in pings), any
 * of these is one step more, at most high.
 *
 * It is LOW AND SLOW when an episode (hours carrying slow_hour_bytes,
 * gaps of one idle hour allowed) lasts slow_min_hours, holds two active
 * hours or more, adds up to slow_min_bytes and has its clock hours
 * mostly active (slow_steadiness):
 * low; medium when at most two internal hosts use the destination; high
 * when it is the source's alone and the episode lasts slow_high_hours
 * and reaches slow_high_bytes; one step more (at most high) for a destination
 * never seen before.
 *
 * Then it is ranked down, one step each: other internal hosts use the
 * destination; several of them upload to it (a shared backup or sync
 * target); its network is popular; the asymmetry is weaker than
 * pcr_strong; for bulk, the source usually sends as much at this hour
 * (within ratio_min of its baseline); most of its bytes fall at an hour
 * of the day when the pair uploaded on another day too (then at most
 * medium), or else the pair uploaded on learn_days earlier days. A
 * popular destination (popular_hosts internal hosts) is at most low, and
 * only for a bulk transfer far beyond the source's baseline (insider
 * exfiltration to a cloud service), medium when no other internal host
 * uploads to it (a download service used for an upload); a transfer that recurs at this hour
 * of day (most of its bytes at hours when the pair uploaded on
 * habit_days other days) is at most low.
 */
#ifndef NFH_EXFIL_JUDGE_H
#define NFH_EXFIL_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/finding.h>

#include "params.h"

enum nfh__exf_kind { NFH_EXF_NONE, NFH_EXF_BULK, NFH_EXF_SLOW, NFH_EXF_BURSTS };

typedef struct nfh__exf_features {
  /* Volumes, over the run and the remembered recent hours. */
  uint64_t out, in;
  double pcr;
  uint64_t peak2;      /* most bytes in two consecutive clock hours */
  /* The best stretch of active hours. */
  unsigned stretch_hours, stretch_active;
  unsigned bursts;     /* episodes taken together (0: one episode) */
  uint64_t stretch_bytes;
  uint64_t span_ms;    /* first to last upload of the episode */
  /* The destination. */
  unsigned prevalence; /* internal hosts that used it, this one included */
  unsigned uploaders;  /* of them, uploading */
  int popular;         /* prevalence reached popular_hosts */
  int net_popular;     /* its network did */
  unsigned net_uploaders; /* internal hosts uploading to its network */
  int net_known;       /* its network was known an hour before this */
  unsigned pool_uploaders; /* internal hosts uploading to its pool */
  unsigned pool_nets;      /* networks of its pool uploaded to */
  int novel;           /* 1 never seen (with history), 0 seen, -1 unknown */
  /* The source's baseline at the peak hour. */
  int baseline_level;  /* 0 none, 1 hour of day, 2 hour of week */
  double host_ratio;   /* (host's bytes + floor) / (usual + floor) */
  /* The pair's habits. */
  int around_the_clock;  /* uploads at more than 12 hours of the day */
  double seasonal_share; /* bytes at habitual hours of day / all */
  double repeat_share;   /* bytes at hours of day the pair uploaded at on
                            another day / all */
  unsigned days_before;  /* earlier days it uploaded on */
  unsigned habit_days_seen; /* most other days it uploaded at an hour of
                               the episode (+/- season_tolerance) */
  /* Quality of the measurement. */
  int sampled;
  double rel_error; /* of the byte estimate, under sampling */
  int guessed;      /* client/server roles guessed from ports */
  int one_way;      /* no answer seen at all (a one-way stream) */
  int blind_exporter; /* the exporter shows no return traffic at all */
  int datagrams;      /* the pair's largest connection is UDP */
  int icmp;         /* the largest connection is ICMP: a tunnel */
  double packet_bytes; /* bytes a packet the internal host sent */
  int night;        /* the peak hour is in the night (night_start..) */
  uint64_t history_ms;     /* the state's: data of earlier runs */
  uint64_t seen_before_ms; /* that, and this run's data before the episode */
} nfh__exf_features;

#define NFH_EXF_MAX_REASONS 10

typedef struct nfh__exf_verdict {
  enum nfh__exf_kind kind;
  int severity; /* below NFH_SEV_INFO: nothing to report */
  double score, confidence;
  int first_night; /* held at medium: a first night, nothing to compare */
  int by_pool;     /* ranked down for its pool alone (the summary says) */
  const char *reasons[NFH_EXF_MAX_REASONS]; /* static strings */
  size_t nreasons;
} nfh__exf_verdict;

/* Judges one pair. */
void nfh__exf_judge(const nfh__exf_params *p, const nfh__exf_features *f,
                    nfh__exf_verdict *v);

/* Whether a judged bulk upload fell in the first night nfhunt sees
 * (less than a day of data before it), which holds it at medium. */
int nfh__exf_first_night(const nfh__exf_verdict *v, const nfh__exf_features *f);

/* Whether other internal hosts upload to other networks of the
 * destination's pool (a provider's /16) enough for a cloud service's
 * rotating addresses. */
int nfh__exf_pool_shared(const nfh__exf_params *p, const nfh__exf_features *f);

/* Whether the destination's network is a shared service: known before
 * this episode, with three internal uploaders or more (and at least
 * shared_uploaders). Its next addresses are not one host's drop. */
int nfh__exf_net_shared(const nfh__exf_params *p,
                        const nfh__exf_features *f);

#endif
