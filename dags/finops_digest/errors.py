"""Errors that retrying cannot fix: wrong input or configuration. The DAG fails such a task at once."""


class FinopsError(Exception):
    """Base of the pipeline's own errors; each message names what was wrong and what was expected."""
