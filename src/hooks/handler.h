/*
 * hooks/handler.h - the tRPC endpoint (SetHandler trpcauth).
 */
#ifndef TA_HANDLER_H
#define TA_HANDLER_H

#include <httpd.h>

int ta_handler(request_rec *r);

/* translate_name and map_to_storage: a URL of a trpcauth location maps to no
 * file (a pseudo file name, no file system walk). */
int ta_handler_translate(request_rec *r);
int ta_handler_map_to_storage(request_rec *r);

/* r's location sets the tRPC handler (SetHandler trpcauth); usable in any
 * hook after the location walk, before r->handler itself is set. */
int ta_handler_is_ours(request_rec *r);

#endif
