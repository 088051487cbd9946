import { afterEach, describe, expect, it } from 'vitest';
import { Router, peerNameFromNumber } from '@weave-ts/core';

// Real sockets on loopback: each router listens on its own 127.x address, all on one port (discovery
// dials inbound peers back on their IP with our port, so the port must be shared, as in a real mesh).
const PORT = 20_000 + Math.floor(Math.random() * 20_000);
const ipOf = (n: number) => `127.77.0.${n}`;
const routers: Router[] = [];

afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.stop()));
});

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the mesh');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('router on real loopback sockets', () => {
  it('seed scenario: B given A, C given B, D given A → full mesh of 4', async () => {
    for (const n of [1, 2, 3, 4]) {
      const r = new Router({
        name: peerNameFromNumber(0x0a0000000000 + n),
        nickname: `host${n}`,
        host: ipOf(n),
        port: PORT,
      });
      routers.push(r);
      await r.start();
    }
    routers[1]!.connect([ipOf(1)]);
    routers[2]!.connect([ipOf(2)]);
    routers[3]!.connect([`${ipOf(1)}:${PORT}`]);
    const meshed = () =>
      routers.every((r) => {
        const s = r.statusText();
        return (
          s.includes('Connections: 3 (3 established)') &&
          s.includes('Peers: 4 (with 12 established connections)')
        );
      });
    await waitFor(meshed, 20_000);
    expect(
      routers[0]!
        .peersText()
        .split('\n')
        .filter((l) => l.includes('established')),
    ).toHaveLength(12);
  }, 30_000);
});
