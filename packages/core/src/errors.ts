/**
 * Base class of every error weave-ts raises on purpose. Each condition has its own subclass with a
 * stable `name`, and the message text upstream Weave uses where one exists, so logs and status lines
 * read the same as a stock Weave Net router's.
 */
export class WeaveError extends Error {
  /** The error's stable name: `'WeaveError'`. */
  override name = 'WeaveError';
}
