#!/usr/bin/python3
"""The kubelet's part of a test node, for selftests/test_cluster.sh.

    kubelet.py --server URL --ca FILE --token-file FILE --node NAME
               --node-ip IP[,IP] --pod-cidrs CIDR[,CIDR] [--zone ZONE]
               --state-dir DIR --netns-prefix PFX --backend PATH
               [--cgroup DIR]

Runs in the node's network namespace. It registers the Node (addresses,
pod CIDRs, zone and hostname labels, Ready), then watches the Pods bound
to it (spec.nodeName) and does for each what a kubelet with a container
runtime does for its network:

* a new Pod gets a network namespace, attached by the CNI reference
  plugins (ptp + host-local from the node's pod CIDRs) invoked as a
  runtime invokes them (CNI_COMMAND=ADD, the netconf on stdin), a server
  (selftests/servers/backend.py, answering its name and the client
  address it saw) on the ports its containers declare, in a cgroup of its
  own under the node's (--cgroup, where the node's xlbd attaches its
  socket hooks, as a runtime puts pods under kubepods), and a status:
  Running, its IPs, Ready; DIR/NAME.env says where the pod runs
  ("NETNS CGROUP"), for the test to run clients in it;
* a Pod being deleted keeps serving for its terminationGracePeriodSeconds
  (an application draining its connections), then its server is stopped,
  CNI DEL releases its address, its namespace goes, and the Pod object is
  deleted for good (grace 0, preconditioned on its uid).

Readiness changes are the test's: it patches the status itself; this
agent writes a Pod's status once, when the Pod starts. On SIGTERM every
pod is torn down the same way (without deleting the objects).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "k8s-real"))
import dryrun  # noqa: E402  (its API client)


def log(msg):
    sys.stderr.write("%s kubelet: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class Api(dryrun.Api):
    """The dry run's client, plus what a kubelet needs: raise on an
    error status, and a watch stream."""

    def req(self, method, path, body=None, ctype="application/json"):
        code, doc = self.request(method, path, body, ctype)
        if code // 100 != 2:
            raise ApiError(code, doc.get("message", ""))
        return doc

    def stream(self, path, timeout):
        r = urllib.request.Request(self.server + path)
        r.add_header("Authorization", "Bearer " + self.token)
        return urllib.request.urlopen(r, context=self.ctx, timeout=timeout)


class ApiError(Exception):
    def __init__(self, code, msg):
        super().__init__("HTTP %d: %s" % (code, msg))
        self.code = code


class Pod:
    def __init__(self, obj):
        self.ns = obj["metadata"]["namespace"]
        self.name = obj["metadata"]["name"]
        self.uid = obj["metadata"]["uid"]
        self.obj = obj
        self.netns = None
        self.ips = []
        self.procs = []
        self.cgroup = None
        self.stopping = False


def rmdir_when_empty(d):
    # A cgroup goes once its last process has exited, which the kernel
    # notes a moment after wait() returns.
    for _ in range(50):
        try:
            os.rmdir(d)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    log("cgroup %s not removed" % d)


class Kubelet:
    def __init__(self, a):
        self.a = a
        with open(a.token_file) as f:
            token = f.read().strip()
        self.api = Api(a.server, a.ca, token)
        self.pods = {}
        self.lock = threading.Lock()
        self.n = 0

    # ---- the node -----------------------------------------------------
    def register(self):
        a = self.a
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": a.node, "labels": {
                "kubernetes.io/hostname": a.node,
                "kubernetes.io/os": "linux",
                "topology.kubernetes.io/zone": a.zone}},
            "spec": {"podCIDRs": a.pod_cidrs.split(","),
                     "podCIDR": a.pod_cidrs.split(",")[0]},
        }
        try:
            self.api.req("POST", "/api/v1/nodes", node)
        except ApiError as e:
            if e.code != 409:
                raise
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        status = {"status": {
            "addresses": [{"type": "InternalIP", "address": ip}
                          for ip in a.node_ip.split(",")] +
                         [{"type": "Hostname", "address": a.node}],
            "conditions": [{"type": "Ready", "status": "True",
                            "reason": "KubeletReady",
                            "lastHeartbeatTime": now,
                            "lastTransitionTime": now}]}}
        self.api.req("PATCH", "/api/v1/nodes/%s/status" % a.node, status,
                     "application/merge-patch+json")
        log("node %s registered" % a.node)

    # ---- CNI ------------------------------------------------------------
    def netconf(self):
        ranges = [[{"subnet": c}] for c in self.a.pod_cidrs.split(",")]
        return {
            "cniVersion": "1.0.0", "name": "xlb-test-pods", "type": "ptp",
            "ipMasq": False,
            "ipam": {"type": "host-local", "ranges": ranges,
                     "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}],
                     "dataDir": os.path.join(self.a.state_dir, "ipam")},
        }

    def cni(self, cmd, pod):
        env = dict(os.environ, CNI_COMMAND=cmd, CNI_CONTAINERID=pod.uid,
                   CNI_NETNS="/run/netns/" + pod.netns, CNI_IFNAME="eth0",
                   CNI_PATH=self.a.cni_path)
        conf = json.dumps(self.netconf())
        p = subprocess.run([os.path.join(self.a.cni_path, "ptp")],
                           input=conf.encode(), env=env,
                           capture_output=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError("CNI %s %s/%s: %s" % (
                cmd, pod.ns, pod.name, (p.stdout + p.stderr).decode()))
        return json.loads(p.stdout or b"{}")

    # ---- pods -----------------------------------------------------------
    def ports(self, pod):
        tcp, udp = None, None
        for c in pod.obj["spec"].get("containers", []):
            for p in c.get("ports", []):
                if p.get("protocol", "TCP") == "TCP" and tcp is None:
                    tcp = p["containerPort"]
                if p.get("protocol") == "UDP" and udp is None:
                    udp = p["containerPort"]
        return tcp, udp

    def start(self, pod):
        self.n += 1
        pod.netns = "%s-%s-p%d" % (self.a.netns_prefix, self.a.node, self.n)
        subprocess.run(["ip", "netns", "add", pod.netns], check=True)
        # What a runtime's loopback plugin does.
        subprocess.run(["ip", "-n", pod.netns, "link", "set", "lo", "up"],
                       check=True)
        res = self.cni("ADD", pod)
        pod.ips = [i["address"].split("/")[0] for i in res.get("ips", [])]
        tcp, udp = self.ports(pod)
        cmd = ["ip", "netns", "exec", pod.netns, sys.executable,
               self.a.backend, pod.name, "--say-peer"]
        if self.a.cgroup:
            # The server joins the pod's cgroup before it enters the
            # pod's namespace (ip netns exec remounts /sys).
            pod.cgroup = os.path.join(self.a.cgroup, pod.netns)
            os.mkdir(pod.cgroup)
            cmd = ["sh", "-c", 'echo $$ >"$0/cgroup.procs" && exec "$@"',
                   pod.cgroup] + cmd
        if tcp:
            cmd += ["--http-port", str(tcp)]
        if udp:
            cmd += ["--udp-port", str(udp)]
        logf = open(os.path.join(self.a.state_dir, pod.name + ".log"), "ab")
        pod.procs.append(subprocess.Popen(cmd, stdout=logf, stderr=logf,
                                          stdin=subprocess.DEVNULL))
        self.wait_listening(pod, tcp)
        with open(self.envfile(pod), "w") as f:
            f.write("%s %s\n" % (pod.netns, pod.cgroup or ""))
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        cond = [{"type": t, "status": "True", "lastTransitionTime": now}
                for t in ("PodScheduled", "Initialized", "ContainersReady",
                          "Ready")]
        status = {"status": {
            "phase": "Running", "hostIP": self.a.node_ip.split(",")[0],
            "hostIPs": [{"ip": i} for i in self.a.node_ip.split(",")],
            "podIP": pod.ips[0], "podIPs": [{"ip": i} for i in pod.ips],
            "startTime": now, "conditions": cond}}
        self.api.req("PATCH", "/api/v1/namespaces/%s/pods/%s/status" %
                     (pod.ns, pod.name), status,
                     "application/merge-patch+json")
        log("pod %s/%s started in %s with %s" % (pod.ns, pod.name,
                                                 pod.netns, pod.ips))

    def envfile(self, pod):
        return os.path.join(self.a.state_dir, pod.name + ".env")

    def wait_listening(self, pod, tcp):
        # The server answers before the Pod is Ready, as a readiness
        # probe would make sure of.
        if not tcp:
            time.sleep(0.3)
            return
        end = time.time() + 10
        while time.time() < end:
            r = subprocess.run(["ip", "netns", "exec", pod.netns, "python3",
                                "-c", "import socket; socket.create_connection"
                                "(('127.0.0.1', %d), 1)" % tcp],
                               capture_output=True)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("pod %s: server not listening on %d" %
                           (pod.name, tcp))

    def teardown(self, pod):
        for p in pod.procs:
            p.terminate()
        for p in pod.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        if pod.netns:
            try:
                self.cni("DEL", pod)
            except Exception as e:
                log(str(e))
            subprocess.run(["ip", "netns", "del", pod.netns])
        if pod.cgroup:
            rmdir_when_empty(pod.cgroup)
        try:
            os.unlink(self.envfile(pod))
        except FileNotFoundError:
            pass
        log("pod %s/%s stopped" % (pod.ns, pod.name))

    def terminate(self, pod):
        grace = pod.obj["spec"].get("terminationGracePeriodSeconds", 30)
        log("pod %s/%s terminating, serving for %s s" % (pod.ns, pod.name,
                                                          grace))
        time.sleep(grace)
        self.teardown(pod)
        body = {"kind": "DeleteOptions", "apiVersion": "v1",
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": pod.uid}}
        try:
            self.api.req("DELETE", "/api/v1/namespaces/%s/pods/%s" %
                         (pod.ns, pod.name), body)
        except ApiError as e:
            if e.code not in (404, 409):
                log("delete %s: %s" % (pod.name, e))
        with self.lock:
            self.pods.pop(pod.uid, None)

    def event(self, typ, obj):
        uid = obj["metadata"]["uid"]
        with self.lock:
            pod = self.pods.get(uid)
            if typ == "DELETED":
                if pod and not pod.stopping:
                    self.pods.pop(uid, None)
                    threading.Thread(target=self.teardown, args=(pod,),
                                     daemon=True).start()
                return
            if pod is None:
                if obj["metadata"].get("deletionTimestamp"):
                    return
                pod = Pod(obj)
                self.pods[uid] = pod
                new = True
            else:
                pod.obj = obj
                new = False
        if new:
            try:
                self.start(pod)
            except Exception as e:
                log("pod %s: cannot start: %s" % (pod.name, e))
            return
        if obj["metadata"].get("deletionTimestamp") and not pod.stopping:
            pod.stopping = True
            threading.Thread(target=self.terminate, args=(pod,),
                             daemon=True).start()

    def run(self):
        sel = urllib.parse.quote("spec.nodeName=" + self.a.node)
        while True:
            lst = self.api.req("GET", "/api/v1/pods?fieldSelector=" + sel)
            for obj in lst.get("items", []):
                self.event("ADDED", obj)
            rv = lst["metadata"]["resourceVersion"]
            try:
                with self.api.stream(
                        "/api/v1/pods?watch=1&fieldSelector=%s&"
                        "resourceVersion=%s&timeoutSeconds=300" % (sel, rv),
                        timeout=330) as resp:
                    for line in resp:
                        ev = json.loads(line)
                        if ev["type"] in ("ADDED", "MODIFIED", "DELETED"):
                            self.event(ev["type"], ev["object"])
                        elif ev["type"] == "ERROR":
                            break
            except (OSError, ValueError) as e:
                log("watch ended: %s" % e)
                time.sleep(0.5)

    def stop_all(self):
        with self.lock:
            pods = list(self.pods.values())
            self.pods.clear()
        for p in pods:
            self.teardown(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--node-ip", required=True)
    ap.add_argument("--pod-cidrs", required=True)
    ap.add_argument("--zone", default="zone-a")
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--netns-prefix", required=True)
    ap.add_argument("--backend", required=True)
    ap.add_argument("--cni-path", default="/usr/lib/cni")
    ap.add_argument("--cgroup", default="")
    a = ap.parse_args()
    os.makedirs(a.state_dir, exist_ok=True)
    k = Kubelet(a)

    def on_term(*_):
        k.stop_all()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    for i in range(100):
        try:
            k.register()
            break
        except (OSError, urllib.error.URLError) as e:
            if i == 99:
                raise
            log("API server not reachable yet: %s" % e)
            time.sleep(0.2)
    k.run()


if __name__ == "__main__":
    main()
