-- Daily totals per AWS service across the organisation. One row per (day, service).
CREATE OR REPLACE VIEW {database}.daily_cost_by_service AS
SELECT
  billingdate,
  year,
  month,
  day,
  service,
  SUM(dailycost) AS total_cost,
  COUNT(DISTINCT ou) AS ous
FROM {database}.{table}
GROUP BY billingdate, year, month, day, service
