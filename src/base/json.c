#include "json.h"

#include "fs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sa_json {
    sa_json_type type;
    double num;
    char *str;          /* string value */
    char **keys;        /* object keys, parallel to items */
    sa_json **items;    /* array elements / object values */
    size_t n, cap;
};

typedef struct parser {
    const char *start, *s, *end, *name;
    sa_error *err;
    int depth;
} parser;

static int perr(parser *p, const char *what)
{
    return sa_error_set(p->err, SA_EFORMAT, "json", "%s: %s at byte %ld", p->name, what,
                        (long)(p->s - p->start));
}

static void skip_ws(parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static int push(sa_json *j, char *key, sa_json *v)
{
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 4;
        sa_json **ni = realloc(j->items, cap * sizeof *ni);
        if (!ni)
            return -1;
        j->items = ni;
        if (j->type == SA_JSON_OBJ) {
            char **nk = realloc(j->keys, cap * sizeof *nk);
            if (!nk)
                return -1;
            j->keys = nk;
        }
        j->cap = cap;
    }
    if (j->type == SA_JSON_OBJ)
        j->keys[j->n] = key;
    j->items[j->n++] = v;
    return 0;
}

static void put_utf8(char *out, size_t *k, unsigned cp)
{
    if (cp < 0x80) {
        out[(*k)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*k)++] = (char)(0xC0 | (cp >> 6));
        out[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*k)++] = (char)(0xE0 | (cp >> 12));
        out[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*k)++] = (char)(0xF0 | (cp >> 18));
        out[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*k)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static int parse_string(parser *p, char **out)
{
    const char *s = ++p->s; /* after the opening quote */
    size_t cap = 0;
    while (s < p->end && *s != '"') {
        if (*s == '\\')
            s++;
        s++;
        cap++;
    }
    if (s >= p->end)
        return perr(p, "unterminated string");
    char *buf = malloc(cap * 4 + 1);
    if (!buf)
        return sa_error_set(p->err, SA_ENOMEM, "json", "out of memory");
    size_t k = 0;
    while (*p->s != '"') {
        char c = *p->s++;
        if ((unsigned char)c < 0x20) {
            free(buf);
            return perr(p, "control character in string");
        }
        if (c != '\\') {
            buf[k++] = c;
            continue;
        }
        c = *p->s++;
        switch (c) {
        case '"': buf[k++] = '"'; break;
        case '\\': buf[k++] = '\\'; break;
        case '/': buf[k++] = '/'; break;
        case 'b': buf[k++] = '\b'; break;
        case 'f': buf[k++] = '\f'; break;
        case 'n': buf[k++] = '\n'; break;
        case 'r': buf[k++] = '\r'; break;
        case 't': buf[k++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (p->end - p->s < 4 || hex4(p->s, &cp) < 0) {
                free(buf);
                return perr(p, "bad \\u escape");
            }
            p->s += 4;
            put_utf8(buf, &k, cp);
            break;
        }
        default:
            free(buf);
            return perr(p, "bad escape");
        }
    }
    p->s++; /* closing quote */
    buf[k] = '\0';
    *out = buf;
    return 0;
}

static int parse_value(parser *p, sa_json **out);

static int parse_container(parser *p, sa_json *j, char close)
{
    p->s++;
    skip_ws(p);
    if (p->s < p->end && *p->s == close) {
        p->s++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(p);
        if (j->type == SA_JSON_OBJ) {
            if (p->s >= p->end || *p->s != '"')
                return perr(p, "expected a key");
            if (parse_string(p, &key) < 0)
                return -1;
            skip_ws(p);
            if (p->s >= p->end || *p->s != ':') {
                free(key);
                return perr(p, "expected ':'");
            }
            p->s++;
        }
        sa_json *v = NULL;
        if (parse_value(p, &v) < 0) {
            free(key);
            return -1;
        }
        if (push(j, key, v) < 0) {
            free(key);
            sa_json_free(v);
            return sa_error_set(p->err, SA_ENOMEM, "json", "out of memory");
        }
        skip_ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == close) {
            p->s++;
            return 0;
        }
        return perr(p, "expected ',' or a closing bracket");
    }
}

static int parse_value(parser *p, sa_json **out)
{
    skip_ws(p);
    if (p->s >= p->end)
        return perr(p, "unexpected end of input");
    if (++p->depth > 64)
        return perr(p, "nesting too deep");
    sa_json *j = calloc(1, sizeof *j);
    if (!j)
        return sa_error_set(p->err, SA_ENOMEM, "json", "out of memory");
    int rc = 0;
    char c = *p->s;
    if (c == '{' || c == '[') {
        j->type = c == '{' ? SA_JSON_OBJ : SA_JSON_ARR;
        rc = parse_container(p, j, c == '{' ? '}' : ']');
    } else if (c == '"') {
        j->type = SA_JSON_STR;
        rc = parse_string(p, &j->str);
    } else if (p->end - p->s >= 4 && memcmp(p->s, "true", 4) == 0) {
        j->type = SA_JSON_BOOL;
        j->num = 1;
        p->s += 4;
    } else if (p->end - p->s >= 5 && memcmp(p->s, "false", 5) == 0) {
        j->type = SA_JSON_BOOL;
        p->s += 5;
    } else if (p->end - p->s >= 4 && memcmp(p->s, "null", 4) == 0) {
        j->type = SA_JSON_NULL;
        p->s += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char tmp[64];
        size_t n = 0;
        while (p->s + n < p->end && n < sizeof tmp - 1 && strchr("+-0123456789.eE", p->s[n]))
            n++;
        memcpy(tmp, p->s, n);
        tmp[n] = '\0';
        char *e;
        j->type = SA_JSON_NUM;
        j->num = strtod(tmp, &e);
        if (e != tmp + n)
            rc = perr(p, "bad number");
        p->s += n;
    } else {
        rc = perr(p, "unexpected character");
    }
    p->depth--;
    if (rc < 0) {
        sa_json_free(j);
        return rc;
    }
    *out = j;
    return 0;
}

int sa_json_parse(sa_json **out, const char *text, size_t len, const char *name, sa_error *err)
{
    parser p = {text, text, text + len, name ? name : "<json>", err, 0};
    sa_json *j = NULL;
    if (parse_value(&p, &j) < 0)
        return err ? err->code : SA_EFORMAT;
    skip_ws(&p);
    if (p.s != p.end) {
        sa_json_free(j);
        return perr(&p, "trailing characters");
    }
    *out = j;
    return 0;
}

int sa_json_load_file(sa_json **out, const char *path, sa_error *err)
{
    char *text;
    size_t len;
    int rc = sa_fs_read_all(path, &text, &len, err);
    if (rc < 0)
        return rc;
    rc = sa_json_parse(out, text, len, path, err);
    free(text);
    return rc;
}

void sa_json_free(sa_json *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++) {
        sa_json_free(j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
    free(j);
}

sa_json_type sa_json_kind(const sa_json *j)
{
    return j ? j->type : SA_JSON_NULL;
}

const sa_json *sa_json_get(const sa_json *j, const char *key)
{
    if (!j || j->type != SA_JSON_OBJ)
        return NULL;
    for (size_t i = 0; i < j->n; i++)
        if (strcmp(j->keys[i], key) == 0)
            return j->items[i];
    return NULL;
}

size_t sa_json_len(const sa_json *j)
{
    return j && (j->type == SA_JSON_ARR || j->type == SA_JSON_OBJ) ? j->n : 0;
}

const sa_json *sa_json_at(const sa_json *j, size_t i)
{
    return j && i < sa_json_len(j) ? j->items[i] : NULL;
}

const char *sa_json_str(const sa_json *j)
{
    return j && j->type == SA_JSON_STR ? j->str : NULL;
}

int sa_json_num(const sa_json *j, double *out)
{
    if (!j || j->type != SA_JSON_NUM)
        return -1;
    *out = j->num;
    return 0;
}
