import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_STAGES,
  deadLetter,
  parsePosition,
  positionText,
  readDeadLetter,
} from './dead-letter.ts';
import { DEAD_LETTER_HEADERS, HEADERS, isDeadLetterContext, LEGACY_DEAD_LETTER_HEADERS } from './headers.ts';

const avro = Buffer.from([0, 0, 0, 0, 7, 2, 4]);

describe('deadLetter', () => {
  it('keeps the source record unchanged and adds Connect’s headers: where from, who, which stage, why', () => {
    const letter = deadLetter({
      message: { key: Buffer.from('ws-1'), value: avro, headers: { [HEADERS.requestId]: 'req-1' } },
      from: { topic: 'raw.workspaces', partition: 2, offset: '1234' },
      reason: 'cannot be stored: NUL in text',
      stage: DEAD_LETTER_STAGES.refused,
      writer: 'tributary.bronze.workspaces',
      errorClass: 'InvalidRecordError',
    });
    expect(letter.key).toEqual(Buffer.from('ws-1'));
    expect(letter.value).toBe(avro);
    expect(letter.headers).toEqual({
      'tributary-request-id': 'req-1',
      '__connect.errors.topic': 'raw.workspaces',
      '__connect.errors.partition': '2',
      '__connect.errors.offset': '1234',
      '__connect.errors.connector.name': 'tributary.bronze.workspaces',
      '__connect.errors.stage': 'TASK_PUT',
      '__connect.errors.exception.message': 'cannot be stored: NUL in text',
      '__connect.errors.exception.class.name': 'InvalidRecordError',
    });
  });

  it('writes no position for a letter that was not read from Kafka (the pollers’), and says a cut value’s size', () => {
    const letter = deadLetter({
      message: { key: 'id-1', value: '{"plan":"plat', headers: { [HEADERS.source]: 'workspaces' } },
      reason: 'plan: "platinum" is not a valid enum value',
      stage: DEAD_LETTER_STAGES.polled,
      writer: 'tributary.poller.workspaces',
      truncatedFrom: 2_000_000,
    });
    expect(Object.keys(letter.headers).filter((h) => h.startsWith('__connect.errors.topic'))).toEqual([]);
    expect(letter.headers).toMatchObject({
      [HEADERS.source]: 'workspaces',
      [DEAD_LETTER_HEADERS.stage]: 'TASK_POLL',
      [DEAD_LETTER_HEADERS.truncated]: '2000000',
    });
    expect(letter.headers).not.toHaveProperty(DEAD_LETTER_HEADERS.errorClass);
  });

  it('drops the context of an earlier letter the record still carries (either generation)', () => {
    const letter = deadLetter({
      message: {
        key: null,
        value: avro,
        headers: {
          [LEGACY_DEAD_LETTER_HEADERS.reason]: 'old reason',
          [LEGACY_DEAD_LETTER_HEADERS.source]: 'raw.workspaces/0/1',
          [DEAD_LETTER_HEADERS.errorClass]: 'OldError',
          [DEAD_LETTER_HEADERS.truncated]: '99',
          [HEADERS.redrivenFrom]: 'dlq.raw.workspaces/0/3',
          gone: undefined,
        },
      },
      from: { topic: 'raw.workspaces', partition: 0, offset: '9' },
      reason: 'undecodable',
      stage: DEAD_LETTER_STAGES.undecodable,
      writer: 'g',
    });
    expect(Object.keys(letter.headers).sort()).toEqual(
      [
        HEADERS.redrivenFrom,
        DEAD_LETTER_HEADERS.topic,
        DEAD_LETTER_HEADERS.partition,
        DEAD_LETTER_HEADERS.offset,
        DEAD_LETTER_HEADERS.connectorName,
        DEAD_LETTER_HEADERS.stage,
        DEAD_LETTER_HEADERS.reason,
      ].sort(),
    );
    expect(readDeadLetter(letter.headers).reason).toBe('undecodable');
  });
});

describe('readDeadLetter', () => {
  it('reads the letters written with Connect’s names', () => {
    const letter = deadLetter({
      message: { key: null, value: avro },
      from: { topic: 'raw.enrichment-jobs', partition: 1, offset: '40' },
      reason: 'status moved backward from processing to queued',
      stage: DEAD_LETTER_STAGES.refused,
      writer: 'tributary.processor',
    });
    expect(readDeadLetter(letter.headers)).toEqual({
      reason: 'status moved backward from processing to queued',
      from: { topic: 'raw.enrichment-jobs', partition: 1, offset: '40' },
      writer: 'tributary.processor',
      stage: 'TASK_PUT',
      errorClass: null,
      truncatedFrom: null,
    });
  });

  it('reads the letters written before them (tributary-dlq-*), Buffers included', () => {
    expect(
      readDeadLetter({
        'tributary-dlq-reason': Buffer.from('schema id 9 is unknown to the schema registry'),
        'tributary-dlq-source': 'raw.workspaces.t-1/2/1234',
        'tributary-dlq-group': 'tributary.bronze.workspaces',
      }),
    ).toEqual({
      reason: 'schema id 9 is unknown to the schema registry',
      from: { topic: 'raw.workspaces.t-1', partition: 2, offset: '1234' },
      writer: 'tributary.bronze.workspaces',
      stage: null,
      errorClass: null,
      truncatedFrom: null,
    });
    // an old poller letter: a reason, a cut value, no position
    expect(
      readDeadLetter({ 'tributary-dlq-reason': 'bad', 'tributary-dlq-truncated': '5000' }),
    ).toMatchObject({
      reason: 'bad',
      from: null,
      writer: null,
      truncatedFrom: 5000,
    });
  });

  it('prefers Connect’s names when a letter has both, and says null for what it lacks', () => {
    expect(
      readDeadLetter({
        [DEAD_LETTER_HEADERS.reason]: 'new',
        [LEGACY_DEAD_LETTER_HEADERS.reason]: 'old',
        [DEAD_LETTER_HEADERS.topic]: 't',
        [DEAD_LETTER_HEADERS.partition]: 'x', // not a partition: the old header is asked instead
        [DEAD_LETTER_HEADERS.offset]: '1',
        [LEGACY_DEAD_LETTER_HEADERS.source]: 'old.topic/0/5',
      }),
    ).toMatchObject({ reason: 'new', from: { topic: 'old.topic', partition: 0, offset: '5' } });
    expect(readDeadLetter(undefined)).toEqual({
      reason: null,
      from: null,
      writer: null,
      stage: null,
      errorClass: null,
      truncatedFrom: null,
    });
  });
});

describe('positions and context headers', () => {
  it('shows and parses <topic>/<partition>/<offset>', () => {
    expect(positionText({ topic: 'raw.workspaces', partition: 2, offset: '1234' })).toBe(
      'raw.workspaces/2/1234',
    );
    expect(parsePosition('a/b/0/1')).toEqual({ topic: 'a/b', partition: 0, offset: '1' });
    expect(parsePosition('raw.workspaces/x/1')).toBeNull();
    expect(parsePosition('/0/1')).toBeNull();
    expect(parsePosition(undefined)).toBeNull();
  });

  it('names the context headers of both generations, not the lineage or the truncation size', () => {
    for (const h of [...Object.values(LEGACY_DEAD_LETTER_HEADERS), DEAD_LETTER_HEADERS.reason]) {
      expect(isDeadLetterContext(h)).toBe(true);
    }
    for (const h of [DEAD_LETTER_HEADERS.truncated, HEADERS.source, HEADERS.redrivenFrom]) {
      expect(isDeadLetterContext(h)).toBe(false);
    }
  });
});
