/* color_lanes.h - the HSV edit of color.c across HSV_LANES pixels at once
 * (internal; included by color.c only, once per lane count).
 *
 * Before each inclusion color.c defines HSV_LANES (2, 4 or 8), HSV_NAME (the
 * function to define) and HSV_TARGET (its function attributes, possibly
 * empty). The result is
 *
 *     static void HSV_NAME(uint8_t *dst, const uint8_t *src, size_t n,
 *                          int saturate, double a, double b,
 *                          const double unit[256]);
 *
 * with the meaning and the bytes of hsv_rgb_scalar. The lane count matches
 * the instruction set's register (2 for SSE2 or NEON, 4 for AVX2, 8 for
 * AVX-512): GCC splits wider vector arithmetic into registers but turns
 * wider comparisons into one scalar branch per lane.
 *
 * Every lane computes the scalar code's doubles with the same operations in
 * the same order (no fused multiply-add: the build is ISO C, so
 * -ffp-contract=off), and the branches become selects:
 *  - rgb2hsv: the channel that is the maximum is found with `<` against the
 *    maximum (which is one of the channels, so not below means equal), blue
 *    before green before red as the scalar code's later cases overwrite
 *    earlier ones on ties. The numerator is selected before the one
 *    division, the offset 2 or 4 added after it, and the red case takes the
 *    quotient itself.
 *  - a % 1.0 of a = hh / 6, |a| <= 5/6: fmod returns a itself, so the
 *    remainder is a + 1 for a < 0, else a + 0 (which is a, except that -0
 *    becomes +0 as in mod1). Grey lanes (d = 0, where the division gave
 *    NaN) take h = s = 0 as the scalar early return does.
 *  - hsv2rgb: h lies in [0, 1], so h * 6 lies in [0, 6] and truncation to
 *    an integer is its floor. The sector (int)hi % 6 is picked by `<`
 *    against 1 .. 6, with 6 in sector 0.
 * The pixels pass through blocks: channels gathered to double arrays by
 * the i / 255 table, the lanes on whole vectors (a partial block padded
 * with black pixels), the 8-bit results scattered back.
 */

#define HSV_BLOCK 64 /* pixels per block, a multiple of every lane count */

HSV_TARGET
static void HSV_NAME(uint8_t *dst, const uint8_t *src, size_t n, int saturate, double a,
        double b, const double unit[256])
{
    typedef double vd __attribute__((vector_size(8 * HSV_LANES)));
    typedef double vd_u __attribute__((vector_size(8 * HSV_LANES), aligned(8)));
    typedef long long vl __attribute__((vector_size(8 * HSV_LANES)));
    typedef int vi __attribute__((vector_size(4 * HSV_LANES)));
    typedef int vi_u __attribute__((vector_size(4 * HSV_LANES), aligned(4)));
#define SEL(m, x, y) ((vd)(((vl)(x) & (m)) | ((vl)(y) & ~(m))))
    vd zero, one, two, three, four, five, six, u8max, va, vb;
    for (int k = 0; k < HSV_LANES; k++) {
        zero[k] = 0.0;
        one[k] = 1.0;
        two[k] = 2.0;
        three[k] = 3.0;
        four[k] = 4.0;
        five[k] = 5.0;
        six[k] = 6.0;
        u8max[k] = 255.0;
        va[k] = a;
        vb[k] = b;
    }
    double cr[HSV_BLOCK], cg[HSV_BLOCK], cb[HSV_BLOCK];
    int yr[HSV_BLOCK], yg[HSV_BLOCK], yb[HSV_BLOCK];
    for (size_t p0 = 0; p0 < n; p0 += HSV_BLOCK) {
        const size_t m = n - p0 < HSV_BLOCK ? n - p0 : HSV_BLOCK;
        const uint8_t *s = src + 3 * p0;
        for (size_t k = 0; k < m; k++) {
            cr[k] = unit[s[3 * k]];
            cg[k] = unit[s[3 * k + 1]];
            cb[k] = unit[s[3 * k + 2]];
        }
        for (size_t k = m; k < HSV_BLOCK; k++)
            cr[k] = cg[k] = cb[k] = 0.0;
        for (size_t k = 0; k < m; k += HSV_LANES) {
            const vd r = *(const vd_u *)(const void *)(cr + k);
            const vd g = *(const vd_u *)(const void *)(cg + k);
            const vd bl = *(const vd_u *)(const void *)(cb + k);
            /* rgb2hsv */
            vd mx = SEL(r > g, r, g);
            mx = SEL(mx > bl, mx, bl);
            vd mn = SEL(r < g, r, g);
            mn = SEL(mn < bl, mn, bl);
            const vd d = mx - mn;
            const vl gnot = g < mx, bnot = bl < mx, col = d > zero;
            const vd q = SEL(bnot, SEL(gnot, g - bl, bl - r), r - g) / d;
            const vd hh = SEL(bnot, SEL(gnot, q, two + q), four + q);
            vd h = hh / six;
            h = SEL(h < zero, h + one, h + zero);
            h = SEL(col, h, zero);
            vd sat = SEL(col, d / mx, zero);
            vd v = mx;
            /* the edit, then clip to [0, 1] */
            if (!saturate) {
                v = v + va;
                v = SEL(v < zero, zero, SEL(v > one, one, v));
            } else {
                sat = sat * va + vb;
                sat = SEL(sat < zero, zero, SEL(sat > one, one, sat));
            }
            /* hsv2rgb */
            const vd h6 = h * six;
            const vd hi = __builtin_convertvector(__builtin_convertvector(h6, vi), vd);
            const vd f = h6 - hi;
            const vd pp = v * (one - sat);
            const vd qq = v * (one - f * sat);
            const vd tt = v * (one - (one - f) * sat);
            const vl lt1 = hi < one, lt2 = hi < two, lt3 = hi < three, lt4 = hi < four,
                     lt5 = hi < five, lt6 = hi < six;
            vd ro = SEL(lt1, v, SEL(lt2, qq, SEL(lt4, pp, SEL(lt5, tt, v))));
            vd go = SEL(lt1, tt, SEL(lt3, v, SEL(lt4, qq, SEL(lt6, pp, tt))));
            vd bo = SEL(lt2, pp, SEL(lt3, tt, SEL(lt5, v, SEL(lt6, qq, pp))));
            /* sa__to_u8: clip (NaN to 0), truncate c * 255 */
            ro = SEL(ro > zero, ro, zero);
            go = SEL(go > zero, go, zero);
            bo = SEL(bo > zero, bo, zero);
            ro = SEL(ro < one, ro, one);
            go = SEL(go < one, go, one);
            bo = SEL(bo < one, bo, one);
            *(vi_u *)(void *)(yr + k) = __builtin_convertvector(ro * u8max, vi);
            *(vi_u *)(void *)(yg + k) = __builtin_convertvector(go * u8max, vi);
            *(vi_u *)(void *)(yb + k) = __builtin_convertvector(bo * u8max, vi);
        }
        uint8_t *o = dst + 3 * p0;
        for (size_t k = 0; k < m; k++) {
            o[3 * k] = (uint8_t)yr[k];
            o[3 * k + 1] = (uint8_t)yg[k];
            o[3 * k + 2] = (uint8_t)yb[k];
        }
    }
#undef SEL
}

#undef HSV_BLOCK
