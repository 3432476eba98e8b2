"""Accounts as people know them, and amounts beside a total that agree with it to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from finops_digest.ingest.former_accounts import NOT_IN_ORGANIZATION
from finops_digest.money import apportion
from finops_digest.report.accounts import NAME_LIMIT, account_label
from finops_digest.report.emails import render

ACCOUNTS = {
    "111111111111": {"name": "Payments prod", "status": "ACTIVE", "ou": "Data"},
    "222222222222": {"name": "", "status": NOT_IN_ORGANIZATION, "ou": "Unattributed"},
    "333333333333": {"name": "Old sandbox", "status": NOT_IN_ORGANIZATION, "ou": "Data"},
}


def test_a_name_comes_with_its_id_and_an_unnamed_former_account_says_closed():
    assert account_label("111111111111", ACCOUNTS) == "Payments prod (111111111111)"
    assert account_label("222222222222", ACCOUNTS) == "222222222222 (closed)"
    assert account_label("333333333333", ACCOUNTS) == "Old sandbox (333333333333)"
    assert account_label("444444444444", ACCOUNTS) == "444444444444 (closed)"


def test_hostile_names_are_one_short_line_and_escaped_in_html():
    name = '<script>alert("x")</script>\n=HYPERLINK("http://evil")' + "x" * 80
    label = account_label("111111111111", {"111111111111": {"name": name}})
    assert "\n" not in label and label.endswith("… (111111111111)")
    assert len(label) == NAME_LIMIT + len(" (111111111111)")
    anomaly = {
        "ou": "Data",
        "service": "S3",
        "kind": "spike",
        "severity": "high",
        "expected": "1.00",
        "actual": "2.00",
        "impact": "1.00",
        "impact_pct": 1.0,
        "reason": "",
        "drivers": [{"account": "111111111111", "name": label, "impact": "1.00", "share": 1.0}],
        "status": "new",
    }
    html = render(
        "anomaly_alert.html.j2",
        billing_date=date(2025, 9, 14),
        anomalies=[anomaly],
        budget_alerts=[],
        currency="USD",
    )
    assert "<script>" not in html and "&lt;script&gt;" in html


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
    st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=8),
)
def test_parts_add_up_to_the_total_to_the_cent(total, weights):
    shares = [w / sum(weights) for w in weights]
    parts = apportion(total, shares)
    assert sum(parts) == total
    assert all(
        abs(p - total * Decimal(s)) < Decimal("0.01") for p, s in zip(parts, shares, strict=True)
    )


def test_a_single_driver_at_100_percent_is_the_impact():
    assert apportion(Decimal("2512.29"), [1.0]) == [Decimal("2512.29")]
    assert sum(apportion(Decimal("100.00"), [0.5, 0.3, 0.195])) == Decimal("99.50")
