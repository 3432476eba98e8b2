"""Probes of Cost Explorer, Organizations, AWS Budgets, QuickSight and SES, through the DAG's own request
builders where it has one, each as small as the API allows (Cost Explorer bills $0.01 a request)."""

from __future__ import annotations

from datetime import timedelta

from botocore.exceptions import ClientError

from finops_digest.aws.cost_explorer import build_request
from finops_digest.budgets.forecast import forecast_request, month_end
from finops_digest.cli.probe import Probe, Session
from finops_digest.config import FinopsConfig


def probes(config: FinopsConfig) -> list[Probe]:
    """Cost Explorer, the organisation tree, then the optional features and SES."""
    anomalies = (
        Probe("ce:GetAnomalies", "Cost Anomaly Detection", aws_anomalies)
        if config.aws_anomaly_detection
        else Probe("ce:GetAnomalies", "Cost Anomaly Detection", skip="aws_anomaly_detection is off")
    )
    budgets = (
        Probe(
            "budgets:ViewBudget", "AWS Budgets", read_budgets, absent_ok="allowed (no budgets yet)"
        )
        if config.budgets_from_aws
        else Probe("budgets:ViewBudget", "AWS Budgets", skip="budgets_from_aws is off")
    )
    sender = config.ses_sender or "(no ses_sender)"
    topics = sorted(
        {
            c["topic_arn"]
            for c in [
                *config.channels,
                *(ch for o in config.ou_owners.values() for ch in o["channels"]),
            ]
            if c["type"] == "sns"
        }
    )
    return [
        Probe("ce:GetCostAndUsage", "Cost Explorer", cost_and_usage),
        Probe("ce:GetCostForecast", "Cost Explorer", cost_forecast),
        anomalies,
        Probe("organizations:ListRoots", "the organisation", list_roots),
        Probe("organizations:ListOrganizationalUnitsForParent", "the root", ous_under_root),
        Probe("organizations:ListAccountsForParent", "the root", accounts_under_root),
        budgets,
        *quicksight_probes(config),
        Probe(
            "sns:Publish",
            ", ".join(topics) or "(no sns channel)",
            skip=(
                "SNS has no dry run: only a published message proves it (the first digest does)"
                if topics
                else "no channel of type sns is configured"
            ),
        ),
        Probe(
            "ses:SendRawEmail",
            f"identity {sender}",
            skip="SES has no dry run: only a sent message proves it (the first digest does)",
        ),
    ]


# A job id no snapshot has: describing it proves the permission without starting a job.
_PROBE_JOB_ID = "finops-check-aws-probe"


def quicksight_probes(config: FinopsConfig) -> list[Probe]:
    """The executive snapshot's QuickSight calls on ``quicksight_dashboard_id`` (skipped when
    none is configured); starting a job is not probed: it renders the dashboard."""
    dashboard = config.quicksight_dashboard_id
    actions = (
        "quicksight:DescribeDashboard",
        "quicksight:StartDashboardSnapshotJob",
        "quicksight:DescribeDashboardSnapshotJob",
        "quicksight:DescribeDashboardSnapshotJobResult",
    )
    if not dashboard:
        return [Probe(a, "QuickSight", skip="quicksight_dashboard_id is not set") for a in actions]
    target = f"dashboard {dashboard}"
    absent = "allowed (no such snapshot job, as expected)"
    return [
        Probe(actions[0], target, describe_dashboard),
        Probe(
            actions[1],
            target,
            skip="no dry run: a job renders the dashboard (the first executive snapshot proves it)",
        ),
        Probe(actions[2], target, describe_snapshot_job, absent_ok=absent),
        Probe(actions[3], target, describe_snapshot_job_result, absent_ok=absent),
    ]


def describe_dashboard(s: Session) -> str:
    """The dashboard and its sheets (the snapshot exports the first)."""
    answer = s.client("quicksight").describe_dashboard(
        AwsAccountId=s.account, DashboardId=s.config.quicksight_dashboard_id
    )["Dashboard"]
    sheets = [x.get("Name") or x["SheetId"] for x in answer.get("Version", {}).get("Sheets", [])]
    return f"{answer.get('Name')!r}, sheets: {', '.join(sheets) or 'none'}"


def describe_snapshot_job(s: Session) -> str:
    s.client("quicksight").describe_dashboard_snapshot_job(
        AwsAccountId=s.account,
        DashboardId=s.config.quicksight_dashboard_id,
        SnapshotJobId=_PROBE_JOB_ID,
    )
    return "allowed"


def describe_snapshot_job_result(s: Session) -> str:
    s.client("quicksight").describe_dashboard_snapshot_job_result(
        AwsAccountId=s.account,
        DashboardId=s.config.quicksight_dashboard_id,
        SnapshotJobId=_PROBE_JOB_ID,
    )
    return "allowed"


def cost_and_usage(s: Session) -> str:
    """The DAG's request for one day of the whole organisation, ungrouped: one page, $0.01."""
    c = s.config
    request = build_request(
        None, s.day, s.day + timedelta(days=1), c.cost_metric, c.excluded_record_types, group_by=()
    )
    answer = s.client("ce").get_cost_and_usage(**request)
    for result in answer.get("ResultsByTime", []):
        total = result.get("Total", {}).get(c.cost_metric, {})
        return f"{s.day}: {float(total.get('Amount', 0)):,.2f} {total.get('Unit', '')} ({c.cost_metric})"
    return f"{s.day}: no costs"


def cost_forecast(s: Session) -> str:
    """The DAG's forecast request for the caller's account over the rest of the month, as the
    run of the latest billing day asks (``remaining_period`` of yesterday)."""
    c = s.config
    end = month_end(s.today) + timedelta(days=1)
    request = forecast_request([s.account], s.today, end, c.cost_metric, c.excluded_record_types)
    try:
        answer = s.client("ce").get_cost_forecast(**request)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "DataUnavailableException":
            raise
        return "allowed (too little history to forecast: the DAG falls back to run-rate)"
    return f"forecast {float(answer['Total']['Amount']):,.2f} {answer['Total']['Unit']}"


def aws_anomalies(s: Session) -> str:
    """The day's anomalies, as ``mark_seen_by_aws`` asks for them (first page only)."""
    interval = {"StartDate": s.day.isoformat(), "EndDate": (s.day + timedelta(days=1)).isoformat()}
    answer = s.client("ce").get_anomalies(DateInterval=interval, MaxResults=1)
    return f"{s.day}: {'some' if answer.get('Anomalies') else 'no'} anomalies"


def list_roots(s: Session) -> str:
    """The organisation's root, where the DAG's walk of the OU tree starts."""
    roots = s.client("organizations").list_roots()["Roots"]
    s.found["root"] = roots[0]["Id"] if roots else None
    return f"root {s.found['root']}"


def ous_under_root(s: Session) -> str:
    """The first OU under the root (one page of one)."""
    root = s.need("root", "needs the root id (organizations:ListRoots)")
    answer = s.client("organizations").list_organizational_units_for_parent(
        ParentId=root, MaxResults=1
    )
    ous = answer.get("OrganizationalUnits", [])
    return f"first OU under {root}: {ous[0]['Name']}" if ous else f"no OU under {root}"


def accounts_under_root(s: Session) -> str:
    """The first account directly under the root (the DAG's ``root_ou_name`` pseudo-OU)."""
    root = s.need("root", "needs the root id (organizations:ListRoots)")
    answer = s.client("organizations").list_accounts_for_parent(ParentId=root, MaxResults=1)
    accounts = answer.get("Accounts", [])
    return f"first account under {root}: {accounts[0]['Id']}" if accounts else "none under the root"


def read_budgets(s: Session) -> str:
    """The account's budgets, as ``read_aws_budgets`` pages through them (first page of one)."""
    answer = s.client("budgets").describe_budgets(AccountId=s.account, MaxResults=1)
    return "readable" + (": at least one budget" if answer.get("Budgets") else ": no budgets yet")
