#!/bin/sh

test_description='track and untrack edit .gitattributes'

. "$(dirname "$0")/test-lib.sh"

SQ="'"

test_expect_success 'track writes the attributes line' '
	git model track "*.pth" >out &&
	grep "Tracking .\*\.pth." out &&
	echo "*.pth filter=model diff=model merge=model -text" >expect &&
	test_cmp expect .gitattributes &&
	test "$(git check-attr filter -- a/b/x.pth)" = "a/b/x.pth: filter: model"
'

test_expect_success 'tracking twice does not duplicate the line' '
	git model track "*.pth" >out &&
	grep "already tracked" out &&
	test_cmp expect .gitattributes
'

test_expect_success 'several patterns at once, existing lines kept' '
	echo "*.txt text" >>.gitattributes &&
	git model track "*.safetensors" "*.onnx" &&
	cat >expect <<-\EOF &&
	*.pth filter=model diff=model merge=model -text
	*.txt text
	*.safetensors filter=model diff=model merge=model -text
	*.onnx filter=model diff=model merge=model -text
	EOF
	test_cmp expect .gitattributes
'

test_expect_success 'track without patterns lists them' '
	git model track >out &&
	cat >expect <<-\EOF &&
	Listing tracked patterns
	    *.pth (.gitattributes)
	    *.safetensors (.gitattributes)
	    *.onnx (.gitattributes)
	EOF
	test_cmp expect out
'

test_expect_success 'untrack removes only that pattern' '
	git model untrack "*.onnx" >out &&
	grep "Untracking .\*\.onnx." out &&
	cat >expect <<-\EOF &&
	*.pth filter=model diff=model merge=model -text
	*.txt text
	*.safetensors filter=model diff=model merge=model -text
	EOF
	test_cmp expect .gitattributes
'

test_expect_success 'untrack of a pattern not tracked is an error' '
	test_must_fail git model untrack "*.gguf" 2>err &&
	grep "error: .\*\.gguf. is not tracked" err &&
	test_cmp expect .gitattributes
'

test_expect_success 'a pattern with a space is written so git matches it' '
	git model track "my model.bin" &&
	grep "^my\[\[:space:\]\]model.bin filter=model" .gitattributes &&
	test "$(git check-attr filter -- "my model.bin")" = "my model.bin: filter: model"
'

test_expect_success 'track from a subdirectory tracks files under it' '
	mkdir -p sub/dir &&
	(cd sub/dir && git model track "*.gguf") &&
	grep "^sub/dir/\*\.gguf filter=model" .gitattributes &&
	test "$(git check-attr filter -- sub/dir/x.gguf)" = "sub/dir/x.gguf: filter: model" &&
	test "$(git check-attr filter -- x.gguf)" = "x.gguf: filter: unspecified"
'

test_expect_success 'a file without a final newline is extended cleanly' '
	printf "*.txt text" >.gitattributes &&
	git model track "*.pt" &&
	cat >expect <<-\EOF &&
	*.txt text
	*.pt filter=model diff=model merge=model -text
	EOF
	test_cmp expect .gitattributes
'

test_expect_success 'untrack takes every duplicate line of the pattern' '
	echo "*.pt filter=model diff=model merge=model -text" >>.gitattributes &&
	git model untrack "*.pt" &&
	echo "*.txt text" >expect &&
	test_cmp expect .gitattributes
'

test_expect_success 'track without install configures the filter and says so' '
	git config --global --remove-section filter.model 2>/dev/null
	git init -q fresh &&
	(
		cd fresh &&
		git model track "*.pth" >out &&
		grep "not configured: running .git model install." out &&
		grep "filter installed in the global git config" out &&
		test-tool genrandom m 70000 >m.pth &&
		git add .gitattributes m.pth &&
		git commit -q -m m &&
		git cat-file -p HEAD:m.pth >blob &&
		git model pointer --check blob &&
		git model track "*.bin" >out &&
		! grep "not configured" out
	)
'

test_expect_success 'status lists tracked files committed raw, with the advice' '
	git config --global --remove-section filter.model &&
	git init -q raw &&
	(
		cd raw &&
		echo "*.pth filter=model diff=model merge=model -text" >.gitattributes &&
		test-tool genrandom r 70000 >r.pth &&
		echo text >notes.txt &&
		git add .gitattributes r.pth notes.txt &&
		git commit -q -m raw &&
		git model install >/dev/null &&
		git model status >out &&
		cat >expect <<-EOF &&
		Tracked files stored raw in git, not as pointers (run ${SQ}git add --renormalize .${SQ} and commit):
		Zr.pth
		EOF
		sed "s/^Z/	/" expect >expect.tab &&
		sed -n "/^Tracked files stored raw/,\$p" out >actual &&
		test_cmp expect.tab actual &&
		git add --renormalize . &&
		git commit -q -m renormalized &&
		git model status >out &&
		! grep "stored raw" out
	)
'

test_expect_success 'status before the first commit lists the staged weights' '
	git init -q unborn &&
	(
		cd unborn &&
		git model track "*.pth" >/dev/null &&
		test-tool genrandom u 3000 >u.pth &&
		git add .gitattributes u.pth &&
		git model status >out &&
		printf "Weights staged for commit:\n\t%s u.pth (2.93 KiB)\n" \
			"$(oid_of u.pth | cut -c1-10)" >expect &&
		sed -n "1,2p" out >actual &&
		test_cmp expect actual
	)
'

test_done
