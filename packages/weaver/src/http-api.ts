import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parseAddress, parseCIDR, parseSubnet } from '@weave-ts/ipam';
import type { ApiBackend, StatusSectionName, WeaveReport } from './api-backend.js';
import { parseTemplate, TemplateParseError } from './go-template.js';

/**
 * Weave's HTTP API (brief §9.3) over an {@link ApiBackend}: the same paths, verbs, status codes and
 * texts as upstream weaver (gorilla/mux semantics: a known path with another verb is 405, an unknown
 * path `404 page not found`; errors are plain-text 400s ending in a newline). {@link HttpApi.handle} is
 * a pure request → response function (no sockets: tests and fuzzers call it directly);
 * {@link HttpApi.listener} adapts it to `node:http`.
 */

/** A request as the API sees it. */
export interface ApiRequest {
  /** `GET`, `POST`, … */
  method: string;
  /** Path and query, e.g. `/ip/c1?check-alive=true`. */
  url: string;
  /** Request headers (lower-case names, as node:http gives them). */
  headers?: Record<string, string | string[] | undefined>;
  /** The body (form-encoded for POST/PUT). */
  body?: string;
  /** Aborted when the client goes away (pending allocations answer `cancelled`). */
  signal?: AbortSignal;
}

/** A response. */
export interface ApiResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers (lower-case names). */
  headers: Record<string, string>;
  /** The body text. */
  body: string;
}

/** What a route handler receives. */
export interface RouteContext {
  /** The request being answered. */
  readonly request: ApiRequest;
  /** `{name}` segments of the route pattern, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Query parameters. */
  readonly query: URLSearchParams;
  /** Go's `r.Form`: body values (form-encoded POST/PUT/PATCH) first, then the query's. */
  readonly form: URLSearchParams;
  /** The first value of a form field, '' when absent (Go's `r.FormValue`). */
  formValue(name: string): string;
}

/** A route handler; it may throw {@link HttpError} for a plain-text error reply. */
export type RouteHandler = (ctx: RouteContext) => ApiResponse | Promise<ApiResponse>;

/** An error reply: `status` with `message` as a plain-text body (a newline is appended). */
export class HttpError extends Error {
  /** The error's stable name: `'HttpError'`. */
  override name = 'HttpError';
  constructor(
    /** The HTTP status code. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link createHttpApi}. */
export interface HttpApiOptions {
  /**
   * `status` serves only the read-only routes (`/status*`, `/report`, `/metrics`), as upstream's
   * status address; `control` (default) serves everything.
   */
  role?: 'control' | 'status';
  /** Called after each request (the daemon logs at debug level). */
  onRequest?: (req: ApiRequest, res: ApiResponse) => void;
  /** Called with handler errors that became a 500. */
  onError?: (err: unknown, req: ApiRequest) => void;
}

interface Route {
  method: string;
  segments: string[];
  /** Header that must contain a value (gorilla's `.Headers(...)`). */
  header?: [name: string, value: string];
  handler: RouteHandler;
}

/** Largest request body read (Go's ParseForm allows 10 MB). */
export const MAX_BODY_BYTES = 10 << 20;

const TEXT = 'text/plain; charset=utf-8';

/** A plain-text reply. */
export function text(body: string, status = 200): ApiResponse {
  return { status, headers: body === '' ? {} : { 'content-type': TEXT }, body };
}

/** A `204 No Content` reply. */
export function noContent(): ApiResponse {
  return { status: 204, headers: {}, body: '' };
}

/** A JSON reply (`indent` spaces, newline-terminated as Go's json.Encoder). */
export function json(value: unknown, indent?: number): ApiResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: `${JSON.stringify(value, null, indent)}${indent === undefined ? '\n' : ''}`,
  };
}

function errorResponse(status: number, message: string): ApiResponse {
  return {
    status,
    headers: { 'content-type': TEXT, 'x-content-type-options': 'nosniff' },
    body: `${message}\n`,
  };
}

const NOT_FOUND = () => errorResponse(404, '404 page not found');

/** Go's url.ParseQuery strictness: a `%` must start a two-digit hex escape. */
function checkFormEncoding(s: string): void {
  const bad = /%(?![0-9a-fA-F]{2})/.exec(s);
  if (bad)
    throw new HttpError(
      400,
      `unable to parse form: invalid URL escape "${s.slice(bad.index, bad.index + 3)}"`,
    );
}

function headerValue(headers: ApiRequest['headers'], name: string): string[] {
  const v = headers?.[name] ?? headers?.[name.toLowerCase()];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',').map((s) => s.trim()));
}

const SECTIONS: StatusSectionName[] = ['targets', 'connections', 'peers', 'dns', 'ipam'];

/** Weave's HTTP API. */
export class HttpApi {
  /** `control` (every route) or `status` (read-only routes). */
  readonly role: 'control' | 'status';
  private readonly routes: Route[] = [];
  private readonly mounts: { prefix: string; handler: RouteHandler }[] = [];

  constructor(
    private readonly backend: ApiBackend,
    private readonly options: HttpApiOptions = {},
  ) {
    this.role = options.role ?? 'control';
    this.addStatusRoutes();
    if (this.role === 'control') this.addControlRoutes();
  }

  /**
   * Adds a route. `pattern` is a path with `{name}` segments (`/ip/{id}`); `header` requires a request
   * header value (e.g. `['Accept', 'application/json']`). Later routes lose to earlier ones on the same path.
   */
  addRoute(method: string, pattern: string, handler: RouteHandler, header?: [string, string]): void {
    this.routes.push({
      method: method.toUpperCase(),
      segments: pattern.split('/').slice(1),
      handler,
      ...(header ? { header } : {}),
    });
  }

  /**
   * Hands every request whose path starts with `prefix` to `handler`, before the routes (the seam
   * for the Docker plugin's `/Plugin.Activate`, `/NetworkDriver.*`, `/IpamDriver.*` endpoints).
   */
  mount(prefix: string, handler: RouteHandler): void {
    this.mounts.push({ prefix, handler });
  }

  /** Answers one request; never throws. */
  async handle(request: ApiRequest): Promise<ApiResponse> {
    let response: ApiResponse;
    try {
      response = await this.dispatch(request);
    } catch (err) {
      if (err instanceof HttpError) response = errorResponse(err.status, err.message);
      else {
        this.options.onError?.(err, request);
        response = errorResponse(500, err instanceof Error ? err.message : String(err));
      }
    }
    this.options.onRequest?.(request, response);
    return response;
  }

  /** A `node:http` request listener serving this API. */
  get listener(): RequestListener {
    return (req, res) => void this.serveNode(req, res);
  }

  private async serveNode(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    let body = '';
    try {
      body = await readBody(req);
    } catch (err) {
      const r =
        err instanceof HttpError ? errorResponse(err.status, err.message) : errorResponse(400, String(err));
      res.writeHead(r.status, { ...r.headers, connection: 'close' }).end(r.body);
      return;
    }
    const response = await this.handle({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body,
      signal: controller.signal,
    });
    if (res.destroyed) return;
    res.writeHead(response.status, response.headers).end(response.body);
  }

  private async dispatch(request: ApiRequest): Promise<ApiResponse> {
    let url: URL;
    try {
      // Always relative to our origin: `//host/x` stays the path `//host/x` (a 404), never a host.
      url = new URL(`http://weave.invalid${request.url.startsWith('/') ? '' : '/'}${request.url}`);
    } catch {
      throw new HttpError(400, 'malformed request URI');
    }
    const path = url.pathname;
    const query = url.searchParams;
    const method = request.method.toUpperCase();
    // Go parses the form only when a handler reads it: bad escapes fail those requests alone.
    let form: URLSearchParams | undefined;
    const readForm = (): URLSearchParams => {
      if (form) return form;
      checkFormEncoding(url.search);
      const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
      const contentType = headerValue(request.headers, 'content-type')[0] ?? '';
      const body = request.body ?? '';
      let bodyForm = new URLSearchParams();
      if (
        hasBody &&
        body !== '' &&
        (contentType === '' || contentType.startsWith('application/x-www-form-urlencoded'))
      ) {
        checkFormEncoding(body);
        bodyForm = new URLSearchParams(body);
      }
      form = new URLSearchParams([...bodyForm, ...query]);
      return form;
    };
    const makeContext = (params: Record<string, string>): RouteContext => ({
      request,
      params,
      query,
      get form() {
        return readForm();
      },
      formValue: (name) => readForm().get(name) ?? '',
    });
    for (const m of this.mounts) if (path.startsWith(m.prefix)) return m.handler(makeContext({}));

    const segments = path.split('/').slice(1);
    let methodMismatch = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (params === undefined) continue;
      if (route.header) {
        const [name, want] = route.header;
        if (!headerValue(request.headers, name).includes(want)) continue;
      }
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return route.handler(makeContext(params));
    }
    return methodMismatch ? { status: 405, headers: {}, body: '' } : NOT_FOUND();
  }

  // ---- read-only routes (both addresses) ------------------------------------------------------

  private addStatusRoutes(): void {
    const b = this.backend;
    const status = (section?: StatusSectionName) => () => {
      let body: string;
      try {
        body = b.statusText(section);
      } catch (err) {
        this.options.onError?.(err, { method: 'GET', url: `/status${section ? `/${section}` : ''}` });
        throw new HttpError(500, 'error during template execution');
      }
      return text(body, b.isReady() ? 200 : 503);
    };
    this.addRoute('GET', '/status', status());
    for (const s of SECTIONS) this.addRoute('GET', `/status/${s}`, status(s));
    this.addRoute(
      'GET',
      '/report',
      () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: reportJson(b.report()) }),
      ['Accept', 'application/json'],
    );
    this.addRoute('GET', '/report', (ctx) => {
      const format = ctx.query.getAll('format');
      if (format.length !== 1) throw new HttpError(400, 'error: must supply one format parameter');
      let template: ReturnType<typeof parseTemplate>;
      try {
        template = parseTemplate(format[0]!);
      } catch (err) {
        if (err instanceof TemplateParseError) throw new HttpError(400, err.message);
        throw err;
      }
      let out: string;
      try {
        out = template.execute(b.report());
      } catch (err) {
        this.options.onError?.(err, ctx.request);
        throw new HttpError(500, 'error during template execution');
      }
      return text(out);
    });
    this.addRoute('GET', '/metrics', async () => {
      const m = await b.metrics();
      return { status: 200, headers: { 'content-type': m.contentType }, body: m.body };
    });
  }

  // ---- control routes (HTTP address only) ------------------------------------------------------

  private addControlRoutes(): void {
    const b = this.backend;
    // router/http.go
    this.addRoute('POST', '/connect', (ctx) => {
      const errors = b.connect(ctx.form.getAll('peer'), ctx.formValue('replace') === 'true');
      if (errors.length > 0) throw new HttpError(400, errors.join('\n'));
      return text('');
    });
    this.addRoute('POST', '/forget', (ctx) => {
      b.forget(ctx.form.getAll('peer'));
      return text('');
    });
    const exposeTarget = (ctx: RouteContext): string => {
      const cidr = `${ctx.params.ip}/${ctx.params.prefixlen}`;
      try {
        parseCIDR(cidr);
      } catch (err) {
        throw new HttpError(400, `unable to parse ip addr: ${(err as Error).message}`);
      }
      return cidr;
    };
    this.addRoute('POST', '/expose/{ip}/{prefixlen}', async (ctx) => {
      const cidr = exposeTarget(ctx);
      let skipNAT = false;
      const raw = ctx.formValue('skipNAT');
      if (raw !== '') skipNAT = parseGoBool(raw, 'unable to parse skipNAT option: ');
      if (!b.exposer)
        throw new HttpError(500, 'unable to expose: no bridge (this weaver runs without a kernel datapath)');
      try {
        await b.exposer.expose(cidr, { skipNAT });
      } catch (err) {
        throw new HttpError(500, `unable to expose: ${(err as Error).message}`);
      }
      return noContent();
    });
    // Ours: upstream's script hides by itself; here the daemon owns the rules, so it removes them.
    this.addRoute('DELETE', '/expose/{ip}/{prefixlen}', async (ctx) => {
      const cidr = exposeTarget(ctx);
      if (!b.exposer)
        throw new HttpError(500, 'unable to hide: no bridge (this weaver runs without a kernel datapath)');
      try {
        await b.exposer.hide(cidr);
      } catch (err) {
        throw new HttpError(500, `unable to hide: ${(err as Error).message}`);
      }
      return noContent();
    });
    // prog/weaver/discovery.go
    this.addRoute('DELETE', '/peer', async () => {
      await b.reset();
      return noContent();
    });
    this.addRoute('DELETE', '/peer/{id}', (ctx) => {
      try {
        const force = ctx.formValue('force') === 'true';
        return text(b.rmpeer(ctx.params.id!, force ? { force } : {}));
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
    });
    this.addRoute('GET', '/proxyaddrs', () => {
      const addrs = b.proxyAddresses();
      if (addrs.length === 0) return NOT_FOUND();
      return text(addrs.map((a) => `${a}\n`).join(''));
    });
    this.addIpamRoutes();
    this.addDnsRoutes();
  }

  private addIpamRoutes(): void {
    const ipam = () => {
      const i = this.backend.ipam;
      if (!i) throw new HttpError(404, '404 page not found');
      return i;
    };
    const cidrParam = (ctx: RouteContext, subnet: boolean): string => {
      const s = `${ctx.params.ip}/${ctx.params.prefixlen}`;
      try {
        return (subnet ? parseSubnet : parseCIDR)(s) && s;
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
    };
    const allocate = async (ctx: RouteContext, subnet: string | undefined) => {
      const i = ipam();
      try {
        return text(
          await i.allocate(ctx.params.id!, subnet, {
            checkAlive: ctx.formValue('check-alive') === 'true',
            ...(ctx.request.signal ? { signal: ctx.request.signal } : {}),
          }),
        );
      } catch (err) {
        if (isCancelled(err)) return text('cancelled');
        throw new HttpError(400, (err as Error).message);
      }
    };
    const wrap400 = <T>(f: () => T, prefix = ''): T => {
      try {
        return f();
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw new HttpError(400, `${prefix}${(err as Error).message}`);
      }
    };
    this.addRoute('GET', '/ipinfo/defaultsubnet', () => text(ipam().defaultSubnet));
    this.addRoute('PUT', '/ip/{id}/{ip}/{prefixlen}', async (ctx) => {
      const i = ipam();
      const cidr = cidrParam(ctx, false);
      try {
        await i.claim(ctx.params.id!, cidr, {
          checkAlive: ctx.formValue('check-alive') === 'true',
          noErrorOnUnknown: ctx.formValue('noErrorOnUnknown') === 'true',
          ...(ctx.request.signal ? { signal: ctx.request.signal } : {}),
        });
      } catch (err) {
        if (isCancelled(err)) return text('cancelled');
        throw new HttpError(400, `Unable to claim: ${(err as Error).message}`);
      }
      return noContent();
    });
    this.addRoute('GET', '/ring', async (ctx) => {
      const i = ipam();
      try {
        await i.prime(ctx.request.signal);
      } catch (err) {
        if (isCancelled(err)) return text('');
        throw new HttpError(400, (err as Error).message);
      }
      return text('');
    });
    this.addRoute('GET', '/ip/{id}/{ip}/{prefixlen}', (ctx) => {
      const i = ipam();
      const subnet = cidrParam(ctx, true);
      return text(wrap400(() => i.lookup(ctx.params.id!, subnet)).join(' '));
    });
    this.addRoute('GET', '/ip/{id}', (ctx) => {
      const i = ipam();
      return text(wrap400(() => i.lookup(ctx.params.id!)).join(' '));
    });
    this.addRoute('GET', '/ip', () => {
      const owned = ipam().owned();
      return json({ owned: owned.length === 0 ? null : owned });
    });
    this.addRoute('POST', '/ip/{id}/{ip}/{prefixlen}', (ctx) => {
      ipam();
      return allocate(ctx, cidrParam(ctx, true));
    });
    this.addRoute('POST', '/ip/{id}', (ctx) => allocate(ctx, undefined));
    this.addRoute('DELETE', '/ip/{id}/{ip}', (ctx) => {
      const i = ipam();
      const ip = ctx.params.ip!;
      wrap400(() => parseAddress(ip));
      wrap400(() => i.free(ctx.params.id!, ip), 'Unable to free: ');
      return noContent();
    });
    this.addRoute('DELETE', '/ip/{id}', (ctx) => {
      const i = ipam();
      wrap400(() => i.freeAll(ctx.params.id!));
      return noContent();
    });
    this.addRoute('GET', '/ipinfo/tracker', () => text(`${ipam().tracker()}\n`));
  }

  private addDnsRoutes(): void {
    const dns = () => {
      const d = this.backend.dns;
      if (!d) throw new HttpError(404, '404 page not found');
      return d;
    };
    const ipParam = (ip: string) => {
      try {
        parseAddress(ip);
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
    };
    this.addRoute('GET', '/domain', () => text(dns().domain));
    this.addRoute('PUT', '/name/{container}/{ip}', async (ctx) => {
      const d = dns();
      const { container, ip } = ctx.params as { container: string; ip: string };
      ipParam(ip);
      const fqdn = ctx.formValue('fqdn');
      if (fqdn === '') throw new HttpError(400, 'missing fqdn');
      try {
        await d.add(container, ip, fqdn, { checkAlive: ctx.formValue('check-alive') === 'true' });
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
      return noContent();
    });
    const remove = (ctx: RouteContext) => {
      const d = dns();
      const { container, ip } = ctx.params;
      if (ip !== undefined && ip !== '*') ipParam(ip);
      const fqdn = ctx.formValue('fqdn');
      const any = (v: string | undefined) => (v === undefined || v === '*' ? undefined : v);
      d.remove(
        any(container),
        any(ip),
        fqdn === '' || fqdn === '*' ? undefined : fqdn.endsWith('.') ? fqdn : `${fqdn}.`,
      );
      return noContent();
    };
    this.addRoute('DELETE', '/name/{container}/{ip}', remove);
    this.addRoute('DELETE', '/name/{container}', remove);
    this.addRoute('DELETE', '/name', remove);
    this.addRoute('GET', '/name', () => json(dns().entries()), ['Accept', 'application/json']);
    this.addRoute('GET', '/dns-address-port', () => text(dns().address()));
    this.addRoute('GET', '/dns-address', () => text(splitHost(dns().address())));
  }
}

/**
 * `/report` as upstream writes it (Go's `json.MarshalIndent` with four spaces, no trailing newline);
 * the 64-bit peer UIDs, decimal strings in our report, become bare numbers as in Go's JSON.
 */
export function reportJson(report: WeaveReport): string {
  return JSON.stringify(report, null, 4).replace(/("UID": )"(\d+)"/g, '$1$2');
}

function splitHost(address: string): string {
  const m = /^\[(.*)\]:\d*$/.exec(address) ?? /^(.*):\d*$/.exec(address);
  return m ? m[1]! : address;
}

function isCancelled(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'OperationCancelledError' || err.name === 'AbortError' || /cancelled$/.test(err.message))
  );
}

/** Go's strconv.ParseBool, with its error text. */
function parseGoBool(s: string, prefix: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new HttpError(400, `${prefix}strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`);
}

function matchSegments(pattern: string[], path: string[]): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let k = 0; k < pattern.length; k++) {
    const p = pattern[k]!;
    const s = path[k]!;
    if (p.startsWith('{') && p.endsWith('}')) {
      if (s === '') return undefined;
      try {
        params[p.slice(1, -1)] = decodeURIComponent(s);
      } catch {
        return undefined;
      }
    } else if (p !== s) return undefined;
  }
  return params;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(400, 'unable to parse form: http: POST too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The API over `backend` (see {@link HttpApi}). */
export function createHttpApi(backend: ApiBackend, options: HttpApiOptions = {}): HttpApi {
  return new HttpApi(backend, options);
}
