/* store.h - cell result files (internal to run/). */
#ifndef SA_RUN_STORE_H
#define SA_RUN_STORE_H

#include <stdint.h>

#include "config.h"
#include "error.h"
#include "metrics.h"
#include "run.h"

#define SA_CELL_FORMAT "selfadapt-cell/1"


typedef struct sa_cell_result {
    int n_methods;
    int64_t skipped; /* unreadable images skipped (per pass) */
    struct {
        char label[SA_CFG_STR];
        char method[SA_CFG_STR];
        sa_acc acc;       /* online: first epoch, each batch predicted before its update */
        sa_acc final;     /* pass without updates after adapting (n = 0 if not run) */
        double mean_loss; /* mean loss of the updates */
        int resets;       /* resets after a non-finite loss */
    } m[SA_CFG_MAX_METHODS];
} sa_cell_result;

/* The error a report shows for a method of a cell: the final pass when it
 * was run, else the online error. */
double sa__cell_error(const sa_cell_result *r, int method);

/* <dir>/cells/<split>/<shift>/<severity>.json */
int sa__cell_path(char *buf, size_t n, const char *run_dir, const sa_cell *c, sa_error *err);
int sa__cell_write(const char *path, const sa_cell *c, uint64_t hash, const sa_cell_result *r,
                   sa_error *err);
/* Read a cell file back. Returns 1 if it exists, parses, matches `hash` and
 * has the expected method labels; 0 if it is absent or stale (reason in
 * `why`); negative on an I/O error. */
int sa__cell_read(const char *path, uint64_t hash, const sa_config *cfg, sa_cell_result *r,
                  char *why, size_t why_n, sa_error *err);

#endif
