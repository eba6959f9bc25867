#!/bin/bash
# Shared helpers for the tests and the demo that run real traffic through
# network namespaces. Source it; it defines functions and variables only.
#
# Topology made by xlb_topo_create NLB NBE (all names carry a prefix
# unique to the run, $XLB_PFX, so that two runs never collide):
#
#   client ns          switch ns             LB ns (x NLB)      backend ns (x NBE)
#   eth0 ------------- c0   [brc]   l<i>c -- ethc   xlbd
#   10.10.0.1                                ethb ---- l<i>b  [brb]  b<j> -- eth0
#   fd00:10::1                                                             10.20.0.1<j>
#                                                                          fd00:20::1<j>
#
# Client LAN 10.10.0.0/24 + fd00:10::/64, LB i at .(1+i) / ::(1+i).
# Backend LAN 10.20.0.0/24 + fd00:20::/64, LB i at .(1+i), backend j at
# .(10+j) / ::(10+j). VIPs 10.96.0.0/16 and fd00:96::/64 live nowhere: the
# client routes them (and the backend LAN) via LB 1, the backends' default
# route points at LB 1. xlb_topo_route_via moves both to another LB.
# These addresses exist only inside the namespaces.
#
# Everything made here (namespaces, veths, bridges, the bpffs mount under
# /run/$XLB_PFX, the run's cgroup $XLB_CGROUP, background processes) is
# removed by xlb_cleanup, which
# xlb_init installs as the EXIT trap; INT, TERM and HUP exit through it.
# If XLB_SAVE_LOGS names a directory, the run's logs are copied there
# first.

XLB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
XLB_PY=/usr/bin/python3
XLB_SERVERS="$XLB_ROOT/selftests/servers"
XLB_XLBD="$XLB_ROOT/build/user/xlbd"
XLB_XLBCTL="$XLB_ROOT/build/user/xlbctl"

XLB_VIP4=10.96.0.10
XLB_VIP6=fd00:96::10
XLB_VIPNET4=10.96.0.0/16
XLB_VIPNET6=fd00:96::/64
XLB_C4=10.10.0.1
XLB_C6=fd00:10::1
XLB_HTTP_PORT=8080	# backend ports; the VIP ports are the config's
XLB_UDP_PORT=9000

XLB_NPASS=0
XLB_NFAIL=0
XLB_NS_ALL=()
XLB_NS_LB=()
XLB_NS_BE=()
declare -A XLB_BG=()	# background process name -> pid

# --- output -------------------------------------------------------------

xlb_pass() { echo "PASS: $*"; XLB_NPASS=$((XLB_NPASS + 1)); }
xlb_fail() { echo "FAIL: $*"; XLB_NFAIL=$((XLB_NFAIL + 1)); }
xlb_log() { echo "# $*"; }

# xlb_check WHAT CMD...: one PASS/FAIL line from the status of CMD.
xlb_check() {
	local what="$1"
	shift
	if "$@"; then
		xlb_pass "$what"
	else
		xlb_fail "$what: command failed: $*"
	fi
}

# xlb_check_eq GOT WANT WHAT
xlb_check_eq() {
	if [ "$1" = "$2" ]; then
		xlb_pass "$3"
	else
		xlb_fail "$3: got $1, want $2"
	fi
}

# --- time ---------------------------------------------------------------

xlb_now_ms() { local t="${EPOCHREALTIME/./}"; echo $((t / 1000)); }

# xlb_wait_until TIMEOUT_S CMD...: runs CMD every 0.1 s until it succeeds
# (returns 0) or TIMEOUT_S seconds have passed (returns 1).
xlb_wait_until() {
	local end=$(($(xlb_now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(xlb_now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# --- run setup and cleanup ----------------------------------------------

xlb_require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "error: must run as root (network namespaces, BPF)" >&2
		exit 1
	fi
}

# Picks the run prefix, makes /run/$XLB_PFX and installs the traps.
xlb_init() {
	local try
	xlb_require_root
	for try in 1 2 3 4 5 6 7 8; do
		XLB_PFX="xlb$$-$((RANDOM % 10000))"
		if ! ip netns list | grep -q "^$XLB_PFX-" &&
			mkdir "/run/$XLB_PFX" 2>/dev/null; then
			break
		fi
		XLB_PFX=
	done
	if [ -z "$XLB_PFX" ]; then
		echo "error: cannot pick a free run prefix under /run" >&2
		exit 1
	fi
	XLB_RUN="/run/$XLB_PFX"
	XLB_BPFFS="$XLB_RUN/bpffs"
	trap xlb_cleanup EXIT
	xlb_cgroup_init || exit 1
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# xlb_bg NAME NS CMD...: runs CMD in namespace NS in the background with
# its output in $XLB_RUN/NAME.log; xlb_cleanup kills it.
xlb_bg() {
	local name="$1" ns="$2"
	shift 2
	ip netns exec "$ns" "$@" >"$XLB_RUN/$name.log" 2>&1 </dev/null &
	XLB_BG[$name]=$!
}

xlb_bg_alive() { [ -n "${XLB_BG[$1]:-}" ] && kill -0 "${XLB_BG[$1]}" 2>/dev/null; }

# xlb_bg_stop NAME [SIGNAL]: signals the process and waits up to 5 s for
# it to exit (then SIGKILL). Returns the process' exit status.
xlb_bg_stop() {
	local name="$1" sig="${2:-TERM}" pid="${XLB_BG[$1]:-}" rc
	[ -z "$pid" ] && return 0
	kill -"$sig" "$pid" 2>/dev/null
	if ! xlb_wait_until 5 xlb_pid_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	unset "XLB_BG[$name]"
	return $rc
}

xlb_pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# Kills every process of the topology, removes its namespaces (which
# takes the veths, bridges and attached programs with them) and unmounts
# its bpffs.
xlb_topo_destroy() {
	local name pid ns pids
	for name in "${!XLB_BG[@]}"; do
		kill -TERM "${XLB_BG[$name]}" 2>/dev/null
	done
	for name in "${!XLB_BG[@]}"; do
		pid="${XLB_BG[$name]}"
		xlb_wait_until 3 xlb_pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		unset "XLB_BG[$name]"
	done
	# Anything else still running in our namespaces was started by us.
	for ns in $(ip netns list 2>/dev/null | awk -v p="$XLB_PFX-" \
		'index($1, p) == 1 { print $1 }'); do
		pids="$(ip netns pids "$ns" 2>/dev/null)"
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	XLB_NS_ALL=()
	XLB_NS_LB=()
	XLB_NS_BE=()
	if [ -n "${XLB_BPFFS:-}" ] && mountpoint -q "$XLB_BPFFS"; then
		umount "$XLB_BPFFS"
	fi
}

# --- the run's cgroup ----------------------------------------------------
#
# xlbd's socket hooks see every process of the cgroup they are attached
# to, in every network namespace: a test attaches them only to a cgroup
# of its own, $XLB_CGROUP, made under the cgroup2 mount (not at
# /sys/fs/cgroup on every machine) and removed, with what is attached to
# it, by xlb_cleanup. A test puts the processes that play a node's pods
# and host processes into it (xlb_cg_exec); nothing else is balanced by
# the hooks. Every xlbd a test starts gets --cgroup: XLB_XLBD_CG.

xlb_cgroup_init() {
	local root
	root="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)"
	if [ -z "$root" ]; then
		echo "error: no cgroup2 mount in /proc/mounts" >&2
		return 1
	fi
	# `ip netns exec` mounts a fresh /sys, hiding the cgroup2 mount
	# under it: the run mounts the hierarchy again under /run, which
	# every namespace's processes see.
	mkdir -p "$XLB_RUN/cgroup2" &&
		mount -t cgroup2 none "$XLB_RUN/cgroup2" || return 1
	XLB_CGROUP="$XLB_RUN/cgroup2/$XLB_PFX"
	mkdir "$XLB_CGROUP" || return 1
	XLB_XLBD_CG=(--cgroup "$XLB_CGROUP")
}

# xlb_cg_exec CGROUP NS CMD...: runs CMD in namespace NS as a member of
# CGROUP (a directory under $XLB_CGROUP); it joins before entering NS.
xlb_cg_exec() {
	local cg="$1" ns="$2"
	shift 2
	sh -c 'echo $$ >"$0/cgroup.procs" && exec ip netns exec "$@"' \
		"$cg" "$ns" "$@"
}

# Moves what is left in the run's cgroups to the root, then removes them
# (deepest first); the programs attached to them go with them.
xlb_cgroup_destroy() {
	local d p try
	[ -n "${XLB_CGROUP:-}" ] && [ -d "$XLB_CGROUP" ] || { xlb_cgroup_umount; return 0; }
	for try in 1 2 3 4 5 6 7 8 9 10; do
		while read -r d; do
			while read -r p; do
				echo "$p" >"${XLB_CGROUP%/*}/cgroup.procs"
			done <"$d/cgroup.procs" 2>/dev/null
			rmdir "$d" 2>/dev/null
		done < <(find "$XLB_CGROUP" -depth -type d 2>/dev/null)
		[ -d "$XLB_CGROUP" ] || break
		sleep 0.2
	done
	[ -d "$XLB_CGROUP" ] && echo "warning: cgroup $XLB_CGROUP not removed" >&2
	xlb_cgroup_umount
}

xlb_cgroup_umount() {
	[ -n "${XLB_RUN:-}" ] && mountpoint -q "$XLB_RUN/cgroup2" &&
		umount "$XLB_RUN/cgroup2"
	return 0
}

xlb_cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	[ -z "${XLB_PFX:-}" ] && exit "$rc"
	xlb_topo_destroy
	xlb_cgroup_destroy
	if [ -n "${XLB_SAVE_LOGS:-}" ]; then
		rm -rf "$XLB_SAVE_LOGS" "/run/$XLB_PFX/bin"
		mkdir -p "$XLB_SAVE_LOGS" &&
			cp -r "/run/$XLB_PFX/." "$XLB_SAVE_LOGS/"
	fi
	rm -rf "/run/$XLB_PFX"
	exit "$rc"
}

# --- topology -----------------------------------------------------------

xlb_ns() { ip netns exec "$@"; }

xlb_ns_add() {
	ip netns add "$1" || return 1
	XLB_NS_ALL+=("$1")
	ip -n "$1" link set lo up &&
		ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 \
			net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0
}

# xlb_topo_link NS IF SWPORT BRIDGE: a veth from NS (named IF) to a port
# SWPORT of BRIDGE in the switch namespace.
xlb_topo_link() {
	ip -n "$XLB_NS_SW" link add "$3" type veth peer name "$2" netns "$1" &&
		ip -n "$XLB_NS_SW" link set "$3" master "$4" up &&
		ip -n "$1" link set "$2" up
}

# xlb_topo_addr NS IF V4/LEN V6/LEN
xlb_topo_addr() {
	ip -n "$1" addr add "$3" dev "$2" &&
		ip -n "$1" -6 addr add "$4" dev "$2" nodad
}

xlb_lbc4() { echo "10.10.0.$((1 + $1))"; }
xlb_lbc6() { echo "fd00:10::$((1 + $1))"; }
xlb_lbb4() { echo "10.20.0.$((1 + $1))"; }
xlb_lbb6() { echo "fd00:20::$((1 + $1))"; }
xlb_be4() { echo "10.20.0.$((10 + $1))"; }
xlb_be6() { echo "fd00:20::$((10 + $1))"; }

# xlb_topo_create NLB NBE: builds the topology above. Namespaces are
# $XLB_NS_C, $XLB_NS_SW, ${XLB_NS_LB[1..NLB]}, ${XLB_NS_BE[1..NBE]}.
xlb_topo_create() {
	local nlb="$1" nbe="$2" i sw
	XLB_NS_C="$XLB_PFX-c"
	XLB_NS_SW="$XLB_PFX-sw"
	sw="$XLB_NS_SW"
	xlb_ns_add "$sw" || return 1
	ip netns exec "$sw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	for i in brc brb; do
		ip -n "$sw" link add "$i" type bridge mcast_snooping 0 &&
			ip -n "$sw" link set "$i" up || return 1
	done

	xlb_ns_add "$XLB_NS_C" || return 1
	xlb_topo_link "$XLB_NS_C" eth0 c0 brc &&
		xlb_topo_addr "$XLB_NS_C" eth0 "$XLB_C4/24" "$XLB_C6/64" ||
		return 1

	for ((i = 1; i <= nlb; i++)); do
		XLB_NS_LB[i]="$XLB_PFX-lb$i"
		xlb_ns_add "${XLB_NS_LB[i]}" &&
			ip netns exec "${XLB_NS_LB[i]}" sysctl -qw \
				net.ipv4.ip_forward=1 \
				net.ipv6.conf.all.forwarding=1 \
				net.ipv4.conf.all.send_redirects=0 \
				net.ipv4.conf.default.send_redirects=0 &&
			xlb_topo_link "${XLB_NS_LB[i]}" ethc "l${i}c" brc &&
			xlb_topo_link "${XLB_NS_LB[i]}" ethb "l${i}b" brb &&
			xlb_topo_addr "${XLB_NS_LB[i]}" ethc "$(xlb_lbc4 "$i")/24" \
				"$(xlb_lbc6 "$i")/64" &&
			xlb_topo_addr "${XLB_NS_LB[i]}" ethb "$(xlb_lbb4 "$i")/24" \
				"$(xlb_lbb6 "$i")/64" || return 1
	done

	for ((i = 1; i <= nbe; i++)); do
		XLB_NS_BE[i]="$XLB_PFX-b$i"
		xlb_ns_add "${XLB_NS_BE[i]}" &&
			xlb_topo_link "${XLB_NS_BE[i]}" eth0 "b$i" brb &&
			xlb_topo_addr "${XLB_NS_BE[i]}" eth0 "$(xlb_be4 "$i")/24" \
				"$(xlb_be6 "$i")/64" || return 1
	done
	xlb_topo_route_via 1
}

# xlb_topo_up NLB NBE MODE: the topology (xlb_topo_create NLB NBE), tx
# offload in MODE (xlb_topo_offload), the bpffs, and the backends started
# and answering the client directly. A step that fails is one FAIL line;
# returns 1 then.
xlb_topo_up() {
	if ! xlb_topo_create "$1" "$2" || ! xlb_topo_offload "$3" ||
		! xlb_bpffs_mount; then
		xlb_fail "topology: namespaces, veths and bpffs set up"
		return 1
	fi
	xlb_backends_start
	if ! xlb_backends_wait; then
		xlb_fail "backends answer the client directly"
		return 1
	fi
}

# xlb_topo_route_via I [client|backends|both]: routes the client's VIPs
# and backend LAN, and/or the backends' default route, via LB I.
xlb_topo_route_via() {
	local i="$1" what="${2:-both}" ns
	if [ "$what" != backends ]; then
		ip -n "$XLB_NS_C" route replace "$XLB_VIPNET4" via "$(xlb_lbc4 "$i")" &&
			ip -n "$XLB_NS_C" route replace 10.20.0.0/24 via "$(xlb_lbc4 "$i")" &&
			ip -n "$XLB_NS_C" -6 route replace "$XLB_VIPNET6" via "$(xlb_lbc6 "$i")" &&
			ip -n "$XLB_NS_C" -6 route replace fd00:20::/64 via "$(xlb_lbc6 "$i")" ||
			return 1
	fi
	[ "$what" = client ] && return 0
	for ns in "${XLB_NS_BE[@]}"; do
		ip -n "$ns" route replace default via "$(xlb_lbb4 "$i")" &&
			ip -n "$ns" -6 route replace default via "$(xlb_lbb6 "$i")" ||
			return 1
	done
}

# xlb_topo_offload MODE: tx checksum offload off on every LB veth, so that
# the LB completes checksums in software and receivers verify them. In
# "xdp" mode also on the client's and backends' veths (they then send
# complete checksums, like packets off a wire); in "tc" mode those keep
# offload on, so the tc program meets CHECKSUM_PARTIAL packets.
# In "xdp" mode the switch-side peers of the LB's veths (l<i>c, l<i>b)
# get an XDP program that passes everything (build/bpf/null.bpf.o): the
# RST and the ICMP port unreachable that xlb sends back out of its
# ingress veth (no usable backend) leave with XDP_TX, and a veth delivers
# XDP_TX frames to its peer only when the peer has an XDP program. GRO on
# the peer gives it NAPI, but is not enough for XDP_TX: the frames are
# queued on the peer, whose NAPI is only kicked after XDP_TX if it has a
# program (veth_xdp_flush), so they wait for the next ordinary packet
# (seen here: curl timed out on the RST with GRO on). A real NIC has no
# such condition.
# XLB_COMPLETE_CSUM names the LB veths whose senders then produce
# complete checksums ("ethc,ethb" in "xdp" mode, none in "tc" mode):
# xlb_xlbd_start passes it as --complete-checksums, without which xlbd
# refuses XDP on a veth (and in its default mode gives it tc).
XLB_COMPLETE_CSUM=
xlb_topo_offload() {
	local ns i
	XLB_COMPLETE_CSUM=
	for ns in "${XLB_NS_LB[@]}"; do
		ip netns exec "$ns" ethtool -K ethc tx off >/dev/null &&
			ip netns exec "$ns" ethtool -K ethb tx off >/dev/null ||
			return 1
	done
	[ "$1" = tc ] && return 0
	for i in "${!XLB_NS_LB[@]}"; do
		ip -n "$XLB_NS_SW" link set dev "l${i}c" xdpdrv \
			obj "$XLB_ROOT/build/bpf/null.bpf.o" sec xdp &&
			ip -n "$XLB_NS_SW" link set dev "l${i}b" xdpdrv \
				obj "$XLB_ROOT/build/bpf/null.bpf.o" sec xdp ||
			return 1
	done
	for ns in "$XLB_NS_C" "${XLB_NS_BE[@]}"; do
		ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null || return 1
	done
	XLB_COMPLETE_CSUM=ethc,ethb
}

# Mounts the run's bpffs, with one directory per LB.
xlb_bpffs_mount() {
	local i
	mkdir -p "$XLB_BPFFS" &&
		mount -t bpf bpf "$XLB_BPFFS" || return 1
	for i in "${!XLB_NS_LB[@]}"; do
		mkdir "$XLB_BPFFS/lb$i" || return 1
	done
}

# --- servers and clients ------------------------------------------------

# Starts backend j's HTTP and UDP server, named b<j>.
xlb_backends_start() {
	local j
	for j in "${!XLB_NS_BE[@]}"; do
		xlb_bg "backend$j" "${XLB_NS_BE[j]}" "$XLB_PY" \
			"$XLB_SERVERS/backend.py" "b$j" \
			--http-port "$XLB_HTTP_PORT" --udp-port "$XLB_UDP_PORT"
	done
}

# xlb_http_get HOST PORT: prints the answering backend's name.
xlb_http_get() {
	local h="$1"
	case "$h" in *:*) h="[$h]" ;; esac
	ip netns exec "$XLB_NS_C" curl -sf -g --max-time 2 "http://$h:$2/"
}

# xlb_http_is HOST PORT NAME: the answer from HOST:PORT is NAME.
xlb_http_is() { [ "$(xlb_http_get "$1" "$2")" = "$3" ]; }

# Waits until every backend answers the client directly (HTTP and UDP,
# v4 and v6); returns 1 naming the first that does not.
xlb_backends_wait() {
	local j
	for j in "${!XLB_NS_BE[@]}"; do
		if ! xlb_wait_until 10 xlb_http_is "$(xlb_be4 "$j")" "$XLB_HTTP_PORT" "b$j" ||
			! xlb_wait_until 5 xlb_http_is "$(xlb_be6 "$j")" "$XLB_HTTP_PORT" "b$j" ||
			! xlb_wait_until 5 xlb_udp_is "$(xlb_be4 "$j")" "$XLB_UDP_PORT" "b$j" ||
			! xlb_wait_until 5 xlb_udp_is "$(xlb_be6 "$j")" "$XLB_UDP_PORT" "b$j"; then
			echo "backend b$j does not answer the client directly" >&2
			return 1
		fi
	done
}

# xlb_udp HOST PORT [client.py udp options]: prints the replies.
xlb_udp() {
	local h="$1" p="$2"
	shift 2
	ip netns exec "$XLB_NS_C" timeout 20 "$XLB_PY" "$XLB_SERVERS/client.py" \
		udp "$h" "$p" --timeout 1 "$@"
}

xlb_udp_is() { [ "$(xlb_udp "$1" "$2")" = "$3" ]; }

# xlb_http_burst HOST PORT N: N HTTP requests from the client, one curl
# process, a new connection each (the request says Connection: close).
# Prints one line per request: "NAME HTTP_CODE CONNECTS CLIENT_PORT"
# (HTTP_CODE "000" and no NAME when the request failed).
xlb_http_burst() {
	local h="$1" p="$2" n="$3" list="$XLB_RUN/burst.$$.curl" i
	case "$h" in *:*) h="[$h]" ;; esac
	for ((i = 1; i <= n; i++)); do
		echo "url = \"http://$h:$p/$i\""
	done >"$list"
	ip netns exec "$XLB_NS_C" timeout $((10 + n / 10)) curl -s -g \
		--max-time 3 -H 'Connection: close' \
		-w ' %{http_code} %{num_connects} %{local_port}\n' -K "$list"
	rm -f "$list"
}

# --- xlbd and xlbctl ----------------------------------------------------

# Copies xlbd and xlbctl into the run directory and uses the copies, so
# that a rebuild while the run goes on cannot mix two versions.
xlb_bins_snapshot() {
	mkdir -p "$XLB_RUN/bin" &&
		cp "$XLB_XLBD" "$XLB_XLBCTL" "$XLB_RUN/bin/" || return 1
	XLB_XLBD="$XLB_RUN/bin/xlbd"
	XLB_XLBCTL="$XLB_RUN/bin/xlbctl"
}

# xlb_xlbd_start I MODE CONFIG [ARGS...]: starts xlbd in LB I on both its
# veths with the bpffs directory of LB I, and waits for its "ready:" line.
# MODE is xlbd's --xdp-mode (auto: the default, tc on these veths). With
# XLB_COMPLETE_CSUM set (xlb_topo_offload xdp: every sender's tx offload
# off) it is passed as --complete-checksums, so XDP may attach there.
XLB_XLBD_ARGS=(--ring-slots 65536 --max-services 64 --max-backends 1024
	--ct-entries 65536)
declare -A XLB_XLBD_N=()
xlb_xlbd_start() {
	local i="$1" mode="$2" conf="$3" n log
	shift 3
	n=$((${XLB_XLBD_N[$i]:-0} + 1))
	XLB_XLBD_N[$i]=$n
	log="xlbd-lb$i.$n"
	xlb_bg "$log" "${XLB_NS_LB[i]}" "$XLB_XLBD" --config "$conf" \
		--iface ethc,ethb --xdp-mode "$mode" --bpffs "$XLB_BPFFS/lb$i" \
		${XLB_COMPLETE_CSUM:+--complete-checksums "$XLB_COMPLETE_CSUM"} \
		"${XLB_XLBD_CG[@]}" "${XLB_XLBD_ARGS[@]}" "$@"
	XLB_BG[xlbd$i]="${XLB_BG[$log]}"
	unset "XLB_BG[$log]"
	xlb_wait_until 20 xlb_xlbd_settled "$i" "$XLB_RUN/$log.log"
	if ! xlb_xlbd_ready "$i" "$XLB_RUN/$log.log"; then
		echo "xlbd in LB $i exited or not ready after 20 s; its log:" >&2
		sed 's/^/  /' "$XLB_RUN/$log.log" >&2
		return 1
	fi
}

xlb_xlbd_ready() {
	xlb_bg_alive "xlbd$1" && grep -q 'ready:' "$2"
}

xlb_xlbd_settled() { ! xlb_bg_alive "xlbd$1" || grep -q 'ready:' "$2"; }

xlb_xlbd_log() { echo "$XLB_RUN/xlbd-lb$1.${XLB_XLBD_N[$1]}.log"; }

xlb_xlbd_stop() { xlb_bg_stop "xlbd$1" TERM; }

# xlb_ctl I ARGS...: xlbctl on the maps of LB I.
xlb_ctl() {
	local i="$1"
	shift
	timeout 10 "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/lb$i" "$@"
}

# xlb_jq EXPR: evaluates the Python expression EXPR with d = the JSON
# document read from stdin, and prints the result (lists one per line).
xlb_jq() {
	"$XLB_PY" -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError as e:
    sys.exit("xlb_jq: input is not JSON: %s" % e)
r = eval(sys.argv[1])
if isinstance(r, (list, tuple)):
    print("\n".join(str(x) for x in r))
else:
    print(r)
' "$1"
}
