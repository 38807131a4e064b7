/* cli.h - the selfadapt command line (internal to src/cli). */
#ifndef SA_CLI_H
#define SA_CLI_H

#include <stddef.h>

#include "run.h"

extern const char sa_demo_yaml[];
extern const size_t sa_demo_yaml_len;

int sa_cli_run(int argc, char **argv);
int sa_cli_corrupt(int argc, char **argv);
/* selfadapt report RUN_DIR... [--out DIR] [--alexnet-clean PCT] (cmd_report.c) */
int sa_cli_report(int argc, char **argv);

/* Progress printer: a live line on a terminal, periodic lines otherwise. */
typedef struct sa_cli_progress {
    int tty;
    int quiet;
    double last_print;
} sa_cli_progress;
void sa_cli_progress_cb(void *user, const sa_progress *p);

#endif
