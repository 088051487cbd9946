import { rmSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '@weave-ts/core';
import { silentLogger } from '@weave-ts/core';
import type Docker from 'dockerode';
import { type DockerEndpoint, parseDockerHost } from '../docker-client.js';
import { type CreateRewriteOptions, needsImageCommand, rewriteCreateRequest } from './create-rewrite.js';
import type { ProxyAttacher } from './proxy-attacher.js';

/**
 * The Docker API proxy (`weave launch-proxy`, `eval $(weave env)`): listens like an engine and passes
 * every request through to the real one, except
 *
 *   POST /containers/create           body rewritten (create-rewrite.ts): wait wrapper, weaveDNS, hostname
 *   POST /containers/{id}/start       after the engine started it: attach (ethwe + addresses + DNS),
 *                                     then the engine's answer goes back to the client
 *
 * Streams (logs, events, chunked bodies) are piped; hijacked connections (`docker run`'s attach,
 * `exec`, `Upgrade: tcp`) become raw byte pipes after the request head.
 */

/** Largest create body the proxy rewrites. */
const MAX_CREATE_BODY = 4 << 20;
const CREATE = /^(?:\/v[\d.]+)?\/containers\/create$/;
const START = /^(?:\/v[\d.]+)?\/containers\/([^/]+)\/start$/;

/** What a {@link DockerProxy} needs. */
export interface DockerProxyOptions {
  /** The engine to forward to (`unix:///var/run/docker.sock`, `tcp://…`). */
  dockerHost: string;
  /** Client for image lookups. */
  docker: Docker;
  /** Where to listen: `unix:///path`, `/path`, `tcp://host:port` (port 0 = any). */
  listen: readonly string[];
  /** Attaches containers after start. */
  attacher: ProxyAttacher;
  /** How create requests are rewritten. */
  rewrite: CreateRewriteOptions | (() => CreateRewriteOptions | Promise<CreateRewriteOptions>);
  logger?: Logger;
}

/** The proxy; `start()` listens, `stop()` closes and removes unix sockets. */
export class DockerProxy {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly engine: DockerEndpoint;
  private readonly logger: Logger;
  /** Bound addresses (`unix:///path`, `tcp://127.0.0.1:12375`), once started. */
  readonly addresses: string[] = [];

  constructor(private readonly options: DockerProxyOptions) {
    this.engine = parseDockerHost(options.dockerHost);
    this.logger = options.logger ?? silentLogger;
  }

  /** Listens on every address. */
  async start(): Promise<void> {
    try {
      for (const addr of this.options.listen) await this.listenOn(addr);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Closes every listener and open connection; unix socket files are removed. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const servers = this.servers.splice(0);
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
    for (const a of this.addresses.splice(0))
      if (a.startsWith('unix://')) rmSync(a.slice(7), { force: true });
  }

  private async listenOn(addr: string): Promise<void> {
    const server = createServer((req, res) => {
      void this.handle(req, res).catch((err: Error) => {
        this.logger.warn(`[proxy] ${req.method} ${req.url}: ${err.message}`);
        sendError(res, 500, err.message);
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.hijack(req, socket, head),
    );
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    const target = parseDockerHost(addr);
    // The default socket's directory (/var/run/weave) may not exist yet.
    if ('socketPath' in target) await mkdir(dirname(target.socketPath), { recursive: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if ('socketPath' in target) {
        rmSync(target.socketPath, { force: true });
        server.listen(target.socketPath, done);
      } else server.listen(target.port, target.host, done);
    });
    this.servers.push(server);
    if ('socketPath' in target) {
      await chmod(target.socketPath, 0o660).catch(() => {});
      this.addresses.push(`unix://${target.socketPath}`);
    } else {
      const bound = server.address();
      const port = typeof bound === 'object' && bound ? bound.port : target.port;
      this.addresses.push(`tcp://${target.host}:${port}`);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'POST' && CREATE.test(path)) return this.create(req, res);
    const start = req.method === 'POST' ? START.exec(path) : null;
    if (start) return this.start_(req, res, decodeURIComponent(start[1] ?? ''));
    this.pass(req, res);
  }

  /** Plain pass-through, streaming both ways. */
  private pass(req: IncomingMessage, res: ServerResponse, body?: Buffer): void {
    const headers = { ...req.headers };
    if (body !== undefined) {
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
    }
    const upstream = httpRequest(
      { ...this.engineTarget(), method: req.method, path: req.url, headers },
      (up) => {
        res.writeHead(
          up.statusCode ?? 502,
          up.statusMessage,
          up.rawHeaders as unknown as IncomingHttpHeaders,
        );
        res.flushHeaders();
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => sendError(res, 502, `weave proxy: engine unreachable: ${err.message}`));
    res.on('close', () => upstream.destroy());
    if (body !== undefined) upstream.end(body);
    else req.pipe(upstream);
  }

  private async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, MAX_CREATE_BODY);
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return this.pass(req, res, raw); // let the engine word the error
    }
    const name = new URL(req.url ?? '/', 'http://proxy').searchParams.get('name') ?? undefined;
    let image: { entrypoint: string[]; cmd: string[] } | undefined;
    if (needsImageCommand(body) && typeof body.Image === 'string') {
      try {
        const info = await this.options.docker.getImage(body.Image).inspect();
        image = { entrypoint: asList(info.Config?.Entrypoint), cmd: asList(info.Config?.Cmd) };
      } catch {
        return this.pass(req, res, raw); // unknown image: the engine answers 404 and the client pulls
      }
    }
    const options =
      typeof this.options.rewrite === 'function' ? await this.options.rewrite() : this.options.rewrite;
    let rewritten: Record<string, unknown>;
    try {
      rewritten = rewriteCreateRequest(body, name, image, options).body;
    } catch (err) {
      return sendError(res, 400, (err as Error).message);
    }
    this.pass(req, res, Buffer.from(JSON.stringify(rewritten)));
  }

  private async start_(req: IncomingMessage, res: ServerResponse, ref: string): Promise<void> {
    const body = await readBody(req, MAX_CREATE_BODY);
    const headers = { ...req.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    const answer = await new Promise<{ status: number; message?: string; headers: string[]; body: Buffer }>(
      (resolve, reject) => {
        const upstream = httpRequest(
          { ...this.engineTarget(), method: 'POST', path: req.url, headers },
          (up) => {
            readBody(up, MAX_CREATE_BODY).then(
              (b) =>
                resolve({
                  status: up.statusCode ?? 502,
                  message: up.statusMessage,
                  headers: up.rawHeaders,
                  body: b,
                }),
              reject,
            );
          },
        );
        upstream.on('error', reject);
        upstream.end(body);
      },
    ).catch((err: Error) => {
      sendError(res, 502, `weave proxy: engine unreachable: ${err.message}`);
      return undefined;
    });
    if (!answer) return;
    if (answer.status === 204) {
      try {
        await this.options.attacher.attachIfManaged(ref);
      } catch (err) {
        this.logger.warn(`[proxy] attaching ${ref}: ${(err as Error).message}`);
        return sendError(res, 500, `weave: attaching container ${ref} failed: ${(err as Error).message}`);
      }
    }
    res.writeHead(answer.status, answer.message, answer.headers as unknown as IncomingHttpHeaders);
    res.end(answer.body);
  }

  /** `Upgrade: tcp` (attach, exec start): forward the head, then pipe raw bytes both ways. */
  private hijack(req: IncomingMessage, client: Socket, head: Buffer): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    const engine =
      'socketPath' in this.engine
        ? connect(this.engine.socketPath)
        : connect(this.engine.port, this.engine.host);
    this.sockets.add(engine);
    engine.on('close', () => {
      this.sockets.delete(engine);
      client.destroy();
    });
    client.on('close', () => engine.destroy());
    engine.on('error', () => client.destroy());
    client.on('error', () => engine.destroy());
    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    engine.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) engine.write(head);
    engine.pipe(client);
    client.pipe(engine);
  }

  private engineTarget(): { socketPath: string } | { host: string; port: number } {
    return this.engine;
  }
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value !== '' ? [value] : [];
}

function readBody(stream: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        stream.destroy();
        reject(new Error(`body larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** An error the way the engine words them (`{"message": …}`), which the docker CLI prints. */
function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const text = `${JSON.stringify({ message })}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
