/* Severity tables (hendrycks make_imagenet_c.py / make_cifar_c.py). */
#include "params.h"

/* Indexed [table][severity - 1]; table 0 = ImageNet, 1 = CIFAR. */
const double sa__gaussian_sigma[2][5] = {
    {0.08, 0.12, 0.18, 0.26, 0.38},
    {0.04, 0.06, 0.08, 0.09, 0.10},
};
const double sa__shot_photons[2][5] = {
    {60, 25, 12, 5, 3},
    {500, 250, 100, 75, 50},
};
const double sa__impulse_amount[2][5] = {
    {0.03, 0.06, 0.09, 0.17, 0.27},
    {0.01, 0.02, 0.03, 0.05, 0.07},
};
const double sa__contrast_factor[2][5] = {
    {0.4, 0.3, 0.2, 0.1, 0.05},
    {0.75, 0.5, 0.4, 0.3, 0.15},
};
