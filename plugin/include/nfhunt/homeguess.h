/*
 * nfhunt/homeguess.h - which networks are "home", read from the traffic.
 *
 * Beaconing and exfiltration look at internal hosts talking out, and the
 * home networks say which hosts are internal. The defaults (RFC 1918 and
 * RFC 4193) fit most sites, but not a site numbered in public space (a
 * university, a capture from a research network): there no flow touches
 * the defaults, and the two detectors would stay silent without a word.
 *
 * A capture taken at a network's edge has an internal endpoint in almost
 * every flow. A guesser takes the endpoints of a sample of flows and
 * looks for the few networks that cover nearly all of them: first at
 * /16 (IPv6 /48) granularity, a greedy cover, so that one busy outside
 * service (a tenth of the flows to one cloud provider) does not outrank
 * a home spread over several subnets; then each network is narrowed to
 * the /24 (/64) inside it that holds nearly all the addresses seen in it,
 * if there is one. Where two networks are in nearly as many flows (a
 * capture of one pair of hosts), the one whose hosts open the flows is
 * taken: at an edge the inside opens most connections. Traffic seen in transit (an ISP's core), where no few networks
 * cover most flows, yields nothing: a guess is made only when it is
 * clear.
 *
 *   nfh_homeguess *g;
 *   nfh_homeguess_create(100000, &g);
 *   while (more flows && nfh_homeguess_add(g, flows, n) > 0) ...
 *   if (nfh_homeguess_share(g, in_home, ctx) < 0.5 &&
 *       nfh_homeguess_infer(g, &nets, &count, &share) == NFH_OK) ...
 *   nfh_homeguess_destroy(g);
 *
 * A guesser is not thread-safe; one used from one thread at a time needs
 * no locking.
 */
#ifndef NFHUNT_HOMEGUESS_H
#define NFHUNT_HOMEGUESS_H

#include <stddef.h>

#include <nfhunt/flow.h>
#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nfh_homeguess nfh_homeguess;

/* Fewest flows with usable endpoints a guess is made from. */
#define NFH_HOMEGUESS_MIN_FLOWS 100

/* Creates a guesser that keeps the endpoints of at most max_flows flows
 * (at least 1; 24 bytes each). NFH_OK, NFH_EINVAL or NFH_ENOMEM (*out is
 * then NULL). */
nfh_status nfh_homeguess_create(size_t max_flows, nfh_homeguess **out);

/* Frees the guesser and the networks it returned. NULL is a no-op. */
void nfh_homeguess_destroy(nfh_homeguess *g);

/* Takes the endpoints of flows[0..n-1] (the array stays the caller's),
 * until the guesser holds max_flows. Flows between two addresses that
 * belong to no network (multicast, broadcast, unspecified, link-local)
 * on both sides are skipped. Returns how many more flows it will take:
 * 0 once it is full. */
size_t nfh_homeguess_add(nfh_homeguess *g, const nfh_flow *flows, size_t n);

/* Flows held so far. */
size_t nfh_homeguess_count(const nfh_homeguess *g);

/* The share (0..1) of the flows held with an endpoint for which
 * in_home(addr, user) returns nonzero; 0 when none is held. The guesser
 * keeps an IPv6 address's top 64 bits only: in_home sees the rest as
 * zero (networks of /64 and wider, such as fc00::/7, are judged
 * exactly). */
double nfh_homeguess_share(const nfh_homeguess *g,
                           int (*in_home)(const nfh_addr *addr, void *user),
                           void *user);

/* Drops the flows held that have an endpoint for which in_home(addr,
 * user) returns nonzero (addresses as for nfh_homeguess_share), so that
 * a guess reads the rest: at a site numbered privately, the flows between
 * two public addresses, which at an edge hold the site's public side (a
 * DMZ, NAT addresses, a global IPv6 prefix). Returns the flows left; the
 * guesser then takes more again with nfh_homeguess_add. */
size_t nfh_homeguess_drop_home(nfh_homeguess *g,
                               int (*in_home)(const nfh_addr *addr,
                                              void *user),
                               void *user);

/* Guesses the home networks. NFH_OK: *nets points to *count CIDR strings
 * ("147.32.0.0/16", "2001:db8:5::/48"), owned by the guesser and valid
 * until the next call or its destruction, and *share is the share of
 * the flows held that they cover. NFH_ENOTFOUND: fewer than
 * NFH_HOMEGUESS_MIN_FLOWS flows, or no few networks (at most 8) cover 90%
 * of them. NFH_ENOMEM. */
nfh_status nfh_homeguess_infer(nfh_homeguess *g, const char *const **nets,
                               size_t *count, double *share);

#ifdef __cplusplus
}
#endif
#endif /* NFHUNT_HOMEGUESS_H */
