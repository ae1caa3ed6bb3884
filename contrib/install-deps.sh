#!/bin/sh
# Install what git-model needs on Debian 12: the packages to build it, and
# with --tests also everything its test suite needs (nginx, node and the S3
# tests' modules, torch, strace...), so that `make check` skips nothing for
# a missing package. Run from anywhere, as root (apt-get is run directly)
# or as a user who has sudo (apt-get is run through sudo).
#
#	contrib/install-deps.sh [--tests]
#
# .ci/run installs through this script too, so the two cannot drift.
set -eu

build_packages='autoconf automake libtool pkg-config make gcc libc6-dev git
ca-certificates time libgit2-dev libcurl4-openssl-dev libssl-dev
libzstd-dev libjson-c-dev libs3-dev'
test_packages='python3 curl openssl nginx-light python3-torch python3-numpy
python3-zstandard zstd asciidoctor
man-db bash-completion clang strace xfsprogs e2fsprogs git-lfs'

tests=
case $# in
0) ;;
1) test "$1" = --tests || { echo "usage: $0 [--tests]" >&2; exit 129; }
   tests=t ;;
*) echo "usage: $0 [--tests]" >&2; exit 129 ;;
esac
cd "$(dirname "$0")/.."

if test "$(id -u)" = 0
then
	as_root=
elif command -v sudo >/dev/null 2>&1
then
	as_root=sudo
else
	echo "error: apt-get needs root: run $0 as root, or install sudo" >&2
	exit 1
fi

packages=$build_packages
if test -n "$tests"
then
	packages="$packages $test_packages"
	# Debian's nodejs and npm, unless a node with its npm is there
	# already (a NodeSource nodejs bundles npm and conflicts with
	# Debian's).
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
	packages="$packages nodejs npm"
fi

echo "Installing: $(echo $packages)"
$as_root apt-get update -qq
# $packages is split into words on purpose: one package a word.
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends $packages

if test -n "$tests"
then
	echo "Installing the S3 tests' servers: npm ci --prefix t/s3"
	npm ci --prefix t/s3 --no-audit --no-fund
fi
