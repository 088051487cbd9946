// Test-local schemas mirroring Weave 2.8.1's gossip types (as checked against the captures) and the
// probe types of tools/gob-vectors. The production schemas live with topology/ipam/dns.
import { t } from '@weave-ts/core/protocol';

export const features = t.map(t.string, t.string);

export const peerSummary = t.struct(
  'peerSummary',
  {
    NameByte: t.bytes,
    NickName: t.string,
    UID: t.uint64,
    Version: t.uint64,
    ShortID: t.uint,
    HasShortID: t.bool,
  },
  { pkg: 'mesh' },
);
export const connectionSummary = t.struct(
  'connectionSummary',
  { NameByte: t.bytes, RemoteTCPAddr: t.string, Outbound: t.bool, Established: t.bool },
  { pkg: 'mesh' },
);
export const connections = t.slice(connectionSummary);

export const entry = t.struct(
  'entry',
  { Token: t.uint, Peer: t.uint64, Version: t.uint, Free: t.uint },
  { pkg: 'ring' },
);
export const ring = t.struct(
  'Ring',
  {
    Start: t.uint,
    End: t.uint,
    Peer: t.uint64,
    Entries: t.slice(t.ptr(entry), { name: 'entries' }),
    Seeds: t.slice(t.uint64, { goString: '[]mesh.PeerName' }),
  },
  { pkg: 'ring' },
);
export const nodeID = t.struct('NodeID', { Name: t.uint64, UID: t.uint64 }, { pkg: 'paxos' });
export const proposalID = t.struct('ProposalID', { Round: t.uint, Proposer: nodeID }, { pkg: 'paxos' });
export const acceptedValue = t.struct(
  'AcceptedValue',
  { Value: t.slice(t.uint64, { name: 'Value' }), Origin: proposalID },
  { pkg: 'paxos' },
);
export const nodeClaims = t.struct(
  'NodeClaims',
  { Promise: proposalID, Accepted: proposalID, AcceptedVal: acceptedValue },
  { pkg: 'paxos' },
);
export const gossipState = t.struct(
  'gossipState',
  {
    Now: t.int64,
    Nicknames: t.map(t.uint64, t.string, { goString: 'map[mesh.PeerName]string' }),
    Paxos: t.map(nodeID, nodeClaims, { name: 'GossipState' }),
    Ring: t.ptr(ring),
  },
  { pkg: 'ipam' },
);
export const range = t.struct('Range', { Start: t.uint, End: t.uint }, { pkg: 'address' });
export const dnsEntry = t.struct(
  'Entry',
  {
    ContainerID: t.string,
    Origin: t.uint64,
    Addr: t.uint,
    Hostname: t.string,
    Version: t.int,
    Tombstone: t.int64,
  },
  { pkg: 'nameserver' },
);
export const gossipData = t.struct(
  'GossipData',
  { Timestamp: t.int64, Entries: t.slice(dnsEntry, { name: 'Entries' }) },
  { pkg: 'nameserver' },
);

// Probes of gob's zero-value and naming rules (tools/gob-vectors/types.go).
export const inner = t.struct('inner', { A: t.int, B: t.string }, { pkg: 'main' });
export const zeroProbe = t.struct(
  'zeroProbe',
  {
    Flag: t.bool,
    Count: t.int,
    Inner: inner,
    PtrInner: t.ptr(inner),
    EmptyMap: t.map(t.string, t.int),
    EmptyList: t.slice(t.string),
    Arr: t.array(t.int, 3),
    Tail: t.uint,
  },
  { pkg: 'main' },
);
export const wideInts = t.struct(
  'wideInts',
  { I: t.int64, U: t.uint64, I8: t.int, U16: t.uint, N: t.int64 },
  { pkg: 'main' },
);
export const nested = t.struct(
  'nested',
  {
    Matrix: t.slice(t.slice(t.int)),
    ByKey: t.map(inner, t.slice(inner)),
    Ptrs: t.slice(t.ptr(inner)),
    Pairs: t.array(inner, 2),
    Tags: t.map(t.string, t.bool),
  },
  { pkg: 'main' },
);
