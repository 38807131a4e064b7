/* rpl: robust pseudo-labelling (Rusak, Schneider et al.): generalized
 * cross-entropy with exponent q towards the argmax of the same forward pass,
 * i.e. a teacher refreshed at every step. */
#include "internal.h"
#include "losses.h"

static int rpl_loss(const sa_method_options *o, const sa_tensor *logits, sa_tensor **loss,
                    sa_error *err)
{
    sa_tensor *target = NULL;
    int rc = sa_tensor_argmax(&target, logits, 1, err);
    if (rc < 0)
        return rc;
    rc = sa_loss_gce(loss, logits, target, o->gce_q, err);
    sa_tensor_free(target);
    return rc;
}

const sa__method_impl sa__method_rpl = {
    .name = "rpl",
    .summary = "robust pseudo-labels: GCE (q) on the argmax of the same forward pass",
    .norm = SA_NORM_BATCH,
    .loss = rpl_loss,
};
