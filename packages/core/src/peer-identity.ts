import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PEER_NAME_SIZE, type PeerName, parsePeerName, peerNameFromBytes } from './peer-name.js';
import type { Random } from './random.js';

/**
 * Where a router's peer name comes from: stable across restarts, derived from the host unless given.
 * (The other two parts of a peer's identity, the per-start UID and the short id, are drawn by
 * `randomPeerUid` / `randomShortId` in `peer.ts`.)
 */

/** Salt upstream hashes in front of host ids so its MACs differ from other tools' derived MACs. */
const MAC_SALT = '9oBJ0Jmip-';

/** Makes a MAC unicast (bit 0 clear) and locally administered (bit 1 set). */
function setUnicastAndLocal(mac: Uint8Array): void {
  mac[0] = (mac[0]! & 0xfe) | 0x02;
}

/** The name derived from host id bytes: the first 6 bytes of SHA-256(salt ‖ bytes), made a local unicast MAC. */
export function macFromUUID(bytes: Uint8Array): PeerName {
  const digest = createHash('sha256').update(MAC_SALT).update(bytes).digest();
  const mac = new Uint8Array(digest.subarray(0, PEER_NAME_SIZE));
  setUnicastAndLocal(mac);
  return peerNameFromBytes(mac);
}

/** A random local unicast MAC. */
export function randomMAC(random: Random): PeerName {
  const mac = Uint8Array.from(random.bytes(PEER_NAME_SIZE));
  setUnicastAndLocal(mac);
  return peerNameFromBytes(mac);
}

/**
 * Reads a whole file: resolves undefined when it does not exist, rejects on any other failure
 * (e.g. permission denied).
 */
export type SystemFileReader = (path: string) => Promise<Uint8Array | undefined>;

/** A {@link SystemFileReader} on the real file system. */
export const readSystemFile: SystemFileReader = async (path) => {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
};

/** Inputs to {@link derivePeerName}. */
export interface PeerNameSources {
  /** `--name`: used as given (full or abbreviated MAC form). */
  readonly explicitName?: string;
  /** The MAC of an existing `weave` bridge, which was set to the peer name when it was created. */
  readonly bridgeMac?: string;
  /** Prefix for the host files (upstream `$HOST_ROOT`); default none. */
  readonly hostRoot?: string;
  /**
   * Reads a host file (`/sys/class/dmi/id/product_uuid`, `/etc/machine-id`, …); returns undefined when absent.
   */
  readonly readFile: SystemFileReader;
  /** For the last resort, a random name. */
  readonly random: Random;
}

/**
 * Reads `primary`, falling back to `fallback` only when `primary` does not exist. Errors yield no
 * bytes, except that an unreadable primary is reported as `'error'` (upstream gives up on the host
 * id in that case for the product uuid).
 */
async function readWithFallback(
  read: SystemFileReader,
  primary: string,
  fallback: string,
): Promise<Uint8Array | 'error'> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await read(primary);
  } catch {
    return 'error';
  }
  if (bytes) return bytes;
  try {
    return (await read(fallback)) ?? new Uint8Array(0);
  } catch {
    return new Uint8Array(0);
  }
}

/**
 * The peer name, chosen as Weave Net does: `--name`, else the existing bridge's MAC, else a hash of
 * `machine-id ‖ product_uuid` (each file's bytes verbatim, trailing newline included; fallbacks
 * `/var/lib/dbus/machine-id` and `/sys/hypervisor/uuid`), else a random MAC. The host-id hash is
 * skipped (random instead) when product_uuid exists but cannot be read, or when both ids are empty.
 * @throws InvalidPeerNameError when `explicitName` or `bridgeMac` is not a MAC.
 */
export async function derivePeerName(sources: PeerNameSources): Promise<PeerName> {
  if (sources.explicitName !== undefined) return parsePeerName(sources.explicitName);
  if (sources.bridgeMac !== undefined) return parsePeerName(sources.bridgeMac);
  const root = sources.hostRoot ?? '';
  const machineId = await readWithFallback(
    sources.readFile,
    `${root}/etc/machine-id`,
    `${root}/var/lib/dbus/machine-id`,
  );
  const uuid = await readWithFallback(
    sources.readFile,
    `${root}/sys/class/dmi/id/product_uuid`,
    `${root}/sys/hypervisor/uuid`,
  );
  if (uuid === 'error') return randomMAC(sources.random);
  // An unreadable machine-id just contributes nothing, as upstream.
  const id = machineId === 'error' ? new Uint8Array(0) : machineId;
  if (id.length + uuid.length === 0) return randomMAC(sources.random);
  const joined = new Uint8Array(id.length + uuid.length);
  joined.set(id);
  joined.set(uuid, id.length);
  return macFromUUID(joined);
}
