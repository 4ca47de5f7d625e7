/*
 * jose/keys.c - signing and verification keys pinned by configuration: loaded
 * from files or environment variables, checked for their algorithm and
 * strength, gathered into keysets. Key material is wiped from memory when its
 * pool goes; error messages never contain it.
 */
#include "jose/keys.h"

#include <apr_file_io.h>
#include <apr_strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stdlib.h>
#include <string.h>

#define TA_KEY_MAX_LEN     (64 * 1024) /* longest key file or variable */
#define TA_HS256_MIN_LEN   32
#define TA_RSA_MIN_BITS    2048

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

static int hmac256(const unsigned char *key, size_t keylen, const char *label, unsigned char out[32])
{
    unsigned int len = 0;

    return HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)label, strlen(label), out, &len) != NULL
           && len == 32 ? 0 : -1;
}

int ta_key_derive(const ta_key_t *key, const char *label, unsigned char out[32])
{
    unsigned char *der = NULL;
    int derlen, rc;

    if (key == NULL || !key->can_sign) {
        return -1;
    }
    if (key->secret != NULL) {
        return hmac256(key->secret, key->secret_len, label, out);
    }
    /* Asymmetric: the private key's DER is the secret material. */
    if (key->pkey == NULL || (derlen = i2d_PrivateKey(key->pkey, &der)) <= 0) {
        return -1;
    }
    rc = hmac256(der, (size_t)derlen, label, out);
    OPENSSL_clear_free(der, (size_t)derlen);
    return rc;
}
