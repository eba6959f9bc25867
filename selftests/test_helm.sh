#!/bin/bash
# The Helm chart helm/xlb, with helm built from its Go module at the
# version pinned in tools/helm.sh:
# - values.yaml documents every value;
# - helm lint --strict with default and non-default values;
# - helm template with default values, non-default values (privileged,
#   other interfaces, API server address, resources, metrics address,
#   extra args and env, no bpffs init container, interface patterns and
#   exclusions, socketLB host, a hybrid node's cgroup2 path), a third set
#   (the SYS_ADMIN fallback, loopback metrics, no RBAC/ServiceAccount
#   created, socketLB off) and socketLB host alone, each rendered object
#   checked field by field (args, volumes, mounts, capabilities,
#   hostPID); unquoted on/off (YAML booleans);
# - values the chart refuses, with their messages;
# - with a real kube-apiserver, when selftests/k8s-real has one built:
#   a server-side dry run of every rendered object, two invalid
#   DaemonSets the server must refuse, the RBAC objects created for real
#   and asked (SubjectAccessReview) what the ServiceAccount may do, helm
#   install / upgrade / uninstall of a release, and the rendered pod run
#   without a container (init command, then xlbd with the DaemonSet's
#   args and env, exactly its capabilities, its hostPaths mapped to the
#   test's: the cgroup one to a cgroup of the run): probes answer,
#   Services arrive, the socket hooks balance a pod's connect() and
#   destroy its stale UDP socket, nothing touches the machine's root
#   cgroup.
# helm and the control plane are built by selftests/run.sh before the
# tests (or here, when run alone); when either cannot be built the test
# fails. XLB_K8S_BUILD=0 (a machine without Go; never in CI) turns those
# failures into SKIP lines.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"
chart="$root/helm/xlb"

# --- helm -----------------------------------------------------------------
build_log="${TMPDIR:-/tmp}/xlb-helm-build.$$.log"
# cannot_run WHAT: a missing component fails the test, unless the run
# said it has no Go toolchain (XLB_K8S_BUILD=0).
cannot_run() {
	if [ "${XLB_K8S_BUILD:-1}" = 0 ]; then
		echo "SKIP: $1 (XLB_K8S_BUILD=0)"
		exit 0
	fi
	echo "FAIL: $1"
	exit 1
}
helm="$("$root/tools/helm.sh" --path 2>"$build_log")"
rc=$?
grep -v '^go: downloading' "$build_log" | sed 's/^/# /'
rm -f "$build_log"
[ $rc -eq 0 ] || cannot_run "helm chart test: helm cannot be built here (status $rc)"
xlb_log "$("$helm" version --short) ($helm)"

xlb_init
helm_exit() {
	local rc=$?
	declare -F xlb_k8s_stop >/dev/null && xlb_k8s_stop
	(exit $rc)
	xlb_cleanup
}
trap helm_exit EXIT
out="$XLB_RUN/helm"
mkdir -p "$out"

# --- values files -----------------------------------------------------------
custom="$out/custom-values.yaml"
cat >"$custom" <<'EOF'
image:
  repository: registry.example/xlb
  tag: "1.2.3"
  pullPolicy: Always
k8sServiceHost: 192.0.2.10
k8sServicePort: 8443
interfaces: ["ens*", eth0, "!ens9"]
xdpMode: native
socketLB: host
nodePortAddresses: [primary, "10.0.0.0/8"]
cgroup:
  hostPath: /sys/fs/cgroup/unified
securityContext:
  privileged: true
bpffs:
  pinSubdir: xlb-test
  mount: false
metrics:
  bindAddress: "::"
  port: 9500
resources:
  requests: {cpu: 250m, memory: 256Mi}
  limits: {cpu: "1", memory: 2Gi}
extraArgs: [--fib-redirect, -v]
extraEnv:
  - {name: XLB_TEST_ENV, value: "on"}
EOF
fallback_set=(--set 'securityContext.capabilities={NET_ADMIN,SYS_ADMIN}'
	--set socketLB=off
	--set metrics.bindAddress=127.0.0.1
	--set metrics.prometheusAnnotations=false
	--set rbac.create=false --set serviceAccount.create=false
	--set serviceAccount.name=xlb-existing)

# --- values.yaml is documented -----------------------------------------------
# Every key has a comment line right above it, except the fields of
# values handed to Kubernetes verbatim (resources, updateStrategy, ...).
doc="$(python3 - "$chart/values.yaml" <<'EOF'
import re, sys
verbatim = {"resources", "initResources", "updateStrategy", "rollingUpdate",
            "nodeSelector", "seccompProfile", "requests", "limits"}
stack, prev, bad = [], "", []
for n, line in enumerate(open(sys.argv[1]), 1):
    if not line.strip():
        prev = ""
        continue
    m = re.match(r"^( *)([A-Za-z][\w.-]*):", line)
    if m:
        ind, key = len(m.group(1)), m.group(2)
        while stack and stack[-1][0] >= ind:
            stack.pop()
        parent = stack[-1][1] if stack else None
        if not prev.lstrip().startswith("#") and parent not in verbatim:
            bad.append("%d:%s" % (n, key))
        stack.append((ind, key))
    prev = line
print(" ".join(bad))
EOF
)"
xlb_check_eq "${doc:-none}" none "values.yaml: every value has a comment (undocumented keys)"

# --- lint --------------------------------------------------------------------
lint() {
	local what="$1" o
	shift
	if o="$("$helm" lint --strict "$chart" "$@" 2>&1)"; then
		xlb_check "helm lint --strict, $what: 0 charts failed" \
			grep -q '1 chart(s) linted, 0 chart(s) failed' <<<"$o"
	else
		xlb_fail "helm lint --strict, $what: $(grep -E 'ERROR|WARNING' <<<"$o" | head -n 3)"
	fi
}
lint "default values"
lint "non-default values" -f "$custom"
lint "SYS_ADMIN fallback, no RBAC" "${fallback_set[@]}"

# --- template and checks ----------------------------------------------------
render() {
	local what="$1" file="$2"
	shift 2
	if "$helm" template "$@" "$chart" >"$file" 2>"$file.err"; then
		xlb_pass "helm template, $what"
		return 0
	fi
	xlb_fail "helm template, $what: $(head -n 3 "$file.err")"
	return 1
}

# check.py MODE FILE: one PASS/FAIL line per field checked.
cat >"$out/check.py" <<'EOF'
import sys
import yaml

mode, path, app_version = sys.argv[1:4]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
npass = nfail = 0


def check(what, got, want):
    global npass, nfail
    if got == want:
        print("PASS: %s: %s" % (mode, what))
        npass += 1
    else:
        print("FAIL: %s: %s: got %r, want %r" % (mode, what, got, want))
        nfail += 1


def one(kind):
    objs = [d for d in docs if d.get("kind") == kind]
    return objs[0] if len(objs) == 1 else None


def arg(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


def env(c, name):
    return [e for e in c.get("env", []) if e["name"] == name]


exp = {
    "default": dict(ns="kube-system", name="xlb", sa="xlb", rbac=True,
                    image="xlb:" + app_version, pull="IfNotPresent",
                    iface="eth0", mode="auto", pins="/sys/fs/bpf/xlb",
                    maddr="0.0.0.0:9477", port=9477, host=None,
                    prom=True, priv=False,
                    caps=["BPF", "NET_ADMIN", "PERFMON", "SYS_ADMIN",
                          "SYS_PTRACE"],
                    sock="on", cg="/sys/fs/cgroup", hostpid=True,
                    init=True, api=None, extra=[],
                    res={"requests": {"cpu": "100m", "memory": "128Mi"},
                         "limits": {"memory": "1Gi"}}),
    "custom": dict(ns="xlb-system", name="lb-xlb", sa="lb-xlb", rbac=True,
                   image="registry.example/xlb:1.2.3", pull="Always",
                   iface="ens*,eth0,!ens9", mode="native",
                   sock="host", cg="/sys/fs/cgroup/unified", hostpid=None,
                   pins="/sys/fs/bpf/xlb-test", maddr="[::]:9500",
                   port=9500, host=None, prom=True, priv=True, caps=None,
                   init=False, api=("192.0.2.10", "8443"),
                   extra=["--nodeport-addresses", "primary,10.0.0.0/8",
                          "--fib-redirect", "-v"],
                   res={"requests": {"cpu": "250m", "memory": "256Mi"},
                        "limits": {"cpu": "1", "memory": "2Gi"}}),
    "fallback": dict(ns="kube-system", name="xlb", sa="xlb-existing",
                     rbac=False, image="xlb:" + app_version,
                     pull="IfNotPresent", iface="eth0", mode="auto",
                     pins="/sys/fs/bpf/xlb", maddr="127.0.0.1:9477",
                     port=9477, host="127.0.0.1", prom=False, priv=False,
                     caps=["NET_ADMIN", "SYS_ADMIN"], init=True, api=None,
                     sock="off", cg="/sys/fs/cgroup", hostpid=None,
                     extra=[],
                     res={"requests": {"cpu": "100m", "memory": "128Mi"},
                          "limits": {"memory": "1Gi"}}),
}
# socketLB host: no SYS_ADMIN/SYS_PTRACE, no hostPID (iterators in the
# node's namespace only).
exp["host"] = dict(exp["default"], sock="host", hostpid=None,
                   caps=["BPF", "NET_ADMIN", "PERFMON"])
exp = exp[mode]

kinds = sorted(d["kind"] for d in docs)
check("kinds rendered", kinds,
      sorted(["ClusterRole", "ClusterRoleBinding", "DaemonSet",
              "ServiceAccount"] if exp["rbac"] else ["DaemonSet"]))
for d in docs:
    if d["kind"] in ("DaemonSet", "ServiceAccount"):
        check("%s namespace" % d["kind"], d["metadata"].get("namespace"),
              exp["ns"])

ds = one("DaemonSet")
if ds is None:
    check("exactly one DaemonSet", 0, 1)
    sys.exit(1)
check("DaemonSet name", ds["metadata"]["name"], exp["name"])
spec = ds["spec"]
tpl = spec["template"]
pod = tpl["spec"]
check("selector matches the pod labels",
      all(tpl["metadata"]["labels"].get(k) == v
          for k, v in spec["selector"]["matchLabels"].items()), True)
check("updateStrategy", spec.get("updateStrategy", {}).get("type"),
      "RollingUpdate")
check("hostNetwork", pod.get("hostNetwork"), True)
check("dnsPolicy", pod.get("dnsPolicy"), "ClusterFirstWithHostNet")
check("priorityClassName", pod.get("priorityClassName"),
      "system-node-critical")
check("tolerations: every taint", pod.get("tolerations"),
      [{"operator": "Exists"}])
check("serviceAccountName", pod.get("serviceAccountName"), exp["sa"])
check("hostPID (socketLB on: the iterators find pods' namespaces in /proc)",
      pod.get("hostPID"), exp["hostpid"])
ann = tpl["metadata"].get("annotations") or {}
if exp["prom"]:
    check("Prometheus annotations",
          (ann.get("prometheus.io/scrape"), ann.get("prometheus.io/port"),
           ann.get("prometheus.io/path")),
          ("true", str(exp["port"]), "/metrics"))
else:
    check("no Prometheus annotations",
          [k for k in ann if k.startswith("prometheus.io/")], [])

cs = [c for c in pod["containers"] if c["name"] == "xlbd"]
check("one xlbd container", len(cs), 1)
c = cs[0]
check("image", c["image"], exp["image"])
check("imagePullPolicy", c["imagePullPolicy"], exp["pull"])
args = c["args"]
check("args start in-cluster with the node name", args[:3],
      ["--in-cluster", "--node-name", "$(K8S_NODE_NAME)"])
check("--iface", arg(args, "--iface"), exp["iface"])
check("--xdp-mode", arg(args, "--xdp-mode"), exp["mode"])
check("--bpffs", arg(args, "--bpffs"), exp["pins"])
check("--metrics-address", arg(args, "--metrics-address"), exp["maddr"])
check("--socket-lb", arg(args, "--socket-lb"), exp["sock"])
check("--cgroup", arg(args, "--cgroup"), "/run/xlb/cgroupv2")
check("args, all of them", args,
      ["--in-cluster", "--node-name", "$(K8S_NODE_NAME)",
       "--iface", exp["iface"], "--xdp-mode", exp["mode"],
       "--socket-lb", exp["sock"], "--cgroup", "/run/xlb/cgroupv2",
       "--bpffs", exp["pins"], "--metrics-address", exp["maddr"]] +
      exp["extra"])
check("env K8S_NODE_NAME from spec.nodeName",
      [e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
       for e in env(c, "K8S_NODE_NAME")], ["spec.nodeName"])
api = (env(c, "KUBERNETES_SERVICE_HOST"), env(c, "KUBERNETES_SERVICE_PORT"))
check("env KUBERNETES_SERVICE_HOST/PORT",
      (api[0][0].get("value"), api[1][0].get("value"))
      if api[0] and api[1] else None if not (api[0] or api[1]) else api,
      exp["api"])
if mode == "custom":
    check("extraEnv", [e.get("value") for e in env(c, "XLB_TEST_ENV")],
          ["on"])
check("metrics containerPort", [(p["containerPort"], p.get("protocol"))
                                for p in c.get("ports", [])],
      [(exp["port"], "TCP")])
for probe, path in (("livenessProbe", "/healthz"),
                    ("readinessProbe", "/readyz")):
    g = c.get(probe, {}).get("httpGet", {})
    check(probe, (g.get("path"), g.get("port"), g.get("host")),
          (path, exp["port"], exp["host"]))
sc = c.get("securityContext", {})
check("privileged", sc.get("privileged"), exp["priv"])
if exp["priv"]:
    check("no capability list when privileged", "capabilities" in sc, False)
else:
    check("capabilities added", sc.get("capabilities", {}).get("add"),
          exp["caps"])
    check("capabilities dropped", sc.get("capabilities", {}).get("drop"),
          ["ALL"])
    add = sc.get("capabilities", {}).get("add") or []
    check("SYS_ADMIN only in the fallback or with socketLB on",
          "SYS_ADMIN" in add, mode == "fallback" or exp["sock"] == "on")
    check("SYS_PTRACE only with socketLB on", "SYS_PTRACE" in add,
          exp["sock"] == "on")
    check("allowPrivilegeEscalation", sc.get("allowPrivilegeEscalation"),
          False)
check("readOnlyRootFilesystem", sc.get("readOnlyRootFilesystem"), True)
check("resources", c.get("resources"), exp["res"])

vols = {v["name"]: v for v in pod.get("volumes", [])}
check("bpffs hostPath", vols.get("bpffs", {}).get("hostPath"),
      {"path": "/sys/fs/bpf", "type": "DirectoryOrCreate"})
check("xlbd mounts bpffs HostToContainer",
      [(m["mountPath"], m.get("mountPropagation"))
       for m in c.get("volumeMounts", []) if m["name"] == "bpffs"],
      [("/sys/fs/bpf", "HostToContainer")])
check("cgroup hostPath (the node's cgroup2 hierarchy)",
      vols.get("cgroup", {}).get("hostPath"),
      {"path": exp["cg"], "type": "Directory"})
check("xlbd mounts the cgroup hierarchy read-only at --cgroup",
      [(m["mountPath"], m.get("readOnly"), m.get("mountPropagation"))
       for m in c.get("volumeMounts", []) if m["name"] == "cgroup"],
      [(arg(args, "--cgroup"), True, None)])
check("volumes, all of them", sorted(vols), ["bpffs", "cgroup"])
inits = pod.get("initContainers") or []
if exp["init"]:
    check("one init container", [i["name"] for i in inits], ["mount-bpffs"])
    i = inits[0]
    check("init container mounts bpffs when missing",
          "mount -t bpf bpf" in " ".join(i.get("command", [])), True)
    check("init container privileged (Bidirectional propagation)",
          i.get("securityContext", {}).get("privileged"), True)
    check("init container's bpffs mount",
          [(m["mountPath"], m.get("mountPropagation"))
           for m in i.get("volumeMounts", []) if m["name"] == "bpffs"],
          [("/sys/fs/bpf", "Bidirectional")])
else:
    check("no init container", inits, [])

if exp["rbac"]:
    sa, cr, crb = one("ServiceAccount"), one("ClusterRole"), \
        one("ClusterRoleBinding")
    check("ServiceAccount name", sa["metadata"]["name"], exp["sa"])
    grants = sorted((g, r, v) for rule in cr["rules"]
                    for g in rule.get("apiGroups", [])
                    for r in rule.get("resources", [])
                    for v in rule.get("verbs", []))
    want = sorted((g, r, v) for g, r in (("", "services"), ("", "nodes"),
                                         ("discovery.k8s.io",
                                          "endpointslices"))
                  for v in ("get", "list", "watch"))
    check("ClusterRole grants exactly get/list/watch on services, nodes, "
          "endpointslices", grants, want)
    check("ClusterRole has no other rule fields",
          sorted({k for rule in cr["rules"] for k in rule}),
          ["apiGroups", "resources", "verbs"])
    check("ClusterRoleBinding roleRef", crb["roleRef"],
          {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
           "name": cr["metadata"]["name"]})
    check("ClusterRoleBinding subject", crb["subjects"],
          [{"kind": "ServiceAccount", "name": exp["sa"],
            "namespace": exp["ns"]}])
sys.exit(1 if nfail else 0)
EOF
app_version="$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml")"

check_render() {
	python3 "$out/check.py" "$1" "$2" "$app_version" ||
		xlb_log "$1: some checks failed"
}

render "default values" "$out/default.yaml" xlb --namespace kube-system &&
	check_render default "$out/default.yaml"
render "non-default values" "$out/custom.yaml" lb --namespace xlb-system \
	-f "$custom" && check_render custom "$out/custom.yaml"
render "SYS_ADMIN fallback, no RBAC" "$out/fallback.yaml" xlb \
	--namespace kube-system "${fallback_set[@]}" &&
	check_render fallback "$out/fallback.yaml"
render "socketLB host" "$out/host.yaml" xlb --namespace kube-system \
	--set socketLB=host && check_render host "$out/host.yaml"

# YAML 1.1 reads an unquoted on/off as a boolean: the chart maps it back.
for v in on off; do
	printf 'socketLB: %s\n' "$v" >"$out/bool-$v.yaml"
	"$helm" template xlb "$chart" -f "$out/bool-$v.yaml" >"$out/bool-$v.out" 2>&1
	got="$(python3 -c 'import sys, yaml
ds = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "DaemonSet"][0]
a = ds["spec"]["template"]["spec"]["containers"][0]["args"]
print(a[a.index("--socket-lb") + 1])' "$out/bool-$v.out" 2>&1 | tail -n 1)"
	xlb_check_eq "$got" "$v" "socketLB: $v unquoted (a YAML boolean): --socket-lb $v"
done

# --- values the chart refuses ------------------------------------------------
refuse() {
	local what="$1" want="$2" o
	shift 2
	if o="$("$helm" template xlb "$chart" "$@" 2>&1)"; then
		xlb_fail "helm template refuses $what: it rendered"
	else
		xlb_check "helm template refuses $what: \"$want\"" grep -qF "$want" <<<"$o"
	fi
}
refuse "no interface" "interfaces: at least one node interface is required" \
	--set 'interfaces=null'
refuse "interfaces as a string" "must be a list of interface names" \
	--set interfaces=eth0
refuse "a port out of range" "metrics.port: 70000: not a TCP port" \
	--set metrics.port=70000
refuse "an interface entry with a comma" \
	'interfaces: "eth0,eth1": each entry is one name or pattern (no comma, no white space)' \
	--set-json 'interfaces=["eth0,eth1"]'
refuse "an interface entry with a space" \
	'interfaces: "eth0 eth1": each entry is one name or pattern' \
	--set-json 'interfaces=["eth0 eth1"]'
refuse "an empty interface entry" 'interfaces: "": each entry is one name or pattern' \
	--set-json 'interfaces=["eth0", ""]'
refuse "a nodePortAddresses entry with a comma" \
	'nodePortAddresses: "primary,10.0.0.0/8": each entry is one CIDR or "primary"' \
	--set-json 'nodePortAddresses=["primary,10.0.0.0/8"]'
refuse "nodePortAddresses as a string" 'nodePortAddresses: primary: must be a list' \
	--set nodePortAddresses=primary
refuse "socketLB not on, off or host" "socketLB: maybe: must be on, off or host" \
	--set socketLB=maybe
refuse "no cgroup.hostPath" "cgroup.hostPath is required" \
	--set cgroup.hostPath=null
refuse "no capability and not privileged" \
	"securityContext.capabilities: empty while securityContext.privileged is false" \
	--set 'securityContext.capabilities=null'

# --- server-side dry run -------------------------------------------------------
if [ ! -f "$here/k8s-real/cluster.sh" ]; then
	echo "SKIP: helm chart: server-side dry run: no selftests/k8s-real/cluster.sh"
	exit 0
fi
. "$here/k8s-real/cluster.sh"
if ! "$here/k8s-real/build.sh" $([ "${XLB_K8S_BUILD:-1}" = 0 ] && echo --check) \
	>/dev/null 2>&1; then
	cannot_run "helm chart: server-side dry run: kube-apiserver $XLB_K8S_VERSION cannot be built in $XLB_K8S_BIN (selftests/k8s-real/build.sh)"
fi
ns="$XLB_PFX-k8s"
xlb_ns_add "$ns" || { xlb_fail "create namespace $ns"; exit 1; }
if ! xlb_k8s_start "$XLB_RUN/k8s" "$ns"; then
	xlb_fail "start etcd and kube-apiserver $XLB_K8S_VERSION"
	exit 1
fi
xlb_log "kube-apiserver $XLB_K8S_VERSION ready in $XLB_K8S_READY_MS ms"
for f in default custom fallback host; do
	[ -s "$out/$f.yaml" ] || continue
	xlb_k8s_dryrun --prefix "dry run ($f values): " "$out/$f.yaml" ||
		xlb_log "dry run ($f values): some objects rejected"
done

# The dry run refuses what is invalid: the default DaemonSet with its init
# container made unprivileged (Bidirectional propagation needs privileged),
# and the privileged one of the non-default values with
# allowPrivilegeEscalation false (the chart leaves it out there).
mutate() {
	python3 - "$@" <<'EOF'
import sys
import yaml
src, what = sys.argv[1:3]
for d in yaml.safe_load_all(open(src)):
    if d and d["kind"] == "DaemonSet":
        pod = d["spec"]["template"]["spec"]
        if what == "init":
            pod["initContainers"][0]["securityContext"]["privileged"] = False
        else:
            pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = False
        print(yaml.safe_dump(d))
EOF
}
refused() {
	local what="$1" file="$2" want="$3" o st
	o="$(xlb_k8s_dryrun "$file")"
	st=$?
	if [ $st -ne 0 ] && grep -q "$want" <<<"$o"; then
		xlb_pass "dry run refuses $what"
	else
		xlb_fail "dry run of $what: status $st: $(sed 's/^[A-Z]*: //' <<<"$o" | head -n 2)"
	fi
}
mutate "$out/default.yaml" init >"$out/invalid-init.yaml"
refused "an unprivileged init container with Bidirectional propagation" \
	"$out/invalid-init.yaml" Bidirectional
mutate "$out/custom.yaml" escalation >"$out/invalid-escalation.yaml"
refused "allowPrivilegeEscalation false in a privileged container" \
	"$out/invalid-escalation.yaml" allowPrivilegeEscalation

# The RBAC objects of the default render, created for real, give the
# ServiceAccount what xlbd reads and nothing else, as the API server's
# SubjectAccessReview answers.
python3 - "$out/default.yaml" "$out" <<'EOF'
import json
import sys
import yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
        json.dump(d, open("%s/rbac-%s.json" % (sys.argv[2], d["kind"]), "w"))
EOF
created=1
for p in "/api/v1/namespaces/kube-system/serviceaccounts ServiceAccount" \
	"/apis/rbac.authorization.k8s.io/v1/clusterroles ClusterRole" \
	"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings ClusterRoleBinding"; do
	set -- $p
	if ! o="$(xlb_k8s_api POST "$1" "@$out/rbac-$2.json")"; then
		xlb_fail "create the $2 of the default render: $(head -c 300 <<<"$o")"
		created=0
	fi
done
sa=system:serviceaccount:kube-system:xlb
# can VERB [GROUP/]RESOURCE: prints true or false (or error).
can() {
	local verb="$1" group="" res="$2" o
	if [ "${res#*/}" != "$res" ]; then
		group="${res%/*}"
		res="${res#*/}"
	fi
	o="$(xlb_k8s_api POST /apis/authorization.k8s.io/v1/subjectaccessreviews \
		"{\"apiVersion\": \"authorization.k8s.io/v1\", \"kind\": \"SubjectAccessReview\",
		  \"spec\": {\"user\": \"$sa\", \"resourceAttributes\":
		  {\"verb\": \"$verb\", \"group\": \"$group\", \"resource\": \"$res\"}}}")" || {
		echo error
		return
	}
	python3 -c 'import json, sys; print(str(json.load(sys.stdin)["status"].get("allowed", False)).lower())' <<<"$o"
}
if [ $created = 1 ]; then
	for r in services nodes discovery.k8s.io/endpointslices; do
		for v in get list watch; do
			xlb_check_eq "$(can "$v" "$r")" true "RBAC: $sa may $v $r"
		done
	done
	for vr in create:services update:services delete:services patch:nodes \
		create:discovery.k8s.io/endpointslices \
		update:discovery.k8s.io/endpointslices \
		get:secrets list:pods list:configmaps list:endpoints; do
		xlb_check_eq "$(can "${vr%%:*}" "${vr#*:}")" false \
			"RBAC: $sa may not ${vr%%:*} ${vr#*:}"
	done
fi

# --- helm install, upgrade, uninstall ----------------------------------------
# helm itself against the API server: a release in a namespace it
# creates, its NOTES, the stored DaemonSet, an upgrade, an uninstall.
export HELM_CACHE_HOME="$out/helm-cache" HELM_CONFIG_HOME="$out/helm-config" \
	HELM_DATA_HOME="$out/helm-data"
hk() {
	ip netns exec "$ns" "$helm" --kubeconfig "$XLB_K8S_KUBECONFIG" \
		--namespace xlb-system "$@" 2>&1
}
ds_path=/apis/apps/v1/namespaces/xlb-system/daemonsets/xlb-helm
ds_field() { xlb_k8s_api GET "$ds_path" | xlb_jq "$1"; }
o="$(hk install xlb-helm "$chart" --create-namespace --set k8sServiceHost=10.0.0.10)"
if grep -q 'STATUS: deployed' <<<"$o"; then
	xlb_pass "helm install: release xlb-helm deployed"
	xlb_check "helm install: NOTES name the DaemonSet and the interfaces" \
		grep -q 'runs as DaemonSet xlb-system/xlb-helm on interfaces eth0' <<<"$o"
	xlb_check "helm install: NOTES say the socket-level balancing mode and cgroup" \
		grep -q 'Socket-level balancing: on (hooks on the node.s cgroup v2 hierarchy, /sys/fs/cgroup)' <<<"$o"
	xlb_check "helm install: NOTES tell how to replace kube-proxy (delete it, --skip-phases, --cleanup)" \
		bash -c 'grep -q "delete daemonset kube-proxy" <<<"$1" && grep -q "skip-phases=addon/kube-proxy" <<<"$1" && grep -q "kube-proxy --cleanup" <<<"$1"' _ "$o"
	xlb_check "helm install: NOTES say traffic to other nodes' backends needs the next issue's source NAT" \
		bash -c 'grep -q "needs source NAT (the next issue)" <<<"$1" && grep -q "externalTrafficPolicy: Local" <<<"$1"' _ "$o"
	xlb_check "helm install: NOTES do not warn when k8sServiceHost is set" \
		bash -c "! grep -q WARNING <<<\"\$1\"" _ "$o"
	xlb_check_eq "$(ds_field '"%s %s" % (d["spec"]["template"]["spec"]["hostNetwork"], d["spec"]["template"]["spec"]["containers"][0]["args"][4])')" \
		"True eth0" "helm install: the stored DaemonSet (hostNetwork, --iface)"
	o="$(hk upgrade xlb-helm "$chart" --reuse-values --set 'interfaces={eth1,eth2}' \
		--set socketLB=off)"
	xlb_check "helm upgrade: revision 2 deployed" grep -q 'REVISION: 2' <<<"$o"
	xlb_check "helm upgrade: NOTES say socket-level balancing is off" \
		grep -q '^Socket-level balancing: off (xlbd removes hooks a previous xlbd attached' <<<"$o"
	xlb_check_eq "$(ds_field 'd["spec"]["template"]["spec"]["containers"][0]["args"][4]')" \
		"eth1,eth2" "helm upgrade: the stored DaemonSet has the new interfaces"
	o="$(hk uninstall xlb-helm)"
	xlb_check "helm uninstall: release uninstalled" grep -q 'uninstalled' <<<"$o"
	xlb_check_eq "$(xlb_k8s_api GET "$ds_path" | xlb_jq 'd.get("code")')" 404 \
		"helm uninstall: the DaemonSet is gone"
else
	xlb_fail "helm install: $(tail -n 3 <<<"$o")"
fi

# --- the rendered pod, run ------------------------------------------------------
# What the kubelet would run on a node, minus the container: the init
# container's command and then xlbd with the DaemonSet's args and env
# ($(VAR) expanded, spec.nodeName given), rendered with k8sServiceHost/
# Port pointing at the real API server, in the API server's network
# namespace with a veth named eth0, and a private mount namespace in which
# /sys/fs/bpf starts without bpffs and the ServiceAccount's token (from
# the TokenRequest API) and the CA are at their in-pod path. xlbd must
# become ready on the probes' port and path with the chart's RBAC alone,
# and program the Services it watches.
if [ $created != 1 ]; then
	exit 0
fi
if ! "$XLB_XLBD" --help 2>&1 | grep -q -- --in-cluster; then
	echo "SKIP: helm chart: rendered pod run: $XLB_XLBD has no --in-cluster option"
	exit 0
fi
node=xlb-helm-node
api_port="${XLB_K8S_URL##*:}"
render "k8sServiceHost/Port of the test API server" "$out/run.yaml" xlb \
	--namespace kube-system --set k8sServiceHost=127.0.0.1 \
	--set k8sServicePort="$api_port" || exit 1
tok="$(xlb_k8s_api POST /api/v1/namespaces/kube-system/serviceaccounts/xlb/token \
	'{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}' |
	xlb_jq 'd["status"]["token"]')"
if [ -z "$tok" ]; then
	xlb_fail "TokenRequest for ServiceAccount kube-system/xlb"
	exit 1
fi
mkdir -p "$out/sa" && printf '%s' "$tok" >"$out/sa/token" &&
	cp "$XLB_K8S_CA" "$out/sa/ca.crt"

# The node's cgroup hierarchy, as the pod's hostPath shows it, is a cgroup
# this run made (under lib.sh's per-run cgroup, removed with it): the
# socket hooks attach there, never to this machine's cgroup root.
node_cg="$XLB_CGROUP/helm-node"
mkdir "$node_cg" || { xlb_fail "make the run's node cgroup $node_cg"; exit 1; }
cg_root="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)"
root_hooks() { bpftool cgroup show "$cg_root" 2>/dev/null | grep -c xlb; }
root_hooks_before="$(root_hooks)"

# pod.sh: generated from the render; probe.env: the probes' port and paths.
# Each hostPath volume is mapped to what the test gives for its path
# (HOSTPATH=DIR, or =tmpfs for a fresh empty one): mounted at the
# container's mountPath, read-only where the mount says so; a hostPath
# the test does not map fails the run. xlbd runs with exactly the
# capabilities the container is granted (setpriv: bounding set, no
# inheritable or ambient ones, no_new_privs when privilege escalation is
# off), as the container runtime starts it.
python3 - "$out/run.yaml" "$node" "$out/sa" "$XLB_XLBD" "$out/pod.sh" \
	"$out/probe.env" /sys/fs/bpf=tmpfs "/sys/fs/cgroup=$node_cg" <<'EOF'
import re
import shlex
import sys
import yaml
src, node, sa, xlbd, script, probe = sys.argv[1:7]
hostmap = dict(a.split("=", 1) for a in sys.argv[7:])
ds = [d for d in yaml.safe_load_all(open(src))
      if d and d["kind"] == "DaemonSet"][0]
pod = ds["spec"]["template"]["spec"]
c = pod["containers"][0]
fields = {"spec.nodeName": node}


def environ(ctr):
    env = {}
    for e in ctr.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            env[e["name"]] = fields[e["valueFrom"]["fieldRef"]["fieldPath"]]
    return env


def expand(s, env):
    return re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), s)


q = shlex.quote
path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
sadir = "/var/run/secrets/kubernetes.io/serviceaccount"
vols = {v["name"]: v for v in pod.get("volumes", [])}
mounts = {}
for ctr in pod.get("initContainers", []) + pod["containers"]:
    for m in ctr.get("volumeMounts", []):
        hp = vols[m["name"]].get("hostPath", {}).get("path")
        if hp is None:
            continue
        if hp not in hostmap:
            sys.exit("hostPath %s (volume %s): not mapped by the test" %
                     (hp, m["name"]))
        mounts[m["mountPath"]] = (hostmap[hp], bool(m.get("readOnly")))
# Directories to bind are staged under a tmpfs at /mnt before /run (where
# they may live) is hidden by the pod's own tmpfs, then moved in place.
lines = ["set -e",
         "tok=\"$(cat %s/token)\"; ca=\"$(cat %s/ca.crt)\"" % (q(sa), q(sa)),
         "mount -t tmpfs xlb-test /mnt"]
for i, (mp, (what, ro)) in enumerate(sorted(mounts.items())):
    if what != "tmpfs":
        lines += ["mkdir /mnt/%d" % i, "mount --bind %s /mnt/%d" % (q(what), i)]
lines += ["mount -t tmpfs xlb-test /run",
          "mkdir -p %s" % sadir,
          "printf '%%s' \"$tok\" >%s/token" % sadir,
          "printf '%%s\\n' \"$ca\" >%s/ca.crt" % sadir]
for i, (mp, (what, ro)) in enumerate(sorted(mounts.items())):
    lines.append("mkdir -p %s" % q(mp))
    if what == "tmpfs":
        lines.append("mount -t tmpfs xlb-test %s" % q(mp))
    else:
        lines.append("mount --move /mnt/%d %s" % (i, q(mp)))
        if ro:
            lines.append("mount -o remount,bind,ro %s" % q(mp))
for ic in pod.get("initContainers", []):
    env = environ(ic)
    lines.append("env -i %s %s %s" % (
        path, " ".join(q("%s=%s" % kv) for kv in env.items()),
        " ".join(q(expand(a, env)) for a in ic["command"] + ic.get("args", []))))
env = environ(c)
args = [expand(a, env) for a in c["args"]]
sc = c.get("securityContext", {})
priv = []
if not sc.get("privileged"):
    caps = sc["capabilities"]["add"]
    priv = ["setpriv", "--inh-caps=-all", "--ambient-caps=-all",
            "--bounding-set=-all," + ",".join("+" + x.lower() for x in caps)]
    if sc.get("allowPrivilegeEscalation") is False:
        priv.append("--no-new-privs")
    priv.append("--")
lines.append("exec env -i %s %s %s %s %s" % (
    path, " ".join(q("%s=%s" % kv) for kv in env.items()),
    " ".join(priv), q(xlbd), " ".join(q(a) for a in args)))
open(script, "w").write("\n".join(lines) + "\n")
lp, rp = c["livenessProbe"]["httpGet"], c["readinessProbe"]["httpGet"]
open(probe, "w").write("live_port=%d live_path=%s ready_port=%d ready_path=%s "
                       "caps=%s hostpid=%s\n" % (
    lp["port"], q(lp["path"]), rp["port"], q(rp["path"]),
    q(",".join(sc.get("capabilities", {}).get("add", []))),
    q(str(pod.get("hostPID", False)))))
EOF
[ -s "$out/pod.sh" ] || { xlb_fail "rendered pod: generate its script"; exit 1; }
. "$out/probe.env"
# The run shares this machine's PID namespace, as hostPID does.
xlb_check_eq "$hostpid" True "rendered pod: hostPID, which the run reproduces"

svc_json() {
	echo "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"$1\", \"namespace\": \"default\"},
	 \"spec\": {\"type\": \"ClusterIP\", \"clusterIP\": \"$2\",
	  \"ports\": [{\"name\": \"http\", \"protocol\": \"TCP\", \"port\": 80, \"targetPort\": 8080}]}}"
}
slice_json() {
	echo "{\"apiVersion\": \"discovery.k8s.io/v1\", \"kind\": \"EndpointSlice\",
	 \"metadata\": {\"name\": \"$1-1\", \"namespace\": \"default\",
	  \"labels\": {\"kubernetes.io/service-name\": \"$1\"}},
	 \"addressType\": \"IPv4\",
	 \"ports\": [{\"name\": \"http\", \"protocol\": \"TCP\", \"port\": 8080}],
	 \"endpoints\": [{\"addresses\": [\"$2\"], \"conditions\": {\"ready\": true}, \"nodeName\": \"$node\"}]}"
}
api_ok() {
	local what="$1" o
	shift
	o="$(xlb_k8s_api "$@")" || xlb_fail "$what: $(head -c 300 <<<"$o")"
}
api_ok "create Node $node" POST /api/v1/nodes \
	"{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"$node\"}}"
api_ok "create Service default/web" POST /api/v1/namespaces/default/services \
	"$(svc_json web 10.96.0.50)"
api_ok "create EndpointSlice default/web-1" POST \
	/apis/discovery.k8s.io/v1/namespaces/default/endpointslices "$(slice_json web 10.20.0.11)"

ip -n "$ns" link add eth0 type veth peer name eth1 &&
	ip -n "$ns" link set eth0 up && ip -n "$ns" link set eth1 up ||
	{ xlb_fail "create eth0 in $ns"; exit 1; }
xlb_bg pod "$ns" unshare --mount --propagation private bash "$out/pod.sh"
pod_log="$XLB_RUN/pod.log"
status() {
	ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://127.0.0.1:$1$2"
}
status_is() { [ "$(status "$1" "$2")" = "$3" ]; }
xlb_wait_until 30 status_is "$ready_port" "$ready_path" 200
xlb_check_eq "$(status "$ready_port" "$ready_path")" 200 \
	"rendered pod: readiness probe GET :$ready_port$ready_path answers 200 (log: $(grep -m1 -E 'ready:|error' "$pod_log" | cut -c1-120))"
xlb_check_eq "$(status "$live_port" "$live_path")" 200 \
	"rendered pod: liveness probe GET :$live_port$live_path answers 200"
xlb_check "rendered pod: the init container's command mounted bpffs at /sys/fs/bpf" \
	grep -q 'mounted bpffs at /sys/fs/bpf' "$pod_log"
pid="${XLB_BG[pod]}"
vips() {
	nsenter -t "$pid" -m -n "$XLB_XLBCTL" -o json service list |
		xlb_jq '" ".join(sorted({"%s:%d" % (s["vip"], s["port"]) for s in d}))'
}
# 10.96.0.1:443 is the "kubernetes" Service the API server makes itself.
xlb_check_eq "$(vips)" "10.96.0.1:443 10.96.0.50:80" \
	"rendered pod: xlbd, in-cluster with the chart's RBAC, programmed Services default/kubernetes and default/web (xlbctl in the pod's mounts)"
api_ok "create Service default/api" POST /api/v1/namespaces/default/services \
	"$(svc_json api 10.96.0.51)"
api_ok "create EndpointSlice default/api-1" POST \
	/apis/discovery.k8s.io/v1/namespaces/default/endpointslices "$(slice_json api 10.20.0.12)"
vips_are() { [ "$(vips)" = "$1" ]; }
xlb_wait_until 10 vips_are "10.96.0.1:443 10.96.0.50:80 10.96.0.51:80"
xlb_check_eq "$(vips)" "10.96.0.1:443 10.96.0.50:80 10.96.0.51:80" \
	"rendered pod: a Service created afterwards arrives through the watch"
xlb_check "rendered pod: no request refused (HTTP 403) in xlbd's log" \
	bash -c "! grep -qE 'HTTP 403|[Ff]orbidden' '$pod_log'"

# The socket hooks, loaded and attached with exactly the granted
# capabilities through the read-only cgroup mount: attached to the run's
# node cgroup only, and balancing a pod's connect() there. The pod is a
# network namespace of its own (a veth to the node, as a CNI makes it),
# its process a member of the node cgroup running as another user.
cap_names() { # cap_names HEX: the capability names, upper case, sorted
	capsh --decode="$1" | sed 's/^[^=]*=//; s/cap_//g' | tr 'a-z,' 'A-Z\n' | sort | paste -sd,
}
xlb_check_eq "$(cap_names "$(awk '$1 == "CapEff:" { print $2 }' "/proc/$pid/status")")" \
	"$(tr , '\n' <<<"$caps" | sort | paste -sd,)" \
	"rendered pod: xlbd's effective capabilities are exactly the granted ones"
xlb_check "rendered pod: socket hooks attached to the run's node cgroup (log: $(grep -m1 'socket-lb' "$pod_log" | cut -c1-100))" \
	sh -c "bpftool cgroup show '$node_cg' | grep -q connect4 && bpftool cgroup show '$node_cg' | grep -q sendmsg4"
xlb_check_eq "$(root_hooks)" "$root_hooks_before" \
	"rendered pod: nothing of xlb attached to this machine's cgroup root $cg_root"
pns="${ns}p"
xlb_ns_add "$pns" &&
	ip -n "$ns" link add hp0 type veth peer name eth0 netns "$pns" &&
	ip -n "$ns" addr add 10.244.0.1/24 dev hp0 && ip -n "$ns" link set hp0 up &&
	ip -n "$ns" addr add 10.20.0.11/32 dev lo &&
	ip -n "$ns" route replace 10.244.0.0/24 dev hp0 src 10.20.0.11 &&
	ip -n "$pns" addr add 10.244.0.2/24 dev eth0 && ip -n "$pns" link set eth0 up &&
	ip -n "$pns" link set lo up && ip -n "$pns" route add default via 10.244.0.1 ||
	xlb_fail "rendered pod: make a pod network namespace"
xlb_bg backend "$ns" "$XLB_PY" "$XLB_SERVERS/backend.py" web --http-port 8080 \
	--udp-port 9000 --say-peer
xlb_bg backend2 "$ns" "$XLB_PY" "$XLB_SERVERS/backend.py" web2 --http-port 8081 \
	--udp-port 9001 --say-peer
xlb_wait_until 10 ip netns exec "$ns" curl -s -o /dev/null --max-time 1 http://10.20.0.11:8080/
as_pod() {
	xlb_cg_exec "$node_cg" "$pns" setpriv --reuid=65534 --regid=65534 --clear-groups \
		timeout 30 "$XLB_PY" "$XLB_SERVERS/socklb_client.py" "$@"
}
o="$(as_pod tcp 10.96.0.50 80 1)"
xlb_check "rendered pod: a pod's connect() to ClusterIP 10.96.0.50:80 gets backend 10.20.0.11:8080 in the socket hook ($o)" \
	grep -q '^ok web 10.244.0.2 peer=10.96.0.50:80' <<<"$o"
# A stale UDP socket in the pod's namespace is closed when its backend
# leaves: the iterators entered a namespace found through the /proc of
# another user's process (hostPID, SYS_PTRACE, SYS_ADMIN).
api_ok "create Service default/dns" POST /api/v1/namespaces/default/services \
	'{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dns", "namespace": "default"},
	  "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.53",
	   "ports": [{"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 9000}]}}'
dns_slice() {
	echo "{\"apiVersion\": \"discovery.k8s.io/v1\", \"kind\": \"EndpointSlice\",
	 \"metadata\": {\"name\": \"dns-$1\", \"namespace\": \"default\",
	  \"labels\": {\"kubernetes.io/service-name\": \"dns\"}},
	 \"addressType\": \"IPv4\",
	 \"ports\": [{\"name\": \"dns\", \"protocol\": \"UDP\", \"port\": $3}],
	 \"endpoints\": [{\"addresses\": [\"$2\"], \"conditions\": {\"ready\": true}, \"nodeName\": \"$node\"}]}"
}
api_ok "create EndpointSlice default/dns-1" POST \
	/apis/discovery.k8s.io/v1/namespaces/default/endpointslices "$(dns_slice 1 10.20.0.11 9000)"
xlb_wait_until 10 vips_are "10.96.0.1:443 10.96.0.50:80 10.96.0.51:80 10.96.0.53:53"
destroyed() {
	nsenter -t "$pid" -m -n "$XLB_XLBCTL" -o json stats |
		xlb_jq "d['outcomes']['sock_destroyed']['packets']"
}
d0="$(destroyed)"
rm -f "$out/stale.go"
as_pod stale 10.96.0.53 53 "$out/stale.go" >"$out/stale.out" 2>&1 &
stale_pid=$!
xlb_wait_until 10 grep -q '^ok' "$out/stale.out"
api_ok "delete EndpointSlice default/dns-1" DELETE \
	/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/dns-1
api_ok "create EndpointSlice default/dns-2" POST \
	/apis/discovery.k8s.io/v1/namespaces/default/endpointslices "$(dns_slice 2 10.20.0.11 9001)"
destroyed_more() { [ "$(destroyed)" -gt "$d0" ]; }
xlb_wait_until 10 destroyed_more
touch "$out/stale.go"
wait "$stale_pid"
xlb_check "rendered pod: the pod's stale UDP socket was destroyed when its backend left, the application reconnected (sock_destroyed $d0 -> $(destroyed); $(paste -sd'|' "$out/stale.out"))" \
	test "$(destroyed)" -gt "$d0" -a "$(sed -n 2p "$out/stale.out" | cut -d' ' -f1)" = err -a \
	"$(sed -n 3p "$out/stale.out" | cut -d' ' -f1)" = ok
xlb_bg_stop backend TERM
xlb_bg_stop backend2 TERM
xlb_bg_stop pod TERM
xlb_check_eq "$?" 0 "rendered pod: xlbd stops on SIGTERM with status 0"
