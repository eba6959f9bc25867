#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Plots of one results file (bench/results/*.json) with gnuplot:

  <dir>/full-sync.png  time to program N services, log-log: xlbd (start
                       to ready, and its own sync time) against
                       iptables-restore, legacy and nft
  <dir>/change-latency.png  one endpoint change, p50 and p99, through
                       one config file and through a config directory,
                       against the 5 ms goal
  <dir>/live-pps.png   live forwarding rate by case, established and
                       new flows, as bars

  bench/plot.py RESULTS.json [--dir bench/plots]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import case_title  # noqa: E402


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def full_sync(res, tmp, out):
    cp = res.get("control_plane") or {}
    series = []
    for mode, what in (("file", "one file"), ("dir", "directory")):
        xl = [r for r in cp.get("xlbd", []) if r.get("ready_s") and
              r.get("mode", "file") == mode]
        if not xl:
            continue
        series.append(("xlbd, %s: start to ready" % what,
                       [(r["n"], r["ready_s"]) for r in xl]))
        series.append(("xlbd, %s: sync only (its log)" % what,
                       [(r["n"], r["programmed_ms"] / 1000) for r in xl
                        if r.get("programmed_ms")]))
    for fl in ("legacy", "nft"):
        pts = [(r["n"], r["restore_s"]) for r in cp.get("iptables", [])
               if r["flavour"] == fl and r.get("restore_s")]
        if pts:
            series.append(("iptables-%s-restore" % fl, pts))
    if not series:
        return False
    labels = []
    for r in cp.get("iptables", []):
        if r.get("restore_s_error"):
            labels.append("set label 'iptables-%s-restore failed at %s' "
                          "at graph 0.98, graph %.2f right" %
                          (r["flavour"], "{:,}".format(r["n"]),
                           0.08 + 0.06 * len(labels)))
    plots = []
    for i, (title, pts) in enumerate(series):
        path = os.path.join(tmp, "s%d.dat" % i)
        with open(path, "w") as f:
            for n, s in pts:
                f.write("%d %g\n" % (n, s))
        plots.append("'%s' using 1:2 with linespoints lw 2 pt 7 title '%s'"
                     % (path, title))
    gnuplot("""set terminal pngcairo size 800,520 font ',10' noenhanced
set output '%s'
set logscale xy
set grid
set key top left
set xlabel 'services (x 3 endpoints)'
set ylabel 'seconds'
set xrange [500:200000]
set title 'Time to program N services (commit %s)'
%s
plot %s
""" % (out, res.get("commit", "?"), "\n".join(labels), ", ".join(plots)))
    return True


def change_latency(res, tmp, out):
    cp = res.get("control_plane") or {}
    plots = []
    for mode, what in (("file", "one file"), ("dir", "directory")):
        xl = [r for r in cp.get("xlbd", []) if r.get("change_p50_ms") and
              r.get("mode", "file") == mode]
        for key, q in (("change_p50_ms", "p50"), ("change_p99_ms", "p99")):
            path = os.path.join(tmp, "c-%s-%s.dat" % (mode, q))
            with open(path, "w") as f:
                for r in xl:
                    f.write("%d %g\n" % (r["n"], r[key]))
            if xl:
                plots.append("'%s' using 1:2 with linespoints lw 2 pt 7 "
                             "title 'xlbd, %s: %s'" % (path, what, q))
    if not plots:
        return False
    plots.append("5 with lines dt 2 lc rgb 'black' title 'goal: p99 <= 5 ms'")
    gnuplot("""set terminal pngcairo size 800,520 font ',10' noenhanced
set output '%s'
set logscale xy
set grid
set key top left
set xlabel 'services (x 3 endpoints)'
set ylabel 'ms, file renamed into place -> xlbd applied'
set xrange [500:200000]
set title 'One endpoint change (commit %s)'
plot %s
""" % (out, res.get("commit", "?"), ", ".join(plots)))
    return True


def live_bars(res, tmp, out):
    live = res.get("live") or {}
    if not live:
        return False
    path = os.path.join(tmp, "live.dat")
    with open(path, "w") as f:
        for case, modes in live.items():
            est = modes.get("established", {}).get("pps", 0)
            new = modes.get("new", {}).get("pps", 0)
            label = case_title(case).replace('"', "'")
            f.write('"%s" %g %g\n' % (label, est, new))
    gnuplot("""set terminal pngcairo size 1000,600 font ',10' noenhanced
set output '%s'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top right
set ylabel 'packets/s delivered (one core incl. generator, log scale)'
set title 'Live forwarding rate, 60-byte UDP (commit %s)'
set xtics rotate by -25 left
set bmargin 9
set rmargin 12
set logscale y
set format y '%%.0s%%c'
set yrange [1000:*]
plot '%s' using 2:xtic(1) title 'established flow', '' using 3 title 'new flow per packet'
""" % (out, res.get("commit", "?"), path))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--dir", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "plots"))
    a = ap.parse_args()
    with open(a.results) as f:
        res = json.load(f)
    os.makedirs(a.dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("full-sync.png", full_sync),
                         ("change-latency.png", change_latency),
                         ("live-pps.png", live_bars)):
            out = os.path.join(a.dir, name)
            if fn(res, tmp, out):
                print("wrote " + out, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
