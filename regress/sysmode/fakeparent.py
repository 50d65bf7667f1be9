#!/usr/bin/python3
"""Start the secrets role of postern directly, as a user could, and ask it
for a system account's secret as the parent and the network process would.

usage: fakeparent.py POSTERN-SECRETS ACCOUNT OUT

Message numbers are those of usr.sbin/postern/proto.h.  Everything the
role sends back is written to OUT.  Exits 0 when it answered with an error
and never with a mechanism.
"""

import os
import re
import socket
import struct
import sys



def message_numbers():
    """The values of enum msg_type, read from proto.h itself."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "proto.h")    # the copy the suite made
    if not os.path.exists(path):
        path = os.path.join(here, "..", "..", "usr.sbin", "postern", "proto.h")
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    body = re.search(r"enum msg_type\s*{(.*?)}", text, flags=re.S).group(1)
    nums, n = {}, 0
    for item in body.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, value = item.partition("=")
        n = int(value, 0) if value.strip() else n + 1
        nums[name.strip()] = n
    return nums


_N = message_numbers()
MSG_S_CONFIG, MSG_S_READY, MSG_S_ERROR = (
    _N["MSG_S_CONFIG"], _N["MSG_S_READY"], _N["MSG_S_ERROR"])
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
        os.execv(prog, ["postern"])
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
