-- Month to date vs budget per OU on every day the DAG ran: the month-to-date cost summed from the
-- archived cost table (restatements included), beside that day's monthly budget, month-end
-- forecast (80% interval) and traffic light. OUs without a budget have NULL budget and light.
CREATE OR REPLACE VIEW {database}.month_to_date_vs_budget AS
SELECT
  b.billingdate,
  b.year,
  b.month,
  b.day,
  b.ou,
  COALESCE(SUM(c.dailycost), 0) AS month_to_date_cost,
  b.budget,
  COALESCE(SUM(c.dailycost), 0) / NULLIF(b.budget, 0) AS budget_used,
  b.forecast,
  b.forecast_lower,
  b.forecast_upper,
  b.forecast_method,
  b.forecast / NULLIF(b.budget, 0) AS forecast_vs_budget,
  b.light
FROM {database}.{budget_table} AS b
LEFT JOIN {database}.{table} AS c
  ON c.ou = b.ou AND c.year = b.year AND c.month = b.month AND c.day <= b.day
GROUP BY
  b.billingdate, b.year, b.month, b.day, b.ou, b.budget, b.forecast, b.forecast_lower,
  b.forecast_upper, b.forecast_method, b.light
