#!/usr/bin/python3
"""A tiny DNS server for the --configure tests: answers SRV questions over
UDP on ADDR:53 from its command line, NXDOMAIN for everything else.

usage: dnsd.py ADDR READYFILE NAME=PRIO:WEIGHT:PORT:TARGET ...
"""

import socket
import struct
import sys


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(msg):
    i, labels = 12, []
    while msg[i] != 0:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += n + 1
    qtype, qclass = struct.unpack("!HH", msg[i + 1:i + 5])
    return ".".join(labels).lower(), qtype, msg[12:i + 5]


def main():
    addr, ready = sys.argv[1], sys.argv[2]
    zone = {}
    for rr in sys.argv[3:]:
        name, val = rr.split("=", 1)
        prio, weight, port, target = val.split(":", 3)
        zone.setdefault(name.lower().rstrip("."), []).append(
            (int(prio), int(weight), int(port), target))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    s.settimeout(120)
    open(ready, "w").close()
    while True:
        try:
            msg, peer = s.recvfrom(4096)
        except socket.timeout:
            return 0
        if len(msg) < 17:
            continue
        qid = msg[:2]
        name, qtype, question = parse_question(msg)
        answers = zone.get(name, []) if qtype == 33 else []
        flags = 0x8180 if name in zone else 0x8183
        hdr = qid + struct.pack("!HHHHH", flags, 1, len(answers), 0, 0)
        body = question
        for prio, weight, port, target in answers:
            rdata = struct.pack("!HHH", prio, weight, port) + \
                name_wire(target)
            body += b"\xc0\x0c" + struct.pack("!HHIH", 33, 1, 60,
                                              len(rdata)) + rdata
        s.sendto(hdr + body, peer)


if __name__ == "__main__":
    sys.exit(main())
