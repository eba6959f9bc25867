#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Map memory per service: what one service of 3, 30 or 300 backends
costs in xlb's BPF maps, from the kernel's own accounting of each map
(bytes_memlock in `bpftool map show`).

  bench/memsvc.py [--out FILE]

xlbd runs three times in a namespace of its own, each time with the same
three services (3, 30, 300 backends):
  A  map capacities S (--max-services, --max-backends, --ring-slots)
  B  capacities 2 S                       -> bytes per unit of capacity
  C  capacities S, plus --extra services  -> bytes per frontend entry
The arrays (service info and counters, backends and their counters, the
ring slots) are allocated for their capacity, so their bytes per entry
are the memlock delta of A -> B over the capacity delta (C must not move
them). xlb_svc is a hash without preallocation: its buckets follow the
capacity (A -> B) and its elements the frontends present (A -> C).

One service of B backends with table size M (read back with `xlbctl
service list`) then costs: one xlb_svc element and bucket, one entry of
xlb_svc_info and xlb_svc_stats, B entries of xlb_backends and
xlb_be_stats, and M ring slots (M / 2 entries of xlb_rings). That is the
cost when the maps are sized for the services they hold; per-flow maps
(conntrack, affinity, fragments) and the source-range trie are not per
service and not counted.
"""
import argparse
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cp  # noqa: E402

SIZES = (3, 30, 300)
CAP = {"services": 4096, "backends": 16384, "ring_slots": 1 << 20}
PER_SERVICE = {  # map: entries one service uses, as a function
    "xlb_svc_elem": lambda b, m, fe: fe,
    "xlb_svc_bucket": lambda b, m, fe: fe,
    "xlb_svc_info": lambda b, m, fe: 1,
    "xlb_svc_stats": lambda b, m, fe: 1,
    "xlb_backends": lambda b, m, fe: b,
    "xlb_be_stats": lambda b, m, fe: b,
    "xlb_rings": lambda b, m, fe: m / 2.0,
}
ARRAYS = ("xlb_svc_info", "xlb_svc_stats", "xlb_backends", "xlb_be_stats",
          "xlb_rings")


def config(extra):
    svcs = []
    for i, nb in enumerate(SIZES):
        svcs.append({"name": "mem-%d" % nb, "vip": "10.97.0.%d" % (i + 1),
                     "port": 80, "protocol": "tcp",
                     "backends": [{"ip": "10.%d.%d.%d" % (
                         200 + i, k // 250, k % 250 + 1), "port": 8080}
                         for k in range(nb)]})
    for j in range(extra):
        svcs.append({"name": "pad-%d" % j,
                     "vip": "10.98.%d.%d" % (j // 250, j % 250 + 1),
                     "port": 80, "protocol": "tcp",
                     "backends": [{"ip": "10.199.%d.%d" % (
                         j // 250, j % 250 + 1), "port": 8080}]})
    return json.dumps({"services": svcs})


def possible_cpus():
    """As the kernel sizes per-CPU values: /sys/.../cpu/possible."""
    with open("/sys/devices/system/cpu/possible") as f:
        n = 0
        for part in f.read().strip().split(","):
            lo, _, hi = part.partition("-")
            n += int(hi or lo) - int(lo) + 1
    return n


def maps_of(bpffs):
    out = {}
    for name in sorted(os.listdir(bpffs)):
        path = os.path.join(bpffs, name)
        if not name.startswith("xlb_") or os.path.isdir(path):
            continue
        r = subprocess.run(["bpftool", "-j", "map", "show", "pinned", path],
                           capture_output=True, text=True, check=True)
        info = json.loads(r.stdout)
        out[name] = {"memlock": info["bytes_memlock"],
                     "max_entries": info["max_entries"],
                     "type": info["type"]}
    return out


def run_xlbd(scale, extra):
    env = cp.Env("m")
    xd = None
    try:
        env.mount_bpffs()
        path = os.path.join(env.dir, "mem.json")
        with open(path, "w") as f:
            f.write(config(extra))
        sizes = {"ring_slots": CAP["ring_slots"] * scale,
                 "services": CAP["services"] * scale,
                 "backends": CAP["backends"] * scale}
        xd = cp.Xlbd(env, path, 0, sizes=sizes)
        xd.wait_line(r"ready:", 0, 60)
        maps = maps_of(env.bpffs)
        r = subprocess.run([cp.XLBCTL, "--bpffs", env.bpffs, "-o", "json",
                            "service", "list"], capture_output=True,
                           text=True, check=True)
        svcs = json.loads(r.stdout)
        return maps, svcs
    finally:
        if xd:
            xd.stop()
        env.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--extra", type=int, default=2000)
    ap.add_argument("--out")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/memsvc.py: needs root")

    cp.log("memory per service: xlbd at capacities S, 2 S, S + %d services"
           % a.extra)
    ma, svcs = run_xlbd(1, 0)
    mb, _ = run_xlbd(2, 0)
    mc, svcs_c = run_xlbd(1, a.extra)
    per, notes = {}, []
    for name in ARRAYS:
        d_cap = mb[name]["max_entries"] - ma[name]["max_entries"]
        per[name] = (mb[name]["memlock"] - ma[name]["memlock"]) / d_cap
        if mc[name]["memlock"] != ma[name]["memlock"]:
            notes.append("%s: memlock moved with the services present "
                         "(%d -> %d)" % (name, ma[name]["memlock"],
                                         mc[name]["memlock"]))
    d_cap = mb["xlb_svc"]["max_entries"] - ma["xlb_svc"]["max_entries"]
    per["xlb_svc_bucket"] = (mb["xlb_svc"]["memlock"] -
                             ma["xlb_svc"]["memlock"]) / d_cap
    fe_a = len(svcs)
    fe_c = len(svcs_c)
    per["xlb_svc_elem"] = (mc["xlb_svc"]["memlock"] -
                           ma["xlb_svc"]["memlock"]) / (fe_c - fe_a)

    rows = []
    for nb in SIZES:
        fes = [s for s in svcs if s["name"] == "mem-%d" % nb]
        if not fes or fes[0]["backends"] != nb:
            sys.exit("service mem-%d not programmed as expected: %s" %
                     (nb, fes))
        m = fes[0]["table_size"]
        parts = {k: f(nb, m, len(fes)) * per[k]
                 for k, f in PER_SERVICE.items()}
        ring = parts["xlb_rings"]
        rows.append({"backends": nb, "table_size": m,
                     "frontends": len(fes),
                     "bytes": round(sum(parts.values())),
                     "ring_bytes": round(ring),
                     "entry_bytes": round(sum(parts.values()) - ring),
                     "parts": {k: round(v, 1) for k, v in parts.items()}})

    md = ["## Map memory per service (kernel accounting, maps sized "
          "for what they hold)", "",
          "| backends | table size M | ring bytes | other entries bytes | "
          "total bytes | KiB | goal |", "|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        goal = "-"
        if r["backends"] == 3:
            goal = "<= 4 KiB %s" % ("met" if r["bytes"] <= 4096 else
                                    "MISSED")
        md.append("| %d | %d | %d | %d | %d | %.2f | %s |" % (
            r["backends"], r["table_size"], r["ring_bytes"],
            r["entry_bytes"], r["bytes"], r["bytes"] / 1024.0, goal))
    md += ["", "Bytes per entry (memlock delta / entries delta): " +
           ", ".join("%s %.1f" % (k, v) for k, v in sorted(per.items()))]
    md += ["", "Per-CPU counters are counted for %d possible CPUs." %
           possible_cpus()]
    for n in notes:
        md.append("- note: " + n)
    text = "\n".join(md)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"per_entry_bytes": per, "services": rows,
                       "capacity": CAP, "extra": a.extra,
                       "maps_a": ma, "maps_b": mb, "maps_c": mc,
                       "notes": notes, "markdown": text}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
