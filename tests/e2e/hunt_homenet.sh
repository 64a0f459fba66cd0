#!/bin/bash
# hunt_homenet.sh - a site numbered in public space: with no --home-net,
# nfhunt reads the home networks from the traffic, says so, and finds
# what it finds with the networks given.
#
# nfhunt-gen sends three hours of an organisation whose users, servers
# and DMZ sit in public space (147.32.0.0/17, 147.32.250.0/24,
# 195.113.5.0/24, 2001:718:1::/48), with a beacon, a bulk and a slow
# exfiltration and a scan injected, as NetFlow v9 to a real nfcapd on
# 127.0.0.1. Then nfhunt hunts nfcapd's files
#   - with no home networks given: one warning line naming the networks
#     it took (147.32.0.0/16 and 195.113.5.0/24 among them), the report's
#     inputs.home_networks "inferred", and the labelled beacon and both
#     exfiltrations found at medium or above;
#   - with the networks of the plan given: the same beaconing and
#     exfiltration findings (type, hosts, severity), "given";
#   - with only the defaults given (RFC 1918, RFC 4193): no beaconing or
#     exfiltration finding at all - the silence the guess is for - and
#     one warning naming the networks the flows outside them touch
#     (once with a state, below);
# then two hourly runs with one state over nfhunt-gen's direct tree of
# the same scenario: the first warns, the second (whose sample has too
# little IPv6 to name the /48 again) keeps the first's networks and says
# nothing; then nfhunt-gen's default plan (private users, a public DMZ
# and a global IPv6 prefix): one warning, the DMZ and the prefix taken
# as home, "inferred"; and an organisation numbered privately throughout
# says nothing of home networks: "default".
# Last line: "N passed, N failed". Exit 0 if all passed, 1 if not, 77
# when nfcapd or python3 is missing, 99 when the programs are not built.

set -u

. "$(dirname "$0")/e2e_lib.sh"

e2e_need_tools nfcapd
e2e_need_python
e2e_need_built "$gen" "$nfhunt"

. "$(dirname "$0")/capd_lib.sh"

capd_tmpdir homenet
export TZ=UTC

plan="--users-net 147.32.0.0/17 --servers-net 147.32.250.0/24 \
--dmz-net 195.113.5.0/24 --v6-net 2001:718:1::/48"
given=147.32.0.0/17,147.32.250.0/24,195.113.5.0/24,2001:718:1::/48
defaults=10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7
# shellcheck disable=SC2086 # options are words
args="-b 2024-03-05T09:00Z -d 3h -s 11 -u 60 $plan \
-i beacon:period=90s,jitter=10,duration=2h30m \
-i bulk_exfiltration:size=2G,duration=10m \
-i slow_exfiltration:rate=40M,duration=2h30m \
-i horizontal_scan --proto v9"

mkdir -p "$tmp/capd"
if ! capd_start "$tmp/capd" 127.0.0.1 -t 3600 -B 8388608 -I homenet; then
	fail "nfcapd did not start"
	echo "$passed passed, $failed failed"
	exit 1
fi
# shellcheck disable=SC2086
if timeout 300 "$gen" $args --export "127.0.0.1:$port" --rate 40000 \
	-l "$tmp/labels.json" -q; then
	pass "nfhunt-gen exported the public-space organisation to nfcapd"
else
	fail "nfhunt-gen --export failed"
fi
sleep 0.5
stop_capd || fail "nfcapd did not stop on SIGTERM"

# hunt NAME ARGS...: nfhunt over nfcapd's files, report NAME.json,
# stderr NAME.err, exit status NAME.rc.
hunt() {
	local name=$1
	shift
	timeout "$tmo" "$nfhunt" -R "$tmp/capd" --no-state --no-config \
		--plugin-dir "$plugins" --alert-level info \
		--output "$tmp/$name.json" "$@" >/dev/null 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
}
hunt inferred
hunt given --home-net "$given"
hunt defaults --home-net "$defaults"

# The warning: one line, naming the networks.
lines=$(grep -c 'home networks' "$tmp/inferred.err")
if [ "$lines" = 1 ] &&
	grep -q '147\.32\.0\.0/16' "$tmp/inferred.err" &&
	grep -q '195\.113\.5\.0/24' "$tmp/inferred.err"; then
	pass "no --home-net: one warning names 147.32.0.0/16 and 195.113.5.0/24"
else
	fail "no --home-net: warning lines ($lines): $(head -c 600 "$tmp/inferred.err")"
fi
if grep -q 'home networks' "$tmp/given.err"; then
	fail "--home-net given: a warning about home networks: $(grep 'home networks' "$tmp/given.err")"
else
	pass "--home-net given: no word about home networks"
fi
# Given networks that leave the site out: one warning naming what the
# flows outside them touch; the networks stay as given.
lines=$(grep -c 'touch none of the home networks given' "$tmp/defaults.err")
if [ "$lines" = 1 ] && [ "$(grep -c 'home networks' "$tmp/defaults.err")" = 1 ] &&
	grep 'touch none' "$tmp/defaults.err" | grep -q '147\.32\.0\.0/16' &&
	grep 'touch none' "$tmp/defaults.err" | grep -q '195\.113\.5\.0/24'; then
	pass "--home-net leaving the site out: one warning names 147.32.0.0/16 and 195.113.5.0/24"
else
	fail "--home-net leaving the site out: $lines warnings: $(head -c 600 "$tmp/defaults.err")"
fi

# The reports, against the labels and each other.
out=$(PYTHONPATH="$e2e" "$py" - "$tmp" <<'EOF'
import json, sys
from checks import check
tmp = sys.argv[1]
labels = json.load(open(tmp + "/labels.json"))
acts = [a for a in labels["activities"] if a["class"] == "injected"]
def load(name):
    with open("%s/%s.json" % (tmp, name)) as f:
        return json.load(f)
rank = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
reports = {n: load(n) for n in ("inferred", "given", "defaults")}
frm = {n: r["inputs"].get("home_networks", {}).get("from")
       for n, r in reports.items()}
check(frm == {"inferred": "inferred", "given": "given",
              "defaults": "given"},
      "inputs.home_networks.from: %s" % frm)
nets = reports["inferred"]["inputs"]["home_networks"]["networks"]
check("147.32.0.0/16" in nets and "195.113.5.0/24" in nets
      and "10.0.0.0/8" in nets,
      "the inferred networks, the defaults kept: %s" % nets)
def found(report, act):
    det = act["detector"]
    hosts = set(act["match"]["hosts"]) | set(act["src"])
    return [f for f in report["findings"]
            if f["type"] == det and rank[f["severity"]] >= rank["medium"]
            and (f["src"] in hosts or f["dst"] in hosts)]
for a in acts:
    if a["detector"] not in ("beaconing", "exfiltration"):
        continue
    hit = found(reports["inferred"], a)
    check(bool(hit), "inferred networks: %s (%s) found at medium or above%s"
          % (a["name"], a["kind"],
             ": " + hit[0]["summary"] if hit else ""))
def key(report):
    return sorted((f["type"], f["src"], f["dst"], f["severity"])
                  for f in report["findings"]
                  if f["type"] in ("beaconing", "exfiltration"))
check(key(reports["inferred"]) == key(reports["given"]) and
      key(reports["given"]),
      "inferred and given networks: the same %d beaconing and "
      "exfiltration findings" % len(key(reports["given"])))
check(not key(reports["defaults"]),
      "defaults only: no beaconing or exfiltration finding (%d)"
      % len(key(reports["defaults"])))
EOF
)
tally "$out" $?

# Hourly runs with one state, as cron runs them: the first warns, the
# next (same guess) does not, and still hunts with the guessed networks;
# a damaged entry in the state's list is left out and said.
# shellcheck disable=SC2086
if timeout 300 "$gen" $args -w "$tmp/direct" -l "$tmp/direct.labels.json" -q; then
	files=$(cd "$tmp/direct" && find . -name 'nfcapd.*' | sort)
	first=$(echo "$files" | head -n 12 | tail -n 1)
	second=$(echo "$files" | sed -n '13p;24p' | tr '\n' ' ')
	state_run() { # NAME RANGE
		timeout "$tmo" "$nfhunt" -R "$tmp/direct/$2" --state "$tmp/hourly.state" \
			--no-config --plugin-dir "$plugins" --output "$tmp/$1.json" \
			>/dev/null 2>"$tmp/$1.err"
	}
	set -- $second
	state_run hour1 "$(echo "$files" | head -n 1 | sed 's|^\./||'):$(basename "$first")"
	state_run hour2 "${1#./}:$(basename "$2")"
	w1=$(grep -c 'taking .* as home' "$tmp/hour1.err")
	w2=$(grep -c 'taking .* as home' "$tmp/hour2.err")
	f2=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["inputs"]["home_networks"]["from"])' \
		"$tmp/hour2.json" 2>&1)
	if [ "$w1" = 1 ] && [ "$w2" = 0 ] && [ "$f2" = inferred ]; then
		pass "with a state: the first run warns, the second keeps its networks and says nothing"
	else
		fail "with a state: warnings $w1 then $w2 (want 1, 0), second run's networks from '$f2'"
	fi
	# Given networks leaving the site out, hourly with a state: the
	# first run warns, the next (the same networks outside) does not.
	given_run() { # NAME RANGE
		timeout "$tmo" "$nfhunt" -R "$tmp/direct/$2" --state "$tmp/given.state" \
			--no-config --plugin-dir "$plugins" --home-net "$defaults" \
			--output "$tmp/$1.json" >/dev/null 2>"$tmp/$1.err"
	}
	given_run given1 "$(echo "$files" | head -n 1 | sed 's|^\./||'):$(basename "$first")"
	given_run given2 "${1#./}:$(basename "$2")"
	w1=$(grep -c 'touch none of the home networks given' "$tmp/given1.err")
	w2=$(grep -c 'home networks' "$tmp/given2.err")
	n2=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["inputs"]["home_networks"]["from"])' \
		"$tmp/given2.json" 2>&1)
	if [ "$w1" = 1 ] && [ "$w2" = 0 ] && [ "$n2" = given ]; then
		pass "given networks leaving the site out, with a state: warned once, still given"
	else
		fail "given networks with a state: warnings $w1 then $w2 (want 1, 0), networks '$n2': $(head -c 300 "$tmp/given2.err")"
	fi
	# A damaged entry in the state's list: left out, said once, not
	# saved again; the good ones still apply.
	"$py" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("update blobs set data = ? where name = ?",
           (b"147.32.0.0/16,junk/99", "nfhunt.home_guessed"))
db.commit()' "$tmp/hourly.state"
	third=$(echo "$files" | sed -n '25p;36p' | sed 's|^\./||' | tr '\n' ' ')
	set -- $third
	state_run hour3 "$1:$2"
	nets3=$("$py" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["inputs"]["home_networks"]["networks"]))' \
		"$tmp/hour3.json" 2>&1)
	kept=$("$py" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select cast(data as text) from blobs where name = ?", ("nfhunt.home_guessed",)).fetchone()[0])' \
		"$tmp/hourly.state" 2>&1)
	if [ "$(grep -c "hold 'junk/99', not a network: left out" "$tmp/hour3.err")" = 1 ] &&
		case " $nets3 " in *" 147.32.0.0/16 "*) true ;; *) false ;; esac &&
		case ",$kept," in *,junk/99,*) false ;; *",147.32.0.0/16,"*) true ;; *) false ;; esac; then
		pass "a damaged network in the state's guess: left out with one line, the others kept ($kept)"
	else
		fail "a damaged state guess: networks '$nets3', saved '$kept', stderr: $(head -c 400 "$tmp/hour3.err")"
	fi
else
	fail "nfhunt-gen did not write the direct tree"
fi

# A privately numbered organisation whose edge shows its public side too
# (nfhunt-gen's default plan: users in 10.0.0.0/16, a DMZ in
# 198.51.100.0/24, a global IPv6 prefix): the defaults hold most flows,
# and the flows between two public addresses name the DMZ and the prefix
# in one warning. Numbered privately throughout (DMZ 172.16.5.0/24, IPv6
# fd00:1::/48): the defaults, and not a word.
home_from() {
	"$py" -c 'import json,sys; h=json.load(open(sys.argv[1]))["inputs"]["home_networks"]; print(h["from"], ",".join(h["networks"]))' \
		"$1" 2>&1
}
for plan_name in public private; do
	extra=()
	[ $plan_name = private ] && extra=(--dmz-net 172.16.5.0/24 --v6-net fd00:1::/48)
	if ! timeout 300 "$gen" -w "$tmp/$plan_name" -b 2024-03-05T09:00Z -d 1h \
		-s 12 -u 60 "${extra[@]}" -l "$tmp/$plan_name.labels.json" -q; then
		fail "nfhunt-gen did not write the $plan_name tree"
		continue
	fi
	timeout "$tmo" "$nfhunt" -R "$tmp/$plan_name" --no-state --no-config \
		--plugin-dir "$plugins" --output "$tmp/$plan_name.json" \
		>/dev/null 2>"$tmp/$plan_name.err"
	got=$(home_from "$tmp/$plan_name.json")
	warnings=$(grep -c 'home networks' "$tmp/$plan_name.err")
	if [ $plan_name = private ]; then
		if [ "${got%% *}" = default ] && [ "$warnings" -eq 0 ]; then
			pass "private plan: the defaults, no warning"
		else
			fail "private plan: '$got', stderr: $(head -c 400 "$tmp/$plan_name.err")"
		fi
	elif [ "${got%% *}" = inferred ] && [ "$warnings" -eq 1 ] &&
		case ",${got#* }," in *,198.51.100.0/24,*) true ;; *) false ;; esac &&
		case ",${got#* }," in *,2001:db8:100::/48,*) true ;; *) false ;; esac &&
		grep -q 'between two public addresses' "$tmp/$plan_name.err"; then
		pass "private users, public DMZ and IPv6: one warning, $got"
	else
		fail "public side: '$got', $warnings warnings: $(head -c 400 "$tmp/$plan_name.err")"
	fi
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
