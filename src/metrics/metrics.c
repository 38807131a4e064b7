#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 96

struct sa_table {
    int rows, cols;
    char (*row_names)[NAME_MAX_LEN];
    char (*col_names)[NAME_MAX_LEN];
    double *v;
};

void sa_acc_add(sa_acc *a, const int64_t *pred, const int64_t *labels, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a->wrong += pred[i] != labels[i];
    a->n += (int64_t)n;
}

double sa_acc_error(const sa_acc *a)
{
    return a->n > 0 ? 100.0 * (double)a->wrong / (double)a->n : NAN;
}

int sa_table_new(sa_table **out, int rows, int cols, sa_error *err)
{
    if (rows < 0 || cols < 0 || rows > 1000000 || cols > 10000)
        return sa_error_set(err, SA_EINVAL, "metrics", "bad table size %dx%d", rows, cols);
    sa_table *t = calloc(1, sizeof *t);
    if (!t)
        return sa_error_set(err, SA_ENOMEM, "metrics", "out of memory");
    t->rows = rows;
    t->cols = cols;
    t->row_names = calloc((size_t)rows + 1, sizeof *t->row_names);
    t->col_names = calloc((size_t)cols + 1, sizeof *t->col_names);
    t->v = malloc(((size_t)rows * (size_t)cols + 1) * sizeof *t->v);
    if (!t->row_names || !t->col_names || !t->v) {
        sa_table_free(t);
        return sa_error_set(err, SA_ENOMEM, "metrics", "out of memory");
    }
    for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
        t->v[i] = NAN;
    *out = t;
    return 0;
}

void sa_table_free(sa_table *t)
{
    if (!t)
        return;
    free(t->row_names);
    free(t->col_names);
    free(t->v);
    free(t);
}

void sa_table_set_row(sa_table *t, int r, const char *name)
{
    if (r >= 0 && r < t->rows)
        snprintf(t->row_names[r], NAME_MAX_LEN, "%s", name);
}

void sa_table_set_col(sa_table *t, int c, const char *name)
{
    if (c >= 0 && c < t->cols)
        snprintf(t->col_names[c], NAME_MAX_LEN, "%s", name);
}

void sa_table_set(sa_table *t, int r, int c, double v)
{
    if (r >= 0 && r < t->rows && c >= 0 && c < t->cols)
        t->v[(size_t)r * (size_t)t->cols + (size_t)c] = v;
}

double sa_table_get(const sa_table *t, int r, int c)
{
    if (r < 0 || r >= t->rows || c < 0 || c >= t->cols)
        return NAN;
    return t->v[(size_t)r * (size_t)t->cols + (size_t)c];
}

int sa_table_rows(const sa_table *t)
{
    return t->rows;
}

int sa_table_cols(const sa_table *t)
{
    return t->cols;
}

double sa_table_col_mean(const sa_table *t, int c, int r0, int r1)
{
    double s = 0.0;
    int n = 0;
    for (int r = r0; r < r1; r++) {
        double v = sa_table_get(t, r, c);
        if (!isnan(v)) {
            s += v;
            n++;
        }
    }
    return n ? s / n : NAN;
}

static void cell_text(char *buf, size_t n, double v, const char *missing)
{
    if (isnan(v))
        snprintf(buf, n, "%s", missing);
    else
        snprintf(buf, n, "%.2f", v);
}

void sa_table_text(const sa_table *t, const char *corner, sa_strbuf *out)
{
    int w0 = (int)strlen(corner);
    for (int r = 0; r < t->rows; r++)
        if ((int)strlen(t->row_names[r]) > w0)
            w0 = (int)strlen(t->row_names[r]);
    int wc[t->cols > 0 ? t->cols : 1];
    for (int c = 0; c < t->cols; c++) {
        wc[c] = (int)strlen(t->col_names[c]);
        if (wc[c] < 6)
            wc[c] = 6;
    }
    sa_strbuf_printf(out, "%-*s", w0, corner);
    for (int c = 0; c < t->cols; c++)
        sa_strbuf_printf(out, "  %*s", wc[c], t->col_names[c]);
    sa_strbuf_printf(out, "\n");
    for (int r = 0; r < t->rows; r++) {
        sa_strbuf_printf(out, "%-*s", w0, t->row_names[r]);
        for (int c = 0; c < t->cols; c++) {
            char v[32];
            cell_text(v, sizeof v, sa_table_get(t, r, c), "-");
            sa_strbuf_printf(out, "  %*s", wc[c], v);
        }
        sa_strbuf_printf(out, "\n");
    }
}

static void csv_field(sa_strbuf *out, const char *s)
{
    if (strpbrk(s, ",\"\n")) {
        sa_strbuf_append(out, "\"", 1);
        for (; *s; s++) {
            if (*s == '"')
                sa_strbuf_append(out, "\"", 1);
            sa_strbuf_append(out, s, 1);
        }
        sa_strbuf_append(out, "\"", 1);
    } else {
        sa_strbuf_printf(out, "%s", s);
    }
}

void sa_table_csv(const sa_table *t, const char *corner, sa_strbuf *out)
{
    csv_field(out, corner);
    for (int c = 0; c < t->cols; c++) {
        sa_strbuf_append(out, ",", 1);
        csv_field(out, t->col_names[c]);
    }
    sa_strbuf_append(out, "\n", 1);
    for (int r = 0; r < t->rows; r++) {
        csv_field(out, t->row_names[r]);
        for (int c = 0; c < t->cols; c++) {
            char v[32];
            double x = sa_table_get(t, r, c);
            if (isnan(x))
                v[0] = '\0';
            else
                snprintf(v, sizeof v, "%.4f", x);
            sa_strbuf_printf(out, ",%s", v);
        }
        sa_strbuf_append(out, "\n", 1);
    }
}

void sa_table_markdown(const sa_table *t, const char *corner, sa_strbuf *out)
{
    sa_strbuf_printf(out, "| %s |", corner);
    for (int c = 0; c < t->cols; c++)
        sa_strbuf_printf(out, " %s |", t->col_names[c]);
    sa_strbuf_printf(out, "\n|---|");
    for (int c = 0; c < t->cols; c++)
        sa_strbuf_printf(out, "---:|");
    sa_strbuf_printf(out, "\n");
    for (int r = 0; r < t->rows; r++) {
        sa_strbuf_printf(out, "| %s |", t->row_names[r]);
        for (int c = 0; c < t->cols; c++) {
            char v[32];
            cell_text(v, sizeof v, sa_table_get(t, r, c), "-");
            sa_strbuf_printf(out, " %s |", v);
        }
        sa_strbuf_printf(out, "\n");
    }
}

const char *sa_table_row_name(const sa_table *t, int r)
{
    return r >= 0 && r < t->rows ? t->row_names[r] : "";
}

const char *sa_table_col_name(const sa_table *t, int c)
{
    return c >= 0 && c < t->cols ? t->col_names[c] : "";
}
