// Public surface of @weave-ts/peer.
export {};
