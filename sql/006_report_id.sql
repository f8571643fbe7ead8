-- 006_report_id.sql: `dmarcq report ID` looks reports up by the
-- reporter's id alone (several reporters and domains may share one), which
-- scanned every report. One index entry per report costs the store
-- nothing it would notice.
CREATE INDEX IF NOT EXISTS report_report_id ON dmarc.report (report_id);
