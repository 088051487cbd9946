// Public surface of @weave-ts/host.
export {};
