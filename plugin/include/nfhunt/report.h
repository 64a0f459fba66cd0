/*
 * nfhunt/report.h - writing the findings for people and machines.
 *
 * JSON report (the --output file):
 *   { "tool": "nfhunt", "version": ..., "generated": ISO-8601 UTC,
 *     "window": {"start", "end"}, "inputs": {"files", "files_failed",
 *     "flows", "connections", "exporters", "sampling": {...}},
 *     "summary": {"findings", "by_type": {...}, "by_severity": {...}},
 *     "findings": [ ...sorted by score, descending... ] }
 * Each finding: id, type, severity, score, src, dst, dst_port, proto,
 * first_seen, last_seen, confidence, mitre[], summary, evidence, plus
 * status ("new"/"ongoing"), detector, times_seen, first_reported.
 */
#ifndef NFHUNT_REPORT_H
#define NFHUNT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <nfhunt/engine.h>
#include <nfhunt/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the run read, for the report's "inputs". */
typedef struct nfh_report_inputs {
  uint64_t files;
  uint64_t files_failed;
  uint64_t flows;
  uint64_t connections;
  uint64_t exporters;
  uint64_t sampled_flows;
  uint32_t max_sampling;
  uint64_t window_start_ms; /* data time span; 0 when no flow */
  uint64_t window_end_ms;
  uint64_t generated_ms; /* report time */
  /* The home networks the hunt ran with (CIDR strings, borrowed from the
   * caller; none: left out of the report) and where they came from:
   * "default", "given" (command line or configuration) or "inferred"
   * (read from the traffic: nfhunt/homeguess.h). */
  const char *const *home_nets;
  size_t nhome_nets;
  const char *home_nets_from;
  /* Files that look packet-sampled though their records carry no
   * sampling interval (most single-packet TCP records lack SYN, FIN and
   * RST), of the checked_files with enough TCP records to tell; 0 when
   * they are not most of them. unannounced_share: that share of single
   * middle packets in them. */
  uint64_t unannounced_files, checked_files;
  double unannounced_share;
  /* Flow records left out because another exporter had reported the
   * same packets (nfh_engine_stats.duplicate_flows); included in flows. */
  uint64_t duplicate_flows;
  /* Of files_failed, those read in part (a fault after some blocks):
   * they are in files too; the others were not read at all. */
  uint64_t files_partly;
} nfh_report_inputs;

/* Writes the JSON report to 'path' atomically: a temporary file in the
 * same directory, fsync, rename. Findings below min_severity are left
 * out. On failure 'path' is untouched and *error (a static or
 * thread-local string) says why. NFH_OK, NFH_EIO, NFH_ENOMEM. */
nfh_status nfh_report_write_json(const char *path,
                                 const nfh_report_finding *findings,
                                 size_t count, nfh_severity min_severity,
                                 const nfh_report_inputs *inputs,
                                 const char **error);

/* The same report to a stream (e.g. stdout). */
nfh_status nfh_report_print_json(FILE *out, const nfh_report_finding *findings,
                                 size_t count, nfh_severity min_severity,
                                 const nfh_report_inputs *inputs);

/* One finding per line (JSON objects), for SIEM ingestion. */
nfh_status nfh_report_print_ndjson(FILE *out,
                                   const nfh_report_finding *findings,
                                   size_t count, nfh_severity min_severity);

/* A prioritized summary for a terminal: a header, then one block per
 * finding (severity, score, summary, hosts, span), at most 'limit'
 * findings (0: all). */
nfh_status nfh_report_print_text(FILE *out,
                                 const nfh_report_finding *findings,
                                 size_t count, nfh_severity min_severity,
                                 const nfh_report_inputs *inputs,
                                 size_t limit);

/* Formats epoch ms as ISO 8601 UTC with milliseconds
 * ("2024-03-01T10:05:00.123Z") into buf (at least 32 bytes). */
char *nfh_format_iso8601(uint64_t ms, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
