/*
 * baseline.h - robust, seasonal baselines of per-slot traffic counts.
 *
 * Every count x (bytes, packets, flows... of one host in one 5-minute
 * slot) is judged in the log domain, y = ln(x + F), where F is the
 * metric's absolute floor. The log makes "38 times the usual" the same
 * distance for a small host and a large one; the floor makes a host that
 * goes from 1 KB to 50 KB stay near ln(F), so tiny absolute changes
 * never look like large multiples.
 *
 * A baseline is a location c and a scale s of y. It starts as the median
 * and the MAD (scaled to a standard deviation) of a learning sample, and
 * then follows the data as an exponentially weighted, Huber-clipped
 * estimate: each residual is clipped to 3 s before it moves c, so one
 * flood slot moves the baseline by at most 3 alpha s (robust like a
 * median, but in constant memory). The deviation of a new value is
 * z = (y - c) / max(s, s_min) robust deviations and its multiple of the
 * baseline is exp(y - c) = (x + F) / (b + F).
 *
 * Seasonal cells keep the same location and scale per hour of day and
 * hour of week, plus a slowly decaying peak: a nightly backup that
 * reached 5 GB per slot at 02:00 on earlier nights is normal at 02:00,
 * even though the typical level of that hour is lower.
 */
#ifndef NFH_VOLUMETRIC_BASELINE_H
#define NFH_VOLUMETRIC_BASELINE_H

#include <stddef.h>
#include <stdint.h>

/* A robust location and scale of y. */
typedef struct nfh__vol_stat {
  float c; /* location (median-like) */
  float s; /* scale: a robust standard deviation, 0 when unknown */
} nfh__vol_stat;

/* Sets st to the median and 1.4826 * MAD of ys[0..n) (n >= 1). The array
 * is reordered. Cannot fail. */
void nfh__vol_stat_from_sample(nfh__vol_stat *st, float *ys, size_t n);

/* Moves st towards y by weight alpha (0..1], the residual clipped to
 * 3 max(s, s_min). */
void nfh__vol_stat_update(nfh__vol_stat *st, float y, float alpha,
                          float s_min);

/* Seasonal cells: 24 hours of day, then 168 hours of week (Monday 00 UTC
 * first). Each holds NFH_VOL_SEASONAL metrics. */
#define NFH_VOL_SEASONAL 4
#define NFH_VOL_HOD_CELLS 24
#define NFH_VOL_HOW_CELLS 168
#define NFH_VOL_CELLS (NFH_VOL_HOD_CELLS + NFH_VOL_HOW_CELLS)

typedef struct nfh__vol_cell {
  float c[NFH_VOL_SEASONAL];
  float s[NFH_VOL_SEASONAL];
  float p[NFH_VOL_SEASONAL]; /* decaying peak of y */
  uint16_t n;                /* samples taken, saturating */
} nfh__vol_cell;

/* Adds one sample y[] to the cell: the first sample sets it, later ones
 * move it with weight max(alpha, 1/(n+1)) (an average while young, an
 * exponential average once old); the peak decays by peak_decay per
 * sample and jumps to any higher value. Metrics whose bit is set in
 * 'skip' are left alone (the caller judged them a flood, which must not
 * become part of the profile); if all are skipped, or any on a fresh
 * cell, nothing changes. */
void nfh__vol_cell_update(nfh__vol_cell *cell, const float *y,
                          unsigned skip, float alpha, float s_min,
                          float peak_decay);

/* The hour of day (0..23) and hour of week (0..167, Monday 00:00 UTC is
 * 0) of an epoch time in ms. */
unsigned nfh__vol_hour_of_day(uint64_t ms);
unsigned nfh__vol_hour_of_week(uint64_t ms);

/* Robust deviations of y from st, with the scale floored at s_min. */
static inline double nfh__vol_z(const nfh__vol_stat *st, double y,
                                double s_min) {
  double s = st->s > s_min ? st->s : s_min;
  return (y - st->c) / s;
}

#endif
