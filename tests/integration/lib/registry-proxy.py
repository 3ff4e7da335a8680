#!/usr/bin/python3
"""A misbehaving front for a registry, for the pull tests; 127.0.0.1 only.

    registry-proxy.py PORTFILE UPSTREAM MODE [ARG]

Forwards every request to UPSTREAM (http://127.0.0.1:PORT), except:
  cut N        the first blob response is cut after N bytes of body (the
               connection closes); later ones, with their Range, go through
  cutfull N    the same, but later requests lose their Range header, so the
               registry sends whole blobs again (the client must start over)
  status C K   the first K blob GETs are answered with HTTP status C
  manifest F   manifest GETs are answered with the bytes of file F, served as
               the media type in the file F.type (application/json if none)
  slow S       every blob GET waits S seconds first (a slow link: pulls
               that wait rather than compute, to see them overlap)
  pass         nothing changes
Writes the port it listens on to PORTFILE once it listens, and a line per
request (method, path, Range) to PORTFILE.log.
"""
import http.client
import http.server
import os
import sys
import threading
import time

portfile, upstream, mode = sys.argv[1], sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else None
arg2 = sys.argv[5] if len(sys.argv) > 5 else None
up_host, up_port = upstream.replace("http://", "").split(":")
lock = threading.Lock()
state = {"cut": False, "failed": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self):
        with lock, open(portfile + ".log", "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Range", "-")))

    def do_GET(self):
        self.note()
        if mode == "manifest" and "/manifests/" in self.path:
            with open(arg, "rb") as f:
                body = f.read()
            ctype = "application/json"
            if os.path.exists(arg + ".type"):
                with open(arg + ".type") as f:
                    ctype = f.read().strip()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if mode == "status" and "/blobs/" in self.path:
            with lock:
                fail = state["failed"] < int(arg2)
                state["failed"] += 1
            if fail:
                body = b'{"errors":[{"code":"UNAVAILABLE","message":"injected by the test proxy"}]}'
                self.send_response(int(arg))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        if mode == "slow" and "/blobs/" in self.path and self.command == "GET":
            time.sleep(float(arg))
        drop = ("host", "connection")
        if mode == "cutfull" and state["cut"]:
            drop += ("range",)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in drop}
        conn = http.client.HTTPConnection(up_host, int(up_port), timeout=60)
        conn.request("GET", self.path, headers=headers)
        resp = conn.getresponse()
        cut = None
        with lock:
            if mode in ("cut", "cutfull") and "/blobs/" in self.path and resp.status == 200 and not state["cut"]:
                length = int(resp.getheader("Content-Length", "0"))
                if length > int(arg):
                    state["cut"] = True
                    cut = int(arg)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        sent = 0
        while True:
            chunk = resp.read(65536)
            if not chunk:
                break
            if cut is not None and sent + len(chunk) >= cut:
                self.wfile.write(chunk[:cut - sent])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                conn.close()
                return
            self.wfile.write(chunk)
            sent += len(chunk)
        conn.close()
        self.close_connection = True

    do_HEAD = do_GET


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
