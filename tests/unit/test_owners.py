"""OU owners: an owner hears about their OU and the OUs in it, and nothing else."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from finops_digest.ingest.cost_rows import CostRow
from finops_digest.report.figures import budget_summary, digest_figures, ou_table
from finops_digest.report.owners import in_scope, owned_scopes, slice_report

D = Decimal
DAY = date(2025, 9, 14)
MAPPING = {
    "root_id": "r-root",
    "ous": [
        {"id": "r-root", "name": "Root", "parent": None, "accounts": ["100"]},
        {"id": "ou-eng", "name": "Engineering", "parent": None, "accounts": ["200"]},
        {"id": "ou-plat", "name": "Engineering/Platform", "parent": "ou-eng", "accounts": ["300"]},
        {"id": "ou-core", "name": "Engineering/Platform/Core", "parent": "ou-plat", "accounts": []},
        {"id": "ou-mkt", "name": "Marketing", "parent": None, "accounts": ["400"]},
    ],
    "accounts": {
        "100": {"name": "management", "ou": "Root"},
        "200": {"name": "eng-shared", "ou": "Engineering"},
        "300": {"name": "platform-prod", "ou": "Engineering/Platform"},
        "400": {"name": "mkt-web", "ou": "Marketing"},
    },
}
OU_OF_ACCOUNT = {
    "100": "Root",
    "200": "Engineering",
    "300": "Engineering/Platform",
    "400": "Marketing",
}


def rows(day: date, costs: dict[str, str], service: str = "Amazon EC2") -> list[CostRow]:
    return [CostRow(day, OU_OF_ACCOUNT[a], service, a, D(c)) for a, c in costs.items()]


def test_an_owner_of_a_parent_owns_its_nested_ous_and_nothing_beside_them():
    scopes, notices = owned_scopes({"Engineering": {"emails": ["eng@example.com"]}}, MAPPING)
    assert notices == []
    [scope] = scopes
    assert scope["id"] == "ou-eng"
    assert scope["ous"] == ["Engineering", "Engineering/Platform", "Engineering/Platform/Core"]
    assert scope["emails"] == ["eng@example.com"]


def test_owners_are_named_by_id_or_path_and_a_key_naming_no_ou_is_said():
    scopes, notices = owned_scopes(
        {
            "ou-plat": {"channels": [{"type": "slack", "connection_id": "plat"}]},
            "Marketing": {"emails": ["m@example.com"]},
            "Sales": {"emails": ["s@example.com"]},
        },
        MAPPING,
    )
    assert [(s["id"], s["ou"]) for s in scopes] == [
        ("ou-plat", "Engineering/Platform"),
        ("ou-mkt", "Marketing"),
    ]
    assert len(notices) == 1 and "'Sales'" in notices[0]


def test_a_renamed_ou_keeps_its_owners_by_id():
    renamed = {
        **MAPPING,
        "ous": [{**ou, "name": ou["name"].replace("Engineering", "R&D")} for ou in MAPPING["ous"]],
    }
    [scope], _ = owned_scopes({"ou-eng": {"emails": ["eng@example.com"]}}, renamed)
    assert scope["ou"] == "R&D"
    assert scope["ous"] == ["R&D", "R&D/Platform", "R&D/Platform/Core"]


def budget_row(ou, *, forecast, budget, light):
    return {
        "ou": ou,
        "month_to_date": D(forecast) / 2,
        "forecast": D(forecast),
        "lower": None,
        "upper": None,
        "method": "cost-explorer",
        "budget": D(budget),
        "budget_used": float(D(forecast) / D(budget)),
        "light": light,
    }


def test_the_slice_of_the_digest_covers_the_scope_only():
    today = rows(DAY, {"100": "5", "200": "10", "300": "20.50", "400": "1000"})
    history = rows(DAY - timedelta(days=1), {"200": "8", "300": "20", "400": "900"})
    budgets = [
        budget_row("Engineering", forecast="300", budget="400", light="green"),
        budget_row("Marketing", forecast="30000", budget="100", light="red"),
    ]
    anomalies = [
        {"ou": "Engineering/Platform", "service": "Amazon EC2", "status": "new"},
        {"ou": "Marketing", "service": "Amazon EC2", "status": "new"},
        {"ou": "(organisation)", "service": "(all services)", "status": "new"},
    ]
    context = {"billing_date": DAY, "anomalies": anomalies, "ou_budgets": budgets, "x": 1}
    [scope], _ = owned_scopes({"Engineering": {"emails": ["e@example.com"]}}, MAPPING)
    mine = slice_report(context, scope, today, history, MAPPING["accounts"])
    assert mine["total"] == D("30.50")
    assert mine["change"]["amount"] == D("2.50")
    assert {o["ou"] for o in mine["ous"]} == {"Engineering", "Engineering/Platform"}
    assert [a["ou"] for a in mine["anomalies"]] == ["Engineering/Platform"]
    assert [r["ou"] for r in mine["ou_budgets"]] == ["Engineering"]
    assert mine["budget_totals"]["lights"] == {"green": 1, "amber": 0, "red": 0}
    assert [s["key"] for s in mine["scope"]["services"]] == ["Amazon EC2"]
    assert [a["account"] for a in mine["scope"]["accounts"]] == [
        "platform-prod (300)",
        "eng-shared (200)",
    ]
    assert mine["x"] == 1  # the rest of the organisation's report is kept
    shown = [*mine["top_lines"], *mine["movers_up"], *mine["movers_down"]]
    shown += [{"ou": s["ou"]} for s in mine["trend"]["series"]]
    assert shown and all(item["ou"] in scope["ous"] for item in shown)


OUS = ["Root", "Engineering", "Engineering/Platform", "Marketing"]


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(OU_OF_ACCOUNT)), st.integers(1, 10_000)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["ou-eng", "ou-plat", "ou-mkt", "r-root"]),
)
def test_slices_add_up_to_the_scope_rows_whatever_the_costs(lines, owned):
    today = [
        CostRow(DAY, OU_OF_ACCOUNT[a], f"svc{i % 3}", a, D(c) / 100)
        for i, (a, c) in enumerate(lines)
    ]
    [scope], _ = owned_scopes({owned: {"emails": ["o@example.com"]}}, MAPPING)
    context = {"billing_date": DAY, "anomalies": [], "ou_budgets": []}
    mine = slice_report(context, scope, today, [], MAPPING["accounts"])
    expected = sum((r.daily_cost for r in today if r.ou in scope["ous"]), D(0))
    assert mine["total"] == expected
    assert sum((s["cost"] for s in mine["scope"]["services"]), D(0)) == expected
    assert all(line["ou"] in scope["ous"] for line in mine["top_lines"])


def test_in_scope_keeps_only_the_scope_ous():
    [scope], _ = owned_scopes({"Engineering/Platform": {"emails": ["p@example.com"]}}, MAPPING)
    items = [{"ou": ou} for ou in OUS]
    assert in_scope(items, scope) == [{"ou": "Engineering/Platform"}]


def test_slice_figures_match_the_organisation_figures_of_the_same_rows():
    """An owner of every top-level OU sees, summed, what the whole organisation sees."""
    today = rows(DAY, {"100": "5", "200": "10", "300": "20", "400": "7"})
    whole = digest_figures(DAY, today, [], [])
    owners = {ou: {"emails": ["x@example.com"]} for ou in ("Root", "Engineering", "Marketing")}
    scopes, _ = owned_scopes(owners, MAPPING)
    context = {"billing_date": DAY, "anomalies": [], "ou_budgets": []}
    totals = [slice_report(context, s, today, [], {})["total"] for s in scopes]
    assert sum(totals, D(0)) == whole["total"]
    assert ou_table(whole["ous"], []) and budget_summary([])["budget"] is None
