# ops_lib.sh - shared by the ops_*.sh end-to-end tests (sourced, not run).
#
# Sets top_srcdir, top_builddir, nfhunt, gen, py, e2e, tmp (removed on
# exit unless NFH_E2E_KEEP=1), the counters and pass/fail/check, and
# free_port, start_capd, stop_capd for a real nfcapd on 127.0.0.1.
# The caller sets ops_name first; it becomes the temp directory's name.

. "$(dirname "${BASH_SOURCE[0]}")/e2e_lib.sh"
export TZ=UTC
# No configuration of the machine: each test writes its own.
export NFHUNT_CONFIG=/dev/null

for p in "$nfhunt" "$gen"; do
	if [ ! -x "$p" ]; then
		echo "ERROR: $p not built"
		exit 99
	fi
done
if ! "$py" -c 'import json, sys' 2>/dev/null; then
	echo "SKIP: no python3 ($py)"
	exit 77
fi
if [ ! -d "$plugins" ]; then
	echo "ERROR: $plugins missing (make builds it)"
	exit 99
fi

. "$(dirname "${BASH_SOURCE[0]}")/capd_lib.sh"

capd_tmpdir "${ops_name:-ops}"
# check "what" test-args...: pass when the test(1) holds.
check() {
	local what=$1
	shift
	if [ "$@" ]; then pass "$what"; else fail "$what ($*)"; fi
}

# A JSON field of a report: jget FILE EXPR (a Python expression over r).
jget() {
	"$py" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# start_capd DIR ARGS... -> capd_pid, port; its log is DIR.log.
start_capd() {
	local dir=$1
	shift
	capd_start "$dir" 127.0.0.1 -B 8388608 "$@"
}
