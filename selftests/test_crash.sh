#!/bin/bash
# Crash consistency of a sync: xlbd killed at every map write of a sync,
# then started again, ends with every service programmed as its config
# says, and no flow is lost on the way.
#
# One LB, three backends (lib.sh's topology), tc mode. Config A has
# N_BASE services (TCP and UDP, IPv4 and IPv6, one to three backends of
# varied weights, every one of them answered by the real backends). The
# change to B adds two services (TCP v4, UDP v6), changes four (a backend
# added, one removed, a weight changed, one terminating) and removes two.
#
# 1. xlbd programs A; a long-lived TCP connection opens through a
#    service of A that B keeps.
# 2. xlbd is restarted with B, XLB_FAULT_MAP_WRITES unset, and -vv: its
#    debug line gives W, the map writes of the sync A -> B.
# 3. For every N in 1..W: the maps hold A, no xlbd runs; xlbd starts with
#    B and XLB_FAULT_MAP_WRITES=N (it SIGKILLs itself after its N-th map
#    write, as a kill -9 would), then xlbd starts normally with B. Then
#      - the maps are checked in full against B (xlbctl -o json service
#        list and backend list: every service, its frontend, a table for
#        each service with an active backend, its backends with their
#        port, weight and state; nothing else), and the Maglev tables of
#        the changed and new services and of a few others (every active
#        backend has slots, no other id has any);
#      - on every SAMPLE-th N and on the last, real requests: while no
#        xlbd runs after the kill, to a spread sample of the services A
#        and B share (0 failed); after the restart, to that sample and to
#        the new and changed services (0 failed, each answered by one of
#        its backends);
#      - A is written back (xlbd applies it by itself) and xlbd stopped;
#        the next kill's xlbd must adopt it with nothing to repair.
#    Every N gets the full map check. Each N costs two xlbd starts (the
#    programs loaded and verified twice, about 2 s on 2 busy cores) and
#    real requests would add about a second more, so requests go to a
#    spread sample of N (N = 1, every SAMPLE-th, W) and the change is
#    kept small: W was 35 writes, the sweep 170 s and the test 190 s at
#    a load average of 10 on 2 cores (the socket hooks are off to save
#    their load).
# 4. A pin missing among present ones: xlb_svc's pin is removed while no
#    xlbd runs; the next xlbd says so, writes every service again, and
#    the maps and requests check as in 3.
# 5. The long-lived connection has lost no request and kept its backend.
# One PASS:/FAIL: line per check. Run as root: bash selftests/test_crash.sh
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
XLB_SAVE_LOGS="$XLB_ROOT/build/test-logs/test_crash.files"

N_BASE=300		# services of A
SAMPLE=6		# real requests on every SAMPLE-th N
CONF="$XLB_RUN/xlb.json"
PY="$XLB_RUN/crash.py"
# No socket hooks: the test is about the maps, and each xlbd start
# then loads fewer programs (the sweep starts xlbd twice per write).
SIZES=(--max-services 1024 --max-backends 4096 --ring-slots 262144
	--socket-lb off)

if ! xlb_bins_snapshot; then
	xlb_fail "xlbd and xlbctl are built: missing $XLB_XLBD or $XLB_XLBCTL"
	exit 1
fi
xlb_topo_up 1 3 tc || exit 1
LB="${XLB_NS_LB[1]}"

# The configs, the map checks and the request checks, in one helper:
#   crash.py gen DIR N_BASE            writes DIR/a.json, DIR/b.json and
#                                      DIR/{shared,changed}.txt (names)
#   crash.py check CONF SVCS BES       the maps (xlbctl JSON) against CONF
#   crash.py ring CONF PREFIX NAME...  Maglev tables (PREFIX.NAME.json)
#   crash.py want CONF NAME            "vip port proto be-names" of NAME
cat >"$PY" <<'EOF'
import json, sys

def svc(i, name=None, nbe=None):
    proto = "udp" if i % 3 == 2 else "tcp"
    v6 = i % 4 == 3
    vip = ("fd00:96::1:%x" % i) if v6 else "10.96.%d.%d" % (1 + i // 200, 1 + i % 200)
    nbe = nbe or 1 + i % 3
    bes = []
    for k in range(nbe):
        j = 1 + (i + k) % 3
        ip = ("fd00:20::%d" % (10 + j)) if v6 else "10.20.0.%d" % (10 + j)
        bes.append({"ip": ip, "port": 9000 if proto == "udp" else 8080,
                    "weight": 1 + (i + k) % 3})
    return {"name": name or "s%03d" % i, "vip": vip,
            "port": 9000 if proto == "udp" else 80, "protocol": proto,
            "backends": bes}

def gen(d, n):
    a = [svc(i) for i in range(n)]
    b = [dict(s, backends=[dict(x) for x in s["backends"]]) for s in a]
    changed = []
    # A backend added (s000 has one), one removed (s002 has three), a
    # weight changed (s004), one terminating (s005, three backends).
    b[0]["backends"].append(svc(1, nbe=2)["backends"][1] | {"weight": 2})
    b[2]["backends"].pop()
    b[4]["backends"][0]["weight"] = 3 if b[4]["backends"][0]["weight"] != 3 else 1
    b[5]["backends"][1]["state"] = "terminating"
    changed += ["s000", "s002", "s004", "s005"]
    # Two removed (TCP v4, UDP v6), two added (TCP v4, UDP v6).
    b = [s for s in b if s["name"] not in ("s010", "s011")]
    for k, i in enumerate((n, n + 11)):
        b.append(svc(i, name="new%d" % k, nbe=2))
        changed.append("new%d" % k)
    for name, doc in (("a", a), ("b", b)):
        with open("%s/%s.json" % (d, name), "w") as f:
            json.dump({"services": doc}, f, indent=1)
    names_b = {s["name"] for s in b}
    shared = [s["name"] for s in a if s["name"] in names_b and s["name"] not in changed]
    with open(d + "/changed.txt", "w") as f:
        f.write("\n".join(changed) + "\n")
    with open(d + "/shared.txt", "w") as f:
        # A spread sample: every 25th, both protocols and families.
        f.write("\n".join(shared[::25]) + "\n")

def load(p):
    with open(p) as f:
        return {s["name"]: s for s in json.load(f)["services"]}

def active(s):
    return [b for b in s["backends"]
            if b.get("state", "active") == "active" and b.get("weight", 1)]

def check(conf, svcs_p, bes_p):
    want = load(conf)
    with open(svcs_p) as f:
        rows = json.load(f)
    with open(bes_p) as f:
        bes = json.load(f)
    bad = []
    seen = set()
    for r in rows:
        s = want.get(r["name"])
        if not s:
            bad.append("frontend %s:%s of %s: not in the config" % (r["vip"], r["port"], r["name"]))
            continue
        seen.add(r["name"])
        if (r["vip"], r["port"], r["protocol"], r["kind"]) != (s["vip"], s["port"], s["protocol"], "cluster-ip"):
            bad.append("%s: frontend %s:%s/%s %s" % (r["name"], r["vip"], r["port"], r["protocol"], r["kind"]))
        if bool(r["table_size"]) != bool(active(s)):
            bad.append("%s: table %d with %d active backends" % (r["name"], r["table_size"], len(active(s))))
    for n in sorted(set(want) - seen):
        bad.append("%s: no frontend" % n)
    got = {}
    for b in bes:
        got.setdefault(b["service"], set()).add((b["ip"], b["port"], b["weight"], b["state"]))
    for n, s in want.items():
        w = {(b["ip"], b["port"], b.get("weight", 1), b.get("state", "active")) for b in s["backends"]}
        if got.get(n, set()) != w:
            bad.append("%s: backends %s, want %s" % (n, sorted(got.get(n, set())), sorted(w)))
    for n in sorted(set(got) - set(want)):
        bad.append("%s: %d backends of a service not in the config" % (n, len(got[n])))
    print("%d services, %d backends: %s" % (len(rows), len(bes),
          "ok" if not bad else "%d wrong: %s" % (len(bad), "; ".join(bad[:4]))))
    return 1 if bad else 0

def ring(conf, prefix, *names):
    svcs = load(conf)
    rc = 0
    for name in names:
        s = svcs[name]
        with open("%s.%s.json" % (prefix, name)) as f:
            m = json.load(f)
        act = {b["ip"] for b in active(s)}
        slots = {b["ip"]: b["slots"] for b in m["backends"]}
        bad = ["%s has no slot" % ip for ip in act if not slots.get(ip)]
        bad += ["%s has %d slots" % (ip, n) for ip, n in slots.items()
                if n and ip not in act]
        if sum(slots.values()) != m["table_size"]:
            bad.append("%d of %d slots hold its backends" % (sum(slots.values()), m["table_size"]))
        if bad:
            print("%s: %s" % (name, ", ".join(bad)))
            rc = 1
    return rc

def want_of(conf, name):
    s = load(conf)[name]
    names = sorted({"b%d" % (int(b["ip"].rsplit(".", 1)[-1].rsplit(":", 1)[-1]) - 10)
                    for b in active(s)})
    print(s["vip"], s["port"], s["protocol"], ",".join(names))
    return 0

cmd = sys.argv[1]
if cmd == "gen":
    gen(sys.argv[2], int(sys.argv[3]))
    sys.exit(0)
sys.exit({"check": check, "ring": ring, "want": want_of}[cmd](*sys.argv[2:]))
EOF
"$XLB_PY" "$PY" gen "$XLB_RUN" "$N_BASE" || { xlb_fail "configs generated"; exit 1; }
mapfile -t SHARED <"$XLB_RUN/shared.txt"
mapfile -t CHANGED <"$XLB_RUN/changed.txt"
xlb_log "A: $N_BASE services; B: ${#CHANGED[@]} new or changed, 2 removed; request sample: ${SHARED[*]}"

use_conf() { cp "$XLB_RUN/$1.json" "$CONF.tmp" && mv "$CONF.tmp" "$CONF"; }

# maps_are A|B: the maps hold that config (prints what is wrong).
maps_are() {
	local s="$XLB_RUN/svcs.json" b="$XLB_RUN/bes.json"
	xlb_ctl 1 -o json service list >"$s" && xlb_ctl 1 -o json backend list >"$b" &&
		"$XLB_PY" "$PY" check "$XLB_RUN/$1.json" "$s" "$b"
}

# rings_are A|B NAME...: those services' Maglev tables (prints what is
# wrong).
rings_are() {
	local c="$1" n
	shift
	for n in "$@"; do
		xlb_ctl 1 -o json maglev show "$n" >"$XLB_RUN/maglev.$n.json" ||
			echo '{"table_size": -1, "backends": []}' >"$XLB_RUN/maglev.$n.json"
	done
	"$XLB_PY" "$PY" ring "$XLB_RUN/$c.json" "$XLB_RUN/maglev" "$@"
}

# requests_ok A|B NAME...: three requests to each service, from the
# client: all answered, each by one of the service's backends. Prints
# what failed.
requests_ok() {
	local c="$1" n vip port proto names out got rc=0
	shift
	for n in "$@"; do
		read -r vip port proto names < <("$XLB_PY" "$PY" want "$XLB_RUN/$c.json" "$n")
		if [ "$proto" = tcp ]; then
			out="$(xlb_http_burst "$vip" "$port" 3 | awk '$2 == 200 { print $1 }')"
		else
			out="$(xlb_udp "$vip" "$port" --count 3 2>/dev/null)"
		fi
		got=0
		for x in $out; do
			[[ ",$names," == *",$x,"* ]] && got=$((got + 1))
		done
		if [ "$got" != 3 ]; then
			echo "$n ($vip:$port/$proto): $got of 3 answered by $names (got: $(echo $out))"
			rc=1
		fi
	done
	return $rc
}

XLBD_OPTS=(--iface ethc,ethb --bpffs "$XLB_BPFFS/lb1" "${XLB_XLBD_CG[@]}"
	"${XLB_XLBD_ARGS[@]}" "${SIZES[@]}" --metrics-address none)

# fault_run N: xlbd with B and XLB_FAULT_MAP_WRITES=N, in the foreground;
# prints its exit status.
fault_run() {
	XLB_FAULT_MAP_WRITES="$1" ip netns exec "$LB" timeout 20 "$XLB_XLBD" \
		--config "$CONF" "${XLBD_OPTS[@]}" >"$XLB_RUN/fault.log" 2>&1 </dev/null
	echo $?
}

start_xlbd() { xlb_xlbd_start 1 auto "$CONF" "${SIZES[@]}" "$@"; }

# --- 1. A, and a long-lived connection --------------------------------------
use_conf a
t_start=$(xlb_now_ms)
if ! start_xlbd; then
	xlb_fail "xlbd programs A"
	exit 1
fi
xlb_check "A programmed: $(maps_are a)" maps_are a
xlb_check "A: requests to the sample answered" requests_ok a "${SHARED[@]}"
ka_svc="${SHARED[0]}"
read -r ka_vip ka_port _ _ < <("$XLB_PY" "$PY" want "$XLB_RUN/a.json" "$ka_svc")
rm -f "$XLB_RUN/ka.stop"
xlb_bg ka "$XLB_NS_C" timeout 600 "$XLB_PY" "$XLB_SERVERS/client.py" keepalive \
	"$ka_vip" "$ka_port" --state "$XLB_RUN/ka.state" --stop "$XLB_RUN/ka.stop" \
	--interval 0.2 --max-time 590
ka_ok() { [ "$(xlb_jq 'd["ok"]' <"$XLB_RUN/ka.state" 2>/dev/null || echo 0)" -ge "$1" ]; }
xlb_check "long-lived connection to $ka_svc answers" xlb_wait_until 10 ka_ok 3

# --- 2. the writes of the sync A -> B ----------------------------------------
xlb_xlbd_stop 1
use_conf b
if ! start_xlbd -vv; then
	xlb_fail "xlbd programs B"
	exit 1
fi
W="$(grep -o 'sync: [0-9]* map writes since the start' "$(xlb_xlbd_log 1)" | tail -1 | awk '{ print $2 }')"
xlb_check "the sync A -> B counts its map writes: ${W:-none}" test "${W:-0}" -gt 0
xlb_check "B programmed (no crash): $(maps_are b)" maps_are b
xlb_check "B: tables of the changed and new services" rings_are b "${CHANGED[@]}"
use_conf a
xlb_check "back to A" xlb_wait_until 10 maps_are a
xlb_xlbd_stop 1
W="${W:-0}"

# --- 3. killed at every write --------------------------------------------------
bad_kill=0 bad_maps=0 bad_rings=0 bad_dark=0 bad_req=0 bad_back=0 n_req=0
n_repaired=0 t_sweep=$(xlb_now_ms)
for ((n = 1; n <= W; n++)); do
	use_conf b
	st="$(fault_run "$n")"
	if [ "$st" != 137 ] || ! grep -q "map write $n done, killing xlbd" "$XLB_RUN/fault.log"; then
		xlb_fail "N=$n: xlbd did not kill itself at write $n (status $st): $(tail -1 "$XLB_RUN/fault.log")"
		bad_kill=$((bad_kill + 1))
	fi
	# The kill came in a sync from A as it should be: written back
	# after the last restart, adopted with nothing to repair.
	if ! grep -q "adopted $N_BASE services and [0-9]* backends from pinned maps, all consistent" \
		"$XLB_RUN/fault.log"; then
		xlb_fail "N=$n: the sync did not start from A: $(grep -m1 adopted "$XLB_RUN/fault.log")"
		bad_back=$((bad_back + 1))
	fi
	sample=$(((n % SAMPLE) == 0 || n == W || n == 1))
	if [ "$sample" = 1 ] && ! out="$(requests_ok a "${SHARED[@]}")"; then
		xlb_fail "N=$n: after the kill, with no xlbd: $out"
		bad_dark=$((bad_dark + 1))
	fi
	if ! start_xlbd; then
		xlb_fail "N=$n: xlbd did not get ready after the kill"
		bad_maps=$((bad_maps + 1))
		break
	fi
	grep -q 'written again in full by the first sync' "$(xlb_xlbd_log 1)" &&
		n_repaired=$((n_repaired + 1))
	if ! out="$(maps_are b)"; then
		xlb_fail "N=$n: maps after the restart: $out"
		bad_maps=$((bad_maps + 1))
	fi
	if ! out="$(rings_are b "${CHANGED[@]}" "${SHARED[@]:0:2}")"; then
		xlb_fail "N=$n: Maglev tables after the restart: $out"
		bad_rings=$((bad_rings + 1))
	fi
	if [ "$sample" = 1 ]; then
		n_req=$((n_req + 1))
		if ! out="$(requests_ok b "${SHARED[@]}" "${CHANGED[@]}")"; then
			xlb_fail "N=$n: requests after the restart: $out"
			bad_req=$((bad_req + 1))
		fi
	fi
	# Back to A (xlbd sees the file change); the next kill's
	# adoption checks it was.
	use_conf a
	if ! xlb_wait_until 10 grep -q '^.* config changed: ' "$(xlb_xlbd_log 1)"; then
		xlb_fail "N=$n: A not applied after the restart"
		bad_back=$((bad_back + 1))
	fi
	xlb_xlbd_stop 1
done
xlb_log "swept N = 1..$W in $(($(xlb_now_ms) - t_sweep)) ms; $n_repaired restarts repaired services; requests on $n_req of them"
xlb_check_eq "$bad_kill" 0 "killed at each of the $W writes of the sync: runs that did not die there"
xlb_check_eq "$bad_maps" 0 "maps equal B after each of the $W kills and a restart: runs that did not"
xlb_check_eq "$bad_rings" 0 "Maglev tables right after each of the $W kills: runs that were not"
xlb_check_eq "$bad_dark" 0 "services of A and B answer while no xlbd runs after the kill ($n_req kills sampled): runs with a failure"
xlb_check_eq "$bad_req" 0 "old, changed and new services answer after the restart ($n_req restarts sampled): runs with a failure"
xlb_check_eq "$bad_back" 0 "each kill in a sync from A as written back, nothing to repair: runs that were not"
xlb_check "some kills left services to repair, and the restart said so ($n_repaired of $W)" \
	test "$n_repaired" -gt 0

# --- 4. a pin missing among present ones ---------------------------------------
use_conf b
rm -f "$XLB_BPFFS/lb1/xlb_svc"
if start_xlbd; then
	log="$(xlb_xlbd_log 1)"
	xlb_check "xlb_svc pin missing: the log names it" \
		grep -q "map xlb_svc: no pin under $XLB_BPFFS/lb1 among [0-9]* pinned maps: created empty" "$log"
	xlb_check "xlb_svc pin missing: services written again, said once: $(grep -m1 'no ClusterIP frontend' "$log")" \
		grep -q "adopt: $N_BASE services (.*): no ClusterIP frontend in xlb_svc; written again in full by the first sync" "$log"
	xlb_check "xlb_svc pin missing: maps equal B: $(maps_are b)" maps_are b
	xlb_check "xlb_svc pin missing: Maglev tables" rings_are b "${CHANGED[@]}" "${SHARED[@]:0:3}"
	xlb_check "xlb_svc pin missing: requests answered" requests_ok b "${SHARED[@]}" "${CHANGED[@]}"
	kill -HUP "${XLB_BG[xlbd1]}"
	xlb_wait_until 10 grep -q 'SIGHUP: ' "$log"
	xlb_check "xlb_svc pin missing: a reload then finds nothing to write" \
		grep -q "SIGHUP: 0 added, 0 updated, 0 removed, $N_BASE unchanged" "$log"
	xlb_xlbd_stop 1
else
	xlb_fail "xlb_svc pin missing: xlbd did not get ready"
fi

# --- 5. the long-lived connection ------------------------------------------------
touch "$XLB_RUN/ka.stop"
xlb_bg_stop ka TERM >/dev/null
st="$(xlb_jq '"%d failed, %d backends, %d ok" % (d["fail"], len(d["backends"]), d["ok"])' <"$XLB_RUN/ka.state")"
if [[ "$st" =~ ^0\ failed,\ 1\ backends,\ ([0-9]+)\ ok$ ]] && [ "${BASH_REMATCH[1]}" -ge 20 ]; then
	xlb_pass "long-lived connection across $W kills and $((W + 2)) restarts: $st"
else
	xlb_fail "long-lived connection: got $st, want 0 failed, 1 backends, >= 20 ok"
fi
xlb_log "test time $(($(xlb_now_ms) - t_start)) ms"

xlb_ns "$LB" "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/lb1" detach --iface ethc,ethb >/dev/null 2>&1
echo "$XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ]
