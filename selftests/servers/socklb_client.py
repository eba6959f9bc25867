#!/usr/bin/python3
"""Socket-level balancing probe (selftests/test_socklb.sh).

    socklb_client.py tcp HOST PORT [N]     N HTTP GETs, one connection each
    socklb_client.py udp HOST PORT [N]     N datagrams, a connected socket each
    socklb_client.py udpu HOST PORT [N]    N datagrams, one unconnected socket
    socklb_client.py stale HOST PORT FILE  one connected UDP socket kept: asks,
                                           waits for FILE, asks again (reconnects
                                           after an error)
    socklb_client.py hold HOST PORT FILE...
                                           one keep-alive TCP connection: a GET
                                           now and after each FILE appears

One line per request: "ok ANSWER peer=ADDR:PORT ms=T" (ANSWER is the
backend's "NAME CLIENT" from backend.py --say-peer; peer is getpeername()
or, for udpu, recvfrom()'s source), or "err ERRNO_NAME ms=T".
"""
import errno
import os
import re
import socket
import sys
import time


def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def hp(a):
    return "%s:%d" % (a[0], a[1])


def now_ms(t0):
    return "ms=%.1f" % ((time.monotonic() - t0) * 1000)


def ok(ans, peer, t0):
    print("ok %s peer=%s %s" % (ans, hp(peer), now_ms(t0)), flush=True)


def err(e, t0):
    name = errno.errorcode.get(e.errno, e.errno)
    if isinstance(e, socket.timeout):
        name = "ETIMEDOUT"
    print("err %s %s" % (name, now_ms(t0)), flush=True)


def http_get(s, close):
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n%s\r\n" %
              (b"Connection: close\r\n" if close else b""))
    data = b""
    while b"\r\n\r\n" not in data:
        b = s.recv(4096)
        if not b:
            raise OSError(errno.ECONNRESET, "closed before the answer")
        data += b
    head, body = data.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < n:
        b = s.recv(4096)
        if not b:
            break
        body += b
    return body.decode()


def tcp(host, port):
    t0 = time.monotonic()
    s = socket.socket(fam(host), socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((host, port))
        peer = s.getpeername()
        body = http_get(s, True)
        ok(body, peer, t0)
    except OSError as e:
        err(e, t0)
    finally:
        s.close()


def wait_for(flag):
    for _ in range(300):
        if os.path.exists(flag):
            return
        time.sleep(0.1)


def hold(host, port, flags):
    """One keep-alive connection: a request now and after each flag."""
    s = socket.socket(fam(host), socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect((host, port))
    for i in range(len(flags) + 1):
        if i:
            wait_for(flags[i - 1])
        t0 = time.monotonic()
        try:
            ok(http_get(s, False), s.getpeername(), t0)
        except OSError as e:
            err(e, t0)
            return


def udp_ask(s, dest=None):
    if dest:
        s.sendto(b"hi", dest)
    else:
        s.send(b"hi")
    data, src = s.recvfrom(2048)
    return data.decode(), src


def udp(host, port):
    t0 = time.monotonic()
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.connect((host, port))
        ans, _ = udp_ask(s)
        ok(ans, s.getpeername(), t0)
    except OSError as e:
        err(e, t0)
    finally:
        s.close()


def udpu(host, port, n):
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    s.settimeout(2)
    for _ in range(n):
        t0 = time.monotonic()
        try:
            ans, src = udp_ask(s, (host, port))
            ok(ans, src, t0)
        except OSError as e:
            err(e, t0)
    s.close()


def stale(host, port, flag):
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((host, port))
    t0 = time.monotonic()
    ans, _ = udp_ask(s)
    ok(ans, s.getpeername(), t0)
    wait_for(flag)
    for _ in range(3):
        t0 = time.monotonic()
        try:
            ans, _ = udp_ask(s)
            ok(ans, s.getpeername(), t0)
            return
        except OSError as e:
            err(e, t0)
            s.close()
            s = socket.socket(fam(host), socket.SOCK_DGRAM)
            s.settimeout(2)
            s.connect((host, port))


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "stale":
        stale(host, port, sys.argv[4])
        return
    if cmd == "hold":
        hold(host, port, sys.argv[4:])
        return
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if cmd == "udpu":
        udpu(host, port, n)
        return
    for _ in range(n):
        (tcp if cmd == "tcp" else udp)(host, port)


main()
