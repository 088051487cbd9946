import { GobWriter } from '../../src/gob/varint.js';
import { encodeWireType, type WireType } from '../../src/gob/wire-types.js';

/** A stream of hand-made messages: type definitions, then one value of type `valueId` written by `body`. */
export function handMadeStream(
  defs: readonly WireType[],
  valueId: number,
  body: (w: GobWriter) => void,
): Uint8Array {
  const out = new GobWriter();
  const msg = new GobWriter();
  const flush = () => {
    out.uint(msg.length);
    out.raw(msg.view());
    msg.reset();
  };
  for (const def of defs) {
    msg.int(-def.id);
    encodeWireType(msg, def);
    flush();
  }
  msg.int(valueId);
  body(msg);
  flush();
  return out.view().slice();
}
