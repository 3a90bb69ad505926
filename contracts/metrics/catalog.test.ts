import { describe, expect, it } from 'vitest';
import { allMetrics, METRICS } from './index.ts';

describe('metric catalog', () => {
  const all = allMetrics();

  it('defines each name once', () => {
    const names = all.map((m) => m.name);
    expect(names.length).toBeGreaterThan(40);
    expect(new Set(names).size).toBe(names.length);
  });

  it('uses valid Prometheus names and labels, and counters end in _total', () => {
    for (const m of all) {
      expect(m.name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      expect(m.help.length).toBeGreaterThan(0);
      for (const l of m.labelNames) expect(l).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
      expect(m.labelNames).not.toContain('role'); // each role's registry adds it
      if (m.kind === 'counter') expect(m.name).toMatch(/_total$/);
    }
  });

  it('keeps the names dashboards, alert rules and scrapes depend on', () => {
    // a rename here breaks users' dashboards and rules: change this list only on purpose
    expect(METRICS.pollers.published.name).toBe('tributary_poller_records_published_total');
    expect(METRICS.bronze.rowsWritten).toMatchObject({
      name: 'tributary_bronze_rows_written_total',
      labelNames: ['topic'],
    });
    expect(METRICS.goldSinks.rowsWritten.labelNames).toEqual(['sink']);
    expect(METRICS.role.stallInfo.labelNames).toEqual(['reason']);
    expect(METRICS.replay.lag.name).toBe('tributary_replay_lag_messages');
    expect(METRICS.lagExport.lag.name).toBe('kafka_consumergroup_lag');
  });

  it('groups each component under its own prefix', () => {
    const prefixes: Partial<Record<keyof typeof METRICS, RegExp>> = {
      pollers: /^tributary_poller_/,
      bronze: /^tributary_bronze_/,
      processor: /^tributary_processor_/,
      goldSinks: /^tributary_gold_/,
      walks: /^tributary_walks_/,
      gateway: /^tributary_gateway_/,
      mockSource: /^mock_source_/,
    };
    for (const [group, prefix] of Object.entries(prefixes)) {
      for (const m of Object.values(METRICS[group as keyof typeof METRICS])) expect(m.name).toMatch(prefix!);
    }
  });
});
