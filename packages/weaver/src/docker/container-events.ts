import type Docker from 'dockerode';
import { EventEmitter } from 'eventemitter3';

/**
 * Follows the engine's container events (`GET /events?filters={"type":["container"]}`) and re-emits
 * the ones weave acts on, typed. A dropped stream is re-opened after `retryMs` (events missed in
 * between are lost, as with upstream's listener).
 *
 *   engine ──JSON lines──▶ ContainerEventFollower ──'start' | 'die' | 'destroy' (id, attributes)──▶ …
 */

/** One container event. */
export interface ContainerEvent {
  /** Full container id. */
  id: string;
  /** `start`, `die`, `destroy`, … */
  action: string;
  /** Actor attributes: `name`, `image`, labels, `exitCode` on die. */
  attributes: Record<string, string>;
}

/** Events of a {@link ContainerEventFollower}. */
export interface ContainerEventFollowerEvents {
  start: (event: ContainerEvent) => void;
  die: (event: ContainerEvent) => void;
  destroy: (event: ContainerEvent) => void;
  /** The stream opened (again). */
  connected: () => void;
  /** The stream failed; it is retried. */
  error: (error: Error) => void;
}

/** What a follower needs. */
export interface ContainerEventFollowerOptions {
  docker: Docker;
  /** Delay before re-opening a dropped stream; default 1 s. */
  retryMs?: number;
}

const FOLLOWED = new Set(['start', 'die', 'destroy']);

/** Follows container events until `stop()`. */
export class ContainerEventFollower extends EventEmitter<ContainerEventFollowerEvents> {
  private readonly docker: Docker;
  private readonly retryMs: number;
  private stream: NodeJS.ReadableStream | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: ContainerEventFollowerOptions) {
    super();
    this.docker = options.docker;
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** Opens the stream; resolves once it is open (rejects if the first attempt fails). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.open();
    } catch (err) {
      this.running = false;
      throw err;
    }
  }

  /** Closes the stream; no more events. */
  stop(): void {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const s = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    this.stream = undefined;
    s?.removeAllListeners();
    s?.on('error', () => {});
    s?.destroy?.();
  }

  private async open(): Promise<void> {
    const stream = (await this.docker.getEvents({
      filters: { type: ['container'] },
    })) as NodeJS.ReadableStream;
    if (!this.running) {
      (stream as { destroy?: () => void }).destroy?.();
      return;
    }
    this.stream = stream;
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        this.handleLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
    });
    const reopen = (err?: Error) => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      if (err) this.emit('error', err);
      this.scheduleRetry();
    };
    stream.on('end', () => reopen());
    stream.on('error', (err: Error) => reopen(err));
    this.emit('connected');
  }

  private scheduleRetry(): void {
    if (!this.running || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.running) return;
      this.open().catch((err: Error) => {
        this.emit('error', err);
        this.scheduleRetry();
      });
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private handleLine(line: string): void {
    if (line.trim() === '') return;
    let msg: {
      Type?: string;
      Action?: string;
      status?: string;
      id?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
    };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.Type !== undefined && msg.Type !== 'container') return;
    const action = msg.Action ?? msg.status ?? '';
    const id = msg.Actor?.ID ?? msg.id ?? '';
    if (!FOLLOWED.has(action) || id === '') return;
    this.emit(action as 'start' | 'die' | 'destroy', { id, action, attributes: msg.Actor?.Attributes ?? {} });
  }
}
