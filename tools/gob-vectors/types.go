package main

import "weave-ts/tools/gob-vectors/mesh"

// Types shaped like Weave 2.8.1's gossip wire types. Only what gob puts on the wire matters: type
// names, field names and order, and which types are named. Checked against the type definitions in
// /work/shared/interop/weaver-2.8.1 captures.

// Topology (mesh): the payload is peerSummary, []connectionSummary for each peer, from one encoder.
type peerSummary struct {
	NameByte   []byte
	NickName   string
	UID        mesh.PeerUID
	Version    uint64
	ShortID    mesh.PeerShortID
	HasShortID bool
}

type connectionSummary struct {
	NameByte      []byte
	RemoteTCPAddr string
	Outbound      bool
	Established   bool
}

// IPAM ring.
type entry struct {
	Token   uint32 // address.Address
	Peer    mesh.PeerName
	Version uint32
	Free    uint32 // address.Count
}

type entries []*entry

type Ring struct {
	Start, End uint32 // address.Address
	Peer       mesh.PeerName
	Entries    entries
	Seeds      []mesh.PeerName
}

// IPAM paxos.
type NodeID struct {
	Name mesh.PeerName
	UID  mesh.PeerUID
}

type ProposalID struct {
	Round    uint
	Proposer NodeID
}

type Value []mesh.PeerName

type AcceptedValue struct {
	Value  Value
	Origin ProposalID
}

type NodeClaims struct {
	Promise     ProposalID
	Accepted    ProposalID
	AcceptedVal AcceptedValue
}

type GossipState map[NodeID]NodeClaims

// IPAM allocator gossip.
type gossipState struct {
	Now       int64
	Nicknames map[mesh.PeerName]string
	Paxos     GossipState
	Ring      *Ring
}

// IPAM unicast space request (address.Range).
type Range struct {
	Start, End uint32
}

// weaveDNS gossip.
type Entry struct {
	ContainerID string
	Origin      mesh.PeerName
	Addr        uint32
	Hostname    string
	Version     int
	Tombstone   int64
}

type Entries []Entry

type GossipData struct {
	Timestamp int64
	Entries   Entries
}

// Probes of gob's zero-value and naming rules (not Weave types).
type inner struct {
	A int
	B string
}

type zeroProbe struct {
	Flag      bool
	Count     int
	Inner     inner
	PtrInner  *inner
	EmptyMap  map[string]int
	EmptyList []string
	Arr       [3]int
	Tail      uint
}

type wideInts struct {
	I   int64
	U   uint64
	I8  int8
	U16 uint16
	N   int
}

type nested struct {
	Matrix [][]int
	ByKey  map[inner][]inner
	Ptrs   []*inner
	Pairs  [2]inner
	Tags   map[string]bool
}
