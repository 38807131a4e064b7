#include "image.h"

#include <stdlib.h>
#include <string.h>

int sa_image_dims_valid(int w, int h, int c)
{
    if (w <= 0 || h <= 0 || c <= 0 || c > 4)
        return 0;
    if (w > SA_IMAGE_MAX_DIM || h > SA_IMAGE_MAX_DIM)
        return 0;
    size_t n = (size_t)w * (size_t)h;
    return n <= SIZE_MAX / (size_t)c;
}

int sa_image_new(sa_image **out, int w, int h, int c, sa_error *err)
{
    if (!sa_image_dims_valid(w, h, c))
        return sa_error_set(err, SA_EINVAL, "image", "invalid image size %dx%dx%d", w, h, c);
    sa_image *im = malloc(sizeof *im);
    uint8_t *data = calloc((size_t)w * (size_t)h, (size_t)c);
    if (!im || !data) {
        free(im);
        free(data);
        return sa_error_set(err, SA_ENOMEM, "image", "out of memory for %dx%dx%d image", w, h, c);
    }
    im->w = w;
    im->h = h;
    im->c = c;
    im->data = data;
    *out = im;
    return 0;
}

int sa_image_clone(sa_image **out, const sa_image *in, sa_error *err)
{
    sa_image *im;
    int rc = sa_image_new(&im, in->w, in->h, in->c, err);
    if (rc < 0)
        return rc;
    memcpy(im->data, in->data, sa_image_size(in));
    *out = im;
    return 0;
}

void sa_image_free(sa_image *im)
{
    if (!im)
        return;
    free(im->data);
    free(im);
}

int sa_image_convert(sa_image **out, const sa_image *in, int channels, sa_error *err)
{
    if (channels != 1 && channels != 3)
        return sa_error_set(err, SA_EINVAL, "image", "cannot convert to %d channels", channels);
    if (in->c != 1 && in->c != 3)
        return sa_error_set(err, SA_EINVAL, "image", "cannot convert from %d channels", in->c);
    if (in->c == channels)
        return sa_image_clone(out, in, err);
    sa_image *im;
    int rc = sa_image_new(&im, in->w, in->h, channels, err);
    if (rc < 0)
        return rc;
    size_t n = (size_t)in->w * (size_t)in->h;
    if (channels == 3) {
        for (size_t i = 0; i < n; i++)
            im->data[3 * i] = im->data[3 * i + 1] = im->data[3 * i + 2] = in->data[i];
    } else {
        for (size_t i = 0; i < n; i++) {
            const uint8_t *p = in->data + 3 * i;
            double y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            im->data[i] = (uint8_t)(y + 0.5);
        }
    }
    *out = im;
    return 0;
}

int sa_image_pad(sa_image **out, const sa_image *in, int pad, sa_error *err)
{
    if (pad < 0)
        return sa_error_set(err, SA_EINVAL, "image", "negative padding %d", pad);
    sa_image *im;
    int rc = sa_image_new(&im, in->w + 2 * pad, in->h + 2 * pad, in->c, err);
    if (rc < 0)
        return rc;
    size_t row = (size_t)in->w * (size_t)in->c;
    for (int y = 0; y < in->h; y++)
        memcpy(im->data + ((size_t)(y + pad) * im->w + pad) * im->c, in->data + (size_t)y * row, row);
    *out = im;
    return 0;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SA_NO_SIMD)
#include <immintrin.h>

/* RGB pixels 8 at a time: the bytes of each channel gathered with one
 * shuffle per half, then the same float multiply and subtract as below. */
__attribute__((target("avx2"))) static size_t to_chw_rgb_avx2(float *d0, float *d1, float *d2,
                                                              const uint8_t *src, size_t n,
                                                              const float *scale,
                                                              const float *shift)
{
    const __m128i r_lo = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i r_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i g_lo = _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i g_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_lo = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256 s0 = _mm256_set1_ps(scale[0]), s1 = _mm256_set1_ps(scale[1]),
                 s2 = _mm256_set1_ps(scale[2]);
    const __m256 t0 = _mm256_set1_ps(shift[0]), t1 = _mm256_set1_ps(shift[1]),
                 t2 = _mm256_set1_ps(shift[2]);
    size_t p = 0;
    for (; p + 8 <= n; p += 8, src += 24) {
        const __m128i lo = _mm_loadu_si128((const __m128i *)src);
        const __m128i hi = _mm_loadl_epi64((const __m128i *)(src + 16));
        const __m128i r = _mm_or_si128(_mm_shuffle_epi8(lo, r_lo), _mm_shuffle_epi8(hi, r_hi));
        const __m128i g = _mm_or_si128(_mm_shuffle_epi8(lo, g_lo), _mm_shuffle_epi8(hi, g_hi));
        const __m128i b = _mm_or_si128(_mm_shuffle_epi8(lo, b_lo), _mm_shuffle_epi8(hi, b_hi));
        const __m256 fr = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(r));
        const __m256 fg = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(g));
        const __m256 fb = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
        _mm256_storeu_ps(d0 + p, _mm256_sub_ps(_mm256_mul_ps(fr, s0), t0));
        _mm256_storeu_ps(d1 + p, _mm256_sub_ps(_mm256_mul_ps(fg, s1), t1));
        _mm256_storeu_ps(d2 + p, _mm256_sub_ps(_mm256_mul_ps(fb, s2), t2));
    }
    return p;
}
#define SA_HAVE_AVX2_PATH 1
#endif

void sa_image_to_chw(float *dst, const sa_image *im, const float mean[3], const float std[3])
{
    const size_t plane = (size_t)im->w * (size_t)im->h;
    const int c = im->c;
    float scale[4], shift[4];
    for (int k = 0; k < c; k++) { /* c <= 4 (sa_image_dims_valid) */
        scale[k] = 1.0f / (255.0f * std[k % 3]);
        shift[k] = mean[k % 3] / std[k % 3];
    }
    size_t p = 0;
#ifdef SA_HAVE_AVX2_PATH
    if (c == 3 && __builtin_cpu_supports("avx2"))
        p = to_chw_rgb_avx2(dst, dst + plane, dst + 2 * plane, im->data, plane, scale, shift);
#endif
    for (int k = 0; k < c; k++) {
        const float sk = scale[k], tk = shift[k];
        for (size_t q = p; q < plane; q++)
            dst[(size_t)k * plane + q] = (float)im->data[q * (size_t)c + (size_t)k] * sk - tk;
    }
}
