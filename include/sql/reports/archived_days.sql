-- The days of the range the cost table holds, with their totals: a day missing here is not
-- archived, and the reports name it.
SELECT c.billingdate AS billingdate, SUM(c.dailycost) AS cost
FROM {database}.{table} AS c
WHERE {days}
GROUP BY c.billingdate
ORDER BY c.billingdate
