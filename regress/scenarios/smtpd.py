#!/usr/bin/python3
"""Scripted SMTP/LMTP server for the protocol scenarios.

The server speaks just enough SMTP to receive one message the way a real
server would, and at any step does what its script says instead: another
reply, a dropped or reset connection, silence, bytes a real server would
never send.  It records every byte that matters so that a scenario can
check what the client really did.

The script is a list of directives, one a line ("#" starts a comment):

    greeting TEXT          first reply, "\\n" between lines
                           (default "220 localhost ESMTP scripted")
    hostname NAME          name in the EHLO/HELO reply (default localhost)
    cap LINE               one EHLO capability, in order (repeatable)
    tls-cap LINE           capability after STARTTLS; when any is given they
                           replace the plain-text list (default: the plain
                           list without STARTTLS)
    starttls-hidden        accept STARTTLS although it is not advertised
    cert NAME              certificate of the PKI: server (default),
                           wronghost, expired, selfsigned
    implicit-tls           TLS from the first byte (smtps)
    user NAME PASSWORD     a valid credential (repeatable)
    auth-needs-tls         AUTH before TLS gets 538
    require-auth           MAIL before a successful AUTH gets 530
    size-limit N           end of data of more than N bytes gets 552
    strict-params          MAIL/RCPT parameters that were not advertised get 555
    lmtp                   speak LMTP: LHLO, one reply per recipient after the dot
    closed                 accept nothing: the port is bound but not listening
    listen ipv4|ipv6|unix  where to listen: 127.0.0.1 (default), ::1, or a
                           unix domain socket (ScriptedServer's unix_path)
    on STEP[#N][@C] ACTION [ARG]

STEP is CONNECT (the greeting), EHLO, HELO, LHLO, STARTTLS, AUTH (the AUTH
command), AUTHDONE (the reply ending the SASL exchange), MAIL, RCPT, DATA
(the 354), EOD (the reply after the final dot; under LMTP each recipient's
reply counts), RSET, NOOP, QUIT, ETRN or * (any command).  #N picks the N-th
occurrence on the connection, @C the C-th connection.  ACTION:

    reply TEXT      answer TEXT; "\\n" separates the lines of a multi-line
                    reply.  A code of 400 or more refuses the command (421
                    then closes), a lower code performs it with this reply.
    raw BYTES       send BYTES (escapes \\r \\n \\t \\0 \\xNN \\\\) instead of the
                    reply; the command is performed
    inject BYTES    the normal reply and BYTES in the same write
    long CODE LEN   a single reply line of LEN octets before CRLF
    lines CODE N    a reply of N lines
    drop            close without answering (FIN, no TLS close_notify)
    reset           abort the connection with RST (SO_LINGER 0)
    stall           never answer; keep reading until the client goes away
    delay SECS      wait, then behave normally

Used as a program:  smtpd.py [--pki DIR] [--record FILE] [--unix PATH] SCRIPT
prints the port on stdout, serves until SIGTERM or SIGINT, then writes
the record (JSON) to FILE or stdout.  The protocol scenario runner imports
this file and uses ScriptedServer directly.

The record holds, per connection: the peer's address, the transcript (client lines with
"buffered", the octets already waiting behind the line when it was read, and
"pipelined", true when the next command came before the reply was sent;
server lines), events (tls, drop, reset, stall, eof, ...), TLS parameters,
AUTH attempts with decoded credentials, and per transaction the envelope,
DATA as received ("raw", still dot-stuffed, final dot included) and
unstuffed ("data", CRLF kept, without the final dot), whether the final
dot arrived and the reply given to it.  Bytes are stored as latin-1 strings.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time

# Safety limits only: no result depends on them unless a client hangs.
READ_LIMIT = 20.0
STALL_LIMIT = 30.0
DRAIN_LIMIT = 10.0
PIPELINE_WAIT = 2.0
LINE_MAX = 1 << 20
DATA_MAX = 64 << 20

STEPS = {"CONNECT", "EHLO", "HELO", "LHLO", "STARTTLS", "AUTH", "AUTHDONE",
         "MAIL", "RCPT", "DATA", "EOD", "RSET", "NOOP", "QUIT", "ETRN", "*"}
ACTIONS = {"reply", "raw", "inject", "long", "lines", "drop", "reset",
           "stall", "delay"}
CERTS = {"server", "wronghost", "expired", "selfsigned"}


def unescape(text):
    """Decode \\r \\n \\t \\0 \\xNN \\\\ into bytes; everything else is latin-1."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 == len(text):
            out += c.encode("latin-1")
            i += 1
            continue
        n = text[i + 1]
        if n == "x" and re.match(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
            continue
        simple = {"r": 13, "n": 10, "t": 9, "0": 0, "\\": 92}
        if n in simple:
            out.append(simple[n])
        else:
            out += ("\\" + n).encode("latin-1")
        i += 2
    return bytes(out)


def latin1(b):
    return b.decode("latin-1")


class ScriptError(ValueError):
    pass


class Rule:
    def __init__(self, step, n, conn, action, arg):
        self.step, self.n, self.conn = step, n, conn
        self.action, self.arg = action, arg
        self.lines = None
        if action == "reply":
            if not re.match(r"^[2-5]\d\d", arg):
                raise ScriptError("reply needs a three-digit code: %r" % arg)
            self.lines = [l.encode("utf-8") for l in arg.split("\\n")]
        elif action == "long":
            m = re.match(r"^([2-5]\d\d)\s+(\d+)$", arg)
            if not m:
                raise ScriptError("usage: long CODE LEN")
            code, length = m.group(1), int(m.group(2))
            self.lines = [(code + " " + "x" * max(0, length - 4)).encode()]
        elif action == "lines":
            m = re.match(r"^([2-5]\d\d)\s+(\d+)$", arg)
            if not m:
                raise ScriptError("usage: lines CODE N")
            code, count = m.group(1), int(m.group(2))
            self.lines = [("%s-line %d" % (code, i)).encode()
                          for i in range(1, count)]
            self.lines.append(("%s last of %d lines" % (code, count)).encode())
        elif action in ("raw", "inject"):
            self.data = unescape(arg)
        elif action == "delay":
            try:
                self.seconds = float(arg)
            except ValueError:
                raise ScriptError("usage: delay SECONDS")
        elif arg:
            raise ScriptError("%s takes no argument" % action)
        self.code = int(self.lines[0][:3]) if self.lines else None

    def matches(self, step, n, conn):
        if self.step == "*":
            if step in ("CONNECT", "AUTHDONE", "EOD"):
                return False
        elif self.step != step:
            return False
        return (self.n is None or self.n == n) and \
            (self.conn is None or self.conn == conn)


class Script:
    def __init__(self, text=""):
        self.greeting = None
        self.hostname = "localhost"
        self.caps = []
        self.tls_caps = None
        self.starttls_hidden = False
        self.cert = "server"
        self.implicit_tls = False
        self.users = {}
        self.auth_needs_tls = False
        self.require_auth = False
        self.size_limit = None
        self.strict_params = False
        self.lmtp = False
        self.closed = False
        self.listen = "ipv4"
        self.rules = []
        for no, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                self._directive(line)
            except ScriptError as e:
                raise ScriptError("server line %d: %s" % (no, e))

    def _directive(self, line):
        word, _, arg = line.partition(" ")
        arg = arg.strip()
        flags = {"starttls-hidden": "starttls_hidden",
                 "implicit-tls": "implicit_tls",
                 "auth-needs-tls": "auth_needs_tls",
                 "require-auth": "require_auth",
                 "strict-params": "strict_params",
                 "lmtp": "lmtp", "closed": "closed"}
        if word in flags:
            if arg:
                raise ScriptError("%s takes no argument" % word)
            setattr(self, flags[word], True)
        elif word == "greeting":
            self.greeting = arg
        elif word == "hostname":
            self.hostname = arg
        elif word == "cap":
            self.caps.append(arg)
        elif word == "tls-cap":
            if self.tls_caps is None:
                self.tls_caps = []
            self.tls_caps.append(arg)
        elif word == "cert":
            if arg not in CERTS:
                raise ScriptError("cert is one of " + ", ".join(sorted(CERTS)))
            self.cert = arg
        elif word == "user":
            parts = arg.split(" ", 1)
            if len(parts) != 2:
                raise ScriptError("usage: user NAME PASSWORD")
            self.users[parts[0]] = parts[1]
        elif word == "listen":
            if arg not in ("ipv4", "ipv6", "unix"):
                raise ScriptError("listen is ipv4, ipv6 or unix")
            self.listen = arg
        elif word == "size-limit":
            self.size_limit = int(arg)
        elif word == "on":
            m = re.match(r"^([A-Za-z*]+)(?:#(\d+))?(?:@(\d+))?\s+(\w+)\s*(.*)$",
                         arg)
            if not m:
                raise ScriptError("usage: on STEP[#N][@C] ACTION [ARG]")
            step, action = m.group(1).upper(), m.group(4).lower()
            if step not in STEPS:
                raise ScriptError("unknown step %s" % step)
            if action not in ACTIONS:
                raise ScriptError("unknown action %s" % action)
            self.rules.append(Rule(step, int(m.group(2)) if m.group(2) else None,
                                   int(m.group(3)) if m.group(3) else None,
                                   action, m.group(5)))
        else:
            raise ScriptError("unknown directive %r" % word)


class Closed(Exception):
    """The connection is over (client went away or a rule ended it)."""


class Connection:
    def __init__(self, server, sock, number, peer=None):
        self.srv = server
        self.script = server.script
        self.sock = sock
        self.number = number
        self.rbuf = b""
        self.counts = {}
        self.tls = None
        self.authed = False
        self.helo = None
        self.advertised = []
        self.txn = None
        self.rec = {"number": number, "peer": peer,
                    "transcript": [], "events": [],
                    "tls": None, "helo": None, "auth": [],
                    "transactions": []}

    # -- recording ---------------------------------------------------------

    def event(self, name, **kw):
        kw["event"] = name
        self.rec["events"].append(kw)

    def log_client(self, line, kind="command"):
        entry = {"dir": "C", "kind": kind, "line": latin1(line.rstrip(b"\r\n")),
                 "crlf": line.endswith(b"\r\n"), "buffered": len(self.rbuf),
                 "pipelined": len(self.rbuf) > 0}
        self.rec["transcript"].append(entry)
        return entry

    # -- input -------------------------------------------------------------

    def _recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            self.event("safety-timeout")
            raise Closed()
        except ssl.SSLError as e:
            self.event("eof", detail="tls: %s" % e.reason)
            raise Closed()
        except ConnectionResetError:
            self.event("eof", detail="reset by client")
            raise Closed()
        except OSError as e:
            self.event("eof", detail=str(e))
            raise Closed()
        if not data:
            self.event("eof")
            raise Closed()
        return data

    def readline(self):
        while b"\n" not in self.rbuf:
            if len(self.rbuf) > LINE_MAX:
                self.event("line-too-long")
                raise Closed()
            self.rbuf += self._recv(READ_LIMIT)
        line, _, self.rbuf = self.rbuf.partition(b"\n")
        return line + b"\n"

    def more_pending(self, wait):
        """Did the client send more without waiting for our reply?"""
        if self.rbuf:
            return True
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        try:
            r, _, _ = select.select([self.sock], [], [], wait)
        except (OSError, ValueError):
            return False
        return bool(r)

    # -- output ------------------------------------------------------------

    def send(self, data):
        for l in data.split(b"\n"):
            if l:
                self.rec["transcript"].append({"dir": "S", "line": latin1(l.rstrip(b"\r"))})
        try:
            self.sock.sendall(data)
        except OSError as e:
            self.event("write-error", detail=str(e))
            raise Closed()

    @staticmethod
    def format(lines):
        out = b""
        for i, l in enumerate(lines):
            if i < len(lines) - 1 and len(l) >= 3 and l[3:4] in (b" ", b""):
                l = l[:3] + b"-" + l[4:]
            out += l + b"\r\n"
        return out

    # -- rules -------------------------------------------------------------

    def step(self, name):
        n = self.counts.get(name, 0) + 1
        self.counts[name] = n
        for r in self.script.rules:
            if r.matches(name, n, self.number):
                return r
        return None

    def terminal(self, rule):
        """Carry out drop/reset/stall; returns only for other actions."""
        if rule is None:
            return
        if rule.action == "delay":
            time.sleep(rule.seconds)
        elif rule.action == "drop":
            self.event("drop")
            self.drop()
        elif rule.action == "reset":
            self.event("reset")
            self.reset()
        elif rule.action == "stall":
            self.event("stall")
            self.drain(STALL_LIMIT)
            raise Closed()

    def drop(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.drain(DRAIN_LIMIT)
        raise Closed()

    def reset(self):
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()
        raise Closed()

    def drain(self, limit):
        """Read and discard until the client closes (or the safety limit)."""
        deadline = time.monotonic() + limit
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.event("safety-timeout")
                    return
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    self.event("safety-timeout")
                    return
                except ssl.SSLError:
                    return
                if not data:
                    return
        except OSError:
            return

    def respond(self, rule, default, perform=None, after=None):
        """Answer a command: rule decides, default is the normal reply.

        perform() runs when the command takes effect (before the reply is
        sent); after() runs once the reply is out (used by DATA, STARTTLS).
        Returns True when the command took effect."""
        self.terminal(rule)
        effect = True
        extra = b""
        lines = default
        if rule is not None and rule.lines is not None:
            lines = rule.lines
            effect = rule.code < 400
        if effect and perform is not None:
            lines = perform(lines) or lines
        payload = self.format(lines)
        if rule is not None and rule.action == "raw":
            payload = rule.data
        if rule is not None and rule.action == "inject":
            extra = rule.data
            self.event("inject", data=latin1(extra))
        self.send(payload + extra)
        if rule is not None and rule.code == 421:
            self.drop()
        if effect and after is not None:
            after()
        return effect

    # -- session -----------------------------------------------------------

    def run(self):
        try:
            if self.script.implicit_tls:
                self.start_tls(implicit=True)
            rule = self.step("CONNECT")
            greeting = self.script.greeting or (
                "220 %s %s scripted" % (self.script.hostname,
                                        "LMTP" if self.script.lmtp else "ESMTP"))
            self.respond(rule, [l.encode() for l in greeting.split("\\n")])
            if rule is not None and rule.code is not None and rule.code >= 400:
                # A refusing greeting: answer everything but QUIT with 503.
                self.refused = True
            else:
                self.refused = False
            while True:
                self.command()
        except Closed:
            pass
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def command(self):
        line = self.readline()
        entry = self.log_client(line)
        text = latin1(line).rstrip("\r\n")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        arg = arg.strip()
        if verb in ("MAIL", "RCPT") and self.has_cap("PIPELINING") \
                and not entry["pipelined"]:
            entry["pipelined"] = self.more_pending(PIPELINE_WAIT)
        step = verb if verb in STEPS else "*"
        rule = self.step(step) if step != "*" else self.step("*")
        if self.refused and verb != "QUIT":
            return self.respond(rule, [b"503 5.5.1 no service"])
        handler = getattr(self, "cmd_" + verb, None)
        if handler is None:
            return self.respond(rule, [b"500 5.5.2 command not recognized"])
        handler(rule, arg)

    def has_cap(self, name):
        return any(c.upper().split(" ")[0] == name for c in self.advertised)

    def caps_now(self):
        if self.tls is not None:
            if self.script.tls_caps is not None:
                return list(self.script.tls_caps)
            return [c for c in self.script.caps if c.upper() != "STARTTLS"]
        return list(self.script.caps)

    def greet(self, rule, verb, arg, extended):
        def perform(lines):
            self.helo = "%s %s" % (verb, arg)
            self.rec["helo"] = self.helo
            self.txn = None
            sent = [l.decode("latin-1") for l in lines]
            # What counts as advertised is what actually went out.
            self.advertised = [re.sub(r"^\d{3}[ -]?", "", l) for l in sent[1:]]
            return lines
        if extended:
            caps = self.caps_now()
            lines = [("250 %s" % self.script.hostname).encode()] + \
                [("250 " + c).encode() for c in caps]
        else:
            lines = [("250 %s" % self.script.hostname).encode()]
        if not arg:
            return self.respond(rule, [b"501 5.5.4 syntax: %s hostname" % verb.encode()])
        self.respond(rule, lines, perform)

    def cmd_EHLO(self, rule, arg):
        if self.script.lmtp:
            return self.respond(rule, [b"500 5.5.1 this is LMTP: use LHLO"])
        self.greet(rule, "EHLO", arg, True)

    def cmd_HELO(self, rule, arg):
        if self.script.lmtp:
            return self.respond(rule, [b"500 5.5.1 this is LMTP: use LHLO"])
        self.advertised = []
        self.greet(rule, "HELO", arg, False)

    def cmd_LHLO(self, rule, arg):
        if not self.script.lmtp:
            return self.respond(rule, [b"500 5.5.1 this is SMTP, not LMTP"])
        self.greet(rule, "LHLO", arg, True)

    def cmd_NOOP(self, rule, arg):
        self.respond(rule, [b"250 2.0.0 ok"])

    def cmd_RSET(self, rule, arg):
        def perform(lines):
            self.txn = None
        self.respond(rule, [b"250 2.0.0 reset"], perform)

    def cmd_QUIT(self, rule, arg):
        self.respond(rule, [b"221 2.0.0 bye"])
        self.event("quit")
        raise Closed()

    def cmd_ETRN(self, rule, arg):
        if not arg:
            return self.respond(rule, [b"501 5.5.4 syntax: ETRN domain"])
        self.respond(rule, [b"250 2.0.0 queuing started"])

    def cmd_STARTTLS(self, rule, arg):
        if self.tls is not None:
            return self.respond(rule, [b"503 5.5.1 TLS already active"])
        if not (self.has_cap("STARTTLS") or self.script.starttls_hidden):
            return self.respond(rule, [b"502 5.5.1 STARTTLS not offered"])

        def after():
            left = self.rbuf
            self.rbuf = b""
            if left:
                self.event("plaintext-after-starttls", data=latin1(left))
            self.start_tls(implicit=False)
            self.advertised = []
            self.helo = None
            self.txn = None
            self.authed = False
        self.respond(rule, [b"220 2.0.0 ready to start TLS"], after=after)

    def start_tls(self, implicit):
        ctx = self.srv.tls_context()
        sni = []
        ctx.sni_callback = lambda s, name, c: sni.append(name)
        try:
            self.sock.settimeout(READ_LIMIT)
            self.sock = ctx.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.event("tls-failed", detail=getattr(e, "reason", None) or str(e))
            raise Closed()
        self.tls = {"version": self.sock.version(),
                    "cipher": self.sock.cipher()[0],
                    "implicit": implicit, "sni": sni[0] if sni else None}
        self.rec["tls"] = self.tls
        self.event("tls", **self.tls)

    # -- AUTH --------------------------------------------------------------

    def auth_line(self):
        line = self.readline()
        self.log_client(line, kind="auth")
        return line.rstrip(b"\r\n")

    def cmd_AUTH(self, rule, arg):
        parts = arg.split(" ")
        mech = parts[0].upper()
        initial = parts[1] if len(parts) > 1 else None
        offered = []
        for c in self.advertised:
            if c.upper().startswith("AUTH ") or c.upper().startswith("AUTH="):
                offered += c[5:].upper().split()
        if self.authed:
            return self.respond(rule, [b"503 5.5.1 already authenticated"])
        if self.txn is not None:
            return self.respond(rule, [b"503 5.5.1 AUTH not allowed in a transaction"])
        if not offered and not (rule and rule.lines):
            return self.respond(rule, [b"502 5.5.1 AUTH not offered"])
        if self.script.auth_needs_tls and self.tls is None:
            return self.respond(rule, [b"538 5.7.11 encryption required for requested authentication mechanism"])
        if mech not in ("PLAIN", "LOGIN", "CRAM-MD5"):
            return self.respond(rule, [b"504 5.5.4 mechanism not supported"])
        attempt = {"mechanism": mech, "user": None, "password": None,
                   "authzid": None, "ok": False, "tls": self.tls is not None}
        self.rec["auth"].append(attempt)

        def b64(s):
            try:
                return base64.b64decode(s, validate=True)
            except (ValueError, TypeError):
                return None

        def challenge(text):
            self.send(b"334 " + text + b"\r\n")
            resp = self.auth_line()
            if resp == b"*":
                self.send(b"501 5.7.0 authentication cancelled\r\n")
                attempt["cancelled"] = True
                return None
            return resp

        if rule is not None:
            self.terminal(rule)
            if rule.lines is not None:
                # The scripted reply replaces the whole exchange.
                self.send(self.format(rule.lines))
                if 200 <= rule.code < 300:
                    attempt["ok"] = True
                    self.authed = True
                return
        ok = False
        if mech == "PLAIN":
            resp = initial if initial is not None else challenge(b"")
            if resp is None:
                return
            raw = b64(resp if isinstance(resp, bytes) else resp.encode())
            if raw is None or raw.count(b"\0") != 2:
                return self.send(b"501 5.5.2 bad PLAIN response\r\n")
            authz, user, pw = raw.split(b"\0")
            attempt.update(authzid=latin1(authz), user=latin1(user), password=latin1(pw))
        elif mech == "LOGIN":
            if initial is not None:
                u = b64(initial.encode())
            else:
                r = challenge(base64.b64encode(b"Username:"))
                if r is None:
                    return
                u = b64(r)
            r = challenge(base64.b64encode(b"Password:"))
            if r is None:
                return
            p = b64(r)
            if u is None or p is None:
                return self.send(b"501 5.5.2 bad base64\r\n")
            attempt.update(user=latin1(u), password=latin1(p))
        elif mech == "CRAM-MD5":
            nonce = b"<%d.%d@localhost>" % (os.getpid(), int(time.time()))
            r = challenge(base64.b64encode(nonce))
            if r is None:
                return
            raw = b64(r) or b""
            user, _, digest = raw.rpartition(b" ")
            user = latin1(user)
            attempt.update(user=user, digest=latin1(digest))
            want = self.script.users.get(user)
            if want is not None:
                good = hmac.new(want.encode(), nonce, hashlib.md5).hexdigest()
                ok = hmac.compare_digest(good.encode(), digest)
        if mech in ("PLAIN", "LOGIN"):
            ok = self.script.users.get(attempt["user"]) == attempt["password"] \
                and attempt["user"] is not None
        done = self.step("AUTHDONE")

        def perform(lines):
            attempt["ok"] = True
            self.authed = True
        default = [b"235 2.7.0 authentication successful"] if ok else \
            [b"535 5.7.8 authentication credentials invalid"]
        if ok:
            self.respond(done, default, perform)
        else:
            self.respond(done, default)
        if done is not None and done.code is not None and done.code < 400 and not ok:
            attempt["ok"] = True
            self.authed = True

    # -- transaction -------------------------------------------------------

    def bad_param(self, params, allowed):
        if not self.script.strict_params:
            return None
        for p in params:
            key = p.split("=", 1)[0].upper()
            need = allowed.get(key)
            if need is None or not self.has_cap(need):
                return p
        return None

    def cmd_MAIL(self, rule, arg):
        m = re.match(r"^FROM:\s*<([^>]*)>\s*(.*)$", arg, re.I)
        if not m:
            return self.respond(rule, [b"501 5.5.4 syntax: MAIL FROM:<address>"])
        if self.helo is None:
            return self.respond(rule, [b"503 5.5.1 say hello first"])
        if self.txn is not None:
            return self.respond(rule, [b"503 5.5.1 nested MAIL command"])
        if self.script.require_auth and not self.authed:
            return self.respond(rule, [b"530 5.7.0 authentication required"])
        params = m.group(2).split()
        bad = self.bad_param(params, {"SIZE": "SIZE", "BODY": "8BITMIME",
                                      "RET": "DSN", "ENVID": "DSN",
                                      "SMTPUTF8": "SMTPUTF8", "AUTH": "AUTH"})
        if bad:
            return self.respond(rule, [b"555 5.5.4 unsupported parameter " + bad.encode()])

        def perform(lines):
            self.txn = {"mail_from": m.group(1), "mail_params": params,
                        "rcpts": [], "data": None, "raw": None, "dot": False,
                        "reply": None, "accepted": False, "tls": self.tls is not None,
                        "authed": self.authed}
            self.rec["transactions"].append(self.txn)
        self.respond(rule, [b"250 2.1.0 ok"], perform)

    def cmd_RCPT(self, rule, arg):
        m = re.match(r"^TO:\s*<([^>]*)>\s*(.*)$", arg, re.I)
        if not m:
            return self.respond(rule, [b"501 5.5.4 syntax: RCPT TO:<address>"])
        if self.txn is None:
            return self.respond(rule, [b"503 5.5.1 need MAIL first"])
        params = m.group(2).split()
        entry = {"address": m.group(1), "params": params, "accepted": False,
                 "reply": None}
        self.txn["rcpts"].append(entry)
        bad = self.bad_param(params, {"NOTIFY": "DSN", "ORCPT": "DSN"})
        if bad:
            entry["reply"] = 555
            return self.respond(rule, [b"555 5.5.4 unsupported parameter " + bad.encode()])

        def perform(lines):
            entry["accepted"] = True
        entry["reply"] = rule.code if rule is not None and rule.code else 250
        self.respond(rule, [b"250 2.1.5 ok"], perform)

    def cmd_DATA(self, rule, arg):
        if self.txn is None:
            return self.respond(rule, [b"503 5.5.1 need MAIL first"])
        if not any(r["accepted"] for r in self.txn["rcpts"]):
            return self.respond(rule, [b"554 5.5.1 no valid recipients"])
        if self.txn["raw"] is not None:
            return self.respond(rule, [b"503 5.5.1 DATA already done"])
        self.respond(rule, [b"354 end data with <CR><LF>.<CR><LF>"],
                     after=self.receive_data)

    def receive_data(self):
        txn = self.txn
        raw = bytearray()
        data = bytearray()
        txn["raw"] = ""
        txn["data"] = ""
        prev_crlf = True
        try:
            while True:
                line = self.readline()
                raw += line
                if line == b".\r\n" and prev_crlf:
                    txn["dot"] = True
                    break
                # Only a dot at the start of a CRLF-delimited line is
                # stuffing; after a bare LF it is data.
                if prev_crlf and line.startswith(b"."):
                    line = line[1:]
                data += line
                prev_crlf = line.endswith(b"\r\n")
                if len(raw) > DATA_MAX:
                    self.event("data-too-long")
                    raise Closed()
        finally:
            if not txn["dot"]:
                # What arrived before the connection ended, incomplete line
                # included.
                raw += self.rbuf
                data += self.rbuf
            txn["raw"] = latin1(bytes(raw))
            txn["data"] = latin1(bytes(data))
            txn["size"] = len(data)
            self.txn = None
        self.end_of_data(txn, len(data))

    def end_of_data(self, txn, size):
        too_big = self.script.size_limit is not None and size > self.script.size_limit
        if self.script.lmtp:
            replies = []
            for r in txn["rcpts"]:
                if not r["accepted"]:
                    continue
                rule = self.step("EOD")
                default = [b"552 5.3.4 message too big"] if too_big else \
                    [("250 2.0.0 <%s> delivered" % r["address"]).encode()]
                code = rule.code if rule is not None and rule.code else int(default[0][:3])
                r["lmtp_reply"] = code
                replies.append(code)
                self.respond(rule, default)
            txn["reply"] = replies
            txn["accepted"] = any(200 <= c < 300 for c in replies)
            return
        rule = self.step("EOD")
        default = [b"552 5.3.4 message too big"] if too_big else \
            [b"250 2.0.0 ok: queued"]
        code = rule.code if rule is not None and rule.code else int(default[0][:3])
        txn["reply"] = code
        if rule is not None and rule.action in ("drop", "reset", "stall"):
            txn["reply"] = None
        self.respond(rule, default)
        txn["accepted"] = 200 <= code < 300


class ScriptedServer:
    """Serve one Script on 127.0.0.1 (or ::1, or the unix socket unix_path
    when the script says listen ipv6 or unix), port chosen by the kernel."""

    def __init__(self, script, pki=None, unix_path=None):
        if isinstance(script, str):
            script = Script(script)
        self.script = script
        self.pki = pki
        self.conns = []
        self.threads = []
        self.lock = threading.Lock()
        self.unix_path = None
        if script.listen == "unix":
            if not unix_path:
                raise ScriptError("listen unix needs a socket path")
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix_path)
            self.unix_path = unix_path
            self.port = 0
        else:
            six = script.listen == "ipv6"
            self.sock = socket.socket(socket.AF_INET6 if six else
                                      socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("::1" if six else "127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        self._ctx = None
        self.acceptor = None
        self.stopping = False

    def tls_context(self):
        with self.lock:
            if self._ctx is None:
                if not self.pki:
                    raise RuntimeError("TLS needs the PKI directory")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                name = self.script.cert
                ctx.load_cert_chain(os.path.join(self.pki, name + ".crt"),
                                    os.path.join(self.pki, name + ".key"))
                self._ctx = ctx
            return self._ctx

    def start(self):
        if self.script.closed:
            return self
        # Load the certificate now so that a broken PKI fails the case
        # here rather than as a mysterious handshake failure.
        if self.script.implicit_tls or self.script.starttls_hidden or \
                any(c.upper() == "STARTTLS" for c in self.script.caps):
            self.tls_context()
        self.sock.listen(16)
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()
        return self

    def _accept(self):
        n = 0
        while True:
            try:
                c, addr = self.sock.accept()
            except OSError:
                return
            if self.stopping:
                c.close()
                return
            n += 1
            peer = addr[0] if isinstance(addr, tuple) else None
            conn = Connection(self, c, n, peer)
            t = threading.Thread(target=conn.run, daemon=True)
            with self.lock:
                self.conns.append(conn)
                self.threads.append(t)
            t.start()

    def stop(self, wait=DRAIN_LIMIT):
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self.unix_path is not None:
            try:
                os.unlink(self.unix_path)
            except OSError:
                pass
        if self.acceptor is not None:
            self.acceptor.join(wait)
        deadline = time.monotonic() + wait
        for t in list(self.threads):
            t.join(max(0.0, deadline - time.monotonic()))
        return self.record()

    def record(self):
        with self.lock:
            return {"port": self.port,
                    "connections": [c.rec for c in self.conns]}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="scripted SMTP server")
    ap.add_argument("--pki", help="directory made by pki.sh")
    ap.add_argument("--record", help="write the JSON record here at exit")
    ap.add_argument("--unix", help="socket path for listen unix")
    ap.add_argument("script", help="file of directives, or a scenario file "
                    "(its [server] section is used); - for stdin")
    a = ap.parse_args(argv)
    text = sys.stdin.read() if a.script == "-" else open(a.script).read()
    m = re.search(r"^\[server\]\n(.*?)(?=^\[[a-z]|\Z)", text, re.M | re.S)
    if m:
        text = m.group(1)
    srv = ScriptedServer(Script(text), a.pki, a.unix).start()
    print(srv.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *x: done.set())
    signal.signal(signal.SIGINT, lambda *x: done.set())
    done.wait()
    rec = json.dumps(srv.stop(1.0), indent=1)
    if a.record:
        with open(a.record, "w") as f:
            f.write(rec + "\n")
    else:
        print(rec)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
