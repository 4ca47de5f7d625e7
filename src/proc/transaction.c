/*
 * proc_transaction.c - transaction.create and transaction.getAll; a user only
 * ever reads and writes their own rows (user id from the session, never input).
 */
#include "proc/procs.h"
#include "store/db.h"
#include "trpc/validate.h"

/* The user of a valid token was deleted since: as good as no session. */
static ta_error_t *user_gone(ta_ctx_t *ctx)
{
    return ta_error_make(ctx->r->pool, TA_E_UNAUTHORIZED,
                         "You must be logged in to access this resource");
}

static const char *const txn_types[] = { "Incoming", "Outgoing", NULL };
static const char *const tags[] = {
    "Food", "Travel", "Shopping", "Investment", "Salary", "Bill", "Others", NULL
};

ta_error_t *ta_proc_txn_create(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    ta_validator_t v;
    long long amount = 0;
    const char *txn_type, *summary, *tag;
    int tag_given;
    json_t *row;
    ta_error_t *e;

    ta_v_init(&v, ctx->r->pool, input);
    if (ta_v_int(&v, "amount", 1, &amount)
        && (amount < -2147483648LL || amount > 2147483647LL)) {
        ta_v_fail(&v, "amount", "too_big", "Number must fit in a 32-bit integer");
    }
    txn_type = ta_v_enum(&v, "txnType", 1, txn_types);
    summary = ta_v_string(&v, "summary", 0);
    tag = ta_v_enum(&v, "tag", 0, tags);
    /* An absent tag takes the column default ('Others'); an explicit null is stored as null. */
    tag_given = json_is_object(input) && json_object_get(input, "tag") != NULL;
    if ((e = ta_v_finish(&v)) != NULL) {
        return e;
    }
    if ((e = ta_db_txn_insert(ctx->r, ctx->user_id, amount, txn_type, summary,
                              tag_given, tag, &row)) != NULL) {
        return e;
    }
    if (json_array_size(row) == 0) {
        return user_gone(ctx);
    }
    *output = json_incref(row);
    return NULL;
}

ta_error_t *ta_proc_txn_get_all(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    const char *json;
    apr_array_header_t *dates;
    ta_error_t *e;

    if ((e = ta_db_txn_list(ctx->r, ctx->user_id, &json, &dates)) != NULL) {
        return e;
    }
    if (json == NULL) {
        return user_gone(ctx);
    }
    ctx->output_text = json;        /* written as JSON text, no jansson tree */
    ctx->output_dates = dates;
    return NULL;
}
