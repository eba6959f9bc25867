#!/usr/bin/python3
"""A UDP client that keeps one connected socket for its whole life.

    udp_stream.py HOST PORT --out FILE --stop FILE [--interval 0.1]
                  [--max-time 60]

Sends "peer SEQ" every interval from one socket connected to HOST:PORT
(so the kernel accepts replies from HOST:PORT only: a reply that was not
reverse-NATed is dropped) until --stop exists or --max-time has passed.
A reply is matched to its request by SEQ, whenever it arrives. Then
writes --out, one line per request:

    SEQ SENT_MS NAME      (NAME of the backend that answered, or "-")

SENT_MS is CLOCK_REALTIME in milliseconds, comparable with the shell's
$EPOCHREALTIME. While running, --out.live holds "REPLIES NAME": the
number of replies so far and the backend of the last one. Exits 1 if
any request went unanswered.
"""
import argparse
import os
import select
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stop", required=True)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--max-time", type=float, default=60.0)
    a = ap.parse_args()

    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    sent = []		# (seq, wall ms)
    name = {}		# seq -> backend
    end = time.monotonic() + a.max_time
    nxt = time.monotonic()
    seq = 0
    last = "-"
    stopping = None
    while time.monotonic() < end:
        now = time.monotonic()
        if stopping is None and os.path.exists(a.stop):
            stopping = now + 0.5	# collect late replies, send no more
        if stopping is not None and now >= stopping:
            break
        if stopping is None and now >= nxt:
            try:
                s.send(b"peer %d" % seq)
            except OSError:
                pass		# an ICMP error from an earlier send
            sent.append((seq, int(time.time() * 1000)))
            seq += 1
            nxt += a.interval
            with open(a.out + ".live.tmp", "w") as f:
                f.write("%d %s\n" % (len(name), last))
            os.rename(a.out + ".live.tmp", a.out + ".live")
        wait = max(0.0, min(nxt, stopping or nxt) - time.monotonic())
        r, _, _ = select.select([s], [], [], wait)
        if not r:
            continue
        try:
            data = s.recv(2048).decode().split()
        except OSError:
            continue
        # "NAME PEER peer SEQ"
        if len(data) == 4 and data[2] == "peer":
            name[int(data[3])] = last = data[0]
    with open(a.out + ".tmp", "w") as f:
        for q, ms in sent:
            f.write("%d %d %s\n" % (q, ms, name.get(q, "-")))
    os.rename(a.out + ".tmp", a.out)
    return 0 if len(name) == len(sent) else 1


if __name__ == "__main__":
    sys.exit(main())
