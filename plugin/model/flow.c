/* flow.c - address helpers of the flow model; see nfhunt/flow.h. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/flow.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0xff, 0xff};

void nfh_addr_set_v4(nfh_addr *addr, uint32_t host_order) {
  memset(addr, 0, sizeof(*addr));
  memcpy(addr->bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix));
  addr->bytes[12] = (uint8_t)(host_order >> 24);
  addr->bytes[13] = (uint8_t)(host_order >> 16);
  addr->bytes[14] = (uint8_t)(host_order >> 8);
  addr->bytes[15] = (uint8_t)host_order;
  addr->family = 4;
}

void nfh_addr_set_v6(nfh_addr *addr, const uint8_t bytes[16]) {
  memcpy(addr->bytes, bytes, 16);
  addr->family = 6;
}

uint32_t nfh_addr_v4(const nfh_addr *addr) {
  if (addr->family != 4)
    return 0;
  return (uint32_t)addr->bytes[12] << 24 | (uint32_t)addr->bytes[13] << 16 |
         (uint32_t)addr->bytes[14] << 8 | addr->bytes[15];
}

char *nfh_addr_format(const nfh_addr *addr, char *buf, size_t len) {
  if (len == 0)
    return buf;
  buf[0] = '\0';
  if (addr->family == 4) {
    /* inet_ntop on the last four bytes; glibc's output for IPv6 follows
     * RFC 5952 (lower case, longest zero run compressed). */
    if (!inet_ntop(AF_INET, addr->bytes + 12, buf, (socklen_t)len))
      buf[0] = '\0';
  } else if (addr->family == 6) {
    if (!inet_ntop(AF_INET6, addr->bytes, buf, (socklen_t)len))
      buf[0] = '\0';
  }
  return buf;
}

int nfh_addr_parse(const char *text, nfh_addr *addr) {
  uint8_t raw[16];
  memset(addr, 0, sizeof(*addr));
  if (inet_pton(AF_INET, text, raw) == 1) {
    nfh_addr_set_v4(addr, (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
                              (uint32_t)raw[2] << 8 | raw[3]);
    return 0;
  }
  if (inet_pton(AF_INET6, text, raw) == 1) {
    nfh_addr_set_v6(addr, raw);
    return 0;
  }
  return -1;
}

/* The first 8 of 'p' as a big-endian number: comparing two of them
 * orders as memcmp(3) does. */
static uint64_t be64_at(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);
#elif !defined(__BYTE_ORDER__)
  v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
#endif
  return v;
}

/* Two words rather than memcmp(3): the stitcher orders the endpoints of
 * every record, and the call cost more than the comparison. */
int nfh_addr_nat64(const nfh_addr *addr, nfh_addr *v4) {
  static const uint8_t prefix[12] = {0x00, 0x64, 0xff, 0x9b};
  if (addr->family != 6 || memcmp(addr->bytes, prefix, 12) != 0)
    return 0;
  if (v4) {
    const uint8_t *b = addr->bytes + 12;
    nfh_addr_set_v4(v4, (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                            (uint32_t)b[2] << 8 | b[3]);
  }
  return 1;
}

nfh_addr nfh_addr_network(const nfh_addr *addr, unsigned bits) {
  nfh_addr n = *addr;
  unsigned first, width; /* where the family's bits start, how many */
  if (addr->family == 4)
    first = 96, width = 32;
  else if (addr->family == 6)
    first = 0, width = 128;
  else
    return n;
  if (bits >= width)
    return n;
  for (unsigned bit = first + bits; bit < 128; bit++)
    n.bytes[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
  return n;
}

nfh_status nfh_cidr_parse(const char *text, nfh_addr *net, unsigned *bits,
                          int *host_bits) {
  char addr_text[64];
  const char *slash = strchr(text, '/');
  size_t len = slash ? (size_t)(slash - text) : strlen(text);
  if (len >= sizeof(addr_text))
    return NFH_ESYNTAX;
  memcpy(addr_text, text, len);
  addr_text[len] = '\0';
  nfh_addr a;
  if (nfh_addr_parse(addr_text, &a) != 0)
    return NFH_ESYNTAX;
  unsigned width = a.family == 4 ? 32 : 128;
  unsigned long prefix = width;
  if (slash) {
    /* Digits only: strtoul(3) would take a sign or blanks. */
    const char *d = slash + 1;
    if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 3)
      return NFH_ESYNTAX;
    prefix = strtoul(d, NULL, 10);
    if (prefix > width)
      return NFH_ESYNTAX;
  }
  *net = nfh_addr_network(&a, (unsigned)prefix);
  *bits = (unsigned)prefix;
  if (host_bits)
    *host_bits = !nfh_addr_equal(&a, net);
  return NFH_OK;
}

nfh_status nfh_cidr_port_parse(const char *text, nfh_addr *net, unsigned *bits,
                               int *port, int *host_bits) {
  char buf[96];
  if (strlen(text) >= sizeof(buf))
    return NFH_ESYNTAX;
  strcpy(buf, text);
  char *cidr = buf, *port_text = NULL;
  if (buf[0] == '[') {
    char *close = strchr(buf, ']');
    if (!close)
      return NFH_ESYNTAX;
    *close = '\0';
    cidr = buf + 1;
    if (close[1] == ':')
      port_text = close + 2;
    else if (close[1])
      return NFH_ESYNTAX;
  } else {
    char *colon = strchr(buf, ':');
    /* One colon: IPv4 with a port; more: a bare IPv6 address/CIDR. */
    if (colon && !strchr(colon + 1, ':')) {
      *colon = '\0';
      port_text = colon + 1;
    }
  }
  *port = -1;
  if (port_text) {
    if (!*port_text || strspn(port_text, "0123456789") != strlen(port_text) ||
        strlen(port_text) > 5)
      return NFH_ESYNTAX;
    unsigned long p = strtoul(port_text, NULL, 10);
    if (p > 65535)
      return NFH_ESYNTAX;
    *port = (int)p;
  }
  return nfh_cidr_parse(cidr, net, bits, host_bits);
}

char *nfh_addr_format_port(const nfh_addr *addr, unsigned port, char *buf,
                           size_t len) {
  char a[NFH_ADDR_STRLEN];
  nfh_addr_format(addr, a, sizeof(a));
  snprintf(buf, len, addr->family == 6 ? "[%s]:%u" : "%s:%u", a, port);
  return buf;
}

int nfh_addr_is_unicast(const nfh_addr *addr) {
  const uint8_t *b = addr->bytes;
  if (addr->family == 4) {
    uint8_t o = b[12];
    return o != 0 && o != 127 && o < 224 && !(o == 169 && b[13] == 254);
  }
  if (addr->family != 6)
    return 0;
  if (b[0] == 0xff)
    return 0; /* multicast */
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
    return 0; /* link-local */
  static const uint8_t zero[15] = {0};
  return memcmp(b, zero, 15) != 0; /* :: and ::1 */
}

int nfh_addr_compare(const nfh_addr *a, const nfh_addr *b) {
  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  uint64_t x = be64_at(a->bytes), y = be64_at(b->bytes);
  if (x == y) {
    x = be64_at(a->bytes + 8);
    y = be64_at(b->bytes + 8);
  }
  return x < y ? -1 : x > y;
}
