/* internal.h - what the method files share (not part of the API). */
#ifndef SA_ADAPT_INTERNAL_H
#define SA_ADAPT_INTERNAL_H

#include "adapt.h"

/* A method is its normalisation mode plus, if it learns, a loss on the
 * logits of the student's forward pass. */
typedef struct sa__method_impl {
    const char *name;
    const char *summary;
    sa_norm_mode norm;
    /* NULL for methods that do not learn. *loss receives a scalar tensor. */
    int (*loss)(const sa_method_options *o, const sa_tensor *logits, sa_tensor **loss, sa_error *err);
} sa__method_impl;

extern const sa__method_impl sa__method_source;
extern const sa__method_impl sa__method_bn;
extern const sa__method_impl sa__method_ent;
extern const sa__method_impl sa__method_rpl;

#endif
