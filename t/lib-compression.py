"""Test data for compression (t/t0110-compression-container.sh, t/perf).

    lib-compression.py make DIR [SCALE]

trains a small MLP for a few hundred steps on synthetic data (seeded, so
the bytes are the same on every run with one torch version) and writes
into DIR:

    f32.safetensors   its weights, FP32
    bf16.safetensors  the same weights, BF16
    f16.safetensors   the same weights, FP16
    int8.safetensors  dynamically quantized (torch.quantization) int8
                      weights, I8, with their FP32 scales
    mixed.safetensors F32, BF16, F16, I8, I64 and BOOL tensors in one file
    f32.bin           the FP32 weights with no header
    random.bin        random bytes
    compressed.bin    the FP32 weights through zlib (already compressed)

SCALE (default 1) multiplies the hidden width.
"""

import json
import os
import struct
import sys
import zlib

import torch

DTYPES = {
    torch.float32: "F32",
    torch.bfloat16: "BF16",
    torch.float16: "F16",
    torch.int8: "I8",
    torch.int64: "I64",
    torch.bool: "BOOL",
}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype in (torch.bfloat16, torch.float16):
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors):
    """By hand: u64le header length, JSON header, data."""
    header, data = {}, b""
    for name, t in tensors:
        b = tensor_bytes(t)
        header[name] = {
            "dtype": DTYPES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [len(data), len(data) + len(b)],
        }
        data += b
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def train(scale):
    torch.manual_seed(17)
    width = 256 * scale
    net = torch.nn.Sequential(
        torch.nn.Linear(128, width), torch.nn.ReLU(),
        torch.nn.Linear(width, width), torch.nn.ReLU(),
        torch.nn.Linear(width, 16))
    teacher = torch.randn(128, 16)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(300):
        x = torch.randn(64, 128)
        y = torch.tanh(x @ teacher)
        loss = torch.nn.functional.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def make(d, scale):
    torch.set_num_threads(1)
    net = train(scale)
    sd = [(k, v.detach()) for k, v in net.state_dict().items()]
    write_safetensors(os.path.join(d, "f32.safetensors"), sd)
    for dt, name in ((torch.bfloat16, "bf16"), (torch.float16, "f16")):
        write_safetensors(os.path.join(d, name + ".safetensors"),
                          [(k, v.to(dt)) for k, v in sd])
    q = torch.quantization.quantize_dynamic(net, {torch.nn.Linear},
                                            dtype=torch.qint8)
    qt = []
    for i, m in enumerate(q):
        if hasattr(m, "weight") and callable(m.weight):
            w = m.weight()
            qt.append(("%d.weight" % i, w.int_repr()))
            qt.append(("%d.scale" % i,
                       torch.tensor([w.q_scale()], dtype=torch.float32)))
    write_safetensors(os.path.join(d, "int8.safetensors"), qt)
    w = sd[2][1]
    write_safetensors(os.path.join(d, "mixed.safetensors"), [
        ("a.f32", w[: w.shape[0] // 4]),
        ("b.bf16", w[w.shape[0] // 4: w.shape[0] // 2].to(torch.bfloat16)),
        ("c.f16", w[w.shape[0] // 2:].to(torch.float16)),
        ("d.i8", qt[2][1]),
        ("e.i64", torch.arange(0, 4096, dtype=torch.int64)),
        ("f.bool", w[:64] > 0),
    ])
    raw = b"".join(tensor_bytes(v) for _, v in sd)
    with open(os.path.join(d, "f32.bin"), "wb") as f:
        f.write(raw)
    with open(os.path.join(d, "random.bin"), "wb") as f:
        f.write(os.urandom(len(raw) // 2))
    with open(os.path.join(d, "compressed.bin"), "wb") as f:
        f.write(zlib.compress(raw, 9))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    else:
        sys.exit("usage: lib-compression.py make DIR [SCALE]")
