# lib-migrate.sh: checking what git model migrate did to a history.
# Source it after test-lib.sh.
#
# migrate_same_checkouts OLD NEW: OLD and NEW (revisions) have histories
# of the same shape, and each commit of NEW gives the same files, byte for
# byte and with the same modes, as the matching commit of OLD, when both
# go through their filters (git archive smudges as a checkout does, with
# the attributes of the commit itself): only .gitattributes files may
# differ. Commits are matched in git rev-list --topo-order order. Its
# files go to "$TRASH_DIRECTORY/migrate-cmp", outside the work tree.
migrate_same_checkouts () {
	test $# = 2 || BUG "usage: migrate_same_checkouts OLD NEW"
	migrate_d_="$TRASH_DIRECTORY/migrate-cmp"
	rm -rf "$migrate_d_" &&
	mkdir "$migrate_d_" &&
	git rev-list --topo-order "$1" >"$migrate_d_/old.revs" &&
	git rev-list --topo-order "$2" >"$migrate_d_/new.revs" &&
	test_line_count = $(wc -l <"$migrate_d_/old.revs") \
		"$migrate_d_/new.revs" &&
	paste -d" " "$migrate_d_/old.revs" "$migrate_d_/new.revs" \
		>"$migrate_d_/pairs" &&
	while read migrate_old_ migrate_new_
	do
		rm -rf "$migrate_d_/old" "$migrate_d_/new" &&
		mkdir "$migrate_d_/old" "$migrate_d_/new" &&
		git archive "$migrate_old_" | tar -x -C "$migrate_d_/old" &&
		git archive "$migrate_new_" | tar -x -C "$migrate_d_/new" &&
		find "$migrate_d_/old" "$migrate_d_/new" -name .gitattributes \
			-exec rm {} + &&
		diff -r "$migrate_d_/old" "$migrate_d_/new" &&
		(cd "$migrate_d_/old" && find . -type f -perm -u+x | sort) \
			>"$migrate_d_/old.x" &&
		(cd "$migrate_d_/new" && find . -type f -perm -u+x | sort) \
			>"$migrate_d_/new.x" &&
		test_cmp "$migrate_d_/old.x" "$migrate_d_/new.x" ||
		{
			echo >&4 "migrate_same_checkouts: $migrate_new_ differs from $migrate_old_"
			return 1
		}
	done <"$migrate_d_/pairs"
}
