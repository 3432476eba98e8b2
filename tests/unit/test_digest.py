"""The digest's figures: KPIs, movers, trend, the per-OU table, and the organisation totals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from finops_digest.ingest.cost_rows import CostRow
from finops_digest.report.figures import (
    OTHER_OUS,
    TREND_DAYS,
    TREND_SERIES,
    budget_summary,
    cost_trend,
    digest_figures,
    ou_table,
)

D = Decimal
DAY = date(2025, 9, 14)


def row(days_ago, ou, cost, service="S3", account="111"):
    return CostRow(DAY - timedelta(days=days_ago), ou, service, account, D(cost))


def test_kpis_compare_with_the_previous_day_the_same_weekday_and_the_week():
    history = [row(n, "A", 10 * n) for n in range(1, 35)]
    today = [row(0, "A", "100"), row(0, "B", "50", service="EC2")]
    figures = digest_figures(DAY, today, history, [])
    assert figures["total"] == D("150")
    assert figures["change"] == {"amount": D("140"), "pct": 14.0}
    assert figures["last_week_total"] == D("70")
    assert figures["change_vs_last_week"]["amount"] == D("80")
    assert figures["seven_day_average"] == (D("150") + sum(D(10 * n) for n in range(1, 7))) / 7
    # September 1..13 are 1..13 days before the 14th.
    assert figures["month_to_date"] == D("150") + sum(D(10 * n) for n in range(1, 14))


def test_seven_day_average_needs_seven_known_days():
    figures = digest_figures(DAY, [row(0, "A", "1")], [row(1, "A", "1")], [])
    assert figures["seven_day_average"] is None


def test_movers_are_per_ou_and_service_both_ways():
    history = [row(1, "A", "100"), row(1, "A", "40", service="EC2"), row(1, "B", "5")]
    today = [row(0, "A", "160"), row(0, "A", "10", service="EC2"), row(0, "C", "7")]
    figures = digest_figures(DAY, today, history, [])
    assert [(m["ou"], m["service"], m["change"]) for m in figures["movers_up"]] == [
        ("A", "S3", D("60")),
        ("C", "S3", D("7")),
    ]
    assert [(m["ou"], m["service"], m["change"]) for m in figures["movers_down"]] == [
        ("A", "EC2", D("-30")),
        ("B", "S3", D("-5")),
    ]
    assert figures["top_movers"][0]["change"] == D("60")
    assert next(m for m in figures["movers_up"] if m["ou"] == "C")["pct"] is None


def test_trend_covers_thirty_days_and_folds_the_smallest_ous():
    rows = [row(n, f"OU{k}", k + 1) for n in range(40) for k in range(TREND_SERIES + 2)]
    trend = cost_trend(DAY, rows)
    assert len(trend["days"]) == TREND_DAYS and trend["days"][-1] == DAY
    names = [s["ou"] for s in trend["series"]]
    assert len(names) == TREND_SERIES and names[-1] == OTHER_OUS
    assert names[0] == f"OU{TREND_SERIES + 1}"  # the largest first
    total = sum(sum(s["costs"]) for s in trend["series"])
    assert total == TREND_DAYS * sum(D(k + 1) for k in range(TREND_SERIES + 2))


def forecast(ou, mtd, value, budget, light, upper=None):
    return {
        "ou": ou,
        "month_to_date": D(mtd),
        "forecast": D(value),
        "lower": None if upper is None else D(value) - 1,
        "upper": None if upper is None else D(upper),
        "method": "cost-explorer" if upper else "run-rate",
        "budget": None if budget is None else D(budget),
        "budget_used": None if budget is None else float(D(value) / D(budget)),
        "light": light,
    }


def test_ou_table_keeps_every_ou_and_the_summary_adds_up():
    rows = [
        forecast("A", "50", "120", "100", "red", upper="130"),
        forecast("Empty", "0", "0", "10", "green", upper="0"),
        forecast("B", "20", "40", None, None),
    ]
    table = ou_table([{"ou": "A", "cost": D("5"), "change": None}, {"ou": "Gone", "cost": D("1"), "change": None}], rows)  # fmt: skip
    assert [r["ou"] for r in table] == ["A", "B", "Gone", "Empty"]
    assert table[2]["forecast"] is None and table[3]["cost"] == 0
    summary = budget_summary(rows)
    assert summary["forecast"] == D("160") and summary["month_to_date"] == D("70")
    assert summary["budget"] == D("110") and summary["budgeted_forecast"] == D("120")
    assert summary["lower"] is None  # one OU has a run-rate forecast: no organisation interval
    assert summary["lights"] == {"green": 1, "amber": 0, "red": 1}
    assert summary["methods"] == ["cost-explorer", "run-rate"]
    assert budget_summary([])["budget"] is None
