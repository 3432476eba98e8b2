"""One dashboard view: what the page shows for a state (organisation -> OU -> service -> account),
asked of Athena in two rounds (which OU and days; then breakdowns, trend, spikes, budgets)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from finops_digest.budgets.lights import LIGHT_WORDS
from finops_digest.dashboard import queries
from finops_digest.dashboard.athena_reader import AthenaReader
from finops_digest.dashboard.urls import DrillState, drill_url
from finops_digest.money import cents

ORGANISATION = "Organisation"


class StateNotFound(LookupError):
    """The URL names an OU the archive does not hold in its range."""


def build_view(reader: AthenaReader, state: DrillState, dated: bool = True) -> dict[str, Any]:
    """The page's content for ``state``, as JSON-ready data (amounts rounded to the cent).

    ``dated``: the URL named its days. A URL without them shows the latest archived day."""
    started = time.monotonic()
    before = reader.queries_run
    names = queries.Names(reader.target.database, reader.target.budget_table)
    found = _first_round(reader, names, state)
    in_range = _archived(found, state)
    latest = None
    if not in_range:
        rows = reader.rows(queries.latest_archived_sql(names, state.end))
        latest = date.fromisoformat(rows[0]["billingdate"]) if rows[0]["billingdate"] else None
        if latest and not dated:
            state = replace(state, start=latest, end=latest)
            found = _first_round(reader, names, state)
            in_range = _archived(found, state)
    notices = _coverage_notices(state, in_range, latest)
    # The archived days of the period just before: what "change" compares with.
    held_before = {
        r["billingdate"] for r in found["days"] if r["billingdate"] < state.start.isoformat()
    }
    compared = _compared(held_before, state)
    if in_range and compared is not True:
        notices.append(compared)
    ou_id, path = _resolve(state, found.get("ou"))
    day = max(in_range) if in_range else None

    second = {
        "trend": queries.trend_sql(
            names, ou_id, state.service, state.account, state.start, state.end
        ),
        "anomalies": queries.anomalies_sql(
            names, ou_id, state.service, state.account, state.start, state.end
        ),
    }
    if not state.service and not state.account:
        second["ous"] = queries.child_ous_sql(names, ou_id, state.start, state.end)
    if not state.service:
        second["services"] = queries.breakdown_sql(
            names, "service", ou_id, None, state.account, state.start, state.end
        )
    elif not state.account:
        second["accounts"] = queries.breakdown_sql(
            names, "linkedaccount", ou_id, state.service, None, state.start, state.end
        )
    if day and not state.service and not state.account:
        second["budgets"] = queries.budgets_sql(names, ou_id, day)
    answers = reader.run_all(second)

    label = path[-1]["label"] if path else ORGANISATION
    state = replace(state, ou=label if ou_id else None)
    tables = []
    # An OU without child OUs shows no OU table: its accounts are all "directly in" it.
    if "ous" in answers and any(r["child"] is not None for r in answers["ous"]):
        tables.append(_ou_table(state, answers["ous"], label))
    if "services" in answers:
        tables.append(_table(state, "Services", "service", answers["services"]))
    if "accounts" in answers:
        tables.append(_table(state, "Linked accounts", "account", answers["accounts"]))
    if not held_before:  # nothing to compare with: no change, not "+100%"
        for row in (row for table in tables for row in table["rows"]):
            row["previous"] = row["change"] = None
    trend = _trend(state, answers["trend"])
    anomalies = [_anomaly(state, a) for a in answers["anomalies"]]
    if state.account and state.service:
        tables.append(_usage_types(anomalies))
    # Summed before rounding: the range's total to the cent, not a sum of rounded days.
    total = sum(r["cost"] or 0 for r in answers["trend"])
    return {
        "state": {**state.query(), "ou_id": ou_id, "level": _level(state)},
        "title": _title(state, label, _account_name(answers["trend"])),
        "breadcrumbs": _breadcrumbs(state, path),
        "rollup_note": _rollup_note(answers.get("ous"), bool(ou_id)),
        "total": _money(total),
        "archived_days": [d.isoformat() for d in in_range],
        "tables": tables,
        "trend": trend,
        "anomalies": anomalies,
        "budgets": _budgets(state, answers.get("budgets"), day),
        "notices": notices,
        "timing": {
            "seconds": round(time.monotonic() - started, 3),
            "athena_queries": reader.queries_run - before,
        },
    }


def _first_round(
    reader: AthenaReader, names: queries.Names, state: DrillState
) -> dict[str, list[dict[str, Any]]]:
    """Which days of the range (and of the period before it) are archived, and which OU the
    state names."""
    before, _ = queries.previous_period(state.start, state.end)
    first = {"days": queries.archived_days_sql(names, before, state.end)}
    if state.ou:
        first["ou"] = queries.find_ou_sql(names, state.ou, state.start, state.end)
    return reader.run_all(first)


def _archived(found: dict[str, list[dict[str, Any]]], state: DrillState) -> list[date]:
    days = (date.fromisoformat(r["billingdate"]) for r in found["days"])
    return [d for d in days if d >= state.start]


def _compared(held: set[str], state: DrillState) -> bool | str:
    """True when every day of the period before is archived (``held``), else what the change
    misses."""
    before, until = queries.previous_period(state.start, state.end)
    wanted = (until - before).days + 1
    if len(held) == wanted:
        return True
    if not held:
        return (
            f"No change shown: the {wanted} day{'s' if wanted != 1 else ''} before "
            f"({_span(before, until)}) {'are' if wanted != 1 else 'is'} not archived."
        )
    return (
        f"Changes compare with {_span(before, until)}, of which only {len(held)} of {wanted} days "
        "are archived."
    )


def _resolve(
    state: DrillState, rows: list[dict[str, Any]] | None
) -> tuple[str | None, list[dict[str, Any]]]:
    """The OU id the state names and its path from the top (as labelled on its latest day)."""
    if not state.ou:
        return None, []
    if not rows:
        raise StateNotFound(
            f"No OU {state.ou!r} in the archive between {state.start} and {state.end}: "
            "expected an OU path as the digest shows it, or an OU id"
        )
    latest = rows[0]["billingdate"]
    # A label names one OU per day; across a rename, the OU the latest day knows by it.
    ou_id = rows[0]["ou_id"]
    chain = [r for r in rows if r["billingdate"] == latest and r["ou_id"] == ou_id]
    chain.sort(key=lambda r: -r["distance"])
    return ou_id, [{"id": r["ancestor_id"], "label": r["ancestor"]} for r in chain]


def _coverage_notices(state: DrillState, in_range: list[date], latest: date | None) -> list[str]:
    wanted = (state.end - state.start).days + 1
    if not in_range:
        where = f" (the latest archived day is {latest})" if latest else ""
        return [
            f"{_span(state.start, state.end)} {'is' if wanted == 1 else 'are'} not archived "
            f"yet{where}: nothing to show."
        ]
    held = set(in_range)
    missing = [
        state.start + timedelta(days=n)
        for n in range(wanted)
        if state.start + timedelta(days=n) not in held
    ]
    if not missing:
        return []
    return [
        f"{len(missing)} of the {wanted} days are not archived yet ("
        + ", ".join(_span(a, b) for a, b in _runs(missing))
        + "): they count as no cost."
    ]


def _runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for d in days:
        if runs and d == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def _span(a: date, b: date) -> str:
    return a.isoformat() if a == b else f"{a} to {b}"


def _level(state: DrillState) -> str:
    if state.account:
        return "account"
    if state.service:
        return "service"
    return "ou" if state.ou else "organisation"


def _title(state: DrillState, label: str, account_name: str | None) -> str:
    parts = [label]
    if state.service:
        parts.append(state.service)
    if state.account:
        parts.append(f"{account_name} ({state.account})" if account_name else state.account)
    return " / ".join(parts)


def _account_name(trend: list[dict[str, Any]]) -> str | None:
    """The account's name in the archive (the cost rows' accountname), when the state names one."""
    return next((r["accountname"] for r in trend if r.get("accountname")), None)


def _breadcrumbs(state: DrillState, path: list[dict[str, Any]]) -> list[dict[str, str]]:
    crumbs = [{"label": ORGANISATION, "url": _url(state, ou=None, service=None, account=None)}]
    for ou in path:
        crumbs.append(
            {"label": ou["label"], "url": _url(state, ou=ou["label"], service=None, account=None)}
        )
    if state.service:
        crumbs.append({"label": state.service, "url": _url(state, account=None)})
    if state.account:
        crumbs.append({"label": state.account, "url": _url(state)})
    return crumbs


def _rollup_note(ous: list[dict[str, Any]] | None, in_ou: bool) -> str | None:
    children = [r for r in ous or [] if r["child"] is not None]
    if not in_ou or not children:
        return None
    n = len(children)
    return (
        f"Totals include {n} child OU{'s' if n != 1 else ''}: each OU's cost counts its own "
        "accounts and those of the OUs nested in it."
    )


def _url(state: DrillState, **changes: str | None) -> str:
    return drill_url("", replace(state, **changes))


def _money(value: float | None) -> float | None:
    return None if value is None else float(cents(value))


def _row(label: str, key: str, url: str | None, r: dict[str, Any], total: float) -> dict[str, Any]:
    cost, previous = _money(r["cost"]) or 0.0, _money(r["previous"]) or 0.0
    return {
        "label": label,
        "key": key,
        "url": url,
        "cost": cost,
        "previous": previous,
        "change": _money(cost - previous),
        "share": round(cost / total, 4) if total else None,
    }


def _ou_table(state: DrillState, rows: list[dict[str, Any]], label: str) -> dict[str, Any]:
    total = sum(r["cost"] or 0 for r in rows)
    out = []
    for r in rows:
        if r["child"] is None:
            out.append(_row(f"Accounts directly in {label}", "", None, r, total))
        else:
            url = _url(state, ou=r["label"], service=None, account=None)
            out.append(_row(r["label"], r["child"], url, r, total))
    return {"title": "Child OUs" if state.ou else "OUs", "dimension": "ou", "rows": out}


def _table(state: DrillState, title: str, dimension: str, rows: list[dict[str, Any]]):
    total = sum(r["cost"] or 0 for r in rows)
    out = []
    for r in rows:
        key = r["key"]
        if dimension == "service":
            label, url = key, _url(state, service=key)
        else:
            label = f"{r['label']} ({key})" if r["label"] else key
            url = _url(state, account=key)
        out.append(_row(label, key, url, r, total))
    return {"title": title, "dimension": dimension, "rows": out}


def _trend(state: DrillState, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cost = {r["day"]: r["cost"] for r in rows}
    days = [state.start + timedelta(days=n) for n in range((state.end - state.start).days + 1)]
    return [{"day": d.isoformat(), "cost": _money(cost.get(d.isoformat()))} for d in days]


def _anomaly(state: DrillState, a: dict[str, Any]) -> dict[str, Any]:
    day = date.fromisoformat(a["day"])
    # The root cause: the spiking OU's service (and its top account) over the two weeks to it.
    cause = DrillState(
        start=day - timedelta(days=13),
        end=day,
        ou=a["ou"],
        service=a["service"],
        account=a["account"],
    )
    return {
        "day": a["day"],
        "ou": a["ou"],
        "service": a["service"],
        "status": a["status"],
        "impact": _money(a["impact"]),
        "actual": _money(a["actual"]),
        "expected": _money(a["expected"]),
        "reason": a["reason"],
        "account": a["account"],
        "account_label": a["account_label"],
        "usage_type": a["usage_type"],
        "url": drill_url("", cause),
    }


def _usage_types(anomalies: list[dict[str, Any]]) -> dict[str, Any]:
    """The account's usage types where the archive has them: the root causes of its spikes."""
    rows = [
        {
            "label": a["usage_type"],
            "key": a["usage_type"],
            "url": None,
            "cost": a["impact"],
            "previous": None,
            "change": None,
            "share": None,
            "day": a["day"],
        }
        for a in anomalies
        if a["usage_type"]
    ]
    return {
        "title": "Usage types behind this account's spikes",
        "dimension": "usage_type",
        "rows": rows,
        "empty": "The archive has usage types only for the spikes detection explained; "
        "this account had none in the range.",
    }


def _budgets(
    state: DrillState, rows: list[dict[str, Any]] | None, day: date | None
) -> dict[str, Any] | None:
    if rows is None or day is None:
        return None
    month = DrillState(start=day.replace(day=1), end=day)
    return {
        "day": day.isoformat(),
        "rows": [
            {
                "ou": r["ou"],
                "url": drill_url("", replace(month, ou=r["ou"])),
                "month_to_date": _money(r["month_to_date"]),
                "budget": _money(r["budget"]),
                "forecast": _money(r["forecast"]),
                "forecast_lower": _money(r["forecast_lower"]),
                "forecast_upper": _money(r["forecast_upper"]),
                "light": r["light"],
                "light_word": LIGHT_WORDS.get(r["light"], LIGHT_WORDS[None]),
            }
            for r in rows
        ],
    }
