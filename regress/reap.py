#!/usr/bin/python3
"""Run one test suite and make sure it leaves nothing running.

usage: reap.py REPORT PROGRAM [ARG ...]
       reap.py --scan NAME=VALUE

The first form runs PROGRAM as a child subreaper (prctl
PR_SET_CHILD_SUBREAPER), so that every process the suite starts stays a
descendant of this one even when its parent is gone.  When PROGRAM has
exited, what it left behind gets 10 seconds to end; whatever is still
running then is written to REPORT, one "PID COMMAND" a line, and killed.
The exit status is PROGRAM's (127 when it cannot be run).

The second form lists every process whose environment holds NAME=VALUE,
except this one and its ancestors, and exits 1 when there is one.
"""

import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
GRACE = 10.0


def ppid_of(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            s = f.read()
    except OSError:
        return None, None
    rest = s[s.rindex(b")") + 2:].split()
    return int(rest[1]), rest[0].decode()


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            s = f.read()
    except OSError:
        return "?"
    return s.replace(b"\0", b" ").decode(errors="replace").strip()[:200] or "?"


def pids():
    for d in os.listdir("/proc"):
        if d.isdigit():
            yield int(d)


def descendants(root):
    """Live (not zombie) descendants of root."""
    kids = {}
    for p in pids():
        pp, state = ppid_of(p)
        if pp is not None:
            kids.setdefault(pp, []).append((p, state))
    out, todo = [], [root]
    while todo:
        for p, state in kids.get(todo.pop(), []):
            todo.append(p)
            if state != "Z":
                out.append(p)
    return out


def reap_all():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run(report, argv):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("reap.py: prctl: %s" % os.strerror(ctypes.get_errno()),
              file=sys.stderr)
        return 125
    try:
        child = os.fork()
    except OSError as e:
        print("reap.py: fork: %s" % e, file=sys.stderr)
        return 125
    if child == 0:
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            print("reap.py: %s: %s" % (argv[0], e), file=sys.stderr)
        os._exit(127)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    rc = os.waitstatus_to_exitcode(status)
    if rc < 0:
        rc = 128 - rc
    me = os.getpid()
    deadline = time.monotonic() + GRACE
    left = descendants(me)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        reap_all()
        left = descendants(me)
    with open(report, "w") as f:
        for p in left:
            f.write("%d %s\n" % (p, cmdline(p)))
    # Kill until none is left: a dying process may still start another.
    for _ in range(50):
        left = descendants(me)
        if not left:
            break
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
        reap_all()
    reap_all()
    return rc


def scan(marker):
    want = marker.encode()
    mine = set()
    p = os.getpid()
    while p and p not in mine:
        mine.add(p)
        p = ppid_of(p)[0] or 0
    found = 0
    for p in pids():
        if p in mine:
            continue
        try:
            with open("/proc/%d/environ" % p, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if want in env and ppid_of(p)[1] not in (None, "Z"):
            print("%d %s" % (p, cmdline(p)))
            found = 1
    return found


def main(argv):
    if len(argv) == 2 and argv[0] == "--scan":
        return scan(argv[1])
    if len(argv) < 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 64
    return run(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
