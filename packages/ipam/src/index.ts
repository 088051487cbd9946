// Public surface of @weave-ts/ipam.
export {};
