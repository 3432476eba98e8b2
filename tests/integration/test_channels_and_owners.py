"""Chat channels and OU owners through a real DAG run: the team's Slack, Teams and SNS get the
digest and the alert, each OU's owners their own slice, and a re-run of the day sends nothing
twice.

One DAG run of 2025-09-14 (Marketing's CloudFront spike; Engineering and Marketing forecast over
budget), then the same day again."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date

import pytest

from finops_digest.ingest.cost_rows import from_csv, total
from finops_digest.money import money
from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import returned, run_dag, task_states
from tests.unit.chat_payloads import slack_view, teams_view

DAY = date(2025, 9, 14)
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
BUDGETS = {"Engineering": 150000, "Marketing": 58000, "Data": 250000}
ENGINEERING = ("Engineering", "Engineering/Platform")
TEAM_CHANNELS = [
    {"type": "slack", "connection_id": "finops_slack"},
    {"type": "teams", "connection_id": "finops_teams"},
    {"type": "sns", "topic_arn": SANDBOX_DEFAULTS["chat_topic_arn"]},
]
OWNERS = {
    "Engineering": {
        "emails": ["eng-leads@example.com"],
        "channels": [{"type": "slack", "connection_id": "eng_slack"}],
    },
    "Marketing": {"emails": ["marketing-lead@example.com"]},
}


@pytest.fixture(scope="module")
def finops_config(sandbox):
    config = {
        **pipeline_config(SANDBOX_DEFAULTS),
        "budgets": BUDGETS,
        "channels": TEAM_CHANNELS,
        "ou_owners": OWNERS,
    }
    hooks = f"{sandbox.endpoint_url}/_sandbox/webhooks"
    connections = {
        "FINOPS_SLACK": {
            "conn_type": "slackwebhook",
            "host": f"{hooks}/slack",
            "password": "T0/B0/team",
        },
        "ENG_SLACK": {
            "conn_type": "slackwebhook",
            "host": f"{hooks}/slack",
            "password": "T0/B0/eng",
        },
        "FINOPS_TEAMS": {"conn_type": "http", "password": f"{hooks}/teams/flow?sig=SECRET"},
        "BROKEN_SLACK": {
            "conn_type": "slackwebhook",
            "host": f"{hooks}/slack",
            "password": "T0/B0/broken",
        },
        "LATE_TEAMS": {"conn_type": "http", "password": f"{hooks}/teams/late?sig=SECRET"},
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        for conn_id, conn in connections.items():
            patch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps(conn))
        yield config


@pytest.fixture(scope="module")
def runs(sandbox, airflow_db, finops_config):
    first = run_dag(DAY)
    # dag.test replaces a day's earlier run: read the first run's states before running again.
    states = (first.state, task_states(first))
    sent = {
        "emails": len(sandbox.sent_emails()),
        "posts": len(sandbox.webhook_posts()),
        "sns": len(sandbox.sns_messages()),
    }
    again = run_dag(DAY)
    return {"first": states, "again": again.state, "sent": sent, "run": again}


@pytest.fixture(scope="module")
def day_rows(runs, aws):
    key = "ou-breakdowns/year=2025/month=09/day=14/ou_breakdown.csv"
    body = aws("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return from_csv(body, key)


def emails(sandbox, kind_prefix):
    parsed = [
        email.message_from_bytes(r, policy=email.policy.default) for r in sandbox.sent_emails()
    ]
    return [m for m in parsed if (m["X-FinOps-Kind"] or "").startswith(kind_prefix)]


def posts(sandbox, secret):
    """What was posted to the Slack webhook whose secret path ends with ``secret``: the digest,
    then the alert (they are sent by parallel tasks, in either order)."""
    bodies = [p["body"] for p in sandbox.webhook_posts() if p["path"].endswith(f"/{secret}")]
    return sorted(bodies, key=lambda b: not slack_view(b)["title"].startswith("FinOps daily"))


def test_the_run_succeeds_with_channels_and_owners(runs):
    state, states = runs["first"]
    assert state == "success", states
    assert states["send_owner_digests"] == "success"
    assert states["send_owner_alerts"] == "success"
    assert runs["again"] == "success"


def test_the_teams_slack_channel_gets_the_days_numbers(runs, sandbox, day_rows):
    digest, alert = map(slack_view, posts(sandbox, "team"))
    assert digest["title"] == "FinOps daily digest \u00b7 2025-09-14"
    assert digest["facts"]["Day total"] == money(total(day_rows))
    by_ou = {name for name, _, _ in digest["lists"]["Month to date by OU"]}
    assert {"Marketing", "Engineering", "Engineering/Platform"} <= by_ou
    [spike] = alert["lists"]["New spikes"]
    assert spike[0] == "Marketing / Amazon CloudFront"
    breaches = {name for name, _, _ in alert["lists"]["Forecast over budget for September 2025"]}
    assert breaches == {"Engineering", "Marketing"}


def test_teams_and_sns_get_the_digest_and_the_alert(runs, sandbox, day_rows):
    teams = [teams_view(p["body"]) for p in sandbox.webhook_posts() if "/teams/" in p["path"]]
    by_title = {card["title"].split(" \u00b7 ")[0]: card for card in teams}
    assert set(by_title) == {"FinOps daily digest", "FinOps cost alert"}
    assert by_title["FinOps daily digest"]["facts"]["Day total"] == money(total(day_rows))
    assert by_title["FinOps cost alert"]["facts"]["New spikes"] == "1"
    published = {m["subject"].split(" ")[1]: m["message"] for m in sandbox.sns_messages()}
    assert set(published) == {"Daily", "1"}
    assert money(total(day_rows)) in published["Daily"]
    assert "Amazon CloudFront" in published["1"]


def test_an_engineering_owner_gets_engineering_and_its_child_ous_only(runs, sandbox, day_rows):
    digests = {m["To"]: m for m in emails(sandbox, "owner-digest-")}
    assert set(digests) == {"eng-leads@example.com", "marketing-lead@example.com"}
    message = digests["eng-leads@example.com"]
    mine = [r for r in day_rows if r.ou in ENGINEERING]
    assert money(total(mine)) in message["Subject"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Engineering/Platform" in html and "Engineering/Platform" in text
    assert "Marketing" not in html and "Marketing" not in text
    [attachment] = [p for p in message.iter_attachments() if p.get_filename().endswith(".csv")]
    attached = from_csv(attachment.get_content().encode(), "attachment")
    assert {r.ou for r in attached} == set(ENGINEERING)
    assert total(attached) == total(mine)
    slack = slack_view(posts(sandbox, "eng")[0])
    assert slack["title"] == "FinOps daily digest \u00b7 Engineering \u00b7 2025-09-14"
    assert slack["facts"]["Day total"] == money(total(mine))
    assert {name for name, _, _ in slack["lists"]["Month to date by OU"]} <= set(ENGINEERING)
    assert "Marketing" not in json.dumps(posts(sandbox, "eng")[0])


def test_each_owner_is_alerted_of_their_own_spikes_and_breaches_only(runs, sandbox):
    alerts = {m["To"]: m for m in emails(sandbox, "owner-alert-")}
    assert set(alerts) == {"eng-leads@example.com", "marketing-lead@example.com"}
    marketing = alerts["marketing-lead@example.com"].get_body(("plain",)).get_content()
    assert "Amazon CloudFront" in marketing and "Engineering" not in marketing
    engineering = alerts["eng-leads@example.com"].get_body(("plain",)).get_content()
    assert "forecast over budget" in alerts["eng-leads@example.com"]["Subject"]
    assert "Marketing" not in engineering and "CloudFront" not in engineering
    eng_posts = posts(sandbox, "eng")
    assert len(eng_posts) == 2  # the slice of the digest and the alert
    assert "Marketing" not in json.dumps(eng_posts[1])


def test_a_rerun_of_the_day_sends_nothing_twice(runs, sandbox):
    assert runs["sent"] == {
        "emails": len(sandbox.sent_emails()),
        "posts": len(sandbox.webhook_posts()),
        "sns": len(sandbox.sns_messages()),
    }
    assert runs["sent"]["posts"] == 6  # team: Slack and Teams x (digest, alert); Engineering: 2


def test_a_failing_channel_is_retried_then_reported_and_the_email_still_goes(runs, sandbox):
    """The run's own digest task, with a new reader and two new channels, one of them down: the
    email and the working channel get the digest, the broken one is tried 3 times, then named
    in the task's error (a retryable one, so Airflow's retries post what is missing)."""
    from finops_digest.report.fan_out import DeliveriesIncompleteError
    from finops_digest.tasks import notify

    plan = returned(runs["run"], "plan_run")
    plan["config"] = {
        **plan["config"],
        "digest_recipients": ["late-reader@example.com"],
        "channels": [
            {"type": "slack", "connection_id": "broken_slack"},
            {"type": "teams", "connection_id": "late_teams"},
        ],
    }
    before = sandbox.calls("Webhook")
    sandbox.fail_webhooks(count=3, status=500)
    with pytest.raises(DeliveriesIncompleteError) as error:
        notify.send_daily_digest(
            plan, returned(runs["run"], "build_report"), returned(runs["run"], "check_quality_gate")
        )
    assert "slack:broken_slack" in str(error.value) and "SECRET" not in str(error.value)
    assert sandbox.calls("Webhook") - before == 4  # 3 tries of the broken one, 1 post of Teams
    assert [p["path"] for p in sandbox.webhook_posts()][-1].endswith("/teams/late")
    [late] = [m for m in emails(sandbox, "daily-digest") if m["To"] == "late-reader@example.com"]
    assert "Daily cost digest 2025-09-14" in late["Subject"]
