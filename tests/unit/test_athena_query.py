"""A slow Athena query is polled until it ends; a transient failure is run again; a real one
fails naming the query and the reason."""

from __future__ import annotations

import pytest

from finops_digest.aws.athena import AthenaQueryError, run_query


class FakeAthenaHook:
    """The provider's AthenaHook surface run_query uses, answering from a script of states."""

    def __init__(self, runs: list[list[str]], retryable: bool = True):
        self.runs = runs  # per query run: the states its successive polls return
        self.retryable = retryable
        self.started: list[str] = []

    def run_query(self, sql, query_context, result_configuration, workgroup):
        self.started.append(sql)
        return f"q{len(self.started)}"

    def poll_query_status(self, query_id, sleep_time=None):
        return self.runs[int(query_id[1:]) - 1].pop(0)

    def get_query_info(self, query_id):
        return {
            "QueryExecution": {
                "Status": {
                    "StateChangeReason": "INTERNAL_ERROR_QUERY_ENGINE",
                    "AthenaError": {"Retryable": self.retryable},
                }
            }
        }


def _run(hook):
    return run_query(hook, "SELECT 1", database="d", output_location="s3://b/r/", workgroup="w")


def test_a_query_still_running_after_the_providers_poll_budget_is_polled_on():
    # The provider's poll returns RUNNING once its own attempts (240 s at 2 s) are used up.
    hook = FakeAthenaHook([["RUNNING", "RUNNING", "QUEUED", "SUCCEEDED"]])
    assert _run(hook) == "q1"
    assert hook.started == ["SELECT 1"]


def test_a_transient_failure_is_run_again():
    hook = FakeAthenaHook([["FAILED"], ["RUNNING", "SUCCEEDED"]])
    assert _run(hook) == "q2"


def test_a_failure_athena_does_not_call_retryable_fails_at_once_naming_it():
    hook = FakeAthenaHook([["FAILED"]], retryable=False)
    with pytest.raises(AthenaQueryError, match="q1 ended FAILED: INTERNAL_ERROR_QUERY_ENGINE"):
        _run(hook)
    assert len(hook.started) == 1


def test_transient_failures_stop_after_three_runs():
    hook = FakeAthenaHook([["FAILED"], ["FAILED"], ["FAILED"]])
    with pytest.raises(AthenaQueryError, match="q3 ended FAILED"):
        _run(hook)
