-- The Athena table the DAG creates through Glue (register_table; finops_digest/schema.py holds
-- the same columns and keys): the day's Parquet under its own prefix, partitioned by typed
-- year/month/day so `year = 2025` compares as a number. Run it only to recreate the table by hand;
-- then add partitions with `MSCK REPAIR TABLE {database}.{table}` or let the DAG register them.
-- accountname comes last, after the CSV's five columns: files archived before it existed lack
-- it and read as NULL. A table created before it existed gets it from the DAG's next run
-- (register_table), or by hand: ALTER TABLE {database}.{table} ADD COLUMNS (accountname string).
CREATE EXTERNAL TABLE IF NOT EXISTS {database}.{table} (
  billingdate date,
  ou string,
  service string,
  linkedaccount string,
  dailycost double,
  accountname string
)
PARTITIONED BY (year int, month int, day int)
STORED AS PARQUET
LOCATION 's3://{bucket}/parquet/ou_breakdown/'
TBLPROPERTIES ('classification' = 'parquet')
