/*
 * test_jwt.c - JWT signing and verification with pinned algorithms and keys.
 *
 * Keys are generated once per run (EC P-256, P-384, Ed25519, RSA-2048 and
 * RSA-1024) and written as PEM files to a temporary directory; every test
 * loads what it needs through ta_key_load, exactly as the configuration does.
 */
#include "unit.h"
#include "jose/jws.h"
#include "jose/b64url.h"
#include "jose/jti.h"
#include "jose/seal.h"

#include <apr_strings.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW      APR_INT64_C(1700000000)
#define SECRET   "0123456789abcdef0123456789ABCDEF"   /* exactly 32 bytes */
#define SECRET2  "fedcba9876543210FEDCBA9876543210-2"

static char tmpdir[] = "/tmp/ta_jwt_test_XXXXXX";

/* ------------------------------------------------------------- fixtures */

static const char *path_of(const char *file)
{
    return apr_pstrcat(pool, tmpdir, "/", file, NULL);
}

static const char *src_of(const char *file)
{
    return apr_pstrcat(pool, "file:", tmpdir, "/", file, NULL);
}

static void write_file(const char *file, const char *data, size_t len)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static void write_pem_pair(EVP_PKEY *pk, const char *stem)
{
    char path[512];
    FILE *f;

    if (pk == NULL) {
        fprintf(stderr, "key generation failed for %s\n", stem);
        exit(2);
    }
    snprintf(path, sizeof(path), "%s/%s.key", tmpdir, stem);
    f = fopen(path, "w");
    if (f == NULL || !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0)
        exit(2);
    snprintf(path, sizeof(path), "%s/%s.pub", tmpdir, stem);
    f = fopen(path, "w");
    if (f == NULL || !PEM_write_PUBKEY(f, pk) || fclose(f) != 0)
        exit(2);
    EVP_PKEY_free(pk);
}

#define GARBAGE_PEM "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"

/* Runs once in the parent, before any test forks; uses no APR pool. */
static void make_keys(void)
{
    char path[512];

    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    write_pem_pair(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "es");
    write_pem_pair(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "es2");
    write_pem_pair(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), "p384");
    write_pem_pair(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "ed");
    write_pem_pair(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "ed2");
    write_pem_pair(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), "rsa");
    write_pem_pair(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024), "rsa1024");
    write_file("hs.secret", SECRET "\n", strlen(SECRET) + 1);
    write_file("hs2.secret", SECRET2 "\r\n", strlen(SECRET2) + 2);
    write_file("short.secret", "0123456789abcdef0123456789abcde\n", 32);  /* 31 + \n */
    write_file("garbage.pem", GARBAGE_PEM, strlen(GARBAGE_PEM));
    snprintf(path, sizeof(path), "%s/adir", tmpdir);
    if (mkdir(path, 0700) != 0)
        exit(2);
}

static void remove_keys(void)
{
    static const char *files[] = {
        "es.key", "es.pub", "es2.key", "es2.pub", "p384.key", "p384.pub", "ed.key", "ed.pub",
        "ed2.key", "ed2.pub", "rsa.key", "rsa.pub", "rsa1024.key", "rsa1024.pub",
        "hs.secret", "hs2.secret", "short.secret", "garbage.pem", "noread.secret",
        "pem-inside.secret", NULL
    };
    char path[512];
    int i;
    for (i = 0; files[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/adir", tmpdir);
    rmdir(path);
    rmdir(tmpdir);
}

/* The four algorithms with their private (signing) and public (verify-only) sources. */
static const struct {
    const char *alg, *priv, *pub;
} algs[] = {
    { "HS256", "hs.secret", "hs.secret" },
    { "ES256", "es.key", "es.pub" },
    { "EdDSA", "ed.key", "ed.pub" },
    { "RS256", "rsa.key", "rsa.pub" },
};

static ta_key_t *load(const char *alg, const char *file, const char *kid)
{
    ta_key_t *k = NULL;
    const char *err = ta_key_load(pool, alg, src_of(file), kid, &k);
    ck_assert_msg(err == NULL, "loading %s for %s: %s", file, alg, err);
    ck_assert_ptr_nonnull(k);
    return k;
}

static const char *load_err(const char *alg, const char *source)
{
    ta_key_t *k = (ta_key_t *)1;
    const char *err = ta_key_load(pool, alg, source, NULL, &k);
    ck_assert_msg(err != NULL, "%s %s should fail", alg, source);
    ck_assert_ptr_null(k);
    return err;
}

static ta_keyset_t *set_of(const char *alg, const char *file, const char *kid)
{
    ta_keyset_t *ks = NULL;
    ck_assert_ptr_null(ta_keyset_add(pool, &ks, load(alg, file, kid)));
    return ks;
}

static ta_claims_t claims(const char *typ)
{
    ta_claims_t c;
    memset(&c, 0, sizeof(c));
    c.typ = typ;
    c.sub = "42";
    c.sid = "sess-1";
    c.iat = NOW;
    c.exp = NOW + 900;
    return c;
}

static char *sign_ok(const ta_keyset_t *ks, const ta_claims_t *c)
{
    char *t = ta_jwt_sign(pool, ks, c);
    ck_assert_ptr_nonnull(t);
    return t;
}

static ta_jwt_status_t verify(const ta_keyset_t *ks, const char *tok, ta_claims_t *out)
{
    ta_claims_t dummy;
    return ta_jwt_verify(pool, ks, tok, "at+jwt", NULL, NULL, NOW, 30, out ? out : &dummy);
}

static char *b64s(const char *s)
{
    return ta_b64url_encode(pool, (const unsigned char *)s, strlen(s));
}

/* Builds a token from literal JSON, HMAC-SHA256 signed with key (or with an
 * empty signature when key is NULL). */
static char *craft(const char *hdr, const char *payload, const char *key, size_t keylen)
{
    char *input = apr_pstrcat(pool, b64s(hdr), ".", b64s(payload), NULL);
    unsigned char mac[32];
    unsigned int maclen = 0;

    if (key == NULL)
        return apr_pstrcat(pool, input, ".", NULL);
    HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)input, strlen(input), mac, &maclen);
    return apr_pstrcat(pool, input, ".", ta_b64url_encode(pool, mac, maclen), NULL);
}

static char *craft_hs(const char *payload)
{
    return craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", payload, SECRET, strlen(SECRET));
}

static char *part(const char *tok, int n)
{
    char *copy = apr_pstrdup(pool, tok), *last, *s;
    s = apr_strtok(copy, ".", &last);
    while (n-- > 0 && s)
        s = apr_strtok(NULL, ".", &last);
    return s;
}

static char *decoded(const char *b64)
{
    unsigned char *out;
    apr_size_t len;
    ck_assert_int_eq(ta_b64url_decode(pool, b64, strlen(b64), &out, &len), 0);
    return apr_pstrmemdup(pool, (char *)out, len);
}

static char *read_text(const char *file)
{
    char *data;
    apr_size_t len;
    FILE *f = fopen(path_of(file), "r");
    ck_assert_ptr_nonnull(f);
    data = apr_pcalloc(pool, 65536);
    len = fread(data, 1, 65535, f);
    fclose(f);
    data[len] = '\0';
    return data;
}

/* -------------------------------------------------------------- base64url */

START_TEST(b64url_matches_rfc4648_vectors_without_padding)
{
    static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *enc[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
    static const unsigned char bin[] = { 0xfb, 0xff, 0xbf };
    int i;

    for (i = 0; i < 7; i++) {
        ck_assert_str_eq(b64s(plain[i]), enc[i]);
        ck_assert_str_eq(decoded(enc[i]), plain[i]);
    }
    ck_assert_str_eq(ta_b64url_encode(pool, bin, 3), "-_-_");
}
END_TEST

START_TEST(b64url_decode_rejects_padding_and_foreign_characters)
{
    static const char *bad[] = { "Zg==", "Zm8=", "Zm9v+A", "Zm9v/A", "Z", "Zm 9v", "Zm9v\n",
                                 "Zh", "Zm9", "Zm9vYh", "Zm.v", "\xc3\xa9" };
    unsigned char *out;
    apr_size_t len;
    int i;

    for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
        ck_assert_msg(ta_b64url_decode(pool, bad[i], strlen(bad[i]), &out, &len) == -1,
                      "accepted \"%s\"", bad[i]);
    /* "Zh" has non-zero unused bits; "Zm9" is fine, so check it explicitly */
    ck_assert_int_eq(ta_b64url_decode(pool, "Zm8", 3, &out, &len), 0);
    ck_assert_int_eq(len, 2);
}
END_TEST

/* --------------------------------------------------------------- names */

START_TEST(alg_names_round_trip_and_unknown_names_are_refused)
{
    int i;
    for (i = TA_ALG_HS256; i <= TA_ALG_RS256; i++)
        ck_assert_int_eq(ta_alg_from_name(ta_alg_name((ta_alg_t)i)), i);
    ck_assert_str_eq(ta_alg_name(TA_ALG_EDDSA), "EdDSA");
    ck_assert_int_eq(ta_alg_from_name("none"), -1);
    ck_assert_int_eq(ta_alg_from_name("hs256"), -1);
    ck_assert_int_eq(ta_alg_from_name("EDDSA"), -1);
    ck_assert_int_eq(ta_alg_from_name(""), -1);
    ck_assert_int_eq(ta_alg_from_name(NULL), -1);
}
END_TEST

START_TEST(status_words_are_distinct)
{
    int i, j;
    for (i = TA_JWT_OK; i <= TA_JWT_EXPIRED; i++) {
        ck_assert_ptr_nonnull(ta_jwt_status_str((ta_jwt_status_t)i));
        for (j = 0; j < i; j++)
            ck_assert_str_ne(ta_jwt_status_str((ta_jwt_status_t)i),
                             ta_jwt_status_str((ta_jwt_status_t)j));
    }
    ck_assert_str_eq(ta_jwt_status_str(TA_JWT_EXPIRED), "expired");
}
END_TEST

/* ----------------------------------------------------- sign and verify */

START_TEST(round_trip_with_private_key_and_with_public_key_only)
{
    ta_keyset_t *signer = set_of(algs[_i].alg, algs[_i].priv, "k1");
    ta_keyset_t *verifier = set_of(algs[_i].alg, algs[_i].pub, "k1");
    ta_claims_t c = claims("at+jwt"), out;
    char *tok;

    c.jti = "jti-9";
    c.iss = "https://issuer.example";
    c.aud = "trpc";
    tok = sign_ok(signer, &c);
    ck_assert_int_eq(ta_jwt_verify(pool, signer, tok, "at+jwt", c.iss, c.aud, NOW, 0, &out),
                     TA_JWT_OK);
    memset(&out, 0x55, sizeof(out));
    ck_assert_int_eq(ta_jwt_verify(pool, verifier, tok, "at+jwt", c.iss, c.aud, NOW, 0, &out),
                     TA_JWT_OK);
    ck_assert_str_eq(out.typ, "at+jwt");
    ck_assert_str_eq(out.sub, "42");
    ck_assert_str_eq(out.sid, "sess-1");
    ck_assert_str_eq(out.jti, "jti-9");
    ck_assert_str_eq(out.iss, "https://issuer.example");
    ck_assert_str_eq(out.aud, "trpc");
    ck_assert_int_eq(out.iat, NOW);
    ck_assert_int_eq(out.exp, NOW + 900);
}
END_TEST

START_TEST(signature_has_the_jws_size_of_its_algorithm)
{
    static const apr_size_t sizes[] = { 32, 64, 64, 256 };
    ta_keyset_t *ks = set_of(algs[_i].alg, algs[_i].priv, NULL);
    ta_claims_t c = claims("at+jwt");
    char *tok = sign_ok(ks, &c);
    unsigned char *sig;
    apr_size_t len;
    const char *s = part(tok, 2);

    ck_assert_int_eq(ta_b64url_decode(pool, s, strlen(s), &sig, &len), 0);
    ck_assert_uint_eq(len, sizes[_i]);
}
END_TEST

START_TEST(header_and_payload_are_compact_json_in_a_fixed_order)
{
    ta_keyset_t *ks = set_of("ES256", "es.key", "2024-06");
    ta_keyset_t *nokid = set_of("HS256", "hs.secret", NULL);
    ta_claims_t c = claims("at+jwt");
    char *tok = sign_ok(ks, &c);

    ck_assert_str_eq(decoded(part(tok, 0)), "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"2024-06\"}");
    ck_assert_str_eq(decoded(part(tok, 1)),
                     "{\"sub\":\"42\",\"sid\":\"sess-1\",\"iat\":1700000000,\"exp\":1700000900}");
    c.typ = "rt+jwt";
    c.jti = "j1";
    c.iss = "iss";
    c.aud = "aud";
    tok = sign_ok(nokid, &c);
    ck_assert_str_eq(decoded(part(tok, 0)), "{\"alg\":\"HS256\",\"typ\":\"rt+jwt\"}");
    ck_assert_str_eq(decoded(part(tok, 1)),
                     "{\"sub\":\"42\",\"sid\":\"sess-1\",\"jti\":\"j1\",\"iss\":\"iss\","
                     "\"aud\":\"aud\",\"iat\":1700000000,\"exp\":1700000900}");
}
END_TEST

START_TEST(hs256_token_is_the_known_hmac)
{
    /* Independent computation of the same token with OpenSSL's HMAC. */
    ta_keyset_t *ks = set_of("HS256", "hs.secret", NULL);
    ta_claims_t c = claims("at+jwt");
    char *expect = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}",
                         "{\"sub\":\"42\",\"sid\":\"sess-1\",\"iat\":1700000000,\"exp\":1700000900}",
                         SECRET, strlen(SECRET));
    ck_assert_str_eq(sign_ok(ks, &c), expect);
}
END_TEST

START_TEST(public_key_cannot_sign)
{
    ta_keyset_t *ks = set_of(algs[_i].alg, algs[_i].pub, NULL);
    ta_claims_t c = claims("at+jwt");
    ta_key_t *k = APR_ARRAY_IDX(ks->keys, 0, ta_key_t *);

    if (_i == 0)  /* a secret always signs */
        return;
    ck_assert_int_eq(k->can_sign, 0);
    ck_assert_ptr_null(ta_jwt_sign(pool, ks, &c));
    /* even when a private key follows: only the first key signs */
    ck_assert_ptr_null(ta_keyset_add(pool, &ks, load(algs[_i].alg, algs[_i].priv, "priv")));
    ck_assert_ptr_null(ta_jwt_sign(pool, ks, &c));
}
END_TEST

START_TEST(sign_refuses_missing_sub_or_sid_or_empty_set)
{
    ta_keyset_t *ks = set_of("HS256", "hs.secret", NULL);
    ta_claims_t c = claims("at+jwt");
    c.sub = NULL;
    ck_assert_ptr_null(ta_jwt_sign(pool, ks, &c));
    c = claims("at+jwt");
    c.sid = NULL;
    ck_assert_ptr_null(ta_jwt_sign(pool, ks, &c));
    c = claims("at+jwt");
    ck_assert_ptr_null(ta_jwt_sign(pool, NULL, &c));
}
END_TEST

START_TEST(tampered_payload_fails_the_signature)
{
    ta_keyset_t *ks = set_of(algs[_i].alg, algs[_i].priv, NULL);
    ta_claims_t c = claims("at+jwt"), other = claims("at+jwt");
    char *tok, *tok2, *forged;

    other.sub = "1";
    tok = sign_ok(ks, &c);
    tok2 = sign_ok(ks, &other);
    ck_assert_int_eq(verify(ks, tok, NULL), TA_JWT_OK);
    forged = apr_pstrcat(pool, part(tok, 0), ".", part(tok2, 1), ".", part(tok, 2), NULL);
    ck_assert_int_eq(verify(ks, forged, NULL), TA_JWT_BAD_SIG);
    forged = apr_pstrcat(pool, part(tok, 0), ".",
                         b64s("{\"sub\":\"1\",\"sid\":\"sess-1\",\"iat\":1700000000,\"exp\":1700000900}"),
                         ".", part(tok, 2), NULL);
    ck_assert_int_eq(verify(ks, forged, NULL), TA_JWT_BAD_SIG);
}
END_TEST

START_TEST(tampered_signature_fails)
{
    ta_keyset_t *ks = set_of(algs[_i].alg, algs[_i].priv, NULL);
    ta_claims_t c = claims("at+jwt");
    char *tok = sign_ok(ks, &c);
    char *sig = part(tok, 2);
    char *flipped = apr_pstrdup(pool, sig);
    char *other;

    flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify(ks, apr_pstrcat(pool, part(tok, 0), ".", part(tok, 1), ".", flipped, NULL), NULL),
                     TA_JWT_BAD_SIG);
    /* truncated, empty, and a signature from another key of the same type */
    ck_assert_int_eq(verify(ks, apr_pstrcat(pool, part(tok, 0), ".", part(tok, 1), ".",
                                            apr_pstrndup(pool, sig, 8), NULL), NULL),
                     TA_JWT_BAD_SIG);
    ck_assert_int_eq(verify(ks, apr_pstrcat(pool, part(tok, 0), ".", part(tok, 1), ".", NULL), NULL),
                     TA_JWT_BAD_SIG);
    if (_i == 1 || _i == 2) {
        ta_keyset_t *ks2 = set_of(algs[_i].alg, _i == 1 ? "es2.key" : "ed2.key", NULL);
        other = sign_ok(ks2, &c);
        ck_assert_int_eq(verify(ks, other, NULL), TA_JWT_BAD_SIG);
    }
    if (_i == 0) {
        ta_keyset_t *ks2 = set_of("HS256", "hs2.secret", NULL);
        other = sign_ok(ks2, &c);
        ck_assert_int_eq(verify(ks, other, NULL), TA_JWT_BAD_SIG);
    }
}
END_TEST

START_TEST(alg_none_is_refused)
{
    ta_keyset_t *ks = set_of(algs[_i].alg, algs[_i].pub, "k1");
    const char *pl = "{\"sub\":\"42\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900}";

    ck_assert_int_eq(verify(ks, craft("{\"alg\":\"none\",\"typ\":\"at+jwt\"}", pl, NULL, 0), NULL),
                     TA_JWT_BAD_ALG);
    ck_assert_int_eq(verify(ks, craft("{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}", pl, NULL, 0), NULL),
                     TA_JWT_BAD_ALG);
    ck_assert_int_eq(verify(ks, craft("{\"alg\":\"None\",\"typ\":\"at+jwt\"}", pl, NULL, 0), NULL),
                     TA_JWT_BAD_ALG);
    ck_assert_int_eq(verify(ks, craft("{\"typ\":\"at+jwt\"}", pl, NULL, 0), NULL), TA_JWT_BAD_ALG);
    ck_assert_int_eq(verify(ks, craft("{\"alg\":null,\"typ\":\"at+jwt\"}", pl, NULL, 0), NULL),
                     TA_JWT_BAD_ALG);
    ck_assert_int_eq(verify(ks, craft("{\"alg\":[\"HS256\"],\"typ\":\"at+jwt\"}", pl, NULL, 0), NULL),
                     TA_JWT_BAD_ALG);
    ck_assert_int_eq(verify(ks, craft(apr_psprintf(pool, "{\"alg\":\"%s \",\"typ\":\"at+jwt\"}",
                                                   algs[_i].alg), pl, NULL, 0), NULL),
                     TA_JWT_BAD_ALG);
}
END_TEST

START_TEST(hs256_signed_with_the_public_key_pem_is_refused)
{
    /* Algorithm confusion: the attacker knows the public key and uses its PEM
     * text as an HMAC secret. The set's algorithm is pinned, so the header's
     * HS256 never reaches a key. */
    const char *pl = "{\"sub\":\"1\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900}";
    int i;

    for (i = 1; i < 4; i++) {
        ta_keyset_t *ks = set_of(algs[i].alg, algs[i].pub, NULL);
        char *pem = read_text(algs[i].pub);
        char *tok = craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", pl, pem, strlen(pem));
        ck_assert_int_eq(verify(ks, tok, NULL), TA_JWT_BAD_ALG);
    }
}
END_TEST

START_TEST(token_of_another_algorithm_is_refused)
{
    ta_claims_t c = claims("at+jwt");
    int i, j;

    for (i = 0; i < 4; i++) {
        char *tok = sign_ok(set_of(algs[i].alg, algs[i].priv, NULL), &c);
        for (j = 0; j < 4; j++)
            if (j != i)
                ck_assert_int_eq(verify(set_of(algs[j].alg, algs[j].pub, NULL), tok, NULL),
                                 TA_JWT_BAD_ALG);
    }
}
END_TEST

START_TEST(unknown_kid_is_refused)
{
    ta_keyset_t *ks = set_of("HS256", "hs.secret", "k1");
    ta_keyset_t *other = set_of("HS256", "hs.secret", "k2");
    ta_claims_t c = claims("at+jwt");
    const char *pl = "{\"sub\":\"1\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900}";

    ck_assert_int_eq(verify(ks, sign_ok(other, &c), NULL), TA_JWT_BAD_KEY);
    ck_assert_int_eq(verify(ks, craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":7}", pl,
                                      SECRET, strlen(SECRET)), NULL), TA_JWT_BAD_KEY);
    /* same key, right kid: accepted */
    ck_assert_int_eq(verify(ks, craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}", pl,
                                      SECRET, strlen(SECRET)), NULL), TA_JWT_OK);
}
END_TEST

START_TEST(rotation_signs_with_the_new_key_and_still_accepts_the_old)
{
    ta_keyset_t *old = set_of("ES256", "es.key", "old");
    ta_keyset_t *rotated = NULL;
    ta_claims_t c = claims("at+jwt"), out;
    char *old_tok = sign_ok(old, &c), *new_tok;

    ck_assert_ptr_null(ta_keyset_add(pool, &rotated, load("ES256", "es2.key", "new")));
    ck_assert_ptr_null(ta_keyset_add(pool, &rotated, load("ES256", "es.pub", "old")));
    ck_assert_int_eq(verify(rotated, old_tok, &out), TA_JWT_OK);
    ck_assert_str_eq(out.sub, "42");
    new_tok = sign_ok(rotated, &c);
    ck_assert_str_eq(decoded(part(new_tok, 0)), "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"new\"}");
    ck_assert_int_eq(verify(rotated, new_tok, NULL), TA_JWT_OK);
    ck_assert_int_eq(verify(old, new_tok, NULL), TA_JWT_BAD_KEY);
}
END_TEST

START_TEST(without_kid_every_key_of_the_set_is_tried)
{
    ta_keyset_t *old = set_of("EdDSA", "ed.key", NULL);
    ta_keyset_t *rotated = NULL;
    ta_claims_t c = claims("at+jwt");

    ck_assert_ptr_null(ta_keyset_add(pool, &rotated, load("EdDSA", "ed2.key", NULL)));
    ck_assert_ptr_null(ta_keyset_add(pool, &rotated, load("EdDSA", "ed.pub", NULL)));
    ck_assert_int_eq(verify(rotated, sign_ok(old, &c), NULL), TA_JWT_OK);
    ck_assert_int_eq(verify(rotated, sign_ok(rotated, &c), NULL), TA_JWT_OK);
    ck_assert_int_eq(verify(old, sign_ok(rotated, &c), NULL), TA_JWT_BAD_SIG);
}
END_TEST

START_TEST(refresh_token_is_not_an_access_token)
{
    ta_keyset_t *ks = set_of("HS256", "hs.secret", NULL);
    ta_claims_t c = claims("rt+jwt"), out;
    char *rt;

    c.jti = "abc";
    rt = sign_ok(ks, &c);
    ck_assert_int_eq(verify(ks, rt, NULL), TA_JWT_BAD_TYP);
    ck_assert_int_eq(ta_jwt_verify(pool, ks, rt, "rt+jwt", NULL, NULL, NOW, 0, &out), TA_JWT_OK);
    ck_assert_str_eq(out.typ, "rt+jwt");
    ck_assert_str_eq(out.jti, "abc");
    ck_assert_int_eq(verify(ks, craft("{\"alg\":\"HS256\"}",
                                      "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900}",
                                      SECRET, strlen(SECRET)), NULL), TA_JWT_BAD_TYP);
    ck_assert_int_eq(verify(ks, craft("{\"alg\":\"HS256\",\"typ\":\"AT+JWT\"}",
                                      "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900}",
                                      SECRET, strlen(SECRET)), NULL), TA_JWT_BAD_TYP);
}
END_TEST

START_TEST(expired_token_reports_expired_with_its_claims)
{
    ta_keyset_t *ks = set_of(algs[_i].alg, algs[_i].priv, NULL);
    ta_claims_t c = claims("at+jwt"), out;

    c.iat = NOW - 1000;
    c.exp = NOW - 100;
    ck_assert_int_eq(verify(ks, sign_ok(ks, &c), &out), TA_JWT_EXPIRED);
    ck_assert_str_eq(out.sub, "42");
    ck_assert_str_eq(out.sid, "sess-1");
    ck_assert_int_eq(out.exp, NOW - 100);
}
END_TEST

START_TEST(leeway_is_inclusive_at_the_edge)
{
    ta_keyset_t *ks = set_of("HS256", "hs.secret", NULL);
    ta_claims_t c = claims("at+jwt");

    c.exp = NOW - 30;
    ck_assert_int_eq(verify(ks, sign_ok(ks, &c), NULL), TA_JWT_OK);       /* leeway 30 */
    c.exp = NOW - 31;
    ck_assert_int_eq(verify(ks, sign_ok(ks, &c), NULL), TA_JWT_EXPIRED);
    c.exp = NOW;
    ck_assert_int_eq(ta_jwt_verify(pool, ks, sign_ok(ks, &c), "at+jwt", NULL, NULL, NOW, 0, &c),
                     TA_JWT_OK);
    c = claims("at+jwt");
    c.exp = NOW - 1;
    ck_assert_int_eq(ta_jwt_verify(pool, ks, sign_ok(ks, &c), "at+jwt", NULL, NULL, NOW, 0, &c),
                     TA_JWT_EXPIRED);
    c = claims("at+jwt");
    c.iat = NOW + 30;
    ck_assert_int_eq(verify(ks, sign_ok(ks, &c), NULL), TA_JWT_OK);
    c.iat = NOW + 31;
    ck_assert_int_eq(verify(ks, sign_ok(ks, &c), NULL), TA_JWT_BAD_CLAIMS);
}
END_TEST

START_TEST(missing_or_mistyped_required_claims_are_refused)
{
    static const char *bad[] = {
        "{\"sub\":\"1\",\"sid\":\"s\"}",                              /* no exp */
        "{\"sid\":\"s\",\"exp\":1700000900}",                         /* no sub */
        "{\"sub\":\"1\",\"exp\":1700000900}",                         /* no sid */
        "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":\"1700000900\"}",       /* exp as string */
        "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":null}",
        "{\"sub\":{\"id\":1},\"sid\":\"s\",\"exp\":1700000900}",
        "{\"sub\":true,\"sid\":\"s\",\"exp\":1700000900}",
        "{\"sub\":\"\",\"sid\":\"s\",\"exp\":1700000900}",
        "{\"sub\":\"1\",\"sid\":7,\"exp\":1700000900}",
        "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900,\"iat\":\"x\"}",
        "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900,\"jti\":5}",
        "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900,\"nbf\":1700001000}",
    };
    ta_keyset_t *ks = set_of("HS256", "hs.secret", NULL);
    int i;

    for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
        ck_assert_msg(verify(ks, craft_hs(bad[i]), NULL) == TA_JWT_BAD_CLAIMS, "accepted %s", bad[i]);
    ck_assert_int_eq(verify(ks, craft_hs("{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900}"), NULL),
                     TA_JWT_OK);
}
END_TEST

START_TEST(numeric_sub_becomes_a_decimal_string)
{
    ta_keyset_t *ks = set_of("HS256", "hs.secret", NULL);
    ta_claims_t out;

    ck_assert_int_eq(verify(ks, craft_hs("{\"sub\":42,\"sid\":\"s\",\"exp\":1700000900}"), &out),
                     TA_JWT_OK);
    ck_assert_str_eq(out.sub, "42");
    ck_assert_int_eq(verify(ks, craft_hs("{\"sub\":9007199254740993,\"sid\":\"s\",\"exp\":1700000900}"),
                            &out), TA_JWT_OK);
    ck_assert_str_eq(out.sub, "9007199254740993");
    ck_assert_int_eq(verify(ks, craft_hs("{\"sub\":4.5,\"sid\":\"s\",\"exp\":1700000900}"), &out),
                     TA_JWT_BAD_CLAIMS);
}
END_TEST

START_TEST(issuer_and_audience_must_match_when_expected)
{
    ta_keyset_t *ks = set_of("HS256", "hs.secret", NULL);
    ta_claims_t c = claims("at+jwt"), out;
    char *tok;

    c.iss = "https://a.example";
    c.aud = "api";
    tok = sign_ok(ks, &c);
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", "https://a.example", "api", NOW, 0, &out), TA_JWT_OK);
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", NULL, NULL, NOW, 0, &out), TA_JWT_OK);
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", "https://b.example", "api", NOW, 0, &out),
                     TA_JWT_BAD_CLAIMS);
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", "https://a.example", "web", NOW, 0, &out),
                     TA_JWT_BAD_CLAIMS);
    c = claims("at+jwt");
    tok = sign_ok(ks, &c);  /* no iss, no aud */
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", "https://a.example", NULL, NOW, 0, &out),
                     TA_JWT_BAD_CLAIMS);
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", NULL, "api", NOW, 0, &out),
                     TA_JWT_BAD_CLAIMS);

    tok = craft_hs("{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900,\"aud\":[\"web\",\"api\"]}");
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", NULL, "api", NOW, 0, &out), TA_JWT_OK);
    ck_assert_str_eq(out.aud, "api");
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", NULL, "app", NOW, 0, &out),
                     TA_JWT_BAD_CLAIMS);
    tok = craft_hs("{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900,\"aud\":[1,{}],\"iss\":5}");
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", NULL, "api", NOW, 0, &out),
                     TA_JWT_BAD_CLAIMS);
    ck_assert_int_eq(ta_jwt_verify(pool, ks, tok, "at+jwt", "5", NULL, NOW, 0, &out),
                     TA_JWT_BAD_CLAIMS);
}
END_TEST

START_TEST(malformed_shapes_are_refused)
{
    ta_keyset_t *ks = set_of("HS256", "hs.secret", NULL);
    ta_claims_t c = claims("at+jwt");
    char *tok = sign_ok(ks, &c);
    const char *h = part(tok, 0), *p = part(tok, 1), *s = part(tok, 2);
    const char *pl = "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900}";
    char *big;
    const char *bad[] = {
        "", ".", "..", "...", "abc",
        apr_pstrcat(pool, h, ".", p, NULL),
        apr_pstrcat(pool, h, ".", p, ".", s, ".", NULL),
        apr_pstrcat(pool, h, ".", p, ".", s, ".", s, NULL),
        apr_pstrcat(pool, ".", p, ".", s, NULL),
        apr_pstrcat(pool, h, "..", s, NULL),
        apr_pstrcat(pool, h, "*", ".", p, ".", s, NULL),
        apr_pstrcat(pool, h, ".", p, ".", s, "=", NULL),
        apr_pstrcat(pool, h, ".", p, "=.", s, NULL),
        apr_pstrcat(pool, h, ".", p, ".", s, " ", NULL),
        apr_pstrcat(pool, " ", h, ".", p, ".", s, NULL),
        apr_pstrcat(pool, b64s("not json"), ".", p, ".", s, NULL),
        apr_pstrcat(pool, b64s("[\"HS256\"]"), ".", p, ".", s, NULL),
        apr_pstrcat(pool, b64s("\"HS256\""), ".", p, ".", s, NULL),
        apr_pstrcat(pool, b64s("{\"alg\":\"HS256\""), ".", p, ".", s, NULL),
        craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "not json", SECRET, strlen(SECRET)),
        craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "[1,2]", SECRET, strlen(SECRET)),
        craft("{\"alg\":\"HS256\",\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", pl, SECRET, strlen(SECRET)),
        craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"crit\":[\"exp\"]}", pl, SECRET, strlen(SECRET)),
    };
    int i;

    for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
        ck_assert_msg(verify(ks, bad[i], NULL) == TA_JWT_MALFORMED, "case %d not malformed: %s", i, bad[i]);
    ck_assert_int_eq(verify(ks, NULL, NULL), TA_JWT_MALFORMED);
    ck_assert_int_eq(ta_jwt_verify(pool, NULL, tok, "at+jwt", NULL, NULL, NOW, 0, &c), TA_JWT_MALFORMED);

    /* a 9 KB token, valid apart from its size (padding claim inside the payload) */
    big = apr_pcalloc(pool, 9000);
    memset(big, 'x', 8999);
    tok = craft_hs(apr_psprintf(pool, "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900,\"pad\":\"%s\"}",
                                apr_pstrndup(pool, big, 6800)));
    ck_assert_uint_gt(strlen(tok), 8192);
    ck_assert_int_eq(verify(ks, tok, NULL), TA_JWT_MALFORMED);
    tok = craft_hs(apr_psprintf(pool, "{\"sub\":\"1\",\"sid\":\"s\",\"exp\":1700000900,\"pad\":\"%s\"}",
                                apr_pstrndup(pool, big, 6000)));
    ck_assert_uint_le(strlen(tok), 8192);
    ck_assert_int_eq(verify(ks, tok, NULL), TA_JWT_OK);
}
END_TEST

/* ------------------------------------------------------------ key loading */

START_TEST(hs256_secret_file_loses_one_trailing_newline)
{
    ta_key_t *k = load("HS256", "hs.secret", "a");
    ck_assert_uint_eq(k->secret_len, 32);
    ck_assert_int_eq(memcmp(k->secret, SECRET, 32), 0);
    ck_assert_int_eq(k->can_sign, 1);
    ck_assert_str_eq(k->kid, "a");
    ck_assert_int_eq(k->alg, TA_ALG_HS256);
    k = load("HS256", "hs2.secret", NULL);
    ck_assert_uint_eq(k->secret_len, strlen(SECRET2));
    ck_assert_ptr_null(k->kid);
}
END_TEST

START_TEST(short_secret_is_refused_without_showing_it)
{
    const char *err = load_err("HS256", src_of("short.secret"));
    ck_assert_ptr_nonnull(strstr(err, "at least 32 bytes"));
    ck_assert_ptr_nonnull(strstr(err, "short.secret"));
    ck_assert_ptr_null(strstr(err, "0123456789"));
    setenv("TA_TEST_SHORT", "tooshort-secret-value", 1);
    err = load_err("HS256", "env:TA_TEST_SHORT");
    ck_assert_ptr_nonnull(strstr(err, "at least 32 bytes"));
    ck_assert_ptr_null(strstr(err, "tooshort-secret-value"));
}
END_TEST

START_TEST(pem_text_is_refused_as_an_hs256_secret)
{
    /* A public key given as the HS256 secret would let anyone who has it
     * sign tokens; so would any PEM text an admin pasted by mistake. */
    static const char *const pems[] = { "es.pub", "ed.pub", "rsa.pub", "es.key" };
    const char *err;
    int i;

    for (i = 0; i < 4; i++) {
        err = load_err("HS256", src_of(pems[i]));
        ck_assert_msg(strstr(err, "PEM") != NULL && strstr(err, pems[i]) != NULL,
                      "%s: %s", pems[i], err);
        ck_assert_ptr_null(strstr(err, "-----BEGIN"));
    }
    setenv("TA_TEST_PEM_SECRET", read_text("rsa.pub"), 1);
    err = load_err("HS256", "env:TA_TEST_PEM_SECRET");
    ck_assert_ptr_nonnull(strstr(err, "PEM"));
    /* Even behind other text: the marker anywhere gives it away. */
    {
        static const char inside[] = "a-long-enough-prefix-of-random-looking-text\n"
                                     "-----BEGIN PUBLIC KEY-----\n";
        write_file("pem-inside.secret", inside, sizeof(inside) - 1);
    }
    err = load_err("HS256", src_of("pem-inside.secret"));
    ck_assert_ptr_nonnull(strstr(err, "PEM"));
}
END_TEST

START_TEST(env_source_gives_secret_or_pem)
{
    ta_key_t *k = NULL;
    ta_keyset_t *ks = NULL, *fromfile = set_of("EdDSA", "ed.key", NULL);
    ta_claims_t c = claims("at+jwt");

    setenv("TA_TEST_SECRET", SECRET, 1);
    ck_assert_ptr_null(ta_key_load(pool, "HS256", "env:TA_TEST_SECRET", NULL, &k));
    ck_assert_uint_eq(k->secret_len, 32);
    ck_assert_int_eq(memcmp(k->secret, SECRET, 32), 0);

    setenv("TA_TEST_PEM", read_text("ed.pub"), 1);
    ck_assert_ptr_null(ta_key_load(pool, "EdDSA", "env:TA_TEST_PEM", NULL, &k));
    ck_assert_int_eq(k->can_sign, 0);
    ck_assert_ptr_null(ta_keyset_add(pool, &ks, k));
    ck_assert_int_eq(verify(ks, sign_ok(fromfile, &c), NULL), TA_JWT_OK);
}
END_TEST

START_TEST(missing_sources_are_named_in_the_message)
{
    const char *err;

    unsetenv("TA_TEST_UNSET_VAR");
    err = load_err("HS256", "env:TA_TEST_UNSET_VAR");
    ck_assert_ptr_nonnull(strstr(err, "TA_TEST_UNSET_VAR"));
    err = load_err("ES256", "env:TA_TEST_UNSET_VAR");
    ck_assert_ptr_nonnull(strstr(err, "TA_TEST_UNSET_VAR"));
    err = load_err("HS256", src_of("does-not-exist"));
    ck_assert_ptr_nonnull(strstr(err, path_of("does-not-exist")));
    err = load_err("RS256", src_of("does-not-exist.pem"));
    ck_assert_ptr_nonnull(strstr(err, path_of("does-not-exist.pem")));
    err = load_err("HS256", src_of("adir"));  /* a directory: opens, cannot be read */
    ck_assert_ptr_nonnull(strstr(err, path_of("adir")));
    if (geteuid() != 0) {  /* root reads anything */
        write_file("noread.secret", SECRET, 32);
        chmod(path_of("noread.secret"), 0);
        err = load_err("HS256", src_of("noread.secret"));
        ck_assert_ptr_nonnull(strstr(err, path_of("noread.secret")));
    }
    load_err("HS256", "file:");
    load_err("HS256", "env:");
    err = load_err("HS256", SECRET);   /* a bare secret is not a source */
    ck_assert_ptr_nonnull(strstr(err, "file:/path or env:NAME"));
    err = load_err("none", src_of("hs.secret"));
    ck_assert_ptr_nonnull(strstr(err, "unknown algorithm"));
    load_err("HS512", src_of("hs.secret"));
}
END_TEST

START_TEST(wrong_key_type_for_the_algorithm_is_explained)
{
    const char *err;

    err = load_err("ES256", src_of("ed.key"));
    ck_assert_ptr_nonnull(strstr(err, "ES256 needs an EC P-256 key"));
    err = load_err("ES256", src_of("p384.pub"));
    ck_assert_ptr_nonnull(strstr(err, "P-256"));
    err = load_err("EdDSA", src_of("rsa.pub"));
    ck_assert_ptr_nonnull(strstr(err, "EdDSA needs an Ed25519 key"));
    err = load_err("RS256", src_of("es.key"));
    ck_assert_ptr_nonnull(strstr(err, "RS256 needs an RSA key"));
    err = load_err("RS256", src_of("rsa1024.key"));
    ck_assert_ptr_nonnull(strstr(err, "2048"));
    err = load_err("RS256", src_of("rsa1024.pub"));
    ck_assert_ptr_nonnull(strstr(err, "2048"));
    err = load_err("EdDSA", src_of("garbage.pem"));
    ck_assert_ptr_nonnull(strstr(err, "no PEM"));
    err = load_err("ES256", src_of("hs.secret"));
    ck_assert_ptr_nonnull(strstr(err, "hs.secret"));
    ck_assert_ptr_null(strstr(err, SECRET));
}
END_TEST

START_TEST(keyset_needs_one_algorithm_and_unique_kids)
{
    ta_keyset_t *ks = NULL;
    const char *err;

    ck_assert_ptr_null(ta_keyset_add(pool, &ks, load("HS256", "hs.secret", "a")));
    ck_assert_int_eq(ks->alg, TA_ALG_HS256);
    err = ta_keyset_add(pool, &ks, load("HS256", "hs2.secret", "a"));
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "duplicate"));
    err = ta_keyset_add(pool, &ks, load("ES256", "es.key", "b"));
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "ES256"));
    ck_assert_ptr_null(ta_keyset_add(pool, &ks, load("HS256", "hs2.secret", "b")));
    ck_assert_int_eq(ks->keys->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(ks->keys, 0, ta_key_t *)->kid, "a");
    ck_assert_ptr_nonnull(ta_keyset_add(pool, &ks, NULL));
}
END_TEST

/* Every key derived from a signing key (jose/keys.h ta_key_derive, through
 * each purpose's wrapper): the same key gives the same bytes, another secret
 * other bytes, never the secret itself nor another purpose's key; an Ed25519
 * key derives too; no signing material gives -1. */
typedef int (*derive_fn)(const ta_key_t *key, unsigned char out[32]);
static const struct {
    const char *purpose;
    derive_fn derive, other;
} derivations[] = {
    { "jti",  ta_jti_key_derive,  ta_seal_key_derive },
    { "seal", ta_seal_key_derive, ta_jti_key_derive },
};

START_TEST(derived_keys_are_stable_and_apart)
{
    unsigned char k1[32], k2[32];
    ta_key_t hs = { TA_ALG_HS256, NULL, (const unsigned char *)"a-secret-of-at-least-32-bytes!!!", 32,
                    NULL, 1 };
    ta_key_t hs2 = hs;
    ta_key_t none = { TA_ALG_ES256, NULL, NULL, 0, NULL, 0 };
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ta_key_t ed = { TA_ALG_EDDSA, NULL, NULL, 0, pk, 1 };
    derive_fn derive = derivations[_i].derive;

    ck_assert_msg(derive(&hs, k1) == 0 && derive(&hs, k2) == 0 && memcmp(k1, k2, 32) == 0,
                  "%s: the same key derives the same bytes", derivations[_i].purpose);
    ck_assert(memcmp(k1, hs.secret, 32) != 0);
    ck_assert_int_eq(derivations[_i].other(&hs, k2), 0);
    ck_assert_msg(memcmp(k1, k2, 32) != 0, "%s: apart from the other purpose's key", derivations[_i].purpose);
    hs2.secret = (const unsigned char *)"another-secret-of-32-bytes-or-so";
    ck_assert_int_eq(derive(&hs2, k2), 0);
    ck_assert(memcmp(k1, k2, 32) != 0);
    ck_assert_int_eq(derive(&none, k1), -1);
    ck_assert_int_eq(derive(NULL, k1), -1);
    ck_assert_int_eq(derive(&ed, k1), 0);
    ck_assert_int_eq(derive(&ed, k2), 0);
    ck_assert(memcmp(k1, k2, 32) == 0);
    EVP_PKEY_free(pk);
}
END_TEST

UNIT_SUITE_AROUND(jwt, make_keys, remove_keys)
{
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, b64url_matches_rfc4648_vectors_without_padding);
    UNIT_ADD_TABLE(tc, derived_keys_are_stable_and_apart, derivations);
    tcase_add_test(tc, b64url_decode_rejects_padding_and_foreign_characters);
    tcase_add_test(tc, alg_names_round_trip_and_unknown_names_are_refused);
    tcase_add_test(tc, status_words_are_distinct);
    tcase_add_loop_test(tc, round_trip_with_private_key_and_with_public_key_only, 0, 4);
    tcase_add_loop_test(tc, signature_has_the_jws_size_of_its_algorithm, 0, 4);
    tcase_add_test(tc, header_and_payload_are_compact_json_in_a_fixed_order);
    tcase_add_test(tc, hs256_token_is_the_known_hmac);
    tcase_add_loop_test(tc, public_key_cannot_sign, 0, 4);
    tcase_add_test(tc, sign_refuses_missing_sub_or_sid_or_empty_set);
    tcase_add_loop_test(tc, tampered_payload_fails_the_signature, 0, 4);
    tcase_add_loop_test(tc, tampered_signature_fails, 0, 4);
    tcase_add_loop_test(tc, alg_none_is_refused, 0, 4);
    tcase_add_test(tc, hs256_signed_with_the_public_key_pem_is_refused);
    tcase_add_test(tc, token_of_another_algorithm_is_refused);
    tcase_add_test(tc, unknown_kid_is_refused);
    tcase_add_test(tc, rotation_signs_with_the_new_key_and_still_accepts_the_old);
    tcase_add_test(tc, without_kid_every_key_of_the_set_is_tried);
    tcase_add_test(tc, refresh_token_is_not_an_access_token);
    tcase_add_loop_test(tc, expired_token_reports_expired_with_its_claims, 0, 4);
    tcase_add_test(tc, leeway_is_inclusive_at_the_edge);
    tcase_add_test(tc, missing_or_mistyped_required_claims_are_refused);
    tcase_add_test(tc, numeric_sub_becomes_a_decimal_string);
    tcase_add_test(tc, issuer_and_audience_must_match_when_expected);
    tcase_add_test(tc, malformed_shapes_are_refused);
    tcase_add_test(tc, hs256_secret_file_loses_one_trailing_newline);
    tcase_add_test(tc, short_secret_is_refused_without_showing_it);
    tcase_add_test(tc, pem_text_is_refused_as_an_hs256_secret);
    tcase_add_test(tc, env_source_gives_secret_or_pem);
    tcase_add_test(tc, missing_sources_are_named_in_the_message);
    tcase_add_test(tc, wrong_key_type_for_the_algorithm_is_explained);
    tcase_add_test(tc, keyset_needs_one_algorithm_and_unique_kids);
}
