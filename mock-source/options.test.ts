import { describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.ts';
import { isLoopback, mockSourceOptions } from './options.ts';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    mockSourceOptions(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('mock source options', () => {
  it('has loopback-only, generous defaults', () => {
    const o = mockSourceOptions({});
    expect(o).toMatchObject({
      host: '127.0.0.1',
      port: 4010,
      seed: 42,
      tickMs: 1000,
      initialWorkspaces: 20,
      maxWorkspaces: 200,
      schema: 'mock_source',
      startPaused: false,
      rateLimit: { capacity: 50, refillPerSecond: 20 },
      faults: { rate429: 0, rate5xx: 0, rateSlow: 0, rateTruncated: 0, rateMalformedRecord: 0 },
    });
    expect(o.apiToken).toBeUndefined();
    expect(o.adminToken).toBeUndefined();
  });

  it('converts strings from the environment', () => {
    const o = mockSourceOptions({
      TRIBUTARY_MOCK_SOURCE_PORT: '0',
      TRIBUTARY_MOCK_SOURCE_SEED: '7',
      TRIBUTARY_MOCK_SOURCE_PAUSED: 'true',
      TRIBUTARY_MOCK_SOURCE_FAULT_5XX_RATE: '0.25',
      TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND: '0.5',
    });
    expect(o).toMatchObject({ port: 0, seed: 7, startPaused: true, rateLimit: { refillPerSecond: 0.5 } });
    expect(o.faults.rate5xx).toBe(0.25);
  });

  it.each([
    ['TRIBUTARY_MOCK_SOURCE_PORT', '70000'],
    ['TRIBUTARY_MOCK_SOURCE_PORT', 'http'],
    ['TRIBUTARY_MOCK_SOURCE_FAULT_5XX_RATE', '1.5'],
    ['TRIBUTARY_MOCK_SOURCE_FAULT_MALFORMED_RECORD_RATE', '-0.1'],
    ['TRIBUTARY_MOCK_SOURCE_RATE_LIMIT_PER_SECOND', '0'],
    ['TRIBUTARY_MOCK_SOURCE_ADMIN_TOKEN', 'short'],
    ['TRIBUTARY_MOCK_SOURCE_TICK_MS', '1'],
    ['TRIBUTARY_MOCK_SOURCE_SCHEMA', 'Mock-Source'],
    ['TRIBUTARY_MOCK_SOURCE_SCHEMA', 'x; drop schema gold'],
  ])('names %s when it is %s', (field, value) => {
    const err = configError({ [field]: value });
    expect(err.field).toBe(field);
    expect(err.message).toContain(field);
    expect(err.retriable).toBe(false);
  });

  it('requires an API token when bound beyond loopback', () => {
    const err = configError({ TRIBUTARY_MOCK_SOURCE_HOST: '0.0.0.0' });
    expect(err.field).toBe('TRIBUTARY_MOCK_SOURCE_API_TOKEN');
    expect(err.message).toMatch(/not a loopback address/);
    const o = mockSourceOptions({
      TRIBUTARY_MOCK_SOURCE_HOST: '0.0.0.0',
      TRIBUTARY_MOCK_SOURCE_API_TOKEN: 'a-long-enough-secret',
    });
    expect(o.apiToken).toBe('a-long-enough-secret');
  });

  it('refuses more initial workspaces than the maximum', () => {
    const err = configError({
      TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES: '30',
      TRIBUTARY_MOCK_SOURCE_MAX_WORKSPACES: '10',
    });
    expect(err.field).toBe('TRIBUTARY_MOCK_SOURCE_INITIAL_WORKSPACES');
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopback(h)).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) {
      expect(isLoopback(h)).toBe(false);
    }
  });
});
