import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';

/**
 * One Docker plugin endpoint set served over HTTP on a unix socket, as Docker's plugin discovery expects:
 *
 *   dockerd ──POST /Plugin.Activate, /NetworkDriver.Join, …──▶ <pluginDir>/<name>.sock ──▶ handler(body)
 *
 * Every request body is JSON (an empty body counts as `{}`); every answer is JSON with Docker's plugin
 * content type. A handler that throws becomes Docker's error form `{"Err": "<message>"}` (HTTP 500; a
 * body that is not a JSON object gets HTTP 400, an unknown method 404), so no request can crash the
 * daemon.
 */

/** The content type of the Docker plugin protocol. */
export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';

/** Largest request body accepted (Docker's requests are a few hundred bytes). */
export const MAX_PLUGIN_REQUEST_BYTES = 1 << 20;

/** Docker's default directory for plugin sockets. */
export const DEFAULT_PLUGIN_DIR = '/run/docker/plugins';

/** A request that cannot be served as sent (malformed or out of order); answered `{"Err": message}`. */
export class PluginRequestError extends Error {
  /** The error's stable name: `'PluginRequestError'`. */
  override name = 'PluginRequestError';
  /** HTTP status sent with the error body. */
  readonly status: number;
  constructor(message: string, status = 500) {
    super(message);
    this.status = status;
  }
}

/** A request body, parsed: always a JSON object. */
export type PluginRequest = Record<string, unknown>;

/** Serves one method (e.g. `/NetworkDriver.Join`); returns the JSON answer. */
export type PluginHandler = (request: PluginRequest) => unknown | Promise<unknown>;

/** What a {@link PluginServer} serves. */
export interface PluginServerOptions {
  /** Socket path, e.g. `/run/docker/plugins/weave.sock`. */
  socketPath: string;
  /** Methods by path (`/Plugin.Activate` included). */
  handlers: Readonly<Record<string, PluginHandler>>;
  /** Called for every failed request (for logging). */
  onError?: (method: string, error: Error) => void;
}

/** An HTTP server for one plugin socket. Construction does nothing; `start()` listens, `stop()` removes the socket. */
export class PluginServer {
  readonly socketPath: string;
  private server: Server | undefined;
  private readonly options: PluginServerOptions;

  constructor(options: PluginServerOptions) {
    this.options = options;
    this.socketPath = options.socketPath;
  }

  /** Listens on the socket (replacing a stale socket file left by an earlier run). */
  async start(): Promise<void> {
    if (this.server) return;
    await mkdir(dirname(this.socketPath), { recursive: true });
    await rm(this.socketPath, { force: true });
    const server = createServer((req, res) => {
      void this.serve(req, res);
    });
    server.requestTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.socketPath, 0o660).catch(() => {});
    this.server = server;
  }

  /** Stops listening and removes the socket file. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await rm(this.socketPath, { force: true });
  }

  /** Answers one request directly (what the socket does, without the socket): status and JSON body. */
  async call(method: string, body: string): Promise<{ status: number; body: unknown }> {
    const handler = Object.hasOwn(this.options.handlers, method) ? this.options.handlers[method] : undefined;
    try {
      if (!handler) throw new PluginRequestError(`${method}: method not supported by this plugin`, 404);
      return { status: 200, body: (await handler(parseBody(body))) ?? {} };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.options.onError?.(method, error);
      const status = err instanceof PluginRequestError ? err.status : 500;
      return { status, body: { Err: error.message || String(err) } };
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      send(res, 413, { Err: (err as Error).message });
      return;
    }
    const method = (req.url ?? '/').split('?')[0] ?? '/';
    const answer =
      req.method === 'POST' || method === '/Plugin.Activate'
        ? await this.call(method, body)
        : { status: 405, body: { Err: `${req.method} ${method}: plugin methods are called with POST` } };
    send(res, answer.status, answer.body);
  }
}

function parseBody(body: string): PluginRequest {
  if (body.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new PluginRequestError(`malformed request: ${(err as Error).message}`, 400);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PluginRequestError('malformed request: the body must be a JSON object', 400);
  }
  return value as PluginRequest;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PLUGIN_REQUEST_BYTES) {
        req.destroy();
        reject(new Error(`request body larger than ${MAX_PLUGIN_REQUEST_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': PLUGIN_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// ---- request field readers: malformed fields become PluginRequestError (HTTP 400) ----

/** A required non-empty string field. */
export function requireString(request: PluginRequest, field: string): string {
  const value = request[field];
  if (typeof value !== 'string' || value === '') {
    throw new PluginRequestError(`malformed request: ${field} must be a non-empty string`, 400);
  }
  return value;
}

/** An optional string field ('' and absent both give undefined). */
export function optionalString(request: PluginRequest, field: string): string | undefined {
  const value = request[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new PluginRequestError(`malformed request: ${field} must be a string`, 400);
  return value;
}

/** An optional object field (absent/null give {}). */
export function optionalObject(request: PluginRequest, field: string): Record<string, unknown> {
  const value = request[field];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new PluginRequestError(`malformed request: ${field} must be an object`, 400);
  }
  return value as Record<string, unknown>;
}

/** An optional array-of-objects field (absent/null give []). */
export function optionalObjectArray(request: PluginRequest, field: string): Record<string, unknown>[] {
  const value = request[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => v === null || typeof v !== 'object' || Array.isArray(v))) {
    throw new PluginRequestError(`malformed request: ${field} must be an array of objects`, 400);
  }
  return value as Record<string, unknown>[];
}
