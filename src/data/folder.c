/* Image-folder source: <dir>/<class>/<image>. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fs.h"
#include "source_internal.h"

sa_folder_options sa_folder_options_default(void)
{
    sa_folder_options o;
    memset(&o, 0, sizeof o);
    o.name = "folder";
    o.resize = 256;
    o.crop = 224;
    o.keep_sized = 1;
    return o;
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static void names_free(names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_push(names *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *n)
{
    const char *dot = strrchr(n, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                   strcasecmp(dot, ".png") == 0);
}

/* Sorted entries of `dir`: subdirectories (want_dirs) or image files. */
static int list_dir(names *out, const char *dir, int want_dirs, sa_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return sa_error_set(err, SA_EIO, "data", "cannot read directory %s", dir);
    struct dirent *ent;
    char path[4096];
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.')
            continue;
        if (sa_fs_join(path, sizeof path, dir, ent->d_name, err) < 0) {
            closedir(d);
            return SA_EINVAL;
        }
        int is_dir = sa_fs_is_dir(path);
        if (want_dirs ? !is_dir : (is_dir || !is_image_name(ent->d_name)))
            continue;
        if (names_push(out, ent->d_name) < 0) {
            closedir(d);
            return sa_error_set(err, SA_ENOMEM, "data", "out of memory listing %s", dir);
        }
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return 0;
}

/* Sorted copy of the subset entries (borrowed strings) for bsearch. */
static int sorted_subset(const char ***out, const sa_folder_options *o, sa_error *err)
{
    *out = NULL;
    if (!o->subset || o->n_subset <= 0)
        return 0;
    const char **v = malloc((size_t)o->n_subset * sizeof *v);
    if (!v)
        return sa_error_set(err, SA_ENOMEM, "data", "out of memory");
    memcpy(v, o->subset, (size_t)o->n_subset * sizeof *v);
    qsort(v, (size_t)o->n_subset, sizeof *v, cmp_str);
    *out = v;
    return 0;
}

int sa_source_open_folder(sa_source **out, const char *dir, const sa_folder_options *o,
                          sa_error *err)
{
    sa_folder_options def = sa_folder_options_default();
    if (!o)
        o = &def;
    if (!sa_fs_is_dir(dir))
        return sa_error_set(err, SA_EIO, "data", "%s: directory %s does not exist", o->name, dir);
    names classes = {0};
    int rc = list_dir(&classes, dir, 1, err);
    if (rc < 0)
        return rc;
    if (classes.n == 0) {
        names_free(&classes);
        return sa_error_set(err, SA_EINVAL, "data", "%s: %s has no class subdirectories", o->name,
                            dir);
    }
    sa_source *s = calloc(1, sizeof *s);
    if (!s) {
        names_free(&classes);
        return sa_error_set(err, SA_ENOMEM, "data", "out of memory");
    }
    s->kind = SA__SOURCE_FOLDER;
    s->opt = *o;
    s->opt.classes = NULL;
    s->opt.n_classes = 0;
    s->opt.subset = NULL;
    s->opt.n_subset = 0;
    const char **subset = NULL;
    size_t matched = 0;
    rc = sorted_subset(&subset, o, err);
    snprintf(s->name, sizeof s->name, "%s", o->name ? o->name : "folder");
    s->num_classes = o->classes ? o->n_classes : (int)classes.n;
    size_t paths_cap = 1 << 16, paths_len = 0, files_cap = 1024;
    s->paths = malloc(paths_cap);
    s->path_offset = malloc(files_cap * sizeof *s->path_offset);
    s->file_label = malloc(files_cap * sizeof *s->file_label);
    if (!s->paths || !s->path_offset || !s->file_label)
        rc = sa_error_set(err, SA_ENOMEM, "data", "out of memory");
    for (size_t c = 0; c < classes.n && rc == 0; c++) {
        int label = (int)c;
        if (o->classes) {
            label = -1;
            for (int k = 0; k < o->n_classes; k++)
                if (strcmp(o->classes[k], classes.v[c]) == 0) {
                    label = k;
                    break;
                }
            if (label < 0) {
                rc = sa_error_set(err, SA_EINVAL, "data",
                                  "%s: class directory %s/%s is not one of the split's %d classes",
                                  o->name, dir, classes.v[c], o->n_classes);
                break;
            }
        }
        char cdir[4096];
        if ((rc = sa_fs_join(cdir, sizeof cdir, dir, classes.v[c], err)) < 0)
            break;
        names files = {0};
        if ((rc = list_dir(&files, cdir, 0, err)) < 0)
            break;
        if (subset) { /* keep the listed files only */
            size_t kept = 0;
            for (size_t f = 0; f < files.n; f++) {
                char rel[1024];
                snprintf(rel, sizeof rel, "%s/%s", classes.v[c], files.v[f]);
                const char *key = rel;
                if (bsearch(&key, subset, (size_t)o->n_subset, sizeof *subset, cmp_str)) {
                    files.v[kept++] = files.v[f];
                } else {
                    free(files.v[f]);
                }
            }
            files.n = kept;
            matched += kept;
            if (kept == 0) {
                names_free(&files);
                continue;
            }
        }
        if (files.n == 0) {
            names_free(&files);
            rc = sa_error_set(err, SA_EINVAL, "data", "%s: class directory %s has no images",
                              o->name, cdir);
            break;
        }
        for (size_t f = 0; f < files.n && rc == 0; f++) {
            size_t need = strlen(cdir) + 1 + strlen(files.v[f]) + 1;
            while (paths_len + need > paths_cap) {
                char *np = realloc(s->paths, paths_cap * 2);
                if (!np) {
                    rc = sa_error_set(err, SA_ENOMEM, "data", "out of memory");
                    break;
                }
                s->paths = np;
                paths_cap *= 2;
            }
            if (rc == 0 && s->n_files == files_cap) {
                size_t *no = realloc(s->path_offset, files_cap * 2 * sizeof *no);
                int *nl = no ? realloc(s->file_label, files_cap * 2 * sizeof *nl) : NULL;
                if (no)
                    s->path_offset = no;
                if (nl)
                    s->file_label = nl;
                if (!no || !nl)
                    rc = sa_error_set(err, SA_ENOMEM, "data", "out of memory");
                else
                    files_cap *= 2;
            }
            if (rc < 0)
                break;
            s->path_offset[s->n_files] = paths_len;
            s->file_label[s->n_files] = label;
            snprintf(s->paths + paths_len, need, "%s/%s", cdir, files.v[f]);
            paths_len += need;
            s->n_files++;
        }
        names_free(&files);
    }
    names_free(&classes);
    if (rc == 0 && subset && matched < (size_t)o->n_subset)
        rc = sa_error_set(err, SA_EINVAL, "data",
                          "%s: %zu of the %d images of the subset list are missing in %s",
                          o->name, (size_t)o->n_subset - matched, o->n_subset, dir);
    free(subset);
    if (rc < 0) {
        sa_source_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sa__folder_free(sa_source *s)
{
    free(s->paths);
    free(s->path_offset);
    free(s->file_label);
}

const char *sa_source_path(const sa_source *s, size_t i)
{
    if (s->kind != SA__SOURCE_FOLDER || i >= s->n_files)
        return NULL;
    return s->paths + s->path_offset[i];
}

int sa__folder_get(const sa_source *s, size_t i, sa_image **img, int *label, sa_error *err)
{
    if (i >= s->n_files)
        return sa_error_set(err, SA_EINVAL, "data", "image %zu out of range (%zu images)", i,
                            s->n_files);
    const char *path = s->paths + s->path_offset[i];
    const sa_folder_options *o = &s->opt;
    /* Decoded straight to the geometry: the same bytes as decoding, resizing
     * and cropping one after another, for a fraction of the work. */
    const sa_geometry g = {o->resize, o->crop, o->keep_sized};
    sa_image *im = NULL;
    int rc = sa_image_decode_file_geometry(&im, path, 3, 0, &g, err);
    if (rc < 0)
        return rc;
    *img = im;
    *label = s->file_label[i];
    return 0;
}
