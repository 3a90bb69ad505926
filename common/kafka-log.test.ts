import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { kafkaLogCreator } from './kafka-log.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const entry = (level: logLevel, message: string, extra: Record<string, unknown> = {}) => ({
  namespace: 'Consumer',
  level,
  label: 'ERROR',
  log: { timestamp: '2026-01-01T00:00:00.000Z', logger: 'kafkajs', message, ...extra },
});

describe('kafkaLogCreator', () => {
  it('forwards an entry with its namespace, fields and level', async () => {
    const { logger, lines } = capture();
    const log = kafkaLogCreator(logger)(logLevel.WARN);
    log(entry(logLevel.ERROR, 'Crash: KafkaJSNonRetriableError: too large', { groupId: 'g', retryCount: 0 }));
    log(entry(logLevel.WARN, 'The group is rebalancing, re-joining', { error: new Error('REBALANCE') }));
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        kafkajs: 'Consumer',
        groupId: 'g',
        retryCount: 0,
        msg: 'kafkajs: Crash: KafkaJSNonRetriableError: too large',
      }),
      expect.objectContaining({ level: 40, error: 'Error: REBALANCE' }),
    ]);
    expect(lines[0]).not.toHaveProperty('timestamp');
  });

  it('counts a line repeated within the window instead of logging it again', async () => {
    const { logger, lines } = capture();
    let t = 0;
    const log = kafkaLogCreator(logger, { repeatWindowMs: 10_000, now: () => t })(logLevel.WARN);
    for (let i = 0; i < 5; i++) {
      log(entry(logLevel.ERROR, 'Connection error: ECONNREFUSED'));
      t += 1000;
    }
    t = 10_000;
    log(entry(logLevel.ERROR, 'Connection error: ECONNREFUSED'));
    log(entry(logLevel.ERROR, 'another line'));
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.msg, l.repeated])).toEqual([
      ['kafkajs: Connection error: ECONNREFUSED', undefined],
      ['kafkajs: Connection error: ECONNREFUSED', 4],
      ['kafkajs: another line', undefined],
    ]);
  });
});
