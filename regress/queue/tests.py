#!/usr/bin/python3
"""The durable queue of postern, against a recording SMTP server."""
import hashlib, json, os, resource, shutil, signal, struct, subprocess
import sys, tempfile, threading, time

POSTERN = os.environ["POSTERN"]
HERE = os.path.dirname(os.path.abspath(__file__))
WORK = tempfile.mkdtemp(prefix="queue.", dir=os.environ.get("WORK", "/tmp"))
n = 0
failed = 0


def ok(cond, name):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, name), flush=True)


class Server:
    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(dir=WORK)
        self.record = os.path.join(self.dir, "record")
        pf = os.path.join(self.dir, "port")
        open(self.record, "w").close()
        self.p = subprocess.Popen([sys.executable, HERE + "/server.py",
                                   "--portfile", pf, "--record",
                                   self.record] + list(args))
        deadline = time.time() + 30
        while not os.path.exists(pf):
            if time.time() > deadline or self.p.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.02)
        self.port = int(open(pf).read())

    def lines(self):
        return [json.loads(l) for l in open(self.record)]

    def mails(self):
        return [l for l in self.lines() if "trans" in l]

    def sessions(self):
        return len([l for l in self.lines() if list(l) == ["session"]])

    def auths(self):
        return len([l for l in self.lines() if "auth" in l])

    def stop(self):
        self.p.kill()
        self.p.wait()


class Spool:
    def __init__(self, port=1, extra=""):
        self.dir = tempfile.mkdtemp(dir=WORK)
        self.spool = os.path.join(self.dir, "spool")
        self.rc = os.path.join(self.dir, "rc")
        self.log = os.path.join(self.dir, "log")
        self.extra = extra
        self.port(port)

    def port(self, port, extra=None):
        if extra is not None:
            self.extra = extra
        with open(self.rc, "w") as fp:
            fp.write("defaults\nlogfile %s\naccount default\nhost 127.0.0.1\n"
                     "port %d\nfrom me@example.com\nqueue on\nqueue_dir %s\n"
                     "timeout 20\n%s" % (self.log, port, self.spool,
                                         self.extra))
        os.chmod(self.rc, 0o600)

    def run(self, args, mail=None, name=None, preexec=None, prefix=()):
        argv = list(prefix) + [name or POSTERN, "-C", self.rc] + args
        exe = POSTERN
        p = subprocess.run(argv, input=mail, capture_output=True,
                           executable=None if prefix else exe,
                           preexec_fn=preexec, timeout=120)
        return p

    def entries(self, d="queue"):
        try:
            return sorted(os.listdir(os.path.join(self.spool, d)))
        except FileNotFoundError:
            return []

    def status(self, i):
        p = os.path.join(self.spool, "state", i)
        if not os.path.exists(p):
            return {}
        return dict(l.split("=", 1) for l in open(p).read().splitlines())


def mail(i, size=200):
    body = ("line %d of the mail\n" % i) * (size // 20)
    return ("Subject: mail %d\n\n%sEND-OF-MAIL-%d\n" % (i, body, i)).encode()


def subjects(srv):
    return sorted(m["subject"] for m in srv.mails())


def main():
    # 1. Offline: queued, exit 0, private files.
    sp = Spool()
    p = sp.run(["rcpt@example.org"], mail(1))
    ok(p.returncode == 0 and b"queued as" in p.stderr,
       "connection refused with the queue on: exit 0, queued as ID")
    ents = sp.entries()
    ok(len(ents) == 1 and not sp.entries("tmp"), "one entry, nothing in tmp/")
    st = os.stat(os.path.join(sp.spool, "queue", ents[0]))
    ok(os.stat(sp.spool).st_mode & 0o777 == 0o700 and
       st.st_mode & 0o777 == 0o600, "spool 0700, entry 0600")
    p = sp.run(["--no-queue", "rcpt@example.org"], mail(2))
    ok(p.returncode == 75 and len(sp.entries()) == 1,
       "--no-queue: exit 75 as msmtp, nothing queued")
    p = sp.run(["-bp"])
    out = p.stdout.decode()
    ok(p.returncode == 0 and out.startswith("-Queue ID-") and
       ents[0] in out and "rcpt@example.org" in out and
       "Connection refused" in out and
       out.rstrip().endswith("in 1 Request."), "-bp in Postfix's layout")
    p = sp.run(["--queue-list=json"])
    j = json.loads(p.stdout.decode().splitlines()[0])
    ok(j["queue_id"] == ents[0] and j["recipients"][0]["address"] ==
       "rcpt@example.org", "--queue-list=json")
    p = sp.run(["--queue-show=" + ents[0]])
    ok(p.returncode == 0 and b"END-OF-MAIL-1" in p.stdout,
       "--queue-show prints envelope and message")

    # 2. Five entries, one connection, one AUTH.
    srv = Server("--auth", "u:secret")
    for i in range(2, 6):
        sp.run(["-odq", "rcpt%d@example.org" % i], mail(i))
    ok(len(sp.entries()) == 5, "-odq queues without connecting")
    sp.port(srv.port, "auth plain\nuser u\npassword secret\n")
    p = sp.run(["-q"])
    ms = srv.mails()
    ok(p.returncode == 0 and len(ms) == 5 and srv.sessions() == 1 and
       srv.auths() == 1 and all(m["authed"] for m in ms),
       "-q: 5 mails over one connection with one AUTH")
    ok(sp.entries() == [] and not os.listdir(os.path.join(sp.spool, "state")),
       "every entry removed after its 250")
    srv.stop()

    # 3. 451 for the third at RCPT, DATA, dot.
    for where in ("rcpt", "data", "dot"):
        srv = Server("--auth", "u:secret", "--fail", "%s:3:451" % where)
        sp.port(1, "")
        for i in range(1, 6):
            sp.run(["-odq", "r%d@example.org" % i], mail(i))
        sp.port(srv.port, "auth plain\nuser u\npassword secret\n")
        p = sp.run(["-q"])
        ms = srv.mails()
        left = sp.entries()
        ok(p.returncode == 0 and len(ms) == 4 and srv.sessions() == 1 and
           srv.auths() == 1 and len(left) == 1,
           "451 at %s for the third: the other four over one session" %
           where)
        s = sp.status(left[0]) if left else {}
        ok(int(s.get("next", "0")) > time.time() + 200 and
           s.get("error", "").startswith("451"),
           "451 at %s: the third stays, retry time later" % where)
        p = sp.run(["-q", "--due"])
        ok(srv.sessions() == 1 and len(sp.entries()) == 1,
           "a --due flush before that time opens no connection")
        sp.run(["--queue-purge=all"])
        srv.stop()

    # 4. 421 and a reset after the second entry.
    for how, arg in (("421", "--close421"), ("reset", "--drop")):
        srv = Server(arg, "3" if how == "421" else "2")
        sp.port(1, "")
        for i in range(1, 6):
            sp.run(["-odq", "r%d@example.org" % i], mail(i))
        sp.port(srv.port, "")
        before = sp.entries()
        p = sp.run(["-q"])
        ms = srv.mails()
        left = sp.entries()
        ok(p.returncode == 0 and subjects(srv) == ["mail 1", "mail 2"] and
           left == before[2:], "%s after the second: two delivered once, "
           "the rest still queued" % how)
        untouched = [e for e in left[1:] if not sp.status(e)]
        ok(len(untouched) == 2, "%s: the entries after it untouched" % how)
        sp.run(["--queue-purge=all"])
        srv.stop()

    # 5. 5xx: failed/, one notice to the sender, never a notice of it.
    srv = Server("--fail", "rcpt:1:550")
    sp.port(1, "queue_notify on\n")
    # Larger than a pipe holds: the refusal comes before the data is read.
    sp.run(["-odq", "nobody@example.org"], mail(1, 300000))
    sp.port(srv.port)
    p = sp.run(["-q"])
    ok(len(sp.entries("failed")) == 1 and len(sp.entries()) == 1,
       "550 at RCPT for a 300 KB mail: moved to failed/, a notice queued")
    p = sp.run(["-q"])
    ms = srv.mails()
    ok(len(ms) == 1 and ms[0]["from"] == "" and
       ms[0]["rcpts"] == ["me@example.com"] and
       "multipart/report" in ms[0]["head"], "the notice goes to the sender "
       "from <>, as multipart/report")
    p = sp.run(["--queue-list=failed"])
    ok(b"550" in p.stdout, "--queue-list=failed shows it with the reply")
    fid = sp.entries("failed")[0]
    p = sp.run(["--queue-retry=" + fid])
    ok(sp.entries() == [fid] and not sp.entries("failed"),
       "--queue-retry puts it back")
    sp.run(["--queue-purge=all"])
    srv.stop()

    # 6. Concurrent flushers and submissions during a flush.
    for nflush in (2, 10):
        srv = Server()
        sp.port(1, "")
        for i in range(40):
            sp.run(["-odq", "c%d@example.org" % i], mail(i))
        sp.port(srv.port)
        procs = [subprocess.Popen([POSTERN, "-C", sp.rc, "-q"])
                 for _ in range(nflush)]
        rcs = [pr.wait() for pr in procs]
        sp.run(["-q"])
        subj = subjects(srv)
        ok(all(r == 0 for r in rcs) and len(subj) == 40 and
           len(set(subj)) == 40 and sp.entries() == [],
           "%d concurrent flushers: each of 40 delivered exactly once" %
           nflush)
        srv.stop()
    srv = Server()
    sp.port(1, "")
    for i in range(200):
        sp.run(["-odq", "d%d@example.org" % i], mail(i, 2000))
    sp.port(srv.port)
    fl = subprocess.Popen([POSTERN, "-C", sp.rc, "-q"])
    subs = []
    for i in range(200, 300):
        subs.append(sp.run(["e%d@example.org" % i], mail(i)).returncode)
    fl.wait()
    sp.run(["-q"])
    subj = subjects(srv)
    ok(all(r == 0 for r in subs) and len(subj) == 300 and
       len(set(subj)) == 300, "100 submissions during a 200-entry flush: "
       "all 300 delivered exactly once")
    srv.stop()

    pipelined(sp)
    after_send(sp)
    corrupt(sp)
    msmtpq(sp)
    disk_full(sp)
    crash(sp)


def pipelined(sp):
    """With PIPELINING the next entry's commands follow a dot unasked."""
    for fail in (None, "dot:1:451"):
        args = ["--hold-dot", "1", "--hold-dot", "2"]
        if fail:
            args += ["--fail", fail]
        srv = Server(*args)
        sp.port(1, "")
        for i in range(1, 4):
            sp.run(["-odq", "p%d@example.org" % i], mail(i))
        first = sp.entries()[0]
        sp.port(srv.port)
        t0 = time.time()
        p = sp.run(["-q"])
        took = time.time() - t0
        held = [l for l in srv.lines() if "held" in l]
        what = "a 451 to the first dot" if fail else "three entries"
        ok(p.returncode == 0 and len(held) == 2 and
           all(h["next"] == "RSET" for h in held) and took < 15 and
           srv.sessions() == 1,
           "%s: RSET, MAIL, RCPT, DATA of the next entry sent before the "
           "dot's reply" % what)
        if fail:
            ok(subjects(srv) == ["mail 2", "mail 3"] and
               sp.entries() == [first] and
               sp.status(first).get("error", "").startswith("451"),
               "a 451 to the first dot in the pipeline: the first stays "
               "with its retry time, the second and third delivered once")
            sp.run(["--queue-purge=all"])
        else:
            ok(subjects(srv) == ["mail 1", "mail 2", "mail 3"] and
               sp.entries() == [], "pipelined: each delivered once, the "
               "queue empty")
        srv.stop()


def after_send(sp):
    """A live send takes the due entries of its account along, before QUIT."""
    srv = Server("--auth", "u:secret")
    other = ("account other\nhost 127.0.0.1\nport %%d\nfrom other@example.com"
             "\nqueue on\nqueue_dir %s\n" % sp.spool)
    sp.port(1, other % 1)
    for i in range(1, 4):
        sp.run(["-odq", "due%d@example.org" % i], mail(i))
    p = sp.run(["late@example.org"], mail(4))
    ok(p.returncode == 0 and len(sp.entries()) == 4,
       "after-send setup: three entries due, one deferred by a refusal")
    sp.run(["-a", "other", "-odq", "elsewhere@example.org"], mail(5))
    late = [e for e in sp.entries() if sp.status(e)]
    sp.port(srv.port, "auth plain\nuser u\npassword secret\n" +
            other % srv.port)
    p = sp.run(["live@example.org"], mail(6))
    ms = srv.mails()
    lines = srv.lines()
    ok(p.returncode == 0 and srv.sessions() == 1 and srv.auths() == 1 and
       all(m["authed"] and m["session"] == 1 for m in ms) and
       [m["subject"] for m in ms] == ["mail 6", "mail 1", "mail 2",
                                      "mail 3"],
       "a live send: the live mail, then the three due entries of its "
       "account, over one connection with one AUTH")
    ok(lines[-1] == {"quit": 1} and
       len([l for l in lines if "quit" in l]) == 1,
       "one QUIT, after the due entries")
    left = sp.entries()
    ok(len(left) == 2 and late[0] in left,
       "the entry not yet due and the other account's entry stay queued")
    p = sp.run(["-q"])
    ok(sorted(m["subject"] for m in srv.mails()[4:]) == ["mail 4", "mail 5"]
       and srv.sessions() == 3 and sp.entries() == [],
       "they go with the next flush, one session per account")
    # Nothing due: the live mail alone, one session, one QUIT.
    p = sp.run(["live2@example.org"], mail(7))
    ok(p.returncode == 0 and srv.sessions() == 4 and
       srv.mails()[-1]["subject"] == "mail 7" and
       len([l for l in srv.lines() if "quit" in l]) == 4,
       "a live send with nothing due: one session, ended with QUIT")
    sp.port(1, "")
    srv.stop()


def records(data):
    recs = []
    off = 16
    while off < len(data):
        t = data[off]
        ln = struct.unpack(">Q", data[off + 1:off + 9])[0]
        recs.append([t, data[off + 9:off + 9 + ln]])
        off += 9 + ln
    return recs


def build(recs):
    head = bytearray(b"POSTERN-QUEUE-1\n")
    out = None
    for t, d in recs:
        if t == 9:
            d = hashlib.sha256(bytes(head)).digest()
            head += bytes([t]) + struct.pack(">Q", len(d)) + d
            out = head
            continue
        if out is None:
            head += bytes([t]) + struct.pack(">Q", len(d)) + d
        else:
            out += bytes([t]) + struct.pack(">Q", len(d)) + d
    return bytes(out)


def corrupt(sp):
    srv = Server()
    sp.port(1, "")
    sp.run(["-odq", "x@example.org"], mail(1))
    ent = sp.entries()[0]
    path = os.path.join(sp.spool, "queue", ent)
    good = open(path, "rb").read()
    ok(build(records(good)) == good, "the test reads the entry format")
    sp.port(srv.port)
    sent = 0
    moved = 0
    for cut in range(0, len(good)):
        with open(path, "wb") as fp:
            fp.write(good[:cut])
        sp.run(["-q"])
        if os.path.exists(os.path.join(sp.spool, "failed", ent)):
            moved += 1
            os.rename(os.path.join(sp.spool, "failed", ent), path)
    sent = len(srv.mails())
    ok(sent == 0 and moved == len(good),
       "truncated at each of %d offsets: never sent, moved to failed/" %
       len(good))
    bad = 0
    for off in range(0, len(good), 7):
        b = bytearray(good)
        b[off] ^= 0x01
        with open(path, "wb") as fp:
            fp.write(bytes(b))
        sp.run(["-q"])
        if os.path.exists(os.path.join(sp.spool, "failed", ent)):
            bad += 1
            os.rename(os.path.join(sp.spool, "failed", ent), path)
    ok(len(srv.mails()) == 0 and bad == len(range(0, len(good), 7)),
       "a flipped byte anywhere: never sent, moved to failed/")
    recs = records(good)
    for r in recs:
        if r[0] == 7:
            r[1] = b"x@example.org\r\nRCPT TO:<evil@example.net>"
    with open(path, "wb") as fp:
        fp.write(build(recs))
    sp.run(["-q"])
    ok(len(srv.mails()) == 0 and
       os.path.exists(os.path.join(sp.spool, "failed", ent)),
       "a LF in a recipient, checksums right: never sent, failed/")
    sp.run(["--queue-purge=all"])
    ok(sp.entries("failed") == [], "--queue-purge=all empties failed/ too")
    srv.stop()


def msmtpq(sp):
    srv = Server()
    sp.port(1, "")
    d = tempfile.mkdtemp(dir=WORK)
    for name in ("msmtpq", "msmtp-queue"):
        os.symlink(POSTERN, os.path.join(d, name))
    rc = ["-C", sp.rc]
    p = subprocess.run([os.path.join(d, "msmtpq")] + rc +
                       ["-F", "Full Name", "rcpt@example.org"],
                       input=mail(1), capture_output=True)
    ok(p.returncode == 0 and len(sp.entries()) == 1,
       "msmtpq -F \"Full Name\" while offline: queued")
    sp.port(srv.port)
    p = subprocess.run([os.path.join(d, "msmtp-queue"), "-r"] + rc,
                       capture_output=True)
    ms = srv.mails()
    ok(p.returncode == 0 and len(ms) == 1 and
       ms[0]["rcpts"] == ["rcpt@example.org"] and
       "Full Name" in ms[0]["head"],
       "msmtp-queue -r: delivered, no extra recipient, the name in From")
    srv.stop()


def disk_full(sp):
    srv = Server()
    sp.port(1, "")
    sp.run(["-odq", "old@example.org"], mail(1))
    old = sp.entries()

    def small():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    p = sp.run(["-odq", "big@example.org"], mail(2, 20000), preexec=small)
    ok(p.returncode == 75 and sp.entries() == old and
       sp.entries("tmp") == [], "a full disk during -odq: exit 75, no "
       "partial entry, the older one untouched")
    p = sp.run(["big@example.org"], mail(3, 20000), preexec=small)
    ok(p.returncode == 75 and sp.entries() == old and
       sp.entries("tmp") == [], "a full disk while sending offline: exit "
       "75, nothing partial")
    sp.port(srv.port)
    p = sp.run(["-q"], preexec=small)
    ok(subjects(srv) == ["mail 1"] and sp.entries() == [],
       "the older entry still flushes, even with a full disk")
    srv.stop()


def killpg(pr):
    # The timer is cancelled as soon as the process is reaped.
    try:
        os.killpg(pr.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def crash(sp):
    """SIGKILL at each step of enqueue and of flush."""
    if shutil.which("strace") is None:
        ok(True, "# SKIP no strace")
        return
    srv = Server()
    sp.port(1, "")
    acked = []
    i = 1000
    for sc in ("openat", "write", "fsync", "rename", "close"):
        for when in range(1, 9):
            i += 1
            p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null",
                                "-e", "trace=%s" % sc, "-e",
                                "inject=%s:signal=KILL:when=%d" % (sc, when),
                                POSTERN, "-C", sp.rc, "-odq",
                                "k%d@example.org" % i],
                               input=mail(i), capture_output=True)
            if p.returncode == 0:
                acked.append("mail %d" % i)
    # Random kills too: the whole process group at a random moment.
    import random
    seed = int(os.environ.get("QUEUE_SEED", str(int(time.time()))))
    print("# random kills with QUEUE_SEED=%d" % seed)
    rnd = random.Random(seed)
    for k in range(12):
        i += 1
        pr = subprocess.Popen([POSTERN, "-C", sp.rc, "-odq",
                               "r%d@example.org" % i],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              start_new_session=True)
        t = threading.Timer(rnd.uniform(0, 0.03), killpg, (pr,))
        t.start()
        try:
            pr.communicate(mail(i), timeout=60)
        except (BrokenPipeError, ValueError):
            pr.wait()
        t.cancel()
        t.join()
        if pr.returncode == 0:
            acked.append("mail %d" % i)
    sp.port(srv.port)
    for k in range(4):
        pr = subprocess.Popen([POSTERN, "-C", sp.rc, "-q"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              start_new_session=True)
        t = threading.Timer(rnd.uniform(0, 0.2), killpg, (pr,))
        t.start()
        pr.wait()
        t.cancel()
        t.join()
    for sc in ("openat", "write", "fsync", "rename", "unlink", "sendmsg"):
        for when in range(1, 12, 2):
            subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                            "trace=%s" % sc, "-e",
                            "inject=%s:signal=KILL:when=%d" % (sc, when),
                            POSTERN, "-C", sp.rc, "-q"], capture_output=True)
    sp.run(["-q"])
    got = {}
    for m in srv.mails():
        got.setdefault(m["subject"], []).append(m)
    ok(all(1 <= len(got.get(a, [])) <= 2 for a in acked),
       "crash matrix: each of %d acknowledged mails delivered once or "
       "twice" % len(acked))
    whole = all(m["tail"].startswith("END-OF-MAIL-")
                for ms in got.values() for m in ms)
    ok(whole and all(len(set(m["sha"] for m in ms)) == 1
                     for ms in got.values()),
       "crash matrix: nothing delivered truncated, copies identical")
    srv.stop()


try:
    main()
finally:
    shutil.rmtree(WORK, ignore_errors=True)
print("1..%d" % n)
sys.exit(1 if failed else 0)
