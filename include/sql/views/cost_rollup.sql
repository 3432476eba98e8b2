-- Each cost row once for every OU that contains it (its own OU and each ancestor), by OU id: an
-- OU's cost with its child OUs is one filter, ancestor_id = '<OU id>', and stays right across
-- renames and colliding labels. ancestor is that OU's label on the row's day. The organisation's
-- cost is the rows with ancestor_id = ou_id (each row once). Days archived before the OU tree was
-- recorded have no OU tree rows and so no rows here.
CREATE OR REPLACE VIEW {database}.cost_rollup AS
SELECT
  c.billingdate,
  c.year,
  c.month,
  c.day,
  t.ancestor_id,
  t.ancestor,
  t.ou_id,
  c.ou,
  c.service,
  c.linkedaccount,
  c.accountname,
  c.dailycost
FROM {database}.{table} AS c
JOIN {database}.{ou_tree_table} AS t
  ON t.year = c.year AND t.month = c.month AND t.day = c.day AND t.ou = c.ou
