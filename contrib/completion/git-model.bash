# bash completion for git-model ("git model ..." and "git-model ...").
#
# It defines _git_model, which git's own bash completion calls for
# "git model <TAB>", and uses that completion's helpers (__gitcomp,
# __git_complete_refs, __git_remotes, ...), so git's completion must be
# available: on Debian and Ubuntu the git package installs it as
# /usr/share/bash-completion/completions/git.
#
# Install it in one of these ways:
#
#  - with bash-completion (package bash-completion), for your user:
#
#	mkdir -p ~/.local/share/bash-completion/completions
#	cp git-model.bash ~/.local/share/bash-completion/completions/git-model
#
#    git's completion loads it on demand the first time you complete
#    "git model <TAB>" (or system-wide: install it as
#    /usr/share/bash-completion/completions/git-model);
#
#  - or source it from ~/.bashrc, after git's completion:
#
#	. /usr/share/bash-completion/completions/git
#	. /path/to/git-model.bash
#
# Either way "git-model <TAB>" is completed as well.

# Options of the current command line's subcommand, given as groups of
# synonyms or exclusive options ("-q|--quiet"): a group is left out once
# one of its members is on the command line.
__git_model_opts ()
{
	local group opts="" c seen
	local IFS=$' \t\n'

	for group in $1; do
		seen=
		c=$((__git_model_sub_idx + 1))
		while [ $c -lt $cword ]; do
			case "|$group|" in
			*"|${words[c]}|"*) seen=y; break ;;
			esac
			((c++))
		done
		[ -n "$seen" ] || opts="$opts ${group//|/ }"
	done
	__gitcomp "$opts"
}

# Whether option $1 is on the command line after the subcommand.
__git_model_has_opt ()
{
	local c=$((__git_model_sub_idx + 1))

	while [ $c -lt $cword ]; do
		[ "${words[c]}" = "$1" ] && return 0
		((c++))
	done
	return 1
}

# The command line's words after the subcommand that are not options, and
# not the values of the options in $1 ("-I --include"), one a line.
__git_model_args ()
{
	local c=$((__git_model_sub_idx + 1)) w dashdash=

	while [ $c -lt $cword ]; do
		w=${words[c]}
		if [ -n "$dashdash" ]; then
			printf '%s\n' "$w"
		else
			case " ${1-} " in
			*" $w "*) ((c++)) ;;
			*)
				case "$w" in
				--) dashdash=y ;;
				-*) ;;
				*) printf '%s\n' "$w" ;;
				esac
				;;
			esac
		fi
		((c++))
	done
}

# Files of the work tree (pointer files need not be tracked).
__git_model_complete_files ()
{
	local dequoted_word f i=0

	__git_dequote "$cur"
	COMPREPLY=()
	while IFS= read -r f; do
		COMPREPLY[i++]=$f
	done < <(compgen -f -- "$dequoted_word")
	compopt -o filenames +o nospace 2>/dev/null || true
}

# Patterns that "git model untrack" can take: those "git model track" lists
# from the top-level .gitattributes (the file untrack edits), relative to
# the current directory, less those already on the command line.
__git_model_complete_tracked ()
{
	local dequoted_word prefix p w used=$'\n' i=0

	prefix=$(__git rev-parse --show-prefix)
	while IFS= read -r w; do
		__git_dequote "$w"
		used="$used$dequoted_word"$'\n'
	done < <(__git_model_args)
	__git_dequote "$cur"
	COMPREPLY=()
	while IFS= read -r p; do
		case "$p" in
		/*) ;;
		"$prefix"*) p=${p#"$prefix"} ;;
		*) continue ;;
		esac
		case "$used" in
		*$'\n'"$p"$'\n'*) continue ;;
		esac
		[[ "$p" == "$dequoted_word"* ]] && COMPREPLY[i++]=$p
	done < <(__git model track |
		sed -n -e '/^Listing tracked patterns/,$ s/^    \(.*\) (\.gitattributes)$/\1/p')
	# As file names, so that bash quotes the glob characters it inserts
	# (and adds the space after them).
	compopt -o filenames +o nospace 2>/dev/null || true
}

# [<remote>] [<ref>...]: a remote first, then refs.
__git_model_complete_remote_refs ()
{
	if [ -z "$(__git_model_args "$1")" ]; then
		__gitcomp_nl "$(__git_remotes)"
	else
		__git_complete_refs
	fi
}

_git_model ()
{
	local __git_model_sub_idx c subcommand
	local porcelain="install uninstall track untrack push fetch checkout pull
		ls-files status fsck prune migrate url show diff env version help pointer"
	local plumbing="clean smudge filter-process pre-push textconv
		merge-driver"

	# The word "model" is at $__git_cmd_idx (git >= 2.31; 0 when called
	# as git-model); older git does not set it.
	if [ -n "${__git_cmd_idx-}" ]; then
		c=$__git_cmd_idx
	else
		c=1
		while [ $c -lt $cword ] && [ "${words[c]}" != model ]; do
			((c++))
		done
	fi
	__git_model_sub_idx=$((c + 1))

	if [ $cword -le $__git_model_sub_idx ]; then
		case "$cur" in
		-*) __gitcomp "--version -h --help" ;;
		*) __gitcomp "$porcelain $plumbing" ;;
		esac
		return
	fi
	subcommand=${words[__git_model_sub_idx]}

	# Arguments of options.
	case "$subcommand,$prev" in
	fetch,-I|fetch,--include|fetch,-X|fetch,--exclude|\
	pull,-I|pull,--include|pull,-X|pull,--exclude)
		# Globs: nothing to offer.
		return
		;;
	url,--rev)
		__git_complete_refs
		return
		;;
	migrate,-I|migrate,--include)
		return
		;;
	esac

	if __git_has_doubledash; then
		case "$subcommand" in
		checkout|url|clean|smudge|diff)
			__git_complete_index_file "--cached" ;;
		esac
		return
	fi

	case "$subcommand,$cur" in
	install,-*)
		__git_model_opts "--global|--local|--system --skip-smudge"
		;;
	uninstall,-*)
		__git_model_opts "--global|--local|--system"
		;;
	push,-*)
		__git_model_opts "-n|--dry-run --all -q|--quiet --progress"
		;;
	push,*)
		__git_model_complete_remote_refs
		;;
	fetch,-*|pull,-*)
		__git_model_opts "-I|--include -X|--exclude -q|--quiet --progress"
		;;
	fetch,*|pull,*)
		__git_model_complete_remote_refs "-I --include -X --exclude"
		;;
	untrack,*)
		__git_model_complete_tracked
		;;
	checkout,-*)
		__git_model_opts "-q|--quiet"
		;;
	checkout,*)
		__git_complete_index_file "--cached"
		;;
	ls-files,-*)
		;;
	ls-files,*)
		[ -z "$(__git_model_args)" ] && __git_complete_refs
		;;
	fsck,-*)
		__git_model_opts "--objects --pointers --remote"
		;;
	fsck,*)
		__git_complete_refs
		;;
	prune,-*)
		__git_model_opts "-n|--dry-run -v|--verbose --storage-uploads --older-than="
		;;
	migrate,-*)
		if [ "${words[__git_model_sub_idx + 1]}" = import ]; then
			__git_model_opts "-I|--include= --everything -n|--dry-run -v|--verbose -q|--quiet"
		else
			__git_model_opts "--everything -n|--dry-run -v|--verbose -q|--quiet"
		fi
		;;
	migrate,*)
		if [ $cword -eq $((__git_model_sub_idx + 1)) ]; then
			__gitcomp "import from-lfs"
		else
			__git_complete_refs
		fi
		;;
	url,-*)
		__git_model_opts "--rev --https"
		;;
	url,*)
		[ -z "$(__git_model_args "--rev")" ] &&
		__git_complete_index_file "--cached"
		;;
	show,-*|diff,-*)
		;;
	show,*)
		# <rev>:<path> or a file
		[ -z "$(__git_model_args)" ] && __git_complete_revlist_file
		;;
	diff,*)
		[ "$(__git_model_args | wc -l)" -lt 2 ] && __git_complete_refs
		;;
	pointer,-*)
		if __git_model_has_opt --check; then
			__git_model_opts "--file|--check -q|--quiet"
		else
			__git_model_opts "--file|--check"
		fi
		;;
	pointer,*)
		[ -z "$(__git_model_args)" ] && __git_model_complete_files
		;;
	smudge,-*|filter-process,-*)
		__git_model_opts "--skip"
		;;
	pre-push,*)
		# <remote> <url>
		local args=($(__git_model_args))
		case ${#args[@]} in
		0) __gitcomp_nl "$(__git_remotes)" ;;
		1) __gitcomp_nl "$(__git remote get-url --all "${args[0]}")" ;;
		esac
		;;
	esac
}

# "git-model <TAB>" too. When bash-completion loads this file for it, git's
# completion may not be loaded yet: load it.
if ! declare -F __git_complete >/dev/null 2>&1 &&
   declare -F __load_completion >/dev/null 2>&1; then
	__load_completion git
fi
if declare -F __git_complete >/dev/null 2>&1; then
	__git_complete git-model _git_model
fi
