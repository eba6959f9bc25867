#!/bin/bash
# A two-node Kubernetes cluster built from network namespaces, with the
# real control plane, and one xlbd per node as an operator runs it.
#
#   ext (client) -- router -- LAN (bridge) -- node1, node2, cp
#
# * cp: etcd, kube-apiserver and kube-controller-manager (built by
#   selftests/k8s-real/build.sh), the API server on the LAN at 10.31.0.2;
#   the EndpointSlices come from the real EndpointSlice controller, out of
#   Services with selectors and Pods with labels.
# * node1, node2: eth0 on the LAN; a routed pod network (each node's pod
#   CIDR routed via that node, as flannel host-gw or Calico's BGP would
#   set up); selftests/cluster/kubelet.py plays the kubelet: it registers
#   the Node, attaches each Pod bound to it with the CNI reference plugins
#   (ptp + host-local, Debian's containernetworking-plugins, invoked as a
#   container runtime invokes them), runs its server (name and client
#   address) and writes its status; a deleted Pod drains for its grace
#   period before CNI DEL.
# * xlbd on each node: --kubeconfig (a least-privilege user) --node-name,
#   --iface 'eth0,veth*' as the README tells an operator, and --cgroup the
#   node's cgroup: the node's own processes run in it, its pods in a
#   cgroup each below it.
#
# Checks: the cluster itself (pods get addresses from their node's CIDR
# and reach each other across nodes, the controller's EndpointSlices list
# them with node and conditions); what xlbd on both nodes programs (the
# ClusterIP, NodePort and load-balancer frontends, every ready pod as a
# backend with the right locality, the tc program on eth0 and on every
# pod veth as pods come); and traffic, IPv4 and IPv6, with the pods
# keeping their default offloads (partial checksums) and the nodes'
# egress completing checksums in software, so receivers verify them:
# * pods and host processes to the ClusterIPs through socket-level
#   balancing (TCP, UDP connected and unconnected, local and remote
#   backends, hairpin), and a pod outside the node's cgroup per packet
#   through the tc program on its veth;
# * an external client to NodePorts and load-balancer IPs whose backend
#   is on the node (client address preserved), externalTrafficPolicy
#   Local (nodes without an endpoint drop, healthCheckNodePort answers),
#   and a pod to a Local service's load-balancer IP from a node without
#   an endpoint (balanced as its ClusterIP);
# * readiness flipping a pod out and back in, scaling 3 -> 5 -> 1, a
#   terminating pod keeping its long connection and taking no new one, a
#   connected UDP socket moved off a pod that left.
# * external traffic to a backend on another node, source-NATed to the
#   node's address, and by DSR (xlbd restarted with --dsr ipip: the
#   client's address kept);
# * a load-balancer IP behind an ECMP router over both nodes, Local,
#   source NAT and DSR: connections spread and answered, and a node
#   taken out of the route under 20 established connections (kept with
#   DSR; the ones the node carried break with source NAT and Local: the
#   test logs how many).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/k8s-real/cluster.sh"

if ! "$here/k8s-real/build.sh" --check >/dev/null 2>&1; then
	if [ "${XLB_K8S_BUILD:-1}" = 0 ]; then
		echo "SKIP: cluster test: no control plane in $XLB_K8S_BIN and XLB_K8S_BUILD=0"
		exit 0
	fi
	"$here/k8s-real/build.sh" >/dev/null 2>&1 || {
		echo "FAIL: cluster test: the control plane cannot be built (selftests/k8s-real/build.sh)"
		exit 1
	}
fi
if [ ! -x /usr/lib/cni/ptp ] || [ ! -x /usr/lib/cni/host-local ]; then
	echo "FAIL: cluster test: no CNI plugins in /usr/lib/cni (Debian containernetworking-plugins, tools/deps.sh installs it)"
	exit 1
fi

xlb_init
k8s_exit() {
	local rc=$?
	local n
	for n in 1 2; do
		xlb_bg_stop "kubelet$n" TERM 2>/dev/null
	done
	xlb_k8s_stop
	(exit $rc)
	xlb_cleanup
}
trap k8s_exit EXIT

xlb_bins_snapshot || { xlb_fail "copy xlbd and xlbctl"; exit 1; }

# --- the network ----------------------------------------------------------
LAN4=10.31.0
LAN6=fd00:31:
EXT4=10.41.0
EXT6=fd00:41:
CP4=$LAN4.2
node4() { echo "$LAN4.$((10 + $1))"; }
node6() { echo "${LAN6}:$((10 + $1))"; }
pod4net() { echo "10.244.$1.0/24"; }
pod6net() { echo "fd00:244:$1::/64"; }
NS_R="$XLB_PFX-r"
NS_LAN="$XLB_PFX-lan"
NS_CP="$XLB_PFX-cp"
NS_EXT="$XLB_PFX-ext"
NS_N=([1]="$XLB_PFX-n1" [2]="$XLB_PFX-n2")

# lan_port NS IF: a veth from NS (named IF) to the LAN bridge.
LAN_PORTS=0
lan_port() {
	local port="p$((LAN_PORTS += 1))"
	ip -n "$NS_LAN" link add "$port" type veth peer name "$2" netns "$1" &&
		ip -n "$NS_LAN" link set "$port" master br0 up &&
		ip -n "$1" link set "$2" up
}

# forwarding NS: routes between its interfaces, v4 and v6.
forwarding() {
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
}

build_network() {
	local n m
	for ns in "$NS_R" "$NS_LAN" "$NS_CP" "$NS_EXT" "${NS_N[1]}" "${NS_N[2]}"; do
		xlb_ns_add "$ns" || return 1
	done
	ip netns exec "$NS_LAN" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 &&
		ip -n "$NS_LAN" link add br0 type bridge &&
		ip -n "$NS_LAN" link set br0 up || return 1
	lan_port "$NS_R" lan0 && xlb_topo_addr "$NS_R" lan0 "$LAN4.1/24" "${LAN6}:1/64" &&
		lan_port "$NS_CP" eth0 && xlb_topo_addr "$NS_CP" eth0 "$CP4/24" "${LAN6}:2/64" &&
		ip -n "$NS_CP" route add default via "$LAN4.1" || return 1
	ip -n "$NS_R" link add ext0 type veth peer name eth0 netns "$NS_EXT" &&
		ip -n "$NS_R" link set ext0 up && ip -n "$NS_EXT" link set eth0 up &&
		xlb_topo_addr "$NS_R" ext0 "$EXT4.1/24" "${EXT6}:1/64" &&
		xlb_topo_addr "$NS_EXT" eth0 "$EXT4.2/24" "${EXT6}:2/64" &&
		ip -n "$NS_EXT" route add default via "$EXT4.1" &&
		ip -n "$NS_EXT" -6 route add default via "${EXT6}:1" &&
		forwarding "$NS_R" || return 1
	for n in 1 2; do
		lan_port "${NS_N[n]}" eth0 &&
			xlb_topo_addr "${NS_N[n]}" eth0 "$(node4 $n)/24" "$(node6 $n)/64" &&
			ip -n "${NS_N[n]}" route add default via "$LAN4.1" &&
			ip -n "${NS_N[n]}" -6 route add default via "${LAN6}:1" &&
			forwarding "${NS_N[n]}" || return 1
	done
	for n in 1 2; do
		# Pod CIDRs routed via their node, on the router and the
		# other node.
		ip -n "$NS_R" route add "$(pod4net $n)" via "$(node4 $n)" &&
			ip -n "$NS_R" -6 route add "$(pod6net $n)" via "$(node6 $n)" || return 1
		m=$((3 - n))
		ip -n "${NS_N[m]}" route add "$(pod4net $n)" via "$(node4 $n)" &&
			ip -n "${NS_N[m]}" -6 route add "$(pod6net $n)" via "$(node6 $n)" || return 1
	done
	# Senders keep their default offloads; the nodes' egress towards
	# the LAN completes checksums in software, so receivers verify them.
	for n in 1 2; do
		ip netns exec "${NS_N[n]}" ethtool -K eth0 tx off >/dev/null || return 1
	done
}
build_network || { xlb_fail "build the cluster network"; exit 1; }
xlb_pass "cluster network: router, LAN, control-plane host, 2 nodes, external client"

# --- the control plane ------------------------------------------------------
agent_token="$(openssl rand -hex 24)"
xlb_k8s_add_token xlb-agent "$agent_token"
XLB_K8S_ADDRESS="$CP4"
if ! xlb_k8s_start "$XLB_RUN/k8s" "$NS_CP"; then
	xlb_fail "start etcd and kube-apiserver on $CP4"
	exit 1
fi
xlb_pass "kube-apiserver ready at $XLB_K8S_URL ($XLB_K8S_READY_MS ms)"
if ! xlb_k8s_kcm_start endpointslice,serviceaccount; then
	xlb_fail "start kube-controller-manager"
	exit 1
fi
xlb_pass "kube-controller-manager running (EndpointSlice and ServiceAccount controllers)"

api() { xlb_k8s_api "$@" >/dev/null; }
api_ok() {
	local what="$1"
	shift
	if out="$(xlb_k8s_api "$@")"; then
		xlb_pass "$what"
	else
		xlb_fail "$what: $(echo "$out" | head -c 300)"
	fi
}

api_ok "ClusterRole xlb-agent (get/list/watch services, endpointslices, nodes)" \
	POST /apis/rbac.authorization.k8s.io/v1/clusterroles "$(xlb_k8s_agent_role)"
api_ok "ClusterRoleBinding xlb-agent" \
	POST /apis/rbac.authorization.k8s.io/v1/clusterrolebindings "$(xlb_k8s_agent_binding xlb-agent)"

# --- the nodes ------------------------------------------------------------
echo "$XLB_K8S_TOKEN" >"$XLB_RUN/admin.token"
# One cgroup per node, standing for its cgroup v2 root: the node's xlbd
# attaches its socket hooks there, its host processes run in it and its
# pods in a cgroup each below it (as a runtime puts pods under kubepods).
mkdir "$XLB_CGROUP/node1" "$XLB_CGROUP/node2" || { xlb_fail "node cgroups"; exit 1; }
# A kubelet runs in its node's network namespace and in the machine's
# mount namespace (not the private one `ip netns exec` makes), so that the
# pods' namespaces it adds under /run/netns are there for the test too.
for n in 1 2; do
	xlb_bg "kubelet$n" "${NS_N[n]}" nsenter --mount="/proc/$$/ns/mnt" \
		"$XLB_PY" "$here/cluster/kubelet.py" \
		--server "$XLB_K8S_URL" --ca "$XLB_K8S_CA" \
		--token-file "$XLB_RUN/admin.token" --node "node$n" \
		--node-ip "$(node4 $n),$(node6 $n)" \
		--pod-cidrs "$(pod4net $n),$(pod6net $n)" --zone "zone-$n" \
		--state-dir "$XLB_RUN/kubelet$n" --netns-prefix "$XLB_PFX" \
		--backend "$XLB_SERVERS/backend.py" --cgroup "$XLB_CGROUP/node$n"
done
nodes_ready() {
	[ "$(xlb_k8s_api GET /api/v1/nodes | xlb_jq 'len([x for x in d["items"] if any(c["type"] == "Ready" and c["status"] == "True" for c in x["status"].get("conditions", []))])')" = 2 ]
}
if xlb_wait_until 20 nodes_ready; then
	xlb_pass "both nodes registered and Ready"
else
	xlb_fail "nodes not registered: $(tail -3 "$XLB_RUN/kubelet1.log")"
	exit 1
fi

mkdir -p "$XLB_BPFFS" && mount -t bpf bpf "$XLB_BPFFS" &&
	mkdir "$XLB_BPFFS/n1" "$XLB_BPFFS/n2" || { xlb_fail "mount a bpffs"; exit 1; }
xlb_k8s_kubeconfig "$XLB_RUN/agent.kubeconfig" xlb-agent "$agent_token"
# node1 serves NodePorts on every address (the default), node2 on its
# primary ones (--nodeport-addresses primary, kube-proxy nftables' default).
NP_ARGS=([1]="" [2]="--nodeport-addresses=primary")
# start_xlbd N [ARGS...]: xlbd on node N as an operator runs it, its log
# in $XLB_RUN/xlbdN.log.
start_xlbd() {
	local n="$1"
	shift
	xlb_bg "xlbd$n" "${NS_N[n]}" "$XLB_XLBD" --kubeconfig "$XLB_RUN/agent.kubeconfig" \
		${NP_ARGS[n]} \
		--node-name "node$n" --iface 'eth0,veth*' --bpffs "$XLB_BPFFS/n$n" \
		--cgroup "$XLB_CGROUP/node$n" \
		--metrics-address none "${XLB_XLBD_ARGS[@]}" "$@"
}
for n in 1 2; do
	start_xlbd $n
done
for n in 1 2; do
	if xlb_wait_until 30 grep -q 'ready:' "$XLB_RUN/xlbd$n.log" && xlb_bg_alive "xlbd$n"; then
		xlb_pass "xlbd on node$n ready: $(grep -m1 'ready:' "$XLB_RUN/xlbd$n.log" | cut -d' ' -f3-)"
	else
		xlb_fail "xlbd on node$n not ready: $(tail -3 "$XLB_RUN/xlbd$n.log")"
		exit 1
	fi
done

# --- workloads ------------------------------------------------------------
api_ok "namespace shop" POST /api/v1/namespaces '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}'
# Pods need the namespace's default ServiceAccount, which the
# ServiceAccount controller makes.
sa_made() { xlb_k8s_api GET /api/v1/namespaces/shop/serviceaccounts/default >/dev/null; }
xlb_wait_until 15 sa_made
xlb_check_eq "$?" 0 "ServiceAccount controller made shop/default"
# pod NAME NODE [GRACE [LABELS]]: a Pod bound to NODE, labelled app=web
# unless LABELS (a JSON object) says otherwise.
pod() {
	local labels="${4:-}"
	[ -n "$labels" ] || labels='{"app": "web"}'
	api_ok "pod $1 on $2" POST /api/v1/namespaces/shop/pods "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",
 \"metadata\": {\"name\": \"$1\", \"labels\": $labels},
 \"spec\": {\"nodeName\": \"$2\", \"terminationGracePeriodSeconds\": ${3:-1},
  \"containers\": [{\"name\": \"web\", \"image\": \"xlb-test/backend\",
   \"ports\": [{\"containerPort\": 8080, \"protocol\": \"TCP\"}, {\"containerPort\": 9000, \"protocol\": \"UDP\"}]}]}}"
}
api_ok "Service shop/web (NodePort, dual stack, selector app=web)" \
	POST /api/v1/namespaces/shop/services '{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "web"},
 "spec": {"type": "NodePort", "ipFamilyPolicy": "RequireDualStack", "selector": {"app": "web"},
  "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
            {"name": "dns", "port": 53, "targetPort": 9000, "protocol": "UDP"}]}}'
svc="$(xlb_k8s_api GET /api/v1/namespaces/shop/services/web)"
vip4="$(echo "$svc" | xlb_jq '[i for i in d["spec"]["clusterIPs"] if ":" not in i][0]')"
vip6="$(echo "$svc" | xlb_jq '[i for i in d["spec"]["clusterIPs"] if ":" in i][0]')"
nodeport="$(echo "$svc" | xlb_jq '[p["nodePort"] for p in d["spec"]["ports"] if p["name"] == "http"][0]')"
xlb_log "cluster IPs $vip4 $vip6, NodePort $nodeport"

pod web-a node1 1 '{"app": "web", "tier": "one"}'
pod web-b node2
pod web-c node2 12
# Clients: pods of their own app, on both nodes.
pod cli-1 node1 1 '{"app": "client"}'
pod cli-2 node2 1 '{"app": "client"}'
pod raw-1 node1 1 '{"app": "client"}'

# pod_ip NAME FAMILY(4|6): the pod's address from its status.
pod_ip() {
	xlb_k8s_api GET "/api/v1/namespaces/shop/pods/$1" |
		xlb_jq "([i['ip'] for i in d['status'].get('podIPs', []) if (':' in i['ip']) == ($2 == 6)] or [''])[0]"
}
pods_running() {
	local p
	for p in "$@"; do
		[ -n "$(pod_ip "$p" 4)" ] || return 1
	done
}
if xlb_wait_until 30 pods_running web-a web-b web-c cli-1 cli-2 raw-1; then
	xlb_pass "6 pods running with addresses"
else
	xlb_fail "pods not running: $(tail -5 "$XLB_RUN/kubelet1.log")"
	exit 1
fi
declare -A IP4 IP6 NODE=([web-a]=1 [web-b]=2 [web-c]=2 [cli-1]=1 [cli-2]=2 [raw-1]=1)
for p in web-a web-b web-c cli-1 cli-2 raw-1; do
	IP4[$p]="$(pod_ip "$p" 4)"
	IP6[$p]="$(pod_ip "$p" 6)"
	n="${NODE[$p]}"
	case "${IP4[$p]}" in 10.244.$n.*) xlb_pass "$p: IPv4 ${IP4[$p]} from node$n's pod CIDR" ;;
	*) xlb_fail "$p: IPv4 ${IP4[$p]} not in $(pod4net $n)" ;; esac
	case "${IP6[$p]}" in fd00:244:$n:*) xlb_pass "$p: IPv6 ${IP6[$p]} from node$n's pod CIDR" ;;
	*) xlb_fail "$p: IPv6 ${IP6[$p]} not in $(pod6net $n)" ;; esac
done

# The pod network routes across nodes: node1 reaches pods on node2, and a
# pod sees the node's address (no translation on the way).
got="$(xlb_ns "${NS_N[1]}" curl -s --max-time 3 "http://${IP4[web-b]}:8080/")"
xlb_check_eq "$got" "web-b $(node4 1)" "node1 -> web-b on node2 (IPv4, routed pod network): name and node1's address"
got="$(xlb_ns "${NS_N[1]}" curl -s --max-time 3 "http://[${IP6[web-c]}]:8080/")"
xlb_check_eq "$got" "web-c $(node6 1)" "node1 -> web-c on node2 (IPv6)"

# --- what the EndpointSlice controller published --------------------------------
ES=/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices
# slice_eps FAMILY: "ip node ready serving terminating" of every endpoint
# of the Service's slices of that family, sorted.
slice_eps() {
	xlb_k8s_api GET "$ES?labelSelector=kubernetes.io/service-name%3Dweb" | xlb_jq "
sorted('%s %s %s %s %s' % (e['addresses'][0], e.get('nodeName'),
  e['conditions'].get('ready'), e['conditions'].get('serving'), e['conditions'].get('terminating'))
  for s in d['items'] if s['addressType'] == 'IPv$1' for e in s.get('endpoints') or [])"
}
want_eps() {
	local fam="$1" p
	shift
	for p in "$@"; do
		if [ "$fam" = 4 ]; then
			echo "${IP4[$p]} node${NODE[$p]} True True False"
		else
			echo "${IP6[$p]} node${NODE[$p]} True True False"
		fi
	done | sort
}
eps_are() { [ "$(slice_eps "$1")" = "$(want_eps "$@")" ]; }
for fam in 4 6; do
	xlb_wait_until 15 eps_are $fam web-a web-b web-c
	xlb_check_eq "$(slice_eps $fam | tr '\n' ';')" "$(want_eps $fam web-a web-b web-c | tr '\n' ';')" \
		"EndpointSlice controller: IPv$fam slice lists the 3 pods with their nodes, ready"
done

# --- what xlbd programmed on each node -------------------------------------------
# be_of NODE SVC: "ip port state local" of the service's backends in
# node NODE's maps, sorted.
be_of() {
	xlb_ns "${NS_N[$1]}" timeout 10 "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/n$1" -o json backend list |
		xlb_jq "sorted('%s %s %s %s' % (b['ip'], b['port'], b['state'], str(b['local']).lower()) for b in d if b['service'] == '$2')"
}
# want_be NODE FAMILY PORT [STATE:]POD...: the backends node NODE should have.
want_be() {
	local node="$1" fam="$2" port="$3" p st ip
	shift 3
	for p in "$@"; do
		st=active
		case "$p" in *:*) st="${p%%:*}"; p="${p#*:}" ;; esac
		if [ "$fam" = 4 ]; then ip="${IP4[$p]}"; else ip="${IP6[$p]}"; fi
		if [ "${NODE[$p]}" = "$node" ]; then
			echo "$ip $port $st true"
		else
			echo "$ip $port $st false"
		fi
	done | sort
}
HTTP4="shop/web:http/tcp"
HTTP6="shop/web:http/tcp/v6"
DNS4="shop/web:dns/udp"
be_are() {
	local node="$1" svcname="$2" fam="$3" port="$4"
	shift 4
	[ "$(be_of "$node" "$svcname")" = "$(want_be "$node" "$fam" "$port" "$@")" ]
}
# check_be WHAT POD...: every node's http (v4, v6) and dns (v4) services
# have exactly these backends.
check_be() {
	local what="$1" n
	shift
	for n in 1 2; do
		xlb_wait_until 15 be_are $n "$HTTP4" 4 8080 "$@"
		xlb_check_eq "$(be_of $n "$HTTP4" | tr '\n' ';')" "$(want_be $n 4 8080 "$@" | tr '\n' ';')" \
			"$what: node$n's $HTTP4 backends"
		xlb_wait_until 5 be_are $n "$HTTP6" 6 8080 "$@"
		xlb_check_eq "$(be_of $n "$HTTP6" | tr '\n' ';')" "$(want_be $n 6 8080 "$@" | tr '\n' ';')" \
			"$what: node$n's $HTTP6 backends"
		xlb_wait_until 5 be_are $n "$DNS4" 4 9000 "$@"
		xlb_check_eq "$(be_of $n "$DNS4" | tr '\n' ';')" "$(want_be $n 4 9000 "$@" | tr '\n' ';')" \
			"$what: node$n's $DNS4 backends"
	done
}
check_be "3 pods" web-a web-b web-c

# Frontends: the cluster IPs and the NodePort on every address of the
# node (as kube-proxy's default: its LAN address and the pod gateway
# addresses ptp put on the pods' host-side veths).
fe_of() {
	xlb_ns "${NS_N[$1]}" timeout 10 "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/n$1" -o json service list |
		xlb_jq "sorted('%s %s %s %s' % (s['kind'], s['vip'], s['port'], s['protocol']) for s in d if s['name'] == '$HTTP4' or s['name'] == '$HTTP6')"
}
got="$(fe_of 1 | tr '\n' ';')"
want="$({
	echo "cluster-ip $vip4 80 tcp"
	echo "cluster-ip $vip6 80 tcp"
	ip -n "${NS_N[1]}" -o addr show scope global |
		awk -v p="$nodeport" '{ sub("/.*", "", $4); print "node-port " $4 " " p " tcp" }'
} | sort -u | tr '\n' ';')"
xlb_check_eq "$got" "$want" "node1: frontends of shop/web http: cluster IPs and the NodePort on every address of node1"
got="$(fe_of 2 | tr '\n' ';')"
want="$(printf '%s\n' "cluster-ip $vip4 80 tcp" "cluster-ip $vip6 80 tcp" \
	"node-port $(node4 2) $nodeport tcp" "node-port $(node6 2) $nodeport tcp" | sort | tr '\n' ';')"
xlb_check_eq "$got" "$want" "node2 (--nodeport-addresses primary): the NodePort on its default routes' source addresses only"

# --- the programs on each device ---------------------------------------------
# --iface 'eth0,veth*': eth0 and every pod's host-side veth, the ones ptp
# made after xlbd started included, get the tc program (veths hand over
# partial checksums, so auto mode gives them tc, not native XDP).
tc_devs() {
	ip netns exec "${NS_N[$1]}" bpftool -j net show |
		xlb_jq "sorted(set(t['devname'] for e in d for t in e.get('tc', []) if t.get('name', '').split(':')[0] == 'xlb_tc' and t.get('kind', '').endswith('/ingress')))"
}
node_devs() {
	{ echo eth0; ip -n "${NS_N[$1]}" -o link show type veth | awk -F': ' '{ sub("@.*", "", $2); print $2 }' | grep '^veth'; } | sort -u
}
for n in 1 2; do
	xlb_wait_until 5 test "$(tc_devs $n)" = "$(node_devs $n)"
	xlb_check_eq "$(tc_devs $n | paste -sd' ')" "$(node_devs $n | paste -sd' ')" \
		"node$n: the tc program on eth0 and on every pod veth ($(node_devs $n | grep -c veth) veths, all made after xlbd started)"
done

# --- traffic from pods and host processes: socket-level balancing ---------------
CLIENT="$XLB_SERVERS/socklb_client.py"
# in_pod POD ARGS...: socklb_client.py ARGS run as the pod's application
# (its network namespace and its cgroup, under its node's).
in_pod() {
	local p="$1" ns cg
	shift
	read -r ns cg <"$XLB_RUN/kubelet${NODE[$p]}/$p.env"
	xlb_cg_exec "$cg" "$ns" timeout 60 "$XLB_PY" "$CLIENT" "$@"
}
# raw_pod POD ARGS...: the same in the pod's namespace from outside any
# node's cgroup: its packets meet the tc program on the pod's veth.
raw_pod() {
	local p="$1" ns cg
	shift
	read -r ns cg <"$XLB_RUN/kubelet${NODE[$p]}/$p.env"
	ip netns exec "$ns" timeout 60 "$XLB_PY" "$CLIENT" "$@"
}
# on_host N ARGS...: a process of node N itself (the node's cgroup).
on_host() {
	local n="$1"
	shift
	xlb_cg_exec "$XLB_CGROUP/node$n" "${NS_N[n]}" timeout 60 "$XLB_PY" "$CLIENT" "$@"
}
from_ext() { ip netns exec "$NS_EXT" timeout 60 "$XLB_PY" "$CLIENT" "$@"; }
# Reading socklb_client.py's lines "ok NAME SEEN peer=ADDR:PORT ms=T".
n_ok() { grep -c '^ok ' <<<"$1"; }
names() { awk '$1 == "ok" { print $2 }' <<<"$1" | sort -u | paste -sd' '; }
seen() { awk '$1 == "ok" { print $3 }' <<<"$1" | sort -u | paste -sd' '; }
peers() { awk '$1 == "ok" { print $4 }' <<<"$1" | sort -u | paste -sd' '; }
errs() { awk '$1 == "err" { print $2 }' <<<"$1" | sort | uniq -c | awk '{ print $1 " " $2 }' | paste -sd' '; }
# expect WHAT OUT N NAMES SEEN PEER: N answers, from exactly NAMES (a
# pattern when it holds a *), the backends saw SEEN, getpeername() (or
# recvfrom()) gave PEER.
expect() {
	local what="$1" out="$2" n="$3" nm="$4" sn="$5" pr="$6"
	local got="$(n_ok "$out") answers from $(names "$out"), seen $(seen "$out"), peer $(peers "$out")"
	local want="$n answers from $nm, seen $sn, peer peer=$pr"
	# shellcheck disable=SC2053
	if [[ "$got" == $want ]]; then
		xlb_pass "$what: $got"
	else
		xlb_fail "$what: got $got${out:+ ($(errs "$out"))}, want $want"
	fi
}
SVC3="web-a web-b web-c"

out="$(in_pod cli-1 tcp "$vip4" 80 30)"
expect "pod cli-1 (node1) -> ClusterIP $vip4:80, 30 connections: local and remote backends, the pod's own address" \
	"$out" 30 "$SVC3" "${IP4[cli-1]}" "$vip4:80"
out="$(in_pod cli-1 tcp "$vip6" 80 30)"
expect "pod cli-1 -> ClusterIP [$vip6]:80 (IPv6)" "$out" 30 "$SVC3" "${IP6[cli-1]}" "$vip6:80"
out="$(in_pod cli-2 tcp "$vip4" 80 30)"
expect "pod cli-2 (node2) -> ClusterIP $vip4:80" "$out" 30 "$SVC3" "${IP4[cli-2]}" "$vip4:80"
out="$(in_pod cli-2 tcp "$vip6" 80 20)"
expect "pod cli-2 -> ClusterIP [$vip6]:80" "$out" 20 "web-*" "${IP6[cli-2]}" "$vip6:80"
out="$(in_pod cli-1 udp "$vip4" 53 20)"
expect "pod cli-1 -> ClusterIP $vip4:53/udp, a connected socket each" "$out" 20 "$SVC3" "${IP4[cli-1]}" "$vip4:53"
out="$(in_pod cli-1 udpu "$vip4" 53 20)"
expect "pod cli-1 -> $vip4:53/udp on one unconnected socket (a resolver): answers come from the ClusterIP" \
	"$out" 20 "web-?" "${IP4[cli-1]}" "$vip4:53"
out="$(in_pod cli-2 udpu "$vip6" 53 20)"
expect "pod cli-2 -> [$vip6]:53/udp, unconnected" "$out" 20 "web-?" "${IP6[cli-2]}" "$vip6:53"
for n in 1 2; do
	out="$(on_host $n tcp "$vip4" 80 10)"
	expect "node$n's own process -> ClusterIP $vip4:80" "$out" 10 "web-*" "*" "$vip4:80"
	out="$(on_host $n udpu "$vip6" 53 10)"
	expect "node$n's own process -> [$vip6]:53/udp, unconnected" "$out" 10 "web-*" "*" "$vip6:53"
done
out="$(in_pod web-a tcp "$vip4" 80 30)"
expect "pod web-a -> its own Service: itself among the backends (hairpin)" "$out" 30 "$SVC3" "${IP4[web-a]}" "$vip4:80"

# --- a pod's packets outside socket-level balancing: tc on its veth -------------
# raw-1 keeps its default offloads (partial checksums); what it sends to
# the ClusterIP is DNATed by the tc program on its veth, the replies
# reverse-NATed where they enter its node (eth0 from node2, the backend
# pod's veth from node1).
out="$(raw_pod raw-1 tcp "$vip4" 80 30)"
expect "raw-1, outside the cgroup -> ClusterIP $vip4:80 per packet (tc on its veth)" \
	"$out" 30 "$SVC3" "${IP4[raw-1]}" "$vip4:80"
out="$(raw_pod raw-1 tcp "$vip6" 80 20)"
expect "raw-1 -> [$vip6]:80 per packet" "$out" 20 "web-*" "${IP6[raw-1]}" "$vip6:80"
out="$(raw_pod raw-1 udp "$vip4" 53 20)"
expect "raw-1 -> $vip4:53/udp per packet" "$out" 20 "web-*" "${IP4[raw-1]}" "$vip4:53"

# --- from outside: NodePorts and load-balancer IPs with a local backend --------
# edge and edge-local select web-a only (tier=one, on node1), with the
# external traffic policies Cluster and Local. Their load-balancer IPs are
# written into their status as a load-balancer controller would, and the
# router sends them to node1, as a BGP speaker announcing them would.
# The external client's requests reach web-a through node1's eth0 (DNAT
# by its tc program), web-a's replies enter node1 through its veth
# (reverse NAT there) and leave eth0 from the frontend's address; the
# client's address is preserved. (A backend on another node needs source
# NAT, which is not built yet.)
LB4=10.50.0
LB6=fd00:50:
# lb_svc NAME POLICY N [SELECTOR]: a LoadBalancer Service over tier=one
# (or SELECTOR, a JSON object) with the load-balancer IPs $LB4.N and
# $LB6:N.
lb_svc() {
	local sel="${4:-}"
	[ -n "$sel" ] || sel='{"app": "web", "tier": "one"}'
	api_ok "Service shop/$1 (LoadBalancer, externalTrafficPolicy $2, selector $sel)" \
		POST /api/v1/namespaces/shop/services "{\"apiVersion\": \"v1\", \"kind\": \"Service\",
 \"metadata\": {\"name\": \"$1\"},
 \"spec\": {\"type\": \"LoadBalancer\", \"externalTrafficPolicy\": \"$2\", \"ipFamilyPolicy\": \"RequireDualStack\",
  \"selector\": $sel,
  \"ports\": [{\"name\": \"http\", \"port\": 80, \"targetPort\": 8080, \"protocol\": \"TCP\"}]}}"
	api_ok "shop/$1: load-balancer IPs $LB4.$3 ${LB6}:$3 in its status" \
		PATCH "/api/v1/namespaces/shop/services/$1/status" \
		"{\"status\": {\"loadBalancer\": {\"ingress\": [{\"ip\": \"$LB4.$3\"}, {\"ip\": \"${LB6}:$3\"}]}}}"
}
lb_svc edge Cluster 10
lb_svc edge-local Local 11
ip -n "$NS_R" route add "$LB4.0/24" via "$(node4 1)" &&
	ip -n "$NS_R" -6 route add "${LB6}:/64" via "$(node6 1)"
xlb_check_eq "$?" 0 "router: load-balancer IPs routed to node1"
svc_field() {
	xlb_k8s_api GET "/api/v1/namespaces/shop/services/$1" |
		xlb_jq "$2"
}
np_edge="$(svc_field edge 'd["spec"]["ports"][0]["nodePort"]')"
np_local="$(svc_field edge-local 'd["spec"]["ports"][0]["nodePort"]')"
hc_local="$(svc_field edge-local 'd["spec"].get("healthCheckNodePort", "")')"
xlb_log "NodePorts edge $np_edge, edge-local $np_local, healthCheckNodePort $hc_local"
# lb_programmed NODE SVC IP: node NODE has the load-balancer frontend IP of SVC.
lb_programmed() {
	xlb_ns "${NS_N[$1]}" timeout 10 "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/n$1" -o json service list |
		xlb_jq "any(s['kind'] == 'load-balancer' and s['vip'] == '$3' for s in d if s['name'].startswith('shop/$2:'))" |
		grep -qx True
}
for n in 1 2; do
	xlb_wait_until 15 lb_programmed $n edge-local "${LB6}:11" && lb_programmed $n edge "$LB4.10"
	xlb_check_eq "$?" 0 "node$n: the load-balancer IPs of edge and edge-local programmed"
done
EXT4C="$EXT4.2"
EXT6C="${EXT6}:2"
out="$(from_ext tcp "$(node4 1)" "$np_edge" 20)"
expect "external client -> node1:$np_edge (NodePort, Cluster, backend on node1): client address kept" \
	"$out" 20 web-a "$EXT4C" "$(node4 1):$np_edge"
out="$(from_ext tcp "$(node6 1)" "$np_edge" 20)"
expect "external client -> [$(node6 1)]:$np_edge (IPv6 NodePort)" "$out" 20 web-a "$EXT6C" "$(node6 1):$np_edge"
out="$(from_ext tcp "$LB4.10" 80 20)"
expect "external client -> load-balancer IP $LB4.10:80" "$out" 20 web-a "$EXT4C" "$LB4.10:80"
out="$(from_ext tcp "${LB6}:10" 80 20)"
expect "external client -> load-balancer IP [${LB6}:10]:80" "$out" 20 web-a "$EXT6C" "${LB6}:10:80"
out="$(from_ext tcp "$(node4 1)" "$np_local" 20)"
expect "external client -> node1:$np_local (NodePort, Local, endpoint on node1)" \
	"$out" 20 web-a "$EXT4C" "$(node4 1):$np_local"
out="$(from_ext tcp "$LB4.11" 80 20)"
expect "external client -> load-balancer IP $LB4.11:80 (Local)" "$out" 20 web-a "$EXT4C" "$LB4.11:80"
out="$(from_ext tcp "${LB6}:11" 80 10)"
expect "external client -> load-balancer IP [${LB6}:11]:80 (Local)" "$out" 10 web-a "$EXT6C" "${LB6}:11:80"
out="$(from_ext tcp "$(node4 2)" "$np_local" 3)"
xlb_check_eq "$(n_ok "$out") $(errs "$out")" "0 3 ETIMEDOUT" \
	"external client -> node2:$np_local (Local, no endpoint on node2): dropped"
out="$(from_ext tcp "$(node6 2)" "$np_local" 2)"
xlb_check_eq "$(n_ok "$out") $(errs "$out")" "0 2 ETIMEDOUT" \
	"external client -> [$(node6 2)]:$np_local (Local, IPv6): dropped"
# Cluster policy, backend on another node: node2 source-NATs to its own
# address (a port of --snat-ports, default 61000-65535), web-a's reply
# comes back to node2 and is restored to the frontend there.
out="$(from_ext tcp "$(node4 2)" "$np_edge" 100)"
expect "external client -> node2:$np_edge (Cluster, backend on node1): source NAT to node2's address" \
	"$out" 100 web-a "$(node4 2)" "$(node4 2):$np_edge"
out="$(from_ext tcp "$(node6 2)" "$np_edge" 100)"
expect "external client -> [$(node6 2)]:$np_edge (IPv6, source NAT)" "$out" 100 web-a "$(node6 2)" "$(node6 2):$np_edge"
snat_of() {
	xlb_ns "${NS_N[2]}" timeout 10 "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/n2" -o json conntrack list |
		xlb_jq "sorted(set('%s:%s' % (e.get('snat_ip'), e.get('snat_port')) for e in d if e.get('snat_ip') == '$(node4 2)'))" | head -3
}
xlb_check "node2's conntrack shows the translations to $(node4 2):61000-65535 ($(snat_of | paste -sd' '))" \
	sh -c "[ -n \"\$1\" ] && ! echo \"\$1\" | awk -F: '\$NF < 61000 || \$NF > 65535 { bad = 1 } END { exit !bad }'" - "$(snat_of)"

# healthCheckNodePort: what a cloud load balancer probes to send traffic
# only to nodes with a local endpoint.
for n in 1 2; do
	got="$(ip netns exec "$NS_EXT" curl -s --max-time 3 -w ' %{http_code}' "http://$(node4 $n):$hc_local/" |
		sed 's/.*"localEndpoints": *\([0-9]*\).* \([0-9]*\)$/\1 \2/')"
	want="1 200"
	[ $n = 2 ] && want="0 503"
	xlb_check_eq "$got" "$want" "healthCheckNodePort $hc_local on node$n: local endpoints and status"
done
# From inside the cluster an external frontend is served as the
# ClusterIP: node2 has no endpoint of edge-local, its pod still gets one.
out="$(in_pod cli-2 tcp "$LB4.11" 80 10)"
expect "pod cli-2 on node2 -> load-balancer IP $LB4.11 of edge-local (Local, no endpoint on node2): balanced as the ClusterIP" \
	"$out" 10 web-a "${IP4[cli-2]}" "$LB4.11:80"
out="$(on_host 2 tcp "$(node4 2)" "$np_local" 5)"
expect "node2's own process -> its NodePort $np_local of edge-local" "$out" 5 web-a "*" "$(node4 2):$np_local"

# --- load-balancer IPs across nodes behind ECMP ----------------------------------
# The router spreads a load-balancer IP over both nodes with a multipath
# route hashed on L4 (fib_multipath_hash_policy=1), as a router fed by
# BGP would. spread-local (externalTrafficPolicy Local, every web pod):
# each node serves what it gets with its own pods, and the client's
# address is kept.
ip netns exec "$NS_R" sysctl -qw net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1
# ecmp_svc NAME POLICY N: lb_svc over every web pod, its load-balancer
# IPs routed over both nodes and programmed on both.
ecmp_svc() {
	local n
	lb_svc "$1" "$2" "$3" '{"app": "web"}'
	ip -n "$NS_R" route add "$LB4.$3/32" nexthop via "$(node4 1)" nexthop via "$(node4 2)" &&
		ip -n "$NS_R" -6 route add "${LB6}:$3/128" nexthop via "$(node6 1)" nexthop via "$(node6 2)"
	xlb_check_eq "$?" 0 "router: $LB4.$3 and ${LB6}:$3 over both nodes (ECMP, L4 hash)"
	for n in 1 2; do
		xlb_wait_until 15 lb_programmed $n "$1" "${LB6}:$3" && lb_programmed $n "$1" "$LB4.$3"
		xlb_check_eq "$?" 0 "node$n: $1's load-balancer IPs programmed"
	done
}
ecmp_svc spread-local Local 21
out="$(from_ext tcp "$LB4.21" 80 200)"
expect "ECMP, Local: 200 connections to $LB4.21 spread over both nodes' pods, client address kept" \
	"$out" 200 "$SVC3" "$EXT4C" "$LB4.21:80"
out="$(from_ext tcp "${LB6}:21" 80 100)"
expect "ECMP, Local: 100 connections to [${LB6}:21]" "$out" 100 "$SVC3" "$EXT6C" "${LB6}:21:80"
# A node leaves the route (its BGP session went down): the router moves
# the connections it carried to the other node, which has no record of
# them. ecmp_move IP: 20 keep-alive connections to IP, then node1 taken
# out of IP's route, a request on each, node1 put back; sets MOVED (of
# the 20 on node1: their backends saw node1 or its client) and KEPT (the
# connections answered again by their backend).
ecmp_move() {
	local ip="$1" i pids=() first second
	rm -f "$XLB_RUN/ecmp.go"
	for i in $(seq 20); do
		from_ext hold "$ip" 80 "$XLB_RUN/ecmp.go" >"$XLB_RUN/ecmp.$i.out" 2>&1 &
		pids+=($!)
	done
	ecmp_first() { local i; for i in $(seq 20); do grep -q . "$XLB_RUN/ecmp.$i.out" || return 1; done; }
	xlb_wait_until 15 ecmp_first
	ip -n "$NS_R" route replace "$ip/32" via "$(node4 2)"
	touch "$XLB_RUN/ecmp.go"
	wait "${pids[@]}"
	KEPT=0
	for i in $(seq 20); do
		first="$(awk '{ print $1 " " $2; exit }' "$XLB_RUN/ecmp.$i.out")"
		second="$(sed -n 2p "$XLB_RUN/ecmp.$i.out" | cut -d' ' -f1-2)"
		[ "$first" = "$second" ] && [ "${first%% *}" = ok ] && KEPT=$((KEPT + 1))
	done
	ip -n "$NS_R" route replace "$ip/32" nexthop via "$(node4 1)" nexthop via "$(node4 2)"
}
ecmp_move "$LB4.21"
xlb_check "ECMP, Local, node1 out of the route: connections node2 carried kept ($KEPT of 20 kept)" \
	test "$KEPT" -ge 1
xlb_log "ECMP, Local, node1 out of the route: $((20 - KEPT)) of 20 connections broke: those node1 carried (its pod web-a); node2 has no record of them, and its Local ring holds only its own pods"

# spread: externalTrafficPolicy Cluster over every web pod, first with
# source NAT (the default), then with DSR (xlbd --dsr ipip on both
# nodes): the rings are the same on both nodes, so a node that gets a
# moved connection picks the backend the other node had picked.
ecmp_svc spread Cluster 20
out="$(from_ext tcp "$LB4.20" 80 200)"
expect "ECMP, Cluster, source NAT: 200 connections to $LB4.20 answered by every pod" \
	"$out" 200 "$SVC3" "*" "$LB4.20:80"
out="$(from_ext tcp "${LB6}:20" 80 100)"
expect "ECMP, Cluster, source NAT: 100 connections to [${LB6}:20]" "$out" 100 "$SVC3" "*" "${LB6}:20:80"
ecmp_move "$LB4.20"
xlb_log "ECMP, Cluster, source NAT, node1 out of the route: $KEPT of 20 connections kept, $((20 - KEPT)) broke (those node1 carried: their backend knows them by node1's address and port)"
xlb_check "ECMP, Cluster, source NAT, node1 out of the route: node2's connections kept ($KEPT of 20)" \
	test "$KEPT" -ge 1

# --- direct server return ---------------------------------------------------------
# The mode applies to new flows. The client's kernel hands out the source
# ports of the connections above again (same destination, same port
# sequence): their entries were closed by FIN, so such a SYN is a new
# flow, balanced with DSR, not taken for the old source-NATed one.
for n in 1 2; do
	xlb_bg_stop "xlbd$n" TERM
	start_xlbd $n --dsr ipip
done
for n in 1 2; do
	xlb_wait_until 30 grep -q 'ready:' "$XLB_RUN/xlbd$n.log" && xlb_bg_alive "xlbd$n"
	xlb_check_eq "$?" 0 "node$n: xlbd restarted with --dsr ipip"
done
out="$(from_ext tcp "$(node4 2)" "$np_edge" 100)"
expect "DSR: external client -> node2:$np_edge (backend on node1): the client's address kept" \
	"$out" 100 web-a "$EXT4C" "$(node4 2):$np_edge"
out="$(from_ext tcp "$(node6 2)" "$np_edge" 100)"
expect "DSR: external client -> [$(node6 2)]:$np_edge (IPv6)" "$out" 100 web-a "$EXT6C" "$(node6 2):$np_edge"
out="$(from_ext tcp "$LB4.20" 80 200)"
expect "ECMP, Cluster, DSR: 200 connections to $LB4.20 answered by every pod, client address kept" \
	"$out" 200 "$SVC3" "$EXT4C" "$LB4.20:80"
out="$(from_ext tcp "${LB6}:20" 80 100)"
expect "ECMP, Cluster, DSR: 100 connections to [${LB6}:20]" "$out" 100 "$SVC3" "$EXT6C" "${LB6}:20:80"
ecmp_move "$LB4.20"
xlb_check_eq "$KEPT" 20 "ECMP, Cluster, DSR, node1 out of the route: every connection kept its backend"
dsr_stat() {
	xlb_ns "${NS_N[$1]}" timeout 10 "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/n$1" -o json stats |
		xlb_jq "d['outcomes']['$2']['packets']"
}
xlb_log "DSR counters: node1 dsr_encap $(dsr_stat 1 dsr_encap) dsr_decap $(dsr_stat 1 dsr_decap) dsr_mismatch $(dsr_stat 1 dsr_mismatch); node2 dsr_encap $(dsr_stat 2 dsr_encap) dsr_decap $(dsr_stat 2 dsr_decap) dsr_mismatch $(dsr_stat 2 dsr_mismatch)"

# --- readiness, scaling, termination ----------------------------------------------
ready() {
	api_ok "$1 Ready=$2" PATCH "/api/v1/namespaces/shop/pods/$1/status" \
		"{\"status\": {\"conditions\": [{\"type\": \"Ready\", \"status\": \"$2\"}, {\"type\": \"ContainersReady\", \"status\": \"$2\"}]}}"
}
# A pod that is not ready takes no new flow and keeps the ones it has
# (kube-proxy drops it from its rules, conntrack keeps its connections):
# xlb's terminating state, not serving.
ready web-b False
check_be "web-b not ready" web-a terminating:web-b web-c
out="$(in_pod cli-1 tcp "$vip4" 80 30)"
expect "web-b not ready: 30 new connections from cli-1, none to web-b" "$out" 30 "web-a web-c" "${IP4[cli-1]}" "$vip4:80"
ready web-b True
check_be "web-b ready again" web-a web-b web-c
out="$(in_pod cli-1 tcp "$vip4" 80 30)"
expect "web-b ready again: it takes new connections" "$out" 30 "$SVC3" "${IP4[cli-1]}" "$vip4:80"

pod web-d node1
pod web-e node2
if xlb_wait_until 30 pods_running web-d web-e; then
	NODE[web-d]=1
	NODE[web-e]=2
	for p in web-d web-e; do
		IP4[$p]="$(pod_ip "$p" 4)"
		IP6[$p]="$(pod_ip "$p" 6)"
	done
	check_be "scaled to 5" web-a web-b web-c web-d web-e
else
	xlb_fail "web-d, web-e not running"
fi
SVC5="web-a web-b web-c web-d web-e"
out="$(in_pod cli-2 tcp "$vip4" 80 60)"
expect "scaled to 5: 60 connections from cli-2 reach all 5" "$out" 60 "$SVC5" "${IP4[cli-2]}" "$vip4:80"
out="$(in_pod cli-1 tcp "$vip6" 80 60)"
expect "scaled to 5: 60 IPv6 connections from cli-1 reach all 5" "$out" 60 "$SVC5" "${IP6[cli-1]}" "$vip6:80"

# Before scaling down: a long keep-alive connection from cli-1 that
# landed on web-c (which will drain), and a UDP socket of cli-1 connected
# to a pod that will go (anything but web-b).
# bg_client NAME POD ARGS...: socklb_client.py in the pod, in the
# background, its lines in $XLB_RUN/NAME.out; waits for the first.
bg_client() {
	local name="$1" p="$2" ns cg
	shift 2
	read -r ns cg <"$XLB_RUN/kubelet${NODE[$p]}/$p.env"
	rm -f "$XLB_RUN/$name.out"
	xlb_cg_exec "$cg" "$ns" timeout 90 "$XLB_PY" "$CLIENT" "$@" >"$XLB_RUN/$name.out" 2>&1 &
	BG_PID=$!
	xlb_wait_until 5 grep -q '^ok\|^err' "$XLB_RUN/$name.out"
	BG_FIRST="$(awk '$1 == "ok" { print $2; exit }' "$XLB_RUN/$name.out")"
}
rm -f "$XLB_RUN/hold.1" "$XLB_RUN/hold.2" "$XLB_RUN/stale.go"
for try in $(seq 40); do
	bg_client hold cli-1 hold "$vip4" 80 "$XLB_RUN/hold.1" "$XLB_RUN/hold.2"
	[ "$BG_FIRST" = web-c ] && break
	kill "$BG_PID" 2>/dev/null
	wait "$BG_PID" 2>/dev/null
done
hold_pid=$BG_PID
xlb_check_eq "$BG_FIRST" web-c "a keep-alive connection from cli-1 to the ClusterIP on web-c ($try tries)"
for try in $(seq 10); do
	bg_client stale cli-1 stale "$vip4" 53 "$XLB_RUN/stale.go"
	[ -n "$BG_FIRST" ] && [ "$BG_FIRST" != web-b ] && break
	kill "$BG_PID" 2>/dev/null
	wait "$BG_PID" 2>/dev/null
done
stale_pid=$BG_PID
stale_be="$BG_FIRST"
xlb_check "a connected UDP socket of cli-1 to $vip4:53 on $stale_be (not web-b)" \
	test -n "$stale_be" -a "$stale_be" != web-b
destroyed() {
	xlb_ns "${NS_N[1]}" timeout 10 "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/n1" -o json stats |
		xlb_jq "d['outcomes']['sock_destroyed']['packets']"
}
destroyed0="$(destroyed)"

# Scale down to 1; web-c drains for 12 s: terminating, then gone.
api "DELETE" /api/v1/namespaces/shop/pods/web-a
api "DELETE" /api/v1/namespaces/shop/pods/web-d
api "DELETE" /api/v1/namespaces/shop/pods/web-e
api "DELETE" /api/v1/namespaces/shop/pods/web-c '{"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 12}'
check_be "web-c terminating (draining 12 s), others gone" web-b terminating:web-c
touch "$XLB_RUN/hold.1"
xlb_wait_until 5 test "$(grep -c . "$XLB_RUN/hold.out")" -ge 2
xlb_check_eq "$(sed -n 2p "$XLB_RUN/hold.out" | cut -d' ' -f1-2)" "ok web-c" \
	"web-c terminating: cli-1's long connection still answered by web-c"
out="$(in_pod cli-1 tcp "$vip4" 80 20)"
expect "web-c terminating: it takes no new connection" "$out" 20 web-b "${IP4[cli-1]}" "$vip4:80"
check_be "scaled to 1" web-b
xlb_wait_until 10 test "$(destroyed)" -gt "$destroyed0"
touch "$XLB_RUN/stale.go" "$XLB_RUN/hold.2"
wait "$stale_pid"
wait "$hold_pid"
after="$(sed 1d "$XLB_RUN/stale.out")"
xlb_check "cli-1's UDP socket to $stale_be destroyed once $stale_be left (sock_destroyed $destroyed0 -> $(destroyed)); the application saw an error, reconnected and got web-b ($(paste -sd'|' <<<"$after"))" \
	test "$(head -1 <<<"$after" | cut -d' ' -f1)" = err -a \
	"$(awk '$1 == "ok" { print $2 }' <<<"$after")" = web-b
xlb_check_eq "$(sed -n 3p "$XLB_RUN/hold.out" | cut -d' ' -f1)" err \
	"web-c gone: cli-1's long connection to it ended ($(sed -n 3p "$XLB_RUN/hold.out"))"
out="$(in_pod web-b tcp "$vip4" 80 10)"
expect "web-b, the last pod, -> its own Service: itself (hairpin)" "$out" 10 web-b "${IP4[web-b]}" "$vip4:80"
out="$(in_pod cli-1 tcp "$vip6" 80 10)"
expect "scaled to 1: cli-1 -> [$vip6]:80" "$out" 10 web-b "${IP6[cli-1]}" "$vip6:80"

xlb_log "kubelet and xlbd logs: $XLB_RUN (kept with XLB_SAVE_LOGS=DIR)"
echo "$XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ]
