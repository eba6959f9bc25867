#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Socket-level balancing against the other ways a pod reaches a ClusterIP,
# in one run, as ratios (issue 11, part 2):
#   connections per second (bench/connbench rate: a new TCP connection
#   per request, one at a time) to a pod directly, through xlb's socket
#   hooks, through xlb's per-packet path (tc on the pod's veth), and
#   through kube-proxy-shaped iptables-legacy rules at 1 and 10,000
#   services (the target is the last service);
#   bulk throughput of one connection (bench/connbench bulk), socket
#   hooks against direct.
#
#   bench/socklb.sh [--secs S] [--reps N] [--services N]
#
# Topology (prefix xs<pid>): pod ns P (10.0.1.1) -- node ns N (router;
# xlbd --xdp-mode tc on both veths, iptables) -- backend ns B (10.0.2.2,
# plus the endpoint addresses 10.128.x.y). The hooks attach to a cgroup
# made for the run under the cgroup2 mount; the client joins it for the
# socket cases only. Everything is removed at exit.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
secs=2
reps=3
nbig=10000
while [ $# -gt 0 ]; do
	case "$1" in
	--secs) secs="$2"; shift ;;
	--reps) reps="$2"; shift ;;
	--services) nbig="$2"; shift ;;
	-h | --help) sed -n '3,20p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "bench/socklb.sh: needs root" >&2; exit 2; }
. tools/deps.sh
xlb_install_deps || exit 1
xlb_build || exit 1

pfx="xs$$"
P=$pfx-p N=$pfx-n B=$pfx-b
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
	for ns in $P $N $B; do ip netns del "$ns" 2>/dev/null; done
	mountpoint -q "$work/bpffs" && umount "$work/bpffs"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -n "$cgroot" ] && mkdir "$cg" || { echo "no cgroup2 mount" >&2; exit 1; }
for ns in $P $N $B; do ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1; done
ip -n $N link add p0 type veth peer name eth0 netns $P &&
	ip -n $N link add b0 type veth peer name eth0 netns $B &&
	ip -n $N addr add 10.0.1.2/24 dev p0 && ip -n $N addr add 10.0.2.1/24 dev b0 &&
	ip -n $N link set p0 up && ip -n $N link set b0 up &&
	ip -n $P addr add 10.0.1.1/24 dev eth0 && ip -n $P link set eth0 up &&
	ip -n $P route add default via 10.0.1.2 &&
	ip -n $B addr add 10.0.2.2/24 dev eth0 && ip -n $B link set eth0 up &&
	ip -n $B route add default via 10.0.2.1 &&
	ip -n $N route add 10.128.0.0/9 via 10.0.2.2 &&
	ip netns exec $N sysctl -qw net.ipv4.ip_forward=1 || exit 1
read -r _ _ be1 _ < <(python3 bench/synth.py addr 1 --endpoints 1)
read -r vbig _ bebig _ < <(python3 bench/synth.py addr "$nbig" --endpoints 1)
ip -n $B addr add "$be1/32" dev eth0 && ip -n $B addr add "$bebig/32" dev eth0 || exit 1
ip netns exec $B "$CB" serve 8080 &
pids+=($!)
sleep 0.3

in_pod() { nsenter --net=/run/netns/$P "$@"; }
in_pod_cg() { sh -c 'echo $$ >"$0/cgroup.procs" && exec nsenter --net=/run/netns/'$P' "$@"' "$cg" "$@"; }

# measure NAME WHERE(in_pod|in_pod_cg) rate|bulk HOST PORT: the median of
# reps runs, into $work/NAME.
measure() {
	local name=$1 where=$2 what=$3 host=$4 port=$5 r v=()
	for ((r = 0; r < reps; r++)); do
		if [ "$what" = rate ]; then
			v+=("$($where "$CB" rate "$host" "$port" "$secs" 2000000 | awk '{ print $2 }')")
		else
			v+=("$($where "$CB" bulk "$host" "$port" "$secs" | awk '{ print $2 }')")
		fi
	done
	printf '%s\n' "${v[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' >"$work/$name"
	echo "  $name: ${v[*]} (median $(cat "$work/$name"))" >&2
}

echo "== direct to the pod" >&2
measure direct in_pod rate "$be1" 8080
measure bulk_direct in_pod bulk "$be1" 8080

echo "== iptables-legacy, kube-proxy shaped: 1 and $nbig services" >&2
python3 bench/synth.py iptables 1 --endpoints 1 --proto tcp | ip netns exec $N iptables-legacy-restore || exit 1
measure ipt1 in_pod rate 10.96.0.1 80
python3 bench/synth.py iptables "$nbig" --endpoints 1 --proto tcp | ip netns exec $N iptables-legacy-restore || exit 1
measure iptbig in_pod rate "$vbig" 80
ip netns exec $N iptables-legacy -t nat -F && ip netns exec $N iptables-legacy -t nat -X
ip netns exec $N iptables-legacy -F && ip netns exec $N iptables-legacy -X

echo "== xlb: socket hooks, and the per-packet path (tc)" >&2
mkdir -p "$work/bpffs" && mount -t bpf bpf "$work/bpffs" || exit 1
python3 bench/synth.py xlb 1 --endpoints 1 --proto tcp >"$work/xlb.json"
nsenter --net=/run/netns/$N "$root/build/user/xlbd" --config "$work/xlb.json" \
	--iface p0,b0 --xdp-mode tc --bpffs "$work/bpffs/x" --cgroup "$cg" \
	--metrics-address none >"$work/xlbd.log" 2>&1 &
pids+=($!)
for i in $(seq 50); do grep -q 'ready:' "$work/xlbd.log" && break; sleep 0.1; done
grep -q 'ready:' "$work/xlbd.log" || { cat "$work/xlbd.log" >&2; exit 1; }
measure sock in_pod_cg rate 10.96.0.1 80
measure bulk_sock in_pod_cg bulk 10.96.0.1 80
measure direct_cg in_pod_cg rate "$be1" 8080
measure bulk_direct_x in_pod bulk "$be1" 8080
measure perpkt in_pod rate 10.96.0.1 80
kill "${pids[-1]}"
nsenter --net=/run/netns/$N "$root/build/user/xlbctl" --bpffs "$work/bpffs/x" \
	detach --iface p0,b0 --cgroup "$cg" >/dev/null

v() { cat "$work/$1"; }
r() { awk -v a="$(v "$1")" -v b="$(v "$2")" 'BEGIN { printf "%.2f", a / b }'; }
cat <<EOF
| connections/s (median of $reps x ${secs} s)      | value | ratio |
|---|---|---|
| direct to the pod                          | $(v direct) | 1.00 |
| direct, client in the hooks' cgroup        | $(v direct_cg) | $(r direct_cg direct) x direct |
| xlb socket hooks                           | $(v sock) | $(r sock direct) x direct, $(r sock iptbig) x iptables@$nbig |
| xlb per-packet (tc)                        | $(v perpkt) | $(r perpkt direct) x direct |
| iptables, 1 service                        | $(v ipt1) | $(r ipt1 direct) x direct |
| iptables, $nbig services                    | $(v iptbig) | $(r iptbig direct) x direct |

| one connection, Gbit/s                     | value | ratio |
|---|---|---|
| direct                                     | $(v bulk_direct) | 1.00 |
| direct, xlb's tc programs on the veths     | $(v bulk_direct_x) | $(r bulk_direct_x bulk_direct) x direct |
| xlb socket hooks (tc programs on the veths) | $(v bulk_sock) | $(r bulk_sock bulk_direct) x direct, $(r bulk_sock bulk_direct_x) x the same path direct |
EOF
