#!/bin/bash
# xlbd following links with --iface patterns (README "xlbd"), in a
# namespace of its own, no traffic:
#   - at start: every link the patterns select gets the program its kind
#     calls for (veths: tc), lo and excluded names are untouched, another
#     owner's XDP program or tc filter stays where it is (on a selected
#     link too);
#   - a link added after start is attached within 100 ms (asserted with a
#     generous gate; the figure is printed), five added at once too;
#   - renamed out of the selection or into an exclusion: detached (only
#     what xlbd attached); renamed into it: attached; renamed within it:
#     kept; deleted: forgotten;
#   - /metrics: xlb_interfaces_attached by program and
#     xlb_interface_attach_total by result follow all of that;
#   - with --xdp-mode native and --complete-checksums 'vx*': a new vx
#     link gets native XDP, a selected link outside the override is
#     refused (counted as an error) and xlbd keeps running;
#   - a literal name that does not exist is an error at start.
# One PASS:/FAIL: line per check. Run as root: bash selftests/test_ifaces.sh
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
XLB_SAVE_LOGS="$XLB_ROOT/build/test-logs/test_ifaces.files"

GATE_MS=500		# the goal is 100 ms; the gate leaves room for load
NULL_OBJ="$XLB_ROOT/build/bpf/null.bpf.o"
ns="$XLB_PFX-i"
pins="$XLB_BPFFS/i"
conf="$XLB_RUN/i.json"
murl=http://127.0.0.1:9479/metrics

if ! xlb_bins_snapshot; then
	xlb_fail "xlbd and xlbctl are built: missing $XLB_XLBD or $XLB_XLBCTL"
	exit 1
fi
xlb_ns_add "$ns" || { xlb_fail "create namespace"; exit 1; }
mkdir -p "$XLB_BPFFS" && mount -t bpf bpf "$XLB_BPFFS" ||
	{ xlb_fail "mount bpffs"; exit 1; }
echo '{"services": [{"name": "web", "vip": "10.96.0.10", "port": 80, "protocol": "tcp",
  "backends": [{"ip": "10.20.0.11", "port": 8080}]}]}' >"$conf"

# veth NAME PEER: a veth pair, both ends in the namespace (left down).
veth() { ip -n "$ns" link add "$1" type veth peer name "$2"; }

# xlb_tc_on IF: xlb's tc program is on IF's ingress.
xlb_tc_on() { tc -n "$ns" filter show dev "$1" ingress 2>/dev/null | grep -q 'xlb_tc'; }
xlb_tc_off() { ! xlb_tc_on "$1" && ! tc -n "$ns" filter show dev "$1" egress 2>/dev/null | grep -q 'xlb_tc'; }
xdp_name() {
	ip -j -n "$ns" link show "$1" | xlb_jq \
		'd[0]["xdp"]["prog"]["name"] if "xdp" in d[0] else "none"'
}
xlb_xdp_on() { [ "$(xdp_name "$1")" = xlb_xdp ]; }

# metric NAME{LABELS}: its value in /metrics.
metric() {
	xlb_ns "$ns" curl -s -m 5 "$murl" | awk -v k="$1" '$1 == k { print $2 }'
}

# until_ms CMD...: runs CMD without pause until it succeeds; prints the
# milliseconds it took (or "timeout" after 5 s).
until_ms() {
	local t0 now
	t0=$(xlb_now_ms)
	while ! "$@" 2>/dev/null; do
		now=$(xlb_now_ms)
		if [ $((now - t0)) -gt 5000 ]; then
			echo timeout
			return 1
		fi
	done
	echo $(($(xlb_now_ms) - t0))
}

# check_ms WHAT MS: MS within the gate.
check_ms() {
	if [ "$2" != timeout ] && [ "$2" -le "$GATE_MS" ]; then
		xlb_pass "$1 in $2 ms (goal 100 ms, gate $GATE_MS ms)"
	else
		xlb_fail "$1: took ${2} ms, gate $GATE_MS ms"
	fi
}

# start_agent NAME ARGS...: xlbd in the namespace with its metrics on
# $murl, log $XLB_RUN/NAME.log (in $log); waits for "ready:".
start_agent() {
	local name="$1"
	shift
	xlb_bg "$name" "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --bpffs "$pins" \
		--metrics-address 127.0.0.1:9479 --ring-slots 65536 \
		--max-services 64 --max-backends 256 --ct-entries 4096 "$@"
	log="$XLB_RUN/$name.log"
	xlb_wait_until 20 grep -q 'ready:' "$log"
}

# --- the links before xlbd starts ------------------------------------------
veth vx0 px0 && veth vx3 px3 && veth vx-skip px-skip || { xlb_fail "create links"; exit 1; }
# Another owner's programs (build/bpf/null.bpf.o: xlb_null, not xlbd's
# xlb_xdp): XDP on px0 (not selected) and on vx3
# (selected), a tc filter at xlb's own handle and priority on vx-skip.
ip -n "$ns" link set dev px0 xdpdrv obj "$NULL_OBJ" sec xdp &&
	ip -n "$ns" link set dev vx3 xdpdrv obj "$NULL_OBJ" sec xdp &&
	tc -n "$ns" qdisc add dev vx-skip clsact &&
	tc -n "$ns" filter add dev vx-skip ingress prio 1 handle 1 bpf bytecode "1,6 0 0 0," ||
	{ xlb_fail "foreign programs attached"; exit 1; }

start_agent agent --iface 'vx*,!vx-skip*'
xlb_check "xlbd --iface 'vx*,!vx-skip*' ready" xlb_bg_alive agent
xlb_check "vx0: tc, and the log says why" \
	grep -q 'interface vx0: tc (veth: frames sent by local sockets (pods) arrive with partial checksums)' "$log"
xlb_check "vx0: xlb_tc on ingress" xlb_tc_on vx0
xlb_check "vx3: xlb_tc on ingress" xlb_tc_on vx3
xlb_check_eq "$(xdp_name vx3)" xlb_null "vx3 (selected): the other owner's XDP program stays"
xlb_check_eq "$(xdp_name px0)" xlb_null "px0 (not selected): the other owner's XDP program stays"
xlb_check "px0, px3 (not selected): nothing of xlb" sh -c "! tc -n $ns filter show dev px0 ingress | grep -q xlb && ! tc -n $ns filter show dev px3 ingress | grep -q xlb"
xlb_check "vx-skip (excluded): the other owner's filter stays, nothing of xlb" \
	sh -c "tc -n $ns filter show dev vx-skip ingress | grep -q bytecode && ! tc -n $ns filter show dev vx-skip ingress | grep -q xlb"
xlb_check "lo: nothing of xlb" \
	sh -c "! tc -n $ns filter show dev lo ingress 2>/dev/null | grep -q xlb && ! ip -n $ns link show lo | grep -q xdp"
xlb_check_eq "$(metric 'xlb_interfaces_attached{program="tc"}')" 2 "/metrics: interfaces attached with tc at start"
xlb_check_eq "$(metric 'xlb_interface_attach_total{result="ok"}')" 2 "/metrics: attaches ok at start"

# --- links that come ----------------------------------------------------------
ms=$(veth vx1 px1 && until_ms xlb_tc_on vx1)
check_ms "vx1 added after start: attached" "$ms"
xlb_check "px1 (its peer, not selected): nothing of xlb" xlb_tc_off px1
t0=$(xlb_now_ms)
ip -n "$ns" -b - <<'EOF'
link add vx10 type veth peer name px10
link add vx11 type veth peer name px11
link add vx12 type veth peer name px12
link add vx13 type veth peer name px13
link add vx14 type veth peer name px14
EOF
all5() { local k; for k in 10 11 12 13 14; do xlb_tc_on "vx$k" || return 1; done; }
ms=$(until_ms all5)
[ "$ms" != timeout ] && ms=$(($(xlb_now_ms) - t0))
check_ms "five links added at once: all attached" "$ms"
xlb_check_eq "$(metric 'xlb_interfaces_attached{program="tc"}')" 8 "/metrics: 8 interfaces with tc"

# --- renamed and deleted -------------------------------------------------------
ip -n "$ns" link set dev vx1 name px9
ms=$(until_ms xlb_tc_off px9)
check_ms "vx1 renamed px9 (out of the selection): detached, ingress and egress" "$ms"
xlb_check "the log says so" grep -q 'interface vx1: renamed px9, not selected: tc detached' "$log"
ip -n "$ns" link set dev px9 name vx9
ms=$(until_ms xlb_tc_on vx9)
check_ms "px9 renamed vx9 (into the selection): attached" "$ms"
ip -n "$ns" link set dev vx9 name vx-skip9
ms=$(until_ms xlb_tc_off vx-skip9)
check_ms "vx9 renamed vx-skip9 (into the exclusion): detached" "$ms"
ip -n "$ns" link set dev vx0 name vx7
xlb_wait_until 5 grep -q 'interface vx0: renamed vx7, still selected (tc)' "$log"
xlb_check "vx0 renamed vx7 (still selected): kept, and the log says so" \
	sh -c "grep -q 'interface vx0: renamed vx7, still selected (tc)' $log && tc -n $ns filter show dev vx7 ingress | grep -q xlb_tc"
ip -n "$ns" link set dev vx-skip name wx-skip
sleep 0.2
xlb_check "vx-skip renamed wx-skip (never selected): the other owner's filter stays" \
	sh -c "tc -n $ns filter show dev wx-skip ingress | grep -q bytecode"
ip -n "$ns" link del vx7
xlb_wait_until 5 grep -q 'interface vx7: gone' "$log"
xlb_check "vx7 deleted: forgotten (logged)" grep -q 'interface vx7: gone' "$log"
xlb_check_eq "$(metric 'xlb_interfaces_attached{program="tc"}')" 6 "/metrics: 6 interfaces with tc after one renamed out and one deleted"
xlb_check_eq "$(metric 'xlb_interface_attach_total{result="ok"}')" 9 "/metrics: 9 attaches ok in all"
xlb_check_eq "$(metric 'xlb_interface_attach_total{result="error"}')" 0 "/metrics: no attach error"
xlb_check_eq "$(xdp_name vx3)" xlb_null "vx3: the other owner's XDP program still there"
xlb_check "xlbd still running" xlb_bg_alive agent
xlb_bg_stop agent TERM

# --- native XDP where the override says so, refused elsewhere ---------------
ip -n "$ns" link set dev vx3 xdpdrv off
start_agent native --iface 'vx*,wx[0-9]*' --xdp-mode native --complete-checksums 'vx*'
xlb_check "xlbd --xdp-mode native --complete-checksums 'vx*' ready" xlb_bg_alive native
xlb_check "vx3: native XDP on the override's word (log)" \
	grep -q 'interface vx3: xdp-native (--complete-checksums: its senders produce complete checksums)' "$log"
moved() { xlb_xdp_on vx10 && ! xlb_tc_on vx10; }
xlb_check "vx10: moved from tc to native XDP" moved
ms=$(veth vx20 px20 && until_ms xlb_xdp_on vx20)
check_ms "vx20 added: native XDP" "$ms"
veth wx1 px-w1
xlb_wait_until 5 grep -q 'interface wx1: --xdp-mode native refused' "$log"
xlb_check "wx1 (selected, not in the override): refused, and the log says why" \
	grep -q 'interface wx1: --xdp-mode native refused: veth: frames sent by local sockets (pods) arrive with partial checksums' "$log"
xlb_check "wx1: nothing attached" sh -c "! ip -n $ns link show wx1 | grep -q xdp && ! tc -n $ns filter show dev wx1 ingress 2>/dev/null | grep -q xlb"
xlb_check "xlbd keeps running after a refusal" xlb_bg_alive native
xlb_check_eq "$(metric 'xlb_interfaces_attached{program="xdp-native"}')" 8 "/metrics: 8 interfaces with native XDP"
xlb_check_eq "$(metric 'xlb_interface_attach_total{result="error"}')" 1 "/metrics: one attach error (wx1)"
xlb_bg_stop native TERM

# --- a literal name that does not exist ----------------------------------------
out="$(timeout 20 ip netns exec "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface vx3,nosuch0 \
	--bpffs "$pins" --metrics-address none 2>&1)"
st=$?
xlb_check "--iface vx3,nosuch0: refused at start (status $st)" test "$st" -ne 0 -a "$st" -ne 124
xlb_check "the error names the missing interface" grep -q 'interface nosuch0: no such device' <<<"$out"

echo "# $XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ] && [ "$XLB_NPASS" -gt 0 ]
