-- Up Migration
-- Bronze: every version of every record exactly as the pollers published it, one row per Kafka
-- message. Written by the consumer groups tributary.bronze.workspaces and
-- tributary.bronze.enrichment-jobs. Append-only: the primary key is the message's position on its
-- topic, so a redelivered or replayed message is skipped (ON CONFLICT DO NOTHING), never updated.
-- Lineage columns: topic/partition/offset (where the message is), kafka_timestamp (its record
-- timestamp), schema_id (the registry id it was written with), source/source_request_id/fetched_at
-- (the poller's headers: which API, which request, when it was fetched), ingested_at (when bronze
-- committed it).
CREATE TABLE IF NOT EXISTS bronze.workspaces (
  id                uuid NOT NULL,
  name              text NOT NULL,
  plan              text NOT NULL,
  segment           text NOT NULL,
  country           text NOT NULL,
  owner_email       text NOT NULL,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  topic             text NOT NULL,
  partition         integer NOT NULL,
  "offset"          bigint NOT NULL,
  kafka_timestamp   timestamptz,
  schema_id         integer NOT NULL,
  source            text,
  source_request_id text,
  fetched_at        timestamptz,
  ingested_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT workspaces_pkey PRIMARY KEY (topic, partition, "offset")
);
-- Versions of one workspace, newest first (history views, joins back from gold).
CREATE INDEX IF NOT EXISTS workspaces_id_version_idx ON bronze.workspaces (id, updated_at DESC);

CREATE TABLE IF NOT EXISTS bronze.enrichment_jobs (
  id                uuid NOT NULL,
  workspace_id      uuid NOT NULL,
  kind              text NOT NULL,
  status            text NOT NULL,
  requested_count   integer NOT NULL,
  enriched_count    integer NOT NULL,
  failed_count      integer NOT NULL,
  error_code        text,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  finished_at       timestamptz,
  topic             text NOT NULL,
  partition         integer NOT NULL,
  "offset"          bigint NOT NULL,
  kafka_timestamp   timestamptz,
  schema_id         integer NOT NULL,
  source            text,
  source_request_id text,
  fetched_at        timestamptz,
  ingested_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT enrichment_jobs_pkey PRIMARY KEY (topic, partition, "offset")
);
CREATE INDEX IF NOT EXISTS enrichment_jobs_id_version_idx ON bronze.enrichment_jobs (id, updated_at DESC);
CREATE INDEX IF NOT EXISTS enrichment_jobs_workspace_idx ON bronze.enrichment_jobs (workspace_id);

-- Down Migration
DROP TABLE IF EXISTS bronze.enrichment_jobs;
DROP TABLE IF EXISTS bronze.workspaces;
