#!/usr/bin/python3
"""Make an HS256-signed JWT for Dovecot's local OAuth 2.0 validation.

usage: oauth.py KEYDIR USER  -- writes KEYDIR/default/HS256/default (the
key, base64, as Dovecot reads it) and prints a token valid for an hour.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    keydir, user = sys.argv[1], sys.argv[2]
    key = os.urandom(32)
    d = os.path.join(keydir, "default", "HS256")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "default"), "w") as f:
        f.write(base64.b64encode(key).decode())
    for p in (keydir, os.path.join(keydir, "default"), d):
        os.chmod(p, 0o755)
    os.chmod(os.path.join(d, "default"), 0o644)
    now = int(time.time())
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": user, "iat": now - 60,
                              "nbf": now - 60, "exp": now + 3600}).encode())
    sig = hmac.new(key, (head + "." + body).encode(), hashlib.sha256).digest()
    print(head + "." + body + "." + b64url(sig))


if __name__ == "__main__":
    sys.exit(main())
