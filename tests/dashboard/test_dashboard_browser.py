"""The drill-through dashboard in a real headless Chromium, over days the DAG archived on the
sandbox: organisation -> OU -> service -> account and back, each level's numbers equal to the
archived CSVs', hostile names shown as text, nothing fetched from elsewhere, and the messages a
reader gets when a range is not archived or Athena fails. Screenshots of each level are written
to ``SCREENSHOTS`` (look at them)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from finops_digest.ingest.cost_rows import from_csv
from finops_digest.store import layout
from sandbox import SANDBOX_DEFAULTS
from scripts.demo import DEMO_SETTINGS
from scripts.local_env import pipeline_config, variable_env
from tests.dashboard.conftest import browser_page, serve_dashboard
from tests.integration.conftest import run_dag, task_states

DAYS = [date(2025, 9, 12), date(2025, 9, 13), date(2025, 9, 14)]
FROM, TO = DAYS[0], DAYS[-1]
RANGE = f"from={FROM}&to={TO}"
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
# What an OU may be named in Organizations: markup, quotes and a spreadsheet formula.
HOSTILE = """<script>alert("x")</script> 'Sales' =HYPERLINK("http://x")"""
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "dashboard"


@pytest.fixture(scope="module")
def archive(sandbox, airflow_db, aws):
    """Three archived days, the Sales OU renamed to a hostile name first."""
    org = aws("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    [sales] = [
        ou
        for ou in org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
        if ou["Name"] == "Sales"
    ]
    org.update_organizational_unit(OrganizationalUnitId=sales["Id"], Name=HOSTILE)
    config = {**pipeline_config(SANDBOX_DEFAULTS), **DEMO_SETTINGS}
    # A budget may name its OU by id: the renamed OU keeps its budget (and the digest's light).
    budgets = {k: v for k, v in config["budgets"].items() if k != "Sales"}
    config["budgets"] = {**budgets, sales["Id"]: DEMO_SETTINGS["budgets"]["Sales"]}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        for day in DAYS:
            run = run_dag(day)
            assert run.state == "success", task_states(run)
        rows = []
        s3 = aws("s3")
        for day in DAYS:
            key = layout.archive_key(day)
            rows += from_csv(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read(), key)
        yield rows


@pytest.fixture(scope="module")
def dashboard(archive):
    with serve_dashboard() as base:
        yield base


@pytest.fixture
def page(dashboard):
    with browser_page(dashboard) as page:
        yield page


def sums(rows, key, keep=lambda r: True) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        if keep(r):
            out[key(r)] += r.daily_cost
    return {k: v.quantize(Decimal("0.01")) for k, v in out.items()}


def shown(page, dimension: str) -> dict[str, Decimal]:
    """A breakdown table's rows as the reader sees them: label -> amount."""
    out = {}
    for row in page.locator(f"[data-dimension={dimension}] tbody tr").all():
        label = row.locator("td.label").inner_text()
        out[label] = Decimal(re.sub(r"[^0-9.\-]", "", row.locator("td.cost").inner_text()))
    return out


def go(page, base, query, name):
    page.goto(base + "?" + query)
    page.wait_for_selector("body[data-state=ready], body[data-state=error]")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def click_and_wait(page, locator, name):
    with page.expect_navigation():
        locator.click()
    page.wait_for_selector("body[data-state=ready], body[data-state=error]")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_drill_from_the_organisation_to_an_account_and_back(page, dashboard, archive):
    # The top-level OU of a row: the first part of its path (the hostile name holds a "/" itself).
    top = lambda r: r.ou if r.ou == HOSTILE else r.ou.split("/")[0]  # noqa: E731
    go(page, dashboard, RANGE, "1-organisation")
    assert page.locator("h1").inner_text() == "Organisation"
    assert shown(page, "ou") == sums(archive, top)
    assert shown(page, "service") == sums(archive, lambda r: r.service)

    # Engineering rolls up Engineering/Platform, and says so.
    ous = page.locator("[data-dimension=ou]")
    click_and_wait(page, ous.get_by_role("link", name="Engineering", exact=True), "2-ou")
    assert page.locator("h1").inner_text() == "Engineering"
    assert "child OU" in page.locator("#rollup").inner_text()
    eng = lambda r: top(r) == "Engineering"  # noqa: E731
    ous = shown(page, "ou")
    assert ous["Engineering/Platform"] == sums(archive, lambda r: r.ou, eng)["Engineering/Platform"]
    assert (
        ous["Accounts directly in Engineering"] == sums(archive, lambda r: r.ou, eng)["Engineering"]
    )
    services = sums(archive, lambda r: r.service, eng)
    assert shown(page, "service") == services

    service = max(services, key=services.get)
    click_and_wait(page, page.get_by_role("link", name=service, exact=True), "3-service")
    assert page.locator("h1").inner_text() == f"Engineering / {service}"
    accounts = sums(archive, lambda r: r.linked_account, lambda r: eng(r) and r.service == service)
    assert {re.search(r"\((\d{12})\)$", k)[1]: v for k, v in shown(page, "account").items()} == (
        accounts
    )

    account = max(accounts, key=accounts.get)
    link = page.locator("[data-dimension=account] a", has_text=account)
    click_and_wait(page, link, "4-account")
    [total] = sums(
        archive,
        lambda r: "range",
        lambda r: eng(r) and r.service == service and r.linked_account == account,
    ).values()
    assert page.locator("#summary").inner_text().startswith(f"${total:,}")

    # Back up by the breadcrumbs, to the organisation again.
    click_and_wait(page, page.locator("#crumbs a", has_text="Organisation"), "5-back")
    assert page.locator("h1").inner_text() == "Organisation"
    assert shown(page, "ou") == sums(archive, top)


def test_a_spike_is_marked_on_the_trend_and_links_to_its_root_cause(page, dashboard):
    go(page, dashboard, RANGE, "6-spike")
    spike = page.locator(".spike-row", has_text="Amazon CloudFront")
    assert "Marketing" in spike.inner_text()
    assert page.locator("svg a.spike-link").count() >= 1
    click_and_wait(page, spike.locator("a"), "7-root-cause")
    assert page.locator("h1").inner_text().startswith("Marketing / Amazon CloudFront / ")
    usage = page.locator("[data-dimension=usage_type] td.label").all_inner_texts()
    assert usage, "the spike's usage type is the account's root cause"


def test_budgets_show_the_digests_lights(page, dashboard):
    go(page, dashboard, RANGE, "8-budgets")
    rows = {
        r.locator("td.label").inner_text(): r.locator(".light").inner_text()
        for r in page.locator("#budgets tbody tr").all()
    }
    # The demo budgets put these OUs in these lights on 2025-09-14 (the digest's).
    assert rows["Engineering"] == "Over budget"
    assert rows["Engineering/Platform"] == "At risk"
    assert rows["Data"] == "On track"


def test_hostile_names_are_text_and_the_page_fetches_nothing_from_elsewhere(page, dashboard):
    requests, dialogs = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    go(page, dashboard, RANGE, "9-hostile")
    hostile = page.locator("[data-dimension=ou]").get_by_role("link", name=HOSTILE, exact=True)
    assert hostile.count() == 1
    assert page.locator("#budgets").get_by_role("link", name=HOSTILE, exact=True).count() == 1
    click_and_wait(page, hostile, "10-hostile-ou")
    assert page.locator("h1").inner_text() == HOSTILE
    assert not dialogs
    assert page.locator("script").count() == 1  # the page's own
    assert requests and all(u.startswith(dashboard) for u in requests), requests


def test_a_range_not_archived_says_so_and_names_the_latest_day(page, dashboard):
    later = TO + timedelta(days=20)
    go(page, dashboard, f"from={later}&to={later}", "11-not-archived")
    assert f"{later} is not archived yet (the latest archived day is {TO})" in page.inner_text(
        "#notices"
    )


def test_an_unknown_ou_and_a_failing_athena_are_explained(page, dashboard, sandbox):
    go(page, dashboard, f"ou=Nowhere&{RANGE}", "12-unknown-ou")
    assert "No OU 'Nowhere' in the archive" in page.inner_text("#status")
    sandbox.inject_fault("StartQueryExecution", "InternalServerException", count=50, status=500)
    try:
        go(page, dashboard, f"ou=Data&from={FROM - timedelta(days=1)}&to={TO}", "13-athena-fails")
    finally:
        sandbox.reset_faults()
    status = page.inner_text("#status")
    assert status.startswith("Athena could not answer"), status
