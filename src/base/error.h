/* error.h - status codes and the error value every fallible call fills.
 *
 *     sa_error err = {0};
 *     if (sa_fs_write_atomic(path, buf, n, &err) < 0)
 *         fprintf(stderr, "%s\n", err.msg);     // "fs: cannot rename ... (path)"
 *
 * Functions return 0 on success or a negative SA_E* code, and on failure fill
 * the caller's sa_error (which may be NULL when the caller does not care).
 * Setting an error never allocates; nothing in sa_error needs freeing.
 * Messages read "domain: what (where)".
 *
 * SA_ASSERT is for programmer errors only (violated preconditions). It stays
 * on in release builds and aborts with file:line. User errors (bad files,
 * configs, shapes) are returned, never asserted.
 */
#ifndef SA_BASE_ERROR_H
#define SA_BASE_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SA_OK = 0,
    SA_EINVAL = -1,   /* bad argument or value (config, shape, name) */
    SA_EIO = -2,      /* file system or stream failure */
    SA_EFORMAT = -3,  /* malformed file contents */
    SA_ENOMEM = -4,   /* allocation failed */
    SA_ETORCH = -5,   /* exception inside libtorch */
    SA_ENUM = -6,     /* numeric failure (NaN / inf loss) */
    SA_EINTR = -7,    /* interrupted by the user */
};

#define SA_ERROR_MSG_MAX 512

typedef struct sa_error {
    int code;                   /* one of SA_E*, 0 when no error was set */
    char domain[16];            /* "config", "torch", "image", ... */
    char msg[SA_ERROR_MSG_MAX]; /* full message, prefixed with the domain */
} sa_error;

/* Fill err (if non-NULL) and return code, so callers can write
 * `return sa_error_set(err, SA_EIO, "fs", "cannot open %s", path);`. */
int sa_error_set(sa_error *err, int code, const char *domain, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
int sa_error_setv(sa_error *err, int code, const char *domain, const char *fmt, va_list ap);

/* Prepend context to an existing message: "config: x" -> "run: cell fog/3: config: x". */
void sa_error_prefix(sa_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clear an error value. */
void sa_error_clear(sa_error *err);

/* Programmer-error check, active in every build type. */
void sa__assert_fail(const char *expr, const char *file, int line);
#define SA_ASSERT(x) ((x) ? (void)0 : sa__assert_fail(#x, __FILE__, __LINE__))

#ifdef __cplusplus
}
#endif

#endif
