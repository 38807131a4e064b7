/* log.h - where library messages go is the caller's choice.
 *
 * Library code never prints. A component that has something to say takes a
 * `const sa_logger *` (NULL means: say nothing) and calls sa_logf(); the CLI
 * supplies a logger that writes to stderr.
 *
 *     static void to_stderr(void *user, sa_log_level lv, const char *msg) { ... }
 *     sa_logger lg = {to_stderr, NULL, SA_LOG_INFO};
 *     sa_logf(&lg, SA_LOG_WARN, "skipped %s", path);
 */
#ifndef SA_BASE_LOG_H
#define SA_BASE_LOG_H

typedef enum sa_log_level {
    SA_LOG_DEBUG = 0,
    SA_LOG_INFO = 1,
    SA_LOG_WARN = 2,
    SA_LOG_ERROR = 3,
} sa_log_level;

typedef struct sa_logger {
    void (*fn)(void *user, sa_log_level level, const char *msg);
    void *user;
    sa_log_level min_level; /* messages below this level are dropped */
} sa_logger;

void sa_logf(const sa_logger *lg, sa_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
