# A throw-away Kubernetes control plane for tests: etcd and kube-apiserver
# (built by build.sh) on 127.0.0.1, in the current network namespace or in
# one given, with a self-signed CA, a static token file and RBAC. Source
# it; it defines functions and XLB_K8S_* variables only.
#
#   xlb_k8s_start DIR [NETNS]   starts both, waits for /readyz; DIR (made
#                               here, must not exist) holds certificates,
#                               tokens, data and logs
#   xlb_k8s_stop                kills both and removes DIR; safe to call
#                               twice and from an EXIT trap
#   xlb_k8s_apiserver_restart [PAUSE_S]
#                               stops kube-apiserver (clients see their
#                               connections drop), waits PAUSE_S seconds
#                               (default 0) and starts it again on the
#                               same port, waiting for /readyz
#   xlb_k8s_apiserver_stop      stops kube-apiserver
#   xlb_k8s_apiserver_start [PORT]
#                               starts it again, on PORT if given (then
#                               XLB_K8S_URL changes: clients of the old
#                               port cannot reach it), waits for /readyz
#   xlb_k8s_etcd_compact        compacts etcd's history up to its current
#                               revision (older resourceVersions expire)
#   xlb_k8s_api METHOD PATH [BODY]
#                               one request as the admin user; BODY is a
#                               JSON (or YAML) document, or @FILE; prints
#                               the answer and returns 0 for a 2xx status
#   xlb_k8s_kubeconfig FILE USER TOKEN
#                               a kubeconfig (YAML, as kubectl writes it)
#                               for USER with TOKEN
#   xlb_k8s_add_token USER TOKEN [GROUPS]
#                               only before xlb_k8s_start: one more user
#                               of the static token file
#   xlb_k8s_kcm_start [CONTROLLERS]
#                               starts kube-controller-manager (built by
#                               build.sh) with the admin kubeconfig and
#                               only CONTROLLERS (default: endpointslice,
#                               the controller that turns Services and
#                               Pods into EndpointSlices); xlb_k8s_stop
#                               stops it too
#   xlb_k8s_agent_role, xlb_k8s_agent_binding USER
#                               the ClusterRole xlb-agent (what xlbd may
#                               do: get, list and watch Services, Nodes
#                               and EndpointSlices) and its binding to
#                               USER, as JSON bodies for xlb_k8s_api
#   xlb_k8s_dryrun FILE...      server-side dry run (?dryRun=All) of every
#                               object of the multi-document YAML files
#                               (helm template output): one PASS/FAIL line
#                               per object; namespaces the objects name
#                               are created for real first
#
# After xlb_k8s_start: XLB_K8S_URL (https://127.0.0.1:PORT), XLB_K8S_CA
# (CA certificate file), XLB_K8S_TOKEN (admin token, group
# system:masters), XLB_K8S_KUBECONFIG (admin kubeconfig), XLB_K8S_NETNS.
# The service cluster IP ranges are $XLB_K8S_SVC_CIDRS (10.96.0.0/16 and
# fd00:96::/108, the VIP nets of selftests/lib.sh). Only loopback is used,
# unless XLB_K8S_ADDRESS names another address of the namespace (a
# control-plane host on a test network that nodes in other namespaces
# reach): the API server then listens and is certified there too, and
# XLB_K8S_URL uses it. etcd stays on 127.0.0.1.

XLB_K8S_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$XLB_K8S_HERE/versions.sh"
XLB_K8S_BIN="$XLB_K8S_CACHE/bin"
XLB_K8S_SVC_CIDRS="${XLB_K8S_SVC_CIDRS:-10.96.0.0/16,fd00:96::/108}"
XLB_K8S_START_TIMEOUT="${XLB_K8S_START_TIMEOUT:-120}"
XLB_K8S_ADDRESS="${XLB_K8S_ADDRESS:-127.0.0.1}"
XLB_K8S_KCM_PID=
XLB_K8S_DIR=
XLB_K8S_NETNS=
XLB_K8S_URL=
XLB_K8S_CA=
XLB_K8S_TOKEN=
XLB_K8S_KUBECONFIG=
XLB_K8S_ETCD_PID=
XLB_K8S_API_PID=
XLB_K8S_API_ARGS=()
XLB_K8S_ETCD_URL=
XLB_K8S_EXTRA_TOKENS=()

_xlb_k8s_in() {
	if [ -n "$XLB_K8S_NETNS" ]; then
		ip netns exec "$XLB_K8S_NETNS" "$@"
	else
		"$@"
	fi
}

# _xlb_k8s_bg LOG CMD...: CMD in the background (in the namespace), its
# pid in _xlb_k8s_pid. Not through _xlb_k8s_in: $! must be CMD's own pid.
_xlb_k8s_bg() {
	local log="$1"
	shift
	if [ -n "$XLB_K8S_NETNS" ]; then
		ip netns exec "$XLB_K8S_NETNS" "$@" >>"$log" 2>&1 </dev/null &
	else
		"$@" >>"$log" 2>&1 </dev/null &
	fi
	_xlb_k8s_pid=$!
}

_xlb_k8s_ms() { local t="${EPOCHREALTIME/./}"; echo $((t / 1000)); }

# Three free TCP ports on 127.0.0.1 and XLB_K8S_ADDRESS, held together
# while picked.
_xlb_k8s_ports() {
	_xlb_k8s_in /usr/bin/python3 -c '
import socket, sys
ss = [socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
      for _ in range(3)]
for s in ss:
    s.bind((sys.argv[1], 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
' "$XLB_K8S_ADDRESS"
}

# The address as it stands in a URL.
_xlb_k8s_url_host() {
	case "$XLB_K8S_ADDRESS" in *:*) echo "[$XLB_K8S_ADDRESS]" ;; *) echo "$XLB_K8S_ADDRESS" ;; esac
}

# Certificates: a CA, the API server's serving certificate for 127.0.0.1
# and localhost, and the service account signing key.
_xlb_k8s_certs() {
	local d="$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
		-subj "/CN=xlb-test-ca" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -keyout "$d/apiserver.key" -out "$d/apiserver.csr" \
			-subj "/CN=kube-apiserver" &&
		printf '%s\n' "basicConstraints=CA:FALSE" \
			"keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth" \
			"subjectAltName=IP:127.0.0.1,IP:$XLB_K8S_ADDRESS,DNS:localhost,DNS:kubernetes.default.svc" \
			>"$d/apiserver.ext" &&
		openssl x509 -req -in "$d/apiserver.csr" -CA "$d/ca.crt" \
			-CAkey "$d/ca.key" -CAcreateserial -days 2 \
			-extfile "$d/apiserver.ext" -out "$d/apiserver.crt" &&
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
			-out "$d/sa.key" &&
		openssl pkey -in "$d/sa.key" -pubout -out "$d/sa.pub"
}

_xlb_k8s_token() { openssl rand -hex 24; }

xlb_k8s_add_token() {
	XLB_K8S_EXTRA_TOKENS+=("$2,$1,uid-$1${3:+,\"$3\"}")
}

xlb_k8s_kubeconfig() {
	local file="$1" user="$2" token="$3"
	cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: xlb-test
  cluster:
    server: $XLB_K8S_URL
    certificate-authority-data: $(base64 -w0 "$XLB_K8S_CA")
users:
- name: $user
  user:
    token: $token
contexts:
- name: $user@xlb-test
  context:
    cluster: xlb-test
    user: $user
current-context: $user@xlb-test
EOF
}

_xlb_k8s_alive() {
	kill -0 "$XLB_K8S_ETCD_PID" 2>/dev/null &&
		kill -0 "$XLB_K8S_API_PID" 2>/dev/null
}

# _xlb_k8s_kill PID: TERM, up to 5 s, then KILL.
_xlb_k8s_kill() {
	local i
	[ -z "$1" ] && return 0
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

_xlb_k8s_apiserver_run() {
	_xlb_k8s_bg "$XLB_K8S_DIR/kube-apiserver.log" \
		"$XLB_K8S_BIN/kube-apiserver" "${XLB_K8S_API_ARGS[@]}" \
		--secure-port "${XLB_K8S_URL##*:}"
	XLB_K8S_API_PID=$_xlb_k8s_pid
}

# _xlb_k8s_wait_ready T0_MS: waits for /readyz until T0_MS plus the
# start timeout; on failure prints the logs' tails.
_xlb_k8s_wait_ready() {
	local t0="$1" end=$(($1 + XLB_K8S_START_TIMEOUT * 1000)) d="$XLB_K8S_DIR"
	while ! _xlb_k8s_readyz; do
		if ! _xlb_k8s_alive || [ "$(_xlb_k8s_ms)" -ge "$end" ]; then
			echo "xlb_k8s: API server not ready after $((($(_xlb_k8s_ms) - t0) / 1000)) s; etcd log:" >&2
			tail -5 "$d/etcd.log" | sed 's/^/  /' >&2
			echo "kube-apiserver log:" >&2
			grep -E '^[EF]|error' "$d/kube-apiserver.log" | tail -10 |
				sed 's/^/  /' >&2
			return 1
		fi
		sleep 0.2
	done
	XLB_K8S_READY_MS=$(($(_xlb_k8s_ms) - t0))
}

_xlb_k8s_readyz() {
	[ "$(_xlb_k8s_in curl -s --max-time 2 --cacert "$XLB_K8S_CA" \
		-H "Authorization: Bearer $XLB_K8S_TOKEN" \
		"$XLB_K8S_URL/readyz")" = ok ]
}

xlb_k8s_start() {
	local d="$1" ports etcd_c etcd_p api t0 line
	XLB_K8S_NETNS="${2:-}"
	if [ ! -x "$XLB_K8S_BIN/etcd" ] || [ ! -x "$XLB_K8S_BIN/kube-apiserver" ]; then
		echo "xlb_k8s_start: no etcd or kube-apiserver in $XLB_K8S_BIN (run build.sh)" >&2
		return 1
	fi
	mkdir "$d" || return 1
	XLB_K8S_DIR="$d"
	mkdir "$d/etcd-data" "$d/certs" &&
		_xlb_k8s_certs "$d" >"$d/openssl.log" 2>&1 || {
		echo "xlb_k8s_start: making certificates failed:" >&2
		tail -5 "$d/openssl.log" >&2
		return 1
	}
	XLB_K8S_CA="$d/ca.crt"
	XLB_K8S_TOKEN="$(_xlb_k8s_token)"
	{
		echo "$XLB_K8S_TOKEN,xlb-admin,uid-admin,\"system:masters\""
		for line in "${XLB_K8S_EXTRA_TOKENS[@]}"; do
			echo "$line"
		done
	} >"$d/tokens.csv"
	ports=($(_xlb_k8s_ports)) || return 1
	etcd_c="${ports[0]}"
	etcd_p="${ports[1]}"
	api="${ports[2]}"
	XLB_K8S_URL="https://$(_xlb_k8s_url_host):$api"
	XLB_K8S_ETCD_URL="http://127.0.0.1:$etcd_c"

	t0=$(_xlb_k8s_ms)
	_xlb_k8s_bg "$d/etcd.log" "$XLB_K8S_BIN/etcd" --name xlb-test --data-dir "$d/etcd-data" \
		--listen-client-urls "http://127.0.0.1:$etcd_c" \
		--advertise-client-urls "http://127.0.0.1:$etcd_c" \
		--listen-peer-urls "http://127.0.0.1:$etcd_p" \
		--initial-advertise-peer-urls "http://127.0.0.1:$etcd_p" \
		--initial-cluster "xlb-test=http://127.0.0.1:$etcd_p" \
		--unsafe-no-fsync --log-level warn
	XLB_K8S_ETCD_PID=$_xlb_k8s_pid
	XLB_K8S_API_ARGS=(--etcd-servers "http://127.0.0.1:$etcd_c"
		--bind-address "$XLB_K8S_ADDRESS" --advertise-address "$XLB_K8S_ADDRESS"
		--cert-dir "$d/certs"
		--tls-cert-file "$d/apiserver.crt"
		--tls-private-key-file "$d/apiserver.key"
		--client-ca-file "$d/ca.crt"
		--token-auth-file "$d/tokens.csv"
		--authorization-mode RBAC
		--service-cluster-ip-range "$XLB_K8S_SVC_CIDRS"
		--service-account-issuer https://kubernetes.default.svc.cluster.local
		--service-account-key-file "$d/sa.pub"
		--service-account-signing-key-file "$d/sa.key"
		--allow-privileged=true --profiling=false)
	_xlb_k8s_apiserver_run
	_xlb_k8s_wait_ready "$t0" || return 1
	XLB_K8S_KUBECONFIG="$d/admin.kubeconfig"
	xlb_k8s_kubeconfig "$XLB_K8S_KUBECONFIG" xlb-admin "$XLB_K8S_TOKEN"
}

xlb_k8s_apiserver_stop() {
	_xlb_k8s_kill "$XLB_K8S_API_PID"
	XLB_K8S_API_PID=
	if _xlb_k8s_readyz; then
		echo "xlb_k8s_apiserver_stop: the API server still answers after being stopped" >&2
		return 1
	fi
}

xlb_k8s_apiserver_start() {
	[ -n "${1:-}" ] && XLB_K8S_URL="https://$(_xlb_k8s_url_host):$1"
	_xlb_k8s_apiserver_run
	_xlb_k8s_wait_ready "$(_xlb_k8s_ms)"
}

xlb_k8s_apiserver_restart() {
	xlb_k8s_apiserver_stop || return 1
	sleep "${1:-0}"
	xlb_k8s_apiserver_start
}

# A free port on 127.0.0.1 (in the namespace).
xlb_k8s_free_port() { _xlb_k8s_ports | cut -d' ' -f1; }

xlb_k8s_etcd_compact() {
	local rev
	rev="$(_xlb_k8s_in curl -sf --max-time 10 -X POST -d '{"key": "AA=="}' \
		"$XLB_K8S_ETCD_URL/v3/kv/range" |
		/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["header"]["revision"])')" ||
		return 1
	_xlb_k8s_in curl -sf --max-time 10 -X POST \
		-d "{\"revision\": \"$rev\", \"physical\": true}" \
		"$XLB_K8S_ETCD_URL/v3/kv/compaction" >/dev/null
}

xlb_k8s_agent_role() {
	echo '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
 "metadata": {"name": "xlb-agent"},
 "rules": [{"apiGroups": [""], "resources": ["services", "nodes"], "verbs": ["get", "list", "watch"]},
           {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]}]}'
}

xlb_k8s_agent_binding() {
	echo '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
 "metadata": {"name": "xlb-agent"},
 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "xlb-agent"},
 "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "'"$1"'"}]}'
}

xlb_k8s_kcm_start() {
	if [ ! -x "$XLB_K8S_BIN/kube-controller-manager" ]; then
		echo "xlb_k8s_kcm_start: no kube-controller-manager in $XLB_K8S_BIN (run build.sh)" >&2
		return 1
	fi
	# No serving port (nothing scrapes it), no leader election (one
	# instance), the admin identity instead of one per controller.
	_xlb_k8s_bg "$XLB_K8S_DIR/kube-controller-manager.log" \
		"$XLB_K8S_BIN/kube-controller-manager" \
		--kubeconfig "$XLB_K8S_KUBECONFIG" \
		--controllers "${1:-endpointslice}" \
		--secure-port 0 --leader-elect=false \
		--use-service-account-credentials=false
	XLB_K8S_KCM_PID=$_xlb_k8s_pid
	sleep 0.5
	if ! kill -0 "$XLB_K8S_KCM_PID" 2>/dev/null; then
		echo "xlb_k8s_kcm_start: kube-controller-manager exited:" >&2
		tail -5 "$XLB_K8S_DIR/kube-controller-manager.log" | sed 's/^/  /' >&2
		return 1
	fi
}

xlb_k8s_stop() {
	_xlb_k8s_kill "$XLB_K8S_KCM_PID"
	XLB_K8S_KCM_PID=
	_xlb_k8s_kill "$XLB_K8S_API_PID"
	_xlb_k8s_kill "$XLB_K8S_ETCD_PID"
	XLB_K8S_API_PID=
	XLB_K8S_ETCD_PID=
	if [ -n "$XLB_K8S_DIR" ]; then
		rm -rf "$XLB_K8S_DIR"
		XLB_K8S_DIR=
	fi
	return 0
}

xlb_k8s_api() {
	local method="$1" path="$2" body="${3:-}" out code ctype=application/json
	local args=(-s --max-time 20 --cacert "$XLB_K8S_CA" -X "$method"
		-H "Authorization: Bearer $XLB_K8S_TOKEN" -H "Accept: application/json")
	if [ -n "$body" ]; then
		if [ "${body:0:1}" = @ ]; then
			head -c1 "${body:1}" | grep -q '[{[]' || ctype=application/yaml
		else
			[ "${body:0:1}" = "{" ] || ctype=application/yaml
		fi
		[ "$method" = PATCH ] && ctype=application/merge-patch+json
		args+=(-H "Content-Type: $ctype" --data-binary "$body")
	fi
	out="$(_xlb_k8s_in curl "${args[@]}" -w '\n%{http_code}' "$XLB_K8S_URL$path")"
	code="${out##*$'\n'}"
	printf '%s\n' "${out%$'\n'*}"
	[ "${code:0:1}" = 2 ]
}

xlb_k8s_dryrun() {
	_xlb_k8s_in /usr/bin/python3 "$XLB_K8S_HERE/dryrun.py" \
		--server "$XLB_K8S_URL" --ca "$XLB_K8S_CA" \
		--token-file <(echo "$XLB_K8S_TOKEN") "$@"
}
