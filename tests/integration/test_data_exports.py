"""cost_source data_exports: the day's costs from an AWS Data Exports table through Athena, no
GetCostAndUsage request for them, and the CSV the Cost Explorer source archives, byte for byte."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from finops_digest.ingest.cost_history import ALL_ACCOUNTS, HISTORY_WINDOW_DAYS
from finops_digest.ingest.cost_rows import CostRow, from_csv, sort_key, to_csv
from finops_digest.store import layout
from sandbox import Spike
from sandbox import cost_explorer as sandbox_cost_explorer
from scripts.local_env import variable_env
from tests.integration.conftest import returned, run_dag, task_states

BUCKET = "finops-digest-archive"
FIRST = date(2025, 9, 10)  # from the CUR 2.0 export
SECOND = date(2025, 9, 11)  # from the FOCUS export, after the 10th was restated in it
CUR2 = {"database": "data_exports", "table": "cur2", "format": "cur2"}
FOCUS = {"database": "data_exports", "table": "focus", "format": "focus1.2"}


def cost_explorer_csv(organization, day: date) -> bytes:
    """The CSV the Cost Explorer source archives for ``day``: the day's line items summed per OU,
    service and account as the sandbox's Cost Explorer sums and prints them (NetAmortizedCost,
    Credit, Refund and Tax left out), then written by the CSV contract's own writer."""
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for line in organization.cost_lines(day):
        if line.record_type not in ("Credit", "Refund", "Tax"):
            ou = organization.ou_path_of(line.account_id) or "Root"
            totals[(ou, line.service, line.account_id)] += line.amounts["NetAmortizedCost"]
    rows = [
        CostRow(day, ou, service, account, Decimal(sandbox_cost_explorer.format_amount(cost)))
        for (ou, service, account), cost in totals.items()
        if cost != 0
    ]
    return to_csv(sorted(rows, key=sort_key))


def archived_csv(aws, day: date) -> bytes:
    return aws("s3").get_object(Bucket=BUCKET, Key=layout.archive_key(day))["Body"].read()


def run_from(export: dict, finops_config: dict, day: date):
    config = {**finops_config, "cost_source": "data_exports", "data_exports": export}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        return run_dag(day)


@pytest.fixture(scope="module")
def runs(sandbox, airflow_db, finops_config, aws):
    """The 10th from the CUR 2.0 export; then late usage restates the 10th in the export (and in
    Cost Explorer) and the 11th runs from the FOCUS export. Per run: (DagRun, states, CE
    requests for the day's rows, CSV expected from the Cost Explorer source)."""
    # The export holds the history window too (an export has every day since it was set up).
    sandbox.write_data_exports(FIRST - timedelta(days=HISTORY_WINDOW_DAYS), SECOND)
    outcomes = {"organization": sandbox.organization}
    expected_first = cost_explorer_csv(sandbox.organization, FIRST)
    first = run_from(CUR2, finops_config, FIRST)
    outcomes["first"] = (first, task_states(first), sandbox.cost_explorer_requests(FIRST))
    outcomes["first_csv"] = (expected_first, archived_csv(aws, FIRST))

    account = sandbox.organization.accounts[5]
    service = sandbox.organization.services_of(account.id)[0].name
    ou = sandbox.organization.ou_path_of(account.id) or "Root"
    sandbox.organization.spikes.append(Spike(FIRST, ou, service, account.id, Decimal("123.45")))
    sandbox.organization._lines_cached.cache_clear()
    sandbox_cost_explorer.clear_cache()
    sandbox.write_data_exports(FIRST)
    before = sandbox.cost_explorer_requests(SECOND)
    second = run_from(FOCUS, finops_config, SECOND)
    outcomes["second"] = (
        second,
        task_states(second),
        sandbox.cost_explorer_requests(SECOND) - before,
    )
    outcomes["second_csv"] = (
        cost_explorer_csv(sandbox.organization, SECOND),
        archived_csv(aws, SECOND),
    )
    outcomes["restated_csv"] = (
        cost_explorer_csv(sandbox.organization, FIRST),
        archived_csv(aws, FIRST),
    )
    return outcomes


def test_both_runs_succeed_with_no_get_cost_and_usage_request_for_the_days_rows(runs):
    for name in ("first", "second"):
        dag_run, states, requests = runs[name]
        assert dag_run.state == "success", states
        assert requests == 0, f"{name}: {requests} GetCostAndUsage requests for the day's rows"


def test_the_cur2_export_gives_the_cost_explorer_csv_byte_for_byte(runs):
    expected, archived = runs["first_csv"]
    assert archived.count(b"\r\n") > 100
    assert archived == expected


def test_the_focus_export_gives_the_cost_explorer_csv_byte_for_byte(runs):
    expected, archived = runs["second_csv"]
    assert archived == expected


def test_a_day_restated_in_the_export_is_archived_again(runs):
    dag_run, _, _ = runs["second"]
    restated = returned(dag_run, "restate_recent_days")["restated"]
    assert [r["billing_date"] for r in restated] == [FIRST.isoformat()]
    # The late $123.45 of unblended usage, as NetAmortizedCost (the account's discount, a Savings
    # Plan's amortization) sees it.
    assert Decimal(0) < Decimal(restated[0]["delta"]) <= Decimal("123.45")
    expected, archived = runs["restated_csv"]
    assert archived == expected


def test_the_run_reports_athena_bytes_and_checks_the_export_total(runs):
    dag_run, _, _ = runs["first"]
    organization = returned(dag_run, "discover_ous")
    assert organization["athena_scanned_bytes"] > 0
    assert organization["export_result_uri"].endswith(".csv")
    parts = returned(dag_run, "consolidate")
    assert parts["cost_explorer_requests"] == 0
    validation = returned(dag_run, "validate_in_athena")
    assert validation["source"] == "the data export data_exports.cur2"
    assert validation["problems"] == []
    assert validation["athena_scanned_bytes"] > 0


def test_the_history_of_an_empty_archive_comes_from_the_export_not_cost_explorer(runs, aws):
    dag_run, _, _ = runs["first"]
    history = returned(dag_run, "load_history")
    stats = history["stats"]
    # The module's archive is empty before the first run: the whole window is in the export.
    assert stats["archived_days"] == 0
    assert stats["export_days"] == HISTORY_WINDOW_DAYS
    assert stats["cost_explorer_requests"] == 0 and stats["cost_explorer_days"] == 0
    assert stats["athena_scanned_bytes"] > 0
    # A history day's sums per OU and service are the Cost Explorer source's for that day.
    day = FIRST - timedelta(days=40)
    bucket, key = layout.parse_s3_uri(history["history_uri"])
    staged = from_csv(aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read(), key)
    got = {(r.ou, r.service): r.daily_cost for r in staged if r.billing_date == day}
    assert all(r.linked_account == ALL_ACCOUNTS for r in staged if r.billing_date == day)
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in from_csv(cost_explorer_csv(runs["organization"], day), "expected"):
        expected[(row.ou, row.service)] += row.daily_cost
    assert got == {k: v for k, v in expected.items() if v != 0}
