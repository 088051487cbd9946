// Traffic between test namespaces for end-to-end tests: ping until the path works, and a TCP transfer
// whose both ends report a sha256 of what they sent and received.
import { eventually } from './host-process.js';
import type { TestHost } from './test-hosts.js';

/** Options of {@link pingUntilReply}. */
export interface PingUntilReplyOptions {
  /** ICMP payload size in bytes (default 56). */
  readonly size?: number;
  /** How long to keep trying (default 20 s). */
  readonly timeoutMs?: number;
}

/** Pings `to` from `from` (one probe at a time) until one reply arrives; rejects after the timeout. */
export async function pingUntilReply(
  from: TestHost,
  to: string,
  options: PingUntilReplyOptions = {},
): Promise<void> {
  const { size = 56, timeoutMs = 20_000 } = options;
  await eventually(
    () =>
      from.exec('ping', ['-c', '1', '-W', '1', '-s', String(size), to]).then(
        () => true,
        () => false,
      ),
    (ok) => ok,
    timeoutMs,
  );
}

/** What {@link tcpTransfer} saw on both ends. */
export interface TcpTransferResult {
  /** sha256 (hex) of what the client sent. */
  readonly sent: string;
  /** Bytes the server received, and their sha256 (hex). */
  readonly received: {
    /** Bytes received. */
    n: number;
    /** Their sha256 (hex). */
    sha: string;
  };
}

/**
 * Sends `bytes` random bytes over TCP from `from` to a listener on `toIp`:5201 in `to`; resolves
 * with both sides' sha256 (equal when the data arrived intact). Gives up after `timeoutMs`.
 */
export async function tcpTransfer(
  from: TestHost,
  to: TestHost,
  toIp: string,
  bytes: number,
  timeoutMs = 90_000,
): Promise<TcpTransferResult> {
  const server = to.spawn(process.execPath, [
    '-e',
    `const s=require('net').createServer(c=>{const h=require('crypto').createHash('sha256');let n=0;
     c.on('data',d=>{n+=d.length;h.update(d)});c.on('end',()=>{console.log(JSON.stringify({n,sha:h.digest('hex')}));c.end();s.close()})});
     s.listen(5201,'${toIp}',()=>console.log('listening'))`,
  ]);
  const out: string[] = [];
  server.stdout!.on('data', (d) => out.push(String(d)));
  try {
    await eventually(
      async () => out.join(''),
      (s) => s.includes('listening'),
      10_000,
    );
    const client = await from.exec(
      process.execPath,
      [
        '-e',
        `const d=require('crypto').randomBytes(${bytes});const c=require('net').connect(5201,'${toIp}',()=>{c.end(d)});
       c.on('close',()=>console.log(require('crypto').createHash('sha256').update(d).digest('hex')))`,
      ],
      { timeoutMs },
    );
    const received = await eventually(
      async () => out.join(''),
      (s) => s.includes('sha'),
      timeoutMs,
    );
    return { sent: client.stdout.trim(), received: JSON.parse(received.slice(received.indexOf('{'))) };
  } finally {
    server.kill('SIGKILL');
  }
}
