#!/usr/bin/python3
"""Write a queue entry in postern's spool format (lib/libpostern/spool.h).

usage: entry.py ACCOUNT FROM UID RCPT... <MESSAGE >ENTRY

The entry says whatever it is told: UID is what the entry claims, which
the system queue must never believe.
"""

import hashlib
import struct
import sys
import time

MAGIC = b"POSTERN-QUEUE-1\n"
ACCOUNT, CONFFILE, ARG, TIME, UID, FROM, RCPT, NOTICE, HEADSUM, BODY, END = \
    range(1, 12)


def rec(t, data):
    return struct.pack(">BQ", t, len(data)) + data


def main():
    account, sender, uid = sys.argv[1:4]
    head = MAGIC + rec(ACCOUNT, account.encode()) + rec(CONFFILE, b"")
    head += rec(TIME, struct.pack(">Q", int(time.time())))
    head += rec(UID, struct.pack(">Q", int(uid)))
    head += rec(FROM, sender.encode())
    for r in sys.argv[4:]:
        head += rec(RCPT, r.encode())
    head += rec(HEADSUM, hashlib.sha256(head).digest())
    body = sys.stdin.buffer.read().replace(b"\r\n", b"\n")
    body = body.replace(b"\n", b"\r\n")
    out = head + rec(BODY, body) + rec(END, hashlib.sha256(body).digest())
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main()
