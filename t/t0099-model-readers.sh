#!/bin/sh

test_description='model file readers on files torch writes

torch.save() files and ONNX exports made by python3-torch are read by
model_read() (test-tool model-read): every tensor by its name, with the
dtype, shape and sha256 of its bytes that torch itself gives, views and
shared storages included; pickles that reach for other globals are
refused and nothing runs.'

. "$(dirname "$0")/test-lib.sh"

PYTHON=/usr/bin/python3
if ! $PYTHON -c "import torch" 2>/dev/null
then
	test_env_require_ci_service torch "Debian's python3-torch is not installed (apt-get install python3-torch)"
fi

# save.py FILE: saves a checkpoint to FILE, prints what test-tool
# model-read should print for it, from torch's own view of the tensors:
# a strided tensor's bytes are its storage's from its first element to
# its last.
cat >save.py <<\EOF_PY
import hashlib, sys, torch
torch.manual_seed(1)
names = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
         torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
         torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
         torch.bool: "BOOL"}
net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                          torch.nn.Linear(3, 2))
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
sd = net.state_dict()
sd["view.t"] = base.t()
sd["view.row"] = base[2]
sd["view.cols"] = base[:, 1:3]
sd["half"] = torch.randn(3, dtype=torch.float16)
sd["bf16"] = torch.randn(2, 2).to(torch.bfloat16)
sd["steps"] = torch.tensor(7)
sd["mask"] = torch.tensor([True, False, True])
sd["empty"] = torch.zeros(0, 5)
sd["param"] = torch.nn.Parameter(torch.ones(2))
ckpt = {"model": sd, "epoch": 3, "opt": {"lr": 0.1, "state": {0: {"m": torch.ones(1, dtype=torch.float64)}}}, "name": "tiny"}
torch.save(ckpt, sys.argv[1])

def walk(prefix, v):
    if isinstance(v, torch.Tensor):
        t = v.detach()
        size = t.element_size()
        contiguous = t.is_contiguous()
        if t.numel() == 0:
            data = b""
        else:
            span = 1 + sum((n - 1) * s for n, s in zip(t.shape, t.stride()))
            flat = torch.tensor([], dtype=t.dtype).set_(
                t.storage(), t.storage_offset(), (span,), (1,))
            data = flat.view(torch.uint8).numpy().tobytes()
        shape = ",".join(str(n) for n in t.shape)
        print(f"{prefix} {names[t.dtype]} [{shape}] "
              f"{'contiguous' if contiguous else 'strided'} "
              f"{hashlib.sha256(data).hexdigest()}")
    elif isinstance(v, dict):
        for k, x in v.items():
            walk(f"{prefix}.{k}" if prefix else str(k), x)
print("format pytorch (zip)")
walk("", ckpt)
print("meta epoch=3")
print("meta opt.lr=0.1")
print("meta name=tiny")
EOF_PY

test_expect_success 'a torch.save() checkpoint: every tensor as torch sees it' '
	$PYTHON save.py ckpt.pt >expect &&
	test-tool model-read ckpt.pt >actual &&
	test_cmp expect actual
'

# hostile.py FILE PICKLE: a zip laid out as torch.save() writes it, with
# PICKLE (python bytes syntax) as its data.pkl.
cat >hostile.py <<\EOF_PY
import ast, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("archive/data.pkl", ast.literal_eval(sys.argv[2]))
    z.writestr("archive/data/0", b"\0" * 16)
EOF_PY

test_expect_success 'a pickle calling os.system is refused, nothing runs' '
	$PYTHON hostile.py evil.pt "b\"cos\\nsystem\\n(X\\x0b\\x00\\x00\\x00touch pwnedtR.\"" &&
	test_must_fail test-tool model-read evil.pt 2>err &&
	grep "global .os system. is not allowed" err &&
	test_path_is_missing pwned
'

test_expect_success 'a pickle reaching builtins.eval through STACK_GLOBAL is refused' '
	$PYTHON -c "import pickle, builtins; print(repr(pickle.dumps((builtins.eval, (\"1\",)), protocol=4)))" >p &&
	$PYTHON hostile.py eval.pt "$(cat p)" &&
	test_must_fail test-tool model-read eval.pt 2>err &&
	grep "global .builtins eval. is not allowed" err
'

test_expect_success 'a compressed storage is refused with its name' '
	$PYTHON - <<-\EOF_PY &&
	import torch, zipfile
	torch.save({"w": torch.ones(8)}, "plain.pt")
	src = zipfile.ZipFile("plain.pt")
	with zipfile.ZipFile("deflated.pt", "w", zipfile.ZIP_DEFLATED) as z:
	    for i in src.infolist():
	        z.writestr(i.filename, src.read(i.filename))
	EOF_PY
	test-tool model-read plain.pt >out &&
	grep "^w F32 \[8\] contiguous" out &&
	test_must_fail test-tool model-read deflated.pt 2>err &&
	grep "pytorch (zip): zip entry .plain/data.pkl. is compressed" err
'

test_expect_success 'the legacy torch.save() format is named, not read' '
	$PYTHON -c "import torch; torch.save({\"w\": torch.ones(2)}, \"old.pt\", _use_new_zipfile_serialization=False)" &&
	test_must_fail test-tool model-read old.pt 2>err &&
	grep "^pytorch (legacy): " err
'

test_expect_success 'an ONNX export: its initializers are the state dict' '
	$PYTHON - >expect <<-\EOF_PY &&
	import hashlib, torch
	torch.manual_seed(2)
	net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(),
	                          torch.nn.Linear(4, 3))
	torch.onnx.export(net, torch.randn(1, 5), "net.onnx")
	for k, t in net.state_dict().items():
	    shape = ",".join(str(n) for n in t.shape)
	    data = t.contiguous().numpy().tobytes()
	    print(f"{k} F32 [{shape}] contiguous {hashlib.sha256(data).hexdigest()}")
	EOF_PY
	test-tool model-read net.onnx >out &&
	echo "format onnx" >expect.format &&
	head -n 1 out >actual.format &&
	test_cmp expect.format actual.format &&
	sed 1d out | sort >actual &&
	sort expect >expect.sorted &&
	test_cmp expect.sorted actual
'

test_done
