#!/usr/bin/python3
"""Check one case of regress/auth/suite.

usage: check.py DIR EXITCODE EXPRESSION...

Each EXPRESSION is Python evaluated with: r (DIR/record.json, what the
server saw), rc, out (stdout), err (stderr), log (the log file), d (DIR),
and the helpers no_secret() and network_saw().  The first that is false
is reported and the status is 1.
"""

import base64
import glob
import json
import os
import re
import sys


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def forms(secret, user):
    """The password as it could leak: plain, and base64 of it and of the
    PLAIN blob at each of the three alignments."""
    out = {secret}
    for blob in (secret.encode(), b"\0" + user.encode() + b"\0" +
                 secret.encode()):
        for pad in (b"", b"x", b"xx"):
            e = base64.b64encode(pad + blob).decode()
            # drop characters touched by the padding and the tail
            skip = {0: 0, 1: 2, 2: 3}[len(pad)]
            core = e[skip:]
            core = core[:len(core) - 4]
            if len(core) >= 8:
                out.add(core)
    return out


def no_secret(text, secret, user):
    for f in forms(secret, user):
        if f in text:
            print("found %r" % f)
            return False
    return True


def network_saw(prefix, secret):
    """True when the network process of an strace -ff -xx -y trace (one file
    PREFIX.PID per process) received the password (plain or in a base64
    form) on any read or recvmsg."""
    net = []
    for path in glob.glob(glob.escape(prefix) + ".*"):
        text = read(path)
        # strace -y names the executable behind execveat's descriptor.
        if re.search(r"^execve(at)?\(.*(postern-network|"
                     r"\\x70\\x6f\\x73\\x74\\x65\\x72\\x6e\\x2d"
                     r"\\x6e\\x65\\x74\\x77\\x6f\\x72\\x6b)", text, re.M):
            net.append(text)
    if not net:
        raise SystemExit("no network process in the trace")
    data = []
    for line in "\n".join(net).splitlines():
        if not re.match(r"(read|recvmsg)\(", line):
            continue
        for s in re.findall(r'"((?:\\x[0-9a-f]{2})+)"', line):
            data.append(bytes(int(h, 16) for h in s[2:].split("\\x")))
    blob = b"\n".join(data).decode("latin-1")
    return not no_secret(blob, secret, "alice")


def main():
    d, rc = sys.argv[1], int(sys.argv[2])
    try:
        with open(os.path.join(d, "record.json")) as f:
            r = json.load(f)
    except (OSError, ValueError):
        r = {}
    env = {"r": r, "rc": rc, "d": d, "out": read(os.path.join(d, "stdout")),
           "err": read(os.path.join(d, "stderr")),
           "log": read(os.path.join(d, "log")),
           "no_secret": no_secret, "network_saw": network_saw}
    for expr in sys.argv[3:]:
        try:
            ok = eval(expr, env)
        except Exception as e:
            print("%s: %s: %s" % (expr, type(e).__name__, e))
            return 1
        if not ok:
            print("false: %s" % expr)
            print("rc=%d record=%s" % (rc, json.dumps(r)[:1500]))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
