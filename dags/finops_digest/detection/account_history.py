"""The account-level history of the few series that spiked: what their root cause is judged on.

The staged history (``ingest.cost_history``) sums each day per OU and service; only a spike asks
which accounts explain it. Their daily costs are read for the spiking series only: through Athena
for the days it answered for (one query for every spike), from the archived CSV for the days read
that way, and from the staged rows of the days fetched from prefetched parts or Cost Explorer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from finops_digest.detection.findings import ALL_SERVICES, ORGANIZATION, AccountCosts, SeriesKey
from finops_digest.ingest.cost_rows import CostRow, from_csv
from finops_digest.ingest.history_queries import ANY, HistoryQueries, Scope
from finops_digest.ingest.ou_identity import ArchivedLabels
from finops_digest.store import archive
from finops_digest.store.layout import archive_key, s3_uri


class AccountHistory:
    """Callable by ``find_anomalies``: series keys -> account -> day -> cost, for the days before
    the window's last (which the staged history holds account by account)."""

    def __init__(
        self,
        *,
        s3_client: Any,
        bucket: str,
        labels: ArchivedLabels,
        queries: HistoryQueries | None,
        athena_days: Sequence[date],
        csv_days: Mapping[date, str | None],
        detail: Iterable[CostRow],
    ) -> None:
        self._s3, self._bucket, self._labels, self._queries = s3_client, bucket, labels, queries
        self._athena_days = sorted(athena_days)
        self._csv_days = csv_days
        self._detail = detail

    @property
    def scanned_bytes(self) -> int:
        """What its Athena query scanned."""
        return self._queries.scanned_bytes if self._queries else 0

    def __call__(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, AccountCosts]:
        found: dict[SeriesKey, AccountCosts] = {
            key: defaultdict(lambda: defaultdict(Decimal)) for key in keys
        }
        self._add_rows(found, self._detail)
        for day, version in sorted(self._csv_days.items()):
            key = archive_key(day)
            data = (
                archive.get_bytes(self._s3, self._bucket, key, version)
                if version
                else archive.get_bytes(self._s3, self._bucket, key)
            )
            self._add_rows(found, from_csv(data, s3_uri(self._bucket, key)))
        if self._queries is not None and self._athena_days:
            self._add_athena(found, list(keys))
        return found

    def _add_rows(self, found: dict[SeriesKey, AccountCosts], rows: Iterable[CostRow]) -> None:
        for row in rows:
            ou = self._labels.of_day(row.billing_date).get(row.ou, row.ou)
            for key in ((ou, row.service), (ou, ALL_SERVICES), (ORGANIZATION, ALL_SERVICES)):
                if key in found:
                    found[key][row.linked_account][row.billing_date] += row.daily_cost

    def _add_athena(self, found: dict[SeriesKey, AccountCosts], keys: list[SeriesKey]) -> None:
        scopes = [self._scope(key) for key in keys]
        first, last = self._athena_days[0], self._athena_days[-1]
        for n, day, ou, account, cost in self._queries.accounts(scopes, first, last):
            target, _ = keys[n]
            if target == ORGANIZATION or self._labels.of_day(day).get(ou, ou) == target:
                found[keys[n]][account][day] += cost

    def _scope(self, key: SeriesKey) -> Scope:
        """The rows of a series: its OU under every label it had in the window (a renamed OU's
        earlier days), its service."""
        ou, service = key
        labels = ANY
        if ou != ORGANIZATION:
            labels = frozenset(
                {ou}
                | {
                    then
                    for day in self._athena_days
                    for then, now in self._labels.of_day(day).items()
                    if now == ou
                }
            )
        return Scope(labels, ANY if service == ALL_SERVICES else service)
