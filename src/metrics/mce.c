/* mCE and relative mCE (definitions in metrics.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const struct {
    const char *name;
    double error; /* fraction */
} alexnet[SA_MCE_CORRUPTIONS] = {
#include "alexnet.inc"
};

const char *sa_mce_corruption(int i)
{
    return i >= 0 && i < SA_MCE_CORRUPTIONS ? alexnet[i].name : NULL;
}

int sa_mce_corruption_index(const char *name)
{
    for (int i = 0; i < SA_MCE_CORRUPTIONS; i++)
        if (strcmp(alexnet[i].name, name) == 0)
            return i;
    return -1;
}

double sa_alexnet_error(const char *corruption)
{
    int i = sa_mce_corruption_index(corruption);
    return i < 0 ? NAN : 100.0 * alexnet[i].error;
}

void sa_mce_compute(sa_mce *out, const double err[SA_MCE_CORRUPTIONS][SA_MCE_SEVERITIES],
                    double clean, double alexnet_clean)
{
    memset(out, 0, sizeof *out);
    out->clean_error = clean;
    double all = 0.0, ce_sum = 0.0, rel_sum = 0.0;
    int complete = 1;
    for (int c = 0; c < SA_MCE_CORRUPTIONS; c++) {
        double s = 0.0;
        int n = 0;
        for (int k = 0; k < SA_MCE_SEVERITIES; k++)
            if (!isnan(err[c][k])) {
                s += err[c][k];
                n++;
            }
        all += s;
        out->n_cells += n;
        out->corruption_error[c] = n ? s / n : NAN;
        double a = 100.0 * alexnet[c].error;
        if (n == SA_MCE_SEVERITIES) {
            out->ce[c] = 100.0 * out->corruption_error[c] / a;
            out->rel_ce[c] = 100.0 * (out->corruption_error[c] - clean) / (a - alexnet_clean);
            ce_sum += out->ce[c];
            rel_sum += out->rel_ce[c];
        } else {
            out->ce[c] = out->rel_ce[c] = NAN;
            complete = 0;
        }
    }
    out->mean_error = out->n_cells ? all / out->n_cells : NAN;
    out->mce = complete ? ce_sum / SA_MCE_CORRUPTIONS : NAN;
    /* NAN clean errors propagate into rel_sum */
    out->rel_mce = complete ? rel_sum / SA_MCE_CORRUPTIONS : NAN;
}

enum { COL_MCE, COL_REL, COL_MEAN, COL_CLEAN, COL_FIRST_SHIFT };

int sa_mce_table(sa_table **out, const sa_table *cells, double alexnet_clean, sa_error *err)
{
    int rows = sa_table_rows(cells), methods = sa_table_cols(cells);
    /* distinct corruption names, in first-met order */
    int n_shift = 0;
    int *shift_of = malloc(((size_t)rows + 1) * sizeof *shift_of); /* row -> shift, -1 clean, -2 skip */
    int *sev_of = malloc(((size_t)rows + 1) * sizeof *sev_of);
    int *first_row = malloc(((size_t)rows + 1) * sizeof *first_row); /* shift -> a row naming it */
    if (!shift_of || !sev_of || !first_row) {
        free(shift_of);
        free(sev_of);
        free(first_row);
        return sa_error_set(err, SA_ENOMEM, "metrics", "out of memory");
    }
    for (int r = 0; r < rows; r++) {
        const char *name = sa_table_row_name(cells, r);
        const char *slash = strrchr(name, '/');
        shift_of[r] = -2;
        sev_of[r] = 0;
        if (strcmp(name, "clean") == 0) {
            shift_of[r] = -1;
            continue;
        }
        char *end;
        long sev = slash ? strtol(slash + 1, &end, 10) : 0;
        if (!slash || slash == name || end == slash + 1 || *end || sev < 1 || sev > SA_MCE_SEVERITIES)
            continue;
        size_t len = (size_t)(slash - name);
        int found = -1;
        for (int k = 0; k < n_shift && found < 0; k++) {
            const char *other = sa_table_row_name(cells, first_row[k]);
            if (strncmp(other, name, len) == 0 && other[len] == '/')
                found = k;
        }
        if (found < 0) {
            found = n_shift;
            first_row[n_shift++] = r;
        }
        shift_of[r] = found;
        sev_of[r] = (int)sev;
    }
    sa_table *t = NULL;
    int rc = sa_table_new(&t, methods, COL_FIRST_SHIFT + n_shift, err);
    if (rc == 0) {
        sa_table_set_col(t, COL_MCE, "mCE");
        sa_table_set_col(t, COL_REL, "rel. mCE");
        sa_table_set_col(t, COL_MEAN, "mean error");
        sa_table_set_col(t, COL_CLEAN, "clean");
        for (int k = 0; k < n_shift; k++) {
            char name[128];
            snprintf(name, sizeof name, "%s", sa_table_row_name(cells, first_row[k]));
            *strrchr(name, '/') = '\0';
            sa_table_set_col(t, COL_FIRST_SHIFT + k, name);
        }
        for (int m = 0; m < methods; m++) {
            sa_table_set_row(t, m, sa_table_col_name(cells, m));
            double e[SA_MCE_CORRUPTIONS][SA_MCE_SEVERITIES];
            for (int c = 0; c < SA_MCE_CORRUPTIONS; c++)
                for (int k = 0; k < SA_MCE_SEVERITIES; k++)
                    e[c][k] = NAN;
            double clean = NAN, all = 0.0;
            int n_all = 0;
            for (int k = 0; k < n_shift; k++) {
                double s = 0.0;
                int n = 0;
                for (int r = 0; r < rows; r++) {
                    double v = sa_table_get(cells, r, m);
                    if (shift_of[r] != k || isnan(v))
                        continue;
                    s += v;
                    n++;
                }
                all += s;
                n_all += n;
                sa_table_set(t, m, COL_FIRST_SHIFT + k, n ? s / n : NAN);
            }
            for (int r = 0; r < rows; r++) {
                double v = sa_table_get(cells, r, m);
                if (shift_of[r] == -1 && !isnan(v))
                    clean = v;
                if (shift_of[r] < 0)
                    continue;
                char name[128];
                snprintf(name, sizeof name, "%s", sa_table_row_name(cells, r));
                *strrchr(name, '/') = '\0';
                int c = sa_mce_corruption_index(name);
                if (c >= 0)
                    e[c][sev_of[r] - 1] = v;
            }
            sa_mce mc;
            sa_mce_compute(&mc, e, clean, alexnet_clean);
            sa_table_set(t, m, COL_MCE, mc.mce);
            sa_table_set(t, m, COL_REL, mc.rel_mce);
            sa_table_set(t, m, COL_MEAN, n_all ? all / n_all : NAN);
            sa_table_set(t, m, COL_CLEAN, clean);
        }
        *out = t;
    }
    free(shift_of);
    free(sev_of);
    free(first_row);
    return rc;
}
