// Public surface of @weave-ts/weaver.
export {};
