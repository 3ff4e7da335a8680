#!/usr/bin/python3
"""A small token issuer for docker-registry's token auth, for the pull tests.

    registry-token.py PORTFILE KEY CERT USER:PASSWORD SERVICE ISSUER

Answers GET /token?service=...&scope=... on 127.0.0.1: with Basic
credentials that match USER:PASSWORD it grants what the scope asks for;
without credentials it grants nothing (an anonymous token: the registry then
answers 401 again); wrong credentials get 401. Tokens are JWTs signed RS256
with KEY, carrying CERT in x5c (the registry trusts CERT through
rootcertbundle). Writes its port to PORTFILE. Tokens last 300 s, or the
seconds PORTFILE.expires holds when it exists (read on each request).
"""
import base64
import http.server
import json
import os
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography import x509

portfile, keyfile, certfile, userpass, service, issuer = sys.argv[1:7]
with open(keyfile, "rb") as f:
    key = serialization.load_pem_private_key(f.read(), None)
with open(certfile, "rb") as f:
    cert_der = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub, access):
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(cert_der).decode()]}
    claims = {"iss": issuer, "sub": sub, "aud": service, "exp": now + 300, "nbf": now - 10,
              "iat": now, "jti": os.urandom(8).hex(), "access": access}
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        with open(portfile + ".log", "a") as f:
            f.write("%s auth=%s\n" % (self.path, "yes" if self.headers.get("Authorization") else "no"))
        auth = self.headers.get("Authorization", "")
        sub, access = "", []
        if auth:
            try:
                given = base64.b64decode(auth.split(" ", 1)[1]).decode()
            except Exception:
                given = ""
            if not auth.startswith("Basic ") or given != userpass:
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"details":"wrong user name or password"}')
                return
            sub = userpass.split(":")[0]
            for scope in q.get("scope", []):
                parts = scope.split(":")
                if len(parts) >= 3:
                    access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                                   "actions": parts[-1].split(",")})
        # PORTFILE.expires, when the test wrote it, holds the lifetime to announce
        try:
            with open(portfile + ".expires") as f:
                expires_in = int(f.read())
        except FileNotFoundError:
            expires_in = 300
        body = json.dumps({"token": token(sub, access), "expires_in": expires_in}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
