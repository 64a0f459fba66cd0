# shellcheck shell=bash
# capd_lib.sh - a real nfcapd on loopback for the e2e tests (sourced, not
# run, after e2e_lib.sh). Needs $py (a python3) and, optionally, $NFCAPD
# (default: nfcapd in PATH). Sets capd_pid and port.

capd_pid=

# capd_tmpdir NAME: the test's temporary directory (e2e_tmpdir), removed
# at exit after any nfcapd still running is killed.
capd_tmpdir() {
	e2e_tmpdir "$1" capd_cleanup
}

# capd_sf_tmpdir NAME: the same for tests that run softflowd with the
# pidfile $tmp/sf.pid (replay_parts): at exit a softflowd still running
# is killed first.
capd_sf_tmpdir() {
	e2e_tmpdir "$1" capd_sf_cleanup
}
capd_sf_cleanup() {
	kill_pidfile "$tmp/sf.pid"
	capd_cleanup
}

# free_port [HOST]: a UDP port free on HOST (default 127.0.0.1; an IPv6
# address such as ::1 works too).
# shellcheck disable=SC2154 # py comes from the sourcing script
free_port() {
	"$py" - "${1:-127.0.0.1}" <<'PYEOF'
import socket, sys
host = sys.argv[1]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((host, 0))
print(s.getsockname()[1])
s.close()
PYEOF
}

# capd_start DIR HOST ARGS...: nfcapd on HOST and a free port, writing
# into DIR with ARGS; its log is DIR.log. Waits until it says it started;
# three tries, each on another port (a port can be taken between
# free_port and nfcapd's bind). 0, or 1 when it never started.
capd_start() {
	local dir=$1 host=$2 try fam=""
	shift 2
	case $host in *:*) fam=-6 ;; esac
	for try in 1 2 3; do
		[ "$try" -eq 1 ] || echo "nfcapd did not start, retry $try"
		port=$(free_port "$host") || return 1
		# shellcheck disable=SC2086 # an empty $fam must vanish
		"${NFCAPD:-nfcapd}" $fam -b "$host" -p "$port" -w "$dir" "$@" \
			>"$dir.log" 2>&1 &
		capd_pid=$!
		for _ in $(seq 1 100); do
			grep -q "Startup nfcapd" "$dir.log" 2>/dev/null && return 0
			kill -0 "$capd_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$capd_pid" 2>/dev/null
		wait "$capd_pid" 2>/dev/null
		capd_pid=
	done
	return 1
}

# stop_capd: SIGTERM (nfcapd closes and renames its last file and runs
# -x for it), then a bounded wait; KILL after 15 s. 0, or 1 when it had to
# be killed or was not running.
stop_capd() {
	[ -n "$capd_pid" ] || return 1
	kill -TERM "$capd_pid" 2>/dev/null
	for _ in $(seq 1 150); do
		if ! kill -0 "$capd_pid" 2>/dev/null; then
			wait "$capd_pid" 2>/dev/null
			capd_pid=
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$capd_pid" 2>/dev/null
	wait "$capd_pid" 2>/dev/null
	capd_pid=
	return 1
}

# kill_pidfile FILE: kills the process whose pid FILE holds, if it still
# runs (a softflowd that the test's exit interrupted).
kill_pidfile() {
	local pid
	[ -f "$1" ] || return 0
	pid=$(cat "$1" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
	fi
	return 0
}

# capd_cleanup: for trap EXIT. Kills an nfcapd still running, then removes
# $tmp unless NFH_E2E_KEEP=1 (then says where it is).
capd_cleanup() {
	if [ -n "${capd_pid:-}" ] && kill -0 "$capd_pid" 2>/dev/null; then
		kill -KILL "$capd_pid" 2>/dev/null
		wait "$capd_pid" 2>/dev/null
	fi
	e2e_remove_tmp
}

# replay_parts PIDFILE PCAP...: softflowd replays each pcap in turn as
# NetFlow v9 into the nfcapd of capd_start (-a: flow times from the pcap;
# -c none: no control socket; -d: in the foreground). At the end of a
# file it expires every flow and exits; the pause lets nfcapd read them
# before the next file's, so that what waits in the socket stays within a
# stock buffer (212 kB). Sets sf_exported (flows softflowd says it sent)
# and sf_error (the first failure's last lines, empty when none). 0, or
# 1 when softflowd failed on a file.
replay_parts() {
	local pidfile=$1 part n log
	shift
	log="$pidfile.log"
	sf_exported=0 sf_error=
	for part in "$@"; do
		if timeout 120 softflowd -r "$part" -n "127.0.0.1:$port" -v 9 -a \
			-d -c none -p "$pidfile" >"$log" 2>&1; then
			n=$(sed -n 's/.*Flows exported: \([0-9]*\).*/\1/p' "$log" | head -n 1)
			sf_exported=$((sf_exported + ${n:-0}))
		elif [ -z "$sf_error" ]; then
			sf_error="$part: $(tail -n 2 "$log")"
		fi
		sleep 0.3
	done
	[ -z "$sf_error" ]
}

# capture_pcaps DIR IDENT PCAP...: one nfcapd on 127.0.0.1 (ident IDENT)
# writing into DIR, softflowd replaying the PCAPs into it (replay_parts),
# then nfcapd stopped; its log, DIR.log, stays out of the tree. A pass or
# fail line for each step; when nfcapd does not start, the test ends.
capture_pcaps() {
	local dir=$1 ident=$2
	shift 2
	mkdir -p "$dir"
	if ! capd_start "$dir" 127.0.0.1 -t 3600 -B 8388608 -I "$ident"; then
		fail "nfcapd did not start"
		finish
	fi
	if replay_parts "$tmp/sf.pid" "$@"; then
		pass "softflowd exported $sf_exported flows"
	else
		fail "softflowd failed on $sf_error"
	fi
	sleep 0.5
	stop_capd || fail "nfcapd did not stop on SIGTERM"
}
