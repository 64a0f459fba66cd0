#!/bin/bash
# run-eval.sh - detection quality of nfhunt on nfhunt-gen's scenarios.
#
# usage: eval/run-eval.sh [OUTDIR]     (normally through `make eval`)
#
# Generates a fixed set of labelled scenarios (several seeds, one sampled,
# one with stealthier attacks; a few hours each) into OUTDIR/<name>/tree,
# runs the hunt over each,
#   nfhunt -R tree --output report.json [--no-state] [--plugin-dir DIR]
#          [--home-net the scenario's prefixes] [--alert-level info]
# (the optional flags only when nfhunt --help lists them), and prints the
# table of eval/score.py: per detector, the activities injected, found,
# missed, false alarms by severity, findings in all, then per kind and
# per trap. The matching rule is in eval/README.md and score.py.
#
# Then the hour-by-hour scenarios (a few days each), run the way cron
# runs nfhunt: their files are hard-linked into OUTDIR/<name>/stage one
# clock hour at a time, in time order and in the tree's sub-directories,
# and after each hour
#   nfhunt -R stage --since last --state stage/.nfhunt.state
#          --output hours/hour-NN.json [--plugin-dir, --home-net as above]
#          --alert-level info
# runs with the one state; the hourly reports are merged (score.py
# --merge: one finding per id, its highest severity, the union of its
# time spans) into OUTDIR/<name>/report.json and scored in a second table,
# with the run time per hour (OUTDIR/<name>/hours.tsv). A scenario whose
# options hold @ROT@ is run the way nfcapd -x runs nfhunt: a run per
# capture file instead of per hour, the same way otherwise, in the same
# table.
#
# A scenario's tree is reused while the generator and its options are the
# same (OUTDIR/<name>/stamp). When nfhunt has no --output, fails, or
# writes no report, its detectors show as "missing"; that is not an
# error: the script exits 0 unless generating a scenario failed (1).
#
# Environment: NFHUNT_GEN, NFHUNT (the programs; default: the build
# tree's), NFH_PLUGIN_DIR (detector modules), PYTHON3, EVAL_JOBS
# (scenarios in parallel, default 2), EVAL_HUNT_TIMEOUT (seconds per
# hunt, and per hourly run, default 900), EVAL_CRON (0: skip the
# hour-by-hour scenarios).

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${1:-eval-data}
GEN=${NFHUNT_GEN:-$top/tools/nfhunt-gen}
NFHUNT=${NFHUNT:-$top/tools/nfhunt}
PLUGINS=${NFH_PLUGIN_DIR:-$top/plugins}
PY=${PYTHON3:-/usr/bin/python3}
[ -n "$PY" ] && [ -x "$PY" ] || PY=$(command -v python3 || echo /usr/bin/python3)
JOBS=${EVAL_JOBS:-2}
HUNT_TIMEOUT=${EVAL_HUNT_TIMEOUT:-900}
CRON=${EVAL_CRON:-1}

if [ ! -x "$GEN" ]; then
	echo "eval: $GEN not built (make first)" >&2
	exit 1
fi
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)

# Local time is UTC for every scenario: the diurnal curve, the backup
# hour and the file names follow it.
export TZ=UTC

# name|options|description
scenarios=(
	"weekday|-b 2024-03-04T08:00Z -d 6h -u 300 -s 101|Monday 08:00-14:00, default attacks"
	"night|-b 2024-03-05T20:00Z -d 8h -u 300 -s 202|Tuesday 20:00-04:00, nightly backups, default attacks"
	"weekend|-b 2024-03-09T10:00Z -d 6h -u 300 -s 303|Saturday 10:00-16:00, default attacks"
	"sampled|-b 2024-03-06T09:00Z -d 6h -u 300 -s 404 --sampling 100|Wednesday 09:00-15:00, default attacks"
	"stealth|-b 2024-03-07T06:00Z -d 8h -u 300 -s 505 -f @STEALTH@|Thursday 06:00-14:00, slow and quiet attacks"
	"smallsite|-b 2024-03-05T00:00Z -d 6h -u 80 -s 31|Tuesday 00:00-06:00, a site of 80 users at night, default attacks"
)

stealth=$out/stealth.scenario
cat >"$stealth" <<'EOF'
# Slower, quieter and more varied than the default mix.
horizontal_scan src=internal speed=slow port=445 targets=50-150
vertical_scan src=external speed=slow ports=100-300
distributed_scan sources=30-80 targets=100-200 duration=2h-4h
beacon count=2 period=10m-30m jitter=20-40 missed=5-10 duration=5h-7h
beacon proto=udp period=1m-2m jitter=30-45 duration=4h-6h
slow_exfiltration rate=5M-15M duration=4h-6h
bulk_exfiltration size=300M-800M duration=20m-40m
inbound_flood variant=udp sources=50-100 pps=500-2000
outbound_flood variant=syn pps=1000-3000 duration=2m-5m
dns_tunnel rate=1-2 bytes_out=150-200 duration=2h-4h
inbound_flood variant=http sources=1-3 rate=60-120 duration=5m-10m
inbound_flood variant=slowloris duration=10m-30m
inbound_flood variant=slowloris sources=5-10 conns=20-40 duration=10m-20m
c2_session duration=5h-7h
beacon count=3 c2=shared period=5m-15m jitter=10-20 duration=4h-6h
EOF

# Hour by hour, one state, as an hourly cron job runs nfhunt over a few
# days of captures: name|options|description. Only the hourly runs; no
# whole-tree hunt of these (eval/README.md says how to compare).
cron_scenarios=(
	"cron3d|-b 2024-03-04T00:00Z -d 3d -u 250 -s 606 -f @CRON@|Monday-Wednesday, 72 hourly runs"
	"cron2d-weekend|-b 2024-03-08T00:00Z -d 2d -u 250 -s 707 -S 1 -f @CRON@|Friday-Saturday, 48 hourly runs, daily sub-directories"
	"rotation|-b 2024-03-07T06:00Z -d 8h -u 300 -s 505 -f @STEALTH@ @ROT@|the stealth scenario, a run at every 5-minute file (nfcapd -x)"
)
[ "$CRON" = 0 ] && cron_scenarios=()

# The default mix, each at a time drawn anywhere in the run (so spread
# over the days), plus what no single hour shows: beacons that call once
# or twice an hour (the detector needs 8 beats) or every 1-2 hours, and a
# slow exfiltration of a few MB an hour (an episode needs 2 hours and
# 20 MB): found only when the state adds up the hours.
cron=$out/cron.scenario
cat >"$cron" <<'EOF'
# The default mix of nfhunt-gen(1), at times anywhere in the run.
horizontal_scan src=external net=dmz speed=fast
horizontal_scan src=internal net=users speed=slow targets=100-400
vertical_scan src=external speed=fast
vertical_scan src=internal net=servers speed=slow ports=200-600
distributed_scan
beacon period=45s-90s jitter=0-5 missed=0-2
beacon period=4m-6m jitter=10-20 missed=0-5
beacon period=10m-20m jitter=0-10 proto=udp bytes_in=100-400 duration=8h-16h
bulk_exfiltration
inbound_flood variant=syn
outbound_flood variant=udp
# Slow: one or two beats an hour for most of a day, hourly check-ins for
# more than a day, a few MB an hour for hours.
beacon count=2 period=30m-60m jitter=5-20 missed=0-5 duration=18h-30h
beacon period=1h-2h jitter=5-15 missed=0-5 duration=24h-40h
slow_exfiltration rate=5M-15M duration=5h-8h
dns_tunnel
inbound_flood variant=slowloris
c2_session
EOF

help=$("$NFHUNT" --help 2>&1)
has() { printf '%s\n' "$help" | grep -q -- "$1"; }
gen_sum=$(cksum <"$GEN")

# Detectors nfhunt loads (names), or nothing when it cannot list them.
detectors=""
if has --list-plugins; then
	pd=()
	has --plugin-dir && [ -d "$PLUGINS" ] && pd=(--plugin-dir "$PLUGINS")
	detectors=$("$NFHUNT" --list-plugins "${pd[@]}" 2>/dev/null |
		sed -n 's/^  \([a-z_][a-z0-9_]*\) .*/\1/p')
fi

# generate NAME OPTIONS DESCRIPTION: the scenario's tree and labels in
# OUTDIR/NAME, unless the stamp says they are there already; 1 on failure.
generate() {
	local name=$1 opts=$2 desc=$3 dir=$out/$1
	opts=${opts//@STEALTH@/$stealth}
	opts=${opts//@CRON@/$cron}
	mkdir -p "$dir"
	echo "$desc" >"$dir/scenario.txt"
	# The scenario file's contents belong to the options too.
	local sfile=-
	case " $opts " in
	*" -f "*)
		sfile=${opts#*-f }
		sfile=${sfile%% *}
		;;
	esac
	local stamp
	stamp="$gen_sum|$opts|$(if [ "$sfile" = - ]; then echo -; else cksum <"$sfile"; fi)"
	if [ ! -f "$dir/stamp" ] || [ "$(cat "$dir/stamp")" != "$stamp" ] ||
		[ ! -d "$dir/tree" ]; then
		rm -rf "$dir/tree" "$dir/stamp"
		local t0
		t0=$(date +%s.%N)
		# shellcheck disable=SC2086 # options are words
		if ! "$GEN" $opts -w "$dir/tree" -l "$dir/labels.json" -q \
			2>"$dir/gen.err"; then
			echo "eval: $name: nfhunt-gen failed: $(head -n 2 "$dir/gen.err")" >&2
			return 1
		fi
		echo "$t0 $(date +%s.%N)" >"$dir/gen.time"
		echo "$stamp" >"$dir/stamp"
	fi
	return 0
}

# hunt_options DIR: the options every hunt of the scenario in DIR gets
# (those nfhunt --help lists), into the caller's array hopts.
hunt_options() {
	hopts=()
	has --plugin-dir && [ -d "$PLUGINS" ] && hopts+=(--plugin-dir "$PLUGINS")
	has --alert-level && hopts+=(--alert-level info)
	if has --home-net; then
		local nets
		nets=$("$PY" -c 'import json,sys; n=json.load(open(sys.argv[1]))["network"]; print(",".join(n[k] for k in ("users","servers","dmz","v6")))' \
			"$1/labels.json")
		hopts+=(--home-net "$nets")
	fi
}

run_scenario() {
	local name=$1 opts=$2 desc=$3 dir=$out/$1
	generate "$name" "$opts" "$desc" || return 1
	rm -f "$dir/report.json" "$dir/hunt.status" "$dir/detectors.txt"
	if [ -n "$detectors" ]; then
		printf '%s\n' "$detectors" >"$dir/detectors.txt"
	fi
	if ! has --output; then
		echo "nfhunt has no --output option" >"$dir/hunt.status"
		return 0
	fi
	local args=(-R "$dir/tree" --output "$dir/report.json")
	has --no-state && args+=(--no-state)
	local hopts
	hunt_options "$dir"
	args+=("${hopts[@]}")
	local t0 t1 rc
	t0=$(date +%s.%N)
	timeout "$HUNT_TIMEOUT" "$NFHUNT" "${args[@]}" -o text \
		>"$dir/hunt.out" 2>"$dir/hunt.err"
	rc=$?
	t1=$(date +%s.%N)
	echo "$t0 $t1" >"$dir/hunt.time"
	if [ -s "$dir/report.json" ] &&
		"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))["findings"]' \
			"$dir/report.json" 2>/dev/null; then
		echo ok >"$dir/hunt.status"
	elif [ $rc -eq 124 ]; then
		echo "nfhunt timed out after ${HUNT_TIMEOUT}s" >"$dir/hunt.status"
	else
		echo "no report (nfhunt exit $rc: $(head -n 1 "$dir/hunt.err"))" \
			>"$dir/hunt.status"
	fi
	return 0
}

# run_cron NAME OPTIONS DESCRIPTION: generate, then hand the files to
# nfhunt an hour at a time as cron would, with one state; the hourly
# reports in hours/, their run times in hours.tsv, merged into report.json.
run_cron() {
	local name=$1 opts=$2 desc=$3 dir=$out/$1 per=hour
	case " $opts " in
	*" @ROT@ "*) per=file opts=${opts// @ROT@/} ;;
	esac
	generate "$name" "$opts" "$desc" || return 1
	# A fresh stage and state every time: the state must have seen
	# exactly the hours before, once.
	rm -rf "$dir/stage" "$dir/hours"
	rm -f "$dir/report.json" "$dir/hunt.status" "$dir/detectors.txt" \
		"$dir/hours.tsv" "$dir/merge.err"
	if [ -n "$detectors" ]; then
		printf '%s\n' "$detectors" >"$dir/detectors.txt"
	fi
	local o
	for o in --output --since --state; do
		if ! has "$o"; then
			echo "nfhunt has no $o option" >"$dir/hunt.status"
			return 0
		fi
	done
	mkdir -p "$dir/stage" "$dir/hours"
	local hopts
	hunt_options "$dir"
	# Reports go outside the flow directory (nfhunt(1), FILES); the state
	# is where cron's is by default, named explicitly so that no
	# nfhunt.conf can move it.
	local args=(-R "$dir/stage" --since last --state "$dir/stage/.nfhunt.state"
		"${hopts[@]}")
	# Every capture file as "STAMP PATH" (PATH relative to the tree, so
	# that -S sub-directories are kept), in time order: the time stamp in
	# the name orders them whatever the sub-directory.
	local list
	list=$(cd "$dir/tree" && find . -type f -name 'nfcapd.[0-9]*' |
		awk '{ n = $0; sub(/.*\/nfcapd\./, "", n); print n, substr($0, 3) }' |
		sort)
	# hour-NN numbered wide enough that the names sort in time order.
	local width
	if [ "$per" = file ]; then
		width=$(printf '%s\n' "$list" | wc -l)
	else
		width=$(printf '%s\n' "$list" | cut -c1-10 | uniq | wc -l)
	fi
	width=${#width}
	[ "$width" -ge 2 ] || width=2
	local n=0 hour="" stamp path last_rc=none batch=()
	# One hourly run: the hour's files (batch) go into the stage, linked
	# in one go (a fork per file costs more than the hunt), then
	# --since last reads them with what the state kept of the hours before.
	hourly() {
		local nn t0 t1 rc found files=${#batch[@]}
		if ! (cd "$dir/tree" && { cp -l --parents "${batch[@]}" "$dir/stage/" 2>/dev/null ||
			cp --parents "${batch[@]}" "$dir/stage/"; }); then
			echo "eval: $name: cannot put hour $hour into $dir/stage" >&2
			return 1
		fi
		batch=()
		n=$((n + 1))
		nn=$(printf '%0*d' "$width" "$n")
		t0=$(date +%s.%N)
		timeout "$HUNT_TIMEOUT" "$NFHUNT" "${args[@]}" \
			--output "$dir/hours/hour-$nn.json" \
			>"$dir/hours/hour-$nn.out" 2>"$dir/hours/hour-$nn.err"
		rc=$?
		t1=$(date +%s.%N)
		found=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' \
			"$dir/hours/hour-$nn.json" 2>/dev/null || echo -)
		# N HOUR FILES EXIT SECONDS FINDINGS (score.py reads it)
		printf '%s %s %d %d %.3f %s\n' "$nn" "$hour" "$files" "$rc" \
			"$(echo "$t1 - $t0" | bc)" "$found" >>"$dir/hours.tsv"
		last_rc=$rc
	}
	local key
	while read -r stamp path; do
		[ -n "$path" ] || continue
		# A new clock hour: cron's run comes after the last one closed.
		# Per file, every file is a run of its own (its stamp the "hour").
		key=${stamp:0:10}
		[ "$per" = file ] && key=$stamp
		if [ -n "$hour" ] && [ "$key" != "$hour" ]; then
			hourly || return 1
		fi
		hour=$key
		batch+=("$path")
	done <<<"$list"
	if [ -n "$hour" ]; then
		hourly || return 1
	fi
	local reports=("$dir"/hours/hour-*.json)
	if [ ! -e "${reports[0]}" ]; then
		echo "no hourly report (last nfhunt exit $last_rc: $(cat "$dir"/hours/hour-*.err 2>/dev/null | head -n 1))" \
			>"$dir/hunt.status"
	elif ! "$PY" "$here/score.py" --merge "$dir/report.json" "${reports[@]}" \
		2>"$dir/merge.err"; then
		echo "hourly reports not merged: $(head -n 1 "$dir/merge.err")" \
			>"$dir/hunt.status"
	elif [ "$last_rc" != 0 ] && [ "$last_rc" != 1 ]; then
		# An earlier failed hour is caught up by the next run (--since
		# last); a failed last hour is not. hours.tsv has the exits.
		echo "last hourly run failed (nfhunt exit $last_rc)" >"$dir/hunt.status"
	else
		echo ok >"$dir/hunt.status"
	fi
	return 0
}

echo "eval: $((${#scenarios[@]} + ${#cron_scenarios[@]})) scenarios into $out ($JOBS at a time)"
failed=0
pids=()
names=()
for s in "${scenarios[@]}" "${cron_scenarios[@]}"; do
	IFS='|' read -r name opts desc <<<"$s"
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n 2>/dev/null || true
	done
	case "$opts" in
	*@CRON@* | *@ROT@*) run_cron "$name" "$opts" "$desc" & ;;
	*) run_scenario "$name" "$opts" "$desc" & ;;
	esac
	pids+=($!)
	names+=("$name")
done
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		failed=1
	fi
done
[ $failed -eq 0 ] || {
	echo "eval: generating a scenario failed" >&2
	exit 1
}

dirs=()
for s in "${scenarios[@]}"; do
	dirs+=("$out/${s%%|*}")
done
echo
"$PY" "$here/score.py" --json "$out/results.json" "${dirs[@]}" |
	tee "$out/results.txt"
if [ ${#cron_scenarios[@]} -gt 0 ]; then
	dirs=()
	for s in "${cron_scenarios[@]}"; do
		dirs+=("$out/${s%%|*}")
	done
	echo
	"$PY" "$here/score.py" --json "$out/results-hourly.json" \
		--title "run by run (cron: an hour a run; nfcapd -x: a file a run; --since last, one state)" "${dirs[@]}" |
		tee "$out/results-hourly.txt"
fi
echo
if [ ${#cron_scenarios[@]} -gt 0 ]; then
	echo "eval: tables in $out/results.txt and results-hourly.txt, details in results.json and results-hourly.json"
else
	# No stale hour-by-hour table beside this run's.
	rm -f "$out/results-hourly.txt" "$out/results-hourly.json"
	echo "eval: table in $out/results.txt, details in $out/results.json"
fi
exit 0
