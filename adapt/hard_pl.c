/* hard_pl: cross-entropy towards the teacher's most likely class. */
#include "internal.h"
#include "losses.h"

static int hard_pl_loss(const sa_method_options *o, const sa_tensor *student,
                        const sa_tensor *teacher, sa_tensor **loss, sa_error *err)
{
    (void)o;
    sa_tensor *target = NULL;
    int rc = sa_tensor_argmax(&target, teacher, 1, err);
    if (rc == 0)
        rc = sa_loss_ce_hard(loss, student, target, err);
    sa_tensor_free(target);
    return rc;
}

const sa__method_impl sa__method_hard_pl = {
    .name = "hard_pl",
    .summary = "hard pseudo-labels: cross-entropy on the teacher's argmax",
    .norm = SA_NORM_BATCH,
    .uses_teacher = 1,
    .loss = hard_pl_loss,
};
