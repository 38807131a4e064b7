/* run.h - a configured run: plan its cells, execute them, store the results.
 *
 *     sa_config_hooks hooks = sa_run_config_hooks();
 *     sa_config_load(&cfg, "configs/demo.yaml", &hooks, &err);
 *     sa_run_options o = sa_run_options_default();
 *     o.progress = print_progress; o.user = &state;
 *     sa_run_result *res = NULL;
 *     if (sa_run_execute(cfg, &o, &res, &err) < 0) ...;
 *     sa_table_text(res->table, "cell", &out);   // rows: cells (+ mean), columns: methods
 *     sa_run_result_free(res);
 *
 * A cell is one (split, shift, severity), e.g. fmnist / gaussian_noise / 5,
 * or fmnist / clean / 0. All methods see the same batches of a cell: each
 * batch is loaded and corrupted once and handed to every method, and each
 * method starts every cell from the source model.
 *
 * Files, under <run.output>/<run.name>/:
 *   config.yaml                            the resolved configuration
 *   cells/<split>/<shift>/<severity>.json  one per finished cell ("selfadapt-cell/1")
 *   summary.csv, summary.md, summary.json  error per cell and method, and means
 * Every file is written atomically (temp file + rename), so a cell file
 * exists only for a finished cell. With resume, cells whose file exists and
 * carries the same config hash are read back instead of recomputed.
 */
#ifndef SA_RUN_H
#define SA_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "metrics.h"

typedef struct sa_cell {
    char split[32];    /* data set name, e.g. "fmnist", "imagenet-c" */
    char dir[1024];    /* image-folder directory of this cell ("" for Fashion-MNIST) */
    char shift[64];    /* corruption name or "clean" */
    int severity;      /* 1..5, 0 for clean */
    int corrupt;       /* 0 for the clean cell */
    int corruption;    /* sa_corruption when corrupt */
} sa_cell;

typedef struct sa_plan {
    int n_cells;
    sa_cell *cells; /* owned */
} sa_plan;

int sa_plan_make(sa_plan *plan, const sa_config *cfg, sa_error *err);
void sa_plan_free(sa_plan *plan);
/* "gaussian_noise/5" or "clean". */
void sa_cell_name(const sa_cell *c, char *buf, size_t n);

typedef struct sa_progress {
    int cell, n_cells;         /* 0-based cell being worked on */
    const char *cell_name;
    size_t done, total;        /* images of this cell processed */
    double cell_seconds;       /* wall time in this cell */
    double run_seconds;        /* wall time since the run started */
    int state;                 /* 0 running, 1 cell finished, 2 cell reused (resume) */
    int n_methods;
    const char *const *labels; /* method labels */
    const double *errors;      /* running error per method, percent */
} sa_progress;

typedef struct sa_run_options {
    int resume;                                 /* reuse finished cells with the same config */
    const volatile sig_atomic_t *stop;          /* set non-zero to stop after the current batch */
    void (*progress)(void *user, const sa_progress *p);
    void *user;
    const sa_logger *log;                       /* NULL: silent */
} sa_run_options;

sa_run_options sa_run_options_default(void);

typedef struct sa_run_result {
    char dir[1024];     /* the run directory */
    sa_table *table;    /* rows: cells then "mean (corrupted)"; columns: methods */
    double seconds;     /* wall time of the run */
    int cells_computed;
    int cells_reused;
} sa_run_result;

/* Hooks that let the config layer validate method/corruption/table names. */
sa_config_hooks sa_run_config_hooks(void);
/* Hash of everything in the config that affects results (not name/output/threads). */
uint64_t sa_config_hash(const sa_config *cfg);

int sa_run_execute(const sa_config *cfg, const sa_run_options *o, sa_run_result **out, sa_error *err);
void sa_run_result_free(sa_run_result *r);

#endif
