#!/usr/bin/python3
"""A scripted SMTP relay for the system-wide mode tests of postern.

Serves connections on 127.0.0.1 until killed.  As the relay it requires
AUTH (PLAIN or CRAM-MD5) with one user and password before MAIL, and keeps
each mail with the mechanism used in DIR/N.json.  As the user's own
listener (--listener) it takes any AUTH and any mail, and writes every
byte it received to DIR/N.raw: what a local user would capture.

usage: relay.py PORTFILE DIR [--user U --password-file F] [--listener]
                [--port N]

The password comes from a file: an argument shows in /proc to every user.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import threading


def serve(conn, n, a):
    raw = bytearray()
    rec = {"auth": None, "mech": None, "mails": []}
    f = conn.makefile("rb")

    def send(line):
        conn.sendall(line.encode() + b"\r\n")

    def readline():
        line = f.readline(4096)
        raw.extend(line)
        return line.decode("latin-1").rstrip("\r\n")

    try:
        send("220 relay.test ESMTP")
        mail = None
        while True:
            line = readline()
            if line == "" and not raw.endswith(b"\n"):
                break
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                send("250-relay.test")
                send("250-AUTH PLAIN CRAM-MD5")
                send("250 8BITMIME")
            elif verb == "AUTH":
                parts = line.split()
                mech = parts[1].upper() if len(parts) > 1 else ""
                rec["mech"] = mech
                ok = False
                if mech == "PLAIN":
                    if len(parts) > 2:
                        blob = parts[2]
                    else:
                        send("334 ")
                        blob = readline()
                    try:
                        _, u, p = base64.b64decode(blob).split(b"\0")
                        ok = (u.decode() == a.user and
                              p.decode() == a.password)
                    except Exception:
                        ok = False
                elif mech == "CRAM-MD5":
                    chal = "<%d.%d@relay.test>" % (os.getpid(), n)
                    send("334 " + base64.b64encode(chal.encode()).decode())
                    resp = base64.b64decode(readline()).decode()
                    u, d = resp.rsplit(" ", 1)
                    want = hmac.new(a.password.encode(), chal.encode(),
                                    hashlib.md5).hexdigest()
                    ok = u == a.user and d == want
                if ok or a.listener:
                    rec["auth"] = mech
                    send("235 2.7.0 ok")
                else:
                    send("535 5.7.8 no")
            elif verb == "MAIL":
                if rec["auth"] is None and not a.listener:
                    send("530 5.7.0 authentication required")
                    continue
                mail = {"from": line, "rcpt": [], "data": ""}
                send("250 ok")
            elif verb == "RCPT":
                if mail is not None:
                    mail["rcpt"].append(line)
                send("250 ok")
            elif verb == "DATA":
                send("354 go")
                data = []
                while True:
                    d = readline()
                    if d == ".":
                        break
                    data.append(d)
                if mail is not None:
                    mail["data"] = "\n".join(data)
                    rec["mails"].append(mail)
                mail = None
                send("250 2.0.0 queued")
            elif verb == "RSET":
                mail = None
                send("250 ok")
            elif verb == "QUIT":
                send("221 bye")
                break
            else:
                send("250 ok" if verb == "NOOP" else "502 5.5.2 no")
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    conn.close()
    if a.listener:
        with open(os.path.join(a.dir, "%d.raw" % n), "wb") as w:
            w.write(raw)
    else:
        tmp = os.path.join(a.dir, ".%d.tmp" % n)
        with open(tmp, "w") as w:
            json.dump(rec, w)
        os.rename(tmp, os.path.join(a.dir, "%d.json" % n))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("portfile")
    p.add_argument("dir")
    p.add_argument("--user", default="relayuser")
    p.add_argument("--password-file")
    p.add_argument("--listener", action="store_true")
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    a.password = ""
    if a.password_file:
        with open(a.password_file) as r:
            a.password = r.read().strip()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(64)
    with open(a.portfile + ".tmp", "w") as w:
        w.write("%d\n" % ls.getsockname()[1])
    os.rename(a.portfile + ".tmp", a.portfile)
    n = 0
    while True:
        c, _ = ls.accept()
        n += 1
        if a.listener:
            with open(os.path.join(a.dir, "connections"), "a") as w:
                w.write("%d\n" % n)
        threading.Thread(target=serve, args=(c, n, a), daemon=True).start()


if __name__ == "__main__":
    main()
