/*
 * nfhunt/finding.h - what a detector reports.
 *
 * A detector fills an nfh_finding on its stack and hands it to the host
 * (nfh_host_api.emit), which copies every field and string: nothing in it
 * needs to outlive the call.
 */
#ifndef NFHUNT_FINDING_H
#define NFHUNT_FINDING_H

#include <stdint.h>

#include <nfhunt/flow.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Severities, lowest first. Values are stable (stored in the state). */
typedef enum nfh_severity {
  NFH_SEV_INFO = 0,
  NFH_SEV_LOW = 1,
  NFH_SEV_MEDIUM = 2,
  NFH_SEV_HIGH = 3,
  NFH_SEV_CRITICAL = 4
} nfh_severity;

typedef struct nfh_finding {
  /* Report type: "port_scan", "beaconing", "exfiltration", "volumetric",
   * or a site detector's own word. Required. */
  const char *type;
  /* Stable identity of the activity across runs, unique within the
   * type, e.g. "h|10.1.2.3|tcp/445". A finding whose key was reported
   * before updates that finding (ongoing) instead of raising a new one.
   * Required. */
  const char *key;
  nfh_severity severity;
  /* 0..100: the ranking within and across detectors. The host moves a
   * score outside its severity's range (info 0-19.9, low 20-44.9, medium
   * 45-74.9, high 75-89.9, critical 90-100) to the range's nearest end. */
  double score;
  double confidence; /* 0..1: how sure; sampling and short history lower it */
  nfh_addr src;      /* main source host; family 0 when not one host */
  nfh_addr dst;      /* main destination host; family 0 when not one host */
  int32_t dst_port;  /* -1 when not one port */
  int16_t proto;     /* IP protocol, -1 when not one */
  uint64_t first_ms; /* activity span, epoch ms */
  uint64_t last_ms;
  /* MITRE ATT&CK technique ids, comma separated ("T1046"). */
  const char *mitre;
  /* One line a person reads. Required. */
  const char *summary;
  /* A JSON object with the evidence (counts, periods, byte totals...),
   * or NULL. Must parse as a JSON object or the finding is refused. */
  const char *evidence_json;
} nfh_finding;

/* "info", "low", "medium", "high", "critical"; "?" for other values. */
const char *nfh_severity_name(nfh_severity severity);

/* Parses a severity name; 0 and *out set, or -1. */
int nfh_severity_parse(const char *name, nfh_severity *out);

#ifdef __cplusplus
}
#endif
#endif
