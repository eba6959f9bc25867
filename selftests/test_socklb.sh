#!/bin/bash
# Socket-level balancing (xlbd --socket-lb, bpf/sock_lb.bpf.c) with real
# sockets in namespaces: the lab topology of lib.sh, xlbd in LB 1 with its
# socket hooks on a cgroup of this run ($XLB_CGROUP/node), the client's
# processes put into it (xlb_cg_exec) or not.
#
# Checks: TCP to a ClusterIP (v4, v6), an external IP and a NodePort lands
# on a backend that sees the client's own address, with no per-packet NAT
# (dnat stays 0) and getpeername() giving the frontend; UDP connected and
# unconnected (recvfrom's source is the frontend); no backend: connect()
# and sendmsg() fail at once with ECONNREFUSED; terminating backends take
# no new connection; client-IP affinity; internal traffic policy Local;
# a process outside the cgroup is balanced per packet instead; --socket-lb
# host balances only xlbd's own network namespace; a connected UDP socket
# to a backend that is deleted is destroyed (sock_destroyed) and the
# application reconnects to another; xlbctl detach removes the hooks.
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
XLB_SAVE_LOGS="$XLB_ROOT/build/test-logs/test_socklb.files"
CLIENT="$XLB_SERVERS/socklb_client.py"
CONF="$XLB_RUN/xlb.json"
CG="$XLB_CGROUP/node"
EXT4=10.96.1.10
NODE4=10.10.0.2		# LB 1's client-side address: a NodePort listens there
NODEPORT=30080

if ! xlb_bins_snapshot; then
	xlb_fail "xlbd and xlbctl are built: missing $XLB_XLBD or $XLB_XLBCTL"
	exit 1
fi

# conf_write UDP_BACKENDS [HOLD_STATES]: the services; UDP_BACKENDS lists
# the backends (1..3) of the UDP service, HOLD_STATES the state of each
# backend of the "hold" service (active, terminating or absent).
conf_write() {
	local u="" h="" j sep= st=(x ${2:-active active active})
	for j in $1; do
		u+="$sep{\"ip\": \"$(xlb_be4 "$j")\", \"port\": $XLB_UDP_PORT}"
		sep=", "
	done
	sep=
	for j in 1 2 3; do
		[ "${st[j]}" = absent ] && continue
		h+="$sep{\"ip\": \"$(xlb_be4 "$j")\", \"port\": 8080, \"state\": \"${st[j]}\"}"
		sep=", "
	done
	cat >"$CONF.tmp" <<EOF
{"services": [
 {"name": "web4", "vip": "$XLB_VIP4", "port": 80, "protocol": "tcp",
  "external_ips": ["$EXT4"], "node_port": $NODEPORT,
  "backends": [{"ip": "10.20.0.11", "port": 8080}, {"ip": "10.20.0.12", "port": 8080},
               {"ip": "10.20.0.13", "port": 8080}]},
 {"name": "web6", "vip": "$XLB_VIP6", "port": 80, "protocol": "tcp",
  "backends": [{"ip": "fd00:20::11", "port": 8080}, {"ip": "fd00:20::12", "port": 8080},
               {"ip": "fd00:20::13", "port": 8080}]},
 {"name": "dns", "vip": "$XLB_VIP4", "port": 53, "protocol": "udp",
  "backends": [$u]},
 {"name": "dns6", "vip": "$XLB_VIP6", "port": 53, "protocol": "udp",
  "backends": [{"ip": "fd00:20::11", "port": $XLB_UDP_PORT}, {"ip": "fd00:20::12", "port": $XLB_UDP_PORT}]},
 {"name": "hold", "vip": "10.96.0.60", "port": 80, "protocol": "tcp", "backends": [$h]},
 {"name": "empty", "vip": "10.96.0.20", "port": 80, "protocol": "tcp", "backends": []},
 {"name": "empty-udp", "vip": "10.96.0.20", "port": 53, "protocol": "udp", "backends": []},
 {"name": "term", "vip": "10.96.0.30", "port": 80, "protocol": "tcp",
  "backends": [{"ip": "10.20.0.11", "port": 8080},
               {"ip": "10.20.0.12", "port": 8080, "state": "terminating"},
               {"ip": "10.20.0.13", "port": 8080, "state": "terminating"}]},
 {"name": "sticky", "vip": "10.96.0.40", "port": 80, "protocol": "tcp",
  "session_affinity": "client_ip", "session_affinity_timeout": 60,
  "backends": [{"ip": "10.20.0.11", "port": 8080}, {"ip": "10.20.0.12", "port": 8080},
               {"ip": "10.20.0.13", "port": 8080}]},
 {"name": "local", "vip": "10.96.0.50", "port": 80, "protocol": "tcp",
  "internal_traffic_policy": "local",
  "backends": [{"ip": "10.20.0.11", "port": 8080},
               {"ip": "10.20.0.12", "port": 8080, "local": true},
               {"ip": "10.20.0.13", "port": 8080}]}
]}
EOF
	mv "$CONF.tmp" "$CONF"
}

# in_cg NS CMD...: CMD in NS, balanced by the hooks; out_cg: not.
in_cg() { local ns="$1"; shift; xlb_cg_exec "$CG" "$ns" timeout 60 "$XLB_PY" "$CLIENT" "$@"; }
out_cg() { local ns="$1"; shift; ip netns exec "$ns" timeout 60 "$XLB_PY" "$CLIENT" "$@"; }

stat_of() { xlb_ctl 1 -o json stats | xlb_jq "d['outcomes']['$1']['packets']"; }

# names OUT: the distinct backend names answering in OUT.
names() { awk '$1 == "ok" { print $2 }' <<<"$1" | sort -u | paste -sd' '; }
n_ok() { grep -c '^ok ' <<<"$1"; }
# Every answer names the client 10.10.0.1 (or fd00:10::1) as the peer the
# backend saw, and getpeername/recvfrom the frontend.
all_ok() { # OUT N CLIENT PEER
	[ "$(n_ok "$1")" = "$2" ] &&
		[ "$(awk '$1 == "ok" { print $3 " " $4 }' <<<"$1" | sort -u)" = "$3 peer=$4" ]
}

if ! xlb_topo_create 1 3 || ! xlb_bpffs_mount || ! mkdir "$CG"; then
	xlb_fail "topology"
	exit 1
fi
for j in 1 2 3; do
	xlb_bg "backend$j" "${XLB_NS_BE[j]}" "$XLB_PY" "$XLB_SERVERS/backend.py" \
		"b$j" --http-port "$XLB_HTTP_PORT" --udp-port "$XLB_UDP_PORT" --say-peer
done
for j in 1 2 3; do
	xlb_wait_until 10 out_cg "$XLB_NS_C" tcp "$(xlb_be4 "$j")" "$XLB_HTTP_PORT" ||
		xlb_fail "backend b$j answers"
done
conf_write "1 2 3"
xlb_xlbd_start 1 tc "$CONF" --cgroup "$CG" || { xlb_fail "xlbd starts"; exit 1; }
xlb_check "xlbd attached the hooks to the test's cgroup" \
	grep -q "socket-lb: hooks attached to cgroup $CG " "$(xlb_xlbd_log 1)"

# --- TCP: ClusterIP v4/v6, external IP, NodePort -------------------------
out="$(in_cg "$XLB_NS_C" tcp "$XLB_VIP4" 80 30)"
xlb_check "ClusterIP v4: 30 of 30 answered, backends saw 10.10.0.1, getpeername is the VIP ($(names "$out"))" \
	all_ok "$out" 30 10.10.0.1 "$XLB_VIP4:80"
xlb_check "ClusterIP v4: spread over the 3 backends" test "$(names "$out")" = "b1 b2 b3"
out="$(in_cg "$XLB_NS_C" tcp "$XLB_VIP6" 80 20)"
xlb_check "ClusterIP v6: 20 of 20, backends saw fd00:10::1, getpeername is the VIP ($(names "$out"))" \
	all_ok "$out" 20 fd00:10::1 "$XLB_VIP6:80"
out="$(in_cg "$XLB_NS_C" tcp "$EXT4" 80 10)"
xlb_check "external IP: 10 of 10 via the socket hook, peer is the external IP" \
	all_ok "$out" 10 10.10.0.1 "$EXT4:80"
out="$(in_cg "$XLB_NS_C" tcp "$NODE4" "$NODEPORT" 10)"
xlb_check "NodePort on the node address: 10 of 10, peer is the node address" \
	all_ok "$out" 10 10.10.0.1 "$NODE4:$NODEPORT"
xlb_check_eq "$(stat_of dnat)" 0 "no per-packet NAT for the socket-balanced flows (dnat 0)"
xlb_check "sock_balanced counts them ($(stat_of sock_balanced))" \
	test "$(stat_of sock_balanced)" -ge 70

# --- UDP ------------------------------------------------------------------
out="$(in_cg "$XLB_NS_C" udp "$XLB_VIP4" 53 20)"
xlb_check "UDP connected: 20 of 20, getpeername is the VIP ($(names "$out"))" \
	all_ok "$out" 20 10.10.0.1 "$XLB_VIP4:53"
out="$(in_cg "$XLB_NS_C" udpu "$XLB_VIP4" 53 10)"
xlb_check "UDP unconnected: 10 of 10, recvfrom's source is the VIP (a resolver accepts it)" \
	all_ok "$out" 10 10.10.0.1 "$XLB_VIP4:53"
out="$(in_cg "$XLB_NS_C" udp "$XLB_VIP6" 53 10)"
xlb_check "UDP v6 connected: 10 of 10, getpeername is the VIP" \
	all_ok "$out" 10 fd00:10::1 "$XLB_VIP6:53"
out="$(in_cg "$XLB_NS_C" udpu "$XLB_VIP6" 53 5)"
xlb_check "UDP v6 unconnected: 5 of 5, recvfrom's source is the VIP" \
	all_ok "$out" 5 fd00:10::1 "$XLB_VIP6:53"
xlb_check_eq "$(stat_of dnat)" 0 "no per-packet NAT for UDP either"

# --- no backend: refused at once ------------------------------------------
out="$(in_cg "$XLB_NS_C" tcp 10.96.0.20 80)"
ms="$(grep -o 'ms=[0-9]*' <<<"$out" | cut -d= -f2)"
xlb_check "no backend: connect() fails with ECONNREFUSED in ${ms:-?} ms" \
	test "$(cut -d' ' -f1-2 <<<"$out")" = "err ECONNREFUSED" -a "${ms:-999}" -lt 100
out="$(in_cg "$XLB_NS_C" udpu 10.96.0.20 53)"
xlb_check "no backend: UDP sendmsg() fails with ECONNREFUSED ($out)" \
	test "$(cut -d' ' -f1-2 <<<"$out")" = "err ECONNREFUSED"

# --- terminating, affinity, Local -----------------------------------------
out="$(in_cg "$XLB_NS_C" tcp 10.96.0.30 80 20)"
xlb_check_eq "$(n_ok "$out") $(names "$out")" "20 b1" "terminating backends take no new connection"
out="$(in_cg "$XLB_NS_C" tcp 10.96.0.40 80 20)"
xlb_check "client-IP affinity: 20 connections, one backend ($(names "$out"))" \
	test "$(n_ok "$out")" = 20 -a "$(names "$out" | wc -w)" = 1
out="$(in_cg "$XLB_NS_C" tcp 10.96.0.50 80 10)"
xlb_check_eq "$(n_ok "$out") $(names "$out")" "10 b2" "internal traffic policy Local: the node-local backend only"

# --- a stale UDP socket is destroyed, the application reconnects ---------
rm -f "$XLB_RUN/stale.go"
xlb_cg_exec "$CG" "$XLB_NS_C" timeout 60 "$XLB_PY" "$CLIENT" stale "$XLB_VIP4" 53 \
	"$XLB_RUN/stale.go" >"$XLB_RUN/stale.out" 2>&1 &
stale_pid=$!
xlb_wait_until 10 grep -q '^ok' "$XLB_RUN/stale.out"
first="$(awk '$1 == "ok" { print $2; exit }' "$XLB_RUN/stale.out")"
rest="$(echo 1 2 3 | tr ' ' '\n' | grep -v "^${first#b}$" | paste -sd' ')"
destroyed0="$(stat_of sock_destroyed)"
conf_write "$rest"
xlb_wait_until 10 test "$(stat_of sock_destroyed)" -gt "$destroyed0"
touch "$XLB_RUN/stale.go"
wait "$stale_pid"
after="$(sed 1d "$XLB_RUN/stale.out")"
xlb_check "stale UDP socket to $first: destroyed after its backend left (sock_destroyed $destroyed0 -> $(stat_of sock_destroyed))" \
	test "$(stat_of sock_destroyed)" -gt "$destroyed0"
xlb_check "the application saw an error, reconnected and got another backend ($(paste -sd'|' <<<"$after"))" \
	test "$(head -1 <<<"$after" | cut -d' ' -f1)" = err -a \
	"$(awk '$1 == "ok" { print $2 }' <<<"$after")" != "$first" -a \
	"$(grep -c '^ok' <<<"$after")" = 1
xlb_check "sock_destroyed is in /metrics" \
	grep -q 'sock_destroyed' <(ip netns exec "${XLB_NS_LB[1]}" curl -s http://127.0.0.1:9477/metrics)

# --- a TCP connection keeps a terminating backend, not a removed one -----
rm -f "$XLB_RUN/hold.1" "$XLB_RUN/hold.2"
xlb_cg_exec "$CG" "$XLB_NS_C" timeout 60 "$XLB_PY" "$CLIENT" hold 10.96.0.60 80 \
	"$XLB_RUN/hold.1" "$XLB_RUN/hold.2" >"$XLB_RUN/hold.out" 2>&1 &
hold_pid=$!
xlb_wait_until 10 grep -q '^ok' "$XLB_RUN/hold.out"
first="$(awk '$1 == "ok" { print $2; exit }' "$XLB_RUN/hold.out")"
spec=(x active active active)
spec[${first#b}]=terminating
conf_write "$rest" "${spec[*]:1}"
xlb_wait_until 10 grep -q "service hold updated" "$(xlb_xlbd_log 1)"
touch "$XLB_RUN/hold.1"
xlb_wait_until 10 test "$(grep -c . "$XLB_RUN/hold.out")" -ge 2
xlb_check "TCP connection to $first kept while $first terminates ($(sed -n 2p "$XLB_RUN/hold.out"))" \
	test "$(sed -n 2p "$XLB_RUN/hold.out" | cut -d' ' -f1-2)" = "ok $first"
destroyed0="$(stat_of sock_destroyed)"
spec[${first#b}]=absent
conf_write "$rest" "${spec[*]:1}"
xlb_wait_until 10 test "$(stat_of sock_destroyed)" -gt "$destroyed0"
touch "$XLB_RUN/hold.2"
wait "$hold_pid"
xlb_check "TCP connection to $first destroyed once $first is removed ($(sed -n 3p "$XLB_RUN/hold.out"))" \
	test "$(sed -n 3p "$XLB_RUN/hold.out" | cut -d' ' -f1)" = err

# --- outside the cgroup: per packet ---------------------------------------
# (after the client's socket-balanced flows: xlb's conntrack keys a
# balanced flow by client address and port, and would take the replies of
# a later socket-balanced flow from a reused port for its own)
d0="$(stat_of dnat)"
out="$(out_cg "$XLB_NS_C" tcp "$XLB_VIP4" 80 10)"
xlb_check "outside the cgroup: 10 of 10 answered ($(names "$out"))" test "$(n_ok "$out")" = 10
xlb_check "outside the cgroup: balanced by the per-packet path (dnat $d0 -> $(stat_of dnat))" \
	test "$(stat_of dnat)" -gt "$d0"

# --- host mode: only xlbd's own network namespace ------------------------
xlb_xlbd_stop 1
xlb_xlbd_start 1 tc "$CONF" --cgroup "$CG" --socket-lb host || xlb_fail "xlbd --socket-lb host starts"
xlb_check "the new xlbd replaced its own hooks (8 on the cgroup, not 16)" \
	test "$(bpftool cgroup show "$CG" 2>/dev/null | grep -c xlb_sock_)" = 8
d0="$(stat_of dnat)"
b0="$(stat_of sock_balanced)"
out="$(in_cg "$XLB_NS_C" tcp "$XLB_VIP4" 80 10)"
xlb_check "host mode: a pod's namespace is not balanced by the hook (sock_balanced $b0 -> $(stat_of sock_balanced)) but per packet (dnat $d0 -> $(stat_of dnat)), 10 of 10" \
	test "$(stat_of sock_balanced)" = "$b0" -a "$(stat_of dnat)" -gt "$d0" -a "$(n_ok "$out")" = 10
out="$(in_cg "${XLB_NS_LB[1]}" tcp "$XLB_VIP4" 80 5)"
xlb_check "host mode: a process in xlbd's namespace is balanced by the hook ($(stat_of sock_balanced)), peer is the VIP" \
	test "$(stat_of sock_balanced)" -gt "$b0" -a "$(n_ok "$out")" = 5 -a \
	"$(awk '$1 == "ok" { print $4 }' <<<"$out" | sort -u)" = "peer=$XLB_VIP4:80"

# --- detach ---------------------------------------------------------------
xlb_xlbd_stop 1
xlb_check "the hooks outlive xlbd" \
	test "$(bpftool cgroup show "$CG" 2>/dev/null | grep -c xlb_sock_)" = 8
xlb_ctl 1 detach --cgroup "$CG" >/dev/null
xlb_check "xlbctl detach --cgroup removes them" \
	test "$(bpftool cgroup show "$CG" 2>/dev/null | grep -c xlb_sock_)" = 0

echo "# $XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ] && [ "$XLB_NPASS" -gt 0 ]
