/* test.h - shared helpers for selfadapt's cmocka tests. */
#ifndef SA_TEST_H
#define SA_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"

/* A fresh directory under $TMPDIR (or /tmp); removed by sa_test_rmtree. */
int sa_test_mkdtemp(char *out, size_t n);
void sa_test_rmtree(const char *path);
/* Write bytes to a file (not atomically: fixtures only). */
void sa_test_write(const char *path, const void *data, size_t n);
/* Read a whole file; caller frees. */
char *sa_test_read(const char *path, size_t *n);
/* Source tree root, from the SA_SOURCE_ROOT environment variable set by meson. */
const char *sa_test_source_root(void);
/* Fashion-MNIST directory, or NULL when the data set is not installed. */
const char *sa_test_fmnist_dir(void);

/* Assert that an sa_error message contains a substring. */
#define assert_err_contains(e, s)                                                   \
    do {                                                                           \
        if (!strstr((e).msg, (s)))                                                 \
            fail_msg("error message '%s' does not contain '%s'", (e).msg, (s));   \
    } while (0)

#endif
