#!/usr/bin/env python3
"""A recording HTTP server: "evil" for the trust tests (lib-record.sh).

Listens on 127.0.0.1 (a free port, written to --port-file), appends each
request's line and every header to --log as it arrives, then a blank line,
and answers: PUT and POST with 201, everything else with --status (404 by
default; 401 adds a WWW-Authenticate: Basic challenge). Bodies are read and
dropped. It exits when the process --watch names is gone, so a test script
that dies never leaves it running.
"""

import argparse
import http.server
import os
import socketserver
import sys
import threading
import time

LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        with LOCK, open(self.server.log, "a") as f:
            f.write(self.requestline + "\n")
            for name, value in self.headers.items():
                f.write("%s: %s\n" % (name, value))
            f.write("\n")

    def answer(self):
        self.record()
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            length -= len(chunk)
        status = 201 if self.command in ("PUT", "POST") else self.server.status
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="evil"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = answer


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--watch", type=int, required=True)
    ap.add_argument("--status", type=int, default=404)
    a = ap.parse_args()

    srv = Server(("127.0.0.1", 0), Handler)
    srv.log, srv.status = a.log, a.status
    open(a.log, "a").close()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    while True:
        try:
            os.kill(a.watch, 0)
        except OSError:
            break
        time.sleep(0.5)
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
