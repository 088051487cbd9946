import { type HostAddon, hostAddon } from './native.js';

/**
 * NaCl secretbox (XSalsa20-Poly1305) from the host addon (native/secretbox.c): byte for byte what
 * NaCl's `crypto_secretbox` produces, several times faster than a pure-JS implementation, and without
 * NaCl's zero-padding convention, so callers can seal from and open into views of their own buffers.
 */
export interface NativeSecretbox {
  /**
   * Writes `tag[16] ‖ ciphertext` of `msg` into `out` (`out.length` must be `msg.length + 16`).
   * `out.subarray(16)` may be `msg` itself (in place); no other overlap is allowed.
   * @throws TypeError for wrong lengths (nonce 24 bytes, key 32 bytes).
   */
  seal(out: Uint8Array, msg: Uint8Array, nonce: Uint8Array, key: Uint8Array): void;
  /**
   * Authenticates `box` (`tag[16] ‖ ciphertext`) and, only if the tag is right, writes the plaintext
   * into `out` (`out.length` must be `box.length - 16`). Returns whether the box was authentic; on
   * false `out` is unchanged. The comparison takes the same time wherever the tags differ.
   * @throws TypeError for wrong lengths.
   */
  open(out: Uint8Array, box: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean;
}

interface SecretboxAddon {
  secretboxSeal(out: Uint8Array, msg: Uint8Array, nonce: Uint8Array, key: Uint8Array): void;
  secretboxOpen(out: Uint8Array, box: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean;
}

let cached: NativeSecretbox | null | undefined;

/** The addon's secretbox, or undefined when the addon is not built (callers then use a JS one). */
export function nativeSecretbox(): NativeSecretbox | undefined {
  if (cached === undefined) {
    try {
      const addon = hostAddon() as HostAddon & Partial<SecretboxAddon>;
      const { secretboxSeal, secretboxOpen } = addon;
      cached =
        secretboxSeal && secretboxOpen
          ? { seal: secretboxSeal.bind(addon), open: secretboxOpen.bind(addon) }
          : null;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}
