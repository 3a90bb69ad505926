import { describe, expect, it } from 'vitest';
import { decodeValue, headerStrings, isAvroWireFormat, toJson, valueText } from './decode.ts';

const avro = (id: number) =>
  Buffer.concat([Buffer.from([0]), Buffer.from([0, 0, 0, id]), Buffer.from([2, 4])]);
const registry = {
  decode: async (b: Buffer) => {
    if (b.readUInt32BE(1) === 7) return { id: 'a', n: 1 };
    throw new Error('schema 9 not found');
  },
};

describe('decodeValue', () => {
  it('decodes Confluent Avro through the registry and reports the ones it cannot', async () => {
    expect(isAvroWireFormat(avro(7))).toBe(true);
    expect(await decodeValue(registry, avro(7))).toEqual({
      format: 'avro',
      schemaId: 7,
      value: { id: 'a', n: 1 },
    });
    expect(await decodeValue(registry, avro(9))).toMatchObject({
      format: 'undecodable',
      schemaId: 9,
      error: 'schema 9 not found',
    });
  });

  it('parses JSON, keeps other text as text, and shows binary as base64', async () => {
    expect(
      await decodeValue(registry, Buffer.from('{"id":"x","updated_at":"2026-01-01T00:00:00Z"}')),
    ).toEqual({
      format: 'json',
      value: { id: 'x', updated_at: '2026-01-01T00:00:00Z' },
    });
    expect(await decodeValue(registry, Buffer.from('42'))).toEqual({ format: 'json', value: 42 });
    expect(await decodeValue(registry, Buffer.from('{not json'))).toEqual({
      format: 'text',
      value: '{not json',
    });
    expect(await decodeValue(registry, Buffer.from('hello\tworld'))).toEqual({
      format: 'text',
      value: 'hello\tworld',
    });
    expect(await decodeValue(registry, Buffer.from([0xff, 0x01]))).toEqual({
      format: 'binary',
      base64: '/wE=',
    });
    expect(await decodeValue(registry, null)).toEqual({ format: 'null' });
  });
});

describe('printing', () => {
  it('renders values on one line and Buffers as base64', () => {
    expect(valueText({ format: 'avro', schemaId: 1, value: { b: Buffer.from('hi') } })).toBe('{"b":"aGk="}');
    expect(toJson({ n: 10n })).toBe('{"n":"10"}');
    expect(headerStrings({ a: Buffer.from('x'), b: 'y', c: undefined, d: [Buffer.from('z')] })).toEqual({
      a: 'x',
      b: 'y',
      d: 'z',
    });
  });
});
