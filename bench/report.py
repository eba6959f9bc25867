#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Turns the raw outputs of one bench/run.sh run into the results JSON
and a markdown report, and applies the regression gates.

Every figure compared is a ratio of two measurements of the same run.
The gates are wide on purpose: they catch gross regressions (xlb slower
than iptables, the established-flow cost far above the null program),
not noise. Exit status: 0 when every part ran and every gate holds.
"""
import argparse
import json
import os
import statistics
import sys

# Gross-regression gates (ratios measured in the same run).
GATE_PKT = {
    # scenario: highest acceptable ratio to the null program
    "tcp4_established": 3.5,
    "non_vip": 3.0,
    "non_vip_port": 3.0,
    "tcp4_new": 25.0,
    "tcp4_affinity_hit": 40.0,
    "tcp4_src_denied": 6.0,
    "tcp4_reject": 6.0,
    "udp4_frag_later": 5.0,
}
# Maglev spread (not timing): the fullest backend's share of a 65537-slot
# table at most this much over the ideal 1/N.
GATE_MAGLEV_BALANCE = 1.05
# Map memory of one 3-backend service (the goal).
GATE_MEM_3BE = 4096

CASE_TITLES = {
    "a": "(a) kernel routing, no NAT",
    "b_legacy": "(b) iptables-legacy DNAT, %s services",
    "c_nft": "(c) iptables-nft DNAT, %s services",
    "d": "(d) xlb XDP, XDP_PASS to the stack",
    "e": "(e) xlb XDP, fib lookup + redirect",
}


def case_title(case):
    for prefix in ("b_legacy", "c_nft"):
        if case.startswith(prefix + "_"):
            n = int(case[len(prefix) + 1:])
            title = CASE_TITLES[prefix] % "{:,}".format(n)
            return title.replace("1 services", "1 service") if n == 1 \
                else title
    return CASE_TITLES.get(case, case)


def load_json(path):
    if not path or not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        return json.load(f)


def load_jsonl(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def live_summary(runs):
    """{case: {mode: {...median over repetitions...}}}, in run order."""
    out = {}
    for r in runs:
        m = out.setdefault(r["case"], {}).setdefault(r["run"]["mode"], [])
        m.append(r["run"])
    summary = {}
    for case, modes in out.items():
        summary[case] = {}
        for mode, rs in modes.items():
            summary[case][mode] = {
                "reps": len(rs),
                "pps": statistics.median(x["pps"] for x in rs),
                "pps_each": [round(x["pps"]) for x in rs],
                "gen_pps": statistics.median(x["gen_pps"] for x in rs),
                "delivered": statistics.median(
                    x["counted"] / max(x["sent"], 1) for x in rs),
                "matched": min(x["matched"] / max(x["counted"], 1)
                               for x in rs),
                "counted": sum(x["counted"] for x in rs),
            }
    return summary


def fmt_pps(v):
    if v >= 1e6:
        return "%.2f M" % (v / 1e6)
    if v >= 1e3:
        return "%.1f k" % (v / 1e3)
    return "%.0f" % v


def ratio(a, b):
    return a / b if b else float("nan")


def trim_stats(st):
    """xlbctl stats of a live case: the outcomes, and only the services
    and backends that counted packets (a case has 10,000 services and
    30,000 backends, all but one of each idle: 3.5 MB of zeros)."""
    out = dict(st)
    for part in ("services", "backends"):
        rows = st.get(part) or []
        out[part] = [r for r in rows if r.get("packets")]
        out["idle_" + part] = len(rows) - len(out[part])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", type=int, default=0)
    ap.add_argument("--pktcost")
    ap.add_argument("--live")
    ap.add_argument("--restore")
    ap.add_argument("--xlbstats")
    ap.add_argument("--cp")
    ap.add_argument("--maglev")
    ap.add_argument("--mem")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--stamp", default="")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--failed", default="")
    ap.add_argument("--out")
    a = ap.parse_args()

    pkt = load_json(a.pktcost)
    live = live_summary(load_jsonl(a.live))
    restore = load_jsonl(a.restore)
    cp = load_json(a.cp)
    mg = load_json(a.maglev)
    mem = load_json(a.mem)
    xstats = {r["case"]: trim_stats(r["stats"])
              for r in load_jsonl(a.xlbstats)}
    failed = a.failed.split()
    gates = []
    lines = []
    w = lines.append

    def gate(name, ok, detail):
        gates.append({"gate": name, "ok": bool(ok), "detail": detail})

    w("# xlb benchmark, commit %s, %s%s" %
      (a.commit, a.stamp, " (quick)" if a.quick else ""))
    w("")
    if pkt:
        w("## Packet cost (bpf_prog_test_run, repeat=1 per call, "
          "interleaved with the null program; %d calls, %d services)"
          % (pkt["calls"], pkt["services"]))
        w("")
        w("| scenario | xlb ns | null ns | ratio to null | target | "
          "wall ratio | check |")
        w("|---|---:|---:|---:|---:|---:|---|")
        for s in pkt["scenarios"]:
            tgt = "-"
            if s["target"] is not None:
                tgt = "<= %.1f %s" % (s["target"], "met" if
                                      s["ratio"] <= s["target"] else "MISSED")
            w("| %s | %.0f | %.0f | %.2f | %s | %.3f | %s |" %
              (s["name"], s["xlb_ns"], s["null_ns"], s["ratio"], tgt,
               s["wall_ratio"], s["check"]))
            gate("pktcost %s output check" % s["name"], s["check_ok"],
                 s["check"])
            if s["name"] in GATE_PKT:
                gate("pktcost %s ratio <= %.1f" %
                     (s["name"], GATE_PKT[s["name"]]),
                     s["ratio"] <= GATE_PKT[s["name"]],
                     "%.2f" % s["ratio"])
        w("")
        if pkt.get("profile"):
            w("### Where the time goes (bench/ablate.bpf.c: the datapath "
              "cut after each step, same maps)")
            w("")
            w("| step | program | ns | step cost ns |")
            w("|---|---|---:|---:|")
            for st in pkt["profile"]:
                w("| %s | %s | %.0f | %.0f |" % (st["what"], st["program"],
                                                st["ns"], st["step_ns"]))
            w("")
    elif "pktcost" not in failed:
        failed.append("pktcost")

    if live:
        base = live.get("a", {})
        w("## Live forwarding rate (one core incl. the generator; median "
          "of repetitions; 60-byte UDP frames)")
        w("")
        w("| case | established pps | vs (a) | new-flow pps | vs (a) | "
          "delivered | reps |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        for case, modes in live.items():
            est = modes.get("established", {})
            new = modes.get("new", {})
            row = [case_title(case)]
            for mode, m in (("established", est), ("new", new)):
                if not m:
                    row += ["-", "-"]
                    continue
                b = base.get(mode, {}).get("pps")
                row += [fmt_pps(m["pps"]),
                        "%.2f" % ratio(m["pps"], b) if b else "-"]
            deliv = [m["delivered"] for m in (est, new) if m]
            row.append("%.0f%%" % (100 * min(deliv)) if deliv else "-")
            row.append(str(max([m.get("reps", 0) for m in (est, new)] or
                               [0])))
            w("| " + " | ".join(row) + " |")
            for mode, m in (("established", est), ("new", new)):
                if m:
                    gate("live %s %s: traffic delivered and DNATed" %
                         (case, mode),
                         m["counted"] > 0 and m["matched"] >= 0.999,
                         "counted %d, matched %.4f" %
                         (m["counted"], m["matched"]))
        w("")
        # What xlb's counters say it did in its cases.
        for case in ("d", "e"):
            if case not in live:
                continue
            oc = xstats.get(case, {}).get("outcomes")
            if not oc:
                gate("live %s: xlbctl stats read" % case, False, "missing")
                continue
            pk = {k: v.get("packets", 0) for k, v in oc.items()}
            dnat = pk.get("dnat", 0)
            fwd = pk.get("fib_redirect", 0)
            gate("live %s: xlb DNATed the traffic" % case,
                 dnat >= sum(m["counted"] for m in live[case].values()),
                 "dnat %d" % dnat)
            if case == "e":
                gate("live e: redirected in XDP (fib_redirect ~ dnat)",
                     fwd >= 0.99 * dnat, "fib_redirect %d of %d" % (fwd, dnat))
            else:
                gate("live d: passed to the stack (no fib_redirect)",
                     fwd == 0, "fib_redirect %d" % fwd)
            w("xlb counters, case %s: %s" % (case, ", ".join(
                "%s %d" % (k, v) for k, v in sorted(pk.items()) if v)))
            w("")
        # xlb against iptables, same run.
        xlb_cases = [c for c in ("d", "e") if c in live]
        ipt_cases = [c for c in live if c.startswith(("b_", "c_"))]
        if xlb_cases and ipt_cases:
            w("### xlb / iptables, pps ratios (same run)")
            w("")
            w("| xlb case | iptables case | established | new flows |")
            w("|---|---|---:|---:|")
            for x in xlb_cases:
                for i in ipt_cases:
                    r = []
                    for mode in ("established", "new"):
                        xp = live[x].get(mode, {}).get("pps")
                        ip = live[i].get(mode, {}).get("pps")
                        if xp is None or ip is None:
                            r.append("-")
                            continue
                        r.append("%.2f" % ratio(xp, ip))
                        gate("live %s not slower than %s (%s)" %
                             (x, i, mode), xp >= ip,
                             "%.0f vs %.0f pps" % (xp, ip))
                    w("| %s | %s | %s |" % (x, i, " | ".join(r)))
            w("")
    if restore:
        w("### iptables-restore time of the live cases' rules")
        w("")
        w("| case | services | seconds |")
        w("|---|---:|---:|")
        for r in restore:
            w("| %s | %d | %.2f |" % (r["case"], r["services"],
                                     r["restore_s"]))
        w("")
    if cp:
        w(cp.get("markdown", ""))
        w("")
        by = {}
        for r in cp.get("xlbd", []):
            by[(r["n"], r.get("mode", "file"))] = r
            gate("control plane xlbd %d services (%s): ran, last change "
                 "in the maps" % (r["n"], r.get("mode", "file")),
                 "error" not in r and r.get("last_change_in_maps") is True,
                 r.get("error", "last change in maps: %s" %
                       r.get("last_change_in_maps")))
        for (n, mode), r in sorted(by.items()):
            f = by.get((n, "file"))
            if mode != "dir" or not f or "change_p50_ms" not in r or \
                    "change_p50_ms" not in f:
                continue
            gate("control plane %d services: a change through the "
                 "directory not slower than through one file (p50)" % n,
                 r["change_p50_ms"] <= f["change_p50_ms"],
                 "%.2f vs %.2f ms" % (r["change_p50_ms"],
                                      f["change_p50_ms"]))
    elif "control-plane" in failed:
        pass
    if mg:
        w("## Maglev (libxlb's xlb_maglev_build, bench/maglevbench)")
        w("")
        w("| N backends | M slots | build median ms | build lowest ms |")
        w("|---:|---:|---:|---:|")
        for g in mg["generation"]:
            w("| {:,} | {:,} | {:.3f} | {:.3f} |".format(
                g["n"], g["m"], g["median_ms"], g["min_ms"]))
        w("")
        w("| N | M | slots per backend | fullest share / ideal 1/N | "
          "emptiest / ideal | remove one: moved share (ideal 1/N) | "
          "/ ideal, mean (max) | add one: moved share (ideal 1/(N+1)) | "
          "/ ideal |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for sp in mg["spread"]:
            w("| {:,} | {:,} | {}-{} | {:.4f} | {:.4f} | {:.5f} ({:.5f}) | "
              "{:.2f} ({:.2f}) | {:.5f} ({:.5f}) | {:.2f} |".format(
                  sp["n"], sp["m"], sp["min_slots"], sp["max_slots"],
                  sp["max_share_vs_ideal"], sp["min_share_vs_ideal"],
                  sp["remove_moved_share"], 1.0 / sp["n"],
                  sp["remove_vs_ideal"], sp["remove_vs_ideal_max"],
                  sp["add_moved_share"], 1.0 / (sp["n"] + 1),
                  sp["add_vs_ideal"]))
            if sp["m"] == 65537:
                gate("maglev n=%d m=65537: fullest backend <= %.2f x ideal"
                     % (sp["n"], GATE_MAGLEV_BALANCE),
                     sp["max_share_vs_ideal"] <= GATE_MAGLEV_BALANCE,
                     "%.4f" % sp["max_share_vs_ideal"])
        w("")
    elif "maglev" not in failed:
        failed.append("maglev")
    if mem:
        w(mem["markdown"])
        w("")
        for r in mem["services"]:
            if r["backends"] == 3:
                gate("memory of a 3-backend service <= %d bytes" %
                     GATE_MEM_3BE, r["bytes"] <= GATE_MEM_3BE,
                     "%d bytes" % r["bytes"])
        for note in mem.get("notes", []):
            gate("memory: preallocated maps do not grow with services",
                 False, note)
    elif "memory" not in failed:
        failed.append("memory")

    for f in failed:
        gate("part %s ran" % f, False, "failed")
    bad = [g for g in gates if not g["ok"]]
    w("## Gates: %d checked, %d failed" % (len(gates), len(bad)))
    for g in bad:
        w("- FAILED: %s (%s)" % (g["gate"], g["detail"]))
    w("")
    w("Run time: %d s" % a.seconds)
    md = "\n".join(lines)
    print(md)

    result = {
        "commit": a.commit,
        "stamp": a.stamp,
        "quick": bool(a.quick),
        "seconds": a.seconds,
        "pktcost": pkt,
        "live": live,
        "live_runs": load_jsonl(a.live),
        "restore": restore,
        "xlb_stats": xstats,
        "control_plane": cp,
        "maglev": mg,
        "memory": mem,
        "gates": gates,
        "failed_parts": failed,
    }
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
