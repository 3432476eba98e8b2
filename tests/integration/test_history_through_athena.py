"""The history a day is compared with, read through Athena over the archive.

95 days are archived before the spike day as the pipeline archives them (CSV, Parquet, Glue
partition), one of them without its partition (Athena cannot see it). One DAG run of the spike
day then reads the history: per OU and service through Athena, the unregistered day and the day
before D from their CSV, nothing from Cost Explorer. Checked against sums computed here from the
sandbox's own line items, and the spikes (drivers included) against the detector run on every
archived row in this process: the account detail Athena gives for a spike's series changes no
finding. With Athena unavailable, the same history comes from the archived CSVs.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import boto3
import pytest

from finops_digest.billing_day import days_before
from finops_digest.config import FinopsConfig
from finops_digest.detection.account_history import AccountHistory
from finops_digest.detection.findings import find_anomalies
from finops_digest.ingest.cost_history import HISTORY_WINDOW_DAYS, load_history
from finops_digest.ingest.cost_rows import CostRow, consolidate, from_csv, to_csv, to_parquet
from finops_digest.ingest.history_queries import HistoryQueries
from finops_digest.ingest.ou_identity import ArchivedLabels
from finops_digest.store import catalog, layout
from tests.integration.conftest import returned, run_dag, task_states
from tests.integration.test_dag_run import expected_rows

DAY = date(2025, 9, 14)  # the sandbox's injected spike (Marketing, CloudFront)
UNREGISTERED = DAY - timedelta(days=10)  # archived, but Athena does not see it
# Marketing was called Growth until this day: the archive keeps the old label on those days.
RENAMED_ON, OLD_NAME = DAY - timedelta(days=40), "Growth"


def _rows(organization, day: date) -> list[CostRow]:
    return [CostRow(*row) for row in expected_rows(organization, day)]


@pytest.fixture(scope="module")
def archive(sandbox, airflow_db, finops_config):
    """The history window archived as the pipeline archives it: the organisation's rows of each
    day by day, as the ``consolidate`` task writes them."""
    config = FinopsConfig.from_dict(finops_config)
    s3, glue = boto3.client("s3"), boto3.client("glue")
    location = layout.s3_uri(config.archive_bucket, layout.PARQUET_PREFIX + "/")
    catalog.ensure_table(
        glue,
        config.glue_database,
        catalog.table_input(config.glue_table, location, config.cost_metric),
    )
    organization = sandbox.organization
    then = {
        "ous": [
            {"id": ou.id, "name": OLD_NAME if ou.path == "Marketing" else ou.path}
            for ou in organization.ous
        ],
        "accounts": {},
    }
    rows = {}
    for day in days_before(DAY, HISTORY_WINDOW_DAYS):
        rows[day] = consolidate(_rows(organization, day))  # under today's labels
        archived = rows[day]
        if day < RENAMED_ON:
            archived = consolidate(
                replace(r, ou=OLD_NAME) if r.ou == "Marketing" else r for r in rows[day]
            )
            s3.put_object(
                Bucket=config.archive_bucket,
                Key=layout.archive_key(day, layout.MAPPING_NAME),
                Body=json.dumps(then).encode(),
            )
        s3.put_object(
            Bucket=config.archive_bucket, Key=layout.archive_key(day), Body=to_csv(archived)
        )
        s3.put_object(
            Bucket=config.archive_bucket,
            Key=layout.parquet_key(day),
            Body=to_parquet(archived, config.provenance(day), {}),
        )
        if day != UNREGISTERED:
            catalog.register_partition(glue, config.glue_database, config.glue_table, day)
    return config, rows


@pytest.fixture(scope="module")
def run(sandbox, archive):
    before = sandbox.calls("GetCostAndUsage")
    dag_run = run_dag(DAY)
    assert dag_run.state == "success", task_states(dag_run)
    return dag_run, sandbox.calls("GetCostAndUsage") - before


def _staged(uri: str) -> list[CostRow]:
    bucket, key = layout.parse_s3_uri(uri)
    return from_csv(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read(), uri)


def _sums(rows_by_day: dict[date, list[CostRow]]) -> dict[tuple, Decimal]:
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for rows in rows_by_day.values():
        for r in rows:
            sums[(r.billing_date, r.ou, r.service)] += r.daily_cost
    return sums


def test_the_history_comes_from_athena_without_a_cost_explorer_request(run, archive):
    dag_run, _ = run
    history = returned(dag_run, "load_history")
    stats = history["stats"]
    assert stats["archived_days"] == HISTORY_WINDOW_DAYS
    # Every day but the unregistered one and the day before D (read account by account).
    assert stats["athena_days"] == HISTORY_WINDOW_DAYS - 2
    assert set(history["csv_days"]) == {UNREGISTERED.isoformat()}
    assert stats["cost_explorer_requests"] == 0 and stats["cost_explorer_days"] == 0
    assert history["detail_uri"] is None
    # What the fallback cost the worker: the rows of the one day Athena could not see.
    assert stats["rows_read_in_worker"] == len(archive[1][UNREGISTERED])
    # What Athena bills: the window's Parquet the query read, and a spike's accounts after it.
    assert stats["athena_scanned_bytes"] > 0
    assert returned(dag_run, "detect_anomalies")["athena_scanned_bytes"] > 0


def test_the_staged_history_is_the_sums_per_ou_and_service_and_the_day_before_whole(run, archive):
    dag_run, _ = run
    _, rows = archive
    staged = _staged(returned(dag_run, "load_history")["history_uri"])
    previous = DAY - timedelta(days=1)
    summed = {
        (r.billing_date, r.ou, r.service): r.daily_cost for r in staged if not r.linked_account
    }
    expected = {k: v for k, v in _sums(rows).items() if k[0] != previous}
    assert summed == expected
    assert sorted((r for r in staged if r.billing_date == previous), key=_key) == sorted(
        rows[previous], key=_key
    )
    # The staged file grows with OUs x services, not with the archived rows.
    assert len(staged) < sum(len(day_rows) for day_rows in rows.values()) / 2


def test_the_spikes_and_their_accounts_are_those_of_every_archived_row(run, archive, sandbox):
    dag_run, _ = run
    config, rows = archive
    body = (
        boto3.client("s3")
        .get_object(Bucket=config.archive_bucket, Key=layout.archive_key(DAY, "anomalies.json"))[
            "Body"
        ]
        .read()
    )
    found = json.loads(body)["anomalies"]
    today = _rows(sandbox.organization, DAY)
    everything = find_anomalies(
        DAY,
        today,
        [r for day_rows in rows.values() for r in day_rows],
        config.thresholds(),
        config.currency,
    )
    fields = ("ou", "service", "kind", "expected", "actual", "impact")

    def comparable(anomaly):
        drivers = [{k: d[k] for k in ("account", "impact", "share")} for d in anomaly["drivers"]]
        return {**{k: anomaly[k] for k in fields}, "drivers": drivers}

    assert [comparable(a) for a in found] == [comparable(a) for a in everything]
    spike = next(a for a in found if a["ou"] == "Marketing" and "CloudFront" in a["service"])
    assert spike["drivers"], "the spike names the accounts that explain it"


@pytest.mark.parametrize(
    "key",
    [
        ("All OUs", "All services"),
        ("Engineering", "All services"),
        ("Data", "Amazon Simple Storage Service"),
        ("Marketing", "Amazon CloudFront"),
    ],
)
def test_a_series_accounts_come_day_by_day_as_archived(run, archive, key):
    """What a spike's root cause is judged on, for an organisation, an OU and a service series:
    every account's cost on every day but the day before D (staged whole)."""
    dag_run, _ = run
    config, rows = archive
    history = returned(dag_run, "load_history")
    s3 = boto3.client("s3")
    from finops_digest.aws.clients import athena_hook

    queries = HistoryQueries(athena_hook(), s3, config)
    found = AccountHistory(
        s3_client=s3,
        bucket=config.archive_bucket,
        labels=_labels(dag_run, s3, config),
        queries=queries,
        athena_days=[date.fromisoformat(d) for d in history["athena_days"]],
        csv_days={date.fromisoformat(d): v for d, v in history["csv_days"].items()},
        detail=[],
    )([key])[key]
    ou, service = key
    expected: dict = defaultdict(lambda: defaultdict(Decimal))
    for day, day_rows in rows.items():
        for r in day_rows:
            if day == DAY - timedelta(1) or (ou != "All OUs" and r.ou != ou):
                continue
            if service == "All services" or r.service == service:
                expected[r.linked_account][day] += r.daily_cost
    assert {a: dict(c) for a, c in found.items()} == {a: dict(c) for a, c in expected.items()}
    assert len(found) > 1 and queries.queries, "several accounts, through Athena"


def test_without_athena_the_same_history_comes_from_the_archived_csvs(run, archive, caplog):
    dag_run, _ = run
    config, _ = archive
    staged = _staged(returned(dag_run, "load_history")["history_uri"])
    broken = FinopsConfig.from_dict({**config.to_dict(), "glue_table": "not_set_up_yet"})
    from finops_digest.aws.clients import athena_hook

    s3 = boto3.client("s3")
    with caplog.at_level(logging.WARNING):
        loaded = load_history(
            s3,
            boto3.client("ce"),
            HistoryQueries(athena_hook(), s3, broken),
            bucket=config.archive_bucket,
            days=days_before(DAY, HISTORY_WINDOW_DAYS),
            labels=_labels(dag_run, s3, config),
            metric=config.cost_metric,
            excluded_record_types=config.excluded_record_types,
            currency=config.currency,
        )
    assert loaded.stats["athena_days"] == 0
    assert loaded.stats["archived_days"] == HISTORY_WINDOW_DAYS
    previous = DAY - timedelta(days=1)
    assert loaded.stats["rows_read_in_worker"] == sum(
        len(day_rows) for day, day_rows in archive[1].items() if day != previous
    )
    assert sorted(loaded.rows, key=_key) == sorted(staged, key=_key)
    assert "Athena could not read the history" in caplog.text


def _labels(dag_run, s3, config: FinopsConfig) -> ArchivedLabels:
    """Today's labels for the archived days', as the run read them (its day's mapping)."""
    bucket, key = layout.parse_s3_uri(returned(dag_run, "discover_ous")["mapping_uri"])
    now = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return ArchivedLabels(s3, config.archive_bucket, now)


def _key(row: CostRow) -> tuple:
    return (row.billing_date, row.ou, row.service, row.linked_account)
