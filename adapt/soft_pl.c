/* soft_pl: cross-entropy towards the teacher's softmax at temperature T. */
#include "internal.h"
#include "losses.h"

static int soft_pl_loss(const sa_method_options *o, const sa_tensor *student,
                        const sa_tensor *teacher, sa_tensor **loss, sa_error *err)
{
    sa_tensor *scaled = NULL, *probs = NULL;
    int rc = sa_tensor_mul_scalar(&scaled, teacher, 1.0 / o->temperature, err);
    if (rc == 0)
        rc = sa_tensor_softmax(&probs, scaled, 1, err);
    if (rc == 0)
        rc = sa_loss_ce_soft(loss, student, probs, err);
    sa_tensor_free(scaled);
    sa_tensor_free(probs);
    return rc;
}

const sa__method_impl sa__method_soft_pl = {
    .name = "soft_pl",
    .summary = "soft pseudo-labels: cross-entropy on the teacher's softmax (temperature)",
    .norm = SA_NORM_BATCH,
    .uses_teacher = 1,
    .loss = soft_pl_loss,
};
