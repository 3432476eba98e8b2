"""`python -m sandbox serve --port-file PATH`: run the sandbox until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from sandbox.organization import Organization
from sandbox.server import Sandbox


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the sandbox and serve until SIGTERM/SIGINT")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 = any free port")
    serve.add_argument("--port-file", help="write the port here once provisioned")
    serve.add_argument("--page-size", type=int, default=25, help="Cost Explorer groups per page")
    serve.add_argument("--crawler-run-seconds", type=float, default=0.0)
    serve.add_argument(
        "--size",
        default="8,30,24",
        help="organisation size OUS,ACCOUNTS,SERVICES (e.g. 50,2000,150)",
    )
    args = parser.parse_args(argv)

    ous, accounts, services = (int(x) for x in args.size.split(","))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sandbox = Sandbox.start(
        Organization.synthetic(ous=ous, accounts=accounts, services=services),
        page_size=args.page_size,
        crawler_run_seconds=args.crawler_run_seconds,
        host=args.host,
        port=args.port,
    )
    try:
        if args.port_file:
            # Write then rename, so a reader never sees a half-written file.
            tmp = f"{args.port_file}.tmp"
            with open(tmp, "w") as fh:
                fh.write(str(sandbox.port))
            os.replace(tmp, args.port_file)
        print(f"sandbox serving at {sandbox.endpoint_url}", flush=True)
        stop.wait()
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
