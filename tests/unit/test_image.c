#include <zlib.h>

#include "image.h"
#include "test.h"

static sa_image *gradient(int w, int h, int c)
{
    sa_image *im = NULL;
    sa_error e = {0};
    assert_int_equal(sa_image_new(&im, w, h, c, &e), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                im->data[((size_t)y * w + x) * c + k] = (uint8_t)((x * 2 + y + k * 30) & 255);
    return im;
}

static void test_new_and_limits(void **state)
{
    (void)state;
    sa_image *im = NULL;
    sa_error e = {0};
    assert_int_equal(sa_image_new(&im, 3, 2, 3, &e), 0);
    assert_int_equal(sa_image_size(im), 18);
    for (size_t i = 0; i < 18; i++)
        assert_int_equal(im->data[i], 0);
    sa_image_free(im);
    sa_image *keep = (sa_image *)0x1;
    assert_true(sa_image_new(&keep, 0, 5, 3, &e) < 0);
    assert_true(sa_image_new(&keep, SA_IMAGE_MAX_DIM + 1, 5, 3, &e) < 0);
    assert_true(sa_image_new(&keep, 5, 5, 7, &e) < 0);
    assert_ptr_equal(keep, (sa_image *)0x1); /* unchanged on failure */
    sa_image_free(NULL);
}

static void test_convert_and_pad(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *g = gradient(4, 3, 1), *rgb = NULL, *back = NULL, *pad = NULL;
    assert_int_equal(sa_image_convert(&rgb, g, 3, &e), 0);
    for (size_t i = 0; i < 12; i++) {
        assert_int_equal(rgb->data[3 * i], g->data[i]);
        assert_int_equal(rgb->data[3 * i + 2], g->data[i]);
    }
    assert_int_equal(sa_image_convert(&back, rgb, 1, &e), 0);
    assert_memory_equal(back->data, g->data, 12);
    assert_int_equal(sa_image_pad(&pad, g, 2, &e), 0);
    assert_int_equal(pad->w, 8);
    assert_int_equal(pad->h, 7);
    assert_int_equal(pad->data[0], 0);
    assert_int_equal(pad->data[2 * 8 + 2], g->data[0]);
    assert_int_equal(pad->data[(2 + 2) * 8 + 2 + 3], g->data[2 * 4 + 3]);
    sa_image_free(g);
    sa_image_free(rgb);
    sa_image_free(back);
    sa_image_free(pad);
}

static void test_png_roundtrip_exact(void **state)
{
    (void)state;
    sa_error e = {0};
    for (int c = 1; c <= 3; c += 2) {
        sa_image *im = gradient(37, 23, c), *dec = NULL;
        void *buf = NULL;
        size_t n = 0;
        assert_int_equal(sa_image_encode_png(&buf, &n, im, &e), 0);
        assert_int_equal(sa_image_decode(&dec, buf, n, 0, "t.png", &e), 0);
        assert_int_equal(dec->c, c);
        assert_memory_equal(dec->data, im->data, sa_image_size(im));
        free(buf);
        sa_image_free(im);
        sa_image_free(dec);
    }
}

static void test_jpeg_roundtrip_close(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *im = gradient(64, 48, 3), *dec = NULL, *grey = NULL;
    void *hi = NULL, *lo = NULL;
    size_t nhi = 0, nlo = 0;
    assert_int_equal(sa_image_encode_jpeg(&hi, &nhi, im, 95, &e), 0);
    assert_int_equal(sa_image_encode_jpeg(&lo, &nlo, im, 10, &e), 0);
    assert_true(nlo < nhi);
    assert_int_equal(sa_image_decode(&dec, hi, nhi, 3, "t.jpg", &e), 0);
    double mad = 0;
    for (size_t i = 0; i < sa_image_size(im); i++)
        mad += abs((int)dec->data[i] - (int)im->data[i]);
    mad /= (double)sa_image_size(im);
    assert_true(mad < 3.0);
    assert_int_equal(sa_image_decode(&grey, hi, nhi, 1, "t.jpg", &e), 0);
    assert_int_equal(grey->c, 1);
    assert_true(sa_image_encode_jpeg(&lo, &nlo, im, 0, &e) < 0);
    free(hi);
    free(lo);
    sa_image_free(im);
    sa_image_free(dec);
    sa_image_free(grey);
}

static void test_decode_rejects_garbage(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *im = NULL;
    const char junk[] = "definitely not an image";
    assert_true(sa_image_decode(&im, junk, sizeof junk, 0, "junk.bin", &e) < 0);
    assert_err_contains(e, "junk.bin");
    /* A truncated JPEG: header then nothing. */
    sa_image *src = gradient(16, 16, 3);
    void *buf = NULL;
    size_t n = 0;
    assert_int_equal(sa_image_encode_jpeg(&buf, &n, src, 90, &e), 0);
    assert_true(sa_image_decode(&im, buf, 40, 0, "cut.jpg", &e) < 0);
    assert_err_contains(e, "cut.jpg");
    assert_null(im);
    free(buf);
    sa_image_free(src);
    assert_true(sa_image_decode_file(&im, "/nonexistent/x.png", 0, &e) < 0);
    assert_err_contains(e, "/nonexistent/x.png");
}

static void write_idx_gz(const char *path, const uint8_t *head, size_t hn, const uint8_t *data, size_t n)
{
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    gzwrite(f, head, (unsigned)hn);
    if (n)
        gzwrite(f, data, (unsigned)n);
    gzclose(f);
}

static void test_idx_read_and_errors(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_int_equal(sa_test_mkdtemp(dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/img.gz", dir);
    const uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2};
    uint8_t data[12];
    for (int i = 0; i < 12; i++)
        data[i] = (uint8_t)(i * 10);
    write_idx_gz(path, head, 16, data, 12);
    sa_idx *idx = NULL;
    sa_error e = {0};
    assert_int_equal(sa_idx_load(&idx, path, &e), 0);
    assert_int_equal(idx->count, 2);
    assert_int_equal(idx->item, 6);
    assert_memory_equal(idx->data, data, 12);
    sa_idx_free(idx);
    /* Plain (not gzip) works too. */
    snprintf(path, sizeof path, "%s/plain", dir);
    uint8_t plain[28];
    memcpy(plain, head, 16);
    memcpy(plain + 16, data, 12);
    sa_test_write(path, plain, sizeof plain);
    assert_int_equal(sa_idx_load(&idx, path, &e), 0);
    sa_idx_free(idx);
    /* Truncated data. */
    snprintf(path, sizeof path, "%s/short.gz", dir);
    write_idx_gz(path, head, 16, data, 7);
    idx = NULL;
    assert_true(sa_idx_load(&idx, path, &e) < 0);
    assert_err_contains(e, "truncated");
    assert_err_contains(e, "short.gz");
    assert_null(idx);
    /* Wrong magic. */
    snprintf(path, sizeof path, "%s/magic.gz", dir);
    const uint8_t bad[8] = {0, 0, 0x0D, 1, 0, 0, 0, 1};
    write_idx_gz(path, bad, 8, NULL, 0);
    assert_true(sa_idx_load(&idx, path, &e) < 0);
    assert_err_contains(e, "IDX");
    assert_true(sa_idx_load(&idx, "/nonexistent.gz", &e) < 0);
    sa_test_rmtree(dir);
}


/* ---- transforms ---------------------------------------------------------- */

/* (x*37 + y*91 + ch*53 + x*y*7) mod 256: rough enough that every rounding
 * path of the resampler shows up. */
static sa_image *pattern(int w, int h)
{
    sa_image *im = NULL;
    sa_error e = {0};
    assert_int_equal(sa_image_new(&im, w, h, 3, &e), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                im->data[((size_t)y * w + x) * 3 + c] = (uint8_t)((x * 37 + y * 91 + c * 53 + x * y * 7) % 256);
    return im;
}

static long sum_bytes(const sa_image *im)
{
    long s = 0;
    for (size_t i = 0; i < sa_image_size(im); i++)
        s += im->data[i];
    return s;
}

/* Expected values from Pillow 9.4 (Debian python3-pil):
 *   y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing='ij')
 *   p = Image.fromarray(((x*37 + y*91 + c*53 + x*y*7) % 256).astype(np.uint8))
 *   np.asarray(p.resize((5, 4), Image.BILINEAR)).ravel()          # 13 x 11 input
 *   p.resize((6, 5), Image.BOX), p.resize((29, 17), Image.BILINEAR),
 *   p.resize((20, 7), Image.BILINEAR): sums and the values below. */
static void test_resample_matches_pillow(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *in = pattern(13, 11), *out = NULL;
    const uint8_t bilinear_5x4[60] = {
        110, 132, 141, 124, 134, 142, 127, 126, 135, 118, 129, 135, 121, 142, 124,
        122, 141, 124, 138, 138, 125, 143, 130, 125, 126, 134, 121, 137, 132, 138,
        120, 126, 136, 126, 125, 126, 136, 126, 128, 128, 124, 119, 134, 102, 143,
        150, 115, 128, 145, 125, 125, 113, 130, 139, 132, 138, 127, 126, 120, 149};
    assert_int_equal(sa_image_resample(&out, in, 5, 4, SA_RESAMPLE_BILINEAR, &e), 0);
    assert_memory_equal(out->data, bilinear_5x4, 60);
    sa_image_free(out);

    const uint8_t box_first[12] = {66, 119, 172, 147, 136, 125, 100, 153, 142, 94, 147, 136};
    assert_int_equal(sa_image_resample(&out, in, 6, 5, SA_RESAMPLE_BOX, &e), 0);
    assert_int_equal(sum_bytes(out), 11701);
    assert_memory_equal(out->data, box_first, 12);
    sa_image_free(out);

    const uint8_t up_first[12] = {0, 53, 106, 6, 59, 112, 23, 76, 129, 40, 93, 146};
    assert_int_equal(sa_image_resample(&out, in, 29, 17, SA_RESAMPLE_BILINEAR, &e), 0);
    assert_int_equal(sum_bytes(out), 191669);
    assert_memory_equal(out->data, up_first, 12);
    sa_image_free(out);

    /* Wider but shorter: horizontal upscale, vertical downscale. */
    const uint8_t mixed_last[6] = {129, 128, 181, 178, 129, 182};
    assert_int_equal(sa_image_resample(&out, in, 20, 7, SA_RESAMPLE_BILINEAR, &e), 0);
    assert_int_equal(sum_bytes(out), 54476);
    assert_memory_equal(out->data + sa_image_size(out) - 6, mixed_last, 6);
    sa_image_free(out);
    sa_image_free(in);
}

static void test_resample_properties(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *flat = NULL, *out = NULL, *in = pattern(40, 30);
    assert_int_equal(sa_image_new(&flat, 37, 23, 3, &e), 0);
    memset(flat->data, 77, sa_image_size(flat));
    for (int f = SA_RESAMPLE_BOX; f <= SA_RESAMPLE_BILINEAR; f++) {
        /* A constant image stays constant at every size. */
        const int sizes[][2] = {{5, 3}, {37, 23}, {80, 11}, {1, 1}, {200, 100}};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            assert_int_equal(sa_image_resample(&out, flat, sizes[i][0], sizes[i][1],
                                               (sa_resample_filter)f, &e), 0);
            assert_int_equal(out->w, sizes[i][0]);
            assert_int_equal(out->h, sizes[i][1]);
            for (size_t k = 0; k < sa_image_size(out); k++)
                assert_int_equal(out->data[k], 77);
            sa_image_free(out);
        }
        /* Same size: a copy. */
        assert_int_equal(sa_image_resample(&out, in, 40, 30, (sa_resample_filter)f, &e), 0);
        assert_memory_equal(out->data, in->data, sa_image_size(in));
        sa_image_free(out);
    }
    /* BOX by an integer factor is the rounded mean of each block. */
    assert_int_equal(sa_image_resample(&out, in, 20, 15, SA_RESAMPLE_BOX, &e), 0);
    for (int y = 0; y < 15; y++)
        for (int x = 0; x < 20; x++)
            for (int c = 0; c < 3; c++) {
                int s = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                        s += in->data[((size_t)(2 * y + dy) * 40 + 2 * x + dx) * 3 + c];
                assert_int_equal(out->data[((size_t)y * 20 + x) * 3 + c], (s + 2) / 4);
            }
    sa_image_free(out);
    sa_image_free(in);
    sa_image_free(flat);
}

static void test_resize_shorter_and_center_crop(void **state)
{
    (void)state;
    sa_error e = {0};
    int w, h;
    /* torchvision Resize(256): the longer side is int(256 * long / short). */
    sa_image_shorter_side_size(500, 375, 256, &w, &h);
    assert_int_equal(w, 341);
    assert_int_equal(h, 256);
    sa_image_shorter_side_size(375, 500, 256, &w, &h);
    assert_int_equal(w, 256);
    assert_int_equal(h, 341);
    sa_image_shorter_side_size(300, 300, 256, &w, &h);
    assert_int_equal(w, 256);
    assert_int_equal(h, 256);
    sa_image_shorter_side_size(451, 317, 256, &w, &h);
    assert_int_equal(w, 364);
    /* CenterCrop: int(round((H - h) / 2.0)), halves to even. */
    int left, top;
    sa_image_center_crop_offsets(341, 256, 224, 224, &left, &top);
    assert_int_equal(left, 58); /* 58.5 -> 58 */
    assert_int_equal(top, 16);
    sa_image_center_crop_offsets(227, 225, 224, 224, &left, &top);
    assert_int_equal(left, 2); /* 1.5 -> 2 */
    assert_int_equal(top, 0);  /* 0.5 -> 0 */

    sa_image *in = pattern(300, 200), *crop = NULL, *geo = NULL;
    assert_int_equal(sa_image_center_crop(&crop, in, 101, 51, &e), 0);
    assert_int_equal(crop->w, 101);
    assert_int_equal(crop->h, 51);
    /* left = round(199 / 2) = 100 (99.5 -> 100), top = round(149 / 2) = 74 (74.5 -> 74) */
    assert_memory_equal(crop->data, in->data + ((size_t)74 * 300 + 100) * 3, 101 * 3);
    assert_true(sa_image_center_crop(&geo, in, 301, 10, &e) < 0);
    assert_int_equal(sa_image_imagenet_geometry(&geo, in, &e), 0);
    assert_int_equal(geo->w, 224);
    assert_int_equal(geo->h, 224);
    sa_image_free(in);
    sa_image_free(crop);
    sa_image_free(geo);
}

/* Huffman optimisation changes the file, never the pixels; strict decoding
 * refuses a truncated JPEG that plain decoding patches up. */
static void test_jpeg_options_and_strict(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *im = pattern(64, 48), *a = NULL, *b = NULL;
    sa_jpeg_options o = sa_jpeg_options_default();
    assert_int_equal(o.quality, 85);
    assert_int_equal(o.optimize, 1);
    void *opt = NULL, *std = NULL;
    size_t nopt = 0, nstd = 0;
    o.quality = 30;
    assert_int_equal(sa_image_encode_jpeg_opts(&opt, &nopt, im, &o, &e), 0);
    o.optimize = 0;
    assert_int_equal(sa_image_encode_jpeg_opts(&std, &nstd, im, &o, &e), 0);
    assert_true(nopt < nstd);
    assert_int_equal(sa_image_decode(&a, opt, nopt, 3, "opt.jpg", &e), 0);
    assert_int_equal(sa_image_decode(&b, std, nstd, 3, "std.jpg", &e), 0);
    assert_memory_equal(a->data, b->data, sa_image_size(a));
    sa_image_free(a);
    sa_image_free(b);
    a = b = NULL;
    assert_int_equal(sa_image_decode(&a, std, nstd / 2, 3, "half.jpg", &e), 0);
    assert_true(sa_image_decode_flags(&b, std, nstd / 2, 3, SA_DECODE_STRICT, "half.jpg", &e) < 0);
    assert_null(b);
    assert_err_contains(e, "half.jpg");
    assert_int_equal(sa_image_decode_flags(&b, std, nstd, 3, SA_DECODE_STRICT, "std.jpg", &e), 0);
    free(opt);
    free(std);
    sa_image_free(a);
    sa_image_free(b);
    sa_image_free(im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_limits),       cmocka_unit_test(test_convert_and_pad),
        cmocka_unit_test(test_png_roundtrip_exact),  cmocka_unit_test(test_jpeg_roundtrip_close),
        cmocka_unit_test(test_decode_rejects_garbage), cmocka_unit_test(test_idx_read_and_errors),
        cmocka_unit_test(test_resample_matches_pillow), cmocka_unit_test(test_resample_properties),
        cmocka_unit_test(test_resize_shorter_and_center_crop),
        cmocka_unit_test(test_jpeg_options_and_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
