/*
 * gen/rng.h - the generator's own pseudo-random numbers.
 *
 * nfhunt-gen must produce the same capture tree for the same seed on every
 * platform and libc, so it never calls rand(3) or random(3): this module
 * is xoshiro256** (Blackman and Vigna) seeded through splitmix64, plus the
 * few distributions the traffic model needs. Every generator owns its own
 * stream, derived from the run's seed and a stream number, so that adding
 * an activity does not shift the numbers any other activity draws.
 *
 * The state is a public struct because streams are embedded by value in
 * sessions and activities and copied freely; its fields are private.
 */
#ifndef NFH_GEN_RNG_H
#define NFH_GEN_RNG_H

#include <stdint.h>

typedef struct gen_rng {
  uint64_t s[4]; /* private */
} gen_rng;

/* Seeds 'r' from a 64-bit seed and a stream number: two different
 * (seed, stream) pairs give unrelated sequences. Never fails. */
void gen_rng_seed(gen_rng *r, uint64_t seed, uint64_t stream);

/* A new stream seeded from the next value of 'parent' (which advances by
 * one step). Used to give each session its own stream. */
gen_rng gen_rng_fork(gen_rng *parent);

/* The next 64 random bits. */
uint64_t gen_rng_next(gen_rng *r);

/* Uniform in [0, 1), 53 bits of precision. */
double gen_rng_uniform(gen_rng *r);

/* Uniform integer in [lo, hi] (both included); returns lo when hi <= lo.
 * Unbiased (Lemire's multiply-and-reject). */
uint64_t gen_rng_range(gen_rng *r, uint64_t lo, uint64_t hi);

/* True with probability p (p <= 0 never, p >= 1 always). */
int gen_rng_chance(gen_rng *r, double p);

/* Exponential with the given mean (> 0). */
double gen_rng_exp(gen_rng *r, double mean);

/* Standard normal (Box-Muller, one value per call). */
double gen_rng_normal(gen_rng *r);

/* Log-normal whose median is 'median' and whose log has std 'sigma'. */
double gen_rng_lognormal(gen_rng *r, double median, double sigma);

/* Pareto with scale xm (the minimum) and shape alpha: heavy-tailed, the
 * mean is finite only for alpha > 1. */
double gen_rng_pareto(gen_rng *r, double xm, double alpha);

/* Poisson with mean lambda >= 0: exact (Knuth's product) up to a mean of
 * 30, then a normal approximation rounded and clipped at zero; the error
 * of the approximation is far below the noise the traffic model wants. */
uint64_t gen_rng_poisson(gen_rng *r, double lambda);

/* Binomial(n, p): exact by inversion while n * p is small (below 30) or n
 * is at most 64, else a normal approximation clipped to [0, n]. This is
 * what packet sampling needs: 1-in-N thinning of a flow of n packets. */
uint64_t gen_rng_binomial(gen_rng *r, uint64_t n, double p);

/* Zipf-like rank in [0, n): rank k is drawn with weight about
 * 1 / (k + 1)^s, by inverting the continuous approximation. Gives the
 * "few very popular, many rare" shape of web destinations. */
uint64_t gen_rng_zipf(gen_rng *r, uint64_t n, double s);

/* A stateless 64-bit mix (splitmix64's finaliser): the same input always
 * gives the same output. Used to derive addresses and per-host traits
 * from an index without storing them. */
uint64_t gen_hash64(uint64_t x);

#endif
