import { EventEmitter } from 'eventemitter3';
import type { Overlay, OverlayConnection, OverlayConnectionEvents } from './overlay.js';

/**
 * An overlay with no datapath: every connection is established as soon as it is confirmed. The
 * control plane (gossip, IPAM, DNS) works on it; frames go nowhere.
 */
export class NullOverlay implements Overlay {
  addFeaturesTo(_features: Record<string, string>): void {}

  prepareConnection(): OverlayConnection {
    return new NullOverlayConnection();
  }

  diagnostics(): unknown {
    return null;
  }

  async stop(): Promise<void> {}
}

class NullOverlayConnection extends EventEmitter<OverlayConnectionEvents> implements OverlayConnection {
  established = false;
  private stopped = false;

  confirm(): void {
    queueMicrotask(() => {
      if (this.stopped || this.established) return;
      this.established = true;
      this.emit('established');
    });
  }

  controlMessage(): void {}

  attrs(): Readonly<Record<string, string | number | boolean>> {
    return {};
  }

  stop(): void {
    this.stopped = true;
    this.removeAllListeners();
  }
}
