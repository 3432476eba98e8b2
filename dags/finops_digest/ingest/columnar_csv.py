"""The CSV contract in Arrow: staged parts read as columns, the consolidated CSV written from
columns, byte for byte what ``cost_rows`` reads and writes (``consolidation`` uses both)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from finops_digest.schema import CSV_HEADER

HEADER_LINE = (",".join(CSV_HEADER) + "\r\n").encode()
KEY_COLUMNS = CSV_HEADER[:4]
# csv_safety's rules as RE2 patterns: a cell it neutralises, and a neutralised cell.
_FORMULA = r"^([=+\-@\t\r]|'[=+\-@\t\r'])"
_NEUTRALIZED = r"^'([=+\-@\t\r'])"
# Python's csv writer (QUOTE_MINIMAL, lineterminator "\r\n") quotes a field holding any of these.
_NEEDS_QUOTES = r'[,"\r\n]'
_CSV_SLICE = 1 << 16  # rows joined into lines at a time


class NotColumnar(Exception):
    """The columnar path cannot reproduce this day exactly; the reference path takes over."""


def read_parts(sources: Sequence[str], read: Callable[[str], bytes]) -> tuple[Any, list[int]]:
    """All parts as one table of strings, and each part's row count; each part's bytes are let
    go once parsed."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    strings = dict.fromkeys(CSV_HEADER, pa.string())
    tables = []
    for source in sources:
        data = read(source)
        if not data.startswith(HEADER_LINE):
            raise NotColumnar(f"{source} does not start with the header line {HEADER_LINE!r}")
        try:
            tables.append(
                pa_csv.read_csv(
                    pa.BufferReader(data),
                    parse_options=pa_csv.ParseOptions(
                        # Quoted names may hold line breaks; with no quote the faster parser is safe.
                        newlines_in_values=b'"' in data,
                        # The reference reader rejects a blank line (0 fields): never skip one.
                        ignore_empty_lines=False,
                    ),
                    convert_options=pa_csv.ConvertOptions(
                        column_types=strings,
                        strings_can_be_null=False,
                        quoted_strings_can_be_null=False,
                    ),
                )
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise NotColumnar(f"{source} is not well-formed CSV of 5 fields: {exc}") from None
    if not tables:
        return pa.table({name: pa.array([], pa.string()) for name in CSV_HEADER}), []
    return pa.concat_tables(tables), [t.num_rows for t in tables]


def checked_dates(column: Any) -> set[date]:
    """The distinct BillingDates (a handful a day), each in the ISO form the reference writes."""
    dates = set()
    for text in column.unique().to_pylist():
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            raise NotColumnar(f"BillingDate {text!r} is not an ISO date") from None
        if parsed.isoformat() != text:
            raise NotColumnar(f"BillingDate {text!r} is not in YYYY-MM-DD form")
        dates.add(parsed)
    return dates


def csv_bytes(fields: dict[str, Any], amounts: Any) -> bytearray:
    """The rows as ``cost_rows.to_csv`` writes them: QUOTE_MINIMAL, CRLF, UTF-8.

    Lines are joined a slice at a time straight into a buffer of the final size, so the whole
    file exists once, not also as an array of lines (fresh memory is the costly part here)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [*(fields[column] for column in KEY_COLUMNS), amounts]
    # Each line: its five fields, four commas, CR LF.
    size = len(HEADER_LINE) + 6 * len(amounts)
    size += sum(pc.sum(pc.binary_length(c)).as_py() or 0 for c in columns)
    out = bytearray(size)
    out[: len(HEADER_LINE)] = HEADER_LINE
    position = len(HEADER_LINE)
    for start in range(0, len(amounts), _CSV_SLICE):
        pieces = [c.slice(start, _CSV_SLICE) for c in columns]
        # The line end rides on the last field: a pass over short amounts, not whole lines.
        pieces[-1] = pc.binary_join_element_wise(pieces[-1], pa.scalar(""), "\r\n")
        lines = pc.binary_join_element_wise(*pieces, ",")
        for chunk in lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]:
            if len(chunk):
                _, offset_buffer, data = chunk.buffers()
                offsets = pa.Array.from_buffers(
                    pa.int32(), len(chunk) + 1, [None, offset_buffer], offset=chunk.offset
                )
                first, last = offsets[0].as_py(), offsets[-1].as_py()
                out[position : position + last - first] = memoryview(data)[first:last]
                position += last - first
    if position != size:
        raise AssertionError(f"CSV assembly wrote {position} bytes, expected {size}")
    return out


def restored(names: Any) -> Any:
    """True names from CSV cells (``csv_safety.restore``, on the distinct names)."""
    import pyarrow.compute as pc

    if not pc.any(pc.match_substring_regex(names, _NEUTRALIZED)).as_py():
        return names
    return pc.replace_substring_regex(names, _NEUTRALIZED, r"\1")


def neutralized(names: Any) -> Any:
    """CSV cells that no spreadsheet runs as a formula (``csv_safety.neutralize``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    needs = pc.match_substring_regex(names, _FORMULA)
    if not pc.any(needs).as_py():
        return names
    return pc.if_else(needs, pc.binary_join_element_wise(pa.scalar("'"), names, ""), names)


def quoted(column: Any) -> Any:
    """A field quoted (and its quotes doubled) where the csv module would quote it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    needs = pc.match_substring_regex(column, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return column
    quote = pa.scalar('"')
    escaped = pc.replace_substring(column, '"', '""')
    return pc.if_else(needs, pc.binary_join_element_wise(quote, escaped, quote, ""), column)
