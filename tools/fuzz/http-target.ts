/** Fuzz target for the weaver HTTP API: its request handler against a fake backend. */
import { createHttpApi, type HttpApi } from '../../packages/weaver/src/http-api.js';
import { createFakeBackend } from '../../packages/weaver/test/fake-backend.js';
import type { FuzzTarget } from './targets.js';

let api: HttpApi | undefined;
const BUILTIN_ERRORS = new Set([
  'Error',
  'TypeError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'URIError',
  'EvalError',
]);
const unexpected500: unknown[] = [];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'G\u00e9T', ''];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const http: FuzzTarget = {
  name: 'http',
  description:
    'weaver HttpApi.handle (router, query and form parsing, every route) against a fake backend; first byte picks the method, then url\\nbody',
  maxLen: 1024,
  async setup() {
    api = createHttpApi(createFakeBackend(), {
      // A typed error (its own `name`) is a refusal the API reports; a built-in one is a bug.
      onError: (err) => {
        if (!(err instanceof Error) || BUILTIN_ERRORS.has(err.name)) unexpected500.push(err);
      },
    });
  },
  seeds: () =>
    [
      [0, '/status'],
      [0, '/status/peers'],
      [0, '/report?format={{.Router.Name}}'],
      [0, '/metrics'],
      [1, '/connect\nreplace=true&peer=10.0.0.1&peer=10.0.0.2'],
      [1, '/forget\npeer=10.0.0.1'],
      [1, '/ip/c1?check-alive=true'],
      [2, '/ip/c1/10.32.0.5/12'],
      [3, '/ip/c1'],
      [1, '/ip/c1/10.32.0.0/12'],
      [2, '/name/c1/10.32.0.5\nfqdn=web.weave.local.'],
      [3, '/name/c1/10.32.0.5?fqdn=web.weave.local.'],
      [0, '/domain'],
      [1, '/expose/10.32.0.0/12'],
      [0, '/ipinfo/defaultsubnet'],
      [1, '/peer\n'],
      [3, '/peer/0a:00:00:00:00:01'],
    ].map(([m, s]) => Uint8Array.of(m as number, ...encoder.encode(s as string))),
  async run(input) {
    if (input.length === 0) return;
    const method = METHODS[input[0]! % METHODS.length]!;
    const text = decoder.decode(input.subarray(1));
    const nl = text.indexOf('\n');
    const url = nl < 0 ? text : text.slice(0, nl);
    const body = nl < 0 ? undefined : text.slice(nl + 1);
    const res = await api!.handle({
      method,
      url,
      ...(body === undefined
        ? {}
        : { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    });
    if (typeof res.status !== 'number' || typeof res.body !== 'string')
      throw new TypeError('malformed response');
    if (unexpected500.length > 0) {
      const e = unexpected500.pop();
      unexpected500.length = 0;
      throw e;
    }
  },
  expected: () => false,
};

export default http;
