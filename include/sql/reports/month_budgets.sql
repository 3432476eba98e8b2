-- The monthly budget per OU on the month's latest day in the budget table (the budget the last
-- daily digest of the month was judged against), OUs under their latest label (ou_labels.sql).
WITH labels AS (
{labels}
)
SELECT
  COALESCE(l.label, b.ou) AS ou,
  b.budget AS budget,
  b.budget_source AS budget_source
FROM {database}.{budget_table} AS b
LEFT JOIN labels AS l
  ON l.year = b.year AND l.month = b.month AND l.day = b.day AND l.ou = b.ou
WHERE {days}
  AND b.budget IS NOT NULL
  AND b.billingdate = (
    SELECT max(m.billingdate) FROM {database}.{budget_table} AS m WHERE {budget_days}
  )
ORDER BY 1
