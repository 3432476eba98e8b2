-- Daily totals per OU (QuickSight: a line per OU). One row per (day, OU).
CREATE OR REPLACE VIEW {database}.daily_cost_by_ou AS
SELECT
  billingdate,
  year,
  month,
  day,
  ou,
  SUM(dailycost) AS total_cost,
  COUNT(*) AS line_items
FROM {database}.{table}
GROUP BY billingdate, year, month, day, ou
