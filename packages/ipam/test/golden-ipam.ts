// The IPAM capture both wire suites read, and the cluster it came from.
import { readFileSync } from 'node:fs';
import { parsePeerName } from '@weave-ts/core';
import { parseAddress } from '../src/address.js';

/** Golden IPAM payloads from a Weave 2.8.1 cluster (see the fixture's description). */
const golden = JSON.parse(
  readFileSync(new URL('./fixtures/ipallocation-2.8.1.json', import.meta.url), 'utf8'),
);

/** The captured payload named `key`. */
export const bytes = (key: string): Uint8Array =>
  Uint8Array.from(Buffer.from(golden[key].hex as string, 'hex'));

/** The capture's three peers. */
export const A = parsePeerName('0a:00:00:00:00:01');
export const B = parsePeerName('0a:00:00:00:00:02');
export const C = parsePeerName('0a:00:00:00:00:03');
/** The start of the capture's allocation range (172.16.16.0/24). */
export const base = parseAddress('172.16.16.0');
