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
from typing import Any

from finops_digest import archive, aws_clients, cost_explorer, emails, layout
from finops_digest.anomalies import find_anomalies
from finops_digest.catalog import (
    CatalogError,
    ensure_table,
    partition_totals_sql,
    read_partition_totals,
    require_crawler_target,
)
from finops_digest.config import FinopsConfig
from finops_digest.cost_rows import consolidate as consolidate_rows
from finops_digest.cost_rows import from_csv, to_csv, to_parquet, total
from finops_digest.detection import HISTORY_DAYS, Thresholds
from finops_digest.digest import digest_figures
from finops_digest.history import load_history
from finops_digest.organizations import walk_organization

log = logging.getLogger(__name__)
ClientFactory = Callable[[str], Any]

# The digest compares against the previous day and the month to date, so history covers a month.
DIGEST_HISTORY_DAYS = 31


def discover_ous(day: date, config: FinopsConfig, client: ClientFactory) -> list[str]:
    """Walk the organisation, stage the day's account-to-OU mapping, list the OUs to extract."""
    organization = walk_organization(client("organizations"), config.root_ou_name)
    mapping = {"billing_date": day.isoformat(), **organization}
    body = json.dumps(mapping, indent=1).encode()
    _put_staging(
        client("s3"), config.archive_bucket, layout.staging_key(day, layout.MAPPING_NAME), body
    )
    empty = [ou["name"] for ou in organization["ous"] if not ou["accounts"]]
    if empty:
        log.info("OUs without accounts (nothing to extract): %s", ", ".join(empty))
    log.info("%d accounts in %d OUs", len(organization["accounts"]), len(organization["ous"]))
    return [ou["name"] for ou in organization["ous"] if ou["accounts"]]


def extract_costs(
    day: date, config: FinopsConfig, client: ClientFactory, ou: str
) -> dict[str, Any]:
    """One OU's costs for [D, D+1) from Cost Explorer, staged in S3 as a CSV part."""
    s3 = client("s3")
    mapping_uri = _mapping_uri(day, config)
    mapping = _read_json(s3, mapping_uri)
    accounts = next((o["accounts"] for o in mapping["ous"] if o["name"] == ou), None)
    if accounts is None:
        raise KeyError(f"OU {ou!r} is not in the account-to-OU mapping {mapping_uri}")
    rows, requests = cost_explorer.fetch_cost_rows(
        client("ce"),
        ou=ou,
        account_ids=accounts,
        start=day,
        end=day + timedelta(days=1),
        metric=config.cost_metric,
        excluded_record_types=config.excluded_record_types,
        currency=config.currency,
    )
    key = layout.staging_key(day, f"parts/{_slug(ou)}.csv")
    _put_staging(s3, config.archive_bucket, key, to_csv(rows))
    return {
        "ou": ou,
        "uri": layout.s3_uri(config.archive_bucket, key),
        "rows": len(rows),
        "requests": requests,
    }


def consolidate(
    day: date, config: FinopsConfig, client: ClientFactory, parts: list[dict[str, Any]]
) -> dict[str, Any]:
    """Merge the per-OU parts into the sorted CSV and its Parquet twin (staged for archiving)."""
    s3 = client("s3")
    rows = []
    for part in parts:
        rows.extend(from_csv(_read(s3, part["uri"]), part["uri"]))
    stray = {r.billing_date for r in rows} - {day}
    if stray:
        raise ValueError(f"staged parts hold costs of {sorted(stray)}; expected only {day}")
    rows = consolidate_rows(rows)
    bucket = config.archive_bucket
    csv_key = layout.staging_key(day, layout.CSV_NAME)
    parquet_key = layout.staging_key(day, layout.PARQUET_NAME)
    _put_staging(s3, bucket, csv_key, to_csv(rows))
    _put_staging(s3, bucket, parquet_key, to_parquet(rows, _provenance(day, config)))
    return {
        "csv_uri": layout.s3_uri(bucket, csv_key),
        "parquet_uri": layout.s3_uri(bucket, parquet_key),
        "rows": len(rows),
        "total": str(total(rows)),
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


def register_table(day: date, config: FinopsConfig, client: ClientFactory) -> str:
    """Make sure the Glue table exists with typed partition keys, where the crawler looks."""
    glue = client("glue")
    location = layout.s3_uri(config.archive_bucket, layout.PARQUET_PREFIX + "/")
    require_crawler_target(glue, config.glue_crawler, location)
    return ensure_table(glue, config.glue_database, config.glue_table, location, config.cost_metric)


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
    expected_rows, expected_cost = consolidated["rows"], float(consolidated["total"])
    problems = []
    if rows != expected_rows:
        problems.append(f"row count: Athena {rows}, consolidated {expected_rows}")
    if round(cost, 2) != round(expected_cost, 2):
        problems.append(f"cost sum: Athena {cost:.2f}, consolidated {expected_cost:.2f}")
    if problems:
        raise CatalogError(
            f"Athena disagrees with the consolidated CSV for {day} (query {query_id}): "
            + "; ".join(problems)
        )
    return {"query_execution_id": query_id, "rows": rows, "total": f"{cost:.2f}"}


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
    window = max(HISTORY_DAYS, DIGEST_HISTORY_DAYS)
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
    thresholds = Thresholds(min_impact=config.anomaly_min_impact, min_pct=config.anomaly_min_pct)
    anomalies = find_anomalies(day, today, history, thresholds)
    report = {"billing_date": day.isoformat(), "anomalies": anomalies, "history": stats}
    stored = archive.put_archived(
        s3,
        config.archive_bucket,
        layout.archive_key(day, layout.ANOMALIES_NAME),
        json.dumps(report, indent=1).encode(),
        content_type="application/json",
        metadata=_provenance(day, config),
    )
    return {
        "count": len(anomalies),
        "anomalies_uri": stored["uri"],
        "version_id": stored["version_id"],
        "history_uri": layout.s3_uri(config.archive_bucket, history_key),
    }


def send_anomaly_alert(
    day: date, config: FinopsConfig, client: ClientFactory, detected: dict[str, Any]
) -> dict[str, Any]:
    """Email each spike (OU, service, expected, actual, impact, driving accounts) to the alert list."""
    s3 = client("s3")
    anomalies = _read_json(s3, detected["anomalies_uri"])["anomalies"]
    context = {"billing_date": day, "anomalies": anomalies, "currency": config.currency}
    impact = sum(float(a["impact"]) for a in anomalies)
    subject = (
        f"[FinOps] {len(anomalies)} cost spike{'s' if len(anomalies) != 1 else ''} on {day}: "
        f"{emails.signed_money(impact, config.currency)} above expected"
    )
    return _send(
        config,
        client,
        config.alert_recipients,
        subject,
        "anomaly_alert",
        context,
        attachments=(),
        kind="anomaly-alert",
        day=day,
    )


def send_daily_digest(
    day: date,
    config: FinopsConfig,
    client: ClientFactory,
    consolidated: dict[str, Any],
    archived: dict[str, Any],
    detected: dict[str, Any],
) -> dict[str, Any]:
    """The daily digest: KPIs, per-OU totals, top 10 lines, anomalies, and the CSV attached."""
    s3 = client("s3")
    csv_bytes = _read(s3, archived["csv"]["uri"], archived["csv"]["version_id"])
    today = from_csv(csv_bytes, archived["csv"]["uri"])
    history = from_csv(_read(s3, detected["history_uri"]), detected["history_uri"])
    anomalies = _read_json(s3, detected["anomalies_uri"])["anomalies"]
    figures = digest_figures(day, today, history, anomalies)
    context = {
        **figures,
        "currency": config.currency,
        "cost_metric": config.cost_metric,
        "archive": archived,
    }
    subject = (
        f"[FinOps] Daily cost digest {day}: {emails.money(figures['total'], config.currency)}"
        + (f", {len(anomalies)} anomal{'ies' if len(anomalies) != 1 else 'y'}" if anomalies else "")
    )
    attachment = (f"ou_breakdown_{day.isoformat()}.csv", csv_bytes, "text/csv")
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
) -> dict[str, Any]:
    if not recipients:
        log.warning("No recipients configured for the %s of %s: nothing sent", kind, day)
        return {"sent": False, "recipients": 0}
    message = emails.build_message(
        sender=config.ses_sender,
        recipients=recipients,
        subject=subject,
        text=emails.render(f"{template}.txt.j2", **context),
        html=emails.render(f"{template}.html.j2", **context),
        attachments=attachments,
        headers={"X-FinOps-Billing-Date": day.isoformat(), "X-FinOps-Kind": kind},
    )
    message_id = emails.send_raw(client("ses"), config.ses_sender, recipients, message)
    log.info("Sent %s for %s to %d recipient(s): %s", kind, day, len(recipients), message_id)
    return {"sent": True, "recipients": len(recipients), "message_id": message_id}


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
