#!/bin/bash
# xlb under hostile conditions, with real traffic through a load balancer
# namespace (tc program, client and backends keeping their offloads):
# * every kind of bad config, written over the running one while a
#   request loop (a new connection every 20 ms) and a long-lived
#   connection run, IPv4 and IPv6: each is rejected with a message naming
#   what is wrong, no request fails, the connection keeps its backend and
#   nothing programmed changes;
# * a connection-tracking table filled four times over by a flood of new
#   UDP flows: a busy and an idle established TCP connection keep their
#   backend, and xlbd and the datapath keep running;
# * a local user without privileges: can neither read nor change the
#   maps, their pins or the config, nor signal xlbd; /metrics (on
#   127.0.0.1, as the README says) answers GET only.
set -u
. "$(dirname "$0")/lib.sh"
xlb_init

CT_ENTRIES=4096
CONF="$XLB_RUN/xlb.json"
LOG=
xlb_bins_snapshot || { xlb_fail "copy xlbd and xlbctl"; exit 1; }
if ! xlb_topo_create 1 3 || ! xlb_bpffs_mount || ! xlb_backends_start ||
	! xlb_backends_wait; then
	xlb_fail "topology and backends"
	exit 1
fi

# The good config: web4/web6 (TCP 80) and dns4 (UDP 53) over b1..b3.
svc() { # NAME VIP PORT PROTO BEPORT FAMILY
	local j sep=
	printf '  {"name": "%s", "vip": "%s", "port": %d, "protocol": "%s", "backends": [' "$1" "$2" "$3" "$4"
	for j in 1 2 3; do
		printf '%s{"ip": "%s", "port": %d}' "$sep" "$(xlb_be"$6" $j)" "$5"
		sep=", "
	done
	printf ']}'
}
good="$(
	echo '{"services": ['
	svc web4 "$XLB_VIP4" 80 tcp "$XLB_HTTP_PORT" 4
	echo ','
	svc web6 "$XLB_VIP6" 80 tcp "$XLB_HTTP_PORT" 6
	echo ','
	svc dns4 "$XLB_VIP4" 53 udp "$XLB_UDP_PORT" 4
	echo ']}'
)"
put_conf() { printf '%s\n' "$1" >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"; }
put_conf "$good"
if ! xlb_xlbd_start 1 tc "$CONF" --ct-entries "$CT_ENTRIES"; then
	xlb_fail "xlbd starts"
	exit 1
fi
LOG="$(xlb_xlbd_log 1)"
xlb_pass "xlbd ready with web4, web6, dns4 and a $CT_ENTRIES-entry conntrack table"
programmed() {
	local s
	xlb_ctl 1 -o json backend list
	for s in web4 web6 dns4; do xlb_ctl 1 -o json maglev show "$s"; done
}
before="$(programmed)"

# --- clients ------------------------------------------------------------
client_start() { # NAME MODE HOST [INTERVAL]
	rm -f "$XLB_RUN/$1.stop" "$XLB_RUN/$1.state"
	xlb_bg "$1" "$XLB_NS_C" timeout 150 "$XLB_PY" "$XLB_SERVERS/client.py" \
		"$2" "$3" 80 --state "$XLB_RUN/$1.state" \
		--stop "$XLB_RUN/$1.stop" --interval "${4:-0.1}" --max-time 140
}
client_stop() {
	local pid="${XLB_BG[$1]}"
	touch "$XLB_RUN/$1.stop"
	xlb_wait_until 10 xlb_pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "XLB_BG[$1]"
}
state() { xlb_jq '"%d failed, %d ok, %d backends" % (d["fail"], d["ok"], len(d["backends"]))' <"$XLB_RUN/$1.state"; }
ok_at_least() { [ "$(xlb_jq 'd["ok"]' <"$XLB_RUN/$1.state" 2>/dev/null || echo 0)" -ge "$2" ]; }
# check_clients WHAT LOOPS...: the loops lost nothing, the keep-alive
# connections kept one backend.
check_clients() {
	local what="$1" c st
	shift
	for c in "$@"; do
		st="$(state "$c")"
		case "$c" in
		ka*) [[ "$st" == "0 failed, "*" ok, 1 backends" ]] ;;
		*) [[ "$st" == "0 failed, "* ]] && ! [[ "$st" == "0 failed, 0 ok"* ]] ;;
		esac
		xlb_check "$what: $c: $st" test $? = 0
	done
}

# --- bad configs under load ------------------------------------------------
for f in 4 6; do
	client_start "loop$f" loop "$(if [ $f = 4 ]; then echo "$XLB_VIP4"; else echo "$XLB_VIP6"; fi)" 0.02
	client_start "ka$f" keepalive "$(if [ $f = 4 ]; then echo "$XLB_VIP4"; else echo "$XLB_VIP6"; fi)"
done
for c in loop4 loop6 ka4 ka6; do
	xlb_wait_until 10 ok_at_least "$c" 3
done
n=0
# bad DOC WANT: DOC over the running config is rejected with WANT in the
# log; what is programmed stays as it was.
bad() {
	local doc="$1" want="$2"
	local from=$(($(wc -l <"$LOG") + 1))
	n=$((n + 1))
	put_conf "$doc"
	if xlb_wait_until 5 sh -c 'tail -n +"$1" "$2" | grep -qF -- "$3"' - "$from" "$LOG" "$want"; then
		xlb_pass "bad config $n under load rejected: $(tail -n +"$from" "$LOG" | grep -F -m1 -- "$want" | cut -d' ' -f3-)"
	else
		xlb_fail "bad config $n: no \"$want\" in the log (last: $(tail -1 "$LOG"))"
	fi
	xlb_check "bad config $n changed nothing programmed" test "$(programmed)" = "$before"
	sleep 0.3
}
one() { # one SERVICE-FIELDS: a config of one web4 service with them
	printf '{"services": [{"name": "web4", "vip": "%s", "port": 80, "protocol": "tcp", %s}]}' "$XLB_VIP4" "$1"
}
b1="{\"ip\": \"$(xlb_be4 1)\", \"port\": 8080}"
bad '{"services": [' "not valid JSON"
bad "${good%]\}}, {\"name\": \"x\"}]}, {}]}" "text after the end of the JSON document"
bad "$(one "\"backends\": [{\"ip\": \"$(xlb_be4 1)\", \"port\": 99999}]")" "backends[0].port 99999: not a port"
bad "$(one "\"backends\": [{\"ip\": \"$(xlb_be4 1)\", \"port\": 1e999}]")" "backends[0].port"
bad "$(one "\"backends\": [{\"ip\": \"fd00::1\", \"port\": 80}]")" 'backends[0].ip "fd00::1": address family differs'
bad "$(one "\"backends\": [$b1, {\"ip\": \"10.20.0.300\", \"port\": 8080}]")" 'backends[1].ip "10.20.0.300"'
bad "$(one "\"backends\": [{\"ip\": \"$(xlb_be4 1)\", \"port\": 8080, \"weight\": \"heavy\"}]")" "weight"
bad "$(printf '{"services": [{"name": "web4", "vip": "%s", "port": 80, "protocol": "sctp", "backends": [%s]}]}' "$XLB_VIP4" "$b1")" "sctp"
bad "$(printf '{"services": [{"name": "a", "vip": "%s", "port": 80, "protocol": "tcp", "backends": [%s]}, {"name": "b", "vip": "%s", "port": 80, "protocol": "tcp", "backends": [%s]}]}' "$XLB_VIP4" "$b1" "$XLB_VIP4" "$b1")" \
	"already used by service"
bad '' "not valid JSON"
bad '[1, 2]' "top level is not an object"
put_conf "$good"
sleep 1
for c in loop4 loop6 ka4 ka6; do client_stop "$c"; done
check_clients "$n bad configs under load" loop4 loop6 ka4 ka6
xlb_check "xlbd still running after $n bad configs" xlb_bg_alive xlbd1

# --- a flood of new flows over a full conntrack table -------------------------
ct_count() { xlb_ctl 1 -o json conntrack list 2>/dev/null | xlb_jq 'len(d)'; }
client_start ka4 keepalive "$XLB_VIP4"
xlb_wait_until 10 ok_at_least ka4 3
rm -f "$XLB_RUN/idle.go"
ip netns exec "$XLB_NS_C" timeout 120 "$XLB_PY" "$XLB_SERVERS/socklb_client.py" hold \
	"$XLB_VIP4" 80 "$XLB_RUN/idle.go" >"$XLB_RUN/idle.out" 2>&1 &
idle_pid=$!
xlb_wait_until 10 grep -q '^ok' "$XLB_RUN/idle.out"
idle_be="$(awk '$1 == "ok" { print $2; exit }' "$XLB_RUN/idle.out")"
new0="$(xlb_ctl 1 -o json stats | xlb_jq "d['outcomes']['ct_new']['packets']")"
# 4 x the table's entries, each a new UDP flow (one source port each),
# every one answered.
flood=$((4 * CT_ENTRIES))
t0=$(xlb_now_ms)
answered="$(ip netns exec "$XLB_NS_C" timeout 120 "$XLB_PY" "$XLB_SERVERS/client.py" udp \
	"$XLB_VIP4" 53 --sport "20000-$((20000 + flood - 1))" --timeout 1 2>/dev/null | grep -c .)"
xlb_log "flood: $flood new UDP flows in $(($(xlb_now_ms) - t0)) ms"
new1="$(xlb_ctl 1 -o json stats | xlb_jq "d['outcomes']['ct_new']['packets']")"
xlb_check "flood: $flood new flows recorded (ct_new +$((new1 - new0))), $answered answered" \
	test $((new1 - new0)) -ge "$flood" -a "$answered" -ge $((flood * 99 / 100))
fill="$(ct_count)"
xlb_check "the conntrack table is full after the flood ($fill of $CT_ENTRIES entries)" \
	test "$fill" -ge $((CT_ENTRIES * 9 / 10))
metric() {
	ip netns exec "${XLB_NS_LB[1]}" curl -s http://127.0.0.1:9477/metrics | awk -v m="$1" '$1 == m { print $2 }'
}
got="$(metric xlb_conntrack_entries) $(metric xlb_conntrack_capacity)"
xlb_check "/metrics shows the fill: xlb_conntrack_entries, xlb_conntrack_capacity = $got" \
	test "${got#* }" = "$CT_ENTRIES" -a "${got%% *}" -ge $((CT_ENTRIES * 9 / 10))
touch "$XLB_RUN/idle.go"
wait "$idle_pid"
xlb_check_eq "$(sed -n 2p "$XLB_RUN/idle.out" | cut -d' ' -f1-2)" "ok $idle_be" \
	"an idle established connection, its entry evicted by the flood, still answered by its backend $idle_be"
client_stop ka4
check_clients "a busy connection across the flood" ka4
xlb_check "xlbd still running after the flood" xlb_bg_alive xlbd1
xlb_check "programming unchanged after the flood" test "$(programmed)" = "$before"

# --- a local user without privileges ----------------------------------------
pins="$XLB_BPFFS/lb1"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"; }
bad_modes="$(find "$pins" -mindepth 1 \( -type f -perm /077 -o -type d -perm /022 \) | paste -sd' ')"
xlb_check "pins readable and writable by root only (${bad_modes:-none other})" test -z "$bad_modes"
for m in xlb_backends xlb_ct xlb_svc; do
	out="$(nobody bpftool map dump pinned "$pins/$m" 2>&1)"
	st=$?
	xlb_check "unprivileged: bpftool map dump $m refused ($(tail -1 <<<"$out" | head -c 80))" \
		test "$st" -ne 0 -a -z "$(grep -m1 key <<<"$out")"
done
out="$(nobody "$XLB_XLBCTL" --bpffs "$pins" backend list 2>&1)"
st=$?
xlb_check "unprivileged: xlbctl backend list refused, saying why ($(head -1 <<<"$out" | head -c 100))" \
	test "$st" -ne 0 -a -z "$(grep -F "$(xlb_be4 1)" <<<"$out")"
nobody rm -f "$pins/xlb_svc" 2>/dev/null
xlb_check "unprivileged: cannot remove a pin" test -e "$pins/xlb_svc"
nobody sh -c "echo '{}' >'$CONF'" 2>/dev/null
xlb_check "unprivileged: cannot write the config" test "$(cat "$CONF")" = "$good"
nobody kill -HUP "${XLB_BG[xlbd1]}" 2>/dev/null
st=$?
xlb_check "unprivileged: cannot signal xlbd" test "$st" -ne 0
got="$(ip netns exec "${XLB_NS_LB[1]}" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all --bounding-set=-all curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9477/metrics)"
xlb_check_eq "$got" 200 "unprivileged: GET /metrics on 127.0.0.1 answers, as documented"
got="$(ip netns exec "${XLB_NS_LB[1]}" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all --bounding-set=-all curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:9477/metrics)"
xlb_check_eq "$got" 405 "unprivileged: any other method on /metrics refused"
xlb_check "still serving after all of it" test "$(programmed)" = "$before"

echo "$XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ]
