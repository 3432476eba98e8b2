"""finops-digest: daily AWS cost per Organizations OU, archived, validated and mailed.

Plain-Python library behind the ``finops_daily_digest`` DAG. Nothing here reads Airflow's task
context; the DAG passes in the billing day, the configuration and boto3 clients.
"""
