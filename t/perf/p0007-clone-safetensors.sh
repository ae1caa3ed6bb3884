#!/bin/sh
# (h) git clone of one .safetensors file of PERF_ST bytes (default 512m) in
# 64 F32 tensors of random bytes, then the first `git diff` between its two
# versions in the clone.
#
# git-model hashes each tensor as the object enters the store (at clean
# and at download), so that diff and show read only the header; that must
# cost the clone no second read of the object. Target: the clone >= 2x
# faster than git-lfs's, as p0002's (d). Warm cache for both: the remote
# before clone; git-model runs first.

. "$(dirname "$0")/perf-lib.sh"

perf_setup_repos
st=$(perf_human "$PERF_ST")
perf_header "clone of one $st safetensors model"

# st_gen FILE SEED: a safetensors file of PERF_ST bytes in all (header
# included), 64 F32 tensors of random bytes from SEED.
st_gen () {
	python3 - "$1.hdr" "$(perf_bytes "$PERF_ST")" <<-\PY &&
	import json, struct, sys
	out, total = sys.argv[1], int(sys.argv[2])
	n, pad = 64, 8
	def header(body):
	    meta, off = {}, 0
	    for i in range(n):
	        size = (body // n) // 4 * 4
	        if i == n - 1:
	            size = body - off
	        meta["layer.%02d.weight" % i] = {
	            "dtype": "F32" if size % 4 == 0 else "U8",
	            "shape": [size // 4] if size % 4 == 0 else [size],
	            "data_offsets": [off, off + size]}
	        off += size
	    return json.dumps(meta).encode()
	# The header's length depends on the numbers in it: settle it.
	hlen = 0
	for _ in range(4):
	    h = header(total - 8 - hlen)
	    hlen = len(h)
	h = header(total - 8 - hlen)
	h += b" " * (hlen - len(h))
	with open(out, "wb") as f:
	    f.write(struct.pack("<Q", len(h)) + h)
	PY
	hsize=$(stat -c %s "$1.hdr") &&
	{ cat "$1.hdr" &&
	  test-tool genrandom "$2" $(($(perf_bytes "$PERF_ST") - hsize)); } >"$1" &&
	rm "$1.hdr"
}

for side in model lfs
do
	(cd $side && git $side track '*.safetensors' >/dev/null &&
	 git add .gitattributes && git commit -q -m track) &&
	st_gen $side/m.safetensors v1 &&
	(cd $side && git add m.safetensors && git commit -q -m v1 &&
	 git tag v1) &&
	st_gen $side/m.safetensors v2 &&
	(cd $side && git add m.safetensors && git commit -q -m v2 &&
	 git tag v2 && git push -q origin HEAD:main --tags 2>/dev/null) ||
	perf_die "cannot commit and push m.safetensors in $side"
done
test "$(stat -c %s model/m.safetensors)" = "$(perf_bytes "$PERF_ST")" ||
perf_die "m.safetensors has the wrong size"

unclone () {
	rm -rf $1-clone
}
fetch_v1 () {
	git -C $1-clone checkout -q v1 && git -C $1-clone checkout -q main
}

perf_bench model . "$(perf_remote model)" unclone \
	clone -q -b main "file://$(perf_remote model)" model-clone
perf_bench lfs . "$(perf_remote lfs)" unclone \
	clone -q -b main "file://$(perf_remote lfs)" lfs-clone
cmp -s model/m.safetensors model-clone/m.safetensors &&
cmp -s lfs/m.safetensors lfs-clone/m.safetensors ||
perf_die "a clone does not hold m.safetensors"
perf_report "(h) clone 1 x $st safetensors" --speedup 2

# Both versions local in each clone; then the first diff between them.
fetch_v1 model && fetch_v1 lfs || perf_die "cannot check v1 out"
perf_git model model-clone diff v1 v2
perf_git lfs lfs-clone diff v1 v2
perf_report "first diff v1 v2 after clone"
perf_done
