/* adapt.h - test-time adaptation methods over the torch shim.
 *
 *     sa_method_options o = sa_method_options_default("rpl");
 *     o.sgd.lr = 0.001;
 *     sa_method *m = NULL;
 *     if (sa_method_new(&m, &o, model, &err) < 0) ...;   // model is borrowed
 *     for each batch x (N x C x H x W on the model's device):
 *         sa_method_step(m, x, pred, N, &stats, &err);  // pred: N class ids
 *     sa_method_reset(m, &err);                        // back to the source model
 *     sa_method_free(m);
 *
 * A step predicts the batch and then, for methods that learn, updates the
 * model on it: the predictions written to `pred` are always those made
 * before that batch's update (online evaluation).
 *
 * Methods (sa_method_names lists them):
 *   source  the unadapted model, source statistics
 *   bn      BatchNorm with the statistics of each test batch, no learning
 *   ent     test-batch statistics + entropy minimisation (TENT)
 *   rpl     test-batch statistics + generalized cross-entropy (q) on the
 *           argmax of the same forward pass (robust pseudo-labelling)
 *
 * The method adapts the model it is given in place; it saves the model's
 * state at creation and sa_method_reset restores it (and the optimiser).
 * adapt/ sees only tensors: no files, no images, no YAML.
 */
#ifndef SA_ADAPT_H
#define SA_ADAPT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "torch.h"

typedef struct sa_method_options {
    const char *kind;          /* "source", "bn", "ent", "rpl" (borrowed) */
    double gce_q;              /* rpl: GCE exponent q in (0, 1]; default 0.8 */
    sa_train_set params;       /* which parameters learn; default SA_TRAIN_NORM_AFFINE */
    const char *param_pattern; /* for SA_TRAIN_PATTERN (borrowed) */
    sa_sgd_options sgd;        /* optimiser; default lr 0.001, momentum 0.9 */
    int steps_per_batch;       /* optimisation steps per test batch; default 1 */
} sa_method_options;

sa_method_options sa_method_options_default(const char *kind);

typedef struct sa_method sa_method;

typedef struct sa_step_stats {
    double loss;      /* loss of the (first) update on this batch; 0 for methods that don't learn */
    int updated;      /* 1 if parameters were updated */
} sa_step_stats;

/* Validate a method name; the error lists the valid ones. */
int sa_method_check_kind(const char *kind, sa_error *err);
/* NULL-terminated list of method names. */
const char *const *sa_method_names(void);
/* One-line description of a method, NULL if unknown. */
const char *sa_method_summary(const char *kind);
/* 1 if the method updates parameters. */
int sa_method_learns(const char *kind);

int sa_method_new(sa_method **out, const sa_method_options *o, sa_model *model, sa_error *err);
void sa_method_free(sa_method *m);
/* Restore the model saved at creation and a fresh optimiser state. */
int sa_method_reset(sa_method *m, sa_error *err);
/* Predict (into pred[0..n-1]) then adapt on batch x (n images). A loss that is
 * not finite stops with SA_ENUM before any parameter changes. */
int sa_method_step(sa_method *m, const sa_tensor *x, int64_t *pred, size_t n,
                   sa_step_stats *stats, sa_error *err);

#endif
