#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "json.h"
#include "strbuf.h"

int sa__cell_path(char *buf, size_t n, const char *run_dir, const sa_cell *c, sa_error *err)
{
    int w = snprintf(buf, n, "%s/cells/%s/%s/%d.json", run_dir, c->split, c->shift, c->severity);
    if (w < 0 || (size_t)w >= n)
        return sa_error_set(err, SA_EINVAL, "run", "path too long under %s", run_dir);
    return 0;
}

double sa__cell_error(const sa_cell_result *r, int method)
{
    return r->m[method].final.n > 0 ? sa_acc_error(&r->m[method].final)
                                    : sa_acc_error(&r->m[method].acc);
}

int sa__cell_write(const char *path, const sa_cell *c, uint64_t hash, const sa_cell_result *r,
                   sa_error *err)
{
    char dir[4096];
    sa_fs_dirname(dir, sizeof dir, path);
    int rc = sa_fs_mkdirs(dir, err);
    if (rc < 0)
        return rc;
    sa_strbuf b = {0};
    sa_strbuf_printf(&b, "{\n  \"format\": \"%s\",\n  \"config_hash\": \"%016" PRIx64 "\",\n",
                     SA_CELL_FORMAT, hash);
    sa_strbuf_printf(&b, "  \"split\": ");
    sa_strbuf_json_str(&b, c->split);
    sa_strbuf_printf(&b, ",\n  \"shift\": ");
    sa_strbuf_json_str(&b, c->shift);
    sa_strbuf_printf(&b, ",\n  \"severity\": %d,\n  \"skipped_images\": %" PRId64
                         ",\n  \"methods\": [\n",
                     c->severity, r->skipped);
    for (int i = 0; i < r->n_methods; i++) {
        sa_strbuf_printf(&b, "    {\"label\": ");
        sa_strbuf_json_str(&b, r->m[i].label);
        sa_strbuf_printf(&b, ", \"method\": ");
        sa_strbuf_json_str(&b, r->m[i].method);
        sa_strbuf_printf(&b,
                         ",\n     \"error\": %.4f, \"online_images\": %" PRId64
                         ", \"online_wrong\": %" PRId64 ", \"online_error\": %.4f",
                         sa__cell_error(r, i), r->m[i].acc.n, r->m[i].acc.wrong,
                         sa_acc_error(&r->m[i].acc));
        if (r->m[i].final.n > 0)
            sa_strbuf_printf(&b,
                             ", \"final_images\": %" PRId64 ", \"final_wrong\": %" PRId64
                             ", \"final_error\": %.4f",
                             r->m[i].final.n, r->m[i].final.wrong, sa_acc_error(&r->m[i].final));
        sa_strbuf_printf(&b, ",\n     \"mean_loss\": %.6g, \"resets\": %d}%s\n",
                         r->m[i].mean_loss, r->m[i].resets, i + 1 < r->n_methods ? "," : "");
    }
    sa_strbuf_printf(&b, "  ]\n}\n");
    if (b.oom) {
        sa_strbuf_free(&b);
        return sa_error_set(err, SA_ENOMEM, "run", "out of memory");
    }
    rc = sa_fs_write_atomic(path, b.data, b.len, err);
    sa_strbuf_free(&b);
    return rc;
}

int sa__cell_read(const char *path, uint64_t hash, const sa_config *cfg, sa_cell_result *r,
                  char *why, size_t why_n, sa_error *err)
{
    if (!sa_fs_exists(path)) {
        snprintf(why, why_n, "no result file");
        return 0;
    }
    sa_json *doc = NULL;
    sa_error perr = {0};
    int rc = sa_json_load_file(&doc, path, &perr);
    if (rc < 0) {
        snprintf(why, why_n, "unreadable (%s)", perr.msg);
        return 0;
    }
    char want[32];
    snprintf(want, sizeof want, "%016" PRIx64, hash);
    const char *fmt = sa_json_str(sa_json_get(doc, "format"));
    const char *h = sa_json_str(sa_json_get(doc, "config_hash"));
    const sa_json *ms = sa_json_get(doc, "methods");
    int ok = 0;
    if (!fmt || strcmp(fmt, SA_CELL_FORMAT) != 0) {
        snprintf(why, why_n, "not a %s file", SA_CELL_FORMAT);
    } else if (!h || strcmp(h, want) != 0) {
        snprintf(why, why_n, "made with a different configuration");
    } else if ((int)sa_json_len(ms) != cfg->n_methods) {
        snprintf(why, why_n, "has %zu methods, the config %d", sa_json_len(ms), cfg->n_methods);
    } else {
        ok = 1;
        r->n_methods = cfg->n_methods;
        for (int i = 0; i < cfg->n_methods && ok; i++) {
            const sa_json *m = sa_json_at(ms, (size_t)i);
            const char *label = sa_json_str(sa_json_get(m, "label"));
            double n, wrong, loss = 0, fn = 0, fw = 0, resets = 0;
            if (!label || strcmp(label, cfg->methods[i].label) != 0 ||
                sa_json_num(sa_json_get(m, "online_images"), &n) < 0 ||
                sa_json_num(sa_json_get(m, "online_wrong"), &wrong) < 0) {
                snprintf(why, why_n, "method %d does not match", i);
                ok = 0;
                break;
            }
            sa_json_num(sa_json_get(m, "mean_loss"), &loss);
            sa_json_num(sa_json_get(m, "final_images"), &fn);
            sa_json_num(sa_json_get(m, "final_wrong"), &fw);
            sa_json_num(sa_json_get(m, "resets"), &resets);
            r->m[i].final.n = (int64_t)fn;
            r->m[i].final.wrong = (int64_t)fw;
            r->m[i].resets = (int)resets;
            snprintf(r->m[i].label, sizeof r->m[i].label, "%s", label);
            snprintf(r->m[i].method, sizeof r->m[i].method, "%s", cfg->methods[i].name);
            r->m[i].acc.n = (int64_t)n;
            r->m[i].acc.wrong = (int64_t)wrong;
            r->m[i].mean_loss = loss;
        }
    }
    sa_json_free(doc);
    return ok;
}
