/*
 * held.h - held-connection floods: one client holding a service's
 * connections open with next to no data (slowloris, slow POST, slow
 * read, sockstress).
 *
 * Such an attack exhausts the server's connection slots rather than its
 * link: it sends a few hundred bytes a minute and never shows in bytes,
 * packets or records per slot. What flow records do show is its shape:
 * every connection lasts (until the server's request timeout, or as long
 * as the tool keeps it), carries a trickle of small packets, and gets no
 * answer but acknowledgements; and one client has hundreds of them open
 * at once to one service, where a browser keeps six.
 *
 * Per (client, server, server port) of TCP connections that cross the
 * home boundary, this table sums the "stalled" ones: at least
 * min_seconds long, established by the client (three packets or more,
 * ACK seen), at most max_rate bytes a second each way beyond a
 * request's start from the client and, from the server, a 408 page on
 * plain HTTP or a TLS handshake (the certificate chain) elsewhere; the
 * server's bytes count beyond what its segments' headers weigh.
 * Only connections opened within the run count (their SYN seen): a
 * run that starts amid long sessions sees them cut, not opened. From
 * them it estimates how many the client held at once: the
 * connection-seconds divided by the span they cover. Connections of the
 * same key that are not stalled are counted too, so that a NAT gateway
 * whose users browse a site (idle keep-alive connections among pages
 * that were answered) is told from a client whose every connection
 * stalls.
 *
 * A key's connections are split into episodes where a new stalled
 * connection starts more than gap_ms after the last one ended; the
 * episode held the most at once is the key's. Sampled connections are
 * skipped: a sampled exporter misses most of a trickle's packets.
 *
 * Bounded by max_keys: when full, the half that held the least
 * connection time is dropped.
 */
#ifndef NFH_VOLUMETRIC_HELD_H
#define NFH_VOLUMETRIC_HELD_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/conn.h>

typedef struct nfh__vol_held_run {
  uint64_t first_ms, last_ms; /* of the stalled connections */
  double held_ms;             /* their durations, summed */
  uint32_t held;              /* stalled connections */
  uint32_t other;             /* the key's other connections meanwhile */
  uint64_t client_bytes, client_packets, server_bytes, server_packets;
  double server_data; /* the server's bytes beyond TCP/IP headers */
} nfh__vol_held_run;

typedef struct nfh__vol_held_result {
  nfh_addr client; /* family 0 when clients > 1 */
  nfh_addr server;
  uint16_t port;
  int client_home;       /* the clients are internal: an outbound attack */
  uint32_t clients;      /* 1, or the clients of a distributed one */
  nfh__vol_held_run run; /* the episode held the most at once (summed over
                          * the clients of a distributed one) */
  double concurrent;     /* held_ms over its span */
} nfh__vol_held_result;

typedef struct nfh__vol_held nfh__vol_held;

/* An empty table; NULL when out of memory. */
nfh__vol_held *nfh__vol_held_create(uint32_t max_keys, double min_seconds,
                                    double max_rate, uint64_t gap_ms);

/* Frees the table. NULL is a no-op. */
void nfh__vol_held_destroy(nfh__vol_held *h);

/* Counts connection c (borrowed) when it is TCP, unsampled and crosses
 * the home boundary (by its NFH_CONN_*_HOME flags). Returns 0, or -1
 * when memory runs out (the table keeps what it had). */
int nfh__vol_held_add(nfh__vol_held *h, const nfh_conn *c);

/* The keys whose best episode held at least min_concurrent connections
 * at once, and the services that min_clients clients or more held that
 * many at once together, each at least min_each (a distributed
 * slowloris; a browser holds six), for at least min_seconds, with at least share_min of the
 * key's connections stalled, and its stalled connections lasting at most
 * max_mean_seconds on average (a server's request timeout ends each of a
 * slowloris's within minutes and the tool opens the next; websockets and
 * MQTT sessions behind one NAT address stay open for hours) unless the
 * service is plain HTTP and its server sent nothing but
 * acknowledgements (a slowloris against a server without a request
 * timeout; a websocket's pings, TLS and MQTT's answers are data): written to a new array (the caller frees
 * it) in descending order of connections held at once; *n gets their
 * number. Returns NULL with *n = 0 when there are none or memory runs
 * out (then *failed is set). */
nfh__vol_held_result *nfh__vol_held_results(const nfh__vol_held *h,
                                            double min_concurrent,
                                            double min_each,
                                            unsigned min_clients,
                                            double share_min,
                                            double max_mean_seconds,
                                            size_t *n, int *failed);

/* How many times the full table dropped its smaller half. */
uint32_t nfh__vol_held_prunes(const nfh__vol_held *h);

#endif
