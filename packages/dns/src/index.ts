// Public surface of @weave-ts/dns.
export {};
