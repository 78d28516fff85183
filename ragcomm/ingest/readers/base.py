"""What every reader shares: the error it raises for a file it cannot read."""


class IngestError(Exception):
    """A file that cannot be read; the message says why."""
