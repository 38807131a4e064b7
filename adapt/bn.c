/* bn: BatchNorm normalises with the statistics of each test batch
 * (Schneider et al. 2020, "Improving robustness against common corruptions
 * by covariate shift adaptation", N = batch size). No parameter learns. */
#include "internal.h"

const sa__method_impl sa__method_bn = {
    .name = "bn",
    .summary = "BatchNorm with test-batch statistics, no learning",
    .norm = SA_NORM_BATCH,
    .loss = NULL,
};
