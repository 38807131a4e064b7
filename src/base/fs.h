/* fs.h - small file-system helpers: atomic writes, mkdir -p, paths.
 *
 *     sa_error err = {0};
 *     if (sa_fs_mkdirs("results/demo/cells", &err) < 0 ||
 *         sa_fs_write_atomic("results/demo/summary.csv", text, strlen(text), &err) < 0)
 *         ...;
 *
 * sa_fs_write_atomic writes to "<path>.tmp.<pid>", flushes it to disk, then
 * renames it over <path>: readers see the old file or the whole new one,
 * never a partial one. On failure the temporary file is removed.
 */
#ifndef SA_BASE_FS_H
#define SA_BASE_FS_H

#include <stddef.h>

#include "error.h"

int sa_fs_write_atomic(const char *path, const void *data, size_t size, sa_error *err);
/* Create a directory and its missing parents (mode 0777 & umask). */
int sa_fs_mkdirs(const char *path, sa_error *err);
/* Read a whole file; *out is malloc'ed (caller frees) and NUL-terminated. */
int sa_fs_read_all(const char *path, char **out, size_t *size, sa_error *err);
int sa_fs_exists(const char *path);
int sa_fs_is_dir(const char *path);
/* Join a and b with one '/', into out (size n); error if it does not fit. */
int sa_fs_join(char *out, size_t n, const char *a, const char *b, sa_error *err);
/* Copy the directory part of path into out ("." when there is none). */
void sa_fs_dirname(char *out, size_t n, const char *path);

#endif
