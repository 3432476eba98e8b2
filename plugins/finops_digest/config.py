"""The pipeline's one configuration object, read from the ``finops_config`` Variable at run time."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

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
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
_EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class ConfigError(FinopsError, ValueError):
    """The ``finops_config`` Variable is missing or invalid; the message lists every problem."""


@dataclass(frozen=True)
class FinopsConfig:
    """Validated settings; defaults match the Terraform and the local sandbox."""

    archive_bucket: str
    glue_database: str = "finops_db"
    glue_table: str = "ou_breakdown"
    glue_crawler: str = "finops-ou-breakdown-crawler"
    athena_workgroup: str = "primary"
    athena_output_location: str = ""
    ses_sender: str = ""
    digest_recipients: tuple[str, ...] = ()
    alert_recipients: tuple[str, ...] = ()
    cost_metric: str = "NetAmortizedCost"
    excluded_record_types: tuple[str, ...] = ("Credit", "Refund", "Tax")
    root_ou_name: str = "Root"
    anomaly_min_impact: Decimal = Decimal("100")
    anomaly_min_pct: float = 0.2
    currency: str = "USD"

    @property
    def results_location(self) -> str:
        """Where Athena writes query results: configured, or a prefix of the archive bucket."""
        return self.athena_output_location or f"s3://{self.archive_bucket}/athena-results/"

    def to_json(self) -> str:
        """Serialise back to the Variable's JSON form (Decimals as strings)."""
        return json.dumps(asdict(self), default=str, sort_keys=True)


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
        if not isinstance(value, str) or (pattern and not pattern.match(value)):
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
            [v for v in value if not isinstance(v, str) or not _EMAIL_RE.match(v)]
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
    for key in ("glue_database", "glue_table", "glue_crawler", "athena_workgroup", "root_ou_name"):
        text(key, _NAME_RE, "a name of letters, digits, '_', '.', '-'")
    text("athena_output_location", re.compile(r"^s3://[^/]+/.*$"), "an s3://bucket/prefix/ URI")
    text("ses_sender", _EMAIL_RE, "an email address verified in SES")
    text("currency", re.compile(r"^[A-Z]{3}$"), "an ISO 4217 currency code such as USD")
    emails("digest_recipients")
    emails("alert_recipients")

    if "cost_metric" in raw:
        if raw["cost_metric"] in COST_METRICS:
            values["cost_metric"] = raw["cost_metric"]
        else:
            problems.append(
                f"cost_metric: expected one of {', '.join(COST_METRICS)}, got {raw['cost_metric']!r}"
            )
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

    wants_mail = raw.get("digest_recipients") or raw.get("alert_recipients")
    if wants_mail and "ses_sender" not in raw:
        problems.append("ses_sender: required when recipients are configured")

    if problems:
        raise ConfigError(
            f"Invalid '{VARIABLE_NAME}' ({len(problems)} problem(s)):\n- " + "\n- ".join(problems)
        )
    return FinopsConfig(**values)


def load_config() -> FinopsConfig:
    """Read and validate the Variable at run time (never at DAG parse time)."""
    from airflow.sdk import Variable

    return parse_config(Variable.get(VARIABLE_NAME, default=None))
