"""How long each dashboard view takes to answer, on an archive the DAG itself wrote.

    python benchmarks/bench_dashboard.py --size 8,30,24 --end 2025-09-14 --days 7

Runs the DAG with ``dag.test()`` for each of the ``--days`` days ending ``--end`` (oldest first)
against one sandbox: its runs write the archive, the OU tree and the anomaly table the dashboard
reads. The ``HISTORY_WINDOW`` days before them are archived beforehand as ``bench_e2e.py`` does
(``detect_anomalies`` reads its history from there instead of from Cost Explorer); those days get
no OU tree and no Parquet, so the dashboard does not see them.

Then, for each view level (the organisation on the last day, a top-level OU with child OUs, its
largest service, that service's largest account, the organisation over all the days), it times
``build_view`` with a fresh ``AthenaReader`` per measurement (empty cache, as for a new page
view): first cold (the sandbox's parsed-Parquet cache emptied, as if it had never read those
files), then ``--repeats`` times warm. Prints one JSON object: per view the state, the cold
seconds, the warm seconds (each), and the Athena queries the view ran; and where the sandbox's Athena spent the
warm measurements' time (summed over their queries, which run side by side): binding the Glue
tables (listing, parsing and registering their Parquet), the DuckDB query, formatting the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT_MARK = "BENCH-RESULT"  # prefixes the JSON line bench.py reads (Airflow logs to stdout)
for path in (ROOT, ROOT / "dags", ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from scripts.local_env import airflow_env, aws_env, migrate_db, pipeline_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="8,30,24", help="OUS,ACCOUNTS,SERVICES")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 9, 14))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5, help="warm measurements per view")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="finops-bench-airflow-"))
    os.environ.update(airflow_env(home))
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    migrate_db({"AIRFLOW_HOME": str(home)})

    from bench_e2e import seed_history

    from sandbox import SANDBOX_DEFAULTS, Sandbox
    from sandbox.organization import Organization
    from scripts.local_env import variable_env

    ous, accounts, services = (int(x) for x in args.size.split(","))
    org = Organization.synthetic(ous=ous, accounts=accounts, services=services)
    days = [args.end - timedelta(days=n) for n in range(args.days - 1, -1, -1)]
    result: dict = {"size": args.size, "days": [d.isoformat() for d in days], "runs": []}
    with Sandbox.start(organization=org) as sandbox:
        os.environ.update(aws_env(sandbox.endpoint_url))
        config = pipeline_config(SANDBOX_DEFAULTS)
        os.environ.update(variable_env(config))
        started = time.perf_counter()
        result["seeded_days"] = seed_history(org, config, days[0])
        result["seed_seconds"] = round(time.perf_counter() - started, 1)

        from airflow.dag_processing.dagbag import DagBag

        dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("finops_daily_digest")
        for day in days:
            started = time.perf_counter()
            run = dag.test(logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC))
            result["runs"].append(
                {
                    "day": day.isoformat(),
                    "state": str(run.state),
                    "wall_seconds": round(time.perf_counter() - started, 1),
                }
            )
        result["views"] = measure_views(config, days, args.repeats)
    print(RESULT_MARK, json.dumps(result), flush=True)
    return 0


def measure_views(config: dict, days: list[date], repeats: int) -> list[dict]:
    """Cold and warm timings of each view level, the OU, service and account picked from the
    archive (the largest OU with child OUs, its largest service, that service's largest account)."""
    from finops_digest.aws.clients import INTERACTIVE_CONFIG, aws_client
    from finops_digest.config import parse_config
    from finops_digest.dashboard.athena_reader import AthenaReader, AthenaTarget
    from finops_digest.dashboard.drill import build_view
    from finops_digest.dashboard.urls import DrillState

    settings = parse_config(config)
    target = AthenaTarget(  # as dashboard/app.py's Dashboard.reader makes it
        workgroup=settings.athena_workgroup,
        output_location=settings.results_location,
        database=settings.glue_database,
        budget_table=settings.glue_budget_table,
    )
    # A serving process makes its clients once; a measurement should not time their creation.
    client = aws_client("athena", INTERACTIVE_CONFIG)

    def fresh_reader() -> AthenaReader:
        return AthenaReader(lambda: client, target)

    last = days[-1]
    organisation = DrillState(start=last, end=last)
    ou = _pick_ou(fresh_reader(), organisation)
    ou_state = DrillState(start=last, end=last, ou=ou)
    service = _largest(build_view(fresh_reader(), ou_state), "service")
    service_state = DrillState(start=last, end=last, ou=ou, service=service)
    account = _largest(build_view(fresh_reader(), service_state), "account")
    levels = [
        ("organisation", organisation),
        ("OU", ou_state),
        ("service", service_state),
        ("account", DrillState(start=last, end=last, ou=ou, service=service, account=account)),
        (f"organisation, {len(days)} days", DrillState(start=days[0], end=last)),
    ]
    measured = []
    profile = SandboxProfile()
    for level, state in levels:
        _forget_parsed_parquet()
        cold, cold_queries = _timed(build_view, fresh_reader(), state)
        profile.reset()
        warm = [_timed(build_view, fresh_reader(), state) for _ in range(repeats)]
        measured.append(
            {
                "level": level,
                "state": state.query(),
                "cold_seconds": round(cold, 3),
                "cold_queries": cold_queries,
                "seconds": [round(s, 3) for s, _ in warm],
                "median_seconds": round(statistics.median(s for s, _ in warm), 3),
                "max_seconds": round(max(s for s, _ in warm), 3),
                "athena_queries": max(q for _, q in warm),
                "sandbox_per_view": profile.per_view(repeats),
            }
        )
    return measured


class SandboxProfile:
    """Seconds the sandbox's Athena (in this process) spends per phase of ``run_query``."""

    def __init__(self) -> None:
        import threading

        from sandbox import athena

        self._lock = threading.Lock()
        self._depth = threading.local()
        self.reset()
        run_query, bind, outcome = athena.run_query, athena._Catalog.bind, athena._outcome

        def timed(phase, function, outermost=False):
            def wrapper(*args, **kwargs):
                depth = getattr(self._depth, phase, 0)
                setattr(self._depth, phase, depth + 1)
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    setattr(self._depth, phase, depth)
                    if not outermost or depth == 0:  # a view's bind recurses into its tables
                        self._add(phase, time.perf_counter() - started)

            return wrapper

        athena.run_query = timed("run_query", run_query)
        athena._Catalog.bind = timed("bind", bind, outermost=True)
        athena._outcome = timed("outcome", outcome)

    def reset(self) -> None:
        with self._lock:
            self.seconds = {"run_query": 0.0, "bind": 0.0, "outcome": 0.0}
            self.slowest = 0.0

    def _add(self, phase: str, seconds: float) -> None:
        with self._lock:
            self.seconds[phase] += seconds
            if phase == "run_query":
                self.slowest = max(self.slowest, seconds)

    def per_view(self, views: int) -> dict[str, float]:
        """Per measured view: seconds in run_query and its phases, and the slowest query."""
        s = self.seconds
        rest = s["run_query"] - s["bind"] - s["outcome"]
        return {
            "run_query": round(s["run_query"] / views, 3),
            "bind_tables": round(s["bind"] / views, 3),
            "duckdb_and_sqlglot": round(rest / views, 3),
            "format_rows": round(s["outcome"] / views, 3),
            "slowest_query": round(self.slowest, 3),
        }


def _timed(build_view, reader, state) -> tuple[float, int]:
    started = time.perf_counter()
    view = build_view(reader, state)
    return time.perf_counter() - started, view["timing"]["athena_queries"]


def _pick_ou(reader, organisation) -> str:
    """The largest top-level OU that has child OUs (its label, as the page links it)."""
    from dataclasses import replace

    from finops_digest.dashboard.drill import build_view

    view = build_view(reader, organisation)
    for row in _rows(view, "ou"):
        child = build_view(reader, replace(organisation, ou=row["label"]))
        if any(r["key"] for r in _rows(child, "ou")):
            return row["label"]
    raise SystemExit(f"no top-level OU with child OUs on {organisation.end}")


def _largest(view: dict, dimension: str) -> str:
    rows = _rows(view, dimension)
    if not rows:
        raise SystemExit(f"the view {view['title']!r} lists no {dimension}")
    return rows[0]["key"]


def _rows(view: dict, dimension: str) -> list[dict]:
    return next((t["rows"] for t in view["tables"] if t["dimension"] == dimension), [])


def _forget_parsed_parquet() -> None:
    """Empty the sandbox's parsed-Parquet cache (the sandbox runs in this process)."""
    from sandbox import athena

    with athena._PARSED_LOCK:
        athena._PARSED.clear()


if __name__ == "__main__":
    sys.exit(main())
