#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "image.h"

/* Read exactly n bytes; gzread handles plain files transparently. */
static int read_exact(gzFile f, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int r = gzread(f, p, chunk);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int sa_idx_load(sa_idx **out, const char *path, sa_error *err)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return sa_error_set(err, SA_EIO, "image", "cannot open IDX file %s: %s", path,
                            errno ? strerror(errno) : "gzopen failed");
    uint8_t head[4];
    if (read_exact(f, head, 4) < 0) {
        gzclose(f);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: truncated IDX header", path);
    }
    int ndim = head[3];
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || ndim < 1 || ndim > 4) {
        gzclose(f);
        return sa_error_set(err, SA_EFORMAT, "image",
                            "%s: not an unsigned-byte IDX file (magic %02x%02x%02x%02x)", path,
                            head[0], head[1], head[2], head[3]);
    }
    uint8_t dimbuf[16];
    if (read_exact(f, dimbuf, 4 * (size_t)ndim) < 0) {
        gzclose(f);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: truncated IDX header", path);
    }
    sa_idx *idx = calloc(1, sizeof *idx);
    if (!idx) {
        gzclose(f);
        return sa_error_set(err, SA_ENOMEM, "image", "out of memory");
    }
    idx->ndim = ndim;
    size_t item = 1;
    for (int i = 0; i < ndim; i++) {
        uint32_t d = ((uint32_t)dimbuf[4 * i] << 24) | ((uint32_t)dimbuf[4 * i + 1] << 16) |
                     ((uint32_t)dimbuf[4 * i + 2] << 8) | dimbuf[4 * i + 3];
        if (d == 0 || d > (1u << 28)) {
            gzclose(f);
            free(idx);
            return sa_error_set(err, SA_EFORMAT, "image", "%s: IDX dimension %d is %u", path, i, d);
        }
        idx->dims[i] = (int)d;
        if (i > 0) {
            if (item > ((size_t)1 << 32) / d) {
                gzclose(f);
                free(idx);
                return sa_error_set(err, SA_EFORMAT, "image", "%s: IDX item too large", path);
            }
            item *= d;
        }
    }
    idx->count = (size_t)idx->dims[0];
    idx->item = item;
    if (idx->count > SIZE_MAX / item) {
        gzclose(f);
        free(idx);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: IDX file too large", path);
    }
    idx->data = malloc(idx->count * item);
    if (!idx->data) {
        gzclose(f);
        free(idx);
        return sa_error_set(err, SA_ENOMEM, "image", "out of memory for %s", path);
    }
    if (read_exact(f, idx->data, idx->count * item) < 0) {
        size_t expected = idx->count;
        gzclose(f);
        sa_idx_free(idx);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: truncated IDX data (expected %zu items)",
                            path, expected);
    }
    gzclose(f);
    *out = idx;
    return 0;
}

void sa_idx_free(sa_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    free(idx);
}
