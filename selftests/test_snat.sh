#!/bin/bash
# Source NAT with real traffic: an external client's NodePort connections
# to a backend that does not route back through the node.
#
#   client ---- [LB 1 = "node 1", xlbd, tc on ethc and ethb] ---- b1, b2
#
# b1 is the node's own backend ("local": true) and keeps its default route
# via the node, as a pod does. b2 stands for a pod on another node: its
# default route is gone, so it cannot answer the client's address at all,
# only addresses of the backend LAN (as a pod on node 2 answers a client
# via node 2, which the client never spoke to). The services ask for
# "snat": "remote", what the Kubernetes source asks for a Cluster policy.
#   - --snat-ports off: b2 cannot answer (the problem);
#   - default ports: 100 new connections to the NodePort, IPv4 and IPv6,
#     all answered, by both backends; b2 saw the node's address on the
#     backend LAN (FIB lookup: ethb), b1 the client's; UDP too; the
#     counters and xlbctl conntrack list show the translations;
#   - --snat-ports 61000-61001: two ports towards b2, two connections
#     answered, the next dropped and counted (snat_exhausted), and the
#     ports of the closed ones taken again 10 s after their last packet;
#   - the same traffic with --fib-redirect (the program forwards), and
#     through native XDP (complete checksums, tx offload off on every
#     sender).
# In tc mode the client and the backends keep tx checksum offload on
# (partial checksums into tc), the node's veths have it off: the
# receivers verify what the node rewrote (DESIGN.md).
# One PASS:/FAIL: line per check. Run as root: bash selftests/test_snat.sh
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
XLB_SAVE_LOGS="$XLB_ROOT/build/test-logs/test_snat.files"

xlb_bins_snapshot || { xlb_fail "copy xlbd and xlbctl"; exit 1; }

NP=30080	# NodePort of both backends (TCP), and of b2 alone (UDP)
NP_B2=30081	# NodePort of b2 alone (TCP)

conf() {
	local f vip b1 b2 sep=
	echo '{"snat": "remote", "services": ['
	for f in 4 6; do
		vip=$XLB_VIP4 b1=$(xlb_be4 1) b2=$(xlb_be4 2)
		[ $f = 6 ] && vip=$XLB_VIP6 b1=$(xlb_be6 1) b2=$(xlb_be6 2)
		printf '%s{"name": "both%s", "vip": "%s", "port": 80, "protocol": "tcp", "node_port": %s, "backends": [{"ip": "%s", "port": %s, "local": true}, {"ip": "%s", "port": %s}]},\n' \
			"$sep" "$f" "$vip" "$NP" "$b1" "$XLB_HTTP_PORT" "$b2" "$XLB_HTTP_PORT"
		printf '{"name": "b2only%s", "vip": "%s", "port": 81, "protocol": "tcp", "node_port": %s, "backends": [{"ip": "%s", "port": %s}]},\n' \
			"$f" "$vip" "$NP_B2" "$b2" "$XLB_HTTP_PORT"
		printf '{"name": "udp%s", "vip": "%s", "port": 53, "protocol": "udp", "node_port": %s, "backends": [{"ip": "%s", "port": %s}]}\n' \
			"$f" "$vip" "$NP" "$b2" "$XLB_UDP_PORT"
		sep=,
	done
	echo ']}'
}

# Lines "NAME PEER CODE CONNECTS PORT" of a burst: answered, by whom,
# and the peers NAME saw.
ok() { awk '$3 == 200' <<<"$1" | wc -l; }
names() { awk '$3 == 200 { print $1 }' <<<"$1" | sort -u | paste -sd,; }
peers_of() { awk -v b="$2" '$3 == 200 && $1 == b { print $2 }' <<<"$1" | sort -u | paste -sd,; }
stat() { xlb_ctl 1 -o json stats | xlb_jq "d['outcomes']['$1']['packets']"; }

# burst_check WHAT NODE_ADDR CLIENT LB_BACKEND_ADDR: 100 new connections
# to NODE_ADDR:NP, all answered by b1 and b2; b1 saw CLIENT, b2 saw
# LB_BACKEND_ADDR (the node's address towards it).
burst_check() {
	local out
	out=$(xlb_http_burst "$2" "$NP" 100)
	xlb_check_eq "$(ok "$out")/$(names "$out")" "100/b1,b2" \
		"$1: 100 new connections to NodePort $2:$NP answered/by"
	xlb_check_eq "$(peers_of "$out" b2)" "$4" \
		"$1: the remote backend b2 saw the node's address towards it"
	xlb_check_eq "$(peers_of "$out" b1)" "$3" \
		"$1: the local backend b1 saw the client's address"
}

# traffic MODE: the checks of the default port range.
traffic() {
	local m="$1" out n0 n
	n0=$(stat snat_new)
	burst_check "$m v4" "$(xlb_lbc4 1)" "$XLB_C4" "$(xlb_lbb4 1)"
	burst_check "$m v6" "$(xlb_lbc6 1)" "$XLB_C6" "$(xlb_lbb6 1)"
	xlb_check_eq "$(xlb_udp "$(xlb_lbc4 1)" "$NP")" "b2 $(xlb_lbb4 1)" \
		"$m: UDP to the NodePort, answered by b2 from the node's address"
	xlb_check_eq "$(xlb_udp "$(xlb_lbc6 1)" "$NP")" "b2 $(xlb_lbb6 1)" \
		"$m: UDP v6 to the NodePort, answered by b2 from the node's address"
	n=$(($(stat snat_new) - n0))
	xlb_check "$m: snat_new counted the remote backend's flows ($n)" \
		[ "$n" -ge 40 -a "$n" -le 160 ]
	xlb_check "$m: snat_restore counted their replies" [ "$(stat snat_restore)" -gt 0 ]
	out=$(xlb_ctl 1 -o json conntrack list)
	xlb_check "$m: xlbctl conntrack list shows the node port a flow left from" \
		xlb_jq "any(e['dir'] == 'flow' and e.get('snat_ip') == '$(xlb_lbb4 1)' and e['snat_port'] >= 61000 for e in d)" <<<"$out"
	xlb_check "$m: and the client a reverse entry restores" \
		xlb_jq "any(e['dir'] == 'rev' and e.get('snat_ip') == '$XLB_C4' for e in d)" <<<"$out"
}

if ! xlb_topo_create 1 2 || ! xlb_topo_offload tc || ! xlb_bpffs_mount; then
	xlb_fail "topology: namespaces, veths and bpffs set up"
	exit 1
fi
for j in 1 2; do
	xlb_bg "backend$j" "${XLB_NS_BE[j]}" "$XLB_PY" "$XLB_SERVERS/backend.py" \
		"b$j" --http-port "$XLB_HTTP_PORT" --udp-port "$XLB_UDP_PORT" --say-peer
done
if ! xlb_wait_until 10 sh -c "ip netns exec $XLB_NS_C curl -s -m 1 http://$(xlb_be4 2):$XLB_HTTP_PORT/ | grep -q b2"; then
	xlb_fail "backend b2 answers before its default route goes"
	exit 1
fi
# b2 is on another node: no way back to the client but through it.
ip -n "${XLB_NS_BE[2]}" route del default
ip -n "${XLB_NS_BE[2]}" -6 route del default
xlb_check "b2 has no route to the client" \
	sh -c "! ip -n ${XLB_NS_BE[2]} route get $XLB_C4 >/dev/null 2>&1"
conf >"$XLB_RUN/xlb.json"

# --- no source NAT: the remote backend cannot answer ----------------------
if ! xlb_xlbd_start 1 auto "$XLB_RUN/xlb.json" --snat-ports off; then
	xlb_fail "xlbd --snat-ports off starts"
	exit 1
fi
out=$(xlb_http_burst "$(xlb_lbc4 1)" "$NP_B2" 3)
xlb_check_eq "$(ok "$out")" 0 "--snat-ports off: connections to b2 through the NodePort answered of 3"
xlb_xlbd_stop 1

# --- source NAT, tc ---------------------------------------------------------
if ! xlb_xlbd_start 1 auto "$XLB_RUN/xlb.json"; then
	xlb_fail "xlbd starts with the default source NAT ports"
	exit 1
fi
traffic tc
xlb_xlbd_stop 1

# --- the same, forwarded by the program (bpf_fib_lookup + redirect) ---------
if ! xlb_xlbd_start 1 auto "$XLB_RUN/xlb.json" --fib-redirect; then
	xlb_fail "xlbd --fib-redirect starts"
	exit 1
fi
traffic "tc fib-redirect"
xlb_check "tc fib-redirect: the rewritten packets were redirected" \
	[ "$(stat fib_redirect)" -gt 0 ]
xlb_xlbd_stop 1

# --- two ports: exhausted, then free again ----------------------------------
if ! xlb_xlbd_start 1 auto "$XLB_RUN/xlb.json" --snat-ports 61000-61001; then
	xlb_fail "xlbd --snat-ports 61000-61001 starts"
	exit 1
fi
e0=$(stat snat_exhausted)
out=$(xlb_http_burst "$(xlb_lbc4 1)" "$NP_B2" 4)
xlb_check_eq "$(awk '{ print $(NF - 2) }' <<<"$out" | paste -sd,)" "200,200,000,000" \
	"two ports: the first two connections to b2 answered, the next two not"
xlb_check "two ports: the refused flows were counted snat_exhausted" \
	[ "$(($(stat snat_exhausted) - e0))" -ge 2 ]
sleep 11
out=$(xlb_http_burst "$(xlb_lbc4 1)" "$NP_B2" 2)
xlb_check_eq "$(ok "$out")" 2 "two ports: 10 s after the closed flows' last packet, both taken again"
xlb_xlbd_stop 1

# --- source NAT, native XDP -------------------------------------------------
xlb_topo_offload xdp
XLB_COMPLETE_CSUM=ethc,ethb
if ! xlb_xlbd_start 1 native "$XLB_RUN/xlb.json"; then
	xlb_fail "xlbd --xdp-mode native starts"
	exit 1
fi
XLB_COMPLETE_CSUM=
xlb_check "native XDP attached to ethc" \
	grep -q 'interface ethc: xdp-native' "$(xlb_xlbd_log 1)"
traffic xdp
xlb_xlbd_stop 1

echo "# $XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ] && [ "$XLB_NPASS" -gt 0 ]
