import { VirtualClock } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { CONTAINER_DIED_GRACE_MS, ContainerDeathWatcher } from '../../src/docker/container-death.js';
import { ContainerEventFollower } from '../../src/docker/container-events.js';
import { FakePeer } from './fake-peer.js';

// The death rules on a virtual clock, no engine: die → names now, addresses after 30 s unless the
// container starts again; destroy → everything now; containers weave never saw are left alone.

function setup() {
  const clock = new VirtualClock();
  const peer = new FakePeer('10.32.0.0/16');
  // The follower is only an event source here (never started).
  const events = new ContainerEventFollower({ docker: {} as never });
  const watcher = new ContainerDeathWatcher({ peer, events, clock });
  watcher.start();
  const emit = (action: 'die' | 'start' | 'destroy', id: string) =>
    events.emit(action, { id, action, attributes: {} });
  return { clock, peer, watcher, emit, events };
}

describe('ContainerDeathWatcher', () => {
  it('removes names at die and addresses after the 30 s grace', async () => {
    const { clock, peer, watcher, emit } = setup();
    const ip = (await peer.allocate('c1')).split('/')[0] ?? '';
    peer.dns.add('c1', ip, 'c1.weave.local');
    emit('die', 'c1');
    expect(peer.records).toEqual([]);
    expect(watcher.pendingReleases).toEqual(['c1']);
    clock.advance(CONTAINER_DIED_GRACE_MS - 1);
    expect(peer.addressesOf('c1')).toHaveLength(1);
    clock.advance(1);
    expect(peer.addressesOf('c1')).toEqual([]);
    expect(watcher.pendingReleases).toEqual([]);
  });

  it('keeps the address of a container that starts again within the grace', async () => {
    const { clock, peer, emit } = setup();
    const cidr = await peer.allocate('c1');
    emit('die', 'c1');
    clock.advance(10_000);
    emit('start', 'c1');
    clock.advance(60_000);
    expect(peer.addressesOf('c1')).toEqual([cidr]);
    expect(await peer.allocate('c1')).toBe(cidr);
    emit('die', 'c1');
    emit('die', 'c1'); // a second die does not restart the grace
    clock.advance(CONTAINER_DIED_GRACE_MS);
    expect(peer.addressesOf('c1')).toEqual([]);
  });

  it('releases everything at destroy, and ignores containers without addresses', async () => {
    const { clock, peer, watcher, emit } = setup();
    await peer.allocate('c1');
    peer.dns.add('c2', '10.9.9.9', 'other.weave.local');
    emit('die', 'c1');
    emit('destroy', 'c1');
    expect(peer.addressesOf('c1')).toEqual([]);
    expect(watcher.pendingReleases).toEqual([]);
    emit('die', 'unknown');
    emit('destroy', 'unknown');
    clock.advance(CONTAINER_DIED_GRACE_MS);
    expect(peer.records).toEqual([{ containerId: 'c2', ip: '10.9.9.9', fqdn: 'other.weave.local' }]);
  });

  it('stops following events and drops pending releases on stop', async () => {
    const { clock, peer, watcher, emit } = setup();
    await peer.allocate('c1');
    emit('die', 'c1');
    watcher.stop();
    clock.advance(CONTAINER_DIED_GRACE_MS);
    expect(peer.addressesOf('c1')).toHaveLength(1);
    emit('destroy', 'c1');
    expect(peer.addressesOf('c1')).toHaveLength(1);
  });
});
