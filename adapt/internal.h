/* internal.h - what the method files share (not part of the API). */
#ifndef SA_ADAPT_INTERNAL_H
#define SA_ADAPT_INTERNAL_H

#include "adapt.h"

/* A method is its normalisation mode plus, if it learns, a loss on the
 * student's logits and (for pseudo-labelling) the teacher's logits. */
typedef struct sa__method_impl {
    const char *name;
    const char *summary;
    sa_norm_mode norm;
    int uses_teacher;
    /* NULL for methods that do not learn. `teacher` is the teacher's logits
     * (no gradient) for methods with uses_teacher, else NULL. *loss receives
     * a scalar tensor. */
    int (*loss)(const sa_method_options *o, const sa_tensor *student, const sa_tensor *teacher,
                sa_tensor **loss, sa_error *err);
} sa__method_impl;

extern const sa__method_impl sa__method_source;
extern const sa__method_impl sa__method_bn;
extern const sa__method_impl sa__method_bn_alpha;
extern const sa__method_impl sa__method_bn_ema;
extern const sa__method_impl sa__method_ent;
extern const sa__method_impl sa__method_hard_pl;
extern const sa__method_impl sa__method_soft_pl;
extern const sa__method_impl sa__method_rpl;

#endif
