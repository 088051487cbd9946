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
 * Written from the Salsa20 and Poly1305 specifications (D. J. Bernstein); Poly1305 uses five 26-bit limbs.
 */
#include <stdint.h>
#include <string.h>

#include "napi_util.h"

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
}

/* out[i] = in[i] ^ keystream, continuing the stream at the start of its next block. */
static void salsa20_xor(salsa20_t *st, uint8_t *out, const uint8_t *in, size_t len) {
  uint8_t block[64];
  for (; len >= 64; out += 64, in += 64, len -= 64) {
    salsa20_next(st, block);
    /* Word-wise: the compiler turns this into vector XORs. */
    for (int i = 0; i < 64; i += 8) {
      uint64_t a, k;
      memcpy(&a, in + i, 8);
      memcpy(&k, block + i, 8);
      a ^= k;
      memcpy(out + i, &a, 8);
    }
  }
  if (len > 0) {
    salsa20_next(st, block);
    for (size_t i = 0; i < len; i++) out[i] = in[i] ^ block[i];
  }
}

typedef struct {
  uint32_t r[5], s[4], h[5], pad[4];
} poly1305_t;

static void poly1305_init(poly1305_t *p, const uint8_t key[32]) {
  /* r is clamped as the specification requires. */
  p->r[0] = load32(key + 0) & 0x3ffffff;
  p->r[1] = (load32(key + 3) >> 2) & 0x3ffff03;
  p->r[2] = (load32(key + 6) >> 4) & 0x3ffc0ff;
  p->r[3] = (load32(key + 9) >> 6) & 0x3f03fff;
  p->r[4] = (load32(key + 12) >> 8) & 0x00fffff;
  for (int i = 0; i < 4; i++) {
    p->s[i] = p->r[i + 1] * 5;
    p->pad[i] = load32(key + 16 + 4 * i);
  }
  memset(p->h, 0, sizeof p->h);
}

/* Absorbs 16-byte blocks; `hibit` is 2^128 (as 1 << 24 in the top limb) for full blocks. */
static void poly1305_blocks(poly1305_t *p, const uint8_t *m, size_t len, uint32_t hibit) {
  const uint64_t r0 = p->r[0], r1 = p->r[1], r2 = p->r[2], r3 = p->r[3], r4 = p->r[4];
  const uint64_t s1 = p->s[0], s2 = p->s[1], s3 = p->s[2], s4 = p->s[3];
  uint32_t h0 = p->h[0], h1 = p->h[1], h2 = p->h[2], h3 = p->h[3], h4 = p->h[4];
  for (; len >= 16; m += 16, len -= 16) {
    h0 += load32(m + 0) & 0x3ffffff;
    h1 += (load32(m + 3) >> 2) & 0x3ffffff;
    h2 += (load32(m + 6) >> 4) & 0x3ffffff;
    h3 += (load32(m + 9) >> 6) & 0x3ffffff;
    h4 += (load32(m + 12) >> 8) | hibit;
    uint64_t d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
    uint64_t d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
    uint64_t d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
    uint64_t d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
    uint64_t d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
    uint32_t c = (uint32_t)(d0 >> 26);
    h0 = (uint32_t)d0 & 0x3ffffff;
    d1 += c;
    c = (uint32_t)(d1 >> 26);
    h1 = (uint32_t)d1 & 0x3ffffff;
    d2 += c;
    c = (uint32_t)(d2 >> 26);
    h2 = (uint32_t)d2 & 0x3ffffff;
    d3 += c;
    c = (uint32_t)(d3 >> 26);
    h3 = (uint32_t)d3 & 0x3ffffff;
    d4 += c;
    c = (uint32_t)(d4 >> 26);
    h4 = (uint32_t)d4 & 0x3ffffff;
    h0 += c * 5;
    c = h0 >> 26;
    h0 &= 0x3ffffff;
    h1 += c;
  }
  p->h[0] = h0, p->h[1] = h1, p->h[2] = h2, p->h[3] = h3, p->h[4] = h4;
}

/* Tag of the whole message m (one call per message). */
static void poly1305(uint8_t tag[16], const uint8_t *m, size_t len, const uint8_t key[32]) {
  poly1305_t p;
  poly1305_init(&p, key);
  size_t full = len & ~(size_t)15;
  poly1305_blocks(&p, m, full, 1u << 24);
  if (len > full) {
    uint8_t last[16] = {0};
    memcpy(last, m + full, len - full);
    last[len - full] = 1;
    poly1305_blocks(&p, last, 16, 0);
  }
  uint32_t h0 = p.h[0], h1 = p.h[1], h2 = p.h[2], h3 = p.h[3], h4 = p.h[4], c;
  /* Carry fully, then reduce mod 2^130 - 5 by selecting h - p when h >= p (without branching). */
  c = h1 >> 26, h1 &= 0x3ffffff, h2 += c;
  c = h2 >> 26, h2 &= 0x3ffffff, h3 += c;
  c = h3 >> 26, h3 &= 0x3ffffff, h4 += c;
  c = h4 >> 26, h4 &= 0x3ffffff, h0 += c * 5;
  c = h0 >> 26, h0 &= 0x3ffffff, h1 += c;
  uint32_t g0 = h0 + 5;
  c = g0 >> 26, g0 &= 0x3ffffff;
  uint32_t g1 = h1 + c;
  c = g1 >> 26, g1 &= 0x3ffffff;
  uint32_t g2 = h2 + c;
  c = g2 >> 26, g2 &= 0x3ffffff;
  uint32_t g3 = h3 + c;
  c = g3 >> 26, g3 &= 0x3ffffff;
  uint32_t g4 = h4 + c - (1u << 26);
  uint32_t mask = (g4 >> 31) - 1; /* all ones when h >= p */
  h0 = (h0 & ~mask) | (g0 & mask);
  h1 = (h1 & ~mask) | (g1 & mask);
  h2 = (h2 & ~mask) | (g2 & mask);
  h3 = (h3 & ~mask) | (g3 & mask);
  h4 = (h4 & ~mask) | (g4 & mask);
  /* h mod 2^128, plus the pad. */
  uint32_t w0 = h0 | (h1 << 26), w1 = (h1 >> 6) | (h2 << 20), w2 = (h2 >> 12) | (h3 << 14),
           w3 = (h3 >> 18) | (h4 << 8);
  uint64_t f = (uint64_t)w0 + p.pad[0];
  store32(tag, (uint32_t)f);
  f = (uint64_t)w1 + p.pad[1] + (f >> 32);
  store32(tag + 4, (uint32_t)f);
  f = (uint64_t)w2 + p.pad[2] + (f >> 32);
  store32(tag + 8, (uint32_t)f);
  f = (uint64_t)w3 + p.pad[3] + (f >> 32);
  store32(tag + 12, (uint32_t)f);
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
  memset(subkey, 0, sizeof subkey);
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

napi_value secretbox_seal(napi_env env, napi_callback_info info) {
  uint8_t *out, *msg, *nonce, *key;
  size_t out_len, msg_len;
  if (!secretbox_args(env, info, &out, &out_len, &msg, &msg_len, &nonce, &key)) return NULL;
  if (out_len != msg_len + 16) return wn_throw_type(env, "out must be 16 bytes longer than the message");
  salsa20_t st;
  uint8_t poly_key[32], first[32];
  xsalsa20_start(&st, poly_key, first, nonce, key);
  uint8_t *ct = out + 16;
  size_t head = msg_len < 32 ? msg_len : 32;
  xor_with(ct, msg, first, head);
  salsa20_xor(&st, ct + head, msg + head, msg_len - head);
  poly1305(out, ct, msg_len, poly_key);
  memset(poly_key, 0, sizeof poly_key);
  return NULL;
}

napi_value secretbox_open(napi_env env, napi_callback_info info) {
  uint8_t *out, *box, *nonce, *key;
  size_t out_len, box_len;
  if (!secretbox_args(env, info, &out, &out_len, &box, &box_len, &nonce, &key)) return NULL;
  if (box_len < 16 || out_len != box_len - 16)
    return wn_throw_type(env, "box must hold a tag and out be 16 bytes shorter than it");
  salsa20_t st;
  uint8_t poly_key[32], first[32], tag[16];
  xsalsa20_start(&st, poly_key, first, nonce, key);
  const uint8_t *ct = box + 16;
  poly1305(tag, ct, out_len, poly_key);
  memset(poly_key, 0, sizeof poly_key);
  uint32_t diff = 0;
  for (int i = 0; i < 16; i++) diff |= (uint32_t)(tag[i] ^ box[i]);
  napi_value result;
  if (diff == 0) {
    size_t head = out_len < 32 ? out_len : 32;
    xor_with(out, ct, first, head);
    salsa20_xor(&st, out + head, ct + head, out_len - head);
  }
  NAPI_CHECK(env, napi_get_boolean(env, diff == 0, &result));
  return result;
}
