/*
 * trpc/superjson.h - the superjson envelope {json, meta:{values, v?}}.
 *
 * Outputs mark Date values with ta_sj_date(); the renderer turns them into ISO
 * strings and, for superjson, into meta.values entries ["Date"] at their
 * dotted paths ("0.createdAt", "user.0.updatedAt"; dots in keys escaped "\.").
 */
#ifndef TA_SUPERJSON_H
#define TA_SUPERJSON_H

#include "trpc/error.h"

/* A new reference to a Date marker holding an ISO-8601 string
 * ("2024-05-06T07:08:09.000Z"). */
json_t *ta_sj_date(const char *iso8601);
/* The ISO string if j is a Date marker, else NULL. */
const char *ta_sj_date_value(const json_t *j);

/* Limits of one input's meta.values, far above what a superjson client sends
 * (its paths name the Dates, undefineds, ... of an input: "tag",
 * "0.createdAt"). They keep decoding linear in the input, whatever it holds;
 * an input over any of them is BAD_REQUEST. */
#define TA_SJ_MAX_PATH_SEGMENTS 32    /* segments of one full path ("a.b.c" is 3),
                                       * the subpaths of a tree's levels together */
#define TA_SJ_MAX_DEPTH         16    /* nesting of the meta.values tree: levels of
                                       * [annotation, {subpath: tree}] below it */
#define TA_SJ_MAX_ANNOTATIONS 1000    /* paths (tree entries) in one meta.values */

/* Unwraps a superjson input envelope. *value gets a new reference, or NULL
 * when the input is absent (root meta ["undefined"], or envelope NULL).
 * Keys annotated ["undefined"] are removed; meta with or without "v" or no
 * meta at all are accepted. Returns BAD_REQUEST if env is not an envelope,
 * a path is malformed or meta.values is over one of the limits above. Time and
 * memory are linear in the size of env. */
ta_error_t *ta_sj_decode(apr_pool_t *p, json_t *env, json_t **value);
/* The same for an envelope the caller is done with (a request's parsed
 * input): its "json" member, when nothing else holds it, is taken out of env
 * and changed in place instead of copied, so env loses it. */
ta_error_t *ta_sj_decode_take(apr_pool_t *p, json_t *env, json_t **value);

/* Plain JSON form of an output: Date markers replaced by their strings.
 * Returns a new reference (NULL in, NULL out). */
json_t *ta_sj_plain(json_t *value);
/* The same, for a value the caller is done with (an output about to be
 * rendered): containers that nobody else holds are converted in place instead
 * of copied, so value itself may be changed. New reference. */
json_t *ta_sj_plain_take(json_t *value);

/* superjson envelope of an output: {"json": plain, "meta": {"values":..., "v":1}}
 * with meta only when needed. A NULL value (undefined) gives
 * {"json":null,"meta":{"values":["undefined"],"v":1}}. New reference. */
json_t *ta_sj_encode(json_t *value);
/* Collects the Date paths of value into values (object path -> ["Date"]),
 * each prefixed with prefix ("" for none; JSONL lines use "0.0.0.result.data");
 * returns the plain copy (new reference). */
json_t *ta_sj_plain_collect(json_t *value, const char *prefix, json_t *values);

#endif
