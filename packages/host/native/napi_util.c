/* Helpers shared by the weave-ts host addon. */
#include "napi_util.h"

#include <stdio.h>
#include <string.h>

napi_value wn_errno_error(napi_env env, int err, const char *syscall) {
  char text[160];
  snprintf(text, sizeof text, "%s: %s", syscall, strerror(err));
  napi_value msg, error, num, sys;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, NULL, msg, &error) != napi_ok ||
      napi_create_int32(env, err, &num) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys) != napi_ok)
    return NULL;
  napi_set_named_property(env, error, "errno", num);
  napi_set_named_property(env, error, "syscall", sys);
  return error;
}

napi_value wn_throw_errno(napi_env env, int err, const char *syscall) {
  napi_value error = wn_errno_error(env, err, syscall);
  if (error == NULL)
    napi_throw_error(env, NULL, syscall);
  else
    napi_throw(env, error);
  return NULL;
}

napi_value wn_throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

void wn_throw_napi_failure(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char text[200];
  snprintf(text, sizeof text, "N-API call failed (%s): %s", what,
           info && info->error_message ? info->error_message : "unknown");
  napi_throw_error(env, NULL, text);
}

static napi_value type_error(napi_env env, const char *name, const char *expected) {
  char text[120];
  snprintf(text, sizeof text, "%s must be %s", name, expected);
  return wn_throw_type(env, text);
}

bool wn_get_int32(napi_env env, napi_value v, int32_t *out, const char *name) {
  if (napi_get_value_int32(env, v, out) == napi_ok) return true;
  type_error(env, name, "a number");
  return false;
}

bool wn_get_uint32(napi_env env, napi_value v, uint32_t *out, const char *name) {
  if (napi_get_value_uint32(env, v, out) == napi_ok) return true;
  type_error(env, name, "a number");
  return false;
}

bool wn_get_bool(napi_env env, napi_value v, bool *out, const char *name) {
  if (napi_get_value_bool(env, v, out) == napi_ok) return true;
  type_error(env, name, "a boolean");
  return false;
}

bool wn_get_string(napi_env env, napi_value v, char *buf, size_t cap, const char *name) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    type_error(env, name, "a string");
    return false;
  }
  if (len + 1 > cap) {
    type_error(env, name, "a shorter string");
    return false;
  }
  return napi_get_value_string_utf8(env, v, buf, cap, &len) == napi_ok;
}

bool wn_get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len, const char *name) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *ptr = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    type_error(env, name, "a Uint8Array");
    return false;
  }
  *data = ptr;
  return true;
}

const napi_type_tag WN_TAG_UDP_SOCKET = {0x7765617665756470ULL, 0x736f636b65740001ULL};
const napi_type_tag WN_TAG_FAST_PATH = {0x7765617665667374ULL, 0x7061746800000001ULL};
const napi_type_tag WN_TAG_TAP_READER = {0x7765617665746170ULL, 0x7265616465720001ULL};

bool wn_create_tagged_external(napi_env env, void *data, napi_finalize finalize, const napi_type_tag *tag,
                               napi_value *out) {
  if (napi_create_external(env, data, finalize, NULL, out) != napi_ok) {
    wn_throw_napi_failure(env, "napi_create_external");
    return false;
  }
  if (napi_type_tag_object(env, *out, tag) != napi_ok)
    napi_fatal_error("weave_host", NAPI_AUTO_LENGTH, "cannot type-tag a new handle", NAPI_AUTO_LENGTH);
  return true;
}

bool wn_tagged_external(napi_env env, napi_value v, const napi_type_tag *tag, void **out) {
  napi_valuetype type;
  bool tagged = false;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external) return false;
  if (napi_check_object_type_tag(env, v, tag, &tagged) != napi_ok || !tagged) return false;
  return napi_get_value_external(env, v, out) == napi_ok;
}

void wn_wipe(void *p, size_t n) {
  explicit_bzero(p, n);
}

bool wn_export(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f) == napi_ok &&
         napi_set_named_property(env, exports, name, f) == napi_ok;
}
