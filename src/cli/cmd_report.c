/* selfadapt report RUN_DIR... [--out DIR] [--alexnet-clean PCT]
 *
 * A leaderboard over finished runs: one row per (model, method label), read
 * from each run's cells/<split>/<shift>/<severity>.json files. Columns, for
 * the splits the runs contain:
 *   mCE           ImageNet-C mCE (AlexNet-normalised, 15 corruptions x 5 severities)
 *   rel. mCE      with --alexnet-clean PCT (AlexNet's clean error, which is not among
 *                 the published constants; 43.45 is a third-party value, unverified)
 *                 and a clean ImageNet-C cell
 *   IN-C err      mean error over the corrupted ImageNet-C cells
 *   IN-R err, IN-A err        mean error over the cells of imagenet-r / imagenet-a
 *   IN-D err, IN-D109 err     mean over the cells of splits imagenet-d* / imagenet-d109*
 *                             (one cell per domain: split imagenet-d with the domain
 *                             as shift, or splits such as imagenet-d-clipart)
 *   <split> err   any other split (fmnist): mean error over its corrupted cells
 *                 (all its cells if none is corrupted); <split> clean: its clean cell
 * A run directory holding reference.json (format selfadapt-reference/1, see
 * configs/paper/README.md) adds the published numbers as "(paper)" columns.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fs.h"
#include "json.h"
#include "metrics.h"
#include "strbuf.h"

#define REPORT_FORMAT "selfadapt-leaderboard/1"
#define REFERENCE_FORMAT "selfadapt-reference/1"
#define MAX_OTHER 16
#define NAME_LEN 128

enum { K_MCE, K_REL, K_INC, K_INR, K_INA, K_IND, K_IND109, K_FIXED };

static const struct {
    const char *column; /* ours */
    const char *key;    /* reference.json key and leaderboard.json key */
} fixed[K_FIXED] = {
    {"mCE", "mCE"},           {"rel. mCE", "rel_mCE"},       {"IN-C err", "imagenet_c"},
    {"IN-R err", "imagenet_r"}, {"IN-A err", "imagenet_a"}, {"IN-D err", "imagenet_d"},
    {"IN-D109 err", "imagenet_d109"},
};

typedef struct cell_rec {
    char split[NAME_LEN];
    char shift[NAME_LEN];
    int severity;
    double error;
} cell_rec;

typedef struct row {
    char run[1024];
    char model[NAME_LEN];
    char method[NAME_LEN]; /* label */
    cell_rec *cells;
    int n_cells, cap;
    double ours[K_FIXED];
    double paper[K_FIXED];
    char paper_source[512];
    double other_err[MAX_OTHER], other_clean[MAX_OTHER];
} row;

typedef struct board {
    row *rows;
    int n_rows, cap;
    char other[MAX_OTHER][NAME_LEN]; /* other splits, first-met order */
    int n_other;
} board;

static void board_free(board *b)
{
    for (int i = 0; i < b->n_rows; i++)
        free(b->rows[i].cells);
    free(b->rows);
}

static row *board_row(board *b, const char *run, const char *model, const char *method)
{
    for (int i = 0; i < b->n_rows; i++)
        if (strcmp(b->rows[i].run, run) == 0 && strcmp(b->rows[i].method, method) == 0)
            return &b->rows[i];
    if (b->n_rows == b->cap) {
        int cap = b->cap ? 2 * b->cap : 8;
        row *r = realloc(b->rows, (size_t)cap * sizeof *r);
        if (!r)
            return NULL;
        b->rows = r;
        b->cap = cap;
    }
    row *r = &b->rows[b->n_rows++];
    memset(r, 0, sizeof *r);
    snprintf(r->run, sizeof r->run, "%s", run);
    snprintf(r->model, sizeof r->model, "%s", model);
    snprintf(r->method, sizeof r->method, "%s", method);
    for (int k = 0; k < K_FIXED; k++)
        r->ours[k] = r->paper[k] = NAN;
    for (int k = 0; k < MAX_OTHER; k++)
        r->other_err[k] = r->other_clean[k] = NAN;
    return r;
}

static int row_add(row *r, const char *split, const char *shift, int severity, double error)
{
    if (r->n_cells == r->cap) {
        int cap = r->cap ? 2 * r->cap : 32;
        cell_rec *c = realloc(r->cells, (size_t)cap * sizeof *c);
        if (!c)
            return -1;
        r->cells = c;
        r->cap = cap;
    }
    cell_rec *c = &r->cells[r->n_cells++];
    snprintf(c->split, sizeof c->split, "%s", split);
    snprintf(c->shift, sizeof c->shift, "%s", shift);
    c->severity = severity;
    c->error = error;
    return 0;
}

/* Sorted names of the entries of dir (without "." and ".."); caller frees. */
static int list_dir(const char *dir, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(*names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            *names = nn;
        }
        (*names)[*n] = strdup(e->d_name);
        if (!(*names)[*n])
            break;
        (*n)++;
    }
    closedir(d);
    for (int i = 1; i < *n; i++) /* insertion sort: small directories */
        for (int j = i; j > 0 && strcmp((*names)[j - 1], (*names)[j]) > 0; j--) {
            char *t = (*names)[j];
            (*names)[j] = (*names)[j - 1];
            (*names)[j - 1] = t;
        }
    return 0;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The value of `key:` inside the top-level `section:` of a YAML file, by a
 * line scan (so that report reads runs whose config has keys this build
 * does not know). Empty if absent. */
static void yaml_lookup(const char *text, const char *section, const char *key, char *out, size_t n)
{
    out[0] = '\0';
    size_t sl = strlen(section), kl = strlen(key);
    int in = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (*p != ' ' && *p != '\n' && *p != '#') {
            in = strncmp(p, section, sl) == 0 && p[sl] == ':';
            continue;
        }
        const char *q = p;
        while (*q == ' ')
            q++;
        if (!in || strncmp(q, key, kl) != 0 || q[kl] != ':')
            continue;
        q += kl + 1;
        while (*q == ' ')
            q++;
        size_t len = strcspn(q, "\n#");
        while (len > 0 && (q[len - 1] == ' ' || q[len - 1] == '\r'))
            len--;
        if (len >= 2 && (q[0] == '"' || q[0] == '\'') && q[len - 1] == q[0]) {
            q++;
            len -= 2;
        }
        snprintf(out, n, "%.*s", (int)len, q);
        return;
    }
}

/* Model name of a run: the file name of model.path without its extension,
 * else the run directory's name. */
static void run_model_name(const char *dir, char *out, size_t n)
{
    char path[1200], *text = NULL;
    size_t len;
    out[0] = '\0';
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    if (sa_fs_exists(path) && sa_fs_read_all(path, &text, &len, NULL) == 0) {
        char model[512];
        yaml_lookup(text, "model", "path", model, sizeof model);
        free(text);
        const char *base = strrchr(model, '/');
        base = base ? base + 1 : model;
        char *dot = strrchr(base, '.');
        if (dot && dot != base)
            *dot = '\0';
        snprintf(out, n, "%s", base);
    }
    if (!out[0]) {
        char d[1024];
        snprintf(d, sizeof d, "%s", dir);
        size_t l = strlen(d);
        while (l > 1 && d[l - 1] == '/')
            d[--l] = '\0';
        const char *base = strrchr(d, '/');
        snprintf(out, n, "%s", base ? base + 1 : d);
    }
}

static int read_cell(board *b, const char *run, const char *model, const char *path, sa_error *err)
{
    sa_json *doc = NULL;
    int rc = sa_json_load_file(&doc, path, err);
    if (rc < 0)
        return rc;
    const char *fmt = sa_json_str(sa_json_get(doc, "format"));
    const char *split = sa_json_str(sa_json_get(doc, "split"));
    const char *shift = sa_json_str(sa_json_get(doc, "shift"));
    const sa_json *methods = sa_json_get(doc, "methods");
    double sev;
    if (!fmt || strcmp(fmt, "selfadapt-cell/1") != 0)
        rc = sa_error_set(err, SA_EFORMAT, "report", "%s: not a selfadapt-cell/1 file (key format)",
                          path);
    else if (!split || !shift || sa_json_num(sa_json_get(doc, "severity"), &sev) < 0)
        rc = sa_error_set(err, SA_EFORMAT, "report", "%s: missing split, shift or severity", path);
    else if (sa_json_kind(methods) != SA_JSON_ARR)
        rc = sa_error_set(err, SA_EFORMAT, "report", "%s: key methods is not an array", path);
    for (size_t i = 0; rc == 0 && i < sa_json_len(methods); i++) {
        const sa_json *m = sa_json_at(methods, i);
        const char *label = sa_json_str(sa_json_get(m, "label"));
        double e;
        if (!label || sa_json_num(sa_json_get(m, "error"), &e) < 0) {
            rc = sa_error_set(err, SA_EFORMAT, "report", "%s: methods[%zu] lacks label or error",
                              path, i);
            break;
        }
        row *r = board_row(b, run, model, label);
        if (!r || row_add(r, split, shift, (int)sev, e) < 0)
            rc = sa_error_set(err, SA_ENOMEM, "report", "out of memory");
    }
    sa_json_free(doc);
    return rc;
}

static int read_run(board *b, const char *run, sa_error *err)
{
    char cells[1100];
    if (sa_fs_join(cells, sizeof cells, run, "cells", err) < 0)
        return SA_EINVAL;
    if (!sa_fs_is_dir(cells))
        return sa_error_set(err, SA_EINVAL, "report",
                            "%s has no cells/ directory: not a run directory (hint: run "
                            "`selfadapt run CONFIG.yaml` first)",
                            run);
    char model[NAME_LEN];
    run_model_name(run, model, sizeof model);
    char **splits, **shifts, **files;
    int ns, nh, nf, rc = 0, found = 0;
    list_dir(cells, &splits, &ns);
    for (int i = 0; rc == 0 && i < ns; i++) {
        char sdir[1400];
        snprintf(sdir, sizeof sdir, "%s/%s", cells, splits[i]);
        if (list_dir(sdir, &shifts, &nh) < 0)
            continue;
        for (int j = 0; rc == 0 && j < nh; j++) {
            char hdir[1600];
            snprintf(hdir, sizeof hdir, "%s/%s", sdir, shifts[j]);
            if (list_dir(hdir, &files, &nf) < 0)
                continue;
            for (int k = 0; rc == 0 && k < nf; k++) {
                size_t l = strlen(files[k]);
                if (l < 6 || strcmp(files[k] + l - 5, ".json") != 0)
                    continue;
                char path[1900];
                snprintf(path, sizeof path, "%s/%s", hdir, files[k]);
                rc = read_cell(b, run, model, path, err);
                found++;
            }
            free_names(files, nf);
        }
        free_names(shifts, nh);
    }
    free_names(splits, ns);
    if (rc == 0 && !found)
        rc = sa_error_set(err, SA_EINVAL, "report", "%s: no finished cells under cells/", run);
    return rc;
}

/* Published numbers: reference.json holds one entry object, or
 * {"format": "selfadapt-reference/1", "entries": [...]}; an entry applies to
 * the rows whose method label equals its "method". */
static int read_reference(board *b, const char *run, sa_error *err)
{
    char path[1100];
    if (sa_fs_join(path, sizeof path, run, "reference.json", err) < 0)
        return SA_EINVAL;
    if (!sa_fs_exists(path))
        return 0;
    sa_json *doc = NULL;
    int rc = sa_json_load_file(&doc, path, err);
    if (rc < 0)
        return rc;
    const sa_json *entries = sa_json_get(doc, "entries");
    const char *fmt = sa_json_str(sa_json_get(doc, "format"));
    if (fmt && strcmp(fmt, REFERENCE_FORMAT) != 0)
        rc = sa_error_set(err, SA_EFORMAT, "report", "%s: format is '%s', expected %s", path, fmt,
                          REFERENCE_FORMAT);
    size_t n = entries ? sa_json_len(entries) : 1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const sa_json *e = entries ? sa_json_at(entries, i) : doc;
        const char *method = sa_json_str(sa_json_get(e, "method"));
        if (!method) {
            rc = sa_error_set(err, SA_EFORMAT, "report", "%s: entry %zu lacks key method", path, i);
            break;
        }
        const char *source = sa_json_str(sa_json_get(e, "source"));
        const char *model = sa_json_str(sa_json_get(e, "model"));
        for (int r = 0; r < b->n_rows; r++) {
            row *w = &b->rows[r];
            if (strcmp(w->run, run) != 0 || strcmp(w->method, method) != 0)
                continue;
            for (int k = 0; k < K_FIXED; k++) {
                double v;
                if (sa_json_num(sa_json_get(e, fixed[k].key), &v) == 0)
                    w->paper[k] = v;
            }
            snprintf(w->paper_source, sizeof w->paper_source, "%s%s%s", model ? model : "",
                     model && source ? ": " : "", source ? source : "");
        }
    }
    sa_json_free(doc);
    return rc;
}

static int starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* A table of one row's cells of one split kind: rows "shift/severity" or "clean". */
static int split_table(sa_table **out, const row *r, const char *split, sa_error *err)
{
    int n = 0;
    for (int i = 0; i < r->n_cells; i++)
        n += strcmp(r->cells[i].split, split) == 0;
    int rc = sa_table_new(out, n, 1, err);
    if (rc < 0)
        return rc;
    sa_table_set_col(*out, 0, r->method);
    int k = 0;
    for (int i = 0; i < r->n_cells; i++) {
        const cell_rec *c = &r->cells[i];
        if (strcmp(c->split, split) != 0)
            continue;
        char name[2 * NAME_LEN + 16];
        if (c->severity == 0 || strcmp(c->shift, "clean") == 0)
            snprintf(name, sizeof name, "clean");
        else
            snprintf(name, sizeof name, "%s/%d", c->shift, c->severity);
        sa_table_set_row(*out, k, name);
        sa_table_set(*out, k++, 0, c->error);
    }
    return 0;
}

static double mean_where(const row *r, const char *prefix, const char *exclude)
{
    double s = 0.0;
    int n = 0;
    for (int i = 0; i < r->n_cells; i++) {
        const char *sp = r->cells[i].split;
        if (!starts_with(sp, prefix) || (exclude && starts_with(sp, exclude)))
            continue;
        s += r->cells[i].error;
        n++;
    }
    return n ? s / n : NAN;
}

static int other_index(board *b, const char *split)
{
    for (int i = 0; i < b->n_other; i++)
        if (strcmp(b->other[i], split) == 0)
            return i;
    if (b->n_other == MAX_OTHER)
        return -1;
    snprintf(b->other[b->n_other], NAME_LEN, "%s", split);
    return b->n_other++;
}

static int compute(board *b, double alexnet_clean, sa_error *err)
{
    for (int ri = 0; ri < b->n_rows; ri++) {
        row *r = &b->rows[ri];
        int has_c = 0;
        for (int i = 0; i < r->n_cells; i++) {
            const char *sp = r->cells[i].split;
            if (strcmp(sp, "imagenet-c") == 0)
                has_c = 1;
            else if (!starts_with(sp, "imagenet-r") && !starts_with(sp, "imagenet-a") &&
                     !starts_with(sp, "imagenet-d"))
                other_index(b, sp);
        }
        if (has_c) {
            sa_table *cells = NULL, *m = NULL;
            int rc = split_table(&cells, r, "imagenet-c", err);
            if (rc == 0)
                rc = sa_mce_table(&m, cells, alexnet_clean, err);
            if (rc == 0) {
                r->ours[K_MCE] = sa_table_get(m, 0, 0);
                r->ours[K_REL] = sa_table_get(m, 0, 1);
                r->ours[K_INC] = sa_table_get(m, 0, 2);
            }
            sa_table_free(m);
            sa_table_free(cells);
            if (rc < 0)
                return rc;
        }
        r->ours[K_INR] = mean_where(r, "imagenet-r", NULL);
        r->ours[K_INA] = mean_where(r, "imagenet-a", NULL);
        r->ours[K_IND] = mean_where(r, "imagenet-d", "imagenet-d109");
        r->ours[K_IND109] = mean_where(r, "imagenet-d109", NULL);
        for (int k = 0; k < b->n_other; k++) {
            double s = 0.0, clean = NAN;
            int n = 0, n_all = 0;
            double s_all = 0.0;
            for (int i = 0; i < r->n_cells; i++) {
                const cell_rec *c = &r->cells[i];
                if (strcmp(c->split, b->other[k]) != 0)
                    continue;
                s_all += c->error;
                n_all++;
                if (c->severity == 0 || strcmp(c->shift, "clean") == 0) {
                    clean = c->error;
                } else {
                    s += c->error;
                    n++;
                }
            }
            r->other_err[k] = n ? s / n : n_all ? s_all / n_all : NAN;
            r->other_clean[k] = clean;
        }
    }
    return 0;
}

/* Which columns exist: ours[k] when some row has it, paper[k] likewise. */
typedef struct colspec {
    int kind; /* 0 ours fixed, 1 paper fixed, 2 other err, 3 other clean */
    int k;
    char name[NAME_LEN + 16];
} colspec;

static int columns(const board *b, colspec *cols)
{
    int n = 0;
    for (int k = 0; k < K_FIXED; k++) {
        int ours = 0, paper = 0;
        for (int r = 0; r < b->n_rows; r++) {
            ours |= !isnan(b->rows[r].ours[k]);
            paper |= !isnan(b->rows[r].paper[k]);
        }
        if (ours || paper) {
            cols[n].kind = 0;
            cols[n].k = k;
            snprintf(cols[n++].name, sizeof cols[0].name, "%s", fixed[k].column);
        }
        if (paper) {
            cols[n].kind = 1;
            cols[n].k = k;
            snprintf(cols[n++].name, sizeof cols[0].name, "%s (paper)", fixed[k].column);
        }
    }
    for (int k = 0; k < b->n_other; k++) {
        int clean = 0;
        for (int r = 0; r < b->n_rows; r++)
            clean |= !isnan(b->rows[r].other_clean[k]);
        cols[n].kind = 2;
        cols[n].k = k;
        snprintf(cols[n++].name, sizeof cols[0].name, "%s err", b->other[k]);
        if (clean) {
            cols[n].kind = 3;
            cols[n].k = k;
            snprintf(cols[n++].name, sizeof cols[0].name, "%s clean", b->other[k]);
        }
    }
    return n;
}

static double col_value(const row *r, const colspec *c)
{
    switch (c->kind) {
    case 0: return r->ours[c->k];
    case 1: return r->paper[c->k];
    case 2: return r->other_err[c->k];
    default: return r->other_clean[c->k];
    }
}

static void json_num(sa_strbuf *out, double v)
{
    if (isnan(v))
        sa_strbuf_printf(out, "null");
    else
        sa_strbuf_printf(out, "%.4f", v);
}

static void leaderboard_json(const board *b, const colspec *cols, int n_cols, sa_strbuf *out)
{
    sa_strbuf_printf(out, "{\n  \"format\": \"%s\",\n  \"columns\": [", REPORT_FORMAT);
    for (int c = 0; c < n_cols; c++) {
        sa_strbuf_printf(out, "%s", c ? ", " : "");
        sa_strbuf_json_str(out, cols[c].name);
    }
    sa_strbuf_printf(out, "],\n  \"rows\": [\n");
    for (int r = 0; r < b->n_rows; r++) {
        const row *w = &b->rows[r];
        sa_strbuf_printf(out, "    {\"run\": ");
        sa_strbuf_json_str(out, w->run);
        sa_strbuf_printf(out, ", \"model\": ");
        sa_strbuf_json_str(out, w->model);
        sa_strbuf_printf(out, ", \"method\": ");
        sa_strbuf_json_str(out, w->method);
        sa_strbuf_printf(out, ",\n     \"values\": {");
        for (int c = 0; c < n_cols; c++) {
            sa_strbuf_printf(out, "%s", c ? ", " : "");
            sa_strbuf_json_str(out, cols[c].name);
            sa_strbuf_printf(out, ": ");
            json_num(out, col_value(w, &cols[c]));
        }
        sa_strbuf_printf(out, "}");
        if (w->paper_source[0]) {
            sa_strbuf_printf(out, ",\n     \"paper_source\": ");
            sa_strbuf_json_str(out, w->paper_source);
        }
        sa_strbuf_printf(out, "}%s\n", r + 1 < b->n_rows ? "," : "");
    }
    sa_strbuf_printf(out, "  ]\n}\n");
}

/* "model / method", and " [run]" (the run directory's name) when another
 * row has the same model and method. */
static void row_name(const board *b, int r, char *out, size_t n)
{
    const row *w = &b->rows[r];
    int clash = 0;
    for (int i = 0; i < b->n_rows; i++)
        clash |= i != r && strcmp(b->rows[i].model, w->model) == 0 &&
                 strcmp(b->rows[i].method, w->method) == 0;
    if (!clash) {
        snprintf(out, n, "%s / %s", w->model, w->method);
        return;
    }
    char d[1024];
    snprintf(d, sizeof d, "%s", w->run);
    size_t l = strlen(d);
    while (l > 1 && d[l - 1] == '/')
        d[--l] = '\0';
    const char *base = strrchr(d, '/');
    snprintf(out, n, "%s / %s [%s]", w->model, w->method, base ? base + 1 : d);
}

/* Chart: mean error over severities per corruption of the first split with
 * corrupted cells (imagenet-c first), one bar per leaderboard row. */
static int chart(const board *b, sa_strbuf *out, sa_error *err)
{
    const char *split = NULL;
    for (int r = 0; r < b->n_rows && !split; r++)
        for (int i = 0; i < b->rows[r].n_cells; i++)
            if (strcmp(b->rows[r].cells[i].split, "imagenet-c") == 0)
                split = "imagenet-c";
    for (int r = 0; r < b->n_rows && !split; r++)
        for (int i = 0; i < b->rows[r].n_cells && !split; i++)
            if (b->rows[r].cells[i].severity > 0)
                split = b->rows[r].cells[i].split;
    if (!split)
        return 0;
    /* shifts: union over rows, first-met order */
    char (*shift)[NAME_LEN] = NULL;
    int n_shift = 0, cap = 0, rc = 0;
    sa_table **per = calloc((size_t)b->n_rows + 1, sizeof *per);
    if (!per)
        return sa_error_set(err, SA_ENOMEM, "report", "out of memory");
    for (int r = 0; rc == 0 && r < b->n_rows; r++) {
        sa_table *cells = NULL;
        rc = split_table(&cells, &b->rows[r], split, err);
        if (rc == 0)
            rc = sa_mce_table(&per[r], cells, NAN, err);
        sa_table_free(cells);
        for (int c = 4; rc == 0 && c < sa_table_cols(per[r]); c++) {
            const char *name = sa_table_col_name(per[r], c);
            int found = 0;
            for (int k = 0; k < n_shift; k++)
                found |= strcmp(shift[k], name) == 0;
            if (found)
                continue;
            if (n_shift == cap) {
                cap = cap ? 2 * cap : 32;
                char (*ns)[NAME_LEN] = realloc(shift, (size_t)cap * sizeof *ns);
                if (!ns) {
                    rc = sa_error_set(err, SA_ENOMEM, "report", "out of memory");
                    break;
                }
                shift = ns;
            }
            snprintf(shift[n_shift++], NAME_LEN, "%s", name);
        }
    }
    sa_table *t = NULL;
    if (rc == 0)
        rc = sa_table_new(&t, n_shift, b->n_rows, err);
    for (int r = 0; rc == 0 && r < b->n_rows; r++) {
        char name[3 * NAME_LEN + 8];
        row_name(b, r, name, sizeof name);
        sa_table_set_col(t, r, name);
        for (int k = 0; k < n_shift; k++) {
            sa_table_set_row(t, k, shift[k]);
            for (int c = 4; c < sa_table_cols(per[r]); c++)
                if (strcmp(sa_table_col_name(per[r], c), shift[k]) == 0)
                    sa_table_set(t, k, r, sa_table_get(per[r], 0, c));
        }
    }
    if (rc == 0) {
        char title[NAME_LEN + 64];
        snprintf(title, sizeof title, "%s: error per corruption (mean over severities)", split);
        sa_svg_bars(out, t, title, "top-1 error (%)");
    }
    sa_table_free(t);
    for (int r = 0; r < b->n_rows; r++)
        sa_table_free(per[r]);
    free(per);
    free(shift);
    return rc;
}

static int write_out(const char *dir, const char *name, const sa_strbuf *text, sa_error *err)
{
    if (text->oom)
        return sa_error_set(err, SA_ENOMEM, "report", "out of memory");
    char path[1200];
    if (sa_fs_join(path, sizeof path, dir, name, err) < 0)
        return SA_EINVAL;
    return sa_fs_write_atomic(path, text->data ? text->data : "", text->len, err);
}

static void usage_report(FILE *f)
{
    fprintf(f, "usage: selfadapt report RUN_DIR... [--out DIR] [--alexnet-clean PCT]\n");
}

int sa_cli_report(int argc, char **argv)
{
    const char *out_dir = NULL;
    double alexnet_clean = NAN;
    int n_runs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (strcmp(argv[i], "--alexnet-clean") == 0 && i + 1 < argc) {
            char *end;
            alexnet_clean = strtod(argv[++i], &end);
            if (*end || !(alexnet_clean > 0.0 && alexnet_clean < 100.0)) {
                fprintf(stderr, "selfadapt report: --alexnet-clean wants a percentage, got '%s'\n",
                        argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage_report(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "selfadapt report: unknown option '%s'\n", argv[i]);
            usage_report(stderr);
            return 2;
        } else {
            n_runs++;
        }
    }
    if (n_runs == 0) {
        usage_report(stderr);
        return 2;
    }
    board b = {0};
    sa_error err = {0};
    int rc = 0;
    for (int i = 1; rc == 0 && i < argc; i++) {
        if (argv[i][0] == '-') {
            i++;
            continue;
        }
        rc = read_run(&b, argv[i], &err);
        if (rc == 0)
            rc = read_reference(&b, argv[i], &err);
    }
    if (rc == 0)
        rc = compute(&b, alexnet_clean, &err);
    colspec *cols = NULL;
    sa_table *t = NULL;
    if (rc == 0) {
        cols = calloc(2 * K_FIXED + 2 * MAX_OTHER, sizeof *cols);
        if (!cols)
            rc = sa_error_set(&err, SA_ENOMEM, "report", "out of memory");
    }
    int n_cols = rc == 0 ? columns(&b, cols) : 0;
    if (rc == 0)
        rc = sa_table_new(&t, b.n_rows, n_cols, &err);
    if (rc == 0) {
        for (int c = 0; c < n_cols; c++)
            sa_table_set_col(t, c, cols[c].name);
        for (int r = 0; r < b.n_rows; r++) {
            char name[3 * NAME_LEN + 8];
            row_name(&b, r, name, sizeof name);
            sa_table_set_row(t, r, name);
            for (int c = 0; c < n_cols; c++)
                sa_table_set(t, r, c, col_value(&b.rows[r], &cols[c]));
        }
        sa_strbuf text = {0}, notes = {0};
        sa_table_text(t, "model / method", &text);
        int any_paper = 0;
        for (int r = 0; r < b.n_rows; r++)
            if (b.rows[r].paper_source[0]) {
                char name[3 * NAME_LEN + 8];
                row_name(&b, r, name, sizeof name);
                if (!any_paper++)
                    sa_strbuf_printf(&notes, "\n(paper) columns: published numbers, not ours:\n");
                sa_strbuf_printf(&notes, "  %s: %s\n", name, b.rows[r].paper_source);
            }
        if (!isnan(alexnet_clean))
            sa_strbuf_printf(&notes, "\nrel. mCE uses AlexNet clean error %.2f%% as given%s.\n",
                             alexnet_clean,
                             fabs(alexnet_clean - SA_ALEXNET_CLEAN_ERROR_UNVERIFIED) < 1e-9
                                 ? " (a third-party value, not verified against the ImageNet-C "
                                   "paper)"
                                 : "");
        fputs(text.data ? text.data : "", stdout);
        fputs(notes.data ? notes.data : "", stdout);
        if (out_dir) {
            sa_strbuf md = {0}, csv = {0}, js = {0}, svg = {0};
            sa_strbuf_printf(&md, "# Leaderboard\n\nTop-1 error (%%) and mCE (%%, AlexNet-normalised)"
                                  " per model and method.\n\n");
            sa_table_markdown(t, "model / method", &md);
            if (notes.data)
                sa_strbuf_printf(&md, "%s", notes.data);
            sa_table_csv(t, "model / method", &csv);
            leaderboard_json(&b, cols, n_cols, &js);
            rc = sa_fs_mkdirs(out_dir, &err);
            if (rc == 0)
                rc = write_out(out_dir, "leaderboard.md", &md, &err);
            if (rc == 0)
                rc = write_out(out_dir, "leaderboard.csv", &csv, &err);
            if (rc == 0)
                rc = write_out(out_dir, "leaderboard.json", &js, &err);
            if (rc == 0)
                rc = chart(&b, &svg, &err);
            if (rc == 0 && svg.len)
                rc = write_out(out_dir, "errors.svg", &svg, &err);
            if (rc == 0)
                fprintf(stderr, "selfadapt: wrote %s/leaderboard.{md,csv,json}%s\n", out_dir,
                        svg.len ? " and errors.svg" : "");
            sa_strbuf_free(&md);
            sa_strbuf_free(&csv);
            sa_strbuf_free(&js);
            sa_strbuf_free(&svg);
        }
        sa_strbuf_free(&text);
        sa_strbuf_free(&notes);
    }
    sa_table_free(t);
    free(cols);
    board_free(&b);
    if (rc < 0) {
        fprintf(stderr, "selfadapt: %s\n", err.msg);
        return 1;
    }
    return 0;
}
