package main

import (
	"math"

	"weave-ts/tools/gob-vectors/mesh"
)

func name(b byte) []byte { return []byte{0x0a, 0, 0, 0, 0, b} }

func peerName(b byte) mesh.PeerName { return mesh.PeerName(0x0a0000000000 | uint64(b)) }

func ip(last byte) uint32 { return 0xac101000 | uint32(last) } // 172.16.16.x

func sampleRing() *Ring {
	return &Ring{
		Start: ip(0), End: ip(0) + 256, Peer: peerName(1),
		Entries: entries{
			{Token: ip(0), Peer: peerName(1), Version: 3, Free: 95},
			{Token: ip(96), Peer: peerName(3), Version: 1, Free: 31},
			{Token: ip(128), Peer: peerName(2), Version: 0, Free: 127},
		},
		Seeds: []mesh.PeerName{peerName(1), peerName(2)},
	}
}

func node(b byte, uid uint64) NodeID { return NodeID{Name: peerName(b), UID: mesh.PeerUID(uid)} }

func claims(n NodeID) NodeClaims {
	p := ProposalID{Round: 1, Proposer: n}
	return NodeClaims{Promise: p, Accepted: p, AcceptedVal: AcceptedValue{Value: Value{peerName(1), peerName(2)}, Origin: p}}
}

// cases maps a case name to the encoders it runs (each in a fresh process).
var cases = map[string]func() []encoding{
	"features-one": func() []encoding {
		return []encoding{encodeAll(map[string]string{"Name": "0a:00:00:00:00:01"})}
	},
	"features-many": func() []encoding {
		return []encoding{encodeAll(map[string]string{
			"ConnID": "2984976464539444393", "Trusted": "false", "Overlays": "sleeve",
			"PeerNameFlavour": "mac", "Name": "0a:00:00:00:00:02", "NickName": "hostB", "ShortID": "3001",
			"UID": "11206339565063037629",
		})}
	},
	"features-empty": func() []encoding { return []encoding{encodeAll(map[string]string{})} },
	"singletons": func() []encoding {
		return []encoding{
			encodeAll("topology"), encodeAll(uint64(0x0a0000000002)), encodeAll([]byte{1, 2, 3}),
			encodeAll(-5), encodeAll(true), encodeAll(""), encodeAll(uint(0)), encodeAll([]byte{}),
		}
	},
	"gossip-header": func() []encoding {
		return []encoding{encodeAll("IPallocation", uint64(peerName(2)), []byte{0x45, 0xff, 0x95, 0x03})}
	},
	"unicast-header": func() []encoding {
		return []encoding{encodeAll("IPallocation", uint64(peerName(3)), uint64(peerName(1)), []byte{0})}
	},
	"topology": func() []encoding {
		return []encoding{encodeAll(
			peerSummary{NameByte: name(1), NickName: "hostA", UID: 0xf31c38c9ea41f310, Version: 4, ShortID: 1488, HasShortID: true},
			[]connectionSummary{
				{NameByte: name(2), RemoteTCPAddr: "10.250.0.2:51341", Outbound: false, Established: true},
				{NameByte: name(3), RemoteTCPAddr: "10.250.1.3:40000", Outbound: false, Established: true},
			},
			peerSummary{NameByte: name(2), NickName: "hostB", UID: 0x9b84ea75effce2bd, Version: 3, ShortID: 3001, HasShortID: true},
			[]connectionSummary{{NameByte: name(1), RemoteTCPAddr: "10.250.0.1:6783", Outbound: true, Established: true}},
			peerSummary{NameByte: name(3), NickName: "hostC", UID: 7, Version: 1},
			[]connectionSummary{},
		)}
	},
	"ring":      func() []encoding { return []encoding{encodeAll(sampleRing())} },
	"ring-zero": func() []encoding { return []encoding{encodeAll(Ring{})} },
	"ipam-gossip": func() []encoding {
		n1 := node(1, 0xa1b2c3d4e5f60718)
		return []encoding{encodeAll(gossipState{
			Now: 1700000000, Nicknames: map[mesh.PeerName]string{peerName(1): "hostA"},
			Paxos: GossipState{n1: claims(n1)}, Ring: sampleRing(),
		})}
	},
	"ipam-gossip-many": func() []encoding {
		n1, n2 := node(1, 11), node(2, 22)
		return []encoding{encodeAll(gossipState{
			Now: 1700000001, Nicknames: map[mesh.PeerName]string{peerName(1): "hostA", peerName(2): "hostB"},
			Paxos: GossipState{n1: claims(n1), n2: {}}, Ring: nil,
		})}
	},
	"ipam-gossip-empty-maps": func() []encoding {
		return []encoding{encodeAll(gossipState{Now: -1, Nicknames: map[mesh.PeerName]string{}, Paxos: GossipState{}, Ring: &Ring{}})}
	},
	"ipam-range": func() []encoding { return []encoding{encodeAll(Range{Start: ip(0), End: ip(0) + 256})} },
	"dns-gossip": func() []encoding {
		return []encoding{encodeAll(GossipData{Timestamp: 1700000000, Entries: Entries{
			{ContainerID: "web1cid0000000000", Origin: peerName(1), Addr: ip(1), Hostname: "web1.weave.local.", Version: 0},
			{ContainerID: "web2cid0000000000", Origin: peerName(2), Addr: ip(128), Hostname: "web2.weave.local.", Version: 2, Tombstone: 1700000005},
		}})}
	},
	// Several encoders in one process: type ids keep counting across encoders.
	"process": func() []encoding {
		return []encoding{
			encodeAll(map[string]string{"Name": "0a:00:00:00:00:01"}),
			encodeAll(GossipData{Timestamp: 1}),
			encodeAll(map[string]string{"Name": "0a:00:00:00:00:02"}),
			encodeAll(GossipData{Timestamp: 2}),
		}
	},
	"zero-probe": func() []encoding {
		return []encoding{
			encodeAll(zeroProbe{EmptyMap: map[string]int{}, EmptyList: []string{}, PtrInner: &inner{}, Tail: 1}),
			encodeAll(zeroProbe{}),
			encodeAll(zeroProbe{Inner: inner{A: -1}, Arr: [3]int{0, 2, 0}, EmptyMap: map[string]int{"": 0}, EmptyList: []string{""}}),
		}
	},
	"wide-ints": func() []encoding {
		return []encoding{encodeAll(
			wideInts{I: math.MinInt64, U: math.MaxUint64, I8: -128, U16: 65535, N: 1 << 53},
			wideInts{I: math.MaxInt64, U: 1 << 63, I8: 127, U16: 128, N: -(1 << 53)},
			wideInts{I: -129, U: 255, I8: -1, U16: 256, N: 63},
		)}
	},
	"nested": func() []encoding {
		return []encoding{encodeAll(nested{
			Matrix: [][]int{{1, 2}, {}, {-3}},
			ByKey:  map[inner][]inner{{A: 1}: {{B: "x"}, {}}},
			Ptrs:   []*inner{{A: 5}, {}},
			Pairs:  [2]inner{{A: 1, B: "one"}, {}},
			Tags:   map[string]bool{"off": false},
		})}
	},
	"elem-names": func() []encoding {
		return []encoding{encodeAll([2]inner{{A: 1}}), encodeAll(map[string]wideInts{"k": {}}), encodeAll([]nested{{}})}
	},
	"top-level-composites": func() []encoding {
		return []encoding{encodeAll([2]string{"a", ""}, [][]byte{{1}, {}}, map[int][]string{-1: {"m"}}, &inner{A: 9}, inner{})}
	},
}
