#!/usr/bin/python3
"""Look for a secret everywhere the invoking user can read.

usage: check.py PATH... <SECRETFILE

SECRETFILE (on stdin: opened by root, read by the user) holds the password and the relay user name on two lines.  Every
readable regular file under each PATH, and /proc/*/{environ,cmdline} of
every process, is searched for the password raw, in base64 at each of the
three alignments, and inside a PLAIN blob.  Meant to run as the user: what
it cannot open, the user cannot either.  Prints the hits; exits 1 on any.
"""

import base64
import os
import sys


def patterns(secret, user):
    s = secret.encode()
    pats = {"raw": [s]}
    b64 = []
    for pad in (b"", b"x", b"xy"):
        enc = base64.b64encode(pad + s)
        # Characters that depend on the secret alone, at this alignment.
        start = 4 if pad else 0
        end = (len(pad + s) // 3) * 4
        b64.append(enc[start:end])
    pats["base64"] = [p for p in b64 if len(p) >= 8]
    pats["plain"] = [base64.b64encode(b"\0" + user.encode() + b"\0" + s),
                     base64.b64encode(user.encode() + b"\0" + user.encode() +
                                      b"\0" + s)]
    return pats


def scan(data, pats):
    hits = []
    for kind, ps in pats.items():
        for p in ps:
            if p in data:
                hits.append(kind)
    return hits


def files(paths):
    for top in paths:
        if os.path.isfile(top):
            yield top
            continue
        for d, dirs, names in os.walk(top, onerror=lambda e: None):
            for n in names:
                yield os.path.join(d, n)


def main():
    secret, user = sys.stdin.read().split("\n")[:2]
    # The search must not find the copy it was handed.
    fd = os.open("/dev/null", os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)
    pats = patterns(secret, user)
    bad = 0
    seen = 0
    todo = list(files(sys.argv[1:]))
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for what in ("environ", "cmdline"):
                todo.append("/proc/%s/%s" % (pid, what))
    for path in todo:
        try:
            if not path.startswith("/proc/") and (os.path.islink(path) or
                                                  not os.path.isfile(path)):
                continue
            with open(path, "rb") as f:
                data = f.read(64 << 20)
        except OSError:
            continue
        seen += 1
        h = scan(data, pats)
        if h:
            bad += 1
            print("secret (%s) in %s" % (",".join(h), path))
    print("searched %d readable files" % seen)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
