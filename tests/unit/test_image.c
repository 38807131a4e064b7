#include <math.h>
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
    assert_int_equal(o.progressive, 0);
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

/* Photo-like content: smooth colour fields plus pixel noise, so that a
 * JPEG of it has detail everywhere. */
static sa_image *textured(int w, int h, int c, uint32_t seed)
{
    sa_image *im = NULL;
    sa_error e = {0};
    assert_int_equal(sa_image_new(&im, w, h, c, &e), 0);
    uint32_t s = seed * 2654435761u + 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                s = s * 1664525u + 1013904223u;
                int v = 128 + (int)(90.0 * sin(0.05 * x * (k + 1) + 0.03 * y * (3 - k) + seed)) +
                        (int)(s >> 27) - 16;
                im->data[((size_t)y * w + x) * c + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    return im;
}

/* Decode, resize and crop one step after another, as the geometry says. */
static int geometry_steps(sa_image **out, const void *buf, size_t n, int desired,
                          const sa_geometry *g, sa_error *e)
{
    sa_image *im = NULL, *r = NULL;
    int rc = sa_image_decode(&im, buf, n, desired, "steps", e);
    if (rc < 0)
        return rc;
    int sized = g->crop > 0 && im->w == g->crop && im->h == g->crop;
    if (g->resize > 0 && !(sized && g->keep_sized)) {
        rc = sa_image_resize_shorter(&r, im, g->resize, e);
        sa_image_free(im);
        if (rc < 0)
            return rc;
        im = r;
    }
    if (g->crop > 0 && !(im->w == g->crop && im->h == g->crop)) {
        rc = sa_image_center_crop(&r, im, g->crop, g->crop, e);
        sa_image_free(im);
        if (rc < 0)
            return rc;
        im = r;
    }
    *out = im;
    return 0;
}

/* Decoding straight to a geometry gives the bytes of decode + resize +
 * crop, for JPEG (cropped inside the decoder) and PNG, RGB and grey. */
static void test_decode_geometry_matches_steps(void **state)
{
    (void)state;
    sa_error e = {0};
    const int sizes[][2] = {{500, 375}, {375, 500}, {333, 251}, {640, 427}, {227, 225},
                            {224, 224}, {256, 256}, {301, 224}, {97, 411},  {160, 120},
                            {1030, 687}, {517, 261}};
    const sa_geometry geos[] = {{256, 224, 1}, {256, 224, 0}, {256, 0, 0}, {0, 96, 0},
                                {0, 0, 0},     {128, 112, 1}, {300, 257, 1}};
    int compared = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int c = 1; c <= 3; c += 2) {
            sa_image *src = textured(sizes[i][0], sizes[i][1], c, (uint32_t)(i * 7 + c));
            void *jpg = NULL, *png = NULL;
            size_t njpg = 0, npng = 0;
            assert_int_equal(sa_image_encode_jpeg(&jpg, &njpg, src, 90, &e), 0);
            assert_int_equal(sa_image_encode_png(&png, &npng, src, &e), 0);
            for (size_t k = 0; k < sizeof geos / sizeof geos[0]; k++)
                for (int f = 0; f < 2; f++)
                    for (int desired = 0; desired <= 3; desired += 3) {
                        const void *buf = f ? png : jpg;
                        size_t n = f ? npng : njpg;
                        sa_image *a = NULL, *b = NULL;
                        sa_error ea = {0}, eb = {0};
                        int ra = geometry_steps(&a, buf, n, desired, &geos[k], &ea);
                        int rb = sa_image_decode_geometry(&b, buf, n, desired, 0, &geos[k],
                                                          "geo", &eb);
                        assert_int_equal(ra, rb);
                        if (ra == 0) {
                            assert_int_equal(a->w, b->w);
                            assert_int_equal(a->h, b->h);
                            assert_int_equal(a->c, b->c);
                            if (memcmp(a->data, b->data, sa_image_size(a)) != 0)
                                fail_msg("%dx%dx%d %s geometry %d/%d/%d differs", sizes[i][0],
                                         sizes[i][1], c, f ? "PNG" : "JPEG", geos[k].resize,
                                         geos[k].crop, geos[k].keep_sized);
                            compared++;
                        } else {
                            assert_null(b);
                        }
                        sa_image_free(a);
                        sa_image_free(b);
                    }
            free(jpg);
            free(png);
            sa_image_free(src);
        }
    }
    assert_true(compared > 300);
    /* Progressive files, whole and cut short: the decoder smooths the
     * missing coefficients across blocks, the same with or without the
     * crop. */
    for (int i = 0; i < 3; i++) {
        sa_image *src = textured(i == 1 ? 375 : 500, i == 1 ? 500 : 375, 3, (uint32_t)(40 + i));
        void *jpg = NULL;
        size_t njpg = 0;
        sa_jpeg_options jo = sa_jpeg_options_default();
        jo.quality = 90;
        jo.progressive = 1;
        assert_int_equal(sa_image_encode_jpeg_opts(&jpg, &njpg, src, &jo, &e), 0);
        const sa_geometry g = sa_geometry_imagenet();
        for (int cut = 10; cut <= 100; cut += 15) {
            const size_t n = njpg * (size_t)(i == 2 && cut == 100 ? 99 : cut) / 100;
            sa_image *a = NULL, *b = NULL;
            assert_int_equal(geometry_steps(&a, jpg, n, 3, &g, &e), 0);
            assert_int_equal(sa_image_decode_geometry(&b, jpg, n, 3, 0, &g, "prog", &e), 0);
            if (memcmp(a->data, b->data, sa_image_size(a)) != 0)
                fail_msg("progressive JPEG %d cut to %d%% differs", i, cut);
            sa_image_free(a);
            sa_image_free(b);
        }
        free(jpg);
        sa_image_free(src);
    }
    /* Strict decoding still sees damage below the kept window. */
    sa_image *src = textured(500, 375, 3, 5), *b = NULL;
    void *jpg = NULL;
    size_t njpg = 0;
    assert_int_equal(sa_image_encode_jpeg(&jpg, &njpg, src, 90, &e), 0);
    const sa_geometry g = sa_geometry_imagenet();
    assert_int_equal(g.resize, 256);
    assert_int_equal(g.crop, 224);
    assert_true(sa_image_decode_geometry(&b, jpg, njpg * 19 / 20, 3, SA_DECODE_STRICT, &g,
                                         "cut.jpg", &e) < 0);
    assert_null(b);
    assert_err_contains(e, "cut.jpg");
    assert_int_equal(sa_image_decode_geometry(&b, jpg, njpg, 3, SA_DECODE_STRICT, &g, "ok.jpg",
                                              &e), 0);
    sa_image_free(b);
    free(jpg);
    sa_image_free(src);
}

/* A window of a resampling equals the same window of the full result, from
 * any source window that holds the pixels it reads. */
static void test_resample_window(void **state)
{
    (void)state;
    sa_error e = {0};
    sa_image *in = textured(61, 47, 3, 9), *full = NULL, *win = NULL, *part = NULL;
    const int outs[][2] = {{29, 17}, {61, 20}, {30, 47}, {100, 90}, {61, 47}, {7, 5}};
    for (int f = SA_RESAMPLE_BOX; f <= SA_RESAMPLE_BILINEAR; f++)
        for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
            const int ow = outs[i][0], oh = outs[i][1];
            const int ox = ow / 4, oy = oh / 3, cw = ow - ow / 2, ch = oh - oh / 2;
            assert_int_equal(sa_image_resample(&full, in, ow, oh, (sa_resample_filter)f, &e), 0);
            int x0, y0, x1, y1;
            assert_int_equal(sa_image_resample_source(61, 47, ow, oh, ox, oy, cw, ch,
                                                      (sa_resample_filter)f, &x0, &y0, &x1, &y1),
                             0);
            assert_true(0 <= x0 && x0 < x1 && x1 <= 61 && 0 <= y0 && y0 < y1 && y1 <= 47);
            /* The source window, cut out of the input. */
            assert_int_equal(sa_image_new(&part, x1 - x0, y1 - y0, 3, &e), 0);
            for (int y = y0; y < y1; y++)
                memcpy(part->data + (size_t)(y - y0) * part->w * 3,
                       in->data + ((size_t)y * 61 + x0) * 3, (size_t)part->w * 3);
            assert_int_equal(sa_image_new(&win, cw, ch, 3, &e), 0);
            assert_int_equal(sa_image_resample_window(win, part, x0, y0, 61, 47, ow, oh, ox, oy,
                                                      (sa_resample_filter)f, &e),
                             0);
            for (int y = 0; y < ch; y++)
                assert_memory_equal(win->data + (size_t)y * cw * 3,
                                    full->data + ((size_t)(oy + y) * ow + ox) * 3,
                                    (size_t)cw * 3);
            /* One pixel short of what the window reads is an error. */
            if (x0 > 0 || y0 > 0)
                assert_true(sa_image_resample_window(win, part, x0 + 1, y0 + 1, 61, 47, ow, oh,
                                                     ox, oy, (sa_resample_filter)f, &e) < 0);
            sa_image_free(part);
            sa_image_free(win);
            sa_image_free(full);
        }
    sa_image_free(in);
}

/* Planar floats, bit for bit (v * (1 / (255 std)) - mean / std), on the
 * vector path (runs of 8 pixels) and the tail alike. */
static void test_to_chw(void **state)
{
    (void)state;
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    const int sizes[][2] = {{13, 7}, {224, 224}, {1, 1}, {8, 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int c = 1; c <= 3; c += 2) {
            sa_image *im = textured(sizes[i][0], sizes[i][1], c, (uint32_t)i);
            const size_t plane = (size_t)im->w * (size_t)im->h;
            float *x = malloc(plane * (size_t)c * sizeof *x);
            assert_non_null(x);
            sa_image_to_chw(x, im, mean, std);
            for (int k = 0; k < c; k++) {
                const float scale = 1.0f / (255.0f * std[k]);
                const float shift = mean[k] / std[k];
                for (size_t q = 0; q < plane; q++) {
                    const float want = (float)im->data[q * (size_t)c + (size_t)k] * scale - shift;
                    if (memcmp(&want, &x[(size_t)k * plane + q], sizeof want) != 0)
                        fail_msg("%dx%dx%d: channel %d pixel %zu: %.9g, not %.9g", im->w, im->h,
                                 c, k, q, (double)x[(size_t)k * plane + q], (double)want);
                }
            }
            free(x);
            sa_image_free(im);
        }
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
        cmocka_unit_test(test_decode_geometry_matches_steps),
        cmocka_unit_test(test_resample_window),
        cmocka_unit_test(test_to_chw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
