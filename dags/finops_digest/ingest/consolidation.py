"""A day's consolidation at columnar speed, byte for byte the contract of ``cost_rows``.

``consolidate_parts`` turns the staged per-OU CSV parts of one billing day into the consolidated
CSV and its Parquet twin. Its output is exactly ``cost_rows.to_csv(cost_rows.consolidate(rows))``
and ``cost_rows.to_parquet(...)`` of the same rows (a property test holds it to that); it does
the work in Arrow instead of one Python object per row, which at a million rows is the difference
between a second or two and a quarter of a minute.

Exactness: amounts are compared, summed and tested for zero as ``decimal128(38, 10)``; the CSV
keeps each row's own amount text (the staged parts hold ``format(Decimal, "f")``), and only merged
duplicates get new text, computed with ``Decimal`` as the reference does. Anything the columnar
path cannot reproduce exactly (an amount with more than 10 decimals or in exponent form, a date
not in ISO form, a malformed part) sends the whole day through the reference functions, which
also give the precise error message for bad input.

Memory: one day's rows, never more; each part's bytes are dropped once Arrow has parsed them
(fresh memory is what costs most here). pyarrow is imported inside the functions, so importing
this module (at DAG parse time, say) stays cheap.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from finops_digest.ingest import columnar_csv, cost_rows
from finops_digest.ingest.columnar_csv import KEY_COLUMNS, NotColumnar
from finops_digest.schema import COST_TABLE_COLUMNS, arrow_schema

log = logging.getLogger(__name__)

# Exactly the text format(Decimal(text), "f") gives back, within decimal128(38, 10): no sign but
# "-", no leading zeros, at most 10 decimals, at most 17 integer digits (see _SUM_LIMIT).
_CANONICAL_AMOUNT = r"^-?(0|[1-9][0-9]{0,16})(\.[0-9]{1,10})?$"
# Python's Decimal sums with 28 significant digits; below 10**18 (18 + 10 digits) every partial
# sum of the day is exact there too, so both paths agree to the last digit.
_SUM_LIMIT = Decimal(10) ** 18


@dataclass(frozen=True)
class Consolidated:
    """A consolidated day: the CSV and Parquet bytes, the row count and the exact total."""

    csv: bytes | bytearray  # compares equal to bytes; boto3 uploads either
    parquet: bytes
    rows: int
    total: str  # str() of the exact Decimal sum, as ``str(cost_rows.total(rows))`` gives it
    columnar: bool  # False when the day went through the reference (pure-Python) functions


def consolidate_parts(
    sources: Sequence[str],
    read: Callable[[str], bytes],
    metadata: dict[str, str],
    account_names: Mapping[str, str],
    day: date | None = None,
) -> Consolidated:
    """Merge duplicate keys (exact sums), drop zero costs, sort, and write CSV and Parquet.

    ``sources`` name the staged CSV parts (written by ``cost_rows.to_csv``; e.g. s3:// URIs, as
    errors name them) and ``read(source)`` returns a part's bytes; parts are read one at a time.
    ``metadata`` goes into the Parquet schema, ``account_names`` (account id -> name) into its
    accountname column. With ``day``, another day's costs are an error.
    """
    try:
        return _columnar(sources, read, metadata, account_names, day)
    except NotColumnar as reason:
        log.warning("Consolidating with the reference functions: %s", reason)
    rows = [row for source in sources for row in cost_rows.from_csv(read(source), source)]
    if day is not None:
        _require_day({r.billing_date for r in rows}, day)
    merged = cost_rows.consolidate(rows)
    return Consolidated(
        csv=cost_rows.to_csv(merged),
        parquet=cost_rows.to_parquet(merged, metadata, account_names),
        rows=len(merged),
        total=str(cost_rows.total(merged)),
        columnar=False,
    )


def _require_day(dates: set[date], day: date) -> None:
    stray = dates - {day}
    if stray:
        raise cost_rows.CostDataError(
            f"staged parts hold costs of {sorted(stray)}; expected only {day}"
        )


def _columnar(
    sources: Sequence[str],
    read: Callable[[str], bytes],
    metadata: dict[str, str],
    account_names: Mapping[str, str],
    day: date | None,
) -> Consolidated:
    import pyarrow as pa
    import pyarrow.compute as pc

    table, part_rows = columnar_csv.read_parts(sources, read)
    dates = columnar_csv.checked_dates(table.column("BillingDate"))
    if day is not None:
        _require_day(dates, day)
    amounts = table.column("DailyCost")
    if len(amounts) and not pc.all(pc.match_substring_regex(amounts, _CANONICAL_AMOUNT)).as_py():
        raise NotColumnar("an amount is not plain decimal text with at most 10 decimals")
    exact = pc.cast(amounts, pa.decimal128(38, 10))
    if len(exact):
        low, high = pc.min_max(exact).values()
        largest = max(abs(low.as_py()), abs(high.as_py()))
        if largest * len(exact) >= _SUM_LIMIT and pc.sum(pc.abs(exact)).as_py() >= _SUM_LIMIT:
            raise NotColumnar("the day's amounts add up beyond 10**18")
    table = table.append_column("exact", exact)
    del amounts, exact

    keys = _Keys(table)
    amounts, exact = table.column("DailyCost"), table.column("exact")
    del table
    zero = pa.scalar(0, pa.decimal128(38, 10))
    repeated = keys.repeated(part_rows)
    if repeated is None:
        keep = pc.not_equal(exact, zero)
    else:
        first, texts, sums = _merged_sums(keys, repeated, amounts)
        keys.append(first)
        amounts = pa.chunked_array([*amounts.chunks, pa.array(texts, pa.string())])
        exact = pa.chunked_array([*exact.chunks, pa.array(sums, pa.decimal128(38, 10))])
        masks = repeated.chunks if isinstance(repeated, pa.ChunkedArray) else [repeated]
        replaced = pa.chunked_array([*masks, pa.array([False] * len(first), pa.bool_())])
        keep = pc.and_(pc.not_equal(exact, zero), pc.invert(replaced))
    # Sorting integers (each name's rank among its column's distinct names) orders the rows
    # exactly as sorting the names would, in a fraction of the time.
    order = pc.sort_indices(
        pa.table({"major": keys.major, "cost": _sortable(exact), "minor": keys.minor}),
        sort_keys=[("major", "ascending"), ("cost", "descending"), ("minor", "ascending")],
    )
    if not pc.all(keep).as_py():
        order = order.filter(keep.take(order))
    amounts = amounts.take(order)
    # Zero rows add nothing; rows replaced by their merged sum must not count twice.
    total = _total_text(amounts, exact if repeated is None else exact.filter(keep))
    del exact, keep
    names, fields = {}, {}
    for column in KEY_COLUMNS:
        names[column], fields[column] = keys.sorted_names(column, order)
    account_name = keys.sorted_lookup("LinkedAccount", order, account_names)
    del keys, order
    # Arrow releases the GIL: the Parquet file is written while the CSV is assembled.
    with ThreadPoolExecutor(max_workers=1) as pool:
        parquet = pool.submit(_parquet_bytes, names, account_name, amounts, metadata)
        csv = columnar_csv.csv_bytes(fields, amounts)
        return Consolidated(
            csv=csv, parquet=parquet.result(), rows=len(amounts), total=total, columnar=True
        )


class _Keys:
    """The four key columns dictionary-encoded: each distinct name once, rows as integers."""

    def __init__(self, table: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        def encode(column: str) -> tuple[Any, Any, tuple[Any, int]]:
            encoded = pc.dictionary_encode(table.column(column)).unify_dictionaries()
            chunks = encoded.chunks
            names = columnar_csv.restored(
                chunks[0].dictionary if chunks else pa.array([], pa.string())
            )
            codes = pa.concat_arrays([c.indices for c in chunks] or [pa.array([], pa.int32())])
            rank = pc.rank(names, sort_keys="ascending").cast(pa.int64())  # 1-based
            return names, codes, (rank.take(codes), len(names) + 1)

        self.rows = table.num_rows
        self.names: dict[str, Any] = {}  # column -> its distinct values
        self.codes: dict[str, Any] = {}  # column -> per row, the index of its value in names
        ranks = {}  # column -> per row, the rank of its value among the distinct values
        # Two columns at a time: Arrow releases the GIL while it hashes.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for column, (names, codes, rank) in zip(
                KEY_COLUMNS, pool.map(encode, KEY_COLUMNS), strict=True
            ):
                self.names[column], self.codes[column], ranks[column] = names, codes, rank
        self.major, major_span = _pack(ranks.pop("BillingDate"), ranks.pop("OU"))
        self.minor, minor_span = _pack(ranks.pop("Service"), ranks.pop("LinkedAccount"))
        # One int64 per row, equal exactly when the four keys are (if the product fits).
        self.packed = None
        if major_span * minor_span < 2**62:
            self.packed = pc.add(pc.multiply(self.major, minor_span), self.minor)

    def append(self, rows: list[int]) -> None:
        """Add rows that repeat the keys of ``rows`` (the merged sums of repeated keys)."""
        import pyarrow as pa

        def extended(values: Any) -> Any:
            return pa.concat_arrays([values, values.take(rows)])

        self.codes = {column: extended(codes) for column, codes in self.codes.items()}
        self.major, self.minor = extended(self.major), extended(self.minor)
        self.rows += len(rows)
        self.packed = None if self.packed is None else extended(self.packed)

    def repeated(self, part_rows: list[int]) -> Any:
        """The rows whose (BillingDate, OU, Service, LinkedAccount) appears more than once, as a
        mask; None when every key appears once (the normal day)."""
        import pyarrow.compute as pc

        if self.rows < 2:
            return None
        if self.packed is not None:
            by_part = self._repeated_by_part(part_rows)
            if by_part is not False:
                return by_part
        key = self.row_key()
        frequency = pc.value_counts(key)
        if len(frequency) == self.rows:
            return None
        return _repeated_in(key, frequency)

    def _repeated_by_part(self, part_rows: list[int]) -> Any:
        """``repeated`` computed part by part (many small hash tables are much faster than one
        big one); False when two parts share a (BillingDate, OU), so keys may repeat across."""
        import pyarrow as pa
        import pyarrow.compute as pc

        owner: dict[int, int] = {}
        masks, start, found = [], 0, False
        for part, rows in enumerate(part_rows):
            for major in pc.unique(self.major.slice(start, rows)).to_pylist():
                if owner.setdefault(major, part) != part:
                    return False
            key = self.packed.slice(start, rows)
            frequency = pc.value_counts(key)
            if len(frequency) == rows:
                masks.append(pa.repeat(False, rows))
            else:
                masks.append(_repeated_in(key, frequency))
                found = True
            start += rows
        return pa.chunked_array(masks, pa.bool_()) if found else None

    def row_key(self) -> Any:
        """Per row, a value equal exactly when the four keys are."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.packed is not None:
            return self.packed
        # Too many distinct names to pack into one int64: join the two halves as text.
        return pc.binary_join_element_wise(
            pc.cast(self.major, pa.string()), pc.cast(self.minor, pa.string()), ":"
        )

    def sorted_names(self, column: str, order: Any) -> tuple[Any, Any]:
        """The column's values in ``order``: as they are, and as CSV fields (quoted if needed).

        Quoting works on the distinct names, a few thousand, not on every row."""
        names = self.names[column]
        codes = self.codes[column].take(order)
        plain = names.take(codes)
        quoted = columnar_csv.quoted(columnar_csv.neutralized(names))
        return plain, (plain if quoted is names else quoted.take(codes))

    def sorted_lookup(self, column: str, order: Any, lookup: Mapping[str, str]) -> Any:
        """What ``lookup`` gives the column's values, in ``order``; null where it gives nothing
        or "" (as ``cost_rows.to_parquet``). Looked up once per distinct value, not per row."""
        import pyarrow as pa

        found = [lookup.get(value) or None for value in self.names[column].to_pylist()]
        return pa.array(found, pa.string()).take(self.codes[column].take(order))


def _repeated_in(key: Any, frequency: Any) -> Any:
    """Mask of the rows whose key counts more than once in ``frequency`` (``value_counts``)."""
    import pyarrow.compute as pc

    counts, values = frequency.field("counts"), frequency.field("values")
    return pc.is_in(key, value_set=values.filter(pc.greater(counts, 1)))


def _pack(first: tuple[Any, int], second: tuple[Any, int]) -> tuple[Any, int]:
    """Two ranks as one integer ordered as the pair is, and the number of values it can take."""
    import pyarrow.compute as pc

    (high, high_span), (low, low_span) = first, second
    return pc.add(pc.multiply(high, low_span), low), high_span * low_span


def _merged_sums(
    keys: _Keys, repeated: Any, amounts: Any
) -> tuple[list[int], list[str], list[Decimal]]:
    """For each repeated key: its first row, and the exact sum as text and as a number.

    Only the repeated rows go through ``Decimal``, summed as the reference sums them."""
    import pyarrow.compute as pc

    rows = pc.indices_nonzero(repeated).to_pylist()
    groups = keys.row_key().take(rows).to_pylist()
    texts = amounts.take(rows).to_pylist()
    first: dict[Any, int] = {}
    totals: dict[Any, Decimal] = {}
    for row, group, text in zip(rows, groups, texts, strict=True):
        amount = Decimal(text)
        if group in totals:
            totals[group] += amount
        else:
            first[group], totals[group] = row, amount
    return list(first.values()), [format(v, "f") for v in totals.values()], list(totals.values())


def _sortable(exact: Any) -> Any:
    """The amounts as int64 units of 1e-10 when all fit (sorting them is twice as fast), else
    the decimals themselves: the same order either way."""
    import sys

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    exact = exact.combine_chunks() if isinstance(exact, pa.ChunkedArray) else exact
    if (
        sys.byteorder != "little"
        or len(exact) == 0
        or exact.null_count
        or pc.max(pc.abs(exact)).as_py() >= 900_000_000
    ):
        return exact
    # A decimal128 is a 16-byte two's-complement integer; below 2**63 its low 8 bytes hold it.
    words = np.frombuffer(exact.buffers()[1], dtype=np.int64)
    return pa.array(words[2 * exact.offset : 2 * (exact.offset + len(exact)) : 2])


def _parquet_bytes(
    names: dict[str, Any], account_name: Any, amounts: Any, metadata: dict[str, str]
) -> bytes:
    """The ``cost_rows.to_parquet`` file: the same schema, metadata and compression."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    columns = [
        pc.cast(names["BillingDate"], pa.date32()),
        names["OU"],
        names["Service"],
        names["LinkedAccount"],
        # Text to double is correctly rounded, as float(Decimal) is: the same float64.
        pc.cast(amounts, pa.float64()),
        account_name,
    ]
    sink = io.BytesIO()
    schema = arrow_schema(COST_TABLE_COLUMNS, metadata)
    pq.write_table(pa.table(columns, schema=schema), sink, compression="snappy")
    return sink.getvalue()


def _total_text(amounts: Any, exact: Any) -> str:
    """``str(sum of Decimals)``: the exact sum, with as many decimals as the most precise row."""
    import pyarrow.compute as pc

    if len(amounts) == 0:
        return str(Decimal(0))
    point = pc.find_substring(amounts, ".")
    decimals = pc.if_else(
        pc.less(point, 0), 0, pc.subtract(pc.subtract(pc.binary_length(amounts), point), 1)
    )
    places = pc.max(decimals).as_py()
    exact_sum: Decimal = pc.sum(exact).as_py()
    return str(exact_sum.quantize(Decimal(1).scaleb(-places)))
