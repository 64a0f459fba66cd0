/*
 * nfhunt/conn.h - stitched connections.
 *
 * Exporters cut one session into many flow records: one per direction,
 * and a new one each time the active timeout expires or the session
 * idles past the inactive timeout. Detectors that count contacts or
 * intervals must see sessions, not records, or a long SSH session looks
 * like a beacon and a bidirectional exporter doubles every count. The
 * engine therefore stitches records into nfh_conn values before scoring:
 * records of the same 5-tuple (either direction) whose start lies within
 * the inactive-timeout gap of the connection's end are one connection.
 * Handed to detectors in arrays, like nfh_flow: its layout is part of
 * the plugin ABI's major version (nfhunt/flow.h).
 */
#ifndef NFHUNT_CONN_H
#define NFHUNT_CONN_H

#include <stdint.h>

#include <nfhunt/flow.h>

#ifdef __cplusplus
extern "C" {
#endif

/* nfh_conn.flags */
#define NFH_CONN_REPLY 0x01u       /* traffic seen from responder to client */
#define NFH_CONN_CLIENT_HOME 0x02u /* client address is in the home network */
#define NFH_CONN_SERVER_HOME 0x04u /* server address is in the home network */
#define NFH_CONN_SAMPLED 0x08u     /* some record came from a sampled exporter */
#define NFH_CONN_RST 0x10u         /* a reset was seen (either direction) */
#define NFH_CONN_ESTABLISHED 0x20u /* TCP: handshake or data both ways seen */
/* No SYN (or the like) seen: the client by ports, or, between two high
 * ports, by which endpoint talks to several peers (nfhunt(1)). */
#define NFH_CONN_DIRECTION_GUESSED 0x40u
#define NFH_CONN_DENIED 0x80u /* a firewall's event record (NSEL) denied it */

typedef struct nfh_conn {
  uint64_t first_ms; /* first record's start */
  uint64_t last_ms;  /* latest record's end */
  nfh_addr client;   /* the side that opened the connection */
  nfh_addr server;
  uint16_t client_port; /* 0 for ICMP */
  uint16_t server_port; /* for ICMP: type * 256 + code of the request */
  uint8_t proto;
  uint8_t client_flags; /* TCP flags OR-ed over client->server records */
  uint8_t server_flags; /* TCP flags OR-ed over server->client records */
  uint8_t flags;        /* NFH_CONN_* */
  uint64_t client_packets; /* client -> server */
  uint64_t client_bytes;
  uint64_t server_packets; /* server -> client */
  uint64_t server_bytes;
  uint32_t records;  /* flow records merged into this connection */
  uint32_t sampling; /* largest 1-in-N interval of its records; 1 = none */
} nfh_conn;

#ifdef __cplusplus
}
#endif
#endif
