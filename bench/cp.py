#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Control-plane benchmark: how long until N services are programmed, and
what one endpoint change costs, for xlbd and for kube-proxy-shaped
iptables rules (legacy and nft), on the same synthetic service sets
(bench/synth.py: N services x 3 endpoints).

  bench/cp.py [--sizes 1000,10000,100000] [--changes 100]
              [--modes file,dir,k8s[,k8s-real]] [--per-file 100]
              [--k8s-poll] [--out FILE]

xlbd, per N and config mode, in a namespace of its own with one veth.
Mode "file": one JSON file of N services; mode "dir": a directory of
N / --per-file files of --per-file services each (xlbd's partial apply:
a changed file's services only are re-read and diffed); mode "k8s": the
same services as N Services (ClusterIP, UDP port "p" 80 -> 8080) and N
EndpointSlices of 3 ready endpoints, which xlbd lists and watches
through selftests/k8s/fake_apiserver.py, run in the namespace as
selftests/test_k8s.sh runs it (TLS, bearer token, kubeconfig), preloaded
with them, pages of xlbd's own list limit, each watch event in one
chunk sent at once. Mode "k8s-real" (not in the default modes: creating
the objects through a real API server takes minutes at 10,000): the same
objects created through a real kube-apiserver and etcd
(selftests/k8s-real/start.sh, the binaries selftests/run.sh builds),
then listed and watched by xlbd as admin; a change is the EndpointSlice
PUT to the API server, its commit to etcd and the watch fan-out inside
the time.
  ready_s      start of xlbd -> its "ready:" log line (maps created,
               programs loaded and attached, every service programmed;
               "k8s": the lists read as well, listed_s of it, with the
               CPU seconds xlbd and the fake server spent until then)
  programmed_ms  the sync time xlbd reports in that line
  change p50/p99  one endpoint changed, over --changes changes, with
               xlbd's own apply time alongside. "file", "dir": the file
               holding the service written aside (a dot name xlbd
               ignores) and renamed over it -> xlbd's "config ...
               changed:" log line. "k8s": the changed EndpointSlice
               POSTed to the fake server's control port -> xlbd's debug
               line (-vv) that applied it (xlbd logs nothing per watch
               event at its default level); xlbd's own time is that of
               its next line, event arrival -> maps, which its /metrics
               sync histogram must have counted once per change.
               --k8s-poll times it instead by polling the maps with
               xlbctl (and reports what one poll costs)
  map memory   bytes_memlock of xlbd's pinned maps (bpftool; the kernel's
               own accounting of each map), and xlbd's peak RSS (VmHWM);
               "k8s": also its RSS when the lists were read (sampled
               every 20 ms: the cache before the first sync) and the
               heap's part (RssAnon) at the end
iptables, per N and flavour, in a fresh namespace:
  restore_s    iptables-<flavour>-restore of the whole rule set
  rerestore_s  the same again with one endpoint changed (a full resync)
  delta_s      --noflush restore of just the changed chains (the minimal
               resync)
Every restore is capped at 5 minutes; a capped one is reported as such.
Prints a markdown table; --out writes JSON with the table in "markdown".
"""
import argparse
import ctypes
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYNTH = os.path.join(ROOT, "bench", "synth.py")
XLBD = os.path.join(ROOT, "build", "user", "xlbd")
XLBCTL = os.path.join(ROOT, "build", "user", "xlbctl")
FAKE = os.path.join(ROOT, "selftests", "k8s", "fake_apiserver.py")
K8S_START = os.path.join(ROOT, "selftests", "k8s-real", "start.sh")
CAP_S = 300
RING_PER_SVC = 307      # the Maglev table xlbd picks for 3 backends

sys.path.insert(0, os.path.join(ROOT, "bench"))
import synth  # noqa: E402


def log(msg):
    print("== " + msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


class Env:
    """A namespace with one veth pair and a private bpffs; removed on
    close()."""

    def __init__(self, tag, loopback=False):
        """loopback: lo up as well (servers on 127.0.0.1 in the
        namespace)."""
        self.ns = "xbcp%d%s" % (os.getpid(), tag)
        self.dir = tempfile.mkdtemp(prefix="xlb-cp.", dir="/run")
        # xlbd pins in a directory of its own under the mount: the
        # mount's root is writable by everyone (sticky), and xlbd
        # refuses a pin directory others may write to.
        self.mnt = os.path.join(self.dir, "bpffs")
        self.bpffs = os.path.join(self.mnt, "xlb")
        self.mounted = False
        self.created = False
        try:
            run(["ip", "netns", "add", self.ns])
            self.created = True
            run(["ip", "-n", self.ns, "link", "add", "cp0", "type", "veth",
                 "peer", "name", "cp1"])
            run(["ip", "-n", self.ns, "link", "set", "cp0", "up"])
            run(["ip", "-n", self.ns, "link", "set", "cp1", "up"])
            if loopback:
                run(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        except BaseException:
            self.close()
            raise

    def mount_bpffs(self):
        os.makedirs(self.mnt, exist_ok=True)
        run(["mount", "-t", "bpf", "bpf", self.mnt])
        self.mounted = True

    def close(self):
        if self.created:
            subprocess.run(["ip", "netns", "del", self.ns],
                           stderr=subprocess.DEVNULL)
            self.created = False
        if self.mounted:
            subprocess.run(["umount", self.mnt], stderr=subprocess.DEVNULL)
            self.mounted = False
        shutil.rmtree(self.dir, ignore_errors=True)


class Xlbd:
    """xlbd in Env's namespace; every stderr line timestamped on arrival."""

    def __init__(self, env, config, n, sizes=None, source=None):
        """sizes: {"ring_slots", "services", "backends"}, or None for
        xlbd's defaults grown to fit n services. source: the arguments
        naming what to program instead of --config config (the
        Kubernetes mode's)."""
        if sizes is None:
            slots = n * RING_PER_SVC
            slots = max(4194304, slots + slots // 8 + (1 << 20))
            slots += slots & 1
            sizes = {"ring_slots": slots,
                     "services": max(131072, n + 1024),
                     "backends": max(524288, 4 * n + 4096)}
        cmd = ["nsenter", "--net=/run/netns/" + env.ns, XLBD]
        cmd += source if source else ["--config", config]
        # No socket hooks: the control plane is what is measured, and
        # they must not attach to this machine's root cgroup.
        cmd += ["--iface", "cp0", "--bpffs", env.bpffs, "--socket-lb", "off",
                "--ring-slots", str(sizes["ring_slots"]),
                "--max-services", str(sizes["services"]),
                "--max-backends", str(sizes["backends"])]
        self.lines = []
        self.cond = threading.Condition()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.rss = []           # (time, RSS kB), every 20 ms
        threading.Thread(target=self._sample_rss, daemon=True).start()

    def _sample_rss(self):
        while self.proc.poll() is None:
            try:
                kb = self.peak_rss_kb("VmRSS")
            except OSError:
                return
            if kb:
                self.rss.append((time.monotonic(), kb))
            time.sleep(0.02)

    def rss_before(self, t):
        """The highest RSS (kB) sampled before time t."""
        return max((kb for st, kb in self.rss if st < t), default=None)

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, pattern, start, timeout):
        """(time, line) of the first line from index start matching."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    t, line = self.lines[i]
                    i += 1
                    if rx.search(line):
                        return t, line, i
                if self.proc.poll() is not None and i >= len(self.lines):
                    raise RuntimeError("xlbd exited (status %s): %s" % (
                        self.proc.returncode,
                        " | ".join(l for _, l in self.lines[-5:])))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("xlbd: no line /%s/ in %d s" %
                                       (pattern, timeout))
                self.cond.wait(min(left, 0.5))

    def wait_watching(self, timeout):
        """Waits until xlbd watches its config (an inotify watch in its
        fdinfo): xlbd logs "ready:" before it sets the watch up, and a
        change written in between would go unseen. Returns the wait."""
        t0 = time.monotonic()
        fdinfo = "/proc/%d/fdinfo" % self.proc.pid
        while time.monotonic() - t0 < timeout:
            for fd in os.listdir(fdinfo):
                try:
                    with open(os.path.join(fdinfo, fd)) as f:
                        if "inotify wd:" in f.read():
                            return time.monotonic() - t0
                except OSError:
                    pass
            time.sleep(0.01)
        raise RuntimeError("xlbd: no inotify watch %d s after ready" %
                           timeout)

    def peak_rss_kb(self, field="VmHWM"):
        """Peak RSS; field="VmRSS": the RSS now."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return None

    def stop(self):
        stop_process(self.proc, 30)


def log_tail(path):
    """The last lines of a log file, as one line."""
    try:
        with open(path) as f:
            return " | ".join(f.read().splitlines()[-3:])
    except OSError:
        return ""


def stop_process(proc, wait_s):
    """SIGTERM, then SIGKILL after wait_s seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pctile(values, q):
    """Nearest-rank percentile: p99 of 100 values is the 99th lowest."""
    v = sorted(values)
    return v[max(0, math.ceil(q * len(v)) - 1)]


def change_key(c, n):
    """The service change c touches: a stride through the n services."""
    return (c * 7919) % n


def change_keys(n, changes):
    """The one-endpoint changes of both xlbd benchmarks: yields (c, k,
    changed), change c moving endpoint 0 of service k, changed the
    services whose endpoint 0 is moved after it; stops after CAP_S."""
    changed = set()
    start = time.monotonic()
    for c in range(changes):
        if time.monotonic() - start > CAP_S:
            log("  changes stopped after %d: over %d s" % (c, CAP_S))
            return
        k = change_key(c, n)
        changed ^= {k}
        yield c, k, changed


def change_stats(res, lat, own):
    """Latency of the changes (ms, start to applied) and xlbd's own
    apply time of each, into res."""
    res["changes"] = len(lat)
    if lat:
        res["change_ms_each"] = [round(x, 3) for x in lat]
        res["change_p50_ms"] = round(statistics.median(lat), 2)
        res["change_p99_ms"] = round(pctile(lat, 0.99), 2)
        res["change_max_ms"] = round(max(lat), 2)
        if own:
            res["change_own_p50_ms"] = round(statistics.median(own), 2)
            res["change_own_p99_ms"] = round(pctile(own, 0.99), 2)


def write_atomic(path, text):
    tmp = os.path.join(os.path.dirname(path), ".next-" +
                       os.path.basename(path))
    with open(tmp, "w") as f:
        f.write(text)
    return tmp


def xlb_config(n, changed, first=0):
    """The config of services first .. n-1 with the endpoints of
    `changed` moved."""
    svcs = []
    for i in range(first, n):
        svcs.append({
            "name": "svc-%d" % i, "vip": synth.vip(i),
            "port": synth.SVC_PORT, "protocol": "udp",
            "backends": [{"ip": synth.endpoint(i, k, 3,
                                               i if i in changed else None),
                          "port": synth.BE_PORT} for k in range(3)]})
    return json.dumps({"services": svcs}, separators=(",", ":"))


def map_memory(bpffs):
    total, per = 0, {}
    for name in sorted(os.listdir(bpffs)):
        path = os.path.join(bpffs, name)
        if not name.startswith("xlb_") or os.path.isdir(path):
            continue
        r = subprocess.run(["bpftool", "-j", "map", "show", "pinned", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            continue
        info = json.loads(r.stdout)
        per[name] = info.get("bytes_memlock", 0)
        total += per[name]
    return total, per


def dir_file(i, per_file):
    return "svc-%05d.json" % (i // per_file)


def bench_xlbd(n, changes, mode="file", per_file=100):
    log("xlbd: %d services, %s" % (n, "one file" if mode == "file" else
                                   "directory of %d-service files" %
                                   per_file))
    env = Env("x")
    xd = None
    res = {"n": n, "mode": mode}
    if mode == "dir":
        res["per_file"] = per_file
        res["files"] = (n + per_file - 1) // per_file
    try:
        env.mount_bpffs()
        if mode == "dir":
            config = os.path.join(env.dir, "services")
            os.mkdir(config)
            for lo in range(0, n, per_file):
                with open(os.path.join(config, dir_file(lo, per_file)),
                          "w") as f:
                    f.write(xlb_config(min(n, lo + per_file), set(), lo))
            changed_rx = r"config \S+\.json changed:"
        else:
            config = os.path.join(env.dir, "services.json")
            with open(config, "w") as f:
                f.write(xlb_config(n, set()))
            changed_rx = r"config changed:"
        xd = Xlbd(env, config, n)
        t, line, idx = xd.wait_line(r"ready:", 0, CAP_S)
        res["ready_s"] = round(t - xd.t0, 4)
        m = re.search(r"programmed in ([0-9.]+) ms", line)
        res["programmed_ms"] = float(m.group(1)) if m else None
        log("  ready after %.3f s (%s)" % (res["ready_s"], line.split(
            "ready:")[1].strip()))
        res["watch_after_ready_s"] = round(xd.wait_watching(60), 3)

        lat, own = [], []
        for c, k, changed in change_keys(n, changes):
            if mode == "dir":
                lo = k - k % per_file
                path = os.path.join(config, dir_file(k, per_file))
                tmp = write_atomic(path, xlb_config(
                    min(n, lo + per_file), changed, lo))
            else:
                path = config
                tmp = write_atomic(config, xlb_config(n, changed))
            t0 = time.monotonic()
            os.rename(tmp, path)
            t, line, idx = xd.wait_line(changed_rx, idx, 60)
            lat.append((t - t0) * 1000)
            m = re.search(r"in ([0-9.]+) ms", line)
            if m:
                own.append(float(m.group(1)))
            if mode == "dir" and os.path.basename(path) not in line:
                raise RuntimeError("change %d: applied another file: %s" %
                                   (c, line))
            if "1 updated" not in line and "backends +1 -1" not in line:
                raise RuntimeError("change %d: unexpected reload: %s" %
                                   (c, line))
        change_stats(res, lat, own)
        # The last change is what the maps hold.
        last = change_key(len(lat) - 1, n) if lat else None
        if last is not None:
            r = subprocess.run([XLBCTL, "--bpffs", env.bpffs, "-o", "json",
                                "backend", "list"], capture_output=True,
                               text=True, check=True)
            ips = {b["ip"] for b in json.loads(r.stdout)
                   if b.get("service") == "svc-%d" % last}
            want = synth.endpoint(last, 0, 3, last if last in changed
                                  else None)
            res["last_change_in_maps"] = want in ips
        res["map_bytes"], res["maps"] = map_memory(env.bpffs)
        res["rss_peak_kb"] = xd.peak_rss_kb()
        log("  change p50 %.1f ms, p99 %.1f ms; maps %.1f MiB; RSS %.1f MiB"
            % (res.get("change_p50_ms", 0), res.get("change_p99_ms", 0),
               res["map_bytes"] / 2**20, (res["rss_peak_kb"] or 0) / 1024))
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        res["error"] = str(e)
        log("  error: %s" % e)
    finally:
        if xd:
            xd.stop()
        env.close()
    return res


# ---- the Kubernetes mode ---------------------------------------------------

K8S_NS = "bench"          # the Services' namespace, as synth.svc_name's
K8S_PORT = "p"            # their port name, as synth.svc_name's
K8S_NODE = "bench-node"   # this node; every endpoint is on another one
API_PORT, CTL_PORT, METRICS_PORT = 6443, 18080, 9477
CLONE_NEWNET = 0x40000000
# The alphabet of the random suffixes of generated names (apimachinery's).
SUFFIX_ABC = "bcdfghjklmnpqrstvwxz2456789"

_libc = ctypes.CDLL(None, use_errno=True)


def xlbd_list_limit():
    """The page size xlbd asks its lists for (LIST_LIMIT, user/k8s/watch.c): a
    real API server answers limit=L with pages of L, so the fake server
    may not cut them smaller."""
    with open(os.path.join(ROOT, "user", "k8s", "watch.c")) as f:
        m = re.search(r"^#define LIST_LIMIT (\d+)", f.read(), re.M)
    if not m:
        raise RuntimeError("user/k8s/watch.c: no LIST_LIMIT")
    return int(m.group(1))


def ns_connect(ns, port, timeout=60):
    """A TCP connection to 127.0.0.1:port in network namespace ns: made
    by a thread that entered it (setns acts on the calling thread; the
    socket stays in the namespace it was made in)."""
    out = {}

    def body():
        try:
            fd = os.open("/run/netns/" + ns, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET):
                    e = ctypes.get_errno()
                    raise OSError(e, "setns %s: %s" % (ns, os.strerror(e)))
            finally:
                os.close(fd)
            out["sock"] = socket.create_connection(("127.0.0.1", port),
                                                   timeout)
        except OSError as e:
            out["error"] = e

    t = threading.Thread(target=body)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["sock"]


def ns_http(ns, port, method, path, body=None):
    """(time the request was sent, status, body) of one HTTP request to
    127.0.0.1:port in ns; the connection is made before the clock
    starts."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.sock = ns_connect(ns, port)
    try:
        t0 = time.monotonic()
        conn.request(method, path, body=body)
        r = conn.getresponse()
        return t0, r.status, r.read()
    finally:
        conn.close()


def k8s_suffix(i):
    x, s = (i * 2654435761) & 0xffffffff, ""
    for _ in range(5):
        s += SUFFIX_ABC[x % len(SUFFIX_ABC)]
        x //= len(SUFFIX_ABC)
    return s


def k8s_uid(kind, i):
    return "%08x-%04x-4000-8000-%012x" % (i, kind, i * 7 + kind)


def k8s_service(i):
    """Service i of synth.py's set: ClusterIP, one UDP port 80 -> 8080."""
    name = "svc-%d" % i
    return {
        "metadata": {"name": name, "namespace": K8S_NS,
                     "uid": k8s_uid(1, i),
                     "creationTimestamp": "2025-01-01T00:00:00Z",
                     "labels": {"app": name}},
        "spec": {"clusterIP": synth.vip(i), "clusterIPs": [synth.vip(i)],
                 "internalTrafficPolicy": "Cluster",
                 "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                 "ports": [{"name": K8S_PORT, "port": synth.SVC_PORT,
                            "protocol": "UDP",
                            "targetPort": synth.BE_PORT}],
                 "selector": {"app": name}, "sessionAffinity": "None",
                 "type": "ClusterIP"},
        "status": {"loadBalancer": {}}}


def k8s_slice(i, moved):
    """The EndpointSlice of Service i: its 3 ready endpoints, endpoint 0
    moved (a new pod) if moved."""
    name = "svc-%d" % i
    eps = []
    for k in range(3):
        pod = 3 * i + k + (1 << 30 if moved and k == 0 else 0)
        eps.append({
            "addresses": [synth.endpoint(i, k, 3, i if moved else None)],
            "conditions": {"ready": True, "serving": True,
                           "terminating": False},
            "nodeName": "node-%d" % (pod % 50),
            "targetRef": {"kind": "Pod", "namespace": K8S_NS,
                          "name": "%s-%s" % (name, k8s_suffix(pod)),
                          "uid": k8s_uid(3, pod)}})
    return {
        "metadata": {
            "name": "%s-%s" % (name, k8s_suffix(i)),
            "generateName": name + "-", "namespace": K8S_NS,
            "generation": 2 if moved else 1, "uid": k8s_uid(2, i),
            "creationTimestamp": "2025-01-01T00:00:00Z",
            "labels": {"endpointslice.kubernetes.io/managed-by":
                       "endpointslice-controller.k8s.io",
                       "kubernetes.io/service-name": name},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Service",
                                 "name": name, "uid": k8s_uid(1, i),
                                 "controller": True,
                                 "blockOwnerDeletion": True}]},
        "addressType": "IPv4", "endpoints": eps,
        "ports": [{"name": K8S_PORT, "port": synth.BE_PORT,
                   "protocol": "UDP"}]}


def k8s_svc_name(i):
    """What xlbd names Service i's port in the maps."""
    return "%s/svc-%d:%s/udp" % (K8S_NS, i, K8S_PORT)


def write_json_list(path, objs):
    """A JSON list written object by object (100,000 at once would hold
    them all in memory twice)."""
    with open(path, "w") as f:
        f.write("[")
        for j, o in enumerate(objs):
            if j:
                f.write(",\n")
            f.write(json.dumps(o, separators=(",", ":")))
        f.write("]\n")


class FakeApi:
    """selftests/k8s/fake_apiserver.py in env's namespace, started as
    selftests/test_k8s.sh starts it: TLS with a self-signed certificate
    for 127.0.0.1, a bearer token read from a token file through the
    kubeconfig; preloaded from files of objects, pages of page_max, each
    watch event in one chunk (--whole-lines) as a real server sends it.
    stop() ends it."""

    def __init__(self, env, loads, page_max):
        self.env = env
        d = env.dir
        self.crt = os.path.join(d, "api.crt")
        key = os.path.join(d, "api.key")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-days", "1", "-subj", "/CN=xlb-bench-api",
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-keyout", key, "-out", self.crt], capture_output=True)
        token = "bench-token"
        tokfile = os.path.join(d, "token")
        with open(tokfile, "w") as f:
            f.write(token + "\n")
        self.kubeconfig = os.path.join(d, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            f.write("""apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:%d
    certificate-authority: %s
contexts:
- name: fake
  context:
    cluster: fake
    user: agent
current-context: fake
users:
- name: agent
  user:
    tokenFile: %s
""" % (API_PORT, self.crt, tokfile))
        self.logpath = os.path.join(d, "fake.log")
        self.t0 = time.monotonic()
        with open(self.logpath, "w") as logf:
            self.proc = subprocess.Popen(
                ["nsenter", "--net=/run/netns/" + env.ns, sys.executable,
                 FAKE, "--port", str(API_PORT), "--ctl-port", str(CTL_PORT),
                 "--cert", self.crt, "--key", key, "--token", token,
                 "--page-max", str(page_max), "--whole-lines", "--load"] +
                ["%s=%s" % rp for rp in loads],
                stdout=logf, stderr=subprocess.STDOUT)

    def tail(self):
        return log_tail(self.logpath)

    def ctl(self, method, path, body=None):
        t, st, data = ns_http(self.env.ns, CTL_PORT, method, path, body)
        if st != 200:
            raise RuntimeError("fake API server: %s %s: HTTP %d %s" %
                               (method, path, st, data[:200]))
        return t, json.loads(data)

    def wait_up(self, timeout):
        """Seconds from start until the control port answers."""
        while time.monotonic() - self.t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError("fake API server exited (status %s): %s"
                                   % (self.proc.returncode, self.tail()))
            try:
                self.ctl("GET", "/stats")
                return time.monotonic() - self.t0
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("fake API server: not up in %d s" % timeout)

    def wait_watches(self, n, timeout):
        """Waits until n watches are open; returns the wait."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.ctl("GET", "/stats")[1]["open_watches"] >= n:
                return time.monotonic() - t0
            time.sleep(0.01)
        raise RuntimeError("fake API server: not %d watches open in %d s" %
                           (n, timeout))

    def stop(self):
        stop_process(self.proc, 10)


def cpu_s(pid):
    """User + system CPU seconds of process pid so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def maglev_ips(bpffs, name):
    """The addresses of a service's backends in the maps (xlbctl)."""
    r = subprocess.run([XLBCTL, "--bpffs", bpffs, "-o", "json", "maglev",
                        "show", name], capture_output=True, text=True)
    if r.returncode != 0:
        return set()
    return {b["ip"] for b in json.loads(r.stdout)["backends"]}


def sync_histogram(ns):
    """(count, sum seconds) of xlbd's event-to-map histogram (/metrics)."""
    _, st, data = ns_http(ns, METRICS_PORT, "GET", "/metrics")
    if st != 200:
        raise RuntimeError("xlbd /metrics: HTTP %d" % st)
    got = {}
    for line in data.decode().splitlines():
        m = re.match(r"xlb_sync_duration_seconds_(count|sum) (\S+)$", line)
        if m:
            got[m.group(1)] = float(m.group(2))
    return got.get("count", 0), got.get("sum", 0.0)


class K8sRun:
    """One Kubernetes mode run: stops its xlbd and API server (fake or
    real) and removes its namespace however it ends; a failure of the
    run is its result's "error"."""
    FAILURES = (RuntimeError, subprocess.CalledProcessError, OSError,
                ValueError, http.client.HTTPException)

    def __init__(self, res, env):
        self.res, self.env = res, env
        self.server = self.xd = None

    def __enter__(self):
        return self

    def __exit__(self, et, e, tb):
        failed = et is not None and issubclass(et, self.FAILURES)
        if failed:
            self.res["error"] = str(e)
            log("  error: %s" % e)
            if self.server:
                log("  API server: %s" % self.server.tail())
        if self.xd:
            self.xd.stop()
        if self.server:
            self.server.stop()
        self.env.close()
        return failed


def k8s_xlbd(run, n, kubeconfig, extra=0):
    """xlbd watching the API server of kubeconfig, up to its ready line,
    which must count the n Services (extra more at most: a real API
    server's own) and their 3 n endpoints; ready_s, programmed_ms,
    xlbd's CPU time until then, the lists' end and the RSS then into
    run.res. Returns (xd, the ready line, the index after it)."""
    res = run.res
    xd = run.xd = Xlbd(run.env, None, n, source=[
        "--kubeconfig", kubeconfig, "--node-name", K8S_NODE,
        "--metrics-address", "127.0.0.1:%d" % METRICS_PORT, "-vv"])
    t, line, idx = xd.wait_line(r"ready:", 0, CAP_S)
    res["ready_s"] = round(t - xd.t0, 4)
    m = re.search(r"ready: (\d+) services, (\d+) backends, "
                  r"programmed in ([0-9.]+) ms", line)
    if not m or not (n <= int(m.group(1)) <= n + extra and
                     3 * n <= int(m.group(2)) <= 3 * n + extra):
        raise RuntimeError("ready, but not with %d services and %d "
                           "backends: %s" % (n, 3 * n, line))
    res["programmed_ms"] = float(m.group(3))
    res["xlbd_cpu_at_ready_s"] = round(cpu_s(xd.proc.pid), 2)
    k8s_listed(res, xd, idx)
    return xd, line, idx


def k8s_listed(res, xd, idx):
    """When xlbd's last list was read (before its line idx, the ready
    line) and its RSS then: the cache alone, before the first sync
    builds the model."""
    with xd.cond:
        listed = [lt for lt, l in xd.lines[:idx]
                  if re.search(r"k8s: \S+: listed \d+ objects", l)]
    res["listed_s"] = round(max(listed) - xd.t0, 4) if listed else None
    res["rss_listed_kb"] = xd.rss_before(max(listed)) if listed else None


def k8s_applied(xd, c, idx):
    """Waits for xlbd's lines of change c from line idx: (time of the
    applied line, xlbd's own event -> maps ms, next idx)."""
    t, line, idx = xd.wait_line(r"k8s: \d+ Services applied:", idx, 60)
    if not line.endswith("k8s: 1 Services applied: 0 added, "
                         "1 updated, 0 removed; backends +1 -1 ~0"):
        raise RuntimeError("change %d: unexpected apply: %s" % (c, line))
    _, line, idx = xd.wait_line(r"k8s: \d+ events in the maps", idx, 60)
    m = re.search(r"k8s: (\d+) events in the maps ([0-9.]+) ms", line)
    if m.group(1) != "1":
        raise RuntimeError("change %d: not one event: %s" % (c, line))
    return t, float(m.group(2)), idx


def k8s_end(res, xd, env, n, changed):
    """After the changes: the last one in the maps, map memory and
    xlbd's RSS, into res; logged."""
    if res.get("changes"):
        last = change_key(res["changes"] - 1, n)
        want = synth.endpoint(last, 0, 3, last if last in changed else None)
        res["last_change_in_maps"] = want in maglev_ips(
            env.bpffs, k8s_svc_name(last))
    res["map_bytes"], res["maps"] = map_memory(env.bpffs)
    res["rss_peak_kb"] = xd.peak_rss_kb()
    res["rss_end_kb"] = xd.peak_rss_kb("VmRSS")
    # What the RSS is: the heap, or the map pages xlbd has mapped.
    res["rss_end_anon_kb"] = xd.peak_rss_kb("RssAnon")
    log("  change p50 %.1f ms, p99 %.1f ms (xlbd's own p50 %.2f ms, p99 "
        "%.2f ms); maps %.1f MiB; RSS peak %.1f MiB, at the end %.1f MiB "
        "(heap %.1f)" % (
            res.get("change_p50_ms", 0), res.get("change_p99_ms", 0),
            res.get("change_own_p50_ms", 0), res.get("change_own_p99_ms", 0),
            res["map_bytes"] / 2**20, (res["rss_peak_kb"] or 0) / 1024,
            (res["rss_end_kb"] or 0) / 1024,
            (res["rss_end_anon_kb"] or 0) / 1024))


def bench_k8s(n, changes, poll=False):
    """xlbd fed n Services and their EndpointSlices by the fake API
    server; a change is one EndpointSlice applied through the server's
    control port. poll: time a change by polling the maps with xlbctl
    instead of by xlbd's log line."""
    log("xlbd: %d services through the Kubernetes API (fake API server)"
        % n)
    env = Env("k", loopback=True)
    res = {"n": n, "mode": "k8s"}
    with K8sRun(res, env) as run:
        env.mount_bpffs()
        res["page_max"] = xlbd_list_limit()
        t0 = time.monotonic()
        files = [("services", os.path.join(env.dir, "services.json")),
                 ("endpointslices", os.path.join(env.dir, "slices.json")),
                 ("nodes", os.path.join(env.dir, "node.json"))]
        write_json_list(files[0][1], (k8s_service(i) for i in range(n)))
        write_json_list(files[1][1], (k8s_slice(i, False)
                                      for i in range(n)))
        write_json_list(files[2][1], [{
            "metadata": {"name": K8S_NODE, "labels": {
                "kubernetes.io/hostname": K8S_NODE}},
            "spec": {}, "status": {}}])
        res["objects_written_s"] = round(time.monotonic() - t0, 2)
        fake = run.server = FakeApi(env, files, res["page_max"])
        res["fake_start_s"] = round(fake.wait_up(CAP_S), 2)
        fake_cpu0 = cpu_s(fake.proc.pid)
        log("  objects written in %.1f s, fake API server up in %.1f s" %
            (res["objects_written_s"], res["fake_start_s"]))

        xd, line, idx = k8s_xlbd(run, n, fake.kubeconfig)
        # Who the wait was for: xlbd's CPU time, and the fake server's
        # (serving the lists) since it was up.
        res["fake_cpu_at_ready_s"] = round(cpu_s(fake.proc.pid) - fake_cpu0,
                                           2)
        st = fake.ctl("GET", "/stats")[1]
        res["list_pages"] = st["list_pages"]
        log("  ready after %.3f s (lists done at %s s, RSS then %.1f MiB, "
            "%d pages; CPU s: xlbd %.2f, fake server %.2f; %s)" % (
                res["ready_s"], res["listed_s"],
                (res["rss_listed_kb"] or 0) / 1024, res["list_pages"],
                res["xlbd_cpu_at_ready_s"], res["fake_cpu_at_ready_s"],
                line.split("ready:")[1].strip()))
        # xlbd opens its watches after the lists: a change sent before
        # would be timed with the watch set-up.
        res["watch_after_ready_s"] = round(fake.wait_watches(3, 60), 3)
        hist0 = sync_histogram(env.ns)

        lat, own, logged, polls, changed = [], [], [], [], set()
        for c, k, changed in change_keys(n, changes):
            body = json.dumps(k8s_slice(k, k in changed)).encode()
            want = synth.endpoint(k, 0, 3, k if k in changed else None)
            t_sent, _ = fake.ctl("POST", "/apply?res=endpointslices", body)
            if poll:
                while True:
                    p0 = time.monotonic()
                    found = want in maglev_ips(env.bpffs, k8s_svc_name(k))
                    t = time.monotonic()
                    polls.append(t - p0)
                    if found:
                        break
                    if t - t_sent > 60:
                        raise RuntimeError("change %d: %s not in the maps "
                                           "after 60 s" % (c, want))
                lat.append((t - t_sent) * 1000)
            t, own_ms, idx = k8s_applied(xd, c, idx)
            if not poll:
                lat.append((t - t_sent) * 1000)
            logged.append((t - t_sent) * 1000)
            own.append(own_ms)
        change_stats(res, lat, own)
        res["change_timed_by"] = ("xlbctl polling the maps" if poll else
                                  "xlbd's applied line (-vv)")
        if poll and polls:
            res["change_log_p50_ms"] = round(statistics.median(logged), 2)
            res["change_log_p99_ms"] = round(pctile(logged, 0.99), 2)
            res["poll_runs"] = len(polls)
            res["poll_p50_ms"] = round(statistics.median(polls) * 1000, 2)
            res["poll_max_ms"] = round(max(polls) * 1000, 2)
        hist1 = sync_histogram(env.ns)
        res["metrics_events"] = int(hist1[0] - hist0[0])
        if res["metrics_events"]:
            res["metrics_mean_ms"] = round(
                (hist1[1] - hist0[1]) / res["metrics_events"] * 1000, 3)
        if res["metrics_events"] != len(lat):
            raise RuntimeError("/metrics: %d events in the sync histogram "
                               "for %d changes" % (res["metrics_events"],
                                                   len(lat)))
        k8s_end(res, xd, env, n, changed)
        if poll and polls:
            log("  by xlbd's log line: p50 %.1f ms, p99 %.1f ms; one "
                "xlbctl poll %.1f ms (p50), %d polls" % (
                    res["change_log_p50_ms"], res["change_log_p99_ms"],
                    res["poll_p50_ms"], res["poll_runs"]))
    return res


class RealApi:
    """etcd and kube-apiserver started by selftests/k8s-real/start.sh in
    env's namespace (the binaries selftests/run.sh builds; see
    selftests/k8s-real/cluster.sh), the admin kubeconfig and token it
    prints; stop() ends both."""

    def __init__(self, env):
        self.env = env
        self.logpath = os.path.join(env.dir, "k8s-real.log")
        self.vars = {}
        self.log = open(self.logpath, "w")
        # etcd's data on tmpfs: its fsyncs to this VM's disk would time
        # the disk (50 ms a change), not the API server or xlbd.
        self.proc = subprocess.Popen([K8S_START, "--netns", env.ns],
                                     stdout=subprocess.PIPE,
                                     stderr=self.log, text=True,
                                     env=dict(os.environ, TMPDIR="/dev/shm"))
        for line in self.proc.stdout:
            m = re.match(r"(\w+)=(.*)$", line.strip())
            if m:
                self.vars[m.group(1)] = m.group(2)
            if "XLB_K8S_TOKEN" in self.vars:
                break
        if "XLB_K8S_TOKEN" not in self.vars:
            self.proc.wait()
            raise RuntimeError("selftests/k8s-real/start.sh: exited %s "
                               "(%s)" % (self.proc.returncode,
                                         self.tail()))
        self.port = int(self.vars["XLB_K8S_URL"].rsplit(":", 1)[1])
        self.kubeconfig = self.vars["KUBECONFIG"]
        self.ctx = ssl.create_default_context(cafile=self.vars["XLB_K8S_CA"])

    def tail(self):
        return log_tail(self.logpath)

    def conn(self):
        """A keep-alive HTTPS connection to the API server."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sock = ns_connect(self.env.ns, self.port)
        # As Go clients do: without it the body, sent after the headers,
        # waits for their delayed ACK (40 ms a request).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sock = self.ctx.wrap_socket(sock, server_hostname="127.0.0.1")
        return c

    def request(self, c, method, path, body):
        """(time sent, status, answer) of one request on connection c."""
        t0 = time.monotonic()
        c.request(method, path, body=json.dumps(body).encode(), headers={
            "Authorization": "Bearer " + self.vars["XLB_K8S_TOKEN"],
            "Content-Type": "application/json"})
        r = c.getresponse()
        return t0, r.status, r.read()

    def create_all(self, objs, threads=8):
        """POSTs every (path, body) of objs on a few connections; raises
        on the first refusal."""
        it = iter(objs)
        lock = threading.Lock()
        errors = []

        def worker():
            c = self.conn()
            try:
                while not errors:
                    with lock:
                        job = next(it, None)
                    if job is None:
                        return
                    _, st, data = self.request(c, "POST", job[0], job[1])
                    if st not in (200, 201):
                        errors.append("POST %s: HTTP %d %s" %
                                      (job[0], st, data[:200]))
            except (OSError, http.client.HTTPException) as e:
                errors.append(str(e))
            finally:
                c.close()

        ts = [threading.Thread(target=worker) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            raise RuntimeError("API server: %s" % errors[0])

    def stop(self):
        stop_process(self.proc, 60)
        self.log.close()


def real_object(o):
    """A generated object as a client creates it: no server-set metadata,
    no cluster IP (the API server allocates one), no status."""
    o = json.loads(json.dumps(o))
    md = o["metadata"]
    for k in ("uid", "creationTimestamp", "generation", "generateName",
              "ownerReferences"):
        md.pop(k, None)
    o.pop("status", None)
    if "spec" in o:
        o["spec"].pop("clusterIP", None)
        o["spec"].pop("clusterIPs", None)
    return o


def bench_k8s_real(n, changes):
    """xlbd fed n Services and their EndpointSlices by a real
    kube-apiserver (with etcd), created through its API before xlbd
    starts; a change is one EndpointSlice PUT to the API server, timed
    to xlbd's line that applied it (the API server's commit to etcd and
    its watch fan-out inside)."""
    log("xlbd: %d services through a real kube-apiserver" % n)
    env = Env("r", loopback=True)
    res = {"n": n, "mode": "k8s-real"}
    slice_path = "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices" \
        % K8S_NS
    with K8sRun(res, env) as run:
        env.mount_bpffs()
        t0 = time.monotonic()
        api = run.server = RealApi(env)
        res["apiserver_start_s"] = round(time.monotonic() - t0, 2)
        t0 = time.monotonic()
        api.create_all([("/api/v1/namespaces",
                         {"metadata": {"name": K8S_NS}}),
                        ("/api/v1/nodes", {"metadata": {
                            "name": K8S_NODE, "labels": {
                                "kubernetes.io/hostname": K8S_NODE}}})],
                       threads=1)
        api.create_all(("/api/v1/namespaces/%s/services" % K8S_NS,
                        real_object(k8s_service(i))) for i in range(n))
        api.create_all((slice_path, real_object(k8s_slice(i, False)))
                       for i in range(n))
        res["objects_created_s"] = round(time.monotonic() - t0, 2)
        log("  API server up in %.1f s, %d Services and EndpointSlices "
            "created in %.1f s" % (res["apiserver_start_s"], n,
                                   res["objects_created_s"]))
        # The API server's own "kubernetes" Service comes on top.
        xd, line, idx = k8s_xlbd(run, n, api.kubeconfig, extra=1)
        log("  ready after %.3f s (lists done at %s s, RSS then %.1f MiB; "
            "xlbd CPU %.2f s; %s)" % (
                res["ready_s"], res["listed_s"],
                (res["rss_listed_kb"] or 0) / 1024,
                res["xlbd_cpu_at_ready_s"], line.split("ready:")[1].strip()))
        # The watches open from the lists' versions: a change sent now
        # would still come, but timed with the watch set-up.
        time.sleep(2)
        conn = api.conn()
        lat, own, changed = [], [], set()
        try:
            for c, k, changed in change_keys(n, changes):
                sl = real_object(k8s_slice(k, k in changed))
                path = "%s/%s" % (slice_path, sl["metadata"]["name"])
                t_sent, st, data = api.request(conn, "PUT", path, sl)
                if st != 200:
                    raise RuntimeError("PUT EndpointSlice: HTTP %d %s" %
                                       (st, data[:200]))
                t, own_ms, idx = k8s_applied(xd, c, idx)
                lat.append((t - t_sent) * 1000)
                own.append(own_ms)
        finally:
            conn.close()
        change_stats(res, lat, own)
        res["change_timed_by"] = "xlbd's applied line (-vv)"
        k8s_end(res, xd, env, n, changed)
    return res


def timed_restore(ns, flavour, path, noflush=False):
    cmd = ["ip", "netns", "exec", ns, "iptables-%s-restore" % flavour]
    if noflush:
        cmd.append("--noflush")
    t0 = time.monotonic()
    try:
        with open(path) as f:
            r = subprocess.run(cmd, stdin=f, timeout=CAP_S,
                               capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return None, "over %d s" % CAP_S
    dt = time.monotonic() - t0
    if r.returncode != 0:
        return None, r.stderr.strip()[:200]
    return round(dt, 3), None


def bench_iptables(n, flavour, tmpdir):
    log("iptables-%s: %d services" % (flavour, n))
    res = {"n": n, "flavour": flavour}
    k1, k2 = n // 2, n - 1
    files = {}
    for tag, args in (("full", []), ("full2", ["--change", str(k2)]),
                      ("delta", ["--change", str(k1)])):
        path = os.path.join(tmpdir, "%s-%d" % (tag, n))
        what = "iptables-delta" if tag == "delta" else "iptables"
        if not os.path.exists(path):
            with open(path, "w") as f:
                run([sys.executable, SYNTH, what, str(n)] + args, stdout=f)
        files[tag] = path
    env = Env("i")
    try:
        for key, tag, noflush in (("restore_s", "full", False),
                                  ("delta_s", "delta", True),
                                  ("rerestore_s", "full2", False)):
            dt, err = timed_restore(env.ns, flavour, files[tag], noflush)
            res[key] = dt
            if err:
                res[key + "_error"] = err
                log("  %s: %s" % (key, err))
                break
            log("  %s %.3f" % (key, dt))
    finally:
        env.close()
    return res


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        return ("%.0f" % v if v >= 100 else "%.3g" % v) + unit
    return str(v) + unit


def mode_title(r):
    if r.get("mode") == "k8s":
        return "Kubernetes API"
    if r.get("mode") == "k8s-real":
        return "Kubernetes API, real kube-apiserver"
    if r.get("mode") == "dir":
        return "directory, %d files of %d" % (r["files"], r["per_file"])
    return "one file"


def k8s_note(xl):
    """What the Kubernetes rows measured, under the table."""
    k8s = [r for r in xl if r.get("mode") == "k8s" and "error" not in r]
    if not k8s:
        return []
    r = k8s[0]
    how = ("the first xlbctl poll of the maps that shows it (one poll "
           "%s ms)" % fmt(r.get("poll_p50_ms"))
           if r.get("change_timed_by", "").startswith("xlbctl") else
           "xlbd's (-vv) line that applied it")
    return ["", "Kubernetes API: Services and EndpointSlices listed from "
            "selftests/k8s/fake_apiserver.py over TLS in pages of %d "
            "(xlbd's limit), then watched; a change is the EndpointSlice "
            "POSTed to the server's control port, timed to %s; "
            "programmed: xlbd's figure in its ready line, here the "
            "handling of the last list and the first sync; xlbd apply: "
            "the event's arrival in xlbd to the maps." %
            (r.get("page_max", 0), how)]


def markdown(xl, ipt):
    out = ["## Control plane (N services x 3 endpoints)", ""]
    out.append("| N | xlbd config | ready s | programmed ms | change p50 ms "
               "| change p99 ms | change max ms | xlbd apply p50 / p99 ms "
               "| BPF maps MiB | xlbd peak RSS MiB |")
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in xl:
        if "error" in r:
            out.append("| {:,} | {} | failed: {} | | | | | | | |".format(
                r["n"], mode_title(r), r["error"][:120]))
            continue
        out.append("| {:,} | {} | {} | {} | {} | {} | {} | {} / {} | {} "
                   "| {} |".format(
            r["n"], mode_title(r), fmt(r.get("ready_s")),
            fmt(r.get("programmed_ms")),
            fmt(r.get("change_p50_ms")), fmt(r.get("change_p99_ms")),
            fmt(r.get("change_max_ms")),
            fmt(r.get("change_own_p50_ms")), fmt(r.get("change_own_p99_ms")),
            fmt(r["map_bytes"] / 2**20) if "map_bytes" in r else "-",
            fmt(r["rss_peak_kb"] / 1024) if r.get("rss_peak_kb") else "-"))
    out += k8s_note(xl)
    out.append("")
    out.append("| N | iptables | full restore s | full re-restore s "
               "(1 change) | --noflush delta s (1 change) | "
               "restore / xlbd ready |")
    out.append("|---:|---|---:|---:|---:|---:|")
    ready = {r["n"]: r.get("ready_s") for r in xl
             if r.get("mode", "file") == "file"}
    for r in ipt:
        rel = "-"
        if r.get("restore_s") and ready.get(r["n"]):
            rel = "%.1f" % (r["restore_s"] / ready[r["n"]])
        out.append("| {:,} | {} | {} | {} | {} | {} |".format(
            r["n"], r["flavour"],
            fmt(r.get("restore_s")) if "restore_s_error" not in r else
            r["restore_s_error"],
            fmt(r.get("rerestore_s")), fmt(r.get("delta_s")), rel))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--modes", default="file,dir,k8s")
    ap.add_argument("--per-file", type=int, default=100)
    ap.add_argument("--flavours", default="legacy,nft")
    ap.add_argument("--iptables-max", type=int, default=0,
                    help="run the iptables anchors only up to this many "
                    "services (0: every size); nft at 100,000 alone "
                    "takes about 10 minutes")
    ap.add_argument("--no-xlbd", action="store_true")
    ap.add_argument("--k8s-poll", action="store_true",
                    help="time the Kubernetes mode's changes by polling "
                    "the maps with xlbctl, not by xlbd's log line")
    ap.add_argument("--out")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",") if x]
    modes = [m for m in a.modes.split(",") if m]
    if any(m not in ("file", "dir", "k8s", "k8s-real") for m in modes):
        sys.exit("--modes: a list of file, dir, k8s, k8s-real")
    if os.geteuid() != 0:
        sys.exit("bench/cp.py: needs root")
    if not (1 <= a.changes <= 1000) or any(not 1 <= n <= 1000000
                                           for n in sizes):
        sys.exit("--changes 1..1000 and sizes 1..1,000,000")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # The log reader thread stamps xlbd's lines: let it take the
    # interpreter at once rather than after the default 5 ms.
    sys.setswitchinterval(0.0002)
    xl, ipt = [], []
    tmpdir = tempfile.mkdtemp(prefix="xlb-cp-rules.", dir="/run")
    try:
        for n in sizes:
            if not a.no_xlbd:
                for mode in modes:
                    if mode == "k8s":
                        xl.append(bench_k8s(n, a.changes, a.k8s_poll))
                    elif mode == "k8s-real":
                        xl.append(bench_k8s_real(n, a.changes))
                    else:
                        xl.append(bench_xlbd(n, a.changes, mode,
                                             a.per_file))
            if a.iptables_max and n > a.iptables_max:
                log("iptables at %d services: not run (--iptables-max %d)"
                    % (n, a.iptables_max))
                continue
            for fl in [f for f in a.flavours.split(",") if f]:
                ipt.append(bench_iptables(n, fl, tmpdir))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    md = markdown(xl, ipt)
    print(md)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"xlbd": xl, "iptables": ipt, "markdown": md}, f,
                      indent=1)
            f.write("\n")
    errors = [r for r in xl if "error" in r or
              r.get("last_change_in_maps") is False]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
