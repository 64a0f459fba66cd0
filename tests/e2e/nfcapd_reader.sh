#!/bin/bash
# End-to-end: real nfcapd files, read by nfdump and by nfhunt, must agree.
#
# For each compression nfcapd 1.7.1 offers (none, -z LZO, -y LZ4, -j BZ2)
# and each source below, a real nfcapd is started on 127.0.0.1 (or ::1)
# with a free UDP port, fed, and stopped with SIGTERM (which flushes and
# closes its file).  Sources:
#   softflowd -v 5 | -v 9 | -v 10 | -v 10 -b (IPFIX biflow), replaying a
#       deterministic pcap (mkpcap.py);
#   nfexport.py v9 and IPFIX: templates, sampler OPTIONS, sampled and
#       unsampled data records (nfcapd scales the counters);
#   nfexport.py IPFIX over ::1 (IPv6 exporter / router address), and
#       nfexport.py into nfcapd -s 7 (default sampler) and -s -5
#       (overwrite sampler); no codec only.
# Checks, each counted once:
#   * nfcapd wrote the codec asked for (file header byte 16);
#   * every flow sent reached the files (nfdump's count);
#   * per file: compare.py, nfdump -o json vs nfhunt --dump -r FILE;
#   * per run: nfdump -R DIR vs nfhunt --dump -R DIR;
#   * per nfexport run: nfexport.py verify (nfhunt's sampling column,
#     SAMPLED flag and scaled counters against the known raw counters and
#     the rate nfcapd applied; at least one flow must be sampled);
#   * an nfdump 1.6 file (the corpus's l1-small-lzo) recompressed by
#     nfdump -J 0..3: compare.py.
# Last line: "N passed, N failed".  Exit 0 if all passed, 77 if nfcapd,
# nfdump or softflowd is missing, 99 if nfhunt is not built.
#
# Environment (set by `make check`, with fallbacks for a manual run):
#   NFH_TOP_SRCDIR, NFH_TOP_BUILDDIR, SYS_PYTHON3 (a python3 with scapy),
#   NFH_E2E_KEEP=1 keeps the temp dir, NFH_E2E_CODECS="none lzo" limits
#   the codecs, NFH_E2E_VERBOSE=1 shows nfcapd's log on failure.

set -u

. "$(dirname "$0")/e2e_lib.sh"
. "$e2e/exporter_stats.sh"
. "$e2e/capd_lib.sh"
codecs=${NFH_E2E_CODECS:-none lzo lz4 bz2}

e2e_need_tools nfcapd nfdump softflowd
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 5))' 2>/dev/null; then
	echo "SKIP: no python3 ($py)"
	exit 77
fi
if [ ! -x "$nfhunt" ]; then
	echo "ERROR: $nfhunt not built"
	exit 99
fi
NFDUMP=$(command -v nfdump)
SOFTFLOWD=$(command -v softflowd)

capd_tmpdir e2e


codec_flag() {
	case $1 in
	none) echo "" ;;
	lzo) echo "-z" ;;
	lz4) echo "-y" ;;
	bz2) echo "-j" ;;
	esac
}

# V2 header byte 16: 0 none, 1 LZO, 2 BZ2, 3 LZ4.
codec_byte() {
	case $1 in
	none) echo 0 ;;
	lzo) echo 1 ;;
	bz2) echo 2 ;;
	lz4) echo 3 ;;
	esac
}

# start_capd DIR HOST CODEC [ARGS] -> sets capd_pid, port; 1 on failure.
# nfcapd 1.7.1 accepts -t >= 2; 2 s slots give several files per run,
# some of them empty.
start_capd() {
	local dir=$1 host=$2 codec=$3 extra=${4:-}
	# shellcheck disable=SC2046,SC2086 # empty flags must vanish
	capd_start "$dir" "$host" -t 2 -I e2e $(codec_flag "$codec") $extra
}

# Number of flows nfdump reads from a saved -o json output.
json_flows() {
	grep -c '"type" :' "$1" 2>/dev/null || true
}

# ------------------------------------------------------------ inputs
have_scapy=1
pcap=$tmp/traffic.pcap
if ! timeout 120 "$py" "$e2e/mkpcap.py" "$pcap" --summary; then
	echo "NOTE: mkpcap.py failed (python3-scapy missing for $py?);" \
		"softflowd runs skipped"
	have_scapy=0
fi

# Sources: sf-* = softflowd replaying the pcap, nfx-* = nfexport.py.
sources="sf-v5 sf-v9 sf-ipfix sf-ipfix-bi nfx-v9 nfx-ipfix nfx-ipfix6"
# nfcapd's own sampling options, no codec only: -s 7 (default sampler,
# id -2, for records no exporter sampler covers) and -s -5 (overwrite,
# id -3, beats every exporter sampler).  The overwrite only with v9:
# nfcapd 1.7.1's ipfix.c keeps the -s value in a uint32_t, so -s -5
# becomes a *default* sampler with packet space 4294967290 there.
sources="$sources nfx-ipfix-s7 nfx-v9-s-5"

# feed NAME HOST PORT DIR: feeds the collector; prints the number of flow
# records sent (softflowd's statistics, nfexport's summary).
feed() {
	local name=$1 host=$2 port=$3 dir=$4 log=$4.feed
	case $name in
	sf-*)
		local v=5 extra=""
		case $name in
		sf-v9) v=9 ;;
		sf-ipfix) v=10 ;;
		sf-ipfix-bi) v=10 extra=-b ;;
		esac
		# -a: flow times from the pcap; -c none: no control socket
		# (softflowd 1.1.0 otherwise blocks in accept() when reading
		# a file); at EOF it expires every flow and exits.
		timeout 60 "$SOFTFLOWD" -r "$pcap" -n "$host:$port" -v $v $extra \
			-a -d -c none -p "$dir.sf.pid" >"$log" 2>&1 || return 1
		sed -n 's/.*Flows exported: [0-9]* (\([0-9]*\) records).*/\1/p' "$log"
		;;
	nfx-*)
		local v=9 h=$host
		case $name in nfx-ipfix*) v=10 ;; esac
		timeout 60 "$py" "$e2e/nfexport.py" send --host "$h" --port "$port" \
			--version $v --expect "$dir.expect.json" >"$log" 2>&1 ||
			return 1
		sed -n 's/^nfexport: \([0-9]*\) flows sent.*/\1/p' "$log"
		;;
	esac
}

for codec in $codecs; do
	for src in $sources; do
		host=127.0.0.1
		capd_sampling=1
		case $src in
		sf-*) [ $have_scapy = 1 ] || continue ;;
		nfx-ipfix6)
			[ "$codec" = none ] || continue
			host=::1
			;;
		nfx-*-s*)
			[ "$codec" = none ] || continue
			capd_sampling=${src##*-s}
			;;
		esac
		label=$codec/$src
		dir=$tmp/$codec-$src
		mkdir -p "$dir"
		capd_args=""
		[ "$capd_sampling" = 1 ] || capd_args="-s $capd_sampling"
		if ! start_capd "$dir" "$host" "$codec" "$capd_args"; then
			fail "$label: nfcapd did not start"
			[ "${NFH_E2E_VERBOSE:-0}" = 1 ] && cat "$dir.log"
			continue
		fi
		expected=$(feed "$src" "$host" "$port" "$dir")
		feed_rc=$?
		# Let nfcapd drain its socket before the SIGTERM.
		sleep 0.5
		if ! stop_capd; then
			fail "$label: nfcapd did not stop on SIGTERM (killed)"
		fi
		if [ $feed_rc -ne 0 ] || [ -z "$expected" ]; then
			fail "$label: feeding the collector failed"
			sed 's/^/    /' "$dir.feed" 2>/dev/null | tail -5
			continue
		fi

		mapfile -t files < <(find "$dir" -maxdepth 1 -name 'nfcapd.[0-9]*' | sort)
		if [ ${#files[@]} -eq 0 ]; then
			fail "$label: nfcapd wrote no file"
			continue
		fi

		# 1. the codec in every file header
		want=$(codec_byte "$codec")
		bad=""
		for f in "${files[@]}"; do
			got=$(od -An -tu1 -j16 -N1 "$f" | tr -d ' ')
			[ "$got" = "$want" ] || bad="$bad $(basename "$f")=$got"
		done
		if [ -z "$bad" ]; then
			pass "$label: codec $codec in all ${#files[@]} files"
		else
			fail "$label: codec byte != $want in:$bad"
		fi

		# 2. per file: nfdump vs nfhunt
		save=$dir.cmp
		mkdir -p "$save"
		total=0
		for f in "${files[@]}"; do
			name=$label/$(basename "$f")
			out=$(timeout 300 "$py" "$e2e/compare.py" --nfdump "$NFDUMP" \
				--nfhunt "$nfhunt" --save-dir "$save" --name "$name" \
				--timeout 120 "$f" 2>&1)
			rc=$?
			echo "$out" | sed '$!s/^/    /'
			if [ $rc -eq 0 ]; then
				pass "$name"
			else
				fail "$name"
			fi
			n=$(json_flows "$save/$(basename "$f").nfdump.json")
			total=$((total + ${n:-0}))
		done

		# 2b. nfcapd's exporter statistics (ExporterStat records, one
		# per file) as nfdump -E reads them, file by file
		diffs=0
		for f in "${files[@]}"; do
			if [ "$(stats_nfdump "$NFDUMP" "$f")" != \
				"$(stats_nfhunt "$nfhunt" "$f")" ]; then
				diffs=$((diffs + 1))
				echo "    $(basename "$f"): nfdump -E: $(stats_nfdump "$NFDUMP" "$f" | tr '\n' ';')" \
					"nfhunt -v: $(stats_nfhunt "$nfhunt" "$f" | tr '\n' ';')"
			fi
		done
		if [ $diffs -eq 0 ]; then
			pass "$label: exporter statistics as nfdump -E in all ${#files[@]} files"
		else
			fail "$label: exporter statistics differ from nfdump -E in $diffs files"
		fi

		# 3. all flows arrived (a harness sanity check)
		if [ "$total" -eq "$expected" ]; then
			pass "$label: nfdump reads all $expected flows sent"
		else
			fail "$label: nfdump reads $total flows, $expected were sent"
		fi

		# 4. the whole directory with -R
		TZ=UTC timeout 120 "$NFDUMP" -R "$dir" -o json \
			>"$save/R.nfdump.json" 2>"$save/R.nfdump.err"
		timeout 120 "$nfhunt" --dump -R "$dir" >"$save/R.nfhunt.csv" \
			2>"$save/R.nfhunt.err"
		hrc=$?
		out=$("$py" "$e2e/compare.py" --nfdump-json "$save/R.nfdump.json" \
			--csv "$save/R.nfhunt.csv" --name "$label: -R dir" 2>&1)
		rc=$?
		echo "$out" | sed '$!s/^/    /'
		if [ $rc -eq 0 ] && [ $hrc -eq 0 ]; then
			pass "$label: -R dir"
		else
			[ $hrc -eq 0 ] || echo "    nfhunt -R exit $hrc:" \
				"$(head -3 "$save/R.nfhunt.err")"
			fail "$label: -R dir"
		fi

		# 5. sampling, for our own exporter
		case $src in
		nfx-*)
			args=()
			for f in "${files[@]}"; do
				b=$save/$(basename "$f")
				args+=(--csv "$b.nfhunt.csv" --nfdump-json "$b.nfdump.json")
			done
			out=$("$py" "$e2e/nfexport.py" verify --expect "$dir.expect.json" \
				"${args[@]}" --label "$label" --expected-count "$expected" \
				--require-sampled --nfcapd-sampling "$capd_sampling" 2>&1)
			rc=$?
			echo "$out" | sed '$d' | sed 's/^/    /'
			if [ $rc -eq 0 ]; then
				pass "$label: sampling and scaled counters"
			else
				fail "$label: sampling and scaled counters"
			fi
			;;
		esac
	done
done

# An nfdump 1.6 file recompressed by nfdump 1.7 (nfdump -J): a layout-2
# header over blocks of 1.6 records. Operators recompress old archives
# this way; nfhunt read none of their flows. compare.py against the same
# nfdump, for each codec nfdump -J writes.
l1=$top_srcdir/tests/fuzz/corpus/l1-small-lzo
for j in 0 1 2 3; do
	f=$tmp/l1-recompressed-J$j
	cp "$l1" "$f" && chmod u+w "$f"
	if ! "$NFDUMP" -r "$f" -J "$j" >/dev/null 2>&1; then
		fail "nfdump -J $j of a layout-1 file failed"
		continue
	fi
	out=$(timeout 120 "$py" "$e2e/compare.py" --nfdump "$NFDUMP" \
		--nfhunt "$nfhunt" --name "layout-1 file after nfdump -J $j" \
		--timeout 60 "$f" 2>&1)
	rc=$?
	echo "$out" | sed '$!s/^/    /'
	if [ $rc -eq 0 ]; then
		pass "layout-1 file recompressed by nfdump -J $j: as nfdump reads it"
	else
		fail "layout-1 file recompressed by nfdump -J $j"
	fi
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
