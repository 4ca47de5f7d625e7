/*
 * validate.c - a small zod (v3 messages and issue shapes).
 *
 * Each failed check appends one zod-3 issue to v->issues and its message to
 * the flatten() view (formErrors for the root, fieldErrors[field] otherwise).
 * ta_v_finish() turns the issues into BAD_REQUEST whose message is
 * JSON.stringify(issues, null, 2) and whose zod data is the flatten() object.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "trpc/validate.h"

/* JS's Number.MAX_SAFE_INTEGER: integral reals beyond it are refused. */
#define TA_MAX_SAFE_INT 9007199254740991.0

/* zod 3's ZodParsedType name of a JSON value (NULL = undefined). */
static const char *parsed_type_name(const json_t *j)
{
    if (!j)
        return "undefined";
    switch (json_typeof(j)) {
    case JSON_OBJECT:  return "object";
    case JSON_ARRAY:   return "array";
    case JSON_STRING:  return "string";
    case JSON_INTEGER: return "number";
    case JSON_REAL:    return "number";
    case JSON_TRUE:
    case JSON_FALSE:   return "boolean";
    case JSON_NULL:    return "null";
    }
    return "unknown";
}

void ta_v_init(ta_validator_t *v, apr_pool_t *p, json_t *input)
{
    v->pool = p;
    v->input = input;
    v->form_errors = ta_json_pool(p, json_array());
    v->field_errors = ta_json_pool(p, json_object());
    v->issues = ta_json_pool(p, json_array());

    if (!json_is_object(input)) {
        json_t *issue = json_pack("{s:s, s:s, s:s}", "code", "invalid_type",
                                  "expected", "object",
                                  "received", parsed_type_name(input));
        const char *msg = input ? apr_psprintf(p, "Expected object, received %s",
                                               parsed_type_name(input))
                                : "Required";
        json_object_set_new(issue, "path", json_array());
        json_object_set_new(issue, "message", json_string(msg));
        json_array_append_new(v->issues, issue);
        json_array_append_new(v->form_errors, json_string(msg));
    }
}

/* Records an already built issue (its path and message keys are added here
 * unless present, in zod's order: the issue's own keys, then path, message)
 * and files the message under the field, or the form when field is NULL. */
static void add_issue(ta_validator_t *v, const char *field, json_t *issue,
                      const char *msg)
{
    json_t *list;

    if (!json_object_get(issue, "path"))
        json_object_set_new(issue, "path",
                            field ? json_pack("[s]", field) : json_array());
    json_object_set_new(issue, "message", json_string(msg));
    json_array_append_new(v->issues, issue);

    if (!field) {
        json_array_append_new(v->form_errors, json_string(msg));
        return;
    }
    list = json_object_get(v->field_errors, field);
    if (!list) {
        list = json_array();
        json_object_set_new(v->field_errors, field, list);
    }
    json_array_append_new(list, json_string(msg));
}

void ta_v_fail(ta_validator_t *v, const char *field, const char *code,
               const char *fmt, ...)
{
    va_list ap;
    va_list ap2;
    int n;
    char *msg;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    msg = apr_palloc(v->pool, n > 0 ? (apr_size_t)n + 1 : 1);
    msg[0] = '\0';
    if (n > 0)
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);

    add_issue(v, field, json_pack("{s:s}", "code", code ? code : "custom"), msg);
}

/* zod's invalid_type issue: {code, expected, received, path, message}, with
 * "Required" when the value is undefined. */
static void fail_type(ta_validator_t *v, const char *field, const char *expected,
                      const json_t *got)
{
    const char *received = parsed_type_name(got);
    const char *msg = got ? apr_psprintf(v->pool, "Expected %s, received %s",
                                         expected, received)
                          : "Required";
    add_issue(v, field, json_pack("{s:s, s:s, s:s}", "code", "invalid_type",
                                  "expected", expected, "received", received),
              msg);
}

/* The value of field, or NULL when the root is not an object (already
 * reported), the key is absent, or (optional fields only) it is null.
 * *skip is set when the caller must not report anything further. */
static json_t *field_value(ta_validator_t *v, const char *field, int required,
                           int *skip)
{
    json_t *j;

    *skip = 1;
    if (!json_is_object(v->input))
        return NULL;
    j = json_object_get(v->input, field);
    if (!required && (!j || json_is_null(j)))
        return NULL;
    *skip = 0;
    return j;
}

/* 1 when the n bytes at str are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF) and contain no NUL. */
int ta_utf8_clean(const char *str, apr_size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        unsigned cp;
        size_t len, k;

        if (c == 0)
            return 0;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF)      { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        else return 0;
        if (i + len > n)
            return 0;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

const char *ta_v_string(ta_validator_t *v, const char *field, int required)
{
    int skip;
    json_t *j = field_value(v, field, required, &skip);
    const char *s;
    size_t n;

    if (skip)
        return NULL;
    if (!json_is_string(j)) {
        fail_type(v, field, "string", j);
        return NULL;
    }
    s = json_string_value(j);
    n = json_string_length(j);
    if (n != strlen(s) || !ta_utf8_clean(s, n)) {
        ta_v_fail(v, field, "custom", "Invalid string");
        return NULL;
    }
    return apr_pstrmemdup(v->pool, s, n);
}

/* Records zod's int check failure; note zod puts "message" before "path"
 * for this issue (the check passes message: undefined). */
static void fail_not_integer(ta_validator_t *v, const char *field)
{
    json_t *issue = json_pack("{s:s, s:s, s:s, s:s}", "code", "invalid_type",
                              "expected", "integer", "received", "float",
                              "message", "");
    json_object_set_new(issue, "path", json_pack("[s]", field));
    add_issue(v, field, issue, "Expected integer, received float");
}

int ta_v_int(ta_validator_t *v, const char *field, int required, long long *out)
{
    int skip;
    json_t *j = field_value(v, field, required, &skip);
    double d;

    if (skip)
        return 0;
    if (json_is_integer(j)) {
        *out = (long long)json_integer_value(j);
        return 1;
    }
    if (!json_is_real(j)) {
        fail_type(v, field, "number", j);
        return 0;
    }
    /* 5.0 and 1e3 are integers in JS; 1.5 is not. */
    d = json_real_value(j);
    if (d != (double)(long long)d || d > TA_MAX_SAFE_INT || d < -TA_MAX_SAFE_INT) {
        if (d > TA_MAX_SAFE_INT || d < -TA_MAX_SAFE_INT)
            ta_v_fail(v, field, d > 0 ? "too_big" : "too_small",
                      "Number must be %s than or equal to %s9007199254740991",
                      d > 0 ? "less" : "greater", d > 0 ? "" : "-");
        else
            fail_not_integer(v, field);
        return 0;
    }
    *out = (long long)d;
    return 1;
}

/* zod's util.joinValues: 'a' | 'b' | 'c'. */
static const char *join_enum(apr_pool_t *p, const char *const *allowed)
{
    const char *s = "";
    int i;

    for (i = 0; allowed[i]; i++)
        s = apr_psprintf(p, "%s%s'%s'", s, i ? " | " : "", allowed[i]);
    return s;
}

const char *ta_v_enum(ta_validator_t *v, const char *field, int required,
                      const char *const *allowed)
{
    int skip;
    json_t *j = field_value(v, field, required, &skip);
    const char *joined;
    const char *s;
    json_t *options, *issue;
    int i;

    if (skip)
        return NULL;
    joined = join_enum(v->pool, allowed);
    if (!json_is_string(j)) {
        fail_type(v, field, joined, j);
        return NULL;
    }
    s = json_string_value(j);
    if (json_string_length(j) != strlen(s) ||
        !ta_utf8_clean(s, strlen(s))) {
        ta_v_fail(v, field, "custom", "Invalid string");
        return NULL;
    }
    for (i = 0; allowed[i]; i++)
        if (strcmp(s, allowed[i]) == 0)
            return allowed[i];

    options = json_array();
    for (i = 0; allowed[i]; i++)
        json_array_append_new(options, json_string(allowed[i]));
    issue = json_object();
    json_object_set(issue, "received", j);
    json_object_set_new(issue, "code", json_string("invalid_enum_value"));
    json_object_set_new(issue, "options", options);
    /* The received value is quoted raw like JS's template string would. */
    add_issue(v, field, issue,
              apr_psprintf(v->pool, "Invalid enum value. Expected %s, received '%s'",
                           joined, s));
    return NULL;
}

ta_error_t *ta_v_finish(ta_validator_t *v)
{
    ta_error_t *e;
    char *text;

    if (json_array_size(v->issues) == 0)
        return NULL;
    text = json_dumps(v->issues, JSON_INDENT(2));
    e = ta_error_make(v->pool, TA_E_BAD_REQUEST, "%s", text ? text : "[]");
    free(text);
    e->zod = ta_json_pool(v->pool, json_pack("{s:O, s:O}",
                                             "formErrors", v->form_errors,
                                             "fieldErrors", v->field_errors));
    return e;
}
