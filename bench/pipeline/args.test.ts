import { describe, expect, it } from 'vitest';
import { parseBenchArgs, USAGE, UsageError } from './args.ts';

describe('parseBenchArgs --instances', () => {
  it('runs the pipeline roles in one process by default', () => {
    expect(parseBenchArgs(['--versions', '1000'])).toMatchObject({ instances: 1 });
  });

  it('takes 1 to 4 instances', () => {
    expect(parseBenchArgs(['--versions', '1000', '--instances', '2'])).toMatchObject({ instances: 2 });
    expect(parseBenchArgs(['--versions', '1000', '--instances', '4'])).toMatchObject({ instances: 4 });
  });

  it('refuses a count out of range or not an integer, naming the flag and the range', () => {
    for (const bad of ['0', '5', '1.5', 'two']) {
      expect(() => parseBenchArgs(['--instances', bad])).toThrow(UsageError);
      expect(() => parseBenchArgs(['--instances', bad])).toThrow(/--instances .*integer from 1 to 4/);
    }
  });

  it('is in the usage text', () => {
    expect(USAGE).toContain('--instances N');
  });
});
