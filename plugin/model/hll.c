/* hll.c - HyperLogLog distinct counting; see nfhunt/hll.h. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <nfhunt/hll.h>

#include "../common/alloc.h"

#define FORMAT_VERSION 1
#define HEADER_SIZE 4

struct nfh_hll {
  unsigned p;   /* precision: 2^p registers */
  uint32_t m;   /* number of registers */
  uint8_t *reg; /* register j: the longest run of leading zeros + 1 seen
                   in the hashes that fell into bucket j */
};

/* The finaliser of MurmurHash3/splitmix64: every input bit reaches every
 * output bit, which is what the register index and the zero runs need. */
static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

uint64_t nfh_hll_hash(const void *data, size_t len) {
  const uint8_t *p = data;
  const uint64_t k = 0x9e3779b97f4a7c15ull;
  uint64_t h = 0x2545f4914f6cdd1dull ^ ((uint64_t)len * k);
  while (len >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = mix64(h ^ (w * k)) * k;
    p += 8;
    len -= 8;
  }
  if (len) {
    uint64_t w = 0;
    /* Byte by byte so that the result does not depend on byte order. */
    for (size_t i = 0; i < len; i++)
      w |= (uint64_t)p[i] << (8 * i);
    h = mix64(h ^ (w * k)) * k;
  }
  return mix64(h);
}

nfh_status nfh_hll_create(unsigned precision, nfh_hll **out) {
  *out = NULL;
  if (precision < NFH_HLL_MIN_PRECISION || precision > NFH_HLL_MAX_PRECISION)
    return NFH_ERANGE;
  nfh_hll *h = nfh__malloc(sizeof(*h));
  if (!h)
    return NFH_ENOMEM;
  h->p = precision;
  h->m = 1u << precision;
  h->reg = nfh__calloc(h->m, 1);
  if (!h->reg) {
    nfh__free(h);
    return NFH_ENOMEM;
  }
  *out = h;
  return NFH_OK;
}

void nfh_hll_destroy(nfh_hll *h) {
  if (!h)
    return;
  nfh__free(h->reg);
  nfh__free(h);
}

void nfh_hll_clear(nfh_hll *h) { memset(h->reg, 0, h->m); }

unsigned nfh_hll_precision(const nfh_hll *h) { return h->p; }

int nfh_hll_add_hash(nfh_hll *h, uint64_t hash) {
  uint64_t x = mix64(hash);
  uint32_t j = (uint32_t)(x >> (64 - h->p));
  /* The remaining 64 - p bits, shifted to the top; a guard bit below
   * them bounds the run at 64 - p zeros. */
  uint64_t w = (x << h->p) | ((uint64_t)1 << (h->p - 1));
  uint8_t rho = (uint8_t)(__builtin_clzll(w) + 1);
  if (rho > h->reg[j]) {
    h->reg[j] = rho;
    return 1;
  }
  return 0;
}

int nfh_hll_add(nfh_hll *h, const void *data, size_t len) {
  return nfh_hll_add_hash(h, nfh_hll_hash(data, len));
}

/* 2^-r, exactly what ldexp(1.0, -r) gives for a register's value (at
 * most 65), built from the exponent bits: ldexp was a library call per
 * register, and a sketch of precision 16 has 65536 of them. */
static inline double pow2_neg(uint8_t r) {
  uint64_t bits = (uint64_t)(1023 - r) << 52;
  double d;
  memcpy(&d, &bits, sizeof(d));
  return d;
}

double nfh_hll_count(const nfh_hll *h) {
  double m = h->m, sum = 0;
  uint32_t zeros = 0;
  for (uint32_t j = 0; j < h->m; j++) {
    sum += pow2_neg(h->reg[j]);
    zeros += h->reg[j] == 0;
  }
  if (zeros == h->m)
    return 0;
  double alpha;
  switch (h->m) {
  case 16:
    alpha = 0.673;
    break;
  case 32:
    alpha = 0.697;
    break;
  case 64:
    alpha = 0.709;
    break;
  default:
    alpha = 0.7213 / (1.0 + 1.079 / m);
    break;
  }
  double e = alpha * m * m / sum;
  /* Small range: with empty registers left, linear counting is the
   * better estimate (Flajolet et al., section 4). With 64-bit hashes no
   * large-range correction is needed. */
  if (e <= 2.5 * m && zeros)
    e = m * log(m / zeros);
  return e;
}

nfh_status nfh_hll_merge(nfh_hll *dst, const nfh_hll *src) {
  if (dst->p != src->p)
    return NFH_EINVAL;
  for (uint32_t j = 0; j < dst->m; j++)
    if (src->reg[j] > dst->reg[j])
      dst->reg[j] = src->reg[j];
  return NFH_OK;
}

size_t nfh_hll_serialized_size(const nfh_hll *h) {
  return HEADER_SIZE + h->m;
}

nfh_status nfh_hll_serialize(const nfh_hll *h, void *buf, size_t len,
                             size_t *written) {
  *written = 0;
  if (len < nfh_hll_serialized_size(h))
    return NFH_ERANGE;
  uint8_t *b = buf;
  b[0] = 'H';
  b[1] = FORMAT_VERSION;
  b[2] = (uint8_t)h->p;
  b[3] = 0;
  memcpy(b + HEADER_SIZE, h->reg, h->m);
  *written = HEADER_SIZE + h->m;
  return NFH_OK;
}

nfh_status nfh_hll_deserialize(const void *data, size_t len, nfh_hll **out) {
  *out = NULL;
  const uint8_t *b = data;
  if (len < HEADER_SIZE || b[0] != 'H' || b[1] != FORMAT_VERSION ||
      b[2] < NFH_HLL_MIN_PRECISION || b[2] > NFH_HLL_MAX_PRECISION ||
      b[3] != 0 || len != HEADER_SIZE + ((size_t)1 << b[2]))
    return NFH_ECORRUPT;
  /* A register holds at most 64 - p + 1; more means foreign bytes. */
  for (size_t j = 0; j < len - HEADER_SIZE; j++)
    if (b[HEADER_SIZE + j] > 65 - b[2])
      return NFH_ECORRUPT;
  nfh_hll *h;
  nfh_status st = nfh_hll_create(b[2], &h);
  if (st != NFH_OK)
    return st;
  memcpy(h->reg, b + HEADER_SIZE, h->m);
  *out = h;
  return NFH_OK;
}
