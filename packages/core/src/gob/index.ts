// Public surface of the gob codec (re-exported by @weave-ts/core).
export { t, goTypeString } from './schema.js';
export type {
  GobType,
  GobValueType,
  Infer,
  GobNaming,
  GobBounds,
  GobFields,
  GobBoolType,
  GobIntType,
  GobInt64Type,
  GobUintType,
  GobUint64Type,
  GobStringType,
  GobBytesType,
  GobStructType,
  GobSliceType,
  GobArrayType,
  GobMapType,
  GobPtrType,
} from './schema.js';
export { GobError, GobLimitError, MAX_GOB_DEPTH } from './errors.js';
export { MAX_GOB_DEFINITIONS, MAX_GOB_DEFINITION_BYTES, type GobDecodeLimits } from './limits.js';
export { GobEncoder, encodeGob, encodeGobBody, type GobEncodeOptions } from './encoder.js';
export { GobDecoder, decodeGob } from './decoder.js';
export { GobValueCache } from './value-cache.js';
export { GobTypeIds } from './type-ids.js';
export { gobNilMap, isGobNilMap, zeroValue } from './values.js';
export type { WireType, WireField } from './wire-types.js';
