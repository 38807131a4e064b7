/* Method registry and the shared step loop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const sa__method_impl *const methods[] = {
    &sa__method_source,
    &sa__method_bn,
    &sa__method_ent,
    &sa__method_rpl,
};
#define N_METHODS (sizeof methods / sizeof methods[0])

static const char *const names[N_METHODS + 1] = {"source", "bn", "ent", "rpl", NULL};

struct sa_method {
    const sa__method_impl *impl;
    sa_method_options opt;
    sa_model *model;     /* borrowed */
    sa_state *initial;   /* model state at creation */
    sa_optim *optim;     /* NULL for methods that do not learn */
};

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

sa_method_options sa_method_options_default(const char *kind)
{
    sa_method_options o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.gce_q = 0.8;
    o.params = SA_TRAIN_NORM_AFFINE;
    o.param_pattern = NULL;
    o.sgd = sa_sgd_options_default();
    o.steps_per_batch = 1;
    return o;
}

static int make_optim(sa_method *m, sa_error *err)
{
    sa_optim_free(m->optim);
    m->optim = NULL;
    if (!m->impl->loss)
        return 0;
    return sa_optim_sgd_new(&m->optim, m->model, &m->opt.sgd, err);
}

int sa_method_new(sa_method **out, const sa_method_options *o, sa_model *model, sa_error *err)
{
    int rc = sa_method_check_kind(o->kind, err);
    if (rc < 0)
        return rc;
    if (o->steps_per_batch < 1)
        return sa_error_set(err, SA_EINVAL, "adapt", "steps per batch must be >= 1 (got %d)",
                            o->steps_per_batch);
    sa_method *m = calloc(1, sizeof *m);
    if (!m)
        return sa_error_set(err, SA_ENOMEM, "adapt", "out of memory");
    m->impl = find(o->kind);
    m->opt = *o;
    m->model = model;
    if ((rc = sa_model_set_norm_mode(model, m->impl->norm, err)) < 0)
        goto fail;
    if ((rc = sa_model_select_trainable(model, m->impl->loss ? o->params : SA_TRAIN_NONE,
                                        o->param_pattern, NULL, err)) < 0)
        goto fail;
    if ((rc = sa_model_state_save(model, &m->initial, err)) < 0)
        goto fail;
    if ((rc = make_optim(m, err)) < 0)
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
    sa_state_free(m->initial);
    free(m);
}

int sa_method_reset(sa_method *m, sa_error *err)
{
    int rc = sa_model_state_load(m->model, m->initial, err);
    if (rc < 0)
        return rc;
    return make_optim(m, err);
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
        sa_tensor *logits = NULL, *loss = NULL;
        int rc = sa_model_forward(m->model, x, learns, &logits, err);
        if (rc < 0)
            return rc;
        if (s == 0) {
            sa_tensor *am = NULL;
            rc = sa_tensor_argmax(&am, logits, 1, err);
            if (rc == 0)
                rc = sa_tensor_to_i64(am, pred, n, err);
            sa_tensor_free(am);
            if (rc < 0) {
                sa_tensor_free(logits);
                return rc;
            }
        }
        if (!learns) {
            sa_tensor_free(logits);
            return 0;
        }
        double value = 0.0;
        rc = m->impl->loss(&m->opt, logits, &loss, err);
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
        sa_tensor_free(loss);
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
