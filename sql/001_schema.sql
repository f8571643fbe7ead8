-- 001_schema.sql: placeholder, written in issue 3.
CREATE SCHEMA IF NOT EXISTS dmarc;
