#!/usr/bin/python3
"""posternd tests.  Prints TAP; see ../run.sh.

Every daemon listens on 127.0.0.1 on a port chosen at run time, delivers
through ./record (which writes what it was given into a directory), and
is stopped at the end whatever happens.  Time limits only ever guard
against a hang; no assertion depends on how fast something is.
"""

import base64
import json
import os
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("POSTERN_TOP", os.path.dirname(os.path.dirname(HERE)))
POSTERND = os.environ.get("POSTERND",
                          os.path.join(TOP, "usr.sbin/posternd/posternd"))
WORK = os.path.join(os.environ.get("WORK", os.path.join(TOP, "regress/work")),
                    "posternd")
PY = "/usr/bin/python3"
RECORD = os.path.join(HERE, "record")
SAFETY = 60.0

n = 0
failed = 0
daemons = []


def ok(cond, name, diag=None):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        if diag is not None:
            for line in str(diag).splitlines()[:30]:
                print("# " + line)
    sys.stdout.flush()
    return cond


def skip(name, why):
    global n
    n += 1
    print("ok %d - %s # SKIP %s" % (n, name, why))
    sys.stdout.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=SAFETY, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Daemon:
    """posternd on 127.0.0.1, delivering through ./record."""

    def __init__(self, name, *opts, command=None, port=None, env=None,
                 start=True):
        self.name = name
        self.dir = os.path.join(WORK, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.out = os.path.join(self.dir, "out")
        os.makedirs(self.out)
        os.chmod(self.out, 0o1777)
        self.log = os.path.join(self.dir, "log")
        self.port = port or free_port()
        if command is None:
            command = "%s %s %s -f %%F --" % (PY, RECORD, self.out)
        self.argv = [POSTERND, "--interface=127.0.0.1",
                     "--port=%d" % self.port, "--log=" + self.log,
                     "--command=" + command]
        if os.geteuid() == 0:
            self.argv.append("--chroot=" + EMPTY)
        self.argv += list(opts)
        self.p = None
        if start:
            self.start(env)

    def start(self, env=None):
        self.err = open(os.path.join(self.dir, "stderr"), "wb")
        self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                  stdout=self.err, stderr=self.err, env=env)
        daemons.append(self)
        if not wait_for(lambda: self.listening() or self.p.poll()
                        is not None):
            raise RuntimeError("posternd did not start")
        if self.p.poll() is not None:
            raise RuntimeError("posternd exited: %s" % self.stderr())

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
            return True
        except OSError:
            return False

    def stderr(self):
        with open(os.path.join(self.dir, "stderr"), "rb") as f:
            return f.read().decode(errors="replace")

    def logtext(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def records(self):
        recs = []
        for name in sorted(os.listdir(self.out)):
            if name.endswith(".json"):
                with open(os.path.join(self.out, name)) as f:
                    r = json.load(f)
                r["bytes"] = base64.b64decode(r["data"])
                recs.append(r)
        return recs

    def count(self):
        return len([x for x in os.listdir(self.out) if x.endswith(".json")])

    def wait_records(self, k):
        wait_for(lambda: self.count() >= k)
        return self.records()

    def children(self):
        """(pid, state, cmdline) of the daemon's direct children."""
        kids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    st = f.read()
                rest = st[st.rindex(")") + 2:].split()
                if int(rest[1]) != self.p.pid:
                    continue
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read().split(b"\0")
                kids.append((int(pid), rest[0], cmd))
            except (OSError, ValueError):
                pass
        return kids

    def zombies(self):
        return [k for k in self.children() if k[1] == "Z"]

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


class Raw:
    """A byte-exact SMTP client."""

    def __init__(self, port, tls=None):
        self.s = socket.create_connection(("127.0.0.1", port), SAFETY)
        self.s.settimeout(SAFETY)
        if tls is not None:
            self.s = tls.wrap_socket(self.s, server_hostname="localhost")
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def reply(self):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def eof(self):
        """True if the server closes (after any pending replies)."""
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except (socket.timeout, OSError):
            return False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def starttls(self, ctx):
        self.s = ctx.wrap_socket(self.s, server_hostname="localhost")
        self.buf = b""


def greet(port, ehlo="client.test", tls=None):
    c = Raw(port, tls)
    code, _ = c.reply()
    assert code == 220
    code, lines = c.cmd("EHLO " + ehlo)
    assert code == 250
    return c, lines


def lf(b):
    return b.replace(b"\r\n", b"\n")


def split_received(data):
    """The Received header we added, and the rest."""
    i = data.index(b"\n", data.index(b"\n", data.index(b"\n") + 1) + 1)
    return data[:i + 1], data[i + 1:]


MSG = (b"From: alice@example.org\r\nTo: bob@example.net\r\n"
       b"Subject: test\r\n\r\nbody line\r\n")


def smtp_send(port, frm, rcpts, msg=MSG, **kw):
    with smtplib.SMTP("127.0.0.1", port, timeout=SAFETY, **kw) as s:
        return s.sendmail(frm, rcpts, msg)


# ---------------------------------------------------------------- tests

def t_interface():
    p = subprocess.run([POSTERND, "--version"], capture_output=True)
    ok(p.returncode == 0 and p.stdout.startswith(b"posternd version "),
       "--version", p)
    p = subprocess.run([POSTERND, "--help"], capture_output=True)
    ok(p.returncode == 0 and all(o in p.stdout for o in [
        b"--inetd", b"--interface", b"--port", b"--log", b"--command",
        b"--auth", b"--tls-cert-file", b"--max-sessions"]),
       "--help lists msmtpd's options and the new ones", p)
    p = subprocess.run([POSTERND, "--port="], capture_output=True)
    ok(p.returncode != 0 and b"non-empty" in p.stderr,
       "an empty argument is refused, as msmtpd does", p)
    p = subprocess.run([POSTERND, "--nosuch"], capture_output=True)
    ok(p.returncode != 0, "an unknown option is refused", p)
    for cmd in ["cat > /tmp/x", "sh -c 'x' ; echo", "echo $(id)",
                "echo `id`", "cat | wc"]:
        p = subprocess.run([POSTERND, "--inetd", "--command=" + cmd],
                           capture_output=True, stdin=subprocess.DEVNULL,
                           timeout=SAFETY)
        ok(p.returncode != 0 and b"shell" in p.stderr,
           "--command needing a shell is refused at start-up: %s" % cmd, p)


def t_basic(d):
    c, lines = greet(d.port)
    ext = [x[4:] for x in lines[1:]]
    ok(lines[0] == "250-localhost" and "PIPELINING" in ext and
       "SIZE 10240000" in ext and "8BITMIME" in ext and
       "ENHANCEDSTATUSCODES" in ext and
       not any(x.startswith("AUTH") or x == "STARTTLS" for x in ext),
       "EHLO: PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES; no AUTH "
       "or STARTTLS unless configured", lines)
    c.cmd("QUIT")
    c.close()

    k = d.count()
    smtp_send(d.port, "alice@example.org",
              ["bob@example.net", "carol@example.com"])
    recs = d.wait_records(k + 1)
    r = recs[-1]
    ok(r["argv"] == ["-f", "alice@example.org", "--", "bob@example.net",
                     "carol@example.com"],
       "smtplib: envelope arrives as argv (-f SENDER -- RCPT...)", r["argv"])
    hdr, body = split_received(r["bytes"])
    ok(body == lf(MSG), "smtplib: the command gets the message bytes",
       repr(r["bytes"]))
    ok(hdr.startswith(b"Received: from client.test ([127.0.0.1])\n\tby "
                      b"localhost (posternd) with ESMTP;\n\t") or
       hdr.startswith(b"Received: from "),
       "a Received header comes first", hdr)
    ok(sorted(r["env"]) == ["HOME", "LOGNAME", "PATH", "USER"] or
       sorted(r["env"]) == ["HOME", "LOGNAME", "PATH", "TZ", "USER"],
       "the command gets a minimal environment", r["env"])
    fds = {k: v for k, v in r["fds"].items()}
    ok(sorted(fds) == ["0", "1", "2"] and fds["1"] == "/dev/null",
       "the command has only stdin, stdout (/dev/null) and stderr", fds)
    ok(fds.get("0", "").startswith("/memfd:posternd-message"),
       "stdin is the sealed message file", fds)

    k = d.count()
    smtp_send(d.port, "", ["bounce@example.net"])
    r = d.wait_records(k + 1)[-1]
    ok(r["argv"][:2] == ["-f", "MAILER-DAEMON"],
       "the null sender <> is passed as MAILER-DAEMON, as msmtpd does",
       r["argv"])

    # Two transactions on one connection, RSET in between.
    k = d.count()
    with smtplib.SMTP("127.0.0.1", d.port, timeout=SAFETY) as s:
        s.sendmail("a@example.org", ["one@example.net"], MSG)
        s.mail("x@example.org")
        s.rcpt("never@example.net")
        s.rset()
        s.sendmail("b@example.org", ["two@example.net"], MSG)
    recs = d.wait_records(k + 2)[k:]
    ok([r["argv"][-1] for r in recs] == ["one@example.net",
                                         "two@example.net"],
       "two transactions in a session; the one reset delivers nothing",
       [r["argv"] for r in recs])


def t_bytes(d, dcrlf):
    # Every byte value but CR and LF, dots to unstuff, long and empty lines.
    body = bytes(b for b in range(256) if b not in (10, 13))
    lines = [b"Subject: bytes", b"", b".leading dot", b"..two dots",
             b"...", b"", body, b"x" * 5000, b"end ."]
    msg = b"\r\n".join(lines) + b"\r\n"
    wire = b"\r\n".join(b"." + x if x.startswith(b".") else x
                        for x in lines) + b"\r\n.\r\n"
    for dd, conv, what in ((d, lf, "LF line ends (as msmtpd)"),
                           (dcrlf, lambda b: b, "--crlf: CRLF as sent")):
        k = dd.count()
        c, _ = greet(dd.port)
        c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
               "DATA\r\n")
        codes = [c.reply()[0] for _ in range(3)]
        c.send(wire)
        code, _ = c.reply()
        c.cmd("QUIT")
        c.close()
        r = dd.wait_records(k + 1)[-1] if code == 250 else {"bytes": b"\n\n\n"}
        hdr, got = split_received(r["bytes"])
        ok(codes == [250, 250, 354] and code == 250 and got == conv(msg),
           "the command gets exactly the bytes sent, dot-unstuffed, %s"
           % what, (codes, code, got[:200]))


def t_clients(d):
    k = d.count()
    p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(d.port), "--from", "s@example.org", "--to",
                        "r1@example.net,r2@example.net", "--pipeline",
                        "--timeout", "20"], capture_output=True, timeout=60)
    recs = d.wait_records(k + 1)
    ok(p.returncode == 0 and len(recs) == k + 1 and
       recs[-1]["argv"] == ["-f", "s@example.org", "--", "r1@example.net",
                            "r2@example.net"],
       "swaks with PIPELINING", p.stdout.decode()[-600:])
    k = d.count()
    p = subprocess.run(["msmtp", "--host=127.0.0.1", "--port=%d" % d.port,
                        "--auth=off", "--tls=off", "--from=m@example.org",
                        "--", "t@example.net"], input=MSG,
                       capture_output=True, timeout=60)
    recs = d.wait_records(k + 1)
    ok(p.returncode == 0 and len(recs) == k + 1 and
       recs[-1]["argv"] == ["-f", "m@example.org", "--", "t@example.net"],
       "msmtp", p)


def t_pipelining(d):
    k = d.count()
    c = Raw(d.port)
    c.reply()
    c.send("EHLO p.test\r\nMAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME"
           "\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\n"
           "DATA\r\n")
    codes = [c.reply()[0] for _ in range(5)]
    c.send("Subject: p\r\n\r\npipelined\r\n.\r\nMAIL FROM:<d@example.org>\r\n"
           "RCPT TO:<e@example.net>\r\nDATA\r\n")
    codes += [c.reply()[0] for _ in range(4)]
    c.send("Subject: q\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
    codes += [c.reply()[0] for _ in range(2)]
    ok(codes == [250, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221],
       "pipelined commands each get their reply in order (with SIZE= and "
       "BODY=)", codes)
    recs = d.wait_records(k + 2)[k:]
    ok([r["argv"] for r in recs] ==
       [["-f", "a@example.org", "--", "b@example.net", "c@example.net"],
        ["-f", "d@example.org", "--", "e@example.net"]],
       "pipelined transactions deliver with their own envelopes",
       [r["argv"] for r in recs])


def t_params(d):
    c, _ = greet(d.port)
    r = [c.cmd("MAIL FROM:<a@example.org> SIZE=99999999999")[0],
         c.cmd("MAIL FROM:<a@example.org> FOO=bar")[0],
         c.cmd("MAIL FROM:<a@example.org> BODY=9BIT")[0],
         c.cmd("MAIL FROM:<a@example.org> BODY=7BIT SMTPUTF8")[0],
         c.cmd("RCPT TO:<b@example.net> NOTIFY=NEVER")[0],
         c.cmd("RCPT TO:<b@example.net>")[0]]
    c.close()
    ok(r == [552, 555, 501, 250, 555, 250],
       "SIZE over the limit 552, unknown parameters 555, BODY=7BIT accepted",
       r)


GOOD = ['"john doe"@example.org', "user+tag@example.org",
        "o'brien@example.org", "x@[127.0.0.1]", "x@[IPv6:::1]",
        "user@xn--bcher-kva.example", "j\u00f6rg@ex\u00e4mple.org",
        "postmaster", "a.b.c@sub-domain.example.org", "!#$%&*+/=?^_`{|}~@x.org",
        '"quoted\\"quote"@example.org', "-leading-dash@example.org"]
BAD = ["a@b@c", "a..b@example.org", ".a@example.org", "a.@example.org",
       "a@-x.org", "a@x-.org", "a@x_y.org", "a b@example.org", "a@example.",
       '"open@example.org', "a@[1.2.3]", "a@[300.1.1.1]", "(c)a@example.org",
       "a@example.org,b@example.org", "a\\b@example.org",
       "x" * 250 + "@example.org"]


def t_addresses(d):
    c, _ = greet(d.port)
    c.cmd("MAIL FROM:<s@example.org>")
    bad = [a for a in GOOD if c.cmd("RCPT TO:<%s>" % a)[0] != 250]
    ok(not bad, "RFC 5321 addresses are accepted (quoted, +, ', literals, "
       "UTF-8, Postmaster, leading -)", bad)
    wrong = [a for a in BAD if c.cmd("RCPT TO:<%s>" % a)[0] != 501]
    ok(not wrong, "invalid addresses are refused with 501", wrong)
    k = d.count()
    c.send("DATA\r\n")
    c.reply()
    c.send("Subject: a\r\n\r\nx\r\n.\r\n")
    code, _ = c.reply()
    c.close()
    recs = d.wait_records(k + 1)
    ok(code == 250 and recs[-1]["argv"][3:] == GOOD,
       "every accepted address reaches the command as one argument",
       recs[-1]["argv"] if recs else code)
    c, _ = greet(d.port)
    r1 = c.cmd("MAIL FROM:<@relay.example,@r2.example:u@example.org>")[0]
    r2 = c.cmd("RCPT TO:<@relay.example:v@example.net>")[0]
    k = d.count()
    c.send("DATA\r\n")
    c.reply()
    c.send("\r\n.\r\n")
    code, _ = c.reply()
    c.close()
    recs = d.wait_records(k + 1)
    ok([r1, r2, code] == [250, 250, 250] and
       recs[-1]["argv"] == ["-f", "u@example.org", "--", "v@example.net"],
       "source routes are accepted and dropped (RFC 5321 appendix C)",
       recs[-1]["argv"] if recs else (r1, r2, code))


HOSTILE = ['"$(touch %s)"@example.org', "`touch%%20%s`@example.org",
           '"a;touch %s"@example.org', '"a b  c"@example.org',
           "'single'@example.org", "-oQ/tmp/x@example.org",
           "--help@example.org", '"|touch %s"@example.org']


def t_hostile(d):
    canary = os.path.join(d.dir, "pwned")
    rcpts = [(a % canary) if "%s" in a else a.replace("%%", "%")
             for a in HOSTILE]
    c, _ = greet(d.port)
    c.cmd("MAIL FROM:<s@example.org>")
    codes = [c.cmd("RCPT TO:<%s>" % a)[0] for a in rcpts]
    accepted = [a for a, code in zip(rcpts, codes) if code == 250]
    k = d.count()
    c.send("DATA\r\n")
    c.reply()
    c.send("Subject: h\r\n\r\nx\r\n.\r\n")
    code, _ = c.reply()
    c.close()
    recs = d.wait_records(k + 1)
    ok(code == 250 and recs[-1]["argv"] ==
       ["-f", "s@example.org", "--"] + accepted and
       all(x in (250, 501) for x in codes),
       "hostile recipients ($(), backticks, quotes, spaces, leading -) "
       "arrive as single arguments after -- or are refused",
       (codes, recs[-1]["argv"] if recs else None))
    ok(not os.path.exists(canary), "nothing in an address was executed")
    c, _ = greet(d.port)
    r = c.cmd("MAIL FROM:<-oQ/tmp@example.org>")[0]
    r2 = c.cmd("MAIL FROM:<\"$(touch %s)\"@example.org>" % canary)[0]
    c.close()
    ok(r == 553 and r2 == 250,
       "a sender starting with '-' is refused (it follows -f); a quoted "
       "$() sender is just an address", (r, r2))


SMUGGLE = [b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r", b"\r.\r\n",
           b"\r\n.\n", b"\n.\r", b"\r\n\r.\r\n", b".\n", b"\r\n.\n\r\n",
           b"\r\n.\r\r\n", b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"]


def t_smuggling(d):
    for seq in SMUGGLE:
        k = d.count()
        c, _ = greet(d.port)
        c.send("MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>"
               "\r\nDATA\r\n")
        [c.reply() for _ in range(3)]
        c.send(b"Subject: first\r\n\r\nbody" + seq +
               b"MAIL FROM:<mallory@evil.example>\r\n"
               b"RCPT TO:<victim@example.net>\r\nDATA\r\n"
               b"Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n")
        first, _ = c.reply()
        # Then the same client sends a clean message.
        c.send("MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>"
               "\r\nDATA\r\n")
        codes = [c.reply()[0] for _ in range(3)]
        c.send("Subject: clean\r\n\r\nclean\r\n.\r\n")
        last, _ = c.reply()
        c.cmd("QUIT")
        c.close()
        wait_for(lambda: d.count() >= k + 1 + (first == 250), SAFETY)
        recs = d.records()[k:]
        argvs = [r["argv"] for r in recs]
        bare = b"\x00" not in seq
        good = (all(a == ["-f", "alice@example.org", "--", "bob@example.net"]
                    for a in argvs) and
                (first == 554 if bare else first == 250) and
                last == 250 and codes == [250, 250, 354] and
                len(recs) == 1 + (first == 250))
        ok(good, "smuggling %r: the command never sees the smuggled "
           "envelope%s" % (seq, ", the message is refused" if bare else
                          ", it is only data"), (first, last, argvs))


def t_bare_command(d):
    for seq in (b"\n", b"\r", b"\r\r\n"):
        c, _ = greet(d.port)
        k = d.count()
        c.send(b"MAIL FROM:<a@example.org>" + seq +
               b"RCPT TO:<b@example.net>\r\n")
        code, _ = c.reply()
        closed = c.eof()
        c.close()
        ok(code == 500 and closed and d.count() == k,
           "bare %r in a command: 500 and the connection is closed" % seq,
           (code, closed))


def t_disconnect(d):
    k = d.count()
    before = d.logtext().count("client left during DATA")
    c, _ = greet(d.port)
    c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
           "DATA\r\n")
    [c.reply() for _ in range(3)]
    c.send("Subject: trunc\r\n\r\npartial body\r\nmore")
    time.sleep(0.2)
    c.close()
    wait_for(lambda: d.logtext().count("client left during DATA") > before)
    smtp_send(d.port, "a@example.org", ["after@example.net"])
    recs = d.wait_records(k + 1)[k:]
    ok([r["argv"][-1] for r in recs] == ["after@example.net"],
       "a client that disconnects mid-DATA delivers nothing",
       [r["argv"] for r in recs])


def t_exitcodes(d):
    want = [("exit-0", 250), ("exit-75", 451), ("exit-69", 451),
            ("exit-65", 554), ("exit-1", 554), ("signal", 554),
            ("hang", 451)]
    c, _ = greet(d.port)
    got = []
    for who, _ in want:
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<%s@example.net>" % who)
        c.cmd("DATA")
        code, lines = c.cmd("Subject: x\r\n\r\nx\r\n.")
        got.append((who, code))
    c.cmd("QUIT")
    c.close()
    ok(got == want, "command exit 0 -> 250, 75 and 69 -> 451, 65 and 1 -> "
       "554, killed -> 554, never exits -> killed at --command-timeout, "
       "451", got)
    z = wait_for(lambda: not d.zombies() and not [
        k for k in d.children() if b"record" in b" ".join(k[2])], SAFETY)
    ok(z, "no zombie and no command left behind", d.children())


def t_command_state(d):
    """What the command starts with besides its descriptors."""
    k = d.count()
    smtp_send(d.port, "a@example.org", ["state@example.net"])
    r = d.wait_records(k + 1)[k]
    blk = int(r["sigblk"], 16)
    ign = int(r["sigign"], 16)
    # Python ignores SIGPIPE and SIGXFSZ itself; SIGHUP is the listener's.
    hup = 1 << (signal.SIGHUP - 1)
    ok(blk == 0 and not ign & hup,
       "the command starts with no signal blocked and SIGHUP at its default",
       (r["sigblk"], r["sigign"]))
    ok(r["sid"] == r["pid"] and r["pgid"] == r["pid"],
       "the command leads a session and process group of its own",
       (r["pid"], r["sid"], r["pgid"]))


def t_command_inherited():
    """What posternd inherits does not reach the command."""
    # Started with signals ignored, as under nohup or a careless parent:
    # exec keeps SIG_IGN, so posternd must undo it for the command.
    d = Daemon("ignored", start=False)
    d.argv = ["/bin/sh", "-c", "trap '' QUIT USR1 ALRM TSTP; exec \"$@\"",
              "sh"] + d.argv
    d.start()
    smtp_send(d.port, "a@example.org", ["ign@example.net"])
    r = d.wait_records(1)[0]
    ign = int(r["sigign"], 16)
    bits = [s for s in (signal.SIGQUIT, signal.SIGUSR1, signal.SIGALRM,
                        signal.SIGTSTP) if ign & (1 << (s - 1))]
    ok(not bits, "signals posternd was started with ignored are at their "
       "default in the command", (r["sigign"], bits))
    d.stop()

    # Where close_range(2) fails (kernels before 5.9), the command still
    # gets no descriptor of the listener's.
    helper = os.path.join(WORK, "noclose_range")
    p = subprocess.run(["cc", "-o", helper,
                        os.path.join(HERE, "noclose_range.c")],
                       capture_output=True)
    if p.returncode != 0:
        ok(False, "noclose_range builds", p.stderr.decode())
        return
    # Descriptor 7, open without close-on-exec, is posternd's inheritance:
    # only the close in the command's child keeps it from the command.
    d = Daemon("noclose", start=False)
    d.argv = [helper, "/bin/sh", "-c", "exec 7</dev/null; exec \"$@\"",
              "sh"] + d.argv
    d.start()
    smtp_send(d.port, "a@example.org", ["fds@example.net"])
    r = d.wait_records(1)[0]
    ok(sorted(r["fds"]) == ["0", "1", "2"] and
       proc_status(d.p.pid).get("Seccomp") == "2",
       "without close_range the command still has only stdin, stdout and "
       "stderr", r["fds"])
    d.stop()


def t_command_unstartable():
    """The command goes, or loses its x bit, while posternd runs."""
    cdir = os.path.join(WORK, "unstartable-cmd")
    shutil.rmtree(cdir, ignore_errors=True)
    os.makedirs(cdir)
    os.chmod(cdir, 0o755)
    cmd = os.path.join(cdir, "deliver")

    def install():
        with open(cmd + ".new", "w") as f:
            f.write("#!/bin/sh\nexec %s %s %s \"$@\"\n" %
                    (PY, RECORD, d.out))
        os.chmod(cmd + ".new", 0o755)
        os.rename(cmd + ".new", cmd)

    d = Daemon("unstartable", command="%s -f %%F --" % cmd, start=False)
    install()
    d.start()
    smtp_send(d.port, "a@example.org", ["first@example.net"])
    d.wait_records(1)
    got = []
    for how in ("removed", "not executable", "not a program"):
        if how == "removed":
            os.unlink(cmd)
        elif how == "not executable":
            install()
            os.chmod(cmd, 0o644)
        else:
            with open(cmd, "wb") as f:
                f.write(b"\x7fELF garbage")
            os.chmod(cmd, 0o755)
        try:
            smtp_send(d.port, "a@example.org", ["lost@example.net"])
            got.append((how, 250))
        except smtplib.SMTPDataError as e:
            got.append((how, e.smtp_code, e.smtp_error[:32]))
    ok(got == [(h, 451, b"4.3.0 Cannot start pipe command")
               for h in ("removed", "not executable", "not a program")],
       "a command that cannot be started: 451 4.3.0 for each message", got)
    ok(d.logtext().count("cannot start pipe command") >= 3,
       "each failed start is logged with its reason",
       d.logtext()[-600:])
    install()
    smtp_send(d.port, "a@example.org", ["again@example.net"])
    recs = d.wait_records(2)
    ok(d.p.poll() is None and [r["argv"][-1] for r in recs] ==
       ["first@example.net", "again@example.net"],
       "posternd goes on delivering once the command is back, and none "
       "of the refused messages reached anything", [r["argv"] for r in recs])
    ok(wait_for(lambda: not d.zombies()), "no zombie of a failed start",
       d.children())
    d.stop()


def t_received(d):
    k = d.count()
    for helo in ["[127.0.0.1]", "evil(x)\tX-Forged:", "a:b"]:
        c = Raw(d.port)
        c.reply()
        c.cmd("EHLO " + helo)
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<b@example.net>")
        c.cmd("DATA")
        c.cmd("Subject: r\r\n\r\nx\r\n.")
        c.close()
    recs = d.wait_records(k + 3)[k:]
    good = True
    for r in recs:
        hdr, _ = split_received(r["bytes"])
        lines = hdr.split(b"\n")[:-1]
        good = good and (len(lines) == 3 and lines[0].startswith(
            b"Received: from ") and all(x.startswith(b"\t")
                                        for x in lines[1:]))
    froms = [split_received(r["bytes"])[0].split(b"\n")[0] for r in recs]
    ok(good and froms == [b"Received: from [127.0.0.1] ([127.0.0.1])",
                          b"Received: from invalid ([127.0.0.1])",
                          b"Received: from invalid ([127.0.0.1])"],
       "the Received header is one header whatever EHLO says", froms)


def t_timeouts():
    d = Daemon("timeouts", "--timeout=1", "--session-timeout=3")
    c = Raw(d.port)
    c.reply()
    code, lines = c.reply()
    ok(code == 421 and "Timeout" in lines[0] and c.eof(),
       "an idle client gets 421 after --timeout", lines)
    c.close()
    c = Raw(d.port)
    c.reply()
    got = None
    try:
        for ch in "EHLO slow.client.example.org\r\n":
            c.send(ch)
            time.sleep(0.3)
            if c.s.recv(65536, socket.MSG_DONTWAIT | socket.MSG_PEEK):
                break
    except (BlockingIOError, OSError):
        pass
    try:
        got = c.reply()
    except (EOFError, OSError) as e:
        got = e
    ok(isinstance(got, tuple) and got[0] == 421,
       "a client sending a byte at a time hits the per-command deadline",
       got)
    c.close()
    c, _ = greet(d.port)
    codes = []
    try:
        for _ in range(20):
            codes.append(c.cmd("NOOP")[0])
            if codes[-1] != 250:
                break
            time.sleep(0.5)
    except EOFError:
        codes.append("eof")
    ok(codes[-1] == 421 and codes.count(250) < 20,
       "a busy session still ends at --session-timeout", codes)
    c.close()
    d.stop()


def t_limits():
    d = Daemon("limits", "--max-line-length=1000", "--max-message-size=5000",
               "--max-sessions=5")
    c, _ = greet(d.port)
    c.send("NOOP " + "x" * 3000 + "\r\n")
    code, _ = c.reply()
    ok(code == 500 and c.eof(), "an over-long command line: 500, closed",
       code)
    c.close()
    k = d.count()
    for size, what in ((1200, "line"), (6000, "message"),
                       (6000, "message of empty lines")):
        c, _ = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<b@example.net>")
        c.cmd("DATA")
        if what == "line":
            body = "x" * size + "\r\n"
        elif what == "message":
            body = ("y" * 70 + "\r\n") * (size // 72 + 1)
        else:
            # Only line ends: they count towards the size too.
            body = "\r\n" * (size // 2)
        code, lines = c.cmd("Subject: l\r\n\r\n" + body + ".")
        nxt = c.cmd("NOOP")[0]
        c.close()
        ok(code in (552, 554) and nxt == 250 and d.count() == k,
           "a %s over the limit is refused (%d), the session goes on"
           % (what, code), lines)

    # 10,000 recipients, pipelined.
    k = d.count()
    c, _ = greet(d.port)
    c.send("MAIL FROM:<a@example.org>\r\n" +
           "".join("RCPT TO:<r%d@example.net>\r\n" % i
                   for i in range(10000)) + "DATA\r\n")
    codes = [c.reply()[0] for _ in range(10002)]
    c.send("Subject: many\r\n\r\nx\r\n.\r\n")
    code, _ = c.reply()
    c.close()
    recs = d.wait_records(k + 1)
    ok(codes[0] == 250 and codes[1:101] == [250] * 100 and
       codes[101:10001] == [452] * 9900 and codes[10001] == 354 and
       code == 250 and len(recs[-1]["argv"]) == 3 + 100,
       "10,000 RCPT: the first 100 accepted, the rest 452, 100 delivered",
       (codes[:3], codes[99:103], code))

    # max-sessions + 1 idle connections
    idle = []
    for _ in range(5):
        c = Raw(d.port)
        c.reply()
        idle.append(c)
    extra = Raw(d.port)
    try:
        line = extra.line()
    except (EOFError, OSError) as e:
        line = repr(e)
    ok(line.startswith("421 "), "max-sessions + 1: the next client gets 421 "
       "at once", line)
    extra.close()
    idle[0].close()

    def served():
        try:
            c = Raw(d.port)
            code, _ = c.reply()
            c.close()
            return code == 220
        except (EOFError, OSError):
            return False
    ok(wait_for(served, SAFETY), "a freed slot serves the next client")
    for c in idle:
        c.close()
    wait_for(served, SAFETY)
    # Too many errors
    c, _ = greet(d.port)
    codes = [c.cmd("BOGUS")[0] for _ in range(20)]
    code, _ = c.reply()
    ok(codes == [500] * 20 and code == 421 and c.eof(),
       "20 bad commands: 421 and the connection is closed", (codes, code))
    c.close()
    ok(wait_for(lambda: not d.zombies(), SAFETY), "no zombies after the limit "
       "tests", d.zombies())
    d.stop()


def pki(dirname):
    key = os.path.join(dirname, "key.pem")
    cert = os.path.join(dirname, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj",
                    "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2",
                    "-keyout", key, "-out", cert], check=True,
                   capture_output=True)
    return cert, key


def t_auth():
    pw = os.path.join(WORK, "password.sh")
    with open(pw, "w") as f:
        f.write("#!/bin/sh\necho s3cret\n")
    os.chmod(pw, 0o700)
    d = Daemon("auth", "--auth=alice," + pw, "--auth-delay=50")
    c, lines = greet(d.port)
    ok("250-AUTH PLAIN LOGIN" in lines or "250 AUTH PLAIN LOGIN" in lines,
       "EHLO offers AUTH PLAIN LOGIN with --auth", lines)
    r = c.cmd("MAIL FROM:<a@example.org>")[0]
    ok(r == 530, "MAIL before AUTH: 530", r)
    c.close()
    k = d.count()
    with smtplib.SMTP("127.0.0.1", d.port, timeout=SAFETY) as s:
        s.login("alice", "s3cret")
        s.sendmail("a@example.org", ["plain@example.net"], MSG)
    with smtplib.SMTP("127.0.0.1", d.port, timeout=SAFETY) as s:
        s.ehlo()
        s.esmtp_features["auth"] = "LOGIN"
        s.login("alice", "s3cret")
        s.sendmail("a@example.org", ["login@example.net"], MSG)
    recs = d.wait_records(k + 2)[k:]
    ok([r["argv"][-1] for r in recs] == ["plain@example.net",
                                         "login@example.net"],
       "smtplib AUTH PLAIN and AUTH LOGIN", [r["argv"] for r in recs])
    hdr, _ = split_received(recs[0]["bytes"]) if recs else (b"", b"")
    ok(b"with ESMTPA;" in hdr, "Received says ESMTPA", hdr)
    k = d.count()
    p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(d.port), "--auth", "PLAIN", "--auth-user",
                        "alice", "--auth-password", "s3cret", "--from",
                        "a@example.org", "--to", "swaks@example.net"],
                       capture_output=True, timeout=60)
    ok(p.returncode == 0 and d.wait_records(k + 1)[-1]["argv"][-1] ==
       "swaks@example.net", "swaks AUTH PLAIN", p.stdout.decode()[-400:])

    # 20 bad attempts from several connections while others keep working.
    results = []
    good = []
    attempts = 0
    while attempts < 20:
        c, _ = greet(d.port)
        for _ in range(3):
            if attempts >= 20:
                break
            blob = base64.b64encode(b"\0alice\0guess%d" % attempts).decode()
            code, lines = c.cmd("AUTH PLAIN " + blob)
            attempts += 1
            results.append(code)
            if code == 421:
                break
        c.close()
        if attempts in (6, 12, 18):
            k = d.count()
            try:
                with smtplib.SMTP("127.0.0.1", d.port,
                                  timeout=SAFETY) as s:
                    s.login("alice", "s3cret")
                    s.sendmail("a@example.org", ["ok@example.net"], MSG)
                good.append(len(d.wait_records(k + 1)) == k + 1)
            except smtplib.SMTPException as e:
                good.append(e)
    ok(results == ([535, 535, 421] * 7)[:20],
       "20 bad AUTH attempts: 535, and 421 with the connection closed at "
       "--max-auth-failures", results)
    ok(good == [True, True, True], "the right password keeps working "
       "in between", good)
    c, _ = greet(d.port)
    code = c.cmd("AUTH PLAIN " + base64.b64encode(
        b"bob\0alice\0s3cret").decode())[0]
    code2 = c.cmd("AUTH PLAIN " + base64.b64encode(
        b"\0alice\0s3cret\0").decode())[0]
    code3 = c.cmd("AUTH PLAIN !!!")[0]
    code4 = c.cmd("AUTH CRAM-MD5")[0]
    c.close()
    ok([code, code2, code3, code4] == [535, 501, 501, 504],
       "another authorization identity, malformed and invalid base64, "
       "unknown mechanism", [code, code2, code3, code4])
    d.stop()
    return pw


def t_tls(pw):
    cert, key = pki(WORK)
    ctx = ssl.create_default_context(cafile=cert)
    d = Daemon("starttls", "--tls-cert-file=" + cert,
               "--tls-key-file=" + key, "--auth=alice," + pw,
               "--auth-delay=50")
    c, lines = greet(d.port)
    ok("STARTTLS" in [x[4:] for x in lines] and
       not any("AUTH" in x for x in lines),
       "STARTTLS offered, AUTH only after it", lines)
    code = c.cmd("AUTH PLAIN " + base64.b64encode(
        b"\0alice\0s3cret").decode())[0]
    ok(code == 530, "AUTH before STARTTLS: 530", code)
    # Commands sent with STARTTLS in the clear are thrown away.
    c.send("STARTTLS\r\nRSET\r\n")
    code, _ = c.reply()
    c.starttls(ctx)
    code2, lines = c.cmd("EHLO tls.test")
    ok(code == 220 and code2 == 250 and
       any("AUTH PLAIN LOGIN" in x for x in lines) and
       not any("STARTTLS" in x for x in lines),
       "STARTTLS: what was pipelined after it in the clear is discarded",
       (code, lines))
    c.close()
    k = d.count()
    with smtplib.SMTP("127.0.0.1", d.port, timeout=SAFETY) as s:
        s.starttls(context=ctx)
        s.login("alice", "s3cret")
        s.sendmail("a@example.org", ["tls@example.net"], MSG)
    r = d.wait_records(k + 1)[-1]
    ok(r["argv"][-1] == "tls@example.net" and
       b"with ESMTPSA;" in split_received(r["bytes"])[0],
       "smtplib STARTTLS + AUTH; Received says ESMTPSA", r["argv"])
    k = d.count()
    p = subprocess.run(["msmtp", "--host=127.0.0.1", "--port=%d" % d.port,
                        "--tls=on", "--tls-starttls=on",
                        "--tls-trust-file=" + cert, "--auth=plain",
                        "--user=alice", "--passwordeval=echo s3cret",
                        "--from=m@example.org", "--", "msmtp@example.net"],
                       input=MSG, capture_output=True, timeout=60)
    ok(p.returncode == 0 and
       d.wait_records(k + 1)[-1]["argv"][-1] == "msmtp@example.net",
       "msmtp STARTTLS + AUTH PLAIN, certificate verified", p)
    k = d.count()
    p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(d.port), "--tls", "--auth", "LOGIN",
                        "--auth-user", "alice", "--auth-password", "s3cret",
                        "--from", "a@example.org", "--to",
                        "swaks@example.net"], capture_output=True,
                       timeout=60)
    ok(p.returncode == 0 and
       d.wait_records(k + 1)[-1]["argv"][-1] == "swaks@example.net",
       "swaks STARTTLS + AUTH LOGIN", p.stdout.decode()[-400:])
    d.stop()

    d = Daemon("smtps", "--tls-cert-file=" + cert, "--tls-key-file=" + key,
               "--tls-starttls=off", "--timeout=10")
    k = d.count()
    with smtplib.SMTP_SSL("127.0.0.1", d.port, timeout=SAFETY,
                          context=ctx) as s:
        code, lines = s.ehlo()
        s.sendmail("a@example.org", ["smtps@example.net"], MSG)
    r = d.wait_records(k + 1)[-1]
    ok(r["argv"][-1] == "smtps@example.net" and b"STARTTLS" not in lines and
       b"with ESMTPS;" in split_received(r["bytes"])[0],
       "implicit TLS with smtplib; no STARTTLS offered", lines)
    k = d.count()
    p = subprocess.run(["msmtp", "--host=127.0.0.1", "--port=%d" % d.port,
                        "--tls=on", "--tls-starttls=off",
                        "--tls-trust-file=" + cert, "--auth=off",
                        "--from=m@example.org", "--", "msmtps@example.net"],
                       input=MSG, capture_output=True, timeout=60)
    ok(p.returncode == 0 and
       d.wait_records(k + 1)[-1]["argv"][-1] == "msmtps@example.net",
       "msmtp with implicit TLS", p)
    k = d.count()
    p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(d.port), "--tlsc", "--from", "a@example.org",
                        "--to", "swaks@example.net"], capture_output=True,
                       timeout=60)
    ok(p.returncode == 0 and
       d.wait_records(k + 1)[-1]["argv"][-1] == "swaks@example.net",
       "swaks with implicit TLS", p.stdout.decode()[-400:])
    c = Raw(d.port)
    c.send("EHLO plain.text\r\n")
    ok(c.eof(), "plain text on the implicit TLS port is dropped (at the "
       "latest at --timeout)")
    c.close()
    d.stop()


def t_tls_matrix(pw):
    """The combinations t_tls leaves: STARTTLS without AUTH, implicit TLS
    with AUTH."""
    cert = os.path.join(WORK, "cert.pem")
    key = os.path.join(WORK, "key.pem")
    ctx = ssl.create_default_context(cafile=cert)
    d = Daemon("starttls-noauth", "--tls-cert-file=" + cert,
               "--tls-key-file=" + key)
    k = d.count()
    p = subprocess.run(["msmtp", "--host=127.0.0.1", "--port=%d" % d.port,
                        "--tls=on", "--tls-starttls=on",
                        "--tls-trust-file=" + cert, "--auth=off",
                        "--from=m@example.org", "--", "st@example.net"],
                       input=MSG, capture_output=True, timeout=60)
    q = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(d.port), "--tls", "--from", "a@example.org",
                        "--to", "sw@example.net"], capture_output=True,
                       timeout=60)
    recs = d.wait_records(k + 2)[k:]
    ok(p.returncode == 0 and q.returncode == 0 and
       sorted(r["argv"][-1] for r in recs) == ["st@example.net",
                                               "sw@example.net"],
       "STARTTLS without AUTH: msmtp and swaks", (p, q.returncode))
    d.stop()
    d = Daemon("smtps-auth", "--tls-cert-file=" + cert,
               "--tls-key-file=" + key, "--tls-starttls=off",
               "--auth=alice," + pw, "--auth-delay=50")
    k = d.count()
    with smtplib.SMTP_SSL("127.0.0.1", d.port, timeout=SAFETY,
                          context=ctx) as s:
        s.login("alice", "s3cret")
        s.sendmail("a@example.org", ["py@example.net"], MSG)
    p = subprocess.run(["msmtp", "--host=127.0.0.1", "--port=%d" % d.port,
                        "--tls=on", "--tls-starttls=off",
                        "--tls-trust-file=" + cert, "--auth=login",
                        "--user=alice", "--passwordeval=echo s3cret",
                        "--from=m@example.org", "--", "ms@example.net"],
                       input=MSG, capture_output=True, timeout=60)
    q = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                        str(d.port), "--tlsc", "--auth", "PLAIN",
                        "--auth-user", "alice", "--auth-password", "s3cret",
                        "--from", "a@example.org", "--to", "sw@example.net"],
                       capture_output=True, timeout=60)
    recs = d.wait_records(k + 3)[k:]
    ok(p.returncode == 0 and q.returncode == 0 and
       sorted(r["argv"][-1] for r in recs) == ["ms@example.net",
                                               "py@example.net",
                                               "sw@example.net"],
       "implicit TLS with AUTH: smtplib, msmtp (LOGIN) and swaks (PLAIN)",
       (p, q.returncode))
    d.stop()


def t_inetd():
    out = os.path.join(WORK, "inetd-out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    a, b = socket.socketpair()
    argv = [POSTERND, "--inetd",
            "--command=%s %s %s -f %%F --" % (PY, RECORD, out)]
    if os.geteuid() == 0:
        argv.append("--chroot=" + EMPTY)
    p = subprocess.Popen(argv, stdin=b, stdout=b,
                         stderr=subprocess.DEVNULL)
    b.close()
    a.settimeout(SAFETY)
    c = Raw.__new__(Raw)
    c.s = a
    c.buf = b""
    code = c.reply()[0]
    c.send("EHLO inetd.test\r\nMAIL FROM:<i@example.org>\r\n"
           "RCPT TO:<j@example.net>\r\nDATA\r\n")
    codes = [code] + [c.reply()[0] for _ in range(4)]
    c.send("Subject: inetd\r\n\r\nx\r\n.\r\nQUIT\r\n")
    codes += [c.reply()[0] for _ in range(2)]
    try:
        rc = p.wait(SAFETY)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    a.close()
    recs = [f for f in os.listdir(out) if f.endswith(".json")]
    ok(codes == [220, 250, 250, 250, 354, 250, 221] and rc == 0 and
       len(recs) == 1, "--inetd through a socketpair: one session, "
       "delivered, exits 0", (codes, rc, recs))
    if recs:
        with open(os.path.join(out, recs[0])) as f:
            r = json.load(f)
        hdr, _ = split_received(base64.b64decode(r["data"]))
        ok(r["argv"] == ["-f", "i@example.org", "--", "j@example.net"] and
           b"(unknown)" in hdr, "--inetd: envelope as argv; an unknown peer "
           "in Received", (r["argv"], hdr))
    else:
        ok(False, "--inetd: envelope as argv")


def t_activation():
    out = os.path.join(WORK, "activation-out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    fd = ls.fileno()
    argv = [POSTERND, "--interface=192.0.2.1", "--port=1",
            "--command=%s %s %s -f %%F --" % (PY, RECORD, out)]
    if os.geteuid() == 0:
        argv.append("--chroot=" + EMPTY)

    # systemd's hand-over: the socket as fd 3, LISTEN_PID naming the
    # process that gets it (set in the child, inherited by exec).
    def child():
        os.dup2(fd, 3)
        os.environ["LISTEN_PID"] = str(os.getpid())
        os.environ["LISTEN_FDS"] = "1"
    err = open(os.path.join(WORK, "activation.err"), "wb")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=err,
                         preexec_fn=child, pass_fds=(3,))
    ls.close()
    try:
        smtp_send(port, "sa@example.org", ["act@example.net"])
        wait_for(lambda: os.listdir(out))
        good = len(os.listdir(out)) == 1
    except (OSError, smtplib.SMTPException) as e:
        good = e
    p.terminate()
    try:
        rc = p.wait(SAFETY)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    ok(good is True and rc == 0, "systemd socket activation: serves the "
       "passed socket (LISTEN_FDS), ignores --interface, stops on SIGTERM",
       (good, rc))


def proc_status(pid):
    st = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            st[k] = v.strip()
    return st


def t_sandbox_live(pw):
    d = Daemon("live", "--auth=alice," + pw)
    c, _ = greet(d.port)
    sess = wait_for(lambda: [k for k in d.children()
                             if b"session" in k[2]], 5)
    auth = [k for k in d.children() if b"auth" in k[2]]
    # Sessions are forked by the session server with the listener as their
    # parent, so all three are the listener's children.
    srv = [k for k in d.children() if b"session-server" in k[2]]
    if not sess or not auth or not srv:
        ok(False, "live: session, session server and auth processes found",
           d.children())
        d.stop()
        return
    for (pid, _, _), role in ((sess[0], "session"), (auth[0], "auth"),
                              (srv[0], "session server")):
        st = proc_status(pid)
        ok(st.get("Seccomp") == "2" and st.get("NoNewPrivs") == "1",
           "live: the %s process runs under its seccomp filter, no new "
           "privileges" % role, st.get("Seccomp"))
        if os.geteuid() == 0:
            uid = st.get("Uid", "").split()
            try:
                root = os.readlink("/proc/%d/root" % pid)
            except OSError as e:
                root = str(e)
            ok(uid and all(u != "0" for u in uid) and
               os.path.realpath(root) == os.path.realpath(EMPTY),
               "live: the %s process is unprivileged in the empty chroot"
               % role, (uid, root))
        else:
            skip("live: the %s process is in the chroot" % role, "not root")
        fds = sorted(int(x) for x in os.listdir("/proc/%d/fd" % pid))
        want = [0, 1, 2, 3] if role == "auth" else [0, 1, 2, 3, 4, 5, 6]
        # The auth process also holds one channel per session, a session
        # the empty file for its next message; the session server holds
        # /dev/null on 4 to 6, the places of a session's descriptors.
        allowed = {"auth": "socket:", "session": "/memfd:posternd-message",
                   "session server": "no other"}[role]
        extra = [x for x in fds if x not in want and not os.readlink(
            "/proc/%d/fd/%d" % (pid, x)).startswith(allowed)]
        if role == "session server":
            extra += [x for x in (4, 5, 6) if x in fds and os.readlink(
                "/proc/%d/fd/%d" % (pid, x)) != "/dev/null"]
        ok(not extra, "live: the %s process holds only its own descriptors"
           % role, fds)
    # A session runs under the server's filter and its own, narrower, one.
    f_sess = proc_status(sess[0][0]).get("Seccomp_filters")
    f_srv = proc_status(srv[0][0]).get("Seccomp_filters")
    if f_sess is None or f_srv is None:
        skip("live: a session adds its own filter to its server's",
             "no Seccomp_filters in /proc/PID/status")
    else:
        ok(int(f_sess) == int(f_srv) + 1, "live: a session adds its own "
           "filter to its server's", (f_sess, f_srv))
    c.close()
    # A session that dies takes nothing with it; the daemon goes on.
    c, _ = greet(d.port)
    sess = wait_for(lambda: [k for k in d.children()
                             if b"session" in k[2]], 5)
    os.kill(sess[0][0], signal.SIGSYS)
    ok(c.eof(), "live: a session killed by its sandbox closes its client")
    c.close()
    k = d.count()
    with smtplib.SMTP("127.0.0.1", d.port, timeout=SAFETY) as s:
        s.login("alice", "s3cret")
        s.sendmail("a@example.org", ["after@example.net"], MSG)
    ok(d.wait_records(k + 1)[-1]["argv"][-1] == "after@example.net",
       "live: the daemon keeps serving after a session died")
    # Without its session server the daemon cannot serve: it says so and
    # exits, as it does when the auth process dies.
    srv = [k for k in d.children() if b"session-server" in k[2]]
    os.kill(srv[0][0], signal.SIGSYS)
    try:
        rc = d.p.wait(SAFETY)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc not in (None, 0) and "session server ended" in d.stderr(),
       "live: a session server killed by its sandbox stops the daemon with "
       "an error", (rc, d.stderr()))
    d.stop()


def t_sandbox_tables():
    src = os.path.join(HERE, "sbtest.c")
    shared = os.path.join(os.path.dirname(HERE), "sandbox")
    exe = os.path.join(WORK, "sbtest")
    # The tables and role_name() come from posternd's archive, which
    # brings what they refer to, the TLS and SASL libraries' users included.
    obj = os.path.join(TOP, "usr.sbin/posternd/libposternd.a")
    lib = os.path.join(TOP, "lib/libpostern/libpostern.a")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libtls",
                            "libcrypto", "libbsd-overlay", "libseccomp",
                            "libsasl2"],
                           capture_output=True, text=True).stdout.split()
    # The sanitizer build (regress/sanitize.sh) gives its flags in CFLAGS.
    p = subprocess.run(["cc"] + os.environ.get("CFLAGS", "").split() +
                       ["-std=gnu11", "-D_GNU_SOURCE", "-I",
                        os.path.join(TOP, "lib/libpostern"), "-I",
                        os.path.join(TOP, "usr.sbin/posternd"), "-I", shared,
                        "-o", exe, src, os.path.join(shared, "attempt.c"),
                        obj, lib] + flags, capture_output=True)
    if p.returncode != 0:
        ok(False, "sandbox tables: sbtest builds", p.stderr.decode())
        return
    p = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    for line in p.stdout.splitlines():
        if line.startswith("ok ") or line.startswith("not ok "):
            name = line.split(" - ", 1)[1]
            ok(line.startswith("ok "), "sandbox: " + name)
        elif line.startswith("#"):
            print(line)


def t_command_user():
    if os.geteuid() != 0:
        skip("--command-user runs the command as that user", "not root")
        return
    # The checkout may lie where nobody cannot go (a clone under /root):
    # the command and its output directory are copied to a place of their
    # own.
    own = tempfile.mkdtemp(prefix="posternd-cmduser.", dir="/tmp")
    try:
        os.chmod(own, 0o755)
        record = os.path.join(own, "record")
        shutil.copy(RECORD, record)
        os.chmod(record, 0o755)
        out = os.path.join(own, "out")
        os.makedirs(out)
        os.chmod(out, 0o1777)
        d = Daemon("cmduser", "--command-user=nobody",
                   command="%s %s %s -f %%F --" % (PY, record, out))
        d.out = out
        k = d.count()
        try:
            smtp_send(d.port, "a@example.org", ["u@example.net"])
            err = None
        except smtplib.SMTPException as e:
            err = e
        r = d.wait_records(k + 1)
        ok(err is None and len(r) == k + 1 and r[-1]["uid"] == 65534 and
           r[-1]["env"].get("USER") == "nobody",
           "--command-user runs the command as that user", (err, r[-1:]))
        d.stop()
    finally:
        shutil.rmtree(own, ignore_errors=True)


def t_front_of_postern():
    postern = os.environ.get("POSTERN", os.path.join(
        TOP, "usr.sbin/postern/postern"))
    if not os.access(postern, os.X_OK):
        skip("in front of postern: a mail client's message goes out "
             "through postern", "no postern binary")
        return
    # Downstream: another posternd recording what postern sends it.
    down = Daemon("downstream")
    cfg = os.path.join(WORK, "postern.conf")
    with open(cfg, "w") as f:
        f.write("account default\nhost 127.0.0.1\nport %d\n"
                "from fallback@example.org\nauth off\ntls off\n"
                % down.port)
    os.chmod(cfg, 0o600)
    front = Daemon("front", command="%s -C %s -f %%F --" % (postern, cfg))
    k = down.count()
    try:
        smtp_send(front.port, "client@example.org",
                  ["far@example.net", '"odd one"@example.com'])
        err = None
    except smtplib.SMTPException as e:
        err = e
    recs = down.wait_records(k + 1)
    r = recs[-1] if len(recs) > k else None
    ok(err is None and r is not None and
       r["argv"] == ["-f", "client@example.org", "--", "far@example.net",
                     '"odd one"@example.com'] and
       lf(MSG) in r["bytes"] and r["bytes"].count(b"Received: ") == 2,
       "in front of postern: a mail client's message goes out through "
       "postern with its envelope", (err, r and r["argv"]))
    front.stop()
    down.stop()


def t_size_every_byte():
    """Line ends count against --max-message-size, empty lines included."""
    d = Daemon("sizebytes", "--max-message-size=5000")
    k = d.count()
    body = b"Subject: s\r\n\r\n"
    exact = body + b"x" * (5000 - len(body) - 2) + b"\r\n"
    results = []
    for what, msg in (("exactly at the limit", exact),
                      ("at the limit and one empty line", exact + b"\r\n"),
                      ("8 MiB of empty lines", b"\r\n" * (4 << 20))):
        c, _ = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<b@example.net>")
        c.cmd("DATA")
        c.send(msg + b".\r\n")
        try:
            code = c.reply()[0]
            nxt = c.cmd("NOOP")[0]
        except (EOFError, OSError) as e:
            code, nxt = repr(e), None
        c.close()
        results.append((what, code, nxt))
    recs = d.wait_records(k + 1)
    ok(results[0][1] == 250 and len(recs) == k + 1,
       "a message of exactly --max-message-size bytes is delivered", results)
    ok(results[1][1] == 552 and results[1][2] == 250,
       "one empty line over the limit: 552, the session goes on", results)
    ok(results[2][1] == 552 and results[2][2] == 250,
       "a message of nothing but empty lines: 552 after the dot", results)
    ok(d.count() == k + 1, "nothing over the limit is delivered", d.count())
    # 2048 bytes with CRLF is the longest command line.
    c, _ = greet(d.port)
    code1 = c.cmd("NOOP " + "x" * (2048 - 7))[0]
    c.send("NOOP " + "x" * (2048 - 6) + "\r\n")
    code2 = c.reply()[0]
    ok(code1 == 250 and code2 == 500 and c.eof(),
       "a command line of 2048 bytes with CRLF is served, 2049 is not",
       (code1, code2))
    c.close()
    d.stop()


def t_children_stderr(pw):
    """Only the listener keeps the daemon's stderr (here a file)."""
    d = Daemon("stderr", "--auth=alice," + pw)
    c, _ = greet(d.port)

    def stderr_of(name):
        """Where fd 2 of a live child with argument NAME points."""
        # A session that ended (the daemon's readiness probe) may still be
        # a zombie, with no descriptors left: only live ones count.
        for pid, state, cmd in d.children():
            if name.encode() in cmd and state not in ("Z", "X"):
                try:
                    return os.readlink("/proc/%d/fd/2" % pid)
                except OSError:
                    continue
        return None

    for role, name in (("session", "session"),
                       ("session server", "session-server"),
                       ("auth", "auth")):
        where = wait_for(lambda: stderr_of(name), SAFETY)
        ok(where == "/dev/null", "the %s process does not hold the "
           "daemon's stderr" % role, where)
    c.close()
    d.stop()


def t_client_reset():
    """A client that resets the connection ends its session quietly."""
    d = Daemon("reset")
    for i in range(3):
        c, _ = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<b@example.net>")
        c.cmd("DATA")
        c.send("Subject: reset\r\n\r\nbody\r\n")
        c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()
    wait_for(lambda: d.logtext().count("client reset the connection") +
             d.logtext().count("killed by signal") >= 3, 10)
    log = d.logtext()
    ok("killed by signal" not in log and
       log.count("client reset the connection") == 3,
       "a client's reset is logged as a reset, the session not killed "
       "by SIGPIPE", "\n".join(log.splitlines()[-12:]))
    d.stop()


def t_auth_delay_per_client(pw):
    """Failures from other addresses do not delay a correct AUTH."""
    d = Daemon("authdelay", "--auth=alice," + pw, "--auth-delay=3000")
    bad = base64.b64encode(b"\0alice\0wrong").decode()
    good = base64.b64encode(b"\0alice\0s3cret").decode()
    sent = []
    for i in range(10):
        s = socket.socket()
        s.bind(("127.0.0.%d" % (i + 2), 0))
        s.settimeout(SAFETY)
        s.connect(("127.0.0.1", d.port))
        c = Raw.__new__(Raw)
        c.s, c.buf = s, b""
        c.reply()
        c.cmd("EHLO bad%d.test" % i)
        c.send("AUTH PLAIN " + bad + "\r\n")
        sent.append(c)
    order = []
    c, _ = greet(d.port)
    try:
        order.append(("good", c.cmd("AUTH PLAIN " + good)[0]))
        for b in sent:
            order.append(("bad", b.reply()[0]))
    except (OSError, EOFError) as e:
        order.append(("error", repr(e)))
    ok(order[0] == ("good", 235) and
       [x for x in order[1:]] == [("bad", 535)] * 10,
       "a correct AUTH is answered before the failures of 10 clients "
       "elsewhere have waited out their delay", order)
    c.close()
    # From one address, failures still wait for each other.
    c1, _ = greet(d.port)
    c2, _ = greet(d.port)
    c1.send("AUTH PLAIN " + bad + "\r\n")
    c2.send("AUTH PLAIN " + good + "\r\n")
    try:
        code1 = c1.reply()[0]
        code2 = c2.reply()[0]
    except (OSError, EOFError) as e:
        code1 = code2 = repr(e)
    ok(code1 == 535 and code2 == 235, "a failure and a success from one "
       "address: 535, 235", (code1, code2))
    for x in sent + [c1, c2]:
        x.close()
    d.stop()


def t_c1_addresses(d):
    """UTF-8 in addresses (RFC 6531), but never a C1 control."""
    c, _ = greet(d.port)
    codes = []
    for addr in (b"j\xc3\xb6rg@example.org", b"a\xc2\x9b31m@example.org",
                 b"a@ex\xc2\x85ample.org", b"a\x9b@example.org"):
        c.send(b"MAIL FROM:<" + addr + b">\r\n")
        code = c.reply()[0]
        codes.append(code)
        if code == 250:
            c.cmd("RSET")
    ok(codes == [250, 501, 501, 501], "MAIL FROM: UTF-8 accepted; C1 "
       "in UTF-8 or raw refused", codes)
    c.close()


def main():
    global EMPTY
    os.makedirs(WORK, exist_ok=True)
    EMPTY = os.path.join(WORK, "empty")
    os.makedirs(EMPTY, exist_ok=True)
    os.chmod(EMPTY, 0o755)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        t_interface()
        d = Daemon("main", "--command-timeout=10")
        dcrlf = Daemon("crlf", "--crlf")
        t_basic(d)
        t_bytes(d, dcrlf)
        dcrlf.stop()
        t_clients(d)
        t_pipelining(d)
        t_params(d)
        t_addresses(d)
        t_c1_addresses(d)
        t_hostile(d)
        t_smuggling(d)
        t_bare_command(d)
        t_disconnect(d)
        t_received(d)
        t_exitcodes(d)
        t_command_state(d)
        d.stop()
        t_command_unstartable()
        t_command_inherited()
        t_limits()
        t_client_reset()
        t_size_every_byte()
        t_timeouts()
        pw = t_auth()
        t_tls(pw)
        t_tls_matrix(pw)
        t_inetd()
        t_activation()
        t_sandbox_live(pw)
        t_children_stderr(pw)
        t_auth_delay_per_client(pw)
        t_sandbox_tables()
        t_command_user()
        t_front_of_postern()
    except Exception:
        import traceback
        ok(False, "the suite ran to the end", traceback.format_exc())
    finally:
        for dd in daemons:
            dd.stop()
    print("1..%d" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
