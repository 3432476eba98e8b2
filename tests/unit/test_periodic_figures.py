"""The weekly digest's and the month-close report's figures from Athena's rows (text, as Athena
returns them), the chargeback file, and the emails rendered from them."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finops_digest.ingest.csv_safety import restore
from finops_digest.money import CENT, cents, round_to_total
from finops_digest.report import emails
from finops_digest.report.month_close import (
    CHARGEBACK_HEADER,
    chargeback_csv,
    chargeback_lines,
    month_budgets,
    month_close_figures,
    restatements,
)
from finops_digest.report.period_figures import spans
from finops_digest.report.weekly import TOP_MOVERS, weekly_figures

WEEK = (date(2025, 11, 24), date(2025, 11, 30))
HOSTILE = """<script>alert("x")</script> =HYPERLINK("http://x")"""


def row(period, ou, service, cost):
    return {"period": period, "ou": ou, "service": service, "cost": cost}


amounts = st.decimals(min_value=Decimal("-50"), max_value=Decimal("100000"), places=10)


@given(st.lists(amounts, min_size=1, max_size=60))
def test_rounded_parts_add_up_to_the_rounded_total_each_within_a_cent(values):
    parts = round_to_total(values, cents(sum(values)))
    assert sum(parts) == cents(sum(values))
    assert all(
        p == p.quantize(CENT) and abs(p - v) < CENT for p, v in zip(parts, values, strict=True)
    )


def test_a_total_the_values_cannot_reach_is_refused():
    with pytest.raises(ValueError, match="cannot be spread"):
        round_to_total([Decimal("1.001"), Decimal("2.001")], Decimal("3.50"))


def weekly(totals, archived=None, anomalies=(), budgets=()):
    start, end = WEEK
    every = {start - timedelta(days=7) + timedelta(days=n) for n in range(14)}
    return weekly_figures(
        start, end, totals, every if archived is None else archived, list(anomalies), list(budgets)
    )


def test_the_week_against_the_week_before_per_ou_service_and_mover():
    figures = weekly(
        [
            row("current", "Data", "Amazon S3", "1000.5000000001"),
            row("current", "Data", "Amazon EC2", "2.0E3"),
            row("previous", "Data", "Amazon S3", "500.25"),
            row("previous", "Data", "Amazon EC2", "2000"),
            row("current", "Sales", "Amazon S3", "10"),
            row("previous", "Gone", "AWS Lambda", "40"),
        ]
    )
    assert figures["total"] == Decimal("3010.5000000001")
    assert figures["previous_total"] == Decimal("2540.25")
    assert cents(figures["change"]["amount"]) == Decimal("470.25")
    assert [(o["ou"], cents(o["cost"]), cents(o["previous"])) for o in figures["ous"]] == [
        ("Data", Decimal("3000.50"), Decimal("2500.25")),
        ("Sales", Decimal("10.00"), Decimal("0.00")),
        ("Gone", Decimal("0.00"), Decimal("40.00")),
    ]
    assert figures["ous"][1]["change"]["pct"] is None  # new this week
    services = {s["service"]: cents(s["cost"]) for s in figures["services"]}
    assert services == {
        "Amazon EC2": Decimal("2000.00"),
        "Amazon S3": Decimal("1010.50"),
        "AWS Lambda": Decimal("0.00"),
    }
    # Largest absolute change first; unchanged lines are no movers.
    assert [(m["ou"], m["service"]) for m in figures["movers"]] == [
        ("Data", "Amazon S3"),
        ("Gone", "AWS Lambda"),
        ("Sales", "Amazon S3"),
    ]
    assert figures["missing"] == [] and figures["missing_previous"] == []


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["current", "previous"]),
            st.sampled_from(["A", "B", "C/D"]),
            st.sampled_from(["S3", "EC2", "RDS", "Lambda"]),
            st.decimals(min_value=0, max_value=10**6, places=4),
        ),
        max_size=40,
    )
)
def test_ous_services_and_the_total_always_agree(rows):
    merged: dict = {}
    for period, ou, service, cost in rows:
        merged[(period, ou, service)] = merged.get((period, ou, service), 0) + cost
    figures = weekly([row(p, o, s, str(c)) for (p, o, s), c in merged.items()])
    assert sum(o["cost"] for o in figures["ous"]) == figures["total"]
    assert (
        sum(s["cost"] for s in figures["services"])
        + (figures["other_services"]["cost"] if figures["other_services"] else 0)
        == figures["total"]
    )
    assert sum(o["previous"] for o in figures["ous"]) == figures["previous_total"]
    changes = [abs(m["change"]["amount"]) for m in figures["movers"]]
    assert changes == sorted(changes, reverse=True) and len(changes) <= TOP_MOVERS


def test_days_not_archived_are_named_and_the_budgets_are_as_of_the_last_archived_day():
    start, end = WEEK
    archived = {start + timedelta(days=n) for n in range(7)} - {date(2025, 11, 30)}
    archived |= {date(2025, 11, 17)}
    figures = weekly(
        [row("current", "Data", "S3", "1")],
        archived,
        budgets=[
            {
                "ou": "Data",
                "month_to_date": "90",
                "budget": "100",
                "forecast": "120",
                "light": "red",
            },
            {"ou": "Sales", "month_to_date": "5", "budget": None, "forecast": None, "light": None},
        ],
    )
    assert figures["missing"] == [date(2025, 11, 30)]
    assert figures["missing_previous"] == [date(2025, 11, 18) + timedelta(n) for n in range(6)]
    assert figures["budgets_as_of"] == date(2025, 11, 29)
    assert [(b["ou"], b["used"], b["light"]) for b in figures["budgets"]] == [
        ("Data", 0.9, "red"),
        ("Sales", None, None),
    ]


def test_spikes_are_grouped_per_ou_and_service_with_their_latest_status():
    spike = lambda day, status, impact: {  # noqa: E731
        "billingdate": day,
        "ou": "Marketing",
        "service": "Amazon CloudFront",
        "status": status,
        "severity": "high",
        "actual": "2800.0",
        "expected": "300.0",
        "impact": impact,
        "reason": "4.2 sigma",
        "account_label": "marketing-prod (1234)",
    }
    figures = weekly(
        [row("current", "Marketing", "Amazon CloudFront", "1")],
        anomalies=[
            spike("2025-11-25", "new", "2500.0"),
            spike("2025-11-26", "still_elevated", "1800.0"),
        ],
    )
    [episode] = figures["spikes"]
    assert episode["first_day"] == date(2025, 11, 25) and episode["days"] == 2
    assert episode["status"] == "still elevated"
    assert episode["impact"] == Decimal("2500.0") and episode["peak_day"] == date(2025, 11, 25)


def chargeback_rows():
    return [
        {
            "ou": "Data",
            "service": "Amazon S3",
            "linkedaccount": "111",
            "accountname": "data-prod",
            "cost": "10.004",
        },
        {
            "ou": "Data",
            "service": "Amazon EC2",
            "linkedaccount": "111",
            "accountname": "data-prod",
            "cost": "100.333",
        },
        {
            "ou": "Data",
            "service": "Amazon EC2",
            "linkedaccount": "222",
            "accountname": None,
            "cost": "100.333",
        },
        {
            "ou": HOSTILE,
            "service": "-cmd",
            "linkedaccount": "333",
            "accountname": "@sum(A1)",
            "cost": "0.335",
        },
    ]


def test_the_chargeback_file_adds_up_to_the_month_and_neutralises_formulas():
    lines = chargeback_lines(chargeback_rows())
    data = chargeback_csv(date(2025, 11, 1), lines)
    parsed = list(csv.reader(io.StringIO(data.decode())))
    assert tuple(parsed[0]) == CHARGEBACK_HEADER
    body = parsed[1:]
    assert sum(Decimal(r[5]) for r in body) == cents(Decimal("211.005"))
    assert {r[0] for r in body} == {"2025-11"}
    # Sorted by OU, cost (largest first), service, account; the ties by service then account.
    assert [(r[1], r[2], r[3], r[5]) for r in body] == [
        (HOSTILE, "'-cmd", "333", "0.34"),
        ("Data", "Amazon EC2", "111", "100.33"),
        ("Data", "Amazon EC2", "222", "100.33"),
        ("Data", "Amazon S3", "111", "10.01"),
    ]
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in body for cell in r[1:5])
    assert restore(body[0][4]) == "@sum(A1)"


def test_the_month_per_ou_against_budget_and_the_month_before():
    lines = chargeback_lines(chargeback_rows())
    figures = month_close_figures(
        date(2025, 11, 1),
        date(2025, 11, 30),
        [
            row("previous", "Data", "Amazon S3", "150"),
            row("previous", "Old", "Amazon S3", "5"),
            row("current", "Data", "Amazon S3", "10.004"),
        ],
        lines,
        {date(2025, 11, 1) + timedelta(n) for n in range(30)} - {date(2025, 11, 19)},
        [
            {
                "billingdate": "2025-11-26",
                "ou": "Data",
                "service": "Amazon EC2",
                "status": "new",
                "actual": "900",
                "expected": "100",
                "impact": "800",
                "reason": "",
                "account_label": "",
            },
            {
                "billingdate": "2025-11-27",
                "ou": "Data",
                "service": "Amazon EC2",
                "status": "still_elevated",
                "actual": "900",
                "expected": "100",
                "impact": "800",
                "reason": "",
                "account_label": "",
            },
        ],
        month_budgets(
            [{"ou": "Data", "budget": "200", "budget_source": "config"}],
            {"Data": Decimal("999"), "Sandbox": Decimal("10")},
        ),
        [],
    )
    ous = {r["ou"]: r for r in figures["ous"]}
    assert ous["Data"]["cost"] == Decimal("210.67")
    assert ous["Data"]["budget"] == Decimal("200") and ous["Data"]["light"] == "red"
    assert ous["Sandbox"]["cost"] == 0 and ous["Sandbox"]["light"] == "green"
    assert ous["Old"]["previous"] == Decimal("5.00") and ous["Old"]["cost"] == 0
    assert figures["total"] == sum(line["cost"] for line in lines) == Decimal("211.01")
    assert figures["missing"] == [date(2025, 11, 19)]
    assert len(figures["missing_previous"]) == 31  # October: nothing archived
    assert [(a["day"], a["service"]) for a in figures["anomalies"]] == [
        (date(2025, 11, 26), "Amazon EC2")
    ]
    assert figures["lights"] == {"green": 1, "amber": 0, "red": 1}


def test_restatements_list_only_the_days_whose_total_changed():
    firsts = {date(2025, 11, 3): Decimal("10"), date(2025, 11, 4): Decimal("7")}
    currents = {date(2025, 11, 3): Decimal("12.5"), date(2025, 11, 4): Decimal("7.00")}
    assert restatements(firsts, currents) == [
        {
            "billing_date": date(2025, 11, 3),
            "first_total": Decimal("10"),
            "total": Decimal("12.5"),
            "delta": Decimal("2.5"),
        }
    ]


def render(template, context):
    context = {**context, "delivery": {"mode": "attached"}}
    return (
        emails.render(f"{template}.html.j2", **context),
        emails.render(f"{template}.txt.j2", **context),
    )


def test_both_emails_escape_names_in_html_and_keep_them_in_text():
    weekly_context = {
        **weekly(
            [row("current", HOSTILE, "S3", "5"), row("previous", HOSTILE, "S3", "1")],
            archived={WEEK[0]},
        ),
        "billing_date": date(2025, 12, 1),
        "currency": "USD",
        "cost_metric": "NetAmortizedCost",
        "table": "finops_db.ou_breakdown",
    }
    html, text = render("weekly_digest", weekly_context)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert HOSTILE in text
    assert "Not archived this week: Tue 25 Nov" in text
    lines = chargeback_lines(chargeback_rows())
    month_context = {
        **month_close_figures(date(2025, 11, 1), date(2025, 11, 30), [], lines, set(), [], {}, []),
        "billing_date": date(2025, 12, 3),
        "currency": "USD",
        "cost_metric": "NetAmortizedCost",
        "table": "finops_db.ou_breakdown",
        "chargeback": {"uri": "s3://b/reports/x.csv", "version_id": "v1"},
    }
    html, text = render("month_close", month_context)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert HOSTILE in text and "0 of 30 days archived" in text


def test_missing_days_read_as_spans():
    days = [date(2025, 10, 1) + timedelta(n) for n in range(26)] + [date(2025, 10, 29)]
    assert spans(days) == [
        (date(2025, 10, 1), date(2025, 10, 26)),
        (date(2025, 10, 29), date(2025, 10, 29)),
    ]
    assert spans([]) == []


def test_a_period_before_with_nothing_archived_is_no_comparison():
    """No "+$211.01 vs October" when October was never archived: the change is n/a."""
    from finops_digest.report.subjects import month_close_subject

    november = {date(2025, 11, 1) + timedelta(n) for n in range(30)}
    lines = chargeback_lines(chargeback_rows())
    alone = month_close_figures(
        date(2025, 11, 1), date(2025, 11, 30), [], lines, november, [], {}, []
    )
    assert alone["compared"] is False
    subject = month_close_subject(date(2025, 11, 1), date(2025, 10, 1), alone, "USD")
    assert subject == "[FinOps] Month close November 2025: $211.01 (October is not archived)"
    context = {
        **alone,
        "billing_date": date(2025, 12, 3),
        "currency": "USD",
        "cost_metric": "NetAmortizedCost",
        "table": "finops_db.ou_breakdown",
        "chargeback": {"uri": "s3://b/reports/x.csv", "version_id": "v1"},
    }
    html, text = render("month_close", context)
    assert "vs October:      n/a, nothing archived in October" in text
    assert "+$211.01" not in text and "+$211.01" not in html
    october = {date(2025, 10, 1) + timedelta(n) for n in range(31)}
    both = month_close_figures(
        date(2025, 11, 1),
        date(2025, 11, 30),
        [row("previous", "Data", "Amazon S3", "100")],
        lines,
        november | october,
        [],
        {},
        [],
    )
    assert both["compared"] is True
    assert "(+$111.01 vs October)" in month_close_subject(
        date(2025, 11, 1), date(2025, 10, 1), both, "USD"
    )
