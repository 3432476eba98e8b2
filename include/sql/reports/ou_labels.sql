-- Each archived day's OU labels (the cost table's ou column), mapped by OU id (the OU tree) to
-- the OU's label on the latest archived day of the range: a renamed OU's costs count under its
-- newest name. Rendered into the reports' queries as their "labels" subquery.
SELECT t.year, t.month, t.day, t.ou, t.ou_id, l.label
FROM {database}.{ou_tree_table} AS t
JOIN (
  SELECT ou_id, max_by(ou, billingdate) AS label
  FROM {database}.{ou_tree_table}
  WHERE {tree_days} AND distance = 0
  GROUP BY ou_id
) AS l ON l.ou_id = t.ou_id
WHERE {days} AND t.distance = 0
