#!/bin/bash
# The packet fixture that bpf_prog_test_run_opts cannot make: a
# CHECKSUM_PARTIAL skb, rewritten by xlb, for real. A client and a
# backend keep their default tx checksum offload, so that their sockets
# hand the veths partial checksums (the L4 field holds only the
# pseudo-header sum); the LB's own veths have tx offload off, so the
# kernel completes what leaves the LB in software and the receivers
# verify it (DESIGN.md). The services change the port (VIP 80 -> 8080,
# 53 -> 9000), the change that must not be folded into a partial sum.
#   - xlbd's default mode gives the LB's veths the tc program: TCP and
#     UDP through the VIP, IPv4 and IPv6, all answered, and neither the
#     backend's nor the client's kernel counts a checksum error;
#   - --xdp-mode native on those veths is refused, naming the device and
#     the reason;
#   - forced with --complete-checksums (a false claim here), native XDP
#     corrupts the same traffic: the requests fail and the receivers
#     count checksum errors. That is what the first part proves absent.
# One PASS:/FAIL: line per check. Run as root:
#   bash selftests/test_partial_csum.sh
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
XLB_SAVE_LOGS="$XLB_ROOT/build/test-logs/test_partial_csum.files"

xlb_bins_snapshot || { xlb_fail "copy xlbd and xlbctl"; exit 1; }

# conf: TCP VIP:80 and UDP VIP:53 of each family, to b1's 8080 and 9000.
conf() {
	local f vip be sep=
	echo '{"services": ['
	for f in 4 6; do
		vip=$XLB_VIP4 be=$(xlb_be4 1)
		[ $f = 6 ] && vip=$XLB_VIP6 be=$(xlb_be6 1)
		printf '%s{"name": "web%s", "vip": "%s", "port": 80, "protocol": "tcp", "backends": [{"ip": "%s", "port": %s}]},\n' \
			"$sep" "$f" "$vip" "$be" "$XLB_HTTP_PORT"
		printf '{"name": "udp%s", "vip": "%s", "port": 53, "protocol": "udp", "backends": [{"ip": "%s", "port": %s}]}\n' \
			"$f" "$vip" "$be" "$XLB_UDP_PORT"
		sep=,
	done
	echo ']}'
}

# csum_errors NS: the TCP and UDP checksum errors its kernel counted
# (Tcp InCsumErrors covers both families; Udp, Udp6 each their own).
csum_errors() {
	ip netns exec "$1" awk '
		$1 == "Tcp:" || $1 == "Udp:" {
			if (!($1 in h)) { for (i = 2; i <= NF; i++) h[$1, $i] = i; h[$1] = 1; next }
			n += $(h[$1, "InCsumErrors"])
		}
		$1 == "Udp6InCsumErrors" { n += $2 }
		END { print n + 0 }' /proc/net/snmp /proc/net/snmp6
}

errors_now() {
	echo $(($(csum_errors "${XLB_NS_BE[1]}") + $(csum_errors "$XLB_NS_C")))
}

# exchange: sets got to how many of 4 HTTP requests and 4 UDP exchanges
# (two per family) b1 answered, e to the checksum errors the receivers
# counted meanwhile.
exchange() {
	local e0
	e0=$(errors_now)
	got=$(traffic)
	e=$(($(errors_now) - e0))
}

traffic() {
	local ok=0 f vip k
	for f in 4 6; do
		vip=$XLB_VIP4
		[ $f = 6 ] && vip=$XLB_VIP6
		for k in 1 2; do
			[ "$(xlb_http_get "$vip" 80)" = b1 ] && ok=$((ok + 1))
			[ "$(xlb_udp "$vip" 53 2>/dev/null)" = b1 ] && ok=$((ok + 1))
		done
	done
	echo $ok
}

xlb_topo_up 1 1 tc || exit 1
LB="${XLB_NS_LB[1]}"
for who in client backend; do
	ns=$XLB_NS_C
	[ $who = backend ] && ns=${XLB_NS_BE[1]}
	xlb_check "the $who's eth0 keeps tx checksum offload on (its sockets send partial checksums)" \
		sh -c "ip netns exec $ns ethtool -k eth0 | grep -q '^tx-checksumming: on'"
done
conf >"$XLB_RUN/xlb.json"

# --- the default mode: tc -------------------------------------------------
if ! xlb_xlbd_start 1 auto "$XLB_RUN/xlb.json"; then
	xlb_fail "xlbd starts in its default mode"
	exit 1
fi
log="$(xlb_xlbd_log 1)"
xlb_check "default mode: ethc got tc, and the log says why" \
	grep -q 'interface ethc: tc (veth: frames sent by local sockets (pods) arrive with partial checksums)' "$log"
exchange
xlb_check_eq "$got" 8 "tc: TCP and UDP through the VIP (port rewritten), v4 and v6, answered of 8"
xlb_check_eq "$e" 0 "tc: checksum errors counted by the receivers"
xlb_check "tc: the tc program rewrote them (dnat counted)" \
	[ "$(xlb_ctl 1 -o json stats | xlb_jq 'd["outcomes"]["dnat"]["packets"]')" -ge 8 ]
xlb_xlbd_stop 1

# --- native XDP on those veths: refused -------------------------------------
out="$(timeout 20 ip netns exec "$LB" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$XLB_RUN/xlb.json" \
	--iface ethc,ethb --xdp-mode native --bpffs "$XLB_BPFFS/lb1" \
	--metrics-address none "${XLB_XLBD_ARGS[@]}" 2>&1)"
st=$?
xlb_check "--xdp-mode native on the LB's veths: refused at start (status $st)" \
	test "$st" -ne 0 -a "$st" -ne 124
xlb_check "the refusal names the device and the reason" \
	grep -q 'interface ethc: --xdp-mode native refused: veth: frames sent by local sockets (pods) arrive with partial checksums' <<<"$out"

# --- native XDP forced: the corruption the refusal prevents ------------------
XLB_COMPLETE_CSUM=ethc,ethb
if ! xlb_xlbd_start 1 native "$XLB_RUN/xlb.json"; then
	xlb_fail "xlbd --xdp-mode native --complete-checksums ethc,ethb starts"
	exit 1
fi
XLB_COMPLETE_CSUM=
log="$(xlb_xlbd_log 1)"
xlb_check "forced: ethc got native XDP on the override's word" \
	grep -q 'interface ethc: xdp-native (--complete-checksums: its senders produce complete checksums)' "$log"
exchange
xlb_log "native XDP on partial checksums: $got of 8 answered, $e checksum errors at the receivers"
xlb_check_eq "$got" 0 "forced XDP: exchanges answered of 8 (partial checksums corrupted)"
xlb_check "forced XDP: the receivers counted checksum errors ($e)" [ "$e" -ge 8 ]
xlb_xlbd_stop 1

echo "# $XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ] && [ "$XLB_NPASS" -gt 0 ]
