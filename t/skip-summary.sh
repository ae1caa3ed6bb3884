#!/bin/sh
# skip-summary.sh LOG...: after `make check`, list the test scripts that
# skipped all or some of their tests (from the TAP in their .log files),
# with each one's reason, and the one command that installs what they
# need. Prints nothing when nothing was skipped. Always exits 0.

whole= partial= n=0
for log in "$@"
do
	test -f "$log" || continue
	name=$(basename "$log" .log)
	# A script that skipped everything: "1..0 # SKIP <reason>".
	why=$(sed -n 's/^1\.\.0 # SKIP //p' "$log" | head -n 1)
	if test -n "$why"
	then
		whole="$whole  $name: $why
"
		n=$((n + 1))
		continue
	fi
	# Single tests: "ok N # skip <desc> (<reason>)".
	count=$(grep -c '^ok [0-9]* # skip ' "$log")
	test "$count" -gt 0 || continue
	why=$(sed -n 's/^ok [0-9]* # skip .*(\([^()]*\))$/\1/p' "$log" |
	      sort -u | tr '\n' ',' | sed 's/,$//; s/,/, /g')
	partial="$partial  $name: $count test(s) ($why)
"
	n=$((n + 1))
done

test $n = 0 && exit 0
echo "============================================================================"
echo "Skipped, so NOT tested here: $n test script(s)"
test -z "$whole" || printf 'Skipped whole:\n%s' "$whole"
test -z "$partial" || printf 'Skipped in part:\n%s' "$partial"
echo "To install what the tests need (Debian 12) and run them all:"
echo "  contrib/install-deps.sh --tests && make -j2 check"
echo "(GIT_SKIP_TESTS, a small disk, no loop devices or a build without"
echo "--enable-fuzzers skip some anyway: see each reason.)"
echo "============================================================================"
exit 0
