#!/bin/bash
# Forwarding in the program (xlbd --fib-redirect; XDP native, then xlbd's
# default mode, tc on the veths with senders' default offloads) and the next
# hop each flow keeps in its conntrack entry (README "Forwarding"), with
# real traffic (selftests/lib.sh topology: one LB, one backend):
#   - UDP exchanges through the VIP, IPv4 and IPv6, are redirected by the
#     program (fib_redirect grows by both directions) and most of them use
#     the flow's cached next hop (fib_lookup grows by far less);
#   - the backend's neighbour entry on the LB changed to a wrong MAC: once
#     the cached hop is older than its 100 ms, the same flow follows the
#     change (its datagrams go to the wrong MAC and are lost), and after
#     the right MAC is back it works again, on the same 5-tuple;
#   - a frame longer than the one a hop was checked with is looked up
#     again: with the backend link's MTU lowered, a long datagram of an
#     established flow is not redirected into a link it does not fit
#     (the lookup sends it to the stack, which fragments it) and still
#     gets its answer.
# One PASS:/FAIL: line per check. Run as root:
#   bash selftests/test_fib.sh [xdp] [tc]      (default both)
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
XLB_SAVE_LOGS="$XLB_ROOT/build/test-logs/test_fib.files"

BOGUS_MAC=02:00:00:00:be:ef

if ! xlb_bins_snapshot; then
	xlb_fail "xlbd and xlbctl are built: missing $XLB_XLBD or $XLB_XLBCTL"
	exit 1
fi

conf() {
	cat <<EOF
{"services": [
  {"name": "udp4", "vip": "$XLB_VIP4", "port": 9000, "protocol": "udp",
   "backends": [{"ip": "$(xlb_be4 1)", "port": $XLB_UDP_PORT}]},
  {"name": "udp6", "vip": "$XLB_VIP6", "port": 9000, "protocol": "udp",
   "backends": [{"ip": "$(xlb_be6 1)", "port": $XLB_UDP_PORT}]}
]}
EOF
}

# outcome NAME: packets counted under that outcome.
outcome() {
	xlb_ctl 1 -o json stats | xlb_jq "d['outcomes']['$1']['packets']"
}

# udp_ok VIP SPORT [client options]: every exchange on that 5-tuple
# answered by b1 (the socket is connected to the VIP: a reply counts only if it
# was reverse-NATed).
udp_ok() {
	local vip=$1 sport=$2 out
	shift 2
	out=$(xlb_udp "$vip" 9000 --sport "$sport" "$@" 2>/dev/null) &&
		[ "$(sort -u <<<"$out")" = b1 ]
}

# run_fib MODE: xdp (native XDP, senders' tx offload off, the LB veths
# in --complete-checksums) or tc (xlbd's default mode: tc on veths, the
# senders' default offloads).
run_fib() {
	local m="$1" xmode=native fam vip be sport red0 look0 red look miss0
	[ "$m" = tc ] && xmode=auto
	xlb_log "== mode $m (xlbd --xdp-mode $xmode --fib-redirect)"
	if ! xlb_topo_create 1 1 || ! xlb_topo_offload "$m" || ! xlb_bpffs_mount; then
		xlb_fail "$m: topology: namespaces, veths and bpffs set up"
		return
	fi
	xlb_backends_start
	if ! xlb_backends_wait; then
		xlb_fail "$m: backend b1 answers the client directly"
		return
	fi
	conf >"$XLB_RUN/xlb.json"
	if ! xlb_xlbd_start 1 "$xmode" "$XLB_RUN/xlb.json" --fib-redirect; then
		xlb_fail "$m: xlbd --fib-redirect starts (--xdp-mode $xmode)"
		return
	fi
	LB="${XLB_NS_LB[1]}"

	for fam in 4 6; do
		vip=$XLB_VIP4 be=$(xlb_be4 1) sport=41004
		[ $fam = 6 ] && vip=$XLB_VIP6 be=$(xlb_be6 1) sport=41006
		red0=$(outcome fib_redirect)
		look0=$(outcome fib_lookup)
		if xlb_udp "$vip" 9000 --sport "$sport" --count 20 >"$XLB_RUN/burst$fam" 2>&1 &&
			[ "$(sort -u "$XLB_RUN/burst$fam")" = b1 ]; then
			xlb_pass "$m IPv$fam: 20 exchanges on one flow through the VIP, answered by b1"
		else
			xlb_fail "$m IPv$fam: 20 exchanges on one flow through the VIP: $(head -c 200 "$XLB_RUN/burst$fam")"
		fi
		red=$(($(outcome fib_redirect) - red0))
		look=$(($(outcome fib_lookup) - look0))
		xlb_check "$m IPv$fam: the program redirected both directions (fib_redirect +$red, want >= 40)" \
			[ "$red" -ge 40 ]
		# The first datagram is a new flow, the second stores the hop; the
		# rest reuse it unless the exchanges took over 100 ms each.
		xlb_check "$m IPv$fam: most redirects used the flow's cached next hop (fib_lookup +$look of +$red)" \
			[ "$look" -ge 1 -a $((look * 4)) -le "$red" ]

		# The neighbour changes under an established flow.
		if [ $fam = 4 ]; then
			ip -n "$LB" neigh replace "$be" lladdr $BOGUS_MAC dev ethb nud permanent
		else
			ip -n "$LB" -6 neigh replace "$be" lladdr $BOGUS_MAC dev ethb nud permanent
		fi
		sleep 0.3
		look0=$(outcome fib_lookup)
		if udp_ok "$vip" "$sport"; then
			xlb_fail "$m IPv$fam: 300 ms after the neighbour's MAC changed, the flow follows it (still answered: a stale hop)"
		else
			xlb_pass "$m IPv$fam: 300 ms after the neighbour's MAC changed, the flow follows it (sent to the new MAC, lost)"
		fi
		xlb_check "$m IPv$fam: that datagram's hop was looked up again" \
			[ "$(($(outcome fib_lookup) - look0))" -ge 1 ]
		if [ $fam = 4 ]; then
			ip -n "$LB" neigh del "$be" dev ethb
		else
			ip -n "$LB" -6 neigh del "$be" dev ethb
		fi
		sleep 0.3
		# The first try may go to the stack while the neighbour resolves.
		xlb_check "$m IPv$fam: with the right MAC back, the same flow is answered again" \
			xlb_wait_until 5 udp_ok "$vip" "$sport"
	done

	# MTU: a hop checked with short frames is not used for a long one.
	ip -n "$LB" link set dev ethb mtu 1200
	ip -n "${XLB_NS_BE[1]}" link set dev eth0 mtu 1200
	sleep 0.2
	xlb_check "$m IPv4: short datagrams still answered after the MTU change" \
		xlb_wait_until 5 udp_ok "$XLB_VIP4" 41104 --count 5
	miss0=$(outcome fib_miss)
	if udp_ok "$XLB_VIP4" 41104 --size 1400 --no-df; then
		xlb_pass "$m IPv4: a 1,400-byte datagram on that flow is answered (fragmented by the stack, not redirected whole)"
	else
		xlb_fail "$m IPv4: a 1,400-byte datagram on that flow is answered (fragmented by the stack, not redirected whole)"
	fi
	# The lookup finds it does not fit (fib_miss); a cached hop would have
	# redirected it whole into a link it does not fit, and it would be lost.
	xlb_check "$m IPv4: the long datagram was looked up and sent to the stack (fib_miss grew)" \
		[ $(($(outcome fib_miss) - miss0)) -ge 1 ]
}

modes=(xdp tc)
[ $# -gt 0 ] && modes=("$@")
for m in "${modes[@]}"; do
	run_fib "$m"
	xlb_topo_destroy
	XLB_XLBD_N=()
done
echo "# $XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ] && [ "$XLB_NPASS" -gt 0 ]
