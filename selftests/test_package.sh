#!/bin/bash
# The Debian package (tools/deb.sh) on this machine: builds it, installs
# it with dpkg, runs xlbd.service with the demo's config in the LB of a
# namespace topology and balances the demo's traffic, reloads, stops
# (the datapath stays), then purges the package and finds nothing of it
# left. Where systemd is PID 1 the unit runs under systemd, in the LB's
# network namespace through a drop-in; elsewhere its ExecStart= runs as
# systemd would run it (selftests/unit_cmd.py: environment, capability
# bounding set, no_new_privs, memlock limit, all read from the installed
# unit file).
#
# The unit's command line is the default users get (socket hooks on the
# cgroup v2 root); the test points it at its own cgroup and pin
# directory through /etc/default/xlbd, the knob the unit gives
# operators. It refuses to run where the package, or any file it would
# install, is already on the machine, and purges what it installed on
# any exit.
set -u
. "$(dirname "$0")/lib.sh"
xlb_init
start=$(date +%s)

deb_installed() {
	dpkg-query -W -f='${db:Status-Status}' xlb 2>/dev/null | grep -qv '^not-installed$'
}
# dpkg takes the machine's package lock; another apt or dpkg run may
# hold it for a while.
dpkg_locked() {
	local i out
	for i in $(seq 60); do
		out="$("$@" 2>&1)" && { echo "$out"; return 0; }
		grep -q 'lock' <<<"$out" || { echo "$out"; return 1; }
		sleep 1
	done
	echo "$out"
	return 1
}
we_installed=0
pkg_cleanup() {
	[ "$we_installed" = 1 ] || return 0
	[ -n "${XLBD_PID:-}" ] && kill -TERM "$XLBD_PID" 2>/dev/null
	if [ "$systemd" = 1 ]; then
		systemctl stop xlbd.service 2>/dev/null
		rm -rf /run/systemd/system/xlbd.service.d
	fi
	deb_installed && dpkg_locked dpkg --purge xlb >/dev/null
	[ "$systemd" = 1 ] && systemctl daemon-reload
}
systemd=0
[ "$(ps -p 1 -o comm=)" = systemd ] && systemd=1
trap 'rc=$?; pkg_cleanup; (exit $rc); xlb_cleanup' EXIT

# --- build ------------------------------------------------------------------
t0=$(date +%s)
if deb="$("$XLB_ROOT/tools/deb.sh" "$XLB_RUN/deb" 2>"$XLB_RUN/deb.log")" && [ -s "$deb" ]; then
	xlb_pass "tools/deb.sh built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB, $(($(date +%s) - t0)) s)"
else
	xlb_fail "tools/deb.sh: $(tail -n 5 "$XLB_RUN/deb.log")"
	exit 1
fi
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | grep -v '^$' >"$XLB_RUN/contents"
files=$(dpkg-deb -c "$deb" | grep -c '^-')
xlb_log "$files files: $(dpkg-deb -c "$deb" | awk '/^-/ { sub(/^\./, "", $6); printf "%s ", $6 }')"
for f in /usr/sbin/xlbd /usr/bin/xlbctl /lib/systemd/system/xlbd.service \
	/etc/xlb/xlb.json /etc/default/xlbd /usr/share/man/man8/xlbd.8.gz \
	/usr/share/man/man5/xlb.json.5.gz /usr/share/bash-completion/completions/xlbctl \
	/usr/share/doc/xlb/examples/demo.json; do
	grep -qxF "$f" "$XLB_RUN/contents" || xlb_fail "package: $f missing"
done
xlb_pass "package holds the binaries, the unit, its settings, the config, man pages, completion, example"

# --- install ----------------------------------------------------------------
if deb_installed; then
	xlb_fail "package xlb already installed here: not touching it"
	exit 1
fi
clash=()
while read -r f; do
	[ -f "$f" ] || [ -L "$f" ] && clash+=("$f")
done < <(dpkg-deb -c "$deb" | awk '/^[-l]/ { sub(/^\./, "", $6); print $6 }')
if [ ${#clash[@]} -gt 0 ]; then
	xlb_fail "files of the package already on the machine: ${clash[*]}: not touching them"
	exit 1
fi
# What of the package's directories exists before: those stay.
while read -r d; do
	[ -d "$d" ] && echo "$d"
done < <(dpkg-deb -c "$deb" | awk '/^d/ { sub(/^\./, "", $6); sub(/\/$/, "", $6); if ($6 != "") print $6 }') \
	>"$XLB_RUN/dirs-before"

we_installed=1
if out="$(dpkg_locked dpkg -i "$deb")"; then
	xlb_pass "dpkg -i $(basename "$deb")"
else
	xlb_fail "dpkg -i: $(tail -n 5 <<<"$out")"
	exit 1
fi
xlb_check_eq "$(dpkg-query -W -f='${Status}' xlb)" "install ok installed" "dpkg: xlb installed"
xlb_check_eq "$(dpkg-query -W -f='${Conffiles}' xlb | awk '{ print $1 }' | sort | paste -sd' ')" \
	"/etc/default/xlbd /etc/xlb/xlb.json" "conffiles: the unit's settings and the config"
if /usr/sbin/xlbd --help | grep -q -- '--socket-lb' && /usr/bin/xlbctl --help | grep -q detach; then
	xlb_pass "installed xlbd and xlbctl run (--help)"
else
	xlb_fail "installed xlbd or xlbctl does not run"
fi
pages="$(man -w 8 xlbd xlbctl 2>&1; man -w 5 xlb.json 2>&1)"
xlb_check_eq "$(paste -sd' ' <<<"$pages")" \
	"/usr/share/man/man8/xlbd.8.gz /usr/share/man/man8/xlbctl.8.gz /usr/share/man/man5/xlb.json.5.gz" \
	"man finds xlbd(8), xlbctl(8), xlb.json(5)"
unit=/lib/systemd/system/xlbd.service
# The installed unit's command is the users' default: no test option.
exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
xlb_check_eq "$exec_start" '/usr/sbin/xlbd --config /etc/xlb/xlb.json --iface ${XLBD_IFACES} $XLBD_ARGS' \
	"unit: ExecStart is the default (socket hooks on the cgroup v2 root)"
xlb_check_eq "$(sed -n 's/^ExecReload=//p' "$unit")" '/bin/kill -HUP $MAINPID' "unit: ExecReload sends SIGHUP"
if command -v systemd-analyze >/dev/null; then
	if out="$(systemd-analyze verify "$unit" 2>&1)"; then
		xlb_pass "systemd-analyze verify $unit"
	else
		xlb_fail "systemd-analyze verify: $out"
	fi
fi
# Enabled as an operator would: the purge must take the link too.
if systemctl enable xlbd.service >"$XLB_RUN/enable.log" 2>&1 &&
	[ -L /etc/systemd/system/multi-user.target.wants/xlbd.service ]; then
	xlb_pass "systemctl enable xlbd.service"
else
	xlb_fail "systemctl enable xlbd.service: $(cat "$XLB_RUN/enable.log")"
fi

# As installed, the unit does not start: the interfaces are the
# operator's to set. (Run only while the settings leave --iface empty,
# so that it cannot attach anything here.)
defaults="$(grep -v '^#' /etc/default/xlbd | grep . | paste -sd' ')"
xlb_check_eq "$defaults" "XLBD_IFACES= XLBD_ARGS=" "/etc/default/xlbd as installed: no interfaces, no options"
if [ "$defaults" = "XLBD_IFACES= XLBD_ARGS=" ]; then
	eval "$("$XLB_PY" "$XLB_ROOT/selftests/unit_cmd.py" "$unit" ExecStart)"
	out="$(timeout 10 "${cmd[@]}" 2>&1)"
	rc=$?
	xlb_check_eq "$rc: $out" '2: xlbd: --iface "": not a list of interface names and patterns' \
		"unconfigured: xlbd exits 2 naming --iface (RestartPreventExitStatus=2: no restart loop)"
fi

# --- run the unit with the demo's config --------------------------------------
xlb_topo_create 1 3 || exit 1
xlb_bpffs_mount || exit 1
xlb_backends_start
xlb_backends_wait || { xlb_fail "backends do not answer"; exit 1; }
lbns="${XLB_NS_LB[1]}"
cp /usr/share/doc/xlb/examples/demo.json /etc/xlb/xlb.json
cat >/etc/default/xlbd <<EOF
XLBD_IFACES=ethc,ethb
XLBD_ARGS="--bpffs $XLB_BPFFS/lb1 --cgroup $XLB_CGROUP ${XLB_XLBD_ARGS[*]}"
EOF
log="$XLB_RUN/xlbd-unit.log"
XLBD_PID=
if [ "$systemd" = 1 ]; then
	xlb_log "systemd is PID 1: the unit runs under systemd"
	mkdir -p /run/systemd/system/xlbd.service.d
	printf '[Service]\nNetworkNamespacePath=/run/netns/%s\n' "$lbns" \
		>/run/systemd/system/xlbd.service.d/test-netns.conf
	systemctl daemon-reload
	systemctl start xlbd.service
	XLBD_PID="$(systemctl show -p MainPID --value xlbd.service)"
	journalctl -f -u xlbd.service --since "@$start" -o cat >"$log" 2>&1 &
	XLB_BG[journal]=$!
else
	xlb_log "PID 1 is $(ps -p 1 -o comm=), not systemd: ExecStart runs as systemd would run it"
	eval "$("$XLB_PY" "$XLB_ROOT/selftests/unit_cmd.py" "$unit" ExecStart)" ||
		{ xlb_fail "unit_cmd.py $unit ExecStart"; exit 1; }
	xlb_log "ExecStart: ${cmd[*]}"
	xlb_bg xlbd-unit "$lbns" "${cmd[@]}"
	XLBD_PID="${XLB_BG[xlbd-unit]}"
fi
if xlb_wait_until 20 sh -c "kill -0 $XLBD_PID && grep -q 'ready:' '$log'"; then
	xlb_pass "xlbd.service ready: $(grep -m1 -o 'ready:.*' "$log")"
else
	xlb_fail "xlbd.service not ready after 20 s: $(tail -n 5 "$log")"
	exit 1
fi
caps="$(awk '/^CapEff/ { print $2 }' "/proc/$XLBD_PID/status")"
xlb_check_eq "$(capsh --decode="$caps" | sed 's/^[^=]*=//' | tr , '\n' | sort | paste -sd,)" \
	"cap_bpf,cap_net_admin,cap_perfmon,cap_sys_admin,cap_sys_ptrace" \
	"xlbd runs with the unit's capabilities only"
if bpftool cgroup show "$XLB_CGROUP" 2>/dev/null | grep -q xlb_sock; then
	xlb_pass "socket hooks on the test's cgroup (XLBD_ARGS --cgroup), not the machine's root"
else
	xlb_fail "no socket hooks on $XLB_CGROUP"
fi

# answered N VIP: how many of N HTTP requests to VIP:80 were answered;
# the answering backends are left in $XLB_RUN/burst.
answered() { xlb_http_burst "$2" 80 "$1" | awk '$2 == 200' | tee "$XLB_RUN/burst" | wc -l; }
n=$(answered 30 "$XLB_VIP4")
spread=$(awk '{ print $1 }' "$XLB_RUN/burst" | sort -u | wc -l)
# Weights 1:2:3: b1 may take none of 30 new flows now and then.
xlb_check_eq "$n/$([ "$spread" -ge 2 ] && echo 2+)" "30/2+" \
	"demo web: 30 of 30 requests to $XLB_VIP4 answered, by $spread backends"
n=$(answered 30 "$XLB_VIP6")
xlb_check_eq "$n" 30 "demo web6: 30 of 30 requests to $XLB_VIP6 answered"
reply="$(xlb_udp "$XLB_VIP4" 9000)"
case "$reply" in
b[123]) xlb_pass "demo echo: UDP to $XLB_VIP4:9000 answered by $reply" ;;
*) xlb_fail "demo echo: UDP to $XLB_VIP4:9000: reply \"$reply\"" ;;
esac

# --- reload -------------------------------------------------------------------
"$XLB_PY" - /etc/xlb/xlb.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["services"] = [s for s in c["services"] if s["name"] != "echo6"]
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
if [ "$systemd" = 1 ]; then
	systemctl reload xlbd.service
else
	eval "$("$XLB_PY" "$XLB_ROOT/selftests/unit_cmd.py" "$unit" ExecReload "$XLBD_PID")"
	"${cmd[@]}"
fi
if xlb_wait_until 10 grep -q 'SIGHUP: ' "$log"; then
	xlb_pass "ExecReload: xlbd reloads on SIGHUP ($(grep -m1 -o 'SIGHUP: [^;]*' "$log"))"
else
	xlb_fail "ExecReload: no \"SIGHUP:\" reload in the log: $(tail -n 3 "$log")"
fi
names="$(/usr/bin/xlbctl --bpffs "$XLB_BPFFS/lb1" -o json service list |
	xlb_jq 'sorted({s["name"] for s in d})' | paste -sd' ')"
xlb_check_eq "$names" "echo web web6" "after the reload: echo6 gone from the maps"

# --- stop: the datapath stays ---------------------------------------------------
if [ "$systemd" = 1 ]; then
	systemctl stop xlbd.service
	rc=$(systemctl show -p ExecMainStatus --value xlbd.service)
else
	xlb_bg_stop xlbd-unit TERM
	rc=$?
fi
XLBD_PID=
xlb_check_eq "$rc" 0 "stop (SIGTERM): xlbd exits 0"
n=$(answered 20 "$XLB_VIP4")
xlb_check_eq "$n" 20 "after the stop: the datapath still balances (20 of 20 answered)"
ip netns exec "$lbns" /usr/bin/xlbctl --bpffs "$XLB_BPFFS/lb1" detach \
	--iface ethc,ethb --cgroup "$XLB_CGROUP" >"$XLB_RUN/detach.log" 2>&1
n=$(answered 5 "$XLB_VIP4")
xlb_check_eq "$n" 0 "xlbctl detach: the VIPs are not balanced any more"

# --- purge ----------------------------------------------------------------------
dpkg-query -L xlb | grep -vx '/\.\?' >"$XLB_RUN/listed"
if out="$(dpkg_locked dpkg --purge xlb)"; then
	xlb_pass "dpkg --purge xlb"
else
	xlb_fail "dpkg --purge: $(tail -n 5 <<<"$out")"
fi
we_installed=0
if [ "$systemd" = 1 ]; then
	rm -rf /run/systemd/system/xlbd.service.d
	systemctl daemon-reload
fi
xlb_check_eq "$(dpkg-query -W -f='${db:Status-Status}' xlb 2>/dev/null || echo not-installed)" \
	not-installed "dpkg: xlb purged (no config-files state)"
left=()
while read -r f; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	grep -qxF "$f" "$XLB_RUN/dirs-before" || left+=("$f")
done < <(sort -u "$XLB_RUN/listed" "$XLB_RUN/contents")
for f in /etc/xlb /etc/default/xlbd /etc/systemd/system/xlbd.service \
	/etc/systemd/system/*/xlbd.service /run/systemd/system/xlbd.service.d; do
	[ -e "$f" ] || [ -L "$f" ] && left+=("$f")
done
xlb_check_eq "${left[*]:-nothing}" nothing "after the purge: nothing of the package left"
xlb_log "test time $(($(date +%s) - start)) s"
echo "$XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ]
