/* baseline.c - robust seasonal baselines; see baseline.h. */
#include <math.h>
#include <stdlib.h>

#include "baseline.h"

/* Scale factors to a normal's standard deviation: from the median
 * absolute deviation, and from the mean absolute deviation. */
#define MAD_TO_SIGMA 1.4826f
#define MEANABS_TO_SIGMA 1.2533f
/* Residuals beyond this many scales are clipped (Huber). */
#define CLIP_K 3.0f
/* The scale a fresh seasonal cell assumes until it has seen more: wide,
 * so that the second sample is not judged by the first alone. */
#define CELL_S_INIT 1.0f

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

static float median_sorted(const float *v, size_t n) {
  return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

/* Samples are a few learning slots (learn_slots, 288 at most), sorted
 * for every metric of every host at the end of its learning: insertion
 * sort beats qsort's calls and allocation at that size. The order it
 * gives is the order cmp_float defines. */
static void sort_floats(float *v, size_t n) {
  if (n > 64) {
    qsort(v, n, sizeof(float), cmp_float);
    return;
  }
  for (size_t i = 1; i < n; i++) {
    float x = v[i];
    size_t j = i;
    for (; j > 0 && cmp_float(&v[j - 1], &x) > 0; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

void nfh__vol_stat_from_sample(nfh__vol_stat *st, float *ys, size_t n) {
  sort_floats(ys, n);
  float med = median_sorted(ys, n);
  for (size_t i = 0; i < n; i++)
    ys[i] = fabsf(ys[i] - med);
  sort_floats(ys, n);
  st->c = med;
  st->s = MAD_TO_SIGMA * median_sorted(ys, n);
}

void nfh__vol_stat_update(nfh__vol_stat *st, float y, float alpha,
                          float s_min) {
  float s = st->s > s_min ? st->s : s_min;
  float r = y - st->c;
  float lim = CLIP_K * s;
  if (r > lim)
    r = lim;
  else if (r < -lim)
    r = -lim;
  st->c += alpha * r;
  st->s += alpha * (MEANABS_TO_SIGMA * fabsf(r) - st->s);
}

void nfh__vol_cell_update(nfh__vol_cell *cell, const float *y,
                          unsigned skip, float alpha, float s_min,
                          float peak_decay) {
  unsigned all = (1u << NFH_VOL_SEASONAL) - 1;
  /* A fresh cell starts from a sample with nothing skipped: a skipped
   * metric would otherwise start from nothing. */
  if ((skip & all) == all || (!cell->n && (skip & all)))
    return;
  float a = 1.0f / (float)(cell->n + 1);
  if (a < alpha)
    a = alpha;
  for (int m = 0; m < NFH_VOL_SEASONAL; m++) {
    if (skip & (1u << m))
      continue;
    if (!cell->n) {
      cell->c[m] = y[m];
      cell->s[m] = CELL_S_INIT;
      cell->p[m] = y[m];
      continue;
    }
    nfh__vol_stat st = {cell->c[m], cell->s[m]};
    nfh__vol_stat_update(&st, y[m], a, s_min);
    cell->c[m] = st.c;
    cell->s[m] = st.s;
    float p = cell->p[m] - peak_decay;
    cell->p[m] = y[m] > p ? y[m] : p;
  }
  if (cell->n < UINT16_MAX)
    cell->n++;
}

unsigned nfh__vol_hour_of_day(uint64_t ms) {
  return (unsigned)((ms / 3600000u) % 24u);
}

unsigned nfh__vol_hour_of_week(uint64_t ms) {
  uint64_t hours = ms / 3600000u;
  /* 1970-01-01 was a Thursday: day 0 is weekday 3 counted from Monday. */
  uint64_t weekday = (hours / 24u + 3u) % 7u;
  return (unsigned)(weekday * 24u + hours % 24u);
}
