"""The digest, the budget alerts and the executive snapshot as sent, checked from the MIME.

One DAG run of 2025-09-14 (the spike day) with budgets that give every light, then one of
2025-09-15 (the breaching OUs were alerted already: no second budget alert)."""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from finops_digest.budgets.forecast import forecast_request
from finops_digest.ingest.cost_rows import from_csv
from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import run_dag, task_states

DAY, NEXT_DAY = date(2025, 9, 14), date(2025, 9, 15)
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
PREFIX = "ou-breakdowns/year=2025/month=09/day=14/"
EXCLUDED = ("Credit", "Refund", "Tax")
BUDGETS = {
    "Data": 250000,  # far above the forecast: green
    "Engineering": 150000,  # below the forecast: red
    "Engineering/Platform": 66000,  # above the forecast, inside its interval: amber
    "Marketing": 58000,  # red
    "Sandbox": 1000,  # an OU without accounts: green at $0
    "Retired": 500,  # no such OU: shown, never hidden
}
EXECUTIVE = "cfo-office@example.com"


@pytest.fixture(scope="module")
def finops_config():
    config = {
        **pipeline_config(SANDBOX_DEFAULTS),
        "budgets": BUDGETS,
        "executive_recipients": [EXECUTIVE],
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        yield config


@pytest.fixture(scope="module")
def runs(sandbox, airflow_db, finops_config):
    states = {}
    for day in (DAY, NEXT_DAY):
        dag_run = run_dag(day)
        states[day] = (dag_run.state, task_states(dag_run))
    return states


def messages(sandbox, kind, day=DAY):
    parsed = [
        email.message_from_bytes(r, policy=email.policy.default) for r in sandbox.sent_emails()
    ]
    return [
        m for m in parsed if m["X-FinOps-Kind"] == kind and m["X-FinOps-Billing-Date"] == str(day)
    ]


def money(value):
    return f"${Decimal(value).quantize(Decimal('0.01')):,.2f}"


@pytest.fixture(scope="module")
def expected(runs, sandbox):
    """Every figure computed independently: from the sandbox's own data and Cost Explorer."""
    import boto3

    org = sandbox.organization
    mtd = defaultdict(Decimal)
    for n in range(1, DAY.day + 1):
        for line in org.cost_lines(date(2025, 9, n)):
            if line.record_type not in EXCLUDED:
                ou = org.ou_path_of(line.account_id) or "Root"
                mtd[ou] += line.amounts["NetAmortizedCost"]
    ce = boto3.client("ce", endpoint_url=sandbox.endpoint_url, region_name="us-east-1")
    ous = {}
    for ou in org.ous:
        accounts = [a.id for a in org.accounts_in(ou.id)]
        ous[ou.path] = accounts
    ous["Root"] = [a.id for a in org.accounts if org.ou_path_of(a.id) is None]
    forecasts = {}
    for path, accounts in ous.items():
        if not accounts:
            forecasts[path] = (mtd[path], mtd[path], mtd[path])
            continue
        answer = ce.get_cost_forecast(
            **forecast_request(accounts, NEXT_DAY, date(2025, 10, 1), "NetAmortizedCost", EXCLUDED)
        )["ForecastResultsByTime"][0]
        forecasts[path] = tuple(
            mtd[path] + Decimal(answer[k])
            for k in ("MeanValue", "PredictionIntervalLowerBound", "PredictionIntervalUpperBound")
        )
    lights = {}
    for path, budget in BUDGETS.items():
        mean, _, upper = forecasts.get(path, (Decimal(0),) * 3)
        lights[path] = "red" if mean > budget else ("green" if upper <= budget else "amber")
    return {"mtd": mtd, "forecasts": forecasts, "lights": lights}


def test_runs_succeed_and_alert_budgets_only_once_a_month(runs):
    state, states = runs[DAY]
    assert state == "success", states
    for task in ("forecast_month_end", "send_anomaly_alert", "send_daily_digest"):
        assert states[task] == "success", task
    assert states["send_executive_snapshot"] == "success"
    state, states = runs[NEXT_DAY]
    assert state == "success", states
    # No new spike on the 15th, and the breaching OUs were alerted on the 14th.
    assert states["no_anomaly"] == "success" and states["send_anomaly_alert"] == "skipped"


def test_budget_lights_follow_the_forecast_interval(runs, aws, expected):
    document = json.loads(
        aws("s3").get_object(Bucket=BUCKET, Key=PREFIX + "forecast.json")["Body"].read()
    )
    rows = {r["ou"]: r for r in document["ous"]}
    assert expected["lights"] == {
        "Data": "green",
        "Engineering": "red",
        "Engineering/Platform": "amber",
        "Marketing": "red",
        "Sandbox": "green",
        "Retired": "green",
    }, "the budgets no longer give every light: adjust BUDGETS"
    for path, light in expected["lights"].items():
        assert rows[path]["light"] == light, path
    for path, (mean, lower, upper) in expected["forecasts"].items():
        assert Decimal(rows[path]["forecast"]) == mean, path
        assert (Decimal(rows[path]["lower"]), Decimal(rows[path]["upper"])) == (lower, upper)
        assert rows[path]["method"] in ("cost-explorer", "actuals")
    assert rows["Security"]["light"] is None and rows["Security"]["budget"] is None
    assert rows["Retired"]["note"] == "not in the organisation"
    assert document["new_budget_breaches"] == ["Engineering", "Marketing"]


def test_digest_mime_has_text_html_inline_charts_and_the_csv(runs, sandbox, aws):
    [digest] = messages(sandbox, "daily-digest")
    assert digest.get_content_type() == "multipart/mixed"
    html_part = digest.get_body(("html",))
    html = html_part.get_content()
    related = next(p for p in digest.walk() if p.get_content_type() == "multipart/related")
    images = {
        p["Content-ID"].strip("<>"): p.get_content()
        for p in related.iter_parts()
        if p["Content-ID"]
    }
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    assert referenced == set(images) and len(images) == 2
    for data in images.values():
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert "<style" not in html and "<script" not in html
    [attachment] = list(digest.iter_attachments())
    archived = aws("s3").get_object(Bucket=BUCKET, Key=PREFIX + "ou_breakdown.csv")["Body"].read()
    content = attachment.get_content()
    assert (content.encode() if isinstance(content, str) else content) == archived
    assert "over budget" in digest["Subject"]


def test_digest_numbers_agree_with_the_csv_and_the_forecast(runs, sandbox, aws, expected):
    [digest] = messages(sandbox, "daily-digest")
    html = digest.get_body(("html",)).get_content()
    text = digest.get_body(("plain",)).get_content()
    archived = aws("s3").get_object(Bucket=BUCKET, Key=PREFIX + "ou_breakdown.csv")["Body"].read()
    rows = from_csv(archived, "csv")
    per_ou = defaultdict(Decimal)
    for row in rows:
        per_ou[row.ou] += row.daily_cost
    total = sum(per_ou.values())
    month_to_date = sum(expected["mtd"].values())
    forecast = sum(mean for mean, _, _ in expected["forecasts"].values())
    for figure in (total, month_to_date, forecast, *per_ou.values(), sum(BUDGETS.values())):
        assert money(figure) in html and money(figure) in text, figure
    for path, mtd in expected["mtd"].items():
        assert money(mtd) in html and money(expected["forecasts"][path][0]) in text, path
    assert html.count(">Over budget<") == 2 and html.count(">At risk<") == 1
    assert "Engineering/Platform" in text and "At risk" in text
    line = next(x for x in text.splitlines() if x.strip().startswith("Security"))
    assert "No budget" in line


def test_alert_carries_the_budget_breaches_and_the_memory_is_kept(runs, sandbox, aws, expected):
    [alert] = messages(sandbox, "anomaly-alert")
    text = alert.get_body(("plain",)).get_content()
    for path in ("Engineering", "Marketing"):
        assert f"{path}: month-end forecast {money(expected['forecasts'][path][0])}" in text
    assert "Engineering/Platform" not in text  # amber is not a breach
    assert not messages(sandbox, "anomaly-alert", NEXT_DAY)
    state = json.loads(
        aws("s3").get_object(Bucket=BUCKET, Key="state/budget-alerts/2025-09.json")["Body"].read()
    )
    assert {ou: s["billing_date"] for ou, s in state["alerted"].items()} == {
        "Engineering": "2025-09-14",
        "Marketing": "2025-09-14",
    }


def test_executive_snapshot_is_archived_and_mailed_with_the_same_numbers(
    runs, sandbox, aws, expected
):
    from pypdf import PdfReader

    s3 = aws("s3")
    key = PREFIX + "executive_snapshot.pdf"
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
    assert len(versions) == 1
    pdf = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    [mail] = messages(sandbox, "executive-snapshot")
    assert mail["To"] == EXECUTIVE
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    archived = s3.get_object(Bucket=BUCKET, Key=PREFIX + "ou_breakdown.csv")["Body"].read()
    assert money(sum(r.daily_cost for r in from_csv(archived, "csv"))) in text
    assert money(sum(expected["mtd"].values())) in text
    lines = text.splitlines()
    words = {"green": "On track", "amber": "At risk", "red": "Over budget"}
    for path, light in expected["lights"].items():
        mean = expected["forecasts"].get(path, (Decimal(0),))[0]
        [row] = [x for x in lines if x.startswith(path + " $")]
        assert money(mean) in row and row.endswith(words[light]), row
    assert "Top 5 movers" in text and "Daily cost by OU, last 30 days" in text


def test_accounts_appear_by_name_and_id_and_amounts_beside_impacts_agree(runs, sandbox, aws):
    from pypdf import PdfReader

    # As Organizations names them (moto calls the management account "master").
    pages = aws("organizations").get_paginator("list_accounts").paginate()
    names = {a["Id"]: a["Name"] for page in pages for a in page["Accounts"]}
    [spike] = sandbox.organization.spikes
    label = f"{names[spike.account_id]} ({spike.account_id})"
    [alert] = messages(sandbox, "anomaly-alert")
    text = alert.get_body(("plain",)).get_content()
    report = json.loads(
        aws("s3").get_object(Bucket=BUCKET, Key=PREFIX + "anomalies.json")["Body"].read()
    )
    [found] = [a for a in report["anomalies"] if a["status"] == "new"]
    [driver] = found["drivers"]
    assert driver["account"] == spike.account_id and driver["share"] == 1.0
    # A single driver at 100% of the impact is the impact, to the cent.
    assert f"{label}: +{money(found['impact'])} (100.0% of impact)" in text
    assert sum(Decimal(u["impact"]) for u in found["usage_types"]) <= Decimal(found["impact"])

    [digest] = messages(sandbox, "daily-digest")
    body = digest.get_body(("plain",)).get_content()
    top = body.split("cost lines\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(top) == 10
    for line in top:
        account = re.search(r"\((\d{12})\): \$", line).group(1)
        assert f"/ {names[account]} ({account}): $" in line, line
    assert re.search(r", mostly .+ \(\d{12}\)\n", body), body.split("Top movers", 1)[1][:800]

    pdf = aws("s3").get_object(Bucket=BUCKET, Key=PREFIX + "executive_snapshot.pdf")["Body"].read()
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    mostly = re.findall(r"mostly (.+) \((\d{12})\)", pdf_text)
    assert mostly and all(names[account] == name for name, account in mostly)
