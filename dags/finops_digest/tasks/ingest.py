"""Ingest: the organisation, each OU's costs, the day's consolidated CSV, and the archive."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from finops_digest.aws import cost_explorer, data_exports
from finops_digest.aws.clients import athena_hook, aws_client
from finops_digest.aws.organizations import account_names, walk_organization
from finops_digest.config import FinopsConfig
from finops_digest.errors import FinopsError
from finops_digest.ingest import former_accounts, prefetch_manifest, restatements
from finops_digest.ingest.consolidation import consolidate_parts
from finops_digest.ingest.cost_rows import CostRow, from_csv, to_csv
from finops_digest.store import archive, layout
from finops_digest.store.ou_tree import tree_parquet
from finops_digest.tasks.contracts import (
    Archived,
    Consolidated,
    Organization,
    OuPart,
    Restated,
    RunPlan,
    billing_day,
    settings,
)
from finops_digest.tasks.fail_fast import fail_fast

log = logging.getLogger(__name__)


class MappingError(FinopsError, KeyError):
    """An OU asked for is not in the account-to-OU mapping it was handed."""


@fail_fast
def discover_ous(plan: RunPlan, last: str | None = None) -> Organization:
    """Walk the organisation, stage the day's account-to-OU mapping, list the OUs to extract.

    Accounts no longer in the organisation that had costs in the days extracted (the day and the
    restated days before it, or up to ``last`` for a prefetch) are kept in the mapping; with
    ``use_prefetched_costs``, those the prefetch found (no Cost Explorer request) if the day has
    one. With ``cost_source: data_exports`` the export is queried here, once for every OU: the
    accounts with costs come from its answer, which each ``extract_costs`` then reads."""
    day, config = billing_day(plan), settings(plan)
    organization = walk_organization(aws_client("organizations"), config.root_ou_name)
    s3 = aws_client("s3")
    manifest = (
        prefetch_manifest.read_manifest(s3, config.archive_bucket, day)
        if plan.get("use_prefetched_costs")
        else None
    )
    exported = None
    if config.cost_source == data_exports.SOURCE_NAME:
        first = day - timedelta(days=config.restatement_days)
        exported = query_export(config, first, date.fromisoformat(last) if last else day)
        seen = data_exports.accounts_with_costs(_result_stream(s3, exported.result_uri))
    elif manifest:
        fetched_with = _read_mapping(s3, config, manifest["mapping_key"])
        seen = account_names(fetched_with)
    else:
        seen = cost_explorer.accounts_with_costs(
            aws_client("ce"),
            start=max(day - timedelta(days=config.restatement_days), cost_explorer.daily_horizon()),
            end=(date.fromisoformat(last) if last else day) + timedelta(days=1),
            metric=config.cost_metric,
            excluded_record_types=config.excluded_record_types,
        )
    former = {a: name for a, name in seen.items() if a not in organization["accounts"]}
    if former:
        former_accounts.attribute_former_accounts(
            s3, config.archive_bucket, day, organization, former
        )
    mapping = {"billing_date": day.isoformat(), **organization}
    uri = archive.put_staging(
        s3,
        config.archive_bucket,
        layout.staging_key(day, layout.MAPPING_NAME),
        json.dumps(mapping, indent=1).encode(),
    )
    empty = [ou["name"] for ou in organization["ous"] if not ou["accounts"]]
    if empty:
        log.info("OUs without accounts (nothing to extract): %s", ", ".join(empty))
    log.info("%d accounts in %d OUs", len(organization["accounts"]), len(organization["ous"]))
    return {
        "mapping_uri": uri,
        "ous": [ou["name"] for ou in organization["ous"] if ou["accounts"]],
        "export_result_uri": exported.result_uri if exported else None,
        "athena_scanned_bytes": exported.scanned_bytes if exported else 0,
    }


def query_export(config: FinopsConfig, first: date, last: date) -> data_exports.QueryResult:
    """The one Athena query of a run over the Data Exports table: every account's cost per day
    and service of ``first``..``last``, read from the days' billing-period partitions only.

    One query for the whole organisation rather than one per OU: Athena bills the bytes a query
    scans ($5 per TB, 10 MB at least a query) and an account filter saves none of them (the
    export's files are not laid out by account), so per OU it would bill the same scan once per
    OU, and add a query's start-up time each."""
    export = data_exports.Export.from_config(config.data_exports)
    sql = data_exports.costs_sql(
        export, config.cost_metric, config.excluded_record_types, first, last
    )
    result = data_exports.run(
        athena_hook(),
        sql,
        database=export.database,
        output_location=config.results_location,
        workgroup=config.athena_workgroup,
    )
    log.info(
        "Data export %s, %s..%s: Athena query %s scanned %d bytes (no GetCostAndUsage request)",
        export.name,
        first,
        last,
        result.query_id,
        result.scanned_bytes,
    )
    return result


@fail_fast
def extract_costs(plan: RunPlan, organization: Organization, ou: str) -> OuPart:
    """One OU's costs for [D, D+1) from Cost Explorer (or, with ``cost_source: data_exports``,
    from the export's answer ``discover_ous`` got), staged in S3 as a CSV part.

    With ``use_prefetched_costs`` (a backfill after ``finops_prefetch_costs``), the day's
    prefetched part is used instead, without a request (and without re-pulling restated days:
    the prefetch is newer than any earlier run); an OU or day not prefetched is fetched as usual.
    """
    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")
    mapping = archive.read_json(s3, organization["mapping_uri"])
    if plan["use_prefetched_costs"]:
        part = _prefetched_part(s3, day, config, mapping, ou)
        if part:
            return {
                "ou": ou,
                "uri": part,
                "restatement_uri": None,
                "rows": 0,
                "requests": 0,
                "estimated_days": [],
            }
    estimated: set[date] = set()
    if organization.get("export_result_uri"):
        # The export's answer for every OU (discover_ous' one query): no request here.
        rows, requests = export_ou_rows(s3, organization["export_result_uri"], mapping, ou), 0
    else:
        # One request covers the day and the days Cost Explorer may have restated since (those
        # it still keeps: a day at its 14-month horizon has no earlier days to restate).
        first = max(day - timedelta(days=config.restatement_days), cost_explorer.daily_horizon())
        rows, requests = fetch_ou_costs(config, mapping, ou, first, day, estimated)
    today = [r for r in rows if r.billing_date == day]
    bucket = config.archive_bucket
    return {
        "ou": ou,
        "uri": archive.put_staging(s3, bucket, layout.part_key(day, ou), to_csv(today)),
        "restatement_uri": archive.put_staging(
            s3,
            bucket,
            layout.restatement_part_key(day, ou),
            to_csv([r for r in rows if r.billing_date != day]),
        ),
        "rows": len(today),
        "requests": requests,
        "estimated_days": sorted(d.isoformat() for d in estimated),
    }


def fetch_ou_costs(
    config: FinopsConfig,
    mapping: dict[str, Any],
    ou: str,
    first: date,
    last: date,
    estimated: set[date] | None = None,
) -> tuple[list[CostRow], int]:
    """One OU's cost rows for the days ``first``..``last``, with the OU's accounts in
    ``mapping``; returns the rows and the number of Cost Explorer requests."""
    accounts = accounts_of(mapping, ou)
    if accounts is None:
        raise MappingError(
            f"OU {ou!r} is not in the account-to-OU mapping of {mapping['billing_date']}"
        )
    return cost_explorer.fetch_cost_rows(
        aws_client("ce"),
        ou=ou,
        account_ids=sorted(accounts),
        start=first,
        end=last + timedelta(days=1),
        metric=config.cost_metric,
        excluded_record_types=config.excluded_record_types,
        currency=config.currency,
        estimated=estimated,
    )


def export_ou_rows(s3: Any, result_uri: str, mapping: dict[str, Any], ou: str) -> list[CostRow]:
    """One OU's rows of the export query's result (its accounts in ``mapping``), amounts as
    Cost Explorer prints them: the parts are those of the Cost Explorer source, byte for byte."""
    accounts = accounts_of(mapping, ou)
    if accounts is None:
        raise MappingError(
            f"OU {ou!r} is not in the account-to-OU mapping of {mapping['billing_date']}"
        )
    table = data_exports.read_result(_result_stream(s3, result_uri), accounts)
    rows = [
        CostRow(date.fromisoformat(day), ou, service, account, data_exports.plain_amount(cost))
        for day, account, service, cost in zip(
            table["billing_date"].to_pylist(),
            table["linked_account"].to_pylist(),
            table["service"].to_pylist(),
            table["cost"].to_pylist(),
            strict=True,
        )
    ]
    log.info("Data export: OU %s: %d rows (no GetCostAndUsage request)", ou, len(rows))
    return rows


def export_history(
    config: FinopsConfig, mapping: dict[str, Any], first: date, last: date
) -> tuple[int, Iterator[CostRow]]:
    """The Data Export's cost rows of ``first``..``last`` (history days not archived yet), each
    account under its OU in ``mapping`` (today's; accounts not in it are left out, as Cost
    Explorer's history per OU leaves them), read batch by batch; and the bytes Athena scanned."""
    exported = query_export(config, first, last)
    ou_of = {account: ou["name"] for ou in mapping["ous"] for account in ou["accounts"]}
    stream = _result_stream(aws_client("s3"), exported.result_uri)
    rows = (
        CostRow(date.fromisoformat(day), ou_of[account], service, account, amount)
        for day, account, service, cost in data_exports.result_rows(stream)
        if account in ou_of and (amount := data_exports.plain_amount(cost)) != 0
    )
    return exported.scanned_bytes, rows


def _result_stream(s3: Any, uri: str) -> Any:
    """The export query's result file as a stream (read once, batch by batch: a large
    organisation's day and restated days are millions of rows)."""
    bucket, key = layout.parse_s3_uri(uri)
    return s3.get_object(Bucket=bucket, Key=key)["Body"]


def accounts_of(mapping: dict[str, Any], ou: str) -> set[str] | None:
    """The OU's accounts in an account-to-OU mapping; None when the OU is not in it."""
    return next((set(o["accounts"]) for o in mapping["ous"] if o["name"] == ou), None)


def _prefetched_part(
    s3: Any, day: date, config: FinopsConfig, mapping: dict[str, Any], ou: str
) -> str | None:
    """The URI of the OU's prefetched part of the day, if it holds exactly the accounts the
    day's mapping gives the OU (an account moved or found since is fetched afresh: never lost,
    never counted twice); None otherwise."""
    manifest = prefetch_manifest.read_manifest(s3, config.archive_bucket, day)
    if manifest is None or ou not in manifest["parts"]:
        log.warning("%s of OU %r was not prefetched: asking Cost Explorer", day, ou)
        return None
    fetched_with = _read_mapping(s3, config, manifest["mapping_key"])
    if accounts_of(fetched_with, ou) != accounts_of(mapping, ou):
        log.warning("OU %r's accounts changed since the prefetch: asking Cost Explorer", ou)
        return None
    return layout.s3_uri(config.archive_bucket, manifest["parts"][ou])


def _read_mapping(s3: Any, config: FinopsConfig, key: str) -> dict[str, Any]:
    return archive.read_json(s3, layout.s3_uri(config.archive_bucket, key))


@fail_fast
def consolidate(plan: RunPlan, parts: list[OuPart], organization: Organization) -> Consolidated:
    """Merge the per-OU parts into the sorted CSV and its Parquet twin (staged for archiving);
    the Parquet also names each account, as the day's mapping (``organization``) does.

    Columnar (``consolidation``), byte for byte what the ``cost_rows`` functions write; the
    parts are fetched one after another and only this day's rows are ever in memory.
    """
    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")
    result = consolidate_parts(
        [part["uri"] for part in parts],
        lambda uri: archive.read_uri(s3, uri),
        config.provenance(day),
        account_names(archive.read_json(s3, organization["mapping_uri"])),
        day=day,
    )
    bucket = config.archive_bucket
    return {
        "csv_uri": archive.put_staging(
            s3, bucket, layout.staging_key(day, layout.CSV_NAME), result.csv
        ),
        "parquet_uri": archive.put_staging(
            s3, bucket, layout.staging_key(day, layout.PARQUET_NAME), result.parquet
        ),
        "rows": result.rows,
        "total": result.total,
        "cost_explorer_requests": sum(p.get("requests", 0) for p in parts),
        # Cost Explorer still revises the day: later runs re-pull it (restatement_days).
        "estimated": any(day.isoformat() in p["estimated_days"] for p in parts),
    }


@fail_fast
def archive_to_s3(
    plan: RunPlan, consolidated: Consolidated, organization: Organization
) -> Archived:
    """Archive CSV, Parquet and mapping as new versions in the versioned bucket, and the day's OU
    tree (the mapping's OUs as table rows); never delete."""
    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")
    bucket = config.archive_bucket
    archive.require_versioning(s3, bucket)
    metadata = {
        **config.provenance(day),
        "rows": str(consolidated["rows"]),
        "total": consolidated["total"],
        "estimated": str(consolidated["estimated"]).lower(),
    }
    mapping_body = archive.read_uri(s3, organization["mapping_uri"])
    uploads = {
        "csv": (
            archive.read_uri(s3, consolidated["csv_uri"]),
            layout.archive_key(day),
            "text/csv; charset=utf-8",
        ),
        "parquet": (
            archive.read_uri(s3, consolidated["parquet_uri"]),
            layout.parquet_key(day),
            archive.PARQUET_TYPE,
        ),
        "mapping": (mapping_body, layout.archive_key(day, layout.MAPPING_NAME), "application/json"),
    }
    archived = {
        name: archive.put_archived(
            s3, bucket, key, body, content_type=content_type, metadata=metadata
        )
        for name, (body, key, content_type) in uploads.items()
    }
    # From the bytes just archived: the mapping is read from S3 once.
    archived["ou_tree"] = archive.put_archived(
        s3,
        bucket,
        layout.ou_tree_key(day),
        tree_parquet(day, json.loads(mapping_body), config.provenance(day)),
        content_type=archive.PARQUET_TYPE,
        metadata=config.provenance(day),
    )
    return archived


@fail_fast
def restate_recent_days(plan: RunPlan, parts: list[OuPart], holder: str) -> Restated:
    """Re-archive the days before D whose Cost Explorer numbers changed since (only those).

    Only with every OU's re-pulled days at hand: prefetched parts come without them (and are newer
    than any earlier run), and part of the OUs would make the other OUs' costs look restated away.
    Each earlier day is rewritten under its own day lock, taken for ``holder`` (this run).
    """
    if any(not part["restatement_uri"] for part in parts):
        log.info("Restatements not checked: this run's costs were prefetched")
        return {"restated": []}
    day, config = billing_day(plan), settings(plan)
    s3 = aws_client("s3")

    def rows_of(earlier: date) -> list[CostRow]:
        # Each part read again per day: one day's rows held at a time, not the whole window's
        # (at 1M rows a day, three days of rows are ~1.5 GB in a worker).
        return [
            row
            for part in parts
            for row in from_csv(
                archive.read_uri(s3, part["restatement_uri"]), part["restatement_uri"]
            )
            if row.billing_date == earlier
        ]

    restated = restatements.restate_days(
        s3,
        config.archive_bucket,
        day,
        config.restatement_days,
        rows_of,
        config.provenance(day),
        holder,
    )
    return {"restated": restated}
