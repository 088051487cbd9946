/*
 * The sleeve fast path: established unicast frames between a TAP and the sleeve's UDP socket, with no
 * JavaScript per frame. Cold, per-frame JS costs ~100 µs a hop when packets are sparse (V8 code and
 * data fall out of the caches between packets); this path touches a few cache lines instead.
 *
 *   TAP batch ─▶ send flow (srcMAC, dstMAC) live? ─yes─▶ pack per (connection, DF) ─▶ seal ─▶ sendmmsg
 *                        └─no─▶ JS, which forwards it and may offer the flow back
 *   UDP batch ─▶ sender's connection, from its address ─▶ open (replay-checked) ─▶ every record for us
 *                with a live deliver flow (srcName, srcMAC, dstMAC)? ─yes─▶ write(2) to the TAP
 *                        └─no─▶ the datagram goes to JS untouched (nothing committed)
 *
 * JS registers connections (peer name, session key, UDP address, MTU, payload limit, whether the
 * remote reassembles fragments, enabled once established) and offers flows; an offer lives `ttl` ms,
 * so JS sees about one frame per flow per ttl and keeps its MAC ages fresh. flush() drops every flow
 * (routes changed, a MAC moved); removing a connection orphans its flows (generation check).
 * Anything unusual stays JS's job: broadcasts, relays, special frames, frames that do not fit the MTU,
 * malformed or unauthentic datagrams. A DF send the kernel refuses as too big disables the connection
 * until JS (which then sees the frames and runs PMTU discovery) enables it again.
 *
 * Encrypted connections keep their whole NaCl state here, shared with JS through fastpathSeal and
 * fastpathOpen: both sequence counters (sleeve nonces must never repeat) and both replay windows.
 * Wire format and algorithms as design/weave-net.md §5 and datapath-sleeve's sleeve-packet.ts,
 * frame-crypto.ts and replay-window.ts describe them.
 *
 *   fastpathCreate(ourName, ttlMs) -> handle       fastpathClose(handle)
 *   fastpathConnAdd(h, peerName, key|null, outbound) -> id      fastpathConnRemove(h, id)
 *   fastpathConnSet(h, id, enabled, host|null, port, mtu, maxPayload, stackFrag)
 *   fastpathOfferSend(h, srcMac, dstMac, id, dstName)   fastpathOfferDeliver(h, srcName, srcMac, dstMac)
 *   fastpathFlush(h)   fastpathStats(h) -> number[]
 *   fastpathSeal(h, id, df, records) -> datagram   fastpathOpen(h, id, body, out) -> length | -1 | -2
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fastpath.h"
#include "napi_util.h"
#include "secretbox.h"

#define NAME_SIZE 6
#define ETH_HDR 14
#define RECORD_HDR 14           /* srcName ‖ dstName ‖ length */
#define PLAIN_HDR NAME_SIZE     /* senderName */
#define NACL_HDR (NAME_SIZE + 8 + 16) /* senderName ‖ seq field ‖ tag */
#define MAX_UDP_PAYLOAD 65507
#define SLOT_SIZE 65536
#define MAX_FRAMES_PER_DATAGRAM 100
#define FLOW_SLOTS 4096 /* per table, a power of two */
#define FLOW_PROBES 4
#define DF_BIT (1ULL << 63)
#define WINDOW_BITS 20
#define PAGE_BITS 12
#define PAGES (1u << (WINDOW_BITS - PAGE_BITS))

enum { STAT_FRAMES_SENT, STAT_DATAGRAMS_SENT, STAT_FRAMES_RECEIVED, STAT_DATAGRAMS_RECEIVED, STAT_DUPLICATES,
       STAT_SEND_ERRORS, STAT_TOO_BIG, STAT_TAP_DROPS, STAT_COUNT };

/* A set of 2^20 sequence numbers whose 512-byte pages are allocated on first use. */
typedef struct {
  uint32_t *pages[PAGES];
} bitset_t;

/* One replay window (as replay-window.ts): the current block of 2^20 numbers and the one before. */
typedef struct {
  uint64_t block;
  int current; /* index into sets */
  bool has_previous;
  bitset_t sets[2];
} window_t;

typedef struct {
  bool used;
  bool enabled;
  bool stack_frag;
  bool encrypted;
  bool outbound;
  uint32_t gen; /* bumped on removal: flows naming an older generation are dead */
  uint8_t peer[NAME_SIZE];
  struct sockaddr_in remote; /* sin_port 0: not known yet */
  uint32_t mtu;
  uint32_t max_payload;
  uint8_t key[32];
  uint64_t seq[2]; /* next sequence number: [0] non-DF, [1] DF */
  window_t windows[2];
} conn_t;

/* A cached flow; the key is three 48-bit words (unused ones zero). */
typedef struct {
  uint64_t k[3];
  uint32_t table_gen; /* valid only while equal to the fast path's */
  uint32_t conn;
  uint32_t conn_gen;
  uint64_t expires_ms;
  uint8_t dst[NAME_SIZE];
} flow_t;

/* A datagram being packed during one TAP batch. */
typedef struct {
  uint32_t conn;
  bool df;
  bool open;
  uint32_t frames;
  uint32_t len;
} slot_t;

struct wn_fastpath {
  int refs; /* the JS handle, plus the attached TAP reader and socket */
  bool closed;
  uint8_t name[NAME_SIZE];
  uint32_t ttl_ms;
  uint32_t table_gen;
  conn_t *conns;
  uint32_t conn_cap;
  flow_t *send_flows;
  flow_t *deliver_flows;
  int tap_fd; /* -1 when no TAP is attached */
  wn_fastpath_t **tap_slot;
  udp_sock_t *sock;
  uint32_t max_slots;
  slot_t *slots;
  uint8_t *slot_data;
  uint8_t *scratch; /* an opened datagram */
  double stats[STAT_COUNT];
};

/* ---- small helpers ---------------------------------------------------------------------------- */

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t load48(const uint8_t *p) {
  return ((uint64_t)p[0] << 40) | ((uint64_t)p[1] << 32) | ((uint64_t)p[2] << 24) | ((uint64_t)p[3] << 16) |
         ((uint64_t)p[4] << 8) | p[5];
}

static uint64_t load64be(const uint8_t *p) { return ((uint64_t)load48(p) << 16) | ((uint64_t)p[6] << 8) | p[7]; }

static void store64be(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* ---- replay windows --------------------------------------------------------------------------- */

static bool bit_has(const bitset_t *s, uint32_t bit) {
  const uint32_t *page = s->pages[bit >> PAGE_BITS];
  uint32_t in = bit & ((1u << PAGE_BITS) - 1);
  return page != NULL && (page[in >> 5] & (1u << (in & 31))) != 0;
}

static bool bit_add(bitset_t *s, uint32_t bit) {
  uint32_t **page = &s->pages[bit >> PAGE_BITS];
  if (*page == NULL && (*page = calloc(1, (1u << PAGE_BITS) / 8)) == NULL) return false;
  uint32_t in = bit & ((1u << PAGE_BITS) - 1);
  (*page)[in >> 5] |= 1u << (in & 31);
  return true;
}

static void bits_clear(bitset_t *s) {
  for (uint32_t i = 0; i < PAGES; i++)
    if (s->pages[i] != NULL) memset(s->pages[i], 0, (1u << PAGE_BITS) / 8);
}

static void bits_free(bitset_t *s) {
  for (uint32_t i = 0; i < PAGES; i++) free(s->pages[i]), s->pages[i] = NULL;
}

/* Whether `seq` (DF bit removed) is new to the window; with `commit`, also records it. */
static bool window_accept(window_t *w, uint64_t seq, bool commit) {
  uint64_t block = seq >> WINDOW_BITS;
  uint32_t offset = (uint32_t)(seq & ((1u << WINDOW_BITS) - 1));
  bitset_t *set;
  if (block + 1 < w->block) return false;
  if (block + 1 == w->block) {
    if (!w->has_previous) return false;
    set = &w->sets[1 - w->current];
  } else if (block == w->block) {
    set = &w->sets[w->current];
  } else {
    if (!commit) return true; /* a later block starts empty */
    if (block == w->block + 1) {
      w->current = 1 - w->current;
    } else {
      bits_clear(&w->sets[w->current]);
      w->current = 1 - w->current;
    }
    bits_clear(&w->sets[w->current]);
    w->has_previous = true;
    w->block = block;
    set = &w->sets[w->current];
  }
  if (bit_has(set, offset)) return false;
  return !commit || bit_add(set, offset);
}

/* ---- connections ------------------------------------------------------------------------------ */

static conn_t *conn_at(wn_fastpath_t *fp, uint32_t id) {
  return id < fp->conn_cap && fp->conns[id].used ? &fp->conns[id] : NULL;
}

static void conn_clear(conn_t *c) {
  for (int i = 0; i < 2; i++) bits_free(&c->windows[i].sets[0]), bits_free(&c->windows[i].sets[1]);
  uint32_t gen = c->gen + 1;
  wn_wipe(c, sizeof *c); /* the session key must not outlive the connection (even when freed next) */
  c->gen = gen;
}

static void nonce_for(uint8_t nonce[24], bool dialled, uint64_t field) {
  memset(nonce, 0, 24);
  if (dialled) nonce[0] = 0x80;
  store64be(nonce + 16, field);
}

/* Seals the records at dgram + NACL_HDR in place; returns the datagram length. */
static size_t conn_seal(wn_fastpath_t *fp, conn_t *c, bool df, uint8_t *dgram, size_t records) {
  uint64_t field = c->seq[df]++ | (df ? DF_BIT : 0);
  uint8_t nonce[24];
  nonce_for(nonce, c->outbound, field);
  memcpy(dgram, fp->name, NAME_SIZE);
  store64be(dgram + NAME_SIZE, field);
  wn_secretbox_seal(dgram + NAME_SIZE + 8, dgram + NACL_HDR, records, nonce, c->key);
  return NACL_HDR + records;
}

/*
 * Opens `body` (seq field ‖ tag ‖ ciphertext) into `out`: the plain length, -1 when it is not
 * authentic (or too short), -2 for a duplicate or too-old datagram. Only `commit` records the number
 * (conn_commit does it later).
 */
static long conn_open(conn_t *c, const uint8_t *body, size_t len, uint8_t *out, bool commit) {
  if (len < 8 + 16) return -1;
  uint64_t field = load64be(body);
  uint8_t nonce[24];
  nonce_for(nonce, !c->outbound, field);
  window_t *w = &c->windows[(field & DF_BIT) != 0];
  if (!window_accept(w, field & ~DF_BIT, false)) {
    /* Still authenticate: a forged number must not be counted as a replay of a real one. */
    return wn_secretbox_open(out, body + 8, len - 8, nonce, c->key) ? -2 : -1;
  }
  if (!wn_secretbox_open(out, body + 8, len - 8, nonce, c->key)) return -1;
  if (commit && !window_accept(w, field & ~DF_BIT, true)) return -2;
  return (long)(len - 8 - 16);
}

/* Records the sequence number of a body conn_open opened without committing; false if it cannot. */
static bool conn_commit(conn_t *c, const uint8_t *body) {
  uint64_t field = load64be(body);
  return window_accept(&c->windows[(field & DF_BIT) != 0], field & ~DF_BIT, true);
}

/* ---- flow tables ------------------------------------------------------------------------------ */

static uint32_t flow_hash(const uint64_t k[3]) {
  uint64_t h = k[0] * 0x9E3779B97F4A7C15ULL ^ k[1] * 0xC2B2AE3D27D4EB4FULL ^ k[2] * 0x165667B19E3779F9ULL;
  return (uint32_t)(h ^ (h >> 29)) & (FLOW_SLOTS - 1);
}

static flow_t *flow_find(wn_fastpath_t *fp, flow_t *table, const uint64_t k[3], uint64_t now) {
  uint32_t at = flow_hash(k);
  for (int i = 0; i < FLOW_PROBES; i++) {
    flow_t *f = &table[(at + i) & (FLOW_SLOTS - 1)];
    if (f->table_gen == fp->table_gen && f->expires_ms > now && f->k[0] == k[0] && f->k[1] == k[1] &&
        f->k[2] == k[2])
      return f;
  }
  return NULL;
}

/* The slot for `k`: its own, else a dead one, else the probe's first (evicting a live flow). */
static flow_t *flow_slot(wn_fastpath_t *fp, flow_t *table, const uint64_t k[3], uint64_t now) {
  uint32_t at = flow_hash(k);
  flow_t *free_slot = NULL;
  for (int i = 0; i < FLOW_PROBES; i++) {
    flow_t *f = &table[(at + i) & (FLOW_SLOTS - 1)];
    bool live = f->table_gen == fp->table_gen && f->expires_ms > now;
    if (live && f->k[0] == k[0] && f->k[1] == k[1] && f->k[2] == k[2]) return f;
    if (!live && free_slot == NULL) free_slot = f;
  }
  return free_slot != NULL ? free_slot : &table[at];
}

static void flow_put(wn_fastpath_t *fp, flow_t *table, const uint64_t k[3], uint32_t conn, const uint8_t *dst) {
  uint64_t now = now_ms();
  flow_t *f = flow_slot(fp, table, k, now);
  memcpy(f->k, k, sizeof f->k);
  f->table_gen = fp->table_gen;
  f->expires_ms = now + fp->ttl_ms;
  f->conn = conn;
  f->conn_gen = conn < fp->conn_cap ? fp->conns[conn].gen : 0;
  if (dst != NULL) memcpy(f->dst, dst, NAME_SIZE);
}

/* ---- egress: TAP -> UDP ----------------------------------------------------------------------- */

/* Which path a frame takes (as frame-packer.ts decides): 1 DF, 0 non-DF, -1 not ours (JS decides). */
static int egress_path(const conn_t *c, const uint8_t *frame, uint32_t len) {
  if (len > c->mtu + ETH_HDR) return -1; /* JS fragments it or answers with ICMP */
  bool ipv4 = false, dont_fragment = false;
  if (len >= ETH_HDR + 20 && frame[12] == 0x08 && frame[13] == 0x00) {
    uint32_t header = (frame[ETH_HDR] & 0x0f) * 4u;
    uint32_t total = ((uint32_t)frame[ETH_HDR + 2] << 8) | frame[ETH_HDR + 3];
    ipv4 = header >= 20 && total >= header && ETH_HDR + header <= len;
    dont_fragment = ipv4 && (frame[ETH_HDR + 6] & 0x40) != 0;
  }
  if (dont_fragment) return 1;
  return c->stack_frag || !ipv4 ? 0 : 1;
}

static uint8_t *slot_bytes(wn_fastpath_t *fp, uint32_t i) { return fp->slot_data + (size_t)i * SLOT_SIZE; }

/* Appends a record to the open datagram of (conn, df), opening one if needed; false if it cannot fit. */
static bool pack(wn_fastpath_t *fp, uint32_t *nslots, uint32_t id, conn_t *c, bool df, const uint8_t *dst,
                 const uint8_t *frame, uint32_t len) {
  uint32_t hdr = c->encrypted ? NACL_HDR : PLAIN_HDR;
  uint32_t limit = df ? c->max_payload : MAX_UDP_PAYLOAD;
  if (hdr + RECORD_HDR + len > limit) return false;
  slot_t *s = NULL;
  for (uint32_t i = 0; i < *nslots; i++) {
    slot_t *t = &fp->slots[i];
    if (t->open && t->conn == id && t->df == df) {
      if (t->frames < MAX_FRAMES_PER_DATAGRAM && t->len + RECORD_HDR + len <= limit) s = t;
      else t->open = false;
      break;
    }
  }
  if (s == NULL) {
    if (*nslots == fp->max_slots) return false;
    s = &fp->slots[(*nslots)++];
    *s = (slot_t){.conn = id, .df = df, .open = true, .frames = 0, .len = hdr};
    memcpy(slot_bytes(fp, (uint32_t)(s - fp->slots)), fp->name, NAME_SIZE);
  }
  uint8_t *p = slot_bytes(fp, (uint32_t)(s - fp->slots)) + s->len;
  memcpy(p, fp->name, NAME_SIZE);
  memcpy(p + NAME_SIZE, dst, NAME_SIZE);
  p[12] = (uint8_t)(len >> 8);
  p[13] = (uint8_t)len;
  memcpy(p + RECORD_HDR, frame, len);
  s->len += RECORD_HDR + len;
  s->frames++;
  return true;
}

/* Seals and sends the packed datagrams: the non-DF ones first, as JS does. */
static void send_slots(wn_fastpath_t *fp, uint32_t nslots) {
  udp_sock_t *sock = fp->sock;
  struct mmsghdr msgs[64];
  struct iovec iovs[64];
  for (int df = 0; df < 2; df++) {
    uint32_t i = 0;
    while (i < nslots) {
      uint32_t m = 0;
      for (; i < nslots && m < 64; i++) {
        slot_t *s = &fp->slots[i];
        if (s->df != df) continue;
        conn_t *c = &fp->conns[s->conn];
        uint8_t *dgram = slot_bytes(fp, i);
        size_t len = c->encrypted ? conn_seal(fp, c, df, dgram, s->len - NACL_HDR) : s->len;
        iovs[m] = (struct iovec){.iov_base = dgram, .iov_len = len};
        memset(&msgs[m], 0, sizeof msgs[m]);
        msgs[m].msg_hdr.msg_name = &c->remote;
        msgs[m].msg_hdr.msg_namelen = sizeof c->remote;
        msgs[m].msg_hdr.msg_iov = &iovs[m];
        msgs[m].msg_hdr.msg_iovlen = 1;
        fp->stats[STAT_FRAMES_SENT] += s->frames;
        m++;
      }
      if (m == 0) continue;
      if (wn_udp_set_df(sock, df) != 0) {
        fp->stats[STAT_SEND_ERRORS] += m;
        continue;
      }
      for (uint32_t k = 0; k < m;) {
        int n = sendmmsg(sock->fd, msgs + k, m - k, 0);
        if (n > 0) {
          k += (uint32_t)n;
          fp->stats[STAT_DATAGRAMS_SENT] += n;
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EMSGSIZE) {
          /* The path MTU shrank: JS gets this connection's frames until PMTU discovery settles. */
          for (uint32_t id = 0; id < fp->conn_cap; id++)
            if (fp->conns[id].used && &fp->conns[id].remote == msgs[k].msg_hdr.msg_name)
              fp->conns[id].enabled = false;
          fp->stats[STAT_TOO_BIG]++;
        } else {
          fp->stats[STAT_SEND_ERRORS]++;
        }
        k++; /* drop it, as the network might have */
      }
    }
  }
}

uint32_t wn_fastpath_egress(wn_fastpath_t *fp, uint8_t *arena, uint32_t *lengths, uint32_t count, size_t *bytes) {
  if (fp->closed || fp->sock == NULL || fp->sock->fd < 0) return count;
  uint64_t now = now_ms();
  uint32_t nslots = 0, kept = 0;
  size_t in = 0, out = 0;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t len = le32toh(lengths[i]);
    uint8_t *frame = arena + in;
    in += len;
    if (len >= ETH_HDR) {
      uint64_t k[3] = {load48(frame + 6), load48(frame), 0};
      flow_t *f = flow_find(fp, fp->send_flows, k, now);
      conn_t *c = f == NULL ? NULL : conn_at(fp, f->conn);
      if (c != NULL && c->enabled && c->gen == f->conn_gen) {
        int df = egress_path(c, frame, len);
        if (df >= 0 && pack(fp, &nslots, f->conn, c, df == 1, f->dst, frame, len)) continue;
      }
    }
    if (out != (size_t)(frame - arena)) memmove(arena + out, frame, len);
    out += len;
    lengths[kept++] = htole32(len);
  }
  if (nslots > 0) send_slots(fp, nslots);
  *bytes = out;
  return kept;
}

/* ---- ingress: UDP -> TAP ---------------------------------------------------------------------- */

static conn_t *conn_from(wn_fastpath_t *fp, const uint8_t *sender, const struct sockaddr_in *from) {
  for (uint32_t id = 0; id < fp->conn_cap; id++) {
    conn_t *c = &fp->conns[id];
    if (c->used && c->enabled && memcmp(c->peer, sender, NAME_SIZE) == 0 &&
        c->remote.sin_addr.s_addr == from->sin_addr.s_addr && c->remote.sin_port == from->sin_port)
      return c;
  }
  return NULL;
}

/* Whether every record of `body` is a frame for a local container with a live deliver flow. */
static bool all_delivered_here(wn_fastpath_t *fp, const uint8_t *body, size_t len, uint64_t now) {
  size_t at = 0;
  if (len == 0) return false;
  while (at < len) {
    if (len - at < RECORD_HDR) return false;
    const uint8_t *r = body + at;
    uint32_t flen = ((uint32_t)r[12] << 8) | r[13];
    if (flen < ETH_HDR || len - at - RECORD_HDR < flen) return false;
    if (memcmp(r + NAME_SIZE, fp->name, NAME_SIZE) != 0) return false; /* relayed: JS */
    const uint8_t *frame = r + RECORD_HDR;
    uint64_t k[3] = {load48(r), load48(frame + 6), load48(frame)};
    /* Special frames have an all-zero header, so zero MACs never match a flow JS offered. */
    if (k[1] == 0 || flow_find(fp, fp->deliver_flows, k, now) == NULL) return false;
    at += RECORD_HDR + flen;
  }
  return true;
}

static void write_frames(wn_fastpath_t *fp, const uint8_t *body, size_t len) {
  for (size_t at = 0; at < len;) {
    uint32_t flen = ((uint32_t)body[at + 12] << 8) | body[at + 13];
    ssize_t n;
    do n = write(fp->tap_fd, body + at + RECORD_HDR, flen);
    while (n < 0 && errno == EINTR);
    if (n < 0) fp->stats[STAT_TAP_DROPS]++; /* the queue is full: dropped, like a NIC */
    else fp->stats[STAT_FRAMES_RECEIVED]++;
    at += RECORD_HDR + flen;
  }
}

static bool ingress_one(wn_fastpath_t *fp, const uint8_t *data, size_t len, const struct sockaddr_in *from,
                        uint64_t now) {
  if (len <= NAME_SIZE) return false;
  conn_t *c = conn_from(fp, data, from);
  if (c == NULL) return false;
  const uint8_t *body = data + NAME_SIZE;
  size_t blen = len - NAME_SIZE;
  if (c->encrypted) {
    long plain = conn_open(c, body, blen, fp->scratch, false);
    if (plain == -2) {
      fp->stats[STAT_DUPLICATES]++;
      return true; /* authentic but seen before: dropped silently, as JS would */
    }
    if (plain < 0 || !all_delivered_here(fp, fp->scratch, (size_t)plain, now)) return false;
    if (!conn_commit(c, body)) return false;
    body = fp->scratch;
    blen = (size_t)plain;
  } else if (!all_delivered_here(fp, body, blen, now)) {
    return false;
  }
  write_frames(fp, body, blen);
  fp->stats[STAT_DATAGRAMS_RECEIVED]++;
  return true;
}

uint32_t wn_fastpath_ingress(wn_fastpath_t *fp, struct mmsghdr *msgs, struct iovec *iovs, struct sockaddr_in *addrs,
                             uint32_t count) {
  if (fp->closed || fp->tap_fd < 0) return count;
  uint64_t now = now_ms();
  uint32_t kept = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (ingress_one(fp, iovs[i].iov_base, msgs[i].msg_len, &addrs[i], now)) continue;
    if (kept != i) {
      msgs[kept] = msgs[i];
      iovs[kept] = iovs[i];
      addrs[kept] = addrs[i];
    }
    kept++;
  }
  return kept;
}

/* ---- attachment and lifetime ------------------------------------------------------------------ */

static void release(wn_fastpath_t *fp) {
  if (--fp->refs > 0) return;
  for (uint32_t i = 0; i < fp->conn_cap; i++) conn_clear(&fp->conns[i]);
  free(fp->conns);
  free(fp->send_flows);
  free(fp->deliver_flows);
  free(fp->slots);
  free(fp->slot_data);
  free(fp->scratch);
  free(fp);
}

bool wn_fastpath_attach_tap(wn_fastpath_t *fp, wn_fastpath_t **slot, int tap_fd, uint32_t max_frames) {
  if (fp->closed || fp->tap_slot != NULL) return false;
  slot_t *slots = calloc(max_frames, sizeof *slots);
  uint8_t *data = malloc((size_t)max_frames * SLOT_SIZE); /* pages are committed when first packed */
  if (slots == NULL || data == NULL) {
    free(slots);
    free(data);
    return false;
  }
  fp->slots = slots;
  fp->slot_data = data;
  fp->max_slots = max_frames;
  fp->tap_fd = tap_fd;
  fp->tap_slot = slot;
  *slot = fp;
  fp->refs++;
  return true;
}

void wn_fastpath_detach_tap(wn_fastpath_t *fp) {
  if (fp->tap_slot == NULL) return;
  *fp->tap_slot = NULL;
  fp->tap_slot = NULL;
  fp->tap_fd = -1;
  release(fp);
}

bool wn_fastpath_attach_sock(wn_fastpath_t *fp, udp_sock_t *s) {
  if (fp->closed || fp->sock != NULL) return false;
  fp->sock = s;
  s->fastpath = fp;
  fp->refs++;
  return true;
}

void wn_fastpath_detach_sock(wn_fastpath_t *fp) {
  if (fp->sock == NULL) return;
  fp->sock->fastpath = NULL;
  fp->sock = NULL;
  release(fp);
}

/* ---- JS API ----------------------------------------------------------------------------------- */

typedef struct {
  wn_fastpath_t *fp;
} box_t;

static void finalize_box(napi_env env, void *data, void *hint) {
  box_t *box = data;
  if (box->fp != NULL) {
    box->fp->closed = true;
    release(box->fp);
  }
  free(box);
}

wn_fastpath_t *wn_fastpath_get(napi_env env, napi_value v) {
  void *data = NULL;
  if (!wn_tagged_external(env, v, &WN_TAG_FAST_PATH, &data) || ((box_t *)data)->fp == NULL ||
      ((box_t *)data)->fp->closed) {
    wn_throw_type(env, "handle must be an open fast path handle");
    return NULL;
  }
  return ((box_t *)data)->fp;
}

static bool get_name(napi_env env, napi_value v, uint8_t out[NAME_SIZE], const char *what) {
  uint8_t *p;
  size_t len;
  if (!wn_get_bytes(env, v, &p, &len, what)) return false;
  if (len != NAME_SIZE) {
    wn_throw_type(env, "a peer name must be 6 bytes");
    return false;
  }
  memcpy(out, p, NAME_SIZE);
  return true;
}

static bool get_mac(napi_env env, napi_value v, uint64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d < 281474976710656.0) || d != (uint64_t)d) {
    wn_throw_type(env, "a MAC must be an integer in 0..2^48-1");
    return false;
  }
  *out = (uint64_t)d;
  return true;
}

/* Parses (handle, id, ...) and returns the fast path and connection, or NULL with a pending error. */
static conn_t *get_conn(napi_env env, napi_value *argv, size_t argc, size_t want, wn_fastpath_t **fp_out,
                        uint32_t *id_out) {
  uint32_t id;
  if (argc < want) {
    wn_throw_type(env, "missing arguments");
    return NULL;
  }
  wn_fastpath_t *fp = wn_fastpath_get(env, argv[0]);
  if (fp == NULL || !wn_get_uint32(env, argv[1], &id, "id")) return NULL;
  conn_t *c = conn_at(fp, id);
  if (c == NULL) wn_throw_type(env, "no such fast path connection");
  *fp_out = fp;
  if (id_out != NULL) *id_out = id;
  return c;
}

napi_value fastpath_create(napi_env env, napi_callback_info info) {
  WN_ARGS(2);
  uint8_t name[NAME_SIZE];
  uint32_t ttl;
  if (argc < 2 || !get_name(env, argv[0], name, "ourName") || !wn_get_uint32(env, argv[1], &ttl, "ttlMs"))
    return NULL;
  wn_fastpath_t *fp = calloc(1, sizeof *fp);
  box_t *box = calloc(1, sizeof *box);
  if (fp != NULL) {
    fp->send_flows = calloc(FLOW_SLOTS, sizeof(flow_t));
    fp->deliver_flows = calloc(FLOW_SLOTS, sizeof(flow_t));
    fp->scratch = malloc(SLOT_SIZE);
  }
  if (fp == NULL || box == NULL || fp->send_flows == NULL || fp->deliver_flows == NULL || fp->scratch == NULL) {
    if (fp != NULL) fp->refs = 1, release(fp);
    free(box);
    return wn_throw_errno(env, ENOMEM, "malloc");
  }
  fp->refs = 1;
  fp->tap_fd = -1;
  fp->ttl_ms = ttl;
  fp->table_gen = 1; /* calloc'd flows (generation 0) are dead */
  memcpy(fp->name, name, NAME_SIZE);
  box->fp = fp;
  napi_value handle;
  if (!wn_create_tagged_external(env, box, finalize_box, &WN_TAG_FAST_PATH, &handle)) {
    release(fp);
    free(box);
    return NULL;
  }
  return handle;
}

napi_value fastpath_close(napi_env env, napi_callback_info info) {
  WN_ARGS(1);
  void *data = NULL;
  if (argc < 1 || !wn_tagged_external(env, argv[0], &WN_TAG_FAST_PATH, &data))
    return wn_throw_type(env, "handle must be a fast path handle");
  box_t *box = data;
  wn_fastpath_t *fp = box->fp;
  if (fp == NULL) return NULL;
  fp->closed = true;
  box->fp = NULL;
  fp->refs++; /* hold it while detaching */
  wn_fastpath_detach_tap(fp);
  wn_fastpath_detach_sock(fp);
  release(fp);
  release(fp);
  return NULL;
}

napi_value fastpath_conn_add(napi_env env, napi_callback_info info) {
  WN_ARGS(4);
  uint8_t peer[NAME_SIZE];
  napi_valuetype key_type;
  bool outbound;
  if (argc < 4) return wn_throw_type(env, "handle, peerName, key and outbound are required");
  wn_fastpath_t *fp = wn_fastpath_get(env, argv[0]);
  if (fp == NULL || !get_name(env, argv[1], peer, "peerName") || !wn_get_bool(env, argv[3], &outbound, "outbound"))
    return NULL;
  NAPI_CHECK(env, napi_typeof(env, argv[2], &key_type));
  uint8_t *key = NULL;
  size_t key_len = 0;
  if (key_type != napi_null && key_type != napi_undefined) {
    if (!wn_get_bytes(env, argv[2], &key, &key_len, "key")) return NULL;
    if (key_len != 32) return wn_throw_type(env, "key must be 32 bytes");
  }
  uint32_t id = 0;
  while (id < fp->conn_cap && fp->conns[id].used) id++;
  if (id == fp->conn_cap) {
    uint32_t cap = fp->conn_cap == 0 ? 16 : fp->conn_cap * 2;
    conn_t *grown = realloc(fp->conns, cap * sizeof *grown);
    if (grown == NULL) return wn_throw_errno(env, ENOMEM, "realloc");
    memset(grown + fp->conn_cap, 0, (cap - fp->conn_cap) * sizeof *grown);
    fp->conns = grown;
    fp->conn_cap = cap;
  }
  conn_t *c = &fp->conns[id];
  c->used = true;
  c->outbound = outbound;
  c->encrypted = key != NULL;
  if (key != NULL) memcpy(c->key, key, 32);
  memcpy(c->peer, peer, NAME_SIZE);
  napi_value result;
  NAPI_CHECK(env, napi_create_uint32(env, id, &result));
  return result;
}

napi_value fastpath_conn_remove(napi_env env, napi_callback_info info) {
  WN_ARGS(2);
  wn_fastpath_t *fp;
  conn_t *c = get_conn(env, argv, argc, 2, &fp, NULL);
  if (c != NULL) conn_clear(c);
  return NULL;
}

napi_value fastpath_conn_set(napi_env env, napi_callback_info info) {
  WN_ARGS(8);
  wn_fastpath_t *fp;
  conn_t *c = get_conn(env, argv, argc, 8, &fp, NULL);
  bool enabled, stack_frag;
  uint32_t port, mtu, max_payload;
  napi_valuetype host_type;
  if (c == NULL || !wn_get_bool(env, argv[2], &enabled, "enabled") || !wn_get_uint32(env, argv[4], &port, "port") ||
      !wn_get_uint32(env, argv[5], &mtu, "mtu") || !wn_get_uint32(env, argv[6], &max_payload, "maxPayload") ||
      !wn_get_bool(env, argv[7], &stack_frag, "stackFrag"))
    return NULL;
  NAPI_CHECK(env, napi_typeof(env, argv[3], &host_type));
  struct sockaddr_in remote;
  memset(&remote, 0, sizeof remote);
  remote.sin_family = AF_INET;
  if (host_type != napi_null && host_type != napi_undefined) {
    char text[INET_ADDRSTRLEN];
    if (!wn_get_string(env, argv[3], text, sizeof text, "host")) return NULL;
    if (inet_pton(AF_INET, text, &remote.sin_addr) != 1 || port == 0 || port > 65535)
      return wn_throw_type(env, "host must be an IPv4 address and port 1..65535");
    remote.sin_port = htons((uint16_t)port);
  }
  if (max_payload > MAX_UDP_PAYLOAD || mtu > 65535) return wn_throw_type(env, "mtu or maxPayload out of range");
  c->remote = remote;
  c->mtu = mtu;
  c->max_payload = max_payload;
  c->stack_frag = stack_frag;
  c->enabled = enabled && remote.sin_port != 0;
  return NULL;
}

napi_value fastpath_offer_send(napi_env env, napi_callback_info info) {
  WN_ARGS(5);
  uint64_t k[3] = {0, 0, 0};
  uint8_t dst[NAME_SIZE];
  uint32_t id;
  if (argc < 5) return wn_throw_type(env, "handle, srcMac, dstMac, id and dstName are required");
  wn_fastpath_t *fp = wn_fastpath_get(env, argv[0]);
  if (fp == NULL || !get_mac(env, argv[1], &k[0]) || !get_mac(env, argv[2], &k[1]) ||
      !wn_get_uint32(env, argv[3], &id, "id") || !get_name(env, argv[4], dst, "dstName"))
    return NULL;
  if (conn_at(fp, id) == NULL) return wn_throw_type(env, "no such fast path connection");
  flow_put(fp, fp->send_flows, k, id, dst);
  return NULL;
}

napi_value fastpath_offer_deliver(napi_env env, napi_callback_info info) {
  WN_ARGS(4);
  uint8_t src[NAME_SIZE];
  uint64_t k[3];
  if (argc < 4) return wn_throw_type(env, "handle, srcName, srcMac and dstMac are required");
  wn_fastpath_t *fp = wn_fastpath_get(env, argv[0]);
  if (fp == NULL || !get_name(env, argv[1], src, "srcName") || !get_mac(env, argv[2], &k[1]) ||
      !get_mac(env, argv[3], &k[2]))
    return NULL;
  k[0] = load48(src);
  flow_put(fp, fp->deliver_flows, k, 0, NULL);
  return NULL;
}

napi_value fastpath_flush(napi_env env, napi_callback_info info) {
  WN_ARGS(1);
  wn_fastpath_t *fp = argc < 1 ? NULL : wn_fastpath_get(env, argv[0]);
  if (fp == NULL) return NULL;
  if (++fp->table_gen == 0) { /* wrapped: clear for real so no ancient flow revives */
    memset(fp->send_flows, 0, FLOW_SLOTS * sizeof(flow_t));
    memset(fp->deliver_flows, 0, FLOW_SLOTS * sizeof(flow_t));
    fp->table_gen = 1;
  }
  return NULL;
}

napi_value fastpath_stats(napi_env env, napi_callback_info info) {
  WN_ARGS(1);
  wn_fastpath_t *fp = argc < 1 ? NULL : wn_fastpath_get(env, argv[0]);
  if (fp == NULL) return NULL;
  napi_value result, v;
  NAPI_CHECK(env, napi_create_array_with_length(env, STAT_COUNT, &result));
  for (uint32_t i = 0; i < STAT_COUNT; i++) {
    NAPI_CHECK(env, napi_create_double(env, fp->stats[i], &v));
    NAPI_CHECK(env, napi_set_element(env, result, i, v));
  }
  return result;
}

napi_value fastpath_seal(napi_env env, napi_callback_info info) {
  WN_ARGS(4);
  wn_fastpath_t *fp;
  conn_t *c = get_conn(env, argv, argc, 4, &fp, NULL);
  bool df;
  uint8_t *records;
  size_t len;
  if (c == NULL || !wn_get_bool(env, argv[2], &df, "df") || !wn_get_bytes(env, argv[3], &records, &len, "records"))
    return NULL;
  if (!c->encrypted) return wn_throw_type(env, "the connection is not encrypted");
  if (NACL_HDR + len > MAX_UDP_PAYLOAD) return wn_throw_type(env, "records do not fit one datagram");
  void *data;
  napi_value result;
  NAPI_CHECK(env, napi_create_buffer(env, NACL_HDR + len, &data, &result));
  memcpy((uint8_t *)data + NACL_HDR, records, len);
  conn_seal(fp, c, df, data, len);
  return result;
}

napi_value fastpath_open(napi_env env, napi_callback_info info) {
  WN_ARGS(4);
  wn_fastpath_t *fp;
  conn_t *c = get_conn(env, argv, argc, 4, &fp, NULL);
  uint8_t *body, *out;
  size_t len, out_len;
  if (c == NULL || !wn_get_bytes(env, argv[2], &body, &len, "body") || !wn_get_bytes(env, argv[3], &out, &out_len, "out"))
    return NULL;
  if (!c->encrypted) return wn_throw_type(env, "the connection is not encrypted");
  long r = len < 24 ? -1 : out_len < len - 24 ? -3 : conn_open(c, body, len, out, true);
  if (r == -3) return wn_throw_type(env, "out must hold body.length - 24 bytes");
  napi_value result;
  NAPI_CHECK(env, napi_create_int64(env, r, &result));
  return result;
}
