/* Fashion-MNIST (IDX) source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "fs.h"

#include "source_internal.h"

/* Try "<dir>/<stem>.gz", then "<dir>/<stem>". */
static int open_idx(sa_idx **out, const char *dir, const char *stem, sa_error *err)
{
    char path[4096], gz[4200];
    int rc = sa_fs_join(path, sizeof path, dir, stem, err);
    if (rc < 0)
        return rc;
    snprintf(gz, sizeof gz, "%s.gz", path);
    if (sa_fs_exists(gz))
        return sa_idx_load(out, gz, err);
    if (sa_fs_exists(path))
        return sa_idx_load(out, path, err);
    return sa_error_set(err, SA_EIO, "data",
                        "Fashion-MNIST file %s not found (nor %s); hint: install Debian's "
                        "dataset-fashion-mnist or set data.dir",
                        gz, path);
}

int sa_source_open_fmnist(sa_source **out, const char *dir, const char *split, sa_error *err)
{
    const char *prefix;
    if (strcmp(split, "test") == 0)
        prefix = "t10k";
    else if (strcmp(split, "train") == 0)
        prefix = "train";
    else
        return sa_error_set(err, SA_EINVAL, "data", "unknown split '%s' (expected test or train)", split);
    if (!sa_fs_is_dir(dir))
        return sa_error_set(err, SA_EIO, "data", "data directory %s does not exist", dir);
    sa_source *s = calloc(1, sizeof *s);
    if (!s)
        return sa_error_set(err, SA_ENOMEM, "data", "out of memory");
    s->kind = SA__SOURCE_IDX;
    char stem[64];
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", prefix);
    int rc = open_idx(&s->images, dir, stem, err);
    if (rc == 0) {
        snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", prefix);
        rc = open_idx(&s->labels, dir, stem, err);
    }
    if (rc == 0 && (s->images->ndim != 3 || s->images->dims[1] != 28 || s->images->dims[2] != 28))
        rc = sa_error_set(err, SA_EFORMAT, "data", "%s: expected 28x28 images in %s", dir, stem);
    if (rc == 0 && (s->labels->ndim != 1 || s->labels->count != s->images->count))
        rc = sa_error_set(err, SA_EFORMAT, "data", "%s: %zu labels for %zu images", dir,
                          s->labels->count, s->images->count);
    if (rc == 0) {
        for (size_t i = 0; i < s->labels->count; i++)
            if (s->labels->data[i] > 9) {
                rc = sa_error_set(err, SA_EFORMAT, "data", "%s: label %d of image %zu is not 0..9",
                                  dir, s->labels->data[i], i);
                break;
            }
    }
    if (rc < 0) {
        sa_source_free(s);
        return rc;
    }
    snprintf(s->name, sizeof s->name, "fmnist");
    s->num_classes = 10;
    *out = s;
    return 0;
}

void sa_source_free(sa_source *s)
{
    if (!s)
        return;
    sa_idx_free(s->images);
    sa_idx_free(s->labels);
    sa__folder_free(s);
    free(s);
}

size_t sa_source_count(const sa_source *s)
{
    return s->kind == SA__SOURCE_IDX ? s->images->count : s->n_files;
}

int sa_source_num_classes(const sa_source *s)
{
    return s->num_classes;
}

const char *sa_source_name(const sa_source *s)
{
    return s->name;
}

int sa_source_get(const sa_source *s, size_t i, sa_image **img, int *label, sa_error *err)
{
    if (s->kind == SA__SOURCE_FOLDER)
        return sa__folder_get(s, i, img, label, err);
    if (i >= s->images->count)
        return sa_error_set(err, SA_EINVAL, "data", "image %zu out of range (%zu images)", i,
                            s->images->count);
    sa_image *im;
    int rc = sa_image_new(&im, 32, 32, 3, err);
    if (rc < 0)
        return rc;
    const uint8_t *src = s->images->data + i * s->images->item;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            uint8_t v = src[y * 28 + x];
            uint8_t *d = im->data + ((size_t)(y + 2) * 32 + (size_t)(x + 2)) * 3;
            d[0] = d[1] = d[2] = v;
        }
    *img = im;
    *label = s->labels->data[i];
    return 0;
}
