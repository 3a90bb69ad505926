-- Up Migration
-- The two layers of the warehouse: bronze (raw records as received) and gold (joined, clean).
CREATE SCHEMA IF NOT EXISTS bronze;
CREATE SCHEMA IF NOT EXISTS gold;

-- Down Migration
DROP SCHEMA IF EXISTS gold CASCADE;
DROP SCHEMA IF EXISTS bronze CASCADE;
