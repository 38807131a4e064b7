/* splits.h - ImageNet class subsets and mappings: ImageNet-R, -A, -D, -D109.
 *
 *     sa_split *sp = NULL;
 *     if (sa_split_lookup(&sp, "imagenet-r", &err) < 0) ...;   // caller frees
 *     int label;
 *     sa_split_label_of(sp, "n01443537", &label, &err);         // folder -> 0
 *     sa_split_predict(sp, pred, logits, n);                     // n x 1000 -> labels
 *     sa_split_free(sp);
 *
 * Splits, and what a 1000-way ImageNet classifier's output means for each:
 *   "imagenet"       1000 labels, the ImageNet class indices; prediction = argmax.
 *   "imagenet-r"     200 labels; the logits of the 200 ImageNet-R classes are kept
 *   "imagenet-a"     (in increasing ImageNet index order, sa_split_indices) and the
 *                    prediction is the argmax over those (hendrycks' eval.py).
 *   "imagenet-d109"  109 labels, each with exactly one ImageNet class; logits
 *                    masked the same way (the indices are in label order, which
 *                    is not increasing ImageNet order).
 *   "imagenet-d"     164 labels over 464 ImageNet classes; no masking: the
 *                    argmax over all 1000 logits is mapped through the
 *                    1000 -> label table (sa_split_map); an argmax on an unmapped
 *                    class gives -1, which never equals a label, so it counts as
 *                    an error (bethgelab/robustness examples/imagenet_d).
 *
 * Labels are in dataset order: ImageFolder's sorted order of the class folders
 * (wnids for ImageNet, -R and -A; DomainNet class names for -D and -D109).
 * The tables are compiled into the library (src/data/classes/, with their
 * sources in the README there); a lookup parses them into the returned value.
 */
#ifndef SA_DATA_SPLITS_H
#define SA_DATA_SPLITS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SA_IMAGENET_CLASSES 1000
#define SA_IMAGENET_D_DOMAINS 6

typedef struct sa_split sa_split;

/* Look a split up by name (see above). Caller frees with sa_split_free. */
int sa_split_lookup(sa_split **out, const char *name, sa_error *err);
void sa_split_free(sa_split *s);

/* Canonical name ("imagenet-r", ...). Borrowed until sa_split_free. */
const char *sa_split_name(const sa_split *s);
/* Number of labels: 1000, 200, 200, 164 or 109. */
int sa_split_num_labels(const sa_split *s);
/* Folder name of a label: a wnid ("n01443537") or a DomainNet class
 * ("aircraft_carrier"); NULL when out of range. Borrowed. */
const char *sa_split_label_name(const sa_split *s, int label);
/* ImageNet class indices whose logits are kept, one per label in label
 * order, *n set to their number (200 or 109); NULL for "imagenet" and
 * "imagenet-d", which are not masked. Borrowed. */
const int *sa_split_indices(const sa_split *s, int *n);
/* The 1000-long map ImageNet class index -> label of this split, or -1 for a
 * class outside it. Borrowed. */
const int *sa_split_map(const sa_split *s);
/* The label of a class folder; SA_EINVAL naming the folder and split when
 * the folder is not one of the split's classes. */
int sa_split_label_of(const sa_split *s, const char *folder, int *label, sa_error *err);
/* Predictions for n images from their n x 1000 logits (row-major):
 * pred[i] is a label of the split, or -1 for "imagenet-d" when the argmax is
 * an unmapped class. Ties go to the lowest index, as torch.argmax does. */
void sa_split_predict(const sa_split *s, int64_t *pred, const float *logits, size_t n);

/* The human-readable name of ImageNet class i ("tench, Tinca tinca"), written
 * into buf (size n); empty when i is out of range. */
void sa_imagenet_class_name(int i, char *buf, size_t n);
/* The DomainNet domains of ImageNet-D: clipart, infograph, painting,
 * quickdraw, real, sketch (i in 0..5; NULL otherwise). Static strings. */
const char *sa_imagenet_d_domain(int i);

#endif
