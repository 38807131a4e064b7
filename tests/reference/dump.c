/* Dump selfadapt's behaviour on fixed batches for the independent Python
 * reference (tests/reference/reference.py):
 *   <out>/batches.bin          int32 count, n, c, h, w; then per batch n*c*h*w
 *                              float32 (NCHW) and n int64 labels
 *   <out>/<case>.preds         int64 predictions: every adaptation epoch's
 *                              batches in order, then the final pass
 *   <out>/<case>.pt            the adapted model (TorchScript)
 * The cases (method and hyper-parameters) are listed in cases.h and read by
 * the Python side from the same file.
 * usage: reference_dump MODEL.pt FMNIST_DIR OUT_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "data.h"
#include "torch.h"

#include "cases.h"

#define N_BATCHES 4
#define BATCH 64

static int fail(const sa_error *e)
{
    fprintf(stderr, "reference_dump: %s\n", e->msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: reference_dump MODEL.pt FMNIST_DIR OUT_DIR\n");
        return 2;
    }
    const char *model_path = argv[1], *out = argv[3];
    sa_torch_set_threads(1);
    sa_error e = {0};
    sa_source *src = NULL;
    if (sa_source_open_fmnist(&src, argv[2], "test", &e) < 0)
        return fail(&e);
    sa_loader_options lo = sa_loader_options_default();
    lo.batch_size = BATCH;
    lo.limit = N_BATCHES * BATCH;
    lo.shuffle = 0;
    lo.corrupt = 1;
    lo.corruption = SA_CORRUPT_GAUSSIAN_NOISE;
    lo.severity = 5;
    lo.threads = 1;
    sa_loader *ld = NULL;
    if (sa_loader_new(&ld, src, &lo, &e) < 0)
        return fail(&e);
    sa_tensor *x[N_BATCHES];
    char path[4096];
    snprintf(path, sizeof path, "%s/batches.bin", out);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    sa_batch b = {0};
    for (int k = 0; k < N_BATCHES; k++) {
        if (sa_loader_next(ld, &b, &e) <= 0)
            return fail(&e);
        if (k == 0) {
            int32_t head[5] = {N_BATCHES, b.n, b.c, b.h, b.w};
            fwrite(head, sizeof head, 1, f);
        }
        size_t count = (size_t)b.n * (size_t)b.c * (size_t)b.h * (size_t)b.w;
        fwrite(b.x, sizeof(float), count, f);
        fwrite(b.labels, sizeof(int64_t), (size_t)b.n, f);
        int64_t shape[4] = {b.n, b.c, b.h, b.w};
        if (sa_tensor_from_f32(&x[k], b.x, shape, 4, SA_DEVICE_CPU, &e) < 0)
            return fail(&e);
    }
    fclose(f);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const ref_case *rc = &cases[c];
        sa_model *m = NULL;
        if (sa_model_load(&m, model_path, SA_DEVICE_CPU, &e) < 0)
            return fail(&e);
        sa_method_options o = sa_method_options_default(rc->method);
        sa_optim_kind_parse(&o.optim.kind, rc->optimizer, NULL);
        o.optim = sa_optim_options_default(o.optim.kind);
        o.optim.lr = rc->lr;
        if (o.optim.kind == SA_OPTIM_SGD)
            o.optim.momentum = rc->momentum;
        o.optim.nesterov = rc->nesterov;
        o.optim.weight_decay = rc->weight_decay;
        o.gce_q = rc->q;
        o.temperature = rc->temperature;
        o.bn_alpha = rc->alpha;
        o.steps_per_batch = rc->steps;
        sa_teacher_mode_parse(&o.teacher, rc->teacher, NULL);
        o.teacher_every = rc->teacher_every;
        o.teacher_momentum = rc->teacher_momentum;
        sa_method *meth = NULL;
        if (sa_method_new(&meth, &o, m, &e) < 0)
            return fail(&e);
        snprintf(path, sizeof path, "%s/%s.preds", out, rc->name);
        FILE *pf = fopen(path, "wb");
        if (!pf) {
            perror(path);
            return 1;
        }
        int64_t pred[BATCH];
        for (int epoch = 0; epoch < rc->epochs; epoch++) {
            for (int k = 0; k < N_BATCHES; k++) {
                if (sa_method_step(meth, x[k], pred, BATCH, NULL, &e) < 0)
                    return fail(&e);
                fwrite(pred, sizeof pred[0], BATCH, pf);
            }
            if (sa_method_epoch_end(meth, &e) < 0)
                return fail(&e);
        }
        for (int k = 0; k < N_BATCHES; k++) {
            if (sa_method_predict(meth, x[k], pred, BATCH, &e) < 0)
                return fail(&e);
            fwrite(pred, sizeof pred[0], BATCH, pf);
        }
        fclose(pf);
        snprintf(path, sizeof path, "%s/%s.pt", out, rc->name);
        if (sa_model_save(m, path, &e) < 0)
            return fail(&e);
        sa_method_free(meth);
        sa_model_free(m);
    }
    for (int k = 0; k < N_BATCHES; k++)
        sa_tensor_free(x[k]);
    sa_batch_free(&b);
    sa_loader_free(ld);
    sa_source_free(src);
    return 0;
}
