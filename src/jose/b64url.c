/*
 * jose/b64url.c - base64url without padding (RFC 7515, appendix C).
 */
#include "jose/b64url.h"

#include <string.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *ta_b64url_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    char *o = out;
    apr_size_t i = 0;

    for (; i + 2 < len; i += 3) {
        unsigned long v = ((unsigned long)data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        *o++ = b64url_alphabet[(v >> 18) & 63];
        *o++ = b64url_alphabet[(v >> 12) & 63];
        *o++ = b64url_alphabet[(v >> 6) & 63];
        *o++ = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned long v = (unsigned long)data[i] << 16;
        *o++ = b64url_alphabet[(v >> 18) & 63];
        *o++ = b64url_alphabet[(v >> 12) & 63];
    }
    else if (len - i == 2) {
        unsigned long v = ((unsigned long)data[i] << 16) | (data[i + 1] << 8);
        *o++ = b64url_alphabet[(v >> 18) & 63];
        *o++ = b64url_alphabet[(v >> 12) & 63];
        *o++ = b64url_alphabet[(v >> 6) & 63];
    }
    *o = '\0';
    return out;
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Strict decoder: only the URL-safe alphabet, no padding, no whitespace, and
 * the unused low bits of the last character must be zero, so every byte
 * string has exactly one accepted encoding. The output is NUL-terminated
 * (not counted in *outlen) so JSON text can be handed on directly. */
int ta_b64url_decode(apr_pool_t *p, const char *in, apr_size_t inlen,
                     unsigned char **out, apr_size_t *outlen)
{
    unsigned char *buf, *o;
    unsigned long acc = 0;
    int bits = 0;
    apr_size_t i;

    if (in == NULL || out == NULL || outlen == NULL || inlen % 4 == 1)
        return -1;
    buf = o = apr_palloc(p, inlen / 4 * 3 + 3);
    for (i = 0; i < inlen; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = ((acc << 6) | (unsigned long)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (unsigned char)(acc >> bits);
        }
    }
    if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0)
        return -1;
    *o = '\0';
    *out = buf;
    *outlen = (apr_size_t)(o - buf);
    return 0;
}
