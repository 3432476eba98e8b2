-- Each day's spike findings once for every OU that contains the spiking OU, by OU id (as
-- cost_rollup): the spikes within an OU and its children are the rows with ancestor_id = '<OU id>'.
CREATE OR REPLACE VIEW {database}.anomaly_rollup AS
SELECT
  a.billingdate,
  a.year,
  a.month,
  a.day,
  t.ancestor_id,
  t.ou_id,
  a.ou,
  a.service,
  a.status,
  a.kind,
  a.severity,
  a.actual,
  a.expected,
  a.impact,
  a.reason,
  a.account,
  a.account_label,
  a.usage_type
FROM {database}.{anomaly_table} AS a
JOIN {database}.{ou_tree_table} AS t
  ON t.year = a.year AND t.month = a.month AND t.day = a.day AND t.ou = a.ou
