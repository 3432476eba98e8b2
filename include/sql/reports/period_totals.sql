-- Cost per OU and service in two back-to-back periods of one query: "current" from {start} on,
-- "previous" before it. OUs under their label on the range's latest archived day (ou_labels.sql);
-- a day without an OU tree keeps its own labels.
WITH labels AS (
{labels}
)
SELECT
  CASE WHEN c.billingdate >= DATE '{start}' THEN 'current' ELSE 'previous' END AS period,
  COALESCE(l.label, c.ou) AS ou,
  c.service AS service,
  SUM(c.dailycost) AS cost
FROM {database}.{table} AS c
LEFT JOIN labels AS l
  ON l.year = c.year AND l.month = c.month AND l.day = c.day AND l.ou = c.ou
WHERE {days}
GROUP BY 1, 2, 3
