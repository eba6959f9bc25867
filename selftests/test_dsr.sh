#!/bin/bash
# Direct server return with real traffic (README "Direct server return"):
#
#   client ns ---- router ns ---- [LAN bridge] ---- node1 ns (xlbd)
#   10.50.0.2      10.50.0.1      10.60.0.0/24  \-- node2 ns (xlbd) -- pod ns
#   fd00:50::2     fd00:60::1     fd00:60::/64      .12 / ::12   veth  10.244.2.10/32
#                                                                      fd00:244:2::10/128
#
# The router routes the frontends (10.96.50.0/24, fd00:96:50::/64) to
# node1 and the pod's addresses to node2, as a routed pod network does;
# node1 routes them to node2 too; the pod's default route goes to node2
# (CNI ptp: a /32 and a link-local-style gateway on its veth). Both nodes
# run xlbd with the config-file source as the README tells operators
# (--iface 'eth0,veth*', --socket-lb off), the same config but for the
# backend's "local" flag. Service "dsr" ("dsr": "ipip") and service
# "snat" ("snat": true) have the same backend.
#   - 100 HTTP requests through the DSR frontend, IPv4 and IPv6, all
#     answered; the pod saw the client's own address; node1 encapsulated
#     (dsr_encap), node2 took the header off (dsr_decap) and turned the
#     replies back into frontend -> client (reverse_nat), and node1
#     reverse-NATed nothing and received no more packets on its eth0
#     than the client sent: the replies never crossed it. SYN-ACKs got
#     their MSS lowered on node2 (dsr_mss_clamp), and xlbctl conntrack
#     list shows the DSR entries on both nodes.
#   - 20 MB downloads through the DSR and the source NAT frontend, 5
#     rounds taking turns: all complete (sanity bound 60 s each); the
#     ratio of their median rates is printed (MEASURE:) as a measurement
#     (bench/README.md "Direct server return against source NAT"), not
#     checked.
# Receivers verify checksums: tx offload is off on the nodes' and the
# router's LAN veths; the pod keeps its defaults (partial checksums into
# node2's tc program). One PASS:/FAIL: line per check. Run as root:
#   bash selftests/test_dsr.sh
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
XLB_SAVE_LOGS="$XLB_ROOT/build/test-logs/test_dsr.files"

C4=10.50.0.2 C6=fd00:50::2
R4=10.50.0.1 R6=fd00:50::1
N1=10.60.0.11 N2=10.60.0.12 N1_6=fd00:60::11 N2_6=fd00:60::12
RL4=10.60.0.1 RL6=fd00:60::1
POD4=10.244.2.10 POD6=fd00:244:2::10
GW4=10.244.2.1 GW6=fd00:244:2::1
DSR4=10.96.50.1 DSR6=fd00:96:50::1 SNAT4=10.96.50.2 SNAT6=fd00:96:50::2
BIG=$((20 * 1024 * 1024))

if ! xlb_bins_snapshot; then
	xlb_fail "xlbd and xlbctl are built: missing $XLB_XLBD or $XLB_XLBCTL"
	exit 1
fi

NS_C="$XLB_PFX-c" NS_R="$XLB_PFX-r" NS_SW="$XLB_PFX-sw"
NS_N1="$XLB_PFX-n1" NS_N2="$XLB_PFX-n2" NS_P="$XLB_PFX-pod"
XLB_NS_C="$NS_C"	# lib.sh's clients run there

# NS IF PEER PEERNS: a veth pair.
veth() {
	ip -n "$1" link add "$2" type veth peer name "$3" netns "$4" &&
		ip -n "$1" link set "$2" up && ip -n "$4" link set "$3" up
}

topo() {
	local ns
	for ns in "$NS_C" "$NS_R" "$NS_SW" "$NS_N1" "$NS_N2" "$NS_P"; do
		xlb_ns_add "$ns" || return 1
	done
	for ns in "$NS_R" "$NS_N1" "$NS_N2"; do
		xlb_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1 || return 1
	done
	ip -n "$NS_SW" link add lan type bridge &&
		ip -n "$NS_SW" link set lan up || return 1
	veth "$NS_C" eth0 ethc "$NS_R" &&
		xlb_topo_addr "$NS_C" eth0 $C4/24 $C6/64 &&
		xlb_topo_addr "$NS_R" ethc $R4/24 $R6/64 &&
		ip -n "$NS_C" route add default via $R4 &&
		ip -n "$NS_C" -6 route add default via $R6 || return 1
	veth "$NS_R" ethl swr "$NS_SW" && ip -n "$NS_SW" link set swr master lan &&
		xlb_topo_addr "$NS_R" ethl $RL4/24 $RL6/64 || return 1
	veth "$NS_N1" eth0 sw1 "$NS_SW" && ip -n "$NS_SW" link set sw1 master lan &&
		xlb_topo_addr "$NS_N1" eth0 $N1/24 $N1_6/64 || return 1
	veth "$NS_N2" eth0 sw2 "$NS_SW" && ip -n "$NS_SW" link set sw2 master lan &&
		xlb_topo_addr "$NS_N2" eth0 $N2/24 $N2_6/64 || return 1
	for ns in "$NS_N1" "$NS_N2"; do
		ip -n "$ns" route add default via $RL4 &&
			ip -n "$ns" -6 route add default via $RL6 || return 1
	done
	# The frontends live on node1; the pod's addresses behind node2.
	ip -n "$NS_R" route add 10.96.50.0/24 via $N1 &&
		ip -n "$NS_R" -6 route add fd00:96:50::/64 via $N1_6 &&
		ip -n "$NS_R" route add $POD4/32 via $N2 &&
		ip -n "$NS_R" -6 route add $POD6/128 via $N2_6 &&
		ip -n "$NS_N1" route add $POD4/32 via $N2 &&
		ip -n "$NS_N1" -6 route add $POD6/128 via $N2_6 || return 1
	# The pod, as CNI ptp makes it.
	veth "$NS_N2" vethpod eth0 "$NS_P" &&
		ip -n "$NS_N2" addr add $GW4/32 dev vethpod &&
		ip -n "$NS_N2" -6 addr add $GW6/128 dev vethpod nodad &&
		ip -n "$NS_N2" route add $POD4/32 dev vethpod &&
		ip -n "$NS_N2" -6 route add $POD6/128 dev vethpod &&
		ip -n "$NS_P" addr add $POD4/32 dev eth0 &&
		ip -n "$NS_P" -6 addr add $POD6/128 dev eth0 nodad &&
		ip -n "$NS_P" route add $GW4 dev eth0 &&
		ip -n "$NS_P" route add default via $GW4 &&
		ip -n "$NS_P" -6 route add $GW6 dev eth0 &&
		ip -n "$NS_P" -6 route add default via $GW6 || return 1
	# Receivers verify: what the nodes and the router send on the LAN
	# carries complete checksums.
	for ns in "$NS_N1" "$NS_N2"; do
		xlb_ns "$ns" ethtool -K eth0 tx off >/dev/null || return 1
	done
	xlb_ns "$NS_R" ethtool -K ethl tx off >/dev/null &&
		xlb_ns "$NS_R" ethtool -K ethc tx off >/dev/null
}

# conf LOCAL: both services, the backend local on this node or not.
conf() {
	local l="$1" f
	for f in 4 6; do
		local pod=$POD4 dsr=$DSR4 snat=$SNAT4
		[ $f = 6 ] && pod=$POD6 dsr=$DSR6 snat=$SNAT6
		cat <<EOF
  {"name": "dsr$f", "vip": "$dsr", "port": 80, "protocol": "tcp", "dsr": "ipip",
   "backends": [{"ip": "$pod", "port": 8080, "local": $l}]},
  {"name": "snat$f", "vip": "$snat", "port": 80, "protocol": "tcp", "snat": true,
   "backends": [{"ip": "$pod", "port": 8080, "local": $l}]}$([ $f = 4 ] && echo ,)
EOF
	done | { echo '{"services": ['; cat; echo ']}'; }
}

# xlbd NODE NS: xlbd on that node, as the README says.
xlbd_start() {
	local n="$1" ns="$2" log="$XLB_RUN/xlbd-$1.log"
	mkdir -p "$XLB_BPFFS/$n" || return 1
	xlb_bg "xlbd-$n" "$ns" "$XLB_XLBD" --config "$XLB_RUN/$n.json" \
		--iface 'eth0,veth*' --socket-lb off --bpffs "$XLB_BPFFS/$n" \
		"${XLB_XLBD_CG[@]}" "${XLB_XLBD_ARGS[@]}"
	if ! xlb_wait_until 20 grep -q 'ready:' "$log" ||
		! xlb_bg_alive "xlbd-$n"; then
		echo "xlbd on $n not ready; its log:" >&2
		sed 's/^/  /' "$log" >&2
		return 1
	fi
}

ctl() { timeout 10 "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/$1" "${@:2}"; }

# stat NODE NAME: a counter's packets on that node.
stat() {
	ctl "$1" -o json stats | xlb_jq "d['outcomes']['$2']['packets']"
}

# NS IF rx|tx: packets on an interface of a namespace.
pk() { xlb_ns "$1" cat "/sys/class/net/$2/statistics/$3_packets"; }

# The DSR frontend of family f: 100 requests, and where they went.
check_dsr() {
	local f="$1" vip=$DSR4 c=$C4
	[ "$f" = 6 ] && vip=$DSR6 c=$C6
	local enc0 dec0 rn1 rn2 clamp0 n1rx ctx out ok
	enc0=$(stat n1 dsr_encap) dec0=$(stat n2 dsr_decap)
	rn1=$(stat n1 reverse_nat) rn2=$(stat n2 reverse_nat)
	clamp0=$(stat n2 dsr_mss_clamp)
	n1rx=$(pk "$NS_N1" eth0 rx) ctx=$(pk "$NS_C" eth0 tx)
	out=$(xlb_http_burst "$vip" 80 100)
	ok=$(grep -c ' 200 ' <<<"$out")
	xlb_check_eq "$ok" 100 "IPv$f: 100 requests to the DSR frontend answered"
	xlb_check_eq "$(awk '{print $1, $2}' <<<"$out" | sort -u | head -3)" \
		"pod $c" "IPv$f: the pod saw the client's own address"
	xlb_check "IPv$f: node1 encapsulated (dsr_encap grew by 500 or more)" \
		[ $(($(stat n1 dsr_encap) - enc0)) -ge 500 ]
	xlb_check "IPv$f: node2 took the headers off (dsr_decap grew as much)" \
		[ $(($(stat n2 dsr_decap) - dec0)) -ge 500 ]
	xlb_check "IPv$f: node2 turned the replies back into the frontend's (reverse_nat grew)" \
		[ $(($(stat n2 reverse_nat) - rn2)) -ge 400 ]
	xlb_check_eq "$(($(stat n1 reverse_nat) - rn1))" 0 \
		"IPv$f: node1 reverse-NATed nothing"
	local dn1=$(($(pk "$NS_N1" eth0 rx) - n1rx)) dc=$(($(pk "$NS_C" eth0 tx) - ctx))
	xlb_log "IPv$f: client sent $dc packets, node1's eth0 received $dn1"
	xlb_check "IPv$f: node1 received no more than the client sent (+20 for neighbour traffic): the replies did not cross it" \
		[ "$dc" -ge 500 ] && [ "$dn1" -le $((dc + 20)) ]
	xlb_check_eq "$(($(stat n2 dsr_mss_clamp) - clamp0))" 100 \
		"IPv$f: every SYN-ACK's MSS lowered on node2 (dsr_mss_clamp)"
}

# Rate of a BIG download from frontend vip, bytes/s (empty on failure).
download() {
	local h="$1"
	case "$h" in *:*) h="[$h]" ;; esac
	xlb_ns "$NS_C" curl -s -g --max-time 60 -o /dev/null \
		-w '%{size_download} %{speed_download}\n' "http://$h:80/bytes/$BIG"
}

check_download() {
	local f="$1" d=$DSR4 s=$SNAT4 a b i ra rb da=() sb=()
	[ "$f" = 6 ] && d=$DSR6 s=$SNAT6
	# 5 rounds, the two taking turns (the cores are shared): medians.
	for i in 1 2 3 4 5; do
		read -r a ra <<<"$(download "$d")"
		read -r b rb <<<"$(download "$s")"
		[ "${a:-0}" = "$BIG" ] || { xlb_fail "IPv$f: DSR download $i: ${a:-none} bytes of $BIG"; return; }
		[ "${b:-0}" = "$BIG" ] || { xlb_fail "IPv$f: SNAT download $i: ${b:-none} bytes of $BIG"; return; }
		da+=("${ra%.*}") sb+=("${rb%.*}")
	done
	xlb_pass "IPv$f: 20 MB downloads through DSR and source NAT complete (5 each, within 60 s each)"
	a=$(printf '%s\n' "${da[@]}" | sort -n | sed -n 3p)
	b=$(printf '%s\n' "${sb[@]}" | sort -n | sed -n 3p)
	echo "MEASURE: IPv$f 20 MB download, median of 5: DSR $((a / 1000000)) MB/s, source NAT $((b / 1000000)) MB/s, ratio DSR/SNAT $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a/b}') (rounds DSR: ${da[*]}; SNAT: ${sb[*]} bytes/s)"
}

if ! topo; then
	xlb_fail "topology: namespaces, bridge, veths, routes"
	exit 1
fi
conf false >"$XLB_RUN/n1.json"
conf true >"$XLB_RUN/n2.json"
xlb_bpffs_mount 2>/dev/null || { mkdir -p "$XLB_BPFFS" && mount -t bpf bpf "$XLB_BPFFS"; }
xlb_bg pod "$NS_P" "$XLB_PY" "$XLB_SERVERS/backend.py" pod --http-port 8080 \
	--udp-port 9000 --say-peer
if ! xlbd_start n1 "$NS_N1" || ! xlbd_start n2 "$NS_N2"; then
	xlb_fail "xlbd starts on both nodes"
	exit 1
fi
xlb_pass "xlbd runs on both nodes (--iface 'eth0,veth*' --socket-lb off)"
if ! xlb_wait_until 10 xlb_ns "$NS_C" curl -sf --max-time 1 "http://$SNAT4/" >/dev/null; then
	xlb_fail "the pod answers through the source NAT frontend"
	exit 1
fi

check_dsr 4
check_dsr 6
ct=$(ctl n1 -o json conntrack list | xlb_jq "len([e for e in d if e.get('dsr', '').startswith('encap:$N1')])")
xlb_check "node1's conntrack list shows DSR entries from its address ($ct)" [ "${ct:-0}" -ge 1 ]
ct=$(ctl n2 -o json conntrack list | xlb_jq "len([e for e in d if e.get('dsr', '').startswith('decap:mss=')])")
xlb_check "node2's conntrack list shows decapsulated DSR entries ($ct)" [ "${ct:-0}" -ge 1 ]
xlb_check_eq "$(stat n1 dsr_too_big)" 0 "node1 dropped nothing as too big (dsr_too_big)"
xlb_check_eq "$(stat n2 dsr_mismatch)" 0 "node2 found every flow's backend (dsr_mismatch)"
check_download 4
check_download 6
echo "# $XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ] && [ "$XLB_NPASS" -gt 0 ]
