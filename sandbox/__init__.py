"""Local AWS sandbox: moto's server plus the Cost Explorer, Glue crawler, Athena and SES
behaviours the finops-digest pipeline needs, so production code runs unchanged against it."""

from sandbox.config import SANDBOX_DEFAULTS
from sandbox.organization import CostLine, Organization, Spike
from sandbox.server import Sandbox

__all__ = ["SANDBOX_DEFAULTS", "CostLine", "Organization", "Sandbox", "Spike"]
