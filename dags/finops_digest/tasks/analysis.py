"""Analysis: the recent history, the day's spikes, and the month-end forecast against budgets."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from functools import partial
from typing import Any

from finops_digest.aws import data_exports
from finops_digest.aws.clients import athena_hook, aws_client
from finops_digest.aws.cost_anomaly_detection import mark_seen_by_aws
from finops_digest.aws.usage_types import usage_type_drivers
from finops_digest.billing_day import days_before
from finops_digest.budgets import alert_memory
from finops_digest.budgets.against_budget import (
    against_budgets,
    breaches,
    budget_table_parquet,
    read_aws_budgets,
    resolve_budgets,
)
from finops_digest.budgets.forecast import month_end_forecasts
from finops_digest.budgets.forecast import rows_to_json as forecast_rows_to_json
from finops_digest.config import FinopsConfig
from finops_digest.detection import status
from finops_digest.detection.account_history import AccountHistory
from finops_digest.detection.anomaly_table import anomaly_parquet
from finops_digest.detection.findings import find_anomalies
from finops_digest.ingest.cost_history import HISTORY_WINDOW_DAYS
from finops_digest.ingest.cost_history import load_history as read_history
from finops_digest.ingest.cost_rows import CostRow, from_csv, to_csv
from finops_digest.ingest.history_queries import HistoryQueries
from finops_digest.ingest.ou_identity import ArchivedLabels
from finops_digest.money import apportion
from finops_digest.report.accounts import account_label
from finops_digest.report.figures import budget_summary
from finops_digest.store import archive, delivery_record, layout
from finops_digest.tasks.contracts import (
    Consolidated,
    Detected,
    Forecast,
    History,
    Organization,
    Restated,
    RunPlan,
    billing_day,
    settings,
)
from finops_digest.tasks.fail_fast import fail_fast
from finops_digest.tasks.ingest import export_history

log = logging.getLogger(__name__)

# The delivery record's name for the spike and budget alert (``tasks.notify``).
ALERT_KIND = "anomaly-alert"


@fail_fast
def load_history(plan: RunPlan, organization: Organization, restated: Restated) -> History:
    """Stage the history of the ``HISTORY_WINDOW_DAYS`` before D, read once for detection, the
    forecast and the digest (``cost_history``): per OU and service through Athena over the
    archive (the versions this run's restatements just wrote), the archived CSV for a day Athena
    does not have, else the prefetched parts, else (``cost_source: data_exports``) the export,
    else Cost Explorer with the day's mapping."""
    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")
    mapping = archive.read_json(s3, organization["mapping_uri"])
    labels = ArchivedLabels(s3, config.archive_bucket, mapping)
    days = days_before(day, HISTORY_WINDOW_DAYS)
    from_export = config.cost_source == data_exports.SOURCE_NAME
    loaded = read_history(
        s3,
        aws_client("ce"),
        HistoryQueries(athena_hook(), s3, config),
        bucket=config.archive_bucket,
        days=days,
        labels=labels,
        metric=config.cost_metric,
        excluded_record_types=config.excluded_record_types,
        currency=config.currency,
        versions={
            date.fromisoformat(r["billing_date"]): r["csv_version_id"] for r in restated["restated"]
        },
        export=partial(export_history, config, mapping) if from_export else None,
    )
    bucket = config.archive_bucket
    uri = archive.put_staging(s3, bucket, layout.history_key(day), to_csv(loaded.rows))
    detail_uri = (
        archive.put_staging(s3, bucket, layout.history_detail_key(day), to_csv(loaded.detail))
        if loaded.detail
        else None
    )
    renames = labels.renames_since(days)
    for rename in renames:
        log.info(
            "OU %s was renamed from %s: its history carries over", rename["name"], rename["was"]
        )
    return {
        "history_uri": uri,
        "stats": loaded.stats,
        "renames": renames,
        "athena_days": [d.isoformat() for d in loaded.athena_days],
        "csv_days": {d.isoformat(): v for d, v in loaded.csv_days.items()},
        "detail_uri": detail_uri,
    }


def _rows(s3: Any, uri: str) -> list[CostRow]:
    return from_csv(archive.read_uri(s3, uri), uri)


def _account_history(
    s3: Any, config: FinopsConfig, history: History, labels: ArchivedLabels
) -> AccountHistory:
    """Where a spike's accounts are read, day by day, as ``load_history`` found each day."""
    return AccountHistory(
        s3_client=s3,
        bucket=config.archive_bucket,
        labels=labels,
        queries=HistoryQueries(athena_hook(), s3, config),
        athena_days=[date.fromisoformat(d) for d in history["athena_days"]],
        csv_days={date.fromisoformat(d): v for d, v in history["csv_days"].items()},
        detail=_rows(s3, history["detail_uri"]) if history["detail_uri"] else [],
    )


@fail_fast
def detect_anomalies(
    plan: RunPlan, consolidated: Consolidated, history: History, organization: Organization
) -> Detected:
    """Find the day's spikes against its history; archive them beside the CSV."""
    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")
    mapping = archive.read_json(s3, organization["mapping_uri"])
    feedback, notices = _expected_anomalies(s3, config)
    account_history = _account_history(
        s3, config, history, ArchivedLabels(s3, config.archive_bucket, mapping)
    )
    anomalies = status.classify(
        find_anomalies(
            day,
            _rows(s3, consolidated["csv_uri"]),
            _rows(s3, history["history_uri"]),
            config.thresholds(),
            config.currency,
            account_history,
        ),
        day,
        previous=_previous_anomalies(s3, day, config, mapping),
        feedback=feedback,
    )
    accounts_of = {ou["name"]: ou["accounts"] for ou in mapping["ous"]}
    ce = aws_client("ce")
    for anomaly in anomalies:
        for driver in anomaly["drivers"]:
            driver["name"] = account_label(driver["account"], mapping["accounts"])
        # Usage types cost one more request each: only for spikes that will page someone.
        if anomaly["status"] == status.NEW and anomaly["ou"] in accounts_of:
            usage_types = usage_type_drivers(
                ce,
                day=day,
                account_ids=[d["account"] for d in anomaly["drivers"]]
                or accounts_of[anomaly["ou"]],
                service=anomaly["service"],
                metric=config.cost_metric,
                excluded_record_types=config.excluded_record_types,
            )
            # Shown beside the spike's impact: their parts of it, to the cent.
            parts = apportion(anomaly["impact"], [u["share"] for u in usage_types])
            anomaly["usage_types"] = [
                {**u, "impact": str(part)} for u, part in zip(usage_types, parts, strict=True)
            ]
    if config.aws_anomaly_detection:
        mark_seen_by_aws(ce, day, anomalies)
    counts = {
        kind: sum(1 for a in anomalies if a["status"] == kind)
        for kind in (status.NEW, status.STILL_ELEVATED, status.EXPECTED)
    }
    report = {
        "billing_date": day.isoformat(),
        "anomalies": anomalies,
        "counts": counts,
        "history": history["stats"],
        "notices": notices,
    }
    stored = _archive_json(s3, config, day, layout.ANOMALIES_NAME, report)
    _archive_table_rows(
        s3,
        config,
        day,
        layout.anomaly_key(day),
        anomaly_parquet(day, anomalies, config.provenance(day)),
    )
    return {
        "count": counts[status.NEW],
        "still_elevated": counts[status.STILL_ELEVATED],
        "expected": counts[status.EXPECTED],
        "anomalies_uri": stored["uri"],
        "version_id": stored["version_id"],
        "notices": notices,
        "athena_scanned_bytes": account_history.scanned_bytes,
    }


def _archive_json(
    s3: Any, config: FinopsConfig, day: date, name: str, document: dict[str, Any]
) -> dict[str, str]:
    return archive.put_archived(
        s3,
        config.archive_bucket,
        layout.archive_key(day, name),
        json.dumps(document, indent=1).encode(),
        content_type="application/json",
        metadata=config.provenance(day),
    )


def _archive_table_rows(
    s3: Any, config: FinopsConfig, day: date, key: str, parquet: bytes
) -> dict[str, str]:
    """The day's rows of one of the Athena tables (budgets, spikes), as a new version."""
    return archive.put_archived(
        s3,
        config.archive_bucket,
        key,
        parquet,
        content_type=archive.PARQUET_TYPE,
        metadata=config.provenance(day),
    )


def _previous_anomalies(
    s3: Any, day: date, config: FinopsConfig, mapping: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """The day before's findings, if that day is archived (a spike alerted then is not re-alerted).

    A spike counts as alerted only if the day's alert reached someone (an address or a chat
    channel): when it did not (SES refused every recipient, the task failed), its findings do not
    continue an episode, so today's run alerts them instead of calling them "still elevated"."""
    before = day - timedelta(days=1)
    report = archive.get_json_if_exists(
        s3, config.archive_bucket, layout.archive_key(before, layout.ANOMALIES_NAME)
    )
    if report is None:
        return None
    # Under today's labels: a spike of an OU renamed since continues its episode.
    labels = ArchivedLabels(s3, config.archive_bucket, mapping).of_day(before)
    previous = [{**a, "ou": labels.get(a["ou"], a["ou"])} for a in report["anomalies"]]
    if (config.alert_recipients or config.channels) and not delivery_record.already_sent(
        s3, config.archive_bucket, before, ALERT_KIND
    ):
        unsent = [a for a in previous if a.get("status") == status.NEW]
        if unsent:
            log.warning(
                "The alert of %s reached nobody: its %d new spike(s) are alerted again",
                before,
                len(unsent),
            )
        return [a for a in previous if a.get("status") != status.NEW]
    return previous


def _expected_anomalies(s3: Any, config: FinopsConfig) -> tuple[list[dict[str, Any]], list[str]]:
    """Planned spikes from the configuration and from the team's feedback file in the bucket,
    and the problems found in that file: a malformed file is reported (in the digest and the
    log) and ignored, never a failed day."""
    feedback = status.parse_feedback(list(config.expected_anomalies), "expected_anomalies")
    data = archive.get_if_exists(s3, config.archive_bucket, config.anomaly_feedback_key)
    if data is None:
        return feedback, []
    uri = layout.s3_uri(config.archive_bucket, config.anomaly_feedback_key)
    try:
        return feedback + status.parse_feedback(data, uri), []
    except status.FeedbackError as exc:
        log.error("Feedback file ignored: %s", exc)
        return feedback, [f"The feedback file was ignored: {exc}"]


@fail_fast
def forecast_month_end(
    plan: RunPlan, consolidated: Consolidated, history: History, organization: Organization
) -> Forecast:
    """Month-end forecast per OU (actuals so far + Cost Explorer's forecast of the rest, run-rate
    when it cannot), budgets and traffic lights; archived as forecast.json beside the CSV and as
    the day's rows of the budget table.

    Returns the totals, the light counts and the OUs newly forecast over budget this month (the
    alert branch's input)."""
    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")
    mapping = archive.read_json(s3, organization["mapping_uri"])
    past = [r for r in _rows(s3, history["history_uri"]) if r.billing_date < day]
    forecasts = month_end_forecasts(
        day,
        mapping["ous"],
        [*past, *_rows(s3, consolidated["csv_uri"])],
        aws_client("ce"),
        metric=config.cost_metric,
        excluded_record_types=config.excluded_record_types,
        currency=config.currency,
    )
    from_aws = {}
    if config.budgets_from_aws:
        account_id = aws_client("sts").get_caller_identity()["Account"]
        from_aws = read_aws_budgets(aws_client("budgets"), account_id, config.currency)
    # A budget may name its OU by id (stable across renames) or by its label.
    label_of = {ou["id"]: ou["name"] for ou in mapping["ous"] if ou.get("id")}
    budgets = {label_of.get(key, key): amount for key, amount in config.budgets.items()}
    rows = against_budgets(forecasts, resolve_budgets(budgets, from_aws))
    memory = alert_memory.read_state(s3, config.archive_bucket, day)
    # An OU alerted this month under a path it has since been renamed from stays alerted.
    labels = ArchivedLabels(s3, config.archive_bucket, mapping)
    memory["alerted"] = {
        labels.of_day(date.fromisoformat(alert["billing_date"])).get(ou, ou): alert
        for ou, alert in memory["alerted"].items()
    }
    new = alert_memory.new_breaches(breaches(rows), memory, day)
    totals = budget_summary(rows)
    document = {
        "billing_date": day.isoformat(),
        "ous": forecast_rows_to_json(rows),
        "already_alerted": sorted(memory["alerted"]),
        "new_budget_breaches": new,
    }
    stored = _archive_json(s3, config, day, layout.FORECAST_NAME, document)
    table_row = _archive_table_rows(
        s3,
        config,
        day,
        layout.budget_key(day),
        budget_table_parquet(day, rows, config.provenance(day)),
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
