"""lib-gguf.py: GGUF files written from the format's specification
(ggml's docs/gguf.md), independently of git-model's C reader and of its
unit tests' writer, for t0108.

    lib-gguf.py write DIR     v1.gguf, v2.gguf and their expected lines
                              v1.expect, v2.expect: "name TYPE [dims] sha16"

Layout (all little-endian): "GGUF", u32 version 3, u64 tensor count,
u64 key/value count; each key/value: string key, u32 value type, value;
each tensor info: string name, u32 dim count, u64 dims (innermost first),
u32 ggml type, u64 offset from the start of the data; padding to the
alignment (general.alignment, else 32); the data, each tensor at an
offset that is a multiple of the alignment. A string is a u64 length and
its bytes; an array is a u32 element type, a u64 count, the elements.
"""

import hashlib
import struct
import sys

import numpy as np

# value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i",
          F32: "<f", BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}

# ggml tensor types: number, elements per block, bytes per block
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18),
        "Q8_0": (8, 32, 34), "I8": (24, 1, 1), "I16": (25, 1, 2),
        "I32": (26, 1, 4), "F64": (28, 1, 8), "BF16": (30, 1, 2),
        "Q6_K": (14, 256, 210)}


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def value(vtype, v):
    if vtype == STR:
        return gstr(v)
    if vtype == ARR:
        etype, items = v
        out = struct.pack("<IQ", etype, len(items))
        return out + b"".join(value(etype, x) for x in items)
    return struct.pack(SCALAR[vtype], v)


def q8_0(x):
    """Blocks of 32: an F16 scale, then 32 signed bytes."""
    out = b""
    for blk in x.reshape(-1, 32):
        d = float(np.abs(blk).max()) / 127 or 1.0
        q = np.clip(np.round(blk / d), -127, 127).astype(np.int8)
        out += np.float16(d).tobytes() + q.tobytes()
    return out


def bf16(x):
    """The upper half of each F32, rounded to nearest even."""
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16).tobytes()


def write(path, kvs, tensors, alignment=32):
    """kvs: [(key, vtype, value)]; tensors: [(name, type, dims, bytes)]."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, vtype, v in kvs:
        head += gstr(key) + struct.pack("<I", vtype) + value(vtype, v)
    data, offsets = b"", []
    for name, gtype, dims, raw in tensors:
        num, block, size = GGML[gtype]
        n = int(np.prod(dims))
        assert len(raw) == n // block * size, name
        data += b"\0" * (-len(data) % alignment)
        offsets.append(len(data))
        data += raw
    for (name, gtype, dims, raw), off in zip(tensors, offsets):
        head += gstr(name) + struct.pack("<I", len(dims))
        head += b"".join(struct.pack("<Q", d) for d in dims)
        head += struct.pack("<IQ", GGML[gtype][0], off)
    head += b"\0" * (-len(head) % alignment)
    with open(path, "wb") as f:
        f.write(head + data)


def expect(path, tensors):
    with open(path, "w") as f:
        for name, gtype, dims, raw in sorted(tensors):
            shape = ", ".join(str(d) for d in dims)
            digest = hashlib.sha256(raw).hexdigest()[:16]
            f.write(f"{name} {gtype} [{shape}] {digest}\n")


def versions(d):
    rng = np.random.default_rng(7)
    emb = rng.standard_normal((64, 32)).astype(np.float32)
    wq = rng.standard_normal((32, 32)).astype(np.float32)
    norm = rng.standard_normal(32).astype(np.float32)
    ids = np.arange(-8, 8, dtype=np.int32)
    q4 = rng.integers(0, 256, 18 * 4, dtype=np.uint8).tobytes()
    q6 = rng.integers(0, 256, 210, dtype=np.uint8).tobytes()
    kvs = [("general.architecture", STR, "llama"),
           ("general.name", STR, "tiny"),
           ("llama.context_length", U32, 2048),
           ("llama.rope.freq_base", F32, 10000.0),
           ("general.file_type", U32, 7),
           ("tokenizer.ggml.tokens", ARR, (STR, ["<s>", "</s>", "a", "b"])),
           ("tokenizer.ggml.token_type", ARR, (I32, [3, 3, 1, 1])),
           ("test.flag", BOOL, True),
           ("test.i8", I8, -5),
           ("test.u64", U64, 2 ** 40),
           ("test.f64", F64, 0.125),
           ("test.empty", ARR, (U8, []))]
    # dims innermost first, as GGUF stores them
    v1 = [("token_embd.weight", "F16", [32, 64],
           emb.astype(np.float16).tobytes()),
          ("blk.0.attn_q.weight", "Q8_0", [32, 32], q8_0(wq)),
          ("blk.0.attn_norm.weight", "F32", [32], norm.tobytes()),
          ("blk.0.ffn_up.weight", "BF16", [32, 32], bf16(wq.T)),
          ("blk.0.ffn_gate.weight", "Q4_0", [32, 4], q4),
          ("blk.0.ffn_down.weight", "Q6_K", [256], q6),
          ("positions", "I32", [16], ids.tobytes())]
    write(f"{d}/v1.gguf", kvs, v1)
    expect(f"{d}/v1.expect", v1)
    # v2: attn_q fine-tuned, the norm tuned, a tensor added, another
    # removed, other metadata, and another alignment
    wq2 = wq.copy()
    wq2[:4] += 0.5
    norm2 = norm.copy()
    norm2[3] = 2.5
    v2 = [t for t in v1 if t[0] not in ("blk.0.attn_q.weight",
                                        "blk.0.attn_norm.weight",
                                        "positions")]
    v2 += [("blk.0.attn_q.weight", "Q8_0", [32, 32], q8_0(wq2)),
           ("blk.0.attn_norm.weight", "F32", [32], norm2.tobytes()),
           ("output.weight", "F64", [8, 2],
            rng.standard_normal(16).tobytes())]
    kvs2 = [kv for kv in kvs if kv[0] != "general.name"]
    kvs2 += [("general.name", STR, "tiny-tuned"),
             ("general.alignment", U32, 64)]
    write(f"{d}/v2.gguf", kvs2, v2, alignment=64)
    expect(f"{d}/v2.expect", v2)
    # the numbers git model diff must print for the norm, as numpy has them
    delta = np.abs(norm2.astype(np.float64) - norm.astype(np.float64))
    rel = np.linalg.norm(norm2.astype(np.float64) - norm) / np.linalg.norm(
        norm.astype(np.float64))
    with open(f"{d}/norm.stats", "w") as f:
        f.write(f"{delta.max():.6e} {delta.mean():.6e} {rel:.6e} "
                f"{int((delta > 0).sum())}\n")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        versions(sys.argv[2])
    else:
        sys.exit(f"lib-gguf.py: unknown command {sys.argv[1]}")
