"""Load git-model weights from a torch.hub repository.

A git-model repository commits small pointer files in place of the weights:

    version git-model/1
    oid sha256:<64 hex digits>
    size <bytes>
    url https://models.example.com/team/sha256/4d/7a/4d7a2146...

torch.hub downloads a tag as an archive, and an archive holds those
pointers, not the weights. Copy this file next to your hubconf.py (torch.hub
puts that directory on sys.path) and load weights with load_state_dict():
it reads the pointer, downloads its url into torch.hub's cache under a name
that contains the oid, checks the size and the full sha256 before use, and
torch.load()s it. A file that holds real weights (a clone with git-model
installed) is torch.load()ed directly. Only the Python standard library and
torch are needed.

torch.hub's own check_hash only compares a hex prefix of the file name
(and checks nothing when the name has none); this checks every byte.

A complete hubconf.py:

    dependencies = ["torch"]

    import os

    import torch
    from gitmodel_hub import load_state_dict


    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x)


    def tiny(pretrained=True, **kwargs):
        '''A tiny model; pretrained=True loads the weights of this tag.'''
        model = Tiny()
        if pretrained:
            path = os.path.join(os.path.dirname(__file__), "weights", "tiny.pth")
            model.load_state_dict(load_state_dict(path, **kwargs))
        return model

and then, for the weights of tag v2:

    model = torch.hub.load("owner/repo:v2", "tiny")

Environment: GITMODEL_S3_ENDPOINT (default https://{bucket}.s3.amazonaws.com)
is the public HTTPS form used for s3:// urls; {bucket} is replaced.

A url on a Git LFS server (model.storage = lfs, or lfs+https://...),
lfs+https://host/repo.git/info/lfs/sha256/4d/7a/4d7a2146..., is resolved
with the server's batch API, anonymously (a public repository): a POST of
{"operation": "download", "objects": [{"oid", "size"}]} to
https://host/repo.git/info/lfs/objects/batch, then a GET of the download
action's href with its headers (git-model-pointer(5)).

A storage may hold an object compressed, at its url plus ".gmz"
(git-model-compression(5)): when the url itself is not found (HTTP 404, or
403 as S3 answers for a missing key), that is downloaded instead and
decoded as it arrives (python3-zstandard and numpy), and the decoded bytes
are checked against the pointer's size and sha256 the same way.

fetch_weights() does the download and the checks without torch, for
tools that only want the file.
"""

import hashlib
import json
import os
import re
import struct
import sys
import tempfile
import urllib.parse
import urllib.error
import urllib.request

__all__ = ["load_state_dict", "fetch_weights", "read_pointer", "PointerError",
           "HashMismatchError"]

POINTER_MAX = 1024
_VERSION_LINE = b"version git-model/1\n"
_KEY = re.compile(rb"^[a-z0-9.-]+$")
_CHUNK = 1 << 20
_LFS_TYPE = "application/vnd.git-lfs+json"
_LFS_ANSWER_MAX = 1 << 20


class PointerError(ValueError):
    """The file is a git-model pointer that cannot be used."""


class HashMismatchError(RuntimeError):
    """Downloaded bytes do not match the pointer's size or sha256."""


def read_pointer(path):
    """Return {'oid', 'size', 'url'} when `path` is a git-model pointer, else None.

    A file that starts like a pointer but breaks the format raises
    PointerError, naming the problem.
    """
    with open(path, "rb") as f:
        data = f.read(POINTER_MAX + 1)
    if not data.startswith(_VERSION_LINE) or len(data) > POINTER_MAX:
        return None
    if not data.endswith(b"\n") or b"\r" in data or b"\0" in data:
        raise PointerError(f"{path}: malformed git-model pointer")
    fields = {}
    previous = b""
    for line in data[len(_VERSION_LINE):-1].split(b"\n"):
        key, sep, value = line.partition(b" ")
        if not sep or not _KEY.match(key) or not value or value != value.strip(b" "):
            raise PointerError(f"{path}: malformed line {line!r} in git-model pointer")
        if key <= previous:
            raise PointerError(f"{path}: keys out of order or repeated in git-model pointer")
        previous = key
        fields[key.decode()] = value.decode("utf-8")
    oid = fields.get("oid", "")
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", oid):
        raise PointerError(f"{path}: pointer has no valid 'oid sha256:<64 hex>' line")
    size = fields.get("size", "")
    if not re.fullmatch(r"0|[1-9][0-9]*", size) or int(size) > 2**63 - 1:
        raise PointerError(f"{path}: pointer has no valid 'size' line")
    return {"oid": oid[len("sha256:"):], "size": int(size), "url": fields.get("url")}


def _lfs_download_action(url, oid, size):
    """(href, headers) of the download action a Git LFS server hands out
    for the object, asked anonymously with its batch API."""
    suffix = f"/sha256/{oid[0:2]}/{oid[2:4]}/{oid}"
    if not url.endswith(suffix):
        raise PointerError(f"{url!r} does not end in the object's path {suffix}")
    endpoint = url[len("lfs+"):-len(suffix)]
    body = json.dumps({"operation": "download", "transfers": ["basic"],
                       "objects": [{"oid": oid, "size": size}]}).encode()
    request = urllib.request.Request(
        endpoint + "/objects/batch", data=body, method="POST",
        headers={"Accept": _LFS_TYPE, "Content-Type": _LFS_TYPE,
                 "User-Agent": "gitmodel_hub"})
    try:
        with urllib.request.urlopen(request) as response:
            answer = json.loads(response.read(_LFS_ANSWER_MAX + 1)[:_LFS_ANSWER_MAX])
    except urllib.error.HTTPError as e:
        raise PointerError(f"{endpoint}: the Git LFS batch request failed: {e.code} {e.reason}"
                           " (is the repository public?)") from None
    except ValueError:
        raise PointerError(f"{endpoint}: the Git LFS batch answer is not JSON") from None
    for obj in answer.get("objects", []) if isinstance(answer, dict) else []:
        if not isinstance(obj, dict) or obj.get("oid") != oid:
            continue
        error = obj.get("error")
        if isinstance(error, dict):
            raise PointerError(f"{endpoint}: object {oid}: {error.get('code')} "
                               f"{error.get('message', '')}".rstrip())
        action = (obj.get("actions") or {}).get("download") or {}
        href = action.get("href")
        if not isinstance(href, str) or urllib.parse.urlsplit(href).scheme not in ("http", "https"):
            raise PointerError(f"{endpoint}: no http(s) download action for {oid}")
        headers = action.get("header") or {}
        if not isinstance(headers, dict):
            headers = {}
        return href, {str(k): str(v) for k, v in headers.items()}
    raise PointerError(f"{endpoint}: the Git LFS batch answer left out {oid}")


def _http_url(url, oid=None, size=None):
    """(URL, headers) to download: http(s) as is, s3:// through the public
    endpoint, lfs+http(s):// through the server's batch API."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("http", "https"):
        return url, {}
    if parts.scheme == "s3":
        endpoint = os.environ.get("GITMODEL_S3_ENDPOINT", "https://{bucket}.s3.amazonaws.com")
        key = urllib.parse.quote(parts.path.lstrip("/"), safe="/")
        return endpoint.format(bucket=parts.netloc).rstrip("/") + "/" + key, {}
    if parts.scheme in ("lfs+http", "lfs+https") and oid is not None:
        return _lfs_download_action(url, oid, size)
    raise PointerError(f"cannot download {url!r}: only http, https, s3 and lfs+https "
                       "urls are followed")


class _GmzDecoder:
    """Decode a compressed object (git-model-compression(5)) fed in chunks.

    feed() returns the raw bytes of the blocks it completed; every length
    is checked before it is used, and a malformed container raises
    HashMismatchError (nothing is kept)."""

    _HEADER, _ENTRY = 24, 16
    _BLOCK_MAX, _BLOCKS_MAX = 16 << 20, 1 << 20

    def __init__(self, url, size):
        import numpy
        import zstandard
        self._np, self._zstd = numpy, zstandard
        self.url, self.size = url, size
        self.buf = bytearray()
        self.blocks = None
        self.next = 0

    def _bad(self, why):
        raise HashMismatchError(f"{self.url}: compressed object: {why}; nothing was kept")

    def _parse_header(self):
        h = bytes(self.buf[:self._HEADER])
        magic, version, flags, res16, raw_size, nr, res32 = struct.unpack("<4sBBHQII", h)
        if magic != b"GMZC":
            self._bad("bad magic")
        if version != 1:
            self._bad(f"version {version} is not supported")
        if flags or res16 or res32:
            self._bad("reserved header bytes are not zero")
        if nr > self._BLOCKS_MAX or raw_size < nr or raw_size > nr * self._BLOCK_MAX:
            self._bad(f"raw size {raw_size} does not fit {nr} blocks")
        if raw_size != self.size:
            self._bad(f"holds {raw_size} raw bytes, the pointer says {self.size}")
        return nr

    def _parse_table(self, nr):
        blocks, total = [], 0
        for i in range(nr):
            off = self._HEADER + i * self._ENTRY
            codec, transform, res16, raw, stored, res32 = struct.unpack(
                "<BBHIII", bytes(self.buf[off:off + self._ENTRY]))
            if res16 or res32 or not 1 <= raw <= self._BLOCK_MAX:
                self._bad(f"block {i}: bad entry")
            if codec == 0 and (transform or stored != raw):
                self._bad(f"block {i}: bad raw block")
            if codec == 1 and (transform not in (0, 2, 4) or not 0 < stored < raw):
                self._bad(f"block {i}: bad zstd block")
            if codec not in (0, 1):
                self._bad(f"block {i}: unknown codec {codec}")
            blocks.append((codec, transform, raw, stored))
            total += raw
        if total != self.size:
            self._bad(f"blocks hold {total} raw bytes, the header says {self.size}")
        return blocks

    def _decode(self, i, block, data):
        codec, transform, raw, stored = block
        if codec == 0:
            return data
        if self._zstd.frame_content_size(data) != raw:
            self._bad(f"block {i}: zstd frame does not hold its {raw} bytes")
        try:
            out = self._zstd.ZstdDecompressor().decompress(data, max_output_size=raw)
        except self._zstd.ZstdError as e:
            self._bad(f"block {i}: zstd: {e}")
        if len(out) != raw:
            self._bad(f"block {i}: decodes to {len(out)} bytes, not {raw}")
        if transform:
            n = raw // transform
            a = self._np.frombuffer(out, dtype=self._np.uint8)
            out = a[:n * transform].reshape(transform, n).T.tobytes() + out[n * transform:]
        return out

    def feed(self, chunk):
        self.buf += chunk
        out = []
        if self.blocks is None:
            if len(self.buf) < self._HEADER:
                return out
            nr = self._parse_header()
            table = self._HEADER + nr * self._ENTRY
            if len(self.buf) < table:
                return out
            self.blocks = self._parse_table(nr)
            del self.buf[:table]
        while self.buf:
            if self.next == len(self.blocks):
                self._bad(f"{len(self.buf)} bytes after its last block")
            block = self.blocks[self.next]
            if len(self.buf) < block[3]:
                break
            data = bytes(self.buf[:block[3]])
            del self.buf[:block[3]]
            out.append(self._decode(self.next, block, data))
            self.next += 1
        return out

    def finish(self):
        if self.blocks is None or self.next < len(self.blocks):
            self._bad("truncated")


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _stamp(path):
    """What the verification record holds: the file's size and mtime (ns)."""
    st = os.stat(path)
    return f"{st.st_size} {st.st_mtime_ns}\n"


def _record_path(dest):
    directory, name = os.path.split(dest)
    return os.path.join(directory, f".{name}.verified")


def _record_verified(dest):
    """Record that `dest` was verified, as it is now (size and mtime).

    Written to a temp file and renamed, so a reader sees all of it or none.
    """
    record = _record_path(dest)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".gitmodel-", suffix=".part")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(_stamp(dest))
        os.replace(tmp, record)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _cached_ok(dest, oid, size, check):
    """Is the cached `dest` the object? Hashed when check is set, or when it
    changed (size or mtime) since it was verified; then the record is renewed."""
    try:
        if os.path.getsize(dest) != size:
            return False
    except FileNotFoundError:
        return False
    if not check:
        try:
            with open(_record_path(dest)) as f:
                if f.read(64) == _stamp(dest):
                    return True
        except FileNotFoundError:
            pass
    if _sha256_file(dest) != oid:
        return False
    _record_verified(dest)
    return True


def _download(url, dest, oid, size, progress, headers=None, compressed=False):
    """Download to a temp file beside dest, verify, then rename into place.
    With `compressed`, url holds the compressed form, decoded on the way."""
    directory = os.path.dirname(dest)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".gitmodel-", suffix=".part")
    h = hashlib.sha256()
    got = 0
    # Progress is for a person: drawn with \r, so only on a terminal.
    progress = progress and sys.stderr.isatty()
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(
                url, headers=dict(headers or {}, **{"User-Agent": "gitmodel_hub"}))
            with urllib.request.urlopen(request) as response:
                decoder = _GmzDecoder(url, size) if compressed else None
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    pieces = decoder.feed(chunk) if decoder else [chunk]
                    for piece in pieces:
                        got += len(piece)
                        if got > size:
                            break
                        h.update(piece)
                        out.write(piece)
                    if got > size:
                        break
                    if progress:
                        sys.stderr.write(f"\rDownloading {os.path.basename(dest)}: "
                                         f"{got * 100 // max(size, 1)}% ({got}/{size} bytes)")
                if decoder and got <= size:
                    decoder.finish()
            if progress:
                sys.stderr.write("\n")
        if got > size:
            raise HashMismatchError(
                f"{url}: got more than the {size} bytes the pointer says; nothing was kept")
        if got != size:
            raise HashMismatchError(
                f"{url}: got {got} bytes, the pointer says {size}; nothing was kept")
        if h.hexdigest() != oid:
            raise HashMismatchError(
                f"{url}: sha256 {h.hexdigest()} does not match the pointer's {oid}; nothing was kept")
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _record_verified(dest)


def load_state_dict(path, map_location=None, progress=True, check=False):
    """torch.load() the weights at `path`, fetching them if it is a pointer.

    path          real weights, or a git-model pointer file
    map_location  passed to torch.load
    progress      print download progress on stderr when it is a terminal
    check         re-hash a file already in the cache even when it did not
                  change since it was verified

    A pointer's url is downloaded (http, https; s3:// through the bucket's
    public https endpoint) into torch.hub's cache dir as
    <hub dir>/gitmodel/<oid>-<file name>, verified (size and full sha256)
    before use and reused by later calls. A mismatch deletes the download
    and raises HashMismatchError. A pointer without url raises PointerError.

    A verified file's size and modification time are recorded beside it
    (.<oid>-<file name>.verified); a later call hashes the cached file again
    only when they changed, and downloads it again when it no longer matches.
    """
    import torch

    if read_pointer(path) is None:
        return torch.load(path, map_location=map_location)
    dest = fetch_weights(path, os.path.join(torch.hub.get_dir(), "gitmodel"),
                         progress=progress, check=check)
    return torch.load(dest, map_location=map_location)


def fetch_weights(path, cache, progress=True, check=False):
    """The weights of the pointer at `path`, downloaded into the directory
    `cache` as <oid>-<file name> and verified as load_state_dict() does;
    returns that file's path. `path` must be a pointer."""
    pointer = read_pointer(path)
    if pointer is None:
        raise PointerError(f"{path}: not a git-model pointer")
    if not pointer["url"]:
        raise PointerError(
            f"{path}: the pointer has no url (it was committed without model.storage); "
            "clone the repository with git-model installed instead")
    os.makedirs(cache, exist_ok=True)
    dest = os.path.join(cache, f"{pointer['oid']}-{os.path.basename(path)}")
    if not _cached_ok(dest, pointer["oid"], pointer["size"], check):
        url, headers = _http_url(pointer["url"], pointer["oid"], pointer["size"])
        try:
            _download(url, dest, pointer["oid"], pointer["size"], progress, headers)
        except urllib.error.HTTPError as e:
            # not there raw: its compressed form, where the storage has one
            if e.code not in (403, 404) or pointer["url"].startswith("lfs+"):
                raise
            url, headers = _http_url(pointer["url"] + ".gmz")
            _download(url, dest, pointer["oid"], pointer["size"], progress, headers,
                      compressed=True)
    return dest
