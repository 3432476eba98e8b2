"""An OU is the same OU across renames: its id, not its path.

The archive keeps each day's rows under the OU paths of that day (what Athena users query), and
each day's account-to-OU mapping beside them, with every OU's id. Whatever compares a day with
earlier days (the history, the previous day's spikes, the month's budget alerts) reads earlier
labels through that day's mapping as today's labels, so a rename starts no new series, raises no
"new" spike and re-alerts no budget breach.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from finops_digest.ingest.cost_rows import CostRow
from finops_digest.store import archive, layout


def renamed(then: Mapping[str, Any], now: Mapping[str, Any]) -> dict[str, str]:
    """``then``'s label -> ``now``'s label of the same OU (same id), for the OUs renamed since
    (a parent's rename renames every path below it)."""
    current = {ou["id"]: ou["name"] for ou in now["ous"] if ou.get("id")}
    return {
        ou["name"]: current[ou["id"]]
        for ou in then.get("ous", [])
        if ou.get("id") in current and current[ou["id"]] != ou["name"]
    }


def relabel(rows: Iterable[CostRow], labels: Mapping[str, str]) -> list[CostRow]:
    """``rows`` with each renamed OU's label replaced by today's."""
    if not labels:
        return list(rows)
    return [replace(r, ou=labels.get(r.ou, r.ou)) for r in rows]


class ArchivedLabels:
    """Today's labels for the labels of archived days, each day's mapping read once.

    Only each mapping's OUs (name and id) are kept, and each day's renames worked out once:
    a large organisation's mapping lists thousands of accounts, and the history asks for the
    labels of ~95 days, row after row."""

    def __init__(self, s3_client: Any, bucket: str, now: Mapping[str, Any]) -> None:
        self._s3, self._bucket, self.now = s3_client, bucket, now
        self._mappings: dict[str, dict[str, Any] | None] = {}
        self._renamed: dict[str, dict[str, str]] = {}

    def mapping(self, key: str) -> dict[str, Any] | None:
        """The OUs (``{"ous": [{"name", "id"}]}``) of the mapping stored at ``key`` (an archived
        day's, or a prefetch's); None if absent."""
        if key not in self._mappings:
            full = archive.get_json_if_exists(self._s3, self._bucket, key)
            self._mappings[key] = (
                None
                if full is None
                else {
                    "ous": [{"name": ou["name"], "id": ou.get("id")} for ou in full.get("ous", [])]
                }
            )
        return self._mappings[key]

    def of_key(self, key: str) -> dict[str, str]:
        """Renamed labels of the mapping at ``key`` (none when it is absent)."""
        if key not in self._renamed:
            then = self.mapping(key)
            self._renamed[key] = renamed(then, self.now) if then else {}
        return self._renamed[key]

    def of_day(self, day: date) -> dict[str, str]:
        """Renamed labels of ``day``'s archived mapping."""
        return self.of_key(layout.archive_key(day, layout.MAPPING_NAME))

    def renames_since(self, days: Iterable[date]) -> list[dict[str, str]]:
        """The renames since the latest of ``days`` with an archived mapping (the last run before
        today): ``[{"id", "name", "was"}]``, each said on the first day with the new path only."""
        for day in sorted(days, reverse=True):
            then = self.mapping(layout.archive_key(day, layout.MAPPING_NAME))
            if then is None:
                continue
            ids = {ou["name"]: ou.get("id") for ou in then.get("ous", [])}
            return [
                {"id": ids[was], "name": name, "was": was}
                for was, name in sorted(renamed(then, self.now).items(), key=lambda kv: kv[1])
            ]
        return []
