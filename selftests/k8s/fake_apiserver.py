#!/usr/bin/env python3
"""A fake Kubernetes API server for xlbd's watcher tests (stdlib only).

Serves Services, discovery.k8s.io/v1 EndpointSlices and Nodes over TLS
with bearer-token auth, the way kube-apiserver does where xlbd can tell:
  - lists paginated with limit/continue (pages never hold more than
    --page-max items, as a real server may return fewer than asked),
    items without kind/apiVersion, metadata.resourceVersion;
  - watches from a resourceVersion as chunked JSON lines, each event
    split over several chunks at arbitrary points inside the line, with
    BOOKMARK events when asked for, ending cleanly at timeoutSeconds;
  - a resourceVersion older than the compaction point gives 410 Gone,
    as an HTTP status or as an in-stream ERROR event (switchable);
  - a wrong token gives 401.

--load RES=FILE (repeatable) starts with the objects of FILE present: one
object, or a list of them (a list of thousands loads much faster than
as many POSTs). --whole-lines sends each watch event in one chunk and
at once (TCP_NODELAY), as kube-apiserver does, instead of split with
pauses and held by Nagle's algorithm behind an unacknowledged bookmark
(for benchmarks).

A plain-HTTP control port (loopback) drives it from the test:
  POST /apply?res=R            body: object (or a list of them) -> ADDED
                               or MODIFIED events
  POST /delete?res=R&key=NS/N[,NS/N2...]  -> DELETED events
  POST /compact                events so far are forgotten (-> 410)
  POST /gone?mode=http|stream  how a too-old resourceVersion is answered
  POST /drop                   cut every open watch (no final chunk)
  POST /drop-mid?res=R         cut R's watches in the middle of the next
                               event line sent
  POST /end                    end every open watch cleanly
  POST /outage?on=1|0          refuse API requests (503) and cut watches
  POST /token?value=T[,T2]     the tokens accepted from now on
  POST /bookmarks?every=S      send bookmarks every S seconds (0: never)
  POST /throttle?n=N           answer the next N API requests with 429
  POST /drop-page?n=N          cut the connection of the next N list
                               requests for a second or later page
  GET  /stats                  counters and the request log, JSON
"""
import argparse
import base64
import json
import random
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

RES = {
    "services": ("/api/v1/services", "v1", "Service", "ServiceList"),
    "endpointslices": ("/apis/discovery.k8s.io/v1/endpointslices",
                       "discovery.k8s.io/v1", "EndpointSlice",
                       "EndpointSliceList"),
    "nodes": ("/api/v1/nodes", "v1", "Node", "NodeList"),
}
PATHS = {v[0]: k for k, v in RES.items()}


class State:
    def __init__(self, page_max, whole_lines=False):
        self.lock = threading.Condition()
        self.rv = 1000
        self.objs = {r: {} for r in RES}
        self.events = []          # (rv, res, type, obj)
        self.compacted = 0        # events with rv <= this are gone
        self.gone_mode = "http"
        self.token = ""
        self.page_max = page_max
        self.whole_lines = whole_lines
        self.outage = False
        self.bookmark_every = 1.0
        self.watches = {}         # id -> dict(sock, res, drop_mid)
        self.next_watch = 1
        self.drop_mid = set()
        self.throttle = 0
        self.client_ca = None
        self.drop_page = 0
        self.snapshots = []       # the keys each list started with
        self.end_gen = 0
        self.stats = {"requests": 0, "unauthorized": 0, "lists": 0,
                      "list_pages": 0, "continues": 0, "watches": 0,
                      "gone_http": 0, "gone_stream": 0, "bookmarks": 0,
                      "dropped": 0, "dropped_mid": 0, "ended": 0,
                      "refused": 0, "log": []}

    def key(self, obj):
        md = obj.get("metadata", {})
        ns = md.get("namespace", "")
        return "%s/%s" % (ns, md["name"])

    def record(self, res, typ, obj, copy=True):
        """copy=False: obj is the server's own from now on."""
        self.rv += 1
        if copy:
            obj = json.loads(json.dumps(obj))
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        kind = RES[res]
        obj["apiVersion"] = kind[1]
        obj["kind"] = kind[2]
        if typ == "DELETED":
            self.objs[res].pop(self.key(obj), None)
        else:
            self.objs[res][self.key(obj)] = obj
        self.events.append((self.rv, res, typ, obj))
        self.lock.notify_all()


def status(code, reason, msg):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": msg, "reason": reason,
            "code": code}


def selected(obj, sel):
    if not sel:
        return True
    k, _, v = sel.partition("=")
    if k == "metadata.name":
        return obj.get("metadata", {}).get("name") == v
    return True


def make_handler(st):
    class API(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("api: " + (fmt % a) + "\n")

        def setup(self):
            super().setup()
            if st.whole_lines:
                self.connection.setsockopt(socket.IPPROTO_TCP,
                                           socket.TCP_NODELAY, 1)

        def send_json(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def chunk(self, data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def do_GET(self):
            u = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            with st.lock:
                st.stats["requests"] += 1
                tok = st.token
                outage = st.outage
                throttled = st.throttle > 0
                if throttled:
                    st.throttle -= 1
                    st.stats["log"].append({"throttled": u.path,
                                            "query": u.query,
                                            "t": time.monotonic()})
            if throttled:
                return self.send_json(429, status(429, "TooManyRequests",
                                                  "slow down"))
            if outage:
                with st.lock:
                    st.stats["refused"] += 1
                return self.send_json(503, status(503, "ServiceUnavailable",
                                                  "outage"))
            # A client certificate signed by --client-ca authenticates
            # the request as well as a token.
            peer = self.connection.getpeercert() if st.client_ca else None
            if peer:
                with st.lock:
                    st.stats["client_cert"] = st.stats.get("client_cert", 0) + 1
                res = PATHS.get(u.path)
                if not res:
                    return self.send_json(404, status(404, "NotFound", u.path))
                if q.get("watch") in ("1", "true"):
                    return self.watch(res, q)
                return self.list(res, q)
            got = self.headers.get("Authorization", "")
            with st.lock:
                per = st.stats.setdefault("tokens", {})
                per[got[7:]] = per.get(got[7:], 0) + 1
            if got[7:] not in tok.split(",") or not got.startswith("Bearer "):
                with st.lock:
                    st.stats["unauthorized"] += 1
                    st.stats["log"].append({"unauthorized": u.path})
                return self.send_json(401, status(401, "Unauthorized",
                                                  "Unauthorized"))
            res = PATHS.get(u.path)
            if not res:
                return self.send_json(404, status(404, "NotFound", u.path))
            if q.get("watch") in ("1", "true"):
                return self.watch(res, q)
            return self.list(res, q)

        def list(self, res, q):
            limit = int(q.get("limit", "0") or 0)
            page = st.page_max if not limit else min(limit, st.page_max)
            sel = q.get("fieldSelector", "")
            with st.lock:
                cut = bool(q.get("continue")) and st.drop_page > 0
                if cut:
                    st.drop_page -= 1
                    st.stats["pages_dropped"] = st.stats.get("pages_dropped", 0) + 1
            if cut:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            with st.lock:
                if q.get("continue"):
                    tok = json.loads(base64.urlsafe_b64decode(
                        q["continue"] + "==="))
                    rv, start = tok["rv"], tok["start"]
                    if rv < st.compacted:
                        st.stats["gone_http"] += 1
                        return self.send_json(410, status(
                            410, "Expired", "continue token too old"))
                    snap = st.snapshots[tok["snap"]]
                    st.stats["continues"] += 1
                else:
                    rv, start = st.rv, 0
                    snap = sorted(k for k, o in st.objs[res].items()
                                  if selected(o, sel))
                    st.snapshots.append(snap)
                    st.stats["lists"] += 1
                # A snapshot at rv: rebuild objects as of rv from the
                # event log (objects changed later show their old form).
                items = []
                for k in snap[start:start + page]:
                    if rv == st.rv:	# nothing changed since: as is
                        obj = st.objs[res].get(k)
                        if obj is not None:
                            o = dict(obj)
                            o.pop("kind", None)
                            o.pop("apiVersion", None)
                            items.append(o)
                        continue
                    obj = None
                    for erv, eres, typ, o in st.events:
                        if erv > rv:
                            break
                        if eres == res and st.key(o) == k:
                            obj = None if typ == "DELETED" else o
                    if obj is not None:
                        o = dict(obj)
                        o.pop("kind", None)
                        o.pop("apiVersion", None)
                        items.append(o)
                st.stats["list_pages"] += 1
                st.stats["log"].append({"list": res, "rv": rv,
                                        "start": start, "n": len(items)})
            md = {"resourceVersion": str(rv)}
            if start + page < len(snap):
                md["continue"] = base64.urlsafe_b64encode(json.dumps(
                    {"rv": rv, "start": start + page,
                     "snap": st.snapshots.index(snap)}
                ).encode()).decode().rstrip("=")
                md["remainingItemCount"] = len(snap) - start - page
            self.send_json(200, {"kind": RES[res][3],
                                 "apiVersion": RES[res][1],
                                 "metadata": md, "items": items})

        def send_line(self, wid, obj, res):
            """One event line, split into 2-4 chunks at random points;
            cut off in the middle if a mid-line drop is pending."""
            data = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
            if st.whole_lines and not st.drop_mid:
                self.chunk(data)
                return
            cuts = sorted(random.sample(range(1, len(data)),
                                        min(3, len(data) - 1)))
            parts = [data[i:j] for i, j in zip([0] + cuts, cuts + [len(data)])]
            with st.lock:
                mid = res in st.drop_mid
                if mid:
                    st.drop_mid.discard(res)
            if mid:
                self.chunk(data[:len(data) // 2])
                with st.lock:
                    st.stats["dropped_mid"] += 1
                    st.stats["log"].append({"dropped_mid": res, "watch": wid})
                raise ConnectionAbortedError("drop mid-line")
            for p in parts:
                self.chunk(p)
                time.sleep(0.002)

        def watch(self, res, q):
            rv = int(q.get("resourceVersion", "0") or 0)
            tmo = int(q.get("timeoutSeconds", "1800") or 1800)
            bookmarks = q.get("allowWatchBookmarks") == "true"
            sel = q.get("fieldSelector", "")
            with st.lock:
                st.stats["watches"] += 1
                wid = st.next_watch
                st.next_watch += 1
                entry = {"watch": res, "rv": rv, "id": wid, "sent": rv}
                st.stats["log"].append(entry)
                gone = rv and rv < st.compacted
                mode = st.gone_mode
                if gone and mode == "http":
                    st.stats["gone_http"] += 1
                    entry["end"] = "410"
            if gone and mode == "http":
                return self.send_json(410, status(
                    410, "Expired", "too old resource version: %d (%d)"
                    % (rv, st.compacted)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if gone:
                with st.lock:
                    st.stats["gone_stream"] += 1
                    entry["end"] = "410-stream"
                self.send_line(wid, {"type": "ERROR", "object": status(
                    410, "Expired", "too old resource version: %d (%d)"
                    % (rv, st.compacted))}, res)
                self.chunk(b"")
                return
            with st.lock:
                st.watches[wid] = self.connection
                end_gen = st.end_gen
            deadline = time.monotonic() + tmo
            last_bm = time.monotonic()
            pos = 0
            try:
                while True:
                    with st.lock:
                        while pos < len(st.events) and st.events[pos][0] <= rv:
                            pos += 1
                        todo = []
                        while pos < len(st.events):
                            e = st.events[pos]
                            pos += 1
                            if e[1] == res and selected(e[3], sel):
                                todo.append(e)
                        if not todo:
                            now = time.monotonic()
                            if (st.end_gen != end_gen or now >= deadline or
                                    wid not in st.watches):
                                break
                            if (bookmarks and st.bookmark_every and
                                    now - last_bm >= st.bookmark_every):
                                bm_rv = st.rv
                            else:
                                st.lock.wait(0.2)
                                continue
                        else:
                            bm_rv = None
                    if todo:
                        for erv, _, typ, obj in todo:
                            self.send_line(wid, {"type": typ, "object": obj},
                                           res)
                            with st.lock:
                                entry["sent"] = erv
                            rv = erv
                        continue
                    # A bookmark: an empty object with only the version.
                    self.send_line(wid, {"type": "BOOKMARK", "object": {
                        "kind": RES[res][2], "apiVersion": RES[res][1],
                        "metadata": {"resourceVersion": str(bm_rv),
                                     "creationTimestamp": None}}}, res)
                    with st.lock:
                        st.stats["bookmarks"] += 1
                        entry["sent"] = bm_rv
                    last_bm = time.monotonic()
                self.chunk(b"")
                with st.lock:
                    st.stats["ended"] += 1
                    entry.setdefault("end", "clean")
            except (OSError, ConnectionError, ValueError):
                with st.lock:
                    entry.setdefault("end", "dropped")
                self.close_connection = True
            finally:
                with st.lock:
                    st.watches.pop(wid, None)

    return API


def make_ctl(st):
    class Ctl(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            pass

        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            with st.lock:
                body = dict(st.stats, rv=st.rv, compacted=st.compacted,
                            open_watches=len(st.watches))
                body["log"] = list(st.stats["log"])
            self.reply(200, body)

        def cut(self):
            socks = list(st.watches.values())
            st.watches.clear()
            for s in socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            st.stats["dropped"] += len(socks)
            st.lock.notify_all()
            return len(socks)

        def do_POST(self):
            u = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            n = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(n) if n else b""
            out = {"ok": True}
            with st.lock:
                if u.path == "/apply":
                    objs = json.loads(body)
                    for obj in objs if isinstance(objs, list) else [objs]:
                        typ = ("MODIFIED" if st.key(obj) in st.objs[q["res"]]
                               else "ADDED")
                        st.record(q["res"], typ, obj)
                    out["rv"] = st.rv
                elif u.path == "/delete":
                    keys = q["key"].split(",")
                    if any(k not in st.objs[q["res"]] for k in keys):
                        return self.reply(404, {"error": "no " + q["key"]})
                    for k in keys:
                        st.record(q["res"], "DELETED", st.objs[q["res"]][k])
                    out["rv"] = st.rv
                elif u.path == "/compact":
                    st.compacted = st.rv
                elif u.path == "/gone":
                    st.gone_mode = q["mode"]
                elif u.path == "/drop":
                    out["dropped"] = self.cut()
                elif u.path == "/drop-mid":
                    st.drop_mid.add(q["res"])
                elif u.path == "/end":
                    st.end_gen += 1
                    st.lock.notify_all()
                elif u.path == "/outage":
                    st.outage = q.get("on") == "1"
                    if st.outage:
                        out["dropped"] = self.cut()
                elif u.path == "/token":
                    st.token = q["value"]
                elif u.path == "/drop-page":
                    st.drop_page = int(q["n"])
                elif u.path == "/throttle":
                    st.throttle = int(q["n"])
                elif u.path == "/bookmarks":
                    st.bookmark_every = float(q["every"])
                else:
                    return self.reply(404, {"error": u.path})
            self.reply(200, out)

    return Ctl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ctl-port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--page-max", type=int, default=2)
    ap.add_argument("--client-ca", help="accept client certificates it signed")
    ap.add_argument("--load", nargs="*", default=[],
                    help="RES=FILE.json objects present at start (an "
                    "object or a list of objects)")
    ap.add_argument("--whole-lines", action="store_true",
                    help="each watch event in one chunk, sent at once "
                    "(no pauses, TCP_NODELAY)")
    a = ap.parse_args()
    st = State(a.page_max, a.whole_lines)
    st.token = a.token
    with st.lock:
        for spec in a.load:
            res, _, path = spec.partition("=")
            with open(path) as f:
                objs = json.load(f)
            for obj in objs if isinstance(objs, list) else [objs]:
                st.record(res, "ADDED", obj, copy=False)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.client_ca:
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(a.client_ca)
        st.client_ca = a.client_ca
    api = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(st))
    api.daemon_threads = True
    api.socket = ctx.wrap_socket(api.socket, server_side=True)
    ctl = ThreadingHTTPServer(("127.0.0.1", a.ctl_port), make_ctl(st))
    ctl.daemon_threads = True
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    print("fake apiserver: https://127.0.0.1:%d, control http://127.0.0.1:%d"
          % (a.port, a.ctl_port), flush=True)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
