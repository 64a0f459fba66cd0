/*
 * gen/net.c - the address plan: internal hosts by number, external
 * addresses by role and index.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "rng.h"

/* First octets of each external IPv4 role; reserved and private /8s (and
 * /8s holding a reserved block) are absent. */
static const uint8_t pool_octets[] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  11, 12, 13, 14, 15, 16, 17, 18,
    19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
    36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
    53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69,
    70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86,
    87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99};
static const uint8_t service_octets[] = {101, 102, 103, 104, 105, 106, 107,
                                         108, 109, 110, 111, 112, 113, 114,
                                         115, 116, 117, 118, 119, 120, 121,
                                         122, 123, 124, 125, 126};
static const uint8_t attacker_octets[] = {
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143,
    144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157,
    158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 170, 171, 173,
    174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 193, 194, 195, 196,
    197, 199, 200, 201, 202, 204, 205, 206, 207, 208, 209, 210, 211, 212,
    213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223};
static const uint8_t ibr_octets[] = {184, 185, 186, 187, 188, 189, 190, 191};

/* First 16 bits of the IPv6 addresses of each role. */
static const uint16_t role6[] = {0x2a00, 0x2a10, 0x2a20, 0x2a30};

nfh_status gen_prefix_parse(const char *text, gen_prefix *p) {
  /* A network the scenario is laid out in: its prefix is written. */
  if (!strchr(text, '/') || nfh_cidr_parse(text, &p->addr, &p->len, NULL))
    return NFH_EINVAL;
  return NFH_OK;
}

char *gen_prefix_format(const gen_prefix *p, char *buf, size_t len) {
  char a[NFH_ADDR_STRLEN];
  snprintf(buf, len, "%s/%u", nfh_addr_format(&p->addr, a, sizeof(a)),
           p->len);
  return buf;
}

int gen_prefix_contains(const gen_prefix *p, const nfh_addr *a) {
  if (a->family != p->addr.family)
    return 0;
  if (a->family == 4) {
    /* The common case, on every session: one masked compare. */
    uint32_t mask = p->len ? ~0u << (32 - p->len) : 0;
    return ((nfh_addr_v4(a) ^ nfh_addr_v4(&p->addr)) & mask) == 0;
  }
  unsigned bits = (a->family == 4 ? 96 : 0) + p->len;
  for (unsigned i = 0; i < 16 && bits > i * 8; i++) {
    unsigned keep = bits - i * 8;
    uint8_t mask = keep >= 8 ? 0xFF : (uint8_t)(0xFF00u >> keep);
    if ((a->bytes[i] & mask) != (p->addr.bytes[i] & mask))
      return 0;
  }
  return 1;
}

void gen_net_defaults(gen_net *net) {
  memset(net, 0, sizeof(*net));
  gen_prefix_parse("10.0.0.0/16", &net->users);
  gen_prefix_parse("10.1.0.0/24", &net->servers);
  gen_prefix_parse("198.51.100.0/24", &net->dmz);
  gen_prefix_parse("2001:db8:100::/48", &net->v6);
  net->n_users = 500;
}

uint32_t gen_net_max_users(const gen_net *net) {
  if (net->users.addr.family != 4 || net->users.len > 24)
    return 0;
  uint64_t subnets = 1ULL << (24 - net->users.len);
  uint64_t n = subnets * 250;
  return n > 4000000000ULL ? 4000000000U : (uint32_t)n;
}

static int overlaps(const gen_prefix *a, const gen_prefix *b) {
  return gen_prefix_contains(a, &b->addr) || gen_prefix_contains(b, &a->addr);
}

nfh_status gen_net_check(const gen_net *net, char *why, size_t len) {
  if (net->users.addr.family != 4 || net->users.len > 24) {
    snprintf(why, len, "the users prefix must be IPv4, /24 or larger");
    return NFH_EINVAL;
  }
  if (net->servers.addr.family != 4 || net->servers.len > 24) {
    snprintf(why, len, "the servers prefix must be IPv4, /24 or larger");
    return NFH_EINVAL;
  }
  if (net->dmz.addr.family != 4 || net->dmz.len > 24) {
    snprintf(why, len, "the DMZ prefix must be IPv4, /24 or larger");
    return NFH_EINVAL;
  }
  if (net->v6.addr.family != 6 || net->v6.len > 56) {
    snprintf(why, len, "the IPv6 prefix must be IPv6, /56 or larger");
    return NFH_EINVAL;
  }
  if (overlaps(&net->users, &net->servers) ||
      overlaps(&net->users, &net->dmz) || overlaps(&net->servers, &net->dmz)) {
    snprintf(why, len, "the users, servers and DMZ prefixes overlap");
    return NFH_EINVAL;
  }
  if (net->n_users == 0 || net->n_users > gen_net_max_users(net)) {
    snprintf(why, len, "%u users do not fit: 1 to %u for this prefix",
             net->n_users, gen_net_max_users(net));
    return NFH_EINVAL;
  }
  return NFH_OK;
}

static nfh_addr v4_plus(const gen_prefix *p, uint32_t offset) {
  nfh_addr a;
  nfh_addr_set_v4(&a, nfh_addr_v4(&p->addr) + offset);
  return a;
}

nfh_addr gen_net_user(const gen_net *net, uint32_t i) {
  return v4_plus(&net->users, (i / 250) * 256 + i % 250 + 2);
}

int gen_net_dual_stack(const gen_net *net, uint32_t i) {
  return gen_hash64(net->salt ^ (0xD5ULL << 40) ^ i) % 100 < 40;
}

nfh_addr gen_net_user6(const gen_net *net, uint32_t i) {
  nfh_addr a = net->v6.addr;
  a.bytes[7] |= 1; /* subnet 1 */
  uint64_t iid = 0x0200000000000000ULL | gen_hash64(net->salt ^ i) >> 8;
  for (int k = 0; k < 8; k++)
    a.bytes[8 + k] = (uint8_t)(iid >> (56 - 8 * k));
  return a;
}

nfh_addr gen_net_rogue(const gen_net *net, uint32_t k) {
  uint32_t subnets = 1u << (24 - net->users.len);
  return v4_plus(&net->users, (k / 3 % subnets) * 256 + 252 + k % 3);
}

nfh_addr gen_net_server(const gen_net *net, uint32_t host) {
  return v4_plus(&net->servers, host);
}

nfh_addr gen_net_dmz(const gen_net *net, uint32_t host) {
  return v4_plus(&net->dmz, host);
}

nfh_addr gen_net_dmz6(const gen_net *net, uint32_t host) {
  nfh_addr a = net->v6.addr;
  a.bytes[7] |= 0xd;
  a.bytes[14] = (uint8_t)(host >> 8);
  a.bytes[15] = (uint8_t)host;
  return a;
}

int gen_net_internal(const gen_net *net, const nfh_addr *a) {
  return gen_prefix_contains(&net->users, a) ||
         gen_prefix_contains(&net->servers, a) ||
         gen_prefix_contains(&net->dmz, a) || gen_prefix_contains(&net->v6, a);
}

/* A keyed bijection of 32-bit values: each step (xor with a constant,
 * xor-shift, multiplication by an odd number) is invertible, so distinct
 * inputs give distinct outputs. */
static uint32_t perm32(uint32_t x, uint32_t key) {
  x ^= key;
  x ^= x >> 16;
  x *= 0x7FEB352DU;
  x ^= x >> 15;
  x *= 0x846CA68BU;
  x ^= x >> 16;
  return x + (key >> 7);
}

nfh_addr gen_net_external(const gen_net *net, gen_ext_role role,
                          uint32_t space, uint64_t index, int v6) {
  nfh_addr a;
  if (v6) {
    uint64_t h = gen_hash64(net->salt ^ ((uint64_t)role << 56) ^
                            ((uint64_t)space << 40) ^ index);
    uint64_t h2 = gen_hash64(h ^ 0x6666);
    uint8_t b[16];
    b[0] = (uint8_t)(role6[role] >> 8);
    b[1] = (uint8_t)role6[role];
    for (int k = 0; k < 6; k++)
      b[2 + k] = (uint8_t)(h >> (8 * k));
    for (int k = 0; k < 8; k++)
      b[8 + k] = (uint8_t)(h2 >> (8 * k));
    nfh_addr_set_v6(&a, b);
    return a;
  }
  const uint8_t *oct = pool_octets;
  size_t n = sizeof(pool_octets);
  switch (role) {
  case GEN_EXT_POOL:
    oct = pool_octets, n = sizeof(pool_octets);
    break;
  case GEN_EXT_SERVICE:
    oct = service_octets, n = sizeof(service_octets);
    break;
  case GEN_EXT_ATTACKER:
    oct = attacker_octets, n = sizeof(attacker_octets);
    break;
  case GEN_EXT_IBR:
    oct = ibr_octets, n = sizeof(ibr_octets);
    break;
  }
  /* Cycle-walking the bijection over [0, n * 2^24) maps distinct
   * (space, index) pairs of one role to distinct addresses: an
   * injected activity's hosts never collide with another's. */
  uint64_t domain = (uint64_t)n << 24;
  uint32_t key = (uint32_t)gen_hash64(net->salt ^ (0xE7ULL << 32) ^ role);
  uint32_t id = (uint32_t)(((uint64_t)(space & 0xFFF) << 20 |
                            (index & 0xFFFFF)) %
                           domain);
  uint32_t x = id;
  for (int guard = 0; guard < 1000000; guard++) {
    x = perm32(x, key);
    if (x >= domain)
      continue;
    uint32_t v4 = (uint32_t)oct[x >> 24] << 24 | (x & 0xFFFFFF);
    nfh_addr_set_v4(&a, v4);
    /* A DMZ configured in public space: skip its addresses (the only
     * case where injectivity could break, see net.h). */
    if (!gen_net_internal(net, &a))
      return a;
  }
  nfh_addr_set_v4(&a, (uint32_t)oct[0] << 24 | (id & 0xFFFFFF));
  return a;
}

size_t gen_range_cidrs(uint32_t first, uint32_t last, char (*out)[52],
                       size_t max) {
  size_t n = 0;
  uint64_t cur = first, end = (uint64_t)last + 1;
  while (cur < end && n < max) {
    /* The largest aligned block starting at cur that fits. */
    unsigned len = 32;
    while (len > 0) {
      uint64_t size = 1ULL << (33 - len);
      if ((cur & (size - 1)) != 0 || cur + size > end)
        break;
      len--;
    }
    uint32_t a = (uint32_t)cur;
    snprintf(out[n++], 52, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255,
             (a >> 8) & 255, a & 255, len);
    cur += 1ULL << (32 - len);
  }
  return n;
}
