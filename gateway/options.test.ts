import { describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.ts';
import { gatewayOptions } from './options.ts';

describe('gateway options', () => {
  it('binds to loopback on port 3000 and reads the pipeline topics by default', () => {
    const o = gatewayOptions({});
    expect(o).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      token: undefined,
      corsOrigins: [],
      allowedHosts: [],
      goldTable: 'gold.enrichment_jobs',
      metricsTopic: '_tributary.metrics',
      rawTopics: ['raw.workspaces', 'raw.enrichment-jobs'],
      dlqTopics: [
        'dlq.gold.enrichment-jobs',
        'dlq.raw.enrichment-jobs',
        'dlq.raw.workspaces',
        'dlq.source.enrichment-jobs',
        'dlq.source.workspaces',
      ],
      lagGroups: [],
      pipelineGroups: [
        'tributary.bronze.workspaces',
        'tributary.bronze.enrichment-jobs',
        'tributary.processor',
        'tributary.gold.postgres',
        'tributary.gold.mongo',
      ],
    });
    expect(o.dashboardDir).toMatch(/dashboard[/\\]dist$/);
  });

  it('follows renamed raw topics (the dashboard has no list of its own)', () => {
    const o = gatewayOptions({ TRIBUTARY_RAW_WORKSPACES_TOPIC: 'a.ws', TRIBUTARY_RAW_JOBS_TOPIC: 'a.jobs' });
    expect(o.rawTopics).toEqual(['a.ws', 'a.jobs']);
    expect(o.dlqTopics).toEqual(expect.arrayContaining(['dlq.a.ws', 'dlq.a.jobs']));
  });

  it('requires a token when bound to a non-loopback address, naming the setting', () => {
    const attempt = () => gatewayOptions({ TRIBUTARY_GATEWAY_HOST: '0.0.0.0' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/TRIBUTARY_GATEWAY_TOKEN/);
    const o = gatewayOptions({ TRIBUTARY_GATEWAY_HOST: '0.0.0.0', TRIBUTARY_GATEWAY_TOKEN: 'x'.repeat(32) });
    expect(o.token).toBe('x'.repeat(32));
    expect(gatewayOptions({ TRIBUTARY_GATEWAY_HOST: '::1' }).host).toBe('::1');
  });

  it.each([
    ['TRIBUTARY_GATEWAY_TOKEN', 'short'],
    ['TRIBUTARY_GATEWAY_PORT', '70000'],
    ['TRIBUTARY_GOLD_TABLE', 'a.b.c'],
    ['TRIBUTARY_GATEWAY_GOLD_TABLE', 'gold.mine'],
    ['TRIBUTARY_GATEWAY_CORS_ORIGINS', 'https://ok.example,not an origin'],
    ['TRIBUTARY_GATEWAY_RATE_LIMIT', '0'],
    ['TRIBUTARY_GATEWAY_ALLOWED_HOSTS', 'http://dash.example.test'],
    ['TRIBUTARY_GATEWAY_ALLOWED_HOSTS', 'dash.example.test:3000'],
  ])('rejects a bad %s', (field, value) => {
    expect(() => gatewayOptions({ [field]: value })).toThrow(new RegExp(field));
  });

  it('splits lists and trims them', () => {
    const o = gatewayOptions({
      TRIBUTARY_GATEWAY_LAG_GROUPS: ' a , b,,',
      TRIBUTARY_GATEWAY_CORS_ORIGINS: 'https://a.example, http://b.example:8080',
    });
    expect(o.lagGroups).toEqual(['a', 'b']);
    expect(o.corsOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
  });
});
