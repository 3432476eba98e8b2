"""`make dashboard`: archive a range of days on the local sandbox, then serve the drill-through
dashboard over it (reading through the sandbox's Athena) until Ctrl-C.

Starts the sandbox as `make demo` does, runs `airflow dags test finops_daily_digest <day>` for each
day from --from to --to, then serves the dashboard on http://127.0.0.1:<port>/ and prints its URL.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "dags"),
]

from finops_digest.dashboard.app import create_app  # noqa: E402
from finops_digest.dashboard.urls import DrillState, drill_url  # noqa: E402
from sandbox import SANDBOX_DEFAULTS  # noqa: E402
from scripts.demo import DEMO_SETTINGS, run_with_progress, sandbox_process  # noqa: E402
from scripts.local_env import (  # noqa: E402
    REPO,
    airflow_env,
    aws_env,
    migrate_db,
    pipeline_config,
    variable_env,
)

OUTPUT = REPO / "demo-output" / "dashboard"


def days(first: date, last: date) -> list[date]:
    """``first`` to ``last``, inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", default="2025-09-14", help="last billing day (YYYY-MM-DD)")
    parser.add_argument("--from", dest="start", help="first billing day (default: --to - 6)")
    parser.add_argument("--port", type=int, default=8050, help="port on 127.0.0.1 (8050)")
    args = parser.parse_args()
    last = date.fromisoformat(args.to)
    first = date.fromisoformat(args.start) if args.start else last - timedelta(days=6)
    if first > last:
        parser.error(f"--from {first} is after --to {last}")

    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **airflow_env(REPO / ".airflow" / "dashboard")}
    print("Preparing the Airflow home (.airflow/dashboard) ...", flush=True)
    migrate_db(env)
    base = f"http://127.0.0.1:{args.port}/"
    # The digests of the archived days link to this dashboard.
    config = {**pipeline_config(SANDBOX_DEFAULTS), **DEMO_SETTINGS, "dashboard_url": base}

    with sandbox_process(OUTPUT / "sandbox.log") as endpoint:
        print(f"Sandbox (local AWS) on {endpoint}", flush=True)
        env.update(aws_env(endpoint))
        env.update(variable_env(config))
        command = [sys.executable, "-m", "airflow", "dags", "test", "finops_daily_digest"]
        for day in days(first, last):
            print(f"Archiving {day} (log: {OUTPUT.relative_to(REPO)}/airflow-{day}.log)")
            log = OUTPUT / f"airflow-{day}.log"
            if run_with_progress([*command, day.isoformat()], env, log) != 0:
                print(log.read_text()[-4000:])
                print(f"\nThe DAG run of {day} failed; full log in {log}")
                return 1
        os.environ.update(aws_env(endpoint))
        os.environ.update(variable_env(config))
        import uvicorn

        url = drill_url(base, DrillState(start=first, end=last))
        print(f"\nDashboard over {first} to {last}: {url}\n(Ctrl-C stops it and the sandbox)")
        uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
