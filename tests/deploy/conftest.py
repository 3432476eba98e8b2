"""The integration tests' sandbox fixtures (a fresh sandbox per module, clients on it)."""

from tests.integration.conftest import aws, sandbox  # noqa: F401
