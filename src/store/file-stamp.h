#ifndef FILE_STAMP_H
#define FILE_STAMP_H

/*
 * The stat data that says a file has not been written since it was
 * taken: its inode, size, mtime and ctime to the nanosecond. The rule is
 * git's for its index: a write changes the ctime, which no writer can
 * set back. Loans (loan.h) and clean's records (clean-cache.h) keep one.
 */

#include <stdint.h>
#include <sys/stat.h>

struct file_stamp {
	uint64_t dev, ino, size;
	int64_t mtime_s, ctime_s;
	long mtime_ns, ctime_ns;
};

void file_stamp_set(struct file_stamp *fs, const struct stat *st);

/* True when `st` is a regular file with the inode of `fs`. */
int file_stamp_same_inode(const struct file_stamp *fs, const struct stat *st);

/* True when `st` is a regular file with the stamp `fs`. */
int file_stamp_same(const struct file_stamp *fs, const struct stat *st);

#endif
