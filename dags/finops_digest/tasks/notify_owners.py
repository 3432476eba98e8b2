"""Tell each OU's owners about their own OU: its slice of the digest, its spikes and budget
alerts, by email and on their chat channels (``ou_owners``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from finops_digest.aws.clients import aws_client
from finops_digest.budgets.forecast import rows_from_json as forecast_rows_from_json
from finops_digest.config import FinopsConfig
from finops_digest.ingest.cost_rows import from_csv, to_csv
from finops_digest.report.chat.content import ChatMessage
from finops_digest.report.chat.delivery import post_to_channels
from finops_digest.report.chat.messages import alert_message, digest_message
from finops_digest.report.delivery import send_once
from finops_digest.report.drill_links import digest_links
from finops_digest.report.fan_out import deliver_each
from finops_digest.report.owners import in_scope, owned_scopes, slice_report
from finops_digest.report.subjects import alert_subject, digest_subject
from finops_digest.store import archive, layout
from finops_digest.tasks.catalog import require_passed
from finops_digest.tasks.contracts import (
    Detected,
    Forecast,
    History,
    Organization,
    Report,
    RunPlan,
    Sent,
    Validation,
    billing_day,
    settings,
)
from finops_digest.tasks.fail_fast import fail_fast
from finops_digest.tasks.notify import alert_context, new_anomalies, read_report

log = logging.getLogger(__name__)


def owner_kind(kind: str, ou_id: str) -> str:
    """The delivery record's name for one owned OU's message: once per day, OU and destination,
    and never confused with the team's message of the same kind."""
    return f"owner-{kind}-{ou_id}"


@fail_fast
def send_owner_digests(
    plan: RunPlan, report: Report, history: History, validation: Validation
) -> Sent:
    """Each owned OU's slice of the day's digest (the OU and the OUs in it: totals, services,
    accounts, movers, budget lights, spikes; its rows as the CSV) to its owners' addresses and
    channels, once the numbers passed the gate."""
    from finops_digest.report.charts import digest_images

    require_passed(validation)
    day, config = billing_day(plan), settings(plan)
    if not config.ou_owners:
        return {"sent": False, "recipients": 0}
    s3 = aws_client("s3")
    context = read_report(report)
    today = from_csv(archive.read_uri(s3, report["csv_uri"], report["csv_version_id"]), "csv")
    past = from_csv(archive.read_uri(s3, history["history_uri"]), history["history_uri"])
    mapped = context["archive"]["mapping"]
    mapping = archive.read_json(s3, mapped["uri"], mapped["version_id"])
    scopes = _scopes(config.ou_owners, mapping)
    deliveries: list[tuple[str, Callable[[], Any]]] = []
    for scope in scopes:
        mine = digest_links(
            slice_report(context, scope, today, past, mapping["accounts"]), config.dashboard_url
        )
        labels = set(scope["ous"])
        rows = to_csv(r for r in today if r.ou in labels)
        name = f"ou_breakdown_{day.isoformat()}_{layout.ou_slug(scope['ou'])}.csv"
        kind = owner_kind("digest", scope["id"])
        deliveries += _to_owners(
            config,
            scope,
            kind,
            day,
            lambda mine=mine, scope=scope, kind=kind, rows=rows, name=name: send_once(
                config,
                scope["emails"],
                digest_subject(mine, config.currency, scope["ou"]),
                "digest",
                mine,
                kind=kind,
                day=day,
                attachments=((name, rows, "text/csv"),),
                inline_images=tuple(digest_images(mine, config.currency)),
            ),
            digest_message(mine, config.currency, scope=scope["ou"]),
        )
    results = deliver_each(deliveries)
    return _summary(scopes, results)


@fail_fast
def send_owner_alerts(
    plan: RunPlan, detected: Detected, forecast: Forecast, organization: Organization
) -> Sent:
    """Each owned OU's new spikes and new budget breaches (its OU and the OUs in it only) to its
    owners' addresses and channels; an OU with nothing new gets nothing."""
    day, config = billing_day(plan), settings(plan)
    if not config.ou_owners:
        return {"sent": False, "recipients": 0}
    s3 = aws_client("s3")
    anomalies = new_anomalies(s3, detected)
    budget_alerts = forecast_rows_from_json(forecast["new_budget_breaches"])
    scopes = _scopes(config.ou_owners, archive.read_json(s3, organization["mapping_uri"]))
    deliveries: list[tuple[str, Callable[[], Any]]] = []
    for scope in scopes:
        spikes, breaches = in_scope(anomalies, scope), in_scope(budget_alerts, scope)
        if not spikes and not breaches:
            continue
        context = alert_context(day, spikes, breaches, config)
        subject = alert_subject(day, spikes, breaches, config.currency, scope["ou"])
        kind = owner_kind("alert", scope["id"])
        deliveries += _to_owners(
            config,
            scope,
            kind,
            day,
            lambda context=context, scope=scope, subject=subject, kind=kind: send_once(
                config, scope["emails"], subject, "anomaly_alert", context, kind=kind, day=day
            ),
            alert_message(context, config.currency, scope=scope["ou"]),
        )
    results = deliver_each(deliveries)
    return _summary(scopes, results)


def _to_owners(
    config: FinopsConfig,
    scope: dict[str, Any],
    kind: str,
    day: date,
    email: Callable[[], Any],
    message: ChatMessage,
) -> list[tuple[str, Callable[[], Any]]]:
    """The two deliveries of one owned OU's message: its owners' email, then their channels."""
    return [
        (f"{scope['ou']} owners' email", email),
        (
            f"{scope['ou']} owners' channels",
            lambda: post_to_channels(config, scope["channels"], message, kind=kind, day=day),
        ),
    ]


def _scopes(ou_owners: dict[str, Any], mapping: dict[str, Any]) -> list[dict[str, Any]]:
    scopes, notices = owned_scopes(ou_owners, mapping)
    for notice in notices:
        log.warning(notice)
    return scopes


def _summary(scopes: list[dict[str, Any]], results: dict[str, Any]) -> Sent:
    emails = [r for name, r in results.items() if name.endswith("email")]
    channels = [r for name, r in results.items() if name.endswith("channels")]
    return {
        "sent": any(r.get("sent") for r in [*emails, *channels]),
        "recipients": sum(r.get("recipients", 0) for r in emails),
        "owners": len(scopes),
        "channels": {
            "sent": sum(
                len(r.get("sent", [])) for r in channels if isinstance(r.get("sent"), list)
            ),
        },
    }
