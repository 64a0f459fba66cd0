/* score.c - timing and size regularity of a timeline; see score.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"

/* A residual this large (in periods) earns no tightness: random arrivals
 * have a median |residual| of 0.25, a beacon with +-20% jitter 0.1. */
#define TIGHT_SCALE 0.3
/* Relative MAD of bytes per beat (after the floor) that earns nothing. */
#define BYTES_SCALE 0.3
/* Bytes added to the median before the relative dispersion of bytes is
 * taken: tiny check-ins that differ by a few bytes are regular. */
#define BYTES_FLOOR 64.0
/* Above this share of extra connections, beats are re-clustered. */
#define CLUSTER_EXTRA 0.15
/* The chance level of the timing for m intervals is CHANCE / sqrt(m):
 * about the 99th percentile that Poisson arrivals reach (measured with
 * 8 to 200 connections and the candidate search of this file). The
 * sampled reading explains more (a comb 16 times wider, missed beats
 * free), so chance reaches more: CHANCE_SAMPLED_BASE + CHANCE_SAMPLED /
 * sqrt(m), fitted the same way. */
#define CHANCE 1.65
#define CHANCE_SAMPLED_BASE 0.09
#define CHANCE_SAMPLED 3.0
/* Period candidates tried at most, and how many of the best are refined. */
#define MAX_CANDIDATES 96
#define REFINE_TOP 3
/* Fractions 1/k of the shortest intervals tried as periods, at most. */
#define MAX_FRACTION 16
/* How much further the sampled reading's comb reaches (in units of
 * max_missed + 1 periods). */
#define SAMPLED_REACH 16

int nfh__bcn_scratch_init(nfh__bcn_scratch *s, size_t cap) {
  memset(s, 0, sizeof(*s));
  if (cap == 0)
    cap = 1;
  s->t = malloc(cap * sizeof(uint64_t));
  s->b = malloc(cap * sizeof(double));
  s->cb = malloc(cap * sizeof(double));
  s->d = malloc(cap * sizeof(double));
  s->s = malloc(cap * sizeof(double));
  s->e = malloc(cap * sizeof(double));
  s->one = malloc(cap * sizeof(double));
  if (!s->t || !s->b || !s->cb || !s->d || !s->s || !s->e || !s->one) {
    nfh__bcn_scratch_free(s);
    return -1;
  }
  s->cap = cap;
  return 0;
}

void nfh__bcn_scratch_free(nfh__bcn_scratch *s) {
  free(s->t);
  free(s->b);
  free(s->cb);
  free(s->d);
  free(s->s);
  free(s->e);
  free(s->one);
  memset(s, 0, sizeof(*s));
}

/* Partitions below this size are finished by insertion. */
#define SORT_SMALL 16

static void insertion_sort(double *v, size_t n) {
  for (size_t i = 1; i < n; i++) {
    double x = v[i];
    size_t j = i;
    for (; j > 0 && v[j - 1] > x; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

static void swap_d(double *a, double *b) {
  double t = *a;
  *a = *b;
  *b = t;
}

/* Quicksort with a median-of-three pivot, recursing into the smaller
 * side (depth at most log2 n), insertion sort for small parts. */
void nfh__bcn_sort(double *v, size_t n) {
  while (n > SORT_SMALL) {
    size_t mid = n / 2;
    if (v[mid] < v[0])
      swap_d(&v[mid], &v[0]);
    if (v[n - 1] < v[0])
      swap_d(&v[n - 1], &v[0]);
    if (v[n - 1] < v[mid])
      swap_d(&v[n - 1], &v[mid]);
    double pivot = v[mid];
    size_t i = 0, j = n - 1;
    for (;;) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i >= j)
        break;
      swap_d(&v[i], &v[j]);
      i++;
      j--;
    }
    /* [0, j] <= pivot <= [j + 1, n) */
    size_t left = j + 1;
    if (left < n - left) {
      nfh__bcn_sort(v, left);
      v += left;
      n -= left;
    } else {
      nfh__bcn_sort(v + left, n - left);
      n = left;
    }
  }
  insertion_sort(v, n);
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* The 0.1% quantile of the dispersion (see score.h, item 7) of m
 * intervals of Poisson arrivals, simulated: 10^6 timelines per entry for
 * m = 3..69, then (10^5 to 10^6) for every m from 70 that is a multiple
 * of ten. Leaving out the longest floor(m / 10) intervals makes the
 * quantile drop at each multiple of ten and rise until the next; between
 * the tabled multiples (where that rise is under 0.02) the value at
 * the multiple below m is taken, the stricter side. */
static const float DISPERSION_Q999[67] = {
    0.0295f, 0.0857f, 0.1472f, 0.2031f, 0.2496f, 0.2896f, 0.3243f, 0.2880f,
    0.3158f, 0.3390f, 0.3585f, 0.3807f, 0.3964f, 0.4114f, 0.4268f, 0.4378f,
    0.4520f, 0.4309f, 0.4408f, 0.4502f, 0.4616f, 0.4688f, 0.4779f, 0.4857f,
    0.4926f, 0.5007f, 0.5089f, 0.4927f, 0.4982f, 0.5045f, 0.5098f, 0.5156f,
    0.5220f, 0.5266f, 0.5325f, 0.5373f, 0.5423f, 0.5288f, 0.5341f, 0.5376f,
    0.5425f, 0.5462f, 0.5496f, 0.5546f, 0.5569f, 0.5609f, 0.5652f, 0.5552f,
    0.5576f, 0.5598f, 0.5640f, 0.5682f, 0.5716f, 0.5727f, 0.5765f, 0.5796f,
    0.5822f, 0.5746f, 0.5762f, 0.5788f, 0.5827f, 0.5831f, 0.5867f, 0.5894f,
    0.5905f, 0.5943f, 0.5963f};
static const float DISPERSION_Q999_TENS[45] = {
    0.5893f, 0.6003f, 0.6104f, 0.6196f, 0.6275f, 0.6318f, 0.6397f, 0.6448f,
    0.6494f, 0.6545f, 0.6566f, 0.6604f, 0.6640f, 0.6660f, 0.6699f, 0.6723f,
    0.6757f, 0.6763f, 0.6787f, 0.6814f, 0.6842f, 0.6866f, 0.6866f, 0.6893f,
    0.6901f, 0.6910f, 0.6927f, 0.6927f, 0.6960f, 0.6972f, 0.6988f, 0.6990f,
    0.7004f, 0.7011f, 0.7022f, 0.7042f, 0.7049f, 0.7049f, 0.7059f, 0.7074f,
    0.7074f, 0.7094f, 0.7096f, 0.7102f, 0.7114f};

static double dispersion_chance(size_t m) {
  if (m < 3)
    return 0;
  if (m < 70)
    return DISPERSION_Q999[m - 3];
  size_t k = m / 10 - 7;
  size_t last = sizeof(DISPERSION_Q999_TENS) / sizeof(*DISPERSION_Q999_TENS);
  return DISPERSION_Q999_TENS[k < last ? k : last - 1];
}

/* The share of bins of at least 'period' over the span of the m beats
 * s->t[0..m-1] that hold one (4 to 48 bins); a burst covers few. The
 * bins reach half a period beyond the first and last beats, so that
 * beats on schedule sit at bin centres: with the span's own ends as bin
 * edges they sat on the edges, and a jitter of 1% moved them across
 * (ten beats 20 minutes apart covered 7 of 9 bins). */
static double coverage_of(const nfh__bcn_scratch *s, size_t m, double span,
                          double period) {
  double width = span + (period > 0 ? period : 0);
  double bins = period > 0 ? floor(width / period) : 0;
  size_t nb = bins < 4 ? 4 : bins > 48 ? 48 : (size_t)bins;
  double lead = period > 0 ? period / 2 : 0;
  unsigned char hit[48];
  memset(hit, 0, sizeof(hit));
  for (size_t i = 0; i < m; i++) {
    size_t k = width > 0 ? (size_t)(((double)(s->t[i] - s->t[0]) + lead) /
                                    width * (double)nb)
                         : 0;
    hit[k < nb ? k : nb - 1] = 1;
  }
  size_t filled = 0;
  for (size_t i = 0; i < nb; i++)
    filled += hit[i];
  return (double)filled / (double)nb;
}

/* The dispersion of nd sorted intervals (score.h, item 7); *mean_out gets
 * the mean of the intervals it was taken over (the period they imply). */
static double dispersion_of(const double *sorted, size_t nd, double *mean_out) {
  size_t k = nd - nd / 10;
  double sum = 0, sq = 0;
  for (size_t i = 0; i < k; i++)
    sum += sorted[i];
  double mean = sum / (double)k;
  *mean_out = mean;
  if (!(mean > 0))
    return 1; /* no time between beats: nothing to call even */
  for (size_t i = 0; i < k; i++)
    sq += (sorted[i] - mean) * (sorted[i] - mean);
  return sqrt(sq / (double)k) / mean;
}

double nfh__bcn_quantile(const double *v, size_t n, double q) {
  if (n == 0)
    return 0;
  double pos = q * (double)(n - 1);
  size_t i = (size_t)pos;
  if (i >= n - 1)
    return v[n - 1];
  double frac = pos - (double)i;
  return v[i] + frac * (v[i + 1] - v[i]);
}

double nfh__bcn_bowley(const double *v, size_t n) {
  if (n < 3)
    return 0;
  double q1 = nfh__bcn_quantile(v, n, 0.25);
  double q2 = nfh__bcn_quantile(v, n, 0.5);
  double q3 = nfh__bcn_quantile(v, n, 0.75);
  double den = q3 - q1;
  /* Equal quartiles: the middle half is one value, perfectly regular. */
  if (den <= 1e-9 * (fabs(q3) + 1))
    return 0;
  double b = (q1 + q3 - 2 * q2) / den;
  return b < -1 ? -1 : b > 1 ? 1 : b;
}

/* The k-th smallest of n values (0-based), partially reordering v in
 * place (Hoare's selection: linear on average, where a sort would be
 * n log n; the period search calls this thousands of times). */
static double select_kth(double *v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    double pivot = v[lo + (hi - lo) / 2];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i <= j) {
        double t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        if (j == 0)
          break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      break;
  }
  return v[k];
}

/* The q-quantile as nfh__bcn_quantile computes it, without sorting:
 * v is reordered. */
static double quantile_select(double *v, size_t n, double q) {
  if (n == 0)
    return 0;
  double pos = q * (double)(n - 1);
  size_t i = (size_t)pos;
  if (i >= n - 1)
    return select_kth(v, n, n - 1);
  double lo = select_kth(v, n, i);
  /* After selection everything right of i is >= v[i]: the next order
   * statistic is their minimum. */
  double hi = v[i + 1];
  for (size_t k = i + 2; k < n; k++)
    if (v[k] < hi)
      hi = v[k];
  return lo + (pos - (double)i) * (hi - lo);
}

/* Median and MAD of n values, sorted in place in 'v' and 'tmp'. */
static void median_mad(double *v, double *tmp, size_t n, double *median,
                       double *mad) {
  *median = *mad = 0;
  if (n == 0)
    return;
  nfh__bcn_sort(v, n);
  *median = nfh__bcn_quantile(v, n, 0.5);
  for (size_t i = 0; i < n; i++)
    tmp[i] = fabs(v[i] - *median);
  nfh__bcn_sort(tmp, n);
  *mad = nfh__bcn_quantile(tmp, n, 0.5);
}

/* Groups starts into beats: a start less than 'window' ms after the
 * first start of the current beat joins it. Anchoring on the first start
 * (not the previous one) keeps a steady stream from collapsing into a
 * single beat. Returns the number of beats, written to s->t, s->b,
 * s->cb; *multi gets the number of beats of more than one start. */
static size_t build_beats(const uint64_t *t, const uint32_t *cb,
                          const uint32_t *sb, size_t n, uint64_t window,
                          nfh__bcn_scratch *s, size_t *multi) {
  size_t m = 0;
  uint64_t anchor = 0;
  int last_multi = 0;
  *multi = 0;
  for (size_t i = 0; i < n; i++) {
    double c = cb[i], all = (double)cb[i] + (double)sb[i];
    if (m && t[i] - anchor < window) {
      s->b[m - 1] += all;
      s->cb[m - 1] += c;
      if (!last_multi)
        ++*multi;
      last_multi = 1;
      continue;
    }
    last_multi = 0;
    anchor = t[i];
    s->t[m] = t[i];
    s->b[m] = all;
    s->cb[m] = c;
    m++;
  }
  return m;
}

/* The longest interval, in periods, that still holds missed beats. A
 * sampling exporter sees a small connection with a probability of about
 * its packets / N: at 1:100 most beats of a ten-packet check-in vanish,
 * so the sampled reading reaches much further. */
static uint32_t kmax_of(const nfh__bcn_score_params *p) {
  return (p->max_missed + 1) * (p->sampled ? SAMPLED_REACH : 1);
}

/* Least share of one-period intervals among the explained ones. */
#define ONE_PERIOD_MIN 0.15

/* How well period P explains the intervals d[0..m-1]. */
typedef struct fit {
  double period, timing, tightness, skew, jitter, extra, explained,
      presence, missed;
  double refined; /* least-squares period over the intervals explained */
} fit;

static void evaluate(const double *d, size_t m, double period,
                     const nfh__bcn_score_params *p, nfh__bcn_scratch *s,
                     fit *f) {
  double kmax = (double)kmax_of(p);
  double total = 0, gap = 0, sum_d = 0, sum_k = 0, seen = 0, expected = 0;
  size_t ne = 0, n1 = 0, extra = 0;
  memset(f, 0, sizeof(*f));
  f->period = f->refined = period;
  for (size_t i = 0; i < m; i++) {
    total += d[i];
    double k = floor(d[i] / period + 0.5);
    if (k > kmax) {
      gap += d[i];
      continue;
    }
    if (k < 1) {
      /* Shorter than half a period: an extra connection. Its residual
       * (more than half a period) counts against tightness. */
      extra++;
      s->e[ne++] = 1.0 - d[i] / period;
      continue;
    }
    double e = (d[i] - k * period) / period;
    s->e[ne++] = fabs(e);
    seen += 1;
    expected += k;
    if (k == 1)
      s->one[n1++] = d[i];
    if (fabs(e) <= TIGHT_SCALE) {
      sum_d += d[i];
      sum_k += k;
    }
  }
  if (ne == 0 || total <= 0)
    return;
  double med_e = quantile_select(s->e, ne, 0.5);
  f->tightness = clamp01(1 - med_e / TIGHT_SCALE);
  /* Skew matters in proportion to the spread: the quartiles of tightly
   * regular intervals are a few samples of noise apart, and their Bowley
   * skew is then noise too. */
  double skew_weight = 0;
  if (n1 >= 4) {
    double q1 = quantile_select(s->one, n1, 0.25);
    double q3 = quantile_select(s->one, n1, 0.75);
    double med = quantile_select(s->one, n1, 0.5);
    for (size_t i = 0; i < n1; i++)
      s->e[i] = fabs(s->one[i] - med);
    double mad = quantile_select(s->e, n1, 0.5);
    double iqr = q3 - q1;
    /* Bowley's skew, as nfh__bcn_bowley computes it. */
    f->skew = iqr > 1e-9 * (fabs(q3) + 1) ? (q1 + q3 - 2 * med) / iqr : 0;
    f->jitter = med > 0 ? mad / med : 0;
    skew_weight = med > 0 ? clamp01(iqr / med / 0.2) : 0;
  } else {
    f->skew = 0;
    f->jitter = med_e;
  }
  f->extra = (double)extra / (double)ne;
  f->explained = 1 - gap / total;
  f->presence = expected > 0 ? seen / expected : 0;
  f->missed = expected - seen;
  /* Sampled exporters lose small connections: missed beats are then no
   * evidence against a period. */
  double presence_term =
      p->sampled ? 1 : clamp01(0.5 + 0.625 * f->presence);
  f->timing = f->tightness * (1 - 0.5 * skew_weight * fabs(f->skew)) *
              (1 - f->extra) *
              (0.4 + 0.6 * f->explained) * presence_term;
  if (sum_k > 0)
    f->refined = sum_d / sum_k;
  /* A period that no two consecutive beats are apart is a fraction of
   * the true one: with max_period at 5 min, a 608 s beacon read "every
   * 297 s", half of its beats "missed". Not for sampled readings, where
   * most beats are missed. */
  if (!p->sampled && seen >= 4 && (double)n1 < ONE_PERIOD_MIN * seen)
    f->timing = 0;
}

/* The median of the densest band [x, x * ratio] of sorted values: the
 * mode of an interval histogram with bins of that relative width, which
 * finds a jittered period among outliers. */
static double densest(const double *v, size_t n, double ratio) {
  size_t best_i = 0, best_n = 0, j = 0;
  for (size_t i = 0; i < n; i++) {
    if (j < i)
      j = i;
    while (j < n && v[j] <= v[i] * ratio)
      j++;
    if (j - i > best_n) {
      best_n = j - i;
      best_i = i;
    }
  }
  return best_n ? nfh__bcn_quantile(v + best_i, best_n, 0.5) : 0;
}

/* What the period search maximises. Near-ties go to the longer period:
 * P/2 fits every interval P does, but predicts beats that never came
 * (sampled readings do not count that against the timing, so it must
 * count here). */
static double selection(const fit *f) {
  return f->timing * (0.75 + 0.25 * f->presence);
}

static int period_allowed(double period, double span,
                          const nfh__bcn_score_params *p) {
  return period >= (double)p->min_period_ms &&
         period <= (double)p->max_period_ms &&
         span >= p->min_periods * period;
}

/* Scores the beats in s->t[0..m-1] (bytes in s->b, s->cb) into *out. */
static void analyse_beats(size_t m, const nfh__bcn_score_params *p,
                          nfh__bcn_scratch *s, nfh__bcn_score *out) {
  memset(out, 0, sizeof(*out));
  out->beats = m;
  if (m < 2)
    return;
  double span = (double)(s->t[m - 1] - s->t[0]);
  out->span_s = span / 1000.0;
  out->intervals = m - 1;
  if (m < p->min_beats || span < (double)p->min_span_ms)
    return;
  size_t nd = m - 1;
  for (size_t i = 0; i < nd; i++) {
    s->d[i] = (double)(s->t[i + 1] - s->t[i]);
    s->s[i] = s->d[i];
  }
  nfh__bcn_sort(s->s, nd);

  double cand[MAX_CANDIDATES];
  size_t nc = 0;
  for (int q = 1; q <= 9; q++)
    cand[nc++] = nfh__bcn_quantile(s->s, nd, q / 10.0);
  double mode_narrow = densest(s->s, nd, 1.25);
  double mode_wide = densest(s->s, nd, 1.6);
  cand[nc++] = mode_narrow;
  cand[nc++] = mode_wide;
  /* With beats missing, the shortest intervals may already be multiples
   * of the period: try their fractions. */
  uint32_t kfrac = kmax_of(p);
  if (kfrac > MAX_FRACTION)
    kfrac = MAX_FRACTION;
  const double bases[4] = {cand[0], cand[1], cand[2], mode_narrow};
  for (int b = 0; b < 4; b++)
    for (uint32_t k = 2; k <= kfrac && nc < MAX_CANDIDATES; k++)
      cand[nc++] = bases[b] / k;

  /* Candidates within 1% of one already tried refine to the same
   * period: the quantiles of a regular timeline are nearly equal. Every
   * candidate is scored once as it is; only the best few are refined
   * (the least-squares period over what it explains moves a quantile
   * onto the centre of the jitter band), which keeps random timelines,
   * where nothing fits, cheap. */
  nfh__bcn_sort(cand, nc);
  double last_tried = -1;
  fit best, f;
  memset(&best, 0, sizeof(best));
  double best_j = -1;
  fit top[REFINE_TOP];
  double top_j[REFINE_TOP];
  size_t ntop = 0;
  for (size_t c = 0; c < nc; c++) {
    double period = cand[c];
    if (!period_allowed(period, span, p) ||
        (last_tried > 0 && period < last_tried * 1.01))
      continue;
    last_tried = period;
    evaluate(s->d, nd, period, p, s, &f);
    double j = selection(&f);
    /* Keep the REFINE_TOP best, sorted by j descending. */
    size_t at = ntop;
    while (at > 0 && top_j[at - 1] < j)
      at--;
    if (at >= REFINE_TOP)
      continue;
    if (ntop < REFINE_TOP)
      ntop++;
    for (size_t k = ntop - 1; k > at; k--) {
      top[k] = top[k - 1];
      top_j[k] = top_j[k - 1];
    }
    top[at] = f;
    top_j[at] = j;
  }
  for (size_t t = 0; t < ntop; t++) {
    f = top[t];
    double period = f.period;
    /* The least-squares period is the estimate reported, even where the
     * selection score, flat near its optimum, would not move. */
    for (int it = 0; it < 3; it++) {
      if (!period_allowed(f.refined, span, p) ||
          fabs(f.refined - period) < 1e-6 * period)
        break;
      period = f.refined;
      evaluate(s->d, nd, period, p, s, &f);
    }
    double j = selection(&f);
    if (j > best_j) {
      best_j = j;
      best = f;
    }
  }
  /* The raw reading, as RITA scores it: the dispersion (MAD / median)
   * and quartile skew of the intervals as they are. It misreads missed
   * beats, which the comb handles, but it sees a heavily jittered sleep
   * (uniform over [P/2, P]) for what it is: bounded intervals, where
   * random arrivals have a relative MAD near 0.7. */
  double raw_period = nfh__bcn_quantile(s->s, nd, 0.5);
  if (period_allowed(raw_period, span, p)) {
    for (size_t i = 0; i < nd; i++)
      s->e[i] = fabs(s->s[i] - raw_period);
    nfh__bcn_sort(s->e, nd);
    double madm = nfh__bcn_quantile(s->e, nd, 0.5) / raw_period;
    double skew = nfh__bcn_bowley(s->s, nd);
    double raw = 0.9 * clamp01(1 - madm / 0.5) * (1 - 0.5 * fabs(skew));
    if (raw > best.timing) {
      evaluate(s->d, nd, raw_period, p, s, &f);
      f.timing = raw;
      f.jitter = madm;
      f.skew = skew;
      best = f;
      best_j = raw;
    }
  }
  if (best_j < 0)
    return;
  out->analysed = 1;
  /* Tested only where the period the intervals imply is one the
   * search may find. */
  double implied;
  out->dispersion = dispersion_of(s->s, nd, &implied);
  if (!p->sampled && period_allowed(implied, span, p)) {
    out->dispersion_chance = dispersion_chance(nd);
    out->dispersion_period_s = implied / 1000.0;
    out->dispersion_coverage = coverage_of(s, m, span, implied);
  }
  out->period_s = best.period / 1000.0;
  out->jitter = best.jitter;
  out->skew = best.skew;
  out->tightness = best.tightness;
  out->extra_share = best.extra;
  out->explained = best.explained;
  out->presence = best.presence;
  out->missed = best.missed;
  out->timing = best.timing;
  out->chance = p->sampled
                    ? CHANCE_SAMPLED_BASE + CHANCE_SAMPLED / sqrt((double)nd)
                    : CHANCE / sqrt((double)nd);
  if (out->chance > 0.95)
    out->chance = 0.95;
  out->regularity = clamp01((out->timing - out->chance) / (1 - out->chance));

  out->coverage = coverage_of(s, m, span, best.period);

  /* Bytes per beat: the better of client bytes and all bytes (a fixed
   * check-in answered by tasks of varying size is still regular). */
  double best_b = 0;
  for (int which = 0; which < 2; which++) {
    const double *src = which ? s->cb : s->b;
    for (size_t i = 0; i < m; i++)
      s->d[i] = src[i];
    double med, mad;
    median_mad(s->d, s->e, m, &med, &mad);
    double skew = nfh__bcn_bowley(s->d, m);
    double sc = clamp01(1 - mad / (med + BYTES_FLOOR) / BYTES_SCALE) *
                (1 - 0.5 * fabs(skew));
    if (which == 0) {
      out->bytes_median = med;
      out->bytes_mad = mad;
    } else {
      out->client_median = med;
    }
    if (sc > best_b)
      best_b = sc;
  }
  out->bytes_score = best_b;
}

int nfh__bcn_analyse(const uint64_t *t, const uint32_t *client_bytes,
                     const uint32_t *server_bytes, size_t n,
                     const nfh__bcn_score_params *p, nfh__bcn_scratch *s,
                     nfh__bcn_score *out) {
  memset(out, 0, sizeof(*out));
  if (n > s->cap)
    n = s->cap;
  size_t multi;
  size_t m = build_beats(t, client_bytes, server_bytes, n,
                         p->merge_ms ? p->merge_ms : 1, s, &multi);
  analyse_beats(m, p, s, out);
  if (m < p->min_beats)
    return out->analysed;
  /* Perhaps each beat is a check-in plus follow-ups. The period is then
   * hidden among the short intervals, so the clustering windows come
   * from the long ones: a quarter of the median interval and of the
   * upper quartile (and of the period found, if any). A clustered
   * reading must be clearly better, and most of its beats must really
   * hold follow-ups: folding starts together also smooths random
   * traffic, where only the few short gaps get folded. */
  double w[3];
  size_t nw = 0;
  if (out->analysed && out->extra_share > CLUSTER_EXTRA)
    w[nw++] = out->period_s * 1000.0 / 4;
  if (!out->analysed || out->regularity < 0.5) {
    for (size_t i = 0; i + 1 < m; i++)
      s->s[i] = (double)(s->t[i + 1] - s->t[i]);
    nfh__bcn_sort(s->s, m - 1);
    w[nw++] = nfh__bcn_quantile(s->s, m - 1, 0.5) / 4;
    w[nw++] = nfh__bcn_quantile(s->s, m - 1, 0.75) / 4;
  }
  nfh__bcn_score best = *out;
  double dispersion = out->dispersion, chance = out->dispersion_chance,
         dcoverage = out->dispersion_coverage,
         dperiod = out->dispersion_period_s;
  for (size_t i = 0; i < nw; i++) {
    uint64_t window = (uint64_t)w[i];
    if (window <= p->merge_ms)
      continue;
    nfh__bcn_score second;
    size_t m2 = build_beats(t, client_bytes, server_bytes, n, window, s,
                            &multi);
    if (m2 == m || multi * 2 < m2)
      continue;
    analyse_beats(m2, p, s, &second);
    if (second.analysed && second.regularity > best.regularity + 0.05) {
      best = second;
      best.clustered = 1;
    }
  }
  *out = best;
  out->dispersion = dispersion;
  out->dispersion_chance = chance;
  out->dispersion_coverage = dcoverage;
  out->dispersion_period_s = dperiod;
  return out->analysed;
}
