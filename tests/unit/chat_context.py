"""Digest and alert contexts for the chat tests, built as ``build_report`` and
``send_anomaly_alert`` build them: real figures from cost rows, the per-OU table against
budgets, and the drill-through links when a dashboard is configured."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from finops_digest.budgets.lights import LIGHT_COLOURS, LIGHT_WORDS, traffic_light
from finops_digest.detection.findings import ALL_SERVICES
from finops_digest.ingest.cost_rows import CostRow
from finops_digest.report.drill_links import alert_links, digest_links
from finops_digest.report.figures import budget_summary, digest_figures, ou_table

D = Decimal
DAY = date(2025, 9, 14)
BASE = "https://finops.example.com/drill"
HOSTILE = "<!channel> <https://evil.example|x> *bold* & </script>"
APP, PAYER = "444455556666", "111122223333"
ACCOUNTS = {APP: {"name": "App prod"}, PAYER: {"name": "Payer"}}


def cost(days_ago: int, ou: str, service: str, amount: str, account: str = APP) -> CostRow:
    return CostRow(DAY - timedelta(days=days_ago), ou, service, account, D(amount))


def spike(ou: str, service: str, actual: str, expected: str, status: str = "new") -> dict:
    impact = D(actual) - D(expected)
    return {
        "ou": ou,
        "service": service,
        "kind": "spike",
        "severity": "high",
        "status": status,
        "elevated_days": 1 if status == "new" else 3,
        "expected": expected,
        "actual": actual,
        "impact": str(impact),
        "impact_pct": float(impact / D(expected)),
        "reason": f"{actual} against about {expected} a day",
        "drivers": [
            {"account": APP, "name": f"App prod ({APP})", "impact": str(impact), "share": 1.0}
        ],
    }


def forecast_row(ou: str, mtd: str, value: str, budget: str | None) -> dict:
    upper = D(value) * D("1.05")
    amount = None if budget is None else D(budget)
    return {
        "ou": ou,
        "month_to_date": D(mtd),
        "forecast": D(value),
        "lower": D(value) * D("0.95"),
        "upper": upper,
        "method": "cost-explorer",
        "note": "cost-explorer",
        "budget": amount,
        "budget_used": None if amount is None else float(D(value) / amount),
        "light": traffic_light(amount, D(value), upper),
    }


def digest_context(
    ous: list[str] | None = None,
    spikes: int = 2,
    dashboard: str = "",
    currency: str = "USD",
) -> dict:
    """The digest's context for ``ous`` (default: three OUs, one named ``HOSTILE``), with
    ``spikes`` new spikes (and one still elevated) and links when ``dashboard`` is set."""
    ous = ous or ["Data", "Engineering/Platform", HOSTILE]
    history, today, budgets = [], [], []
    for n, ou in enumerate(ous):
        base = 100 + 37 * n
        for days in range(1, 15):
            history.append(cost(days, ou, "Amazon EC2", f"{base}.25"))
            history.append(cost(days, ou, "Amazon S3", f"{base // 4}.10", account=PAYER))
        today.append(cost(0, ou, "Amazon EC2", f"{base + 11 * (n % 5)}.75"))
        today.append(cost(0, ou, "Amazon S3", f"{base // 4 + 3 * (n % 3)}.10", account=PAYER))
        mtd = D(base) * 14
        budget = None if n % 4 == 3 else str(D(base) * 30 + (n % 3 - 1) * 400)
        budgets.append(forecast_row(ou, str(mtd), str(D(base) * 30 + 7), budget))
    anomalies = [
        spike(ous[k % len(ous)], "Amazon EC2" if k % 2 else ALL_SERVICES, f"{900 + k}.00", "120.00")
        for k in range(spikes)
    ]
    anomalies.append(spike(ous[0], "Amazon S3", "300.00", "25.00", status="still_elevated"))
    figures = digest_figures(DAY, today, history, anomalies, ACCOUNTS)
    budgets.sort(key=lambda r: (-r["forecast"], r["ou"]))
    context = {
        **figures,
        "ou_table": ou_table(figures["ous"], budgets),
        "ou_budgets": budgets,
        "light_words": LIGHT_WORDS,
        "light_colours": LIGHT_COLOURS,
        "budget_totals": budget_summary(budgets),
        "currency": currency,
        "cost_metric": "NetAmortizedCost",
        "excluded_record_types": ("Credit", "Refund", "Tax"),
        "restated": [],
        "notices": [],
        "estimated": False,
        "restatement_days": 3,
    }
    return digest_links(context, dashboard)


def alert_context(ous: list[str] | None = None, spikes: int = 3, dashboard: str = "") -> dict:
    """The alert's context: ``spikes`` new spikes and a budget breach per over-budget OU."""
    ous = ous or ["Data", HOSTILE]
    anomalies = [
        spike(ous[k % len(ous)], "Amazon EC2", f"{500 + 10 * k}.00", "80.00") for k in range(spikes)
    ]
    breaches = [forecast_row(ou, "1900.00", "4100.00", "3000.00") for ou in ous[:2]]
    return alert_links(
        {"billing_date": DAY, "anomalies": anomalies, "budget_alerts": breaches, "currency": "USD"},
        dashboard,
    )
