/*
 * jwt.c - JSON Web Tokens (JWS compact serialization) with pinned keys.
 *
 * Everything a token says about how to check it is treated as a claim to be
 * verified, never as an instruction: the algorithm comes from the keyset, the
 * header "alg" must merely repeat it, and "kid" can only narrow the choice to
 * a key the configuration already holds. Claims are parsed only after the
 * signature has been verified.
 */
#include "jose/jwt.h"

#include <apr_file_io.h>
#include <apr_strings.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <stdlib.h>
#include <string.h>

#define TA_JWT_MAX_LEN     8192        /* longest token accepted, in bytes */
#define TA_KEY_MAX_LEN     (64 * 1024) /* longest key file or variable */
#define TA_HS256_MIN_LEN   32
#define TA_RSA_MIN_BITS    2048
#define TA_SHA256_LEN      32
#define TA_ES256_COORD_LEN 32          /* bytes of r and of s in a JWS ES256 signature */

/* ------------------------------------------------------------------ names */

static const char *const alg_names[] = { "HS256", "ES256", "EdDSA", "RS256" };

int ta_alg_from_name(const char *name)
{
    int i;
    if (name == NULL)
        return -1;
    for (i = 0; i < (int)(sizeof(alg_names) / sizeof(alg_names[0])); i++)
        if (strcmp(name, alg_names[i]) == 0)
            return i;
    return -1;
}

const char *ta_alg_name(ta_alg_t alg)
{
    if ((unsigned)alg < sizeof(alg_names) / sizeof(alg_names[0]))
        return alg_names[alg];
    return "unknown";
}

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

/* -------------------------------------------------------------- base64url */

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

/* ------------------------------------------------------------ key loading */

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

/* Wipes secret bytes when their pool goes away. */
typedef struct { void *ptr; apr_size_t len; } secret_wipe_t;

static apr_status_t secret_cleanup(void *data)
{
    secret_wipe_t *w = data;
    OPENSSL_cleanse(w->ptr, w->len);
    return APR_SUCCESS;
}

static void wipe_on_cleanup(apr_pool_t *p, void *ptr, apr_size_t len)
{
    secret_wipe_t *w = apr_palloc(p, sizeof(*w));
    w->ptr = ptr;
    w->len = len;
    apr_pool_cleanup_register(p, w, secret_cleanup, apr_pool_cleanup_null);
}

/* Reads the raw bytes named by source ("file:/path" or "env:NAME") into a
 * NUL-terminated buffer in p. *from_file tells the caller whether a trailing
 * newline may be an editor's addition. Returns NULL or an error message. */
static const char *read_source(apr_pool_t *p, const char *source,
                               char **data, apr_size_t *len, int *from_file)
{
    if (strncmp(source, "file:", 5) == 0) {
        const char *path = source + 5;
        apr_file_t *f;
        apr_size_t n = TA_KEY_MAX_LEN + 1;
        char *buf, errbuf[128];
        apr_status_t rv;

        if (*path == '\0')
            return "key source \"file:\" names no file";
        rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
        if (rv != APR_SUCCESS)
            return apr_psprintf(p, "cannot open key file %s: %s", path,
                                apr_strerror(rv, errbuf, sizeof(errbuf)));
        buf = apr_palloc(p, n + 1);
        rv = apr_file_read_full(f, buf, n, &n);
        apr_file_close(f);
        if (rv != APR_SUCCESS && rv != APR_EOF) {
            OPENSSL_cleanse(buf, n);
            return apr_psprintf(p, "cannot read key file %s: %s", path,
                                apr_strerror(rv, errbuf, sizeof(errbuf)));
        }
        if (n > TA_KEY_MAX_LEN) {
            OPENSSL_cleanse(buf, n);
            return apr_psprintf(p, "key file %s is larger than %d bytes", path, TA_KEY_MAX_LEN);
        }
        buf[n] = '\0';
        *data = buf;
        *len = n;
        *from_file = 1;
        return NULL;
    }
    if (strncmp(source, "env:", 4) == 0) {
        const char *name = source + 4;
        const char *val;
        if (*name == '\0')
            return "key source \"env:\" names no environment variable";
        val = getenv(name);
        if (val == NULL)
            return apr_psprintf(p, "environment variable %s is not set", name);
        if (strlen(val) > TA_KEY_MAX_LEN)
            return apr_psprintf(p, "environment variable %s is longer than %d bytes",
                                name, TA_KEY_MAX_LEN);
        *len = strlen(val);
        *data = apr_pstrmemdup(p, val, *len);
        *from_file = 0;
        return NULL;
    }
    return apr_psprintf(p, "key source \"%s\" must be file:/path or env:NAME", source);
}

static apr_status_t mac_ctx_cleanup(void *data)
{
    EVP_MAC_CTX_free(data);
    return APR_SUCCESS;
}

/* The keyed HMAC-SHA256 template of a secret. HMAC() fetches the algorithm from
 * the provider store, makes a context and hashes the key into it on every call
 * (about 24 K instructions per token in bench/profile); duplicating a ready
 * context skips all of that. NULL if OpenSSL cannot make one. */
static EVP_MAC_CTX *hmac_template(apr_pool_t *p, const unsigned char *secret, apr_size_t len)
{
    OSSL_PARAM params[2];
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;

    EVP_MAC_free(mac);                 /* the context holds its own reference */
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx == NULL || EVP_MAC_init(ctx, secret, len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    apr_pool_cleanup_register(p, ctx, mac_ctx_cleanup, apr_pool_cleanup_null);
    return ctx;
}

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

static const char *load_secret(apr_pool_t *p, const char *source, char *data,
                               apr_size_t len, int from_file, ta_key_t *key)
{
    unsigned char *secret;

    if (from_file && len > 0 && data[len - 1] == '\n') {
        len--;
        if (len > 0 && data[len - 1] == '\r')
            len--;
    }
    /* PEM text is a key, not a secret: most likely a public key configured
     * by mistake, and a public key is known to everyone, who could then sign. */
    if (memmem(data, len, "-----BEGIN", 10) != NULL)
        return apr_psprintf(p, "HS256 secret from %s is PEM text (a key, perhaps a public "
                            "one, which anyone could sign with); HS256 needs a random "
                            "secret, PEM keys need ES256, EdDSA or RS256", source);
    if (len < TA_HS256_MIN_LEN)
        return apr_psprintf(p, "HS256 secret from %s is %" APR_SIZE_T_FMT " bytes; "
                            "it must be at least %d bytes", source, len, TA_HS256_MIN_LEN);
    secret = apr_pmemdup(p, data, len);
    wipe_on_cleanup(p, secret, len);
    key->secret = secret;
    key->secret_len = len;
    key->hmac = hmac_template(p, secret, len);
    key->can_sign = 1;
    return NULL;
}

/* Keeps OpenSSL from prompting on a terminal for an encrypted key's passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

/* Parses PEM text: a private key first, else a public key. */
static EVP_PKEY *parse_pem(const char *data, apr_size_t len, int *is_private)
{
    EVP_PKEY *pkey = NULL;
    BIO *bio = BIO_new_mem_buf(data, (int)len);

    if (bio != NULL) {
        pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
    }
    if (pkey != NULL) {
        *is_private = 1;
        return pkey;
    }
    ERR_clear_error();
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio != NULL) {
        pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
    }
    ERR_clear_error();
    *is_private = 0;
    return pkey;
}

/* Checks that pkey is usable for alg; returns NULL or a message. */
static const char *check_key_type(apr_pool_t *p, ta_alg_t alg, EVP_PKEY *pkey,
                                  const char *source)
{
    const char *type = EVP_PKEY_get0_type_name(pkey);
    char group[64];
    size_t glen = 0;

    if (type == NULL)
        type = "unknown";
    switch (alg) {
    case TA_ALG_ES256:
        if (!EVP_PKEY_is_a(pkey, "EC"))
            return apr_psprintf(p, "key from %s is a %s key, but ES256 needs an EC P-256 key",
                                source, type);
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), &glen)
            || strcmp(group, "prime256v1") != 0) {
            ERR_clear_error();
            return apr_psprintf(p, "key from %s is an EC key on curve %s, but ES256 needs P-256",
                                source, glen ? group : "(unknown)");
        }
        return NULL;
    case TA_ALG_EDDSA:
        if (!EVP_PKEY_is_a(pkey, "ED25519"))
            return apr_psprintf(p, "key from %s is a %s key, but EdDSA needs an Ed25519 key",
                                source, type);
        return NULL;
    case TA_ALG_RS256:
        if (!EVP_PKEY_is_a(pkey, "RSA"))
            return apr_psprintf(p, "key from %s is a %s key, but RS256 needs an RSA key",
                                source, type);
        if (EVP_PKEY_get_bits(pkey) < TA_RSA_MIN_BITS)
            return apr_psprintf(p, "RSA key from %s has %d bits; RS256 needs at least %d",
                                source, EVP_PKEY_get_bits(pkey), TA_RSA_MIN_BITS);
        return NULL;
    case TA_ALG_HS256:
        break;
    }
    return "internal error: no key type for this algorithm";
}

static const char *load_pem_key(apr_pool_t *p, ta_alg_t alg, const char *source,
                                const char *data, apr_size_t len, ta_key_t *key)
{
    int is_private = 0;
    EVP_PKEY *pkey = parse_pem(data, len, &is_private);
    const char *err;

    if (pkey == NULL)
        return apr_psprintf(p, "no PEM private or public key found in %s "
                            "(encrypted keys are not supported)", source);
    err = check_key_type(p, alg, pkey, source);
    if (err != NULL) {
        EVP_PKEY_free(pkey);
        return err;
    }
    apr_pool_cleanup_register(p, pkey, pkey_cleanup, apr_pool_cleanup_null);
    key->pkey = pkey;
    key->can_sign = is_private;
    return NULL;
}

const char *ta_key_load(apr_pool_t *p, const char *alg, const char *source,
                        const char *kid, ta_key_t **out)
{
    int a = ta_alg_from_name(alg);
    ta_key_t *key;
    char *data = NULL;
    apr_size_t len = 0;
    int from_file = 0;
    const char *err;

    if (out != NULL)
        *out = NULL;
    if (a < 0)
        return apr_psprintf(p, "unknown algorithm \"%s\" (use HS256, ES256, EdDSA or RS256)",
                            alg ? alg : "");
    if (source == NULL || out == NULL)
        return "no key source given";
    err = read_source(p, source, &data, &len, &from_file);
    if (err != NULL)
        return err;

    key = apr_pcalloc(p, sizeof(*key));
    key->alg = (ta_alg_t)a;
    key->kid = (kid != NULL && *kid != '\0') ? apr_pstrdup(p, kid) : NULL;
    if (key->alg == TA_ALG_HS256)
        err = load_secret(p, source, data, len, from_file, key);
    else
        err = load_pem_key(p, key->alg, source, data, len, key);
    OPENSSL_cleanse(data, len);
    if (err == NULL)
        *out = key;
    return err;
}

const char *ta_keyset_add(apr_pool_t *p, ta_keyset_t **ks, ta_key_t *key)
{
    int i;

    if (ks == NULL || key == NULL)
        return "no key to add";
    if (*ks == NULL) {
        ta_keyset_t *set = apr_pcalloc(p, sizeof(*set));
        set->alg = key->alg;
        set->keys = apr_array_make(p, 2, sizeof(ta_key_t *));
        *ks = set;
    }
    if (key->alg != (*ks)->alg)
        return apr_psprintf(p, "key%s%s uses %s, but the other keys of its set use %s",
                            key->kid ? " " : "", key->kid ? key->kid : "",
                            ta_alg_name(key->alg), ta_alg_name((*ks)->alg));
    for (i = 0; i < (*ks)->keys->nelts; i++) {
        const ta_key_t *k = APR_ARRAY_IDX((*ks)->keys, i, const ta_key_t *);
        if (key->kid != NULL && k->kid != NULL && strcmp(key->kid, k->kid) == 0)
            return apr_psprintf(p, "duplicate key id \"%s\"", key->kid);
    }
    APR_ARRAY_PUSH((*ks)->keys, ta_key_t *) = key;
    return NULL;
}

/* ------------------------------------------------------- sign and verify */

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
