#!/bin/bash
# xlb in one command: installs what is missing, builds, then builds a
# small network of namespaces (a client, a load balancer, three backends),
# runs xlbd on the load balancer with examples/demo.json, sends traffic to
# the VIPs and shows how it was spread. Removes everything it made when it
# ends, also on Ctrl-C.
#
#   sudo tools/demo.sh [native|tc]    (XDP native, the default, or tc)
#
# The addresses (10.x, fd00::/8) exist only inside the namespaces.
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-native}"
case "$mode" in
native | tc) ;;
*)
	echo "usage: $0 [native|tc]" >&2
	exit 2
	;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "error: run as root: it creates network namespaces and loads BPF programs" >&2
	exit 1
fi

. "$root/tools/deps.sh"
echo "== installing missing packages and building (build/)"
xlb_install_deps || exit 1
xlb_build || exit 1

. "$root/selftests/lib.sh"
xlb_init
conf="$root/examples/demo.json"
requests=60

echo "== network namespaces (prefix $XLB_PFX)"
xlb_topo_create 1 3 || exit 1
if [ "$mode" = native ]; then
	xlb_topo_offload xdp || exit 1
else
	xlb_topo_offload tc || exit 1
fi
xlb_bpffs_mount || exit 1
cat <<EOF
   client   $XLB_C4 $XLB_C6
   xlb      ${XLB_NS_LB[1]}: xlbd --xdp-mode $mode on ethc (client side), ethb (backend side)
   b1 b2 b3 $(xlb_be4 1) .. $(xlb_be4 3), $(xlb_be6 1) .. $(xlb_be6 3): HTTP on :$XLB_HTTP_PORT, UDP echo on :$XLB_UDP_PORT
   VIPs     $XLB_VIP4 and $XLB_VIP6, routed by the client via the load balancer
EOF

echo "== starting the backends"
xlb_backends_start
if ! xlb_backends_wait; then
	echo "error: the backends do not answer; logs in $XLB_RUN" >&2
	exit 1
fi

echo "== starting xlbd with examples/demo.json"
xlb_xlbd_start 1 "$mode" "$conf" || exit 1
grep -h 'ready:' "$(xlb_xlbd_log 1)" | sed 's/^/   /'

echo "== $requests HTTP requests to each VIP, a new connection each"
xlb_http_burst "$XLB_VIP4" 80 "$requests" >"$XLB_RUN/v4.out"
xlb_http_burst "$XLB_VIP6" 80 "$requests" >"$XLB_RUN/v6.out"
"$XLB_PY" - "$conf" "$XLB_RUN/v4.out" "$XLB_RUN/v6.out" <<'EOF'
import json, sys
conf = json.load(open(sys.argv[1]))
web = next(s for s in conf["services"] if s["name"] == "web")
weight = {"b%d" % (int(b["ip"].split(".")[-1]) - 10): b.get("weight", 1)
          for b in web["backends"]}
count = {}
failed = 0
for fam, path in (("v4", sys.argv[2]), ("v6", sys.argv[3])):
    for line in open(path):
        f = line.split()
        if len(f) == 4 and f[1] == "200":
            count[(f[0], fam)] = count.get((f[0], fam), 0) + 1
        else:
            failed += 1
total = sum(count.values())
wsum = sum(weight.values())
print("   %-8s %6s %6s %6s %7s %9s" % ("backend", "weight", "IPv4", "IPv6",
                                      "share", "expected"))
for b in sorted(weight):
    n4, n6 = count.get((b, "v4"), 0), count.get((b, "v6"), 0)
    print("   %-8s %6d %6d %6d %6.0f%% %8.0f%%" % (
        b, weight[b], n4, n6, 100.0 * (n4 + n6) / max(total, 1),
        100.0 * weight[b] / wsum))
print("   %d requests answered, %d failed" % (total, failed))
EOF

echo "== UDP through the VIPs (the client's socket is connected to the VIP)"
for vip in "$XLB_VIP4" "$XLB_VIP6"; do
	if reply=$(xlb_udp "$vip" 9000); then
		echo "   $vip port 9000: reply from $reply"
	else
		echo "   $vip port 9000: no reply"
	fi
done

echo "== socket-level balancing: the same client as a member of the cgroup xlbd's"
echo "   socket hooks are attached to ($XLB_CGROUP, made for this demo)"
for i in 1 2 3 4 5 6; do
	xlb_cg_exec "$XLB_CGROUP" "$XLB_NS_C" "$XLB_PY" \
		"$XLB_SERVERS/socklb_client.py" tcp "$XLB_VIP4" 80
done | awk '{ print "   connect() to the VIP went straight to " $2 ", getpeername() says " $3 }'
echo "   (no per-packet NAT for these: xlbctl stats counts them as sock_balanced)"

echo "== xlbctl service list"
xlb_ctl 1 service list | sed 's/^/   /'
echo "== xlbctl maglev show web (the share of the table each backend holds)"
xlb_ctl 1 maglev show web | sed 's/^/   /'
echo "== xlbctl stats"
xlb_ctl 1 stats | sed 's/^/   /'
echo "== done; removing the namespaces"
