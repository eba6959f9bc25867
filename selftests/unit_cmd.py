#!/usr/bin/env python3
# Prints, for bash's eval, a command line of a systemd service unit as
# systemd would run it on a machine where systemd is not PID 1:
#
#   unit_cmd.py UNIT ExecStart|ExecReload [MAINPID]
#
# prints `cmd=(...)`: env -i with the unit's Environment= and
# EnvironmentFile= variables (and MAINPID), setpriv with CapabilityBoundingSet= as the bounding set, the
# AmbientCapabilities= (none: no inheritable or ambient ones) and
# NoNewPrivileges=, then the command with ${VAR} replaced by one word
# and $VAR by its value split at white space (systemd.service(5),
# "Command lines"). Only what xlbd.service uses is understood; another
# directive of [Service] that changes how the command runs is an error,
# so that the run cannot silently differ from systemd's.
import os
import re
import shlex
import sys

unit, which = sys.argv[1], sys.argv[2]
mainpid = sys.argv[3] if len(sys.argv) > 3 else None

# Directives of [Service] that do not change the process' command,
# environment or privileges.
IGNORED = {"Type", "Restart", "RestartSec", "RestartPreventExitStatus",
           "ExecStart", "ExecReload"}
KNOWN = IGNORED | {"Environment", "EnvironmentFile", "CapabilityBoundingSet",
                   "AmbientCapabilities", "NoNewPrivileges"}

section, svc = None, []
for raw in open(unit):
    line = raw.strip()
    if not line or line[0] in "#;":
        continue
    m = re.match(r"^\[(\w+)\]$", line)
    if m:
        section = m.group(1)
        continue
    if section == "Service":
        k, _, v = line.partition("=")
        if k not in KNOWN:
            sys.exit("%s: [Service] %s=: not understood by %s" %
                     (unit, k, sys.argv[0]))
        svc.append((k, v))

env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
caps, ambient, nnp, cmd = None, "", False, None
for k, v in svc:
    if k == "Environment":
        for a in shlex.split(v):
            name, _, val = a.partition("=")
            env[name] = val
    elif k == "EnvironmentFile":
        path = v[1:] if v.startswith("-") else v
        if not os.path.exists(path):
            if v.startswith("-"):
                continue
            sys.exit("%s: EnvironmentFile %s: missing" % (unit, path))
        for fl in open(path):
            fl = fl.strip()
            if not fl or fl[0] in "#;":
                continue
            name, _, val = fl.partition("=")
            words = shlex.split(val) if val.strip() else [""]
            env[name.strip()] = " ".join(words)
    elif k == "CapabilityBoundingSet":
        caps = v.split()
    elif k == "AmbientCapabilities":
        ambient = v
    elif k == "NoNewPrivileges":
        nnp = v in ("yes", "true", "1", "on")
    elif k == which:
        cmd = v
if cmd is None:
    sys.exit("%s: no %s=" % (unit, which))
if ambient:
    sys.exit("%s: AmbientCapabilities=%s: not understood" % (unit, ambient))
if mainpid:
    env["MAINPID"] = mainpid


def expand(word):
    m = re.match(r"^\$(\w+)$", word)
    if m:
        return env.get(m.group(1), "").split()
    return [re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word)]


argv = [w for word in shlex.split(cmd) for w in expand(word)]
out = ["env", "-i"] + ["%s=%s" % kv for kv in env.items()]
if caps is not None:
    out += ["setpriv", "--inh-caps=-all", "--ambient-caps=-all",
            "--bounding-set=-all," + ",".join(
                "+" + c.lower().replace("cap_", "") for c in caps)]
    if nnp:
        out.append("--no-new-privs")
    out.append("--")
print("cmd=(%s)" % " ".join(shlex.quote(a) for a in out + argv))
