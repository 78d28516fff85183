"""The errors of the index that a user can act on; each message says what to do."""
from __future__ import annotations

import sys

REBUILD = "run `ragcomm index --rebuild`"


class IndexError_(Exception):
    """Base for index problems that users can act on; the message says what to do."""


class IndexMissing(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexBusy(IndexError_):
    pass


def _warn(message: str) -> None:
    print(message, file=sys.stderr)
