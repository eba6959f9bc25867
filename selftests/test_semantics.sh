#!/bin/bash
# Kubernetes service semantics with real traffic through xlbd: a client,
# one LB and four backends (selftests/lib.sh draws the topology), run
# with XDP in native mode (senders' tx offload off, --complete-checksums)
# and in xlbd's default mode, which gives the veths the tc program
# (senders keep their default offloads), IPv4 and IPv6:
#   frontends  every external IP, load-balancer IP and node address:
#              NodePort reaches the backends; a node address added at
#              runtime gets the NodePort, and loses it when removed;
#   affinity   session_affinity client_ip: 200 new connections, one
#              backend; its removal moves the client to a live one; a
#              short timeout lets the client go elsewhere;
#   policy     external/internal_traffic_policy local: node-local
#              backends only, drop without one; the backend sees the
#              client's own address;
#   ranges     load_balancer_source_ranges: in range connects through
#              the LB IP, out of range is dropped and counted;
#   states     terminating backends take no new flow while one is
#              ready; then the serving ones do; non-serving never;
#   stale_udp  one connected UDP socket loses at most one datagram
#              when its backend is removed, and moves to a live one;
#   split      traffic-split groups 90/10, 50/50, 0/100, then the old
#              group removed, with a long-lived connection and a
#              request loop that must not fail;
#   reject     no usable backend: TCP is refused (RST) and a connected
#              UDP socket gets ECONNREFUSED (ICMP/ICMPv6 port
#              unreachable), both within 1 s; an external frontend with
#              a Local policy whose endpoints are all on other nodes
#              drops instead (a service with no endpoint at all is
#              rejected whatever its policy);
#   icmp       a backend's port unreachable about client -> backend is
#              restored to client -> VIP: the client's connected UDP
#              socket gets ECONNREFUSED; a router's fragmentation
#              needed / packet too big lowers the socket's path MTU;
#   frag       UDP datagrams of 3000 bytes (fragmented by the client's
#              kernel) reach one backend whole, spread over backends,
#              and their fragmented replies come back through the VIP;
#   hairpin    a backend calling its own service, balanced to itself,
#              is answered and seen from the LB's hairpin address; a
#              backend calling another backend's service keeps its own.
#
# Each behaviour is a pair of functions: svc_NAME FAMILY prints its
# services for the config (from its state variables, set in
# state_reset), check_NAME MODE runs its checks. The config is the
# services of every entry of CHECKS; to add a behaviour, write the two
# functions, give its services their own VIP number (see vip), and add
# its name to CHECKS.
#
# One PASS:/FAIL: line per check. Run as root:
#   bash selftests/test_semantics.sh [xdp] [tc] [CHECK...]   (default all)
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
XLB_SAVE_LOGS="$XLB_ROOT/build/test-logs/test_semantics.files"

CHECKS=(frontends affinity policy ranges states stale_udp split reject icmp
	frag hairpin)
NBE=4			# backends b1..b4
CONF_DIR="$XLB_RUN/conf"
CONF="$CONF_DIR/xlb.json"
C2_4=10.10.0.201	# the client's second address, outside the
C2_6=fd00:10::201	# source ranges (RANGES below)
RANGES='"10.10.0.0/25", "fd00:10::/120"'
BIG_PORT=9100		# size_echo.py on every backend (frag)
CLOSED_PORT=9999	# a UDP port where no backend listens (icmp)
FAR_MTU=1400		# the link from the router b3 to the far backend (icmp)

if ! xlb_bins_snapshot; then
	xlb_fail "xlbd and xlbctl are built: missing $XLB_XLBD or $XLB_XLBCTL"
	exit 1
fi

# --- addresses -----------------------------------------------------------

# vip FAMILY N / ext FAMILY N / lbip FAMILY N: a service's cluster IP,
# external IP and load-balancer IP. All sit in the VIP range the client
# routes via the LB. N in use: 11 21 22 31 41 51 61 71 81 82 91 101 111 112.
vip() { if [ "$1" = 4 ]; then echo "10.96.0.$2"; else echo "fd00:96::$2"; fi; }
ext() { if [ "$1" = 4 ]; then echo "10.96.1.$2"; else echo "fd00:96::1:$2"; fi; }
lbip() { if [ "$1" = 4 ]; then echo "10.96.2.$2"; else echo "fd00:96::2:$2"; fi; }
# A node address added at runtime (check_frontends).
newaddr() { if [ "$1" = 4 ]; then echo 10.96.3.11; else echo fd00:96::3:11; fi; }
# NodePorts are unique per port and protocol, whatever the family.
nodeport() { echo $(($1 + ($2 == 6))); }
client_of() { if [ "$1" = 4 ]; then echo "$XLB_C4"; else echo "$XLB_C6"; fi; }
far_of() { if [ "$1" = 4 ]; then echo 10.30.0.2; else echo fd00:30::2; fi; }
client2_of() { if [ "$1" = 4 ]; then echo "$C2_4"; else echo "$C2_6"; fi; }
hostport() { case "$1" in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# --- config --------------------------------------------------------------

# be FAMILY J PORT [JSON MEMBERS]: backend b<J>.
be() {
	printf '{"ip": "%s", "port": %d%s}' "$(xlb_be"$1" "$2")" "$3" "${4:+, $4}"
}

# svc NAME VIP PORT PROTO MEMBERS BACKENDS: one service object.
svc() {
	printf '  {"name": "%s", "vip": "%s", "port": %d, "protocol": "%s",%s\n   "backends": [%s]}' \
		"$1" "$2" "$3" "$4" "${5:+ $5,}" "$6"
}

# bes FAMILY PORT "J..." [MEMBERS]: backends b<J> with the same members.
bes() {
	local f=$1 p=$2 j sep=
	for j in $3; do
		printf '%s%s' "$sep" "$(be "$f" "$j" "$p" "${4:-}")"
		sep=', '
	done
}

# Every check's state, as it is at the start of a mode.
state_reset() {
	AFF_BES="1 2 3 4"		# affinity: backends of aff
	POL_LOCAL="1 1 0 0"		# policy: local flag of b1..b4
	POL_ITP=cluster			# policy: internal_traffic_policy
	EPS="active active terminating:true terminating:false"
	UDP_GONE4=0 UDP_GONE6=0		# stale_udp: backend removed (0: none)
	SPLIT="90 10"			# split: percent of green, blue
	SPLIT_GREEN=1			# split: green group and b1, b2 present
	REJ_BES="1 2"			# reject: backends of rejtcp, rejudp
}

svc_frontends() {
	local f=$1
	svc "fe$f" "$(vip "$f" 11)" 80 tcp \
		"\"external_ips\": [\"$(ext "$f" 11)\"], \"load_balancer_ips\": [\"$(lbip "$f" 11)\"], \"node_port\": $(nodeport 30011 "$f")" \
		"$(bes "$f" "$XLB_HTTP_PORT" "1 2 3 4")"
}

svc_affinity() {
	local f=$1
	svc "aff$f" "$(vip "$f" 21)" 80 tcp '"session_affinity": "client_ip"' \
		"$(bes "$f" "$XLB_HTTP_PORT" "$AFF_BES")"
	echo ,
	svc "affx$f" "$(vip "$f" 22)" 80 tcp \
		'"session_affinity": "client_ip", "session_affinity_timeout": 2' \
		"$(bes "$f" "$XLB_HTTP_PORT" "1 2 3 4")"
}

svc_policy() {
	local f=$1 l=($POL_LOCAL) j sep= b=
	for j in 1 2 3 4; do
		b+="$sep$(be "$f" "$j" "$XLB_HTTP_PORT" "\"local\": $([ "${l[j - 1]}" = 1 ] && echo true || echo false)")"
		sep=', '
	done
	svc "pol$f" "$(vip "$f" 31)" 80 tcp \
		"\"external_ips\": [\"$(ext "$f" 31)\"], \"node_port\": $(nodeport 30031 "$f"), \"external_traffic_policy\": \"local\", \"internal_traffic_policy\": \"$POL_ITP\"" \
		"$b"
}

svc_ranges() {
	local f=$1
	svc "src$f" "$(vip "$f" 41)" 80 tcp \
		"\"load_balancer_ips\": [\"$(lbip "$f" 41)\"], \"load_balancer_source_ranges\": [$RANGES]" \
		"$(bes "$f" "$XLB_HTTP_PORT" "1 2 3 4")"
}

svc_states() {
	local f=$1 s=($EPS) j sep= b= st
	for j in 1 2 3 4; do
		st=${s[j - 1]}
		case "$st" in
		active) st='"state": "active"' ;;
		*) st="\"state\": \"terminating\", \"serving\": ${st#*:}" ;;
		esac
		b+="$sep$(be "$f" "$j" "$XLB_HTTP_PORT" "$st")"
		sep=', '
	done
	svc "eps$f" "$(vip "$f" 51)" 80 tcp "" "$b"
}

svc_stale_udp() {
	local f=$1 gone j list=
	gone=$([ "$f" = 4 ] && echo "$UDP_GONE4" || echo "$UDP_GONE6")
	for j in 1 2 3 4; do
		[ "$j" != "$gone" ] && list+=" $j"
	done
	svc "udp$f" "$(vip "$f" 61)" "$XLB_UDP_PORT" udp "" \
		"$(bes "$f" "$XLB_UDP_PORT" "$list")"
}

svc_split() {
	local f=$1 p=($SPLIT) groups b proto port bport sep=
	for proto in tcp udp; do
		port=80 bport=$XLB_HTTP_PORT
		[ "$proto" = udp ] && port=$XLB_UDP_PORT bport=$XLB_UDP_PORT
		if [ "$SPLIT_GREEN" = 1 ]; then
			groups="\"groups\": [{\"name\": \"green\", \"percent\": ${p[0]}}, {\"name\": \"blue\", \"percent\": ${p[1]}}]"
			b="$(bes "$f" "$bport" "1 2" '"group": "green"'), "
		else
			groups='"groups": [{"name": "blue", "percent": 100}]'
			b=
		fi
		b+="$(bes "$f" "$bport" "3 4" '"group": "blue"')"
		printf '%s' "$sep"
		svc "split$proto$f" "$(vip "$f" 71)" "$port" "$proto" "$groups" "$b"
		sep=$',\n'
	done
}

# rejtcp/rejudp: backends b1 b2 until the check removes them; rejlocal:
# no backend at all, external frontends with the Local policy.
svc_reject() {
	local f=$1
	svc "rejtcp$f" "$(vip "$f" 81)" 80 tcp "" \
		"$(bes "$f" "$XLB_HTTP_PORT" "$REJ_BES")"
	echo ,
	svc "rejudp$f" "$(vip "$f" 81)" "$XLB_UDP_PORT" udp "" \
		"$(bes "$f" "$XLB_UDP_PORT" "$REJ_BES")"
	echo ,
	svc "rejlocal$f" "$(vip "$f" 82)" 80 tcp \
		"\"external_ips\": [\"$(ext "$f" 82)\"], \"node_port\": $(nodeport 30081 "$f"), \"external_traffic_policy\": \"local\"" ""
}

# icmp: backends b1 b2 on a UDP port where nothing listens; pmtu: the
# far backend, behind the router b3 (far_create).
svc_icmp() {
	local f=$1
	svc "icmp$f" "$(vip "$f" 111)" "$XLB_UDP_PORT" udp "" \
		"$(bes "$f" "$CLOSED_PORT" "1 2")"
	echo ,
	svc "pmtu$f" "$(vip "$f" 112)" "$XLB_UDP_PORT" udp "" \
		"$(printf '{"ip": "%s", "port": %d}' "$(far_of "$f")" "$XLB_UDP_PORT")"
}

# The size_echo.py servers of every backend.
svc_frag() {
	local f=$1
	svc "frag$f" "$(vip "$f" 91)" "$BIG_PORT" udp "" \
		"$(bes "$f" "$BIG_PORT" "1 2 3 4")"
}

# hp: b1 only, so that b1 calling it is always balanced to itself.
svc_hairpin() {
	local f=$1
	svc "hp$f" "$(vip "$f" 101)" 80 tcp "" \
		"$(bes "$f" "$XLB_HTTP_PORT" "1")"
}

# Writes the services of every check, atomically (rename).
conf_write() {
	local c f sep=
	mkdir -p "$CONF_DIR"
	{
		echo '{"services": ['
		for c in "${CHECKS[@]}"; do
			for f in 4 6; do
				printf '%s' "$sep"
				"svc_$c" "$f"
				sep=$',\n'
			done
		done
		echo
		echo ']}'
	} >"$XLB_RUN/xlb.json.tmp" && mv "$XLB_RUN/xlb.json.tmp" "$CONF"
}

reloads() { grep -c 'config changed: [0-9]* added' "$(xlb_xlbd_log 1)"; }
reloads_past() { [ "$(reloads)" -gt "$1" ]; }

# conf_apply MODE WHAT: writes the config and waits (one check) until xlbd
# logs that it applied it.
conf_apply() {
	local n0
	n0=$(reloads)
	conf_write
	if xlb_wait_until 10 reloads_past "$n0"; then
		xlb_pass "$1: config applied: $2"
	else
		xlb_fail "$1: config applied: $2: no 'config changed' line in 10 s; last log lines: $(tail -3 "$(xlb_xlbd_log 1)" | paste -sd'|')"
		return 1
	fi
}

# The wall-clock time (ms since the epoch) of xlbd's last applied reload,
# from its log stamp (HH:MM:SS.mmm, UTC).
last_reload_ms() {
	local st
	st=$(grep 'config changed: [0-9]* added' "$(xlb_xlbd_log 1)" | tail -1 |
		cut -d' ' -f1)
	"$XLB_PY" -c '
import sys, time
h, m, s = sys.argv[1].split(":")
day = int(time.time() // 86400) * 86400
t = day + int(h) * 3600 + int(m) * 60 + float(s)
if t > time.time() + 43200:
    t -= 86400
print(int(round(t * 1000)))' "$st"
}

# --- traffic -------------------------------------------------------------

# burst HOST PORT N [SRC]: N HTTP requests from the client (from address
# SRC if given), a new connection each. One line per request:
# "NAME PEER 200", or "000" for a failed one.
burst() {
	local hp list="$XLB_RUN/burst.curl" i
	hp=$(hostport "$1" "$2")
	for ((i = 1; i <= $3; i++)); do
		echo "url = \"http://$hp/peer/$i\""
	done >"$list"
	ip netns exec "$XLB_NS_C" timeout $((10 + $3 / 5)) curl -s -g \
		--connect-timeout 1 --max-time 2 --fail-early -H 'Connection: close' \
		${4:+--interface "$4"} \
		-w ' %{http_code}\n' -K "$list"
}

# The backends (sorted, comma-separated) and the peers the backends saw,
# of a burst's successful requests; "ok" their count.
b_ok() { awk '$NF == 200' <<<"$1" | wc -l; }
b_names() { awk '$NF == 200 { print $1 }' <<<"$1" | sort -u | paste -sd,; }
b_peers() { awk '$NF == 200 { print $2 }' <<<"$1" | sort -u | paste -sd,; }

# check_burst WHAT HOST PORT N WANT_BACKENDS PEER [SRC]: N requests all
# answered, by exactly the backends WANT_BACKENDS (a comma list; "2+:"
# before it: by at least two of them, none else), and every backend saw
# PEER as the client address. With 4 equal backends, exactly all 4 is
# only asked of 60 requests or more (P(one missing) = 4 x 0.75^N).
check_burst() {
	local what=$1 out names got
	out=$(burst "$2" "$3" "$4" "${7:-}")
	names=$(b_names "$out")
	got="$(b_ok "$out")/$names/$(b_peers "$out")"
	# "2+:LIST" is met when two or more backends answered, all in LIST.
	if [[ "$5" == 2+:* ]] && [[ "$names" == *,* ]] &&
		[ -z "$(comm -23 <(tr , '\n' <<<"$names") <(tr , '\n' <<<"${5#2+:}"))" ]; then
		got="$(b_ok "$out")/$5/$(b_peers "$out")"
	fi
	if [ "$got" = "$4/$5/$6" ]; then
		xlb_pass "$what: $4 new connections to $(hostport "$2" "$3"): answered/by/client address seen: $4/$names/$6"
	else
		xlb_fail "$what: $4 new connections to $(hostport "$2" "$3"): answered/by/client address seen: got $(b_ok "$out")/$names/$(b_peers "$out"), want $4/$5/$6"
	fi
}

# one_try HOST PORT [SRC]: a single request with --max-time 1; prints
# curl's exit status (0 ok, 28 timed out, 7 refused or unreachable).
one_try() {
	local hp
	hp=$(hostport "$1" "$2")
	ip netns exec "$XLB_NS_C" curl -s -g -o /dev/null --max-time 1 \
		${3:+--interface "$3"} "http://$hp/"
	echo $?
}

answers() { [ "$(one_try "$1" "$2")" = 0 ]; }
fails() { [ "$(one_try "$1" "$2")" != 0 ]; }

# outcome NAME: xlbctl stats packets of outcome NAME.
outcome() {
	xlb_ctl 1 -o json stats | xlb_jq "d['outcomes']['$1']['packets']"
}

# frontends SERVICE: "kind vip port flags" per frontend, sorted.
frontends() {
	xlb_ctl 1 -o json service list | xlb_jq \
		"sorted('%s %s %s %s' % (s['kind'], s['vip'], s['port'], ','.join(s['flags']) or '-') for s in d if s['name'] == '$1')"
}

# The client.py clients that run in the background (keepalive, loop).
cl_start() {
	rm -f "$XLB_RUN/$1.stop" "$XLB_RUN/$1.state"
	xlb_bg "$1" "$XLB_NS_C" timeout 100 "$XLB_PY" "$XLB_SERVERS/client.py" \
		"$2" "$3" "$4" --state "$XLB_RUN/$1.state" \
		--stop "$XLB_RUN/$1.stop" --interval "${5:-0.1}" --max-time 90
}

cl_field() { xlb_jq "d[\"$2\"]" <"$XLB_RUN/$1.state"; }
cl_ok_at_least() { [ "$(cl_field "$1" ok 2>/dev/null || echo 0)" -ge "$2" ]; }

# cl_stop NAME: ends the client; returns its exit status.
cl_stop() {
	local pid="${XLB_BG[$1]:-}" rc
	[ -z "$pid" ] && return 1
	touch "$XLB_RUN/$1.stop"
	xlb_wait_until 10 xlb_pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	unset "XLB_BG[$1]"
	return $rc
}

# --- 1. frontends -------------------------------------------------------

check_frontends() {
	local m=$1 f np a t0 t got want lb
	for f in 4 6; do
		np=$(nodeport 30011 "$f")
		want="cluster-ip $(vip "$f" 11) 80 -
external-ip $(ext "$f" 11) 80 -
load-balancer $(lbip "$f" 11) 80 -
node-port $(xlb_lbc"$f" 1) $np -
node-port $(xlb_lbb"$f" 1) $np -"
		got=$(frontends "fe$f")
		xlb_check_eq "$(paste -sd'|' <<<"$got")" "$(paste -sd'|' <<<"$want")" \
			"$m v$f: xlbctl service list: fe$f frontends (kind vip port flags)"
		for a in "$(vip "$f" 11) 80" "$(ext "$f" 11) 80" \
			"$(lbip "$f" 11) 80" "$(xlb_lbc"$f" 1) $np" \
			"$(xlb_lbb"$f" 1) $np"; do
			check_burst "$m v$f" ${a% *} ${a#* } 20 2+:b1,b2,b3,b4 \
				"$(client_of "$f")"
		done
	done

	# A node address that comes and goes. The client routes it via the
	# LB; without the address the LB has no route for it.
	lb=${XLB_NS_LB[1]}
	for f in 4 6; do
		np=$(nodeport 30011 "$f")
		a=$(newaddr "$f")
		xlb_check "$m v$f: NodePort $(hostport "$a" "$np") fails before the LB has $a" \
			fails "$a" "$np"
		t0=$(xlb_now_ms)
		ip -n "$lb" addr add "$a/$([ "$f" = 4 ] && echo 32 || echo 128)" \
			dev ethc $([ "$f" = 6 ] && echo nodad)
		if xlb_wait_until 5 answers "$a" "$np"; then
			t=$(($(xlb_now_ms) - t0))
			xlb_pass "$m v$f: NodePort answers on $a added at runtime (after $t ms)"
		else
			xlb_fail "$m v$f: NodePort on $a added at runtime: no answer within 5 s"
		fi
		got=$(frontends "fe$f" | grep -c "^node-port $a $np ")
		xlb_check_eq "$got" 1 "$m v$f: xlbctl lists node-port $a:$np"
		check_burst "$m v$f" "$a" "$np" 20 2+:b1,b2,b3,b4 "$(client_of "$f")"
		t0=$(xlb_now_ms)
		ip -n "$lb" addr del "$a/$([ "$f" = 4 ] && echo 32 || echo 128)" dev ethc
		if xlb_wait_until 5 fails "$a" "$np"; then
			t=$(($(xlb_now_ms) - t0))
			xlb_pass "$m v$f: NodePort stops on $a once removed (after $t ms)"
		else
			xlb_fail "$m v$f: NodePort on $a removed: still answers after 5 s"
		fi
		got=$(frontends "fe$f" | grep -c "^node-port $a ")
		xlb_check_eq "$got" 0 "$m v$f: xlbctl no longer lists node-port $a"
	done
}

# --- 2. session affinity ------------------------------------------------

check_affinity() {
	local m=$1 f out h0 h1 x y n try cur j got
	declare -A first=() last=() moved=()
	for f in 4 6; do
		got=$(xlb_ctl 1 -o json service list | xlb_jq \
			"sorted('%s:%s:%s' % (s['name'], ','.join(s['flags']), s['affinity_timeout']) for s in d if s['name'] in ('aff$f', 'affx$f'))" |
			paste -sd' ')
		xlb_check_eq "$got" "aff$f:affinity:10800 affx$f:affinity:2" \
			"$m v$f: xlbctl service list: affinity flags and timeouts"
		h0=$(outcome affinity_hit)
		out=$(burst "$(vip "$f" 21)" 80 200)
		h1=$(outcome affinity_hit)
		x=$(b_names "$out")
		xlb_check_eq "$(b_ok "$out") by $x" "200 by ${x%%,*}" \
			"$m v$f: 200 new connections from one client with affinity: answered by one backend"
		first[$f]=$x
		# The first connection may find no entry yet; the rest hit.
		if [ $((h1 - h0)) -ge 199 ] && [ $((h1 - h0)) -le 200 ]; then
			xlb_pass "$m v$f: stats affinity_hit grew by $((h1 - h0)) for 200 connections"
		else
			xlb_fail "$m v$f: stats affinity_hit grew by $((h1 - h0)), want 199..200"
		fi
	done

	# The client's backend removed: the client moves to one live backend.
	AFF_BES=
	for j in 1 2 3 4; do
		[ "b$j" != "${first[4]}" ] && [ "b$j" != "${first[6]}" ] &&
			AFF_BES+=" $j"
	done
	conf_apply "$m" "aff4 without ${first[4]}, aff6 without ${first[6]}" ||
		return
	for f in 4 6; do
		out=$(burst "$(vip "$f" 21)" 80 50)
		n=$(b_ok "$out")
		y=$(b_names "$out")
		if [ "$n" = 50 ] && [[ "$y" =~ ^b[1-4]$ ]] &&
			[ "$y" != "${first[4]}" ] && [ "$y" != "${first[6]}" ]; then
			xlb_pass "$m v$f: client's backend ${first[$f]} removed: 50/50 new connections on one live backend ($y)"
		else
			xlb_fail "$m v$f: client's backend ${first[$f]} removed: got $n/50 answered by '$y', want 50 on one backend other than ${first[4]}/${first[6]}"
		fi
	done

	# Timeout 2 s: a pause of 1 s keeps the backend; after pauses of
	# 2.5 s the client lands elsewhere sooner or later (each new pick
	# is one of 4 backends; 8 tries leave (1/4)^8 to chance).
	for f in 4 6; do
		out=$(burst "$(vip "$f" 22)" 80 20)
		x=$(b_names "$out")
		xlb_check_eq "$(b_ok "$out") by $x" "20 by ${x%%,*}" \
			"$m v$f: 20 connections with affinity timeout 2 s: answered by one backend"
		last[$f]=$x
	done
	sleep 1
	for f in 4 6; do
		out=$(burst "$(vip "$f" 22)" 80 1)
		xlb_check_eq "$(b_names "$out")" "${last[$f]}" \
			"$m v$f: after a 1 s pause (< timeout 2 s) still on the same backend"
	done
	for ((try = 1; try <= 8; try++)); do
		sleep 2.5
		for f in 4 6; do
			[ -n "${moved[$f]:-}" ] && continue
			cur=$(b_names "$(burst "$(vip "$f" 22)" 80 1)")
			if [ -n "$cur" ] && [ "$cur" != "${last[$f]}" ]; then
				xlb_pass "$m v$f: after the 2 s timeout the client moved from ${last[$f]} to $cur (pause $try)"
				moved[$f]=$try
			fi
			[ -n "$cur" ] && last[$f]=$cur
		done
		[ ${#moved[@]} = 2 ] && break
	done
	for f in 4 6; do
		[ -z "${moved[$f]:-}" ] &&
			xlb_fail "$m v$f: after the 2 s timeout the client never left ${last[$f]} in 8 pauses of 2.5 s"
	done
}

# --- 3. traffic policies -------------------------------------------------

# policy_flags FAMILY: "kind:flags" of the pol service's frontends.
policy_flags() {
	frontends "pol$1" | awk '{ print $1 ":" $4 }' | sort -u | paste -sd' '
}

check_policy() {
	local m=$1 f np c d0 d1 rc
	for f in 4 6; do
		np=$(nodeport 30031 "$f")
		c=$(client_of "$f")
		xlb_check_eq "$(policy_flags "$f")" \
			"cluster-ip:- external-ip:local node-port:local" \
			"$m v$f: xlbctl service list: external_traffic_policy local flags"
		check_burst "$m v$f: external policy local, external IP" \
			"$(ext "$f" 31)" 80 40 b1,b2 "$c"
		check_burst "$m v$f: external policy local, NodePort" \
			"$(xlb_lbc"$f" 1)" "$np" 40 b1,b2 "$c"
		check_burst "$m v$f: internal policy cluster, cluster IP" \
			"$(vip "$f" 31)" 80 60 b1,b2,b3,b4 "$c"
	done

	POL_LOCAL="0 0 0 0"
	conf_apply "$m" "pol4/pol6: no local backend" || return
	for f in 4 6; do
		np=$(nodeport 30031 "$f")
		for a in "$(ext "$f" 31) 80" "$(xlb_lbc"$f" 1) $np"; do
			d0=$(outcome no_backend)
			rc=$(one_try ${a% *} ${a#* })
			d1=$(outcome no_backend)
			xlb_check_eq "$rc" 28 "$m v$f: external policy local, no local backend: $(hostport ${a% *} ${a#* }) dropped (curl status, 28 = timed out)"
			if [ $((d1 - d0)) -ge 1 ]; then
				xlb_pass "$m v$f: stats no_backend grew by $((d1 - d0)) for the dropped connection"
			else
				xlb_fail "$m v$f: stats no_backend grew by $((d1 - d0)), want >= 1"
			fi
		done
		check_burst "$m v$f: no local backend, cluster IP still" \
			"$(vip "$f" 31)" 80 60 b1,b2,b3,b4 "$(client_of "$f")"
	done

	POL_LOCAL="1 1 0 0" POL_ITP=local
	conf_apply "$m" "pol4/pol6: internal_traffic_policy local" || return
	for f in 4 6; do
		xlb_check_eq "$(policy_flags "$f")" \
			"cluster-ip:local external-ip:local node-port:local" \
			"$m v$f: xlbctl service list: both policies local"
		check_burst "$m v$f: internal policy local, cluster IP" \
			"$(vip "$f" 31)" 80 40 b1,b2 "$(client_of "$f")"
	done

	POL_LOCAL="0 0 0 0"
	conf_apply "$m" "pol4/pol6: internal policy local, no local backend" || return
	for f in 4 6; do
		rc=$(one_try "$(vip "$f" 31)" 80)
		xlb_check_eq "$rc" 28 "$m v$f: internal policy local, no local backend: cluster IP dropped (curl status)"
	done
}

# --- 4. source ranges ----------------------------------------------------

check_ranges() {
	local m=$1 f c2 d0 d1 rc n
	for f in 4 6; do
		xlb_check_eq "$(frontends "src$f" | awk '{ print $1 ":" $4 }' | paste -sd' ')" \
			"cluster-ip:- load-balancer:source-ranges" \
			"$m v$f: xlbctl service list: source-ranges flag on the load-balancer IP only"
		check_burst "$m v$f: client in the source ranges, LB IP" \
			"$(lbip "$f" 41)" 80 20 2+:b1,b2,b3,b4 "$(client_of "$f")"
		c2=$(client2_of "$f")
		d0=$(outcome source_denied)
		rc=$(one_try "$(lbip "$f" 41)" 80 "$c2")
		d1=$(outcome source_denied)
		xlb_check_eq "$rc" 28 "$m v$f: client $c2 outside the source ranges: LB IP dropped (curl status, 28 = timed out)"
		if [ $((d1 - d0)) -ge 1 ]; then
			xlb_pass "$m v$f: stats source_denied grew by $((d1 - d0))"
		else
			xlb_fail "$m v$f: stats source_denied grew by $((d1 - d0)), want >= 1"
		fi
		n=$(cat "$XLB_RUN"/backend*.log | grep -c "^tcp $c2 ")
		xlb_check_eq "$n" 0 "$m v$f: backends' count of connections from $c2 (none got through)"
		# The ranges guard external frontends only; the second
		# address works (and is seen) through the cluster IP.
		check_burst "$m v$f: client outside the ranges, cluster IP" \
			"$(vip "$f" 41)" 80 20 2+:b1,b2,b3,b4 "$c2" "$c2"
	done
}

# --- 5. endpoint states --------------------------------------------------

check_states() {
	local m=$1 f rc
	for f in 4 6; do
		check_burst "$m v$f: b1 b2 active, b3 terminating serving, b4 terminating not serving" \
			"$(vip "$f" 51)" 80 40 b1,b2 "$(client_of "$f")"
	done
	EPS="terminating:false terminating:true terminating:true terminating:false"
	conf_apply "$m" "eps: none active, b2 b3 serving" || return
	for f in 4 6; do
		check_burst "$m v$f: none active: fallback to the serving terminating b2 b3" \
			"$(vip "$f" 51)" 80 40 b2,b3 "$(client_of "$f")"
	done
	EPS="terminating:false terminating:false terminating:false terminating:false"
	conf_apply "$m" "eps: none active, none serving" || return
	for f in 4 6; do
		rc=$(one_try "$(vip "$f" 51)" 80)
		if [ "$rc" != 0 ]; then
			xlb_pass "$m v$f: none active nor serving: new connection fails (curl status $rc)"
		else
			xlb_fail "$m v$f: none active nor serving: a new connection was answered"
		fi
	done
}

# --- 10. a connected UDP socket whose backend goes away -------------------

# stream_live NAME: "replies backend" of a running udp_stream.py.
stream_live() { cat "$XLB_RUN/$1.out.live" 2>/dev/null; }
stream_replies_at_least() {
	local r
	r=$(stream_live "$1")
	[ "${r%% *}" -ge "$2" ] 2>/dev/null
}

# The removed backend keeps running: a flow the datapath failed to move
# would still be answered, by it, and be caught.
check_stale_udp() {
	local m=$1 f x t_write t_apply pid res n lost nb bok na aok first detail
	declare -A gone=()
	for f in 4 6; do
		rm -f "$XLB_RUN/stream$f.stop" "$XLB_RUN/stream$f.out"*
		xlb_bg "stream$f" "$XLB_NS_C" timeout 30 "$XLB_PY" \
			"$XLB_SERVERS/udp_stream.py" "$(vip "$f" 61)" "$XLB_UDP_PORT" \
			--out "$XLB_RUN/stream$f.out" --stop "$XLB_RUN/stream$f.stop" \
			--interval 0.1 --max-time 25
	done
	for f in 4 6; do
		if ! xlb_wait_until 5 stream_replies_at_least "stream$f" 10; then
			xlb_fail "$m v$f: UDP stream got 10 replies within 5 s (live: '$(stream_live "stream$f")')"
		fi
		x=$(stream_live "stream$f")
		gone[$f]=${x#* }
	done
	UDP_GONE4=${gone[4]#b} UDP_GONE6=${gone[6]#b}
	t_write=$(xlb_now_ms)
	conf_apply "$m" "udp4 without ${gone[4]}, udp6 without ${gone[6]}"
	t_apply=$(last_reload_ms)
	for f in 4 6; do
		n=$(stream_live "stream$f")
		xlb_wait_until 5 stream_replies_at_least "stream$f" $((${n%% *} + 15))
	done
	touch "$XLB_RUN/stream4.stop" "$XLB_RUN/stream6.stop"
	for f in 4 6; do
		pid=${XLB_BG[stream$f]}
		xlb_wait_until 5 xlb_pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		unset "XLB_BG[stream$f]"
		res=$("$XLB_PY" - "$XLB_RUN/stream$f.out" "${gone[$f]}" "$t_write" "$t_apply" <<'EOF'
import sys
path, gone, t_write, t_apply = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [l.split() for l in open(path)]
rows = [(int(q), int(t), n) for q, t, n in rows]
before = [n for q, t, n in rows if t < t_write]
after = [n for q, t, n in rows if t >= t_apply]
between = [n for q, t, n in rows if t_write <= t < t_apply]
lost = [(q, t - t_write) for q, t, n in rows if n == "-"]
def hist(v):
    return ",".join("%s:%d" % (k, v.count(k)) for k in sorted(set(v))) or "none"
print(len(rows), len(lost), len(before), int(all(n == gone for n in before)),
      len(after), int(all(n not in (gone, "-") for n in after)),
      after[0] if after else "none",
      "sent=%d lost=%d%s before-write=[%s] reload-window(%d ms)=[%s] after-apply=[%s]" % (
          len(rows), len(lost),
          "".join(" (seq %d, sent %+d ms from the write)" % l for l in lost),
          hist(before), t_apply - t_write, hist(between), hist(after)))
EOF
)
		read -r n lost nb bok na aok first detail <<<"$res"
		xlb_log "$m v$f: UDP stream: $detail"
		if [ "${nb:-0}" -ge 10 ] && [ "$bok" = 1 ]; then
			xlb_pass "$m v$f: UDP stream on one socket: the $nb requests before the reload all answered by ${gone[$f]}"
		else
			xlb_fail "$m v$f: UDP stream before the reload: want >= 10 requests all answered by ${gone[$f]}: $detail"
		fi
		if [ "${na:-0}" -ge 10 ] && [ "$aok" = 1 ]; then
			xlb_pass "$m v$f: ${gone[$f]} removed: the first request after the reload and all $na after it answered by live backends (first: $first)"
		else
			xlb_fail "$m v$f: ${gone[$f]} removed: want >= 10 requests after the reload, all answered by live backends: $detail"
		fi
		if [ -n "$lost" ] && [ "$lost" -le 1 ]; then
			xlb_pass "$m v$f: UDP stream lost $lost of $n datagrams across the removal (at most 1 allowed)"
		else
			xlb_fail "$m v$f: UDP stream lost ${lost:-?} of ${n:-?} datagrams, want <= 1: $detail"
		fi
	done
}

# --- 11. traffic split ---------------------------------------------------

# split_count FAMILY SPORTS: 1000 UDP flows (one per source port) to the
# split service; prints "answered green blue".
split_count() {
	local out
	out=$(xlb_udp "$(vip "$1" 71)" "$XLB_UDP_PORT" --sport "$2" 2>/dev/null)
	awk '$2 ~ /^b[1-4]$/ { n++ } $2 == "b1" || $2 == "b2" { g++ }
		$2 == "b3" || $2 == "b4" { b++ }
		END { printf "%d %d %d\n", n, g, b }' <<<"$out"
}

# check_split_share MODE FAMILY SPORTS BLUE%: 1000 flows, blue's share
# within 3 points of BLUE%.
check_split_share() {
	local m=$1 f=$2 n g b
	read -r n g b <<<"$(split_count "$f" "$3")"
	if [ "$n" = 1000 ] && [ $((b - $4 * 10)) -le 30 ] &&
		[ $(($4 * 10 - b)) -le 30 ]; then
		xlb_pass "$m v$f: split $((100 - $4))/$4: 1000 new UDP flows: green $g, blue $b (within 3 points)"
	else
		xlb_fail "$m v$f: split $((100 - $4))/$4: 1000 new UDP flows: got $n answered, green $g, blue $b; want 1000, blue $(($4 * 10)) +-30"
	fi
}

check_split() {
	local m=$1 f try on st x
	declare -A green=()
	for f in 4 6; do
		check_split_share "$m" "$f" 41000-41999 10
	done
	# A long-lived connection on a green backend, and a loop of new
	# connections, across the changes.
	for f in 4 6; do
		green[$f]=
		for ((try = 1; try <= 8; try++)); do
			cl_start "ka$f" keepalive "$(vip "$f" 71)" 80
			xlb_wait_until 5 cl_ok_at_least "ka$f" 2
			on=$(cl_field "ka$f" last 2>/dev/null)
			if [ "$on" = b1 ] || [ "$on" = b2 ]; then
				green[$f]=$on
				break
			fi
			cl_stop "ka$f"
		done
		if [ -z "${green[$f]}" ]; then
			xlb_fail "$m v$f: a long-lived connection on a green backend in 8 tries"
		fi
		cl_start "loop$f" loop "$(vip "$f" 71)" 80 0.05
	done
	for f in 4 6; do
		xlb_wait_until 5 cl_ok_at_least "loop$f" 3
	done

	SPLIT="50 50"
	conf_apply "$m" "split 50/50" || return
	for f in 4 6; do
		check_split_share "$m" "$f" 42000-42999 50
	done
	SPLIT="0 100"
	conf_apply "$m" "split 0/100" || return
	for f in 4 6; do
		check_split_share "$m" "$f" 43000-43999 100
	done
	for f in 4 6; do
		[ -z "${green[$f]}" ] && continue
		n=$(cl_field "ka$f" ok)
		xlb_wait_until 5 cl_ok_at_least "ka$f" $((n + 5))
		cl_stop "ka$f"
		st=$(xlb_jq '"%d failed, %d ok, on %s" % (d["fail"], d["ok"], ",".join(sorted(d["backends"])))' \
			<"$XLB_RUN/ka$f.state")
		if [[ "$st" =~ ^0\ failed,\ [0-9]+\ ok,\ on\ ${green[$f]}$ ]]; then
			xlb_pass "$m v$f: long-lived connection on green ${green[$f]} through 90/10 -> 50/50 -> 0/100: $st"
		else
			xlb_fail "$m v$f: long-lived connection on green ${green[$f]} through 90/10 -> 50/50 -> 0/100: got $st, want 0 failed, on ${green[$f]} only"
		fi
	done
	SPLIT_GREEN=0
	conf_apply "$m" "split: green group and its backends removed" || return
	for f in 4 6; do
		check_split_share "$m" "$f" 44000-44999 100
	done
	for f in 4 6; do
		n=$(cl_field "loop$f" ok)
		xlb_wait_until 5 cl_ok_at_least "loop$f" $((n + 10))
		cl_stop "loop$f"
		st=$(xlb_jq '"%d failed, %d ok" % (d["fail"], d["ok"])' \
			<"$XLB_RUN/loop$f.state")
		x=$(cl_field "loop$f" error)
		if [[ "$st" =~ ^0\ failed,\ ([0-9]+)\ ok$ ]] &&
			[ "${BASH_REMATCH[1]}" -ge 30 ]; then
			xlb_pass "$m v$f: new connections every 50 ms through 90/10 -> 50/50 -> 0/100 -> green removed: $st"
		else
			xlb_fail "$m v$f: new connections through the release: got $st (last error $x), want 0 failed, >= 30 ok"
		fi
	done
}

# --- helpers of the checks below ----------------------------------------

# probe NS HOST PORT [udp_probe.py options]: one line per source port,
# "PORT reply|refused|timeout|error MS ..." (see udp_probe.py).
probe() {
	local ns=$1
	shift
	ip netns exec "$ns" timeout 30 "$XLB_PY" "$XLB_SERVERS/udp_probe.py" "$@"
}

# curl_rc_ms NS HOST PORT MAX_TIME [PATH]: one HTTP request; prints
# "STATUS MS BODY": curl's exit status (0 ok, 7 refused, 28 timed out),
# its total time in ms and the body.
curl_rc_ms() {
	local hp out rc
	hp=$(hostport "$2" "$3")
	out=$(ip netns exec "$1" curl -s -g --max-time "$4" \
		-w '\n%{time_total}' "http://$hp/${5:-}")
	rc=$?
	echo "$rc $(tail -1 <<<"$out" | awk '{ printf "%d", $1 * 1000 }') $(sed '$d' <<<"$out" | head -1)"
}

# outcomes NAME...: xlbctl stats packets of each outcome, one line.
outcomes() {
	local expr= n
	for n in "$@"; do
		expr+="str(d['outcomes']['$n']['packets']),"
	done
	xlb_ctl 1 -o json stats | xlb_jq "' '.join([$expr])"
}

# delta "BEFORE" "AFTER": element-wise AFTER - BEFORE of two outcomes lines.
delta() {
	local b=($1) a=($2) i out=
	for i in "${!a[@]}"; do
		out+="${out:+ }$((a[i] - ${b[i]:-0}))"
	done
	echo "$out"
}

# --- 6. no usable backend: reject, or drop under a Local policy ----------

# "Refused within 1 s": 1 s is the client's first retransmission (TCP
# SYN) or our wait, so a refusal that needed longer was not sent at once.

check_reject() {
	local m=$1 f rc ms body s0 d port st name a what cs
	for f in 4 6; do
		read -r rc ms body <<<"$(curl_rc_ms "$XLB_NS_C" "$(vip "$f" 81)" 80 2)"
		if [ "$rc" = 0 ] && [[ "$body" =~ ^b[12]$ ]]; then
			xlb_pass "$m v$f: rejtcp$f with backends b1 b2 answers (by $body)"
		else
			xlb_fail "$m v$f: rejtcp$f with backends b1 b2: got curl status $rc, body '$body'; want 0, b1 or b2"
		fi
		read -r port st ms name _ <<<"$(probe "$XLB_NS_C" "$(vip "$f" 81)" "$XLB_UDP_PORT")"
		if [ "$st" = reply ] && [[ "$name" =~ ^b[12]$ ]]; then
			xlb_pass "$m v$f: rejudp$f with backends b1 b2 answers (by $name)"
		else
			xlb_fail "$m v$f: rejudp$f with backends b1 b2: got '$st $name', want a reply from b1 or b2"
		fi
	done

	REJ_BES=
	conf_apply "$m" "rejtcp/rejudp: every backend removed" || return
	for f in 4 6; do
		s0=$(outcomes rejected no_backend)
		for a in "$(vip "$f" 81) rejtcp$f (every backend removed)" \
			"$(vip "$f" 82) rejlocal$f cluster IP (no backend ever)"; do
			what="$m v$f: ${a#* }: TCP to $(hostport "${a%% *}" 80)"
			read -r rc ms body <<<"$(curl_rc_ms "$XLB_NS_C" "${a%% *}" 80 2)"
			if [ "$rc" = 7 ] && [ "$ms" -lt 1000 ]; then
				xlb_pass "$what refused (curl status 7) in $ms ms"
			else
				xlb_fail "$what: got curl status $rc after $ms ms, want 7 (connection refused) within 1000 ms"
			fi
		done
		# The client's UDP checksum as sent: complete (tx offload off,
		# like a packet off a wire) and, in tc mode, also partial
		# (offload on: the skb the tc program meets is
		# CHECKSUM_PARTIAL, and the reply must not stay so).
		for cs in complete $([ "$m" = tc ] && echo partial); do
			[ "$m" = tc ] && [ "$cs" = complete ] &&
				ip netns exec "$XLB_NS_C" ethtool -K eth0 tx off >/dev/null
			what="$m v$f: rejudp$f (every backend removed): connected UDP socket to $(hostport "$(vip "$f" 81)" "$XLB_UDP_PORT"), client's UDP checksum $cs"
			read -r port st ms name _ <<<"$(probe "$XLB_NS_C" "$(vip "$f" 81)" "$XLB_UDP_PORT" --timeout 2)"
			[ "$m" = tc ] && [ "$cs" = complete ] &&
				ip netns exec "$XLB_NS_C" ethtool -K eth0 tx on >/dev/null
			if [ "$st" = refused ] && [ "$ms" -lt 1000 ]; then
				xlb_pass "$what: ECONNREFUSED on recv in $ms ms (port unreachable from the datapath)"
			else
				xlb_fail "$what: got '$st' after ${ms:-?} ms, want refused within 1000 ms"
			fi
		done
		d=($(delta "$s0" "$(outcomes rejected no_backend)"))
		if [ "${d[0]}" -ge 3 ] && [ "${d[1]}" -ge 3 ]; then
			xlb_pass "$m v$f: stats rejected/no_backend grew by ${d[0]}/${d[1]} for 3 rejected flows"
		else
			xlb_fail "$m v$f: stats rejected/no_backend grew by ${d[0]}/${d[1]}, want >= 3/3"
		fi

		# A service with no endpoint at all is rejected whatever its
		# traffic policy (kube-proxy's REJECT); only "endpoints exist,
		# none on this node" drops under Local (section policy).
		for a in "$(ext "$f" 82) 80 external IP" \
			"$(xlb_lbc"$f" 1) $(nodeport 30081 "$f") NodePort"; do
			read -r a port what <<<"$a"
			what="$m v$f: rejlocal$f $what $(hostport "$a" "$port"), external policy local, no endpoint at all"
			s0=$(outcomes rejected no_backend)
			read -r rc ms body <<<"$(curl_rc_ms "$XLB_NS_C" "$a" "$port" 2)"
			d=($(delta "$s0" "$(outcomes rejected no_backend)"))
			if [ "$rc" = 7 ] && [ "${d[0]}" -ge 1 ] && [ "${d[1]}" -ge 1 ]; then
				xlb_pass "$what: rejected (curl status 7, refused, after $ms ms; stats rejected +${d[0]}, no_backend +${d[1]})"
			else
				xlb_fail "$what: got curl status $rc after $ms ms, stats rejected +${d[0]}, no_backend +${d[1]}; want 7 (refused), >= +1, >= +1"
			fi
		done
	done
}

# --- 7. ICMP errors from a backend about client -> backend ---------------

# The backends' kernels answer with a port unreachable quoting
# client -> backend:CLOSED_PORT; only with the quote restored to
# client -> VIP:port does the client's kernel find the connected socket.
# far_create: a backend behind a router: b3 forwards 10.30.0.0/24 and
# fd00:30::/64 to the namespace "far" over a link of MTU FAR_MTU; the
# LB routes them via b3, far's default route is b3.
far_create() {
	local ns="$XLB_PFX-far" b3=${XLB_NS_BE[3]}
	xlb_ns_add "$ns" &&
		ip -n "$b3" link add far0 mtu "$FAR_MTU" type veth peer name eth0 \
			netns "$ns" mtu "$FAR_MTU" &&
		ip -n "$b3" link set far0 up && ip -n "$ns" link set eth0 up &&
		xlb_topo_addr "$b3" far0 10.30.0.1/24 fd00:30::1/64 &&
		xlb_topo_addr "$ns" eth0 "$(far_of 4)/24" "$(far_of 6)/64" &&
		ip -n "$ns" route add default via 10.30.0.1 &&
		ip -n "$ns" -6 route add default via fd00:30::1 &&
		ip netns exec "$b3" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1 &&
		ip -n "${XLB_NS_LB[1]}" route add 10.30.0.0/24 via "$(xlb_be4 3)" &&
		ip -n "${XLB_NS_LB[1]}" -6 route add fd00:30::/64 via "$(xlb_be6 3)"
}

check_icmp() {
	local m=$1 f s0 d port st ms rest what mtu
	for f in 4 6; do
		what="$m v$f: UDP to icmp$f $(hostport "$(vip "$f" 111)" "$XLB_UDP_PORT") (backends' port $CLOSED_PORT closed)"
		s0=$(outcomes icmp_reverse_nat rejected)
		read -r port st ms rest <<<"$(probe "$XLB_NS_C" "$(vip "$f" 111)" "$XLB_UDP_PORT" --timeout 2)"
		d=($(delta "$s0" "$(outcomes icmp_reverse_nat rejected)"))
		if [ "$st" = refused ] && [ "$ms" -lt 1000 ]; then
			xlb_pass "$what: the backend's port unreachable reaches the connected socket (ECONNREFUSED in $ms ms)"
		else
			xlb_fail "$what: got '$st' after ${ms:-?} ms, want refused within 1000 ms"
		fi
		if [ "${d[0]}" -ge 1 ] && [ "${d[1]}" = 0 ]; then
			xlb_pass "$m v$f: stats icmp_reverse_nat grew by ${d[0]}, rejected by 0 (the error came from the backend)"
		else
			xlb_fail "$m v$f: stats icmp_reverse_nat grew by ${d[0]}, rejected by ${d[1]}; want >= 1, 0"
		fi
	done

	# A router on the backend's path cannot forward a datagram sent
	# with DF: its "fragmentation needed" / "packet too big" quotes
	# client -> far; restored to client -> VIP, it lowers the path
	# MTU of the client's socket.
	xlb_check "$m: far backend behind the router b3 (link MTU $FAR_MTU) created" \
		far_create || return
	for f in 4 6; do
		what="$m v$f: datagram of 1450 bytes with DF to pmtu$f $(hostport "$(vip "$f" 112)" "$XLB_UDP_PORT") (backend $(far_of "$f") behind a link of MTU $FAR_MTU)"
		s0=$(outcomes icmp_reverse_nat)
		read -r port st ms rest <<<"$(probe "$XLB_NS_C" "$(vip "$f" 112)" "$XLB_UDP_PORT" --df --size 1450 --timeout 0.5)"
		d=$(delta "$s0" "$(outcomes icmp_reverse_nat)")
		mtu=${rest##* }
		if [ "$mtu" = "$FAR_MTU" ] && [ "$d" -ge 1 ]; then
			xlb_pass "$what: the router's error reaches the client's socket, path MTU now $mtu; stats icmp_reverse_nat +$d"
		else
			xlb_fail "$what: got path MTU '$mtu' ($st), stats icmp_reverse_nat +$d; want $FAR_MTU, >= +1"
		fi
	done

	# The LB's own link towards the backends has the smaller MTU: its
	# own kernel answers the DNATed datagram with "fragmentation
	# needed" / "packet too big" quoting client -> backend and sends
	# it out towards the client; xlb's tc egress program restores the
	# quote to client -> VIP.
	local lb=${XLB_NS_LB[1]}
	xlb_check "$m: LB 1's backend-side link set to MTU $FAR_MTU" \
		ip -n "$lb" link set ethb mtu "$FAR_MTU" || return
	for f in 4 6; do
		what="$m v$f: datagram of 1450 bytes with DF to icmp$f $(hostport "$(vip "$f" 111)" "$XLB_UDP_PORT") (the LB's own link to the backends has MTU $FAR_MTU)"
		s0=$(outcomes icmp_reverse_nat)
		read -r port st ms rest <<<"$(probe "$XLB_NS_C" "$(vip "$f" 111)" "$XLB_UDP_PORT" --df --size 1450 --timeout 0.5)"
		d=$(delta "$s0" "$(outcomes icmp_reverse_nat)")
		mtu=${rest##* }
		if [ "$mtu" = "$FAR_MTU" ] && [ "$d" -ge 1 ]; then
			xlb_pass "$what: the LB's own error reaches the client's socket, path MTU now $mtu; stats icmp_reverse_nat +$d"
		else
			xlb_fail "$what: got path MTU '$mtu' ($st), stats icmp_reverse_nat +$d; want $FAR_MTU, >= +1"
		fi
	done
	ip -n "$lb" link set ethb mtu 1500
}

# --- 8. fragmented datagrams -------------------------------------------

big_answers() {
	[ "$(probe "$XLB_NS_C" "$(xlb_be4 "$1")" "$BIG_PORT" | awk '{ print $2, $4 }')" = "reply b$1" ]
}

# FRAG_N datagrams of FRAG_SIZE bytes, one per source port: with MTU
# 1500 each leaves the client in 3 fragments, and so does its reply.
FRAG_N=8
FRAG_SIZE=3000
FRAG_NFRAGS=3

check_frag() {
	local m=$1 f j s0 d out n names sp st ms name len rlen hits bad c
	for j in 1 2 3 4; do
		xlb_wait_until 5 big_answers "$j" ||
			xlb_fail "$m: size_echo.py on b$j answers the client directly"
	done
	for f in 4 6; do
		c=$(client_of "$f")
		s0=$(outcomes dnat reverse_nat fragment_miss)
		out=$(probe "$XLB_NS_C" "$(vip "$f" 91)" "$BIG_PORT" \
			--sport "46001-$((46000 + FRAG_N))" --size "$FRAG_SIZE" --timeout 2)
		d=($(delta "$s0" "$(outcomes dnat reverse_nat fragment_miss)"))
		n=$(awk -v s="$FRAG_SIZE" '$2 == "reply" && $4 ~ /^b[1-4]$/ && $5 == s && $6 == s' <<<"$out" | wc -l)
		names=$(awk '$2 == "reply" { print $4 }' <<<"$out" | sort -u | paste -sd,)
		if [ "$n" = "$FRAG_N" ]; then
			xlb_pass "$m v$f: $FRAG_N datagrams of $FRAG_SIZE bytes to $(hostport "$(vip "$f" 91)" "$BIG_PORT"): each received whole by a backend and its $FRAG_SIZE-byte reply back on the connected socket"
		else
			xlb_fail "$m v$f: datagrams of $FRAG_SIZE bytes through the VIP: $n of $FRAG_N whole both ways; probe said: $(paste -sd'|' <<<"$out")"
		fi
		if [[ "$names" == *,* ]]; then
			xlb_pass "$m v$f: $FRAG_N fragmented datagrams from $FRAG_N source ports spread over backends $names"
		else
			xlb_fail "$m v$f: $FRAG_N fragmented datagrams from $FRAG_N source ports: answered by '$names', want two backends or more"
		fi
		# Each datagram reached exactly one backend, the one that
		# answered, in one piece.
		bad=
		while read -r sp st ms name len rlen; do
			hits=$(grep -H "^udp $c $sp " "$XLB_RUN"/big[1-4].log |
				sed 's/^.*big\([1-4]\)\.log:udp [^ ]* [0-9]* /b\1 /' | paste -sd,)
			[ "$hits" = "$name $FRAG_SIZE" ] || bad+=" port $sp: answered by '$name', received by '$hits';"
		done <<<"$out"
		if [ -z "$bad" ]; then
			xlb_pass "$m v$f: every datagram received once, whole, by the backend that answered (backend logs)"
		else
			xlb_fail "$m v$f: backend logs, want each datagram once at the answering backend with $FRAG_SIZE bytes:$bad"
		fi
		if [ "${d[0]}" -ge $((FRAG_N * FRAG_NFRAGS)) ] &&
			[ "${d[1]}" -ge $((FRAG_N * FRAG_NFRAGS)) ] && [ "${d[2]}" = 0 ]; then
			xlb_pass "$m v$f: stats dnat/reverse_nat/fragment_miss grew by ${d[0]}/${d[1]}/${d[2]} for $((FRAG_N * FRAG_NFRAGS)) fragments each way"
		else
			xlb_fail "$m v$f: stats dnat/reverse_nat/fragment_miss grew by ${d[0]}/${d[1]}/${d[2]}, want >= $((FRAG_N * FRAG_NFRAGS))/$((FRAG_N * FRAG_NFRAGS))/0 (later fragments are dnat)"
		fi
	done
}

# --- 9. hairpin ----------------------------------------------------------

# hairpin_addr FAMILY: the LB's lowest global address of FAMILY, which
# xlbd takes as the hairpin address by default (the node's first).
hairpin_addr() {
	ip -n "${XLB_NS_LB[1]}" -j -"$1" addr show scope global | xlb_jq \
		"str(sorted(__import__('ipaddress').ip_address(a['local']) for i in d for a in i.get('addr_info', []) if 'local' in a)[0])"
}

# hp_route add|del: b1 reaches b2 through the LB, as a backend reaches a
# client behind another node (or a pod with a /32 address does). On
# their shared LAN b1 would otherwise answer b2's connection, which the
# LB only DNATs, straight from its own address, and b2 would reset it.
hp_route() {
	ip -n "${XLB_NS_BE[1]}" route "$1" "$(xlb_be4 2)/32" via "$(xlb_lbb4 1)" &&
		ip -n "${XLB_NS_BE[1]}" -6 route "$1" "$(xlb_be6 2)/128" via "$(xlb_lbb6 1)"
}

check_hairpin() {
	local m=$1 f s0 d rc ms body hp b2
	xlb_check "$m: route from b1 to b2 via the LB added" hp_route add || return
	for f in 4 6; do
		hp=$(hairpin_addr "$f")
		b2=$(xlb_be"$f" 2)
		# Not a hairpin first, so that no tail of the hairpin
		# connection is counted here.
		s0=$(outcomes hairpin)
		read -r rc ms body <<<"$(curl_rc_ms "${XLB_NS_BE[2]}" "$(vip "$f" 101)" 80 2 peer)"
		d=$(delta "$s0" "$(outcomes hairpin)")
		if [ "$rc" = 0 ] && [ "$body" = "b1 $b2" ] && [ "$d" = 0 ]; then
			xlb_pass "$m v$f: b2 calls hp$f (backend b1): b1 sees b2's own address $b2; stats hairpin +0"
		else
			xlb_fail "$m v$f: b2 calls hp$f (backend b1): got curl status $rc, body '$body', stats hairpin +$d; want 0, 'b1 $b2', +0"
		fi
		s0=$(outcomes hairpin)
		read -r rc ms body <<<"$(curl_rc_ms "${XLB_NS_BE[1]}" "$(vip "$f" 101)" 80 2 peer)"
		d=$(delta "$s0" "$(outcomes hairpin)")
		if [ "$rc" = 0 ] && [ "$body" = "b1 $hp" ]; then
			xlb_pass "$m v$f: b1 calls hp$f, balanced to itself: answered, b1 sees the LB's hairpin address $hp"
		else
			xlb_fail "$m v$f: b1 calls hp$f, balanced to itself: got curl status $rc, body '$body'; want 0, 'b1 $hp'"
		fi
		if [ "$d" -ge 2 ]; then
			xlb_pass "$m v$f: stats hairpin grew by $d for the hairpin connection"
		else
			xlb_fail "$m v$f: stats hairpin grew by $d, want >= 2 (both directions)"
		fi
	done
	hp_route del
}

# --- driver --------------------------------------------------------------

# Starts peer_backend.py on every backend, named b<j>.
backends_start() {
	local j
	for j in "${!XLB_NS_BE[@]}"; do
		xlb_bg "backend$j" "${XLB_NS_BE[j]}" "$XLB_PY" \
			"$XLB_SERVERS/peer_backend.py" "b$j" \
			--http-port "$XLB_HTTP_PORT" --udp-port "$XLB_UDP_PORT"
		xlb_bg "big$j" "${XLB_NS_BE[j]}" "$XLB_PY" \
			"$XLB_SERVERS/size_echo.py" "b$j" --port "$BIG_PORT"
	done
}

run_checks() {
	local m=$1 c t0
	if ! xlb_topo_create 1 "$NBE" || ! xlb_topo_offload "$m" ||
		! xlb_bpffs_mount ||
		! ip -n "$XLB_NS_C" addr add "$C2_4/24" dev eth0 ||
		! ip -n "$XLB_NS_C" -6 addr add "$C2_6/64" dev eth0 nodad preferred_lft 0; then
		xlb_fail "$m: topology created"
		return
	fi
	backends_start
	xlb_check "$m: every backend answers the client directly (HTTP, UDP, v4, v6)" \
		xlb_backends_wait || return
	state_reset
	conf_write
	if ! xlb_xlbd_start 1 "$XLBD_MODE" "$CONF"; then
		xlb_fail "$m: xlbd started"
		return
	fi
	xlb_pass "$m: xlbd ready"
	for c in "${CHECKS[@]}"; do
		t0=$(xlb_now_ms)
		"check_$c" "$m"
		xlb_log "$m: $c took $(($(xlb_now_ms) - t0)) ms"
	done
	if grep -q -E ' xlbd (error|warn)' "$(xlb_xlbd_log 1)"; then
		xlb_log "$m: xlbd warnings/errors:"
		grep -h -E ' xlbd (error|warn)' "$(xlb_xlbd_log 1)" |
			cut -d' ' -f2- | sort | uniq -c | head -10 | sed 's/^/#   /'
	fi
}

run_mode() {
	local m=$1 t0
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
	mv "$XLB_RUN"/*.log "$XLB_RUN"/*.state "$XLB_RUN"/*.out "$XLB_RUN/conf" \
		"$XLB_RUN/$m/" 2>/dev/null
	rm -f "$XLB_RUN"/*.stop "$XLB_RUN"/*.live
	XLB_XLBD_N=()
	xlb_log "mode $m took $(($(xlb_now_ms) - t0)) ms"
}

modes=()
only=()
for a in "$@"; do
	case "$a" in
	xdp | tc) modes+=("$a") ;;
	*)
		if ! declare -F "check_$a" >/dev/null; then
			echo "usage: $0 [xdp] [tc] [${CHECKS[*]}]" >&2
			exit 2
		fi
		only+=("$a")
		;;
	esac
done
[ ${#modes[@]} -eq 0 ] && modes=(xdp tc)
[ ${#only[@]} -gt 0 ] && CHECKS=("${only[@]}")
for mode in "${modes[@]}"; do
	run_mode "$mode"
done
echo "# $XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ] && [ "$XLB_NPASS" -gt 0 ]
