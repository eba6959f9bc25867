#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Socket-level balancing against the other ways a pod reaches a ClusterIP,
# in one run, as ratios (issue 11, part 2):
#   connections per second (bench/connbench rate: a new TCP connection
#   per request, --workers client processes at once, each one
#   connection at a time) to a pod directly, through xlb's socket hooks,
#   through xlb's per-packet path (tc on the pod's veth), and through
#   kube-proxy-shaped iptables-legacy rules at 1 and 10,000 services
#   (the target is the last service); that the server is not what
#   limits the rate: direct with one client worker, and direct to a
#   server with twice the workers;
#   bulk throughput of one connection (bench/connbench bulk), socket
#   hooks against direct.
#
#   bench/socklb.sh [--secs S] [--reps N] [--services N] [--workers N]
# (defaults 2 s, 5 rounds, 10,000 services, 4 client workers against a
# server of 16; the cases of a phase take turns within each round, and
# every ratio is to the direct rate of the same phase)
#
# Topology (prefix xs<pid>): pod ns P (10.0.1.1) and Q (10.0.3.1, the
# per-packet case's client) -- node ns N (router; xlbd --xdp-mode tc on
# every veth, iptables) -- backend ns B (10.0.2.2, plus the endpoint
# addresses 10.128.x.y). The hooks attach to a cgroup
# made for the run under the cgroup2 mount; the client joins it for the
# socket cases only. Everything is removed at exit.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
secs=2
reps=5
nbig=10000
workers=4
while [ $# -gt 0 ]; do
	case "$1" in
	--secs) secs="$2"; shift ;;
	--reps) reps="$2"; shift ;;
	--services) nbig="$2"; shift ;;
	--workers) workers="$2"; shift ;;
	-h | --help) sed -n '3,24p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "bench/socklb.sh: needs root" >&2; exit 2; }
. tools/deps.sh
xlb_install_deps || exit 1
xlb_build || exit 1

pfx="xs$$"
P=$pfx-p Q=$pfx-q N=$pfx-n B=$pfx-b
work="$(mktemp -d /tmp/xlb-socklb.XXXXXX)"
cgroot="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)"
cg="$cgroot/$pfx"
CB="$root/build/bench/connbench"
pids=()

cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -d "$cg" ] && { rmdir "$cg" 2>/dev/null || sleep 0.5; rmdir "$cg" 2>/dev/null; }
	for ns in $P $Q $N $B; do ip netns del "$ns" 2>/dev/null; done
	mountpoint -q "$work/bpffs" && umount "$work/bpffs"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -n "$cgroot" ] && mkdir "$cg" || { echo "no cgroup2 mount" >&2; exit 1; }
for ns in $P $Q $N $B; do ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1; done
ip -n $N link add p0 type veth peer name eth0 netns $P &&
	ip -n $N link add b0 type veth peer name eth0 netns $B &&
	ip -n $N addr add 10.0.1.2/24 dev p0 && ip -n $N addr add 10.0.2.1/24 dev b0 &&
	ip -n $N link set p0 up && ip -n $N link set b0 up &&
	ip -n $P addr add 10.0.1.1/24 dev eth0 && ip -n $P link set eth0 up &&
	ip -n $P route add default via 10.0.1.2 &&
	ip -n $N link add q0 type veth peer name eth0 netns $Q &&
	ip -n $N addr add 10.0.3.2/24 dev q0 && ip -n $N link set q0 up &&
	ip -n $Q addr add 10.0.3.1/24 dev eth0 && ip -n $Q link set eth0 up &&
	ip -n $Q route add default via 10.0.3.2 &&
	ip -n $B addr add 10.0.2.2/24 dev eth0 && ip -n $B link set eth0 up &&
	ip -n $B route add default via 10.0.2.1 &&
	ip -n $N route add 10.128.0.0/9 via 10.0.2.2 &&
	ip netns exec $N sysctl -qw net.ipv4.ip_forward=1 || exit 1
read -r _ _ be1 _ < <(python3 bench/synth.py addr 1 --endpoints 1)
read -r vbig _ bebig _ < <(python3 bench/synth.py addr "$nbig" --endpoints 1)
ip -n $B addr add "$be1/32" dev eth0 && ip -n $B addr add "$bebig/32" dev eth0 || exit 1
# The server has 4 times the client's workers (with 2 times, a server
# of twice as many answered 13% more); the one on 8081 twice that again
# (the check that the server does not limit the rate).
ip netns exec $B "$CB" serve 8080 $((4 * workers)) &
pids+=($!)
ip netns exec $B "$CB" serve 8081 $((8 * workers)) &
pids+=($!)
sleep 0.3

in_pod() { nsenter --net=/run/netns/$P "$@"; }
# The per-packet case runs from a pod of its own: xlb's connection
# tracking keys a balanced flow by its client's address and port, so a
# later direct connection from a port a balanced flow used would have its
# replies reverse-NATed (see the README of bench/, socket-level balancing).
in_pod2() { nsenter --net=/run/netns/$Q "$@"; }
in_pod_cg() { sh -c 'echo $$ >"$0/cgroup.procs" && exec nsenter --net=/run/netns/'$P' "$@"' "$cg" "$@"; }

# run1 NAME: one measurement of case NAME, appended to $work/NAME.
run1() {
	local out
	case "$1" in
	direct_w1) out="$(in_pod "$CB" rate "$be1" 8080 "$secs" 2000000 1)" ;;
	direct_srv2) out="$(in_pod "$CB" rate "$be1" 8081 "$secs" 2000000 "$workers")" ;;
	direct*) out="$(in_pod "$CB" rate "$be1" 8080 "$secs" 2000000 "$workers")" ;;
	cg_direct) out="$(in_pod_cg "$CB" rate "$be1" 8080 "$secs" 2000000 "$workers")" ;;
	sock) out="$(in_pod_cg "$CB" rate "$VIP" 80 "$secs" 2000000 "$workers")" ;;
	perpkt) out="$(in_pod2 "$CB" rate "$VIP" 80 "$secs" 2000000 "$workers")" ;;
	ipt1) out="$(in_pod "$CB" rate 10.96.0.1 80 "$secs" 2000000 "$workers")" ;;
	iptbig) out="$(in_pod "$CB" rate "$vbig" 80 "$secs" 2000000 "$workers")" ;;
	bulk_direct) out="$(in_pod "$CB" bulk "$be1" 8080 "$secs")" ;;
	bulk_sock) out="$(in_pod_cg "$CB" bulk "$VIP" 80 "$secs")" ;;
	esac
	awk '{ print $2 }' <<<"$out" >>"$work/$1"
}

# rounds CASE...: reps rounds, each measuring every case once (in turn,
# so that a drift of the machine reaches every case alike).
rounds() {
	local r c
	for ((r = 0; r < reps; r++)); do
		for c in "$@"; do run1 "$c"; done
	done
	for c in "$@"; do
		echo "  $c: $(paste -sd' ' "$work/$c")" >&2
	done
}

v() { sort -g "$work/$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
r() { awk -v a="$(v "$1")" -v b="$(v "$2")" 'BEGIN { printf "%.2f", a / b }'; }

# xlbd stays up for every phase (its tc programs on both veths, so that
# every case crosses the same programs); its frontend 10.97.0.1 is none
# of the iptables rules' VIPs.
VIP=10.97.0.1
mkdir -p "$work/bpffs" && mount -t bpf bpf "$work/bpffs" || exit 1
cat >"$work/xlb.json" <<EOF
{"services": [{"name": "bench", "vip": "$VIP", "port": 80, "protocol": "tcp",
  "backends": [{"ip": "$be1", "port": 8080}]}]}
EOF
nsenter --net=/run/netns/$N "$root/build/user/xlbd" --config "$work/xlb.json" \
	--iface p0,q0,b0 --xdp-mode tc --bpffs "$work/bpffs/x" --cgroup "$cg" \
	--metrics-address none >"$work/xlbd.log" 2>&1 &
xlbd_pid=$!
pids+=($!)
for i in $(seq 50); do grep -q 'ready:' "$work/xlbd.log" && break; sleep 0.1; done
grep -q 'ready:' "$work/xlbd.log" || { cat "$work/xlbd.log" >&2; exit 1; }

echo "== xlb: socket hooks, per-packet path (tc), direct; $reps rounds of $secs s, $workers client workers" >&2
rounds direct direct_w1 direct_srv2 cg_direct sock perpkt bulk_direct bulk_sock
echo "== iptables-legacy, kube-proxy shaped, 1 service" >&2
python3 bench/synth.py iptables 1 --endpoints 1 --proto tcp |
	ip netns exec $N iptables-legacy-restore || exit 1
rounds direct_ipt1 ipt1
echo "== iptables-legacy, kube-proxy shaped, $nbig services (to the last)" >&2
python3 bench/synth.py iptables "$nbig" --endpoints 1 --proto tcp |
	ip netns exec $N iptables-legacy-restore || exit 1
rounds direct_iptbig iptbig
kill "$xlbd_pid"
nsenter --net=/run/netns/$N "$root/build/user/xlbctl" --bpffs "$work/bpffs/x" \
	detach --iface p0,q0,b0 --cgroup "$cg" >/dev/null

# Ratios to the direct rate of the same phase, and the node against the
# node: xlb's (no iptables rules) against kube-proxy's at $nbig services,
# whose rules every new connection walks, direct ones included.
rb() {
	awk -v a="$(r sock direct)" -v b="$(r iptbig direct_iptbig)" \
		'BEGIN { printf "%.2f", a / b }'
}
cat <<EOF
| connections/s (median of $reps rounds x $secs s, $workers client workers) | value | ratio to direct (same phase) |
|---|---|---|
| direct to the pod | $(v direct) | 1.00 |
| direct, one client worker | $(v direct_w1) | $(r direct_w1 direct) |
| direct, to a server of twice the workers | $(v direct_srv2) | $(r direct_srv2 direct) |
| direct, client in the hooks' cgroup | $(v cg_direct) | $(r cg_direct direct) |
| xlb socket hooks | $(v sock) | $(r sock direct) |
| xlb per-packet (tc) | $(v perpkt) | $(r perpkt direct) |
| iptables, 1 service | $(v ipt1) | $(r ipt1 direct_ipt1) (direct $(v direct_ipt1)) |
| iptables, $nbig services | $(v iptbig) | $(r iptbig direct_iptbig) (direct $(v direct_iptbig)) |
| socket hooks (xlb's node) / iptables at $nbig services (kube-proxy's node) | | $(r sock iptbig) |
| the same, each to its own phase's direct | | $(rb) |

| one connection, Gbit/s | value | ratio |
|---|---|---|
| direct | $(v bulk_direct) | 1.00 |
| xlb socket hooks | $(v bulk_sock) | $(r bulk_sock bulk_direct) |
EOF
