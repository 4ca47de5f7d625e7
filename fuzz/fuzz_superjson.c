/*
 * fuzz_superjson.c - ta_sj_decode(_take) on hostile envelopes; ta_sj_encode,
 * ta_sj_plain and ta_sj_plain_collect on arbitrary values with Date markers.
 *
 * Input: byte 0 seeds where Date markers go; the rest is JSON text, parsed
 * with jansson (JSON_ALLOW_NUL | JSON_DECODE_ANY) like the tRPC parser does.
 *
 * Decode: the document is given to ta_sj_decode as an envelope; a result with
 * no meta.values must equal its "json" member, and the decoding may grow
 * resident memory by at most FUZZ_RSS_PER_INPUT_BYTE bytes per input byte
 * (issue 11).
 * Encode: a copy of the document with some nodes swapped for ta_sj_date
 * markers (and some markers added) must give
 *   - ta_sj_plain: the document with each marker replaced by its string;
 *   - ta_sj_encode: an envelope that dumps (no marker escapes), parses back,
 *     decodes (ta_sj_decode) to that same plain value (or, with more paths or
 *     longer ones than trpc/superjson.h allows an input, is refused), has one meta.values
 *     entry per marker, and whose meta paths point at exactly the markers:
 *     turning every ["Date"] into ["undefined"] and decoding removes exactly
 *     the object members that were markers;
 *   - ta_sj_plain_collect with a JSONL prefix: one values entry per marker.
 */
#include "fuzz_common.h"

#include "trpc/superjson.h"

#define ISO "2024-05-06T07:08:09.000Z"

typedef struct {
    uint32_t seed;
    int markers;
    int max_segments;    /* the longest marker path, in segments (its depth) */
} sprinkle_t;

/* A marker for j (a string's own text, else a fixed date). */
static json_t *marker_for(json_t *j)
{
    return ta_sj_date(json_is_string(j) ? json_string_value(j) : ISO);
}

/* Copies j into *marked, swapping some nodes for markers. *plain gets the
 * expected ta_sj_plain; *undef the expected decode once every marker path is
 * annotated "undefined" (marker members of objects gone, NULL for a root
 * marker; markers in arrays stay as their string). Returns 1 if j's copy is a
 * marker. */
static int sprinkle(sprinkle_t *s, json_t *j, int depth, json_t **marked, json_t **plain,
                    json_t **undef)
{
    uint32_t r = fuzz_rand(&s->seed);
    const char *key;
    size_t i;
    json_t *v;

    if (r % 7 == 0 && (!json_is_string(j) || json_string_length(j) == strlen(json_string_value(j)))) {
        *marked = marker_for(j);
        *plain = json_string(ta_sj_date_value(*marked));
        *undef = NULL;
        s->markers++;
        s->max_segments = depth > s->max_segments ? depth : s->max_segments;
        return 1;
    }
    if (json_is_object(j)) {
        *marked = json_object();
        *plain = json_object();
        *undef = json_object();
        json_object_foreach(j, key, v) {
            json_t *m, *pl, *u;
            if (sprinkle(s, v, depth + 1, &m, &pl, &u) == 0)
                json_object_set_new(*undef, key, u);
            json_object_set_new(*marked, key, m);
            json_object_set_new(*plain, key, pl);
        }
        if (r % 5 == 1 && !json_object_get(j, "a.b\\c")) {
            /* a marker under a key that needs escaping in paths */
            json_object_set_new(*marked, "a.b\\c", ta_sj_date(ISO));
            json_object_set_new(*plain, "a.b\\c", json_string(ISO));
            s->markers++;
            s->max_segments = depth + 1 > s->max_segments ? depth + 1 : s->max_segments;
        }
        return 0;
    }
    if (json_is_array(j)) {
        *marked = json_array();
        *plain = json_array();
        *undef = json_array();
        json_array_foreach(j, i, v) {
            json_t *m, *pl, *u;
            if (sprinkle(s, v, depth + 1, &m, &pl, &u))
                u = json_incref(pl);
            json_array_append_new(*marked, m);
            json_array_append_new(*plain, pl);
            json_array_append_new(*undef, u);
        }
        return 0;
    }
    *marked = json_incref(j);
    *plain = json_incref(j);
    *undef = json_incref(j);
    return 0;
}

/* Every leaf annotation ["Date"] of a meta.values tree becomes ["undefined"]. */
static void dates_to_undefined(json_t *values)
{
    const char *key;
    json_t *v;

    if (json_is_array(values)) {
        json_array_set_new(values, 0, json_string("undefined"));
        return;
    }
    json_object_foreach(values, key, v)
        dates_to_undefined(v);
}

static int equal_or_both_null(json_t *a, json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

/* ta_sj_decode_take on a copy of doc gives what ta_sj_decode gave (v), and
 * takes the copy's "json" out of it (unless that is one of jansson's shared
 * constants true, false, null, whose count never drops to 1). */
static void check_decode_take(apr_pool_t *p, json_t *doc, json_t *v)
{
    json_t *copy = json_deep_copy(doc), *got = (json_t *)1;
    int alone = json_object_get(copy, "json")->refcount == 1;
    ta_error_t *e = ta_sj_decode_take(p, copy, &got);

    FUZZ_CHECK(e == NULL && equal_or_both_null(got, v), "ta_sj_decode_take differs from ta_sj_decode");
    FUZZ_CHECK((json_object_get(copy, "json") == NULL) == alone, "ta_sj_decode_take copied");
    json_decref(got);
    json_decref(copy);
}

static void check_decode(apr_pool_t *p, json_t *doc, size_t size)
{
    json_t *v = (json_t *)1;
    apr_pool_t *sub;
    size_t before;
    ta_error_t *e;

    /* the memory the decoding holds (its pool's blocks, its copy) before any
     * of it is freed */
    sub = fuzz_private_pool();
    before = fuzz_rss();
    e = ta_sj_decode(sub, doc, &v);
    FUZZ_CHECK_RSS(before, size, "ta_sj_decode");
    if (e)
        e = ta_error_make(p, e->code, "%s", e->message);
    apr_pool_destroy(sub);

    if (!doc) {
        FUZZ_CHECK(e == NULL && v == NULL, "an absent envelope is not an absent value");
        return;
    }

    if (e) {
        FUZZ_CHECK(v == NULL, "error with a value");
        FUZZ_CHECK(e->message != NULL && e->code == TA_E_BAD_REQUEST, "odd decode error");
        return;
    }
    FUZZ_CHECK(json_is_object(doc) && json_object_get(doc, "json"), "decoded a non-envelope");
    if (!json_object_get(json_object_get(doc, "meta"), "values"))
        FUZZ_CHECK(json_equal(v, json_object_get(doc, "json")), "decode changed a plain envelope");
    check_decode_take(p, doc, v);
    json_decref(v);
}

static void check_encode(apr_pool_t *p, json_t *doc, uint8_t seed)
{
    sprinkle_t s = { seed * 2654435761u + 1, 0, 0 };
    json_t *marked, *plain, *undef, *got, *env, *back, *values, *meta, *vals;
    json_error_t je;
    ta_error_t *e;
    char *text;
    int root_marker = sprinkle(&s, doc, 0, &marked, &plain, &undef);
    /* ta_sj_decode refuses what is over its limits, our own envelopes too */
    int decodable = (root_marker || s.markers <= TA_SJ_MAX_ANNOTATIONS)
                    && s.max_segments <= TA_SJ_MAX_PATH_SEGMENTS;

    /* ta_sj_plain */
    got = ta_sj_plain(marked);
    FUZZ_CHECK(json_equal(got, plain), "ta_sj_plain is not the marker-free copy");
    json_decref(got);

    /* ta_sj_encode -> dump -> parse -> decode */
    env = ta_sj_encode(marked);
    FUZZ_CHECK(env != NULL, "ta_sj_encode returned NULL");
    text = json_dumps(env, JSON_COMPACT | JSON_ENCODE_ANY);
    FUZZ_CHECK(text != NULL, "the envelope does not dump (a marker escaped?)");
    back = json_loads(text, JSON_ALLOW_NUL, &je);
    FUZZ_CHECK(back != NULL, "the dumped envelope does not parse: %s", je.text);
    free(text);
    e = ta_sj_decode(p, back, &got);
    if (decodable) {
        FUZZ_CHECK(e == NULL, "the envelope does not decode: %s", e->message);
        FUZZ_CHECK(equal_or_both_null(got, plain), "decode(encode(x)) != plain(x)");
    } else {
        FUZZ_CHECK(e != NULL && e->code == TA_E_BAD_REQUEST && got == NULL,
                   "%d paths, the longest of %d segments: decoded over the limits",
                   s.markers, s.max_segments);
    }
    json_decref(got);

    meta = json_object_get(back, "meta");
    vals = json_object_get(meta, "values");
    if (s.markers == 0) {
        FUZZ_CHECK(meta == NULL, "meta without markers");
    } else if (root_marker) {
        FUZZ_CHECK(json_is_array(vals) && json_array_size(vals) == 1, "root Date meta");
    } else {
        FUZZ_CHECK(json_is_object(vals) && json_object_size(vals) == (size_t)s.markers,
                   "%zu meta paths for %d markers", json_object_size(vals), s.markers);
        FUZZ_CHECK(json_integer_value(json_object_get(meta, "v")) == 1, "meta.v");
    }
    /* the paths name exactly the markers */
    if (vals && decodable) {
        dates_to_undefined(vals);
        e = ta_sj_decode(p, back, &got);
        FUZZ_CHECK(e == NULL, "undefined-annotated envelope does not decode");
        FUZZ_CHECK(equal_or_both_null(got, undef), "meta paths do not point at the markers");
        json_decref(got);
    }
    json_decref(back);
    json_decref(env);

    /* ta_sj_plain_collect with the JSONL prefix */
    values = json_object();
    got = ta_sj_plain_collect(marked, "0.0.0.result.data", values);
    FUZZ_CHECK(json_equal(got, plain), "ta_sj_plain_collect copy");
    FUZZ_CHECK(json_object_size(values) == (size_t)s.markers, "%zu collected paths for %d markers",
               json_object_size(values), s.markers);
    text = json_dumps(values, JSON_COMPACT);
    FUZZ_CHECK(text != NULL, "collected paths do not dump");
    free(text);
    json_decref(got);
    json_decref(values);

    json_decref(marked);
    json_decref(plain);
    json_decref(undef);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_t *doc;
    uint8_t seed;

    if (size < 1)
        return 0;
    seed = data[0];
    doc = json_loadb((const char *)data + 1, size - 1, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
    if (!doc)
        return 0;
    p = fuzz_pool();
    check_decode(p, doc, size);
    check_encode(p, doc, seed);
    /* a batch-style item: the same document as the "0" entry's envelope */
    check_decode(p, json_object_get(doc, "0"), size);
    json_decref(doc);
    apr_pool_destroy(p);
    return 0;
}
