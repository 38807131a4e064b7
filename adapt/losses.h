/* losses.h - self-learning losses over logits (N x K), each returning the
 * mean over the batch as a scalar tensor (caller frees). */
#ifndef SA_ADAPT_LOSSES_H
#define SA_ADAPT_LOSSES_H

#include "torch.h"

/* Mean Shannon entropy of softmax(logits): -sum_k p_k log p_k. */
int sa_loss_entropy(sa_tensor **out, const sa_tensor *logits, sa_error *err);
/* Cross-entropy towards class ids `target` (N, int64): -log p_y. */
int sa_loss_ce_hard(sa_tensor **out, const sa_tensor *logits, const sa_tensor *target,
                    sa_error *err);
/* Cross-entropy towards a distribution `probs` (N x K): -sum_k q_k log p_k. */
int sa_loss_ce_soft(sa_tensor **out, const sa_tensor *logits, const sa_tensor *probs,
                    sa_error *err);
/* Generalized cross-entropy (Zhang & Sabuncu 2018) towards the class ids in
 * `target` (N, int64): (1 - p_y^q) / q. q -> 0 recovers cross-entropy. */
int sa_loss_gce(sa_tensor **out, const sa_tensor *logits, const sa_tensor *target, double q,
                sa_error *err);

#endif
