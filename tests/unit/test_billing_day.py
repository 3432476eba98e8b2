from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from finops_digest.billing_day import BillingDayError, partition_path, resolve_billing_day


def test_param_wins_over_the_logical_date():
    logical = datetime(2025, 9, 20, tzinfo=UTC)
    assert resolve_billing_day("2025-09-14", logical, logical) == date(2025, 9, 14)


def test_logical_date_names_the_day_in_utc():
    late_evening_new_york = datetime(2025, 9, 13, 22, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert resolve_billing_day(None, late_evening_new_york, None) == date(2025, 9, 14)


def test_scheduled_run_processes_its_data_interval_day():
    interval_start = datetime(2025, 9, 14, 6, 0, tzinfo=UTC)
    assert resolve_billing_day(None, interval_start, interval_start) == date(2025, 9, 14)


def test_manual_run_without_logical_date_uses_the_data_interval():
    assert resolve_billing_day(None, None, datetime(2025, 9, 14, 6, tzinfo=UTC)) == date(
        2025, 9, 14
    )


def test_bad_param_is_a_clear_error():
    with pytest.raises(BillingDayError, match="'14/09/2025' is not a date: expected YYYY-MM-DD"):
        resolve_billing_day("14/09/2025", None, None)


def test_partition_keys_are_zero_padded_hive_folders():
    assert partition_path(date(2025, 9, 4)) == "year=2025/month=09/day=04"
