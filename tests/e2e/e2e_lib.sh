# shellcheck shell=bash
# e2e_lib.sh - what the end-to-end scripts share (sourced, not run): a
# temp directory removed when the script exits (kept, and said where,
# with NFH_E2E_KEEP=1), and the pass/fail counters.

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

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
