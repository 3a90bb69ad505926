import { describe, expect, it } from 'vitest';
import { sumPrometheusSamples } from './instances.ts';

const TEXT = `# HELP tributary_poller_records_published_total Records published
# TYPE tributary_poller_records_published_total counter
tributary_poller_records_published_total{api="workspaces"} 1200
tributary_poller_records_published_total{api="enrichment-jobs",note="a } b"} 800
tributary_poller_records_published_total_extra 5
tributary_processor_gold_records_total 42 1733130000000
tributary_processor_gold_records_total_other{x="1"} 7
`;

describe('sumPrometheusSamples', () => {
  it('sums every label value of one metric and nothing of the metrics whose name it prefixes', () => {
    expect(sumPrometheusSamples(TEXT, 'tributary_poller_records_published_total')).toBe(2000);
  });

  it('reads an unlabelled sample with a timestamp', () => {
    expect(sumPrometheusSamples(TEXT, 'tributary_processor_gold_records_total')).toBe(42);
  });

  it('is 0 for a metric the text does not hold', () => {
    expect(sumPrometheusSamples(TEXT, 'tributary_processor_dlq_records_total')).toBe(0);
    expect(sumPrometheusSamples('', 'tributary_processor_dlq_records_total')).toBe(0);
  });
});
