/*
 * gen/sample.h - 1-in-N packet sampling of generated flow records.
 *
 * A sampling exporter looks at one packet in N (randomly, RFC 5476's
 * "random n-out-of-N" in spirit) and builds its flow records from the
 * packets it saw: a record of p packets keeps k ~ Binomial(p, 1/N) of
 * them, and vanishes when k is 0. The exporter reports k packets and
 * their bytes; the collector (nfcapd, or nfhunt's writer here) multiplies
 * both by N. The estimate is unbiased: E[k * N] = p.
 *
 * The record's TCP flags are those of the sampled packets: SYN, FIN and
 * RST, which a session sends once, survive with probability k / p; ACK
 * and PSH, carried by most packets, stay. A record reduced to one packet
 * spans one instant, at a uniformly chosen point of the original span.
 */
#ifndef NFH_GEN_SAMPLE_H
#define NFH_GEN_SAMPLE_H

#include <stdint.h>

#include "rng.h"
#include "session.h"

/* Samples 'rec' in place with a 1-in-n rate (n >= 1; 1 keeps it as it
 * is). Returns 1 when the record survives (its packets and bytes are now
 * the sampled, unscaled counts), 0 when no packet was sampled and the
 * record must be dropped. */
int gen_sample_rec(gen_rng *r, uint32_t n, gen_rec *rec);

#endif
