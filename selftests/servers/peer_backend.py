#!/usr/bin/python3
"""Test backend that also says who it is talking to.

    peer_backend.py NAME [--http-port 8080] [--udp-port 9000]

The same HTTP and UDP service as backend.py (which it builds on): a GET
or a datagram is answered with NAME. In addition:
  - a GET whose path starts with /peer is answered "NAME PEER", PEER
    being the client address the connection came from;
  - a datagram starting with "peer" is answered "NAME PEER DATAGRAM";
  - every accepted TCP connection and every datagram is logged on stdout
    as "tcp PEER PORT" / "udp PEER PORT", so a test can tell whether a
    client ever reached this backend.
IPv4 peers of the dual-stack sockets are printed without the ::ffff:
prefix.
"""
import argparse
import socket
import sys
import threading

import backend

_out_lock = threading.Lock()


def plain(addr):
    return addr[7:] if addr.startswith("::ffff:") else addr


def log(proto, peer):
    with _out_lock:
        sys.stdout.write("%s %s %d\n" % (proto, plain(peer[0]), peer[1]))
        sys.stdout.flush()


class Handler(backend.Handler):
    def setup(self):
        super().setup()
        log("tcp", self.client_address)

    def do_GET(self):
        body = self.server.name
        if self.path.startswith("/peer"):
            body += " " + plain(self.client_address[0])
        body = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def udp_echo(name, port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    while True:
        data, peer = s.recvfrom(2048)
        log("udp", peer)
        reply = name.encode()
        if data.startswith(b"peer"):
            reply += b" " + plain(peer[0]).encode() + b" " + data
        s.sendto(reply, peer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--http-port", type=int, default=8080)
    ap.add_argument("--udp-port", type=int, default=9000)
    a = ap.parse_args()
    threading.Thread(target=udp_echo, args=(a.name, a.udp_port),
                     daemon=True).start()
    srv = backend.Server(("::", a.http_port), Handler)
    srv.name = a.name
    srv.serve_forever()


if __name__ == "__main__":
    main()
