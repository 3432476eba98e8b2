-- One spike's series per linked account over the days named: what its root cause (the accounts
-- that explain it) is judged on. Rendered once per spike ({scope} numbers it, {condition} picks
-- its OU labels and service) and joined with UNION ALL into one query.
SELECT
  {scope} AS scope,
  billingdate,
  ou,
  linkedaccount,
  CAST(SUM(CAST(dailycost AS DECIMAL(38, 10))) AS VARCHAR) AS cost
FROM {database}.{table}
WHERE {days} AND {condition}
GROUP BY 1, 2, 3, 4
