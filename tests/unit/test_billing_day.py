from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from finops_digest.billing_day import BillingDayError, partition_path, resolve_billing_day

LATER = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)  # when the runs below may start


def test_param_wins_over_the_logical_date():
    logical = datetime(2025, 9, 20, tzinfo=UTC)
    assert resolve_billing_day("2025-09-14", logical, LATER, "manual") == date(2025, 9, 14)


def test_logical_date_names_the_day_in_utc():
    late_evening_new_york = datetime(2025, 9, 13, 20, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert resolve_billing_day(None, late_evening_new_york, LATER, "manual") == date(2025, 9, 14)


def test_scheduled_and_backfill_runs_process_their_data_interval_day():
    interval_start = datetime(2025, 9, 14, 6, 0, tzinfo=UTC)
    run_after = datetime(2025, 9, 15, 6, 0, tzinfo=UTC)
    for run_type in ("scheduled", "backfill"):
        assert resolve_billing_day(None, interval_start, run_after, run_type) == date(2025, 9, 14)


def test_dags_test_processes_the_date_it_names():
    # `airflow dags test finops_daily_digest 2025-09-14`: logical date 2025-09-14T00:00.
    midnight = datetime(2025, 9, 14, tzinfo=UTC)
    assert resolve_billing_day(None, midnight, LATER, "manual") == date(2025, 9, 14)


def test_trigger_in_the_ui_processes_the_latest_complete_day_not_today():
    # Airflow 3 sets a manual run's logical date to the moment of the click.
    click = datetime(2025, 9, 15, 10, 30, tzinfo=UTC)
    assert resolve_billing_day(None, click, click, "manual") == date(2025, 9, 14)


def test_trigger_without_a_logical_date_processes_the_latest_complete_day():
    assert resolve_billing_day(None, None, LATER, "manual") == date(2026, 11, 30)


@pytest.mark.parametrize("param", ["2026-12-01", "2026-12-02"])
def test_a_day_that_has_not_ended_is_refused_naming_when_it_can_run(param):
    with pytest.raises(BillingDayError) as raised:
        resolve_billing_day(param, None, LATER, "manual")
    message = str(raised.value)
    assert f"billing day {param} has not ended in UTC" in message
    day = date.fromisoformat(param)
    assert f"{param} can run from {day + timedelta(days=1)} 00:00 UTC" in message


def test_dags_test_of_today_is_refused():
    today = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(BillingDayError, match="billing day 2026-12-01 has not ended"):
        resolve_billing_day(None, today, LATER, "manual")


def test_bad_param_is_a_clear_error():
    with pytest.raises(BillingDayError, match="'14/09/2025' is not a date: expected YYYY-MM-DD"):
        resolve_billing_day("14/09/2025", None, None)


def test_partition_keys_are_zero_padded_hive_folders():
    assert partition_path(date(2025, 9, 4)) == "year=2025/month=09/day=04"
