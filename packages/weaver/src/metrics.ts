import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { MetricsText, WeaveReport } from './api-backend.js';

/**
 * `/metrics`: upstream weaver's metric names and labels (`weave_connections{state,type,encryption}`,
 * `weave_connection_terminations_total`, `weave_ips{state="local-used"}`, `weave_max_ips`,
 * `weave_dns_entries`, `weave_flows`, `weave_ipam_unreachable_count`,
 * `weave_ipam_unreachable_percentage`, `weave_ipam_pending_allocates`, `weave_ipam_pending_claims`),
 * read from the `/report` object at scrape time, plus Node's process metrics — all in a private
 * prom-client registry, so embedding the weaver never touches the global one.
 */

interface ConnectionView {
  State?: string;
  Attrs?: Record<string, unknown> | null;
}
interface IpamView {
  RangeNumIPs?: number;
  ActiveIPs?: number;
  Entries?: { Peer: string; Size: number; IsKnownPeer: boolean }[] | null;
  PendingClaims?: unknown[] | null;
  PendingAllocates?: unknown[] | null;
}
interface DnsView {
  Entries?: { Origin: string; Tombstone: number }[] | null;
}

/** Options of {@link createWeaveMetrics}. */
export interface WeaveMetricsOptions {
  /** The current report (called once per scrape). */
  report: () => WeaveReport;
  /** Fast-datapath flow count, when the datapath has flows (`weave_flows` is left out otherwise). */
  flows?: () => number | undefined;
  /** Whether IPAM is enabled (its metrics are left out otherwise); default true. */
  ipam?: boolean;
  /** Whether weaveDNS is enabled (`weave_dns_entries` is left out otherwise); default true. */
  dns?: boolean;
  /** Node process metrics (default true). */
  processMetrics?: boolean;
}

/** The weaver's metrics registry. */
export interface WeaveMetrics {
  /** The private prom-client registry (add metrics of your own here). */
  readonly registry: Registry;
  /** The exposition text. */
  render(): Promise<MetricsText>;
}

/** Builds the registry; the values are taken from `options.report()` on every scrape. */
export function createWeaveMetrics(options: WeaveMetricsOptions): WeaveMetrics {
  const registry = new Registry();
  let snapshot: WeaveReport = {};
  const router = () =>
    (snapshot.Router ?? {}) as {
      Name?: string;
      Connections?: ConnectionView[] | null;
      TerminationCount?: number;
    };
  const ipam = () => (snapshot.IPAM ?? null) as IpamView | null;
  const dns = () => (snapshot.DNS ?? null) as DnsView | null;

  new Gauge({
    name: 'weave_connections',
    help: 'Number of peer-to-peer connections.',
    labelNames: ['state', 'type', 'encryption'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const conn of router().Connections ?? []) {
        const state = conn.State ?? '';
        const type = typeof conn.Attrs?.name === 'string' ? conn.Attrs.name : '';
        const encrypted = conn.Attrs?.encrypted === true;
        // Both encryption values of every (state, type) seen, as upstream prints them.
        this.inc({ state, type, encryption: encrypted ? 'yes' : '' }, 1);
        this.inc({ state, type, encryption: encrypted ? '' : 'yes' }, 0);
      }
    },
  });
  new Counter({
    name: 'weave_connection_terminations_total',
    help: 'Number of peer-to-peer connections terminated.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(Number(router().TerminationCount ?? 0));
    },
  });
  const withIpam = options.ipam !== false;
  const ipamGauge = (
    name: string,
    help: string,
    value: (s: IpamView) => number,
    labels?: { state: string },
  ) =>
    withIpam &&
    new Gauge({
      name,
      help,
      labelNames: labels ? (['state'] as const) : ([] as const),
      registers: [registry],
      collect() {
        this.reset();
        const s = ipam();
        if (s === null) return;
        if (labels) this.set(labels, value(s));
        else this.set(value(s));
      },
    });
  ipamGauge('weave_ips', 'Number of IP addresses.', (s) => s.ActiveIPs ?? 0, { state: 'local-used' });
  ipamGauge('weave_max_ips', 'Size of IP address space used by allocator.', (s) => s.RangeNumIPs ?? 0);
  if (options.dns !== false)
    new Gauge({
      name: 'weave_dns_entries',
      help: 'Number of DNS entries.',
      registers: [registry],
      collect() {
        this.reset();
        const s = dns();
        if (s === null) return;
        const us = router().Name;
        this.set((s.Entries ?? []).filter((e) => e.Tombstone === 0 && e.Origin === us).length);
      },
    });
  const unreachable = (s: IpamView) => (s.Entries ?? []).filter((e) => !e.IsKnownPeer);
  ipamGauge(
    'weave_ipam_unreachable_count',
    'Number of unreachable peers.',
    (s) => new Set(unreachable(s).map((e) => e.Peer)).size,
  );
  ipamGauge(
    'weave_ipam_unreachable_percentage',
    'Percentage of IP addresses owned by unreachable peers.',
    (s) => {
      const total = s.RangeNumIPs ?? 0;
      if (total === 0) return 0;
      return (unreachable(s).reduce((n, e) => n + e.Size, 0) * 100) / total;
    },
  );
  ipamGauge(
    'weave_ipam_pending_allocates',
    'Number of pending allocates.',
    (s) => s.PendingAllocates?.length ?? 0,
  );
  ipamGauge('weave_ipam_pending_claims', 'Number of pending claims.', (s) => s.PendingClaims?.length ?? 0);

  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  // `weave_flows` exists only while the datapath has flows (fastdp): registered at the first scrape
  // that sees a count, so other datapaths show no such metric.
  let flowsGauge: Gauge | undefined;
  const flows = options.flows;
  const addFlows = () => {
    if (flowsGauge || !flows || flows() === undefined) return;
    flowsGauge = new Gauge({
      name: 'weave_flows',
      help: 'Number of FastDP flows.',
      registers: [registry],
      collect() {
        this.reset();
        this.set(flows() ?? 0);
      },
    });
  };

  return {
    registry,
    async render() {
      snapshot = options.report();
      addFlows();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
