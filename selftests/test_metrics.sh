#!/bin/bash
# xlbd's HTTP endpoints: /healthz, /readyz and /metrics, fetched with curl
# inside the agent's namespace. Every /metrics answer goes through a
# strict parser of the Prometheus text format (HELP and TYPE before the
# samples of each family, samples that match their TYPE, label escaping,
# cumulative histogram buckets ending with +Inf, _count equal to the +Inf
# bucket, no duplicate series). Then the values: gauges against the
# config, every outcome counter of XLB_STAT_NAMES, per-service and
# per-backend series, packets counted for traffic sent to a VIP, the sync
# histogram growing with each reload and SIGHUP, rejected configs, /readyz
# before the first sync, the per-service cap, IPv6 and disabled listeners.
set -u
. "$(dirname "$0")/lib.sh"
xlb_init

ns="$XLB_PFX-m"
xlb_ns_add "$ns" || { xlb_fail "create namespace"; exit 1; }
ip -n "$ns" link add v0 type veth peer name v1 && ip -n "$ns" link set v0 up &&
	ip -n "$ns" link set v1 up || { xlb_fail "create links"; exit 1; }
mkdir -p "$XLB_BPFFS" && mount -t bpf bpf "$XLB_BPFFS" ||
	{ xlb_fail "mount bpffs"; exit 1; }
pins="$XLB_BPFFS/m"
conf="$XLB_RUN/m.json"
parser="$XLB_RUN/promparse.py"
url=http://127.0.0.1:9477

# --- a strict parser of the Prometheus text format ------------------------
# promparse.py FILE: exits 1 with "ERROR: line N: why" on the first
# violation, else writes FILE.json: {"series": {"name{k=v,...}": value},
# "types": {family: type}}, labels sorted by name.
cat >"$parser" <<'EOF'
import json, math, re, sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LNAME = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}

def fail(n, why):
    print('ERROR: line %d: %s' % (n, why))
    sys.exit(1)

def value(n, s):
    if s in ('+Inf', '-Inf', 'NaN'):
        return float(s.replace('Inf', 'inf').replace('NaN', 'nan'))
    if not re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?', s):
        fail(n, 'value %r: not a number' % s)
    return float(s)

def labels(n, s, i):
    # s[i] == '{'; returns (dict, index after '}')
    out = {}
    i += 1
    while True:
        if s[i] == '}':
            return out, i + 1
        m = LNAME.match(s, i)
        if not m:
            fail(n, 'bad label name at column %d' % i)
        k = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            fail(n, 'label %s: no =" after the name' % k)
        i += 2
        v = []
        while True:
            if i >= len(s):
                fail(n, 'label %s: unterminated value' % k)
            c = s[i]
            if c == '\\':
                e = s[i + 1:i + 2]
                if e not in ('\\', '"', 'n'):
                    fail(n, 'label %s: bad escape \\%s' % (k, e))
                v.append('\n' if e == 'n' else e)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                fail(n, 'label %s: raw newline' % k)
            else:
                v.append(c)
                i += 1
        if k in out:
            fail(n, 'label %s twice' % k)
        out[k] = ''.join(v)
        if s[i] == ',':
            i += 1
        elif s[i] != '}':
            fail(n, 'label %s: expected , or } after the value' % k)

def family_of(name, types):
    for suf in ('_bucket', '_sum', '_count'):
        if name.endswith(suf) and types.get(name[:-len(suf)]) == 'histogram':
            return name[:-len(suf)], suf
    return name, ''

text = open(sys.argv[1], encoding='utf-8').read()
if not text.endswith('\n'):
    fail(0, 'no newline at the end')
helps, types, series, done, sampled = {}, {}, {}, set(), set()
hist = {}          # (family, labels without le) -> {'b': [(le, v)], 'count': v}
cur = None
for n, line in enumerate(text.split('\n')[:-1], 1):
    if line.startswith('#'):
        p = line.split(' ', 3)
        if len(p) < 3 or p[1] not in ('HELP', 'TYPE'):
            fail(n, 'comment that is neither HELP nor TYPE: %r' % line)
        name = p[2]
        if not NAME.fullmatch(name):
            fail(n, 'bad metric name %r' % name)
        if p[1] == 'HELP':
            if name in helps:
                fail(n, 'second HELP for %s' % name)
            if len(p) < 4 or not p[3]:
                fail(n, 'empty HELP for %s' % name)
            helps[name] = p[3]
        else:
            if name in types:
                fail(n, 'second TYPE for %s' % name)
            if len(p) != 4 or p[3] not in TYPES:
                fail(n, 'bad TYPE line %r' % line)
            if name in sampled:
                fail(n, 'TYPE for %s after its samples' % name)
            types[name] = p[3]
        if cur is not None and cur != name:
            done.add(cur)
        cur = name
        continue
    if not line:
        fail(n, 'empty line')
    m = NAME.match(line)
    if not m:
        fail(n, 'bad sample name in %r' % line)
    name = m.group(0)
    i = m.end()
    lab = {}
    if i < len(line) and line[i] == '{':
        lab, i = labels(n, line, i)
    if line[i:i + 1] != ' ':
        fail(n, 'no space before the value')
    rest = line[i + 1:].split(' ')
    if len(rest) not in (1, 2):
        fail(n, 'trailing garbage')
    v = value(n, rest[0])
    fam, suf = family_of(name, types)
    if fam not in types:
        fail(n, 'sample %s before any TYPE of its family' % name)
    if fam not in helps:
        fail(n, 'family %s has no HELP' % fam)
    if fam in done:
        fail(n, 'samples of %s not together' % fam)
    if fam != cur:
        fail(n, 'sample of %s under the TYPE of %s' % (fam, cur))
    sampled.add(fam)
    t = types[fam]
    if t == 'counter':
        if suf or not name.endswith('_total'):
            fail(n, 'counter %s: name does not end in _total' % name)
        if not (v >= 0) or math.isinf(v) or v != int(v):
            fail(n, 'counter %s: value %s not a non-negative integer' % (name, rest[0]))
    elif t == 'gauge':
        if suf:
            fail(n, 'gauge %s with a suffix' % name)
    elif t == 'histogram':
        if not suf:
            fail(n, 'histogram %s: sample without _bucket/_sum/_count' % name)
        key = (fam, tuple(sorted((k, x) for k, x in lab.items() if k != 'le')))
        h = hist.setdefault(key, {'b': [], 'count': None, 'sum': None})
        if suf == '_bucket':
            if 'le' not in lab:
                fail(n, '%s without le' % name)
            le = value(n, lab['le'])
            if h['b'] and le <= h['b'][-1][0]:
                fail(n, '%s: le %s not increasing' % (name, lab['le']))
            if h['b'] and v < h['b'][-1][1]:
                fail(n, '%s: le %s: %s below the previous bucket (not cumulative)' % (name, lab['le'], rest[0]))
            h['b'].append((le, v))
        elif 'le' in lab:
            fail(n, '%s with le' % name)
        elif suf == '_count':
            h['count'] = v
        else:
            h['sum'] = v
    key = name + '{' + ','.join('%s=%s' % kv for kv in sorted(lab.items())) + '}'
    if key in series:
        fail(n, 'duplicate series %s' % key)
    series[key] = v
for (fam, lab), h in hist.items():
    if not h['b'] or h['b'][-1][0] != math.inf:
        fail(0, 'histogram %s%s: buckets do not end with le="+Inf"' % (fam, lab))
    if h['count'] is None or h['sum'] is None:
        fail(0, 'histogram %s%s: no _count or _sum' % (fam, lab))
    if h['count'] != h['b'][-1][1]:
        fail(0, 'histogram %s%s: _count %s != +Inf bucket %s' % (fam, lab, h['count'], h['b'][-1][1]))
for fam in helps:
    if fam not in types:
        fail(0, 'HELP without TYPE for %s' % fam)
json.dump({'series': series, 'types': types}, open(sys.argv[1] + '.json', 'w'))
EOF

# http_code PATH [URL]: the status of GET PATH, 000 if no connection.
http_code() {
	xlb_ns "$ns" curl -s -o /dev/null -m 5 -w '%{http_code}' "${2:-$url}$1"
}

# scrape NAME [URL]: fetches /metrics into $XLB_RUN/NAME.prom and parses
# it strictly; one PASS/FAIL line.
scrape() {
	local f="$XLB_RUN/$1.prom" out
	rm -f "$f" "$f.json"
	if ! xlb_ns "$ns" curl -sf -m 10 -o "$f" "${2:-$url}/metrics"; then
		xlb_fail "$1: GET /metrics failed"
		return 1
	fi
	out="$($XLB_PY "$parser" "$f" 2>&1)"
	if [ $? -eq 0 ] && [ -f "$f.json" ]; then
		xlb_pass "$1: /metrics parses strictly ($(grep -vc '^#' "$f") samples)"
	else
		xlb_fail "$1: /metrics does not parse: $out"
		return 1
	fi
}

# mval NAME SERIES: the value of a series of scrape NAME, e.g.
# mval s1 'xlb_service_packets_total{service=web}'; "none" if absent.
mval() {
	$XLB_PY -c 'import json, sys
d = json.load(open(sys.argv[1]))["series"]
v = d.get(sys.argv[2])
print("none" if v is None else ("%d" % v if v == int(v) else repr(v)))' \
		"$XLB_RUN/$1.prom.json" "$2"
}

# mcount NAME REGEX: how many series of scrape NAME match REGEX.
mcount() {
	$XLB_PY -c 'import json, re, sys
d = json.load(open(sys.argv[1]))["series"]
print(sum(1 for k in d if re.fullmatch(sys.argv[2], k)))' \
		"$XLB_RUN/$1.prom.json" "$2"
}

# The parser must refuse what it is meant to catch (else its PASS lines
# prove nothing).
bad_prom() {
	local what="$1" f="$XLB_RUN/bad.prom"
	printf '%b' "$2" >"$f"
	if $XLB_PY "$parser" "$f" >/dev/null 2>&1; then
		xlb_fail "parser accepts $what"
	else
		xlb_pass "parser refuses $what"
	fi
}
h='# HELP x_seconds t\n# TYPE x_seconds histogram\n'
bad_prom "a histogram that is not cumulative" \
	"$h"'x_seconds_bucket{le="1"} 2\nx_seconds_bucket{le="+Inf"} 1\nx_seconds_sum 1\nx_seconds_count 1\n'
bad_prom "a histogram without +Inf" \
	"$h"'x_seconds_bucket{le="1"} 2\nx_seconds_sum 1\nx_seconds_count 2\n'
bad_prom "a _count that differs from +Inf" \
	"$h"'x_seconds_bucket{le="+Inf"} 2\nx_seconds_sum 1\nx_seconds_count 3\n'
bad_prom "a sample before its TYPE" 'a_total 1\n# HELP a_total t\n# TYPE a_total counter\n'
bad_prom "a bad label escape" '# HELP a_total t\n# TYPE a_total counter\na_total{s="x\\q"} 1\n'
bad_prom "a counter without _total" '# HELP a t\n# TYPE a counter\na 1\n'
bad_prom "a duplicate series" '# HELP a t\n# TYPE a gauge\na 1\na 2\n'
printf '# HELP a_total t\n# TYPE a_total counter\na_total{s="q\\"\\\\\\n"} 1\n' >"$XLB_RUN/good.prom"
xlb_check "parser accepts escaped quote, backslash and newline in a label" \
	$XLB_PY "$parser" "$XLB_RUN/good.prom"

# --- the agent -------------------------------------------------------------
# Service names with a quote and a backslash test the label escaping.
cat >"$conf" <<'EOF'
{"services": [
 {"name": "web", "vip": "10.96.0.10", "port": 80, "protocol": "tcp",
  "backends": [{"ip": "10.20.0.11", "port": 8080}, {"ip": "10.20.0.12", "port": 8080}]},
 {"name": "dns", "vip": "10.96.0.53", "port": 53, "protocol": "udp",
  "backends": [{"ip": "10.20.0.11", "port": 5353}]},
 {"name": "q\"uo\\te", "vip": "fd00:96::10", "port": 443, "protocol": "tcp",
  "backends": [{"ip": "fd00:20::11", "port": 8443}, {"ip": "fd00:20::12", "port": 8443}]}]}
EOF
# Datagrams sent out of v1 enter v0, where xlb_tc balances them (the
# default mode gives a veth the tc program). (Set
# up before xlbd starts: a node address change is a sync of its own.)
v0mac="$(ip -n "$ns" -o link show v0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)"
ip -n "$ns" addr add 10.30.0.1/24 dev v1 &&
	ip -n "$ns" route add 10.96.0.0/16 via 10.30.0.2 dev v1 &&
	ip -n "$ns" neigh replace 10.30.0.2 lladdr "$v0mac" dev v1 nud permanent ||
	xlb_fail "route to the VIPs through v1"
small=(--ring-slots 65536 --ct-entries 4096 --max-services 64 --max-backends 256)
xlb_bg agent "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 --bpffs "$pins" "${small[@]}"
log="$XLB_RUN/agent.log"
xlb_wait_until 20 grep -q 'ready:' "$log"
xlb_check "xlbd ready" grep -q 'ready: 3 services, 5 backends' "$log"
xlb_check "log says where metrics are served" \
	grep -q 'metrics: serving /metrics, /healthz, /readyz on http://127.0.0.1:9477' "$log"
xlb_check_eq "$(http_code /healthz)" 200 "/healthz 200"
xlb_check_eq "$(http_code /readyz)" 200 "/readyz 200 after the first sync"
xlb_check_eq "$(http_code /nothing)" 404 "unknown path 404"
xlb_check_eq "$(xlb_ns "$ns" curl -s -o /dev/null -m 5 -w '%{http_code}' -X POST "$url/metrics")" \
	405 "POST /metrics 405"
ctype="$(xlb_ns "$ns" curl -s -o /dev/null -m 5 -w '%{content_type}' "$url/metrics")"
xlb_check "Content-Type is the text format 0.0.4 ($ctype)" \
	grep -q '^text/plain; version=0.0.4' <<<"$ctype"

if scrape s1; then
	xlb_check_eq "$(mval s1 'xlb_services_programmed{}')" 3 "services gauge matches the config"
	xlb_check_eq "$(mval s1 'xlb_backends_programmed{}')" 5 "backends gauge matches the config"
	xlb_check_eq "$(mval s1 'xlb_ready{}')" 1 "xlb_ready 1"
	# Every outcome of the ABI, by its name there.
	names="$(sed -n '/#define XLB_STAT_NAMES/,/}/p' "$XLB_ROOT/include/xlb/abi.h" |
		grep -o '"[a-z_0-9]*"' | tr -d '"')"
	nn=0 miss=
	for o in $names; do
		nn=$((nn + 1))
		for f in packets bytes; do
			[ "$(mval s1 "xlb_datapath_${f}_total{outcome=$o}")" = none ] &&
				miss="$miss $f/$o"
		done
	done
	xlb_check "all $nn outcome counters present, packets and bytes (missing:${miss:-none})" \
		test -z "$miss" -a "$nn" -ge 17
	xlb_check_eq "$(mcount s1 'xlb_datapath_packets_total\{.*\}')" "$nn" \
		"no outcome series beyond XLB_STAT_NAMES"
	xlb_check_eq "$(mval s1 'xlb_service_packets_total{service=q"uo\te}')" 0 \
		"service name with a quote and a backslash escaped and read back"
	xlb_check_eq "$(mcount s1 'xlb_service_bytes_total\{service=.*\}')" 3 \
		"one bytes series per service"
	xlb_check_eq "$(mval s1 'xlb_backend_packets_total{ip=fd00:20::12,port=8443,service=q"uo\te}')" 0 \
		"per-backend series labelled service, ip, port (IPv6)"
	xlb_check_eq "$(mcount s1 'xlb_backend_bytes_total\{.*\}')" 5 "one series per backend"
	xlb_check_eq "$(mval s1 'xlb_sync_duration_seconds_count{}')" 1 \
		"sync histogram: one observation (the first sync)"
	xlb_check_eq "$(mval s1 'xlb_config_reloads_total{}')" 1 "config reloads 1"
	for c in config_rejected watch_restarts watch_relists watch_errors; do
		xlb_check_eq "$(mval s1 "xlb_${c}_total{}")" 0 "counter xlb_${c}_total present, 0"
	done
	st="$(mval s1 'process_start_time_seconds{}')"
	now="$(date +%s)"
	xlb_check "process start time $st within the last minute (now $now)" \
		$XLB_PY -c "import sys; sys.exit(not ($now - 60 < float('$st') <= $now + 1))"
	xlb_check_eq "$(mval s1 'xlb_metrics_services_omitted{}')" 0 "no service omitted"
fi

# --- traffic to a VIP shows in the service and outcome counters -------------
xlb_ns "$ns" $XLB_PY -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(7):
    s.sendto(b"x" * 20, ("10.96.0.53", 53))'
if xlb_wait_until 5 sh -c "ip netns exec $ns curl -sf $url/metrics | grep -q '^xlb_service_packets_total{service=\"dns\"} 7\$'" &&
	scrape s2; then
	xlb_check_eq "$(mval s2 'xlb_service_packets_total{service=dns}')" 7 \
		"7 datagrams to the dns VIP counted for service dns"
	xlb_check_eq "$(mval s2 'xlb_backend_packets_total{ip=10.20.0.11,port=5353,service=dns}')" 7 \
		"and for its backend"
	xlb_check "bytes counted with them ($(mval s2 'xlb_service_bytes_total{service=dns}'))" \
		test "$(mval s2 'xlb_service_bytes_total{service=dns}')" -ge $((7 * 62))
	xlb_check "dnat outcome counts them ($(mval s2 'xlb_datapath_packets_total{outcome=dnat}'))" \
		test "$(mval s2 'xlb_datapath_packets_total{outcome=dnat}')" -ge 7
	xlb_check_eq "$(mval s2 'xlb_service_packets_total{service=web}')" 0 \
		"service web untouched"
else
	xlb_fail "7 datagrams to the dns VIP not counted; $(grep 'service=\"dns\"' "$XLB_RUN/s1.prom" | head -2)"
fi

# --- reloads feed the sync histogram ----------------------------------------
sed 's/"port": 5353}/"port": 5353}, {"ip": "10.20.0.12", "port": 5353}/' "$conf" >"$conf.tmp" &&
	mv "$conf.tmp" "$conf"
if xlb_wait_until 5 grep -q 'config changed: 0 added, 1 updated' "$log" && scrape s3; then
	xlb_check_eq "$(mval s3 'xlb_sync_duration_seconds_count{}')" 2 \
		"config file change: sync histogram count 1 -> 2"
	xlb_check_eq "$(mval s3 'xlb_backends_programmed{}')" 6 "backends gauge follows the change"
	xlb_check_eq "$(mval s3 'xlb_config_reloads_total{}')" 2 "config reloads 2"
	xlb_check_eq "$(mcount s3 'xlb_backend_packets_total\{.*service=dns\}')" 2 \
		"new backend has its series"
	# A file change is applied after a 20 ms settle: its latency is at least that.
	xlb_check "sync latency sum includes the settle time ($(mval s3 'xlb_sync_duration_seconds_sum{}') s)" \
		$XLB_PY -c "import sys; sys.exit(not float('$(mval s3 'xlb_sync_duration_seconds_sum{}')') >= 0.02)"
else
	xlb_fail "config change not applied; log tail: $(tail -2 "$log")"
fi
kill -HUP "${XLB_BG[agent]}"
if xlb_wait_until 5 grep -q 'SIGHUP: 0 added, 0 updated, 0 removed, 3 unchanged' "$log" &&
	scrape s4; then
	xlb_check_eq "$(mval s4 'xlb_sync_duration_seconds_count{}')" 3 "SIGHUP: sync histogram count 2 -> 3"
else
	xlb_fail "SIGHUP reload not logged; log tail: $(tail -2 "$log")"
fi
echo '{"services": [' >"$conf.tmp" && mv "$conf.tmp" "$conf"
if xlb_wait_until 5 grep -q 'config changed: config: not valid JSON' "$log" && scrape s5; then
	xlb_check_eq "$(mval s5 'xlb_config_rejected_total{}')" 1 "rejected config counted"
	xlb_check_eq "$(mval s5 'xlb_sync_duration_seconds_count{}')" 3 "a rejected config is no sync"
	xlb_check_eq "$(mval s5 'xlb_services_programmed{}')" 3 "services unchanged after the rejection"
else
	xlb_fail "bad config not rejected; log tail: $(tail -2 "$log")"
fi

# --- /readyz before the first sync -------------------------------------------
# An agent that adopts pinned maps but cannot apply its config keeps the
# datapath as it was and runs, healthy but not ready.
xlb_bg_stop agent TERM
xlb_bg agent2 "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 --bpffs "$pins" "${small[@]}"
log="$XLB_RUN/agent2.log"
xlb_wait_until 20 grep -q 'config: config: not valid JSON' "$log"
xlb_wait_until 5 test "$(http_code /healthz)" = 200
xlb_check_eq "$(http_code /healthz)" 200 "no first sync yet: /healthz 200"
xlb_check_eq "$(http_code /readyz)" 503 "no first sync yet: /readyz 503"
if scrape s6; then
	xlb_check_eq "$(mval s6 'xlb_ready{}')" 0 "no first sync yet: xlb_ready 0"
	xlb_check_eq "$(mval s6 'xlb_config_rejected_total{}')" 1 "the rejected start config counted"
	xlb_check_eq "$(mcount s6 'xlb_service_packets_total\{.*\}')" 3 \
		"per-service series come from the pinned maps even before the sync"
fi
cat >"$conf.tmp" <<'EOF'
{"services": [{"name": "web", "vip": "10.96.0.10", "port": 80, "protocol": "tcp",
  "backends": [{"ip": "10.20.0.11", "port": 8080}]}]}
EOF
mv "$conf.tmp" "$conf"
xlb_wait_until 5 grep -q 'ready:' "$log"
xlb_check_eq "$(http_code /readyz)" 200 "fixed config: /readyz 200"
if scrape s7; then
	xlb_check_eq "$(mval s7 'xlb_services_programmed{}')" 1 "services gauge after the fix"
	xlb_check_eq "$(mcount s7 'xlb_service_packets_total\{.*\}')" 1 "removed services have no series"
fi
xlb_bg_stop agent2 TERM

# --- the cap, IPv6, and no listener -------------------------------------------
cat >"$conf" <<'EOF'
{"services": [
 {"name": "a", "vip": "10.96.0.1", "port": 80, "protocol": "tcp", "backends": [{"ip": "10.20.0.11", "port": 80}]},
 {"name": "b", "vip": "10.96.0.2", "port": 80, "protocol": "tcp", "backends": [{"ip": "10.20.0.11", "port": 80}]},
 {"name": "c", "vip": "10.96.0.3", "port": 80, "protocol": "tcp", "backends": [{"ip": "10.20.0.11", "port": 80}]}]}
EOF
xlb_bg agent3 "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 --bpffs "$pins" "${small[@]}" \
	--metrics-address '[::1]:9478' --metrics-max-services 2 --metrics-max-backends 1
log="$XLB_RUN/agent3.log"
xlb_wait_until 20 grep -q 'ready:' "$log"
xlb_check_eq "$(http_code /readyz 'http://[::1]:9478')" 200 "--metrics-address [::1]:9478 serves over IPv6"
xlb_check_eq "$(http_code /readyz)" 000 "and not on the default address"
if scrape s8 'http://[::1]:9478'; then
	xlb_check_eq "$(mcount s8 'xlb_service_packets_total\{.*\}')" 2 "--metrics-max-services 2: 2 service series"
	xlb_check_eq "$(mval s8 'xlb_metrics_services_omitted{}')" 1 "the third service counted as omitted"
	xlb_check_eq "$(mcount s8 'xlb_backend_packets_total\{.*\}')" 1 "--metrics-max-backends 1: 1 backend series"
	xlb_check_eq "$(mval s8 'xlb_metrics_backends_omitted{}')" 2 "the other backends counted as omitted"
	xlb_check_eq "$(mval s8 'xlb_services_programmed{}')" 3 "the gauge still counts every service"
fi
xlb_bg_stop agent3 TERM
xlb_bg agent4 "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 --bpffs "$pins" "${small[@]}" \
	--metrics-address none
log="$XLB_RUN/agent4.log"
xlb_wait_until 20 grep -q 'ready:' "$log"
xlb_check "--metrics-address none: logged" grep -q 'metrics: disabled' "$log"
xlb_check_eq "$(http_code /healthz)" 000 "--metrics-address none: nothing listens"
xlb_bg_stop agent4 TERM

# A config directory: each file's change is a sync of its own.
cdir="$XLB_RUN/conf.d"
mkdir -p "$cdir"
echo '{"services": [{"name": "a", "vip": "10.96.0.1", "port": 80, "protocol": "tcp", "backends": [{"ip": "10.20.0.11", "port": 80}]}]}' >"$cdir/a.json"
echo '{"services": [{"name": "b", "vip": "10.96.0.2", "port": 80, "protocol": "tcp", "backends": [{"ip": "10.20.0.11", "port": 80}]}]}' >"$cdir/b.json"
xlb_bg agent5 "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$cdir" --iface v0 --bpffs "$pins" "${small[@]}"
log="$XLB_RUN/agent5.log"
xlb_wait_until 20 grep -q 'ready:' "$log"
scrape d1
c1="$(mval d1 'xlb_sync_duration_seconds_count{}')"
echo '{"services": [{"name": "b", "vip": "10.96.0.2", "port": 80, "protocol": "tcp", "backends": [{"ip": "10.20.0.12", "port": 80}, {"ip": "10.20.0.13", "port": 80}]}]}' >"$cdir/b.json.tmp" &&
	mv "$cdir/b.json.tmp" "$cdir/b.json"
if xlb_wait_until 5 grep -q 'config b.json changed: 0 added, 1 updated' "$log" && scrape d2; then
	xlb_check_eq "$(mval d2 'xlb_sync_duration_seconds_count{}')" "$((c1 + 1))" \
		"config directory: one file's change is one sync observed"
	xlb_check_eq "$(mval d2 'xlb_backends_programmed{}')" 3 "config directory: backends gauge follows"
else
	xlb_fail "config directory: b.json change not applied; log tail: $(tail -2 "$log")"
fi
echo '{"services": [{"name": "c", "vip": "10.96.0.1", "port": 80, "protocol": "tcp"}]}' >"$cdir/c.json"
if xlb_wait_until 5 grep -q 'config c.json changed: service c: frontend 10.96.0.1:80/tcp: already used' "$log" &&
	scrape d3; then
	xlb_check_eq "$(mval d3 'xlb_config_rejected_total{}')" 1 "config directory: a conflicting file counted as rejected"
	xlb_check_eq "$(mval d3 'xlb_sync_duration_seconds_count{}')" "$((c1 + 1))" \
		"config directory: and not as a sync"
else
	xlb_fail "config directory: conflict not reported; log tail: $(tail -2 "$log")"
fi
xlb_bg_stop agent5 TERM

out="$("$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 --metrics-address 127.0.0.1 2>&1)"
xlb_check_eq "$?" 2 "--metrics-address without a port: usage error"
xlb_check "its message names the value: $out" grep -q -- '--metrics-address "127.0.0.1": not ADDR:PORT' <<<"$out"
# A taken port: xlbd refuses to start and says why.
xlb_bg blocker "$ns" $XLB_PY -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9477)); s.listen(); time.sleep(60)'
xlb_wait_until 5 sh -c "ip netns exec $ns ss -ltn | grep -q 127.0.0.1:9477"
out="$(timeout 20 ip netns exec "$ns" "$XLB_XLBD" "${XLB_XLBD_CG[@]}" --config "$conf" --iface v0 --bpffs "$pins" "${small[@]}" 2>&1)"
st=$?
xlb_check "port taken: xlbd exits with an error (status $st)" test "$st" -ne 0 -a "$st" -ne 124
xlb_check "port taken: message names the address: $(grep metrics: <<<"$out" | tail -1)" \
	grep -q 'metrics: cannot listen on 127.0.0.1:9477' <<<"$out"
xlb_bg_stop blocker TERM

xlb_ns "$ns" "$XLB_XLBCTL" --bpffs "$pins" detach --iface v0 >/dev/null 2>&1
echo "$XLB_NPASS passed, $XLB_NFAIL failed"
[ "$XLB_NFAIL" -eq 0 ]
