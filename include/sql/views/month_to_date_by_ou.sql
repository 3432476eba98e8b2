-- Month-to-date cost per OU on every archived day: the running sum of the OU's daily totals
-- within the calendar month (days not archived yet simply do not count).
CREATE OR REPLACE VIEW {database}.month_to_date_by_ou AS
SELECT
  billingdate,
  year,
  month,
  day,
  ou,
  SUM(dailycost) AS day_cost,
  SUM(SUM(dailycost)) OVER (
    PARTITION BY year, month, ou
    ORDER BY day
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS month_to_date_cost
FROM {database}.{table}
GROUP BY billingdate, year, month, day, ou
