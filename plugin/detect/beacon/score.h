/*
 * score.h - how regular is a timeline of connection starts?
 *
 * Pure arithmetic over one candidate's timeline (start times and bytes
 * of its connections, oldest first); no state, no I/O, no allocation:
 * the caller lends scratch space. Kept apart from the plugin so that the
 * tests can feed it synthetic timelines directly.
 *
 * The model. A beacon sleeps P, then connects; real implants add jitter
 * (each sleep drawn from a band around P, so the intervals are i.i.d.
 * and the phase drifts) or run on a timer with delays (the phase holds).
 * Beats go missing: the host sleeps, the connection fails, a sampling
 * exporter never sees the few packets of a check-in. Some implants open
 * a second connection right after the check-in to fetch a task. So:
 *
 *  1. Starts closer than 'merge_ms' are one beat (parallel connections).
 *  2. A period is searched, not assumed: candidates come from quantiles
 *     and from the densest band of the intervals (an interval-histogram
 *     mode), and their fractions 1/k (beats seen only every k-th time).
 *     Each candidate P is refined by least squares over the intervals it
 *     explains (sum of intervals / sum of beat counts).
 *  3. Against a candidate P every interval d is k = round(d / P) beats
 *     long (k >= 1); its residual e = (d - kP) / P. Random arrivals give
 *     residuals spread evenly over [-0.5, 0.5] whatever P is; a beacon's
 *     cluster near 0. Intervals longer than max_missed periods are gaps
 *     (a laptop asleep), shorter than P/2 are extra connections.
 *  4. Timing regularity is the product of: tightness (median |e|), the
 *     symmetry of the one-period intervals (Bowley's quartile skew, as
 *     RITA scores it), the share of intervals that are not extra
 *     connections, the share of the span the comb explains, and, for
 *     unsampled timelines, the share of expected beats seen. The last
 *     term also makes P win over its sub-harmonics P/2, P/3, which fit
 *     every interval too but predict beats that never came.
 *  5. If many intervals are extra connections, beats are re-clustered
 *     with a window of a quarter period and scored again; the better
 *     reading wins (a check-in followed by a task fetch).
 *  6. Few intervals fit some period by chance, and the search over many
 *     candidate periods makes that worse: Poisson arrivals reach a
 *     timing of 0.62 at the 99th percentile with 8 connections, 0.33
 *     with 30, 0.15 with 200. That chance level, about 1.65 / sqrt(m)
 *     for m intervals, is subtracted: 'regularity' is the timing above
 *     chance, rescaled to 0..1. A perfectly regular beacon of 8 beats
 *     still scores high; a jittery one needs more beats to stand out.
 *     The sampled reading has its own, higher chance level (about
 *     0.09 + 3.0 / sqrt(m)), since its comb reaches 16 times further
 *     (a 1:100 sampling exporter sees one check-in in ten).
 *
 *  7. A jittered beacon (each sleep drawn from a band, +-30% or more)
 *     fits no comb tightly, and with few beats its timing stays below
 *     chance. Its intervals are still bounded: their coefficient of
 *     variation (the longest tenth left out, as missed beats) stays near
 *     J / sqrt(3) for a band of +-J, where random arrivals' is near 1
 *     and bursty human traffic's above. 'dispersion' is that value and
 *     'dispersion_chance' the one Poisson arrivals stay below once in a
 *     thousand for as many intervals (simulated, a table). The judge
 *     (judge.h) decides what it is worth; here it is only measured, on
 *     the beats as they are, since clustering smooths random traffic.
 *
 * Bytes: the median and MAD of bytes per beat, client bytes and all
 * bytes, with a 64-byte floor in the relative dispersion so that a few
 * bytes of difference between tiny check-ins is not "irregular" (tiny
 * beacons stay regular). Coverage: the share of equal bins of the span
 * that hold a beat (a burst then silence covers little).
 */
#ifndef NFH_BEACON_SCORE_H
#define NFH_BEACON_SCORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct nfh__bcn_score_params {
  uint32_t min_beats;     /* fewer beats: not analysed */
  uint64_t min_span_ms;   /* shorter span: not analysed */
  double min_periods;     /* the span must hold this many periods */
  uint64_t min_period_ms; /* periods searched: [min, max] */
  uint64_t max_period_ms;
  uint32_t max_missed;    /* an interval of up to this many periods is
                             missed beats; longer is a gap */
  uint64_t merge_ms;      /* starts closer than this are one beat */
  int sampled;            /* the timeline comes from sampled exporters:
                             missed beats are expected, bytes estimates */
} nfh__bcn_score_params;

typedef struct nfh__bcn_score {
  int analysed;        /* 0: too few beats, too short, no period fits */
  size_t beats;        /* beats after merging (and clustering) */
  size_t intervals;    /* intervals between beats */
  int clustered;       /* follow-up connections were folded into beats */
  double period_s;     /* the period found */
  double jitter;       /* MAD / median of the one-period intervals (or the
                          median |residual| when there are few) */
  double skew;         /* Bowley skew of the one-period intervals */
  double tightness;    /* 0..1, from the median |residual| */
  double extra_share;  /* intervals shorter than half a period */
  double explained;    /* share of the span inside max_missed periods */
  double presence;     /* beats seen / beats the period predicts */
  double missed;       /* beats the period predicts that were not seen */
  double timing;       /* 0..1: the timing regularity */
  double chance;       /* timing that random arrivals reach by chance */
  double regularity;   /* 0..1: timing above chance, (timing - chance) /
                          (1 - chance); what the detector ranks by */
  double bytes_median; /* bytes per beat (client + server) */
  double bytes_mad;
  double client_median; /* client bytes per beat */
  double bytes_score;   /* 0..1: regularity of bytes per beat */
  double coverage;      /* 0..1 */
  double span_s;        /* first to last beat */
  double dispersion;    /* coefficient of variation of the intervals, the
                           longest tenth left out (missed beats), of the
                           beats as they are (not clustered) */
  double dispersion_chance; /* the dispersion that random (Poisson)
                               arrivals stay below once in a thousand;
                               0 when not tested: sampled readings, or
                               intervals whose mean is outside the
                               periods searched */
  double dispersion_period_s; /* the intervals' mean (the longest tenth
                                 left out): the period the dispersion
                                 implies (the comb's may be a fraction) */
  double dispersion_coverage; /* coverage with bins of that period */
} nfh__bcn_score;

/* Scratch space for nfh__bcn_analyse: 'cap' entries per array. */
typedef struct nfh__bcn_scratch {
  size_t cap;
  uint64_t *t;      /* beat starts */
  double *b, *cb;   /* bytes per beat: all, client */
  double *d, *s, *e, *one;
} nfh__bcn_scratch;

/* Allocates scratch for timelines of up to 'cap' connections. Returns 0,
 * or -1 when out of memory (nothing allocated). */
int nfh__bcn_scratch_init(nfh__bcn_scratch *s, size_t cap);

/* Frees the scratch arrays; a zeroed struct is fine. */
void nfh__bcn_scratch_free(nfh__bcn_scratch *s);

/* Analyses n connections: start times t[] in ms, oldest first, and their
 * client and server bytes (borrowed for the call). n must not exceed
 * the scratch's cap (more are ignored). Fills *out completely; returns
 * out->analysed. Never fails otherwise. */
int nfh__bcn_analyse(const uint64_t *t, const uint32_t *client_bytes,
                     const uint32_t *server_bytes, size_t n,
                     const nfh__bcn_score_params *p, nfh__bcn_scratch *s,
                     nfh__bcn_score *out);

/* Bowley's quartile skew of n sorted values: (Q1 + Q3 - 2 Q2) / (Q3 -
 * Q1), 0 when Q3 == Q1 or n < 3. In [-1, 1]. */
double nfh__bcn_bowley(const double *sorted, size_t n);

/* The q-quantile (0..1) of n sorted values, linearly interpolated; 0 for
 * n == 0. */
double nfh__bcn_quantile(const double *sorted, size_t n, double q);

/* Sorts n doubles (no NaN) ascending, in place: what qsort(3) with a
 * comparator gives, without a call per comparison (scoring sorts
 * intervals of every candidate). */
void nfh__bcn_sort(double *v, size_t n);

#endif
