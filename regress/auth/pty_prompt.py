#!/usr/bin/python3
"""Run a command on a new pseudo-terminal as its controlling terminal,
answer its password prompt, and keep what the terminal showed.

usage: pty_prompt.py PASSWORD TTYLOG -- COMMAND...
stdin, stdout and stderr of the command are this program's, so only the
prompt goes to the terminal; the exit status is the command's.
"""

import os
import pty
import select
import sys
import time


def main():
    pw, log = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    master, slave = pty.openpty()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        import fcntl
        import termios
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        os.close(master)
        os.execv(cmd[0], cmd)
    os.close(slave)
    seen = b""
    answered = False
    p, st = 0, 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                seen += os.read(master, 4096)
            except OSError:
                # EIO while no process has the terminal open
                time.sleep(0.05)
        if not answered and b"password for" in seen:
            os.write(master, pw.encode() + b"\n")
            answered = True
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            break
    else:
        os.kill(pid, 9)
        p, st = os.waitpid(pid, 0)
    if not p:
        p, st = os.waitpid(pid, 0)
    with open(log, "wb") as f:
        f.write(seen)
    return os.waitstatus_to_exitcode(st)


if __name__ == "__main__":
    sys.exit(main())
