#!/usr/bin/python3
"""Live sandbox checks on a real send.

A server that accepts the connection and never greets keeps postern in the
middle of a send, with all three children alive: the reader blocked on a
full pipe, the secrets process waiting for AUTH, the network process
waiting for the greeting.  Then:
  - the parent has exactly three children, each in seccomp filter mode with
    no_new_privs set, none holding a regular file open;
  - the parent itself, the socket handed over, is in seccomp filter mode;
  - each child in turn is killed with SIGSYS (what the kernel sends on a
    forbidden system call) and postern must exit 70 naming the role;
  - a send with TLS runs postern-network, a send without it
    postern-network-plain, which maps neither libtls nor libcrypto;
  - each executable (postern-reader, postern-secrets, postern-network,
    postern-network-plain and the parent) in turn is made to break its
    sandbox for real: stopped
    with ptrace inside the system call it waits in, and made to call
    openat(2) instead; the filter must kill it, and postern must exit 70
    naming the role (the parent dies of SIGSYS itself).
Prints TAP.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from breakin import break_sandbox

POSTERN = os.environ.get("POSTERN")
WORK = os.environ.get("WORK") or tempfile.mkdtemp()
os.makedirs(WORK, exist_ok=True)
n = 0


def ok(cond, name, diag=None):
    global n
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, name))
    if not cond and diag:
        for line in str(diag).splitlines():
            print("# " + line)
    sys.stdout.flush()


class SilentServer(threading.Thread):
    """Accepts connections and says nothing until told to stop."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def role(pid):
    """The role of a child: the name of the executable it runs,
    postern-ROLE, or "?" while it has not exec'd it yet."""
    try:
        exe = os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return "?"
    if exe.startswith("postern-"):
        return exe[len("postern-"):]
    return "?"


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def status(pid):
    d = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            d[k] = v.strip()
    return d


def seccomp(pid):
    try:
        return status(pid).get("Seccomp")
    except OSError:
        return None


def regular_files(pid):
    found = []
    base = "/proc/%d/fd" % pid
    for fd in os.listdir(base):
        try:
            st = os.stat(os.path.join(base, fd))
        except OSError:
            continue
        import stat as S
        if S.S_ISREG(st.st_mode):
            found.append("%s -> %s" % (fd, os.readlink(os.path.join(base, fd))))
    return found


def start_send(port, tag, tls=True):
    """A send to the silent server: with STARTTLS (postern-network) or
    without TLS (postern-network-plain)."""
    rc = os.path.join(WORK, "sandbox-%s.rc" % tag)
    with open(rc, "w") as f:
        f.write("account default\nhost 127.0.0.1\nport %d\n"
                "from alice@example.org\nauth plain\nuser alice\n"
                "password s3cret\ntimeout 60\n" % port)
        if tls:
            f.write("tls on\ntls_starttls on\ntls_certcheck off\n")
    os.chmod(rc, 0o600)
    # Larger than a pipe: the reader stays blocked writing the body.
    msg = b"Subject: sandbox\n\n" + (b"x" * 75 + b"\n") * 40000
    p = subprocess.Popen([POSTERN, "-C", rc, "bob@example.net"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    def feed():
        try:
            p.stdin.write(msg)
            p.stdin.close()
        except OSError:
            pass    # postern may stop reading: that is what some tests do
    threading.Thread(target=feed, daemon=True).start()
    return p


def wait_children(pid, want, limit=60.0):
    """The children of pid once there are want of them, each past its
    exec and inside its seccomp filter, or what there is at the deadline."""
    end = time.time() + limit
    kids = []
    while time.time() < end:
        kids = children(pid)
        if len(kids) == want and all(role(k) != "?" and
                                     seccomp(k) == "2"
                                     for k in kids):
            return kids
        time.sleep(0.05)
    return kids


def main():
    if not POSTERN or not os.access(POSTERN, os.X_OK):
        print("Bail out! no postern binary at %s" % POSTERN)
        sys.exit(1)
    srv = SilentServer()
    srv.start()

    p = start_send(srv.port, "inspect")
    kids = wait_children(p.pid, 3)
    roles = sorted(role(k) for k in kids)
    ok(roles == ["network", "reader", "secrets"],
       "during a send the parent has three children: reader, secrets, network",
       roles)
    # The socket is with the network process: the parent is confined too.
    end = time.time() + 20
    st = status(p.pid)
    while st.get("Seccomp") != "2" and time.time() < end:
        time.sleep(0.05)
        st = status(p.pid)
    ok(st.get("Seccomp") == "2", "the parent runs in seccomp filter mode "
       "once the socket is handed over", st.get("Seccomp"))
    ok(st.get("NoNewPrivs") == "1", "the parent has no_new_privs",
       st.get("NoNewPrivs"))
    for k in kids:
        r = role(k)
        # A child locks itself down soon after it starts (later in the
        # sanitizer build, after its leak check): wait for it.
        end = time.time() + 20.0
        st = status(k)
        while st.get("Seccomp") != "2" and time.time() < end:
            time.sleep(0.05)
            st = status(k)
        ok(st.get("Seccomp") == "2", "%s runs in seccomp filter mode" % r,
           st.get("Seccomp"))
        ok(st.get("NoNewPrivs") == "1", "%s has no_new_privs" % r,
           st.get("NoNewPrivs"))
        regs = regular_files(k)
        ok(not regs, "%s holds no regular file open" % r, regs)
    p.kill()
    p.wait()

    # Without TLS the network process is the executable without it.
    p = start_send(srv.port, "plain", tls=False)
    kids = wait_children(p.pid, 3)
    roles = sorted(role(k) for k in kids)
    ok(roles == ["network-plain", "reader", "secrets"],
       "a send without TLS runs postern-network-plain", roles)
    maps = ""
    for k in kids:
        if role(k) == "network-plain":
            try:
                with open("/proc/%d/maps" % k) as f:
                    maps = f.read()
            except OSError as e:
                maps = "cannot read: %s" % e
    libs = sorted(set(os.path.basename(l.split()[-1]) for l in
                      maps.splitlines() if "/lib" in l))
    ok(maps and not maps.startswith("cannot") and
       not any(x.startswith(("libtls", "libcrypto", "libssl", "libsasl2"))
               for x in libs),
       "postern-network-plain maps neither libtls nor libcrypto", libs)
    p.kill()
    p.wait()

    for victim in ("reader", "secrets", "network"):
        p = start_send(srv.port, victim)
        kids = wait_children(p.pid, 3)
        target = [k for k in kids if role(k) == victim]
        if not target:
            ok(False, "%s killed by SIGSYS: postern reports the role" % victim,
               "no %s child found" % victim)
            p.kill()
            p.wait()
            continue
        os.kill(target[0], signal.SIGSYS)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        err = err.decode(errors="replace")
        ok(p.returncode == 70, "%s killed by SIGSYS: postern exits 70" % victim,
           "exit %s, stderr %s" % (p.returncode, err))
        ok("%s process killed by its sandbox" % victim in err,
           "%s killed by SIGSYS: the message names the role" % victim, err)
        left = [k for k in children(p.pid)]
        ok(not left, "%s killed: no child is left behind" % victim, left)

    # Each executable breaks its own sandbox for real.
    for victim in ("reader", "secrets", "network", "network-plain",
                   "parent"):
        p = start_send(srv.port, "break-" + victim,
                       tls=victim != "network-plain")
        kids = wait_children(p.pid, 3)
        if victim == "parent":
            end = time.time() + 20
            while seccomp(p.pid) != "2" and time.time() < end:
                time.sleep(0.05)
            target = [p.pid]
        else:
            target = [k for k in kids if role(k) == victim]
        exe = ""
        if target:
            try:
                exe = os.readlink("/proc/%d/exe" % target[0])
            except OSError:
                pass
        want = "postern" if victim == "parent" else "postern-" + victim
        ok(os.path.basename(exe) == want, "the %s process runs its own "
           "executable, %s" % (victim, want), exe)
        why = break_sandbox(target[0]) if target else "no %s found" % victim
        if why is not None and why.startswith("PTRACE_ATTACH") and \
                os.geteuid() != 0:
            print("ok %d - %s calling openat dies # SKIP not root, cannot "
                  "trace it" % (n + 1, want))
            globals()["n"] += 1
            p.kill()
            p.communicate()
            continue
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        err = err.decode(errors="replace")
        if victim == "parent":
            ok(why is None and p.returncode == -signal.SIGSYS,
               "%s calling openat dies of SIGSYS" % want,
               "%s; exit %s, stderr %s" % (why, p.returncode, err))
        else:
            ok(why is None and p.returncode == 70 and
               "%s process killed by its sandbox" %
               victim.replace("-plain", "") in err,
               "%s calling openat is killed by its sandbox: postern exits "
               "70 naming it" % want,
               "%s; exit %s, stderr %s" % (why, p.returncode, err))
        # Once the parent is gone its children die with it (a zombie
        # waiting for a subreaper to reap it is dead too).
        end = time.time() + 30
        left = [k for k in kids if alive(k)]
        while left and time.time() < end:
            time.sleep(0.05)
            left = [k for k in kids if alive(k)]
        ok(not left, "%s broke its sandbox: no child is left behind" %
           want, left)
    srv.stop()
    print("1..%d" % n)


main()
