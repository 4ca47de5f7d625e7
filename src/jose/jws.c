/*
 * jose/jws.c - JSON Web Tokens (JWS compact serialization) signed and verified
 * with pinned keys (jose/keys.h).
 *
 * Everything a token says about how to check it is treated as a claim to be
 * verified, never as an instruction: the algorithm comes from the keyset, the
 * header "alg" must merely repeat it, and "kid" can only narrow the choice to
 * a key the configuration already holds. Claims are parsed only after the
 * signature has been verified.
 */
#include "jose/jws.h"
#include "jose/b64url.h"

#include <apr_strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>

#include <stdlib.h>
#include <string.h>

#define TA_JWT_MAX_LEN     8192        /* longest token accepted, in bytes */
#define TA_SHA256_LEN      32
#define TA_ES256_COORD_LEN 32          /* bytes of r and of s in a JWS ES256 signature */

const char *ta_jwt_status_str(ta_jwt_status_t st)
{
    switch (st) {
    case TA_JWT_OK:         return "ok";
    case TA_JWT_MALFORMED:  return "malformed token";
    case TA_JWT_BAD_ALG:    return "wrong algorithm";
    case TA_JWT_BAD_KEY:    return "unknown key id";
    case TA_JWT_BAD_SIG:    return "bad signature";
    case TA_JWT_BAD_TYP:    return "wrong token type";
    case TA_JWT_BAD_CLAIMS: return "bad claims";
    case TA_JWT_EXPIRED:    return "expired";
    }
    return "unknown status";
}

/* ------------------------------------------------------- sign and verify */

/* HMAC-SHA256(key's secret, msg) into out (32 bytes); 1 on success. Works on a
 * duplicate of the key's template, which is never updated itself, so the call
 * is safe from any thread. */
static int hs256(const ta_key_t *key, const char *msg, size_t msglen, unsigned char *out)
{
    EVP_MAC_CTX *ctx;
    size_t outlen = 0;
    unsigned int mlen = 0;
    int ok;

    if (key->hmac == NULL)
        return HMAC(EVP_sha256(), key->secret, (int)key->secret_len,
                    (const unsigned char *)msg, msglen, out, &mlen) != NULL
            && mlen == TA_SHA256_LEN;
    if ((ctx = EVP_MAC_CTX_dup(key->hmac)) == NULL)
        return 0;
    ok = EVP_MAC_update(ctx, (const unsigned char *)msg, msglen) == 1
      && EVP_MAC_final(ctx, out, &outlen, TA_SHA256_LEN) == 1
      && outlen == TA_SHA256_LEN;
    EVP_MAC_CTX_free(ctx);
    return ok;
}


/* Converts a DER ECDSA signature to the JWS form r||s (32 bytes each). */
static int ecdsa_der_to_raw(const unsigned char *der, size_t derlen, unsigned char *raw)
{
    const unsigned char *q = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
    const BIGNUM *r, *s;
    int ok;

    if (sig == NULL)
        return 0;
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, TA_ES256_COORD_LEN) == TA_ES256_COORD_LEN
      && BN_bn2binpad(s, raw + TA_ES256_COORD_LEN, TA_ES256_COORD_LEN) == TA_ES256_COORD_LEN;
    ECDSA_SIG_free(sig);
    return ok;
}

/* Converts a JWS r||s signature to DER in p; returns its length or 0. */
static size_t ecdsa_raw_to_der(apr_pool_t *p, const unsigned char *raw, unsigned char **der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, TA_ES256_COORD_LEN, NULL);
    BIGNUM *s = BN_bin2bn(raw + TA_ES256_COORD_LEN, TA_ES256_COORD_LEN, NULL);
    unsigned char *buf = NULL;
    int len = 0;

    if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s)) {
        r = s = NULL;  /* owned by sig now */
        len = i2d_ECDSA_SIG(sig, &buf);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    if (len <= 0)
        return 0;
    *der = apr_pmemdup(p, buf, (apr_size_t)len);
    OPENSSL_free(buf);
    return (size_t)len;
}

static const EVP_MD *digest_for(ta_alg_t alg)
{
    return alg == TA_ALG_EDDSA ? NULL : EVP_sha256();
}

/* Signs msg with key; *sig is the JWS signature bytes in p. */
static int sign_bytes(apr_pool_t *p, const ta_key_t *key, const char *msg, size_t msglen,
                      unsigned char **sig, size_t *siglen)
{
    EVP_MD_CTX *ctx;
    unsigned char *buf = NULL;
    size_t len = 0;
    int ok = 0;

    if (key->alg == TA_ALG_HS256) {
        buf = apr_palloc(p, TA_SHA256_LEN);
        if (!hs256(key, msg, msglen, buf))
            return 0;
        *sig = buf;
        *siglen = TA_SHA256_LEN;
        return 1;
    }
    if (key->pkey == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
        return 0;
    if (EVP_DigestSignInit(ctx, NULL, digest_for(key->alg), NULL, key->pkey) == 1
        && EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)msg, msglen) == 1) {
        buf = apr_palloc(p, len);
        ok = EVP_DigestSign(ctx, buf, &len, (const unsigned char *)msg, msglen) == 1;
    }
    EVP_MD_CTX_free(ctx);
    if (ok && key->alg == TA_ALG_ES256) {
        unsigned char *raw = apr_palloc(p, 2 * TA_ES256_COORD_LEN);
        ok = ecdsa_der_to_raw(buf, len, raw);
        buf = raw;
        len = 2 * TA_ES256_COORD_LEN;
    }
    if (!ok) {
        ERR_clear_error();
        return 0;
    }
    *sig = buf;
    *siglen = len;
    return 1;
}

/* Verifies a JWS signature over msg with key. 1 when valid. */
static int verify_bytes(apr_pool_t *p, const ta_key_t *key, const char *msg, size_t msglen,
                        const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *ctx;
    unsigned char *der = NULL;
    int ok = 0;

    if (key->alg == TA_ALG_HS256) {
        unsigned char mac[TA_SHA256_LEN];
        if (siglen != TA_SHA256_LEN || !hs256(key, msg, msglen, mac))
            return 0;
        ok = CRYPTO_memcmp(mac, sig, TA_SHA256_LEN) == 0;
        OPENSSL_cleanse(mac, sizeof(mac));
        return ok;
    }
    if (key->pkey == NULL)
        return 0;
    if (key->alg == TA_ALG_ES256) {
        if (siglen != 2 * TA_ES256_COORD_LEN
            || (siglen = ecdsa_raw_to_der(p, sig, &der)) == 0)
            return 0;
        sig = der;
    }
    else if (key->alg == TA_ALG_EDDSA && siglen != 64) {
        return 0;
    }
    else if (key->alg == TA_ALG_RS256 && siglen != (size_t)EVP_PKEY_get_size(key->pkey)) {
        return 0;
    }
    if ((ctx = EVP_MD_CTX_new()) == NULL)
        return 0;
    ok = EVP_DigestVerifyInit(ctx, NULL, digest_for(key->alg), NULL, key->pkey) == 1
      && EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)msg, msglen) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

/* Serializes a JSON object compactly, keeping insertion order, into p. */
static char *dump_json(apr_pool_t *p, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *copy;
    if (s == NULL)
        return NULL;
    copy = apr_pstrdup(p, s);
    free(s);
    return copy;
}

/* Adds a string member, skipping NULL values; 0 on allocation failure. */
static int set_str(json_t *obj, const char *name, const char *value)
{
    return value == NULL || json_object_set_new(obj, name, json_string(value)) == 0;
}

char *ta_jwt_sign(apr_pool_t *p, const ta_keyset_t *ks, const ta_claims_t *c)
{
    const ta_key_t *key;
    json_t *hdr, *pl;
    char *hjson = NULL, *pjson = NULL, *input;
    unsigned char *sig;
    size_t siglen;
    int built;

    if (ks == NULL || ks->keys == NULL || ks->keys->nelts == 0 || c == NULL
        || c->sub == NULL || c->sid == NULL)
        return NULL;
    key = APR_ARRAY_IDX(ks->keys, 0, const ta_key_t *);
    if (!key->can_sign || key->alg != ks->alg)
        return NULL;

    hdr = json_object();
    pl = json_object();
    built = hdr != NULL && pl != NULL
        && set_str(hdr, "alg", ta_alg_name(ks->alg))
        && set_str(hdr, "typ", c->typ)
        && set_str(hdr, "kid", key->kid)
        && set_str(pl, "sub", c->sub)
        && set_str(pl, "sid", c->sid)
        && set_str(pl, "jti", c->jti)
        && set_str(pl, "iss", c->iss)
        && set_str(pl, "aud", c->aud)
        && json_object_set_new(pl, "iat", json_integer(c->iat)) == 0
        && json_object_set_new(pl, "exp", json_integer(c->exp)) == 0;
    if (built) {
        hjson = dump_json(p, hdr);
        pjson = dump_json(p, pl);
    }
    json_decref(hdr);
    json_decref(pl);
    if (hjson == NULL || pjson == NULL)
        return NULL;

    input = apr_pstrcat(p, ta_b64url_encode(p, (const unsigned char *)hjson, strlen(hjson)), ".",
                        ta_b64url_encode(p, (const unsigned char *)pjson, strlen(pjson)), NULL);
    if (!sign_bytes(p, key, input, strlen(input), &sig, &siglen))
        return NULL;
    return apr_pstrcat(p, input, ".", ta_b64url_encode(p, sig, siglen), NULL);
}

/* Parses decoded JSON text that must be an object; NULL if it is anything else.
 * The text is bounded by the token size limit. Duplicate names are refused so
 * that no two readers can disagree about which "alg" or "sub" counts. */
static json_t *parse_object(const unsigned char *raw, apr_size_t rawlen)
{
    json_t *j = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* A NumericDate: a JSON integer, or a real that fits (RFC 7519 allows both). */
static int get_time(json_t *v, apr_int64_t *t)
{
    if (json_is_integer(v)) {
        *t = (apr_int64_t)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d > -4e18 && d < 4e18) {
            *t = (apr_int64_t)d;
            return 1;
        }
    }
    return 0;
}

/* A required non-empty string claim; "sub" may also be a JSON integer. */
static const char *get_id(apr_pool_t *p, json_t *v, int allow_int)
{
    if (json_is_string(v) && json_string_length(v) > 0)
        return apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
    if (allow_int && json_is_integer(v))
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
    return NULL;
}

static int aud_matches(json_t *v, const char *aud)
{
    size_t i;
    json_t *e;

    if (json_is_string(v))
        return strcmp(json_string_value(v), aud) == 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (json_is_string(e) && strcmp(json_string_value(e), aud) == 0)
                return 1;
        }
    }
    return 0;
}

/* Reads and checks the claims of a token whose signature is already valid. */
static ta_jwt_status_t check_claims(apr_pool_t *p, json_t *pl, const char *iss,
                                    const char *aud, apr_int64_t now, int leeway,
                                    ta_claims_t *out)
{
    json_t *v;
    apr_int64_t t;

    if (!get_time(json_object_get(pl, "exp"), &out->exp))
        return TA_JWT_BAD_CLAIMS;
    if ((out->sub = get_id(p, json_object_get(pl, "sub"), 1)) == NULL
        || (out->sid = get_id(p, json_object_get(pl, "sid"), 0)) == NULL)
        return TA_JWT_BAD_CLAIMS;
    if ((v = json_object_get(pl, "iat")) != NULL) {
        if (!get_time(v, &out->iat) || out->iat > now + leeway)
            return TA_JWT_BAD_CLAIMS;
    }
    if ((v = json_object_get(pl, "nbf")) != NULL) {
        if (!get_time(v, &t) || t > now + leeway)
            return TA_JWT_BAD_CLAIMS;
    }
    if ((v = json_object_get(pl, "jti")) != NULL) {
        if ((out->jti = get_id(p, v, 0)) == NULL)
            return TA_JWT_BAD_CLAIMS;
    }
    if ((v = json_object_get(pl, "iss")) != NULL && json_is_string(v))
        out->iss = apr_pstrdup(p, json_string_value(v));
    if (iss != NULL && (out->iss == NULL || strcmp(out->iss, iss) != 0))
        return TA_JWT_BAD_CLAIMS;
    v = json_object_get(pl, "aud");
    if (json_is_string(v))
        out->aud = apr_pstrdup(p, json_string_value(v));
    if (aud != NULL) {
        if (!aud_matches(v, aud))
            return TA_JWT_BAD_CLAIMS;
        out->aud = apr_pstrdup(p, aud);
    }
    if (out->exp < now - leeway)
        return TA_JWT_EXPIRED;
    return TA_JWT_OK;
}

/* Checks the header against the keyset and the signature against the key(s)
 * it allows. Returns TA_JWT_OK only when some permitted key verified it. */
static ta_jwt_status_t check_header_and_sig(apr_pool_t *p, const ta_keyset_t *ks, json_t *hdr,
                                            const char *expect_typ, const char *input,
                                            size_t inlen, const unsigned char *sig,
                                            size_t siglen, ta_claims_t *out)
{
    json_t *alg = json_object_get(hdr, "alg");
    json_t *kid = json_object_get(hdr, "kid");
    json_t *typ = json_object_get(hdr, "typ");
    const ta_key_t *only = NULL;
    int i;

    if (!json_is_string(alg) || strcmp(json_string_value(alg), ta_alg_name(ks->alg)) != 0)
        return TA_JWT_BAD_ALG;
    /* Extensions we do not understand must not be ignored (RFC 7515 4.1.11). */
    if (json_object_get(hdr, "crit") != NULL)
        return TA_JWT_MALFORMED;
    if (kid != NULL) {
        if (!json_is_string(kid))
            return TA_JWT_BAD_KEY;
        for (i = 0; i < ks->keys->nelts && only == NULL; i++) {
            const ta_key_t *k = APR_ARRAY_IDX(ks->keys, i, const ta_key_t *);
            if (k->kid != NULL && strcmp(k->kid, json_string_value(kid)) == 0)
                only = k;
        }
        if (only == NULL)
            return TA_JWT_BAD_KEY;
    }
    if (expect_typ != NULL
        && (!json_is_string(typ) || strcmp(json_string_value(typ), expect_typ) != 0))
        return TA_JWT_BAD_TYP;
    if (json_is_string(typ))
        out->typ = apr_pstrdup(p, json_string_value(typ));

    if (only != NULL)
        return verify_bytes(p, only, input, inlen, sig, siglen) ? TA_JWT_OK : TA_JWT_BAD_SIG;
    for (i = 0; i < ks->keys->nelts; i++) {
        const ta_key_t *k = APR_ARRAY_IDX(ks->keys, i, const ta_key_t *);
        if (k->alg == ks->alg && verify_bytes(p, k, input, inlen, sig, siglen))
            return TA_JWT_OK;
    }
    return TA_JWT_BAD_SIG;
}

ta_jwt_status_t ta_jwt_verify(apr_pool_t *p, const ta_keyset_t *ks, const char *token,
                              const char *expect_typ, const char *iss, const char *aud,
                              apr_int64_t now, int leeway, ta_claims_t *out)
{
    ta_claims_t claims;
    const char *dot1, *dot2;
    apr_size_t len, hlen, plen, siglen;
    unsigned char *hraw, *praw, *sig;
    json_t *hdr, *pl;
    ta_jwt_status_t st;

    memset(&claims, 0, sizeof(claims));
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (leeway < 0)
        leeway = 0;
    if (ks == NULL || ks->keys == NULL || ks->keys->nelts == 0 || token == NULL)
        return TA_JWT_MALFORMED;

    /* Shape: at most 8 KB, exactly three base64url parts (the signature may be
     * empty here; it then fails verification, not parsing). */
    len = strnlen(token, TA_JWT_MAX_LEN + 1);
    if (len == 0 || len > TA_JWT_MAX_LEN)
        return TA_JWT_MALFORMED;
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (apr_size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (apr_size_t)(dot2 + 1 - token)) != NULL
        || dot1 == token || dot2 == dot1 + 1)
        return TA_JWT_MALFORMED;
    if (ta_b64url_decode(p, token, (apr_size_t)(dot1 - token), &hraw, &hlen) != 0
        || ta_b64url_decode(p, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1), &praw, &plen) != 0
        || ta_b64url_decode(p, dot2 + 1, len - (apr_size_t)(dot2 + 1 - token), &sig, &siglen) != 0)
        return TA_JWT_MALFORMED;

    if ((hdr = parse_object(hraw, hlen)) == NULL)
        return TA_JWT_MALFORMED;
    st = check_header_and_sig(p, ks, hdr, expect_typ, token, (size_t)(dot2 - token),
                              sig, siglen, &claims);
    json_decref(hdr);
    if (st != TA_JWT_OK)
        return st;

    /* Only now, with the signature verified, is the payload worth reading. */
    if ((pl = parse_object(praw, plen)) == NULL)
        return TA_JWT_MALFORMED;
    st = check_claims(p, pl, iss, aud, now, leeway, &claims);
    json_decref(pl);
    if (out != NULL && (st == TA_JWT_OK || st == TA_JWT_EXPIRED))
        *out = claims;
    return st;
}
