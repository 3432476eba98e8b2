"""`make demo`: run the DAG for one day on the local sandbox and write what it produced.

Starts the sandbox on a free 127.0.0.1 port, runs `airflow dags test finops_daily_digest <date>`,
then writes demo-output/ (CSV, each email as .eml and its HTML body, each chat message as JSON and
an HTML preview, the Athena validation result, the anomalies) and prints a short summary. On a
weekly-digest day (a Monday) or a month-close day (the 3rd), the days the report covers are first
archived as the DAG archives them (scripts/archive_days.py), so the report has an archive to read.
The sandbox stops at the end, whatever happened.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "dags"),
]

from finops_digest.aws import data_exports  # noqa: E402
from finops_digest.ingest.cost_history import HISTORY_WINDOW_DAYS  # noqa: E402
from finops_digest.ingest.cost_rows import from_csv, total  # noqa: E402
from finops_digest.report.emails import money  # noqa: E402
from finops_digest.store import layout  # noqa: E402
from sandbox import SANDBOX_DEFAULTS  # noqa: E402
from sandbox import data_exports as sandbox_exports  # noqa: E402
from scripts.local_env import (  # noqa: E402
    REPO,
    airflow_env,
    aws_env,
    migrate_db,
    pipeline_config,
    variable_env,
)

OUTPUT = REPO / "demo-output"
# Monthly budgets for the sandbox's OUs, picked so 2025-09-14 shows every traffic light (and an
# OU without a budget, shown without one), plus an executive to receive the snapshot.
DEMO_SETTINGS = {
    "budgets": {
        "Data": 250000,
        "Sales": 130000,
        "Finance": 20000,
        "Engineering": 150000,
        "Engineering/Platform": 66000,
        "Marketing": 58000,
        "Sandbox": 1000,
    },
    "executive_recipients": ["cfo-office@example.com"],
}
CHROMIUM = Path("/usr/bin/chromium")
# The team's chat channels and one OU's owners: the sandbox records every webhook post and SNS
# publish; the webhook URLs live in Airflow connections (demo_connections), as in production.
DEMO_CHAT = {
    "channels": [
        {"type": "slack", "connection_id": "finops_slack"},
        {"type": "teams", "connection_id": "finops_teams"},
        {"type": "sns", "topic_arn": SANDBOX_DEFAULTS["chat_topic_arn"]},
    ],
    "ou_owners": {
        "Engineering": {
            "emails": ["eng-leads@example.com"],
            "channels": [{"type": "slack", "connection_id": "eng_slack"}],
        }
    },
}


def demo_connections(endpoint: str) -> dict[str, str]:
    """The Airflow connections of DEMO_CHAT's channels, as environment variables, pointing at the
    sandbox's webhook recorder (a real Slack webhook URL is https://hooks.slack.com/services/...)."""
    hooks = f"{endpoint}/_sandbox/webhooks"
    connections = {
        "FINOPS_SLACK": {
            "conn_type": "slackwebhook",
            "host": f"{hooks}/slack",
            "password": "T0/B0/finops",
        },
        "ENG_SLACK": {
            "conn_type": "slackwebhook",
            "host": f"{hooks}/slack",
            "password": "T0/B0/eng",
        },
        "FINOPS_TEAMS": {
            "conn_type": "http",
            "password": f"{hooks}/teams/workflows/finops?sig=demo",
        },
    }
    return {f"AIRFLOW_CONN_{name}": json.dumps(conn) for name, conn in connections.items()}


def report_days(day: date, config: dict) -> tuple[list[date], date | None]:
    """The days the weekly digest or the month-close report of ``day`` reads (with the period
    they compare with), and the day whose analysis gives the report its budgets; none on other
    days."""
    from finops_digest.config import parse_config
    from finops_digest.report.periods import (
        days_of,
        month_close_period,
        previous_week,
        weekly_period,
    )

    settings = parse_config(config)
    days: set[date] = set()
    week = weekly_period(day, settings.weekly_digest_weekday)
    if week:
        days.update(days_of(previous_week(*week)[0], week[1]))
    month = month_close_period(day, settings.month_close_day)
    if month:
        days.update(days_of(*month))
    return sorted(days), max(days) if days else None


@contextmanager
def sandbox_process(log_path: Path = OUTPUT / "sandbox.log"):
    """`python -m sandbox serve` in the background; yields its endpoint URL; always stopped."""
    port_file = Path(tempfile.mkdtemp()) / "port"
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port-file", str(port_file)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):
            if port_file.exists() and port_file.read_text().strip():
                break
            if process.poll() is not None:
                raise SystemExit(f"sandbox exited early; see {log_path}")
            time.sleep(0.1)
        else:
            raise SystemExit("sandbox did not start within 60 s")
        yield f"http://127.0.0.1:{port_file.read_text().strip()}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def cost_source_settings(source: str) -> dict:
    """``finops_config`` for the cost source: nothing for Cost Explorer (the default); for
    ``data_exports`` the sandbox's CUR 2.0 export table (sandbox/data_exports.py)."""
    if source == "cost_explorer":
        return {}
    cur2 = sandbox_exports.EXPORTS["cur2"]
    return {
        "cost_source": source,
        "data_exports": {
            "database": sandbox_exports.DATABASE,
            "table": cur2.table,
            "format": cur2.format,
        },
    }


def write_export(endpoint: str, first: date, last: date) -> dict:
    """Have the sandbox write its Data Exports files of first..last (POST /_sandbox/data-exports)."""
    request = urllib.request.Request(
        f"{endpoint}/_sandbox/data-exports",
        data=json.dumps({"from": first.isoformat(), "to": last.isoformat()}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.load(response)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default="2025-09-14", help="billing day (YYYY-MM-DD)")
    parser.add_argument(
        "--cost-source",
        default="cost_explorer",
        choices=("cost_explorer", "data_exports"),
        help="where the day's costs come from (data_exports: the sandbox's CUR 2.0 export)",
    )
    args = parser.parse_args()
    day = date.fromisoformat(args.date)

    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir()
    env = {**os.environ, **airflow_env(REPO / ".airflow" / "demo")}
    print("Preparing the Airflow home (.airflow/demo) ...", flush=True)
    migrate_db(env)
    config = {
        **pipeline_config(SANDBOX_DEFAULTS),
        **DEMO_SETTINGS,
        **DEMO_CHAT,
        **cost_source_settings(args.cost_source),
    }

    with sandbox_process() as endpoint:
        print(f"Sandbox (local AWS) on {endpoint}", flush=True)
        env.update(aws_env(endpoint))
        env.update(variable_env(config))
        env.update(demo_connections(endpoint))
        os.environ.update(aws_env(endpoint))
        earlier, last = report_days(day, config)
        if args.cost_source == "data_exports":
            # The days the run reads from the export: the day, the days it may restate and the
            # history window before them (an export holds every day since it was set up).
            first = min([day, *earlier]) - timedelta(days=HISTORY_WINDOW_DAYS)
            written = write_export(endpoint, first, day)
            print(
                f"Sandbox Data Exports (CUR 2.0, FOCUS) written for {first}..{day}: "
                f"{written['rows']:,} line items in {written['seconds']:.1f} s",
                flush=True,
            )
        if earlier:
            # The analysis stage (spikes, budgets) on the period's last day and on the days the
            # sandbox has a spike: what the report shows of them.
            with urllib.request.urlopen(f"{endpoint}/_sandbox/organization") as response:
                spikes = {date.fromisoformat(s["day"]) for s in json.load(response)["spikes"]}
            analysed = sorted({last, *(d for d in spikes if earlier[0] <= d <= earlier[-1])})
            print(
                f"Archiving {earlier[0]}..{earlier[-1]}, what the report of {day} reads, as the "
                "DAG archives them (scripts/archive_days.py; log: demo-output/archive.log) ...",
                flush=True,
            )
            command = [sys.executable, str(REPO / "scripts" / "archive_days.py")]
            command += ["--from", str(earlier[0]), "--to", str(earlier[-1])]
            command += ["--analysed", *map(str, analysed)]
            with open(OUTPUT / "archive.log", "w") as log:
                subprocess.run(command, env=env, check=True, stdout=log, stderr=subprocess.STDOUT)
        print(
            f"Running: airflow dags test finops_daily_digest {day} (log: demo-output/airflow.log)"
        )
        command = [sys.executable, "-m", "airflow", "dags", "test", "finops_daily_digest"]
        returncode = run_with_progress([*command, day.isoformat()], env, OUTPUT / "airflow.log")
        if returncode != 0:
            print((OUTPUT / "airflow.log").read_text()[-4000:])
            print(f"\nThe DAG run failed (exit {returncode}); full log in demo-output/airflow.log")
            return 1
        summary = collect(endpoint, day, config)
        summary["cost_source"] = args.cost_source
        summary["cost_explorer_requests"] = cost_explorer_requests(endpoint, day)
    print_summary(summary)
    return 0


def cost_explorer_requests(endpoint: str, day: date) -> dict[str, int]:
    """GetCostAndUsage requests of the run, counted by the sandbox: those for ``day``'s rows
    (the day with its restated days, the accounts with costs, the quality gate's total) and all
    of them (the history's and a spike's usage types too)."""
    counts = {}
    for label, query in (("day", f"?covering={day.isoformat()}"), ("all", "")):
        url = f"{endpoint}/_sandbox/cost-explorer-requests{query}"
        with urllib.request.urlopen(url) as response:
            counts[label] = json.load(response)["requests"]
    return counts


_RUNNING = re.compile(
    r"\[DAG TEST\] running task <TaskInstance: [^.]+\.(\S+) .*ti_id=([0-9a-f-]+)>"
)
_STATE = re.compile(r"Task instance state updated .*new_state=(\w+).*ti_id=([0-9a-f-]+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+) map_index=(-?\d+)")


def run_with_progress(command: list[str], env: dict[str, str], log_path: Path) -> int:
    """Run ``airflow dags test``, its whole output to ``log_path``, and print each task as it
    finishes (name, state, seconds) instead of going silent for a minute."""
    started: dict[str, float] = {}
    states: dict[str, str] = {}
    names: dict[str, str] = {}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for line in process.stdout:
            log.write(line)
            if match := _RUNNING.search(line):
                names[match[2]] = match[1]
                started[match[1]] = time.monotonic()
            elif match := _STATE.search(line):
                states[names.get(match[2], match[2])] = match[1]
            elif match := _END.search(line):
                task, index = match[1], int(match[2])
                seconds = time.monotonic() - started.get(task, time.monotonic())
                label = f"{task}[{index}]" if index >= 0 else task
                print(f"  {label:<40} {states.get(task, '?'):<16} {seconds:6.1f} s", flush=True)
        return process.wait()


# The emails also written as viewable HTML (inline images as files) and a screenshot.
_VIEWED = {"daily-digest": "digest", "weekly-digest": "weekly-digest", "month-close": "month-close"}


def collect(endpoint: str, day: date, config: dict) -> dict:
    """Download what the run produced into demo-output/ and return the summary figures."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint)
    athena = boto3.client("athena", endpoint_url=endpoint)
    bucket = config["archive_bucket"]
    keys = {
        "CSV": layout.archive_key(day),
        "Parquet": layout.parquet_key(day),
        "Mapping": layout.archive_key(day, layout.MAPPING_NAME),
        "Anomalies": layout.archive_key(day, layout.ANOMALIES_NAME),
    }
    objects = {}
    for label, key in keys.items():
        head = s3.head_object(Bucket=bucket, Key=key)
        objects[label] = (layout.s3_uri(bucket, key), head["VersionId"])
    csv_bytes = s3.get_object(Bucket=bucket, Key=keys["CSV"])["Body"].read()
    (OUTPUT / "ou_breakdown.csv").write_bytes(csv_bytes)
    anomalies = json.loads(s3.get_object(Bucket=bucket, Key=keys["Anomalies"])["Body"].read())
    (OUTPUT / "anomalies.json").write_text(json.dumps(anomalies, indent=2))

    executions = athena.list_query_executions(WorkGroup=config["athena_workgroup"])[
        "QueryExecutionIds"
    ]
    validation = []
    for query_id in executions:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        results = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
        validation.append(
            {
                "query_execution_id": query_id,
                "query": execution["Query"],
                "state": execution["Status"]["State"],
                "scanned_bytes": execution.get("Statistics", {}).get("DataScannedInBytes", 0),
                "rows": [[cell.get("VarCharValue") for cell in row["Data"]] for row in results],
            }
        )
    (OUTPUT / "athena_validation.json").write_text(json.dumps(validation, indent=2))

    with urllib.request.urlopen(f"{endpoint}/_sandbox/emails") as response:
        raw_messages = [base64.b64decode(m) for m in json.load(response)]
    sent = []
    for number, raw in enumerate(raw_messages, start=1):
        message = email.message_from_bytes(raw, policy=email.policy.default)
        stem = f"email-{number}-{message['X-FinOps-Kind'] or 'message'}"
        (OUTPUT / f"{stem}.eml").write_bytes(raw)
        html = message.get_body(("html",))
        if html is not None:
            (OUTPUT / f"{stem}.html").write_text(html.get_content())
        view = _VIEWED.get(message["X-FinOps-Kind"] or "")
        if view is None and (message["X-FinOps-Kind"] or "").startswith("owner-digest-"):
            view = "owner-digest"
        if view:
            write_viewable_html(message, OUTPUT / f"{view}.html")
            screenshot(OUTPUT / f"{view}.html", OUTPUT / f"{view}.png")
        sent.append((stem, message["To"], message["Subject"]))
    chats = collect_chat(endpoint)
    snapshot_key = layout.archive_key(day, "executive_snapshot.pdf")
    head = s3.head_object(Bucket=bucket, Key=snapshot_key)
    objects["Snapshot"] = (layout.s3_uri(bucket, snapshot_key), head["VersionId"])
    pdf = s3.get_object(Bucket=bucket, Key=snapshot_key)["Body"].read()
    (OUTPUT / "executive_snapshot.pdf").write_bytes(pdf)

    rows = from_csv(csv_bytes, objects["CSV"][0])
    return {
        "day": day,
        "rows": len(rows),
        "total": total(rows),
        "anomalies": anomalies["anomalies"],
        "objects": objects,
        "emails": sent,
        "chats": chats,
        "athena": validation,
    }


def collect_chat(endpoint: str) -> list[tuple[str, str, str]]:
    """Each chat message the run sent (webhook posts, SNS publishes) as demo-output/chat-N-*.json,
    with an HTML preview of each Slack and Teams message; ``(file, destination, title)``."""
    from scripts.chat_preview import render_previews, title_of

    with urllib.request.urlopen(f"{endpoint}/_sandbox/webhooks") as response:
        posts = json.load(response)
    with urllib.request.urlopen(f"{endpoint}/_sandbox/sns") as response:
        published = json.load(response)
    written = []
    for number, post in enumerate(posts, start=1):
        service = post["path"].split("/")[3]  # /_sandbox/webhooks/<service>/...
        body = post["body"]
        title = title_of(body)
        name = f"chat-{number}-{service}.json"
        (OUTPUT / name).write_text(json.dumps(body, indent=2, ensure_ascii=False))
        written.append((name, f"{service} webhook {post['path'].rsplit('/', 1)[-1]}", title))
    for number, message in enumerate(published, start=len(posts) + 1):
        name = f"chat-{number}-sns.json"
        (OUTPUT / name).write_text(json.dumps(message, indent=2, ensure_ascii=False))
        written.append((name, f"SNS {message['topic_arn'].rsplit(':', 1)[-1]}", message["subject"]))
    previews = render_previews([p["body"] for p in posts], OUTPUT)
    for preview in previews:
        screenshot(preview, preview.with_suffix(".png"))
    return written


def write_viewable_html(message: email.message.EmailMessage, path: Path) -> None:
    """The HTML body with its inline ``cid:`` images written beside it as files, so a browser
    shows what a mail client would."""
    html_part = message.get_body(("html",))
    html = html_part.get_content()
    for part in message.walk():
        content_id = (part["Content-ID"] or "").strip("<>")
        if content_id and part.get_content_maintype() == "image":
            name = f"{path.stem}-{content_id.split('@', 1)[0]}.png"
            (path.parent / name).write_bytes(part.get_content())
            html = html.replace(f"cid:{content_id}", name)
    path.write_text(html)


def screenshot(html: Path, png: Path) -> None:
    """A full-width screenshot of ``html`` with headless Chromium, when it is installed."""
    if not CHROMIUM.exists():
        print(f"  ({CHROMIUM} not found: no {png.name})")
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--window-size=760,3000",
                f"--screenshot={png}",
                html.resolve().as_uri(),
            ],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )
    if png.exists():
        trim_page(png)


def trim_page(png: Path) -> None:
    """Cut the empty page background below the email (the window is taller than the email)."""
    from PIL import Image, ImageChops

    with Image.open(png) as image:
        rgb = image.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((0, rgb.height - 1)))
    box = ImageChops.difference(rgb, background).getbbox()
    if box:
        rgb.crop((0, 0, rgb.width, min(rgb.height, box[3] + 24))).save(png)


_CREATE_VIEW = re.compile(r"CREATE\s+OR\s+REPLACE\s+VIEW", re.IGNORECASE)
_EXPORT_QUERY = re.compile(rf"FROM {sandbox_exports.DATABASE}\.", re.IGNORECASE)


def print_summary(summary: dict) -> None:
    print(f"\nFinOps daily digest for {summary['day']} - done")
    print(f"  Total cost:   {money(summary['total'])} in {summary['rows']} cost lines")
    print(f"  Anomalies:    {len(summary['anomalies'])}")
    for a in summary["anomalies"]:
        print(
            f"    - {a['ou']} / {a['service']}: {money(a['actual'])} vs {money(a['expected'])} expected"
        )
    print("  Archived (S3 URI @ version id):")
    for label, (uri, version) in summary["objects"].items():
        print(f"    {label:<10} {uri} @ {version}")
    requests = summary["cost_explorer_requests"]
    print(f"  Cost source: {summary['cost_source']} (GetCostAndUsage requests: {requests['day']})")
    print(
        f"    GetCostAndUsage requests in all: {requests['all']} (the others: history days "
        "neither archived nor in the export, and the usage types behind a spike)"
    )
    scanned = sum(i["scanned_bytes"] for i in summary["athena"])
    export = [i for i in summary["athena"] if _EXPORT_QUERY.search(i["query"])]
    print(
        f"  Athena bytes scanned: {scanned:,} in {len(summary['athena'])} queries "
        f"(${sum(data_exports.scan_cost(i['scanned_bytes']) for i in summary['athena']):.4f} "
        "at $5/TB, 10 MB billed at least per query)"
        + (
            f"; the data export's queries: {sum(i['scanned_bytes'] for i in export):,}"
            if export
            else ""
        )
    )
    views = [i for i in summary["athena"] if _CREATE_VIEW.search(i["query"])]
    if views:
        print(f"  Athena views created: {len(views)} (include/sql/views)")
    for item in summary["athena"]:
        if item not in views:
            rows = item["rows"][1:]
            more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
            print(f"  Athena {item['query_execution_id']}: {item['state']}, rows {rows[:3]}{more}")
    print("  Emails:")
    for stem, to, subject in summary["emails"]:
        print(f"    {stem}.eml -> {to}: {subject}")
    print("  Chat messages:")
    for name, destination, title in summary["chats"]:
        print(f"    {name} -> {destination}: {title}")
    print(
        f"  Files in {OUTPUT.relative_to(REPO)}/: "
        + ", ".join(sorted(p.name for p in OUTPUT.iterdir()))
    )


if __name__ == "__main__":
    sys.exit(main())
