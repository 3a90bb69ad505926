import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { clientId, instanceId } from './instance.ts';

describe('instance identity', () => {
  it('is TRIBUTARY_INSTANCE_ID when set', () => {
    expect(instanceId({ TRIBUTARY_INSTANCE_ID: 'pollers-1' })).toBe('pollers-1');
    expect(clientId('pollers', { TRIBUTARY_INSTANCE_ID: 'pollers-1' })).toBe('tributary-pollers-pollers-1');
  });

  it('defaults to a name unique per process: host and pid', () => {
    const id = instanceId({});
    expect(id).toMatch(new RegExp(`^[A-Za-z0-9._-]+-${process.pid}$`));
  });

  it('refuses characters a client id or group id should not carry, naming the variable', () => {
    expect(() => instanceId({ TRIBUTARY_INSTANCE_ID: 'a b' })).toThrow(ConfigError);
    expect(() => instanceId({ TRIBUTARY_INSTANCE_ID: 'a b' })).toThrow(/TRIBUTARY_INSTANCE_ID/);
  });
});
