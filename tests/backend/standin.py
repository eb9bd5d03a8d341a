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
        if head == "echo":
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

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.log_path = a.log
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
