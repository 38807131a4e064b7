/* JPEG (libjpeg) and PNG (libpng simplified API) in memory. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "fs.h"
#include "image.h"
#include "resample.h"

/* ---- JPEG -------------------------------------------------------------- */

typedef struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    int warnings;                   /* corrupt-data warnings seen */
    char warning[JMSG_LENGTH_MAX];  /* the first one */
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    /* Warnings (e.g. corrupt-data recoveries) are never printed; they are
     * counted so that strict decoding can refuse the image. */
    if (level < 0) {
        jpeg_err *e = (jpeg_err *)cinfo->err;
        if (e->warnings++ == 0)
            (*cinfo->err->format_message)(cinfo, e->warning);
    }
}

/* Read the header and start decompressing `buf` into `desired` channels
 * (0: the file's own, grey or RGB) with Pillow's IDCT; *want gets the
 * channel count. Called after the caller's setjmp: a libjpeg error jumps
 * back there. On a size this library refuses, destroys cinfo and fails. */
static int jpeg_begin(struct jpeg_decompress_struct *cinfo, const void *buf, size_t size,
                      int desired, const char *name, int *want, sa_error *err)
{
    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, (const unsigned char *)buf, (unsigned long)size);
    jpeg_read_header(cinfo, TRUE);
    int grey_file = cinfo->jpeg_color_space == JCS_GRAYSCALE;
    *want = desired ? desired : (grey_file ? 1 : 3);
    cinfo->out_color_space = *want == 1 ? JCS_GRAYSCALE : JCS_RGB;
    cinfo->dct_method = JDCT_ISLOW; /* Pillow's default, for identical pixels */
    jpeg_start_decompress(cinfo);
    int w = (int)cinfo->output_width, h = (int)cinfo->output_height;
    if (!sa_image_dims_valid(w, h, *want) || (int)cinfo->output_components != *want) {
        jpeg_destroy_decompress(cinfo);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: unsupported JPEG size %dx%d", name, w, h);
    }
    return 0;
}

static int decode_jpeg(sa_image **out, const void *buf, size_t size, int desired, const char *name,
                       int strict, sa_error *err)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_err jerr;
    jerr.warnings = 0;
    sa_image *volatile im = NULL;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpeg_on_error;
    jerr.pub.emit_message = jpeg_on_message;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        sa_image_free(im);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: bad JPEG: %s", name, jerr.msg);
    }
    int want = 0;
    int rc0 = jpeg_begin(&cinfo, buf, size, desired, name, &want, err);
    if (rc0 < 0)
        return rc0;
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    sa_image *tmp;
    if (sa_image_new(&tmp, w, h, want, err) < 0) {
        jpeg_destroy_decompress(&cinfo);
        return err ? err->code : SA_ENOMEM;
    }
    im = tmp;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = im->data + (size_t)cinfo.output_scanline * (size_t)w * (size_t)want;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    if (strict && jerr.warnings > 0) {
        sa_image_free(im);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: truncated or corrupt JPEG: %s", name,
                            jerr.warning);
    }
    *out = im;
    return 0;
}

/* ---- decoding to a geometry -------------------------------------------- */

/* What the geometry does to a w x h image. */
typedef struct geo_plan {
    int w, h;             /* decoded size */
    int rw, rh;           /* after the resize (w x h without one) */
    int ox, oy, cw, ch;   /* the kept window of the rw x rh result */
} geo_plan;

static int geo_plan_make(geo_plan *p, int w, int h, int c, const sa_geometry *g, const char *name,
                         sa_error *err)
{
    p->w = p->rw = w;
    p->h = p->rh = h;
    const int sized = g->crop > 0 && w == g->crop && h == g->crop;
    if (g->resize > 0 && !(sized && g->keep_sized)) {
        sa_image_shorter_side_size(w, h, g->resize, &p->rw, &p->rh);
        if (p->rw < 1)
            p->rw = 1;
        if (p->rh < 1)
            p->rh = 1;
        if (!sa_image_dims_valid(p->rw, p->rh, c))
            return sa_error_set(err, SA_EINVAL, "image", "invalid image size %dx%dx%d", p->rw,
                                p->rh, c);
    }
    p->ox = p->oy = 0;
    p->cw = p->rw;
    p->ch = p->rh;
    if (g->crop > 0 && !(p->rw == g->crop && p->rh == g->crop)) {
        if (g->crop > p->rw || g->crop > p->rh)
            return sa_error_set(err, SA_EINVAL, "image",
                                "crop %dx%d does not fit in a %dx%d image (%s)", g->crop, g->crop,
                                p->rw, p->rh, name);
        sa_image_center_crop_offsets(p->rw, p->rh, g->crop, g->crop, &p->ox, &p->oy);
        p->cw = p->ch = g->crop;
    }
    return 0;
}

/* The result image and the resampler that fills it. */
static int geo_plan_start(sa_image **win, sa__resampler **r, const geo_plan *p, int c,
                          sa_error *err)
{
    int rc = sa_image_new(win, p->cw, p->ch, c, err);
    if (rc < 0)
        return rc;
    rc = sa__resampler_new(r, *win, p->w, p->h, p->rw, p->rh, p->ox, p->oy, SA_RESAMPLE_BILINEAR,
                           err);
    if (rc < 0) {
        sa_image_free(*win);
        *win = NULL;
    }
    return rc;
}

/* Decoded columns beyond the ones read: a cropped decode treats the
 * crop's edges as image edges when it upsamples chroma, so the pixels next
 * to them may differ from a full decode; the margin keeps them out of what
 * is read. Rows: libjpeg-turbo's skipping keeps the upsampling context, a
 * couple of extra rows are decoded all the same. A progressive file whose
 * scans stop early (truncated) is smoothed across blocks, two blocks of
 * the coarsest component each way (32 pixels of 4:2:0 chroma), so its
 * margins cover that too. */
#define JPEG_MARGIN_X 4
#define JPEG_MARGIN_Y 2
#define JPEG_MARGIN_PROGRESSIVE 48

/* Decode, row by row, only the rows and (with libjpeg-turbo) the columns
 * the geometry reads, each row handed to the resampler as it comes. */
static int decode_jpeg_geometry(sa_image **out, const void *buf, size_t size, int desired,
                                const sa_geometry *g, const char *name, int strict,
                                sa_error *err)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_err jerr;
    jerr.warnings = 0;
    uint8_t *volatile line = NULL;
    sa_image *volatile win = NULL;
    sa__resampler *volatile rs = NULL;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpeg_on_error;
    jerr.pub.emit_message = jpeg_on_message;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(line);
        sa__resampler_free(rs);
        sa_image_free(win);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: bad JPEG: %s", name, jerr.msg);
    }
    int want = 0;
    int rc0 = jpeg_begin(&cinfo, buf, size, desired, name, &want, err);
    if (rc0 < 0)
        return rc0;
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    geo_plan p;
    sa_image *im = NULL;
    sa__resampler *r = NULL;
    int rc = geo_plan_make(&p, w, h, want, g, name, err);
    if (rc == 0)
        rc = geo_plan_start(&im, &r, &p, want, err);
    if (rc < 0) {
        jpeg_destroy_decompress(&cinfo);
        return rc;
    }
    win = im;
    rs = r;
    int x0, y0, x1, y1;
    sa__resampler_source(r, &x0, &y0, &x1, &y1);
    const int mx = cinfo.progressive_mode ? JPEG_MARGIN_PROGRESSIVE : JPEG_MARGIN_X;
    const int my = cinfo.progressive_mode ? JPEG_MARGIN_PROGRESSIVE : JPEG_MARGIN_Y;
    int ys = y0 - my < 0 ? 0 : y0 - my;
    JDIMENSION xoff = 0, xw = (JDIMENSION)w;
#if defined(LIBJPEG_TURBO_VERSION_NUMBER) && LIBJPEG_TURBO_VERSION_NUMBER >= 1005000
    const int xs = x0 - mx < 0 ? 0 : x0 - mx;
    const int xe = x1 + mx > w ? w : x1 + mx;
    if (xe - xs < w) {
        xoff = (JDIMENSION)xs;
        xw = (JDIMENSION)(xe - xs);
        jpeg_crop_scanline(&cinfo, &xoff, &xw); /* widened to whole iMCUs */
    }
    if (ys > 0)
        jpeg_skip_scanlines(&cinfo, (JDIMENSION)ys);
#endif
    const size_t row = (size_t)xw * (size_t)want;
    /* libjpeg-turbo writes rows that start on a 16- or 32-byte boundary with
     * non-temporal stores, which send them past the cache; the row is read
     * back at once, so it starts 8 bytes past a boundary. */
    line = malloc(row + 40);
    if (!line) {
        jpeg_destroy_decompress(&cinfo);
        sa__resampler_free(r);
        sa_image_free(im);
        return sa_error_set(err, SA_ENOMEM, "image", "%s: out of memory", name);
    }
    uint8_t *const cached = line + (32 - (uintptr_t)line % 32) % 32 + 8;
    const size_t skip = (size_t)(x0 - (int)xoff) * (size_t)want;
    while ((int)cinfo.output_scanline < y1) {
        const int y = (int)cinfo.output_scanline;
        JSAMPROW rp = cached;
        jpeg_read_scanlines(&cinfo, &rp, 1);
        if (y >= y0)
            sa__resampler_push(r, cached + skip);
    }
    if (strict) {
        /* Read to the end, so that damage below the window is seen too. */
#if defined(LIBJPEG_TURBO_VERSION_NUMBER) && LIBJPEG_TURBO_VERSION_NUMBER >= 1005000
        if (cinfo.output_scanline < cinfo.output_height)
            jpeg_skip_scanlines(&cinfo, cinfo.output_height - cinfo.output_scanline);
#else
        while (cinfo.output_scanline < cinfo.output_height) {
            JSAMPROW rp = cached;
            jpeg_read_scanlines(&cinfo, &rp, 1);
        }
#endif
        jpeg_finish_decompress(&cinfo);
    }
    jpeg_destroy_decompress(&cinfo);
    free(line);
    sa__resampler_free(r);
    if (strict && jerr.warnings > 0) {
        sa_image_free(im);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: truncated or corrupt JPEG: %s", name,
                            jerr.warning);
    }
    *out = im;
    return 0;
}

sa_geometry sa_geometry_imagenet(void)
{
    sa_geometry g = {256, 224, 1};
    return g;
}

int sa_image_decode_geometry(sa_image **out, const void *buf, size_t size, int desired_channels,
                             int flags, const sa_geometry *g, const char *name, sa_error *err)
{
    const unsigned char *b = buf;
    if (!name)
        name = "<memory>";
    if (desired_channels != 0 && desired_channels != 1 && desired_channels != 3)
        return sa_error_set(err, SA_EINVAL, "image", "desired channels must be 0, 1 or 3");
    if (size >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return decode_jpeg_geometry(out, buf, size, desired_channels, g, name,
                                    flags & SA_DECODE_STRICT, err);
    sa_image *im = NULL;
    int rc = sa_image_decode_flags(&im, buf, size, desired_channels, flags, name, err);
    if (rc < 0)
        return rc;
    geo_plan p;
    sa_image *res = NULL;
    sa__resampler *r = NULL;
    rc = geo_plan_make(&p, im->w, im->h, im->c, g, name, err);
    if (rc == 0)
        rc = geo_plan_start(&res, &r, &p, im->c, err);
    if (rc == 0) {
        int x0, y0, x1, y1;
        sa__resampler_source(r, &x0, &y0, &x1, &y1);
        const size_t row = (size_t)im->w * (size_t)im->c;
        for (int y = y0; y < y1; y++)
            sa__resampler_push(r, im->data + (size_t)y * row + (size_t)x0 * (size_t)im->c);
        sa__resampler_free(r);
        *out = res;
    }
    sa_image_free(im);
    return rc;
}

int sa_image_decode_file_geometry(sa_image **out, const char *path, int desired_channels,
                                  int flags, const sa_geometry *g, sa_error *err)
{
    char *buf;
    size_t size;
    int rc = sa_fs_read_all(path, &buf, &size, err);
    if (rc < 0)
        return rc;
    rc = sa_image_decode_geometry(out, buf, size, desired_channels, flags, g, path, err);
    free(buf);
    return rc;
}

sa_jpeg_options sa_jpeg_options_default(void)
{
    sa_jpeg_options o = {85, 1, 0};
    return o;
}

int sa_image_encode_jpeg(void **buf, size_t *size, const sa_image *im, int quality, sa_error *err)
{
    sa_jpeg_options o = sa_jpeg_options_default();
    o.quality = quality;
    return sa_image_encode_jpeg_opts(buf, size, im, &o, err);
}

int sa_image_encode_jpeg_opts(void **buf, size_t *size, const sa_image *im,
                              const sa_jpeg_options *opt, sa_error *err)
{
    const int quality = opt->quality;
    if (im->c != 1 && im->c != 3)
        return sa_error_set(err, SA_EINVAL, "image", "JPEG needs 1 or 3 channels, not %d", im->c);
    if (quality < 1 || quality > 100)
        return sa_error_set(err, SA_EINVAL, "image", "JPEG quality %d outside 1..100", quality);
    struct jpeg_compress_struct cinfo;
    jpeg_err jerr;
    unsigned char *volatile mem = NULL;
    unsigned long memsize = 0;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpeg_on_error;
    jerr.pub.emit_message = jpeg_on_message;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(mem);
        return sa_error_set(err, SA_EFORMAT, "image", "JPEG encoding failed: %s", jerr.msg);
    }
    jpeg_create_compress(&cinfo);
    unsigned char *m = NULL;
    jpeg_mem_dest(&cinfo, &m, &memsize);
    cinfo.image_width = (JDIMENSION)im->w;
    cinfo.image_height = (JDIMENSION)im->h;
    cinfo.input_components = im->c;
    cinfo.in_color_space = im->c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.optimize_coding = opt->optimize ? TRUE : FALSE; /* Pillow's optimize= */
    cinfo.dct_method = JDCT_ISLOW;
    if (opt->progressive)
        jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = im->data + (size_t)cinfo.next_scanline * (size_t)im->w * (size_t)im->c;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    mem = m;
    jpeg_destroy_compress(&cinfo);
    *buf = mem;
    *size = memsize;
    return 0;
}

/* ---- PNG --------------------------------------------------------------- */

static int decode_png(sa_image **out, const void *buf, size_t size, int desired, const char *name,
                      sa_error *err)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&pi, buf, size))
        return sa_error_set(err, SA_EFORMAT, "image", "%s: bad PNG: %s", name, pi.message);
    int grey_file = !(pi.format & PNG_FORMAT_FLAG_COLOR);
    int want = desired ? desired : (grey_file ? 1 : 3);
    pi.format = want == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    if (!sa_image_dims_valid((int)pi.width, (int)pi.height, want) || pi.width > SA_IMAGE_MAX_DIM ||
        pi.height > SA_IMAGE_MAX_DIM) {
        png_image_free(&pi);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: unsupported PNG size %ux%u", name,
                            pi.width, pi.height);
    }
    sa_image *im;
    if (sa_image_new(&im, (int)pi.width, (int)pi.height, want, err) < 0) {
        png_image_free(&pi);
        return err ? err->code : SA_ENOMEM;
    }
    /* Composite any alpha onto black, as PIL's convert('RGB') drops it. */
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&pi, &black, im->data, 0, NULL)) {
        sa_image_free(im);
        return sa_error_set(err, SA_EFORMAT, "image", "%s: bad PNG: %s", name, pi.message);
    }
    *out = im;
    return 0;
}

int sa_image_encode_png(void **buf, size_t *size, const sa_image *im, sa_error *err)
{
    if (im->c != 1 && im->c != 3)
        return sa_error_set(err, SA_EINVAL, "image", "PNG needs 1 or 3 channels, not %d", im->c);
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)im->w;
    pi.height = (png_uint_32)im->h;
    pi.format = im->c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    png_alloc_size_t n = 0;
    if (!png_image_write_to_memory(&pi, NULL, &n, 0, im->data, 0, NULL))
        return sa_error_set(err, SA_EFORMAT, "image", "PNG encoding failed: %s", pi.message);
    void *mem = malloc(n);
    if (!mem)
        return sa_error_set(err, SA_ENOMEM, "image", "out of memory for PNG");
    if (!png_image_write_to_memory(&pi, mem, &n, 0, im->data, 0, NULL)) {
        free(mem);
        return sa_error_set(err, SA_EFORMAT, "image", "PNG encoding failed: %s", pi.message);
    }
    *buf = mem;
    *size = n;
    return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

int sa_image_decode(sa_image **out, const void *buf, size_t size, int desired_channels,
                    const char *name, sa_error *err)
{
    return sa_image_decode_flags(out, buf, size, desired_channels, 0, name, err);
}

int sa_image_decode_flags(sa_image **out, const void *buf, size_t size, int desired_channels,
                          int flags, const char *name, sa_error *err)
{
    const unsigned char *p = buf;
    if (!name)
        name = "<memory>";
    if (desired_channels != 0 && desired_channels != 1 && desired_channels != 3)
        return sa_error_set(err, SA_EINVAL, "image", "desired channels must be 0, 1 or 3");
    if (size >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return decode_jpeg(out, buf, size, desired_channels, name, flags & SA_DECODE_STRICT, err);
    if (size >= 8 && !png_sig_cmp(p, 0, 8))
        return decode_png(out, buf, size, desired_channels, name, err);
    return sa_error_set(err, SA_EFORMAT, "image", "%s: not a JPEG or PNG file", name);
}

int sa_image_decode_file(sa_image **out, const char *path, int desired_channels, sa_error *err)
{
    return sa_image_decode_file_flags(out, path, desired_channels, 0, err);
}

int sa_image_decode_file_flags(sa_image **out, const char *path, int desired_channels, int flags,
                               sa_error *err)
{
    char *buf;
    size_t size;
    int rc = sa_fs_read_all(path, &buf, &size, err);
    if (rc < 0)
        return rc;
    rc = sa_image_decode_flags(out, buf, size, desired_channels, flags, path, err);
    free(buf);
    return rc;
}
