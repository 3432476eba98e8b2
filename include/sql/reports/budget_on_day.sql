-- Month to date, monthly budget, month-end forecast and light per OU on one day, as that day's
-- digest reported them (the budget table; its month to date counts the OU's whole month under
-- that day's label, so an OU renamed during the month keeps its earlier days).
SELECT
  b.ou AS ou,
  b.month_to_date AS month_to_date,
  b.budget AS budget,
  b.forecast AS forecast,
  b.light AS light
FROM {database}.{budget_table} AS b
WHERE {days}
ORDER BY b.ou
