#!/usr/bin/python3
"""A scripted SMTP server for the authentication tests of postern.

It serves one connection on 127.0.0.1 and writes what it saw as JSON.
Server side of PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1/-256 and their -PLUS
variants (the channel binding checked against its own certificate, RFC
5929 tls-server-end-point), XOAUTH2, OAUTHBEARER and EXTERNAL (a verified
client certificate).  Faults on demand: a low iteration count, a wrong
server signature, a 235 before the server signature.

usage: authd.py PORTFILE RECORD [options]
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import ssl
import sys
import time

import re
import subprocess


def cbind_of(certfile):
    """tls-server-end-point: the signature hash, MD5/SHA-1 raised to
    SHA-256; a signature without a separate hash (Ed25519) takes SHA-512,
    as OpenSSL's X509_digest_sig does."""
    der = subprocess.run(["openssl", "x509", "-in", certfile, "-outform",
                          "DER"], capture_output=True, check=True).stdout
    text = subprocess.run(["openssl", "x509", "-in", certfile, "-noout",
                           "-text"], capture_output=True, check=True,
                          text=True).stdout
    alg = re.search(r"Signature Algorithm: *(\S+)", text).group(1).lower()
    m = re.search(r"(md5|sha1|sha224|sha256|sha384|sha512)", alg)
    if m is None:
        name = "sha512"
    elif m.group(1) in ("md5", "sha1"):
        name = "sha256"
    else:
        name = m.group(1)
    return name, hashlib.new(name, der).digest()


class Conn:
    def __init__(self, sock, args, rec):
        self.sock = sock
        self.args = args
        self.rec = rec
        self.buf = b""
        self.tls = False

    def send(self, line):
        self.rec["transcript"].append("S: " + line)
        self.sock.sendall(line.encode() + b"\r\n")

    def line(self):
        while b"\n" not in self.buf:
            try:
                d = self.sock.recv(65536)
            except (ssl.SSLError, OSError):
                d = b""
            if not d:
                return None
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        s = ln.rstrip(b"\r").decode("utf-8", "replace")
        self.rec["transcript"].append("C: " + s)
        return s


def b64d(s):
    try:
        return base64.b64decode(s, validate=True)
    except Exception:
        return None


def b64e(b):
    return base64.b64encode(b).decode()


def scram(c, mech, initial, a, rec):
    """Server side of SCRAM (RFC 5802, RFC 7677).  True on success."""
    plus = mech.endswith("-PLUS")
    hname = "sha256" if "SHA-256" in mech else "sha1"
    first = b64d(initial) if initial else None
    if first is None:
        c.send("334 ")
        ln = c.line()
        if ln is None:
            return False
        first = b64d(ln)
    if first is None:
        c.send("501 bad base64")
        return False
    first = first.decode("utf-8", "replace")
    parts = first.split(",", 2)
    if len(parts) != 3:
        c.send("501 bad client-first")
        return False
    gs2 = parts[0] + "," + parts[1] + ","
    rec["gs2"] = parts[0]
    bare = parts[2]
    attrs = dict(x.split("=", 1) for x in bare.split(",") if "=" in x)
    rec["scram_user"] = attrs.get("n")
    cnonce = attrs.get("r", "")
    if plus and not parts[0].startswith("p="):
        c.send("535 5.7.8 -PLUS needs p=")
        return False
    if not plus and parts[0] == "y" and a.offers_plus:
        # RFC 5802 6: the client could bind and we offered -PLUS: downgrade
        c.send("535 5.7.8 channel binding downgrade detected")
        rec["downgrade_detected"] = True
        return False
    salt = b"postern-salt"
    snonce = cnonce + "SRVNONCE"
    iters = a.iterations
    server_first = "r=%s,s=%s,i=%s" % (snonce, b64e(salt), iters)
    c.send("334 " + b64e(server_first.encode()))
    ln = c.line()
    if ln is None:
        rec["client_final"] = None
        return False
    if ln == "*":
        rec["client_final"] = "*"
        c.send("501 5.7.0 cancelled")
        return False
    final = b64d(ln)
    if final is None:
        c.send("501 bad base64")
        return False
    final = final.decode("utf-8", "replace")
    rec["client_final"] = final
    without_proof, _, proof = final.rpartition(",p=")
    fattrs = dict(x.split("=", 1) for x in without_proof.split(",")
                  if "=" in x)
    cdata = b64d(fattrs.get("c", "")) or b""
    expect = gs2.encode()
    if parts[0].startswith("p="):
        cbname, cb = cbind_of(a.cert)
        rec["cbind_hash"] = cbname
        expect += cb
        rec["cbind_ok"] = cdata == expect
        if cdata != expect:
            c.send("535 5.7.8 channel binding mismatch")
            return False
    elif cdata != expect:
        c.send("535 5.7.8 bad c= attribute")
        return False
    if fattrs.get("r") != snonce:
        c.send("535 5.7.8 nonce mismatch")
        return False
    salted = hashlib.pbkdf2_hmac(hname, a.password.encode(), salt,
                                 int(iters) if iters.isdigit() else 1)
    ckey = hmac.new(salted, b"Client Key", hname).digest()
    stored = hashlib.new(hname, ckey).digest()
    authmsg = (bare + "," + server_first + "," + without_proof).encode()
    csig = hmac.new(stored, authmsg, hname).digest()
    want = bytes(x ^ y for x, y in zip(ckey, csig))
    if b64d(proof) != want:
        c.send("535 5.7.8 wrong proof")
        rec["proof_ok"] = False
        return False
    rec["proof_ok"] = True
    skey = hmac.new(salted, b"Server Key", hname).digest()
    ssig = hmac.new(skey, authmsg, hname).digest()
    if a.bad_signature:
        ssig = bytes(x ^ 1 for x in ssig)
    if a.early_235:
        c.send("235 2.7.0 ok")
        return True
    c.send("334 " + b64e(("v=" + b64e(ssig)).encode()))
    ln = c.line()
    rec["after_v"] = ln
    if ln is None:
        return False
    if ln != "":
        c.send("535 5.7.8 expected an empty response")
        return False
    c.send("235 2.7.0 ok")
    return True


def authenticate(c, args, a, rec):
    mech = args[0].upper()
    initial = args[1] if len(args) > 1 else None
    rec["mech"] = mech
    rec["initial"] = initial is not None
    offered = (a.mechs or "").split()
    if mech not in offered:
        c.send("504 5.5.4 mechanism not offered")
        return False
    if mech == "PLAIN":
        if initial is None:
            c.send("334 ")
            initial = c.line()
        d = b64d(initial or "")
        ok = d is not None and d.split(b"\0") == [
            b"", a.user.encode(), a.password.encode()]
    elif mech == "LOGIN":
        c.send("334 " + b64e(b"Username:"))
        u = b64d(c.line() or "")
        c.send("334 " + b64e(b"Password:"))
        p = b64d(c.line() or "")
        ok = u == a.user.encode() and p == a.password.encode()
    elif mech == "CRAM-MD5":
        chal = b"<1896.697170952@postern.test>"
        c.send("334 " + b64e(chal))
        d = b64d(c.line() or "") or b""
        want = a.user.encode() + b" " + hmac.new(
            a.password.encode(), chal, "md5").hexdigest().encode()
        ok = d == want
    elif mech.startswith("SCRAM-"):
        ok = scram(c, mech, initial, a, rec)
        rec["auth_ok"] = ok
        return ok
    elif mech == "XOAUTH2":
        if initial is None:
            c.send("334 ")
            initial = c.line()
        d = b64d(initial or "")
        rec["oauth"] = d.decode("utf-8", "replace") if d else None
        ok = d == ("user=%s\x01auth=Bearer %s\x01\x01" % (
            a.user, a.password)).encode()
        if not ok:
            c.send("334 " + b64e(b'{"status":"401"}'))
            rec["oauth_ack"] = c.line()
    elif mech == "OAUTHBEARER":
        d = b64d(initial or "")
        rec["oauth"] = d.decode("utf-8", "replace") if d else None
        ok = d == ("n,a=%s,\x01host=127.0.0.1\x01port=%d\x01auth=Bearer "
                   "%s\x01\x01" % (a.user, a.port, a.password)).encode()
        if not ok:
            c.send("334 " + b64e(b'{"status":"invalid_token"}'))
            rec["oauth_ack"] = c.line()
    elif mech == "EXTERNAL":
        if initial is None:
            c.send("334 ")
            initial = c.line()
        d = b64d(initial or "")
        rec["external_authzid"] = d.decode() if d is not None else None
        ok = c.tls and rec.get("client_cert") is not None
    else:
        c.send("504 5.5.4 not implemented here")
        return False
    rec["auth_ok"] = ok
    c.send("235 2.7.0 ok" if ok else "535 5.7.8 authentication failed")
    return ok


def session(c, a, rec, ctx):
    while a.hold and not os.path.exists(a.hold):
        time.sleep(0.05)
    c.send("220 postern.test ESMTP authd")
    authed = False
    while True:
        ln = c.line()
        if ln is None:
            rec["closed_by_client"] = True
            return
        word = ln.split(" ", 1)[0].upper()
        if word in ("EHLO", "HELO"):
            caps = ["postern.test", "PIPELINING", "SIZE 1000000"]
            mechs = a.mechs if c.tls or a.tls == "off" else a.mechs_pre
            if mechs:
                caps.append("AUTH " + mechs)
            if a.tls == "starttls" and not c.tls:
                caps.append("STARTTLS")
            for i, cap in enumerate(caps):
                c.send("250%s%s" % (" " if i == len(caps) - 1 else "-",
                                    cap))
        elif word == "STARTTLS":
            c.send("220 go ahead")
            wrap(c, ctx, rec)
        elif word == "AUTH":
            args = ln.split()[1:]
            rec.setdefault("auth_commands", []).append(ln.split()[1])
            if authed or not args:
                c.send("503 5.5.1 bad sequence")
                continue
            authed = authenticate(c, args, a, rec)
        elif word == "MAIL":
            if a.require_auth and not authed:
                c.send("530 5.7.0 authentication required")
                continue
            rec["from"] = ln
            c.send("250 ok")
        elif word == "RCPT":
            rec.setdefault("rcpt", []).append(ln)
            c.send("250 ok")
        elif word == "DATA":
            c.send("354 go")
            data = []
            while True:
                d = c.line()
                if d is None or d == ".":
                    break
                data.append(d)
            rec["data"] = "\n".join(data)
            rec["delivered"] = authed or not a.require_auth
            c.send("250 2.0.0 queued as AUTHD")
        elif word == "ETRN":
            c.send("250 queuing started")
        elif word == "RSET" or word == "NOOP":
            c.send("250 ok")
        elif word == "QUIT":
            c.send("221 bye")
            return
        else:
            c.send("500 unknown command")


def wrap(c, ctx, rec):
    c.sock = ctx.wrap_socket(c.sock, server_side=True)
    c.tls = True
    peer = c.sock.getpeercert(binary_form=True)
    rec["client_cert"] = hashlib.sha256(peer).hexdigest() if peer else None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("portfile")
    p.add_argument("record")
    p.add_argument("--tls", choices=("off", "starttls", "implicit"),
                   default="starttls")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--client-ca")
    p.add_argument("--mechs", default="PLAIN")
    p.add_argument("--mechs-pre", default="")
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default="s3cret")
    p.add_argument("--iterations", default="4096")
    p.add_argument("--bad-signature", action="store_true")
    p.add_argument("--early-235", action="store_true")
    p.add_argument("--require-auth", action="store_true")
    p.add_argument("--supports-plus", action="store_true",
                   help="bind channels even when the list lacks -PLUS")
    p.add_argument("--hold", help="greet only once this file exists")
    a = p.parse_args()
    a.offers_plus = a.supports_plus or any(
        m.endswith("-PLUS") for m in a.mechs.split())

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    a.port = ls.getsockname()[1]
    tmp = a.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % a.port)
    os.rename(tmp, a.portfile)

    ctx = None
    if a.tls != "off":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.client_ca:
            ctx.load_verify_locations(a.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
    ls.settimeout(120)
    rec = {"transcript": []}

    def term(signo, frame):
        rec["error"] = "terminated"
        save(a.record, rec)
        os._exit(0)
    signal.signal(signal.SIGTERM, term)
    try:
        s, _ = ls.accept()
    except socket.timeout:
        rec["error"] = "no connection"
        s = None
    if s is not None:
        s.settimeout(120)
        c = Conn(s, a, rec)
        try:
            if a.tls == "implicit":
                wrap(c, ctx, rec)
            session(c, a, rec, ctx)
        except (OSError, ssl.SSLError) as e:
            rec["error"] = str(e)
        s.close()
    save(a.record, rec)


def save(path, rec):
    with open(path + ".tmp", "w") as f:
        json.dump(rec, f, indent=1)
    os.rename(path + ".tmp", path)


if __name__ == "__main__":
    sys.exit(main())
