import { WeaveError } from '../errors.js';

/**
 * Any failure of the gob codec: malformed or truncated bytes, absurd lengths, unknown or reserved
 * type ids, nesting deeper than {@link MAX_GOB_DEPTH}, a wire type that does not fit the schema
 * ("type mismatch"), or a value that cannot be encoded. Messages start with `gob: ` as Go's do.
 */
export class GobError extends WeaveError {
  override name = 'GobError';
  constructor(message: string) {
    super(`gob: ${message}`);
  }
}

/** Deepest nesting of values the decoder follows before giving up (Weave's types nest ~6 deep). */
export const MAX_GOB_DEPTH = 100;
