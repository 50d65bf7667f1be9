#!/usr/bin/python3
"""An SMTP server that authenticates with GSSAPI as RFC 4752 describes.

usage: gssd.py PORTFILE SPOOLDIR

Listens on 127.0.0.1 (port chosen by the kernel, written to PORTFILE),
offers AUTH GSSAPI only, accepts the client's context with the keytab
named by KRB5_KTNAME, negotiates no security layer, and writes each
delivered message to SPOOLDIR/N.eml with the authenticated principal, the
envelope and the body.  A MAIL before a successful AUTH is refused.
Stops on SIGTERM.
"""
import base64
import os
import signal
import socket
import struct
import sys
import threading

import gssapi

portfile, spool = sys.argv[1], sys.argv[2]
count = 0
lock = threading.Lock()


class Session:
    def __init__(self, conn):
        self.conn = conn
        self.f = conn.makefile("rb")
        self.who = None

    def say(self, text):
        self.conn.sendall(text.encode() + b"\r\n")

    def line(self):
        data = self.f.readline(4096)
        if not data:
            raise EOFError
        return data.rstrip(b"\r\n").decode("ascii", "replace")

    def auth(self, initial):
        cred = gssapi.Credentials(usage="accept")
        ctx = gssapi.SecurityContext(creds=cred, usage="accept")
        token = base64.b64decode(initial) if initial else b""
        while True:
            if token:
                out = ctx.step(token)
            else:
                out = None
            if ctx.complete:
                if out:
                    self.say("334 " + base64.b64encode(out).decode())
                    if self.line() not in ("",):
                        return self.say("501 5.5.2 unexpected data")
                break
            self.say("334 " + (base64.b64encode(out).decode() if out
                               else ""))
            resp = self.line()
            if resp == "*":
                return self.say("501 5.7.0 cancelled")
            token = base64.b64decode(resp)
        # RFC 4752 3.1: no security layer, no maximum size.
        offer = ctx.wrap(struct.pack("!I", 0x01000000), False).message
        self.say("334 " + base64.b64encode(offer).decode())
        resp = base64.b64decode(self.line())
        reply = ctx.unwrap(resp).message
        if len(reply) < 4 or reply[0] != 1:
            return self.say("535 5.7.8 bad security layer choice")
        authz = reply[4:].decode()
        self.who = str(ctx.initiator_name)
        if authz and authz.split("@")[0] != self.who.split("@")[0]:
            self.who = None
            return self.say("535 5.7.8 authorization identity refused")
        self.say("235 2.7.0 authenticated as " + self.who)

    def run(self):
        global count
        self.say("220 localhost ESMTP gssd")
        rcpts, sender = [], None
        while True:
            cmd = self.line()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.say("250-localhost\r\n250-8BITMIME\r\n250 AUTH GSSAPI")
            elif verb == "AUTH":
                parts = cmd.split()
                if len(parts) < 2 or parts[1].upper() != "GSSAPI":
                    self.say("504 5.5.4 GSSAPI only")
                    continue
                try:
                    self.auth(parts[2] if len(parts) > 2 else None)
                except gssapi.exceptions.GSSError as e:
                    self.say("535 5.7.8 " + str(e).replace("\n", " ")[:200])
            elif verb == "MAIL":
                if self.who is None:
                    self.say("530 5.7.0 authentication required")
                    continue
                sender, rcpts = cmd[10:], []
                self.say("250 2.1.0 ok")
            elif verb == "RCPT":
                rcpts.append(cmd[8:])
                self.say("250 2.1.5 ok")
            elif verb == "DATA":
                self.say("354 go")
                body = []
                while True:
                    ln = self.f.readline(65536)
                    if not ln or ln == b".\r\n":
                        break
                    body.append(ln)
                with lock:
                    count += 1
                    n = count
                with open(os.path.join(spool, "%d.eml" % n), "wb") as out:
                    out.write(("X-Auth: %s\nX-From: %s\nX-To: %s\n" % (
                        self.who, sender, " ".join(rcpts))).encode())
                    out.write(b"".join(body))
                self.say("250 2.0.0 queued as %d" % n)
            elif verb == "QUIT":
                self.say("221 2.0.0 bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.say("250 2.0.0 ok")
            else:
                self.say("502 5.5.2 unknown command")


def serve(conn):
    try:
        Session(conn).run()
    except (EOFError, OSError, ValueError):
        pass
    finally:
        conn.close()


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, portfile)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
