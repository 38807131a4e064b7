#include "losses.h"

/* Temporaries of one loss computation, released together. */
typedef struct pool {
    sa_tensor *t[16];
    int n;
} pool;

static void drain(pool *p)
{
    for (int i = 0; i < p->n; i++)
        sa_tensor_free(p->t[i]);
    p->n = 0;
}

/* Run one vocabulary call producing `var`, keep it in the pool, bail out on error. */
#define STEP(var, call)                 \
    do {                                \
        if ((rc = (call)) < 0)          \
            goto done;                  \
        p.t[p.n++] = (var);             \
    } while (0)

int sa_loss_entropy(sa_tensor **out, const sa_tensor *logits, sa_error *err)
{
    pool p = {0};
    sa_tensor *prob, *logp, *plogp, *h, *m;
    int rc;
    STEP(prob, sa_tensor_softmax(&prob, logits, 1, err));
    STEP(logp, sa_tensor_log_softmax(&logp, logits, 1, err));
    STEP(plogp, sa_tensor_mul(&plogp, prob, logp, err));
    STEP(h, sa_tensor_sum_dim(&h, plogp, 1, 0, err));
    STEP(m, sa_tensor_mean(&m, h, err));
    rc = sa_tensor_neg(out, m, err);
done:
    drain(&p);
    return rc;
}

int sa_loss_ce_hard(sa_tensor **out, const sa_tensor *logits, const sa_tensor *target,
                    sa_error *err)
{
    pool p = {0};
    sa_tensor *logp, *idx, *ly, *m;
    int rc;
    STEP(logp, sa_tensor_log_softmax(&logp, logits, 1, err));
    STEP(idx, sa_tensor_unsqueeze(&idx, target, 1, err));
    STEP(ly, sa_tensor_gather(&ly, logp, 1, idx, err));
    STEP(m, sa_tensor_mean(&m, ly, err));
    rc = sa_tensor_neg(out, m, err);
done:
    drain(&p);
    return rc;
}

int sa_loss_ce_soft(sa_tensor **out, const sa_tensor *logits, const sa_tensor *probs,
                    sa_error *err)
{
    pool p = {0};
    sa_tensor *logp, *qlogp, *s, *m;
    int rc;
    STEP(logp, sa_tensor_log_softmax(&logp, logits, 1, err));
    STEP(qlogp, sa_tensor_mul(&qlogp, probs, logp, err));
    STEP(s, sa_tensor_sum_dim(&s, qlogp, 1, 0, err));
    STEP(m, sa_tensor_mean(&m, s, err));
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
    sa_tensor *prob, *idx, *py, *pq, *m, *neg, *one_minus;
    int rc;
    STEP(prob, sa_tensor_softmax(&prob, logits, 1, err));
    STEP(idx, sa_tensor_unsqueeze(&idx, target, 1, err));
    STEP(py, sa_tensor_gather(&py, prob, 1, idx, err));
    STEP(pq, sa_tensor_pow_scalar(&pq, py, q, err));
    STEP(m, sa_tensor_mean(&m, pq, err));
    /* mean((1 - p^q) / q) = (1 - mean(p^q)) / q */
    STEP(neg, sa_tensor_neg(&neg, m, err));
    STEP(one_minus, sa_tensor_add_scalar(&one_minus, neg, 1.0, err));
    rc = sa_tensor_mul_scalar(out, one_minus, 1.0 / q, err);
done:
    drain(&p);
    return rc;
}
