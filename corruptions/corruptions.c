/* Registry, parameter-table selection and the sa_corrupt entry point. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct entry {
    const char *name;
    const char *family;
    sa__kernel fn;
} entry;

/* A NULL kernel marks a corruption this build does not implement. */
static const entry registry[SA_CORRUPT_COUNT] = {
    [SA_CORRUPT_GAUSSIAN_NOISE] = {"gaussian_noise", "noise", sa__gaussian_noise},
    [SA_CORRUPT_SHOT_NOISE] = {"shot_noise", "noise", sa__shot_noise},
    [SA_CORRUPT_IMPULSE_NOISE] = {"impulse_noise", "noise", sa__impulse_noise},
    [SA_CORRUPT_DEFOCUS_BLUR] = {"defocus_blur", "blur", sa__defocus_blur},
    [SA_CORRUPT_GLASS_BLUR] = {"glass_blur", "blur", sa__glass_blur},
    [SA_CORRUPT_MOTION_BLUR] = {"motion_blur", "blur", sa__motion_blur},
    [SA_CORRUPT_ZOOM_BLUR] = {"zoom_blur", "blur", sa__zoom_blur},
    [SA_CORRUPT_SNOW] = {"snow", "weather", sa__snow},
    [SA_CORRUPT_FROST] = {"frost", "weather", sa__frost},
    [SA_CORRUPT_FOG] = {"fog", "weather", sa__fog},
    [SA_CORRUPT_BRIGHTNESS] = {"brightness", "weather", sa__brightness},
    [SA_CORRUPT_CONTRAST] = {"contrast", "digital", sa__contrast},
    [SA_CORRUPT_ELASTIC_TRANSFORM] = {"elastic_transform", "digital", sa__elastic_transform},
    [SA_CORRUPT_PIXELATE] = {"pixelate", "digital", sa__pixelate},
    [SA_CORRUPT_JPEG_COMPRESSION] = {"jpeg_compression", "digital", sa__jpeg_compression},
    [SA_CORRUPT_SPECKLE_NOISE] = {"speckle_noise", "extra", sa__speckle_noise},
    [SA_CORRUPT_GAUSSIAN_BLUR] = {"gaussian_blur", "extra", sa__gaussian_blur},
    [SA_CORRUPT_SPATTER] = {"spatter", "extra", sa__spatter},
    [SA_CORRUPT_SATURATE] = {"saturate", "extra", sa__saturate},
};

int sa_corruption_available(sa_corruption kind)
{
    return (int)kind >= 0 && kind < SA_CORRUPT_COUNT && registry[kind].fn != NULL;
}

const char *sa_corruption_name(sa_corruption kind)
{
    if ((int)kind < 0 || kind >= SA_CORRUPT_COUNT)
        return NULL;
    return registry[kind].name;
}

const char *sa_corruption_family(sa_corruption kind)
{
    if ((int)kind < 0 || kind >= SA_CORRUPT_COUNT)
        return NULL;
    return registry[kind].family;
}

void sa_corruption_list(char *buf, size_t n)
{
    size_t used = 0;
    if (n == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; i < SA_CORRUPT_COUNT; i++) {
        if (!registry[i].fn)
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", registry[i].name);
        if (w < 0 || (size_t)w >= n - used)
            return;
        used += (size_t)w;
    }
}

int sa_corruption_from_name(sa_corruption *out, const char *name, sa_error *err)
{
    for (int i = 0; i < SA_CORRUPT_COUNT; i++)
        if (name && registry[i].fn && strcmp(name, registry[i].name) == 0) {
            *out = (sa_corruption)i;
            return 0;
        }
    char list[512];
    sa_corruption_list(list, sizeof list);
    return sa_error_set(err, SA_EINVAL, "corrupt", "unknown corruption '%s' (expected one of: %s)",
                        name ? name : "", list);
}

static const char *const params_names[] = {"auto", "imagenet", "cifar", "any"};

int sa_corrupt_params_from_name(sa_corrupt_params *out, const char *name, sa_error *err)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, params_names[i]) == 0) {
            *out = (sa_corrupt_params)i;
            return 0;
        }
    return sa_error_set(err, SA_EINVAL, "corrupt",
                        "unknown parameter table '%s' (expected auto, imagenet, cifar or any)",
                        name ? name : "");
}

const char *sa_corrupt_params_name(sa_corrupt_params p)
{
    return (unsigned)p < 4 ? params_names[p] : "?";
}

sa_corrupt_params sa_corrupt_params_resolve(sa_corrupt_params p, int w, int h)
{
    if (p != SA_PARAMS_AUTO)
        return p;
    if (w <= 32 && h <= 32)
        return SA_PARAMS_CIFAR;
    if (w == 224 && h == 224)
        return SA_PARAMS_IMAGENET;
    return SA_PARAMS_ANY;
}

sa_corrupt_options sa_corrupt_options_default(void)
{
    sa_corrupt_options o;
    memset(&o, 0, sizeof o);
    o.params = SA_PARAMS_AUTO;
    return o;
}

int sa_corrupt(sa_image *out, const sa_image *in, sa_corruption kind, int severity,
               const sa_corrupt_options *opt, sa_rng *rng, sa_error *err)
{
    if ((int)kind < 0 || kind >= SA_CORRUPT_COUNT)
        return sa_error_set(err, SA_EINVAL, "corrupt", "unknown corruption %d", (int)kind);
    if (!registry[kind].fn)
        return sa_error_set(err, SA_EINVAL, "corrupt", "%s is not available in this build",
                            registry[kind].name);
    sa_corrupt_options defaults = sa_corrupt_options_default();
    if (!opt)
        opt = &defaults;
    if (severity < SA_SEVERITY_MIN || severity > SA_SEVERITY_MAX)
        return sa_error_set(err, SA_EINVAL, "corrupt", "severity %d outside 1..5 (%s)", severity,
                            registry[kind].name);
    if (out->w != in->w || out->h != in->h || out->c != in->c)
        return sa_error_set(err, SA_EINVAL, "corrupt",
                            "output is %dx%dx%d but input is %dx%dx%d (%s)", out->w, out->h, out->c,
                            in->w, in->h, in->c, registry[kind].name);
    if (in->c != 1 && in->c != 3)
        return sa_error_set(err, SA_EINVAL, "corrupt", "%d channels: expected 1 or 3 (%s)", in->c,
                            registry[kind].name);
    if (out->data == in->data)
        return sa_error_set(err, SA_EINVAL, "corrupt", "output aliases input (%s)",
                            registry[kind].name);
    sa_corrupt_params p = sa_corrupt_params_resolve(opt->params, in->w, in->h);
    return registry[kind].fn(out, in, p, severity, opt, rng, err);
}

uint64_t sa_corrupt_seed(uint64_t run_seed, uint64_t image_index, sa_corruption kind, int severity)
{
    return sa_seed_derive(run_seed, image_index, (uint64_t)kind + 1, (uint64_t)severity);
}
