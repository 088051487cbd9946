{
  "targets": [
    {
      "target_name": "weave_host",
      "sources": ["native/addon.c", "native/napi_util.c", "native/poll_reader.c", "native/tap.c", "native/garp.c", "native/udp.c", "native/secretbox.c", "native/fastpath.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
