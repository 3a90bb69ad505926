import type avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { JobStatusValues } from '../schemas/generated/types.ts';
import { avroType } from '../schemas/index.ts';
import { isJobStatus, isTerminalJobStatus, JOB_STATUSES, TERMINAL_JOB_STATUSES } from './job-status.ts';

describe('job statuses', () => {
  it('are the Avro enum symbols, in the enum order', () => {
    // the gold schema repeats the source's enum: both must list the same symbols in the same order
    for (const schema of ['enrichment-job', 'enrichment-job-gold'] as const) {
      const record = avroType(schema) as avro.types.RecordType;
      const status = record.field('status')!.type as avro.types.EnumType;
      expect([...JOB_STATUSES]).toEqual(status.symbols);
    }
    expect(JOB_STATUSES).toBe(JobStatusValues);
  });

  it('know which statuses are terminal', () => {
    expect(TERMINAL_JOB_STATUSES).toEqual(['completed', 'failed', 'canceled']);
    expect(isTerminalJobStatus('failed')).toBe(true);
    expect(isTerminalJobStatus('processing')).toBe(false);
    expect(isJobStatus('queued')).toBe(true);
    expect(isJobStatus('running')).toBe(false);
  });
});
