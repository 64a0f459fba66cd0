/*
 * format.h - facts of the nfcapd file format that both the reader and
 * the writer need (nfdump's nffileV2.h, nfxV3.h and nfdump.h; see
 * NFCAPD-FORMAT.md): one definition, so that the two cannot drift apart.
 * Record types are in records.h.
 */
#ifndef NFH_NFCAPD_FORMAT_H
#define NFH_NFCAPD_FORMAT_H

/* File header: the magic, as stored little-endian and as a big-endian
 * machine wrote it. */
#define NFCAPD_MAGIC 0xA50C
#define NFCAPD_MAGIC_SWAPPED 0x0CA5
#define LAYOUT_VERSION_2 2
#define L2_HEADER_SIZE 40 /* layout 2 (nfdump 1.7) */

/* Data blocks: a 12-byte header, then records; the block's type says
 * which records. */
#define BLOCK_HEADER_SIZE 12
#define BLOCK_TYPE_1 1 /* nfdump 1.5: not supported by nfdump 1.7 either */
#define BLOCK_TYPE_2 2 /* 1.6 records */
#define BLOCK_TYPE_3 3 /* V3 records */

/* The stat record's payload: 18 u64 (stat_record_t). */
#define STAT_WORDS 18
#define STAT_RECORD_SIZE (4 + 8 * STAT_WORDS)

/* nfdump <= 1.7.7's ExporterInfo address families (Linux AF_INET/6):
 * the encoding nfdump 1.7.1 reads, and that 1.7.8 still converts. */
#define OLD_FAMILY_INET 2
#define OLD_FAMILY_INET6 10

/* V3 record: a 12-byte header, then elements, each with a 4-byte header
 * (type, length including the header). */
#define V3_HEADER_SIZE 12
#define V3_ELEMENT_HEADER_SIZE 4

/* V3 record flag bits. */
#define V3_FLAG_EVENT 0x01
#define V3_FLAG_SAMPLED 0x02
#define V3_FLAG_ANON 0x04

/* V3 element ids (extensionTable). */
enum {
  EX_GENERIC_FLOW = 1,
  EX_IPV4_FLOW = 2,
  EX_IPV6_FLOW = 3,
  EX_FLOW_MISC = 4,
  EX_CNT_FLOW = 5,
  EX_VLAN = 6,
  EX_AS_ROUTING = 7,
  EX_BGP_NEXT_HOP_V4 = 8,
  EX_BGP_NEXT_HOP_V6 = 9,
  EX_IP_NEXT_HOP_V4 = 10,
  EX_IP_NEXT_HOP_V6 = 11,
  EX_IP_RECEIVED_V4 = 12,
  EX_IP_RECEIVED_V6 = 13,
  EX_LATENCY = 17,
  EX_SAMPLER_INFO = 18,
  EX_NSEL_COMMON = 19,
  EX_NAT_XLATE_IPV4 = 20,
  EX_NAT_XLATE_IPV6 = 21,
  EX_NAT_XLATE_PORT = 22,
  EX_NAT_COMMON = 25,
  EX_LAYER2 = 38
};
/* nfdump 1.7 numbers its elements below 48; an id beyond this is damage
 * (or a format far newer), named as such when a record turns out
 * unusable. */
#define EX_KNOWN_MAX 63

/* Full lengths of the elements (header included) as nfdump 1.7 writes
 * them; the reader accepts longer ones (later versions add fields). */
#define LEN_GENERIC_FLOW 52
#define LEN_IPV4_FLOW 12
#define LEN_IPV6_FLOW 36
#define LEN_FLOW_MISC 20
#define LEN_CNT_FLOW 28
#define LEN_VLAN 12
#define LEN_AS_ROUTING 12
#define LEN_ADDR_V4 8
#define LEN_ADDR_V6 20
#define LEN_LATENCY 28
#define LEN_SAMPLER_INFO 20
#define LEN_NSEL_COMMON 20
#define LEN_NAT_XLATE_IPV4 12
#define LEN_NAT_XLATE_IPV6 36
#define LEN_NAT_XLATE_PORT 8
#define LEN_NAT_COMMON 20

#endif
