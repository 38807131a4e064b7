/* selfadapt run */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "strbuf.h"
#include "torch.h"

/* The CLI is the one place with process-wide state: the interrupt flag. */
static volatile sig_atomic_t interrupted = 0;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void log_to_stderr(void *user, sa_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "selfadapt: %s%s\n", level >= SA_LOG_WARN ? "warning: " : "", msg);
}

#define MAX_SETS 64

int sa_cli_run(int argc, char **argv)
{
    const char *path = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0, resume = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--resume") == 0) {
            resume = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            if (n_sets == MAX_SETS) {
                fprintf(stderr, "selfadapt: too many --set options\n");
                return 2;
            }
            sets[n_sets++] = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "selfadapt run: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "selfadapt run: more than one config file given\n");
            return 2;
        }
    }
    sa_error err = {0};
    sa_config *cfg = NULL;
    sa_config_hooks hooks = sa_run_config_hooks();
    int rc = path ? sa_config_load(&cfg, path, &hooks, &err)
                  : sa_config_load_string(&cfg, sa_demo_yaml, sa_demo_yaml_len,
                                          "configs/demo.yaml (built in)", &hooks, &err);
    for (int i = 0; rc == 0 && i < n_sets; i++)
        rc = sa_config_set(cfg, sets[i], &hooks, &err);
    if (rc < 0) {
        fprintf(stderr, "selfadapt: %s\n", err.msg);
        sa_config_free(cfg);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sa_cli_progress prog = {isatty(2), quiet, 0.0};
    sa_logger lg = {log_to_stderr, NULL, SA_LOG_INFO};
    sa_run_options o = sa_run_options_default();
    o.resume = resume;
    o.stop = &interrupted;
    o.progress = sa_cli_progress_cb;
    o.user = &prog;
    o.log = &lg;
    sa_run_result *res = NULL;
    rc = sa_run_execute(cfg, &o, &res, &err);
    if (rc < 0) {
        if (prog.tty)
            fprintf(stderr, "\r\033[K");
        fprintf(stderr, "selfadapt: %s\n", err.msg);
        if (rc == SA_EINTR)
            fprintf(stderr, "selfadapt: finished cells are kept; hint: re-run with --resume\n");
        sa_config_free(cfg);
        return rc == SA_EINTR ? 130 : 1;
    }
    sa_strbuf out = {0};
    sa_table_text(res->table, "top-1 error (%)", &out);
    fputs(out.data ? out.data : "", stdout);
    sa_strbuf_free(&out);
    fprintf(stderr, "selfadapt: %d cell(s) computed, %d reused, %.1f s; results in %s/\n",
            res->cells_computed, res->cells_reused, res->seconds, res->dir);
    sa_run_result_free(res);
    sa_config_free(cfg);
    return 0;
}
