/*
 * The uv_poll plumbing shared by the addon's batch readers (TAP frames, UDP datagrams): a poll handle
 * on a non-blocking fd, the JS callback it reports to, and an orderly shutdown. The owner embeds a
 * wn_poller_t as its FIRST member and supplies what to do when the fd is readable and how to free
 * itself once libuv has closed the handle.
 */
#ifndef WEAVE_POLL_READER_H
#define WEAVE_POLL_READER_H

#include <uv.h>

#include "napi_util.h"

typedef struct wn_poller wn_poller_t;

struct wn_poller {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  bool active; /* started and not yet shut down: callbacks may run */
  /* Called on every wake-up while active; `status` is libuv's (negative errno on a poll error). */
  void (*on_readable)(wn_poller_t *p, int status);
  /* Frees the owner; runs once, after the handle is closed (or right away if it never opened). */
  void (*on_closed)(wn_poller_t *p);
};

/*
 * Starts polling `fd` for readability and keeps `callback` alive for wn_poller_emit. The owner has set
 * on_readable and on_closed. On failure a JS error is pending, on_closed has run or will run, and
 * false is returned.
 */
bool wn_poller_start(wn_poller_t *p, napi_env env, int fd, const char *resource_name, napi_value callback);

/* Stops polling and releases the JS references; on_closed follows once libuv has closed the handle. */
void wn_poller_shutdown(wn_poller_t *p);

/* Keeps (or stops keeping) the event loop alive while the reader is active. */
void wn_poller_ref(wn_poller_t *p, bool ref);

/*
 * Calls the JS callback as cb(err, data, meta) in the reader's async context (call inside a handle
 * scope). An exception it throws is raised as uncaught, as for any event callback.
 */
void wn_poller_emit(wn_poller_t *p, napi_value err, napi_value data, napi_value meta);

#endif
