import { cidrHostRange, formatAddress, parseAddress, parseSubnet } from '@weave-ts/ipam';
import type { DockerPeer } from '../../src/docker/docker-peer.js';

/** A tiny in-memory stand-in for a WeavePeer: lowest-free allocation per subnet, DNS records in a list. */
export class FakePeer implements DockerPeer {
  readonly owned = new Map<string, string[]>();
  readonly records: { containerId: string; ip: string; fqdn: string }[] = [];
  readonly datapath = { bridge: 'wdbr0', mtu: 1376 };
  constructor(readonly defaultSubnet = '10.32.0.0/12') {}

  async allocate(containerId: string, options: { subnet?: string } = {}): Promise<string> {
    const subnet = parseSubnet(options.subnet ?? this.defaultSubnet);
    const range = cidrHostRange(subnet);
    const mine = (this.owned.get(containerId) ?? []).find((c) => {
      const a = parseAddress(c.split('/')[0] ?? '');
      return a >= range.start && a < range.end;
    });
    if (mine) return mine;
    const used = new Set([...this.owned.values()].flat().map((c) => c.split('/')[0]));
    for (let a = range.start; a < range.end; a++) {
      if (used.has(formatAddress(a))) continue;
      const cidr = `${formatAddress(a)}/${subnet.prefixLen}`;
      this.owned.set(containerId, [...(this.owned.get(containerId) ?? []), cidr]);
      return cidr;
    }
    throw new Error(`no free address in ${options.subnet}`);
  }
  async claim(containerId: string, cidr: string): Promise<void> {
    const ip = cidr.split('/')[0] ?? '';
    parseAddress(ip);
    for (const [id, list] of this.owned) {
      if (list.some((c) => c.startsWith(`${ip}/`)))
        throw new Error(`address ${ip} is already owned by ${id}`);
    }
    this.owned.set(containerId, [...(this.owned.get(containerId) ?? []), cidr]);
  }
  release(containerId: string, address?: string): void {
    const list = this.owned.get(containerId);
    if (!list) throw new Error(`no addresses for ${containerId}`);
    const left = address === undefined ? [] : list.filter((c) => !c.startsWith(`${address}/`));
    if (address !== undefined && left.length === list.length)
      throw new Error(`${address} not owned by ${containerId}`);
    if (left.length === 0) this.owned.delete(containerId);
    else this.owned.set(containerId, left);
  }
  addressesOf(containerId: string): string[] {
    return [...(this.owned.get(containerId) ?? [])];
  }
  readonly dns = {
    add: (containerId: string, ip: string, fqdn: string) => {
      this.records.push({ containerId, ip, fqdn });
    },
    remove: (containerId?: string, ip?: string, fqdn?: string) => {
      const before = this.records.length;
      const keep = this.records.filter(
        (r) =>
          !(
            (containerId === undefined || r.containerId === containerId) &&
            (ip === undefined || r.ip === ip) &&
            (fqdn === undefined || r.fqdn === fqdn)
          ),
      );
      this.records.splice(0, this.records.length, ...keep);
      return before - keep.length;
    },
    address: () => ({ host: '127.0.0.1', port: 53 }),
  };
  status() {
    return {
      IPAM: { DefaultSubnet: this.defaultSubnet, Range: this.defaultSubnet },
      DNS: { Domain: 'weave.local.' },
    };
  }
}
