import type pg from 'pg';
import type { LatestWalk, WalkStatus, WalkView } from './reconcile.ts';

export type { LatestWalk, WalkView };

/**
 * Reading the reconciliation per walk (the `ops.walks` table the gateway fills, gateway/walks/):
 * one shape for `tributary status`, the gateway's API and its live updates, and the one-line form
 * operators read ("12,345 served · 12,342 in bronze · 3 dead letters · 0 missing").
 */
const COLUMNS = `walk_id, api, raw_topic, outcome, started_at, ended_at, pages, served, duplicates, published,
  poller_dead_letters, raw_offsets, status, in_bronze, bronze_dead_letters, missing, gold_rows, checked_at`;

type Row = Record<string, unknown>;
const ms = (d: unknown) => (d instanceof Date ? d.getTime() : null);

export function walkView(r: Row): WalkView {
  const pollerDl = Number(r.poller_dead_letters);
  return {
    walkId: String(r.walk_id),
    api: String(r.api),
    rawTopic: String(r.raw_topic),
    outcome: r.outcome as WalkView['outcome'],
    startedAt: ms(r.started_at) ?? 0,
    endedAt: ms(r.ended_at) ?? 0,
    pages: Number(r.pages),
    served: Number(r.published) + pollerDl,
    duplicates: Number(r.duplicates),
    published: Number(r.published),
    pollerDeadLetters: pollerDl,
    rawOffsets: r.raw_offsets as WalkView['rawOffsets'],
    status: r.status as WalkStatus,
    inBronze: r.in_bronze === null ? null : Number(r.in_bronze),
    deadLetters: r.bronze_dead_letters === null ? null : pollerDl + Number(r.bronze_dead_letters),
    missing: r.missing === null ? null : Number(r.missing),
    goldRows: r.gold_rows === null ? null : Number(r.gold_rows),
    checkedAt: ms(r.checked_at),
  };
}

export interface WalksQuery {
  api?: string;
  status?: WalkStatus;
  /** only walks of these raw topics (a gateway or a test looks at its own) */
  rawTopics?: readonly string[];
  limit?: number;
}

/** Newest first. */
export async function listWalks(db: Pick<pg.Pool, 'query'>, q: WalksQuery = {}): Promise<WalkView[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM ops.walks
      WHERE ($1::text IS NULL OR api = $1) AND ($2::text IS NULL OR status = $2)
        AND ($3::text[] IS NULL OR raw_topic = ANY($3))
      ORDER BY ended_at DESC, walk_id LIMIT $4`,
    [q.api ?? null, q.status ?? null, q.rawTopics ?? null, q.limit ?? 20],
  );
  return rows.map(walkView);
}

/** The latest walk of each API, with the number of its unreconciled walks. */
export async function latestWalks(
  db: Pick<pg.Pool, 'query'>,
  rawTopics?: readonly string[],
): Promise<LatestWalk[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT ON (api) ${COLUMNS},
            (SELECT count(*) FROM ops.walks u WHERE u.api = w.api AND u.status = 'unreconciled'
               AND ($1::text[] IS NULL OR u.raw_topic = ANY($1)))::int AS unreconciled_walks
       FROM ops.walks w
      WHERE ($1::text[] IS NULL OR raw_topic = ANY($1))
      ORDER BY api, ended_at DESC, walk_id`,
    [rawTopics ?? null],
  );
  return rows.map((r) => ({ ...walkView(r), unreconciledWalks: Number(r.unreconciled_walks) }));
}

const int = (n: number | null) => (n === null ? '?' : n.toLocaleString('en-US'));

/** "12,345 served · 12,342 in bronze · 3 dead letters · 0 missing (reconciled)" */
export function walkLine(w: WalkView): string {
  const counted =
    w.inBronze === null
      ? 'not counted yet'
      : `${int(w.inBronze)} in bronze · ${int(w.deadLetters)} dead letters · ${int(w.missing)} missing`;
  return `${int(w.served)} served · ${counted} (${w.status})`;
}
