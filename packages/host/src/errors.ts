import { WeaveError } from '@weave-ts/core';

/** The native addon (build/Release/weave_host.node) has not been built or cannot be loaded. */
export class HostAddonMissingError extends WeaveError {
  /** The error's stable name: `'HostAddonMissingError'`. */
  override name = 'HostAddonMissingError';
  constructor(cause: unknown) {
    super(
      'the @weave-ts/host native addon is not built: run `npm rebuild @weave-ts/host` (npm), or ' +
        '`pnpm approve-builds` (or list @weave-ts/host in onlyBuiltDependencies) then ' +
        '`pnpm rebuild @weave-ts/host` (pnpm); it needs Node.js headers, a C compiler, make and python3 ' +
        `(${cause instanceof Error ? cause.message : String(cause)})`,
    );
  }
}

/** A TAP was opened without CAP_NET_ADMIN. */
export class TapPermissionError extends WeaveError {
  /** The error's stable name: `'TapPermissionError'`. */
  override name = 'TapPermissionError';
  constructor() {
    super('opening a TAP needs root (CAP_NET_ADMIN)');
  }
}

/** The kernel offers no TUN/TAP driver here. */
export class TunDeviceMissingError extends WeaveError {
  /** The error's stable name: `'TunDeviceMissingError'`. */
  override name = 'TunDeviceMissingError';
  constructor() {
    super('/dev/net/tun is missing: the kernel needs the tun module (modprobe tun)');
  }
}

/** TUNSETIFF refused the name: another device (or a TAP still being torn down) holds it. */
export class TapNameBusyError extends WeaveError {
  /** The error's stable name: `'TapNameBusyError'`. */
  override name = 'TapNameBusyError';
  constructor(
    /** The network interface concerned. */
    readonly ifName: string,
  ) {
    super(`interface name ${ifName} is already in use`);
  }
}

/** A Linux interface name that the kernel would refuse (empty, over 15 bytes, `/`, whitespace, `:`). */
export class InvalidInterfaceNameError extends WeaveError {
  /** The error's stable name: `'InvalidInterfaceNameError'`. */
  override name = 'InvalidInterfaceNameError';
  constructor(
    /** The network interface concerned. */
    readonly ifName: string,
  ) {
    super(`invalid interface name ${JSON.stringify(ifName)}: 1-15 bytes, no '/', ':' or whitespace`);
  }
}

/** A network namespace name `ip netns` would refuse or that could escape /run/netns. */
export class InvalidNetnsNameError extends WeaveError {
  /** The error's stable name: `'InvalidNetnsNameError'`. */
  override name = 'InvalidNetnsNameError';
  constructor(
    /** The network namespace concerned. */
    readonly netns: string,
  ) {
    super(`invalid network namespace name ${JSON.stringify(netns)}`);
  }
}

/** An operation on a TAP after `close()`. */
export class TapClosedError extends WeaveError {
  /** The error's stable name: `'TapClosedError'`. */
  override name = 'TapClosedError';
  constructor(
    /** The network interface concerned. */
    readonly ifName: string,
  ) {
    super(`TAP ${ifName} is closed`);
  }
}

/** A system call on a TAP failed; `code` is the errno name (e.g. `EBADF` once the device was deleted). */
export class TapIoError extends WeaveError {
  /** The error's stable name: `'TapIoError'`. */
  override name = 'TapIoError';
  constructor(
    /** The TAP concerned. */
    readonly ifName: string,
    /** The system call that failed. */
    readonly syscall: string,
    /** The errno name (e.g. `EIO`). */
    readonly code: string,
    /** For a failed write: frames of the batch written before the one that failed. */
    readonly written = 0,
  ) {
    super(`TAP ${ifName}: ${syscall} failed with ${code}`);
  }
}

/** An `ip` (iproute2) or other plumbing command failed; `stderr` holds the tool's own words. */
export class NetCommandError extends WeaveError {
  /** The error's stable name: `'NetCommandError'`. */
  override name = 'NetCommandError';
  constructor(
    /** The command line that failed. */
    readonly command: readonly string[],
    /** What it printed on standard error. */
    readonly stderr: string,
    /** Its exit code (null when killed by a signal). */
    readonly exitCode: number | null,
  ) {
    super(`${command.join(' ')} failed: ${stderr.trim() || `exit code ${exitCode}`}`);
  }
}

/** The link (or namespace) named in a plumbing command does not exist. */
export class LinkNotFoundError extends NetCommandError {
  /** The error's stable name: `'LinkNotFoundError'`. */
  override name = 'LinkNotFoundError';
}

/** The link, address or namespace to create exists already. */
export class AlreadyExistsError extends NetCommandError {
  /** The error's stable name: `'AlreadyExistsError'`. */
  override name = 'AlreadyExistsError';
}

/** Network configuration was attempted without CAP_NET_ADMIN. */
export class NetPermissionError extends NetCommandError {
  /** The error's stable name: `'NetPermissionError'`. */
  override name = 'NetPermissionError';
}

/** A command the plumbing needs (`ip`, `sysctl`) is not installed. */
export class ToolMissingError extends WeaveError {
  /** The error's stable name: `'ToolMissingError'`. */
  override name = 'ToolMissingError';
  constructor(
    /** The command-line tool that is missing. */
    readonly tool: string,
  ) {
    super(`${tool} is not installed (the host plumbing needs iproute2 and procps)`);
  }
}

/** attachContainer was pointed at a bridge that does not exist (upstream's wording). */
export class BridgeNotFoundError extends WeaveError {
  /** The error's stable name: `'BridgeNotFoundError'`. */
  override name = 'BridgeNotFoundError';
  constructor(
    /** The bridge concerned. */
    readonly bridge: string,
  ) {
    super(`bridge "${bridge}" not present; did you launch weave?`);
  }
}

/** A sleeve fast path (or one of its connections) was used after `close()` / `remove()`. */
export class FastPathClosedError extends WeaveError {
  /** The error's stable name: `'FastPathClosedError'`. */
  override name = 'FastPathClosedError';
  constructor() {
    super('the sleeve fast path (or this connection of it) is closed');
  }
}
