/*
 * store/dbwarm.h - PostgreSQL connections ready before the load comes
 * (src/store/dbwarm.c).
 *
 * mod_dbd opens a connection when a request finds none idle, and apr_reslist
 * opens it while holding the pool's lock: every thread of the child that
 * wants or gives back a connection waits for the connect and for mod_dbd's
 * preparing of every statement. A step from idle to many clients thus puts
 * new connections on the path of many requests at once. apr_reslist also
 * closes, when it hands it out, a connection that sat idle for DBDExptime, so
 * a server that was quiet for five minutes (the default) starts cold again.
 *
 * The warmer, one thread per child, takes `count` connections of each mod_dbd
 * pool the module uses at once (mod_dbd opens the missing ones, with their
 * prepared statements), runs the module's read statements once on each (the
 * backend's caches and plans), and gives them back; then, every
 * DBDExptime / 2, at a moment when no request of the child holds one, it
 * takes and returns them again, so that none expires idle.
 */
#ifndef TA_DBWARM_H
#define TA_DBWARM_H

#include <httpd.h>

typedef struct ta_dbwarm ta_dbwarm_t;

/* A warmer for the child whose pool is pchild; nothing runs yet. */
ta_dbwarm_t *ta_dbwarm_create(apr_pool_t *pchild);

/* Keeps count connections of server s's mod_dbd pool ready; exptime_s is the
 * pool's DBDExptime (0: connections never expire). count must not exceed
 * the pool's DBDMax, or the warmer would wait for itself. */
void ta_dbwarm_add(ta_dbwarm_t *w, server_rec *s, int count, int exptime_s);

/* Starts the thread when anything was added (so after mod_dbd's child_init,
 * which makes the pools); a pre-cleanup of pchild stops and joins it. */
void ta_dbwarm_start(ta_dbwarm_t *w, server_rec *s);

#endif
