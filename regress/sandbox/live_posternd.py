#!/usr/bin/python3
"""Live sandbox checks on a running posternd.

A client that authenticates nothing and stays after EHLO keeps every
process of posternd alive and waiting: the listener (posternd), the
session server (posternd-session) in recvmsg, the session it forked (the
same executable) waiting for the client, and the auth process
(posternd-auth) in poll.  Then:
  - each runs its own executable, and the listener and the auth process
    map no TLS or crypto library;
  - each sandboxed one is in seccomp filter mode with no_new_privs;
  - each in turn is stopped with ptrace inside the system call it waits
    in and made to call openat(2) instead: the filter must kill it.  A
    session's death is logged and the daemon serves on; the session
    server's or the auth process's stops the daemon with an error naming
    it;
  - the role executables started by hand, or the role argument given to
    posternd, stop at once.
Prints TAP.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from breakin import break_sandbox

POSTERND = os.environ.get("POSTERND")
WORK = os.path.join(os.environ.get("WORK") or tempfile.mkdtemp(),
                    "posternd")
SAFETY = 60.0
n = 0


def ok(cond, name, diag=None):
    global n
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, name))
    if not cond and diag:
        for line in str(diag).splitlines()[:30]:
            print("# " + line)
    sys.stdout.flush()
    return cond


def skip(name, why):
    global n
    n += 1
    print("ok %d - %s # SKIP %s" % (n, name, why))
    sys.stdout.flush()


def wait_for(pred, limit=SAFETY):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status(pid):
    d = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                d[k] = v.strip()
    except OSError:
        pass
    return d


def exe(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return "?"


def libraries(pid):
    """The base names of the shared objects mapped into pid."""
    found = set()
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                path = line.split()[-1]
                if ".so" in path:
                    found.add(os.path.basename(path).split(".so")[0])
    except OSError:
        pass
    return found


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


class Daemon:
    def __init__(self, tag):
        self.dir = os.path.join(WORK, tag)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "log")
        self.port = free_port()
        argv = [POSTERND, "--interface=127.0.0.1", "--port=%d" % self.port,
                "--log=" + self.log, "--command=/bin/true",
                "--auth=alice,echo s3cret"]
        if os.geteuid() == 0:
            empty = os.path.join(self.dir, "empty")
            os.mkdir(empty, 0o755)
            argv.append("--chroot=" + empty)
        self.errpath = os.path.join(self.dir, "stderr")
        with open(self.errpath, "wb") as err:
            self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                      stdout=err, stderr=err)
        self.client = None

    def started(self):
        return wait_for(lambda: self.p.poll() is not None or
                        self.greet(probe=True)) and self.p.poll() is None

    def greet(self, probe=False):
        """A client past EHLO, or None."""
        try:
            s = socket.create_connection(("127.0.0.1", self.port), 5)
        except OSError:
            return None
        if probe:
            s.close()
            return True
        s.settimeout(SAFETY)
        f = s.makefile("rb")
        line = f.readline()
        s.sendall(b"EHLO client.test\r\n")
        while True:
            r = f.readline()
            if r[3:4] != b"-":
                break
        f.close()
        if not line.startswith(b"220") or not r.startswith(b"250"):
            s.close()
            return None
        return s

    def children(self):
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) != self.p.pid or fields[0] in "ZX":
                    continue
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read().split(b"\0")
            except (OSError, ValueError):
                continue
            kids.append((int(d), cmd))
        return kids

    def role(self, name):
        """The pid of the live child whose role argument is name."""
        for pid, cmd in self.children():
            if name.encode() in cmd:
                return pid
        return None

    def logtext(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.client is not None:
            self.client.close()
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


EXES = {"session-server": "posternd-session", "session": "posternd-session",
        "auth": "posternd-auth"}
CRYPTO = {"libtls", "libssl", "libcrypto"}


def start(tag):
    d = Daemon(tag)
    if not d.started():
        ok(False, "%s: posternd starts" % tag, d.stderr())
        d.stop()
        return None
    d.client = d.greet()
    pids = {r: wait_for(lambda r=r: d.role(r), 10) for r in EXES}
    # Locked down before the first byte from the client (the sanitizer
    # build does its leak check first): wait for it.
    for pid in pids.values():
        if pid is not None:
            wait_for(lambda pid=pid: status(pid).get("Seccomp") == "2", 20)
    return d, pids


def inspect():
    r = start("inspect")
    if r is None:
        return
    d, pids = r
    ok(exe(d.p.pid) == "posternd", "the listener runs posternd",
       exe(d.p.pid))
    libs = libraries(d.p.pid)
    ok(libs and not libs & CRYPTO, "the listener maps no TLS or crypto "
       "library", sorted(libs))
    for role, want in EXES.items():
        pid = pids[role]
        if pid is None:
            ok(False, "a %s process is running" % role, d.children())
            continue
        ok(exe(pid) == want, "the %s process runs %s" % (role, want),
           exe(pid))
        st = status(pid)
        ok(st.get("Seccomp") == "2" and st.get("NoNewPrivs") == "1",
           "the %s process runs under its seccomp filter with "
           "no_new_privs" % role,
           (st.get("Seccomp"), st.get("NoNewPrivs")))
    libs = libraries(pids["auth"]) if pids["auth"] else set()
    ok(libs and not libs & CRYPTO, "the auth process maps no TLS or "
       "crypto library", sorted(libs))
    libs = libraries(pids["session"]) if pids["session"] else set()
    ok("libtls" in libs, "the session maps libtls", sorted(libs))
    d.stop()


def eof(s):
    try:
        while True:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except OSError:
        return False


def break_one(role):
    want = EXES[role]
    name = "%s (%s) calling openat" % (want, role)
    r = start("break-" + role)
    if r is None:
        return
    d, pids = r
    pid = pids[role]
    why = break_sandbox(pid) if pid else "no %s process found" % role
    if why is not None and why.startswith("PTRACE_ATTACH") and \
            os.geteuid() != 0:
        skip(name + " is killed by its sandbox", "not root, cannot trace it")
        d.stop()
        return
    if role == "session":
        killed = "killed by its sandbox (forbidden system call)"
        ok(why is None and wait_for(lambda: killed in d.logtext(), 30),
           name + " is killed by its sandbox, and the listener logs it",
           "%s; log: %s" % (why, d.logtext()))
        d.client.settimeout(SAFETY)
        ok(eof(d.client), name + ": its client is disconnected")
        c = d.greet()
        ok(c is not None, name + ": the daemon serves on")
        if c is not None:
            c.close()
    else:
        try:
            rc = d.p.wait(SAFETY)
        except subprocess.TimeoutExpired:
            rc = None
        what = {"auth": "auth process", "session-server": "session server"}
        msg = "%s ended: killed by its sandbox" % what[role]
        ok(why is None and rc not in (None, 0) and msg in d.stderr(),
           name + " is killed by its sandbox: the daemon stops naming it",
           "%s; exit %s, stderr %s" % (why, rc, d.stderr()))
        # The others die with the listener.
        left = wait_for(lambda: not any(alive(p) for p in pids.values()
                                        if p), 30)
        ok(left, name + ": no process of the daemon is left behind",
           [p for p in pids.values() if p and alive(p)])
    d.stop()


def by_hand():
    top = os.path.dirname(POSTERND)
    for role, want in (("session-server", "posternd-session"),
                       ("auth", "posternd-auth")):
        path = os.path.join(top, want)
        for argv in ([path], [path, "--posternd-role", role]):
            # No channel on descriptor 3, or no argv the listener gives.
            p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=SAFETY)
            err = p.stderr.decode(errors="replace")
            ok(p.returncode != 0 and ("started by posternd alone" in err or
                                      "no channel to the listener" in err),
               "%s started by hand (%d arguments) stops at once" %
               (want, len(argv) - 1), (p.returncode, err))
    p = subprocess.run([POSTERND, "--posternd-role", "auth"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=SAFETY)
    ok(p.returncode == 64, "posternd takes no role argument: a usage error",
       (p.returncode, p.stderr))


def main():
    if not POSTERND or not os.access(POSTERND, os.X_OK):
        print("Bail out! no posternd binary at %s" % POSTERND)
        sys.exit(1)
    os.makedirs(WORK, exist_ok=True)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    inspect()
    for role in ("session", "auth", "session-server"):
        break_one(role)
    by_hand()
    print("1..%d" % n)


main()
