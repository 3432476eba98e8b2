"""``check-config``: validate a ``finops_config`` as the DAG would, and show what it means."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from typing import Any

from finops_digest.cli.config_source import ENV_NAME, read_config
from finops_digest.cli.exits import OK, PROBLEMS
from finops_digest.config import ConfigError, FinopsConfig, parse_config


def add_parser(sub: Any) -> None:
    """Register ``check-config`` on the subcommand parsers."""
    parser = sub.add_parser(
        "check-config",
        help="validate a finops_config and list every problem",
        description=(
            "Validate a finops_config JSON exactly as the DAG does (parse_config) and print every "
            "problem at once; when valid, print the effective settings. Exit 0 valid, 1 invalid, "
            "2 usage error."
        ),
    )
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE|-",
        help=f"the JSON file, or - for stdin (default: ${ENV_NAME}, else the Airflow Variable)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the problems (exit 1) or the effective settings (exit 0)."""
    raw, where = read_config(args.file)
    try:
        config = parse_config(raw)
    except ConfigError as exc:
        print(f"{where}: {exc}")
        if raw is None:
            print(f"Pass a FILE (or - for stdin), or set ${ENV_NAME}.")
        return PROBLEMS
    print(f"{where}: valid finops_config; effective settings:")
    for line in effective_settings(config, given=set(json.loads(raw))):
        print(f"  {line}")
    return OK


def effective_settings(config: FinopsConfig, given: set[str]) -> list[str]:
    """One line per setting, from the dataclass itself (so a new setting shows up here unasked),
    marking those left at their default."""
    values = config.to_dict()
    values["athena_output_location"] = config.results_location
    width = max(len(f.name) for f in fields(FinopsConfig))
    return [
        f"{f.name:<{width}}  {_show(values[f.name])}" + ("" if f.name in given else "  (default)")
        for f in fields(FinopsConfig)
    ]


def _show(value: Any) -> str:
    """Lists of names comma-separated ("none" when empty); other structures as JSON."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value) or "none"
    if isinstance(value, list | dict | bool):
        return json.dumps(value)
    return str(value)
