#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(sa_strbuf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *nd = realloc(b->data, cap);
    if (!nd) {
        b->oom = 1;
        return -1;
    }
    b->data = nd;
    b->cap = cap;
    return 0;
}

void sa_strbuf_append(sa_strbuf *b, const char *s, size_t n)
{
    if (reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sa_strbuf_printf(sa_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sa_strbuf_json_str(sa_strbuf *b, const char *s)
{
    sa_strbuf_append(b, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sa_strbuf_append(b, esc, 2);
        } else if (c < 0x20) {
            sa_strbuf_printf(b, "\\u%04x", c);
        } else {
            sa_strbuf_append(b, (const char *)&c, 1);
        }
    }
    sa_strbuf_append(b, "\"", 1);
}

void sa_strbuf_free(sa_strbuf *b)
{
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof *b);
}
