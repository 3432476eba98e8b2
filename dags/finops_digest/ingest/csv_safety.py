"""Spreadsheet formula injection, neutralised in the CSV the way OWASP recommends.

A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return would run as a formula
in Excel or Sheets; such a cell gets a leading apostrophe. A cell that already starts with an
apostrophe followed by one of those gets one more, so reading the CSV back (``restore``) gives the
true value again. Athena and Parquet always keep the true value; amounts are never touched.
"""

from __future__ import annotations

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(text: str) -> str:
    """The cell as written to the CSV."""
    if text.startswith(TRIGGERS) or (
        text.startswith("'") and text[1:].startswith((*TRIGGERS, "'"))
    ):
        return "'" + text
    return text


def restore(cell: str) -> str:
    """The true value of a cell written by :func:`neutralize`."""
    if cell.startswith("'") and cell[1:].startswith((*TRIGGERS, "'")):
        return cell[1:]
    return cell
