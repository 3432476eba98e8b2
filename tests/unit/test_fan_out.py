"""Every delivery is attempted whatever happened to the others; failures are raised together."""

from __future__ import annotations

import pytest

from finops_digest.errors import FinopsError
from finops_digest.report.fan_out import (
    DeliveriesFailedError,
    DeliveriesIncompleteError,
    deliver_each,
)


def test_all_deliveries_return_their_results():
    assert deliver_each([("email", lambda: 1), ("chat", lambda: 2)]) == {"email": 1, "chat": 2}


def test_a_failing_delivery_never_stops_the_next_and_is_named():
    done = []

    def refused():
        raise FinopsError("SES refused a@example.com")

    with pytest.raises(DeliveriesFailedError, match=r"email: SES refused a@example.com"):
        deliver_each([("email", refused), ("chat", lambda: done.append("chat"))])
    assert done == ["chat"]


def test_a_failure_a_retry_may_fix_is_left_to_the_task_retries():
    def down():
        raise ConnectionError("slack:finops_slack timed out")

    def refused():
        raise FinopsError("teams:finops_teams answered 404")

    with pytest.raises(DeliveriesIncompleteError) as error:
        deliver_each([("slack", down), ("teams", refused), ("email", lambda: None)])
    assert not isinstance(error.value, FinopsError)  # fail_fast lets the retries run
    assert "slack: slack:finops_slack timed out" in str(error.value)
    assert "teams: teams:finops_teams answered 404" in str(error.value)
