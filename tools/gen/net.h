/*
 * gen/net.h - the address plan of a generated organisation.
 *
 * Inside: user hosts in one IPv4 prefix (plus, for dual-stack users, one
 * /64 of an IPv6 prefix), infrastructure servers in a second prefix, and a
 * DMZ holding the public servers. Outside: every external address is
 * derived from an index by hashing, never stored, and each role draws
 * from its own part of the IPv4 space (by first octet) so that the roles
 * can never share an address:
 *
 *   role                  first octets            examples
 *   GEN_EXT_POOL          1-99                    web servers, resolvers'
 *                                                 upstreams, web clients
 *   GEN_EXT_SERVICE       101-126                 SaaS, CDN, cloud, NTP
 *                                                 pool, backup, SSH hosts
 *   GEN_EXT_ATTACKER      130-183, 193-223        scanners, C2, exfil
 *                                                 sinks, flood peers
 *   GEN_EXT_IBR           184-191 (184.0.0.0/5)   background radiation
 *
 * with the reserved and private blocks (10/8, 100.64/10, 127/8,
 * 169.254/16, 172.16/12, 192.168/16, 198.18/15, the TEST-NETs) left out.
 * The generator's labels rely on this: an attacker's address appears in
 * no benign flow. The IPv6 counterparts are 2a00::/12-style prefixes of
 * their own (see net.c).
 */
#ifndef NFH_GEN_NET_H
#define NFH_GEN_NET_H

#include <stddef.h>
#include <stdint.h>

#include <nfhunt/flow.h>
#include <nfhunt/status.h>

/* A prefix: address and length. */
typedef struct gen_prefix {
  nfh_addr addr;
  unsigned len;
} gen_prefix;

/* Roles of external addresses (see the table above). */
typedef enum gen_ext_role {
  GEN_EXT_POOL,
  GEN_EXT_SERVICE,
  GEN_EXT_ATTACKER,
  GEN_EXT_IBR,
} gen_ext_role;

/* The plan. Public: the generators read it on every session. */
typedef struct gen_net {
  gen_prefix users;   /* IPv4 prefix of user hosts */
  gen_prefix servers; /* IPv4 prefix of internal servers */
  gen_prefix dmz;     /* IPv4 prefix of the DMZ (public servers) */
  gen_prefix v6;      /* IPv6 prefix: users' /64s and the DMZ's */
  uint32_t n_users;   /* user hosts in use */
  uint64_t salt;      /* from the seed: varies the external addresses */
} gen_net;

/* Parses "a.b.c.d/len" or "x:y::/len" into *p (host bits cleared).
 * Returns NFH_OK or NFH_EINVAL (bad text; *p untouched). */
nfh_status gen_prefix_parse(const char *text, gen_prefix *p);

/* Writes "a.b.c.d/len" into buf (NFH_ADDR_STRLEN + 4 bytes suffice). */
char *gen_prefix_format(const gen_prefix *p, char *buf, size_t len);

/* Whether 'a' lies in 'p'. */
int gen_prefix_contains(const gen_prefix *p, const nfh_addr *a);

/* Sets up a plan with the default prefixes (users 10.0.0.0/16, servers
 * 10.1.0.0/24, DMZ 198.51.100.0/24, IPv6 2001:db8:100::/48). */
void gen_net_defaults(gen_net *net);

/* Checks the plan: prefix families and sizes, users fitting into the
 * users prefix (250 per /24, so at most 64000 in a /16), prefixes not
 * overlapping. Returns NFH_OK or NFH_EINVAL with a reason in 'why'. */
nfh_status gen_net_check(const gen_net *net, char *why, size_t len);

/* Largest number of users the users prefix holds. */
uint32_t gen_net_max_users(const gen_net *net);

/* User host i (0 <= i < n_users): host .2-.251 of successive /24s. */
nfh_addr gen_net_user(const gen_net *net, uint32_t i);

/* The IPv6 address of user i (subnet 1 of the v6 prefix). Only users
 * with gen_net_dual_stack() true use it. */
nfh_addr gen_net_user6(const gen_net *net, uint32_t i);

/* Whether user i is dual-stack (a fixed trait, about 40% of users). */
int gen_net_dual_stack(const gen_net *net, uint32_t i);

/* A host of the users prefix no user has (.252-.254 of /24 number k):
 * rogue devices of injected internal activities. */
nfh_addr gen_net_rogue(const gen_net *net, uint32_t k);

/* Host number 'host' of the servers or DMZ prefix (1-254). */
nfh_addr gen_net_server(const gen_net *net, uint32_t host);
nfh_addr gen_net_dmz(const gen_net *net, uint32_t host);
/* The DMZ host's IPv6 address (subnet 0xd of the v6 prefix). */
nfh_addr gen_net_dmz6(const gen_net *net, uint32_t host);

/* Whether an address is inside the organisation (any of the prefixes). */
int gen_net_internal(const gen_net *net, const nfh_addr *a);

/* External address number 'index' of a role, IPv4 or (v6 != 0) IPv6.
 * 'space' separates independent sets within a role (a pool of web
 * servers versus a pool of resolvers' upstreams); the same arguments
 * always give the same address. */
nfh_addr gen_net_external(const gen_net *net, gen_ext_role role,
                          uint32_t space, uint64_t index, int v6);

/* Writes the smallest list of CIDR prefixes covering exactly the IPv4
 * range [first, last] (host order) into out (at most max entries of
 * NFH_ADDR_STRLEN + 4 bytes each). Returns the number written; when max
 * is too small the list is cut short and max is returned. */
size_t gen_range_cidrs(uint32_t first, uint32_t last, char (*out)[52],
                       size_t max);

#endif
