#!/bin/sh

test_description='torch.hub: a git tag picks the weights, loaded from an archive'

. "$(dirname "$0")/test-lib.sh"
test_auto_compresses

PYTHON=/usr/bin/python3
SQ="'"
# What these test is the helper, Python; git-model only sets them up.
if test -n "$GIT_MODEL_TEST_SANITIZER"
then
	skip_all="the torch.hub helper is Python: its tests run in the build without sanitizers"
	test_done
fi
if ! $PYTHON -c "import torch" 2>/dev/null
then
	test_env_require_ci_service torch "Debian's python3-torch is not installed (apt-get install python3-torch)"
fi

. "$TEST_DIRECTORY/lib-httpd.sh"
start_httpd

# load DIR CACHE: torch.hub.load the tiny model from an unpacked archive;
# prints its fc.weight values and its fc.bias values.
cat >load.py <<\EOF
import sys
import torch
torch.hub.set_dir(sys.argv[2])
model = torch.hub.load(sys.argv[1], "tiny", source="local", progress=False)
sd = model.state_dict()
print(" ".join(f"{v:.6f}" for v in sd["fc.weight"].flatten().tolist()))
print(" ".join(f"{v:.6f}" for v in sd["fc.bias"].tolist()))
EOF

# save FILE FILL: a state dict with every weight FILL, bias FILL+0.5
cat >save.py <<\EOF
import sys
import torch
fill = float(sys.argv[2])
torch.save({"fc.weight": torch.full((2, 4), fill),
            "fc.bias": torch.full((2,), fill + 0.5)}, sys.argv[1])
EOF

# direct POINTER CACHE DIR: load_state_dict() of gitmodel_hub.py in DIR,
# with its defaults (progress on); prints fc.bias.
cat >direct.py <<\EOF
import sys
import torch
sys.path.insert(0, sys.argv[3])
import gitmodel_hub
torch.hub.set_dir(sys.argv[2])
sd = gitmodel_hub.load_state_dict(sys.argv[1])
print(sd["fc.bias"].tolist())
EOF

expect_values () {
	w=$(printf "%.6f" "$1") &&
	b=$($PYTHON -c "print(f'{$1 + 0.5:.6f}')") &&
	echo "$w $w $w $w $w $w $w $w" >expect &&
	echo "$b $b" >>expect
}

test_expect_success 'setup: a model repository, v1 and v2 pushed to HTTP storage' '
	git config --global model.compression none &&
	git model install &&
	git init -q --bare remote.git &&
	git init -q hub &&
	(
		cd hub &&
		git model track "*.pth" &&
		git config -f .gitmodel model.storage "$HTTPD_URL/open/models" &&
		cp "$GIT_MODEL_SRC_DIR/contrib/torchhub/gitmodel_hub.py" . &&
		cat >hubconf.py <<-\EOF &&
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
		    model = Tiny()
		    if pretrained:
		        path = os.path.join(os.path.dirname(__file__), "weights", "tiny.pth")
		        model.load_state_dict(load_state_dict(path, **kwargs))
		    return model
		EOF
		mkdir weights &&
		$PYTHON ../save.py weights/tiny.pth 1.25 &&
		git add . &&
		git commit -q -m v1 &&
		git tag v1 &&
		$PYTHON ../save.py weights/tiny.pth -3.5 &&
		git commit -q -a -m v2 &&
		git tag v2 &&
		git remote add origin ../remote.git &&
		git push -q origin main --tags
	)
'

# A hosting site builds a tag's archive (torch.hub's zipball) from the
# commit, without our filter: pointers. Locally, git archive would run the
# smudge filter, so switch it off to get the same archive.
test_expect_success 'an archive of a tag holds the pointer, not the weights' '
	mkdir v1 v2 &&
	GIT_MODEL_SKIP_SMUDGE=1 git -C hub archive v1 | tar -x -C v1 &&
	GIT_MODEL_SKIP_SMUDGE=1 git -C hub archive v2 | tar -x -C v2 &&
	git model pointer --check v1/weights/tiny.pth &&
	git model pointer --check v2/weights/tiny.pth
'

test_expect_success 'torch.hub.load from the v1 archive gives v1 weights exactly' '
	$PYTHON load.py "$PWD/v1" "$PWD/cache" >out &&
	expect_values 1.25 &&
	test_cmp expect out
'

test_expect_success 'torch.hub.load from the v2 archive gives v2 weights exactly' '
	$PYTHON load.py "$PWD/v2" "$PWD/cache" >out &&
	expect_values -3.5 &&
	test_cmp expect out &&
	ls cache/gitmodel >cached &&
	test_line_count = 2 cached &&
	oid=$(sed -n "s/^oid sha256://p" v2/weights/tiny.pth) &&
	grep "^$oid-tiny.pth$" cached
'

test_expect_success 'a second load downloads nothing' '
	gets=$(httpd_log_count GET 200 "^/open/models/") &&
	$PYTHON load.py "$PWD/v1" "$PWD/cache" >out &&
	expect_values 1.25 &&
	test_cmp expect out &&
	test "$(httpd_log_count GET 200 "^/open/models/")" = "$gets"
'

test_expect_success 'a tampered stored object: a hash error, nothing in the cache' '
	oid=$(sed -n "s/^oid sha256://p" v1/weights/tiny.pth) &&
	obj="$HTTPD_ROOT/open/models/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid" &&
	size=$(wc -c <"$obj") &&
	test-tool genrandom evil $size >"$obj" &&
	test_must_fail $PYTHON load.py "$PWD/v1" "$PWD/cache2" >out 2>err &&
	grep "HashMismatchError" err &&
	grep "does not match the pointer" err &&
	find cache2 -type f >left &&
	test_must_be_empty left
'

test_expect_success 'a cached file of the wrong size is fetched again' '
	oid=$(sed -n "s/^oid sha256://p" v2/weights/tiny.pth) &&
	echo broken >"cache/gitmodel/$oid-tiny.pth" &&
	$PYTHON load.py "$PWD/v2" "$PWD/cache" >out &&
	expect_values -3.5 &&
	test_cmp expect out
'

test_expect_success 'progress only on a terminal' '
	$PYTHON direct.py "$PWD/v2/weights/tiny.pth" "$PWD/cache4" "$PWD/v2" >out 2>err &&
	echo "[-3.0, -3.0]" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	script -qec "$PYTHON direct.py ${SQ}$PWD/v2/weights/tiny.pth${SQ} ${SQ}$PWD/cache5${SQ} ${SQ}$PWD/v2${SQ}" \
		/dev/null </dev/null >out &&
	grep "Downloading .*-tiny.pth: 100%" out
'

test_expect_success 'a cached file is verified once; a change of the same size is caught' '
	oid=$(sed -n "s/^oid sha256://p" v2/weights/tiny.pth) &&
	cached=cache4/gitmodel/$oid-tiny.pth &&
	echo "$(stat -c %s "$cached") $($PYTHON -c "import os,sys; print(os.stat(sys.argv[1]).st_mtime_ns)" "$cached")" >expect &&
	test_cmp expect "cache4/gitmodel/.$oid-tiny.pth.verified" &&
	gets=$(httpd_log_count GET 200 "^/open/models/") &&
	size=$(wc -c <"$cached") &&
	chmod u+w "$cached" &&
	test-tool genrandom garbage $size >"$cached" &&
	$PYTHON direct.py "$PWD/v2/weights/tiny.pth" "$PWD/cache4" "$PWD/v2" >out 2>err &&
	echo "[-3.0, -3.0]" >expect &&
	test_cmp expect out &&
	test "$(httpd_log_count GET 200 "^/open/models/")" = $((gets + 1))
'

test_expect_success 'a short or long object: the byte count the pointer says, exactly' '
	oid=$(sed -n "s/^oid sha256://p" v2/weights/tiny.pth) &&
	obj="$HTTPD_ROOT/open/models/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid" &&
	size=$(wc -c <"$obj") &&
	cp "$obj" saved.obj &&
	test_when_finished "cp saved.obj \"$obj\"" &&
	head -c $((size - 10)) saved.obj >"$obj" &&
	test_must_fail $PYTHON direct.py "$PWD/v2/weights/tiny.pth" "$PWD/cache6" "$PWD/v2" 2>err &&
	grep "got $((size - 10)) bytes, the pointer says $size; nothing was kept" err &&
	{ cat saved.obj && echo more; } >"$obj" &&
	test_must_fail $PYTHON direct.py "$PWD/v2/weights/tiny.pth" "$PWD/cache6" "$PWD/v2" 2>err &&
	grep "got more than the $size bytes the pointer says; nothing was kept" err
'

test_expect_success 'a pointer without url says so' '
	git init -q nourl &&
	(
		cd nourl &&
		git model track "*.pth" &&
		mkdir weights &&
		cp ../hub/hubconf.py ../hub/gitmodel_hub.py . &&
		$PYTHON ../save.py weights/tiny.pth 0 &&
		git add . &&
		git commit -q -m nourl
	) &&
	mkdir nourl-archive &&
	GIT_MODEL_SKIP_SMUDGE=1 git -C nourl archive HEAD | tar -x -C nourl-archive &&
	test_must_fail $PYTHON load.py "$PWD/nourl-archive" "$PWD/cache3" 2>err &&
	grep "has no url" err
'

test_expect_success 'real weights (a clone with git-model) load directly' '
	git clone -q remote.git clone &&
	$PYTHON -c "import sys; sys.path.insert(0, \"clone\"); import gitmodel_hub, torch; \
sd = gitmodel_hub.load_state_dict(\"clone/weights/tiny.pth\"); print(sd[\"fc.bias\"].tolist())" >out &&
	echo "[-3.0, -3.0]" >expect &&
	test_cmp expect out
'

if $PYTHON -c "import zstandard, numpy" 2>/dev/null
then
	test_set_prereq ZSTANDARD
fi

test_expect_success ZSTANDARD 'torch.hub.load from storage that holds the object compressed' '
	(
		cd hub &&
		$PYTHON ../save.py weights/tiny.pth 7.0 &&
		git commit -q -a -m v3 &&
		git tag v3 &&
		git -c model.storage="file://$HTTPD_ROOT/open/models" \
			-c model.compression=auto push -q origin main --tags
	) &&
	mkdir v3 &&
	GIT_MODEL_SKIP_SMUDGE=1 git -C hub archive v3 | tar -x -C v3 &&
	oid=$(sed -n "s/^oid sha256://p" v3/weights/tiny.pth) &&
	obj="$HTTPD_ROOT/open/models/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid" &&
	test_path_is_missing "$obj" &&
	test-tool zcontainer table "$obj.gmz" >table &&
	grep "^zstd" table &&
	$PYTHON load.py "$PWD/v3" "$PWD/cache7" >out &&
	expect_values 7.0 &&
	test_cmp expect out &&
	test_cmp_bin hub/weights/tiny.pth "cache7/gitmodel/$oid-tiny.pth"
'

test_expect_success ZSTANDARD 'a truncated compressed object: an error, nothing in the cache' '
	oid=$(sed -n "s/^oid sha256://p" v3/weights/tiny.pth) &&
	obj="$HTTPD_ROOT/open/models/sha256/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid" &&
	cp "$obj.gmz" saved.gmz &&
	test_when_finished "cp saved.gmz \"$obj.gmz\"" &&
	head -c $(($(wc -c <saved.gmz) - 1)) saved.gmz >"$obj.gmz" &&
	test_must_fail $PYTHON load.py "$PWD/v3" "$PWD/cache8" >out 2>err &&
	grep "HashMismatchError: .*compressed object: truncated; nothing was kept" err &&
	find cache8 -type f >left &&
	test_must_be_empty left
'

test_done
