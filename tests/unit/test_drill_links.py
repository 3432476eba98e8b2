"""Drill-through links: ``dashboard_url``, and every OU row, top line, mover and spike of the
digest and the alert opening the dashboard state that explains it (or no link at all)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from finops_digest.budgets.against_budget import NOT_IN_ORGANIZATION
from finops_digest.budgets.lights import LIGHT_COLOURS, LIGHT_WORDS
from finops_digest.config import ConfigError, parse_config
from finops_digest.detection.findings import ALL_SERVICES, ORGANIZATION
from finops_digest.ingest.cost_rows import CostRow
from finops_digest.report.drill_links import alert_links, digest_links
from finops_digest.report.emails import render
from finops_digest.report.figures import budget_summary, digest_figures, ou_table

D = Decimal
DAY = date(2025, 9, 10)
MONTH = {"from": "2025-09-01", "to": "2025-09-10"}
SPIKE_DAYS = {"from": "2025-08-28", "to": "2025-09-10"}  # the 13 days before, and the day
ONE_DAY = {"from": "2025-09-10", "to": "2025-09-10"}
BASE = "https://finops.example.com/drill"
HOSTILE_OU = '<script>alert("x")</script>'
FORMULA = '=HYPERLINK("http://evil.example","click")'
QUOTED = 'Amazon "S3" & co'
PAYER, APP = "111122223333", "444455556666"


def settings(**values):
    return parse_config({"archive_bucket": "my-finops-archive", **values})


def test_dashboard_url_defaults_to_empty_and_keeps_an_http_url():
    assert settings().dashboard_url == ""
    assert settings(dashboard_url="").dashboard_url == ""
    for url in (BASE, "http://localhost:8050/", "https://bi.example.com/app?tenant=finops"):
        assert settings(dashboard_url=url).dashboard_url == url


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://finops.example.com/",
        "finops.example.com/drill",
        "https://",
        "https://finops.example.com/drill#view",
        "https://finops.example.com/a b",
        'https://finops.example.com/"><script>',
        42,
    ],
)
def test_a_dashboard_url_that_is_not_an_http_url_is_named_with_what_was_expected(bad):
    with pytest.raises(ConfigError) as error:
        settings(dashboard_url=bad)
    message = str(error.value)
    assert "dashboard_url: expected an http(s) URL of the drill-through dashboard" in message
    assert repr(bad) in message


class Anchors(HTMLParser):
    """Every ``<a href>`` of a page: (its text, its href as a browser reads it)."""

    def __init__(self, html):
        super().__init__()
        self.anchors, self._href, self._text = [], None, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs)["href"], []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.anchors.append(("".join(self._text), self._href))
            self._href = None


def state(url):
    """The dashboard state a link opens: its query parameters, each given once."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BASE
    query = parse_qs(parts.query, strict_parsing=True)
    assert all(len(v) == 1 for v in query.values()), query
    return {k: v[0] for k, v in query.items()}


def links(html):
    anchors = Anchors(html).anchors
    found = {}
    for text, href in anchors:
        found.setdefault(text, []).append(state(href))
    return found


def cost(days_ago, ou, service, account, amount):
    return CostRow(DAY - timedelta(days=days_ago), ou, service, account, D(amount))


def spike(ou, service, drivers=(), status="new"):
    return {
        "ou": ou,
        "service": service,
        "kind": "spike",
        "severity": "high",
        "status": status,
        "elevated_days": 2,
        "expected": "10.00",
        "actual": "500.00",
        "impact": "490.00",
        "impact_pct": 49.0,
        "reason": "$500.00 against about $10.00 a day",
        "drivers": [
            {"account": a, "name": f"App ({a})", "impact": "490.00", "share": 1.0} for a in drivers
        ],
    }


def budget(ou, mtd, value, amount, light, note="cost-explorer"):
    return {
        "ou": ou,
        "month_to_date": D(mtd),
        "forecast": D(value),
        "lower": D(value),
        "upper": D(value),
        "method": "cost-explorer",
        "note": note,
        "budget": D(amount),
        "budget_used": float(D(value) / D(amount)),
        "light": light,
    }


ANOMALIES = [
    spike(HOSTILE_OU, QUOTED, drivers=[APP]),
    spike("Data", ALL_SERVICES),
    spike(ORGANIZATION, ALL_SERVICES, status="still_elevated"),
]


def digest_context():
    """The digest's context as ``build_report`` stages it, with hostile OU and service names."""
    history = [
        cost(1, HOSTILE_OU, QUOTED, APP, "10"),
        cost(1, "Data", FORMULA, PAYER, "80"),
        cost(1, "Data", "EC2", PAYER, "30"),
    ]
    today = [
        cost(0, HOSTILE_OU, QUOTED, APP, "500"),
        cost(0, "Data", FORMULA, PAYER, "60"),
        cost(0, "Data", "EC2", APP, "40"),
    ]
    accounts = {APP: {"name": "App prod"}, PAYER: {"name": "Payer"}}
    figures = digest_figures(DAY, today, history, ANOMALIES, accounts)
    rows = [
        budget("Data", "900", "2000", "1500", "red"),
        budget(HOSTILE_OU, "700", "1400", "5000", "green"),
        {**budget("Retired", "0", "0", "100", "green"), "note": NOT_IN_ORGANIZATION},
    ]
    return {
        **figures,
        "ou_table": ou_table(figures["ous"], rows),
        "ou_budgets": rows,
        "light_words": LIGHT_WORDS,
        "light_colours": LIGHT_COLOURS,
        "budget_totals": budget_summary(rows),
        "currency": "USD",
        "cost_metric": "NetAmortizedCost",
        "excluded_record_types": ("Credit", "Refund", "Tax"),
        "archive": {"csv": {"uri": "s3://bucket/ou_breakdown.csv", "version_id": "v1"}},
        "restated": [],
        "notices": [],
        "estimated": False,
        "restatement_days": 3,
        "images": {"trend": "trend@finops-digest"},
        "delivery": {"mode": "attached"},
    }


def alert_context():
    return {
        "billing_date": DAY,
        "anomalies": ANOMALIES,
        "budget_alerts": [budget("Data", "900", "2000", "1500", "red")],
        "currency": "USD",
    }


def test_every_ou_row_top_line_mover_and_spike_of_the_digest_opens_its_state():
    html = render("digest.html.j2", **digest_links(digest_context(), BASE))
    found = links(html)
    # OU rows: the OU's month to date (the budget naming no OU has nothing to show).
    assert found["Data"] == [{"ou": "Data", **MONTH}]
    assert found[HOSTILE_OU] == [{"ou": HOSTILE_OU, **MONTH}]
    assert "Retired" not in found
    # Top lines: the line itself on the day, down to its account.
    assert found[QUOTED] == [{"ou": HOSTILE_OU, "service": QUOTED, "account": APP, **ONE_DAY}]
    assert found[FORMULA] == [{"ou": "Data", "service": FORMULA, "account": PAYER, **ONE_DAY}]
    assert found["EC2"] == [{"ou": "Data", "service": "EC2", "account": APP, **ONE_DAY}]
    # Movers: their OU and service on the day.
    assert found[f"{HOSTILE_OU} / {QUOTED}"][-1] == {
        "ou": HOSTILE_OU,
        "service": QUOTED,
        **ONE_DAY,
    }
    assert found[f"Data / {FORMULA}"] == [{"ou": "Data", "service": FORMULA, **ONE_DAY}]
    assert found["Data / EC2"] == [{"ou": "Data", "service": "EC2", **ONE_DAY}]
    # Spikes: two weeks ending the day, down to the driving account; totals drill up.
    assert found[f"{HOSTILE_OU} / {QUOTED}"][0] == {
        "ou": HOSTILE_OU,
        "service": QUOTED,
        "account": APP,
        **SPIKE_DAYS,
    }
    assert found[f"Data / {ALL_SERVICES}"] == [{"ou": "Data", **SPIKE_DAYS}]
    assert found[f"{ORGANIZATION} / {ALL_SERVICES}"] == [SPIKE_DAYS]  # still elevated


def test_the_alert_links_each_spike_to_its_two_weeks_and_each_budget_row_to_its_month():
    context = alert_links(alert_context(), BASE)
    found = links(render("anomaly_alert.html.j2", **context))
    assert found == {
        "Data": [{"ou": "Data", **MONTH}],
        f"{HOSTILE_OU} / {QUOTED}": [
            {"ou": HOSTILE_OU, "service": QUOTED, "account": APP, **SPIKE_DAYS}
        ],
        f"Data / {ALL_SERVICES}": [{"ou": "Data", **SPIKE_DAYS}],
        f"{ORGANIZATION} / {ALL_SERVICES}": [SPIKE_DAYS],
    }
    lines = render("anomaly_alert.txt.j2", **context).splitlines()
    urls = [line.strip() for line in lines if line.strip().startswith(BASE)]
    assert [state(u) for u in urls] == [
        {"ou": "Data", **MONTH},
        {"ou": HOSTILE_OU, "service": QUOTED, "account": APP, **SPIKE_DAYS},
        {"ou": "Data", **SPIKE_DAYS},
        SPIKE_DAYS,
    ]
    # The budget row's link is the line right after it.
    row = next(i for i, line in enumerate(lines) if line.startswith("  Data: month-end forecast"))
    assert state(lines[row + 1].strip()) == {"ou": "Data", **MONTH}


def test_hostile_names_stay_escaped_in_the_page_and_percent_encoded_in_the_links():
    for html in (
        render("digest.html.j2", **digest_links(digest_context(), BASE)),
        render("anomaly_alert.html.j2", **alert_links(alert_context(), BASE)),
    ):
        assert "<script>" not in html and "&lt;script&gt;" in html
        hrefs = [href for _, href in Anchors(html).anchors]
        assert hrefs
        for href in hrefs:
            # Nothing of a name reaches the URL unencoded: no markup, quotes, spaces or formulas.
            assert not set(href) & set("<>\"' ()"), href
        assert any("ou=%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E" in h for h in hrefs)
    digest = render("digest.html.j2", **digest_links(digest_context(), BASE))
    assert "service=%3DHYPERLINK%28%22http%3A%2F%2Fevil.example%22%2C%22click%22%29" in digest
    assert "Amazon &#34;S3&#34; &amp; co" in digest


def test_the_text_digest_puts_a_link_after_each_ou_row_and_spike_only():
    context = digest_links(digest_context(), BASE)
    lines = render("digest.txt.j2", **context).splitlines()
    urls = [i for i, line in enumerate(lines) if line.strip().startswith(BASE)]
    opened = [state(lines[i].strip()) for i in urls]
    spikes = [{"ou": HOSTILE_OU, "service": QUOTED, "account": APP, **SPIKE_DAYS}]
    spikes += [{"ou": "Data", **SPIKE_DAYS}, SPIKE_DAYS]
    ous = [{"ou": r["ou"], **MONTH} for r in context["ou_table"] if r["ou"] != "Retired"]
    assert opened == spikes + ous  # no link for top lines or movers: the text stays compact
    for i in urls[len(spikes) :]:
        ou = state(lines[i].strip())["ou"]
        assert lines[i - 1].strip().startswith(ou), (lines[i - 1], ou)
    assert lines[urls[0] - 1].strip() == ANOMALIES[0]["reason"]


def test_no_dashboard_url_no_link_anywhere():
    digest, alert = digest_links(digest_context(), ""), alert_links(alert_context(), "")
    assert digest == digest_context() and alert == alert_context()
    for page in (
        render("digest.html.j2", **digest),
        render("digest.txt.j2", **digest),
        render("anomaly_alert.html.j2", **alert),
        render("anomaly_alert.txt.j2", **alert),
    ):
        assert "<a " not in page and "href" not in page
        assert "ou=" not in page and "from=" not in page
        assert not any(line.strip().startswith("http") for line in page.splitlines())
