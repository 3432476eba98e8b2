-- The spike findings of the range (the anomaly table: one row per finding per day, with its
-- status new / still_elevated / expected), OUs under their latest label (ou_labels.sql).
WITH labels AS (
{labels}
)
SELECT
  a.billingdate AS billingdate,
  COALESCE(l.label, a.ou) AS ou,
  a.service AS service,
  a.status AS status,
  a.severity AS severity,
  a.actual AS actual,
  a.expected AS expected,
  a.impact AS impact,
  a.reason AS reason,
  a.account_label AS account_label
FROM {database}.{anomaly_table} AS a
LEFT JOIN labels AS l
  ON l.year = a.year AND l.month = a.month AND l.day = a.day AND l.ou = a.ou
WHERE {days}
ORDER BY a.billingdate, a.impact DESC
