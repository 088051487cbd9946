// A stand-in for weaver's HTTP API, run inside a test host namespace (plain JS, no loader), for
// CLI tests of attach/detach/expose/hide/ps before or without the real daemon. A tiny IPAM over
// 10.32.0.0/12 (sequential), DNS calls recorded, /expose puts the address on the `weave` bridge.
// Every request is appended to the log file as one JSON line.
// Usage: node fake-weaver-server.mjs <host:port> <log file>
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [listen, logFile] = process.argv.slice(2);
const [host, port] = listen.split(':');
const owned = new Map(); // id -> [cidr]
let next = 1;

const ipOf = (cidr) => cidr.replace(/\/.*$/, '');
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    const body = Buffer.concat(chunks).toString();
    appendFileSync(
      logFile,
      `${JSON.stringify({ method: req.method, path: url.pathname, query: url.search, body })}\n`,
    );
    const seg = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const reply = (status, text = '') => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(text);
    };
    try {
      if (seg[0] === 'status') return reply(200, 'fake weaver\n');
      if (seg[0] === 'ip' && seg.length >= 2) {
        const id = seg[1];
        const list = owned.get(id) ?? [];
        if (req.method === 'POST' && seg.length === 2) {
          let cidr = list.find((c) => c.endsWith('/12'));
          if (cidr === undefined) {
            cidr = `10.32.0.${next++}/12`;
            list.push(cidr);
          }
          owned.set(id, list);
          return reply(200, cidr);
        }
        if (req.method === 'PUT' && seg.length === 4) {
          list.push(`${seg[2]}/${seg[3]}`);
          owned.set(id, list);
          return reply(204);
        }
        if (req.method === 'GET' && seg.length === 2)
          return reply(200, list.filter((c) => c.endsWith('/12')).join(' '));
        if (req.method === 'DELETE' && seg.length === 3) {
          owned.set(
            id,
            list.filter((c) => ipOf(c) !== seg[2]),
          );
          return reply(204);
        }
      }
      if (seg[0] === 'name') return reply(204);
      if (seg[0] === 'expose' && seg.length === 3) {
        const cidr = `${seg[1]}/${seg[2]}`;
        execFileSync('ip', ['addr', req.method === 'POST' ? 'add' : 'del', cidr, 'dev', 'weave']);
        return reply(204);
      }
      reply(404, '404 page not found\n');
    } catch (err) {
      reply(500, `${err.message}\n`);
    }
  });
});
server.listen(Number(port), host, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
