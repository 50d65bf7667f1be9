#!/usr/bin/python3
"""Same-uid attacker: try to trace and read every postern process.

usage: attack.py STOPFILE REPORT

Runs as the invoking user until STOPFILE exists.  Each new process of its
own uid whose command line names postern is attacked once: PTRACE_ATTACH,
then opening /proc/PID/mem and /proc/PID/environ and listing
/proc/PID/fd.  REPORT gets the counts as JSON.
"""

import ctypes
import json
import os
import sys

PTRACE_ATTACH, PTRACE_DETACH = 16, 17


def main():
    stop, report = sys.argv[1], sys.argv[2]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                            ctypes.c_void_p]
    me, uid = os.getpid(), os.getuid()
    seen = set()
    r = {"targets": 0, "attempts": 0, "successes": [], "pids": 0}
    while not os.path.exists(stop):
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) == me or p in seen:
                continue
            try:
                if os.stat("/proc/" + p).st_uid != uid:
                    continue
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"postern" not in cmd or b"launch.py" in cmd or \
               b"attack.py" in cmd:
                continue
            seen.add(p)
            r["targets"] += 1
            pid = int(p)
            r["attempts"] += 1
            if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
                r["successes"].append("ptrace %d" % pid)
                try:
                    os.waitpid(pid, 0)
                except OSError:
                    pass
                libc.ptrace(PTRACE_DETACH, pid, None, None)
            for what in ("mem", "environ"):
                r["attempts"] += 1
                try:
                    with open("/proc/%d/%s" % (pid, what), "rb") as f:
                        f.read(1)
                    r["successes"].append("%s %d" % (what, pid))
                except OSError:
                    pass
            r["attempts"] += 1
            try:
                os.listdir("/proc/%d/fd" % pid)
                r["successes"].append("fd %d" % pid)
            except OSError:
                pass
    with open(report, "w") as f:
        json.dump(r, f)


if __name__ == "__main__":
    main()
