import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type ContainerEvent, ContainerEventFollower } from '../../src/docker/container-events.js';

// The event stream parser and its reconnection, over a fake engine whose /events are PassThroughs.

function fakeDocker() {
  const streams: PassThrough[] = [];
  let fail = 0;
  return {
    streams,
    failNext(n: number) {
      fail = n;
    },
    docker: {
      async getEvents() {
        if (fail > 0) {
          fail--;
          throw new Error('connect ECONNREFUSED');
        }
        const s = new PassThrough();
        streams.push(s);
        return s;
      },
    },
  };
}

const line = (o: unknown) => `${JSON.stringify(o)}\n`;

describe('ContainerEventFollower', () => {
  it('emits start/die/destroy from JSON lines split anywhere, ignoring the rest', async () => {
    const fake = fakeDocker();
    const f = new ContainerEventFollower({ docker: fake.docker as never });
    const seen: ContainerEvent[] = [];
    for (const a of ['start', 'die', 'destroy'] as const) f.on(a, (e) => seen.push(e));
    await f.start();
    const text =
      line({ Type: 'container', Action: 'start', Actor: { ID: 'aaa', Attributes: { name: 'web' } } }) +
      line({ Type: 'network', Action: 'connect', Actor: { ID: 'net1' } }) +
      'not json\n' +
      line({ Type: 'container', Action: 'exec_start: sh', Actor: { ID: 'aaa' } }) +
      line({ status: 'die', id: 'bbb' }) + // old engines
      line({ Type: 'container', Action: 'destroy', Actor: { ID: 'aaa', Attributes: {} } });
    for (let i = 0; i < text.length; i += 7) fake.streams[0]?.write(text.slice(i, i + 7));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([
      { id: 'aaa', action: 'start', attributes: { name: 'web' } },
      { id: 'bbb', action: 'die', attributes: {} },
      { id: 'aaa', action: 'destroy', attributes: {} },
    ]);
    f.stop();
  });

  it('re-opens a dropped stream, retrying while the engine is away', async () => {
    const fake = fakeDocker();
    const f = new ContainerEventFollower({ docker: fake.docker as never, retryMs: 5 });
    const errors: string[] = [];
    let connected = 0;
    f.on('error', (e) => errors.push(e.message));
    f.on('connected', () => connected++);
    const dies: string[] = [];
    f.on('die', (e) => dies.push(e.id));
    await f.start();
    fake.failNext(2);
    fake.streams[0]?.end();
    const deadline = Date.now() + 2_000;
    while (fake.streams.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(fake.streams).toHaveLength(2);
    expect(connected).toBe(2);
    expect(errors).toEqual(['connect ECONNREFUSED', 'connect ECONNREFUSED']);
    fake.streams[1]?.write(line({ Type: 'container', Action: 'die', Actor: { ID: 'ccc' } }));
    await new Promise((r) => setImmediate(r));
    expect(dies).toEqual(['ccc']);
    f.stop();
    fake.streams[1]?.write(line({ Type: 'container', Action: 'die', Actor: { ID: 'ddd' } }));
    await new Promise((r) => setTimeout(r, 20));
    expect(dies).toEqual(['ccc']);
    expect(fake.streams).toHaveLength(2);
  });
});
