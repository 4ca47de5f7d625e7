/*
 * fuzz_jwt.c - ta_jwt_verify on hostile tokens, ta_jwt_sign/verify round trips.
 *
 * Keys are generated once (LLVMFuzzerInitialize): an HS256 secret pair, two
 * Ed25519 and two P-256 keys, written as PEM to a temporary directory and
 * loaded through ta_key_load exactly as the configuration does; the files are
 * removed right after loading.
 *
 * Input: byte 0 selects the mode (byte0 % 3) and option bits; the rest is
 *   mode 0  a raw token, verified against every keyset (plus a base64url
 *           encode/decode round trip of the same bytes);
 *   mode 1  header JSON '\n' payload JSON, both raw bytes: base64url-encoded and
 *           HMAC-signed with the HS256 secret, so the header and claim checks
 *           behind the signature are reached; a correctly signed token must
 *           never be reported as a bad signature;
 *   mode 2  typ '\n' sub '\n' sid '\n' jti '\n' iss '\n' aud '\n' then 16 bytes of
 *           iat/exp: signed with each keyset, the token must verify with the
 *           exact status the claims call for and give back the same claims,
 *           and must never verify against another algorithm's keyset.
 */
#include "fuzz_common.h"

#include <apr_strings.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <unistd.h>

#include "jose/jws.h"
#include "jose/b64url.h"

#define NOW     APR_INT64_C(1700000000)
#define LEEWAY  30
#define SECRET  "0123456789abcdef0123456789ABCDEF"
#define SECRET2 "fedcba9876543210FEDCBA9876543210-2"

static apr_pool_t *key_pool;
static ta_keyset_t *ks_hs;        /* HS256 kid k1 (signs) + kid k2 */
static ta_keyset_t *ks_hs_plain;  /* HS256, one key without kid */
static ta_keyset_t *ks_ed;        /* EdDSA kid e1 (signs) + verify-only e2 */
static ta_keyset_t *ks_es;        /* ES256, no kid (signs) + verify-only kid s2 */

/* The loaded keys, also held here: APR allocates pool blocks with mmap, which
 * LeakSanitizer does not scan, so keys reachable only through key_pool would
 * be reported as leaked. */
static EVP_PKEY *pkey_roots[16];
static int npkey_roots;
static EVP_MAC_CTX *hmac_roots[16];  /* the same for HS256 keys' HMAC templates */
static int nhmac_roots;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_jwt init: %s\n", what);
    exit(2);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die(path);
}

/* Writes pk's private and public PEM to dir/stem.key and dir/stem.pub. */
static void write_pem_pair(const char *dir, EVP_PKEY *pk, const char *stem)
{
    char path[512];
    FILE *f;

    if (!pk)
        die("key generation");
    snprintf(path, sizeof path, "%s/%s.key", dir, stem);
    if (!(f = fopen(path, "w")) || !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL)
        || fclose(f) != 0)
        die(path);
    snprintf(path, sizeof path, "%s/%s.pub", dir, stem);
    if (!(f = fopen(path, "w")) || !PEM_write_PUBKEY(f, pk) || fclose(f) != 0)
        die(path);
    EVP_PKEY_free(pk);
}

static void add(ta_keyset_t **ks, const char *dir, const char *alg, const char *file,
                const char *kid)
{
    ta_key_t *k = NULL;
    const char *err = ta_key_load(key_pool, alg, apr_pstrcat(key_pool, "file:", dir, "/", file,
                                                             NULL), kid, &k);
    if (err || !k)
        die(err ? err : "ta_key_load");
    if (k->pkey && npkey_roots < 16)
        pkey_roots[npkey_roots++] = k->pkey;
    if (k->hmac && nhmac_roots < 16)
        hmac_roots[nhmac_roots++] = k->hmac;
    if ((err = ta_keyset_add(key_pool, ks, k)))
        die(err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *files[] = { "hs1", "hs2", "ed1.key", "ed1.pub", "ed2.key", "ed2.pub",
                                   "es1.key", "es1.pub", "es2.key", "es2.pub" };
    char dir[] = "/tmp/fuzz_jwt_XXXXXX";
    char path[512];
    size_t i;

    fuzz_apr_init();
    if (apr_pool_create(&key_pool, NULL) != APR_SUCCESS)
        die("pool");
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(path, sizeof path, "%s/hs1", dir);
    write_file(path, SECRET "\n", strlen(SECRET) + 1);
    snprintf(path, sizeof path, "%s/hs2", dir);
    write_file(path, SECRET2, strlen(SECRET2));
    write_pem_pair(dir, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "ed1");
    write_pem_pair(dir, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "ed2");
    write_pem_pair(dir, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "es1");
    write_pem_pair(dir, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "es2");

    add(&ks_hs, dir, "HS256", "hs1", "k1");
    add(&ks_hs, dir, "HS256", "hs2", "k2");
    add(&ks_hs_plain, dir, "HS256", "hs1", NULL);
    add(&ks_ed, dir, "EdDSA", "ed1.key", "e1");
    add(&ks_ed, dir, "EdDSA", "ed2.pub", "e2");
    add(&ks_es, dir, "ES256", "es1.key", NULL);
    add(&ks_es, dir, "ES256", "es2.pub", "s2");

    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

static int status_ok(ta_jwt_status_t st)
{
    return st >= TA_JWT_OK && st <= TA_JWT_EXPIRED;
}

/* Verifies and checks the invariants every answer must keep. */
static ta_jwt_status_t verify(apr_pool_t *p, const ta_keyset_t *ks, const char *tok,
                              const char *typ, const char *iss, const char *aud,
                              ta_claims_t *c)
{
    ta_jwt_status_t st = ta_jwt_verify(p, ks, tok, typ, iss, aud, NOW, LEEWAY, c);

    FUZZ_CHECK(status_ok(st), "status %d out of range", (int)st);
    FUZZ_CHECK(ta_jwt_status_str(st) != NULL, "no status string");
    if (st == TA_JWT_OK || st == TA_JWT_EXPIRED) {
        FUZZ_CHECK(c->sub && *c->sub && c->sid && *c->sid, "accepted without sub/sid");
        FUZZ_CHECK(!typ || (c->typ && strcmp(c->typ, typ) == 0), "typ not enforced");
        FUZZ_CHECK(!iss || (c->iss && strcmp(c->iss, iss) == 0), "iss not enforced");
        FUZZ_CHECK(!aud || (c->aud && strcmp(c->aud, aud) == 0), "aud not enforced");
        FUZZ_CHECK((st == TA_JWT_EXPIRED) == (c->exp < NOW - LEEWAY), "expiry decision");
        FUZZ_CHECK(strlen(tok) <= 8192, "oversized token accepted");
    }
    return st;
}

static void mode_raw(apr_pool_t *p, uint8_t opts, const uint8_t *d, size_t n)
{
    const char *tok = fuzz_strndup(p, d, n);
    const char *typ = (opts & 1) ? "at+jwt" : NULL;
    const char *iss = (opts & 2) ? "issuer" : NULL;
    const char *aud = (opts & 4) ? "aud" : NULL;
    const ta_keyset_t *sets[4] = { ks_hs, ks_hs_plain, ks_ed, ks_es };
    unsigned char *raw;
    apr_size_t rawlen;
    char *enc;
    int i;

    for (i = 0; i < 4; i++) {
        ta_claims_t c;
        verify(p, sets[i], tok, typ, iss, aud, &c);
    }
    /* ta_jwt_verify without an out parameter must be fine too */
    (void)ta_jwt_verify(p, ks_hs, tok, NULL, NULL, NULL, NOW, -5, NULL);

    /* base64url: decode(encode(x)) == x, and a decoded input re-encodes to itself */
    enc = ta_b64url_encode(p, d, n);
    FUZZ_CHECK(ta_b64url_decode(p, enc, strlen(enc), &raw, &rawlen) == 0 && rawlen == n &&
               (n == 0 || memcmp(raw, d, n) == 0), "base64url round trip");
    if (ta_b64url_decode(p, tok, strlen(tok), &raw, &rawlen) == 0) {
        enc = ta_b64url_encode(p, raw, rawlen);
        FUZZ_CHECK(strcmp(enc, tok) == 0, "base64url decode accepted a non-canonical form");
    }
}

static char *b64(apr_pool_t *p, const uint8_t *d, size_t n)
{
    return ta_b64url_encode(p, d, n);
}

static void mode_crafted(apr_pool_t *p, uint8_t opts, const uint8_t *d, size_t n)
{
    fuzz_in_t in = { d, n };
    size_t hlen, plen;
    const uint8_t *h = fuzz_field(&in, '\n', &hlen);
    const uint8_t *pl = fuzz_field(&in, '\n', &plen);
    const char *input = apr_pstrcat(p, b64(p, h, hlen), ".", b64(p, pl, plen), NULL);
    unsigned char mac[32];
    unsigned int maclen = 0;
    const char *tok;
    const char *typ = (opts & 1) ? "at+jwt" : NULL;
    const char *iss = (opts & 2) ? "issuer" : NULL;
    const char *aud = (opts & 4) ? "aud" : NULL;
    ta_jwt_status_t st;
    ta_claims_t c;

    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)input,
         strlen(input), mac, &maclen);
    tok = apr_pstrcat(p, input, ".", b64(p, mac, maclen), NULL);
    tok = fuzz_strndup(p, tok, strlen(tok));
    st = verify(p, ks_hs_plain, tok, typ, iss, aud, &c);
    FUZZ_CHECK(st != TA_JWT_BAD_SIG, "a correctly signed token was refused as bad signature");
    verify(p, ks_hs, tok, typ, iss, aud, &c);
    verify(p, ks_ed, tok, typ, iss, aud, &c);
}

static int json_ok(const char *s)
{
    json_t *j;
    if (!s)
        return 1;
    j = json_string(s);
    json_decref(j);
    return j != NULL;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void mode_roundtrip(apr_pool_t *p, uint8_t opts, const uint8_t *d, size_t n)
{
    fuzz_in_t in = { d, n };
    ta_claims_t c, out;
    const ta_keyset_t *sets[3] = { ks_hs, ks_ed, ks_es };
    uint64_t t1 = 0, t2 = 0;
    int i, all_utf8;

    memset(&c, 0, sizeof c);
    c.typ = fuzz_field_str(p, &in, '\n');
    c.sub = fuzz_field_str(p, &in, '\n');
    c.sid = fuzz_field_str(p, &in, '\n');
    c.jti = fuzz_field_str(p, &in, '\n');
    c.iss = fuzz_field_str(p, &in, '\n');
    c.aud = fuzz_field_str(p, &in, '\n');
    if (!(opts & 1)) c.typ = NULL;
    if (!(opts & 2)) c.jti = NULL;
    if (!(opts & 4)) c.iss = NULL;
    if (!(opts & 8)) c.aud = NULL;
    for (i = 0; i < 8; i++) t1 = (t1 << 8) | fuzz_byte(&in);
    for (i = 0; i < 8; i++) t2 = (t2 << 8) | fuzz_byte(&in);
    /* small offsets from NOW most of the time, any 64-bit value otherwise */
    c.iat = (opts & 16) ? (apr_int64_t)t1 : NOW + (int16_t)t1;
    c.exp = (opts & 32) ? (apr_int64_t)t2 : NOW + (int16_t)t2;

    all_utf8 = json_ok(c.typ) && json_ok(c.sub) && json_ok(c.sid) && json_ok(c.jti)
            && json_ok(c.iss) && json_ok(c.aud);

    for (i = 0; i < 3; i++) {
        char *tok = ta_jwt_sign(p, sets[i], &c);
        ta_jwt_status_t want, st;
        int j;

        FUZZ_CHECK((tok != NULL) == all_utf8, "sign %s: %s", ta_alg_name(sets[i]->alg),
                   tok ? "signed invalid UTF-8" : "failed on valid claims");
        if (!tok)
            continue;
        tok = fuzz_strndup(p, tok, strlen(tok));
        if (strlen(tok) > 8192)
            want = TA_JWT_MALFORMED;
        else if (!*c.sub || !*c.sid || (c.jti && !*c.jti) || c.iat > NOW + LEEWAY)
            want = TA_JWT_BAD_CLAIMS;
        else if (c.exp < NOW - LEEWAY)
            want = TA_JWT_EXPIRED;
        else
            want = TA_JWT_OK;
        st = verify(p, sets[i], tok, c.typ, c.iss, c.aud, &out);
        FUZZ_CHECK(st == want, "%s round trip: status %s, want %s", ta_alg_name(sets[i]->alg),
                   ta_jwt_status_str(st), ta_jwt_status_str(want));
        if (st == TA_JWT_OK || st == TA_JWT_EXPIRED) {
            FUZZ_CHECK(same(out.typ, c.typ) && same(out.sub, c.sub) && same(out.sid, c.sid)
                       && same(out.jti, c.jti) && same(out.iss, c.iss) && same(out.aud, c.aud)
                       && out.iat == c.iat && out.exp == c.exp, "claims changed in round trip");
        }
        /* never valid under another algorithm's keys */
        for (j = 0; j < 3; j++) {
            if (j != i) {
                st = verify(p, sets[j], tok, NULL, NULL, NULL, &out);
                FUZZ_CHECK(st != TA_JWT_OK && st != TA_JWT_EXPIRED,
                           "%s token accepted by the %s keyset", ta_alg_name(sets[i]->alg),
                           ta_alg_name(sets[j]->alg));
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    uint8_t b0;

    if (size < 1)
        return 0;
    p = fuzz_pool();
    b0 = data[0];
    switch (b0 % 3) {
    case 0: mode_raw(p, b0 / 3, data + 1, size - 1); break;
    case 1: mode_crafted(p, b0 / 3, data + 1, size - 1); break;
    default: mode_roundtrip(p, b0 / 3, data + 1, size - 1); break;
    }
    apr_pool_destroy(p);
    return 0;
}
