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

#include "trpc/superjson.h"

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

/* The walk over one input's meta.values tree. Whatever the tree holds, the
 * walk does work linear in its size: each key is parsed once onto one path
 * stack (pushed on the way down, popped on the way up, never copied), the
 * value each segment names is looked up once, when it is pushed, and the
 * limits of trpc/superjson.h stop it early. */
typedef struct {
    apr_pool_t *p;
    json_t **root;           /* the value being changed; *root = NULL: absent */
    int legacy;              /* no meta.v: superjson's legacy path escaping */
    int height;              /* segments on the stack */
    int entries;             /* tree entries (paths) seen so far */
    const char *seg[TA_SJ_MAX_PATH_SEGMENTS];
    json_t *node[TA_SJ_MAX_PATH_SEGMENTS];   /* node[i]: the value at seg[0..i], or NULL */
    const char *error;       /* why the input was refused */
} sj_walk_t;

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

static int walk_fail(sj_walk_t *w, const char *why)
{
    w->error = why;
    return -1;
}

/* Pushes one segment and looks up the value it names below the top of the
 * stack (the whole value when the stack is empty). */
static int push_segment(sj_walk_t *w, const char *seg)
{
    json_t *parent = w->height ? w->node[w->height - 1] : *w->root;

    if (w->height == TA_SJ_MAX_PATH_SEGMENTS)
        return walk_fail(w, apr_psprintf(w->p, "Invalid superjson input: a path has more "
                                         "than %d segments", TA_SJ_MAX_PATH_SEGMENTS));
    w->seg[w->height] = seg;
    w->node[w->height] = child_of(parent, seg);
    w->height++;
    return 0;
}

/* superjson's parsePath, onto the stack: splits key on unescaped dots. With
 * v >= 1 "\\" is a backslash and "\." a dot (any other escape is an error);
 * legacy paths only know "\.". The segments are unescaped in one copy of
 * key. Returns 0, or -1 with w->error set. */
static int push_path(sj_walk_t *w, const char *key)
{
    char *seg = apr_pstrdup(w->p, key);
    char *out = seg;
    const char *s;

    for (s = key;; s++) {
        if (*s == '\\' && !w->legacy && s[1] != '\\' && s[1] != '.')
            return walk_fail(w, "Invalid superjson input: invalid path");
        if (*s == '\\' && (s[1] == '.' || (!w->legacy && s[1] == '\\'))) {
            *out++ = *++s;
            continue;
        }
        if (*s != '.' && *s != '\0') {
            *out++ = *s;
            continue;
        }
        *out++ = '\0';
        if (push_segment(w, seg) < 0)
            return -1;
        if (*s == '\0')
            return 0;
        seg = out;
    }
}

/* Applies an "undefined" annotation at the path on the stack: removes the
 * object key it names; an array element stays null (arrays cannot have holes
 * in JSON); the empty path makes the whole value absent (*root = NULL). */
static void apply_undefined(sj_walk_t *w)
{
    json_t *parent;

    if (w->height == 0) {
        json_decref(*w->root);
        *w->root = NULL;
        return;
    }
    parent = w->height > 1 ? w->node[w->height - 2] : *w->root;
    if (json_is_object(parent))
        json_object_del(parent, w->seg[w->height - 1]);
}

/* superjson's traverse over a meta.values tree: a tree is either
 * [annotation, {subpath: tree}?] or {subpath: tree}; children are applied
 * before their node's own annotation, each subpath relative to the path on
 * the stack. depth: the tree's own nesting (0 for meta.values itself).
 * Returns 0, or -1 with w->error set. */
static int apply_tree(sj_walk_t *w, json_t *tree, int depth)
{
    json_t *children = json_is_array(tree) ? json_array_get(tree, 1) : tree;
    const char *key;
    json_t *child;
    int base = w->height;

    if (json_is_object(children) && json_object_size(children) > 0) {
        if (depth == TA_SJ_MAX_DEPTH)
            return walk_fail(w, apr_psprintf(w->p, "Invalid superjson input: meta.values is "
                                             "nested more than %d levels deep",
                                             TA_SJ_MAX_DEPTH));
        json_object_foreach(children, key, child) {
            if (++w->entries > TA_SJ_MAX_ANNOTATIONS)
                return walk_fail(w, apr_psprintf(w->p, "Invalid superjson input: more than "
                                                 "%d paths in meta.values",
                                                 TA_SJ_MAX_ANNOTATIONS));
            if (push_path(w, key) < 0 || apply_tree(w, child, depth + 1) < 0)
                return -1;
            w->height = base;
        }
    }
    if (json_is_array(tree) &&
        strcmp(json_string_value(json_array_get(tree, 0)) ?: "", "undefined") == 0)
        apply_undefined(w);
    return 0;
}

/* The meta.v number, 0 when absent (superjson's legacy path escaping). */
static double meta_version(json_t *meta)
{
    json_t *v = json_object_get(meta, "v");
    return json_is_number(v) ? json_number_value(v) : 0;
}

/* ta_sj_decode and ta_sj_decode_take: the value to change is a copy of env's
 * "json", or, when take and nothing but env holds it, that member itself,
 * taken out of env (a parsed request's input is nobody else's: copying it
 * would double the cost of the largest input). */
static ta_error_t *decode(apr_pool_t *p, json_t *env, json_t **value, int take)
{
    json_t *json, *meta, *values, *root;
    sj_walk_t *w;

    *value = NULL;
    if (!env)
        return NULL;
    json = json_object_get(env, "json");
    if (!json_is_object(env) || !json)
        return ta_error_make(p, TA_E_BAD_REQUEST,
                             "Invalid superjson input: expected {\"json\": ...}");

    meta = json_object_get(env, "meta");
    values = json_object_get(meta, "values");
    if (take && json->refcount == 1) {
        root = json_incref(json);
        json_object_del(env, "json");   /* meta, values stay alive in env */
    } else {
        root = json_deep_copy(json);
    }
    if (values) {
        w = apr_pcalloc(p, sizeof(*w));
        w->p = p;
        w->root = &root;
        w->legacy = meta_version(meta) < 1;
        if (apply_tree(w, values, 0) < 0) {
            json_decref(root);
            return ta_error_make(p, TA_E_BAD_REQUEST, "%s", w->error);
        }
    }
    *value = root;
    return NULL;
}

ta_error_t *ta_sj_decode(apr_pool_t *p, json_t *env, json_t **value)
{
    return decode(p, env, value, 0);
}

ta_error_t *ta_sj_decode_take(apr_pool_t *p, json_t *env, json_t **value)
{
    return decode(p, env, value, 1);
}

/* ------------------------------------------------------------------ encode */

/* The path of the node a walk is at, for the Dates below it: one buffer,
 * extended by a key on the way down and cut back on the way up, so that the
 * paths of a whole value cost time linear in it, never a copy of the path per
 * node. depth 0 is the root, which has no path at all (a root Date is
 * ta_sj_encode's); "" is a path too: the one empty key "". */
typedef struct {
    json_t *values;     /* where each Date's path goes */
    char *buf;          /* the path, NUL-terminated (malloc'd, grown) */
    size_t len, cap;
    int depth;
    int failed;         /* out of memory: no more paths are recorded */
} sj_path_t;

/* Appends n bytes, escaped with superjson v1 escaping ("\" -> "\\",
 * "." -> "\.") unless raw, after a "." below the root. Returns the length to
 * cut back to. */
static size_t path_push(sj_path_t *path, const char *key, size_t n, int raw)
{
    size_t saved = path->len, need = path->len + 1 + 2 * n + 1, i;
    char *o;

    if (need > path->cap && !path->failed) {
        size_t cap = path->cap ? path->cap : 64;
        char *bigger;
        while (cap < need)
            cap *= 2;
        if ((bigger = realloc(path->buf, cap)) == NULL)
            path->failed = 1;
        else
            path->buf = bigger, path->cap = cap;
    }
    if (!path->failed) {
        o = path->buf + path->len;
        if (path->depth)
            *o++ = '.';
        for (i = 0; i < n; i++) {
            if (!raw && (key[i] == '\\' || key[i] == '.'))
                *o++ = '\\';
            *o++ = key[i];
        }
        *o = '\0';
        path->len = (size_t)(o - path->buf);
    }
    path->depth++;
    return saved;
}

static void path_pop(sj_path_t *path, size_t saved)
{
    path->depth--;
    if (path->failed)
        return;
    path->len = saved;
    path->buf[saved] = '\0';
}

static json_t *collect(json_t *value, sj_path_t *path, int own);

/* Plain form of one child; the path goes one key down only when paths are
 * wanted. */
static json_t *collect_child(json_t *child, sj_path_t *path, const char *key,
                             size_t key_len, int own)
{
    size_t saved;
    json_t *plain;

    if (!path)
        return collect(child, NULL, own);
    saved = path_push(path, key, key_len, 0);
    plain = collect(child, path, own);
    path_pop(path, saved);
    return plain;
}

/* The string inside a Date marker, or NULL if value is none. */
static json_t *date_string(json_t *value)
{
    return ta_sj_date_value(value) ? json_object_get(value, DATE_KEY) : NULL;
}

/* Walks value depth-first, copying containers and swapping Date markers for
 * their strings (the marker's own string, shared: strings are never changed);
 * each Date's path goes into path->values when path is not NULL.
 * own: the caller gives value up, so a container that no one else holds
 * (refcount 1, and so was every container above it) is changed in place rather
 * than copied; anything shared is copied, so no other holder sees a change. */
static json_t *collect(json_t *value, sj_path_t *path, int own)
{
    json_t *iso = date_string(value);
    json_t *copy, *child, *plain;
    const char *key;
    size_t key_len, i;
    char idx[32];

    if (!value)
        return NULL;
    if (iso) {
        if (path && path->depth && !path->failed)
            json_object_set_new(path->values, path->buf, json_pack("[s]", "Date"));
        return json_incref(iso);
    }
    own = own && value->refcount == 1;
    if (json_is_object(value)) {
        copy = own ? value : json_object();
        json_object_keylen_foreach(value, key, key_len, child) {
            plain = collect_child(child, path, key, key_len, own);
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
            plain = collect_child(child, path, idx, strlen(idx), own);
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

/* collect() with the Date paths going into values, each under prefix (taken
 * as it is; NULL or "" for none). */
static json_t *collect_paths(json_t *value, const char *prefix, json_t *values)
{
    sj_path_t path = { values, NULL, 0, 0, 0, 0 };
    json_t *plain;

    if (prefix && *prefix)
        path_push(&path, prefix, strlen(prefix), 1);
    plain = collect(value, &path, 0);
    free(path.buf);
    return plain;
}

json_t *ta_sj_plain_collect(json_t *value, const char *prefix, json_t *values)
{
    return collect_paths(value, prefix, values);
}

json_t *ta_sj_plain(json_t *value)
{
    return collect(value, NULL, 0);
}

json_t *ta_sj_plain_take(json_t *value)
{
    return collect(value, NULL, 1);
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
    json_object_set_new(env, "json", collect_paths(value, NULL, values));
    if (json_object_size(values))
        json_object_set_new(env, "meta", meta_of(values));
    else
        json_decref(values);
    return env;
}
