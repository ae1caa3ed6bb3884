#!/usr/bin/env python3
"""lfs-server.py: a Git LFS server for the git-model tests.

It speaks the Git LFS batch API (git-lfs's docs/api/batch.md) with the
"basic" transfer adapter (docs/api/basic-transfers.md), so that the suite
can check git-model and the real git-lfs client against one server. It is
written for the tests from the specification, with the standard library
only (http.server).

    python3 lfs-server.py --root DIR --port-file FILE --log FILE
        [--port N] [--user NAME --password-file FILE] [--config FILE]
        [--token-file FILE]

It listens on 127.0.0.1 (port 0 unless --port: the kernel picks one) and
writes the port to --port-file, through a temporary file and a rename, once
it accepts connections.

Endpoints. Any path ending in /objects/batch is a batch endpoint; the part
before it (the "LFS prefix", "/repo.git/info/lfs" for a remote
http://host/repo.git) names a repository, whose objects are kept apart
from the others' under --root:

    ROOT/<prefix, '/' as '%2F'>/<oid[0:2]>/<oid[2:4]>/<oid>

    POST <prefix>/objects/batch      the batch API
    PUT  <prefix>/objects/<oid>      upload (an action's href)
    GET  <prefix>/objects/<oid>      download, with Range: bytes=N- or N-M
    POST <prefix>/objects/<oid>/verify   the verify action
    POST <prefix>/locks/verify       no locks ({"ours": [], "theirs": []})

With --git-root DIR it is a git host too: git's smart HTTP
(<repo>/info/refs, <repo>/git-upload-pack, <repo>/git-receive-pack) is
served by `git http-backend` for the bare repositories under DIR, without
credentials, so that http://127.0.0.1:PORT/r.git is a remote whose LFS
endpoint is http://127.0.0.1:PORT/r.git/info/lfs.

A batch request needs Accept and Content-Type application/vnd.git-lfs+json
(else 406 and 415), a JSON body with "operation" upload or download and
"objects"; a "transfers" list without "basic" gets 422. With --user, it
needs HTTP Basic credentials of that user (password read from
--password-file at each request), or "Authorization: RemoteAuth TOKEN"
with a token listed in --token-file (one a line: what a
git-lfs-authenticate over ssh hands out); without them 401 with
"LFS-Authenticate: Basic realm=...", wrong ones 403. Downloads need no
credentials when the configuration says anonymous_download.

Each object of a batch answer has either an "error" ({"code", "message"})
or, unless an upload finds the object already there (no "actions": the
client must skip it), the actions: "download", or "upload" and "verify".
Each action has an href on this server, a "header" with
"Authorization: Bearer <token>", and expires_in (or expires_at, or both).
The token is an HMAC of the operation, the prefix, the oid and its expiry
time, under a key made at start: the object requests need it, not the
user's credentials (401 without it, 403 when it is wrong or expired).
Per-object errors: 404 (download of an object the server lacks), 422 (an
oid that is not 64 lowercase hex digits, a negative or non-integer size,
an upload whose size differs from the stored object's), and any code the
configuration gives for an oid.

An upload streams the body (Content-Length or chunked) to a temporary
file, hashing it; only a body whose SHA-256 and size are the href's oid
and the batch's size is renamed into place (200), else 422 and nothing is
stored. verify answers 200 when the object is there with the size sent,
else 404.

--config FILE, a JSON object, is read again at each request (a missing
file is {}); the counters below start again whenever the file changes:

    anonymous_download  true: download batches and objects need no
                        credentials
    read_only           true: upload batches get 403
    expires_in          seconds an href lives (default 3600)
    expiry              "in" (default), "at" (expires_at, RFC 3339) or
                        "both"
    stale_hrefs         the first N hrefs handed out are already expired
                        here, though the answer says they live
                        expires_in seconds (as after a clock skew or a
                        revoked token): their requests get 403
    verify              false: no verify actions
    max_batch           most objects in a batch (default 100; more: 413)
    object_errors       {"<oid>": CODE}: that object's error in every batch
    fail_batches        the first N batch requests get 503 with
                        Retry-After: 0
    fail_downloads      the first N object GETs send half the body, then
                        close the connection
    expired_actions     the first N actions handed out say they expired
                        a minute ago (expires_in -60, expires_at in the
                        past) and their tokens have
    corrupt_downloads   the first N object GETs send other bytes of the
                        right length (a server that lies)

--log FILE gets one line per request, written just before the last byte
of the response goes out:

    <start-ms> <end-ms> <method> <path> <status> <user> <detail>
    1712345678123 1712345678130 POST /r.git/info/lfs/objects/batch 200 alice upload:3

<path> has no query; <user> is the Basic user sent ("-" if none,
"token" for a RemoteAuth token); <detail> is "<operation>:<object count>"
for a batch, "range=<first>-" for a ranged GET, "-" otherwise.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_TYPE = "application/vnd.git-lfs+json"
OID_RE = re.compile(r"^[0-9a-f]{64}$")
BUF_SIZE = 1 << 16
MAX_JSON = 1 << 20


class State:
    """What the handler threads share: the options, the token key, the
    configuration and its counters (under one lock)."""

    def __init__(self, args):
        self.args = args
        self.key = secrets.token_bytes(32)
        self.lock = threading.Lock()
        self.config_stamp = None
        self.config = {}
        self.counters = {}
        self.log_lock = threading.Lock()

    def read_config(self):
        """The configuration now; resets the counters when it changed."""
        path = self.args.config
        with self.lock:
            try:
                st = os.stat(path) if path else None
                stamp = (st.st_mtime_ns, st.st_size, st.st_ino) if st else None
            except FileNotFoundError:
                stamp = None
            if stamp != self.config_stamp:
                config = {}
                if stamp is not None:
                    with open(path, encoding="utf-8") as f:
                        text = f.read()
                    config = json.loads(text) if text.strip() else {}
                self.config = config
                self.config_stamp = stamp
                self.counters = {}
            return self.config

    def take(self, name, limit):
        """True for the first `limit` calls with `name` since the
        configuration last changed."""
        with self.lock:
            n = self.counters.get(name, 0)
            self.counters[name] = n + 1
            return n < limit

    def token(self, op, prefix, oid, expiry):
        msg = "\0".join((op, prefix, oid, str(expiry))).encode()
        mac = hmac.new(self.key, msg, hashlib.sha256).hexdigest()
        return "%d.%s" % (expiry, mac)

    def token_ok(self, token, op, prefix, oid):
        """None if the token is good, else why not."""
        try:
            expiry = int(token.split(".", 1)[0])
        except ValueError:
            return "malformed token"
        if not hmac.compare_digest(token, self.token(op, prefix, oid, expiry)):
            return "wrong token"
        if expiry <= time.time():
            return "expired token"
        return None

    def object_path(self, prefix, oid):
        repo = urllib.parse.quote(prefix, safe="")
        return os.path.join(self.args.root, repo, oid[0:2], oid[2:4], oid)

    def log(self, line):
        if not self.args.log:
            return
        with self.log_lock:
            with open(self.args.log, "a", encoding="utf-8") as f:
                f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lfs-test-server/1"

    def log_message(self, fmt, *args):
        pass

    def handle(self):
        # A client may close its connection without reading all of an
        # answer it does not need (git-lfs does, for verify).
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # Answering, and the log line.

    def setup(self):
        super().setup()
        # The last byte of an answer goes out on its own (finish_log):
        # without this it would wait for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.started = 0

    def begin(self):
        self.started = int(time.time() * 1000)
        self.user = "-"
        self.detail = "-"
        self.state = self.server.state

    def finish_log(self, status):
        path = urllib.parse.urlsplit(self.path).path
        self.state.log("%d %d %s %s %s %s %s" % (
            self.started, int(time.time() * 1000), self.command, path,
            status, self.user, self.detail))

    def send_body(self, status, body, ctype, headers=None, close=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and len(body) > 1:
            self.wfile.write(body[:-1])
        self.wfile.flush()
        self.finish_log(status)
        if self.command != "HEAD" and body:
            self.wfile.write(body[-1:])

    def send_json(self, status, obj, headers=None, close=False):
        body = (json.dumps(obj, indent=1) + "\n").encode()
        self.send_body(status, body, LFS_TYPE, headers, close)

    def send_error_json(self, status, message, headers=None):
        # A body we did not read would be taken for the next request.
        self.send_json(status, {"message": message}, headers,
                       close=self.body_left())

    def body_left(self):
        n = self.headers.get("Content-Length")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "")
        return chunked or (n is not None and n.strip() not in ("", "0"))

    # Reading bodies: Content-Length or chunked, never more than `cap`.

    def read_body_chunks(self, cap):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            total = 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ValueError("connection closed in a chunked body")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                total += size
                if total > cap:
                    raise ValueError("body too large")
                while size > 0:
                    data = self.rfile.read(min(size, BUF_SIZE))
                    if not data:
                        raise ValueError("connection closed in a chunk")
                    size -= len(data)
                    yield data
                self.rfile.readline(1024)
            return
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > cap:
            raise ValueError("body too large")
        while n > 0:
            data = self.rfile.read(min(n, BUF_SIZE))
            if not data:
                raise ValueError("connection closed in the body")
            n -= len(data)
            yield data

    def read_json(self):
        body = b"".join(self.read_body_chunks(MAX_JSON))
        return json.loads(body.decode("utf-8"))

    # Credentials.

    def basic_user(self):
        """(user, password) of a Basic Authorization header, or None."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return ("?", None)
        return (user, password)

    def check_batch_auth(self, config, operation):
        """None when the batch may go on, else (status, message)."""
        args = self.state.args
        auth = self.headers.get("Authorization", "")
        if auth.startswith("RemoteAuth ") and args.token_file:
            self.user = "token"
            with open(args.token_file, encoding="utf-8") as f:
                tokens = [t.strip() for t in f if t.strip()]
            if any(hmac.compare_digest(auth[11:].strip(), t) for t in tokens):
                return None
            return (403, "unknown token")
        cred = self.basic_user()
        if cred:
            self.user = cred[0]
        if not args.user:
            return None
        if operation == "download" and config.get("anonymous_download"):
            return None
        if not cred:
            return (401, "credentials needed")
        with open(args.password_file, encoding="utf-8") as f:
            password = f.read().rstrip("\n")
        if cred[0] == args.user and cred[1] is not None and \
                hmac.compare_digest(cred[1].encode(), password.encode()):
            return None
        return (403, "wrong user or password")

    # Routing.

    def route(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        m = re.match(r"^(/.*)/objects/batch$", path)
        if m:
            return ("batch", m.group(1), None)
        m = re.match(r"^(/.*)/objects/([^/]+)/verify$", path)
        if m:
            return ("verify", m.group(1), m.group(2))
        m = re.match(r"^(/.*)/objects/([^/]+)$", path)
        if m:
            return ("object", m.group(1), m.group(2))
        m = re.match(r"^(/.*)/locks/verify$", path)
        if m:
            return ("locks", m.group(1), None)
        return (None, None, None)

    # git's smart HTTP, through git http-backend (a CGI program).

    GIT_RE = re.compile(r"^/[^?]*\.git/(info/refs|git-upload-pack|git-receive-pack)$")

    def git_request(self):
        path = urllib.parse.urlsplit(self.path)
        if not self.state.args.git_root or not self.GIT_RE.match(path.path):
            return False
        try:
            body = b"".join(self.read_body_chunks(1 << 28))
        except ValueError as e:
            self.send_body(400, str(e).encode(), "text/plain", close=True)
            return True
        env = dict(os.environ)
        env.update({
            "GIT_PROJECT_ROOT": self.state.args.git_root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "git",
            "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": urllib.parse.unquote(path.path),
            "QUERY_STRING": path.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        })
        proc = subprocess.run(["git", "http-backend"], input=body, env=env,
                              stdout=subprocess.PIPE, check=False)
        head, _, out = proc.stdout.partition(b"\r\n\r\n")
        status, ctype, headers = 200, "text/plain", {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            value = value.strip()
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name.lower() == "content-type":
                ctype = value
            elif name:
                headers[name] = value
        self.send_body(status, out, ctype, headers)
        return True

    def do_POST(self):
        self.begin()
        if self.git_request():
            return
        kind, prefix, oid = self.route()
        if kind == "batch":
            self.batch(prefix)
        elif kind == "verify":
            self.verify(prefix, oid)
        elif kind == "locks":
            self.read_json_or_none()
            self.send_json(200, {"ours": [], "theirs": []})
        else:
            self.send_error_json(404, "no such endpoint")

    def do_PUT(self):
        self.begin()
        kind, prefix, oid = self.route()
        if kind != "object":
            self.send_error_json(404, "no such endpoint")
            return
        self.upload(prefix, oid)

    def do_GET(self):
        self.begin()
        if self.git_request():
            return
        kind, prefix, oid = self.route()
        if kind != "object":
            self.send_error_json(404, "no such endpoint")
            return
        self.download(prefix, oid)

    def read_json_or_none(self):
        try:
            return self.read_json()
        except (ValueError, UnicodeDecodeError):
            return None

    # The batch API.

    def expiry_fields(self, config, expiry, expires_in):
        style = config.get("expiry", "in")
        fields = {}
        if style in ("in", "both"):
            fields["expires_in"] = expires_in
        if style in ("at", "both"):
            at = datetime.datetime.fromtimestamp(expiry, datetime.timezone.utc)
            fields["expires_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return fields

    def action(self, config, op, prefix, oid, suffix=""):
        expires_in = int(config.get("expires_in", 3600))
        if self.state.take("expired_actions",
                           int(config.get("expired_actions", 0))):
            expires_in = -60
        expiry = int(time.time()) + expires_in
        real_expiry = expiry
        if self.state.take("stale_hrefs", int(config.get("stale_hrefs", 0))):
            real_expiry = int(time.time()) - 1
        host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_port
        href = "http://%s%s/objects/%s%s" % (
            host, urllib.parse.quote(prefix), oid, suffix)
        token = self.state.token(op, prefix, oid, real_expiry)
        act = {"href": href, "header": {"Authorization": "Bearer " + token}}
        act.update(self.expiry_fields(config, expiry, expires_in))
        return act

    def batch(self, prefix):
        state = self.state
        config = state.read_config()
        accept = self.headers.get("Accept", "")
        ctype = self.headers.get("Content-Type", "")
        if LFS_TYPE not in accept:
            self.send_error_json(406, "Accept must be " + LFS_TYPE)
            return
        if not ctype.startswith(LFS_TYPE):
            self.send_error_json(415, "Content-Type must be " + LFS_TYPE)
            return
        try:
            req = self.read_json()
        except (ValueError, UnicodeDecodeError) as e:
            self.send_json(400, {"message": "bad JSON: %s" % e}, close=True)
            return
        if not isinstance(req, dict) or \
                req.get("operation") not in ("upload", "download") or \
                not isinstance(req.get("objects"), list):
            self.send_json(400, {"message": "need operation and objects"})
            return
        op = req["operation"]
        objects = req["objects"]
        self.detail = "%s:%d" % (op, len(objects))
        denied = self.check_batch_auth(config, op)
        if denied:
            headers = {}
            if denied[0] == 401:
                headers["LFS-Authenticate"] = 'Basic realm="lfs-test-server"'
            self.send_json(denied[0], {"message": denied[1]}, headers)
            return
        if state.take("fail_batches", int(config.get("fail_batches", 0))):
            self.send_json(503, {"message": "try again"}, {"Retry-After": "0"})
            return
        if op == "upload" and config.get("read_only"):
            self.send_json(403, {"message": "read-only repository"})
            return
        transfers = req.get("transfers", ["basic"])
        if not isinstance(transfers, list) or "basic" not in transfers:
            self.send_json(422, {"message": "only the basic transfer is served"})
            return
        if len(objects) > int(config.get("max_batch", 100)):
            self.send_json(413, {"message": "too many objects in one batch"})
            return
        errors = config.get("object_errors", {})
        out = []
        for obj in objects:
            out.append(self.batch_object(config, op, prefix, obj, errors))
        self.send_json(200, {"transfer": "basic", "objects": out})

    def batch_object(self, config, op, prefix, obj, errors):
        oid = obj.get("oid") if isinstance(obj, dict) else None
        size = obj.get("size") if isinstance(obj, dict) else None
        res = {"oid": oid, "size": size}

        def error(code, message):
            res["error"] = {"code": code, "message": message}
            return res

        if not isinstance(oid, str) or not OID_RE.match(oid):
            return error(422, "oid is not a sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return error(422, "size is not a non-negative integer")
        if oid in errors:
            return error(int(errors[oid]), "configured error")
        path = self.state.object_path(prefix, oid)
        try:
            have = os.stat(path).st_size
        except FileNotFoundError:
            have = None
        if op == "download":
            if have is None:
                return error(404, "object does not exist")
            res["size"] = have
            res["authenticated"] = True
            res["actions"] = {"download": self.action(config, "download",
                                                      prefix, oid)}
            return res
        if have is not None:
            if have != size:
                return error(422, "size differs from the stored object's")
            return res
        res["authenticated"] = True
        actions = {"upload": self.action(config, "upload", prefix, oid)}
        if config.get("verify", True):
            actions["verify"] = self.action(config, "verify", prefix, oid,
                                            "/verify")
        res["actions"] = actions
        return res

    # The object requests.

    def check_token(self, op, prefix, oid):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            if op == "download" and self.state.read_config().get(
                    "anonymous_download"):
                return True
            self.send_error_json(401, "no token")
            return False
        why = self.state.token_ok(auth[7:].strip(), op, prefix, oid)
        if why:
            self.send_error_json(403, why)
            return False
        return True

    def upload(self, prefix, oid):
        if not OID_RE.match(oid):
            self.send_error_json(422, "oid is not a sha256")
            return
        if not self.check_token("upload", prefix, oid):
            return
        path = self.state.object_path(prefix, oid)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = "%s.tmp-%d-%s" % (path, os.getpid(), secrets.token_hex(4))
        h = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "wb") as f:
                for data in self.read_body_chunks(1 << 62):
                    h.update(data)
                    size += len(data)
                    f.write(data)
        except (ValueError, OSError) as e:
            os.unlink(tmp)
            self.send_error_json(400, "cannot read the body: %s" % e)
            return
        if h.hexdigest() != oid:
            os.unlink(tmp)
            self.send_json(422, {"message": "body has sha256 %s, not %s" %
                                 (h.hexdigest(), oid)})
            return
        os.rename(tmp, path)
        self.detail = "size=%d" % size
        self.send_json(200, {"message": "stored"})

    def verify(self, prefix, oid):
        if not OID_RE.match(oid):
            self.send_error_json(422, "oid is not a sha256")
            return
        if not self.check_token("verify", prefix, oid):
            return
        req = self.read_json_or_none()
        if not isinstance(req, dict) or req.get("oid") != oid:
            self.send_json(422, {"message": "verify needs the oid and size"})
            return
        path = self.state.object_path(prefix, oid)
        try:
            have = os.stat(path).st_size
        except FileNotFoundError:
            have = None
        if have is None or have != req.get("size"):
            self.send_json(404, {"message": "object is not here"})
            return
        self.send_json(200, {"message": "verified"})

    def download(self, prefix, oid):
        if not OID_RE.match(oid):
            self.send_error_json(422, "oid is not a sha256")
            return
        if not self.check_token("download", prefix, oid):
            return
        path = self.state.object_path(prefix, oid)
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            self.send_error_json(404, "object does not exist")
            return
        with f:
            total = os.fstat(f.fileno()).st_size
            first, last = 0, total - 1
            status = 200
            rng = self.headers.get("Range")
            if rng:
                m = re.match(r"^bytes=(\d+)-(\d*)$", rng.strip())
                if not m or int(m.group(1)) >= total:
                    self.send_body(416, b"", "text/plain",
                                   {"Content-Range": "bytes */%d" % total})
                    return
                first = int(m.group(1))
                if m.group(2):
                    last = min(int(m.group(2)), total - 1)
                status = 206
                self.detail = "range=%d-" % first
            config = self.state.read_config()
            cut = self.state.take("fail_downloads",
                                  int(config.get("fail_downloads", 0)))
            lie = self.state.take("corrupt_downloads",
                                  int(config.get("corrupt_downloads", 0)))
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(last - first + 1))
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" %
                                 (first, last, total))
            self.end_headers()
            f.seek(first)
            left = last - first + 1
            if cut:
                left //= 2
            while left > 0:
                data = f.read(min(left, BUF_SIZE))
                if not data:
                    break
                if lie:
                    data = bytes(b ^ 0x5a for b in data)
                if len(data) == left and not cut:
                    self.wfile.write(data[:-1])
                    self.wfile.flush()
                    self.finish_log(status)
                    self.wfile.write(data[-1:])
                else:
                    self.wfile.write(data)
                left -= len(data)
            if cut:
                self.wfile.flush()
                self.finish_log("cut")
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif last < first:
                self.finish_log(status)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description="Git LFS test server")
    p.add_argument("--root", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--log")
    p.add_argument("--user")
    p.add_argument("--password-file")
    p.add_argument("--token-file")
    p.add_argument("--config")
    p.add_argument("--git-root")
    args = p.parse_args()
    if args.user and not args.password_file:
        p.error("--user needs --password-file")
    os.makedirs(args.root, exist_ok=True)
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_port)
        os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
