"""``render-sql``: the shipped Athena DDL and views with a deployment's names filled in, ready to
paste into the Athena console (the DAG creates the tables and views itself; this shows what it
creates)."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from finops_digest.cli.exits import OK, UsageError
from finops_digest.config import COST_METRICS, ConfigError, FinopsConfig, parse_config
from finops_digest.resources import include_dir
from finops_digest.store.catalog import render_sql
from finops_digest.store.views import placeholders

# Tables before the views that read them.
KINDS = ("ddl", "views")
# The views name no bucket; this stands in for it so parse_config can still check the names.
_NO_BUCKET = "no-bucket-needed"


def sql_names() -> dict[str, str]:
    """Every DDL and view under ``include/sql``: its name -> its path there without ``.sql``."""
    root = include_dir() / "sql"
    return {
        p.stem: f"{kind}/{p.stem}" for kind in KINDS for p in sorted((root / kind).glob("*.sql"))
    }


def add_parser(sub: Any) -> None:
    """Register ``render-sql`` on the subcommand parsers."""
    defaults = {f.name: f.default for f in fields(FinopsConfig)}
    try:
        choices = ", ".join(sql_names())
    except FileNotFoundError:
        choices = "(include/sql not found)"
    parser = sub.add_parser(
        "render-sql",
        help="print the Athena DDL and views for a database and table",
        description=(
            "Print the DDL and views of include/sql (all, or the NAMEs given) with the names "
            "filled in, each ending with ';'. Names, --cost-metric and --currency are checked as "
            "finops_config checks them. Exit 0 printed, 2 usage error (an unknown NAME, an invalid "
            "name or currency, no --bucket for a DDL)."
        ),
    )
    parser.add_argument(
        "--database", default=defaults["glue_database"], help="Glue database (%(default)s)"
    )
    parser.add_argument("--table", default=defaults["glue_table"], help="cost table (%(default)s)")
    parser.add_argument(
        "--budget-table", default=defaults["glue_budget_table"], help="budget table (%(default)s)"
    )
    parser.add_argument("--bucket", help="the archive bucket (the DDL's LOCATION; no default)")
    parser.add_argument(
        "--cost-metric",
        default=defaults["cost_metric"],
        choices=COST_METRICS,
        help="finops_config's cost_metric: the FOCUS view's cost column follows it (%(default)s)",
    )
    parser.add_argument(
        "--currency",
        default=defaults["currency"],
        help="finops_config's currency: the FOCUS view's BillingCurrency (%(default)s)",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {choices}")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print each requested file rendered; refuse unknown names and names Athena would not take."""
    known = sql_names()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        raise UsageError(
            f"unknown SQL name(s) {', '.join(unknown)}: choose from {', '.join(known)}"
        )
    try:
        parse_config(
            {
                "archive_bucket": args.bucket or _NO_BUCKET,
                "glue_database": args.database,
                "glue_table": args.table,
                "glue_budget_table": args.budget_table,
                "cost_metric": args.cost_metric,
                "currency": args.currency,
            }
        )
    except ConfigError as exc:
        raise UsageError(f"the options must be valid finops_config values: {exc}") from exc
    values: dict[str, str] = placeholders(
        args.database, args.table, args.budget_table, args.cost_metric, args.currency
    )
    if args.bucket:
        values["bucket"] = args.bucket
    rendered = []
    for name in args.names or known:
        try:
            rendered.append((known[name], render_sql(known[name], **values)))
        except KeyError as missing:
            option = str(missing.args[0]).replace("_", "-")
            raise UsageError(
                f"{name} needs --{option} (it has a {{{missing.args[0]}}} placeholder)"
            ) from None
    for path, sql in rendered:
        print(f"-- {path}.sql\n{sql.rstrip()};\n")
    return OK
