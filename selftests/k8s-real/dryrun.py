#!/usr/bin/python3
"""Server-side dry run of Kubernetes manifests against a real API server.

    dryrun.py --server URL --ca FILE --token-file FILE [--namespace NS]
              [--prefix TEXT] FILE...

Every object of the multi-document YAML FILEs ("-" is stdin; helm
template output) is POSTed to its collection with ?dryRun=All, so the
API server runs defaulting, validation and admission and stores nothing.
The collection is found through the server's discovery documents.
Namespaced objects without metadata.namespace go to --namespace
(default "default"); a namespace that does not exist yet is created for
real first (admission rejects objects in a missing namespace even in a
dry run). Prints one "PASS: ..." or "FAIL: ..." line per object, with
the server's message on failure; exits 1 if any object was rejected or
the input holds no object.
"""

import argparse
import json
import ssl
import sys
import urllib.error
import urllib.request

try:
    import yaml
except ImportError:
    sys.exit("dryrun.py: needs PyYAML (Debian package python3-yaml)")


class Api:
    def __init__(self, server, ca, token):
        self.server = server.rstrip("/")
        self.ctx = ssl.create_default_context(cafile=ca)
        self.token = token
        self.discovery = {}

    def request(self, method, path, body=None, ctype="application/json"):
        """(status, decoded JSON answer); also for an HTTP error."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data,
                                     method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, context=self.ctx,
                                        timeout=20) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, {"message": raw.decode(errors="replace")}

    def resource(self, api_version, kind):
        """(plural, namespaced) of kind in api_version, or None."""
        if api_version not in self.discovery:
            path = ("/api/" if "/" not in api_version else "/apis/") + \
                api_version
            code, doc = self.request("GET", path)
            kinds = {}
            if code == 200:
                for r in doc.get("resources", []):
                    if "/" not in r["name"]:
                        kinds[r["kind"]] = (r["name"], r["namespaced"])
            self.discovery[api_version] = kinds
        return self.discovery[api_version].get(kind)

    def ensure_namespace(self, ns):
        code, _ = self.request("GET", "/api/v1/namespaces/" + ns)
        if code == 404:
            code, doc = self.request("POST", "/api/v1/namespaces", {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns}})
            if code not in (201, 409):
                return doc.get("message", "status %d" % code)
        elif code != 200:
            return "status %d reading namespace %s" % (code, ns)
        return None


def objects(files):
    for f in files:
        text = sys.stdin.read() if f == "-" else open(f).read()
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            if doc.get("kind", "").endswith("List") and "items" in doc:
                yield from doc["items"]
            else:
                yield doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--prefix", default="")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    with open(a.token_file) as f:
        api = Api(a.server, a.ca, f.read().strip())

    n = bad = 0
    for obj in objects(a.files):
        n += 1
        kind = obj.get("kind", "?")
        av = obj.get("apiVersion", "")
        meta = obj.setdefault("metadata", {})
        what = "%s%s %s" % (a.prefix, kind, meta.get("name", "?"))
        res = api.resource(av, kind)
        if res is None:
            print("FAIL: %s: the server has no kind %s in %s" %
                  (what, kind, av or "(no apiVersion)"))
            bad += 1
            continue
        plural, namespaced = res
        base = "/api/" if "/" not in av else "/apis/"
        if namespaced:
            ns = meta.setdefault("namespace", a.namespace)
            what = "%s%s %s/%s" % (a.prefix, kind, ns, meta.get("name", "?"))
            err = api.ensure_namespace(ns)
            if err:
                print("FAIL: %s: cannot create namespace %s: %s" %
                      (what, ns, err))
                bad += 1
                continue
            path = "%s%s/namespaces/%s/%s" % (base, av, ns, plural)
        else:
            path = "%s%s/%s" % (base, av, plural)
        code, doc = api.request("POST", path + "?dryRun=All", obj)
        if code in (200, 201):
            print("PASS: %s accepted by the API server (dry run)" % what)
        else:
            print("FAIL: %s rejected by the API server: %d %s" %
                  (what, code, doc.get("message", "")))
            bad += 1
    if n == 0:
        print("FAIL: %sno object in %s" % (a.prefix, " ".join(a.files)))
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
