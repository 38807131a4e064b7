/* params.h - severity tables shared by the kernel files (internal). */
#ifndef SA_CORRUPTIONS_PARAMS_H
#define SA_CORRUPTIONS_PARAMS_H

enum { SA__TABLE_IMAGENET = 0, SA__TABLE_CIFAR = 1 };

extern const double sa__gaussian_sigma[2][5];
extern const double sa__shot_photons[2][5];
extern const double sa__impulse_amount[2][5];
extern const double sa__contrast_factor[2][5];

#endif
