#!/bin/bash
# Real traffic through xlbd: a client, two LB namespaces and three
# backends (selftests/lib.sh draws the topology), run once with XDP in
# native mode (senders' tx checksum offload off, the LB's veths named in
# --complete-checksums) and once in xlbd's default mode, which gives the
# veths the tc program (senders keep their default offloads). For IPv4
# and IPv6:
#   - HTTP requests to the VIP all succeed and spread by weight (1:2:3);
#     xlbctl stats count them consistently;
#   - a UDP exchange through the VIP (the client's socket is connected to
#     the VIP, so it accepts the reply only if it was reverse-NATed);
#   - a terminating backend keeps its open connection and gets no new
#     one; a removed backend gets no new connection;
#   - five xlbd restarts under load lose no request and no connection;
#   - a second xlbd with its own bpffs builds the same Maglev tables and
#     picks the same backend for the same flow, so a flow can move from
#     one LB to the other.
# The LB's veths have tx checksum offload off, so receivers verify what
# the LB sends; a control with a deliberately corrupted checksum proves
# it. In tc mode the client and backends keep offload on: the tc program
# meets CHECKSUM_PARTIAL packets.
# One PASS:/FAIL: line per check. Run as root:
#   bash selftests/test_traffic.sh [xdp] [tc]      (default both)
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
XLB_SAVE_LOGS="$XLB_ROOT/build/test-logs/test_traffic.files"

N_SPREAD=900		# requests of the weight check (see check_spread)
N_AVOID=150		# requests of the terminating/removed checks
WEIGHTS=(0 1 2 3)	# web services' weight of backend b1..b3
CONF_DIR="$XLB_RUN/conf"
CONF="$CONF_DIR/xlb.json"

if ! xlb_bins_snapshot; then
	xlb_fail "xlbd and xlbctl are built: missing $XLB_XLBD or $XLB_XLBCTL"
	exit 1
fi

# conf_write "S1 S2 S3" "S1 S2 S3": the config, with the state of b1..b3
# in web4 (first list) and web6 (second): active, terminating or absent.
# udp4/udp6 always have all three. Replaced atomically (rename), which
# xlbd notices by itself.
conf_write() {
	local s4=($1) s6=($2)
	mkdir -p "$CONF_DIR"
	{
		echo '{"services": ['
		conf_svc web4 "$XLB_VIP4" 80 tcp "$XLB_HTTP_PORT" 4 "${s4[@]}"
		echo ','
		conf_svc web6 "$XLB_VIP6" 80 tcp "$XLB_HTTP_PORT" 6 "${s6[@]}"
		echo ','
		conf_svc udp4 "$XLB_VIP4" 9000 udp "$XLB_UDP_PORT" 4 \
			active active active
		echo ','
		conf_svc udp6 "$XLB_VIP6" 9000 udp "$XLB_UDP_PORT" 6 \
			active active active
		echo ']}'
	} >"$XLB_RUN/xlb.json.tmp" && mv "$XLB_RUN/xlb.json.tmp" "$CONF"
}

# conf_svc NAME VIP PORT PROTO BEPORT FAMILY STATE1 STATE2 STATE3
conf_svc() {
	local name=$1 vip=$2 port=$3 proto=$4 beport=$5 fam=$6 j sep= w ip
	shift 6
	printf '  {"name": "%s", "vip": "%s", "port": %d, "protocol": "%s",\n' \
		"$name" "$vip" "$port" "$proto"
	printf '   "backends": ['
	for ((j = 1; j <= 3; j++)); do
		[ "${!j}" = absent ] && continue
		w=1
		[ "$proto" = tcp ] && w=${WEIGHTS[j]}
		ip=$(xlb_be"$fam" "$j")
		printf '%s\n    {"ip": "%s", "port": %d, "weight": %d, "state": "%s"}' \
			"$sep" "$ip" "$beport" "$w" "${!j}"
		sep=,
	done
	printf ']}\n'
}

# be_states LB SERVICE: "ip=state ..." of the service's backends.
be_states() {
	xlb_ctl "$1" -o json backend list | xlb_jq \
		'" ".join(sorted("%s=%s" % (b["ip"], b["state"]) for b in d if b["service"] == "'"$2"'"))'
}

be_states_are() { [ "$(be_states "$1" "$2")" = "$3" ]; }

# want_states FAMILY "S1 S2 S3": what be_states should print.
want_states() {
	local s=($2) j out=()
	for ((j = 1; j <= 3; j++)); do
		[ "${s[j - 1]}" = absent ] && continue
		out+=("$(xlb_be"$1" "$j")=${s[j - 1]}")
	done
	printf '%s\n' "${out[@]}" | sort | paste -sd' '
}

# reload_to "S4" "S6" HOW: writes the config, reloads xlbd in both LBs
# (HOW = file: the rename alone; sighup: also SIGHUP) and waits until
# both LBs' maps show it.
reload_to() {
	local i ok=0
	conf_write "$1" "$2"
	if [ "$3" = sighup ]; then
		kill -HUP "${XLB_BG[xlbd1]}" "${XLB_BG[xlbd2]}"
	fi
	for i in 1 2; do
		xlb_wait_until 10 be_states_are "$i" web4 "$(want_states 4 "$1")" &&
			xlb_wait_until 10 be_states_are "$i" web6 "$(want_states 6 "$2")" &&
			ok=$((ok + 1))
	done
	[ "$ok" = 2 ]
}

vip_of() { if [ "$1" = 4 ]; then echo "$XLB_VIP4"; else echo "$XLB_VIP6"; fi; }

# get_from FAMILY SPORTS [--want NAME]: client.py get to the web VIP.
get_from() {
	local f="$1" ports="$2"
	shift 2
	ip netns exec "$XLB_NS_C" timeout 60 "$XLB_PY" "$XLB_SERVERS/client.py" \
		get "$(vip_of "$f")" 80 --sport "$ports" "$@"
}

# The state file of a client.py loop/keepalive: one field.
client_field() { xlb_jq "d[\"$2\"]" <"$XLB_RUN/$1.state"; }

client_ok_at_least() { [ "$(client_field "$1" ok 2>/dev/null || echo 0)" -ge "$2" ]; }

# client_start NAME MODE FAMILY [INTERVAL]
client_start() {
	rm -f "$XLB_RUN/$1.stop" "$XLB_RUN/$1.state"
	xlb_bg "$1" "$XLB_NS_C" timeout 150 "$XLB_PY" "$XLB_SERVERS/client.py" \
		"$2" "$(vip_of "$3")" 80 --state "$XLB_RUN/$1.state" \
		--stop "$XLB_RUN/$1.stop" --interval "${4:-0.1}" --max-time 140
}

# client_stop NAME: ends the client; returns its exit status.
client_stop() {
	local pid="${XLB_BG[$1]}" rc
	touch "$XLB_RUN/$1.stop"
	if ! xlb_wait_until 10 xlb_pid_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
	rc=$?
	unset "XLB_BG[$1]"
	return $rc
}

# stats_get I FILE: xlbctl -o json stats of LB I into FILE.
stats_get() { xlb_ctl "$1" -o json stats >"$2"; }

# stats_delta BEFORE AFTER SERVICE: prints "svc besum ct_new" deltas and
# then "ip packets" per backend of SERVICE.
stats_delta() {
	"$XLB_PY" - "$@" <<'EOF'
import json, sys
b, a = (json.load(open(f)) for f in sys.argv[1:3])
svc = sys.argv[3]
def svc_pk(d):
    return sum(s["packets"] for s in d["services"] if s["name"] == svc)
def be_pk(d):
    r = {}
    for x in d["backends"]:
        if x["service"] == svc:
            r[x["ip"]] = r.get(x["ip"], 0) + x["packets"]
    return r
bb, ba = be_pk(b), be_pk(a)
dbe = {ip: ba[ip] - bb.get(ip, 0) for ip in ba}
print(svc_pk(a) - svc_pk(b), sum(dbe.values()),
      a["outcomes"]["ct_new"]["packets"] - b["outcomes"]["ct_new"]["packets"])
for ip in sorted(dbe):
    print(ip, dbe[ip])
EOF
}

# check_spread MODE FAMILY: N_SPREAD requests to the web VIP, every one a
# new connection answered with 200, shares within 25% of the weights, and
# LB 1's counters consistent with what was sent. 900 requests, not fewer:
# the weight-1 backend's count has a binomial spread of +-11 around 150,
# so 25% is 3.4 standard deviations (with 300 requests it would be 1.9,
# a false failure in one run of twenty).
check_spread() {
	local m="$1" f="$2" out="$XLB_RUN/spread$2.out" j got want ok conns
	local sb="$XLB_RUN/stats.before" sa="$XLB_RUN/stats.after" d sum=0
	local svc_d be_d ctn ip pk n

	stats_get 1 "$sb"
	xlb_http_burst "$(vip_of "$f")" 80 "$N_SPREAD" >"$out"
	stats_get 1 "$sa"
	ok=$(awk '$2 == 200' "$out" | wc -l)
	xlb_check_eq "$ok" "$N_SPREAD" "$m v$f: HTTP requests to the VIP that succeeded"
	conns=$(awk '$2 == 200 && $3 == 1' "$out" | wc -l)
	xlb_check_eq "$conns" "$ok" "$m v$f: requests that opened a new connection"
	for ((j = 1; j <= 3; j++)); do
		got=$(awk -v b="b$j" '$1 == b && $2 == 200' "$out" | wc -l)
		want=$((N_SPREAD * WEIGHTS[j] / 6))
		if [ $((4 * (got - want))) -le "$want" ] &&
			[ $((4 * (want - got))) -le "$want" ]; then
			xlb_pass "$m v$f: b$j (weight ${WEIGHTS[j]}) answered $got of $N_SPREAD, expected $want +-25%"
		else
			xlb_fail "$m v$f: b$j (weight ${WEIGHTS[j]}) answered: got $got of $N_SPREAD, want $want +-25%"
		fi
	done

	if ! d=$(stats_delta "$sb" "$sa" "web$f"); then
		xlb_fail "$m v$f: xlbctl -o json stats readable before and after"
		return
	fi
	read -r svc_d be_d ctn <<<"$(head -1 <<<"$d")"
	# One new flow per distinct client port (backend.py lets the client
	# close first, so its kernel does not reuse a recent port).
	n=$(awk '$2 == 200 { print $4 }' "$out" | sort -u | wc -l)
	xlb_check_eq "$ctn" "$n" "$m v$f: stats ct_new grew by the number of connections (distinct client ports)"
	xlb_check_eq "$be_d" "$svc_d" "$m v$f: stats: service web$f packets = sum of its backends' packets"
	# A client sends at least SYN, ACK, request and FIN per connection,
	# and on this quiet link fewer than 12 packets.
	if [ "$svc_d" -ge $((4 * ok)) ] && [ "$svc_d" -le $((12 * ok)) ]; then
		xlb_pass "$m v$f: stats: service web$f counted $svc_d packets for $ok connections"
	else
		xlb_fail "$m v$f: stats: service web$f packets: got $svc_d, want 4..12 per connection ($ok)"
	fi
	for ((j = 1; j <= 3; j++)); do
		ip=$(xlb_be"$f" "$j")
		pk=$(awk -v ip="$ip" '$1 == ip { print $2 }' <<<"$d")
		got=$(awk -v b="b$j" '$1 == b && $2 == 200' "$out" | wc -l)
		if [ -n "$pk" ] && [ "$pk" -ge $((4 * got)) ] &&
			[ "$pk" -le $((12 * got)) ]; then
			xlb_pass "$m v$f: stats: backend $ip counted $pk packets for its $got connections"
		else
			xlb_fail "$m v$f: stats: backend $ip packets: got ${pk:-none}, want 4..12 per connection ($got)"
		fi
	done
}

# check_udp MODE FAMILY: request/response through the VIP, and LB 1's
# counters: exactly 3 datagrams in, 3 replies reverse-NATed, 1 new flow.
check_udp() {
	local m="$1" f="$2" out n d svc_d be_d ctn rn
	local sb="$XLB_RUN/stats.before" sa="$XLB_RUN/stats.after"
	stats_get 1 "$sb"
	out=$(xlb_udp "$(vip_of "$f")" 9000 --count 3)
	stats_get 1 "$sa"
	n=$(grep -cx 'b[123]' <<<"$out")
	xlb_check_eq "$n" 3 "$m v$f: UDP replies through the VIP accepted by a socket connected to the VIP"
	n=$(sort -u <<<"$out" | wc -l)
	xlb_check_eq "$n" 1 "$m v$f: one UDP flow, one backend"
	d=$(stats_delta "$sb" "$sa" "udp$f")
	read -r svc_d be_d ctn <<<"$(head -1 <<<"$d")"
	rn=$(xlb_jq 'd["outcomes"]["reverse_nat"]["packets"]' <"$sa")
	rn=$((rn - $(xlb_jq 'd["outcomes"]["reverse_nat"]["packets"]' <"$sb")))
	xlb_check_eq "$svc_d/$be_d/$ctn/$rn" 3/3/1/3 \
		"$m v$f: stats udp$f packets/backend packets/ct_new/reverse_nat for 3 datagrams"
}

# check_csum_control MODE: the topology really catches bad checksums. An
# nftables rule on LB 1 sets the TCP checksum of packets to the backends
# to a wrong value at postrouting, before the egress veth (tx offload off)
# completes it: requests to a backend through LB 1 must then fail, and
# work again without the rule. With offload on (see DESIGN.md) the
# tc-mode requests would pass anyway: that is what this guards against.
check_csum_control() {
	local m="$1" ns="${XLB_NS_LB[1]}" f ip got
	if ! ip netns exec "$ns" nft -f - <<'NFT'; then
table inet xlbcsum {
	chain post {
		type filter hook postrouting priority 0; policy accept;
		tcp dport 8080 @th,128,16 set 0x1234
	}
}
NFT
		xlb_fail "$m: nftables checksum-corrupting rule loaded"
		return
	fi
	for f in 4 6; do
		ip=$(xlb_be"$f" 1)
		[ "$f" = 6 ] && ip="[$ip]"
		got=$(ip netns exec "$XLB_NS_C" curl -s -g --max-time 1 \
			"http://$ip:$XLB_HTTP_PORT/")
		xlb_check_eq "${got:-failed}" failed "$m v$f: control: request with a corrupted TCP checksum fails"
	done
	ip netns exec "$ns" nft delete table inet xlbcsum
	for f in 4 6; do
		got=$(xlb_http_get "$(xlb_be"$f" 1)" "$XLB_HTTP_PORT")
		xlb_check_eq "$got" b1 "$m v$f: control: the same request without the corruption"
	done
}

# check_services MODE: xlbctl service list shows the four services.
check_services() {
	local m="$1" got want
	got=$(xlb_ctl 1 -o json service list | xlb_jq \
		'" ".join(sorted("%s:%s:%s:%s:%s" % (s["name"], s["vip"], s["port"], s["protocol"], s["backends"]) for s in d))')
	want="udp4:$XLB_VIP4:9000:udp:3 udp6:$XLB_VIP6:9000:udp:3 web4:$XLB_VIP4:80:tcp:3 web6:$XLB_VIP6:80:tcp:3"
	xlb_check_eq "$got" "$want" "$m: xlbctl service list"
}

# check_attach MODE: the programs really sit where the mode says, and
# only there (so that in tc mode the tc program does the NAT).
check_attach() {
	local m="$1" i ifc xdp tcf
	for i in 1 2; do
		for ifc in ethc ethb; do
			xdp=$(ip -j -n "${XLB_NS_LB[i]}" link show "$ifc" | xlb_jq \
				'"%s/%s" % (d[0]["xdp"]["mode"], d[0]["xdp"]["prog"]["name"]) if "xdp" in d[0] else "none"')
			tcf=$(tc -n "${XLB_NS_LB[i]}" filter show dev "$ifc" ingress 2>/dev/null |
				grep -o 'xlb_tc' | head -1)
			if [ "$m" = xdp ]; then
				xlb_check_eq "$xdp/${tcf:-none}" 1/xlb_xdp/none \
					"xdp: LB $i $ifc: XDP mode/program/tc filter (1 = native)"
			else
				xlb_check_eq "$xdp/${tcf:-none}" none/xlb_tc \
					"tc: LB $i $ifc: XDP program/tc filter on clsact ingress"
			fi
		done
	done
}

# check_terminating MODE: per family, a long-lived connection to backend
# X; X marked terminating keeps it and gets no new connection; X removed
# gets no new connection.
check_terminating() {
	local m="$1" f x x4 x6 s4 s6 j out n bad st sp=()

	client_start ka4 keepalive 4
	client_start ka6 keepalive 6
	if ! xlb_wait_until 10 client_ok_at_least ka4 3 ||
		! xlb_wait_until 10 client_ok_at_least ka6 3; then
		xlb_fail "$m: long-lived connections answer 3 requests within 10 s"
		client_stop ka4
		client_stop ka6
		return
	fi
	x4=$(client_field ka4 last)
	x6=$(client_field ka6 last)
	s4=() s6=()
	for j in 1 2 3; do
		s4+=("$([ "b$j" = "$x4" ] && echo terminating || echo active)")
		s6+=("$([ "b$j" = "$x6" ] && echo terminating || echo active)")
	done
	xlb_log "$m: long-lived v4 connection on $x4, v6 on $x6: marking them terminating"
	# A finished flow from a fixed port, balanced to the same backend:
	# a new connection (SYN) from that port, once the backend is
	# terminating, must not follow the flow's old conntrack entry.
	for f in 4 6; do
		[ "$f" = 4 ] && x=$x4 || x=$x6
		sp[f]=$(get_from "$f" 20000-20199 --want "$x" | tail -1)
		if [ "${sp[f]#* }" = "$x" ]; then
			sp[f]=${sp[f]%% *}
		else
			xlb_fail "$m v$f: a client port in 20000-20199 balanced to $x: got '${sp[f]}'"
			sp[f]=
		fi
	done
	xlb_check "$m: config with a terminating backend reloaded (file rewritten)" \
		reload_to "${s4[*]}" "${s6[*]}" file
	for f in 4 6; do
		[ "$f" = 4 ] && x=$x4 || x=$x6
		[ -z "${sp[f]}" ] && continue
		out=$(get_from "$f" "${sp[f]}")
		if [[ "$out" =~ ^[0-9]+\ b[123]$ ]] && [ "${out#* }" != "$x" ]; then
			xlb_pass "$m v$f: new connection from port ${sp[f]}, last balanced to terminating $x, went to ${out#* }"
		else
			xlb_fail "$m v$f: new connection from port ${sp[f]}, last balanced to terminating $x: got '$out', want another backend"
		fi
	done
	for f in 4 6; do
		out=$(xlb_http_burst "$(vip_of "$f")" 80 "$N_AVOID")
		n=$(awk '$2 == 200' <<<"$out" | wc -l)
		xlb_check_eq "$n" "$N_AVOID" "$m v$f: requests that succeeded with one backend terminating"
		[ "$f" = 4 ] && x=$x4 || x=$x6
		bad=$(awk -v b="$x" '$1 == b' <<<"$out" | wc -l)
		xlb_check_eq "$bad" 0 "$m v$f: new connections sent to terminating $x"
	done
	# Let the long-lived connections run a while longer on the old state.
	n=$(client_field ka4 ok)
	xlb_wait_until 5 client_ok_at_least ka4 $((n + 10))
	for f in 4 6; do
		[ "$f" = 4 ] && x=$x4 || x=$x6
		st=$(xlb_jq '"%d/%d/%s" % (d["fail"], len(d["backends"]), d["last"])' \
			<"$XLB_RUN/ka$f.state")
		xlb_check_eq "$st" "0/1/$x" "$m v$f: long-lived connection to terminating $x (failures/backends/last)"
		client_stop "ka$f"
		xlb_check_eq $? 0 "$m v$f: long-lived client exit status"
	done

	for j in 0 1 2; do
		[ "${s4[j]}" = terminating ] && s4[j]=absent
		[ "${s6[j]}" = terminating ] && s6[j]=absent
	done
	xlb_check "$m: config without that backend reloaded (SIGHUP)" \
		reload_to "${s4[*]}" "${s6[*]}" sighup
	for f in 4 6; do
		out=$(xlb_http_burst "$(vip_of "$f")" 80 "$N_AVOID")
		n=$(awk '$2 == 200' <<<"$out" | wc -l)
		xlb_check_eq "$n" "$N_AVOID" "$m v$f: requests that succeeded with one backend removed"
		[ "$f" = 4 ] && x=$x4 || x=$x6
		bad=$(awk -v b="$x" '$1 == b' <<<"$out" | wc -l)
		xlb_check_eq "$bad" 0 "$m v$f: new connections sent to removed $x"
		n=$(awk '$2 == 200 { print $1 }' <<<"$out" | sort -u | wc -l)
		xlb_check_eq "$n" 2 "$m v$f: backends answering with one removed"
	done
	xlb_check "$m: config with every backend active restored" \
		reload_to "active active active" "active active active" sighup
}

# check_restart MODE: five SIGTERM + start of xlbd in LB 1 while a request
# loop (a new connection every 20 ms) and a long-lived connection run.
check_restart() {
	local m="$1" k f st rcs=0 bad=0 t0

	for f in 4 6; do
		client_start "loop$f" loop "$f" 0.02
		client_start "ka$f" keepalive "$f"
	done
	for f in 4 6; do
		xlb_wait_until 10 client_ok_at_least "ka$f" 3
		xlb_wait_until 10 client_ok_at_least "loop$f" 3
	done
	t0=$(xlb_now_ms)
	for k in 1 2 3 4 5; do
		xlb_xlbd_stop 1 || rcs=$((rcs + 1))
		sleep 0.3
		if ! xlb_xlbd_start 1 "$XLBD_MODE" "$CONF"; then
			bad=$((bad + 1))
			break
		fi
		sleep 0.5
	done
	xlb_check_eq "$rcs" 0 "$m: xlbd runs that did not exit 0 on SIGTERM"
	xlb_check_eq "$bad" 0 "$m: xlbd restarts that did not get ready"
	xlb_log "$m: 5 restarts took $(($(xlb_now_ms) - t0)) ms"
	for f in 4 6; do
		client_stop "loop$f"
		client_stop "ka$f"
		st=$(xlb_jq '"%d failed, %d ok" % (d["fail"], d["ok"])' \
			<"$XLB_RUN/loop$f.state")
		if [[ "$st" =~ ^0\ failed,\ ([0-9]+)\ ok$ ]] &&
			[ "${BASH_REMATCH[1]}" -ge 50 ]; then
			xlb_pass "$m v$f: request loop across 5 xlbd restarts: $st"
		else
			xlb_fail "$m v$f: request loop across 5 xlbd restarts: got $st, want 0 failed, >= 50 ok"
		fi
		st=$(xlb_jq '"%d failed, %d backends, %d ok" % (d["fail"], len(d["backends"]), d["ok"])' \
			<"$XLB_RUN/ka$f.state")
		if [[ "$st" =~ ^0\ failed,\ 1\ backends ]]; then
			xlb_pass "$m v$f: long-lived connection across 5 xlbd restarts: $st"
		else
			xlb_fail "$m v$f: long-lived connection across 5 xlbd restarts: got $st, want 0 failed, 1 backend"
		fi
	done
}

# ring_map I: "service vip port proto: ip:port ip:port ..." per ring slot
# of every service of LB I, read from the pinned maps with bpftool (not
# through xlbctl), backend ids translated to addresses.
ring_map() {
	local dir="$XLB_BPFFS/lb$1" m
	for m in xlb_svc xlb_backends xlb_rings; do
		bpftool -j map dump pinned "$dir/$m" >"$XLB_RUN/lb$1.$m.json" ||
			return 1
	done
	"$XLB_PY" - "$XLB_RUN/lb$1" <<'EOF'
import ipaddress, json, sys
p = sys.argv[1]
svc = json.load(open(p + ".xlb_svc.json"))
bes = json.load(open(p + ".xlb_backends.json"))
rings = json.load(open(p + ".xlb_rings.json"))
def fmt(e):
    v = e.get("formatted", e)
    return v["key"], v["value"]
# An entry holds one slot (a number) or several ({"id": [..]}).
ring = []
for e in sorted(rings, key=lambda e: fmt(e)[0]):
    v = fmt(e)[1]
    if isinstance(v, dict):
        (v,) = v.values()
    ring.extend(v if isinstance(v, list) else [v])
def addr(a, fam):
    b = bytes(a["bytes"])
    return str(ipaddress.ip_address(b[:4] if fam == 4 else b))
be = {}
for e in bes:
    k, v = fmt(e)
    if v["state"]:
        be[k] = "%s:%d" % (addr(v["addr"], v["family"]),
                           int.from_bytes(v["port"].to_bytes(2, "little"), "big"))
for e in sorted(svc, key=lambda e: str(fmt(e)[0])):
    k, v = fmt(e)
    port = int.from_bytes(k["port"].to_bytes(2, "little"), "big")
    slots = [be.get(ring[v["ring_off"] + i], "none")
             for i in range(v["ring_size"])]
    print("%s %d %d: %s" % (addr(k["addr"], k["family"]), port, k["proto"],
                            " ".join(slots)))
EOF
}

# maglev_counts I SERVICE: table size and "ip:port=slots" of xlbctl.
maglev_counts() {
	xlb_ctl "$1" -o json maglev show "$2" | xlb_jq \
		'"%s %s" % (d["table_size"], " ".join(sorted("%s:%s=%s" % (b["ip"], b["port"], b["slots"]) for b in d["backends"])))'
}

# maglev_table I SERVICE: xlbctl's full slot table, "ip:port" per slot
# (IPv6 in brackets, as xlbctl prints it, are stripped).
maglev_table() {
	xlb_ctl "$1" -o json maglev show "$2" | xlb_jq \
		'" ".join(x.replace("[", "").replace("]", "") for x in d["table"])'
}

# check_two_lbs MODE: LB 1 and LB 2 (separate bpffs, same config).
check_two_lbs() {
	local m="$1" s a b f i out1 out2 n x

	for s in web4 web6 udp4 udp6; do
		a=$(maglev_counts 1 "$s")
		b=$(maglev_counts 2 "$s")
		if [ -n "$a" ] && [ "$a" = "$b" ]; then
			xlb_pass "$m: $s: both LBs' xlbctl maglev show agree: $a"
		else
			xlb_fail "$m: $s: xlbctl maglev show: LB 1 '$a', LB 2 '$b'"
		fi
	done
	a=$(ring_map 1)
	b=$(ring_map 2)
	n=$(grep -c ': ' <<<"$a")
	if [ "$n" = 4 ] && [ "$a" = "$b" ] && ! grep -q none <<<"$a"; then
		xlb_pass "$m: both LBs' rings map every slot to the same ip:port (4 services, read with bpftool)"
	else
		xlb_fail "$m: ring slot -> ip:port differs between LBs (or unreadable): $(diff <(echo "$a") <(echo "$b") | head -5 | cut -c1-200)"
	fi
	for s in web4:"$XLB_VIP4 80 6" web6:"$XLB_VIP6 80 6" \
		udp4:"$XLB_VIP4 9000 17" udp6:"$XLB_VIP6 9000 17"; do
		x=$(grep "^${s#*:}: " <<<"$a" | cut -d' ' -f4-)
		for i in 1 2; do
			b=$(maglev_table "$i" "${s%%:*}")
			if [ -n "$x" ] && [ "$b" = "$x" ]; then
				xlb_pass "$m: ${s%%:*}: LB $i xlbctl maglev show table = ring in the maps, slot by slot"
			else
				xlb_fail "$m: ${s%%:*}: LB $i xlbctl maglev show table differs from the maps: got '$(cut -c1-80 <<<"$b")...', want '$(cut -c1-80 <<<"$x")...'"
			fi
		done
	done

	# The same UDP flows (fixed source ports) through LB 1, then LB 2.
	for f in 4 6; do
		xlb_topo_route_via 1
		out1=$(xlb_udp "$(vip_of "$f")" 9000 --sport 40000-40019)
		xlb_topo_route_via 2
		out2=$(xlb_udp "$(vip_of "$f")" 9000 --sport 40000-40019)
		n=$(grep -c ' b[123]$' <<<"$out1")
		x=$(awk '{ print $2 }' <<<"$out1" | sort -u | wc -l)
		if [ "$n" = 20 ] && [ "$out1" = "$out2" ] && [ "$x" -ge 2 ]; then
			xlb_pass "$m v$f: 20 UDP flows got the same backend through LB 1 and LB 2 ($x backends in use)"
		else
			xlb_fail "$m v$f: UDP flows through LB 1 vs LB 2: $(diff <(echo "$out1") <(echo "$out2") | head -4 | paste -sd' ') ($n replies, $x backends)"
		fi
	done

	# A long-lived connection opened through LB 1 moves to LB 2. LB 1
	# forgets the finished flows first: a client port reused from a flow
	# balanced while the backend set was different would follow that old
	# entry on LB 1 and the ring on LB 2.
	xlb_topo_route_via 1
	xlb_ctl 1 conntrack flush >/dev/null
	client_start ka4 keepalive 4
	client_start ka6 keepalive 6
	xlb_wait_until 10 client_ok_at_least ka4 3
	xlb_wait_until 10 client_ok_at_least ka6 3
	xlb_topo_route_via 2 client
	sleep 0.5
	xlb_topo_route_via 2 backends
	n=$(client_field ka4 ok)
	xlb_wait_until 5 client_ok_at_least ka4 $((n + 10))
	for f in 4 6; do
		client_stop "ka$f"
		out1=$(xlb_jq '"%d failed, %d backends" % (d["fail"], len(d["backends"]))' \
			<"$XLB_RUN/ka$f.state")
		xlb_check_eq "$out1" "0 failed, 1 backends" "$m v$f: long-lived connection moved from LB 1 to LB 2"
	done
	n=$(xlb_ctl 2 -o json conntrack list | xlb_jq \
		'len([c for c in d if c["dir"] in ("flow", "fwd") and c["dport"] == 80])')
	if [ "${n:-0}" -ge 2 ]; then
		xlb_pass "$m: LB 2 tracks the moved connections ($n TCP forward entries)"
	else
		xlb_fail "$m: LB 2 TCP forward conntrack entries: got ${n:-none}, want >= 2"
	fi
	xlb_topo_route_via 1
}

run_checks() {
	local m="$1" f
	if ! xlb_topo_create 2 3 || ! xlb_topo_offload "$m" ||
		! xlb_bpffs_mount; then
		xlb_fail "$m: topology created"
		return
	fi
	xlb_backends_start
	xlb_check "$m: every backend answers the client directly (HTTP, UDP, v4, v6)" \
		xlb_backends_wait || return
	check_csum_control "$m"
	conf_write "active active active" "active active active"
	if ! xlb_xlbd_start 1 "$XLBD_MODE" "$CONF" ||
		! xlb_xlbd_start 2 "$XLBD_MODE" "$CONF"; then
		xlb_fail "$m: xlbd started in both LBs"
		return
	fi
	xlb_pass "$m: xlbd ready in both LBs"
	check_attach "$m"
	check_services "$m"
	for f in 4 6; do
		check_spread "$m" "$f"
		check_udp "$m" "$f"
	done
	check_terminating "$m"
	check_restart "$m"
	check_two_lbs "$m"
	if grep -q -E ' xlbd (error|warn)' "$XLB_RUN"/xlbd-lb*.log; then
		xlb_log "$m: xlbd warnings/errors:"
		grep -h -E ' xlbd (error|warn)' "$XLB_RUN"/xlbd-lb*.log |
			cut -d' ' -f2- | sort | uniq -c | head -10 | sed 's/^/#   /'
	fi
}

run_mode() {
	local m="$1" t0
	t0=$(xlb_now_ms)
	# xdp: native XDP on the LB's veths, allowed by --complete-checksums
	# (lib.sh) because every sender has tx offload off; tc: xlbd's
	# default mode, which gives veths the tc program, with the senders'
	# default offloads (partial checksums).
	XLBD_MODE=native
	[ "$m" = tc ] && XLBD_MODE=auto
	xlb_log "== mode $m (xlbd --xdp-mode $XLBD_MODE)"
	run_checks "$m"
	xlb_topo_destroy
	mkdir -p "$XLB_RUN/$m"
	mv "$XLB_RUN"/*.log "$XLB_RUN"/*.state "$XLB_RUN"/*.out "$XLB_RUN"/*.json \
		"$XLB_RUN/$m/" 2>/dev/null
	rm -f "$XLB_RUN"/*.stop
	XLB_XLBD_N=()
	xlb_log "mode $m took $(($(xlb_now_ms) - t0)) ms"
}

modes=(xdp tc)
[ $# -gt 0 ] && modes=("$@")
for mode in "${modes[@]}"; do
	run_mode "$mode"
done
echo "# $XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ] && [ "$XLB_NPASS" -gt 0 ]
