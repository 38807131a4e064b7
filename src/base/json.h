/* json.h - a small JSON reader (RFC 8259) for selfadapt's own files.
 *
 *     sa_json *doc = NULL;
 *     if (sa_json_parse(&doc, text, len, "cells/x.json", &err) < 0) ...;
 *     const sa_json *fmt = sa_json_get(doc, "format");
 *     const char *s = sa_json_str(fmt);          // NULL unless a string
 *     double v; sa_json_num(sa_json_get(doc, "error"), &v);
 *     for (size_t i = 0; i < sa_json_len(arr); i++) sa_json_at(arr, i) ...
 *     sa_json_free(doc);
 *
 * The document owns every node and string; accessors borrow. Nesting is
 * capped at 64 levels; errors give the byte offset.
 */
#ifndef SA_BASE_JSON_H
#define SA_BASE_JSON_H

#include <stddef.h>

#include "error.h"

typedef enum sa_json_type {
    SA_JSON_NULL,
    SA_JSON_BOOL,
    SA_JSON_NUM,
    SA_JSON_STR,
    SA_JSON_ARR,
    SA_JSON_OBJ,
} sa_json_type;

typedef struct sa_json sa_json;

int sa_json_parse(sa_json **out, const char *text, size_t len, const char *name, sa_error *err);
/* Read and parse a whole file (errors name it). */
int sa_json_load_file(sa_json **out, const char *path, sa_error *err);
void sa_json_free(sa_json *j);
sa_json_type sa_json_kind(const sa_json *j);
/* Member of an object (NULL if j is not an object or has no such key). */
const sa_json *sa_json_get(const sa_json *j, const char *key);
size_t sa_json_len(const sa_json *j); /* elements of an array / members of an object */
const sa_json *sa_json_at(const sa_json *j, size_t i);
const char *sa_json_str(const sa_json *j);
/* 0 and *out set if j is a number, else -1. */
int sa_json_num(const sa_json *j, double *out);

#endif
