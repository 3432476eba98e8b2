"""The weekly digest and the month-close report against the sandbox, over five weeks archived
the way the DAG archives them (its own task functions, called in-process: the ingest, catalog
and analysis stages, without Airflow's scheduling), with one day never archived, one day
restated after its digest, two spikes, and an OU renamed (to a name holding markup) in the last
week. Their figures are checked against independent Athena sums written here; both are sent
once; their HTML is rendered to PNG in headless Chromium under ``test-output/periodic/``."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from finops_digest.config import parse_config
from finops_digest.ingest import restatements
from finops_digest.ingest.cost_rows import from_csv
from finops_digest.money import cents
from finops_digest.report.periods import days_of
from finops_digest.store import layout
from finops_digest.tasks.periodic import send_month_close_report, send_weekly_digest
from sandbox import SANDBOX_DEFAULTS, Organization, Spike
from scripts import demo
from scripts.archive_days import archive_days, plan
from scripts.demo import DEMO_SETTINGS
from scripts.local_env import pipeline_config

BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
FIRST, LAST = date(2025, 10, 27), date(2025, 12, 3)
MISSING = date(2025, 11, 19)  # never archived: in the weekly digest's week before, and November
RESTATED = date(2025, 11, 12)
RESTATEMENT = Decimal("123.45")
RENAMED_ON = date(2025, 11, 27)
NEW_NAME = "Sales & Partners <b>"
# Days whose analysis stage runs (history, spikes, forecast and budgets): the spike days and the
# last day of November, whose budget rows the reports read.
ANALYSED = {date(2025, 11, 10), date(2025, 11, 25), date(2025, 11, 30)}
WEEKLY_DAY, CLOSE_DAY = date(2025, 12, 1), date(2025, 12, 3)
WEEK = (date(2025, 11, 24), date(2025, 11, 30))
LAST_WEEK = (date(2025, 11, 17), date(2025, 11, 23))
NOVEMBER = (date(2025, 11, 1), date(2025, 11, 30))
OCTOBER = (date(2025, 10, 1), date(2025, 10, 31))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "periodic"
CHROMIUM = demo.CHROMIUM


def _organization() -> Organization:
    org = Organization.synthetic()
    marketing = org.ou_by_path("Marketing")
    account = lambda ou: next(a.id for a in org.accounts if a.parent_id == ou.id)  # noqa: E731
    org.spikes += [
        Spike(
            date(2025, 11, 25), "Marketing", "Amazon CloudFront", account(marketing), Decimal(2500)
        ),
        Spike(
            date(2025, 11, 10), "Marketing", "Amazon CloudFront", account(marketing), Decimal(4000)
        ),
    ]
    return org


SANDBOX_OPTIONS = {"organization": _organization()}


@pytest.fixture(scope="module")
def archive(sandbox, aws):
    org = aws("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    [sales] = [
        ou
        for ou in org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
        if ou["Name"] == "Sales"
    ]
    budgets = {k: v for k, v in DEMO_SETTINGS["budgets"].items() if k != "Sales"}
    # By id: the renamed OU keeps its budget.
    budgets[sales["Id"]] = DEMO_SETTINGS["budgets"]["Sales"]
    config = parse_config({**pipeline_config(SANDBOX_DEFAULTS), "budgets": budgets})
    started = time.monotonic()
    before = [d for d in days_of(FIRST, RENAMED_ON - timedelta(days=1)) if d != MISSING]
    archive_days(config, before, ANALYSED)
    # Sales is renamed: the days from then on are archived under its new name.
    org.update_organizational_unit(OrganizationalUnitId=sales["Id"], Name=NEW_NAME)
    archive_days(config, days_of(RENAMED_ON, LAST), ANALYSED)
    # Cost Explorer restated a November day after its digest: a later run re-archives it.
    s3 = aws("s3")
    key = layout.archive_key(RESTATED)
    rows = from_csv(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read(), key)
    rows[0] = replace(rows[0], daily_cost=rows[0].daily_cost + RESTATEMENT)
    [entry] = restatements.restate_days(
        s3,
        BUCKET,
        RESTATED + timedelta(days=1),
        1,
        lambda day: [r for r in rows if r.billing_date == day],
        config.provenance(RESTATED),
        "test",
    )
    assert Decimal(entry["delta"]) == RESTATEMENT
    print(f"archived {FIRST}..{LAST} in {time.monotonic() - started:.0f} s")
    return config


def athena(aws, sql: str) -> list[dict]:
    """An independent Athena query (boto3, no code of the reports): its rows as text."""
    client = aws("athena")
    qid = client.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": SANDBOX_DEFAULTS["glue_database"]},
        ResultConfiguration={"OutputLocation": SANDBOX_DEFAULTS["athena_output_location"]},
        WorkGroup=SANDBOX_DEFAULTS["athena_workgroup"],
    )["QueryExecutionId"]
    while True:
        status = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.1)
    assert status["State"] == "SUCCEEDED", status
    rows = client.get_paginator("get_query_results").paginate(QueryExecutionId=qid)
    out, header = [], None
    for page in rows:
        for row in page["ResultSet"]["Rows"]:
            values = [c.get("VarCharValue") for c in row["Data"]]
            if header is None:
                header = values
            else:
                out.append(dict(zip(header, values, strict=True)))
    return out


# Sales's costs before the rename count under its new name: the reports group by OU id.
OU = f"CASE WHEN ou = 'Sales' THEN '{NEW_NAME}' ELSE ou END"


def sums(aws, key: str, start: date, end: date) -> dict[str, Decimal]:
    """Athena's SUM(dailycost) per ``key`` (an SQL expression) over ``start``..``end``."""
    rows = athena(
        aws,
        f"SELECT {key} AS k, SUM(dailycost) AS cost FROM ou_breakdown "
        f"WHERE billingdate BETWEEN DATE '{start}' AND DATE '{end}' GROUP BY 1",
    )
    return {r["k"]: Decimal(r["cost"]) for r in rows}


def messages(sandbox, kind: str) -> list[email.message.EmailMessage]:
    parsed = [
        email.message_from_bytes(m, policy=email.policy.default) for m in sandbox.sent_emails()
    ]
    return [m for m in parsed if m["X-FinOps-Kind"] == kind]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


MONEY = r"-?\$[\d,]+\.\d\d"


def amount(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def section(text: str, title: str) -> list[str]:
    """The indented lines under a heading of the plain-text email."""
    lines = text.split(title + "\n", 1)[1].splitlines()
    out = []
    for line in lines:
        if not line.startswith("  "):
            break
        out.append(line)
    return out


def screenshot(name: str, html: str, text: str) -> Path:
    """The email's HTML as Chromium renders it (the demo's screenshot), saved under SCREENSHOTS
    with its text part."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = SCREENSHOTS / f"{name}.html"
    page.write_text(html)
    (SCREENSHOTS / f"{name}.txt").write_text(text)
    png = SCREENSHOTS / f"{name}.png"
    demo.screenshot(page, png)
    assert png.stat().st_size > 10_000
    return png


def test_the_weekly_digest_adds_up_to_athenas_sums_and_goes_once(archive, sandbox, aws):
    config = archive
    assert send_weekly_digest(plan(config, WEEKLY_DAY - timedelta(days=1)))["sent"] is False
    result = send_weekly_digest(plan(config, WEEKLY_DAY))
    assert result["sent"] is True and result["recipients"] == 1
    [message] = messages(sandbox, "weekly-digest")
    text = text_of(message)

    week = cents(sums(aws, "'all'", *WEEK)["all"])
    before = cents(sums(aws, "'all'", *LAST_WEEK)["all"])
    assert f"Week total:         ${week:,.2f} (7 of 7 days archived)" in text
    assert f"from ${before:,.2f}" in text

    by_ou, by_ou_before = sums(aws, OU, *WEEK), sums(aws, OU, *LAST_WEEK)
    shown = {}
    for line in section(text, "Cost per OU")[1:-1]:
        name, now, then = re.match(rf"  (.+?)\s+({MONEY})\s+({MONEY})\s", line).groups()
        shown[name] = (amount(now), amount(then))
    assert shown == {
        ou: (cents(by_ou.get(ou, Decimal(0))), cents(by_ou_before.get(ou, Decimal(0))))
        for ou in set(by_ou) | set(by_ou_before)
    }
    assert NEW_NAME in shown and "Sales" not in shown

    by_service = sums(aws, "service", *WEEK)
    services = {}
    for line in section(text, "Cost per service"):
        name, now = re.match(rf"  (.+?)\s+({MONEY})", line).groups()
        services[name] = amount(now)
    others = {k: v for k, v in services.items() if re.fullmatch(r"\d+ other services", k)}
    listed = {k: v for k, v in services.items() if k not in others}
    assert all(cents(by_service[k]) == v for k, v in listed.items())
    assert sum(others.values()) == cents(sum(v for k, v in by_service.items() if k not in listed))

    # The day not archived (in the week before) is named; the week's spike with its status.
    assert "Not archived the week before: Wed 19 Nov" in text
    assert re.search(r"Marketing / Amazon CloudFront: flagged 2025-11-25.*\[new\]", text)
    # Month to date vs budget as of the week's last day, the renamed OU under its new name.
    assert "Month to date vs budget as of 2025-11-30" in text
    assert re.search(rf"  {re.escape(NEW_NAME)}\s+{MONEY} of\s+\$130,000.00", text)
    html = html_of(message)
    assert "Sales &amp; Partners &lt;b&gt;" in html and NEW_NAME not in html
    screenshot("weekly_digest", html, text)

    # A re-run of the day sends nothing again.
    again = send_weekly_digest(plan(config, WEEKLY_DAY))
    assert again["sent"] is False and again["already_sent"] == 1
    assert len(messages(sandbox, "weekly-digest")) == 1


def test_the_month_close_report_adds_up_and_names_what_changed(archive, sandbox, aws):
    config = archive
    skipped = send_month_close_report(plan(config, CLOSE_DAY - timedelta(days=1)))
    assert skipped["sent"] is False and "not day 3" in skipped["skipped"]
    assert messages(sandbox, "month-close") == []
    result = send_month_close_report(plan(config, CLOSE_DAY))
    assert result["sent"] is True
    [message] = messages(sandbox, "month-close")
    text = text_of(message)

    month = cents(sums(aws, "'all'", *NOVEMBER)["all"])
    assert f"Month total:     ${month:,.2f} (29 of 30 days archived)" in text
    assert "Not archived in November: 2025-11-19" in text
    # October is only partly archived: its days before the archive began are named.
    assert "Not archived in October: 2025-10-01" in text

    by_ou, by_ou_before = sums(aws, OU, *NOVEMBER), sums(aws, OU, *OCTOBER)
    rows = {}
    pattern = (
        rf"  (.+?)\s+({MONEY})\s+({MONEY}|-)\s+(On track|At risk|Over budget|No budget)"
        rf"\s+({MONEY})\s+[+-]{MONEY[2:]}"
    )
    for line in section(text, "Cost per OU")[1:-1]:
        name, cost, budget, light, previous = re.match(pattern, line).groups()
        rows[name] = (amount(cost), budget, light, amount(previous))
    assert set(rows) >= set(by_ou) and NEW_NAME in rows
    for ou, (cost, budget, light, previous) in rows.items():
        # Each OU's month is its chargeback lines' sum: within a cent of Athena's.
        assert abs(cost - by_ou.get(ou, Decimal(0))) <= Decimal("0.01"), ou
        assert previous == cents(by_ou_before.get(ou, Decimal(0))), ou
        if budget != "-":
            assert light == ("Over budget" if cost > amount(budget) else "On track"), ou
    assert rows[NEW_NAME][1] == "$130,000.00"
    assert sum(r[0] for r in rows.values()) == month

    # The restated day, with the delta between its first and its current archived CSV.
    assert f"{RESTATED}: +${RESTATEMENT}" in text
    # The spikes first reported in November, largest first.
    spikes = re.findall(r"  - (2025-11-\d\d) Marketing / Amazon CloudFront: ", text)
    assert spikes == ["2025-11-10", "2025-11-25"]

    # The chargeback: attached and archived, adding up to Athena's month to the cent.
    [attachment] = [p for p in message.iter_attachments() if p.get_filename()]
    assert attachment.get_filename() == "chargeback_2025-11.csv"
    attached = attachment.get_content()
    attached = attached.decode() if isinstance(attached, bytes) else attached
    s3 = aws("s3")
    key = layout.chargeback_key(NOVEMBER[0])
    assert key == "reports/month-close/year=2025/month=11/chargeback.csv"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode() == attached
    lines = list(csv.DictReader(io.StringIO(attached)))
    assert sum(Decimal(r["MonthlyCost"]) for r in lines) == month
    independent = {
        (r["ou"], r["service"], r["linkedaccount"]): cents(Decimal(r["cost"]))
        for r in athena(
            aws,
            f"SELECT {OU} AS ou, service, linkedaccount, SUM(dailycost) AS cost "
            f"FROM ou_breakdown WHERE billingdate BETWEEN DATE '{NOVEMBER[0]}' "
            f"AND DATE '{NOVEMBER[1]}' GROUP BY 1, 2, 3",
        )
    }
    mine = {(r["OU"], r["Service"], r["LinkedAccount"]): Decimal(r["MonthlyCost"]) for r in lines}
    assert mine.keys() == independent.keys()
    assert all(abs(mine[k] - independent[k]) <= Decimal("0.01") for k in mine)
    per_ou = defaultdict(Decimal)
    for (ou, _, _), cost in mine.items():
        per_ou[ou] += cost
    assert {ou: cost for ou, cost in per_ou.items()} == {
        ou: row[0] for ou, row in rows.items() if row[0]
    }
    assert [r["Month"] for r in lines] == ["2025-11"] * len(lines)
    order = [(r["OU"], -Decimal(r["MonthlyCost"]), r["Service"], r["LinkedAccount"]) for r in lines]
    assert order == sorted(order)
    screenshot("month_close", html_of(message), text)

    # A re-run sends nothing twice, and archives the file as a new version (never overwrites).
    again = send_month_close_report(plan(config, CLOSE_DAY))
    assert again["sent"] is False and again["already_sent"] == 1
    assert len(messages(sandbox, "month-close")) == 1
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
    assert len(versions) == 2
