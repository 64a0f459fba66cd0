/*
 * resolvers.h - the site's resolvers, learnt from one run's traffic:
 * internal servers that two internal clients or more sent DNS to.
 *
 * Their own DNS out is forwarding, not theirs: to beaconing a record
 * refreshed every TTL beats as an implant does, to port_scan an
 * upstream server that never answers (or a sampler that kept a query
 * and not its answer) is no scan's failure. Both detectors learn them
 * the same way; each is a module of its own, so the code is here,
 * inline, for both to include. A zeroed set is empty; it needs no
 * freeing.
 */
#ifndef NFH_DETECT_RESOLVERS_H
#define NFH_DETECT_RESOLVERS_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/hll.h>

#define NFH__RESOLVERS_MAX 64 /* a site has a handful; more are ignored */

typedef struct nfh__resolvers {
  struct {
    nfh_addr addr;
    uint32_t first_client; /* hash of the first client seen */
    int confirmed;         /* a second client was seen */
  } v[NFH__RESOLVERS_MAX];
  size_t n;
} nfh__resolvers;

/* Notes that internal client 'client' sent DNS to internal server
 * 'server'. */
static inline void nfh__resolvers_saw(nfh__resolvers *r,
                                      const nfh_addr *server,
                                      const nfh_addr *client) {
  uint32_t h = (uint32_t)nfh_hll_hash(client->bytes, 16);
  for (size_t i = 0; i < r->n; i++)
    if (nfh_addr_equal(&r->v[i].addr, server)) {
      r->v[i].confirmed |= r->v[i].first_client != h;
      return;
    }
  if (r->n == NFH__RESOLVERS_MAX)
    return;
  r->v[r->n].addr = *server;
  r->v[r->n].first_client = h;
  r->v[r->n].confirmed = 0;
  r->n++;
}

/* Whether a served DNS to two internal clients or more. */
static inline int nfh__resolvers_has(const nfh__resolvers *r,
                                     const nfh_addr *a) {
  for (size_t i = 0; i < r->n; i++)
    if (nfh_addr_equal(&r->v[i].addr, a))
      return r->v[i].confirmed;
  return 0;
}

#endif
