import type { DatagramSocket, Endpoint } from '../transport.js';
import { ANY, type Fabric, LOOPBACK } from './sim-fabric.js';

/** A datagram socket bound on a simulated host. */
export class SimDatagramSocket implements DatagramSocket {
  #handler: ((batch: readonly { data: Uint8Array; from: Endpoint }[]) => void) | undefined;
  #closed = false;

  constructor(
    private readonly fabric: Fabric,
    readonly hostIp: string,
    readonly local: Endpoint,
  ) {}

  send(datagrams: readonly (readonly Uint8Array[])[], to: Endpoint): void {
    if (!this.#closed) this.fabric.sendDatagrams(this, datagrams, to);
  }

  onReceive(handler: (batch: readonly { data: Uint8Array; from: Endpoint }[]) => void): void {
    this.#handler = handler;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.fabric.unbind(this);
    }
    return Promise.resolve();
  }

  accepts(dialled: string): boolean {
    return ANY.has(this.local.host) || this.local.host === dialled || LOOPBACK.has(dialled);
  }

  /** Hands a batch to the receiver; false when there is none (the datagrams are lost). */
  deliver(batch: { data: Uint8Array; from: Endpoint }[]): boolean {
    if (this.#closed || !this.#handler) return false;
    this.#handler(batch);
    return true;
  }
}
