/* BatchNorm statistics adaptation, no learning:
 *   bn        statistics of each test batch (Schneider et al. 2020, N = batch)
 *   bn_alpha  alpha * stored + (1 - alpha) * test-batch statistics (the
 *             paper's prior-weighted variant with alpha = N / (N + n))
 *   bn_ema    stored statistics updated by every test batch with the layer's
 *             momentum, then used to normalise */
#include "internal.h"

const sa__method_impl sa__method_bn = {
    .name = "bn",
    .summary = "BatchNorm with test-batch statistics, no learning",
    .norm = SA_NORM_BATCH,
};

const sa__method_impl sa__method_bn_alpha = {
    .name = "bn_alpha",
    .summary = "BatchNorm with alpha * source + (1 - alpha) * test-batch statistics",
    .norm = SA_NORM_MIX,
};

const sa__method_impl sa__method_bn_ema = {
    .name = "bn_ema",
    .summary = "BatchNorm running statistics updated at test time, then used",
    .norm = SA_NORM_EMA,
};
