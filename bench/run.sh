#!/bin/sh
# bench/run.sh - times nfhunt against nfdump over one capture tree.
#
# usage: bench/run.sh TREE   (normally through `make bench`)
#
# Two kinds of tree (BENCH_TRAFFIC), both 5-minute nfcapd files, half LZ4,
# half LZO, built when TREE.stamp does not match what is wanted, else
# reused:
#   random     nfh-mktree: BENCH_FLOWS flows in BENCH_FILES files (%Y/%m/%d
#              directories), a third of them to any address of the
#              Internet: the most distinct hosts and pairs a detector's
#              tables will meet, and large files that nfdump is slow to read
#   realistic  nfhunt-gen: one day of an organisation of BENCH_USERS user
#              hosts (about 10 million records for the default 2600), its
#              usual services, a few attacks; the hunt gets the scenario's
#              home networks (BENCH_HOME_NET) Both tools first read it once untimed, which warms
# the page cache and gives their flow counts (they must agree, with each
# other and with the tree). Then, alternately, BENCH_ROUNDS timed runs of
#   nfhunt --count -R TREE                     (every flow into the model)
#   nfdump -R TREE -q -s srcip/bytes -n 10     (top talkers)
# and the median wall time of each gives flows/s and the speed ratio.
# With NFH_PLUGIN_DIR set (make bench does), the full hunt is timed the
# same way against the same nfdump run:
#   nfhunt -R TREE --no-state -o ndjson        (every detector)
# and its peak RSS and the CPU time of each of its threads are reported
# (the busiest thread bounds the wall time from below on a machine with
# a core for each). With NFH_EXAMPLE_MODULE (make bench sets
# it to the example detector, which only counts connections), one run
# each shows where the time goes: the engine alone (reading, stitching,
# handing out), then each detector of the plugin directory alone, in
# wall and CPU seconds.
#
# Environment: NFH_MKTREE, NFH_GEN, NFHUNT (paths to the programs), NFDUMP
# (default: nfdump in PATH), BENCH_TRAFFIC, BENCH_FLOWS, BENCH_FILES,
# BENCH_USERS, BENCH_HOME_NET, BENCH_ROUNDS.
# Exit status: 0, 1 when the counts differ or a run fails, 77 without
# nfdump.

set -eu

tree=${1:?usage: run.sh TREE}
TRAFFIC=${BENCH_TRAFFIC:-random}
case $TRAFFIC in
random) MKTREE=${NFH_MKTREE:?set NFH_MKTREE to the nfh-mktree program} ;;
realistic) GEN=${NFH_GEN:?set NFH_GEN to the nfhunt-gen program} ;;
*) echo "bench: BENCH_TRAFFIC=$TRAFFIC: random or realistic" >&2; exit 2 ;;
esac
NFHUNT=${NFHUNT:?set NFHUNT to the nfhunt program}
NFDUMP=${NFDUMP:-$(command -v nfdump || true)}
FLOWS=${BENCH_FLOWS:-10000000}
FILES=${BENCH_FILES:-144}
USERS=${BENCH_USERS:-2600}
HOME_NET=${BENCH_HOME_NET:-10.0.0.0/16,10.1.0.0/24,198.51.100.0/24,2001:db8:100::/48}
# hunt ARGS...: the full hunt of the tree, every detector of the plugin
# directory, with the scenario's home networks for generated traffic.
hunt() {
  if [ "$TRAFFIC" = realistic ]; then
    "$NFHUNT" -R "$tree" --no-state --plugin-dir "$NFH_PLUGIN_DIR" \
      --home-net "$HOME_NET" -o ndjson --alert-level info "$@"
  else
    "$NFHUNT" -R "$tree" --no-state --plugin-dir "$NFH_PLUGIN_DIR" \
      -o ndjson --alert-level info "$@"
  fi
}
ROUNDS=${BENCH_ROUNDS:-3}

if [ -z "$NFDUMP" ]; then
  echo "bench: nfdump is not installed; nothing to compare against" >&2
  exit 77
fi

if [ "$TRAFFIC" = random ]; then
  want="flows=$FLOWS files=$FILES seed=42"
else
  want="traffic=realistic users=$USERS days=1 seed=42"
fi
if [ ! -f "$tree.stamp" ] || [ "$(cat "$tree.stamp")" != "$want" ] ||
   [ ! -d "$tree" ]; then
  echo "bench: building $tree ($want) ..."
  rm -rf "$tree" "$tree.tmp" "$tree.stamp"
  mkdir -p "$(dirname "$tree")"
  start=$(date +%s%N)
  if [ "$TRAFFIC" = random ]; then
    "$MKTREE" -n "$FLOWS" -f "$FILES" -s 42 "$tree.tmp"
  else
    "$GEN" -w "$tree.tmp" -b 2024-03-04T00:00Z -d 1d -u "$USERS" -s 42 \
      -c lz4,lzo -l "$tree.labels.json" -q
  fi
  mv "$tree.tmp" "$tree"
  echo "$want" > "$tree.stamp"
  end=$(date +%s%N)
  echo "bench: tree built in $(( (end - start) / 1000000 )) ms," \
       "$(du -sh "$tree" | cut -f1) on disk"
else
  echo "bench: reusing $tree ($want)"
fi

# Untimed first reads: warm cache and flow counts.
nfhunt_out=$("$NFHUNT" --count -R "$tree")
nfhunt_flows=$(echo "$nfhunt_out" | sed -n 's/.* flows \([0-9]*\) .*/\1/p')
nfdump_out=$("$NFDUMP" -R "$tree" -o null 2>&1)
nfdump_flows=$(echo "$nfdump_out" |
  sed -n 's/^Total flows processed: \([0-9]*\),.*/\1/p')
echo "bench: nfhunt counts ${nfhunt_flows:-?} flows ($nfhunt_out)"
echo "bench: nfdump counts ${nfdump_flows:-?} flows" \
     "($(echo "$nfdump_out" | grep '^Summary' || true))"
status=0
# The generator's record count follows from its scenario, not from a
# number asked for: there both tools must only agree.
[ "$TRAFFIC" = realistic ] && FLOWS=${nfhunt_flows:-0}
if [ -z "$nfhunt_flows" ] || [ "$nfhunt_flows" != "$nfdump_flows" ] ||
   [ "$nfhunt_flows" != "$FLOWS" ]; then
  echo "bench: FAIL: flow counts differ (tree has $FLOWS)"
  status=1
fi

now() { date +%s%N; }
times_nfhunt=""
times_nfdump=""
r=1
while [ "$r" -le "$ROUNDS" ]; do
  t0=$(now)
  "$NFHUNT" --count -R "$tree" > /dev/null
  t1=$(now)
  "$NFDUMP" -R "$tree" -q -s srcip/bytes -n 10 > /dev/null
  t2=$(now)
  a=$(( (t1 - t0) / 1000 ))
  b=$(( (t2 - t1) / 1000 ))
  echo "bench: round $r: nfhunt $(( a / 1000 )) ms, nfdump $(( b / 1000 )) ms"
  times_nfhunt="$times_nfhunt $a"
  times_nfdump="$times_nfdump $b"
  r=$((r + 1))
done

# The full hunt: every detector of the plugin directory, alternately with
# the same nfdump run, and the hunt's peak resident memory.
times_hunt=""
times_nfdump2=""
if [ -n "${NFH_PLUGIN_DIR:-}" ]; then
  r=1
  while [ "$r" -le "$ROUNDS" ]; do
    t0=$(now)
    hunt > /dev/null 2>&1 || true
    t1=$(now)
    "$NFDUMP" -R "$tree" -q -s srcip/bytes -n 10 > /dev/null
    t2=$(now)
    a=$(( (t1 - t0) / 1000 ))
    b=$(( (t2 - t1) / 1000 ))
    echo "bench: hunt round $r: nfhunt $(( a / 1000 )) ms, nfdump $(( b / 1000 )) ms"
    times_hunt="$times_hunt $a"
    times_nfdump2="$times_nfdump2 $b"
    r=$((r + 1))
  done
  py=${PYTHON3:-/usr/bin/python3}
  # The home networks the hunt above had (the defaults for random traffic).
  home=$HOME_NET
  [ "$TRAFFIC" = random ] && home=10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7
  rss=$("$py" -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
    "$NFHUNT" -R "$tree" --no-state --plugin-dir "$NFH_PLUGIN_DIR" \
    --home-net "$home" -o ndjson --alert-level info)
  rss_count=$("$py" -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
    "$NFHUNT" --count -R "$tree")
  findings=$(hunt 2>/dev/null | wc -l)
  # CPU seconds of each thread of one full hunt (by name: the main thread,
  # nfh-DETECTOR, nfh-decode), read from /proc while it runs, every 50 ms
  # (a thread's last 50 ms before it ends may be missed). The busiest
  # thread is the floor of the wall time on a machine with a core for
  # every thread.
  threads=$("$py" -c 'import os, subprocess, sys, time
hz = os.sysconf("SC_CLK_TCK")
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
cpu = {}
while p.poll() is None:
    try:
        tids = os.listdir("/proc/%d/task" % p.pid)
    except OSError:
        break
    for t in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (p.pid, t)) as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        cpu[(t, name)] = (int(fields[11]) + int(fields[12])) / hz
    time.sleep(0.05)
by = {}
for (t, name), s in cpu.items():
    by[name] = by.get(name, 0) + s
print(" ".join("%s=%.2f" % kv for kv in sorted(by.items(), key=lambda kv: -kv[1])))' \
    "$NFHUNT" -R "$tree" --no-state --plugin-dir "$NFH_PLUGIN_DIR" \
    --home-net "$home" -o ndjson --alert-level info)
  # nfdump's CPU seconds for the same comparison (CPU against CPU: other
  # load on the machine stretches wall times, not these).
  nfdump_cpu=$("$py" -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(u.ru_utime + u.ru_stime)' "$NFDUMP" -R "$tree" -q -s srcip/bytes -n 10)

  # Where the time goes, one run each: the engine alone (reading,
  # stitching, the example detector that only counts connections), then
  # each detector alone. Wall and CPU seconds (user + system).
  split=""
  if [ -n "${NFH_EXAMPLE_MODULE:-}" ] && [ -f "$NFH_EXAMPLE_MODULE" ]; then
    engine_dir=$(mktemp -d)
    ln -s "$NFH_EXAMPLE_MODULE" "$engine_dir/example.so"
    timed() { # LABEL ARGS...: "LABEL wall cpu"
      label=$1
      shift
      "$py" -c 'import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(sys.argv[1], time.monotonic() - t, u.ru_utime + u.ru_stime)' "$label" \
        "$NFHUNT" -R "$tree" --no-state --home-net "$home" -o ndjson "$@"
    }
    split=$(timed "engine alone (example detector)" --plugin-dir "$engine_dir"
      for m in "$NFH_PLUGIN_DIR"/*.so; do
        name=$(basename "$m" .so)
        timed "$name alone" --plugin-dir "$NFH_PLUGIN_DIR" --plugins "$name"
      done)
    rm -rf "$engine_dir"
  fi
fi

median() { # microseconds, one per argument
  printf '%s\n' "$@" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
          else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# shellcheck disable=SC2086
m_nfhunt=$(median $times_nfhunt)
# shellcheck disable=SC2086
m_nfdump=$(median $times_nfdump)

awk -v flows="$FLOWS" -v a="$m_nfhunt" -v b="$m_nfdump" -v n="$ROUNDS" \
    -v traffic="$TRAFFIC" 'BEGIN {
  fa = flows / (a / 1e6); fb = flows / (b / 1e6);
  printf "bench: %s traffic, %d flows, median of %d rounds each (warm cache)\n", traffic, flows, n;
  printf "bench: nfhunt --count -R                   %8.3f s  %12.0f flows/s\n", a / 1e6, fa;
  printf "bench: nfdump -R -q -s srcip/bytes -n 10   %8.3f s  %12.0f flows/s\n", b / 1e6, fb;
  printf "bench: ratio nfhunt/nfdump (flows/s)       %8.2f\n", fa / fb;
  printf "bench: ratio of times nfhunt/nfdump        %8.2f\n", a / b;
}'
if [ -n "$times_hunt" ]; then
  # shellcheck disable=SC2086
  m_hunt=$(median $times_hunt)
  # shellcheck disable=SC2086
  m_nfdump2=$(median $times_nfdump2)
  awk -v flows="$FLOWS" -v a="$m_hunt" -v b="$m_nfdump2" -v n="$ROUNDS" \
      -v rss="$rss" -v rssc="$rss_count" -v nf="$findings" 'BEGIN {
    printf "bench: full hunt, median of %d rounds each\n", n;
    printf "bench: nfhunt -R (all detectors)           %8.3f s  %12.0f flows/s\n", a / 1e6, flows / (a / 1e6);
    printf "bench: nfdump -R -q -s srcip/bytes -n 10   %8.3f s  %12.0f flows/s\n", b / 1e6, flows / (b / 1e6);
    printf "bench: ratio of times hunt/nfdump          %8.2f   (goal <= 1, bound 2)\n", a / b;
    printf "bench: peak RSS: hunt %.0f MiB, --count %.0f MiB; %d findings\n", rss / 1024, rssc / 1024, nf;
  }'
  echo "$threads" | awk -v b="$nfdump_cpu" '{
    top = 0; line = "";
    for (i = 1; i <= NF; i++) {
      split($i, kv, "=");
      if (kv[2] > top && kv[1] != "nfh-decode") top = kv[2];
      line = line sprintf("%s %.2f s, ", kv[1], kv[2]);
    }
    sub(/, $/, "", line);
    printf "bench:   CPU of the full hunt by thread: %s\n", line;
    printf "bench:   busiest thread %.2f s, nfdump %.2f s CPU (%.2fx): the floor of the ratio with a core per thread\n", top, b, top / b;
  }'
  if [ -n "$split" ]; then
    echo "$split" | awk -v b="$m_nfdump2" '{
      cpu = $NF; wall = $(NF - 1); $NF = ""; $(NF - 1) = "";
      printf "bench:   %-34s %6.2f s wall (%5.2fx nfdump), %6.2f s CPU\n", $0, wall, wall / (b / 1e6), cpu;
    }'
  fi
fi
exit $status
