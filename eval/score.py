#!/usr/bin/python3
"""Score nfhunt's findings against nfhunt-gen's labels (stdlib only).

Each scenario directory holds what eval/run-eval.sh left there:
  labels.json     nfhunt-gen's labels (the ground truth)
  report.json     nfhunt's report (absent when the hunt failed)
  hunt.status     one line: "ok" or why there is no report
  detectors.txt   detectors nfhunt loaded, one per line (absent: unknown)
  scenario.txt    one line describing the scenario
  hours.tsv       hour-by-hour (cron) scenarios only: one line per hourly
                  run, "N HOUR FILES EXIT SECONDS FINDINGS"; report.json is
                  then the hourly reports merged (--merge)

Matching rule (also in eval/README.md):
  A finding matches an injected activity when
    1. its type is the activity's detector (port_scan: horizontal,
       vertical and distributed scans; beaconing: beacons; exfiltration:
       bulk and slow exfiltration; volumetric: inbound and outbound
       floods);
    2. their hosts overlap: one of the finding's addresses (src, dst) is
       one of the activity's distinctive hosts (label match.hosts: the
       scanner, the sources, the C2 server, the exfiltration sink, the
       flood victim outside), or the finding names one address only and
       it is among the activity's src or dst (addresses or prefixes, so
       a flood finding naming only the victim matches). A finding that
       names neither src nor dst (a distributed scan, a network-wide
       surge) is judged by the addresses its evidence lists (e.g.
       sample_sources) against the distinctive hosts, and when it lists
       none, by its dst_port against the activity's ports;
    3. their times overlap: [first_seen, last_seen] of the finding meets
       [first, last] of the activity's records, with one slot (300 s) of
       slack on each side.
  An injected activity is found when at least one finding matches it
  (more findings on it are not false alarms). An activity that put no
  record into the files (cut off, sampled away) is not counted.
  Every other finding is a false alarm, counted by severity, and traced
  to the benign trap whose distinctive hosts (match.hosts) it names; a
  false alarm on another detector's injected activity is traced to that
  activity's kind ("other attack"); the rest are "unattributed".
  A detector is "missing" in a scenario without a report or whose
  detector list lacks it; its row shows "missing" when it is missing in
  every scenario, and counts only the scenarios where it ran otherwise.

  An activity found only by findings below medium is listed as such
  ("found below medium") beside the misses.

Merge rule (--merge, for the hour-by-hour scenarios): the hourly reports
of one state are merged into one report of the same shape. A finding id
that several hourly reports carry (the state keeps it, the later ones say
"ongoing") is one finding: it keeps the fields of its highest severity
(then highest score) and the union of its time spans (earliest
first_seen, latest last_seen), plus "hours", the reports that carried it.

Usage: score.py [--json OUT.json] [--title TEXT] SCENARIO_DIR...
       score.py --merge OUT.json HOURLY_REPORT.json...
Prints the table; exit status 0 (also when everything is missing), 2 on
unreadable labels (or, with --merge, an unreadable report).
"""

import argparse
import calendar
import ipaddress
import json
import os
import sys
import time

DETECTORS = ("port_scan", "beaconing", "exfiltration", "volumetric")
SEVERITIES = ("critical", "high", "medium", "low", "info")
SLACK_MS = 300 * 1000


def parse_time(text):
    """ISO 8601 UTC ("2024-03-04T08:25:00.000Z", with or without
    fraction) -> epoch ms; None when absent or unreadable."""
    if not text:
        return None
    t = str(text).rstrip("Z")
    frac = 0
    if "." in t:
        t, f = t.split(".", 1)
        frac = int((f + "000")[:3])
    try:
        return calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%S")) * 1000 \
            + frac
    except ValueError:
        return None


class HostSet:
    """Addresses and prefixes, for overlap tests."""

    def __init__(self, items):
        self.exact, self.nets = set(), []
        for text in items or []:
            try:
                if "/" in text:
                    self.nets.append(ipaddress.ip_network(text, strict=False))
                else:
                    self.exact.add(ipaddress.ip_address(text))
            except ValueError:
                pass

    def __contains__(self, addr):
        if addr in self.exact:
            return True
        return any(addr.version == n.version and addr in n for n in self.nets)


def evidence_addrs(ev):
    """IP addresses in a finding's evidence: string values and lists of
    strings, one level deep."""
    found = []
    if not isinstance(ev, dict):
        return found
    for v in ev.values():
        for x in (v if isinstance(v, list) else [v]):
            if isinstance(x, str):
                a = addr(x)
                if a is not None:
                    found.append(a)
    return found


def addr(text):
    if not text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class Activity:
    def __init__(self, a):
        self.a = a
        self.name = a["name"]
        self.kind = a["kind"]
        self.detector = a.get("detector")
        self.injected = a.get("class") == "injected"
        self.flows = a.get("flows", 0)
        self.first = a.get("first_ms")
        self.last = a.get("last_ms")
        m = a.get("match") or {}
        self.distinct = HostSet(m.get("hosts"))
        self.any = HostSet((a.get("src") or []) + (a.get("dst") or []))
        self.ports = set(a.get("dst_ports") or [])
        self.found_by = []
        self.best_sev = None

    def overlaps_hosts(self, hosts, evidence=(), port=None):
        if hosts:
            if any(h in self.distinct for h in hosts):
                return True
            return len(hosts) == 1 and hosts[0] in self.any
        if evidence:
            return any(h in self.distinct for h in evidence)
        return port is not None and port in self.ports

    def overlaps_time(self, first, last):
        if self.first is None:
            return False
        if first is None and last is None:
            return False
        first = first if first is not None else last
        last = last if last is not None else first
        return first - SLACK_MS <= self.last and last + SLACK_MS >= self.first


def score_scenario(path):
    """Returns a dict with the scenario's results."""
    res = {"dir": path, "name": os.path.basename(path.rstrip("/"))}
    try:
        with open(os.path.join(path, "labels.json")) as f:
            labels = json.load(f)
    except (OSError, ValueError) as e:
        res["error"] = "labels: %s" % e
        return res
    try:
        with open(os.path.join(path, "scenario.txt")) as f:
            res["description"] = f.read().strip()
    except OSError:
        res["description"] = ""
    res["flows"] = labels.get("totals", {}).get("flows", 0)
    res["sampling"] = labels.get("sampling", 1)
    acts = [Activity(a) for a in labels.get("activities", [])]
    injected = [a for a in acts if a.injected and a.flows > 0]
    res["not_in_data"] = [a.name for a in acts if a.injected and a.flows == 0]
    benign = [a for a in acts if not a.injected]

    status = "no status"
    try:
        with open(os.path.join(path, "hunt.status")) as f:
            status = f.read().strip() or "no status"
    except OSError:
        pass
    report = None
    if status == "ok":
        try:
            with open(os.path.join(path, "report.json")) as f:
                report = json.load(f)
            if not isinstance(report.get("findings"), list):
                report, status = None, "report without a findings list"
        except (OSError, ValueError, AttributeError) as e:
            report, status = None, "unreadable report: %s" % e
    res["status"] = status
    loaded = None
    try:
        with open(os.path.join(path, "detectors.txt")) as f:
            loaded = {line.strip() for line in f if line.strip()}
    except OSError:
        pass
    present = {d: report is not None and (loaded is None or d in loaded)
               for d in DETECTORS}
    res["present"] = present

    per = {d: {"injected": 0, "found": 0, "missed": [], "low_found": [],
               "findings": 0,
               "fa": {s: 0 for s in SEVERITIES}, "traps": {},
               "kinds": {}} for d in DETECTORS}
    for a in injected:
        if a.detector in per:
            per[a.detector]["injected"] += 1
    if report is not None:
        for f in report["findings"]:
            t = f.get("type")
            if t not in per:
                continue
            p = per[t]
            p["findings"] += 1
            hosts = [h for h in (addr(f.get("src")), addr(f.get("dst")))
                     if h is not None]
            ev = [] if hosts else evidence_addrs(f.get("evidence"))
            port = f.get("dst_port")
            first = parse_time(f.get("first_seen"))
            last = parse_time(f.get("last_seen"))
            hit = [a for a in injected if a.detector == t
                   and a.overlaps_hosts(hosts, ev, port)
                   and a.overlaps_time(first, last)]
            for a in hit:
                a.found_by.append(f.get("id"))
                sev = f.get("severity", "info")
                if a.best_sev is None or sev_rank(sev) > sev_rank(a.best_sev):
                    a.best_sev = sev
            if hit:
                continue
            sev = f.get("severity", "info")
            p["fa"][sev if sev in p["fa"] else "info"] += 1
            trap = None
            for a in injected:
                if a.detector != t and a.overlaps_hosts(hosts, ev) \
                        and a.overlaps_time(first, last):
                    trap = "other attack: %s" % a.kind
                    break
            if trap is None:
                for a in benign:
                    if any(h in a.distinct for h in hosts or ev):
                        trap = a.kind
                        break
            trap = trap or "unattributed"
            p["traps"][trap] = p["traps"].get(trap, 0) + 1
    for a in injected:
        if a.detector not in per:
            continue
        p = per[a.detector]
        k = p["kinds"].setdefault(a.kind, [0, 0])
        k[0] += 1
        if a.found_by:
            p["found"] += 1
            k[1] += 1
            if sev_rank(a.best_sev) < sev_rank("medium"):
                p["low_found"].append("%s (%s)" % (a.name, a.best_sev))
        else:
            p["missed"].append(a.name)
    res["detectors"] = per
    res["hourly"] = hourly_stats(path, report)
    return res


def sev_rank(sev):
    """Higher for more severe; unknown severities rank as info."""
    return len(SEVERITIES) - (SEVERITIES.index(sev) if sev in SEVERITIES
                              else len(SEVERITIES) - 1)


def merge_reports(paths):
    """Hourly reports -> one report of the same shape (merge rule in the
    module's docstring). Raises OSError/ValueError on an unreadable one."""
    merged = {}
    order = []
    last = {}
    window = [None, None]
    inputs = {"files": 0, "files_failed": 0, "flows": 0, "connections": 0}
    for p in paths:
        with open(p) as f:
            r = json.load(f)
        if not isinstance(r.get("findings"), list):
            raise ValueError("%s: no findings list" % p)
        last = r
        w = r.get("window") or {}
        for i, k in ((0, "start"), (1, "end")):
            t = parse_time(w.get(k))
            if t is not None and (window[i] is None or
                                  (t < window[i] if i == 0 else t > window[i])):
                window[i] = t
        for k in inputs:
            inputs[k] += (r.get("inputs") or {}).get(k, 0) or 0
        label = os.path.splitext(os.path.basename(p))[0]
        for f in r["findings"]:
            fid = f.get("id") or "%s|%s|%s|%s" % (
                f.get("type"), f.get("key"), f.get("src"), f.get("dst"))
            cur = merged.get(fid)
            if cur is None:
                cur = dict(f)
                cur["hours"] = []
                merged[fid] = cur
                order.append(fid)
            elif (sev_rank(f.get("severity")), f.get("score") or 0) > \
                    (sev_rank(cur.get("severity")), cur.get("score") or 0):
                keep = {k: cur[k] for k in ("first_seen", "last_seen",
                                            "hours", "status") if k in cur}
                cur.clear()
                cur.update(f)
                cur.update(keep)
            # Union of the time spans.
            for k, better in (("first_seen", min), ("last_seen", max)):
                a, b = parse_time(cur.get(k)), parse_time(f.get(k))
                if b is not None and (a is None or better(a, b) == b):
                    cur[k] = f[k]
            cur["hours"].append(label)
    findings = sorted((merged[i] for i in order),
                      key=lambda f: -(f.get("score") or 0))
    by_type, by_sev = {}, {s: 0 for s in SEVERITIES}
    for f in findings:
        by_type[f.get("type")] = by_type.get(f.get("type"), 0) + 1
        sev = f.get("severity")
        by_sev[sev if sev in by_sev else "info"] += 1

    def iso(ms):
        if ms is None:
            return None
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) \
            + ".%03dZ" % (ms % 1000)
    return {"tool": last.get("tool"), "version": last.get("version"),
            "generated": last.get("generated"),
            "merged_from": len(paths),
            "window": {"start": iso(window[0]), "end": iso(window[1])},
            "inputs": inputs,
            "summary": {"findings": len(findings), "by_type": by_type,
                        "by_severity": by_sev},
            "findings": findings}


def hourly_stats(path, report):
    """Per-hour run times and the distinct findings of an hour-by-hour
    scenario (hours.tsv beside the labels), or None for other ones."""
    try:
        with open(os.path.join(path, "hours.tsv")) as f:
            rows = [line.split() for line in f if line.strip()]
    except OSError:
        return None
    secs = sorted(float(r[4]) for r in rows if len(r) >= 5)
    failed = [r[1] for r in rows if len(r) >= 4 and r[3] not in ("0", "1")]
    # A run per capture file (nfcapd -x) names the file's stamp, not
    # its hour (YYYYMMDDhh).
    per_file = any(len(r) >= 2 and len(r[1]) > 10 for r in rows)
    st = {"runs": len(rows), "per_file": per_file, "failed_hours": failed,
          "seconds_median": None, "seconds_max": None}
    if secs:
        n = len(secs)
        st["seconds_median"] = (secs[(n - 1) // 2] + secs[n // 2]) / 2
        st["seconds_max"] = secs[-1]
    if report is not None:
        by = {s: 0 for s in SEVERITIES}
        for f in report["findings"]:
            sev = f.get("severity")
            by[sev if sev in by else "info"] += 1
        st["distinct_findings"] = len(report["findings"])
        st["by_severity"] = by
    return st


def fmt_row(cells, widths):
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                     for i, (c, w) in enumerate(zip(cells, widths)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="+")
    ap.add_argument("--json")
    ap.add_argument("--title", default="nfhunt-gen evaluation")
    ap.add_argument("--merge", metavar="OUT.json",
                    help="merge the hourly reports given instead of "
                    "scenario directories into OUT.json and exit")
    args = ap.parse_args()
    if args.merge:
        try:
            merged = merge_reports(args.scenarios)
        except (OSError, ValueError, AttributeError) as e:
            print("score.py: --merge: %s" % e, file=sys.stderr)
            return 2
        tmp = args.merge + ".tmp"
        with open(tmp, "w") as f:
            json.dump(merged, f, indent=1)
        os.replace(tmp, args.merge)
        return 0
    results = [score_scenario(p) for p in args.scenarios]
    bad = [r for r in results if "error" in r]
    for r in bad:
        print("error: %s: %s" % (r["name"], r["error"]))
    results = [r for r in results if "error" not in r]
    if not results:
        return 2

    print("%s: %d scenarios, %d flow records"
          % (args.title, len(results), sum(r["flows"] for r in results)))
    nw = max([12] + [len(r["name"]) for r in results])
    for r in results:
        print("  %-*s %s%s; hunt: %s" % (
            nw, r["name"], r["description"],
            "" if r["sampling"] == 1 else " (sampled 1:%d)" % r["sampling"],
            r["status"]))
        h = r["hourly"]
        if h is None:
            continue
        line = "  %-*s %d %s" % (nw, "", h["runs"],
                                 "runs, a file each" if h.get("per_file")
                                 else "hourly runs")
        if h["seconds_median"] is not None:
            line += ", %.2f s median, %.2f s max" % (h["seconds_median"],
                                                     h["seconds_max"])
        if h["failed_hours"]:
            line += ", failed: %s" % " ".join(h["failed_hours"])
        if "distinct_findings" in h:
            line += "; %d distinct findings (%s crit/high/med/low/info)" % (
                h["distinct_findings"],
                "/".join(str(h["by_severity"][s]) for s in SEVERITIES))
        print(line)
    print()
    widths = (13, 8, 5, 6, 6, 38, 8)
    print(fmt_row(("detector", "injected", "found", "missed", "recall",
                   "false alarms crit/high/med/low/info", "findings"),
                  widths))
    table = {}
    for d in DETECTORS:
        ran = [r for r in results if r["present"][d]]
        injected = sum(r["detectors"][d]["injected"] for r in results)
        if not ran:
            table[d] = {"status": "missing", "injected": injected}
            print(fmt_row((d, injected, "-", "-", "-", "missing", "-"),
                          widths))
            continue
        inj = sum(r["detectors"][d]["injected"] for r in ran)
        found = sum(r["detectors"][d]["found"] for r in ran)
        fa = {s: sum(r["detectors"][d]["fa"][s] for r in ran)
              for s in SEVERITIES}
        total = sum(r["detectors"][d]["findings"] for r in ran)
        recall = "%.2f" % (found / inj) if inj else "-"
        partial = "" if len(ran) == len(results) else \
            " (%d of %d scenarios)" % (len(ran), len(results))
        print(fmt_row((d, inj, found, inj - found, recall,
                       "/".join(str(fa[s]) for s in SEVERITIES) + partial,
                       total), widths))
        table[d] = {"status": "ran", "scenarios": len(ran),
                    "injected": inj, "found": found, "missed": inj - found,
                    "false_alarms": fa, "findings": total}

    print()
    print("per kind (found/injected), misses and false alarms by trap:")
    for d in DETECTORS:
        ran = [r for r in results if r["present"][d]]
        if not ran:
            print("  %-13s missing: no report from it%s" % (
                d, "" if any(r["status"] == "ok" for r in results)
                else " (no hunt report at all)"))
            continue
        kinds = {}
        traps = {}
        missed = []
        low_found = []
        for r in ran:
            dd = r["detectors"][d]
            for k, (n, f) in dd["kinds"].items():
                kk = kinds.setdefault(k, [0, 0])
                kk[0] += n
                kk[1] += f
            for t, n in dd["traps"].items():
                traps[t] = traps.get(t, 0) + n
            missed += ["%s/%s" % (r["name"], m) for m in dd["missed"]]
            low_found += ["%s/%s" % (r["name"], m) for m in dd["low_found"]]
        print("  %-13s %s" % (d, ", ".join(
            "%s %d/%d" % (k, f, n) for k, (n, f) in sorted(kinds.items()))
            or "nothing injected"))
        if missed:
            print("  %-13s missed: %s" % ("", ", ".join(missed)))
        if low_found:
            print("  %-13s found below medium: %s" % ("",
                                                      ", ".join(low_found)))
        if traps:
            print("  %-13s false alarms: %s" % ("", ", ".join(
                "%s %d" % kv for kv in sorted(traps.items(),
                                              key=lambda kv: -kv[1]))))
        table[d]["kinds"] = kinds
        table[d]["traps"] = traps
        table[d]["missed_activities"] = missed
        table[d]["found_below_medium"] = low_found
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"detectors": table, "scenarios": [
                {k: v for k, v in r.items() if k != "detectors"}
                for r in results]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
