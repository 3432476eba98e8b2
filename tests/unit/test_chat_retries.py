"""A chat post is retried only when a retry can help (5xx, 429, timeouts), a bounded number of
times, waiting as a 429's Retry-After asks (up to a cap); any other 4xx fails at once."""

from __future__ import annotations

import pytest

from finops_digest.report.chat.destinations import ChannelConfigError, destination
from finops_digest.report.chat.retries import (
    PermanentFailure,
    RetryPolicy,
    TransientFailure,
    parse_retry_after,
    refusal,
    with_retries,
)

POLICY = RetryPolicy(attempts=3, backoff_seconds=1.0, max_retry_after_seconds=30.0)


def run(answers):
    """with_retries over ``answers`` (an id, or a failure to raise), recording the waits."""
    waits, calls = [], iter(answers)

    def post():
        answer = next(calls)
        if isinstance(answer, Exception):
            raise answer
        return answer

    try:
        return with_retries(post, POLICY, "posting to slack:x", sleep=waits.append), waits
    except Exception as exc:  # noqa: BLE001 - the test looks at it
        return exc, waits


def test_5xx_twice_then_ok_is_delivered_after_an_exponential_backoff():
    assert run([refusal(500, "boom"), refusal(503, ""), "m-1"]) == ("m-1", [1.0, 2.0])


def test_a_429_waits_as_retry_after_asks_up_to_the_cap():
    assert run([refusal(429, "", "4"), "m-1"]) == ("m-1", [4.0])
    assert run([refusal(429, "", "3600"), "m-1"]) == ("m-1", [30.0])


def test_three_transient_failures_give_up_saying_so():
    error, waits = run([refusal(500, "a")] * 3)
    assert isinstance(error, TransientFailure) and waits == [1.0, 2.0]
    assert error.reason == "HTTP 500 a, after 3 attempts"


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_other_4xx_are_not_retried(status):
    error, waits = run([refusal(status, "invalid_payload"), "never"])
    assert isinstance(error, PermanentFailure) and waits == []
    assert error.reason == f"HTTP {status} invalid_payload"


def test_retry_after_in_seconds_or_as_a_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_destinations_are_named_without_secrets_and_bad_channels_say_what_was_expected():
    assert (
        destination({"type": "slack", "connection_id": "finops_slack"}).id == "slack:finops_slack"
    )
    api = destination({"type": "slack", "connection_id": "bot", "channel": "#finops"})
    assert (api.id, api.service, api.channel) == ("slack:bot:#finops", "slack-api", "#finops")
    teams = destination({"type": "teams", "connection_id": "finops_teams", "kinds": ["alert"]})
    assert teams.id == "teams:finops_teams" and teams.categories == {"alert"}
    arn = "arn:aws:sns:us-east-1:123456789012:finops-chat"
    assert destination({"type": "sns", "topic_arn": arn, "name": "chatbot"}).name == "chatbot"
    for bad, expected in [
        ({"type": "discord", "connection_id": "x"}, "type must be 'slack', 'teams' or 'sns'"),
        ({"type": "slack"}, "expected the Airflow connection id"),
        ({"type": "sns", "topic_arn": "finops-chat"}, "expected an SNS topic ARN"),
        ({"type": "teams", "connection_id": "t", "kinds": ["weekly"]}, "kinds must be among"),
    ]:
        with pytest.raises(ChannelConfigError, match=expected):
            destination(bad)
