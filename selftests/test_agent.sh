#!/bin/bash
# xlbd and xlbctl as a user meets them, without traffic: help texts, bad
# configs at start and at reload (rejected with a message naming service,
# field and value; nothing programmed changes), one agent per pin
# directory, which program a veth gets (tc by default; XDP refused
# unless --complete-checksums; lo never), the map-size limit, and detach.
set -u
. "$(dirname "$0")/lib.sh"
xlb_init

ns="$XLB_PFX-a"
xlb_ns_add "$ns" || { xlb_fail "create namespace"; exit 1; }
ip -n "$ns" link add v0 type veth peer name v1 && ip -n "$ns" link set v0 up &&
	ip -n "$ns" link set v1 up || { xlb_fail "create links"; exit 1; }
mkdir -p "$XLB_BPFFS" && mount -t bpf bpf "$XLB_BPFFS" ||
	{ xlb_fail "mount bpffs"; exit 1; }
pins="$XLB_BPFFS/a"
conf="$XLB_RUN/a.json"
ctl() { timeout 10 "$XLB_XLBCTL" --bpffs "$pins" "$@"; }

good='{"services": [{"name": "web", "vip": "10.96.0.10", "port": 80, "protocol": "tcp",
  "backends": [{"ip": "10.20.0.11", "port": 8080}, {"ip": "10.20.0.12", "port": 8080}]}]}'

# --- help ---------------------------------------------------------------
out="$("$XLB_XLBD" "${XLB_XLBD_CG[@]}" --help)"
xlb_check "xlbd --help exits 0 and documents --xdp-mode" grep -q -- "--xdp-mode" <<<"$out"
out="$("$XLB_XLBCTL" --help)"
xlb_check "xlbctl --help documents conntrack flush" grep -q "conntrack flush" <<<"$out"
"$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config /nonexistent >/dev/null 2>&1
xlb_check_eq "$?" 2 "xlbd without --iface: usage error status"

# --- a bad config at start ----------------------------------------------
echo '{"services": [{"name": "web", "vip": "10.96.0.300", "port": 80, "protocol": "tcp"}]}' >"$conf"
out="$(timeout 20 ip netns exec "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 --bpffs "$pins" 2>&1)"
st=$?
xlb_check "xlbd refuses a bad config at first start (status $st)" test "$st" -ne 0 -a "$st" -ne 124
xlb_check "start error names service, field and value: $(tail -1 <<<"$out")" \
	grep -q 'service web: vip "10.96.0.300": not an IPv4 or IPv6 address' <<<"$out"
"$XLB_XLBCTL" --bpffs "$pins" detach >/dev/null 2>&1

# --- a pin directory someone else controls --------------------------------
# Whoever can write to it can remove the pins: refused, naming the path.
refuse_pins() { # refuse_pins WHAT DIR WANT
	local out st
	out="$(timeout 20 ip netns exec "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 --bpffs "$2" 2>&1)"
	st=$?
	xlb_check "$1: xlbd refuses to start (status $st)" test "$st" -ne 0 -a "$st" -ne 124
	xlb_check "$1: the message names it: $(grep -m1 'bpffs' <<<"$out")" grep -qF "$3" <<<"$out"
}
echo "$good" >"$conf"
mkdir -m 0700 "$XLB_BPFFS/other" && chown 65534 "$XLB_BPFFS/other"
refuse_pins "pin directory of another user" "$XLB_BPFFS/other" \
	"bpffs $XLB_BPFFS/other: $XLB_BPFFS/other belongs to uid 65534, not to xlbd's (uid 0) or root"
mkdir -m 0777 "$XLB_BPFFS/open" && chmod 0777 "$XLB_BPFFS/open"
refuse_pins "pin directory writable by others" "$XLB_BPFFS/open" \
	"bpffs $XLB_BPFFS/open: $XLB_BPFFS/open is writable by others (mode 0777)"
refuse_pins "pins made in a parent writable by others" "$XLB_BPFFS/open/xlb" \
	"bpffs $XLB_BPFFS/open/xlb: $XLB_BPFFS/open is writable by others (mode 0777)"
rmdir "$XLB_BPFFS/open/xlb" 2>/dev/null
rmdir "$XLB_BPFFS/other" "$XLB_BPFFS/open"

# --- a good start, then bad reloads --------------------------------------
echo "$good" >"$conf"
xlb_bg agent "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0,v1 --bpffs "$pins"
log="$XLB_RUN/agent.log"
xlb_wait_until 20 grep -q 'ready:' "$log"
xlb_check "xlbd ready" grep -q 'ready: 1 services, 2 backends' "$log"
before="$(ctl -o json backend list; ctl -o json maglev show web)"

# Each bad document, written over the file, must be rejected with its
# message and change nothing.
n=0
check_bad() {
	local doc="$1" want="$2" after
	n=$((n + 1))
	printf '%s\n' "$doc" >"$conf.tmp" && mv "$conf.tmp" "$conf"
	if xlb_wait_until 5 grep -qF "$want" "$log"; then
		xlb_pass "bad reload $n rejected: $want"
	else
		xlb_fail "bad reload $n: no \"$want\" in the log"
	fi
	after="$(ctl -o json backend list; ctl -o json maglev show web)"
	xlb_check "bad reload $n changed nothing programmed" test "$before" = "$after"
}
check_bad '{"services": [' "config changed: config: not valid JSON"
check_bad '{"services": [{"name": "web", "vip": "10.96.0.10", "port": 80, "protocol": "tcp", "backends": [{"ip": "10.20.0.11", "port": 99999}]}]}' \
	"service web: backends[0].port 99999: not a port"
check_bad '{"services": [{"name": "web", "vip": "10.96.0.10", "port": 80, "protocol": "tcp"}, {"name": "web2", "vip": "10.96.0.10", "port": 80, "protocol": "tcp"}]}' \
	"vip 10.96.0.10 port 80 protocol tcp: already used by service"
check_bad '{"services": [{"name": "web", "vip": "10.96.0.10", "port": 80, "protocol": "tcp", "backends": [{"ip": "fd00::1", "port": 80}]}]}' \
	'service web: backends[0].ip "fd00::1": address family differs'
xlb_check "xlbd still running after bad reloads" xlb_bg_alive agent

# Too many backends for the maps: a second agent with tiny maps.
xlb_bg_stop agent TERM
"$XLB_XLBCTL" --bpffs "$pins" detach >/dev/null 2>&1
xlb_ns "$ns" "$XLB_XLBCTL" --bpffs "$pins" detach --iface v0,v1 >/dev/null 2>&1
echo "$good" >"$conf"
xlb_bg small "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 --bpffs "$pins" --max-backends 4
log="$XLB_RUN/small.log"
xlb_wait_until 20 grep -q 'ready:' "$log"
before="$(ctl -o json backend list)"
cat >"$conf.tmp" <<'EOF2'
{"services": [{"name": "web", "vip": "10.96.0.10", "port": 80, "protocol": "tcp",
  "backends": [{"ip": "10.20.0.11", "port": 8080}, {"ip": "10.20.0.12", "port": 8080},
               {"ip": "10.20.0.13", "port": 8080}, {"ip": "10.20.0.14", "port": 8080}]}]}
EOF2
mv "$conf.tmp" "$conf"
if xlb_wait_until 5 grep -q "service web: backends: 4 in all, more than the maps hold (3)" "$log"; then
	xlb_pass "too many backends for the maps: rejected, naming service and field"
else
	xlb_fail "too many backends: message missing; log tail: $(tail -2 "$log")"
fi
xlb_check "too many backends changed nothing" test "$before" = "$(ctl -o json backend list)"

# --- one agent per pin directory ----------------------------------------
out="$(timeout 20 ip netns exec "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v1 --bpffs "$pins" 2>&1)"
xlb_check "a second xlbd on the same pins is refused: $(tail -1 <<<"$out")" \
	grep -q "another xlbd is using it" <<<"$out"
xlb_check "default mode: the veth v0 got the tc program, and the log says why" \
	grep -q 'interface v0: tc (veth: frames sent by local sockets (pods) arrive with partial checksums)' "$log"
xlb_bg_stop small TERM
xlb_check "programs stay attached after SIGTERM" \
	sh -c "tc -n $ns filter show dev v0 ingress | grep -q xlb_tc"
xlb_check "pins stay after SIGTERM" test -e "$pins/xlb_svc"
xlb_check "xlbctl reads the maps while no xlbd runs" \
	sh -c "$XLB_XLBCTL --bpffs $pins service list | grep -q 10.96.0.10"

# --- XDP on a veth: refused, unless --complete-checksums -----------------
xlb_ns "$ns" "$XLB_XLBCTL" --bpffs "$pins" detach --iface v0,v1 >/dev/null 2>&1
echo "$good" >"$conf"
for m in native best-effort generic; do
	out="$(timeout 20 ip netns exec "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 \
		--bpffs "$pins" --xdp-mode "$m" --metrics-address none 2>&1)"
	st=$?
	xlb_check "--xdp-mode $m on a veth: refused at start (status $st)" \
		test "$st" -ne 0 -a "$st" -ne 124
	xlb_check "--xdp-mode $m on a veth: the error names the device and the reason" \
		grep -q "interface v0: --xdp-mode $m refused: veth: frames sent by local sockets (pods) arrive with partial checksums" <<<"$out"
	xlb_check "--xdp-mode $m refused: nothing attached to v0" \
		sh -c "! ip -n $ns link show v0 | grep -q xdp && ! tc -n $ns filter show dev v0 ingress | grep -q xlb_tc"
done
xlb_bg be "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0,lo --bpffs "$pins" \
	--xdp-mode best-effort --complete-checksums 'v*'
log="$XLB_RUN/be.log"
xlb_wait_until 20 grep -q 'ready:' "$log"
xlb_check "best-effort with --complete-checksums: v0 got native XDP, and the log says why" \
	grep -q "interface v0: xdp-native (--complete-checksums: its senders produce complete checksums)" "$log"
xlb_check "lo named in --iface is never attached (and the log says so)" \
	grep -q "interface lo: never attached (loopback)" "$log"
xlb_check "nothing on lo" \
	sh -c "! tc -n $ns filter show dev lo ingress 2>/dev/null | grep -q xlb && ! ip -n $ns link show lo | grep -q xdp"
xlb_bg_stop be TERM

# --- detach -------------------------------------------------------------
out="$(xlb_ns "$ns" "$XLB_XLBCTL" --bpffs "$pins" detach --iface v0 2>&1)"
xlb_check "detach reports the pins removed" grep -q "pins under $pins removed" <<<"$out"
xlb_check "detach removed the XDP program" \
	sh -c "! ip -n $ns link show v0 | grep -q 'xdp'"
xlb_check "detach removed the tc egress filter" \
	sh -c "! tc -n $ns filter show dev v0 egress | grep -q xlb_tc"
xlb_check "detach removed the pins" test ! -e "$pins/xlb_svc"
out="$("$XLB_XLBCTL" --bpffs "$pins" service list 2>&1)"
xlb_check "xlbctl without pins says what is missing" \
	grep -q "open pinned map $pins/xlb_svc" <<<"$out"

# --- a config directory: one file's change touches its services only ------
cdir="$XLB_RUN/conf.d"
dpins="$XLB_BPFFS/d"
mkdir -p "$cdir"
echo "$good" >"$cdir/a.json"
echo '{"services": [{"name": "dns", "vip": "10.96.0.53", "port": 53, "protocol": "udp",
  "backends": [{"ip": "10.20.0.11", "port": 53}]}]}' >"$cdir/b.json"
xlb_bg dir "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$cdir" --iface v0 --bpffs "$dpins"
log="$XLB_RUN/dir.log"
xlb_wait_until 20 grep -q 'ready:' "$log"
xlb_check "config directory: both files programmed" grep -q 'ready: 2 services, 3 backends' "$log"
dns_before="$(timeout 10 "$XLB_XLBCTL" --bpffs "$dpins" -o json maglev show dns)"
sed 's/10.20.0.12/10.20.0.13/' "$cdir/a.json" >"$cdir/a.json.tmp" && mv "$cdir/a.json.tmp" "$cdir/a.json"
if xlb_wait_until 5 grep -q "config a.json changed: 0 added, 1 updated, 0 removed, 0 unchanged; backends +1 -1" "$log"; then
	xlb_pass "config directory: a change of a.json applied to its service only"
else
	xlb_fail "config directory: no partial apply of a.json; log tail: $(tail -2 "$log")"
fi
xlb_check "config directory: b.json's service untouched" \
	test "$dns_before" = "$(timeout 10 "$XLB_XLBCTL" --bpffs "$dpins" -o json maglev show dns)"
echo '{"services": [{"name": "dns2", "vip": "10.96.0.10", "port": 80, "protocol": "tcp"}]}' >"$cdir/c.json"
if xlb_wait_until 5 grep -q 'config c.json changed: service dns2: frontend 10.96.0.10:80/tcp: already used by service web' "$log"; then
	xlb_pass "config directory: a VIP taken by another file's service is rejected"
else
	xlb_fail "config directory: conflict not reported; log tail: $(tail -2 "$log")"
fi
rm -f "$cdir/c.json" "$cdir/b.json"
if xlb_wait_until 5 grep -q "config b.json changed: 0 added, 0 updated, 1 removed" "$log"; then
	xlb_pass "config directory: removing b.json removes its service"
else
	xlb_fail "config directory: b.json removal not applied; log tail: $(tail -2 "$log")"
fi
xlb_check "config directory: web still served after b.json went" \
	sh -c "timeout 10 $XLB_XLBCTL --bpffs $dpins service list | grep -q 10.96.0.10"
xlb_bg_stop dir TERM
xlb_ns "$ns" "$XLB_XLBCTL" --bpffs "$dpins" detach --iface v0 >/dev/null 2>&1

# --- a directory with a bad file at start, then 20 files changed at once --
# The good files are applied and the bad one reported; /readyz waits for
# the whole directory; fixing the file converges without a signal. No
# change event may be lost, however many files change together.
bdir="$XLB_RUN/bad.d"
bpins="$XLB_BPFFS/bad"
mkdir -p "$bdir"
svc_file() { # svc_file I BACKEND_NET
	printf '{"services": [{"name": "s%d", "vip": "10.96.1.%d", "port": 80, "protocol": "tcp", "backends": [{"ip": "%s.%d", "port": 8080}]}]}\n' \
		"$1" "$1" "$2" "$1"
}
for i in $(seq 1 20); do svc_file "$i" 10.20.1 >"$bdir/f$i.json"; done
echo '{"services": [{"name": "broken", "vip": "10.96.1.300", "port": 80, "protocol": "tcp"}]}' >"$bdir/zz.json"
xlb_bg bad "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$bdir" --iface v0 --bpffs "$bpins"
log="$XLB_RUN/bad.log"
readyz() { xlb_ns "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:9477/readyz; }
n_svcs() { timeout 10 "$XLB_XLBCTL" --bpffs "$bpins" -o json service list 2>/dev/null | xlb_jq 'len(d)'; }
xlb_wait_until 20 grep -q 'its services are left as they are' "$log"
xlb_check "bad file at start: reported with its name, service, field and value" \
	grep -q 'config zz.json: service broken: vip "10.96.1.300": not an IPv4 or IPv6 address; its services are left as they are' "$log"
xlb_check "bad file at start: xlbd keeps running" xlb_bg_alive bad
xlb_wait_until 5 test "$(n_svcs)" = 20
xlb_check_eq "$(n_svcs)" 20 "bad file at start: the 20 good files' services are programmed"
xlb_check_eq "$(readyz)" 503 "bad file at start: /readyz 503 until every file reads"
echo '{"services": [{"name": "broken", "vip": "10.96.1.30", "port": 81, "protocol": "tcp"}]}' >"$bdir/zz.json.tmp" &&
	mv "$bdir/zz.json.tmp" "$bdir/zz.json"
if xlb_wait_until 5 grep -q 'ready: 21 services' "$log"; then
	xlb_pass "bad file fixed: applied and ready without a signal"
else
	xlb_fail "bad file fixed: not applied; log tail: $(tail -3 "$log")"
fi
xlb_check_eq "$(readyz)" 200 "bad file fixed: /readyz 200"
be_moved() {
	[ "$(timeout 10 "$XLB_XLBCTL" --bpffs "$bpins" -o json backend list |
		xlb_jq 'len([b for b in d if b["ip"].startswith("10.20.2.")])')" = 20 ]
}
for i in $(seq 1 20); do
	svc_file "$i" 10.20.2 >"$bdir/f$i.json.tmp" && mv "$bdir/f$i.json.tmp" "$bdir/f$i.json"
done
xlb_wait_until 5 be_moved
xlb_check "20 files changed at once: all 20 applied (none lost)" be_moved
xlb_bg_stop bad TERM
xlb_ns "$ns" "$XLB_XLBCTL" --bpffs "$bpins" detach --iface v0 >/dev/null 2>&1

echo "$XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ]
