import { execFile } from 'node:child_process';
import { CliContext } from '../context.js';
import { CliExit, UsageError } from '../errors.js';
import { scanFlags } from '../parse-flags.js';
import { dnsArgs } from './docker-common.js';

/** An address argument of `weave run`. */
const ADDR_RE = /^(net:default|net:\S+\/\d+|ip:\S+\/\d+|\d+\.\d+\.\d+\.\d+\/\d+)$/;

/**
 * `weave run [<addr> ...] [--without-dns] [--no-multicast-route] <docker run args>` (the 1.x verb
 * the seeds use): `docker run -d` with weaveDNS flags (unless `--without-dns`) and
 * `WEAVE_CIDR=none` (so a proxy in between leaves it alone), then `weave attach` with the
 * addresses; prints the container id. The docker client is `$WEAVE_DOCKER_CLI`, else `docker`.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const addrs: string[] = [];
  const attachFlags: string[] = [];
  let withoutDns = false;
  // Our flags and the addresses come first (in any order); the first word that is neither starts
  // the `docker run` arguments, which go on untouched (sliced from args by token index).
  const tokens = scanFlags(args, {
    'without-dns': { type: 'boolean' },
    'no-multicast-route': { type: 'boolean' },
    'rewrite-hosts': { type: 'boolean' },
    'add-host': { type: 'string' },
  });
  let end = args.length;
  for (const t of tokens) {
    if (t.kind === 'positional' && ADDR_RE.test(t.value)) addrs.push(t.value);
    else if (t.kind === 'option' && t.rawName === '--without-dns' && t.inlineValue === undefined)
      withoutDns = true;
    else if (t.kind === 'option' && t.rawName === '--no-multicast-route' && t.inlineValue === undefined)
      attachFlags.push(t.rawName);
    else if (t.kind === 'option' && t.rawName === '--rewrite-hosts' && t.inlineValue === undefined) continue;
    else if (t.kind === 'option' && t.rawName === '--add-host' && t.inlineValue === true) continue;
    else {
      end = t.index;
      break;
    }
  }
  const dockerArgs = args.slice(end);
  if (dockerArgs.length === 0) throw new UsageError();

  const dns = withoutDns ? [] : await dnsArgs(ctx);
  const cli = ctx.env.WEAVE_DOCKER_CLI || 'docker';
  const id = await new Promise<string>((resolve, reject) => {
    execFile(
      cli,
      ['run', '-d', '-e', 'WEAVE_CIDR=none', ...dns, ...dockerArgs],
      { env: ctx.env, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === 'number' ? err.code : 1;
          reject(new CliExit(String(stderr).trim() || err.message, code));
        } else resolve(String(stdout).trim().split('\n').pop() ?? '');
      },
    );
  });
  if (!/^[0-9a-f]{12,64}$/.test(id)) throw new CliExit(`docker run printed no container id: ${id}`, 1);

  const attach = await import('./attach.js');
  const quiet = new CliContext({ env: ctx.env, stdout: () => {}, stderr: (t) => ctx.err(t) });
  await attach.run([...addrs, ...attachFlags, id], quiet);
  ctx.out(`${id}\n`);
  return 0;
}
