/* config.h - a run's YAML configuration as typed, validated structs.
 *
 *     sa_config *cfg = NULL;
 *     sa_config_hooks hooks = {.check_method = ..., .check_corruption = ...};
 *     if (sa_config_load(&cfg, "configs/demo.yaml", &hooks, &err) < 0)
 *         puts(err.msg);   // "configs/demo.yaml:14:11: methods[2].name: unknown method 'foo' ..."
 *     ...
 *     sa_config_free(cfg);
 *
 * Every key has a default (sa_config_defaults, also in configs/README.md);
 * unknown keys, duplicate keys, wrong types and out-of-range values are
 * errors that name file:line:col and the dotted key. Names that only higher
 * layers know (methods, corruptions) are checked through the hooks, so the
 * error still points at the YAML line. Strings are stored in fixed buffers:
 * a loaded config owns no other memory.
 *
 * Schema (defaults in brackets):
 *   run:    name [run], seed [0], output [results], threads [0 = all cores],
 *           device [cpu]
 *   model:  path (required), num_classes [10]
 *   data:   source [fashion_mnist | folder | imagenet_c],
 *           dir [/usr/share/datasets/fashion-mnist], name [by source], split [test],
 *           clean_dir, subset, classes, limit [0 = all], batch_size [128], shuffle [true],
 *           resize [256], crop [224], mean [[0,0,0]], std [[1,1,1]],
 *           strict [false], prefetch [2]
 *   shift:  clean [true], corruptions [[]], severities [[1,2,3,4,5]],
 *           params [auto], rng [fast]
 *   schedule: epochs [1], reset [cell | episodic | continual],
 *           final_pass [false], on_nonfinite [error | reset]
 *   methods: list of {name (required), label [name], q [0.8], temperature [1],
 *           alpha [0.5], params [bn_affine], param_pattern, steps [1],
 *           optimizer: {name [sgd | adam | adamw], lr [0.001], momentum [0.9],
 *                       dampening [0], weight_decay [0], nesterov [false],
 *                       beta1 [0.9], beta2 [0.999], eps [1e-8]},
 *           teacher: {refresh [step | every | epoch | ema], every [1],
 *                     momentum [0.999]}}
 *           reference: {mCE, rel_mCE, imagenet_c, imagenet_r, imagenet_a,
 *                       imagenet_d, imagenet_d109} [unset]: published numbers
 *                       (percent) for this method, shown by `selfadapt report`
 *   output: save_model [false]
 *   reference: model [""], source [""]: what the methods' reference numbers are
 *           for and where they were published
 * A run whose config sets any reference number writes reference.json
 * ("selfadapt-reference/1", configs/paper/README.md) into its directory.
 * Reference numbers do not affect results (they are not in the config hash).
 */
#ifndef SA_CONFIG_H
#define SA_CONFIG_H

#include <stdint.h>

#include "error.h"
#include "strbuf.h"

#define SA_CFG_STR 256
#define SA_CFG_PATH 1024
#define SA_CFG_MAX_METHODS 16
#define SA_CFG_MAX_CORRUPTIONS 32

typedef struct sa_config_mark {
    int line, col; /* 1-based; 0 when the value came from a default */
} sa_config_mark;

typedef struct sa_method_cfg {
    char name[SA_CFG_STR];          /* method kind: source, bn, ent, rpl */
    char label[SA_CFG_STR];         /* column name in reports; unique in a run */
    double q;                       /* GCE exponent, (0, 1] */
    double temperature;             /* soft_pl teacher temperature, > 0 */
    double alpha;                   /* bn_alpha weight of the stored statistics, [0, 1] */
    char params[SA_CFG_STR];        /* bn_affine | all | last_layer | pattern */
    char param_pattern[SA_CFG_STR]; /* substring of parameter names, for params: pattern */
    int steps;                      /* optimisation steps per batch, >= 1 */
    char optimizer[SA_CFG_STR];     /* sgd | adam | adamw */
    double lr, momentum, dampening, weight_decay;
    int nesterov;
    double beta1, beta2, eps;
    char teacher[SA_CFG_STR];       /* step | every | epoch | ema */
    int teacher_every;
    double teacher_momentum;
    /* published numbers (percent), NAN when unset: mCE, rel_mCE, imagenet_c,
     * imagenet_r, imagenet_a, imagenet_d, imagenet_d109 (SA_REF_* order) */
    double reference[7];
    sa_config_mark name_mark;
} sa_method_cfg;

typedef struct sa_config {
    char file[SA_CFG_PATH]; /* where it was read from, for messages */
    struct {
        char name[SA_CFG_STR];
        uint64_t seed;
        char output[SA_CFG_PATH];
        int threads;
        char device[SA_CFG_STR];
    } run;
    struct {
        char path[SA_CFG_PATH];
        int num_classes;
        sa_config_mark path_mark;
    } model;
    struct {
        char source[SA_CFG_STR];    /* fashion_mnist | folder | imagenet_c */
        char dir[SA_CFG_PATH];
        char name[SA_CFG_STR];      /* data set name in cell paths; "" = by source */
        char split[SA_CFG_STR];     /* fashion_mnist: test | train */
        char clean_dir[SA_CFG_PATH]; /* imagenet_c: the clean images for a clean cell */
        char subset[SA_CFG_PATH];    /* list of "<class>/<file>" to use, e.g. the 5,000 */
        char classes[SA_CFG_STR];    /* class list of a folder source: "" (its sorted
                                        subdirectories), imagenet, imagenet-r, imagenet-a,
                                        imagenet-d, imagenet-d109 */
        int limit;
        int batch_size;
        int shuffle;
        int resize, crop;           /* folder preprocessing (0 = off) */
        double mean[3], std[3];     /* normalisation of x/255 before the model */
        int strict;                 /* unreadable image: error instead of skip */
        int prefetch;               /* batches prepared ahead */
        sa_config_mark dir_mark;
    } data;
    struct {
        int clean;
        int n_corruptions;
        char corruptions[SA_CFG_MAX_CORRUPTIONS][SA_CFG_STR];
        int n_severities;
        int severities[5];
        char params[SA_CFG_STR];
        char rng[SA_CFG_STR];
    } shift;
    struct {
        int epochs;                  /* passes over each cell's data, >= 1 */
        char reset[SA_CFG_STR];      /* cell | episodic | continual */
        int final_pass;              /* also score a pass without updates after adapting */
        char on_nonfinite[SA_CFG_STR]; /* error | reset */
    } schedule;
    int n_methods;
    sa_method_cfg methods[SA_CFG_MAX_METHODS];
    struct {
        int save_model;
    } output;
    struct {
        char model[SA_CFG_STR];  /* the published model, e.g. "ResNet-50" */
        char source[SA_CFG_STR]; /* where the numbers were published */
    } reference;
} sa_config;

/* Keys of sa_method_cfg.reference, in order. */
#define SA_REF_COUNT 7
extern const char *const sa_config_reference_keys[SA_REF_COUNT];

/* Checks for names the config layer does not know; each returns 0 or fills
 * err with what was expected. Any hook may be NULL (no check). */
typedef struct sa_config_hooks {
    int (*check_method)(const char *name, sa_error *err);
    int (*check_corruption)(const char *name, sa_error *err);
    int (*check_params)(const char *name, sa_error *err);
    int (*check_classes)(const char *name, sa_error *err);
} sa_config_hooks;

void sa_config_defaults(sa_config *cfg);
int sa_config_load(sa_config **out, const char *path, const sa_config_hooks *hooks, sa_error *err);
/* Parse YAML text; `name` stands for the file in messages. */
int sa_config_load_string(sa_config **out, const char *text, size_t len, const char *name,
                          const sa_config_hooks *hooks, sa_error *err);
void sa_config_free(sa_config *cfg);
/* Apply a "section.key=value" override (e.g. from the command line). */
int sa_config_set(sa_config *cfg, const char *assignment, const sa_config_hooks *hooks,
                  sa_error *err);
/* The resolved configuration, every default filled in, as YAML. */
void sa_config_dump(const sa_config *cfg, sa_strbuf *out);

#endif
