import { execFile } from 'node:child_process';

/** iptables rules upstream's `weave expose` adds, for removing them (`delete_iptables_rule`). */

function iptables(args: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('iptables', ['-w', ...args], { timeout: 10_000 }, (err) => resolve(err === null));
  });
}

/** Deletes the rule from `table` if it is there; resolves whether it was. */
export async function deleteRuleIfPresent(
  table: string,
  chain: string,
  rule: readonly string[],
): Promise<boolean> {
  if (!(await iptables(['-t', table, '-C', chain, ...rule]))) return false;
  return iptables(['-t', table, '-D', chain, ...rule]);
}

/** The NAT and filter rules of an exposed `cidr` as upstream writes them (chain, table, rule). */
export function exposeRules(cidr: string): { table: string; chain: string; rule: string[] }[] {
  return [
    { table: 'nat', chain: 'WEAVE', rule: ['-s', cidr, '-d', '224.0.0.0/4', '-j', 'RETURN'] },
    { table: 'nat', chain: 'WEAVE', rule: ['-d', cidr, '!', '-s', cidr, '-j', 'MASQUERADE'] },
    { table: 'nat', chain: 'WEAVE', rule: ['-s', cidr, '!', '-d', cidr, '-j', 'MASQUERADE'] },
    { table: 'filter', chain: 'WEAVE-EXPOSE', rule: ['-d', cidr, '-j', 'ACCEPT'] },
  ];
}
