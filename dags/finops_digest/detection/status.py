"""Whether a spike pages people: new, still elevated since an earlier alert, or expected (planned)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from finops_digest.errors import FinopsError

NEW = "new"
STILL_ELEVATED = "still_elevated"
EXPECTED = "expected"


class FeedbackError(FinopsError, ValueError):
    """An expected-anomaly entry (config or feedback file) is malformed."""


def parse_feedback(entries: Any, source: str) -> list[dict[str, Any]]:
    """Validate expected/planned entries: ``{"ou", "service" ("*" = all), "until", "reason"}``."""
    if isinstance(entries, bytes | str):
        try:
            entries = json.loads(entries)
        except json.JSONDecodeError as exc:
            raise FeedbackError(f"{source}: not valid JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise FeedbackError(
            f"{source}: expected a JSON list of entries, got {type(entries).__name__}"
        )
    parsed = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source} entry {number}"
        if not isinstance(entry, dict):
            raise FeedbackError(f"{where}: expected an object, got {entry!r}")
        missing = [k for k in ("ou", "service", "until") if not isinstance(entry.get(k), str)]
        if missing:
            raise FeedbackError(f"{where}: missing or non-text {', '.join(missing)}; got {entry!r}")
        try:
            until = date.fromisoformat(entry["until"])
        except ValueError as exc:
            raise FeedbackError(f"{where}: until {entry['until']!r} is not YYYY-MM-DD") from exc
        parsed.append(
            {
                "ou": entry["ou"],
                "service": entry["service"],
                "until": until,
                "reason": str(entry.get("reason", "")),
            }
        )
    return parsed


def classify(
    anomalies: list[dict[str, Any]],
    day: date,
    previous: list[dict[str, Any]] | None,
    feedback: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Give each anomaly a ``status`` and ``elevated_days``.

    ``expected``: the team marked this OU+service as planned until a date on or after ``day``.
    ``still_elevated``: it was an anomaly the day before too (alerted then), day N of the episode.
    ``new``: anything else; only these are alerted.
    """
    earlier = {
        (a["ou"], a["service"]): a
        for a in previous or []
        if a.get("status", NEW) in (NEW, STILL_ELEVATED)
    }
    classified = []
    for anomaly in anomalies:
        key = (anomaly["ou"], anomaly["service"])
        rule = next(
            (
                f
                for f in feedback
                if f["ou"] == key[0] and f["service"] in (key[1], "*") and f["until"] >= day
            ),
            None,
        )
        if rule is not None:
            status = {
                "status": EXPECTED,
                "elevated_days": 1,
                "expected_until": rule["until"].isoformat(),
                "expected_reason": rule["reason"],
            }
        elif key in earlier:
            status = {
                "status": STILL_ELEVATED,
                "elevated_days": int(earlier[key].get("elevated_days", 1)) + 1,
            }
        else:
            status = {"status": NEW, "elevated_days": 1}
        classified.append({**anomaly, **status})
    return classified
