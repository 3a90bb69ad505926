import { fileURLToPath } from 'node:url';
import { type Static, Type } from 'typebox';
import { readEnv } from '../common/env.ts';
import { ConfigError } from '../common/errors.ts';
import { requireTokenOffLoopback } from '../common/ops-server.ts';
import { dlqTopics, readTopology } from '../contracts/topology.ts';
import { type LineageOptions, lineageOptions } from '../lineage/options.ts';
import { type AlertsConfig, alertsConfig } from './alerts/rules.ts';

const List = (def: string, description: string) => Type.String({ default: def, description });

export const GatewayEnv = Type.Object({
  TRIBUTARY_GATEWAY_HOST: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    description: 'the address to listen on, e.g. 127.0.0.1 (anything else requires TRIBUTARY_GATEWAY_TOKEN)',
  }),
  TRIBUTARY_GATEWAY_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 3000,
    description: 'a free TCP port for the gateway (0 picks one)',
  }),
  TRIBUTARY_GATEWAY_TOKEN: Type.Optional(
    Type.String({
      minLength: 16,
      description: 'a random secret of at least 16 characters, e.g. the output of `openssl rand -hex 32`',
    }),
  ),
  TRIBUTARY_GATEWAY_CORS_ORIGINS: List(
    '',
    'a comma-separated list of origins allowed to call the API from a browser, e.g. https://ops.example.com',
  ),
  TRIBUTARY_GATEWAY_ALLOWED_HOSTS: List(
    '',
    'a comma-separated list of host names the gateway answers to besides localhost and 127.0.0.1 when no token is set (against DNS rebinding), e.g. tributary.internal; * for any',
  ),
  TRIBUTARY_GATEWAY_RATE_LIMIT: Type.Integer({
    minimum: 1,
    default: 600,
    description:
      'the number of /api requests, and of live jobs:recent queries, one client address may make per minute, e.g. 600',
  }),
  TRIBUTARY_GATEWAY_POSTGRES_URL: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'a postgres:// URL of a read-only role (default: the pipeline database URL)',
    }),
  ),
  TRIBUTARY_GATEWAY_TICK_MS: Type.Integer({
    minimum: 200,
    maximum: 60_000,
    default: 1000,
    description: 'how often live data is pushed, in ms (200-60000)',
  }),
  TRIBUTARY_GATEWAY_HISTORY_SECONDS: Type.Integer({
    minimum: 10,
    maximum: 3600,
    default: 300,
    description: 'how many seconds of live history a new dashboard receives (10-3600)',
  }),
  TRIBUTARY_GATEWAY_KPI_REFRESH_MS: Type.Integer({
    minimum: 500,
    maximum: 600_000,
    default: 2000,
    description: 'how often the business KPIs are recomputed from the gold table, in ms',
  }),
  TRIBUTARY_GATEWAY_KPI_WINDOW_MINUTES: Type.Integer({
    minimum: 1,
    maximum: 1440,
    default: 60,
    description: 'the window of the live throughput KPI in minutes (1-1440)',
  }),
  TRIBUTARY_ALERTS_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'the path of a YAML or JSON file of alert rules and webhooks (docs/operations.md "Alerts"; default: the built-in rules, no webhooks)',
    }),
  ),
  TRIBUTARY_GATEWAY_DASHBOARD_DIR: Type.Optional(
    Type.String({ minLength: 1, description: 'the folder of the built dashboard (default dashboard/dist)' }),
  ),
});
export type GatewayEnv = Static<typeof GatewayEnv>;

export interface GatewayOptions {
  host: string;
  port: number;
  token?: string;
  corsOrigins: string[];
  /** host names served without a token besides loopback ones (DNS rebinding); '*' for any */
  allowedHosts: string[];
  rateLimitPerMinute: number;
  /** undefined: the pipeline's database URL */
  postgresUrl?: string;
  /** the names below come from the topology (contracts/topology.ts) */
  goldTable: string;
  metricsTopic: string;
  rawTopics: string[];
  goldTopic: string;
  /** every dead-letter topic of the pipeline */
  dlqTopics: string[];
  /** explicit groups; empty means discover by prefix, plus `pipelineGroups` */
  lagGroups: string[];
  lagGroupPrefix: string;
  /** the topology's consumer groups of the pipeline's stages, watched with the discovered ones */
  pipelineGroups: string[];
  tickMs: number;
  historySeconds: number;
  kpiRefreshMs: number;
  kpiWindowMinutes: number;
  dashboardDir: string;
  /** the alert rules and webhooks, read and validated at start */
  alerts: AlertsConfig;
  /** the trace of GET /api/jobs/{id}/lineage (lineage/options.ts) */
  lineage: LineageOptions;
}

export function gatewayOptions(env: NodeJS.ProcessEnv = process.env): GatewayOptions {
  const e = readEnv(GatewayEnv, env);
  const t = readTopology(env);
  requireTokenOffLoopback(e.TRIBUTARY_GATEWAY_HOST, e.TRIBUTARY_GATEWAY_TOKEN, 'TRIBUTARY_GATEWAY_TOKEN');
  const corsOrigins = list(e.TRIBUTARY_GATEWAY_CORS_ORIGINS);
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/]+$/.test(origin)) {
      throw new ConfigError(
        'TRIBUTARY_GATEWAY_CORS_ORIGINS',
        `contains ${JSON.stringify(origin)}, which is not an origin`,
        'list origins as scheme://host[:port] without a path, e.g. https://ops.example.com',
      );
    }
  }
  const allowedHosts = list(e.TRIBUTARY_GATEWAY_ALLOWED_HOSTS);
  for (const name of allowedHosts) {
    if (name !== '*' && !/^[a-z0-9.-]+$/i.test(name)) {
      throw new ConfigError(
        'TRIBUTARY_GATEWAY_ALLOWED_HOSTS',
        `contains ${JSON.stringify(name)}, which is not a host name`,
        'list host names without scheme or port, e.g. tributary.internal,dash.example.com (or * for any)',
      );
    }
  }
  return {
    host: e.TRIBUTARY_GATEWAY_HOST,
    port: e.TRIBUTARY_GATEWAY_PORT,
    token: e.TRIBUTARY_GATEWAY_TOKEN,
    corsOrigins,
    allowedHosts,
    rateLimitPerMinute: e.TRIBUTARY_GATEWAY_RATE_LIMIT,
    postgresUrl: e.TRIBUTARY_GATEWAY_POSTGRES_URL,
    goldTable: t.gold.table,
    metricsTopic: t.topics.metrics,
    // one entry per topic: a test or a small deployment may give both raw settings one topic
    rawTopics: [...new Set([t.topics.rawWorkspaces, t.topics.rawJobs])],
    goldTopic: t.topics.gold,
    dlqTopics: dlqTopics(t),
    lagGroups: t.lag.groups,
    lagGroupPrefix: t.lag.groupPrefix,
    pipelineGroups: [
      t.groups.bronzeWorkspaces,
      t.groups.bronzeJobs,
      t.groups.processor,
      t.groups.goldPostgres,
      t.groups.goldMongo,
    ],
    tickMs: e.TRIBUTARY_GATEWAY_TICK_MS,
    historySeconds: e.TRIBUTARY_GATEWAY_HISTORY_SECONDS,
    kpiRefreshMs: e.TRIBUTARY_GATEWAY_KPI_REFRESH_MS,
    kpiWindowMinutes: e.TRIBUTARY_GATEWAY_KPI_WINDOW_MINUTES,
    dashboardDir:
      e.TRIBUTARY_GATEWAY_DASHBOARD_DIR ?? fileURLToPath(new URL('../dashboard/dist', import.meta.url)),
    alerts: alertsConfig(e.TRIBUTARY_ALERTS_FILE, env),
    // the trace reads the topology's gold table, the one this gateway shows
    lineage: lineageOptions(env),
  };
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
