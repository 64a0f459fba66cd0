/*
 * fuzz_flows.c - libFuzzer harness for the engine and the detectors
 * over hostile flow records.
 *
 * A capture file that is damaged but still parses, or an exporter gone
 * wrong, can hand the engine any value in any field. Each input is read
 * as flow records of RECORD_BYTES bytes. Addresses and ports come from
 * small sets (home and outside, IPv4 and IPv6, multicast, broadcast, the
 * unspecified address; services and ephemeral ports), so that records
 * meet, pair and stitch; times move forward from a base by deltas, and
 * some jump anywhere (1970, the far future, backwards, ends before
 * starts); counters, TCP flags, sampling and two-way counters take edge
 * values. The records go through the engine in batches (normalising,
 * stitching, every detector, on one thread), with the home networks
 * guessed from them (nfhunt/homeguess.h), the run is finished, and
 * every finding's strings are read. The only acceptable outcomes are
 * statuses: no crash, no hang, no sanitizer report, no leak.
 *
 * The detectors are linked in statically, as for fuzz_state.c (each
 * entry renamed nfh_fuzz_entry_NAME by the build), and handed to the
 * engine as built-in detectors.
 *
 * Built by `make fuzz-flows` with clang -fsanitize=fuzzer,address,
 * undefined; tests/fuzz/replay.c runs the same entry point over
 * tests/fuzz/corpus-flows in `make check`.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nfhunt/engine.h>
#include <nfhunt/homeguess.h>
#include <nfhunt/plugin.h>

#include "../../plugin/detect/builtin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const nfh_plugin_descriptor *nfh_fuzz_entry_beacon(void);
const nfh_plugin_descriptor *nfh_fuzz_entry_exfil(void);
const nfh_plugin_descriptor *nfh_fuzz_entry_portscan(void);
const nfh_plugin_descriptor *nfh_fuzz_entry_volumetric(void);

static const struct {
  nfh_plugin_entry_fn entry;
  const char *origin;
} detectors[] = {
    {nfh_fuzz_entry_beacon, "builtin:beaconing"},
    {nfh_fuzz_entry_exfil, "builtin:exfiltration"},
    {nfh_fuzz_entry_portscan, "builtin:port_scan"},
    {nfh_fuzz_entry_volumetric, "builtin:volumetric"},
};

#define RECORD_BYTES 32
/* At most this many records an input: enough for tables to fill and
 * slots to close, few enough to keep an execution short. */
#define MAX_RECORDS 4096
#define BATCH 97
/* 2024-03-04 10:00 UTC. */
#define BASE_MS 1709546400000ull

static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void v4(nfh_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3) {
  nfh_addr_set_v4(a, (uint32_t)b0 << 24 | (uint32_t)b1 << 16 |
                         (uint32_t)b2 << 8 | b3);
}

static void v6(nfh_addr *a, uint8_t b0, uint8_t b1, uint8_t low) {
  uint8_t b[16] = {b0, b1, 0x0d, 0xb8};
  b[15] = low;
  nfh_addr_set_v6(a, b);
}

/* An address from a small set, so that records meet. */
static void pick_addr(nfh_addr *a, uint8_t sel, uint8_t low) {
  memset(a, 0, sizeof(*a));
  switch (sel % 12) {
  case 0:
    v4(a, 10, 0, 0, low & 63); /* a home LAN */
    break;
  case 1:
    v4(a, 10, 1, low >> 6, low); /* servers */
    break;
  case 2:
    v4(a, 192, 168, 1, low & 15);
    break;
  case 3:
    v4(a, 203, 0, 113, low & 31); /* outside */
    break;
  case 4:
    v4(a, 198, 51, (uint8_t)(100 + (low & 3)), low);
    break;
  case 5:
    v4(a, low, (uint8_t)(low * 7), 9, 9); /* anywhere */
    break;
  case 6:
    v6(a, 0x20, 0x01, low & 31); /* outside, IPv6 */
    break;
  case 7:
    v6(a, 0xfd, 0x00, low & 31); /* home, IPv6 */
    break;
  case 8:
    v4(a, 224, 0, 0, low);
    break;
  case 9:
    v4(a, 255, 255, 255, 255);
    break;
  case 10:
    v4(a, 0, 0, 0, 0);
    break;
  default:
    a->family = low & 1 ? 0 : 99; /* no address, or no family known */
    break;
  }
}

static uint16_t pick_port(uint8_t sel, uint8_t low, uint16_t raw) {
  static const uint16_t services[] = {22,   23,  53,  80,   123, 443,
                                      445,  500, 3389, 4500, 8080, 0};
  switch (sel % 4) {
  case 0:
  case 1:
    return services[low % (sizeof(services) / sizeof(services[0]))];
  case 2:
    return (uint16_t)(40000 + low); /* ephemeral */
  default:
    return raw;
  }
}

static uint64_t pick_count(uint8_t sel, uint32_t raw) {
  switch (sel % 8) {
  case 0:
    return 0;
  case 1:
    return 1;
  case 2:
    return raw % 16;
  case 3:
    return raw % 100000;
  case 4:
    return raw;
  case 5:
    return (uint64_t)raw << 24;
  case 6:
    return UINT64_MAX - (raw % 3);
  default:
    return raw % 1500 + 40;
  }
}

static uint32_t pick_sampling(uint8_t sel) {
  static const uint32_t values[] = {1, 1, 1, 1, 0, 10, 100, 4096, UINT32_MAX};
  return values[sel % (sizeof(values) / sizeof(values[0]))];
}

/* Decodes record r into f; *clock is the data time moving forward. */
static void decode(const uint8_t *r, nfh_flow *f, uint64_t *clock) {
  memset(f, 0, sizeof(*f));
  static const uint8_t protos[] = {6, 6, 6, 17, 17, 1, 58, 47, 50, 132};
  f->proto = r[0] < 240 ? protos[r[0] % sizeof(protos)] : r[0];
  f->tcp_flags = r[1];
  pick_addr(&f->src, r[2], r[3]);
  pick_addr(&f->dst, r[4], r[5]);
  f->src_port = pick_port(r[6] >> 4, r[6], u16(r + 8));
  f->dst_port = pick_port(r[6] & 15, r[7], u16(r + 8));
  if (f->proto == 1 || f->proto == 58) {
    f->icmp_type = r[7] % 16 == 0 ? 8 : r[7] % 16 == 1 ? 0 : r[7];
    f->icmp_code = r[8] & 7;
    f->src_port = 0;
    f->dst_port = (uint16_t)(f->icmp_type * 256 + f->icmp_code);
  }
  /* Time: a step forward (ms to minutes), or a jump anywhere. */
  uint32_t step = u32(r + 10);
  switch (r[14] % 16) {
  case 0:
    f->first_ms = (uint64_t)step * 1000; /* 1970 */
    break;
  case 1:
    f->first_ms = *clock + (uint64_t)step * 100000; /* far ahead */
    break;
  case 2:
    f->first_ms = *clock > step ? *clock - step : 0; /* backwards */
    break;
  default:
    *clock += step % (r[14] & 16 ? 600000u : 3000u);
    f->first_ms = *clock;
    break;
  }
  uint32_t dur = u16(r + 15);
  if (r[17] & 1)
    f->last_ms = f->first_ms > dur ? f->first_ms - dur : 0; /* ends first */
  else if (r[17] & 2)
    f->last_ms = f->first_ms + (uint64_t)dur * 60000;
  else
    f->last_ms = f->first_ms + dur % 5000;
  f->packets = pick_count(r[18], u32(r + 19));
  f->bytes = pick_count(r[23], u32(r + 19) * 61u);
  f->sampling = pick_sampling(r[24]);
  if (r[25] & 1)
    f->flags |= NFH_FLOW_SAMPLED;
  if (r[25] & 2) {
    f->flags |= NFH_FLOW_HAS_OUT;
    f->out_packets = pick_count(r[26], u32(r + 27));
    f->out_bytes = pick_count(r[26] >> 3, u32(r + 27) * 53u);
  }
  if (r[25] & 4) {
    /* A firewall's event: created, deleted, denied or another (0-7). */
    f->flags |= NFH_FLOW_EVENT;
    f->fw_event = (uint8_t)(r[31] >> 5);
  }
  f->aggr_flows = r[25] & 8 ? r[31] : 1;
  f->exporter_sysid = r[31] & 3;
  nfh_addr_set_v4(&f->exporter, 0x7f000001u + (r[31] & 3));
  f->router = f->exporter;
  f->biflow_dir = r[25] >> 6;
  f->nf_version = (uint8_t)(r[25] & 16 ? 10 : 9);
}

/* Reads a finding's strings, so that a bad one shows. */
static void touch(const nfh_report_finding *r) {
  const nfh_finding *f = &r->f;
  volatile size_t sink = strlen(f->type) + strlen(f->key) +
                         strlen(f->summary) +
                         (f->mitre ? strlen(f->mitre) : 0) +
                         (f->evidence_json ? strlen(f->evidence_json) : 0) +
                         strlen(r->id) + strlen(r->status);
  (void)sink;
}

static int engine_home(const nfh_addr *a, void *engine) {
  return nfh_engine_is_home(engine, a);
}

/* The home networks guessed from the records, as nfhunt guesses them when
 * none are given, join the engine's: every network named must be one the
 * engine takes, and the share covered a share. */
static void guess_home(nfh_engine *e, const nfh_flow *flows, size_t n) {
  nfh_homeguess *g = NULL;
  if (nfh_homeguess_create(n, &g) != NFH_OK)
    return;
  if (nfh_homeguess_add(g, flows, n) != n - nfh_homeguess_count(g))
    __builtin_trap();
  double dshare = nfh_homeguess_share(g, engine_home, e);
  const char *const *nets;
  size_t count;
  double share;
  if (!(dshare >= 0 && dshare <= 1))
    __builtin_trap();
  if (nfh_homeguess_infer(g, &nets, &count, &share) == NFH_OK) {
    if (count == 0 || count > 8 || !(share > 0 && share <= 1))
      __builtin_trap();
    for (size_t i = 0; i < count; i++)
      if (nfh_engine_add_home_net(e, nets[i]) != NFH_OK)
        __builtin_trap();
  }
  nfh_homeguess_destroy(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t n = size / RECORD_BYTES;
  if (n == 0)
    return 0;
  if (n > MAX_RECORDS)
    n = MAX_RECORDS;
  nfh_flow *flows = calloc(n, sizeof(nfh_flow));
  if (!flows)
    return 0;
  uint64_t clock = BASE_MS;
  for (size_t i = 0; i < n; i++)
    decode(data + i * RECORD_BYTES, &flows[i], &clock);

  nfh_engine_options o;
  memset(&o, 0, sizeof(o));
  o.serial = 1;
  nfh_engine *e = NULL;
  if (nfh_engine_create(&o, &e) != NFH_OK) {
    free(flows);
    return 0;
  }
  for (size_t k = 0; k < sizeof(detectors) / sizeof(detectors[0]); k++)
    if (nfh__engine_add_builtin(e, detectors[k].entry(),
                                detectors[k].origin) != NFH_OK)
      __builtin_trap(); /* the project's own descriptors must be taken */
  guess_home(e, flows, n);
  if (nfh_engine_start(e, NULL) == NFH_OK) {
    nfh_status st = NFH_OK;
    for (size_t off = 0; off < n && st == NFH_OK; off += BATCH)
      st = nfh_engine_add_flows(e, flows + off,
                                n - off < BATCH ? n - off : BATCH);
    if (st == NFH_OK && nfh_engine_finish(e, NULL) == NFH_OK) {
      size_t nf;
      const nfh_report_finding *r = nfh_engine_findings(e, &nf);
      for (size_t i = 0; i < nf; i++)
        touch(&r[i]);
    }
  }
  nfh_engine_destroy(e);
  free(flows);
  return 0;
}
