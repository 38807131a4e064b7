/* source: the model as trained, with its stored normalisation statistics. */
#include "internal.h"

const sa__method_impl sa__method_source = {
    .name = "source",
    .summary = "no adaptation: the source model with its stored statistics",
    .norm = SA_NORM_SOURCE,
    .loss = NULL,
};
