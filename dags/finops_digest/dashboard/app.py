"""The dashboard as a FastAPI app: the page, its bundled script and style, and ``api/view``.
(FastAPI resolves the routes' annotations at import: its names are imported at the top.)

Mounted in Airflow's API server by ``plugins/finops_dashboard.py`` (behind Airflow's login), or
served on its own by ``scripts/dashboard.py`` (``make dashboard``). It reads only through Athena.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from finops_digest.cli.config_source import read_config
from finops_digest.config import VARIABLE_NAME, FinopsConfig, parse_config
from finops_digest.dashboard.athena_reader import AthenaReader, AthenaTarget, DashboardQueryError
from finops_digest.dashboard.drill import StateNotFound, build_view
from finops_digest.dashboard.urls import PARAMS, parse_state
from finops_digest.errors import FinopsError
from finops_digest.resources import include_dir, templates_dir

# The page loads nothing from elsewhere: its script and style are bundled and served here.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}


class Dashboard:
    """The settings (``finops_config``) and the Athena reader, made once, on first use."""

    def __init__(self, client_factory: Callable[[], Any]) -> None:
        self._client_factory = client_factory
        self._lock = threading.Lock()
        self._made: tuple[FinopsConfig, AthenaReader] | None = None

    def reader(self) -> tuple[FinopsConfig, AthenaReader]:
        with self._lock:
            if self._made is None:
                config = parse_config(_raw_config())
                target = AthenaTarget(
                    workgroup=config.athena_workgroup,
                    output_location=config.results_location,
                    database=config.glue_database,
                    budget_table=config.glue_budget_table,
                )
                self._made = (config, AthenaReader(self._client_factory, target))
            return self._made


def _raw_config() -> str | None:
    """``finops_config`` as the DAG reads it (the environment, then the Airflow Variable); in
    Airflow's API server the Task SDK's Variable cannot reach the metadata DB, so the Variable is
    then read there directly."""
    raw, _ = read_config(None)
    if raw is not None:
        return raw
    try:
        from airflow.models import Variable

        return Variable.get(VARIABLE_NAME, default_var=None)
    except Exception:  # noqa: BLE001 - no metadata DB here: "not configured" says it
        return None


def _athena_client() -> Any:
    from finops_digest.aws.clients import INTERACTIVE_CONFIG, aws_client

    return aws_client("athena", INTERACTIVE_CONFIG)


def create_app(
    dependencies: Sequence[Any] = (), client_factory: Callable[[], Any] = _athena_client
) -> Any:
    """The app; ``dependencies`` guard every route (Airflow's login when mounted in Airflow)."""
    dashboard = Dashboard(client_factory)
    app = FastAPI(
        title="FinOps drill-through dashboard",
        dependencies=list(dependencies),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        """The page shell: the script fills it from ``api/view`` with the URL's state."""
        base = request.scope.get("root_path", "").rstrip("/") + "/"
        html = env.get_template("dashboard.html.j2").render(base=base)
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    @app.get("/static/{name}")
    def asset(name: str) -> Response:
        if name not in ASSETS:
            return Response("not found", status_code=404, media_type="text/plain")
        body = (include_dir() / "dashboard" / name).read_bytes()
        return Response(body, media_type=ASSETS[name], headers=SECURITY_HEADERS)

    @app.get("/api/view")
    def view(request: Request) -> JSONResponse:
        """The state's figures; errors as ``{"error": ...}`` with a status that says whose."""
        params = {k: request.query_params.get(k, "") for k in PARAMS}
        try:
            config, reader = dashboard.reader()
        except FinopsError as exc:
            return _error(503, f"The dashboard is not configured: {exc}")
        try:
            state = parse_state(params, default_day=_default_day())
            dated = bool(params["from"] or params["to"])
            if (state.end - state.start).days > 366:
                raise ValueError("the range may span at most 366 days")
        except ValueError as exc:
            return _error(400, f"Bad link: {exc}")
        try:
            body = build_view(reader, state, dated=dated)
        except StateNotFound as exc:
            return _error(404, str(exc))
        except DashboardQueryError as exc:
            if "TABLE_NOT_FOUND" in str(exc):
                return _error(
                    404,
                    "Nothing is archived yet: the tables and views the DAG creates in "
                    f"{config.glue_database} are missing. Run the DAG for a day first. ({exc})",
                )
            return _error(502, f"Athena could not answer: {exc}")
        body["currency"] = config.currency
        return JSONResponse(body, headers=SECURITY_HEADERS)

    def _error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=SECURITY_HEADERS)

    return app


def _default_day() -> date:
    """Where a URL without dates starts looking: the day before Cost Explorer's today (the
    sandbox publishes its own); the view then shows the latest archived day up to it."""
    from finops_digest.aws.cost_explorer import explorer_today

    return explorer_today() - timedelta(days=1)
