/* The uv_poll plumbing shared by the addon's batch readers; see poll_reader.h. */
#include <errno.h>

#include "poll_reader.h"

static void on_poll(uv_poll_t *handle, int status, int events) {
  wn_poller_t *p = handle->data;
  if (p->active) p->on_readable(p, status);
}

static void on_handle_closed(uv_handle_t *handle) {
  wn_poller_t *p = handle->data;
  p->on_closed(p);
}

bool wn_poller_start(wn_poller_t *p, napi_env env, int fd, const char *resource_name, napi_value callback) {
  uv_loop_t *loop;
  napi_value name;
  p->poll.data = p;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
      napi_create_string_utf8(env, resource_name, NAPI_AUTO_LENGTH, &name) != napi_ok) {
    wn_throw_napi_failure(env, "napi_get_uv_event_loop");
    p->on_closed(p);
    return false;
  }
  int rc = uv_poll_init(loop, &p->poll, fd);
  if (rc != 0) {
    wn_throw_errno(env, -rc, "uv_poll_init");
    p->on_closed(p); /* the handle never opened: nothing for libuv to close */
    return false;
  }
  p->env = env;
  rc = uv_poll_start(&p->poll, UV_READABLE, on_poll);
  if (rc != 0 || napi_async_init(env, NULL, name, &p->async) != napi_ok) {
    uv_close((uv_handle_t *)&p->poll, on_handle_closed);
    if (rc != 0)
      wn_throw_errno(env, -rc, "uv_poll_start");
    else
      wn_throw_napi_failure(env, "napi_async_init");
    return false;
  }
  if (napi_create_reference(env, callback, 1, &p->callback) != napi_ok) {
    napi_async_destroy(env, p->async);
    uv_close((uv_handle_t *)&p->poll, on_handle_closed);
    wn_throw_napi_failure(env, "napi_create_reference");
    return false;
  }
  p->active = true;
  return true;
}

void wn_poller_shutdown(wn_poller_t *p) {
  if (!p->active) return;
  p->active = false;
  uv_poll_stop(&p->poll);
  napi_delete_reference(p->env, p->callback);
  napi_async_destroy(p->env, p->async);
  uv_close((uv_handle_t *)&p->poll, on_handle_closed);
}

void wn_poller_ref(wn_poller_t *p, bool ref) {
  if (!p->active) return;
  if (ref)
    uv_ref((uv_handle_t *)&p->poll);
  else
    uv_unref((uv_handle_t *)&p->poll);
}

void wn_poller_emit(wn_poller_t *p, napi_value err, napi_value data, napi_value meta) {
  napi_env env = p->env;
  napi_value cb, global, result, argv[3] = {err, data, meta};
  if (napi_get_reference_value(env, p->callback, &cb) != napi_ok || napi_get_global(env, &global) != napi_ok)
    return;
  /* The receiver must be an object: with `undefined` napi_make_callback fails and drops the batch. */
  if (napi_make_callback(env, p->async, global, cb, 3, argv, &result) == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
}
