/*
 * build-aux/module-export.h - force-included (-include) into every unit of
 * mod_trpcauth.so by Makefile.apxs.
 *
 * The module is compiled with -fvisibility=hidden so that none of its own
 * functions reach the dynamic symbol table, where they could collide with
 * another module's symbols or be interposed. httpd finds a module by
 * dlsym()ing its record ("trpcauth_module"), so that one symbol must stay
 * visible. On Unix ap_config.h defines AP_MODULE_DECLARE_DATA as nothing (it
 * is __declspec(dllexport) only on Windows), so it is redefined here, once
 * and before any httpd header, to give default visibility to whatever is
 * declared with it: the module record and its extern declarations.
 */
#ifndef TA_MODULE_EXPORT_H
#define TA_MODULE_EXPORT_H

#include <ap_config.h>

#undef AP_MODULE_DECLARE_DATA
#define AP_MODULE_DECLARE_DATA __attribute__((visibility("default")))

#endif
