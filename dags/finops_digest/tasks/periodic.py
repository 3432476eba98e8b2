"""The periodic reports, computed from the archive through Athena (no Cost Explorer request):
the weekly digest on its weekday, the month-close report on its day of the month. Both derive
every day they read from the run's billing day, so a backfill sends each once."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from finops_digest.aws.athena import query_rows
from finops_digest.aws.clients import athena_hook, aws_client
from finops_digest.config import FinopsConfig
from finops_digest.ingest.cost_rows import from_csv, total
from finops_digest.money import cents
from finops_digest.report import period_sql
from finops_digest.report.delivery import send_once
from finops_digest.report.links import presigned_link
from finops_digest.report.month_close import (
    chargeback_csv,
    chargeback_lines,
    month_budgets,
    month_close_figures,
    restatements,
)
from finops_digest.report.period_figures import Row, archived_days
from finops_digest.report.periods import (
    days_of,
    month_close_period,
    previous_month,
    previous_week,
    weekly_period,
)
from finops_digest.report.subjects import month_close_subject, weekly_subject
from finops_digest.report.weekly import weekly_figures
from finops_digest.store import archive, layout
from finops_digest.store.versions import versions_by_key
from finops_digest.tasks.contracts import RunPlan, Sent, billing_day, settings
from finops_digest.tasks.fail_fast import fail_fast

log = logging.getLogger(__name__)

WEEKLY_KIND = "weekly-digest"
MONTH_CLOSE_KIND = "month-close"


class _Athena:
    """Runs the reports' queries with the provider's hook, in ``finops_config``'s workgroup."""

    def __init__(self, config: FinopsConfig) -> None:
        self.config = config
        self.hook = athena_hook()

    def rows(self, sql: str) -> list[Row]:
        return query_rows(
            self.hook,
            sql,
            database=self.config.glue_database,
            output_location=self.config.results_location,
            workgroup=self.config.athena_workgroup,
        )


@fail_fast
def send_weekly_digest(plan: RunPlan) -> Sent:
    """On the run whose billing day falls on ``weekly_digest_weekday``: the Monday-Sunday week
    before it against the week before that (total, per OU, per service, top movers), the week's
    spikes, month to date against budget, the days not archived; mailed once to the digest
    recipients. Any other day: ``{"sent": False, "skipped": why}``."""
    day, config = billing_day(plan), settings(plan)
    period = weekly_period(day, config.weekly_digest_weekday)
    if period is None:
        why = (
            "the weekly digest is off (weekly_digest_weekday is empty)"
            if not config.weekly_digest_weekday
            else f"{day} is a {day:%A}; the weekly digest goes on {config.weekly_digest_weekday}s"
        )
        return {"sent": False, "skipped": why}
    start, end = period
    before, _ = previous_week(start, end)
    tables, athena = period_sql.Tables.of(config), _Athena(config)
    archived = archived_days(athena.rows(period_sql.archived_days_sql(tables, before, end)))
    in_week = sorted(d for d in archived if start <= d <= end)
    budgets = athena.rows(period_sql.budget_on_day_sql(tables, in_week[-1])) if in_week else []
    figures = weekly_figures(
        start,
        end,
        athena.rows(period_sql.period_totals_sql(tables, before, start, end)),
        archived,
        athena.rows(period_sql.anomalies_sql(tables, start, end)),
        budgets,
    )
    subject = weekly_subject(start, end, figures, config.currency)
    context = _email_context(config, day, figures)
    sent = send_once(
        config,
        config.digest_recipients,
        subject,
        "weekly_digest",
        context,
        kind=WEEKLY_KIND,
        day=day,
    )
    return {**sent, "period": f"{start}..{end}", "total": str(cents(figures["total"]))}


@fail_fast
def send_month_close_report(plan: RunPlan) -> Sent:
    """On the run whose billing day is the ``month_close_day``-th: the calendar month before,
    closed. Each OU's month against its budget and the month before, the month's new spikes,
    the days restated since their digest (the archive's first and current CSV versions), the
    days not archived, and the chargeback CSV (OU x service x linked account), archived as a new
    version under ``reports/month-close/`` and attached; mailed once to the digest recipients.
    Any other day: ``{"sent": False, "skipped": why}``."""
    day, config = billing_day(plan), settings(plan)
    period = month_close_period(day, config.month_close_day)
    if period is None:
        why = (
            "the month-close report is off (month_close_day is 0)"
            if not config.month_close_day
            else f"{day} is not day {config.month_close_day} of its month, when the "
            "month-close report goes"
        )
        return {"sent": False, "skipped": why}
    start, end = period
    before, _ = previous_month(start)
    tables, athena = period_sql.Tables.of(config), _Athena(config)
    s3 = aws_client("s3")
    lines = chargeback_lines(athena.rows(period_sql.month_chargeback_sql(tables, start, end)))
    figures = month_close_figures(
        start,
        end,
        athena.rows(period_sql.period_totals_sql(tables, before, start, end)),
        lines,
        archived_days(athena.rows(period_sql.archived_days_sql(tables, before, end))),
        athena.rows(period_sql.anomalies_sql(tables, start, end)),
        month_budgets(
            athena.rows(period_sql.month_budgets_sql(tables, start, end)),
            _budgets_by_label(config, athena.rows(period_sql.ou_labels_sql(tables, start, end))),
        ),
        _restated_days(s3, config.archive_bucket, start, end),
    )
    csv_bytes = chargeback_csv(start, lines)
    stored = archive.put_archived(
        s3,
        config.archive_bucket,
        layout.chargeback_key(start),
        csv_bytes,
        content_type="text/csv; charset=utf-8",
        metadata={
            **config.provenance(day),
            "month": f"{start:%Y-%m}",
            "rows": str(len(lines)),
            "total": str(cents(figures["total"])),
        },
    )
    subject = month_close_subject(start, before, figures, config.currency)
    context = {**_email_context(config, day, figures), "chargeback": stored}
    bucket, key = layout.parse_s3_uri(stored["uri"])
    sent = send_once(
        config,
        config.digest_recipients,
        subject,
        "month_close",
        context,
        kind=MONTH_CLOSE_KIND,
        day=day,
        attachments=((f"chargeback_{start:%Y-%m}.csv", csv_bytes, "text/csv"),),
        link=lambda: presigned_link(s3, bucket, key, stored["version_id"]),
    )
    return {
        **sent,
        "period": f"{start}..{end}",
        "total": str(cents(figures["total"])),
        "chargeback_uri": stored["uri"],
        "chargeback_version_id": stored["version_id"],
    }


def _email_context(config: FinopsConfig, day: date, figures: dict[str, Any]) -> dict[str, Any]:
    """What both reports' templates show beside their figures."""
    return {
        **figures,
        "billing_date": day,
        "currency": config.currency,
        "cost_metric": config.cost_metric,
        "table": f"{config.glue_database}.{config.glue_table}",
    }


def _budgets_by_label(config: FinopsConfig, labels: list[Row]) -> dict[str, Decimal]:
    """``finops_config``'s budgets by OU label (a budget may name its OU by id)."""
    label_of = {str(r["ou_id"]): str(r["label"]) for r in labels}
    return {label_of.get(key, key): amount for key, amount in config.budgets.items()}


def _restated_days(s3: Any, bucket: str, start: date, end: date) -> list[dict[str, Any]]:
    """The days of ``start``..``end`` whose current CSV total differs from their first archived
    version's (what their digest reported): one ListObjectVersions over the month, then two
    reads per day archived more than once."""
    versions = versions_by_key(s3, bucket, layout.month_prefix(start))
    firsts: dict[date, Decimal] = {}
    currents: dict[date, Decimal] = {}
    for day in days_of(start, end):
        key = layout.archive_key(day)
        if len(versions.get(key, [])) < 2:
            continue
        firsts[day] = total(from_csv(archive.get_bytes(s3, bucket, key, versions[key][0]), key))
        currents[day] = total(from_csv(archive.get_bytes(s3, bucket, key), key))
    return restatements(firsts, currents)
