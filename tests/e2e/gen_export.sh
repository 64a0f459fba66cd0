#!/bin/bash
# gen_export.sh - nfhunt-gen's NetFlow v9 / IPFIX export through a real
# nfcapd gives the flows its direct writer writes for the same seed.
#
# For v9 and IPFIX, unsampled and sampled 1:10: a real nfcapd listens on
# 127.0.0.1 (a free UDP port, -w a scratch directory), nfhunt-gen sends
# one hour of a fixed scenario to it (paced), nfcapd is stopped with
# SIGTERM (it then closes its file), and nfhunt's dump of nfcapd's files
# must equal nfhunt's dump of the tree nfhunt-gen writes directly with the
# same options, as multisets of records (gen_multiset.py; times within
# 1 s, where v9 carries the header time in seconds). Sampled runs must
# show every flow sampled 1:10 in nfhunt --dump: the options templates
# announced the sampler and nfcapd scaled the counters. nfcapd must log
# no sequence failure.
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77 when
# nfcapd, nfdump or python3 is missing, 99 when the programs are not
# built. Every daemon is killed on exit.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd nfdump
e2e_need_python
e2e_need_built "$gen" "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_tmpdir gen-export
# start_capd DIR -> capd_pid, port. One file for the whole run: -t 3600;
# a big socket buffer so a loaded machine drops nothing.
start_capd() {
	capd_start "$1" 127.0.0.1 -t 3600 -B 8388608 -I gen-e2e
}

export TZ=UTC
base="-b 2024-03-04T09:00Z -d 1h -s 99 -u 30 --bg public_rate=0.5"

for proto in v9 ipfix; do
	for sampling in 1 10; do
		label="$proto sampling 1:$sampling"
		args="$base --proto $proto --sampling $sampling"
		dir=$tmp/$proto-$sampling
		mkdir -p "$dir/capd"
		if ! timeout 300 "$gen" $args -w "$dir/direct" \
			-l "$dir/direct.labels.json" -q; then
			fail "$label: the direct tree was not written"
			continue
		fi
		if ! start_capd "$dir/capd"; then
			fail "$label: nfcapd did not start"
			continue
		fi
		timeout 300 "$gen" $args --export "127.0.0.1:$port" --rate 40000 \
			-l "$dir/export.labels.json" -q
		gen_rc=$?
		sleep 0.5 # let nfcapd drain its socket
		if stop_capd; then
			pass "$label: nfcapd stopped on SIGTERM"
		else
			fail "$label: nfcapd did not stop on SIGTERM (killed)"
		fi
		if [ $gen_rc -ne 0 ]; then
			fail "$label: nfhunt-gen --export failed"
			continue
		fi
		errors=$(sed -n 's/.*Sequence Errors: \([0-9]*\).*/\1/p' \
			"$dir/capd.log" | tail -n 1)
		if [ "${errors:-x}" = 0 ]; then
			pass "$label: nfcapd logs no sequence failure"
		else
			fail "$label: nfcapd sequence errors: '${errors}'"
		fi
		timeout 120 "$nfhunt" --dump -R "$dir/direct" >"$dir/direct.csv"
		timeout 120 "$nfhunt" --dump -R "$dir/capd" >"$dir/capd.csv"
		tally "$(timeout 300 "$py" "$e2e/gen_multiset.py" \
			--name "$label: nfcapd's files against the direct tree" \
			--expect-sampling "$sampling" \
			"$dir/direct.csv" "$dir/capd.csv" 2>&1)"
	done
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
