#!/usr/bin/python3
"""UDP echo that reports what it received, for datagrams of any size.

    size_echo.py NAME [--port 9100]

Each datagram (up to 65507 bytes) is answered with "NAME LEN " padded
with dots to LEN bytes, LEN being the size received: a datagram that
came in fragments gets a reply as large, which its sender's path
fragments again. Every datagram is logged on stdout as
"udp PEER PORT LEN". Dual-stack; IPv4 peers are printed without the
::ffff: prefix.
"""
import argparse
import socket
import sys


def plain(addr):
    return addr[7:] if addr.startswith("::ffff:") else addr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--port", type=int, default=9100)
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", a.port))
    while True:
        data, peer = s.recvfrom(65535)
        n = len(data)
        sys.stdout.write("udp %s %d %d\n" % (plain(peer[0]), peer[1], n))
        sys.stdout.flush()
        reply = ("%s %d " % (a.name, n)).encode()
        s.sendto(reply + b"." * max(0, n - len(reply)), peer)


if __name__ == "__main__":
    main()
