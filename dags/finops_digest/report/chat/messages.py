"""The daily digest and the spike/budget alert as chat messages, built from the same context the
email templates render, so chat and email never disagree on a number.

Chat is the compact view: the day total and its change, month to date against budget with the
lights, the top movers, the new spikes, and the drill-down link; the email keeps the full tables,
the charts and the CSV.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from finops_digest.budgets.against_budget import NOT_IN_ORGANIZATION
from finops_digest.budgets.lights import AMBER, GREEN, LIGHT_WORDS, RED
from finops_digest.detection import status
from finops_digest.money import money, percent, signed_money
from finops_digest.report.chat.content import ALERT, DIGEST, ChatMessage, Fact, Row, Section
from finops_digest.report.subjects import alert_subject, digest_subject

__all__ = ["ChatMessage", "alert_message", "digest_message"]

# A chat message is read at a glance: a few rows per list, the rest said as "and N more" (the
# email has them all). Formats may leave out more to fit their service's limits.
OU_ROWS = 10
SPIKE_ROWS = 10
BUDGET_ALERT_ROWS = 10

# The budget lights as the emoji every chat service shows; an OU without a budget gets a white
# circle, so the rows stay aligned.
LIGHT_EMOJI = {RED: "\U0001f534", AMBER: "\U0001f7e0", GREEN: "\U0001f7e2", None: "\u26aa"}
# Worst first: in a long organisation the OUs over budget are never the ones left out.
_LIGHT_ORDER = {RED: 0, AMBER: 1, GREEN: 2, None: 3}


def digest_message(
    context: Mapping[str, Any], currency: str, *, scope: str | None = None
) -> ChatMessage:
    """The compact daily digest: day total and change, month to date and forecast against budget
    with the lights per OU, the top movers, the new spikes, and the drill-down link when the
    context has links (``dashboard_url`` set); ``scope`` names an owner's OU, as the subject
    does."""
    day = context["billing_date"]
    totals = context["budget_totals"]
    anomalies = context.get("anomalies") or []
    new = [a for a in anomalies if a.get("status", status.NEW) == status.NEW]
    elevated = [a for a in anomalies if a.get("status") == status.STILL_ELEVATED]
    facts = [
        Fact("Day total", money(context["total"], currency)),
        Fact("vs previous day", _change(context.get("change"), currency)),
        Fact("Month to date", money(context["month_to_date"], currency)),
    ]
    if context.get("ou_table") and totals.get("forecast") is not None:
        run_rate = " (run-rate)" if "run-rate" in (totals.get("methods") or []) else ""
        facts.append(Fact("Month-end forecast", money(totals["forecast"], currency) + run_rate))
    if totals.get("budget") is not None:
        facts.append(
            Fact(
                "Budget",
                f"{money(totals['budget'], currency)} "
                f"(forecast at {percent(totals['budget_used'], signed=False)})",
            )
        )
        lights = totals["lights"]
        facts.append(
            Fact(
                "Budget lights",
                "  ".join(
                    f"{LIGHT_EMOJI[light]} {lights.get(light, 0)} {LIGHT_WORDS[light].lower()}"
                    for light in (RED, AMBER, GREEN)
                ),
            )
        )
    facts.append(
        Fact("Spikes", f"{len(new)} new, {len(elevated)} still elevated" if anomalies else "none")
    )
    sections = [
        _section("Month to date by OU", _ou_rows(context.get("ou_table") or [], currency), OU_ROWS),
        _section("Top movers vs previous day", _mover_rows(context, currency), None),
        _section("New spikes", [_spike_row(a, currency) for a in new], SPIKE_ROWS),
    ]
    return ChatMessage(
        category=DIGEST,
        title=_title("FinOps daily digest", scope, day),
        summary=digest_subject(context, currency, scope).removeprefix("[FinOps] "),
        billing_date=day,
        facts=tuple(facts),
        sections=tuple(s for s in sections if s.rows),
        link=context.get("drill_url"),
        footer=_digest_footer(context),
    )


def alert_message(
    context: Mapping[str, Any], currency: str, *, scope: str | None = None
) -> ChatMessage:
    """The spike and budget alert: each OU newly forecast over its budget, each new spike
    (actual against expected, impact, the account behind most of it), and the drill-down link
    when the context has links; ``scope`` names an owner's OU."""
    day = context["billing_date"]
    anomalies = context.get("anomalies") or []
    budget_alerts = context.get("budget_alerts") or []
    impact = sum((_amount(a["impact"]) for a in anomalies), Decimal(0))
    facts = [
        Fact("New spikes", str(len(anomalies))),
        Fact("Above expected", signed_money(impact, currency)),
    ]
    if budget_alerts:
        facts.append(Fact("Forecast over budget", _count(len(budget_alerts), "OU")))
    sections = [
        _section(
            f"Forecast over budget for {day:%B %Y}",
            [_budget_alert_row(b, currency) for b in budget_alerts],
            BUDGET_ALERT_ROWS,
        ),
        _section("New spikes", [_spike_row(a, currency) for a in anomalies], SPIKE_ROWS),
    ]
    return ChatMessage(
        category=ALERT,
        title=_title("FinOps cost alert", scope, day),
        summary=alert_subject(day, anomalies, budget_alerts, currency, scope).removeprefix(
            "[FinOps] "
        ),
        billing_date=day,
        facts=tuple(facts),
        sections=tuple(s for s in sections if s.rows),
        link=context.get("drill_url"),
        footer="Each spike and budget breach is alerted once; the daily digest follows.",
    )


def _title(what: str, scope: str | None, day: Any) -> str:
    return " \u00b7 ".join([what, *([scope] if scope else []), day.isoformat()])


def _section(title: str, rows: Sequence[Row], limit: int | None) -> Section:
    shown = rows if limit is None else rows[:limit]
    return Section(title, tuple(shown), more=len(rows) - len(shown))


def _ou_rows(table: Sequence[Mapping[str, Any]], currency: str) -> list[Row]:
    """Month to date against budget per OU, the lights worst first (then the table's order:
    largest forecast first); a budget naming no OU is left to the email's notice."""
    rows = [r for r in table if r.get("note") != NOT_IN_ORGANIZATION]
    rows = sorted(rows, key=lambda r: _LIGHT_ORDER.get(r.get("light"), 3))
    return [
        Row(
            name=str(r["ou"]),
            detail=_ou_detail(r, currency),
            url=r.get("drill_url"),
            marker=LIGHT_EMOJI.get(r.get("light"), LIGHT_EMOJI[None]),
        )
        for r in rows
    ]


def _ou_detail(row: Mapping[str, Any], currency: str) -> str:
    """``$7,616.00 · forecast $16,327.00 (102.6% of $15,920.00 budget)``: month to date first
    (the section's title says so), then where the month is heading."""
    if row.get("month_to_date") is None:
        return f"{money(row['cost'], currency)} on the day \u00b7 no forecast"
    detail = money(row["month_to_date"], currency)
    if row.get("forecast") is not None:
        detail += f" \u00b7 forecast {money(row['forecast'], currency)}"
    if row.get("budget") is None:
        return detail + " \u00b7 no budget"
    return (
        f"{detail} ({percent(row['budget_used'], signed=False)} of "
        f"{money(row['budget'], currency)} budget)"
    )


def _mover_rows(context: Mapping[str, Any], currency: str) -> list[Row]:
    """The top movers (largest changes either way), each linked like its row in the email's
    movers tables (``movers_up``/``movers_down`` carry the links)."""
    links = {
        (m["ou"], m["service"]): m.get("drill_url")
        for m in [*context.get("movers_up", []), *context.get("movers_down", [])]
    }
    return [
        Row(
            name=f"{m['ou']} / {m['service']}",
            detail=(
                f"{signed_money(m['change'], currency)} "
                f"({percent(m['pct']) if m.get('pct') is not None else 'new'}) "
                f"to {money(m['cost'], currency)}"
                + (f", mostly {m['account']}" if m.get("account") else "")
            ),
            url=links.get((m["ou"], m["service"])),
        )
        for m in context.get("top_movers", [])
    ]


def _spike_row(anomaly: Mapping[str, Any], currency: str) -> Row:
    pct = anomaly.get("impact_pct")
    drivers = anomaly.get("drivers") or []
    driver = drivers[0].get("name") or drivers[0].get("account") if drivers else None
    # The impact first: it is what a reader weighs a spike by.
    return Row(
        name=f"{anomaly['ou']} / {anomaly['service']}",
        detail=(
            f"{signed_money(anomaly['impact'], currency)} "
            f"({percent(pct) if pct is not None else 'new'}): "
            f"{money(anomaly['actual'], currency)} vs {money(anomaly['expected'], currency)} "
            "expected"
            + (f", {anomaly['severity']} severity" if anomaly.get("severity") else "")
            + (f", mostly {driver}" if driver else "")
        ),
        url=anomaly.get("drill_url"),
    )


def _budget_alert_row(row: Mapping[str, Any], currency: str) -> Row:
    forecast, budget = _amount(row["forecast"]), _amount(row["budget"])
    run_rate = " (run-rate)" if row.get("method") == "run-rate" else ""
    return Row(
        name=str(row["ou"]),
        detail=(
            f"forecast {money(forecast, currency)}{run_rate} vs budget {money(budget, currency)} "
            f"({signed_money(forecast - budget, currency)}, "
            f"{percent(row.get('budget_used'), signed=False)}); "
            f"{money(row['month_to_date'], currency)} month to date"
        ),
        url=row.get("drill_url"),
        marker=LIGHT_EMOJI[RED],
    )


def _digest_footer(context: Mapping[str, Any]) -> str:
    parts = [f"{context.get('cost_metric') or 'Cost'} for the UTC day"]
    if context.get("estimated"):
        parts.append("estimated: Cost Explorer may still revise it")
    parts.append("the email has every OU, the top lines, the charts and the CSV")
    return "; ".join(parts) + "."


def _change(change: Mapping[str, Any] | None, currency: str) -> str:
    if not change:
        return "n/a"
    pct = change.get("pct")
    return f"{signed_money(change['amount'], currency)}" + (
        f" ({percent(pct)})" if pct is not None else ""
    )


def _amount(value: Decimal | str | float | int) -> Decimal:
    """An amount of the context, Decimal or its string (as staged)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
