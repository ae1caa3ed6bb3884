# lib-safetensors.sh: sourced after test-lib.sh by the scripts that check
# the tensor hashes git-model caches for a .safetensors object.
#
# st_model FILE SEED COUNT: a .safetensors of COUNT F32 tensors of 2 MiB
# each, of random bytes from SEED (test-tool genrandom); and in FILE.hashes
# the lines `git model show` prints for its tensors (name, dtype, shape,
# sha256[:16]), sorted.
#
# st_show_hashes ARGS...: those lines as `git ARGS` (a `model show`)
# prints them, sorted.
#
# st_spoil OBJECT OFFSET: zero 16 bytes at OFFSET in a copy of OBJECT put
# in its place (the store's copy may be a hard link of storage's), so a
# command that reads the tensors' bytes prints other hashes.

st_model () {
	/usr/bin/python3 - "$1.hdr" "$3" <<-\EOF &&
	import json, struct, sys
	n, each = int(sys.argv[2]), 2 << 20
	meta = {"t%d" % i: {"dtype": "F32", "shape": [each // 4],
			    "data_offsets": [i * each, (i + 1) * each]}
		for i in range(n)}
	h = json.dumps(meta).encode()
	h += b" " * (-len(h) % 8)
	open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h)
	EOF
	{ cat "$1.hdr" && test-tool genrandom "$2" $(($3 * 2))m; } >"$1" &&
	rm "$1.hdr" &&
	/usr/bin/python3 - "$1" <<-\EOF >"$1.hashes"
	import hashlib, json, struct, sys
	data = open(sys.argv[1], "rb").read()
	n = struct.unpack("<Q", data[:8])[0]
	meta = json.loads(data[8:8 + n])
	for name in sorted(meta):
	    a, b = meta[name]["data_offsets"]
	    digest = hashlib.sha256(data[8 + n + a:8 + n + b]).hexdigest()[:16]
	    print("%s F32 [%d] %s" % (name, (b - a) // 4, digest))
	EOF
}

st_show_hashes () {
	git "$@" >st-show.out &&
	sed -n "s/^\([^ ]* [A-Z0-9_]* \[.*\]\) \([0-9a-f]\{16\}\)$/\1 \2/p" \
		st-show.out | sort
}

st_spoil () {
	cp "$1" st-spoiled &&
	dd if=/dev/zero of=st-spoiled bs=1 seek="$2" count=16 \
		conv=notrunc 2>/dev/null &&
	mv -f st-spoiled "$1"
}
