"""The Airflow pool the tasks that call Cost Explorer share (imported by the DAG files at parse
time: keep it free of imports).

Cost Explorer's rate limit is low and every request is billed: four backfill runs x eight mapped
extracts would otherwise hit it 32 at a time. The pool must exist (Airflow does not schedule a
task whose pool is missing): ``airflow pools set finops_cost_explorer 4 "Cost Explorer calls"``;
the local stack and docker-compose create it, on MWAA run that once through the CLI token.
"""

COST_EXPLORER_POOL = "finops_cost_explorer"
COST_EXPLORER_POOL_SLOTS = 4
COST_EXPLORER_POOL_DESCRIPTION = "Tasks that call AWS Cost Explorer (low rate limit, billed)"
