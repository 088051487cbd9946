/*
 * The sleeve fast path (fastpath.c): a flow cache that moves established unicast frames between a TAP
 * and the sleeve's UDP socket without calling into JavaScript. JS stays the authority: it registers
 * connections and offers the flows it has just forwarded itself; anything else goes to JS as before.
 */
#ifndef WEAVE_FASTPATH_H
#define WEAVE_FASTPATH_H

#include <netinet/in.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "udp.h"

/* The fast path behind a JS handle, or NULL with a pending TypeError. */
wn_fastpath_t *wn_fastpath_get(napi_env env, napi_value v);

/*
 * Attaches the TAP reader whose fast-path pointer is *slot (set here, cleared when the fast path
 * closes); false if one is attached already. The reader calls wn_fastpath_detach_tap when it stops.
 */
bool wn_fastpath_attach_tap(wn_fastpath_t *fp, wn_fastpath_t **slot, int tap_fd, uint32_t max_frames);
void wn_fastpath_detach_tap(wn_fastpath_t *fp);
/* Attaches the UDP socket (sets s->fastpath); false if one is attached already. */
bool wn_fastpath_attach_sock(wn_fastpath_t *fp, udp_sock_t *s);
void wn_fastpath_detach_sock(wn_fastpath_t *fp);

/*
 * Sends the captured frames it has flows for and removes them from the batch (frames back to back
 * in `arena`, little-endian lengths in `lengths`); returns how many are left, *bytes their total.
 */
uint32_t wn_fastpath_egress(wn_fastpath_t *fp, uint8_t *arena, uint32_t *lengths, uint32_t count, size_t *bytes);

/* Delivers the received datagrams it has flows for to the TAP and removes them; returns how many are left. */
uint32_t wn_fastpath_ingress(wn_fastpath_t *fp, struct mmsghdr *msgs, struct iovec *iovs, struct sockaddr_in *addrs,
                             uint32_t count);

#endif
