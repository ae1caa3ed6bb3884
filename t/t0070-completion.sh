#!/bin/sh

test_description='bash completion: contrib/completion/git-model.bash with git'"'"'s'

. "$(dirname "$0")/test-lib.sh"

# git's own completion (Debian: the git package ships it), which calls
# _git_model for "git model".
: "${GIT_MODEL_TEST_GIT_COMPLETION:=/usr/share/bash-completion/completions/git}"
export GIT_MODEL_TEST_GIT_COMPLETION
if ! test -f "$GIT_MODEL_TEST_GIT_COMPLETION"
then
	skip_all="git's bash completion ($GIT_MODEL_TEST_GIT_COMPLETION, from the git package) is not installed"
	test_done
fi
bash=$(command -v bash) || {
	skip_all="bash is not installed"
	test_done
}

# test_completion 'COMMAND LINE' <EXPECT: what completing at the end of
# the line offers, one a line, in order, less the space added after a word.
test_completion () {
	cat >expect &&
	"$TRASH_DIRECTORY/complete" "$1" >actual &&
	test_cmp expect actual
}

test_expect_success 'setup: a completing shell, a repository, remotes' '
	write_script complete "$bash" <<-\EOF &&
	. "$GIT_MODEL_TEST_GIT_COMPLETION" || exit 1
	. "$GIT_MODEL_SRC_DIR/contrib/completion/git-model.bash" || exit 1
	# As bash sets them for TAB at the end of the line $1.
	COMP_LINE=$1
	COMP_POINT=${#COMP_LINE}
	read -ra COMP_WORDS <<<"$COMP_LINE"
	case "$COMP_LINE" in
	*" ") COMP_WORDS+=("") ;;
	esac
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	__git_func_wrap __git_main
	for w in "${COMPREPLY[@]}"
	do
		printf "%s\\n" "${w% }"
	done
	EOF
	git model track "*.pth" "*.onnx" &&
	echo weights >model.pth &&
	git add .gitattributes model.pth &&
	test_commit one &&
	git remote add origin ../origin.git &&
	git remote add upstream ../upstream.git
'

test_expect_success 'git model <TAB>: the commands, porcelain first' '
	test_completion "git model " <<-\EOF
	install
	uninstall
	track
	untrack
	push
	fetch
	checkout
	pull
	ls-files
	status
	fsck
	prune
	migrate
	url
	show
	diff
	env
	version
	help
	pointer
	clean
	smudge
	filter-process
	pre-push
	textconv
	merge-driver
	EOF
'

test_expect_success 'a command from its start' '
	test_completion "git model tr" <<-\EOF &&
	track
	EOF
	test_completion "git model p" <<-\EOF
	push
	pull
	prune
	pointer
	pre-push
	EOF
'

test_expect_success 'the options of the usage lines' '
	test_completion "git model push --d" <<-\EOF &&
	--dry-run
	EOF
	test_completion "git model push -" <<-\EOF &&
	-n
	--dry-run
	--all
	-q
	--quiet
	--progress
	EOF
	test_completion "git model fetch --" <<-\EOF &&
	--include
	--exclude
	--quiet
	--progress
	EOF
	test_completion "git model url --" <<-\EOF &&
	--rev
	--https
	EOF
	test_completion "git model smudge --" <<-\EOF &&
	--skip
	EOF
	test_completion "git model fsck --" <<-\EOF &&
	--objects
	--pointers
	--remote
	EOF
	test_completion "git model prune -" <<-\EOF
	-n
	--dry-run
	-v
	--verbose
	--storage-uploads
	--older-than=
	EOF
'

test_expect_success 'migrate: what to migrate, then its options' '
	test_completion "git model migrate " <<-\EOF &&
	import
	from-lfs
	EOF
	test_completion "git model migrate import --" <<-\EOF &&
	--include=
	--everything
	--dry-run
	--verbose
	--quiet
	EOF
	test_completion "git model migrate from-lfs --everything --" <<-\EOF
	--dry-run
	--verbose
	--quiet
	EOF
'

test_expect_success 'options given already are not offered again' '
	test_completion "git model install --local --" <<-\EOF &&
	--skip-smudge
	EOF
	test_completion "git model push -n --all --" <<-\EOF &&
	--quiet
	--progress
	EOF
	test_completion "git model pointer --check -" <<-\EOF &&
	-q
	--quiet
	EOF
	test_completion "git model prune --dry-run -" <<-\EOF
	-v
	--verbose
	--storage-uploads
	--older-than=
	EOF
'

test_expect_success 'untrack offers the tracked patterns' '
	test_completion "git model untrack " <<-\EOF &&
	*.pth
	*.onnx
	EOF
	test_completion "git model untrack *.o" <<-\EOF &&
	*.onnx
	EOF
	test_completion "git model untrack *.pth " <<-\EOF
	*.onnx
	EOF
'

test_expect_success 'untrack in a subdirectory: patterns as it takes them there' '
	mkdir -p sub &&
	(cd sub && git model track "*.gguf") &&
	test_when_finished "git model untrack \"sub/*.gguf\"" &&
	(
		cd sub &&
		test_completion "git model untrack " <<-\EOF
		*.gguf
		EOF
	)
'

test_expect_success 'push, fetch and pull offer remotes, then refs' '
	test_completion "git model fetch " <<-\EOF &&
	origin
	upstream
	EOF
	test_completion "git model pull -X *.onnx u" <<-\EOF &&
	upstream
	EOF
	test_completion "git model push origin " <<-\EOF
	HEAD
	main
	one
	EOF
'

test_expect_success 'ls-files, fsck and url --rev offer refs' '
	test_completion "git model ls-files m" <<-\EOF &&
	main
	EOF
	test_completion "git model fsck --remote o" <<-\EOF &&
	one
	EOF
	test_completion "git model url --rev o" <<-\EOF
	one
	EOF
'

test_expect_success 'checkout and url offer files of the index' '
	test_completion "git model checkout m" <<-\EOF &&
	model.pth
	EOF
	test_completion "git model url --rev one o" <<-\EOF
	one.t
	EOF
'

test_expect_success 'show offers <rev>:<path>, diff two refs then files' '
	test_completion "git model show one:o" <<-\EOF &&
	one.t
	EOF
	test_completion "git model show o" <<-\EOF &&
	one
	EOF
	test_completion "git model diff o" <<-\EOF &&
	one
	EOF
	test_completion "git model diff one m" <<-\EOF &&
	main
	EOF
	test_completion "git model diff one main o" <<-\EOF &&
	EOF
	test_completion "git model diff one -- m" <<-\EOF
	model.pth
	EOF
'

test_expect_success 'pointer --file offers files of the work tree' '
	mkdir -p dir &&
	: >dir/weights.onnx &&
	test_completion "git model pointer --file dir/w" <<-\EOF
	dir/weights.onnx
	EOF
'

test_done
