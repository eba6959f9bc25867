#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Synthetic service sets for the benchmarks, in two shapes of one model.

  synth.py iptables N [--endpoints E] [--proto udp|tcp] [--change K]
      kube-proxy-shaped iptables-restore input (nat and filter tables):
      KUBE-SERVICES -> KUBE-SVC-* (statistic random) -> KUBE-SEP-* DNAT.
  synth.py iptables-delta N [--endpoints E] [--change K]
      the --noflush restore a minimal resync of one endpoint change writes:
      the changed service's SVC chain and the replaced SEP chain.
  synth.py xlb N [--endpoints E] [--proto udp|tcp] [--change K]
      the same services as an xlbd JSON config.
  synth.py addr N
      the target (last) service: "VIP PORT BACKEND1 BACKEND_PORT".

Service i (0-based) has VIP 10.(96 + j/65536).(j/256%256).(j%256) with
j = i + 1, port 80, and E endpoints at 10.(128 + e/65536).(e/256%256).
(e%256), e = E*i + k + 1, port 8080. The live benchmark routes
10.128.0.0/9 to the backend namespace. --change K moves endpoint 0 of
service K to a fresh address (10.200.x.y), the unit of the
endpoint-change benchmarks.
"""
import argparse
import base64
import hashlib
import json
import sys

SVC_PORT = 80
BE_PORT = 8080


def quad(base, n):
    return "10.%d.%d.%d" % (base + (n >> 16), (n >> 8) & 255, n & 255)


def vip(i):
    return quad(96, i + 1)


def endpoint(i, k, e_per, change):
    if change is not None and i == change and k == 0:
        return quad(200, i + 1)
    return quad(128, e_per * i + k + 1)


def chain_hash(prefix, text):
    # kube-proxy names chains after a base32 hash of the service port
    # name (and endpoint); the shape, not the exact hash, is what matters.
    digest = hashlib.sha256(text.encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:16]


def svc_name(i):
    return "bench/svc-%d:p" % i


def svc_rules(i, e_per, proto, change, out):
    """Appends (chains, rules) of service i to out."""
    name = svc_name(i)
    svc = chain_hash("KUBE-SVC-", name + proto)
    chains, rules = out
    chains.append(svc)
    rules.append('-A KUBE-SERVICES -d %s/32 -p %s -m comment --comment '
                 '"%s cluster IP" -m %s --dport %d -j %s'
                 % (vip(i), proto, name, proto, SVC_PORT, svc))
    seps = []
    for k in range(e_per):
        ep = endpoint(i, k, e_per, change)
        seps.append((ep, chain_hash("KUBE-SEP-", name + proto + ep)))
    for k, (ep, sep) in enumerate(seps):
        left = e_per - k
        if left > 1:
            rules.append('-A %s -m comment --comment "%s -> %s:%d" '
                         '-m statistic --mode random --probability %.11f '
                         '-j %s' % (svc, name, ep, BE_PORT, 1.0 / left, sep))
        else:
            rules.append('-A %s -m comment --comment "%s -> %s:%d" -j %s'
                         % (svc, name, ep, BE_PORT, sep))
    for ep, sep in seps:
        chains.append(sep)
        rules.append('-A %s -s %s/32 -m comment --comment "%s" '
                     '-j KUBE-MARK-MASQ' % (sep, ep, name))
        rules.append('-A %s -p %s -m comment --comment "%s" -m %s '
                     '-j DNAT --to-destination %s:%d'
                     % (sep, proto, name, proto, ep, BE_PORT))
    return svc, [s for _, s in seps]


def iptables(n, e_per, proto, change, w):
    chains, rules = [], []
    for i in range(n):
        svc_rules(i, e_per, proto, change, (chains, rules))
    w("*filter\n")
    for c in ("KUBE-FORWARD", "KUBE-SERVICES"):
        w(":%s - [0:0]\n" % c)
    w('-A FORWARD -m comment --comment "kubernetes forwarding rules" '
      '-j KUBE-FORWARD\n')
    w("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n")
    w('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" '
      '-m mark --mark 0x4000/0x4000 -j ACCEPT\n')
    w('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding '
      'conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED '
      '-j ACCEPT\n')
    w("COMMIT\n*nat\n")
    for c in ["KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING",
              "KUBE-MARK-MASQ"] + chains:
        w(":%s - [0:0]\n" % c)
    w('-A PREROUTING -m comment --comment "kubernetes service portals" '
      '-j KUBE-SERVICES\n')
    w('-A OUTPUT -m comment --comment "kubernetes service portals" '
      '-j KUBE-SERVICES\n')
    w('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" '
      '-j KUBE-POSTROUTING\n')
    w("-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n")
    w("-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n")
    w("-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n")
    w('-A KUBE-POSTROUTING -m comment --comment "kubernetes service '
      'traffic requiring SNAT" -j MASQUERADE --random-fully\n')
    for r in rules:
        w(r + "\n")
    w('-A KUBE-SERVICES -m comment --comment "kubernetes service '
      'nodeports; NOTE: this must be the last rule in this chain" '
      '-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n')
    w("COMMIT\n")


def iptables_delta(n, e_per, proto, change, w):
    """What a minimal resync writes for one endpoint change of service
    `change` (kube-proxy's --noflush partial restore): the service's SVC
    chain rewritten (declaring a chain flushes it), the new SEP chain,
    and the replaced SEP chain deleted."""
    new_chains, new_rules = [], []
    svc, new_seps = svc_rules(change, e_per, proto, change,
                              (new_chains, new_rules))
    _, old_seps = svc_rules(change, e_per, proto, None, ([], []))
    added = [s for s in new_seps if s not in old_seps]
    gone = [s for s in old_seps if s not in new_seps]
    w("*nat\n")
    for c in [svc] + added + gone:
        w(":%s - [0:0]\n" % c)
    for r in new_rules:
        if r.split()[1] in [svc] + added:
            w(r + "\n")
    for c in gone:
        w("-X %s\n" % c)
    w("COMMIT\n")


def xlb(n, e_per, proto, change, w):
    svcs = []
    for i in range(n):
        svcs.append({
            "name": "svc-%d" % i,
            "vip": vip(i),
            "port": SVC_PORT,
            "protocol": proto,
            "backends": [{"ip": endpoint(i, k, e_per, change),
                          "port": BE_PORT}
                         for k in range(e_per)],
        })
    json.dump({"services": svcs}, sys.stdout, separators=(",", ":"))
    w("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["iptables", "iptables-delta", "xlb",
                                     "addr"])
    ap.add_argument("n", type=int)
    ap.add_argument("--endpoints", type=int, default=3)
    ap.add_argument("--proto", choices=["udp", "tcp"], default="udp")
    ap.add_argument("--change", type=int, default=None)
    a = ap.parse_args()
    if a.n < 1 or a.n > 1000000 or a.endpoints < 1 or a.endpoints > 64:
        sys.exit("n or --endpoints out of range")
    if a.change is not None and not 0 <= a.change < a.n:
        sys.exit("--change %d: want 0 .. %d" % (a.change, a.n - 1))
    w = sys.stdout.write
    if a.what == "iptables":
        iptables(a.n, a.endpoints, a.proto, a.change, w)
    elif a.what == "iptables-delta":
        if a.change is None:
            sys.exit("iptables-delta needs --change K")
        iptables_delta(a.n, a.endpoints, a.proto, a.change, w)
    elif a.what == "xlb":
        xlb(a.n, a.endpoints, a.proto, a.change, w)
    else:
        i = a.n - 1
        w("%s %d %s %d\n" % (vip(i), SVC_PORT,
                             endpoint(i, 0, a.endpoints, None), BE_PORT))


if __name__ == "__main__":
    main()
