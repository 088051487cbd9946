/**
 * Bounds on what one gob stream may make the decoder do. Weave sends every message as a fresh stream
 * (Go's `gob.NewEncoder` per message), so these are bounds per message. They are far above what
 * Weave 2.8.1 sends (a features map defines one type, a topology update three, an IPAM message about
 * ten) and low enough that a hostile stream is refused in microseconds with little memory.
 */

/**
 * Most type definitions one stream may carry. Checked as each definition arrives, so a stream
 * refused for this costs at most this many definitions' work.
 */
export const MAX_GOB_DEFINITIONS = 1024;

/** Most bytes of type-definition messages (ids and bodies, without the length prefixes) one stream may carry. */
export const MAX_GOB_DEFINITION_BYTES = 256 * 1024;

/** Bounds a {@link GobDecoder} enforces; each defaults to the constant of the same name. */
export interface GobDecodeLimits {
  /** Most type definitions in the stream (default {@link MAX_GOB_DEFINITIONS}). */
  readonly maxDefinitions?: number;
  /** Most bytes of type definitions in the stream (default {@link MAX_GOB_DEFINITION_BYTES}). */
  readonly maxDefinitionBytes?: number;
}
