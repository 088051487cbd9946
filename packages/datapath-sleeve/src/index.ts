// Public surface of @weave-ts/datapath-sleeve.
export {};
