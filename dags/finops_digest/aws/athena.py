"""Run an Athena query to its end: polled for as long as the task may run (its own
``execution_timeout`` bounds it), a transient failure (Athena marks it retryable) run again."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from finops_digest.errors import FinopsError
from finops_digest.store.layout import parse_s3_uri

log = logging.getLogger(__name__)

RUNNING_STATES = ("QUEUED", "RUNNING")
# Runs of one query when Athena says its failure is retryable (internal errors, throttling).
QUERY_ATTEMPTS = 3


class AthenaQueryError(FinopsError):
    """An Athena query failed for good (bad SQL, a missing table, permissions)."""


def run_query(
    hook: Any,
    sql: str,
    *,
    database: str,
    output_location: str,
    workgroup: str,
    poll_seconds: int = 2,
) -> str:
    """Run ``sql`` with the provider's ``AthenaHook`` until it SUCCEEDED; its query execution id.

    The provider's poll gives up after its attempts and returns a RUNNING state: a slow query is
    polled again rather than failing the day.
    """
    for attempt in range(1, QUERY_ATTEMPTS + 1):
        query_id = hook.run_query(
            sql,
            query_context={"Database": database},
            result_configuration={"OutputLocation": output_location},
            workgroup=workgroup,
        )
        state = hook.poll_query_status(query_id, sleep_time=poll_seconds)
        while state in RUNNING_STATES:
            log.info("Athena query %s still %s: polling on", query_id, state)
            state = hook.poll_query_status(query_id, sleep_time=poll_seconds)
        if state == "SUCCEEDED":
            return query_id
        status = hook.get_query_info(query_id)["QueryExecution"]["Status"]
        reason = status.get("StateChangeReason", "")
        retryable = status.get("AthenaError", {}).get("Retryable", False)
        if state == "FAILED" and retryable and attempt < QUERY_ATTEMPTS:
            log.warning(
                "Athena query %s failed transiently (%s): running it again", query_id, reason
            )
            continue
        raise AthenaQueryError(f"Athena query {query_id} ended {state}: {reason}\n{sql}")
    raise AssertionError("unreachable")  # the last attempt returns or raises


def query_rows(
    hook: Any,
    sql: str,
    *,
    database: str,
    output_location: str,
    workgroup: str,
) -> list[dict[str, str | None]]:
    """Run ``sql`` (:func:`run_query`) and read every page of its results: one dict per row,
    column name -> Athena's text (NULL as None). Numbers stay text: amounts are parsed with
    ``Decimal`` by the caller, never through a float."""
    query_id = run_query(
        hook, sql, database=database, output_location=output_location, workgroup=workgroup
    )
    pages = hook.get_query_results_paginator(query_id)
    if pages is None:
        raise AthenaQueryError(f"Athena query {query_id} has no results to read\n{sql}")
    columns: list[str] = []
    rows: list[dict[str, str | None]] = []
    for page in pages:
        data = page["ResultSet"]["Rows"]
        if not columns:
            columns = [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
            data = data[1:]  # the header row, on the first page only
        for row in data:
            values = [cell.get("VarCharValue") for cell in row["Data"]]
            rows.append(dict(zip(columns, values, strict=True)))
    return rows


@dataclass(frozen=True)
class StreamedResult:
    """A finished query: its id, the bytes Athena scanned for it (what it bills: $5 per TB, 10 MB
    at least per query) and its rows, streamed from the result file (a dict per row, column name
    -> text, "" for NULL as Athena's CSV writes it), read once."""

    query_id: str
    scanned_bytes: int
    rows: Iterator[dict[str, str]]


def query_streamed(
    hook: Any,
    s3_client: Any,
    sql: str,
    *,
    database: str,
    output_location: str,
    workgroup: str,
) -> StreamedResult:
    """Run ``sql`` (:func:`run_query`) and stream its rows from the CSV Athena wrote to the output
    location: one S3 GET however many rows, where ``GetQueryResults`` pages 1,000 rows a request
    and would hold them all. For results of any size (history series, account detail)."""
    query_id = run_query(
        hook, sql, database=database, output_location=output_location, workgroup=workgroup
    )
    execution = hook.get_query_info(query_id)["QueryExecution"]
    scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes") or 0)
    uri = execution["ResultConfiguration"]["OutputLocation"]
    bucket, key = parse_s3_uri(uri)
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
    log.info("Athena query %s scanned %d bytes; reading %s", query_id, scanned, uri)
    return StreamedResult(query_id, scanned, csv.DictReader(_lines(body)))


def _lines(body: Any) -> Iterator[str]:
    """The text lines of an S3 object's streaming body (UTF-8, line ends kept for the csv
    module: a quoted field may hold one)."""
    return iter(io.TextIOWrapper(body, encoding="utf-8", newline=""))
