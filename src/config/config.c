/* YAML (libyaml document API) -> sa_config, table-driven. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "fs.h"

/* ---- field tables -------------------------------------------------------- */

typedef enum ftype { F_STR, F_PATH, F_INT, F_U64, F_DBL, F_BOOL, F_STRLIST, F_SEVLIST, F_DBL3 } ftype;

typedef struct field {
    const char *key;
    ftype type;
    size_t offset;      /* into the section's base struct */
    double min, max;    /* numeric range (inclusive) */
    size_t mark_offset; /* offset of an sa_config_mark, or (size_t)-1 */
    int (*hook)(const sa_config_hooks *h, const char *v, sa_error *err);
} field;

#define NO_MARK ((size_t)-1)
#define OFF(s, f) offsetof(s, f)

static int hook_corruption(const sa_config_hooks *h, const char *v, sa_error *err)
{
    return h && h->check_corruption ? h->check_corruption(v, err) : 0;
}
static int hook_method(const sa_config_hooks *h, const char *v, sa_error *err)
{
    return h && h->check_method ? h->check_method(v, err) : 0;
}
static int hook_params(const sa_config_hooks *h, const char *v, sa_error *err)
{
    return h && h->check_params ? h->check_params(v, err) : 0;
}
static int hook_classes(const sa_config_hooks *h, const char *v, sa_error *err)
{
    return h && h->check_classes ? h->check_classes(v, err) : 0;
}
static int hook_split(const sa_config_hooks *h, const char *v, sa_error *err)
{
    (void)h;
    if (strcmp(v, "test") == 0 || strcmp(v, "train") == 0)
        return 0;
    return sa_error_set(err, SA_EINVAL, "", "expected test or train, got '%s'", v);
}
static int one_of(const char *v, const char *what, const char *const *ok, sa_error *err);
static int hook_source(const sa_config_hooks *h, const char *v, sa_error *err)
{
    (void)h;
    static const char *const ok[] = {"fashion_mnist", "folder", "imagenet_c", NULL};
    return one_of(v, "data source", ok, err);
}
static int hook_rng(const sa_config_hooks *h, const char *v, sa_error *err)
{
    (void)h;
    if (strcmp(v, "fast") == 0 || strcmp(v, "numpy") == 0)
        return 0;
    return sa_error_set(err, SA_EINVAL, "", "expected fast or numpy, got '%s'", v);
}
static int hook_trainset(const sa_config_hooks *h, const char *v, sa_error *err)
{
    (void)h;
    static const char *ok[] = {"bn_affine", "all", "last_layer", "pattern"};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(v, ok[i]) == 0)
            return 0;
    return sa_error_set(err, SA_EINVAL, "",
                        "unknown parameter set '%s' (expected bn_affine, all, last_layer or pattern)", v);
}
/* Value must be one of a NULL-terminated list. */
static int one_of(const char *v, const char *what, const char *const *ok, sa_error *err)
{
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; ok[i]; i++) {
        if (strcmp(v, ok[i]) == 0)
            return 0;
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", ok[i]);
        if (w > 0 && (size_t)w < sizeof list - used)
            used += (size_t)w;
    }
    return sa_error_set(err, SA_EINVAL, "", "unknown %s '%s' (expected one of: %s)", what, v, list);
}
static int hook_optim(const sa_config_hooks *h, const char *v, sa_error *err)
{
    (void)h;
    static const char *const ok[] = {"sgd", "adam", "adamw", NULL};
    return one_of(v, "optimizer", ok, err);
}
static int hook_teacher(const sa_config_hooks *h, const char *v, sa_error *err)
{
    (void)h;
    static const char *const ok[] = {"step", "every", "epoch", "ema", NULL};
    return one_of(v, "teacher refresh", ok, err);
}
static int hook_reset(const sa_config_hooks *h, const char *v, sa_error *err)
{
    (void)h;
    static const char *const ok[] = {"cell", "episodic", "continual", NULL};
    return one_of(v, "reset", ok, err);
}
static int hook_nonfinite(const sa_config_hooks *h, const char *v, sa_error *err)
{
    (void)h;
    static const char *const ok[] = {"error", "reset", NULL};
    return one_of(v, "policy", ok, err);
}
static int hook_device(const sa_config_hooks *h, const char *v, sa_error *err)
{
    (void)h;
    if (strcmp(v, "cpu") == 0 || strcmp(v, "cuda") == 0 || strncmp(v, "cuda:", 5) == 0)
        return 0;
    return sa_error_set(err, SA_EINVAL, "", "expected cpu, cuda or cuda:N, got '%s'", v);
}

#define RUN(f) OFF(sa_config, run.f)
static const field run_fields[] = {
    {"name", F_STR, RUN(name), 0, 0, NO_MARK, NULL},
    {"seed", F_U64, RUN(seed), 0, 0, NO_MARK, NULL},
    {"output", F_PATH, RUN(output), 0, 0, NO_MARK, NULL},
    {"threads", F_INT, RUN(threads), 0, 1024, NO_MARK, NULL},
    {"device", F_STR, RUN(device), 0, 0, NO_MARK, hook_device},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
#define MODEL(f) OFF(sa_config, model.f)
static const field model_fields[] = {
    {"path", F_PATH, MODEL(path), 0, 0, MODEL(path_mark), NULL},
    {"num_classes", F_INT, MODEL(num_classes), 2, 100000, NO_MARK, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
#define DATA(f) OFF(sa_config, data.f)
static const field data_fields[] = {
    {"source", F_STR, DATA(source), 0, 0, NO_MARK, hook_source},
    {"dir", F_PATH, DATA(dir), 0, 0, DATA(dir_mark), NULL},
    {"name", F_STR, DATA(name), 0, 0, NO_MARK, NULL},
    {"split", F_STR, DATA(split), 0, 0, NO_MARK, hook_split},
    {"clean_dir", F_PATH, DATA(clean_dir), 0, 0, NO_MARK, NULL},
    {"subset", F_PATH, DATA(subset), 0, 0, NO_MARK, NULL},
    {"classes", F_STR, DATA(classes), 0, 0, NO_MARK, hook_classes},
    {"limit", F_INT, DATA(limit), 0, 1e9, NO_MARK, NULL},
    {"batch_size", F_INT, DATA(batch_size), 1, 65536, NO_MARK, NULL},
    {"shuffle", F_BOOL, DATA(shuffle), 0, 0, NO_MARK, NULL},
    {"resize", F_INT, DATA(resize), 0, 16384, NO_MARK, NULL},
    {"crop", F_INT, DATA(crop), 0, 16384, NO_MARK, NULL},
    {"mean", F_DBL3, DATA(mean), -1e6, 1e6, NO_MARK, NULL},
    {"std", F_DBL3, DATA(std), 1e-12, 1e6, NO_MARK, NULL},
    {"strict", F_BOOL, DATA(strict), 0, 0, NO_MARK, NULL},
    {"prefetch", F_INT, DATA(prefetch), 0, 8, NO_MARK, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
#define SHIFT(f) OFF(sa_config, shift.f)
static const field shift_fields[] = {
    {"clean", F_BOOL, SHIFT(clean), 0, 0, NO_MARK, NULL},
    {"corruptions", F_STRLIST, SHIFT(corruptions), 0, SA_CFG_MAX_CORRUPTIONS, SHIFT(n_corruptions),
     hook_corruption},
    {"severities", F_SEVLIST, SHIFT(severities), 1, 5, SHIFT(n_severities), NULL},
    {"params", F_STR, SHIFT(params), 0, 0, NO_MARK, hook_params},
    {"rng", F_STR, SHIFT(rng), 0, 0, NO_MARK, hook_rng},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
#define SCHED(f) OFF(sa_config, schedule.f)
static const field schedule_fields[] = {
    {"epochs", F_INT, SCHED(epochs), 1, 1000, NO_MARK, NULL},
    {"reset", F_STR, SCHED(reset), 0, 0, NO_MARK, hook_reset},
    {"final_pass", F_BOOL, SCHED(final_pass), 0, 0, NO_MARK, NULL},
    {"on_nonfinite", F_STR, SCHED(on_nonfinite), 0, 0, NO_MARK, hook_nonfinite},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
#define OUT(f) OFF(sa_config, output.f)
static const field output_fields[] = {
    {"save_model", F_BOOL, OUT(save_model), 0, 0, NO_MARK, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
#define M(f) OFF(sa_method_cfg, f)
static const field method_fields[] = {
    {"name", F_STR, M(name), 0, 0, M(name_mark), hook_method},
    {"label", F_STR, M(label), 0, 0, NO_MARK, NULL},
    {"q", F_DBL, M(q), 1e-6, 1.0, NO_MARK, NULL},
    {"temperature", F_DBL, M(temperature), 1e-6, 1e6, NO_MARK, NULL},
    {"alpha", F_DBL, M(alpha), 0.0, 1.0, NO_MARK, NULL},
    {"params", F_STR, M(params), 0, 0, NO_MARK, hook_trainset},
    {"param_pattern", F_STR, M(param_pattern), 0, 0, NO_MARK, NULL},
    {"steps", F_INT, M(steps), 1, 1000, NO_MARK, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
static const field optim_fields[] = {
    {"name", F_STR, M(optimizer), 0, 0, NO_MARK, hook_optim},
    {"lr", F_DBL, M(lr), 1e-12, 100.0, NO_MARK, NULL},
    {"momentum", F_DBL, M(momentum), 0.0, 0.9999, NO_MARK, NULL},
    {"dampening", F_DBL, M(dampening), 0.0, 1.0, NO_MARK, NULL},
    {"weight_decay", F_DBL, M(weight_decay), 0.0, 1.0, NO_MARK, NULL},
    {"nesterov", F_BOOL, M(nesterov), 0, 0, NO_MARK, NULL},
    {"beta1", F_DBL, M(beta1), 0.0, 0.999999, NO_MARK, NULL},
    {"beta2", F_DBL, M(beta2), 0.0, 0.999999, NO_MARK, NULL},
    {"eps", F_DBL, M(eps), 1e-30, 1.0, NO_MARK, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
static const field teacher_fields[] = {
    {"refresh", F_STR, M(teacher), 0, 0, NO_MARK, hook_teacher},
    {"every", F_INT, M(teacher_every), 1, 100000000, NO_MARK, NULL},
    {"momentum", F_DBL, M(teacher_momentum), 0.0, 1.0, NO_MARK, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

#define REF(i) OFF(sa_method_cfg, reference) + (i) * sizeof(double)
const char *const sa_config_reference_keys[SA_REF_COUNT] = {
    "mCE", "rel_mCE", "imagenet_c", "imagenet_r", "imagenet_a", "imagenet_d", "imagenet_d109",
};
static const field method_ref_fields[] = {
    {"mCE", F_DBL, REF(0), 0.0, 1000.0, NO_MARK, NULL},
    {"rel_mCE", F_DBL, REF(1), 0.0, 1000.0, NO_MARK, NULL},
    {"imagenet_c", F_DBL, REF(2), 0.0, 100.0, NO_MARK, NULL},
    {"imagenet_r", F_DBL, REF(3), 0.0, 100.0, NO_MARK, NULL},
    {"imagenet_a", F_DBL, REF(4), 0.0, 100.0, NO_MARK, NULL},
    {"imagenet_d", F_DBL, REF(5), 0.0, 100.0, NO_MARK, NULL},
    {"imagenet_d109", F_DBL, REF(6), 0.0, 100.0, NO_MARK, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};
#define REFSEC(f) OFF(sa_config, reference.f)
static const field reference_fields[] = {
    {"model", F_STR, REFSEC(model), 0, 0, NO_MARK, NULL},
    {"source", F_STR, REFSEC(source), 0, 0, NO_MARK, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

typedef struct section {
    const char *key;
    const field *fields;
} section;

static const section sections[] = {
    {"run", run_fields},     {"model", model_fields},   {"data", data_fields},
    {"shift", shift_fields}, {"schedule", schedule_fields}, {"output", output_fields},
    {"reference", reference_fields}, {"methods", NULL},
};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

/* ---- defaults -------------------------------------------------------------- */

static void method_defaults(sa_method_cfg *m)
{
    memset(m, 0, sizeof *m);
    m->q = 0.8;
    m->temperature = 1.0;
    m->alpha = 0.5;
    m->beta1 = 0.9;
    m->beta2 = 0.999;
    m->eps = 1e-8;
    snprintf(m->teacher, sizeof m->teacher, "step");
    m->teacher_every = 1;
    m->teacher_momentum = 0.999;
    snprintf(m->params, sizeof m->params, "bn_affine");
    m->steps = 1;
    snprintf(m->optimizer, sizeof m->optimizer, "sgd");
    m->lr = 0.001;
    m->momentum = 0.9;
    for (int i = 0; i < SA_REF_COUNT; i++)
        m->reference[i] = NAN;
}

void sa_config_defaults(sa_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->run.name, sizeof c->run.name, "run");
    snprintf(c->run.output, sizeof c->run.output, "results");
    snprintf(c->run.device, sizeof c->run.device, "cpu");
    c->model.num_classes = 10;
    snprintf(c->data.source, sizeof c->data.source, "fashion_mnist");
    snprintf(c->data.dir, sizeof c->data.dir, "/usr/share/datasets/fashion-mnist");
    snprintf(c->data.split, sizeof c->data.split, "test");
    c->data.batch_size = 128;
    c->data.shuffle = 1;
    c->data.resize = 256;
    c->data.crop = 224;
    for (int k = 0; k < 3; k++) {
        c->data.mean[k] = 0.0;
        c->data.std[k] = 1.0;
    }
    c->data.prefetch = 2;
    c->shift.clean = 1;
    c->shift.n_severities = 5;
    for (int i = 0; i < 5; i++)
        c->shift.severities[i] = i + 1;
    snprintf(c->shift.params, sizeof c->shift.params, "auto");
    snprintf(c->shift.rng, sizeof c->shift.rng, "fast");
    c->schedule.epochs = 1;
    snprintf(c->schedule.reset, sizeof c->schedule.reset, "cell");
    snprintf(c->schedule.on_nonfinite, sizeof c->schedule.on_nonfinite, "error");
}

/* ---- parsing ------------------------------------------------------------- */

typedef struct ctx {
    yaml_document_t *doc;
    const char *file;
    const sa_config_hooks *hooks;
    sa_error *err;
    int override; /* a command-line override: its positions are not the file's */
} ctx;

static int fail(ctx *x, const yaml_node_t *node, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int fail(ctx *x, const yaml_node_t *node, const char *key, const char *fmt, ...)
{
    char what[SA_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (node)
        return sa_error_set(x->err, SA_EINVAL, "config", "%s:%zu:%zu: %s%s%s", x->file,
                            node->start_mark.line + 1, node->start_mark.column + 1, key ? key : "",
                            key ? ": " : "", what);
    return sa_error_set(x->err, SA_EINVAL, "config", "%s: %s%s%s", x->file, key ? key : "",
                        key ? ": " : "", what);
}

static const char *scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

static int parse_bool(const char *s, int *out)
{
    static const char *yes[] = {"true", "yes", "on", "True", "TRUE", "Yes", "On"};
    static const char *no[] = {"false", "no", "off", "False", "FALSE", "No", "Off"};
    for (size_t i = 0; i < 7; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int parse_long(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int set_string(ctx *x, const yaml_node_t *n, const char *key, char *dst, size_t cap,
                      const field *f)
{
    const char *s = scalar(n);
    if (!s)
        return fail(x, n, key, "expected a string, got %s", node_kind(n));
    if (strlen(s) >= cap)
        return fail(x, n, key, "value is longer than %zu characters", cap - 1);
    if (!*s)
        return fail(x, n, key, "value is empty");
    if (f && f->hook) {
        sa_error e = {0};
        if (f->hook(x->hooks, s, &e) < 0) {
            const char *m = e.msg;
            size_t dl = strlen(e.domain);
            if (dl && strncmp(m, e.domain, dl) == 0 && m[dl] == ':')
                m += dl + 2;
            return fail(x, n, key, "%s", m);
        }
    }
    snprintf(dst, cap, "%s", s);
    return 0;
}

static void set_mark(const ctx *x, void *base, const field *f, const yaml_node_t *n)
{
    if (f->mark_offset == NO_MARK || f->type == F_STRLIST || f->type == F_SEVLIST)
        return;
    sa_config_mark *m = (sa_config_mark *)((char *)base + f->mark_offset);
    if (x->override) {
        m->line = m->col = 0;
        return;
    }
    m->line = (int)n->start_mark.line + 1;
    m->col = (int)n->start_mark.column + 1;
}

static int set_field(ctx *x, void *base, const field *f, const yaml_node_t *n, const char *key)
{
    char *p = (char *)base + f->offset;
    const char *s = scalar(n);
    switch (f->type) {
    case F_STR:
        if (set_string(x, n, key, p, SA_CFG_STR, f) < 0)
            return -1;
        break;
    case F_PATH:
        if (set_string(x, n, key, p, SA_CFG_PATH, f) < 0)
            return -1;
        break;
    case F_INT:
    case F_U64: {
        long long v;
        if (!s || parse_long(s, &v) < 0)
            return fail(x, n, key, "expected an integer, got %s%s%s", s ? "'" : "",
                        s ? s : node_kind(n), s ? "'" : "");
        if (f->type == F_U64) {
            if (v < 0)
                return fail(x, n, key, "expected a non-negative integer, got %lld", v);
            *(uint64_t *)p = (uint64_t)v;
        } else {
            if (v < (long long)f->min || v > (long long)f->max)
                return fail(x, n, key, "%lld is out of range [%.0f, %.0f]", v, f->min, f->max);
            *(int *)p = (int)v;
        }
        break;
    }
    case F_DBL: {
        char *end;
        double v = s ? strtod(s, &end) : 0.0;
        if (!s || end == s || *end || !isfinite(v))
            return fail(x, n, key, "expected a number, got %s%s%s", s ? "'" : "",
                        s ? s : node_kind(n), s ? "'" : "");
        if (v < f->min || v > f->max)
            return fail(x, n, key, "%g is out of range [%g, %g]", v, f->min, f->max);
        *(double *)p = v;
        break;
    }
    case F_BOOL: {
        int v;
        if (!s || parse_bool(s, &v) < 0)
            return fail(x, n, key, "expected true or false, got %s%s%s", s ? "'" : "",
                        s ? s : node_kind(n), s ? "'" : "");
        *(int *)p = v;
        break;
    }
    case F_DBL3: {
        if (n->type != YAML_SEQUENCE_NODE ||
            n->data.sequence.items.top - n->data.sequence.items.start != 3)
            return fail(x, n, key, "expected a list of 3 numbers (one per channel)");
        double *arr = (double *)p;
        for (int k = 0; k < 3; k++) {
            yaml_node_t *item = yaml_document_get_node(x->doc, n->data.sequence.items.start[k]);
            const char *is = scalar(item);
            char *end;
            double v = is ? strtod(is, &end) : 0.0;
            char ikey[300];
            snprintf(ikey, sizeof ikey, "%s[%d]", key, k);
            if (!is || end == is || *end || !isfinite(v))
                return fail(x, item, ikey, "expected a number");
            if (v < f->min || v > f->max)
                return fail(x, item, ikey, "%g is out of range [%g, %g]", v, f->min, f->max);
            arr[k] = v;
        }
        break;
    }
    case F_STRLIST:
    case F_SEVLIST: {
        if (n->type != YAML_SEQUENCE_NODE)
            return fail(x, n, key, "expected a list, got %s", node_kind(n));
        int count = 0;
        int *countp = (int *)((char *)base + f->mark_offset);
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *item = yaml_document_get_node(x->doc, *it);
            char ikey[300];
            snprintf(ikey, sizeof ikey, "%s[%d]", key, count);
            if (count >= (int)f->max)
                return fail(x, item, ikey, "too many entries (at most %d)", (int)f->max);
            if (f->type == F_STRLIST) {
                char(*arr)[SA_CFG_STR] = (char(*)[SA_CFG_STR])p;
                if (set_string(x, item, ikey, arr[count], SA_CFG_STR, f) < 0)
                    return -1;
                for (int j = 0; j < count; j++)
                    if (strcmp(arr[j], arr[count]) == 0)
                        return fail(x, item, ikey, "'%s' is listed twice", arr[count]);
            } else {
                long long v;
                const char *is = scalar(item);
                if (!is || parse_long(is, &v) < 0 || v < 1 || v > 5)
                    return fail(x, item, ikey, "expected a severity 1..5, got %s%s%s",
                                is ? "'" : "", is ? is : node_kind(item), is ? "'" : "");
                int *arr = (int *)p;
                for (int j = 0; j < count; j++)
                    if (arr[j] == (int)v)
                        return fail(x, item, ikey, "severity %lld is listed twice", v);
                arr[count] = (int)v;
            }
            count++;
        }
        if (f->type == F_SEVLIST && count == 0)
            return fail(x, n, key, "the list is empty");
        *countp = count;
        break;
    }
    }
    set_mark(x, base, f, n);
    return 0;
}

static void list_keys(char *buf, size_t n, const field *fields, const char *extra)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const field *f = fields; f->key; f++) {
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", f->key);
        if (w < 0 || (size_t)w >= n - used)
            return;
        used += (size_t)w;
    }
    if (extra)
        snprintf(buf + used, n - used, "%s%s", used ? ", " : "", extra);
}

/* Apply a mapping node onto `base` through `fields`. `prefix` is the dotted
 * path for messages. `sub` handles a nested mapping key (the optimizer). */
static int apply_mapping(ctx *x, void *base, const field *fields, const yaml_node_t *map,
                         const char *prefix, int allow_optimizer)
{
    if (map->type != YAML_MAPPING_NODE)
        return fail(x, map, prefix, "expected a mapping, got %s", node_kind(map));
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(x->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(x->doc, pr->value);
        const char *ks = scalar(k);
        if (!ks)
            return fail(x, k, prefix, "keys must be plain names");
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; q++) {
            const char *other = scalar(yaml_document_get_node(x->doc, q->key));
            if (other && strcmp(other, ks) == 0)
                return fail(x, k, prefix, "duplicate key '%s'", ks);
        }
        char key[300];
        snprintf(key, sizeof key, "%s.%s", prefix, ks);
        if (allow_optimizer && strcmp(ks, "optimizer") == 0) {
            if (apply_mapping(x, base, optim_fields, v, key, 0) < 0)
                return -1;
            continue;
        }
        if (allow_optimizer && strcmp(ks, "teacher") == 0) {
            if (apply_mapping(x, base, teacher_fields, v, key, 0) < 0)
                return -1;
            continue;
        }
        if (allow_optimizer && strcmp(ks, "reference") == 0) {
            if (apply_mapping(x, base, method_ref_fields, v, key, 0) < 0)
                return -1;
            continue;
        }
        const field *f = fields;
        while (f->key && strcmp(f->key, ks) != 0)
            f++;
        if (!f->key) {
            char list[512];
            list_keys(list, sizeof list, fields, allow_optimizer ? "optimizer, teacher, reference" : NULL);
            return fail(x, k, key, "unknown key (expected one of: %s)", list);
        }
        if (set_field(x, base, f, v, key) < 0)
            return -1;
    }
    return 0;
}

static int apply_methods(ctx *x, sa_config *c, const yaml_node_t *seq)
{
    if (seq->type != YAML_SEQUENCE_NODE)
        return fail(x, seq, "methods", "expected a list of methods, got %s", node_kind(seq));
    c->n_methods = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(x->doc, *it);
        char key[64];
        snprintf(key, sizeof key, "methods[%d]", c->n_methods);
        if (c->n_methods >= SA_CFG_MAX_METHODS)
            return fail(x, item, key, "too many methods (at most %d)", SA_CFG_MAX_METHODS);
        sa_method_cfg *m = &c->methods[c->n_methods];
        method_defaults(m);
        /* "- rpl" is shorthand for "- name: rpl". */
        if (item->type == YAML_SCALAR_NODE) {
            char nkey[80];
            snprintf(nkey, sizeof nkey, "%s.name", key);
            if (set_field(x, m, &method_fields[0], item, nkey) < 0)
                return -1;
        } else if (apply_mapping(x, m, method_fields, item, key, 1) < 0) {
            return -1;
        }
        if (!m->name[0])
            return fail(x, item, key, "missing required key 'name'");
        if (!m->label[0])
            memcpy(m->label, m->name, sizeof m->label); /* same size, NUL-terminated */
        if (strcmp(m->params, "pattern") == 0 && !m->param_pattern[0])
            return fail(x, item, key, "params: pattern needs param_pattern");
        if (m->nesterov && (m->momentum <= 0.0 || m->dampening != 0.0))
            return fail(x, item, key, "optimizer.nesterov needs momentum > 0 and dampening 0");
        for (int j = 0; j < c->n_methods; j++)
            if (strcmp(c->methods[j].label, m->label) == 0)
                return fail(x, item, key,
                            "label '%s' is used twice (give one of them a distinct 'label')", m->label);
        c->n_methods++;
    }
    return 0;
}

static int apply_document(ctx *x, sa_config *c, int require_all)
{
    yaml_node_t *root = yaml_document_get_root_node(x->doc);
    if (!root) {
        if (require_all)
            return fail(x, NULL, NULL, "the file is empty");
        return 0;
    }
    if (root->type != YAML_MAPPING_NODE)
        return fail(x, root, NULL, "expected a mapping of sections (run, model, data, shift, schedule, methods, output)");
    int seen_model = 0, seen_methods = 0;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(x->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(x->doc, pr->value);
        const char *ks = scalar(k);
        if (!ks)
            return fail(x, k, NULL, "section names must be plain names");
        for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < pr; q++) {
            const char *other = scalar(yaml_document_get_node(x->doc, q->key));
            if (other && strcmp(other, ks) == 0)
                return fail(x, k, ks, "duplicate section");
        }
        size_t i = 0;
        while (i < N_SECTIONS && strcmp(sections[i].key, ks) != 0)
            i++;
        if (i == N_SECTIONS)
            return fail(x, k, ks,
                        "unknown section (expected one of: run, model, data, shift, schedule, methods, "
                        "output)");
        if (strcmp(ks, "methods") == 0) {
            if (apply_methods(x, c, v) < 0)
                return -1;
            seen_methods = 1;
        } else {
            if (apply_mapping(x, c, sections[i].fields, v, ks, 0) < 0)
                return -1;
            if (strcmp(ks, "model") == 0)
                seen_model = 1;
        }
    }
    if (require_all) {
        if (!seen_model || !c->model.path[0])
            return fail(x, NULL, "model.path", "missing required key (the TorchScript model file)");
        if (!seen_methods || c->n_methods == 0)
            return fail(x, NULL, "methods", "missing required section (e.g. methods: [source, bn])");
    }
    return 0;
}

static int load_text(sa_config *c, const char *text, size_t len, const char *name,
                     const sa_config_hooks *hooks, int require_all, sa_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return sa_error_set(err, SA_ENOMEM, "config", "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        int rc = sa_error_set(err, SA_EINVAL, "config", "%s:%zu:%zu: malformed YAML: %s%s%s", name,
                              parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                              parser.problem ? parser.problem : "syntax error",
                              parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return rc;
    }
    ctx x = {&doc, name, hooks, err, !require_all};
    int rc = apply_document(&x, c, require_all);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc < 0 ? (err && err->code ? err->code : SA_EINVAL) : 0;
}

int sa_config_load_string(sa_config **out, const char *text, size_t len, const char *name,
                          const sa_config_hooks *hooks, sa_error *err)
{
    sa_config *c = malloc(sizeof *c);
    if (!c)
        return sa_error_set(err, SA_ENOMEM, "config", "out of memory");
    sa_config_defaults(c);
    snprintf(c->file, sizeof c->file, "%s", name);
    int rc = load_text(c, text, len, name, hooks, 1, err);
    if (rc < 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int sa_config_load(sa_config **out, const char *path, const sa_config_hooks *hooks, sa_error *err)
{
    char *text;
    size_t len;
    sa_error e = {0};
    if (sa_fs_read_all(path, &text, &len, &e) < 0)
        return sa_error_set(err, SA_EIO, "config", "cannot read config file %s (%s)", path,
                            e.msg + strlen("fs: "));
    int rc = sa_config_load_string(out, text, len, path, hooks, err);
    free(text);
    return rc;
}

void sa_config_free(sa_config *cfg)
{
    free(cfg);
}

int sa_config_set(sa_config *cfg, const char *assignment, const sa_config_hooks *hooks,
                  sa_error *err)
{
    const char *eq = strchr(assignment, '=');
    const char *dot = strchr(assignment, '.');
    if (!eq || !dot || dot > eq || dot == assignment || eq == dot + 1)
        return sa_error_set(err, SA_EINVAL, "config",
                            "override '%s': expected section.key=value (e.g. data.limit=500)",
                            assignment);
    sa_strbuf b = {0};
    sa_strbuf_printf(&b, "%.*s:\n  %.*s: %s\n", (int)(dot - assignment), assignment,
                     (int)(eq - dot - 1), dot + 1, eq + 1);
    if (b.oom) {
        sa_strbuf_free(&b);
        return sa_error_set(err, SA_ENOMEM, "config", "out of memory");
    }
    int rc = load_text(cfg, b.data, b.len, "command line", hooks, 0, err);
    sa_strbuf_free(&b);
    return rc;
}

/* ---- dump ---------------------------------------------------------------- */

static void dump_str(sa_strbuf *b, const char *indent, const char *key, const char *v)
{
    sa_strbuf_printf(b, "%s%s: ", indent, key);
    sa_strbuf_json_str(b, v); /* a JSON string is a valid YAML double-quoted scalar */
    sa_strbuf_append(b, "\n", 1);
}

void sa_config_dump(const sa_config *c, sa_strbuf *b)
{
    sa_strbuf_printf(b, "run:\n");
    dump_str(b, "  ", "name", c->run.name);
    sa_strbuf_printf(b, "  seed: %" PRIu64 "\n", c->run.seed);
    dump_str(b, "  ", "output", c->run.output);
    sa_strbuf_printf(b, "  threads: %d\n", c->run.threads);
    dump_str(b, "  ", "device", c->run.device);
    sa_strbuf_printf(b, "model:\n");
    dump_str(b, "  ", "path", c->model.path);
    sa_strbuf_printf(b, "  num_classes: %d\n", c->model.num_classes);
    sa_strbuf_printf(b, "data:\n");
    dump_str(b, "  ", "source", c->data.source);
    dump_str(b, "  ", "dir", c->data.dir);
    dump_str(b, "  ", "split", c->data.split);
    dump_str(b, "  ", "name", c->data.name[0] ? c->data.name : "auto");
    if (c->data.clean_dir[0])
        dump_str(b, "  ", "clean_dir", c->data.clean_dir);
    if (c->data.subset[0])
        dump_str(b, "  ", "subset", c->data.subset);
    if (c->data.classes[0])
        dump_str(b, "  ", "classes", c->data.classes);
    sa_strbuf_printf(b, "  limit: %d\n  batch_size: %d\n  shuffle: %s\n", c->data.limit,
                     c->data.batch_size, c->data.shuffle ? "true" : "false");
    sa_strbuf_printf(b, "  resize: %d\n  crop: %d\n  mean: [%.9g, %.9g, %.9g]\n"
                        "  std: [%.9g, %.9g, %.9g]\n  strict: %s\n  prefetch: %d\n",
                     c->data.resize, c->data.crop, c->data.mean[0], c->data.mean[1],
                     c->data.mean[2], c->data.std[0], c->data.std[1], c->data.std[2],
                     c->data.strict ? "true" : "false", c->data.prefetch);
    sa_strbuf_printf(b, "shift:\n  clean: %s\n  corruptions: [", c->shift.clean ? "true" : "false");
    for (int i = 0; i < c->shift.n_corruptions; i++)
        sa_strbuf_printf(b, "%s%s", i ? ", " : "", c->shift.corruptions[i]);
    sa_strbuf_printf(b, "]\n  severities: [");
    for (int i = 0; i < c->shift.n_severities; i++)
        sa_strbuf_printf(b, "%s%d", i ? ", " : "", c->shift.severities[i]);
    sa_strbuf_printf(b, "]\n");
    dump_str(b, "  ", "params", c->shift.params);
    dump_str(b, "  ", "rng", c->shift.rng);
    sa_strbuf_printf(b, "schedule:\n  epochs: %d\n", c->schedule.epochs);
    dump_str(b, "  ", "reset", c->schedule.reset);
    sa_strbuf_printf(b, "  final_pass: %s\n", c->schedule.final_pass ? "true" : "false");
    dump_str(b, "  ", "on_nonfinite", c->schedule.on_nonfinite);
    sa_strbuf_printf(b, "methods:\n");
    for (int i = 0; i < c->n_methods; i++) {
        const sa_method_cfg *m = &c->methods[i];
        dump_str(b, "  - ", "name", m->name);
        dump_str(b, "    ", "label", m->label);
        sa_strbuf_printf(b, "    q: %.17g\n    temperature: %.17g\n    alpha: %.17g\n", m->q,
                         m->temperature, m->alpha);
        dump_str(b, "    ", "params", m->params);
        if (m->param_pattern[0])
            dump_str(b, "    ", "param_pattern", m->param_pattern);
        sa_strbuf_printf(b, "    steps: %d\n    optimizer:\n", m->steps);
        dump_str(b, "      ", "name", m->optimizer);
        sa_strbuf_printf(b,
                         "      lr: %.17g\n      momentum: %.17g\n      dampening: %.17g\n"
                         "      weight_decay: %.17g\n      nesterov: %s\n      beta1: %.17g\n"
                         "      beta2: %.17g\n      eps: %.17g\n",
                         m->lr, m->momentum, m->dampening, m->weight_decay,
                         m->nesterov ? "true" : "false", m->beta1, m->beta2, m->eps);
        sa_strbuf_printf(b, "    teacher:\n");
        dump_str(b, "      ", "refresh", m->teacher);
        sa_strbuf_printf(b, "      every: %d\n      momentum: %.17g\n", m->teacher_every,
                         m->teacher_momentum);
        int any = 0;
        for (int k = 0; k < SA_REF_COUNT; k++)
            if (!isnan(m->reference[k]))
                sa_strbuf_printf(b, "%s      %s: %.17g\n", any++ ? "" : "    reference:\n",
                                 sa_config_reference_keys[k], m->reference[k]);
    }
    sa_strbuf_printf(b, "output:\n  save_model: %s\n", c->output.save_model ? "true" : "false");
    if (c->reference.model[0] || c->reference.source[0]) {
        sa_strbuf_printf(b, "reference:\n");
        dump_str(b, "  ", "model", c->reference.model);
        dump_str(b, "  ", "source", c->reference.source);
    }
}
