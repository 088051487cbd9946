import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('./embed.ts', import.meta.url));

describe('examples/embed.ts', () => {
  it('is short: at most ~25 lines of user code', () => {
    const code = readFileSync(script, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.trim().startsWith('//') && !l.startsWith('import '));
    expect(code.length).toBeLessThanOrEqual(27);
  });

  it('meshes three peers, resolves every name through every DNS server, prints events and exits by itself', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const env: NodeJS.ProcessEnv = { ...process.env, WEAVE_EMBED_PORT: String(port) };
    delete env.NODE_EXTRA_CA_CERTS;
    // No kill, no process.exit in the example: if anything stayed open the child would not end.
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', script],
        { cwd: root, env, timeout: 40_000 },
        (error, out) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out }),
      );
      child.stdin?.end();
    });
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    for (const n of [1, 2, 3]) {
      expect(lines.filter((l) => l.startsWith(`peer${n}: peer `) && l.endsWith(' joined'))).toHaveLength(2);
      expect(lines.filter((l) => l.startsWith(`peer${n}: connected to `))).toHaveLength(2);
      expect(lines).toContain(`peer${n}: IPAM ready`);
    }
    const answers = lines.filter((l) => l.includes("'s DNS server: app1..3 are "));
    expect(answers).toHaveLength(3);
    const values = answers.map((l) => l.split(' are ')[1]);
    expect(new Set(values).size).toBe(1);
    const ips = values[0]!.split(' ');
    expect(ips).toHaveLength(3);
    expect(new Set(ips).size).toBe(3);
    for (const ip of ips) expect(ip).toMatch(/^10\.(3[2-9]|4[0-7])\.\d+\.\d+$/);
    for (const [k, ip] of ips.entries()) {
      expect(lines.filter((l) => l.endsWith(`: app${k + 1}.weave.local. is ${ip}`))).toHaveLength(3);
    }
  }, 60_000);
});
