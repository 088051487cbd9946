/*
 * Batched IPv4 UDP sockets for the weave-ts sleeve datapath.
 *
 *   udpOpen(netnsPath|null, host, port, rcvbuf, sndbuf) -> [handle, host, port, rcvbuf, sndbuf]
 *   udpSend(handle, datagrams[][], host, port, df)      -> [sent, pmtu, errno]
 *   udpRecvStart(handle, maxDatagrams, cb)               uv_poll + recvmmsg, one cb per wake-up
 *   udpRef(handle, bool)                                 keep / stop keeping the loop alive
 *   udpClose(handle)                                     idempotent; no callback after it returns
 *
 * Don't Fragment, one socket: Linux has no per-datagram DF control for IPv4; the choice is the socket
 * option IP_MTU_DISCOVER, read when a datagram is built inside sendmsg. Sends here are synchronous and
 * never corked, so switching the option (IP_PMTUDISC_DONT: never DF, the kernel fragments; IP_PMTUDISC_DO:
 * DF, refuse what exceeds the path MTU) right before a batch gives exactly that batch's DF setting, at
 * the cost of one setsockopt whenever consecutive batches differ. The alternatives are worse: a second
 * socket on the same port needs SO_REUSEPORT, which load-balances incoming datagrams between the two
 * sockets (and lets any other process of ours join the group); a raw socket like upstream's needs
 * CAP_NET_RAW and its own UDP header. One socket also means DF datagrams leave from the same source
 * port the peer learnt from our heartbeats.
 *
 * Path MTU on EMSGSIZE: IP_MTU is only defined for a connected socket, so each socket keeps a second,
 * never-read "probe" socket bound to the same local address; connect(2) on it does the same route
 * lookup a send does (including PMTU exceptions learnt from ICMP), and getsockopt(IP_MTU) reads the
 * result. The probe is created together with the main socket so it lives in the same namespace.
 *
 * Received batches: cb(errno, data, meta) where data holds the datagrams back to back and meta has
 * 12 bytes per datagram: uint32 LE length, the IPv4 source address (network order), uint16 BE
 * source port, 2 bytes zero.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "fastpath.h"
#include "napi_util.h"
#include "poll_reader.h"
#include "udp.h"

#define UDP_MAX_DATAGRAM 65536 /* an IPv4 UDP payload is at most 65507 bytes */
#define UDP_SEND_CHUNK 64      /* datagrams per sendmmsg call */
#define UDP_MAX_PARTS 1024     /* UIO_MAXIOV: buffers one datagram may be gathered from */
#define UDP_META_SIZE 12

struct udp_reader {
  wn_poller_t poller; /* first: the poller's callbacks cast it back to the reader */
  udp_sock_t *sock;   /* NULL once shut down */
  int fd;
  uint32_t max_datagrams;
  uint8_t *arena; /* max_datagrams slots of UDP_MAX_DATAGRAM bytes; pages are committed on first use */
  uint8_t *meta;
  struct mmsghdr *msgs;
  struct iovec *iovs;
  struct sockaddr_in *addrs;
};

/* ---- opening ---------------------------------------------------------------------------------- */

/* Runs socket(2) twice inside the namespace at ns_path (or here when NULL). Returns 0 or an errno. */
static int sockets_in(const char *ns_path, int *fd, int *probe, const char **failed) {
  int home = -1, target = -1, err = 0;
  *fd = *probe = -1;
  if (ns_path != NULL) {
    home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) return *failed = "open /proc/thread-self/ns/net", errno;
    target = open(ns_path, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      err = errno;
      close(home);
      return *failed = "open netns", err;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
      err = errno;
      close(target);
      close(home);
      return *failed = "setns", err;
    }
  }
  *fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (*fd < 0) err = errno, *failed = "socket";
  if (err == 0) {
    *probe = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*probe < 0) err = errno, *failed = "socket", close(*fd), *fd = -1;
  }
  if (ns_path != NULL) {
    /* A main thread left in another namespace would silently misroute everything after: never allow it. */
    if (setns(home, CLONE_NEWNET) < 0) {
      perror("weave-ts host addon: cannot return to the original network namespace");
      abort();
    }
    close(target);
    close(home);
  }
  return err;
}

/* Sets a buffer size, forcing past rmem_max/wmem_max when privileged; returns what the kernel took. */
static int set_buffer(int fd, int force_opt, int opt, uint32_t size) {
  int v = size > INT32_MAX / 2 ? INT32_MAX / 2 : (int)size;
  if (v > 0 && setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof v) < 0)
    setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v); /* best effort: capped by the sysctl */
  int actual = 0;
  socklen_t len = sizeof actual;
  getsockopt(fd, SOL_SOCKET, opt, &actual, &len);
  return actual;
}

static void sock_close_fds(udp_sock_t *s);

static void on_env_teardown(void *arg) { sock_close_fds(arg); }

static void finalize_sock(napi_env env, void *data, void *hint) {
  udp_sock_t *s = data;
  napi_remove_env_cleanup_hook(env, on_env_teardown, s);
  sock_close_fds(s);
  free(s);
}

static bool parse_ipv4(napi_env env, napi_value v, struct in_addr *out, const char *name) {
  char text[INET_ADDRSTRLEN];
  if (!wn_get_string(env, v, text, sizeof text, name)) return false;
  if (inet_pton(AF_INET, text, out) != 1) {
    wn_throw_type(env, "address must be an IPv4 address in dotted-quad form");
    return false;
  }
  return true;
}

napi_value udp_open(napi_env env, napi_callback_info info) {
  WN_ARGS(5);
  char ns_path[256];
  napi_valuetype ns_type;
  struct in_addr host;
  uint32_t port, rcvbuf, sndbuf;
  if (argc < 5) return wn_throw_type(env, "netnsPath, host, port, rcvbuf and sndbuf are required");
  NAPI_CHECK(env, napi_typeof(env, argv[0], &ns_type));
  bool in_ns = ns_type != napi_null && ns_type != napi_undefined;
  if ((in_ns && !wn_get_string(env, argv[0], ns_path, sizeof ns_path, "netnsPath")) ||
      !parse_ipv4(env, argv[1], &host, "host") || !wn_get_uint32(env, argv[2], &port, "port") ||
      !wn_get_uint32(env, argv[3], &rcvbuf, "rcvbuf") || !wn_get_uint32(env, argv[4], &sndbuf, "sndbuf"))
    return NULL;
  if (port > 65535) return wn_throw_type(env, "port must be 0..65535");

  const char *failed = "";
  int fd, probe;
  int err = sockets_in(in_ns ? ns_path : NULL, &fd, &probe, &failed);
  if (err != 0) return wn_throw_errno(env, err, failed);

  /* SO_REUSEADDR stays off: a second bind of the same address must fail with EADDRINUSE. */
  int dont = IP_PMTUDISC_DONT;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr = host;
  addr.sin_port = htons((uint16_t)port);
  if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof dont) < 0)
    err = errno, failed = "setsockopt IP_MTU_DISCOVER";
  else if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    err = errno, failed = "bind";
  else {
    /* The probe shares the local address (any port), so its route lookups match the main socket's. */
    addr.sin_port = 0;
    if (bind(probe, (struct sockaddr *)&addr, sizeof addr) < 0) err = errno, failed = "bind probe";
  }
  socklen_t addr_len = sizeof addr;
  if (err == 0 && getsockname(fd, (struct sockaddr *)&addr, &addr_len) < 0) err = errno, failed = "getsockname";
  if (err != 0) {
    close(fd);
    close(probe);
    return wn_throw_errno(env, err, failed);
  }
  int actual_rcv = set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
  int actual_snd = set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf);

  udp_sock_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    close(probe);
    return wn_throw_errno(env, ENOMEM, "malloc");
  }
  s->fd = fd;
  s->probe_fd = probe;
  s->pmtudisc = IP_PMTUDISC_DONT;
  s->env = env;
  napi_value handle, result, v;
  if (!wn_create_tagged_external(env, s, finalize_sock, &WN_TAG_UDP_SOCKET, &handle)) {
    close(fd);
    close(probe);
    free(s);
    return NULL;
  }
  napi_add_env_cleanup_hook(env, on_env_teardown, s);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr.sin_addr, text, sizeof text);
  NAPI_CHECK(env, napi_create_array_with_length(env, 5, &result));
  NAPI_CHECK(env, napi_set_element(env, result, 0, handle));
  NAPI_CHECK(env, napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v));
  NAPI_CHECK(env, napi_set_element(env, result, 1, v));
  NAPI_CHECK(env, napi_create_uint32(env, ntohs(addr.sin_port), &v));
  NAPI_CHECK(env, napi_set_element(env, result, 2, v));
  NAPI_CHECK(env, napi_create_int32(env, actual_rcv, &v));
  NAPI_CHECK(env, napi_set_element(env, result, 3, v));
  NAPI_CHECK(env, napi_create_int32(env, actual_snd, &v));
  NAPI_CHECK(env, napi_set_element(env, result, 4, v));
  return result;
}

static udp_sock_t *get_sock(napi_env env, napi_value v) {
  void *data = NULL;
  if (!wn_tagged_external(env, v, &WN_TAG_UDP_SOCKET, &data)) {
    wn_throw_type(env, "handle must be a UDP socket handle");
    return NULL;
  }
  return data;
}

/* ---- sending ---------------------------------------------------------------------------------- */

int wn_udp_set_df(udp_sock_t *s, bool df) {
  int want = df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
  if (s->pmtudisc == want) return 0;
  if (setsockopt(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, &want, sizeof want) < 0) return errno;
  s->pmtudisc = want;
  return 0;
}

/* The path MTU towards `to` as the kernel knows it, or -errno. */
static int path_mtu(udp_sock_t *s, const struct sockaddr_in *to) {
  if (connect(s->probe_fd, (const struct sockaddr *)to, sizeof *to) < 0) return -errno;
  int mtu = 0;
  socklen_t len = sizeof mtu;
  if (getsockopt(s->probe_fd, IPPROTO_IP, IP_MTU, &mtu, &len) < 0) return -errno;
  return mtu;
}

napi_value udp_send(napi_env env, napi_callback_info info) {
  WN_ARGS(5);
  struct in_addr host;
  uint32_t port, count = 0;
  bool df = false, is_array = false;
  if (argc < 5) return wn_throw_type(env, "handle, datagrams, host, port and df are required");
  udp_sock_t *s = get_sock(env, argv[0]);
  if (s == NULL || !parse_ipv4(env, argv[2], &host, "host") || !wn_get_uint32(env, argv[3], &port, "port") ||
      !wn_get_bool(env, argv[4], &df, "df"))
    return NULL;
  if (port == 0 || port > 65535) return wn_throw_type(env, "port must be 1..65535");
  if (s->fd < 0) return wn_throw_errno(env, EBADF, "sendmmsg");
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array)
    return wn_throw_type(env, "datagrams must be an array");
  NAPI_CHECK(env, napi_get_array_length(env, argv[1], &count));

  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_addr = host;
  to.sin_port = htons((uint16_t)port);

  int df_err = count > 0 ? wn_udp_set_df(s, df) : 0;
  if (df_err != 0) return wn_throw_errno(env, df_err, "setsockopt IP_MTU_DISCOVER");

  struct mmsghdr msgs[UDP_SEND_CHUNK];
  struct iovec iovs[UDP_SEND_CHUNK * 4];
  napi_value vals[UDP_SEND_CHUNK * 4];
  uint32_t nparts[UDP_SEND_CHUNK];
  struct iovec *iov_pool = iovs;
  napi_value *val_pool = vals;
  size_t iov_cap = sizeof iovs / sizeof iovs[0];
  /* Used when a chunk gathers more buffers than the static pools hold. */
  struct iovec *big = NULL;
  napi_value *big_vals = NULL;
  uint32_t sent = 0, done = 0;
  int last_err = 0;
  bool too_big = false, stop = false;

  while (done < count && !stop) {
    /* Pass 1: read every element of one chunk (at most UDP_SEND_CHUNK datagrams). Element reads may
     * run JS (getters), which may detach or move any buffer, so no buffer pointer is taken yet. */
    uint32_t m = 0;
    size_t used = 0;
    while (done + m < count && m < UDP_SEND_CHUNK) {
      napi_value dgram;
      uint32_t parts = 0;
      bool part_array = false;
      if (napi_get_element(env, argv[1], done + m, &dgram) != napi_ok ||
          napi_is_array(env, dgram, &part_array) != napi_ok || !part_array) {
        free(big);
        free(big_vals);
        return wn_throw_type(env, "each datagram must be an array of Uint8Arrays");
      }
      if (napi_get_array_length(env, dgram, &parts) != napi_ok || parts > UDP_MAX_PARTS) {
        free(big);
        free(big_vals);
        return wn_throw_type(env, "a datagram is gathered from at most 1024 buffers");
      }
      if (used + parts > iov_cap) {
        if (m > 0) break; /* send what we have; this datagram starts the next chunk */
        free(big);
        free(big_vals);
        big = malloc(parts * sizeof *big);
        big_vals = malloc(parts * sizeof *big_vals);
        if (big == NULL || big_vals == NULL) {
          free(big);
          free(big_vals);
          return wn_throw_errno(env, ENOMEM, "malloc");
        }
        iov_pool = big;
        val_pool = big_vals;
        iov_cap = parts;
      }
      for (uint32_t p = 0; p < parts; p++) {
        if (napi_get_element(env, dgram, p, &val_pool[used + p]) != napi_ok) {
          free(big);
          free(big_vals);
          wn_throw_napi_failure(env, "napi_get_element");
          return NULL;
        }
      }
      nparts[m] = parts;
      used += parts;
      m++;
    }
    /* A getter may have closed the socket. */
    if (s->fd < 0) {
      free(big);
      free(big_vals);
      return wn_throw_errno(env, EBADF, "sendmmsg");
    }
    /* Pass 2: no JS runs from here until sendmmsg returns, so the pointers and lengths stay valid. */
    used = 0;
    for (uint32_t k = 0; k < m; k++) {
      for (uint32_t p = 0; p < nparts[k]; p++) {
        uint8_t *data;
        size_t len;
        if (!wn_get_bytes(env, val_pool[used + p], &data, &len, "buffer")) {
          free(big);
          free(big_vals);
          return NULL;
        }
        iov_pool[used + p].iov_base = data;
        iov_pool[used + p].iov_len = len;
      }
      memset(&msgs[k], 0, sizeof msgs[k]);
      msgs[k].msg_hdr.msg_name = &to;
      msgs[k].msg_hdr.msg_namelen = sizeof to;
      msgs[k].msg_hdr.msg_iov = iov_pool + used;
      msgs[k].msg_hdr.msg_iovlen = nparts[k];
      used += nparts[k];
    }

    uint32_t i = 0;
    while (i < m) {
      int n = sendmmsg(s->fd, msgs + i, m - i, 0);
      if (n > 0) {
        i += (uint32_t)n;
        sent += (uint32_t)n;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      int err = n < 0 ? errno : EIO;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        /* The send buffer is full: the rest of the batch is dropped, as the network might have. */
        last_err = err;
        stop = true;
        break;
      }
      /* Skip the datagram that failed; the others may still go. */
      if (err == EMSGSIZE && df)
        too_big = true;
      else
        last_err = err;
      i++;
    }
    done += m;
    if (big != NULL) {
      free(big);
      free(big_vals);
      big = NULL;
      big_vals = NULL;
      iov_pool = iovs;
      val_pool = vals;
      iov_cap = sizeof iovs / sizeof iovs[0];
    }
  }

  int pmtu = too_big ? path_mtu(s, &to) : 0;
  napi_value result, v;
  NAPI_CHECK(env, napi_create_array_with_length(env, 3, &result));
  NAPI_CHECK(env, napi_create_uint32(env, sent, &v));
  NAPI_CHECK(env, napi_set_element(env, result, 0, v));
  NAPI_CHECK(env, napi_create_int32(env, pmtu, &v));
  NAPI_CHECK(env, napi_set_element(env, result, 1, v));
  NAPI_CHECK(env, napi_create_int32(env, last_err, &v));
  NAPI_CHECK(env, napi_set_element(env, result, 2, v));
  return result;
}

/* ---- receiving -------------------------------------------------------------------------------- */

static void on_reader_closed(wn_poller_t *p) {
  udp_reader_t *r = (udp_reader_t *)p;
  free(r->arena);
  free(r->meta);
  free(r->msgs);
  free(r->iovs);
  free(r->addrs);
  free(r);
}

/* Detaches the reader from its socket and shuts the poller down; memory goes once libuv closed it. */
static void reader_shutdown(udp_reader_t *r) {
  if (!r->poller.active) return;
  if (r->sock != NULL) r->sock->reader = NULL;
  r->sock = NULL;
  wn_poller_shutdown(&r->poller);
}

/* Stops the reader before the descriptors close: epoll would otherwise keep watching a dead fd. */
static void sock_close_fds(udp_sock_t *s) {
  if (s->reader != NULL) reader_shutdown(s->reader);
  if (s->fastpath != NULL) wn_fastpath_detach_sock(s->fastpath);
  if (s->fd >= 0) close(s->fd);
  if (s->probe_fd >= 0) close(s->probe_fd);
  s->fd = s->probe_fd = -1;
}

/* Errors a UDP socket reports once (a pending ICMP error, memory pressure): keep reading after them. */
static bool transient(int err) {
  return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN ||
         err == ENETDOWN || err == EPROTO || err == ENOMEM || err == ENOBUFS || err == EMSGSIZE;
}

static void deliver(udp_reader_t *r, int err, uint32_t count) {
  napi_env env = r->poller.env;
  size_t total = 0;
  for (uint32_t i = 0; i < count; i++) total += r->msgs[i].msg_len;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value jerr, jdata, meta;
  void *data = NULL, *ignored;
  if (napi_create_int32(env, err, &jerr) == napi_ok && napi_create_buffer(env, total, &data, &jdata) == napi_ok &&
      napi_create_buffer_copy(env, (size_t)count * UDP_META_SIZE, r->meta, &ignored, &meta) == napi_ok) {
    uint8_t *out = data;
    for (uint32_t i = 0; i < count; i++) {
      memcpy(out, r->iovs[i].iov_base, r->msgs[i].msg_len);
      out += r->msgs[i].msg_len;
    }
    wn_poller_emit(&r->poller, jerr, jdata, meta);
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(wn_poller_t *p, int status) {
  udp_reader_t *r = (udp_reader_t *)p;
  int err = status < 0 ? -status : 0;
  int n = 0;
  if (err == 0) {
    for (uint32_t i = 0; i < r->max_datagrams; i++) {
      r->iovs[i].iov_base = r->arena + (size_t)i * UDP_MAX_DATAGRAM;
      r->iovs[i].iov_len = UDP_MAX_DATAGRAM;
      memset(&r->msgs[i].msg_hdr, 0, sizeof r->msgs[i].msg_hdr);
      r->msgs[i].msg_hdr.msg_iov = &r->iovs[i];
      r->msgs[i].msg_hdr.msg_iovlen = 1;
      r->msgs[i].msg_hdr.msg_name = &r->addrs[i];
      r->msgs[i].msg_hdr.msg_namelen = sizeof r->addrs[i];
    }
    do n = recvmmsg(r->fd, r->msgs, r->max_datagrams, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      err = errno;
      n = 0;
    }
  }
  if (n > 0 && r->sock != NULL && r->sock->fastpath != NULL)
    n = (int)wn_fastpath_ingress(r->sock->fastpath, r->msgs, r->iovs, r->addrs, (uint32_t)n);
  if (n == 0 && err == 0) return;
  for (int i = 0; i < n; i++) {
    uint8_t *m = r->meta + (size_t)i * UDP_META_SIZE;
    uint32_t len = htole32(r->msgs[i].msg_len);
    memcpy(m, &len, 4);
    memcpy(m + 4, &r->addrs[i].sin_addr, 4);
    memcpy(m + 8, &r->addrs[i].sin_port, 2);
    m[10] = m[11] = 0;
  }
  /* A lasting failure (the fd is gone) would wake us forever: stop polling, report it once. */
  bool fatal = err != 0 && !transient(err);
  if (fatal) uv_poll_stop(&r->poller.poll);
  deliver(r, err, (uint32_t)n);
}

napi_value udp_recv_start(napi_env env, napi_callback_info info) {
  WN_ARGS(3);
  uint32_t max_datagrams;
  napi_valuetype cb_type;
  if (argc < 3) return wn_throw_type(env, "handle, maxDatagrams and callback are required");
  udp_sock_t *s = get_sock(env, argv[0]);
  if (s == NULL || !wn_get_uint32(env, argv[1], &max_datagrams, "maxDatagrams")) return NULL;
  if (max_datagrams == 0 || max_datagrams > 1024) return wn_throw_type(env, "maxDatagrams must be 1..1024");
  NAPI_CHECK(env, napi_typeof(env, argv[2], &cb_type));
  if (cb_type != napi_function) return wn_throw_type(env, "callback must be a function");
  if (s->fd < 0) return wn_throw_errno(env, EBADF, "recvmmsg");
  if (s->reader != NULL) return wn_throw_type(env, "the socket already has a reader");

  udp_reader_t *r = calloc(1, sizeof *r);
  if (r != NULL) {
    r->arena = malloc((size_t)max_datagrams * UDP_MAX_DATAGRAM);
    r->meta = malloc((size_t)max_datagrams * UDP_META_SIZE);
    r->msgs = calloc(max_datagrams, sizeof *r->msgs);
    r->iovs = calloc(max_datagrams, sizeof *r->iovs);
    r->addrs = calloc(max_datagrams, sizeof *r->addrs);
  }
  if (r == NULL || r->arena == NULL || r->meta == NULL || r->msgs == NULL || r->iovs == NULL || r->addrs == NULL) {
    if (r != NULL) on_reader_closed(&r->poller);
    return wn_throw_errno(env, ENOMEM, "malloc");
  }
  r->fd = s->fd;
  r->max_datagrams = max_datagrams;
  r->poller.on_readable = on_readable;
  r->poller.on_closed = on_reader_closed;
  if (!wn_poller_start(&r->poller, env, s->fd, "WeaveUdpReader", argv[2])) return NULL;
  r->sock = s;
  s->reader = r;
  return NULL;
}

napi_value udp_ref(napi_env env, napi_callback_info info) {
  WN_ARGS(2);
  bool ref;
  if (argc < 2) return wn_throw_type(env, "handle and ref are required");
  udp_sock_t *s = get_sock(env, argv[0]);
  if (s == NULL || !wn_get_bool(env, argv[1], &ref, "ref")) return NULL;
  if (s->reader != NULL) wn_poller_ref(&s->reader->poller, ref);
  return NULL;
}

napi_value udp_close(napi_env env, napi_callback_info info) {
  WN_ARGS(1);
  if (argc < 1) return wn_throw_type(env, "handle is required");
  udp_sock_t *s = get_sock(env, argv[0]);
  if (s == NULL) return NULL;
  sock_close_fds(s);
  return NULL;
}

/* udpSetFastpath(handle, fastpath): the fast path sends on this socket and sees its datagrams first. */
napi_value udp_set_fastpath(napi_env env, napi_callback_info info) {
  WN_ARGS(2);
  if (argc < 2) return wn_throw_type(env, "handle and fastpath are required");
  udp_sock_t *s = get_sock(env, argv[0]);
  wn_fastpath_t *fp = s == NULL ? NULL : wn_fastpath_get(env, argv[1]);
  if (fp == NULL) return NULL;
  if (s->fd < 0) return wn_throw_errno(env, EBADF, "udpSetFastpath");
  if (s->fastpath != NULL) return wn_throw_type(env, "the socket already has a fast path");
  if (!wn_fastpath_attach_sock(fp, s)) return wn_throw_type(env, "the fast path already has a socket");
  return NULL;
}
