-- The month's chargeback: cost per OU, service and linked account, OUs under their latest label
-- (ou_labels.sql), each account with the name the archive gave it.
WITH labels AS (
{labels}
)
SELECT
  COALESCE(l.label, c.ou) AS ou,
  c.service AS service,
  c.linkedaccount AS linkedaccount,
  max(c.accountname) AS accountname,
  SUM(c.dailycost) AS cost
FROM {database}.{table} AS c
LEFT JOIN labels AS l
  ON l.year = c.year AND l.month = c.month AND l.day = c.day AND l.ou = c.ou
WHERE {days}
GROUP BY 1, 2, 3
ORDER BY 1, 5 DESC, 2, 3
