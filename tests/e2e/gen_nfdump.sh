#!/bin/bash
# gen_nfdump.sh - nfhunt-gen's capture trees, read by the real nfdump and
# by nfhunt, and its labels checked against the files.
#
# Checks, one line each:
#   * a 2-hour tree (nfcapd -S 1 layout, codecs none/lzo/bz2/lz4 in turn,
#     every codec nfdump 1.7.1 reads) is written: 24 files, where nfcapd
#     would put them, with the codec asked for in each header;
#   * per file: `TZ=UTC nfdump -r FILE -o json` against `nfhunt --dump -r
#     FILE`, flow by flow (compare.py);
#   * nfdump -R counts the records the labels' totals announce;
#   * per label: the records the label's match rule finds in nfhunt's
#     dump of the tree have the label's count, packets, bytes and time
#     span (gen_labels.py), and every record belongs to one label;
#   * the same seed writes byte-identical files, another seed other ones;
#   * a sampled tree (--sampling 10): every flow sampled 1:10 in nfhunt's
#     dump, the Sampler record in nfdump -E, nfdump agrees with nfhunt,
#     labels agree with the files;
#   * --no-inject: no injected label, labels agree with the files.
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77 when
# nfdump or python3 is missing, 99 when the programs are not built.
#
# Environment: NFH_TOP_SRCDIR, NFH_TOP_BUILDDIR, SYS_PYTHON3 (set by make
# check), NFH_E2E_KEEP=1 keeps the scratch directory.

set -u

. "$(dirname "$0")/e2e_lib.sh"

if ! command -v nfdump >/dev/null 2>&1; then
	echo "SKIP: nfdump not installed"
	exit 77
fi
e2e_need_python
e2e_need_built "$gen" "$nfhunt"
NFDUMP=$(command -v nfdump)

e2e_tmpdir gen-e2e
# A fixed, busy scenario: Monday 09:00-11:00 UTC, 40 users, the default
# mix of injected activities.
export TZ=UTC
args="-b 2024-03-04T09:00Z -d 2h -s 20240304 -u 40"

# ---------------------------------------------------------- the tree
tree=$tmp/tree
if timeout 300 "$gen" $args -w "$tree" -S 1 -c none,lzo,bz2,lz4 \
	-l "$tmp/tree.labels.json" -q 2>"$tmp/gen.err"; then
	pass "nfhunt-gen wrote a 2-hour tree"
else
	fail "nfhunt-gen failed: $(head -n 3 "$tmp/gen.err")"
	echo "$passed passed, $failed failed"
	exit 1
fi

mapfile -t files < <(find "$tree" -type f -name 'nfcapd.*' | sort)
n=${#files[@]}
bad=$(printf '%s\n' "${files[@]}" |
	grep -Ecv "^$tree/2024/03/04/nfcapd\.20240304(09|10)[0-5][05]$")
if [ "$n" -eq 24 ] && [ "$bad" -eq 0 ]; then
	pass "24 files named like nfcapd's, in the -S 1 hierarchy (2024/03/04)"
else
	fail "$n files, $bad not named nfcapd.YYYYMMDDhhmm under 2024/03/04"
fi

# Header byte 16: the codec (0 none, 1 LZO, 2 BZ2, 3 LZ4), in turn.
want=""
got=""
i=0
for f in "${files[@]}"; do
	want="$want$((i % 4))"
	got="$got$(od -An -tu1 -j16 -N1 "$f" | tr -d ' ')"
	i=$((i + 1))
done
if [ "$want" = "$got" ]; then
	pass "codecs none, lzo, bz2, lz4 in turn (header bytes $got)"
else
	fail "codec bytes $got, want $want"
fi

# nfdump against nfhunt, file by file.
for f in "${files[@]}"; do
	name=$(basename "$f")
	out=$(timeout 300 "$py" "$e2e/compare.py" --nfdump "$NFDUMP" \
		--nfhunt "$nfhunt" --name "$name" --timeout 120 "$f" 2>&1)
	if [ $? -eq 0 ]; then
		pass "$(echo "$out" | tail -n 1)"
	else
		echo "$out" | sed '$!s/^/    /'
		fail "$name: nfdump and nfhunt differ"
	fi
done

# nfdump's count of the whole tree against the labels' totals.
total=$(timeout 120 "$NFDUMP" -R "$tree" -s proto -n 1 2>/dev/null |
	sed -n 's/^Summary: total flows: \([0-9]*\),.*/\1/p')
labelled=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["flows"])' \
	"$tmp/tree.labels.json")
if [ -n "$total" ] && [ "$total" = "$labelled" ]; then
	pass "nfdump -R reads $total flows, the labels' total"
else
	fail "nfdump -R reads '${total}' flows, labels say $labelled"
fi

# Labels against the files.
if timeout 120 "$nfhunt" --dump -R "$tree" >"$tmp/tree.csv" 2>"$tmp/dump.err"; then
	tally "$(timeout 300 "$py" "$e2e/gen_labels.py" --name tree \
		"$tmp/tree.labels.json" "$tmp/tree.csv" 2>&1)"
else
	fail "nfhunt --dump -R failed: $(head -n 2 "$tmp/dump.err")"
fi

# ------------------------------------------------------- determinism
timeout 300 "$gen" $args -w "$tmp/again" -S 1 -c none,lzo,bz2,lz4 \
	-l "$tmp/again.labels.json" -q
if diff -r -q "$tree" "$tmp/again" >/dev/null 2>&1; then
	pass "the same seed writes byte-identical files"
else
	fail "the same seed wrote different files: $(diff -r -q "$tree" "$tmp/again" | head -n 2)"
fi
timeout 300 "$gen" -b 2024-03-04T09:00Z -d 2h -s 20240305 -u 40 \
	-w "$tmp/other" -S 1 -c none,lzo,bz2,lz4 -l "$tmp/other.labels.json" -q
if ! diff -r -q "$tree" "$tmp/other" >/dev/null 2>&1; then
	pass "another seed writes other files"
else
	fail "another seed wrote the same files"
fi

# ----------------------------------------------------------- sampled
st=$tmp/sampled
if timeout 300 "$gen" -b 2024-03-04T09:00Z -d 1h -s 7 -u 40 -w "$st" \
	-c lz4 --sampling 10 -l "$tmp/sampled.labels.json" -q; then
	timeout 120 "$nfhunt" --dump -R "$st" >"$tmp/sampled.csv"
	out=$("$py" - "$tmp/sampled.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
bad = [r for r in rows if r["sampling"] != "10" or not int(r["flags"]) & 1]
print(len(rows), len(bad))
EOF
)
	set -- $out
	if [ "${1:-0}" -gt 0 ] && [ "${2:-1}" -eq 0 ]; then
		pass "sampled tree: all $1 flows sampled 1:10 in nfhunt --dump"
	else
		fail "sampled tree: $out (flows, not sampled 1:10)"
	fi
	nosampler=0
	for f in "$st"/nfcapd.*; do
		"$NFDUMP" -E "$f" 2>/dev/null |
			grep -q 'packet interval: 1, packet space: 9' ||
			nosampler=$((nosampler + 1))
	done
	if [ $nosampler -eq 0 ]; then
		pass "sampled tree: nfdump -E shows the 1:10 sampler in every file"
	else
		fail "sampled tree: $nosampler files without the sampler record"
	fi
	# As nfcapd 1.7.1's own files: no record names its sampler in an
	# element that nfdump 1.7.1 calls unknown (one line per record).
	unknown=$("$NFDUMP" -R "$st" -q -o 'fmt:%pkt' 2>&1 >/dev/null |
		grep -c 'Unknown extension')
	if [ "$unknown" -eq 0 ]; then
		pass "sampled tree: nfdump reads it without an unknown element"
	else
		fail "sampled tree: nfdump: $unknown lines 'Unknown extension'"
	fi
	out=$(timeout 300 "$py" "$e2e/compare.py" --nfdump "$NFDUMP" \
		--nfhunt "$nfhunt" --timeout 120 "$st"/nfcapd.* 2>&1)
	if [ $? -eq 0 ]; then
		pass "sampled tree: nfdump and nfhunt agree on all $(ls "$st" | wc -l) files"
	else
		echo "$out" | grep -v identical | head -n 10 | sed 's/^/    /'
		fail "sampled tree: nfdump and nfhunt differ"
	fi
	tally "$(timeout 300 "$py" "$e2e/gen_labels.py" --summary \
		--name sampled "$tmp/sampled.labels.json" "$tmp/sampled.csv" 2>&1)"
else
	fail "nfhunt-gen --sampling 10 failed"
fi

# ------------------------------------------------------------- clean
if timeout 300 "$gen" -b 2024-03-04T09:00Z -d 1h -s 3 -u 40 -w "$tmp/clean" \
	--no-inject -l "$tmp/clean.labels.json" -q; then
	timeout 120 "$nfhunt" --dump -R "$tmp/clean" >"$tmp/clean.csv"
	inj=$("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(a["class"] == "injected" for a in d["activities"]))' \
		"$tmp/clean.labels.json")
	if [ "$inj" = 0 ]; then
		pass "--no-inject: no injected activity in the labels"
	else
		fail "--no-inject: $inj injected activities"
	fi
	tally "$(timeout 300 "$py" "$e2e/gen_labels.py" --summary \
		--name clean "$tmp/clean.labels.json" "$tmp/clean.csv" 2>&1)"
else
	fail "nfhunt-gen --no-inject failed"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
