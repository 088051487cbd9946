// Public surface of @weave-ts/cli.
export {};
