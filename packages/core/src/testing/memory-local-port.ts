import { type CaptureHandler, DATAPATH_BATCH_SIZE, type LocalPort } from '../datapath.js';
import { MEMORY_DEFAULT_MTU } from './memory-datapath.js';

/** Options of a {@link MemoryLocalPort}. */
export interface MemoryLocalPortOptions {
  /** The port's interface name (default `memory`). */
  readonly name?: string;
  /** The MTU it reports (default {@link MEMORY_DEFAULT_MTU}). */
  readonly mtu?: number;
  /** Largest capture batch (default `DATAPATH_BATCH_SIZE`, 128). */
  readonly batchSize?: number;
}

/**
 * An in-memory `LocalPort`: the test plays the containers. {@link capture} hands frames to the capture
 * handler (copies, in batches of at most `batchSize`, synchronously); whatever the datapath injects
 * is kept for {@link takeInjected}.
 */
export class MemoryLocalPort implements LocalPort {
  readonly name: string;
  readonly mtu: number;
  readonly batchSize: number;
  private handler: CaptureHandler | undefined;
  private injected: Uint8Array[] = [];
  private closed = false;

  constructor(options: MemoryLocalPortOptions = {}) {
    this.name = options.name ?? 'memory';
    this.mtu = options.mtu ?? MEMORY_DEFAULT_MTU;
    this.batchSize = options.batchSize ?? DATAPATH_BATCH_SIZE;
  }

  onCapture(handler: CaptureHandler): void {
    this.handler = handler;
  }

  /** Copies the frames into the injected list (dropped after close). */
  inject(frames: readonly Uint8Array[]): void {
    if (this.closed) return;
    for (const frame of frames) this.injected.push(frame.slice());
  }

  /** Test side: local containers sent these frames. */
  capture(frames: readonly Uint8Array[]): void {
    for (let i = 0; i < frames.length && !this.closed; i += this.batchSize) {
      this.handler?.(frames.slice(i, i + this.batchSize).map((f) => f.slice()));
    }
  }

  /** Test side: the frames injected since the last call, oldest first. */
  takeInjected(): Uint8Array[] {
    const out = this.injected;
    this.injected = [];
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handler = undefined;
    this.injected = [];
  }
}
