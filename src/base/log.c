#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void sa_logf(const sa_logger *lg, sa_log_level level, const char *fmt, ...)
{
    if (!lg || !lg->fn || level < lg->min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lg->fn(lg->user, level, msg);
}
