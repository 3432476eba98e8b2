"""The digest and the alert in Slack, Teams and Amazon Q Developer (SNS): the numbers a reader
sees are the context's, every payload stays within its service's limits however large the day,
organisation names never become links or mentions, and links appear only with a dashboard."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops_digest.money import money, percent, signed_money
from finops_digest.report.chat import slack, sns, teams
from finops_digest.report.chat.content import ChatMessage, Fact, Row, Section
from finops_digest.report.chat.inert_text import inert_markdown
from finops_digest.report.chat.messages import (
    LIGHT_EMOJI,
    OU_ROWS,
    SPIKE_ROWS,
    alert_message,
    digest_message,
)
from finops_digest.report.chat.slack import slack_payload
from finops_digest.report.chat.sns import sns_message, sns_subject
from finops_digest.report.chat.teams import payload_bytes, teams_payload
from tests.unit.chat_context import BASE, DAY, HOSTILE, alert_context, digest_context
from tests.unit.chat_payloads import slack_view, sns_view, teams_view

MONTH = "Month to date by OU"
MOVERS = "Top movers vs previous day"
SPIKES = "New spikes"


def views(message: ChatMessage) -> dict[str, dict]:
    """What a reader sees of ``message`` in each service."""
    return {
        "slack": slack_view(slack_payload(message)),
        "teams": teams_view(teams_payload(message)),
        "sns": sns_view(sns_message(message)[1]),
    }


def shown(name: str, service: str) -> str:
    """A name as the service shows it (Amazon Q Developer's markdown gets inert look-alikes)."""
    return inert_markdown(name) if service == "sns" else name


@pytest.mark.parametrize("service", ["slack", "teams", "sns"])
def test_the_digest_shows_the_days_figures_in_every_service(service):
    context = digest_context(dashboard=BASE)
    view = views(digest_message(context, "USD"))[service]
    totals = context["budget_totals"]
    assert view["title"] == f"FinOps daily digest \u00b7 {DAY.isoformat()}"
    facts = view["facts"]
    assert facts["Day total"] == money(context["total"])
    change = context["change"]
    assert (
        facts["vs previous day"] == f"{signed_money(change['amount'])} ({percent(change['pct'])})"
    )
    assert facts["Month to date"] == money(context["month_to_date"])
    assert facts["Month-end forecast"] == money(totals["forecast"])
    assert facts["Budget"] == (
        f"{money(totals['budget'])} (forecast at {percent(totals['budget_used'], signed=False)})"
    )
    lights = totals["lights"]
    assert f"{LIGHT_EMOJI['red']} {lights['red']} over budget" in facts["Budget lights"]
    assert facts["Spikes"] == "2 new, 1 still elevated"

    # Month to date against budget, per OU: the table's own figures, the lights worst first.
    rows = {name: detail for name, detail, _ in view["lists"][MONTH]}
    assert len(rows) == len(context["ou_table"])
    for r in context["ou_table"]:
        detail = rows[shown(r["ou"], service)]
        assert detail.startswith(
            f"{money(r['month_to_date'])} \u00b7 forecast {money(r['forecast'])}"
        )
        if r["budget"] is None:
            assert detail.endswith("no budget")
        else:
            used = percent(r["budget_used"], signed=False)
            assert detail.endswith(f"({used} of {money(r['budget'])} budget)")
    # Top movers: each one's change, in the digest's order.
    movers = view["lists"][MOVERS]
    assert [name for name, _, _ in movers] == [
        shown(f"{m['ou']} / {m['service']}", service) for m in context["top_movers"]
    ]
    for (_, detail, _), m in zip(movers, context["top_movers"], strict=True):
        assert detail.startswith(
            f"{signed_money(m['change'])} ({percent(m['pct'])}) to {money(m['cost'])}"
        )
    # New spikes only: actual, expected and impact of each.
    new = [a for a in context["anomalies"] if a["status"] == "new"]
    spikes = view["lists"][SPIKES]
    assert len(spikes) == len(new) == 2
    for (name, detail, _), a in zip(spikes, new, strict=True):
        assert name == shown(f"{a['ou']} / {a['service']}", service)
        assert detail.startswith(
            f"{signed_money(a['impact'])} ({percent(a['impact_pct'])}): "
            f"{money(a['actual'])} vs {money(a['expected'])} expected"
        )


@pytest.mark.parametrize("service", ["slack", "teams", "sns"])
def test_the_alert_shows_each_breach_and_new_spike(service):
    context = alert_context(spikes=3)
    view = views(alert_message(context, "USD"))[service]
    impact = sum(float(a["impact"]) for a in context["anomalies"])
    assert view["facts"]["New spikes"] == "3"
    assert view["facts"]["Above expected"] == signed_money(impact)
    assert view["facts"]["Forecast over budget"] == "2 OUs"
    breaches = view["lists"]["Forecast over budget for September 2025"]
    assert [name for name, _, _ in breaches] == [
        shown(b["ou"], service) for b in context["budget_alerts"]
    ]
    assert breaches[0][1] == (
        "forecast $4,100.00 vs budget $3,000.00 (+$1,100.00, 136.7%); $1,900.00 month to date"
    )
    spikes = view["lists"][SPIKES]
    assert [detail.split(",")[0] for _, detail, _ in spikes] == [
        f"{signed_money(a['impact'])} ({percent(a['impact_pct'])}): "
        f"{money(a['actual'])} vs {money(a['expected'])} expected"
        for a in context["anomalies"]
    ]
    assert all(detail.endswith("mostly App prod (444455556666)") for _, detail, _ in spikes)


def test_a_large_organisation_is_shortened_with_and_n_more_within_every_limit():
    ous = [f"Business unit {n:03d}/" + "Platform engineering " * 5 for n in range(500)]
    context = digest_context(ous=ous, spikes=200)
    message = digest_message(context, "USD")
    for service, view in views(message).items():
        shown_ous, more = len(view["lists"][MONTH]), view["more"][MONTH]
        assert shown_ous + more == 500, service
        assert shown_ous <= OU_ROWS
        assert len(view["lists"][SPIKES]) + view["more"][SPIKES] == 200
        assert len(view["lists"][SPIKES]) <= SPIKE_ROWS
    assert_within_limits(message)
    assert_within_limits(alert_message(alert_context(ous=ous, spikes=200), "USD"))


def assert_within_limits(message: ChatMessage) -> None:
    payload = slack_payload(message)
    blocks = payload["blocks"]
    assert len(blocks) <= slack.MAX_BLOCKS
    assert len(payload["text"]) <= slack.TEXT_CHARS
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= slack.HEADER_CHARS
        if block["type"] == "section":
            assert len(block["fields"]) <= slack.MAX_FIELDS
            assert all(len(f["text"]) <= slack.FIELD_CHARS for f in block["fields"])
        assert slack.block_chars(block) <= slack.SECTION_CHARS
    assert sum(slack.block_chars(b) for b in blocks) <= slack.MESSAGE_BLOCKS_CHARS
    card = teams_payload(message)
    assert payload_bytes(card) <= teams.CARD_BUDGET_BYTES < teams.TEAMS_LIMIT_BYTES
    subject, body = sns_message(message)
    assert len(subject) <= sns.SUBJECT_CHARS and subject.isascii() and subject.isprintable()
    assert len(body.encode()) <= sns.SNS_MESSAGE_BYTES
    assert len(json.loads(body)["content"]["description"]) <= sns.DESCRIPTION_CHARS


names = st.text(min_size=1, max_size=400)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(names, names), max_size=120),
    more=st.integers(0, 10_000),
    title=st.text(max_size=300),
    link=st.booleans(),
)
def test_any_names_and_any_number_of_rows_fit_every_service(rows, more, title, link):
    url = f"{BASE}?ou=x&from=2025-09-01&to=2025-09-14"
    section = Section(
        title or "Rows",
        tuple(Row(n, d, url=url if link else None, marker="\U0001f534") for n, d in rows),
        more,
    )
    message = ChatMessage(
        category="digest",
        title=title or "Title",
        summary=title or "Summary",
        billing_date=DAY,
        facts=(Fact("Day total", "$1.00"),),
        sections=(section, Section("Second", tuple(Row(n, d) for n, d in rows[:30]))),
        link=url if link else None,
        footer="Footer",
    )
    assert_within_limits(message)
    # Whatever was left out is said: shown + "and N more" is every row.
    view = slack_view(slack_payload(message))
    listed = view["lists"][section.title]
    assert len(listed) + view["more"].get(section.title, 0) == len(rows) + more


def hostile_views() -> list[tuple[str, dict]]:
    # The owner's scope is an OU name too (an owner's digest names its OU in the title).
    context = digest_context(ous=[HOSTILE, "Data"], dashboard=BASE)
    digest = digest_message(context, "USD", scope=HOSTILE)
    alert = alert_message(
        alert_context(ous=[HOSTILE, "Data"], dashboard=BASE), "USD", scope=HOSTILE
    )
    return [(kind, payload) for message in (digest, alert) for kind, payload in
            (("slack", slack_payload(message)), ("teams", teams_payload(message)),
             ("sns", sns_message(message)))]  # fmt: skip


def test_a_hostile_ou_name_is_shown_as_text_never_as_a_mention_link_or_formatting():
    for service, payload in hostile_views():
        if service == "slack":
            view = slack_view(payload)
            # Markup is written only by us: no name reaches mrkdwn (fields, context, fallback).
            for text in [*view["mrkdwn"], payload["text"]]:
                assert "<!channel>" not in text and "</script>" not in text
            assert HOSTILE in view["title"]  # a header is plain_text: never parsed
            named = [row for rows in view["lists"].values() for row in rows if "channel" in row[0]]
            assert named and all(name.startswith(HOSTILE) for name, _, _ in named)
        elif service == "teams":
            view = teams_view(payload)
            assert not any("channel" in text or "evil" in text for text in view["markdown"])
            assert HOSTILE in view["title"]
            named = [row for rows in view["lists"].values() for row in rows if "channel" in row[0]]
            assert named and all(name.startswith(HOSTILE) for name, _, _ in named)
        else:
            subject, body = payload
            description = json.loads(body)["content"]["description"]
            assert "<" not in description and ">" not in description  # no Slack link or mention
            assert "](" not in description and "://evil" not in description  # no Markdown link
            assert "*bold*" not in description and "channel" in description  # readable, inert
            # The subject is plain text to email subscribers (Amazon Q Developer shows the JSON).
            assert subject.isascii() and subject.isprintable() and len(subject) <= 100
        # Every link is a drill-down link of the dashboard, the name percent-encoded in it.
        for url in re.findall(r'"(?:url|link)": "([^"]+)"', json.dumps(payload)):
            assert url.startswith(BASE + "?") and not set(url) & set("<> |*")


def test_links_only_with_a_dashboard():
    for dashboard in ("", BASE):
        for message in (
            digest_message(digest_context(dashboard=dashboard), "USD"),
            alert_message(alert_context(dashboard=dashboard), "USD"),
        ):
            assert (message.link is not None) == bool(dashboard)
            for service, view in views(message).items():
                urls = [u for rows in view["lists"].values() for _, _, u in rows if u]
                if not dashboard:
                    assert view["links"] == [] and urls == [], service
                    continue
                assert view["links"] == [message.link], service
                assert message.link.startswith(BASE + "?") and "from=" in message.link
                if service != "sns":  # Amazon Q Developer gets the one link, not one per row
                    assert urls and all(u.startswith(BASE + "?") for u in urls), service
    raw = json.dumps(slack_payload(digest_message(digest_context(ous=["Data", "Ops"]), "USD")))
    assert '"url"' not in raw and "http" not in raw


def test_the_sns_subject_is_ascii_one_line_and_at_most_100_characters():
    euro = digest_message(digest_context(currency="EUR"), "EUR")
    subject, _ = sns_message(euro)
    assert subject.startswith("[FinOps] Daily cost digest 2025-09-14: EUR ")
    assert (
        sns_subject("Caf\u00e9 \u00b7 line\nbreak " + "x" * 200)
        == ("Cafe - line break " + "x" * 200)[:97] + "..."
    )
    assert sns_subject("\u00a3 1 \u00a5 2 $3") == "GBP 1 JPY 2 $3"


def test_the_fallback_text_is_the_summary_a_notification_shows():
    context = digest_context()
    payload = slack_payload(digest_message(context, "USD"))
    assert payload["text"].startswith(f"Daily cost digest {DAY}: {money(context['total'])}")
    red = context["budget_totals"]["lights"]["red"]
    assert red == 2 and payload["text"].endswith("2 new anomalies, 2 OUs forecast over budget")


def test_amounts_staged_as_strings_read_as_decimals():
    context = alert_context()
    as_strings = {
        **context,
        "budget_alerts": [
            {k: str(v) if k in ("forecast", "budget", "month_to_date") else v for k, v in b.items()}
            for b in context["budget_alerts"]
        ],
    }
    assert alert_message(as_strings, "USD") == alert_message(context, "USD")


def test_a_day_without_budgets_or_spikes_says_so_plainly():
    context = digest_context(spikes=0)
    context = {
        **context,
        "anomalies": [],
        "budget_totals": {**context["budget_totals"], "budget": None},
    }
    message = digest_message(context, "USD")
    facts = {f.label: f.value for f in message.facts}
    assert "Budget" not in facts and facts["Spikes"] == "none"
    assert [s.title for s in message.sections] == [MONTH, MOVERS]
    assert message.billing_date == date(2025, 9, 14)
