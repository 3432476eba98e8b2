"""The drill-through dashboard inside Airflow's API server, behind Airflow's own login, with a
"FinOps dashboard" entry in Airflow's navigation (Airflow 3 ``fastapi_apps`` and
``external_views``). The app itself is ``finops_digest.dashboard.app``, in the DAGs folder.

Every Airflow component imports this module (the scheduler, the DAG processor, the triggerer and
each task's process, for their macros, timetables and extra links), so it imports only the
dashboard's module here; the app, and Airflow's API security with it (~1.5 s of imports), is built
when the API server asks for ``fastapi_apps``."""

from __future__ import annotations

import sys
from functools import cached_property
from typing import Any

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/finops-dashboard"
NAME = "FinOps dashboard"

try:
    from finops_digest.dashboard.app import create_app
except ModuleNotFoundError:
    # The library lives beside the DAGs; the API server does not put that folder on sys.path.
    # Imported here, not when the app is built, so that a broken library shows as this plugin's
    # import error (the UI's banner, `GET /api/v2/plugins/importErrors`) and the API server
    # still starts.
    sys.path.append(conf.get("core", "dags_folder"))
    from finops_digest.dashboard.app import create_app


def dashboard_app() -> Any:
    """The dashboard with every route behind Airflow's "any logged-in user" check: Airflow's JWT
    from a bearer token or from the UI's ``_token`` cookie (which the navigation's iframe sends)."""
    from airflow.api_fastapi.core_api.security import requires_authenticated
    from fastapi import Depends

    return create_app(dependencies=[Depends(requires_authenticated())])


class FinopsDashboardPlugin(AirflowPlugin):
    """Mounts the dashboard at ``/finops-dashboard/`` and embeds it from the navigation."""

    name = "finops_dashboard"
    external_views = [
        {
            "name": NAME,
            # Relative: the UI's <base href> is Airflow's base URL, so the iframe finds the app
            # when Airflow is served under a path too (AIRFLOW__API__BASE_URL=https://host/airflow).
            "href": f"{URL_PREFIX.lstrip('/')}/",
            "destination": "nav",
            "url_route": "finops-dashboard",
        }
    ]

    @cached_property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """Read only by the API server (and `airflow plugins`), on the plugin's instance."""
        return [{"app": dashboard_app(), "url_prefix": URL_PREFIX, "name": NAME}]
