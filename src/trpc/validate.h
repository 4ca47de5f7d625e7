/*
 * trpc/validate.h - a small zod: check a JSON input object field by field and
 * collect field errors in the shape of zod's flatten() so BAD_REQUEST carries
 * data.zodError = {formErrors:[...], fieldErrors:{field:[msg, ...]}}.
 *
 * Usage:
 *     ta_validator_t v; ta_v_init(&v, p, input);        // input may be NULL (absent)
 *     const char *email = ta_v_string(&v, "email", 1);
 *     ...
 *     if ((e = ta_v_finish(&v))) return e;              // BAD_REQUEST or NULL
 */
#ifndef TA_VALIDATE_H
#define TA_VALIDATE_H

#include "trpc/error.h"

typedef struct {
    apr_pool_t *pool;
    json_t *input;        /* borrowed */
    json_t *form_errors;  /* array */
    json_t *field_errors; /* object */
    json_t *issues;       /* zod-like issue list, pretty-printed into the message */
} ta_validator_t;

/* Starts validation of an object input. A missing input or a non-object
 * records a form error ("Expected object, received ..."). */
void ta_v_init(ta_validator_t *v, apr_pool_t *p, json_t *input);

/* Records an error on a field (or the form when field is NULL). */
void ta_v_fail(ta_validator_t *v, const char *field, const char *code,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Field readers. "required" = the key must be present and non-null.
 * Missing optional fields return NULL / *present = 0. Strings are copied to
 * the pool and must be valid UTF-8 without NUL bytes. */
const char *ta_v_string(ta_validator_t *v, const char *field, int required);
int ta_v_int(ta_validator_t *v, const char *field, int required, long long *out);
/* One of a NULL-terminated set of strings. Returns NULL if absent or invalid. */
const char *ta_v_enum(ta_validator_t *v, const char *field, int required,
                      const char *const *allowed);

/* NULL when every check passed, else a BAD_REQUEST error with zod data. */
ta_error_t *ta_v_finish(ta_validator_t *v);

/* 1 when the n bytes at s are well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without a NUL byte, else 0. */
int ta_utf8_clean(const char *s, apr_size_t n);

#endif
