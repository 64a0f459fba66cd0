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
# A scenario's tree is reused while the generator and its options are the
# same (OUTDIR/<name>/stamp). When nfhunt has no --output, fails, or
# writes no report, its detectors show as "missing"; that is not an
# error: the script exits 0 unless generating a scenario failed (1).
#
# Environment: NFHUNT_GEN, NFHUNT (the programs; default: the build
# tree's), NFH_PLUGIN_DIR (detector modules), PYTHON3, EVAL_JOBS
# (scenarios in parallel, default 2), EVAL_HUNT_TIMEOUT (seconds per
# hunt, default 900).

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

run_scenario() {
	local name=$1 opts=$2 desc=$3 dir=$out/$1
	opts=${opts//@STEALTH@/$stealth}
	mkdir -p "$dir"
	echo "$desc" >"$dir/scenario.txt"
	local stamp="$gen_sum|$opts|$(cksum <"$stealth")"
	if [ ! -f "$dir/stamp" ] || [ "$(cat "$dir/stamp")" != "$stamp" ] ||
		[ ! -d "$dir/tree" ]; then
		rm -rf "$dir/tree" "$dir/stamp"
		# shellcheck disable=SC2086 # options are words
		if ! "$GEN" $opts -w "$dir/tree" -l "$dir/labels.json" -q \
			2>"$dir/gen.err"; then
			echo "eval: $name: nfhunt-gen failed: $(head -n 2 "$dir/gen.err")" >&2
			return 1
		fi
		echo "$stamp" >"$dir/stamp"
	fi
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
	has --plugin-dir && [ -d "$PLUGINS" ] && args+=(--plugin-dir "$PLUGINS")
	has --alert-level && args+=(--alert-level info)
	if has --home-net; then
		local nets
		nets=$("$PY" -c 'import json,sys; n=json.load(open(sys.argv[1]))["network"]; print(",".join(n[k] for k in ("users","servers","dmz","v6")))' \
			"$dir/labels.json")
		args+=(--home-net "$nets")
	fi
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

echo "eval: ${#scenarios[@]} scenarios into $out ($JOBS at a time)"
failed=0
pids=()
names=()
for s in "${scenarios[@]}"; do
	IFS='|' read -r name opts desc <<<"$s"
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n 2>/dev/null || true
	done
	run_scenario "$name" "$opts" "$desc" &
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
echo
echo "eval: table in $out/results.txt, details in $out/results.json"
exit 0
