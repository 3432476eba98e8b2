"""Every dashboard state is a URL: the one place its query string is written and read, so the
links in the digest and the alerts open exactly the view the page would show for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

# The query parameters, in the order links write them.
PARAMS = ("ou", "service", "account", "from", "to")


@dataclass(frozen=True)
class DrillState:
    """One view of the dashboard: an OU (its path label, or its Organizations id), optionally a
    service and a linked account within it, over the days ``start`` to ``end`` (inclusive)."""

    start: date
    end: date
    ou: str | None = None
    service: str | None = None
    account: str | None = None

    def query(self) -> dict[str, str]:
        """The state's query parameters (unset levels left out)."""
        values = {
            "ou": self.ou,
            "service": self.service,
            "account": self.account,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
        }
        return {k: v for k, v in values.items() if v}


def drill_url(base: str, state: DrillState) -> str:
    """``base?ou=...&service=...&from=...&to=...``: the link to ``state`` on the dashboard at
    ``base`` (``dashboard_url`` in ``finops_config``); values are percent-encoded."""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(state.query())}"


def parse_state(params: dict[str, str], default_day: date) -> DrillState:
    """The state a URL's query parameters name; ``from``/``to`` default to ``default_day``.

    Raises ValueError naming the parameter when a date is malformed or the range is reversed.
    """
    days = {}
    for name in ("from", "to"):
        raw = params.get(name)
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise ValueError(f"'{name}' must be a date as YYYY-MM-DD, got {raw!r}") from None
    end = days["to"] or days["from"] or default_day
    start = days["from"] or end
    if start > end:
        raise ValueError(f"'from' ({start}) is after 'to' ({end})")
    clean = {k: (params.get(k) or "").strip() or None for k in ("ou", "service", "account")}
    return DrillState(start=start, end=end, **clean)
