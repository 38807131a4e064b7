#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sa_error_setv(sa_error *err, int code, const char *domain, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->domain, sizeof err->domain, "%s", domain ? domain : "");
    int n = 0;
    if (domain && *domain)
        n = snprintf(err->msg, sizeof err->msg, "%s: ", domain);
    if (n < 0 || (size_t)n >= sizeof err->msg)
        n = 0;
    vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
    return code;
}

int sa_error_set(sa_error *err, int code, const char *domain, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sa_error_setv(err, code, domain, fmt, ap);
    va_end(ap);
    return code;
}

void sa_error_prefix(sa_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char head[SA_ERROR_MSG_MAX];
    char old[SA_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* head + ": " + old, cut to fit */
    size_t hl = strnlen(head, sizeof err->msg - 1);
    memcpy(err->msg, head, hl);
    size_t pos = hl;
    for (const char *s = ": "; *s && pos < sizeof err->msg - 1; s++)
        err->msg[pos++] = *s;
    size_t ol = strnlen(old, sizeof old);
    if (ol > sizeof err->msg - 1 - pos)
        ol = sizeof err->msg - 1 - pos;
    memcpy(err->msg + pos, old, ol);
    err->msg[pos + ol] = '\0';
}

void sa_error_clear(sa_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

void sa__assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "selfadapt: internal error: assertion `%s` failed (%s:%d)\n", expr, file, line);
    abort();
}
