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
/* Mean of column c over rows [r0, r1), skipping NAN; NAN if none. */
double sa_table_col_mean(const sa_table *t, int c, int r0, int r1);

/* Renderings, appended to `out`. Values with two decimals. */
void sa_table_text(const sa_table *t, const char *corner, sa_strbuf *out);
void sa_table_csv(const sa_table *t, const char *corner, sa_strbuf *out);
void sa_table_markdown(const sa_table *t, const char *corner, sa_strbuf *out);

#endif
