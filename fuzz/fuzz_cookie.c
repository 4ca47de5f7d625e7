/*
 * fuzz_cookie.c - ta_cookie_get on hostile Cookie headers, ta_cookie_make on
 * hostile names, values and attributes.
 *
 * Input: byte 0 options (bit 0 Secure, bit 1 HttpOnly, bit 2 Domain given,
 * bit 3 SameSite given, bit 4 Path given, bit 5 max_len unlimited), byte 1
 * max_len, 8 bytes max_age (big-endian, signed), then
 *   name '\n' value '\n' path '\n' domain '\n' samesite '\n' Cookie header (rest)
 *
 * Checked: ta_cookie_get returns NULL or a string of at most max_len bytes
 * that occurs in the header; ta_cookie_make returns NULL or a string without
 * control characters (CR, LF, NUL, ...) that starts with "name=value; " and
 * from which ta_cookie_get reads the value back.
 */
#include "fuzz_common.h"

#include <apr_strings.h>

#include "util/cookie.h"

static void check_get(apr_pool_t *p, const char *header, const char *name, apr_size_t max)
{
    const char *v = ta_cookie_get(p, header, name, max);

    if (!v)
        return;
    FUZZ_CHECK(strlen(v) <= max, "value of %zu bytes over max_len %zu", strlen(v), (size_t)max);
    FUZZ_CHECK(strstr(header, v) != NULL, "value not taken from the header");
    FUZZ_CHECK(*name != '\0', "a value for an empty name");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    uint8_t opts = fuzz_byte(&in);
    apr_size_t max = fuzz_byte(&in);
    apr_int64_t max_age;
    uint64_t u = 0;
    const char *name, *value, *path, *domain, *samesite, *header, *set, *back, *c;
    ta_cookie_attrs_t a;
    int i;

    for (i = 0; i < 8; i++)
        u = (u << 8) | fuzz_byte(&in);
    max_age = (apr_int64_t)u;
    if (opts & 32)
        max = (apr_size_t)-1;
    name = fuzz_field_str(p, &in, '\n');
    value = fuzz_field_str(p, &in, '\n');
    path = fuzz_field_str(p, &in, '\n');
    domain = fuzz_field_str(p, &in, '\n');
    samesite = fuzz_field_str(p, &in, '\n');
    header = fuzz_strndup(p, in.d, in.n);

    /* reading */
    check_get(p, header, name, max);
    check_get(p, header, value, max);
    check_get(p, header, "accessToken", max);
    FUZZ_CHECK(ta_cookie_get(p, NULL, name, max) == NULL, "value from a NULL header");
    FUZZ_CHECK(ta_cookie_get(p, header, NULL, max) == NULL, "value for a NULL name");

    /* writing */
    memset(&a, 0, sizeof a);
    a.secure = opts & 1;
    a.domain = (opts & 4) ? domain : NULL;
    a.samesite = (opts & 8) ? samesite : NULL;
    a.path = (opts & 16) ? path : NULL;
    set = ta_cookie_make(p, name, value, max_age, opts & 2, &a);
    if (set) {
        const char *want = max_age > 0 ? value : "";
        const char *prefix = apr_pstrcat(p, name, "=", want, "; ", NULL);

        for (c = set; *c; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
                       "control character 0x%02x in Set-Cookie value", (unsigned char)*c);
        FUZZ_CHECK(*name && strncmp(set, prefix, strlen(prefix)) == 0,
                   "Set-Cookie does not start with name=value: %s", set);
        back = ta_cookie_get(p, set, name, (apr_size_t)-1);
        FUZZ_CHECK(back && strcmp(back, want) == 0, "value does not read back from %s", set);
    }
    /* the attribute-less form */
    set = ta_cookie_make(p, name, value, max_age, 0, NULL);
    if (set)
        for (c = set; *c; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "control character");

    apr_pool_destroy(p);
    return 0;
}
