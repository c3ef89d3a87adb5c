"""The one exception ingest raises for unusable input."""


class InputError(Exception):
    """An input file cannot be used; the message names file, line and column."""
