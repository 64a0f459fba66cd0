/*
 * nfhunt/jsonflow.h - flows from JSON files into nfhunt's flow model.
 *
 * Two layouts are read, plain or gzip-compressed (detected by content):
 *
 *  1. A JSON array of flow objects, or such objects one after another
 *     (JSON lines): [{"IPV4_SRC_ADDR": "10.0.0.1", "L4_DST_PORT": 443,
 *     "FIRST_SWITCHED": 1709294400, ...}, ...]. Times in these objects
 *     are absolute: a number below 10^11 is epoch seconds (fractions
 *     allowed), from 10^11 on epoch milliseconds; a string is ISO 8601
 *     (UTC unless it carries an offset).
 *
 *  2. What python-netflow's collector writes: one JSON object per line,
 *     {"<unix time>": {"client": [ip, port], "header": {...},
 *     "flows": [{...}, ...]}}. FIRST_SWITCHED/LAST_SWITCHED there are the
 *     exporter's uptime in ms, made absolute like nfcapd does:
 *     ms = header.timestamp * 1000 - (uint32)(header.uptime - switched).
 *     IPFIX flowStart/EndSysUpTime are relative to the exporter's
 *     systemInitTimeMilliseconds (options data in the same file).
 *     An object {"header": ..., "flows": [...]} is read the same way.
 *
 * Field names are NetFlow v9's (IPV4_SRC_ADDR, IPV6_DST_ADDR,
 * L4_SRC_PORT, PROTOCOL, IN_BYTES, IN_PKTS, OUT_BYTES, TCP_FLAGS, SRC_TOS,
 * ...), NetFlow v5's as python-netflow names them (SRC_PORT, PROTO,
 * IN_OCTETS, IN_PACKETS, ...) and IPFIX's (sourceIPv4Address,
 * destinationTransportPort, octetDeltaCount, flowStartMilliseconds, ...);
 * other names are ignored. Addresses are text or integers (IPv6 integers
 * beyond 64 bits included). Counters are scaled by a sampling interval
 * the record or the v5 header announces, as nfcapd would have done.
 *
 * An object without a source and a destination address is not a flow
 * (options data, for instance) and is counted, not reported. A flow
 * object with a bad value (a port of 70000, an address that does not
 * parse) is dropped and counted; the first such is described by
 * nfh_json_reader_warning. Malformed JSON ends the file with NFH_ESYNTAX
 * and an error naming the byte offset (in the decompressed data).
 */
#ifndef NFHUNT_JSONFLOW_H
#define NFHUNT_JSONFLOW_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nfh_json_reader nfh_json_reader;

/* What a reader has seen in the current file so far. */
typedef struct nfh_json_info {
  uint64_t flows;    /* flow records returned */
  uint64_t nonflows; /* objects without addresses (options data...) */
  uint64_t dropped;  /* flow objects with a bad value */
  uint64_t bytes;    /* bytes of JSON read (decompressed) */
  int gzip;          /* the file was gzip-compressed */
} nfh_json_info;

/* The largest single JSON value (one top-level object, or one element
 * of the top-level array) a reader accepts: NFH_ETOOBIG beyond it. */
#define NFH_JSON_MAX_VALUE (64u << 20)

/* Creates a reader. NFH_OK or NFH_ENOMEM (*out NULL). */
nfh_status nfh_json_reader_create(nfh_json_reader **out);

/* Closes any open file and frees the reader. NULL is a no-op. */
void nfh_json_reader_destroy(nfh_json_reader *reader);

/* Opens a file (path copied), closing any previous one. NFH_OK, or
 * NFH_EIO with nfh_json_reader_error naming the file and the cause. */
nfh_status nfh_json_reader_open(nfh_json_reader *reader, const char *path);

/* Reads from memory instead: 'data' is borrowed until the reader is
 * closed or reopened; 'name' (copied) is used in messages. Gzip data is
 * not recognised here. NFH_OK or NFH_ENOMEM. */
nfh_status nfh_json_reader_open_buffer(nfh_json_reader *reader,
                                       const char *name, const void *data,
                                       size_t len);

/* Returns the next batch of flows: *flows is borrowed until the next
 * call, close or destroy. NFH_OK with *n > 0; NFH_END at the end of the
 * file; NFH_ESYNTAX (malformed JSON), NFH_ETOOBIG (a value beyond
 * NFH_JSON_MAX_VALUE), NFH_EIO (read or decompression error) or
 * NFH_ENOMEM, each with nfh_json_reader_error set; after an error the
 * file yields nothing more. */
nfh_status nfh_json_reader_next(nfh_json_reader *reader, const nfh_flow **flows,
                                size_t *n);

/* "FILE: byte N: what" for the last failure; "" if none. Borrowed. */
const char *nfh_json_reader_error(const nfh_json_reader *reader);

/* The first dropped flow object, as "FILE: byte N: why"; "" if none. */
const char *nfh_json_reader_warning(const nfh_json_reader *reader);

/* Counters of the current (or last) file. Borrowed. */
const nfh_json_info *nfh_json_reader_info(const nfh_json_reader *reader);

/* Closes the current file; the reader can open another. */
void nfh_json_reader_close(nfh_json_reader *reader);

#ifdef __cplusplus
}
#endif
#endif
