/*
 * maild.c - the mail delivery process (hooks/maild.h).
 *
 * Why a process of its own, in the parent: a request must never wait for a
 * mail server (the request only writes mail_outbox, src/proc/), and a mail
 * must not be lost when Apache restarts or the relay is down. So one process,
 * forked by the Apache parent as mod_cgid forks its daemon, sends the outbox:
 *
 *   - one queue per database (DBDParams) of the servers that have a relay,
 *     with the relay, sender and templates of the first such server;
 *   - a libpq connection per queue that LISTENs on trpcauth_outbox (the
 *     request's NOTIFY wakes the process at once), and a look at the table
 *     every POLL_EVERY anyway;
 *   - one row at a time, in a transaction: claimed FOR UPDATE SKIP LOCKED,
 *     sent, marked sent (its sealed link dropped) or failed (attempts + 1,
 *     next_attempt after TrpcAuthMailRetry's doubling wait, last_error).
 *     A row is marked sent only after the relay accepted it, so a process
 *     killed at any moment loses nothing: the row is sent again (at least
 *     once). Rows whose link expired are not sent ('expired').
 *
 * The parent registers the process with apr_proc_other_child: when it dies
 * the MPM's maintenance restarts it; at a restart or stop the generation's
 * pool kills it (SIGTERM, SIGKILL after 3 s). On SIGTERM the process finishes
 * the mail in hand (the SMTP exchange and the row's update) and exits.
 *
 * It runs as the Apache user (the drop_privileges hook, as mod_cgid's daemon),
 * never logs a link, a token or the relay's password, and names itself
 * "trpcauth-maild" (/proc/PID/comm) once it runs as that user.
 */
#include "hooks/maild.h"
#include "hooks/lifecycle.h"
#include "cfg/config.h"
#include "cfg/log.h"
#include "cfg/metrics.h"
#include "jose/seal.h"
#include "mail/message.h"
#include "mail/template.h"
#include "store/outbox.h"

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <ap_listen.h>
#include <ap_mpm.h>
#include <http_config.h>
#include <http_log.h>
#include <mpm_common.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define DAEMON_STARTUP_ERROR 254                 /* exit status: do not restart */
#define POLL_EVERY      apr_time_from_sec(5)     /* the fallback when no NOTIFY comes */
#define BUSY_RECHECK    apr_time_from_msec(500)  /* due rows held by another server's process */
#define DB_RETRY_FIRST  apr_time_from_sec(1)
#define DB_RETRY_MAX    apr_time_from_sec(30)
#define BATCH           50                       /* mails of one queue before looking at the others */
#define SMTP_CONNECT_TIMEOUT 10L                 /* seconds */
#define SMTP_TIMEOUT    60L
#define QUICK_DEATH     apr_time_from_sec(10)
#define QUICK_DEATHS_MAX 5
#define ERROR_MAX       300                      /* bytes of last_error */

typedef struct queue {
    server_rec *s;                    /* the first server of this database, for the log */
    const char *conninfo;             /* its DBDParams */
    const ta_mail_relay_t *relay;
    const char *ca_file;              /* TrpcAuthMailCAFile, for the log ... */
    const char *ca_pem;               /* ... its text; NULL: the system's CA store */
    const char *from_addr, *from, *domain;
    const ta_mail_template_t *tpl[TA_MAIL__COUNT];
    apr_interval_time_t retry_min, retry_max;
    apr_array_header_t *keys;         /* of unsigned char *: the seal keys of its servers */
    /* in the process */
    ta_outbox_t *outbox;
    apr_time_t next_connect;
    apr_interval_time_t connect_wait;
    apr_time_t due;                   /* the next look at the table */
    int db_down, relay_down;          /* each outage is logged once */
    struct queue *next;
} queue_t;

/* The generation's: set in post_config, read by the maintenance callback
 * (the parent's main loop) and by the forked process. */
static apr_pool_t *gen_pool;
static server_rec *gen_server;
static queue_t *gen_queues;
static apr_time_t started_at;
static int quick_deaths;

/* ------------------------------------------------------------------ */
/* configuration                                                       */

static ta_server_conf_t *conf_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &trpcauth_module);
}

/* The DBDParams of sp without the quotes of the configuration file. */
static const char *conninfo_of(apr_pool_t *p, server_rec *main_s, server_rec *sp)
{
    const char *raw = ta_lifecycle_dbd_setting(main_s, sp, "DBDParams");

    return raw ? ap_getword_conf(p, &raw) : NULL;
}

const char *ta_maild_check(apr_pool_t *p, server_rec *main_s, server_rec *sp)
{
    ta_server_conf_t *sc = conf_of(sp);
    const char *driver;

    if (ta_conf_mail_relay(sc) == NULL) {
        return NULL;
    }
    if (ta_conf_mail_from_addr(sc) == NULL) {
        return "TrpcAuthMailRelay needs TrpcAuthMailFrom (the sender of the mails)";
    }
    driver = ta_lifecycle_dbd_setting(main_s, sp, "DBDriver");
    if (driver == NULL || strcasecmp(ap_getword_conf(p, &driver), "pgsql") != 0
        || conninfo_of(p, main_s, sp) == NULL) {
        return "TrpcAuthMailRelay: the mail outbox needs DBDriver pgsql and DBDParams";
    }
    return NULL;
}

static void add_key(apr_pool_t *p, queue_t *q, const ta_server_conf_t *sc)
{
    unsigned char *key = apr_palloc(p, TA_SEAL_KEY_LEN);
    int i;

    if (ta_conf_refresh_keys(sc) == NULL
        || ta_seal_key_derive(APR_ARRAY_IDX(ta_conf_refresh_keys(sc)->keys, 0, const ta_key_t *),
                              key) != 0) {
        return;
    }
    for (i = 0; i < q->keys->nelts; i++) {
        if (memcmp(APR_ARRAY_IDX(q->keys, i, unsigned char *), key, TA_SEAL_KEY_LEN) == 0) {
            return;
        }
    }
    APR_ARRAY_PUSH(q->keys, unsigned char *) = key;
}

static int same_text(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* Whether server configuration sc would send its mail as queue q does. */
static int same_mail_settings(apr_pool_t *p, const queue_t *q, const ta_server_conf_t *sc)
{
    const ta_mail_relay_t *relay = ta_conf_mail_relay(sc);
    int k;

    if (!same_text(q->relay->url, relay->url) || !same_text(q->relay->user, relay->user)
        || !same_text(q->relay->password, relay->password) || !same_text(q->from, ta_conf_mail_from(sc))
        || !same_text(q->ca_pem, ta_conf_mail_ca_pem(sc))
        || q->retry_min != ta_conf_mail_retry_min(sc) || q->retry_max != ta_conf_mail_retry_max(sc)) {
        return 0;
    }
    for (k = 0; k < TA_MAIL__COUNT; k++) {
        const ta_mail_template_t *t = ta_conf_mail_template(p, sc, (ta_mail_kind_t)k);

        if (!same_text(q->tpl[k]->subject, t->subject) || !same_text(q->tpl[k]->body, t->body)) {
            return 0;
        }
    }
    return 1;
}

/* One queue per database among the servers that use the module with a relay.
 * The outbox rows do not say which server queued them, so every server on
 * one database has its mail sent with the first one's settings: a server
 * whose mail settings differ is told so at start rather than silently sent
 * in another's name. */
static queue_t *make_queues(apr_pool_t *p, server_rec *s)
{
    queue_t *queues = NULL, *q;
    server_rec *sp;
    int k;

    for (sp = s; sp; sp = sp->next) {
        ta_server_conf_t *sc = conf_of(sp);
        const char *conninfo;

        if (!sc->state.active || ta_conf_mail_relay(sc) == NULL
            || (conninfo = conninfo_of(p, s, sp)) == NULL) {
            continue;
        }
        for (q = queues; q && strcmp(q->conninfo, conninfo) != 0; q = q->next)
            ;
        if (q == NULL) {
            q = apr_pcalloc(p, sizeof(*q));
            q->s = sp;
            q->conninfo = conninfo;
            q->relay = ta_conf_mail_relay(sc);
            q->ca_file = ta_conf_mail_ca_file(sc);
            q->ca_pem = ta_conf_mail_ca_pem(sc);
            q->from_addr = ta_conf_mail_from_addr(sc);
            q->from = ta_conf_mail_from(sc);
            q->domain = strchr(ta_conf_mail_from_addr(sc), '@') + 1;
            for (k = 0; k < TA_MAIL__COUNT; k++) {
                q->tpl[k] = ta_conf_mail_template(p, sc, (ta_mail_kind_t)k);
            }
            q->retry_min = ta_conf_mail_retry_min(sc);
            q->retry_max = ta_conf_mail_retry_max(sc);
            q->keys = apr_array_make(p, 2, sizeof(unsigned char *));
            q->next = queues;
            queues = q;
        }
        else if (!same_mail_settings(p, q, sc)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp, TA_LOGNO(1481)
                         "server %s:%u (%s:%u) uses the same database as %s:%u (%s:%u) but other "
                         "TrpcAuthMail* settings: the outbox of that database is sent with the "
                         "latter's relay, sender, templates and retry; give each its own database "
                         "or the same settings",
                         sp->server_hostname ? sp->server_hostname : "*", sp->port,
                         sp->defn_name ? sp->defn_name : "?", sp->defn_line_number,
                         q->s->server_hostname ? q->s->server_hostname : "*", q->s->port,
                         q->s->defn_name ? q->s->defn_name : "?", q->s->defn_line_number);
        }
        /* Rows of every server on this database are sealed with its key. */
        add_key(p, q, sc);
    }
    return queues;
}

/* ------------------------------------------------------------------ */
/* the process: signals                                                */

static volatile sig_atomic_t stopping;
static int wake_pipe[2] = { -1, -1 };

static void on_stop(int sig)
{
    int saved = errno;

    stopping = 1;
    if (wake_pipe[1] >= 0 && write(wake_pipe[1], "x", 1) < 0) {
        /* the pipe is full: the process wakes anyway */
    }
    errno = saved;
}

/* The parent's handlers (the MPM's restart and stop) mean nothing here. */
static void set_signals(void)
{
    static const int stop_sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGUSR1, SIGWINCH };
    struct sigaction sa;
    sigset_t none;
    apr_size_t i;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;           /* no SA_RESTART: select() returns at once */
    for (i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++) {
        sigaction(stop_sigs[i], &sa, NULL);
    }
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ------------------------------------------------------------------ */
/* the process: SMTP                                                   */

typedef struct {
    const char *data;
    size_t len, pos;
} upload_t;

static size_t read_message(char *buf, size_t size, size_t n, void *data)
{
    upload_t *u = data;
    size_t room = size * n, left = u->len - u->pos;

    if (room > left) {
        room = left;
    }
    memcpy(buf, u->data + u->pos, room);
    u->pos += room;
    return room;
}

/* Sends msg to the relay of q. NULL when the relay accepted it, else why not
 * (libcurl's words and the SMTP code: never the message, never the password). */
static const char *smtp_send(queue_t *q, apr_pool_t *p, const char *to, const char *msg)
{
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt;
    char errbuf[CURL_ERROR_SIZE] = "";
    upload_t up = { msg, strlen(msg), 0 };
    const char *err = NULL;
    CURLcode rc;
    long code = 0;

    if (c == NULL) {
        return "libcurl could not start";
    }
    rcpt = curl_slist_append(NULL, apr_pstrcat(p, "<", to, ">", NULL));
    curl_easy_setopt(c, CURLOPT_URL, q->relay->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, SMTP_CONNECT_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, SMTP_TIMEOUT);
    /* The relay's certificate and name are always verified (libcurl's default,
     * said here so that nobody takes it for an oversight); with
     * TrpcAuthMailCAFile only the CAs of that file may sign it. */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (q->ca_pem) {
        struct curl_blob ca = { (void *)q->ca_pem, strlen(q->ca_pem), CURL_BLOB_NOCOPY };

        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
        curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    }
    /* STARTTLS when the relay offers it; a password never goes in the clear. */
    curl_easy_setopt(c, CURLOPT_USE_SSL, (q->relay->tls || q->relay->password)
                                         ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    if (q->relay->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, q->relay->user);
        if (q->relay->password) {
            curl_easy_setopt(c, CURLOPT_PASSWORD, q->relay->password);
        }
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, apr_pstrcat(p, "<", q->from_addr, ">", NULL));
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        err = apr_psprintf(p, "%s%s%s%s", curl_easy_strerror(rc), *errbuf ? ": " : "", errbuf,
                           code ? apr_psprintf(p, " (SMTP %ld)", code) : "");
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return err;
}

/* ------------------------------------------------------------------ */
/* the process: one row                                                */

static apr_interval_time_t backoff(const queue_t *q, int attempts)
{
    apr_interval_time_t wait = q->retry_min;

    while (--attempts > 0 && wait < q->retry_max) {
        wait *= 2;
    }
    return wait < q->retry_max ? wait : q->retry_max;
}

static const char *unseal(queue_t *q, apr_pool_t *p, const ta_outbox_row_t *row)
{
    const char *link = NULL;
    int i;

    for (i = 0; row->sealed_link && link == NULL && i < q->keys->nelts; i++) {
        link = ta_unseal(p, APR_ARRAY_IDX(q->keys, i, unsigned char *), row->sealed_link,
                         row->recipient);
    }
    return link;
}

/* A row that can never be sent: marked so (never tried again, its link
 * dropped) and logged. */
static void give_up(queue_t *q, const ta_outbox_row_t *row, const char *why)
{
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, q->s, TA_LOGNO(1452)
                 "mail outbox row %" APR_INT64_T_FMT " (%s) cannot be sent: %s; given up",
                 row->id, row->kind, why);
    ta_outbox_failed(q->outbox, row->id, -1, why);
    ta_metrics_add(TA_M_MAIL_GIVEN_UP, 1);
}

/* The text of an error for last_error: one line, bounded, and without the
 * link (which no relay should echo, but a log line is no place to find out). */
static const char *error_text(apr_pool_t *p, const char *err, const char *link)
{
    char *e = apr_pstrndup(p, err, ERROR_MAX), *c;

    if (link && *link && strstr(e, link) != NULL) {
        return "the relay refused the message";
    }
    for (c = e; *c; c++) {
        if (*c == '\r' || *c == '\n') *c = ' ';
    }
    return e;
}

/* Sends a claimed row. 0 when the queue may go on, -1 when the relay failed
 * (the round stops: the other rows would fail the same way). */
static int deliver(queue_t *q, apr_pool_t *p, const ta_outbox_row_t *row)
{
    int kind = ta_mail_kind_from_name(row->kind);
    ta_mail_message_t m;
    ta_mail_vars_t v;
    const char *link, *err;

    if (kind < 0) {
        give_up(q, row, "unknown kind");
        return 0;
    }
    if (!ta_mail_address_ok(row->recipient)) {
        give_up(q, row, "the recipient is not an address the module can send to");
        return 0;
    }
    if ((link = unseal(q, p, row)) == NULL) {
        give_up(q, row, "its link cannot be unsealed (was the refresh key changed?)");
        return 0;
    }
    v.link = link;
    v.email = row->recipient;
    v.expires = row->expires;
    if (ta_mail_render(p, q->tpl[kind], &v, &m.subject, &m.body) != 0) {
        give_up(q, row, "its link or address would break the message");
        return 0;
    }
    m.from = q->from;
    m.to = row->recipient;
    m.date = apr_time_now();
    m.message_id = ta_mail_message_id(p, row->id, row->created, q->domain);

    if ((err = smtp_send(q, p, row->recipient, ta_mail_compose(p, &m))) == NULL) {
        ta_metrics_add(TA_M_MAIL_SENT, 1);
        if (ta_outbox_sent(q->outbox, row->id) == 0) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, q->s, TA_LOGNO(1453)
                         "mail outbox row %" APR_INT64_T_FMT " (%s) sent through %s",
                         row->id, row->kind, q->relay->redacted);
        }
        if (q->relay_down) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, q->s, TA_LOGNO(1454)
                         "mail relay %s accepts mail again", q->relay->redacted);
            q->relay_down = 0;
        }
        return 0;
    }
    err = error_text(p, err, link);
    ta_metrics_add(TA_M_MAIL_FAILED, 1);
    {
        apr_interval_time_t wait = backoff(q, row->attempts + 1);

        ta_outbox_failed(q->outbox, row->id, wait, err);
        if (!q->relay_down) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, q->s, TA_LOGNO(1455)
                         "mail relay %s: %s; the outbox keeps the mail and tries again "
                         "(next in %" APR_TIME_T_FMT " ms)", q->relay->redacted, err,
                         apr_time_as_msec(wait));
            q->relay_down = 1;
        }
        q->due = apr_time_now() + wait;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* the process: the loop                                               */

static void db_lost(queue_t *q)
{
    if (!q->db_down) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, q->s, TA_LOGNO(1456)
                     "mail outbox: %s; trying again", ta_outbox_error(q->outbox));
        q->db_down = 1;
    }
    ta_outbox_close(q->outbox);
    q->next_connect = apr_time_now() + q->connect_wait;
    q->connect_wait = q->connect_wait * 2 > DB_RETRY_MAX ? DB_RETRY_MAX : q->connect_wait * 2;
}

static void connect_queue(queue_t *q)
{
    if (ta_outbox_connect(q->outbox) != 0) {
        db_lost(q);
        return;
    }
    if (q->db_down) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, q->s, TA_LOGNO(1457)
                     "mail outbox: PostgreSQL is back");
        q->db_down = 0;
    }
    q->connect_wait = DB_RETRY_FIRST;
    q->due = 0;                        /* look at once: mail may have waited */
}

/* Sends what is due, then plans the next look. */
static void run_queue(queue_t *q, apr_pool_t *p)
{
    ta_outbox_row_t row;
    apr_pool_t *rp;
    apr_interval_time_t due;
    int n, rc = 0, expired;

    if ((expired = ta_outbox_expire(q->outbox)) > 0) {
        ta_metrics_add(TA_M_MAIL_GIVEN_UP, (apr_uint64_t)expired);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, q->s, TA_LOGNO(1458)
                     "mail outbox: %d mail(s) not sent before their link expired", expired);
    }
    if (!ta_outbox_connected(q->outbox)) {
        db_lost(q);
        return;
    }
    q->due = 0;
    apr_pool_create(&rp, p);
    for (n = 0; n < BATCH && !stopping; n++) {
        apr_pool_clear(rp);
        if ((rc = ta_outbox_claim(q->outbox, rp, &row)) <= 0) {
            break;
        }
        if (deliver(q, rp, &row) != 0 || !ta_outbox_connected(q->outbox)) {
            break;
        }
    }
    apr_pool_destroy(rp);
    if (!ta_outbox_connected(q->outbox) || rc < 0) {
        db_lost(q);
        return;
    }
    if (q->due) {                      /* the relay failed: wait for the retry */
        return;
    }
    if (n == BATCH) {
        q->due = apr_time_now();
        return;
    }
    due = ta_outbox_next_due(q->outbox);
    if (!ta_outbox_connected(q->outbox)) {
        db_lost(q);
        return;
    }
    q->due = apr_time_now() + (due < 0 ? POLL_EVERY : due < BUSY_RECHECK ? BUSY_RECHECK : due);
}

/* Sleeps until wake, a NOTIFY, or a signal. */
static void wait_until(queue_t *queues, apr_time_t wake)
{
    apr_time_t now = apr_time_now();
    struct timeval tv;
    fd_set fds;
    queue_t *q;
    int maxfd = wake_pipe[0];
    char buf[16];

    /* A NOTIFY that arrived while a query ran (the claim, the update of a
     * failed row) is in libpq's queue already: the socket will not become
     * readable for it, and the new mail would wait for the next look. */
    for (q = queues; q; q = q->next) {
        if (ta_outbox_connected(q->outbox)) {
            int n = ta_outbox_drain(q->outbox);

            if (n < 0) {
                db_lost(q);
                return;
            }
            if (n > 0) {
                q->due = 0;
                return;
            }
        }
    }
    FD_ZERO(&fds);
    FD_SET(wake_pipe[0], &fds);
    for (q = queues; q; q = q->next) {
        int fd = ta_outbox_socket(q->outbox);
        if (fd >= 0 && fd < FD_SETSIZE) {
            FD_SET(fd, &fds);
            maxfd = fd > maxfd ? fd : maxfd;
        }
    }
    if (wake < now) {
        wake = now;
    }
    tv.tv_sec = (time_t)apr_time_sec(wake - now);
    tv.tv_usec = (suseconds_t)apr_time_usec(wake - now);
    if (stopping || select(maxfd + 1, &fds, NULL, NULL, &tv) <= 0) {
        return;
    }
    while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
        ;
    for (q = queues; q; q = q->next) {
        int fd = ta_outbox_socket(q->outbox);
        if (fd >= 0 && FD_ISSET(fd, &fds)) {
            if (ta_outbox_drain(q->outbox) < 0) {
                db_lost(q);
            }
            else {
                q->due = 0;            /* a NOTIFY: new mail */
            }
        }
    }
}

static int daemon_main(apr_pool_t *p, server_rec *s, queue_t *queues)
{
    queue_t *q;
    int rc;

    set_signals();
    /* The listening sockets are the children's, not ours. */
    ap_close_listeners();
    if (pipe(wake_pipe) != 0
        || fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK) != 0
        || fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, s, TA_LOGNO(1459)
                     "mail delivery process: no pipe");
        return DAEMON_STARTUP_ERROR;
    }
    if ((rc = ap_run_drop_privileges(p, s)) != OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, TA_LOGNO(1460)
                     "mail delivery process: cannot drop privileges (%d)", rc);
        return DAEMON_STARTUP_ERROR;
    }
#ifdef __linux__
    /* Named only now: a process called trpcauth-maild never runs as root
     * (the NSS lookups of initgroups() take milliseconds). */
    prctl(PR_SET_NAME, "trpcauth-maild", 0, 0, 0);
#endif
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, TA_LOGNO(1461)
                     "mail delivery process: libcurl does not start");
        return DAEMON_STARTUP_ERROR;
    }
    for (q = queues; q; q = q->next) {
        q->outbox = ta_outbox_create(p, q->conninfo);
        q->connect_wait = DB_RETRY_FIRST;
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, q->s, TA_LOGNO(1462)
                     "mail delivery process %" APR_PID_T_FMT " (uid %ld) sends the outbox "
                     "through %s%s%s", getpid(), (long)geteuid(), q->relay->redacted,
                     q->ca_file ? ", trusting the CAs of " : "", q->ca_file ? q->ca_file : "");
    }
    while (!stopping) {
        apr_time_t now = apr_time_now(), wake = now + POLL_EVERY;

        for (q = queues; q && !stopping; q = q->next) {
            if (!ta_outbox_connected(q->outbox) && now >= q->next_connect) {
                connect_queue(q);
            }
            if (ta_outbox_connected(q->outbox) && apr_time_now() >= q->due) {
                run_queue(q, p);
            }
            if (!ta_outbox_connected(q->outbox)) {
                wake = q->next_connect < wake ? q->next_connect : wake;
            }
            else {
                wake = q->due < wake ? q->due : wake;
            }
        }
        wait_until(queues, wake);
    }
    for (q = queues; q; q = q->next) {
        ta_outbox_close(q->outbox);
    }
    curl_global_cleanup();
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, TA_LOGNO(1463)
                 "mail delivery process %" APR_PID_T_FMT " stopped", getpid());
    return 0;
}

/* ------------------------------------------------------------------ */
/* the parent                                                          */

static void maintenance(int reason, void *data, apr_wait_t status);

static int fork_daemon(apr_proc_t *proc)
{
    pid_t pid = fork();

    if (pid < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, gen_server, TA_LOGNO(1464)
                     "cannot fork the mail delivery process; mail waits in the outbox");
        return -1;
    }
    if (pid == 0) {
        apr_pool_t *p;

        apr_pool_create(&p, gen_pool);
        /* _exit: the parent's pools (and their cleanups, which would kill the
         * parent's other subprocesses) are not ours to run. */
        _exit(daemon_main(p, gen_server, gen_queues));
    }
    proc->pid = pid;
    proc->in = proc->out = proc->err = NULL;
    started_at = apr_time_now();
    /* The generation's pool stops it: SIGTERM, then SIGKILL after 3 s. */
    apr_pool_note_subprocess(gen_pool, proc, APR_KILL_AFTER_TIMEOUT);
#if APR_HAS_OTHER_CHILD
    apr_proc_other_child_register(proc, maintenance, proc, NULL, gen_pool);
#endif
    return 0;
}

/* Called by the MPM in the parent (as mod_cgid's cgid_maint). */
static void maintenance(int reason, void *data, apr_wait_t status)
{
    apr_proc_t *proc = data;
    int mpm_state;

    switch (reason) {
    case APR_OC_REASON_DEATH:
        apr_proc_other_child_unregister(data);
        if (ap_mpm_query(AP_MPMQ_MPM_STATE, &mpm_state) != APR_SUCCESS
            || mpm_state == AP_MPMQ_STOPPING) {
            break;
        }
        if (status == DAEMON_STARTUP_ERROR) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, gen_server, TA_LOGNO(1465)
                         "the mail delivery process could not start; mail waits in the outbox "
                         "until Apache restarts");
            break;
        }
        quick_deaths = apr_time_now() - started_at < QUICK_DEATH ? quick_deaths + 1 : 0;
        if (quick_deaths >= QUICK_DEATHS_MAX) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, gen_server, TA_LOGNO(1466)
                         "the mail delivery process died %d times in a row right after its "
                         "start; not restarted until Apache restarts", quick_deaths);
            break;
        }
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, gen_server, TA_LOGNO(1467)
                     "the mail delivery process %" APR_PID_T_FMT " died (status %d); "
                     "restarting it", proc->pid, (int)status);
        fork_daemon(proc);
        break;
    case APR_OC_REASON_LOST:
        apr_proc_other_child_unregister(data);
        fork_daemon(proc);
        break;
    case APR_OC_REASON_RESTART:
        /* the generation ends: its pool stops the process */
        apr_proc_other_child_unregister(data);
        break;
    case APR_OC_REASON_UNREGISTER:
        /* the generation's pool is cleaned up */
        if (proc->pid > 0) {
            kill(proc->pid, SIGTERM);
        }
        break;
    }
}

void ta_maild_start(apr_pool_t *pconf, server_rec *s)
{
    queue_t *queues = make_queues(pconf, s);
    apr_proc_t *proc;

    if (queues == NULL) {
        return;
    }
    gen_pool = pconf;
    gen_server = s;
    gen_queues = queues;
    quick_deaths = 0;
    proc = apr_pcalloc(pconf, sizeof(*proc));
    fork_daemon(proc);
}
