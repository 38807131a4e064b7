/* Executing a run: models and methods, the cell loop, summaries. */
#include "run.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapt.h"
#include "corruptions.h"
#include "data.h"
#include "fs.h"
#include "splits.h"
#include "store.h"
#include "torch.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sa_run_options sa_run_options_default(void)
{
    sa_run_options o;
    memset(&o, 0, sizeof o);
    return o;
}

void sa_run_result_free(sa_run_result *r)
{
    if (!r)
        return;
    sa_table_free(r->table);
    free(r);
}

static int train_set(sa_train_set *out, const char *name)
{
    if (strcmp(name, "bn_affine") == 0)
        *out = SA_TRAIN_NORM_AFFINE;
    else if (strcmp(name, "all") == 0)
        *out = SA_TRAIN_ALL;
    else if (strcmp(name, "last_layer") == 0)
        *out = SA_TRAIN_LAST_LAYER;
    else if (strcmp(name, "pattern") == 0)
        *out = SA_TRAIN_PATTERN;
    else
        return -1;
    return 0;
}

/* Everything a run holds while it executes. */
typedef struct engine {
    const sa_config *cfg;
    int n;
    sa_model *models[SA_CFG_MAX_METHODS];
    sa_method *methods[SA_CFG_MAX_METHODS];
    sa_source *src;      /* Fashion-MNIST: one source for every cell */
    char *subset_text;   /* data.subset file, its lines cut in place */
    const char **subset; /* its entries */
    int n_subset;
    sa_split *split;     /* data.classes, or NULL */
    const char **class_names; /* the split's folder names in label order */
    int64_t *logit_index;     /* columns kept for a masked split, or NULL */
    int n_logit_index;
    const int *pred_map;      /* 1000 -> label for an unmasked subset split, or NULL */
    int device;
    int threads;
} engine;

static void engine_free(engine *e)
{
    for (int i = 0; i < e->n; i++) {
        sa_method_free(e->methods[i]);
        sa_model_free(e->models[i]);
    }
    sa_source_free(e->src);
    free(e->subset);
    free(e->subset_text);
    free(e->class_names);
    free(e->logit_index);
    sa_split_free(e->split);
}

/* data.classes: the class list of folder sources and what the model's
 * 1000 outputs mean for it (masked logits or a mapped argmax). */
static int load_split(engine *e, sa_error *err)
{
    const sa_config *cfg = e->cfg;
    if (!cfg->data.classes[0])
        return 0;
    int rc = sa_split_lookup(&e->split, cfg->data.classes, err);
    if (rc < 0)
        return rc;
    int n = sa_split_num_labels(e->split);
    e->class_names = malloc((size_t)n * sizeof *e->class_names);
    if (!e->class_names)
        return sa_error_set(err, SA_ENOMEM, "run", "out of memory");
    for (int i = 0; i < n; i++)
        e->class_names[i] = sa_split_label_name(e->split, i);
    int k = 0;
    const int *idx = sa_split_indices(e->split, &k);
    if (idx && k > 0) {
        e->logit_index = malloc((size_t)k * sizeof *e->logit_index);
        if (!e->logit_index)
            return sa_error_set(err, SA_ENOMEM, "run", "out of memory");
        for (int i = 0; i < k; i++)
            e->logit_index[i] = idx[i];
        e->n_logit_index = k;
    } else if (n != SA_IMAGENET_CLASSES) {
        e->pred_map = sa_split_map(e->split);
    }
    if (cfg->model.num_classes != SA_IMAGENET_CLASSES)
        return sa_error_set(err, SA_EINVAL, "run",
                            "%s: data.classes %s needs a 1000-way ImageNet model, "
                            "model.num_classes is %d",
                            cfg->file, cfg->data.classes, cfg->model.num_classes);
    return 0;
}

/* Predictions as the data set's labels: ImageNet-D maps the 1000-way
 * argmax (an unmapped class becomes -1, always wrong). */
static void map_predictions(const engine *e, int64_t *pred, size_t n)
{
    if (!e->pred_map)
        return;
    for (size_t i = 0; i < n; i++)
        pred[i] = pred[i] >= 0 && pred[i] < SA_IMAGENET_CLASSES ? e->pred_map[pred[i]] : -1;
}

/* Read data.subset: one "<class>/<file>" per line; blank lines and
 * "#" comments are ignored. */
static int load_subset(engine *e, sa_error *err)
{
    const sa_config *cfg = e->cfg;
    if (!cfg->data.subset[0])
        return 0;
    size_t len;
    int rc = sa_fs_read_all(cfg->data.subset, &e->subset_text, &len, err);
    if (rc < 0) {
        sa_error_prefix(err, "%s: data.subset", cfg->file);
        return rc;
    }
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += e->subset_text[i] == '\n';
    e->subset = malloc(lines * sizeof *e->subset);
    if (!e->subset)
        return sa_error_set(err, SA_ENOMEM, "run", "out of memory");
    for (char *line = strtok(e->subset_text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line && *line != '#')
            e->subset[e->n_subset++] = line;
    }
    if (e->n_subset == 0)
        return sa_error_set(err, SA_EINVAL, "run", "%s: data.subset %s lists no images", cfg->file,
                            cfg->data.subset);
    return 0;
}

static int config_error(sa_error *err, const sa_config *cfg, sa_config_mark mark, const char *key)
{
    if (mark.line > 0)
        sa_error_prefix(err, "%s:%d:%d: %s", cfg->file, mark.line, mark.col, key);
    else
        sa_error_prefix(err, "%s: %s", cfg->file, key);
    return err ? err->code : SA_EINVAL;
}

static sa_folder_options folder_options(const engine *e, const sa_cell *cell)
{
    sa_folder_options fo = sa_folder_options_default();
    fo.name = cell->split;
    fo.resize = e->cfg->data.resize;
    fo.crop = e->cfg->data.crop;
    fo.subset = e->subset;
    fo.n_subset = e->n_subset;
    if (e->class_names) {
        fo.classes = e->class_names;
        fo.n_classes = sa_split_num_labels(e->split);
    }
    return fo;
}

/* The source of a cell: the shared Fashion-MNIST one, or a folder source
 * the caller frees (when *out != e->src). */
static int cell_source(engine *e, const sa_cell *cell, sa_source **out, sa_error *err)
{
    if (!cell->dir[0]) {
        *out = e->src;
        return 0;
    }
    sa_folder_options fo = folder_options(e, cell);
    return sa_source_open_folder(out, cell->dir, &fo, err);
}

/* Open every cell's data once before any work: a missing directory, an
 * empty or unknown class directory is an error naming the path. */
static int check_sources(engine *e, const sa_plan *plan, sa_error *err)
{
    const sa_config *cfg = e->cfg;
    int rc0 = load_subset(e, err);
    if (rc0 == 0)
        rc0 = load_split(e, err);
    if (rc0 < 0)
        return rc0;
    if (strcmp(cfg->data.source, "fashion_mnist") == 0) {
        int rc = sa_source_open_fmnist(&e->src, cfg->data.dir, cfg->data.split, err);
        if (rc < 0)
            return config_error(err, cfg, cfg->data.dir_mark, "data.dir");
    }
    for (int k = 0; k < plan->n_cells; k++) {
        const sa_cell *cell = &plan->cells[k];
        if (k > 0 && strcmp(cell->dir, plan->cells[k - 1].dir) == 0)
            continue;
        sa_source *s = NULL;
        int rc = cell_source(e, cell, &s, err);
        if (rc < 0)
            return config_error(err, cfg, cfg->data.dir_mark, "data.dir");
        int classes = sa_source_num_classes(s);
        if (s != e->src)
            sa_source_free(s);
        if (e->split)
            continue; /* labels come from the split's list, checked when opening */
        if (classes != cfg->model.num_classes)
            return sa_error_set(err, SA_EINVAL, "run",
                                "%s: model.num_classes is %d but the data (%s) has %d classes",
                                cfg->file, cfg->model.num_classes,
                                cell->dir[0] ? cell->dir : cfg->data.dir, classes);
    }
    return 0;
}

/* Open data, load one model per method and check that they fit, before any
 * output is written. */
static int engine_open(engine *e, const sa_config *cfg, const sa_plan *plan, sa_error *err)
{
    memset(e, 0, sizeof *e);
    e->cfg = cfg;
    /* run.threads: 0 means every online CPU (libtorch alone counts physical
     * cores, and takes one where it cannot tell). Process-wide in libtorch. */
    long threads = cfg->run.threads > 0 ? cfg->run.threads : sysconf(_SC_NPROCESSORS_ONLN);
    e->threads = threads > 0 ? (int)threads : 1;
    sa_torch_set_threads(e->threads);
    int rc = sa_torch_reuse_memory(err);
    if (rc < 0)
        return rc;
    rc = sa_torch_parse_device(&e->device, cfg->run.device, err);
    if (rc < 0)
        return rc;
    if ((rc = check_sources(e, plan, err)) < 0)
        return rc;
    if (!sa_fs_exists(cfg->model.path)) {
        sa_error_set(err, SA_EIO, "run", "model file %s not found (hint: run tools/bootstrap.sh, or "
                     "set model.path)", cfg->model.path);
        return config_error(err, cfg, cfg->model.path_mark, "model.path");
    }
    /* Probe the input shape with the first readable image of the first cell. */
    sa_image *probe = NULL;
    int label;
    sa_source *first = NULL;
    if ((rc = cell_source(e, &plan->cells[0], &first, err)) < 0)
        return rc;
    for (size_t i = 0; i < sa_source_count(first) && !probe; i++) {
        sa_error ignore = {0};
        sa_source_get(first, i, &probe, &label, &ignore);
    }
    if (first != e->src)
        sa_source_free(first);
    if (!probe)
        return sa_error_set(err, SA_EFORMAT, "run", "no readable image in %s",
                            plan->cells[0].dir[0] ? plan->cells[0].dir : cfg->data.dir);
    int64_t shape[4] = {2, probe->c, probe->h, probe->w};
    size_t per = sa_image_size(probe);
    sa_image_free(probe);
    float *zeros = calloc(2 * per, sizeof *zeros);
    if (!zeros)
        return sa_error_set(err, SA_ENOMEM, "run", "out of memory");
    for (int i = 0; i < cfg->n_methods; i++) {
        const sa_method_cfg *mc = &cfg->methods[i];
        sa_method_options o = sa_method_options_default(mc->name);
        o.gce_q = mc->q;
        o.temperature = mc->temperature;
        o.bn_alpha = mc->alpha;
        o.param_pattern = mc->param_pattern;
        o.steps_per_batch = mc->steps;
        if ((rc = sa_optim_kind_parse(&o.optim.kind, mc->optimizer, err)) < 0 ||
            (rc = sa_teacher_mode_parse(&o.teacher, mc->teacher, err)) < 0)
            break;
        o.optim.lr = mc->lr;
        o.optim.momentum = o.optim.kind == SA_OPTIM_SGD ? mc->momentum : 0.0;
        o.optim.dampening = mc->dampening;
        o.optim.weight_decay = mc->weight_decay;
        o.optim.nesterov = mc->nesterov;
        o.optim.beta1 = mc->beta1;
        o.optim.beta2 = mc->beta2;
        o.optim.eps = mc->eps;
        o.teacher_every = mc->teacher_every;
        o.teacher_momentum = mc->teacher_momentum;
        o.logit_index = e->logit_index;
        o.n_logit_index = e->n_logit_index;
        if (train_set(&o.params, mc->params) < 0) {
            rc = sa_error_set(err, SA_EINVAL, "run", "methods[%d].params: unknown set '%s'", i,
                              mc->params);
            break;
        }
        if ((rc = sa_model_load(&e->models[i], cfg->model.path, e->device, err)) < 0) {
            config_error(err, cfg, cfg->model.path_mark, "model.path");
            break;
        }
        e->n = i + 1;
        /* Check the output size on a zero batch in the source mode. */
        sa_tensor *x = NULL, *y = NULL;
        rc = sa_tensor_from_f32(&x, zeros, shape, 4, e->device, err);
        if (rc == 0)
            rc = sa_model_forward(e->models[i], x, 0, &y, err);
        if (rc == 0 && sa_tensor_dim_size(y, 1) != cfg->model.num_classes)
            rc = sa_error_set(err, SA_EINVAL, "run",
                              "%s: model %s outputs %" PRId64 " classes, model.num_classes is %d",
                              cfg->file, cfg->model.path, sa_tensor_dim_size(y, 1),
                              cfg->model.num_classes);
        sa_tensor_free(x);
        sa_tensor_free(y);
        if (rc < 0)
            break;
        if ((rc = sa_method_new(&e->methods[i], &o, e->models[i], err)) < 0) {
            config_error(err, cfg, mc->name_mark, "methods");
            break;
        }
    }
    free(zeros);
    return rc;
}

static int write_text(const char *dir, const char *name, const sa_strbuf *b, sa_error *err)
{
    char path[4096];
    int rc = sa_fs_join(path, sizeof path, dir, name, err);
    if (rc < 0)
        return rc;
    if (b->oom)
        return sa_error_set(err, SA_ENOMEM, "run", "out of memory writing %s", path);
    return sa_fs_write_atomic(path, b->data ? b->data : "", b->len, err);
}

/* reference.json ("selfadapt-reference/1"): the published numbers of the
 * config's methods, for `selfadapt report`; written only when any is set. */
static int write_reference(const char *dir, const sa_config *cfg, sa_error *err)
{
    sa_strbuf b = {0};
    int n = 0;
    for (int i = 0; i < cfg->n_methods; i++) {
        const sa_method_cfg *m = &cfg->methods[i];
        int any = 0;
        for (int k = 0; k < SA_REF_COUNT; k++)
            any |= !isnan(m->reference[k]);
        if (!any)
            continue;
        sa_strbuf_printf(&b, "%s    {\"model\": ", n++ ? ",\n" : "");
        sa_strbuf_json_str(&b, cfg->reference.model);
        sa_strbuf_printf(&b, ", \"method\": ");
        sa_strbuf_json_str(&b, m->label);
        for (int k = 0; k < SA_REF_COUNT; k++)
            if (!isnan(m->reference[k]))
                sa_strbuf_printf(&b, ", \"%s\": %.10g", sa_config_reference_keys[k], m->reference[k]);
        sa_strbuf_printf(&b, ",\n     \"source\": ");
        sa_strbuf_json_str(&b, cfg->reference.source);
        sa_strbuf_printf(&b, "}");
    }
    int rc = 0;
    if (n) {
        sa_strbuf doc = {0};
        sa_strbuf_printf(&doc, "{\n  \"format\": \"selfadapt-reference/1\",\n  \"entries\": [\n%s\n  ]\n}\n",
                         b.data);
        doc.oom |= b.oom;
        rc = write_text(dir, "reference.json", &doc, err);
        sa_strbuf_free(&doc);
    }
    sa_strbuf_free(&b);
    return rc;
}

/* One method's step on one batch, applying the non-finite-loss policy. */
static int step_one(engine *e, int i, const sa_tensor *x, int64_t *pred, const sa_batch *b,
                    sa_cell_result *res, double *loss_sum, int *loss_n, int count, sa_error *err)
{
    const sa_config *cfg = e->cfg;
    if (strcmp(cfg->schedule.reset, "episodic") == 0) {
        int rc = sa_method_reset(e->methods[i], err);
        if (rc < 0)
            return rc;
    }
    sa_step_stats st;
    sa_error step_err = {0};
    int rc = sa_method_step(e->methods[i], x, pred, (size_t)b->n, &st, &step_err);
    if (rc == SA_ENUM && strcmp(cfg->schedule.on_nonfinite, "reset") == 0) {
        /* The predictions were made before the loss: they count. */
        res->m[i].resets++;
        rc = sa_method_reset(e->methods[i], err);
    } else if (rc < 0) {
        if (err)
            *err = step_err;
        return rc;
    }
    if (rc < 0)
        return rc;
    map_predictions(e, pred, (size_t)b->n);
    if (count)
        sa_acc_add(&res->m[i].acc, pred, b->labels, (size_t)b->n);
    if (st.updated) {
        loss_sum[i] += st.loss;
        loss_n[i]++;
    }
    return 0;
}

/* Run every method over one cell: `epochs` adaptation passes (the first is
 * scored online), then optionally a final pass without updates. All methods
 * see each batch, loaded and corrupted once. */
static int run_cell(engine *e, const sa_cell *cell, int index, int n_cells, double t_run,
                    const sa_run_options *o, sa_cell_result *res, sa_error *err)
{
    const sa_config *cfg = e->cfg;
    sa_loader_options lo = sa_loader_options_default();
    lo.batch_size = (size_t)cfg->data.batch_size;
    lo.limit = (size_t)cfg->data.limit;
    lo.shuffle = cfg->data.shuffle;
    lo.seed = cfg->run.seed;
    lo.threads = cfg->data.prefetch > 0 ? 0 : e->threads;
    lo.corrupt = cell->corrupt;
    lo.corruption = (sa_corruption)cell->corruption;
    lo.severity = cell->severity;
    lo.rng = strcmp(cfg->shift.rng, "numpy") == 0 ? SA_RNG_NUMPY : SA_RNG_FAST;
    sa_corrupt_params_from_name(&lo.params, cfg->shift.params, NULL);
    lo.strict = cfg->data.strict;
    lo.prefetch = cfg->data.prefetch;
    for (int k = 0; k < 3; k++) {
        lo.mean[k] = (float)cfg->data.mean[k];
        lo.std[k] = (float)cfg->data.std[k];
    }
    sa_source *src = NULL;
    int rc = cell_source(e, cell, &src, err);
    if (rc < 0)
        return rc;
    sa_loader *ld = NULL;
    rc = sa_loader_new(&ld, src, &lo, err);
    if (rc < 0) {
        if (src != e->src)
            sa_source_free(src);
        return rc;
    }
    const int continual = strcmp(cfg->schedule.reset, "continual") == 0;
    for (int i = 0; i < e->n && !(continual && index > 0); i++)
        if ((rc = sa_method_reset(e->methods[i], err)) < 0) {
            sa_loader_free(ld);
            if (src != e->src)
                sa_source_free(src);
            return rc;
        }
    memset(res, 0, sizeof *res);
    res->n_methods = e->n;
    const char *labels[SA_CFG_MAX_METHODS];
    double errors[SA_CFG_MAX_METHODS];
    double loss_sum[SA_CFG_MAX_METHODS] = {0};
    int loss_n[SA_CFG_MAX_METHODS] = {0};
    for (int i = 0; i < e->n; i++) {
        snprintf(res->m[i].label, sizeof res->m[i].label, "%s", cfg->methods[i].label);
        snprintf(res->m[i].method, sizeof res->m[i].method, "%s", cfg->methods[i].name);
        labels[i] = cfg->methods[i].label;
        errors[i] = NAN;
    }
    char name[128];
    sa_cell_name(cell, name, sizeof name);
    const int passes = cfg->schedule.epochs + (cfg->schedule.final_pass ? 1 : 0);
    sa_progress p = {index, n_cells, name, 0, sa_loader_count(ld) * (size_t)passes, 0, 0, 0,
                     e->n, labels, errors};
    double t0 = now_seconds();
    sa_batch b = {0};
    int64_t *pred = NULL;
    for (int pass = 0; pass < passes && rc >= 0; pass++) {
        const int final = pass == cfg->schedule.epochs;
        sa_loader_rewind(ld);
        while ((rc = sa_loader_next(ld, &b, err)) > 0) {
            if (o->stop && *o->stop) {
                rc = sa_error_set(err, SA_EINTR, "run", "interrupted in cell %s", name);
                break;
            }
            int64_t *np = realloc(pred, (size_t)b.n * sizeof *pred);
            if (!np) {
                rc = sa_error_set(err, SA_ENOMEM, "run", "out of memory");
                break;
            }
            pred = np;
            sa_tensor *x = NULL;
            int64_t shape[4] = {b.n, b.c, b.h, b.w};
            if ((rc = sa_tensor_from_f32(&x, b.x, shape, 4, e->device, err)) < 0)
                break;
            for (int i = 0; i < e->n && rc == 0; i++) {
                if (final) {
                    rc = sa_method_predict(e->methods[i], x, pred, (size_t)b.n, err);
                    if (rc == 0) {
                        map_predictions(e, pred, (size_t)b.n);
                        sa_acc_add(&res->m[i].final, pred, b.labels, (size_t)b.n);
                        errors[i] = sa_acc_error(&res->m[i].final);
                    }
                } else {
                    rc = step_one(e, i, x, pred, &b, res, loss_sum, loss_n, pass == 0, err);
                    if (rc == 0 && pass == 0)
                        errors[i] = sa_acc_error(&res->m[i].acc);
                }
                if (rc < 0)
                    sa_error_prefix(err, "cell %s, method %s", name, cfg->methods[i].label);
            }
            sa_tensor_free(x);
            if (rc < 0)
                break;
            p.done += (size_t)b.n;
            p.cell_seconds = now_seconds() - t0;
            p.run_seconds = now_seconds() - t_run;
            if (o->progress)
                o->progress(o->user, &p);
        }
        for (int i = 0; i < e->n && rc == 0 && !final; i++)
            rc = sa_method_epoch_end(e->methods[i], err);
    }
    free(pred);
    sa_batch_free(&b);
    res->skipped = (int64_t)sa_loader_skipped(ld);
    sa_loader_free(ld);
    if (src != e->src)
        sa_source_free(src);
    if (rc < 0)
        return rc;
    for (int i = 0; i < e->n; i++)
        res->m[i].mean_loss = loss_n[i] ? loss_sum[i] / loss_n[i] : 0.0;
    return 0;
}

/* The adapted model of every method, beside the cell file:
 * <cell>.json -> <cell>.<label>.pt (before the cell file, which marks the
 * cell complete). */
static int save_models(engine *e, const char *cell_path, sa_error *err)
{
    char dir[4096];
    sa_fs_dirname(dir, sizeof dir, cell_path);
    int rc = sa_fs_mkdirs(dir, err);
    size_t stem = strlen(cell_path) - strlen(".json");
    for (int i = 0; i < e->n && rc == 0; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%.*s.%s.pt", (int)stem, cell_path, e->cfg->methods[i].label);
        rc = sa_model_save(e->models[i], path, err);
    }
    return rc;
}

static void json_number(sa_strbuf *b, double v)
{
    if (isnan(v))
        sa_strbuf_printf(b, "null");
    else
        sa_strbuf_printf(b, "%.4f", v);
}

/* errors.svg: mean error over severities per corruption (rows), one bar per
 * method, from the per-method metrics table (columns after the first 4). */
static int write_chart(const char *dir, const sa_table *metrics, const sa_config *cfg,
                       sa_error *err)
{
    int n_shifts = sa_table_cols(metrics) - 4, n_methods = sa_table_rows(metrics);
    if (n_shifts <= 0)
        return 0;
    sa_table *bars = NULL;
    int rc = sa_table_new(&bars, n_shifts, n_methods, err);
    if (rc < 0)
        return rc;
    for (int k = 0; k < n_shifts; k++) {
        sa_table_set_row(bars, k, sa_table_col_name(metrics, k + 4));
        for (int m = 0; m < n_methods; m++)
            sa_table_set(bars, k, m, sa_table_get(metrics, m, k + 4));
    }
    for (int m = 0; m < n_methods; m++)
        sa_table_set_col(bars, m, sa_table_row_name(metrics, m));
    sa_strbuf svg = {0};
    char title[300];
    snprintf(title, sizeof title, "%s: error per shift (mean over severities)", cfg->run.name);
    sa_svg_bars(&svg, bars, title, "top-1 error (%)");
    rc = write_text(dir, "errors.svg", &svg, err);
    sa_strbuf_free(&svg);
    sa_table_free(bars);
    return rc;
}

static int write_summary(const char *dir, const sa_table *t, const sa_plan *plan,
                         const sa_config *cfg, sa_error *err)
{
    /* Per method: mCE (all 15 x 5 ImageNet-C cells), mean error, clean
     * error, mean per corruption; the cell table without its mean row. */
    sa_table *cells = NULL, *metrics = NULL;
    int rc0 = sa_table_new(&cells, plan->n_cells, cfg->n_methods, err);
    for (int r = 0; rc0 == 0 && r < plan->n_cells; r++) {
        sa_table_set_row(cells, r, sa_table_row_name(t, r));
        for (int c = 0; c < cfg->n_methods; c++) {
            sa_table_set_col(cells, c, sa_table_col_name(t, c));
            sa_table_set(cells, r, c, sa_table_get(t, r, c));
        }
    }
    if (rc0 == 0)
        rc0 = sa_mce_table(&metrics, cells, NAN, err);
    sa_table_free(cells);
    if (rc0 < 0)
        return rc0;
    sa_strbuf csv = {0}, md = {0}, js = {0};
    sa_table_csv(t, "cell", &csv);
    const char *reset = strcmp(cfg->schedule.reset, "cell") == 0
                            ? "each method starts every cell from the source model"
                        : strcmp(cfg->schedule.reset, "episodic") == 0
                            ? "each method is reset to the source model before every batch"
                            : "the adapted state carries over from cell to cell (continual)";
    sa_strbuf_printf(&md, "# %s\n\nTop-1 error (%%) per cell; %s; %d adaptation epoch(s); %s.\n\n"
                     "Model: `%s`; images per cell: %d%s; batch size %d; seed %" PRIu64 ".\n\n",
                     cfg->run.name, reset, cfg->schedule.epochs,
                     cfg->schedule.final_pass
                         ? "errors of a final pass without updates after adapting"
                         : "online errors of the first epoch (each batch predicted before the "
                           "update on it)",
                     cfg->model.path, cfg->data.limit, cfg->data.limit ? "" : " (all)",
                     cfg->data.batch_size, cfg->run.seed);
    sa_table_markdown(t, "cell", &md);
    sa_strbuf_printf(&md, "\n## Per method\n\nmCE: AlexNet-normalised corruption error over the 15 "
                          "ImageNet-C benchmark corruptions (only when all 15 x 5 cells ran); "
                          "the other columns are means over severities.\n\n");
    sa_table_markdown(metrics, "method", &md);
    sa_strbuf_printf(&md, "\n![error per shift](errors.svg)\n");
    sa_strbuf_printf(&js, "{\n  \"format\": \"selfadapt-summary/1\",\n  \"run\": ");
    sa_strbuf_json_str(&js, cfg->run.name);
    sa_strbuf_printf(&js, ",\n  \"methods\": [");
    for (int c = 0; c < cfg->n_methods; c++) {
        sa_strbuf_printf(&js, "%s", c ? ", " : "");
        sa_strbuf_json_str(&js, cfg->methods[c].label);
    }
    sa_strbuf_printf(&js, "],\n  \"cells\": [\n");
    for (int r = 0; r < plan->n_cells; r++) {
        const sa_cell *cell = &plan->cells[r];
        sa_strbuf_printf(&js, "    {\"split\": ");
        sa_strbuf_json_str(&js, cell->split);
        sa_strbuf_printf(&js, ", \"shift\": ");
        sa_strbuf_json_str(&js, cell->shift);
        sa_strbuf_printf(&js, ", \"severity\": %d, \"error\": [", cell->severity);
        for (int c = 0; c < cfg->n_methods; c++) {
            double v = sa_table_get(t, r, c);
            if (isnan(v))
                sa_strbuf_printf(&js, "%snull", c ? ", " : "");
            else
                sa_strbuf_printf(&js, "%s%.4f", c ? ", " : "", v);
        }
        sa_strbuf_printf(&js, "]}%s\n", r + 1 < plan->n_cells ? "," : "");
    }
    sa_strbuf_printf(&js, "  ],\n  \"mean_corrupted\": [");
    for (int c = 0; c < cfg->n_methods; c++) {
        double v = sa_table_get(t, plan->n_cells, c);
        if (isnan(v))
            sa_strbuf_printf(&js, "%snull", c ? ", " : "");
        else
            sa_strbuf_printf(&js, "%s%.4f", c ? ", " : "", v);
    }
    sa_strbuf_printf(&js, "],\n  \"per_method\": [\n");
    for (int m = 0; m < sa_table_rows(metrics); m++) {
        sa_strbuf_printf(&js, "    {\"label\": ");
        sa_strbuf_json_str(&js, sa_table_row_name(metrics, m));
        for (int c = 0; c < sa_table_cols(metrics); c++) {
            sa_strbuf_printf(&js, ", ");
            sa_strbuf_json_str(&js, sa_table_col_name(metrics, c));
            sa_strbuf_printf(&js, ": ");
            json_number(&js, sa_table_get(metrics, m, c));
        }
        sa_strbuf_printf(&js, "}%s\n", m + 1 < sa_table_rows(metrics) ? "," : "");
    }
    sa_strbuf_printf(&js, "  ]\n}\n");
    int rc = write_text(dir, "summary.csv", &csv, err);
    if (rc == 0)
        rc = write_text(dir, "summary.md", &md, err);
    if (rc == 0)
        rc = write_text(dir, "summary.json", &js, err);
    if (rc == 0)
        rc = write_chart(dir, metrics, cfg, err);
    sa_table_free(metrics);
    sa_strbuf_free(&csv);
    sa_strbuf_free(&md);
    sa_strbuf_free(&js);
    return rc;
}

int sa_run_execute(const sa_config *cfg, const sa_run_options *o, sa_run_result **out, sa_error *err)
{
    double t_run = now_seconds();
    sa_plan plan = {0};
    int rc = sa_plan_make(&plan, cfg, err);
    if (rc < 0)
        return rc;
    sa_run_result *res = calloc(1, sizeof *res);
    if (!res) {
        sa_plan_free(&plan);
        return sa_error_set(err, SA_ENOMEM, "run", "out of memory");
    }
    engine e;
    if ((rc = sa_fs_join(res->dir, sizeof res->dir, cfg->run.output, cfg->run.name, err)) < 0 ||
        (rc = sa_table_new(&res->table, plan.n_cells + 1, cfg->n_methods, err)) < 0) {
        sa_plan_free(&plan);
        sa_run_result_free(res);
        return rc;
    }
    rc = engine_open(&e, cfg, &plan, err);
    if (rc < 0) {
        engine_free(&e);
        sa_plan_free(&plan);
        sa_run_result_free(res);
        return rc;
    }
    sa_torch_manual_seed(cfg->run.seed);
    uint64_t hash = sa_config_hash(cfg);
    sa_strbuf dump = {0};
    sa_config_dump(cfg, &dump);
    rc = sa_fs_mkdirs(res->dir, err);
    if (rc == 0)
        rc = write_text(res->dir, "config.yaml", &dump, err);
    sa_strbuf_free(&dump);
    if (rc == 0)
        rc = write_reference(res->dir, cfg, err);

    for (int c = 0; c < cfg->n_methods; c++)
        sa_table_set_col(res->table, c, cfg->methods[c].label);
    for (int k = 0; k < plan.n_cells && rc == 0; k++) {
        const sa_cell *cell = &plan.cells[k];
        char name[128], path[4096], why[256] = "";
        sa_cell_name(cell, name, sizeof name);
        sa_table_set_row(res->table, k, name);
        if ((rc = sa__cell_path(path, sizeof path, res->dir, cell, err)) < 0)
            break;
        sa_cell_result cr;
        int reused = 0;
        if (o->resume) {
            rc = sa__cell_read(path, hash, cfg, &cr, why, sizeof why, err);
            if (rc < 0)
                break;
            reused = rc;
            if (!reused && sa_fs_exists(path))
                sa_logf(o->log, SA_LOG_WARN, "recomputing %s: its result file %s", name, why);
        }
        if (!reused) {
            rc = run_cell(&e, cell, k, plan.n_cells, t_run, o, &cr, err);
            if (rc < 0)
                break;
            if (cfg->output.save_model && (rc = save_models(&e, path, err)) < 0)
                break;
            rc = sa__cell_write(path, cell, hash, &cr, err);
            if (rc < 0)
                break;
            res->cells_computed++;
        } else {
            res->cells_reused++;
        }
        rc = 0;
        double errors[SA_CFG_MAX_METHODS];
        const char *labels[SA_CFG_MAX_METHODS];
        for (int c = 0; c < cr.n_methods; c++) {
            errors[c] = sa__cell_error(&cr, c);
            labels[c] = cfg->methods[c].label;
            sa_table_set(res->table, k, c, errors[c]);
        }
        if (o->progress) {
            sa_progress p = {k, plan.n_cells, name, (size_t)cr.m[0].acc.n, (size_t)cr.m[0].acc.n,
                             0, now_seconds() - t_run, reused ? 2 : 1, cr.n_methods, labels, errors};
            o->progress(o->user, &p);
        }
    }
    if (rc == 0) {
        int first = cfg->shift.clean ? 1 : 0;
        sa_table_set_row(res->table, plan.n_cells, "mean (corrupted)");
        for (int c = 0; c < cfg->n_methods; c++)
            sa_table_set(res->table, plan.n_cells, c,
                         sa_table_col_mean(res->table, c, first, plan.n_cells));
        rc = write_summary(res->dir, res->table, &plan, cfg, err);
    }
    engine_free(&e);
    sa_plan_free(&plan);
    if (rc < 0) {
        sa_run_result_free(res);
        return rc;
    }
    res->seconds = now_seconds() - t_run;
    *out = res;
    return 0;
}
