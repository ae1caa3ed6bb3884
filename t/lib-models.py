"""Test models for the t01NN scripts, made with torch.

A .safetensors file is written and read here by hand (the safetensors
package is not in Debian): an 8-byte little-endian header length, the
JSON header (name -> dtype, shape, data_offsets; sorted by name), the data.

    lib-models.py make DIR          the models of t0100 (see make())
    lib-models.py stats OLD NEW     torch's numbers for each changed tensor
    lib-models.py equal FILE REF    exit 0 when both hold the same tensors
    lib-models.py hashes FILE       what `git model show` prints per tensor:
                                    name dtype [shape] sha256[:16]
"""

import hashlib
import json
import struct
import sys

import torch

DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
    torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
    torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}
TORCH = {v: k for k, v in DTYPES.items()}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    header, data, off = {}, b"", 0
    for name in sorted(tensors):
        b = tensor_bytes(tensors[name])
        header[name] = {"dtype": DTYPES[tensors[name].dtype],
                        "shape": list(tensors[name].shape),
                        "data_offsets": [off, off + len(b)]}
        data += b
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        a, b = v["data_offsets"]
        buf = bytearray(raw[8 + n + a:8 + n + b])
        dtype = TORCH[v["dtype"]]
        if dtype == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16)
        elif len(buf):
            t = torch.frombuffer(buf, dtype=dtype)
        else:
            t = torch.empty(0, dtype=dtype)
        out[name] = t.reshape(v["shape"])
    return out


def load(path):
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    return torch.load(path, weights_only=True)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(8, 16)
        self.fc2 = torch.nn.Linear(16, 16)
        self.head = torch.nn.Linear(16, 4)


def tune(sd, prefix, seed, frac=0.5):
    """Change about `frac` of the elements of the tensors under `prefix`."""
    g = torch.Generator().manual_seed(seed)
    sd = {k: v.clone() for k, v in sd.items()}
    for k in sd:
        if k.startswith(prefix):
            mask = torch.rand(sd[k].shape, generator=g) < frac
            delta = torch.randn(sd[k].shape, generator=g) * 0.01
            sd[k] = sd[k] + delta * mask
    return sd


def make(d):
    torch.manual_seed(1)
    v1 = {k: v.detach().clone() for k, v in Net().state_dict().items()}
    save = lambda name, sd: (write_safetensors(f"{d}/{name}.safetensors", sd),
                             torch.save(sd, f"{d}/{name}.pt"))
    save("v1", v1)
    save("v2", tune(v1, "fc2.", 2))                 # fc2 fine-tuned
    renamed = dict(v1)
    renamed["classifier.weight"] = renamed.pop("head.weight")
    save("renamed", renamed)
    bf16 = dict(v1)
    bf16["fc1.weight"] = bf16["fc1.weight"].to(torch.bfloat16)
    save("bf16", bf16)
    f16 = dict(v1)
    f16["fc1.weight"] = f16["fc1.weight"].to(torch.float16)
    f16["fc1.bias"] = f16["fc1.bias"].to(torch.float64)
    f16["steps"] = torch.tensor([3, -7, 100000], dtype=torch.int64)
    save("f16", f16)
    f16b = tune(f16, "fc1.", 5)
    f16b["fc1.weight"] = f16b["fc1.weight"].to(torch.float16)
    f16b["steps"] = torch.tensor([3, -9, 100001], dtype=torch.int64)
    save("f16b", f16b)
    ours = tune(v1, "fc1.", 3)                      # one branch: fc1
    theirs = tune(v1, "head.", 4)                   # the other: head
    save("ours", ours)
    save("theirs", theirs)
    merged = dict(ours)
    merged.update({k: v for k, v in theirs.items() if k.startswith("head.")})
    save("merged", merged)
    save("clash", tune(v1, "fc1.", 6))              # fc1 again, differently
    big1 = dict(v1)
    big1["emb.weight"] = torch.randn(1024, 1024)    # 4 MiB of weights
    write_safetensors(f"{d}/big1.safetensors", big1)
    big2 = tune(big1, "fc2.", 7)
    big2["classifier.weight"] = big2.pop("head.weight")
    write_safetensors(f"{d}/big2.safetensors", big2)


def stats(a, b):
    A, B = load(a), load(b)
    for name in sorted(set(A) & set(B)):
        x, y = A[name].double(), B[name].double()
        if x.shape != y.shape or (A[name].dtype == B[name].dtype and
                                  torch.equal(A[name], B[name])):
            continue
        d = (y - x).abs()
        n = torch.linalg.vector_norm(x)
        rel = torch.linalg.vector_norm(y - x) / n
        print(f"{name} {d.max().item():.6e} {d.mean().item():.6e} "
              f"{rel.item():.6e} {(x != y).double().mean().item():.6e}")


def equal(a, b):
    A, B = load(a), load(b)
    ok = sorted(A) == sorted(B)
    for name in sorted(set(A) & set(B)):
        if A[name].dtype != B[name].dtype or not torch.equal(A[name], B[name]):
            print(f"differs: {name}")
            ok = False
    if sorted(A) != sorted(B):
        print(f"names: {sorted(A)} != {sorted(B)}")
    sys.exit(0 if ok else 1)


def hashes(a):
    for name, t in sorted(load(a).items()):
        shape = ", ".join(str(d) for d in t.shape)
        digest = hashlib.sha256(tensor_bytes(t)).hexdigest()[:16]
        print(f"{name} {DTYPES[t.dtype]} [{shape}] {digest}")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2])
    elif cmd == "stats":
        stats(sys.argv[2], sys.argv[3])
    elif cmd == "equal":
        equal(sys.argv[2], sys.argv[3])
    elif cmd == "hashes":
        hashes(sys.argv[2])
