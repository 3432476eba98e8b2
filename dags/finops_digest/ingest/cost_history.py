"""The recent cost history the anomaly detection and the digest compare against.

``load_history`` gives it as cost rows, in a form whose size does not grow with the archive:

* per (day, OU, service) sums with no account (``linked_account == ""``) for every day of the
  window but the last: the series detection, the forecast and the digest's trend, month to date
  and movers are computed from (at most OUs x services rows a day, however many accounts);
* the day before D (the window's last day) account by account: what the digest's top lines and
  movers compare the day with.

Where a day's sums come from, cheapest first:

1. Athena over the archived Parquet (``history_queries``): one query for the whole window;
2. an archived day Athena does not answer for (its partition is not registered yet, or Athena is
   not set up: a first run) is read from its archived CSV in this worker, one day at a time;
3. a day not archived, from its prefetched parts (``prefetch``);
4. else, with ``cost_source: data_exports``, from the export through Athena (one query), with
   today's account-to-OU mapping;
5. else from Cost Explorer with today's account-to-OU mapping (so the very first run has history).

Days from 3 to 5 are also kept account by account (``detail``): the root cause of a spike reads
them there, and the archived days through Athena or their CSV (``detection.account_history``).
Rows are read under today's OU labels: an OU renamed since keeps its history (``ou_identity``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finops_digest.aws import cost_explorer
from finops_digest.aws.athena import AthenaQueryError
from finops_digest.detection.detector import HISTORY_DAYS
from finops_digest.ingest import prefetch_manifest as prefetch
from finops_digest.ingest.cost_rows import CostRow, from_csv
from finops_digest.ingest.history_queries import HistoryQueries
from finops_digest.ingest.ou_identity import ArchivedLabels, relabel
from finops_digest.store import archive
from finops_digest.store.layout import archive_key, s3_uri

log = logging.getLogger(__name__)

# The digest compares against the previous day and the month to date, so history covers a month.
DIGEST_HISTORY_DAYS = 31
# The days before D read as history: what the detector and the digest compare the day with.
HISTORY_WINDOW_DAYS = max(HISTORY_DAYS, DIGEST_HISTORY_DAYS)
# An aggregated row's account: it sums every account of its OU and service that day.
ALL_ACCOUNTS = ""
# The Data Export's rows of first..last under today's mapping, and the bytes Athena scanned.
ExportHistory = Callable[[date, date], tuple[int, Iterable[CostRow]]]


@dataclass
class LoadedHistory:
    """The history's rows (sums, and the last day account by account), the account-level rows of
    the days neither archived nor in Athena (``detail``), where each day came from, and stats."""

    rows: list[CostRow]
    detail: list[CostRow]
    athena_days: list[date]
    # Archived days before the last read from their CSV in the worker: the version read (None:
    # the latest); the last day is read from its CSV always, and staged whole.
    csv_days: dict[date, str | None]
    stats: dict[str, int] = field(default_factory=dict)


def load_history(
    s3_client: Any,
    ce_client: Any,
    queries: HistoryQueries | None,
    *,
    bucket: str,
    days: Sequence[date],
    labels: ArchivedLabels,
    metric: str,
    excluded_record_types: Sequence[str],
    currency: str,
    versions: Mapping[date, str] | None = None,
    export: ExportHistory | None = None,
) -> LoadedHistory:
    """The history of ``days`` (oldest first; the last is the day before D), as described above.

    ``queries`` is None where Athena is not to be asked (every archived day is then read from its
    CSV). ``export`` reads days neither archived nor prefetched from the cost source's Data
    Export (``cost_source: data_exports``) before Cost Explorer is asked. ``versions`` pins the
    archived version read for a day (the version a restatement of this run just wrote; Athena
    reads that latest version anyway). Days before Cost Explorer's daily
    horizon that are neither archived nor prefetched are left out (``beyond_horizon_days``), never
    asked for.

    ``stats``: ``archived_days``, ``athena_days`` (of those, read through Athena),
    ``athena_scanned_bytes``, ``rows_read_in_worker`` (rows of days before the last read here
    rather than summed by Athena: what the fallbacks cost), ``prefetched_days``, ``export_days``,
    ``cost_explorer_days``, ``cost_explorer_requests``, ``beyond_horizon_days``; Athena's bytes
    include the export's query.
    """
    versions = versions or {}
    previous = days[-1]
    history = _History(previous)
    athena_days = _from_athena(queries, days[:-1], labels, history)
    unarchived: list[date] = []
    csv_days: dict[date, str | None] = {}
    for day in days:
        if day in athena_days:
            continue
        data = (
            archive.get_bytes(s3_client, bucket, archive_key(day), versions[day])
            if day in versions
            else archive.get_if_exists(s3_client, bucket, archive_key(day))
        )
        if data is None:
            unarchived.append(day)
            continue
        if day != previous:  # the day before D is staged account by account anyway
            csv_days[day] = versions.get(day)
            history.read_bytes += len(data)
        rows = from_csv(data, s3_uri(bucket, archive_key(day)))
        del data  # one day's CSV and rows at a time, not the last day's CSV till the end
        history.add(relabel(rows, labels.of_day(day)))
        del rows
    if csv_days and queries is not None:
        log.warning(
            "%d archived history day(s) are not in Athena (partition not registered, or Athena "
            "not set up): read from their CSV in this worker instead, one day at a time (%d rows, "
            "%d bytes from S3): %s",
            len(csv_days),
            history.read_rows,
            history.read_bytes,
            ", ".join(d.isoformat() for d in sorted(csv_days)),
        )
    prefetched = prefetch.prefetched_days(s3_client, bucket, unarchived)
    for manifest in prefetched.values():
        renamed = labels.of_key(manifest["mapping_key"])
        for key in manifest["parts"].values():
            part = from_csv(archive.get_bytes(s3_client, bucket, key), s3_uri(bucket, key))
            history.add(relabel((r for r in part if r.daily_cost != 0), renamed), detail=True)
    rest = [day for day in unarchived if day not in prefetched]
    exported, export_bytes = _from_export(export, rest, history)
    # Cost Explorer no longer has the days before its horizon: they are left out, said in stats.
    horizon = cost_explorer.daily_horizon()
    beyond = [day for day in rest if day not in exported and day < horizon]
    missing = [day for day in rest if day not in exported and day >= horizon]
    requests = _from_cost_explorer(
        ce_client, missing, labels, history, metric, excluded_record_types, currency
    )
    stats = {
        "archived_days": len(days) - len(unarchived),
        "athena_days": len(athena_days),
        "athena_scanned_bytes": (queries.scanned_bytes if queries else 0) + export_bytes,
        # What the fallbacks cost this worker: rows of the days before the last it read itself.
        "rows_read_in_worker": history.read_rows,
        "prefetched_days": len(prefetched),
        "export_days": len(exported),
        "cost_explorer_days": len(missing),
        "cost_explorer_requests": requests,
        "beyond_horizon_days": len(beyond),
    }
    if beyond:
        log.warning(
            "%d history days before %s are neither archived nor prefetched and beyond Cost "
            "Explorer's daily horizon: compared without them",
            len(beyond),
            horizon,
        )
    log.info("History over %d days: %s", len(days), stats)
    return LoadedHistory(history.rows(), history.detail, sorted(athena_days), csv_days, stats)


class _History:
    """The rows as they arrive: summed per (day, OU, service), the last day kept whole."""

    def __init__(self, previous: date) -> None:
        self.previous = previous
        self.sums: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
        self.last_day: list[CostRow] = []
        self.detail: list[CostRow] = []
        # Rows read into this worker for days before the last (the fallbacks' cost) and the
        # bytes of the archived CSVs among them.
        self.read_rows = 0
        self.read_bytes = 0

    def add(self, rows: Iterable[CostRow], detail: bool = False) -> None:
        for row in rows:
            if row.billing_date == self.previous:
                self.last_day.append(row)
                continue
            self.read_rows += 1
            self.sums[(row.billing_date, row.ou, row.service)] += row.daily_cost
            if detail:
                self.detail.append(row)

    def rows(self) -> list[CostRow]:
        summed = (
            CostRow(day, ou, service, ALL_ACCOUNTS, cost)
            for (day, ou, service), cost in sorted(self.sums.items())
            if cost != 0
        )
        return [*summed, *self.last_day]


def _from_athena(
    queries: HistoryQueries | None, days: Sequence[date], labels: ArchivedLabels, history: _History
) -> set[date]:
    """Add the sums Athena has for ``days`` (a run of consecutive days); the days it answered
    for. None when Athena cannot answer: the caller reads those days itself."""
    if queries is None or not days:
        return set()
    sums: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    # One object per distinct day, OU and service in the keys (a few thousand), not one a row.
    shared: dict[Any, Any] = {}
    try:
        for day, ou, service, cost in queries.series(days[0], days[-1]):
            day = shared.setdefault(day, day)
            label = labels.of_day(day).get(ou, ou)
            key = (day, shared.setdefault(label, label), shared.setdefault(service, service))
            sums[key] += cost
    except AthenaQueryError as exc:
        log.warning(
            "Athena could not read the history, so the archived days are read from their CSV in "
            "this worker instead (one S3 GET and one day's rows in memory at a time; slower at "
            "scale, no Athena charge): %s",
            str(exc).splitlines()[0],
        )
        return set()
    if history.sums:
        for key, cost in sums.items():
            history.sums[key] += cost
    else:  # Athena is asked first: no second dict of ~700,000 keys at 18,000 accounts
        history.sums = sums
    return {day for day, _, _ in sums}


def _from_export(
    export: ExportHistory | None, days: Sequence[date], history: _History
) -> tuple[set[date], int]:
    """Add ``days`` from the Data Export (one Athena query over their range, streamed); the days
    it had rows for (an export starts some day: the days before are left to Cost Explorer) and
    the bytes Athena scanned."""
    if export is None or not days:
        return set(), 0
    wanted, found = set(days), set()

    def kept(rows: Iterable[CostRow]) -> Iterator[CostRow]:
        for row in rows:
            if row.billing_date in wanted and row.daily_cost != 0:
                found.add(row.billing_date)
                yield row

    scanned, rows = export(min(days), max(days))
    history.add(kept(rows), detail=True)
    return found, scanned


def _from_cost_explorer(
    ce_client: Any,
    days: Sequence[date],
    labels: ArchivedLabels,
    history: _History,
    metric: str,
    excluded_record_types: Sequence[str],
    currency: str,
) -> int:
    """Add ``days`` from Cost Explorer, per OU of today's mapping; the requests it took."""
    if not days:
        return 0
    wanted = set(days)
    start, end = min(days), max(days) + timedelta(days=1)
    requests = 0
    for ou in labels.now["ous"]:
        if not ou["accounts"]:
            continue
        fetched, pages = cost_explorer.fetch_cost_rows(
            ce_client,
            ou=ou["name"],
            account_ids=ou["accounts"],
            start=start,
            end=end,
            metric=metric,
            excluded_record_types=excluded_record_types,
            currency=currency,
        )
        requests += pages
        history.add(
            (r for r in fetched if r.billing_date in wanted and r.daily_cost != 0), detail=True
        )
    return requests
