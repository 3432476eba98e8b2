"""Chat delivery against the sandbox's webhooks and SNS: the digest reaches a Slack webhook, a
Teams webhook and an SNS topic with the day's numbers, once per day however often it is re-run;
a flaky destination is retried, a broken one is reported while the others still get theirs, and
no secret of a webhook URL ever appears in a result or an error."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from finops_digest.config import parse_config
from finops_digest.errors import FinopsError
from finops_digest.money import money
from finops_digest.report.chat.delivery import (
    ChannelDeliveryError,
    ChannelsUnavailableError,
    post_to_channels,
    send_to_channels,
)
from finops_digest.report.chat.messages import alert_message, digest_message
from finops_digest.report.chat.retries import RetryPolicy
from finops_digest.store import delivery_record
from sandbox import SANDBOX_DEFAULTS
from tests.unit.chat_context import alert_context, digest_context
from tests.unit.chat_payloads import slack_view, sns_view, teams_view

BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
TOPIC = SANDBOX_DEFAULTS["chat_topic_arn"]
SLACK_TOKEN = "T0SECRET/B0SECRET/SLACKTOKENSECRET"
TEAMS_SIG = "TEAMSSIGNATURESECRET"
SLACK = {"type": "slack", "connection_id": "finops_slack", "name": "#finops"}
TEAMS = {"type": "teams", "connection_id": "finops_teams"}
SNS = {"type": "sns", "topic_arn": TOPIC}
SLACK_ID, TEAMS_ID, SNS_ID = "slack:finops_slack", "teams:finops_teams", f"sns:{TOPIC}"
# Short waits: the behaviour, not the production timings (10 s connect, 30 s read, 1 s backoff).
FAST = RetryPolicy(
    backoff_seconds=0.05, max_retry_after_seconds=1.0, connect_timeout=1.0, read_timeout=0.5
)


@pytest.fixture
def config(sandbox, monkeypatch):
    """The pipeline's settings, and the two webhook connections as Airflow reads them from the
    environment: the Slack webhook's token and the Teams URL's signature are their secrets."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_FINOPS_SLACK",
        json.dumps(
            {
                "conn_type": "slackwebhook",
                "host": f"{sandbox.endpoint_url}/_sandbox/webhooks/slack",
                "password": SLACK_TOKEN,
            }
        ),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_FINOPS_TEAMS",
        json.dumps(
            {
                "conn_type": "http",
                "password": f"{sandbox.endpoint_url}/_sandbox/webhooks/teams/workflows/abc/"
                f"triggers/manual/paths/invoke?api-version=2016-06-01&sig={TEAMS_SIG}",
            }
        ),
    )
    sandbox.reset_faults()
    sandbox.clear_webhook_posts()
    return parse_config({"archive_bucket": BUCKET})


def no_secret(*texts: object) -> None:
    for text in texts:
        assert SLACK_TOKEN.split("/")[-1] not in str(text) and TEAMS_SIG not in str(text)


def test_the_digest_reaches_slack_teams_and_sns_once_with_the_days_numbers(sandbox, config):
    day = date(2025, 9, 14)
    context = digest_context()
    message = digest_message(context, "USD")
    result = send_to_channels(config, [SLACK, TEAMS, SNS], message, kind="daily-digest", day=day)
    assert result["sent"] == [SLACK_ID, TEAMS_ID, SNS_ID] and result["failed"] == {}

    slack_post, teams_post = sandbox.webhook_posts()
    assert slack_post["path"] == "/_sandbox/webhooks/slack/" + SLACK_TOKEN
    assert slack_post["content_type"].startswith("application/json")
    assert teams_post["path"].startswith("/_sandbox/webhooks/teams/")
    (published,) = sandbox.sns_messages()
    assert published["topic_arn"] == TOPIC
    assert published[
        "subject"
    ] == f"[FinOps] Daily cost digest 2025-09-14: {money(context['total'])}" + (
        ", 2 new anomalies, 2 OUs forecast over budget"
    )
    for view in (
        slack_view(slack_post["body"]),
        teams_view(teams_post["body"]),
        sns_view(published["message"]),
    ):
        assert view["facts"]["Day total"] == money(context["total"])
        assert view["facts"]["Month to date"] == money(context["month_to_date"])
        assert len(view["lists"]["New spikes"]) == 2

    # Recorded per destination: a re-run of the day posts nothing twice.
    recorded = delivery_record.already_sent(sandbox_s3(), BUCKET, day, "daily-digest")
    assert recorded == {SLACK_ID, TEAMS_ID, SNS_ID}
    again = send_to_channels(config, [SLACK, TEAMS, SNS], message, kind="daily-digest", day=day)
    assert again["sent"] == [] and again["already_sent"] == [SLACK_ID, TEAMS_ID, SNS_ID]
    assert len(sandbox.webhook_posts()) == 2 and len(sandbox.sns_messages()) == 1
    # Another kind (the alert) is its own delivery, and a channel taking only digests skips it.
    digests_only = {**TEAMS, "kinds": ["digest"]}
    alert = send_to_channels(
        config,
        [SLACK, digests_only],
        alert_message(alert_context(), "USD"),
        kind="anomaly-alert",
        day=day,
    )
    assert alert["sent"] == [SLACK_ID] and alert["skipped"] == [TEAMS_ID]


def sandbox_s3():
    from finops_digest.aws.clients import aws_client

    return aws_client("s3")


def test_a_webhook_answering_500_twice_is_retried_and_delivered(sandbox, config):
    sandbox.fail_webhooks(2, status=500)
    before = sandbox.calls("Webhook")
    result = send_to_channels(
        config,
        [TEAMS],
        digest_message(digest_context(), "USD"),
        kind="daily-digest",
        day=date(2025, 9, 15),
        policy=FAST,
    )
    assert result["sent"] == [TEAMS_ID] and result["failed"] == {}
    assert sandbox.calls("Webhook") - before == 3
    assert len(sandbox.webhook_posts()) == 1


def test_a_429_is_retried_after_the_time_it_asks_for(sandbox, config):
    sandbox.fail_webhooks(1, status=429, retry_after=0.6)
    started = time.monotonic()
    result = send_to_channels(
        config,
        [SLACK],
        digest_message(digest_context(), "USD"),
        kind="daily-digest",
        day=date(2025, 9, 16),
        policy=FAST,
    )
    assert result["sent"] == [SLACK_ID]
    assert time.monotonic() - started >= 0.6  # not the 0.05 s backoff


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"status": 500}, "HTTP 500 HTTP 500, after 3 attempts"),
        ({"status": 504, "delay_seconds": 2.0}, "no answer within 0.5 s, after 3 attempts"),
    ],
    ids=["always-500", "timing-out"],
)
def test_a_destination_that_keeps_failing_is_reported_and_the_others_get_theirs(
    sandbox, config, fault, reason
):
    day = date(2025, 9, 17) if fault["status"] == 500 else date(2025, 9, 18)
    sandbox.fail_webhooks(3, **fault)  # the Slack webhook's three attempts
    message = digest_message(digest_context(), "USD")
    with pytest.raises(ChannelsUnavailableError) as error:
        post_to_channels(
            config, [SLACK, TEAMS, SNS], message, kind="daily-digest", day=day, policy=FAST
        )
    text = str(error.value)
    assert f"{SLACK_ID} ({reason})" in text and "Posted to 2 other(s)" in text
    assert not isinstance(error.value, FinopsError)  # the task's retries run
    no_secret(text)
    assert [p["path"].split("/")[3] for p in sandbox.webhook_posts()] == ["teams"]
    assert [m["topic_arn"] for m in sandbox.sns_messages()].count(TOPIC) >= 1
    # The task's retry (or a re-run) posts to the Slack webhook only.
    result = post_to_channels(
        config, [SLACK, TEAMS, SNS], message, kind="daily-digest", day=day, policy=FAST
    )
    assert result["sent"] == [SLACK_ID] and result["already_sent"] == [TEAMS_ID, SNS_ID]


def test_a_400_is_not_retried_and_fails_for_good_naming_the_destination(sandbox, config):
    sandbox.fail_webhooks(1, status=400)
    before = sandbox.calls("Webhook")
    message = digest_message(digest_context(), "USD")
    result = send_to_channels(
        config, [TEAMS], message, kind="daily-digest", day=date(2025, 9, 19), policy=FAST
    )
    assert sandbox.calls("Webhook") - before == 1
    assert result["failed"] == {TEAMS_ID: "HTTP 400 HTTP 400"} and result["transient"] == []
    sandbox.fail_webhooks(1, status=400)
    with pytest.raises(ChannelDeliveryError, match=r"teams:finops_teams \(HTTP 400 HTTP 400\)"):
        post_to_channels(
            config, [TEAMS], message, kind="daily-digest", day=date(2025, 9, 19), policy=FAST
        )


def test_a_missing_connection_is_named_and_the_others_still_get_theirs(sandbox, config):
    missing = {"type": "slack", "connection_id": "finops_slack_gone"}
    day = date(2025, 9, 20)
    result = send_to_channels(
        config,
        [missing, TEAMS],
        digest_message(digest_context(), "USD"),
        kind="daily-digest",
        day=day,
        policy=FAST,
    )
    assert result["sent"] == [TEAMS_ID]
    (reason,) = result["failed"].values()
    assert "the Airflow connection 'finops_slack_gone' cannot be used" in reason
    no_secret(result)


def test_webhook_posts_faults_and_sns_messages_over_the_control_api(sandbox, config):
    import urllib.error
    import urllib.request

    def call(method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{sandbox.endpoint_url}/_sandbox/{path}", data, method=method
        )
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.headers, answer.read()

    fault = {"operation": "Webhook", "error_code": "rate_limited", "status": 429, "retry_after": 7}
    assert call("POST", "faults", fault)[0] == 200
    with pytest.raises(urllib.error.HTTPError) as limited:
        call("POST", "webhooks/slack/T/B/X", {"text": "x"})
    assert limited.value.code == 429 and limited.value.headers["Retry-After"] == "7"
    assert call("POST", "webhooks/slack/T/B/X", {"text": "hi"})[2] == b"ok"
    assert call("POST", "webhooks/teams/flow", {"type": "message"})[0] == 202
    posts = json.loads(call("GET", "webhooks")[2])
    assert [(p["path"], p["body"]) for p in posts] == [
        ("/_sandbox/webhooks/slack/T/B/X", {"text": "hi"}),
        ("/_sandbox/webhooks/teams/flow", {"type": "message"}),
    ]
    call("DELETE", "webhooks")
    assert sandbox.webhook_posts() == []
    assert json.loads(call("GET", "sns")[2]) == sandbox.sns_messages()
