# shellcheck shell=bash
# e2e_lib.sh - what the end-to-end scripts share (sourced, not run): the
# paths to the trees and programs, a temp directory removed when the
# script exits (kept, and said where, with NFH_E2E_KEEP=1), and the
# pass/fail counters.

# The paths, from this file's place in tests/e2e: the source and build
# trees (NFH_TOP_SRCDIR, NFH_TOP_BUILDDIR: make check sets them for a
# build outside the source tree), the programs (NFHUNT names another
# nfhunt), the plugin directory, the system python3 (SYS_PYTHON3, for
# scapy) and a time bound for one run (NFH_E2E_TIMEOUT, else the
# script's e2e_timeout, else 120 s).
e2e=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
here=$e2e
top_srcdir=${NFH_TOP_SRCDIR:-$(cd "$e2e/../.." && pwd)}
top_builddir=${NFH_TOP_BUILDDIR:-$top_srcdir}
nfhunt=${NFHUNT:-$top_builddir/tools/nfhunt}
gen=$top_builddir/tools/nfhunt-gen
plugins=$top_builddir/plugins
writefile=$top_builddir/tests/tools/nfh-writefile
py=${SYS_PYTHON3:-/usr/bin/python3}
[ -x "$py" ] || py=/usr/bin/python3
tmo=${NFH_E2E_TIMEOUT:-${e2e_timeout:-120}}

# e2e_tmpdir NAME [CLEANUP]: a new directory ${TMPDIR:-/tmp}/nfh-NAME.*
# in $tmp, and the traps: CLEANUP at exit (default e2e_remove_tmp; a
# script with processes to stop gives its own, which ends by calling
# e2e_remove_tmp), exit 130 on a signal. Exits 99 when no directory can
# be made.
e2e_tmpdir() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/nfh-$1.XXXXXX") || exit 99
	# shellcheck disable=SC2064 # the handler's name, fixed now
	trap "${2:-e2e_remove_tmp}" EXIT
	trap 'exit 130' INT TERM HUP
}

# e2e_remove_tmp: removes $tmp, unless NFH_E2E_KEEP=1.
e2e_remove_tmp() {
	if [ "${NFH_E2E_KEEP:-0}" = 1 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}

# e2e_need_tools TOOL...: exits 77 (skip) naming the first TOOL that is
# not in PATH.
e2e_need_tools() {
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "SKIP: $tool not installed"
			exit 77
		fi
	done
}

# e2e_need_python: exits 77 (skip) unless $py runs.
e2e_need_python() {
	if ! "$py" -c 'import sys' 2>/dev/null; then
		echo "SKIP: no python3 ($py)"
		exit 77
	fi
}

# e2e_need_built PROGRAM...: exits 99 (a hard error) naming the first
# PROGRAM (a path) that is not built.
e2e_need_built() {
	local p
	for p in "$@"; do
		if [ ! -x "$p" ]; then
			echo "ERROR: $p not built"
			exit 99
		fi
	done
}

# e2e_need_scapy: exits 77 (skip) unless $py imports scapy.
e2e_need_scapy() {
	if ! "$py" -c 'import scapy' 2>/dev/null; then
		echo "SKIP: no python3 with scapy ($py)"
		exit 77
	fi
}

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
# tally OUTPUT [STATUS]: counts the "PASS: " and "FAIL: " lines of a
# checker's OUTPUT (printed here), and fails once more when the checker
# itself exited with a STATUS other than 0.
tally() {
	echo "$1"
	[ "${2:-0}" -eq 0 ] || fail "the checker failed (exit $2)"
	passed=$((passed + $(printf '%s\n' "$1" | grep -c '^PASS:')))
	failed=$((failed + $(printf '%s\n' "$1" | grep -c '^FAIL:')))
}

# build_pcaps SCRIPT PREFIX WHAT: runs the pcap writer SCRIPT (a python
# file beside this one) with PREFIX; its output line is left in $built
# and passed as "pcaps built: ... (WHAT)". When it fails, the test fails
# and ends here.
build_pcaps() {
	if built=$(timeout 300 "$py" "$e2e/$1" "$2" 2>&1); then
		pass "pcaps built: $built ($3)"
	else
		fail "$1 failed: $(echo "$built" | tail -n 2)"
		finish
	fi
}

# finish: the last line, "N passed, N failed", and the exit: 0 if all
# passed, 1 if not.
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
