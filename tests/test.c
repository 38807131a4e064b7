#define _XOPEN_SOURCE 700
#include "test.h"

#include <ftw.h>
#include <unistd.h>

int sa_test_mkdtemp(char *out, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, n, "%s/selfadapt-test-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(out) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void sa_test_rmtree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void sa_test_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

char *sa_test_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    buf[got] = '\0';
    if (n)
        *n = got;
    return buf;
}

const char *sa_test_source_root(void)
{
    const char *r = getenv("SA_SOURCE_ROOT");
    return r ? r : ".";
}

const char *sa_test_fmnist_dir(void)
{
    const char *d = getenv("SA_FMNIST_DIR");
    if (!d)
        d = "/usr/share/datasets/fashion-mnist";
    char p[4096];
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte.gz", d);
    return access(p, R_OK) == 0 ? d : NULL;
}
