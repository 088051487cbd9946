import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWeaveMetrics } from '../src/index.js';
import { fakeReport } from './fake-backend.js';

// /metrics against upstream's own numbers: the weave_* samples computed from a stock router's
// /report must be the samples that router printed (fixtures/weaver-2.8.1/host*_metrics.txt).

const fixture = (name: string) =>
  readFileSync(new URL(`../../../fixtures/weaver-2.8.1/${name}`, import.meta.url), 'utf8');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of the Prometheus text exposition format (0.0.4). */
function parseExposition(text: string): {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
} {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : types).set(meta[2]!, meta[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    const v = m[3]!;
    samples.push({
      name: m[1]!,
      labels,
      value: v === 'NaN' ? Number.NaN : v === '+Inf' ? Infinity : Number(v),
    });
  }
  return { samples, types, help };
}

const sampleLine = (s: Sample) => {
  const keys = Object.keys(s.labels).sort();
  const labels = keys.length ? `{${keys.map((k) => `${k}="${s.labels[k]}"`).join(',')}}` : '';
  return `${s.name}${labels} ${s.value}`;
};

describe('/metrics', () => {
  for (const host of ['hostA', 'hostB', 'hostC']) {
    it(`weave_* samples equal upstream's for ${host}`, async () => {
      const report = JSON.parse(fixture(`${host}_report.json`));
      const metrics = createWeaveMetrics({ report: () => report, processMetrics: false });
      const { body, contentType } = await metrics.render();
      expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      const ours = parseExposition(body)
        .samples.filter((s) => s.name.startsWith('weave_'))
        .map(sampleLine)
        .sort();
      const theirs = fixture(`${host}_metrics.txt`).trim().split('\n').sort();
      expect(ours).toEqual(theirs);
    });
  }

  it('types, help, unreachable peers, pending requests and Node process metrics', async () => {
    const metrics = createWeaveMetrics({ report: fakeReport });
    const { samples, types, help } = parseExposition((await metrics.render()).body);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;
    expect(types.get('weave_connections')).toBe('gauge');
    expect(types.get('weave_connection_terminations_total')).toBe('counter');
    expect(help.get('weave_connections')).toBe('Number of peer-to-peer connections.');
    expect(value('weave_connections', { state: 'established', type: 'sleeve', encryption: '' })).toBe(1);
    expect(value('weave_connections', { state: 'established', type: 'sleeve', encryption: 'yes' })).toBe(0);
    expect(value('weave_connection_terminations_total')).toBe(3);
    expect(value('weave_ips', { state: 'local-used' })).toBe(2);
    expect(value('weave_max_ips')).toBe(1048576);
    expect(value('weave_ipam_unreachable_count')).toBe(1);
    expect(value('weave_ipam_unreachable_percentage')).toBe(25);
    expect(value('weave_ipam_pending_allocates')).toBe(1);
    expect(value('weave_ipam_pending_claims')).toBe(0);
    expect(value('weave_dns_entries')).toBe(1); // own live entries only
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_heap_size_used_bytes')).toBe(true);
    expect(samples.some((s) => s.name === 'weave_flows')).toBe(false);
  });

  it('values follow the report at every scrape; IPAM/DNS metrics are left out when disabled', async () => {
    let report = fakeReport();
    const metrics = createWeaveMetrics({
      report: () => report,
      ipam: false,
      dns: false,
      flows: () => 42,
      processMetrics: false,
    });
    let parsed = parseExposition((await metrics.render()).body);
    expect(parsed.samples.map((s) => s.name).sort()).toEqual([
      'weave_connection_terminations_total',
      'weave_connections',
      'weave_connections',
      'weave_flows',
    ]);
    report = { ...report, Router: { ...(report.Router as object), Connections: [], TerminationCount: 9 } };
    parsed = parseExposition((await metrics.render()).body);
    expect(parsed.samples.map(sampleLine).sort()).toEqual([
      'weave_connection_terminations_total 9',
      'weave_flows 42',
    ]);
    const noFlows = createWeaveMetrics({ report: fakeReport, flows: () => undefined, processMetrics: false });
    expect((await noFlows.render()).body).not.toContain('weave_flows');
  });
});
