#!/usr/bin/python3
"""Scripted SOCKS5 proxy (RFC 1928) for the protocol scenarios.

The proxy listens on 127.0.0.1, reads the client's method selection and
CONNECT request, records both, and relays the connection to a fixed
target (the scripted SMTP server) whatever host the client asked for:
nothing is ever resolved and no traffic leaves the machine.  Its script
says where to misbehave, one directive a line ("#" starts a comment):

    method N          the method chosen in reply to the greeting (default
                      0, no authentication; 255: no acceptable method;
                      2: username/password).  With any other than 0 the
                      proxy waits for the client to go away.
    reply N           the REP field of the reply to CONNECT (default 0,
                      succeeded); not 0: no relay, the proxy closes
    bound TYPE        address type of BND.ADDR in the reply: ipv4
                      (default), ipv6, domain, or invalid (type 9: no
                      relay, the proxy closes after the reply)
    close STEP        close without a word: at "connect" (before reading
                      anything), "greeting" (after the method selection
                      was read) or "request" (after the CONNECT request
                      was read)
    stall STEP        at the same steps: say nothing, wait for the client
                      to go away
    closed            the port is bound but nothing listens

Used as a program:  socks5.py [--script FILE] HOST PORT  relays to
HOST:PORT, prints its own port and serves until SIGTERM or SIGINT, then
prints its record (JSON).  The runner imports it and uses Socks5Proxy.

The record holds per connection: the methods the client offered, the
request (command, address type ipv4|ipv6|domain, host, port), the reply
sent and events (eof, close, relay).
"""

import ipaddress
import json
import re
import select
import signal
import socket
import struct
import sys
import threading
import time

READ_LIMIT = 20.0
RELAY_LIMIT = 60.0
STEPS = ("connect", "greeting", "request")


class ScriptError(ValueError):
    pass


class Script:
    def __init__(self, text=""):
        self.method = 0
        self.reply = 0
        self.bound = "ipv4"
        self.close = None
        self.stall = None
        self.closed = False
        for no, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                self._directive(line)
            except ScriptError as e:
                raise ScriptError("proxy line %d: %s" % (no, e))

    def _directive(self, line):
        word, _, arg = line.partition(" ")
        arg = arg.strip()
        if word in ("method", "reply"):
            if not re.fullmatch(r"\d+|0x[0-9a-fA-F]+", arg) or int(arg, 0) > 255:
                raise ScriptError("usage: %s N (0-255)" % word)
            setattr(self, word, int(arg, 0))
        elif word == "bound":
            if arg not in ("ipv4", "ipv6", "domain", "invalid"):
                raise ScriptError("bound is ipv4, ipv6, domain or invalid")
            self.bound = arg
        elif word in ("close", "stall"):
            if arg not in STEPS:
                raise ScriptError("%s is at %s" % (word, ", ".join(STEPS)))
            setattr(self, word, arg)
        elif word == "closed":
            if arg:
                raise ScriptError("closed takes no argument")
            self.closed = True
        else:
            raise ScriptError("unknown directive %r" % word)


class Closed(Exception):
    pass


class Connection:
    def __init__(self, proxy, sock, number):
        self.proxy = proxy
        self.script = proxy.script
        self.sock = sock
        self.number = number
        self.rec = {"number": number, "methods": None, "request": None,
                    "reply": None, "events": []}

    def event(self, name, **kw):
        kw["event"] = name
        self.rec["events"].append(kw)

    def read(self, n):
        out = b""
        self.sock.settimeout(READ_LIMIT)
        while len(out) < n:
            try:
                b = self.sock.recv(n - len(out))
            except socket.timeout:
                self.event("safety-timeout")
                raise Closed()
            except OSError as e:
                self.event("eof", detail=str(e))
                raise Closed()
            if not b:
                self.event("eof", got=len(out))
                raise Closed()
            out += b
        return out

    def close_here(self, step):
        if self.script.close == step:
            self.event("close", at=step)
            raise Closed()
        if self.script.stall == step:
            self.event("stall", at=step)
            self.drain()

    def drain(self):
        """Wait for the client to go away, recording what it still sends."""
        self.sock.settimeout(READ_LIMIT)
        extra = b""
        try:
            while True:
                b = self.sock.recv(4096)
                if not b:
                    break
                extra += b
        except OSError:
            pass
        self.event("eof", after=extra.decode("latin-1"))
        raise Closed()

    def run(self):
        try:
            self.close_here("connect")
            ver, n = self.read(2)
            methods = list(self.read(n))
            self.rec["version"] = ver
            self.rec["methods"] = methods
            self.close_here("greeting")
            self.sock.sendall(bytes([5, self.script.method]))
            if self.script.method != 0:
                self.drain()
            ver, cmd, _, atyp = self.read(4)
            if atyp == 1:
                host = str(ipaddress.IPv4Address(self.read(4)))
                kind = "ipv4"
            elif atyp == 4:
                host = str(ipaddress.IPv6Address(self.read(16)))
                kind = "ipv6"
            elif atyp == 3:
                host = self.read(self.read(1)[0]).decode("latin-1")
                kind = "domain"
            else:
                self.event("bad-address-type", atyp=atyp)
                raise Closed()
            port = struct.unpack("!H", self.read(2))[0]
            self.rec["request"] = {"version": ver, "command": cmd,
                                   "type": kind, "host": host, "port": port}
            self.close_here("request")
            self.relay(cmd)
        except Closed:
            pass
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def reply(self, code, addr=None):
        bound = self.script.bound
        if bound == "ipv4":
            a = b"\x01" + socket.inet_aton(addr[0] if addr else "0.0.0.0")
        elif bound == "ipv6":
            a = b"\x04" + bytes(16)
        elif bound == "invalid":
            a = b"\x09" + bytes(4)
        else:
            a = b"\x03" + bytes([len(b"localhost")]) + b"localhost"
        port = addr[1] if addr else 0
        self.rec["reply"] = code
        self.sock.sendall(bytes([5, code, 0]) + a + struct.pack("!H", port))

    def relay(self, cmd):
        code = self.script.reply
        if code == 0 and cmd != 1:
            code = 7
        if code != 0:
            self.reply(code)
            self.event("close", at="reply")
            raise Closed()
        if self.script.bound == "invalid":
            self.reply(0)
            self.event("close", at="reply")
            raise Closed()
        try:
            up = socket.create_connection(self.proxy.target, READ_LIMIT)
        except OSError as e:
            self.event("upstream-failed", detail=str(e))
            self.reply(5)
            raise Closed()
        self.reply(0, up.getsockname())
        self.event("relay")
        socks = [self.sock, up]
        peer = {self.sock: up, up: self.sock}
        open_ = {self.sock: True, up: True}
        deadline = time.monotonic() + RELAY_LIMIT
        try:
            while any(open_.values()) and time.monotonic() < deadline:
                r, _, _ = select.select([s for s in socks if open_[s]], [], [], 1.0)
                for s in r:
                    try:
                        b = s.recv(65536)
                    except OSError:
                        b = b""
                    if not b:
                        open_[s] = False
                        try:
                            peer[s].shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    try:
                        peer[s].sendall(b)
                    except OSError:
                        open_[s] = False
        finally:
            up.close()


class Socks5Proxy:
    """Serve one Script on 127.0.0.1, relaying to target (host, port)."""

    def __init__(self, script, target):
        if isinstance(script, str):
            script = Script(script)
        self.script = script
        self.target = target
        self.conns = []
        self.threads = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.acceptor = None

    def start(self):
        if self.script.closed:
            return self
        self.sock.listen(16)
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()
        return self

    def _accept(self):
        n = 0
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            n += 1
            conn = Connection(self, c, n)
            t = threading.Thread(target=conn.run, daemon=True)
            with self.lock:
                self.conns.append(conn)
                self.threads.append(t)
            t.start()

    def stop(self, wait=10.0):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
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


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="scripted SOCKS5 proxy")
    ap.add_argument("--script", help="file of directives")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    a = ap.parse_args(argv)
    text = open(a.script).read() if a.script else ""
    p = Socks5Proxy(Script(text), (a.host, a.port)).start()
    print(p.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *x: done.set())
    signal.signal(signal.SIGINT, lambda *x: done.set())
    done.wait()
    print(json.dumps(p.stop(1.0), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
