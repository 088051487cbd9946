import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addAddress,
  createTestHosts,
  findLeftovers,
  getLink,
  InvalidInterfaceNameError,
  moveLinkToNetns,
  runIp,
  setLinkUp,
  TAP_BATCH_SIZE,
  Tap,
  TapClosedError,
  TapIoError,
  TapNameBusyError,
  TapOffload,
  TapPermissionError,
  type TestHost,
  type TestHosts,
  VNET_HDR_SIZE,
} from '../src/index.js';
import { mapTapOpenError } from '../src/tap.js';
import { arpRequest, udpDstPort, udpFrame } from './frames.js';
import { udpBurst, udpListen } from './udp.js';

const addonPath = fileURLToPath(new URL('../build/Release/weave_host.node', import.meta.url));
const PEER_MAC = '02:00:00:00:00:02';

let set: TestHosts;
let host: TestHost;
let n = 0;

/** Opens a TAP, moves it into the test host with 10.99.<k>.1/24 and a static neighbour .2. */
async function tapInHost(options: { vnetHdr?: boolean; batchSize?: number } = {}) {
  const k = ++n;
  const tap = Tap.open({ name: `${set.prefix}t${k}`, ...options });
  await moveLinkToNetns(tap.name, host.netns);
  await addAddress(tap.name, `10.99.${k}.1/24`, { netns: host.netns });
  await runIp(
    ['neigh', 'add', `10.99.${k}.2`, 'lladdr', PEER_MAC, 'dev', tap.name, 'nud', 'permanent'],
    host.netns,
  );
  await setLinkUp(tap.name, { netns: host.netns });
  return { tap, local: `10.99.${k}.1`, peer: `10.99.${k}.2` };
}

/** Sends datagrams while this thread is blocked, so they queue up in the TAP before we read. */
function burstWhileBlocked(peer: string, port: number, count: number): void {
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  const script = `const s=require('dgram').createSocket('udp4');let left=${count};
const go=()=>{if(left--===0){s.close();return}s.send('x',${port},'${peer}',go)};go();`;
  execFileSync('ip', ['netns', 'exec', host.netns, 'node', '-e', script], { env });
}

function until(cond: () => boolean, ms = 3000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() - start > ms) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

beforeAll(async () => {
  set = await createTestHosts({ count: 1 });
  host = set.hosts[0]!;
});

afterAll(async () => {
  await set.destroy();
  expect(await findLeftovers(set.prefix)).toEqual([]);
});

describe('Tap', () => {
  it('delivers the ARP request and UDP frames the kernel sends, in batches', async () => {
    const k = ++n;
    const tap = Tap.open({ name: `${set.prefix}t${k}` });
    try {
      const frames: Uint8Array[] = [];
      tap.onFrames((batch) => frames.push(...batch.map((f) => f.slice())));
      // The fd stays open while the device moves into the host's namespace.
      await moveLinkToNetns(tap.name, host.netns);
      await addAddress(tap.name, `10.99.${k}.1/24`, { netns: host.netns });
      await setLinkUp(tap.name, { netns: host.netns });
      await udpBurst(host, `10.99.${k}.2`, 9999, 1);
      await until(() => frames.some((f) => arpRequest(f)?.targetIp === `10.99.${k}.2`));
      const arp = frames.map(arpRequest).find((a) => a?.targetIp === `10.99.${k}.2`);
      expect(arp?.senderIp).toBe(`10.99.${k}.1`);
      expect(arp?.senderMac).toBe((await getLink(tap.name, { netns: host.netns })).mac);
    } finally {
      tap.close();
    }
  });

  it('drains everything queued in one callback, at most the batch size per call', async () => {
    const { tap, peer } = await tapInHost();
    try {
      const batches: number[][] = [];
      tap.onFrames((batch) => batches.push(batch.map((f) => udpDstPort(f) ?? -1)));
      burstWhileBlocked(peer, 7001, 100);
      await until(() => batches.flat().filter((p) => p === 7001).length === 100);
      expect(Math.max(...batches.map((b) => b.length))).toBe(TAP_BATCH_SIZE);
      expect(batches.every((b) => b.length <= TAP_BATCH_SIZE)).toBe(true);
    } finally {
      tap.close();
    }
  });

  it('honours a smaller batch size', async () => {
    const { tap, peer } = await tapInHost({ batchSize: 4 });
    try {
      const sizes: number[] = [];
      let udp = 0;
      tap.onFrames((batch) => {
        sizes.push(batch.length);
        udp += batch.filter((f) => udpDstPort(f) === 7002).length;
      });
      burstWhileBlocked(peer, 7002, 10);
      await until(() => udp === 10);
      expect(Math.max(...sizes)).toBe(4);
    } finally {
      tap.close();
    }
  });

  it('writes frames that the namespace receives', async () => {
    const { tap, local } = await tapInHost();
    try {
      const { mac } = await getLink(tap.name, { netns: host.netns });
      const listener = await udpListen(host, local, 7003);
      const frame = (text: string) =>
        udpFrame({
          dstMac: mac!,
          srcMac: PEER_MAC,
          srcIp: local.replace(/1$/, '2'),
          dstIp: local,
          srcPort: 5000,
          dstPort: 7003,
          payload: new TextEncoder().encode(text),
        });
      expect(tap.write([frame('hello through the tap'), frame('second')])).toBe(2);
      expect(await listener.message).toBe('hello through the tap');
    } finally {
      tap.close();
    }
  });

  it('adds the virtio-net header with vnetHdr and accepts offload flags', async () => {
    const k = ++n;
    const tap = Tap.open({
      name: `${set.prefix}t${k}`,
      vnetHdr: true,
      offload: TapOffload.CSUM | TapOffload.TSO4,
    });
    try {
      expect(tap.vnetHdr).toBe(true);
      await moveLinkToNetns(tap.name, host.netns);
      await addAddress(tap.name, `10.99.${k}.1/24`, { netns: host.netns });
      await runIp(
        ['neigh', 'add', `10.99.${k}.2`, 'lladdr', PEER_MAC, 'dev', tap.name, 'nud', 'permanent'],
        host.netns,
      );
      await setLinkUp(tap.name, { netns: host.netns });
      const lengths: number[] = [];
      tap.onFrames((batch) => {
        for (const f of batch) if (udpDstPort(f, VNET_HDR_SIZE) === 7004) lengths.push(f.length);
      });
      await udpBurst(host, `10.99.${k}.2`, 7004, 1);
      await until(() => lengths.length === 1);
      expect(lengths[0]).toBe(VNET_HDR_SIZE + 14 + 20 + 8 + 1);
    } finally {
      tap.close();
    }
  });

  it('runs no callback after close, even for frames already queued', async () => {
    const { tap, peer } = await tapInHost();
    let calls = 0;
    tap.onFrames(() => calls++);
    burstWhileBlocked(peer, 7005, 5);
    tap.close();
    tap.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(0);
    expect(tap.closed).toBe(true);
    expect(() => tap.write([new Uint8Array(60)])).toThrow(TapClosedError);
    expect(() => tap.onFrames(() => {})).toThrow(TapClosedError);
  });

  it('may be closed from inside its own handler', async () => {
    const { tap, peer } = await tapInHost({ batchSize: 2 });
    let calls = 0;
    tap.onFrames(() => {
      calls++;
      tap.close();
    });
    burstWhileBlocked(peer, 7006, 6);
    await until(() => calls > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(1);
    expect(tap.closed).toBe(true);
  });

  it('deletes the device on close, so the name is free again', async () => {
    const name = `${set.prefix}c`;
    const tap = Tap.open({ name });
    expect((await getLink(name)).kind).toBe('tun');
    tap.close();
    await until(() => !execFileSync('ip', ['-o', 'link']).toString().includes(`${name}:`));
    Tap.open({ name }).close();
  });

  it('reports a read failure through onError once the device is gone', async () => {
    const k = ++n;
    const tap = Tap.open({ name: `${set.prefix}t${k}` });
    const scratch = (await set.addNetns(`x${k}`)).netns;
    try {
      const errors: TapIoError[] = [];
      tap.onFrames(
        () => {},
        (err) => errors.push(err),
      );
      await moveLinkToNetns(tap.name, scratch);
      // Deleting its namespace deletes a TAP; reads then fail instead of hanging.
      await runIp(['netns', 'delete', scratch]);
      await until(() => errors.length > 0);
      expect(errors[0]).toBeInstanceOf(TapIoError);
      expect(errors[0]?.syscall).toBe('read');
      expect(errors[0]?.code).toBe('EBADF');
    } finally {
      tap.close();
    }
  });

  it('rejects a taken name, a too-long name and a name held by another kind of link', async () => {
    const name = `${set.prefix}busy`;
    const tap = Tap.open({ name });
    try {
      expect(() => Tap.open({ name })).toThrow(TapNameBusyError);
    } finally {
      tap.close();
    }
    expect(() => Tap.open({ name: 'a-name-longer-than-15' })).toThrow(InvalidInterfaceNameError);
    expect(() => Tap.open({ name: '' })).toThrow(InvalidInterfaceNameError);
    // TUNSETIFF looks the name up in the opener's namespace, so make the clash in ours.
    const clash = `${set.prefix}br`;
    await runIp(['link', 'add', 'name', clash, 'type', 'bridge']);
    try {
      expect(() => Tap.open({ name: clash })).toThrow(TapNameBusyError);
    } finally {
      await runIp(['link', 'delete', clash]);
    }
  });

  it('maps EPERM from an unprivileged process to TapPermissionError', async () => {
    const script = `const a=require(${JSON.stringify(addonPath)});
try{a.tapOpen('wtnopriv0',false,0);console.log('opened')}catch(e){console.log(JSON.stringify({errno:e.errno,syscall:e.syscall}))}`;
    const { stdout } = await promisify(execFile)('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      process.execPath,
      '-e',
      script,
    ]);
    const err = Object.assign(new Error('x'), JSON.parse(stdout) as { errno: number; syscall: string });
    const mapped = mapTapOpenError('wtnopriv0', err);
    expect(mapped).toBeInstanceOf(TapPermissionError);
    expect(mapped.message).toBe('opening a TAP needs root (CAP_NET_ADMIN)');
  });

  it('lets the process exit after close, and while unref()ed', async () => {
    const script = (unref: boolean) => `const a=require(${JSON.stringify(addonPath)});
const [fd]=a.tapOpen('${set.prefix}e%d',false,0);
const r=a.readerStart(fd,64,65546,()=>{});
${unref ? 'a.readerRef(r,false);' : 'a.readerStop(r);a.readerStop(r);a.fdClose(fd);'}
console.log('done');`;
    for (const unref of [false, true]) {
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script(unref)], {
        timeout: 5000,
      });
      expect(stdout.trim()).toBe('done');
    }
  });
});
