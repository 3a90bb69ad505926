import Table from 'cli-table3';
import type { EndpointStatus } from '../runtime/endpoints.ts';

export const progress = (prefix: string) => (line: string) => console.error(`[${prefix}] ${line}`);

export function readinessTable(rows: EndpointStatus[]): string {
  const table = new Table({ head: ['server', 'endpoint', 'where', 'pid', 'health'] });
  for (const r of rows) {
    table.push([
      r.name,
      r.endpoint,
      r.local ? 'local' : 'external',
      r.pid ?? '-',
      `${r.healthy ? 'ok' : 'DOWN'}: ${r.detail}`,
    ]);
  }
  return table.toString();
}
