/* source_internal.h - the data sources' shared representation (internal). */
#ifndef SA_DATA_SOURCE_INTERNAL_H
#define SA_DATA_SOURCE_INTERNAL_H

#include "data.h"

enum { SA__SOURCE_IDX = 0, SA__SOURCE_FOLDER = 1 };

struct sa_source {
    int kind;
    char name[64];
    int num_classes;
    /* IDX (Fashion-MNIST) */
    sa_idx *images;
    sa_idx *labels;
    /* image folder */
    char *paths;           /* every file path, NUL-separated */
    size_t *path_offset;   /* start of path i in `paths` */
    int *file_label;       /* label of file i */
    size_t n_files;
    sa_folder_options opt; /* `classes` not kept */
};

int sa__folder_get(const sa_source *s, size_t i, sa_image **img, int *label, sa_error *err);
void sa__folder_free(sa_source *s);

#endif
