/* params.h - severity tables shared by the kernel files (internal). */
#ifndef SA_CORRUPTIONS_PARAMS_H
#define SA_CORRUPTIONS_PARAMS_H

/* Tables indexed [table == SA_PARAMS_CIFAR][severity - 1]. */
extern const double sa__gaussian_sigma[2][5];
extern const double sa__shot_photons[2][5];
extern const double sa__impulse_amount[2][5];
extern const double sa__contrast_factor[2][5];

#endif
