"""The columnar consolidation must be byte for byte the reference (pure-Python) functions."""

import io
from datetime import date
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops_digest.ingest.consolidation import consolidate_parts as consolidate_staged
from finops_digest.ingest.cost_rows import (
    CostDataError,
    CostRow,
    consolidate,
    from_csv,
    to_csv,
    to_parquet,
    total,
)
from finops_digest.schema import COST_TABLE_COLUMNS

DAY = date(2025, 9, 14)
METADATA = {"billing-date": DAY.isoformat(), "cost-metric": "NetAmortizedCost"}

# Names with everything the CSV must quote or carry: separators, quotes, CR, LF, CRLF, unicode.
tricky_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            [
                ",",
                '"',
                "\r",
                "\n",
                " ",
                "'",
                ";",
                "\t",
                "é",
                "東",
                "😀",
                "\u2028",
                "=",
                "+",
                "-",
                "@",
            ]
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)
# A few names drawn again and again, so keys repeat (duplicates to merge) and sort ties happen.
names = st.one_of(
    st.sampled_from(
        [
            "Marketing",
            "Data",
            "Engineering/Platform",
            "Root",
            'A "q", b',
            "a\r\nb",
            "",
            "=1+1",
            "'=x",
        ]
    ),
    tricky_text,
)
amounts = st.one_of(
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=10, allow_nan=False),
    st.integers(-(10**12), 10**12).map(Decimal),
    st.builds(
        lambda units, places: Decimal(units).scaleb(-places),
        st.integers(-(10**9), 10**9),
        st.integers(0, 10),
    ),
    st.sampled_from([Decimal("0"), Decimal("0.0000000000"), Decimal("-0.00"), Decimal("1.50")]),
)


# Some accounts named (with text the CSV would quote), some named "", the rest not in it.
account_names = st.dictionaries(names, st.one_of(st.just(""), tricky_text), max_size=6)


def consolidate_parts(parts, metadata, day=None, account_names=None):
    """``consolidate_parts`` over in-memory parts: (source, bytes) pairs."""
    data = dict(parts)
    return consolidate_staged(list(data), data.__getitem__, metadata, account_names or {}, day)


def cost_row(days):
    return st.builds(CostRow, days, names, names, names, amounts)


def parts_of(rows, cuts):
    """The rows split into staged parts, each written as ``extract_costs`` writes one."""
    bounds = sorted({0, len(rows), *(c % (len(rows) + 1) for c in cuts)})
    return [
        (f"s3://bucket/staging/parts/{n}.csv", to_csv(rows[a:b]))
        for n, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))
    ] or [("s3://bucket/staging/parts/empty.csv", to_csv([]))]


def reference(parts):
    """What the consolidate task produced before: Python rows, Decimal sums, csv module."""
    rows = [r for source, data in parts for r in from_csv(data, source)]
    merged = consolidate(rows)
    return merged, to_csv(merged), str(total(merged))


def assert_same_as_reference(parts, day=None, account_names=None):
    merged, expected_csv, expected_total = reference(parts)
    result = consolidate_parts(parts, METADATA, day=day, account_names=account_names)
    assert result.csv == expected_csv
    assert result.rows == len(merged)
    assert result.total == expected_total
    expected_parquet = pq.read_table(io.BytesIO(to_parquet(merged, METADATA, account_names or {})))
    ours = pq.read_table(io.BytesIO(result.parquet))
    assert ours.schema.equals(expected_parquet.schema, check_metadata=True)
    assert ours.equals(expected_parquet)
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(cost_row(st.just(DAY)), max_size=40),
    cuts=st.lists(st.integers(0, 40), max_size=4),
    named=account_names,
)
def test_one_day_is_byte_for_byte_the_reference(rows, cuts, named):
    result = assert_same_as_reference(parts_of(rows, cuts), day=DAY, account_names=named)
    assert result.columnar  # these are all amounts the columnar path handles itself


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        cost_row(st.sampled_from([date(2025, 9, 13), DAY, date(2026, 1, 1)])), max_size=30
    ),
    cuts=st.lists(st.integers(0, 30), max_size=3),
)
def test_several_days_sort_by_date_first(rows, cuts):
    assert_same_as_reference(parts_of(rows, cuts))


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(cost_row(st.just(DAY)), min_size=1, max_size=10),
    odd=st.sampled_from(
        ["1E+3", "0.000000000001", "+5", "7.", ".25", "1_000", "12345678901234567890"]
    ),
    named=account_names,
)
def test_amounts_the_columnar_path_cannot_hold_still_match_the_reference(rows, odd, named):
    # Hand-written parts may hold amounts Decimal reads but decimal128(38, 10) does not.
    data = to_csv(rows) + f"{DAY.isoformat()},Odd,Service,1,{odd}\r\n".encode()
    result = assert_same_as_reference([("s3://bucket/odd.csv", data)], day=DAY, account_names=named)
    assert not result.columnar


def test_duplicates_are_summed_exactly_and_zero_sums_dropped():
    rows = [
        CostRow(DAY, "Data", "Amazon S3", "1", Decimal("0.1")),
        CostRow(DAY, "Data", "Amazon S3", "1", Decimal("0.20")),
        CostRow(DAY, "Data", "AWS Lambda", "1", Decimal("2.5")),
        CostRow(DAY, "Data", "AWS Lambda", "1", Decimal("-2.5")),
        CostRow(DAY, "Data", "Amazon EC2", "1", Decimal("0E-10")),
        CostRow(DAY, "Data", "Amazon EC2", "2", Decimal("-0.0000000001")),
    ]
    result = consolidate_parts([("a", to_csv(rows[:3])), ("b", to_csv(rows[3:]))], METADATA, DAY)
    assert result.csv.decode().split("\r\n") == [
        "BillingDate,OU,Service,LinkedAccount,DailyCost",
        "2025-09-14,Data,Amazon S3,1,0.30",
        "2025-09-14,Data,Amazon EC2,2,-0.0000000001",
        "",
    ]
    assert (result.rows, result.total, result.columnar) == (2, "0.2999999999", True)


def test_the_columnar_parquet_has_the_reference_schema_and_the_tables_columns():
    part = to_csv([CostRow(DAY, "Data", "Amazon S3", "1", Decimal("1.5"))])
    columnar = consolidate_parts([("s3://b/p.csv", part)], METADATA, DAY)
    assert columnar.columnar
    written = pq.read_table(io.BytesIO(columnar.parquet)).schema
    reference = pq.read_table(io.BytesIO(to_parquet([], METADATA, {}))).schema
    assert written.equals(reference, check_metadata=True)
    assert [(f.name, str(f.type)) for f in written] == [
        ("billingdate", "date32[day]"),
        ("ou", "string"),
        ("service", "string"),
        ("linkedaccount", "string"),
        ("dailycost", "double"),
        ("accountname", "string"),
    ]
    assert [f.name for f in written] == [name for name, _ in COST_TABLE_COLUMNS]


def test_another_days_costs_are_refused():
    part = to_csv([CostRow(date(2025, 9, 13), "Data", "Amazon S3", "1", Decimal(1))])
    with pytest.raises(ValueError, match=r"hold costs of \[datetime.date\(2025, 9, 13\)\]"):
        consolidate_parts([("s3://b/p.csv", part)], METADATA, DAY)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Date,OU\r\n", "header"),
        (
            b"BillingDate,OU,Service,LinkedAccount,DailyCost\r\n2025-09-14,Data,S3,1\r\n",
            "line 2: 4 fields",
        ),
        (
            b"BillingDate,OU,Service,LinkedAccount,DailyCost\r\n2025-09-14,Data,S3,1,abc\r\n",
            "line 2: amount 'abc'",
        ),
        (
            b"BillingDate,OU,Service,LinkedAccount,DailyCost\r\n2025-13-14,Data,S3,1,1\r\n",
            "line 2: BillingDate '2025-13-14'",
        ),
        (
            b"BillingDate,OU,Service,LinkedAccount,DailyCost\r\n2025-09-14,Data,S3,1,1\r\n\r\n",
            "line 3: 0 fields",
        ),
    ],
)
def test_bad_parts_fail_with_the_reference_message_naming_the_part(data, message):
    with pytest.raises(CostDataError, match=message) as error:
        consolidate_parts([("s3://bucket/staging/parts/x.csv", data)], METADATA, DAY)
    assert "s3://bucket/staging/parts/x.csv" in str(error.value)


def test_formula_cells_are_neutralised_in_the_csv_but_true_in_parquet():
    rows = [
        CostRow(DAY, '=HYPERLINK("http://evil")', "+Service", "-123", Decimal("5")),
        CostRow(DAY, "@ou", "'=quoted", "'plain", Decimal("-2.5")),
    ]
    result = assert_same_as_reference([("s3://b/p.csv", to_csv(rows))], day=DAY)
    text = result.csv.decode()
    assert "'=HYPERLINK" in text and ",'+Service,'-123," in text
    assert "'@ou,''=quoted,'plain,-2.5" in text, "amounts keep their sign; a plain quote is kept"
    table = pq.read_table(io.BytesIO(result.parquet))
    assert set(table.column("ou").to_pylist()) == {'=HYPERLINK("http://evil")', "@ou"}
    assert from_csv(result.csv, "csv") == sorted(rows, key=lambda r: (r.ou, -r.daily_cost))


def test_accounts_are_named_in_the_parquet_only_and_unknown_names_are_null():
    rows = [
        CostRow(DAY, "Data", "Amazon S3", "111111111111", Decimal("3")),
        CostRow(DAY, "Data", "AWS Lambda", "222222222222", Decimal("2")),
        CostRow(DAY, "Data", "Amazon EC2", "333333333333", Decimal("1")),
    ]
    parts = [("s3://b/p.csv", to_csv(rows))]
    named = {"111111111111": '=prod, "main"', "222222222222": ""}
    result = assert_same_as_reference(parts, day=DAY, account_names=named)
    assert result.columnar
    table = pq.read_table(io.BytesIO(result.parquet))
    # The true name (no formula neutralisation); "" and an account not in the mapping: null.
    assert table.column("accountname").to_pylist() == ['=prod, "main"', None, None]
    assert result.csv == consolidate_parts(parts, METADATA, DAY).csv, "the CSV does not change"
