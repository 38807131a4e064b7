#define _POSIX_C_SOURCE 200809L
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sa_fs_write_atomic(const char *path, const void *data, size_t size, sa_error *err)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return sa_error_set(err, SA_EINVAL, "fs", "path too long (%s)", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return sa_error_set(err, SA_EIO, "fs", "cannot create %s: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return sa_error_set(err, SA_EIO, "fs", "cannot write %s: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return sa_error_set(err, SA_EIO, "fs", "cannot flush %s: %s", tmp, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return sa_error_set(err, SA_EIO, "fs", "cannot close %s: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sa_error_set(err, SA_EIO, "fs", "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return 0;
}

int sa_fs_mkdirs(const char *path, sa_error *err)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0)
        return 0;
    if (len >= sizeof buf)
        return sa_error_set(err, SA_EINVAL, "fs", "path too long (%s)", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return sa_error_set(err, SA_EIO, "fs", "cannot create directory %s: %s", buf,
                                    strerror(errno));
            buf[i] = c;
        }
    }
    if (!sa_fs_is_dir(path))
        return sa_error_set(err, SA_EIO, "fs", "%s exists and is not a directory", path);
    return 0;
}

int sa_fs_read_all(const char *path, char **out, size_t *size, sa_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sa_error_set(err, SA_EIO, "fs", "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return sa_error_set(err, SA_ENOMEM, "fs", "out of memory reading %s", path);
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return sa_error_set(err, SA_ENOMEM, "fs", "out of memory reading %s", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return sa_error_set(err, SA_EIO, "fs", "cannot read %s", path);
    }
    buf[len] = '\0';
    *out = buf;
    if (size)
        *size = len;
    return 0;
}

int sa_fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int sa_fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sa_fs_join(char *out, size_t n, const char *a, const char *b, sa_error *err)
{
    size_t la = strlen(a);
    int r;
    if (la == 0 || b[0] == '/')
        r = snprintf(out, n, "%s", b);
    else if (a[la - 1] == '/')
        r = snprintf(out, n, "%s%s", a, b);
    else
        r = snprintf(out, n, "%s/%s", a, b);
    if (r < 0 || (size_t)r >= n)
        return sa_error_set(err, SA_EINVAL, "fs", "path too long (%s/%s)", a, b);
    return 0;
}

void sa_fs_dirname(char *out, size_t n, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, n, ".");
        return;
    }
    size_t len = (size_t)(slash - path);
    if (len == 0)
        len = 1;
    if (len >= n)
        len = n - 1;
    memcpy(out, path, len);
    out[len] = '\0';
}
