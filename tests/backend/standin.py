#!/usr/bin/env python3
"""Backend stand-in for tests: a real HTTP(S) server on loopback, in its own process.

Python standard library only (http.server + ssl), so the box's client is tested against a
TLS and HTTP implementation that is not ours. Every request is appended to --log as one
JSON line {"method", "path", "body"}.

Paths:
  /echo                 200, JSON {"method", "path", "body"} of the request
  /status/<code>        that status, JSON {"status": code}
  /delay/<ms>           waits, then 200 {"delayed_ms": ms}
  /big/<bytes>          200 with a body of that many 'x'
  /latin1               200 with a body that is not UTF-8
  /close                closes the connection without answering
  /redirect             302 to /echo (the client must not follow it)

The sample flows' backends (flows/hospital.toml, flows/bank.toml):
  POST /api/appointments {department, when, caller}  → {"ticket": "20417"}
  GET  /api/results?id=ID                            → {"count": 2} for 11010519491231002X, else 0
  POST /api/balance {card, pin}                      → {"ok": true, "balance": "12345.60"} for
                                                       PIN 864209, else {"ok": false}
  POST /api/freeze {card, caller}                    → {"reference": "88001234"}
--api-delay-ms N delays every /api answer (to trip the box's timeout); --api-status N answers
every /api request with that status instead.

Usage: standin.py --port-file F --log F [--cert F --key F]   (no cert: plain HTTP)
The chosen port (free, picked by the OS) is written to --port-file once it listens.
"""
import argparse
import http.server
import json
import os
import socket
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the JSON log is the record
        pass

    def _answer(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        with open(self.server.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "body": body}) + "\n")
        parts = self.path.split("?")[0].strip("/").split("/")
        head = parts[0]
        arg = parts[1] if len(parts) > 1 else ""
        if head == "api":
            self._api(arg, body)
        elif head == "echo":
            out = {"method": self.command, "path": self.path, "body": body,
                   "host": self.headers.get("Host"), "content_type": self.headers.get("Content-Type")}
            self._answer(200, json.dumps(out).encode())
        elif head == "status":
            self._answer(int(arg), json.dumps({"status": int(arg)}).encode())
        elif head == "delay":
            time.sleep(int(arg) / 1000)
            self._answer(200, json.dumps({"delayed_ms": int(arg)}).encode())
        elif head == "big":
            self._answer(200, b"x" * int(arg), "text/plain")
        elif head == "latin1":
            self._answer(200, "caf\u00e9".encode("latin-1"), "text/plain")
        elif head == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif head == "redirect":
            self.send_response(302)
            self.send_header("Location", "/echo")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._answer(404, b'{"error":"no such path"}')

    def _api(self, name, body):
        srv = self.server
        if srv.api_delay_ms:
            time.sleep(srv.api_delay_ms / 1000)
        if srv.api_status:
            self._answer(srv.api_status, json.dumps({"error": "backend unavailable"}).encode())
            return
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            self._answer(400, b'{"error":"body is not JSON"}')
            return
        query = dict(p.split("=", 1) for p in self.path.partition("?")[2].split("&") if "=" in p)
        if name == "appointments" and self.command == "POST":
            ok = all(req.get(k) for k in ("department", "when"))
            self._answer(200 if ok else 422, json.dumps({"ticket": "20417"} if ok else {"error": "department and when are required"}).encode())
        elif name == "results" and self.command == "GET":
            count = 2 if query.get("id") == "11010519491231002X" else 0
            self._answer(200, json.dumps({"count": count}).encode())
        elif name == "balance" and self.command == "POST":
            if req.get("pin") == "864209":
                out = {"ok": True, "balance": "12345.60"}
            else:
                out = {"ok": False}
            self._answer(200, json.dumps(out).encode())
        elif name == "freeze" and self.command == "POST":
            self._answer(200, json.dumps({"reference": "88001234"}).encode())
        else:
            self._answer(404, b'{"error":"no such API"}')

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--api-delay-ms", type=int, default=0)
    ap.add_argument("--api-status", type=int, default=0)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.log_path = a.log
    srv.api_delay_ms = a.api_delay_ms
    srv.api_status = a.api_status
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
