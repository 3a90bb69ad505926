import { describe, expect, it } from 'vitest';
import { infraOptions } from '../../runtime/endpoints.ts';
import { localServices, statusEndpoints } from '../runner.ts';
import {
  kafkaJvmFlags,
  kafkaNodeName,
  layoutProblem,
  replicationSettings,
  serverProperties,
} from './kafka-config.ts';

const props = (text: string) =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

describe('local Kafka configuration', () => {
  it('keeps the single broker by default: one node on the configured port, one replica', () => {
    const opts = infraOptions({ HOME: '/home/u', TRIBUTARY_KAFKA_PORT: '19092' });
    expect(opts.kafka.nodes).toEqual([{ id: 1, port: 19092, controllerPort: 19093 }]);
    expect(opts.kafka.brokers).toEqual(['127.0.0.1:19092']);
    const p = props(serverProperties(opts, opts.kafka.nodes[0]!, '/d/kafka/data'));
    expect(p).toMatchObject({
      'node.id': '1',
      'controller.quorum.voters': '1@127.0.0.1:19093',
      listeners: 'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093',
      'default.replication.factor': '1',
      'min.insync.replicas': '1',
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'log.dirs': '/d/kafka/data',
    });
    expect(kafkaNodeName(opts.kafka.nodes[0]!, 1)).toBe('kafka');
    expect(localServices(opts).map((s) => s.name)).toEqual(['postgres', 'kafka', 'registry', 'mongodb']);
  });

  it('runs three nodes with replication factor 3 and min ISR 2, every node in the voters and the client list', () => {
    const opts = infraOptions({ HOME: '/home/u', TRIBUTARY_KAFKA_PORT: '19492', TRIBUTARY_KAFKA_NODES: '3' });
    expect(opts.kafka.nodes.map((n) => [n.port, n.controllerPort])).toEqual([
      [19492, 19493],
      [19494, 19495],
      [19496, 19497],
    ]);
    expect(opts.kafka.brokers).toEqual(['127.0.0.1:19492', '127.0.0.1:19494', '127.0.0.1:19496']);
    expect(statusEndpoints(opts).kafka).toBe('127.0.0.1:19492,127.0.0.1:19494,127.0.0.1:19496');
    const voters = '1@127.0.0.1:19493,2@127.0.0.1:19495,3@127.0.0.1:19497';
    const all = opts.kafka.nodes.map((n) => props(serverProperties(opts, n, `/d/kafka-${n.id}/data`)));
    all.forEach((p, i) => {
      expect(p).toMatchObject({
        'process.roles': 'broker,controller',
        'node.id': String(i + 1),
        'controller.quorum.voters': voters,
        listeners: `PLAINTEXT://127.0.0.1:${19492 + 2 * i},CONTROLLER://127.0.0.1:${19493 + 2 * i}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${19492 + 2 * i}`,
        'log.dirs': `/d/kafka-${i + 1}/data`,
        'default.replication.factor': '3',
        'min.insync.replicas': '2',
        'offsets.topic.replication.factor': '3',
        'transaction.state.log.replication.factor': '3',
        'transaction.state.log.min.isr': '2',
        'unclean.leader.election.enable': 'false',
      });
    });
    const services = localServices(opts);
    expect(services.map((s) => s.name)).toEqual([
      'postgres',
      'kafka-1',
      'kafka-2',
      'kafka-3',
      'registry',
      'mongodb',
    ]);
    expect(services.find((s) => s.name === 'kafka-2')?.logFile).toMatch(/logs\/kafka-2\.log$/);
    // three JVMs on a small machine: each heap is capped
    expect(kafkaJvmFlags(3)).toContain('-Xmx512m');
  });

  it('derives the replication from the node count', () => {
    expect(replicationSettings(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(replicationSettings(2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(replicationSettings(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationSettings(5)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it('refuses a node count the data folder was not formatted for, and ports past 65535', () => {
    expect(layoutProblem(1, { singleFormatted: true })).toBeUndefined();
    expect(layoutProblem(3, { singleFormatted: false })).toBeUndefined();
    expect(layoutProblem(3, { singleFormatted: false, cluster: { nodes: 3 } })).toBeUndefined();
    expect(layoutProblem(3, { singleFormatted: true })).toMatch(/single-node Kafka/);
    expect(layoutProblem(1, { singleFormatted: false, cluster: { nodes: 3 } })).toMatch(/3-node/);
    expect(layoutProblem(5, { singleFormatted: false, cluster: { nodes: 3 } })).toMatch(/asks for 5/);
    expect(() => infraOptions({ TRIBUTARY_KAFKA_PORT: '65534', TRIBUTARY_KAFKA_NODES: '3' })).toThrow(
      /TRIBUTARY_KAFKA_PORT.*65535/,
    );
    expect(() => infraOptions({ TRIBUTARY_KAFKA_NODES: '7' })).toThrow(/TRIBUTARY_KAFKA_NODES/);
  });
});
