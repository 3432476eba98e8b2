"""``python -m finops_digest``: checks for the people deploying the DAG, before a run fails.

``check-config`` validates a ``finops_config``, ``check-aws`` probes the permissions the DAG needs,
``render-sql`` prints the Athena DDL and views for a deployment's names. Imports stay light here:
AWS and Airflow are imported only by the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import sys

from finops_digest.cli import check_aws, check_config, render_sql
from finops_digest.cli.exits import USAGE, UsageError

PROG = "python -m finops_digest"


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per check, each with its own ``--help``."""
    top = argparse.ArgumentParser(
        prog=PROG,
        description="Checks for deploying finops-digest. Exit codes: 0 ok, 1 problems found, 2 usage error.",
    )
    sub = top.add_subparsers(dest="command", required=True)
    check_config.add_parser(sub)
    check_aws.add_parser(sub)
    render_sql.add_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; its exit code (argparse's own 0 for --help, 2 for misuse)."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else USAGE
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return USAGE
