// Package mesh holds the named basic types whose package-qualified names ("mesh.PeerName") appear
// inside the wire names of unnamed composite types, exactly as in Weave's gossip.
package mesh

// PeerName is a peer's 48-bit MAC-style name.
type PeerName uint64

// PeerUID is a peer's random 64-bit incarnation id.
type PeerUID uint64

// PeerShortID is a peer's 12-bit short id.
type PeerShortID uint16
