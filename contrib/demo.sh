#!/bin/sh
# A round trip with git-model in a temp directory, as README shows:
# track, commit two tagged versions, push to a local bare repository, clone,
# switch tags, list the pointers. Uses a temp HOME, so your own git config
# is not touched. Needs git-model on PATH (after `make install`).
set -e

command -v git-model >/dev/null 2>&1 || {
	echo "git-model is not on PATH (did 'make install' put it in \$HOME/.local/bin?)" >&2
	exit 1
}
demo=$(mktemp -d "${TMPDIR:-/tmp}/git-model-demo.XXXXXX")
echo "demo directory: $demo"
export HOME="$demo"
cd "$demo"
git config --global user.name "git-model demo"
git config --global user.email demo@example.com
git config --global init.defaultBranch main

say () { printf '\n$ %s\n' "$*"; "$@"; }

say git model install
say git init -q --bare models.git
say git init -q work
cd work
say git model track '*.pth'
head -c 20000000 /dev/urandom >model.pth
say git add .gitattributes model.pth
say git commit -q -m 'weights v1'
say git tag v1
head -c 30000000 /dev/urandom >model.pth
say git commit -q -a -m 'weights v2'
say git tag v2
v1=$(git show v1:model.pth | sed -n 's/^oid sha256://p')
v2=$(sha256sum <model.pth | cut -d' ' -f1)
say git cat-file -p v2:model.pth
say git remote add origin ../models.git
say git push -q origin main --tags
cd ..
say git clone -q models.git clone
cd clone
say git model ls-files
test "$(sha256sum <model.pth | cut -d' ' -f1)" = "$v2"
say git checkout -q v1
test "$(sha256sum <model.pth | cut -d' ' -f1)" = "$v1"
say git model ls-files
say git status --short
echo
echo "ok: the clone has v2's weights, and v1's after 'git checkout v1'"
echo "(remove $demo when done)"
