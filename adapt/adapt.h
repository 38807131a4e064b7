/* adapt.h - test-time adaptation methods over the torch shim.
 *
 *     sa_method_options o = sa_method_options_default("rpl");
 *     o.optim.lr = 0.001;
 *     sa_method *m = NULL;
 *     if (sa_method_new(&m, &o, model, &err) < 0) ...;   // model is borrowed
 *     for each epoch:
 *         for each batch x (N x C x H x W on the model's device):
 *             sa_method_step(m, x, pred, N, &stats, &err);  // pred: N class ids
 *         sa_method_epoch_end(m, &err);
 *     sa_method_predict(m, x, pred, N, &err);          // evaluation without update
 *     sa_method_reset(m, &err);                        // back to the source model
 *     sa_method_free(m);
 *
 * With logit_index set, the model's outputs are first restricted to those
 * columns: predictions are positions in that list, losses see only them.
 *
 * A step predicts the batch and then, for methods that learn, updates the
 * model on it: the predictions written to `pred` are always the student's,
 * made before that batch's update (online evaluation).
 *
 * Methods (sa_method_names lists them):
 *   source    the unadapted model, stored statistics
 *   bn        BatchNorm with the statistics of each test batch, no learning
 *   bn_alpha  BatchNorm with alpha * stored + (1 - alpha) * test-batch statistics
 *   bn_ema    stored BatchNorm statistics updated by every test batch, then used
 *   ent       test-batch statistics + entropy minimisation (TENT)
 *   hard_pl   test-batch statistics + cross-entropy on the teacher's argmax
 *   soft_pl   test-batch statistics + cross-entropy on the teacher's softmax (temperature)
 *   rpl       test-batch statistics + generalized cross-entropy (q) on the teacher's argmax
 *
 * Teachers (for hard_pl, soft_pl, rpl): SA_TEACHER_STEP takes the pseudo-labels
 * from the student's own forward pass (the teacher is the current student);
 * the others keep a separate teacher model, run without gradients in the
 * same normalisation mode, refreshed every N optimisation steps, at the end
 * of every epoch, or as an exponential moving average of the student after
 * every step.
 *
 * The method adapts the model it is given in place; it saves the model's
 * state at creation and sa_method_reset restores it (and the optimiser and
 * the teacher). adapt/ sees only tensors: no files, no images, no YAML.
 */
#ifndef SA_ADAPT_H
#define SA_ADAPT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "torch.h"

typedef enum sa_teacher_mode {
    SA_TEACHER_STEP = 0, /* pseudo-labels from the same forward pass */
    SA_TEACHER_EVERY,    /* copy of the student, refreshed every `teacher_every` steps */
    SA_TEACHER_EPOCH,    /* copy of the student, refreshed at every epoch end */
    SA_TEACHER_EMA,      /* teacher = m * teacher + (1 - m) * student after every step */
} sa_teacher_mode;

typedef struct sa_method_options {
    const char *kind;            /* a name from sa_method_names() (borrowed) */
    double gce_q;                /* rpl: GCE exponent q in (0, 1]; default 0.8 */
    double temperature;          /* soft_pl: teacher softmax temperature; default 1 */
    double bn_alpha;             /* bn_alpha: weight of the stored statistics; default 0.5 */
    sa_train_set params;         /* which parameters learn; default SA_TRAIN_NORM_AFFINE */
    const char *param_pattern;   /* for SA_TRAIN_PATTERN (borrowed) */
    sa_optim_options optim;      /* default SGD lr 0.001, momentum 0.9 */
    int steps_per_batch;         /* optimisation steps per test batch; default 1 */
    sa_teacher_mode teacher;     /* default SA_TEACHER_STEP */
    int teacher_every;           /* SA_TEACHER_EVERY: steps between refreshes; default 1 */
    double teacher_momentum;     /* SA_TEACHER_EMA: default 0.999 */
    const int64_t *logit_index;  /* if set: keep only these output columns (e.g. the 200
                                    ImageNet-R classes of a 1000-way model) for predictions
                                    and losses; borrowed, copied at creation */
    int n_logit_index;
} sa_method_options;

sa_method_options sa_method_options_default(const char *kind);

typedef struct sa_method sa_method;

typedef struct sa_step_stats {
    double loss;      /* loss of the first update on this batch; 0 for methods that don't learn */
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
/* 1 if the method takes pseudo-labels from a teacher. */
int sa_method_uses_teacher(const char *kind);
int sa_teacher_mode_parse(sa_teacher_mode *out, const char *name, sa_error *err);

int sa_method_new(sa_method **out, const sa_method_options *o, sa_model *model, sa_error *err);
void sa_method_free(sa_method *m);
/* Restore the model saved at creation, a fresh optimiser and teacher. */
int sa_method_reset(sa_method *m, sa_error *err);
/* Predict (into pred[0..n-1]) then adapt on batch x (n images). A loss that is
 * not finite stops with SA_ENUM before any parameter changes. */
int sa_method_step(sa_method *m, const sa_tensor *x, int64_t *pred, size_t n,
                   sa_step_stats *stats, sa_error *err);
/* Predict without adapting (a final evaluation pass). Methods that update
 * stored statistics (bn_ema) use them without updating them here. */
int sa_method_predict(sa_method *m, const sa_tensor *x, int64_t *pred, size_t n, sa_error *err);
/* End of an epoch over the target data (refreshes an epoch teacher). */
int sa_method_epoch_end(sa_method *m, sa_error *err);
/* The model being adapted (borrowed). */
sa_model *sa_method_model(sa_method *m);

#endif
