"""The pipeline's one configuration object, read from the ``finops_config`` Variable at run time."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from finops_digest.detection.detector import Thresholds
from finops_digest.detection.status import parse_feedback
from finops_digest.errors import FinopsError

VARIABLE_NAME = "finops_config"

COST_METRICS = (
    "NetAmortizedCost",
    "AmortizedCost",
    "NetUnblendedCost",
    "UnblendedCost",
    "BlendedCost",
)
RECORD_TYPES = (
    "Usage",
    "Credit",
    "Refund",
    "Tax",
    "SavingsPlanCoveredUsage",
    "SavingsPlanNegation",
    "SavingsPlanRecurringFee",
    "SavingsPlanUpfrontFee",
    "DiscountedUsage",
    "RIFee",
    "Fee",
    "Support",
    "Enterprise Discount Program Discount",
    "Private Rate Discount",
    "Distributor Discount",
    "Bundled Discount",
    "Solution Provider Program Discount",
)
# Where the day's costs come from: Cost Explorer's GetCostAndUsage, or an AWS Data Exports table
# (CUR 2.0, FOCUS 1.0/1.2) queried through Athena (``aws.data_exports``, docs/data_exports.md).
COST_SOURCES = ("cost_explorer", "data_exports")
# "crawler": the Glue crawler adds new partitions; "partition_api": BatchCreatePartition registers
# the day's partition directly (no crawler run).
CATALOG_STRATEGIES = ("crawler", "partition_api")
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,255}")
# Athena takes these unquoted in every query (and the shipped DDL and views): lowercase letters,
# digits and "_", starting with a letter.
_ATHENA_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,254}")
_WORKGROUP_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")
# The drill-through dashboard's page: links append "?ou=...", so no fragment; empty = no links.
_DASHBOARD_URL_RE = re.compile(r"(https?://[^\s/?#<>\"']+[^\s#<>\"']*)?")
_EMAIL_RE = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")
# Chat channels: where each posts is an Airflow connection (its secret URL or token stays there),
# or an SNS topic (AWS's chat integration forwards it to Slack or Teams).
CHANNEL_TYPES = ("slack", "teams", "sns")
CHANNEL_KINDS = ("digest", "alert")
_CONN_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,250}")
_SLACK_CHANNEL_RE = re.compile(r"#?[A-Za-z0-9_.-]{1,80}")
_SNS_TOPIC_RE = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class ConfigError(FinopsError, ValueError):
    """The ``finops_config`` Variable is missing or invalid; the message lists every problem."""


@dataclass(frozen=True)
class FinopsConfig:
    """Validated settings; defaults match the Terraform and the local sandbox."""

    archive_bucket: str
    glue_database: str = "finops_db"
    glue_table: str = "ou_breakdown"
    # Each day's budget vs forecast per OU (Parquet, partition projection), for Athena users.
    glue_budget_table: str = "ou_budget"
    glue_crawler: str = "finops-ou-breakdown-crawler"
    athena_workgroup: str = "primary"
    athena_output_location: str = ""
    ses_sender: str = ""
    digest_recipients: tuple[str, ...] = ()
    alert_recipients: tuple[str, ...] = ()
    # Who gets the executive snapshot (a PDF: budget vs forecast per OU, trend, top movers).
    executive_recipients: tuple[str, ...] = ()
    # A QuickSight dashboard whose own PDF export (a snapshot job) is the executive snapshot;
    # empty: the built-in PDF. Any failure of the export falls back to the built-in PDF.
    quicksight_dashboard_id: str = ""
    # Who hears about a failed run (DAG, task, billing day, error, log link), via SES.
    failure_recipients: tuple[str, ...] = ()
    # The drill-through dashboard (dashboard/urls.py); when set, every OU row, top line and spike
    # in a message links to the dashboard state that explains it. Empty: no links anywhere.
    dashboard_url: str = ""
    # How the day's partition reaches the Glue catalog: "partition_api" (BatchCreatePartition:
    # faster and cheaper, measured in docs/deployment.md) or "crawler" (the Glue crawler).
    catalog_strategy: str = "partition_api"
    cost_metric: str = "NetAmortizedCost"
    # "cost_explorer" or "data_exports"; with the latter, ``data_exports`` names the export's Glue
    # table and format: {"database", "table", "format" (cur2, focus1.0, focus1.2), "columns"?}.
    cost_source: str = "cost_explorer"
    data_exports: dict[str, Any] = field(default_factory=dict)
    excluded_record_types: tuple[str, ...] = ("Credit", "Refund", "Tax")
    root_ou_name: str = "Root"
    anomaly_min_impact: Decimal = Decimal("100")
    anomaly_min_pct: float = 0.2
    # Further detector settings (min_sigmas, medium_impact, high_impact, high_pct).
    anomaly_thresholds: dict[str, Any] = field(default_factory=dict)
    # Planned spikes not to alert: [{"ou", "service" ("*" = all), "until": "YYYY-MM-DD", "reason"}],
    # merged with the team's feedback file at s3://<archive_bucket>/<anomaly_feedback_key>.
    expected_anomalies: tuple[dict[str, Any], ...] = ()
    anomaly_feedback_key: str = "feedback/expected_anomalies.json"
    # Each run re-pulls this many days before its own and re-archives those Cost Explorer restated.
    restatement_days: int = 3
    # Cross-check spikes with AWS Cost Anomaly Detection (GetAnomalies); best effort.
    aws_anomaly_detection: bool = False
    currency: str = "USD"
    # Monthly budget per OU path, in ``currency``; wins over an AWS Budgets budget of the same OU.
    budgets: dict[str, Decimal] = field(default_factory=dict)
    # Also read AWS Budgets named ``finops-ou-<OU path>`` (off: needs budgets:ViewBudget).
    budgets_from_aws: bool = False
    # The FinOps team's chat channels (Slack, Teams, SNS), beside the digest and alert emails:
    # [{"type", "connection_id" | "topic_arn", "channel"?, "name"?, "kinds"?}].
    channels: tuple[dict[str, Any], ...] = ()
    # OU (path or id) -> {"emails": [...], "channels": [...]}: each owner gets their OU's slice
    # (the OU and the OUs in it) of the digest, and its spikes and budget alerts.
    ou_owners: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The weekly digest goes with the run of this weekday's billing day ("" = never), covering
    # the Monday-Sunday week before it.
    weekly_digest_weekday: str = "Monday"
    # The month-close report goes with the run of this day of the month (0 = never), covering
    # the previous month once its restatements settled.
    month_close_day: int = 3

    def thresholds(self) -> Thresholds:
        """The spike detector's thresholds."""
        return Thresholds(
            min_impact=self.anomaly_min_impact,
            min_pct=self.anomaly_min_pct,
            **self.anomaly_thresholds,
        )

    @property
    def results_location(self) -> str:
        """Where Athena writes query results: configured, or a prefix of the archive bucket."""
        return self.athena_output_location or f"s3://{self.archive_bucket}/athena-results/"

    def provenance(self, day: date) -> dict[str, str]:
        """Recorded with every artifact, so a number can always be traced to how it was pulled
        (from Cost Explorer unless it says which data export)."""
        recorded = {
            "billing-date": day.isoformat(),
            "cost-metric": self.cost_metric,
            "excluded-record-types": ",".join(self.excluded_record_types) or "none",
        }
        if self.cost_source == "data_exports":
            export = self.data_exports
            recorded["cost-source"] = (
                f"data_exports {export['database']}.{export['table']} ({export['format']})"
            )
        return recorded

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (Decimals as strings): how ``plan_run`` hands the validated settings on."""
        return json.loads(json.dumps(asdict(self), default=str))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FinopsConfig:
        """The settings ``to_dict`` gave, already validated by ``parse_config`` in ``plan_run``."""
        typed = {f.name: values[f.name] for f in fields(cls) if f.name in values}
        for name, value in typed.items():
            if isinstance(value, list):
                typed[name] = tuple(value)
        typed["anomaly_min_impact"] = Decimal(str(typed.get("anomaly_min_impact", "100")))
        typed["budgets"] = {ou: Decimal(str(v)) for ou, v in typed.get("budgets", {}).items()}
        return cls(**typed)


def parse_config(raw: str | dict[str, Any] | None) -> FinopsConfig:
    """Validate a ``finops_config`` value (JSON text or dict); raise ConfigError listing all problems."""
    if raw is None or raw == "":
        raise ConfigError(
            f"Airflow Variable '{VARIABLE_NAME}' is not set: expected JSON such as "
            '{"archive_bucket": "my-finops-archive", "ses_sender": "finops@example.com", '
            '"digest_recipients": ["team@example.com"]}'
        )
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"'{VARIABLE_NAME}' is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"'{VARIABLE_NAME}' must be a JSON object, got {type(raw).__name__}")

    problems: list[str] = []
    known = {f.name for f in fields(FinopsConfig)}
    values: dict[str, Any] = {}
    for key in sorted(set(raw) - known):
        hint = difflib.get_close_matches(key, known, n=1)
        problems.append(f"{key}: unknown key" + (f" (did you mean '{hint[0]}'?)" if hint else ""))

    def text(key: str, pattern: re.Pattern[str] | None, what: str) -> None:
        if key not in raw:
            return
        value = raw[key]
        if not isinstance(value, str) or (pattern and not pattern.fullmatch(value)):
            problems.append(f"{key}: expected {what}, got {value!r}")
        else:
            values[key] = value

    def emails(key: str) -> None:
        if key not in raw:
            return
        value = raw[key]
        if isinstance(value, str):
            value = [value]
        bad = (
            [v for v in value if not isinstance(v, str) or not _EMAIL_RE.fullmatch(v)]
            if isinstance(value, list)
            else [value]
        )
        if bad:
            problems.append(f"{key}: expected a list of email addresses, invalid: {bad!r}")
        else:
            values[key] = tuple(value)

    if "archive_bucket" not in raw:
        problems.append("archive_bucket: required (the versioned S3 bucket for the archive)")
    text("archive_bucket", _BUCKET_RE, "an S3 bucket name")
    for key in ("glue_database", "glue_table", "glue_budget_table"):
        text(
            key,
            _ATHENA_NAME_RE,
            "a name Athena takes unquoted: lowercase letters, digits and '_', starting with a letter",
        )
    text("athena_workgroup", _WORKGROUP_RE, "a workgroup name of letters, digits, '_', '.', '-'")
    for key in ("glue_crawler", "root_ou_name"):
        text(key, _NAME_RE, "a name of letters, digits, '_', '.', '-'")
    text("athena_output_location", re.compile(r"s3://[^/\s]+/\S*"), "an s3://bucket/prefix/ URI")
    text("ses_sender", _EMAIL_RE, "an email address verified in SES")
    text("currency", re.compile(r"[A-Z]{3}"), "an ISO 4217 currency code such as USD")
    emails("digest_recipients")
    emails("alert_recipients")
    emails("executive_recipients")
    emails("failure_recipients")
    text(
        "dashboard_url",
        _DASHBOARD_URL_RE,
        "an http(s) URL of the drill-through dashboard, such as "
        'https://finops.example.com/drill (no #fragment), or "" for no links',
    )
    text(
        "quicksight_dashboard_id",
        re.compile(r"[A-Za-z0-9_-]{0,512}"),
        "a QuickSight dashboard id (letters, digits, '_', '-'), or empty for the built-in PDF",
    )

    def one_of(key: str, allowed: tuple[str, ...]) -> None:
        if key not in raw:
            return
        if raw[key] in allowed:
            values[key] = raw[key]
        else:
            problems.append(f"{key}: expected one of {', '.join(allowed)}, got {raw[key]!r}")

    def flag(key: str) -> None:
        if key not in raw:
            return
        if isinstance(raw[key], bool):
            values[key] = raw[key]
        else:
            problems.append(f"{key}: expected true or false, got {raw[key]!r}")

    one_of("catalog_strategy", CATALOG_STRATEGIES)
    one_of("cost_metric", COST_METRICS)
    one_of("cost_source", COST_SOURCES)
    if "excluded_record_types" in raw:
        value = raw["excluded_record_types"]
        if isinstance(value, list) and all(v in RECORD_TYPES for v in value):
            values["excluded_record_types"] = tuple(value)
        else:
            problems.append(
                "excluded_record_types: expected a list of Cost Explorer record types "
                f"({', '.join(RECORD_TYPES[:4])}, ...), got {value!r}"
            )
    if "anomaly_min_impact" in raw:
        try:
            impact = Decimal(str(raw["anomaly_min_impact"]))
            if not impact.is_finite() or impact < 0:
                raise InvalidOperation
            values["anomaly_min_impact"] = impact
        except InvalidOperation:
            problems.append(
                "anomaly_min_impact: expected a non-negative dollar amount, "
                f"got {raw['anomaly_min_impact']!r}"
            )
    if "anomaly_min_pct" in raw:
        pct = raw["anomaly_min_pct"]
        if isinstance(pct, int | float) and not isinstance(pct, bool) and 0 <= pct <= 100:
            values["anomaly_min_pct"] = float(pct)
        else:
            problems.append(f"anomaly_min_pct: expected a fraction such as 0.2, got {pct!r}")

    if "anomaly_thresholds" in raw:
        try:
            Thresholds.from_mapping(raw["anomaly_thresholds"])
            clash = {"min_impact", "min_pct"} & set(raw["anomaly_thresholds"])
            if clash:
                raise ConfigError(f"set {sorted(clash)} as anomaly_min_impact / anomaly_min_pct")
            values["anomaly_thresholds"] = dict(raw["anomaly_thresholds"])
        except (FinopsError, TypeError, AttributeError) as exc:
            problems.append(f"anomaly_thresholds: {exc}")
    if "expected_anomalies" in raw:
        try:
            parse_feedback(raw["expected_anomalies"], "expected_anomalies")
            values["expected_anomalies"] = tuple(raw["expected_anomalies"])
        except FinopsError as exc:
            problems.append(str(exc))
    if "restatement_days" in raw:
        days = raw["restatement_days"]
        if isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= 14:
            values["restatement_days"] = days
        else:
            problems.append(f"restatement_days: expected a whole number from 0 to 14, got {days!r}")
    flag("aws_anomaly_detection")
    text("anomaly_feedback_key", re.compile(r"[^/\s]\S*"), "an S3 key such as feedback/x.json")

    if "budgets" in raw:
        budgets = _budgets(raw["budgets"], problems)
        if budgets is not None:
            values["budgets"] = budgets
    flag("budgets_from_aws")

    if "channels" in raw:
        channels = _channels("channels", raw["channels"], problems)
        if channels is not None:
            values["channels"] = channels
    if "ou_owners" in raw:
        owners = _ou_owners(raw["ou_owners"], problems)
        if owners is not None:
            values["ou_owners"] = owners
    if "weekly_digest_weekday" in raw:
        weekday = raw["weekly_digest_weekday"]
        if weekday == "" or (isinstance(weekday, str) and weekday.title() in WEEKDAYS):
            values["weekly_digest_weekday"] = weekday.title()
        else:
            problems.append(
                f"weekly_digest_weekday: expected a weekday such as 'Monday', or '' for no "
                f"weekly digest, got {weekday!r}"
            )
    if "month_close_day" in raw:
        close = raw["month_close_day"]
        if isinstance(close, int) and not isinstance(close, bool) and 0 <= close <= 28:
            values["month_close_day"] = close
        else:
            problems.append(
                "month_close_day: expected a day of the month from 1 to 28 (every month has "
                f"it), or 0 for no month-close report, got {close!r}"
            )

    _data_exports(raw, values, problems)

    owner_mail = (
        any(isinstance(o, dict) and o.get("emails") for o in (raw.get("ou_owners") or {}).values())
        if isinstance(raw.get("ou_owners"), dict)
        else False
    )
    wants_mail = (
        raw.get("digest_recipients")
        or raw.get("alert_recipients")
        or raw.get("failure_recipients")
        or raw.get("executive_recipients")
        or owner_mail
    )
    if wants_mail and "ses_sender" not in raw:
        problems.append("ses_sender: required when recipients are configured")

    if problems:
        raise ConfigError(
            f"Invalid '{VARIABLE_NAME}' ({len(problems)} problem(s)):\n- " + "\n- ".join(problems)
        )
    return FinopsConfig(**values)


def _data_exports(raw: dict[str, Any], values: dict[str, Any], problems: list[str]) -> None:
    """``data_exports``: required with ``cost_source: data_exports`` (and only used then), its
    table, format and columns usable for the run's metric and excluded record types."""
    from finops_digest.aws import data_exports

    wanted = raw.get("cost_source") == "data_exports"
    if "data_exports" not in raw:
        if wanted:
            problems.append(
                "data_exports: required with cost_source data_exports: the export's Glue table, "
                'such as {"database": "cid_data_export", "table": "cur2", "format": "cur2"}'
            )
        return
    metric = values.get("cost_metric", FinopsConfig.cost_metric)
    excluded = values.get("excluded_record_types", FinopsConfig.excluded_record_types)
    found = data_exports.settings_problems(raw["data_exports"], metric, excluded)
    if found:
        problems.extend(found)
    else:
        values["data_exports"] = dict(raw["data_exports"])


def _budgets(value: Any, problems: list[str]) -> dict[str, Decimal] | None:
    """``{"OU path": monthly amount}``; every bad entry is reported, not just the first."""
    if not isinstance(value, dict):
        problems.append(
            'budgets: expected an object of OU path to monthly amount, such as {"Data": 25000}, '
            f"got {value!r}"
        )
        return None
    budgets: dict[str, Decimal] = {}
    bad = len(problems)
    for ou, amount in value.items():
        if _ou_key_problem(ou):
            problems.append(f"budgets: {ou!r} is not an OU path such as 'Engineering/Platform'")
            continue
        try:
            if isinstance(amount, bool) or not isinstance(amount, int | float | str):
                raise InvalidOperation
            parsed = Decimal(str(amount))
            if not parsed.is_finite() or parsed <= 0:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(f"budgets: {ou!r}: expected a positive monthly amount, got {amount!r}")
            continue
        budgets[ou] = parsed
    return budgets if len(problems) == bad else None


def _ou_key_problem(key: Any) -> bool:
    """Whether ``key`` cannot name an OU (by path such as 'Engineering/Platform', or by id)."""
    return (
        not isinstance(key, str)
        or not key.strip()
        or key != key.strip()
        or "//" in key
        or key.endswith("/")
    )


def _channels(where: str, value: Any, problems: list[str]) -> tuple[dict[str, Any], ...] | None:
    """Chat channels; every bad entry is reported, and a secret written into the configuration
    is refused (it belongs in an Airflow connection)."""
    if not isinstance(value, list):
        problems.append(
            f'{where}: expected a list of channels such as [{{"type": "slack", '
            f'"connection_id": "finops_slack"}}], got {value!r}'
        )
        return None
    bad = len(problems)
    allowed = {"type", "connection_id", "topic_arn", "channel", "name", "kinds"}
    for n, channel in enumerate(value):
        at = f"{where}[{n}]"
        if not isinstance(channel, dict):
            problems.append(f"{at}: expected an object with a 'type', got {channel!r}")
            continue
        kind = channel.get("type")
        secrets = sorted(k for k in channel if k in ("webhook_url", "url", "token", "password"))
        if secrets:
            problems.append(
                f"{at}: {', '.join(secrets)} must not be in finops_config (a Variable anyone "
                "with UI access can read): put the webhook URL or token in an Airflow "
                "connection and name it with 'connection_id'"
            )
        unknown = sorted(set(channel) - allowed - {"webhook_url", "url", "token", "password"})
        if unknown:
            problems.append(f"{at}: unknown key(s) {unknown}; expected {sorted(allowed)}")
        if kind not in CHANNEL_TYPES:
            problems.append(f"{at}: type expected one of {', '.join(CHANNEL_TYPES)}, got {kind!r}")
        elif kind == "sns":
            arn = channel.get("topic_arn")
            if not isinstance(arn, str) or not _SNS_TOPIC_RE.fullmatch(arn):
                problems.append(
                    f"{at}: topic_arn expected an SNS topic ARN such as "
                    f"arn:aws:sns:us-east-1:123456789012:finops-chat, got {arn!r}"
                )
        else:
            conn = channel.get("connection_id")
            if not isinstance(conn, str) or not _CONN_ID_RE.fullmatch(conn):
                problems.append(
                    f"{at}: connection_id expected the id of an Airflow connection holding the "
                    f"{kind} webhook URL (or Slack token), got {conn!r}"
                )
        if "channel" in channel and (
            kind != "slack"
            or not isinstance(channel["channel"], str)
            or not _SLACK_CHANNEL_RE.fullmatch(channel["channel"])
        ):
            problems.append(
                f"{at}: channel is for Slack API connections only, a name such as '#finops' "
                f"or a channel id, got {channel['channel']!r}"
            )
        kinds = channel.get("kinds", list(CHANNEL_KINDS))
        if not isinstance(kinds, list) or not kinds or any(k not in CHANNEL_KINDS for k in kinds):
            problems.append(f"{at}: kinds expected a list of {list(CHANNEL_KINDS)}, got {kinds!r}")
        if "name" in channel and not isinstance(channel["name"], str):
            problems.append(f"{at}: name expected text, got {channel['name']!r}")
    return tuple(dict(c) for c in value) if len(problems) == bad else None


def _ou_owners(value: Any, problems: list[str]) -> dict[str, dict[str, Any]] | None:
    """``{OU path or id: {"emails": [...], "channels": [...]}}``; every bad entry is reported."""
    if not isinstance(value, dict):
        problems.append(
            'ou_owners: expected an object of OU path or id to owners, such as {"Engineering": '
            f'{{"emails": ["eng-leads@example.com"]}}}}, got {value!r}'
        )
        return None
    bad = len(problems)
    owners: dict[str, dict[str, Any]] = {}
    for ou, owner in value.items():
        if _ou_key_problem(ou):
            problems.append(f"ou_owners: {ou!r} is not an OU path such as 'Engineering/Platform'")
            continue
        if not isinstance(owner, dict) or set(owner) - {"emails", "channels"}:
            problems.append(
                f'ou_owners: {ou!r}: expected {{"emails": [...], "channels": [...]}}, got {owner!r}'
            )
            continue
        emails = owner.get("emails", [])
        if not isinstance(emails, list) or any(
            not isinstance(e, str) or not _EMAIL_RE.fullmatch(e) for e in emails
        ):
            problems.append(
                f"ou_owners: {ou!r}: emails expected a list of addresses, got {emails!r}"
            )
            continue
        channels = _channels(f"ou_owners[{ou!r}].channels", owner.get("channels", []), problems)
        if channels is None:
            continue
        if not emails and not channels:
            problems.append(f"ou_owners: {ou!r}: expected at least one email or channel")
            continue
        owners[ou] = {"emails": list(emails), "channels": list(channels)}
    return owners if len(problems) == bad else None


def load_config() -> FinopsConfig:
    """Read and validate the Variable at run time (never at DAG parse time)."""
    from airflow.sdk import Variable

    return parse_config(Variable.get(VARIABLE_NAME, default=None))
