/*
 * gen/rng.c - xoshiro256** and the distributions of the traffic model.
 */
#include "config.h"

#include <math.h>

#include "rng.h"

/* splitmix64: a good seeder for xoshiro (its authors' advice), and as a
 * stateless finaliser a decent 64-bit hash. */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t gen_hash64(uint64_t x) { return splitmix64(&x); }

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

void gen_rng_seed(gen_rng *r, uint64_t seed, uint64_t stream) {
  /* Mixing the stream through its own splitmix step before combining
   * keeps (seed, stream) and (seed + 1, stream - 1) apart. */
  uint64_t x = seed ^ gen_hash64(stream + 0x5DEECE66DULL);
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
  /* xoshiro's only bad state is all zeros; splitmix64 cannot produce it
   * four times in a row, but make the invariant explicit. */
  if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
    r->s[0] = 1;
}

uint64_t gen_rng_next(gen_rng *r) {
  uint64_t *s = r->s;
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

gen_rng gen_rng_fork(gen_rng *parent) {
  gen_rng r;
  gen_rng_seed(&r, gen_rng_next(parent), 0x666F726BULL);
  return r;
}

double gen_rng_uniform(gen_rng *r) {
  return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t gen_rng_range(gen_rng *r, uint64_t lo, uint64_t hi) {
  if (hi <= lo)
    return lo;
  uint64_t span = hi - lo + 1;
  if (span == 0) /* the full 64-bit range */
    return gen_rng_next(r);
  /* Lemire: the high half of a 64x64 product, rejecting the few low
   * values that would bias the result. */
  unsigned __int128 m = (unsigned __int128)gen_rng_next(r) * span;
  uint64_t low = (uint64_t)m;
  if (low < span) {
    uint64_t threshold = -span % span;
    while (low < threshold) {
      m = (unsigned __int128)gen_rng_next(r) * span;
      low = (uint64_t)m;
    }
  }
  return lo + (uint64_t)(m >> 64);
}

int gen_rng_chance(gen_rng *r, double p) {
  if (p <= 0)
    return 0;
  if (p >= 1)
    return 1;
  return gen_rng_uniform(r) < p;
}

double gen_rng_exp(gen_rng *r, double mean) {
  /* 1 - u is in (0, 1], so the log is finite. */
  return -mean * log(1.0 - gen_rng_uniform(r));
}

double gen_rng_normal(gen_rng *r) {
  double u1 = 1.0 - gen_rng_uniform(r);
  double u2 = gen_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double gen_rng_lognormal(gen_rng *r, double median, double sigma) {
  return median * exp(sigma * gen_rng_normal(r));
}

double gen_rng_pareto(gen_rng *r, double xm, double alpha) {
  return xm / pow(1.0 - gen_rng_uniform(r), 1.0 / alpha);
}

uint64_t gen_rng_poisson(gen_rng *r, double lambda) {
  if (lambda <= 0)
    return 0;
  if (lambda < 30) {
    double limit = exp(-lambda), prod = gen_rng_uniform(r);
    uint64_t k = 0;
    while (prod > limit) {
      k++;
      prod *= gen_rng_uniform(r);
    }
    return k;
  }
  double v = lambda + sqrt(lambda) * gen_rng_normal(r) + 0.5;
  return v < 0 ? 0 : (uint64_t)v;
}

uint64_t gen_rng_binomial(gen_rng *r, uint64_t n, double p) {
  if (n == 0 || p <= 0)
    return 0;
  if (p >= 1)
    return n;
  double mean = (double)n * p;
  if (n <= 64) {
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++)
      k += gen_rng_uniform(r) < p;
    return k;
  }
  if (mean < 30) {
    /* Inversion: walk the pmf from 0 until the uniform is used up. The
     * pmf ratio keeps it to O(mean) steps. */
    double q = 1.0 - p, u = gen_rng_uniform(r);
    double pmf = exp((double)n * log(q)), cdf = pmf;
    uint64_t k = 0;
    while (u > cdf && k < n) {
      pmf *= (double)(n - k) / (double)(k + 1) * p / q;
      k++;
      cdf += pmf;
      if (pmf < 1e-300 && cdf < u) /* numerically exhausted */
        break;
    }
    return k;
  }
  double v = mean + sqrt(mean * (1.0 - p)) * gen_rng_normal(r) + 0.5;
  if (v < 0)
    return 0;
  return v > (double)n ? n : (uint64_t)v;
}

uint64_t gen_rng_zipf(gen_rng *r, uint64_t n, double s) {
  if (n <= 1)
    return 0;
  /* Inverse of the continuous CDF of x^-s on [1, n + 1). */
  double u = gen_rng_uniform(r), x;
  if (fabs(s - 1.0) < 1e-9) {
    x = exp(u * log((double)n + 1.0));
  } else {
    double a = 1.0 - s;
    double top = pow((double)n + 1.0, a);
    x = pow(1.0 + u * (top - 1.0), 1.0 / a);
  }
  uint64_t k = (uint64_t)x - 1;
  return k >= n ? n - 1 : k;
}
