-- Validation of one archived day: Athena must see exactly the consolidated rows and cost.
SELECT COUNT(*) AS row_count, SUM(dailycost) AS total_cost
FROM {database}.{table}
WHERE year = {year} AND month = {month} AND day = {day}
