/*
 * TAP devices for the weave-ts sleeve datapath.
 *
 *   tapOpen(name, vnetHdr, offload)  -> [fd, actualName]     open /dev/net/tun + TUNSETIFF (+ TUNSETOFFLOAD)
 *   tapWrite(fd, frames[], start)    -> frames written       one write(2) per frame, stops at EAGAIN
 *   readerStart(fd, maxFrames, maxFrameSize, cb) -> handle   uv_poll reader, one cb per wake-up
 *   readerRef(handle, bool)                                  keep / stop keeping the loop alive
 *   readerStop(handle)                                       no callback after this returns
 *   fdClose(fd)
 *
 * The reader drains read(2) until EAGAIN (at most maxFrames frames) into one arena, copies the arena
 * into a single Buffer and calls cb(errno, data, lengths) once: `lengths` is a Buffer of little-endian
 * uint32 frame lengths, frames lie back to back in `data`. A read error other than EAGAIN stops the
 * reader and is reported as a non-zero errno, after the frames read before it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

#include "fastpath.h"
#include "napi_util.h"
#include "poll_reader.h"

typedef struct reader reader_t;

/* What JS holds: the reader may be gone (stopped and freed) while JS still has the handle. */
typedef struct box {
  reader_t *reader;
} box_t;

struct reader {
  wn_poller_t poller; /* first: the poller's callbacks cast it back to the reader */
  box_t *box;
  int fd;
  uint32_t max_frames;
  uint32_t max_frame_size;
  uint8_t *arena;
  uint32_t *lengths;
  wn_fastpath_t *fastpath; /* takes the frames it has flows for; NULL when none is attached */
};

napi_value tap_open(napi_env env, napi_callback_info info) {
  WN_ARGS(3);
  char name[IFNAMSIZ];
  bool vnet_hdr = false;
  uint32_t offload = 0;
  if (argc < 3 || !wn_get_string(env, argv[0], name, sizeof name, "name") ||
      !wn_get_bool(env, argv[1], &vnet_hdr, "vnetHdr") || !wn_get_uint32(env, argv[2], &offload, "offload"))
    return NULL;

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return wn_throw_errno(env, errno, "open /dev/net/tun");

  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name, strlen(name)); /* fits: wn_get_string checked the length */
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return wn_throw_errno(env, err, "ioctl TUNSETIFF");
  }
  if (vnet_hdr && offload != 0 && ioctl(fd, TUNSETOFFLOAD, (unsigned long)offload) < 0) {
    int err = errno;
    close(fd);
    return wn_throw_errno(env, err, "ioctl TUNSETOFFLOAD");
  }

  napi_value result, jfd, jname;
  NAPI_CHECK(env, napi_create_array_with_length(env, 2, &result));
  NAPI_CHECK(env, napi_create_int32(env, fd, &jfd));
  ifr.ifr_name[IFNAMSIZ - 1] = '\0';
  NAPI_CHECK(env, napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &jname));
  NAPI_CHECK(env, napi_set_element(env, result, 0, jfd));
  NAPI_CHECK(env, napi_set_element(env, result, 1, jname));
  return result;
}

napi_value tap_write(napi_env env, napi_callback_info info) {
  WN_ARGS(3);
  int32_t fd;
  uint32_t start = 0, count = 0;
  bool is_array = false;
  if (argc < 3 || !wn_get_int32(env, argv[0], &fd, "fd") || !wn_get_uint32(env, argv[2], &start, "start"))
    return NULL;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array)
    return wn_throw_type(env, "frames must be an array");
  NAPI_CHECK(env, napi_get_array_length(env, argv[1], &count));

  uint32_t i = start;
  for (; i < count; i++) {
    napi_value item;
    uint8_t *data;
    size_t len;
    NAPI_CHECK(env, napi_get_element(env, argv[1], i, &item));
    if (!wn_get_bytes(env, item, &data, &len, "frame")) return NULL;
    ssize_t n;
    do n = write(fd, data, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      /* Tell JS how many frames went out before the failing one. */
      napi_value error = wn_errno_error(env, errno, "write"), written;
      if (error == NULL) return wn_throw_errno(env, errno, "write");
      NAPI_CHECK(env, napi_create_uint32(env, i - start, &written));
      NAPI_CHECK(env, napi_set_named_property(env, error, "written", written));
      napi_throw(env, error);
      return NULL;
    }
  }
  napi_value written;
  NAPI_CHECK(env, napi_create_uint32(env, i - start, &written));
  return written;
}

napi_value fd_close(napi_env env, napi_callback_info info) {
  WN_ARGS(1);
  int32_t fd;
  if (argc < 1 || !wn_get_int32(env, argv[0], &fd, "fd")) return NULL;
  /* Linux releases the descriptor even when close reports EINTR, so never retry. */
  if (close(fd) < 0 && errno != EINTR) return wn_throw_errno(env, errno, "close");
  return NULL;
}

static void on_reader_closed(wn_poller_t *p) {
  reader_t *r = (reader_t *)p;
  free(r->arena);
  free(r->lengths);
  free(r);
}

/* Detaches the reader from its JS handle and shuts the poller down; memory goes once libuv closed it. */
static void reader_shutdown(reader_t *r) {
  if (!r->poller.active) return;
  if (r->fastpath != NULL) wn_fastpath_detach_tap(r->fastpath);
  if (r->box != NULL) r->box->reader = NULL;
  r->box = NULL;
  wn_poller_shutdown(&r->poller);
}

static void on_env_teardown(void *arg) { reader_shutdown(arg); }

static void deliver(reader_t *r, int err, size_t bytes, uint32_t frames) {
  napi_env env = r->poller.env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value jerr, data, lengths;
  void *ignored;
  if (napi_create_int32(env, err, &jerr) == napi_ok &&
      napi_create_buffer_copy(env, bytes, r->arena, &ignored, &data) == napi_ok &&
      napi_create_buffer_copy(env, frames * sizeof(uint32_t), r->lengths, &ignored, &lengths) == napi_ok)
    wn_poller_emit(&r->poller, jerr, data, lengths);
  napi_close_handle_scope(env, scope);
}

static void on_readable(wn_poller_t *p, int status) {
  reader_t *r = (reader_t *)p;
  int err = status < 0 ? -status : 0;
  size_t offset = 0;
  uint32_t frames = 0;
  while (err == 0 && frames < r->max_frames) {
    ssize_t n = read(r->fd, r->arena + offset, r->max_frame_size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    if (n == 0) {
      err = EPIPE; /* a TAP never returns EOF while its device exists */
      break;
    }
    r->lengths[frames++] = htole32((uint32_t)n);
    offset += (size_t)n;
  }
  if (frames > 0 && r->fastpath != NULL) frames = wn_fastpath_egress(r->fastpath, r->arena, r->lengths, frames, &offset);
  if (err != 0) {
    /* Keep the JS reference alive for the final callback, but stop the poll so we never spin. */
    uv_poll_stop(&r->poller.poll);
  }
  if (frames > 0 || err != 0) deliver(r, err, offset, frames);
}

/* The JS handle was collected: the reader (if still running) forgets its box. */
static void finalize_box(napi_env env, void *data, void *hint) {
  box_t *box = data;
  if (box->reader != NULL) box->reader->box = NULL;
  free(box);
}

napi_value reader_start(napi_env env, napi_callback_info info) {
  WN_ARGS(4);
  int32_t fd;
  uint32_t max_frames, max_frame_size;
  napi_valuetype cb_type;
  if (argc < 4 || !wn_get_int32(env, argv[0], &fd, "fd") ||
      !wn_get_uint32(env, argv[1], &max_frames, "maxFrames") ||
      !wn_get_uint32(env, argv[2], &max_frame_size, "maxFrameSize"))
    return NULL;
  if (max_frames == 0 || max_frames > 1024 || max_frame_size < 64 || max_frame_size > 262144)
    return wn_throw_type(env, "maxFrames must be 1..1024 and maxFrameSize 64..262144");
  NAPI_CHECK(env, napi_typeof(env, argv[3], &cb_type));
  if (cb_type != napi_function) return wn_throw_type(env, "callback must be a function");

  napi_value handle;
  reader_t *r = calloc(1, sizeof *r);
  box_t *box = calloc(1, sizeof *box);
  if (r != NULL && box != NULL) {
    /* Pages of the arena are only committed once a batch actually reaches them. */
    r->arena = malloc((size_t)max_frames * max_frame_size);
    r->lengths = malloc((size_t)max_frames * sizeof(uint32_t));
  }
  if (r == NULL || box == NULL || r->arena == NULL || r->lengths == NULL) {
    if (r != NULL) on_reader_closed(&r->poller);
    free(box);
    return wn_throw_errno(env, ENOMEM, "malloc");
  }
  r->fd = fd;
  r->max_frames = max_frames;
  r->max_frame_size = max_frame_size;
  r->poller.on_readable = on_readable;
  r->poller.on_closed = on_reader_closed;
  if (!wn_poller_start(&r->poller, env, fd, "WeaveTapReader", argv[3])) {
    free(box);
    return NULL;
  }
  if (!wn_create_tagged_external(env, box, finalize_box, &WN_TAG_TAP_READER, &handle)) {
    wn_poller_shutdown(&r->poller);
    free(box);
    return NULL;
  }
  r->box = box;
  box->reader = r;
  napi_add_env_cleanup_hook(env, on_env_teardown, r);
  return handle;
}

static reader_t *get_reader(napi_env env, napi_value v) {
  void *data = NULL;
  if (!wn_tagged_external(env, v, &WN_TAG_TAP_READER, &data)) {
    wn_throw_type(env, "handle must be a reader handle");
    return NULL;
  }
  return ((box_t *)data)->reader;
}

napi_value reader_stop(napi_env env, napi_callback_info info) {
  WN_ARGS(1);
  if (argc < 1) return wn_throw_type(env, "handle is required");
  reader_t *r = get_reader(env, argv[0]);
  if (r == NULL || !r->poller.active) return NULL; /* already stopped, or a bad handle (TypeError pending) */
  napi_remove_env_cleanup_hook(env, on_env_teardown, r);
  reader_shutdown(r);
  return NULL;
}

napi_value reader_ref(napi_env env, napi_callback_info info) {
  WN_ARGS(2);
  bool ref;
  if (argc < 2) return wn_throw_type(env, "handle and ref are required");
  reader_t *r = get_reader(env, argv[0]);
  if (r == NULL || !wn_get_bool(env, argv[1], &ref, "ref")) return NULL;
  wn_poller_ref(&r->poller, ref);
  return NULL;
}

/* readerSetFastpath(handle, fastpath): frames with a flow in the fast path go out without JS. */
napi_value reader_set_fastpath(napi_env env, napi_callback_info info) {
  WN_ARGS(2);
  if (argc < 2) return wn_throw_type(env, "handle and fastpath are required");
  reader_t *r = get_reader(env, argv[0]);
  wn_fastpath_t *fp = r == NULL ? NULL : wn_fastpath_get(env, argv[1]);
  if (fp == NULL) return NULL;
  if (r->fastpath != NULL) return wn_throw_type(env, "the reader already has a fast path");
  if (!wn_fastpath_attach_tap(fp, &r->fastpath, r->fd, r->max_frames))
    return wn_throw_type(env, "the fast path already has a TAP");
  return NULL;
}
