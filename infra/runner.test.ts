import { describe, expect, it } from 'vitest';
import { infraOptions } from '../runtime/endpoints.ts';
import { statusEndpoints } from './runner.ts';

describe('infra status', () => {
  it('masks the password of every server URL it prints, ":" in the password included', () => {
    const endpoints = statusEndpoints(
      infraOptions({
        TRIBUTARY_POSTGRES_URL: 'postgres://app:pg:secret@db.example.test:5432/tributary',
        TRIBUTARY_MONGODB_URL:
          'mongodb://app:mongo:secret@m1.example.test:27017,m2.example.test:27017/tributary',
        TRIBUTARY_SCHEMA_REGISTRY_URL: 'https://app:registry:secret@registry.example.test/apis/ccompat/v7',
        TRIBUTARY_KAFKA_BROKERS: 'k1.example.test:9092',
      }),
    );
    expect(endpoints).toEqual({
      postgres: 'postgres://app:***@db.example.test:5432/tributary',
      mongodb: 'mongodb://app:***@m1.example.test:27017,m2.example.test:27017/tributary',
      registry: 'https://app:***@registry.example.test/apis/ccompat/v7',
      kafka: 'k1.example.test:9092',
    });
    expect(JSON.stringify(endpoints)).not.toContain('secret');
  });
});
