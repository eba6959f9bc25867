#!/usr/bin/python3
"""Test backend: answers HTTP GETs and UDP datagrams with its name.

    backend.py NAME [--http-port 8080] [--udp-port 9000] [--say-peer]

With --say-peer every answer is "NAME PEER": the name and the client
address the server saw (IPv4 without the ::ffff: prefix), so a test can
tell whether the client's address was preserved or translated.
GET /bytes/N answers N zero bytes instead (a download to time).

Both listeners are dual-stack (one IPv6 socket with V6ONLY off), so one
process serves the IPv4 and the IPv6 address of the host. HTTP/1.1 with
keep-alive, so one connection can carry many requests.
"""
import argparse
import http.server
import socket
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.startswith("/bytes/"):
            return self.send_bytes(int(self.path[7:]))
        body = answer(self.server.name, self.server.say_peer,
                      self.client_address).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def send_bytes(self, n):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        chunk = bytes(65536)
        while n > 0:
            self.wfile.write(chunk[:min(n, len(chunk))])
            n -= len(chunk)

    def handle(self):
        super().handle()
        # Let the client close first (up to 2 s), so that TIME_WAIT stays
        # on the client: its kernel then never reuses the source port of
        # a recent connection, which would meet that connection's
        # conntrack entry in the load balancer instead of a new one.
        try:
            self.connection.settimeout(2)
            while self.connection.recv(4096):
                pass
        except OSError:
            pass

    def log_message(self, fmt, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    request_queue_size = 256

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def answer(name, say_peer, peer):
    if not say_peer:
        return name
    host = peer[0]
    if host.startswith("::ffff:"):
        host = host[7:]
    return "%s %s" % (name, host)


def udp_echo(name, port, say_peer):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(answer(name, say_peer, peer).encode(), peer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--http-port", type=int, default=8080)
    ap.add_argument("--udp-port", type=int, default=9000)
    ap.add_argument("--say-peer", action="store_true")
    a = ap.parse_args()
    threading.Thread(target=udp_echo, args=(a.name, a.udp_port, a.say_peer),
             daemon=True).start()
    srv = Server(("::", a.http_port), Handler)
    srv.name = a.name
    srv.say_peer = a.say_peer
    srv.serve_forever()


if __name__ == "__main__":
    main()
