/* strbuf.h - a growable text buffer for report and JSON writers.
 *
 *     sa_strbuf b = {0};
 *     sa_strbuf_printf(&b, "%s,%.2f\n", name, err);
 *     sa_fs_write_atomic(path, b.data, b.len, &e);
 *     sa_strbuf_free(&b);
 *
 * Allocation failure is sticky: b.oom is set, later appends do nothing, and
 * the writer checks b.oom once at the end.
 */
#ifndef SA_BASE_STRBUF_H
#define SA_BASE_STRBUF_H

#include <stddef.h>

typedef struct sa_strbuf {
    char *data;  /* NUL-terminated when non-NULL; owned by the buffer */
    size_t len;
    size_t cap;
    int oom;
} sa_strbuf;

void sa_strbuf_printf(sa_strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void sa_strbuf_append(sa_strbuf *b, const char *s, size_t n);
/* Append s as a JSON string literal, quotes included. */
void sa_strbuf_json_str(sa_strbuf *b, const char *s);
void sa_strbuf_free(sa_strbuf *b);

#endif
