#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Control-plane benchmark: how long until N services are programmed, and
what one endpoint change costs, for xlbd and for kube-proxy-shaped
iptables rules (legacy and nft), on the same synthetic service sets
(bench/synth.py: N services x 3 endpoints).

  bench/cp.py [--sizes 1000,10000,100000] [--changes 100]
              [--modes file,dir] [--per-file 100] [--out FILE]

xlbd, per N and config mode, in a namespace of its own with one veth.
Mode "file": one JSON file of N services; mode "dir": a directory of
N / --per-file files of --per-file services each (xlbd's partial apply:
a changed file's services only are re-read and diffed).
  ready_s      start of xlbd -> its "ready:" log line (maps created,
               programs loaded and attached, every service programmed)
  programmed_ms  the sync time xlbd reports in that line
  change p50/p99  one endpoint changed: the file holding the service
               written aside (a dot name xlbd ignores) and renamed over
               it -> xlbd's "config ... changed:" log line, over
               --changes changes; xlbd's own apply time alongside
  map memory   bytes_memlock of xlbd's pinned maps (bpftool; the kernel's
               own accounting of each map), and xlbd's peak RSS (VmHWM)
iptables, per N and flavour, in a fresh namespace:
  restore_s    iptables-<flavour>-restore of the whole rule set
  rerestore_s  the same again with one endpoint changed (a full resync)
  delta_s      --noflush restore of just the changed chains (the minimal
               resync)
Every restore is capped at 5 minutes; a capped one is reported as such.
Prints a markdown table; --out writes JSON with the table in "markdown".
"""
import argparse
import json
import math
import os
import re
import shutil
import signal
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

    def __init__(self, tag):
        self.ns = "xbcp%d%s" % (os.getpid(), tag)
        self.dir = tempfile.mkdtemp(prefix="xlb-cp.", dir="/run")
        self.bpffs = os.path.join(self.dir, "bpffs")
        self.mounted = False
        self.created = False
        try:
            run(["ip", "netns", "add", self.ns])
            self.created = True
            run(["ip", "-n", self.ns, "link", "add", "cp0", "type", "veth",
                 "peer", "name", "cp1"])
            run(["ip", "-n", self.ns, "link", "set", "cp0", "up"])
            run(["ip", "-n", self.ns, "link", "set", "cp1", "up"])
        except BaseException:
            self.close()
            raise

    def mount_bpffs(self):
        os.makedirs(self.bpffs, exist_ok=True)
        run(["mount", "-t", "bpf", "bpf", self.bpffs])
        self.mounted = True

    def close(self):
        if self.created:
            subprocess.run(["ip", "netns", "del", self.ns],
                           stderr=subprocess.DEVNULL)
            self.created = False
        if self.mounted:
            subprocess.run(["umount", self.bpffs], stderr=subprocess.DEVNULL)
            self.mounted = False
        shutil.rmtree(self.dir, ignore_errors=True)


class Xlbd:
    """xlbd in Env's namespace; every stderr line timestamped on arrival."""

    def __init__(self, env, config, n, sizes=None):
        """sizes: {"ring_slots", "services", "backends"}, or None for
        xlbd's defaults grown to fit n services."""
        if sizes is None:
            slots = n * RING_PER_SVC
            slots = max(4194304, slots + slots // 8 + (1 << 20))
            slots += slots & 1
            sizes = {"ring_slots": slots,
                     "services": max(131072, n + 1024),
                     "backends": max(524288, 4 * n + 4096)}
        cmd = ["nsenter", "--net=/run/netns/" + env.ns, XLBD,
               "--config", config, "--iface", "cp0",
               "--bpffs", env.bpffs,
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

    def peak_rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def pctile(values, q):
    """Nearest-rank percentile: p99 of 100 values is the 99th lowest."""
    v = sorted(values)
    return v[max(0, math.ceil(q * len(v)) - 1)]


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
        changed = set()
        start = time.monotonic()
        for c in range(changes):
            if time.monotonic() - start > CAP_S:
                log("  changes stopped after %d: over %d s" % (c, CAP_S))
                break
            k = (c * 7919) % n
            changed ^= {k}
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
        res["changes"] = len(lat)
        if lat:
            res["change_ms_each"] = [round(x, 3) for x in lat]
            res["change_p50_ms"] = round(statistics.median(lat), 2)
            res["change_p99_ms"] = round(pctile(lat, 0.99), 2)
            res["change_max_ms"] = round(max(lat), 2)
            if own:
                res["change_own_p50_ms"] = round(statistics.median(own), 2)
                res["change_own_p99_ms"] = round(pctile(own, 0.99), 2)
        # The last change is what the maps hold.
        last = (len(lat) - 1) * 7919 % n if lat else None
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
    if r.get("mode") == "dir":
        return "directory, %d files of %d" % (r["files"], r["per_file"])
    return "one file"


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
    ap.add_argument("--modes", default="file,dir")
    ap.add_argument("--per-file", type=int, default=100)
    ap.add_argument("--flavours", default="legacy,nft")
    ap.add_argument("--no-xlbd", action="store_true")
    ap.add_argument("--out")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",") if x]
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
                for mode in a.modes.split(","):
                    xl.append(bench_xlbd(n, a.changes, mode, a.per_file))
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
