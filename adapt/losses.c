#include "losses.h"

/* Temporaries of one loss computation, released together. */
typedef struct pool {
    sa_tensor *t[16];
    int n;
} pool;

static sa_tensor *keep(pool *p, sa_tensor *t)
{
    p->t[p->n++] = t;
    return t;
}

static void drain(pool *p)
{
    for (int i = 0; i < p->n; i++)
        sa_tensor_free(p->t[i]);
    p->n = 0;
}

int sa_loss_entropy(sa_tensor **out, const sa_tensor *logits, sa_error *err)
{
    pool p = {0};
    sa_tensor *prob = NULL, *logp = NULL, *plogp = NULL, *h = NULL, *m = NULL;
    int rc;
    if ((rc = sa_tensor_softmax(&prob, logits, 1, err)) < 0)
        goto done;
    keep(&p, prob);
    if ((rc = sa_tensor_log_softmax(&logp, logits, 1, err)) < 0)
        goto done;
    keep(&p, logp);
    if ((rc = sa_tensor_mul(&plogp, prob, logp, err)) < 0)
        goto done;
    keep(&p, plogp);
    if ((rc = sa_tensor_sum_dim(&h, plogp, 1, 0, err)) < 0)
        goto done;
    keep(&p, h);
    if ((rc = sa_tensor_mean(&m, h, err)) < 0)
        goto done;
    keep(&p, m);
    rc = sa_tensor_neg(out, m, err);
done:
    drain(&p);
    return rc;
}

int sa_loss_gce(sa_tensor **out, const sa_tensor *logits, const sa_tensor *target, double q,
                sa_error *err)
{
    if (!(q > 0.0 && q <= 1.0))
        return sa_error_set(err, SA_EINVAL, "adapt", "GCE q must be in (0, 1], got %g", q);
    pool p = {0};
    sa_tensor *prob = NULL, *idx = NULL, *py = NULL, *pq = NULL, *m = NULL, *neg = NULL,
              *one_minus = NULL;
    int rc;
    if ((rc = sa_tensor_softmax(&prob, logits, 1, err)) < 0)
        goto done;
    keep(&p, prob);
    if ((rc = sa_tensor_unsqueeze(&idx, target, 1, err)) < 0)
        goto done;
    keep(&p, idx);
    if ((rc = sa_tensor_gather(&py, prob, 1, idx, err)) < 0)
        goto done;
    keep(&p, py);
    if ((rc = sa_tensor_pow_scalar(&pq, py, q, err)) < 0)
        goto done;
    keep(&p, pq);
    if ((rc = sa_tensor_mean(&m, pq, err)) < 0)
        goto done;
    keep(&p, m);
    /* mean((1 - p^q) / q) = (1 - mean(p^q)) / q */
    if ((rc = sa_tensor_neg(&neg, m, err)) < 0)
        goto done;
    keep(&p, neg);
    if ((rc = sa_tensor_add_scalar(&one_minus, neg, 1.0, err)) < 0)
        goto done;
    keep(&p, one_minus);
    rc = sa_tensor_mul_scalar(out, one_minus, 1.0 / q, err);
done:
    drain(&p);
    return rc;
}
