/*
 * gen/session.h - one conversation between two hosts, and the flow
 * records a bidirectional exporter makes of it.
 *
 * An activity describes a conversation (client, server, ports, start,
 * duration, packets and bytes each way, and how it ends: answered,
 * refused, unanswered, ...). The exporter's view is what matters: it
 * keeps one cache entry per direction and exports a record when the
 * entry has been active for the active timeout (60 s by default) or idle
 * for the inactive timeout (15 s), so a 10-minute SSH session becomes
 * about ten request records and ten response records with the same
 * 5-tuple. gen_session_next() walks a session through those timeouts and
 * returns its records step by step, in time order, so that the engine
 * needs to keep only the sessions still running, never their records.
 *
 * A session is a plain struct: its public fields are set by the caller,
 * gen_session_start() prepares the private ones.
 */
#ifndef NFH_GEN_SESSION_H
#define NFH_GEN_SESSION_H

#include <stdint.h>

#include <nfhunt/flow.h>

#include "rng.h"

/* One flow record before it becomes an nfh_flow. Counters are what the
 * exporter counted: after sampling they are the sampled packets and
 * bytes, not yet scaled up (the engine's sink scales them, as nfcapd
 * does with an announced sampler). */
typedef struct gen_rec {
  uint64_t first_ms, last_ms;
  uint64_t packets, bytes;
  nfh_addr src, dst;
  uint64_t seq;      /* creation order: a stable sort key */
  uint32_t activity; /* the label the record counts for */
  uint16_t src_port;
  uint16_t dst_port; /* ICMP: type * 256 + code */
  uint8_t proto, tcp_flags, tos;
  uint8_t in_if, out_if; /* SNMP indices: 1 inside, 2 outside, 3 DMZ */
} gen_rec;

/* The exporter's cache timeouts. */
typedef struct gen_timeouts {
  uint32_t active_ms;   /* export a running entry after this long */
  uint32_t inactive_ms; /* export an entry idle for this long */
} gen_timeouts;

/* How a conversation goes, which fixes the records and their TCP flags
 * (S SYN, A ACK, P PSH, F FIN, R RST). */
typedef enum gen_outcome {
  GEN_TCP_OK,         /* handshake, data, FIN both ways: SAP(F) / SAP(F) */
  GEN_TCP_RESET,      /* established, then the server resets: .. / ..R */
  GEN_TCP_NOREPLY,    /* SYN (retries), nothing back: S / - */
  GEN_TCP_REFUSED,    /* closed port: S / RA */
  GEN_TCP_OPEN_PROBE, /* SYN scan of an open port: SR / SA */
  GEN_TCP_UNREACH,    /* filtered: S / ICMP unreachable (admin prohib.) */
  GEN_TCP_SYNFLOOD,   /* SYNs only; the victim answers some: S / SA */
  GEN_UDP_OK,         /* request and response */
  GEN_UDP_NOREPLY,    /* nothing back (also UDP floods) */
  GEN_UDP_UNREACH,    /* ICMP port unreachable back */
  GEN_ICMP_ECHO,      /* echo request, echo reply */
  GEN_ICMP_NOREPLY,   /* echo request only (also ICMP floods) */
} gen_outcome;

typedef struct gen_session {
  /* public: set before gen_session_start */
  nfh_addr client, server; /* same family */
  uint64_t start_ms;       /* the client's first packet */
  uint64_t duration_ms;    /* first to last packet (0: one instant) */
  uint64_t fwd_packets, fwd_bytes; /* client to server, whole session */
  uint64_t rev_packets, rev_bytes; /* server to client (0: no reply) */
  uint32_t idle_mean_ms; /* 0: packets flow continuously; else the mean
                            length of active periods, separated by idle
                            gaps longer than the inactive timeout */
  uint32_t activity;     /* label index */
  uint16_t client_port, server_port;
  uint16_t rtt_ms;  /* delay of the first answer */
  uint8_t proto;    /* 6, 17, 1 or 58 */
  uint8_t outcome;  /* gen_outcome */
  uint8_t tos;
  uint8_t in_if, out_if; /* interfaces of client-to-server records */
  /* private */
  gen_rng rng;
  uint64_t cur_ms, chunk_end_ms, end_ms;
  uint64_t left[4]; /* fwd packets, fwd bytes, rev packets, rev bytes */
  double carry[4];
  uint32_t step;
  uint8_t done, gaps;
} gen_session;

/* Clears 's' and sets the 5-tuple, outcome, start and label; the caller
 * then sets durations and counters. rtt_ms defaults to 20. */
void gen_session_init(gen_session *s, const nfh_addr *client,
                      uint16_t client_port, const nfh_addr *server,
                      uint16_t server_port, uint8_t proto, gen_outcome outcome,
                      uint64_t start_ms, uint32_t activity);

/* Prepares the private state. 'rng' seeds the session's own stream (for
 * idle gaps and cut jitter), so the records depend only on the session
 * and that stream. Counters are raised to what the outcome needs (a
 * completed TCP session has at least 3 packets each way, every packet
 * at least a header's size). */
void gen_session_start(gen_session *s, gen_rng *rng);

/* The next records of the session: writes 1 or 2 records (the request
 * record first, then the response, which for GEN_*_UNREACH is an ICMP
 * record from the server) and returns how many, or 0 when the session
 * has no more. Records come in time order of their first packet. */
int gen_session_next(gen_session *s, const gen_timeouts *t, gen_rec out[2]);

#endif
