/*
 * superjson.c - the superjson envelope {json, meta:{values, v?}}.
 *
 * Inputs: only the "undefined" annotation changes the value (a key so
 * annotated is removed, a root one means "no input"); every other annotation
 * (Date, bigint, set, ...) leaves its plain JSON form in place.
 *
 * Outputs: Date values are carried as one-key objects whose key is not valid
 * UTF-8 (DATE_KEY). jansson's parser only produces valid UTF-8 keys, so no
 * client input can ever forge a marker, and jansson refuses to dump such a
 * key, so a marker that escaped ta_sj_plain would fail loudly, not leak.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "ta_superjson.h"

#define DATE_KEY "\xff" "ta-date"

json_t *ta_sj_date(const char *iso8601)
{
    json_t *marker = json_object();
    json_object_set_new_nocheck(marker, DATE_KEY, json_string(iso8601 ? iso8601 : ""));
    return marker;
}

const char *ta_sj_date_value(const json_t *j)
{
    if (!json_is_object(j) || json_object_size(j) != 1)
        return NULL;
    return json_string_value(json_object_get(j, DATE_KEY));
}

/* ------------------------------------------------------------------ decode */

/* superjson's parsePath: splits a meta path on unescaped dots. With v >= 1
 * "\\" is a backslash and "\." a dot (any other escape is an error); legacy
 * (no "v") paths only know "\.". Returns the segments, or NULL on error. */
static apr_array_header_t *parse_path(apr_pool_t *p, const char *s, int legacy)
{
    apr_array_header_t *segs = apr_array_make(p, 4, sizeof(const char *));
    char *seg = apr_palloc(p, strlen(s) + 1);
    size_t n = 0;

    for (; *s; s++) {
        if (*s == '\\' && !legacy && s[1] != '\\' && s[1] != '.')
            return NULL;
        if (*s == '\\' && (s[1] == '.' || (!legacy && s[1] == '\\'))) {
            seg[n++] = *++s;
            continue;
        }
        if (*s == '.') {
            seg[n] = '\0';
            APR_ARRAY_PUSH(segs, const char *) = apr_pstrmemdup(p, seg, n);
            n = 0;
            continue;
        }
        seg[n++] = *s;
    }
    seg[n] = '\0';
    APR_ARRAY_PUSH(segs, const char *) = apr_pstrmemdup(p, seg, n);
    return segs;
}

/* The array index a path segment names, or -1 if it is not a plain
 * non-negative decimal number. */
static long segment_index(const char *seg)
{
    char *end;
    long i;

    if (!*seg || *seg < '0' || *seg > '9')
        return -1;
    i = strtol(seg, &end, 10);
    return *end ? -1 : i;
}

/* The child of j named by one path segment (object key or array index). */
static json_t *child_of(json_t *j, const char *seg)
{
    if (json_is_object(j))
        return json_object_get(j, seg);
    if (json_is_array(j) && segment_index(seg) >= 0)
        return json_array_get(j, (size_t)segment_index(seg));
    return NULL;
}

/* Applies an "undefined" annotation at path: removes the object key it
 * names; an array element stays null (arrays cannot have holes in JSON);
 * the empty path makes the whole value absent (*root = NULL). */
static void apply_undefined(json_t **root, const apr_array_header_t *path)
{
    json_t *parent = *root;
    const char *last;
    int i;

    if (path->nelts == 0) {
        json_decref(*root);
        *root = NULL;
        return;
    }
    for (i = 0; i < path->nelts - 1 && parent; i++)
        parent = child_of(parent, APR_ARRAY_IDX(path, i, const char *));
    last = APR_ARRAY_IDX(path, path->nelts - 1, const char *);
    if (json_is_object(parent))
        json_object_del(parent, last);
}

/* origin + the segments of key, as a new array. */
static apr_array_header_t *path_append(apr_pool_t *p, const apr_array_header_t *origin,
                                       const char *key, int legacy)
{
    apr_array_header_t *segs = parse_path(p, key, legacy);
    apr_array_header_t *full;

    if (!segs)
        return NULL;
    full = apr_array_copy(p, origin);
    apr_array_cat(full, segs);
    return full;
}

/* superjson's traverse over a meta.values tree: a tree is either
 * [annotation, {subpath: tree}?] or {subpath: tree}; children are applied
 * before their node's own annotation. Returns 0, or -1 on a bad path. */
static int apply_tree(apr_pool_t *p, json_t **root, json_t *tree,
                      const apr_array_header_t *origin, int legacy)
{
    json_t *children = tree;
    const char *key;
    json_t *child;

    if (json_is_array(tree))
        children = json_array_get(tree, 1);
    if (json_is_object(children)) {
        json_object_foreach(children, key, child) {
            apr_array_header_t *path = path_append(p, origin, key, legacy);
            if (!path || apply_tree(p, root, child, path, legacy) < 0)
                return -1;
        }
    }
    if (json_is_array(tree) &&
        strcmp(json_string_value(json_array_get(tree, 0)) ?: "", "undefined") == 0)
        apply_undefined(root, origin);
    return 0;
}

/* The meta.v number, 0 when absent (superjson's legacy path escaping). */
static double meta_version(json_t *meta)
{
    json_t *v = json_object_get(meta, "v");
    return json_is_number(v) ? json_number_value(v) : 0;
}

ta_error_t *ta_sj_decode(apr_pool_t *p, json_t *env, json_t **value)
{
    json_t *json, *meta, *values, *copy;
    apr_array_header_t *origin;

    *value = NULL;
    if (!env)
        return NULL;
    json = json_object_get(env, "json");
    if (!json_is_object(env) || !json)
        return ta_error_make(p, TA_E_BAD_REQUEST,
                             "Invalid superjson input: expected {\"json\": ...}");

    copy = json_deep_copy(json);
    meta = json_object_get(env, "meta");
    values = json_object_get(meta, "values");
    if (values) {
        origin = apr_array_make(p, 1, sizeof(const char *));
        if (apply_tree(p, &copy, values, origin, meta_version(meta) < 1) < 0) {
            json_decref(copy);
            return ta_error_make(p, TA_E_BAD_REQUEST, "Invalid superjson input: invalid path");
        }
    }
    *value = copy;
    return NULL;
}

/* ------------------------------------------------------------------ encode */

/* prefix + "." + key with superjson v1 escaping ("\" -> "\\", "." -> "\."),
 * or just the escaped key when prefix is NULL (the root). malloc'd. */
static char *path_join(const char *prefix, const char *key, size_t key_len)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    char *out = malloc(plen + 1 + 2 * key_len + 1);
    char *o = out;
    size_t i;

    if (!out)
        return NULL;
    if (prefix) {
        memcpy(o, prefix, plen);
        o += plen;
        *o++ = '.';
    }
    for (i = 0; i < key_len; i++) {
        if (key[i] == '\\' || key[i] == '.')
            *o++ = '\\';
        *o++ = key[i];
    }
    *o = '\0';
    return out;
}

static json_t *collect(json_t *value, const char *path, json_t *values, int own);

/* Plain form of one child; its path is only built when values is wanted. */
static json_t *collect_child(json_t *child, const char *prefix, const char *key,
                             size_t key_len, json_t *values, int own)
{
    char *path;
    json_t *plain;

    if (!values)
        return collect(child, NULL, NULL, own);
    path = path_join(prefix, key, key_len);
    plain = collect(child, path ? path : prefix, values, own);
    free(path);
    return plain;
}

/* The string inside a Date marker, or NULL if value is none. */
static json_t *date_string(json_t *value)
{
    return ta_sj_date_value(value) ? json_object_get(value, DATE_KEY) : NULL;
}

/* Walks value depth-first, copying containers and swapping Date markers for
 * their strings (the marker's own string, shared: strings are never changed);
 * each Date's path goes into values when values is not NULL. prefix is NULL at
 * the root (a root Date has no path: ta_sj_encode handles it); "" is a path
 * too: the one empty key "".
 * own: the caller gives value up, so a container that no one else holds
 * (refcount 1, and so was every container above it) is changed in place rather
 * than copied; anything shared is copied, so no other holder sees a change. */
static json_t *collect(json_t *value, const char *prefix, json_t *values, int own)
{
    json_t *iso = date_string(value);
    json_t *copy, *child, *plain;
    const char *key;
    size_t key_len, i;
    char idx[32];

    if (!value)
        return NULL;
    if (iso) {
        if (values && prefix)
            json_object_set_new(values, prefix, json_pack("[s]", "Date"));
        return json_incref(iso);
    }
    own = own && value->refcount == 1;
    if (json_is_object(value)) {
        copy = own ? value : json_object();
        json_object_keylen_foreach(value, key, key_len, child) {
            plain = collect_child(child, prefix, key, key_len, values, own);
            if (plain != child || !own)   /* replacing an existing key keeps its place */
                json_object_setn_new_nocheck(copy, key, key_len, plain);
            else
                json_decref(plain);
        }
        return own ? json_incref(value) : copy;
    }
    if (json_is_array(value)) {
        copy = own ? value : json_array();
        json_array_foreach(value, i, child) {
            snprintf(idx, sizeof idx, "%zu", i);
            plain = collect_child(child, prefix, idx, strlen(idx), values, own);
            if (!own)
                json_array_append_new(copy, plain);
            else if (plain != child)
                json_array_set_new(value, i, plain);
            else
                json_decref(plain);
        }
        return own ? json_incref(value) : copy;
    }
    return json_incref(value);
}

json_t *ta_sj_plain_collect(json_t *value, const char *prefix, json_t *values)
{
    return collect(value, prefix && *prefix ? prefix : NULL, values, 0);
}

json_t *ta_sj_plain(json_t *value)
{
    return collect(value, NULL, NULL, 0);
}

json_t *ta_sj_plain_take(json_t *value)
{
    return collect(value, NULL, NULL, 1);
}

/* {"values": values, "v": 1}; steals values. */
static json_t *meta_of(json_t *values)
{
    return json_pack("{s:o, s:i}", "values", values, "v", 1);
}

json_t *ta_sj_encode(json_t *value)
{
    const char *iso = ta_sj_date_value(value);
    json_t *env, *values;

    if (!value)
        return json_pack("{s:n, s:o}", "json", "meta", meta_of(json_pack("[s]", "undefined")));
    if (iso)
        return json_pack("{s:s, s:o}", "json", iso, "meta", meta_of(json_pack("[s]", "Date")));

    values = json_object();
    env = json_object();
    json_object_set_new(env, "json", collect(value, NULL, values, 0));
    if (json_object_size(values))
        json_object_set_new(env, "meta", meta_of(values));
    else
        json_decref(values);
    return env;
}
