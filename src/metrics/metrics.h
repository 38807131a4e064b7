/* metrics.h - error accounting and the tables reports are made of.
 *
 *     sa_acc a = {0};
 *     sa_acc_add(&a, pred, labels, n);       // per batch
 *     double e = sa_acc_error(&a);           // percent, NAN if empty
 *
 *     sa_table *t = NULL;
 *     sa_table_new(&t, n_rows, n_cols, &err);
 *     sa_table_set_row(t, 0, "gaussian_noise/5"); sa_table_set_col(t, 0, "source");
 *     sa_table_set(t, 0, 0, 41.2);
 *     sa_strbuf out = {0};
 *     sa_table_text(t, &out);  sa_table_csv(t, &out);  sa_table_markdown(t, &out);
 *     sa_table_free(t);
 *
 * Errors are percentages (0..100). Missing values are NAN and print as "-"
 * (text, Markdown) or an empty field (CSV).
 */
#ifndef SA_METRICS_H
#define SA_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "strbuf.h"

typedef struct sa_acc {
    int64_t n;     /* predictions counted */
    int64_t wrong; /* of which wrong */
} sa_acc;

void sa_acc_add(sa_acc *a, const int64_t *pred, const int64_t *labels, size_t n);
double sa_acc_error(const sa_acc *a);

typedef struct sa_table sa_table;
int sa_table_new(sa_table **out, int rows, int cols, sa_error *err);
void sa_table_free(sa_table *t);
void sa_table_set_row(sa_table *t, int r, const char *name);
void sa_table_set_col(sa_table *t, int c, const char *name);
void sa_table_set(sa_table *t, int r, int c, double v);
double sa_table_get(const sa_table *t, int r, int c);
int sa_table_rows(const sa_table *t);
int sa_table_cols(const sa_table *t);
/* Row and column names; "" when out of range. Borrowed until sa_table_free. */
const char *sa_table_row_name(const sa_table *t, int r);
const char *sa_table_col_name(const sa_table *t, int c);
/* Mean of column c over rows [r0, r1), skipping NAN; NAN if none. */
double sa_table_col_mean(const sa_table *t, int c, int r0, int r1);

/* Renderings, appended to `out`. Values with two decimals. */
void sa_table_text(const sa_table *t, const char *corner, sa_strbuf *out);
void sa_table_csv(const sa_table *t, const char *corner, sa_strbuf *out);
void sa_table_markdown(const sa_table *t, const char *corner, sa_strbuf *out);

/* ---- ImageNet-C: mean corruption error ------------------------------------
 *
 *     double e[SA_MCE_CORRUPTIONS][5];     // percent, NAN where not measured
 *     sa_mce m;
 *     sa_mce_compute(&m, e, clean_error, SA_ALEXNET_CLEAN_ERROR_UNVERIFIED);
 *     // m.mce: 76.7 for a torchvision ResNet-50
 *
 * Definitions (Hendrycks & Dietterich 2019), errors E in percent:
 *   CE_c         = sum_s E_{s,c}(f) / sum_s E_{s,c}(AlexNet), s = 1..5
 *                = mean_s E_{s,c}(f) / AlexNet's mean error on c   (x 100)
 *   mCE          = mean of CE_c over the 15 benchmark corruptions
 *   relative CE_c = sum_s (E_{s,c}(f) - E_clean(f)) / sum_s (E_{s,c}(AlexNet) - E_clean(AlexNet))
 *   relative mCE = mean of relative CE_c over the 15 corruptions
 * AlexNet's per-corruption errors are the published constants (alexnet.inc,
 * from google-research/augmix imagenet.py). AlexNet's clean error is not among
 * them: relative mCE takes it as a parameter. SA_ALEXNET_CLEAN_ERROR_UNVERIFIED
 * (43.45) is the value third-party code uses; it has NOT been checked against
 * the ImageNet-C paper, so relative mCE computed with it is unverified.
 * mCE is reported only when all 15 x 5 cells are present (AlexNet's errors are
 * means over all five severities, so a subset would not be comparable).
 */
#define SA_MCE_CORRUPTIONS 15
#define SA_MCE_SEVERITIES 5
#define SA_ALEXNET_CLEAN_ERROR_UNVERIFIED 43.45

/* Name of benchmark corruption i (0..14), in benchmark order
 * (gaussian_noise ... jpeg_compression); NULL outside. Static string. */
const char *sa_mce_corruption(int i);
/* Index of a benchmark corruption, -1 if name is not one of the 15. */
int sa_mce_corruption_index(const char *name);
/* AlexNet's mean error (percent) on a benchmark corruption; NAN otherwise. */
double sa_alexnet_error(const char *corruption);

typedef struct sa_mce {
    double corruption_error[SA_MCE_CORRUPTIONS]; /* mean over measured severities; NAN if none */
    double ce[SA_MCE_CORRUPTIONS];               /* CE_c (percent); NAN unless 5 severities */
    double rel_ce[SA_MCE_CORRUPTIONS];           /* relative CE_c; NAN without clean errors */
    double mce;          /* NAN unless all 15 x 5 cells are present */
    double rel_mce;      /* NAN unless mce and both clean errors are known */
    double mean_error;   /* mean over all measured cells; NAN if none */
    double clean_error;  /* as given */
    int n_cells;         /* measured (non-NAN) cells */
} sa_mce;

/* err[c][s-1]: error (percent) on corruption c (sa_mce_corruption order) at
 * severity s, NAN where not measured. clean: the model's clean error, and
 * alexnet_clean: AlexNet's (percent), either NAN to skip relative mCE. */
void sa_mce_compute(sa_mce *out, const double err[SA_MCE_CORRUPTIONS][SA_MCE_SEVERITIES],
                    double clean, double alexnet_clean);

/* Metrics per method from a table of cell errors: rows named
 * "<corruption>/<severity>" or "clean" (others are ignored), one column per
 * method. *out (caller frees with sa_table_free) has one row per method (the
 * input's column names) and the columns "mCE", "rel. mCE", "mean error",
 * "clean", then the mean over severities of every corruption met in the rows,
 * in first-met order. "mean error" is the mean over every corrupted row,
 * including corruptions outside the 15; mCE and relative mCE use the 15 only. */
int sa_mce_table(sa_table **out, const sa_table *cells, double alexnet_clean, sa_error *err);

/* ---- SVG chart -------------------------------------------------------------
 *
 *     sa_svg_bars(&out, t, "ImageNet-C", "top-1 error (%)");
 *
 * Grouped bars: one group per row of t (e.g. a corruption), one bar per
 * column (e.g. a method, each with its colour and a legend entry), bar
 * height = the value (NAN: no bar). A standalone SVG 1.1 document, appended
 * to out; names are XML-escaped. Each bar is one <rect>; nothing else is. */
void sa_svg_bars(sa_strbuf *out, const sa_table *t, const char *title, const char *y_label);

#endif
