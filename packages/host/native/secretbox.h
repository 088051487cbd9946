/* NaCl secretbox on raw buffers, for C callers (the fast path); secretbox.c documents the layout. */
#ifndef WEAVE_SECRETBOX_H
#define WEAVE_SECRETBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* out = tag[16] ‖ ciphertext (msg_len + 16 bytes); out + 16 may alias msg exactly. */
void wn_secretbox_seal(uint8_t *out, const uint8_t *msg, size_t msg_len, const uint8_t nonce[24],
                       const uint8_t key[32]);
/* box = tag[16] ‖ ciphertext (box_len >= 16); writes box_len - 16 bytes to out only when authentic. */
bool wn_secretbox_open(uint8_t *out, const uint8_t *box, size_t box_len, const uint8_t nonce[24],
                       const uint8_t key[32]);

#endif
