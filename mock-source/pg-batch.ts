import { qualified, RECORDS_TABLE, VERSIONS_TABLE } from './pg-schema.ts';
import { type EntityName, iso } from './wire.ts';
import type { TickBatch } from './world.ts';

const ENTITIES: EntityName[] = ['workspace', 'enrichment-job'];
/** rows of one kind per statement: a tick fits in one; the initial population of a big world does not */
export const CHUNK = 5000;

/** The parameterised statements that write a batch, to be run in order in one transaction. */
export interface BatchStatement {
  text: string;
  values: unknown[];
  /** how many rows each `r*` column must report as inserted (the others were updated) */
  created: Record<string, number>;
  /** true for the first: its `applied` column is 0 when the stored world is not the one the batch follows */
  guarded: boolean;
}

class Params {
  readonly values: unknown[] = [];
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/**
 * A tick is one statement of data-modifying CTEs (a round trip, whatever its size): the simulator
 * row's guard, then the versions and record rows, each written only when the guard applied. Bigger
 * batches continue in further statements of CHUNK rows. The rows of a table travel as one JSON
 * document read by json_to_recordset: one JSON.stringify here and one parse in Postgres, where
 * arrays of JSON strings cost an escape pass per element on both sides (5x slower, measured).
 */
export function batchStatements(schema: string, batch: TickBatch): BatchStatement[] {
  const rows = ENTITIES.flatMap((e) => [
    batch.versions[e].length,
    batch.records.filter((r) => r.entity === e).length,
  ]);
  const statements: BatchStatement[] = [];
  for (let from = 0; from === 0 || from < Math.max(...rows); from += CHUNK) {
    statements.push(statement(schema, batch, from));
  }
  return statements;
}

function statement(schema: string, batch: TickBatch, from: number): BatchStatement {
  const p = new Params();
  const guarded = from === 0;
  const ctes: string[] = [];
  const created: Record<string, number> = {};
  const when = guarded ? ' WHERE EXISTS (SELECT FROM guard)' : '';
  if (guarded) ctes.push(`guard AS (${guard(p, qualified(schema, 'simulator'), batch)})`);
  ENTITIES.forEach((entity, n) => {
    const versions = batch.versions[entity].slice(from, from + CHUNK);
    if (versions.length > 0) {
      const doc = versions.map((v) => ({
        updated_at: iso(v.updatedAt),
        id: v.id,
        malformed: v.malformed,
        body: v.body,
      }));
      ctes.push(`v${n} AS (INSERT INTO ${qualified(schema, VERSIONS_TABLE[entity])} (updated_at, id, malformed, body)
        SELECT * FROM json_to_recordset(${p.add(JSON.stringify(doc), 'json')})
          AS x(updated_at timestamptz, id text, malformed boolean, body json)${when})`);
    }
    const records = batch.records.filter((r) => r.entity === entity).slice(from, from + CHUNK);
    if (records.length > 0) {
      // One upsert for new and changed records: the primary key finds each row, whatever the
      // table's statistics say (a join would seq-scan a table the planner believes small). seq is
      // set once (an existing record passes 0, which the conflict ignores); the state only when the
      // latest version is malformed, since otherwise that version's JSON is the state.
      const jobs = entity === 'enrichment-job';
      const doc = records.map((r) => ({
        id: r.id,
        seq: Math.max(r.seq, 0),
        state: r.malformed ? r.state : null,
        updated_at: iso(r.state.updated_at),
        malformed: r.malformed,
        ...(jobs ? { active_slot: r.activeSlot } : {}),
      }));
      created[`r${n}`] = records.filter((r) => r.seq >= 0).length;
      const slot = jobs ? ', active_slot' : '';
      ctes.push(`r${n} AS (INSERT INTO ${qualified(schema, RECORDS_TABLE[entity])} (id, seq, state, updated_at, malformed${slot})
        SELECT * FROM json_to_recordset(${p.add(JSON.stringify(doc), 'json')})
          AS x(id text, seq bigint, state json, updated_at timestamptz, malformed boolean${jobs ? ', active_slot integer' : ''})${when}
        ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at,
          malformed = EXCLUDED.malformed${jobs ? ', active_slot = EXCLUDED.active_slot' : ''}
        RETURNING xmax = 0 AS created)`);
    }
  });
  const columns = [
    guarded ? '(SELECT count(*) FROM guard)::int AS applied' : '1 AS applied',
    ...Object.keys(created).map((r) => `(SELECT count(*) FROM ${r} WHERE created)::int AS ${r}`),
  ];
  const text = `${ctes.length > 0 ? `WITH ${ctes.join(',\n')} ` : ''}SELECT ${columns.join(', ')}`;
  return { text, values: p.values, created, guarded };
}

/** The simulator row: created for a new world, else updated only if it holds the tick the batch follows. */
function guard(p: Params, simulator: string, batch: TickBatch): string {
  const s = batch.state;
  const set = {
    last_tick_at: p.add(iso(s.lastTickAt), 'timestamptz'),
    ticks: p.add(s.ticks, 'bigint'),
    rng_words: p.add(encodeWords(s.rng.words), 'bytea'),
    rng_index: p.add(s.rng.index, 'integer'),
    workspaces: p.add(s.counts.workspaces, 'integer'),
    jobs: p.add(s.counts.jobs, 'integer'),
    workspace_versions: p.add(s.counts.workspaceVersions, 'bigint'),
    job_versions: p.add(s.counts.jobVersions, 'bigint'),
    malformed_versions: p.add(s.counts.malformedVersions, 'bigint'),
  };
  if (batch.previousTicks === undefined) {
    const all = { ...set, seed: p.add(s.seed, 'bigint') };
    return `INSERT INTO ${simulator} (${Object.keys(all).join(', ')}) VALUES (${Object.values(all).join(', ')})
      ON CONFLICT DO NOTHING RETURNING 1`;
  }
  const assignments = Object.entries(set).map(([k, v]) => `${k} = ${v}`);
  return `UPDATE ${simulator} SET ${assignments.join(', ')}
    WHERE ticks = ${p.add(batch.previousTicks, 'bigint')} RETURNING 1`;
}

const RNG_WORDS = 624;

/** the generator's words as little-endian int32, whatever the machine */
export function encodeWords(words: Int32Array): Buffer {
  const buf = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => {
    buf.writeInt32LE(w, i * 4);
  });
  return buf;
}

export function decodeWords(buf: Buffer): Int32Array {
  if (buf.length !== RNG_WORDS * 4) throw new Error(`the stored generator state has ${buf.length} bytes`);
  const words = new Int32Array(RNG_WORDS);
  for (let i = 0; i < RNG_WORDS; i++) words[i] = buf.readInt32LE(i * 4);
  return words;
}
