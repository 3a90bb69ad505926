import { describe, expect, it } from 'vitest';
import { ConfigError, describeError } from '../common/errors.ts';
import { infraOptions } from './endpoints.ts';

describe('configuration', () => {
  it('applies defaults and derives local endpoints when nothing is set', () => {
    const o = infraOptions({ HOME: '/home/u' });
    expect(o.kafka).toMatchObject({ local: true, brokers: ['127.0.0.1:19092'], controllerPort: 19093 });
    expect(o.registry).toMatchObject({ local: true, url: 'http://127.0.0.1:18081/apis/ccompat/v7' });
    expect(o.postgres).toMatchObject({
      local: true,
      url: 'postgres://tributary:tributary@127.0.0.1:15432/tributary',
    });
    expect(o.mongo).toMatchObject({ local: true, url: 'mongodb://127.0.0.1:17017/tributary' });
    expect(o.topicPartitions).toBe(3);
  });

  it('converts strings and treats a set URL as an external server', () => {
    const o = infraOptions({
      TRIBUTARY_KAFKA_BROKERS: 'k1:9092, k2:9092',
      TRIBUTARY_KAFKA_SSL: 'true',
      TRIBUTARY_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      TRIBUTARY_KAFKA_SASL_USERNAME: 'u',
      TRIBUTARY_KAFKA_SASL_PASSWORD: 'p',
      TRIBUTARY_POSTGRES_PORT: '25432',
    });
    expect(o.kafka).toMatchObject({
      local: false,
      brokers: ['k1:9092', 'k2:9092'],
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
    });
    expect(o.postgres.url).toContain(':25432/');
  });

  it('stops with the field name, the bad value and the fix', () => {
    let err: unknown;
    try {
      infraOptions({ TRIBUTARY_KAFKA_PORT: 'abc' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('TRIBUTARY_KAFKA_PORT');
    expect(describeError(err)).toMatch(
      /^invalid configuration: TRIBUTARY_KAFKA_PORT is "abc": .*\n {2}fix: set TRIBUTARY_KAFKA_PORT to a free TCP port/,
    );
    expect(() => infraOptions({ TRIBUTARY_REGISTRY_PORT: '70000' })).toThrow(
      /TRIBUTARY_REGISTRY_PORT is "70000"/,
    );
    try {
      infraOptions({ TRIBUTARY_KAFKA_SASL_MECHANISM: 'gssapi' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).message).toMatch(
        /TRIBUTARY_KAFKA_SASL_MECHANISM is "gssapi": must be one of "plain", "scram-sha-256", "scram-sha-512"/,
      );
      expect((e as ConfigError).fix).toBe(
        'set TRIBUTARY_KAFKA_SASL_MECHANISM to plain, scram-sha-256 or scram-sha-512',
      );
    }
  });
});
