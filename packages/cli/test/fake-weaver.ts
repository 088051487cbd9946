import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake weaver saw. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string[]>;
  form: Record<string, string[]>;
  accept: string | undefined;
}

/** A canned answer. */
export interface FakeReply {
  status?: number;
  body?: string;
}

/** Handler for one `METHOD /path` (exact path, without query). */
export type FakeRoute = (req: SeenRequest) => FakeReply | undefined;

/** An HTTP server on 127.0.0.1 standing in for weaver's API in CLI tests. */
export interface FakeWeaver {
  addr: string;
  seen: SeenRequest[];
  /** Routes keyed `METHOD /path`; unknown ones answer 404. */
  routes: Map<string, FakeRoute>;
  close(): Promise<void>;
}

function multi(params: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of params) {
    const list = out[k] ?? [];
    list.push(v);
    out[k] = list;
  }
  return out;
}

/** Starts a fake weaver on a free port. */
export async function startFakeWeaver(): Promise<FakeWeaver> {
  const seen: SeenRequest[] = [];
  const routes = new Map<string, FakeRoute>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      const r: SeenRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: multi(url.searchParams),
        form: req.headers['content-type']?.includes('x-www-form-urlencoded')
          ? multi(new URLSearchParams(body))
          : {},
        accept: req.headers.accept,
      };
      seen.push(r);
      const route = routes.get(`${r.method} ${r.path}`);
      const reply = route?.(r) ?? { status: 404, body: '404 page not found\n' };
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    addr: `127.0.0.1:${port}`,
    seen,
    routes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
