#!/bin/bash
# xlb against a real kube-apiserver and etcd (built from their Go modules
# by selftests/k8s-real/build.sh, cached outside the repo), on loopback in
# a network namespace of the test.
#
# API server part: version, namespaces, a Node, Services and
# EndpointSlices created with curl and listed back, a least-privilege
# agent user (get/list/watch services, endpointslices, nodes) whose watch
# stream delivers events and whose writes are refused, and server-side
# dry runs (xlb_k8s_dryrun) that accept valid and refuse invalid objects
# without storing them.
#
# Watcher part, when xlbd has --kubeconfig: xlbd in the LB namespace of
# the selftests/lib.sh topology (1 LB, 4 backends) watches the API server
# as the agent user; two namespaces hold a Service "web" each with its
# own cluster IP and backends. Asserts what xlbctl shows and where
# traffic to each cluster IP lands, after the creation, after changes
# (endpoints, conditions, ports, a second slice), with zone hints as the
# Node's zone label changes, for a dual-stack NodePort Service, for a
# Service with 505 EndpointSlices (more than one list page), after
# changes made while xlbd was stopped, across an API server restart,
# after changes made while its API server was away (through another one,
# etcd compacted past them) and after deletions.
#
# When the binaries are not in the cache (selftests/run.sh builds them
# before the tests) this test builds them itself, however long that takes
# (8-15 minutes on 2 busy cores the first time); a build that fails is a
# failure of the test. XLB_K8S_BUILD=0 (a machine without Go; never in CI)
# prints "SKIP: ..." instead of building.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/k8s-real/cluster.sh"

# --- binaries -----------------------------------------------------------
build_log="$XLB_K8S_CACHE/build.log"
if ! "$here/k8s-real/build.sh" --check >/dev/null 2>&1; then
	if [ "${XLB_K8S_BUILD:-1}" = 0 ]; then
		echo "SKIP: real API server test: the control plane $XLB_K8S_VERSION is not in $XLB_K8S_BIN and XLB_K8S_BUILD=0 (run selftests/k8s-real/build.sh)"
		exit 0
	fi
	mkdir -p "$XLB_K8S_CACHE" || exit 1
	echo "# building etcd $XLB_ETCD_VERSION, kube-apiserver and kube-controller-manager $XLB_K8S_VERSION (log $build_log)"
	"$here/k8s-real/build.sh" >"$build_log" 2>&1
	rc=$?
	grep -v '^go: downloading' "$build_log" | tail -n 20 | sed 's/^/# /'
	if [ $rc -ne 0 ]; then
		echo "FAIL: real API server test: the control plane $XLB_K8S_VERSION cannot be built here: $(grep -E 'error|cannot' "$build_log" | tail -n 1)"
		exit 1
	fi
fi

xlb_init
k8s_exit() {
	local rc=$?
	xlb_k8s_stop
	(exit $rc)
	xlb_cleanup
}
trap k8s_exit EXIT

with_watcher=0
if [ -x "$XLB_XLBD" ] && "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --help 2>&1 | grep -q -- --kubeconfig; then
	with_watcher=1
else
	echo "SKIP: real API server test: watcher part: xlbd has no --kubeconfig option; only the API server part runs"
fi

# --- the control plane --------------------------------------------------
agent_token="$(openssl rand -hex 24)"
xlb_k8s_add_token xlb-agent "$agent_token"
if [ $with_watcher = 1 ]; then
	xlb_bins_snapshot || { xlb_fail "copy xlbd and xlbctl"; exit 1; }
	# xlbd's default mode (tc on these veths) with the senders' default
	# offloads (partial checksums) and the LB's own tx offload off, so
	# that the receivers verify what it rewrote (lib.sh).
	xlb_topo_create 1 4 && xlb_topo_offload tc ||
		{ xlb_fail "create the topology"; exit 1; }
	apins="${XLB_NS_LB[1]}"
else
	apins="$XLB_PFX-k8s"
	xlb_ns_add "$apins" || { xlb_fail "create namespace $apins"; exit 1; }
fi
if ! xlb_k8s_start "$XLB_RUN/k8s" "$apins"; then
	xlb_fail "etcd and kube-apiserver $XLB_K8S_VERSION start and become ready"
	exit 1
fi
xlb_pass "etcd and kube-apiserver $XLB_K8S_VERSION ready on $XLB_K8S_URL in $XLB_K8S_READY_MS ms"

# api_as TOKEN METHOD PATH [BODY]: xlb_k8s_api as another user.
api_as() {
	local saved="$XLB_K8S_TOKEN" rc
	XLB_K8S_TOKEN="$1"
	shift
	xlb_k8s_api "$@"
	rc=$?
	XLB_K8S_TOKEN="$saved"
	return $rc
}

# api_ok WHAT METHOD PATH [BODY]: one PASS/FAIL line for a 2xx answer.
api_ok() {
	local what="$1" out
	shift
	if out="$(xlb_k8s_api "$@")"; then
		xlb_pass "$what"
	else
		xlb_fail "$what: $1 $2: $(xlb_jq 'd.get("message", d)' <<<"$out" 2>/dev/null || echo "$out" | head -c 300)"
	fi
}

got="$(xlb_k8s_api GET /version | xlb_jq 'd["gitVersion"]')"
xlb_check_eq "$got" "$XLB_K8S_VERSION" "GET /version: the server is the pinned release"

# --- objects through the API --------------------------------------------
# svc_json NS CLUSTER_IP HTTP_PORT: Service "web" without selector (its
# EndpointSlices are ours, no controller runs), ports http (TCP) and
# dns (UDP).
svc_json() {
	cat <<EOF
{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "web", "namespace": "$1"},
 "spec": {"type": "ClusterIP", "clusterIP": "$2",
  "ports": [{"name": "http", "protocol": "TCP", "port": $3, "targetPort": $XLB_HTTP_PORT},
            {"name": "dns", "protocol": "UDP", "port": 53, "targetPort": $XLB_UDP_PORT}]}}
EOF
}

# slice_json NS NAME IP[=COND][@ZONE]...: an EndpointSlice of Service
# "web" with those endpoints; COND is ready (default), terminating
# (serving, not ready) or notready; ZONE a zone hint. IPv4 unless
# SLICE_AF=IPv6.
slice_json() {
	local ns="$1" name="$2" e ip c h sep= eps=
	shift 2
	for e in "$@"; do
		h=
		case "$e" in *@*)
			h=", \"hints\": {\"forZones\": [{\"name\": \"${e#*@}\"}]}"
			e="${e%@*}" ;;
		esac
		ip="${e%%=*}"
		c=ready
		[ "$e" != "$ip" ] && c="${e#*=}"
		case "$c" in
		ready) c='"ready": true, "serving": true, "terminating": false' ;;
		terminating) c='"ready": false, "serving": true, "terminating": true' ;;
		notready) c='"ready": false, "serving": false, "terminating": false' ;;
		esac
		eps="$eps$sep{\"addresses\": [\"$ip\"], \"conditions\": {$c}, \"nodeName\": \"node-1\"$h}"
		sep=", "
	done
	cat <<EOF
{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
 "metadata": {"name": "$name", "namespace": "$ns",
  "labels": {"kubernetes.io/service-name": "web",
             "endpointslice.kubernetes.io/managed-by": "xlb-selftest"}},
 "addressType": "${SLICE_AF:-IPv4}",
 "ports": [{"name": "http", "protocol": "TCP", "port": $XLB_HTTP_PORT},
           {"name": "dns", "protocol": "UDP", "port": $XLB_UDP_PORT}],
 "endpoints": [$eps]}
EOF
}

ES=/apis/discovery.k8s.io/v1
for ns in team-a team-b; do
	api_ok "create namespace $ns" POST /api/v1/namespaces \
		"{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"$ns\"}}"
done
api_ok "create Node node-1" POST /api/v1/nodes \
	'{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "labels": {"topology.kubernetes.io/zone": "zone-a"}}}'
api_ok "create Service team-a/web (10.96.0.10)" POST /api/v1/namespaces/team-a/services \
	"$(svc_json team-a 10.96.0.10 80)"
api_ok "create Service team-b/web (10.96.0.11)" POST /api/v1/namespaces/team-b/services \
	"$(svc_json team-b 10.96.0.11 80)"
api_ok "create EndpointSlice team-a/web-1 (b1, b2)" POST "$ES/namespaces/team-a/endpointslices" \
	"$(slice_json team-a web-1 "$(xlb_be4 1)" "$(xlb_be4 2)")"
api_ok "create EndpointSlice team-b/web-1 (b3, b4)" POST "$ES/namespaces/team-b/endpointslices" \
	"$(slice_json team-b web-1 "$(xlb_be4 3)" "$(xlb_be4 4)")"

got="$(xlb_k8s_api GET /api/v1/services | xlb_jq \
	'" ".join(sorted("%s/%s=%s:%s" % (s["metadata"]["namespace"], s["metadata"]["name"], s["spec"]["clusterIP"], ",".join(str(p["port"]) for p in s["spec"]["ports"])) for s in d["items"]))')"
xlb_check_eq "$got" "default/kubernetes=10.96.0.1:443 team-a/web=10.96.0.10:80,53 team-b/web=10.96.0.11:80,53" \
	"list Services: ours with their cluster IPs and ports, and the API server's own"
for ns in team-a team-b; do
	got="$(xlb_k8s_api GET "$ES/namespaces/$ns/endpointslices?labelSelector=kubernetes.io/service-name%3Dweb" |
		xlb_jq '" ".join(sorted(e["addresses"][0] for s in d["items"] for e in s["endpoints"]))')"
	[ $ns = team-a ] && want="$(xlb_be4 1) $(xlb_be4 2)" || want="$(xlb_be4 3) $(xlb_be4 4)"
	xlb_check_eq "$got" "$want" "list EndpointSlices of $ns/web by label: their endpoints"
done

# --- the agent user: least privilege --------------------------------------
api_ok "ClusterRole xlb-agent (get/list/watch services, endpointslices, nodes)" \
	POST /apis/rbac.authorization.k8s.io/v1/clusterroles "$(xlb_k8s_agent_role)"
api_ok "ClusterRoleBinding xlb-agent -> user xlb-agent" \
	POST /apis/rbac.authorization.k8s.io/v1/clusterrolebindings "$(xlb_k8s_agent_binding xlb-agent)"
# RBAC caches settle quickly but not instantly.
agent_lists() { api_as "$agent_token" GET "$ES/endpointslices?limit=1" >/dev/null; }
if xlb_wait_until 10 agent_lists; then
	out="$(api_as "$agent_token" GET "$ES/endpointslices?limit=1")"
	got="$(xlb_jq '"%d item, continue token %s" % (len(d["items"]), "set" if d["metadata"].get("continue") else "missing")' <<<"$out")"
	xlb_check_eq "$got" "1 item, continue token set" "agent lists EndpointSlices with limit=1: a page and a continue token"
else
	xlb_fail "agent user may list EndpointSlices: $(api_as "$agent_token" GET "$ES/endpointslices" | head -c 300)"
fi
out="$(api_as "$agent_token" POST /api/v1/namespaces/team-a/services "$(svc_json team-a 10.96.0.20 80)")"
got="$(xlb_jq 'd.get("code")' <<<"$out")"
xlb_check_eq "$got" 403 "agent may not create Services (least privilege)"
out="$(api_as "$agent_token" GET /api/v1/namespaces/team-a/pods)"
xlb_check_eq "$(xlb_jq 'd.get("code")' <<<"$out")" 403 "agent may not list Pods"

# A watch as the agent from the list's resourceVersion sees a change
# made after the list, as one JSON event per line.
rv="$(api_as "$agent_token" GET /api/v1/namespaces/team-b/services | xlb_jq 'd["metadata"]["resourceVersion"]')"
_xlb_k8s_in curl -sN --max-time 15 --cacert "$XLB_K8S_CA" -H "Authorization: Bearer $agent_token" \
	"$XLB_K8S_URL/api/v1/namespaces/team-b/services?watch=1&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=5" \
	>"$XLB_RUN/watch.out" 2>&1 &
watch_pid=$!
sleep 1
api_ok "label Service team-b/web while watched" PATCH /api/v1/namespaces/team-b/services/web \
	'{"metadata": {"labels": {"tier": "front"}}}'
wait $watch_pid
got="$("$XLB_PY" -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] != "BOOKMARK":
        o = e["object"]
        print(e["type"], o["metadata"]["name"], o["metadata"].get("labels", {}).get("tier", "-"))
' "$XLB_RUN/watch.out" 2>&1)"
xlb_check_eq "$got" "MODIFIED web front" "agent's watch from the list's resourceVersion delivers the change"

# --- server-side dry run ----------------------------------------------------
cat >"$XLB_RUN/good.yaml" <<'EOF'
apiVersion: v1
kind: ServiceAccount
metadata:
  name: dry-agent
  namespace: xlb-dry
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: dry-agent
  namespace: xlb-dry
spec:
  selector:
    matchLabels: {app: dry-agent}
  template:
    metadata:
      labels: {app: dry-agent}
    spec:
      serviceAccountName: dry-agent
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations: [{operator: Exists}]
      containers:
      - name: xlbd
        image: xlb:test
        securityContext:
          privileged: true
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: dry-agent
rules: []
EOF
out="$(xlb_k8s_dryrun --prefix "dry run: " "$XLB_RUN/good.yaml")"
rc=$?
echo "$out"
xlb_check_eq "$rc/$(grep -c '^PASS: ' <<<"$out")" 0/3 "dry run: all 3 valid objects accepted"
out="$(xlb_k8s_api GET /apis/apps/v1/namespaces/xlb-dry/daemonsets/dry-agent)"
xlb_check_eq "$(xlb_jq 'd.get("code")' <<<"$out")" 404 "dry run stored nothing (DaemonSet not found afterwards)"
printf '%s\n' 'apiVersion: apps/v1' 'kind: DaemonSet' 'metadata:' '  name: Bad_Name' \
	'spec:' '  selector: {matchLabels: {a: b}}' '  template:' '    metadata: {labels: {a: c}}' \
	'    spec: {containers: []}' >"$XLB_RUN/bad.yaml"
out="$(xlb_k8s_dryrun "$XLB_RUN/bad.yaml")"
rc=$?
if [ $rc = 1 ] && grep -q '^FAIL: DaemonSet default/Bad_Name rejected by the API server: 422' <<<"$out"; then
	xlb_pass "dry run: an invalid DaemonSet is rejected (422) and reported"
else
	xlb_fail "dry run of an invalid DaemonSet: status $rc, output: $out"
fi

if [ $with_watcher = 0 ]; then
	exit $((XLB_NFAIL > 0))
fi

# --- xlbd watching the API server -------------------------------------------
kubeconfig="$XLB_RUN/agent.kubeconfig"
xlb_k8s_kubeconfig "$kubeconfig" xlb-agent "$agent_token"
xlb_backends_start
xlb_backends_wait || { xlb_fail "backends answer the client directly"; exit 1; }
xlb_bpffs_mount || { xlb_fail "mount bpffs"; exit 1; }

# start_xlbd N: xlbd number N (its log xlbdN.log) as the agent user.
start_xlbd() {
	local log="$XLB_RUN/xlbd$1.log"
	xlb_bg "xlbd$1" "${XLB_NS_LB[1]}" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --kubeconfig "$kubeconfig" \
		--node-name node-1 --iface ethc,ethb \
		--bpffs "$XLB_BPFFS/lb1" "${XLB_XLBD_ARGS[@]}"
	xlb_wait_until 30 grep -q 'ready:' "$log"
	if xlb_bg_alive "xlbd$1" && grep -q 'ready:' "$log"; then
		xlb_pass "xlbd $1 --kubeconfig ready: $(grep -m1 'ready:' "$log" | cut -d' ' -f3-)"
	else
		xlb_fail "xlbd $1 --kubeconfig not ready after 30 s; log: $(tail -5 "$log")"
		return 1
	fi
}
# Room for a service with 505 backends.
XLB_XLBD_ARGS=(--ring-slots 262144 --max-services 64 --max-backends 2048
	--ct-entries 65536)
start_xlbd 1 || exit 1

# frontends: "vip:port/proto=ip:port,..." of every service xlbctl shows,
# backends found by service name in the backend list: active ones, and
# terminating ones with "(terminating)" appended.
frontends() {
	local svcs bes
	svcs="$(xlb_ctl 1 -o json service list)" || return 1
	bes="$(xlb_ctl 1 -o json backend list)" || return 1
	"$XLB_PY" -c '
import json, sys
svcs, bes = json.loads(sys.argv[1]), json.loads(sys.argv[2])
out = []
for s in svcs:
    b = sorted("%s:%d%s" % (x["ip"], x["port"],
                            "" if x["state"] == "active" else "(terminating)")
               for x in bes if x["service"] == s["name"] and
               x["state"] in ("active", "terminating"))
    out.append("%s:%d/%s=%s" % (s["vip"], s["port"], s["protocol"], ",".join(b)))
print(" ".join(sorted(out)))
' "$svcs" "$bes"
}

# fe_has WANT...: every WANT is in frontends' output, as a whole word.
fe_has() {
	local f w
	f=" $(frontends) "
	for w in "$@"; do
		[[ "$f" == *" $w "* ]] || return 1
	done
}

# fe_lacks PREFIX...: no frontend starts with PREFIX.
fe_lacks() {
	local f w
	f=" $(frontends) "
	for w in "$@"; do
		[[ "$f" == *" $w"* ]] && return 1
	done
	return 0
}

# check_fe WHAT WANT... [-- LACKS...]
check_fe() {
	local what="$1" want=() lacks=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do want+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	lacks=("$@")
	cond() { fe_has "${want[@]}" && fe_lacks "${lacks[@]}"; }
	if xlb_wait_until "${FE_WAIT:-15}" cond; then
		xlb_pass "$what: xlbctl shows${want:+ ${want[*]}}${want:+${lacks:+ and}}${lacks:+ nothing at ${lacks[*]}}"
	else
		xlb_fail "$what: xlbctl shows: $(frontends); want${want:+ ${want[*]}}${want:+${lacks:+ and}}${lacks:+ nothing at ${lacks[*]}}"
	fi
}

b() { echo "$(xlb_be4 "$1"):$XLB_HTTP_PORT"; }
u() { echo "$(xlb_be4 "$1"):$XLB_UDP_PORT"; }

# lands VIP PORT N: the sorted set of backend names N HTTP requests reach
# (one connection each).
lands() {
	xlb_http_burst "$1" "$2" "$3" | awk '$2 == 200 { print $1 }' | sort -u | xargs
}

# check_lands WHAT VIP PORT WANT_SET: 40 connections (4 when none should
# be answered) reach exactly the backends of WANT_SET.
check_lands() {
	local got n=40
	[ -z "$4" ] && n=4
	got="$(lands "$2" "$3" $n)"
	xlb_check_eq "$got" "$4" "$1: $n connections to $2:$3 reach exactly {$4}"
}

check_fe "created" "10.96.0.10:80/tcp=$(b 1),$(b 2)" "10.96.0.11:80/tcp=$(b 3),$(b 4)" \
	"10.96.0.10:53/udp=$(u 1),$(u 2)" "10.96.0.11:53/udp=$(u 3),$(u 4)"
check_lands "created: team-a/web" 10.96.0.10 80 "b1 b2"
check_lands "created: team-b/web" 10.96.0.11 80 "b3 b4"
got="$(xlb_udp 10.96.0.11 53)"
case "$got" in
b3 | b4) xlb_pass "created: UDP to team-b/web 10.96.0.11:53 answered by $got" ;;
*) xlb_fail "created: UDP to team-b/web 10.96.0.11:53: got '$got', want b3 or b4" ;;
esac

# Changes: team-a loses b1 and gains b3 (another namespace's backend
# address is just an address), b2 terminates; team-b's http port moves
# from 80 to 8081.
api_ok "replace EndpointSlice team-a/web-1 (b2 terminating, b3 ready)" PUT \
	"$ES/namespaces/team-a/endpointslices/web-1" \
	"$(slice_json team-a web-1 "$(xlb_be4 2)=terminating" "$(xlb_be4 3)")"
api_ok "patch Service team-b/web: http port 80 -> 8081" PATCH /api/v1/namespaces/team-b/services/web \
	"{\"spec\": {\"ports\": [{\"name\": \"http\", \"protocol\": \"TCP\", \"port\": 8081, \"targetPort\": $XLB_HTTP_PORT}, {\"name\": \"dns\", \"protocol\": \"UDP\", \"port\": 53, \"targetPort\": $XLB_UDP_PORT}]}}"
check_fe "changed" "10.96.0.10:80/tcp=$(b 2)(terminating),$(b 3)" "10.96.0.11:8081/tcp=$(b 3),$(b 4)" \
	-- "10.96.0.11:80/"
check_lands "changed: team-a/web" 10.96.0.10 80 "b3"
check_lands "changed: team-b/web on its new port" 10.96.0.11 8081 "b3 b4"
check_lands "changed: team-b/web's old port" 10.96.0.11 80 ""

# A second slice of team-b's service adds b1.
api_ok "create EndpointSlice team-b/web-2 (b1)" POST "$ES/namespaces/team-b/endpointslices" \
	"$(slice_json team-b web-2 "$(xlb_be4 1)")"
check_fe "second slice" "10.96.0.11:8081/tcp=$(b 1),$(b 3),$(b 4)"
check_lands "second slice: team-b/web" 10.96.0.11 8081 "b1 b3 b4"

# Two Services asking for one external IP and port (the API allows it;
# one address and port can lead to one place): the first owner keeps
# it, the second loses only that frontend (its cluster IP is
# programmed), with a message naming both and a count.
fe_owner() {
	xlb_ctl 1 -o json service list |
		xlb_jq "([s['name'] for s in d if s['vip'] == '$1' and s['port'] == $2] or [''])[0]"
}
shared_svc() { # shared_svc NS NAME CLUSTER_IP
	svc_json "$1" "$3" 80 | sed "s/\"name\": \"web\"/\"name\": \"$2\"/; s/\"type\": \"ClusterIP\",/\"type\": \"ClusterIP\", \"externalIPs\": [\"192.0.2.7\"],/"
}
api_ok "create Service team-b/ext1 (10.96.0.41, external IP 192.0.2.7)" \
	POST /api/v1/namespaces/team-b/services "$(shared_svc team-b ext1 10.96.0.41)"
check_fe "external IP: its Service" "10.96.0.41:80/tcp=" "192.0.2.7:80/tcp="
api_ok "create Service team-a/ext2 (10.96.0.42, the same external IP and port)" \
	POST /api/v1/namespaces/team-a/services "$(shared_svc team-a ext2 10.96.0.42)"
check_fe "external IP shared: the second Service's cluster IP is programmed" \
	"10.96.0.42:80/tcp=" "10.96.0.41:80/tcp=" "192.0.2.7:80/tcp="
xlb_check_eq "$(fe_owner 192.0.2.7 80)" "team-b/ext1:http/tcp" \
	"external IP shared: the first owner keeps 192.0.2.7:80"
xlb_check "external IP shared: xlbd names the frontend and both Services" \
	grep -q "service team-a/ext2:http/tcp: frontend 192.0.2.7:80/tcp: already used by service team-b/ext1:http/tcp; left out" \
	"$XLB_RUN/xlbd1.log"

# Topology: team-c/zoned prefers its zone (trafficDistribution) and its
# endpoints carry zone hints; the Node's zone label decides.
api_ok "create namespace team-c" POST /api/v1/namespaces \
	'{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-c"}}'
api_ok "create Service team-c/web (10.96.0.12, trafficDistribution PreferClose)" \
	POST /api/v1/namespaces/team-c/services \
	"$(svc_json team-c 10.96.0.12 80 | sed 's/"type": "ClusterIP",/"type": "ClusterIP", "trafficDistribution": "PreferClose",/')"
api_ok "create EndpointSlice team-c/web-1 (b1 hinted zone-a, b2 hinted zone-b)" \
	POST "$ES/namespaces/team-c/endpointslices" \
	"$(slice_json team-c web-1 "$(xlb_be4 1)@zone-a" "$(xlb_be4 2)@zone-b")"
zoned_lands() { [ "$(lands 10.96.0.12 80 10)" = "$1" ]; }
xlb_wait_until 10 zoned_lands b1
check_lands "node in zone-a: team-c/web" 10.96.0.12 80 "b1"
api_ok "patch Node node-1: zone zone-a -> zone-b" PATCH /api/v1/nodes/node-1 \
	'{"metadata": {"labels": {"topology.kubernetes.io/zone": "zone-b"}}}'
xlb_wait_until 15 zoned_lands b2
check_lands "node moved to zone-b: team-c/web" 10.96.0.12 80 "b2"

# Dual stack and a NodePort: team-d/web has an IPv4 and an IPv6 cluster
# IP, a NodePort on every node address, and one slice per family.
api_ok "create namespace team-d" POST /api/v1/namespaces \
	'{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-d"}}'
api_ok "create Service team-d/web (dual stack 10.96.0.13 + fd00:96::13, NodePort 30080)" \
	POST /api/v1/namespaces/team-d/services '{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "web", "namespace": "team-d"},
 "spec": {"type": "NodePort", "ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv4", "IPv6"],
  "clusterIP": "10.96.0.13", "clusterIPs": ["10.96.0.13", "fd00:96::13"],
  "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": '"$XLB_HTTP_PORT"', "nodePort": 30080}]}}'
api_ok "create EndpointSlice team-d/web-v4 (b1, b2)" POST "$ES/namespaces/team-d/endpointslices" \
	"$(slice_json team-d web-v4 "$(xlb_be4 1)" "$(xlb_be4 2)")"
api_ok "create EndpointSlice team-d/web-v6 (b3, b4)" POST "$ES/namespaces/team-d/endpointslices" \
	"$(SLICE_AF=IPv6 slice_json team-d web-v6 "$(xlb_be6 3)" "$(xlb_be6 4)")"
check_fe "dual stack" "10.96.0.13:80/tcp=$(b 1),$(b 2)" \
	"fd00:96::13:80/tcp=$(xlb_be6 3):$XLB_HTTP_PORT,$(xlb_be6 4):$XLB_HTTP_PORT" \
	"$(xlb_lbc4 1):30080/tcp=$(b 1),$(b 2)" \
	"$(xlb_lbc6 1):30080/tcp=$(xlb_be6 3):$XLB_HTTP_PORT,$(xlb_be6 4):$XLB_HTTP_PORT"
check_lands "dual stack: team-d/web over IPv4" 10.96.0.13 80 "b1 b2"
check_lands "dual stack: team-d/web over IPv6" fd00:96::13 80 "b3 b4"
check_lands "NodePort 30080 on the LB's IPv4 address" "$(xlb_lbc4 1)" 30080 "b1 b2"
check_lands "NodePort 30080 on the LB's IPv6 address" "$(xlb_lbc6 1)" 30080 "b3 b4"
api_ok "delete Service team-d/web" DELETE /api/v1/namespaces/team-d/services/web
check_fe "dual stack deleted" -- "10.96.0.13:" "fd00:96::13:" "$(xlb_lbc4 1):30080/" "$(xlb_lbc6 1):30080/"
check_lands "dual stack deleted: NodePort 30080" "$(xlb_lbc4 1)" 30080 ""

# More EndpointSlices than one list page holds (xlbd lists 500 at a
# time): team-e/web has 505 slices of one endpoint each, 10.30.x.y. The
# restarted xlbd below lists them in pages with continue tokens.
bulk_slices() {
	_xlb_k8s_in "$XLB_PY" -c '
import json, ssl, sys, urllib.request
url, ca, tok, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
bad = 0
for i in range(n):
    body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-%d" % i, "namespace": "team-e",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "protocol": "TCP", "port": 8080}],
            "endpoints": [{"addresses": ["10.30.%d.%d" % (i // 250, 1 + i % 250)],
                           "conditions": {"ready": True}}]}
    req = urllib.request.Request(
        url + "/apis/discovery.k8s.io/v1/namespaces/team-e/endpointslices",
        data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + tok,
                 "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, context=ctx, timeout=20).read()
    except Exception as e:
        bad += 1
        last = e
print("%d created" % (n - bad) + ("" if not bad else ", last error %s" % last))
' "$XLB_K8S_URL" "$XLB_K8S_CA" "$XLB_K8S_TOKEN" "$1"
}
n_be() { frontends | tr ' ' '\n' | grep "^$1=" | cut -d= -f2 | tr ',' '\n' | grep -c .; }
n_be_is() { [ "$(n_be "$1")" = "$2" ]; }
api_ok "create namespace team-e" POST /api/v1/namespaces \
	'{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-e"}}'
api_ok "create Service team-e/web (10.96.0.14)" POST /api/v1/namespaces/team-e/services \
	"$(svc_json team-e 10.96.0.14 80 | sed 's/, *{"name": "dns"[^}]*}//')"
got="$(bulk_slices 505)"
xlb_check_eq "$got" "505 created" "create 505 EndpointSlices of team-e/web"
xlb_wait_until 30 n_be_is 10.96.0.14:80/tcp 505
xlb_check_eq "$(n_be 10.96.0.14:80/tcp)" 505 "505 slices, one event each: team-e/web has 505 backends"

# Changes while xlbd is stopped: the next xlbd adopts the pinned maps
# and its first sync removes and changes what it missed.
xlb_bg_stop xlbd1 TERM
xlb_check_eq "$?" 0 "xlbd exits 0 on SIGTERM"
api_ok "while xlbd is stopped: delete Service team-c/web" DELETE /api/v1/namespaces/team-c/services/web
api_ok "while xlbd is stopped: replace EndpointSlice team-b/web-2 (b1 -> b2)" PUT \
	"$ES/namespaces/team-b/endpointslices/web-2" "$(slice_json team-b web-2 "$(xlb_be4 2)")"
start_xlbd 2 || exit 1
check_fe "restarted" "10.96.0.11:8081/tcp=$(b 2),$(b 3),$(b 4)" -- "10.96.0.12:"
# The restarted xlbd keeps the shared external IP with its owner, though
# team-a/ext2 comes first by name.
xlb_check_eq "$(fe_owner 192.0.2.7 80)" "team-b/ext1:http/tcp" \
	"restarted: the shared external IP stays with its first owner"
xlb_check "restarted: the second Service's cluster IP still programmed" fe_has "10.96.0.42:80/tcp="
xlb_check "restarted: the conflict is reported again" \
	grep -q "k8s: service team-a/ext2:http/tcp: frontend 192.0.2.7:80/tcp already used by service team-b/ext1:http/tcp; left out, the rest" \
	"$XLB_RUN/xlbd2.log"
xlb_check_eq "$(n_be 10.96.0.14:80/tcp)" 505 "restarted: paginated list: team-e/web has 505 backends"
check_lands "restarted: team-b/web" 10.96.0.11 8081 "b2 b3 b4"

# The API server restarts: xlbd's watches fail, back off and resume.
if xlb_k8s_apiserver_restart 2; then
	xlb_pass "kube-apiserver restarted (ready again in $XLB_K8S_READY_MS ms)"
else
	xlb_fail "kube-apiserver restarts"
	exit 1
fi
api_ok "after the API server restart: create EndpointSlice team-a/web-2 (b4)" \
	POST "$ES/namespaces/team-a/endpointslices" "$(slice_json team-a web-2 "$(xlb_be4 4)")"
FE_WAIT=45 check_fe "after the API server restart" "10.96.0.10:80/tcp=$(b 2)(terminating),$(b 3),$(b 4)"
check_lands "after the API server restart: team-a/web" 10.96.0.10 80 "b3 b4"

# Changes xlbd cannot see: its API server is down while they are made
# through a second one on another port, and etcd's history is compacted
# past them, so xlbd's resourceVersion is stale or expired when its
# server returns. Whether it gets a 410 and lists again or is sent the
# events, the deletes and changes it missed must be applied.
api_ok "create Service team-e/gone (10.96.0.15)" POST /api/v1/namespaces/team-e/services \
	"$(svc_json team-e 10.96.0.15 80 | sed 's/"name": "web"/"name": "gone"/')"
check_fe "before the outage" "10.96.0.15:80/tcp="
port1="${XLB_K8S_URL##*:}"
xlb_check "stop the API server xlbd watches" xlb_k8s_apiserver_stop
if xlb_k8s_apiserver_start "$(xlb_k8s_free_port)"; then
	xlb_pass "a second API server on ${XLB_K8S_URL##*:} (xlbd knows only $port1)"
else
	xlb_fail "a second API server starts"
	exit 1
fi
api_ok "unseen: delete Service team-e/gone" DELETE /api/v1/namespaces/team-e/services/gone
api_ok "unseen: replace EndpointSlice team-b/web-2 (b2 -> b1)" PUT \
	"$ES/namespaces/team-b/endpointslices/web-2" "$(slice_json team-b web-2 "$(xlb_be4 1)")"
xlb_check "compact etcd up to its current revision" xlb_k8s_etcd_compact
xlb_check "stop the second API server" xlb_k8s_apiserver_stop
if xlb_k8s_apiserver_start "$port1"; then
	xlb_pass "the API server is back on $port1"
else
	xlb_fail "the API server comes back on $port1"
	exit 1
fi
FE_WAIT=60 check_fe "missed while disconnected" "10.96.0.11:8081/tcp=$(b 1),$(b 3),$(b 4)" -- "10.96.0.15:"
check_lands "missed while disconnected: team-b/web" 10.96.0.11 8081 "b1 b3 b4"
echo "# xlbd's log on the outage, lines about a 410:"
grep -E '410|Gone|[Ee]xpired|listing again' "$XLB_RUN/xlbd2.log" | head -n 6 | sed 's/^/#   /'

# Deletions.
api_ok "delete EndpointSlices team-a/web-1 and web-2" DELETE "$ES/namespaces/team-a/endpointslices"
api_ok "delete the 505 EndpointSlices of team-e" DELETE "$ES/namespaces/team-e/endpointslices"
xlb_wait_until 30 n_be_is 10.96.0.14:80/tcp 0
xlb_check_eq "$(n_be 10.96.0.14:80/tcp)" 0 "505 slices deleted: team-e/web has no backend"
api_ok "delete Service team-e/web" DELETE /api/v1/namespaces/team-e/services/web
api_ok "delete Service team-b/web" DELETE /api/v1/namespaces/team-b/services/web
check_fe "deleted" "10.96.0.10:80/tcp=" -- "10.96.0.11:"
check_lands "deleted: team-a/web without endpoints" 10.96.0.10 80 ""
check_lands "deleted: team-b/web" 10.96.0.11 8081 ""
api_ok "delete namespace team-a" DELETE /api/v1/namespaces/team-a
# Without a controller manager the namespace stays Terminating and its
# Service is not removed by anyone: delete it as a namespace controller
# would.
api_ok "delete Service team-a/web" DELETE /api/v1/namespaces/team-a/services/web
check_fe "all deleted" -- "10.96.0.10:" "10.96.0.11:" "10.96.0.14:"
xlb_check "xlbd still running" xlb_bg_alive xlbd2
xlb_bg_stop xlbd2 TERM
xlb_check_eq "$?" 0 "xlbd exits 0 on SIGTERM"
exit $((XLB_NFAIL > 0))
