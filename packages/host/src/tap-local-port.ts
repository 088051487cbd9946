import type { CaptureHandler, LocalPort, Logger } from '@weave-ts/core';
import { silentLogger } from '@weave-ts/core';
import { TAP_BATCH_SIZE, Tap } from './tap.js';

/**
 * A TAP device as the router's local port: frames the kernel sends into the TAP (from the bridge the
 * TAP is attached to, i.e. from local containers) are captured in batches; frames from the mesh are
 * injected by writing them to the TAP. The caller attaches the TAP to its bridge.
 */
export class TapLocalPort implements LocalPort {
  readonly batchSize: number;

  private constructor(
    private readonly tap: Tap,
    /** The MTU of the TAP. */
    readonly mtu: number,
    private readonly logger: Logger,
  ) {
    this.batchSize = TAP_BATCH_SIZE;
  }

  /** Opens (creating) the TAP `name`; see {@link Tap.open} for the errors. */
  static open(options: { name: string; mtu: number; logger?: Logger }): TapLocalPort {
    return new TapLocalPort(Tap.open({ name: options.name }), options.mtu, options.logger ?? silentLogger);
  }

  /** The TAP itself (e.g. to attach the sleeve's fast path to). */
  get device(): Tap {
    return this.tap;
  }

  get name(): string {
    return this.tap.name;
  }

  onCapture(handler: CaptureHandler): void {
    this.tap.onFrames(handler, (error) => this.logger.warn(`${this.tap.name}: ${error.message}`));
  }

  /** Writes frames to the TAP; when the kernel queue is full the rest of the batch is dropped, like a NIC. */
  inject(frames: readonly Uint8Array[]): void {
    if (this.tap.closed || frames.length === 0) return;
    try {
      this.tap.write(frames);
    } catch (error) {
      this.logger.warn(`${this.tap.name}: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.tap.close();
  }
}
