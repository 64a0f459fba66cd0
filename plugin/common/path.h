/*
 * path.h - what a path names, for the writers that replace files.
 */
#ifndef NFH_COMMON_PATH_H
#define NFH_COMMON_PATH_H

/* Whether 'path' exists and is not a regular file (a device such as
 * /dev/null, a FIFO, a socket, a directory), symbolic links followed.
 * The writers create a temporary file and rename it over their target:
 * over such a path the rename would replace the node itself (as root,
 * /dev/null with a regular file). A missing path gives 0. */
int nfh__is_special_file(const char *path);

#endif
