// Public surface of @weave-ts/datapath-fastdp.
export {};
