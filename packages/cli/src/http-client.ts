import { request } from 'node:http';

/**
 * A small HTTP/1.1 client for weaver's API (upstream's script uses curl). Only node:http, so
 * `weave status` stays quick to start.
 */

/** What weaver answered. */
export interface HttpResponse {
  /** The HTTP status code. */
  status: number;
  /** The response body as text. */
  body: string;
}

/** Options of one call. */
export interface HttpCallOptions {
  /** Form fields sent as application/x-www-form-urlencoded (repeatable keys in order). */
  form?: readonly (readonly [string, string])[];
  /** Query parameters appended to the path. */
  query?: readonly (readonly [string, string])[];
  /** Accept header. */
  accept?: string;
  /** Give up after this many milliseconds (connect and response); default 30 000. */
  timeoutMs?: number;
  /** Connect timeout in milliseconds (curl --connect-timeout 3 upstream); default 3 000. */
  connectTimeoutMs?: number;
}

/**
 * No HTTP exchange happened: the address refused, timed out or was unreachable. `exitCode` is the
 * one curl gives for it (7 could not connect, 28 timeout), which the upstream script passes on.
 */
export class HttpConnectError extends Error {
  /** The error's stable name: `'HttpConnectError'`. */
  override readonly name = 'HttpConnectError';
  /** curl-compatible exit status. */
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** Splits `host:port` (IPv6 in brackets allowed); throws RangeError when malformed. */
export function parseHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr.trim());
  const port = Number(m?.[3]);
  if (m === null || port < 1 || port > 65535) throw new RangeError(`invalid address: ${addr}`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' || host === '0.0.0.0' ? '127.0.0.1' : host, port };
}

/** Sends one request to `addr` (`host:port`) and resolves with the status and body. */
export function httpCall(
  addr: string,
  method: string,
  path: string,
  options: HttpCallOptions = {},
): Promise<HttpResponse> {
  const { host, port } = parseHostPort(addr);
  const query = options.query?.length ? `?${encodeForm(options.query)}` : '';
  const body = options.form === undefined ? undefined : encodeForm(options.form);
  const headers: Record<string, string> = {};
  if (options.accept !== undefined) headers.accept = options.accept;
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    let connected = false;
    const req = request({ host, port, method, path: path + query, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (err) =>
        reject(new HttpConnectError(`Recv failure: ${err.message}`, 56, { cause: err })),
      );
    });
    const connectTimer = setTimeout(() => {
      if (connected) return;
      req.destroy(
        new HttpConnectError(
          `Failed to connect to ${host} port ${port} after ${options.connectTimeoutMs ?? 3000} ms: Timeout was reached`,
          28,
        ),
      );
    }, options.connectTimeoutMs ?? 3000);
    req.on('socket', (socket) => {
      socket.on('connect', () => {
        connected = true;
        clearTimeout(connectTimer);
      });
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => {
      req.destroy(
        new HttpConnectError(`Operation timed out after ${options.timeoutMs ?? 30_000} milliseconds`, 28),
      );
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (err instanceof HttpConnectError) return reject(err);
      reject(connectError(err, host, port));
    });
    req.on('close', () => clearTimeout(connectTimer));
    req.end(body);
  });
}

function connectError(err: NodeJS.ErrnoException, host: string, port: number): HttpConnectError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new HttpConnectError(`Failed to connect to ${host} port ${port}: Connection refused`, 7, {
        cause: err,
      });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new HttpConnectError(`Failed to connect to ${host} port ${port}: No route to host`, 7, {
        cause: err,
      });
    case 'ECONNRESET':
      return new HttpConnectError('Recv failure: Connection reset by peer', 56, { cause: err });
    default:
      return new HttpConnectError(`Failed to connect to ${host} port ${port}: ${err.message}`, 7, {
        cause: err,
      });
  }
}

/** `k=v&k2=v2`, form-urlencoded, keys repeated in order. */
export function encodeForm(fields: readonly (readonly [string, string])[]): string {
  const params = new URLSearchParams();
  for (const [k, v] of fields) params.append(k, v);
  return params.toString();
}
