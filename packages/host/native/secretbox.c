/*
 * NaCl secretbox (XSalsa20-Poly1305) for the sleeve's encrypted datagrams, in C because the pure-JS
 * version costs the encrypted sleeve most of its throughput.
 *
 *   secretboxSeal(out, msg, nonce, key)        out = tag[16] ‖ ciphertext, out.length = msg.length + 16
 *   secretboxOpen(out, box, nonce, key) -> ok  box = tag[16] ‖ ciphertext, out.length = box.length - 16
 *
 * Same bytes as NaCl's crypto_secretbox / crypto_secretbox_open without their 32/16-byte zero padding:
 *   subkey  = HSalsa20(key, nonce[0..16])
 *   stream  = Salsa20/20(subkey, nonce[16..24]), block counter from 0
 *   polyKey = stream[0..32], ciphertext = msg XOR stream[32..], tag = Poly1305(polyKey, ciphertext)
 * Open checks the tag (in constant time) before it writes anything, so `out` is untouched on failure.
 * `out` may alias the message/ciphertext exactly (in-place); other overlaps are not supported.
 * Written from the Salsa20 and Poly1305 specifications (D. J. Bernstein). Salsa20 runs four blocks at a
 * time in vector lanes; Poly1305 uses three 44/44/42-bit limbs and 128-bit products.
 */
#include <stdint.h>
#include <string.h>

#include "napi_util.h"
#include "secretbox.h"

static inline uint32_t load32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void store32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QR(a, b, c, d)        \
  b ^= ROTL(a + d, 7);        \
  c ^= ROTL(b + a, 9);        \
  d ^= ROTL(c + b, 13);       \
  a ^= ROTL(d + c, 18)

/* 20 rounds (10 column + row double rounds) over x, in place; the words live in locals so the
 * compiler can keep them in registers. */
static void salsa20_rounds(uint32_t x[16]) {
  uint32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7], x8 = x[8],
           x9 = x[9], x10 = x[10], x11 = x[11], x12 = x[12], x13 = x[13], x14 = x[14], x15 = x[15];
  for (int i = 0; i < 10; i++) {
    QR(x0, x4, x8, x12);
    QR(x5, x9, x13, x1);
    QR(x10, x14, x2, x6);
    QR(x15, x3, x7, x11);
    QR(x0, x1, x2, x3);
    QR(x5, x6, x7, x4);
    QR(x10, x11, x8, x9);
    QR(x15, x12, x13, x14);
  }
  x[0] = x0, x[1] = x1, x[2] = x2, x[3] = x3, x[4] = x4, x[5] = x5, x[6] = x6, x[7] = x7;
  x[8] = x8, x[9] = x9, x[10] = x10, x[11] = x11, x[12] = x12, x[13] = x13, x[14] = x14, x[15] = x15;
}

/* The input block: "expand 32-byte k" constants, key, and the 16 bytes `in` (nonce ‖ counter). */
static void salsa20_setup(uint32_t s[16], const uint8_t key[32], const uint8_t in[16]) {
  s[0] = 0x61707865;
  s[5] = 0x3320646e;
  s[10] = 0x79622d32;
  s[15] = 0x6b206574;
  for (int i = 0; i < 4; i++) {
    s[1 + i] = load32(key + 4 * i);
    s[11 + i] = load32(key + 16 + 4 * i);
    s[6 + i] = load32(in + 4 * i);
  }
}

static void hsalsa20(uint8_t out[32], const uint8_t key[32], const uint8_t in[16]) {
  uint32_t x[16];
  salsa20_setup(x, key, in);
  salsa20_rounds(x);
  static const int pick[8] = {0, 5, 10, 15, 6, 7, 8, 9};
  for (int i = 0; i < 8; i++) store32(out + 4 * i, x[pick[i]]);
  wn_wipe(x, sizeof x);
}

/* Salsa20/20 keystream state for one (key, 8-byte nonce); `next` writes block `counter++`. */
typedef struct {
  uint32_t input[16];
} salsa20_t;

static void salsa20_init(salsa20_t *st, const uint8_t key[32], const uint8_t nonce[8]) {
  uint8_t in[16] = {0};
  memcpy(in, nonce, 8);
  salsa20_setup(st->input, key, in);
}

static void salsa20_next(salsa20_t *st, uint8_t block[64]) {
  uint32_t x[16];
  memcpy(x, st->input, sizeof x);
  salsa20_rounds(x);
  for (int i = 0; i < 16; i++) store32(block + 4 * i, x[i] + st->input[i]);
  if (++st->input[8] == 0) st->input[9]++;
  wn_wipe(x, sizeof x);
}

/* Four consecutive blocks at once: each vector holds one state word of four blocks (counters n..n+3),
 * so the rounds run as 4-lane SIMD (GCC/Clang vector extensions; SSE2 on x86-64). */
typedef uint32_t v4u32 __attribute__((vector_size(16)));

static void salsa20_next4(salsa20_t *st, uint8_t blocks[256]) {
  v4u32 in[16], x[16];
  for (int i = 0; i < 16; i++) in[i] = (v4u32){st->input[i], st->input[i], st->input[i], st->input[i]};
  /* The 64-bit block counter is words 8 (low) and 9 (high). */
  for (uint32_t j = 0; j < 4; j++) {
    uint64_t ctr = ((uint64_t)st->input[9] << 32 | st->input[8]) + j;
    in[8][j] = (uint32_t)ctr;
    in[9][j] = (uint32_t)(ctr >> 32);
  }
  memcpy(x, in, sizeof x);
  for (int i = 0; i < 10; i++) {
    QR(x[0], x[4], x[8], x[12]);
    QR(x[5], x[9], x[13], x[1]);
    QR(x[10], x[14], x[2], x[6]);
    QR(x[15], x[3], x[7], x[11]);
    QR(x[0], x[1], x[2], x[3]);
    QR(x[5], x[6], x[7], x[4]);
    QR(x[10], x[11], x[8], x[9]);
    QR(x[15], x[12], x[13], x[14]);
  }
  for (int i = 0; i < 16; i++) {
    v4u32 w = x[i] + in[i];
    for (int j = 0; j < 4; j++) store32(blocks + 64 * j + 4 * i, w[j]);
  }
  uint64_t next = ((uint64_t)st->input[9] << 32 | st->input[8]) + 4;
  st->input[8] = (uint32_t)next;
  st->input[9] = (uint32_t)(next >> 32);
  wn_wipe(in, sizeof in);
  wn_wipe(x, sizeof x);
}

static void xor_words(uint8_t *out, const uint8_t *in, const uint8_t *ks, size_t len) {
  /* Word-wise: the compiler turns this into vector XORs. */
  for (size_t i = 0; i < len; i += 8) {
    uint64_t a, k;
    memcpy(&a, in + i, 8);
    memcpy(&k, ks + i, 8);
    a ^= k;
    memcpy(out + i, &a, 8);
  }
}

/* out[i] = in[i] ^ keystream, continuing the stream at the start of its next block. */
static void salsa20_xor(salsa20_t *st, uint8_t *out, const uint8_t *in, size_t len) {
  uint8_t blocks[256], block[64];
  for (; len >= 256; out += 256, in += 256, len -= 256) {
    salsa20_next4(st, blocks);
    xor_words(out, in, blocks, 256);
  }
  for (; len >= 64; out += 64, in += 64, len -= 64) {
    salsa20_next(st, block);
    xor_words(out, in, block, 64);
  }
  if (len > 0) {
    salsa20_next(st, block);
    for (size_t i = 0; i < len; i++) out[i] = in[i] ^ block[i];
  }
  wn_wipe(blocks, sizeof blocks);
  wn_wipe(block, sizeof block);
}

static inline uint64_t load64(const uint8_t *p) {
  return (uint64_t)load32(p) | ((uint64_t)load32(p + 4) << 32);
}

static inline void store64(uint8_t *p, uint64_t v) {
  store32(p, (uint32_t)v);
  store32(p + 4, (uint32_t)(v >> 32));
}

typedef unsigned __int128 u128;
#define MASK44 0xfffffffffffULL
#define MASK42 0x3ffffffffffULL

/* Poly1305 state in three limbs of 44, 44 and 42 bits, multiplied with 128-bit products. */
typedef struct {
  uint64_t r0, r1, r2, s1, s2, h0, h1, h2;
} poly1305_t;

static void poly1305_init(poly1305_t *p, const uint8_t key[32]) {
  uint64_t t0 = load64(key), t1 = load64(key + 8);
  /* r is clamped as the specification requires. */
  p->r0 = t0 & 0xffc0fffffffULL;
  p->r1 = ((t0 >> 44) | (t1 << 20)) & 0xfffffc0ffffULL;
  p->r2 = (t1 >> 24) & 0x00ffffffc0fULL;
  /* Products that overflow 2^130 wrap around times 5 (2^130 = 5 mod p), shifted by the limb gap. */
  p->s1 = p->r1 * (5 << 2);
  p->s2 = p->r2 * (5 << 2);
  p->h0 = p->h1 = p->h2 = 0;
}

/* Absorbs 16-byte blocks; `hibit` is 2^128 (as 1 << 40 in the top limb) for full blocks. */
static void poly1305_blocks(poly1305_t *p, const uint8_t *m, size_t len, uint64_t hibit) {
  const uint64_t r0 = p->r0, r1 = p->r1, r2 = p->r2, s1 = p->s1, s2 = p->s2;
  uint64_t h0 = p->h0, h1 = p->h1, h2 = p->h2, c;
  for (; len >= 16; m += 16, len -= 16) {
    uint64_t t0 = load64(m), t1 = load64(m + 8);
    h0 += t0 & MASK44;
    h1 += ((t0 >> 44) | (t1 << 20)) & MASK44;
    h2 += ((t1 >> 24) & MASK42) | hibit;
    u128 d0 = (u128)h0 * r0 + (u128)h1 * s2 + (u128)h2 * s1;
    u128 d1 = (u128)h0 * r1 + (u128)h1 * r0 + (u128)h2 * s2;
    u128 d2 = (u128)h0 * r2 + (u128)h1 * r1 + (u128)h2 * r0;
    c = (uint64_t)(d0 >> 44), h0 = (uint64_t)d0 & MASK44;
    d1 += c;
    c = (uint64_t)(d1 >> 44), h1 = (uint64_t)d1 & MASK44;
    d2 += c;
    c = (uint64_t)(d2 >> 42), h2 = (uint64_t)d2 & MASK42;
    h0 += c * 5;
    c = h0 >> 44, h0 &= MASK44;
    h1 += c;
  }
  p->h0 = h0, p->h1 = h1, p->h2 = h2;
}

/* Tag of the whole message m (one call per message). */
static void poly1305(uint8_t tag[16], const uint8_t *m, size_t len, const uint8_t key[32]) {
  poly1305_t p;
  poly1305_init(&p, key);
  size_t full = len & ~(size_t)15;
  poly1305_blocks(&p, m, full, 1ULL << 40);
  if (len > full) {
    uint8_t last[16] = {0};
    memcpy(last, m + full, len - full);
    last[len - full] = 1;
    poly1305_blocks(&p, last, 16, 0);
  }
  uint64_t h0 = p.h0, h1 = p.h1, h2 = p.h2, c;
  /* Carry fully (twice round), then reduce mod 2^130 - 5 by selecting h - p when h >= p, without
   * branching. */
  c = h1 >> 44, h1 &= MASK44, h2 += c;
  c = h2 >> 42, h2 &= MASK42, h0 += c * 5;
  c = h0 >> 44, h0 &= MASK44, h1 += c;
  c = h1 >> 44, h1 &= MASK44, h2 += c;
  c = h2 >> 42, h2 &= MASK42, h0 += c * 5;
  c = h0 >> 44, h0 &= MASK44, h1 += c;
  uint64_t g0 = h0 + 5;
  c = g0 >> 44, g0 &= MASK44;
  uint64_t g1 = h1 + c;
  c = g1 >> 44, g1 &= MASK44;
  uint64_t g2 = h2 + c - (1ULL << 42);
  uint64_t mask = (g2 >> 63) - 1; /* all ones when h >= p */
  h0 = (h0 & ~mask) | (g0 & mask);
  h1 = (h1 & ~mask) | (g1 & mask);
  h2 = (h2 & ~mask) | (g2 & mask);
  /* h mod 2^128, plus the pad. */
  uint64_t t0 = load64(key + 16), t1 = load64(key + 24);
  h0 += t0 & MASK44;
  c = h0 >> 44, h0 &= MASK44;
  h1 += (((t0 >> 44) | (t1 << 20)) & MASK44) + c;
  c = h1 >> 44, h1 &= MASK44;
  h2 += (t1 >> 24) + c;
  h2 &= MASK42;
  store64(tag, h0 | (h1 << 44));
  store64(tag + 8, (h1 >> 20) | (h2 << 24));
  wn_wipe(&p, sizeof p);
}

/* The stream for (key, nonce) positioned after the Poly1305 key, which goes to poly_key; the rest of
 * block 0 goes to first32. */
static void xsalsa20_start(salsa20_t *st, uint8_t poly_key[32], uint8_t first32[32], const uint8_t nonce[24],
                           const uint8_t key[32]) {
  uint8_t subkey[32], block[64];
  hsalsa20(subkey, key, nonce);
  salsa20_init(st, subkey, nonce + 16);
  salsa20_next(st, block);
  memcpy(poly_key, block, 32);
  memcpy(first32, block + 32, 32);
  wn_wipe(subkey, sizeof subkey);
  wn_wipe(block, sizeof block);
}

static void xor_with(uint8_t *out, const uint8_t *in, const uint8_t *ks, size_t len) {
  for (size_t i = 0; i < len; i++) out[i] = in[i] ^ ks[i];
}

static bool secretbox_args(napi_env env, napi_callback_info info, uint8_t **out, size_t *out_len, uint8_t **in,
                           size_t *in_len, uint8_t **nonce, uint8_t **key) {
  size_t argc = 4, nonce_len, key_len;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    wn_throw_type(env, "out, input, nonce and key are required");
    return false;
  }
  if (!wn_get_bytes(env, argv[0], out, out_len, "out") || !wn_get_bytes(env, argv[1], in, in_len, "input") ||
      !wn_get_bytes(env, argv[2], nonce, &nonce_len, "nonce") || !wn_get_bytes(env, argv[3], key, &key_len, "key"))
    return false;
  if (nonce_len != 24 || key_len != 32) {
    wn_throw_type(env, "nonce must be 24 bytes and key 32 bytes");
    return false;
  }
  return true;
}

void wn_secretbox_seal(uint8_t *out, const uint8_t *msg, size_t msg_len, const uint8_t nonce[24],
                       const uint8_t key[32]) {
  salsa20_t st;
  uint8_t poly_key[32], first[32];
  xsalsa20_start(&st, poly_key, first, nonce, key);
  uint8_t *ct = out + 16;
  size_t head = msg_len < 32 ? msg_len : 32;
  xor_with(ct, msg, first, head);
  salsa20_xor(&st, ct + head, msg + head, msg_len - head);
  poly1305(out, ct, msg_len, poly_key);
  /* The stream state holds the XSalsa20 subkey: wipe it with the rest. */
  wn_wipe(poly_key, sizeof poly_key);
  wn_wipe(first, sizeof first);
  wn_wipe(&st, sizeof st);
}

bool wn_secretbox_open(uint8_t *out, const uint8_t *box, size_t box_len, const uint8_t nonce[24],
                       const uint8_t key[32]) {
  size_t out_len = box_len - 16;
  salsa20_t st;
  uint8_t poly_key[32], first[32], tag[16];
  xsalsa20_start(&st, poly_key, first, nonce, key);
  const uint8_t *ct = box + 16;
  poly1305(tag, ct, out_len, poly_key);
  wn_wipe(poly_key, sizeof poly_key);
  uint32_t diff = 0;
  for (int i = 0; i < 16; i++) diff |= (uint32_t)(tag[i] ^ box[i]);
  if (diff == 0) {
    size_t head = out_len < 32 ? out_len : 32;
    xor_with(out, ct, first, head);
    salsa20_xor(&st, out + head, ct + head, out_len - head);
  }
  /* The stream state holds the XSalsa20 subkey: wipe it with the rest, on both outcomes. */
  wn_wipe(first, sizeof first);
  wn_wipe(&st, sizeof st);
  wn_wipe(tag, sizeof tag);
  return diff == 0;
}

napi_value secretbox_seal(napi_env env, napi_callback_info info) {
  uint8_t *out, *msg, *nonce, *key;
  size_t out_len, msg_len;
  if (!secretbox_args(env, info, &out, &out_len, &msg, &msg_len, &nonce, &key)) return NULL;
  if (out_len != msg_len + 16) return wn_throw_type(env, "out must be 16 bytes longer than the message");
  wn_secretbox_seal(out, msg, msg_len, nonce, key);
  return NULL;
}

napi_value secretbox_open(napi_env env, napi_callback_info info) {
  uint8_t *out, *box, *nonce, *key;
  size_t out_len, box_len;
  if (!secretbox_args(env, info, &out, &out_len, &box, &box_len, &nonce, &key)) return NULL;
  if (box_len < 16 || out_len != box_len - 16)
    return wn_throw_type(env, "box must hold a tag and out be 16 bytes shorter than it");
  napi_value result;
  NAPI_CHECK(env, napi_get_boolean(env, wn_secretbox_open(out, box, box_len, nonce, key), &result));
  return result;
}
