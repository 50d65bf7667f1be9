"""Checks of the scripted server itself, driven by a raw socket client.

A scenario can only catch a client's mistake if the server records it
truthfully, so the suite runs these first: each deliberately does what a
broken client would do and checks that the record says so.
"""

import base64
import socket

import smtpd


class Raw:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def reply(self):
        """Read one complete (possibly multi-line) reply."""
        lines = []
        while True:
            while b"\n" not in self.buf:
                d = self.s.recv(4096)
                if not d:
                    return lines
                self.buf += d
            line, _, self.buf = self.buf.partition(b"\n")
            lines.append(line)
            if line[3:4] != b"-":
                return lines

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, line):
        self.send(line + b"\r\n")
        return self.reply()

    def close(self):
        self.s.close()


def session(script, body):
    srv = smtpd.ScriptedServer(script).start()
    try:
        c = Raw(srv.port)
        c.reply()
        body(c)
        c.close()
    finally:
        rec = srv.stop()
    return rec["connections"][0]


def check_pipelining_seen():
    def body(c):
        c.cmd(b"EHLO x")
        c.send(b"MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n")
        c.reply(), c.reply(), c.reply()
        c.send(b"hi\r\n.\r\n")
        c.reply()
        c.cmd(b"QUIT")
    conn = session("cap PIPELINING", body)
    cmds = [t for t in conn["transcript"] if t["dir"] == "C"]
    assert [t["pipelined"] for t in cmds] == [False, True, True, False, False], cmds


def check_lockstep_not_pipelined():
    def body(c):
        c.cmd(b"EHLO x")
        c.cmd(b"MAIL FROM:<a@x>")
        c.cmd(b"RCPT TO:<b@x>")
        c.cmd(b"DATA")
        c.send(b"hi\r\n.\r\n")
        c.reply()
        c.cmd(b"QUIT")
    conn = session("cap PIPELINING", body)
    assert not any(t.get("pipelined") for t in conn["transcript"]), conn["transcript"]
    assert conn["transactions"][0]["accepted"]


def check_data_strict_end():
    raw = b"a\n.\nb\r.\rc\r\n..d\r\n.\r\n"

    def body(c):
        c.cmd(b"EHLO x")
        c.cmd(b"MAIL FROM:<a@x>")
        c.cmd(b"RCPT TO:<b@x>")
        c.cmd(b"DATA")
        c.send(raw)
        c.reply()
        c.cmd(b"QUIT")
    conn = session("", body)
    t = conn["transactions"]
    assert len(t) == 1 and t[0]["dot"], t
    assert t[0]["raw"].encode("latin-1") == raw, t[0]["raw"]
    assert t[0]["data"].encode("latin-1") == b"a\n.\nb\r.\rc\r\n.d\r\n", t[0]["data"]
    return raw


def check_drop_after_dot():
    def body(c):
        c.cmd(b"EHLO x")
        c.cmd(b"MAIL FROM:<a@x>")
        c.cmd(b"RCPT TO:<b@x>")
        c.cmd(b"DATA")
        c.send(b"hi\r\n.\r\n")
        assert c.reply() == []
    conn = session("on EOD drop", body)
    t = conn["transactions"][0]
    assert t["dot"] and not t["accepted"], t
    assert any(e["event"] == "drop" for e in conn["events"])


def check_no_dot_on_eof():
    def body(c):
        c.cmd(b"EHLO x")
        c.cmd(b"MAIL FROM:<a@x>")
        c.cmd(b"RCPT TO:<b@x>")
        c.cmd(b"DATA")
        c.send(b"partial\r\n.\n")
    conn = session("", body)
    t = conn["transactions"][0]
    assert not t["dot"] and not t["accepted"], t
    assert t["raw"] == "partial\r\n.\n", t


def check_auth_plain_recorded():
    def body(c):
        c.cmd(b"EHLO x")
        r = c.cmd(b"AUTH PLAIN " + base64.b64encode(b"\0alice\0s3cret"))
        assert r[0].startswith(b"235"), r
        r = c.cmd(b"AUTH LOGIN")
        assert r[0].startswith(b"503"), r
    conn = session("cap AUTH PLAIN\nuser alice s3cret", body)
    a = conn["auth"][0]
    assert (a["mechanism"], a["user"], a["password"], a["ok"]) == \
        ("PLAIN", "alice", "s3cret", True), a


def check_rules():
    def body(c):
        r = c.cmd(b"EHLO x")
        assert r == [b"250-localhost\r", b"250-SIZE 10\r", b"250 X\r"], r
        assert c.cmd(b"MAIL FROM:<a@x>")[0].startswith(b"250")
        assert c.cmd(b"RCPT TO:<b@x>")[0].startswith(b"250")
        r = c.cmd(b"RCPT TO:<c@x>")
        assert r == [b"550-a\r", b"550 b\r"], r
        r = c.cmd(b"RCPT TO:<d@x>")
        assert r == [b"250 " + b"x" * 96 + b"\r"], r
    conn = session("cap SIZE 10\ncap X\non RCPT#2 reply 550 a\\n550 b\n"
                   "on RCPT#3 long 250 100", body)
    rc = conn["transactions"][0]["rcpts"]
    assert [r["accepted"] for r in rc] == [True, False, True], rc


CHECKS = [check_pipelining_seen, check_lockstep_not_pipelined,
          check_data_strict_end, check_drop_after_dot, check_no_dot_on_eof,
          check_auth_plain_recorded, check_rules]


def run(smuggle_points):
    """Yield (name, error or None)."""
    for f in CHECKS:
        name = "harness: " + f.__name__[len("check_"):].replace("_", " ")
        try:
            out = f()
            if f is check_data_strict_end:
                pts = smuggle_points(out + b"")
                assert len(pts) == 2, pts
            yield name, None
        except Exception as e:
            yield name, "%s: %s" % (type(e).__name__, e)
