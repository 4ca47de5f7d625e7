/*
 * addr.c - client addresses reduced to what rate limits count.
 */
#include "util/addr.h"

#include <apr_strings.h>

#include <arpa/inet.h>
#include <string.h>

const char *ta_addr_subject(apr_pool_t *p, const char *ip)
{
    struct in6_addr a6;
    struct in_addr a4;
    char text[INET6_ADDRSTRLEN];
    const char *zone;

    if (ip == NULL || inet_pton(AF_INET, ip, &a4) == 1) {
        return ip;
    }
    zone = strchr(ip, '%');
    if (inet_pton(AF_INET6, zone ? apr_pstrmemdup(p, ip, (apr_size_t)(zone - ip)) : ip,
                  &a6) != 1) {
        return ip;
    }
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
        return inet_ntop(AF_INET, &a4, text, sizeof(text)) ? apr_pstrdup(p, text) : ip;
    }
    memset(&a6.s6_addr[8], 0, 8);
    return inet_ntop(AF_INET6, &a6, text, sizeof(text))
           ? apr_pstrcat(p, text, "/64", NULL) : ip;
}
