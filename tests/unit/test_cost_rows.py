from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finops_digest.ingest.cost_rows import (
    CostDataError,
    CostRow,
    consolidate,
    from_csv,
    sort_key,
    to_csv,
    total,
)
from finops_digest.schema import CSV_HEADER

DAY = date(2025, 9, 14)


def row(ou, service, account, cost, day=DAY):
    return CostRow(day, ou, service, account, Decimal(cost))


def test_sorted_by_date_ou_then_cost_desc_with_deterministic_ties():
    rows = consolidate(
        [
            row("Sales", "AWS Lambda", "111111111111", "5"),
            row("Marketing", "Amazon S3", "222222222222", "7"),
            row("Marketing", "Amazon EC2", "333333333333", "9"),
            row("Marketing", "Amazon EC2", "222222222222", "7"),
            row("Marketing", "AWS Lambda", "222222222222", "7"),
        ]
    )
    assert [(r.ou, r.service, r.linked_account) for r in rows] == [
        ("Marketing", "Amazon EC2", "333333333333"),
        ("Marketing", "AWS Lambda", "222222222222"),
        ("Marketing", "Amazon EC2", "222222222222"),
        ("Marketing", "Amazon S3", "222222222222"),
        ("Sales", "AWS Lambda", "111111111111"),
    ]


def test_amounts_are_exact_decimals_without_float_noise():
    rows = consolidate(
        [
            row("Data", "Amazon S3", "123456789012", "0.1"),
            row("Data", "Amazon S3", "123456789012", "0.2"),
        ]
    )
    text = to_csv(rows).decode()
    assert (
        text
        == "BillingDate,OU,Service,LinkedAccount,DailyCost\r\n2025-09-14,Data,Amazon S3,123456789012,0.3\r\n"
    )
    assert "0.30000000000000004" not in text


def test_cost_explorer_precision_is_kept_and_tiny_amounts_never_use_exponents():
    rows = consolidate(
        [
            row("Data", "AWS KMS", "000000000007", "0.0000000001"),
            row("Data", "EC2", "000000000007", "12.3456789012"),
        ]
    )
    lines = to_csv(rows).decode().splitlines()
    assert lines[1].endswith(",12.3456789012")
    assert lines[2].endswith(",0.0000000001")
    assert ",000000000007," in lines[1], "account ids keep their leading zeros"


def test_zero_cost_rows_are_dropped_but_negative_credits_kept():
    rows = consolidate(
        [
            row("Data", "Amazon S3", "123456789012", "0"),
            row("Data", "Amazon S3", "123456789012", "0E-10"),
            row("Data", "Credits", "123456789012", "-3.50"),
        ]
    )
    assert [(r.service, r.daily_cost) for r in rows] == [("Credits", Decimal("-3.50"))]


def test_reading_a_csv_with_a_wrong_header_names_the_file_and_the_expected_header():
    with pytest.raises(CostDataError, match=r"s3://b/k.csv: header .* expected BillingDate,OU"):
        from_csv(b"Date,OU,Service,Account,Cost\n", "s3://b/k.csv")


def test_reading_a_bad_amount_names_the_line():
    data = b"BillingDate,OU,Service,LinkedAccount,DailyCost\n2025-09-14,Data,S3,123456789012,12,5\n"
    with pytest.raises(CostDataError, match="line 2: 6 fields"):
        from_csv(data, "part.csv")
    data = b"BillingDate,OU,Service,LinkedAccount,DailyCost\n2025-09-14,Data,S3,123456789012,abc\n"
    with pytest.raises(CostDataError, match="line 2: amount 'abc'"):
        from_csv(data, "part.csv")


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)
amounts = st.decimals(min_value=-1000, max_value=100000, places=10, allow_nan=False)
cost_rows = st.builds(
    CostRow,
    st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)),
    names,
    names,
    st.from_regex(r"\A[0-9]{12}\Z"),
    amounts,
)


@given(st.lists(cost_rows, max_size=60))
def test_csv_round_trips_exact_values_order_and_totals(rows):
    consolidated = consolidate(rows)
    back = from_csv(to_csv(consolidated), "roundtrip")
    assert back == consolidated
    assert back == sorted(back, key=sort_key)
    assert total(back) == total(rows)
    per_ou_in = {}
    for r in rows:
        per_ou_in[r.ou] = per_ou_in.get(r.ou, Decimal(0)) + r.daily_cost
    per_ou_out = {}
    for r in back:
        per_ou_out[r.ou] = per_ou_out.get(r.ou, Decimal(0)) + r.daily_cost
    assert {k: v for k, v in per_ou_in.items() if v} == {k: v for k, v in per_ou_out.items() if v}


def test_header_is_the_contract():
    assert ",".join(CSV_HEADER) == "BillingDate,OU,Service,LinkedAccount,DailyCost"
