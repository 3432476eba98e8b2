"""With ``dashboard_url`` set, the digest and the alert a real DAG run sends link to the
dashboard: each OU row to the OU's month to date, the day's spike to its two weeks."""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from finops_digest.ingest.cost_rows import from_csv
from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import run_dag, task_states

DAY = date(2025, 9, 14)  # the sandbox's spike day
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
PREFIX = "ou-breakdowns/year=2025/month=09/day=14/"
DASHBOARD = "https://finops.example.com/drill"


@pytest.fixture(scope="module")
def finops_config():
    config = {**pipeline_config(SANDBOX_DEFAULTS), "dashboard_url": DASHBOARD}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        yield config


@pytest.fixture(scope="module")
def run(sandbox, airflow_db, finops_config):
    dag_run = run_dag(DAY)
    states = task_states(dag_run)
    assert dag_run.state == "success", states
    return states


def sent(sandbox, kind):
    [message] = [
        m
        for m in (
            email.message_from_bytes(raw, policy=email.policy.default)
            for raw in sandbox.sent_emails()
        )
        if m["X-FinOps-Kind"] == kind and m["X-FinOps-Billing-Date"] == str(DAY)
    ]
    return message


def state(link):
    """The dashboard state ``link`` opens (its query), checking it opens the dashboard."""
    url = urlsplit(link)
    assert f"{url.scheme}://{url.netloc}{url.path}" == DASHBOARD, link
    return {k: v for k, [v] in parse_qs(url.query, strict_parsing=True).items()}


def anchors(page):
    """``{link text: [dashboard state, ...]}`` of the page's links (all to the dashboard)."""
    found = {}
    for href, text in re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', page):
        found.setdefault(html.unescape(text), []).append(state(html.unescape(href)))
    return found


def test_every_ou_row_of_the_digest_links_to_the_ous_month_to_date(run, sandbox, aws):
    digest = sent(sandbox, "daily-digest")
    found = anchors(digest.get_body(("html",)).get_content())
    archived = aws("s3").get_object(Bucket=BUCKET, Key=PREFIX + "ou_breakdown.csv")["Body"].read()
    ous = {row.ou for row in from_csv(archived, "csv")}
    assert len(ous) > 1
    for ou in ous:
        assert {"ou": ou, "from": "2025-09-01", "to": "2025-09-14"} in found[ou], ou
    # The text part: each OU row's link on the line after it.
    lines = digest.get_body(("plain",)).get_content().splitlines()
    for ou in ous:
        [row] = [i for i, line in enumerate(lines) if line.startswith(f"  {ou} ")]
        assert state(lines[row + 1].strip()) == {"ou": ou, "from": "2025-09-01", "to": "2025-09-14"}


def test_the_alerted_spike_links_to_its_two_weeks_and_its_driving_account(run, sandbox, aws):
    report = json.loads(
        aws("s3").get_object(Bucket=BUCKET, Key=PREFIX + "anomalies.json")["Body"].read()
    )
    [spike] = [a for a in report["anomalies"] if a["status"] == "new"]
    found = anchors(sent(sandbox, "anomaly-alert").get_body(("html",)).get_content())
    assert found[f"{spike['ou']} / {spike['service']}"] == [
        {
            "ou": spike["ou"],
            "service": spike["service"],
            "account": spike["drivers"][0]["account"],
            "from": "2025-09-01",
            "to": "2025-09-14",
        }
    ]
