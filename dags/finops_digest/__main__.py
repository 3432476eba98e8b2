"""``python -m finops_digest``: the command-line checks (see ``finops_digest.cli``)."""

import sys

from finops_digest.cli import main

sys.exit(main())
