import { WeaveError } from '../errors.js';

/**
 * Any failure of the gob codec: malformed or truncated bytes, absurd lengths, unknown or reserved
 * type ids, nesting deeper than {@link MAX_GOB_DEPTH}, a wire type that does not fit the schema
 * ("type mismatch"), or a value that cannot be encoded. Messages start with `gob: ` as Go's do.
 */
export class GobError extends WeaveError {
  /** The error's stable name: `'GobError'`. */
  override name = 'GobError';
  constructor(message: string) {
    super(`gob: ${message}`);
  }
}

/** Deepest nesting of values the decoder follows before giving up (Weave's types nest ~6 deep). */
export const MAX_GOB_DEPTH = 100;

/**
 * A gob stream exceeded a bound set to keep hostile input cheap: too many or too long type
 * definitions, or more elements in a slice or map than its schema allows (see limits.ts). Thrown
 * before the memory is allocated; a connection that receives one is closed like for any GobError.
 */
export class GobLimitError extends GobError {
  /** The error's stable name: `'GobLimitError'`. */
  override name = 'GobLimitError';
  constructor(
    /** What overflowed (`type definitions`, `elements of []entry`, …). */
    readonly what: string,
    /** The bound. */
    readonly limit: number,
    /** The size the input asked for (at least `limit + 1`). */
    readonly actual: number,
    message: string,
  ) {
    super(message);
  }
}
