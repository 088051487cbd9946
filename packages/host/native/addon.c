/* Entry point of the weave-ts host addon: TAP devices (tap.c), gratuitous ARP (garp.c), batched UDP
 * sockets (udp.c), NaCl secretbox (secretbox.c) and the sleeve fast path (fastpath.c). */
#include "napi_util.h"

napi_value tap_open(napi_env env, napi_callback_info info);
napi_value tap_write(napi_env env, napi_callback_info info);
napi_value fd_close(napi_env env, napi_callback_info info);
napi_value reader_start(napi_env env, napi_callback_info info);
napi_value reader_stop(napi_env env, napi_callback_info info);
napi_value reader_ref(napi_env env, napi_callback_info info);
napi_value garp_send(napi_env env, napi_callback_info info);
napi_value udp_open(napi_env env, napi_callback_info info);
napi_value udp_send(napi_env env, napi_callback_info info);
napi_value udp_recv_start(napi_env env, napi_callback_info info);
napi_value udp_ref(napi_env env, napi_callback_info info);
napi_value udp_close(napi_env env, napi_callback_info info);
napi_value secretbox_seal(napi_env env, napi_callback_info info);
napi_value secretbox_open(napi_env env, napi_callback_info info);
napi_value reader_set_fastpath(napi_env env, napi_callback_info info);
napi_value udp_set_fastpath(napi_env env, napi_callback_info info);
napi_value fastpath_create(napi_env env, napi_callback_info info);
napi_value fastpath_close(napi_env env, napi_callback_info info);
napi_value fastpath_conn_add(napi_env env, napi_callback_info info);
napi_value fastpath_conn_remove(napi_env env, napi_callback_info info);
napi_value fastpath_conn_set(napi_env env, napi_callback_info info);
napi_value fastpath_offer_send(napi_env env, napi_callback_info info);
napi_value fastpath_offer_deliver(napi_env env, napi_callback_info info);
napi_value fastpath_flush(napi_env env, napi_callback_info info);
napi_value fastpath_stats(napi_env env, napi_callback_info info);
napi_value fastpath_seal(napi_env env, napi_callback_info info);
napi_value fastpath_open(napi_env env, napi_callback_info info);

NAPI_MODULE_INIT() {
  if (!wn_export(env, exports, "tapOpen", tap_open) || !wn_export(env, exports, "tapWrite", tap_write) ||
      !wn_export(env, exports, "fdClose", fd_close) || !wn_export(env, exports, "readerStart", reader_start) ||
      !wn_export(env, exports, "readerStop", reader_stop) || !wn_export(env, exports, "readerRef", reader_ref) ||
      !wn_export(env, exports, "garpSend", garp_send) || !wn_export(env, exports, "udpOpen", udp_open) ||
      !wn_export(env, exports, "udpSend", udp_send) || !wn_export(env, exports, "udpRecvStart", udp_recv_start) ||
      !wn_export(env, exports, "udpRef", udp_ref) || !wn_export(env, exports, "udpClose", udp_close) ||
      !wn_export(env, exports, "secretboxSeal", secretbox_seal) ||
      !wn_export(env, exports, "secretboxOpen", secretbox_open))
    return NULL;
  static const struct {
    const char *name;
    napi_callback fn;
  } fastpath[] = {
      {"readerSetFastpath", reader_set_fastpath}, {"udpSetFastpath", udp_set_fastpath},
      {"fastpathCreate", fastpath_create},        {"fastpathClose", fastpath_close},
      {"fastpathConnAdd", fastpath_conn_add},     {"fastpathConnRemove", fastpath_conn_remove},
      {"fastpathConnSet", fastpath_conn_set},     {"fastpathOfferSend", fastpath_offer_send},
      {"fastpathOfferDeliver", fastpath_offer_deliver}, {"fastpathFlush", fastpath_flush},
      {"fastpathStats", fastpath_stats},          {"fastpathSeal", fastpath_seal},
      {"fastpathOpen", fastpath_open},
  };
  for (size_t i = 0; i < sizeof fastpath / sizeof fastpath[0]; i++)
    if (!wn_export(env, exports, fastpath[i].name, fastpath[i].fn)) return NULL;
  return exports;
}
