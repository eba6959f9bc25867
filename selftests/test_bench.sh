#!/bin/bash
# The benchmark's quick mode as a test: packet cost against the null
# program, live rate of plain routing, iptables and xlb, all in one run,
# with bench/report.py's wide regression gates (ratios measured side by
# side, see bench/README.md). One PASS/FAIL line per gate.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build/bench-results"
mkdir -p "$out"
before="$(ls -1 "$out" 2>/dev/null | wc -l)"
timeout 600 bash "$root/bench/run.sh" --quick --results-dir "$out" >"$out/quick.log" 2>&1
rc=$?
latest="$(ls -1t "$out"/*.json 2>/dev/null | head -1)"
if [ -z "$latest" ] || [ "$(ls -1 "$out" | wc -l)" -le "$before" ]; then
	echo "FAIL: bench/run.sh --quick wrote no results (status $rc); log tail:"
	tail -20 "$out/quick.log"
	exit 1
fi
/usr/bin/python3 - "$latest" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
gates = d.get("gates", [])
if not gates:
    print("FAIL: no gate in %s" % sys.argv[1])
for g in gates:
    print("%s: bench gate: %s (%s)" % ("PASS" if g["ok"] else "FAIL",
                                        g["gate"], g.get("detail", "")))
PY
echo "# full report: $out/quick.log"
exit $rc
