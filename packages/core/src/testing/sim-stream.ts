import { EventEmitter } from 'eventemitter3';
import type { Endpoint, StreamConnection, StreamConnectionEvents } from '../transport.js';
import { type Fabric, type Host, type Link, sysError } from './sim-fabric.js';

type InboxItem = { data: Uint8Array } | { close: true; error: Error | undefined };

/** One end of a simulated stream. */
export class SimStreamConnection extends EventEmitter<StreamConnectionEvents> implements StreamConnection {
  peer!: SimStreamConnection;
  /** No more data in or out: closed here, by the other end, or by a broken link. */
  #closed = false;
  #closedHere = false;
  #closeEmitted = false;
  #inbox: InboxItem[] = [];
  #flushQueued = false;
  #outgoing: { at: number; items: InboxItem[] } | undefined;

  constructor(
    private readonly fabric: Fabric,
    private readonly link: Link,
    private readonly host: Host,
    readonly local: Endpoint,
    readonly remote: Endpoint,
  ) {
    super();
    host.connections.add(this);
  }

  get hostIp(): string {
    return this.host.ip;
  }

  // Attaching a listener releases what the inbox held back (see the file comment).
  override on<T extends EventEmitter.EventNames<StreamConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<StreamConnectionEvents, T>,
    context?: unknown,
  ): this {
    super.on(event, fn, context);
    this.#queueFlush();
    return this;
  }

  override addListener<T extends EventEmitter.EventNames<StreamConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<StreamConnectionEvents, T>,
    context?: unknown,
  ): this {
    return this.on(event, fn, context);
  }

  override once<T extends EventEmitter.EventNames<StreamConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<StreamConnectionEvents, T>,
    context?: unknown,
  ): this {
    super.once(event, fn, context);
    this.#queueFlush();
    return this;
  }

  write(chunk: Uint8Array): void {
    if (this.#closed || this.link.broken || chunk.length === 0) return;
    const copy = chunk.slice();
    const mss = this.fabric.mss;
    if (mss >= copy.length) this.#send({ data: copy });
    else {
      for (let off = 0; off < copy.length; off += mss) {
        this.#send({ data: copy.subarray(off, Math.min(copy.length, off + mss)) });
      }
    }
  }

  /** Puts `item` on the wire; items leaving in the same instant travel as one network event. */
  #send(item: InboxItem): void {
    const at = this.fabric.clock.now() + this.fabric.latency;
    const batch = this.#outgoing;
    if (batch && batch.at === at) {
      batch.items.push(item);
      return;
    }
    const next = { at, items: [item] };
    this.#outgoing = next;
    this.fabric.schedule(this.fabric.latency, () => {
      if (this.#outgoing === next) this.#outgoing = undefined;
      if (this.link.broken) return;
      for (const it of next.items) this.peer.#arrive(it);
    });
  }

  close(error?: Error): void {
    if (this.#closedHere || this.#closeEmitted) return;
    this.#closedHere = true;
    if (this.#closed) {
      // The other end's close notice waits behind unread data: report it now, the data is dropped.
      const notice = this.#inbox.at(-1);
      this.#inbox = [
        { close: true, error: error ?? (notice && 'close' in notice ? notice.error : undefined) },
      ];
      this.#queueFlush();
      return;
    }
    this.#end({ close: true, error }, true);
    if (this.link.broken) return;
    this.#send({ close: true, error: error !== undefined ? sysError('read', 'ECONNRESET') : undefined });
  }

  /** Closes this end with `error` without telling the other end (a broken link). */
  fail(error: Error): void {
    if (!this.#closed) this.#end({ close: true, error }, true);
  }

  /** Drops this end silently (a dial that never completed). */
  discard(): void {
    this.#closed = true;
    this.#closeEmitted = true;
    this.#retire();
  }

  #arrive(item: InboxItem): void {
    if (this.#closed) return;
    if ('close' in item) {
      // A reset discards unread data, as a Node socket does on error; a clean close queues behind it.
      this.#end(item, item.error !== undefined);
      return;
    }
    this.fabric.stats.chunks++;
    this.#inbox.push(item);
    this.#flush();
  }

  #end(item: InboxItem, discardUnread: boolean): void {
    this.#closed = true;
    this.#retire();
    if (discardUnread) this.#inbox = [item];
    else this.#inbox.push(item);
    // Our own close reports asynchronously, as a Node socket's does.
    if (discardUnread) this.#queueFlush();
    else this.#flush();
  }

  #retire(): void {
    this.host.connections.delete(this);
    if (this.link.ends.every((e) => e.#closed)) this.fabric.links.delete(this.link);
  }

  #queueFlush(): void {
    if (this.#flushQueued || this.#inbox.length === 0) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#inbox.length > 0) {
      const item = this.#inbox[0]!;
      if ('data' in item) {
        if (this.listenerCount('data') === 0) return;
        this.#inbox.shift();
        this.emit('data', item.data);
      } else {
        if (this.listenerCount('data') === 0 && this.listenerCount('close') === 0) return;
        this.#inbox = [];
        this.#closeEmitted = true;
        this.emit('close', item.error);
      }
    }
  }
}
