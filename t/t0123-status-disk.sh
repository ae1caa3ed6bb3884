#!/bin/sh

test_description='status says what the weights take on disk, as env does

git model status ends its lists with the disk. lines of git model env:
the objects in the store, those lent, and what a checkout of the files
holding their pointer would write.'

. "$(dirname "$0")/test-lib.sh"

# The disk use status prints, as env prints it (without the tab).
status_disk () {
	git model status >status &&
	sed -n "/^Disk use:$/,/^[^	]/s/^	//p" status
}

test_expect_success 'setup: one file of weights committed' '
	git model install --local &&
	git model track "*.bin" &&
	git add .gitattributes &&
	test-tool genrandom w 3000 >w.bin &&
	git add w.bin &&
	git commit -q -m w
'

test_expect_success 'status shows the store as env does' '
	status_disk >actual &&
	grep "^disk.store=3000 (2.93 KiB, 1 object(s))$" actual &&
	grep "^disk.checkout=0 (0 B, 0 file(s) hold their pointer)$" actual &&
	git model env >env &&
	grep "^disk\." env >expect &&
	test_line_count = 3 expect &&
	test_cmp expect actual
'

test_expect_success 'a file holding its pointer counts in what a checkout writes' '
	git cat-file -p HEAD:w.bin >w.bin &&
	status_disk >actual &&
	grep "^disk.checkout=[0-9]* (.*, 1 file(s) hold their pointer)$" actual &&
	git model env >env &&
	grep "^disk\." env >expect &&
	test_cmp expect actual &&
	git checkout -f w.bin
'

test_expect_success 'the lists shown only when not empty come after it' '
	test-tool genrandom r 3000 >raw.bin &&
	blob=$(git hash-object -w --no-filters raw.bin) &&
	git update-index --add --cacheinfo 100644,$blob,raw.bin &&
	git model status >status &&
	sed -n "/^Disk use:$/,\$p" status >tail &&
	grep "^Tracked files stored raw" tail &&
	grep "^	raw.bin$" tail
'

test_done
