-- The budget table the DAG creates through Glue (register_table; finops_digest/catalog.py holds
-- the same columns): one row per OU per billing day, as forecast_month_end saw it -- month to date,
-- month-end forecast with its 80% interval and method, the monthly budget and the traffic light.
-- Partition projection: Athena derives the partitions from the year=/month=/day= folders, so the
-- table needs no crawler and no partition registration. Run it only to recreate the table by hand.
CREATE EXTERNAL TABLE IF NOT EXISTS {database}.{budget_table} (
  billingdate date,
  ou string,
  month_to_date double,
  forecast double,
  forecast_lower double,
  forecast_upper double,
  forecast_method string,
  budget double,
  budget_source string,
  light string
)
PARTITIONED BY (year int, month int, day int)
STORED AS PARQUET
LOCATION 's3://{bucket}/parquet/ou_budget/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'projection.enabled' = 'true',
  'projection.year.type' = 'integer',
  'projection.year.range' = '2020,2099',
  'projection.month.type' = 'integer',
  'projection.month.range' = '1,12',
  'projection.month.digits' = '2',
  'projection.day.type' = 'integer',
  'projection.day.range' = '1,31',
  'projection.day.digits' = '2'
)
