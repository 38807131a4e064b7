/* Config -> cells, config hooks and the config hash. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "corruptions.h"
#include "fs.h"
#include "run.h"
#include "splits.h"

static int check_corruption(const char *name, sa_error *err)
{
    sa_corruption k;
    return sa_corruption_from_name(&k, name, err);
}

static int check_params(const char *name, sa_error *err)
{
    sa_corrupt_params p;
    return sa_corrupt_params_from_name(&p, name, err);
}

static int check_classes(const char *name, sa_error *err)
{
    sa_split *sp = NULL;
    int rc = sa_split_lookup(&sp, name, err);
    sa_split_free(sp);
    return rc;
}

sa_config_hooks sa_run_config_hooks(void)
{
    sa_config_hooks h;
    h.check_classes = check_classes;
    h.check_method = sa_method_check_kind;
    h.check_corruption = check_corruption;
    h.check_params = check_params;
    return h;
}

uint64_t sa_config_hash(const sa_config *cfg)
{
    sa_config *c = malloc(sizeof *c);
    if (!c)
        return 0;
    *c = *cfg;
    /* Fields that do not change any number in a cell. */
    memset(c->file, 0, sizeof c->file);
    memset(c->run.name, 0, sizeof c->run.name);
    memset(c->run.output, 0, sizeof c->run.output);
    c->run.threads = 0;
    c->data.prefetch = 0;
    c->output.save_model = 0;
    memset(&c->reference, 0, sizeof c->reference);
    for (int i = 0; i < c->n_methods; i++)
        for (int k = 0; k < SA_REF_COUNT; k++)
            c->methods[i].reference[k] = NAN;
    sa_strbuf b = {0};
    sa_config_dump(c, &b);
    uint64_t h = b.oom ? 0 : sa_hash_str(b.data);
    sa_strbuf_free(&b);
    free(c);
    return h;
}

void sa_cell_name(const sa_cell *c, char *buf, size_t n)
{
    /* Corrupted cells carry their severity, whether corrupted here or read
     * from an ImageNet-C tree; clean and domain cells have severity 0. */
    if (c->severity > 0)
        snprintf(buf, n, "%s/%d", c->shift, c->severity);
    else
        snprintf(buf, n, "%s", c->shift);
}

/* The data set name of a config's cells. */
static const char *split_name(const sa_config *cfg)
{
    if (cfg->data.name[0] && strcmp(cfg->data.name, "auto") != 0)
        return cfg->data.name;
    if (strcmp(cfg->data.source, "imagenet_c") == 0)
        return "imagenet-c";
    if (strcmp(cfg->data.source, "folder") == 0)
        return cfg->data.classes[0] ? cfg->data.classes : "imagenet";
    return "fmnist";
}

/* ImageNet-D: one clean cell per DomainNet domain found under data.dir. */
static int plan_domains(sa_plan *plan, const sa_config *cfg, sa_error *err)
{
    int n = 0;
    sa_cell *cells = calloc(SA_IMAGENET_D_DOMAINS, sizeof *cells);
    if (!cells)
        return sa_error_set(err, SA_ENOMEM, "run", "out of memory");
    for (int d = 0; d < SA_IMAGENET_D_DOMAINS; d++) {
        char dir[1024];
        int w = snprintf(dir, sizeof dir, "%s/%s", cfg->data.dir, sa_imagenet_d_domain(d));
        if (w < 0 || (size_t)w >= sizeof dir || !sa_fs_is_dir(dir))
            continue;
        sa_cell *c = &cells[n++];
        snprintf(c->split, sizeof c->split, "%s", split_name(cfg));
        snprintf(c->shift, sizeof c->shift, "%s", sa_imagenet_d_domain(d));
        snprintf(c->dir, sizeof c->dir, "%s", dir);
    }
    if (n == 0) {
        free(cells);
        return sa_error_set(err, SA_EINVAL, "run",
                            "%s: data.dir %s has none of the DomainNet domain directories "
                            "(clipart, infograph, painting, quickdraw, real, sketch)",
                            cfg->file, cfg->data.dir);
    }
    plan->n_cells = n;
    plan->cells = cells;
    return 0;
}

int sa_plan_make(sa_plan *plan, const sa_config *cfg, sa_error *err)
{
    if (strcmp(cfg->data.source, "folder") == 0 && strncmp(cfg->data.classes, "imagenet-d", 10) == 0)
        return plan_domains(plan, cfg, err);
    /* ImageNet-C reads every corruption and severity from disk; its clean
     * cell needs the clean images (data.clean_dir). */
    const int from_disk = strcmp(cfg->data.source, "imagenet_c") == 0;
    const int clean = cfg->shift.clean && (!from_disk || cfg->data.clean_dir[0]);
    const int folder = strcmp(cfg->data.source, "fashion_mnist") != 0;
    int n = (clean ? 1 : 0) + cfg->shift.n_corruptions * cfg->shift.n_severities;
    if (n == 0)
        return sa_error_set(err, SA_EINVAL, "run",
                            "%s: nothing to run: shift.clean is false and shift.corruptions is empty",
                            cfg->file);
    sa_cell *cells = calloc((size_t)n, sizeof *cells);
    if (!cells)
        return sa_error_set(err, SA_ENOMEM, "run", "out of memory");
    int k = 0;
    if (clean) {
        snprintf(cells[k].split, sizeof cells[k].split, "%s", split_name(cfg));
        snprintf(cells[k].shift, sizeof cells[k].shift, "clean");
        if (folder)
            snprintf(cells[k].dir, sizeof cells[k].dir, "%s",
                     from_disk ? cfg->data.clean_dir : cfg->data.dir);
        k++;
    }
    for (int i = 0; i < cfg->shift.n_corruptions; i++) {
        sa_corruption kind;
        int rc = sa_corruption_from_name(&kind, cfg->shift.corruptions[i], err);
        if (rc < 0) {
            free(cells);
            return rc;
        }
        for (int s = 0; s < cfg->shift.n_severities; s++) {
            sa_cell *c = &cells[k++];
            snprintf(c->split, sizeof c->split, "%s", split_name(cfg));
            snprintf(c->shift, sizeof c->shift, "%s", cfg->shift.corruptions[i]);
            c->severity = cfg->shift.severities[s];
            c->corruption = (int)kind;
            /* ImageNet-C: <dir>/<corruption>/<severity>/, already corrupted. */
            c->corrupt = !from_disk;
            if (from_disk) {
                int w = snprintf(c->dir, sizeof c->dir, "%s/%s/%d", cfg->data.dir,
                                 cfg->shift.corruptions[i], c->severity);
                if (w < 0 || (size_t)w >= sizeof c->dir) {
                    free(cells);
                    return sa_error_set(err, SA_EINVAL, "run", "path too long under %s",
                                        cfg->data.dir);
                }
            } else if (folder) {
                snprintf(c->dir, sizeof c->dir, "%s", cfg->data.dir);
            }
        }
    }
    plan->n_cells = n;
    plan->cells = cells;
    return 0;
}

void sa_plan_free(sa_plan *plan)
{
    if (!plan)
        return;
    free(plan->cells);
    plan->cells = NULL;
    plan->n_cells = 0;
}
