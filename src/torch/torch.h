/* torch.h - the C API over libtorch. Pure C; torch.cpp is its only definition.
 *
 *     sa_error err = {0};
 *     sa_model *m = NULL;
 *     if (sa_model_load(&m, "models/fmnist_resnet20.pt", SA_DEVICE_CPU, &err) < 0) ...
 *     sa_model_select_trainable(m, SA_TRAIN_NORM_AFFINE, NULL, &info, &err);
 *     sa_model_set_norm_mode(m, SA_NORM_BATCH, &err);
 *     sa_tensor *x = NULL, *logits = NULL;
 *     int64_t shape[4] = {n, 3, 32, 32};
 *     sa_tensor_from_f32(&x, pixels, shape, 4, sa_model_device(m), &err);
 *     sa_model_forward(m, x, 1, &logits, &err);     // 1: record gradients
 *     ... build a loss with the tensor vocabulary, sa_tensor_backward(loss) ...
 *     sa_tensor_free(logits); sa_tensor_free(x); sa_model_free(m);
 *
 * Ownership: every `sa_x **out` argument receives a new handle the caller owns
 * and releases with the matching sa_x_free (all accept NULL). Arguments
 * passed as `const` are borrowed for the duration of the call. A tensor
 * produced by an operation keeps its autograd history (and so the inputs it
 * depends on) alive until it is freed.
 *
 * Errors: every function returns 0 or a negative SA_E* code and fills `err`.
 * Every C++ exception (c10::Error, std::exception, anything else) is caught
 * at this boundary and becomes SA_ETORCH with libtorch's message (first line).
 *
 * Devices: SA_DEVICE_CPU (-1) or a CUDA index (0, 1, ...). Tensors created
 * for a model must be on its device (sa_model_device).
 *
 * Shapes: the vocabulary follows PyTorch's broadcasting rules; `dim` may be
 * negative (counted from the end) as in PyTorch.
 */
#ifndef SA_TORCH_H
#define SA_TORCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SA_DEVICE_CPU (-1)

typedef struct sa_tensor sa_tensor;
typedef struct sa_model sa_model;
typedef struct sa_optim sa_optim;
typedef struct sa_state sa_state;

/* ---- library ------------------------------------------------------------ */
/* "1.13.1" etc.: the libtorch this binary was built against. */
const char *sa_torch_version(void);
/* Number of CUDA devices visible (0 on CPU-only builds). */
int sa_torch_cuda_device_count(void);
/* Intra-op threads of libtorch's CPU kernels (process-wide: the CLI calls it). */
void sa_torch_set_threads(int n);
/* Make libtorch's CPU tensor memory reusable (process-wide, once; the run
 * engine calls it): freed blocks of 1 MiB and more are kept and handed out
 * again instead of being unmapped and faulted in afresh on every batch
 * (glibc maps such blocks one by one; a ResNet-50 training-mode pass at
 * batch 32 otherwise spends seconds of system time per batch zeroing new
 * pages). The process then holds at most the largest amount of such memory
 * ever in use at once. Tensors allocated before keep their own memory. */
int sa_torch_reuse_memory(sa_error *err);
/* Parse "cpu", "cuda" or "cuda:N" into a device number. */
int sa_torch_parse_device(int *out, const char *name, sa_error *err);
/* Seed libtorch's own generators (used by models with dropout etc.). */
void sa_torch_manual_seed(uint64_t seed);

/* ---- tensors ------------------------------------------------------------ */
/* Copy host data into a new tensor of the given shape on `device`. */
int sa_tensor_from_f32(sa_tensor **out, const float *data, const int64_t *shape, int ndim,
                       int device, sa_error *err);
int sa_tensor_from_i64(sa_tensor **out, const int64_t *data, const int64_t *shape, int ndim,
                       int device, sa_error *err);
void sa_tensor_free(sa_tensor *t);
int sa_tensor_ndim(const sa_tensor *t);
int64_t sa_tensor_dim_size(const sa_tensor *t, int dim); /* -1 if dim is out of range */
int64_t sa_tensor_numel(const sa_tensor *t);
/* Copy a tensor's values to host memory (converted to float / int64);
 * `n` is the capacity of dst in elements and must be >= numel. */
int sa_tensor_to_f32(const sa_tensor *t, float *dst, size_t n, sa_error *err);
int sa_tensor_to_i64(const sa_tensor *t, int64_t *dst, size_t n, sa_error *err);
/* Value of a one-element tensor. */
int sa_tensor_item(const sa_tensor *t, double *out, sa_error *err);

/* Vocabulary. Each returns a new tensor in *out. */
int sa_tensor_softmax(sa_tensor **out, const sa_tensor *a, int dim, sa_error *err);
int sa_tensor_log_softmax(sa_tensor **out, const sa_tensor *a, int dim, sa_error *err);
int sa_tensor_argmax(sa_tensor **out, const sa_tensor *a, int dim, sa_error *err);  /* int64 */
/* out[i][0] = a[i][index[i][0]] along dim (torch.gather). */
int sa_tensor_gather(sa_tensor **out, const sa_tensor *a, int dim, const sa_tensor *index,
                     sa_error *err);
int sa_tensor_sum(sa_tensor **out, const sa_tensor *a, sa_error *err);  /* all elements */
int sa_tensor_mean(sa_tensor **out, const sa_tensor *a, sa_error *err); /* all elements */
int sa_tensor_sum_dim(sa_tensor **out, const sa_tensor *a, int dim, int keepdim, sa_error *err);
int sa_tensor_mean_dim(sa_tensor **out, const sa_tensor *a, int dim, int keepdim, sa_error *err);
int sa_tensor_add(sa_tensor **out, const sa_tensor *a, const sa_tensor *b, sa_error *err);
int sa_tensor_sub(sa_tensor **out, const sa_tensor *a, const sa_tensor *b, sa_error *err);
int sa_tensor_mul(sa_tensor **out, const sa_tensor *a, const sa_tensor *b, sa_error *err);
int sa_tensor_div(sa_tensor **out, const sa_tensor *a, const sa_tensor *b, sa_error *err);
int sa_tensor_add_scalar(sa_tensor **out, const sa_tensor *a, double s, sa_error *err);
int sa_tensor_mul_scalar(sa_tensor **out, const sa_tensor *a, double s, sa_error *err);
int sa_tensor_pow_scalar(sa_tensor **out, const sa_tensor *a, double p, sa_error *err);
int sa_tensor_neg(sa_tensor **out, const sa_tensor *a, sa_error *err);
int sa_tensor_exp(sa_tensor **out, const sa_tensor *a, sa_error *err);
int sa_tensor_log(sa_tensor **out, const sa_tensor *a, sa_error *err);
int sa_tensor_unsqueeze(sa_tensor **out, const sa_tensor *a, int dim, sa_error *err);
/* Columns `index` (int64, 1-d) of a 2-d tensor: out[:, j] = a[:, index[j]]. */
int sa_tensor_index_select(sa_tensor **out, const sa_tensor *a, int dim, const sa_tensor *index,
                           sa_error *err);
/* A view without autograd history (torch.detach). */
int sa_tensor_detach(sa_tensor **out, const sa_tensor *a, sa_error *err);
/* loss.backward(): accumulate gradients into the trainable parameters. */
int sa_tensor_backward(const sa_tensor *loss, sa_error *err);

/* ---- models ------------------------------------------------------------- */
/* Load a TorchScript module (torch.jit.save) onto `device`. The model starts
 * in evaluation mode with every parameter frozen (no gradients). */
int sa_model_load(sa_model **out, const char *path, int device, sa_error *err);
void sa_model_free(sa_model *m);
int sa_model_device(const sa_model *m);
/* Independent deep copy (parameters, buffers, trainable set, norm mode). */
int sa_model_clone(sa_model **out, const sa_model *m, sa_error *err);

/* Which normalisation statistics BatchNorm layers use. */
typedef enum sa_norm_mode {
    SA_NORM_SOURCE = 0, /* stored running statistics (evaluation mode) */
    SA_NORM_BATCH = 1,  /* statistics of the current test batch; stored ones untouched */
    SA_NORM_MIX = 2,    /* alpha * stored + (1 - alpha) * test-batch statistics;
                           stored ones untouched (two forward passes) */
    SA_NORM_EMA = 3,    /* stored statistics updated with each test batch (the layer's
                           own momentum), then used to normalise (two forward passes) */
} sa_norm_mode;
/* `alpha` (weight of the stored statistics, 0..1) is used by SA_NORM_MIX only.
 * MIX takes each layer's test-batch statistics from a first pass in which the
 * network normalises with test-batch statistics (so upstream layers are
 * batch-normalised, not mixed, while they are measured), mixes them with the
 * stored ones (unbiased variance, as BatchNorm's running update), and
 * normalises with the mixture in a second pass. */
int sa_model_set_norm_mode(sa_model *m, sa_norm_mode mode, double alpha, sa_error *err);

typedef enum sa_train_set {
    SA_TRAIN_NONE = 0,
    SA_TRAIN_NORM_AFFINE, /* weight and bias of BatchNorm / GroupNorm / LayerNorm */
    SA_TRAIN_ALL,
    SA_TRAIN_LAST_LAYER,  /* parameters of the last module that owns parameters */
    SA_TRAIN_PATTERN,     /* parameters whose dotted name contains `pattern` */
} sa_train_set;

typedef struct sa_train_info {
    int n_norm_layers;    /* BatchNorm/GroupNorm/LayerNorm modules in the model */
    int n_tensors;        /* parameter tensors selected */
    int64_t n_elements;   /* scalars selected */
    int64_t n_total;      /* scalars in all parameters */
} sa_train_info;

/* Make exactly the chosen parameters trainable (requires_grad) and freeze the
 * rest. Selecting nothing (e.g. NORM_AFFINE on a model without normalisation
 * layers) is an error naming the set. `info` may be NULL. */
int sa_model_select_trainable(sa_model *m, sa_train_set set, const char *pattern,
                              sa_train_info *info, sa_error *err);
int sa_model_norm_layer_count(const sa_model *m);

/* Forward pass. grad = 0 runs without recording autograd history. */
int sa_model_forward(sa_model *m, const sa_tensor *input, int grad, sa_tensor **out, sa_error *err);

/* Snapshot every parameter and buffer; load it back (episodic / per-cell reset). */
int sa_model_state_save(const sa_model *m, sa_state **out, sa_error *err);
int sa_model_state_load(sa_model *m, const sa_state *s, sa_error *err);
void sa_state_free(sa_state *s);

/* Which tensors of the model differ (bit for bit) from a saved state. */
typedef struct sa_state_diff {
    int params_changed;           /* parameter tensors that differ */
    int trainable_changed;        /* of which currently trainable */
    int buffers_changed;          /* buffers (e.g. running statistics) that differ */
} sa_state_diff;
int sa_model_state_diff(const sa_model *m, const sa_state *ref, sa_state_diff *d, sa_error *err);
/* Teacher maintenance (models of the same architecture, e.g. a clone):
 * copy every parameter and buffer of src into dst; or move dst's floating
 * parameters towards src, dst = momentum * dst + (1 - momentum) * src, and
 * copy src's buffers. No gradients are recorded. */
int sa_model_copy_from(sa_model *dst, const sa_model *src, sa_error *err);
int sa_model_ema_from(sa_model *dst, const sa_model *src, double momentum, sa_error *err);

/* Save the model (as it is now) as TorchScript; atomic (temp file + rename). */
int sa_model_save(const sa_model *m, const char *path, sa_error *err);

/* ---- optimisers over a model's trainable parameters --------------------- */
typedef enum sa_optim_kind {
    SA_OPTIM_SGD = 0,
    SA_OPTIM_ADAM = 1,   /* L2 weight decay added to the gradient */
    SA_OPTIM_ADAMW = 2,  /* decoupled weight decay */
} sa_optim_kind;

typedef struct sa_optim_options {
    sa_optim_kind kind;
    double lr;           /* learning rate, e.g. 0.001 */
    double weight_decay; /* e.g. 0 */
    double momentum;     /* SGD: e.g. 0.9; 0 disables */
    double dampening;    /* SGD: 0 in the paper's settings */
    int nesterov;        /* SGD: Nesterov momentum (needs momentum > 0, dampening 0) */
    double beta1, beta2; /* Adam(W): 0.9, 0.999 */
    double eps;          /* Adam(W): 1e-8 */
} sa_optim_options;
/* SGD lr 0.001 momentum 0.9; Adam(W) lr 0.001 betas (0.9, 0.999) eps 1e-8
 * (AdamW weight decay 0.01, as PyTorch's default). */
sa_optim_options sa_optim_options_default(sa_optim_kind kind);
/* Parse "sgd", "adam", "adamw". */
int sa_optim_kind_parse(sa_optim_kind *out, const char *name, sa_error *err);

/* The optimiser holds the parameters that are trainable when it is created. */
int sa_optim_new(sa_optim **out, sa_model *m, const sa_optim_options *o, sa_error *err);
void sa_optim_free(sa_optim *o);
int sa_optim_zero_grad(sa_optim *o, sa_error *err);
int sa_optim_step(sa_optim *o, sa_error *err);

#ifdef __cplusplus
}
#endif

#endif
