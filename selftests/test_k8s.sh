#!/bin/bash
# xlbd as a Kubernetes agent against a fake API server
# (selftests/k8s/fake_apiserver.py) that serves real object shapes from
# selftests/k8s/fixtures over TLS with a bearer token: paginated lists,
# watch streams split mid-line, bookmarks, a watch cut in the middle of
# an event, clean watch ends, in-stream and HTTP 410s with objects
# deleted while the watch was down, and a token rotation answered by a
# 401. After each step the checks are on what `xlbctl -o json` shows.
set -u
. "$(dirname "$0")/lib.sh"
xlb_init

FIX="$XLB_ROOT/selftests/k8s/fixtures/scenarios"
FAKE="$XLB_ROOT/selftests/k8s/fake_apiserver.py"
ns="$XLB_PFX-k"
pins="$XLB_BPFFS/k"
api=6443
ctlport=18080
tokfile="$XLB_RUN/token"
kc="$XLB_RUN/kubeconfig"

xlb_ns_add "$ns" || { xlb_fail "create namespace"; exit 1; }
ip -n "$ns" link add v0 type veth peer name v1 && ip -n "$ns" link set v0 up &&
	ip -n "$ns" link set v1 up && ip -n "$ns" addr add 192.168.77.1/24 dev v0 ||
	{ xlb_fail "create links"; exit 1; }
mkdir -p "$XLB_BPFFS" && mount -t bpf bpf "$XLB_BPFFS" ||
	{ xlb_fail "mount bpffs"; exit 1; }

# --- certificates, token, kubeconfig -----------------------------------
mkcert() {	# NAME: a self-signed certificate for 127.0.0.1
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=xlb-fake-$1" \
		-addext "subjectAltName=IP:127.0.0.1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-keyout "$XLB_RUN/$1.key" -out "$XLB_RUN/$1.crt" >/dev/null 2>&1
}
mkcert api && mkcert other && mkcert client ||
	{ xlb_fail "openssl: make certificates"; exit 1; }
echo "token-one" >"$tokfile"
write_kc() {	# FILE CA
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$api
    certificate-authority: $2
contexts:
- name: fake
  context:
    cluster: fake
    user: agent
current-context: fake
users:
- name: agent
  user:
    tokenFile: $tokfile
EOF
}
write_kc "$kc" "$XLB_RUN/api.crt"

# --- objects --------------------------------------------------------------
obj() {	# SRC [python statements on d]: a fixture, edited
	"$XLB_PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2])
print(json.dumps(d))' "$1" "${2:-}"
}
obj "$FIX/headless/Service-echo.clusterip-none.json" \
	'd["metadata"]["name"] = "headless"' >"$XLB_RUN/headless.json"
obj "$FIX/source-ranges/Service-echo.json" \
	'd["metadata"]["name"] = "sr"' >"$XLB_RUN/sr.json"
obj "$FIX/source-ranges/EndpointSlice-echo-kvlm2.json" \
	'd["metadata"]["name"] = "sr-1"; d["metadata"]["labels"]["kubernetes.io/service-name"] = "sr"' \
	>"$XLB_RUN/sr-slice.json"
obj "$FIX/trafficpolicy/Service-echo.tp-local.json" \
	'd["spec"]["healthCheckNodePort"] = 32100' >"$XLB_RUN/echo-hc.json"
obj "$FIX/trafficpolicy/EndpointSlice-echo-kvlm2.json" \
	'd["endpoints"] = d["endpoints"][:1]' >"$XLB_RUN/echo-slice-1.json"
obj "$FIX/topology-aware/Service-echo.json" \
	'd["metadata"]["name"] = "topo"; d["spec"]["clusterIP"] = d["spec"]["clusterIPs"][0] = "10.96.50.200"' \
	>"$XLB_RUN/topo.json"
for i in 1 2; do
	obj "$FIX/topology-aware/EndpointSlice-echo-eps$i.json" \
		'd["metadata"]["labels"]["kubernetes.io/service-name"] = "topo"; d["metadata"]["name"] = "topo-'$i'"' \
		>"$XLB_RUN/topo-$i.json"
done
node() {	# ZONE
	echo '{"metadata": {"name": "testnode", "labels": {"kubernetes.io/hostname": "testnode", "topology.kubernetes.io/zone": "'"$1"'"}}, "spec": {}, "status": {}}'
}
node foo >"$XLB_RUN/node.json"
node other-zone-node | sed 's/"testnode"/"othernode"/g' >"$XLB_RUN/node2.json"

xlb_bg fake "$ns" "$XLB_PY" "$FAKE" --port "$api" --ctl-port "$ctlport" \
	--cert "$XLB_RUN/api.crt" --key "$XLB_RUN/api.key" --token token-one \
	--page-max 2 --client-ca "$XLB_RUN/client.crt" --load \
	services="$FIX/dualstack/Service-echo-dualstack.json" \
	endpointslices="$FIX/dualstack/EndpointSlice-echo-dualstack-bhgnn.json" \
	endpointslices="$FIX/dualstack/EndpointSlice-echo-dualstack-mchrt.json" \
	services="$FIX/graceful-termination/Service-graceful-term-svc.json" \
	endpointslices="$FIX/graceful-termination/EndpointSlice-graceful-term-svc-pg7nd.json" \
	services="$XLB_RUN/echo-hc.json" \
	endpointslices="$FIX/trafficpolicy/EndpointSlice-echo-kvlm2.json" \
	services="$XLB_RUN/headless.json" \
	services="$XLB_RUN/topo.json" \
	endpointslices="$XLB_RUN/topo-1.json" endpointslices="$XLB_RUN/topo-2.json" \
	nodes="$XLB_RUN/node.json" nodes="$XLB_RUN/node2.json"
ctl_up() { xlb_ns "$ns" curl -sf "http://127.0.0.1:$ctlport/stats" >/dev/null; }
xlb_wait_until 10 ctl_up || { xlb_fail "fake API server did not start: $(tail -3 "$XLB_RUN/fake.log")"; exit 1; }

fctl() {	# PATH [FILE]: POST to the fake server's control port
	if [ -n "${2:-}" ]; then
		xlb_ns "$ns" curl -sf -X POST --data-binary "@$2" "http://127.0.0.1:$ctlport$1"
	else
		xlb_ns "$ns" curl -sf -X POST "http://127.0.0.1:$ctlport$1"
	fi >/dev/null
}
fstat() { xlb_ns "$ns" curl -sf "http://127.0.0.1:$ctlport/stats" | xlb_jq "$1"; }
fge() { [ "$(fstat "d[\"$1\"]")" -ge "$2" ]; }	# COUNTER N
ctl() { timeout 10 "$XLB_XLBCTL" --bpffs "$pins" -o json "$@"; }

# What xlbctl shows, as short lines: services "name kind vip port flags",
# backends "service ip port state weight" (a backend that takes no new
# flows, weight 0 included, is "terminating" in the map).
svcs() { ctl service list | xlb_jq '[" ".join([s["name"], s["kind"], s["vip"], str(s["port"]), ",".join(s["flags"])]) for s in d]'; }
bes() { ctl backend list | xlb_jq '[" ".join([b["service"], b["ip"], str(b["port"]), b["state"], str(b["weight"])]) for b in d]'; }
has_svc() { svcs | grep -xF "$1" >/dev/null; }
no_svc() { ! svcs | grep "^$1 " >/dev/null; }
has_be() { bes | grep -xF "$1" >/dev/null; }
no_be() { ! bes | grep "^$1 $2 " >/dev/null; }
expect() {	# WHAT TIMEOUT CMD...
	local what="$1" t="$2"
	shift 2
	if xlb_wait_until "$t" "$@"; then
		xlb_pass "$what"
	else
		xlb_fail "$what: not after ${t}s: $*; services: $(svcs | tr '\n' ';') backends: $(bes | tr '\n' ';') log: $(tail -3 "$log" | tr '\n' ';')"
	fi
}

# --- flags ----------------------------------------------------------------
out="$("$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config /dev/null --kubeconfig "$kc" --iface v0 2>&1)"
st=$?
xlb_check "a config file and Kubernetes together are refused (status $st)" \
	test "$st" -eq 2
xlb_check "... saying why" grep -q "different sources" <<<"$out"
out="$(KUBERNETES_SERVICE_HOST= "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --in-cluster --iface v0 2>&1)"
xlb_check "--in-cluster without a service account names the token file" \
	grep -q "in-cluster: token /var/run/secrets/kubernetes.io/serviceaccount/token" <<<"$out"

# --- TLS verification -----------------------------------------------------
write_kc "$XLB_RUN/kc-wrong-ca" "$XLB_RUN/other.crt"
# -q keeps warnings only: a failed verification and verification turned
# off must both be seen there.
xlb_bg wrongca "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --kubeconfig "$XLB_RUN/kc-wrong-ca" \
	--node-name testnode --iface v1 --bpffs "$XLB_BPFFS/w" -q
expect "a server certificate the CA did not sign is refused" 10 \
	grep -q "SSL certificate problem\|certificate verify failed" "$XLB_RUN/wrongca.log"
xlb_check "... and nothing is programmed" sh -c "! grep -q 'ready:' $XLB_RUN/wrongca.log"
xlb_check "... logged as a warning, also under -q" \
	grep -q "warn: k8s: .*: the API server's certificate could not be verified); retrying in" \
	"$XLB_RUN/wrongca.log"
xlb_bg_stop wrongca TERM
xlb_bg insecure "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --kubeconfig "$XLB_RUN/kc-wrong-ca" \
	--node-name testnode --iface v1 --bpffs "$XLB_BPFFS/w" -q \
	--k8s-insecure-skip-tls-verify
expect "--k8s-insecure-skip-tls-verify: the same server is accepted" 20 \
	grep -q "ready:" "$XLB_RUN/insecure.log"
xlb_check "... with a warning that verification is off, also under -q" \
	grep -q "warn: k8s: TLS verification of https://127.0.0.1:$api is off (--k8s-insecure-skip-tls-verify)" \
	"$XLB_RUN/insecure.log"
xlb_bg_stop insecure TERM
sed 's/^    certificate-authority: .*/    insecure-skip-tls-verify: true/' \
	"$XLB_RUN/kc-wrong-ca" >"$XLB_RUN/kc-insecure"
xlb_bg kcinsecure "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --kubeconfig "$XLB_RUN/kc-insecure" \
	--node-name testnode --iface v1 --bpffs "$XLB_BPFFS/w" -q
expect "kubeconfig insecure-skip-tls-verify: accepted, with a warning under -q" 20 \
	grep -q "warn: k8s: TLS verification of https://127.0.0.1:$api is off (insecure-skip-tls-verify in the kubeconfig)" \
	"$XLB_RUN/kcinsecure.log"
xlb_bg_stop kcinsecure TERM
xlb_ns "$ns" "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/w" detach --iface v1 >/dev/null 2>&1

# --- in-cluster: service account files, KUBERNETES_SERVICE_HOST/PORT ------
# In a private mount namespace, a tmpfs on /run holds the pod's view:
# /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}, and a
# bpffs of its own. Its /run hides the run's cgroup: no socket hooks.
sa="$XLB_RUN/sa"
mkdir -p "$sa" && cp "$tokfile" "$sa/token" && cp "$XLB_RUN/api.crt" "$sa/ca.crt"
xlb_bg incluster "$ns" unshare -m --propagation private sh -c '
	t="$(cat "$1/token")" c="$(cat "$1/ca.crt")" && shift &&
	mount -t tmpfs tmpfs /run &&
	d=/var/run/secrets/kubernetes.io/serviceaccount && mkdir -p "$d" /run/pins &&
	printf "%s\n" "$t" >"$d/token" && printf "%s\n" "$c" >"$d/ca.crt" &&
	mount -t bpf bpf /run/pins &&
	KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT='"$api"' \
		exec "$@" --in-cluster --node-name testnode --iface v1 --bpffs /run/pins/i \
		--socket-lb off' \
	sh "$sa" "$XLB_XLBD"
expect "--in-cluster: token, CA and KUBERNETES_SERVICE_HOST/PORT reach the API server" 20 \
	grep -q "ready: [1-9][0-9]* services" "$XLB_RUN/incluster.log"
xlb_bg_stop incluster TERM
xlb_ns "$ns" "$XLB_XLBCTL" --bpffs /nonexistent detach --iface v1 >/dev/null 2>&1

# --- kubeconfig with embedded CA and client certificate (no token) -------
b64() { base64 -w0 "$1"; }
cat >"$XLB_RUN/kc-cert" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$api
    certificate-authority-data: $(b64 "$XLB_RUN/api.crt")
contexts:
- name: fake
  context: {cluster: fake, user: cert}
current-context: fake
users:
- name: cert
  user:
    client-certificate-data: $(b64 "$XLB_RUN/client.crt")
    client-key-data: $(b64 "$XLB_RUN/client.key")
EOF
xlb_bg certuser "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --kubeconfig "$XLB_RUN/kc-cert" \
	--node-name testnode --iface v1 --bpffs "$XLB_BPFFS/c"
expect "kubeconfig *-data: embedded CA and client certificate authenticate" 20 \
	grep -q "ready: [1-9][0-9]* services" "$XLB_RUN/certuser.log"
xlb_check "... by the certificate (the server saw it)" fge client_cert 3
xlb_bg_stop certuser TERM
xlb_ns "$ns" "$XLB_XLBCTL" --bpffs "$XLB_BPFFS/c" detach --iface v1 >/dev/null 2>&1

# --- first sync: paginated lists ------------------------------------------
xlb_bg xlbd "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --kubeconfig "$kc" --node-name testnode \
	--iface v0 --bpffs "$pins" -vv
log="$XLB_RUN/xlbd.log"
expect "xlbd ready after the first list of Services, EndpointSlices and Node" 20 \
	grep -q 'ready:' "$log"
xlb_check "lists were paginated (continue used)" \
	test "$(fstat 'd["continues"]')" -ge 2
xlb_check "dual-stack: v4 http service" has_svc "default/echo-dualstack:http/tcp cluster-ip 10.96.207.99 80 "
xlb_check "dual-stack: v6 http service" has_svc "default/echo-dualstack:http/tcp/v6 cluster-ip fd00:10:96::b050 80 "
xlb_check "dual-stack: v4 tftp udp service" has_svc "default/echo-dualstack:tftp/udp cluster-ip 10.96.207.99 69 "
xlb_check "NodePort frontend on the node address" has_svc "default/echo-dualstack:http/tcp node-port 192.168.77.1 30181 "
xlb_check "dual-stack: v6 backends from the IPv6 slice" has_be "default/echo-dualstack:http/tcp/v6 fd00:10:244:2::a314 80 active 1"
xlb_check "graceful: 2 active backends" has_be "test/graceful-term-svc:8081/tcp 10.244.0.112 8081 active 1"
xlb_check "LB ingress IP frontend with the Local policy" has_svc "test/echo:http/tcp load-balancer 1.1.1.1 80 local"
xlb_check "both endpoints of the Local-policy Service" has_be "test/echo:http/tcp 10.244.2.1 80 active 1"
hc() { xlb_ns "$ns" curl -s -o /dev/null -w '%{http_code}' "http://192.168.77.1:32100/healthz"; }
hc_is() { [ "$(hc)" = "$1" ]; }
expect "healthCheckNodePort: 200 while this node has a local endpoint" 10 hc_is 200
xlb_check "... counting it" sh -c "ip netns exec $ns curl -s http://192.168.77.1:32100/ | grep -q '\"localEndpoints\": *1'"
xlb_check "headless Service not programmed" no_svc "test/headless:http/tcp"
xlb_check "topology: zone foo -> the quux-hinted endpoint takes no new flows (weight 0)" \
	has_be "test/topo:http/tcp 10.244.2.1 80 terminating 0"
xlb_check "topology: the foo-hinted endpoint does" has_be "test/topo:http/tcp 10.244.1.1 80 active 1"
ds_before="$(ctl maglev show default/echo-dualstack:http/tcp)"

# --- watch events, applied per Service ---------------------------------------
fctl "/apply?res=endpointslices" "$FIX/graceful-termination/EndpointSlice-graceful-term-svc-pg7nd.terminating1.json"
expect "watch MODIFIED: endpoint becomes terminating" 10 \
	has_be "test/graceful-term-svc:8081/tcp 10.244.0.112 8081 terminating 1"
xlb_check "the other backend stays active" has_be "test/graceful-term-svc:8081/tcp 10.244.0.113 8081 active 1"
xlb_check "another Service's maps untouched by that event" \
	test "$ds_before" = "$(ctl maglev show default/echo-dualstack:http/tcp)"

fctl "/apply?res=nodes" <(node quux)
expect "Node watch: zone quux -> the quux endpoint takes the new flows" 10 \
	has_be "test/topo:http/tcp 10.244.2.1 80 active 1"
xlb_check "... and the foo one none" has_be "test/topo:http/tcp 10.244.1.1 80 terminating 0"

# A watch cut in the middle of an event line: the event comes again
# when the watch resumes from the last version seen.
obj "$FIX/graceful-termination/EndpointSlice-graceful-term-svc-pg7nd.terminating1.json" \
	'd["endpoints"].append({"addresses": ["10.244.0.114"], "conditions": {"ready": True}})' \
	>"$XLB_RUN/graceful-3.json"
fctl "/drop-mid?res=endpointslices"
fctl "/apply?res=endpointslices" "$XLB_RUN/graceful-3.json"
expect "event cut mid-line arrives after the watch resumes" 15 \
	has_be "test/graceful-term-svc:8081/tcp 10.244.0.114 8081 active 1"
xlb_check "the server cut a line in the middle" test "$(fstat 'd["dropped_mid"]')" -ge 1

fctl "/apply?res=services" "$XLB_RUN/sr.json"
fctl "/apply?res=endpointslices" "$XLB_RUN/sr-slice.json"
expect "watch ADDED: new Service with its source ranges" 10 \
	has_svc "test/sr:http/tcp load-balancer 10.0.0.2 80 source-ranges"
expect "watch ADDED: its endpoint" 10 has_be "test/sr:http/tcp 10.244.1.1 80 active 1"

# --- a burst: 60 Services and their slices in one go, then gone ---------------
"$XLB_PY" - "$XLB_RUN" <<'EOF'
import json, sys
svcs, slices = [], []
for i in range(60):
    ip = "10.97.0.%d" % (i + 1)
    svcs.append({"metadata": {"name": "b%d" % i, "namespace": "burst"},
                 "spec": {"clusterIP": ip, "clusterIPs": [ip], "type": "ClusterIP",
                          "ports": [{"name": "p", "port": 80, "protocol": "TCP"}]}})
    slices.append({"metadata": {"name": "b%d-1" % i, "namespace": "burst",
                                "labels": {"kubernetes.io/service-name": "b%d" % i}},
                   "addressType": "IPv4",
                   "ports": [{"name": "p", "port": 8080, "protocol": "TCP"}],
                   "endpoints": [{"addresses": ["10.98.%d.%d" % (i, j + 1)]} for j in range(i % 4 + 1)]})
json.dump(svcs, open(sys.argv[1] + "/burst-svc.json", "w"))
json.dump(slices, open(sys.argv[1] + "/burst-slice.json", "w"))
EOF
nb() { [ "$(bes | grep -c '^burst/')" = "$1" ]; }
ns_() { [ "$(svcs | grep -c '^burst/')" = "$1" ]; }
fctl "/apply?res=services" "$XLB_RUN/burst-svc.json"
fctl "/apply?res=endpointslices" "$XLB_RUN/burst-slice.json"
expect "a burst of 120 events: 60 Services programmed" 20 ns_ 60
expect "... with their 150 backends" 20 nb 150
xlb_check "... each with its own endpoints (b7: 4)" \
	sh -c "[ \"\$(timeout 10 $XLB_XLBCTL --bpffs $pins -o json backend list | grep -c '\"burst/b7:p/tcp\"')\" = 4 ]"
keys="$(seq -s, -f 'burst/b%.0f' 0 59)"
fctl "/delete?res=services&key=$keys"
expect "60 Services deleted at once: gone" 20 ns_ 0
fctl "/delete?res=endpointslices&key=$(seq -s, -f 'burst/b%.0f-1' 0 59)"
expect "... and their backends" 20 nb 0

# --- bookmarks and clean ends ----------------------------------------------
fctl "/bookmarks?every=0.5"
expect "bookmarks sent" 10 fge bookmarks 3
sleep 1
nw="$(fstat 'd["watches"]')"
fctl "/end"
expect "watches ended cleanly are re-opened" 10 fge watches $((nw + 3))
resumed="$(fstat '[all(any(n.get("watch") == w["watch"] and n.get("id", 0) > w["id"] and n["rv"] == w["sent"] for n in d["log"]) for w in d["log"] if w.get("end") == "clean")]' | sort -u)"
xlb_check_eq "$resumed" "True" "each cleanly ended watch resumed from the last version it sent (bookmarks included)"
xlb_check "no list after a clean end" test "$(grep -c 'listed again' "$log")" -eq 0

# --- missed deletes: outage, compaction, in-stream 410 --------------------------
fctl "/gone?mode=stream"
fctl "/outage?on=1"
fctl "/delete?res=services&key=test/graceful-term-svc"
fctl "/delete?res=endpointslices&key=test/graceful-term-svc-pg7nd"
fctl "/apply?res=endpointslices" "$XLB_RUN/echo-slice-1.json"
fctl "/compact"
sleep 2
xlb_check "during the outage the deleted Service is still programmed" \
	has_be "test/graceful-term-svc:8081/tcp 10.244.0.114 8081 active 1"
fctl "/outage?on=0"
expect "in-stream 410 -> relist: Service deleted while unwatched is removed" 40 \
	no_svc "test/graceful-term-svc:8081/tcp"
expect "... its backends too" 5 no_be "test/graceful-term-svc:8081/tcp" 10.244.0.114
expect "... and a slice changed while unwatched is applied" 5 \
	no_be "test/echo:http/tcp" 10.244.2.1
xlb_check "... the rest stays" has_be "test/echo:http/tcp 10.244.1.1 80 active 1"
xlb_check "the server answered with an in-stream ERROR 410" test "$(fstat 'd["gone_stream"]')" -ge 1
xlb_check "xlbd listed again and found the deletes" grep -q "listed again: .* [1-9][0-9]* gone while unwatched" "$log"

# --- missed delete again, HTTP 410 ----------------------------------------------
fctl "/gone?mode=http"
fctl "/outage?on=1"
fctl "/delete?res=services&key=test/sr"
fctl "/compact"
fctl "/drop-page?n=2"
sleep 1
fctl "/outage?on=0"
expect "HTTP 410 -> relist: Service deleted while unwatched is removed" 40 \
	no_svc "test/sr:http/tcp"
xlb_check "the server answered with HTTP 410" test "$(fstat 'd["gone_http"]')" -ge 1
xlb_check "the relist survived list pages cut in the middle of the pagination" \
	test "$(fstat 'd.get("pages_dropped", 0)')" -eq 2
xlb_check "... and the rest of the Services stayed programmed" \
	has_be "test/topo:http/tcp 10.244.2.1 80 active 1"

# --- token rotation: 401, token file read again ----------------------------------
fctl "/token?value=token-two"
fctl "/drop"
expect "a rotated token: the old one gets 401s" 10 fge unauthorized 1
echo "token-two" >"$tokfile.tmp" && mv "$tokfile.tmp" "$tokfile"
fctl "/apply?res=services" "$FIX/graceful-termination/Service-graceful-term-svc.json"
fctl "/apply?res=endpointslices" "$FIX/graceful-termination/EndpointSlice-graceful-term-svc-pg7nd.json"
expect "after a token rotation the watch carries on (new Service programmed)" 40 \
	has_be "test/graceful-term-svc:8081/tcp 10.244.0.112 8081 active 1"
xlb_check "xlbd read the token file again after the 401" grep -q "401 Unauthorized: reading the token again" "$log"

# --- dropped connections -------------------------------------------------------------
expect "all three watches open before the drop" 20 fge open_watches 3
n0="$(fstat 'd["watches"]')"
fctl "/drop"
fctl "/delete?res=endpointslices&key=test/echo-kvlm2"
expect "after dropped connections the watch resumes (slice deletion applied)" 40 \
	no_be "test/echo:http/tcp" 10.244.1.1
expect "xlbd re-opened its three watches" 20 fge watches $((n0 + 3))
expect "healthCheckNodePort: 503 once the local endpoint is gone" 10 hc_is 503
# Its Local policy drops only while endpoints exist elsewhere: with none
# at all the frontend rejects (kube-proxy's REJECT), so it shows no
# local flag.
xlb_check "the Service without endpoints stays programmed (it rejects: no local flag)" \
	has_svc "test/echo:http/tcp cluster-ip 10.96.50.104 80 "
xlb_check "xlbd still running" xlb_bg_alive xlbd
xlb_check "no apply errors in the log" sh -c "! grep -q 'k8s: service .*: .*already used\|programming failed' $log"

# --- the token file is read again every minute, without a 401 -----------------
fctl "/token?value=token-two,token-three"
echo "token-three" >"$tokfile.tmp" && mv "$tokfile.tmp" "$tokfile"
n401="$(fstat 'd["unauthorized"]')"
used3() { [ "$(fstat 'd["tokens"].get("token-three", 0)')" -ge 1 ]; }
for i in 1 2 3 4 5 6 7 8; do	# a reconnect every 12 s, up to ~96 s
	used3 && break
	fctl "/drop"
	xlb_wait_until 12 used3
done
xlb_check "a token rotated in the file is used within about a minute" used3
xlb_check "... without a 401" test "$(fstat 'd["unauthorized"]')" -eq "$n401"

# --- 429: backoff ----------------------------------------------------------------
n429() { [ "$(fstat 'len([e for e in d["log"] if "throttled" in e])')" -ge "$1" ]; }
expect "all three watches open before throttling" 20 fge open_watches 3
fctl "/throttle?n=4"
fctl "/drop"
expect "four requests answered 429" 30 n429 4
expect "after the 429s the watches come back" 60 fge open_watches 3
# A client that retried at once would send all four within milliseconds.
span="$(fstat '(lambda t: round(max(t) - min(t), 2))([e["t"] for e in d["log"] if "throttled" in e])')"
xlb_check "429s retried after a backoff (four 429s over $span s)" \
	"$XLB_PY" -c "import sys; sys.exit(float(sys.argv[1]) < 1.5)" "$span"
xlb_check "xlbd logged the 429s" grep -q "HTTP 429: slow down; retrying in" "$log"

# --- restart: adopt pins, converge ------------------------------------------------
xlb_bg_stop xlbd TERM
fctl "/delete?res=services&key=default/echo-dualstack"
xlb_bg xlbd2 "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --kubeconfig "$kc" --node-name testnode \
	--iface v0 --bpffs "$pins"
log="$XLB_RUN/xlbd2.log"
expect "restarted xlbd ready" 20 grep -q 'ready:' "$log"
expect "a Service deleted while no xlbd ran is removed at the first sync" 5 \
	no_svc "default/echo-dualstack:http/tcp"
xlb_check "the others stay" has_be "test/graceful-term-svc:8081/tcp 10.244.0.112 8081 active 1"
before="$(bes)"
kill -HUP "${XLB_BG[xlbd2]}"
expect "SIGHUP: the whole cache applied again, nothing changes" 10 \
	grep -q "k8s: SIGHUP: .* 0 added, 0 updated, 0 removed" "$log"
xlb_check "... in the maps either" test "$before" = "$(bes)"
xlb_bg_stop xlbd2 TERM
xlb_bg_stop fake TERM
xlb_ns "$ns" "$XLB_XLBCTL" --bpffs "$pins" detach --iface v0 >/dev/null 2>&1

echo "$XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ]
