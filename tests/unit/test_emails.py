import email
from datetime import date
from decimal import Decimal

from finops_digest.report.emails import build_message, money, percent, render, signed_money


def test_money_is_symbol_thousands_and_two_decimals():
    assert money(Decimal("1234567.005")) == "$1,234,567.01"
    assert money(Decimal("-3.5")) == "-$3.50"
    assert money(Decimal("0.1") + Decimal("0.2")) == "$0.30"
    assert money(Decimal("12"), "EUR") == "€12.00"
    assert money(Decimal("12"), "CHF") == "CHF 12.00"
    assert signed_money(Decimal("2500")) == "+$2,500.00"
    assert percent(0.1234) == "+12.3%"
    assert percent(None) == "n/a"


def test_names_are_escaped_in_html_but_not_in_text():
    anomaly = {
        "ou": "<script>alert(1)</script>",
        "service": "S3 & co",
        "kind": "spike",
        "severity": "high",
        "expected": "10.00",
        "actual": "500.00",
        "impact": "490.00",
        "impact_pct": 49.0,
        "drivers": [{"account": "123456789012", "impact": "490.00", "share": 1.0}],
    }
    context = {"billing_date": date(2025, 9, 14), "anomalies": [anomaly], "currency": "USD"}
    html = render("anomaly_alert.html.j2", **context)
    text = render("anomaly_alert.txt.j2", **context)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "S3 &amp; co" in html
    assert "<script>alert(1)</script> / S3 & co" in text
    assert "+$490.00" in text and "123456789012" in text


def test_message_has_text_html_and_the_attachment():
    raw = build_message(
        sender="finops@example.com",
        recipients=["a@example.com", "b@example.com"],
        subject="Digest",
        text="plain",
        html="<p>html</p>",
        attachments=[("ou_breakdown.csv", b"BillingDate\n", "text/csv")],
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == "a@example.com, b@example.com"
    assert message.get_body(("plain",)).get_content().strip() == "plain"
    assert message.get_body(("html",)).get_content().strip() == "<p>html</p>"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "ou_breakdown.csv"
    assert attachment.get_content() in ("BillingDate\n", b"BillingDate\n")


def test_the_alert_says_why_next_to_expected_and_actual_and_older_findings_still_render():
    anomaly = {
        "ou": "Shared",
        "service": "AWS Support (Business)",
        "kind": "spike",
        "severity": "high",
        "expected": "1120.00",
        "actual": "2400.00",
        "impact": "1280.00",
        "impact_pct": 1.1429,
        "reason": "$2,400.00 on the 1st; the last two 1sts were $1,100.00 & $1,090.00",
        "drivers": [],
    }
    context = {"billing_date": date(2025, 9, 1), "anomalies": [anomaly], "currency": "USD"}
    html = render("anomaly_alert.html.j2", **context)
    text = render("anomaly_alert.txt.j2", **context)
    assert "Why: $2,400.00 on the 1st; the last two 1sts were $1,100.00 &amp; $1,090.00" in html
    assert "  Why:      $2,400.00 on the 1st; the last two 1sts were $1,100.00 & $1,090.00" in text
    assert text.index("Impact:") < text.index("Why:")
    del anomaly["reason"]  # archived before findings carried one
    assert "Why" not in render("anomaly_alert.txt.j2", **context)
    assert "Why" not in render("anomaly_alert.html.j2", **context)
