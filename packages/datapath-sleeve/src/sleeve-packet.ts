import { FRAME_OVERHEAD, MAX_UDP_PACKET_SIZE, NAME_SIZE, PLAIN_PACKET_OVERHEAD } from './constants.js';
import { PacketDecodingError } from './errors.js';

/**
 * The sleeve datagram layout (`router/frame_crypto.go`):
 *
 * ```
 * UDP payload  = senderName[6] ‖ body
 * plain body   = repeat { srcName[6] ‖ dstName[6] ‖ frameLength uint16 BE ‖ frame }
 * NaCl body    = (seqNo | DF<<63) uint64 BE ‖ secretbox(plain body)
 * ```
 *
 * Encoders pack frames into one reusable scratch buffer and hand out a fresh copy per datagram, so
 * the socket may keep what it is given while the encoder moves on.
 */

/** Packs frame records into datagrams for one path (DF or non-DF) of one forwarder. */
export interface FrameEncoder {
  /** Bytes of a datagram before its first record: 6 plain, 30 with NaCl. */
  readonly packetOverhead: number;
  /** Records appended since the last {@link seal}. */
  readonly frameCount: number;
  /** The size the datagram (UDP payload) would have if sealed now. */
  totalLength(): number;
  /** Whether one more record for a frame of `frameLength` bytes keeps the datagram within `limit`. */
  fits(frameLength: number, limit: number): boolean;
  /**
   * Appends a record. `src` and `dst` are 6-byte names. The caller checks {@link fits} first;
   * appending past the largest datagram throws a RangeError.
   */
  append(src: Uint8Array, dst: Uint8Array, frame: Uint8Array): void;
  /** Returns the datagram built so far (a new buffer the caller owns) and starts an empty one. */
  seal(): Uint8Array;
}

/** Writes one record at `offset` of `buf`; returns the offset after it. */
export function writeFrameRecord(
  buf: Uint8Array,
  offset: number,
  src: Uint8Array,
  dst: Uint8Array,
  frame: Uint8Array,
): number {
  const end = offset + FRAME_OVERHEAD + frame.length;
  if (frame.length > 0xffff || end > buf.length) {
    throw new RangeError(`frame of ${frame.length} bytes does not fit the datagram`);
  }
  buf.set(src.subarray(0, NAME_SIZE), offset);
  buf.set(dst.subarray(0, NAME_SIZE), offset + NAME_SIZE);
  buf[offset + 12] = frame.length >>> 8;
  buf[offset + 13] = frame.length & 0xff;
  buf.set(frame, offset + FRAME_OVERHEAD);
  return end;
}

/** The encoder for connections without a session key: sender name, then the records as they are. */
export class PlainFrameEncoder implements FrameEncoder {
  readonly packetOverhead = PLAIN_PACKET_OVERHEAD;
  private readonly buf = new Uint8Array(MAX_UDP_PACKET_SIZE);
  private used = PLAIN_PACKET_OVERHEAD;
  private count = 0;

  /** `sender` is our own 6-byte name, written at the start of every datagram. */
  constructor(sender: Uint8Array) {
    this.buf.set(sender.subarray(0, NAME_SIZE));
  }

  get frameCount(): number {
    return this.count;
  }

  totalLength(): number {
    return this.used;
  }

  fits(frameLength: number, limit: number): boolean {
    return this.used + FRAME_OVERHEAD + frameLength <= limit;
  }

  append(src: Uint8Array, dst: Uint8Array, frame: Uint8Array): void {
    this.used = writeFrameRecord(this.buf, this.used, src, dst, frame);
    this.count++;
  }

  seal(): Uint8Array {
    const datagram = this.buf.slice(0, this.used);
    this.used = PLAIN_PACKET_OVERHEAD;
    this.count = 0;
    return datagram;
  }
}

/** Receives each decoded record; the arrays are views into the datagram. */
export type FrameRecordVisitor = (src: Uint8Array, dst: Uint8Array, frame: Uint8Array) => void;

/**
 * Walks the records of a plain body, calling `visit` for each complete one. Returns the decoding
 * problem that stopped the walk (`too short; expected frame of length …` or `… octets of trailing
 * garbage`), if any; the records before it have been visited.
 */
export function iterateFrameRecords(
  body: Uint8Array,
  visit: FrameRecordVisitor,
): PacketDecodingError | undefined {
  let offset = 0;
  while (body.length - offset >= FRAME_OVERHEAD) {
    const length = (body[offset + 12]! << 8) | body[offset + 13]!;
    const start = offset + FRAME_OVERHEAD;
    const available = body.length - start;
    if (available < length) {
      return new PacketDecodingError(`too short; expected frame of length ${length}, got ${available}`);
    }
    visit(
      body.subarray(offset, offset + NAME_SIZE),
      body.subarray(offset + NAME_SIZE, offset + 2 * NAME_SIZE),
      body.subarray(start, start + length),
    );
    offset = start + length;
  }
  if (offset < body.length)
    return new PacketDecodingError(`${body.length - offset} octets of trailing garbage`);
  return undefined;
}
