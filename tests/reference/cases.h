/* The method configurations checked against the Python reference. One line
 * per case; reference.py parses the CASE(...) lines of this file. */
#ifndef SA_REFERENCE_CASES_H
#define SA_REFERENCE_CASES_H

typedef struct ref_case {
    const char *name, *method, *optimizer;
    double lr, momentum;
    int nesterov;
    double weight_decay, q, temperature, alpha;
    int steps;
    const char *teacher;
    int teacher_every;
    double teacher_momentum;
    int epochs;
} ref_case;

/*                name             method     optim    lr     mom  nest wd    q    T    alpha steps teacher every mom  epochs */
#define CASE(...) {__VA_ARGS__}
static const ref_case cases[] = {
    CASE("source",         "source",  "sgd",   0.05,  0.9, 0, 0.0,  0.8, 1.0, 0.5, 1, "step",  1, 0.999, 1),
    CASE("bn",             "bn",      "sgd",   0.05,  0.9, 0, 0.0,  0.8, 1.0, 0.5, 1, "step",  1, 0.999, 1),
    CASE("bn_alpha",       "bn_alpha","sgd",   0.05,  0.9, 0, 0.0,  0.8, 1.0, 0.3, 1, "step",  1, 0.999, 1),
    CASE("bn_ema",         "bn_ema",  "sgd",   0.05,  0.9, 0, 0.0,  0.8, 1.0, 0.5, 1, "step",  1, 0.999, 2),
    CASE("ent",            "ent",     "sgd",   0.05,  0.9, 0, 0.0,  0.8, 1.0, 0.5, 1, "step",  1, 0.999, 1),
    CASE("ent_nesterov2",  "ent",     "sgd",   0.02,  0.9, 1, 1e-4, 0.8, 1.0, 0.5, 2, "step",  1, 0.999, 1),
    CASE("ent_adam",       "ent",     "adam",  0.001, 0.0, 0, 0.0,  0.8, 1.0, 0.5, 1, "step",  1, 0.999, 1),
    CASE("hard_pl",        "hard_pl", "sgd",   0.05,  0.9, 0, 0.0,  0.8, 1.0, 0.5, 1, "step",  1, 0.999, 1),
    CASE("soft_pl_ema",    "soft_pl", "sgd",   0.05,  0.9, 0, 0.0,  0.8, 0.5, 0.5, 1, "ema",   1, 0.9,   1),
    CASE("rpl",            "rpl",     "sgd",   0.05,  0.9, 0, 0.0,  0.8, 1.0, 0.5, 1, "step",  1, 0.999, 1),
    CASE("rpl_every2",     "rpl",     "sgd",   0.05,  0.9, 0, 0.0,  0.5, 1.0, 0.5, 1, "every", 2, 0.999, 1),
    CASE("rpl_epoch",      "rpl",     "sgd",   0.05,  0.9, 0, 0.0,  0.8, 1.0, 0.5, 1, "epoch", 1, 0.999, 2),
    CASE("rpl_adamw",      "rpl",     "adamw", 0.001, 0.0, 0, 0.01, 0.8, 1.0, 0.5, 1, "step",  1, 0.999, 1),
};

#endif
