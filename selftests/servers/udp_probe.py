#!/usr/bin/python3
"""One datagram per source port on a connected UDP socket; says what came
back and how fast.

    udp_probe.py HOST PORT [--sport P[-Q]] [--size N] [--timeout S] [--df]

For each source port in turn (one ephemeral port without --sport): a
socket bound to it and connected to HOST:PORT sends one datagram of N
bytes (default 16; IPv4 without DF, so the host fragments a datagram
larger than the path MTU, as IPv6 does by itself) and waits up to S
seconds (default 1) for an answer. One line per port:
    PORT reply MS FIRST_WORD SECOND_WORD LEN   a datagram came back
    PORT refused MS                            ECONNREFUSED: an ICMP or
                                               ICMPv6 port unreachable
                                               that matched the socket
    PORT timeout MS
    PORT error MS MESSAGE
MS is the time from the send to the outcome. With --df the datagram is
sent with path-MTU discovery on (IPv4 DF set, no fragmentation by the
host, IPv6 likewise) and every line ends with "mtu N", the socket's path
MTU after the outcome (IP_MTU / IPV6_MTU): a "fragmentation needed" or
"packet too big" that matched the socket has lowered it. Exits 0
whatever happened.
"""
import argparse
import socket
import time

IP_MTU_DISCOVER = 10
IP_PMTUDISC_DONT = 0
IP_PMTUDISC_DO = 2
IP_MTU = 14
IPV6_MTU_DISCOVER = 23
IPV6_PMTUDISC_DO = 2
IPV6_MTU = 24


def ports(spec):
    if not spec:
        return [0]
    lo, _, hi = spec.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def path_mtu(s, fam):
    try:
        if fam == socket.AF_INET:
            return s.getsockopt(socket.IPPROTO_IP, IP_MTU)
        return s.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU)
    except OSError:
        return 0


def probe(a, sport):
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    r = outcome(a, s, fam, sport)
    if a.df:
        r += " mtu %d" % path_mtu(s, fam)
    s.close()
    return r


def outcome(a, s, fam, sport):
    t0 = time.monotonic()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if a.df and fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        elif a.df:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER,
                         IPV6_PMTUDISC_DO)
        elif fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
        s.bind(("", sport))
        s.connect((a.host, a.port))
        sport = s.getsockname()[1]
        s.settimeout(a.timeout)
        head = b"probe %d " % sport
        t0 = time.monotonic()
        s.send(head + b"x" * max(0, a.size - len(head)))
        data = s.recv(65535)
        ms = (time.monotonic() - t0) * 1000
        words = (data.split(b" ", 2) + [b"-", b"-"])[:2]
        return "%d reply %d %s %s %d" % (sport, ms, words[0].decode(
            errors="replace"), words[1].decode(errors="replace"), len(data))
    except ConnectionRefusedError:
        return "%d refused %d" % (sport, (time.monotonic() - t0) * 1000)
    except socket.timeout:
        return "%d timeout %d" % (sport, (time.monotonic() - t0) * 1000)
    except OSError as e:
        return "%d error %d %s" % (sport, (time.monotonic() - t0) * 1000,
                                    str(e).replace(" ", "_"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--sport", default="")
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--df", action="store_true")
    a = ap.parse_args()
    for p in ports(a.sport):
        print(probe(a, p), flush=True)


if __name__ == "__main__":
    main()
