"""Cost rows: the CSV contract, its exact decimal amounts, its sort order, and the Parquet copy."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from finops_digest.errors import FinopsError
from finops_digest.ingest.csv_safety import neutralize, restore
from finops_digest.schema import COST_TABLE_COLUMNS, CSV_HEADER, arrow_schema


class CostDataError(FinopsError, ValueError):
    """Cost data that does not match the contract; the message names the field and the value."""


@dataclass(frozen=True, slots=True)
class CostRow:
    """One line of the consolidated CSV: a day's cost of one service in one account of one OU."""

    billing_date: date
    ou: str
    service: str
    linked_account: str
    daily_cost: Decimal


def sort_key(row: CostRow) -> tuple:
    """BillingDate asc, OU asc, DailyCost desc, then Service and LinkedAccount (deterministic)."""
    return (row.billing_date, row.ou, -row.daily_cost, row.service, row.linked_account)


def consolidate(rows: Iterable[CostRow]) -> list[CostRow]:
    """Merge duplicate keys (exact Decimal sums), drop zero-cost rows, and sort per the contract."""
    totals: dict[tuple[date, str, str, str], Decimal] = {}
    for row in rows:
        key = (row.billing_date, row.ou, row.service, row.linked_account)
        totals[key] = totals[key] + row.daily_cost if key in totals else row.daily_cost
    merged = [CostRow(*key, cost) for key, cost in totals.items() if cost != 0]
    merged.sort(key=sort_key)
    return merged


def format_amount(amount: Decimal) -> str:
    """The amount as plain decimal text with the precision it has (no exponent, no float noise)."""
    return format(amount, "f")


def parse_amount(text: str, where: str) -> Decimal:
    """Parse an amount string exactly; ``where`` names the source in the error."""
    try:
        amount = Decimal(text)
    except (InvalidOperation, TypeError) as exc:
        raise CostDataError(f"{where}: amount {text!r} is not a decimal number") from exc
    if not amount.is_finite():
        raise CostDataError(f"{where}: amount {text!r} is not a finite number")
    return amount


def to_csv(rows: Iterable[CostRow]) -> bytes:
    """The CSV contract: exactly ``CSV_HEADER``, ISO dates, account ids as text, exact amounts; text
    cells that a spreadsheet would run as formulas are neutralised (``csv_safety``)."""
    buffer = io.StringIO(newline="")
    # RFC 4180 line ends: the writer then also quotes names holding a bare carriage return.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            (
                row.billing_date.isoformat(),
                neutralize(row.ou),
                neutralize(row.service),
                neutralize(row.linked_account),
                format_amount(row.daily_cost),
            )
        )
    return buffer.getvalue().encode("utf-8")


def from_csv(data: bytes, source: str) -> list[CostRow]:
    """Read rows written by :func:`to_csv`; ``source`` (a URI) names the file in errors.

    Each distinct date, OU, service and account is one shared object: a day of 1M rows names a
    few thousand of them, so the rows take about half the memory they would otherwise."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader, None)
    if header is None or tuple(header) != CSV_HEADER:
        raise CostDataError(
            f"{source}: header {header!r} is not the expected {','.join(CSV_HEADER)}"
        )
    rows = []
    dates: dict[str, date] = {}
    texts: dict[str, str] = {}
    for number, fields in enumerate(reader, start=2):
        if len(fields) != len(CSV_HEADER):
            raise CostDataError(f"{source} line {number}: {len(fields)} fields, expected 5")
        day, ou, service, account, amount = fields
        billing_date = dates.get(day)
        if billing_date is None:
            try:
                billing_date = dates[day] = date.fromisoformat(day)
            except ValueError as exc:
                raise CostDataError(
                    f"{source} line {number}: BillingDate {day!r} is not a date"
                ) from exc
        amount = parse_amount(amount, f"{source} line {number}")
        for cell in (ou, service, account):
            if cell not in texts:
                texts[cell] = restore(cell)
        rows.append(CostRow(billing_date, texts[ou], texts[service], texts[account], amount))
    return rows


def to_parquet(
    rows: list[CostRow], metadata: dict[str, str], account_names: Mapping[str, str]
) -> bytes:
    """The same rows, typed, for Athena (partition keys live in the path, not the file), with
    each account's name from ``account_names`` (account id -> name; null when it has none)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(COST_TABLE_COLUMNS, metadata)
    table = pa.table(
        [
            [r.billing_date for r in rows],
            [r.ou for r in rows],
            [r.service for r in rows],
            [r.linked_account for r in rows],
            [float(r.daily_cost) for r in rows],
            # Null, not "", for an account the mapping does not name: unknown is not empty.
            [account_names.get(r.linked_account) or None for r in rows],
        ],
        schema=schema,
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def total(rows: Iterable[CostRow]) -> Decimal:
    """Exact sum of the rows' costs."""
    return sum((r.daily_cost for r in rows), Decimal(0))
