"""One day of a ~1M-row organisation, every task of the DAG, each task's time and peak RSS.

    python benchmarks/bench_scale.py run --size 50,18000,150 --day 2025-09-14 --history-days 95
    python benchmarks/bench_scale.py probe        # does the per-task RSS measure? (500 MB task)

``run`` starts the sandbox in a process of its own (its S3 objects, its Cost Explorer lines and
its Athena tables are not the workers'), seeds the history window before the day in another
process (as the pipeline archives it: the CSV, its Parquet twin, the day's account-to-OU mapping
and the day's Glue partition), then runs the DAG once with ``dag.test()`` in this process and
prints one JSON object (``BENCH-RESULT``): the run's wall time and state, per task Airflow's
durations and the task's peak RSS, the day's rows, GetCostAndUsage requests and Athena's bytes
scanned, and the sandbox's own peak RSS.

Per-task peak RSS: ``dag.test()`` runs the tasks one after another in this process. A listener
(``PeakRss``, registered here only) resets the process's high-water mark before each task
(``/proc/self/clear_refs`` "5" resets ``VmHWM`` to the current RSS, after the memory earlier
tasks freed is given back to the OS) and reads ``VmHWM`` from ``/proc/self/status`` when the task
ends: the task's peak including the Airflow process's baseline (the interpreter, Airflow, the
DAG's imports, what earlier tasks still hold), which is what a worker process would see.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT_MARK = "BENCH-RESULT"  # prefixes the JSON line bench.py reads (Airflow logs to stdout)
for path in (ROOT, ROOT / "dags", ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from scripts.local_env import airflow_env, aws_env, migrate_db, pipeline_config  # noqa: E402

# The ceiling for any one task's peak RSS.
TASK_RSS_LIMIT_MIB = 2048
# Days generated from the organisation for the seeded history: a weekday and a weekend day; every
# other history day is one of them rescaled (growth, noise), so 95 days cost two generations.
WEEKDAY_BASE, WEEKEND_BASE = 0, 1


# ----------------------------------------------------------------------------- peak RSS per task
def _status_kib(field: str) -> int:
    """A ``/proc/self/status`` figure in KiB (``VmHWM``, ``VmRSS``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def release_freed_memory() -> None:
    """Give back to the OS what earlier tasks freed (garbage, glibc's and Arrow's free lists), so
    a task starts from about what a fresh worker process would hold, not from the high tide of
    the tasks ``dag.test()`` ran before it in the same process."""
    import ctypes
    import gc

    gc.collect()
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def reset_peak_rss() -> None:
    """Reset this process's ``VmHWM`` to its current RSS (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


class PeakRss:
    """Airflow listener: each task instance's peak RSS (KiB) in the process that runs it."""

    def __init__(self) -> None:
        # (task_id, map_index) -> {"peak_kib", "start_kib", "state"}
        self.tasks: dict[tuple[str, int], dict] = {}

    def _record(self, task_instance, state: str) -> None:
        key = (task_instance.task_id, getattr(task_instance, "map_index", -1))
        entry = self.tasks.setdefault(key, {})
        entry.update(peak_kib=_status_kib("VmHWM"), state=state)

    def install(self) -> None:
        """Register with the Task SDK's listener manager (what ``dag.test()`` runs tasks with)."""
        from airflow.listeners import hookimpl
        from airflow.sdk.listener import get_listener_manager

        listener = self

        class _Hooks:
            @hookimpl
            def on_task_instance_running(self, previous_state, task_instance):
                release_freed_memory()
                reset_peak_rss()
                key = (task_instance.task_id, getattr(task_instance, "map_index", -1))
                listener.tasks[key] = {"start_kib": _status_kib("VmRSS")}

            @hookimpl
            def on_task_instance_success(self, previous_state, task_instance):
                listener._record(task_instance, "success")

            @hookimpl
            def on_task_instance_failed(self, previous_state, task_instance, error):
                listener._record(task_instance, "failed")

            @hookimpl
            def on_task_instance_skipped(self, previous_state, task_instance):
                listener._record(task_instance, "skipped")

        get_listener_manager().add_listener(_Hooks())

    def per_task(self) -> dict[str, dict]:
        """Per task id: the largest peak over its map indexes (MiB), and how many ran."""
        out: dict[str, dict] = {}
        for (task_id, _), entry in self.tasks.items():
            if "peak_kib" not in entry:
                continue
            mine = out.setdefault(task_id, {"peak_mib": 0.0, "start_mib": 0.0, "measured": 0})
            mine["measured"] += 1
            mine["peak_mib"] = max(mine["peak_mib"], round(entry["peak_kib"] / 1024, 1))
            mine["start_mib"] = max(mine["start_mib"], round(entry["start_kib"] / 1024, 1))
        return out


# ----------------------------------------------------------------------------- the sandbox
class SandboxProcess:
    """``python -m sandbox serve`` in a process of its own (``serve_sandbox``); SIGTERM stops it."""

    def __init__(self, size: str, extra: list[str], work: Path) -> None:
        port_file = work / "sandbox.port"
        self.log = open(work / "sandbox.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "sandbox", "--size", size, "--port-file", str(port_file)]
            + extra,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "dags")])},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the sandbox did not start: see {work / 'sandbox.log'}")
            time.sleep(0.2)
        self.endpoint_url = f"http://127.0.0.1:{port_file.read_text().strip()}"

    def calls(self) -> dict[str, int]:
        """Every AWS operation's call count so far (the sandbox's ``/_sandbox/calls``)."""
        with urllib.request.urlopen(f"{self.endpoint_url}/_sandbox/calls", timeout=30) as answer:
            return json.loads(answer.read())

    def write_export(self, first: date, last: date) -> dict:
        """Have the sandbox write its CUR 2.0 export of first..last (``/_sandbox/data-exports``)."""
        request = urllib.request.Request(
            f"{self.endpoint_url}/_sandbox/data-exports",
            data=json.dumps(
                {"from": first.isoformat(), "to": last.isoformat(), "formats": ["cur2"]}
            ).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=3600) as response:
            return json.load(response)

    def stop(self) -> int:
        """Stop it; its peak RSS in KiB (``wait4``'s rusage of exactly that process)."""
        self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        while True:
            pid, _, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:  # a request still being served holds it: kill it
                self.process.kill()
                _, _, usage = os.wait4(self.process.pid, 0)
                break
            time.sleep(0.5)
        self.log.close()
        return usage.ru_maxrss


def serve_sandbox(argv: list[str]) -> int:
    """``python -m sandbox serve``, its Athena holding string columns dictionary-encoded.

    The sandbox's Athena keeps every Parquet file a query reads as an Arrow table; the history
    queries read the 95 archived days, which at 1M rows a day is ~10 GB of plain strings (the
    OU, service, account and name of every row), ~2 GB dictionary-encoded. DuckDB reads both as
    VARCHAR, so the answers are the same; only the sandbox's own memory differs (it is AWS's
    Athena here, not a worker)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import sandbox.__main__
    from sandbox import athena

    class _Parquet:
        """``pyarrow.parquet`` whose ``ParquetFile`` reads string columns as dictionaries."""

        def __getattr__(self, name: str):
            return getattr(pq, name)

        @staticmethod
        def ParquetFile(source, **kwargs):  # noqa: N802 (pyarrow's name)
            strings = [f.name for f in pq.ParquetFile(source).schema_arrow if f.type == pa.string()]
            source.seek(0)
            return pq.ParquetFile(source, read_dictionary=strings, **kwargs)

    athena.pq = _Parquet()
    return sandbox.__main__.main(["serve", *argv])


def cost_source_settings(source: str) -> dict:
    """``finops_config`` for the cost source: nothing for Cost Explorer (the default); for
    ``data_exports`` the sandbox's CUR 2.0 export table (``sandbox/data_exports.py``)."""
    if source == "cost_explorer":
        return {}
    from sandbox.data_exports import DATABASE, EXPORTS

    cur2 = EXPORTS["cur2"]
    return {
        "cost_source": source,
        "data_exports": {"database": DATABASE, "table": cur2.table, "format": cur2.format},
    }


# ----------------------------------------------------------------------------- the history
def seed_history(endpoint_url: str, size: str, day: date, days: int) -> dict:
    """Archive the ``days`` before ``day`` as the pipeline would have: CSV, Parquet twin, the
    day's mapping and its Glue partition; vectorised (a weekday and a weekend day generated from
    the organisation, every other day one of them with growth and +-4 % noise per row)."""
    import boto3
    import numpy as np

    from finops_digest.aws.organizations import walk_organization
    from finops_digest.config import parse_config
    from finops_digest.store import archive, layout
    from finops_digest.store.catalog import ensure_table, register_partition, table_input
    from sandbox import SANDBOX_DEFAULTS
    from sandbox.organization import Organization

    os.environ.update(aws_env(endpoint_url))
    config = parse_config(pipeline_config(SANDBOX_DEFAULTS))
    ous, accounts, services = (int(x) for x in size.split(","))
    org = Organization.synthetic(ous=ous, accounts=accounts, services=services)
    s3, glue = boto3.client("s3"), boto3.client("glue")
    started = time.perf_counter()
    organization = walk_organization(boto3.client("organizations"), config.root_ou_name)
    walked = time.perf_counter() - started
    names = {a: info.get("name", "") for a, info in organization["accounts"].items()}
    ou_of = {a: info["ou"] for a, info in organization["accounts"].items()}
    location = layout.s3_uri(config.archive_bucket, layout.PARQUET_PREFIX + "/")
    ensure_table(
        glue, config.glue_database, table_input(config.glue_table, location, config.cost_metric)
    )

    history = [day - timedelta(days=n) for n in range(days, 0, -1)]
    # The latest weekday and weekend day of the window: the bases the others are scaled from.
    bases = {
        WEEKDAY_BASE: max(d for d in history if d.weekday() < 5),
        WEEKEND_BASE: max((d for d in history if d.weekday() >= 5), default=history[-1]),
    }
    base_rows = {kind: _day_table(org, base, config, ou_of, names) for kind, base in bases.items()}
    generated = time.perf_counter() - started - walked
    rows = 0
    for n, when in enumerate(history):
        kind = WEEKEND_BASE if when.weekday() >= 5 else WEEKDAY_BASE
        base = base_rows[kind]
        growth = (1.0 + 0.0007 * (when - date(2025, 1, 1)).days) / (
            1.0 + 0.0007 * (bases[kind] - date(2025, 1, 1)).days
        )
        noise = np.random.default_rng(n).uniform(0.96, 1.04, len(base["units"]))
        units = np.rint(base["units"] * (growth * noise)).astype(np.int64)
        csv_body, parquet_body, total = _day_files(when, base, units, config)
        metadata = {
            **config.provenance(when),
            "rows": str(len(units)),
            "total": total,
            "estimated": "false",
        }
        mapping = {"billing_date": when.isoformat(), **organization}
        uploads = (
            (layout.archive_key(when), csv_body, "text/csv; charset=utf-8"),
            (layout.parquet_key(when), parquet_body, archive.PARQUET_TYPE),
            (
                layout.archive_key(when, layout.MAPPING_NAME),
                json.dumps(mapping, indent=1).encode(),
                "application/json",
            ),
        )
        for key, body, content_type in uploads:
            archive.put_archived(
                s3, config.archive_bucket, key, body, content_type=content_type, metadata=metadata
            )
        register_partition(glue, config.glue_database, config.glue_table, when)
        rows += len(units)
    return {
        "days": days,
        "rows": rows,
        "rows_per_day": len(base_rows[WEEKDAY_BASE]["units"]),
        "walk_organization_seconds": round(walked, 1),
        "generate_seconds": round(generated, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _day_table(org, day: date, config, ou_of: dict[str, str], names: dict[str, str]) -> dict:
    """One generated day as the consolidation would hold it: (OU, service, account) keys with
    their cost in int64 units of 1e-10, and the columns' dictionaries, sorted by name."""
    import numpy as np

    totals: dict[tuple[str, str, str], int] = {}
    excluded = set(config.excluded_record_types)
    scale = 10**10
    for line in org.cost_lines(day):
        if line.record_type in excluded:
            continue
        key = (ou_of.get(line.account_id, "Unattributed"), line.service, line.account_id)
        totals[key] = totals.get(key, 0) + int(line.amounts[config.cost_metric] * scale)
    org._lines_cached.cache_clear()  # a day's lines are ~1 GB at 18,000 accounts
    keys = [k for k, v in totals.items() if v]
    columns = {}
    for n, column in enumerate(("ou", "service", "account")):
        dictionary = sorted({k[n] for k in keys})
        rank = {name: i for i, name in enumerate(dictionary)}
        columns[column] = (dictionary, np.array([rank[k[n]] for k in keys], dtype=np.int32))
    account_dictionary = columns["account"][0]
    return {
        **columns,
        "names": [names.get(a) for a in account_dictionary],
        "units": np.array([totals[k] for k in keys], dtype=np.int64),
    }


def _day_files(when: date, base: dict, units, config) -> tuple[bytes, bytes, str]:
    """The day's CSV (sorted by OU, cost desc, service, account; CRLF) and Parquet bytes, and
    its total as text."""
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from finops_digest.schema import COST_TABLE_COLUMNS, CSV_HEADER, arrow_schema

    ou, service, account = base["ou"][1], base["service"][1], base["account"][1]
    order = np.lexsort((account, service, -units, ou))
    units = units[order]
    n = len(units)
    # decimal128(38, 10) from the int64 units: the low word, and the sign extended to the high.
    words = np.empty((n, 2), dtype=np.int64)
    words[:, 0] = units
    words[:, 1] = units >> 63
    amounts = pa.Array.from_buffers(pa.decimal128(38, 10), n, [None, pa.py_buffer(words)])

    def named(column: str):
        dictionary, codes = base[column]
        return pa.DictionaryArray.from_arrays(pa.array(codes[order]), pa.array(dictionary))

    ou_col, service_col, account_col = named("ou"), named("service"), named("account")
    text = [pc.cast(c, pa.string()) for c in (ou_col, service_col, account_col)]
    billing = pa.scalar(when.isoformat())
    lines = pc.binary_join_element_wise(billing, *text, pc.cast(amounts, pa.string()), ",")
    lines = pc.binary_join_element_wise(lines, "", "\r\n")
    header = (",".join(CSV_HEADER) + "\r\n").encode()
    csv_body = header + _values(lines)
    account_name = pa.DictionaryArray.from_arrays(
        pa.array(base["account"][1][order]), pa.array(base["names"], pa.string())
    )
    table = pa.table(
        [
            pa.array(np.full(n, (when - date(1970, 1, 1)).days, dtype=np.int32)).view(pa.date32()),
            *text,
            pc.cast(amounts, pa.float64()),
            pc.cast(account_name, pa.string()),
        ],
        schema=arrow_schema(COST_TABLE_COLUMNS, config.provenance(when)),
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    total = str(pc.sum(amounts).as_py())
    return csv_body, sink.getvalue(), total


def _values(lines) -> bytes:
    """A string array's characters end to end (its rows already end in CRLF)."""
    import numpy as np
    import pyarrow as pa

    array = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    first, last = offsets[array.offset], offsets[array.offset + len(array)]
    return array.buffers()[2][int(first) : int(last)].to_pybytes()


# ----------------------------------------------------------------------------- the run
def run(args: argparse.Namespace) -> dict:
    """Sandbox, seeded history, one ``dag.test()``; the measurements as a dict."""
    work = Path(tempfile.mkdtemp(prefix="finops-bench-scale-"))
    home = work / "airflow"
    os.environ.update(airflow_env(home))
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    migrate_db({"AIRFLOW_HOME": str(home)})
    from sandbox import SANDBOX_DEFAULTS
    from scripts.local_env import variable_env

    result: dict = {"size": args.size, "day": args.day.isoformat()}
    started = time.perf_counter()
    sandbox = SandboxProcess(args.size, args.sandbox_arg or [], work)
    result["sandbox_start_seconds"] = round(time.perf_counter() - started, 1)
    try:
        os.environ.update(aws_env(sandbox.endpoint_url))
        config = {**pipeline_config(SANDBOX_DEFAULTS), **cost_source_settings(args.cost_source)}
        config.update(json.loads(args.config or "{}"))
        os.environ.update(variable_env(config))
        result["cost_source"] = args.cost_source
        if args.cost_source == "data_exports":
            # The days the run reads from the export: the day and the days it may restate.
            result["export"] = sandbox.write_export(args.day - timedelta(days=3), args.day)
        if args.history_days:
            seeded = subprocess.run(
                [sys.executable, __file__, "seed", "--endpoint", sandbox.endpoint_url]
                + ["--size", args.size, "--day", args.day.isoformat()]
                + ["--history-days", str(args.history_days)],
                cwd=ROOT,
                capture_output=True,
                check=False,
            )
            if seeded.returncode:
                raise SystemExit(f"seeding failed:\n{seeded.stderr.decode()[-3000:]}")
            result["seeded"] = _result_of(seeded.stdout)

        from airflow.dag_processing.dagbag import DagBag
        from bench_e2e import task_durations

        dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("finops_daily_digest")
        peaks = PeakRss()
        peaks.install()
        calls_before = sandbox.calls()
        started = time.perf_counter()
        day = args.day
        dag_run = dag.test(logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC))
        result["wall_seconds"] = round(time.perf_counter() - started, 1)
        calls = sandbox.calls()
        result["state"] = str(dag_run.state)
        result["calls"] = {
            op: calls.get(op, 0) - calls_before.get(op, 0)
            for op in ("GetCostAndUsage", "StartQueryExecution", "PutObject", "GetObject")
        }
        result["athena"] = _athena_bytes_scanned(config["athena_workgroup"])
        result["rows"] = _day_rows(config["archive_bucket"], day)
        durations = task_durations(dag_run)
        rss = peaks.per_task()
        result["tasks"] = {
            task: {**entry, **rss.get(task, {})} for task, entry in durations.items()
        }
    finally:
        result["sandbox_peak_mib"] = round(sandbox.stop() / 1024)
    return result


def _result_of(stdout: bytes) -> dict:
    for line in reversed(stdout.decode(errors="replace").splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise SystemExit("no result line")


def _athena_bytes_scanned(workgroup: str) -> dict:
    """Queries of the run and the bytes they scanned (the sandbox reports Athena's statistic)."""
    import boto3

    athena = boto3.client("athena")
    ids: list[str] = []
    for page in athena.get_paginator("list_query_executions").paginate(WorkGroup=workgroup):
        ids.extend(page["QueryExecutionIds"])
    scanned = [
        athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        .get("Statistics", {})
        .get("DataScannedInBytes", 0)
        for query_id in ids
    ]
    return {"queries": len(ids), "bytes": sum(scanned), "bytes_per_query": scanned}


def _day_rows(bucket: str, day: date) -> int:
    """Rows of the day's archived CSV, from its metadata (what archive_to_s3 recorded)."""
    import boto3

    from finops_digest.store import layout

    head = boto3.client("s3").head_object(Bucket=bucket, Key=layout.archive_key(day))
    return int(head["Metadata"].get("rows", 0))


# ----------------------------------------------------------------------------- computed requests
def cost_explorer_minimum(size: str, day: date, restatement_days: int = 3) -> dict:
    """The Cost Explorer source's GetCostAndUsage requests for one run of ``size``, computed as
    ``bench_requests.py`` does (its design minimum, which its measured runs equal): groups per OU
    from the synthetic organisation, the sandbox's page size."""
    from bench_requests import groups_per_ou, minimum_daily_run

    from sandbox.organization import Organization

    ous, accounts, services = (int(x) for x in size.split(","))
    org = Organization.synthetic(ous=ous, accounts=accounts, services=services)
    groups = groups_per_ou(org)
    page = 25  # the sandbox's page size (Sandbox.start's default)
    return {
        "requests": minimum_daily_run(groups, len(org.accounts), day, restatement_days, page),
        "groups_per_day": sum(groups.values()),
        "page_size": page,
    }


# ----------------------------------------------------------------------------- the RSS probe
PROBE_DAG = """
from datetime import datetime
from airflow.sdk import dag, task


@dag(dag_id="rss_probe", schedule=None, start_date=datetime(2025, 1, 1), catchup=False)
def rss_probe():
    @task
    def allocate_nothing():
        return 0

    @task
    def allocate_500mb():
        block = bytearray(500 * 1024 * 1024)  # zero-filled: every page touched
        return len(block)

    allocate_nothing() >> allocate_500mb()


rss_probe()
"""


def probe() -> dict:
    """A DAG whose second task holds 500 MB: the per-task peak RSS must show it, and only there."""
    work = Path(tempfile.mkdtemp(prefix="finops-bench-rss-probe-"))
    dags = work / "dags"
    dags.mkdir()
    (dags / "rss_probe.py").write_text(PROBE_DAG)
    env = {**airflow_env(work / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
    os.environ.update(env)
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    migrate_db({"AIRFLOW_HOME": env["AIRFLOW_HOME"]})
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(dags)).get_dag("rss_probe")
    peaks = PeakRss()
    peaks.install()
    dag_run = dag.test()
    return {"state": str(dag_run.state), "tasks": peaks.per_task()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="seed the history and run the DAG for one day")
    seed_p = sub.add_parser("seed", help="(internal) seed the history into a running sandbox")
    sub.add_parser("probe", help="check that the per-task RSS measures (a 500 MB task)")
    minimum_p = sub.add_parser("minimum", help="the Cost Explorer source's requests, computed")
    minimum_p.add_argument("--size", default="50,18000,150")
    minimum_p.add_argument("--day", type=date.fromisoformat, default=date(2025, 9, 14))
    for p in (run_p, seed_p):
        p.add_argument("--size", default="50,18000,150", help="OUS,ACCOUNTS,SERVICES")
        p.add_argument("--day", type=date.fromisoformat, default=date(2025, 9, 14))
        p.add_argument("--history-days", type=int, default=95)
    run_p.add_argument(
        "--cost-source", choices=("cost_explorer", "data_exports"), default="data_exports"
    )
    run_p.add_argument("--config", help="JSON merged into finops_config")
    run_p.add_argument("--sandbox-arg", action="append", help="passed to `python -m sandbox serve`")
    seed_p.add_argument("--endpoint", required=True)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sandbox"]:  # (internal) the sandbox process; its options are serve's
        return serve_sandbox(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "seed":
        result = seed_history(args.endpoint, args.size, args.day, args.history_days)
    elif args.command == "probe":
        result = probe()
    elif args.command == "minimum":
        result = cost_explorer_minimum(args.size, args.day)
    else:
        result = run(args)
    print(RESULT_MARK, json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
