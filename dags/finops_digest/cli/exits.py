"""Exit codes of ``python -m finops_digest``, so scripts and CI can tell problems from misuse."""

OK = 0
# The command ran and found problems (invalid configuration, a missing permission).
PROBLEMS = 1
# The command could not run as asked (unknown name, unreadable file): argparse's own code.
USAGE = 2


class UsageError(Exception):
    """The command line asked for something that cannot be done; exits with ``USAGE``."""
