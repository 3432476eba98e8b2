"""The dashboard plugin in the real `airflow api-server` (`make airflow`'s environment, its
SimpleAuthManager login, the repository's plugins folder, the sandbox): refused without Airflow's
login, served with a bearer token and with the UI's `_token` cookie (what the navigation's iframe
sends), its assets under the prefix, its JSON API, and listed by `GET /api/v2/plugins`; the other
components import the plugin without building the app."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from scripts.airflow_local import DASHBOARD_PATH, LOGIN, start

PLUGIN = "finops_dashboard"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The sandbox and the API server only; the metadata DB of its own."""
    with start(
        tmp_path_factory.mktemp("dashboard-plugin") / "airflow", components=("api-server",)
    ) as running:
        yield running


@pytest.fixture(scope="module")
def token(stack) -> str:
    """A JWT for `make airflow`'s login, as the UI's login form gets it."""
    status, _, body = _request(
        stack,
        "/auth/token",
        data=json.dumps({"username": LOGIN[0], "password": LOGIN[1]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status in (200, 201), body
    return json.loads(body)["access_token"]


def _request(stack, path: str, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of a request to the API server; errors are answers too."""
    request = urllib.request.Request(stack.url + path, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "path", ["", "static/dashboard.js", "api/view?from=2025-09-14"], ids=["page", "asset", "api"]
)
def test_every_route_is_refused_without_airflows_login(stack, path):
    anonymous = _request(stack, DASHBOARD_PATH + path)
    forged = _request(stack, DASHBOARD_PATH + path, headers={"Cookie": "_token=not-a-jwt"})
    assert (anonymous[0], forged[0]) == (401, 403)
    assert "FinOps" not in anonymous[2] + forged[2]


def test_a_bearer_token_gets_the_page_and_its_assets_under_the_prefix(stack, token):
    status, headers, page = _request(stack, DASHBOARD_PATH, headers=_bearer(token))
    assert status == 200 and headers.get_content_type() == "text/html"
    assert "<title>FinOps dashboard</title>" in page
    # The page finds its script, style and API under the prefix the API server mounted it at.
    for ref in ("static/dashboard.js", "static/dashboard.css", "api/view"):
        assert f'"{DASHBOARD_PATH}{ref}"' in page, ref
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]  # the UI's iframe
    script = _request(stack, f"{DASHBOARD_PATH}static/dashboard.js", headers=_bearer(token))
    style = _request(stack, f"{DASHBOARD_PATH}static/dashboard.css", headers=_bearer(token))
    assert (script[0], script[1].get_content_type()) == (200, "text/javascript")
    assert (style[0], style[1].get_content_type()) == (200, "text/css")
    assert '"use strict"' in script[2]


def test_the_uis_cookie_gets_the_page_and_the_api_answers_json(stack, token):
    cookie = {"Cookie": f"_token={token}"}
    page = _request(stack, DASHBOARD_PATH, headers=cookie)
    assert page[0] == 200 and "<title>FinOps dashboard</title>" in page[2]

    bad = _request(stack, f"{DASHBOARD_PATH}api/view?from=2025-13-01", headers=cookie)
    assert (bad[0], bad[1].get_content_type()) == (400, "application/json")
    assert json.loads(bad[2]) == {
        "error": "Bad link: 'from' must be a date as YYYY-MM-DD, got '2025-13-01'"
    }
    # The sandbox has archived no day yet: the answer says so, as JSON, with Athena's reason.
    status, headers, body = _request(
        stack, f"{DASHBOARD_PATH}api/view?from=2025-09-14", headers=cookie
    )
    assert (status, headers.get_content_type()) == (404, "application/json")
    error = json.loads(body)
    assert list(error) == ["error"]
    assert (
        error["error"].startswith("Nothing is archived yet") and "TABLE_NOT_FOUND" in error["error"]
    )


def test_the_api_lists_the_plugin_with_its_app_and_its_navigation_entry(stack, token):
    status, _, body = _request(stack, "/api/v2/plugins", headers=_bearer(token))
    assert status == 200, body
    [plugin] = [p for p in json.loads(body)["plugins"] if p["name"] == PLUGIN]
    assert plugin["fastapi_apps"] == [
        {
            "app": "fastapi.applications.FastAPI",
            "url_prefix": DASHBOARD_PATH.rstrip("/"),
            "name": "FinOps dashboard",
        }
    ]
    [view] = plugin["external_views"]
    assert {k: view[k] for k in ("name", "href", "destination", "url_route")} == {
        "name": "FinOps dashboard",
        # Relative to the UI's <base href> (Airflow's base URL): the iframe's source.
        "href": DASHBOARD_PATH.lstrip("/"),
        "destination": "nav",
        "url_route": "finops-dashboard",
    }
    errors = _request(stack, "/api/v2/plugins/importErrors", headers=_bearer(token))
    assert json.loads(errors[2]) == {"import_errors": [], "total_entries": 0}


def test_the_airflow_plugins_command_lists_it(stack):
    listed = stack.airflow("plugins", "--output", "json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    [plugin] = [p for p in json.loads(listed.stdout) if p["name"] == PLUGIN]
    assert [app["url_prefix"] for app in plugin["fastapi_apps"]] == [DASHBOARD_PATH.rstrip("/")]


def test_a_task_loads_the_plugin_without_building_the_app(stack):
    """A task's process loads plugins for its macros; Airflow's API security (and the app) stay
    unimported there: only the API server pays for them."""
    probe = (
        "import sys\n"
        "from airflow.sdk.plugins_manager import _get_plugins, integrate_macros_plugins\n"
        "integrate_macros_plugins()\n"
        "plugins, errors = _get_plugins()\n"
        "print([p.name for p in plugins], errors,"
        " 'airflow.api_fastapi.core_api.security' in sys.modules)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe],
        env=stack.env,
        cwd=stack.home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.splitlines()[-1] == f"['{PLUGIN}'] {{}} False"
