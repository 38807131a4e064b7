/* Writes a small image-folder tree for the `selfadapt corrupt` tests:
 * DIR/class_a and DIR/class_b with 3 images each (PNG and JPEG, sizes
 * that exercise the resize and crop), plus DIR/class_b/broken.jpg, a
 * truncated JPEG. usage: make_image_tree DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "image.h"

static int write_image(const char *dir, const char *name, int w, int h, unsigned seed, int png,
                       size_t truncate_to)
{
    sa_error err = {0};
    sa_image *im = NULL;
    if (sa_image_new(&im, w, h, 3, &err) < 0)
        return -1;
    /* Smooth gradients plus a little pattern, so JPEG stays meaningful. */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = im->data + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)((x * 255) / w);
            p[1] = (uint8_t)((y * 255) / h);
            p[2] = (uint8_t)(((x / 8 + y / 8 + seed) % 2) * 128 + seed * 17);
        }
    void *buf = NULL;
    size_t size = 0;
    int rc = png ? sa_image_encode_png(&buf, &size, im, &err)
                 : sa_image_encode_jpeg(&buf, &size, im, 90, &err);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (rc == 0) {
        if (truncate_to && truncate_to < size)
            size = truncate_to;
        rc = sa_fs_write_atomic(path, buf, size, &err);
    }
    if (rc < 0)
        fprintf(stderr, "make_image_tree: %s\n", err.msg);
    free(buf);
    sa_image_free(im);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_image_tree DIR\n");
        return 2;
    }
    sa_error err = {0};
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/class_a", argv[1]);
    snprintf(b, sizeof b, "%s/class_b", argv[1]);
    if (sa_fs_mkdirs(a, &err) < 0 || sa_fs_mkdirs(b, &err) < 0) {
        fprintf(stderr, "make_image_tree: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    rc |= write_image(a, "a1.JPEG", 300, 260, 1, 0, 0);
    rc |= write_image(a, "a2.png", 260, 341, 2, 1, 0);
    rc |= write_image(a, "a3.jpg", 500, 375, 3, 0, 0);
    rc |= write_image(b, "b1.jpeg", 256, 256, 4, 0, 0);
    rc |= write_image(b, "b2.png", 240, 300, 5, 1, 0);
    rc |= write_image(b, "b3.JPEG", 320, 240, 6, 0, 0);
    rc |= write_image(b, "broken.jpg", 320, 240, 7, 0, 700);
    return rc ? 1 : 0;
}
