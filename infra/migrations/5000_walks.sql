-- Up Migration
-- Reconciliation per walk (docs/operations.md). Written by the gateway only (gateway/walks/): it
-- reads the walk summaries the pollers commit to `_tributary.walks` and the raw dead-letter topics,
-- then checks each walk against bronze. Nothing else writes here.
CREATE SCHEMA IF NOT EXISTS ops;

-- One row per poller walk that published something: what the source served, where it landed on the
-- raw topic (per partition, first and last offset), and once bronze caught up, what landed.
CREATE TABLE IF NOT EXISTS ops.walks (
  walk_id              uuid PRIMARY KEY,
  api                  text NOT NULL,
  raw_topic            text NOT NULL,
  dlq_topic            text NOT NULL,
  outcome              text NOT NULL CHECK (outcome IN ('complete', 'stopped', 'failed')),
  started_at           timestamptz NOT NULL,
  ended_at             timestamptz NOT NULL,
  -- the walk's updated_since (null: from the beginning) and the high-water mark it ended at
  start_cursor         timestamptz,
  end_hwm_at           timestamptz,
  end_hwm_id           text,
  pages                integer NOT NULL,
  served               integer NOT NULL,
  duplicates           integer NOT NULL,
  published            integer NOT NULL,
  poller_dead_letters  integer NOT NULL,
  -- [{"partition": 0, "first": "120", "last": "181"}, …]: offsets on raw_topic
  raw_offsets          jsonb NOT NULL,
  -- where the summary itself is, on the walks topic
  summary_partition    integer NOT NULL,
  summary_offset       bigint NOT NULL,
  -- pending until bronze's group committed past every last offset; then reconciled or unreconciled
  status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'reconciled', 'unreconciled')),
  in_bronze            integer,
  bronze_dead_letters  integer,
  missing              integer,
  -- gold rows whose current version is one this walk served (recounted while the walk is recent)
  gold_rows            integer,
  checked_at           timestamptz,
  settled_at           timestamptz,
  recorded_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS walks_api_ended_idx ON ops.walks (api, ended_at DESC);
CREATE INDEX IF NOT EXISTS walks_pending_idx ON ops.walks (ended_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS walks_unreconciled_idx ON ops.walks (api) WHERE status = 'unreconciled';

-- The dead letters bronze wrote for raw records it could not store (tributary-dlq-source header),
-- so that a walk's range can count them. The poller's own dead letters are in the walk's summary.
CREATE TABLE IF NOT EXISTS ops.dead_letter_sources (
  dlq_topic        text NOT NULL,
  dlq_partition    integer NOT NULL,
  dlq_offset       bigint NOT NULL,
  source_topic     text NOT NULL,
  source_partition integer NOT NULL,
  source_offset    bigint NOT NULL,
  reason           text,
  CONSTRAINT dead_letter_sources_pkey PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
);
CREATE INDEX IF NOT EXISTS dead_letter_sources_source_idx
  ON ops.dead_letter_sources (source_topic, source_partition, source_offset);

-- Down Migration
DROP TABLE IF EXISTS ops.dead_letter_sources;
DROP TABLE IF EXISTS ops.walks;
DROP SCHEMA IF EXISTS ops;
