#!/usr/bin/python3
"""A recording SMTP server for the queue tests.

Every accepted mail is appended to the record file as one JSON line:
session number, whether AUTH succeeded in that session, the envelope and
the SHA-256 of the data.  Faults are given per transaction number (1 = the
first MAIL FROM the server ever sees, counted across sessions):
  --fail rcpt:N:CODE   --fail data:N:CODE   --fail dot:N:CODE
  --drop N             close the connection after the Nth mail's 250
  --close421 N         answer 421 and close instead of the Nth MAIL FROM
  --hold-dot N         keep the reply to the Nth mail's dot until the next
                       command came (or 20 s passed), and record whether it
                       came first: a client that pipelines sends it unasked
Sessions, AUTH commands and QUITs are counted in the record file too
("session", "auth" and "quit" lines), so a test can count connections and
logins and see what came before the end of a session.
"""
import argparse, base64, hashlib, json, os, socket, sys, threading

ap = argparse.ArgumentParser()
ap.add_argument("--portfile", required=True)
ap.add_argument("--record", required=True)
ap.add_argument("--fail", action="append", default=[])
ap.add_argument("--drop", type=int, default=0)
ap.add_argument("--close421", type=int, default=0)
ap.add_argument("--auth", default="")
ap.add_argument("--hold-dot", type=int, action="append", default=[])
args = ap.parse_args()

faults = {}
for f in args.fail:
    where, n, code = f.split(":")
    faults[(where, int(n))] = code

lock = threading.Lock()
state = {"trans": 0, "session": 0}


def record(obj):
    with lock:
        with open(args.record, "a") as fp:
            fp.write(json.dumps(obj) + "\n")
            fp.flush()
            os.fsync(fp.fileno())


def subject(head):
    for l in head.decode("latin-1").split("\r\n"):
        if l.lower().startswith("subject:"):
            return l[8:].strip()
    return ""


def serve(conn):
    with lock:
        state["session"] += 1
        sess = state["session"]
    record({"session": sess})
    f = conn.makefile("rb")
    def send(line):
        conn.sendall(line.encode() + b"\r\n")
    send("220 queue-test ESMTP")
    authed = False
    mail = None
    rcpts = []
    trans = 0
    rcpt_fail = False
    pending = None
    while True:
        line = pending if pending is not None else f.readline()
        pending = None
        if not line:
            return
        cmd = line.decode("latin-1").rstrip("\r\n")
        up = cmd.upper()
        if up.startswith("EHLO") or up.startswith("HELO"):
            send("250-queue-test")
            send("250-PIPELINING")
            send("250-8BITMIME")
            if args.auth:
                send("250-AUTH PLAIN")
            send("250 SIZE 100000000")
        elif up.startswith("AUTH PLAIN"):
            parts = cmd.split()
            if len(parts) < 3:
                send("334 ")
                resp = f.readline().decode().strip()
            else:
                resp = parts[2]
            got = base64.b64decode(resp).split(b"\0")
            record({"auth": sess})
            if args.auth and got[1:] == args.auth.encode().split(b":"):
                authed = True
                send("235 2.7.0 ok")
            else:
                send("535 5.7.8 no")
        elif up.startswith("MAIL FROM:"):
            with lock:
                state["trans"] += 1
                trans = state["trans"]
            if args.close421 and trans == args.close421:
                send("421 4.3.2 going away")
                conn.close()
                return
            mail = cmd[10:].split(" ")[0].strip("<>")
            rcpts = []
            rcpt_fail = False
            send("250 2.1.0 ok")
        elif up.startswith("RCPT TO:"):
            code = faults.get(("rcpt", trans))
            if code:
                rcpt_fail = True
                send(code + " no rcpt now")
            else:
                rcpts.append(cmd[8:].split(" ")[0].strip("<>"))
                send("250 2.1.5 ok")
        elif up == "DATA":
            code = faults.get(("data", trans))
            if code or not rcpts or mail is None:
                send((code or "554") + " no data now")
                continue
            send("354 go")
            h = hashlib.sha256()
            size = 0
            head = b""
            last = b""
            while True:
                l = f.readline()
                if not l:
                    return
                if l == b".\r\n":
                    break
                if l.startswith(b"."):
                    l = l[1:]
                h.update(l)
                size += len(l)
                if len(head) < 4096:
                    head += l
                if l.strip():
                    last = l
            if trans in args.hold_dot:
                conn.settimeout(20)
                try:
                    pending = f.readline()
                except (socket.timeout, OSError):
                    pending = b""
                conn.settimeout(None)
                record({"held": trans, "session": sess,
                        "next": pending.decode("latin-1").strip()})
            code = faults.get(("dot", trans))
            if code:
                send(code + " not now")
            else:
                record({"trans": trans, "session": sess, "authed": authed,
                        "from": mail, "rcpts": rcpts, "sha": h.hexdigest(),
                        "size": size, "head": head.decode("latin-1"),
                        "subject": subject(head),
                        "tail": last.decode("latin-1").strip()})
                send("250 2.0.0 queued")
                if args.drop and trans == args.drop:
                    conn.close()
                    return
            mail = None
        elif up == "RSET":
            mail = None
            rcpts = []
            send("250 2.0.0 ok")
        elif up == "QUIT":
            record({"quit": sess})
            send("221 2.0.0 bye")
            conn.close()
            return
        elif up == "NOOP":
            send("250 ok")
        else:
            send("502 5.5.2 what")


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(args.portfile + ".tmp", "w") as fp:
    fp.write(str(s.getsockname()[1]))
os.rename(args.portfile + ".tmp", args.portfile)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
