"""Catalog and check: the Glue tables, the day's partition, and the quality gate in Athena."""

from __future__ import annotations

from decimal import Decimal

from finops_digest.aws import cost_explorer, data_exports
from finops_digest.aws.athena import run_query
from finops_digest.aws.clients import athena_hook, aws_client, glue_crawler_hook
from finops_digest.money import CENT
from finops_digest.schema import ANOMALY_COLUMNS, BUDGET_COLUMNS, OU_TREE_COLUMNS
from finops_digest.store import archive, layout
from finops_digest.store.catalog import (
    CatalogError,
    ensure_table,
    partition_totals_sql,
    projected_table_input,
    read_partition_totals,
    register_partition,
    require_crawler_target,
    table_input,
)
from finops_digest.store.views import ensure_views, placeholders, shipped_views
from finops_digest.tasks.contracts import (
    Archived,
    Catalogued,
    Consolidated,
    Organization,
    RunPlan,
    Validation,
    billing_day,
    settings,
)
from finops_digest.tasks.fail_fast import fail_fast

# Seconds between GetCrawler polls while the crawler runs (a crawl on AWS takes about a minute).
CRAWLER_POLL_SECONDS = 5


class QualityGateError(CatalogError):
    """The day's numbers disagree between Athena, the consolidated CSV and the cost source."""


@fail_fast
def register_table(plan: RunPlan) -> dict[str, str]:
    """Make sure the Glue tables exist with typed partition keys and every column of
    ``schema``: the cost table where the crawler looks, and beside it the budget, OU tree and
    anomaly tables (partitions projected); a table created before a column was added gets it.
    Then the shipped Athena views (``include/sql/views``), created or brought up to date.
    Returns the tables' and views' names with "created", "updated" or "exists"."""
    config = settings(plan)
    glue = aws_client("glue")
    location = layout.s3_uri(config.archive_bucket, layout.PARQUET_PREFIX + "/")
    if config.catalog_strategy == "crawler":
        require_crawler_target(glue, config.glue_crawler, location)
    projected = (
        (config.glue_budget_table, layout.BUDGET_PREFIX, BUDGET_COLUMNS),
        (layout.OU_TREE_TABLE, layout.OU_TREE_PREFIX, OU_TREE_COLUMNS),
        (layout.ANOMALY_TABLE, layout.ANOMALY_PREFIX, ANOMALY_COLUMNS),
    )
    wanted = (
        table_input(config.glue_table, location, config.cost_metric),
        *(
            projected_table_input(
                name,
                layout.s3_uri(config.archive_bucket, prefix + "/"),
                config.cost_metric,
                columns,
            )
            for name, prefix, columns in projected
        ),
    )
    tables = {t["Name"]: ensure_table(glue, config.glue_database, t) for t in wanted}
    athena = athena_hook()
    views = ensure_views(
        glue,
        config.glue_database,
        shipped_views(
            placeholders(
                config.glue_database,
                config.glue_table,
                config.glue_budget_table,
                config.cost_metric,
                config.currency,
            )
        ),
        lambda sql: run_query(
            athena,
            sql,
            database=config.glue_database,
            output_location=config.results_location,
            workgroup=config.athena_workgroup,
        ),
    )
    return {**tables, **views}


@fail_fast
def crawl_catalog(plan: RunPlan, tables: dict[str, str], archived: Archived) -> Catalogued:
    """Make the archived day's partition queryable, per ``catalog_strategy``.

    "crawler": start the Glue crawler over the Parquet prefix and wait until it is READY (the
    provider's hook: its waiter fails on a FAILED or CANCELLED crawl). "partition_api": register
    the day's partition with BatchCreatePartition (idempotent; no crawler run).
    """
    day, config = billing_day(plan), settings(plan)
    if config.glue_table not in tables:
        raise CatalogError(
            f"register_table did not check {config.glue_table}; got {sorted(tables)}"
        )
    # The partition registered is where the archive wrote the day's Parquet, or Athena misses it.
    _, archived_key = layout.parse_s3_uri(archived["parquet"]["uri"])
    if archived_key != layout.parquet_key(day):
        raise CatalogError(
            f"the day's Parquet was archived at {archived_key}; expected {layout.parquet_key(day)}"
        )
    if config.catalog_strategy == "partition_api":
        status = register_partition(
            aws_client("glue"), config.glue_database, config.glue_table, day
        )
    else:
        hook = glue_crawler_hook()
        hook.start_crawler(config.glue_crawler)
        status = hook.wait_for_crawler_completion(
            crawler_name=config.glue_crawler, poll_interval=CRAWLER_POLL_SECONDS
        )
    return {
        "strategy": config.catalog_strategy,
        "table": f"{config.glue_database}.{config.glue_table}",
        "status": status,
        "parquet_uri": archived["parquet"]["uri"],
    }


@fail_fast
def validate_in_athena(
    plan: RunPlan, consolidated: Consolidated, catalogued: Catalogued, organization: Organization
) -> Validation:
    """What Athena (the catalogued partition), the consolidated CSV and the cost source's own
    day total (Cost Explorer's, or with ``cost_source: data_exports`` the export's, summed by
    Athena) say of the day; the problems, if they disagree by more than a cent."""
    day, config = billing_day(plan), settings(plan)
    athena = athena_hook()
    # The table crawl_catalog made the day's partition queryable in.
    database, table = catalogued["table"].split(".", 1)
    sql = partition_totals_sql(database, table, day)
    query_id = run_query(
        athena,
        sql,
        database=database,
        output_location=config.results_location,
        workgroup=config.athena_workgroup,
    )
    rows, cost = read_partition_totals(athena.get_query_results(query_id))
    scanned = data_exports.scanned_bytes(athena, query_id)
    if config.cost_source == data_exports.SOURCE_NAME:
        # Every account with costs is in the day's mapping (discover_ous found them in the
        # export): the export's total of the day, all accounts, is the mapping's.
        export = data_exports.Export.from_config(config.data_exports)
        source = f"the data export {export.name}"
        total_query = data_exports.run(
            athena,
            data_exports.day_total_sql(
                export, config.cost_metric, config.excluded_record_types, day
            ),
            database=export.database,
            output_location=config.results_location,
            workgroup=config.athena_workgroup,
        )
        scanned += total_query.scanned_bytes
        answer = athena.get_query_results(total_query.query_id)["ResultSet"]["Rows"]
        source_total = data_exports.plain_amount(answer[1]["Data"][0].get("VarCharValue"))
    else:
        source = "Cost Explorer"
        mapping = archive.read_json(aws_client("s3"), organization["mapping_uri"])
        accounts = [a for ou in mapping["ous"] for a in ou["accounts"]]
        source_total = (
            cost_explorer.day_total(
                aws_client("ce"),
                account_ids=accounts,
                day=day,
                metric=config.cost_metric,
                excluded_record_types=config.excluded_record_types,
            )
            if accounts
            else Decimal(0)
        )
    consolidated_total = Decimal(consolidated["total"])
    problems = []
    if rows != consolidated["rows"]:
        problems.append(f"row count: Athena {rows}, consolidated {consolidated['rows']}")
    if abs(Decimal(str(cost)) - consolidated_total) > CENT:
        problems.append(f"cost sum: Athena {cost:.2f}, consolidated {consolidated_total:.2f}")
    if abs(source_total - consolidated_total) > CENT:
        problems.append(
            f"day total: {source} {source_total:.2f}, consolidated {consolidated_total:.2f}"
        )
    return {
        "query_execution_id": query_id,
        "rows": rows,
        "total": f"{cost:.2f}",
        "cost_explorer_total": f"{source_total:.2f}" if source == "Cost Explorer" else None,
        "source": source,
        "source_total": f"{source_total:.2f}",
        "athena_scanned_bytes": scanned,
        "problems": problems,
    }


@fail_fast
def check_quality_gate(validation: Validation) -> Validation:
    """The quality gate: nothing is judged or sent from numbers that disagree (fails at once)."""
    require_passed(validation)
    return validation


def require_passed(validation: Validation) -> None:
    """Raise :class:`QualityGateError` unless Athena, the CSV and the cost source agreed."""
    if validation["problems"]:
        raise QualityGateError(
            f"the day's numbers disagree (Athena query {validation['query_execution_id']}): "
            + "; ".join(validation["problems"])
        )
