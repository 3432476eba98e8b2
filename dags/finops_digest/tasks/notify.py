"""Tell people: the report built once, the spike and budget alert, the digest, the executive
snapshot, and the notice when the day's numbers failed the quality gate."""

from __future__ import annotations

from datetime import date
from typing import Any

from finops_digest.aws.clients import aws_client
from finops_digest.aws.cost_explorer import DAILY_HORIZON_MONTHS
from finops_digest.budgets import alert_memory
from finops_digest.budgets.against_budget import NOT_IN_ORGANIZATION
from finops_digest.budgets.forecast import rows_from_json as forecast_rows_from_json
from finops_digest.budgets.lights import LIGHT_COLOURS, LIGHT_WORDS
from finops_digest.config import FinopsConfig
from finops_digest.detection import status
from finops_digest.ingest.cost_history import HISTORY_WINDOW_DAYS
from finops_digest.ingest.cost_rows import from_csv
from finops_digest.money import money
from finops_digest.report import document
from finops_digest.report.chat.delivery import post_to_channels
from finops_digest.report.chat.messages import alert_message, digest_message
from finops_digest.report.delivery import send_once
from finops_digest.report.drill_links import alert_links, digest_links
from finops_digest.report.fan_out import deliver_each
from finops_digest.report.figures import budget_summary, digest_figures, ou_table
from finops_digest.report.links import presigned_link
from finops_digest.report.subjects import alert_subject, digest_subject
from finops_digest.store import archive, layout
from finops_digest.tasks.analysis import ALERT_KIND
from finops_digest.tasks.catalog import require_passed
from finops_digest.tasks.contracts import (
    Archived,
    Consolidated,
    Detected,
    Forecast,
    History,
    Report,
    Restated,
    RunPlan,
    Sent,
    Validation,
    billing_day,
    settings,
)
from finops_digest.tasks.fail_fast import fail_fast

# The delivery record's name for the team's daily digest (email and chat).
DIGEST_KIND = "daily-digest"


@fail_fast
def build_report(
    plan: RunPlan,
    consolidated: Consolidated,
    archived: Archived,
    history: History,
    detected: Detected,
    forecast: Forecast,
    restated: Restated,
) -> Report:
    """What the digest and the snapshot show, computed once: the figures of the archived CSV (the
    exact version this run archived), its history, the anomalies, the forecast against budgets
    and the restated days; staged for both."""
    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")
    csv = archived["csv"]
    today = from_csv(archive.read_uri(s3, csv["uri"], csv["version_id"]), csv["uri"])
    past = from_csv(archive.read_uri(s3, history["history_uri"]), history["history_uri"])
    anomalies = archive.read_json(s3, detected["anomalies_uri"], detected["version_id"])
    forecast_doc = archive.read_json(s3, forecast["forecast_uri"], forecast["version_id"])
    rows = forecast_rows_from_json(forecast_doc["ous"])
    rows.sort(key=lambda r: (-r["forecast"], r["ou"]))
    # Accounts as people know them: the names of the mapping this run archived.
    mapping = archived["mapping"]
    accounts = archive.read_json(s3, mapping["uri"], mapping["version_id"])["accounts"]
    figures = digest_figures(day, today, past, anomalies["anomalies"], accounts)
    context = {
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
        "restated": restated["restated"],
        "notices": _notices(history, detected, rows),
        "estimated": consolidated["estimated"],
        "restatement_days": config.restatement_days,
    }
    uri = archive.put_staging(
        s3, config.archive_bucket, layout.report_key(day), document.dumps(context)
    )
    return {"report_uri": uri, "csv_uri": csv["uri"], "csv_version_id": csv["version_id"]}


def _notices(history: History, detected: Detected, rows: list[dict[str, Any]]) -> list[str]:
    """What the digest says before its figures: renames, missing history, an ignored feedback
    file, budget keys that name no OU."""
    notices = [
        f"{r['name']!r} was renamed from {r['was']!r} (OU {r['id']}): its history, spikes and "
        "budget carry over under the new name."
        for r in history.get("renames", [])
    ]
    beyond = history["stats"].get("beyond_horizon_days", 0)
    if beyond:
        notices.append(
            f"{beyond} of the {HISTORY_WINDOW_DAYS} history days are missing: not archived, and "
            f"beyond Cost Explorer's {DAILY_HORIZON_MONTHS} months of daily costs."
        )
    notices.extend(detected["notices"])
    notices.extend(
        f"The budget for {r['ou']!r} names no OU of the organisation (by id or path): it is "
        "listed with no cost. Check the OU's current path or use its id."
        for r in rows
        if r.get("note") == NOT_IN_ORGANIZATION
    )
    return notices


def read_report(report: Report) -> dict[str, Any]:
    """The report ``build_report`` staged, with its exact types."""
    return document.loads(archive.read_uri(aws_client("s3"), report["report_uri"]))


@fail_fast
def send_anomaly_alert(plan: RunPlan, detected: Detected, forecast: Forecast) -> Sent:
    """Send each new spike (OU, service, expected, actual, impact, driving accounts) and each OU
    newly forecast over its budget to the alert list and the team's chat channels; remember the
    budget alerts (once per OU a month) when a message carrying them went out."""
    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")
    anomalies = new_anomalies(s3, detected)
    budget_alerts = forecast_rows_from_json(forecast["new_budget_breaches"])
    context = alert_context(day, anomalies, budget_alerts, config)
    subject = alert_subject(day, anomalies, budget_alerts, config.currency)
    outcome: dict[str, Any] = {}

    def email() -> Sent:
        outcome["email"] = send_once(
            config,
            config.alert_recipients,
            subject,
            "anomaly_alert",
            context,
            kind=ALERT_KIND,
            day=day,
        )
        return outcome["email"]

    def chat() -> dict[str, Any]:
        outcome["chat"] = post_to_channels(
            config,
            config.channels,
            alert_message(context, config.currency),
            kind=ALERT_KIND,
            day=day,
        )
        return outcome["chat"]

    try:
        deliver_each([("email", email), ("chat channels", chat)])
    finally:
        # A breach is remembered only when a message carrying it went out now: a failed send, or
        # a re-run whose alert already went (without this breach), leaves it to be alerted next
        # time.
        went_out = outcome.get("email", {}).get("sent") or outcome.get("chat", {}).get("sent")
        memory = (
            alert_memory.record_alerts(s3, config.archive_bucket, day, budget_alerts)
            if went_out
            else None
        )
    return {
        **outcome["email"],
        "channels": outcome["chat"],
        "budget_alerts": len(budget_alerts),
        "budget_alert_state": memory,
    }


def new_anomalies(s3: Any, detected: Detected) -> list[dict[str, Any]]:
    """The day's new spikes (not those still elevated or expected), as archived."""
    document = archive.read_json(s3, detected["anomalies_uri"], detected["version_id"])
    return [a for a in document["anomalies"] if a["status"] == status.NEW]


def alert_context(
    day: date,
    anomalies: list[dict[str, Any]],
    budget_alerts: list[dict[str, Any]],
    config: FinopsConfig,
) -> dict[str, Any]:
    """What the alert templates and chat messages show, with drill-through links."""
    return alert_links(
        {
            "billing_date": day,
            "anomalies": anomalies,
            "budget_alerts": budget_alerts,
            "currency": config.currency,
        },
        config.dashboard_url,
    )


@fail_fast
def send_daily_digest(plan: RunPlan, report: Report, validation: Validation) -> Sent:
    """The daily digest, once the day's numbers passed the quality gate (``validation``): by email
    (KPIs, per-OU table with budget lights, top 10 lines, top movers, anomalies, two inline charts,
    the CSV attached, gzip or a link when too big to mail) and, compact, to the team's chat
    channels; a failing one never stops the other."""
    from finops_digest.report.charts import digest_images

    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")
    require_passed(validation)
    context = digest_links(read_report(report), config.dashboard_url)
    images = digest_images(context, config.currency)
    csv_bytes = archive.read_uri(s3, report["csv_uri"], report["csv_version_id"])
    bucket, key = layout.parse_s3_uri(report["csv_uri"])

    def link() -> dict[str, str]:
        return presigned_link(s3, bucket, key, report["csv_version_id"])

    sent = deliver_each(
        [
            (
                "email",
                lambda: send_once(
                    config,
                    config.digest_recipients,
                    digest_subject(context, config.currency),
                    "digest",
                    context,
                    kind=DIGEST_KIND,
                    day=day,
                    attachments=((f"ou_breakdown_{day.isoformat()}.csv", csv_bytes, "text/csv"),),
                    inline_images=tuple(images),
                    link=link,
                ),
            ),
            (
                "chat channels",
                lambda: post_to_channels(
                    config,
                    config.channels,
                    digest_message(context, config.currency),
                    kind=DIGEST_KIND,
                    day=day,
                ),
            ),
        ]
    )
    return {**sent["email"], "channels": sent["chat channels"]}


@fail_fast
def send_executive_snapshot(plan: RunPlan, report: Report, validation: Validation) -> Sent:
    """The executive snapshot PDF, once the numbers passed the gate: QuickSight's export of
    ``quicksight_dashboard_id`` when configured (the built-in PDF when that fails, and the email
    says why), else the built-in PDF; archived beside the CSV (a new version per run), then
    mailed to the executive recipients."""
    from finops_digest.report.snapshot_pdf import render_snapshot
    from finops_digest.report.snapshot_source import executive_pdf

    require_passed(validation)
    day, config = billing_day(plan), settings(plan)
    context = read_report(report)
    chosen = executive_pdf(config, lambda: render_snapshot(context))
    pdf = chosen.pdf
    stored = archive.put_archived(
        aws_client("s3"),
        config.archive_bucket,
        layout.archive_key(day, layout.SNAPSHOT_NAME),
        pdf,
        content_type="application/pdf",
        metadata={**config.provenance(day), "snapshot-source": chosen.source},
    )
    context["snapshot"] = stored
    context["snapshot_pdf"] = chosen.summary()
    totals = context["budget_totals"]
    subject = (
        f"[FinOps] Executive cost snapshot {day}: month-end forecast "
        f"{money(totals['forecast'], config.currency)}"
        + (
            f" vs budget {money(totals['budget'], config.currency)}"
            if totals["budget"] is not None
            else ""
        )
    )
    sent = send_once(
        config,
        config.executive_recipients,
        subject,
        "executive_snapshot",
        context,
        kind="executive-snapshot",
        day=day,
        attachments=((f"executive_snapshot_{day.isoformat()}.pdf", pdf, "application/pdf"),),
    )
    return {**sent, "pdf": stored, "pdf_source": chosen.source}


@fail_fast
def send_data_check_failed(plan: RunPlan | None, validation: Validation | None) -> Sent:
    """Tell the digest's recipients why there is no digest today: the day's numbers failed the
    quality gate (``validation``'s problems). Nothing to say when the check itself did not run."""
    if not plan or not validation or not validation["problems"]:
        return {"sent": False, "recipients": 0}
    day, config = billing_day(plan), settings(plan)
    return send_once(
        config,
        config.digest_recipients,
        f"[FinOps] Data check failed for {day}: no digest today",
        "data_check_failed",
        {
            "billing_date": day,
            "problems": validation["problems"],
            "query_execution_id": validation["query_execution_id"],
        },
        kind="data-check-failed",
        day=day,
    )
