/*
 * stitch.h - turning flow records into connections (nfhunt/conn.h).
 *
 * Records are keyed by their unordered 5-tuple. A record joins the open
 * connection of its key when it starts no later than 'gap_ms' after the
 * connection's end (and a TCP SYN does not follow a finished session);
 * otherwise the open one is complete and a new one starts. Open
 * connections are emitted once data time (the latest record end seen)
 * is 'hold_ms' past their end, and all of them at flush.
 *
 * Memory is bounded by the connections open within hold_ms of data time,
 * not by the number of records.
 */
#ifndef NFH_MODEL_STITCH_H
#define NFH_MODEL_STITCH_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/conn.h>
#include <nfhunt/flow.h>
#include <nfhunt/status.h>

typedef struct nfh__stitcher nfh__stitcher;

/* Receives completed connections (borrowed for the call). A non-zero
 * return is passed back by the stitcher call that emitted them. */
typedef int (*nfh__conn_sink)(void *user, const nfh_conn *conns, size_t n);

/* NFH_OK or NFH_ENOMEM (*out NULL). */
nfh_status nfh__stitcher_create(uint64_t gap_ms, uint64_t hold_ms,
                                nfh__conn_sink sink, void *user,
                                nfh__stitcher **out);

void nfh__stitcher_destroy(nfh__stitcher *s);

/* Adds records (borrowed). May emit connections through the sink.
 *
 * A record that another exporter already reported (the same direction of
 * the same 5-tuple, within the time that exporter's records of it span,
 * give or take 2 s of clock difference) is left out: two routers on one
 * path each export every packet. When seen_twice is not NULL (n bytes,
 * owned by the caller), seen_twice[i] is set to 1 for such a record and
 * to 0 for the others, so that the caller can leave them out too.
 *
 * NFH_OK, NFH_ENOMEM, or NFH_EPLUGIN when the sink failed. */
nfh_status nfh__stitcher_add(nfh__stitcher *s, const nfh_flow *flows,
                             size_t n, uint8_t *seen_twice);

/* Emits every open connection. */
nfh_status nfh__stitcher_flush(nfh__stitcher *s);

/* Records left out so far because another exporter reported them. */
uint64_t nfh__stitcher_duplicates(const nfh__stitcher *s);

/* Connections open right now. */
size_t nfh__stitcher_open_count(const nfh__stitcher *s);

/* Latest record end seen (data time). */
uint64_t nfh__stitcher_data_time(const nfh__stitcher *s);

#endif
