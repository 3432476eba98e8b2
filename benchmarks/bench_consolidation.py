"""Consolidation variants for ``bench.py``, each run alone in a fresh process.

    python benchmarks/bench_consolidation.py generate --rows N --parts-dir DIR
    python benchmarks/bench_consolidation.py run --variant ours|floor|python --parts-dir DIR --out-dir DIR

``generate`` writes one day of staged per-OU parts exactly as ``extract_costs`` writes them
(``cost_rows.to_csv``): 50 OUs (two with names the CSV must quote), up to 150 services per
account, 10-decimal amounts, ~1 % zero rows, ~0.5 % negative rows, ~0.1 % duplicate keys; and
``account_names.json``, the accounts' names as the day's mapping gives them (one in 20 unnamed).

``run`` consolidates them with one variant and prints ``{"seconds": ...}`` (reading the parts
from disk to writing both files; interpreter start and imports excluded):

* ours: ``consolidation.consolidate_parts`` (what the consolidate task runs);
* floor: pyarrow alone: read each part (type inference), concatenate, sort, write CSV and
  Parquet; no merging, no zero dropping, no account names, amounts as float64, pyarrow's own
  quoting;
* python: the csv module and ``Decimal`` (``cost_rows``: from_csv, consolidate, to_csv,
  to_parquet), what the consolidate task ran before.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT_MARK = "BENCH-RESULT"  # prefixes the JSON line bench.py reads (Airflow logs to stdout)
for path in (ROOT, ROOT / "dags"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from finops_digest.ingest import cost_rows  # noqa: E402
from finops_digest.ingest.consolidation import consolidate_parts  # noqa: E402

DAY = date(2025, 9, 14)
METADATA = {"billing-date": DAY.isoformat(), "cost-metric": "NetAmortizedCost"}
OUS = 50
NAMES_FILE = "account_names.json"
SERVICES_PER_ACCOUNT = 60


def generate(rows: int, parts_dir: Path, seed: int = 7) -> list[Path]:
    """One day of ``rows`` cost rows in 50 staged parts (one per OU)."""
    from sandbox.organization import _make_services

    rng = random.Random(seed)
    services = [s.name for s in _make_services(150)]
    names = [f"Division-{n:02d}" for n in range(OUS)]
    names[3], names[7] = 'Research, "Labs"', "Ingeniería/Plataforma"
    parts_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    account = 100_000_000_000
    account_names: dict[str, str] = {}
    for index, ou in enumerate(names):
        part: list[cost_rows.CostRow] = []
        wanted = rows // OUS + (1 if index < rows % OUS else 0)
        while len(part) < wanted:
            account += 1
            account_names[str(account)] = "" if account % 20 == 0 else f"{ou.lower()}-{account}"
            for service in rng.sample(services, min(SERVICES_PER_ACCOUNT, wanted - len(part))):
                draw = rng.random()
                if draw < 0.01:
                    amount = Decimal("0E-10")
                else:
                    amount = Decimal(f"{rng.lognormvariate(1.5, 2.0):.10f}")
                    if draw < 0.015:
                        amount = -amount
                row = cost_rows.CostRow(DAY, ou, service, str(account), amount)
                part.append(row)
                if rng.random() < 0.001:
                    part.append(row)  # the same key again: merged by an exact sum
        path = parts_dir / f"{index:02d}.csv"
        path.write_bytes(cost_rows.to_csv(part[:wanted]))
        paths.append(path)
    (parts_dir / NAMES_FILE).write_text(json.dumps(account_names))
    return paths


def run(variant: str, parts_dir: Path, out_dir: Path) -> float:
    """Consolidate the parts with one variant; the seconds it took."""
    # Imports happen before the clock starts, for every variant alike (a process pays them
    # once). pandas too: pyarrow imports it on its first conversion of Python values.
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    paths = sorted(parts_dir.glob("*.csv"))
    account_names = json.loads((parts_dir / NAMES_FILE).read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    VARIANTS[variant](paths, out_dir, account_names)
    return time.perf_counter() - started


def _ours(paths: list[Path], out_dir: Path, account_names: dict[str, str]) -> None:
    result = consolidate_parts(
        [str(p) for p in paths], _read_file, METADATA, account_names, day=DAY
    )
    (out_dir / "ou_breakdown.csv").write_bytes(result.csv)
    (out_dir / "ou_breakdown.parquet").write_bytes(result.parquet)


def _read_file(path: str) -> bytes:
    return Path(path).read_bytes()


def _floor(paths: list[Path], out_dir: Path, account_names: dict[str, str]) -> None:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    table = pa.concat_tables([pa_csv.read_csv(p) for p in paths]).sort_by(
        [
            ("BillingDate", "ascending"),
            ("OU", "ascending"),
            ("DailyCost", "descending"),
            ("Service", "ascending"),
            ("LinkedAccount", "ascending"),
        ]
    )
    pa_csv.write_csv(table, out_dir / "ou_breakdown.csv")
    pq.write_table(table, out_dir / "ou_breakdown.parquet", compression="snappy")


def _python(paths: list[Path], out_dir: Path, account_names: dict[str, str]) -> None:
    rows = [r for p in paths for r in cost_rows.from_csv(p.read_bytes(), str(p))]
    merged = cost_rows.consolidate(rows)
    (out_dir / "ou_breakdown.csv").write_bytes(cost_rows.to_csv(merged))
    (out_dir / "ou_breakdown.parquet").write_bytes(
        cost_rows.to_parquet(merged, METADATA, account_names)
    )


VARIANTS = {"ours": _ours, "floor": _floor, "python": _python}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--rows", type=int, required=True)
    gen.add_argument("--parts-dir", type=Path, required=True)
    go = sub.add_parser("run")
    go.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    go.add_argument("--parts-dir", type=Path, required=True)
    go.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args.rows, args.parts_dir)
        print(RESULT_MARK, json.dumps({"parts": OUS}), flush=True)
    else:
        seconds = run(args.variant, args.parts_dir, args.out_dir)
        print(RESULT_MARK, json.dumps({"seconds": seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
