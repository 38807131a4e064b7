/* ent: entropy minimisation with test-batch statistics (TENT, Wang et al.
 * 2021), by default on the affine parameters of the normalisation layers. */
#include "internal.h"
#include "losses.h"

static int ent_loss(const sa_method_options *o, const sa_tensor *student, const sa_tensor *teacher,
                    sa_tensor **loss, sa_error *err)
{
    (void)o;
    (void)teacher;
    return sa_loss_entropy(loss, student, err);
}

const sa__method_impl sa__method_ent = {
    .name = "ent",
    .summary = "entropy minimisation (TENT) with test-batch statistics",
    .norm = SA_NORM_BATCH,
    .loss = ent_loss,
};
