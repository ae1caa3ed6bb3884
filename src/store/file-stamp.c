#include "file-stamp.h"

#include "banned.h"

void file_stamp_set(struct file_stamp *fs, const struct stat *st)
{
	fs->dev = st->st_dev;
	fs->ino = st->st_ino;
	fs->size = st->st_size;
	fs->mtime_s = st->st_mtim.tv_sec;
	fs->mtime_ns = st->st_mtim.tv_nsec;
	fs->ctime_s = st->st_ctim.tv_sec;
	fs->ctime_ns = st->st_ctim.tv_nsec;
}

int file_stamp_same_inode(const struct file_stamp *fs, const struct stat *st)
{
	return S_ISREG(st->st_mode) && fs->dev == (uint64_t)st->st_dev &&
	       fs->ino == (uint64_t)st->st_ino;
}

int file_stamp_same(const struct file_stamp *fs, const struct stat *st)
{
	return file_stamp_same_inode(fs, st) &&
	       fs->size == (uint64_t)st->st_size &&
	       fs->mtime_s == st->st_mtim.tv_sec &&
	       fs->mtime_ns == st->st_mtim.tv_nsec &&
	       fs->ctime_s == st->st_ctim.tv_sec &&
	       fs->ctime_ns == st->st_ctim.tv_nsec;
}
