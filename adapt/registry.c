/* Method registry, the shared step loop and teacher maintenance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const sa__method_impl *const methods[] = {
    &sa__method_source, &sa__method_bn,      &sa__method_bn_alpha, &sa__method_bn_ema,
    &sa__method_ent,    &sa__method_hard_pl, &sa__method_soft_pl,  &sa__method_rpl,
};
#define N_METHODS (sizeof methods / sizeof methods[0])

static const char *const names[N_METHODS + 1] = {"source",  "bn",      "bn_alpha", "bn_ema", "ent",
                                                 "hard_pl", "soft_pl", "rpl",      NULL};

struct sa_method {
    const sa__method_impl *impl;
    sa_method_options opt;
    sa_model *model;     /* borrowed: the student */
    sa_state *initial;   /* student state at creation */
    sa_optim *optim;     /* NULL for methods that do not learn */
    sa_model *teacher;   /* separate teacher, or NULL (SA_TEACHER_STEP) */
    sa_tensor *select;   /* logit columns kept, or NULL */
    long steps;          /* optimisation steps since the last reset */
};

/* Forward through `model` and keep the selected logit columns. */
static int forward(const sa_method *m, sa_model *model, const sa_tensor *x, int grad,
                   sa_tensor **out, sa_error *err)
{
    sa_tensor *full = NULL;
    int rc = sa_model_forward(model, x, grad, &full, err);
    if (rc < 0 || !m->select) {
        *out = full;
        return rc;
    }
    rc = sa_tensor_index_select(out, full, 1, m->select, err);
    sa_tensor_free(full);
    return rc;
}

static const sa__method_impl *find(const char *kind)
{
    for (size_t i = 0; kind && i < N_METHODS; i++)
        if (strcmp(methods[i]->name, kind) == 0)
            return methods[i];
    return NULL;
}

const char *const *sa_method_names(void)
{
    return names;
}

int sa_method_check_kind(const char *kind, sa_error *err)
{
    if (find(kind))
        return 0;
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < N_METHODS; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        if (w > 0 && (size_t)w < sizeof list - used)
            used += (size_t)w;
    }
    return sa_error_set(err, SA_EINVAL, "adapt", "unknown method '%s' (expected one of: %s)",
                        kind ? kind : "", list);
}

const char *sa_method_summary(const char *kind)
{
    const sa__method_impl *impl = find(kind);
    return impl ? impl->summary : NULL;
}

int sa_method_learns(const char *kind)
{
    const sa__method_impl *impl = find(kind);
    return impl && impl->loss != NULL;
}

int sa_method_uses_teacher(const char *kind)
{
    const sa__method_impl *impl = find(kind);
    return impl && impl->uses_teacher;
}

int sa_teacher_mode_parse(sa_teacher_mode *out, const char *name, sa_error *err)
{
    static const char *const modes[] = {"step", "every", "epoch", "ema"};
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, modes[i]) == 0) {
            *out = (sa_teacher_mode)i;
            return 0;
        }
    return sa_error_set(err, SA_EINVAL, "adapt",
                        "unknown teacher refresh '%s' (expected step, every, epoch or ema)",
                        name ? name : "");
}

sa_method_options sa_method_options_default(const char *kind)
{
    sa_method_options o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.gce_q = 0.8;
    o.temperature = 1.0;
    o.bn_alpha = 0.5;
    o.params = SA_TRAIN_NORM_AFFINE;
    o.optim = sa_optim_options_default(SA_OPTIM_SGD);
    o.steps_per_batch = 1;
    o.teacher = SA_TEACHER_STEP;
    o.teacher_every = 1;
    o.teacher_momentum = 0.999;
    return o;
}

static int has_teacher_model(const sa_method *m)
{
    return m->impl->uses_teacher && m->opt.teacher != SA_TEACHER_STEP;
}

/* Fresh optimiser and a teacher equal to the student. */
static int restart(sa_method *m, sa_error *err)
{
    sa_optim_free(m->optim);
    m->optim = NULL;
    m->steps = 0;
    if (m->impl->loss) {
        int rc = sa_optim_new(&m->optim, m->model, &m->opt.optim, err);
        if (rc < 0)
            return rc;
    }
    if (m->teacher)
        return sa_model_copy_from(m->teacher, m->model, err);
    return 0;
}

static int check_options(const sa_method_options *o, sa_error *err)
{
    if (o->steps_per_batch < 1)
        return sa_error_set(err, SA_EINVAL, "adapt", "steps per batch must be >= 1 (got %d)",
                            o->steps_per_batch);
    if (!(o->temperature > 0.0))
        return sa_error_set(err, SA_EINVAL, "adapt", "temperature must be > 0 (got %g)",
                            o->temperature);
    if (o->teacher == SA_TEACHER_EVERY && o->teacher_every < 1)
        return sa_error_set(err, SA_EINVAL, "adapt", "teacher refresh interval must be >= 1 (got %d)",
                            o->teacher_every);
    if (!(o->teacher_momentum >= 0.0 && o->teacher_momentum <= 1.0))
        return sa_error_set(err, SA_EINVAL, "adapt", "teacher momentum %g outside [0, 1]",
                            o->teacher_momentum);
    return 0;
}

int sa_method_new(sa_method **out, const sa_method_options *o, sa_model *model, sa_error *err)
{
    int rc = sa_method_check_kind(o->kind, err);
    if (rc == 0)
        rc = check_options(o, err);
    if (rc < 0)
        return rc;
    sa_method *m = calloc(1, sizeof *m);
    if (!m)
        return sa_error_set(err, SA_ENOMEM, "adapt", "out of memory");
    m->impl = find(o->kind);
    m->opt = *o;
    m->opt.logit_index = NULL; /* the copy lives in m->select */
    m->model = model;
    if (o->logit_index && o->n_logit_index > 0) {
        int64_t shape[1] = {o->n_logit_index};
        if ((rc = sa_tensor_from_i64(&m->select, o->logit_index, shape, 1, sa_model_device(model),
                                     err)) < 0)
            goto fail;
    }
    if ((rc = sa_model_set_norm_mode(model, m->impl->norm, o->bn_alpha, err)) < 0)
        goto fail;
    if ((rc = sa_model_select_trainable(model, m->impl->loss ? o->params : SA_TRAIN_NONE,
                                        o->param_pattern, NULL, err)) < 0)
        goto fail;
    if ((rc = sa_model_state_save(model, &m->initial, err)) < 0)
        goto fail;
    if (has_teacher_model(m)) {
        if ((rc = sa_model_clone(&m->teacher, model, err)) < 0)
            goto fail;
        /* The teacher never learns: no gradients through it. */
        if ((rc = sa_model_select_trainable(m->teacher, SA_TRAIN_NONE, NULL, NULL, err)) < 0)
            goto fail;
    }
    if ((rc = restart(m, err)) < 0)
        goto fail;
    *out = m;
    return 0;
fail:
    sa_error_prefix(err, "method %s", o->kind);
    sa_method_free(m);
    return rc;
}

void sa_method_free(sa_method *m)
{
    if (!m)
        return;
    sa_optim_free(m->optim);
    sa_model_free(m->teacher);
    sa_state_free(m->initial);
    sa_tensor_free(m->select);
    free(m);
}

sa_model *sa_method_model(sa_method *m)
{
    return m->model;
}

int sa_method_reset(sa_method *m, sa_error *err)
{
    int rc = sa_model_state_load(m->model, m->initial, err);
    if (rc < 0)
        return rc;
    return restart(m, err);
}

static int argmax_to(const sa_tensor *logits, int64_t *pred, size_t n, sa_error *err)
{
    sa_tensor *am = NULL;
    int rc = sa_tensor_argmax(&am, logits, 1, err);
    if (rc == 0)
        rc = sa_tensor_to_i64(am, pred, n, err);
    sa_tensor_free(am);
    return rc;
}

int sa_method_predict(sa_method *m, const sa_tensor *x, int64_t *pred, size_t n, sa_error *err)
{
    /* bn_ema normalises with its stored statistics: evaluate with them as
     * they are, without updating them on the evaluation data. */
    int switched = m->impl->norm == SA_NORM_EMA;
    int rc = 0;
    if (switched)
        rc = sa_model_set_norm_mode(m->model, SA_NORM_SOURCE, 0.0, err);
    sa_tensor *logits = NULL;
    if (rc == 0)
        rc = forward(m, m->model, x, 0, &logits, err);
    if (rc == 0)
        rc = argmax_to(logits, pred, n, err);
    sa_tensor_free(logits);
    if (switched) {
        sa_error ignore = {0};
        sa_model_set_norm_mode(m->model, m->impl->norm, m->opt.bn_alpha, rc < 0 ? &ignore : err);
    }
    return rc;
}

static int after_update(sa_method *m, sa_error *err)
{
    m->steps++;
    if (!m->teacher)
        return 0;
    if (m->opt.teacher == SA_TEACHER_EVERY && m->steps % m->opt.teacher_every == 0)
        return sa_model_copy_from(m->teacher, m->model, err);
    if (m->opt.teacher == SA_TEACHER_EMA)
        return sa_model_ema_from(m->teacher, m->model, m->opt.teacher_momentum, err);
    return 0;
}

int sa_method_epoch_end(sa_method *m, sa_error *err)
{
    if (m->teacher && m->opt.teacher == SA_TEACHER_EPOCH)
        return sa_model_copy_from(m->teacher, m->model, err);
    return 0;
}

int sa_method_step(sa_method *m, const sa_tensor *x, int64_t *pred, size_t n,
                   sa_step_stats *stats, sa_error *err)
{
    const int learns = m->impl->loss != NULL;
    if (stats) {
        stats->loss = 0.0;
        stats->updated = 0;
    }
    for (int s = 0; s < m->opt.steps_per_batch; s++) {
        sa_tensor *logits = NULL, *tlogits = NULL, *detached = NULL, *loss = NULL;
        int rc = forward(m, m->model, x, learns, &logits, err);
        if (rc == 0 && s == 0)
            rc = argmax_to(logits, pred, n, err);
        if (rc < 0 || !learns) {
            sa_tensor_free(logits);
            return rc;
        }
        const sa_tensor *targets = NULL;
        if (m->impl->uses_teacher) {
            if (m->teacher) {
                rc = forward(m, m->teacher, x, 0, &tlogits, err);
                targets = tlogits;
            } else {
                rc = sa_tensor_detach(&detached, logits, err);
                targets = detached;
            }
        }
        double value = 0.0;
        if (rc == 0)
            rc = m->impl->loss(&m->opt, logits, targets, &loss, err);
        if (rc == 0)
            rc = sa_tensor_item(loss, &value, err);
        if (rc == 0 && !isfinite(value))
            rc = sa_error_set(err, SA_ENUM, "adapt", "%s loss is %g: stopping before the update",
                              m->impl->name, value);
        if (rc == 0)
            rc = sa_optim_zero_grad(m->optim, err);
        if (rc == 0)
            rc = sa_tensor_backward(loss, err);
        if (rc == 0)
            rc = sa_optim_step(m->optim, err);
        if (rc == 0)
            rc = after_update(m, err);
        sa_tensor_free(loss);
        sa_tensor_free(detached);
        sa_tensor_free(tlogits);
        sa_tensor_free(logits);
        if (rc < 0)
            return rc;
        if (stats && s == 0) {
            stats->loss = value;
            stats->updated = 1;
        }
    }
    return 0;
}
