// UDP traffic inside test namespaces, made by short-lived node processes.
import { once } from 'node:events';
import type { TestHost } from '../src/index.js';

/** Sends `count` datagrams "x" to address:port from inside the host, then exits. */
export async function udpBurst(host: TestHost, address: string, port: number, count: number): Promise<void> {
  const script = `const s=require('dgram').createSocket('udp4');let left=${count};
const go=()=>{if(left--===0){s.close();return}s.send('x',${port},'${address}',go)};go();`;
  await host.exec('node', ['-e', script]);
}

/**
 * Starts a listener on address:port inside the host and resolves once it is bound; `message`
 * resolves with the first datagram's text (the process then exits).
 */
export async function udpListen(
  host: TestHost,
  address: string,
  port: number,
): Promise<{ message: Promise<string>; stop: () => void }> {
  const script = `const s=require('dgram').createSocket('udp4');
s.on('message',(m)=>{process.stdout.write('MSG '+m.toString()+'\\n');s.close()});
s.bind(${port},'${address}',()=>process.stdout.write('READY\\n'));`;
  const child = host.spawn('node', ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const lines = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`listener exited early (${code})`)));
  });
  await lines;
  const message = once(child, 'exit').then(() => /MSG (.*)/.exec(out)?.[1] ?? '');
  return { message, stop: () => child.kill() };
}
