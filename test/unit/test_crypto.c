/*
 * test_crypto.c - SHA-256 in hex against the FIPS 180-2 vectors, hex
 * encoding, and random ids: their length, their alphabet, their limit.
 */
#include "unit.h"
#include "util/crypto.h"

#include <string.h>

static const struct {
    const char *in;
    const char *hex;
} digests[] = {
    { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
};

START_TEST(sha256_hex_matches_the_standard_vectors)
{
    ck_assert_str_eq(ta_sha256_hex(pool, digests[_i].in), digests[_i].hex);
}
END_TEST

START_TEST(hex_encoding_is_lowercase_two_digits_a_byte)
{
    static const unsigned char bytes[] = { 0x00, 0x01, 0x0f, 0x10, 0x7f, 0x80, 0xab, 0xff };

    ck_assert_str_eq(ta_hex_encode(pool, bytes, sizeof(bytes)), "00010f107f80abff");
    ck_assert_str_eq(ta_hex_encode(pool, bytes, 0), "");
}
END_TEST

START_TEST(random_ids_have_their_length_and_differ)
{
    static const apr_size_t sizes[] = { 1, 16, 20, 64 };
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const char *a = ta_random_id(pool, sizes[i]);
        ck_assert_ptr_nonnull(a);
        ck_assert_uint_eq(strlen(a), 2 * sizes[i]);
        ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 2 * sizes[i]);
    }
    ck_assert_str_ne(ta_random_id(pool, 20), ta_random_id(pool, 20));
    ck_assert_ptr_null(ta_random_id(pool, 65));
}
END_TEST

UNIT_SUITE(crypto)
{
    UNIT_ADD_TABLE(tc, sha256_hex_matches_the_standard_vectors, digests);
    tcase_add_test(tc, hex_encoding_is_lowercase_two_digits_a_byte);
    tcase_add_test(tc, random_ids_have_their_length_and_differ);
}
