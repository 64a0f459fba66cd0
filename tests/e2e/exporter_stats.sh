# shellcheck shell=bash
# exporter_stats.sh - sourced by e2e scripts (not run): nfcapd's exporter
# statistics of one file as nfdump -E prints them and as nfhunt -v does,
# each as sorted lines "sysid address flows packets sequence_failures".
# nfdump -E prints an exporter that sent no flows as "no flows sent",
# without its counters (an exporter that sent only templates, or none):
# entries of zero flows are left out on both sides.

# stats_nfdump NFDUMP FILE
stats_nfdump() {
	timeout 120 "$1" -E "$2" 2>/dev/null |
		sed -n 's/^SysID: \([0-9]*\), IP: *\([^,]*\),.*Sequence failures: \([0-9]*\), packets: \([0-9]*\), flows: \([0-9]*\).*/\1 \2 \5 \4 \3/p' |
		awk '$3 != 0' | sort
}

# stats_nfhunt NFHUNT FILE
stats_nfhunt() {
	timeout 120 "$1" --count -v -r "$2" 2>&1 >/dev/null |
		sed -n 's/.*: exporter \([^ ]*\) (sysid \([0-9]*\)): \([0-9]*\) flows in \([0-9]*\) export packets, \([0-9]*\) sequence failures$/\2 \1 \3 \4 \5/p' |
		awk '$3 != 0' | sort
}
