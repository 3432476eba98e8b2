"""The drill-through dashboard inside Airflow's API server, behind Airflow's own login, with a
"FinOps dashboard" entry in Airflow's navigation (Airflow 3 ``fastapi_apps`` and
``external_views``). The app itself is ``finops_digest.dashboard.app``, in the DAGs folder."""

from __future__ import annotations

import sys

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/finops-dashboard"

try:
    from finops_digest.dashboard.app import create_app
except ModuleNotFoundError:
    # The library lives beside the DAGs; the API server does not put that folder on sys.path.
    sys.path.append(conf.get("core", "dags_folder"))
    from finops_digest.dashboard.app import create_app


def _login_required():
    """Airflow's "any logged-in user" check (its JWT, from the UI's cookie or a bearer token)."""
    from airflow.api_fastapi.core_api.security import requires_authenticated

    return requires_authenticated()


def _app():
    from fastapi import Depends

    return create_app(dependencies=[Depends(_login_required())])


class FinopsDashboardPlugin(AirflowPlugin):
    """Mounts the dashboard at ``/finops-dashboard/`` and links it from the navigation."""

    name = "finops_dashboard"
    fastapi_apps = [{"app": _app(), "url_prefix": URL_PREFIX, "name": "FinOps dashboard"}]
    external_views = [
        {
            "name": "FinOps dashboard",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "finops-dashboard",
        }
    ]
