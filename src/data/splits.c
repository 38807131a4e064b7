#include "splits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Embedded tables, generated from src/data/classes/ by tools/embed.c. */
extern const char sa__imagenet_wnids_txt[];
extern const size_t sa__imagenet_wnids_txt_len;
extern const char sa__imagenet_names_txt[];
extern const size_t sa__imagenet_names_txt_len;
extern const char sa__imagenet_r_wnids_txt[];
extern const size_t sa__imagenet_r_wnids_txt_len;
extern const char sa__imagenet_a_wnids_txt[];
extern const size_t sa__imagenet_a_wnids_txt_len;
extern const char sa__imagenet_d_mapping_txt[];
extern const size_t sa__imagenet_d_mapping_txt_len;
extern const char sa__imagenet_d_classes_txt[];
extern const size_t sa__imagenet_d_classes_txt_len;
extern const char sa__imagenet_d109_indices_txt[];
extern const size_t sa__imagenet_d109_indices_txt_len;

enum { KIND_FULL, KIND_MASKED, KIND_MAPPED };

/* A table split into lines: one owned copy of the text, '\n' -> '\0'. */
typedef struct lines {
    char *text;
    char **line;
    int n;
} lines;

struct sa_split {
    char name[24];
    int kind;
    int n_labels;
    lines names;       /* the table the label names point into */
    const char **label; /* n_labels names, borrowed from `names` (or `aux`) */
    lines aux;          /* D109: the D class names its labels point into */
    int *indices;       /* KIND_MASKED: n_labels ImageNet indices */
    int map[SA_IMAGENET_CLASSES];
};

static const char *const domains[SA_IMAGENET_D_DOMAINS] = {
    "clipart", "infograph", "painting", "quickdraw", "real", "sketch",
};

const char *sa_imagenet_d_domain(int i)
{
    return i >= 0 && i < SA_IMAGENET_D_DOMAINS ? domains[i] : NULL;
}

static void lines_free(lines *l)
{
    free(l->text);
    free(l->line);
    memset(l, 0, sizeof *l);
}

static int lines_parse(lines *l, const char *data, size_t len, const char *table, int expect,
                       sa_error *err)
{
    memset(l, 0, sizeof *l);
    l->text = malloc(len + 1);
    if (!l->text)
        return sa_error_set(err, SA_ENOMEM, "splits", "out of memory");
    memcpy(l->text, data, len);
    l->text[len] = '\0';
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += l->text[i] == '\n';
    if (len > 0 && l->text[len - 1] != '\n')
        n++;
    l->line = calloc((size_t)n + 1, sizeof *l->line);
    if (!l->line) {
        lines_free(l);
        return sa_error_set(err, SA_ENOMEM, "splits", "out of memory");
    }
    char *p = l->text;
    for (int i = 0; i < n; i++) {
        l->line[i] = p;
        char *nl = strchr(p, '\n');
        if (nl) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p += strlen(p);
        }
        if (l->line[i][0] == '\0') {
            lines_free(l);
            return sa_error_set(err, SA_EFORMAT, "splits", "empty line %d in table %s", i + 1, table);
        }
    }
    l->n = n;
    if (expect > 0 && n != expect) {
        lines_free(l);
        return sa_error_set(err, SA_EFORMAT, "splits", "table %s has %d entries, expected %d",
                            table, n, expect);
    }
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out, const char *table, int line,
                     sa_error *err)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi)
        return sa_error_set(err, SA_EFORMAT, "splits", "bad value '%s' at line %d of table %s", s,
                            line + 1, table);
    *out = (int)v;
    return 0;
}

static int find_line(const lines *l, const char *s)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->line[i], s) == 0)
            return i;
    return -1;
}

void sa_split_free(sa_split *s)
{
    if (!s)
        return;
    lines_free(&s->names);
    lines_free(&s->aux);
    free(s->label);
    free(s->indices);
    free(s);
}

/* Labels named by the lines of `names`, each mapped to its ImageNet index
 * by wnid (ImageNet-R, -A). */
static int build_wnid_subset(sa_split *s, const lines *all, const char *table, sa_error *err)
{
    s->indices = malloc((size_t)s->n_labels * sizeof *s->indices);
    if (!s->indices)
        return sa_error_set(err, SA_ENOMEM, "splits", "out of memory");
    for (int i = 0; i < s->n_labels; i++) {
        int k = find_line(all, s->names.line[i]);
        if (k < 0)
            return sa_error_set(err, SA_EFORMAT, "splits", "wnid %s of table %s is not an ImageNet class",
                                s->names.line[i], table);
        s->indices[i] = k;
        s->map[k] = i;
    }
    return 0;
}

static int build(sa_split *s, sa_error *err)
{
    lines all = {0}, tab = {0};
    int dmap[SA_IMAGENET_CLASSES];
    int rc = lines_parse(&all, sa__imagenet_wnids_txt, sa__imagenet_wnids_txt_len, "imagenet_wnids",
                         SA_IMAGENET_CLASSES, err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < SA_IMAGENET_CLASSES; i++)
        s->map[i] = -1;
    if (strcmp(s->name, "imagenet") == 0) {
        s->kind = KIND_FULL;
        s->names = all;
        memset(&all, 0, sizeof all);
        s->n_labels = SA_IMAGENET_CLASSES;
        for (int i = 0; i < SA_IMAGENET_CLASSES; i++)
            s->map[i] = i;
    } else if (strcmp(s->name, "imagenet-r") == 0 || strcmp(s->name, "imagenet-a") == 0) {
        int r = s->name[9] == 'r';
        const char *table = r ? "imagenet_r_wnids" : "imagenet_a_wnids";
        s->kind = KIND_MASKED;
        rc = lines_parse(&s->names, r ? sa__imagenet_r_wnids_txt : sa__imagenet_a_wnids_txt,
                         r ? sa__imagenet_r_wnids_txt_len : sa__imagenet_a_wnids_txt_len, table, 200,
                         err);
        if (rc == 0) {
            s->n_labels = s->names.n;
            rc = build_wnid_subset(s, &all, table, err);
        }
    } else {
        /* imagenet-d, imagenet-d109: both start from the D mapping and names. */
        int d109 = strcmp(s->name, "imagenet-d109") == 0;
        lines *classes = d109 ? &s->aux : &s->names;
        rc = lines_parse(classes, sa__imagenet_d_classes_txt, sa__imagenet_d_classes_txt_len,
                         "imagenet_d_classes", 164, err);
        if (rc == 0)
            rc = lines_parse(&tab, sa__imagenet_d_mapping_txt, sa__imagenet_d_mapping_txt_len,
                             "imagenet_d_mapping", SA_IMAGENET_CLASSES, err);
        for (int i = 0; rc == 0 && i < SA_IMAGENET_CLASSES; i++)
            rc = parse_int(tab.line[i], -1, classes->n - 1, &dmap[i], "imagenet_d_mapping", i, err);
        lines_free(&tab);
        if (rc == 0 && !d109) {
            s->kind = KIND_MAPPED;
            s->n_labels = s->names.n;
            memcpy(s->map, dmap, sizeof dmap);
        } else if (rc == 0) {
            s->kind = KIND_MASKED;
            rc = lines_parse(&tab, sa__imagenet_d109_indices_txt, sa__imagenet_d109_indices_txt_len,
                             "imagenet_d109_indices", 109, err);
            s->n_labels = tab.n;
            s->indices = rc == 0 ? malloc((size_t)s->n_labels * sizeof *s->indices) : NULL;
            if (rc == 0 && !s->indices)
                rc = sa_error_set(err, SA_ENOMEM, "splits", "out of memory");
            for (int i = 0; rc == 0 && i < s->n_labels; i++) {
                rc = parse_int(tab.line[i], 0, SA_IMAGENET_CLASSES - 1, &s->indices[i],
                               "imagenet_d109_indices", i, err);
                if (rc == 0 && (dmap[s->indices[i]] < 0 || s->map[s->indices[i]] >= 0))
                    rc = sa_error_set(err, SA_EFORMAT, "splits",
                                      "ImageNet class %d at line %d of table imagenet_d109_indices "
                                      "is unmapped in ImageNet-D or repeated",
                                      s->indices[i], i + 1);
                if (rc == 0)
                    s->map[s->indices[i]] = i;
            }
            lines_free(&tab);
        }
    }
    lines_free(&all);
    if (rc < 0)
        return rc;
    s->label = malloc((size_t)s->n_labels * sizeof *s->label);
    if (!s->label)
        return sa_error_set(err, SA_ENOMEM, "splits", "out of memory");
    for (int i = 0; i < s->n_labels; i++)
        /* D109: a label is named after the ImageNet-D label its class maps to. */
        s->label[i] = s->aux.n ? s->aux.line[dmap[s->indices[i]]] : s->names.line[i];
    return rc;
}

int sa_split_lookup(sa_split **out, const char *name, sa_error *err)
{
    static const char *const known[] = {"imagenet", "imagenet-r", "imagenet-a", "imagenet-d",
                                        "imagenet-d109"};
    int found = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        found |= strcmp(name, known[i]) == 0;
    if (!found)
        return sa_error_set(err, SA_EINVAL, "splits",
                            "unknown split '%s' (known: imagenet, imagenet-r, imagenet-a, "
                            "imagenet-d, imagenet-d109)",
                            name);
    sa_split *s = calloc(1, sizeof *s);
    if (!s)
        return sa_error_set(err, SA_ENOMEM, "splits", "out of memory");
    snprintf(s->name, sizeof s->name, "%s", name);
    int rc = build(s, err);
    if (rc < 0) {
        sa_split_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

const char *sa_split_name(const sa_split *s)
{
    return s->name;
}

int sa_split_num_labels(const sa_split *s)
{
    return s->n_labels;
}

const char *sa_split_label_name(const sa_split *s, int label)
{
    return label >= 0 && label < s->n_labels ? s->label[label] : NULL;
}

const int *sa_split_indices(const sa_split *s, int *n)
{
    if (n)
        *n = s->kind == KIND_MASKED ? s->n_labels : 0;
    return s->kind == KIND_MASKED ? s->indices : NULL;
}

const int *sa_split_map(const sa_split *s)
{
    return s->map;
}

int sa_split_label_of(const sa_split *s, const char *folder, int *label, sa_error *err)
{
    for (int i = 0; i < s->n_labels; i++)
        if (strcmp(s->label[i], folder) == 0) {
            *label = i;
            return 0;
        }
    return sa_error_set(err, SA_EINVAL, "splits", "folder '%s' is not a class of %s", folder,
                        s->name);
}

void sa_split_predict(const sa_split *s, int64_t *pred, const float *logits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const float *row = logits + i * SA_IMAGENET_CLASSES;
        if (s->kind == KIND_MASKED) {
            int best = 0;
            for (int j = 1; j < s->n_labels; j++)
                if (row[s->indices[j]] > row[s->indices[best]])
                    best = j;
            pred[i] = best;
        } else {
            int best = 0;
            for (int j = 1; j < SA_IMAGENET_CLASSES; j++)
                if (row[j] > row[best])
                    best = j;
            pred[i] = s->map[best];
        }
    }
}

void sa_imagenet_class_name(int i, char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    if (i < 0 || i >= SA_IMAGENET_CLASSES)
        return;
    const char *p = sa__imagenet_names_txt, *end = p + sa__imagenet_names_txt_len;
    for (int k = 0; k < i && p < end; k++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = (size_t)((nl ? nl : end) - p);
    if (len >= n)
        len = n - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
}
