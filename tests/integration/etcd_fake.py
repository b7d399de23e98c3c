#!/usr/bin/env python3
"""etcd_fake.py: stand-ins for etcd's JSON gateway, or proxies in front of a
real one, for what a healthy etcd 3.4 on loopback cannot show.  Used by
t_etcd.sh and t_wcache.sh.  Every mode listens on 127.0.0.1:PORT and
prints one line per request it serves on stdout ("watch=3 range=1 ...",
running counts), flushed, so a script reads the last line.

  v35 PORT UPSTREAM      HTTP proxy to UPSTREAM (http://h:p) as etcd 3.5's
                         gateway is: /v3beta/* answers a plain-text 404
  v33 PORT UPSTREAM      as etcd 3.3's: /v3/* a plain-text 404, /v3beta/X
                         forwarded as /v3/X
  tcp PORT UPSTREAM FILE TCP relay to UPSTREAM (h:p).  Once FILE exists it
                         is a frozen member: connections stay open, bytes
                         are read and dropped, nothing is answered.  Request
                         heads are logged on stdout ("HEAD POST /v3/watch
                         grpc-metadata-hasleader=true")
  poison PORT            ranges: nothing, at revision 4; watches: "created"
                         and then an event line that cannot be parsed
  flap PORT              ranges as poison; watches: "created", then the
                         connection is closed
  bigline PORT MB [KB]   watches: "created", then one event whose value is
                         MB MiB, sent in chunks of KB KiB (default 16)
  auth PORT              authenticate hands out tok1, tok2, ...; a range
                         with a token other than the latest is "invalid auth
                         token".  Keys: /invalidate (answers, then no token
                         is valid), /slow (waits 1 s before checking the
                         token), /authcount (value: authentications so far)
"""
import base64
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

COUNTS = {}
LOCK = threading.Lock()


def count(what):
    with LOCK:
        COUNTS[what] = COUNTS.get(what, 0) + 1
        print(" ".join("%s=%d" % kv for kv in sorted(COUNTS.items())),
              flush=True)


def chunk(b):
    return b"%x\r\n" % len(b) + b + b"\r\n"


def kind(path):
    return path.rsplit("/", 1)[-1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def answer(self, status, out, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def forward(self, path, body):
        req = urllib.request.Request(UPSTREAM + path, data=body,
                                     method="POST")
        try:
            with urllib.request.urlopen(req) as r:
                out, st = r.read(), r.status
        except urllib.error.HTTPError as e:
            out, st = e.read(), e.code
        self.answer(st, out)

    def stream_head(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    # ---- modes
    def do_v35(self, body):
        if self.path.startswith("/v3beta/"):
            self.answer(404, b"404 page not found\n", "text/plain")
        else:
            self.forward(self.path, body)

    def do_v33(self, body):
        if self.path.startswith("/v3/"):
            self.answer(404, b"404 page not found\n", "text/plain")
        else:
            self.forward("/v3/" + self.path[len("/v3beta/"):], body)

    def do_poison(self, body, flap=False):
        if kind(self.path) == "range":
            self.answer(200, b'{"header":{"revision":"4"}}')
            return
        self.stream_head()
        self.wfile.write(chunk(
            b'{"result":{"header":{"revision":"4"},"created":true}}\n'))
        self.wfile.flush()
        if flap:
            self.close_connection = True
            return
        self.wfile.write(chunk(
            b'{"result":{"header":{"revision":"5"},"events":[{"kv":'
            b'{"key":"L2Ev","mod_revision":"5","value":"!!!"}}]}}\n'))
        self.wfile.flush()
        time.sleep(60)

    def do_flap(self, body):
        self.do_poison(body, flap=True)

    def do_bigline(self, body):
        val = base64.b64encode(b"x" * (BIG_MB << 20))
        line = (b'{"result":{"header":{"revision":"5"},"events":[{"kv":'
                b'{"key":"L2E=","mod_revision":"5","value":"' + val +
                b'"}}]}}\n')
        self.stream_head()
        self.wfile.write(chunk(
            b'{"result":{"header":{"revision":"4"},"created":true}}\n'))
        for i in range(0, len(line), BIG_KB << 10):
            self.wfile.write(chunk(line[i:i + (BIG_KB << 10)]))
        self.wfile.flush()
        time.sleep(60)

    def do_auth(self, body):
        hdr = b'"header":{"revision":"9"}'
        if kind(self.path) == "authenticate":
            with LOCK:
                AUTH["n"] += 1
                AUTH["valid"] = "tok%d" % AUTH["n"]
                tok = AUTH["valid"]
            self.answer(200, b'{' + hdr + b',"token":"' + tok.encode() +
                        b'"}')
            return
        key = base64.b64decode(json.loads(body).get("key", "")).decode()
        if key == "/slow":
            time.sleep(1)
        with LOCK:
            ok = self.headers.get("Authorization") == AUTH["valid"]
            if ok and key == "/invalidate":
                AUTH["valid"] = None
            n = AUTH["n"]
        if not ok:
            self.answer(401, b'{"error":"etcdserver: invalid auth token",'
                        b'"message":"etcdserver: invalid auth token",'
                        b'"code":16}')
            return
        val = base64.b64encode(b"%d" % n if key == "/authcount" else b"v")
        kv = (b'{"key":"' + base64.b64encode(key.encode()) +
              b'","mod_revision":"9","value":"' + val + b'"}')
        self.answer(200, b'{' + hdr + b',"kvs":[' + kv + b'],"count":"1"}')

    def do_POST(self):
        body = self.body()
        count(kind(self.path))
        getattr(self, "do_" + MODE)(body)


# ---- the TCP relay


def relay(src, dst, frozen):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if os.path.exists(frozen):
                continue
            if b.startswith(b"POST "):
                head = b.split(b"\r\n\r\n", 1)[0].decode("latin-1")
                lines = head.split("\r\n")
                meta = [l.lower().replace(": ", "=") for l in lines[1:]
                        if l.lower().startswith("grpc-metadata-")]
                print("HEAD " + " ".join(lines[0].split()[:2] + meta),
                      flush=True)
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve_tcp(port, upstream, frozen):
    host, uport = upstream.rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        if os.path.exists(frozen):
            # a frozen member: the kernel accepted, nobody answers
            threading.Thread(target=lambda c=c: (c.recv(1 << 20),
                             time.sleep(3600)), daemon=True).start()
            continue
        u = socket.create_connection((host, int(uport)))
        threading.Thread(target=relay, args=(c, u, frozen),
                         daemon=True).start()
        threading.Thread(target=relay, args=(u, c, frozen),
                         daemon=True).start()


MODE = sys.argv[1]
PORT = int(sys.argv[2])
UPSTREAM = sys.argv[3] if MODE in ("v35", "v33") else None
BIG_MB = int(sys.argv[3]) if MODE == "bigline" else 0
BIG_KB = int(sys.argv[4]) if MODE == "bigline" and len(sys.argv) > 4 else 16
AUTH = {"n": 0, "valid": None}
if MODE == "tcp":
    serve_tcp(PORT, sys.argv[3], sys.argv[4])
else:
    http.server.ThreadingHTTPServer.daemon_threads = True
    http.server.ThreadingHTTPServer(("127.0.0.1", PORT),
                                    Handler).serve_forever()
