/* rpl: robust pseudo-labelling (Rusak, Schneider et al.): generalized
 * cross-entropy with exponent q towards the teacher's argmax; with the
 * default teacher (refreshed every step) that is the argmax of the same
 * forward pass. */
#include "internal.h"
#include "losses.h"

static int rpl_loss(const sa_method_options *o, const sa_tensor *student, const sa_tensor *teacher,
                    sa_tensor **loss, sa_error *err)
{
    sa_tensor *target = NULL;
    int rc = sa_tensor_argmax(&target, teacher, 1, err);
    if (rc == 0)
        rc = sa_loss_gce(loss, student, target, o->gce_q, err);
    sa_tensor_free(target);
    return rc;
}

const sa__method_impl sa__method_rpl = {
    .name = "rpl",
    .summary = "robust pseudo-labels: GCE (q) on the teacher's argmax",
    .norm = SA_NORM_BATCH,
    .uses_teacher = 1,
    .loss = rpl_loss,
};
