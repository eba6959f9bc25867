#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The xlb benchmark: packet cost, live forwarding rate by case and (full
# run) control plane. Writes bench/results/<date>-<commit>.json and prints
# a markdown table. Every comparison is a ratio measured in this run;
# absolute figures are context only.
#
#   bench/run.sh [--quick] [--no-control-plane] [--cases LIST] [--reps N]
#                [--results-dir DIR] [--iptables-max N]
#
# --quick (under 3 minutes): packet cost, live rate for (a) plain
# routing, (b) iptables-legacy with 1,000 services and (d) xlb XDP_PASS,
# Maglev figures, map memory per service, and xlbd's one-change latency
# at 1,000 services through one file and through a directory; exits
# non-zero only on gross regressions (wide gates, see bench/report.py).
# Without --quick: every live case, 3 repetitions, and the whole
# control-plane benchmark (bench/cp.py: 1,000 / 10,000 / 100,000
# services, xlbd through one file, a directory and the Kubernetes API,
# iptables); --iptables-max N runs the iptables anchors only up to N
# services (nft at 100,000 alone takes about 10 minutes).
#
# Live topology, one set of namespaces per case (prefix xb<pid>):
#   <pfx>g: gen0 10.0.1.1 -- lb0 10.0.1.2 :<pfx>l: lb1 10.0.2.1 -- be0 10.0.2.2 :<pfx>b
# The generator (bench/trafficgen, live XDP frames) sends IPv4/UDP from
# 10.1.0.1 (or 10.1.x.y with a new source port per frame) to the last
# service's VIP; the LB namespace forwards; be0's XDP counter counts and
# drops what arrives DNATed to 10.128.0.0/9:8080.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

quick=0
control_plane=1
cases=""
reps=3
results_dir=bench/results
cp_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--no-control-plane) control_plane=0 ;;
	--cases) cases="$2"; shift ;;
	--reps) reps="$2"; shift ;;
	--results-dir) results_dir="$2"; shift ;;
	--iptables-max) cp_args+=(--iptables-max "$2"); shift ;;
	-h | --help) sed -n '3,28p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: needs root (namespaces, XDP)" >&2
	exit 2
fi

. tools/deps.sh
xlb_install_deps || exit 1
xlb_build || { echo "bench/run.sh: build failed" >&2; exit 1; }

B="$root/build/bench"
XLBD="$root/build/user/xlbd"
XLBCTL="$root/build/user/xlbctl"
if [ $quick = 1 ]; then
	secs=1
	pkt_calls=50000
	pkt_rounds=5
	n_big=1000
	: "${cases:=a b_legacy_1000 d}"
else
	secs=2
	pkt_calls=200000
	pkt_rounds=10
	n_big=10000
	: "${cases:=a b_legacy_1 b_legacy_$n_big c_nft_1 c_nft_$n_big d e}"
fi
# xlb cases run with as many services as the largest iptables case.
n_xlb=$n_big

pfx="xb$$"
G="${pfx}g" L="${pfx}l" BE="${pfx}b"
work="$(mktemp -d /run/xlb-bench.XXXXXX)"
xlbd_pid=""
bpffs_mounted=0

cleanup() {
	local ns
	if [ -n "$xlbd_pid" ]; then
		kill -TERM "$xlbd_pid" 2>/dev/null
		wait "$xlbd_pid" 2>/dev/null
	fi
	for ns in "$G" "$L" "$BE"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ $bpffs_mounted = 1 ]; then
		umount "$work/bpffs" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain --untracked-files=no -- bpf include user bench 2>/dev/null)" ]; then
	commit="$commit-dirty"
fi
stamp="$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$results_dir" || exit 1
result="$results_dir/$stamp-$commit.json"
started=$(date +%s)

log() { echo "== $*" >&2; }

# ---- topology -----------------------------------------------------------

MAC_GEN=02:78:62:00:01:01
MAC_LB0=02:78:62:00:01:02
MAC_LB1=02:78:62:00:02:01
MAC_BE=02:78:62:00:02:02

topo_up() {
	ip netns add "$G" && ip netns add "$L" && ip netns add "$BE" || return 1
	ip -n "$G" link add gen0 address $MAC_GEN type veth \
		peer name lb0 address $MAC_LB0 netns "$L" || return 1
	ip -n "$L" link add lb1 address $MAC_LB1 type veth \
		peer name be0 address $MAC_BE netns "$BE" || return 1
	ip -n "$G" addr add 10.0.1.1/24 dev gen0
	ip -n "$L" addr add 10.0.1.2/24 dev lb0
	ip -n "$L" addr add 10.0.2.1/24 dev lb1
	ip -n "$BE" addr add 10.0.2.2/24 dev be0
	ip -n "$G" link set lo up && ip -n "$G" link set gen0 up &&
		ip -n "$L" link set lo up && ip -n "$L" link set lb0 up &&
		ip -n "$L" link set lb1 up && ip -n "$BE" link set lo up &&
		ip -n "$BE" link set be0 up || return 1
	ip netns exec "$L" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.lb0.rp_filter=0 net.ipv4.conf.lb1.rp_filter=0 ||
		return 1
	# Static neighbours: the sink drops everything IPv4/UDP and the
	# generator never answers ARP.
	ip -n "$L" neigh replace 10.0.1.1 lladdr $MAC_GEN dev lb0 nud permanent &&
		ip -n "$L" neigh replace 10.0.2.2 lladdr $MAC_BE dev lb1 nud permanent ||
		return 1
	ip -n "$L" route add 10.128.0.0/9 via 10.0.2.2 dev lb1 &&
		ip -n "$L" route add 10.1.0.0/16 via 10.0.1.1 dev lb0 || return 1
}

topo_down() {
	local ns
	if [ -n "$xlbd_pid" ]; then
		kill -TERM "$xlbd_pid" 2>/dev/null
		wait "$xlbd_pid" 2>/dev/null
		xlbd_pid=""
	fi
	for ns in "$G" "$L" "$BE"; do
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# The generator's veth redirects only into a peer running XDP: cases
# without xlb run the null program on lb0, so every case has the same
# receive path and differs only in what the LB does.
attach_null() {
	ip -n "$L" link set dev lb0 xdpdrv obj "$root/build/bpf/null.bpf.o" \
		sec xdp
}

# $1 legacy|nft, $2 services; records the restore time.
load_iptables() {
	local flavour=$1 n=$2 t0 t1 rc
	python3 bench/synth.py iptables "$n" >"$work/rules-$n" || return 1
	t0=$(date +%s.%N)
	timeout 300 ip netns exec "$L" "iptables-$flavour-restore" \
		<"$work/rules-$n"
	rc=$?
	t1=$(date +%s.%N)
	if [ $rc != 0 ]; then
		echo "iptables-$flavour-restore of $n services failed (status $rc; 124 = over 5 minutes)" >&2
		return 1
	fi
	t1=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	echo "{\"case\": \"$cur\", \"services\": $n, \"restore_s\": $t1}" \
		>>"$work/restore.jsonl"
	log "  iptables-$flavour-restore of $n services: $t1 s"
}

# $1 extra xlbd flags; starts xlbd in the LB namespace and waits for ready.
start_xlbd() {
	local dir="$work/bpffs/$cur" i
	if [ ! -x "$XLBD" ]; then
		echo "build/user/xlbd missing" >&2
		return 1
	fi
	if [ $bpffs_mounted = 0 ]; then
		mkdir -p "$work/bpffs" &&
			mount -t bpf bpf "$work/bpffs" || return 1
		bpffs_mounted=1
	fi
	mkdir -p "$dir"
	python3 bench/synth.py xlb "$n_xlb" >"$work/xlb-$n_xlb.json" || return 1
	# lb0's only sender is the generator, which writes complete
	# checksums: --complete-checksums lets xlbd's default mode give that
	# veth native XDP (bench/README.md, "Live rate"); lb1 gets tc.
	nsenter --net="/run/netns/$L" "$XLBD" --config "$work/xlb-$n_xlb.json" \
		--iface lb0,lb1 --complete-checksums lb0 --bpffs "$dir" --socket-lb off "$@" \
		>"$work/xlbd-$cur.log" 2>&1 &
	xlbd_pid=$!
	for i in $(seq 1 600); do
		if grep -q 'ready:' "$work/xlbd-$cur.log"; then
			log "  xlbd: $(grep -m1 'ready:' "$work/xlbd-$cur.log" | sed 's/.*ready:/ready:/')"
			return 0
		fi
		if ! kill -0 "$xlbd_pid" 2>/dev/null; then
			echo "xlbd exited before ready:" >&2
			tail -n 20 "$work/xlbd-$cur.log" >&2
			xlbd_pid=""
			return 1
		fi
		sleep 0.1
	done
	echo "xlbd not ready after 60 s" >&2
	return 1
}

# ---- live rate ----------------------------------------------------------

read -r VIP VPORT BE1 BPORT < <(python3 bench/synth.py addr "$n_big")

# $1 destination address, $2 destination port
measure() {
	local dst=$1 dport=$2 rep mode out
	for rep in $(seq 1 "$reps"); do
		for mode in established new; do
			out=$(timeout 180 "$B/trafficgen" --netns "/run/netns/$G" \
				--iface gen0 --dst-mac $MAC_LB0 --src 10.1.0.1 \
				--dst "$dst" --dport "$dport" --mode $mode \
				--flow-base $((rep << 26)) --seconds "$secs" --cpu 0 \
				--count-netns "/run/netns/$BE" --count-iface be0 \
				--match 10.128.0.0/9:$BPORT) || {
				echo "trafficgen failed in case $cur, $mode" >&2
				return 1
			}
			echo "{\"case\": \"$cur\", \"rep\": $rep, \"run\": $out}" \
				>>"$work/live.jsonl"
			python3 -c 'import json, sys
d = json.loads(sys.argv[1])
print("   rep %s %-11s %9.0f pps delivered (%5.1f%% of %.0f sent; %d counted, %d matched)" % (
    sys.argv[2], d["mode"], d["pps"], 100.0 * d["counted"] / max(d["sent"], 1),
    d["gen_pps"], d["counted"], d["matched"]))' "$out" "$rep" >&2
		done
	done
}

run_case() {
	cur=$1
	local n
	log "live: case $cur"
	topo_down
	topo_up || { echo "topology setup failed" >&2; return 1; }
	case "$cur" in
	a)
		attach_null && measure "$BE1" "$BPORT" ;;
	b_legacy_*)
		n=${cur#b_legacy_}
		attach_null && load_iptables legacy "$n" &&
			read -r VIP VPORT BE1 BPORT < <(python3 bench/synth.py addr "$n") &&
			measure "$VIP" "$VPORT" ;;
	c_nft_*)
		n=${cur#c_nft_}
		attach_null && load_iptables nft "$n" &&
			read -r VIP VPORT BE1 BPORT < <(python3 bench/synth.py addr "$n") &&
			measure "$VIP" "$VPORT" ;;
	d)
		start_xlbd &&
			read -r VIP VPORT BE1 BPORT < <(python3 bench/synth.py addr "$n_xlb") &&
			measure "$VIP" "$VPORT" ;;
	e)
		start_xlbd --fib-redirect &&
			read -r VIP VPORT BE1 BPORT < <(python3 bench/synth.py addr "$n_xlb") &&
			measure "$VIP" "$VPORT" ;;
	*)
		echo "unknown case $cur" >&2; return 1 ;;
	esac
	local rc=$?
	if [ -n "$xlbd_pid" ]; then
		local st try
		for try in 1 2; do
			st=$("$XLBCTL" --bpffs "$work/bpffs/$cur" -o json stats \
				2>"$work/xlbctl.err") &&
				st=$(python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' \
					<<<"$st") && break
			echo "xlbctl stats failed in case $cur (try $try):" \
				"$(head -c 300 "$work/xlbctl.err")" >&2
			st=""
			sleep 0.5
		done
		[ -n "$st" ] && echo "{\"case\": \"$cur\", \"stats\": $st}" \
			>>"$work/xlbstats.jsonl"
	fi
	topo_down
	return $rc
}

# ---- run ----------------------------------------------------------------

failed_parts=()
: >"$work/live.jsonl"
: >"$work/restore.jsonl"
: >"$work/xlbstats.jsonl"

log "packet cost ($pkt_calls calls per scenario and program)"
"$B/pktcost" -n "$pkt_calls" --rounds "$pkt_rounds" --profile --json "$work/pktcost.json" >&2 ||
	failed_parts+=(pktcost)

log "Maglev tables"
"$B/maglevbench" --json "$work/maglev.json" >&2 || failed_parts+=(maglev)
python3 bench/memsvc.py --out "$work/mem.json" >&2 || failed_parts+=(memory)

for c in $cases; do
	run_case "$c" || failed_parts+=("live:$c")
done

if [ $control_plane = 1 ]; then
	log "control plane"
	if [ $quick = 1 ]; then
		# xlbd only, one file against a directory, side by side.
		python3 bench/cp.py --sizes 1000 --changes 20 --flavours "" \
			--out "$work/cp.json" || failed_parts+=(control-plane)
	else
		python3 bench/cp.py "${cp_args[@]}" --out "$work/cp.json" ||
			failed_parts+=(control-plane)
	fi
fi

python3 bench/report.py --quick $quick --pktcost "$work/pktcost.json" \
	--live "$work/live.jsonl" --restore "$work/restore.jsonl" \
	--xlbstats "$work/xlbstats.jsonl" \
	--cp "$work/cp.json" --maglev "$work/maglev.json" \
	--mem "$work/mem.json" --commit "$commit" --stamp "$stamp" \
	--seconds $(( $(date +%s) - started )) \
	--failed "${failed_parts[*]:-}" --out "$result"
rc=$?
echo "results: $result" >&2
if [ $quick = 0 ]; then
	python3 bench/plot.py "$result" || echo "plots failed" >&2
fi
exit $rc
