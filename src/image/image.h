/* image.h - the 8-bit image type, its decoders/encoders and transforms.
 *
 *     sa_error err = {0};
 *     sa_image *im = NULL;
 *     if (sa_image_decode_file(&im, "cat.jpg", 3, &err) < 0) ...;   // caller frees
 *     sa_image *small = NULL, *crop = NULL;
 *     sa_image_resize_shorter(&small, im, 256, &err);               // caller frees
 *     sa_image_center_crop(&crop, small, 224, 224, &err);           // caller frees
 *     sa_image_free(im);
 *
 * Layout: interleaved H x W x C bytes, row-major, channel order R,G,B (C = 3)
 * or grey (C = 1); no padding between rows (stride = w * c). Values are the
 * 8-bit levels 0..255.
 *
 * Every constructor returns a new image the caller owns and releases with
 * sa_image_free (which accepts NULL). On failure the out pointer is left
 * unchanged. Dimensions are capped at SA_IMAGE_MAX_DIM and w*h*c is checked
 * for overflow before any allocation.
 */
#ifndef SA_IMAGE_IMAGE_H
#define SA_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SA_IMAGE_MAX_DIM 16384

typedef struct sa_image {
    int w, h, c;
    uint8_t *data; /* w*h*c bytes, owned by the image */
} sa_image;

/* New zero-filled image. */
int sa_image_new(sa_image **out, int w, int h, int c, sa_error *err);
int sa_image_clone(sa_image **out, const sa_image *in, sa_error *err);
void sa_image_free(sa_image *im);
static inline size_t sa_image_size(const sa_image *im)
{
    return (size_t)im->w * (size_t)im->h * (size_t)im->c;
}
/* 1 if w, h, c are in range and w*h*c fits in size_t. */
int sa_image_dims_valid(int w, int h, int c);

/* Copy `in` with its channels converted to `channels` (1 or 3): grey is
 * replicated to RGB; RGB to grey uses ITU-R 601 weights. */
int sa_image_convert(sa_image **out, const sa_image *in, int channels, sa_error *err);
/* Copy `in` into a new image with `pad` zero pixels added on every side. */
int sa_image_pad(sa_image **out, const sa_image *in, int pad, sa_error *err);

/* ---- codecs (libjpeg, libpng) ------------------------------------------ */
/* Decode a JPEG or PNG held in memory; desired_channels is 1 or 3 (0: keep
 * the file's own, grey or RGB; alpha is dropped). `name` is only used in
 * error messages. */
int sa_image_decode(sa_image **out, const void *buf, size_t size, int desired_channels,
                    const char *name, sa_error *err);
int sa_image_decode_file(sa_image **out, const char *path, int desired_channels, sa_error *err);
/* Decoding flags. SA_DECODE_STRICT: a JPEG whose data libjpeg had to patch
 * up (truncated file, corrupt entropy data) is an error instead of an image
 * with grey or garbled parts. (Truncated PNGs are always errors.) */
#define SA_DECODE_STRICT 1
int sa_image_decode_flags(sa_image **out, const void *buf, size_t size, int desired_channels,
                          int flags, const char *name, sa_error *err);
int sa_image_decode_file_flags(sa_image **out, const char *path, int desired_channels, int flags,
                               sa_error *err);
/* Decoding straight to the evaluation geometry: the shorter side resized
 * (sa_image_resize_shorter), then a centre crop (sa_image_center_crop).
 * The result is byte for byte what decoding and the two transforms give,
 * but only the part of the image that the crop keeps is decoded (JPEG
 * files are cropped inside libjpeg-turbo, with a margin so that chroma
 * upsampling and, in progressive files cut short, block smoothing see the
 * same neighbours) and resampled, row by row. */
typedef struct sa_geometry {
    int resize;     /* shorter side to this many pixels, 0: no resize (e.g. 256) */
    int crop;       /* centre crop to crop x crop pixels, 0: no crop (e.g. 224) */
    int keep_sized; /* 1: an image already crop x crop is kept as it is (ImageNet-C files) */
} sa_geometry;
/* {256, 224, 1}: the ImageNet evaluation geometry. */
sa_geometry sa_geometry_imagenet(void);
/* Errors: those of sa_image_decode_flags, and SA_EINVAL naming the image
 * when the crop does not fit. */
int sa_image_decode_geometry(sa_image **out, const void *buf, size_t size, int desired_channels,
                             int flags, const sa_geometry *g, const char *name, sa_error *err);
int sa_image_decode_file_geometry(sa_image **out, const char *path, int desired_channels,
                                  int flags, const sa_geometry *g, sa_error *err);

/* Encode to a malloc'ed buffer (*buf, caller frees). quality 1..100.
 * sa_image_encode_jpeg writes what Pillow's save(quality=q, optimize=True)
 * writes (the ImageNet-C files: q85): libjpeg defaults, baseline-clamped
 * tables, 4:2:0 chroma, islow DCT, optimised Huffman tables. */
int sa_image_encode_jpeg(void **buf, size_t *size, const sa_image *im, int quality, sa_error *err);

/* JPEG encoder settings; sa_jpeg_options_default() gives quality 85 and
 * optimised Huffman tables. Huffman optimisation changes only the file
 * size, never the decoded pixels. */
typedef struct sa_jpeg_options {
    int quality;  /* 1..100, libjpeg jpeg_set_quality with baseline tables (85) */
    int optimize; /* 1: optimised Huffman tables (Pillow optimize=True); 0: standard ones */
    int progressive; /* 1: progressive scans (Pillow progressive=True); 0: baseline (0) */
} sa_jpeg_options;
sa_jpeg_options sa_jpeg_options_default(void);
int sa_image_encode_jpeg_opts(void **buf, size_t *size, const sa_image *im,
                              const sa_jpeg_options *opt, sa_error *err);
int sa_image_encode_png(void **buf, size_t *size, const sa_image *im, sa_error *err);

/* ---- transforms (transform.c) ----------------------------------------- */
/* Pillow's resampling filters (ImagingResample, 8-bit fixed point). */
typedef enum sa_resample_filter {
    SA_RESAMPLE_BOX = 0,      /* Image.BOX */
    SA_RESAMPLE_BILINEAR = 1, /* Image.BILINEAR: triangle, support scaled when shrinking */
} sa_resample_filter;

/* Resize `in` to w x h exactly as Pillow 9's Image.resize((w, h), filter)
 * does for 8-bit grey/RGB images (antialiased when downscaling). */
int sa_image_resample(sa_image **out, const sa_image *in, int w, int h,
                      sa_resample_filter filter, sa_error *err);
/* Same into a caller-allocated image whose w x h is the target size and
 * whose channel count equals in->c. */
int sa_image_resample_into(sa_image *out, const sa_image *in, sa_resample_filter filter,
                           sa_error *err);
/* A window of a resampling: the full image, fw x fh, resized to ow x oh,
 * of which `out` (caller-allocated, in->c channels) receives the outputs
 * [ox, ox + out->w) x [oy, oy + out->h). `in` holds the part of the full
 * image whose top-left pixel is (sx, sy); it must contain every source
 * pixel those outputs read (sa_image_resample_source says which). The
 * bytes equal the same window of sa_image_resample's full result. */
int sa_image_resample_window(sa_image *out, const sa_image *in, int sx, int sy, int fw, int fh,
                             int ow, int oh, int ox, int oy, sa_resample_filter filter,
                             sa_error *err);
/* The source pixels [*x0, *x1) x [*y0, *y1) that the outputs
 * [ox, ox + cw) x [oy, oy + ch) of a fw x fh -> ow x oh resampling read.
 * Returns 0, or SA_ENOMEM. */
int sa_image_resample_source(int fw, int fh, int ow, int oh, int ox, int oy, int cw, int ch,
                             sa_resample_filter filter, int *x0, int *y0, int *x1, int *y1);
/* torchvision Resize(size) with an int: the shorter side becomes `size`,
 * the longer one int(size * long / short); PIL bilinear. */
int sa_image_resize_shorter(sa_image **out, const sa_image *in, int size, sa_error *err);
void sa_image_shorter_side_size(int w, int h, int size, int *ow, int *oh);
/* torchvision CenterCrop((h, w)): top = int(round((H - h) / 2.0)) with round
 * half to even, left likewise. Error if the crop does not fit. */
int sa_image_center_crop(sa_image **out, const sa_image *in, int w, int h, sa_error *err);
void sa_image_center_crop_offsets(int iw, int ih, int w, int h, int *left, int *top);
/* The ImageNet evaluation geometry: resize shorter side to 256, center
 * crop 224 x 224. */
int sa_image_imagenet_geometry(sa_image **out, const sa_image *in, sa_error *err);

/* Planar floats from an 8-bit image: dst[k][y][x] = (v / 255 - mean) / std
 * for channel k, computed in float as v * (1 / (255 * std[k])) -
 * mean[k] / std[k] (the same bits on every path); dst holds c * h * w
 * floats. A grey image uses mean[0] and std[0]. */
void sa_image_to_chw(float *dst, const sa_image *im, const float mean[3], const float std[3]);

/* ---- IDX files (MNIST / Fashion-MNIST), gzip or plain ------------------ */
typedef struct sa_idx {
    int ndim;
    int dims[4];
    size_t count;   /* dims[0] */
    size_t item;    /* bytes per item: product of dims[1..] */
    uint8_t *data;  /* count * item bytes, owned */
} sa_idx;
/* Read an unsigned-byte IDX file (magic 0x00000801/0x00000803), gzip-compressed
 * or not. Caller frees with sa_idx_free. */
int sa_idx_load(sa_idx **out, const char *path, sa_error *err);
void sa_idx_free(sa_idx *idx);

#endif
