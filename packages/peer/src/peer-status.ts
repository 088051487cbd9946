import type { RouterStatus } from '@weave-ts/core';
import type { ConnectionReport, RouterReport } from './peer-report.js';

/** A deep copy with every BigInt as decimal text, so `JSON.stringify` works on it. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), jsonSafe(v)]));
  if (value instanceof Set) return [...value].map(jsonSafe);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'function' && v !== undefined) out[k] = jsonSafe(v);
  }
  return out;
}

/** The router's status in upstream's `/report` field names (Go JSON: `null` for empty lists). */
export function routerReport(
  status: RouterStatus,
  overlayKind: string,
  overlayDiagnostics: unknown,
  iface?: string,
): RouterReport {
  const connections: ConnectionReport[] = status.connections.map((c) => ({
    Address: c.address,
    Outbound: c.outbound,
    State: c.state,
    Info: c.info,
    Attrs: Object.keys(c.attrs).length > 0 ? { ...c.attrs } : null,
  }));
  return {
    Protocol: status.protocol,
    ProtocolMinVersion: status.protocolMinVersion,
    ProtocolMaxVersion: status.protocolMaxVersion,
    Encryption: status.encryption,
    PeerDiscovery: status.peerDiscovery,
    Name: status.name,
    NickName: status.nickname,
    Port: status.port,
    Peers: status.peers.map((p) => ({
      Name: p.name,
      NickName: p.nickname,
      UID: p.uid.toString(),
      ShortID: p.shortId,
      Version: p.version,
      Connections: p.connections.map((c) => ({
        Name: c.name,
        NickName: c.nickname,
        Address: c.address,
        Outbound: c.outbound,
        Established: c.established,
      })),
    })),
    UnicastRoutes: status.unicastRoutes.map((r) => ({ Dest: r.dest, Via: r.via })),
    BroadcastRoutes: status.broadcastRoutes.map((r) => ({ Source: r.source, Via: [...r.via] })),
    Connections: connections.length > 0 ? connections : null,
    TerminationCount: status.terminationCount,
    Targets: status.targets.length > 0 ? [...status.targets] : null,
    OverlayDiagnostics: { [overlayKind]: jsonSafe(overlayDiagnostics) ?? null },
    TrustedSubnets: [...status.trustedSubnets],
    ...(iface !== undefined ? { Interface: iface } : {}),
  };
}
