#!/usr/bin/python3
"""Checks used by regress/interop/suite.  Each subcommand prints nothing and
exits 0 when the check holds; otherwise it prints the reason (one or more
lines) and exits 1.

  check.py delivery REC_FILE key=value...
      REC_FILE holds one JSON delivery record (see recorder).  Keys:
      sender=ADDR, rcpts=a,b (compared sorted), sasl=METHOD ('' for none),
      user=NAME, with=ESMTPS|ESMTPSA (from Postfix's Received header),
      has=TEXT (the message contains TEXT), lacks=TEXT.
  check.py same REC_FILE_A REC_FILE_B
      Same envelope (sender, sorted recipients) and same bytes, after
      dropping Postfix's own Received: header and blanking the values of
      Date: and Message-ID:.  Prints a diff when they differ.
  check.py probe CA PORT_A PORT_B PORT_C MECH...
      Speaks to the three ports with smtplib and prints one line per check:
      "ok<TAB>text" or "not ok<TAB>text".
"""
import base64
import difflib
import json
import re
import smtplib
import socket
import ssl
import sys


def load(path):
    with open(path) as f:
        return json.loads(f.read())


def data(rec):
    return base64.b64decode(rec["data_b64"])


def received(rec):
    """Postfix's Received: field (the first one), unfolded."""
    lines = data(rec).split(b"\n")
    if not lines or not lines[0].lower().startswith(b"received:"):
        return ""
    out = [lines[0]]
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            out.append(line)
        else:
            break
    return b" ".join(x.strip() for x in out).decode("utf-8", "replace")


def normalize(raw):
    """Drop the first Received: field, blank Date: and Message-ID: values
    in the header section."""
    lines = raw.split(b"\n")
    i = 0
    if lines and lines[0].lower().startswith(b"received:"):
        i = 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
    out = []
    in_header = True
    skipping = False
    for line in lines[i:]:
        if in_header:
            if line in (b"", b"\r"):
                in_header = False
            elif skipping and line[:1] in (b" ", b"\t"):
                continue
            else:
                skipping = False
                m = re.match(rb"(?i)(date|message-id):", line)
                if m:
                    out.append(m.group(1).lower() + b": <normalized>")
                    skipping = True
                    continue
        out.append(line)
    return out


def cmd_delivery(args):
    rec = load(args[0])
    errs = []
    for kv in args[1:]:
        key, _, want = kv.partition("=")
        if key == "sender":
            got = rec.get("sender")
        elif key == "rcpts":
            got = ",".join(sorted(rec.get("recipients", [])))
            want = ",".join(sorted(want.split(","))) if want else ""
        elif key == "sasl":
            got = rec.get("sasl_method", "")
        elif key == "user":
            got = rec.get("sasl_username", "")
        elif key == "with":
            m = re.search(r"\(Postfix\) with (\S+)", received(rec))
            got = m.group(1) if m else "(no Received header)"
        elif key == "has":
            if want.encode() not in data(rec):
                errs.append("message lacks %r" % want)
            continue
        elif key == "lacks":
            if want.encode() in data(rec):
                errs.append("message contains %r" % want)
            continue
        else:
            errs.append("unknown key %s" % key)
            continue
        if got != want:
            errs.append("%s: got %r, want %r" % (key, got, want))
    for e in errs:
        print(e)
    return 1 if errs else 0


def cmd_same(args):
    a, b = load(args[0]), load(args[1])
    errs = []
    if a["sender"] != b["sender"]:
        errs.append("envelope sender: %r vs %r" % (a["sender"], b["sender"]))
    if sorted(a["recipients"]) != sorted(b["recipients"]):
        errs.append("recipients: %r vs %r" % (sorted(a["recipients"]),
                                              sorted(b["recipients"])))
    na, nb = normalize(data(a)), normalize(data(b))
    if na != nb:
        errs.append("message bytes differ (first: %s, second: %s):" %
                    (a["file"], b["file"]))
        for line in difflib.unified_diff(
                [repr(x)[2:-1] for x in na], [repr(x)[2:-1] for x in nb],
                "reference", "client", lineterm="", n=2):
            errs.append(line)
            if len(errs) > 40:
                errs.append("...")
                break
    for e in errs:
        print(e)
    return 1 if errs else 0


def cmd_probe(args):
    ca, pa, pb, pc = args[0], int(args[1]), int(args[2]), int(args[3])
    want_mechs = set(args[4:])
    ctx = ssl.create_default_context(cafile=ca)
    host = "127.0.0.1"
    results = []

    def check(text, fn):
        try:
            err = fn()
        except (OSError, smtplib.SMTPException, ssl.SSLError) as e:
            err = "%s: %s" % (type(e).__name__, e)
        results.append(("not ok" if err else "ok", text + (": " + err if err else "")))

    def auth_mechs(s):
        return set(s.esmtp_features.get("auth", "").upper().split())

    def port_a():
        with smtplib.SMTP(host, pa, local_hostname="probe.test", timeout=20) as s:
            s.ehlo()
            if not s.has_extn("starttls"):
                return "no STARTTLS in EHLO"
            if s.has_extn("auth"):
                return "AUTH offered before STARTTLS"
            s.starttls(context=ctx)
            s.ehlo()
            if not auth_mechs(s):
                return "no AUTH after STARTTLS"
        return None

    def port_b():
        with smtplib.SMTP_SSL(host, pb, local_hostname="probe.test",
                              context=ctx, timeout=20) as s:
            s.ehlo()
            if not auth_mechs(s):
                return "no AUTH offered"
            s.mail("probe@example.test")
            code, msg = s.rcpt("nobody@example.test")
            if code < 500:
                return "unauthenticated RCPT got %d %s" % (code, msg)
        return None

    def port_c_plain():
        with smtplib.SMTP(host, pc, local_hostname="probe.test", timeout=20) as s:
            s.ehlo()
            if s.has_extn("auth"):
                return "AUTH offered before STARTTLS"
            code, msg = s.mail("probe@example.test")
            if code != 530:
                return "MAIL before STARTTLS got %d %s" % (code, msg)
        return None

    def port_c_tls():
        with smtplib.SMTP(host, pc, local_hostname="probe.test", timeout=20) as s:
            s.starttls(context=ctx)
            s.ehlo()
            got = auth_mechs(s)
            if not want_mechs <= got:
                return "AUTH %s lacks %s" % (" ".join(sorted(got)),
                                             " ".join(sorted(want_mechs - got)))
            s.mail("probe@example.test")
            code, msg = s.rcpt("nobody@example.test")
            if code < 500:
                return "unauthenticated RCPT got %d %s" % (code, msg)
        return None

    check("port A offers STARTTLS, and AUTH only after it", port_a)
    check("port B is implicit TLS (certificate verified for 127.0.0.1), "
          "offers AUTH, refuses unauthenticated RCPT", port_b)
    check("port C offers no AUTH before STARTTLS and answers MAIL with 530", port_c_plain)
    check("port C after STARTTLS offers AUTH %s and refuses unauthenticated RCPT"
          % " ".join(sorted(want_mechs)), port_c_tls)
    for status, text in results:
        print("%s\t%s" % (status, text))
    return 0


def main(argv):
    cmds = {"delivery": cmd_delivery, "same": cmd_same, "probe": cmd_probe}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 64
    return cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
