#!/usr/bin/python3
"""Start the secrets role of postern directly, as a user could, and ask it
for a system account's secret as the parent and the network process would.

usage: fakeparent.py POSTERN ACCOUNT OUT

Message numbers are read from usr.sbin/postern/proto.h.  Everything the
role sends back is written to OUT.  Exits 0 when it answered with an error
and never with a mechanism.
"""

import os
import re
import socket
import struct
import sys



def msg_numbers():
    """The values of enum msg_type, counted as the compiler does."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "../../usr.sbin/postern/proto.h")) as f:
        text = f.read()
    body = text[text.index("enum msg_type {"):]
    body = body[:body.index("};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    nums, n = {}, 0
    for m in re.finditer(r"(MSG_[A-Z0-9_]+)\s*(?:=\s*(\d+))?", body):
        n = int(m.group(2)) if m.group(2) else n + 1
        nums[m.group(1)] = n
    return nums


_N = msg_numbers()
MSG_S_CONFIG, MSG_S_READY, MSG_S_ERROR = (_N["MSG_S_CONFIG"], _N["MSG_S_READY"],
                                          _N["MSG_S_ERROR"])
MSG_AUTH_START, MSG_AUTH_MECH = _N["MSG_AUTH_START"], _N["MSG_AUTH_MECH"]
NULL = 0xffffffff


def s(v):
    if v is None:
        return struct.pack(">I", NULL)
    b = v.encode()
    return struct.pack(">I", len(b)) + b


def msg(t, payload):
    return struct.pack(">IIII", t, 16 + len(payload), 0, 0) + payload


def recv(sock):
    sock.settimeout(20)
    try:
        h = sock.recv(16)
        if len(h) < 16:
            return None, b""
        t, n, _, _ = struct.unpack(">IIII", h)
        body = b""
        while len(body) < n - 16:
            c = sock.recv(n - 16 - len(body))
            if not c:
                break
            body += c
        return t, body
    except OSError:
        return None, b""


def main():
    prog, account, out = sys.argv[1:4]
    pa, pc = socket.socketpair()
    na, nc = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        os.dup2(pc.fileno(), 3)
        os.dup2(nc.fileno(), 5)
        os.execv(prog, ["postern", "--postern-role", "secrets"])
    pc.close()
    nc.close()
    pa.sendall(msg(MSG_S_CONFIG, s("127.0.0.1") + s(None) + s(None) +
                   s(None) + s("plain") + struct.pack(">I", 25) + s(None) +
                   s(account)))
    got = []
    t, body = recv(pa)
    got.append((t, body))
    mech = False
    if t == MSG_S_READY:
        na.sendall(msg(MSG_AUTH_START, s("PLAIN") + struct.pack(">I", 0) +
                       s("")))
        t, body = recv(na)
        got.append((t, body))
        mech = t == MSG_AUTH_MECH
    os.waitpid(pid, 0)
    with open(out, "wb") as f:
        for t, body in got:
            f.write(b"%r " % t + body + b"\n")
    return 1 if mech or got[0][0] != MSG_S_ERROR else 0


if __name__ == "__main__":
    sys.exit(main())
