#!/usr/bin/python3
"""Test clients for the traffic tests. Every mode is bounded in time.

client.py udp HOST PORT [--sport P[-Q]] [--count N] [--timeout S]
                        [--size BYTES] [--no-df]
    A connected UDP socket (it accepts datagrams from HOST:PORT only) sends
    N datagrams and prints each reply; exits 1 on a missing reply. With a
    source port range, one socket per port in turn, "PORT REPLY" lines.
    --size pads each datagram to BYTES of payload; --no-df (IPv4) sends
    without Don't Fragment, so a router fragments what does not fit.

client.py get HOST PORT --sport P[-Q] [--want NAME]
    One HTTP request per source port in turn, each on a new connection
    closed with a reset (no TIME_WAIT, so the port can be used again at
    once); prints "PORT REPLY". With --want, stops at the first port
    answered by NAME and exits 1 if none was.

client.py keepalive HOST PORT --state FILE --stop FILE [--interval S]
          [--max-time S]
    One TCP connection, one HTTP request every interval, until FILE
    --stop exists. Never reconnects: the point is whether that connection
    survives. Rewrites --state (JSON: ok, fail, backends, last, error)
    after every request; exits 1 if any request failed.

client.py loop HOST PORT --state FILE --stop FILE [--interval S]
          [--max-time S]
    A new TCP connection for every request, until --stop exists. Same
    --state format; exits 1 if any request failed.
"""
import argparse
import http.client
import json
import os
import socket
import struct
import sys
import time


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def udp_one(a, sport, prefix):
    s = socket.socket(family(a.host), socket.SOCK_DGRAM)
    if sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", sport))
    if a.no_df:
        # IP_MTU_DISCOVER, IP_PMTUDISC_DONT (not in Python's socket module)
        s.setsockopt(socket.IPPROTO_IP, 10, 0)
    s.connect((a.host, a.port))
    s.settimeout(a.timeout)
    rc = 0
    for i in range(a.count):
        s.send((b"ping %d " % i).ljust(a.size, b"."))
        try:
            print(prefix + s.recv(2048).decode(), flush=True)
        except (socket.timeout, OSError) as e:
            print("%sno reply: %s" % (prefix, e), file=sys.stderr)
            rc = 1
    s.close()
    return rc


def udp(a):
    if "-" not in a.sport:
        return udp_one(a, int(a.sport or 0), "")
    rc = 0
    for sport in ports(a.sport):
        rc |= udp_one(a, sport, "%d " % sport)
    return rc


def ports(spec):
    lo, _, hi = spec.partition("-")
    return range(int(lo), int(hi or lo) + 1)


def get_from(a):
    rc = 1 if a.want else 0
    for sport in ports(a.sport):
        s = socket.socket(family(a.host), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(a.timeout)
        try:
            s.bind(("", sport))
            s.connect((a.host, a.port))
            conn = http.client.HTTPConnection(a.host, a.port)
            conn.sock = s
            name = get(conn)
        except Exception as e:
            name = "error:%s" % type(e).__name__
            if not a.want:
                rc = 1
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()
        print("%d %s" % (sport, name), flush=True)
        if a.want and name == a.want:
            return 0
    return rc


class State:
    def __init__(self, path):
        self.path = path
        self.d = {"ok": 0, "fail": 0, "backends": {}, "last": None,
                  "error": None}
        self.write()

    def write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.d, f)
        os.rename(tmp, self.path)

    def ok(self, name):
        self.d["ok"] += 1
        self.d["last"] = name
        self.d["backends"][name] = self.d["backends"].get(name, 0) + 1
        self.write()

    def fail(self, err):
        self.d["fail"] += 1
        self.d["error"] = repr(err)
        self.write()


def get(conn):
    conn.request("GET", "/")
    r = conn.getresponse()
    body = r.read().decode()
    if r.status != 200:
        raise RuntimeError("HTTP status %d" % r.status)
    return body


def run(a, keepalive):
    st = State(a.state)
    end = time.monotonic() + a.max_time
    conn = http.client.HTTPConnection(a.host, a.port, timeout=a.timeout)
    while not os.path.exists(a.stop) and time.monotonic() < end:
        t = time.monotonic()
        try:
            if not keepalive:
                conn = http.client.HTTPConnection(a.host, a.port,
                                                  timeout=a.timeout)
            st.ok(get(conn))
            if not keepalive:
                conn.close()
        except Exception as e:
            st.fail(e)
            if keepalive:
                break
        time.sleep(max(0.0, a.interval - (time.monotonic() - t)))
    conn.close()
    return 1 if st.d["fail"] else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["udp", "get", "keepalive", "loop"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--sport", default="")
    ap.add_argument("--want")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--no-df", action="store_true")
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--state")
    ap.add_argument("--stop")
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--max-time", type=float, default=120.0)
    a = ap.parse_args()
    if a.mode == "udp":
        return udp(a)
    if a.mode == "get":
        if not a.sport:
            ap.error("--sport is required for get")
        return get_from(a)
    if not a.state or not a.stop:
        ap.error("--state and --stop are required for " + a.mode)
    return run(a, a.mode == "keepalive")


if __name__ == "__main__":
    sys.exit(main())
