/*
 * gen/sample.c - binomial thinning of flow records.
 */
#include "config.h"

#include "sample.h"

int gen_sample_rec(gen_rng *r, uint32_t n, gen_rec *rec) {
  if (n <= 1)
    return 1;
  uint64_t p = rec->packets;
  uint64_t k = gen_rng_binomial(r, p, 1.0 / (double)n);
  if (k == 0)
    return 0;
  if (k < p) {
    /* Bytes of the sampled packets: the record's mean packet size
     * times k, never below one byte per packet. */
    uint64_t b = (uint64_t)((unsigned __int128)rec->bytes * k / p);
    rec->bytes = b < k ? k : b;
    /* In a record with ACKs, SYN, FIN and RST were one packet each; a
     * record without ACK (SYN retries, a scan's SYN and RST) has them
     * on every packet. */
    if (rec->tcp_flags & 0x10) {
      double keep = (double)k / (double)p;
      for (uint8_t bit = 1; bit <= 4; bit <<= 1)
        if ((rec->tcp_flags & bit) && !gen_rng_chance(r, keep))
          rec->tcp_flags &= (uint8_t)~bit;
    }
    if (k == 1) {
      uint64_t span = rec->last_ms - rec->first_ms;
      rec->first_ms += span ? gen_rng_range(r, 0, span) : 0;
      rec->last_ms = rec->first_ms;
    }
  }
  rec->packets = k;
  return 1;
}
