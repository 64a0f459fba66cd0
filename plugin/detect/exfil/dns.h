/*
 * dns.h - DNS tunnels: what an internal host asks one DNS server.
 *
 * A DNS tunnel (iodine, dnscat2, the DNS channels of C2 frameworks)
 * carries its data in the names it asks for, so its queries are long,
 * many and go to one server: the attacker's name server, or a resolver
 * on the way to it. Flow records cannot read the names, but they show
 * their length: a query's datagram is its IP and UDP headers, about 30
 * bytes of DNS header, question type and EDNS option, and the name. An
 * everyday name is 20 to 60 characters, so queries average 60 to 90 bytes
 * of DNS message; a tunnel fills its names towards the 253-character
 * limit and averages 120 to 250.
 *
 * Per (internal client, server) pair of UDP connections to port 53, this
 * table sums queries (the client's packets), their bytes and the
 * answers. It is bounded by max_pairs: when full, the half with the
 * fewest query bytes is dropped (a tunnel's pair grows fast and stays).
 */
#ifndef NFH_EXFIL_DNS_H
#define NFH_EXFIL_DNS_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/conn.h>

#include "map.h"
#include "params.h"

typedef struct nfh__exf_dns_pair {
  nfh__exf_key k;        /* a: the internal client, b: the DNS server */
  uint64_t queries;      /* the client's packets (scaled when sampled) */
  uint64_t query_bytes;  /* their bytes, IP and UDP headers included */
  uint64_t answers, answer_bytes;
  uint64_t first_ms, last_ms;
  uint32_t conns;
  uint32_t sampled;      /* of the connections, from sampled exporters */
  uint32_t max_sampling; /* 0 or 1 when none announced an interval */
  uint32_t unused;
} nfh__exf_dns_pair;

typedef struct nfh__exf_dns nfh__exf_dns;

/* An empty table of at most max_pairs pairs (at least 2); NULL when out
 * of memory. */
nfh__exf_dns *nfh__exf_dns_create(uint32_t max_pairs);

/* Frees the table. NULL is a no-op. */
void nfh__exf_dns_destroy(nfh__exf_dns *d);

/* Counts connection c (borrowed), whose client is internal and whose
 * server listens on UDP port 53. Returns 0, or -1 when memory runs out
 * (the table keeps what it had). */
int nfh__exf_dns_add(nfh__exf_dns *d, const nfh_conn *c);

/* The pairs, in no order; owned by the table and valid until the next
 * add. */
nfh__exf_dns_pair *nfh__exf_dns_pairs(nfh__exf_dns *d, size_t *n);

/* How many times the full table dropped its smaller half. */
uint32_t nfh__exf_dns_prunes(const nfh__exf_dns *d);

/* The verdict on one pair. */
typedef struct nfh__exf_dns_verdict {
  int severity;        /* nfh_severity, or -1: not a tunnel */
  int not_dns;         /* another protocol on the DNS port */
  double score, confidence;
  double mean_query;   /* mean DNS message bytes of a query */
  double mean_answer;  /* of an answer, 0 without answers */
  double header_bytes; /* IP and UDP headers of a datagram, taken off */
  uint64_t name_bytes; /* query bytes beyond everyday names: the most the
                          names could have carried */
  const char *reasons[6];
  size_t nreasons;
} nfh__exf_dns_verdict;

/* Judges pair p: a tunnel when it holds dns_min_queries queries or more
 * whose DNS messages average dns_query_bytes or more (and no more than a
 * query can hold), whose names hold dns_min_bytes or more, over a minute
 * or more at 400 a second at most (a session, not a burst), and, when
 * the exporter shows return traffic ('two_way'), at least half of them
 * answered: low, medium from dns_medium_bytes, high from
 * dns_high_bytes. 'alike' is how many internal clients (p's included)
 * send such queries to the same server: from dns_shared_clients on, it
 * is a service's lookups (anti-virus and reputation services encode
 * hashes in names) and at most low. */
void nfh__exf_dns_judge(const nfh__exf_params *P,
                        const nfh__exf_dns_pair *p, int two_way,
                        unsigned alike, nfh__exf_dns_verdict *v);

/* Whether pair p is another protocol on UDP port 53: datagrams bigger
 * on average than any DNS query (320 bytes of message), dns_min_queries
 * of them or more, at least half answered, dns_min_bytes of payload,
 * a session as for a tunnel;
 * only when the exporter shows return traffic ('two_way'), or a flood at
 * the port would pass. nfh__exf_dns_judge then makes it medium, high
 * from dns_high_bytes. */
int nfh__exf_dns_not_dns(const nfh__exf_params *P, const nfh__exf_dns_pair *p,
                         int two_way);

/* Whether pair p's queries are long enough on average for a tunnel (and
 * no longer than a query can be), whatever their number. */
int nfh__exf_dns_long_queries(const nfh__exf_params *P,
                              const nfh__exf_dns_pair *p);

/* Whether pair p passes the tests of nfh__exf_dns_judge, before any
 * ranking. */
int nfh__exf_dns_tunnel_like(const nfh__exf_params *P,
                             const nfh__exf_dns_pair *p, int two_way);

#endif
