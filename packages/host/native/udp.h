/* The UDP socket struct, shared by udp.c (which owns it) and the fast path (which sends on it). */
#ifndef WEAVE_UDP_H
#define WEAVE_UDP_H

#include <node_api.h>
#include <stdbool.h>

typedef struct udp_reader udp_reader_t;
typedef struct wn_fastpath wn_fastpath_t;

typedef struct udp_sock {
  int fd;       /* -1 once closed */
  int probe_fd; /* connected per EMSGSIZE to read IP_MTU */
  int pmtudisc; /* the IP_MTU_DISCOVER value currently set on fd */
  napi_env env;
  udp_reader_t *reader;
  wn_fastpath_t *fastpath; /* sends and filters received datagrams; NULL when none is attached */
} udp_sock_t;

/* Sets IP_MTU_DISCOVER for the next sends (DF or not) unless it is set already; 0 or an errno. */
int wn_udp_set_df(udp_sock_t *s, bool df);

#endif
