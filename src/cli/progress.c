#include <math.h>
#include <stdio.h>

#include "cli.h"

void sa_cli_progress_cb(void *user, const sa_progress *p)
{
    sa_cli_progress *st = user;
    if (st->quiet)
        return;
    if (p->state != 0) {
        if (st->tty)
            fprintf(stderr, "\r\033[K");
        fprintf(stderr, "[%d/%d] %-22s %s", p->cell + 1, p->n_cells, p->cell_name,
                p->state == 2 ? "reused " : "");
        for (int i = 0; i < p->n_methods; i++)
            fprintf(stderr, " %s %.2f%%", p->labels[i], p->errors[i]);
        fprintf(stderr, "  (%.0fs)\n", p->run_seconds);
        st->last_print = p->run_seconds;
        return;
    }
    double rate = p->cell_seconds > 0 ? (double)p->done / p->cell_seconds : 0.0;
    double eta_cell = rate > 0 ? (double)(p->total - p->done) / rate : 0.0;
    /* Whole-run ETA assumes the remaining cells take as long as this one. */
    double per_cell = rate > 0 ? (double)p->total / rate : 0.0;
    double eta = eta_cell + per_cell * (p->n_cells - p->cell - 1);
    if (st->tty) {
        fprintf(stderr, "\r\033[K[%d/%d] %s  %zu/%zu images  %.0f img/s  ETA %.0fs", p->cell + 1,
                p->n_cells, p->cell_name, p->done, p->total, rate, eta);
        fflush(stderr);
    } else if (p->run_seconds - st->last_print >= 10.0) {
        fprintf(stderr, "[%d/%d] %s  %zu/%zu images  %.0f img/s  ETA %.0fs\n", p->cell + 1,
                p->n_cells, p->cell_name, p->done, p->total, rate, eta);
        st->last_print = p->run_seconds;
    }
}
