-- The history a day is compared with (detection, the digest's trend, month to date and movers):
-- cost per billing day, OU (its label on that day) and service over the days named, summed as
-- decimals (exact to 1e-10, as archived) rather than doubles. One row per OU x service x day,
-- however many accounts: the worker never holds the archived rows.
SELECT
  billingdate,
  ou,
  service,
  CAST(SUM(CAST(dailycost AS DECIMAL(38, 10))) AS VARCHAR) AS cost
FROM {database}.{table}
WHERE {days}
GROUP BY 1, 2, 3
