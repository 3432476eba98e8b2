"""One function per DAG task: the I/O around the pure functions, with no Airflow context.

Each step takes the billing day, the validated configuration and ``client`` (a factory of boto3
clients by service name) and returns a small JSON-ready summary: URIs, version ids, counts,
totals. Everything bigger travels through S3.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finops_digest import (
    anomaly_status,
    archive,
    aws_clients,
    cost_explorer,
    day_lock,
    emails,
    former_accounts,
    layout,
    prefetch,
    restatements,
)
from finops_digest.aws.cost_anomaly_detection import mark_seen_by_aws
from finops_digest.aws.organizations import walk_organization
from finops_digest.aws.usage_types import usage_type_drivers
from finops_digest.budgets.against_budget import (
    against_budgets,
    breaches,
    budget_table_parquet,
    read_aws_budgets,
    resolve_budgets,
)
from finops_digest.budgets.against_budget import alert_memory as budget_alerts_state
from finops_digest.budgets.forecast import month_end_forecasts
from finops_digest.budgets.forecast import rows_from_json as forecast_rows_from_json
from finops_digest.budgets.forecast import rows_to_json as forecast_rows_to_json
from finops_digest.budgets.lights import LIGHT_COLOURS, LIGHT_WORDS
from finops_digest.config import FinopsConfig
from finops_digest.detection.detector import HISTORY_DAYS
from finops_digest.detection.findings import find_anomalies
from finops_digest.errors import FinopsError
from finops_digest.ingest.consolidation import consolidate_parts
from finops_digest.ingest.cost_history import load_history
from finops_digest.ingest.cost_rows import from_csv, to_csv
from finops_digest.report.figures import budget_summary, digest_figures, ou_table
from finops_digest.store import delivery_record as delivery_record
from finops_digest.store.catalog import (
    CatalogError,
    budget_table_input,
    ensure_table,
    partition_totals_sql,
    read_partition_totals,
    register_partition,
    require_crawler_target,
    table_input,
)

log = logging.getLogger(__name__)
ClientFactory = Callable[[str], Any]

# The digest compares against the previous day and the month to date, so history covers a month.
DIGEST_HISTORY_DAYS = 31
# The days before D that detect_anomalies reads (the detector's and the digest's history).
HISTORY_WINDOW_DAYS = max(HISTORY_DAYS, DIGEST_HISTORY_DAYS)
# Totals from different systems must agree to the cent.
CENT = Decimal("0.01")


def lock_billing_day(day: date, config: FinopsConfig, client: ClientFactory, holder: str) -> None:
    """Take the day's lock for this run (``day_lock``)."""
    day_lock.acquire(client("s3"), config.archive_bucket, day, holder)


def release_billing_day(
    day: date, config: FinopsConfig, client: ClientFactory, holder: str
) -> bool:
    """Hand the day's lock back if this run holds it."""
    return day_lock.release(client("s3"), config.archive_bucket, day, holder)


def discover_ous(
    day: date,
    config: FinopsConfig,
    client: ClientFactory,
    last: str | None = None,
    use_prefetched: bool = False,
) -> list[str]:
    """Walk the organisation, stage the day's account-to-OU mapping, list the OUs to extract.

    Accounts no longer in the organisation that had costs in the days extracted (``day`` and
    the restated days before it, or up to ``last`` for a prefetch) are kept in the mapping; with
    ``use_prefetched``, those the prefetch found (no Cost Explorer request) if the day has one."""
    organization = walk_organization(client("organizations"), config.root_ou_name)
    s3 = client("s3")
    manifest = prefetch.read_manifest(s3, config.archive_bucket, day) if use_prefetched else None
    if manifest:
        fetched_with = _read_json(s3, layout.s3_uri(config.archive_bucket, manifest["mapping_key"]))
        seen = set(fetched_with["accounts"])
    else:
        seen = former_accounts.accounts_with_costs(
            client("ce"),
            start=day - timedelta(days=config.restatement_days),
            end=(date.fromisoformat(last) if last else day) + timedelta(days=1),
            metric=config.cost_metric,
            excluded_record_types=config.excluded_record_types,
        )
    former = seen - set(organization["accounts"])
    if former:
        former_accounts.attribute_former_accounts(
            s3, config.archive_bucket, day, organization, former
        )
    mapping = {"billing_date": day.isoformat(), **organization}
    body = json.dumps(mapping, indent=1).encode()
    _put_staging(s3, config.archive_bucket, layout.staging_key(day, layout.MAPPING_NAME), body)
    empty = [ou["name"] for ou in organization["ous"] if not ou["accounts"]]
    if empty:
        log.info("OUs without accounts (nothing to extract): %s", ", ".join(empty))
    log.info("%d accounts in %d OUs", len(organization["accounts"]), len(organization["ous"]))
    return [ou["name"] for ou in organization["ous"] if ou["accounts"]]


def extract_costs(
    day: date, config: FinopsConfig, client: ClientFactory, ou: str, use_prefetched: bool = False
) -> dict[str, Any]:
    """One OU's costs for [D, D+1) from Cost Explorer, staged in S3 as a CSV part.

    With ``use_prefetched`` (a backfill after ``finops_prefetch_costs``), the day's prefetched
    part is used instead, without a request (and without re-pulling restated days: the prefetch
    is newer than any earlier run); an OU or day not prefetched is fetched as usual.
    """
    s3 = client("s3")
    if use_prefetched:
        part = _prefetched_part(s3, day, config, ou)
        if part:
            return {"ou": ou, "uri": part, "restatement_uri": None, "requests": 0}
    # One request covers the day and the days Cost Explorer may have restated since.
    rows, requests = _fetch_ou(
        s3, client, config, ou, day, day - timedelta(days=config.restatement_days), day
    )
    key = layout.staging_key(day, f"parts/{_slug(ou)}.csv")
    _put_staging(s3, config.archive_bucket, key, to_csv([r for r in rows if r.billing_date == day]))
    earlier_key = layout.staging_key(day, f"restatements/{_slug(ou)}.csv")
    earlier = [r for r in rows if r.billing_date != day]
    _put_staging(s3, config.archive_bucket, earlier_key, to_csv(earlier))
    return {
        "ou": ou,
        "uri": layout.s3_uri(config.archive_bucket, key),
        "restatement_uri": layout.s3_uri(config.archive_bucket, earlier_key),
        "rows": sum(1 for r in rows if r.billing_date == day),
        "requests": requests,
    }


def _prefetched_part(s3: Any, day: date, config: FinopsConfig, ou: str) -> str | None:
    """The URI of the OU's prefetched part of the day, if it holds exactly the accounts the
    day's mapping gives the OU (an account moved or found since is fetched afresh: never lost,
    never counted twice); None otherwise."""
    manifest = prefetch.read_manifest(s3, config.archive_bucket, day)
    if manifest is None or ou not in manifest["parts"]:
        log.warning("%s of OU %r was not prefetched: asking Cost Explorer", day, ou)
        return None
    fetched_with = _read_json(s3, layout.s3_uri(config.archive_bucket, manifest["mapping_key"]))
    today = _read_json(s3, _mapping_uri(day, config))
    if _accounts_of(fetched_with, ou) != _accounts_of(today, ou):
        log.warning("OU %r's accounts changed since the prefetch: asking Cost Explorer", ou)
        return None
    return layout.s3_uri(config.archive_bucket, manifest["parts"][ou])


def _accounts_of(mapping: dict[str, Any], ou: str) -> set[str] | None:
    return next((set(o["accounts"]) for o in mapping["ous"] if o["name"] == ou), None)


def _fetch_ou(
    s3: Any,
    client: ClientFactory,
    config: FinopsConfig,
    ou: str,
    mapping_day: date,
    first: date,
    last: date,
) -> tuple[list, int]:
    """One OU's cost rows for the days ``first``..``last``, its accounts as staged for
    ``mapping_day``; returns the rows and the number of Cost Explorer requests."""
    mapping_uri = _mapping_uri(mapping_day, config)
    mapping = _read_json(s3, mapping_uri)
    accounts = next((o["accounts"] for o in mapping["ous"] if o["name"] == ou), None)
    if accounts is None:
        raise KeyError(f"OU {ou!r} is not in the account-to-OU mapping {mapping_uri}")
    return cost_explorer.fetch_cost_rows(
        client("ce"),
        ou=ou,
        account_ids=accounts,
        start=first,
        end=last + timedelta(days=1),
        metric=config.cost_metric,
        excluded_record_types=config.excluded_record_types,
        currency=config.currency,
    )


def restate_recent_days(
    day: date, config: FinopsConfig, client: ClientFactory, parts: list[dict[str, Any]]
) -> dict[str, Any]:
    """Re-archive the days before ``day`` whose Cost Explorer numbers changed since (only those).

    Only with every OU's re-pulled days at hand: prefetched parts come without them (and are newer
    than any earlier run), and part of the OUs would make the other OUs' costs look restated away.
    """
    if any(not part.get("restatement_uri") for part in parts):
        log.info("Restatements not checked: this run's costs were prefetched")
        return {"restated": []}
    s3 = client("s3")
    rows = [
        row
        for part in parts
        if part.get("restatement_uri")
        for row in from_csv(_read(s3, part["restatement_uri"]), part["restatement_uri"])
    ]
    restated = restatements.restate_days(
        s3, config.archive_bucket, day, config.restatement_days, rows, _provenance(day, config)
    )
    return {"restated": restated}


class PrefetchRangeError(FinopsError, ValueError):
    """The prefetch's Params name no usable range of billing days."""


def plan_prefetch(params: dict[str, Any], config: FinopsConfig) -> dict[str, Any]:
    """The days ``finops_prefetch_costs`` fetches: ``from_date``..``to_date``, and with
    ``with_history`` the history window before it. ``billing_date`` is the first day fetched
    (the day its mapping is staged for, as every step's day)."""
    days = {}
    for name in ("from_date", "to_date"):
        try:
            days[name] = date.fromisoformat(str(params.get(name)))
        except ValueError:
            raise PrefetchRangeError(
                f"Param {name} is {params.get(name)!r}: expected a date, YYYY-MM-DD"
            ) from None
    if days["to_date"] < days["from_date"]:
        raise PrefetchRangeError(
            f"to_date {days['to_date']} is before from_date {days['from_date']}: "
            "expected from_date <= to_date"
        )
    history = HISTORY_WINDOW_DAYS if params.get("with_history", True) else 0
    return {
        "billing_date": (days["from_date"] - timedelta(days=history)).isoformat(),
        "from_date": days["from_date"].isoformat(),
        "last_day": days["to_date"].isoformat(),
    }


def prefetch_costs(
    day: date, config: FinopsConfig, client: ClientFactory, ou: str, last: str
) -> dict[str, Any]:
    """Backfill option: one OU's costs for every day ``day``..``last`` in ONE paged request.

    Stages each day's part under ``prefetched/`` (the bytes ``extract_costs`` would stage), with
    the OU's accounts as staged for ``day``. Cheaper than a request per day when an OU's daily
    groups fill less than a page (Cost Explorer pages run across days), and a run per day also
    re-pulls the restated days: a 30-day backfill of the large organisation costs 75 % less.
    """
    end = date.fromisoformat(last)
    if end < day:
        raise ValueError(f"prefetch_costs needs a first day <= the last; got {day} .. {end}")
    s3 = client("s3")
    rows, requests = _fetch_ou(s3, client, config, ou, day, day, end)
    by_day: dict[date, list] = {day + timedelta(days=n): [] for n in range((end - day).days + 1)}
    for row in rows:
        if row.billing_date not in by_day:
            raise ValueError(
                f"Cost Explorer answered {row.billing_date} for OU {ou!r}; asked for {day} .. {end}"
            )
        by_day[row.billing_date].append(row)
    for each_day, day_rows in by_day.items():
        _put_staging(
            s3, config.archive_bucket, prefetch.part_key(each_day, _slug(ou)), to_csv(day_rows)
        )
    return {"ou": ou, "rows": len(rows), "requests": requests}


def record_prefetch(
    day: date,
    config: FinopsConfig,
    client: ClientFactory,
    fetched: list[dict],
    last: str,
    backfill_from: str,
) -> dict[str, Any]:
    """Declare each day ``day``..``last`` prefetched (its manifest), once every OU is staged;
    the summary names the backfill command that uses them."""
    s3 = client("s3")
    end = date.fromisoformat(last)
    mapping_key = prefetch.mapping_key(day)
    _put_staging(s3, config.archive_bucket, mapping_key, _read(s3, _mapping_uri(day, config)))
    days = [day + timedelta(days=n) for n in range((end - day).days + 1)]
    for each_day in days:
        parts = {f["ou"]: prefetch.part_key(each_day, _slug(f["ou"])) for f in fetched}
        prefetch.write_manifest(s3, config.archive_bucket, each_day, parts, mapping_key)
    requests = sum(f["requests"] for f in fetched)
    summary = {
        "first_day": day.isoformat(),
        "last_day": end.isoformat(),
        "days": len(days),
        "ous": len(fetched),
        "rows": sum(f["rows"] for f in fetched),
        "cost_explorer_requests": requests,
        "cost_usd": f"{requests * cost_explorer.REQUEST_PRICE_USD:.2f}",
        # --to-date is the day after the last billing day: a run's logical date is 06:00 of it.
        "backfill_command": (
            f"airflow backfill create --dag-id finops_daily_digest --from-date {backfill_from} "
            f"--to-date {end + timedelta(days=1)} "
            """--dag-run-conf '{"use_prefetched_costs": true}'"""
        ),
    }
    log.info("Prefetched %s", summary)
    return summary


def consolidate(
    day: date, config: FinopsConfig, client: ClientFactory, parts: list[dict[str, Any]]
) -> dict[str, Any]:
    """Merge the per-OU parts into the sorted CSV and its Parquet twin (staged for archiving).

    Columnar (``consolidation``), byte for byte what the ``cost_rows`` functions write; the
    parts are fetched one after another and only this day's rows are ever in memory.
    """
    s3 = client("s3")
    result = consolidate_parts(
        [part["uri"] for part in parts],
        lambda uri: _read(s3, uri),
        _provenance(day, config),
        day=day,
    )
    bucket = config.archive_bucket
    csv_key = layout.staging_key(day, layout.CSV_NAME)
    parquet_key = layout.staging_key(day, layout.PARQUET_NAME)
    _put_staging(s3, bucket, csv_key, result.csv)
    _put_staging(s3, bucket, parquet_key, result.parquet)
    return {
        "csv_uri": layout.s3_uri(bucket, csv_key),
        "parquet_uri": layout.s3_uri(bucket, parquet_key),
        "rows": result.rows,
        "total": result.total,
        "cost_explorer_requests": sum(p.get("requests", 0) for p in parts),
    }


def archive_to_s3(
    day: date,
    config: FinopsConfig,
    client: ClientFactory,
    consolidated: dict[str, Any],
) -> dict[str, Any]:
    """Archive CSV, Parquet and mapping as new versions in the versioned bucket; never delete."""
    s3 = client("s3")
    bucket = config.archive_bucket
    archive.require_versioning(s3, bucket)
    metadata = {
        **_provenance(day, config),
        "rows": str(consolidated["rows"]),
        "total": consolidated["total"],
    }
    uploads = {
        "csv": (consolidated["csv_uri"], layout.archive_key(day), "text/csv; charset=utf-8"),
        "parquet": (
            consolidated["parquet_uri"],
            layout.parquet_key(day),
            "application/vnd.apache.parquet",
        ),
        "mapping": (
            _mapping_uri(day, config),
            layout.archive_key(day, layout.MAPPING_NAME),
            "application/json",
        ),
    }
    return {
        name: archive.put_archived(
            s3, bucket, key, _read(s3, source), content_type=content_type, metadata=metadata
        )
        for name, (source, key, content_type) in uploads.items()
    }


def register_table(day: date, config: FinopsConfig, client: ClientFactory) -> dict[str, str]:
    """Make sure the Glue tables exist with typed partition keys: the cost table where the
    crawler looks, and the budget table (partitions projected) beside it."""
    glue = client("glue")
    location = layout.s3_uri(config.archive_bucket, layout.PARQUET_PREFIX + "/")
    if config.catalog_strategy == "crawler":
        require_crawler_target(glue, config.glue_crawler, location)
    budget_location = layout.s3_uri(config.archive_bucket, layout.BUDGET_PREFIX + "/")
    wanted = (
        table_input(config.glue_table, location, config.cost_metric),
        budget_table_input(config.glue_budget_table, budget_location, config.cost_metric),
    )
    return {t["Name"]: ensure_table(glue, config.glue_database, t) for t in wanted}


# Seconds between GetCrawler polls while the crawler runs (a crawl on AWS takes about a minute).
CRAWLER_POLL_SECONDS = 5


def crawl_catalog(day: date, config: FinopsConfig, client: ClientFactory) -> dict[str, Any]:
    """Make the day's partition queryable, per ``catalog_strategy``.

    "crawler": start the Glue crawler over the Parquet prefix and wait until it is READY (the
    provider's hook: its waiter fails on a FAILED or CANCELLED crawl). "partition_api": register
    the day's partition with BatchCreatePartition (idempotent; no crawler run).
    """
    if config.catalog_strategy == "partition_api":
        result = register_partition(client("glue"), config.glue_database, config.glue_table, day)
        return {"strategy": "partition_api", "partition": result}
    hook = aws_clients.glue_crawler_hook()
    hook.start_crawler(config.glue_crawler)
    status = hook.wait_for_crawler_completion(
        crawler_name=config.glue_crawler, poll_interval=CRAWLER_POLL_SECONDS
    )
    return {"strategy": "crawler", "crawler": config.glue_crawler, "status": status}


def validate_in_athena(
    day: date, config: FinopsConfig, client: ClientFactory, consolidated: dict[str, Any]
) -> dict[str, Any]:
    """Athena must see exactly the consolidated row count and cost sum (to the cent) for the day."""
    athena = aws_clients.athena_hook()
    sql = partition_totals_sql(config.glue_database, config.glue_table, day)
    query_id = athena.run_query(
        sql,
        query_context={"Database": config.glue_database},
        result_configuration={"OutputLocation": config.results_location},
        workgroup=config.athena_workgroup,
    )
    state = athena.poll_query_status(query_id, sleep_time=2)
    if state != "SUCCEEDED":
        reason = athena.get_state_change_reason(query_id)
        raise CatalogError(f"Athena query {query_id} ended {state}: {reason}\n{sql}")
    rows, cost = read_partition_totals(athena.get_query_results(query_id))
    mapping = _read_json(client("s3"), _mapping_uri(day, config))
    accounts = [a for ou in mapping["ous"] for a in ou["accounts"]]
    explorer = (
        cost_explorer.day_total(
            client("ce"),
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
    if abs(explorer - consolidated_total) > CENT:
        problems.append(
            f"day total: Cost Explorer {explorer:.2f}, consolidated {consolidated_total:.2f}"
        )
    if problems:
        # The digest must never go out with numbers that failed the check: say so instead.
        _send(
            config,
            client,
            config.digest_recipients,
            f"[FinOps] Data check failed for {day}: no digest today",
            "data_check_failed",
            {"billing_date": day, "problems": problems, "query_execution_id": query_id},
            attachments=(),
            kind="data-check-failed",
            day=day,
        )
        raise CatalogError(
            f"the day's numbers disagree for {day} (Athena query {query_id}): "
            + "; ".join(problems)
        )
    return {
        "query_execution_id": query_id,
        "rows": rows,
        "total": f"{cost:.2f}",
        "cost_explorer_total": f"{explorer:.2f}",
    }


def detect_anomalies(
    day: date,
    config: FinopsConfig,
    client: ClientFactory,
    consolidated: dict[str, Any],
) -> dict[str, Any]:
    """Find the day's spikes against recent history; archive them beside the CSV."""
    s3 = client("s3")
    today = from_csv(_read(s3, consolidated["csv_uri"]), consolidated["csv_uri"])
    mapping = _read_json(s3, _mapping_uri(day, config))
    window = HISTORY_WINDOW_DAYS
    history, stats = load_history(
        s3,
        client("ce"),
        bucket=config.archive_bucket,
        days=[day - timedelta(days=n) for n in range(window, 0, -1)],
        ous=mapping["ous"],
        metric=config.cost_metric,
        excluded_record_types=config.excluded_record_types,
        currency=config.currency,
    )
    history_key = layout.staging_key(day, "history.csv")
    _put_staging(s3, config.archive_bucket, history_key, to_csv(history))
    anomalies = anomaly_status.classify(
        find_anomalies(day, today, history, config.thresholds()),
        day,
        previous=_previous_anomalies(s3, day, config),
        feedback=_expected_anomalies(s3, config),
    )
    accounts_of = {ou["name"]: ou["accounts"] for ou in mapping["ous"]}
    ce = client("ce")
    for anomaly in anomalies:
        # Usage types cost one more request each: only for spikes that will page someone.
        if anomaly["status"] == anomaly_status.NEW and anomaly["ou"] in accounts_of:
            anomaly["usage_types"] = usage_type_drivers(
                ce,
                day=day,
                account_ids=[d["account"] for d in anomaly["drivers"]]
                or accounts_of[anomaly["ou"]],
                service=anomaly["service"],
                metric=config.cost_metric,
                excluded_record_types=config.excluded_record_types,
            )
    if config.aws_anomaly_detection:
        mark_seen_by_aws(ce, day, anomalies)
    counts = {
        status: sum(1 for a in anomalies if a["status"] == status)
        for status in (anomaly_status.NEW, anomaly_status.STILL_ELEVATED, anomaly_status.EXPECTED)
    }
    report = {
        "billing_date": day.isoformat(),
        "anomalies": anomalies,
        "counts": counts,
        "history": stats,
    }
    stored = archive.put_archived(
        s3,
        config.archive_bucket,
        layout.archive_key(day, layout.ANOMALIES_NAME),
        json.dumps(report, indent=1).encode(),
        content_type="application/json",
        metadata=_provenance(day, config),
    )
    return {
        "count": counts[anomaly_status.NEW],
        "still_elevated": counts[anomaly_status.STILL_ELEVATED],
        "expected": counts[anomaly_status.EXPECTED],
        "anomalies_uri": stored["uri"],
        "version_id": stored["version_id"],
        "history_uri": layout.s3_uri(config.archive_bucket, history_key),
    }


def _previous_anomalies(s3: Any, day: date, config: FinopsConfig) -> list[dict[str, Any]] | None:
    """The day before's findings, if that day is archived (a spike alerted then is not re-alerted)."""
    key = layout.archive_key(day - timedelta(days=1), layout.ANOMALIES_NAME)
    data = archive.get_if_exists(s3, config.archive_bucket, key)
    return None if data is None else json.loads(data)["anomalies"]


def _expected_anomalies(s3: Any, config: FinopsConfig) -> list[dict[str, Any]]:
    """Planned spikes from the configuration and from the team's feedback file in the bucket."""
    feedback = anomaly_status.parse_feedback(list(config.expected_anomalies), "expected_anomalies")
    data = archive.get_if_exists(s3, config.archive_bucket, config.anomaly_feedback_key)
    if data is not None:
        uri = layout.s3_uri(config.archive_bucket, config.anomaly_feedback_key)
        feedback += anomaly_status.parse_feedback(data, uri)
    return feedback


def send_anomaly_alert(
    day: date,
    config: FinopsConfig,
    client: ClientFactory,
    detected: dict[str, Any],
    forecast: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Email each spike (OU, service, expected, actual, impact, driving accounts) and each OU newly
    forecast over its budget to the alert list; remember the budget alerts (once per OU a month)."""
    s3 = client("s3")
    anomalies = [
        a
        for a in _read_json(s3, detected["anomalies_uri"])["anomalies"]
        if a["status"] == anomaly_status.NEW
    ]
    budget_alerts = forecast_rows_from_json((forecast or {}).get("new_budget_breaches", []))
    context = {
        "billing_date": day,
        "anomalies": anomalies,
        "budget_alerts": budget_alerts,
        "currency": config.currency,
    }
    impact = sum(float(a["impact"]) for a in anomalies)
    parts = []
    if anomalies or not budget_alerts:
        parts.append(
            f"{len(anomalies)} cost spike{'s' if len(anomalies) != 1 else ''} on {day}: "
            f"{emails.signed_money(impact, config.currency)} above expected"
        )
    if budget_alerts:
        ous = len(budget_alerts)
        parts.append(f"{ous} OU{'s' if ous != 1 else ''} forecast over budget for {day:%B %Y}")
    sent = _send(
        config,
        client,
        config.alert_recipients,
        "[FinOps] " + "; ".join(parts),
        "anomaly_alert",
        context,
        attachments=(),
        kind="anomaly-alert",
        day=day,
    )
    # Remembered only once the alert went out (or there was nobody to send it to): a failed send
    # is retried and still alerts.
    state = budget_alerts_state.record_alerts(s3, config.archive_bucket, day, budget_alerts)
    return {**sent, "budget_alerts": len(budget_alerts), "budget_alert_state": state}


def send_daily_digest(
    day: date,
    config: FinopsConfig,
    client: ClientFactory,
    consolidated: dict[str, Any],
    archived: dict[str, Any],
    detected: dict[str, Any],
    forecast: dict[str, Any] | None = None,
    restated: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The daily digest: KPIs, per-OU table with budget lights, top 10 lines, top movers,
    anomalies, two inline charts, and the CSV attached (gzip or a link when too big to mail)."""
    from finops_digest.report import charts

    s3 = client("s3")
    context, csv_bytes = _report_context(day, config, s3, archived, detected, forecast)
    context["restated"] = (restated or {}).get("restated", [])
    new = [a for a in context["anomalies"] if a.get("status", "new") == "new"]
    over = context["budget_totals"]["lights"]["red"]
    subject = (
        f"[FinOps] Daily cost digest {day}: {emails.money(context['total'], config.currency)}"
        + (f", {len(new)} new anomal{'ies' if len(new) != 1 else 'y'}" if new else "")
        + (f", {over} OU{'s' if over != 1 else ''} forecast over budget" if over else "")
    )
    images = [("trend@finops-digest", charts.trend_png(context["trend"], config.currency))]
    if context["ou_budgets"]:
        images.append(
            ("budget@finops-digest", charts.budget_png(context["ou_budgets"], config.currency))
        )
    context["images"] = {cid.split("@", 1)[0]: cid for cid, _ in images}
    attachment = (f"ou_breakdown_{day.isoformat()}.csv", csv_bytes, "text/csv")
    bucket, key = layout.parse_s3_uri(archived["csv"]["uri"])

    def link() -> str:
        return s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": key, "VersionId": archived["csv"]["version_id"]},
            ExpiresIn=emails.LINK_EXPIRY_SECONDS,
        )

    return _send(
        config,
        client,
        config.digest_recipients,
        subject,
        "digest",
        context,
        attachments=(attachment,),
        kind="daily-digest",
        day=day,
        inline_images=tuple(images),
        link=link,
    )


def _send(
    config: FinopsConfig,
    client: ClientFactory,
    recipients: tuple[str, ...],
    subject: str,
    template: str,
    context: dict[str, Any],
    *,
    attachments: tuple[tuple[str, bytes, str], ...],
    kind: str,
    day: date,
    inline_images: tuple[tuple[str, bytes], ...] = (),
    link: Callable[[], str] | None = None,
) -> dict[str, Any]:
    """Render and send one email through SES; attachments shrink (gzip, then ``link``) to fit
    SES's size limit."""
    if not recipients:
        log.warning("No recipients configured for the %s of %s: nothing sent", kind, day)
        return {"sent": False, "recipients": 0}
    s3 = client("s3")
    # A re-run (of the task or the whole day) must not mail anyone twice for the same day.
    done = delivery_record.already_sent(s3, config.archive_bucket, day, kind)
    recipients = tuple(r for r in recipients if r not in done)
    if not recipients:
        log.info("The %s of %s already went to every recipient: not sent again", kind, day)
        return {"sent": False, "recipients": 0, "already_sent": len(done)}

    def build(attached: Any, delivery: dict[str, Any]) -> bytes:
        rendered = {**context, "delivery": delivery}
        return emails.build_message(
            sender=config.ses_sender,
            recipients=recipients,
            subject=subject,
            text=emails.render(f"{template}.txt.j2", **rendered),
            html=emails.render(f"{template}.html.j2", **rendered),
            attachments=attached,
            headers={"X-FinOps-Billing-Date": day.isoformat(), "X-FinOps-Kind": kind},
            inline_images=inline_images,
        )

    message, delivery = emails.fit_to_limit(build, attachments, link)
    message_id = emails.send_raw(client("ses"), config.ses_sender, recipients, message)
    delivery_record.record_sent(s3, config.archive_bucket, day, kind, list(recipients), message_id)
    log.info(
        "Sent %s for %s to %d recipient(s), %d bytes, files %s: %s",
        kind,
        day,
        len(recipients),
        len(message),
        delivery["mode"],
        message_id,
    )
    return {
        "sent": True,
        "recipients": len(recipients),
        "message_id": message_id,
        "bytes": len(message),
        "attachments": delivery["mode"],
    }


def _provenance(day: date, config: FinopsConfig) -> dict[str, str]:
    """Recorded with every artifact, so a number can always be traced to how it was pulled."""
    return {
        "billing-date": day.isoformat(),
        "cost-metric": config.cost_metric,
        "excluded-record-types": ",".join(config.excluded_record_types) or "none",
    }


def _mapping_uri(day: date, config: FinopsConfig) -> str:
    """The day's staged account-to-OU mapping, written by ``discover_ous``."""
    return layout.s3_uri(config.archive_bucket, layout.staging_key(day, layout.MAPPING_NAME))


def _slug(name: str) -> str:
    """A key-safe, collision-free file name for an OU path."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:60] or "ou"
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _put_staging(s3: Any, bucket: str, key: str, body: bytes) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def _read(s3: Any, uri: str, version_id: str | None = None) -> bytes:
    bucket, key = layout.parse_s3_uri(uri)
    return archive.get_bytes(s3, bucket, key, version_id)


def _read_json(s3: Any, uri: str) -> dict[str, Any]:
    return json.loads(_read(s3, uri))


FORECAST_NAME = "forecast.json"


def forecast_month_end(
    day: date,
    config: FinopsConfig,
    client: ClientFactory,
    consolidated: dict[str, Any],
    detected: dict[str, Any],
) -> dict[str, Any]:
    """Month-end forecast per OU (actuals so far + Cost Explorer's forecast of the rest, run-rate
    when it cannot), budgets and traffic lights; archived as forecast.json beside the CSV.

    Returns the totals, the light counts and the OUs newly forecast over budget this month (the
    alert branch's input)."""
    s3 = client("s3")
    provenance = _provenance(day, config)
    today = from_csv(_read(s3, consolidated["csv_uri"]), consolidated["csv_uri"])
    history = from_csv(_read(s3, detected["history_uri"]), detected["history_uri"])
    mapping = _read_json(s3, _mapping_uri(day, config))
    forecasts = month_end_forecasts(
        day,
        mapping["ous"],
        [*[r for r in history if r.billing_date < day], *today],
        client("ce"),
        metric=config.cost_metric,
        excluded_record_types=config.excluded_record_types,
        currency=config.currency,
    )
    from_aws = {}
    if config.budgets_from_aws:
        account_id = client("sts").get_caller_identity()["Account"]
        from_aws = read_aws_budgets(client("budgets"), account_id, config.currency)
    rows = against_budgets(forecasts, resolve_budgets(config.budgets, from_aws))
    state = budget_alerts_state.read_state(s3, config.archive_bucket, day)
    new = budget_alerts_state.new_breaches(breaches(rows), state, day)
    totals = budget_summary(rows)
    document = {
        "billing_date": day.isoformat(),
        "ous": forecast_rows_to_json(rows),
        "already_alerted": sorted(state["alerted"]),
        "new_budget_breaches": new,
    }
    stored = archive.put_archived(
        s3,
        config.archive_bucket,
        layout.archive_key(day, FORECAST_NAME),
        json.dumps(document, indent=1).encode(),
        content_type="application/json",
        metadata=provenance,
    )
    table_row = archive.put_archived(
        s3,
        config.archive_bucket,
        layout.budget_key(day),
        budget_table_parquet(day, rows, provenance),
        content_type="application/vnd.apache.parquet",
        metadata=provenance,
    )
    by_ou = {row["ou"]: row for row in rows}
    return {
        "forecast_uri": stored["uri"],
        "version_id": stored["version_id"],
        "budget_table_uri": table_row["uri"],
        "forecast": str(totals["forecast"]),
        "budget": None if totals["budget"] is None else str(totals["budget"]),
        "methods": totals["methods"],
        "lights": totals["lights"],
        "new_budget_breaches": forecast_rows_to_json([by_ou[ou] for ou in new]),
    }


def send_executive_snapshot(
    day: date,
    config: FinopsConfig,
    client: ClientFactory,
    archived: dict[str, Any],
    detected: dict[str, Any],
    forecast: dict[str, Any],
) -> dict[str, Any]:
    """The executive snapshot PDF: archived beside the CSV (a new version per run), then mailed
    to the executive recipients."""
    from finops_digest.report.snapshot_pdf import SNAPSHOT_NAME, render_snapshot

    s3 = client("s3")
    context, _ = _report_context(day, config, s3, archived, detected, forecast)
    pdf = render_snapshot(context)
    stored = archive.put_archived(
        s3,
        config.archive_bucket,
        layout.archive_key(day, SNAPSHOT_NAME),
        pdf,
        content_type="application/pdf",
        metadata=_provenance(day, config),
    )
    context["snapshot"] = stored
    totals = context["budget_totals"]
    subject = (
        f"[FinOps] Executive cost snapshot {day}: month-end forecast "
        f"{emails.money(totals['forecast'], config.currency)}"
        + (
            f" vs budget {emails.money(totals['budget'], config.currency)}"
            if totals["budget"] is not None
            else ""
        )
    )
    sent = _send(
        config,
        client,
        config.executive_recipients,
        subject,
        "executive_snapshot",
        context,
        attachments=((f"executive_snapshot_{day.isoformat()}.pdf", pdf, "application/pdf"),),
        kind="executive-snapshot",
        day=day,
    )
    return {**sent, "pdf": stored}


def _report_context(
    day: date,
    config: FinopsConfig,
    s3: Any,
    archived: dict[str, Any],
    detected: dict[str, Any],
    forecast: dict[str, Any] | None,
) -> tuple[dict[str, Any], bytes]:
    """What the digest and the snapshot show: the figures of the archived CSV (the exact version
    this run archived), its history, the anomalies and the forecast against budgets."""
    csv_bytes = _read(s3, archived["csv"]["uri"], archived["csv"]["version_id"])
    today = from_csv(csv_bytes, archived["csv"]["uri"])
    history = from_csv(_read(s3, detected["history_uri"]), detected["history_uri"])
    anomalies = _read_json(s3, detected["anomalies_uri"])["anomalies"]
    rows = []
    if forecast:
        document = _read(s3, forecast["forecast_uri"], forecast.get("version_id"))
        rows = forecast_rows_from_json(json.loads(document)["ous"])
        rows.sort(key=lambda r: (-r["forecast"], r["ou"]))
    figures = digest_figures(day, today, history, anomalies)
    return {
        **figures,
        "ou_table": ou_table(figures["ous"], rows),
        "ou_budgets": rows,
        "light_words": LIGHT_WORDS,
        "light_colours": LIGHT_COLOURS,
        "budget_totals": budget_summary(rows),
        "currency": config.currency,
        "cost_metric": config.cost_metric,
        "excluded_record_types": config.excluded_record_types,
        "archive": archived,
    }, csv_bytes
