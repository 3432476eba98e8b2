-- The cost table under FOCUS 1.2 column names (docs/focus.md), one row per (day, OU, service,
-- account). The charge period is the UTC billing day, start inclusive and end exclusive as FOCUS
-- defines it; the billing period is its calendar month. The cost is EffectiveCost for an
-- amortized cost_metric, BilledCost for an unblended or blended one (store/focus.py), filled in
-- by render-sql --cost-metric. Columns FOCUS does not define carry its x_ prefix.
CREATE OR REPLACE VIEW {database}.focus_daily_costs AS
SELECT
  CAST(billingdate AS timestamp) AS ChargePeriodStart,
  CAST(date_add('day', 1, billingdate) AS timestamp) AS ChargePeriodEnd,
  CAST(date_trunc('month', billingdate) AS timestamp) AS BillingPeriodStart,
  CAST(date_add('month', 1, date_trunc('month', billingdate)) AS timestamp) AS BillingPeriodEnd,
  dailycost AS {focus_cost_column},
  '{currency}' AS BillingCurrency,
  service AS ServiceName,
  linkedaccount AS SubAccountId,
  accountname AS SubAccountName,
  ou AS x_ou
FROM {database}.{table}
