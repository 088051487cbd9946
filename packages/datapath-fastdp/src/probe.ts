import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { runCommand, runIp } from '@weave-ts/host';
import { BpfProgram } from './bpf-maps.js';
import { ensureBpffs, FASTDP_BPF_OBJECT, loadBpfObject } from './kernel-dataplane.js';

/** What {@link probeFastdp} found. */
export interface FastdpProbe {
  /** Whether fastdp can run here. */
  readonly supported: boolean;
  /** Why not, when unsupported (the failing step and the tool's complaint). */
  readonly reason?: string;
}

/** Options of {@link probeFastdp}. */
export interface ProbeFastdpOptions {
  /** The compiled BPF object to try (default the package's). */
  readonly objectPath?: string;
  /** bpffs mount to use (default as `KernelDataplane`). */
  readonly bpffs?: string;
  /** Start of the throw-away device's name, ≤ 9 characters (default `fdpprobe`; tests use their prefix). */
  readonly devicePrefix?: string;
}

/**
 * Checks, in this network namespace, everything fastdp needs: the `bpftool` and `tc` tools, bpffs,
 * a VXLAN device in external mode, a clsact qdisc, and loading and attaching the BPF programs. It
 * builds a throw-away device (`fdpprobe<random>`, down, so no UDP port is taken) and removes all it
 * made. Never throws.
 */
export async function probeFastdp(options: ProbeFastdpOptions = {}): Promise<FastdpProbe> {
  const id = randomBytes(3).toString('hex');
  const dev = `${(options.devicePrefix ?? 'fdpprobe').slice(0, 9)}${id}`;
  let pinDir: string | undefined;
  let step = 'running bpftool';
  try {
    await runCommand('bpftool', ['version']);
    step = 'running tc';
    await runCommand('tc', ['-V']);
    step = 'mounting bpffs';
    const bpffs = await ensureBpffs(options.bpffs);
    step = 'creating a VXLAN device in external mode';
    await runIp(['link', 'add', dev, 'type', 'vxlan', 'external', 'dstport', '4789']);
    step = 'adding a clsact qdisc';
    await runCommand('tc', ['qdisc', 'add', 'dev', dev, 'clsact']);
    step = 'loading the BPF programs';
    pinDir = `${bpffs}/weave-fastdp-probe-${id}`;
    await loadBpfObject(options.objectPath ?? FASTDP_BPF_OBJECT, pinDir);
    step = 'attaching a tc BPF program';
    await runCommand('tc', [
      'filter',
      'add',
      'dev',
      dev,
      'ingress',
      'bpf',
      'da',
      'pinned',
      `${pinDir}/progs/${BpfProgram.ingress}`,
    ]);
    return { supported: true };
  } catch (error) {
    const detail = (error as Error).message.trim().split('\n').slice(-3).join(' ');
    return { supported: false, reason: `${step}: ${detail}` };
  } finally {
    await runIp(['link', 'del', 'dev', dev]).catch(() => {});
    if (pinDir) rmSync(pinDir, { recursive: true, force: true });
  }
}
