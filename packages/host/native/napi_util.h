/* Small helpers shared by the weave-ts host addon: argument parsing and errno errors. */
#ifndef WEAVE_NAPI_UTIL_H
#define WEAVE_NAPI_UTIL_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Evaluate an N-API call; on failure raise a JS error (unless one is pending) and return NULL. */
#define NAPI_CHECK(env, call)                        \
  do {                                               \
    if ((call) != napi_ok) {                         \
      wn_throw_napi_failure((env), #call);           \
      return NULL;                                   \
    }                                                \
  } while (0)

/* Declares argc/argv and reads up to `n` arguments of the current call (returns NULL on failure). */
#define WN_ARGS(n)                   \
  size_t argc = (n);                 \
  napi_value argv[(n)];              \
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

/* Throws `Error("<syscall>: <strerror>")` with numeric `errno` and string `syscall` properties. */
napi_value wn_throw_errno(napi_env env, int err, const char *syscall);
/* Builds (without throwing) the error wn_throw_errno would throw. */
napi_value wn_errno_error(napi_env env, int err, const char *syscall);
/* Throws a TypeError naming the offending argument. */
napi_value wn_throw_type(napi_env env, const char *message);
/* Raises an error describing a failed N-API call, unless an exception is already pending. */
void wn_throw_napi_failure(napi_env env, const char *what);

/* Argument readers: return false (with a pending TypeError) when the value has the wrong type. */
bool wn_get_int32(napi_env env, napi_value v, int32_t *out, const char *name);
bool wn_get_uint32(napi_env env, napi_value v, uint32_t *out, const char *name);
bool wn_get_bool(napi_env env, napi_value v, bool *out, const char *name);
/* Copies a UTF-8 string into buf (capacity cap, NUL included); fails if it does not fit. */
bool wn_get_string(napi_env env, napi_value v, char *buf, size_t cap, const char *name);
/* Data pointer and length of a Uint8Array (Buffer included), honouring its byte offset. */
bool wn_get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len, const char *name);

/* Type tags of the addon's handles (napi_external values): a handle of one kind passed where another
 * is expected, or a foreign external, is refused instead of being cast. */
extern const napi_type_tag WN_TAG_UDP_SOCKET;
extern const napi_type_tag WN_TAG_FAST_PATH;
extern const napi_type_tag WN_TAG_TAP_READER;
/* napi_create_external, then tags it. Returns false (error pending, `data` still the caller's) when
 * the external cannot be made; tagging a fresh external cannot fail short of a broken runtime, which
 * aborts (the external would already own `data`). */
bool wn_create_tagged_external(napi_env env, void *data, napi_finalize finalize, const napi_type_tag *tag,
                               napi_value *out);
/* The data of `v` if it is an external tagged `tag`; false (no exception) otherwise. */
bool wn_tagged_external(napi_env env, napi_value v, const napi_type_tag *tag, void **out);
/* Overwrites secrets in a way the compiler may not drop as a dead store. */
void wn_wipe(void *p, size_t n);

/* Registers one function property on `exports`. */
bool wn_export(napi_env env, napi_value exports, const char *name, napi_callback fn);

#endif
