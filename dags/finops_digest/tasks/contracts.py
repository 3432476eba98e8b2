"""What passes between the tasks: small JSON-ready summaries and ``s3://`` pointers (XCom).

Every input a task needs arrives as one of these, from the task upstream that made it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NotRequired, TypedDict

from finops_digest.config import FinopsConfig


class RunPlan(TypedDict):
    """``plan_run``: the billing day and the settings validated once for the whole run."""

    billing_date: str
    use_prefetched_costs: bool
    config: dict[str, Any]


class Organization(TypedDict):
    """``discover_ous``: the day's account-to-OU mapping (staged) and the OUs to extract; with
    ``cost_source: data_exports``, the export query's result (every OU's rows, Athena's CSV)
    and the bytes that query scanned (0 and None with Cost Explorer)."""

    mapping_uri: str
    ous: list[str]
    export_result_uri: NotRequired[str | None]
    athena_scanned_bytes: NotRequired[int]


class OuPart(TypedDict):
    """``extract_costs``: one OU's staged costs of the day (and of the restated days before it,
    None when prefetched)."""

    ou: str
    uri: str
    restatement_uri: str | None
    rows: int
    requests: int
    estimated_days: list[str]


class Consolidated(TypedDict):
    """``consolidate``: the day's CSV and Parquet, staged for archiving."""

    csv_uri: str
    parquet_uri: str
    rows: int
    total: str
    cost_explorer_requests: int
    estimated: bool


class ArchivedObject(TypedDict):
    """One object written to the versioned archive."""

    uri: str
    version_id: str
    sha256: str


class Archived(TypedDict):
    """``archive_to_s3``: the day's archived CSV, Parquet, mapping and OU tree."""

    csv: ArchivedObject
    parquet: ArchivedObject
    mapping: ArchivedObject
    ou_tree: ArchivedObject


class Restated(TypedDict):
    """``restate_recent_days``: the earlier days re-archived because Cost Explorer restated them."""

    restated: list[dict[str, str]]


class Catalogued(TypedDict):
    """``crawl_catalog``: how the day's partition reached the Glue catalog."""

    strategy: str
    table: str
    status: str
    parquet_uri: str


class Validation(TypedDict):
    """``validate_in_athena``: what Athena, the CSV and the cost source (Cost Explorer, or the
    data export) say of the day; ``problems`` is empty when they agree to the cent."""

    query_execution_id: str
    rows: int
    total: str
    # None with cost_source data_exports (the export's total is source_total).
    cost_explorer_total: str | None
    problems: list[str]
    source: NotRequired[str]
    source_total: NotRequired[str]
    # What the validation's Athena queries scanned (the export's day total included).
    athena_scanned_bytes: NotRequired[int]


class History(TypedDict):
    """``load_history``: the history of the days before D (staged: per OU and service, the day
    before account by account) and where each day came from."""

    history_uri: str
    stats: dict[str, int]
    # Where a spike's accounts are read for each day (``detection.account_history``): the days
    # Athena answered for, the archived days read from their CSV (ISO day -> version read, None
    # for the latest), and the staged account-level rows of the other days (None: there are none).
    athena_days: list[str]
    csv_days: dict[str, str | None]
    detail_uri: str | None
    # OUs renamed since the last archived day: ``{"id", "name" (today's), "was"}``.
    renames: list[dict[str, str]]


class Detected(TypedDict):
    """``detect_anomalies``: the day's findings, archived, with their counts by status."""

    count: int
    still_elevated: int
    expected: int
    anomalies_uri: str
    version_id: str
    notices: list[str]
    # What reading the spikes' accounts through Athena scanned (0: no spike, or no Athena day).
    athena_scanned_bytes: int


class Forecast(TypedDict):
    """``forecast_month_end``: month-end forecast against budgets, archived; the OUs newly over."""

    forecast_uri: str
    version_id: str
    budget_table_uri: str
    forecast: str
    budget: str | None
    methods: dict[str, int]
    lights: dict[str, int]
    new_budget_breaches: list[dict[str, Any]]


class Report(TypedDict):
    """``build_report``: what the digest and the executive snapshot show, staged once."""

    report_uri: str
    csv_uri: str
    csv_version_id: str


class Sent(TypedDict, total=False):
    """A ``send_*`` task: whether and to how many recipients the message went."""

    sent: bool
    recipients: int
    already_sent: int
    message_id: str
    messages: int
    bytes: int
    attachments: str
    # The periodic reports (``tasks/periodic.py``): why a run's day sends none, else the days
    # covered ("YYYY-MM-DD..YYYY-MM-DD"), their total, and the month-close chargeback archived.
    skipped: str
    period: str
    total: str
    chargeback_uri: str
    chargeback_version_id: str


def billing_day(plan: RunPlan) -> date:
    """The run's billing day."""
    return date.fromisoformat(plan["billing_date"])


def settings(plan: RunPlan) -> FinopsConfig:
    """The settings ``plan_run`` validated: every task of a run sees the same configuration."""
    return FinopsConfig.from_dict(plan["config"])
